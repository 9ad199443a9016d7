//! A self-contained HTML page from a Markdown bulletin: the small Markdown subset the
//! bulletins use (headings, paragraphs, bullet lists, pipe tables, bold, code, images) turned
//! into HTML, with every image embedded as a base64 `data:` URI so the one file can be mailed
//! or opened offline.

use std::path::Path;

use base64::Engine;

use crate::error::{Error, Result};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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

/// The page: `markdown` rendered, images (`![alt](file.png)`) read from `dir` and embedded.
pub fn html_page(title: &str, markdown: &str, dir: &Path) -> Result<String> {
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
            let path = dir.join(src);
            let bytes = std::fs::read(&path).map_err(|e| Error::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            body.push_str(&format!(
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"></figure>\n",
                escape(alt)
            ));
        } else if !t.is_empty() {
            body.push_str(&format!("<p>{}</p>\n", inline(t)));
        }
    }
    flush_table(&mut table, &mut body);
    if in_list {
        body.push_str("</ul>\n");
    }
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.25em .6em;text-align:left}}img{{max-width:100%}}code{{background:#f2f2f2}}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_subset_and_embedded_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.png"), b"\x89PNG fake").unwrap();
        let md = "# Title\n\n## Key messages\n\n- **25 %** chance <here>\n- second\n\n| a | b |\n|---|---|\n| 1 | `x` |\n\n![map](m.png)\n\n*caption*\n";
        let html = html_page("T & co", md, dir.path()).unwrap();
        assert!(html.contains("<title>T &amp; co</title>"));
        assert!(html.contains("<h1>Title</h1>") && html.contains("<h2>Key messages</h2>"));
        assert!(html.contains("<li><b>25 %</b> chance &lt;here&gt;</li>"));
        assert!(html.contains("<tr><th>a</th><th>b</th></tr>"));
        assert!(html.contains("<td><code>x</code></td>"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORyBmYWtl\""));
        assert!(html.contains("<p><i>caption</i></p>"));
        assert!(html_page("x", "![gone](nope.png)", dir.path()).is_err());
    }
}
