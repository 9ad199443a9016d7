//! `s2s emergency`: drift of a ship or oil from a point at sea in every member's currents and
//! winds, and (with cyclone fields) the risk that a tropical cyclone passes near the site.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use ndarray::{s, Array2};
use s2s_ensemble::bulletin::{html_page, render_track_map, DensityLayer};
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::config::EmergencyConfig;
use s2s_ensemble::cube::Spatial;
use s2s_ensemble::emergency::{
    coast_table, drift, particle_weights, passage_risk, position_probability, seed_disk,
    strike_probability, CoastHit, DriftSpec, PassageRisk, Period, Schedule, Scheme, Status,
    Trajectories, VelocityField,
};
use s2s_ensemble::grid::LandRaster;
use s2s_ensemble::io::write::write_hours_since;
use s2s_ensemble::io::{write_text_atomic, CfWriter};
use s2s_ensemble::units::speed_to_m_s;
use s2s_ensemble::Cube;

use s2s_ensemble::io::vars::{pick, read_raw, to_units};
use s2s_ensemble::pipeline::cyclones::{track_inputs, TrackSettings};
use s2s_ensemble::pipeline::load_countries;

use super::Globals;

/// Days at which position maps and coast probabilities are reported.
const REPORT_DAYS: [usize; 5] = [1, 3, 7, 14, 30];

#[derive(Debug, Args)]
pub struct EmergencyCli {
    /// Read everything from the `[emergency]` table of this TOML file (a run configuration or
    /// a file with only that table; paths relative to it); `--out` still overrides `output`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lat", "lon", "start", "currents"])]
    config: Option<PathBuf>,
    /// Latitude of the site (degrees north).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "config")]
    lat: Option<f64>,
    /// Longitude of the site (degrees east).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "config")]
    lon: Option<f64>,
    /// Release date `YYYY-MM-DD` (00 UTC).
    #[arg(long, value_name = "DATE", required_unless_present = "config")]
    start: Option<String>,
    /// Days to forecast.
    #[arg(long, default_value_t = 30)]
    days: usize,
    /// Surface currents, one file per model (comma-separated): `uo`/`vo` (or
    /// --current-vars) on `(time, lat, lon)` or `(member, time, lat, lon)`, daily or finer.
    /// Each model weighs the same whatever its member count. `--models` is another name for it.
    #[arg(
        long,
        alias = "models",
        value_name = "FILES",
        value_delimiter = ',',
        required_unless_present = "config"
    )]
    currents: Vec<PathBuf>,
    /// Current variables `U,V` (default: uo,vo or ugos,vgos or u,v).
    #[arg(long, value_name = "U,V")]
    current_vars: Option<String>,
    /// 10 m winds, one file per model in the order of --currents, or one for all (default:
    /// each currents file when it has uas/vas or u10/v10).
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    wind: Vec<PathBuf>,
    /// Particles per member.
    #[arg(long, default_value_t = 2000)]
    particles: usize,
    /// Windage: fraction of the 10 m wind added to the current (0.03 oil; a few % for a ship).
    #[arg(long, default_value_t = 0.03)]
    windage: f64,
    /// Horizontal diffusivity (m² s⁻¹).
    #[arg(long, default_value_t = 10.0)]
    diffusivity: f64,
    /// Particles are released uniformly within this radius of the site (km).
    #[arg(long, default_value_t = 5.0, value_name = "KM")]
    release_radius_km: f64,
    /// Time step (minutes).
    #[arg(long, default_value_t = 60.0, value_name = "MIN")]
    step_minutes: f64,
    /// Seed of the release positions and the random walk.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fields of the cyclone check (psl and winds, as `s2s cyclones track` reads them),
    /// comma-separated; without them only the drift is forecast.
    #[arg(long, value_delimiter = ',', value_name = "FILES")]
    cyclone_fields: Vec<PathBuf>,
    /// A storm "passes" when its centre comes within this distance of the site (km).
    #[arg(long, default_value_t = 300.0, value_name = "KM")]
    radius_km: f64,
    /// Country polygons (GeoJSON with `name`) for stranding and the coast table (default: the
    /// bundled Natural Earth 1:110m countries).
    #[arg(long, value_name = "FILE")]
    countries: Option<PathBuf>,
    /// Output directory (required without --config).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// A resolved emergency job: from the command line or an `[emergency]` table.
#[derive(Debug)]
pub struct EmergencyArgs {
    lat: f64,
    lon: f64,
    start: String,
    days: usize,
    currents: Vec<PathBuf>,
    current_vars: Option<String>,
    wind: Vec<PathBuf>,
    particles: usize,
    windage: f64,
    diffusivity: f64,
    release_radius_km: f64,
    step_minutes: f64,
    seed: u64,
    cyclone_fields: Vec<PathBuf>,
    radius_km: f64,
    countries: Option<PathBuf>,
    out: PathBuf,
}

impl EmergencyCli {
    /// The job: the `[emergency]` table of --config, or the flags.
    fn resolve(&self) -> anyhow::Result<EmergencyArgs> {
        if let Some(path) = &self.config {
            let c = EmergencyConfig::load(path)?;
            let base = path.parent().unwrap_or(Path::new("."));
            let rel = |p: &Path| {
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    base.join(p)
                }
            };
            let out = match (&self.out, &c.output) {
                (Some(o), _) => o.clone(),
                (None, Some(o)) => rel(o),
                (None, None) => bail!("{}: [emergency] has no output; give --out", path.display()),
            };
            return Ok(EmergencyArgs {
                lat: c.lat,
                lon: c.lon,
                start: c.start,
                days: c.days,
                currents: c.currents.paths().iter().map(|p| rel(p)).collect(),
                current_vars: c.current_vars,
                wind: c
                    .wind
                    .as_ref()
                    .map(|w| w.paths().iter().map(|p| rel(p)).collect())
                    .unwrap_or_default(),
                particles: c.particles,
                windage: c.windage,
                diffusivity: c.diffusivity,
                release_radius_km: c.release_radius_km,
                step_minutes: self.step_minutes,
                seed: c.seed,
                cyclone_fields: c.cyclone_fields.iter().map(|p| rel(p)).collect(),
                radius_km: c.radius_km,
                countries: self.countries.clone(),
                out,
            });
        }
        let need = |what: &str| anyhow::anyhow!("{what} is required (or --config)");
        Ok(EmergencyArgs {
            lat: self.lat.ok_or_else(|| need("--lat"))?,
            lon: self.lon.ok_or_else(|| need("--lon"))?,
            start: self.start.clone().ok_or_else(|| need("--start"))?,
            days: self.days,
            currents: if self.currents.is_empty() {
                return Err(need("--currents"));
            } else {
                self.currents.clone()
            },
            current_vars: self.current_vars.clone(),
            wind: self.wind.clone(),
            particles: self.particles,
            windage: self.windage,
            diffusivity: self.diffusivity,
            release_radius_km: self.release_radius_km,
            step_minutes: self.step_minutes,
            seed: self.seed,
            cyclone_fields: self.cyclone_fields.clone(),
            radius_km: self.radius_km,
            countries: self.countries.clone(),
            out: self.out.clone().ok_or_else(|| need("--out"))?,
        })
    }
}

/// One member's velocity data: currents and winds `(time, lat, lon)` as cubes.
struct Fields {
    lat: Vec<f64>,
    lon: Vec<f64>,
    times_s: Vec<f64>,
    u: Cube,
    v: Cube,
    wind: Option<(Cube, Cube, Vec<f64>)>,
}

fn read_pair(
    path: &Path,
    given: Option<&str>,
    defaults: &[(&str, &str)],
) -> anyhow::Result<(Cube, Cube)> {
    let (un, vn) = match given {
        Some(g) => {
            let (a, b) = g
                .split_once(',')
                .with_context(|| format!("'{g}': expected U,V variable names"))?;
            (a.trim().to_string(), b.trim().to_string())
        }
        None => {
            let names = s2s_ensemble::io::inspect::data_variable_names(path)?;
            let found = defaults
                .iter()
                .find(|(u, v)| names.iter().any(|n| n == u) && names.iter().any(|n| n == v));
            match found {
                Some((u, v)) => (u.to_string(), v.to_string()),
                None => bail!(
                    "{}: none of the variable pairs {} (the file has {})",
                    path.display(),
                    defaults
                        .iter()
                        .map(|(u, v)| format!("{u}/{v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.join(", ")
                ),
            }
        }
    };
    let conv = |n: &str| -> anyhow::Result<Cube> {
        Ok(to_units(
            read_raw(path, n, None, None)?,
            path,
            speed_to_m_s,
            "m s-1",
            (-20.0, 20.0),
        )?)
    };
    Ok((conv(&un)?, conv(&vn)?))
}

/// Seconds of each time step after `origin`.
fn seconds_since(c: &Cube, origin: &CfDateTime) -> anyhow::Result<Vec<f64>> {
    Ok(c.coords
        .init
        .iter()
        .map(|t| origin.seconds_until(t, c.meta.calendar))
        .collect::<Result<Vec<_>, _>>()?)
}

fn read_fields(a: &EmergencyArgs, model: usize, origin: &CfDateTime) -> anyhow::Result<Fields> {
    let currents = &a.currents[model];
    let (u, v) = read_pair(
        currents,
        a.current_vars.as_deref(),
        &[
            ("uo", "vo"),
            ("ugos", "vgos"),
            ("u", "v"),
            ("water_u", "water_v"),
        ],
    )?;
    if u.values.dim() != v.values.dim() {
        bail!(
            "{}: the current components differ in shape",
            currents.display()
        );
    }
    let Spatial::Grid { lat, lon } = &u.coords.spatial else {
        bail!(
            "{}: currents must be on a latitude/longitude grid",
            currents.display()
        );
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
        n => bail!(
            "--wind has {n} files for {} currents files: give one for all or one per model",
            a.currents.len()
        ),
    };
    let wind = match wind_path {
        Some(p) if a.windage > 0.0 => {
            let (wu, wv) = read_pair(
                &p,
                None,
                &[("uas", "vas"), ("u10", "v10"), ("UBOT", "VBOT")],
            )?;
            if wu.coords.spatial != u.coords.spatial {
                bail!(
                    "{}: the winds are not on the currents' grid ({}); regrid them first",
                    p.display(),
                    wu.coords.spatial.describe()
                );
            }
            let wt = seconds_since(&wu, origin)?;
            Some((wu, wv, wt))
        }
        _ => None,
    };
    Ok(Fields {
        lat,
        lon,
        times_s,
        u,
        v,
        wind,
    })
}

/// `s2s emergency`.
pub fn run(cli: &EmergencyCli, g: &Globals) -> anyhow::Result<ExitCode> {
    let job = cli.resolve()?;
    run_job(&job, g)
}

fn run_job(a: &EmergencyArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let date = chrono::NaiveDate::parse_from_str(&a.start, "%Y-%m-%d")
        .with_context(|| format!("--start '{}': expected YYYY-MM-DD", a.start))?;
    use chrono::Datelike;
    let start = CfDateTime::ymd(date.year(), date.month(), date.day());
    if !(-90.0..=90.0).contains(&a.lat) || a.days == 0 || a.particles == 0 {
        bail!("--lat must be within ±90, --days and --particles positive");
    }
    let countries = load_countries(a.countries.as_deref())?;
    if countries.is_land(a.lat, a.lon) {
        bail!(
            "the site ({}, {}) is on land ({})",
            a.lat,
            a.lon,
            countries.at(a.lat, a.lon).map_or("", |c| c.name.as_str())
        );
    }
    let models: Vec<Fields> = (0..a.currents.len())
        .map(|k| read_fields(a, k, &start))
        .collect::<anyhow::Result<_>>()?;
    let end_s = a.days as f64 * 86_400.0;
    for (f, path) in models.iter().zip(&a.currents) {
        let t_last = f.times_s.last().copied().unwrap_or(0.0);
        let t_first = f.times_s.first().copied().unwrap_or(0.0);
        if t_first > 0.0 || t_last < end_s - 86_400.0 {
            bail!(
                "{}: the currents cover {:.1} to {:.1} days after {} but the forecast needs 0 to {}",
                path.display(),
                t_first / 86_400.0,
                t_last / 86_400.0,
                a.start,
                a.days
            );
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
    let release = seed_disk(a.lat, a.lon, a.release_radius_km, a.particles, a.seed);
    let mut all: Vec<Trajectories> = Vec::new();
    // each model weighs 1/M, shared by its members
    let mut member_weights: Vec<f64> = Vec::new();
    let mut model_members: Vec<usize> = Vec::new();
    for (k, f) in models.iter().enumerate() {
        let n_members = f.u.values.dim().1;
        model_members.push(n_members);
        for m in 0..n_members {
            let u = f.u.values.slice(s![.., m, 0, .., ..]);
            let v = f.v.values.slice(s![.., m, 0, .., ..]);
            let cur = VelocityField::new(&f.lat, &f.lon, &f.times_s, u, v)?;
            let wind_field = match &f.wind {
                Some((wu, wv, wt)) => {
                    let nm = wu.values.dim().1;
                    let w = if nm == n_members {
                        m
                    } else if nm == 1 {
                        0
                    } else {
                        bail!("{}: the winds have {nm} members and the currents {n_members}: give one wind member or as many as the currents", a.currents[k].display());
                    };
                    Some(VelocityField::new(
                        &f.lat,
                        &f.lon,
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
        }
    }
    let n_members = member_weights.len();
    let tr = concat(&all);
    let member_of: Vec<usize> = (0..n_members)
        .flat_map(|m| std::iter::repeat(m).take(a.particles))
        .collect();
    let weights = particle_weights(&member_of, &member_weights)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;

    // products
    let report: Vec<usize> = REPORT_DAYS
        .iter()
        .copied()
        .filter(|&d| d <= a.days)
        .collect();
    let coast = coast_table(&tr, &weights, &countries, record_hours, &report);
    write_trajectories(&a.out.join("trajectories.nc"), &tr, &member_of, &start, g)?;
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
                &g.bars(),
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
    write_maps(
        &a.out.join("drift_probability.nc"),
        &f.lat,
        &f.lon,
        &maps,
        passage.as_ref().map(|p| &p.1),
        g,
    )?;
    let stranded_share: f64 = (0..tr.lat.nrows())
        .filter(|&p| tr.status[[p, tr.times_s.len() - 1]] == Status::Stranded as i8)
        .map(|p| weights[p])
        .fold(0.0, |a, w| a + w);
    // maps: the position probability of each report day, the storms and the site
    let mut lines: Vec<(i32, Vec<(f64, f64)>)> = passage
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
    lines.push((0, vec![(a.lat, a.lon)]));
    let bounds = (west, east, south, north);
    let mut map_files = Vec::new();
    for (d, p) in &maps {
        let name = format!("map_drift_day{d}.png");
        let max = p.iter().fold(0.0f32, |m, &v| m.max(v));
        render_track_map(
            &a.out.join(&name),
            bounds,
            &lines,
            Some(DensityLayer {
                lat: &f.lat,
                lon: &f.lon,
                values: p.as_slice().expect("fresh array"),
            }),
            max,
            Some(&countries),
            &format!("Position probability and trajectories, day {d} after release"),
        )?;
        map_files.push((*d, name));
    }
    let mut md = markdown(
        a,
        n_members,
        &coast,
        stranded_share,
        passage.as_ref().map(|p| (&p.0, p.2)),
    );
    md.push_str("\n## Where the oil / object may be\n\n");
    for (d, name) in &map_files {
        md.push_str(&format!(
            "### Day {d}\n\n![Position probability, day {d}]({name})\n\n"
        ));
    }
    md.push_str("*Orange: probability of finding the oil / object in each cell (darker = likelier; all members with equal weight). Lines: the members' cyclone tracks (one colour per member, dot at genesis); the dot alone is the site.*\n");
    write_text_atomic(a.out.join("emergency.md"), &md)?;
    let html = html_page(
        &format!(
            "Emergency forecast {:.2}N {:.2}E from {}",
            a.lat, a.lon, a.start
        ),
        &md,
        &a.out,
    )?;
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
    });
    write_text_atomic(
        a.out.join("emergency.json"),
        &serde_json::to_string_pretty(&json)?,
    )?;
    if !g.quiet {
        eprintln!(
            "emergency forecast for ({}, {}) from {}: {} members × {} particles × {} days in {:.1} s: {}",
            a.lat,
            a.lon,
            a.start,
            n_members,
            a.particles,
            a.days,
            t0.elapsed().as_secs_f64(),
            a.out.join("emergency.md").display()
        );
    }
    Ok(ExitCode::SUCCESS)
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

/// CF discrete-sampling-geometry trajectories, as OpenDrift writes them.
fn write_trajectories(
    path: &Path,
    tr: &Trajectories,
    member_of: &[usize],
    start: &CfDateTime,
    g: &Globals,
) -> anyhow::Result<()> {
    let (n, k) = tr.lat.dim();
    let mut w = CfWriter::create(path, &g.write_options())?;
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

fn write_maps(
    path: &Path,
    lat: &[f64],
    lon: &[f64],
    maps: &[(usize, Array2<f32>)],
    strike: Option<&Array2<f32>>,
    g: &Globals,
) -> anyhow::Result<()> {
    let mut w = CfWriter::create(path, &g.write_options())?;
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

fn markdown(
    a: &EmergencyArgs,
    members: usize,
    coast: &[CoastHit],
    stranded: f64,
    passage: Option<(&PassageRisk, usize)>,
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
    md.push_str("Files: `emergency.html` (this bulletin with its maps, one file), `trajectories.nc` (CF trajectories, OpenDrift layout), `drift_probability.nc` (position probability at days 1, 3, 7, 14, 30 and the cyclone strike probability), `emergency.json`.\n");
    md
}
