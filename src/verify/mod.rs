//! Forecast verification: deterministic and probabilistic skill of hindcasts against
//! observations, per cell and lead, and cos(latitude)-weighted regional means.
//!
//! # Scores (over the hindcast years of one cell and lead)
//! - `acc`: Pearson correlation of the ensemble mean with the observations (anomalies about
//!   their own means, as `xskillscore.pearson_r`).
//! - `rmse = √(mean (f̄ − o)²)`, `bias = mean (f̄ − o)`, `msss = 1 − MSE / MSE_clim` with
//!   `MSE_clim = mean (o − ō)²` (Murphy 1988).
//! - `rps = Σ_{c<K} (F_c − O_c)²` with cumulative forecast and observed probabilities (Epstein
//!   1969), averaged over years; `rpss = 1 − RPS / RPS_clim` against the climatological
//!   probabilities (1/3 each for terciles).
//! - `crps`: the ensemble CRPS `(1/m) Σ|x_i − y| − (1/(2m²)) Σ_ij |x_i − x_j|` (as properscoring /
//!   `xskillscore.crps_ensemble`) and the **fair** CRPS (Ferro 2014) with `1/(2m(m−1))` in the
//!   second term, which does not penalise small ensembles; both in O(m log m) by sorting:
//!   `Σ_ij |x_i − x_j| = 2 Σ_i (2i − m − 1) x_(i)`. `crpss = 1 − CRPS / CRPS_clim` with the
//!   climatology the other years' observations as an ensemble.
//! - `brier` per category `mean (p_c − o_c)²`, with the Murphy (1973) decomposition
//!   reliability − resolution + uncertainty over probability bins.
//! - `roc_area` per category: the area under the ROC curve over all probability thresholds,
//!   computed as the Mann–Whitney statistic (ties count one half).
//! - `rpss` optionally debiased for the ensemble size (Weigel et al. 2007, [`maps`]).
//!
//! # Regions, diagrams, uncertainty
//! - [`region`]: boxes or country sets, cos(latitude)-weighted means, pattern ACC.
//! - [`diagrams`]: reliability-diagram bins, ROC curves, rank histograms.
//! - [`kernels`]: one score map over a whole hindcast, fast (CRPS, RPS, correlation, ROC).
//! - [`bootstrap`]: confidence intervals of ACC and RPSS by resampling years, per cell
//!   ([`SkillMaps::acc_lower`] …) and per region ([`regional_diagnostics`]).
//!
//! # References
//! Jolliffe & Stephenson (2012), *Forecast Verification*, 2nd ed.; Ferro (2014), QJRMS 140,
//! 1917–1923; Weigel, Liniger & Appenzeller (2007), MWR 135, 118–124; Murphy (1973), JAM 12,
//! 595–600; Hamill (2001), MWR 129, 550–560; Mason & Graham (2002), QJRMS 128, 2145–2166;
//! Wilks (2011), *Statistical Methods in the Atmospheric Sciences*, 3rd ed.; WMO SVS-LRF (2006) for the long-range forecast conventions.

use serde::Serialize;

pub use crate::stats::categories::rps;
pub mod bootstrap;
pub mod diagrams;
pub mod kernels;
pub mod maps;
pub mod region;
pub use bootstrap::{weighted_pearson, weighted_skill_score, Bootstrap, Interval, ResampleKernel};
pub use diagrams::{
    observation_rank, probability_bin, reliability_slope, reliability_table, roc_curve,
    uniform_from_key, ReliabilityBin, RocCurve, RocPoint,
};
pub use kernels::{ensemble_mean_correlation, mean_crps, mean_rps, roc_area_map};
pub use maps::{
    regional_diagnostics, rps_debiasing_term, skill_maps, RegionalDiagnostics, ScoredForecast,
    SkillMaps,
};
pub use region::{map_weights, pattern_acc, regional_mean, Region, PREDEFINED};

/// Pearson correlation of two series over the indices where both are finite; NaN for fewer
/// than 3 pairs or a constant series.
pub fn pearson_r(f: &[f64], o: &[f64]) -> f64 {
    let pairs = || {
        f.iter()
            .zip(o)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
    };
    let n = pairs().count();
    if n < 3 {
        return f64::NAN;
    }
    let (mf, mo) = pairs().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mf, mo) = (mf / n as f64, mo / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs() {
        sxy += (x - mf) * (y - mo);
        sxx += (x - mf).powi(2);
        syy += (y - mo).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Deterministic scores of an ensemble-mean series against observations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Deterministic {
    /// Anomaly (Pearson) correlation.
    pub acc: f64,
    /// Root-mean-square error.
    pub rmse: f64,
    /// Mean error (forecast − observation).
    pub bias: f64,
    /// Mean-squared-error skill score against the climatological mean.
    pub msss: f64,
}

/// [`Deterministic`] scores over the years where both are finite (NaN scores for none).
pub fn deterministic(f: &[f64], o: &[f64]) -> Deterministic {
    let pairs: Vec<(f64, f64)> = f
        .iter()
        .zip(o)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .collect();
    let n = pairs.len() as f64;
    if pairs.is_empty() {
        return Deterministic {
            acc: f64::NAN,
            rmse: f64::NAN,
            bias: f64::NAN,
            msss: f64::NAN,
        };
    }
    let mse = pairs.iter().map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n;
    let bias = pairs.iter().map(|(a, b)| a - b).sum::<f64>() / n;
    let mo = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let mse_clim = pairs.iter().map(|(_, b)| (b - mo).powi(2)).sum::<f64>() / n;
    Deterministic {
        acc: pearson_r(f, o),
        rmse: mse.sqrt(),
        bias,
        msss: if mse_clim > 0.0 {
            1.0 - mse / mse_clim
        } else {
            f64::NAN
        },
    }
}

/// The ensemble CRPS of members `x` (sorted ascending in place) for observation `y`: `fair`
/// uses Ferro's unbiased ensemble-spread term. NaN without members or a NaN observation.
pub fn crps_ensemble(x: &mut [f64], y: f64, fair: bool) -> f64 {
    let m = x.len();
    if m == 0 || !y.is_finite() || (fair && m < 2) {
        return f64::NAN;
    }
    x.sort_unstable_by(f64::total_cmp);
    let skill: f64 = x.iter().map(|&v| (v - y).abs()).sum::<f64>() / m as f64;
    // Σ_ij |x_i − x_j| over ordered pairs = 2 Σ_i (2i − m − 1) x_(i), i from 1.
    let pairs: f64 = x
        .iter()
        .enumerate()
        .map(|(i, &v)| (2.0 * (i + 1) as f64 - m as f64 - 1.0) * v)
        .sum::<f64>()
        * 2.0;
    let denom = if fair {
        2.0 * (m * (m - 1)) as f64
    } else {
        2.0 * (m * m) as f64
    };
    skill - pairs / denom
}

/// Brier score with its Murphy decomposition over `bins` equal probability bins.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Brier {
    /// Mean `(p − o)²`.
    pub score: f64,
    /// Reliability term (smaller is better).
    pub reliability: f64,
    /// Resolution term (larger is better).
    pub resolution: f64,
    /// Uncertainty `ō(1 − ō)`.
    pub uncertainty: f64,
}

/// Brier score and decomposition of probabilities `p` for binary outcomes `o` (pairs with a NaN
/// are skipped).
pub fn brier(p: &[f64], o: &[bool], bins: usize) -> Brier {
    let bins = bins.max(1);
    let mut n = 0.0;
    let mut score = 0.0;
    let mut base = 0.0;
    let mut count = vec![0.0; bins];
    let mut psum = vec![0.0; bins];
    let mut osum = vec![0.0; bins];
    for (&pi, &oi) in p.iter().zip(o) {
        if !pi.is_finite() {
            continue;
        }
        let ov = f64::from(u8::from(oi));
        n += 1.0;
        score += (pi - ov).powi(2);
        base += ov;
        let b = probability_bin(pi, bins);
        count[b] += 1.0;
        psum[b] += pi;
        osum[b] += ov;
    }
    if n == 0.0 {
        return Brier {
            score: f64::NAN,
            reliability: f64::NAN,
            resolution: f64::NAN,
            uncertainty: f64::NAN,
        };
    }
    let obar = base / n;
    let (mut rel, mut res) = (0.0, 0.0);
    for b in 0..bins {
        if count[b] > 0.0 {
            let (pk, ok) = (psum[b] / count[b], osum[b] / count[b]);
            rel += count[b] * (pk - ok).powi(2);
            res += count[b] * (ok - obar).powi(2);
        }
    }
    Brier {
        score: score / n,
        reliability: rel / n,
        resolution: res / n,
        uncertainty: obar * (1.0 - obar),
    }
}

/// Area under the ROC curve of probabilities `p` for binary outcomes `o`: the probability that
/// an event got a higher forecast probability than a non-event (ties ½). NaN without both
/// events and non-events.
pub fn roc_area(p: &[f64], o: &[bool]) -> f64 {
    let mut pairs: Vec<(f64, bool)> = p
        .iter()
        .zip(o)
        .filter(|(pi, _)| pi.is_finite())
        .map(|(&pi, &oi)| (pi, oi))
        .collect();
    let events = pairs.iter().filter(|x| x.1).count();
    let non = pairs.len() - events;
    if events == 0 || non == 0 {
        return f64::NAN;
    }
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney: sum of the (mid-)ranks of the events.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let mid = (i + 1 + j) as f64 / 2.0; // ranks i+1 ..= j
        rank_sum += mid * pairs[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let u = rank_sum - (events * (events + 1)) as f64 / 2.0;
    u / (events * non) as f64
}

/// One-pass accumulator of a weighted Pearson correlation: add `(f, o, w)` samples (non-finite
/// values or non-positive weights are skipped), merge partial sums, read the correlation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WeightedCorrelation {
    n: usize,
    w: f64,
    f: f64,
    o: f64,
    ff: f64,
    oo: f64,
    fo: f64,
}

impl WeightedCorrelation {
    /// Adds one sample.
    pub fn add(&mut self, f: f64, o: f64, w: f64) {
        if w > 0.0 && f.is_finite() && o.is_finite() {
            self.n += 1;
            self.w += w;
            self.f += w * f;
            self.o += w * o;
            self.ff += w * f * f;
            self.oo += w * o * o;
            self.fo += w * f * o;
        }
    }

    /// Adds another accumulator's samples.
    pub fn merge(&mut self, other: &WeightedCorrelation) {
        self.n += other.n;
        self.w += other.w;
        self.f += other.f;
        self.o += other.o;
        self.ff += other.ff;
        self.oo += other.oo;
        self.fo += other.fo;
    }

    /// The correlation; NaN with fewer than 3 samples or a constant series.
    pub fn value(&self) -> f64 {
        if self.n < 3 {
            return f64::NAN;
        }
        let sfo = self.fo - self.f * self.o / self.w;
        let sff = self.ff - self.f * self.f / self.w;
        let soo = self.oo - self.o * self.o / self.w;
        let eps = 1e-12;
        if sff <= eps * self.ff.abs() || soo <= eps * self.oo.abs() {
            return f64::NAN;
        }
        sfo / (sff * soo).sqrt()
    }
}

#[cfg(test)]
mod tests;
