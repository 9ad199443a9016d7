//! Skill of a hindcast per cell and lead over its start years ([`skill_maps`]), and the
//! diagnostics of a region pooled over its cells and years ([`regional_diagnostics`]).
//!
//! Both start from the same per-cell, per-year contributions: the observed category of a year
//! from the observed climatology of the *other* years (leave-one-year-out, as the
//! cross-validated forecast's own edges), the year's RPS and the climatological RPS, its fair
//! CRPS and the CRPS of the other years' observations as an ensemble, the ensemble-mean
//! anomaly and the observed anomaly about the other years' mean.
//!
//! With `debias_members = Some(M)` the RPSS is Weigel et al.'s (2007) debiased
//! `RPSS_D = 1 − ⟨RPS⟩ / (⟨RPS_clim⟩ + D)`, `D = (1/M) Σ_{k<K} P_k (1 − P_k)` with the
//! cumulative climatological probabilities `P_k` (for terciles `D = 4/(9M)`): the expected
//! RPS penalty an `M`-member ensemble pays for sampling alone, so a reliable small ensemble
//! scores 0, not less.

use ndarray::{s, Array3, Array4, ArrayView5};
use rayon::prelude::*;
use serde::Serialize;

use super::bootstrap::{weighted_skill_score, Bootstrap, Interval, ResampleKernel};
use super::diagrams::{
    observation_rank, reliability_table, roc_curve, uniform_from_key, ReliabilityBin, RocCurve,
};
use super::{crps_ensemble, deterministic, pearson_r, rps, WeightedCorrelation};
use crate::error::{Error, Result};
use crate::stats::categories::{category_level_bounds, category_of};

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
    /// RPSS against climatological probabilities (debiased when asked).
    pub rpss: Array3<f32>,
    /// Mean CRPS of the members (fair unless asked otherwise).
    pub crps: Array3<f32>,
    /// CRPSS against the observed climatology (other years) as an ensemble.
    pub crpss: Array3<f32>,
    /// Brier score per category.
    pub brier: Array4<f32>,
    /// ROC area per category.
    pub roc_area: Array4<f32>,
    /// Bootstrap confidence interval of the ACC, lower end (NaN without a bootstrap).
    pub acc_lower: Array3<f32>,
    /// Upper end of the ACC interval.
    pub acc_upper: Array3<f32>,
    /// Bootstrap confidence interval of the RPSS, lower end.
    pub rpss_lower: Array3<f32>,
    /// Upper end of the RPSS interval.
    pub rpss_upper: Array3<f32>,
}

/// What [`skill_maps`] and [`regional_diagnostics`] score.
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
    /// Members `(start, member, lead, y, x)` for the CRPS and the rank histogram (`None`:
    /// CRPS left NaN, no rank histogram).
    pub members: Option<ArrayView5<'a, f32>>,
    /// Observations on the same starts and leads `(start, 1, lead, y, x)`.
    pub obs: ArrayView5<'a, f32>,
    /// Category levels of the probabilities (terciles: 1/3, 2/3).
    pub levels: &'a [f64],
    /// Weigel's debiased RPSS for probabilities counted from this many members (`None`: the
    /// plain RPSS; use it for probabilities that are not member counts, e.g. PMME).
    pub debias_members: Option<usize>,
    /// Bootstrap over the start years for confidence intervals of ACC and RPSS.
    pub bootstrap: Option<&'a Bootstrap>,
    /// Fair CRPS (Ferro 2014; the default) or the plain ensemble CRPS of properscoring /
    /// xskillscore / climpred.
    pub fair_crps: bool,
}

/// Weigel et al.'s (2007) RPS debiasing term `D = (1/M) Σ_{k<K} P_k (1 − P_k)` for an
/// `M`-member ensemble and categories at cumulative climatological probabilities `levels`.
pub fn rps_debiasing_term(levels: &[f64], members: usize) -> f64 {
    if members == 0 {
        return f64::NAN;
    }
    levels.iter().map(|p| p * (1.0 - p)).sum::<f64>() / members as f64
}

impl ScoredForecast<'_> {
    fn check(&self) -> Result<()> {
        let (ni, ncat, nl, ny, nx) = self.probability.dim();
        if ncat != self.levels.len() + 1 {
            return Err(Error::invalid(
                "verification",
                format!("{ncat} categories but {} levels", self.levels.len()),
            ));
        }
        let same = |d: (usize, usize, usize, usize, usize)| {
            d.0 == ni && d.2 == nl && d.3 == ny && d.4 == nx
        };
        if !same(self.obs.dim())
            || !same(self.ensemble_mean.dim())
            || self.members.is_some_and(|m| !same(m.dim()))
            || self.anomaly.is_some_and(|m| !same(m.dim()))
        {
            return Err(Error::mismatch(
                "verification",
                "forecast, members and observations must share starts, leads and grid",
            ));
        }
        if let Some(b) = self.bootstrap {
            if b.years() != ni {
                return Err(Error::mismatch(
                    "verification",
                    format!("bootstrap over {} years for {ni} start years", b.years()),
                ));
            }
        }
        Ok(())
    }

    fn debias(&self) -> f64 {
        self.debias_members
            .map_or(0.0, |m| rps_debiasing_term(self.levels, m))
    }
}

/// Per-year contributions of one cell and lead (reused between cells).
#[derive(Debug, Default)]
struct CellYears {
    obs: Vec<f64>,
    mean: Vec<f64>,
    /// Forecast anomaly (or the mean when no anomaly is given).
    anomaly: Vec<f64>,
    /// Observation minus the mean of the other years' observations.
    obs_anomaly: Vec<f64>,
    category: Vec<Option<usize>>,
    /// `(year, category)` row-major; NaN when the year is not scored.
    probs: Vec<f64>,
    rps: Vec<f64>,
    rps_clim: Vec<f64>,
    crps: Vec<f64>,
    crps_clim: Vec<f64>,
    others: Vec<f32>,
    members: Vec<f64>,
    clim: Vec<f64>,
    kernel: ResampleKernel,
}

impl CellYears {
    fn fill(&mut self, s: &ScoredForecast, l: usize, y: usize, x: usize) {
        let ni = s.obs.dim().0;
        let ncat = s.levels.len() + 1;
        let at = |a: &ArrayView5<f32>, i: usize| f64::from(a[[i, 0, l, y, x]]);
        self.obs.clear();
        self.obs.extend((0..ni).map(|i| at(&s.obs, i)));
        self.mean.clear();
        self.mean.extend((0..ni).map(|i| at(&s.ensemble_mean, i)));
        self.anomaly.clear();
        match &s.anomaly {
            Some(a) => self.anomaly.extend((0..ni).map(|i| at(a, i))),
            None => self.anomaly.extend_from_slice(&self.mean),
        }
        for v in [
            &mut self.obs_anomaly,
            &mut self.rps,
            &mut self.rps_clim,
            &mut self.crps,
            &mut self.crps_clim,
        ] {
            v.clear();
            v.resize(ni, f64::NAN);
        }
        self.category.clear();
        self.category.resize(ni, None);
        self.probs.clear();
        self.probs.resize(ni * ncat, f64::NAN);
        let clim_probs: Vec<f64> = category_level_bounds(s.levels)
            .iter()
            .map(|(lo, hi)| hi - lo)
            .collect();
        for i in 0..ni {
            let o = self.obs[i];
            if !o.is_finite() {
                continue;
            }
            self.others.clear();
            self.others.extend(
                (0..ni)
                    .filter(|&j| j != i && self.obs[j].is_finite())
                    .map(|j| self.obs[j] as f32),
            );
            if self.others.is_empty() {
                continue;
            }
            self.others.sort_unstable_by(f32::total_cmp);
            let clim_mean =
                self.others.iter().map(|&v| f64::from(v)).sum::<f64>() / self.others.len() as f64;
            self.obs_anomaly[i] = o - clim_mean;
            let edges: Vec<f64> = s
                .levels
                .iter()
                .map(|&p| crate::stats::quantile_sorted(&self.others, p))
                .collect();
            let cat = category_of(o as f32, &edges);
            self.category[i] = cat;
            if let Some(mv) = &s.members {
                self.members.clear();
                self.members.extend(
                    mv.slice(s![i, .., l, y, x])
                        .iter()
                        .filter(|v| v.is_finite())
                        .map(|&v| f64::from(v)),
                );
                self.clim.clear();
                self.clim.extend(self.others.iter().map(|&v| f64::from(v)));
                let c = crps_ensemble(&mut self.members, o, s.fair_crps);
                let cc = crps_ensemble(&mut self.clim, o, s.fair_crps);
                if c.is_finite() && cc.is_finite() {
                    self.crps[i] = c;
                    self.crps_clim[i] = cc;
                }
            }
            let Some(oc) = cat else { continue };
            let row = &mut self.probs[i * ncat..(i + 1) * ncat];
            for (c, p) in row.iter_mut().enumerate() {
                *p = f64::from(s.probability[[i, c, l, y, x]]);
            }
            if row.iter().any(|p| !p.is_finite()) {
                row.fill(f64::NAN);
                continue;
            }
            self.rps[i] = rps(row, oc);
            self.rps_clim[i] = rps(&clim_probs, oc);
        }
    }

    fn ones(&self) -> Vec<u16> {
        vec![1; self.obs.len()]
    }
}

/// Scores of one cell and lead: `[acc, rmse, bias, msss, rps, rpss, crps, crpss, acc_lo,
/// acc_hi, rpss_lo, rpss_hi]` and per category `(brier, roc_area)`.
type CellScores = ([f32; 12], Vec<(f32, f32)>);

/// Scores of a hindcast per cell and lead over its start years.
pub fn skill_maps(s: &ScoredForecast) -> Result<SkillMaps> {
    s.check()?;
    let (_, ncat, nl, ny, nx) = s.probability.dim();
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
        acc_lower: map3(),
        acc_upper: map3(),
        rpss_lower: map3(),
        rpss_upper: map3(),
    };
    let cells: Vec<CellScores> = (0..nl * ny * nx)
        .into_par_iter()
        .map_init(CellYears::default, |cy, k| {
            cy.fill(s, k / (ny * nx), (k / nx) % ny, k % nx);
            cell_scores(s, cy)
        })
        .collect();
    for (k, (a, b)) in cells.into_iter().enumerate() {
        let (l, y, x) = (k / (ny * nx), (k / nx) % ny, k % nx);
        let idx = [l, y, x];
        for (arr, v) in [
            &mut maps.acc,
            &mut maps.rmse,
            &mut maps.bias,
            &mut maps.msss,
            &mut maps.rps,
            &mut maps.rpss,
            &mut maps.crps,
            &mut maps.crpss,
            &mut maps.acc_lower,
            &mut maps.acc_upper,
            &mut maps.rpss_lower,
            &mut maps.rpss_upper,
        ]
        .into_iter()
        .zip(a)
        {
            arr[idx] = v;
        }
        for (c, (bs, roc)) in b.into_iter().enumerate() {
            maps.brier[[c, l, y, x]] = bs;
            maps.roc_area[[c, l, y, x]] = roc;
        }
    }
    Ok(maps)
}

fn cell_scores(s: &ScoredForecast, cy: &mut CellYears) -> CellScores {
    let ncat = s.levels.len() + 1;
    let mut d = deterministic(&cy.mean, &cy.obs);
    d.acc = pearson_r(&cy.anomaly, &cy.obs);
    let debias = s.debias();
    let ones = cy.ones();
    let rpss = weighted_skill_score(&cy.rps, &cy.rps_clim, &ones, debias);
    let crpss = weighted_skill_score(&cy.crps, &cy.crps_clim, &ones, 0.0);
    let mean_of = |v: &[f64]| {
        let (sum, n) = v
            .iter()
            .filter(|x| x.is_finite())
            .fold((0.0, 0usize), |(a, n), x| (a + x, n + 1));
        if n > 0 {
            sum / n as f64
        } else {
            f64::NAN
        }
    };
    let (mut acc_ci, mut rpss_ci) = (Interval::NAN, Interval::NAN);
    if let Some(b) = s.bootstrap {
        let mut kernel = std::mem::take(&mut cy.kernel);
        kernel.load(&cy.anomaly, &cy.obs, &cy.rps, &cy.rps_clim, debias);
        let (mut accs, mut rpsss): (Vec<f64>, Vec<f64>) =
            (0..b.len()).map(|k| kernel.scores(b.counts(k))).unzip();
        acc_ci = b.interval(&mut accs);
        rpss_ci = b.interval(&mut rpsss);
        cy.kernel = kernel;
    }
    let ni = cy.obs.len();
    let mut p = Vec::with_capacity(ni);
    let mut o = Vec::with_capacity(ni);
    let per_cat = (0..ncat)
        .map(|c| {
            p.clear();
            o.clear();
            for i in 0..ni {
                if let (Some(oc), pc) = (cy.category[i], cy.probs[i * ncat + c]) {
                    if pc.is_finite() {
                        p.push(pc);
                        o.push(oc == c);
                    }
                }
            }
            if p.is_empty() {
                (f32::NAN, f32::NAN)
            } else {
                (
                    super::brier(&p, &o, 10).score as f32,
                    super::roc_area(&p, &o) as f32,
                )
            }
        })
        .collect();
    (
        [
            d.acc,
            d.rmse,
            d.bias,
            d.msss,
            mean_of(&cy.rps),
            rpss,
            mean_of(&cy.crps),
            crpss,
            acc_ci.lower,
            acc_ci.upper,
            rpss_ci.lower,
            rpss_ci.upper,
        ]
        .map(|v| v as f32),
        per_cat,
    )
}

/// Diagnostics of one region and lead, pooled over the region's cells and the start years.
#[derive(Debug, Clone, Serialize)]
pub struct RegionalDiagnostics {
    /// Reliability-diagram data per category.
    pub reliability: Vec<Vec<ReliabilityBin>>,
    /// ROC curve per category.
    pub roc: Vec<RocCurve>,
    /// Rank histogram of the observations among the members (counts of ranks `0..=m`; empty
    /// without members or with one). Only samples with all members finite count.
    pub rank_histogram: Vec<u64>,
    /// Pattern anomaly correlation per start year (forecast anomaly against the observed
    /// anomaly about the other years' mean).
    pub pattern_acc: Vec<f64>,
    /// Bootstrap interval of the region's mean ACC (NaN without a bootstrap).
    pub acc_interval: Interval,
    /// Bootstrap interval of the region's mean RPSS.
    pub rpss_interval: Interval,
    /// The region's mean ACC on each bootstrap resample (paired comparisons between systems).
    #[serde(skip)]
    pub acc_resampled: Vec<f64>,
    /// The region's mean RPSS on each bootstrap resample.
    #[serde(skip)]
    pub rpss_resampled: Vec<f64>,
    /// Cells of the region with data.
    pub cells: usize,
}

/// Cells per chunk of [`regional_diagnostics`].
const REGION_CHUNK: usize = 64;

/// What one cell adds to a region (folded over cells).
#[derive(Debug, Default)]
struct RegionSums {
    probs: Vec<Vec<f64>>,
    outcome: Vec<Vec<bool>>,
    weight: Vec<f64>,
    ranks: Vec<u64>,
    pattern: Vec<WeightedCorrelation>,
    acc_b: Vec<(f64, f64)>,
    rpss_b: Vec<(f64, f64)>,
    cells: usize,
}

impl RegionSums {
    fn new(ncat: usize, ni: usize, nmem: usize, nb: usize) -> Self {
        RegionSums {
            probs: vec![Vec::new(); ncat],
            outcome: vec![Vec::new(); ncat],
            weight: Vec::new(),
            ranks: vec![0; nmem + usize::from(nmem > 0)],
            pattern: vec![WeightedCorrelation::default(); ni],
            acc_b: vec![(0.0, 0.0); nb],
            rpss_b: vec![(0.0, 0.0); nb],
            cells: 0,
        }
    }

    fn merge(mut self, other: RegionSums) -> RegionSums {
        for c in 0..self.probs.len() {
            self.probs[c].extend_from_slice(&other.probs[c]);
            self.outcome[c].extend_from_slice(&other.outcome[c]);
        }
        self.weight.extend_from_slice(&other.weight);
        for (a, b) in self.ranks.iter_mut().zip(&other.ranks) {
            *a += b;
        }
        for (a, b) in self.pattern.iter_mut().zip(&other.pattern) {
            a.merge(b);
        }
        for (a, b) in self.acc_b.iter_mut().zip(&other.acc_b) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (a, b) in self.rpss_b.iter_mut().zip(&other.rpss_b) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.cells += other.cells;
        self
    }
}

/// Reliability, ROC, rank histogram, pattern ACC per year and bootstrap intervals of the
/// area-mean ACC and RPSS of one lead over the cells with a positive weight in `weights`
/// (row-major `(y, x)`, e.g. [`super::Region::cell_weights`]), samples weighted by it;
/// `bins` probability bins for the reliability diagram.
pub fn regional_diagnostics(
    s: &ScoredForecast,
    lead: usize,
    weights: &[f64],
    bins: usize,
) -> Result<RegionalDiagnostics> {
    s.check()?;
    let (ni, ncat, nl, ny, nx) = s.probability.dim();
    if lead >= nl || weights.len() != ny * nx {
        return Err(Error::mismatch(
            "verification",
            format!(
                "lead {lead} of {nl}, {} weights for {} cells",
                weights.len(),
                ny * nx
            ),
        ));
    }
    // A rank histogram needs an ensemble: none for single members (ensemble means).
    let nmem = s.members.map_or(0, |m| m.dim().1);
    let nmem = if nmem >= 2 { nmem } else { 0 };
    let nb = s.bootstrap.map_or(0, Bootstrap::len);
    let debias = s.debias();
    let cells: Vec<usize> = (0..ny * nx).filter(|&k| weights[k] > 0.0).collect();
    // Fixed chunks folded in cell order and merged in chunk order: the sums (and so the
    // intervals and pattern ACCs) do not depend on how rayon splits the work.
    let chunks: Vec<RegionSums> = cells
        .par_chunks(REGION_CHUNK)
        .map(|chunk| {
            chunk
                .iter()
                .fold(
                    (CellYears::default(), RegionSums::new(ncat, ni, nmem, nb)),
                    |(mut cy, mut acc), &k| {
                        let (y, x) = (k / nx, k % nx);
                        let w = weights[k];
                        cy.fill(s, lead, y, x);
                        if cy.obs.iter().any(|v| v.is_finite()) {
                            acc.cells += 1;
                        }
                        for i in 0..ni {
                            if let Some(oc) = cy.category[i] {
                                if cy.probs[i * ncat].is_finite() {
                                    for c in 0..ncat {
                                        acc.probs[c].push(cy.probs[i * ncat + c]);
                                        acc.outcome[c].push(oc == c);
                                    }
                                    acc.weight.push(w);
                                }
                            }
                            acc.pattern[i].add(cy.anomaly[i], cy.obs_anomaly[i], w);
                            if let Some(mv) = s.members.as_ref().filter(|_| nmem > 0) {
                                let members = mv.slice(s![i, .., lead, y, x]);
                                if members.iter().all(|v| v.is_finite()) {
                                    cy.members.clear();
                                    cy.members.extend(members.iter().map(|&v| f64::from(v)));
                                    let key = (((lead * ny + y) * nx + x) * ni + i) as u64;
                                    if let Some(r) = observation_rank(
                                        &cy.members,
                                        cy.obs[i],
                                        uniform_from_key(key),
                                    ) {
                                        acc.ranks[r] += 1;
                                    }
                                }
                            }
                        }
                        if let Some(b) = s.bootstrap {
                            cy.kernel
                                .load(&cy.anomaly, &cy.obs, &cy.rps, &cy.rps_clim, debias);
                            for j in 0..b.len() {
                                let (a, r) = cy.kernel.scores(b.counts(j));
                                if a.is_finite() {
                                    acc.acc_b[j].0 += w * a;
                                    acc.acc_b[j].1 += w;
                                }
                                if r.is_finite() {
                                    acc.rpss_b[j].0 += w * r;
                                    acc.rpss_b[j].1 += w;
                                }
                            }
                        }
                        (cy, acc)
                    },
                )
                .1
        })
        .collect();
    let sums = chunks
        .into_iter()
        .fold(RegionSums::new(ncat, ni, nmem, nb), RegionSums::merge);
    let resampled = |v: &[(f64, f64)]| -> Vec<f64> {
        v.iter()
            .map(|&(sum, w)| if w > 0.0 { sum / w } else { f64::NAN })
            .collect()
    };
    let (acc_resampled, rpss_resampled) = (resampled(&sums.acc_b), resampled(&sums.rpss_b));
    let interval = |v: &[f64]| match s.bootstrap {
        Some(b) => b.interval(&mut v.to_vec()),
        None => Interval::NAN,
    };
    Ok(RegionalDiagnostics {
        reliability: (0..ncat)
            .map(|c| reliability_table(&sums.probs[c], &sums.outcome[c], &sums.weight, bins))
            .collect(),
        roc: (0..ncat)
            .map(|c| roc_curve(&sums.probs[c], &sums.outcome[c], &sums.weight))
            .collect(),
        rank_histogram: sums.ranks,
        pattern_acc: sums
            .pattern
            .iter()
            .map(WeightedCorrelation::value)
            .collect(),
        acc_interval: interval(&acc_resampled),
        rpss_interval: interval(&rpss_resampled),
        acc_resampled,
        rpss_resampled,
        cells: sums.cells,
    })
}
