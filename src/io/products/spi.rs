//! The SPI of an observed record, `s2s spi`'s output: `spi (time, lat, lon)` at the series'
//! own months (CF attributes: scale, distribution, fit, calibration used and asked for, clip),
//! and the fitted `gamma_shape`, `gamma_scale`, `prob_zero (month, lat, lon)`.

use std::path::{Path, PathBuf};

use ndarray::{Axis, Ix3};

use crate::cube::CubeKind;
use crate::error::Result;
use crate::indices::spi::SPI_LIMIT;
use crate::indices::{MonthlyRecord, SpiGrid, SpiSpec};
use crate::io::write::{write_spatial, write_time_coords};
use crate::io::{CfWriter, WriteOptions};

/// What the SPI file holds.
pub struct SpiFile<'a> {
    /// The monthly record the SPI was computed on (its months, grid and units).
    pub record: &'a MonthlyRecord,
    /// The SPI and the fitted parameters.
    pub spi: SpiGrid,
    /// The input's `history`, continued.
    pub history: Option<&'a str>,
    /// The file's title.
    pub title: &'a str,
    /// Scale, calibration and fit.
    pub spec: &'a SpiSpec,
}

/// Writes the SPI file; returns its path.
pub fn write_spi(path: &Path, opts: &WriteOptions, f: &SpiFile) -> Result<PathBuf> {
    // ---- write: the SPI at the series' own months ----
    let SpiFile {
        record,
        spi: out,
        history,
        title,
        spec,
    } = f;
    let calibration = spec.calibration;
    let (y0, y1) = out.calibration_used;
    let shortened = (y0, y1) != calibration;
    let scale = spec.scale_months;
    let (coords, meta) = (&record.coords, &record.meta);
    let mut w = CfWriter::create(path, opts)?;
    w.set_history(opts.history.as_deref(), *history)?;
    w.global_text("title", title)?;
    w.global_text(
        "source",
        &format!("s2s-ensemble {} `s2s spi`", env!("CARGO_PKG_VERSION")),
    )?;
    let time_dims = write_time_coords(&mut w, coords, meta.calendar, CubeKind::Observed)?;
    let spatial_dims = write_spatial(&mut w, &coords.spatial)?;
    let dims: Vec<&str> = time_dims.iter().chain(&spatial_dims).copied().collect();
    let spi_at_series = if record.is_gap_free() {
        out.spi.clone()
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
        ("long_name", format!("Standardized Precipitation Index, {}-month scale", scale)),
        ("units", "1".to_string()),
        ("spi_scale_months", scale.to_string()),
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
            "scale (beta) of the gamma fitted to the non-zero accumulations (the accumulation is the sum of the monthly values over the scale's months, in their units)",
            meta.units.clone(),
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
    w.finish()
}
