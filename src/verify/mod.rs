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
//!
//! # References
//! Jolliffe & Stephenson (2012), *Forecast Verification*, 2nd ed.; Ferro (2014), QJRMS 140,
//! 1917–1923; Weigel, Liniger & Appenzeller (2007), MWR 135, 118–124; Murphy (1973), JAM 12,
//! 595–600; WMO SVS-LRF (2006) for the long-range forecast conventions.

use ndarray::{s, Array3, Array4, ArrayView5};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};

mod region;
pub use region::{regional_mean, Region};

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

/// Ranked probability score of one forecast: `Σ_{c<K} (F_c − O_c)²` with cumulative
/// probabilities, the observation in category `observed`.
pub fn rps(probs: &[f64], observed: usize) -> f64 {
    let mut f = 0.0;
    let mut total = 0.0;
    for (c, &p) in probs.iter().enumerate().take(probs.len().saturating_sub(1)) {
        f += p;
        let o = if observed <= c { 1.0 } else { 0.0 };
        total += (f - o).powi(2);
    }
    total
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
        let b = ((pi * bins as f64) as usize).min(bins - 1);
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

#[cfg(test)]
mod tests;

/// Skill maps of one forecast system: `(lead, y, x)` per score, `(category, lead, y, x)` for
/// the per-category scores.
#[derive(Debug, Clone)]
pub struct SkillMaps {
    /// Anomaly correlation of the ensemble mean (of its anomaly when given).
    pub acc: Array3<f32>,
    /// Root-mean-square error of the ensemble mean.
    pub rmse: Array3<f32>,
    /// Mean error of the ensemble mean.
    pub bias: Array3<f32>,
    /// MSE skill score.
    pub msss: Array3<f32>,
    /// Mean RPS of the category probabilities.
    pub rps: Array3<f32>,
    /// RPSS against climatological probabilities.
    pub rpss: Array3<f32>,
    /// Mean fair CRPS of the members.
    pub crps: Array3<f32>,
    /// Fair CRPSS against the observed climatology (other years) as an ensemble.
    pub crpss: Array3<f32>,
    /// Brier score per category.
    pub brier: Array4<f32>,
    /// ROC area per category.
    pub roc_area: Array4<f32>,
}

/// What [`skill_maps`] scores.
#[derive(Debug, Clone, Copy)]
pub struct ScoredForecast<'a> {
    /// Category probabilities `(start, category, lead, y, x)` (cross-validated).
    pub probability: ArrayView5<'a, f32>,
    /// Ensemble mean `(start, 1, lead, y, x)` (RMSE, bias, MSSS).
    pub ensemble_mean: ArrayView5<'a, f32>,
    /// Ensemble-mean anomaly `(start, 1, lead, y, x)` for the ACC; `None`: the mean. (A
    /// cross-validated calibrated mean `ō₋ᵧ + A` carries `−o_y/(n−1)` and would bias the
    /// correlation low; its anomaly does not.)
    pub anomaly: Option<ArrayView5<'a, f32>>,
    /// Members `(start, member, lead, y, x)` for the CRPS (`None`: CRPS left NaN).
    pub members: Option<ArrayView5<'a, f32>>,
    /// Observations on the same starts and leads `(start, 1, lead, y, x)`.
    pub obs: ArrayView5<'a, f32>,
    /// Category levels of the probabilities (terciles: 1/3, 2/3).
    pub levels: &'a [f64],
}

/// Scores of a hindcast per cell and lead over its start years. The observed category of a
/// year comes from the observed climatology of the other years (leave-one-year-out), as the
/// cross-validated forecast's own edges do.
pub fn skill_maps(s: &ScoredForecast) -> Result<SkillMaps> {
    let (ni, ncat, nl, ny, nx) = s.probability.dim();
    if ncat != s.levels.len() + 1 {
        return Err(Error::invalid(
            "verification",
            format!("{ncat} categories but {} levels", s.levels.len()),
        ));
    }
    let same =
        |d: (usize, usize, usize, usize, usize)| d.0 == ni && d.2 == nl && d.3 == ny && d.4 == nx;
    if !same(s.obs.dim())
        || !same(s.ensemble_mean.dim())
        || s.members.is_some_and(|m| !same(m.dim()))
    {
        return Err(Error::mismatch(
            "verification",
            "forecast, members and observations must share starts, leads and grid",
        ));
    }
    let map3 = || Array3::<f32>::from_elem((nl, ny, nx), f32::NAN);
    let map4 = || Array4::<f32>::from_elem((ncat, nl, ny, nx), f32::NAN);
    let mut maps = SkillMaps {
        acc: map3(),
        rmse: map3(),
        bias: map3(),
        msss: map3(),
        rps: map3(),
        rpss: map3(),
        crps: map3(),
        crpss: map3(),
        brier: map4(),
        roc_area: map4(),
    };
    let cells: Vec<CellScores> = (0..nl * ny * nx)
        .into_par_iter()
        .map(|k| cell_scores(s, k / (ny * nx), (k / nx) % ny, k % nx))
        .collect();
    for (k, (a, b)) in cells.into_iter().enumerate() {
        let (l, y, x) = (k / (ny * nx), (k / nx) % ny, k % nx);
        let idx = [l, y, x];
        for (arr, v) in [
            (&mut maps.acc, a[0]),
            (&mut maps.rmse, a[1]),
            (&mut maps.bias, a[2]),
            (&mut maps.msss, a[3]),
            (&mut maps.rps, a[4]),
            (&mut maps.rpss, a[5]),
            (&mut maps.crps, a[6]),
            (&mut maps.crpss, a[7]),
        ] {
            arr[idx] = v;
        }
        for (c, (bs, roc)) in b.into_iter().enumerate() {
            maps.brier[[c, l, y, x]] = bs;
            maps.roc_area[[c, l, y, x]] = roc;
        }
    }
    Ok(maps)
}

/// Scores of one cell and lead: `[acc, rmse, bias, msss, rps, rpss, crps, crpss]` and per
/// category `(brier, roc_area)`.
type CellScores = ([f32; 8], Vec<(f32, f32)>);

fn cell_scores(s: &ScoredForecast, l: usize, y: usize, x: usize) -> CellScores {
    let ni = s.obs.dim().0;
    let ncat = s.levels.len() + 1;
    let obs: Vec<f64> = (0..ni).map(|i| f64::from(s.obs[[i, 0, l, y, x]])).collect();
    let mean: Vec<f64> = (0..ni)
        .map(|i| f64::from(s.ensemble_mean[[i, 0, l, y, x]]))
        .collect();
    let mut d = deterministic(&mean, &obs);
    if let Some(a) = &s.anomaly {
        let anom: Vec<f64> = (0..ni).map(|i| f64::from(a[[i, 0, l, y, x]])).collect();
        d.acc = pearson_r(&anom, &obs);
    }
    // Observed category of each year against the other years' observed quantiles.
    let mut others = Vec::with_capacity(ni);
    let mut cats: Vec<Option<usize>> = Vec::with_capacity(ni);
    let mut crps_sum = (0.0, 0.0, 0usize);
    let mut members = Vec::new();
    let mut clim = Vec::new();
    for i in 0..ni {
        if !obs[i].is_finite() {
            cats.push(None);
            continue;
        }
        others.clear();
        others.extend(
            (0..ni)
                .filter(|&j| j != i && obs[j].is_finite())
                .map(|j| obs[j] as f32),
        );
        others.sort_unstable_by(f32::total_cmp);
        let edges: Vec<f64> = s
            .levels
            .iter()
            .map(|&p| crate::stats::quantile_sorted(&others, p))
            .collect();
        cats.push(crate::ensemble::category_of(obs[i] as f32, &edges));
        if let Some(mv) = &s.members {
            members.clear();
            members.extend(
                mv.slice(s![i, .., l, y, x])
                    .iter()
                    .filter(|v| v.is_finite())
                    .map(|&v| f64::from(v)),
            );
            clim.clear();
            clim.extend(others.iter().map(|&v| f64::from(v)));
            let c = crps_ensemble(&mut members, obs[i], true);
            let cc = crps_ensemble(&mut clim, obs[i], true);
            if c.is_finite() && cc.is_finite() {
                crps_sum.0 += c;
                crps_sum.1 += cc;
                crps_sum.2 += 1;
            }
        }
    }
    let clim_probs: Vec<f64> = crate::ensemble::category_level_bounds(s.levels)
        .iter()
        .map(|(lo, hi)| hi - lo)
        .collect();
    let (mut r, mut rc, mut n) = (0.0, 0.0, 0usize);
    let mut per_cat_p = vec![Vec::with_capacity(ni); ncat];
    let mut per_cat_o = vec![Vec::with_capacity(ni); ncat];
    let mut probs = vec![0.0; ncat];
    for (i, cat) in cats.iter().enumerate() {
        let Some(oc) = *cat else { continue };
        for (c, p) in probs.iter_mut().enumerate() {
            *p = f64::from(s.probability[[i, c, l, y, x]]);
        }
        if probs.iter().any(|p| !p.is_finite()) {
            continue;
        }
        r += rps(&probs, oc);
        rc += rps(&clim_probs, oc);
        n += 1;
        for c in 0..ncat {
            per_cat_p[c].push(probs[c]);
            per_cat_o[c].push(oc == c);
        }
    }
    let (rps_mean, rpss) = if n > 0 {
        (r / n as f64, if rc > 0.0 { 1.0 - r / rc } else { f64::NAN })
    } else {
        (f64::NAN, f64::NAN)
    };
    let (crps_mean, crpss) = if crps_sum.2 > 0 {
        (
            crps_sum.0 / crps_sum.2 as f64,
            if crps_sum.1 > 0.0 {
                1.0 - crps_sum.0 / crps_sum.1
            } else {
                f64::NAN
            },
        )
    } else {
        (f64::NAN, f64::NAN)
    };
    let per_cat = (0..ncat)
        .map(|c| {
            if per_cat_p[c].is_empty() {
                (f32::NAN, f32::NAN)
            } else {
                (
                    brier(&per_cat_p[c], &per_cat_o[c], 10).score as f32,
                    roc_area(&per_cat_p[c], &per_cat_o[c]) as f32,
                )
            }
        })
        .collect();
    (
        [
            d.acc as f32,
            d.rmse as f32,
            d.bias as f32,
            d.msss as f32,
            rps_mean as f32,
            rpss as f32,
            crps_mean as f32,
            crpss as f32,
        ],
        per_cat,
    )
}
