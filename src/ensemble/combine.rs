//! The multi-model combination behind `s2s combine`: from M models' hindcasts (bias-corrected,
//! cross-validated) and forecasts on one grid, per cell and lead, the category probabilities
//! (terciles and extremes), the deterministic fields and the weights used — for the forecast and,
//! cross-validated, for every hindcast start so that the combination itself can be verified.
//!
//! # Climatologies and leave-one-year-out
//! For each cell, lead and start month, each model's climatology is the pool of its hindcast
//! members × years (and the observed climatology the observed values of those years). A
//! hindcast start of year `y` is scored against the climatology **without year `y`**: the
//! pool is sorted once, the positions of each year's values in it are remembered, and a
//! quantile without year `y` is read by skipping those positions — no re-sort per year. Sums
//! per year give the leave-one-out means and standard deviations the same way.
//!
//! # Formulas
//! - Edges: type-7 sample quantiles (numpy's default) of the model's pool (`EdgeSource::Model`,
//!   the C3S way) or of the observed values (`EdgeSource::Observed`) at the category levels.
//! - Counted probabilities: `P_c = Σ_m w_m k_{m,c} / n_m` (see [`super::category_probabilities`]).
//! - Weights: pooled (`w_m ∝ n_m`), model-equal (`1/M`), or skill: `w_m ∝ max(S_m, 0)` with `S_m`
//!   the cross-validated RPSS (`1 − Σ RPS_m / Σ RPS_clim`, sums over the hindcast years and the
//!   `(2r+1)²` cells around the cell) or ACC (`Σ a o / √(Σ a² Σ o²)` over the same), equal
//!   weights where no model has positive skill. For a hindcast year the year is left out of
//!   the sums, so its weights never saw it.
//! - PMME (APCC): the MME mean anomaly `A = Σ_m (x̄_m − c_m) / M` added to the observed mean `ō`
//!   gives `μ = ō + A`; the spread is the cross-validated root-mean-square error of the hindcast
//!   `σ_e = √(mean_y (A_y − (o_y − ō_{−y}))²)`; category edges are the observed Gaussian
//!   quantiles `ō + z_p s_o` (`z = ∓0.4307` for terciles); `P(below) = Φ((e₁ − μ)/σ_e)`, and so
//!   on. Percentiles are `μ + z_p σ_e`.
//! - Calibrated (the default of the jobs): each model's regression-calibrated Student-t
//!   predictive distribution ([`super::calibrate`]) fitted on the training years, the MME the
//!   equal-weight mixture: probabilities averaged at the observed edges, percentiles the
//!   mixture's quantiles; the deterministic anomaly `s_o Σ_m (x̄_m − c_m)/(M s_m)` (the models'
//!   standardized ensemble-mean anomalies against their climatology of all hindcast years, in
//!   observed standard deviations of all hindcast years — one constant per cell, which no
//!   correlation depends on) about the observed mean of the training years; the spread
//!   `s_o` times the mean predictive scale over the transformed observed standard deviation.
//! - Deterministic fields: `mean = Σ w_m x̄_m`; `anomaly = Σ w_m (x̄_m − c_m)` with `c_m` the
//!   model's own hindcast mean; `standardized_anomaly = Σ w_m (x̄_m − c_m)/s_m` with `s_m` the
//!   standard deviation of the model's pool; `percent_of_normal = 100 mean / Σ w_m c_m`;
//!   `spread` = weighted standard deviation of all members about the mean;
//!   `signal_to_noise = |anomaly| / spread`; the most likely category with its probability, and
//!   the dominant category where that probability is at least the threshold (40 % on C3S and
//!   NMME maps), `-1` elsewhere.
//!
//! # References
//! Min, Kryjov & Park (2009), MWR 137, 4037–4057 (APCC PMME); Weigel, Liniger & Appenzeller
//! (2008), QJRMS 134, 241–260 (multi-model weighting); Hagedorn, Doblas-Reyes & Palmer (2005);
//! Epstein (1969) and Murphy (1971) (RPS); Copernicus C3S graphical products (model-climate
//! terciles, 40 % dominance).

use ndarray::{s, Array3, Array4, Array5, Array6, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::calibrate::{
    elr_predictive, mixture_probabilities, mixture_quantile, regression_predictive, Predictive,
    Transform,
};
use super::pcr::{PcrData, PcrForecast, PCR_MAX_MODES};
use super::{category_of, weighted_percentiles, PercentileScratch, ProbScratch, Weights, TERCILES};
use crate::cube::{to_cell_major, Cube};
use crate::error::{Error, Result};
use crate::stats::categories::rps;
use crate::stats::{
    mean_sd_of, sort_tagged, standard_normal_cdf, standard_normal_quantile, tag, untag,
};

/// How the models' members are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightScheme {
    /// Every member counts the same.
    Pooled,
    /// Every model counts the same, whatever its member count.
    ModelEqual,
    /// Cross-validated skill of each model around each cell.
    Skill {
        /// The score.
        score: SkillScore,
        /// Neighbourhood half-width in cells: the score pools `(2r+1)²` cells.
        radius_cells: usize,
    },
    /// APCC probabilistic MME: Gaussian around the MME mean with the hindcast error spread.
    /// Not calibrated: it shifts the Gaussian by the whole raw MME anomaly, whatever the skill.
    Pmme,
    /// Regression-calibrated probabilities of each model (observed on ensemble mean, Student-t
    /// predictive, leave-one-year-out; [`super::calibrate`]), averaged over the models with
    /// equal weights; edges from the observed climatology.
    Calibrated,
    /// Extended logistic regression of each model (Wilks 2009; the threshold a predictor, so
    /// categories never cross; [`super::calibrate::elr_predictive`]), averaged over the models
    /// with equal weights; edges from the observed climatology.
    Elr,
    /// Principal-component regression MOS of each model's ensemble-mean field (CPT style:
    /// every observed cell regressed on the leading EOF modes, the number of modes by
    /// cross-validation; [`super::pcr`]), Student-t predictive, averaged over the models with
    /// equal weights; edges from the observed climatology.
    Pcr,
}

impl WeightScheme {
    /// Whether the scheme calibrates each model against the observations (regression, ELR or
    /// PCR) and mixes the calibrated probabilities with equal weights.
    pub fn calibrates(self) -> bool {
        matches!(
            self,
            WeightScheme::Calibrated | WeightScheme::Elr | WeightScheme::Pcr
        )
    }
}

/// The skill score behind skill weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillScore {
    /// Ranked probability skill score of the model's tercile probabilities.
    Rpss,
    /// Anomaly correlation of the model's ensemble mean.
    Acc,
}

/// Where category edges come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeSource {
    /// Each model's own hindcast climatology (removes each model's residual bias).
    Model,
    /// The observed climatology.
    Observed,
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CombineSpec {
    /// Weights.
    pub scheme: WeightScheme,
    /// Edges.
    pub edges: EdgeSource,
    /// Category levels (terciles by default): `levels.len() + 1` categories.
    pub category_levels: Vec<f64>,
    /// Extreme levels (default 0.1 and 0.9): probabilities below the first, between, above the
    /// last. Empty for none.
    pub extreme_levels: Vec<f64>,
    /// Ensemble percentiles (0–1; default 0.1, 0.5, 0.9).
    pub percentile_levels: Vec<f64>,
    /// Probability from which the most likely category is "dominant" (default
    /// [`super::DOMINANT_THRESHOLD`], 0.4).
    pub dominant_threshold: f64,
    /// Hindcast starts scored against climatologies (and weights) without their year.
    pub cross_validate: bool,
    /// Every field for the hindcast starts too; when false, the hindcast gets what verification
    /// needs (probabilities, mean, anomalies, spread, weights) and its percentiles, edges and
    /// categories stay NaN / missing — they cost a sort per start.
    pub full_hindcast: bool,
}

impl Default for CombineSpec {
    fn default() -> Self {
        CombineSpec {
            scheme: WeightScheme::ModelEqual,
            edges: EdgeSource::Model,
            category_levels: TERCILES.to_vec(),
            extreme_levels: vec![0.1, 0.9],
            percentile_levels: vec![0.1, 0.5, 0.9],
            dominant_threshold: super::DOMINANT_THRESHOLD,
            cross_validate: true,
            full_hindcast: true,
        }
    }
}

impl CombineSpec {
    /// One line for the output attributes.
    pub fn describe(&self) -> String {
        let w = match self.scheme {
            WeightScheme::Pooled => "pooled members".to_string(),
            WeightScheme::ModelEqual => "model-equal weights".to_string(),
            WeightScheme::Skill {
                score,
                radius_cells,
            } => format!(
                "skill weights (cross-validated {}, pooled over {}x{} cells, max(skill,0), equal where no model has skill)",
                match score {
                    SkillScore::Rpss => "RPSS",
                    SkillScore::Acc => "ACC",
                },
                2 * radius_cells + 1,
                2 * radius_cells + 1
            ),
            WeightScheme::Pmme => {
                "PMME (Gaussian around the MME mean with the cross-validated hindcast error spread; not calibrated)".to_string()
            }
            WeightScheme::Calibrated => {
                "regression-calibrated probabilities (per model: observed on ensemble mean, cube root for precipitation, Student-t predictive), models averaged with equal weights".to_string()
            }
            WeightScheme::Elr => {
                "extended logistic regression (per model: the observed category thresholds and the ensemble mean as predictors, cube root for precipitation), models averaged with equal weights".to_string()
            }
            WeightScheme::Pcr => {
                format!("principal-component regression MOS (per model: every observed cell regressed on the leading EOFs of the ensemble-mean field, 0-{PCR_MAX_MODES} modes chosen by leave-one-out cross-validation, cube root for precipitation, Student-t predictive), models averaged with equal weights")
            }
        };
        let e = match (self.scheme, self.edges) {
            (WeightScheme::Pmme, _) => "observed climatology (Gaussian quantiles)",
            (s, _) if s.calibrates() => "observed climatology (type-7 quantiles)",
            (_, EdgeSource::Model) => "model's own hindcast climatology (type-7 quantiles)",
            (_, EdgeSource::Observed) => "observed climatology (type-7 quantiles)",
        };
        format!(
            "{w}; category edges from the {e}{}",
            if self.cross_validate {
                "; hindcast starts leave their year out"
            } else {
                ""
            }
        )
    }

    /// Whether the category edges come from each model's own climatology: asked for, and the
    /// scheme counts members (PMME and calibrated probabilities use the observed climatology).
    pub fn model_edges(&self) -> bool {
        self.edges == EdgeSource::Model
            && !(self.scheme == WeightScheme::Pmme || self.scheme.calibrates())
    }

    /// Whether the scheme needs observations (observed edges, skill weights, PMME, calibration).
    pub fn needs_observations(&self) -> bool {
        self.edges == EdgeSource::Observed
            || self.scheme.calibrates()
            || matches!(self.scheme, WeightScheme::Skill { .. } | WeightScheme::Pmme)
    }

    fn check(&self) -> Result<()> {
        let ascending =
            |v: &[f64]| v.iter().all(|p| *p > 0.0 && *p < 1.0) && v.windows(2).all(|w| w[0] < w[1]);
        if self.category_levels.is_empty() || !ascending(&self.category_levels) {
            return Err(Error::invalid(
                "category levels",
                format!(
                    "{:?}: need ascending levels strictly between 0 and 1",
                    self.category_levels
                ),
            ));
        }
        if !ascending(&self.extreme_levels) {
            return Err(Error::invalid(
                "extreme levels",
                format!(
                    "{:?}: need ascending levels strictly between 0 and 1",
                    self.extreme_levels
                ),
            ));
        }
        if self
            .percentile_levels
            .iter()
            .any(|p| !(0.0..=1.0).contains(p))
        {
            return Err(Error::invalid(
                "percentiles",
                format!("{:?}: levels must be in [0, 1]", self.percentile_levels),
            ));
        }
        if !(0.0..=1.0).contains(&self.dominant_threshold) {
            return Err(Error::invalid(
                "dominant threshold",
                format!("{}: must be in [0, 1]", self.dominant_threshold),
            ));
        }
        Ok(())
    }
}

/// Calls `$callback!` with the fields of [`Products`] laid out `(start, k, lead, y, x)` (all
/// but the edges, `(start, source, edge, lead, y, x)`), then any `$extra` fields: one list for
/// every place that treats the fields alike.
macro_rules! products_fields_5d {
    ($callback:ident $(, $extra:ident)*) => {
        $callback!(
            probability,
            extreme_probability,
            mean,
            normal,
            anomaly,
            standardized_anomaly,
            percent_of_normal,
            spread,
            signal_to_noise,
            percentiles,
            most_likely_category,
            most_likely_probability,
            dominant_category,
            weights
            $(, $extra)*
        )
    };
}
pub(crate) use products_fields_5d;

/// Products for one set of starts (the hindcast or the forecast), each
/// `(start, k, lead, y, x)`.
#[derive(Debug, Clone)]
pub struct Products {
    /// Category probabilities (`k` = categories, ordered from the lowest).
    pub probability: Array5<f32>,
    /// Extreme-category probabilities (`k` = extreme levels + 1; 0 when none asked).
    pub extreme_probability: Array5<f32>,
    /// Weighted MME mean (PMME: `ō + A`).
    pub mean: Array5<f32>,
    /// The MME normal `Σ w_m c_m` (PMME: the observed mean).
    pub normal: Array5<f32>,
    /// MME mean anomaly against the models' hindcast climatologies.
    pub anomaly: Array5<f32>,
    /// Weighted mean of each model's anomaly over its climatological standard deviation.
    pub standardized_anomaly: Array5<f32>,
    /// `100 · mean / normal` (NaN where the normal is below 1e-6).
    pub percent_of_normal: Array5<f32>,
    /// Weighted standard deviation of the members (PMME: the error spread).
    pub spread: Array5<f32>,
    /// `|anomaly| / spread`.
    pub signal_to_noise: Array5<f32>,
    /// Percentiles (`k` = levels).
    pub percentiles: Array5<f32>,
    /// Index of the most likely category (`-1` where no probabilities).
    pub most_likely_category: Array5<i8>,
    /// Its probability.
    pub most_likely_probability: Array5<f32>,
    /// The most likely category where its probability ≥ the threshold, else `-1`;
    /// [`DOMINANT_FILL`] without probabilities.
    pub dominant_category: Array5<i8>,
    /// Model weights used (`k` = models).
    pub weights: Array5<f32>,
    /// Category edges `(start, source, edge, lead, y, x)`; `source` = the models for model
    /// edges, one (observed) otherwise.
    pub edges: Array6<f32>,
    /// Extreme edges, same layout.
    pub extreme_edges: Array6<f32>,
}

impl Products {
    /// Withholds the category forecast where `no_outlook` `(lead, y, x)` is true (e.g.
    /// [`super::collapsed_categories`]): probabilities NaN, no most likely or dominant
    /// category. Means, anomalies, spreads and percentiles stay.
    pub fn withhold(&mut self, no_outlook: ndarray::ArrayView3<bool>) {
        withhold_categories(&mut self.probability, no_outlook);
        withhold_categories(&mut self.extreme_probability, no_outlook);
        let (nt, _, nl, ny, nx) = self.probability.dim();
        for t in 0..nt {
            for ((l, y, x), &off) in no_outlook.indexed_iter() {
                if !off || l >= nl || y >= ny || x >= nx {
                    continue;
                }
                self.most_likely_probability[[t, 0, l, y, x]] = f32::NAN;
                self.most_likely_category[[t, 0, l, y, x]] = -1;
                self.dominant_category[[t, 0, l, y, x]] = DOMINANT_FILL;
            }
        }
    }
}

/// Category probabilities `(start, category, lead, y, x)` set to NaN where `no_outlook`
/// `(lead, y, x)` is true (see [`Products::withhold`]); cells outside the array are ignored.
pub fn withhold_categories(probability: &mut Array5<f32>, no_outlook: ndarray::ArrayView3<bool>) {
    let (_, _, nl, ny, nx) = probability.dim();
    for ((l, y, x), &off) in no_outlook.indexed_iter() {
        if off && l < nl && y < ny && x < nx {
            probability
                .slice_mut(ndarray::s![.., .., l, y, x])
                .fill(f32::NAN);
        }
    }
}

/// Result of [`combine`].
#[derive(Debug, Clone)]
pub struct Combined {
    /// The hindcast starts (cross-validated unless asked otherwise).
    pub hindcast: Products,
    /// The forecast starts, when forecasts were given.
    pub forecast: Option<Products>,
}

/// Models' hindcasts, optional forecasts and observations for [`combine`].
#[derive(Debug, Clone, Copy)]
pub struct CombineInput<'a> {
    /// One hindcast per model, same start dates, leads and grid.
    pub hindcasts: &'a [&'a Cube],
    /// One forecast per model (same leads and grid; start months found in the hindcast).
    pub forecasts: Option<&'a [&'a Cube]>,
    /// Observations on the hindcast's targets `(start, 1, lead, y, x)` (see
    /// [`crate::cube::align_observations`]); needed for observed edges, skill weights and PMME.
    pub obs: Option<&'a Cube>,
}

/// `dominant_category` where there are no probabilities (ocean, missing data).
pub const DOMINANT_FILL: i8 = -127;

/// A climatological pool of one cell: values sorted once, with each value's year, so that
/// quantiles, means and standard deviations without one year come without re-sorting.
#[derive(Debug, Default, Clone)]
struct Pool {
    tagged: Vec<u64>,
    sorted: Vec<f32>,
    /// Positions in `sorted` grouped by year (CSR: `pos[start[y]..start[y+1]]`, ascending).
    pos: Vec<u32>,
    start: Vec<u32>,
    sum: Vec<f64>,
    sumsq: Vec<f64>,
    total: (f64, f64),
    /// Scratch of the build: the radix sort's buffer, per-year counts and fill positions.
    buf: Vec<u64>,
    counts: Vec<u32>,
    fill: Vec<u32>,
}

impl Pool {
    /// Rebuilds the pool from `(value, year index)` pairs; NaN values are skipped.
    fn build(&mut self, values: impl Iterator<Item = (f32, usize)>, nyears: usize) {
        self.tagged.clear();
        self.sum.clear();
        self.sum.resize(nyears, 0.0);
        self.sumsq.clear();
        self.sumsq.resize(nyears, 0.0);
        let counts = &mut self.counts;
        counts.clear();
        counts.resize(nyears + 1, 0);
        for (v, y) in values {
            if v.is_finite() {
                self.tagged.push(tag(v, y as i32));
                let x = f64::from(v);
                self.sum[y] += x;
                self.sumsq[y] += x * x;
                counts[y + 1] += 1;
            }
        }
        // By value (which values of a tie belong to which year does not change a quantile).
        sort_tagged(&mut self.tagged, &mut self.buf);
        self.sorted.clear();
        self.start.clear();
        self.start.push(0);
        for y in 0..nyears {
            let prev = self.start[y];
            self.start.push(prev + counts[y + 1]);
        }
        self.pos.clear();
        self.pos.resize(self.tagged.len(), 0);
        self.fill.clear();
        self.fill.extend_from_slice(&self.start[..nyears]);
        for (i, &t) in self.tagged.iter().enumerate() {
            let (v, y) = untag(t);
            self.sorted.push(v);
            let y = y as usize;
            self.pos[self.fill[y] as usize] = i as u32;
            self.fill[y] += 1;
        }
        self.total = (self.sum.iter().sum(), self.sumsq.iter().sum());
    }

    fn excluded(&self, year: Option<usize>) -> &[u32] {
        match year {
            Some(y) if y + 1 < self.start.len() => {
                &self.pos[self.start[y] as usize..self.start[y + 1] as usize]
            }
            _ => &[],
        }
    }

    /// Number of values without `year`.
    fn len_without(&self, year: Option<usize>) -> usize {
        self.sorted.len() - self.excluded(year).len()
    }

    /// Type-7 quantile of the pool without `year`.
    fn quantile(&self, p: f64, year: Option<usize>) -> f64 {
        let skip = self.excluded(year);
        let n = self.sorted.len() - skip.len();
        if n == 0 {
            return f64::NAN;
        }
        let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
        let lo = h as usize;
        // Rank r among the kept values is index r + (number of skipped positions before it).
        let mut j = 0;
        let mut index = |r: usize| {
            while j < skip.len() && skip[j] as usize <= r + j {
                j += 1;
            }
            r + j
        };
        let a = f64::from(self.sorted[index(lo)]);
        if lo + 1 >= n {
            return a;
        }
        let b = f64::from(self.sorted[index(lo + 1)]);
        a + (h - lo as f64) * (b - a)
    }

    /// Mean and sample standard deviation without `year` (NaN when too few values).
    fn mean_sd(&self, year: Option<usize>) -> (f64, f64) {
        let n = self.len_without(year) as f64;
        let (mut s, mut q) = self.total;
        if let Some(y) = year.filter(|&y| y < self.sum.len()) {
            s -= self.sum[y];
            q -= self.sumsq[y];
        }
        if n < 1.0 {
            return (f64::NAN, f64::NAN);
        }
        let mean = s / n;
        let sd = if n < 2.0 {
            f64::NAN
        } else {
            ((q - n * mean * mean) / (n - 1.0)).max(0.0).sqrt()
        };
        (mean, sd)
    }
}

/// Start dates of the hindcast grouped by start month; every forecast start joins the group of
/// its month.
#[derive(Debug, Clone)]
struct Group {
    /// Hindcast starts of the group.
    hindcast: Vec<usize>,
    /// The year index (within the group's years) of each of those starts.
    year_of: Vec<usize>,
    nyears: usize,
    /// Forecast starts of the group.
    forecast: Vec<usize>,
}

fn groups(hindcast: &Cube, forecast: Option<&Cube>) -> Result<Vec<Group>> {
    let mut months: Vec<u32> = hindcast.coords.init.iter().map(|d| d.month).collect();
    months.sort_unstable();
    months.dedup();
    let mut out = Vec::new();
    for m in months {
        let hc: Vec<usize> = (0..hindcast.n_init())
            .filter(|&i| hindcast.coords.init[i].month == m)
            .collect();
        let mut years: Vec<i32> = hc.iter().map(|&i| hindcast.coords.init[i].year).collect();
        years.sort_unstable();
        years.dedup();
        let year_of = hc
            .iter()
            .map(|&i| {
                years
                    .binary_search(&hindcast.coords.init[i].year)
                    .unwrap_or(0)
            })
            .collect();
        let fc = forecast.map_or(Vec::new(), |f| {
            (0..f.n_init())
                .filter(|&i| f.coords.init[i].month == m)
                .collect()
        });
        out.push(Group {
            hindcast: hc,
            year_of,
            nyears: years.len(),
            forecast: fc,
        });
    }
    if let Some(f) = forecast {
        let covered: usize = out.iter().map(|g| g.forecast.len()).sum();
        if covered < f.n_init() {
            let missing = f
                .coords
                .init
                .iter()
                .find(|d| !hindcast.coords.init.iter().any(|h| h.month == d.month))
                .map(|d| d.to_string())
                .unwrap_or_default();
            return Err(Error::mismatch(
                "forecast and hindcast",
                format!(
                    "{}: the forecast start {missing} has no hindcast start in the same month to take a climatology from",
                    f.meta.model
                ),
            ));
        }
    }
    Ok(out)
}

fn check_input(input: &CombineInput, spec: &CombineSpec) -> Result<()> {
    spec.check()?;
    let hc = input.hindcasts;
    let first = *hc
        .first()
        .ok_or_else(|| Error::invalid("combine", "no model given"))?;
    let shape = first.coords.spatial.shape();
    for c in hc {
        if c.coords.spatial.shape() != shape {
            return Err(Error::mismatch(
                "models",
                format!(
                    "{} ({}) is not on the grid of {} ({}); regrid first",
                    c.meta.model,
                    c.coords.spatial.describe(),
                    first.meta.model,
                    first.coords.spatial.describe()
                ),
            ));
        }
        if c.coords.lead != first.coords.lead {
            return Err(Error::mismatch(
                "models",
                format!("{} and {} have other leads", c.meta.model, first.meta.model),
            ));
        }
        if !c.same_start_months(first) {
            return Err(Error::mismatch(
                "hindcasts",
                format!(
                    "{} and {} have different start dates ({} vs {} starts); restrict them to common years",
                    c.meta.model,
                    first.meta.model,
                    c.n_init(),
                    first.n_init()
                ),
            ));
        }
    }
    if let Some(fc) = input.forecasts {
        if fc.len() != hc.len() {
            return Err(Error::invalid(
                "combine",
                format!(
                    "{} hindcasts and {} forecasts: give one of each per model, in the same order",
                    hc.len(),
                    fc.len()
                ),
            ));
        }
        for (f, h) in fc.iter().zip(hc) {
            if f.coords.spatial.shape() != shape || f.coords.lead != h.coords.lead {
                return Err(Error::mismatch(
                    "forecast and hindcast",
                    format!(
                        "{}: the forecast has other leads or another grid than its hindcast",
                        f.meta.model
                    ),
                ));
            }
            if f.coords.init != fc[0].coords.init {
                return Err(Error::mismatch(
                    "forecasts",
                    format!(
                        "{} and {} have different start dates",
                        f.meta.model, fc[0].meta.model
                    ),
                ));
            }
        }
    }
    match input.obs {
        None if spec.needs_observations() => Err(Error::invalid(
            "combine",
            "observed edges, skill weights, PMME and calibrated probabilities need observations",
        )),
        Some(o)
            if o.n_init() != first.n_init()
                || o.n_lead() != first.n_lead()
                || o.coords.spatial.shape() != shape =>
        {
            Err(Error::mismatch(
                "observations",
                "observations must be aligned to the hindcast's starts, leads and grid",
            ))
        }
        _ => Ok(()),
    }
}

/// One cell's view of the inputs: pools and per-start statistics, rebuilt cell by cell in
/// reusable buffers.
#[derive(Default)]
struct CellWork {
    pools: Vec<Pool>,
    obs_pool: Pool,
    /// Observed value of each hindcast start of the group.
    obs: Vec<f32>,
    members: Vec<Vec<f32>>,
    edges: Vec<Vec<f64>>,
    xedges: Vec<Vec<f64>>,
    probs: Vec<f64>,
    xprobs: Vec<f64>,
    weights: Vec<f64>,
    weight_spec: Option<Weights>,
    prob_scratch: ProbScratch,
    pct_scratch: PercentileScratch,
    pct: Vec<f64>,
    /// Cross-validated hindcast MME anomaly and observed anomaly per start (PMME).
    mme_anom: Vec<f64>,
    obs_anom: Vec<f64>,
    /// Calibration: each model's transformed ensemble mean per hindcast start of the group
    /// `[model][start]`, the transformed observations, the fits of the current target and the
    /// transformed edges.
    cal_x: Vec<Vec<f64>>,
    cal_o: Vec<f64>,
    cal_fits: Vec<Predictive>,
    cal_edges: Vec<f64>,
    cal_thresholds: Vec<f64>,
}

/// One lead of every model, cell-major `(y, x, start × member)` so that a cell's values are
/// contiguous (the cubes are map-major: a cell's values lie one map apart).
struct LeadData {
    /// The transform of the quantity for calibration.
    transform: Transform,
    hindcast: Vec<Array3<f32>>,
    forecast: Vec<Array3<f32>>,
    members: Vec<usize>,
    fc_members: Vec<usize>,
    /// Observations `(y, x, start)`.
    obs: Option<Array3<f32>>,
}

impl LeadData {
    /// Columns of the map (the observations' and the models' alike).
    fn nx(&self) -> usize {
        self.hindcast[0].dim().1
    }

    fn new(input: &CombineInput, l: usize) -> LeadData {
        let cells = |c: &Cube| cell_major(c, l);
        LeadData {
            transform: Transform::for_quantity(input.hindcasts[0].meta.quantity),
            hindcast: input.hindcasts.iter().map(|c| cells(c)).collect(),
            forecast: input
                .forecasts
                .map_or(Vec::new(), |f| f.iter().map(|c| cells(c)).collect()),
            members: input.hindcasts.iter().map(|c| c.n_member()).collect(),
            fc_members: input
                .forecasts
                .map_or(Vec::new(), |f| f.iter().map(|c| c.n_member()).collect()),
            obs: input.obs.map(cells),
        }
    }
}

/// Lead `l` of a cube as `(y, x, start × member)`, transposed row by row in parallel.
fn cell_major(cube: &Cube, l: usize) -> Array3<f32> {
    let (ni, nm, _, ny, nx) = cube.values.dim();
    let mut out = Array3::<f32>::zeros((ny, nx, ni * nm));
    Zip::indexed(out.outer_iter_mut()).par_for_each(|y, mut row| {
        let row = row.as_slice_mut().expect("new array");
        to_cell_major(cube.values.slice(s![.., .., l, y, ..]), row);
    });
    out
}

/// Data of one target start: which cube and index, and which year to leave out.
#[derive(Clone, Copy)]
struct Target {
    hindcast: bool,
    index: usize,
    /// Index within the group's hindcast starts (hindcast targets) or forecast starts.
    local: usize,
    exclude: Option<usize>,
}

/// The fields computed for one target at one cell.
#[derive(Default, Clone, Copy)]
struct Scalars {
    mean: f64,
    normal: f64,
    anomaly: f64,
    std_anomaly: f64,
    spread: f64,
}

impl CellWork {
    fn load(&mut self, data: &LeadData, g: &Group, y: usize, x: usize) {
        let nm = data.hindcast.len();
        self.pools.resize_with(nm, Pool::default);
        for m in 0..nm {
            let v = data.hindcast[m].slice(s![y, x, ..]);
            let v = v.as_slice().expect("cell-major");
            let nmem = data.members[m];
            self.pools[m].build(
                g.hindcast.iter().enumerate().flat_map(|(j, &i)| {
                    v[i * nmem..(i + 1) * nmem]
                        .iter()
                        .map(move |&x| (x, g.year_of[j]))
                }),
                g.nyears,
            );
        }
        self.obs.clear();
        if let Some(o) = &data.obs {
            self.obs.extend(g.hindcast.iter().map(|&i| o[[y, x, i]]));
            let obs = &self.obs;
            self.obs_pool.build(
                obs.iter().enumerate().map(|(j, &v)| (v, g.year_of[j])),
                g.nyears,
            );
        }
    }

    /// The members of every model for a target (empty for a model without a climatology here).
    fn gather(&mut self, data: &LeadData, t: Target, y: usize, x: usize) {
        let nm = data.hindcast.len();
        self.members.resize_with(nm, Vec::new);
        for m in 0..nm {
            let (cube, nmem) = if t.hindcast {
                (&data.hindcast[m], data.members[m])
            } else {
                (&data.forecast[m], data.fc_members[m])
            };
            self.members[m].clear();
            if self.pools[m].len_without(t.exclude) == 0 {
                continue;
            }
            let v = cube.slice(s![y, x, t.index * nmem..(t.index + 1) * nmem]);
            self.members[m].extend(v.iter().copied());
        }
    }

    /// Category and extreme edges of every model (or of the observations) for a target.
    fn compute_edges(&mut self, spec: &CombineSpec, t: Target) {
        let nm = self.pools.len();
        let pmme = spec.scheme == WeightScheme::Pmme;
        // Chosen by the edge source, whatever the number of models: with one model, model
        // edges and observed edges are both one source.
        let model_edges = spec.model_edges();
        let sources = if model_edges { nm } else { 1 };
        self.edges.resize_with(sources, Vec::new);
        self.xedges.resize_with(sources, Vec::new);
        let gaussian = |pool: &Pool, levels: &[f64], out: &mut Vec<f64>| {
            let (mu, sd) = pool.mean_sd(t.exclude);
            out.clear();
            out.extend(
                levels
                    .iter()
                    .map(|&p| mu + standard_normal_quantile(p) * sd),
            );
        };
        let empirical = |pool: &Pool, levels: &[f64], out: &mut Vec<f64>| {
            out.clear();
            out.extend(levels.iter().map(|&p| pool.quantile(p, t.exclude)));
        };
        for src in 0..sources {
            let pool = if model_edges {
                &self.pools[src]
            } else {
                &self.obs_pool
            };
            if pmme {
                gaussian(pool, &spec.category_levels, &mut self.edges[src]);
                gaussian(pool, &spec.extreme_levels, &mut self.xedges[src]);
            } else {
                empirical(pool, &spec.category_levels, &mut self.edges[src]);
                empirical(pool, &spec.extreme_levels, &mut self.xedges[src]);
            }
        }
    }

    /// Counted probabilities with the current weights into `probs` / `xprobs`; a model without
    /// a climatology here has no members (see `gather`).
    fn count(&mut self) {
        let w = self.weight_spec.as_ref().expect("weights set");
        for (edges, out) in [
            (&self.edges, &mut self.probs),
            (&self.xedges, &mut self.xprobs),
        ] {
            out.clear();
            out.resize(edges[0].len() + 1, 0.0);
            // Observed edges missing here (no observations at the cell): nothing to count against.
            if edges.len() == 1 && edges[0].iter().any(|e| !e.is_finite()) {
                out.fill(f64::NAN);
                continue;
            }
            super::category_probabilities(&self.members, edges, w, out, &mut self.prob_scratch);
        }
    }

    /// Weighted means and the model weights actually used (into `weights`).
    fn scalars(&mut self, t: Target) -> Scalars {
        let nm = self.members.len();
        let w = self.weight_spec.as_ref().expect("weights set");
        self.prob_scratch.fill(&self.members, w);
        self.weights.clear();
        self.weights.extend_from_slice(&self.prob_scratch.weights);
        let mut s = Scalars::default();
        let mut any = false;
        for m in 0..nm {
            let wm = self.weights[m];
            let n = self.prob_scratch.valid[m];
            if n == 0 || wm == 0.0 {
                continue;
            }
            let xbar = self.members[m]
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| f64::from(v))
                .sum::<f64>()
                / n as f64;
            let (c, sd) = self.pools[m].mean_sd(t.exclude);
            s.mean += wm * xbar;
            s.normal += wm * c;
            s.anomaly += wm * (xbar - c);
            s.std_anomaly += wm * (xbar - c) / sd;
            any = true;
        }
        if !any {
            return Scalars {
                mean: f64::NAN,
                normal: f64::NAN,
                anomaly: f64::NAN,
                std_anomaly: f64::NAN,
                spread: f64::NAN,
            };
        }
        // Spread: weighted variance of the members about the weighted mean.
        let mut var = 0.0;
        for m in 0..nm {
            let n = self.prob_scratch.valid[m];
            if n == 0 || self.weights[m] == 0.0 {
                continue;
            }
            let each = self.weights[m] / n as f64;
            for &v in self.members[m].iter().filter(|v| v.is_finite()) {
                var += each * (f64::from(v) - s.mean).powi(2);
            }
        }
        s.spread = var.sqrt();
        s
    }

    /// PMME probabilities, percentiles and scalars for a target, given the cross-validated
    /// anomalies of the group's hindcast starts in `mme_anom` / `obs_anom`.
    fn pmme(&mut self, spec: &CombineSpec, t: Target, anomaly: f64) -> Scalars {
        let (o_mean, _) = self.obs_pool.mean_sd(t.exclude);
        let mut sse = 0.0;
        let mut n = 0usize;
        for (j, (&a, &o)) in self.mme_anom.iter().zip(&self.obs_anom).enumerate() {
            if t.hindcast && j == t.local {
                continue;
            }
            if a.is_finite() && o.is_finite() {
                sse += (a - o).powi(2);
                n += 1;
            }
        }
        let sigma = if n >= 2 {
            (sse / n as f64).sqrt()
        } else {
            f64::NAN
        };
        let mu = o_mean + anomaly;
        let gauss = |edges: &[f64], out: &mut Vec<f64>| {
            out.clear();
            if !(sigma > 0.0 && mu.is_finite()) {
                out.resize(edges.len() + 1, f64::NAN);
                return;
            }
            let mut below = 0.0;
            for &e in edges {
                let c = standard_normal_cdf((e - mu) / sigma);
                out.push(c - below);
                below = c;
            }
            out.push(1.0 - below);
        };
        gauss(&self.edges[0], &mut self.probs);
        gauss(&self.xedges[0], &mut self.xprobs);
        self.pct.clear();
        self.pct.extend(
            spec.percentile_levels
                .iter()
                .map(|&p| mu + standard_normal_quantile(p.clamp(1e-9, 1.0 - 1e-9)) * sigma),
        );
        Scalars {
            mean: mu,
            normal: o_mean,
            anomaly,
            std_anomaly: f64::NAN,
            spread: sigma,
        }
    }
}

impl CellWork {
    /// The transformed observation of every hindcast start of the group and, for the per-cell
    /// fits (`means`; PCR fits whole fields beforehand), each model's transformed ensemble mean.
    fn calibration_pairs(&mut self, data: &LeadData, g: &Group, cell: Cell, means: bool) {
        let (t, Cell { y, x }) = (data.transform, cell);
        let nm = if means { data.hindcast.len() } else { 0 };
        self.cal_x.resize_with(nm, Vec::new);
        for m in 0..nm {
            let v = data.hindcast[m].slice(s![y, x, ..]);
            let v = v.as_slice().expect("cell-major");
            let nmem = data.members[m];
            self.cal_x[m].clear();
            self.cal_x[m].extend(
                g.hindcast
                    .iter()
                    .map(|&i| transformed_mean(&v[i * nmem..(i + 1) * nmem], t)),
            );
        }
        self.cal_o.clear();
        self.cal_o
            .extend(self.obs.iter().map(|&o| t.apply(f64::from(o))));
    }

    /// Calibrated probabilities, percentiles and scalars of a target (members gathered,
    /// observed edges computed): each model's regression fitted on the group's hindcast
    /// starts outside the target's year, the models' predictive distributions mixed with
    /// equal weights.
    fn calibrated(
        &mut self,
        spec: &CombineSpec,
        g: &Group,
        t: Target,
        tf: Transform,
        pcr: Option<(&PcrLead, usize)>,
    ) -> Scalars {
        let train = |j: usize| t.exclude.map_or(true, |yr| g.year_of[j] != yr);
        // ELR is fitted on every observed threshold of the target: category and extreme edges.
        let elr = spec.scheme == WeightScheme::Elr;
        if elr {
            self.cal_thresholds.clear();
            self.cal_thresholds.extend(
                self.edges[0]
                    .iter()
                    .chain(&self.xedges[0])
                    .map(|&e| tf.apply(e)),
            );
            self.cal_thresholds.sort_by(f64::total_cmp);
            self.cal_thresholds.dedup();
        }
        self.cal_fits.clear();
        let nm = self.members.len();
        self.weights.clear();
        self.weights.resize(nm, 0.0);
        for m in 0..nm {
            // The model's (transformed) ensemble mean of the target, for the per-cell fits.
            let x_new = || {
                if t.hindcast {
                    self.cal_x[m][t.local]
                } else {
                    transformed_mean(&self.members[m], tf)
                }
            };
            let fit = if let Some((p, cell)) = pcr {
                let target = if t.hindcast {
                    t.local
                } else {
                    g.hindcast.len() + t.local
                };
                p.fits[m][target].as_ref().and_then(|f| f.predictive(cell))
            } else if elr {
                elr_predictive(
                    &self.cal_x[m],
                    &self.cal_o,
                    train,
                    &self.cal_thresholds,
                    x_new(),
                )
            } else {
                regression_predictive(&self.cal_x[m], &self.cal_o, train, x_new())
            };
            if let Some(p) = fit {
                self.cal_fits.push(p);
                self.weights[m] = 1.0;
            }
        }
        let fitted = self.cal_fits.len();
        for w in &mut self.weights {
            *w /= fitted.max(1) as f64;
        }
        for (edges, out) in [
            (&self.edges[0], &mut self.probs),
            (&self.xedges[0], &mut self.xprobs),
        ] {
            self.cal_edges.clear();
            self.cal_edges.extend(edges.iter().map(|&e| tf.apply(e)));
            mixture_probabilities(&self.cal_fits, &self.cal_edges, out);
        }
        self.pct.clear();
        let want_pct = spec.full_hindcast || !t.hindcast;
        self.pct.extend(spec.percentile_levels.iter().map(|&p| {
            if want_pct {
                tf.invert(mixture_quantile(&self.cal_fits, p))
            } else {
                f64::NAN
            }
        }));
        // Deterministic fields: the models' standardized ensemble-mean anomalies averaged
        // with equal weights (each model against its own climatology of all hindcast years:
        // model data only), in units of the observed standard deviation of all hindcast years
        // and centred on the observed mean of the training years. The scale is one constant
        // per cell: per-year leave-one-out scales shrink exactly the years whose anomalies are
        // large and lower the correlation (on the NMME monsoon set, ACC 0.094 instead of
        // 0.109); a constant changes no correlation, and the probabilities never see the
        // target year.
        let weights = std::mem::take(&mut self.weights);
        let s = self.scalars(Target { exclude: None, ..t });
        self.weights = weights;
        let (o_mean, _) = self.obs_pool.mean_sd(t.exclude);
        let (_, o_sd) = self.obs_pool.mean_sd(None);
        let (_, sd_t) = mean_sd_of(
            self.cal_o
                .iter()
                .enumerate()
                .filter(|&(j, o)| train(j) && o.is_finite())
                .map(|(_, &o)| o),
        );
        let mean_scale = if fitted > 0 {
            self.cal_fits.iter().map(|p| p.spread()).sum::<f64>() / fitted as f64
        } else {
            f64::NAN
        };
        let anomaly = o_sd * s.std_anomaly;
        Scalars {
            mean: o_mean + anomaly,
            normal: o_mean,
            anomaly,
            std_anomaly: s.std_anomaly,
            spread: if sd_t > 0.0 {
                o_sd * mean_scale / sd_t
            } else {
                f64::NAN
            },
        }
    }
}

/// What a group needs at one lead before its cells are combined: skill sums for skill weights,
/// the PCR fits of every model and target for PCR.
struct GroupPrep {
    skill: Option<SkillSums>,
    pcr: Option<PcrLead>,
}

/// PCR forecasts of every model for every target of a group at one lead: `fits[model][target]`,
/// the targets being the group's hindcast starts, then its forecast starts.
struct PcrLead {
    fits: Vec<Vec<Option<PcrForecast>>>,
}

/// The area weight of each cell in the PCR's EOFs and mode choice: cos φ on grids; station
/// series weigh the same.
fn pcr_cell_weights(spatial: &crate::cube::Spatial) -> Vec<f64> {
    match spatial {
        crate::cube::Spatial::Points { lat, .. } => vec![1.0; lat.len()],
        other => crate::verify::map_weights(other),
    }
}

/// Fits the PCR of every model of a group at one lead (models and targets in parallel): the
/// predictors are each model's transformed ensemble means of the group's starts, the
/// predictands the transformed observations; a hindcast target is fitted on the starts outside
/// its year (with cross-validation), a forecast on all hindcast starts.
fn pcr_lead(data: &LeadData, g: &Group, spec: &CombineSpec, weights: &[f64]) -> PcrLead {
    let nm = data.hindcast.len();
    let nh = g.hindcast.len();
    let targets = nh + g.forecast.len();
    let Some(obs) = data.obs.as_ref() else {
        return PcrLead {
            fits: vec![vec![None; targets]; nm],
        };
    };
    let (ny, nx, _) = obs.dim();
    let tf = data.transform;
    let y = ndarray::Array2::from_shape_fn((nh, ny * nx), |(j, c)| {
        tf.apply(f64::from(obs[[c / nx, c % nx, g.hindcast[j]]]))
    });
    let mean_of = |cube: &Array3<f32>, nmem: usize, i: usize, c: usize| {
        let v = cube.slice(s![c / nx, c % nx, i * nmem..(i + 1) * nmem]);
        transformed_mean(v.as_slice().expect("cell-major"), tf)
    };
    let fits = (0..nm)
        .into_par_iter()
        .map(|m| {
            let x = ndarray::Array2::from_shape_fn((targets, ny * nx), |(r, c)| {
                if r < nh {
                    mean_of(&data.hindcast[m], data.members[m], g.hindcast[r], c)
                } else {
                    mean_of(&data.forecast[m], data.fc_members[m], g.forecast[r - nh], c)
                }
            });
            let Some(pcr) = PcrData::new(x.view(), nh, weights, y.view(), weights) else {
                return vec![None; targets];
            };
            (0..targets)
                .into_par_iter()
                .map(|r| {
                    let train: Vec<usize> = (0..nh)
                        .filter(|&j| {
                            !(spec.cross_validate && r < nh && g.year_of[j] == g.year_of[r])
                        })
                        .collect();
                    pcr.forecast(&train, r, PCR_MAX_MODES)
                })
                .collect()
        })
        .collect();
    PcrLead { fits }
}

/// The mean of the finite members after the transform; NaN without one.
fn transformed_mean(members: &[f32], t: Transform) -> f64 {
    let (mut n, mut sum) = (0usize, 0.0);
    for &v in members.iter().filter(|v| v.is_finite()) {
        n += 1;
        sum += t.apply(f64::from(v));
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Skill statistics `(m, start, y, x)` per component for skill weights, box-summed over the
/// neighbourhood, for one lead and group.
struct SkillSums {
    /// Components (RPSS: Σ RPS_model, Σ RPS_clim; ACC: Σ a·o, Σ a², Σ o²).
    parts: Vec<Array4<f64>>,
    score: SkillScore,
}

impl SkillSums {
    /// Model weights for a target at a cell into `out` (sum 1; equal where no skill).
    fn weights(&self, g: &Group, t: Target, y: usize, x: usize, out: &mut Vec<f64>) {
        let nm = self.parts[0].dim().0;
        out.clear();
        for m in 0..nm {
            let mut tot = [0.0f64; 3];
            for (k, p) in self.parts.iter().enumerate() {
                for j in 0..g.hindcast.len() {
                    if t.hindcast && Some(g.year_of[j]) == t.exclude {
                        continue;
                    }
                    tot[k] += p[[m, j, y, x]];
                }
            }
            let skill = match self.score {
                SkillScore::Rpss if tot[1] > 0.0 => 1.0 - tot[0] / tot[1],
                SkillScore::Acc if tot[1] > 0.0 && tot[2] > 0.0 => {
                    tot[0] / (tot[1] * tot[2]).sqrt()
                }
                _ => 0.0,
            };
            out.push(skill.max(0.0));
        }
        let sum: f64 = out.iter().sum();
        if sum > 0.0 {
            out.iter_mut().for_each(|w| *w /= sum);
        } else {
            out.iter_mut().for_each(|w| *w = 1.0 / nm as f64);
        }
    }
}

/// Box sum over `(2r+1)²` neighbours of each `(m, start)` map (NaN counts as 0), separably.
fn box_sum(a: &mut Array4<f64>, r: usize) {
    if r == 0 {
        return;
    }
    let mut line = Vec::new();
    // A running window along one lane (a row or a column), from a copy of the lane.
    let mut window_sums = |mut lane: ndarray::ArrayViewMut1<f64>| {
        line.clear();
        line.extend(lane.iter().copied());
        let n = line.len();
        for (i, v) in lane.iter_mut().enumerate() {
            *v = line[i.saturating_sub(r)..(i + r + 1).min(n)].iter().sum();
        }
    };
    for mut map in a.outer_iter_mut() {
        for mut plane in map.outer_iter_mut() {
            plane.rows_mut().into_iter().for_each(&mut window_sums);
            plane.columns_mut().into_iter().for_each(&mut window_sums);
        }
    }
}

/// Per-lead, per-group skill statistics of every model at every cell (parallel over rows).
fn skill_sums(
    data: &LeadData,
    spec: &CombineSpec,
    g: &Group,
    score: SkillScore,
    radius: usize,
) -> SkillSums {
    let nm = data.hindcast.len();
    let (ny, nx, _) = data.hindcast[0].dim();
    let nj = g.hindcast.len();
    let nparts = match score {
        SkillScore::Rpss => 2,
        SkillScore::Acc => 3,
    };
    let rows: Vec<Vec<f64>> = (0..ny)
        .into_par_iter()
        .map(|y| {
            let mut row = vec![0.0; nparts * nm * nj * nx];
            let mut w = CellWork::default();
            let idx = |k: usize, m: usize, j: usize, x: usize| ((k * nm + m) * nj + j) * nx + x;
            let clim: Vec<f64> = super::category_level_bounds(&spec.category_levels)
                .iter()
                .map(|(lo, hi)| hi - lo)
                .collect();
            for x in 0..nx {
                w.load(data, g, y, x);
                for (j, &i) in g.hindcast.iter().enumerate() {
                    let o = w.obs[j];
                    if !o.is_finite() {
                        continue;
                    }
                    let t = Target {
                        hindcast: true,
                        index: i,
                        local: j,
                        exclude: Some(g.year_of[j]).filter(|_| spec.cross_validate),
                    };
                    let o_edges: Vec<f64> = spec
                        .category_levels
                        .iter()
                        .map(|&p| w.obs_pool.quantile(p, t.exclude))
                        .collect();
                    let (o_mean, _) = w.obs_pool.mean_sd(t.exclude);
                    let Some(o_cat) = category_of(o, &o_edges) else {
                        continue;
                    };
                    w.gather(data, t, y, x);
                    w.compute_edges(spec, t);
                    for m in 0..nm {
                        let mem = &w.members[m];
                        let n = mem.iter().filter(|v| v.is_finite()).count();
                        if n == 0 {
                            continue;
                        }
                        match score {
                            SkillScore::Rpss => {
                                let e = if w.edges.len() == nm {
                                    &w.edges[m]
                                } else {
                                    &w.edges[0]
                                };
                                let mut p = vec![0.0; e.len() + 1];
                                for &v in mem {
                                    if let Some(c) = category_of(v, e) {
                                        p[c] += 1.0 / n as f64;
                                    }
                                }
                                row[idx(0, m, j, x)] = rps(&p, o_cat);
                                row[idx(1, m, j, x)] = rps(&clim, o_cat);
                            }
                            SkillScore::Acc => {
                                let xbar = mem
                                    .iter()
                                    .filter(|v| v.is_finite())
                                    .map(|&v| f64::from(v))
                                    .sum::<f64>()
                                    / n as f64;
                                let a = xbar - w.pools[m].mean_sd(t.exclude).0;
                                let oa = f64::from(o) - o_mean;
                                if a.is_finite() && oa.is_finite() {
                                    row[idx(0, m, j, x)] = a * oa;
                                    row[idx(1, m, j, x)] = a * a;
                                    row[idx(2, m, j, x)] = oa * oa;
                                }
                            }
                        }
                    }
                }
            }
            row
        })
        .collect();
    let mut parts = vec![Array4::<f64>::zeros((nm, nj, ny, nx)); nparts];
    for (y, row) in rows.iter().enumerate() {
        for (k, part) in parts.iter_mut().enumerate() {
            for m in 0..nm {
                for j in 0..nj {
                    for x in 0..nx {
                        part[[m, j, y, x]] = row[((k * nm + m) * nj + j) * nx + x];
                    }
                }
            }
        }
    }
    for p in parts.iter_mut() {
        box_sum(p, radius);
    }
    SkillSums { parts, score }
}

fn new_products(
    nt: usize,
    spec: &CombineSpec,
    nm: usize,
    nl: usize,
    ny: usize,
    nx: usize,
) -> Products {
    let f = |k: usize| Array5::<f32>::from_elem((nt, k, nl, ny, nx), f32::NAN);
    let nsrc = if spec.model_edges() { nm } else { 1 };
    let nx_levels = spec.extreme_levels.len();
    Products {
        probability: f(spec.category_levels.len() + 1),
        extreme_probability: f(if nx_levels == 0 { 0 } else { nx_levels + 1 }),
        mean: f(1),
        normal: f(1),
        anomaly: f(1),
        standardized_anomaly: f(1),
        percent_of_normal: f(1),
        spread: f(1),
        signal_to_noise: f(1),
        percentiles: f(spec.percentile_levels.len()),
        most_likely_category: Array5::from_elem((nt, 1, nl, ny, nx), -1),
        most_likely_probability: f(1),
        dominant_category: Array5::from_elem((nt, 1, nl, ny, nx), DOMINANT_FILL),
        weights: f(nm),
        edges: Array6::from_elem((nt, nsrc, spec.category_levels.len(), nl, ny, nx), f32::NAN),
        extreme_edges: Array6::from_elem((nt, nsrc, nx_levels, nl, ny, nx), f32::NAN),
    }
}

/// Stores one target's results at `(start, x)` of a row's products (`lead` and `y` of length 1).
fn store(p: &mut Products, w: &CellWork, s: Scalars, spec: &CombineSpec, i: usize, x: usize) {
    let put = |a: &mut Array5<f32>, k: usize, v: f64| a[[i, k, 0, 0, x]] = v as f32;
    for (c, &v) in w.probs.iter().enumerate() {
        put(&mut p.probability, c, v);
    }
    if p.extreme_probability.dim().1 > 0 {
        for (c, &v) in w.xprobs.iter().enumerate() {
            put(&mut p.extreme_probability, c, v);
        }
    }
    for (k, &v) in w.pct.iter().enumerate() {
        put(&mut p.percentiles, k, v);
    }
    let no_weight = w.weights.iter().all(|&v| v == 0.0);
    for (m, &v) in w.weights.iter().enumerate() {
        put(&mut p.weights, m, if no_weight { f64::NAN } else { v });
    }
    for (src, e) in w.edges.iter().enumerate() {
        for (k, &v) in e.iter().enumerate() {
            p.edges[[i, src, k, 0, 0, x]] = v as f32;
        }
    }
    for (src, e) in w.xedges.iter().enumerate() {
        for (k, &v) in e.iter().enumerate() {
            p.extreme_edges[[i, src, k, 0, 0, x]] = v as f32;
        }
    }
    put(&mut p.mean, 0, s.mean);
    put(&mut p.normal, 0, s.normal);
    put(&mut p.anomaly, 0, s.anomaly);
    put(&mut p.standardized_anomaly, 0, s.std_anomaly);
    let pon = if s.normal.abs() > 1e-6 {
        100.0 * s.mean / s.normal
    } else {
        f64::NAN
    };
    put(&mut p.percent_of_normal, 0, pon);
    put(&mut p.spread, 0, s.spread);
    let snr = if s.spread > 0.0 {
        s.anomaly.abs() / s.spread
    } else {
        f64::NAN
    };
    put(&mut p.signal_to_noise, 0, snr);
    // Most likely category: the first of the largest (ties go to the lower category).
    let mut best: Option<(usize, f64)> = None;
    for (c, &v) in w.probs.iter().enumerate() {
        if v.is_finite() && best.map_or(true, |(_, bv)| v > bv) {
            best = Some((c, v));
        }
    }
    if let Some((c, v)) = best {
        p.most_likely_category[[i, 0, 0, 0, x]] = c as i8;
        put(&mut p.most_likely_probability, 0, v);
        p.dominant_category[[i, 0, 0, 0, x]] = if v >= spec.dominant_threshold {
            c as i8
        } else {
            -1
        };
    }
}

impl Products {
    /// Lead `l` alone (a lead axis of length 1), e.g. to write one lead at a time.
    pub fn select_lead(&self, l: usize) -> Products {
        let lead5 = s![.., .., l..l + 1, .., ..];
        let lead6 = s![.., .., .., l..l + 1, .., ..];
        Products {
            probability: self.probability.slice(lead5).to_owned(),
            extreme_probability: self.extreme_probability.slice(lead5).to_owned(),
            mean: self.mean.slice(lead5).to_owned(),
            normal: self.normal.slice(lead5).to_owned(),
            anomaly: self.anomaly.slice(lead5).to_owned(),
            standardized_anomaly: self.standardized_anomaly.slice(lead5).to_owned(),
            percent_of_normal: self.percent_of_normal.slice(lead5).to_owned(),
            spread: self.spread.slice(lead5).to_owned(),
            signal_to_noise: self.signal_to_noise.slice(lead5).to_owned(),
            percentiles: self.percentiles.slice(lead5).to_owned(),
            most_likely_category: self.most_likely_category.slice(lead5).to_owned(),
            most_likely_probability: self.most_likely_probability.slice(lead5).to_owned(),
            dominant_category: self.dominant_category.slice(lead5).to_owned(),
            weights: self.weights.slice(lead5).to_owned(),
            edges: self.edges.slice(lead6).to_owned(),
            extreme_edges: self.extreme_edges.slice(lead6).to_owned(),
        }
    }

    /// Copies start `i` of a row's products (`lead`, `y` of length 1) into lead `l`, row `y`.
    fn take_row(&mut self, row: &Products, i: usize, l: usize, y: usize) {
        macro_rules! copy5 {
            ($($f:ident),*) => {$(
                self.$f
                    .slice_mut(s![i, .., l, y, ..])
                    .assign(&row.$f.slice(s![i, .., 0, 0, ..]));
            )*};
        }
        products_fields_5d!(copy5);
        self.edges
            .slice_mut(s![i, .., .., l, y, ..])
            .assign(&row.edges.slice(s![i, .., .., 0, 0, ..]));
        self.extreme_edges
            .slice_mut(s![i, .., .., l, y, ..])
            .assign(&row.extreme_edges.slice(s![i, .., .., 0, 0, ..]));
    }
}

/// Combines the models (see the module documentation): every lead and cell, the hindcast
/// starts (cross-validated) and the forecast starts.
pub fn combine(input: &CombineInput, spec: &CombineSpec) -> Result<Combined> {
    check_input(input, spec)?;
    let hc0 = input.hindcasts[0];
    let nm = input.hindcasts.len();
    let (_, _, nl, ny, nx) = hc0.values.dim();
    let groups = groups(hc0, input.forecasts.map(|f| f[0]))?;
    let cell_weights = pcr_cell_weights(&hc0.coords.spatial);
    let mut hindcast = new_products(hc0.n_init(), spec, nm, nl, ny, nx);
    let mut forecast = input
        .forecasts
        .map(|f| new_products(f[0].n_init(), spec, nm, nl, ny, nx));
    for l in 0..nl {
        // The lead's values cell-major, once for the skill statistics and every start month.
        let data = LeadData::new(input, l);
        for g in &groups {
            let prep = GroupPrep {
                skill: match spec.scheme {
                    WeightScheme::Skill {
                        score,
                        radius_cells,
                    } => Some(skill_sums(&data, spec, g, score, radius_cells)),
                    _ => None,
                },
                pcr: (spec.scheme == WeightScheme::Pcr)
                    .then(|| pcr_lead(&data, g, spec, &cell_weights)),
            };
            let nh = hc0.n_init();
            let nf = input.forecasts.map_or(0, |f| f[0].n_init());
            let rows: Vec<(Products, Option<Products>)> = (0..ny)
                .into_par_iter()
                .map(|y| {
                    let mut w = CellWork::default();
                    let mut hp = new_products(nh, spec, nm, 1, 1, nx);
                    let mut fp = input
                        .forecasts
                        .map(|_| new_products(nf, spec, nm, 1, 1, nx));
                    for x in 0..nx {
                        w.load(&data, g, y, x);
                        let cell = Cell { y, x };
                        combine_cell(&data, spec, g, &prep, &mut w, cell, &mut hp, fp.as_mut());
                    }
                    (hp, fp)
                })
                .collect();
            for (y, (hp, fp)) in rows.into_iter().enumerate() {
                for &i in &g.hindcast {
                    hindcast.take_row(&hp, i, l, y);
                }
                if let (Some(f), Some(fp)) = (forecast.as_mut(), fp) {
                    for &i in &g.forecast {
                        f.take_row(&fp, i, l, y);
                    }
                }
            }
        }
    }
    Ok(Combined { hindcast, forecast })
}

/// All targets of a group at one cell: the hindcast starts first (PMME needs their
/// cross-validated anomalies), then the forecast starts.
/// A cell of the lead being combined.
#[derive(Clone, Copy)]
struct Cell {
    y: usize,
    x: usize,
}

/// All targets of a group at one cell: the hindcast starts first (PMME needs their
/// cross-validated anomalies), then the forecast starts; results go to the row's products.
#[allow(clippy::too_many_arguments)]
fn combine_cell(
    data: &LeadData,
    spec: &CombineSpec,
    g: &Group,
    prep: &GroupPrep,
    w: &mut CellWork,
    cell: Cell,
    hp: &mut Products,
    mut fp: Option<&mut Products>,
) {
    let Cell { y, x } = cell;
    let nm = data.hindcast.len();
    let pmme = spec.scheme == WeightScheme::Pmme;
    let hindcast_targets = g.hindcast.iter().enumerate().map(|(j, &i)| Target {
        hindcast: true,
        index: i,
        local: j,
        exclude: Some(g.year_of[j]).filter(|_| spec.cross_validate),
    });
    let forecast_targets = g.forecast.iter().enumerate().map(|(j, &i)| Target {
        hindcast: false,
        index: i,
        local: j,
        exclude: None,
    });
    if pmme {
        // Cross-validated anomalies of the hindcast starts, for the error spread.
        w.mme_anom.clear();
        w.obs_anom.clear();
        w.weight_spec = Some(Weights::ModelEqual);
        for t in hindcast_targets.clone() {
            w.gather(data, t, y, x);
            let s = w.scalars(t);
            w.mme_anom.push(s.anomaly);
            let (o_mean, _) = w.obs_pool.mean_sd(t.exclude);
            w.obs_anom.push(f64::from(w.obs[t.local]) - o_mean);
        }
    }
    let calibrated = spec.scheme.calibrates();
    if calibrated {
        w.calibration_pairs(data, g, cell, spec.scheme != WeightScheme::Pcr);
    }
    for t in hindcast_targets.chain(forecast_targets) {
        w.gather(data, t, y, x);
        w.compute_edges(spec, t);
        w.weight_spec = Some(match (spec.scheme, prep.skill.as_ref()) {
            (WeightScheme::Pooled, _) => Weights::Pooled,
            (WeightScheme::Skill { .. }, Some(sk)) => {
                let mut v = match w.weight_spec.take() {
                    Some(Weights::Given(v)) => v,
                    _ => Vec::with_capacity(nm),
                };
                sk.weights(g, t, y, x, &mut v);
                Weights::Given(v)
            }
            _ => Weights::ModelEqual,
        });
        let s = if pmme {
            let s = w.scalars(t);
            w.pmme(spec, t, s.anomaly)
        } else if calibrated {
            let pcr = prep.pcr.as_ref().map(|p| (p, y * data.nx() + x));
            w.calibrated(spec, g, t, data.transform, pcr)
        } else {
            w.count();
            let wspec = w.weight_spec.as_ref().expect("weights set");
            w.pct.resize(spec.percentile_levels.len(), f64::NAN);
            if spec.full_hindcast || !t.hindcast {
                weighted_percentiles(
                    &w.members,
                    wspec,
                    &spec.percentile_levels,
                    &mut w.pct,
                    &mut w.pct_scratch,
                );
            }
            w.scalars(t)
        };
        let p = if t.hindcast {
            &mut *hp
        } else {
            match fp.as_deref_mut() {
                Some(p) => p,
                None => continue,
            }
        };
        store(p, w, s, spec, t.index, x);
    }
}

#[cfg(test)]
#[path = "combine_tests.rs"]
mod tests;
