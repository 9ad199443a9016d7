//! The emergency products: `trajectories.nc` (CF discrete-sampling-geometry trajectories, as
//! OpenDrift writes them: `lat`, `lon`, `status` per particle and time, each particle's
//! member) and `drift_probability.nc` (position probability per report day, the cyclone strike
//! probability).

use std::path::Path;

use ndarray::{s, Array2};

use crate::calendar::CfDateTime;
use crate::emergency::Trajectories;
use crate::error::Result;
use crate::io::write::write_hours_since;
use crate::io::{CfWriter, WriteOptions};

/// CF discrete-sampling-geometry trajectories, as OpenDrift writes them.
pub fn write_trajectories(
    path: &Path,
    opts: &WriteOptions,
    tr: &Trajectories,
    member_of: &[usize],
    start: &CfDateTime,
) -> Result<()> {
    let (n, k) = tr.lat.dim();
    let mut w = CfWriter::create(path, opts)?;
    w.global_text("featureType", "trajectory")?;
    w.dimension("trajectory", n)?;
    w.dimension("time", k)?;
    let ids: Vec<i32> = (0..n as i32).collect();
    w.i32_var(
        "trajectory",
        &["trajectory"],
        &ids,
        &[("cf_role", "trajectory_id"), ("long_name", "particle")],
    )?;
    let members: Vec<i32> = member_of.iter().map(|&m| m as i32).collect();
    w.i32_var(
        "member",
        &["trajectory"],
        &members,
        &[
            ("long_name", "ensemble member"),
            ("standard_name", "realization"),
        ],
    )?;
    let hours: Vec<f64> = tr.times_s.iter().map(|s| s / 3600.0).collect();
    write_hours_since(&mut w, &hours, start)?;
    let lat: Vec<f32> = tr.lat.iter().map(|&x| x as f32).collect();
    let lon: Vec<f32> = tr.lon.iter().map(|&x| x as f32).collect();
    for (name, std, units, vals) in [
        ("lat", "latitude", "degrees_north", &lat),
        ("lon", "longitude", "degrees_east", &lon),
    ] {
        w.def_f32(
            name,
            &["trajectory", "time"],
            &[n, k],
            &[("standard_name", std), ("units", units)],
            &[],
        )?;
        w.put_f32(name, &[0, 0], &[n, k], vals)?;
    }
    w.def_i8(
        "status",
        &["trajectory", "time"],
        &[n, k],
        -1,
        &[
            ("long_name", "particle status"),
            ("flag_meanings", "active stranded outside_domain"),
            ("coordinates", "time lat lon"),
        ],
    )?;
    w.var_attr("status", "flag_values", vec![0i8, 1, 2])?;
    let st: Vec<i8> = tr.status.iter().copied().collect();
    w.put_i8("status", &[0, 0], &[n, k], &st)?;
    w.finish()?;
    Ok(())
}

/// The drift maps: position probability of each report day and, with the cyclone check,
/// the strike probability, on the currents' grid.
pub fn write_drift_maps(
    path: &Path,
    lat: &[f64],
    lon: &[f64],
    maps: &[(usize, Array2<f32>)],
    strike: Option<&Array2<f32>>,
    opts: &WriteOptions,
) -> Result<()> {
    let mut w = CfWriter::create(path, opts)?;
    w.dimension("day", maps.len())?;
    w.dimension("lat", lat.len())?;
    w.dimension("lon", lon.len())?;
    let days: Vec<f64> = maps.iter().map(|m| m.0 as f64).collect();
    w.f64_var(
        "day",
        &["day"],
        &days,
        &[("long_name", "days after release"), ("units", "days")],
    )?;
    w.f64_var(
        "lat",
        &["lat"],
        lat,
        &[("standard_name", "latitude"), ("units", "degrees_north")],
    )?;
    w.f64_var(
        "lon",
        &["lon"],
        lon,
        &[("standard_name", "longitude"), ("units", "degrees_east")],
    )?;
    let mut all = ndarray::Array3::<f32>::zeros((maps.len(), lat.len(), lon.len()));
    for (k, (_, m)) in maps.iter().enumerate() {
        all.slice_mut(s![k, .., ..]).assign(m);
    }
    w.f32_var(
        "position_probability",
        &["day", "lat", "lon"],
        all.view().into_dyn(),
        &[
            (
                "long_name",
                "probability that the drifting object (or a unit of oil) is in the cell",
            ),
            ("units", "1"),
        ],
        &[],
    )?;
    if let Some(sp) = strike {
        w.f32_var(
            "strike_probability",
            &["lat", "lon"],
            sp.view().into_dyn(),
            &[("long_name", "probability that a tropical cyclone centre passes within the radius of the cell"), ("units", "1")],
            &[],
        )?;
    }
    w.finish()?;
    Ok(())
}
