//! Fields of tropical-cyclone detection read from a NetCDF file: sea-level pressure, the
//! near-surface wind (speed or components) and optionally the 300–500 hPa thickness,
//! converted to Pa, m/s and m² s⁻² (with a plausibility check of each), and split into one time
//! series per member (and start date, for forecasts).
//!
//! Variables are found by the names ERA5, CMIP/CMOR, CESM and GRIB conversions use unless they
//! are named ([`FieldNames`]). Series must be daily or sub-daily: TempestExtremes' criteria are
//! defined on 6-hourly fields.

use std::path::Path;

use ndarray::{s, ArrayView3};

use super::vars::{pick, read_raw, to_units};
use crate::calendar::CfDateTime;
use crate::cube::{BBox, CubeKind, LeadUnit, Spatial};
use crate::cyclone::detect::wind_speed;
use crate::cyclone::{Node, NodeGrid};
use crate::error::{Context, Error, Result};
use crate::units::{geopotential_to_m2_s2, pressure_to_pa, speed_to_m_s};
use crate::Cube;

/// Which variables of a file hold the fields (`None`: found by name), and the box to read.
#[derive(Debug, Clone, Default)]
pub struct FieldNames {
    /// Sea-level pressure (default: the first of psl, msl, mslp, slp, prmsl, PSL).
    pub psl: Option<String>,
    /// Wind speed, instead of components (default: sfcWind, wspd, ws10 or si10).
    pub wind: Option<String>,
    /// Eastward wind (default: uas, u10 or UBOT); with `vas`.
    pub uas: Option<String>,
    /// Northward wind (default: vas, v10 or VBOT); with `uas`.
    pub vas: Option<String>,
    /// Z(300 hPa) − Z(500 hPa) thickness (geopotential in m² s⁻², or height in m): turns the
    /// warm-core test on.
    pub thickness: Option<String>,
    /// Only this box.
    pub bbox: Option<BBox>,
}

/// One member's time series in the fields of a file: a member of an observed-style series
/// (`init: None`) or one start date and member of a forecast.
pub struct Series {
    /// `<file stem> member <m>` or `<file stem> start <date> member <m>`.
    pub label: String,
    /// Valid times of the steps.
    pub times: Vec<CfDateTime>,
    /// Hours of each step since the first (observed) or since the start (forecast).
    pub hours: Vec<f64>,
    /// The start date's index (forecasts), `None` for a series.
    pub init: Option<usize>,
    /// The member's index in the file.
    pub member: usize,
}

/// The fields of one file, converted to Pa, m/s and m² s⁻².
pub struct Fields {
    /// Sea-level pressure (Pa).
    pub psl: Cube,
    /// Near-surface wind speed (m/s).
    pub wind: Cube,
    /// Z(300 hPa) − Z(500 hPa) (m² s⁻²), for the warm-core test.
    pub thickness: Option<Cube>,
    /// Index in the file of each grid latitude and longitude (the reader orders latitudes
    /// south to north and longitudes from −180°), for TE's `i j` columns.
    pub file_index: (Vec<usize>, Vec<usize>),
}

impl Fields {
    /// Nodes with `i`, `j` as indices of the file's longitude and latitude.
    pub fn to_file_indices(&self, mut nodes: Vec<Vec<Node>>) -> Vec<Vec<Node>> {
        for n in nodes.iter_mut().flatten() {
            n.j = self.file_index.0[n.j];
            n.i = self.file_index.1[n.i];
        }
        nodes
    }
}

/// The file index of each value of `ours` in the file's coordinate `name` of the variable
/// `var` (longitudes compared modulo 360°); the identity when the file cannot say.
fn file_order(path: &Path, var: &str, dim_pos_from_end: usize, ours: &[f64]) -> Vec<usize> {
    let identity: Vec<usize> = (0..ours.len()).collect();
    let Ok(file) = netcdf::open(path) else {
        return identity;
    };
    let Some(v) = file.variable(var) else {
        return identity;
    };
    let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
    let Some(name) = dims
        .len()
        .checked_sub(dim_pos_from_end + 1)
        .map(|k| &dims[k])
    else {
        return identity;
    };
    let Some(coord) = file.variable(name) else {
        return identity;
    };
    let Ok(values) = coord.get_values::<f64, _>(..) else {
        return identity;
    };
    let same = |a: f64, b: f64| ((a - b).rem_euclid(360.0) + 1e-6).rem_euclid(360.0) < 2e-6;
    let map: Option<Vec<usize>> = ours
        .iter()
        .map(|&x| values.iter().position(|&f| same(f, x)))
        .collect();
    map.unwrap_or(identity)
}

impl Series {
    /// This series' `(time, lat, lon)` view of a cube of the file.
    pub fn view<'a>(&self, c: &'a Cube) -> ArrayView3<'a, f32> {
        match self.init {
            None => c.values.slice(s![.., self.member, 0, .., ..]),
            Some(i) => c.values.slice(s![i, self.member, .., .., ..]),
        }
    }
}

/// Median spacing of the times (hours).
pub fn step_hours(hours: &[f64]) -> f64 {
    let mut d: Vec<f64> = hours.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return 6.0;
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// Reads the fields of one file and splits them into member series.
pub fn read_series(path: &Path, a: &FieldNames) -> Result<(Fields, Vec<Series>, NodeGrid)> {
    let bbox = a.bbox;
    let psl_name = pick(
        path,
        a.psl.as_deref(),
        &["psl", "msl", "mslp", "slp", "prmsl", "PSL"],
    )?
    .ok_or_else(|| Error::AmbiguousVariable {
        path: path.to_path_buf(),
        reason: "no sea-level pressure (psl, msl, mslp, slp, prmsl, PSL); name it with --psl"
            .into(),
    })?;
    let psl = to_units(
        read_raw(path, &psl_name, bbox.as_ref(), None)?,
        path,
        pressure_to_pa,
        "Pa",
        (85_000.0, 110_000.0),
    )?;
    if psl.meta.kind == CubeKind::Observed {
        let c = &psl.coords.lead[0];
        let hours = match c.unit {
            LeadUnit::Hour => c.width,
            LeadUnit::Day => 24.0 * c.width,
            LeadUnit::Week => 168.0 * c.width,
            LeadUnit::Month => 720.0 * c.width,
        };
        if hours > 48.0 {
            return Err(Error::Time {
                path: path.to_path_buf(),
                variable: psl_name,
                reason: format!(
                    "a {} series; cyclone tracking needs daily or sub-daily fields",
                    c.label()
                ),
            });
        }
    }
    let speed_names = ["sfcWind", "wspd", "ws10", "si10"];
    let wind = match (&a.wind, &a.uas, &a.vas) {
        (Some(w), _, _) => read_speed(path, w, bbox.as_ref())?,
        (None, Some(u), Some(v)) => read_components(path, u, v, bbox.as_ref())?,
        _ => {
            let u = pick(path, None, &["uas", "u10", "UBOT"])?;
            let v = pick(path, None, &["vas", "v10", "VBOT"])?;
            match (u, v, pick(path, None, &speed_names)?) {
                (Some(u), Some(v), _) => read_components(path, &u, &v, bbox.as_ref())?,
                (_, _, Some(w)) => read_speed(path, &w, bbox.as_ref())?,
                _ => return Err(Error::AmbiguousVariable {
                    path: path.to_path_buf(),
                    reason: "no near-surface wind (uas/vas, u10/v10, UBOT/VBOT or sfcWind, wspd, ws10); name it with --wind or --uas/--vas".into(),
                }),
            }
        }
    };
    let thickness = match &a.thickness {
        Some(t) => Some(to_units(
            read_raw(path, t, bbox.as_ref(), None)?,
            path,
            geopotential_to_m2_s2,
            "m2 s-2",
            (20_000.0, 60_000.0),
        )?),
        None => None,
    };
    for (what, c) in [("wind", Some(&wind)), ("thickness", thickness.as_ref())] {
        if let Some(c) = c {
            if c.values.dim() != psl.values.dim()
                || !c.coords.spatial.same_grid(&psl.coords.spatial)
            {
                return Err(Error::Grid {
                    path: path.to_path_buf(),
                    variable: c.meta.variable.clone(),
                    reason: format!(
                        "the {what} is not on the sea-level pressure's times and grid ({:?} vs {:?})",
                        c.values.dim(),
                        psl.values.dim()
                    ),
                });
            }
        }
    }
    let Spatial::Grid { lat, lon } = &psl.coords.spatial else {
        return Err(Error::Grid {
            path: path.to_path_buf(),
            variable: psl_name,
            reason: format!(
                "not on a latitude/longitude grid ({}); cyclone detection needs one",
                psl.coords.spatial.describe()
            ),
        });
    };
    let (ni, nm, nl, _, _) = psl.values.dim();
    let cal = psl.meta.calendar;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    let origin = psl.coords.init[0];
    match psl.meta.kind {
        CubeKind::Observed => {
            if nl != 1 {
                return Err(Error::Dimensions {
                    path: path.to_path_buf(),
                    variable: psl_name,
                    reason: format!("an observed series with {nl} leads"),
                });
            }
            let times = psl.coords.init.clone();
            let hours = times
                .iter()
                .map(|t| origin.seconds_until(t, cal).map(|s| s / 3600.0))
                .collect::<Result<Vec<_>, _>>()?;
            for m in 0..nm {
                out.push(Series {
                    label: format!("{stem} member {}", psl.coords.member[m]),
                    times: times.clone(),
                    hours: hours.clone(),
                    init: None,
                    member: m,
                });
            }
        }
        CubeKind::Forecast => {
            for i in 0..ni {
                let init = psl.coords.init[i];
                let times = (0..nl)
                    .map(|l| psl.target_period(i, l).map(|p| p.0))
                    .collect::<Result<Vec<_>, _>>()?;
                let hours = times
                    .iter()
                    .map(|t| init.seconds_until(t, cal).map(|s| s / 3600.0))
                    .collect::<Result<Vec<_>, _>>()?;
                if hours.windows(2).any(|w| w[1] - w[0] > 48.0) {
                    return Err(Error::Time {
                        path: path.to_path_buf(),
                        variable: psl_name,
                        reason: "leads are more than 2 days apart; cyclone tracking needs daily or sub-daily fields".into(),
                    });
                }
                for m in 0..nm {
                    out.push(Series {
                        label: format!("{stem} start {init} member {}", psl.coords.member[m]),
                        times: times.clone(),
                        hours: hours.clone(),
                        init: Some(i),
                        member: m,
                    });
                }
            }
        }
    }
    if let Some(s) = out.first() {
        if s.hours.len() > 1 && step_hours(&s.hours) > 48.0 {
            return Err(Error::Time {
                path: path.to_path_buf(),
                variable: psl_name,
                reason: format!(
                    "time steps are {:.0} h apart; cyclone tracking needs daily or sub-daily fields",
                    step_hours(&s.hours)
                ),
            });
        }
    }
    let grid = NodeGrid::new(lat, lon).with_context(|| path.display().to_string())?;
    let file_index = (
        file_order(path, &psl_name, 1, lat),
        file_order(path, &psl_name, 0, lon),
    );
    Ok((
        Fields {
            psl,
            wind,
            thickness,
            file_index,
        },
        out,
        grid,
    ))
}

fn read_speed(path: &Path, var: &str, bbox: Option<&BBox>) -> Result<Cube> {
    to_units(
        read_raw(path, var, bbox, None)?,
        path,
        speed_to_m_s,
        "m s-1",
        (0.0, 60.0),
    )
}

fn read_components(path: &Path, u: &str, v: &str, bbox: Option<&BBox>) -> Result<Cube> {
    let cu = to_units(
        read_raw(path, u, bbox, None)?,
        path,
        speed_to_m_s,
        "m s-1",
        (-60.0, 60.0),
    )?;
    let cv = to_units(
        read_raw(path, v, bbox, None)?,
        path,
        speed_to_m_s,
        "m s-1",
        (-60.0, 60.0),
    )?;
    if cu.values.dim() != cv.values.dim() {
        return Err(Error::Grid {
            path: path.to_path_buf(),
            variable: v.to_string(),
            reason: format!(
                "wind components '{u}' {:?} and '{v}' {:?} differ in shape",
                cu.values.dim(),
                cv.values.dim()
            ),
        });
    }
    let (a, b, c, d, e) = cu.values.dim();
    let flat_u = cu.values.view().into_shape_with_order((a * b * c, d, e))?;
    let flat_v = cv.values.view().into_shape_with_order((a * b * c, d, e))?;
    let speed = wind_speed(flat_u, flat_v)?.into_shape_with_order((a, b, c, d, e))?;
    let mut out = cu;
    out.values = speed;
    out.meta.variable = format!("hypot({u}, {v})");
    Ok(out)
}
