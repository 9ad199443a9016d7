//! `s2s seaice extent|outlook`: flags → [`ExtentPlan`] / [`SeaIceOutlookPlan`] → the extent
//! table (CSV) and the extent outlook of a target month.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use s2s_ensemble::io::seaice::extent_table_csv;
use s2s_ensemble::pipeline::seaice::{extent_table, seaice_outlook, ExtentPlan, SeaIceOutlookPlan};
use s2s_ensemble::seaice::Adjustment;

use super::Globals;

#[derive(Debug, Subcommand)]
pub enum SeaIceCommand {
    /// Extent and area (10⁶ km²) per hemisphere of every time step and member of
    /// sea-ice concentration files (`siconc`, `sic`, `aice`; % or fraction; any grid, cell areas
    /// from `cell_measures`/`areacello`, cell vertices or a regular grid), as CSV
    /// `time,hemisphere,extent,area` (`,member,init` for forecasts).
    #[command(
        after_help = "Examples:\n  s2s seaice extent siconc_SImon_CanESM5_2020.nc --out extent.csv\n  s2s seaice extent --cell-area areacello_Ofx_CanESM5.nc hindcast_*.nc --out hindcast_extent.csv"
    )]
    Extent(ExtentArgs),
    /// Outlook of one month's extent (e.g. the September minimum): each model's members adjusted
    /// to the observed extent (mean and trend over the hindcast years), the multi-model
    /// distribution, tercile and record-low probabilities, cross-validated hindcast skill
    /// against the observed trend; seaice_outlook.json, seaice_hindcast.csv, seaice_outlook.md.
    #[command(
        after_help = "Examples:\n  s2s seaice outlook --hindcast A_hindcast.csv,B_hindcast.csv --forecast A_2021.csv,B_2021.csv --observed N_09_extent_v3.0.csv --target 2021-09 --out seaice/\n  s2s seaice outlook --hindcast A_hindcast.csv --forecast siconc_SImon_CanESM5_2020.nc --observed N_seaice_extent_daily_v3.0.csv --target 2020-09 --adjust mean --out seaice/"
    )]
    Outlook(OutlookArgs),
}

#[derive(Debug, Args)]
pub struct ExtentArgs {
    /// Concentration variable (default: the file's only data variable).
    #[arg(long = "var", value_name = "VAR")]
    variable: Option<String>,
    /// File with the cell areas (areacello) when the concentration's file has none.
    #[arg(long, value_name = "FILE")]
    cell_area: Option<PathBuf>,
    /// Concentration from which a cell counts as ice, percent.
    #[arg(long, default_value_t = 15.0, value_name = "PERCENT")]
    threshold: f64,
    /// Output CSV.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Concentration files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AdjustArg {
    /// Mean error and trend difference removed.
    MeanTrend,
    /// Mean error removed.
    Mean,
    /// Raw members.
    None,
}

#[derive(Debug, Args)]
pub struct OutlookArgs {
    /// Hindcast of each model: an extent table (`s2s seaice extent`, .csv) or concentration
    /// files; models separated by commas, one model's files joined with '+'.
    #[arg(long, value_name = "FILES", required = true)]
    hindcast: String,
    /// Forecast of each model, in the order of --hindcast.
    #[arg(long, value_name = "FILES", required = true)]
    forecast: String,
    /// Observed extents: NSIDC Sea Ice Index monthly (N_MM_extent_v3.0.csv) or daily CSV, or
    /// an extent table.
    #[arg(long, value_name = "FILE")]
    observed: PathBuf,
    /// Month forecast, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    target: String,
    /// Hemisphere.
    #[arg(long, default_value = "north", value_parser = ["north", "south"])]
    hemisphere: String,
    /// How members are adjusted to the observations.
    #[arg(long, value_enum, default_value = "mean-trend")]
    adjust: AdjustArg,
    /// Model names, in the order of --hindcast (default: the hindcast file names).
    #[arg(long, value_name = "NAMES")]
    models: Option<String>,
    /// Cell areas for concentration inputs without their own.
    #[arg(long, value_name = "FILE")]
    cell_area: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(cmd: &SeaIceCommand, g: &Globals) -> anyhow::Result<ExitCode> {
    match cmd {
        SeaIceCommand::Extent(a) => {
            if !(0.0..=100.0).contains(&a.threshold) {
                bail!("--threshold {} is not a percentage (0–100)", a.threshold);
            }
            let rows = extent_table(&ExtentPlan {
                inputs: a.inputs.clone(),
                variable: a.variable.clone(),
                cell_area: a.cell_area.clone(),
                threshold: a.threshold / 100.0,
            })?;
            let path = s2s_ensemble::io::write_text_atomic(&a.out, &extent_table_csv(&rows))?;
            if !g.quiet {
                println!("{} rows written to {}", rows.len(), path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        SeaIceCommand::Outlook(a) => {
            let (y, m) = a
                .target
                .split_once('-')
                .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|(_, m)| (1..=12).contains(m))
                .with_context(|| format!("--target '{}' is not YYYY-MM", a.target))?;
            let report = seaice_outlook(&SeaIceOutlookPlan {
                models: super::model_file_lists(&a.hindcast, &a.forecast, a.models.as_deref())?,
                observed: a.observed.clone(),
                target: (y, m),
                hemisphere: a.hemisphere.clone(),
                adjustment: match a.adjust {
                    AdjustArg::MeanTrend => Adjustment::MeanAndTrend,
                    AdjustArg::Mean => Adjustment::Mean,
                    AdjustArg::None => Adjustment::None,
                },
                cell_area: a.cell_area.clone(),
                out: a.out.clone(),
            })?;
            if g.print_json(&report)? {
                return Ok(ExitCode::SUCCESS);
            }
            if !g.quiet {
                let o = &report.outlook;
                let p = &o.mme_probabilities;
                println!(
                    "{}-{m:02} extent: median {:.2} (80 % range {:.2}–{:.2}) million km²; below/near/above normal {:.0}/{:.0}/{:.0} %, record low {:.0} %",
                    o.target_year,
                    o.mme_percentiles[1],
                    o.mme_percentiles[0],
                    o.mme_percentiles[2],
                    100.0 * p.below,
                    100.0 * p.near,
                    100.0 * p.above,
                    100.0 * p.record_low
                );
                for f in &report.files {
                    println!("wrote {}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
