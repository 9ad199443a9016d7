//! `s2s spi`: flags → [`SpiPlan`] → the Standardized Precipitation Index of an observed
//! precipitation record ([`observed_spi`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use s2s_ensemble::indices::{GammaFit, SpiSpec};
use s2s_ensemble::pipeline::drought::{observed_spi_on, SpiPlan};

use super::{parse_years, Globals};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum DistributionArg {
    /// Zero-inflated two-parameter gamma (McKee et al. 1993).
    Gamma,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum FitArg {
    /// Thom's (1958) approximation of the maximum-likelihood shape (climate_indices, xclim APP).
    Thom,
    /// Exact maximum likelihood with location 0.
    Mle,
}

#[derive(Debug, Args)]
pub struct SpiArgs {
    /// Accumulation scale in months (1, 3, 6, 12, …).
    #[arg(long, default_value_t = 3, value_name = "MONTHS")]
    scale: usize,
    /// Calibration years `FIRST-LAST`; the overlap with the record is used when it is shorter
    /// (the output's attributes say so).
    #[arg(long, default_value = "1991-2020", value_name = "FIRST-LAST")]
    calibration: String,
    /// Distribution fitted to the accumulations.
    #[arg(long, value_enum, default_value = "gamma")]
    distribution: DistributionArg,
    /// How the gamma is fitted.
    #[arg(long, value_enum, default_value = "thom")]
    fit: FitArg,
    /// Precipitation variable (default: found by its CF metadata).
    #[arg(long = "var", value_name = "VAR")]
    variable: Option<String>,
    /// Units of the input when its file has none or wrong ones.
    #[arg(long, value_name = "UNITS")]
    units: Option<String>,
    /// Fewest non-zero accumulations a calendar month needs in the calibration years.
    #[arg(long, default_value_t = 3, value_name = "N")]
    min_nonzero: usize,
    /// Monthly (or daily: averaged to months first) precipitation `(time, lat, lon)` or at
    /// stations `(time, station)`.
    input: PathBuf,
    /// Output NetCDF: `spi (time, lat, lon)` on the input's grid and months, and the fitted
    /// `gamma_shape`, `gamma_scale`, `prob_zero (month, lat, lon)`.
    output: PathBuf,
}

pub fn run(args: &SpiArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let calibration = parse_years(&args.calibration).context("--calibration")?;
    let spec = SpiSpec {
        scale_months: args.scale,
        calibration,
        fit: match args.fit {
            FitArg::Thom => GammaFit::Thom,
            FitArg::Mle => GammaFit::MaximumLikelihood,
        },
        min_nonzero: args.min_nonzero,
        ..Default::default()
    };
    // the report is rank 0's: the others have nothing to print
    let Some(report) = observed_spi_on(
        &SpiPlan {
            input: args.input.clone(),
            variable: args.variable.clone(),
            units: args.units.clone(),
            spec,
            output: args.output.clone(),
            options: g.run_options(),
        },
        g.ranks.as_ref(),
    )?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        let (y0, y1) = report.calibration_used;
        errln!(
            "SPI-{} of {} months × {} cells (calibration {y0}–{y1}{}, {} fit): {:.1} % defined → {}",
            args.scale,
            report.months,
            report.cells,
            if report.calibration_used != calibration { ", shortened to the record" } else { "" },
            spec.fit.name(),
            100.0 * report.defined_share,
            report.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
