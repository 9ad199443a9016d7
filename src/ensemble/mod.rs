//! Multi-model ensemble combination: category edges, category probabilities, ensemble
//! statistics.
//!
//! Members:
//! - [`category_edges`]: sample quantiles of a climatology at the category levels (terciles
//!   `1/3, 2/3` by default; extremes such as `0.1, 0.9`), Hyndman–Fan type 7 (numpy's default).
//! - [`category_of`]: the category of a value given the edges.
//! - [`Weights`] and [`model_weights`]: pooled (every member equal), model-equal (each model
//!   `1/M` whatever its member count), or given (skill weights from verification).
//! - [`category_probabilities`]: the weighted share of members in each category.
//! - [`forecast_probabilities`]: per cell and lead, for `M` models' forecasts with edges from
//!   each model's own hindcast climatology (the C3S way, which removes the residual bias of each
//!   model), in parallel over cells.
//! - [`ensemble_mean`], [`weighted_percentile`]: deterministic fields.
//!
//! # Formulas
//! With model weights `w_m` (`Σ w_m = 1`), `n_m` valid members of model `m` and `k_{m,c}` of them
//! in category `c`: `P_c = Σ_m w_m k_{m,c} / n_m`. Pooled weights `w_m = n_m / Σ n` make every
//! member count the same; model-equal `w_m = 1/M`. Categories (terciles): a value strictly below
//! the lower edge is below normal, strictly above the upper edge above normal, otherwise near
//! normal — for more edges, a value on an edge belongs to the category above the lower edge
//! (see [`category_of`]).
//!
//! # Missing data
//! NaN members are not counted; a model without valid members drops out and the other weights
//! are renormalised; no valid member at all gives NaN probabilities.
//!
//! # References
//! Hagedorn, Doblas-Reyes & Palmer (2005), Tellus 57A, 219–233 (multi-model combination);
//! Hyndman & Fan (1996), Am. Stat. 50, 361–365 (sample quantiles); Copernicus C3S seasonal
//! forecast graphical products (model-climate terciles).

use ndarray::{s, Array3, Array5, ArrayView5, ArrayViewMut4, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::cube::Cube;
use crate::error::{Error, Result};
use crate::stats::quantile_sorted;

pub mod combine;
pub use combine::{
    combine, CombineInput, CombineSpec, Combined, EdgeSource, Products, SkillScore, WeightScheme,
};

/// Where a climatology cannot be split into the categories at `levels`: per `(lead, y, x)`
/// of `(start, member, lead, y, x)` values, true when the lowest category edge is not above
/// the smallest value (the lowest category cannot occur: a third or more of the sample ties
/// at its minimum — dry seasons, deserts with zero rain) or two edges coincide; also true
/// without any finite value. A forecast of those categories has no meaning there (WMO
/// LC-LRFMME and C3S grey such cells as a "dry season mask").
pub fn collapsed_categories(climatology: ArrayView5<f32>, levels: &[f64]) -> Array3<bool> {
    let (_, _, nl, ny, nx) = climatology.dim();
    let mut out = Array3::from_elem((nl, ny, nx), true);
    let mut sample = Vec::new();
    let mut edges = vec![0.0; levels.len()];
    for ((l, y, x), flag) in out.indexed_iter_mut() {
        sample.clear();
        sample.extend(
            climatology
                .slice(s![.., .., l, y, x])
                .iter()
                .copied()
                .filter(|v| v.is_finite()),
        );
        if sample.is_empty() {
            continue;
        }
        sample.sort_unstable_by(f32::total_cmp);
        category_edges(&sample, levels, &mut edges);
        let lowest_possible = match edges.first() {
            None => true,
            Some(&e) => e > f64::from(sample[0]),
        };
        *flag = !lowest_possible || edges.windows(2).any(|w| w[1] <= w[0]);
    }
    out
}

/// Tercile levels.
pub const TERCILES: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];

/// Sample quantiles (type 7) of an ascending, NaN-free climatology at `levels`.
pub fn category_edges(sorted: &[f32], levels: &[f64], out: &mut [f64]) {
    for (o, &p) in out.iter_mut().zip(levels) {
        *o = quantile_sorted(sorted, p);
    }
}

/// Category of `x` for ascending `edges` (`edges.len() + 1` categories): `0` when
/// `x < edges[0]`, the last when `x > edges[last]`, otherwise `1 + #{j ≥ 1 : edges[j] < x}` —
/// so for terciles a value on an edge is near normal. `None` for NaN.
pub fn category_of(x: f32, edges: &[f64]) -> Option<usize> {
    if x.is_nan() {
        return None;
    }
    Some(category_index(f64::from(x), edges))
}

/// [`category_of`] for a non-NaN value, without branches: `[x ≥ e₀] + Σ_{j≥1} [x > e_j]` (for
/// ascending edges the same as the rule above).
#[inline]
fn category_index(x: f64, edges: &[f64]) -> usize {
    match edges.split_first() {
        None => 0,
        Some((e0, rest)) => {
            usize::from(x >= *e0) + rest.iter().map(|&e| usize::from(x > e)).sum::<usize>()
        }
    }
}

/// The climatological quantile levels bounding each of the `levels.len() + 1` categories:
/// `(0, l₀), (l₀, l₁), …, (l_last, 1)`. Their widths are the climatological probabilities.
pub fn category_level_bounds(levels: &[f64]) -> Vec<(f64, f64)> {
    (0..=levels.len())
        .map(|c| {
            let lo = if c == 0 { 0.0 } else { levels[c - 1] };
            (lo, levels.get(c).copied().unwrap_or(1.0))
        })
        .collect()
}

/// How members of different models are weighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Every member counts the same.
    Pooled,
    /// Every model counts the same, whatever its member count.
    ModelEqual,
    /// Given weights per model (non-negative; normalised to sum 1).
    Given(Vec<f64>),
}

/// Model weights for models with `valid[m]` valid members: sum 1 over the models that have any
/// (all zero when none does). Given weights that are all zero on the valid models fall back to
/// model-equal.
pub fn model_weights(weights: &Weights, valid: &[usize], out: &mut [f64]) {
    let total_members: usize = valid.iter().sum();
    let n_models = valid.iter().filter(|&&n| n > 0).count();
    for (m, o) in out.iter_mut().enumerate() {
        *o = if valid[m] == 0 {
            0.0
        } else {
            match weights {
                Weights::Pooled => valid[m] as f64 / total_members as f64,
                Weights::ModelEqual => 1.0 / n_models as f64,
                Weights::Given(w) => w.get(m).copied().unwrap_or(0.0).max(0.0),
            }
        };
    }
    let sum: f64 = out.iter().sum();
    if sum > 0.0 {
        out.iter_mut().for_each(|w| *w /= sum);
    } else if n_models > 0 {
        model_weights(&Weights::ModelEqual, valid, out);
    }
}

/// Reusable buffers of [`category_probabilities`]: nothing is allocated per cell.
#[derive(Debug, Default, Clone)]
pub struct ProbScratch {
    valid: Vec<usize>,
    weights: Vec<f64>,
    counts: Vec<u32>,
}

impl ProbScratch {
    /// Valid (finite) member counts of each model and the model weights over those with any.
    fn fill<M: AsRef<[f32]>>(&mut self, members: &[M], weights: &Weights) {
        self.valid.clear();
        self.valid.extend(
            members
                .iter()
                .map(|v| v.as_ref().iter().filter(|x| x.is_finite()).count()),
        );
        self.weights.clear();
        self.weights.resize(members.len(), 0.0);
        model_weights(weights, &self.valid, &mut self.weights);
    }
}

/// Valid member counts and model weights (allocating; for the one-off statistics).
fn valid_and_weights<M: AsRef<[f32]>>(members: &[M], weights: &Weights) -> (Vec<usize>, Vec<f64>) {
    let mut s = ProbScratch::default();
    s.fill(members, weights);
    (s.valid, s.weights)
}

/// Weighted category probabilities of `M` models' members (`members[m]`), each model with its
/// own edges (`edges[m]`, ascending) or all with the one set `edges[0]` when only one is given:
/// `out[c] = Σ_m w_m k_{m,c} / n_m`. `out` has `edges[0].len() + 1` entries; NaN when no model
/// has a valid member.
pub fn category_probabilities<M: AsRef<[f32]>, E: AsRef<[f64]>>(
    members: &[M],
    edges: &[E],
    weights: &Weights,
    out: &mut [f64],
    scratch: &mut ProbScratch,
) {
    let nm = members.len();
    let ncat = out.len();
    // One pass per model: valid members and their categories.
    scratch.valid.clear();
    scratch.counts.clear();
    scratch.counts.resize(nm * ncat, 0);
    for m in 0..nm {
        let e = edges[m.min(edges.len() - 1)].as_ref();
        let counts = &mut scratch.counts[m * ncat..(m + 1) * ncat];
        let mut n = 0;
        for &x in members[m].as_ref() {
            if x.is_finite() {
                counts[category_index(f64::from(x), e).min(ncat - 1)] += 1;
                n += 1;
            }
        }
        scratch.valid.push(n);
    }
    if scratch.valid.iter().all(|&n| n == 0) {
        out.fill(f64::NAN);
        return;
    }
    scratch.weights.clear();
    scratch.weights.resize(nm, 0.0);
    model_weights(weights, &scratch.valid, &mut scratch.weights);
    out.fill(0.0);
    for m in 0..nm {
        let n = scratch.valid[m];
        if n == 0 {
            continue;
        }
        let share = scratch.weights[m] / n as f64;
        for (o, &k) in out
            .iter_mut()
            .zip(&scratch.counts[m * ncat..(m + 1) * ncat])
        {
            *o += share * f64::from(k);
        }
    }
}

/// Weighted ensemble mean: `Σ_m w_m · mean(members of m)`; NaN without valid members.
pub fn ensemble_mean(members: &[&[f32]], weights: &Weights) -> f64 {
    let (valid, w) = valid_and_weights(members, weights);
    if valid.iter().all(|&n| n == 0) {
        return f64::NAN;
    }
    members
        .iter()
        .zip(&w)
        .zip(&valid)
        .filter(|(_, &n)| n > 0)
        .map(|((v, &wm), &n)| {
            wm * v
                .iter()
                .filter(|x| x.is_finite())
                .map(|&x| f64::from(x))
                .sum::<f64>()
                / n as f64
        })
        .sum()
}

/// Reusable buffers of [`weighted_percentiles`].
#[derive(Debug, Default, Clone)]
pub struct PercentileScratch {
    probs: ProbScratch,
    pairs: Vec<(f32, f64)>,
    pos: Vec<f64>,
}

/// Percentiles at `levels` (0–1) of the pooled members where each member carries its model's
/// weight divided by its valid member count: the weighted type-7 analogue (for equal member
/// weights it is numpy's `quantile(..., method="linear")`, which is what CDO `enspctl` computes
/// with `--percentile linear`). The members are sorted once for all levels; NaN without valid
/// members.
pub fn weighted_percentiles<M: AsRef<[f32]>>(
    members: &[M],
    weights: &Weights,
    levels: &[f64],
    out: &mut [f64],
    scratch: &mut PercentileScratch,
) {
    scratch.probs.fill(members, weights);
    let (valid, w) = (&scratch.probs.valid, &scratch.probs.weights);
    let pairs = &mut scratch.pairs;
    pairs.clear();
    for (m, v) in members.iter().enumerate() {
        for &x in v.as_ref().iter().filter(|x| x.is_finite()) {
            pairs.push((x, w[m] / valid[m] as f64));
        }
    }
    let n = pairs.len();
    if n == 0 {
        out.fill(f64::NAN);
        return;
    }
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    if n == 1 {
        out.fill(f64::from(pairs[0].0));
        return;
    }
    // Plotting position of member i: the weight before it plus half its own, rescaled so the
    // first member sits at 0 and the last at 1 (type 7 when weights are equal).
    let pos = &mut scratch.pos;
    pos.clear();
    let mut cum = 0.0;
    for &(_, wi) in pairs.iter() {
        pos.push(cum + wi / 2.0);
        cum += wi;
    }
    let (a, b) = (pos[0], pos[n - 1]);
    for (o, &p) in out.iter_mut().zip(levels) {
        let target = a + p.clamp(0.0, 1.0) * (b - a);
        let k = pos.partition_point(|&q| q <= target).clamp(1, n - 1);
        let (p0, p1) = (pos[k - 1], pos[k]);
        let (x0, x1) = (f64::from(pairs[k - 1].0), f64::from(pairs[k].0));
        *o = if p1 > p0 {
            x0 + (target - p0) / (p1 - p0) * (x1 - x0)
        } else {
            x0
        };
    }
}

/// One weighted percentile (see [`weighted_percentiles`]); allocates, for one-off use.
pub fn weighted_percentile<M: AsRef<[f32]>>(members: &[M], weights: &Weights, p: f64) -> f64 {
    let mut out = [0.0];
    weighted_percentiles(
        members,
        weights,
        &[p],
        &mut out,
        &mut PercentileScratch::default(),
    );
    out[0]
}

/// Forecast category probabilities of `M` models on one grid: for each cell and lead, each
/// model's edges come from its own hindcast (members × years) at `levels`; the forecast members
/// are counted with `weights`. Returns `(forecast init, category, lead, y, x)` probabilities.
pub fn forecast_probabilities(
    hindcasts: &[&Cube],
    forecasts: &[&Cube],
    levels: &[f64],
    weights: &Weights,
) -> Result<Array5<f32>> {
    let nmod = hindcasts.len();
    if nmod == 0 || forecasts.len() != nmod {
        return Err(Error::invalid(
            "ensemble",
            format!(
                "{} hindcasts and {} forecasts: give one of each per model",
                nmod,
                forecasts.len()
            ),
        ));
    }
    let (_, _, nl, ny, nx) = forecasts[0].values.dim();
    let nf = forecasts[0].n_init();
    for (h, f) in hindcasts.iter().zip(forecasts) {
        if f.coords.spatial.shape() != (ny, nx) || h.coords.spatial.shape() != (ny, nx) {
            return Err(Error::mismatch(
                "models",
                format!(
                    "{} is not on the grid of {}; regrid first",
                    f.meta.model, forecasts[0].meta.model
                ),
            ));
        }
        if h.coords.lead != f.coords.lead
            || f.coords.lead != forecasts[0].coords.lead
            || f.n_init() != nf
        {
            return Err(Error::mismatch(
                "models",
                format!(
                    "{} has other leads or start dates than {}",
                    f.meta.model, forecasts[0].meta.model
                ),
            ));
        }
    }
    let ncat = levels.len() + 1;
    let mut out = Array5::<f32>::from_elem((nf, ncat, nl, ny, nx), f32::NAN);
    Zip::indexed(out.axis_iter_mut(Axis(3))).par_for_each(|y, mut row: ArrayViewMut4<f32>| {
        let mut clim: Vec<Vec<f32>> = vec![Vec::new(); nmod];
        let mut edges: Vec<Vec<f64>> = vec![vec![0.0; levels.len()]; nmod];
        let mut members: Vec<Vec<f32>> = vec![Vec::new(); nmod];
        let mut probs = vec![0.0; ncat];
        let mut scratch = ProbScratch::default();
        for l in 0..nl {
            for x in 0..nx {
                for m in 0..nmod {
                    clim[m].clear();
                    clim[m].extend(
                        hindcasts[m]
                            .values
                            .slice(s![.., .., l, y, x])
                            .iter()
                            .copied()
                            .filter(|v| v.is_finite()),
                    );
                    clim[m].sort_unstable_by(f32::total_cmp);
                    category_edges(&clim[m], levels, &mut edges[m]);
                }
                for i in 0..nf {
                    for m in 0..nmod {
                        members[m].clear();
                        // A model without a climatology at this cell cannot be placed in it.
                        if !clim[m].is_empty() {
                            members[m].extend(
                                forecasts[m]
                                    .values
                                    .slice(s![i, .., l, y, x])
                                    .iter()
                                    .copied(),
                            );
                        }
                    }
                    category_probabilities(&members, &edges, weights, &mut probs, &mut scratch);
                    for c in 0..ncat {
                        row[[i, c, l, x]] = probs[c] as f32;
                    }
                }
            }
        }
    });
    Ok(out)
}

/// Deterministic fields of a multi-model forecast, each `(init, k, lead, y, x)`.
#[derive(Debug, Clone)]
pub struct EnsembleFields {
    /// Weighted ensemble mean (`k` = 1).
    pub mean: Array5<f32>,
    /// Weighted standard deviation of the members around the mean (`k` = 1): the spread.
    pub spread: Array5<f32>,
    /// Weighted percentiles, one per level asked for (`k` = levels).
    pub percentiles: Array5<f32>,
}

/// Ensemble mean, spread and percentiles of `M` models on one grid (same starts, leads, grid),
/// members weighted by [`Weights`] (each member of model `m` carries `w_m / n_m`).
///
/// The mean is one streaming pass over the members' maps (per model a NaN-aware sum and count,
/// then `Σ_m w_m · mean_m`), parallel over `(init, lead)`: it is bound by memory bandwidth.
/// Percentiles need each cell's members together: they are gathered per latitude row.
pub fn ensemble_fields(
    cubes: &[&Cube],
    weights: &Weights,
    levels: &[f64],
) -> Result<EnsembleFields> {
    let (mean, spread) = ensemble_mean_spread(cubes, weights)?;
    let percentiles = ensemble_percentiles(cubes, weights, levels)?;
    Ok(EnsembleFields {
        mean,
        spread,
        percentiles,
    })
}

fn check_models(cubes: &[&Cube]) -> Result<(usize, usize, usize, usize)> {
    let first = *cubes
        .first()
        .ok_or_else(|| Error::invalid("ensemble", "no model given"))?;
    let (ni, _, nl, ny, nx) = first.values.dim();
    for c in cubes {
        if c.n_init() != ni || c.n_lead() != nl || c.coords.spatial.shape() != (ny, nx) {
            return Err(Error::mismatch(
                "models",
                format!(
                    "{} and {} differ in start dates, leads or grid",
                    first.meta.model, c.meta.model
                ),
            ));
        }
    }
    Ok((ni, nl, ny, nx))
}

/// Adds one member's values to per-cell sums, sums of squares and counts of finite values
/// (f64 sums). Runs the AVX2 build of the loop where the processor has it (4 f64 lanes instead
/// of SSE2's 2; the same operations in the same order, so the same results).
fn accumulate_member(block: &[f32], sum: &mut [f64], sumsq: &mut [f64], count: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        unsafe { accumulate_member_avx2(block, sum, sumsq, count) };
        return;
    }
    accumulate_member_body(block, sum, sumsq, count);
}

/// [`accumulate_member_body`] compiled for AVX2.
///
/// # Safety
/// Only on processors with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn accumulate_member_avx2(
    block: &[f32],
    sum: &mut [f64],
    sumsq: &mut [f64],
    count: &mut [u32],
) {
    accumulate_member_body(block, sum, sumsq, count);
}

#[inline(always)]
fn accumulate_member_body(block: &[f32], sum: &mut [f64], sumsq: &mut [f64], count: &mut [u32]) {
    let n = block.len().min(sum.len()).min(sumsq.len()).min(count.len());
    let (sum, sumsq, count, block) = (&mut sum[..n], &mut sumsq[..n], &mut count[..n], &block[..n]);
    for c in 0..n {
        let x = block[c];
        let ok = crate::stats::finite(x); // vectorisable, unlike is_finite
        let v = if ok { f64::from(x) } else { 0.0 };
        sum[c] += v;
        sumsq[c] += v * v;
        count[c] += u32::from(ok);
    }
}

/// The weighted ensemble mean and spread `(init, 1, lead, y, x)` (see [`ensemble_fields`]).
pub fn ensemble_mean_spread(
    cubes: &[&Cube],
    weights: &Weights,
) -> Result<(Array5<f32>, Array5<f32>)> {
    let (ni, nl, ny, nx) = check_models(cubes)?;
    let ncell = ny * nx;
    let mut mean = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    let mut spread = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    // Mean and spread: per (init, lead) map, streaming over the members.
    Zip::indexed(mean.outer_iter_mut())
        .and(spread.outer_iter_mut())
        .par_for_each(
            |i,
             mut mean_i: ndarray::ArrayViewMut4<f32>,
             mut spread_i: ndarray::ArrayViewMut4<f32>| {
                // Per model, sums for every lead at once: each start's block of a model
                // (members x leads x cells) is then read front to back.
                let mut sum = vec![0f64; nl * ncell];
                let mut sumsq = vec![0f64; nl * ncell];
                let mut count = vec![0u32; nl * ncell];
                let mut total = vec![0f64; nl * ncell];
                let mut total_sq = vec![0f64; nl * ncell];
                let mut wsum = vec![0f64; nl * ncell];
                // Model-equal totals: the fallback of `model_weights` where given weights are all
                // zero on the models present.
                let mut eq_total = vec![0f64; nl * ncell];
                let mut eq_total_sq = vec![0f64; nl * ncell];
                let mut eq_models = vec![0u32; nl * ncell];
                for (m, c) in cubes.iter().enumerate() {
                    sum.iter_mut().for_each(|v| *v = 0.0);
                    sumsq.iter_mut().for_each(|v| *v = 0.0);
                    count.iter_mut().for_each(|v| *v = 0);
                    for k in 0..c.n_member() {
                        let block = c.values.slice(s![i, k, .., .., ..]);
                        let block = block.as_slice().expect("standard layout");
                        accumulate_member(block, &mut sum, &mut sumsq, &mut count);
                    }
                    // Pooled: every member weighs 1; otherwise the model weighs w_m.
                    let wm = match weights {
                        Weights::Pooled => None,
                        Weights::ModelEqual => Some(1.0),
                        Weights::Given(w) => Some(w.get(m).copied().unwrap_or(0.0).max(0.0)),
                    };
                    for cell in 0..nl * ncell {
                        let n = count[cell];
                        if n == 0 {
                            continue;
                        }
                        let (mu, sq) = (sum[cell] / f64::from(n), sumsq[cell] / f64::from(n));
                        eq_total[cell] += mu;
                        eq_total_sq[cell] += sq;
                        eq_models[cell] += 1;
                        let w = wm.unwrap_or(f64::from(n));
                        if w <= 0.0 {
                            continue;
                        }
                        total[cell] += w * mu;
                        total_sq[cell] += w * sq;
                        wsum[cell] += w;
                    }
                }
                let mean_i = mean_i.as_slice_mut().expect("standard layout");
                let spread_i = spread_i.as_slice_mut().expect("standard layout");
                for cell in 0..nl * ncell {
                    let (t, tsq, ws) = if wsum[cell] > 0.0 {
                        (total[cell], total_sq[cell], wsum[cell])
                    } else {
                        (
                            eq_total[cell],
                            eq_total_sq[cell],
                            f64::from(eq_models[cell]),
                        )
                    };
                    if ws > 0.0 {
                        let mu = t / ws;
                        let var = (tsq / ws - mu * mu).max(0.0);
                        mean_i[cell] = mu as f32;
                        spread_i[cell] = var.sqrt() as f32;
                    } else {
                        mean_i[cell] = f32::NAN;
                        spread_i[cell] = f32::NAN;
                    }
                }
            },
        );
    Ok((mean, spread))
}

/// Weighted percentiles `(init, level, lead, y, x)` (see [`ensemble_fields`]).
pub fn ensemble_percentiles(
    cubes: &[&Cube],
    weights: &Weights,
    levels: &[f64],
) -> Result<Array5<f32>> {
    let (ni, nl, _, nx) = check_models(cubes)?;
    let nmod = cubes.len();
    // Gather each cell's members, row by row.
    let np = levels.len();
    let ny = cubes[0].coords.spatial.shape().0;
    let mut percentiles = Array5::<f32>::from_elem((ni, np, nl, ny, nx), f32::NAN);
    Zip::indexed(percentiles.axis_iter_mut(Axis(3))).par_for_each(
        |y, mut row: ArrayViewMut4<f32>| {
            let mut members: Vec<Vec<f32>> = vec![Vec::new(); nmod];
            let mut scratch = PercentileScratch::default();
            let mut out = vec![0.0; np];
            for i in 0..ni {
                for l in 0..nl {
                    for x in 0..nx {
                        for (m, c) in cubes.iter().enumerate() {
                            members[m].clear();
                            members[m].extend(c.values.slice(s![i, .., l, y, x]).iter().copied());
                        }
                        weighted_percentiles(&members, weights, levels, &mut out, &mut scratch);
                        for (k, &q) in out.iter().enumerate() {
                            row[[i, k, l, x]] = q as f32;
                        }
                    }
                }
            }
        },
    );
    Ok(percentiles)
}

#[cfg(test)]
mod tests;
