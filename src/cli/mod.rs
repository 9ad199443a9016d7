//! Command-line interface: argument parsing (clap), progress bars (indicatif), exit codes.
//!
//! Every subcommand prints a one-line error naming the file, variable and problem on bad input
//! and exits non-zero; a broken pipe on stdout ends quietly with success.

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `eprintln!` that ignores a closed or full stderr (diagnostics have nowhere else to go;
/// `eprintln!` would panic).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `println!` that returns the error of a closed or full stdout (for `?`) instead of
/// panicking: a closed pipe (`s2s verify … | head -1`) ends the run quietly with success, a
/// full disk is an error — ripgrep's rule.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err(anyhow::Error::from)
    }};
}

mod bias;
mod combine;
mod cyclones;
mod drivers;
mod emergency;
mod export;
mod extremes;
mod inspect;
mod logger;
mod outlook;
mod progress;
mod regrid;
mod seaice;
mod spi;
mod synth;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// s2s: subseasonal-to-seasonal multi-model ensemble forecasts from climate-model NetCDF.
#[derive(Debug, Parser)]
#[command(name = "s2s", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Worker threads for parallel work (default: all cores).
    #[arg(long, global = true, help_heading = "Global options", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// No progress bars or informational messages.
    #[arg(long, short, global = true, help_heading = "Global options")]
    quiet: bool,
    /// Say what each stage reads, decides and writes, on stderr: -v for the steps, -vv for
    /// the details (layouts, units, weights).
    #[arg(
        long,
        short,
        global = true,
        help_heading = "Global options",
        action = clap::ArgAction::Count,
        conflicts_with = "quiet"
    )]
    verbose: u8,
    /// `institution` global attribute of the NetCDF outputs (who issues them; over a
    /// configuration's `institution`).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "TEXT"
    )]
    institution: Option<String>,
    /// Print the console summary (what was read or written, the scores) as JSON on stdout.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
    /// Replace existing output files (never an input), as CDO's -O.
    #[arg(long, short = 'O', global = true, help_heading = "Global options")]
    overwrite: bool,
    /// Largest array one step may allocate (`8G`, `500M`; default three quarters of physical
    /// memory): inputs, grids and particle clouds beyond it are refused before allocating.
    #[arg(long, global = true, help_heading = "Global options", value_name = "SIZE", value_parser = parse_memory)]
    max_memory: Option<u64>,
    /// Read precipitation fields that look implausible as a whole (every value below 0.01
    /// mm/day, or a median above 50 mm/day) instead of refusing them; the hard ranges stay.
    #[arg(long, global = true, help_heading = "Global options")]
    allow_implausible: bool,
    /// Compression of NetCDF outputs: deflate level 0 (none, fastest) to 9 (default 1).
    #[arg(long, global = true, help_heading = "Global options", value_name = "LEVEL", default_value_t = 1, value_parser = clap::value_parser!(i32).range(0..=9))]
    deflate: i32,
    /// Units of a variable whose file has none or wrong ones, `VAR=UNITS` (e.g. `pr=mm/month`,
    /// `uo=m/s`), or `UNITS` for every variable; repeatable; honoured by every subcommand and
    /// over the configuration's `units` table.
    #[arg(long, global = true, help_heading = "Global options", value_name = "[VAR=]UNITS", value_parser = parse_assumed_units)]
    assume_units: Vec<(Option<String>, String)>,
    /// Layout of NetCDF products: `cdo` (at most (time, lead, lat, lon) per variable, one
    /// variable per category, member or model, as CDO reads them; the default) or `nd` (every
    /// axis a dimension, e.g. probability(init, category, lead, lat, lon), for xarray).
    /// A configuration's `layout` applies unless this is given.
    #[arg(long, global = true, help_heading = "Global options", value_name = "LAYOUT", value_parser = parse_layout)]
    layout: Option<s2s_ensemble::io::write::ProductLayout>,
    #[command(subcommand)]
    command: Command,
}

pub(crate) fn parse_season(text: &str) -> Result<s2s_ensemble::calendar::Season, String> {
    s2s_ensemble::calendar::Season::parse(text)
}

fn parse_layout(text: &str) -> Result<s2s_ensemble::io::write::ProductLayout, String> {
    s2s_ensemble::io::write::ProductLayout::parse(text)
}

fn parse_assumed_units(text: &str) -> Result<(Option<String>, String), String> {
    s2s_ensemble::units::AssumedUnits::parse_entry(text)
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
        after_help = "Examples:\n  s2s synth --preset small --out small/\n  s2s synth --preset medium --cdo --out work/medium\n  s2s synth --preset small --weekly --out weekly/\n  s2s synth --storms --step-hours 6 --days 30 --out storms/\n  s2s synth --seaice --out ice/"
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
        after_help = "Examples:\n  s2s combine --hindcast bc/hindcast_A.pr.eqm.nc,bc/hindcast_B.pr.eqm.nc --forecast bc/forecast_A.pr.eqm.nc,bc/forecast_B.pr.eqm.nc --var pr --out mme/\n  s2s combine --weights pmme --hindcast CCSM4_HCST.nc,CANSIPSV2_HCST.nc --forecast CCSM4_FCST.nc,CANSIPSV2_FCST.nc --obs observations.nc --obs-units mm/month --out mme/\n  s2s combine --weights skill --skill-score rpss --edges obs --hindcast A.nc,B.nc,C.nc --forecast FA.nc,FB.nc,FC.nc --obs obs.nc --var pr --out mme/"
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
    /// Sea ice: extent and area of concentration fields, and the outlook of a month's extent
    /// (the Arctic September minimum) against the NSIDC Sea Ice Index.
    #[command(subcommand)]
    Seaice(seaice::SeaIceCommand),
    /// Extremes: yearly warm/cold spells and the Excess Heat Factor of daily series, and the
    /// heat-wave, cold-wave and heavy-rain outlook of daily subseasonal forecasts against their
    /// model climate (EFI, SOT).
    #[command(subcommand)]
    Extremes(extremes::ExtremesCommand),
    /// Climate drivers: the Niño 3.4 and Indian Ocean Dipole (DMI) anomaly plumes of several
    /// models' SST forecasts against their lead-dependent hindcast climate, with El Niño /
    /// La Niña and IOD-phase probabilities; drivers.json, drivers.csv, drivers.md,
    /// plume_nino34.png, plume_dmi.png.
    #[command(
        after_help = "Examples:\n  s2s drivers --hindcast sst_hc_A.nc,sst_hc_B.nc --forecast sst_fc_A.nc,sst_fc_B.nc --models A,B --obs oisst_monthly.nc --out drivers/"
    )]
    Drivers(drivers::DriversArgs),
    /// Emergency forecast at a point at sea: ensemble drift of a ship or oil in each member's
    /// currents and winds (stranding on coasts, position probabilities, coast table) and, with
    /// cyclone fields, the probability that a tropical cyclone passes near the site.
    #[command(
        after_help = "Examples:\n  s2s emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 30 --currents currents.nc --out em/\n  s2s emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 14 --currents cmems.nc --wind era5_daily.nc --cyclone-fields storms.nc --windage 0.02 --particles 5000 --out em/\n  s2s emergency --config outlook.toml --out em/"
    )]
    Emergency(emergency::EmergencyCli),
    /// Export a multi-model forecast file for GIS: GeoTIFFs (EPSG:4326) of the category
    /// probabilities (one band per category) and of the dominant category, per lead.
    #[command(
        after_help = "Examples:\n  s2s export --geotiff --out gis/ out/bulletin/mme_forecast.prec.nc\n  s2s export --geotiff --init-index 0 --out gis/ mme_forecast_0p25.nc"
    )]
    Export(export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(
        after_help = "Examples:\n  s2s completions bash > ~/.local/share/bash-completion/completions/s2s\n  s2s completions zsh > ~/.zfunc/_s2s"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_help = "Example:\n  s2s man > s2s.1 && man ./s2s.1")]
    Man,
}

impl Command {
    /// Whether the subcommand spreads its work over the processes of `mpirun -n N` (the
    /// others run on rank 0 alone, the other ranks waiting for its exit status).
    fn is_distributed(&self) -> bool {
        match self {
            Command::BiasCorrect(_)
            | Command::Combine(_)
            | Command::Spi(_)
            | Command::Verify(_) => true,
            Command::Cyclones(c) => c.is_distributed(),
            Command::Outlook(o) => o.is_distributed(),
            _ => false,
        }
    }
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
    /// The season each observed value covers when the file is stamped once a year (JJAS,
    /// OND, 6-9): amounts are converted over its days; a target of another season is an error.
    #[arg(long, value_name = "SEASON", value_parser = parse_season)]
    pub obs_season: Option<s2s_ensemble::calendar::Season>,
    /// Model names, comma-separated (default: the hindcast file names).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub models: Vec<String>,
}

/// Global settings the subcommands share.
pub struct Globals {
    /// Suppress progress and informational output.
    pub quiet: bool,
    /// Deflate level of NetCDF outputs.
    pub deflate: i32,
    /// `institution` of the NetCDF outputs.
    pub institution: Option<String>,
    /// Console summaries as JSON.
    pub json: bool,
    /// Layout of NetCDF products (`None`: a configuration's, else the default).
    pub layout: Option<s2s_ensemble::io::write::ProductLayout>,
    /// The processes of the run: one, or those of `mpirun -n N` (the `mpi` feature).
    pub ranks: Box<dyn s2s_ensemble::distributed::Ranks>,
}

impl Globals {
    /// What the jobs' outputs share: the command line for `history`, the deflate level.
    pub fn run_options(&self) -> s2s_ensemble::pipeline::RunOptions {
        // the program by its name (`s2s …`, as CDO and NCO write theirs), not by the path it
        // was started from
        let cmd: Vec<String> = std::env::args()
            .enumerate()
            .map(|(i, a)| match (i, std::path::Path::new(&a).file_name()) {
                (0, Some(name)) => name.to_string_lossy().into_owned(),
                _ => a,
            })
            .collect();
        s2s_ensemble::pipeline::RunOptions {
            history: Some(cmd.join(" ")),
            deflate: Some(self.deflate),
            layout: self.layout,
            global: self
                .institution
                .iter()
                .map(|i| ("institution".to_string(), i.clone()))
                .collect(),
        }
    }

    /// Output options of the subcommands that write through `io` directly.
    pub fn write_options(&self) -> s2s_ensemble::io::WriteOptions {
        self.run_options().write_options()
    }

    /// Prints `report` as pretty JSON on stdout (`--json`); returns whether it did.
    pub fn print_json(&self, report: &impl serde::Serialize) -> anyhow::Result<bool> {
        use anyhow::Context;
        use std::io::Write;
        if !self.json {
            return Ok(false);
        }
        // Serialized first, so that a closed stdout is an io error (a quiet broken pipe).
        let text = serde_json::to_string_pretty(report).context("encoding JSON")?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(out, "{text}").context("writing to stdout")?;
        Ok(true)
    }

    /// Progress bars and messages on stderr, as `--quiet` says.
    pub fn bars(&self) -> progress::Bars {
        progress::Bars::new(self.quiet)
    }
}

fn parse_memory(text: &str) -> Result<u64, String> {
    s2s_ensemble::memory::parse_size(text).map_err(|e| e.to_string())
}

/// Help text of a subcommand ahead of its examples: clap's default layout.
const HELP_BEFORE_EXAMPLES: &str =
    "{before-help}{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}\n\n";

/// The command line as `--help` shows it. clap wraps a subcommand's after-help to the
/// terminal's width, which breaks an example command in the middle of a file name; text of the
/// help template is printed as written. So each subcommand's `Examples:` moves from its
/// after-help to the end of its template: one command per line at any width, ready to copy.
/// (`s2s man` renders the untouched command, whose roff the pager wraps itself.)
pub(crate) fn command_with_unwrapped_examples() -> clap::Command {
    fn unwrap_examples(cmd: clap::Command) -> clap::Command {
        let cmd = cmd.mut_subcommands(unwrap_examples);
        match cmd.get_after_help().map(|text| text.to_string()) {
            // a `{` would open a template tag; no example has one
            Some(examples) if !examples.contains('{') => cmd
                .help_template(format!("{HELP_BEFORE_EXAMPLES}{examples}"))
                .after_help(None::<&str>),
            _ => cmd,
        }
    }
    unwrap_examples(Cli::command())
}

/// Parses the command line and runs the subcommand; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command_with_unwrapped_examples().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
        {
            errln!("error: --threads {n}: {e}");
            return ExitCode::from(2);
        }
    }
    let mut table = s2s_ensemble::units::AssumedUnits::default();
    for (var, units) in &cli.assume_units {
        table.insert(var.clone(), units.clone());
    }
    s2s_ensemble::io::set_assumed_units(table);
    s2s_ensemble::io::clobber::set_overwrite(cli.overwrite);
    s2s_ensemble::io::set_whole_field_checks(!cli.allow_implausible);
    if let Some(bytes) = cli.max_memory {
        s2s_ensemble::memory::set_max_memory(bytes);
    }
    let ranks = match processes() {
        Ok(r) => r,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Rank 0 prints (results, bars, the agreed error); the others work silently.
    let root = ranks.is_root();
    if root {
        logger::init(cli.verbose);
    }
    let distributed = ranks.size() > 1;
    let globals = Globals {
        quiet: cli.quiet || !root,
        deflate: cli.deflate,
        layout: cli.layout,
        institution: cli.institution.clone(),
        json: cli.json && root,
        ranks,
    };
    // Under mpirun a subcommand that does not spread its work runs on rank 0 alone.
    let alone_on_root = distributed && !cli.command.is_distributed();
    if alone_on_root && !root {
        let code = s2s_ensemble::distributed::root_status(globals.ranks.as_ref(), 0);
        return ExitCode::from(code);
    }
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args, &globals),
        Command::Export(args) => export::run(&args, &globals),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "s2s", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut page) {
                Ok(()) => {
                    use std::io::Write;
                    let _ = std::io::stdout().write_all(&page);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(anyhow::anyhow!("rendering the manual page: {e}")),
            }
        }
        Command::Regrid(args) => regrid::run(&args, &globals),
        Command::Synth(args) => synth::run(&args, &globals),
        Command::BiasCorrect(args) => bias::run(&args, &globals),
        Command::Combine(args) => combine::run(&args, &globals),
        Command::Verify(args) => verify::run(&args, &globals),
        Command::Outlook(args) => outlook::run(&args, &globals),
        Command::Spi(args) => spi::run(&args, &globals),
        Command::Cyclones(cmd) => cyclones::run(&cmd, &globals),
        Command::Seaice(cmd) => seaice::run(&cmd, &globals),
        Command::Extremes(cmd) => extremes::run(&cmd, &globals),
        Command::Drivers(args) => drivers::run(&args, &globals),
        Command::Emergency(args) => emergency::run(&args, &globals),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            if root {
                errln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    };
    if alone_on_root {
        // rank 0 of a subcommand it ran alone: the others wait for its status
        let status = u8::from(code != ExitCode::SUCCESS);
        return ExitCode::from(s2s_ensemble::distributed::root_status(
            globals.ranks.as_ref(),
            status,
        ));
    }
    code
}

/// The processes of this run: those of `mpirun -n N` with the `mpi` feature, else one.
fn processes() -> anyhow::Result<Box<dyn s2s_ensemble::distributed::Ranks>> {
    #[cfg(feature = "mpi")]
    {
        Ok(Box::new(s2s_ensemble::distributed::mpi::MpiRanks::init()?))
    }
    #[cfg(not(feature = "mpi"))]
    {
        Ok(Box::new(s2s_ensemble::distributed::OneProcess))
    }
}

/// `--years FIRST-LAST`.
/// `--time`: the date of a file without a time coordinate, `YYYY-MM-DD[THH[:MM[:SS]]]` in UTC.
pub(crate) fn parse_time(text: &str) -> Result<s2s_ensemble::calendar::CfDateTime, String> {
    match s2s_ensemble::calendar::CfDateTime::parse_with_offset(text) {
        Ok((t, 0.0)) => Ok(t),
        Ok(_) => Err(format!("'{text}': give the time in UTC (no offset)")),
        Err(e) => Err(format!("{e} (e.g. 2025-12-01T00)")),
    }
}

/// Each model's `(name, hindcast files, forecast files)` from comma-separated `--hindcast` and
/// `--forecast` lists (one model's files joined with '+') and optional `--models` names
/// (default: the hindcast file names).
pub(crate) fn model_file_lists(
    hindcast: &str,
    forecast: &str,
    models: Option<&str>,
) -> anyhow::Result<s2s_ensemble::pipeline::ModelInputs> {
    let split = |s: &str| -> Vec<Vec<std::path::PathBuf>> {
        s.split(',')
            .filter(|m| !m.trim().is_empty())
            .map(|m| {
                m.split('+')
                    .map(|f| std::path::PathBuf::from(f.trim()))
                    .collect()
            })
            .collect()
    };
    let (hind, fore) = (split(hindcast), split(forecast));
    if hind.len() != fore.len() {
        anyhow::bail!(
            "--hindcast names {} model(s) and --forecast {}: give one forecast per hindcast, in the same order",
            hind.len(),
            fore.len()
        );
    }
    let names: Vec<String> = match models {
        Some(n) => n.split(',').map(|s| s.trim().to_string()).collect(),
        None => hind
            .iter()
            .map(|h| {
                h[0].file_stem()
                    .map_or("model".into(), |s| s.to_string_lossy().into_owned())
            })
            .collect(),
    };
    if names.len() != hind.len() {
        anyhow::bail!(
            "--models gives {} name(s) for {} model(s)",
            names.len(),
            hind.len()
        );
    }
    Ok(names
        .into_iter()
        .zip(hind.into_iter().zip(fore))
        .map(|(n, (h, f))| (n, h, f))
        .collect())
}

pub(crate) fn parse_years(text: &str) -> anyhow::Result<(i32, i32)> {
    Ok(s2s_ensemble::pipeline::parse_year_range(text, "--years")?)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;
    use clap::Parser;
    use std::collections::BTreeSet;

    /// Every long option of `s2s` and its subcommands.
    fn long_flags() -> BTreeSet<String> {
        fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
            for a in cmd.get_arguments() {
                if let Some(l) = a.get_long() {
                    out.insert(format!("--{l}"));
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, out);
            }
        }
        let mut out = BTreeSet::from(["--help".to_string(), "--version".to_string()]);
        walk(&Cli::command(), &mut out);
        out
    }

    /// `--flag` words in the non-comment lines of a source file.
    fn flags_named_in(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let bytes = line.as_bytes();
            let mut i = 0;
            while let Some(pos) = line[i..].find("--") {
                let at = i + pos;
                let before_ok =
                    at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'-');
                let end = at
                    + 2
                    + line[at + 2..]
                        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                        .unwrap_or(line.len() - at - 2);
                let word = &line[at..end];
                if before_ok
                    && word.len() > 3
                    && bytes.get(at + 2).is_some_and(|b| b.is_ascii_lowercase())
                {
                    found.push(word.trim_end_matches('-').to_string());
                }
                i = end.max(at + 2);
            }
        }
        found
    }

    /// Every `s2s …` line of every subcommand's `Examples:` (split on whitespace, quotes
    /// removed, shell redirections dropped), with the subcommand it documents.
    fn help_examples() -> Vec<(String, Vec<String>)> {
        fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<String>)>) {
            for sub in cmd.get_subcommands() {
                if let Some(text) = sub.get_after_help() {
                    for line in text.to_string().lines() {
                        let line = line.trim();
                        if !line.starts_with("s2s ") {
                            continue;
                        }
                        out.push((sub.get_name().to_string(), shell_words(line)));
                    }
                }
                walk(sub, out);
            }
        }
        let mut out = Vec::new();
        walk(&Cli::command(), &mut out);
        out
    }

    /// Words of a shell command line: single quotes group, a `>`, `|` or `&&` outside quotes
    /// ends the command.
    fn shell_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quoted) = (Vec::new(), String::new(), false);
        for c in line.chars() {
            match c {
                '\'' => quoted = !quoted,
                '>' | '|' | '&' if !quoted => break,
                c if c.is_whitespace() && !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }

    #[test]
    fn every_help_example_parses() {
        assert_eq!(
            shell_words("s2s a --x 'b,|<=,4' c > out | less"),
            ["s2s", "a", "--x", "b,|<=,4", "c"]
        );
        let examples = help_examples();
        assert!(examples.len() > 25, "{} examples", examples.len());
        for (sub, words) in examples {
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!(
                    "the help of `s2s {sub}` shows `{}`, which does not parse: {e}",
                    words.join(" ")
                );
            }
        }
    }

    #[test]
    fn argument_checks() {
        let err = |args: &[&str]| Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err(&["s2s", "--threads", "0", "man"]).contains("--threads"));
        assert!(err(&["s2s", "--layout", "5d", "man"]).contains("unknown layout '5d'"));
        assert!(Cli::try_parse_from(["s2s", "-O", "--layout", "nd", "man"]).is_ok());
        let pct = super::combine::percentile_levels(&[0.1, 0.5, 0.9])
            .unwrap_err()
            .to_string();
        assert!(pct.contains("look like fractions"), "{pct}");
        assert!(super::combine::percentile_levels(&[0.0, 50.0]).is_err());
        assert_eq!(
            super::combine::percentile_levels(&[10.0, 90.0]).unwrap(),
            vec![0.1, 0.9]
        );
    }

    #[test]
    fn every_flag_a_message_or_help_names_exists() {
        // Options of other programs named in hints (cdo, cargo, setup scripts).
        const OTHER_PROGRAMS: &[&str] = &["--release", "--all-targets", "--mpi", "--python"];
        assert_eq!(
            flags_named_in("Err(\"say it with --no-such-flag, not -x--y\") // --z"),
            vec!["--no-such-flag"]
        );
        let flags = long_flags();
        let mut missing = Vec::new();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for f in flags_named_in(&text) {
                        if !flags.contains(&f)
                            && !OTHER_PROGRAMS.contains(&f.as_str())
                            && f != "--no-such-flag"
                        {
                            missing.push(format!("{}: {f}", p.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "flags named but not defined: {missing:#?}"
        );
        assert!(flags.contains("--assume-units") && flags.contains("--obs-units"));
    }

    #[test]
    fn assume_units_is_global_and_repeatable() {
        let cli = Cli::try_parse_from([
            "s2s",
            "inspect",
            "--assume-units",
            "pr=mm/month",
            "--assume-units",
            "K",
            "x.nc",
        ])
        .unwrap();
        assert_eq!(
            cli.assume_units,
            vec![
                (Some("pr".to_string()), "mm/month".to_string()),
                (None, "K".to_string())
            ]
        );
        assert!(Cli::try_parse_from(["s2s", "--assume-units", "pr=", "inspect", "x.nc"]).is_err());
    }
}
