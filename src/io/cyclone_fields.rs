//! Fields of tropical-cyclone detection read from NetCDF files: sea-level pressure and, each
//! optional, the near-surface wind (speed or components), the 850 hPa relative vorticity and
//! the 300–500 hPa thickness, converted to Pa, m/s, s⁻¹ and m² s⁻² (with a plausibility check
//! of each), and split into one time series per member (and start date, for forecasts).
//!
//! One run may come as several files holding different variables on the same times and grid
//! (ERA5's `msl.nc` and `vo850.nc`): TempestExtremes' `--in_data "a.nc;b.nc"`, written the same
//! way here ([`run_files`]); each variable is taken from the first file that has it.
//!
//! Variables are found by the names ERA5, CMIP/CMOR, CESM and GRIB conversions use unless they
//! are named ([`FieldNames`]). Series must be daily or sub-daily: TempestExtremes' criteria are
//! defined on 6-hourly fields.

use std::path::{Path, PathBuf};

use ndarray::{s, ArrayView3};

use super::vars::{pick, to_units};
use super::{read_cube, ReadOptions};
use crate::calendar::CfDateTime;
use crate::cube::{BBox, CubeKind, LeadUnit, Spatial};
use crate::cyclone::detect::wind_speed;
use crate::cyclone::{Node, NodeColumns, NodeGrid, SeriesFields};
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
    /// Relative vorticity (s⁻¹; the 850 hPa level of a variable on pressure levels): turns
    /// the vorticity criterion on.
    pub vorticity: Option<String>,
    /// Only this box.
    pub bbox: Option<BBox>,
}

/// The files of one run: `a.nc;b.nc` (TempestExtremes' `--in_data` syntax) is one run whose
/// variables are split over two files.
pub fn run_files(input: &Path) -> Vec<std::path::PathBuf> {
    let text = input.to_string_lossy();
    if text.contains(';') {
        text.split(';')
            .filter(|p| !p.trim().is_empty())
            .map(|p| std::path::PathBuf::from(p.trim()))
            .collect()
    } else {
        vec![input.to_path_buf()]
    }
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

/// The fields of one run, converted to Pa, m/s, s⁻¹ and m² s⁻².
pub struct Fields {
    /// Sea-level pressure (Pa).
    pub psl: Cube,
    /// Near-surface wind speed (m/s), when the files have a wind.
    pub wind: Option<Cube>,
    /// Z(300 hPa) − Z(500 hPa) (m² s⁻²), for the warm-core test.
    pub thickness: Option<Cube>,
    /// Relative vorticity (s⁻¹), for the vorticity criterion.
    pub vorticity: Option<Cube>,
}

impl Fields {
    /// The output columns of nodes detected on these fields.
    pub fn columns(&self) -> NodeColumns {
        NodeColumns {
            wind: self.wind.is_some(),
            vorticity: self.vorticity.is_some(),
        }
    }

    /// Bytes the fields hold.
    pub fn bytes(&self) -> usize {
        [
            Some(&self.psl),
            self.wind.as_ref(),
            self.thickness.as_ref(),
            self.vorticity.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|c| c.values.len() * std::mem::size_of::<f32>())
        .sum()
    }

    /// Nodes with `i`, `j` as indices of the file's longitude and latitude.
    pub fn to_file_indices(grid: &NodeGrid, mut nodes: Vec<Vec<Node>>) -> Vec<Vec<Node>> {
        for n in nodes.iter_mut().flatten() {
            (n.j, n.i) = grid.file_index((n.j, n.i));
        }
        nodes
    }
}

/// The file index of each value of `ours` in the file's coordinate `name` of the variable
/// `var` (longitudes compared modulo 360°); the identity when the file cannot say.
fn file_order(path: &Path, var: &str, dim_pos_from_end: usize, ours: &[f64]) -> Vec<usize> {
    let identity: Vec<usize> = (0..ours.len()).collect();
    let Ok(file) = super::read::open(path) else {
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

    /// This series' views of every field.
    pub fn fields<'a>(&self, f: &'a Fields) -> SeriesFields<'a> {
        SeriesFields {
            psl_pa: self.view(&f.psl),
            wind_ms: f.wind.as_ref().map(|c| self.view(c)),
            thickness: f.thickness.as_ref().map(|c| self.view(c)),
            vorticity_s: f.vorticity.as_ref().map(|c| self.view(c)),
        }
    }
}

/// The first of `files` holding one of `names` (or the given name), and the name.
fn pick_in(
    files: &[std::path::PathBuf],
    given: Option<&str>,
    names: &[&str],
) -> Result<Option<(std::path::PathBuf, String)>> {
    for f in files {
        match given {
            Some(g) => {
                if super::inspect::data_variable_names(f)?
                    .iter()
                    .any(|v| v == g)
                {
                    return Ok(Some((f.clone(), g.to_string())));
                }
            }
            None => {
                if let Some(n) = pick(f, None, names)? {
                    return Ok(Some((f.clone(), n)));
                }
            }
        }
    }
    Ok(None)
}

/// `files` joined for messages.
fn files_label(files: &[std::path::PathBuf]) -> std::path::PathBuf {
    std::path::PathBuf::from(
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(";"),
    )
}

/// A named variable that none of the files has.
fn not_found(files: &[std::path::PathBuf], name: &str, flag: &str) -> Error {
    Error::AmbiguousVariable {
        path: files_label(files),
        reason: format!("no variable '{name}' (given with {flag}) in any of the run's files"),
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

/// Where each field of one run is: the file and variable of the pressure and of each optional
/// field, resolved once ([`RunSource::resolve`]) and then read whole or block by block
/// ([`RunSource::read`]).
#[derive(Debug, Clone)]
pub struct RunSource {
    files: Vec<PathBuf>,
    psl: (PathBuf, String),
    wind: Option<WindSource>,
    thickness: Option<(PathBuf, String)>,
    vorticity: Option<(PathBuf, String)>,
    bbox: Option<BBox>,
}

/// A wind given as a speed or as components.
#[derive(Debug, Clone)]
enum WindSource {
    Speed(PathBuf, String),
    Components((PathBuf, String), (PathBuf, String)),
}

/// A cube in the units `wanted`: checked for plausibility on the first block (`check`), only
/// converted on the others (a block of missing values is not an error).
fn converted(
    c: Cube,
    path: &Path,
    factor: fn(&str) -> Option<f64>,
    wanted: &str,
    plausible: (f64, f64),
    check: bool,
) -> Result<Cube> {
    if check {
        return to_units(c, path, factor, wanted, plausible);
    }
    let mut c = c;
    let f = factor(&c.meta.units).ok_or_else(|| Error::Units {
        path: path.to_path_buf(),
        variable: c.meta.variable.clone(),
        reason: format!("units '{}' cannot be converted to {wanted}", c.meta.units),
    })?;
    if f != 1.0 {
        c.values.mapv_inplace(|x| (x as f64 * f) as f32);
    }
    c.meta.units = wanted.to_string();
    Ok(c)
}

impl RunSource {
    /// Finds the variables of a run (one file, or the files of [`run_files`]): named ones must
    /// exist; the pressure is found by name; the wind is optional (pressure-only detection).
    pub fn resolve(input: &Path, a: &FieldNames) -> Result<Self> {
        let files = run_files(input);
        let psl = match pick_in(
            &files,
            a.psl.as_deref(),
            &["psl", "msl", "mslp", "slp", "prmsl", "PSL"],
        )? {
            Some(found) => found,
            None => {
                return Err(match &a.psl {
                    Some(n) => not_found(&files, n, "--psl"),
                    None => Error::AmbiguousVariable {
                        path: files_label(&files),
                        reason:
                            "no sea-level pressure (psl, msl, mslp, slp, prmsl, PSL); name it with --psl"
                                .into(),
                    },
                })
            }
        };
        let named = |name: &str, flag: &str| {
            pick_in(&files, Some(name), &[])?.ok_or_else(|| not_found(&files, name, flag))
        };
        let wind = match (&a.wind, &a.uas, &a.vas) {
            (Some(w), _, _) => Some(WindSource::Speed(named(w, "--wind")?.0, w.clone())),
            (None, Some(u), Some(v)) => Some(WindSource::Components(
                named(u, "--uas")?,
                named(v, "--vas")?,
            )),
            _ => {
                let u = pick_in(&files, None, &["uas", "u10", "UBOT"])?;
                let v = pick_in(&files, None, &["vas", "v10", "VBOT"])?;
                let speed = pick_in(&files, None, &["sfcWind", "wspd", "ws10", "si10"])?;
                match (u, v, speed) {
                    (Some(u), Some(v), _) => Some(WindSource::Components(u, v)),
                    (_, _, Some((f, w))) => Some(WindSource::Speed(f, w)),
                    // pressure-only detection: wind is an output, not a criterion
                    _ => None,
                }
            }
        };
        Ok(RunSource {
            psl,
            wind,
            thickness: a
                .thickness
                .as_deref()
                .map(|t| named(t, "--thickness"))
                .transpose()?,
            vorticity: a
                .vorticity
                .as_deref()
                .map(|v| named(v, "--vorticity"))
                .transpose()?,
            bbox: a.bbox,
            files,
        })
    }

    /// Reads every field, whole (`steps: None`) or the block `(start, count)` of the time steps
    /// (series) or start dates (forecasts), converted to Pa, m/s, s⁻¹ and m² s⁻²; the units are
    /// checked for plausibility on the whole file or on the first block.
    pub fn read(&self, steps: Option<(usize, usize)>) -> Result<Fields> {
        let check = steps.map_or(true, |(start, _)| start == 0);
        let bbox = self.bbox.as_ref();
        let raw = |(path, var): &(PathBuf, String), level: Option<f64>| {
            read_cube(
                path,
                &ReadOptions {
                    variable: Some(var.clone()),
                    bbox: bbox.cloned(),
                    keep_units: true,
                    level_hpa: level,
                    time_steps: steps,
                    ..Default::default()
                },
            )
        };
        let (psl_path, psl_name) = &self.psl;
        let psl = converted(
            raw(&self.psl, None)?,
            psl_path,
            pressure_to_pa,
            "Pa",
            (85_000.0, 110_000.0),
            check,
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
                    path: psl_path.clone(),
                    variable: psl_name.clone(),
                    reason: format!(
                        "a {} series; cyclone tracking needs daily or sub-daily fields",
                        c.label()
                    ),
                });
            }
        }
        let speed = |src: &(PathBuf, String), range: (f64, f64)| -> Result<Cube> {
            converted(raw(src, None)?, &src.0, speed_to_m_s, "m s-1", range, check)
        };
        let wind = match &self.wind {
            None => None,
            Some(WindSource::Speed(f, w)) => Some(speed(&(f.clone(), w.clone()), (0.0, 60.0))?),
            Some(WindSource::Components(u, v)) => Some(wind_from_components(
                speed(u, (-60.0, 60.0))?,
                speed(v, (-60.0, 60.0))?,
                &v.0,
            )?),
        };
        let thickness = match &self.thickness {
            Some(src) => Some(converted(
                raw(src, None)?,
                &src.0,
                geopotential_to_m2_s2,
                "m2 s-2",
                (20_000.0, 60_000.0),
                check,
            )?),
            None => None,
        };
        let vorticity = match &self.vorticity {
            Some((path, var)) => {
                let levels = super::pressure_levels(path, Some(var))?;
                let level = (levels.len() > 1).then_some(VORTICITY_LEVEL_HPA);
                Some(vorticity_in_s(
                    raw(&(path.clone(), var.clone()), level)?,
                    path,
                    var,
                    check,
                )?)
            }
            None => None,
        };
        for (what, c) in [
            ("wind", wind.as_ref()),
            ("thickness", thickness.as_ref()),
            ("vorticity", vorticity.as_ref()),
        ] {
            if let Some(c) = c {
                if c.values.dim() != psl.values.dim()
                    || !c.coords.spatial.same_grid(&psl.coords.spatial)
                    || c.coords.init != psl.coords.init
                {
                    return Err(Error::Grid {
                        path: files_label(&self.files),
                        variable: c.meta.variable.clone(),
                        reason: format!(
                            "the {what} is not on the sea-level pressure's times and grid ({:?} vs {:?}{})",
                            c.values.dim(),
                            psl.values.dim(),
                            if c.values.dim() == psl.values.dim() { ", other times" } else { "" }
                        ),
                    });
                }
            }
        }
        if !matches!(psl.coords.spatial, Spatial::Grid { .. }) {
            return Err(Error::Grid {
                path: psl_path.clone(),
                variable: psl_name.clone(),
                reason: format!(
                    "not on a latitude/longitude grid ({}); cyclone detection needs one",
                    psl.coords.spatial.describe()
                ),
            });
        }
        Ok(Fields {
            psl,
            wind,
            thickness,
            vorticity,
        })
    }

    /// The detection grid of the fields read, with the file's row and column order.
    pub fn grid(&self, f: &Fields) -> Result<NodeGrid> {
        let (path, var) = &self.psl;
        let Spatial::Grid { lat, lon } = &f.psl.coords.spatial else {
            return Err(Error::Grid {
                path: path.clone(),
                variable: var.clone(),
                reason: "not on a latitude/longitude grid".into(),
            });
        };
        NodeGrid::new(lat, lon)
            .and_then(|g| {
                g.with_file_order(file_order(path, var, 1, lat), file_order(path, var, 0, lon))
            })
            .with_context(|| path.display().to_string())
    }

    /// The member series of fields read: for an observed-style series one per member, its
    /// hours counted from `origin` (the series' first time: blocks share it); for forecasts
    /// one per start date and member, hours since the start.
    pub fn series(&self, f: &Fields, origin: Option<CfDateTime>) -> Result<Vec<Series>> {
        let (path, psl_name) = &self.psl;
        let psl = &f.psl;
        let (ni, nm, nl, _, _) = psl.values.dim();
        let cal = psl.meta.calendar;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut out = Vec::new();
        match psl.meta.kind {
            CubeKind::Observed => {
                if nl != 1 {
                    return Err(Error::Dimensions {
                        path: path.clone(),
                        variable: psl_name.clone(),
                        reason: format!("an observed series with {nl} leads"),
                    });
                }
                let origin = origin.unwrap_or(psl.coords.init[0]);
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
                    check_sub_daily(&hours, path, psl_name)?;
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
        Ok(out)
    }

    /// The pressure variable's chunk length along its first (time) dimension, when the file
    /// is chunked: reading a block of fewer steps decompresses the whole chunk anyway, so
    /// blocks should be whole chunks.
    pub fn time_chunk(&self) -> Option<usize> {
        let (path, var) = &self.psl;
        let file = super::read::open(path).ok()?;
        let v = file.variable(var)?;
        v.chunking()
            .ok()
            .flatten()?
            .first()
            .copied()
            .filter(|&c| c > 0)
    }

    /// The file and variable of the pressure (for messages).
    pub fn pressure(&self) -> (&Path, &str) {
        (&self.psl.0, &self.psl.1)
    }
}

/// An error unless steps are at most 2 days apart (median) and no gap exceeds 2 days within a
/// forecast.
pub fn check_sub_daily(hours: &[f64], path: &Path, var: &str) -> Result<()> {
    if hours.len() > 1 && step_hours(hours) > 48.0 {
        return Err(Error::Time {
            path: path.to_path_buf(),
            variable: var.to_string(),
            reason: format!(
                "time steps are {:.0} h apart; cyclone tracking needs daily or sub-daily fields",
                step_hours(hours)
            ),
        });
    }
    Ok(())
}

/// Relative vorticity in s⁻¹, checked to be a vorticity (typical magnitudes 10⁻⁶–10⁻³ s⁻¹) on
/// the first block (`check`).
fn vorticity_in_s(c: Cube, path: &Path, var: &str, check: bool) -> Result<Cube> {
    let factor = |u: &str| match u.trim() {
        "s-1" | "s**-1" | "1/s" | "s^-1" | "/s" | "1 s-1" => Some(1.0),
        "1e-5 s-1" | "10**-5 s**-1" | "1e-5/s" => Some(1e-5),
        _ => None,
    };
    let mut c = converted(c, path, factor, "s-1", (-1e-3, 1e-3), check)?;
    if !check {
        return Ok(c);
    }
    // the median |ζ| of a field is ~10⁻⁵ s⁻¹; a field in 10⁻⁵ s⁻¹ stamped s-1 is ~1
    let stride = (c.values.len() / 100_000).max(1);
    let mut mag: Vec<f32> = c
        .values
        .iter()
        .step_by(stride)
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    if !mag.is_empty() {
        let k = mag.len() / 2;
        let median = *mag.select_nth_unstable_by(k, f32::total_cmp).1;
        if median.is_nan() || median >= 1e-3 {
            return Err(Error::Units {
                path: path.to_path_buf(),
                variable: var.to_string(),
                reason: format!(
                    "median |vorticity| {median:e} in '{}' is not a relative vorticity in s-1 (typically 1e-5)",
                    c.meta.units
                ),
            });
        }
    }
    c.meta.units = "s-1".into();
    Ok(c)
}

/// The level of the vorticity criterion (hPa): TempestExtremes' and Hodges' TC vorticity is
/// that of 850 hPa, above the boundary layer and below the outflow.
pub const VORTICITY_LEVEL_HPA: f64 = 850.0;

/// The wind speed of its components (same shape required; `path` names the northward one).
fn wind_from_components(cu: Cube, cv: Cube, path: &Path) -> Result<Cube> {
    let (u, v) = (cu.meta.variable.clone(), cv.meta.variable.clone());
    if cu.values.dim() != cv.values.dim() {
        return Err(Error::Grid {
            path: path.to_path_buf(),
            variable: v.clone(),
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
