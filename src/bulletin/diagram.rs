//! Verification diagrams as one PNG per region and lead: reliability diagrams and ROC curves of
//! the outer categories (below and above normal for terciles) and the rank histogram, one line
//! per forecast system (the multi-model ensemble in black), with titles, axis labels and
//! legends in DejaVu Sans (plotters' pure-Rust text, the font bundled by the `dejavu` crate).
//!
//! How to read them (Wilks 2011, §8.4): on the reliability diagram points on the diagonal are
//! reliable, points flatter than the diagonal mean over-confident forecasts, the dashed line
//! is the category's climatological frequency (no resolution); a ROC curve above the diagonal
//! discriminates events from non-events, its area is 0.5 for no skill and 1 for perfect; a flat
//! rank histogram (relative frequency × (m + 1) = 1) means the observations are
//! indistinguishable from a member, a U shape an under-dispersive ensemble, a slope a bias.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};
use crate::verify::RegionalDiagnostics;

/// One forecast system on the diagrams.
#[derive(Debug, Clone, Copy)]
pub struct DiagramSystem<'a> {
    /// Its name in the legend (`MME` is drawn in black and thicker).
    pub name: &'a str,
    /// Its pooled diagnostics for the region and lead.
    pub diagnostics: &'a RegionalDiagnostics,
}

/// A category shown on the diagrams.
#[derive(Debug, Clone, Copy)]
pub struct DiagramCategory<'a> {
    /// Index of the category.
    pub index: usize,
    /// Its name, e.g. "below normal".
    pub label: &'a str,
    /// Its climatological probability (1/3 for a tercile).
    pub climatology: f64,
}

/// Registers the bundled DejaVu Sans as plotters' "sans-serif" once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "diagram",
            "the bundled font could not be loaded",
        ))
    }
}

/// Okabe–Ito colours (colour-blind safe) for the single models.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

fn colour(k: usize, name: &str) -> RGBColor {
    if name == "MME" {
        RGBColor(0, 0, 0)
    } else {
        PALETTE[k % PALETTE.len()]
    }
}

fn width(name: &str) -> u32 {
    if name == "MME" {
        3
    } else {
        2
    }
}

/// Draws the diagrams of `systems` for `categories` (two are shown: reliability and ROC per
/// category) into the PNG `out`, `title` on top.
pub fn render_verification_diagrams(
    out: &Path,
    title: &str,
    systems: &[DiagramSystem],
    categories: &[DiagramCategory],
) -> Result<()> {
    ensure_font()?;
    crate::outputs::staging::write_through_temporary(out, |tmp| {
        draw_all(tmp, title, systems, categories)
            .map_err(|e| Error::invalid("diagram", format!("{}: {e}", out.display())))
    })
    .map(|_| ())
}

/// One event on the extremes' verification diagrams ([`render_event_diagrams`]).
#[derive(Debug, Clone, Copy)]
pub struct EventCurves<'a> {
    /// Its name in the legend ("heat wave").
    pub label: &'a str,
    /// Its reliability-diagram bins.
    pub reliability: &'a [crate::verify::ReliabilityBin],
    /// Its ROC curve.
    pub roc: &'a crate::verify::RocCurve,
    /// Its observed frequency over the cases (the no-resolution line).
    pub base_rate: f64,
}

/// Draws the reliability diagram and the ROC curves of `events` side by side into the PNG
/// `out`, `title` on top, one colour per event, words from `cat`. On the reliability diagram
/// each point's area grows with its bin's share of the forecasts (the sharpness) and a dashed
/// line in the event's colour marks its observed frequency.
pub fn render_event_diagrams(
    out: &Path,
    title: &str,
    events: &[EventCurves],
    cat: &super::Catalogue,
) -> Result<()> {
    ensure_font()?;
    crate::outputs::staging::write_through_temporary(out, |tmp| {
        draw_events(tmp, title, events, cat)
            .map_err(|e| Error::invalid("diagram", format!("{}: {e}", out.display())))
    })
    .map(|_| ())
}

fn draw_events(
    out: &Path,
    title: &str,
    events: &[EventCurves],
    cat: &super::Catalogue,
) -> DrawResult {
    let root = BitMapBackend::new(out, (1200, 600)).into_drawing_area();
    let body = titled(&root, title, 20)?;
    let (left, right) = body.split_horizontally(600);
    let mut chart = panel(
        &left,
        &cat.text("diagram.reliability", &[]),
        &cat.text("diagram.forecast_probability", &[]),
        &cat.text("diagram.observed_frequency", &[]),
        1.0,
    )?;
    reference(&mut chart, (0.0, 0.0), (1.0, 1.0), false)?;
    for (k, e) in events.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        if e.base_rate.is_finite() {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, e.base_rate), (1.0, e.base_rate)],
                6,
                4,
                c.mix(0.6).into(),
            ))?;
        }
        let total: usize = e.reliability.iter().map(|b| b.count).sum();
        let used: Vec<&crate::verify::ReliabilityBin> = e
            .reliability
            .iter()
            .filter(|b| b.count > 0 && b.forecast_mean.is_finite())
            .collect();
        system_line(
            &mut chart,
            used.iter().map(|b| (b.forecast_mean, b.observed_frequency)),
            k,
            e.label,
            e.label.to_string(),
        )?;
        chart.draw_series(used.iter().map(|b| {
            let share = b.count as f64 / total.max(1) as f64;
            Circle::new(
                (b.forecast_mean, b.observed_frequency),
                2 + (10.0 * share.sqrt()).round() as i32,
                c.filled(),
            )
        }))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    let mut chart = panel(
        &right,
        &cat.text("diagram.roc", &[]),
        &cat.text("diagram.false_alarm_rate", &[]),
        &cat.text("diagram.hit_rate", &[]),
        1.0,
    )?;
    reference(&mut chart, (0.0, 0.0), (1.0, 1.0), false)?;
    for (k, e) in events.iter().enumerate() {
        let label = cat.text(
            "diagram.roc_label",
            &[("event", e.label), ("area", &cat.number(e.roc.area, 2))],
        );
        let pts = e
            .roc
            .points
            .iter()
            .map(|p| (p.false_alarm_rate, p.hit_rate));
        system_line(&mut chart, pts, k, e.label, label)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present()?;
    Ok(())
}

fn draw_all(
    out: &Path,
    title: &str,
    systems: &[DiagramSystem],
    categories: &[DiagramCategory],
) -> DrawResult {
    let root = BitMapBackend::new(out, (1350, 900)).into_drawing_area();
    let body = titled(&root, title, 24)?;
    let panels = body.split_evenly((2, 3));
    for (k, cat) in categories.iter().take(2).enumerate() {
        reliability_panel(&panels[k], systems, cat)?;
        roc_panel(&panels[3 + k], systems, cat)?;
    }
    rank_panel(&panels[2], systems)?;
    notes_panel(&panels[5], systems)?;
    root.present()?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// `root` filled white with `title` in a 50 px band on top (bold, `size` points); the area
/// below the band.
fn titled<'a>(
    root: &Area<'a>,
    title: &str,
    size: u32,
) -> std::result::Result<Area<'a>, Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let (head, body) = root.split_vertically(50);
    head.draw(&Text::new(
        title.to_string(),
        (20, 12),
        ("sans-serif", size).into_font().style(FontStyle::Bold),
    ))?;
    Ok(body)
}
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel with a caption, axes from 0 to 1 (x) and 0 to `y_top`, axis titles, a light grid.
fn panel<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    y_top: f64,
) -> std::result::Result<Chart<'a, 'b>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..1f64, 0f64..y_top)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(WHITE)
        .draw()?;
    Ok(chart)
}

/// A straight grey reference line, dashed or not.
fn reference(chart: &mut Chart, from: (f64, f64), to: (f64, f64), dashed: bool) -> DrawResult {
    let grey: ShapeStyle = BLACK.mix(0.4).into();
    if dashed {
        chart.draw_series(DashedLineSeries::new([from, to], 6, 4, grey))?;
    } else {
        chart.draw_series(LineSeries::new([from, to], grey))?;
    }
    Ok(())
}

/// System `k`'s line with its legend entry.
fn system_line(
    chart: &mut Chart,
    points: impl IntoIterator<Item = (f64, f64)>,
    k: usize,
    name: &str,
    label: String,
) -> DrawResult {
    let style = colour(k, name).stroke_width(width(name));
    chart
        .draw_series(LineSeries::new(points, style))?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    Ok(())
}

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn reliability_panel(area: &Area, systems: &[DiagramSystem], cat: &DiagramCategory) -> DrawResult {
    let mut chart = panel(
        area,
        &format!("Reliability — {}", cat.label),
        "forecast probability",
        "observed frequency",
        1.0,
    )?;
    reference(&mut chart, (0.0, 0.0), (1.0, 1.0), false)?;
    reference(
        &mut chart,
        (0.0, cat.climatology),
        (1.0, cat.climatology),
        true,
    )?;
    for (k, s) in systems.iter().enumerate() {
        let Some(bins) = s.diagnostics.reliability.get(cat.index) else {
            continue;
        };
        let pts: Vec<(f64, f64)> = bins
            .iter()
            .filter(|b| b.count > 0 && b.forecast_mean.is_finite())
            .map(|b| (b.forecast_mean, b.observed_frequency))
            .collect();
        system_line(
            &mut chart,
            pts.iter().copied(),
            k,
            s.name,
            s.name.to_string(),
        )?;
        let c = colour(k, s.name);
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn roc_panel(area: &Area, systems: &[DiagramSystem], cat: &DiagramCategory) -> DrawResult {
    let mut chart = panel(
        area,
        &format!("ROC — {}", cat.label),
        "false-alarm rate",
        "hit rate",
        1.0,
    )?;
    reference(&mut chart, (0.0, 0.0), (1.0, 1.0), false)?;
    for (k, s) in systems.iter().enumerate() {
        let Some(curve) = s.diagnostics.roc.get(cat.index) else {
            continue;
        };
        let pts = curve
            .points
            .iter()
            .map(|p| (p.false_alarm_rate, p.hit_rate));
        let label = format!("{} (area {:.2})", s.name, curve.area);
        system_line(&mut chart, pts, k, s.name, label)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

fn rank_panel(area: &Area, systems: &[DiagramSystem]) -> DrawResult {
    let normalised: Vec<Vec<(f64, f64)>> = systems
        .iter()
        .map(|s| {
            let h = &s.diagnostics.rank_histogram;
            let total: u64 = h.iter().sum();
            if total == 0 {
                return Vec::new();
            }
            let bins = h.len() as f64;
            h.iter()
                .enumerate()
                .flat_map(|(r, &c)| {
                    let v = c as f64 / total as f64 * bins;
                    [(r as f64 / bins, v), ((r + 1) as f64 / bins, v)]
                })
                .collect()
        })
        .collect();
    let top = normalised
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(2.0f64, f64::max)
        .min(10.0);
    let mut chart = panel(
        area,
        "Rank histogram",
        "rank of the observation / (members + 1)",
        "relative frequency × (members + 1)",
        top * 1.05,
    )?;
    reference(&mut chart, (0.0, 1.0), (1.0, 1.0), true)?;
    for (k, (s, pts)) in systems.iter().zip(&normalised).enumerate() {
        if !pts.is_empty() {
            system_line(
                &mut chart,
                pts.iter().copied(),
                k,
                s.name,
                s.name.to_string(),
            )?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperMiddle)
}

fn notes_panel(area: &Area, systems: &[DiagramSystem]) -> DrawResult {
    let font = ("sans-serif", 16).into_font();
    let mut y = 20;
    area.draw(&Text::new(
        "Area means [bootstrap interval]".to_string(),
        (20, y),
        ("sans-serif", 18).into_font().style(FontStyle::Bold),
    ))?;
    y += 34;
    for (k, s) in systems.iter().enumerate() {
        let d = s.diagnostics;
        let range = |i: &crate::verify::Interval| {
            if i.lower.is_finite() {
                format!(" [{:.2}, {:.2}]", i.lower, i.upper)
            } else {
                String::new()
            }
        };
        let pattern: Vec<f64> = d
            .pattern_acc
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let mean_pattern = if pattern.is_empty() {
            f64::NAN
        } else {
            pattern.iter().sum::<f64>() / pattern.len() as f64
        };
        area.draw(&Text::new(
            s.name.to_string(),
            (20, y),
            font.clone().color(&colour(k, s.name)),
        ))?;
        y += 22;
        area.draw(&Text::new(
            format!(
                "   RPSS{} · ACC{} · pattern ACC {:.2}",
                range(&d.rpss_interval),
                range(&d.acc_interval),
                mean_pattern
            ),
            (20, y),
            ("sans-serif", 14).into_font(),
        ))?;
        y += 26;
    }
    area.draw(&Text::new(
        format!(
            "{} cells; diagrams pool cells × years, cos(latitude)-weighted",
            systems.first().map_or(0, |s| s.diagnostics.cells)
        ),
        (20, y + 6),
        ("sans-serif", 14).into_font().color(&BLACK.mix(0.6)),
    ))?;
    Ok(())
}
