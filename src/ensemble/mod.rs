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
//! - [`calibrate`]: regression-calibrated (Student-t) probabilities of one model and their
//!   equal-weight mixture; [`pcr`]: principal-component regression MOS of each model's
//!   ensemble-mean field (CPT style, modes by cross-validation); [`mod@combine`]: the multi-model combination of hindcasts and
//!   forecasts by counted members, skill weights, PMME or calibration (regression, ELR or PCR).
//!
//! # Cost
//! The mean and spread stream every member once (register-blocked over 16 cells, the next
//! lines prefetched, masks only where a member is missing; see `mean_spread.rs`): on the synth
//! medium preset they run at 64–88 % of the speed of merely reading the members and 1.4–1.9×
//! below the STREAM triad (`benches/ensemble.rs` measures all three in one run). Category
//! edges and counts work on one latitude row at a time as it lies in the cube, eight cells per
//! AVX2 instruction: edges by counting passes that narrow a bracket around the wanted order
//! statistics, no sorting and no transposing (see `category_rows.rs`); pooled percentiles are
//! the same type-7 quantiles of the members and go through the same kernel.
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

use ndarray::{
    s, Array3, Array5, ArrayView5, ArrayViewMut3, ArrayViewMut4, ArrayViewMut5, Axis, Zip,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cube::{append_rows, Cube};
use crate::error::{Error, Result};
use crate::stats::categories::category_index;
pub use crate::stats::categories::{category_level_bounds, category_of};
use crate::stats::quantile_sorted;
use mean_spread::{mean_spread_cells, ModelBlock, MEAN_TASK};

pub mod calibrate;
mod category_rows;
pub mod combine;
mod mean_spread;
pub mod pcr;
pub use combine::{
    combine, withhold_categories, CombineInput, CombineSpec, Combined, EdgeSource, Products,
    SkillScore, WeightScheme,
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

/// Probability from which the most likely category is called dominant ("most likely" on a
/// map or in a message): 40 %, the C3S and NMME convention for tercile outlooks. Also the
/// outlook's drought/wet and cyclone-activity rules (`pipeline::policy`).
pub const DOMINANT_THRESHOLD: f64 = 0.4;

/// Sample quantiles (type 7) of an ascending, NaN-free climatology at `levels`.
pub fn category_edges(sorted: &[f32], levels: &[f64], out: &mut [f64]) {
    for (o, &p) in out.iter_mut().zip(levels) {
        *o = quantile_sorted(sorted, p);
    }
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
    shares: Vec<f64>,
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
    scratch.weights.resize(nm, 0.0);
    scratch.shares.resize(nm, 0.0);
    member_shares(
        weights,
        &scratch.valid,
        &mut scratch.weights,
        &mut scratch.shares,
    );
    weighted_counts(&scratch.shares, &scratch.counts, out);
}

/// What one member of each model weighs, `w_m / n_m` ([`model_weights`] over the `valid`
/// member counts; 0 for a model without valid members). `w` is scratch.
fn member_shares(weights: &Weights, valid: &[usize], w: &mut [f64], shares: &mut [f64]) {
    model_weights(weights, valid, w);
    for ((s, &wm), &n) in shares.iter_mut().zip(w.iter()).zip(valid) {
        *s = if n == 0 { 0.0 } else { wm / n as f64 };
    }
}

/// `out[c] = Σ_m share_m k_{m,c}` over the models with a share (`counts` model-major).
fn weighted_counts(shares: &[f64], counts: &[u32], out: &mut [f64]) {
    let ncat = out.len();
    out.fill(0.0);
    for (&share, counts) in shares.iter().zip(counts.chunks_exact(ncat)) {
        if share == 0.0 {
            continue;
        }
        for (o, &k) in out.iter_mut().zip(counts) {
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
/// Work is split by `(lead, latitude row)`: each model's row (`starts × members` longitude rows)
/// is copied once, the edges of all its cells come from counting passes over it (eight cells
/// per instruction, no sort), and each target start's members are counted against f32
/// thresholds equivalent to the edges, again across the cells. Cells where every model has all
/// its members and a climatology share one set of member weights; the others get their own
/// (the same numbers as [`category_probabilities`]). A model without a finite hindcast value
/// at a cell takes no part there.
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
    let (_, _, _, ny, nx) = first.values.dim();
    for set in targets {
        one_per_model(nmod, set.len())?;
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
    let hc: Vec<ArrayView5<f32>> = hindcasts.iter().map(|c| c.values.view()).collect();
    let sets: Vec<Vec<ArrayView5<f32>>> = targets
        .iter()
        .map(|set| set.iter().map(|c| c.values.view()).collect())
        .collect();
    let sets: Vec<&[ArrayView5<f32>]> = sets.iter().map(Vec::as_slice).collect();
    model_edge_probabilities_of_arrays(&hc, &sets, levels, weights)
}

/// A target set has one array per model.
fn one_per_model(models: usize, targets: usize) -> Result<()> {
    if targets == models {
        return Ok(());
    }
    Err(Error::invalid(
        "ensemble",
        format!("{models} hindcasts and {targets} forecasts: give one of each per model"),
    ))
}

/// [`model_edge_probabilities`] of arrays `(start, member, lead, y, x)` (for callers that
/// hold no [`Cube`], such as the Python bindings, which read numpy's memory in place): the
/// same numbers. Every array must share the first hindcast's leads and grid, and the arrays
/// of a target set their start count; a target that *is* its model's hindcast (the same
/// memory) is counted from the copied climate rows.
pub fn model_edge_probabilities_of_arrays(
    hindcasts: &[ArrayView5<f32>],
    targets: &[&[ArrayView5<f32>]],
    levels: &[f64],
    weights: &Weights,
) -> Result<Vec<Array5<f32>>> {
    let nmod = hindcasts.len();
    let first = hindcasts
        .first()
        .ok_or_else(|| Error::invalid("ensemble", "no model given"))?;
    let (_, _, nl, ny, nx) = first.dim();
    for set in targets {
        one_per_model(nmod, set.len())?;
        let nf = set[0].dim().0;
        for (m, (h, f)) in hindcasts.iter().zip(set.iter()).enumerate() {
            let (hd, fd) = (h.dim(), f.dim());
            if (hd.2, hd.3, hd.4) != (nl, ny, nx)
                || (fd.2, fd.3, fd.4) != (nl, ny, nx)
                || fd.0 != nf
            {
                return Err(Error::mismatch(
                    "models",
                    format!(
                        "model {m} has {} starts, {} leads and a {} x {} grid in a target set of {nf} starts, {nl} leads and {ny} x {nx}",
                        fd.0, fd.2, fd.3, fd.4
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
    // Every value is written below, so the arrays start as (lazily) zeroed pages; each
    // (lead, row) task writes its `(start, category, x)` part of every result in place.
    let mut result: Vec<Array5<f32>> = targets
        .iter()
        .map(|set| Array5::zeros((set[0].dim().0, ncat, nl, ny, nx)))
        .collect();
    let mut tasks: Vec<(usize, usize, Vec<ArrayViewMut3<f32>>)> = (0..nl)
        .flat_map(|l| (0..ny).map(move |y| (l, y, Vec::with_capacity(targets.len()))))
        .collect();
    for res in result.iter_mut() {
        for (task, row) in tasks.iter_mut().zip(rows_of_every_lead(res.view_mut())) {
            task.2.push(row);
        }
    }
    tasks.into_par_iter().for_each_init(
        || RowScratch::new(nmod),
        |s, (l, y, mut outs)| {
            s.edges_of_row(hindcasts, l, y, levels, nx);
            for (set, out) in targets.iter().zip(outs.iter_mut()) {
                s.probabilities_of_row(hindcasts, set, (l, y), weights, ncat, out);
            }
        },
    );
    Ok(result)
}

/// Per-thread buffers of [`model_edge_probabilities`] for one `(lead, latitude row)` task.
struct RowScratch {
    /// Each model's hindcast row, `starts × members` rows of `nx` values.
    climate: Vec<Vec<f32>>,
    /// Each model's target row (when the target is not the hindcast itself).
    target: Vec<Vec<f32>>,
    /// Per model: the edges (`level × x`), their f32 thresholds, the finite climatology values.
    edges: Vec<Vec<f64>>,
    thresholds: Vec<Vec<f32>>,
    n_climate: Vec<Vec<u32>>,
    columns: category_rows::ColumnScratch,
    /// Per model: finite members and members above each edge, for one start.
    valid: Vec<Vec<u32>>,
    above: Vec<Vec<u32>>,
    /// The last member counts seen and what a member weighs under them (a function of the
    /// counts and the weights only, so kept across cells, rows and target sets).
    last_valid: Vec<usize>,
    shares: Vec<f64>,
    cell_valid: Vec<usize>,
    weights: Vec<f64>,
    counts: Vec<u32>,
    probs: Vec<f64>,
    /// Each model's member count, what a member weighs with all of them, and the row's
    /// probabilities under those weights (`category × x`).
    full: Vec<usize>,
    full_shares: Vec<f64>,
    row_probs: Vec<f64>,
    /// The row's probabilities `(start, category, x)` before they go to the result.
    out: Vec<f32>,
}

impl RowScratch {
    fn new(nmod: usize) -> Self {
        RowScratch {
            climate: vec![Vec::new(); nmod],
            target: vec![Vec::new(); nmod],
            edges: vec![Vec::new(); nmod],
            thresholds: vec![Vec::new(); nmod],
            n_climate: vec![Vec::new(); nmod],
            columns: Default::default(),
            valid: vec![Vec::new(); nmod],
            above: vec![Vec::new(); nmod],
            last_valid: Vec::new(),
            shares: vec![0.0; nmod],
            cell_valid: vec![0; nmod],
            weights: vec![0.0; nmod],
            counts: Vec::new(),
            probs: Vec::new(),
            full: Vec::new(),
            full_shares: Vec::new(),
            row_probs: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Copies row `y` of lead `l` of every model's hindcast and finds the edges of its cells.
    fn edges_of_row(
        &mut self,
        hindcasts: &[ArrayView5<f32>],
        l: usize,
        y: usize,
        levels: &[f64],
        nx: usize,
    ) {
        for (m, cube) in hindcasts.iter().enumerate() {
            copy_row(cube, l, y, &mut self.climate[m]);
            self.edges[m].resize(levels.len() * nx, 0.0);
            self.n_climate[m].resize(nx, 0);
            category_rows::column_edges(
                &self.climate[m],
                nx,
                levels,
                &mut self.columns,
                &mut self.edges[m],
                &mut self.n_climate[m],
            );
            self.thresholds[m].clear();
            self.thresholds[m].extend(self.edges[m].iter().enumerate().map(|(k, &e)| {
                if k < nx {
                    category_rows::f32_at_least(e)
                } else {
                    category_rows::f32_at_most(e)
                }
            }));
        }
    }

    /// Category probabilities of every start of the target `set` on row `y` of lead `l`,
    /// into `dst` `(start, category, x)`.
    fn probabilities_of_row(
        &mut self,
        hindcasts: &[ArrayView5<f32>],
        set: &[ArrayView5<f32>],
        (l, y): (usize, usize),
        weights: &Weights,
        ncat: usize,
        dst: &mut ArrayViewMut3<f32>,
    ) {
        let nmod = set.len();
        let nx = self.n_climate[0].len();
        let ni = set[0].dim().0;
        let nedge = ncat - 1;
        for (m, (cube, hindcast)) in set.iter().zip(hindcasts).enumerate() {
            if !same_array(cube, hindcast) {
                copy_row(cube, l, y, &mut self.target[m]);
            }
            self.valid[m].resize(nx, 0);
            self.above[m].resize(nedge * nx, 0);
        }
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        out.resize(ni * ncat * nx, f32::NAN);
        // What a member weighs when every model has all its members.
        self.full.clear();
        self.full.extend(set.iter().map(|c| c.dim().1));
        self.full_shares.resize(nmod, 0.0);
        member_shares(
            weights,
            &self.full,
            &mut self.weights,
            &mut self.full_shares,
        );
        self.counts.resize(nmod * ncat, 0);
        self.probs.resize(ncat, 0.0);
        for i in 0..ni {
            for (m, (cube, hindcast)) in set.iter().zip(hindcasts).enumerate() {
                let rows = if same_array(cube, hindcast) {
                    &self.climate[m]
                } else {
                    &self.target[m]
                };
                let nk = cube.dim().1;
                let members = &rows[i * nk * nx..(i + 1) * nk * nx];
                category_rows::count_members(
                    members,
                    nx,
                    &self.thresholds[m],
                    &mut self.valid[m],
                    &mut self.above[m],
                );
            }
            // Every cell as if each model had all its members and a climatology (the usual
            // case), in loops over the cells.
            let row = &mut self.row_probs;
            row.clear();
            row.resize(ncat * nx, 0.0);
            for (m, &share) in self.full_shares.iter().enumerate() {
                if share == 0.0 {
                    continue;
                }
                let (valid, above) = (&self.valid[m], &self.above[m]);
                for (c, p) in row.chunks_exact_mut(nx).enumerate() {
                    let before = if c == 0 {
                        valid
                    } else {
                        &above[(c - 1) * nx..c * nx]
                    };
                    if c < nedge {
                        let after = &above[c * nx..(c + 1) * nx];
                        for ((p, &b), &a) in p.iter_mut().zip(before).zip(after) {
                            *p += share * f64::from(b - a);
                        }
                    } else {
                        for (p, &b) in p.iter_mut().zip(before) {
                            *p += share * f64::from(b);
                        }
                    }
                }
            }
            for (o, p) in out[i * ncat * nx..(i + 1) * ncat * nx]
                .iter_mut()
                .zip(row.iter())
            {
                *o = *p as f32;
            }
            // Cells where a model lacks members or a climatology: their own weights.
            for x in 0..nx {
                let usual = (0..nmod)
                    .all(|m| self.n_climate[m][x] > 0 && self.valid[m][x] as usize == self.full[m]);
                if !usual {
                    self.unusual_cell(i, x, weights, ncat, &mut out);
                }
            }
        }
        for (mut dst, src) in dst.rows_mut().into_iter().zip(out.chunks_exact(nx.max(1))) {
            dst.assign(&ndarray::ArrayView1::from(src));
        }
        self.out = out;
    }

    /// [`Self::probabilities_of_row`] at one cell of start `i` with the weights of its own
    /// member counts (NaN without any).
    fn unusual_cell(
        &mut self,
        i: usize,
        x: usize,
        weights: &Weights,
        ncat: usize,
        out: &mut [f32],
    ) {
        let nx = self.n_climate[0].len();
        let nedge = ncat - 1;
        let mut any = false;
        for m in 0..self.valid.len() {
            // A model without a climatology here cannot be placed in it.
            let n = if self.n_climate[m][x] > 0 {
                self.valid[m][x]
            } else {
                0
            };
            self.cell_valid[m] = n as usize;
            any |= n > 0;
            let above = &self.above[m];
            let counts = &mut self.counts[m * ncat..(m + 1) * ncat];
            let mut before = n;
            for (c, k) in counts.iter_mut().enumerate() {
                let after = if c < nedge { above[c * nx + x] } else { 0 };
                *k = before - after;
                before = after;
            }
        }
        if !any {
            for c in 0..ncat {
                out[(i * ncat + c) * nx + x] = f32::NAN;
            }
            return;
        }
        if self.last_valid != self.cell_valid {
            member_shares(
                weights,
                &self.cell_valid,
                &mut self.weights,
                &mut self.shares,
            );
            self.last_valid.clone_from(&self.cell_valid);
        }
        weighted_counts(&self.shares, &self.counts, &mut self.probs);
        for (c, &p) in self.probs.iter().enumerate() {
            out[(i * ncat + c) * nx + x] = p as f32;
        }
    }
}

/// Row `y` of lead `l` of `cube` as `starts × members` rows of `nx` values.
fn copy_row(values: &ArrayView5<f32>, l: usize, y: usize, out: &mut Vec<f32>) {
    out.clear();
    append_rows(values.slice(s![.., .., l, y, ..]), out);
}

/// The `(start, category, x)` row views of `values` `(start, category, lead, y, x)`, lead by
/// lead and row by row: one per (lead, row) task of [`model_edge_probabilities_of_arrays`].
fn rows_of_every_lead(values: ArrayViewMut5<f32>) -> Vec<ArrayViewMut3<f32>> {
    let (_, _, nl, ny, _) = values.dim();
    let mut rows = Vec::with_capacity(nl * ny);
    let mut rest = values;
    for _ in 0..nl {
        let (lead, after) = rest.split_at(Axis(2), 1);
        rest = after;
        let mut lead = lead.index_axis_move(Axis(2), 0);
        for _ in 0..ny {
            let (row, after) = lead.split_at(Axis(2), 1);
            lead = after;
            rows.push(row.index_axis_move(Axis(2), 0));
        }
    }
    rows
}

/// Whether two views are the same array (the same memory, shape and strides): a target set
/// that is the hindcast itself.
fn same_array(a: &ArrayView5<f32>, b: &ArrayView5<f32>) -> bool {
    a.as_ptr() == b.as_ptr() && a.dim() == b.dim() && a.strides() == b.strides()
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
    let mut mean = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    let mut spread = Array5::<f32>::zeros((ni, 1, nl, ny, nx));
    ensemble_mean_spread_into(cubes, weights, &mut mean, &mut spread)?;
    Ok((mean, spread))
}

/// [`ensemble_mean_spread`] into arrays the caller owns, shaped `(init, 1, lead, y, x)` like
/// the cubes and in standard layout: a streaming run reuses its output maps from one chunk to
/// the next instead of asking the system for fresh pages each time.
pub fn ensemble_mean_spread_into(
    cubes: &[&Cube],
    weights: &Weights,
    mean: &mut Array5<f32>,
    spread: &mut Array5<f32>,
) -> Result<()> {
    let (ni, nl, ny, nx) = check_models(cubes)?;
    let shape = [ni, 1, nl, ny, nx];
    for (name, out) in [("mean", &*mean), ("spread", &*spread)] {
        if out.shape() != shape || !out.is_standard_layout() {
            return Err(Error::mismatch(
                "ensemble mean",
                format!(
                    "the {name} array is {:?}, the cubes need {shape:?} in standard layout",
                    out.shape()
                ),
            ));
        }
    }
    let plane = nl * ny * nx;
    let starts: Vec<Vec<ModelBlock>> = (0..ni)
        .map(|i| {
            cubes
                .iter()
                .enumerate()
                .map(|(m, c)| {
                    let values = c.values.slice(s![i, .., .., .., ..]);
                    let weight = match weights {
                        Weights::Pooled => None,
                        Weights::ModelEqual => Some(1.0),
                        Weights::Given(w) => Some(w.get(m).copied().unwrap_or(0.0)),
                    };
                    ModelBlock::new(
                        values.to_slice().expect("standard layout"),
                        c.n_member(),
                        plane,
                        weight,
                    )
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
    Ok(())
}

/// Weighted percentiles `(init, level, lead, y, x)` (see [`ensemble_fields`]).
///
/// With pooled weights every member weighs the same, and the weighted percentile is the
/// type-7 quantile of the pooled members: each latitude row of a start and lead then goes
/// through the counting kernel of the category edges (eight cells per instruction, no sort).
/// Other weights sort each cell's members ([`weighted_percentiles`]).
pub fn ensemble_percentiles(
    cubes: &[&Cube],
    weights: &Weights,
    levels: &[f64],
) -> Result<Array5<f32>> {
    let (ni, nl, _, nx) = check_models(cubes)?;
    let nmod = cubes.len();
    let np = levels.len();
    let ny = cubes[0].coords.spatial.shape().0;
    let mut percentiles = Array5::<f32>::from_elem((ni, np, nl, ny, nx), f32::NAN);
    let ascending = levels.windows(2).all(|w| w[0] <= w[1]);
    if *weights == Weights::Pooled && ascending {
        Zip::indexed(percentiles.axis_iter_mut(Axis(3))).par_for_each(
            |y, mut row: ArrayViewMut4<f32>| {
                let mut rows = Vec::new();
                let mut columns = category_rows::ColumnScratch::default();
                let mut edges = vec![0.0; np * nx];
                let mut n_finite = vec![0; nx];
                for i in 0..ni {
                    for l in 0..nl {
                        rows.clear();
                        for c in cubes {
                            // The start's members, `members` rows of `nx` values.
                            append_rows(c.values.slice(s![i, .., l, y, ..]), &mut rows);
                        }
                        category_rows::column_edges(
                            &rows,
                            nx,
                            levels,
                            &mut columns,
                            &mut edges,
                            &mut n_finite,
                        );
                        for (k, edges_k) in edges.chunks_exact(nx).enumerate() {
                            for (o, &e) in row.slice_mut(s![i, k, l, ..]).iter_mut().zip(edges_k) {
                                *o = e as f32;
                            }
                        }
                    }
                }
            },
        );
        return Ok(percentiles);
    }
    // Gather each cell's members, row by row.
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
