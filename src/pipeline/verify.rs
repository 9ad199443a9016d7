//! The verify job (`s2s verify`): cross-validated skill of each model's hindcast and of the
//! multi-model ensemble against observations — maps with bootstrap intervals and significance
//! ([`crate::io::products::skill`]), regional means, diagram data and the MME-against-best-model
//! comparison (JSON), and one PNG of reliability / ROC / rank-histogram diagrams per region and
//! lead. The scores are [`crate::verify`]'s; probabilities come from
//! [`crate::ensemble::combine()`] without a forecast, members counted or PMME.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ndarray::{concatenate, ArrayView2, Axis};
use serde::Serialize;

use super::{align_or_fail, load_countries, model_names, RunOptions};
use crate::bulletin::{render_verification_diagrams, DiagramCategory, DiagramSystem};
use crate::distributed::products::{
    decode_scored, decode_skill_maps, encode_scored, encode_skill_maps, stack_scored,
    stack_skill_maps,
};
use crate::distributed::{agree, Bands, Ranks};
use crate::ensemble::{
    collapsed_categories, combine, withhold_categories, CombineInput, CombineSpec, WeightScheme,
};
use crate::error::{Context, Error, Result};
use crate::io::products::skill::{scalar, significance, write_skill, SkillFile};
use crate::io::{
    read_category_probabilities, read_observed_series, read_var, write_text_atomic, ReadOptions,
};
use crate::progress::Progress;
use crate::verify::{
    regional_diagnostics, regional_mean, reliability_slope, skill_maps, Bootstrap, Interval,
    Region, RegionalDiagnostics, ReliabilityBin, RocCurve, ScoredForecast, SkillMaps,
};
use crate::Cube;

/// Every score a verification can be asked for.
pub const ALL_SCORES: [&str; 13] = [
    "acc",
    "rmse",
    "bias",
    "msss",
    "rps",
    "rpss",
    "crps",
    "crpss",
    "brier",
    "roc",
    "reliability",
    "rank",
    "pattern",
];

/// How the probabilities of each model and of the MME are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probabilities {
    /// Counted members, the MME weighting models equally.
    Members,
    /// APCC PMME: Gaussian around the mean with the hindcast error spread (for ensemble means).
    Pmme,
    /// Regression-calibrated probabilities of each model, the MME their equal-weight mean
    /// ([`crate::ensemble::calibrate`]).
    Calibrated,
    /// Extended logistic regression of each model, the MME their equal-weight mean.
    Elr,
    /// Principal-component regression MOS of each model's field ([`crate::ensemble::pcr`]),
    /// the MME their equal-weight mean.
    Pcr,
}

impl Probabilities {
    /// `model`, `pmme` or `calibrated` (the names `--probabilities` takes).
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "model" => Ok(Probabilities::Members),
            "pmme" => Ok(Probabilities::Pmme),
            "calibrated" => Ok(Probabilities::Calibrated),
            "elr" => Ok(Probabilities::Elr),
            "pcr" => Ok(Probabilities::Pcr),
            other => Err(Error::invalid(
                format!("--probabilities '{other}'"),
                "use model, pmme, calibrated, elr or pcr",
            )),
        }
    }

    /// The name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Probabilities::Members => "model",
            Probabilities::Pmme => "pmme",
            Probabilities::Calibrated => "calibrated",
            Probabilities::Elr => "elr",
            Probabilities::Pcr => "pcr",
        }
    }

    fn scheme(self) -> WeightScheme {
        match self {
            Probabilities::Members => WeightScheme::ModelEqual,
            Probabilities::Pmme => WeightScheme::Pmme,
            Probabilities::Calibrated => WeightScheme::Calibrated,
            Probabilities::Elr => WeightScheme::Elr,
            Probabilities::Pcr => WeightScheme::Pcr,
        }
    }
}

/// A verification to run.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// Hindcast files, one per model (bias-corrected, on one grid).
    pub hindcast: Vec<PathBuf>,
    /// Observations on the same grid.
    pub obs: PathBuf,
    /// Variable of the model files (`pr`, `tas` by quantity, or a name).
    pub variable: Option<String>,
    /// Variable of the observations when it differs.
    pub obs_variable: Option<String>,
    /// Units of the observations when their file has none or wrong ones.
    /// The season each value of a yearly-stamped observation file covers (`--obs-season`).
    pub obs_season: Option<crate::calendar::Season>,
    pub obs_units: Option<String>,
    /// Model names (empty: the files' names).
    pub models: Vec<String>,
    /// How probabilities are made.
    pub probabilities: Probabilities,
    /// Files of category probabilities to verify as they are, one system each (C3S / IRI
    /// style or s2s's own; see [`crate::io::probabilities`]); the hindcasts may then be none.
    pub forecast_probabilities: Vec<PathBuf>,
    /// The probability variable of those files (`None`: found by its category dimension or
    /// the below / normal / above names).
    pub probability_variable: Option<String>,
    /// The scores to compute and write ([`selected_scores`]).
    pub scores: BTreeSet<&'static str>,
    /// Regions as [`Region::parse_with`] reads them.
    pub regions: Vec<String>,
    /// Country polygons (GeoJSON; `None`: the bundled Natural Earth countries).
    pub countries: Option<PathBuf>,
    /// ACC of the anomaly against each model's cross-validated climatology (`true`), or of
    /// the raw ensemble mean.
    pub acc_of_anomaly: bool,
    /// Fair CRPS (Ferro 2014) instead of the plain ensemble CRPS.
    pub fair_crps: bool,
    /// Debiased RPSS (Weigel et al. 2007) for the ensemble size.
    pub rpss_debiased: bool,
    /// Bootstrap resamples of the years (0: none), their confidence level and seed.
    pub bootstrap: usize,
    pub confidence: f64,
    pub seed: u64,
    /// Probability bins of the reliability diagram.
    pub reliability_bins: usize,
    /// Only these years.
    pub years: Option<(i32, i32)>,
    /// Output folder.
    pub out: PathBuf,
    /// `history` and compression.
    pub options: RunOptions,
}

impl VerifyPlan {
    /// Refuses combinations that would give a misleading score.
    pub fn check(&self) -> Result<()> {
        let name = self.probabilities.name();
        if !self.acc_of_anomaly && self.probabilities != Probabilities::Members {
            return Err(Error::invalid(format!("--acc-of mean with --probabilities {name}"), "that mean is centred on the other years' observed mean, which biases the correlation low; use --acc-of anomaly"));
        }
        if self.rpss_debiased && self.probabilities != Probabilities::Members {
            return Err(Error::invalid(
                format!("--probabilities {name}"),
                format!("--rpss-debiased applies to probabilities counted from members (--probabilities model), not to {name}"),
            ));
        }
        Ok(())
    }
}

/// What [`verify`] wrote and found.
#[derive(Debug, serde::Serialize)]
pub struct VerifyReport {
    /// The regional summary (also in `summary_file`).
    pub summary: Summary,
    /// `skill.<var>.nc`.
    pub skill_file: PathBuf,
    /// `skill_summary.<var>.json`.
    pub summary_file: PathBuf,
    /// The diagram PNGs.
    pub diagrams: Vec<PathBuf>,
}

/// The whole summary file.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub variable: String,
    pub units: String,
    pub start_years: Vec<i32>,
    pub probabilities: String,
    pub acc: &'static str,
    pub crps: &'static str,
    pub rpss: &'static str,
    pub bootstrap: Option<BootstrapSettings>,
    pub scores: Vec<&'static str>,
    pub regions: Vec<RegionSummary>,
}

#[derive(Debug, Serialize)]
pub struct BootstrapSettings {
    pub resamples: usize,
    pub confidence: f64,
    pub seed: u64,
}

/// Regional means of every score, per model and lead, and the MME against the best model.
#[derive(Debug, Serialize)]
pub struct RegionSummary {
    pub region: String,
    pub bbox: [f64; 4],
    pub countries: Vec<String>,
    pub cells: usize,
    pub models: Vec<ModelSummary>,
    pub mme_against_best_model: Vec<Comparison>,
}

#[derive(Debug, Serialize)]
pub struct ModelSummary {
    pub model: String,
    /// A single model's hindcast, the MME, or probabilities given as they are.
    pub kind: SystemKind,
    pub leads: Vec<LeadSummary>,
}

/// What a verified system is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    /// One model's hindcast, its probabilities made as `--probabilities` says.
    Model,
    /// The multi-model ensemble of the hindcasts.
    Mme,
    /// Category probabilities read from a file (`--forecast-probabilities`).
    Probabilities,
}

#[derive(Debug, Serialize)]
pub struct LeadSummary {
    pub lead: String,
    pub acc: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acc_interval: Option<Interval>,
    /// Share of the region's area where the cell's ACC interval is above 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acc_significant_area: Option<f64>,
    pub rmse: f64,
    pub bias: f64,
    pub msss: f64,
    pub rps: f64,
    pub rpss: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpss_interval: Option<Interval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpss_significant_area: Option<f64>,
    pub crps: f64,
    pub crpss: f64,
    pub brier: Vec<f64>,
    pub roc_area: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern_acc: Option<Vec<YearValue>>,
    /// Per category: the slope of the reliability diagram (1 reliable, < 1 overconfident;
    /// [`crate::verify::reliability_slope`]).
    pub reliability_slope: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Vec<Vec<ReliabilityBin>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc: Option<Vec<RocCurve>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank_histogram: Option<Vec<u64>>,
}

#[derive(Debug, Serialize)]
pub struct YearValue {
    pub year: i32,
    pub value: f64,
}

/// Whether the MME beats the best single model on the region's mean RPSS.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub lead: String,
    pub best_model: String,
    pub best_model_rpss: f64,
    pub mme_rpss: f64,
    pub mme_minus_best: f64,
    /// Share of the bootstrap resamples on which the MME's RPSS is the higher (paired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mme_better_in_resamples: Option<f64>,
}

/// The scores asked for, checked.
pub fn selected_scores(asked: &[String]) -> Result<BTreeSet<&'static str>> {
    let mut set = BTreeSet::new();
    for s in asked {
        let s = s.trim();
        if s == "all" {
            set.extend(ALL_SCORES);
            continue;
        }
        match ALL_SCORES.iter().find(|k| **k == s) {
            Some(k) => {
                set.insert(*k);
            }
            None => {
                return Err(Error::invalid(
                    "--scores",
                    format!(
                        "unknown score '{s}'; choose from {} or all",
                        ALL_SCORES.join(", ")
                    ),
                ))
            }
        }
    }
    if set.is_empty() {
        return Err(Error::invalid("--scores", "no score given"));
    }
    Ok(set)
}

/// One scored forecast system.
pub struct System {
    /// The model's name, or `MME`.
    pub name: String,
    /// What it is.
    pub kind: SystemKind,
    /// Skill maps.
    pub maps: SkillMaps,
    /// `[region][lead]`.
    pub regional: Vec<Vec<RegionalDiagnostics>>,
}

pub fn verify(args: &VerifyPlan, progress: &dyn Progress) -> Result<VerifyReport> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&args.out, || verify_staged(args, progress))
}

fn verify_staged(args: &VerifyPlan, progress: &dyn Progress) -> Result<VerifyReport> {
    verify_with(args, progress, None)?
        .ok_or_else(|| Error::invalid("verify", "one process writes its own outputs"))
}

/// The ranks of a distributed verification and the latitude bands they score.
struct Spread<'a> {
    ranks: &'a dyn Ranks,
    bands: Bands,
    /// Start dates of each hindcast file in the run's years: the blocks the ranks read.
    hindcast_starts: Vec<usize>,
}

/// `outcome`, agreed over the ranks when the verification is spread.
fn agreed<T>(spread: Option<&Spread>, outcome: Result<T>) -> Result<T> {
    match spread {
        Some(s) => agree(s.ranks, outcome.map(|v| (v, Vec::new()))).map(|(v, _)| v),
        None => outcome,
    }
}

/// [`verify`] over the processes of a distributed run (`mpirun -n N`): each rank reads its
/// band of every hindcast (whole maps of a block of start dates, exchanged by rows), cuts its
/// band from the observations and given probabilities, combines and scores its cells (skill
/// maps with their bootstrap intervals: the bulk of the work); rank 0 gathers each system's
/// maps and scored fields, computes the regional diagnostics on the whole field and writes
/// the files as one process does — byte-identical to [`verify`]'s. Points, curvilinear grids,
/// PCR probabilities and grids with fewer rows than ranks run on rank 0 alone. With one rank
/// it is [`verify`]. The report is rank 0's (`None` on the others).
pub fn verify_on(
    args: &VerifyPlan,
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<VerifyReport>> {
    if ranks.size() == 1 {
        return verify(args, progress).map(Some);
    }
    super::bands::staged_on_root(ranks, &args.out, || {
        let setup = (|| -> Result<(Option<Spread>, Vec<u8>)> {
            let n = ranks.size();
            if args.hindcast.is_empty() || args.probabilities == Probabilities::Pcr {
                return Ok((None, Vec::new()));
            }
            let names = model_names(&args.hindcast, &args.models)?;
            let var = args.variable.as_deref();
            let sample = ReadOptions {
                years: args.years,
                model: Some(names[0].clone()),
                ..Default::default()
            };
            let bands = super::bands::grid_bands(&args.hindcast[0], var, sample, n)?;
            if !bands.decomposed || bands.rows.iter().any(|r| r.is_empty()) {
                return Ok((None, Vec::new()));
            }
            let mut hindcast_starts = Vec::new();
            for (p, name) in args.hindcast.iter().zip(&names) {
                let opts = ReadOptions {
                    years: args.years,
                    model: Some(name.clone()),
                    ..Default::default()
                };
                hindcast_starts.push(super::bands::start_count(p, var, opts)?);
            }
            Ok((
                Some(Spread {
                    ranks,
                    bands,
                    hindcast_starts,
                }),
                Vec::new(),
            ))
        })();
        match agree(ranks, setup)?.0 {
            Some(spread) => verify_with(args, progress, Some(&spread)),
            // the whole field on rank 0, the others waiting for its outcome
            None => {
                let done = if ranks.is_root() {
                    verify_staged(args, progress).map(Some)
                } else {
                    Ok(None)
                };
                agree(ranks, done.map(|r| (r, Vec::new()))).map(|(r, _)| r)
            }
        }
    })
}

/// The verification of `args`, by one process (`spread`: `None`) or by the ranks of
/// [`verify_on`], each with its band; the report on rank 0.
fn verify_with(
    args: &VerifyPlan,
    progress: &dyn Progress,
    spread: Option<&Spread>,
) -> Result<Option<VerifyReport>> {
    let root = spread.map_or(true, |s| s.ranks.is_root());
    // Every step before the first read depends on the arguments alone: every rank fails alike.
    args.check()?;
    let years = args.years;
    let scores = &args.scores;
    let scheme = args.probabilities.scheme();
    let (acc_of_anomaly, fair_crps) = (args.acc_of_anomaly, args.fair_crps);
    let countries = load_countries(args.countries.as_deref())?;
    let regions: Vec<Region> = args
        .regions
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| Region::parse_with(r, &countries))
        .collect::<Result<_, _>>()?;
    if args.hindcast.is_empty() && args.forecast_probabilities.is_empty() {
        return Err(Error::invalid(
            "verify",
            "nothing to verify: give --hindcast files, --forecast-probabilities files or both",
        ));
    }
    let names = if args.hindcast.is_empty() {
        Vec::new()
    } else {
        model_names(&args.hindcast, &args.models)?
    };
    let mut hc = Vec::new();
    let var = args.variable.as_deref();
    let label = args
        .variable
        .clone()
        .unwrap_or_else(|| "the variable".into());
    for (i, (p, n)) in args.hindcast.iter().zip(&names).enumerate() {
        let opts = ReadOptions {
            years,
            model: Some(n.clone()),
            ..Default::default()
        };
        let c = match spread {
            None => read_var(p, var, opts),
            Some(s) => {
                let read = |steps| {
                    let block = ReadOptions {
                        time_steps: Some(steps),
                        checks_by_caller: true,
                        ..opts.clone()
                    };
                    read_var(p, var, block)
                };
                let total = s.hindcast_starts[i];
                super::bands::exchange_rows(s.ranks, &s.bands, 0, total, read, (p, &label))?
                    .unwrap_or_else(|| Err(Error::invalid("verify", "a rank without a band")))
            }
        };
        let mut c = agreed(spread, c)?;
        if let Some(first) = hc.first() {
            agreed(spread, super::align_grid(&mut c, p, first))?;
        }
        hc.push(c);
    }
    agreed(spread, super::policy::check_hindcast_years(&hc))?;
    // A file every rank reads whole, cut to this rank's band.
    let band_of = |c: Cube| -> Result<Cube> {
        match spread.and_then(|s| s.bands.lat_band(s.ranks.rank(), 0)) {
            Some(lat_band) => super::bands::rows_within(c, lat_band),
            None => Ok(c),
        }
    };
    let spec = CombineSpec {
        scheme,
        full_hindcast: false,
        ..CombineSpec::default()
    };
    let categories = spec.category_levels.len() + 1;
    let mut given = Vec::new();
    for p in &args.forecast_probabilities {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        let read = read_category_probabilities(
            p,
            args.probability_variable.as_deref(),
            years,
            categories,
            &name,
        );
        given.push(agreed(spread, read.and_then(band_of))?);
    }
    // Every system is scored on the same starts, leads and grid.
    let reference: &Cube = hc.first().or(given.first()).expect("something to verify");
    for (c, p) in given.iter().zip(&args.forecast_probabilities) {
        let same = c.coords.spatial.same_grid(&reference.coords.spatial)
            && c.coords.lead == reference.coords.lead
            && c.same_start_months(reference);
        // the same on every rank: the bands of one grid
        if !same {
            return Err(Error::mismatch(
                format!("{} and {}", p.display(), reference.meta.model),
                "the probabilities must have the same start dates, leads and grid as the other systems verified with them (restrict with --years, regrid with s2s regrid)",
            ));
        }
    }
    let obs = read_observed_series(
        &args.obs,
        args.obs_variable.as_deref().or(args.variable.as_deref()),
        years,
        args.obs_units.clone(),
        args.obs_season,
    );
    let aligned = obs
        .and_then(band_of)
        .and_then(|obs| align_or_fail(&obs, &args.obs, reference).map(|(a, _)| a));
    let aligned = agreed(spread, aligned)?;
    let no_outlook = collapsed_categories(aligned.values.view(), &spec.category_levels);
    let bootstrap = if args.bootstrap > 0 {
        Some(
            Bootstrap::new(
                reference.n_init(),
                args.bootstrap,
                args.confidence,
                args.seed,
            )
            .context("--bootstrap")?,
        )
    } else {
        None
    };
    // The regions' cells on the whole grid (rank 0 computes the regional diagnostics).
    let grid = spread.map_or(&reference.coords.spatial, |s| &s.bands.grid);
    let weights: Vec<Vec<f64>> = regions.iter().map(|r| r.cell_weights(grid)).collect();
    super::policy::check_counted_members(spec.scheme, &hc, progress)?;
    let nl = reference.n_lead();
    let mut systems: Vec<System> = Vec::new();
    progress.start(
        "verify",
        (hc.len() + given.len()) as u64 + u64::from(hc.len() > 1),
    );
    let regional_of = |scored: &ScoredForecast| -> Result<Vec<Vec<RegionalDiagnostics>>> {
        let mut regional = Vec::with_capacity(regions.len());
        for w in &weights {
            let per_lead = (0..nl)
                .map(|l| regional_diagnostics(scored, l, w, args.reliability_bins))
                .collect::<Result<Vec<_>, _>>()?;
            regional.push(per_lead);
        }
        Ok(regional)
    };
    let system = |name: String, kind: SystemKind, scored: &ScoredForecast| -> Result<System> {
        let maps = agreed(spread, skill_maps(scored))?;
        let Some(s) = spread else {
            let regional = regional_of(scored)?;
            return Ok(System {
                name,
                kind,
                maps,
                regional,
            });
        };
        // Rank 0 gathers the bands' maps and fields: the regional diagnostics need the whole
        // field, summed in the order one process sums it.
        let mut bytes = Vec::new();
        encode_skill_maps(&maps, &mut bytes);
        encode_scored(scored, &mut bytes);
        let parts = s.ranks.gather_bytes_to_root(&bytes);
        drop(bytes);
        let whole = (|| -> Result<Option<System>> {
            if !s.ranks.is_root() {
                return Ok(None);
            }
            let (mut maps, mut fields) = (Vec::new(), Vec::new());
            for part in &parts {
                let mut at = 0;
                maps.push(decode_skill_maps(part, &mut at)?);
                fields.push(decode_scored(part, &mut at)?);
            }
            let maps = stack_skill_maps(&maps)?;
            let f = stack_scored(&fields)?;
            drop(fields);
            let whole = ScoredForecast {
                probability: f.probability.view(),
                ensemble_mean: f.ensemble_mean.view(),
                anomaly: f.anomaly.as_ref().map(|a| a.view()),
                members: f.members.as_ref().map(|a| a.view()),
                obs: f.obs.view(),
                ..*scored
            };
            let regional = regional_of(&whole)?;
            Ok(Some(System {
                name: name.clone(),
                kind,
                maps,
                regional,
            }))
        })();
        Ok(agreed(spread, whole)?.unwrap_or(System {
            name,
            kind,
            maps,
            regional: Vec::new(),
        }))
    };
    let mut evaluate =
        |name: String, cubes: &[&Cube], members: ndarray::ArrayView5<f32>| -> Result<()> {
            let out = combine(
                &CombineInput {
                    hindcasts: cubes,
                    forecasts: None,
                    obs: Some(&aligned),
                },
                &spec,
            )
            .with_context(|| format!("probabilities of {name}"));
            let mut out = agreed(spread, out)?;
            // No probabilistic scores where the observed climate has no terciles (dry
            // seasons): the categories are undefined there.
            out.hindcast.withhold(no_outlook.view());
            // Effective ensemble size of equally weighted models with m_j members each:
            // K² / Σ 1/m_j (the sampling variance of their mean probability).
            let m_eff = args.rpss_debiased.then(|| {
                let k = cubes.len() as f64;
                let inv: f64 = cubes.iter().map(|c| 1.0 / c.n_member() as f64).sum();
                (k * k / inv).round() as usize
            });
            let scored = ScoredForecast {
                probability: out.hindcast.probability.view(),
                ensemble_mean: out.hindcast.mean.view(),
                anomaly: acc_of_anomaly.then(|| out.hindcast.anomaly.view()),
                members: Some(members),
                obs: aligned.values.view(),
                levels: &spec.category_levels,
                debias_members: m_eff,
                bootstrap: bootstrap.as_ref(),
                fair_crps,
            };
            let kind = if name == "MME" {
                SystemKind::Mme
            } else {
                SystemKind::Model
            };
            systems.push(system(name, kind, &scored)?);
            progress.advance(1);
            Ok(())
        };
    for c in &hc {
        evaluate(c.meta.model.clone(), &[c], c.values.view())?;
    }
    if hc.len() > 1 {
        let refs: Vec<&Cube> = hc.iter().collect();
        let views: Vec<_> = hc.iter().map(|c| c.values.view()).collect();
        let pooled = concatenate(Axis(1), &views).context("pooling the members");
        let pooled = agreed(spread, pooled)?;
        evaluate("MME".to_string(), &refs, pooled.view())?;
    }
    // Probabilities as given: only the probabilistic scores (no mean, no members).
    for c in &given {
        let mut probability = c.values.clone();
        withhold_categories(&mut probability, no_outlook.view());
        let (ni, _, nl, ny, nx) = probability.dim();
        let no_mean = ndarray::Array5::<f32>::from_elem((ni, 1, nl, ny, nx), f32::NAN);
        let scored = ScoredForecast {
            probability: probability.view(),
            ensemble_mean: no_mean.view(),
            anomaly: None,
            members: None,
            obs: aligned.values.view(),
            levels: &spec.category_levels,
            debias_members: None,
            bootstrap: bootstrap.as_ref(),
            fair_crps,
        };
        systems.push(system(
            c.meta.model.clone(),
            SystemKind::Probabilities,
            &scored,
        )?);
        progress.advance(1);
    }
    progress.finish();
    // Rank 0 writes; every rank learns whether it could.
    let written = (|| -> Result<Option<VerifyReport>> {
        if !root {
            return Ok(None);
        }
        let whole_grid;
        let reference = match spread {
            Some(s) => {
                whole_grid = on_grid(reference, &s.bands.grid)?;
                &whole_grid
            }
            None => reference,
        };
        super::create_dir(&args.out)?;
        let var = args
            .variable
            .clone()
            .unwrap_or(reference.meta.variable.clone());
        let nc_path = args.out.join(format!("skill.{var}.nc"));
        let named: Vec<(&str, &SkillMaps)> =
            systems.iter().map(|s| (s.name.as_str(), &s.maps)).collect();
        write_skill(
            &nc_path,
            &args.options.write_options(),
            reference,
            &named,
            &SkillFile {
                levels: &spec.category_levels,
                scores,
                bootstrap: bootstrap.as_ref(),
                definitions: [
                    ("acc_definition", acc_text(acc_of_anomaly)),
                    ("crps_definition", crps_text(fair_crps)),
                    ("rpss_definition", rpss_text(args.rpss_debiased)),
                ],
            },
        )?;
        let summary = Summary {
            variable: var.clone(),
            units: reference.meta.units.clone(),
            start_years: reference.init_years(),
            probabilities: args.probabilities.name().to_string(),
            acc: acc_text(acc_of_anomaly),
            crps: crps_text(fair_crps),
            rpss: rpss_text(args.rpss_debiased),
            bootstrap: bootstrap.as_ref().map(|b| BootstrapSettings {
                resamples: b.len(),
                confidence: b.confidence,
                seed: args.seed,
            }),
            scores: scores.iter().copied().collect(),
            regions: regions
                .iter()
                .enumerate()
                .map(|(r, region)| {
                    let boot = bootstrap.is_some();
                    region_summary(r, region, &weights[r], reference, &systems, scores, boot)
                })
                .collect(),
        };
        let json_path = args.out.join(format!("skill_summary.{var}.json"));
        write_text_atomic(&json_path, &serde_json::to_string_pretty(&summary)?)?;
        let mut pngs = Vec::new();
        if ["reliability", "roc", "rank"]
            .iter()
            .any(|s| scores.contains(s))
        {
            for (r, region) in regions.iter().enumerate() {
                if summary.regions[r].cells == 0 {
                    continue;
                }
                for (l, lead) in reference.coords.lead.iter().enumerate() {
                    let label = lead.label();
                    let file: String = label
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect();
                    let path = args.out.join(format!(
                        "diagrams.{var}.{}.{file}.png",
                        crate::io::clobber::file_slug(&region.name)
                    ));
                    pngs.push(draw_diagrams(
                        &path,
                        &format!(
                            "{var} — {} — {label} — {} start years",
                            region.name,
                            reference.n_init()
                        ),
                        &systems,
                        r,
                        l,
                        &spec.category_levels,
                    )?);
                }
            }
        }
        Ok(Some(VerifyReport {
            summary,
            skill_file: nc_path,
            summary_file: json_path,
            diagrams: pngs,
        }))
    })();
    agreed(spread, written)
}

/// `reference`'s metadata, start dates and leads on the whole `grid` (one member, zeros): what
/// rank 0 writes the skill file and the summary from when every rank held a band.
fn on_grid(reference: &Cube, grid: &crate::cube::Spatial) -> Result<Cube> {
    let (ny, nx) = grid.shape();
    let coords = crate::cube::Coords {
        member: reference.coords.member.iter().take(1).copied().collect(),
        spatial: grid.clone(),
        ..reference.coords.clone()
    };
    let shape = (
        reference.n_init(),
        coords.member.len(),
        reference.n_lead(),
        ny,
        nx,
    );
    Cube::new(
        ndarray::Array5::zeros(shape),
        coords,
        reference.meta.clone(),
    )
}

fn acc_text(of_anomaly: bool) -> &'static str {
    if of_anomaly {
        "Pearson correlation of the ensemble-mean anomaly (against each model's own cross-validated climatology) with the observations"
    } else {
        "Pearson correlation of the raw ensemble mean with the observations"
    }
}

fn crps_text(fair: bool) -> &'static str {
    if fair {
        "fair ensemble CRPS (Ferro 2014)"
    } else {
        "plain ensemble CRPS (as properscoring / xskillscore.crps_ensemble)"
    }
}

fn rpss_text(debiased: bool) -> &'static str {
    if debiased {
        "RPSS debiased for the ensemble size (Weigel et al. 2007)"
    } else {
        "RPSS against climatological probabilities"
    }
}

fn draw_diagrams(
    path: &Path,
    title: &str,
    systems: &[System],
    region: usize,
    lead: usize,
    levels: &[f64],
) -> Result<PathBuf> {
    let shown: Vec<DiagramSystem> = systems
        .iter()
        .map(|s| DiagramSystem {
            name: &s.name,
            diagnostics: &s.regional[region][lead],
        })
        .collect();
    let ncat = levels.len() + 1;
    let bounds = crate::ensemble::category_level_bounds(levels);
    let label = |c: usize| -> String {
        match (ncat, c) {
            (3, 0) => "below normal".to_string(),
            (3, 2) => "above normal".to_string(),
            (_, 0) => format!("below the {:.0}th percentile", levels[0] * 100.0),
            _ => format!(
                "above the {:.0}th percentile",
                levels[levels.len() - 1] * 100.0
            ),
        }
    };
    let labels = [label(0), label(ncat - 1)];
    let cats = [
        DiagramCategory {
            index: 0,
            label: &labels[0],
            climatology: bounds[0].1 - bounds[0].0,
        },
        DiagramCategory {
            index: ncat - 1,
            label: &labels[1],
            climatology: bounds[ncat - 1].1 - bounds[ncat - 1].0,
        },
    ];
    render_verification_diagrams(path, title, &shown, &cats)?;
    Ok(path.to_path_buf())
}

fn region_summary(
    r: usize,
    region: &Region,
    weights: &[f64],
    template: &Cube,
    systems: &[System],
    scores: &BTreeSet<&str>,
    bootstrapped: bool,
) -> RegionSummary {
    let years = template.init_years();
    let mut cells = 0;
    let mut models = Vec::new();
    for s in systems {
        let mut leads = Vec::new();
        for (l, lead) in template.coords.lead.iter().enumerate() {
            let d = &s.regional[r][l];
            cells = cells.max(d.cells);
            let mean_of = |a: ArrayView2<f32>| {
                let v = a.as_standard_layout();
                regional_mean(v.as_slice().expect("standard"), weights).0
            };
            let map_mean = |name: &str| mean_of(scalar(&s.maps, name).index_axis(Axis(0), l));
            let per_cat = |a: &ndarray::Array4<f32>| -> Vec<f64> {
                (0..a.dim().0)
                    .map(|c| mean_of(a.slice(ndarray::s![c, l, .., ..])))
                    .collect()
            };
            let has = |k: &str| scores.contains(k);
            let with_interval = |k: &str| has(k) && bootstrapped;
            // Area share where the interval's lower end is above 0 (of cells with one).
            let significant = |score: &str| -> Option<f64> {
                if !with_interval(score) {
                    return None;
                }
                let lower = scalar(&s.maps, &format!("{score}_lower")).index_axis(Axis(0), l);
                let flags: Vec<f32> = lower
                    .iter()
                    .map(|&v| significance(v).map_or(f32::NAN, |b| f32::from(u8::from(b))))
                    .collect();
                Some(regional_mean(&flags, weights).0)
            };
            leads.push(LeadSummary {
                lead: lead.label(),
                acc: map_mean("acc"),
                acc_interval: with_interval("acc").then_some(d.acc_interval),
                acc_significant_area: significant("acc"),
                rmse: map_mean("rmse"),
                bias: map_mean("bias"),
                msss: map_mean("msss"),
                rps: map_mean("rps"),
                rpss: map_mean("rpss"),
                rpss_interval: with_interval("rpss").then_some(d.rpss_interval),
                rpss_significant_area: significant("rpss"),
                crps: map_mean("crps"),
                crpss: map_mean("crpss"),
                brier: per_cat(&s.maps.brier),
                roc_area: per_cat(&s.maps.roc_area),
                pattern_acc: has("pattern").then(|| {
                    years
                        .iter()
                        .zip(&d.pattern_acc)
                        .map(|(&year, &value)| YearValue { year, value })
                        .collect()
                }),
                reliability_slope: d.reliability.iter().map(|b| reliability_slope(b)).collect(),
                reliability: has("reliability").then(|| d.reliability.clone()),
                roc: has("roc").then(|| d.roc.clone()),
                rank_histogram: has("rank").then(|| d.rank_histogram.clone()),
            });
        }
        models.push(ModelSummary {
            model: s.name.clone(),
            kind: s.kind,
            leads,
        });
    }
    let mut comparison = Vec::new();
    let mme_index = models.iter().position(|m| m.kind == SystemKind::Mme);
    if let Some(mi) = mme_index {
        let (mme, mme_sys) = (&models[mi], &systems[mi]);
        for (l, lead) in mme.leads.iter().enumerate() {
            let Some((k, best)) = models
                .iter()
                .enumerate()
                .filter(|(_, m)| m.kind == SystemKind::Model && m.leads[l].rpss.is_finite())
                .max_by(|a, b| a.1.leads[l].rpss.total_cmp(&b.1.leads[l].rpss))
            else {
                continue;
            };
            let a = &mme_sys.regional[r][l].rpss_resampled;
            let b = &systems[k].regional[r][l].rpss_resampled;
            let pairs: Vec<bool> = a
                .iter()
                .zip(b)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| x > y)
                .collect();
            comparison.push(Comparison {
                lead: lead.lead.clone(),
                best_model: best.model.clone(),
                best_model_rpss: best.leads[l].rpss,
                mme_rpss: lead.rpss,
                mme_minus_best: lead.rpss - best.leads[l].rpss,
                mme_better_in_resamples: (!pairs.is_empty())
                    .then(|| pairs.iter().filter(|&&x| x).count() as f64 / pairs.len() as f64),
            });
        }
    }
    RegionSummary {
        region: region.name.clone(),
        bbox: [
            region.bbox.west,
            region.bbox.east,
            region.bbox.south,
            region.bbox.north,
        ],
        countries: region.countries.iter().map(|c| c.name.clone()).collect(),
        cells,
        models,
        mme_against_best_model: comparison,
    }
}
