//! NetCDF input and output: CF decoding on read, CF-1.8 encoding on write.
//!
//! - [`read_cube`] reads one variable of a file (classic, 64-bit offset or NetCDF-4) into a
//!   [`crate::cube::Cube`]: dimension roles detected ([`detect`]), packed values and fill values
//!   decoded ([`decode`]), latitude flipped to south→north, longitude normalised to one
//!   ascending convention, units converted to the engine's (mm/day, °C), and only the hyperslab
//!   asked for read.
//! - [`write_cube`] and [`CfWriter`] write CF-1.8 NetCDF-4 files atomically (temporary name,
//!   rename on success).
//! - [`inspect`] describes a file for `s2s inspect`.
//! - [`fileset`]: an input given as a pattern (`hc/CCSM4_*.nc`, `hc/{model}_{year}.nc`) is
//!   the set of files it matches, read as one cube (concatenated along starts or members).
//! - [`zarr`] reads Zarr v2/v3 stores (blosc, zstd, gzip chunks) by decoding them into a
//!   temporary NetCDF-4 copy that the same reader opens; OPeNDAP URLs go to libnetcdf as they
//!   are ([`read::open`]).
//! - `grib` (cargo feature `grib`, on by default) reads GRIB 1/2 through ecCodes the same
//!   way: messages grouped into variables with member, start, lead and level axes (cfgrib's
//!   model, C3S keys), written to a temporary NetCDF (CDF-5) copy, decoded once per process.
//! - [`probabilities`] reads category probability forecasts (a category dimension or one
//!   variable per category) for `s2s verify --forecast-probabilities`.
//! - [`mod@write`] writes products in the CDO layout (at most `(time, lead, y, x)` per variable,
//!   the default) or the N-D layout; [`geotiff`] writes maps for GIS (`s2s export`).
//!
//! - [`cyclone_fields`] reads the fields of cyclone detection (pressure, wind, vorticity,
//!   thickness; one run in one or several files); [`ibtracs`] reads observed best tracks
//!   (IBTrACS v04 NetCDF and CSV editions, with the agency's intensities).
//! - [`names`] refuses files whose names are not UTF-8 before the `netcdf` crate (which would
//!   panic on them) sees them; [`read::open`] also refuses files shorter than their header.
//!
//! Only this module (and the runner) touch files; the science modules take arrays.
//!
//! Threads: the `netcdf` crate serialises every libnetcdf call behind one lock, so reading is
//! done on the calling thread and the computing is parallel. Debian's HDF5 is built
//! thread-safe, which makes its error printing a per-thread switch that libnetcdf only turns off
//! on the thread it initialised on: libnetcdf used from other threads (test harness threads)
//! prints harmless `HDF5-DIAG` lines for attributes it looks for and does not find.

pub use crate::outputs::clobber;
pub mod cyclone_fields;
pub mod decode;
pub mod detect;
pub mod fileset;
pub mod geotiff;
#[cfg(feature = "grib")]
pub mod grib;
pub mod ibtracs;
pub mod inspect;
pub mod names;
pub mod probabilities;
pub mod products;
pub mod read;
pub mod seaice;
mod truncation;
pub mod vars;
pub mod write;
pub mod zarr;

pub use detect::{DimMapping, DimRole};
pub use inspect::{inspect_file, FileReport, InspectOptions};
pub use probabilities::read_category_probabilities;
pub use read::silence_hdf5_errors_in_this_thread;
pub use read::{
    grid_axis_signs, has_time_coordinate, pressure_levels, read_cube, read_leads, read_spatial,
    FieldChecks, ReadOptions,
};
pub use vars::{read_observed_series, read_var, resolve_var};
pub use write::{write_cube, write_cubes, write_text_atomic, CfWriter, WriteOptions};

/// The units the user assumes for variables ([`crate::units::AssumedUnits`]): set once by the
/// command line (`--assume-units`) or a configuration (`units = {…}`), consulted by every read
/// that was not given units explicitly ([`ReadOptions::assume_units`] wins).
static ASSUMED_UNITS: std::sync::RwLock<crate::units::AssumedUnits> =
    std::sync::RwLock::new(crate::units::AssumedUnits {
        by_variable: std::collections::BTreeMap::new(),
        any: None,
    });

/// Whether the whole-field plausibility checks of precipitation (implausibly dry or wet, see
/// [`crate::units::Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY`]) refuse a field; the binary turns
/// them off with `--allow-implausible` for the rare real field they misjudge (one day over a
/// small box under a cyclone). The hard ranges of each quantity stay.
static WHOLE_FIELD_CHECKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the whole-field plausibility checks of precipitation on or off.
pub fn set_whole_field_checks(on: bool) {
    WHOLE_FIELD_CHECKS.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn whole_field_checks() -> bool {
    WHOLE_FIELD_CHECKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Replaces the process's table of assumed units.
pub fn set_assumed_units(table: crate::units::AssumedUnits) {
    *ASSUMED_UNITS.write().unwrap_or_else(|p| p.into_inner()) = table;
}

/// Adds the entries of `defaults` (a configuration's `units`) the table has none for: the
/// command line keeps precedence.
pub fn add_assumed_units_defaults(defaults: &crate::units::AssumedUnits) {
    ASSUMED_UNITS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .fill_from(defaults);
}

/// The units assumed for the variable `name`, if the user gave any.
pub fn assumed_units_for(name: &str) -> Option<String> {
    ASSUMED_UNITS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .lookup(name)
        .map(str::to_string)
}

/// Opens `source` (a Zarr store, a GRIB file) through a NetCDF copy that `convert` writes to
/// a temporary path: the copy is unlinked as soon as it is open (the open file stays readable),
/// so nothing is left behind on any exit.
///
/// The copy is converted once per process: a handle on the unlinked file is kept, and later
/// opens of the same source (same size and modification time) reopen it through
/// `/proc/self/fd` — a run opens an input several times (variable choice, leads, grid, values),
/// and decoding GRIB or Zarr is the costly part. The space of the copies is freed when the
/// process ends.
pub(crate) fn open_converted(
    source: &std::path::Path,
    kind: &str,
    convert: impl FnOnce(&std::path::Path) -> crate::error::Result<()>,
) -> crate::error::Result<netcdf::File> {
    use std::collections::BTreeMap;
    use std::os::fd::AsRawFd;
    type Key = (std::path::PathBuf, Option<std::time::SystemTime>, u64);
    static CONVERTED: std::sync::Mutex<BTreeMap<Key, std::fs::File>> =
        std::sync::Mutex::new(BTreeMap::new());
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let open_copy = |p: &std::path::Path| {
        read::configure_libnetcdf();
        netcdf::open(p).map_err(|e| crate::error::Error::NotNetcdf {
            path: source.to_path_buf(),
            reason: format!("its NetCDF copy could not be opened: {e}"),
        })
    };
    let key: Option<Key> = std::fs::metadata(source).ok().map(|m| {
        let abs = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        (abs, m.modified().ok(), m.len())
    });
    let reopen = std::path::Path::new("/proc/self/fd").is_dir();
    let mut cache = CONVERTED.lock().unwrap_or_else(|p| p.into_inner());
    if let (true, Some(held)) = (reopen, key.as_ref().and_then(|k| cache.get(k))) {
        return open_copy(std::path::Path::new(&format!(
            "/proc/self/fd/{}",
            held.as_raw_fd()
        )));
    }
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = std::env::temp_dir().join(format!("s2s-{kind}-{}-{n}.nc", std::process::id()));
    let result = convert(&tmp).and_then(|()| {
        // HDF5 cannot reopen an unlinked file through /proc (NetCDF-4 copies with strings,
        // from Zarr): only classic-format copies are kept for reuse.
        let classic = read::file_head(&tmp).0.starts_with(b"CDF");
        let held = std::fs::File::open(&tmp).ok().filter(|_| classic);
        let file = open_copy(&tmp)?;
        if let (true, Some(k), Some(h)) = (reopen, key, held) {
            cache.insert(k, h);
        }
        Ok(file)
    });
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Creates the folder `dir` and its parents (nothing when it exists); an error names it.
/// Under an open output set ([`crate::outputs::staging`]) the folder is made in its stage.
pub fn create_dir(dir: &std::path::Path) -> crate::error::Result<()> {
    let dir = &crate::outputs::staging::staged(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::Write {
        path: dir.to_path_buf(),
        reason: format!("cannot create the folder: {e}"),
    })
}

/// The SHA-256 of a file's bytes as lowercase hex, and its size in bytes (for provenance
/// records), read in 1 MiB blocks. A directory (a Zarr store) hashes its files in the order of
/// their sorted relative paths, each path then its bytes, and a file set ([`fileset`]) its
/// files in name order the same way; a URL has no digest (empty, 0).
pub fn sha256_file(path: &std::path::Path) -> crate::error::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    if read::is_url(path) {
        return Ok((String::new(), 0));
    }
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    if fileset::is_pattern(path) {
        for f in fileset::expand(path)? {
            hasher.update(f.to_string_lossy().as_bytes());
            bytes += hash_into(&f, &mut hasher)?;
        }
    } else if path.is_dir() {
        let mut files = Vec::new();
        list_files(path, path, &mut files)?;
        files.sort();
        for rel in files {
            hasher.update(rel.to_string_lossy().as_bytes());
            bytes += hash_into(&path.join(&rel), &mut hasher)?;
        }
    } else {
        bytes = hash_into(path, &mut hasher)?;
    }
    let digest = hasher.finalize();
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, bytes))
}

/// Every file under `dir`, relative to `root`.
fn list_files(
    root: &std::path::Path,
    dir: &std::path::Path,
    out: &mut Vec<std::path::PathBuf>,
) -> crate::error::Result<()> {
    let err = |e: std::io::Error| crate::error::Error::Open {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let p = entry.map_err(err)?.path();
        if p.is_dir() {
            list_files(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}

/// Feeds a file's bytes to `hasher`; returns their count.
fn hash_into(path: &std::path::Path, hasher: &mut sha2::Sha256) -> crate::error::Result<u64> {
    use sha2::Digest;
    use std::io::Read;
    let open_err = |e: std::io::Error| crate::error::Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(open_err)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(open_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(bytes)
}

#[cfg(test)]
mod sha_tests {
    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, "abc").unwrap();
        let (hex, n) = super::sha256_file(&p).unwrap();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(n, 3);
        assert!(super::sha256_file(&dir.path().join("missing")).is_err());
        // A directory (a Zarr store): its files' paths and bytes; a change anywhere shows.
        let store = dir.path().join("s.zarr");
        std::fs::create_dir_all(store.join("x")).unwrap();
        std::fs::write(store.join("x/0"), "abc").unwrap();
        let (a, n) = super::sha256_file(&store).unwrap();
        assert_eq!(n, 3);
        std::fs::write(store.join("x/0"), "abd").unwrap();
        assert_ne!(super::sha256_file(&store).unwrap().0, a);
    }
}
