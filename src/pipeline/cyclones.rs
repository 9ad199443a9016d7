//! The tropical-cyclone jobs: detection and tracking of every member run of a set of field
//! files (TempestExtremes DetectNodes/StitchNodes criteria, [`crate::cyclone`]), the seasonal
//! activity outlook per basin against the model's own hindcast climatology, and the genesis
//! potential outlook from monthly means (Emanuel & Nolan 2004) for models without daily fields.

use std::path::{Path, PathBuf};

use ndarray::{s, Array3};

use super::{policy, RunOptions};
use crate::bulletin::{
    anomaly_classes, cyclone_activity_markdown, genesis_markdown, observed_climatology_markdown,
    render_classed_map, render_track_map, ClassedMap, DensityLayer,
};
use crate::calendar::Calendar;
use crate::calendar::CfDateTime;
use crate::cube::{CubeKind, Spatial};
use crate::cyclone::activity::{
    activity_outlook, basin_activity, member_seasons, observed_climatology, track_density,
    ActivityOutlook, Basin, ObservedClimatology, RunSpan, Season, BASINS,
};
use crate::cyclone::genesis::PiSpec;
use crate::cyclone::genesis_outlook::{
    genesis_outlook, gpi_fields, monthly_anomaly, GenesisInput, GpiFields, GpiInputs,
};
use crate::cyclone::nodefile::nodes_detectnodes;
use crate::cyclone::validate::{validate_tracks, MatchSpec, ObservedStorm, Validation};
use crate::cyclone::{
    build_tracks, detect_series, parse_tracks_csv, stitch, tracks_csv, DetectSpec, Node,
    NodeColumns, NodeGrid, PathThreshold, StitchSpec, Track,
};
use crate::distributed::products::{decode_detected, encode_detected};
use crate::distributed::{agree, Bands, OneProcess, Ranks};
use crate::error::{Context, Error, Result};
use crate::grid::Countries;
use crate::io::cyclone_fields::{
    check_sub_daily, step_hours, FieldNames, Fields, RunSource, Series,
};
use crate::io::ibtracs::{
    is_best_track_file, read_best_tracks, read_text_edition, Agency, BestTrack,
};
use crate::io::products::cyclones::{write_genesis_outlook, write_track_density, TrackDensity};
use crate::io::vars::{pick, read_raw, read_var, to_units};
use crate::io::{pressure_levels, write_text_atomic, ReadOptions};
use crate::progress::Progress;
use crate::units::pressure_to_pa;
use crate::Cube;

/// How storms are found and linked: which variables, DetectNodes' criteria, StitchNodes'
/// linking and filters.
#[derive(Debug, Clone, Default)]
pub struct TrackSettings {
    /// The fields' variables (found by name when not given) and the box.
    pub fields: FieldNames,
    /// Detection criteria (the TempestExtremes TC defaults).
    pub detect: DetectSpec,
    /// Linking and path filters.
    pub stitch: StitchSettings,
}

impl TrackSettings {
    /// The detection settings of the outlook's `[cyclones]` section: TE's TC defaults, with
    /// the vorticity criterion, the warm core and the latitude band when the section names
    /// them.
    pub fn from_config(c: &crate::config::CyclonesConfig) -> Result<Self> {
        let mut s = TrackSettings::default();
        s.fields.vorticity = c.vorticity.clone();
        s.fields.thickness = c.thickness.clone();
        if let Some(v) = c.vorticity_min {
            s.detect.vorticity.min_cyclonic_s = v;
        }
        if let Some(r) = c.vorticity_radius {
            s.detect.vorticity.radius_deg = r;
        }
        s.detect.min_lat_deg = c.min_lat;
        s.detect.max_lat_deg = c.max_lat;
        s.detect
            .validate()
            .map_err(|e| Error::invalid("[cyclones] detection settings", e.to_string()))?;
        Ok(s)
    }
}

/// StitchNodes' settings; the filters default to TempestExtremes' TC filters for the data's
/// time step ([`StitchSpec::tempest_tc`]).
#[derive(Debug, Clone)]
pub struct StitchSettings {
    /// Largest distance (degrees) between consecutive points of a track.
    pub range_deg: f64,
    /// Shortest track (hours from first to last point).
    pub min_duration_hours: f64,
    /// Longest gap (hours) between consecutive points.
    pub max_gap_hours: f64,
    /// Path filters instead of the TC defaults.
    pub thresholds: Option<Vec<PathThreshold>>,
}

impl Default for StitchSettings {
    /// TempestExtremes' TC settings: 8°, 54 h, 24 h.
    fn default() -> Self {
        let te = StitchSpec::tempest_tc(6.0);
        StitchSettings {
            range_deg: te.range_deg,
            min_duration_hours: te.min_duration_hours,
            max_gap_hours: te.max_gap_hours,
            thresholds: None,
        }
    }
}

impl StitchSettings {
    /// Path filters in TempestExtremes' syntax, `col,op,value,count` separated by `;`.
    pub fn parse_thresholds(text: &str) -> Result<Vec<PathThreshold>> {
        text.split(';')
            .filter(|x| !x.trim().is_empty())
            .map(PathThreshold::parse)
            .collect()
    }
}

/// The candidate centres of every member run of `inputs` in DetectNodes' text format (one
/// block per member) and their number.
pub fn detect_nodes(
    settings: &TrackSettings,
    inputs: &[PathBuf],
    progress: &dyn Progress,
) -> Result<(String, usize)> {
    detect_nodes_on(settings, inputs, progress, &OneProcess).map(Option::unwrap_or_default)
}

/// [`detect_nodes`] over the ranks of a distributed run (each rank detects a contiguous share
/// of whole chunks of time steps, gathered in file order): the text and count on rank 0 (the
/// same as one process's), `None` on the others.
pub fn detect_nodes_on(
    settings: &TrackSettings,
    inputs: &[PathBuf],
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<(String, usize)>> {
    let mut text = String::new();
    let mut count = 0;
    for_each_series(
        settings,
        inputs,
        progress,
        ranks,
        |s, member, nodes, cols| {
            count += nodes.iter().map(Vec::len).sum::<usize>();
            text.push_str(&format!("# member {member} ({})\n", s.label));
            text.push_str(&nodes_detectnodes(&s.times, &nodes, cols));
            Ok(())
        },
    )?;
    Ok(ranks.is_root().then_some((text, count)))
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
    /// The nodes' output columns (wind, vorticity: the fields the inputs had).
    pub columns: NodeColumns,
}

/// Detects and tracks the storms of every member run of `inputs`.
pub fn track_inputs(
    settings: &TrackSettings,
    inputs: &[PathBuf],
    progress: &dyn Progress,
) -> Result<TrackedSet> {
    track_inputs_on(settings, inputs, progress, &OneProcess)?
        .ok_or_else(|| Error::invalid("tracking", "one process is its own rank 0"))
}

/// [`track_inputs`] over the ranks of a distributed run: detection spread over the ranks by
/// blocks of time steps, the nodes gathered and linked on rank 0; the tracks on rank 0 (the
/// same as one process's), `None` on the others.
pub fn track_inputs_on(
    settings: &TrackSettings,
    inputs: &[PathBuf],
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<TrackedSet>> {
    let stitch_args = &settings.stitch;
    let mut set = TrackedSet {
        tracks: Vec::new(),
        runs: Vec::new(),
        step_hours: 6.0,
        nodes: 0,
        filters: String::new(),
        columns: NodeColumns::default(),
    };
    let mut steps = Vec::new();
    let mut seen_columns: Option<NodeColumns> = None;
    for_each_series(
        settings,
        inputs,
        progress,
        ranks,
        |s, member, nodes, cols| {
            let dt = step_hours(&s.hours);
            steps.push(dt);
            let mut spec = StitchSpec::tempest_tc_for(dt, cols);
            spec.range_deg = stitch_args.range_deg;
            spec.min_duration_hours = stitch_args.min_duration_hours;
            spec.max_gap_hours = stitch_args.max_gap_hours;
            if let Some(t) = &stitch_args.thresholds {
                spec.thresholds = t.clone();
            }
            spec.check_columns(cols).with_context(|| s.label.clone())?;
            if *seen_columns.get_or_insert(cols) != cols {
                return Err(Error::mismatch(
                "cyclone fields",
                format!(
                    "{} has other fields (wind: {}, vorticity: {}) than the runs before it: give every run the same variables",
                    s.label, cols.wind, cols.vorticity
                ),
            ));
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
        },
    )?;
    set.columns = seen_columns.unwrap_or_default();
    if !steps.is_empty() {
        steps.sort_by(f64::total_cmp);
        set.step_hours = steps[steps.len() / 2];
    }
    Ok(ranks.is_root().then_some(set))
}

/// Fields read at once by detection: a series is read in blocks of time steps (a forecast in
/// blocks of start dates) of about this size, so the memory of a run is a few blocks, not the
/// season. TempestExtremes reads one time step at a time (60 MB for a 1° global season of
/// pressure and vorticity); 16 MiB blocks (about 30 such steps) keep both cores busy on the
/// steps of a block and ran in 54 MB on the same files (64 MiB: 103 MB, no faster).
const DETECTION_BLOCK_BYTES: usize = 16 << 20;

/// A file of fields opened for detection: its first block read (every rank of a distributed
/// run reads it: the steps, the grid and the block size), and how the rest is read.
struct SeriesFile {
    source: RunSource,
    first: Fields,
    grid: NodeGrid,
    columns: NodeColumns,
    /// Time steps (or start dates) in the file, and in the first block.
    total: usize,
    first_len: usize,
    /// Steps per block after the first: whole chunks, about [`DETECTION_BLOCK_BYTES`].
    block: usize,
    /// Steps per chunk of the file (the first block).
    chunk: usize,
    /// An observed-style series (runs grow block by block) rather than a forecast (a block
    /// holds whole runs).
    observed: bool,
    origin: CfDateTime,
}

impl SeriesFile {
    fn open(settings: &TrackSettings, path: &Path) -> Result<SeriesFile> {
        let source = RunSource::resolve(path, &settings.fields)?;
        // blocks of whole chunks: a chunk is decompressed whole whatever part of it is read
        let chunk = source.time_chunk().unwrap_or(1);
        let first = source.read(Some((0, chunk)))?;
        let first_len = first.psl.coords.init.len().max(1);
        let total = first.psl.meta.source_time_steps.unwrap_or(first_len);
        let grid = source.grid(&first)?;
        let per_step = (first.bytes() / first_len).max(1);
        Ok(SeriesFile {
            grid,
            columns: first.columns(),
            total,
            first_len,
            block: (DETECTION_BLOCK_BYTES / per_step).max(1).div_ceil(chunk) * chunk,
            chunk,
            observed: first.psl.meta.kind == CubeKind::Observed,
            origin: first.psl.coords.init[0],
            first,
            source,
        })
    }

    /// The time steps rank `rank` of `n` detects: a contiguous share of whole chunks (a chunk
    /// is then decompressed once in all), or of the steps when the file has fewer chunks than
    /// there are ranks (each rank decompresses the chunks its steps lie in: detection, not
    /// decompression, is most of the time).
    fn share(&self, rank: usize, n: usize) -> std::ops::Range<usize> {
        let unit = if self.total.div_ceil(self.chunk) >= n {
            self.chunk
        } else {
            1
        };
        match Bands::start_block(self.total.div_ceil(unit), rank, n) {
            Some((first, count)) => (first * unit)..((first + count) * unit).min(self.total),
            None => 0..0,
        }
    }

    /// The blocks of time steps `(start, count)` of `steps`, in file order: the first block
    /// already read when `steps` starts the file, then blocks of [`SeriesFile::block`].
    fn blocks(&self, steps: std::ops::Range<usize>) -> Vec<(usize, usize)> {
        let mut blocks = Vec::new();
        let mut start = steps.start;
        if start == 0 && steps.end >= self.first_len {
            blocks.push((0, self.first_len));
            start = self.first_len;
        }
        while start < steps.end {
            blocks.push((start, self.block.min(steps.end - start)));
            start += self.block;
        }
        blocks
    }

    /// The nodes of every series in the block `steps` of [`SeriesFile::blocks`] (grid
    /// indices).
    fn detect_block(
        &self,
        steps: (usize, usize),
        spec: &DetectSpec,
    ) -> Result<Vec<(Series, Vec<Vec<Node>>)>> {
        let read;
        let fields = if steps == (0, self.first_len) {
            &self.first
        } else {
            read = self.source.read(Some(steps))?;
            &read
        };
        let mut detected = Vec::new();
        for s in self.source.series(fields, Some(self.origin))? {
            let nodes = detect_series(&self.grid, s.fields(fields), spec)?;
            detected.push((s, nodes));
        }
        Ok(detected)
    }
}

/// The runs of a file handed on as their blocks arrive in file order: a forecast's at once,
/// an observed-style series' at the end, once every block has added its steps.
#[derive(Default)]
struct Runs {
    growing: Vec<(Series, Vec<Vec<Node>>)>,
}

impl Runs {
    fn take(
        &mut self,
        file: &SeriesFile,
        (s, nodes): (Series, Vec<Vec<Node>>),
        member: &mut i32,
        each: &mut impl FnMut(&Series, i32, Vec<Vec<Node>>, NodeColumns) -> Result<()>,
    ) -> Result<()> {
        if !file.observed {
            each(
                &s,
                *member,
                Fields::to_file_indices(&file.grid, nodes),
                file.columns,
            )?;
            *member += 1;
        } else if let Some((run, acc)) = self.growing.get_mut(s.member) {
            run.times.extend_from_slice(&s.times);
            run.hours.extend_from_slice(&s.hours);
            acc.extend(nodes);
        } else {
            self.growing.push((s, nodes));
        }
        Ok(())
    }

    fn finish(
        self,
        file: &SeriesFile,
        member: &mut i32,
        each: &mut impl FnMut(&Series, i32, Vec<Vec<Node>>, NodeColumns) -> Result<()>,
    ) -> Result<()> {
        let (psl_path, psl_var) = file.source.pressure();
        for (s, nodes) in self.growing {
            check_sub_daily(&s.hours, psl_path, psl_var)?;
            each(
                &s,
                *member,
                Fields::to_file_indices(&file.grid, nodes),
                file.columns,
            )?;
            *member += 1;
        }
        Ok(())
    }
}

/// Runs detection over every series of every input, calling `each` with the series, its
/// member number (counted over the files in order), its nodes and their output columns.
/// Fields are read block by block ([`DETECTION_BLOCK_BYTES`]).
///
/// Over the ranks of a distributed run, each rank detects a contiguous share of each file's
/// blocks of time steps (or start dates), the nodes are gathered in file order, and rank 0
/// alone calls `each` — links tracks, as TempestExtremes' StitchNodes runs on the nodes its
/// MPI DetectNodes gathered.
fn for_each_series(
    settings: &TrackSettings,
    inputs: &[PathBuf],
    bars: &dyn Progress,
    ranks: &dyn Ranks,
    mut each: impl FnMut(&Series, i32, Vec<Vec<Node>>, NodeColumns) -> Result<()>,
) -> Result<()> {
    let spec = &settings.detect;
    spec.validate()?;
    let (rank, n) = (ranks.rank(), ranks.size());
    let mut member = 0i32;
    for path in inputs {
        let (file, _) = agree(
            ranks,
            SeriesFile::open(settings, path).map(|f| (f, Vec::new())),
        )?;
        bars.start("detect", file.total as u64);
        let mut runs = Runs::default();
        if n == 1 {
            for steps in file.blocks(0..file.total) {
                for detected in file.detect_block(steps, spec)? {
                    runs.take(&file, detected, &mut member, &mut each)?;
                }
                bars.advance(steps.1 as u64);
            }
            runs.finish(&file, &mut member, &mut each)?;
        } else {
            let detected = (|| -> Result<((), Vec<u8>)> {
                let mut bytes = Vec::new();
                for steps in file.blocks(file.share(rank, n)) {
                    for d in file.detect_block(steps, spec)? {
                        encode_detected(&d, &mut bytes)?;
                    }
                    bars.advance(steps.1 as u64);
                }
                Ok(((), bytes))
            })();
            let (_, parts) = agree(ranks, detected)?;
            // rank 0 hands the runs on in file order; every rank learns whether it could
            let handed = (|| -> Result<((), Vec<u8>)> {
                if ranks.is_root() {
                    for part in &parts {
                        for d in decode_detected(part)? {
                            runs.take(&file, d, &mut member, &mut each)?;
                        }
                    }
                    runs.finish(&file, &mut member, &mut each)?;
                }
                Ok(((), Vec::new()))
            })();
            agree(ranks, handed)?;
        }
        bars.finish();
    }
    Ok(())
}

/// A map of tracks (one colour per track, a dot at genesis) over country outlines, in the box
/// the tracks span plus 5°, as PNG bytes.
pub fn track_map_png(
    tracks: &[Track],
    countries: Option<&Countries>,
    title: &str,
) -> Result<Vec<u8>> {
    let points = || tracks.iter().flat_map(|t| t.points.iter().map(|p| p.node));
    let (mut w, mut e, mut s, mut n) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in points() {
        (w, e, s, n) = (w.min(p.lon), e.max(p.lon), s.min(p.lat), n.max(p.lat));
    }
    let bounds = if w > e {
        (0.0, 360.0, -40.0, 40.0)
    } else {
        (w - 5.0, e + 5.0, (s - 5.0).max(-90.0), (n + 5.0).min(90.0))
    };
    let lines: Vec<(i32, Vec<(f64, f64)>)> = tracks
        .iter()
        .map(|t| {
            (
                t.id as i32,
                t.points.iter().map(|p| (p.node.lat, p.node.lon)).collect(),
            )
        })
        .collect();
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = std::env::temp_dir().join(format!("s2s-track-map-{}-{n}.png", std::process::id()));
    let drawn = render_track_map(
        &tmp,
        bounds,
        &lines,
        None,
        0.0,
        countries,
        title,
        &crate::bulletin::TrackKey {
            tracks: Some("tracks, one colour per track (dot: first point)"),
            site: None,
        },
    )
    .and_then(|()| {
        std::fs::read(&tmp).map_err(|e| Error::Io {
            action: "reading the track map back".into(),
            reason: e.to_string(),
        })
    });
    let _ = std::fs::remove_file(&tmp);
    drawn
}

/// A set of tracks read from a file: the engine's tracks CSV, or IBTrACS (NetCDF or CSV edition;
/// then each storm keeps its SID, name and basin).
pub struct TrackFile {
    /// The tracks (IBTrACS: positions and the agency's intensities at every point).
    pub tracks: Vec<Track>,
    /// The storms when the file is IBTrACS.
    pub best_tracks: Option<Vec<BestTrack>>,
}

/// Reads a track file of either kind (told apart by content), IBTrACS with `agency`'s
/// intensities.
pub fn read_track_file(path: &Path, agency: Agency) -> Result<TrackFile> {
    if is_best_track_file(path)? {
        let best = read_best_tracks(path, agency)?;
        return Ok(TrackFile {
            tracks: best.iter().map(|b| b.track.clone()).collect(),
            best_tracks: Some(best),
        });
    }
    let text = read_text_edition(path, "not a tracks CSV nor an IBTrACS file")?;
    Ok(TrackFile {
        tracks: parse_tracks_csv(&text, &path.display().to_string())?,
        best_tracks: None,
    })
}

/// Best tracks of storms reaching `min_wind_kt` ([`policy::OBSERVED_STORM_MIN_WIND_KT`]).
fn named_storms(best: Vec<BestTrack>, min_wind_kt: f64) -> Vec<BestTrack> {
    let min_ms = min_wind_kt * crate::units::M_S_PER_KNOT;
    best.into_iter()
        .filter(|b| (b.max_wind_ms() as f64) >= min_ms - 1e-6)
        .collect()
}

/// The observed storms of a track file for climatologies: IBTrACS storms of tropical-storm
/// strength ([`policy::OBSERVED_STORM_MIN_WIND_KT`], `agency`'s winds) at their 6-hourly
/// synoptic points; the tracks of a tracks CSV as they are.
pub fn observed_storm_tracks(path: &Path, agency: Agency) -> Result<Vec<Track>> {
    let file = read_track_file(path, agency)?;
    Ok(match file.best_tracks {
        Some(best) => named_storms(best, policy::OBSERVED_STORM_MIN_WIND_KT)
            .iter()
            .map(BestTrack::synoptic)
            .collect(),
        None => file.tracks,
    })
}

/// What `s2s cyclones validate` compares.
pub struct ValidationPlan<'a> {
    /// Detected tracks (the engine's CSV, or IBTrACS to compare agencies or test the scores).
    pub tracks: &'a Path,
    /// The observed best tracks (IBTrACS NetCDF or CSV).
    pub best_track: &'a Path,
    /// Whose intensities.
    pub agency: Agency,
    /// Observed storms reaching this wind (kt) count.
    pub min_wind_kt: f64,
    /// Matching tolerances.
    pub spec: MatchSpec,
    /// Only observed storms with a point in this period count; default: the span of the
    /// detected tracks' points.
    pub period: Option<(CfDateTime, CfDateTime)>,
}

/// `s2s cyclones validate`: reads both track sets, keeps the observed storms of tropical-storm
/// strength in the period, matches and scores ([`validate_tracks`]).
pub fn validate_job(plan: &ValidationPlan<'_>) -> Result<Validation> {
    let detected = read_track_file(plan.tracks, plan.agency)?;
    let detected = match detected.best_tracks {
        // an observed set as the "detected" one gets the same storm filter
        Some(best) => named_storms(best, plan.min_wind_kt)
            .into_iter()
            .map(|b| b.track)
            .collect(),
        None => detected.tracks,
    };
    let observed = read_best_tracks(plan.best_track, plan.agency)?;
    let observed = named_storms(observed, plan.min_wind_kt);
    let span = || -> Option<(CfDateTime, CfDateTime)> {
        let times: Vec<CfDateTime> = detected
            .iter()
            .flat_map(|t| t.points.iter().map(|p| p.time))
            .collect();
        Some((*times.iter().min()?, *times.iter().max()?))
    };
    let period = plan.period.or_else(span);
    let observed: Vec<ObservedStorm> = observed
        .into_iter()
        .filter(|b| {
            period.map_or(true, |(a, z)| {
                b.track.points.iter().any(|p| p.time >= a && p.time <= z)
            })
        })
        .map(|b| ObservedStorm {
            id: b.sid,
            name: b.name,
            basin: b.basin,
            track: b.track,
        })
        .collect();
    validate_tracks(&detected, &observed, &plan.spec)
}

/// What a seasonal cyclone activity outlook needs: from the command line or the outlook's
/// `[cyclones]` section.
pub struct ActivityPlan<'a> {
    /// How storms are found and linked.
    pub tracking: &'a TrackSettings,
    /// Forecast field files: the runs must cover every target month.
    pub forecast: &'a [PathBuf],
    /// Hindcast field files of the same model: its climatology.
    pub hindcast: &'a [PathBuf],
    /// Target months `FIRST-LAST` (wrapping the year allowed: `11-4`).
    pub season: &'a str,
    /// Basin keys.
    pub basins: &'a [String],
    /// Country polygons for landfall (`None`: no landfall).
    pub countries: Option<&'a Countries>,
    /// Observed tracks (the tracks CSV, or IBTrACS NetCDF/CSV) and the season years they
    /// cover: the observed climatology, and the calibration of counts.
    pub observed: Option<(&'a Path, (i32, i32))>,
    /// Whose intensities in IBTrACS (ACE, the 34-kt storm filter).
    pub observed_agency: Agency,
    /// Box size (degrees) of the track-density maps.
    pub density_deg: f64,
    /// Output folder.
    /// The message catalogue of the words written (the bulletin's language).
    pub cat: &'a crate::bulletin::Catalogue,
    pub out: &'a Path,
}

/// The products of [`activity_products`]: the Markdown section, the JSON summary, the number
/// of forecast and hindcast member-seasons and the season's label.
pub struct ActivityProducts {
    pub markdown: String,
    pub json: serde_json::Value,
    pub member_seasons: (usize, usize),
    pub label: String,
}

/// `s2s cyclones outlook`: [`activity_products`] and the outlook's JSON and Markdown
/// (`cyclone_outlook.json`, `cyclone_outlook.md`) in `plan.out`, written as one set.
pub fn cyclone_outlook(
    plan: &ActivityPlan<'_>,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<ActivityProducts> {
    crate::outputs::staging::as_one_set(plan.out, || {
        let p = activity_products(plan, options, progress)?;
        crate::io::write_text_atomic(
            plan.out.join("cyclone_outlook.json"),
            &serde_json::to_string_pretty(&p.json)?,
        )?;
        crate::io::write_text_atomic(plan.out.join("cyclone_outlook.md"), &p.markdown)?;
        Ok(p)
    })
}

/// Detects and tracks the storms of the forecast and hindcast fields, and writes the
/// track-density NetCDF, the track map and the track CSVs into `plan.out`.
pub fn activity_products(
    plan: &ActivityPlan<'_>,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<ActivityProducts> {
    let a = plan;
    let season = Season::parse(a.season)?;
    let basins: Vec<&Basin> = a
        .basins
        .iter()
        .map(|k| Basin::by_key(k))
        .collect::<Result<_, _>>()?;
    let countries = a.countries;
    let observed: Option<(Vec<Track>, (i32, i32))> = match a.observed {
        Some((p, years)) => Some((observed_storm_tracks(p, a.observed_agency)?, years)),
        None => None,
    };
    super::create_dir(a.out)?;

    let fc = track_inputs(a.tracking, a.forecast, progress)?;
    let hc = track_inputs(a.tracking, a.hindcast, progress)?;
    let cal = Calendar::Standard;
    let fc_seasons = member_seasons(&fc.runs, &season, cal);
    let hc_seasons = member_seasons(&hc.runs, &season, cal);

    let observed_climate: Vec<ObservedClimatology> = match &observed {
        Some((tracks, years)) => basins
            .iter()
            .map(|b| observed_climatology(tracks, *years, b, &season, countries))
            .collect(),
        None => Vec::new(),
    };
    let mut outlooks: Vec<ActivityOutlook> = Vec::new();
    for b in &basins {
        let f = basin_activity(
            &fc.tracks,
            &fc_seasons,
            b,
            &season,
            fc.step_hours,
            countries,
        );
        let h = basin_activity(
            &hc.tracks,
            &hc_seasons,
            b,
            &season,
            hc.step_hours,
            countries,
        );
        let obs_counts: Option<Vec<usize>> = observed.as_ref().map(|(tracks, (y0, y1))| {
            (*y0..=*y1)
                .map(|y| {
                    tracks
                        .iter()
                        .filter(|t| {
                            t.points.first().is_some_and(|p| {
                                b.contains(p.node.lat, p.node.lon)
                                    && season.season_year(&p.time) == Some(y)
                            })
                        })
                        .count()
                })
                .collect()
        });
        outlooks.push(
            activity_outlook(b, &season, &f, &h, obs_counts.as_deref())
                .with_context(|| format!("basin {}", b.name))?,
        );
    }

    // track density over the union of the basins' boxes
    let (mut w, mut e, mut s, mut n) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for b in BASINS
        .iter()
        .filter(|b| basins.iter().any(|x| x.key == b.key))
    {
        for &(bw, be, bs, bn) in b.boxes {
            (w, e, s, n) = (w.min(bw), e.max(be), s.min(bs), n.max(bn));
        }
    }
    let bounds = (w, e, s, n);
    let (lat, lon, dens_fc) =
        track_density(&fc.tracks, &fc_seasons, &season, bounds, a.density_deg)?;
    let (_, _, dens_hc) = track_density(&hc.tracks, &hc_seasons, &season, bounds, a.density_deg)?;
    let label = season.label();
    write_track_density(
        &a.out.join("track_density.nc"),
        &options.write_options(),
        &TrackDensity {
            lat: &lat,
            lon: &lon,
            forecast: &dens_fc,
            climatology: &dens_hc,
            box_deg: a.density_deg,
            season: &label,
        },
    )?;

    // map of the forecast tracks of the season over the forecast track density
    let season_tracks: Vec<(i32, Vec<(f64, f64)>)> = fc
        .tracks
        .iter()
        .filter(|t| {
            t.points.first().is_some_and(|p| {
                season
                    .season_year(&p.time)
                    .is_some_and(|y| fc_seasons.contains(&(t.member, y)))
            })
        })
        .map(|t| {
            (
                t.member,
                t.points.iter().map(|p| (p.node.lat, p.node.lon)).collect(),
            )
        })
        .collect();
    let max_density = dens_fc
        .iter()
        .chain(dens_hc.iter())
        .fold(0.0f32, |m, &v| m.max(v));
    let map_path = a.out.join("map_tracks.png");
    let density_legend = a.cat.text("tc.map_density_legend", &[]);
    let tracks_key = a.cat.text("tc.map_tracks_key", &[]);
    render_track_map(
        &map_path,
        bounds,
        &season_tracks,
        Some(DensityLayer {
            lat: &lat,
            lon: &lon,
            values: dens_fc.as_slice().expect("fresh array"),
            legend: &density_legend,
        }),
        max_density,
        a.countries,
        &a.cat
            .text("tc.map_title", &[("season", &a.cat.period(&label))]),
        &crate::bulletin::TrackKey {
            tracks: Some(&tracks_key),
            site: None,
        },
    )?;

    write_text_atomic(
        a.out.join("forecast_tracks.csv"),
        &tracks_csv(&fc.tracks, fc.columns),
    )?;
    write_text_atomic(
        a.out.join("hindcast_tracks.csv"),
        &tracks_csv(&hc.tracks, hc.columns),
    )?;
    let json = serde_json::json!({
        "season": label,
        "forecast_member_seasons": fc_seasons.len(),
        "hindcast_member_seasons": hc_seasons.len(),
        "time_step_hours": fc.step_hours,
        "filters": fc.filters,
        "basins": outlooks,
        "track_density_netcdf": "track_density.nc",
        "map": "map_tracks.png",
        "observed_climatology": observed_climate,
    });
    let cat = a.cat;
    let mut md = cyclone_activity_markdown(
        &outlooks,
        &label,
        (fc_seasons.len(), hc_seasons.len()),
        policy::ACTIVITY_DOMINANCE,
        cat,
    );
    if let Some((p, _)) = a.observed {
        md.push_str(&observed_climatology_markdown(
            &observed_climate,
            &p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            a.observed_agency.prefix(),
            cat,
        ));
    }
    md.push_str(&format!(
        "\n![{}](map_tracks.png)\n\n*{}*\n",
        cat.text("tc.map_caption", &[("season", &cat.period(&label))]),
        cat.text("tc.map_note", &[("deg", &a.density_deg.to_string())])
    ));
    Ok(ActivityProducts {
        markdown: md,
        json,
        member_seasons: (fc_seasons.len(), hc_seasons.len()),
        label,
    })
}

/// The first file of `files` with one of `names`, and the name.
fn find(files: &[PathBuf], names: &[&str]) -> Result<Option<(PathBuf, String)>> {
    for f in files {
        if let Some(n) = pick(f, None, names)? {
            return Ok(Some((f.clone(), n)));
        }
    }
    Ok(None)
}

fn need(files: &[PathBuf], names: &[&str], what: &str) -> Result<(PathBuf, String)> {
    find(files, names)?.ok_or_else(|| {
        Error::invalid(
            "cyclone fields",
            format!(
                "no {what} ({}) in {}",
                names.join(", "),
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

fn slab(c: &Cube) -> Array3<f32> {
    c.values.slice(s![.., 0, 0, .., ..]).to_owned()
}

/// The GPI of the fields in `files` (each variable from the first file that has it), with the
/// sea surface temperature's cube for the grid and times.
pub fn read_gpi_fields(files: &[PathBuf], ck_cd: f64) -> Result<(GpiFields, Cube)> {
    let (sst_f, sst_v) = need(
        files,
        &["tos", "sst", "ts", "SST"],
        "sea surface temperature",
    )?;
    let (psl_f, psl_v) = need(files, &["psl", "msl", "slp"], "sea-level pressure")?;
    let (ta_f, ta_v) = need(files, &["ta", "t", "T", "air"], "air temperature")?;
    let (hus_f, hus_v) = need(files, &["hus", "q", "shum"], "specific humidity")?;
    let (ua_f, ua_v) = need(files, &["ua", "u", "uwnd"], "eastward wind")?;
    let (va_f, va_v) = need(files, &["va", "v", "vwnd"], "northward wind")?;
    let hur = find(files, &["hur", "rh", "r"])?;

    // the reader converts a temperature to °C by its units (and checks them)
    let sst_c = read_var(&sst_f, Some(&sst_v), ReadOptions::default())?;
    if sst_c.meta.kind != CubeKind::Observed {
        return Err(Error::Dimensions {
            path: sst_f.clone(),
            variable: sst_v,
            reason: "a forecast layout (start dates and leads); give (time, lat, lon) means".into(),
        });
    }
    let sst = slab(&sst_c);
    let psl_c = to_units(
        read_raw(&psl_f, &psl_v, None, None)?,
        &psl_f,
        pressure_to_pa,
        "Pa",
        (85_000.0, 110_000.0),
    )?;
    let msl = slab(&psl_c).mapv(|p| p / 100.0); // hPa
    let Spatial::Grid { lat, lon } = &sst_c.coords.spatial else {
        return Err(Error::Grid {
            path: sst_f.clone(),
            variable: sst_v,
            reason: "not on a latitude/longitude grid".into(),
        });
    };
    let shape = sst.dim();
    if msl.dim() != shape {
        return Err(Error::mismatch(
            format!("{} and {}", sst_f.display(), psl_f.display()),
            format!(
                "sea surface temperature and sea-level pressure differ in shape {:?} vs {:?}",
                shape,
                msl.dim()
            ),
        ));
    }
    let mut levels = pressure_levels(&ta_f, Some(&ta_v))?;
    levels.sort_by(|x, y| y.total_cmp(x)); // surface first
    if levels.len() < 5 {
        return Err(Error::Dimensions {
            path: ta_f.clone(),
            variable: ta_v,
            reason: format!("{} pressure levels; the potential intensity needs a sounding (at least 5 levels up to ~100 hPa)", levels.len()),
        });
    }
    for need_level in [850.0, 600.0, 200.0] {
        if !levels.iter().any(|l| (l - need_level).abs() <= 0.5) {
            return Err(Error::Dimensions {
                path: ta_f.clone(),
                variable: ta_v,
                reason: format!("no {need_level} hPa level (levels: {levels:?})"),
            });
        }
    }
    let mut ta = Vec::new();
    let mut hus = Vec::new();
    for &l in &levels {
        let t = slab(&read_raw(&ta_f, &ta_v, None, Some(l))?);
        let q = slab(&read_raw(&hus_f, &hus_v, None, Some(l))?);
        if t.dim() != shape || q.dim() != shape {
            return Err(Error::mismatch(
                format!("the fields at {l} hPa"),
                "not on the sea surface temperature's times and grid",
            ));
        }
        ta.push(t);
        hus.push(q);
    }
    let wind = |f: &PathBuf, v: &str, l: f64| -> Result<Array3<f32>> {
        Ok(slab(&read_raw(f, v, None, Some(l))?))
    };
    let winds = [
        wind(&ua_f, &ua_v, 850.0)?,
        wind(&va_f, &va_v, 850.0)?,
        wind(&ua_f, &ua_v, 200.0)?,
        wind(&va_f, &va_v, 200.0)?,
    ];
    let rh600 = match &hur {
        Some((f, v)) => Some(slab(&read_raw(f, v, None, Some(600.0))?)),
        None => None,
    };
    let ta_views: Vec<_> = ta.iter().map(|a| a.view()).collect();
    let hus_views: Vec<_> = hus.iter().map(|a| a.view()).collect();
    let fields = gpi_fields(
        &GpiInputs {
            lat,
            lon,
            sst_c: sst.view(),
            msl_hpa: msl.view(),
            levels_hpa: &levels,
            ta_k: &ta_views,
            hus: &hus_views,
            winds: winds.each_ref().map(|w| w.view()),
            rh_600_pct: rh600.as_ref().map(|h| h.view()),
        },
        &PiSpec {
            ck_cd,
            ..PiSpec::default()
        },
    )
    .with_context(|| format!("the genesis potential of {}", sst_f.display()))?;
    Ok((fields, sst_c))
}

/// The fields of the genesis potential index (GPI, its ingredients and potential intensity) of
/// the mean fields in `files`, as `s2s cyclones gpi` writes them; see [`read_gpi_fields`].
pub fn gpi_job(
    files: &[PathBuf],
    ck_cd: f64,
    out: &Path,
    options: &RunOptions,
) -> Result<(usize, usize, usize)> {
    let (f, sst_c) = read_gpi_fields(files, ck_cd)?;
    // anomaly against the mean of the same calendar month (when there are ≥ 3 years)
    let months: Vec<u32> = sst_c.coords.init.iter().map(|t| t.month).collect();
    let anomaly = monthly_anomaly(f.gpi.view(), &months, 3);
    crate::io::products::cyclones::write_gpi_fields(
        out,
        &options.write_options(),
        &f,
        &anomaly,
        &sst_c,
    )?;
    Ok(f.gpi.dim())
}

/// What the runner's genesis-potential outlook needs (`[cyclones]` with `gpi_forecast` and
/// `gpi_hindcast`).
pub struct GenesisPlan<'a> {
    pub forecast: &'a [PathBuf],
    pub hindcast: &'a [PathBuf],
    pub season: &'a str,
    pub basins: &'a [String],
    pub countries: &'a Countries,
    /// The bulletin's message catalogue (its language).
    pub cat: &'a crate::bulletin::Catalogue,
    pub out: &'a Path,
}

/// The genesis outlook's Markdown section and JSON.
pub struct GenesisProducts {
    pub markdown: String,
    pub json: serde_json::Value,
    /// Every basin's outlook and the season's label, for the headlines.
    pub basins: Vec<crate::cyclone::genesis_outlook::BasinGenesis>,
    pub season: String,
}

/// A step of 1, 2 or 5 × 10ⁿ near `x` (> 0), for colour classes.
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 0.1;
    }
    let p = 10f64.powf(x.log10().floor());
    let m = x / p;
    p * if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    }
}

/// The genesis potential outlook: GPI of the forecast and hindcast monthly means, the season
/// against the hindcast years per basin, `genesis_outlook.nc` and `map_gpi_anomaly.png`.
pub fn genesis_products(plan: &GenesisPlan, options: &RunOptions) -> Result<GenesisProducts> {
    let season = Season::parse(plan.season)?;
    let basins: Vec<&'static Basin> = plan
        .basins
        .iter()
        .map(|k| Basin::by_key(k))
        .collect::<Result<_, _>>()?;
    let (fc, fc_cube) = read_gpi_fields(plan.forecast, 0.9).context("the forecast fields")?;
    let (hc, hc_cube) = read_gpi_fields(plan.hindcast, 0.9).context("the hindcast fields")?;
    if !fc_cube.coords.spatial.same_grid(&hc_cube.coords.spatial) {
        return Err(Error::mismatch(
            format!(
                "{} and {}",
                plan.forecast[0].display(),
                plan.hindcast[0].display()
            ),
            "the forecast and hindcast fields are on different grids",
        ));
    }
    let Spatial::Grid { lat, lon } = &fc_cube.coords.spatial else {
        return Err(Error::invalid(
            plan.forecast[0].display().to_string(),
            "not on a latitude/longitude grid",
        ));
    };
    let o = genesis_outlook(&GenesisInput {
        forecast: (fc.gpi.view(), &fc_cube.coords.init),
        hindcast: (hc.gpi.view(), &hc_cube.coords.init),
        lat,
        lon,
        season: &season,
        basins: &basins,
    })?;
    let year = fc_cube
        .coords
        .init
        .iter()
        .find_map(|t| season.season_year(t))
        .unwrap_or_default();
    let label = format!("{} {year}", season.label());
    let years = (
        o.years.first().copied().unwrap_or_default(),
        o.years.last().copied().unwrap_or_default(),
    );
    // NetCDF: the season's forecast, normal, anomaly and percent of normal
    write_genesis_outlook(
        &plan.out.join("genesis_outlook.nc"),
        &options.write_options(),
        &o,
        &fc_cube.coords.spatial,
        &label,
    )?;
    // the anomaly map, classes scaled to the anomalies
    let mut mags: Vec<f32> = o
        .anomaly
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    let p90 = if mags.is_empty() {
        f64::NAN
    } else {
        crate::stats::quantile_select(&mut mags, 0.9)
    };
    let step = nice_step(p90 / 3.0) as f32;
    let classes = anomaly_classes(step, false);
    let values: Vec<f32> = o.anomaly.iter().copied().collect();
    let cat = plan.cat;
    let title = cat.text(
        "genesis.map_title",
        &[
            ("season", &cat.period(&label)),
            ("first", &years.0.to_string()),
            ("last", &years.1.to_string()),
        ],
    );
    let legend = cat.text("genesis.map_legend", &[]);
    render_classed_map(
        &plan.out.join("map_gpi_anomaly.png"),
        &ClassedMap {
            spatial: &fc_cube.coords.spatial,
            values: &values,
            classes: &classes,
            legend: &legend,
            countries: Some(plan.countries),
            title: &title,
            no_data: &cat.text("legend.no_data_short", &[]),
        },
    )?;
    let markdown = genesis_markdown(&o, &label, "map_gpi_anomaly.png", cat);
    let json = serde_json::json!({
        "season": label,
        "hindcast_years": [years.0, years.1],
        "basins": o.basins,
        "netcdf": "genesis_outlook.nc",
        "map": "map_gpi_anomaly.png",
        "anomaly_class_step": step,
    });
    Ok(GenesisProducts {
        markdown,
        json,
        basins: o.basins,
        season: label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyclones_section_sets_the_detection() {
        let c: crate::config::CyclonesConfig = toml::from_str(
            r#"
season = "12-2"
vorticity = "vo"
vorticity_min = 6e-5
min_lat = -40
max_lat = 40
"#,
        )
        .unwrap();
        let s = TrackSettings::from_config(&c).unwrap();
        assert_eq!(s.fields.vorticity.as_deref(), Some("vo"));
        assert_eq!(s.detect.vorticity.min_cyclonic_s, 6e-5);
        assert_eq!(s.detect.vorticity.radius_deg, 2.5);
        assert_eq!(
            (s.detect.min_lat_deg, s.detect.max_lat_deg),
            (Some(-40.0), Some(40.0))
        );
        let bad: crate::config::CyclonesConfig =
            toml::from_str("season = \"12-2\"\nmin_lat = 30\nmax_lat = -30\n").unwrap();
        let e = TrackSettings::from_config(&bad).unwrap_err().to_string();
        assert!(
            e.contains("[cyclones]") && e.contains("north of the maximum"),
            "{e}"
        );
    }
}
