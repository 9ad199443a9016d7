//! Regression-calibrated probabilities of one model (CPT / NGR style) and their equal-weight
//! multi-model mixture: the method behind `weights = "calibrated"`.
//!
//! # Formulas
//! Per cell, lead and start month, with `x_j` a model's ensemble mean and `o_j` the observation
//! of hindcast year `j`, both transformed by `T` (identity for temperature and other
//! quantities; the cube root for precipitation, which brings gamma-distributed totals close to
//! Gaussian — Wilson & Hilferty 1931):
//! - the least-squares fit `o = a + b x` on the training years (all hindcast years for a
//!   forecast; every year but the target's own for a hindcast start): `b = Sxo / Sxx`,
//!   `a = ō − b x̄`, residual variance `s² = (Soo − b Sxo) / (n − 2)`;
//! - the predictive distribution at a new ensemble mean `x*` is Student-t with `n − 2` degrees
//!   of freedom, location `a + b x*` and scale `s √(1 + 1/n + (x* − x̄)² / Sxx)` (the
//!   prediction interval of a simple regression, Wilks 2011 §7.2.5). A model whose ensemble
//!   mean does not vary (`Sxx ≈ 0`) predicts the observed climatology: location `ō`, scale
//!   `s_o √(1 + 1/n)`, `n − 1` degrees of freedom;
//! - category probabilities at the observed category edges `e_k` (type-7 quantiles of the
//!   observations of the training years, transformed): `P(c ≤ k) = F((T(e_k) − μ) / σ)`;
//!   a monotone transform leaves the probability of each category unchanged, so the edges
//!   written to the files stay in the data's units;
//! - the multi-model ensemble is the equal-weight mixture of the models' predictive
//!   distributions: probabilities averaged, percentiles the mixture's quantiles (bisection on
//!   the mixture CDF), transformed back.
//!
//! A slope fitted on ~30 years of weak skill is noisy and may be negative; the Student-t scale
//! grows with the distance of `x*` from the training mean, and where the model has no skill
//! the fit falls back towards the climatological probabilities — which is what makes the
//! result reliable rather than sharp.
//!
//! # References
//! Mason & Tippett, CPT (Climate Predictability Tool) documentation; Gneiting et al. (2005),
//! MWR 133, 1098–1118 (non-homogeneous Gaussian regression); Wilks (2011), *Statistical
//! Methods in the Atmospheric Sciences*, 3rd ed., §7.2; Wilson & Hilferty (1931), PNAS 17.

use crate::units::Quantity;

/// Fewest training years for a fit: with two fitted parameters, `n − 2 ≥ 4` degrees of
/// freedom keep the Student-t variance finite and the fit more than a line through a handful
/// of points; with fewer the model contributes no probabilities at the cell.
pub const MIN_CALIBRATION_YEARS: usize = 6;

/// The transform under which a quantity is regressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Values as they are (temperature, most quantities).
    Identity,
    /// `sign(x) |x|^(1/3)`: precipitation (Wilson–Hilferty).
    CubeRoot,
}

impl Transform {
    /// The transform of a quantity: the cube root for precipitation, else none.
    pub fn for_quantity(q: Quantity) -> Self {
        if q == Quantity::Precipitation {
            Transform::CubeRoot
        } else {
            Transform::Identity
        }
    }

    /// `T(x)`.
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::CubeRoot => x.cbrt(),
        }
    }

    /// `T⁻¹(y)`.
    #[inline]
    pub fn invert(self, y: f64) -> f64 {
        match self {
            Transform::Identity => y,
            Transform::CubeRoot => y * y * y,
        }
    }
}

/// A predictive Student-t distribution (in transformed units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predictive {
    /// Location `μ`.
    pub location: f64,
    /// Scale `σ` (> 0).
    pub scale: f64,
    /// Degrees of freedom `ν`.
    pub dof: f64,
}

impl Predictive {
    /// `P(X ≤ v)`.
    pub fn cdf(&self, v: f64) -> f64 {
        crate::stats::student_t_cdf((v - self.location) / self.scale, self.dof)
    }
}

/// The regression `o = a + b x` fitted on the pairs `j` with `train(j)` and both values finite,
/// and its predictive distribution at `x_new`; `None` with fewer than
/// [`MIN_CALIBRATION_YEARS`] pairs, a non-finite `x_new`, or observations that do not vary.
pub fn regression_predictive(
    x: &[f64],
    o: &[f64],
    train: impl Fn(usize) -> bool,
    x_new: f64,
) -> Option<Predictive> {
    if !x_new.is_finite() {
        return None;
    }
    let pairs = || {
        x.iter()
            .zip(o)
            .enumerate()
            .filter(|&(j, (xv, ov))| train(j) && xv.is_finite() && ov.is_finite())
            .map(|(_, (&xv, &ov))| (xv, ov))
    };
    let (mut n, mut sx, mut so) = (0usize, 0.0, 0.0);
    for (xv, ov) in pairs() {
        n += 1;
        sx += xv;
        so += ov;
    }
    if n < MIN_CALIBRATION_YEARS {
        return None;
    }
    let nf = n as f64;
    let (xm, om) = (sx / nf, so / nf);
    // Centred sums: no cancellation for values far from zero (temperatures in K or °C).
    let (mut sxx, mut sxo, mut soo) = (0.0, 0.0, 0.0);
    for (xv, ov) in pairs() {
        let (dx, d_o) = (xv - xm, ov - om);
        sxx += dx * dx;
        sxo += dx * d_o;
        soo += d_o * d_o;
    }
    if soo.is_nan() || soo <= 0.0 {
        return None;
    }
    // A constant ensemble mean (relative to the spread of the observations) carries no signal.
    let p = if sxx <= 1e-12 * soo.max(f64::MIN_POSITIVE) {
        Predictive {
            location: om,
            scale: (soo / (nf - 1.0)).sqrt() * (1.0 + 1.0 / nf).sqrt(),
            dof: nf - 1.0,
        }
    } else {
        let b = sxo / sxx;
        let sse = (soo - b * sxo).max(0.0);
        let s = (sse / (nf - 2.0)).sqrt();
        let d = x_new - xm;
        Predictive {
            location: om + b * d,
            scale: s * (1.0 + 1.0 / nf + d * d / sxx).sqrt(),
            dof: nf - 2.0,
        }
    };
    (p.scale > 0.0 && p.location.is_finite()).then_some(p)
}

/// Category probabilities of the equal-weight mixture of `models` at the (transformed,
/// ascending) `edges` into `out` (`edges.len() + 1` values, summing to 1); NaN without a model.
pub fn mixture_probabilities(models: &[Predictive], edges: &[f64], out: &mut Vec<f64>) {
    out.clear();
    if models.is_empty() || edges.iter().any(|e| e.is_nan()) {
        out.resize(edges.len() + 1, f64::NAN);
        return;
    }
    let mut below = 0.0;
    for &e in edges {
        let c = mixture_cdf(models, e);
        // Category probabilities are differences of a CDF at ascending edges: never negative.
        let c = c.max(below);
        out.push(c - below);
        below = c;
    }
    out.push(1.0 - below);
}

/// The mixture's CDF at `v`.
pub fn mixture_cdf(models: &[Predictive], v: f64) -> f64 {
    models.iter().map(|p| p.cdf(v)).sum::<f64>() / models.len() as f64
}

/// The mixture's density at `v`.
pub fn mixture_pdf(models: &[Predictive], v: f64) -> f64 {
    models
        .iter()
        .map(|p| crate::stats::student_t_pdf((v - p.location) / p.scale, p.dof) / p.scale)
        .sum::<f64>()
        / models.len() as f64
}

/// The mixture's quantile at `level` in (0, 1): Newton steps on its CDF from the Gaussian guess,
/// kept inside a bracket that bisects whenever a step would leave it, to 1e-10 of the largest
/// scale; NaN without a model or outside (0, 1).
pub fn mixture_quantile(models: &[Predictive], level: f64) -> f64 {
    if models.is_empty() || !(level > 0.0 && level < 1.0) {
        return f64::NAN;
    }
    let smax = models.iter().map(|p| p.scale).fold(0.0, f64::max);
    let mut lo = models
        .iter()
        .map(|p| p.location)
        .fold(f64::INFINITY, f64::min)
        - smax;
    let mut hi = models
        .iter()
        .map(|p| p.location)
        .fold(f64::NEG_INFINITY, f64::max)
        + smax;
    // Widen until the level is bracketed (heavy Student-t tails at few degrees of freedom).
    while mixture_cdf(models, lo) > level {
        lo -= 2.0 * (hi - lo);
    }
    while mixture_cdf(models, hi) < level {
        hi += 2.0 * (hi - lo);
    }
    let tol = 1e-10 * smax.max(f64::MIN_POSITIVE);
    let n = models.len() as f64;
    let mean = models.iter().map(|p| p.location).sum::<f64>() / n;
    let scale = models.iter().map(|p| p.scale).sum::<f64>() / n;
    let mut q = (mean + crate::stats::standard_normal_quantile(level) * scale).clamp(lo, hi);
    for _ in 0..200 {
        let f = mixture_cdf(models, q) - level;
        if f == 0.0 {
            break;
        }
        if f < 0.0 {
            lo = q;
        } else {
            hi = q;
        }
        let d = mixture_pdf(models, q);
        let newton = q - f / d;
        let next = if d > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        let step = (next - q).abs();
        q = next;
        if step <= tol || hi - lo <= tol {
            break;
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_predictive_by_hand() {
        // x = 1..6, o = 2x + e with e = (+1, −1, +1, −1, +1, −1), so o = (3, 3, 7, 7, 11, 11):
        // x̄ = 3.5, ō = 7, dx = (−2.5, −1.5, −0.5, 0.5, 1.5, 2.5), do = (−4, −4, 0, 0, 4, 4);
        // Sxx = 17.5, Sxo = 10 + 6 + 6 + 10 = 32, Soo = 64; b = 32/17.5;
        // SSE = 64 − 32 b = 5.4857…; s² = SSE / (6 − 2).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let o = [3.0, 3.0, 7.0, 7.0, 11.0, 11.0];
        let p = regression_predictive(&x, &o, |_| true, 3.5).unwrap();
        let b = 32.0 / 17.5;
        let s = ((64.0 - b * 32.0) / 4.0_f64).sqrt();
        assert!((p.location - 7.0).abs() < 1e-12);
        assert!((p.scale - s * (1.0 + 1.0 / 6.0_f64).sqrt()).abs() < 1e-12);
        assert_eq!(p.dof, 4.0);
        let q = regression_predictive(&x, &o, |_| true, 6.5).unwrap();
        assert!((q.location - (7.0 + 3.0 * b)).abs() < 1e-12);
        assert!((q.scale - s * (1.0 + 1.0 / 6.0 + 9.0 / 17.5_f64).sqrt()).abs() < 1e-12);
        // Leaving a year out drops below the minimum: no fit.
        assert!(regression_predictive(&x, &o, |j| j != 2, 3.5).is_none());
        // NaN pairs are skipped the same way.
        let mut xn = x;
        xn[0] = f64::NAN;
        assert!(regression_predictive(&xn, &o, |_| true, 3.5).is_none());
    }

    #[test]
    fn a_constant_model_predicts_the_observed_climatology() {
        let x = [2.0; 8];
        let o = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let p = regression_predictive(&x, &o, |_| true, 2.0).unwrap();
        assert!((p.location - 4.5).abs() < 1e-12);
        // sample variance of 1..8 = 6; scale √6 · √(1 + 1/8), 7 degrees of freedom
        assert!((p.scale - (6.0_f64 * 1.125).sqrt()).abs() < 1e-12);
        assert_eq!(p.dof, 7.0);
    }

    #[test]
    fn mixture_probabilities_and_quantiles() {
        // One symmetric model centred on 0: equal tails at ±e.
        let m = Predictive {
            location: 0.0,
            scale: 1.0,
            dof: 10.0,
        };
        let mut out = Vec::new();
        mixture_probabilities(&[m], &[-0.5, 0.5], &mut out);
        assert!((out[0] - out[2]).abs() < 1e-12);
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Two models shifted by ±1: the mixture's median is 0, its CDF at 0 is one half.
        let a = Predictive {
            location: -1.0,
            ..m
        };
        let b = Predictive { location: 1.0, ..m };
        assert!(mixture_quantile(&[a, b], 0.5).abs() < 1e-8);
        let q = mixture_quantile(&[a, b], 0.9);
        assert!((mixture_cdf(&[a, b], q) - 0.9).abs() < 1e-9);
        // Heavy tails at 1 degree of freedom are bracketed too.
        let c = Predictive { dof: 1.0, ..m };
        let q = mixture_quantile(&[c], 0.999);
        assert!((c.cdf(q) - 0.999).abs() < 1e-9);
        mixture_probabilities(&[], &[0.0], &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn the_cube_root_round_trips() {
        for v in [0.0, 0.001, 1.0, 27.0, 1234.5] {
            let t = Transform::CubeRoot;
            assert!((t.invert(t.apply(v)) - v).abs() < 1e-9 * v.max(1.0));
        }
        assert_eq!(Transform::CubeRoot.apply(8.0), 2.0);
        assert_eq!(
            Transform::for_quantity(Quantity::Temperature),
            Transform::Identity
        );
    }
}
