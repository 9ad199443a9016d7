//! Regression-calibrated probabilities of one model (CPT / NGR style, `weights = "calibrated"`)
//! or its extended logistic regression (Wilks 2009, `weights = "elr"`; [`elr_predictive`]),
//! and their equal-weight multi-model mixture.
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
//! ELR: `P(o ≤ q) = 1/(1 + e^(−(a + b x̄ + c q)))` fitted by maximum likelihood (Newton,
//! small ridge) on the binary outcomes of every training year at every observed threshold
//! (category and extreme edges); the threshold being a predictor, the probabilities of all
//! thresholds come from one fit and never cross.
//!
//! # References
//! Wilks (2009), Meteorol. Appl. 16, 361–368 (extended logistic regression);
//! Mason & Tippett, CPT (Climate Predictability Tool) documentation; Gneiting et al. (2005),
//! MWR 133, 1098–1118 (non-homogeneous Gaussian regression); Wilks (2011), *Statistical
//! Methods in the Atmospheric Sciences*, 3rd ed., §7.2; Wilson & Hilferty (1931), PNAS 17.

use crate::stats::mean_sd_of;
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

/// A model's predictive distribution (in transformed units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Predictive {
    /// Student-t from the regression on the ensemble mean.
    StudentT {
        /// Location `μ`.
        location: f64,
        /// Scale `σ` (> 0).
        scale: f64,
        /// Degrees of freedom `ν`.
        dof: f64,
    },
    /// Logistic from extended logistic regression: `P(X ≤ v) = 1 / (1 + e^(−(α + γ v)))`,
    /// `γ > 0`.
    Logistic {
        /// `α` (the ensemble-mean term included).
        intercept: f64,
        /// `γ`.
        slope: f64,
    },
}

impl Predictive {
    /// `P(X ≤ v)`.
    pub fn cdf(&self, v: f64) -> f64 {
        match *self {
            Predictive::StudentT {
                location,
                scale,
                dof,
            } => crate::stats::student_t_cdf((v - location) / scale, dof),
            Predictive::Logistic { intercept, slope } => logistic(intercept + slope * v),
        }
    }

    /// The density at `v`.
    pub fn pdf(&self, v: f64) -> f64 {
        match *self {
            Predictive::StudentT {
                location,
                scale,
                dof,
            } => crate::stats::student_t_pdf((v - location) / scale, dof) / scale,
            Predictive::Logistic { intercept, slope } => {
                let p = logistic(intercept + slope * v);
                slope * p * (1.0 - p)
            }
        }
    }

    /// The median.
    pub fn location(&self) -> f64 {
        match *self {
            Predictive::StudentT { location, .. } => location,
            Predictive::Logistic { intercept, slope } => -intercept / slope,
        }
    }

    /// A spread comparable between the kinds: the Student-t scale `σ`, the logistic's standard
    /// deviation `π / (√3 γ)`.
    pub fn spread(&self) -> f64 {
        match *self {
            Predictive::StudentT { scale, .. } => scale,
            Predictive::Logistic { slope, .. } => std::f64::consts::PI / (3f64.sqrt() * slope),
        }
    }

    /// The scale: `σ` of the Student-t, `1/γ` of the logistic.
    pub fn scale(&self) -> f64 {
        match *self {
            Predictive::StudentT { scale, .. } => scale,
            Predictive::Logistic { slope, .. } => 1.0 / slope,
        }
    }
}

/// `1 / (1 + e^(−z))`.
#[inline]
fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
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
    let (location, scale, dof) = if sxx <= 1e-12 * soo.max(f64::MIN_POSITIVE) {
        (
            om,
            (soo / (nf - 1.0)).sqrt() * (1.0 + 1.0 / nf).sqrt(),
            nf - 1.0,
        )
    } else {
        let b = sxo / sxx;
        let sse = (soo - b * sxo).max(0.0);
        let s = (sse / (nf - 2.0)).sqrt();
        let d = x_new - xm;
        (
            om + b * d,
            s * (1.0 + 1.0 / nf + d * d / sxx).sqrt(),
            nf - 2.0,
        )
    };
    (scale > 0.0 && location.is_finite()).then_some(Predictive::StudentT {
        location,
        scale,
        dof,
    })
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
    models.iter().map(|p| p.pdf(v)).sum::<f64>() / models.len() as f64
}

/// The mixture's quantile at `level` in (0, 1): Newton steps on its CDF from the Gaussian guess,
/// kept inside a bracket that bisects whenever a step would leave it, to 1e-10 of the largest
/// scale; NaN without a model or outside (0, 1).
pub fn mixture_quantile(models: &[Predictive], level: f64) -> f64 {
    if models.is_empty() || !(level > 0.0 && level < 1.0) {
        return f64::NAN;
    }
    let smax = models.iter().map(|p| p.scale()).fold(0.0, f64::max);
    let mut lo = models
        .iter()
        .map(|p| p.location())
        .fold(f64::INFINITY, f64::min)
        - smax;
    let mut hi = models
        .iter()
        .map(|p| p.location())
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
    let mean = models.iter().map(|p| p.location()).sum::<f64>() / n;
    let scale = models.iter().map(|p| p.scale()).sum::<f64>() / n;
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

/// Ridge penalty of the extended logistic regression on its standardized coefficients: keeps
/// the fit finite when a short hindcast separates the outcomes (every wet year above a
/// threshold), and small enough (a prior of ±30 standard units) to leave other fits as they are.
pub const ELR_RIDGE: f64 = 1e-3;

/// Extended logistic regression (Wilks 2009) of the observations on a model's ensemble mean:
/// `P(o ≤ q) = 1 / (1 + e^(−(a + b x + c q)))` with the thresholds `q` themselves a predictor,
/// so that the probabilities of every threshold come from one fit and never cross. Fitted by
/// Newton–Raphson on the binary outcomes `o_j ≤ q_k` of the training years `j` at every
/// threshold `q_k` (all transformed; `x` and `q` standardized over the training years), with
/// the ridge [`ELR_RIDGE`]. Returns the logistic predictive distribution at `x_new`; `None` with
/// fewer than [`MIN_CALIBRATION_YEARS`] pairs, fewer than two distinct thresholds, or a fit
/// whose probabilities would not rise with the threshold.
pub fn elr_predictive(
    x: &[f64],
    o: &[f64],
    train: impl Fn(usize) -> bool,
    thresholds: &[f64],
    x_new: f64,
) -> Option<Predictive> {
    elr_fit(x, o, train, thresholds)?.predictive(x_new)
}

/// A fitted extended logistic regression: coefficients on the standardized predictors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElrFit {
    /// `(a, b, c)` on `(1, (x − x̄)/s_x, (q − q̄)/s_q)`.
    pub beta: [f64; 3],
    x_mean: f64,
    /// `∞` when the ensemble mean does not vary (its term drops out).
    x_sd: f64,
    q_mean: f64,
    q_sd: f64,
}

impl ElrFit {
    /// The logistic predictive distribution at ensemble mean `x_new`; `None` when the
    /// probabilities would not rise with the threshold.
    pub fn predictive(&self, x_new: f64) -> Option<Predictive> {
        if !x_new.is_finite() {
            return None;
        }
        let b = self.beta;
        let x_term = if self.x_sd.is_finite() {
            b[1] * (x_new - self.x_mean) / self.x_sd
        } else {
            0.0
        };
        let slope = b[2] / self.q_sd;
        let intercept = b[0] + x_term - b[2] * self.q_mean / self.q_sd;
        (slope > 0.0 && intercept.is_finite()).then_some(Predictive::Logistic { intercept, slope })
    }
}

/// Fits [`elr_predictive`]'s regression by Newton–Raphson from zero (the safe start: Newton
/// steps without a line search can overshoot from a start far from the optimum, such as the fit
/// of another training set).
pub fn elr_fit(
    x: &[f64],
    o: &[f64],
    train: impl Fn(usize) -> bool,
    thresholds: &[f64],
) -> Option<ElrFit> {
    if thresholds.iter().any(|q| !q.is_finite()) {
        return None;
    }
    let keep = |j: usize| train(j) && x[j].is_finite() && o[j].is_finite();
    let used = || (0..x.len().min(o.len())).filter(|&j| keep(j));
    let n = used().count();
    if n < MIN_CALIBRATION_YEARS {
        return None;
    }
    let (mx, sx) = mean_sd_of(used().map(|j| x[j]));
    let (mq, sq) = mean_sd_of(thresholds.iter().copied());
    if sq.is_nan() || sq <= 0.0 {
        return None;
    }
    // A model whose ensemble mean does not vary carries no signal: its term drops out.
    let sx = if sx > 0.0 { sx } else { f64::INFINITY };
    let zq: Vec<f64> = thresholds.iter().map(|&q| (q - mq) / sq).collect();
    let mut beta = [0.0f64; 3];
    for _ in 0..60 {
        let mut g = [0.0f64; 3];
        let mut h = [[0.0f64; 3]; 3];
        for j in used() {
            let zx = if sx.is_finite() {
                (x[j] - mx) / sx
            } else {
                0.0
            };
            for (k, &q) in thresholds.iter().enumerate() {
                let z = [1.0, zx, zq[k]];
                let y = if o[j] <= q { 1.0 } else { 0.0 };
                let p = logistic(beta[0] + beta[1] * z[1] + beta[2] * z[2]);
                let w = p * (1.0 - p);
                for a in 0..3 {
                    g[a] += (y - p) * z[a];
                    for b in a..3 {
                        h[a][b] += w * z[a] * z[b];
                    }
                }
            }
        }
        // The lower triangle mirrors the upper one; the ridge on the diagonal.
        (h[1][0], h[2][0], h[2][1]) = (h[0][1], h[0][2], h[1][2]);
        for a in 0..3 {
            g[a] -= ELR_RIDGE * beta[a];
            h[a][a] += ELR_RIDGE;
        }
        let step = solve3(h, g)?;
        for a in 0..3 {
            beta[a] += step[a];
        }
        let size = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
        if size < 1e-12 * (1.0 + beta.iter().map(|b| b.abs()).fold(0.0, f64::max)) {
            break;
        }
    }
    beta.iter().all(|b| b.is_finite()).then_some(ElrFit {
        beta,
        x_mean: mx,
        x_sd: sx,
        q_mean: mq,
        q_sd: sq,
    })
}

/// Solves the symmetric positive definite 3 × 3 system `h s = g` (Cramer's rule); `None` when
/// singular.
fn solve3(h: [[f64; 3]; 3], g: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(h);
    if d.is_nan() || d.abs() <= 1e-300 {
        return None;
    }
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let mut m = h;
        for r in 0..3 {
            m[r][k] = g[r];
        }
        *o = det(m) / d;
    }
    Some(out)
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
        assert!((p.location() - 7.0).abs() < 1e-12);
        assert!((p.scale() - s * (1.0 + 1.0 / 6.0_f64).sqrt()).abs() < 1e-12);
        assert!(matches!(p, Predictive::StudentT { dof, .. } if dof == 4.0));
        let q = regression_predictive(&x, &o, |_| true, 6.5).unwrap();
        assert!((q.location() - (7.0 + 3.0 * b)).abs() < 1e-12);
        assert!((q.scale() - s * (1.0 + 1.0 / 6.0 + 9.0 / 17.5_f64).sqrt()).abs() < 1e-12);
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
        assert!((p.location() - 4.5).abs() < 1e-12);
        // sample variance of 1..8 = 6; scale √6 · √(1 + 1/8), 7 degrees of freedom
        assert!((p.scale() - (6.0_f64 * 1.125).sqrt()).abs() < 1e-12);
        assert!(matches!(p, Predictive::StudentT { dof, .. } if dof == 7.0));
    }

    #[test]
    fn mixture_probabilities_and_quantiles() {
        // One symmetric model centred on 0: equal tails at ±e.
        let t = |location: f64, dof: f64| Predictive::StudentT {
            location,
            scale: 1.0,
            dof,
        };
        let m = t(0.0, 10.0);
        let mut out = Vec::new();
        mixture_probabilities(&[m], &[-0.5, 0.5], &mut out);
        assert!((out[0] - out[2]).abs() < 1e-12);
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Two models shifted by ±1: the mixture's median is 0, its CDF at 0 is one half.
        let (a, b) = (t(-1.0, 10.0), t(1.0, 10.0));
        assert!(mixture_quantile(&[a, b], 0.5).abs() < 1e-8);
        let q = mixture_quantile(&[a, b], 0.9);
        assert!((mixture_cdf(&[a, b], q) - 0.9).abs() < 1e-9);
        // Heavy tails at 1 degree of freedom are bracketed too.
        let c = t(0.0, 1.0);
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

    #[test]
    fn elr_recovers_a_logistic_model_and_never_crosses() {
        // Outcomes drawn from P(o ≤ q) = σ(−1.0·x + 2.0·q) at 400 years with x, q on a grid: the
        // fit recovers the coefficients (no noise: o is placed at the quantile the model gives).
        let xs: Vec<f64> = (0..400)
            .map(|j| ((j * 37) % 101) as f64 / 25.0 - 2.0)
            .collect();
        // o_j such that F_j(o_j) = u_j with u_j spread over (0, 1): o = (logit(u) + x) / 2.
        let os: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let u = ((j * 61) % 397) as f64 / 397.0 * 0.98 + 0.01;
                ((u / (1.0 - u)).ln() + x) / 2.0
            })
            .collect();
        let qs = [-1.0, -0.3, 0.3, 1.0];
        let p = elr_predictive(&xs, &os, |_| true, &qs, 0.5).unwrap();
        let Predictive::Logistic { intercept, slope } = p else {
            panic!("logistic expected");
        };
        assert!((slope - 2.0).abs() < 0.25, "{slope}");
        assert!((intercept + 0.5).abs() < 0.2, "{intercept}");
        // Probabilities at ascending thresholds ascend (categories never cross).
        let mut last = 0.0;
        for q in [-2.0, -1.0, 0.0, 1.0, 2.0] {
            let c = p.cdf(q);
            assert!(c >= last);
            last = c;
        }
        // Too few years: no fit; the left-out year is not used (a changed o_0 changes nothing).
        assert!(elr_predictive(&xs[..5], &os[..5], |_| true, &qs, 0.0).is_none());
        let mut moved = os.clone();
        moved[0] += 10.0;
        let a = elr_predictive(&xs, &os, |j| j != 0, &qs, 0.5).unwrap();
        let b = elr_predictive(&xs, &moved, |j| j != 0, &qs, 0.5).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn elr_stays_finite_on_separable_outcomes() {
        // o = x exactly: the outcome at every threshold is a step in x − q, perfectly
        // separable; without the ridge the coefficients would grow without bound.
        let xs: Vec<f64> = (0..12).map(|j| j as f64 - 5.5).collect();
        let p = elr_predictive(&xs, &xs, |_| true, &[-1.0, 1.0], 3.0).unwrap();
        let Predictive::Logistic { intercept, slope } = p else {
            panic!("logistic expected");
        };
        assert!(intercept.is_finite() && slope.is_finite() && slope > 0.0);
        // x = 3 is above both thresholds: P(o ≤ 1) small, P(o ≤ 5) larger.
        assert!(p.cdf(1.0) < 0.05 && p.cdf(5.0) > p.cdf(1.0));
        // Outcomes that do not depend on the threshold say nothing about it: no fit.
        let split: Vec<f64> = xs
            .iter()
            .map(|&x| if x > 0.0 { 10.0 } else { -10.0 })
            .collect();
        assert!(elr_predictive(&xs, &split, |_| true, &[-1.0, 1.0], 3.0).is_none());
    }
}
