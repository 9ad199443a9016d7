//! `s2s cyclones detect|track|outlook|gpi`: flags → [`TrackSettings`] / [`ActivityPlan`] → the
//! cyclone jobs of [`s2s_ensemble::pipeline::cyclones`] → the DetectNodes text, the tracks CSV,
//! the seasonal activity outlook, the genesis potential fields.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand};
use s2s_ensemble::calendar::CfDateTime;
use s2s_ensemble::cube::BBox;
use s2s_ensemble::cyclone::validate::{validation_csv, MatchSpec};
use s2s_ensemble::cyclone::{tracks_csv, tracks_stitchnodes, DetectSpec, VorticityThreshold};
use s2s_ensemble::io::cyclone_fields::FieldNames;
use s2s_ensemble::io::ibtracs::Agency;
use s2s_ensemble::io::write_text_atomic;
use s2s_ensemble::pipeline::cyclones::{
    cyclone_outlook, detect_nodes_on, gpi_job, track_inputs_on, track_map_png, validate_job,
    ActivityPlan, StitchSettings, TrackSettings, ValidationPlan,
};
use s2s_ensemble::pipeline::load_countries;
use s2s_ensemble::pipeline::policy;

use super::{parse_years, Globals};

#[derive(Debug, Subcommand)]
pub enum CyclonesCommand {
    /// Candidate centres of every time step (TempestExtremes DetectNodes criteria), in
    /// DetectNodes' text format, one block per member.
    #[command(
        after_help = "Examples:\n  s2s cyclones detect storms.nc --out nodes.txt\n  s2s cyclones detect --psl msl --uas u10 --vas v10 era5_6h.nc --out nodes.txt\n  s2s cyclones detect --vorticity vo --min-lat -40 --max-lat 40 'era5_msl.nc;era5_vo850.nc' --out nodes.txt"
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
    Outlook(OutlookArgs),
    /// Detected tracks against observed best tracks (IBTrACS NetCDF or CSV): probability of
    /// detection, false-alarm ratio, position error and intensity bias per basin, as CSV and
    /// JSON.
    #[command(
        after_help = "Examples:\n  s2s cyclones validate --tracks tracks.csv --best-track IBTrACS.WP.v04r01.nc --out validation.csv\n  s2s cyclones validate --tracks tracks.csv --best-track ibtracs.NI.list.v04r01.csv --agency newdelhi --max-dist-km 500 --out nio.csv"
    )]
    Validate(ValidateArgs),
    /// Potential intensity (Bister & Emanuel 2002) and the Emanuel–Nolan genesis potential
    /// index from mean fields on pressure levels (SST, sea-level pressure, temperature,
    /// humidity, winds): the cyclone product for models without daily fields.
    #[command(
        after_help = "Examples:\n  s2s cyclones gpi --fields tos_Omon.nc,psl_Amon.nc,ta_Amon.nc,hus_Amon.nc,ua_Amon.nc,va_Amon.nc --out gpi.nc\n  s2s cyclones gpi --fields era5_monthly_plev.nc,era5_monthly_sfc.nc --out gpi_era5.nc"
    )]
    Gpi(GpiArgs),
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
    /// Relative vorticity variable (s-1; its 850 hPa level when on pressure levels): turns
    /// the vorticity criterion on (TE `--thresholdcmd "_PROD(vo,_SIGN(_LAT())),>=,MIN,RADIUS"`).
    #[arg(long, value_name = "VAR")]
    vorticity: Option<String>,
    /// Smallest cyclonic (hemisphere-signed) relative vorticity within --vorticity-radius.
    #[arg(long, default_value_t = VorticityThreshold::DEFAULT.min_cyclonic_s, value_name = "S-1", requires = "vorticity")]
    vorticity_min: f64,
    /// Radius (degrees) of the vorticity criterion and of the vorticity output column.
    #[arg(long, default_value_t = VorticityThreshold::DEFAULT.radius_deg, value_name = "DEG", requires = "vorticity")]
    vorticity_radius: f64,
    /// Drop candidates south of this latitude (TE `--minlat`).
    #[arg(long, value_name = "DEG", allow_hyphen_values = true)]
    min_lat: Option<f64>,
    /// Drop candidates north of this latitude (TE `--maxlat`).
    #[arg(long, value_name = "DEG", allow_hyphen_values = true)]
    max_lat: Option<f64>,
    /// Drop candidates poleward of this latitude in either hemisphere.
    #[arg(long, value_name = "DEG")]
    max_abs_lat: Option<f64>,
    /// Drop candidates equatorward of this latitude in either hemisphere (TE `--minabslat`).
    #[arg(long, value_name = "DEG")]
    min_abs_lat: Option<f64>,
    /// Merge candidates of exactly equal pressure within --merge-dist, keeping the first in
    /// the file's grid order (TE `--mergeequal`); by default both stay, as in TE.
    #[arg(long)]
    merge_equal: bool,
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
    /// Input files: `(time, lat, lon)` or `(time, member, lat, lon)` (any order) series, or forecasts
    /// `(start, member, lead, lat, lon)` with leads in hours or days. Members are numbered
    /// over the files in order. `msl.nc;vo.nc` is one run whose variables are in two files.
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
    /// Input files: `(time, lat, lon)` or `(time, member, lat, lon)` (any order) series, or forecasts
    /// `(start, member, lead, lat, lon)` with leads in hours or days. Members are numbered
    /// over the files in order. `msl.nc;vo.nc` is one run whose variables are in two files.
    #[arg(required = true, value_name = "IN.nc")]
    inputs: Vec<PathBuf>,
    /// Also write the tracks in TempestExtremes StitchNodes (GFDL) text format.
    #[arg(long, value_name = "FILE")]
    stitchnodes: Option<PathBuf>,
    /// Also draw the tracks on a map (PNG, with the bundled country outlines).
    #[arg(long, value_name = "FILE.png")]
    map: Option<PathBuf>,
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

/// The tracking settings of the flags (`stitch`: the linking flags, where the subcommand has
/// them).
fn track_settings(a: &FieldArgs, stitch: Option<&StitchArgs>) -> anyhow::Result<TrackSettings> {
    let mut detect = DetectSpec::default();
    detect.psl_contour.delta = a.contour_delta;
    detect.psl_contour.dist_deg = a.contour_dist;
    detect.merge_dist_deg = a.merge_dist;
    detect.wind_radius_deg = a.wind_radius;
    detect.diagonal_connectivity = a.diag_connect;
    detect.vorticity = VorticityThreshold {
        min_cyclonic_s: a.vorticity_min,
        radius_deg: a.vorticity_radius,
    };
    detect.min_lat_deg = a.min_lat;
    detect.max_lat_deg = a.max_lat;
    detect.max_abs_lat_deg = a.max_abs_lat;
    detect.min_abs_lat_deg = a.min_abs_lat;
    detect.merge_equal = a.merge_equal;
    detect.validate()?;
    let stitch = match stitch {
        Some(s) => StitchSettings {
            range_deg: s.range,
            min_duration_hours: s.min_duration,
            max_gap_hours: s.max_gap,
            thresholds: s
                .threshold
                .as_deref()
                .map(StitchSettings::parse_thresholds)
                .transpose()?,
        },
        None => StitchSettings::default(),
    };
    Ok(TrackSettings {
        fields: FieldNames {
            psl: a.psl.clone(),
            wind: a.wind.clone(),
            uas: a.uas.clone(),
            vas: a.vas.clone(),
            thickness: a.thickness.clone(),
            vorticity: a.vorticity.clone(),
            bbox: a.bbox.as_deref().map(BBox::parse).transpose()?,
        },
        detect,
        stitch,
    })
}

impl CyclonesCommand {
    /// Whether the subcommand spreads its work over the processes of `mpirun -n N`:
    /// detection and tracking split the time steps.
    pub(crate) fn is_distributed(&self) -> bool {
        matches!(self, CyclonesCommand::Detect(_) | CyclonesCommand::Track(_))
    }
}

pub fn run(cmd: &CyclonesCommand, g: &Globals) -> anyhow::Result<ExitCode> {
    match cmd {
        CyclonesCommand::Detect(a) => detect(a, g),
        CyclonesCommand::Track(a) => track(a, g),
        CyclonesCommand::Outlook(a) => outlook(a, g),
        CyclonesCommand::Gpi(a) => gpi(a, g),
        CyclonesCommand::Validate(a) => validate(a, g),
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Detected tracks: the tracks CSV of `s2s cyclones track` (or an IBTrACS file).
    #[arg(long, value_name = "FILE")]
    tracks: PathBuf,
    /// Observed best tracks: IBTrACS v04 NetCDF or CSV (with its units line).
    #[arg(long, value_name = "FILE")]
    best_track: PathBuf,
    /// Whose winds and pressures: wmo (the basin's RSMC), usa, or tokyo, newdelhi, cma, hko,
    /// kma, reunion, bom, nadi, wellington.
    #[arg(long, default_value = "wmo", value_name = "AGENCY")]
    agency: String,
    /// Largest distance (km) at which a detected and an observed point pair.
    #[arg(long, default_value_t = MatchSpec::default().max_distance_km, value_name = "KM")]
    max_dist_km: f64,
    /// Largest time difference (hours) at which they pair.
    #[arg(long, default_value_t = MatchSpec::default().max_time_hours, value_name = "HOURS")]
    max_hours: f64,
    /// Fewest pairing points for a detected track to match a storm.
    #[arg(long, default_value_t = MatchSpec::default().min_pairs, value_name = "N")]
    min_pairs: usize,
    /// Observed storms count when their wind reaches this (knots; 34 = tropical storm).
    #[arg(long, default_value_t = policy::OBSERVED_STORM_MIN_WIND_KT, value_name = "KT")]
    min_wind_kt: f64,
    /// Only observed storms with a point in `START,END` (dates) count; default: the span of
    /// the detected tracks.
    #[arg(long, value_name = "START,END")]
    period: Option<String>,
    /// Output CSV (one row per basin and `all`); the JSON with each track's match is written
    /// beside it (same name, `.json`).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn validate(a: &ValidateArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let period = match &a.period {
        Some(p) => {
            let (s, e) = p
                .split_once(',')
                .ok_or_else(|| anyhow::anyhow!("--period '{p}': expected START,END"))?;
            let parse = |t: &str| {
                CfDateTime::parse_with_offset(t.trim())
                    .map(|x| x.0)
                    .map_err(|e| anyhow::anyhow!("--period '{t}': {e}"))
            };
            Some((parse(s)?, parse(e)?))
        }
        None => None,
    };
    let plan = ValidationPlan {
        tracks: &a.tracks,
        best_track: &a.best_track,
        agency: Agency::parse(&a.agency)?,
        min_wind_kt: a.min_wind_kt,
        spec: MatchSpec {
            max_distance_km: a.max_dist_km,
            max_time_hours: a.max_hours,
            min_pairs: a.min_pairs,
        },
        period,
    };
    let v = validate_job(&plan)?;
    let csv = validation_csv(&v);
    let json = serde_json::to_string_pretty(&v)?;
    let json_path = a.out.with_extension("json");
    s2s_ensemble::outputs::staging::write_files_together(&[
        (a.out.as_path(), csv.as_bytes()),
        (json_path.as_path(), json.as_bytes()),
    ])?;
    if !g.quiet {
        let all = v.basins.last().expect("the 'all' row");
        errln!(
            "{} observed storms, {} detected tracks: POD {:.2}, FAR {:.2}: {}",
            all.observed,
            all.detected,
            all.pod,
            all.far,
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn detect(a: &DetectArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let settings = track_settings(&a.fields, None)?;
    // the nodes are rank 0's: the others have nothing to write
    let Some((text, count)) = detect_nodes_on(&settings, &a.inputs, &g.bars(), g.ranks.as_ref())?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    write_text_atomic(&a.out, &text)?;
    if !g.quiet {
        errln!(
            "{count} candidate centres in {:.1} s: {}",
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn track(a: &TrackArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let settings = track_settings(&a.fields, Some(&a.stitch))?;
    // the tracks are rank 0's: the others have nothing to write
    let Some(set) = track_inputs_on(&settings, &a.inputs, &g.bars(), g.ranks.as_ref())? else {
        return Ok(ExitCode::SUCCESS);
    };
    // the CSV and the StitchNodes text are replaced together or not at all
    let csv = tracks_csv(&set.tracks, set.columns);
    let stitch = a
        .stitchnodes
        .as_ref()
        .map(|p| (p, tracks_stitchnodes(&set.tracks, set.columns)));
    let map = match &a.map {
        Some(p) => {
            let countries = load_countries(None)?;
            let times = || {
                set.tracks
                    .iter()
                    .flat_map(|t| t.points.iter().map(|p| p.time))
            };
            let title = match (times().min(), times().max()) {
                (Some(a), Some(b)) => format!(
                    "{} tracks, {} to {}",
                    set.tracks.len(),
                    a.iso_datetime(),
                    b.iso_datetime()
                ),
                _ => "no tracks".to_string(),
            };
            Some((p, track_map_png(&set.tracks, Some(&countries), &title)?))
        }
        None => None,
    };
    let mut files: Vec<(&Path, &[u8])> = vec![(a.out.as_path(), csv.as_bytes())];
    if let Some((p, text)) = &stitch {
        files.push((p.as_path(), text.as_bytes()));
    }
    if let Some((p, png)) = &map {
        files.push((p.as_path(), png.as_slice()));
    }
    s2s_ensemble::outputs::staging::write_files_together(&files)?;
    if !g.quiet {
        errln!(
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

#[derive(Debug, Args)]
pub struct OutlookArgs {
    #[command(flatten)]
    fields: FieldArgs,
    #[command(flatten)]
    stitch: StitchArgs,
    /// Forecast field files (comma- or space-separated, or a pattern such as 'fc/*.nc'): the
    /// runs must cover every target month.
    #[arg(long, value_delimiter = ',', num_args = 1.., required = true, value_name = "FILES")]
    forecast: Vec<PathBuf>,
    /// Hindcast field files of the same model (comma- or space-separated, or a pattern such as
    /// 'hc/*.nc'): its climatology.
    #[arg(long, value_delimiter = ',', num_args = 1.., required = true, value_name = "FILES")]
    hindcast: Vec<PathBuf>,
    /// Target months `FIRST-LAST` (wrapping the year allowed: `11-4`).
    #[arg(long, value_name = "MONTHS")]
    season: String,
    /// Basins (comma-separated keys): nio, arb, bob, wnp, scs, sio.
    #[arg(long, value_delimiter = ',', default_value = "nio,arb,bob,wnp,scs,sio")]
    basins: Vec<String>,
    /// Country polygons (GeoJSON with `name`) for landfall and the map; `none` to skip;
    /// default: the bundled Natural Earth countries (1:50m in Asia).
    #[arg(long, value_name = "FILE")]
    countries: Option<String>,
    /// Observed best tracks: IBTrACS v04 (NetCDF, or CSV with its units line) or the tracks
    /// CSV layout — the observed climatology per basin and month, and the calibration of
    /// counts.
    #[arg(long, value_name = "FILE", requires = "obs_years")]
    obs_tracks: Option<PathBuf>,
    /// Whose winds in IBTrACS: wmo (the basin's RSMC), usa, or tokyo, newdelhi, cma, hko,
    /// kma, reunion, bom, nadi, wellington.
    #[arg(long, default_value = "wmo", value_name = "AGENCY")]
    obs_agency: String,
    /// Years `FIRST-LAST` the observed tracks cover (years without a storm count as zero).
    #[arg(long, value_name = "FIRST-LAST")]
    obs_years: Option<String>,
    /// Box size (degrees) of the track-density maps.
    #[arg(long, default_value_t = 5.0, value_name = "DEG")]
    density_deg: f64,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn outlook(a: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let obs_years = a.obs_years.as_deref().map(parse_years).transpose()?;
    let countries = match a.countries.as_deref() {
        Some("none") => None,
        other => Some(load_countries(other.map(Path::new))?),
    };
    let tracking = track_settings(&a.fields, Some(&a.stitch))?;
    // Each file is one run: patterns stand for their files.
    use s2s_ensemble::io::fileset::expand_each;
    let (forecast, hindcast) = (expand_each(&a.forecast)?, expand_each(&a.hindcast)?);
    // the outlook's Markdown in English (a bulletin's language comes from its configuration)
    let english = s2s_ensemble::bulletin::Catalogue::english()?;
    let plan = ActivityPlan {
        tracking: &tracking,
        forecast: &forecast,
        hindcast: &hindcast,
        season: &a.season,
        basins: &a.basins,
        countries: countries.as_ref(),
        observed: a.obs_tracks.as_deref().zip(obs_years),
        observed_agency: Agency::parse(&a.obs_agency)?,
        density_deg: a.density_deg,
        cat: &english,
        out: &a.out,
    };
    let p = cyclone_outlook(&plan, &g.run_options(), &g.bars())?;
    if !g.quiet {
        errln!(
            "cyclone outlook {}: {} forecast and {} hindcast member-seasons in {:.1} s: {}",
            p.label,
            p.member_seasons.0,
            p.member_seasons.1,
            t0.elapsed().as_secs_f64(),
            a.out.join("cyclone_outlook.md").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct GpiArgs {
    /// Files holding the variables (comma-separated; each variable is taken from the first
    /// file that has it): sea surface temperature `tos`/`sst` (°C or K), sea-level pressure
    /// `psl`/`msl` (Pa or hPa), and on pressure levels air temperature `ta` (K), specific
    /// humidity `hus` (kg/kg), winds `ua`, `va` (m/s) and optionally relative humidity `hur`
    /// (%), all on one grid and one time axis.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILES")]
    fields: Vec<PathBuf>,
    /// `C_k / C_D` of the potential intensity.
    #[arg(long, default_value_t = 0.9)]
    ck_cd: f64,
    /// Output NetCDF: `gpi`, `vpot`, `pmin`, `abs_vorticity_850`, `rh_600`, `shear_850_200`
    /// and `gpi_anomaly` (against the mean of the same calendar month over the file's years).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn gpi(a: &GpiArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (nt, ny, nx) = gpi_job(&a.fields, a.ck_cd, &a.out, &g.run_options())?;
    if !g.quiet {
        errln!(
            "GPI of {nt} times × {ny} × {nx} cells in {:.1} s: {}",
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
