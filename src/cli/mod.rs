//! Command-line interface: argument parsing (clap), progress bars (indicatif), exit codes.
//!
//! Every subcommand prints a one-line error naming the file, variable and problem on bad input
//! and exits non-zero; a broken pipe on stdout ends quietly with success.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bias;
mod inspect;
mod progress;
mod regrid;
mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        after_help = "Examples:\n  s2s synth --preset small --out /tmp/small\n  s2s synth --preset medium --cdo --out work/medium\n  s2s synth --preset small --weekly --out /tmp/weekly"
    )]
    Synth(synth::SynthArgs),
    /// Bias-correct one model against observations: the hindcast cross-validated (leave one
    /// year out by default) and the forecast, per cell, lead and start month.
    #[command(
        name = "bias-correct",
        after_help = "Examples:\n  s2s bias-correct --method eqm --var pr --hindcast hindcast_ALPHA.nc --obs obs.nc --forecast forecast_ALPHA.nc --out bc/\n  s2s bias-correct --method qdm --var tas --hindcast hindcast_BRAVO.nc --obs obs.nc --forecast forecast_BRAVO.nc --out bc/\n  s2s bias-correct --method eqm --var pr --years 1950-2013 --window-days 15 --hindcast CanESM2.nc --obs ahccd.nc --out bc/"
    )]
    BiasCorrect(bias::BiasArgs),
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

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
