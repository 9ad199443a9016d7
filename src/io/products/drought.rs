//! The drought outlook, `spi_forecast.<var>.nc`: per start, lead and cell the probability of
//! each SPI class (McKee et al. 1993), the cumulative probabilities `P(SPI ≤ −t)` and
//! `P(SPI ≥ t)` for `t` = 1, 1.5, 2, the ensemble median SPI, the most likely class and, when
//! the observed record reaches the start, the drought tendency (CF flags).

use std::path::Path;

use ndarray::Axis;

use crate::error::Result;
use crate::indices::drought::{DroughtTendency, TENDENCY_FILL};
use crate::indices::{DroughtOutlook, SPI_CLASSES};
use crate::io::write::{write_spatial, write_time_coords, LabelAxis};
use crate::io::{CfWriter, WriteOptions};
use crate::Cube;

/// Writes the drought outlook as CF-NetCDF: SPI-class probabilities, cumulative drought and
/// wet probabilities, median SPI, most likely class (and the tendency when known).
pub fn write_drought_outlook(
    path: &Path,
    opts: &WriteOptions,
    forecast: &Cube,
    d: &DroughtOutlook,
) -> Result<()> {
    let mut coords = forecast.coords.clone();
    coords.member.clear();
    let mut w = CfWriter::create(path, opts)?;
    w.global_text(
        "title",
        "forecast SPI of the target periods: drought outlook",
    )?;
    let time_dims = write_time_coords(&mut w, &coords, forecast.meta.calendar, forecast.meta.kind)?;
    let spatial_dims = write_spatial(&mut w, &coords.spatial)?;
    let names: Vec<String> = SPI_CLASSES.iter().map(|c| c.name.to_string()).collect();
    w.label_axis(LabelAxis::named(
        "spi_class",
        "SPI class (McKee et al. 1993), driest first",
        &names,
    ))?;
    w.label_axis(LabelAxis {
        values: Some((vec![1.0, 1.5, 2.0], Some("1".into()))),
        ..LabelAxis::named(
            "threshold",
            "|SPI| threshold: moderate, severe, extreme",
            &["moderate".into(), "severe".into(), "extreme".into()],
        )
    })?;
    let (nl, ny, nx) = d.median_spi.dim();
    let lead_dim = time_dims[time_dims.len() - 1];
    let with = |extra: &'static str| -> Vec<&str> {
        ["init", extra, lead_dim]
            .into_iter()
            .chain(spatial_dims.iter().copied())
            .collect()
    };
    let put = |w: &mut CfWriter,
               name: &str,
               dims: Vec<&str>,
               a: &ndarray::Array4<f32>,
               long: &str|
     -> Result<()> {
        let v = a.view().insert_axis(Axis(0));
        w.f32_var(
            name,
            &dims,
            v.into_dyn(),
            &[("long_name", long), ("units", "1")],
            &[],
        )?;
        Ok(())
    };
    put(
        &mut w,
        "spi_class_probability",
        with("spi_class"),
        &d.class_probability,
        "probability of each SPI class",
    )?;
    put(
        &mut w,
        "drought_probability",
        with("threshold"),
        &d.drought_probability,
        "probability that SPI <= -threshold",
    )?;
    put(
        &mut w,
        "wet_probability",
        with("threshold"),
        &d.wet_probability,
        "probability that SPI >= threshold",
    )?;
    let dims3: Vec<&str> = ["init", lead_dim]
        .into_iter()
        .chain(spatial_dims.iter().copied())
        .collect();
    let med = d.median_spi.view().insert_axis(Axis(0));
    w.f32_var(
        "median_spi",
        &dims3,
        med.into_dyn(),
        &[
            ("long_name", "ensemble median SPI of the target period"),
            ("units", "1"),
        ],
        &[],
    )?;
    let ml = d.most_likely_class.view().insert_axis(Axis(0));
    let meanings = names.join(" ");
    w.def_i8(
        "most_likely_spi_class",
        &dims3,
        &[1, nl, ny, nx],
        -1,
        &[
            ("long_name", "most likely SPI class (index into spi_class)"),
            ("flag_meanings", &meanings),
        ],
    )?;
    w.var_attr(
        "most_likely_spi_class",
        "flag_values",
        (0..SPI_CLASSES.len() as i8).collect::<Vec<i8>>(),
    )?;
    w.put_i8(
        "most_likely_spi_class",
        &[0, 0, 0, 0],
        &[1, nl, ny, nx],
        ml.as_standard_layout().as_slice().unwrap_or(&[]),
    )?;
    if let Some(t) = &d.tendency {
        let tm: Vec<&str> = DroughtTendency::ALL.iter().map(|k| k.name()).collect();
        w.def_i8(
            "drought_tendency",
            &dims3,
            &[1, nl, ny, nx],
            TENDENCY_FILL,
            &[
                (
                    "long_name",
                    "what the forecast means for the drought at the start",
                ),
                ("flag_meanings", &tm.join(" ")),
            ],
        )?;
        w.var_attr(
            "drought_tendency",
            "flag_values",
            DroughtTendency::ALL
                .iter()
                .map(|k| *k as i8)
                .collect::<Vec<i8>>(),
        )?;
        w.put_i8(
            "drought_tendency",
            &[0, 0, 0, 0],
            &[1, nl, ny, nx],
            t.as_standard_layout().as_slice().unwrap_or(&[]),
        )?;
    }
    w.finish()?;
    Ok(())
}
