//! A self-contained HTML page from a Markdown bulletin: the small Markdown subset the
//! bulletins use (headings, paragraphs, bullet lists, pipe tables, bold, code, images) turned
//! into HTML, with every image embedded as a base64 `data:` URI so the one file can be mailed
//! or opened offline.
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

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

impl Images {
    /// Adds the PNG `bytes` under `path` (relative to the output folder).
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.by_path.insert(path.into(), bytes);
    }

    /// The PNG files in `root` and its direct subfolders (the run's maps and diagrams), by
    /// their relative paths. Only files that are PNGs by their signature are taken; links are
    /// not followed.
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
                // only the output folder (empty prefix) is descended into
                if kind.is_dir() && prefix.is_empty() {
                    folders.push((entry.path(), format!("{name}/")));
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
    fn lookup(&self, base: &str, src: &str) -> Option<&[u8]> {
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

/// Inline markup: `**bold**`, `` `code` ``, `*italic*` (after escaping).
fn inline(s: &str) -> String {
    let mut out = escape(s);
    for (mark, open, close) in [
        ("**", "<b>", "</b>"),
        ("`", "<code>", "</code>"),
        ("*", "<i>", "</i>"),
    ] {
        let mut res = String::new();
        let mut parts = out.split(mark).peekable();
        let mut on = false;
        let mut first = true;
        while let Some(p) = parts.next() {
            if !first {
                // an unmatched last marker stays as it was
                if parts.peek().is_none() && !on {
                    res.push_str(mark);
                } else {
                    res.push_str(if on { close } else { open });
                    on = !on;
                }
            }
            res.push_str(p);
            first = false;
        }
        out = res;
    }
    out
}

/// The page: `markdown` rendered; an image line `![alt](file.png)` embeds the image of that
/// path in `images`, resolved from the page's folder `base` (relative to the output folder,
/// `""` for the output folder itself); a reference with no image is shown as text.
pub fn html_page(title: &str, markdown: &str, images: &Images, base: &str) -> String {
    let mut body = String::new();
    let mut in_list = false;
    let mut table: Vec<Vec<String>> = Vec::new();
    let flush_table = |table: &mut Vec<Vec<String>>, body: &mut String| {
        if table.is_empty() {
            return;
        }
        body.push_str("<table>\n");
        for (k, row) in table.iter().enumerate() {
            let tag = if k == 0 { "th" } else { "td" };
            body.push_str("<tr>");
            for c in row {
                body.push_str(&format!("<{tag}>{}</{tag}>", inline(c)));
            }
            body.push_str("</tr>\n");
        }
        body.push_str("</table>\n");
        table.clear();
    };
    for line in markdown.lines() {
        let t = line.trim();
        if !t.starts_with('|') {
            flush_table(&mut table, &mut body);
        }
        if !t.starts_with("- ") && in_list {
            body.push_str("</ul>\n");
            in_list = false;
        }
        if let Some(h) = t.strip_prefix("### ") {
            body.push_str(&format!("<h3>{}</h3>\n", inline(h)));
        } else if let Some(h) = t.strip_prefix("## ") {
            body.push_str(&format!("<h2>{}</h2>\n", inline(h)));
        } else if let Some(h) = t.strip_prefix("# ") {
            body.push_str(&format!("<h1>{}</h1>\n", inline(h)));
        } else if let Some(item) = t.strip_prefix("- ") {
            if !in_list {
                body.push_str("<ul>\n");
                in_list = true;
            }
            body.push_str(&format!("<li>{}</li>\n", inline(item)));
        } else if t.starts_with('|') {
            let cells: Vec<String> = t
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            if !cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                table.push(cells);
            }
        } else if let Some(rest) = t.strip_prefix("![") {
            let (alt, src) = rest
                .split_once("](")
                .map(|(a, b)| (a, b.trim_end_matches(')')))
                .unwrap_or(("", ""));
            match images.lookup(base, src) {
                Some(bytes) => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                    body.push_str(&format!(
                        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"></figure>\n",
                        escape(alt)
                    ));
                }
                None => body.push_str(&format!("<p>{}</p>\n", escape(t))),
            }
        } else if !t.is_empty() {
            body.push_str(&format!("<p>{}</p>\n", inline(t)));
        }
    }
    flush_table(&mut table, &mut body);
    if in_list {
        body.push_str("</ul>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.25em .6em;text-align:left}}img{{max-width:100%}}code{{background:#f2f2f2}}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
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
        assert!(html.contains("<title>T &amp; co</title>"));
        assert!(html.contains("<h1>Title</h1>") && html.contains("<h2>Key messages</h2>"));
        assert!(html.contains("<li><b>25 %</b> chance &lt;here&gt;</li>"));
        assert!(html.contains("<tr><th>a</th><th>b</th></tr>"));
        assert!(html.contains("<td><code>x</code></td>"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORyBmYWtl\""));
        assert!(html.contains("<p><i>caption</i></p>"));
        let html = html_page("x", "![gone](nope.png)", &images, "");
        assert!(html.contains("<p>![gone](nope.png)</p>"), "{html}");
    }

    #[test]
    fn never_reads_files_named_in_the_text_and_escapes_attributes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("south_asia")).unwrap();
        let png = [&PNG_SIGNATURE[..], b"body"].concat();
        std::fs::write(dir.path().join("map.png"), &png).unwrap();
        std::fs::write(dir.path().join("south_asia/r.png"), &png).unwrap();
        std::fs::write(dir.path().join("fake.png"), b"not a png").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
        let images = Images::drawn_under(dir.path()).unwrap();
        let keys: Vec<&String> = images.by_path.keys().collect();
        assert_eq!(keys, ["map.png", "south_asia/r.png"]);
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
