//! Bias correction of each model against observations.
//!
//! Members:
//! - [`MeanScaling`] (additive / multiplicative), [`VarianceScaling`] (temperature),
//!   [`QuantileMapping`] (EQM) and [`QuantileDeltaMapping`] (QDM): the per-cell kernels, each a
//!   [`BiasCorrector`].
//! - [`correct`]: fits a kernel per grid cell (or station), per lead and per start month on a
//!   hindcast and the observations of the same targets, with honest cross-validation, and
//!   applies it to the hindcast and a forecast.
//!
//! # What is fitted on what
//! For a cell, a lead and a group of start dates (the same start month; for subseasonal starts,
//! the starts within ±N days of the target's day of year), the training sample pools the
//! hindcast's members × years (`M`) and the observed values of the same targets (`O`). A
//! forecast is corrected with all hindcast years; a hindcast year with every year but those left
//! out — by default the year itself (leave-one-year-out), optionally a block of `k` years around
//! it — so that skill computed on corrected hindcasts is honest.
//!
//! # Formulas
//! See the kernels: mean scaling `x + (Ō − M̄)` / `x · Ō/M̄`; variance scaling
//! `Ō + (x − M̄) σ_O/σ_M`; EQM `x ↦ q_O(F_M(x))` by linear interpolation with constant tail
//! corrections; QDM `q_O(τ) + (x − q_M(τ))` or `q_O(τ) · x / q_M(τ)` with `τ` the value's rank in
//! its own ensemble.
//!
//! # Precipitation
//! With [`Kind::Multiplicative`] and a wet-day threshold `t` ([`BiasParams::wet_threshold`]:
//! 0.1 mm/day for daily data, 0.01 mm/day — 0.3 mm a month — for monthly means, the default
//! the CLI picks from the lead width):
//! 1. observed values below `t` count as dry (0);
//! 2. **frequency adaptation** (Themeßl et al. 2012): if the model is wet more often than the
//!    observations (drizzle), its values up to its own quantile at the observed dry frequency
//!    become dry, in the training sample and in the values being corrected;
//! 3. a dry value stays dry; results below `t` become 0; nothing is negative;
//! 4. a cell whose observations are all dry (a desert) stays dry, without NaN.
//!
//! # Missing data
//! NaN values are left out of training samples; a value being corrected that is NaN stays NaN;
//! a target whose training samples have fewer than [`BiasParams::min_training`] observed values
//! is NaN (counted in [`Corrected::untrained`]) — ocean cells of a land-only analysis, for
//! instance.
//!
//! # Cost
//! Each cell's sample is sorted once per group (a radix sort of values tagged with their
//! position, whose year is looked up); a left-out year is removed by one O(n) pass, not by
//! sorting again. In-sample, where the values corrected are the training values themselves,
//! the group is corrected in one ascending pass ([`BiasCorrector::correct_ascending`]: EQM walks
//! its nodes instead of searching them); nodes serving several targets get a bucket index and
//! their segment slopes. One lead of a latitude row is copied cell-major (tiles of 16 lanes) so
//! the per-cell work runs on contiguous slices. Cells run in parallel (rayon, by latitude row);
//! scratch buffers are per row, so nothing is allocated per cell. Memory: the inputs and the
//! outputs.
//!
//! # References
//! - Déqué, M. (2007), Global Planet. Change 57, 16–26 (EQM).
//! - Themeßl, M. J., Gobiet, A. & Leuprecht, A. (2011), Int. J. Climatol. 31, 1530–1544; and
//!   (2012), Climatic Change 112, 449–468 (frequency adaptation).
//! - Cannon, A. J., Sobie, S. R. & Murdock, T. Q. (2015), J. Climate 28, 6938–6959 (QDM).
//! - Teutschbein, C. & Seibert, J. (2012), J. Hydrol. 456, 12–29 (scaling methods).

mod methods;

use ndarray::{s, Array5, ArrayViewMut4, Axis, Zip};
use serde::{Deserialize, Serialize};

pub use methods::{MeanScaling, QuantileDeltaMapping, QuantileMapping, VarianceScaling};

use crate::cube::{from_cell_major, to_cell_major, Cube};
use crate::error::{Error, Result};
use crate::stats::{sort_tagged, tag, untag};

/// Additive (temperature) or multiplicative (precipitation) correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Offsets: temperature and other unbounded variables.
    Additive,
    /// Ratios: precipitation and other non-negative variables.
    Multiplicative,
}

impl Kind {
    /// "additive" / "multiplicative".
    pub fn name(self) -> &'static str {
        match self {
            Kind::Additive => "additive",
            Kind::Multiplicative => "multiplicative",
        }
    }
}

/// Training samples of one cell, lead and group: ascending, finite.
#[derive(Debug, Clone, Copy)]
pub struct Training<'a> {
    /// Model values (members × training years).
    pub model: &'a [f32],
    /// Observed values (training years).
    pub obs: &'a [f32],
}

/// Per-thread buffers the kernels may use instead of allocating, and the state they derive
/// from the training samples (kept while the samples stay the same).
#[derive(Debug)]
pub struct Scratch {
    /// Model quantile nodes.
    pub qm: Vec<f64>,
    /// Observed quantile nodes.
    pub qo: Vec<f64>,
    /// The values being corrected, sorted.
    pub sim: Vec<f32>,
    /// Means and standard deviations of the training samples (observed mean and SD, model
    /// mean and SD), for the scaling methods.
    pub moments: [f64; 4],
    /// EQM: the last run of tied nodes a value fell on (the value, the mean of its observed
    /// nodes).
    pub tie: Option<(f64, f64)>,
    /// EQM: how many calls the current nodes served, and their bucket index.
    pub(crate) nodes_used: usize,
    pub(crate) index: methods::NodeIndex,
    pub(crate) slopes: Vec<f64>,
    /// EQM: where the quantile nodes fall in model and observed samples of their sizes.
    pub(crate) model_plan: methods::NodePlan,
    pub(crate) obs_plan: methods::NodePlan,
    /// Set when the training samples differ from the previous call's (and on a new scratch):
    /// kernels that derive state from them (quantile nodes, moments) rebuild it only then.
    pub training_changed: bool,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            qm: Vec::new(),
            qo: Vec::new(),
            sim: Vec::new(),
            moments: [f64::NAN; 4],
            tie: None,
            nodes_used: 0,
            index: methods::NodeIndex::default(),
            slopes: Vec::new(),
            model_plan: Default::default(),
            obs_plan: Default::default(),
            training_changed: true,
        }
    }
}

/// A bias-correction method: maps the values of one forecast (all its members at one lead and
/// cell) given the training samples.
pub trait BiasCorrector: Sync {
    /// The method and its parameters, for output attributes.
    fn describe(&self) -> String;
    /// Additive or multiplicative.
    fn kind(&self) -> Kind;
    /// Corrects `sim` (finite values) into `out` (same length).
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], scratch: &mut Scratch);
    /// [`Self::correct`] of values in ascending order (NaN anywhere): the same results, which
    /// a kernel may reach faster (EQM walks the nodes once instead of searching them). Used
    /// in-sample, where the values corrected are the training values themselves.
    fn correct_ascending(
        &self,
        train: &Training,
        sim: &[f32],
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        self.correct(train, sim, out, scratch);
    }
}

/// Which hindcast years a corrected hindcast year may not be trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossValidation {
    /// Train on every year, the corrected one too (in-sample; for forecasts only it is moot).
    None,
    /// Leave out a block of this many years around the corrected one (1 = leave-one-year-out).
    LeaveOut(u32),
}

impl CrossValidation {
    /// Whether `year` is left out when correcting `target`.
    pub fn excludes(self, target: i32, year: i32) -> bool {
        self.left_out(target).contains(&year)
    }

    /// The years left out when correcting `target` (empty in-sample).
    pub fn left_out(self, target: i32) -> std::ops::Range<i32> {
        match self {
            CrossValidation::None => 0..0,
            CrossValidation::LeaveOut(k) => {
                let k = k.max(1) as i32;
                let lo = target - (k - 1) / 2;
                lo..lo + k
            }
        }
    }

    /// Words for attributes.
    pub fn describe(self) -> String {
        match self {
            CrossValidation::None => "none (in-sample)".into(),
            CrossValidation::LeaveOut(1) => "leave-one-year-out".into(),
            CrossValidation::LeaveOut(k) => format!("leave-{k}-years-out"),
        }
    }
}

/// How hindcast starts are grouped into training sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// Starts in the same calendar month (seasonal: one start a year and month).
    SameStartMonth,
    /// Starts within ±N days of the target start's day of the year (subseasonal).
    WindowDays(u32),
}

/// Wet-day threshold of daily (or sub-daily) precipitation, mm/day: the usual definition of a
/// wet day in bias correction (Themeßl et al. 2012); quantile mapping uses this trace
/// threshold, not ETCCDI's 1 mm of wet-day *indices*, so light-rain frequency is kept.
pub const WET_DAY_THRESHOLD_DAILY_MM: f64 = 0.1;

/// Wet threshold of monthly (or longer) mean precipitation, mm/day: 0.3 mm in a month. 0.1
/// mm/day would call 3 mm a month dry, a real if small monthly total in arid climates.
pub const WET_THRESHOLD_MONTHLY_MM: f64 = 0.01;

/// Parameters of [`correct`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BiasParams {
    /// Cross-validation of the corrected hindcast.
    pub cv: CrossValidation,
    /// Wet-day threshold for multiplicative corrections, in the data's units (mm/day);
    /// default [`WET_DAY_THRESHOLD_DAILY_MM`] (the jobs choose by the data's time step:
    /// `pipeline::policy::wet_threshold_for`).
    pub wet_threshold: f64,
    /// Training groups.
    pub grouping: Grouping,
    /// Fewest observed training values a correction needs.
    pub min_training: usize,
    /// Correct the hindcast too (true), or only the forecast (an operational run whose
    /// cross-validated hindcast was made before, or which needs only the forecast).
    pub correct_hindcast: bool,
}

impl Default for BiasParams {
    fn default() -> Self {
        BiasParams {
            cv: CrossValidation::LeaveOut(1),
            wet_threshold: WET_DAY_THRESHOLD_DAILY_MM,
            grouping: Grouping::SameStartMonth,
            min_training: 5,
            correct_hindcast: true,
        }
    }
}

/// The corrected cubes.
#[derive(Debug, Clone)]
pub struct Corrected {
    /// The hindcast, cross-validated as asked (unless [`BiasParams::correct_hindcast`] is off).
    pub hindcast: Option<Cube>,
    /// The forecast, if one was given.
    pub forecast: Option<Cube>,
    /// Targets (init × lead × cell) left NaN for want of training data.
    pub untrained: usize,
}

fn check_inputs(hindcast: &Cube, obs: &Cube, forecast: Option<&Cube>) -> Result<()> {
    let mismatch = |what: &str, why: String| Err(Error::mismatch(what, why));
    if obs.n_member() != 1 {
        return mismatch(
            "observations",
            format!(
                "{} has {} members; observations have one",
                obs.meta.model,
                obs.n_member()
            ),
        );
    }
    if obs.coords.init != hindcast.coords.init || obs.coords.lead != hindcast.coords.lead {
        return mismatch(
            "observations and hindcast",
            format!("the observations of {} are not on the hindcast's start dates and leads; align them first (cube::align_observations)", obs.meta.model),
        );
    }
    if obs.coords.spatial.shape() != hindcast.coords.spatial.shape() {
        return mismatch(
            "grids of observations and hindcast",
            format!(
                "{} vs {}; regrid one onto the other first",
                obs.coords.spatial.describe(),
                hindcast.coords.spatial.describe()
            ),
        );
    }
    if let Some(f) = forecast {
        if f.coords.lead != hindcast.coords.lead
            || f.coords.spatial.shape() != hindcast.coords.spatial.shape()
        {
            return mismatch(
                "forecast and hindcast",
                format!(
                    "{}'s forecast has other leads or another grid than its hindcast",
                    f.meta.model
                ),
            );
        }
        if f.meta.kind != hindcast.meta.kind {
            return mismatch(
                "forecast and hindcast",
                "one is a forecast, the other a time series; correct a forecast with a hindcast, a projection with a historical run".into(),
            );
        }
    }
    Ok(())
}

/// Day of the year (0-based) of a date in its calendar.
fn day_of_year(d: &crate::calendar::CfDateTime, cal: crate::calendar::Calendar) -> i64 {
    let jan1 = crate::calendar::CfDateTime::ymd(d.year, 1, 1);
    jan1.days_until(d, cal).unwrap_or(0.0).round() as i64
}

/// Training groups: the distinct sets of training start indices, and the group of every
/// target. Targets with the same start month (or day of the year, for windows) share a group,
/// so a daily series of 60 years needs 12 (or 366) groups, not one per day.
struct Groups {
    sets: Vec<Vec<usize>>,
    keys: std::collections::HashMap<i64, usize>,
}

impl Groups {
    fn new() -> Self {
        Groups {
            sets: Vec::new(),
            keys: std::collections::HashMap::new(),
        }
    }

    /// The group of a target start date (built on first use).
    fn of(
        &mut self,
        hindcast: &Cube,
        grouping: Grouping,
        target: &crate::calendar::CfDateTime,
    ) -> usize {
        let cal = hindcast.meta.calendar;
        let key = match grouping {
            Grouping::SameStartMonth => i64::from(target.month),
            Grouping::WindowDays(_) => day_of_year(target, cal),
        };
        if let Some(&g) = self.keys.get(&key) {
            return g;
        }
        let set: Vec<usize> = (0..hindcast.n_init())
            .filter(|&j| {
                let d = &hindcast.coords.init[j];
                match grouping {
                    Grouping::SameStartMonth => i64::from(d.month) == key,
                    Grouping::WindowDays(n) => {
                        let diff = (day_of_year(d, cal) - key).abs();
                        diff.min(365 - diff) <= i64::from(n)
                    }
                }
            })
            .collect();
        self.sets.push(set);
        self.keys.insert(key, self.sets.len() - 1);
        self.sets.len() - 1
    }
}

/// Fits `corrector` on `hindcast` against `obs` (observations aligned to the hindcast's
/// targets, one member) and corrects the hindcast (cross-validated) and `forecast`.
pub fn correct(
    corrector: &dyn BiasCorrector,
    hindcast: &Cube,
    obs: &Cube,
    forecast: Option<&Cube>,
    params: &BiasParams,
) -> Result<Corrected> {
    correct_reporting(
        corrector,
        hindcast,
        obs,
        forecast,
        params,
        &crate::progress::NoProgress,
    )
}

/// [`correct`], reporting each latitude row done to `progress` (a stage "correcting" of as
/// many steps as the grid has rows).
pub fn correct_reporting(
    corrector: &dyn BiasCorrector,
    hindcast: &Cube,
    obs: &Cube,
    forecast: Option<&Cube>,
    params: &BiasParams,
    progress: &dyn crate::progress::Progress,
) -> Result<Corrected> {
    check_inputs(hindcast, obs, forecast)?;
    let years: Vec<i32> = hindcast.init_years();
    let kind = corrector.kind();
    let wet = params.wet_threshold as f32;
    let (ni, nm, nl, ny, nx) = hindcast.values.dim();
    // Training groups of every hindcast start and forecast start.
    let mut groups = Groups::new();
    let hc_groups: Vec<usize> = hindcast
        .coords
        .init
        .iter()
        .map(|d| groups.of(hindcast, params.grouping, d))
        .collect();
    let fc_groups: Vec<usize> = forecast.map_or_else(Vec::new, |f| {
        f.coords
            .init
            .iter()
            .map(|d| groups.of(hindcast, params.grouping, d))
            .collect()
    });
    if let Some(f) = forecast {
        if let Some(k) = fc_groups.iter().position(|&g| groups.sets[g].is_empty()) {
            return Err(Error::invalid(
                "forecast",
                format!(
                    "no hindcast start of {} matches the forecast start {}",
                    hindcast.meta.model, f.coords.init[k]
                ),
            ));
        }
    }
    let sets = &groups.sets;
    if !params.correct_hindcast && forecast.is_none() {
        return Err(Error::invalid(
            "bias correction",
            "neither the hindcast nor a forecast to correct",
        ));
    }
    // Corrected hindcast starts (none when only the forecast is corrected).
    let nh = if params.correct_hindcast { ni } else { 0 };
    // Every value is written below (zeroed pages cost nothing until then).
    let mut hc_out =
        Array5::<f32>::zeros((nh, nm, nl, ny, if params.correct_hindcast { nx } else { 0 }));
    let (nf, nmf) = forecast.map_or((0, 0), |f| (f.n_init(), f.n_member()));
    let mut fc_out =
        Array5::<f32>::zeros((nf, nmf, nl, ny, if forecast.is_some() { nx } else { 0 }));
    let untrained = std::sync::atomic::AtomicUsize::new(0);

    let nf_members = nf * nmf;
    let year_of_value: Vec<i32> = years
        .iter()
        .flat_map(|&y| std::iter::repeat(y).take(nm))
        .collect();
    // In-sample, the starts of a group whose targets are its training starts (one start a
    // year and month: seasonal hindcasts) are corrected together, in ascending order.
    let batch: Vec<bool> = (0..sets.len())
        .map(|g| {
            params.cv == CrossValidation::None
                && (0..nh)
                    .filter(|&i| hc_groups[i] == g)
                    .eq(sets[g].iter().copied())
        })
        .collect();
    progress.start("correcting", ny as u64);
    Zip::indexed(hc_out.axis_iter_mut(Axis(3)))
        .and(fc_out.axis_iter_mut(Axis(3)))
        .par_for_each(
            |y, mut hc_row: ArrayViewMut4<f32>, mut fc_row: ArrayViewMut4<f32>| {
                let mut row = RowWork::new(corrector, kind, wet, params);
                // One lead of a latitude row at a time, copied cell-major (every start and
                // member of a cell side by side), corrected cell by cell into cell-major
                // buffers and copied back: the per-cell work then runs on contiguous slices.
                let per_cell = ni * nm;
                let mut model_cells = vec![0.0f32; nx * per_cell];
                let mut obs_cells = vec![0.0f32; nx * ni];
                // (none when only the forecast is corrected)
                let hc_per_cell = nh * nm;
                let mut hc_cells = vec![f32::NAN; nx * hc_per_cell];
                let mut fc_in = vec![0.0f32; nx * nf_members];
                let mut fc_cells = vec![f32::NAN; nx * nf_members];
                for l in 0..nl {
                    to_cell_major(
                        hindcast.values.slice(s![.., .., l, y, ..]),
                        &mut model_cells,
                    );
                    to_cell_major(obs.values.slice(s![.., .., l, y, ..]), &mut obs_cells);
                    if let Some(f) = forecast {
                        to_cell_major(f.values.slice(s![.., .., l, y, ..]), &mut fc_in);
                    }
                    for x in 0..nx {
                        let cell = l * nx + x;
                        let model = &model_cells[x * per_cell..(x + 1) * per_cell];
                        let observed = &obs_cells[x * ni..(x + 1) * ni];
                        let samples = Samples {
                            cell,
                            model,
                            members: nm,
                            observed,
                            years: &years,
                            year_of_value: &year_of_value,
                        };
                        let hc_out = &mut hc_cells[x * hc_per_cell..(x + 1) * hc_per_cell];
                        // Hindcast starts, each with its cross-validated training set.
                        for g in (0..sets.len()).filter(|&g| batch[g]) {
                            let missed = row.correct_group(&samples, (g, &sets[g]), hc_out);
                            untrained.fetch_add(missed, std::sync::atomic::Ordering::Relaxed);
                        }
                        for i in (0..nh).filter(|&i| !batch[hc_groups[i]]) {
                            let g = hc_groups[i];
                            if !row.correct_one(
                                &samples,
                                (g, &sets[g]),
                                Some(years[i]),
                                &model[i * nm..(i + 1) * nm],
                                &mut hc_out[i * nm..(i + 1) * nm],
                            ) {
                                untrained.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                        let fc_sim = &fc_in[x * nf_members..(x + 1) * nf_members];
                        let fc_out = &mut fc_cells[x * nf_members..(x + 1) * nf_members];
                        for (k, &g) in fc_groups.iter().enumerate() {
                            row.correct_one(
                                &samples,
                                (g, &sets[g]),
                                None,
                                &fc_sim[k * nmf..(k + 1) * nmf],
                                &mut fc_out[k * nmf..(k + 1) * nmf],
                            );
                        }
                    }
                    if params.correct_hindcast {
                        from_cell_major(&hc_cells, hc_row.slice_mut(s![.., .., l, ..]));
                    }
                    if forecast.is_some() {
                        from_cell_major(&fc_cells, fc_row.slice_mut(s![.., .., l, ..]));
                    }
                }
                progress.advance(1);
            },
        );
    progress.finish();

    let grouping = match params.grouping {
        Grouping::SameStartMonth => "start month".to_string(),
        Grouping::WindowDays(n) => format!("±{n}-day window of start dates"),
    };
    // Each cube's note names its own cross-validation: the hindcast's scheme, or the
    // forecast's training on every hindcast year.
    let finish = |src: &Cube, values: Array5<f32>, cv: &str| -> Result<Cube> {
        let mut c = Cube::new(values, src.coords.clone(), src.meta.clone())?;
        c.meta.history.push(format!(
            "bias-corrected: {}; cross-validation {cv}; fitted per cell, lead and {grouping}",
            corrector.describe()
        ));
        c.meta
            .attributes
            .insert("bias_correction_method".into(), corrector.describe());
        c.meta
            .attributes
            .insert("bias_correction_cross_validation".into(), cv.into());
        c.meta
            .attributes
            .insert("bias_correction_reference".into(), obs.meta.model.clone());
        if kind == Kind::Multiplicative {
            c.meta.attributes.insert(
                "bias_correction_wet_threshold".into(),
                format!("{} {}", params.wet_threshold, src.meta.units),
            );
        }
        Ok(c)
    };
    let hindcast_out = if params.correct_hindcast {
        Some(finish(hindcast, hc_out, &params.cv.describe())?)
    } else {
        None
    };
    let forecast_out = match forecast {
        Some(f) => Some(finish(
            f,
            fc_out,
            "none (forecast trained on every hindcast year)",
        )?),
        None => None,
    };
    Ok(Corrected {
        hindcast: hindcast_out,
        forecast: forecast_out,
        untrained: untrained.into_inner(),
    })
}

/// The values of the sorted `tagged` (see [`tag`]; the payload indexes `year_of`) whose year is
/// not in `left_out`, in order, into `out` (a branch-free compaction: every value is written,
/// the cursor moves only for those kept).
fn keep_years(
    tagged: &[u64],
    year_of: &[i32],
    left_out: &std::ops::Range<i32>,
    out: &mut Vec<f32>,
) {
    out.clear();
    if left_out.is_empty() {
        out.extend(tagged.iter().map(|&t| untag(t).0));
        return;
    }
    out.resize(tagged.len(), 0.0);
    let mut kept = 0;
    for &t in tagged {
        let (v, at) = untag(t);
        out[kept] = v;
        kept += usize::from(!left_out.contains(&year_of[at as usize]));
    }
    out.truncate(kept);
}

/// The samples of one cell and lead: every hindcast start's members and observation.
struct Samples<'s> {
    /// Identifies the cell and lead (the sorted samples are reused while it stays the same).
    cell: usize,
    /// Members of every start, start-major: `model[i · members + m]`.
    model: &'s [f32],
    members: usize,
    /// Observation of every start.
    observed: &'s [f32],
    /// Year of every start.
    years: &'s [i32],
    /// Year of every model value (`years` repeated for each member).
    year_of_value: &'s [i32],
}

/// Per-row state: the sorted samples of the current (cell, lead, group), reused across targets.
struct RowWork<'a> {
    corrector: &'a dyn BiasCorrector,
    kind: Kind,
    wet: f32,
    params: &'a BiasParams,
    scratch: Scratch,
    /// Sorted samples of the current group, each value packed by [`tag`] with its position
    /// (model: index in [`Samples::model`]; observations: the start) so that they sort as
    /// integers and the year of each can be looked up.
    model_tagged: Vec<u64>,
    obs_tagged: Vec<u64>,
    sort_buf: Vec<u64>,
    /// The (cell and lead, group) the tagged samples were built for.
    sample_of: Option<(usize, usize)>,
    /// The (cell and lead, group, left-out year) the training samples were built for.
    train_of: Option<(usize, usize, Option<i32>)>,
    dry_rule: DryRule,
    model_train: Vec<f32>,
    obs_train: Vec<f32>,
    sim: Vec<f32>,
}

impl<'a> RowWork<'a> {
    fn new(corrector: &'a dyn BiasCorrector, kind: Kind, wet: f32, params: &'a BiasParams) -> Self {
        RowWork {
            corrector,
            kind,
            wet,
            params,
            scratch: Scratch::default(),
            model_tagged: Vec::new(),
            obs_tagged: Vec::new(),
            sort_buf: Vec::new(),
            sample_of: None,
            train_of: None,
            dry_rule: DryRule::Below(wet),
            model_train: Vec::new(),
            obs_train: Vec::new(),
            sim: Vec::new(),
        }
    }

    /// Sorts the samples of `group` at this cell and lead (once for every target of the
    /// group) and builds the training set without the years cross-validation leaves out for
    /// `target_year`; false when it is too small to train on.
    fn train(
        &mut self,
        samples: &Samples,
        (group_id, group): (usize, &[usize]),
        target_year: Option<i32>,
    ) -> bool {
        let cell = samples.cell;
        let nm = samples.members;
        if self.sample_of != Some((cell, group_id)) {
            self.model_tagged.clear();
            self.obs_tagged.clear();
            // Tagged with their positions: model values with their index in `samples.model`,
            // observations with their start.
            for &j in group {
                for (at, &v) in samples.model.iter().enumerate().skip(j * nm).take(nm) {
                    if v.is_finite() {
                        self.model_tagged.push(tag(v, at as i32));
                    }
                }
                let o = samples.observed[j];
                if o.is_finite() {
                    self.obs_tagged.push(tag(o, j as i32));
                }
            }
            sort_tagged(&mut self.model_tagged, &mut self.sort_buf);
            sort_tagged(&mut self.obs_tagged, &mut self.sort_buf);
            self.sample_of = Some((cell, group_id));
        }
        // Leave the excluded years out: one pass, order kept. Consecutive targets of the same
        // year (the days of a month in a daily series) share it.
        // In-sample, every target of the group has the same training set.
        let target_year = target_year.filter(|_| self.params.cv != CrossValidation::None);
        let train_key = (cell, group_id, target_year);
        if self.train_of != Some(train_key) {
            let left_out = target_year.map_or(0..0, |t| self.params.cv.left_out(t));
            keep_years(
                &self.model_tagged,
                samples.year_of_value,
                &left_out,
                &mut self.model_train,
            );
            keep_years(
                &self.obs_tagged,
                samples.years,
                &left_out,
                &mut self.obs_train,
            );
            if self.kind == Kind::Multiplicative {
                self.prepare_wet_training();
            }
            self.train_of = Some(train_key);
            self.scratch.training_changed = true;
        }
        self.obs_train.len() >= self.params.min_training
            && self.model_train.len() >= self.params.min_training
    }

    /// Corrects one start's members `sim` at one cell and lead into `out`, trained on the
    /// starts of `group` (id and start indices) but the years cross-validation leaves out for
    /// `target_year`; false when untrained.
    fn correct_one(
        &mut self,
        samples: &Samples,
        group: (usize, &[usize]),
        target_year: Option<i32>,
        sim: &[f32],
        out: &mut [f32],
    ) -> bool {
        if !self.train(samples, group, target_year) {
            out.fill(f32::NAN);
            return false;
        }
        self.sim.clear();
        self.sim.extend_from_slice(sim);
        if self.kind == Kind::Multiplicative {
            let is_dry = self.dry_rule;
            for v in self.sim.iter_mut() {
                if v.is_finite() && is_dry.is_dry(*v) {
                    *v = 0.0;
                }
            }
        }
        let train = Training {
            model: &self.model_train,
            obs: &self.obs_train,
        };
        self.corrector
            .correct(&train, &self.sim, out, &mut self.scratch);
        self.scratch.training_changed = false;
        for (o, &x) in out.iter_mut().zip(&self.sim) {
            *o = self.finish_value(*o, x);
        }
        true
    }

    /// In-sample: corrects every start of `group` at one cell and lead (the group's targets
    /// are its training starts) into `out` (all starts' members, as `samples.model`), the
    /// training values themselves in ascending order; returns how many starts were left
    /// untrained.
    fn correct_group(
        &mut self,
        samples: &Samples,
        group: (usize, &[usize]),
        out: &mut [f32],
    ) -> usize {
        let nm = samples.members;
        // Missing members stay missing.
        for &j in group.1 {
            out[j * nm..(j + 1) * nm].fill(f32::NAN);
        }
        if !self.train(samples, group, None) {
            return group.1.len();
        }
        // The training values are the group's finite values, wet-day rule applied as to
        // values corrected, in the order of `model_tagged` (no year left out).
        if !self.model_train.windows(2).all(|w| w[0] <= w[1]) {
            // (a negative wet-day threshold can unsort them): one start at a time.
            for &j in group.1 {
                let (sim, dst) = (
                    &samples.model[j * nm..(j + 1) * nm],
                    &mut out[j * nm..(j + 1) * nm],
                );
                self.correct_one(samples, group, None, sim, dst);
            }
            return 0;
        }
        let mut mapped = std::mem::take(&mut self.sim);
        mapped.clear();
        mapped.resize(self.model_train.len(), 0.0);
        let train = Training {
            model: &self.model_train,
            obs: &self.obs_train,
        };
        self.corrector
            .correct_ascending(&train, &self.model_train, &mut mapped, &mut self.scratch);
        self.scratch.training_changed = false;
        for ((&t, &o), &x) in self.model_tagged.iter().zip(&mapped).zip(&self.model_train) {
            out[untag(t).1 as usize] = self.finish_value(o, x);
        }
        self.sim = mapped;
        0
    }

    /// A corrected value `o` of the value `x` (after the wet-day rule): missing stays missing;
    /// precipitation: dry stays dry, nothing below the wet threshold or negative.
    fn finish_value(&self, o: f32, x: f32) -> f32 {
        if !x.is_finite() {
            f32::NAN
        } else if self.kind == Kind::Multiplicative {
            if x == 0.0 || o < self.wet || !o.is_finite() {
                0.0
            } else {
                o
            }
        } else {
            o
        }
    }

    /// Wet-day handling of the training samples (see the module doc); sets the rule that the
    /// values to correct get too.
    fn prepare_wet_training(&mut self) {
        let wet = self.wet;
        let mut obs_dry = 0usize;
        for v in self.obs_train.iter_mut() {
            if *v < wet {
                *v = 0.0;
            }
            obs_dry += usize::from(*v == 0.0);
        }
        let obs_dry = obs_dry as f64 / self.obs_train.len().max(1) as f64;
        // The training values are sorted: the dry ones are a prefix.
        let model_dry = self.model_train.partition_point(|&v| v < wet) as f64
            / self.model_train.len().max(1) as f64;
        // Frequency adaptation: a model that rains more often than observed loses its drizzle,
        // up to its own quantile at the observed dry frequency.
        self.dry_rule = if model_dry < obs_dry {
            DryRule::UpTo(
                (crate::stats::quantile_sorted(&self.model_train, obs_dry) as f32).max(wet),
            )
        } else {
            DryRule::Below(wet)
        };
        let rule = self.dry_rule;
        let dry = self.model_train.partition_point(|&v| rule.is_dry(v));
        self.model_train[..dry].fill(0.0);
    }
}

/// Which model values count as dry.
#[derive(Debug, Clone, Copy)]
enum DryRule {
    /// Below the wet-day threshold.
    Below(f32),
    /// Up to and including the frequency-adaptation threshold.
    UpTo(f32),
}

impl DryRule {
    fn is_dry(self, v: f32) -> bool {
        match self {
            DryRule::Below(t) => v < t,
            DryRule::UpTo(t) => v <= t,
        }
    }
}

#[cfg(test)]
mod tests;
