//! Extremes of a subseasonal forecast against its model climate, per target period (week 1,
//! week 2, weeks 3–4, …) and cell: the products extended-range centres issue for heat and cold
//! waves and heavy rain, and their cross-validated hindcast verification.
//!
//! From daily values, for each target period `P` (a run of daily leads):
//! - **Period mean** `x̄_P` of each member and each M-climate case ([`super::mclimate`]): the
//!   EFI and SOT± ([`crate::indices::efi`]), the probabilities `P(x̄ > q₉₀)`, `P(x̄ > q₉₅)` and
//!   `P(x̄ < q₁₀)` with `q` the M-climate quantiles of `x̄_P` (type 7), and the ensemble-mean
//!   anomaly from the M-climate mean.
//! - **Heat and cold waves** (temperature): a day is hot when above the M-climate's 90th
//!   percentile *of its lead* (cold: below the 10th), a wave is `≥ spell_min_days` consecutive
//!   hot (cold) days anywhere in the forecast, and a member has a wave *in* `P` when one of the
//!   wave's days falls in `P`. The probability is the share of members with a wave in `P`,
//!   beside the M-climate's own rate (the climatological probability, about 3 % a week for
//!   3-day waves of independent 10 % days, more with persistence).
//! - **Hot and cold days**: `P(number of hot days in P > its M-climate mean)`.
//! - **Heavy rain** (precipitation): `P(Rx1day_P > r)` and `P(Rx5day_P > r₅)` where `Rx1day_P`
//!   is the wettest day of `P`, `Rx5day_P` the wettest 5 consecutive days inside `P` (mean
//!   rate), and `r` the M-climate's level exceeded once in `return_period` periods, its
//!   `1 − 1/T` quantile.
//!
//! Missing values: a member or case with any missing day in `P` is left out of that period's
//! sample (and of the spells of the whole forecast); a cell whose M-climate has fewer than
//! [`super::mclimate::MIN_M_CLIMATE_SAMPLE`] values is NaN.
//!
//! Verification ([`verify_extremes`]): for each hindcast year `y` in the M-climate, the starts of
//! year `y` inside the window are forecast with the M-climate of the other years (leave one
//! year out), and the observations aligned to the same starts and leads define the observed
//! events against *their* climate of the same starts and leads (the observed 90th percentile of
//! the lead, the observed q₉₀ of the period mean): Brier score, Brier skill score against the
//! observed base rate, ROC area (Mann–Whitney) and curve, and the reliability diagram's ten
//! probability bins with their count-weighted slope (Wilks 2011 §8.4.4; Weisheimer & Palmer
//! 2014) of each event, pooled over cases and cells.

use ndarray::{s, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Serialize;

use crate::cube::{Cube, Lead, LeadUnit, TargetPeriod};
use crate::error::{Error, Result};
use crate::indices::efi::{extreme_forecast_index, shift_of_tails};
use crate::stats::quantile_sorted;

use super::mclimate::{m_climate_starts, MIN_M_CLIMATE_SAMPLE};
use super::spells::SpellKind;

/// Daily exceedance level of a hot day (its cold twin is `1 −` this): the 90th percentile of the
/// calendar day (lead) of heat-wave definitions (Perkins & Alexander 2013; ETCCDI TX90p).
pub const HOT_DAY_PERCENTILE: f64 = 0.9;
/// Consecutive hot (cold) days that make a heat (cold) wave: the 3 days of the Excess Heat
/// Factor and of most national heat-wave warnings (Perkins & Alexander 2013).
pub const DEFAULT_SPELL_MIN_DAYS: usize = 3;
/// Period-mean exceedance levels of the M-climate: the upper decile and the 95th percentile
/// (ECMWF's extended-range probabilities of the upper tail).
pub const UPPER_LEVELS: [f64; 2] = [0.9, 0.95];
/// Return period (in target periods) of the Rx1day/Rx5day level: a 1-in-10 wettest day.
pub const DEFAULT_RETURN_PERIOD: f64 = 10.0;
/// Days of the Rx5day window.
pub const RX5_DAYS: usize = 5;

/// Whether the variable is a temperature (waves, hot and cold days) or a precipitation rate
/// (Rx1day, Rx5day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtremeVariable {
    /// Daily mean, maximum or minimum temperature.
    Temperature,
    /// Daily precipitation rate or total.
    Precipitation,
}

/// Settings of the extremes products.
#[derive(Debug, Clone)]
pub struct ExtremesSpec {
    /// Target periods (weeks).
    pub periods: Vec<TargetPeriod>,
    /// Temperature or precipitation.
    pub variable: ExtremeVariable,
    /// ± days of the M-climate start window.
    pub half_window_days: u32,
    /// Consecutive days of a heat or cold wave.
    pub spell_min_days: usize,
    /// Return period of the Rx levels, in periods.
    pub return_period: f64,
}

impl ExtremesSpec {
    /// Weeks 1 and 2, weeks 3–4, with the policy defaults.
    pub fn weekly(variable: ExtremeVariable) -> Self {
        ExtremesSpec {
            periods: ["week 1", "week 2", "weeks 3-4"]
                .iter()
                .map(|p| TargetPeriod::parse(p).expect("valid period"))
                .collect(),
            variable,
            half_window_days: super::mclimate::M_CLIMATE_HALF_WINDOW_DAYS,
            spell_min_days: DEFAULT_SPELL_MIN_DAYS,
            return_period: DEFAULT_RETURN_PERIOD,
        }
    }
}

/// One product field on `(period, y, x)`.
#[derive(Debug, Clone)]
pub struct ExtremeField {
    /// NetCDF variable name.
    pub name: &'static str,
    /// CF `long_name`.
    pub long_name: String,
    /// CF units.
    pub units: String,
    /// Values `(period, y, x)`.
    pub values: Array3<f32>,
}

/// The extremes products of one forecast start.
#[derive(Debug, Clone)]
pub struct ExtremesForecast {
    /// The target periods as leads (daily units).
    pub periods: Vec<Lead>,
    /// Hindcast starts in the M-climate.
    pub m_climate_starts: usize,
    /// Values per cell in the M-climate of one lead (starts × members).
    pub m_climate_size: usize,
    /// The fields, in the order written.
    pub fields: Vec<ExtremeField>,
}

impl ExtremesForecast {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Array3<f32>> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.values)
    }
}

/// Lead index ranges of the periods over consecutive daily leads.
fn period_ranges(cube: &Cube, periods: &[TargetPeriod]) -> Result<Vec<std::ops::Range<usize>>> {
    let leads = &cube.coords.lead;
    if leads
        .iter()
        .any(|l| l.unit != LeadUnit::Day || (l.width - 1.0).abs() > 1e-9)
        || leads
            .windows(2)
            .any(|w| (w[1].start - w[0].start - 1.0).abs() > 1e-9)
    {
        return Err(Error::invalid(
            "extremes",
            format!(
                "{}: the leads must be consecutive days (they are {} … {}); extremes are \
                 computed from daily values",
                cube.meta.model,
                leads.first().map(|l| l.label()).unwrap_or_default(),
                leads.last().map(|l| l.label()).unwrap_or_default()
            ),
        ));
    }
    periods
        .iter()
        .map(|p| {
            let idx = p.leads_of(leads)?;
            Ok(idx[0]..idx[idx.len() - 1] + 1)
        })
        .collect()
}

/// Per-period values of one cell: what the fields hold.
#[derive(Debug, Clone, Copy, Default)]
struct CellPeriod {
    efi: f32,
    sot_upper: f32,
    sot_lower: f32,
    above: [f32; 2],
    below_p10: f32,
    terciles: [f32; 2],
    anomaly: f32,
    wave: [f32; 2],
    wave_climate: [f32; 2],
    many_days: [f32; 2],
    rx1: f32,
    rx5: f32,
}

/// The events of one period of one cell as 0–1 probabilities, for verification.
#[derive(Debug, Clone, Copy)]
struct CellEvents {
    above_p90: f32,
    upper_wave: f32,
    lower_wave: f32,
    rx1: f32,
}

/// Whether a run of `≥ min` consecutive `true` days has a day in `range`.
fn spell_touches(beyond: &[bool], min: usize, range: &std::ops::Range<usize>) -> bool {
    let mut t = 0;
    while t < beyond.len() {
        if !beyond[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < beyond.len() && beyond[t] {
            t += 1;
        }
        if t - start >= min && start < range.end && t > range.start {
            return true;
        }
    }
    false
}

fn sorted_finite(values: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut v: Vec<f32> = values.filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f32::total_cmp);
    v
}

fn share(values: &[f32], pred: impl Fn(f32) -> bool) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    values.iter().filter(|&&v| pred(v)).count() as f32 / values.len() as f32
}

/// Rows `(case, lead)` reduced to one value per row over `range`, NaN when a day is missing.
fn reduce_rows(
    rows: ArrayView2<f32>,
    range: &std::ops::Range<usize>,
    f: impl Fn(&[f32]) -> f32,
) -> Vec<f32> {
    rows.outer_iter()
        .map(|r| {
            let v: Vec<f32> = r.slice(s![range.clone()]).to_vec();
            if v.iter().any(|x| !x.is_finite()) {
                f32::NAN
            } else {
                f(&v)
            }
        })
        .collect()
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}

fn max_window_mean(v: &[f32], w: usize) -> f32 {
    if v.len() < w {
        return f32::NAN;
    }
    v.windows(w).map(mean).fold(f32::NEG_INFINITY, f32::max)
}

/// Daily thresholds per lead: the `p` quantile of the climate at each lead.
fn lead_thresholds(clim: ArrayView2<f32>, p: f64) -> Vec<f32> {
    clim.axis_iter(Axis(1))
        .map(|col| quantile_sorted(&sorted_finite(col.iter().copied()), p) as f32)
        .collect()
}

/// Share of rows with a wave touching each period, and rows' day counts beyond `thr`.
fn waves(
    rows: ArrayView2<f32>,
    thr: &[f32],
    kind: SpellKind,
    min: usize,
    ranges: &[std::ops::Range<usize>],
) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut touched = vec![0usize; ranges.len()];
    let mut counts: Vec<Vec<f32>> = vec![Vec::new(); ranges.len()];
    let mut n = 0usize;
    for r in rows.outer_iter() {
        if r.iter().all(|v| !v.is_finite()) {
            continue;
        }
        n += 1;
        let beyond: Vec<bool> = r
            .iter()
            .zip(thr)
            .map(|(&v, &t)| kind.beyond(v, t))
            .collect();
        for (p, range) in ranges.iter().enumerate() {
            if spell_touches(&beyond, min, range) {
                touched[p] += 1;
            }
            if r.slice(s![range.clone()]).iter().all(|v| v.is_finite()) {
                counts[p].push(beyond[range.clone()].iter().filter(|&&b| b).count() as f32);
            }
        }
    }
    let rate = touched
        .iter()
        .map(|&k| {
            if n == 0 {
                f32::NAN
            } else {
                k as f32 / n as f32
            }
        })
        .collect();
    (rate, counts)
}

/// All period values of one cell from its climate rows and forecast rows `(row, lead)`.
fn cell_periods(
    clim: ArrayView2<f32>,
    fc: ArrayView2<f32>,
    ranges: &[std::ops::Range<usize>],
    spec: &ExtremesSpec,
) -> Vec<CellPeriod> {
    let nan = CellPeriod {
        efi: f32::NAN,
        sot_upper: f32::NAN,
        sot_lower: f32::NAN,
        above: [f32::NAN; 2],
        below_p10: f32::NAN,
        terciles: [f32::NAN; 2],
        anomaly: f32::NAN,
        wave: [f32::NAN; 2],
        wave_climate: [f32::NAN; 2],
        many_days: [f32::NAN; 2],
        rx1: f32::NAN,
        rx5: f32::NAN,
    };
    let mut out = vec![nan; ranges.len()];
    let temperature = spec.variable == ExtremeVariable::Temperature;
    let mut wave_parts = Vec::new();
    if temperature {
        for (kind, p) in [
            (SpellKind::Warm, HOT_DAY_PERCENTILE),
            (SpellKind::Cold, 1.0 - HOT_DAY_PERCENTILE),
        ] {
            let thr = lead_thresholds(clim, p);
            let (clim_rate, clim_counts) = waves(clim, &thr, kind, spec.spell_min_days, ranges);
            let (fc_rate, fc_counts) = waves(fc, &thr, kind, spec.spell_min_days, ranges);
            wave_parts.push((clim_rate, clim_counts, fc_rate, fc_counts));
        }
    }
    for (p, range) in ranges.iter().enumerate() {
        let o = &mut out[p];
        let c = sorted_finite(reduce_rows(clim, range, mean).into_iter());
        if c.len() < MIN_M_CLIMATE_SAMPLE {
            continue;
        }
        let f: Vec<f32> = reduce_rows(fc, range, mean)
            .into_iter()
            .filter(|v| v.is_finite())
            .collect();
        if f.is_empty() {
            continue;
        }
        o.efi = extreme_forecast_index(&f, &c) as f32;
        o.sot_upper = shift_of_tails(&f, &c, true) as f32;
        o.sot_lower = shift_of_tails(&f, &c, false) as f32;
        for (k, &level) in UPPER_LEVELS.iter().enumerate() {
            let q = quantile_sorted(&c, level) as f32;
            o.above[k] = share(&f, |v| v > q);
        }
        let q10 = quantile_sorted(&c, 1.0 - UPPER_LEVELS[0]) as f32;
        o.below_p10 = share(&f, |v| v < q10);
        let (t1, t2) = (
            quantile_sorted(&c, 1.0 / 3.0) as f32,
            quantile_sorted(&c, 2.0 / 3.0) as f32,
        );
        o.terciles = [share(&f, |v| v < t1), share(&f, |v| v > t2)];
        o.anomaly = mean(&f) - mean(&c);
        if temperature {
            for (k, (clim_rate, clim_counts, fc_rate, fc_counts)) in wave_parts.iter().enumerate() {
                o.wave[k] = fc_rate[p];
                o.wave_climate[k] = clim_rate[p];
                let normal = if clim_counts[p].is_empty() {
                    f32::NAN
                } else {
                    mean(&clim_counts[p])
                };
                o.many_days[k] = share(&fc_counts[p], |v| v > normal);
            }
        } else {
            let level = 1.0 - 1.0 / spec.return_period;
            for (slot, w) in [(&mut o.rx1, 1usize), (&mut o.rx5, RX5_DAYS)] {
                if range.len() < w {
                    continue;
                }
                let cm =
                    sorted_finite(reduce_rows(clim, range, |v| max_window_mean(v, w)).into_iter());
                let fm: Vec<f32> = reduce_rows(fc, range, |v| max_window_mean(v, w))
                    .into_iter()
                    .filter(|v| v.is_finite())
                    .collect();
                let r = quantile_sorted(&cm, level) as f32;
                *slot = share(&fm, |v| v > r);
            }
        }
    }
    out
}

/// Climate rows `(start × member, lead)` of cell `(y, x)` of `cube` over `starts`.
fn rows_of(cube: &Cube, starts: &[usize], y: usize, x: usize) -> Array2<f32> {
    let (_, nm, nl, _, _) = cube.values.dim();
    let mut rows = Array2::<f32>::from_elem((starts.len() * nm, nl), f32::NAN);
    for (k, &i) in starts.iter().enumerate() {
        for m in 0..nm {
            rows.row_mut(k * nm + m)
                .assign(&cube.values.slice(s![i, m, .., y, x]));
        }
    }
    rows
}

fn check_pair(hindcast: &Cube, forecast: &Cube) -> Result<()> {
    if let Some(why) = hindcast
        .coords
        .spatial
        .first_difference(&forecast.coords.spatial)
    {
        return Err(Error::mismatch(
            "hindcast and forecast grids",
            format!("{why}; regrid one onto the other"),
        ));
    }
    if hindcast.n_lead() != forecast.n_lead()
        || hindcast
            .coords
            .lead
            .iter()
            .zip(&forecast.coords.lead)
            .any(|(a, b)| a != b)
    {
        return Err(Error::mismatch(
            "hindcast and forecast leads",
            format!(
                "the hindcast has {} leads from {}, the forecast {} from {}; the M-climate needs \
                 the forecast's leads",
                hindcast.n_lead(),
                hindcast
                    .coords
                    .lead
                    .first()
                    .map(|l| l.label())
                    .unwrap_or_default(),
                forecast.n_lead(),
                forecast
                    .coords
                    .lead
                    .first()
                    .map(|l| l.label())
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// The extremes products of the forecast start `start` (an index into `forecast`'s starts)
/// against the M-climate of `hindcast` (the forecast's own year left out).
pub fn extremes_forecast(
    hindcast: &Cube,
    forecast: &Cube,
    start: usize,
    spec: &ExtremesSpec,
) -> Result<ExtremesForecast> {
    check_pair(hindcast, forecast)?;
    let ranges = period_ranges(forecast, &spec.periods)?;
    let init = *forecast.coords.init.get(start).ok_or_else(|| {
        Error::invalid(
            "forecast start",
            format!("index {start} of {}", forecast.n_init()),
        )
    })?;
    let cal = forecast.meta.calendar;
    let starts = m_climate_starts(
        &hindcast.coords.init,
        &init,
        cal,
        spec.half_window_days,
        &[init.year],
    )?;
    let size = starts.len() * hindcast.n_member();
    if size < MIN_M_CLIMATE_SAMPLE {
        return Err(Error::invalid(
            "model climate",
            format!(
                "{} hindcast starts × {} members = {size} values a lead within ±{} days of {}; \
                 at least {MIN_M_CLIMATE_SAMPLE} are needed for the 95th and 99th percentiles \
                 (give more hindcast years or starts, or widen the window)",
                starts.len(),
                hindcast.n_member(),
                spec.half_window_days,
                init.date_label()
            ),
        ));
    }
    let (ny, nx) = forecast.coords.spatial.shape();
    let cells: Vec<Vec<CellPeriod>> = (0..ny * nx)
        .into_par_iter()
        .map(|cell| {
            let (y, x) = (cell / nx, cell % nx);
            let clim = rows_of(hindcast, &starts, y, x);
            let fc = forecast.values.slice(s![start, .., .., y, x]);
            cell_periods(clim.view(), fc, &ranges, spec)
        })
        .collect();
    let np = ranges.len();
    let field = |get: &dyn Fn(&CellPeriod) -> f32| {
        Array3::from_shape_fn((np, ny, nx), |(p, y, x)| get(&cells[y * nx + x][p]))
    };
    let units = forecast.meta.units.clone();
    let mut fields = vec![
        ExtremeField {
            name: "efi",
            long_name: "Extreme Forecast Index of the period mean against the model climate".into(),
            units: "1".into(),
            values: field(&|c| c.efi),
        },
        ExtremeField {
            name: "sot_upper",
            long_name: "Shift of Tails of the upper tail (forecast q90 beyond the climate q99)"
                .into(),
            units: "1".into(),
            values: field(&|c| c.sot_upper),
        },
        ExtremeField {
            name: "sot_lower",
            long_name: "Shift of Tails of the lower tail (forecast q10 beyond the climate q1)"
                .into(),
            units: "1".into(),
            values: field(&|c| c.sot_lower),
        },
        ExtremeField {
            name: "prob_above_p90",
            long_name: "probability of the period mean above the model climate's 90th percentile"
                .into(),
            units: "1".into(),
            values: field(&|c| c.above[0]),
        },
        ExtremeField {
            name: "prob_above_p95",
            long_name: "probability of the period mean above the model climate's 95th percentile"
                .into(),
            units: "1".into(),
            values: field(&|c| c.above[1]),
        },
        ExtremeField {
            name: "prob_below_p10",
            long_name: "probability of the period mean below the model climate's 10th percentile"
                .into(),
            units: "1".into(),
            values: field(&|c| c.below_p10),
        },
        ExtremeField {
            name: "prob_lower_tercile",
            long_name: "probability of the period mean below the model climate's lower tercile"
                .into(),
            units: "1".into(),
            values: field(&|c| c.terciles[0]),
        },
        ExtremeField {
            name: "prob_upper_tercile",
            long_name: "probability of the period mean above the model climate's upper tercile"
                .into(),
            units: "1".into(),
            values: field(&|c| c.terciles[1]),
        },
        ExtremeField {
            name: "anomaly",
            long_name: "ensemble-mean anomaly of the period mean from the model climate".into(),
            units: if spec.variable == ExtremeVariable::Temperature {
                units.replace("degC", "K").replace("°C", "K")
            } else {
                units.clone()
            },
            values: field(&|c| c.anomaly),
        },
    ];
    let n = spec.spell_min_days;
    match spec.variable {
        ExtremeVariable::Temperature => {
            let words = [
                ("heat", "hot", "above the 90th"),
                ("cold", "cold", "below the 10th"),
            ];
            let names = [
                [
                    "prob_heat_wave",
                    "clim_heat_wave",
                    "prob_hot_days_above_normal",
                ],
                [
                    "prob_cold_wave",
                    "clim_cold_wave",
                    "prob_cold_days_above_normal",
                ],
            ];
            for (k, ((wave, day, side), [pn, cn, dn])) in words.iter().zip(names).enumerate() {
                fields.push(ExtremeField {
                    name: pn,
                    long_name: format!("probability of a {wave} wave ({n} or more consecutive days {side} percentile of the model climate of the lead) with a day in the period"),
                    units: "1".into(),
                    values: field(&|c| c.wave[k]),
                });
                fields.push(ExtremeField {
                    name: cn,
                    long_name: format!("climatological probability of a {wave} wave with a day in the period (share of the model climate's cases)"),
                    units: "1".into(),
                    values: field(&|c| c.wave_climate[k]),
                });
                fields.push(ExtremeField {
                    name: dn,
                    long_name: format!("probability of more {day} days in the period than the model climate's mean number"),
                    units: "1".into(),
                    values: field(&|c| c.many_days[k]),
                });
            }
        }
        ExtremeVariable::Precipitation => {
            let t = spec.return_period;
            fields.push(ExtremeField {
                name: "prob_rx1day_extreme",
                long_name: format!("probability of the wettest day of the period above the model climate's 1-in-{t} level"),
                units: "1".into(),
                values: field(&|c| c.rx1),
            });
            fields.push(ExtremeField {
                name: "prob_rx5day_extreme",
                long_name: format!("probability of the wettest 5 days of the period above the model climate's 1-in-{t} level"),
                units: "1".into(),
                values: field(&|c| c.rx5),
            });
        }
    }
    Ok(ExtremesForecast {
        periods: ranges
            .iter()
            .map(|r| Lead::days(forecast.coords.lead[r.start].start, r.len() as f64))
            .collect(),
        m_climate_starts: starts.len(),
        m_climate_size: size,
        fields,
    })
}

/// Verification of one event in one period.
#[derive(Debug, Clone, Serialize)]
pub struct EventScore {
    /// Target period label ("week 1").
    pub period: String,
    /// Event name (`above_p90`, `heat_wave`, `cold_wave`, `rx1day_extreme`).
    pub event: String,
    /// Forecast cases (starts × cells with an observation).
    pub cases: usize,
    /// Observed frequency of the event.
    pub base_rate: f64,
    /// Brier score of the forecast probabilities.
    pub brier: f64,
    /// Brier skill score against the base rate: `1 − BS / (ō(1 − ō))`.
    pub brier_skill_score: f64,
    /// ROC area.
    pub roc_area: f64,
    /// Reliability-diagram data in [`EVENT_RELIABILITY_BINS`] equal probability bins (every
    /// case weighted alike).
    pub reliability: Vec<crate::verify::ReliabilityBin>,
    /// Slope of the reliability diagram ([`crate::verify::reliability_slope`]): 1 reliable,
    /// below 1 overconfident.
    pub reliability_slope: f64,
    /// ROC curve, one point per distinct forecast probability.
    pub roc: crate::verify::RocCurve,
}

/// Probability bins of the extremes' reliability diagrams: ten, as for the terciles, so that
/// an ensemble of 10–50 members has its possible probabilities spread over the bins.
pub const EVENT_RELIABILITY_BINS: usize = 10;

fn events_of(p: &CellPeriod, variable: ExtremeVariable) -> CellEvents {
    CellEvents {
        above_p90: p.above[0],
        upper_wave: if variable == ExtremeVariable::Temperature {
            p.wave[0]
        } else {
            f32::NAN
        },
        lower_wave: if variable == ExtremeVariable::Temperature {
            p.wave[1]
        } else {
            f32::NAN
        },
        rx1: p.rx1,
    }
}

/// Cross-validated verification of the extremes products around the forecast start `start`
/// (see the module doc). `observed` is the observations aligned to the hindcast's starts and
/// leads (one member, [`crate::cube::align_observations`]).
pub fn verify_extremes(
    hindcast: &Cube,
    observed: &Cube,
    start: &crate::calendar::CfDateTime,
    spec: &ExtremesSpec,
) -> Result<Vec<EventScore>> {
    if observed.values.dim().0 != hindcast.n_init()
        || observed.n_lead() != hindcast.n_lead()
        || observed.coords.spatial.shape() != hindcast.coords.spatial.shape()
    {
        return Err(Error::mismatch(
            "observations and hindcast",
            "the observations are not aligned to the hindcast's starts, leads and grid",
        ));
    }
    let ranges = period_ranges(hindcast, &spec.periods)?;
    let cal = hindcast.meta.calendar;
    let window = m_climate_starts(
        &hindcast.coords.init,
        start,
        cal,
        spec.half_window_days,
        &[],
    )?;
    let mut years: Vec<i32> = window
        .iter()
        .map(|&i| hindcast.coords.init[i].year)
        .collect();
    years.dedup();
    let (ny, nx) = hindcast.coords.spatial.shape();
    // (period, event) → (probability, outcome) pairs.
    type Pairs = Vec<Vec<(Vec<f64>, Vec<bool>)>>;
    let names = ["above_p90", "heat_wave", "cold_wave", "rx1day_extreme"];
    let collected: Vec<Pairs> = (0..ny * nx)
        .into_par_iter()
        .map(|cell| {
            let (y, x) = (cell / nx, cell % nx);
            let mut pairs: Pairs = vec![vec![(Vec::new(), Vec::new()); names.len()]; ranges.len()];
            for &yr in &years {
                let clim_starts: Vec<usize> = window
                    .iter()
                    .copied()
                    .filter(|&i| hindcast.coords.init[i].year != yr)
                    .collect();
                let cases: Vec<usize> = window
                    .iter()
                    .copied()
                    .filter(|&i| hindcast.coords.init[i].year == yr)
                    .collect();
                let clim = rows_of(hindcast, &clim_starts, y, x);
                let obs_clim = rows_of(observed, &clim_starts, y, x);
                for &i in &cases {
                    let fc = hindcast.values.slice(s![i, .., .., y, x]);
                    let ob = observed.values.slice(s![i, .., .., y, x]);
                    let f = cell_periods(clim.view(), fc, &ranges, spec);
                    let o = cell_periods_observed(obs_clim.view(), ob, &ranges, spec);
                    for p in 0..ranges.len() {
                        let fe = events_of(&f[p], spec.variable);
                        let oe = events_of(&o[p], spec.variable);
                        let list = [
                            (fe.above_p90, oe.above_p90),
                            (fe.upper_wave, oe.upper_wave),
                            (fe.lower_wave, oe.lower_wave),
                            (fe.rx1, oe.rx1),
                        ];
                        for (e, (pf, po)) in list.into_iter().enumerate() {
                            if pf.is_finite() && po.is_finite() {
                                pairs[p][e].0.push(f64::from(pf));
                                pairs[p][e].1.push(po > 0.5);
                            }
                        }
                    }
                }
            }
            pairs
        })
        .collect();
    let mut scores = Vec::new();
    for (p, period) in spec.periods.iter().enumerate() {
        for (e, name) in names.iter().enumerate() {
            let mut prob = Vec::new();
            let mut obs = Vec::new();
            for c in &collected {
                prob.extend_from_slice(&c[p][e].0);
                obs.extend_from_slice(&c[p][e].1);
            }
            if prob.is_empty() {
                continue;
            }
            let b = crate::verify::brier(&prob, &obs, EVENT_RELIABILITY_BINS);
            let weights = vec![1.0; prob.len()];
            let reliability =
                crate::verify::reliability_table(&prob, &obs, &weights, EVENT_RELIABILITY_BINS);
            let rate = obs.iter().filter(|&&o| o).count() as f64 / obs.len() as f64;
            let reference = rate * (1.0 - rate);
            scores.push(EventScore {
                period: period.to_string(),
                event: (*name).to_string(),
                cases: prob.len(),
                base_rate: rate,
                brier: b.score,
                brier_skill_score: if reference > 0.0 {
                    1.0 - b.score / reference
                } else {
                    f64::NAN
                },
                roc_area: crate::verify::roc_area(&prob, &obs),
                reliability_slope: crate::verify::reliability_slope(&reliability),
                reliability,
                roc: crate::verify::roc_curve(&prob, &obs, &weights),
            });
        }
    }
    Ok(scores)
}

/// The observed events of one start as 0/1 values: the observation (one row) against the
/// observed climate of the same starts and leads. The observed climate of a point has one
/// value per start, fewer than [`MIN_M_CLIMATE_SAMPLE`] allows for a forecast, so its size is
/// not checked here (the percentiles of 20–40 values are what observed climates are).
fn cell_periods_observed(
    clim: ArrayView2<f32>,
    ob: ArrayView2<f32>,
    ranges: &[std::ops::Range<usize>],
    spec: &ExtremesSpec,
) -> Vec<CellPeriod> {
    let mut out = Vec::with_capacity(ranges.len());
    let temperature = spec.variable == ExtremeVariable::Temperature;
    let thr_hot = lead_thresholds(clim, HOT_DAY_PERCENTILE);
    let thr_cold = lead_thresholds(clim, 1.0 - HOT_DAY_PERCENTILE);
    let (hot, _) = waves(ob, &thr_hot, SpellKind::Warm, spec.spell_min_days, ranges);
    let (cold, _) = waves(ob, &thr_cold, SpellKind::Cold, spec.spell_min_days, ranges);
    for (p, range) in ranges.iter().enumerate() {
        let mut o = CellPeriod {
            above: [f32::NAN; 2],
            wave: [f32::NAN; 2],
            rx1: f32::NAN,
            ..Default::default()
        };
        let c = sorted_finite(reduce_rows(clim, range, mean).into_iter());
        let f = reduce_rows(ob, range, mean);
        if !c.is_empty() && f[0].is_finite() {
            let q = quantile_sorted(&c, UPPER_LEVELS[0]) as f32;
            o.above[0] = if f[0] > q { 1.0 } else { 0.0 };
        }
        if temperature {
            o.wave = [hot[p], cold[p]];
        } else {
            let cm = sorted_finite(reduce_rows(clim, range, |v| max_window_mean(v, 1)).into_iter());
            let fm = reduce_rows(ob, range, |v| max_window_mean(v, 1));
            if !cm.is_empty() && fm[0].is_finite() {
                let r = quantile_sorted(&cm, 1.0 - 1.0 / spec.return_period) as f32;
                o.rx1 = if fm[0] > r { 1.0 } else { 0.0 };
            }
        }
        out.push(o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, CfDateTime};
    use crate::cube::{Coords, Meta, Spatial};
    use ndarray::Array5;

    /// Deterministic noise in [−1, 1) of a key (the synthetic daily set's).
    fn noise(k: u64) -> f32 {
        crate::synth::daily::noise(0, &[k])
    }

    const LEADS: usize = 28;

    fn cube(
        init: Vec<CfDateTime>,
        members: usize,
        f: impl Fn((usize, usize, usize, usize, usize)) -> f32,
        units: &str,
    ) -> Cube {
        let ni = init.len();
        Cube::new(
            Array5::from_shape_fn((ni, members, LEADS, 1, 2), f),
            Coords {
                init,
                member: (0..members as i32).collect(),
                lead: (0..LEADS).map(|d| Lead::days(d as f64, 1.0)).collect(),
                spatial: Spatial::Grid {
                    lat: vec![10.0],
                    lon: vec![80.0, 81.0],
                },
            },
            Meta::new("m", "tas", units, Calendar::Standard),
        )
        .unwrap()
    }

    /// 20 years × 5 weekly starts around 1 June × 4 members of noise around 20 °C.
    fn hindcast() -> Cube {
        let mut init = Vec::new();
        for y in 2000..2020 {
            for d in [(5, 18), (5, 25), (6, 1), (6, 8), (6, 15)] {
                init.push(CfDateTime::ymd(y, d.0, d.1));
            }
        }
        cube(
            init,
            4,
            |(i, m, l, _, x)| 20.0 + 2.0 * noise((((i * 4 + m) * LEADS + l) * 2 + x) as u64),
            "degC",
        )
    }

    #[test]
    fn planted_heat_wave_found_exactly() {
        let h = hindcast();
        // 10 members at the climate's middle; members 0–3 get +15 K on days 15–19 (leads 14–18),
        // member 4 +15 K on days 15–16 only (too short a run).
        let f = cube(
            vec![CfDateTime::ymd(2021, 6, 1)],
            10,
            |(_, m, l, _, _)| {
                let hot = (m < 4 && (14..19).contains(&l)) || (m == 4 && (14..16).contains(&l));
                if hot {
                    35.0
                } else {
                    20.0
                }
            },
            "degC",
        );
        let spec = ExtremesSpec::weekly(ExtremeVariable::Temperature);
        let out = extremes_forecast(&h, &f, 0, &spec).unwrap();
        assert_eq!(out.m_climate_starts, 100);
        assert_eq!(out.m_climate_size, 400);
        let wave = out.field("prob_heat_wave").unwrap();
        for x in 0..2 {
            assert_eq!(wave[[0, 0, x]], 0.0);
            assert_eq!(wave[[1, 0, x]], 0.0);
            assert_eq!(wave[[2, 0, x]], 0.4);
            assert_eq!(out.field("prob_cold_wave").unwrap()[[2, 0, x]], 0.0);
            // Members 0–4 have more hot days in weeks 3–4 than the climate's mean (~1.4).
            assert_eq!(
                out.field("prob_hot_days_above_normal").unwrap()[[2, 0, x]],
                0.5
            );
            // Weeks 3–4 mean of members 0–3: 20 + 15·5/14 = 25.4, far above the climate's
            // q95 of 14-day means of noise (≈ 20.5); member 4: 22.1, also above.
            assert_eq!(out.field("prob_above_p95").unwrap()[[2, 0, x]], 0.5);
            // The other members sit at 20 °C, inside the climate's middle tercile of 14-day
            // means: no member in the lower tercile, 5 of 10 in the upper one.
            assert_eq!(out.field("prob_lower_tercile").unwrap()[[2, 0, x]], 0.0);
            assert_eq!(out.field("prob_upper_tercile").unwrap()[[2, 0, x]], 0.5);
            let clim = out.field("clim_heat_wave").unwrap()[[2, 0, x]];
            assert!(clim > 0.0 && clim < 0.3, "{clim}");
            let efi = out.field("efi").unwrap();
            assert!(
                efi[[2, 0, x]] > 0.3 && efi[[0, 0, x]].abs() < 0.2,
                "{efi:?}"
            );
        }
        assert_eq!(out.periods[2].label(), "weeks 3–4");
    }

    #[test]
    fn heavy_rain_rx_probabilities() {
        let mut h = hindcast();
        h.values.mapv_inplace(|v| (v - 18.0).max(0.0));
        h.meta.units = "mm/day".into();
        // Members 0–2 get one 100 mm day on day 3 (week 1), member 3 five 30 mm days on days
        // 8–12 (week 2).
        let f = cube(
            vec![CfDateTime::ymd(2021, 6, 1)],
            6,
            |(_, m, l, _, _)| match (m, l) {
                (0..=2, 2) => 100.0,
                (3, 7..=11) => 30.0,
                _ => 1.0,
            },
            "mm/day",
        );
        let spec = ExtremesSpec::weekly(ExtremeVariable::Precipitation);
        let out = extremes_forecast(&h, &f, 0, &spec).unwrap();
        let rx1 = out.field("prob_rx1day_extreme").unwrap();
        let rx5 = out.field("prob_rx5day_extreme").unwrap();
        assert_eq!(rx1[[0, 0, 0]], 0.5);
        assert_eq!(rx1[[1, 0, 0]], 1.0 / 6.0);
        assert_eq!(rx5[[1, 0, 0]], 1.0 / 6.0);
        // 100 mm on one day is 20 mm/day over five days: above the climate's 1-in-10 level too.
        assert_eq!(rx5[[0, 0, 0]], 0.5);
        assert!(out.field("prob_heat_wave").is_none());
    }

    #[test]
    fn bad_inputs_are_refused_with_reasons() {
        let h = hindcast();
        let f = cube(vec![CfDateTime::ymd(2021, 12, 1)], 3, |_| 20.0, "degC");
        let spec = ExtremesSpec::weekly(ExtremeVariable::Temperature);
        let e = extremes_forecast(&h, &f, 0, &spec).unwrap_err().to_string();
        assert!(
            e.contains("no hindcast start within ±14 days of 2021-12-01"),
            "{e}"
        );
        let mut short = f.select_leads(&(0..10).collect::<Vec<_>>()).unwrap();
        short.coords.init = vec![CfDateTime::ymd(2021, 6, 1)];
        let e = extremes_forecast(&h, &short, 0, &spec)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the M-climate needs the forecast's leads"),
            "{e}"
        );
        let few = h.select_inits(&(0..20).collect::<Vec<_>>()).unwrap();
        let f = cube(vec![CfDateTime::ymd(2021, 6, 1)], 3, |_| 20.0, "degC");
        let e = extremes_forecast(&few, &f, 0, &spec)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 100 are needed"), "{e}");
    }

    #[test]
    fn perfect_hindcast_verifies_perfectly() {
        // Observations equal to member 0 of each hindcast start, and a hindcast whose members
        // all equal member 0: every event is forecast with probability 0 or 1 and right.
        let mut h = hindcast();
        let m0 = h.values.slice(s![.., 0..1, .., .., ..]).to_owned();
        for m in 0..h.n_member() {
            h.values.slice_mut(s![.., m..m + 1, .., .., ..]).assign(&m0);
        }
        let mut obs = h.select_leads(&(0..LEADS).collect::<Vec<_>>()).unwrap();
        obs.values = m0;
        obs.coords.member = vec![0];
        let spec = ExtremesSpec::weekly(ExtremeVariable::Temperature);
        let scores = verify_extremes(&h, &obs, &CfDateTime::ymd(2021, 6, 1), &spec).unwrap();
        assert_eq!(scores.len(), 9);
        for s in &scores {
            assert_eq!(s.cases, 200, "{s:?}");
            assert!(s.brier < 0.02, "{s:?}");
            // The model's climate repeats each value 4 times, the observed one not: their
            // quantiles interpolate differently, so an event right at the threshold can differ;
            // with 5 or more events the ROC area shows the match.
            if s.base_rate * s.cases as f64 >= 5.0 {
                assert!(s.roc_area > 0.95, "{s:?}");
                // the trapezoidal area of the curve is the Mann–Whitney area
                assert!((s.roc.area - s.roc_area).abs() < 1e-12, "{s:?}");
            }
            // probabilities 0 and 1 only: two bins used, the first and the last, holding
            // every case; the events sit in the last
            let used: Vec<_> = s.reliability.iter().filter(|b| b.count > 0).collect();
            assert_eq!(s.reliability.iter().map(|b| b.count).sum::<usize>(), 200);
            assert!(used.len() <= 2, "{s:?}");
            assert_eq!(used[0].lower, 0.0);
            let events = s.base_rate * 200.0;
            let in_last = used.last().unwrap();
            if used.len() == 2 {
                assert_eq!(in_last.upper, 1.0);
                assert!((in_last.count as f64 - events).abs() <= 2.0, "{s:?}");
                assert!(s.reliability_slope > 0.9, "{s:?}");
            }
        }
    }
}
