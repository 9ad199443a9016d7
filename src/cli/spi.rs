//! `s2s spi`: the Standardized Precipitation Index of an observed precipitation record.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use ndarray::{Axis, Ix3};
use s2s_ensemble::cube::CubeKind;
use s2s_ensemble::indices::spi::SPI_LIMIT;
use s2s_ensemble::indices::{spi_grid, GammaFit, MonthlyRecord, SpiSpec};
use s2s_ensemble::io::write::{write_spatial, write_time_coords};
use s2s_ensemble::io::{CfWriter, ReadOptions};
use s2s_ensemble::units::Quantity;

use s2s_ensemble::io::read_var;

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
    let var = args.variable.as_deref().unwrap_or("pr");
    let obs = read_var(
        &args.input,
        Some(var),
        ReadOptions {
            assume_units: args.units.clone(),
            ..Default::default()
        },
    )?;
    if obs.meta.quantity != Quantity::Precipitation {
        bail!(
            "{}: variable '{}' ({}) is not precipitation; the SPI needs precipitation",
            args.input.display(),
            obs.meta.variable,
            obs.meta.units
        );
    }
    if obs.meta.kind != CubeKind::Observed {
        bail!(
            "{}: '{}' is a forecast (start dates and leads); give an observed series (time, lat, lon)",
            args.input.display(),
            obs.meta.variable
        );
    }
    let lowest = obs.values.iter().fold(f32::INFINITY, |a, &b| a.min(b));
    if lowest < -1e-3 {
        bail!(
            "{}: '{}' has negative precipitation (down to {lowest:.3} {}); check the units or the file",
            args.input.display(),
            obs.meta.variable,
            obs.meta.units
        );
    }
    let history = obs.meta.attributes.get("history").cloned();
    let record =
        MonthlyRecord::from_observed(obs).with_context(|| format!("{}", args.input.display()))?;
    let out = spi_grid(record.values.view(), &record.axis, &spec)
        .with_context(|| format!("{}", args.input.display()))?;
    let (y0, y1) = out.calibration_used;
    let shortened = (y0, y1) != calibration;
    let fitted = out.shape.iter().filter(|v| !v.is_nan()).count();
    let defined = out.spi.iter().filter(|v| !v.is_nan()).count();
    let total = out.spi.len();
    if defined == 0 {
        bail!(
            "{}: no SPI could be computed: {}",
            args.input.display(),
            if fitted == 0 {
                "no calendar month of any cell has enough non-zero accumulations in the calibration years (all-dry or all-missing record)"
            } else {
                "every accumulation window has a missing month"
            }
        );
    }

    // ---- write: the SPI at the series' own months ----
    let (coords, meta) = (&record.coords, &record.meta);
    let mut w = CfWriter::create(&args.output, &g.write_options())?;
    w.set_history(g.write_options().history.as_deref(), history.as_deref())?;
    w.global_text(
        "title",
        &format!("SPI-{} of {}", args.scale, args.input.display()),
    )?;
    w.global_text(
        "source",
        &format!("s2s-ensemble {} `s2s spi`", env!("CARGO_PKG_VERSION")),
    )?;
    let time_dims = write_time_coords(&mut w, coords, meta.calendar, CubeKind::Observed)?;
    let spatial_dims = write_spatial(&mut w, &coords.spatial)?;
    let dims: Vec<&str> = time_dims.iter().chain(&spatial_dims).copied().collect();
    let spi_at_series = if record.is_gap_free() {
        out.spi
    } else {
        out.spi.select(Axis(0), &record.positions)
    };
    let (ny, nx) = coords.spatial.shape();
    let shape: Vec<usize> = std::iter::once(record.positions.len())
        .chain(match spatial_dims.len() {
            2 => vec![ny, nx],
            1 => vec![ny * nx],
            _ => vec![],
        })
        .collect();
    let calibration_text = format!("{y0}-01..{y1}-12");
    let comment = if shortened {
        format!(
            "calibration {}–{} requested; the record covers only {y0}–{y1} of it, which was used",
            calibration.0, calibration.1
        )
    } else {
        format!("calibration {y0}–{y1}")
    };
    let attrs = [
        ("long_name", format!("Standardized Precipitation Index, {}-month scale", args.scale)),
        ("units", "1".to_string()),
        ("spi_scale_months", args.scale.to_string()),
        ("distribution", "gamma (zero-inflated: H = q + (1 - q) G)".to_string()),
        ("fit_method", spec.fit.name().to_string()),
        ("calibration_period", calibration_text.clone()),
        ("calibration_requested", format!("{}-01..{}-12", calibration.0, calibration.1)),
        ("calibration_comment", comment),
        ("accumulation", "sum of monthly values with equal weight (monthly means of daily input)".to_string()),
        ("valid_range_note", format!("clipped to +-{SPI_LIMIT}; NaN where the window is incomplete or the calendar month could not be fitted")),
        ("references", "McKee, Doesken & Kleist 1993; Thom 1958; WMO-No. 1090 (2012)".to_string()),
    ];
    let attr_refs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.f32_var(
        "spi",
        &dims,
        spi_at_series
            .into_shape_with_order(shape.clone())?
            .into_dyn()
            .view(),
        &attr_refs,
        &[
            ("valid_min", -f64::from(SPI_LIMIT)),
            ("valid_max", f64::from(SPI_LIMIT)),
        ],
    )?;
    w.dimension("month", 12)?;
    w.i32_var(
        "month",
        &["month"],
        &(1..=12).collect::<Vec<i32>>(),
        &[(
            "long_name",
            "calendar month of the accumulation's last month",
        )],
    )?;
    let param_dims: Vec<&str> = std::iter::once("month")
        .chain(spatial_dims.iter().copied())
        .collect();
    let mut param_shape = shape.clone();
    param_shape[0] = 12;
    for (name, values, long, units) in [
        (
            "gamma_shape",
            &out.shape,
            "shape (alpha) of the gamma fitted to the non-zero accumulations",
            "1".to_string(),
        ),
        (
            "gamma_scale",
            &out.scale,
            "scale (beta) of the gamma fitted to the non-zero accumulations",
            format!("{} (sum over {} months)", meta.units, args.scale),
        ),
        (
            "prob_zero",
            &out.prob_zero,
            "probability of a zero accumulation in the calibration years",
            "1".to_string(),
        ),
    ] {
        w.f32_var(
            name,
            &param_dims,
            values
                .view()
                .into_dimensionality::<Ix3>()?
                .to_shape(param_shape.clone())?
                .view()
                .into_dyn(),
            &[
                ("long_name", long),
                ("units", &units),
                ("calibration_period", &calibration_text),
            ],
            &[],
        )?;
    }
    let path = w.finish()?;
    if !g.quiet {
        eprintln!(
            "SPI-{} of {} months × {} cells (calibration {y0}–{y1}{}, {} fit): {:.1} % defined → {}",
            args.scale,
            record.positions.len(),
            ny * nx,
            if shortened { ", shortened to the record" } else { "" },
            spec.fit.name(),
            100.0 * defined as f64 / total.max(1) as f64,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
