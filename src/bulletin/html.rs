//! A self-contained HTML page from a Markdown bulletin: the Markdown (CommonMark with pipe
//! tables) rendered by pulldown-cmark, the page around it from a minijinja template (viewport
//! meta, responsive and print CSS, the issuer, dates and headlines), every image embedded as a
//! base64 `data:` URI so the one file can be mailed or opened offline.
//!
//! Safety: the renderer never opens a file named in the text. Images come from an [`Images`]
//! set — the PNGs the run drew, passed as bytes and keyed by their path relative to the output
//! folder — and a reference is only looked up in it (after resolving `..` lexically, never above
//! the folder); anything else is shown as its escaped text. Every text and attribute context is
//! escaped (`& < > " '`).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;

use crate::error::{Error, Result};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The PNG images a page may embed, keyed by their path relative to the output folder
/// (`map.png`, `south_asia/map.png`), with `/` as separator.
#[derive(Debug, Default, Clone)]
pub struct Images {
    by_path: BTreeMap<String, Vec<u8>>,
}

/// How many folders deep below the output folder a page's images may be: a region's
/// (`south_asia/`) or a section's products of one variable (`extremes/tasmax/`).
const IMAGE_FOLDER_DEPTH: usize = 2;

/// The eight bytes every PNG file starts with.
pub(crate) const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

impl Images {
    /// Adds the PNG `bytes` under `path` (relative to the output folder).
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.by_path.insert(path.into(), bytes);
    }

    /// The PNG files in `root`, its subfolders and theirs (the run's maps and diagrams: a
    /// region's in `south_asia/`, an extremes table's in `extremes/tasmax/`), by their
    /// relative paths. Only files that are PNGs by their signature are taken; links are not
    /// followed.
    pub fn drawn_under(root: &Path) -> Result<Images> {
        let mut set = Images::default();
        let rerr = |p: &Path, e: std::io::Error| Error::Open {
            path: p.to_path_buf(),
            reason: e.to_string(),
        };
        let mut folders = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, prefix)) = folders.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| rerr(&dir, e))? {
                let entry = entry.map_err(|e| rerr(&dir, e))?;
                let kind = entry.file_type().map_err(|e| rerr(&entry.path(), e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                if name.starts_with('.') {
                    continue; // temporaries and staging folders
                }
                // two levels of folders below the output folder are descended into
                if kind.is_dir() && prefix.matches('/').count() < IMAGE_FOLDER_DEPTH {
                    folders.push((entry.path(), format!("{prefix}{name}/")));
                } else if kind.is_file() && name.ends_with(".png") {
                    let bytes = std::fs::read(entry.path()).map_err(|e| rerr(&entry.path(), e))?;
                    if bytes.starts_with(&PNG_SIGNATURE) {
                        set.insert(format!("{prefix}{name}"), bytes);
                    }
                }
            }
        }
        Ok(set)
    }

    /// The image a page in folder `base` (relative, `""` for the output folder) refers to as
    /// `src`: `..` resolved lexically; absolute paths, URLs and paths above the output folder
    /// have none.
    pub(crate) fn lookup(&self, base: &str, src: &str) -> Option<&[u8]> {
        if src.starts_with('/') || src.contains(':') || src.contains('\\') {
            return None;
        }
        let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
        for p in src.split('/') {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                _ => parts.push(p),
            }
        }
        self.by_path.get(&parts.join("/")).map(Vec::as_slice)
    }
}

/// The template of every page (`templates/page.html`): all its words come from the message
/// catalogue or the bulletin; minijinja escapes every value put into it.
const PAGE_TEMPLATE: &str = include_str!("templates/page.html");

/// The page's style sheet: responsive (tables scroll, maps may be scrolled at phone width) and
/// print (A4, no scrolling, figures and tables not split).
const PAGE_CSS: &str = include_str!("templates/page.css");

/// Whether a link target may stay a link on the page: web and mail addresses only.
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["https://", "http://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// `markdown` (CommonMark with pipe tables) as HTML, through pulldown-cmark: raw HTML in the
/// text is shown as text, links other than web and mail addresses as their text, tables
/// wrapped in a scrolling block, and an image `![alt](file.png)` embedded from `images` as
/// resolved from the page's folder `base` (shown as its text when the run drew no such image).
pub fn markdown_html(markdown: &str, images: &Images, base: &str) -> String {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
    let mut events: Vec<Event> = Vec::new();
    // inside an image: its target and the alt text gathered so far
    let mut image: Option<(String, String)> = None;
    let mut links: Vec<bool> = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        if let Some((src, alt)) = image.as_mut() {
            match event {
                Event::End(TagEnd::Image) => {
                    let html = match images.lookup(base, src) {
                        Some(bytes) => format!(
                            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"></figure>",
                            escape(alt),
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        ),
                        None => escape(&format!("![{alt}]({src})")),
                    };
                    events.push(Event::Html(CowStr::from(html)));
                    image = None;
                }
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                image = Some((dest_url.to_string(), String::new()));
            }
            Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
            Event::Start(Tag::Link { dest_url, .. }) if !safe_link(&dest_url) => {
                links.push(false);
            }
            Event::Start(link @ Tag::Link { .. }) => {
                links.push(true);
                events.push(Event::Start(link));
            }
            Event::End(TagEnd::Link) => {
                if links.pop() == Some(true) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(table @ Tag::Table(_)) => {
                events.push(Event::Html(CowStr::from("<div class=\"table-wrap\">")));
                events.push(Event::Start(table));
            }
            Event::End(TagEnd::Table) => {
                events.push(Event::End(TagEnd::Table));
                events.push(Event::Html(CowStr::from("</div>")));
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// A page with only a title and a Markdown body (the emergency forecast): `markdown`
/// rendered by [`markdown_html`].
pub fn html_page(title: &str, markdown: &str, images: &Images, base: &str) -> String {
    let cat = super::catalogue::Catalogue::english().expect("the English catalogue is compiled in");
    render_page(&cat, None, title, &markdown_html(markdown, images, base))
}

/// The page of a bulletin: the front (issuer, logo, dates, headlines), the Markdown `body`
/// (without the front) rendered by [`markdown_html`], and the closing footer (contact,
/// credits, disclaimer, when it was produced).
pub fn bulletin_page(
    front: &super::front::Front,
    cat: &super::catalogue::Catalogue,
    body: &str,
    images: &Images,
    base: &str,
) -> String {
    render_page(
        cat,
        Some(front),
        &front.title,
        &markdown_html(body, images, base),
    )
}

fn render_page(
    cat: &super::catalogue::Catalogue,
    front: Option<&super::front::Front>,
    title: &str,
    body_html: &str,
) -> String {
    use minijinja::{context, Environment, Value};
    let mut env = Environment::new();
    // the `.html` name turns automatic HTML escaping on for every value
    env.add_template("page.html", PAGE_TEMPLATE)
        .expect("the page template parses (a unit test renders it)");
    let labels: BTreeMap<&str, String> =
        ["issuer", "headlines", "contact", "credits", "disclaimer"]
            .into_iter()
            .map(|k| (k, cat.text(&format!("page.{k}"), &[])))
            .collect();
    let b64 = |b: &Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
    let ctx = match front {
        Some(f) => context! {
            lang => cat.language(),
            title => title,
            css => Value::from_safe_string(PAGE_CSS.to_string()),
            body => Value::from_safe_string(body_html.to_string()),
            labels => labels,
            subtitle => f.subtitle,
            institution => f.institution,
            logo => f.logo_png.as_ref().map(b64),
            dates => f.dates(cat),
            headlines => f.headlines.iter().map(|h| h.text.clone()).collect::<Vec<_>>(),
            footer => true,
            contact => f.contact,
            credits => f.credits,
            disclaimer => f.disclaimer,
            produced => f.produced_line(cat),
        },
        None => context! {
            lang => cat.language(),
            title => title,
            css => Value::from_safe_string(PAGE_CSS.to_string()),
            body => Value::from_safe_string(body_html.to_string()),
            labels => labels,
        },
    };
    env.get_template("page.html")
        .and_then(|t| t.render(ctx))
        .expect("the page template renders with these values (a unit test renders it)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_subset_and_embedded_images() {
        let mut images = Images::default();
        images.insert("m.png", b"\x89PNG fake".to_vec());
        let md = "# Title\n\n## Key messages\n\n- **25 %** chance <here>\n- second\n\n| a | b |\n|---|---|\n| 1 | `x` |\n\n![map](m.png)\n\n*caption*\n";
        let html = html_page("T & co", md, &images, "");
        assert!(html.contains("<title>T &amp; co</title>"), "{html}");
        assert!(html.contains("<h1>Title</h1>") && html.contains("<h2>Key messages</h2>"));
        assert!(
            html.contains("<li><strong>25 %</strong> chance &lt;here&gt;</li>"),
            "{html}"
        );
        assert!(html.contains("<div class=\"table-wrap\"><table>"), "{html}");
        assert!(html.contains("<th>a</th>") && html.contains("<td><code>x</code></td>"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORyBmYWtl\""));
        assert!(html.contains("<p><em>caption</em></p>"));
        let html = html_page("x", "![gone](nope.png)", &images, "");
        assert!(html.contains("<p>![gone](nope.png)</p>"), "{html}");
    }

    /// A bulletin whose names carry HTML, quotes and Markdown stars: everything reads as
    /// written, nothing runs, nothing turns italic.
    #[test]
    fn hostile_names_are_escaped_everywhere() {
        use crate::bulletin::{front::markdown_text, Catalogue, Front, Headline};
        let cat = Catalogue::new("en").unwrap();
        let evil = "<script>alert(\"x\")</script> *Met* 'Office'";
        let front = Front {
            title: evil.into(),
            subtitle: evil.into(),
            institution: Some(evil.into()),
            logo_png: None,
            contact: Some(evil.into()),
            disclaimer: evil.into(),
            credits: vec![(evil.into(), evil.into())],
            language: "en".into(),
            issued: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            initialised: evil.into(),
            valid: vec![(evil.into(), evil.into())],
            next_update: chrono::NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
            produced: "2026-12-05 10:00 UTC".into(),
            headlines: vec![Headline {
                text: evil.into(),
                kind: "tercile",
                strength: 1.0,
            }],
        };
        let body = format!(
            "| model |\n|---|\n| {} |\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n",
            markdown_text(evil)
        );
        let html = bulletin_page(&front, &cat, &body, &Images::default(), "");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<em>Met</em>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("*Met*"), "{html}");
        // the page's frame: viewport, responsive tables, print styles, language
        assert!(html
            .contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
        assert!(html.contains(".table-wrap{overflow-x:auto"));
        assert!(html.contains("@media (max-width:40em)") && html.contains("@media print"));
        assert!(html.contains("<html lang=\"en\">"));
        assert!(
            html.contains("Issued</dt><dd>5 December 2026</dd>"),
            "{html}"
        );
    }

    /// Every word of the page's frame comes from the catalogue: outside its `{{ }}` and
    /// `{% %}` blocks, tags and style sheet, the template holds no letters.
    #[test]
    fn the_template_has_no_words_of_its_own() {
        let mut t = PAGE_TEMPLATE.to_string();
        for (open, close) in [("{{", "}}"), ("{%", "%}"), ("<", ">")] {
            while let Some(a) = t.find(open) {
                let b = t[a..].find(close).map(|b| a + b + close.len()).unwrap();
                t.replace_range(a..b, " ");
            }
        }
        assert!(
            !t.chars().any(char::is_alphabetic),
            "words outside the catalogue: {t:?}"
        );
        // and a Russian page is Russian in its frame
        let cat = crate::bulletin::Catalogue::new("ru").unwrap();
        let front = crate::bulletin::Front {
            title: "Бюллетень".into(),
            subtitle: String::new(),
            institution: Some("ЦАРЦ".into()),
            logo_png: None,
            contact: None,
            disclaimer: cat.text("page.default_disclaimer", &[]),
            credits: vec![],
            language: "ru".into(),
            issued: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            initialised: "2026-12-01".into(),
            valid: vec![],
            next_update: chrono::NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
            produced: "2026-12-05 10:00 UTC".into(),
            headlines: vec![],
        };
        let html = bulletin_page(&front, &cat, "", &Images::default(), "");
        assert!(html.contains("<html lang=\"ru\">"));
        assert!(
            html.contains("Дата выпуска</dt><dd>5 декабря 2026 г.</dd>"),
            "{html}"
        );
        assert!(html.contains("Выпущен: ЦАРЦ"), "{html}");
    }

    #[test]
    fn never_reads_files_named_in_the_text_and_escapes_attributes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("south_asia")).unwrap();
        let png = [&PNG_SIGNATURE[..], b"body"].concat();
        std::fs::write(dir.path().join("map.png"), &png).unwrap();
        std::fs::write(dir.path().join("south_asia/r.png"), &png).unwrap();
        // a section's products of one variable two folders down; nothing deeper
        std::fs::create_dir_all(dir.path().join("extremes/pr/deeper")).unwrap();
        std::fs::write(dir.path().join("extremes/pr/d.png"), &png).unwrap();
        std::fs::write(dir.path().join("extremes/pr/deeper/x.png"), &png).unwrap();
        std::fs::write(dir.path().join("fake.png"), b"not a png").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
        let images = Images::drawn_under(dir.path()).unwrap();
        let keys: Vec<&String> = images.by_path.keys().collect();
        assert_eq!(keys, ["extremes/pr/d.png", "map.png", "south_asia/r.png"]);
        // a region page reaches the shared map one folder up, nothing above the output folder
        let html = html_page("t", "![a](../map.png)\n![b](r.png)", &images, "south_asia");
        assert_eq!(html.matches("data:image/png").count(), 2, "{html}");
        for hostile in [
            "![x](/etc/hostname)",
            "![x](../../etc/hostname)",
            "![x](../secret.txt)",
            "![x](secret.txt)",
            "![x](file:///etc/hostname)",
        ] {
            let html = html_page("t", hostile, &images, "south_asia");
            assert!(!html.contains("data:image"), "{hostile}: {html}");
        }
        let html = html_page("t", "![x\" onload=\"alert(1)](map.png)", &images, "");
        assert!(
            html.contains("alt=\"x&quot; onload=&quot;alert(1)\""),
            "{html}"
        );
    }
}
