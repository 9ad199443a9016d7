//! `bulletin.pdf`: the bulletin as an A4 document, the form in which RCOF and national
//! outlooks circulate — the same front (issuer, logo, dates, headlines), body and closing as the
//! page, with the run's maps.
//!
//! Pure Rust: printpdf writes the document; the text is set in DejaVu Sans (embedded, so
//! Cyrillic and the symbols the bulletins use — ≤, −, °, ≥ — print and can be copied out);
//! lines are broken by the glyph widths of the same font (ab_glyph); bold is drawn by filling
//! and stroking the outline (one embedded font instead of two). The Markdown body is read
//! with pulldown-cmark into headings, paragraphs, list items, tables and images; a table wider
//! than the page is set in smaller type (down to [`MIN_TABLE_PT`]) and its cells wrapped;
//! a map is scaled to the text width and moved to the next page when it does not fit.

use ab_glyph::{Font, FontRef};
use printpdf::{
    ColorBits, ColorSpace, Image, ImageTransform, ImageXObject, IndirectFontRef, Line, Mm,
    PdfDocument, PdfDocumentReference, PdfLayerReference, Point, Px, TextRenderingMode,
};

use super::catalogue::Catalogue;
use super::front::Front;
use super::html::Images;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// A4 portrait, millimetres.
const PAGE: (f64, f64) = (210.0, 297.0);
/// Margins, millimetres.
const MARGIN: f64 = 15.0;
/// Body text size, points.
const BODY_PT: f64 = 9.5;
/// The smallest type a wide table is set in, points (about the size of a map's legend when
/// printed).
pub const MIN_TABLE_PT: f64 = 5.5;
/// The tallest a map is printed, millimetres: about half the page, so the text around it
/// stays with it.
const MAX_MAP_HEIGHT_MM: f64 = 150.0;
/// Points per millimetre.
const PT_PER_MM: f64 = 72.0 / 25.4;

/// One piece of text of a line: its words and whether it is bold.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    text: String,
    bold: bool,
}

/// What the Markdown body is made of.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    Heading(u8, Vec<Run>),
    Paragraph(Vec<Run>),
    Item(Vec<Run>),
    /// Header row first.
    Table(Vec<Vec<String>>),
    Image(String),
    Rule,
}

/// The blocks of a Markdown text.
fn blocks(markdown: &str) -> Vec<Block> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut bold = 0usize;
    let mut table: Option<Vec<Vec<String>>> = None;
    let mut cell = String::new();
    let mut image: Option<String> = None;
    let push = |runs: &mut Vec<Run>, text: &str, bold: bool| match runs.last_mut() {
        Some(r) if r.bold == bold => r.text.push_str(text),
        _ => runs.push(Run {
            text: text.to_string(),
            bold,
        }),
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => image = Some(dest_url.to_string()),
            Event::End(TagEnd::Image) => {
                if let Some(src) = image.take() {
                    // an image alone in its paragraph is a figure
                    if runs.iter().all(|r| r.text.trim().is_empty()) {
                        runs.clear();
                    }
                    out.push(Block::Image(src));
                }
            }
            _ if image.is_some() => {} // alt text
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Table(_)) => table = Some(Vec::new()),
            Event::End(TagEnd::Table) => out.extend(table.take().map(Block::Table)),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.push(Vec::new());
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(row) = table.as_mut().and_then(|t| t.last_mut()) {
                    row.push(std::mem::take(&mut cell).trim().to_string());
                }
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                if table.is_some() {
                    cell.push_str(&t);
                } else {
                    push(&mut runs, &t, bold > 0);
                }
            }
            Event::SoftBreak | Event::HardBreak => push(&mut runs, " ", bold > 0),
            Event::End(TagEnd::Heading(level)) => {
                out.push(Block::Heading(level as u8, std::mem::take(&mut runs)))
            }
            Event::End(TagEnd::Paragraph) if !runs.is_empty() => {
                out.push(Block::Paragraph(std::mem::take(&mut runs)))
            }
            Event::End(TagEnd::Item) if !runs.is_empty() => {
                out.push(Block::Item(std::mem::take(&mut runs)))
            }
            Event::Start(Tag::Item) if !runs.is_empty() => {
                // a paragraph before a nested list item
                out.push(Block::Item(std::mem::take(&mut runs)))
            }
            Event::Rule => out.push(Block::Rule),
            _ => {}
        }
    }
    out
}

/// Glyph widths of the embedded font.
struct Metrics {
    font: FontRef<'static>,
}

impl Metrics {
    fn new() -> Result<Metrics> {
        FontRef::try_from_slice(dejavu::sans::regular())
            .map(|font| Metrics { font })
            .map_err(|e| Error::invalid("bulletin PDF", format!("the bundled font: {e}")))
    }

    /// Width of `text` at `size_pt`, millimetres (bold drawn by stroking: 3 % wider).
    fn width_mm(&self, text: &str, size_pt: f64, bold: bool) -> f64 {
        let upem = f64::from(self.font.units_per_em().unwrap_or(2048.0));
        let units: f64 = text
            .chars()
            .map(|c| f64::from(self.font.h_advance_unscaled(self.font.glyph_id(c))))
            .sum();
        units / upem * size_pt / PT_PER_MM * if bold { 1.03 } else { 1.0 }
    }

    /// `runs` broken into lines of at most `width_mm`: each line its runs. A word longer than
    /// the line stands on its own line.
    fn wrap(&self, runs: &[Run], size_pt: f64, width_mm: f64) -> Vec<Vec<Run>> {
        let space = self.width_mm(" ", size_pt, false);
        let mut lines: Vec<Vec<Run>> = vec![Vec::new()];
        let mut x = 0.0;
        for r in runs {
            for (k, word) in r.text.split(' ').enumerate() {
                // a run that starts with a space still separates its first word
                let lead = if k > 0 || r.text.starts_with(' ') {
                    space
                } else {
                    0.0
                };
                if word.is_empty() {
                    continue;
                }
                let w = self.width_mm(word, size_pt, r.bold);
                let line = lines.last_mut().expect("never empty");
                let gap = if line.is_empty() { 0.0 } else { lead };
                if x + gap + w > width_mm && !line.is_empty() {
                    lines.push(vec![Run {
                        text: word.to_string(),
                        bold: r.bold,
                    }]);
                    x = w;
                    continue;
                }
                let text = if gap > 0.0 {
                    format!(" {word}")
                } else {
                    word.to_string()
                };
                match line.last_mut() {
                    Some(last) if last.bold == r.bold => last.text.push_str(&text),
                    _ => line.push(Run { text, bold: r.bold }),
                }
                x += gap + w;
            }
        }
        lines.retain(|l| !l.is_empty());
        lines
    }
}

/// The document being written: the current page and how far down it is filled.
struct Writer {
    doc: PdfDocumentReference,
    font: IndirectFontRef,
    layer: PdfLayerReference,
    metrics: Metrics,
    /// Distance of the next line's top from the page's bottom, millimetres.
    y: f64,
    pages: usize,
    footer: String,
    page_word: Box<dyn Fn(usize) -> String>,
}

impl Writer {
    fn width(&self) -> f64 {
        PAGE.0 - 2.0 * MARGIN
    }

    fn new_page(&mut self) {
        let (page, layer) = self
            .doc
            .add_page(Mm(PAGE.0 as f32), Mm(PAGE.1 as f32), "bulletin");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.pages += 1;
        self.y = PAGE.1 - MARGIN;
        self.draw_footer();
    }

    fn draw_footer(&self) {
        let text = format!("{} — {}", self.footer, (self.page_word)(self.pages));
        self.text_at(&text, 7.0, false, MARGIN, MARGIN * 0.55);
    }

    /// Room for `height` millimetres on this page, else a new page.
    fn need(&mut self, height: f64) {
        if self.y - height < MARGIN + 4.0 {
            self.new_page();
        }
    }

    fn text_at(&self, text: &str, size: f64, bold: bool, x: f64, y: f64) {
        if bold {
            self.layer
                .set_text_rendering_mode(TextRenderingMode::FillStroke);
            self.layer.set_outline_thickness((size * 0.035) as f32);
        }
        self.layer
            .use_text(text, size as f32, Mm(x as f32), Mm(y as f32), &self.font);
        if bold {
            self.layer.set_text_rendering_mode(TextRenderingMode::Fill);
        }
    }

    /// A wrapped block of `runs` at `size`, indented by `indent` mm, with `bullet` before its
    /// first line; `after` mm of space below.
    fn runs(&mut self, runs: &[Run], size: f64, indent: f64, bullet: Option<&str>, after: f64) {
        let line_h = size * 1.35 / PT_PER_MM;
        let lines = self.metrics.wrap(
            runs,
            size,
            self.width() - indent - if bullet.is_some() { 4.0 } else { 0.0 },
        );
        for (k, line) in lines.iter().enumerate() {
            self.need(line_h);
            self.y -= line_h;
            let baseline = self.y + line_h * 0.25;
            let mut x = MARGIN + indent;
            if let Some(b) = bullet {
                if k == 0 {
                    self.text_at(b, size, false, x, baseline);
                }
                x += 4.0;
            }
            for r in line {
                self.text_at(&r.text, size, r.bold, x, baseline);
                x += self.metrics.width_mm(&r.text, size, r.bold);
            }
        }
        self.y -= after;
    }

    fn rule(&mut self, x0: f64, x1: f64, y: f64, thickness: f64) {
        self.layer.set_outline_thickness(thickness as f32);
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(x0 as f32), Mm(y as f32)), false),
                (Point::new(Mm(x1 as f32), Mm(y as f32)), false),
            ],
            is_closed: false,
        });
    }

    fn table(&mut self, rows: &[Vec<String>]) {
        let ncol = rows.iter().map(Vec::len).max().unwrap_or(0);
        if ncol == 0 {
            return;
        }
        let pad = 1.2;
        let natural = |size: f64| -> Vec<f64> {
            (0..ncol)
                .map(|c| {
                    rows.iter()
                        .enumerate()
                        .filter_map(|(k, r)| {
                            r.get(c).map(|t| self.metrics.width_mm(t, size, k == 0))
                        })
                        .fold(0.0, f64::max)
                        + 2.0 * pad
                        + 0.2
                })
                .collect()
        };
        let mut size = BODY_PT - 1.5;
        let total: f64 = natural(size).iter().sum();
        let padding = ncol as f64 * (2.0 * pad + 0.2);
        if total > self.width() {
            // the text scales with the type, the padding does not
            size = (size * (self.width() - padding).max(1.0) / (total - padding).max(1.0))
                .max(MIN_TABLE_PT);
        }
        let mut widths = natural(size);
        let total: f64 = widths.iter().sum();
        if total > self.width() {
            // still too wide: every column its share of the page, cells wrapped
            for w in &mut widths {
                *w *= self.width() / total;
            }
        }
        let line_h = size * 1.3 / PT_PER_MM;
        for (k, row) in rows.iter().enumerate() {
            let cells: Vec<Vec<Vec<Run>>> = (0..ncol)
                .map(|c| {
                    let text = row.get(c).cloned().unwrap_or_default();
                    self.metrics
                        .wrap(&[Run { text, bold: k == 0 }], size, widths[c] - 2.0 * pad)
                })
                .collect();
            let n_lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = n_lines as f64 * line_h + 0.8;
            if self.y - height < MARGIN + 4.0 {
                self.new_page();
            }
            let top = self.y;
            let mut x = MARGIN;
            for (c, lines) in cells.iter().enumerate() {
                for (j, line) in lines.iter().enumerate() {
                    let baseline = top - (j as f64 + 1.0) * line_h + line_h * 0.25;
                    let mut lx = x + pad;
                    for r in line {
                        self.text_at(&r.text, size, r.bold, lx, baseline);
                        lx += self.metrics.width_mm(&r.text, size, r.bold);
                    }
                }
                x += widths[c];
            }
            self.y -= height;
            self.rule(
                MARGIN,
                MARGIN + widths.iter().sum::<f64>(),
                self.y + 0.3,
                if k == 0 { 0.6 } else { 0.2 },
            );
        }
        self.y -= 3.0;
    }

    /// A PNG scaled to at most the text width and `max_height_mm`.
    fn image(&mut self, png_bytes: &[u8], max_height_mm: f64) -> Result<()> {
        let (w, h, rgb) = decode_rgb(png_bytes)?;
        let scale = (self.width() / w as f64).min(max_height_mm / h as f64);
        let (wm, hm) = (w as f64 * scale, h as f64 * scale);
        self.need(hm + 2.0);
        self.y -= hm;
        let xobject = ImageXObject {
            width: Px(w),
            height: Px(h),
            color_space: ColorSpace::Rgb,
            bits_per_component: ColorBits::Bit8,
            interpolate: true,
            image_data: rgb,
            image_filter: None,
            smask: None,
            clipping_bbox: None,
        };
        // dots per inch that make the picture `wm` millimetres wide
        let dpi = w as f64 / (wm / 25.4);
        Image::from(xobject).add_to_layer(
            self.layer.clone(),
            ImageTransform {
                translate_x: Some(Mm((MARGIN + (self.width() - wm) / 2.0) as f32)),
                translate_y: Some(Mm(self.y as f32)),
                dpi: Some(dpi as f32),
                ..Default::default()
            },
        );
        self.y -= 3.0;
        Ok(())
    }
}

/// The pixels of a PNG as 8-bit RGB (alpha composed over white, grey expanded).
fn decode_rgb(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>)> {
    let bad = |e: String| Error::invalid("bulletin PDF", format!("a map PNG: {e}"));
    let mut decoder = png::Decoder::new(bytes);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(e.to_string()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let px = &buf[..info.buffer_size()];
    let over_white =
        |v: u8, a: u8| ((u16::from(v) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
    let rgb: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => px.to_vec(),
        png::ColorType::Rgba => px
            .chunks_exact(4)
            .flat_map(|p| {
                [
                    over_white(p[0], p[3]),
                    over_white(p[1], p[3]),
                    over_white(p[2], p[3]),
                ]
            })
            .collect(),
        png::ColorType::Grayscale => px.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => px
            .chunks_exact(2)
            .flat_map(|p| {
                let g = over_white(p[0], p[1]);
                [g, g, g]
            })
            .collect(),
        other => return Err(bad(format!("colour type {other:?} after expansion"))),
    };
    Ok((w, h, rgb))
}

/// The bulletin as PDF bytes: `front`, the Markdown `body` (without the front), the closing
/// lines; images looked up in `images` from the folder `base` as on the page.
pub fn bulletin_pdf(
    front: &Front,
    cat: &Catalogue,
    body: &str,
    images: &Images,
    base: &str,
) -> Result<Vec<u8>> {
    let (doc, page, layer) = PdfDocument::new(
        &front.title,
        Mm(PAGE.0 as f32),
        Mm(PAGE.1 as f32),
        "bulletin",
    );
    // the document's dates are the run's stamp (SOURCE_DATE_EPOCH when set): the same run
    // writes the same bytes
    let stamp =
        printpdf::OffsetDateTime::from_unix_timestamp(crate::outputs::stamp_time().timestamp())
            .map_err(|e| Error::invalid("bulletin PDF", format!("the run's date: {e}")))?;
    let doc = doc
        .with_creation_date(stamp)
        .with_mod_date(stamp)
        .with_metadata_date(stamp);
    let font = doc
        .add_external_font(dejavu::sans::regular())
        .map_err(|e| Error::invalid("bulletin PDF", format!("the bundled font: {e}")))?;
    let layer = doc.get_page(page).get_layer(layer);
    let page_cat = cat.clone();
    let mut w = Writer {
        doc,
        font,
        layer,
        metrics: Metrics::new()?,
        y: PAGE.1 - MARGIN,
        pages: 1,
        footer: format!(
            "{} — {} {}",
            front.title,
            cat.text("page.issued", &[]),
            cat.date(front.issued)
        ),
        page_word: Box::new(move |n| page_cat.text("page.page", &[("n", &n.to_string())])),
    };
    w.draw_footer();
    let plain = |text: &str, bold: bool| {
        vec![Run {
            text: text.to_string(),
            bold,
        }]
    };
    // ---- front ----
    if let Some(logo) = &front.logo_png {
        w.image(logo, 18.0)?;
    }
    if let Some(i) = &front.institution {
        w.runs(
            &plain(&format!("{}: {i}", cat.text("page.issuer", &[])), false),
            9.0,
            0.0,
            None,
            1.0,
        );
    }
    w.runs(&plain(&front.title, true), 17.0, 0.0, None, 1.0);
    if !front.subtitle.is_empty() {
        w.runs(&plain(&front.subtitle, false), 12.0, 0.0, None, 2.0);
    }
    for (label, value) in front.dates(cat) {
        w.runs(
            &[
                Run {
                    text: format!("{label}: "),
                    bold: true,
                },
                Run {
                    text: value,
                    bold: false,
                },
            ],
            BODY_PT,
            0.0,
            None,
            0.5,
        );
    }
    w.y -= 2.0;
    let y = w.y;
    w.rule(MARGIN, PAGE.0 - MARGIN, y, 0.8);
    w.y -= 2.0;
    w.runs(
        &plain(&cat.text("page.headlines", &[]), true),
        12.5,
        0.0,
        None,
        1.5,
    );
    for h in &front.headlines {
        w.runs(&plain(&h.text, false), BODY_PT + 0.5, 0.0, Some("•"), 1.0);
    }
    w.y -= 3.0;
    // ---- body ----
    for block in blocks(body) {
        match block {
            Block::Heading(level, runs) => {
                let size = match level {
                    1 => 15.0,
                    2 => 12.5,
                    _ => 11.0,
                };
                // keep a heading with a few lines of what follows it
                w.need(size / PT_PER_MM * 1.4 + 20.0);
                w.y -= 2.0;
                let runs: Vec<Run> = runs.into_iter().map(|r| Run { bold: true, ..r }).collect();
                w.runs(&runs, size, 0.0, None, 1.5);
            }
            Block::Paragraph(runs) => w.runs(&runs, BODY_PT, 0.0, None, 2.0),
            Block::Item(runs) => w.runs(&runs, BODY_PT, 0.0, Some("•"), 1.0),
            Block::Table(rows) => w.table(&rows),
            Block::Image(src) => match images.lookup(base, &src) {
                Some(bytes) => w.image(bytes, MAX_MAP_HEIGHT_MM)?,
                None => w.runs(&plain(&format!("[{src}]"), false), BODY_PT, 0.0, None, 2.0),
            },
            Block::Rule => {
                w.need(4.0);
                let y = w.y - 2.0;
                w.rule(MARGIN, PAGE.0 - MARGIN, y, 0.4);
                w.y -= 4.0;
            }
        }
    }
    // ---- closing ----
    w.y -= 2.0;
    let y = w.y;
    w.rule(MARGIN, PAGE.0 - MARGIN, y, 0.4);
    w.y -= 2.0;
    let small = BODY_PT - 1.0;
    if let Some(c) = &front.contact {
        w.runs(
            &plain(&format!("{}: {c}", cat.text("page.contact", &[])), false),
            small,
            0.0,
            None,
            1.0,
        );
    }
    if !front.credits.is_empty() {
        w.runs(
            &plain(&cat.text("page.credits", &[]), true),
            small,
            0.0,
            None,
            0.5,
        );
        for (what, credit) in &front.credits {
            w.runs(
                &plain(&format!("{what}: {credit}"), false),
                small,
                0.0,
                Some("•"),
                0.5,
            );
        }
    }
    w.runs(
        &[
            Run {
                text: format!("{}: ", cat.text("page.disclaimer", &[])),
                bold: true,
            },
            Run {
                text: front.disclaimer.clone(),
                bold: false,
            },
        ],
        small,
        0.0,
        None,
        1.0,
    );
    w.runs(
        &plain(&front.produced_line(cat), false),
        small,
        0.0,
        None,
        0.0,
    );
    let raw = w
        .doc
        .save_to_bytes()
        .map_err(|e| Error::invalid("bulletin PDF", format!("writing the document: {e}")))?;
    compress_streams(&raw)
}

/// PDF's `/Predictor` for PNG prediction with the "Up" filter on every row (ISO 32000-1
/// §7.4.4.4).
const PNG_UP_PREDICTOR: i64 = 12;

/// The width of an 8-bit RGB image XObject whose `len` bytes are its raw pixels, else `None`.
fn rgb_image_width(dict: &lopdf::Dictionary, len: usize) -> Option<usize> {
    let int = |key: &[u8]| dict.get(key).ok()?.as_i64().ok();
    let name = |key: &[u8]| dict.get(key).ok()?.as_name_str().ok();
    let (w, h) = (int(b"Width")?, int(b"Height")?);
    let rgb8 = name(b"Subtype") == Some("Image")
        && name(b"ColorSpace") == Some("DeviceRGB")
        && int(b"BitsPerComponent") == Some(8);
    let (w, h) = (usize::try_from(w).ok()?, usize::try_from(h).ok()?);
    (rgb8 && w > 0 && w.checked_mul(h)?.checked_mul(3)? == len).then_some(w)
}

/// Rows of `row` bytes under PNG's "Up" filter: each row prefixed with the filter type 2, each
/// byte the difference (mod 256) from the byte above it (the first row from zeros).
fn png_up_rows(pixels: &[u8], row: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() + pixels.len() / row.max(1));
    let mut above: &[u8] = &[];
    for line in pixels.chunks(row.max(1)) {
        out.push(2);
        if above.is_empty() {
            out.extend_from_slice(line);
        } else {
            out.extend(line.iter().zip(above).map(|(&x, &a)| x.wrapping_sub(a)));
        }
        above = line;
    }
    out
}

/// The PDF `raw` (printpdf's, streams uncompressed) with unused objects dropped and every
/// stream without a filter deflated (`/FlateDecode`, zlib's default level; pictures after
/// PNG prediction) where that makes it smaller. printpdf would deflate the pictures at zlib's
/// slowest level without prediction: half of a bulletin's time, for a file 6 % smaller.
fn compress_streams(raw: &[u8]) -> Result<Vec<u8>> {
    use flate2::{write::ZlibEncoder, Compression};
    use sha2::Digest;
    use std::io::Write;
    let bad = |e: String| Error::invalid("bulletin PDF", format!("compressing the document: {e}"));
    let mut doc = lopdf::Document::load_mem(raw).map_err(|e| bad(e.to_string()))?;
    doc.prune_objects();
    doc.delete_zero_length_streams();
    canonical_layout(&mut doc);
    // The streams are independent: deflated in parallel.
    let streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|o| match o {
            lopdf::Object::Stream(s) if s.dict.get(b"Filter").is_err() => Some(s),
            _ => None,
        })
        .collect();
    streams
        .into_par_iter()
        .try_for_each(|stream| -> std::io::Result<()> {
            // RGB pictures go through PNG's "Up" predictor first (each byte minus the one
            // above it: the rows of a map repeat, so most become 0).
            let columns = rgb_image_width(&stream.dict, stream.content.len());
            let predicted = columns.map(|w| png_up_rows(&stream.content, 3 * w));
            let input = predicted.as_deref().unwrap_or(&stream.content);
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(input)?;
            let packed = encoder.finish()?;
            if packed.len() < stream.content.len() {
                stream.dict.set("Filter", "FlateDecode");
                if let Some(w) = columns {
                    stream.dict.set(
                        "DecodeParms",
                        lopdf::Dictionary::from_iter([
                            ("Predictor", lopdf::Object::Integer(PNG_UP_PREDICTOR)),
                            ("Colors", lopdf::Object::Integer(3)),
                            ("BitsPerComponent", lopdf::Object::Integer(8)),
                            ("Columns", lopdf::Object::Integer(w as i64)),
                        ]),
                    );
                }
                stream.set_content(packed);
            }
            Ok(())
        })
        .map_err(|e| bad(e.to_string()))?;
    // The file identifier from the content (printpdf draws it from a per-process random
    // sequence): the document saved without it, hashed, and saved again with it — the same
    // document has the same identifier, as qpdf's --deterministic-id gives.
    doc.trailer.remove(b"ID");
    let mut out = Vec::with_capacity(raw.len() / 4);
    doc.save_to(&mut out).map_err(|e| bad(e.to_string()))?;
    let digest: String = sha2::Sha256::digest(&out)
        .iter()
        .take(16)
        .map(|b| format!("{b:02X}"))
        .collect();
    let id = lopdf::Object::String(digest.into_bytes(), lopdf::StringFormat::Literal);
    doc.trailer
        .set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    out.clear();
    doc.save_to(&mut out).map_err(|e| bad(e.to_string()))?;
    Ok(out)
}

/// Puts the document's objects in an order that does not depend on the process: printpdf
/// keeps a page's pictures in a `HashMap` (randomly seeded per process), so their object
/// numbers and the order of the `/XObject` entries changed from run to run and two runs of
/// the same outlook wrote different PDF bytes. Every dictionary's entries are sorted by key
/// (a PDF dictionary is unordered) and the objects are renumbered 1, 2, … in the order a
/// depth-first walk from the trailer first reaches them.
fn canonical_layout(doc: &mut lopdf::Document) {
    use lopdf::{Dictionary, Object, ObjectId};
    use std::collections::{BTreeMap, HashMap};

    fn sort_keys(d: &mut Dictionary) {
        let mut entries: Vec<(Vec<u8>, Object)> =
            std::mem::take(d.as_hashmap_mut()).into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in entries.iter_mut() {
            sort_object(v);
            d.set(std::mem::take(k), std::mem::replace(v, Object::Null));
        }
    }
    fn sort_object(o: &mut Object) {
        match o {
            Object::Dictionary(d) => sort_keys(d),
            Object::Array(a) => a.iter_mut().for_each(sort_object),
            Object::Stream(s) => sort_keys(&mut s.dict),
            _ => {}
        }
    }
    // the references of an object, in its (sorted) order
    fn references(o: &Object, out: &mut Vec<ObjectId>) {
        match o {
            Object::Reference(id) => out.push(*id),
            Object::Dictionary(d) => d.iter().for_each(|(_, v)| references(v, out)),
            Object::Array(a) => a.iter().for_each(|v| references(v, out)),
            Object::Stream(s) => s.dict.iter().for_each(|(_, v)| references(v, out)),
            _ => {}
        }
    }
    fn renumber(o: &mut Object, new: &HashMap<ObjectId, ObjectId>) {
        match o {
            Object::Reference(id) => {
                if let Some(n) = new.get(id) {
                    *id = *n;
                }
            }
            Object::Dictionary(d) => d.iter_mut().for_each(|(_, v)| renumber(v, new)),
            Object::Array(a) => a.iter_mut().for_each(|v| renumber(v, new)),
            Object::Stream(s) => s.dict.iter_mut().for_each(|(_, v)| renumber(v, new)),
            _ => {}
        }
    }

    sort_keys(&mut doc.trailer);
    doc.objects.values_mut().for_each(sort_object);
    // depth-first from the trailer, children in order (an explicit stack: no recursion limit)
    let mut order: Vec<ObjectId> = Vec::with_capacity(doc.objects.len());
    let mut seen = std::collections::HashSet::new();
    let mut stack = Vec::new();
    doc.trailer
        .iter()
        .for_each(|(_, v)| references(v, &mut stack));
    stack.reverse();
    while let Some(id) = stack.pop() {
        if !doc.objects.contains_key(&id) || !seen.insert(id) {
            continue;
        }
        order.push(id);
        let mut children = Vec::new();
        references(&doc.objects[&id], &mut children);
        stack.extend(children.into_iter().rev());
    }
    // what the walk did not reach (nothing, after pruning) keeps its relative order after it
    let rest: Vec<ObjectId> = doc
        .objects
        .keys()
        .filter(|id| !seen.contains(*id))
        .copied()
        .collect();
    order.extend(rest);
    let new: HashMap<ObjectId, ObjectId> = order
        .iter()
        .enumerate()
        .map(|(k, id)| (*id, (k as u32 + 1, 0)))
        .collect();
    let old = std::mem::take(&mut doc.objects);
    let mut objects = BTreeMap::new();
    for (id, mut o) in old {
        renumber(&mut o, &new);
        objects.insert(new[&id], o);
    }
    doc.objects = objects;
    doc.trailer.iter_mut().for_each(|(_, v)| renumber(v, &new));
    doc.max_id = order.len() as u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_blocks() {
        let b = blocks("## Head\n\nSome **bold** text.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![m](map.png)\n\n---\n");
        assert_eq!(
            b[0],
            Block::Heading(
                2,
                vec![Run {
                    text: "Head".into(),
                    bold: false
                }]
            )
        );
        assert_eq!(
            b[1],
            Block::Paragraph(vec![
                Run {
                    text: "Some ".into(),
                    bold: false
                },
                Run {
                    text: "bold".into(),
                    bold: true
                },
                Run {
                    text: " text.".into(),
                    bold: false
                },
            ])
        );
        assert!(matches!(&b[2], Block::Item(r) if r[0].text == "one"));
        assert_eq!(
            b[4],
            Block::Table(vec![
                vec!["a".into(), "b".into()],
                vec!["1".into(), "2".into()]
            ])
        );
        assert_eq!(b[5], Block::Image("map.png".into()));
        assert_eq!(b[6], Block::Rule);
    }

    #[test]
    fn up_prediction_by_hand() {
        // Rows [1 2 3] and [4 6 8]: the first as it is, the second minus the first.
        assert_eq!(
            png_up_rows(&[1, 2, 3, 4, 6, 8], 3),
            [2, 1, 2, 3, 2, 3, 4, 5]
        );
        // Differences wrap: 0 − 255 = 1 (mod 256).
        assert_eq!(png_up_rows(&[255, 0], 1), [2, 255, 2, 1]);
    }

    #[test]
    fn compressed_pictures_decode_to_their_pixels() {
        use std::io::Read;
        // An 11 × 7 picture with flat areas and a gradient.
        let (w, h) = (11usize, 7usize);
        let pixels: Vec<u8> = (0..w * h * 3)
            .map(|k| {
                if (k / 3) % w < 5 {
                    200
                } else {
                    (k * 37 % 256) as u8
                }
            })
            .collect();
        let (doc, page, layer) = PdfDocument::new("t", Mm(100.0), Mm(100.0), "l");
        let picture = ImageXObject {
            width: Px(w),
            height: Px(h),
            color_space: ColorSpace::Rgb,
            bits_per_component: ColorBits::Bit8,
            interpolate: false,
            image_data: pixels.clone(),
            image_filter: None,
            smask: None,
            clipping_bbox: None,
        };
        Image::from(picture).add_to_layer(doc.get_page(page).get_layer(layer), Default::default());
        let raw = doc.save_to_bytes().unwrap();
        let packed = compress_streams(&raw).unwrap();
        let doc = lopdf::Document::load_mem(&packed).unwrap();
        let image = doc
            .objects
            .values()
            .find_map(|o| match o {
                lopdf::Object::Stream(s)
                    if s.dict.get(b"Subtype").and_then(|v| v.as_name_str()).ok()
                        == Some("Image") =>
                {
                    Some(s)
                }
                _ => None,
            })
            .expect("the picture is in the PDF");
        assert_eq!(
            image.dict.get(b"Filter").unwrap().as_name_str().unwrap(),
            "FlateDecode"
        );
        let parms = image.dict.get(b"DecodeParms").unwrap().as_dict().unwrap();
        assert_eq!(parms.get(b"Predictor").unwrap().as_i64().unwrap(), 12);
        assert_eq!(parms.get(b"Columns").unwrap().as_i64().unwrap(), w as i64);
        // Inflate, then undo the Up filter row by row.
        let mut rows = Vec::new();
        flate2::read::ZlibDecoder::new(&image.content[..])
            .read_to_end(&mut rows)
            .unwrap();
        assert_eq!(rows.len(), h * (1 + 3 * w));
        let mut decoded: Vec<u8> = Vec::new();
        for (y, row) in rows.chunks(1 + 3 * w).enumerate() {
            assert_eq!(row[0], 2);
            for (x, &d) in row[1..].iter().enumerate() {
                let above = if y == 0 {
                    0
                } else {
                    decoded[(y - 1) * 3 * w + x]
                };
                decoded.push(d.wrapping_add(above));
            }
        }
        assert_eq!(decoded, pixels);
        assert!(packed.len() < raw.len());
    }

    /// A page with six pictures; printpdf numbers them through a randomly seeded `HashMap`.
    /// Its dates are fixed, as `bulletin_pdf` fixes them to the run's stamp (printpdf's own
    /// are the clock's, which may tick between two builds).
    fn six_pictures() -> Vec<u8> {
        let (doc, page, layer) = PdfDocument::new("t", Mm(100.0), Mm(100.0), "l");
        let date = printpdf::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let doc = doc
            .with_creation_date(date)
            .with_mod_date(date)
            .with_metadata_date(date);
        for k in 0..6u8 {
            let picture = ImageXObject {
                width: Px(4),
                height: Px(3),
                color_space: ColorSpace::Rgb,
                bits_per_component: ColorBits::Bit8,
                interpolate: false,
                image_data: vec![40 * k; 4 * 3 * 3],
                image_filter: None,
                smask: None,
                clipping_bbox: None,
            };
            Image::from(picture)
                .add_to_layer(doc.get_page(page).get_layer(layer), Default::default());
        }
        compress_streams(&doc.save_to_bytes().unwrap()).unwrap()
    }

    #[test]
    fn the_same_document_is_the_same_bytes() {
        // Each build gets new HashMap seeds: without the canonical layout the picture objects
        // came out in another order (seen: two in three outlook runs differed).
        let first = six_pictures();
        for _ in 0..8 {
            assert!(six_pictures() == first, "the PDF bytes depend on the run");
        }
        // and it is still a PDF with its six pictures
        let doc = lopdf::Document::load_mem(&first).unwrap();
        let pictures = doc
            .objects
            .values()
            .filter(|o| {
                matches!(o, lopdf::Object::Stream(s)
                    if s.dict.get(b"Subtype").and_then(|v| v.as_name_str()).ok() == Some("Image"))
            })
            .count();
        assert_eq!(pictures, 6);
    }

    #[test]
    fn lines_break_within_the_width() {
        let m = Metrics::new().unwrap();
        let text = "the quick brown fox jumps over the lazy dog ".repeat(6);
        let lines = m.wrap(
            &[Run {
                text: text.clone(),
                bold: false,
            }],
            10.0,
            60.0,
        );
        assert!(lines.len() > 3);
        for l in &lines {
            let w: f64 = l.iter().map(|r| m.width_mm(&r.text, 10.0, r.bold)).sum();
            assert!(w <= 60.0 + 1e-9, "{w}");
        }
        let joined: String = lines
            .iter()
            .map(|l| l.iter().map(|r| r.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined, text.trim_end());
        // DejaVu Sans: "M" is 1767 of 2048 units: 10 pt → 8.63 pt = 3.04 mm
        assert!((m.width_mm("M", 10.0, false) - 1767.0 / 2048.0 * 10.0 / PT_PER_MM).abs() < 1e-9);
    }
}
