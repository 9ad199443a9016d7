//! The bias-correction methods, each a [`BiasCorrector`]: the per-cell kernel that maps the
//! values of one forecast (its members at one lead and cell) given the training samples.

use super::{BiasCorrector, Kind, Scratch, Training};
use crate::stats::{mean_sd, quantile_sorted};

/// Means and standard deviations of the training samples `[Ō, σ_O, M̄, σ_M]`, computed when
/// the samples changed and kept in `scratch` otherwise.
fn moments(train: &Training, scratch: &mut Scratch) -> [f64; 4] {
    if scratch.training_changed {
        let (mo, so) = mean_sd(train.obs);
        let (mm, sm) = mean_sd(train.model);
        scratch.moments = [mo, so, mm, sm];
    }
    scratch.moments
}

/// Mean scaling (Teutschbein & Seibert 2012, "linear scaling"):
/// additive `x' = x + (Ō − M̄)`; multiplicative `x' = x · Ō / M̄`.
///
/// A model that is never wet where the observations are (`M̄ = 0 < Ō`) cannot be scaled: its
/// values are left as they are (zero).
#[derive(Debug, Clone, Copy)]
pub struct MeanScaling {
    /// Additive (temperature) or multiplicative (precipitation).
    pub kind: Kind,
}

impl BiasCorrector for MeanScaling {
    fn describe(&self) -> String {
        format!("mean scaling ({})", self.kind.name())
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        let [mo, _, mm, _] = moments(train, scratch);
        // (mean_sd gives the value itself for a one-value sample.)
        for (o, &x) in out.iter_mut().zip(sim) {
            let x = f64::from(x);
            *o = match self.kind {
                Kind::Additive => x + (mo - mm),
                Kind::Multiplicative if mm > 0.0 => x * mo / mm,
                Kind::Multiplicative if mo == 0.0 => 0.0,
                Kind::Multiplicative => x,
            } as f32;
        }
    }
}

/// Variance scaling (Chen et al. 2011) for temperature: `x' = Ō + (x − M̄) · σ_O / σ_M`, means
/// and standard deviations over the pooled training samples. With `σ_M = 0` only the mean is
/// shifted.
#[derive(Debug, Clone, Copy, Default)]
pub struct VarianceScaling;

impl BiasCorrector for VarianceScaling {
    fn describe(&self) -> String {
        "variance scaling (additive)".into()
    }
    fn kind(&self) -> Kind {
        Kind::Additive
    }
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        let [mo, so, mm, sm] = moments(train, scratch);
        let ratio = if sm > 0.0 && so.is_finite() {
            so / sm
        } else {
            1.0
        };
        for (o, &x) in out.iter_mut().zip(sim) {
            *o = (mo + (f64::from(x) - mm) * ratio) as f32;
        }
    }
}

/// Empirical quantile mapping (Déqué 2007; Themeßl et al. 2011).
///
/// Quantile nodes `p_k`: with `quantiles = None` every training value is a node
/// (`p_k = k/(n_M − 1)`, the exact empirical CDF with linear interpolation); with `Some(n)`,
/// `n` equally spaced plotting positions `p_k = (k + ½)/n` (xsdba's `nquantiles`). At each node
/// `q_M(p_k)` and `q_O(p_k)` are type-7 sample quantiles. A value `x` is mapped by linear
/// interpolation of the pairs `(q_M, q_O)`; where `x` equals a run of tied nodes the mean of their
/// `q_O` is used. **Tails**: beyond the end nodes the correction is constant — the offset
/// `q_O − q_M` of the end node (additive) or its ratio `q_O / q_M` (multiplicative, where
/// `q_M > 0`; else `q_O`).
#[derive(Debug, Clone, Copy)]
pub struct QuantileMapping {
    /// Number of quantile nodes; `None` = every training value.
    pub quantiles: Option<usize>,
    /// Additive or multiplicative tail rule.
    pub kind: Kind,
}

/// Where the `nq` equally spaced quantile nodes `(k + ½)/nq` of a sorted sample of `n` values
/// lie, as [`quantile_sorted`] finds them: for each node the order statistics `⌊h⌋`,
/// `min(⌊h⌋ + 1, n − 1)` and the weight `h − ⌊h⌋` with `h = (n − 1) p`.
#[derive(Debug, Default)]
pub(crate) struct NodePlan {
    n: usize,
    at: Vec<(usize, usize, f64)>,
}

impl NodePlan {
    /// The nodes of `sorted` into `out` (NaN for an empty sample).
    fn nodes(&mut self, nq: usize, sorted: &[f32], out: &mut Vec<f64>) {
        let n = sorted.len();
        out.clear();
        if n == 0 {
            out.resize(nq, f64::NAN);
            return;
        }
        if self.n != n || self.at.len() != nq {
            self.n = n;
            self.at.clear();
            self.at.extend((0..nq).map(|k| {
                let p = (k as f64 + 0.5) / nq as f64;
                let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
                let lo = h as usize;
                (lo, (lo + 1).min(n - 1), h - lo as f64)
            }));
        }
        out.extend(self.at.iter().map(|&(lo, hi, w)| {
            let a = f64::from(sorted[lo]);
            a + w * (f64::from(sorted[hi]) - a)
        }));
    }
}

/// A bucket index over ascending quantile nodes, so a value is located among them in O(1)
/// instead of a binary search over all of them: the node range is cut into equal buckets and
/// `first[b]` is the first node whose bucket is `b` or later. Buckets come from one monotone
/// formula, so the nodes below `x` are all before `first[bucket(x) + 1]` and those at or above
/// it all from `first[bucket(x)]` on: only the nodes in `x`'s bucket are searched.
#[derive(Debug, Default)]
pub(crate) struct NodeIndex {
    lo: f64,
    per_unit: f64,
    first: Vec<u32>,
}

impl NodeIndex {
    fn bucket(&self, x: f64) -> usize {
        // `as` saturates: below `lo` gives 0, NaN gives 0.
        (((x - self.lo) * self.per_unit) as usize).min(self.first.len() - 2)
    }

    /// Builds the index of `nodes` (ascending, finite, at least one): one pass over the nodes.
    fn build<M: Copy + Into<f64>>(&mut self, nodes: &[M]) {
        let n = nodes.len();
        let buckets = n.next_power_of_two().max(16);
        self.lo = nodes[0].into();
        let span = nodes[n - 1].into() - self.lo;
        self.per_unit = if span > 0.0 {
            buckets as f64 / span
        } else {
            0.0
        };
        self.first.clear();
        self.first.resize(buckets + 1, n as u32);
        // Buckets up to a node's own get that node as their first (if no earlier node did).
        let mut filled = 0;
        for (k, &m) in nodes.iter().enumerate() {
            let b = self.bucket(m.into());
            if b >= filled {
                self.first[filled..=b].fill(k as u32);
                filled = b + 1;
            }
        }
    }

    /// The first node `>= x` (as `partition_point(|m| m < x)` gives).
    fn locate<M: Copy + Into<f64> + PartialOrd>(&self, nodes: &[M], x: M) -> usize {
        let b = self.bucket(x.into());
        let (from, to) = (self.first[b] as usize, self.first[b + 1] as usize);
        if to - from <= 4 {
            // Usually zero to two nodes share a bucket: a short scan.
            let mut k = from;
            while k < to && nodes[k] < x {
                k += 1;
            }
            return k;
        }
        from + nodes[from..to].partition_point(|&m| m < x)
    }
}

impl QuantileMapping {
    /// Fills `scratch.qm` / `scratch.qo` with the nodes of `Some(n)` equally spaced quantiles.
    /// The same numbers as [`quantile_sorted`] at `(k + ½)/nq`; where the nodes fall in a
    /// sample of each size is worked out once and kept while the sizes stay the same.
    fn nodes(nq: usize, train: &Training, scratch: &mut Scratch) {
        scratch.model_plan.nodes(nq, train.model, &mut scratch.qm);
        scratch.obs_plan.nodes(nq, train.obs, &mut scratch.qo);
    }

    /// The correction beyond the end node `(q_M, q_O)`.
    fn tail(&self, x: f64, qm: f64, qo: f64) -> f64 {
        match self.kind {
            Kind::Additive => x + (qo - qm),
            Kind::Multiplicative if qm > 0.0 => x * qo / qm,
            Kind::Multiplicative => qo,
        }
    }

    /// Maps one value through the nodes `(qm[k], qo(k))`: `qm` ascending, `qo` the observed
    /// node of index `k`; `index` the nodes' bucket index and segment slopes, if built. `tie`
    /// remembers the last run of tied nodes mapped (value, mean `q_O`).
    fn map<M: Copy + Into<f64> + PartialOrd>(
        &self,
        x: M,
        qm: &[M],
        qo: impl Fn(usize) -> f64,
        index: Option<(&NodeIndex, &[f64])>,
        tie: &mut Option<(f64, f64)>,
    ) -> f64 {
        if x.into().is_nan() {
            return f64::NAN;
        }
        // First node >= x.
        let lo = match index {
            Some((index, _)) => index.locate(qm, x),
            None => qm.partition_point(|&m| m < x),
        };
        self.map_at(x, lo, qm, qo, index.map(|i| i.1), tie)
    }

    /// [`Self::map`] of a (non-NaN) value whose first node `>= x` is `lo`.
    fn map_at<M: Copy + Into<f64> + PartialOrd>(
        &self,
        x: M,
        lo: usize,
        qm: &[M],
        qo: impl Fn(usize) -> f64,
        slopes: Option<&[f64]>,
        tie: &mut Option<(f64, f64)>,
    ) -> f64 {
        let n = qm.len();
        let xf: f64 = x.into();
        if lo == n {
            return self.tail(xf, qm[n - 1].into(), qo(n - 1));
        }
        if qm[lo] == x {
            // A run of ties at x maps to the mean of its q_O (dry values, or the training
            // values themselves).
            if let Some((at, mean)) = *tie {
                if at == xf {
                    return mean;
                }
            }
            // Mostly a single node (a training value itself, in-sample).
            if lo + 1 == n || qm[lo + 1] > x {
                return qo(lo);
            }
            let hi = lo + qm[lo..].partition_point(|&m| m <= x);
            // Sequential sum (as f64 `sum` of the run would give).
            let sum = (lo..hi).map(&qo).fold(-0.0, |a, b| a + b);
            let mean = sum / (hi - lo) as f64;
            *tie = Some((xf, mean));
            return mean;
        }
        if lo == 0 {
            return self.tail(xf, qm[0].into(), qo(0));
        }
        // qm[lo-1] < x < qm[lo]: linear between the two nodes, with the segment's slope
        // computed once per node set when the nodes are reused (the same expression).
        let (a, oa) = (qm[lo - 1].into(), qo(lo - 1));
        let slope = match slopes {
            Some(slopes) => slopes[lo - 1],
            None => segment_slope(a, qm[lo].into(), oa, qo(lo)),
        };
        oa + (xf - a) * slope
    }

    /// Maps ascending values by one walk along the nodes (no search).
    fn map_ascending<M: Copy + Into<f64> + PartialOrd>(
        &self,
        sim: &[f32],
        out: &mut [f32],
        qm: &[M],
        qo: impl Fn(usize) -> f64,
        to_node: impl Fn(f32) -> M,
    ) {
        let mut tie = None;
        let mut lo = 0;
        for (o, &x) in out.iter_mut().zip(sim) {
            if x.is_nan() {
                *o = f32::NAN;
                continue;
            }
            let x = to_node(x);
            while lo < qm.len() && qm[lo] < x {
                lo += 1;
            }
            *o = self.map_at(x, lo, qm, &qo, None, &mut tie) as f32;
        }
    }
}

/// With every training value a node (`p_k = k/(n_M − 1)`, ½ for a single value): the observed
/// node `q_O(p_k)` of index `k`.
fn observed_at_training_values<'t>(train: &'t Training) -> impl Fn(usize) -> f64 + 't {
    let n = train.model.len();
    let step = if n > 1 { 1.0 / (n - 1) as f64 } else { 0.0 };
    move |k: usize| {
        let p = if n > 1 { k as f64 * step } else { 0.5 };
        quantile_sorted(train.obs, p)
    }
}

/// Slope of the mapping between nodes `(a, oa)` and `(b, ob)`, `b > a`.
#[inline]
fn segment_slope(a: f64, b: f64, oa: f64, ob: f64) -> f64 {
    (ob - oa) / (b - a)
}

/// Fills `slopes[k]` with the slope between nodes `k` and `k + 1` (0 between tied nodes, which
/// no value falls strictly between).
fn segment_slopes<M: Copy + Into<f64>>(qm: &[M], qo: impl Fn(usize) -> f64, slopes: &mut Vec<f64>) {
    slopes.clear();
    let mut prev = (qm[0].into(), qo(0));
    for (k, &m) in qm.iter().enumerate().skip(1) {
        let next = (m.into(), qo(k));
        slopes.push(if next.0 > prev.0 {
            segment_slope(prev.0, next.0, prev.1, next.1)
        } else {
            0.0
        });
        prev = next;
    }
}

impl BiasCorrector for QuantileMapping {
    fn describe(&self) -> String {
        match self.quantiles {
            None => format!(
                "empirical quantile mapping (every training value, {})",
                self.kind.name()
            ),
            Some(n) => format!(
                "empirical quantile mapping ({n} quantiles, {})",
                self.kind.name()
            ),
        }
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        // Nodes change with every left-out year; they are indexed for fast search only when
        // they serve a second call (in-sample training, several forecast starts).
        let fresh = scratch.training_changed || scratch.nodes_used == 0;
        if fresh {
            scratch.tie = None;
            scratch.nodes_used = 0;
        }
        let mut tie = scratch.tie;
        match self.quantiles {
            None => {
                // Every training value is a node: q_M(p_k) is the k-th value itself and
                // q_O(p_k) is evaluated only at the nodes a value falls between.
                let at = observed_at_training_values(train);
                if scratch.nodes_used == 1 {
                    scratch.index.build(train.model);
                    segment_slopes(train.model, &at, &mut scratch.slopes);
                }
                let index =
                    (scratch.nodes_used >= 1).then_some((&scratch.index, &scratch.slopes[..]));
                for (o, &x) in out.iter_mut().zip(sim) {
                    *o = self.map(x, train.model, &at, index, &mut tie) as f32;
                }
            }
            Some(nq) => {
                if fresh {
                    Self::nodes(nq, train, scratch);
                }
                if scratch.nodes_used == 1 {
                    scratch.index.build(&scratch.qm);
                    let qo = &scratch.qo;
                    segment_slopes(&scratch.qm, |k| qo[k], &mut scratch.slopes);
                }
                let index =
                    (scratch.nodes_used >= 1).then_some((&scratch.index, &scratch.slopes[..]));
                let (qm, qo) = (&scratch.qm, &scratch.qo);
                for (o, &x) in out.iter_mut().zip(sim) {
                    *o = self.map(f64::from(x), qm, |k| qo[k], index, &mut tie) as f32;
                }
            }
        }
        scratch.tie = tie;
        scratch.nodes_used += 1;
    }
    fn correct_ascending(
        &self,
        train: &Training,
        sim: &[f32],
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.quantiles {
            None => {
                let at = observed_at_training_values(train);
                self.map_ascending(sim, out, train.model, at, |x| x);
            }
            Some(nq) => {
                Self::nodes(nq, train, scratch);
                let (qm, qo) = (&scratch.qm, &scratch.qo);
                self.map_ascending(sim, out, qm, |k| qo[k], f64::from);
            }
        }
        // The nodes in the scratch are no longer those `correct` may reuse.
        scratch.nodes_used = 0;
    }
}

/// Quantile delta mapping (Cannon, Sobie & Murdock 2015, J. Climate 28, 6938).
///
/// For a forecast value `x` with non-exceedance probability `τ` within its own ensemble
/// (`τ = (rank − ½)/n`, ties averaged): the model's change relative to its own hindcast climate at
/// that quantile, `Δ = x − q_M(τ)` (additive) or `Δ = x / q_M(τ)` (multiplicative), is put on top
/// of the observed quantile: `x' = q_O(τ) + Δ` or `x' = q_O(τ) · Δ`. So the forecast's anomaly of
/// each quantile is kept, in observed climate. Multiplicative: `Δ = max(x, t)/max(q_M(τ), t)` with
/// `t` the trace (wet-day) threshold, capped at [`QuantileDeltaMapping::MAX_RATIO`] — where the
/// model's own quantile is dry, an unbounded ratio would invent extreme rain (python-cmethods
/// gives 4000 mm/day there).
#[derive(Debug, Clone, Copy)]
pub struct QuantileDeltaMapping {
    /// Additive (temperature) or multiplicative (precipitation).
    pub kind: Kind,
    /// Trace threshold for the multiplicative ratio, in the data's units.
    pub trace: f64,
}

impl QuantileDeltaMapping {
    /// Largest relative change kept by multiplicative QDM.
    pub const MAX_RATIO: f64 = 10.0;
}

impl BiasCorrector for QuantileDeltaMapping {
    fn describe(&self) -> String {
        format!("quantile delta mapping ({})", self.kind.name())
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        // Ranks within the forecast ensemble (finite values only).
        scratch.sim.clear();
        scratch
            .sim
            .extend(sim.iter().copied().filter(|v| v.is_finite()));
        scratch.sim.sort_unstable_by(f32::total_cmp);
        let n = scratch.sim.len() as f64;
        for (o, &x) in out.iter_mut().zip(sim) {
            if !x.is_finite() {
                *o = f32::NAN;
                continue;
            }
            let below = scratch.sim.partition_point(|&v| v < x) as f64;
            let ties = scratch.sim.partition_point(|&v| v <= x) as f64 - below;
            let tau = (below + ties / 2.0) / n;
            let qm = quantile_sorted(train.model, tau);
            let qo = quantile_sorted(train.obs, tau);
            let x = f64::from(x);
            *o = match self.kind {
                Kind::Additive => qo + (x - qm),
                Kind::Multiplicative => {
                    let t = self.trace.max(1e-6);
                    qo * (x.max(t) / qm.max(t)).min(Self::MAX_RATIO)
                }
            } as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(c: &dyn BiasCorrector, model: &[f32], obs: &[f32], sim: &[f32]) -> Vec<f32> {
        let mut m = model.to_vec();
        let mut o = obs.to_vec();
        m.sort_by(f32::total_cmp);
        o.sort_by(f32::total_cmp);
        let mut out = vec![0.0; sim.len()];
        c.correct(
            &Training { model: &m, obs: &o },
            sim,
            &mut out,
            &mut Scratch::default(),
        );
        out
    }

    #[test]
    fn scaling_by_hand() {
        let add = MeanScaling {
            kind: Kind::Additive,
        };
        // model mean 2, obs mean 5: +3
        assert_eq!(
            run(&add, &[1.0, 3.0], &[4.0, 6.0], &[0.0, 10.0]),
            vec![3.0, 13.0]
        );
        let mul = MeanScaling {
            kind: Kind::Multiplicative,
        };
        // model mean 2, obs mean 5: x 2.5
        assert_eq!(
            run(&mul, &[1.0, 3.0], &[4.0, 6.0], &[2.0, 0.0]),
            vec![5.0, 0.0]
        );
        // A dry model cannot be scaled; a dry observed climate scales to dry.
        assert_eq!(run(&mul, &[0.0, 0.0], &[4.0, 6.0], &[0.0]), vec![0.0]);
        assert_eq!(run(&mul, &[1.0, 3.0], &[0.0, 0.0], &[5.0]), vec![0.0]);
        // Variance: model mean 2 sd sqrt(2); obs mean 10 sd 2*sqrt(2) → x' = 10 + 2 (x - 2)
        let v = run(&VarianceScaling, &[1.0, 3.0], &[8.0, 12.0], &[3.0, 2.0]);
        assert!(
            (v[0] - 12.0).abs() < 1e-6 && (v[1] - 10.0).abs() < 1e-6,
            "{v:?}"
        );
    }

    #[test]
    fn eqm_by_hand() {
        let eqm = QuantileMapping {
            quantiles: None,
            kind: Kind::Additive,
        };
        // model 1,2,3 (p = 0, .5, 1) -> obs quantiles of [10, 20, 30, 40]: 10, 25, 40
        let out = run(
            &eqm,
            &[1.0, 2.0, 3.0],
            &[10.0, 20.0, 30.0, 40.0],
            &[1.0, 1.5, 2.0, 3.0, 0.0, 5.0],
        );
        assert_eq!(out, vec![10.0, 17.5, 25.0, 40.0, 9.0, 42.0]);
        // Multiplicative tails: constant ratio.
        let eqm = QuantileMapping {
            quantiles: None,
            kind: Kind::Multiplicative,
        };
        let out = run(&eqm, &[1.0, 2.0, 4.0], &[2.0, 3.0, 8.0], &[0.5, 8.0]);
        assert_eq!(out, vec![1.0, 16.0]);
        // n quantiles at (k + 0.5)/n.
        let eqm = QuantileMapping {
            quantiles: Some(2),
            kind: Kind::Additive,
        };
        // p = .25, .75: model [0, 4] -> 1, 3; obs [10, 30] -> 15, 25; x = 2 -> 20
        assert_eq!(run(&eqm, &[0.0, 4.0], &[10.0, 30.0], &[2.0]), vec![20.0]);
    }

    #[test]
    fn qdm_by_hand() {
        let qdm = QuantileDeltaMapping {
            kind: Kind::Additive,
            trace: 0.0,
        };
        // sim [1, 3]: tau = .25, .75; model [0,4] -> 1, 3; obs [10, 30] -> 15, 25: deltas 0 -> 15, 25
        assert_eq!(
            run(&qdm, &[0.0, 4.0], &[10.0, 30.0], &[1.0, 3.0]),
            vec![15.0, 25.0]
        );
        // A +2 forecast shift is kept on top of the observed quantiles.
        assert_eq!(
            run(&qdm, &[0.0, 4.0], &[10.0, 30.0], &[3.0, 5.0]),
            vec![17.0, 27.0]
        );
        let qdm = QuantileDeltaMapping {
            kind: Kind::Multiplicative,
            trace: 0.1,
        };
        // Doubling the model's own quantiles doubles the observed ones.
        assert_eq!(
            run(&qdm, &[0.0, 4.0], &[10.0, 30.0], &[2.0, 6.0]),
            vec![30.0, 50.0]
        );
    }

    fn sorted(mut v: Vec<f32>) -> Vec<f32> {
        v.sort_by(f32::total_cmp);
        v
    }

    proptest! {
        #[test]
        fn node_plan_gives_the_quantiles_of_the_sorted_sample(mut sample in prop::collection::vec(-50.0f32..50.0, 0..300), nq in 1usize..120, other in 1usize..40) {
            sample.sort_by(f32::total_cmp);
            let mut plan = NodePlan::default();
            let mut out = Vec::new();
            // A plan built for another sample size and node count is rebuilt.
            plan.nodes(nq, &sample[..sample.len().min(other)], &mut out);
            plan.nodes(nq + other % 3, &sample, &mut out);
            prop_assert_eq!(out.len(), nq + other % 3);
            for (k, &q) in out.iter().enumerate() {
                let p = (k as f64 + 0.5) / (nq + other % 3) as f64;
                let want = quantile_sorted(&sample, p);
                prop_assert!(q.to_bits() == want.to_bits(), "node {} of {}: {} != {}", k, sample.len(), q, want);
            }
        }
    }

    proptest! {
        /// EQM is monotone in the value it maps, for both kinds and both node choices.
        #[test]
        fn eqm_is_monotone(model in prop::collection::vec(0.0f32..50.0, 3..60), obs in prop::collection::vec(0.0f32..80.0, 3..40), xs in prop::collection::vec(-5.0f32..100.0, 2..30), nq in prop::option::of(2usize..50), mult in any::<bool>()) {
            let kind = if mult { Kind::Multiplicative } else { Kind::Additive };
            let eqm = QuantileMapping { quantiles: nq, kind };
            let xs = sorted(xs);
            let out = run(&eqm, &model, &obs, &xs);
            for w in out.windows(2) {
                prop_assert!(w[1] >= w[0] - 1e-3 * w[0].abs().max(1.0), "{out:?}");
            }
        }

        /// Nodes serving several calls are searched through their bucket index: the same
        /// values as a binary search, ties (dry zeros, values on the nodes) and tails included.
        #[test]
        fn eqm_indexed_search_equals_binary_search(model in prop::collection::vec(prop_oneof![Just(0.0f32), 0.0f32..50.0], 3..80), obs in prop::collection::vec(prop_oneof![Just(0.0f32), 0.0f32..80.0], 3..40), xs in prop::collection::vec(prop_oneof![Just(0.0f32), -5.0f32..100.0], 1..30), nq in prop::option::of(2usize..120), mult in any::<bool>()) {
            let kind = if mult { Kind::Multiplicative } else { Kind::Additive };
            let eqm = QuantileMapping { quantiles: nq, kind };
            let (m, o) = (sorted(model), sorted(obs));
            // Training values themselves too (ties with the nodes).
            let xs: Vec<f32> = xs.iter().chain(&m).copied().collect();
            let train = Training { model: &m, obs: &o };
            let mut scratch = Scratch::default();
            let mut first = vec![0.0; xs.len()];
            eqm.correct(&train, &xs, &mut first, &mut scratch);
            scratch.training_changed = false;
            for _ in 0..2 {
                let mut again = vec![0.0; xs.len()];
                eqm.correct(&train, &xs, &mut again, &mut scratch);
                prop_assert_eq!(&again, &first);
            }
            prop_assert_eq!(&first, &run(&eqm, &m, &o, &xs));
        }

        /// Every training value mapped: the corrected training sample has the observed quantiles
        /// (within interpolation error: the gap between neighbouring observed order statistics).
        #[test]
        fn eqm_maps_the_training_sample_onto_the_observations(model in prop::collection::vec(0.0f32..50.0, 20..80), obs in prop::collection::vec(0.0f32..80.0, 20..60)) {
            let eqm = QuantileMapping { quantiles: None, kind: Kind::Additive };
            let m = sorted(model);
            let o = sorted(obs);
            let out = run(&eqm, &m, &o, &m);
            let gap = o.windows(2).map(|w| w[1] - w[0]).fold(0.0f32, f32::max);
            for p in [0.1, 0.25, 0.5, 0.75, 0.9] {
                let qa = quantile_sorted(&sorted(out.clone()), p);
                let qb = quantile_sorted(&o, p);
                prop_assert!((qa - qb).abs() <= f64::from(gap) + 1e-3, "p {p}: {qa} vs {qb}");
            }
        }

        /// QDM keeps the forecast's change at each quantile: absolute for temperature, relative
        /// for precipitation.
        #[test]
        fn qdm_preserves_changes(model in prop::collection::vec(10.0f32..50.0, 30..80), obs in prop::collection::vec(1.0f32..80.0, 20..60), sim in prop::collection::vec(10.0f32..50.0, 5..30), shift in 0.5f32..5.0) {
            // (ratios stay below the multiplicative cap: 50/10 x 1.5)
            let add = QuantileDeltaMapping { kind: Kind::Additive, trace: 0.0 };
            let a = run(&add, &model, &obs, &sim);
            let moved: Vec<f32> = sim.iter().map(|x| x + shift).collect();
            let b = run(&add, &model, &obs, &moved);
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((y - x - shift).abs() < 1e-3);
            }
            let mul = QuantileDeltaMapping { kind: Kind::Multiplicative, trace: 0.1 };
            let factor = 1.0 + shift / 10.0;
            let a = run(&mul, &model, &obs, &sim);
            let scaled: Vec<f32> = sim.iter().map(|x| x * factor).collect();
            let b = run(&mul, &model, &obs, &scaled);
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((y / x - factor).abs() < 1e-3 * factor, "{x} {y}");
            }
        }
    }
}
