//! The tropical-cyclone products: `track_density.nc` (storms passing each box per member,
//! forecast, climatology, anomaly), `genesis_outlook.nc` (the season's GPI forecast, normal,
//! anomaly, percent of normal) and the GPI fields of `s2s cyclones gpi` (GPI, its anomaly
//! against the calendar month's mean, potential intensity and its ingredients).

use std::path::Path;

use ndarray::{Array2, Array3};

use crate::cube::{CubeKind, Spatial};
use crate::cyclone::genesis_outlook::{GenesisOutlook, GpiFields};
use crate::error::Result;
use crate::io::write::{write_spatial, write_time_coords};
use crate::io::{CfWriter, WriteOptions};
use crate::Cube;

/// The track densities of a season on a lat/lon box grid.
pub struct TrackDensity<'a> {
    /// Box centres (degrees).
    pub lat: &'a [f64],
    pub lon: &'a [f64],
    /// Storms per box per member of the forecast, `(lat, lon)`.
    pub forecast: &'a Array2<f32>,
    /// Storms per box per member-season of the hindcast.
    pub climatology: &'a Array2<f32>,
    /// Box size (degrees).
    pub box_deg: f64,
    /// The season's label.
    pub season: &'a str,
}

/// Writes `track_density.nc`: forecast, climatology and anomaly of the track density.
pub fn write_track_density(path: &Path, opts: &WriteOptions, d: &TrackDensity) -> Result<()> {
    let (lat, lon, dens_fc, dens_hc, label) = (d.lat, d.lon, d.forecast, d.climatology, d.season);
    let mut wtr = CfWriter::create(path, opts)?;
    wtr.dimension("lat", lat.len())?;
    wtr.dimension("lon", lon.len())?;
    wtr.f64_var(
        "lat",
        &["lat"],
        lat,
        &[("standard_name", "latitude"), ("units", "degrees_north")],
    )?;
    wtr.f64_var(
        "lon",
        &["lon"],
        lon,
        &[("standard_name", "longitude"), ("units", "degrees_east")],
    )?;
    let anomaly = dens_fc - dens_hc;
    for (name, data, long) in [
        (
            "track_density",
            dens_fc,
            format!(
                "storms passing per {}° box per member, {label} forecast",
                d.box_deg
            ),
        ),
        (
            "track_density_climatology",
            dens_hc,
            format!(
                "storms passing per {}° box per member-season, {label} hindcast",
                d.box_deg
            ),
        ),
        (
            "track_density_anomaly",
            &anomaly,
            format!("forecast minus hindcast track density, {label}"),
        ),
    ] {
        wtr.f32_var(
            name,
            &["lat", "lon"],
            data.view().into_dyn(),
            &[("long_name", &long), ("units", "1")],
            &[],
        )?;
    }
    wtr.global_text("season", label)?;
    wtr.finish()?;

    Ok(())
}

/// Writes `genesis_outlook.nc`: the season-mean GPI of the forecast, its normal, anomaly and
/// percent of normal, on the fields' grid.
pub fn write_genesis_outlook(
    path: &Path,
    opts: &WriteOptions,
    o: &GenesisOutlook,
    spatial: &Spatial,
    label: &str,
) -> Result<()> {
    let mut w = CfWriter::create(path, opts)?;
    w.global_text(
        "title",
        &format!("genesis potential index (Emanuel and Nolan 2004), {label}"),
    )?;
    let dims = write_spatial(&mut w, spatial)?;
    for (name, a, long, units) in [
        (
            "gpi_forecast",
            &o.forecast,
            "season-mean GPI of the forecast",
            "1",
        ),
        (
            "gpi_normal",
            &o.normal,
            "mean season GPI of the hindcast years",
            "1",
        ),
        ("gpi_anomaly", &o.anomaly, "gpi_forecast - gpi_normal", "1"),
        (
            "gpi_percent_of_normal",
            &o.percent_of_normal,
            "100 gpi_forecast / gpi_normal (where gpi_normal >= 1e-3)",
            "%",
        ),
    ] {
        w.f32_var(
            name,
            &dims,
            a.view().into_dyn(),
            &[("long_name", long), ("units", units)],
            &[],
        )?;
    }
    w.finish()?;
    Ok(())
}

/// Writes the GPI fields of `s2s cyclones gpi` on the times and grid of `sst` (the sea surface
/// temperature's cube), with `anomaly` the GPI minus its calendar month's mean.
pub fn write_gpi_fields(
    path: &Path,
    opts: &WriteOptions,
    fields: &GpiFields,
    anomaly: &Array3<f32>,
    sst_c: &Cube,
) -> Result<()> {
    let mut w = CfWriter::create(path, opts)?;
    let mut dims = write_time_coords(
        &mut w,
        &sst_c.coords,
        sst_c.meta.calendar,
        CubeKind::Observed,
    )?;
    dims.extend(write_spatial(&mut w, &sst_c.coords.spatial)?);
    let d: Vec<&str> = dims.to_vec();
    for (name, data, long, units) in [
        (
            "gpi",
            &fields.gpi,
            "genesis potential index (Emanuel and Nolan 2004)",
            "1",
        ),
        (
            "gpi_anomaly",
            anomaly,
            "genesis potential index minus its mean over the same calendar month",
            "1",
        ),
        (
            "vpot",
            &fields.vpot,
            "potential intensity: maximum 10 m wind (Bister and Emanuel 2002)",
            "m s-1",
        ),
        (
            "pmin",
            &fields.pmin,
            "potential intensity: minimum central pressure",
            "hPa",
        ),
        (
            "abs_vorticity_850",
            &fields.abs_vorticity_850,
            "absolute vorticity at 850 hPa",
            "s-1",
        ),
        (
            "rh_600",
            &fields.rh_600,
            "relative humidity at 600 hPa",
            "%",
        ),
        (
            "shear_850_200",
            &fields.shear_850_200,
            "magnitude of the 200 - 850 hPa wind difference",
            "m s-1",
        ),
    ] {
        w.f32_var(
            name,
            &d,
            data.view().into_dyn(),
            &[("long_name", long), ("units", units)],
            &[],
        )?;
    }
    w.finish()?;
    Ok(())
}
