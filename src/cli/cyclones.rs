//! `s2s cyclones detect|track`: tropical-cyclone centres and tracks on model fields.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use ndarray::{s, ArrayView3};
use s2s_ensemble::calendar::CfDateTime;
use s2s_ensemble::cube::{BBox, CubeKind, LeadUnit, Spatial};
use s2s_ensemble::cyclone::activity::RunSpan;
use s2s_ensemble::cyclone::detect::wind_speed;
use s2s_ensemble::cyclone::nodefile::nodes_detectnodes;
use s2s_ensemble::cyclone::{
    build_tracks, detect_series, stitch, tracks_csv, tracks_stitchnodes, DetectSpec, Node,
    NodeGrid, PathThreshold, StitchSpec, Track,
};
use s2s_ensemble::io::{read_cube, write_text_atomic, ReadOptions};
use s2s_ensemble::units::{geopotential_to_m2_s2, pressure_to_pa, speed_to_m_s};
use s2s_ensemble::Cube;

use super::progress::Bars;
use super::Globals;
use s2s_ensemble::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum CyclonesCommand {
    /// Candidate centres of every time step (TempestExtremes DetectNodes criteria), in
    /// DetectNodes' text format, one block per member.
    #[command(
        after_help = "Examples:\n  s2s cyclones detect storms.nc --out nodes.txt\n  s2s cyclones detect --psl msl --uas u10 --vas v10 era5_6h.nc --out nodes.txt"
    )]
    Detect(DetectArgs),
    /// Tracks (detection + StitchNodes-style linking and filters) as CSV
    /// `track_id,member,time,lat,lon,psl,wind`, optionally also in StitchNodes' text format.
    #[command(
        after_help = "Examples:\n  s2s cyclones track storms.nc --out tracks.csv\n  s2s cyclones track --thickness zthick --stitchnodes tracks.txt member_*.nc --out tracks.csv\n  s2s cyclones track --wind sfcWind --threshold 'wind,>=,17,3;lat,|<=,40,first' daily.nc --out tracks.csv"
    )]
    Track(TrackArgs),
    /// Seasonal activity outlook per basin from forecast and hindcast fields: storm counts,
    /// ACE, storm days, P(≥ N storms), tercile probabilities and landfall probability by
    /// country against the model's own hindcast climatology; track-density maps (NetCDF).
    #[command(
        after_help = "Examples:\n  s2s cyclones outlook --forecast fc_2020.nc --hindcast hc_1993.nc,hc_1994.nc,hc_1995.nc --season 9-11 --out tc/\n  s2s cyclones outlook --forecast fc.nc --hindcast hc/*.nc --season 10-12 --basins bob,arb --obs-tracks ibtracs_nio.csv --obs-years 1993-2016 --out tc/"
    )]
    Outlook(super::cyclone_outlook::OutlookArgs),
    /// Potential intensity (Bister & Emanuel 2002) and the Emanuel–Nolan genesis potential
    /// index from mean fields on pressure levels (SST, sea-level pressure, temperature,
    /// humidity, winds): the cyclone product for models without daily fields.
    #[command(
        after_help = "Examples:\n  s2s cyclones gpi --fields tos_Omon.nc,psl_Amon.nc,ta_Amon.nc,hus_Amon.nc,ua_Amon.nc,va_Amon.nc --out gpi.nc\n  s2s cyclones gpi --fields era5_monthly_plev.nc,era5_monthly_sfc.nc --out gpi_era5.nc"
    )]
    Gpi(super::gpi::GpiArgs),
}

/// Inputs and detection settings shared by `detect` and `track`.
#[derive(Debug, Args)]
pub struct FieldArgs {
    /// Sea-level pressure variable (default: the first of psl, msl, mslp, slp, prmsl, PSL).
    #[arg(long, value_name = "VAR")]
    psl: Option<String>,
    /// Wind-speed variable, instead of --uas/--vas (default: sfcWind, wspd or ws10 if present).
    #[arg(long, value_name = "VAR", conflicts_with_all = ["uas", "vas"])]
    wind: Option<String>,
    /// Eastward wind variable (default: uas, u10 or UBOT).
    #[arg(long, value_name = "VAR", requires = "vas")]
    uas: Option<String>,
    /// Northward wind variable (default: vas, v10 or VBOT).
    #[arg(long, value_name = "VAR", requires = "uas")]
    vas: Option<String>,
    /// Z(300 hPa) − Z(500 hPa) thickness variable (geopotential in m2 s-2, or height in m):
    /// turns the warm-core test on.
    #[arg(long, value_name = "VAR")]
    thickness: Option<String>,
    /// Only this box `WEST,EAST,SOUTH,NORTH` (degrees).
    #[arg(long, value_name = "W,E,S,N")]
    bbox: Option<String>,
    /// Required PSL rise (Pa) of the closed contour.
    #[arg(long, default_value_t = 200.0, value_name = "PA")]
    contour_delta: f64,
    /// Distance (degrees) within which the PSL contour must close.
    #[arg(long, default_value_t = 5.5, value_name = "DEG")]
    contour_dist: f64,
    /// Candidates closer than this (degrees) are merged, keeping the deepest.
    #[arg(long, default_value_t = 6.0, value_name = "DEG")]
    merge_dist: f64,
    /// Radius (degrees) of the largest-wind search around a centre.
    #[arg(long, default_value_t = 2.0, value_name = "DEG")]
    wind_radius: f64,
    /// Consider grid points connected along diagonals (8 neighbours instead of 4).
    #[arg(long)]
    diag_connect: bool,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    fields: FieldArgs,
    /// Input files: `(time, lat, lon)` or `(member, time, lat, lon)` series, or forecasts
    /// `(start, member, lead, lat, lon)` with leads in hours or days. Members are numbered
    /// over the files in order.
    #[arg(required = true, value_name = "IN.nc")]
    inputs: Vec<PathBuf>,
    /// Output text file (DetectNodes format).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct TrackArgs {
    #[command(flatten)]
    fields: FieldArgs,
    #[command(flatten)]
    stitch: StitchArgs,
    /// Input files: `(time, lat, lon)` or `(member, time, lat, lon)` series, or forecasts
    /// `(start, member, lead, lat, lon)` with leads in hours or days. Members are numbered
    /// over the files in order.
    #[arg(required = true, value_name = "IN.nc")]
    inputs: Vec<PathBuf>,
    /// Also write the tracks in TempestExtremes StitchNodes (GFDL) text format.
    #[arg(long, value_name = "FILE")]
    stitchnodes: Option<PathBuf>,
    /// Output CSV.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Track linking and filters shared by `track` and `outlook`.
#[derive(Debug, Args)]
pub struct StitchArgs {
    /// Largest distance (degrees) between consecutive points of a track.
    #[arg(long, default_value_t = 8.0, value_name = "DEG")]
    range: f64,
    /// Shortest track (hours from first to last point).
    #[arg(long, default_value_t = 54.0, value_name = "HOURS")]
    min_duration: f64,
    /// Longest gap (hours) between consecutive points.
    #[arg(long, default_value_t = 24.0, value_name = "HOURS")]
    max_gap: f64,
    /// Path filters `col,op,value,count` separated by ';' (TE syntax; columns lat, lon, psl,
    /// wind). Default: wind ≥ 10 m/s and |lat| ≤ 50° at 60 h worth of points, genesis within
    /// 40° of the equator.
    #[arg(long, value_name = "FILTERS")]
    threshold: Option<String>,
}

impl Default for FieldArgs {
    /// The command-line defaults: variables found by name, the TE criteria.
    fn default() -> Self {
        FieldArgs {
            psl: None,
            wind: None,
            uas: None,
            vas: None,
            thickness: None,
            bbox: None,
            contour_delta: 200.0,
            contour_dist: 5.5,
            merge_dist: 6.0,
            wind_radius: 2.0,
            diag_connect: false,
        }
    }
}

impl Default for StitchArgs {
    /// The command-line defaults (TE's TC settings).
    fn default() -> Self {
        StitchArgs {
            range: 8.0,
            min_duration: 54.0,
            max_gap: 24.0,
            threshold: None,
        }
    }
}

/// The tracks of a set of input files.
pub struct TrackedSet {
    /// Tracks, numbered from 1.
    pub tracks: Vec<Track>,
    /// Time span of every member run (member numbers as in the tracks).
    pub runs: Vec<RunSpan>,
    /// Median time step of the runs (hours).
    pub step_hours: f64,
    /// Candidate centres detected.
    pub nodes: usize,
    /// The path filters used.
    pub filters: String,
}

/// Detects and tracks the storms of every member run of `inputs`.
pub fn track_inputs(
    fields: &FieldArgs,
    stitch_args: &StitchArgs,
    inputs: &[PathBuf],
    g: &Globals,
) -> anyhow::Result<TrackedSet> {
    let thresholds = match &stitch_args.threshold {
        Some(t) => Some(
            t.split(';')
                .filter(|x| !x.trim().is_empty())
                .map(PathThreshold::parse)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let mut set = TrackedSet {
        tracks: Vec::new(),
        runs: Vec::new(),
        step_hours: 6.0,
        nodes: 0,
        filters: String::new(),
    };
    let mut steps = Vec::new();
    for_each_series(fields, inputs, g, |s, _, member, nodes| {
        let dt = step_hours(&s.hours);
        steps.push(dt);
        let mut spec = StitchSpec::tempest_tc(dt);
        spec.range_deg = stitch_args.range;
        spec.min_duration_hours = stitch_args.min_duration;
        spec.max_gap_hours = stitch_args.max_gap;
        if let Some(t) = &thresholds {
            spec.thresholds = t.clone();
        }
        set.nodes += nodes.iter().map(Vec::len).sum::<usize>();
        let paths = stitch(&s.hours, &nodes, &spec)?;
        let first = set.tracks.len() + 1;
        set.tracks
            .extend(build_tracks(member, &s.times, &nodes, &paths, first));
        if let (Some(&start), Some(&end)) = (s.times.first(), s.times.last()) {
            set.runs.push(RunSpan { member, start, end });
        }
        if set.filters.is_empty() {
            set.filters = spec
                .thresholds
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join("; ");
        }
        Ok(())
    })?;
    if !steps.is_empty() {
        steps.sort_by(f64::total_cmp);
        set.step_hours = steps[steps.len() / 2];
    }
    Ok(set)
}

/// One member's time series in the fields of a file: a member of an observed-style series
/// (`init: None`) or one start date and member of a forecast.
struct Series {
    label: String,
    times: Vec<CfDateTime>,
    hours: Vec<f64>,
    init: Option<usize>,
    member: usize,
}

/// The fields of one file, converted to Pa, m/s and m² s⁻².
struct Fields {
    psl: Cube,
    wind: Cube,
    thickness: Option<Cube>,
    /// Index in the file of each grid latitude and longitude (the reader orders latitudes
    /// south to north and longitudes from −180°), for TE's `i j` columns.
    file_index: (Vec<usize>, Vec<usize>),
}

impl Fields {
    /// Nodes with `i`, `j` as indices of the file's longitude and latitude.
    fn to_file_indices(&self, mut nodes: Vec<Vec<Node>>) -> Vec<Vec<Node>> {
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
    fn view<'a>(&self, c: &'a Cube) -> ArrayView3<'a, f32> {
        match self.init {
            None => c.values.slice(s![.., self.member, 0, .., ..]),
            Some(i) => c.values.slice(s![i, self.member, .., .., ..]),
        }
    }
}

pub fn run(cmd: &CyclonesCommand, g: &Globals) -> anyhow::Result<ExitCode> {
    match cmd {
        CyclonesCommand::Detect(a) => detect(a, g),
        CyclonesCommand::Track(a) => track(a, g),
        CyclonesCommand::Outlook(a) => super::cyclone_outlook::run(a, g),
        CyclonesCommand::Gpi(a) => super::gpi::run(a, g),
    }
}

fn detect_spec(a: &FieldArgs) -> anyhow::Result<DetectSpec> {
    let mut spec = DetectSpec::default();
    spec.psl_contour.delta = a.contour_delta;
    spec.psl_contour.dist_deg = a.contour_dist;
    spec.merge_dist_deg = a.merge_dist;
    spec.wind_radius_deg = a.wind_radius;
    spec.diagonal_connectivity = a.diag_connect;
    spec.validate()?;
    Ok(spec)
}

/// Runs detection over every series of every input, calling `each` with the series, its
/// member number and its nodes.
fn for_each_series(
    a: &FieldArgs,
    inputs: &[PathBuf],
    g: &Globals,
    mut each: impl FnMut(&Series, &NodeGrid, i32, Vec<Vec<Node>>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let spec = detect_spec(a)?;
    let bars = Bars::new(g.quiet);
    let mut member = 0i32;
    for path in inputs {
        let (fields, series, grid) = read_series(path, a)?;
        bars.start("detect", series.len() as u64);
        for s in &series {
            let nodes = detect_series(
                &grid,
                s.view(&fields.psl),
                s.view(&fields.wind),
                fields.thickness.as_ref().map(|t| s.view(t)),
                &spec,
            )?;
            each(s, &grid, member, fields.to_file_indices(nodes))?;
            member += 1;
            bars.advance(1);
        }
        bars.finish();
    }
    Ok(())
}

fn detect(a: &DetectArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let mut text = String::new();
    let mut count = 0;
    for_each_series(&a.fields, &a.inputs, g, |s, _, member, nodes| {
        count += nodes.iter().map(Vec::len).sum::<usize>();
        text.push_str(&format!("# member {member} ({})\n", s.label));
        text.push_str(&nodes_detectnodes(&s.times, &nodes));
        Ok(())
    })?;
    write_text_atomic(&a.out, &text)?;
    if !g.quiet {
        eprintln!(
            "{count} candidate centres in {:.1} s: {}",
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn track(a: &TrackArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let set = track_inputs(&a.fields, &a.stitch, &a.inputs, g)?;
    write_text_atomic(&a.out, &tracks_csv(&set.tracks))?;
    if let Some(p) = &a.stitchnodes {
        write_text_atomic(p, &tracks_stitchnodes(&set.tracks))?;
    }
    if !g.quiet {
        eprintln!(
            "{} tracks from {} centres in {:.1} s (filters: {}): {}",
            set.tracks.len(),
            set.nodes,
            t0.elapsed().as_secs_f64(),
            set.filters,
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Median spacing of the times (hours).
fn step_hours(hours: &[f64]) -> f64 {
    let mut d: Vec<f64> = hours.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return 6.0;
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// The first of `names` the file has.
pub(crate) fn pick(
    path: &Path,
    given: Option<&str>,
    names: &[&str],
) -> anyhow::Result<Option<String>> {
    if let Some(g) = given {
        return Ok(Some(g.to_string()));
    }
    let vars = s2s_ensemble::io::inspect::data_variable_names(path)?;
    Ok(names
        .iter()
        .find(|n| vars.iter().any(|v| v == *n))
        .map(|n| n.to_string()))
}

/// A variable in its file's units (optionally a box and one pressure level).
pub(crate) fn read_raw(
    path: &Path,
    var: &str,
    bbox: Option<&BBox>,
    level_hpa: Option<f64>,
) -> anyhow::Result<Cube> {
    Ok(read_cube(
        path,
        &ReadOptions {
            variable: Some(var.to_string()),
            bbox: bbox.cloned(),
            keep_units: true,
            level_hpa,
            ..Default::default()
        },
    )?)
}

/// Multiplies a cube by the factor its units need, or says which units are not understood.
pub(crate) fn to_units(
    mut c: Cube,
    path: &Path,
    factor: fn(&str) -> Option<f64>,
    wanted: &str,
    plausible: (f64, f64),
) -> anyhow::Result<Cube> {
    let Some(f) = factor(&c.meta.units) else {
        bail!(
            "{}: variable '{}' has units '{}', which cannot be converted to {wanted}",
            path.display(),
            c.meta.variable,
            c.meta.units
        );
    };
    if f != 1.0 {
        c.values.mapv_inplace(|x| (x as f64 * f) as f32);
    }
    // the median of a systematic sample of ~100 000 values: enough to tell units apart
    let stride = (c.values.len() / 100_000).max(1);
    let mut finite: Vec<f32> = c
        .values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if finite.is_empty() {
        finite = c.values.iter().copied().filter(|x| x.is_finite()).collect();
    }
    if finite.is_empty() {
        bail!(
            "{}: variable '{}' is missing (NaN) everywhere",
            path.display(),
            c.meta.variable
        );
    }
    let mid = finite.len() / 2;
    let median = *finite.select_nth_unstable_by(mid, f32::total_cmp).1 as f64;
    if !(plausible.0..=plausible.1).contains(&median) {
        bail!(
            "{}: variable '{}' has a median of {median:.6} {wanted} after converting from '{}': not plausible (expected {}–{}); are the units right?",
            path.display(),
            c.meta.variable,
            c.meta.units,
            plausible.0,
            plausible.1
        );
    }
    c.meta.units = wanted.to_string();
    Ok(c)
}

/// Reads the fields of one file and splits them into member series.
fn read_series(path: &Path, a: &FieldArgs) -> anyhow::Result<(Fields, Vec<Series>, NodeGrid)> {
    let bbox = a.bbox.as_deref().map(BBox::parse).transpose()?;
    let psl_name = pick(
        path,
        a.psl.as_deref(),
        &["psl", "msl", "mslp", "slp", "prmsl", "PSL"],
    )?
    .with_context(|| {
        format!(
            "{}: no sea-level pressure (psl, msl, mslp, slp, prmsl, PSL); name it with --psl",
            path.display()
        )
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
            bail!(
                "{}: '{psl_name}' is a {} series; cyclone tracking needs daily or sub-daily fields",
                path.display(),
                c.label()
            );
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
                _ => bail!(
                    "{}: no near-surface wind (uas/vas, u10/v10, UBOT/VBOT or sfcWind, wspd, ws10); name it with --wind or --uas/--vas",
                    path.display()
                ),
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
            if c.values.dim() != psl.values.dim() || c.coords.spatial != psl.coords.spatial {
                bail!(
                    "{}: the {what} variable '{}' is not on the sea-level pressure's times and grid ({:?} vs {:?})",
                    path.display(),
                    c.meta.variable,
                    c.values.dim(),
                    psl.values.dim()
                );
            }
        }
    }
    let Spatial::Grid { lat, lon } = &psl.coords.spatial else {
        bail!(
            "{}: '{}' is not on a latitude/longitude grid ({}); cyclone detection needs one",
            path.display(),
            psl_name,
            psl.coords.spatial.describe()
        );
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
                bail!("{}: an observed series with {nl} leads", path.display());
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
                    bail!(
                        "{}: leads are more than 2 days apart; cyclone tracking needs daily or sub-daily fields",
                        path.display()
                    );
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
            bail!(
                "{}: time steps are {:.0} h apart; cyclone tracking needs daily or sub-daily fields",
                path.display(),
                step_hours(&s.hours)
            );
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

fn read_speed(path: &Path, var: &str, bbox: Option<&BBox>) -> anyhow::Result<Cube> {
    to_units(
        read_raw(path, var, bbox, None)?,
        path,
        speed_to_m_s,
        "m s-1",
        (0.0, 60.0),
    )
}

fn read_components(path: &Path, u: &str, v: &str, bbox: Option<&BBox>) -> anyhow::Result<Cube> {
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
        bail!(
            "{}: wind components '{u}' {:?} and '{v}' {:?} differ in shape",
            path.display(),
            cu.values.dim(),
            cv.values.dim()
        );
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
