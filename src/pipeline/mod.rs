//! The jobs of s2s-ensemble as library code: what `s2s outlook`, `s2s combine` and the other
//! subcommands run, callable from Rust, bindings or an MPI driver without the binary.
//!
//! A job takes a typed, checked plan (built from the TOML configuration, [`crate::config`], or
//! from command-line flags by the binary), reads its inputs through [`crate::io`], calls the
//! science modules, writes its products through [`crate::io::products`] and returns a typed
//! report. It never prints: progress, stage times and notes go to a
//! [`Progress`](crate::progress::Progress) (the binary's bars, or
//! [`NoProgress`](crate::progress::NoProgress)).
//!
//! | module | job |
//! |---|---|
//! | [`outlook`] | configuration → bias correction → multi-model combination → verification → maps, drought, cyclones → bulletins |
//! | [`bias`] | one model's hindcast (cross-validated) and forecast corrected against observations |
//! | [`combine`] | the multi-model ensemble of several models, streamed lead by lead |
//! | [`drivers`] | the Niño 3.4 and IOD plumes of several models' SST forecasts |
//! | [`drought`] | the SPI of an observed precipitation record |
//! | [`extremes`] | yearly warm/cold spells and EHF of a daily series; the subseasonal heat/cold-wave, heavy-rain, EFI and SOT outlook against the model climate |
//! | [`export`] | a forecast file's probability and dominant-category maps as GeoTIFF for GIS |
//! | [`emergency`] | drift of a ship or oil from a point at sea, cyclone passage risk, the emergency bulletin |
//! | [`cyclones`] | detection and tracking of every member run, the seasonal activity outlook, the genesis potential outlook |
//! | [`verify`] | cross-validated skill of each model and of the MME: maps, regional means, diagrams |
//! | [`policy`] | the policy defaults every job shares, each named once with its reason |
//! | `bands` | the steps of the jobs spread over the ranks of `mpirun -n N`: bands balanced by work, a file read by blocks of start dates and exchanged by rows, rank 0's staged outputs |
//!
//! Data path of `s2s outlook` (see `docs/architecture.md`): for each variable, the forecasts
//! and the observations are read whole, the hindcasts one lead (target period) of every model
//! at a time, each cut to the target periods and the common years ([`outlook`]'s ingest),
//! regridded when `[grid]` asks, bias-corrected
//! ([`crate::bias`]), combined ([`crate::ensemble::combine()`]), scored
//! ([`crate::verify::skill_maps`]), written ([`crate::io::products::mme`]) and drawn
//! ([`crate::bulletin`]); precipitation adds the drought outlook ([`crate::indices`]); then the
//! cyclone products and the bulletins of the run and of each region.

mod bands;
pub mod bias;
pub mod combine;
pub mod cyclones;
pub mod drivers;
pub mod drought;
pub mod emergency;
pub mod export;
pub mod extremes;
pub mod outlook;
pub mod policy;
pub mod seaice;
pub mod verify;

use std::path::Path;

use crate::cube::align_observations;
use crate::error::{Context, Error, Result};
use crate::grid::Countries;
pub(crate) use crate::io::create_dir;
use crate::io::WriteOptions;
use crate::Cube;

/// What every job's outputs share: the `history` line and the compression.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The command (or call) that made the outputs, for the files' `history` attribute.
    pub history: Option<String>,
    /// Deflate level 0–9 of NetCDF outputs (`None`: the writer's default, 1).
    pub deflate: Option<i32>,
    /// Layout of the NetCDF products; `None`: the configuration's `layout`, else the
    /// CDO-readable default.
    pub layout: Option<crate::io::write::ProductLayout>,
    /// Extra global attributes of every NetCDF product (`institution`, `references`,
    /// `comment`).
    pub global: Vec<(String, String)>,
}

impl RunOptions {
    /// The NetCDF write options of these settings.
    pub fn write_options(&self) -> WriteOptions {
        WriteOptions {
            history: self.history.clone(),
            deflate: self.deflate,
            layout: self.layout.unwrap_or_default(),
            global: self.global.clone(),
            ..Default::default()
        }
    }
}

/// Where a job's parallel kernels run: the caller decides, not a global pool (faer's `Par`).
/// Tests and bindings run [`Par::Seq`] or a pool of their own; the binary's `--threads`
/// sets the global pool, which [`Par::Global`] uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Par {
    /// Rayon's global pool (all cores unless the binary was told otherwise).
    #[default]
    Global,
    /// One thread: every kernel runs sequentially, in the calling thread's order.
    Seq,
    /// A pool of this many threads, made for the call.
    Rayon(usize),
}

impl Par {
    /// Runs `job` with its parallel kernels on this choice of threads. Results do not depend
    /// on the choice: every kernel reduces in a fixed order.
    pub fn install<T: Send>(self, job: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        let threads = match self {
            Par::Global => return job(),
            Par::Seq => 1,
            Par::Rayon(n) => n.max(1),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::invalid("threads", e.to_string()))?;
        pool.install(job)
    }
}

/// Each model's `(name, hindcast inputs, forecast inputs)`, as the multi-model jobs take them.
pub type ModelInputs = Vec<(String, Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)>;

/// One cube from a file set given as paths and patterns ([`crate::io::fileset`]), the
/// variable `variable` (default: each file's only data variable).
pub(crate) fn read_file_set(files: &[std::path::PathBuf], variable: Option<&str>) -> Result<Cube> {
    let opts = crate::io::ReadOptions {
        variable: variable.map(str::to_string),
        ..Default::default()
    };
    crate::io::fileset::read_set(&crate::io::fileset::expand_each(files)?, |p| {
        crate::io::read_cube(p, &opts)
    })
}

/// `FIRST-LAST` years (`1993-2016`) as a pair; `what` names the option in the error.
pub fn parse_year_range(text: &str, what: &str) -> Result<(i32, i32)> {
    let bad = |reason: &str| Error::invalid(format!("{what} '{text}'"), reason.to_string());
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| bad("expected FIRST-LAST, e.g. 1993-2016"))?;
    let year = |t: &str| {
        t.trim()
            .parse::<i32>()
            .map_err(|_| bad("expected FIRST-LAST, e.g. 1993-2016"))
    };
    let (a, b) = (year(a)?, year(b)?);
    if a > b {
        return Err(bad("the first year is after the last"));
    }
    Ok((a, b))
}

/// Country (or province) polygons: a GeoJSON file, gzipped when its name ends in `.gz`, or
/// the bundled Natural Earth countries (1:50m for Asia, 1:110m elsewhere).
pub fn load_countries(path: Option<&Path>) -> Result<Countries> {
    match path {
        None => Ok(Countries::natural_earth()),
        Some(p) => {
            let cannot = || format!("{}: cannot read the polygons", p.display());
            let text = if p.extension().is_some_and(|e| e == "gz") {
                let file = std::fs::File::open(p).with_context(cannot)?;
                let mut text = String::new();
                std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text)
                    .with_context(cannot)?;
                text
            } else {
                std::fs::read_to_string(p).with_context(cannot)?
            };
            Countries::from_geojson(&text, &p.display().to_string())
        }
    }
}

/// Model names: the ones given (one per file), or the files' names without extension.
pub fn model_names(files: &[std::path::PathBuf], given: &[String]) -> Result<Vec<String>> {
    if given.is_empty() {
        return Ok(files
            .iter()
            .map(|p| {
                p.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect());
    }
    if given.len() != files.len() {
        return Err(Error::invalid(
            "--models",
            format!(
                "names {} models but {} hindcasts were given",
                given.len(),
                files.len()
            ),
        ));
    }
    Ok(given.to_vec())
}

/// Restricts hindcasts of different periods to the years they all have: `Some((first, last))`
/// when any was cut, `None` when they already agree; an error when they share no year.
pub fn common_years(hindcasts: &mut Vec<Cube>) -> Result<Option<(i32, i32)>> {
    let first = hindcasts
        .iter()
        .map(|c| c.init_years()[0])
        .max()
        .unwrap_or(0);
    let last = hindcasts
        .iter()
        .map(|c| *c.init_years().last().unwrap_or(&0))
        .min()
        .unwrap_or(0);
    if first > last {
        let names: Vec<&str> = hindcasts.iter().map(|c| c.meta.model.as_str()).collect();
        return Err(Error::mismatch(
            "hindcast periods",
            format!("the hindcasts share no year ({})", names.join(", ")),
        ));
    }
    let differ = hindcasts.iter().any(|c| {
        let y = c.init_years();
        y.first() != Some(&first) || y.last() != Some(&last)
    });
    if !differ {
        return Ok(None);
    }
    *hindcasts = hindcasts
        .iter()
        .map(|c| c.select_init_years(first, last))
        .collect::<Result<_, _>>()?;
    Ok(Some((first, last)))
}

/// Observations on a hindcast's targets and the number of targets without one (see
/// [`align_observations`]); an error naming both files' dates when no observation falls in any
/// target.
pub fn align_or_fail(obs: &Cube, obs_path: &Path, hindcast: &Cube) -> Result<(Cube, usize)> {
    if obs
        .coords
        .spatial
        .x_order_like(&hindcast.coords.spatial)
        .is_none()
    {
        return Err(grid_mismatch(obs, obs_path, hindcast));
    }
    let (aligned, missing) = align_observations(obs, hindcast)?;
    if missing == aligned.n_init() * aligned.n_lead() {
        let leads: Vec<String> = hindcast.coords.lead.iter().map(|l| l.label()).collect();
        return Err(Error::mismatch(
            format!("{} and {}", obs_path.display(), hindcast.meta.model),
            format!(
                "no observation falls in any target period ({}; start dates {} .. {})",
                leads.join(", "),
                hindcast.coords.init[0],
                hindcast.coords.init[hindcast.n_init() - 1]
            ),
        ));
    }
    Ok((aligned, missing))
}

/// Puts `cube` (read from `path`) on the grid of `reference`: the same grid up to coordinate
/// jitter, or the same points in another longitude convention (rotated); an error naming both
/// grids otherwise — cells are never paired by position alone.
pub fn align_grid(cube: &mut Cube, path: &Path, reference: &Cube) -> Result<()> {
    if cube.align_layout(&reference.coords.spatial) {
        return Ok(());
    }
    Err(grid_mismatch(cube, path, reference))
}

/// The error for `cube` (read from `path`) on another grid than `reference`: both files, the
/// first difference, both grids and the fix.
fn grid_mismatch(cube: &Cube, path: &Path, reference: &Cube) -> Error {
    let (a, b) = (&cube.coords.spatial, &reference.coords.spatial);
    Error::mismatch(
        format!("the grids of {} and {}", path.display(), reference.meta.model),
        format!(
            "{} ({} vs {}); regrid first, e.g. s2s regrid --method conservative --like REFERENCE.nc {} OUT.nc",
            a.first_difference(b).unwrap_or_default(),
            a.describe(),
            b.describe(),
            path.display()
        ),
    )
}

/// The peak resident memory of this process over stretches of a run (Linux), watched by a
/// thread that reads the resident size every [`RSS_SAMPLE_INTERVAL`]: [`RssWatch::stage_peak`]
/// gives the largest size seen since its previous call (or since the watch started) — the
/// per-stage peak of a run log. The kernel's own high-water mark (`VmHWM`, [`peak_rss_mib`])
/// is the process's peak and cannot be split by stage without resetting it, which would also
/// change what `/usr/bin/time` reports; an allocation that lives less than an interval may be
/// missed here, never one that a stage holds while it works.
pub struct RssWatch {
    peak_kib: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often [`RssWatch`] reads the resident size: 5 ms (a read of `/proc/self/status` costs
/// ~20 µs, so under 0.5 % of a core).
pub const RSS_SAMPLE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

impl RssWatch {
    /// Starts watching (a watch that sees nothing where `/proc` is absent).
    pub fn start() -> RssWatch {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let peak_kib = Arc::new(AtomicU64::new(rss_kib().unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = rss_kib().is_some().then(|| {
            let (peak, stop) = (Arc::clone(&peak_kib), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(now) = rss_kib() {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    std::thread::sleep(RSS_SAMPLE_INTERVAL);
                }
            })
        });
        RssWatch {
            peak_kib,
            stop,
            thread,
        }
    }

    /// The largest resident size (MiB) since the previous call, the current size included;
    /// the next stretch starts from the current size.
    pub fn stage_peak(&self) -> Option<f64> {
        use std::sync::atomic::Ordering;
        self.thread.as_ref()?;
        let now = rss_kib()?;
        let peak = self.peak_kib.swap(now, Ordering::Relaxed).max(now);
        Some(peak as f64 / 1024.0)
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // The thread only sleeps and reads /proc: it ends within one interval.
            let _ = t.join();
        }
    }
}

/// A `… kB` field of `/proc/self/status` (Linux), in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The resident size of this process now, KiB (Linux `VmRSS`).
fn rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    Some(status_kib("VmHWM")? as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_watch_sees_a_stage_that_held_memory_and_let_it_go() {
        if rss_kib().is_none() {
            return; // no /proc here
        }
        let watch = RssWatch::start();
        let before = watch.stage_peak().unwrap();
        // 200 MiB touched, held for 20 intervals, freed.
        let mut held = vec![0u8; 200 << 20];
        for page in held.chunks_mut(4096) {
            page[0] = 1;
        }
        std::thread::sleep(RSS_SAMPLE_INTERVAL * 20);
        drop(held);
        let stage = watch.stage_peak().unwrap();
        assert!(stage >= 190.0, "the stage's peak {stage} MiB");
        // The next stretch starts from what is resident now, not from the old peak.
        let next = watch.stage_peak().unwrap();
        assert!(next < stage, "{next} after {stage} (before: {before})");
    }
}
