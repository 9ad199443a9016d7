//! Command-line interface: argument parsing (clap), progress bars (indicatif), exit codes.
//!
//! Every subcommand prints a one-line error naming the file, variable and problem on bad input
//! and exits non-zero; a broken pipe on stdout ends quietly with success.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bias;
mod combine;
mod cyclone_outlook;
mod cyclones;
mod emergency;
mod gpi;
mod inspect;
mod outlook;
mod progress;
mod regrid;
mod spi;
mod synth;
mod verify;

use std::process::ExitCode;

use std::path::Path;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::units::Quantity;
use s2s_ensemble::Cube;

/// s2s: subseasonal-to-seasonal multi-model ensemble forecasts from climate-model NetCDF.
#[derive(Debug, Parser)]
#[command(name = "s2s", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Worker threads for parallel work (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// No progress bars or informational messages.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Compression of NetCDF outputs: deflate level 0 (none, fastest) to 9 (default 1).
    #[arg(long, global = true, value_name = "LEVEL", default_value_t = 1, value_parser = clap::value_parser!(i32).range(0..=9))]
    deflate: i32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe NetCDF files: dimensions found and how, variables, units, calendar, dates,
    /// leads, grid, missing values.
    #[command(
        after_help = "Examples:\n  s2s inspect hindcast_ECMWF.nc\n  s2s inspect --var prec NMME/*.nc\n  s2s inspect --assume-units mm/month observations.nc\n  s2s inspect --json obs.nc > obs.json"
    )]
    Inspect(inspect::InspectArgs),
    /// Regrid every data variable of a file onto a regular lon/lat grid (bilinear or first-order
    /// conservative, as CDO remapbil/remapcon).
    #[command(
        after_help = "Examples:\n  s2s regrid --method conservative --grid 1.5 --bbox 40,150,-15,55 model_1deg.nc model_asia_1p5.nc\n  s2s regrid --method bilinear --like observations.nc hindcast.nc hindcast_on_obs_grid.nc"
    )]
    Regrid(regrid::RegridArgs),
    /// Write a deterministic synthetic workload: per model a hindcast and a forecast file (each
    /// model in another file convention: C3S-like, NMME-like with 360_day, plain CF), and
    /// observations.
    #[command(
        after_help = "Examples:\n  s2s synth --preset small --out /tmp/small\n  s2s synth --preset medium --cdo --out work/medium\n  s2s synth --preset small --weekly --out /tmp/weekly\n  s2s synth --storms --step-hours 6 --days 30 --out /tmp/storms"
    )]
    Synth(synth::SynthArgs),
    /// Bias-correct one model against observations: the hindcast cross-validated (leave one
    /// year out by default) and the forecast, per cell, lead and start month.
    #[command(
        name = "bias-correct",
        after_help = "Examples:\n  s2s bias-correct --method eqm --var pr --hindcast hindcast_ALPHA.nc --obs obs.nc --forecast forecast_ALPHA.nc --out bc/\n  s2s bias-correct --method qdm --var tas --hindcast hindcast_BRAVO.nc --obs obs.nc --forecast forecast_BRAVO.nc --out bc/\n  s2s bias-correct --method eqm --var pr --years 1950-2013 --window-days 15 --hindcast CanESM2.nc --obs ahccd.nc --out bc/"
    )]
    BiasCorrect(bias::BiasArgs),
    /// Combine several models into a multi-model ensemble: category probabilities (terciles,
    /// extremes), mean, anomalies, percentiles, spread, most likely and dominant category — for
    /// the forecast and, cross-validated, the hindcast. Reads one lead at a time.
    #[command(
        after_help = "Examples:\n  s2s combine --hindcast bc/hindcast_A.pr.eqm.nc,bc/hindcast_B.pr.eqm.nc --forecast bc/forecast_A.pr.eqm.nc,bc/forecast_B.pr.eqm.nc --var pr --out mme/\n  s2s combine --weights pmme --hindcast CCSM4_HCST.nc,CANSIPSV2_HCST.nc --forecast CCSM4_FCST.nc,CANSIPSV2_FCST.nc --obs observations.nc --obs-units mm/month --out mme/\n  s2s combine --weights skill --skill-score rpss --edges obs --hindcast A.nc,B.nc,C.nc --forecast FA.nc,FB.nc,FC.nc --obs obs.nc --out mme/"
    )]
    Combine(combine::CombineArgs),
    /// Cross-validated skill of each model's hindcast and of the multi-model ensemble: ACC,
    /// RMSE, bias, MSSS, RPS(S), fair CRPS(S), Brier and ROC area per category; maps (NetCDF)
    /// and cos(latitude)-weighted regional means (JSON).
    #[command(
        after_help = "Examples:\n  s2s verify --hindcast bc/hindcast_A.pr.eqm.nc,bc/hindcast_B.pr.eqm.nc --obs obs.nc --var pr --out skill/\n  s2s verify --probabilities pmme --hindcast CCSM4_HCST.nc,CANSIPSV2_HCST.nc --obs observations.nc --obs-units mm/month --regions 'india=68,98,6,36' --out skill/"
    )]
    Verify(verify::VerifyArgs),
    /// Run the outlook pipeline from a TOML configuration: bias correction (cross-validated),
    /// multi-model combination, verification of the MME, maps and the regional bulletin
    /// (Markdown, JSON, CF-NetCDF).
    #[command(
        after_help = "Example:\n  s2s outlook --config data/demo/outlook.toml --out out/demo"
    )]
    Outlook(outlook::OutlookArgs),
    /// Standardized Precipitation Index of an observed monthly (or daily) precipitation record:
    /// k-month sums, a zero-inflated gamma per calendar month fitted over the calibration
    /// years, SPI = Φ⁻¹(H) clipped to ±3.09.
    #[command(
        after_help = "Examples:\n  s2s spi --scale 3 chirps_monthly.nc spi3.nc\n  s2s spi --scale 12 --calibration 1981-2010 --fit mle obs_pr.nc spi12.nc\n  s2s spi --scale 1 --calibration 1950-1980 --var pr CanESM2_daily.nc spi1.nc"
    )]
    Spi(spi::SpiArgs),
    /// Tropical cyclones on daily or 6-hourly model fields: candidate centres (detect) and
    /// tracks (track), with the TempestExtremes criteria as defaults.
    #[command(subcommand)]
    Cyclones(cyclones::CyclonesCommand),
    /// Emergency forecast at a point at sea: ensemble drift of a ship or oil in each member's
    /// currents and winds (stranding on coasts, position probabilities, coast table) and, with
    /// cyclone fields, the probability that a tropical cyclone passes near the site.
    #[command(
        after_help = "Examples:\n  s2s emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 30 --currents currents.nc --out em/\n  s2s emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 14 --currents cmems.nc --wind era5_daily.nc --cyclone-fields storms.nc --windage 0.02 --particles 5000 --out em/\n  s2s emergency --config outlook.toml --out em/"
    )]
    Emergency(emergency::EmergencyCli),
}

/// The variable to read from the model and observation files and the models' names: the
/// options `combine` and `verify` share.
#[derive(Debug, clap::Args)]
pub(crate) struct VariableArgs {
    /// Variable: `pr` or `tas` (found by CF metadata), a variable name, or nothing for each
    /// file's only data variable.
    #[arg(long = "var", value_name = "VAR")]
    pub variable: Option<String>,
    /// Variable of the observations when it differs from --var.
    #[arg(long, value_name = "VAR")]
    pub obs_var: Option<String>,
    /// Units of the observations when their file has none or wrong ones.
    #[arg(long, value_name = "UNITS")]
    pub obs_units: Option<String>,
    /// Model names, comma-separated (default: the hindcast file names).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub models: Vec<String>,
}

impl VariableArgs {
    /// The observations' variable: `--obs-var`, else `--var`.
    pub fn obs_variable(&self) -> Option<&str> {
        self.obs_var.as_deref().or(self.variable.as_deref())
    }
}

/// Global settings the subcommands share.
pub struct Globals {
    /// Suppress progress and informational output.
    pub quiet: bool,
    /// Deflate level of NetCDF outputs.
    pub deflate: i32,
}

impl Globals {
    /// Output options: the command line for `history`, the deflate level.
    pub fn write_options(&self) -> s2s_ensemble::io::WriteOptions {
        let cmd: Vec<String> = std::env::args().collect();
        s2s_ensemble::io::WriteOptions {
            history: Some(cmd.join(" ")),
            deflate: Some(self.deflate),
            ..Default::default()
        }
    }
}

/// Parses the command line and runs the subcommand; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            eprintln!("error: --threads {n}: {e}");
            return ExitCode::from(2);
        }
    }
    let globals = Globals {
        quiet: cli.quiet,
        deflate: cli.deflate,
    };
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args, &globals),
        Command::Regrid(args) => regrid::run(&args, &globals),
        Command::Synth(args) => synth::run(&args, &globals),
        Command::BiasCorrect(args) => bias::run(&args, &globals),
        Command::Combine(args) => combine::run(&args, &globals),
        Command::Verify(args) => verify::run(&args, &globals),
        Command::Outlook(args) => outlook::run(&args, &globals),
        Command::Spi(args) => spi::run(&args, &globals),
        Command::Cyclones(cmd) => cyclones::run(&cmd, &globals),
        Command::Emergency(args) => emergency::run(&args, &globals),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn parse_years(text: &str) -> anyhow::Result<(i32, i32)> {
    let (a, b) = text
        .split_once('-')
        .with_context(|| format!("--years '{text}': expected FIRST-LAST, e.g. 1993-2016"))?;
    let (a, b): (i32, i32) = (a.trim().parse()?, b.trim().parse()?);
    if a > b {
        bail!("--years '{text}': the first year is after the last");
    }
    Ok((a, b))
}

/// The name of the variable meant by `--var` in a file: an exact name, or `pr` / `tas` found by
/// its quantity (CF metadata and units).
pub(crate) fn resolve_var(path: &Path, var: &str) -> anyhow::Result<String> {
    let vars = s2s_ensemble::io::inspect::variable_quantities(path)?;
    let names: Vec<&str> = vars.iter().map(|v| v.0.as_str()).collect();
    if names.contains(&var) {
        return Ok(var.to_string());
    }
    let wanted = match var {
        "pr" => Quantity::Precipitation,
        "tas" => Quantity::Temperature,
        _ => bail!(
            "{}: variable '{var}' not found; the file has: {}",
            path.display(),
            names.join(", ")
        ),
    };
    let found: Vec<&str> = vars
        .iter()
        .filter(|v| v.1 == wanted)
        .map(|v| v.0.as_str())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => bail!(
            "{}: no {var} variable (by name or CF metadata) among {}",
            path.display(),
            names.join(", ")
        ),
        many => bail!(
            "{}: several {var} variables ({}); give the name with --var",
            path.display(),
            many.join(", ")
        ),
    }
}

/// Reads the variable meant by `--var` from a file (see [`resolve_var`]; `pr` and `tas` are then
/// the cube's variable name; `None`: the file's only data variable), with the other read
/// options of `opts`.
pub(crate) fn read_var(path: &Path, var: Option<&str>, opts: ReadOptions) -> anyhow::Result<Cube> {
    let Some(var) = var else {
        return Ok(read_cube(path, &opts)?);
    };
    let name = resolve_var(path, var)?;
    let mut cube = read_cube(
        path,
        &ReadOptions {
            variable: Some(name),
            ..opts
        },
    )?;
    if matches!(var, "pr" | "tas") {
        cube.meta.variable = var.to_string();
    }
    Ok(cube)
}

/// Country polygons: a GeoJSON file, or the bundled Natural Earth 1:110m countries.
pub(crate) fn load_countries(path: Option<&Path>) -> anyhow::Result<s2s_ensemble::grid::Countries> {
    match path {
        None => Ok(s2s_ensemble::grid::Countries::natural_earth_110m()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read the country polygons", p.display()))?;
            Ok(s2s_ensemble::grid::Countries::from_geojson(
                &text,
                &p.display().to_string(),
            )?)
        }
    }
}

/// Model names: the ones given (one per file), or the files' names without extension.
pub(crate) fn model_names(
    files: &[std::path::PathBuf],
    given: &[String],
) -> anyhow::Result<Vec<String>> {
    if given.is_empty() {
        return Ok(files
            .iter()
            .map(|p| {
                p.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect());
    }
    if given.len() != files.len() {
        bail!(
            "--models names {} models but {} hindcasts were given",
            given.len(),
            files.len()
        );
    }
    Ok(given.to_vec())
}

/// Restricts hindcasts of different periods to the years they all have: `Some((first, last))`
/// when any was cut, `None` when they already agree; an error when they share no year.
pub(crate) fn common_years(hindcasts: &mut Vec<Cube>) -> anyhow::Result<Option<(i32, i32)>> {
    let first = hindcasts
        .iter()
        .map(|c| c.init_years()[0])
        .max()
        .unwrap_or(0);
    let last = hindcasts
        .iter()
        .map(|c| *c.init_years().last().unwrap_or(&0))
        .min()
        .unwrap_or(0);
    if first > last {
        let names: Vec<&str> = hindcasts.iter().map(|c| c.meta.model.as_str()).collect();
        bail!("the hindcasts share no year ({})", names.join(", "));
    }
    let differ = hindcasts.iter().any(|c| {
        let y = c.init_years();
        y.first() != Some(&first) || y.last() != Some(&last)
    });
    if !differ {
        return Ok(None);
    }
    *hindcasts = hindcasts
        .iter()
        .map(|c| c.select_init_years(first, last))
        .collect::<Result<_, _>>()?;
    Ok(Some((first, last)))
}

/// An observed series `(time, lat, lon)` read as [`read_var`] does; an error for anything with
/// start dates and leads.
pub(crate) fn read_observed_series(
    path: &Path,
    var: Option<&str>,
    years: Option<(i32, i32)>,
    units: Option<String>,
) -> anyhow::Result<Cube> {
    let opts = ReadOptions {
        years,
        assume_units: units,
        ..Default::default()
    };
    let obs = read_var(path, var, opts)?;
    if obs.meta.kind != s2s_ensemble::cube::CubeKind::Observed {
        bail!(
            "{}: give observations as a time series (time, lat, lon)",
            path.display()
        );
    }
    Ok(obs)
}

/// Observations on a hindcast's targets and the number of targets without one (see
/// [`s2s_ensemble::cube::align_observations`]); an error naming both files' dates when no
/// observation falls in any target.
pub(crate) fn align_or_fail(
    obs: &Cube,
    obs_path: &Path,
    hindcast: &Cube,
) -> anyhow::Result<(Cube, usize)> {
    let (aligned, missing) = s2s_ensemble::cube::align_observations(obs, hindcast)?;
    if missing == aligned.n_init() * aligned.n_lead() {
        let leads: Vec<String> = hindcast.coords.lead.iter().map(|l| l.label()).collect();
        bail!(
            "{}: no observation falls in any target period of {} ({}; start dates {} .. {})",
            obs_path.display(),
            hindcast.meta.model,
            leads.join(", "),
            hindcast.coords.init[0],
            hindcast.coords.init[hindcast.n_init() - 1]
        );
    }
    Ok((aligned, missing))
}

/// Peak resident memory of this process in MiB (Linux), if known.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
