//! Writes a synthetic workload ([`crate::synth`]) as NetCDF files, each model in its own convention.
//!
//! `DIR/hindcast_<MODEL>.nc`, `DIR/forecast_<MODEL>.nc` (one start), `DIR/obs.nc` (plain
//! `time, lat, lon`, precipitation in mm/day, temperature in K), `DIR/workload.json` (the
//! configuration: sizes, seed, every model's errors), and with `cdo_copies` also
//! `DIR/cdo/<MODEL>_m<NN>.nc`: one `(time, lat, lon)` file per member (time = start of each
//! target period) — CDO reads at most 4-D variables, so these are what `cdo ensmean` compares on.
//!
//! Model files are written one start year at a time, so memory stays at one year of one model
//! whatever the preset.

use std::path::{Path, PathBuf};

use ndarray::{Array4, Axis};

use crate::calendar::{Calendar, CfDateTime, TimeCoding, TimeUnit};
use crate::cube::{wrap_lon, Coords, Cube, CubeKind, Lead, Meta};
use crate::error::{Error, Result};
use crate::io::write::{write_cubes, write_spatial, write_time_coords, CfWriter, WriteOptions};
use crate::progress::Progress;
use crate::synth::{FileConvention, SynthConfig, SynthVar};
use crate::units::Quantity;

/// What to write besides the model and observation files.
#[derive(Debug, Clone, Default)]
pub struct WorkloadOptions {
    /// Also write one `(time, lat, lon)` file per model member for CDO.
    pub cdo_copies: bool,
    /// The command line, for `history`.
    pub history: Option<String>,
    /// Deflate level of the files (default 1).
    pub deflate: Option<i32>,
}

/// The files written.
#[derive(Debug, Clone, Default)]
pub struct WorkloadFiles {
    /// Hindcast file of each model.
    pub hindcasts: Vec<PathBuf>,
    /// Forecast file of each model.
    pub forecasts: Vec<PathBuf>,
    /// Observations.
    pub observations: PathBuf,
    /// Per-member CDO copies.
    pub cdo: Vec<PathBuf>,
    /// The configuration as JSON.
    pub manifest: PathBuf,
}

/// Names, units and conversion from the engine's units, per convention and variable.
fn var_encoding(
    conv: FileConvention,
    var: SynthVar,
) -> (&'static str, &'static str, &'static str, f64, f64) {
    // (name, units, standard_name, factor, offset): stored = engine * factor + offset
    match (conv, var) {
        (FileConvention::C3s, SynthVar::Pr) => (
            "tprate",
            "m s**-1",
            "lwe_precipitation_rate",
            1.0 / 86_400_000.0,
            0.0,
        ),
        (FileConvention::C3s, SynthVar::Tas) => ("t2m", "K", "air_temperature", 1.0, 273.15),
        (FileConvention::Nmme, SynthVar::Pr) => {
            ("prec", "mm/day", "lwe_precipitation_rate", 1.0, 0.0)
        }
        (FileConvention::Nmme, SynthVar::Tas) => ("tref", "K", "air_temperature", 1.0, 273.15),
        (FileConvention::Plain, SynthVar::Pr) => {
            ("pr", "mm/day", "lwe_precipitation_rate", 1.0, 0.0)
        }
        (FileConvention::Plain, SynthVar::Tas) => ("tas", "degC", "air_temperature", 1.0, 0.0),
    }
}

/// One model file being written year by year.
struct ModelFile {
    w: CfWriter,
    conv: FileConvention,
    /// Output order of grid latitudes and longitudes (file index → grid index).
    lat_order: Vec<usize>,
    lon_order: Vec<usize>,
    members: usize,
    leads: usize,
}

impl ModelFile {
    fn create(
        path: &Path,
        cfg: &SynthConfig,
        model: usize,
        years: &[i32],
        opts: &WriteOptions,
    ) -> Result<Self> {
        let spec = &cfg.models[model];
        let conv = spec.convention;
        let mut w = CfWriter::create(path, opts)?;
        w.global_text("model", &spec.name)?;
        w.global_text(
            "comment",
            "synthetic S2S workload made by `s2s synth`; values are plausible, not real",
        )?;
        let (ny, nx, nm, nl) = (cfg.grid.ny(), cfg.grid.nx(), spec.members, cfg.leads.len());
        let inits: Vec<CfDateTime> = years.iter().map(|&y| cfg.init_date(y)).collect();
        // Longitudes 0–360 for C3S and NMME; latitudes north→south for C3S.
        let mut lon_order: Vec<usize> = (0..nx).collect();
        let mut lon_vals: Vec<f64> = cfg.grid.lon.clone();
        if conv != FileConvention::Plain {
            let wrapped: Vec<f64> = cfg.grid.lon.iter().map(|&l| wrap_lon(l, 0.0)).collect();
            lon_order.sort_by(|&a, &b| wrapped[a].total_cmp(&wrapped[b]));
            lon_vals = lon_order.iter().map(|&j| wrapped[j]).collect();
        }
        let mut lat_order: Vec<usize> = (0..ny).collect();
        if conv == FileConvention::C3s {
            lat_order.reverse();
        }
        let lat_vals: Vec<f64> = lat_order.iter().map(|&i| cfg.grid.lat[i]).collect();
        let monthly = !cfg.is_weekly();
        let dims: Vec<&str> = match conv {
            FileConvention::C3s => {
                let lead_dim = if monthly { "forecastMonth" } else { "leadtime" };
                w.dimension("number", nm)?;
                w.dimension("forecast_reference_time", inits.len())?;
                w.dimension(lead_dim, nl)?;
                w.dimension("latitude", ny)?;
                w.dimension("longitude", nx)?;
                w.i32_var(
                    "number",
                    &["number"],
                    &(0..nm as i32).collect::<Vec<_>>(),
                    &[
                        ("long_name", "ensemble member numerical id"),
                        ("standard_name", "realization"),
                    ],
                )?;
                let tc = TimeCoding::new(
                    TimeUnit::Seconds,
                    CfDateTime::ymd(1970, 1, 1),
                    Calendar::ProlepticGregorian,
                )?;
                let t: Vec<f64> = inits.iter().map(|d| tc.encode(d)).collect::<Result<_>>()?;
                w.f64_var(
                    "forecast_reference_time",
                    &["forecast_reference_time"],
                    &t,
                    &[
                        ("units", &tc.units_string()),
                        ("calendar", "proleptic_gregorian"),
                        ("standard_name", "forecast_reference_time"),
                    ],
                )?;
                if monthly {
                    let fm: Vec<i32> = cfg.leads.iter().map(|l| l.start as i32 + 1).collect();
                    w.i32_var(
                        "forecastMonth",
                        &["forecastMonth"],
                        &fm,
                        &[("long_name", "months since forecast_reference_time")],
                    )?;
                } else {
                    let lt: Vec<f64> = cfg.leads.iter().map(|l| l.start).collect();
                    w.f64_var(
                        "leadtime",
                        &["leadtime"],
                        &lt,
                        &[
                            ("units", "days"),
                            (
                                "long_name",
                                "start of the weekly mean after forecast_reference_time",
                            ),
                            ("standard_name", "forecast_period"),
                        ],
                    )?;
                }
                w.f64_var(
                    "latitude",
                    &["latitude"],
                    &lat_vals,
                    &[("units", "degrees_north"), ("standard_name", "latitude")],
                )?;
                w.f64_var(
                    "longitude",
                    &["longitude"],
                    &lon_vals,
                    &[("units", "degrees_east"), ("standard_name", "longitude")],
                )?;
                vec![
                    "number",
                    "forecast_reference_time",
                    lead_dim,
                    "latitude",
                    "longitude",
                ]
            }
            FileConvention::Nmme => {
                for (d, n) in [
                    ("S", inits.len()),
                    ("M", nm),
                    ("L", nl),
                    ("Y", ny),
                    ("X", nx),
                ] {
                    w.dimension(d, n)?;
                }
                let tc = TimeCoding::new(
                    TimeUnit::Months,
                    CfDateTime::ymd(1960, 1, 1),
                    Calendar::Day360,
                )?;
                let s: Vec<f64> = inits.iter().map(|d| tc.encode(d)).collect::<Result<_>>()?;
                w.f64_var(
                    "S",
                    &["S"],
                    &s,
                    &[
                        ("units", "months since 1960-01-01"),
                        ("calendar", "360"),
                        ("standard_name", "forecast_reference_time"),
                        ("long_name", "Forecast Start Time"),
                    ],
                )?;
                let m: Vec<f64> = (1..=nm).map(|k| k as f64).collect();
                w.f64_var(
                    "M",
                    &["M"],
                    &m,
                    &[
                        ("standard_name", "realization"),
                        ("long_name", "Ensemble Member"),
                    ],
                )?;
                // IRI: L is the centre of the lead period.
                let l: Vec<f64> = cfg.leads.iter().map(|l| l.start + l.width / 2.0).collect();
                let (lu, pw) = if monthly {
                    ("months", 1.0)
                } else {
                    ("days", 7.0)
                };
                w.f64_var(
                    "L",
                    &["L"],
                    &l,
                    &[
                        ("units", lu),
                        ("standard_name", "forecast_period"),
                        ("long_name", "Lead"),
                    ],
                )?;
                w.var_attr("L", "pointwidth", pw)?;
                w.f64_var("Y", &["Y"], &lat_vals, &[("units", "degree_north")])?;
                w.f64_var("X", &["X"], &lon_vals, &[("units", "degree_east")])?;
                vec!["S", "M", "L", "Y", "X"]
            }
            FileConvention::Plain => {
                let coords = Coords {
                    init: inits.clone(),
                    member: (0..nm as i32).collect(),
                    lead: cfg.leads.clone(),
                    spatial: cfg.grid.spatial(),
                };
                let mut d =
                    write_time_coords(&mut w, &coords, Calendar::Standard, CubeKind::Forecast)?;
                d.extend(write_spatial(&mut w, &coords.spatial)?);
                d
            }
        };
        let shape: Vec<usize> = match conv {
            FileConvention::C3s => vec![nm, inits.len(), nl, ny, nx],
            _ => vec![inits.len(), nm, nl, ny, nx],
        };
        for var in SynthVar::ALL {
            let (name, units, sn, _, _) = var_encoding(conv, var);
            let long = match var {
                SynthVar::Pr => "precipitation rate (monthly or weekly mean)",
                SynthVar::Tas => "2 m air temperature",
            };
            w.def_f32(
                name,
                &dims,
                &shape,
                &[("units", units), ("standard_name", sn), ("long_name", long)],
                &[],
            )?;
        }
        Ok(ModelFile {
            w,
            conv,
            lat_order,
            lon_order,
            members: nm,
            leads: nl,
        })
    }

    /// Writes one start year: `block` is `(member, lead, lat, lon)` in the engine's units.
    fn put(&mut self, var: SynthVar, year_index: usize, block: &Array4<f32>) -> Result<()> {
        let (name, _, _, factor, offset) = var_encoding(self.conv, var);
        let (ny, nx) = (self.lat_order.len(), self.lon_order.len());
        let mut vals = Vec::with_capacity(block.len());
        for m in 0..self.members {
            for l in 0..self.leads {
                for &i in &self.lat_order {
                    for &j in &self.lon_order {
                        let v = block[[m, l, i, j]];
                        vals.push((f64::from(v) * factor + offset) as f32);
                    }
                }
            }
        }
        let (start, count) = match self.conv {
            FileConvention::C3s => (
                vec![0, year_index, 0, 0, 0],
                vec![self.members, 1, self.leads, ny, nx],
            ),
            _ => (
                vec![year_index, 0, 0, 0, 0],
                vec![1, self.members, self.leads, ny, nx],
            ),
        };
        self.w.put_f32(name, &start, &count, &vals)
    }
}

/// Writes the workload of `cfg` into `dir` (created if needed).
pub fn write_workload(
    cfg: &SynthConfig,
    dir: &Path,
    opts: &WorkloadOptions,
    progress: &dyn Progress,
) -> Result<WorkloadFiles> {
    crate::io::create_dir(dir)?;
    if opts.cdo_copies && cfg.preset == crate::synth::Preset::Large {
        return Err(Error::invalid("--cdo", "per-member CDO copies are for the small and medium presets (the large one would need tens of GB)"));
    }
    let wopts = WriteOptions {
        history: opts.history.clone(),
        // The model files imitate providers' files, whose members are a dimension.
        layout: crate::io::write::ProductLayout::Nd,
        ..Default::default()
    };
    let mut files = WorkloadFiles::default();
    let total: usize = cfg.models.len() * (cfg.n_years + 1) + 1;
    progress.start("synth", total as u64);
    for (k, spec) in cfg.models.iter().enumerate() {
        for forecast in [false, true] {
            let years = cfg.years(forecast);
            let path = dir.join(format!(
                "{}_{}.nc",
                if forecast { "forecast" } else { "hindcast" },
                spec.name
            ));
            let mut file = ModelFile::create(&path, cfg, k, &years, &wopts)?;
            // Members' hindcasts kept for the CDO copies: (year, member, lead, y, x) per var.
            let mut keep: Vec<Vec<Array4<f32>>> = vec![Vec::new(), Vec::new()];
            for (i, &y) in years.iter().enumerate() {
                for (v, var) in SynthVar::ALL.into_iter().enumerate() {
                    let block = cfg.model_block(k, y, var);
                    file.put(var, i, &block)?;
                    if opts.cdo_copies && !forecast {
                        keep[v].push(block);
                    }
                }
                progress.advance(1);
            }
            let written = file.w.finish()?;
            if forecast {
                files.forecasts.push(written);
            } else {
                files.hindcasts.push(written);
                if opts.cdo_copies {
                    files
                        .cdo
                        .extend(write_cdo_copies(cfg, k, &keep, dir, &wopts)?);
                }
            }
        }
    }
    // Observations: precipitation in mm/day, temperature in K (a conversion for the reader).
    let pr = cfg.observation_cube(SynthVar::Pr)?;
    let mut tas = cfg.observation_cube(SynthVar::Tas)?;
    tas.values.mapv_inplace(|v| v + 273.15);
    tas.meta.units = "K".into();
    tas.meta.standard_name = Some("air_temperature".into());
    let obs = dir.join("obs.nc");
    files.observations = write_cubes(&obs, &[&pr, &tas], &wopts)?;
    progress.advance(1);
    let manifest = dir.join("workload.json");
    let json = serde_json::to_string_pretty(cfg).map_err(|e| Error::Write {
        path: manifest.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&manifest, json).map_err(|e| Error::Write {
        path: manifest.clone(),
        reason: e.to_string(),
    })?;
    files.manifest = manifest;
    progress.finish();
    Ok(files)
}

/// One `(time, lat, lon)` file per member: time = start of each (init, lead) target period.
fn write_cdo_copies(
    cfg: &SynthConfig,
    model: usize,
    keep: &[Vec<Array4<f32>>],
    dir: &Path,
    opts: &WriteOptions,
) -> Result<Vec<PathBuf>> {
    let spec = &cfg.models[model];
    let cdo_dir = dir.join("cdo");
    crate::io::create_dir(&cdo_dir)?;
    let years = cfg.years(false);
    let mut times = Vec::new();
    for &y in &years {
        for lead in &cfg.leads {
            times.push(lead.period(&cfg.init_date(y), Calendar::Standard)?.0);
        }
    }
    let (ny, nx) = (cfg.grid.ny(), cfg.grid.nx());
    let nt = times.len();
    let mut out = Vec::new();
    for m in 0..spec.members {
        let mut cubes = Vec::new();
        for (v, var) in SynthVar::ALL.into_iter().enumerate() {
            let mut values = ndarray::Array5::<f32>::zeros((nt, 1, 1, ny, nx));
            for (yi, block) in keep[v].iter().enumerate() {
                for l in 0..cfg.leads.len() {
                    values
                        .index_axis_mut(Axis(0), yi * cfg.leads.len() + l)
                        .index_axis_mut(Axis(0), 0)
                        .index_axis_mut(Axis(0), 0)
                        .assign(&block.index_axis(Axis(0), m).index_axis(Axis(0), l));
                }
            }
            let cadence = if cfg.is_weekly() {
                Lead::days(0.0, 7.0)
            } else {
                Lead::months(0.0, 1.0)
            };
            let coords = Coords {
                init: times.clone(),
                member: vec![0],
                lead: vec![cadence],
                spatial: cfg.grid.spatial(),
            };
            let units = if var == SynthVar::Pr {
                "mm/day"
            } else {
                "degC"
            };
            let mut meta = Meta::new(&spec.name, var.name(), units, Calendar::Standard);
            meta.kind = CubeKind::Observed;
            meta.quantity = if var == SynthVar::Pr {
                Quantity::Precipitation
            } else {
                Quantity::Temperature
            };
            cubes.push(Cube::new(values, coords, meta)?);
        }
        let refs: Vec<&Cube> = cubes.iter().collect();
        out.push(write_cubes(
            cdo_dir.join(format!("{}_m{:02}.nc", spec.name, m)),
            &refs,
            opts,
        )?);
    }
    Ok(out)
}

/// `uas`, `vas` as written in the synthetic storm and current sets.
const NEAR_SURFACE_WIND: [(&str, &str, &str, &str); 2] = [
    (
        "uas",
        "eastward_wind",
        "eastward near-surface wind",
        "m s-1",
    ),
    (
        "vas",
        "northward_wind",
        "northward near-surface wind",
        "m s-1",
    ),
];

/// Creates the output directory of a synthetic set and the write options of its files.
fn synthetic_output(dir: &Path, opts: &WorkloadOptions, title: String) -> Result<WriteOptions> {
    crate::io::create_dir(dir)?;
    Ok(WriteOptions {
        history: opts.history.clone(),
        title: Some(title),
        deflate: opts.deflate,
        ..Default::default()
    })
}

/// Writes `(time, member, lat, lon)` f32 variables `(name, standard_name or "", long_name,
/// units)` one member at a time (`member_fields(m)` gives each variable's `(time, lat, lon)`
/// values in order); time in hours since the start's midnight.
#[allow(clippy::too_many_arguments)]
fn write_member_grid(
    path: &Path,
    wopts: &WriteOptions,
    (lat, lon): (&[f64], &[f64]),
    (hours, start): (&[f64], &CfDateTime),
    members: usize,
    vars: &[(&str, &str, &str, &str)],
    mut member_fields: impl FnMut(usize) -> Vec<ndarray::Array3<f32>>,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    let (nm, nt, ny, nx) = (members, hours.len(), lat.len(), lon.len());
    let mut w = CfWriter::create(path, wopts)?;
    for (d, n) in [("member", nm), ("time", nt)] {
        w.dimension(d, n)?;
    }
    let member_ids: Vec<i32> = (0..nm as i32).collect();
    w.i32_var(
        "member",
        &["member"],
        &member_ids,
        &[
            ("standard_name", "realization"),
            ("long_name", "ensemble member"),
        ],
    )?;
    crate::io::write::write_hours_since(&mut w, hours, start)?;
    crate::io::write::write_spatial(
        &mut w,
        &crate::cube::Spatial::Grid {
            lat: lat.to_vec(),
            lon: lon.to_vec(),
        },
    )?;
    // Time first, members as the level axis: the layout CDO reads.
    let dims = ["time", "member", "lat", "lon"];
    for &(name, std, long, units) in vars {
        let mut attrs = vec![("long_name", long), ("units", units)];
        if !std.is_empty() {
            attrs.push(("standard_name", std));
        }
        w.def_f32(name, &dims, &[nt, nm, ny, nx], &attrs, &[])?;
    }
    progress.start("members", nm as u64);
    for m in 0..nm {
        for (&(name, ..), a) in vars.iter().zip(member_fields(m)) {
            let vals = a.as_standard_layout();
            // One member's (time, lat, lon) block is strided in (time, member, lat, lon): one
            // slab per time step.
            let per_step = ny * nx;
            for (t, step) in vals
                .as_slice()
                .expect("standard layout")
                .chunks(per_step)
                .enumerate()
            {
                w.put_f32(name, &[t, m, 0, 0], &[1, 1, ny, nx], step)?;
            }
        }
        progress.advance(1);
    }
    progress.finish();
    w.finish()
}

/// Writes the synthetic currents and winds of `cfg` as `currents.nc` in `dir` (created if
/// needed): `uo`, `vo`, `uas`, `vas` on `(time, member, lat, lon)`, daily.
pub fn write_current_set(
    cfg: &crate::synth::currents::CurrentConfig,
    dir: &Path,
    opts: &WorkloadOptions,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    let wopts = synthetic_output(
        dir,
        opts,
        format!(
            "s2s-ensemble synthetic surface currents and winds ({:?})",
            cfg.case
        ),
    )?;
    let hours: Vec<f64> = (0..cfg.days).map(|d| 24.0 * d as f64).collect();
    write_member_grid(
        &dir.join("currents.nc"),
        &wopts,
        (&cfg.lat, &cfg.lon),
        (&hours, &cfg.start),
        cfg.members,
        &[
            (
                "uo",
                "surface_eastward_sea_water_velocity",
                "eastward surface current",
                "m s-1",
            ),
            (
                "vo",
                "surface_northward_sea_water_velocity",
                "northward surface current",
                "m s-1",
            ),
            NEAR_SURFACE_WIND[0],
            NEAR_SURFACE_WIND[1],
        ],
        |m| {
            let f = cfg.member_fields(m);
            vec![f.uo, f.vo, f.uas, f.vas]
        },
        progress,
    )
}

/// The files of a synthetic storm set.
#[derive(Debug, Clone)]
pub struct StormFiles {
    /// `psl`, `uas`, `vas`, `zthick` on `(time, member, lat, lon)`.
    pub fields: PathBuf,
    /// The planted centres: `storm_id,member,time,lat,lon,depth_pa`.
    pub truth: PathBuf,
}

/// Writes the storm set of `cfg` into `dir` (created if needed): `storms.nc` one member at a
/// time, and `storms_truth.csv`.
pub fn write_storm_set(
    cfg: &crate::synth::storms::StormConfig,
    dir: &Path,
    opts: &WorkloadOptions,
    progress: &dyn Progress,
) -> Result<StormFiles> {
    let wopts = synthetic_output(
        dir,
        opts,
        "s2s-ensemble synthetic tropical cyclones (Holland vortices)".into(),
    )?;
    let times = cfg.times()?;
    let hours: Vec<f64> = (0..cfg.steps).map(|t| t as f64 * cfg.step_hours).collect();
    let fields = write_member_grid(
        &dir.join("storms.nc"),
        &wopts,
        (&cfg.lat, &cfg.lon),
        (&hours, &cfg.start),
        cfg.members,
        &[
            (
                "psl",
                "air_pressure_at_mean_sea_level",
                "sea-level pressure",
                "Pa",
            ),
            NEAR_SURFACE_WIND[0],
            NEAR_SURFACE_WIND[1],
            (
                "zthick",
                "",
                "geopotential thickness Z(300 hPa) - Z(500 hPa)",
                "m2 s-2",
            ),
        ],
        |m| {
            let f = cfg.member_fields(m);
            vec![f.psl, f.uas, f.vas, f.thickness]
        },
        progress,
    )?;

    let mut text = String::from("storm_id,member,time,lat,lon,depth_pa\n");
    for p in cfg.truth() {
        let t = &times[p.step];
        text.push_str(&format!(
            "{},{},{},{:.4},{:.4},{:.1}\n",
            p.storm + 1,
            p.member,
            t.iso_datetime(),
            p.lat,
            p.lon,
            p.depth_pa
        ));
    }
    let truth = dir.join("storms_truth.csv");
    crate::io::write::write_text_atomic(&truth, &text)?;
    Ok(StormFiles { fields, truth })
}

/// Writes the synthetic monthly environments of `cfg` into `dir` (created if needed):
/// `gpi_hindcast.nc` (every hindcast year's months) and `gpi_forecast.nc` (the forecast year),
/// each with `tos` (°C) and `psl` (Pa) on `(time, lat, lon)` and `ta` (K), `hus` (1), `ua`,
/// `va` (m s⁻¹) on `(time, plev, lat, lon)` with `plev` in Pa — what `s2s cyclones gpi` and the
/// outlook's `gpi_forecast` / `gpi_hindcast` read. Returns `(hindcast, forecast)`.
pub fn write_environment_set(
    cfg: &crate::synth::environment::EnvironmentConfig,
    dir: &Path,
    opts: &WorkloadOptions,
    progress: &dyn Progress,
) -> Result<(PathBuf, PathBuf)> {
    let wopts = synthetic_output(
        dir,
        opts,
        "s2s-ensemble synthetic monthly tropical environments (genesis potential)".into(),
    )?;
    let levels = cfg.levels_hpa();
    let (ny, nx, nl) = (cfg.lat.len(), cfg.lon.len(), levels.len());
    let mut paths = Vec::new();
    for forecast in [false, true] {
        let times = cfg.times(forecast);
        let nt = times.len();
        let path = dir.join(if forecast {
            "gpi_forecast.nc"
        } else {
            "gpi_hindcast.nc"
        });
        let mut w = CfWriter::create(&path, &wopts)?;
        w.dimension("time", nt)?;
        w.dimension("plev", nl)?;
        let epoch = CfDateTime::ymd(1970, 1, 1);
        let days: Vec<f64> = times
            .iter()
            .map(|t| epoch.days_until(t, Calendar::Standard))
            .collect::<Result<_>>()?;
        w.f64_var(
            "time",
            &["time"],
            &days,
            &[
                ("standard_name", "time"),
                ("units", "days since 1970-01-01 00:00:00"),
                ("calendar", "standard"),
                ("axis", "T"),
                ("comment", "monthly means, stamped mid-month"),
            ],
        )?;
        let plev_pa: Vec<f64> = levels.iter().map(|p| p * 100.0).collect();
        w.f64_var(
            "plev",
            &["plev"],
            &plev_pa,
            &[
                ("standard_name", "air_pressure"),
                ("units", "Pa"),
                ("positive", "down"),
                ("axis", "Z"),
            ],
        )?;
        write_spatial(
            &mut w,
            &crate::cube::Spatial::Grid {
                lat: cfg.lat.clone(),
                lon: cfg.lon.clone(),
            },
        )?;
        let d3 = ["time", "lat", "lon"];
        let d4 = ["time", "plev", "lat", "lon"];
        let surface = [
            ("tos", "sea_surface_temperature", "degC"),
            ("psl", "air_pressure_at_mean_sea_level", "Pa"),
        ];
        let upper = [
            ("ta", "air_temperature", "K"),
            ("hus", "specific_humidity", "1"),
            ("ua", "eastward_wind", "m s-1"),
            ("va", "northward_wind", "m s-1"),
        ];
        for (name, std, units) in surface {
            w.def_f32(
                name,
                &d3,
                &[nt, ny, nx],
                &[("standard_name", std), ("units", units)],
                &[],
            )?;
        }
        for (name, std, units) in upper {
            w.def_f32(
                name,
                &d4,
                &[nt, nl, ny, nx],
                &[("standard_name", std), ("units", units)],
                &[],
            )?;
        }
        progress.start(if forecast { "forecast" } else { "hindcast" }, nt as u64);
        for (t, time) in times.iter().enumerate() {
            let f = cfg.fields(time.year, time.month);
            for (name, a) in [("tos", &f.sst_c), ("psl", &f.psl_pa)] {
                let v = a.as_standard_layout();
                w.put_f32(
                    name,
                    &[t, 0, 0],
                    &[1, ny, nx],
                    v.as_slice().expect("layout"),
                )?;
            }
            for (name, a) in [
                ("ta", &f.ta_k),
                ("hus", &f.hus),
                ("ua", &f.ua),
                ("va", &f.va),
            ] {
                let v = a.as_standard_layout();
                w.put_f32(
                    name,
                    &[t, 0, 0, 0],
                    &[1, nl, ny, nx],
                    v.as_slice().expect("layout"),
                )?;
            }
            progress.advance(1);
        }
        progress.finish();
        paths.push(w.finish()?);
    }
    Ok((paths[0].clone(), paths[1].clone()))
}

/// The files of a synthetic daily set ([`crate::synth::daily`]).
#[derive(Debug, Clone)]
pub struct DailyExtremesFiles {
    /// `(variable, hindcast, forecast, observations)`.
    pub variables: Vec<(String, PathBuf, PathBuf, PathBuf)>,
}

/// Writes `<var>_hindcast.nc`, `<var>_forecast.nc` and `<var>_obs.nc` of `tasmax` and `pr`
/// (see [`crate::synth::daily`]).
pub fn write_daily_extremes_set(
    cfg: &crate::synth::daily::DailyExtremesConfig,
    dir: &Path,
    opts: &WorkloadOptions,
) -> Result<DailyExtremesFiles> {
    use crate::cube::{Coords, Cube, CubeKind, Lead, Meta, Spatial};
    use crate::synth::daily::{forecast_value, hindcast_value, observed_value, DailyVariable};
    use ndarray::Array5;
    let wopts = synthetic_output(
        dir,
        opts,
        "s2s-ensemble synthetic daily subseasonal set with planted heat wave and heavy rain".into(),
    )?;
    let spatial = Spatial::Grid {
        lat: cfg.lat.clone(),
        lon: cfg.lon.clone(),
    };
    let (ny, nx) = (cfg.lat.len(), cfg.lon.len());
    let leads: Vec<Lead> = (0..cfg.leads).map(|d| Lead::days(d as f64, 1.0)).collect();
    let starts = cfg.hindcast_starts();
    let cal = Calendar::Standard;
    let mut out = Vec::new();
    for v in [DailyVariable::Tasmax, DailyVariable::Pr] {
        let name = v.name();
        let meta = |model: &str| Meta::new(model, name, v.units(), cal);
        let hc = Cube::new(
            Array5::from_shape_fn(
                (starts.len(), cfg.hindcast_members, cfg.leads, ny, nx),
                |(i, m, l, y, x)| hindcast_value(cfg, v, &starts[i], (i, m, l, y, x)),
            ),
            Coords {
                init: starts.clone(),
                member: (0..cfg.hindcast_members as i32).collect(),
                lead: leads.clone(),
                spatial: spatial.clone(),
            },
            meta("synthetic-s2s"),
        )?;
        let fc = Cube::new(
            Array5::from_shape_fn(
                (1, cfg.forecast_members, cfg.leads, ny, nx),
                |(_, m, l, y, x)| forecast_value(cfg, v, (m, l, y, x)),
            ),
            Coords {
                init: vec![cfg.forecast_start],
                member: (0..cfg.forecast_members as i32).collect(),
                lead: leads.clone(),
                spatial: spatial.clone(),
            },
            meta("synthetic-s2s"),
        )?;
        let first = cal.day_number(starts[0].year, starts[0].month, starts[0].day)?;
        let last_start = starts[starts.len() - 1];
        let last =
            cal.day_number(last_start.year, last_start.month, last_start.day)? + cfg.leads as i64;
        let days: Vec<i64> = (first..last).collect();
        let mut obs_meta = meta("synthetic-obs");
        obs_meta.kind = CubeKind::Observed;
        let obs = Cube::new(
            Array5::from_shape_fn((days.len(), 1, 1, ny, nx), |(t, _, _, y, x)| {
                observed_value(cfg, v, days[t], y, x)
            }),
            Coords {
                init: days
                    .iter()
                    .map(|&d| {
                        let (y, m, dd) = cal.date_of_day_number(d);
                        CfDateTime::ymd(y, m, dd)
                    })
                    .collect(),
                member: vec![0],
                lead: vec![Lead::days(0.0, 1.0)],
                spatial: spatial.clone(),
            },
            obs_meta,
        )?;
        let paths = [
            dir.join(format!("{name}_hindcast.nc")),
            dir.join(format!("{name}_forecast.nc")),
            dir.join(format!("{name}_obs.nc")),
        ];
        for (p, c) in paths.iter().zip([&hc, &fc, &obs]) {
            crate::io::write_cube(p, c, &wopts)?;
        }
        let [h, f, o] = paths;
        out.push((name.to_string(), h, f, o));
    }
    Ok(DailyExtremesFiles { variables: out })
}

/// The files of [`write_seaice_set`].
#[derive(Debug, Clone)]
pub struct SeaIceFiles {
    /// `siconc_hindcast.nc`: one June start a year, the September lead.
    pub hindcast: PathBuf,
    /// `siconc_forecast.nc`: the forecast year's start.
    pub forecast: PathBuf,
    /// `N_09_extent_synthetic.csv`: the planted observed extents of the hindcast years, in the
    /// NSIDC Sea Ice Index monthly format.
    pub observed: PathBuf,
    /// `seaice_truth.csv`: `year,member,model_extent,observed_extent` (10⁶ km²), every year
    /// and member, the forecast year's observed extent included.
    pub truth: PathBuf,
}

/// Writes the synthetic sea-ice set of `cfg` ([`crate::synth::seaice`]) into `dir`.
pub fn write_seaice_set(
    cfg: &crate::synth::seaice::SeaIceSynthConfig,
    dir: &Path,
    opts: &WorkloadOptions,
) -> Result<SeaIceFiles> {
    let wopts = synthetic_output(
        dir,
        opts,
        "s2s-ensemble synthetic Arctic sea-ice concentration with a planted extent trend".into(),
    )?;
    let years: Vec<i32> = (cfg.hindcast_years.0..=cfg.hindcast_years.1).collect();
    let (hindcast, hindcast_extents) = cfg.cube(&years)?;
    let (forecast, forecast_extents) = cfg.cube(&[cfg.forecast_year])?;
    let files = SeaIceFiles {
        hindcast: dir.join("siconc_hindcast.nc"),
        forecast: dir.join("siconc_forecast.nc"),
        observed: dir.join(format!("N_{:02}_extent_synthetic.csv", cfg.month)),
        truth: dir.join("seaice_truth.csv"),
    };
    crate::io::write_cube(&files.hindcast, &hindcast, &wopts)?;
    crate::io::write_cube(&files.forecast, &forecast, &wopts)?;
    let mut observed = String::from("year, mo, data-type, region, extent, area\n");
    for &y in &years {
        observed.push_str(&format!(
            "{y}, {:2}, Synthetic, N, {:.4}, -9999\n",
            cfg.month,
            cfg.observed(y)
        ));
    }
    crate::io::write_text_atomic(&files.observed, &observed)?;
    let mut truth = String::from("year,member,model_extent,observed_extent\n");
    for (y, row) in years
        .iter()
        .zip(&hindcast_extents)
        .chain(std::iter::once((&cfg.forecast_year, &forecast_extents[0])))
    {
        for (m, e) in row.iter().enumerate() {
            truth.push_str(&format!("{y},{m},{e:.6},{:.6}\n", cfg.observed(*y)));
        }
    }
    crate::io::write_text_atomic(&files.truth, &truth)?;
    Ok(files)
}
