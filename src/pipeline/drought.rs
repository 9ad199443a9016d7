//! The drought jobs: the SPI of an observed precipitation record (`s2s spi`; McKee et al.
//! 1993: k-month sums, a zero-inflated gamma per calendar month fitted over the calibration
//! years, `SPI = Φ⁻¹(H)`, [`crate::indices::spi`]). The forecast SPI of the outlook is in
//! [`super::outlook`].

use std::path::PathBuf;

use super::RunOptions;
use crate::cube::{CubeKind, Spatial};
use crate::distributed::products::{check_bands, decode_spi, encode_spi, report_checks, stack_spi};
use crate::distributed::{agree, Bands, Ranks};
use crate::error::{Context, Error, Result};
use crate::indices::{spi_grid, MonthlyRecord, SpiGrid, SpiSpec};
use crate::io::products::spi::{write_spi, SpiFile};
use crate::io::{read_spatial, read_var, resolve_var, DimMapping, ReadOptions};
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

impl SpiPlan {
    /// The variable read: the one asked for, else `pr` (found by its CF metadata).
    fn variable_name(&self) -> &str {
        self.variable.as_deref().unwrap_or("pr")
    }
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
    let (record, out, history) = fit_spi(args, read_spi_input(args, None)?)?;
    write_observed_spi(args, &record, out, history.as_deref())
}

/// The precipitation record of the SPI, only the rows of `lat_band` when given.
fn read_spi_input(args: &SpiPlan, lat_band: Option<(f64, f64)>) -> Result<crate::Cube> {
    read_var(
        &args.input,
        Some(args.variable_name()),
        ReadOptions {
            assume_units: args.units.clone(),
            lat_band,
            ..Default::default()
        },
    )
}

/// The SPI of the record `obs` (checked first): its monthly record, the SPI and the input's
/// history.
fn fit_spi(args: &SpiPlan, obs: crate::Cube) -> Result<BandSpi> {
    check_spi_input(args, &obs)?;
    let history = obs.meta.attributes.get("history").cloned();
    let record =
        MonthlyRecord::from_observed(obs).with_context(|| format!("{}", args.input.display()))?;
    let out = spi_grid(record.values.view(), &record.axis, &args.spec)
        .with_context(|| format!("{}", args.input.display()))?;
    Ok((record, out, history))
}

/// The input of the SPI: observed precipitation, not negative.
fn check_spi_input(args: &SpiPlan, obs: &crate::Cube) -> Result<()> {
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
    Ok(())
}

/// Writes the SPI `out` of `record` (an error when no value could be computed).
fn write_observed_spi(
    args: &SpiPlan,
    record: &MonthlyRecord,
    out: SpiGrid,
    history: Option<&str>,
) -> Result<SpiReport> {
    let spec = &args.spec;
    let var = args.variable_name();
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
            record,
            spi: out,
            history,
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

/// [`observed_spi`] over the processes of a distributed run (`mpirun -n N s2s spi`): each
/// rank reads and fits a band of latitude rows ([`crate::distributed`]; the SPI of a cell
/// needs only that cell's record), rank 0 gathers the bands and writes the file one process
/// writes, byte for byte. With one rank it is [`observed_spi`]. The report is rank 0's
/// (`None` on the others).
pub fn observed_spi_on(args: &SpiPlan, ranks: &dyn Ranks) -> Result<Option<SpiReport>> {
    if ranks.size() == 1 {
        return observed_spi(args).map(Some);
    }
    let var = args.variable_name();
    let setup = (|| -> Result<(Bands, Vec<u8>)> {
        let name = resolve_var(&args.input, var)?;
        let grid = read_spatial(&args.input, Some(&name), &DimMapping::default())?;
        if !matches!(grid, Spatial::Grid { .. }) {
            return Ok((Bands::whole_on_root(grid, ranks.size()), Vec::new()));
        }
        // which cells have data: the first time step
        let sample = read_var(
            &args.input,
            Some(var),
            ReadOptions {
                assume_units: args.units.clone(),
                time_steps: Some((0, 1)),
                ..Default::default()
            },
        )?;
        Ok((Bands::balanced(grid, &sample, ranks.size()), Vec::new()))
    })();
    let (bands, _) = agree(ranks, setup)?;
    let rank = ranks.rank();
    let lat_band = bands.lat_band(rank, 0);
    let band = (|| -> Result<(Option<BandSpi>, Vec<u8>)> {
        if bands.mine(rank).is_empty() {
            return Ok((None, Vec::new()));
        }
        let obs = read_spi_input(args, lat_band)?;
        let mut report = Vec::new();
        if lat_band.is_some() {
            report_checks(&[&obs], false, &mut report);
        }
        Ok((Some(fit_spi(args, obs)?), report))
    })();
    let (band, reports) = agree(ranks, band)?;
    check_bands(&reports, &[args.input.as_path()], var)?;
    let mut bytes = Vec::new();
    if let Some((_, out, _)) = &band {
        encode_spi(out, &mut bytes);
    }
    let parts = ranks.gather_bytes_to_root(&bytes);
    let written = (|| -> Result<Option<SpiReport>> {
        let Some((record, _, history)) = band.filter(|_| ranks.is_root()) else {
            return Ok(None);
        };
        let mut grids = Vec::new();
        for part in parts.iter().filter(|p| !p.is_empty()) {
            grids.push(decode_spi(part, &mut 0)?);
        }
        // the file takes the record's months, coordinates and metadata: the whole grid's
        let record = MonthlyRecord {
            coords: crate::cube::Coords {
                spatial: bands.grid.clone(),
                ..record.coords
            },
            ..record
        };
        write_observed_spi(args, &record, stack_spi(&grids)?, history.as_deref()).map(Some)
    })();
    let (report, _) = agree(ranks, written.map(|r| (r, Vec::new())))?;
    Ok(report)
}

/// A record's (or a rank's band's) monthly record, its SPI and the input's history.
type BandSpi = (MonthlyRecord, SpiGrid, Option<String>);
