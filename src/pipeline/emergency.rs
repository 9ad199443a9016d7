//! The emergency job (`s2s emergency`): drift of a ship or oil from a point at sea in every
//! member's currents and winds (Lagrangian particles, [`crate::emergency::drift()`]; stranding on
//! coasts, position probabilities, coast table) and, with cyclone fields, the probability that
//! a tropical cyclone passes near the site ([`crate::emergency::passage_risk`]); the
//! emergency bulletin (Markdown, HTML, JSON) and its NetCDF ([`crate::io::products::emergency`]).

use std::path::{Path, PathBuf};

use ndarray::{s, Array2};

use super::cyclones::{track_inputs, TrackSettings};
use super::{load_countries, RunOptions};
use crate::bulletin::{html_page, render_track_map, DensityLayer, Images};
use crate::calendar::{Calendar, CfDateTime};
use crate::config::{resolve_path, EmergencyConfig};
use crate::cube::Spatial;
use crate::emergency::{
    coast_table, drift, particle_weights, passage_risk, position_probability, seed_disk,
    strike_probability, CoastHit, DriftSpec, PassageRisk, Period, Schedule, Scheme, Status,
    Trajectories, VelocityField,
};
use crate::error::{Error, Result};
use crate::grid::LandRaster;
use crate::io::products::emergency::{write_drift_maps, write_trajectories};
use crate::io::vars::{pick, read_surface, to_units};
use crate::io::write_text_atomic;
use crate::progress::Progress;
use crate::units::speed_to_m_s;
use crate::Cube;

/// Days at which position maps and coast probabilities are reported.
const REPORT_DAYS: [usize; 5] = [1, 3, 7, 14, 30];

/// A resolved emergency job: from the command line or an `[emergency]` table. Units: degrees
/// (site), days, particles per member, windage as a fraction of the 10 m wind, diffusivity in
/// m² s⁻¹, radii in km, the time step in minutes.
#[derive(Debug, Clone)]
pub struct EmergencyPlan {
    pub lat: f64,
    pub lon: f64,
    pub start: String,
    pub days: usize,
    pub currents: Vec<PathBuf>,
    pub current_vars: Option<String>,
    pub wind: Vec<PathBuf>,
    pub particles: usize,
    pub windage: f64,
    pub diffusivity: f64,
    pub release_radius_km: f64,
    pub step_minutes: f64,
    pub seed: u64,
    pub cyclone_fields: Vec<PathBuf>,
    pub radius_km: f64,
    pub countries: Option<PathBuf>,
    pub out: PathBuf,
    /// Run past the end of a forcing file on its last field (persistence), with a warning in
    /// the bulletin, instead of stopping with an error.
    pub allow_persistence: bool,
}

impl EmergencyPlan {
    /// The plan of the `[emergency]` table of the configuration `path` (paths relative to its
    /// folder): outputs into `out`, else the table's `output`; the time step and the country
    /// polygons are not part of the table.
    pub fn from_config(
        path: &Path,
        out: Option<PathBuf>,
        step_minutes: f64,
        countries: Option<PathBuf>,
    ) -> Result<Self> {
        let c = EmergencyConfig::load(path)?;
        // The configuration's units fill the process's table under the command line's.
        crate::io::add_assumed_units_defaults(&crate::units::AssumedUnits {
            by_variable: c.units.clone(),
            any: None,
        });
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &PathBuf| resolve_path(base, p);
        let out = match (out, &c.output) {
            (Some(o), _) => o,
            (None, Some(o)) => rel(o),
            (None, None) => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    reason: "[emergency] has no output; give --out".into(),
                })
            }
        };
        Ok(EmergencyPlan {
            lat: c.lat,
            lon: c.lon,
            start: c.start,
            days: c.days,
            currents: c.currents.paths().iter().map(rel).collect(),
            current_vars: c.current_vars,
            wind: c
                .wind
                .as_ref()
                .map(|w| w.paths().iter().map(rel).collect())
                .unwrap_or_default(),
            particles: c.particles,
            windage: c.windage,
            diffusivity: c.diffusivity,
            release_radius_km: c.release_radius_km,
            step_minutes,
            seed: c.seed,
            cyclone_fields: c.cyclone_fields.iter().map(rel).collect(),
            radius_km: c.radius_km,
            countries,
            out,
            allow_persistence: c.allow_persistence,
        })
    }
}

/// What [`emergency`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmergencyReport {
    /// Ensemble members drifted.
    pub members: usize,
    /// `emergency.md` (with `.html`, `.json`, `trajectories.nc`, `drift_probability.nc`).
    pub markdown: std::path::PathBuf,
}

/// One member's velocity data: currents and winds `(time, lat, lon)` as cubes.
struct Fields {
    lat: Vec<f64>,
    lon: Vec<f64>,
    times_s: Vec<f64>,
    u: Cube,
    v: Cube,
    /// For currents regridded from a curvilinear grid: the lon/lat cells inside its domain.
    domain: Option<Array2<bool>>,
    wind: Option<Wind>,
}

/// 10 m winds on their own grid and time axis.
struct Wind {
    u: Cube,
    v: Cube,
    times_s: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    path: PathBuf,
}

/// The two components of a vector field from `path` — one file, or several separated by `;`
/// (TempestExtremes' convention; NEMO writes `vozocrtx` in its `grid_U` file and `vomecrty` in
/// `grid_V`: `'grid_U.nc;grid_V.nc'`), each component read from the file that holds it: the
/// names given as `U,V`, else the first of `defaults` found. Also returns the x component's
/// file (its grid's axis directions are read from it).
fn read_pair(
    path: &Path,
    given: Option<&str>,
    defaults: &[(&str, &str)],
) -> Result<(Cube, Cube, PathBuf)> {
    let text = path.to_string_lossy();
    let files: Vec<PathBuf> = text
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for f in &files {
        for n in crate::io::inspect::data_variable_names(f)? {
            names.push((n, f.clone()));
        }
    }
    let file_of = |v: &str| names.iter().find(|(n, _)| n == v).map(|(_, f)| f.clone());
    let listed = || {
        names
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (un, vn) = match given {
        Some(g) => {
            let (a, b) = g
                .split_once(',')
                .ok_or_else(|| Error::invalid(format!("'{g}'"), "expected U,V variable names"))?;
            (a.trim().to_string(), b.trim().to_string())
        }
        None => {
            let found = defaults
                .iter()
                .find(|(u, v)| file_of(u).is_some() && file_of(v).is_some());
            match found {
                Some((u, v)) => (u.to_string(), v.to_string()),
                None => {
                    return Err(Error::AmbiguousVariable {
                        path: path.to_path_buf(),
                        reason: format!(
                            "none of the variable pairs {} (the files have {})",
                            defaults
                                .iter()
                                .map(|(u, v)| format!("{u}/{v}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            listed()
                        ),
                    })
                }
            }
        }
    };
    let locate = |n: &str| -> Result<PathBuf> {
        file_of(n).ok_or_else(|| Error::MissingVariable {
            path: path.to_path_buf(),
            variable: n.to_string(),
            present: listed(),
        })
    };
    let (uf, vf) = (locate(&un)?, locate(&vn)?);
    let conv = |f: &Path, n: &str| -> Result<Cube> {
        to_units(read_surface(f, n)?, f, speed_to_m_s, "m s-1", (-20.0, 20.0))
    };
    Ok((conv(&uf, &un)?, conv(&vf, &vn)?, uf))
}

/// A vector's components (`u`, `v` of the file `path`) on a lon/lat grid. On a curvilinear
/// or projected grid (ROMS, NEMO, HYCOM native, a polar-stereographic or Lambert file)
/// grid-relative components (`sea_water_x_velocity`, `x_wind`, …, staggered or not) are first
/// rotated to east/north at their own points ([`crate::grid::vectors::to_east_north`]), then
/// both are regridded by inverse-distance weighting onto the lon/lat grid that covers them at
/// their own resolution ([`crate::grid::distance::covering_grid`]); the source's masked (land)
/// cells stay missing, so particles strand on them as on any model coast. Components whose
/// standard names do not say which way they point are refused: guessing would turn a current
/// by the grid's angle without a word.
///
/// Also returns, for a regridded pair, which lon/lat cells lie inside the source's domain.
fn on_lon_lat(path: &Path, u: Cube, v: Cube) -> Result<(Cube, Cube, Option<Array2<bool>>)> {
    use crate::grid::vectors::{grid_relative_component, to_east_north};
    let on_grid = |c: &Cube| matches!(c.coords.spatial, Spatial::Grid { .. });
    if on_grid(&u) && on_grid(&v) {
        return Ok((u, v, None));
    }
    let std_name = |c: &Cube| c.meta.standard_name.clone().unwrap_or_default();
    let earth_relative = |c: &Cube| {
        let s = std_name(c);
        s.starts_with("eastward_") || s.starts_with("northward_")
    };
    let (east, north) = if grid_relative_component(&std_name(&u)).is_some()
        && grid_relative_component(&std_name(&v)).is_some()
    {
        let signs = crate::io::grid_axis_signs(path, Some(&u.meta.variable), &Default::default())?;
        to_east_north(&u, &v, signs).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
    } else if earth_relative(&u) && earth_relative(&v) {
        (u, v)
    } else {
        let (un, vn) = (&u.meta.variable, &v.meta.variable);
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: format!(
                "'{un}' and '{vn}' are on a curvilinear grid ({}) and their standard_name ('{}', '{}') does not say whether they lie along the grid's axes or point east and north; add it, e.g. ncatted -a standard_name,{un},o,c,sea_water_x_velocity -a standard_name,{vn},o,c,sea_water_y_velocity {} (or eastward_sea_water_velocity and northward_sea_water_velocity; x_wind/y_wind or eastward_wind/northward_wind for winds)",
                u.coords.spatial.describe(),
                std_name(&u),
                std_name(&v),
                path.display()
            ),
        });
    };
    let Spatial::Curvilinear { lat, lon } = &east.coords.spatial else {
        return Ok((east, north, None));
    };
    let target = crate::grid::distance::covering_grid(lat, lon)?;
    // one set of weights for both components and the domain mask
    let weights = crate::grid::distance::ToLonLat::new(&east.coords.spatial, &target)?;
    let regrid = |c: &Cube| {
        weights.regrid(c).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            reason: format!("regridding '{}' onto a lon/lat grid: {e}", c.meta.variable),
        })
    };
    log::info!(
        "{}: '{}' and '{}' ({} and {}) on {} regridded to {} x {} (lat x lon) by inverse distance for the drift",
        path.display(),
        east.meta.variable,
        north.meta.variable,
        std_name(&east),
        std_name(&north),
        east.coords.spatial.describe(),
        target.ny(),
        target.nx()
    );
    Ok((regrid(&east)?, regrid(&north)?, Some(weights.inside())))
}

/// Seconds of each time step after `origin`.
fn seconds_since(c: &Cube, origin: &CfDateTime) -> Result<Vec<f64>> {
    c.coords
        .init
        .iter()
        .map(|t| origin.seconds_until(t, c.meta.calendar))
        .collect()
}

fn read_fields(a: &EmergencyPlan, model: usize, origin: &CfDateTime) -> Result<Fields> {
    let currents = &a.currents[model];
    let (u, v, u_file) = read_pair(
        currents,
        a.current_vars.as_deref(),
        &[
            ("uo", "vo"),
            ("ugos", "vgos"),
            ("u", "v"),
            ("water_u", "water_v"),
            ("vozocrtx", "vomecrty"),
        ],
    )?;
    let (u, v, domain) = on_lon_lat(&u_file, u, v)?;
    if u.values.dim() != v.values.dim() {
        return Err(Error::Input {
            path: currents.clone(),
            reason: "the current components differ in shape".into(),
        });
    }
    let Spatial::Grid { lat, lon } = &u.coords.spatial else {
        return Err(Error::Input {
            path: currents.clone(),
            reason: "currents must be on a latitude/longitude grid".into(),
        });
    };
    let (lat, lon) = (lat.clone(), lon.clone());
    let times_s = seconds_since(&u, origin)?;
    let wind_path = match a.wind.len() {
        0 => pick(currents, None, &["uas", "u10"])
            .ok()
            .flatten()
            .map(|_| currents.clone()),
        1 => Some(a.wind[0].clone()),
        n if n == a.currents.len() => Some(a.wind[model].clone()),
        n => {
            return Err(Error::invalid(
                "--wind",
                format!(
                    "{n} files for {} currents files: give one for all or one per model",
                    a.currents.len()
                ),
            ))
        }
    };
    let wind = match wind_path {
        Some(p) if a.windage > 0.0 => {
            let (wu, wv, wu_file) = read_pair(
                &p,
                None,
                &[
                    ("uas", "vas"),
                    ("u10", "v10"),
                    ("U10", "V10"),
                    ("UBOT", "VBOT"),
                ],
            )?;
            let (wu, wv, _) = on_lon_lat(&wu_file, wu, wv)?;
            // The winds are sampled on their own grid and times (no regridding onto the
            // currents' grid, which would smooth them); they must cover the currents' domain.
            let Spatial::Grid {
                lat: wlat,
                lon: wlon,
            } = &wu.coords.spatial
            else {
                return Err(Error::Input {
                    path: p.clone(),
                    reason: "winds must be on a latitude/longitude grid".into(),
                });
            };
            let (wlat, wlon) = (wlat.clone(), wlon.clone());
            let cell = |x: &[f64]| {
                if x.len() > 1 {
                    (x[1] - x[0]).abs()
                } else {
                    0.0
                }
            };
            let covers = |outer: &[f64], inner: &[f64], wraps: bool| {
                let (lo, hi) = (
                    outer[0] - 0.5 * cell(outer),
                    outer[outer.len() - 1] + 0.5 * cell(outer),
                );
                wraps && (hi - lo) >= 360.0 - 1e-6
                    || inner.iter().all(|&x| {
                        let x = if wraps {
                            crate::cube::wrap_lon(x, lo)
                        } else {
                            x
                        };
                        (lo - 1e-9..=hi + 1e-9).contains(&x)
                    })
            };
            if !covers(&wlat, &lat, false) || !covers(&wlon, &lon, true) {
                return Err(Error::Input {
                    path: p.clone(),
                    reason: format!(
                        "the winds ({}) do not cover the currents' domain ({}); give winds over the whole domain",
                        wu.coords.spatial.describe(),
                        u.coords.spatial.describe()
                    ),
                });
            }
            let wt = seconds_since(&wu, origin)?;
            Some(Wind {
                u: wu,
                v: wv,
                times_s: wt,
                lat: wlat,
                lon: wlon,
                path: p.clone(),
            })
        }
        _ => None,
    };
    Ok(Fields {
        lat,
        lon,
        times_s,
        u,
        v,
        domain,
        wind,
    })
}

pub fn emergency(
    a: &EmergencyPlan,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<EmergencyReport> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&a.out, || emergency_staged(a, options, progress))
}

fn emergency_staged(
    a: &EmergencyPlan,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<EmergencyReport> {
    let date = chrono::NaiveDate::parse_from_str(&a.start, "%Y-%m-%d")
        .map_err(|_| Error::invalid(format!("--start '{}'", a.start), "expected YYYY-MM-DD"))?;
    use chrono::Datelike;
    let start = CfDateTime::ymd(date.year(), date.month(), date.day());
    if !(-90.0..=90.0).contains(&a.lat) || a.days == 0 || a.particles == 0 {
        return Err(Error::invalid(
            "site or run",
            "--lat must be within ±90, --days and --particles positive",
        ));
    }
    let countries = load_countries(a.countries.as_deref())?;
    if countries.is_land(a.lat, a.lon) {
        return Err(Error::invalid(
            "site",
            format!(
                "({}, {}) is on land ({})",
                a.lat,
                a.lon,
                countries.at(a.lat, a.lon).map_or("", |c| c.name.as_str())
            ),
        ));
    }
    let models: Vec<Fields> = (0..a.currents.len())
        .map(|k| read_fields(a, k, &start))
        .collect::<Result<_>>()?;
    let end_s = a.days as f64 * 86_400.0;
    // Every forcing must cover the run (a daily field stands for its whole last day): a run
    // past the end of a file would otherwise go on in frozen fields — unless the user allows
    // persistence, which the bulletin then says.
    let mut warnings: Vec<String> = Vec::new();
    for (f, path) in models.iter().zip(&a.currents) {
        let forcings = std::iter::once(("currents", path.as_path(), &f.times_s)).chain(
            f.wind
                .as_ref()
                .map(|w| ("winds", w.path.as_path(), &w.times_s)),
        );
        for (what, path, times_s) in forcings {
            let t_last = times_s.last().copied().unwrap_or(0.0);
            let t_first = times_s.first().copied().unwrap_or(0.0);
            if t_first <= 0.0 && t_last < end_s - 86_400.0 && a.allow_persistence {
                warnings.push(format!(
                    "the {what} of {} end {:.1} days after {}: their last field is held unchanged (persistence) for the rest of the {} days",
                    path.display(),
                    t_last / 86_400.0,
                    a.start,
                    a.days
                ));
            } else if t_first > 0.0 || t_last < end_s - 86_400.0 {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the {what} cover {:.1} to {:.1} days after {} but the forecast needs 0 to {}; give {what} for the whole run, a shorter --days, or --allow-persistence",
                        t_first / 86_400.0,
                        t_last / 86_400.0,
                        a.start,
                        a.days
                    ),
                });
            }
        }
    }
    // maps and the land raster on the first model's grid
    let f = &models[0];
    let (west, east) = (f.lon[0], f.lon[f.lon.len() - 1]);
    let (south, north) = (f.lat[0], f.lat[f.lat.len() - 1]);
    let raster = LandRaster::new(&countries, (west, east, south, north), 0.1)?;
    let spec = DriftSpec {
        windage: a.windage,
        diffusivity_m2_s: a.diffusivity,
        step_s: a.step_minutes * 60.0,
        scheme: Scheme::Rk4,
        seed: a.seed,
    };
    let steps = (end_s / spec.step_s).round() as usize;
    let record_every = ((3600.0 * 6.0) / spec.step_s).round().max(1.0) as usize; // 6-hourly
    let record_hours = record_every as f64 * spec.step_s / 3600.0;
    let schedule = Schedule {
        start_s: 0.0,
        steps,
        record_every,
    };
    // every model's particles with their recorded positions (lat, lon, flags)
    crate::memory::check_allocation(
        "the particle trajectories",
        &[
            a.currents.len().max(1),
            a.particles,
            steps / record_every + 1,
        ],
        2 * 8 + 4,
        "use fewer --particles or fewer --days",
    )?;
    let release = seed_disk(a.lat, a.lon, a.release_radius_km, a.particles, a.seed);
    let mut all: Vec<Trajectories> = Vec::new();
    // each model weighs 1/M, shared by its members
    let mut member_weights: Vec<f64> = Vec::new();
    let mut model_members: Vec<usize> = Vec::new();
    let total_members: usize = models.iter().map(|f| f.u.values.dim().1).sum();
    log::info!(
        "drifting {} particles of each of {total_members} members ({} models) for {} days from {:.3}N {:.3}E",
        a.particles,
        models.len(),
        a.days,
        a.lat,
        a.lon
    );
    progress.start("drifting", total_members as u64);
    for (k, f) in models.iter().enumerate() {
        let n_members = f.u.values.dim().1;
        model_members.push(n_members);
        for m in 0..n_members {
            let u = f.u.values.slice(s![.., m, 0, .., ..]);
            let v = f.v.values.slice(s![.., m, 0, .., ..]);
            let cur = VelocityField::new(&f.lat, &f.lon, &f.times_s, u, v)?;
            let cur = match &f.domain {
                Some(d) => cur.with_domain(d.view())?,
                None => cur,
            };
            let wind_field = match &f.wind {
                Some(Wind {
                    u: wu,
                    v: wv,
                    times_s: wt,
                    lat: wlat,
                    lon: wlon,
                    ..
                }) => {
                    let nm = wu.values.dim().1;
                    let w = if nm == n_members {
                        m
                    } else if nm == 1 {
                        0
                    } else {
                        return Err(Error::Input {
                            path: a.currents[k].clone(),
                            reason: format!("the winds have {nm} members and the currents {n_members}: give one wind member or as many as the currents"),
                        });
                    };
                    Some(VelocityField::new(
                        wlat,
                        wlon,
                        wt,
                        wu.values.slice(s![.., w, 0, .., ..]),
                        wv.values.slice(s![.., w, 0, .., ..]),
                    )?)
                }
                None => None,
            };
            let global = member_weights.len();
            let member_spec = DriftSpec {
                seed: spec.seed ^ ((global as u64) << 32),
                ..spec
            };
            all.push(drift(
                &cur,
                wind_field.as_ref(),
                &release,
                schedule,
                &member_spec,
                Some(&raster),
            )?);
            member_weights.push(1.0 / (models.len() * n_members) as f64);
            progress.advance(1);
        }
    }
    progress.finish();
    let n_members = member_weights.len();
    let tr = concat(&all);
    let member_of: Vec<usize> = (0..n_members)
        .flat_map(|m| std::iter::repeat(m).take(a.particles))
        .collect();
    let weights = particle_weights(&member_of, &member_weights)?;
    super::create_dir(&a.out)?;

    // products
    // the report days within the run, and the run's last day
    let mut report: Vec<usize> = REPORT_DAYS
        .iter()
        .copied()
        .filter(|&d| d <= a.days)
        .collect();
    if report.last() != Some(&a.days) {
        report.push(a.days);
    }
    let coast = coast_table(&tr, &weights, &countries, record_hours, &report);
    write_trajectories(
        &a.out.join("trajectories.nc"),
        &options.write_options(),
        &tr,
        &member_of,
        &start,
    )?;
    let maps: Vec<(usize, Array2<f32>)> = report
        .iter()
        .map(|&d| {
            let k = ((d as f64 * 24.0) / record_hours).round() as usize;
            position_probability(&tr, &weights, k.min(tr.times_s.len() - 1), &f.lat, &f.lon)
                .map(|p| (d, p))
        })
        .collect::<Result<_, _>>()?;
    let passage = if a.cyclone_fields.is_empty() {
        None
    } else {
        // each file is a model: its runs share the model's weight
        let mut tracks = Vec::new();
        let mut w: Vec<f64> = Vec::new();
        let n_files = a.cyclone_fields.len();
        for file in &a.cyclone_fields {
            let mut set = track_inputs(
                &TrackSettings::default(),
                std::slice::from_ref(file),
                progress,
            )?;
            let offset = w.len() as i32;
            for t in &mut set.tracks {
                t.member += offset;
            }
            let runs = set.runs.len().max(1);
            w.extend(std::iter::repeat(1.0 / (n_files * runs) as f64).take(set.runs.len()));
            tracks.extend(set.tracks);
        }
        let members = w.len();
        let period = Period {
            start,
            days: a.days,
            calendar: Calendar::Standard,
        };
        let risk = passage_risk(&tracks, &w, (a.lat, a.lon), a.radius_km, &period)?;
        let strike = strike_probability(&tracks, &w, (&f.lat, &f.lon), a.radius_km, &period)?;
        Some((risk, strike, members, tracks))
    };
    write_drift_maps(
        &a.out.join("drift_probability.nc"),
        &f.lat,
        &f.lon,
        &maps,
        passage.as_ref().map(|p| &p.1),
        &options.write_options(),
    )?;
    let stranded_share: f64 = (0..tr.lat.nrows())
        .filter(|&p| tr.status[[p, tr.times_s.len() - 1]] == Status::Stranded as i8)
        .map(|p| weights[p])
        .fold(0.0, |a, w| a + w);
    // maps: the position probability of each report day, the storms and the site
    let lines: Vec<(i32, Vec<(f64, f64)>)> = passage
        .as_ref()
        .map(|p| {
            p.3.iter()
                .map(|t| {
                    (
                        t.member,
                        t.points.iter().map(|q| (q.node.lat, q.node.lon)).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let bounds = (west, east, south, north);
    let mut map_files = Vec::new();
    let key = crate::bulletin::TrackKey {
        tracks: (!lines.is_empty())
            .then_some("cyclone tracks, one colour per member (dot: genesis)"),
        site: Some((a.lat, a.lon, "release site")),
    };
    for (d, p) in &maps {
        let name = format!("map_drift_day{d}.png");
        // in percent of the particles, per cell
        let percent: Vec<f32> = p.iter().map(|&v| 100.0 * v).collect();
        let max = percent.iter().fold(0.0f32, |m, &v| m.max(v));
        let when = (date + chrono::Days::new(*d as u64)).format("%-d %b %Y");
        render_track_map(
            &a.out.join(&name),
            bounds,
            &lines,
            Some(DensityLayer {
                lat: &f.lat,
                lon: &f.lon,
                values: &percent,
                legend: "chance of being in the cell, % (colour saturates at the maximum)",
            }),
            max,
            Some(&countries),
            &format!(
                "Position probability and trajectories, day {d} after release ({when}, released {} at {:.2}°N {:.2}°E)",
                a.start, a.lat, a.lon
            ),
            &key,
        )?;
        map_files.push((*d, name));
    }
    let mut md = markdown(
        a,
        n_members,
        &coast,
        stranded_share,
        passage.as_ref().map(|p| (&p.0, p.2)),
        &warnings,
    );
    md.push_str("\n## Where the oil / object may be\n\n");
    for (d, name) in &map_files {
        md.push_str(&format!(
            "### Day {d}\n\n![Position probability, day {d}]({name})\n\n"
        ));
    }
    md.push_str("*Orange: probability of finding the oil / object in each cell (darker = likelier; all members with equal weight). Lines: the members' cyclone tracks (one colour per member, dot at genesis); the circled cross is the release site.*\n\n");
    let days: Vec<String> = report.iter().map(|d| d.to_string()).collect();
    md.push_str(&format!("Files: `emergency.html` (this bulletin with its maps, one file), `trajectories.nc` (CF trajectories, OpenDrift layout), `drift_probability.nc` (position probability at days {} and the cyclone strike probability), `emergency.json`.\n", days.join(", ")));
    write_text_atomic(a.out.join("emergency.md"), &md)?;
    let html = html_page(
        &format!(
            "Emergency forecast {:.2}N {:.2}E from {}",
            a.lat, a.lon, a.start
        ),
        &md,
        &Images::drawn_under(&crate::outputs::staging::staged(&a.out)?)?,
        "",
    );
    write_text_atomic(a.out.join("emergency.html"), &html)?;
    let json = serde_json::json!({
        "site": {"lat": a.lat, "lon": a.lon},
        "start": a.start,
        "days": a.days,
        "members": n_members,
        "models": a.currents.iter().zip(&model_members).map(|(p, m)| serde_json::json!({"currents": p.display().to_string(), "members": m})).collect::<Vec<_>>(),
        "particles_per_member": a.particles,
        "windage": a.windage,
        "diffusivity_m2_s": a.diffusivity,
        "stranded_probability_end": stranded_share,
        "coasts": coast,
        "cyclone_passage": passage.as_ref().map(|p| &p.0),
        "trajectories_netcdf": "trajectories.nc",
        "maps_netcdf": "drift_probability.nc",
        "html": "emergency.html",
        "warnings": warnings,
    });
    write_text_atomic(
        a.out.join("emergency.json"),
        &serde_json::to_string_pretty(&json)?,
    )?;
    Ok(EmergencyReport {
        members: n_members,
        markdown: a.out.join("emergency.md"),
    })
}

/// All members' trajectories as one set (particles of member 0 first).
fn concat(parts: &[Trajectories]) -> Trajectories {
    let views_lat: Vec<_> = parts.iter().map(|t| t.lat.view()).collect();
    let views_lon: Vec<_> = parts.iter().map(|t| t.lon.view()).collect();
    let views_st: Vec<_> = parts.iter().map(|t| t.status.view()).collect();
    Trajectories {
        times_s: parts[0].times_s.clone(),
        lat: ndarray::concatenate(ndarray::Axis(0), &views_lat).expect("same record times"),
        lon: ndarray::concatenate(ndarray::Axis(0), &views_lon).expect("same record times"),
        status: ndarray::concatenate(ndarray::Axis(0), &views_st).expect("same record times"),
    }
}

fn markdown(
    a: &EmergencyPlan,
    members: usize,
    coast: &[CoastHit],
    stranded: f64,
    passage: Option<(&PassageRisk, usize)>,
    warnings: &[String],
) -> String {
    let pct = |p: f64| {
        let p = p.max(0.0); // no "-0 %"
        if p < 0.05 && p > 0.0 {
            "< 5 %".to_string()
        } else {
            format!("{:.0} %", 100.0 * p)
        }
    };
    let mut md = format!(
        "# Emergency forecast: {:.2}°N {:.2}°E from {} for {} days\n\n",
        a.lat, a.lon, a.start, a.days
    );
    for w in warnings {
        md.push_str(&format!("**Warning:** {w}.\n\n"));
    }
    md.push_str("## Key messages\n\n");
    if let Some((r, n)) = passage {
        let p14 = r
            .cumulative
            .get(13.min(r.cumulative.len() - 1))
            .copied()
            .unwrap_or(0.0);
        let p_all = r.cumulative.last().copied().unwrap_or(0.0);
        md.push_str(&format!(
            "- {} chance a tropical cyclone passes within {:.0} km in the next {} days ({} in {} days; {n} members).",
            pct(p14),
            r.radius_km,
            14.min(a.days),
            pct(p_all),
            a.days
        ));
        if let Some(t) = r.earliest_days {
            md.push_str(&format!(" Earliest passage in any member: day {t:.1}."));
        }
        md.push('\n');
    }
    match coast.first() {
        Some(c) => {
            let (d, p) = c.probability_by_day.last().copied().unwrap_or((a.days, 0.0));
            md.push_str(&format!(
                "- {} chance that the oil / object reaches {}'s coast by day {d}; earliest in {:.0} h.\n",
                pct(p),
                c.country,
                c.earliest_hours
            ));
        }
        None => md.push_str(&format!(
            "- No particle reaches a coast within {} days: the oil / object most likely stays offshore.\n",
            a.days
        )),
    }
    md.push_str(&format!(
        "- {} of the particles are stranded at the end ({members} members × {} particles, windage {:.0} %, diffusivity {} m²/s).\n\n",
        pct(stranded),
        a.particles,
        100.0 * a.windage,
        a.diffusivity
    ));
    if !coast.is_empty() {
        md.push_str("## Coasts reached\n\n| country | ");
        let days: Vec<usize> = coast[0].probability_by_day.iter().map(|x| x.0).collect();
        md.push_str(
            &days
                .iter()
                .map(|d| format!("by day {d}"))
                .collect::<Vec<_>>()
                .join(" | "),
        );
        md.push_str(" | earliest |\n|---|");
        md.push_str(&"---|".repeat(days.len() + 1));
        md.push('\n');
        for c in coast {
            md.push_str(&format!(
                "| {} | {} | {:.0} h |\n",
                c.country,
                c.probability_by_day
                    .iter()
                    .map(|x| pct(x.1))
                    .collect::<Vec<_>>()
                    .join(" | "),
                c.earliest_hours
            ));
        }
        md.push('\n');
    }
    if let Some((r, _)) = passage {
        md.push_str(&format!(
            "## Cyclone passage within {:.0} km\n\n| week | probability |\n|---|---|\n",
            r.radius_km
        ));
        for (w, p) in r.weekly.iter().enumerate() {
            md.push_str(&format!("| {} | {} |\n", w + 1, pct(*p)));
        }
        md.push('\n');
    }
    md
}
