//! The drought jobs: the SPI of an observed precipitation record (`s2s spi`; McKee et al.
//! 1993: k-month sums, a zero-inflated gamma per calendar month fitted over the calibration
//! years, `SPI = Φ⁻¹(H)`, [`crate::indices::spi`]). The forecast SPI of the outlook is in
//! [`super::outlook`].

use std::path::PathBuf;

use super::RunOptions;
use crate::cube::CubeKind;
use crate::error::{Context, Error, Result};
use crate::indices::{spi_grid, MonthlyRecord, SpiSpec};
use crate::io::products::spi::{write_spi, SpiFile};
use crate::io::{read_var, ReadOptions};
use crate::units::Quantity;

/// The SPI of one observed record.
#[derive(Debug, Clone)]
pub struct SpiPlan {
    /// Monthly (or daily: monthly means first) precipitation `(time, lat, lon)` or stations.
    pub input: PathBuf,
    /// Variable (default: `pr`, found by CF metadata).
    pub variable: Option<String>,
    /// Units when the file has none or wrong ones.
    pub units: Option<String>,
    /// Scale, calibration years, fit, minimum non-zero accumulations.
    pub spec: SpiSpec,
    /// Output NetCDF.
    pub output: PathBuf,
    /// `history` and compression.
    pub options: RunOptions,
}

/// What [`observed_spi`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SpiReport {
    /// The file written.
    pub path: PathBuf,
    /// Months and cells of the SPI.
    pub months: usize,
    pub cells: usize,
    /// The calibration years used (the record may shorten those asked for).
    pub calibration_used: (i32, i32),
    /// Share of the SPI values that are defined.
    pub defined_share: f64,
}

pub fn observed_spi(args: &SpiPlan) -> Result<SpiReport> {
    let spec = &args.spec;
    let var = args.variable.as_deref().unwrap_or("pr");
    let obs = read_var(
        &args.input,
        Some(var),
        ReadOptions {
            assume_units: args.units.clone(),
            ..Default::default()
        },
    )?;
    let data_error = |reason: String| Error::Data {
        path: args.input.clone(),
        variable: obs.meta.variable.clone(),
        reason,
    };
    if obs.meta.quantity != Quantity::Precipitation {
        return Err(data_error(format!(
            "({}) is not precipitation; the SPI needs precipitation",
            obs.meta.units
        )));
    }
    if obs.meta.kind != CubeKind::Observed {
        return Err(data_error(
            "a forecast (start dates and leads); give an observed series (time, lat, lon)".into(),
        ));
    }
    let lowest = obs.values.iter().fold(f32::INFINITY, |a, &b| a.min(b));
    if lowest < -1e-3 {
        return Err(data_error(format!(
            "negative precipitation (down to {lowest:.3} {}); check the units or the file",
            obs.meta.units
        )));
    }
    let history = obs.meta.attributes.get("history").cloned();
    let record =
        MonthlyRecord::from_observed(obs).with_context(|| format!("{}", args.input.display()))?;
    let out = spi_grid(record.values.view(), &record.axis, spec)
        .with_context(|| format!("{}", args.input.display()))?;
    let (y0, y1) = out.calibration_used;
    let fitted = out.shape.iter().filter(|v| !v.is_nan()).count();
    let defined = out.spi.iter().filter(|v| !v.is_nan()).count();
    let total = out.spi.len();
    if defined == 0 {
        return Err(Error::Data {
            path: args.input.clone(),
            variable: var.to_string(),
            reason: format!(
                "no SPI could be computed: {}",
                if fitted == 0 {
                    "no calendar month of any cell has enough non-zero accumulations in the calibration years (all-dry or all-missing record)"
                } else {
                    "every accumulation window has a missing month"
                }
            ),
        });
    }

    let (ny, nx) = record.coords.spatial.shape();
    let months = record.positions.len();
    let path = write_spi(
        &args.output,
        &args.options.write_options(),
        &SpiFile {
            record: &record,
            spi: out,
            history: history.as_deref(),
            title: &format!("SPI-{} of {}", spec.scale_months, args.input.display()),
            spec,
        },
    )?;
    Ok(SpiReport {
        path,
        months,
        cells: ny * nx,
        calibration_used: (y0, y1),
        defined_share: defined as f64 / total.max(1) as f64,
    })
}
