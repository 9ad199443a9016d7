//! `s2s bias-correct`: flags → [`BiasPlan`] → one model's hindcast (cross-validated) and
//! forecast against observations ([`bias_correct`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use s2s_ensemble::pipeline::bias::{bias_correct_on, parse_cross_validation, BiasPlan, Method};

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
    /// The season each observed value covers when the file is stamped once a year (JJAS,
    /// OND, 6-9): amounts are converted over its days; a target of another season is an error.
    #[arg(long, value_name = "SEASON", value_parser = super::parse_season)]
    obs_season: Option<s2s_ensemble::calendar::Season>,
    /// Correct and write only the forecast (the hindcast is still read to train on): an
    /// operational run whose cross-validated hindcast was made before.
    #[arg(long, requires = "forecast")]
    forecast_only: bool,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: &BiasArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let plan = BiasPlan {
        method: match args.method {
            MethodArg::Scaling => Method::Scaling,
            MethodArg::Variance => Method::Variance,
            MethodArg::Eqm => Method::Eqm,
            MethodArg::Qdm => Method::Qdm,
        },
        variable: args.variable.clone(),
        hindcast: args.hindcast.clone(),
        obs: args.obs.clone(),
        forecast: args.forecast.clone(),
        cv: parse_cross_validation(&args.cv)?,
        quantiles: args.quantiles,
        wet_threshold: args.wet_threshold,
        window_days: args.window_days,
        years: args.years.as_deref().map(parse_years).transpose()?,
        obs_units: args.obs_units.clone(),
        obs_season: args.obs_season,
        forecast_only: args.forecast_only,
        out: args.out.clone(),
        options: g.run_options(),
    };
    // the report is rank 0's: the others have nothing to print
    let Some(report) = bias_correct_on(&plan, &g.bars(), g.ranks.as_ref())? else {
        return Ok(ExitCode::SUCCESS);
    };
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        // Results (what was made, where) to stdout; warnings on stderr.
        outln!(
            "{} ({}, {}):",
            report.method,
            report.cross_validation,
            report.units
        )?;
        for p in &report.written {
            outln!("  {}", p.display())?;
        }
        if report.untrained > 0 {
            errln!(
                "  {} targets left missing: too few observations to train on",
                report.untrained
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
