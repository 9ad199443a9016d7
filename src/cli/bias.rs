//! `s2s bias-correct`: one model's hindcast (cross-validated) and forecast against observations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use s2s_ensemble::bias::{
    correct, BiasCorrector, BiasParams, CrossValidation, Grouping, Kind, MeanScaling,
    QuantileDeltaMapping, QuantileMapping, VarianceScaling,
};
use s2s_ensemble::cube::CubeKind;
use s2s_ensemble::io::{write_cube, ReadOptions};

use s2s_ensemble::io::read_var;
use s2s_ensemble::pipeline::{align_or_fail, policy};

use super::{parse_years, Globals};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum MethodArg {
    /// Mean scaling: multiplicative for precipitation, additive otherwise.
    Scaling,
    /// Variance scaling (mean and standard deviation), for temperature.
    Variance,
    /// Empirical quantile mapping.
    Eqm,
    /// Quantile delta mapping (keeps each forecast quantile's change).
    Qdm,
}

#[derive(Debug, Args)]
pub struct BiasArgs {
    /// Method.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// Variable: `pr` or `tas` (found in each file by its CF metadata), or a variable name.
    #[arg(long = "var", value_name = "VAR")]
    variable: String,
    /// Hindcast file of the model.
    #[arg(long, value_name = "FILE")]
    hindcast: PathBuf,
    /// Observations on the same grid (or at the same stations).
    #[arg(long, value_name = "FILE")]
    obs: PathBuf,
    /// Forecast file of the model (optional).
    #[arg(long, value_name = "FILE")]
    forecast: Option<PathBuf>,
    /// Cross-validation of the hindcast: `loyo` (leave one year out), `none`, or `leave-K`
    /// (a block of K years around each year).
    #[arg(long, default_value = "loyo", value_name = "CV")]
    cv: String,
    /// EQM: number of quantiles (default: every training value).
    #[arg(long, value_name = "N")]
    quantiles: Option<usize>,
    /// Wet-day threshold in mm/day (default 0.1 for daily data, 0.01 for monthly means).
    #[arg(long, value_name = "MM_PER_DAY")]
    wet_threshold: Option<f64>,
    /// Train on start dates within ±N days of each target's day of year (subseasonal),
    /// instead of the same start month.
    #[arg(long, value_name = "DAYS")]
    window_days: Option<u32>,
    /// Only these years of hindcast and observations, `FIRST-LAST`.
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
    /// Units of the observations when their file has none or wrong ones.
    #[arg(long, value_name = "UNITS")]
    obs_units: Option<String>,
    /// Correct and write only the forecast (the hindcast is still read to train on): an
    /// operational run whose cross-validated hindcast was made before.
    #[arg(long, requires = "forecast")]
    forecast_only: bool,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn parse_cv(text: &str) -> anyhow::Result<CrossValidation> {
    Ok(match text {
        "loyo" => CrossValidation::LeaveOut(1),
        "none" => CrossValidation::None,
        t => match t.strip_prefix("leave-").and_then(|k| k.parse::<u32>().ok()) {
            Some(k) if k >= 1 => CrossValidation::LeaveOut(k),
            _ => bail!("--cv '{t}': use loyo, none or leave-K (e.g. leave-3)"),
        },
    })
}

pub fn run(args: &BiasArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let years = args.years.as_deref().map(parse_years).transpose()?;
    let cv = parse_cv(&args.cv)?;
    let with_years = ReadOptions {
        years,
        ..Default::default()
    };
    let hindcast = read_var(&args.hindcast, Some(&args.variable), with_years.clone())?;
    let obs = read_var(
        &args.obs,
        Some(&args.variable),
        ReadOptions {
            assume_units: args.obs_units.clone(),
            ..with_years
        },
    )?;
    let forecast = args
        .forecast
        .as_deref()
        .map(|f| read_var(f, Some(&args.variable), ReadOptions::default()))
        .transpose()?;
    let same_grid = hindcast.coords.spatial.shape() == obs.coords.spatial.shape();
    if !same_grid {
        bail!(
            "{} and {} are on different grids ({} vs {}); regrid first, e.g. s2s regrid --method conservative --like {} {} OUT",
            args.hindcast.display(),
            args.obs.display(),
            hindcast.coords.spatial.describe(),
            obs.coords.spatial.describe(),
            args.obs.display(),
            args.hindcast.display()
        );
    }
    // Observations either as a series (aligned here to the targets) or already on the
    // hindcast's (init, lead) targets with one member.
    let aligned = if obs.meta.kind == CubeKind::Observed {
        let (aligned, missing) = align_or_fail(&obs, &args.obs, &hindcast)?;
        if missing > 0 && !g.quiet {
            eprintln!("note: {missing} of {} targets have no (complete) observation and are not used for training", aligned.n_init() * aligned.n_lead());
        }
        aligned
    } else if obs.n_member() == 1
        && obs.coords.init == hindcast.coords.init
        && obs.coords.lead == hindcast.coords.lead
    {
        obs
    } else {
        bail!(
            "{}: observations with start dates and leads must have one member and the hindcast's start dates and leads ({} starts, {} leads); give a plain time series instead",
            args.obs.display(),
            hindcast.n_init(),
            hindcast.n_lead()
        );
    };
    let kind = policy::correction_kind(hindcast.meta.quantity);
    let wet = args
        .wet_threshold
        .unwrap_or_else(|| policy::wet_threshold_for(&hindcast.coords.lead));
    let corrector: Box<dyn BiasCorrector> = match args.method {
        MethodArg::Scaling => Box::new(MeanScaling { kind }),
        MethodArg::Variance if kind == Kind::Multiplicative => bail!("--method variance is for temperature-like variables; use scaling, eqm or qdm for precipitation"),
        MethodArg::Variance => Box::new(VarianceScaling),
        MethodArg::Eqm => Box::new(QuantileMapping { quantiles: args.quantiles, kind }),
        MethodArg::Qdm if hindcast.n_member() < 3 => bail!("--method qdm ranks each value within its forecast ensemble; {} has {} member(s) — use eqm", args.hindcast.display(), hindcast.n_member()),
        MethodArg::Qdm => Box::new(QuantileDeltaMapping { kind, trace: wet }),
    };
    let params = BiasParams {
        cv,
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
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let method = format!("{:?}", args.method).to_lowercase();
    let wopts = g.write_options();
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
    if !g.quiet {
        eprintln!(
            "{} ({}, {}):",
            corrector.describe(),
            params.cv.describe(),
            hindcast.meta.units
        );
        for p in &written {
            eprintln!("  {}", p.display());
        }
        if out.untrained > 0 {
            eprintln!(
                "  {} targets left missing: too few observations to train on",
                out.untrained
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
