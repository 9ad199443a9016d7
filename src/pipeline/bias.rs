//! The bias-correction job (`s2s bias-correct`): one model's hindcast (cross-validated) and
//! forecast against observations, per cell, lead and start month (or a window of start days),
//! with the methods of [`crate::bias`] (mean and variance scaling, EQM, QDM); the corrected
//! cubes are written as CF-NetCDF named `<file stem>.<var>.<method>.nc`.

use std::path::{Path, PathBuf};

use super::{align_or_fail, policy, RunOptions};
use crate::bias::{
    correct, BiasCorrector, BiasParams, CrossValidation, Grouping, Kind, MeanScaling,
    QuantileDeltaMapping, QuantileMapping, VarianceScaling,
};
use crate::cube::CubeKind;
use crate::error::{Error, Result};
use crate::io::{read_var, write_cube, ReadOptions};
use crate::progress::Progress;

/// A correction method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Mean scaling: multiplicative for precipitation, additive otherwise.
    Scaling,
    /// Variance scaling (mean and standard deviation), for temperature.
    Variance,
    /// Empirical quantile mapping.
    Eqm,
    /// Quantile delta mapping (keeps each forecast quantile's change).
    Qdm,
}

impl Method {
    /// The name in file names: `scaling`, `variance`, `eqm`, `qdm`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Scaling => "scaling",
            Method::Variance => "variance",
            Method::Eqm => "eqm",
            Method::Qdm => "qdm",
        }
    }
}

/// A correction to run.
#[derive(Debug, Clone)]
pub struct BiasPlan {
    /// The method.
    pub method: Method,
    /// Variable: `pr` or `tas` (found in each file by its CF metadata), or a name.
    pub variable: String,
    /// Hindcast file of the model.
    pub hindcast: PathBuf,
    /// Observations on the same grid (or at the same stations).
    pub obs: PathBuf,
    /// Forecast file of the model.
    pub forecast: Option<PathBuf>,
    /// Cross-validation of the corrected hindcast.
    pub cv: CrossValidation,
    /// EQM: number of quantiles (`None`: every training value).
    pub quantiles: Option<usize>,
    /// Wet-day threshold, mm/day (`None`: [`policy::wet_threshold_for`] the hindcast's leads).
    pub wet_threshold: Option<f64>,
    /// Train on start dates within ±N days of each target's day of year instead of the same
    /// start month.
    pub window_days: Option<u32>,
    /// Only these years of hindcast and observations.
    pub years: Option<(i32, i32)>,
    /// Units of the observations when their file has none or wrong ones.
    /// The season each value of a yearly-stamped observation file covers (`--obs-season`).
    pub obs_season: Option<crate::calendar::Season>,
    pub obs_units: Option<String>,
    /// Correct and write only the forecast (the hindcast is still read to train on).
    pub forecast_only: bool,
    /// Output folder.
    pub out: PathBuf,
    /// `history` and compression.
    pub options: RunOptions,
}

/// What [`bias_correct`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BiasReport {
    /// The corrector in words, its cross-validation and the data's units.
    pub method: String,
    pub cross_validation: String,
    pub units: String,
    /// Files written: the corrected hindcast (unless forecast only), then the forecast.
    pub written: Vec<PathBuf>,
    /// Targets left missing: too few observations to train on.
    pub untrained: usize,
}

/// Cross-validation by name: `loyo` (leave one year out), `none`, or `leave-K`.
pub fn parse_cross_validation(text: &str) -> Result<CrossValidation> {
    Ok(match text {
        "loyo" => policy::HINDCAST_CROSS_VALIDATION,
        "none" => CrossValidation::None,
        t => match t.strip_prefix("leave-").and_then(|k| k.parse::<u32>().ok()) {
            Some(k) if k >= 1 => CrossValidation::LeaveOut(k),
            _ => {
                return Err(Error::invalid(
                    format!("--cv '{t}'"),
                    "use loyo, none or leave-K (e.g. leave-3)",
                ))
            }
        },
    })
}

/// Runs the correction of `args`.
pub fn bias_correct(args: &BiasPlan, progress: &dyn Progress) -> Result<BiasReport> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&args.out, || bias_correct_staged(args, progress))
}

fn bias_correct_staged(args: &BiasPlan, progress: &dyn Progress) -> Result<BiasReport> {
    let with_years = ReadOptions {
        years: args.years,
        ..Default::default()
    };
    let hindcast = read_var(&args.hindcast, Some(&args.variable), with_years.clone())?;
    policy::check_hindcast_years(std::slice::from_ref(&hindcast))?;
    // Leaving out as many years as there are leaves nothing to train on: every target would
    // come out missing. Refused before any work.
    if let CrossValidation::LeaveOut(k) = args.cv {
        let years: std::collections::BTreeSet<i32> =
            hindcast.coords.init.iter().map(|d| d.year).collect();
        if years.len() < k as usize + 2 {
            return Err(Error::invalid(
                "--cv",
                format!(
                    "leave-{k} leaves {} of the {} hindcast years of {} to train on; at least 2 are needed: use a smaller K (loyo = leave-1)",
                    years.len().saturating_sub(k as usize),
                    years.len(),
                    args.hindcast.display()
                ),
            ));
        }
    }
    let obs = read_var(
        &args.obs,
        Some(&args.variable),
        ReadOptions {
            assume_units: args.obs_units.clone(),
            season: args.obs_season,
            ..with_years
        },
    )?;
    let mut forecast = args
        .forecast
        .as_deref()
        .map(|f| read_var(f, Some(&args.variable), ReadOptions::default()))
        .transpose()?;
    // Cells are paired by position only once the grids are known to be the same (or the same
    // points in another longitude convention, rotated here).
    let mut obs = obs;
    super::align_grid(&mut obs, &args.obs, &hindcast)?;
    if let (Some(f), Some(path)) = (forecast.as_mut(), args.forecast.as_deref()) {
        super::align_grid(f, path, &hindcast)?;
    }
    // Observations either as a series (aligned here to the targets) or already on the
    // hindcast's (init, lead) targets with one member.
    let aligned = if obs.meta.kind == CubeKind::Observed {
        let (aligned, missing) = align_or_fail(&obs, &args.obs, &hindcast)?;
        if missing > 0 {
            progress.note(&format!("{missing} of {} targets have no (complete) observation and are not used for training", aligned.n_init() * aligned.n_lead()));
        }
        aligned
    } else if obs.n_member() == 1
        && obs.coords.init == hindcast.coords.init
        && obs.coords.lead == hindcast.coords.lead
    {
        obs
    } else {
        return Err(Error::Input {
            path: args.obs.clone(),
            reason: format!(
                "observations with start dates and leads must have one member and the hindcast's start dates and leads ({} starts, {} leads); give a plain time series instead",
                hindcast.n_init(),
                hindcast.n_lead()
            ),
        });
    };
    let kind = policy::correction_kind(hindcast.meta.quantity);
    let wet = args
        .wet_threshold
        .unwrap_or_else(|| policy::wet_threshold_for(&hindcast.coords.lead));
    let corrector: Box<dyn BiasCorrector> = match args.method {
        Method::Scaling => Box::new(MeanScaling { kind }),
        Method::Variance if kind == Kind::Multiplicative => {
            return Err(Error::invalid(
                "--method variance",
                "variance scaling is for temperature-like variables; use scaling, eqm or qdm for precipitation",
            ))
        }
        Method::Variance => Box::new(VarianceScaling),
        Method::Eqm => Box::new(QuantileMapping {
            quantiles: args.quantiles,
            kind,
        }),
        Method::Qdm if hindcast.n_member() < 3 => {
            return Err(Error::invalid(
                "--method qdm",
                format!(
                    "qdm ranks each value within its forecast ensemble; {} has {} member(s) — use eqm",
                    args.hindcast.display(),
                    hindcast.n_member()
                ),
            ))
        }
        Method::Qdm => Box::new(QuantileDeltaMapping { kind, trace: wet }),
    };
    let params = BiasParams {
        cv: args.cv,
        wet_threshold: wet,
        grouping: args
            .window_days
            .map_or(Grouping::SameStartMonth, Grouping::WindowDays),
        correct_hindcast: !args.forecast_only,
        ..Default::default()
    };
    let out = correct(
        corrector.as_ref(),
        &hindcast,
        &aligned,
        forecast.as_ref(),
        &params,
    )?;
    super::create_dir(&args.out)?;
    let method = args.method.name();
    let wopts = args.options.write_options();
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut written = Vec::new();
    if let Some(hc) = &out.hindcast {
        let p = args.out.join(format!(
            "{}.{}.{method}.nc",
            stem(&args.hindcast),
            args.variable
        ));
        write_cube(&p, hc, &wopts)?;
        written.push(p);
    }
    if let (Some(f), Some(fc)) = (&args.forecast, &out.forecast) {
        let p = args
            .out
            .join(format!("{}.{}.{method}.nc", stem(f), args.variable));
        write_cube(&p, fc, &wopts)?;
        written.push(p);
    }
    Ok(BiasReport {
        method: corrector.describe(),
        cross_validation: params.cv.describe(),
        units: hindcast.meta.units.clone(),
        written,
        untrained: out.untrained,
    })
}
