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
//! - [`forecast_probabilities`], [`model_edge_probabilities`]: per cell and lead, for `M`
//!   models' forecasts with edges from each model's own hindcast climatology (the C3S way, which
//!   removes the residual bias of each model), in parallel over `(lead, latitude row)`.
//! - [`ensemble_mean`], [`weighted_percentile`]: deterministic fields of one cell;
//!   [`ensemble_mean_spread`], [`ensemble_percentiles`], [`ensemble_fields`]: of whole cubes.
//!
//! # Cost
//! The mean and spread stream every member once (register-blocked over 16 cells, the next
//! lines prefetched; see `mean_spread.rs`): on the synth medium preset they run at 55–70 % of
//! the speed of merely reading the members and 1.7–2.1× below the STREAM triad
//! (`benches/ensemble.rs` measures all three in one run). Category edges come from selection,
//! not sorting, on cell-major copies of one latitude row at a time.
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
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cube::{to_cell_major, Cube};
use crate::error::{Error, Result};
use crate::stats::{from_order_key, order_key, quantile_sorted};
use mean_spread::{mean_spread_cells, ModelBlock, MEAN_TASK};

pub mod combine;
mod mean_spread;
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

/// Category probabilities `(start, category, lead, y, x)` of `M` models' forecasts, each
/// model's members placed against the edges of its own hindcast climatology (all its members ×
/// starts at the cell and lead, type-7 quantiles at `levels`, in-sample) — the C3S way, which
/// removes each model's residual bias. See [`model_edge_probabilities`].
pub fn forecast_probabilities(
    hindcasts: &[&Cube],
    forecasts: &[&Cube],
    levels: &[f64],
    weights: &Weights,
) -> Result<Array5<f32>> {
    let mut out = model_edge_probabilities(hindcasts, &[forecasts], levels, weights)?;
    Ok(out.pop().expect("one target set"))
}

/// [`forecast_probabilities`] for several sets of targets at once (say every hindcast start
/// and the forecast), the edges computed once per cell and lead: one array per set.
///
/// Work is split by `(lead, latitude row)`: the row's values of each model are gathered
/// cell-major (a cell's members × starts together) from the contiguous longitude rows of the
/// cubes, each climatology's edges come from selection (`select_nth_unstable`, O(n), on
/// order-preserving integer keys) instead of a sort, and the counting runs over the gathered
/// members. A model without a finite hindcast value at a cell takes no part there.
pub fn model_edge_probabilities(
    hindcasts: &[&Cube],
    targets: &[&[&Cube]],
    levels: &[f64],
    weights: &Weights,
) -> Result<Vec<Array5<f32>>> {
    let nmod = hindcasts.len();
    let first = *hindcasts
        .first()
        .ok_or_else(|| Error::invalid("ensemble", "no model given"))?;
    let (_, _, nl, ny, nx) = first.values.dim();
    for set in targets {
        if set.len() != nmod {
            return Err(Error::invalid(
                "ensemble",
                format!(
                    "{} hindcasts and {} forecasts: give one of each per model",
                    nmod,
                    set.len()
                ),
            ));
        }
        let nf = set[0].n_init();
        for (h, f) in hindcasts.iter().zip(set.iter()) {
            if f.coords.spatial.shape() != (ny, nx) || h.coords.spatial.shape() != (ny, nx) {
                return Err(Error::mismatch(
                    "models",
                    format!(
                        "{} is not on the grid of {}; regrid first",
                        f.meta.model, first.meta.model
                    ),
                ));
            }
            if h.coords.lead != f.coords.lead
                || f.coords.lead != first.coords.lead
                || f.n_init() != nf
            {
                return Err(Error::mismatch(
                    "models",
                    format!(
                        "{} has other leads or start dates than {}",
                        f.meta.model, first.meta.model
                    ),
                ));
            }
        }
    }
    let ascending = levels.windows(2).all(|w| w[0] <= w[1]);
    if !ascending || levels.iter().any(|p| !(0.0..=1.0).contains(p)) {
        return Err(Error::invalid(
            "ensemble",
            format!("category levels {levels:?} must ascend within [0, 1]"),
        ));
    }
    let ncat = levels.len() + 1;
    let row_tasks: Vec<(usize, usize)> =
        (0..nl).flat_map(|l| (0..ny).map(move |y| (l, y))).collect();
    // Per-thread buffers of the gathered rows: hindcasts, then each target set's models.
    let new_rows = || {
        let n = nmod * (1 + targets.len());
        (0..n).map(|_| CellMajorRow::default()).collect::<Vec<_>>()
    };
    // Per (lead, row): for each target set, (start, category, x) probabilities.
    let rows: Vec<Vec<Vec<f32>>> = row_tasks
        .par_iter()
        .map_init(new_rows, |buffers, &(l, y)| {
            let all = hindcasts
                .iter()
                .chain(targets.iter().flat_map(|set| set.iter()));
            for (buf, c) in buffers.iter_mut().zip(all) {
                buf.gather(c, l, y);
            }
            let (clim, gathered) = buffers.split_at(nmod);
            let mut out: Vec<Vec<f32>> = targets
                .iter()
                .map(|set| vec![f32::NAN; set[0].n_init() * ncat * nx])
                .collect();
            let mut keys = Vec::new();
            let mut edges = vec![vec![0.0; levels.len()]; nmod];
            let mut has_clim = vec![false; nmod];
            let mut probs = vec![0.0; ncat];
            let mut scratch = ProbScratch::default();
            let mut members: Vec<&[f32]> = Vec::with_capacity(nmod);
            for x in 0..nx {
                for m in 0..nmod {
                    // Finite values' keys, written branch-free (a non-finite value's slot is
                    // taken by the next value).
                    let cell = clim[m].cell(x);
                    keys.resize(cell.len(), 0);
                    let mut n = 0;
                    for &v in cell {
                        keys[n] = order_key(v);
                        n += usize::from(crate::stats::finite(v));
                    }
                    has_clim[m] = n > 0;
                    select_edges(&mut keys[..n], levels, &mut edges[m]);
                }
                for ((set, rows), out) in targets
                    .iter()
                    .zip(gathered.chunks(nmod))
                    .zip(out.iter_mut())
                {
                    for i in 0..set[0].n_init() {
                        members.clear();
                        members.extend(rows.iter().zip(&has_clim).map(|(r, &ok)| {
                            // A model without a climatology here cannot be placed in it.
                            if ok {
                                r.start(x, i)
                            } else {
                                &[][..]
                            }
                        }));
                        category_probabilities(&members, &edges, weights, &mut probs, &mut scratch);
                        for (c, &p) in probs.iter().enumerate() {
                            out[(i * ncat + c) * nx + x] = p as f32;
                        }
                    }
                }
            }
            out
        })
        .collect();
    let mut result: Vec<Array5<f32>> = targets
        .iter()
        .map(|set| Array5::from_elem((set[0].n_init(), ncat, nl, ny, nx), f32::NAN))
        .collect();
    for (&(l, y), row) in row_tasks.iter().zip(&rows) {
        for (res, vals) in result.iter_mut().zip(row) {
            let res = res.as_slice_mut().expect("new array");
            // Row (i, c) of the task goes to [i, c, l, y, ..].
            for (ic, src) in vals.chunks_exact(nx).enumerate() {
                let at = ((ic * nl + l) * ny + y) * nx;
                res[at..at + nx].copy_from_slice(src);
            }
        }
    }
    Ok(result)
}

/// One latitude row of one lead of a cube, cell-major: for each longitude, the values of
/// every start × member together (start-major), gathered from the cube's contiguous
/// longitude rows.
#[derive(Default)]
struct CellMajorRow {
    values: Vec<f32>,
    /// Values per cell: starts × members.
    per_cell: usize,
    members: usize,
}

impl CellMajorRow {
    /// Gathers row `y` of lead `l` of `cube` into this buffer.
    fn gather(&mut self, cube: &Cube, l: usize, y: usize) {
        let (ni, nk, _, _, nx) = cube.values.dim();
        self.per_cell = ni * nk;
        self.members = nk;
        self.values.resize(nx * self.per_cell, 0.0);
        to_cell_major(cube.values.slice(s![.., .., l, y, ..]), &mut self.values);
    }

    /// Every value of cell `x`.
    fn cell(&self, x: usize) -> &[f32] {
        &self.values[x * self.per_cell..(x + 1) * self.per_cell]
    }

    /// The members of start `i` at cell `x`.
    fn start(&self, x: usize, i: usize) -> &[f32] {
        let at = x * self.per_cell + i * self.members;
        &self.values[at..at + self.members]
    }
}

/// Type-7 quantiles at ascending `levels` of the values behind `keys` (reordered), by
/// successive selection: the same numbers as [`category_edges`] on the sorted values. NaN for
/// an empty sample.
fn select_edges(keys: &mut [u32], levels: &[f64], out: &mut [f64]) {
    let n = keys.len();
    if n == 0 {
        out.fill(f64::NAN);
        return;
    }
    // `keys[..done]` holds the smallest `done` keys (unordered), `keys[done..]` the rest.
    let mut done = 0;
    for (o, &p) in out.iter_mut().zip(levels) {
        let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
        let lo = h as usize;
        let a = if lo >= done {
            let (_, &mut a, _) = keys[done..].select_nth_unstable(lo - done);
            done = lo + 1;
            a
        } else {
            // A level whose order statistic lies among the keys already set apart (the
            // smallest `done`): select within them.
            let (_, &mut a, _) = keys[..done].select_nth_unstable(lo);
            a
        };
        let a = f64::from(from_order_key(a));
        *o = if lo + 1 < n {
            let b = if lo + 1 >= done {
                // Smallest of the keys after `lo`.
                *keys[lo + 1..].iter().min().expect("lo + 1 < n")
            } else {
                let (_, &mut b, _) = keys[..done].select_nth_unstable(lo + 1);
                b
            };
            let b = f64::from(from_order_key(b));
            a + (h - lo as f64) * (b - a)
        } else {
            a
        };
    }
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

/// The weighted ensemble mean and spread `(init, 1, lead, y, x)` (see [`ensemble_fields`]).
///
/// Each start's `lead × y × x` plane is cut into tasks of 8192 cells, run in parallel;
/// within a task, blocks of 16 cells keep their sums in registers while
/// every member of every model streams past, so the members are read once and nothing else
/// goes to memory but the two output maps.
pub fn ensemble_mean_spread(
    cubes: &[&Cube],
    weights: &Weights,
) -> Result<(Array5<f32>, Array5<f32>)> {
    let (ni, nl, ny, nx) = check_models(cubes)?;
    let plane = nl * ny * nx;
    let mut mean = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    let mut spread = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    let starts: Vec<Vec<ModelBlock>> = (0..ni)
        .map(|i| {
            cubes
                .iter()
                .enumerate()
                .map(|(m, c)| ModelBlock {
                    values: c
                        .values
                        .slice(s![i, .., .., .., ..])
                        .to_slice()
                        .expect("standard layout"),
                    members: c.n_member(),
                    plane,
                    weight: match weights {
                        Weights::Pooled => None,
                        Weights::ModelEqual => Some(1.0),
                        Weights::Given(w) => Some(w.get(m).copied().unwrap_or(0.0).max(0.0)),
                    },
                })
                .collect()
        })
        .collect();
    let mean_all = mean.as_slice_mut().expect("standard layout");
    let spread_all = spread.as_slice_mut().expect("standard layout");
    mean_all
        .par_chunks_mut(plane.max(1))
        .zip(spread_all.par_chunks_mut(plane.max(1)))
        .zip(starts.par_iter())
        .for_each(|((mean_i, spread_i), models)| {
            mean_i
                .par_chunks_mut(MEAN_TASK)
                .zip(spread_i.par_chunks_mut(MEAN_TASK))
                .enumerate()
                .for_each(|(t, (mean_t, spread_t))| {
                    mean_spread_cells(models, t * MEAN_TASK, mean_t, spread_t)
                });
        });
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
