//! The regional mean behind a forecast: its observed and hindcast history, the forecast
//! members, the probability-of-exceedance (POE) curve of the forecast against the climatology
//! (CPT's and IRI's standard graphic) and the plume of the hindcast years with the forecast.
//!
//! # What is computed
//! For a region with cells `i` and cos(latitude) weights `wᵢ`, the regional mean of a field
//! is `Σ wᵢ xᵢ / Σ wᵢ` over its cells with a value.
//! - **Observed**: the regional mean of each hindcast year's observations.
//! - **Hindcast MME**: the regional mean of each year's cross-validated MME mean, and the
//!   forecast's, both moved onto the observed climate by the MME's regional bias over the
//!   hindcast years (as the members are, below).
//! - **Forecast members**: each member's regional mean, moved onto the observed climate by the
//!   model's own regional bias over the hindcast years — multiplied by `ō / h̄ₘ` for
//!   precipitation (so it stays ≥ 0), shifted by `ō − h̄ₘ` otherwise (`ō`, `h̄ₘ`: the observed and
//!   model `m`'s ensemble-mean regional means over the years both have) — and weighted
//!   `1 / (M nₘ)` (models equal, members equal within a model), as the MME weighs them.
//! - **POE**: `P(X > x)` of the observed years (equal weights) and of the members (their
//!   weights), with Hazen plotting positions: the `k`-th smallest of weights `w` has
//!   `POE = 1 − (Σ_{j<k} w_j + w_k / 2) / Σ w` (`1 − (k − ½)/n` for equal weights).
//! - **Terciles of the regional mean**: type-7 quantiles 1/3 and 2/3 of the observed years,
//!   and the members' weighted shares below, between and above them.
//!
//! The regional distribution comes from the members, not from the per-cell calibrated
//! distributions (which cannot be added up without their spatial correlation): with models
//! given as ensemble means only, the forecast has one "member" per model and the POE curve
//! has as many steps.

use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use super::RegionCells;
use crate::error::{Error, Result};

/// The regional mean of a `(y, x)` row-major field `values` over `cells` (NaN where no cell
/// has a value).
pub fn regional_mean(values: &[f32], cells: &RegionCells) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for &(k, w) in &cells.cells {
        if let Some(&v) = values.get(k) {
            if v.is_finite() {
                sum += w * f64::from(v);
                weight += w;
            }
        }
    }
    if weight > 0.0 {
        sum / weight
    } else {
        f64::NAN
    }
}

/// One model's part of the forecast of a region: the regional means of its hindcast
/// ensemble mean per year and of each forecast member.
#[derive(Debug, Clone)]
pub struct ModelRegional {
    /// Per hindcast year (the years of [`RegionalSeries::years`]).
    pub hindcast_mean: Vec<f64>,
    /// Per forecast member.
    pub forecast_members: Vec<f64>,
}

/// The regional mean of one region, variable and lead.
#[derive(Debug, Clone, Serialize)]
pub struct RegionalSeries {
    /// Region name.
    pub region: String,
    /// Lead label.
    pub lead: String,
    /// Target period.
    pub target: String,
    /// Year of the target period's start (where the forecast stands on the plume).
    pub target_year: i32,
    /// Units of the values.
    pub units: String,
    /// Hindcast years.
    pub years: Vec<i32>,
    /// Observed regional mean per year.
    pub observed: Vec<f64>,
    /// Cross-validated MME hindcast regional mean per year, on the observed climate.
    pub hindcast_mme: Vec<f64>,
    /// The forecast members' regional means on the observed climate, with their weights.
    pub members: Vec<(f64, f64)>,
    /// The MME forecast's regional mean, on the observed climate.
    pub forecast_mean: f64,
    /// Observed regional terciles (1/3, 2/3).
    pub terciles: [f64; 2],
    /// The members' weighted shares below, between and above the terciles.
    pub member_tercile_shares: [f64; 3],
}

/// Type-7 quantile `q` of `sorted` (ascending, finite).
fn quantile7(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The mean of the pairs' first values where both are finite, and of their second values.
fn paired_means(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .collect();
    let n = pairs.len() as f64;
    (n > 0.0).then(|| {
        (
            pairs.iter().map(|p| p.0).sum::<f64>() / n,
            pairs.iter().map(|p| p.1).sum::<f64>() / n,
        )
    })
}

/// `v` moved onto the observed climate by a regional bias `(observed mean, model mean)`:
/// scaled by their ratio when `multiplicative` (and the model's mean is positive), shifted by
/// their difference otherwise; unchanged without a bias.
fn onto_observed(v: f64, bias: Option<(f64, f64)>, multiplicative: bool) -> f64 {
    match bias {
        Some((obs, model)) if multiplicative && model > 0.0 => v * obs / model,
        Some((obs, model)) if !multiplicative => v - model + obs,
        _ => v,
    }
}

/// What a [`RegionalSeries`] is made from.
#[derive(Debug, Clone, Copy)]
pub struct RegionalInputs<'a> {
    /// Region, lead, target period, the target's year, units.
    pub labels: (&'a str, &'a str, &'a str, i32, &'a str),
    /// Hindcast years.
    pub years: &'a [i32],
    /// Observed regional mean per year.
    pub observed: &'a [f64],
    /// Cross-validated MME hindcast regional mean per year.
    pub hindcast_mme: &'a [f64],
    /// Every model's regional means.
    pub models: &'a [ModelRegional],
    /// The MME forecast's regional mean.
    pub forecast_mean: f64,
    /// Precipitation (bias removed by a ratio) or not (by a difference).
    pub multiplicative: bool,
}

/// The series of one region, lead and variable (see the module's formulas).
pub fn regional_series(inp: &RegionalInputs) -> RegionalSeries {
    let (region, lead, target, target_year, units) = inp.labels;
    let n_models = inp
        .models
        .iter()
        .filter(|m| !m.forecast_members.is_empty())
        .count();
    let mut members = Vec::new();
    for m in inp.models {
        let n = m.forecast_members.iter().filter(|v| v.is_finite()).count();
        if n == 0 {
            continue;
        }
        let weight = 1.0 / (n_models as f64 * n as f64);
        let bias = paired_means(inp.observed, &m.hindcast_mean);
        for &v in m.forecast_members.iter().filter(|v| v.is_finite()) {
            members.push((onto_observed(v, bias, inp.multiplicative), weight));
        }
    }
    // the MME's hindcast and forecast moved the same way by its own regional bias
    let mme_bias = paired_means(inp.observed, inp.hindcast_mme);
    let mme = |v: f64| onto_observed(v, mme_bias, inp.multiplicative);
    let mut sorted: Vec<f64> = inp
        .observed
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let terciles = [quantile7(&sorted, 1.0 / 3.0), quantile7(&sorted, 2.0 / 3.0)];
    let total: f64 = members.iter().map(|m| m.1).sum();
    let mut shares = [0.0; 3];
    for &(v, w) in &members {
        let c = if v < terciles[0] {
            0
        } else if v > terciles[1] {
            2
        } else {
            1
        };
        shares[c] += w / total;
    }
    RegionalSeries {
        region: region.to_string(),
        lead: lead.to_string(),
        target: target.to_string(),
        target_year,
        units: units.to_string(),
        years: inp.years.to_vec(),
        observed: inp.observed.to_vec(),
        hindcast_mme: inp.hindcast_mme.iter().map(|&v| mme(v)).collect(),
        members,
        forecast_mean: mme(inp.forecast_mean),
        terciles,
        member_tercile_shares: if total > 0.0 { shares } else { [f64::NAN; 3] },
    }
}

/// `(value, P(X > value))` of weighted values, ascending, by Hazen plotting positions.
pub fn exceedance(values: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .filter(|(x, w)| x.is_finite() && *w > 0.0)
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|p| p.1).sum();
    let mut below = 0.0;
    v.into_iter()
        .map(|(x, w)| {
            let poe = 1.0 - (below + w / 2.0) / total;
            below += w;
            (x, poe)
        })
        .collect()
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The range of `values` with 8 % of margin on each side (a unit around a single value).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

fn draw_error(out: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: out.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Draws the POE curve of `s` into `out` (PNG): the observed years' (grey) and the
/// forecast's (blue), the observed terciles dashed.
pub fn render_exceedance(
    out: &Path,
    s: &RegionalSeries,
    title: &str,
    cat: &super::Catalogue,
) -> Result<()> {
    super::diagram::ensure_font()?;
    crate::outputs::staging::write_through_temporary(out, |tmp| {
        draw_exceedance(tmp, s, title, cat).map_err(|e| draw_error(out, e))
    })
    .map(|_| ())
}

fn draw_exceedance(
    out: &Path,
    s: &RegionalSeries,
    title: &str,
    cat: &super::Catalogue,
) -> DrawResult {
    let clim: Vec<(f64, f64)> = s.observed.iter().map(|&v| (v, 1.0)).collect();
    let clim = exceedance(&clim);
    let fc = exceedance(&s.members);
    let (x0, x1) = padded_range(clim.iter().chain(&fc).map(|p| p.0));
    let root = BitMapBackend::new(out, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 19).into_font().style(FontStyle::Bold))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_desc(cat.text("diagram.regional_mean", &[("units", &s.units)]))
        .y_desc(cat.text("diagram.exceedance", &[]))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .draw()?;
    let grey = RGBColor(120, 120, 120);
    for t in s.terciles.iter().filter(|t| t.is_finite()) {
        chart.draw_series(DashedLineSeries::new(
            [(*t, 0.0), (*t, 100.0)],
            6,
            4,
            BLACK.mix(0.35).into(),
        ))?;
    }
    let blue = RGBColor(0, 90, 170);
    chart
        .draw_series(LineSeries::new(
            clim.iter().map(|&(x, p)| (x, 100.0 * p)),
            grey.stroke_width(3),
        ))?
        .label(cat.text("diagram.climatology", &[("n", &clim.len().to_string())]))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], grey.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            fc.iter().map(|&(x, p)| (x, 100.0 * p)),
            blue.stroke_width(3),
        ))?
        .label(cat.text("diagram.forecast", &[("n", &fc.len().to_string())]))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], blue.stroke_width(3)));
    chart.draw_series(
        fc.iter()
            .map(|&(x, p)| Circle::new((x, 100.0 * p), 3, blue.filled())),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws the plume of `s` into `out` (PNG): the observed regional mean per hindcast year
/// (black), the cross-validated MME hindcast (blue), and at the target year the forecast
/// members (dots), their weighted 10–90 % range (bar) and the MME mean (diamond); the observed
/// terciles dashed.
pub fn render_plume(
    out: &Path,
    s: &RegionalSeries,
    title: &str,
    cat: &super::Catalogue,
) -> Result<()> {
    super::diagram::ensure_font()?;
    crate::outputs::staging::write_through_temporary(out, |tmp| {
        draw_plume(tmp, s, title, cat).map_err(|e| draw_error(out, e))
    })
    .map(|_| ())
}

/// The weighted `q`-quantile of `(value, weight)` pairs (the first value whose cumulative
/// weight reaches `q`).
fn weighted_quantile(values: &[(f64, f64)], q: f64) -> f64 {
    let mut v: Vec<(f64, f64)> = values.iter().copied().filter(|p| p.0.is_finite()).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for (x, w) in &v {
        acc += w;
        if acc >= q * total - 1e-12 {
            return *x;
        }
    }
    v.last().map_or(f64::NAN, |p| p.0)
}

fn draw_plume(out: &Path, s: &RegionalSeries, title: &str, cat: &super::Catalogue) -> DrawResult {
    let first = s.years.first().copied().unwrap_or(s.target_year);
    let (y0, y1) = padded_range(
        s.observed
            .iter()
            .chain(&s.hindcast_mme)
            .copied()
            .chain(s.members.iter().map(|m| m.0))
            .chain([s.forecast_mean]),
    );
    let (x0, x1) = (f64::from(first) - 0.8, f64::from(s.target_year) + 0.8);
    let root = BitMapBackend::new(out, (1000, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 19).into_font().style(FontStyle::Bold))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(cat.text("diagram.year", &[]))
        .y_desc(cat.text("diagram.regional_mean", &[("units", &s.units)]))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .draw()?;
    for t in s.terciles.iter().filter(|t| t.is_finite()) {
        chart.draw_series(DashedLineSeries::new(
            [(x0, *t), (x1, *t)],
            6,
            4,
            BLACK.mix(0.35).into(),
        ))?;
    }
    let years: Vec<f64> = s.years.iter().map(|&y| f64::from(y)).collect();
    let line = |v: &[f64]| -> Vec<(f64, f64)> {
        years
            .iter()
            .zip(v)
            .filter(|p| p.1.is_finite())
            .map(|(&x, &y)| (x, y))
            .collect()
    };
    let blue = RGBColor(0, 90, 170);
    chart
        .draw_series(LineSeries::new(line(&s.observed), BLACK.stroke_width(2)))?
        .label(cat.text("diagram.observed", &[]))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 22, y)], BLACK.stroke_width(2)));
    chart.draw_series(
        line(&s.observed)
            .into_iter()
            .map(|p| Circle::new(p, 3, BLACK.filled())),
    )?;
    chart
        .draw_series(LineSeries::new(line(&s.hindcast_mme), blue.stroke_width(2)))?
        .label(cat.text("diagram.hindcast", &[]))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], blue.stroke_width(2)));
    let xf = f64::from(s.target_year);
    let red = RGBColor(200, 40, 30);
    if !s.members.is_empty() {
        let (p10, p90) = (
            weighted_quantile(&s.members, 0.1),
            weighted_quantile(&s.members, 0.9),
        );
        chart.draw_series(std::iter::once(Rectangle::new(
            [(xf - 0.18, p10), (xf + 0.18, p90)],
            red.mix(0.25).filled(),
        )))?;
        chart
            .draw_series(
                s.members
                    .iter()
                    .map(|&(v, _)| Circle::new((xf, v), 3, red.mix(0.7).filled())),
            )?
            .label(cat.text("diagram.members", &[]))
            .legend(move |(x, y)| Circle::new((x + 11, y), 4, red.filled()));
    }
    if s.forecast_mean.is_finite() {
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (xf, s.forecast_mean),
                9,
                red.filled(),
            )))?
            .label(cat.text("diagram.mean", &[]))
            .legend(move |(x, y)| TriangleMarker::new((x + 11, y), 6, red.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws the plume of a climate index (`drivers::DriverPlume`) into `out` (PNG): the observed
/// monthly anomalies before and after the start (black), each model's members (thin lines in
/// the model's colour) and mean (thick), the MME 10–90 % range (shaded) and mean (dashed), the
/// phase thresholds (grey dashed). Months run along x, the start month at 0.
/// Its words are `cat`'s (the index's name: `drivers.<index>`, else its own English).
pub fn render_driver_plume(
    out: &Path,
    p: &crate::indices::drivers::DriverPlume,
    cat: &super::Catalogue,
) -> Result<()> {
    super::diagram::ensure_font()?;
    crate::outputs::staging::write_through_temporary(out, |tmp| {
        draw_driver_plume(tmp, p, cat).map_err(|e| draw_error(out, e))
    })
    .map(|_| ())
}

/// Months from `start` (`YYYY-MM…`) to `month` (`YYYY-MM`).
fn month_offset(start: &str, month: &str) -> Option<f64> {
    let parse = |t: &str| -> Option<i64> {
        let y: i64 = t.get(0..4)?.parse().ok()?;
        let m: i64 = t.get(5..7)?.parse().ok()?;
        Some(12 * y + m - 1)
    };
    Some((parse(month)? - parse(start)?) as f64)
}

/// Colours of the models of a plume (ColorBrewer Dark2).
const MODEL_COLOURS: [RGBColor; 6] = [
    RGBColor(27, 158, 119),
    RGBColor(217, 95, 2),
    RGBColor(117, 112, 179),
    RGBColor(231, 41, 138),
    RGBColor(102, 166, 30),
    RGBColor(230, 171, 2),
];

fn draw_driver_plume(
    out: &Path,
    p: &crate::indices::drivers::DriverPlume,
    cat: &super::Catalogue,
) -> DrawResult {
    let nl = p.targets.len();
    let obs: Vec<(f64, f64)> = p
        .observed
        .iter()
        .filter_map(|(m, v)| Some((month_offset(&p.start, m)?, *v)))
        .collect();
    let x0 = obs.first().map_or(0.0, |o| o.0.min(0.0)) - 0.5;
    let x1 = nl as f64 - 0.5;
    let (mut y0, mut y1) = padded_range(
        p.models
            .iter()
            .flat_map(|m| m.members.iter().flatten().copied())
            .chain(obs.iter().map(|o| o.1))
            .chain([p.threshold, -p.threshold]),
    );
    y0 = y0.min(-p.threshold * 1.5);
    y1 = y1.max(p.threshold * 1.5);
    let root = BitMapBackend::new(out, (1000, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let name = cat.text_or(&format!("drivers.{}", p.index), || p.long_name.clone());
    let title = cat.text(
        "drivers.plume_title",
        &[("index", &name), ("start", &p.start)],
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18).into_font().style(FontStyle::Bold))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let start = p.start.clone();
    chart
        .configure_mesh()
        .x_desc(cat.text("drivers.axis_month", &[]))
        .y_desc(cat.text("drivers.axis_anomaly", &[]))
        .x_labels((x1 - x0).round() as usize + 1)
        .x_label_formatter(&move |x| {
            let k = x.round() as i64;
            let y: i64 = start.get(0..4).and_then(|t| t.parse().ok()).unwrap_or(0);
            let m: i64 = start.get(5..7).and_then(|t| t.parse().ok()).unwrap_or(1);
            let total = 12 * y + m - 1 + k;
            format!("{}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1)
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .draw()?;
    for t in [p.threshold, -p.threshold, 0.0] {
        chart.draw_series(DashedLineSeries::new(
            [(x0, t), (x1, t)],
            6,
            4,
            BLACK.mix(if t == 0.0 { 0.6 } else { 0.3 }).into(),
        ))?;
    }
    let band: Vec<(f64, f64)> = p
        .mme_range
        .iter()
        .enumerate()
        .map(|(l, r)| (l as f64, r.1))
        .chain(
            p.mme_range
                .iter()
                .enumerate()
                .rev()
                .map(|(l, r)| (l as f64, r.0)),
        )
        .filter(|q| q.1.is_finite())
        .collect();
    if band.len() > 2 {
        chart
            .draw_series(std::iter::once(Polygon::new(band, BLACK.mix(0.1).filled())))?
            .label(cat.text("drivers.key_range", &[]))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 22, y + 5)], BLACK.mix(0.1).filled())
            });
    }
    for (k, m) in p.models.iter().enumerate() {
        let c = MODEL_COLOURS[k % MODEL_COLOURS.len()];
        for member in &m.members {
            let pts: Vec<(f64, f64)> = member
                .iter()
                .enumerate()
                .filter(|v| v.1.is_finite())
                .map(|(l, &v)| (l as f64, v))
                .collect();
            chart.draw_series(LineSeries::new(pts, c.mix(0.35).stroke_width(1)))?;
        }
        let pts: Vec<(f64, f64)> = m
            .mean
            .iter()
            .enumerate()
            .map(|(l, &v)| (l as f64, v))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(3)))?
            .label(cat.text(
                "drivers.key_model",
                &[
                    ("model", &m.model),
                    ("members", &m.members.len().to_string()),
                ],
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], c.stroke_width(3)));
    }
    let mme: Vec<(f64, f64)> = p
        .mme_mean
        .iter()
        .enumerate()
        .map(|(l, &v)| (l as f64, v))
        .collect();
    chart
        .draw_series(DashedLineSeries::new(mme, 8, 5, BLACK.stroke_width(3)))?
        .label(cat.text("drivers.key_mean", &[]))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 22, y)], BLACK.stroke_width(3)));
    if !obs.is_empty() {
        chart
            .draw_series(LineSeries::new(obs.clone(), BLACK.stroke_width(2)))?
            .label(cat.text("drivers.key_observed", &[]))
            .legend(|(x, y)| Circle::new((x + 11, y), 4, BLACK.filled()));
        chart.draw_series(obs.iter().map(|&q| Circle::new(q, 4, BLACK.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazen_positions_and_bias_removal_by_hand() {
        // equal weights: 1 − (k − ½)/n
        let poe = exceedance(&[(3.0, 1.0), (1.0, 1.0), (2.0, 1.0), (4.0, 1.0)]);
        assert_eq!(
            poe,
            vec![(1.0, 0.875), (2.0, 0.625), (3.0, 0.375), (4.0, 0.125)]
        );
        // weights 0.5, 0.25, 0.25: 1 − 0.25, 1 − (0.5 + 0.125), 1 − (0.75 + 0.125)
        let poe = exceedance(&[(1.0, 0.5), (2.0, 0.25), (3.0, 0.25)]);
        assert_eq!(poe, vec![(1.0, 0.75), (2.0, 0.375), (3.0, 0.125)]);

        // model A doubles the observed rainfall, model B is right; A has two members
        let models = [
            ModelRegional {
                hindcast_mean: vec![2.0, 4.0, 6.0],
                forecast_members: vec![8.0, 10.0],
            },
            ModelRegional {
                hindcast_mean: vec![1.0, 2.0, 3.0],
                forecast_members: vec![2.5],
            },
        ];
        let observed = [1.0, 2.0, 3.0];
        let inp = RegionalInputs {
            labels: ("r", "month 1", "Oct 2021", 2021, "mm/day"),
            years: &[2001, 2002, 2003],
            observed: &observed,
            hindcast_mme: &[1.1, 2.1, 2.9],
            models: &models,
            forecast_mean: 3.0,
            multiplicative: true,
        };
        let s = regional_series(&inp);
        // A's members halved (2 / 4), each weight 1/4; B's kept, weight 1/2
        assert_eq!(s.members, vec![(4.0, 0.25), (5.0, 0.25), (2.5, 0.5)]);
        // terciles of 1, 2, 3 (type 7): 1.667, 2.333 → all three members above
        assert!((s.terciles[0] - 5.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.member_tercile_shares, [0.0, 0.0, 1.0]);
        // the MME's regional mean 6.1 / 3 against the observed 6 / 3: scaled by 6 / 6.1
        assert!((s.forecast_mean - 3.0 * 6.0 / 6.1).abs() < 1e-12);
        assert!((s.hindcast_mme[0] - 1.1 * 6.0 / 6.1).abs() < 1e-12);
        // additive for temperature: A's members less (4 − 2)
        let s = regional_series(&RegionalInputs {
            multiplicative: false,
            ..inp
        });
        assert_eq!(s.members[0], (6.0, 0.25));
        // the regional mean skips NaN and weighs by the cells' weights
        let cells = RegionCells {
            region: "r".into(),
            cells: vec![(0, 1.0), (1, 3.0), (2, 1.0)],
        };
        assert_eq!(regional_mean(&[1.0, 2.0, f32::NAN], &cells), 7.0 / 4.0);
        assert!(weighted_quantile(&[(1.0, 0.5), (2.0, 0.5)], 0.9) == 2.0);
    }
}
