//! Forecast SPI and the drought outlook: SPI classes, their ensemble probabilities, the most
//! likely class, and what the forecast means for a drought already under way.
//!
//! # Forecast SPI
//! Two ways, both standardised with distributions fitted to *observations* (so a forecast SPI of
//! −1.5 means what an observed −1.5 means):
//! - [`forecast_spi`] (monthly leads): for each member, the k-month window ending at each target
//!   month takes the observed months before the forecast start and the member's forecast months
//!   after it (the NOAA CPC / ICPAC way of "appending the forecast to the observed history");
//!   the SPI uses the calendar month's gamma fitted on the observed record
//!   ([`super::spi`]).
//! - [`target_period_spi`] (seasonal leads such as JJAS): the forecast total of the target
//!   period is standardised against a gamma fitted to the observed totals of the same period
//!   in the hindcast years — the SPI at the period's own scale.
//!
//! # Probabilities
//! [`drought_outlook`] counts weighted members per SPI class ([`SPI_CLASSES`]: McKee et al.
//! 1993, WMO-No. 1090): `P(c) = Σ_m w_m 1[SPI_m ∈ c] / Σ_m w_m` over members with a value.
//! [`gaussian_spi_outlook`] does the same for a Gaussian forecast (the PMME of
//! [`crate::ensemble`]) placed on the SPI scale: `SPI ~ N(Φ⁻¹(H(μ)), σ²)` with σ the hindcast
//! error of the transformed means, `P(SPI ≤ s) = Φ((s − μ_SPI)/σ)`.
//!
//! # Tendency of a drought under way
//! Where the latest observed SPI is ≤ −1: the forecast **ends** it when `P(SPI > −1) ≥ 0.5`,
//! **deepens** it when the ensemble median SPI is below the observed one, and otherwise it
//! **persists** ([`DroughtTendency`]).

use ndarray::{Array3, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayView5, Axis, Zip};
use rayon::prelude::*;

use super::spi::{
    accumulate, calibration_years, fit_calendar_months, MonthlyAxis, SpiSpec, ZeroInflatedGamma,
};
use crate::error::{Error, Result};
use crate::stats::standard_normal_cdf;

/// One SPI class: a name and its interval. Dry classes include their upper limit
/// (SPI = −1 is moderately dry), wet classes their lower limit (SPI = 1 is moderately wet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpiClass {
    /// Snake-case name (`moderately_dry`, …), used as the NetCDF category label.
    pub name: &'static str,
    /// Lower limit (−∞ for the driest class).
    pub lower: f32,
    /// Upper limit (+∞ for the wettest class).
    pub upper: f32,
}

/// The seven SPI classes from driest to wettest (McKee et al. 1993; WMO-No. 1090).
pub const SPI_CLASSES: [SpiClass; 7] = [
    SpiClass {
        name: "extremely_dry",
        lower: f32::NEG_INFINITY,
        upper: -2.0,
    },
    SpiClass {
        name: "severely_dry",
        lower: -2.0,
        upper: -1.5,
    },
    SpiClass {
        name: "moderately_dry",
        lower: -1.5,
        upper: -1.0,
    },
    SpiClass {
        name: "near_normal",
        lower: -1.0,
        upper: 1.0,
    },
    SpiClass {
        name: "moderately_wet",
        lower: 1.0,
        upper: 1.5,
    },
    SpiClass {
        name: "severely_wet",
        lower: 1.5,
        upper: 2.0,
    },
    SpiClass {
        name: "extremely_wet",
        lower: 2.0,
        upper: f32::INFINITY,
    },
];

/// `Φ(−1)`: the climatological probability of moderate-or-worse drought, and the largest
/// probability of a dry period for which SPI ≤ −1 can occur at all.
pub const PROB_SPI_BELOW_MINUS_ONE: f64 = 0.158_655_253_931_457;

/// Index of the class near normal.
pub const NEAR_NORMAL: usize = 3;

/// The inner class limits, driest first: −2, −1.5, −1, 1, 1.5, 2.
pub const SPI_LIMITS: [f32; 6] = [-2.0, -1.5, -1.0, 1.0, 1.5, 2.0];

/// Class of an SPI value (index into [`SPI_CLASSES`]); `None` for NaN.
#[inline]
pub fn spi_class(spi: f32) -> Option<usize> {
    if spi.is_nan() {
        return None;
    }
    // Dry side: SPI ≤ limit belongs below it; wet side: SPI ≥ limit belongs above it.
    Some(if spi <= -1.0 {
        SPI_LIMITS[..3].iter().filter(|&&l| spi > l).count()
    } else if spi < 1.0 {
        NEAR_NORMAL
    } else {
        NEAR_NORMAL + SPI_LIMITS[3..].iter().filter(|&&l| spi >= l).count()
    })
}

/// What the forecast means for the drought at the forecast start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum DroughtTendency {
    /// The latest observed SPI is above −1.
    NoDrought = 0,
    /// In drought now; `P(SPI > −1) ≥ 0.5` in the target period.
    Ends = 1,
    /// In drought now and likely still in drought, not deeper than now.
    Persists = 2,
    /// In drought now and the median forecast SPI is below the observed one.
    Deepens = 3,
}

/// Fill value of the tendency where it is unknown (no observed SPI or no forecast).
pub const TENDENCY_FILL: i8 = -127;

impl DroughtTendency {
    /// All tendencies in flag order.
    pub const ALL: [DroughtTendency; 4] = [
        DroughtTendency::NoDrought,
        DroughtTendency::Ends,
        DroughtTendency::Persists,
        DroughtTendency::Deepens,
    ];

    /// CF `flag_meanings` word.
    pub fn name(self) -> &'static str {
        match self {
            DroughtTendency::NoDrought => "no_drought_now",
            DroughtTendency::Ends => "drought_ends",
            DroughtTendency::Persists => "drought_persists",
            DroughtTendency::Deepens => "drought_deepens",
        }
    }

    /// The tendency from the observed SPI now, the forecast probability of SPI ≤ −1 and the
    /// forecast median SPI; `None` when something is missing.
    pub fn classify(observed_now: f32, prob_drought: f32, median: f32) -> Option<Self> {
        if observed_now.is_nan() {
            return None;
        }
        if observed_now > -1.0 {
            return Some(DroughtTendency::NoDrought);
        }
        if prob_drought.is_nan() {
            return None;
        }
        Some(if prob_drought <= 0.5 {
            DroughtTendency::Ends
        } else if median < observed_now {
            DroughtTendency::Deepens
        } else {
            DroughtTendency::Persists
        })
    }
}

/// Monthly forecast SPI inputs.
#[derive(Debug, Clone)]
pub struct ForecastSpiInput<'a> {
    /// Observed monthly precipitation `(time, y, x)` on `history_axis`: the calibration record
    /// and the months just before the forecast start.
    pub history: ArrayView3<'a, f32>,
    /// Months of `history`.
    pub history_axis: MonthlyAxis,
    /// Forecast monthly precipitation `(member, lead, y, x)`, in the units of `history`;
    /// members of all models one after the other; leads are consecutive months.
    pub members: ArrayView4<'a, f32>,
    /// Year and month (1–12) of lead 0.
    pub first_target: (i32, u32),
}

/// SPI of each member and monthly lead `(member, lead, y, x)`: the k-month window ending at
/// the lead's month, observed months before the start and forecast months after it,
/// standardised with the calendar month's distribution fitted on the observed record.
///
/// Errors when the observed record does not reach the month before the forecast start while
/// the scale needs it, or when the grids differ.
pub fn forecast_spi(input: &ForecastSpiInput<'_>, spec: &SpiSpec) -> Result<Array4<f32>> {
    let (nt, ny, nx) = input.history.dim();
    let (nm, nl, fy, fx) = input.members.dim();
    let axis = input.history_axis;
    if nt != axis.len {
        return Err(Error::Mismatch {
            what: "observed precipitation and its monthly axis".into(),
            reason: format!("{nt} time steps, {} months", axis.len),
        });
    }
    if (ny, nx) != (fy, fx) {
        return Err(Error::Mismatch {
            what: "observed and forecast grids".into(),
            reason: format!("observations {ny} × {nx}, forecast {fy} × {fx}; regrid first"),
        });
    }
    if spec.scale_months == 0 {
        return Err(Error::InvalidArgument {
            what: "SPI scale".into(),
            reason: "0 months".into(),
        });
    }
    let calibration = calibration_years(&axis, spec.calibration)?;
    let (year, month) = input.first_target;
    let start = axis.index_of(year, month);
    let needed_back = (spec.scale_months - 1) as i64;
    if needed_back > 0 && (start - needed_back < 0 || start > nt as i64) {
        let (ly, lm) = (axis.year(nt - 1), axis.calendar_month(nt - 1) + 1);
        return Err(Error::InvalidArgument {
            what: "observed record".into(),
            reason: format!(
                "it covers {}-{:02} .. {ly}-{lm:02}; SPI-{} of a forecast starting {year}-{month:02} needs the {} observed months before it",
                axis.first_year, axis.first_month, spec.scale_months, needed_back
            ),
        });
    }
    let target_month = |l: usize| ((month as usize - 1) + l) % 12;
    let mut out = Array4::from_elem((nm, nl, ny, nx), f32::NAN);
    out.axis_iter_mut(Axis(2))
        .into_par_iter()
        .zip(input.history.axis_iter(Axis(1)).into_par_iter())
        .zip(input.members.axis_iter(Axis(2)).into_par_iter())
        .for_each_init(
            || vec![0.0f64; nt],
            |sums, ((mut out_row, hist_row), member_row)| {
                for i in 0..nx {
                    accumulate(hist_row.column(i), spec.scale_months, sums);
                    let fit = fit_calendar_months(sums, &axis, calibration, spec);
                    for l in 0..nl {
                        let Some(dist) = &fit[target_month(l)] else {
                            continue;
                        };
                        // Observed part of the window: the months before the start.
                        let from_obs = spec.scale_months.saturating_sub(l + 1);
                        let observed: f64 = (0..from_obs)
                            .map(|j| f64::from(hist_row[[(start - 1 - j as i64) as usize, i]]))
                            .sum();
                        let first_lead = (l + 1).saturating_sub(spec.scale_months);
                        for m in 0..nm {
                            let forecast: f64 = (first_lead..=l)
                                .map(|k| f64::from(member_row[[m, k, i]]))
                                .sum();
                            out_row[[m, l, i]] = dist.spi(observed + forecast);
                        }
                    }
                }
            },
        );
    Ok(out)
}

/// The climatology of each target period and cell: a zero-inflated gamma fitted, per
/// `(lead, y, x)`, to a sample `(sample, lead, y, x)` of period totals — the observed totals of
/// the hindcast years, or a model's hindcast members × years.
pub fn fit_period_climatology(
    sample: ArrayView4<'_, f32>,
    spec: &SpiSpec,
) -> Array3<Option<ZeroInflatedGamma>> {
    let (_, nl, ny, nx) = sample.dim();
    let mut fits = Array3::from_elem((nl, ny, nx), None);
    Zip::from(&mut fits)
        .and(sample.lanes(Axis(0)))
        .par_for_each(|fit, values| {
            let mut sums = super::spi::CalibrationSums::default();
            values.iter().for_each(|&x| sums.push(f64::from(x)));
            *fit = spec.fit_sums(&sums);
        });
    fits
}

/// SPI of period totals `(member, lead, y, x)` against per-`(lead, y, x)` climatologies; NaN
/// where a cell has no fitted climatology.
pub fn standardize_periods(
    values: ArrayView4<'_, f32>,
    fits: &Array3<Option<ZeroInflatedGamma>>,
) -> Result<Array4<f32>> {
    let (nm, nl, ny, nx) = values.dim();
    if (nl, ny, nx) != fits.dim() {
        return Err(Error::Mismatch {
            what: "forecast periods and their climatology".into(),
            reason: format!("forecast {:?}, climatology {:?}", (nl, ny, nx), fits.dim()),
        });
    }
    let mut out = Array4::from_elem((nm, nl, ny, nx), f32::NAN);
    for m in 0..nm {
        Zip::from(out.index_axis_mut(Axis(0), m))
            .and(values.index_axis(Axis(0), m))
            .and(fits)
            .par_for_each(|o, &x, fit| {
                if let Some(d) = fit {
                    *o = d.spi(f64::from(x));
                }
            });
    }
    Ok(out)
}

/// SPI of forecast target-period totals `(member, lead, y, x)` against a distribution fitted,
/// per lead and cell, to the observed totals of the same period `(year, lead, y, x)`.
/// Also returns the fitted distributions `(lead, y, x)`.
pub fn target_period_spi(
    observed: ArrayView4<'_, f32>,
    members: ArrayView4<'_, f32>,
    spec: &SpiSpec,
) -> Result<(Array4<f32>, Array3<Option<ZeroInflatedGamma>>)> {
    let fits = fit_period_climatology(observed, spec);
    let spi = standardize_periods(members, &fits)?;
    Ok((spi, fits))
}

/// The drought outlook of a multi-model ensemble of target-period totals, each model's members
/// standardised against **its own** hindcast climatology (members × years pooled per lead and
/// cell), so that a model's bias does not read as drought; models weigh equally whatever their
/// member counts. `hindcasts[k]` is `(init, member, lead, y, x)`, `forecasts[k]` is
/// `(member, lead, y, x)` of one start.
pub fn model_climatology_outlook(
    hindcasts: &[ArrayView5<'_, f32>],
    forecasts: &[ArrayView4<'_, f32>],
    spec: &SpiSpec,
) -> Result<DroughtOutlook> {
    if hindcasts.is_empty() || hindcasts.len() != forecasts.len() {
        return Err(Error::Mismatch {
            what: "hindcasts and forecasts".into(),
            reason: format!(
                "{} hindcasts, {} forecasts",
                hindcasts.len(),
                forecasts.len()
            ),
        });
    }
    let mut spis = Vec::with_capacity(forecasts.len());
    let mut weights = Vec::new();
    let n_models = forecasts.len() as f64;
    for (h, f) in hindcasts.iter().zip(forecasts) {
        let (ni, nm, nl, ny, nx) = h.dim();
        let pooled = h
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((ni * nm, nl, ny, nx))
            .map_err(|e| Error::invalid("hindcast", e.to_string()))?;
        let fits = fit_period_climatology(pooled.view(), spec);
        let spi = standardize_periods(f.view(), &fits)?;
        let members = spi.dim().0;
        weights.extend(std::iter::repeat(1.0 / (n_models * members as f64)).take(members));
        spis.push(spi);
    }
    let views: Vec<ArrayView4<'_, f32>> = spis.iter().map(|a| a.view()).collect();
    let all = ndarray::concatenate(Axis(0), &views).map_err(|e| Error::Mismatch {
        what: "model grids and leads".into(),
        reason: e.to_string(),
    })?;
    drought_outlook(all.view(), &weights, None)
}

/// The drought outlook of an ensemble on `(lead, y, x)`.
#[derive(Debug, Clone)]
pub struct DroughtOutlook {
    /// Probability of each SPI class `(class, lead, y, x)`, classes as [`SPI_CLASSES`]; sums to
    /// 1 where defined, NaN where no member has an SPI.
    pub class_probability: Array4<f32>,
    /// `P(SPI ≤ −1)`, `P(SPI ≤ −1.5)`, `P(SPI ≤ −2)`: `(3, lead, y, x)`.
    pub drought_probability: Array4<f32>,
    /// `P(SPI ≥ 1)`, `P(SPI ≥ 1.5)`, `P(SPI ≥ 2)`: `(3, lead, y, x)`.
    pub wet_probability: Array4<f32>,
    /// Weighted ensemble median SPI `(lead, y, x)`.
    pub median_spi: Array3<f32>,
    /// Most likely class (index into [`SPI_CLASSES`]), −1 where undefined.
    pub most_likely_class: Array3<i8>,
    /// [`DroughtTendency`] as i8, [`TENDENCY_FILL`] where unknown; only with an observed SPI.
    pub tendency: Option<Array3<i8>>,
}

impl DroughtOutlook {
    /// The outlooks of consecutive leads as one outlook: every field joined along its lead
    /// axis (each lead's outlook depends on that lead alone, so a run can make them lead by
    /// lead). An error for no part, parts on other grids, or a tendency in some parts only.
    pub fn concat_leads(parts: &[DroughtOutlook]) -> Result<DroughtOutlook> {
        let bad = |reason: String| Error::Mismatch {
            what: "drought outlooks of the leads".into(),
            reason,
        };
        if parts.is_empty() {
            return Err(bad("no lead given".into()));
        }
        fn join<D: ndarray::RemoveAxis, T: Clone>(
            axis: usize,
            fields: Vec<ndarray::ArrayView<'_, T, D>>,
        ) -> std::result::Result<ndarray::Array<T, D>, ndarray::ShapeError> {
            ndarray::concatenate(Axis(axis), &fields)
        }
        let err = |e: ndarray::ShapeError| bad(e.to_string());
        let tendency = match parts.iter().filter(|p| p.tendency.is_some()).count() {
            0 => None,
            n if n == parts.len() => Some(
                join(
                    0,
                    parts
                        .iter()
                        .filter_map(|p| p.tendency.as_ref().map(|t| t.view()))
                        .collect(),
                )
                .map_err(err)?,
            ),
            _ => return Err(bad("a drought tendency for some leads only".into())),
        };
        Ok(DroughtOutlook {
            class_probability: join(
                1,
                parts.iter().map(|p| p.class_probability.view()).collect(),
            )
            .map_err(err)?,
            drought_probability: join(
                1,
                parts.iter().map(|p| p.drought_probability.view()).collect(),
            )
            .map_err(err)?,
            wet_probability: join(1, parts.iter().map(|p| p.wet_probability.view()).collect())
                .map_err(err)?,
            median_spi: join(0, parts.iter().map(|p| p.median_spi.view()).collect())
                .map_err(err)?,
            most_likely_class: join(
                0,
                parts.iter().map(|p| p.most_likely_class.view()).collect(),
            )
            .map_err(err)?,
            tendency,
        })
    }
}

/// The outlook from member SPIs `(member, lead, y, x)` with one weight per member (e.g.
/// 1/(M·n_model) for model-equal weighting); `observed_now` is the latest observed SPI at the
/// same scale `(y, x)`.
pub fn drought_outlook(
    spi: ArrayView4<'_, f32>,
    member_weights: &[f64],
    observed_now: Option<ArrayView2<'_, f32>>,
) -> Result<DroughtOutlook> {
    let (nm, nl, ny, nx) = spi.dim();
    if member_weights.len() != nm {
        return Err(Error::Mismatch {
            what: "members and member weights".into(),
            reason: format!("{nm} members, {} weights", member_weights.len()),
        });
    }
    if member_weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(Error::InvalidArgument {
            what: "member weights".into(),
            reason: "weights must be finite and ≥ 0".into(),
        });
    }
    let mut probs = Array4::from_elem((SPI_CLASSES.len(), nl, ny, nx), f32::NAN);
    let mut median = Array3::from_elem((nl, ny, nx), f32::NAN);
    Zip::from(probs.lanes_mut(Axis(0)))
        .and(&mut median)
        .and(spi.lanes(Axis(0)))
        .par_for_each(|mut p, med, values| {
            let mut counts = [0.0f64; 7];
            let mut total = 0.0;
            for (v, &w) in values.iter().zip(member_weights) {
                if let Some(c) = spi_class(*v) {
                    counts[c] += w;
                    total += w;
                }
            }
            if total > 0.0 {
                for (pc, c) in p.iter_mut().zip(counts) {
                    *pc = (c / total) as f32;
                }
                *med = weighted_median(values.iter().copied(), member_weights, total);
            }
        });
    Ok(assemble_outlook(probs, median, observed_now))
}

/// The drought outlook of a Gaussian forecast (PMME) made in SPI space.
///
/// Precipitation totals are skewed and bounded by zero, so the Gaussian is placed on the
/// normal scores instead: with `H` the observed zero-inflated gamma of the period (fitted on
/// `observed`, `(year, lead, y, x)`), the forecast SPI is `N(Φ⁻¹(H(μ)), σ²)` where `μ` is the
/// forecast's best estimate of the total and `σ² = mean_y (Φ⁻¹H(μ_y) − Φ⁻¹H(o_y))²` is the
/// hindcast error of the same transform (`hindcast_mean`, `(year, lead, y, x)`, should be
/// cross-validated). `P(SPI ≤ s) = Φ((s − μ_SPI)/σ)`. Without skill σ → 1 and the
/// probabilities return to climatology (15.9 % for SPI ≤ −1).
pub fn gaussian_spi_outlook(
    observed: ArrayView4<'_, f32>,
    hindcast_mean: ArrayView4<'_, f32>,
    forecast_mean: ArrayView3<'_, f32>,
    spec: &SpiSpec,
) -> Result<DroughtOutlook> {
    if observed.dim() != hindcast_mean.dim() || observed.dim().1 != forecast_mean.dim().0 {
        return Err(Error::Mismatch {
            what: "observations, hindcast and forecast means".into(),
            reason: format!(
                "{:?}, {:?}, {:?}",
                observed.dim(),
                hindcast_mean.dim(),
                forecast_mean.dim()
            ),
        });
    }
    let fits = fit_period_climatology(observed, spec);
    let (_, nl, ny, nx) = observed.dim();
    let mut probs = Array4::from_elem((SPI_CLASSES.len(), nl, ny, nx), f32::NAN);
    let mut median = Array3::from_elem((nl, ny, nx), f32::NAN);
    Zip::from(probs.lanes_mut(Axis(0)))
        .and(&mut median)
        .and(&forecast_mean)
        .and(&fits)
        .and(observed.lanes(Axis(0)))
        .and(hindcast_mean.lanes(Axis(0)))
        .par_for_each(|mut p, med, &mu, fit, obs, hind| {
            let Some(d) = fit else { return };
            let (mut sse, mut n) = (0.0f64, 0usize);
            for (&o, &h) in obs.iter().zip(hind.iter()) {
                let e = f64::from(d.spi(f64::from(h))) - f64::from(d.spi(f64::from(o)));
                if e.is_finite() {
                    sse += e * e;
                    n += 1;
                }
            }
            let centre = f64::from(d.spi(f64::from(mu)));
            if n < 2 || !centre.is_finite() || sse <= 0.0 {
                return;
            }
            let sigma = (sse / n as f64).sqrt();
            let mut prev = 0.0;
            for (c, pc) in p.iter_mut().enumerate() {
                let below = SPI_LIMITS.get(c).map_or(1.0, |&s| {
                    standard_normal_cdf((f64::from(s) - centre) / sigma)
                });
                *pc = (below - prev).max(0.0) as f32;
                prev = below;
            }
            *med = centre as f32;
        });
    Ok(assemble_outlook(probs, median, None))
}

fn weighted_median(values: impl Iterator<Item = f32>, weights: &[f64], total: f64) -> f32 {
    let mut pairs: Vec<(f32, f64)> = values
        .zip(weights)
        .filter(|(v, _)| !v.is_nan())
        .map(|(v, &w)| (v, w))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut acc = 0.0;
    for (v, w) in &pairs {
        acc += w;
        if acc >= 0.5 * total {
            return *v;
        }
    }
    pairs.last().map_or(f32::NAN, |p| p.0)
}

fn assemble_outlook(
    probs: Array4<f32>,
    median: Array3<f32>,
    observed_now: Option<ArrayView2<'_, f32>>,
) -> DroughtOutlook {
    let (_, nl, ny, nx) = probs.dim();
    let cumulative = |classes: [&[usize]; 3]| {
        let mut out = Array4::from_elem((3, nl, ny, nx), f32::NAN);
        for (k, cs) in classes.iter().enumerate() {
            let mut slot = out.index_axis_mut(Axis(0), k);
            for &c in *cs {
                let pc = probs.index_axis(Axis(0), c);
                Zip::from(&mut slot).and(&pc).for_each(|o, &p| {
                    *o = if o.is_nan() { p } else { *o + p };
                });
            }
        }
        out
    };
    let drought_probability = cumulative([&[0, 1, 2], &[0, 1], &[0]]);
    let wet_probability = cumulative([&[4, 5, 6], &[5, 6], &[6]]);
    let mut most_likely = Array3::from_elem((nl, ny, nx), -1i8);
    Zip::from(&mut most_likely)
        .and(probs.lanes(Axis(0)))
        .for_each(|o, p| {
            if p.iter().all(|v| !v.is_nan()) {
                // The first class of the highest probability (ties: the drier one).
                let (best, _) = p
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                *o = best as i8;
            }
        });
    let tendency = observed_now.map(|now| {
        let mut t = Array3::from_elem((nl, ny, nx), TENDENCY_FILL);
        for l in 0..nl {
            Zip::from(t.index_axis_mut(Axis(0), l))
                .and(now)
                .and(drought_probability.slice(ndarray::s![0, l, .., ..]))
                .and(median.index_axis(Axis(0), l))
                .for_each(|o, &obs, &p, &med| {
                    if let Some(k) = DroughtTendency::classify(obs, p, med) {
                        *o = k as i8;
                    }
                });
        }
        t
    });
    DroughtOutlook {
        class_probability: probs,
        drought_probability,
        wet_probability,
        median_spi: median,
        most_likely_class: most_likely,
        tendency,
    }
}

/// The SPI of the latest month of an observed record at the given scale `(y, x)` — the
/// "drought now" a forecast is compared with.
pub fn latest_observed_spi(
    history: ArrayView3<'_, f32>,
    axis: &MonthlyAxis,
    spec: &SpiSpec,
) -> Result<ndarray::Array2<f32>> {
    let grid = super::spi::spi_grid(history, axis, spec)?;
    Ok(grid.spi.index_axis(Axis(0), axis.len - 1).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indices::spi::spi_series;
    use ndarray::{Array1, Array2};

    #[test]
    fn class_boundaries_follow_mckee() {
        let cases = [
            (-2.5, 0),
            (-2.0, 0),
            (-1.99, 1),
            (-1.5, 1),
            (-1.2, 2),
            (-1.0, 2),
            (-0.99, 3),
            (0.0, 3),
            (0.999, 3),
            (1.0, 4),
            (1.5, 5),
            (1.99, 5),
            (2.0, 6),
            (3.09, 6),
        ];
        for (spi, class) in cases {
            assert_eq!(spi_class(spi), Some(class), "SPI {spi}");
        }
        assert_eq!(spi_class(f32::NAN), None);
    }

    #[test]
    fn outlooks_made_lead_by_lead_join_into_the_outlook_of_all_leads() {
        // 5 members, 3 leads, 2 x 2 cells of SPI values spread over every class.
        let spi = Array4::from_shape_fn((5, 3, 2, 2), |(m, l, y, x)| {
            ((m * 7 + l * 3 + y * 5 + x) % 11) as f32 * 0.5 - 2.5
        });
        let now = Array2::from_shape_fn((2, 2), |(y, x)| y as f32 - x as f32 - 0.5);
        let w = [0.1, 0.1, 0.2, 0.3, 0.3];
        let whole = drought_outlook(spi.view(), &w, Some(now.view())).unwrap();
        let parts: Vec<DroughtOutlook> = (0..3)
            .map(|l| {
                let one = spi.slice(ndarray::s![.., l..l + 1, .., ..]);
                drought_outlook(one, &w, Some(now.view())).unwrap()
            })
            .collect();
        let joined = DroughtOutlook::concat_leads(&parts).unwrap();
        assert_eq!(joined.class_probability, whole.class_probability);
        assert_eq!(joined.drought_probability, whole.drought_probability);
        assert_eq!(joined.wet_probability, whole.wet_probability);
        assert_eq!(joined.median_spi, whole.median_spi);
        assert_eq!(joined.most_likely_class, whole.most_likely_class);
        assert_eq!(joined.tendency, whole.tendency);
        // a tendency for some leads only, or no lead at all, is refused
        let mut mixed = parts.clone();
        mixed[1].tendency = None;
        assert!(DroughtOutlook::concat_leads(&mixed).is_err());
        assert!(DroughtOutlook::concat_leads(&[]).is_err());
    }

    #[test]
    fn weighted_member_counts_by_hand() {
        // One cell, one lead; members of two models: model A (2 members, weight 1/4 each),
        // model B (4 members, weight 1/8 each).
        let spi = Array4::from_shape_vec((6, 1, 1, 1), vec![-2.5, -1.2, 0.0, 0.3, 1.7, f32::NAN])
            .unwrap();
        let w = [0.25, 0.25, 0.125, 0.125, 0.125, 0.125];
        let now = Array2::from_elem((1, 1), -1.4f32);
        let out = drought_outlook(spi.view(), &w, Some(now.view())).unwrap();
        let p: Vec<f32> = out.class_probability.iter().copied().collect();
        // Valid weight 0.875: extreme dry 0.25, moderate 0.25, normal 0.25, severe wet 0.125.
        let t = 0.875;
        let expect = [0.25 / t, 0.0, 0.25 / t, 0.25 / t, 0.0, 0.125 / t, 0.0];
        for (a, b) in p.iter().zip(expect) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{p:?}");
        }
        assert!((out.drought_probability[[0, 0, 0, 0]] - 0.5 / 0.875).abs() < 1e-6);
        assert!((out.drought_probability[[2, 0, 0, 0]] - 0.25 / 0.875).abs() < 1e-6);
        assert!((out.wet_probability[[1, 0, 0, 0]] - 0.125 / 0.875).abs() < 1e-6);
        // Weighted median: sorted −2.5 (.25) −1.2 (.375) → reaches half of 0.875 at −1.2.
        assert_eq!(out.median_spi[[0, 0, 0]], -1.2);
        // Most likely: three classes tie at 0.25/0.875 → the driest.
        assert_eq!(out.most_likely_class[[0, 0, 0]], 0);
        // In drought now (−1.4), P(SPI ≤ −1) = 0.57 > 0.5 and the median −1.2 is above −1.4:
        // persists. With the observed SPI at −1.1 the median is below it: deepens.
        assert_eq!(
            out.tendency.unwrap()[[0, 0, 0]],
            DroughtTendency::Persists as i8
        );
        let now = Array2::from_elem((1, 1), -1.1f32);
        let out = drought_outlook(spi.view(), &w, Some(now.view())).unwrap();
        assert_eq!(
            out.tendency.unwrap()[[0, 0, 0]],
            DroughtTendency::Deepens as i8
        );
    }

    #[test]
    fn tendency_rules() {
        use DroughtTendency::*;
        assert_eq!(DroughtTendency::classify(-0.5, 0.9, -2.0), Some(NoDrought));
        assert_eq!(DroughtTendency::classify(-1.2, 0.4, -0.5), Some(Ends));
        assert_eq!(DroughtTendency::classify(-1.2, 0.8, -1.6), Some(Deepens));
        assert_eq!(DroughtTendency::classify(-1.2, 0.8, -1.1), Some(Persists));
        assert_eq!(DroughtTendency::classify(f32::NAN, 0.8, -1.1), None);
    }

    /// A forecast that repeats the observed months exactly has the observed SPI.
    #[test]
    fn forecast_spi_of_a_perfect_forecast_is_the_observed_spi() {
        let n = 30 * 12;
        let rain: Vec<f32> = (0..n)
            .map(|t| 20.0 + 60.0 * ((t * 7919 % 97) as f32 / 97.0) + 30.0 * ((t % 12) as f32))
            .collect();
        let axis = MonthlyAxis::new(1991, 1, n).unwrap();
        let spec = SpiSpec {
            scale_months: 3,
            ..Default::default()
        };
        // Forecast starting 2020-06 (index 353) with 4 monthly leads: the history stops in May.
        let start = 353;
        let history = Array3::from_shape_vec((start, 1, 1), rain[..start].to_vec()).unwrap();
        let members =
            Array4::from_shape_vec((1, 4, 1, 1), rain[start..start + 4].to_vec()).unwrap();
        // Calibrate on 1991–2019 so that appending the forecast changes nothing in the fit.
        let spec = SpiSpec {
            calibration: (1991, 2019),
            ..spec
        };
        let (full, _) = spi_series(Array1::from(rain.clone()).view(), &axis, &spec).unwrap();
        let input = ForecastSpiInput {
            history: history.view(),
            history_axis: MonthlyAxis::new(1991, 1, start).unwrap(),
            members: members.view(),
            first_target: (2020, 6),
        };
        let fc = forecast_spi(&input, &spec).unwrap();
        for l in 0..4 {
            assert!(
                (fc[[0, l, 0, 0]] - full[start + l]).abs() < 1e-6,
                "lead {l}"
            );
        }
        // A history that ends too early is a clear error.
        let short = Array3::from_shape_vec((start - 2, 1, 1), rain[..start - 2].to_vec()).unwrap();
        let err = forecast_spi(
            &ForecastSpiInput {
                history: short.view(),
                history_axis: MonthlyAxis::new(1991, 1, start - 2).unwrap(),
                ..input
            },
            &spec,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("needs the 2 observed months before it"),
            "{err}"
        );
    }

    #[test]
    fn gaussian_spi_outlook_by_hand() {
        // 30 observed years; hindcast means with a known SPI error; two cells.
        let obs = Array4::from_shape_fn((30, 1, 1, 2), |(y, _, _, _)| {
            100.0 + 40.0 * ((y * 37 % 29) as f32 / 29.0)
        });
        // Cell 0: a perfect hindcast (σ → the floor case is refused: no outlook);
        // cell 1: hindcast means all at the observed median (no skill).
        let median_obs = {
            let mut v: Vec<f32> = obs.slice(ndarray::s![.., 0, 0, 0]).to_vec();
            v.sort_by(f32::total_cmp);
            0.5 * (v[14] + v[15])
        };
        let hind = Array4::from_shape_fn((30, 1, 1, 2), |(y, _, _, x)| {
            if x == 0 {
                obs[[y, 0, 0, 0]]
            } else {
                median_obs
            }
        });
        let fc = Array3::from_shape_vec((1, 1, 2), vec![100.0f32, median_obs]).unwrap();
        let out =
            gaussian_spi_outlook(obs.view(), hind.view(), fc.view(), &SpiSpec::default()).unwrap();
        assert!(
            out.class_probability[[0, 0, 0, 0]].is_nan(),
            "zero error spread: no Gaussian"
        );
        let sum: f32 = (0..7).map(|c| out.class_probability[[c, 0, 0, 1]]).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        // By hand: σ² = mean over years of (SPI(median) − SPI(o_y))², centre SPI(median).
        let fit = ZeroInflatedGamma::fit(
            &obs.slice(ndarray::s![.., 0, 0, 1])
                .iter()
                .map(|&v| f64::from(v))
                .collect::<Vec<_>>(),
            super::super::GammaFit::Thom,
            3,
        )
        .unwrap();
        let c = f64::from(fit.spi(f64::from(median_obs)));
        let var = (0..30)
            .map(|y| (c - f64::from(fit.spi(f64::from(obs[[y, 0, 0, 1]])))).powi(2))
            .sum::<f64>()
            / 30.0;
        let expect = standard_normal_cdf((-1.0 - c) / var.sqrt());
        assert!((f64::from(out.drought_probability[[0, 0, 0, 1]]) - expect).abs() < 1e-6);
        // No skill: close to the climatological 15.9 %.
        assert!((out.drought_probability[[0, 0, 0, 1]] - 0.159).abs() < 0.05);
    }

    /// A model that rains twice as much in hindcast and forecast has the same SPI as an unbiased
    /// one: its own climatology absorbs the bias. A forecast at the hindcast median is near normal.
    #[test]
    fn model_climatology_absorbs_a_multiplicative_bias() {
        let hind = ndarray::Array5::from_shape_fn((20, 3, 1, 1, 2), |(i, m, _, _, x)| {
            (50.0 + 3.0 * ((i * 7 + m * 3) % 17) as f32) * (1.0 + x as f32)
        });
        let wet = hind.mapv(|v| 2.0 * v);
        let fc = Array4::from_shape_fn((3, 1, 1, 2), |(m, _, _, x)| {
            (30.0 + m as f32) * (1.0 + x as f32)
        });
        let fc_wet = fc.mapv(|v| 2.0 * v);
        let spec = SpiSpec::default();
        let a = model_climatology_outlook(&[hind.view()], &[fc.view()], &spec).unwrap();
        let b = model_climatology_outlook(&[wet.view()], &[fc_wet.view()], &spec).unwrap();
        for (p, q) in a.class_probability.iter().zip(b.class_probability.iter()) {
            assert!((p - q).abs() < 1e-6);
        }
        // 30 is far below every hindcast value (≥ 50): extreme drought in both cells.
        assert!((a.drought_probability[[2, 0, 0, 0]] - 1.0).abs() < 1e-6);
        // Two models, 3 members each: weights 1/6 each; the second model is near normal.
        let median = Array4::from_elem((3, 1, 1, 2), 74.0f32);
        let c = model_climatology_outlook(
            &[hind.view(), hind.view()],
            &[fc.view(), median.view()],
            &spec,
        )
        .unwrap();
        assert!((c.drought_probability[[2, 0, 0, 0]] - 0.5).abs() < 1e-6);
        assert!((c.class_probability[[3, 0, 0, 0]] - 0.5).abs() < 1e-6);
        assert!(model_climatology_outlook(&[hind.view()], &[], &spec).is_err());
    }
}
