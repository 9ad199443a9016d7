//! `s2s extremes spells|outlook`: flags → [`SpellsPlan`] / [`ExtremesOutlookPlan`] → the yearly
//! spell table (CSV) of a daily series, and the subseasonal extremes outlook.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use s2s_ensemble::cube::TargetPeriod;
use s2s_ensemble::extremes::outlook::{DEFAULT_RETURN_PERIOD, DEFAULT_SPELL_MIN_DAYS};
use s2s_ensemble::extremes::thresholds::ETCCDI_HALF_WINDOW_DAYS;
use s2s_ensemble::extremes::{SpellKind, M_CLIMATE_HALF_WINDOW_DAYS};
use s2s_ensemble::pipeline::extremes::{
    extremes_outlook, spells_csv, spells_table, ExtremesOutlookPlan, SpellsPlan,
};
use s2s_ensemble::pipeline::parse_year_range;

use super::Globals;

/// ETCCDI's spell length of WSDI and CSDI.
const ETCCDI_SPELL_DAYS: usize = 6;

#[derive(Debug, Subcommand)]
pub enum ExtremesCommand {
    /// Yearly warm or cold spells of a daily series (stations or a grid) against the
    /// calendar-day percentile of a base period (ETCCDI, 5-day window): days beyond it
    /// (TX90p), days in spells of at least N days (WSDI/CSDI with N = 6), number of spells,
    /// longest run; with --ehf the Excess Heat Factor heat-wave days of a daily mean
    /// temperature. CSV `year,location,lat,lon,exceedance_days,spell_days,spell_count,longest_spell`.
    #[command(
        after_help = "Examples:\n  s2s extremes spells --base 1961-1990 --var tasmax ahccd_1950-2013.nc --out wsdi.csv\n  s2s extremes spells --kind cold --base 1981-2010 --min-days 3 tasmin.nc --out cold_spells.csv\n  s2s extremes spells --ehf --min-days 3 --base 1999-2020 --var t2m Observations_Germany.nc --out ehf.csv"
    )]
    Spells(SpellsArgs),
    /// Heat and cold waves, hot and cold days, heavy rain, EFI and SOT of a daily subseasonal
    /// forecast per target period against its model climate (hindcast starts within ±14
    /// days of the start, the forecast's year left out), verified on the hindcast (leave one
    /// year out) when observations are given; extremes_forecast.<var>.nc,
    /// extremes_outlook.json, extremes_outlook.md.
    #[command(
        after_help = "Examples:\n  s2s extremes outlook --hindcast 'hc/tas_*.nc' --forecast fc/tas_20210601.nc --out ext/\n  s2s extremes outlook --hindcast hc.nc --forecast fc.nc --obs obs_daily.nc --periods 'week 1,week 2,week 3,weeks 3-4' --out ext/"
    )]
    Outlook(OutlookArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    /// Days above the upper percentile.
    Warm,
    /// Days below the lower percentile.
    Cold,
}

#[derive(Debug, Args)]
pub struct SpellsArgs {
    /// Variable (default: the file's only data variable).
    #[arg(long = "var", value_name = "VAR")]
    variable: Option<String>,
    /// Base period of the thresholds, FIRST-LAST years.
    #[arg(long, value_name = "YEARS", default_value = "1961-1990")]
    base: String,
    /// Warm or cold spells.
    #[arg(long, value_enum, default_value = "warm")]
    kind: KindArg,
    /// Calendar-day percentile of the threshold (default 90 warm, 10 cold).
    #[arg(long, value_name = "PERCENT")]
    percentile: Option<f64>,
    /// Consecutive days of a spell.
    #[arg(long, default_value_t = ETCCDI_SPELL_DAYS, value_name = "DAYS")]
    min_days: usize,
    /// Days either side of a calendar day in its percentile's window.
    #[arg(long, default_value_t = ETCCDI_HALF_WINDOW_DAYS, value_name = "DAYS")]
    half_window: usize,
    /// Missing days a year may have before its values are left empty.
    #[arg(long, default_value_t = 0, value_name = "DAYS")]
    max_missing: usize,
    /// Also the Excess Heat Factor (Nairn & Fawcett 2015) of a daily mean temperature.
    #[arg(long)]
    ehf: bool,
    /// Output CSV.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Daily files (one series, or a set split in time).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OutlookArgs {
    /// Daily hindcast files (starts × members × daily leads), one model.
    #[arg(long, value_name = "FILES", required = true, num_args = 1..)]
    hindcast: Vec<PathBuf>,
    /// Daily forecast file(s) of the same model.
    #[arg(long, value_name = "FILES", required = true, num_args = 1..)]
    forecast: Vec<PathBuf>,
    /// Daily observations for the hindcast verification.
    #[arg(long = "obs", value_name = "FILES", num_args = 1..)]
    observed: Option<Vec<PathBuf>>,
    /// Variable (default: each file's only data variable).
    #[arg(long = "var", value_name = "VAR")]
    variable: Option<String>,
    /// Target periods, comma-separated.
    #[arg(long, default_value = "week 1,week 2,weeks 3-4")]
    periods: String,
    /// The forecast start, YYYY-MM-DD (default: the file's last).
    #[arg(long, value_name = "DATE", value_parser = super::parse_time)]
    start: Option<s2s_ensemble::calendar::CfDateTime>,
    /// Days either side of the start date whose hindcast starts make the model climate.
    #[arg(long, default_value_t = M_CLIMATE_HALF_WINDOW_DAYS, value_name = "DAYS")]
    window: u32,
    /// Consecutive hot (cold) days of a heat (cold) wave.
    #[arg(long, default_value_t = DEFAULT_SPELL_MIN_DAYS, value_name = "DAYS")]
    min_days: usize,
    /// Return period (in target periods) of the Rx1day/Rx5day levels.
    #[arg(long, default_value_t = DEFAULT_RETURN_PERIOD, value_name = "PERIODS")]
    return_period: f64,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(cmd: &ExtremesCommand, g: &Globals) -> anyhow::Result<ExitCode> {
    match cmd {
        ExtremesCommand::Spells(a) => {
            let kind = match a.kind {
                KindArg::Warm => SpellKind::Warm,
                KindArg::Cold => SpellKind::Cold,
            };
            let percentile = a.percentile.unwrap_or(match kind {
                SpellKind::Warm => 90.0,
                SpellKind::Cold => 10.0,
            });
            if !(0.0..=100.0).contains(&percentile) {
                bail!("--percentile {percentile} is not a percentage (0–100)");
            }
            if a.min_days == 0 {
                bail!("--min-days must be at least 1");
            }
            if a.ehf && !matches!(kind, SpellKind::Warm) {
                bail!("--ehf measures heat waves: use it with --kind warm");
            }
            let report = spells_table(&SpellsPlan {
                inputs: a.inputs.clone(),
                variable: a.variable.clone(),
                base: parse_year_range(&a.base, "--base")?,
                kind,
                percentile: percentile / 100.0,
                min_days: a.min_days,
                half_window: a.half_window,
                max_missing_days: a.max_missing,
                ehf: a.ehf,
            })?;
            let path = s2s_ensemble::io::write_text_atomic(&a.out, &spells_csv(&report))?;
            if !g.quiet {
                println!(
                    "{} rows ({} days of {} in {}) written to {}",
                    report.rows.len(),
                    report.days,
                    report.variable,
                    report.units,
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ExtremesCommand::Outlook(a) => {
            let periods = a
                .periods
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(TargetPeriod::parse)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("--periods '{}'", a.periods))?;
            if a.return_period <= 1.0 || !a.return_period.is_finite() {
                bail!(
                    "--return-period {} must be more than 1 period",
                    a.return_period
                );
            }
            if a.min_days == 0 {
                bail!("--min-days must be at least 1");
            }
            let report = extremes_outlook(&ExtremesOutlookPlan {
                hindcast: a.hindcast.clone(),
                forecast: a.forecast.clone(),
                observed: a.observed.clone(),
                variable: a.variable.clone(),
                periods,
                start: a.start,
                half_window_days: a.window,
                spell_min_days: a.min_days,
                return_period: a.return_period,
                out: a.out.clone(),
                run: g.run_options(),
            })?;
            if g.print_json(&report)? {
                return Ok(ExitCode::SUCCESS);
            }
            if !g.quiet {
                println!(
                    "{} from {}: model climate of {} starts ({} values a lead)",
                    report.variable, report.start, report.m_climate_starts, report.m_climate_size
                );
                for f in &report.files {
                    println!("wrote {}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
