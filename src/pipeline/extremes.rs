//! The extremes jobs: `s2s extremes spells` (yearly warm/cold-spell indices of an observed
//! daily series against its calendar-day percentiles, with the Excess Heat Factor) and
//! `s2s extremes outlook` (a subseasonal forecast's heat/cold-wave, hot/cold-day, heavy-rain,
//! EFI and SOT products against its model climate, verified on the hindcast when observations
//! are given). Formulas in [`crate::extremes`].

use std::path::PathBuf;

use serde::Serialize;

use crate::bulletin::{extreme_classes, render_classed_map, ClassedMap, ExtremeTail};
use crate::calendar::CfDateTime;
use crate::cube::{CubeKind, LeadUnit, TargetPeriod};
use crate::error::{Error, Result};
use crate::extremes::spells::{
    ehf_heatwave_days, excess_heat_factor_grid, EHF_SEVERITY_PERCENTILE,
    EHF_SIGNIFICANCE_PERCENTILE,
};
use crate::extremes::thresholds::quantile_type8_sorted;
use crate::extremes::{
    calendar_day_percentiles, daily_days_of_year, extremes_forecast, verify_extremes, EventScore,
    ExtremeVariable, ExtremesSpec, SpellKind, YearSpells,
};
use crate::units::Quantity;

use super::RunOptions;

/// What `s2s extremes spells` computes.
#[derive(Debug, Clone)]
pub struct SpellsPlan {
    /// The daily series (a file set).
    pub inputs: Vec<PathBuf>,
    /// Variable (default: the file's only data variable).
    pub variable: Option<String>,
    /// Base period of the thresholds, inclusive years.
    pub base: (i32, i32),
    /// Warm or cold spells.
    pub kind: SpellKind,
    /// Calendar-day percentile of the threshold (0.9 warm, 0.1 cold in ETCCDI).
    pub percentile: f64,
    /// Consecutive days of a spell (6 for WSDI/CSDI).
    pub min_days: usize,
    /// ± days of the percentile window (2: ETCCDI's 5 days).
    pub half_window: usize,
    /// Missing days a year may have before its indices are NaN.
    pub max_missing_days: usize,
    /// Also the Excess Heat Factor (the series must be a daily mean temperature).
    pub ehf: bool,
}

/// Yearly indices of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct SpellRow {
    /// Year.
    pub year: i32,
    /// Station name or `lat,lon`.
    pub location: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Days beyond the threshold.
    pub exceedance_days: f32,
    /// Days in spells.
    pub spell_days: f32,
    /// Number of spells.
    pub spell_count: f32,
    /// Longest run beyond the threshold.
    pub longest_spell: f32,
    /// EHF heat-wave days (with `ehf`).
    pub ehf_heatwave_days: Option<f32>,
    /// EHF severe heat-wave days.
    pub ehf_severe_days: Option<f32>,
    /// Largest EHF of the year, K².
    pub ehf_max: Option<f32>,
}

/// The table and what it was computed from.
#[derive(Debug, Clone, Serialize)]
pub struct SpellsReport {
    /// Variable and units read.
    pub variable: String,
    /// Units of the values (thresholds are in them).
    pub units: String,
    /// Days read.
    pub days: usize,
    /// Rows, by location then year.
    pub rows: Vec<SpellRow>,
}

fn first(inputs: &[PathBuf]) -> PathBuf {
    inputs.first().cloned().unwrap_or_default()
}

/// The yearly spell indices of a daily observed series.
pub fn spells_table(plan: &SpellsPlan) -> Result<SpellsReport> {
    let cube = super::read_file_set(&plan.inputs, plan.variable.as_deref())?;
    let path = first(&plan.inputs);
    let lead = cube.coords.lead.first().copied();
    let daily = lead.is_some_and(|l| l.unit == LeadUnit::Day && (l.width - 1.0).abs() < 1e-9);
    if cube.meta.kind != CubeKind::Observed || !daily {
        return Err(Error::Input {
            path,
            reason: format!(
                "'{}' is not a daily series (time, …): spells are counted on observed or \
                 simulated daily values; a forecast with starts and leads goes to `s2s extremes \
                 outlook`",
                cube.meta.variable
            ),
        });
    }
    let cal = cube.meta.calendar;
    let dates = &cube.coords.init;
    let doy = daily_days_of_year(dates, cal).map_err(|e| Error::Input {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let years: Vec<i32> = dates.iter().map(|d| d.year).collect();
    let (nt, _, _, ny, nx) = cube.values.dim();
    let series = cube
        .values
        .view()
        .into_shape_with_order((nt, ny * nx))
        .map_err(|e| Error::invalid("daily series", e.to_string()))?;
    let lo = years.partition_point(|&y| y < plan.base.0);
    let hi = years.partition_point(|&y| y <= plan.base.1);
    if hi <= lo {
        return Err(Error::Input {
            path,
            reason: format!(
                "no day of the base period {}-{} in the series ({} … {}); give --base inside it",
                plan.base.0,
                plan.base.1,
                dates[0].date_label(),
                dates[nt - 1].date_label()
            ),
        });
    }
    let thresholds =
        calendar_day_percentiles(series, &doy, lo..hi, plan.half_window, plan.percentile)?;
    let (out_years, spells) = crate::extremes::yearly_spells(
        series,
        &doy,
        &years,
        thresholds.view(),
        plan.kind,
        plan.min_days,
        plan.max_missing_days,
    )?;
    let ehf = if plan.ehf {
        if cube.meta.quantity != Quantity::Temperature {
            return Err(Error::Input {
                path,
                reason: format!(
                    "--ehf needs a daily mean temperature; '{}' is in {}",
                    cube.meta.variable, cube.meta.units
                ),
            });
        }
        Some(ehf_by_year(series, lo..hi, &years, &out_years)?)
    } else {
        None
    };
    let mut rows = Vec::new();
    for (c, cell) in spells.iter().enumerate() {
        let (y, x) = (c / nx, c % nx);
        let (lat, lon) = cube.coords.spatial.cell_lat_lon(y, x);
        let location = match &cube.coords.spatial {
            crate::cube::Spatial::Points { names, .. } => names[x].clone(),
            _ => format!("{lat:.3},{lon:.3}"),
        };
        for (k, (&year, s)) in out_years.iter().zip(cell).enumerate() {
            let YearSpells {
                exceedance_days,
                spell_days,
                spell_count,
                longest_spell,
            } = *s;
            let e = ehf.as_ref().map(|e| e[c][k]);
            rows.push(SpellRow {
                year,
                location: location.clone(),
                lat,
                lon,
                exceedance_days,
                spell_days,
                spell_count,
                longest_spell,
                ehf_heatwave_days: e.map(|v| v.0),
                ehf_severe_days: e.map(|v| v.1),
                ehf_max: e.map(|v| v.2),
            });
        }
    }
    Ok(SpellsReport {
        variable: cube.meta.variable.clone(),
        units: cube.meta.units.clone(),
        days: nt,
        rows,
    })
}

/// EHF heat-wave days, severe days and maximum per cell and year (NaN for a year with a day
/// whose EHF is undefined, other than the series' first 30 and last 2).
fn ehf_by_year(
    series: ndarray::ArrayView2<f32>,
    base: std::ops::Range<usize>,
    years: &[i32],
    out_years: &[i32],
) -> Result<Vec<Vec<(f32, f32, f32)>>> {
    let nc = series.ncols();
    let mut t95 = Vec::with_capacity(nc);
    for c in 0..nc {
        let mut v: Vec<f32> = series
            .column(c)
            .slice(ndarray::s![base.clone()])
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        v.sort_unstable_by(f32::total_cmp);
        t95.push(quantile_type8_sorted(&v, EHF_SIGNIFICANCE_PERCENTILE));
    }
    let ehf = excess_heat_factor_grid(series, &t95)?;
    let mut out = Vec::with_capacity(nc);
    for c in 0..nc {
        let col: Vec<f32> = ehf.column(c).to_vec();
        let mut positive: Vec<f32> = col[base.clone()]
            .iter()
            .copied()
            .filter(|&e| e.is_finite() && e > 0.0)
            .collect();
        positive.sort_unstable_by(f32::total_cmp);
        let ehf85 = quantile_type8_sorted(&positive, EHF_SEVERITY_PERCENTILE);
        let days = ehf_heatwave_days(&col, 0.0);
        let severe = if ehf85.is_finite() {
            ehf_heatwave_days(&col, ehf85)
        } else {
            vec![false; col.len()]
        };
        let mut per_year = Vec::with_capacity(out_years.len());
        for &y in out_years {
            let lo = years.partition_point(|&v| v < y);
            let hi = years.partition_point(|&v| v <= y);
            let n_days = days[lo..hi].iter().filter(|&&d| d).count() as f32;
            let n_severe = severe[lo..hi].iter().filter(|&&d| d).count() as f32;
            let max = col[lo..hi]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f32::NAN, f32::max);
            per_year.push((n_days, n_severe, max));
        }
        out.push(per_year);
    }
    Ok(out)
}

/// What `s2s extremes outlook` computes.
#[derive(Debug, Clone)]
pub struct ExtremesOutlookPlan {
    /// Daily hindcasts (a file set: starts × members × daily leads).
    pub hindcast: Vec<PathBuf>,
    /// The daily forecast.
    pub forecast: Vec<PathBuf>,
    /// Daily observations for the hindcast verification (optional).
    pub observed: Option<Vec<PathBuf>>,
    /// Variable (default: each file's only data variable).
    pub variable: Option<String>,
    /// Target periods (`week 1`, `weeks 3-4`).
    pub periods: Vec<TargetPeriod>,
    /// The forecast start to use (default: the file's last).
    pub start: Option<CfDateTime>,
    /// ± days of the M-climate window.
    pub half_window_days: u32,
    /// Consecutive days of a heat or cold wave.
    pub spell_min_days: usize,
    /// Return period of the Rx levels, in periods.
    pub return_period: f64,
    /// Output folder.
    pub out: PathBuf,
    /// History and compression of the outputs.
    pub run: RunOptions,
}

/// Area statistics of one field in one period.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSummary {
    /// Field name.
    pub field: String,
    /// Period label.
    pub period: String,
    /// Mean over the cells with a value.
    pub mean: f64,
    /// Largest value.
    pub max: f64,
    /// Share of cells with a value above 0.5 (probabilities) or 0.5 (EFI).
    pub share_above_half: f64,
}

/// What the outlook wrote and found.
#[derive(Debug, Clone, Serialize)]
pub struct ExtremesReport {
    /// The forecast start.
    pub start: String,
    /// Variable and units.
    pub variable: String,
    /// Units.
    pub units: String,
    /// Temperature or precipitation products.
    pub kind: ExtremeVariable,
    /// Periods.
    pub periods: Vec<String>,
    /// Hindcast starts in the M-climate.
    pub m_climate_starts: usize,
    /// Values a lead and cell in the M-climate.
    pub m_climate_size: usize,
    /// Area statistics of every field and period.
    pub summary: Vec<FieldSummary>,
    /// Cross-validated hindcast scores (with observations).
    pub verification: Vec<EventScore>,
    /// Maps drawn: (period, field, file name in the output folder).
    pub maps: Vec<(String, String, String)>,
    /// Reliability and ROC diagrams of the verification: (period, file name).
    pub diagrams: Vec<(String, String)>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// An extremes outlook computed and not yet written.
pub struct ExtremesRun {
    /// What it found (file names filled in when written).
    pub report: ExtremesReport,
    products: crate::extremes::ExtremesForecast,
    init: CfDateTime,
    spatial: crate::cube::Spatial,
    calendar: crate::calendar::Calendar,
    return_period: f64,
}

/// Reads the inputs of an extremes outlook and computes its products and verification.
pub fn extremes_products(plan: &ExtremesOutlookPlan) -> Result<ExtremesRun> {
    let hindcast = super::read_file_set(&plan.hindcast, plan.variable.as_deref())?;
    let mut forecast = super::read_file_set(&plan.forecast, plan.variable.as_deref())?;
    super::align_grid(&mut forecast, &first(&plan.forecast), &hindcast)?;
    let kind = match hindcast.meta.quantity {
        Quantity::Temperature => ExtremeVariable::Temperature,
        Quantity::Precipitation => ExtremeVariable::Precipitation,
        _ => {
            return Err(Error::Input {
                path: first(&plan.hindcast),
                reason: format!(
                    "'{}' in {} is neither a temperature nor a precipitation: the extremes \
                     products are heat/cold waves and heavy rain",
                    hindcast.meta.variable, hindcast.meta.units
                ),
            })
        }
    };
    let start = match plan.start {
        Some(d) => forecast
            .coords
            .init
            .iter()
            .position(|i| (i.year, i.month, i.day) == (d.year, d.month, d.day))
            .ok_or_else(|| Error::Input {
                path: first(&plan.forecast),
                reason: format!(
                    "no forecast start on {}; the file's starts are {}",
                    d.date_label(),
                    forecast
                        .coords
                        .init
                        .iter()
                        .map(|i| i.date_label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?,
        None => forecast.n_init() - 1,
    };
    let spec = ExtremesSpec {
        periods: plan.periods.clone(),
        variable: kind,
        half_window_days: plan.half_window_days,
        spell_min_days: plan.spell_min_days,
        return_period: plan.return_period,
    };
    let products = extremes_forecast(&hindcast, &forecast, start, &spec)?;
    let init = forecast.coords.init[start];
    let verification = match &plan.observed {
        Some(obs_files) => {
            let obs = super::read_file_set(obs_files, plan.variable.as_deref())?;
            let (aligned, _) = super::align_or_fail(&obs, &first(obs_files), &hindcast)?;
            verify_extremes(&hindcast, &aligned, &init, &spec)?
        }
        None => Vec::new(),
    };
    let labels: Vec<String> = products.periods.iter().map(|l| l.label()).collect();
    let mut summary = Vec::new();
    for f in &products.fields {
        for (p, label) in labels.iter().enumerate() {
            let v: Vec<f64> = f
                .values
                .index_axis(ndarray::Axis(0), p)
                .iter()
                .filter(|x| x.is_finite())
                .map(|&x| f64::from(x))
                .collect();
            if v.is_empty() {
                continue;
            }
            summary.push(FieldSummary {
                field: f.name.to_string(),
                period: label.clone(),
                mean: v.iter().sum::<f64>() / v.len() as f64,
                max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                share_above_half: v.iter().filter(|&&x| x > 0.5).count() as f64 / v.len() as f64,
            });
        }
    }
    Ok(ExtremesRun {
        report: ExtremesReport {
            start: init.date_label(),
            variable: hindcast.meta.variable.clone(),
            units: hindcast.meta.units.clone(),
            kind,
            periods: labels,
            m_climate_starts: products.m_climate_starts,
            m_climate_size: products.m_climate_size,
            summary,
            verification,
            maps: Vec::new(),
            diagrams: Vec::new(),
            files: Vec::new(),
        },
        products,
        init,
        spatial: forecast.coords.spatial.clone(),
        calendar: forecast.meta.calendar,
        return_period: plan.return_period,
    })
}

/// The maps of a run: per period, heat- and cold-wave probabilities (temperature) or the
/// chances of a very wet period and of a 1-in-10 wettest day (precipitation), each in the
/// colours of its tail with classes from its climatological chance up to 4 times it: the
/// product's field, its tail and the catalogue key of its title (`extremes.<key>_title`).
const MAPPED: [(&str, ExtremeTail, &str); 4] = [
    ("prob_heat_wave", ExtremeTail::Heat, "heat_wave"),
    ("prob_cold_wave", ExtremeTail::Cold, "cold_wave"),
    ("prob_above_p90", ExtremeTail::Wet, "above_p90"),
    ("prob_rx1day_extreme", ExtremeTail::Wet, "rx1day_extreme"),
];

/// Writes `extremes_forecast.<var>.nc`, `extremes_outlook.json`, `extremes_outlook.md` and the
/// maps into `out` (inside whatever output set is open), their words in `cat`'s language; the
/// report gets the file names.
pub fn write_extremes_run(
    run: &mut ExtremesRun,
    out: &std::path::Path,
    opts: &crate::io::WriteOptions,
    countries: Option<&crate::grid::Countries>,
    cat: &crate::bulletin::Catalogue,
) -> Result<()> {
    let var = run.report.variable.clone();
    let nc = out.join(format!("extremes_forecast.{var}.nc"));
    let json = out.join("extremes_outlook.json");
    let md = out.join("extremes_outlook.md");
    crate::io::products::extremes::write_extremes_forecast(
        &nc,
        opts,
        run.init,
        &run.spatial,
        run.calendar,
        &var,
        &run.products,
    )?;
    let mut maps = Vec::new();
    if matches!(run.spatial, crate::cube::Spatial::Grid { .. }) {
        let temperature = run.report.kind == ExtremeVariable::Temperature;
        for (field, tail, key) in MAPPED {
            // Heat and cold waves of a temperature; the wet tail of a precipitation.
            if temperature != matches!(tail, ExtremeTail::Heat | ExtremeTail::Cold) {
                continue;
            }
            let Some(values) = run.products.field(field) else {
                continue;
            };
            let climatology = run
                .products
                .field(&field.replace("prob_", "clim_"))
                .map(|c| 100.0 * crate::stats::nan_mean(c.as_slice().unwrap_or(&[])) as f32)
                .filter(|c| c.is_finite() && *c > 0.0)
                .unwrap_or(match field {
                    "prob_rx1day_extreme" => (100.0 / run.return_period) as f32,
                    _ => 10.0,
                })
                .round()
                .max(1.0);
            let classes = extreme_classes(tail, climatology);
            for (p, label) in run.report.periods.iter().enumerate() {
                let v: Vec<f32> = values
                    .index_axis(ndarray::Axis(0), p)
                    .iter()
                    .map(|x| 100.0 * x)
                    .collect();
                let name = format!(
                    "map_extremes_{}_{}.png",
                    field.trim_start_matches("prob_"),
                    period_slug(label)
                );
                let title = cat.text(
                    &format!("extremes.{key}_title"),
                    &[
                        ("period", &cat.lead(label)),
                        ("start", &run.report.start),
                        ("variable", &var),
                    ],
                );
                let legend = cat.text(
                    "extremes.map_legend",
                    &[("pct", &cat.number(f64::from(climatology), 0))],
                );
                render_classed_map(
                    &out.join(&name),
                    &ClassedMap {
                        spatial: &run.spatial,
                        values: &v,
                        classes: &classes,
                        legend: &legend,
                        countries,
                        title: &title,
                        no_data: &cat.text("legend.no_data_short", &[]),
                    },
                )?;
                maps.push((label.clone(), field.to_string(), name));
            }
        }
    }
    if let crate::cube::Spatial::Grid { .. } = run.spatial {
        maps.extend(tercile_maps(run, out, countries, cat)?);
    }
    run.report.maps = maps;
    run.report.diagrams = verification_diagrams(&run.report, out, cat)?;
    run.report.files = vec![nc, json.clone(), md.clone()];
    crate::io::write_text_atomic(&json, &serde_json::to_string_pretty(&run.report)?)?;
    crate::io::write_text_atomic(&md, &outlook_markdown(&run.report, "#", cat))?;
    Ok(())
}

/// A period's label as a piece of a file name (`weeks 3–4` → `weeks-3-4`).
fn period_slug(label: &str) -> String {
    crate::io::clobber::file_slug(&label.replace(['–', ' '], "-"))
}

/// The reliability diagram and ROC curves of each period's events (`diagram_<period>.png`)
/// from the cross-validated hindcast scores; none without observations.
fn verification_diagrams(
    r: &ExtremesReport,
    out: &std::path::Path,
    cat: &crate::bulletin::Catalogue,
) -> Result<Vec<(String, String)>> {
    let mut diagrams = Vec::new();
    for label in &r.periods {
        let scores: Vec<&EventScore> = r
            .verification
            .iter()
            .filter(|v| &v.period == label)
            .collect();
        if scores.is_empty() {
            continue;
        }
        let names: Vec<String> = scores
            .iter()
            .map(|v| {
                cat.text_or(&format!("extremes.map_{}", v.event), || {
                    v.event.replace('_', " ")
                })
            })
            .collect();
        let curves: Vec<crate::bulletin::EventCurves> = scores
            .iter()
            .zip(&names)
            .map(|(v, name)| crate::bulletin::EventCurves {
                label: name,
                reliability: &v.reliability,
                roc: &v.roc,
                base_rate: v.base_rate,
            })
            .collect();
        let name = format!("diagram_{}.png", period_slug(label));
        let title = cat.text(
            "extremes.diagram_title",
            &[("period", &cat.lead(label)), ("variable", &r.variable)],
        );
        crate::bulletin::render_event_diagrams(&out.join(&name), &title, &curves, cat)?;
        diagrams.push((label.clone(), name));
    }
    Ok(diagrams)
}

/// The tercile outlook of each period against the M-climate, drawn as the seasonal tercile
/// maps are: the dominant category where its chance reaches
/// [`crate::ensemble::DOMINANT_THRESHOLD`], white where none does.
fn tercile_maps(
    run: &ExtremesRun,
    out: &std::path::Path,
    countries: Option<&crate::grid::Countries>,
    cat: &crate::bulletin::Catalogue,
) -> Result<Vec<(String, String, String)>> {
    use crate::bulletin::{render_tercile_map, MapStyle, TercileMap};
    let (Some(lower), Some(upper)) = (
        run.products.field("prob_lower_tercile"),
        run.products.field("prob_upper_tercile"),
    ) else {
        return Ok(Vec::new());
    };
    let style = match run.report.kind {
        ExtremeVariable::Temperature => MapStyle::Temperature,
        ExtremeVariable::Precipitation => MapStyle::Precipitation,
    };
    let mut maps = Vec::new();
    for (p, label) in run.report.periods.iter().enumerate() {
        let below: Vec<f32> = lower
            .index_axis(ndarray::Axis(0), p)
            .iter()
            .copied()
            .collect();
        let above: Vec<f32> = upper
            .index_axis(ndarray::Axis(0), p)
            .iter()
            .copied()
            .collect();
        let near: Vec<f32> = below.iter().zip(&above).map(|(b, a)| 1.0 - b - a).collect();
        let dominant: Vec<i8> = (0..below.len())
            .map(|k| {
                let probs = [below[k], near[k], above[k]];
                if probs.iter().any(|v| !v.is_finite()) {
                    return -1;
                }
                // the first of the largest, as the seasonal maps break ties
                let (c, v) =
                    probs
                        .iter()
                        .enumerate()
                        .fold((0, f32::NEG_INFINITY), |best, (c, &v)| {
                            if v > best.1 {
                                (c, v)
                            } else {
                                best
                            }
                        });
                if f64::from(v) >= crate::ensemble::DOMINANT_THRESHOLD {
                    c as i8
                } else {
                    -1
                }
            })
            .collect();
        let name = format!("map_terciles_{}.png", period_slug(label));
        let title = cat.text(
            "extremes.terciles_title",
            &[
                ("variable", &run.report.variable),
                ("period", &cat.lead(label)),
                ("start", &run.report.start),
            ],
        );
        let categories = cat.tercile_names();
        let notes = cat.map_notes();
        render_tercile_map(
            &out.join(&name),
            &TercileMap {
                spatial: &run.spatial,
                probability: [&below, &near, &above],
                dominant: &dominant,
                mask: None,
                hatch: None,
                style,
                countries,
                title: &title,
                categories: [&categories[0], &categories[1], &categories[2]],
                notes: [&notes[0], &notes[1], &notes[2], &notes[3]],
            },
        )?;
        maps.push((label.clone(), "terciles".to_string(), name));
    }
    Ok(maps)
}

/// Runs the subseasonal extremes outlook and writes its files as one set in `plan.out`.
pub fn extremes_outlook(plan: &ExtremesOutlookPlan) -> Result<ExtremesReport> {
    let mut run = extremes_products(plan)?;
    crate::io::create_dir(&plan.out)?;
    let countries = crate::grid::Countries::natural_earth();
    crate::outputs::staging::as_one_set(&plan.out, || {
        write_extremes_run(
            &mut run,
            &plan.out,
            &plan.run.write_options(),
            Some(&countries),
            &crate::bulletin::Catalogue::english()?,
        )
    })?;
    Ok(run.report)
}

fn pct(x: f64) -> String {
    format!("{:.0} %", 100.0 * x)
}

/// The outlook in words: one line per period of the largest probabilities, the maps, then the
/// hindcast scores; `level` is the Markdown heading of its title (`#`, or `##` inside a
/// bulletin); in the language of `cat`.
pub fn outlook_markdown(
    r: &ExtremesReport,
    level: &str,
    cat: &crate::bulletin::Catalogue,
) -> String {
    let get = |field: &str, period: &str| {
        r.summary
            .iter()
            .find(|s| s.field == field && s.period == period)
    };
    // a key of the catalogue's `extremes` table, or `fallback` where it has none
    let word = |key: &str, fallback: &str| {
        cat.text_or(&format!("extremes.{key}"), || fallback.to_string())
    };
    let mut s = format!(
        "{level} {}\n\n{}\n\n",
        cat.text(
            "extremes.title",
            &[("variable", &r.variable), ("start", &r.start)]
        ),
        cat.text(
            "extremes.m_climate",
            &[
                ("starts", &r.m_climate_starts.to_string()),
                ("size", &r.m_climate_size.to_string()),
            ]
        )
    );
    let events: &[(&str, &str, Option<&str>)] = match r.kind {
        ExtremeVariable::Temperature => &[
            ("prob_heat_wave", "heat_wave", Some("clim_heat_wave")),
            ("prob_cold_wave", "cold_wave", Some("clim_cold_wave")),
            ("prob_above_p90", "mean_above_p90", None),
            ("prob_below_p10", "mean_below_p10", None),
        ],
        ExtremeVariable::Precipitation => &[
            ("prob_above_p90", "total_above_p90", None),
            ("prob_rx1day_extreme", "rx1day_extreme", None),
            ("prob_rx5day_extreme", "rx5day_extreme", None),
        ],
    };
    s.push_str(&format!(
        "{}\n|---|---|---|---|---|---|\n",
        cat.text("extremes.columns", &[])
    ));
    for p in &r.periods {
        let efi = get("efi", p).map_or(f64::NAN, |e| e.max);
        for (field, key, clim) in events {
            let Some(f) = get(field, p) else { continue };
            let c = clim
                .and_then(|c| get(c, p))
                .map_or("10 %".to_string(), |c| pct(c.mean));
            s.push_str(&format!(
                "| {} | {} | {} | {} | {c} | {} |\n",
                cat.lead(p),
                word(key, key),
                pct(f.max),
                pct(f.mean),
                cat.number(efi, 2)
            ));
        }
    }
    if !r.maps.is_empty() {
        s.push('\n');
        for (period, field, file) in &r.maps {
            let bare = field.replace("prob_", "");
            let what = word(&format!("map_{bare}"), &bare.replace('_', " "));
            s.push_str(&format!("![{what}, {}]({file})\n", cat.lead(period)));
        }
    }
    if !r.verification.is_empty() {
        s.push_str(&format!(
            "\n{level}# {}\n\n{}\n|---|---|---|---|---|---|---|---|\n",
            cat.text("extremes.verification", &[]),
            cat.text("extremes.verification_columns", &[])
        ));
        for v in &r.verification {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                cat.lead(&v.period),
                word(&format!("event_{}", v.event), &v.event),
                v.cases,
                pct(v.base_rate),
                cat.number(v.brier, 3),
                cat.number(v.brier_skill_score, 2),
                cat.number(v.roc_area, 2),
                cat.number(v.reliability_slope, 2)
            ));
        }
        if !r.diagrams.is_empty() {
            s.push_str(&format!("\n{}\n\n", cat.text("extremes.diagram_note", &[])));
            for (period, file) in &r.diagrams {
                s.push_str(&format!(
                    "![{}]({file})\n",
                    cat.text("extremes.diagram_caption", &[("period", &cat.lead(period))])
                ));
            }
        }
    }
    s
}

/// `year,location,lat,lon,exceedance_days,spell_days,spell_count,longest_spell[,ehf_…]`.
pub fn spells_csv(r: &SpellsReport) -> String {
    let ehf = r.rows.first().is_some_and(|x| x.ehf_max.is_some());
    let mut s =
        String::from("year,location,lat,lon,exceedance_days,spell_days,spell_count,longest_spell");
    if ehf {
        s.push_str(",ehf_heatwave_days,ehf_severe_days,ehf_max");
    }
    s.push('\n');
    let num = |v: f32| {
        if v.is_finite() {
            format!("{v}")
        } else {
            String::new()
        }
    };
    for row in &r.rows {
        let loc = if row.location.contains(',') {
            format!("\"{}\"", row.location)
        } else {
            row.location.clone()
        };
        let coord = |v: f64| {
            if v.is_finite() {
                format!("{v:.4}")
            } else {
                String::new()
            }
        };
        s.push_str(&format!(
            "{},{loc},{},{},{},{},{},{}",
            row.year,
            coord(row.lat),
            coord(row.lon),
            num(row.exceedance_days),
            num(row.spell_days),
            num(row.spell_count),
            num(row.longest_spell)
        ));
        if ehf {
            s.push_str(&format!(
                ",{},{},{}",
                num(row.ehf_heatwave_days.unwrap_or(f32::NAN)),
                num(row.ehf_severe_days.unwrap_or(f32::NAN)),
                row.ehf_max.map_or(String::new(), |v| if v.is_finite() {
                    format!("{v:.3}")
                } else {
                    String::new()
                })
            ));
        }
        s.push('\n');
    }
    s
}
