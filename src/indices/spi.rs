//! Standardized Precipitation Index (SPI) of a monthly precipitation series or grid.
//!
//! # Method (McKee et al. 1993; Edwards & McKee 1997; WMO-No. 1090, 2012)
//! 1. **Accumulate**: `X_t = Σ_{j=t−k+1..t} P_j` over `k` months (the SPI scale). Monthly values
//!    are summed with equal weight, as `climate_indices` and xclim (`freq="MS"`) do: for a
//!    monthly-mean *rate* this is `k` × the window's mean rate rather than the day-weighted
//!    total; the SPI is unchanged by the constant factor (the two differ by at most ~0.03 SPI
//!    for windows that span February of leap years). A window with any missing month is missing.
//! 2. **Fit per calendar month** over the calibration years (default 1991–2020; the overlap
//!    with the record when the record is shorter — [`SpiGrid::calibration_used`] says which
//!    years were used): `q = n₀ / n` is the share of zero accumulations, and a two-parameter
//!    gamma distribution (shape α, scale β) is fitted to the non-zero ones. With
//!    `A = ln x̄ − mean(ln x)`:
//!    - [`GammaFit::Thom`] (default; Thom 1958, as `climate_indices` and xclim `method="APP"`):
//!      `α = (1 + √(1 + 4A/3)) / (4A)`, `β = x̄ / α`;
//!    - [`GammaFit::MaximumLikelihood`]: the exact MLE with location 0, the root of
//!      `ln α − ψ(α) = A` (ψ the digamma function), `β = x̄ / α`.
//! 3. **Transform**: `H(x) = q + (1 − q) G(x; α, β)` (so `H(0) = q`), `SPI = Φ⁻¹(H)`, clipped to
//!    ±3.09 as the reference tools do (|SPI| > 3.09 has probability < 0.1 %).
//!
//! The regularised incomplete gamma function and the inverse of the normal distribution come
//! from `statrs`.
//!
//! # Where there is no SPI
//! A calendar month whose calibration sample has fewer than [`SpiSpec::min_nonzero`] non-zero
//! accumulations, or whose non-zero accumulations are all equal (`A = 0`), has no fitted
//! distribution: its SPI is NaN (deserts in the dry season, all-zero cells, constant series).
//! Values ≤ 0 count as zero (regridding leaves tiny negative rain). NaN input is missing.
//!
//! # Differences from the reference tools
//! - `q` is the share of zeros among the *valid* calibration accumulations; `climate_indices`
//!   divides by the number of calibration years, so the two differ only where the
//!   calibration has missing windows *and* zeros.
//! - `climate_indices` and xclim fit a gamma to whatever non-zero values there are; here a
//!   month needs at least `min_nonzero` (default 3) of them.
//!
//! Agreement: `spi_01_gamma` and `spi_06_gamma` of `climate_indices` (1895–2017, 123 years)
//! and xclim's `standardized_precipitation_index(freq="MS", dist="gamma", method="APP")` on
//! CMIP5 CanESM2 at Kugluktuk — see the tests below and `tests/it/spi.rs`.

use ndarray::{Array3, ArrayView1, ArrayView3, ArrayViewMut1, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::function::gamma::{digamma, gamma_lr};

use crate::cube::{Coords, Cube, Meta};
use crate::error::{Error, Result};
use crate::stats::standard_normal_quantile;

/// SPI values beyond ±3.09 are clipped to it (as `climate_indices` and xclim do).
pub const SPI_LIMIT: f32 = 3.09;

/// How the gamma distribution is fitted to the non-zero accumulations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaFit {
    /// Thom's (1958) approximation to the maximum-likelihood shape (the SPI standard).
    #[default]
    Thom,
    /// Exact maximum likelihood (location fixed at 0): solves `ln α − ψ(α) = A`.
    MaximumLikelihood,
}

impl GammaFit {
    /// Short name used in output attributes and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GammaFit::Thom => "thom",
            GammaFit::MaximumLikelihood => "mle",
        }
    }
}

/// A run of consecutive calendar months: the first year and month and the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyAxis {
    /// Year of the first month.
    pub first_year: i32,
    /// First month, 1–12.
    pub first_month: u32,
    /// Number of months.
    pub len: usize,
}

impl MonthlyAxis {
    /// A monthly axis; the month must be 1–12.
    pub fn new(first_year: i32, first_month: u32, len: usize) -> Result<Self> {
        if !(1..=12).contains(&first_month) {
            return Err(Error::InvalidArgument {
                what: "monthly axis".into(),
                reason: format!("month {first_month} is not 1–12"),
            });
        }
        Ok(MonthlyAxis {
            first_year,
            first_month,
            len,
        })
    }

    /// The axis spanning a list of (year, month) stamps and each stamp's position on it;
    /// months missing from the list are gaps the caller fills with NaN. The stamps must be
    /// strictly increasing.
    pub fn spanning(months: &[(i32, u32)]) -> Result<(Self, Vec<usize>)> {
        let Some(&(y0, m0)) = months.first() else {
            return Err(Error::InvalidArgument {
                what: "monthly series".into(),
                reason: "it has no time steps".into(),
            });
        };
        let axis0 = MonthlyAxis::new(y0, m0, 1)?;
        let mut positions = Vec::with_capacity(months.len());
        let mut last = -1i64;
        for &(y, m) in months {
            let i = axis0.index_of(y, m);
            if !(1..=12).contains(&m) || i <= last {
                return Err(Error::InvalidArgument {
                    what: "monthly series".into(),
                    reason: format!(
                        "time steps must be one per month, increasing; {y}-{m:02} comes after {}",
                        if last < 0 {
                            "nothing".to_string()
                        } else {
                            let (py, pm) = (
                                axis0.year(last as usize),
                                axis0.calendar_month(last as usize) + 1,
                            );
                            format!("{py}-{pm:02}")
                        }
                    ),
                });
            }
            positions.push(i as usize);
            last = i;
        }
        Ok((MonthlyAxis::new(y0, m0, last as usize + 1)?, positions))
    }

    fn offset(&self, t: usize) -> usize {
        self.first_month as usize - 1 + t
    }

    /// Calendar month of step `t` as 0 (January) … 11 (December).
    pub fn calendar_month(&self, t: usize) -> usize {
        self.offset(t) % 12
    }

    /// Year of step `t`.
    pub fn year(&self, t: usize) -> i32 {
        self.first_year + (self.offset(t) / 12) as i32
    }

    /// Index of `(year, month)` relative to the first month; negative before the axis, ≥ `len`
    /// after it.
    pub fn index_of(&self, year: i32, month: u32) -> i64 {
        (i64::from(year) - i64::from(self.first_year)) * 12 + i64::from(month)
            - i64::from(self.first_month)
    }

    /// Last year with at least one month on the axis.
    pub fn last_year(&self) -> i32 {
        self.year(self.len.max(1) - 1)
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpiSpec {
    /// Accumulation scale in months (1, 3, 6, 12, …).
    pub scale_months: usize,
    /// Calibration years, inclusive (default 1991–2020, the WMO normal period).
    pub calibration: (i32, i32),
    /// Gamma fitting method.
    pub fit: GammaFit,
    /// Fewest non-zero accumulations a calendar month needs to be fitted.
    pub min_nonzero: usize,
    /// Largest probability of a zero accumulation a calendar month may have to be fitted
    /// (default 1: no limit, as the reference tools). Where `q ≥ Φ(−1) ≈ 0.159` an SPI ≤ −1
    /// cannot occur, so drought outlooks set this to 0.159 (arid cells and dry seasons get no
    /// drought class rather than a misleading "no drought").
    pub max_prob_zero: f64,
}

impl SpiSpec {
    /// The distribution fitted to a calibration sample under this spec's limits.
    pub fn fit_sums(&self, sums: &CalibrationSums) -> Option<ZeroInflatedGamma> {
        ZeroInflatedGamma::from_sums(sums, self.fit, self.min_nonzero)
            .filter(|d| d.prob_zero <= self.max_prob_zero)
    }
}

impl Default for SpiSpec {
    fn default() -> Self {
        SpiSpec {
            scale_months: 3,
            calibration: (1991, 2020),
            fit: GammaFit::Thom,
            min_nonzero: 3,
            max_prob_zero: 1.0,
        }
    }
}

/// Sufficient statistics of a calibration sample for both fits: counts, Σx and Σ ln x over the
/// non-zero values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CalibrationSums {
    /// Valid (non-NaN) values.
    pub n: usize,
    /// Values ≤ 0.
    pub zeros: usize,
    /// Sum of the positive values.
    pub sum: f64,
    /// Sum of the logarithms of the positive values.
    pub sum_ln: f64,
    min_pos: f64,
    max_pos: f64,
}

impl CalibrationSums {
    /// Adds one value; NaN is skipped, values ≤ 0 count as zero.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.n += 1;
        if x > 0.0 {
            if self.n - self.zeros == 1 {
                self.min_pos = x;
                self.max_pos = x;
            } else {
                self.min_pos = self.min_pos.min(x);
                self.max_pos = self.max_pos.max(x);
            }
            self.sum += x;
            self.sum_ln += x.ln();
        } else {
            self.zeros += 1;
        }
    }

    /// Number of positive values.
    pub fn nonzero(&self) -> usize {
        self.n - self.zeros
    }
}

/// Precipitation climatology of one calendar month: `P(X = 0) = q`, and X | X > 0 ~ Gamma(α, β).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZeroInflatedGamma {
    /// Probability of zero precipitation, `q`.
    pub prob_zero: f64,
    /// Gamma shape α.
    pub shape: f64,
    /// Gamma scale β (units of the accumulation).
    pub scale: f64,
}

impl ZeroInflatedGamma {
    /// Fits from the sufficient statistics; `None` when there are fewer than `min_nonzero`
    /// positive values or they are all equal.
    pub fn from_sums(s: &CalibrationSums, fit: GammaFit, min_nonzero: usize) -> Option<Self> {
        let k = s.nonzero();
        if k < min_nonzero.max(1) || s.max_pos <= s.min_pos {
            return None;
        }
        let mean = s.sum / k as f64;
        let a = mean.ln() - s.sum_ln / k as f64;
        if !a.is_finite() || a <= 0.0 {
            return None;
        }
        let shape = match fit {
            GammaFit::Thom => thom_shape(a),
            GammaFit::MaximumLikelihood => mle_shape(a),
        };
        Some(ZeroInflatedGamma {
            prob_zero: s.zeros as f64 / s.n as f64,
            shape,
            scale: mean / shape,
        })
    }

    /// Fits a sample (NaN skipped, values ≤ 0 are zeros).
    pub fn fit(sample: &[f64], fit: GammaFit, min_nonzero: usize) -> Option<Self> {
        let mut sums = CalibrationSums::default();
        sample.iter().for_each(|&x| sums.push(x));
        Self::from_sums(&sums, fit, min_nonzero)
    }

    /// Cumulative probability `H(x) = q + (1 − q) G(x)`; `q` at zero, NaN for NaN.
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let g = if x > 0.0 {
            gamma_lr(self.shape, x / self.scale)
        } else {
            0.0
        };
        self.prob_zero + (1.0 - self.prob_zero) * g
    }

    /// SPI of an accumulation `x`: `Φ⁻¹(H(x))` clipped to ±[`SPI_LIMIT`].
    #[inline]
    pub fn spi(&self, x: f64) -> f32 {
        clip_spi(standard_normal_quantile(self.cdf(x)))
    }
}

/// Thom's (1958) approximation of the gamma shape from `A = ln x̄ − mean(ln x)`.
pub fn thom_shape(a: f64) -> f64 {
    (1.0 + (1.0 + 4.0 * a / 3.0).sqrt()) / (4.0 * a)
}

/// Exact maximum-likelihood gamma shape: the root of `ln α − ψ(α) − A`, a decreasing function
/// of α, bracketed around Thom's value and refined by the Illinois (regula falsi) method.
pub fn mle_shape(a: f64) -> f64 {
    let g = |alpha: f64| alpha.ln() - digamma(alpha) - a;
    let start = thom_shape(a);
    let (mut lo, mut hi) = (start * 0.8, start * 1.25);
    let (mut g_lo, mut g_hi) = (g(lo), g(hi));
    for _ in 0..60 {
        if g_lo >= 0.0 {
            break;
        }
        lo *= 0.5;
        g_lo = g(lo);
    }
    for _ in 0..60 {
        if g_hi <= 0.0 {
            break;
        }
        hi *= 2.0;
        g_hi = g(hi);
    }
    let mut side = 0i8;
    let mut root = start;
    for _ in 0..100 {
        root = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        let g_root = g(root);
        if g_root == 0.0 || (hi - lo) <= 1e-13 * root {
            break;
        }
        if g_root > 0.0 {
            lo = root;
            g_lo = g_root;
            if side == 1 {
                g_hi *= 0.5;
            }
            side = 1;
        } else {
            hi = root;
            g_hi = g_root;
            if side == -1 {
                g_lo *= 0.5;
            }
            side = -1;
        }
    }
    root
}

/// Clips to ±[`SPI_LIMIT`], keeping NaN.
#[inline]
pub fn clip_spi(z: f64) -> f32 {
    (z as f32).clamp(-SPI_LIMIT, SPI_LIMIT)
}

/// The calibration years actually available: the overlap of the requested period with the
/// axis; an error when they do not overlap.
pub fn calibration_years(axis: &MonthlyAxis, requested: (i32, i32)) -> Result<(i32, i32)> {
    let (lo, hi) = requested;
    if lo > hi {
        return Err(Error::InvalidArgument {
            what: "calibration period".into(),
            reason: format!("{lo}–{hi}: the first year is after the last"),
        });
    }
    if axis.len == 0 {
        return Err(Error::InvalidArgument {
            what: "precipitation record".into(),
            reason: "it has no time steps".into(),
        });
    }
    let used = (lo.max(axis.first_year), hi.min(axis.last_year()));
    if used.0 > used.1 {
        return Err(Error::InvalidArgument {
            what: "calibration period".into(),
            reason: format!(
                "{lo}–{hi} does not overlap the record ({}–{})",
                axis.first_year,
                axis.last_year()
            ),
        });
    }
    Ok(used)
}

/// k-month accumulations of a series into `out` (same length): NaN for the first `k − 1`
/// steps and for any window with a missing month.
pub fn accumulate(values: ArrayView1<'_, f32>, scale: usize, out: &mut [f64]) {
    let n = values.len();
    debug_assert_eq!(out.len(), n);
    // Missing months in the current window, kept as a running count; the sum of a complete
    // window is taken afresh (k ≤ a few dozen) so no rounding is carried along the series.
    let mut missing = 0usize;
    for t in 0..n {
        missing += usize::from(values[t].is_nan());
        if t >= scale {
            missing -= usize::from(values[t - scale].is_nan());
        }
        out[t] = if t + 1 < scale || missing > 0 {
            f64::NAN
        } else {
            (t + 1 - scale..=t).map(|j| f64::from(values[j])).sum()
        };
    }
}

/// The fitted climatology of each calendar month (index 0 = January) of one cell.
pub type SpiFit = [Option<ZeroInflatedGamma>; 12];

/// Fits each calendar month's distribution to the accumulations in the calibration years.
pub fn fit_calendar_months(
    sums: &[f64],
    axis: &MonthlyAxis,
    calibration: (i32, i32),
    spec: &SpiSpec,
) -> SpiFit {
    let mut acc = [CalibrationSums::default(); 12];
    // The first and last steps inside the calibration years.
    let t0 = axis.index_of(calibration.0, 1).max(0) as usize;
    let t1 = (axis.index_of(calibration.1, 12) + 1).clamp(0, sums.len() as i64) as usize;
    for (t, &x) in sums.iter().enumerate().take(t1).skip(t0) {
        acc[axis.calendar_month(t)].push(x);
    }
    acc.map(|s| spec.fit_sums(&s))
}

/// SPI of one series: the values and each calendar month's fit.
pub fn spi_series(
    precip: ArrayView1<'_, f32>,
    axis: &MonthlyAxis,
    spec: &SpiSpec,
) -> Result<(Vec<f32>, SpiFit)> {
    check_spec(spec)?;
    if precip.len() != axis.len {
        return Err(Error::Mismatch {
            what: "precipitation series and its monthly axis".into(),
            reason: format!("{} values, {} months", precip.len(), axis.len),
        });
    }
    let calibration = calibration_years(axis, spec.calibration)?;
    let mut sums = vec![0.0; axis.len];
    let mut out = vec![f32::NAN; axis.len];
    let fit = spi_cell(
        precip,
        axis,
        spec,
        calibration,
        &mut sums,
        ndarray::ArrayViewMut1::from(&mut out[..]),
    );
    Ok((out, fit))
}

fn check_spec(spec: &SpiSpec) -> Result<()> {
    if spec.scale_months == 0 {
        return Err(Error::InvalidArgument {
            what: "SPI scale".into(),
            reason: "0 months; use 1, 3, 6, 12 …".into(),
        });
    }
    Ok(())
}

/// One cell: accumulate, fit, transform into `out`.
fn spi_cell(
    precip: ArrayView1<'_, f32>,
    axis: &MonthlyAxis,
    spec: &SpiSpec,
    calibration: (i32, i32),
    sums: &mut [f64],
    mut out: ArrayViewMut1<'_, f32>,
) -> SpiFit {
    accumulate(precip, spec.scale_months, sums);
    let fit = fit_calendar_months(sums, axis, calibration, spec);
    for (t, &x) in sums.iter().enumerate() {
        out[t] = match &fit[axis.calendar_month(t)] {
            Some(dist) if !x.is_nan() => dist.spi(x),
            _ => f32::NAN,
        };
    }
    fit
}

/// An observed precipitation record on a gap-free monthly axis: the engine's observed series
/// (daily series averaged to months first) as a `(time, y, x)` array with NaN in missing months.
#[derive(Debug, Clone)]
pub struct MonthlyRecord {
    /// The months spanned, first to last.
    pub axis: MonthlyAxis,
    /// Values `(month, y, x)`; NaN where the record has no value.
    pub values: Array3<f32>,
    /// Position on `axis` of each time step of the monthly series, in its order.
    pub positions: Vec<usize>,
    /// Coordinates of the monthly series (one time stamp per position).
    pub coords: Coords,
    /// Metadata of the series.
    pub meta: Meta,
}

impl MonthlyRecord {
    /// From an observed series (`time, y, x`); daily or sub-daily series become monthly means
    /// ([`Cube::monthly_means`]). A gap-free monthly series is taken over without a copy.
    pub fn from_observed(obs: Cube) -> Result<Self> {
        let series = obs.monthly_means()?;
        let months: Vec<(i32, u32)> = series
            .coords
            .init
            .iter()
            .map(|d| (d.year, d.month))
            .collect();
        let (axis, positions) = MonthlyAxis::spanning(&months)?;
        let (ny, nx) = series.coords.spatial.shape();
        let Cube {
            values: data,
            coords,
            meta,
        } = series;
        let values = if positions.len() == axis.len {
            let n = positions.len();
            data.into_shape_with_order((n, ny, nx))
                .map_err(|e| Error::invalid("monthly record", e.to_string()))?
        } else {
            let mut values = Array3::from_elem((axis.len, ny, nx), f32::NAN);
            for (t, &p) in positions.iter().enumerate() {
                values
                    .index_axis_mut(Axis(0), p)
                    .assign(&data.slice(ndarray::s![t, 0, 0, .., ..]));
            }
            values
        };
        Ok(MonthlyRecord {
            axis,
            values,
            positions,
            coords,
            meta,
        })
    }

    /// Whether every month of the axis has a time step (no gaps).
    pub fn is_gap_free(&self) -> bool {
        self.positions.len() == self.axis.len
    }
}

/// SPI of a grid and the fitted distributions.
#[derive(Debug, Clone)]
pub struct SpiGrid {
    /// SPI on the input's `(time, y, x)`.
    pub spi: Array3<f32>,
    /// Gamma shape α per `(calendar month, y, x)`; NaN where not fitted.
    pub shape: Array3<f32>,
    /// Gamma scale β per `(calendar month, y, x)`, in the units of the accumulation.
    pub scale: Array3<f32>,
    /// Probability of zero precipitation per `(calendar month, y, x)`.
    pub prob_zero: Array3<f32>,
    /// Calibration years used (the overlap of the requested period with the record).
    pub calibration_used: (i32, i32),
}

/// SPI of a monthly precipitation grid `(time, y, x)`, cells in parallel.
///
/// ```
/// use ndarray::Array3;
/// use s2s_ensemble::indices::{spi_grid, MonthlyAxis, SpiSpec};
/// // 30 years of monthly rain on a 2 × 2 grid, wetter every third year.
/// let precip = Array3::from_shape_fn((360, 2, 2), |(t, _, _)| 50.0 + 10.0 * ((t / 12) % 3) as f32 + (t % 7) as f32);
/// let axis = MonthlyAxis::new(1991, 1, 360).unwrap();
/// let out = spi_grid(precip.view(), &axis, &SpiSpec { scale_months: 3, ..Default::default() }).unwrap();
/// assert!(out.spi[[0, 0, 0]].is_nan() && out.spi[[1, 0, 0]].is_nan()); // incomplete windows
/// assert!(out.spi.iter().skip(8).all(|s| s.abs() <= 3.09));
/// assert_eq!(out.calibration_used, (1991, 2020));
/// ```
pub fn spi_grid(
    precip: ArrayView3<'_, f32>,
    axis: &MonthlyAxis,
    spec: &SpiSpec,
) -> Result<SpiGrid> {
    check_spec(spec)?;
    let (nt, ny, nx) = precip.dim();
    if nt != axis.len {
        return Err(Error::Mismatch {
            what: "precipitation grid and its monthly axis".into(),
            reason: format!("{nt} time steps, {} months", axis.len),
        });
    }
    let calibration = calibration_years(axis, spec.calibration)?;
    let mut spi = Array3::from_elem((nt, ny, nx), f32::NAN);
    let mut shape = Array3::from_elem((12, ny, nx), f32::NAN);
    let mut scale = shape.clone();
    let mut prob_zero = shape.clone();
    Zip::from(precip.lanes(Axis(0)))
        .and(spi.lanes_mut(Axis(0)))
        .and(shape.lanes_mut(Axis(0)))
        .and(scale.lanes_mut(Axis(0)))
        .and(prob_zero.lanes_mut(Axis(0)))
        .into_par_iter()
        .for_each_init(
            || vec![0.0f64; nt],
            |sums, (p, out, mut a, mut b, mut q)| {
                let fit = spi_cell(p, axis, spec, calibration, sums, out);
                for (m, f) in fit.iter().enumerate() {
                    if let Some(f) = f {
                        a[m] = f.shape as f32;
                        b[m] = f.scale as f32;
                        q[m] = f.prob_zero as f32;
                    }
                }
            },
        );
    Ok(SpiGrid {
        spi,
        shape,
        scale,
        prob_zero,
        calibration_used: calibration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn thom_and_mle_shapes_by_hand() {
        // A = ln(2) − (ln 1 + ln 3)/2 for the sample {1, 3}: mean 2.
        let a = 2f64.ln() - 3f64.ln() / 2.0;
        let thom = thom_shape(a);
        assert!((thom - (1.0 + (1.0 + 4.0 * a / 3.0).sqrt()) / (4.0 * a)).abs() < 1e-15);
        // The MLE solves ln α − ψ(α) = A exactly; Thom's value is within 1 % of it.
        let mle = mle_shape(a);
        assert!((mle.ln() - digamma(mle) - a).abs() < 1e-12, "{mle}");
        assert!((thom / mle - 1.0).abs() < 0.01, "thom {thom} mle {mle}");
        // Large A (very skewed sample): shape well below 1, still solved.
        let mle = mle_shape(3.0);
        assert!((mle.ln() - digamma(mle) - 3.0).abs() < 1e-10);
        assert!(mle < 0.25);
    }

    #[test]
    fn zero_inflated_cdf_by_hand() {
        // Sample: two zeros, and 1, 2, 4 (geometric: mean 7/3, mean log = ln 2).
        let d = ZeroInflatedGamma::fit(&[0.0, 1.0, 2.0, 0.0, 4.0], GammaFit::Thom, 3).unwrap();
        assert!((d.prob_zero - 0.4).abs() < 1e-15);
        let a = (7.0f64 / 3.0).ln() - 2f64.ln();
        assert!((d.shape - thom_shape(a)).abs() < 1e-14);
        assert!((d.shape * d.scale - 7.0 / 3.0).abs() < 1e-12);
        assert_eq!(d.cdf(0.0), 0.4);
        // H(x) = q + (1 − q) G(x); Φ⁻¹(0.4) = −0.253347103.
        assert!((d.spi(0.0) - (-0.253_347_1)).abs() < 1e-6);
        let g = gamma_lr(d.shape, 3.0 / d.scale);
        assert!((d.cdf(3.0) - (0.4 + 0.6 * g)).abs() < 1e-15);
        assert!(d.spi(f64::NAN).is_nan());
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!(standard_normal_quantile(0.5).abs() < 1e-15);
        assert!((standard_normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((standard_normal_quantile(0.158_655_253_931_457_05) + 1.0).abs() < 1e-12);
        assert_eq!(clip_spi(standard_normal_quantile(0.0)), -SPI_LIMIT);
        assert_eq!(clip_spi(standard_normal_quantile(1.0)), SPI_LIMIT);
    }

    #[test]
    fn too_few_or_constant_values_are_not_fitted() {
        assert!(ZeroInflatedGamma::fit(&[0.0, 0.0, 5.0, 6.0], GammaFit::Thom, 3).is_none());
        assert!(ZeroInflatedGamma::fit(&[2.0, 2.0, 2.0, 2.0], GammaFit::Thom, 3).is_none());
        assert!(ZeroInflatedGamma::fit(&[0.0; 30], GammaFit::Thom, 3).is_none());
        assert!(ZeroInflatedGamma::fit(&[f64::NAN; 30], GammaFit::Thom, 3).is_none());
    }

    #[test]
    fn accumulation_windows() {
        let p = Array1::from(vec![1.0f32, 2.0, f32::NAN, 4.0, 5.0, 6.0, 7.0]);
        let mut out = vec![0.0; 7];
        accumulate(p.view(), 3, &mut out);
        assert!(out[..5].iter().all(|v| v.is_nan()), "{out:?}");
        assert_eq!(&out[5..], &[15.0, 18.0]);
        accumulate(p.view(), 1, &mut out);
        assert_eq!(out[1], 2.0);
        assert!(out[2].is_nan());
    }

    #[test]
    fn monthly_axis_arithmetic() {
        let ax = MonthlyAxis::new(1990, 11, 30).unwrap();
        assert_eq!(ax.calendar_month(0), 10);
        assert_eq!(ax.calendar_month(2), 0);
        assert_eq!(ax.year(2), 1991);
        assert_eq!(ax.index_of(1991, 1), 2);
        assert_eq!(ax.index_of(1990, 1), -10);
        assert_eq!(ax.last_year(), 1993);
        assert!(MonthlyAxis::new(1990, 13, 3).is_err());
        let (ax, pos) = MonthlyAxis::spanning(&[(1999, 12), (2000, 1), (2000, 4)]).unwrap();
        assert_eq!((ax.len, pos), (5, vec![0, 1, 4]));
        let err = MonthlyAxis::spanning(&[(2000, 1), (2000, 1)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("2000-01 comes after 2000-01"), "{err}");
    }

    #[test]
    fn calibration_overlap_and_errors() {
        let ax = MonthlyAxis::new(2001, 1, 120).unwrap();
        assert_eq!(calibration_years(&ax, (1991, 2020)).unwrap(), (2001, 2010));
        let err = calibration_years(&ax, (1961, 1990))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not overlap the record (2001–2010)"),
            "{err}"
        );
        assert!(calibration_years(&ax, (2000, 1990)).is_err());
    }

    #[test]
    fn all_zero_series_is_nan_not_a_panic() {
        let p = Array1::<f32>::zeros(240);
        let ax = MonthlyAxis::new(2001, 1, 240).unwrap();
        let (spi, fit) = spi_series(p.view(), &ax, &SpiSpec::default()).unwrap();
        assert!(spi.iter().all(|v| v.is_nan()));
        assert!(fit.iter().all(|f| f.is_none()));
        assert!(spi_series(
            p.view(),
            &ax,
            &SpiSpec {
                scale_months: 0,
                ..Default::default()
            }
        )
        .is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use rand::SeedableRng;
        use rand_distr::Distribution;

        fn gamma_record(shape: f64, scale: f64, years: usize, seed: u64) -> Vec<f32> {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let seasonal: Vec<f64> = (0..12)
                .map(|m| 1.0 + 0.5 * (m as f64 * 0.52).sin())
                .collect();
            let g = rand_distr::Gamma::new(shape, scale).unwrap();
            (0..years * 12)
                .map(|t| (g.sample(&mut rng) * seasonal[t % 12]).max(1e-3) as f32)
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]

            /// Over the calibration years the SPI of each calendar month is close to standard
            /// normal: mean ≈ 0 and standard deviation ≈ 1.
            #[test]
            fn calibration_spi_is_standard_normal(
                shape in 0.7f64..25.0,
                scale in 0.05f64..80.0,
                seed in any::<u64>(),
                scale_months in prop::sample::select(vec![1usize, 3, 6]),
            ) {
                let years = 60;
                let p = gamma_record(shape, scale, years, seed);
                let axis = MonthlyAxis::new(1961, 1, p.len()).unwrap();
                let spec = SpiSpec { scale_months, calibration: (1961, 2020), ..Default::default() };
                let (spi, _) = spi_series(Array1::from(p).view(), &axis, &spec).unwrap();
                for m in 0..12 {
                    let v: Vec<f64> = spi.iter().skip(m).step_by(12).filter(|s| !s.is_nan()).map(|&s| f64::from(s)).collect();
                    let n = v.len() as f64;
                    let mean = v.iter().sum::<f64>() / n;
                    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                    prop_assert!(mean.abs() < 0.1, "month {m}: mean {mean}");
                    prop_assert!((sd - 1.0).abs() < 0.15, "month {m}: sd {sd}");
                }
            }

            /// More rain never gives a lower SPI (the transform is monotone), and every SPI
            /// is within ±3.09.
            #[test]
            fn spi_is_monotone_and_bounded(
                shape in 0.3f64..30.0,
                seed in any::<u64>(),
                zeros in 0usize..10,
            ) {
                let mut sample: Vec<f64> = gamma_record(shape, 10.0, 3, seed).iter().map(|&v| f64::from(v)).collect();
                sample.truncate(30);
                sample.iter_mut().take(zeros).for_each(|v| *v = 0.0);
                let d = ZeroInflatedGamma::fit(&sample, GammaFit::Thom, 3).unwrap();
                let mut xs = sample.clone();
                xs.extend([0.0, 1e-9, 1e6, 1e-3]);
                xs.sort_by(f64::total_cmp);
                let spis: Vec<f32> = xs.iter().map(|&x| d.spi(x)).collect();
                prop_assert!(spis.windows(2).all(|w| w[0] <= w[1]), "{spis:?}");
                prop_assert!(spis.iter().all(|s| s.abs() <= SPI_LIMIT));
                let m = ZeroInflatedGamma::fit(&sample, GammaFit::MaximumLikelihood, 3).unwrap();
                // Thom's approximation is within 10 % of the exact MLE even for very skewed samples.
                prop_assert!((m.shape / d.shape - 1.0).abs() < 0.1, "mle {} thom {}", m.shape, d.shape);
            }
        }
    }
}
