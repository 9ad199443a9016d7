//! Reading one variable of a NetCDF file into a [`Cube`].
//!
//! Steps: open (classic, 64-bit offset, NetCDF-4/HDF5 — whatever libnetcdf reads) → collect the
//! file's metadata → pick the variable → detect dimension roles ([`super::detect`]) → decode
//! coordinates (calendars, leads, members, grid or points) → plan the hyperslab (only the
//! inits, leads, latitude band and longitude runs asked for; at most two longitude runs when a
//! box crosses the file's seam) → read → mask and unpack ([`super::decode`]) → reorder to
//! `(init, member, lead, y, x)` with latitude south→north and longitude ascending in one
//! convention → convert to canonical units ([`crate::units`]) → check plausibility.
//!
//! The `netcdf` crate serialises every call behind one lock, so reading happens on the calling
//! thread; callers parallelise the computing, not the reading.

use std::path::Path;

use ndarray::{Array2, Array5, ArrayD, Axis, Ix5, IxDyn};
use netcdf::{AttributeValue, Extent};
use rayon::prelude::*;

use super::decode::{AttrValue, Attrs, Packing, StoredType};
use super::detect::{
    detect_layout, Decided, DimMapping, DimRole, FileMeta, Layout, SpatialVars, VarMeta,
};
use crate::calendar::{Calendar, CfDateTime, TimeCoding};
use crate::cube::{wrap_lon, BBox, Coords, Cube, CubeKind, Lead, LeadUnit, Meta, Spatial};
use crate::error::{Error, Result};
use crate::stats::{finite_summary, merge_finite_summaries};
use crate::units::{Conversion, Quantity};

/// What to read and how.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Variable to read; `None` picks the file's only data variable.
    pub variable: Option<String>,
    /// Model / data-set name for the cube; default: the file name without extension.
    pub model: Option<String>,
    /// Explicit dimension roles, overriding detection.
    pub dims: DimMapping,
    /// Only this box.
    pub bbox: Option<BBox>,
    /// Only these lead indices (in file order).
    pub leads: Option<Vec<usize>>,
    /// Only start dates (time stamps for observed series) in these years, inclusive.
    pub years: Option<(i32, i32)>,
    /// Units to use instead of the file's `units` attribute.
    pub assume_units: Option<String>,
    /// Keep the file's units (no conversion to mm/day or degC, no plausibility check).
    pub keep_units: bool,
    /// The pressure level (hPa) to read when the variable has a level dimension.
    pub level_hpa: Option<f64>,
    /// For a variable with an ocean level dimension ([`DimRole::Depth`]): read the level
    /// nearest the sea surface (the largest value of a `positive = "up"` coordinate such as
    /// ROMS' `s_rho`, else the smallest depth). Without it, several levels are an error.
    pub surface_level: bool,
    /// Only the time steps (observed series) or start dates (forecasts) `start..start+count`
    /// of those the other options select (the count is cut at the last one): a long series
    /// read block by block. The cube's [`Meta::source_time_steps`] then tells how many there
    /// are in all.
    pub time_steps: Option<(usize, usize)>,
    /// Reading one file of a file set: the "implausibly dry" check (all values near zero)
    /// waits for the whole set — one start of a dry region may well be all zero.
    pub part_of_set: bool,
    /// The season each value of a series stamped once a year covers (`--obs-season`, the
    /// configuration's `observations.season`): amounts are converted over its length, and the
    /// values are matched only with targets of that season.
    pub season: Option<crate::calendar::Season>,
    /// The date of a file with no time coordinate at all (neither a time dimension nor a
    /// scalar `valid_time`/`time`/`forecast_reference_time`): `--time`, the configuration's
    /// `time`. Such a file is refused without it rather than dated 0001-01-01.
    pub time: Option<CfDateTime>,
    /// Describe a variable whose values are all missing instead of refusing it (`inspect`:
    /// a score not computed for one system is still a variable of the file).
    pub allow_all_missing: bool,
    /// Only the latitude rows within `[south, north]` degrees north (inclusive; the caller pads
    /// the band for coordinate jitter), every longitude kept, of a lat/lon grid: the band of
    /// rows one process of a distributed run reads ([`crate::distributed`]). The checks that
    /// need the whole field (all values missing, implausibly dry or wet precipitation) are
    /// then left to the caller, over every band together ([`FieldChecks`]).
    pub lat_band: Option<(f64, f64)>,
    /// The checks that need the whole field (all values missing, implausibly dry or wet
    /// precipitation) are the caller's ([`FieldChecks`]): a block of the start dates
    /// ([`ReadOptions::time_steps`]) read by one process of a distributed run.
    pub checks_by_caller: bool,
}

impl ReadOptions {
    /// Whether this read makes the whole-field checks itself.
    fn checks_whole_field(&self) -> bool {
        self.lat_band.is_none() && !self.checks_by_caller
    }
}

/// What the whole-field checks of a read need, from one band of rows or several merged: a
/// distributed run reads each band in another process ([`ReadOptions::lat_band`]) and checks
/// the merged counts as one read of the whole field would.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldChecks {
    /// Values read, missing ones included.
    pub n_values: u64,
    /// Finite values.
    pub n_finite: u64,
    /// The largest finite value (−∞ when none).
    pub largest: f64,
    /// Finite values above [`Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY`].
    pub n_wet: u64,
}

impl Default for FieldChecks {
    fn default() -> Self {
        FieldChecks {
            n_values: 0,
            n_finite: 0,
            largest: f64::NEG_INFINITY,
            n_wet: 0,
        }
    }
}

impl FieldChecks {
    /// The counts of one cube's values (in the units it was read in).
    pub fn of(cube: &Cube) -> Self {
        let wet = Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY;
        let mut c = FieldChecks {
            n_values: cube.values.len() as u64,
            ..FieldChecks::default()
        };
        for &v in cube.values.iter().filter(|v| v.is_finite()) {
            c.n_finite += 1;
            c.largest = c.largest.max(f64::from(v));
            c.n_wet += u64::from(f64::from(v) > wet);
        }
        c
    }

    /// Both bands' counts together.
    pub fn merge(self, other: FieldChecks) -> FieldChecks {
        FieldChecks {
            n_values: self.n_values + other.n_values,
            n_finite: self.n_finite + other.n_finite,
            largest: self.largest.max(other.largest),
            n_wet: self.n_wet + other.n_wet,
        }
    }

    /// The checks a read of the whole field makes: not every value missing, and for
    /// precipitation in mm/day (`checks_precipitation`) neither implausibly dry nor wet (more
    /// than half of the values above the wet median bound is the median above it).
    pub fn check(&self, path: &Path, variable: &str, checks_precipitation: bool) -> Result<()> {
        if self.n_finite == 0 {
            return Err(Error::Data {
                path: path.to_path_buf(),
                variable: variable.to_string(),
                reason: format!("all {} values read are missing", self.n_values),
            });
        }
        if !checks_precipitation || !super::whole_field_checks() {
            return Ok(());
        }
        let uerr = |reason: String| Error::Units {
            path: path.to_path_buf(),
            variable: variable.to_string(),
            reason,
        };
        implausibly_dry(self.n_finite as usize, self.largest, "mm/day").map_err(uerr)?;
        if self.n_finite >= 100 && 2 * self.n_wet > self.n_finite {
            return Err(uerr(format!(
                "{} of {} values exceed {} mm/day, so does the median: implausibly wet — {WET_TOTAL_CAUSE} {WET_ADVICE}",
                self.n_wet,
                self.n_finite,
                Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY
            )));
        }
        Ok(())
    }
}

/// Where the units of a read come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitsSource {
    /// [`ReadOptions::assume_units`] or the global `--assume-units` table.
    Assumed,
    /// The variable's `units` attribute.
    Attribute,
    /// A final `(…)`/`[…]` of `long_name`, the file having no `units`.
    LongName,
    /// None at all.
    Missing,
}

/// The units a variable is read in, and where they come from: explicit options, then the
/// user's table by variable name, then the `units` attribute, then units written in
/// `long_name` ([`crate::units::units_in_long_name`]).
pub fn units_to_read(vm: &VarMeta, opts: &ReadOptions) -> (String, UnitsSource) {
    if let Some(u) = opts
        .assume_units
        .clone()
        .or_else(|| super::assumed_units_for(&vm.name))
    {
        return (u, UnitsSource::Assumed);
    }
    let attr = vm.text("units").unwrap_or("").trim();
    if !attr.is_empty() {
        return (attr.to_string(), UnitsSource::Attribute);
    }
    match vm
        .text("long_name")
        .and_then(crate::units::units_in_long_name)
    {
        Some(u) => (u, UnitsSource::LongName),
        None => (String::new(), UnitsSource::Missing),
    }
}

/// The start of the 360° window a file's longitudes are read in when no box asks for another:
/// the file's own convention when its axis is monotonic and spans less than 360° (0…359 stays
/// 0…359, −180…179 stays, a 40…180 regional grid keeps 180), else the window of −180 and 0 in
/// which the wrapped axis is the most compact (a file stored 0…179, −180…−1 is read −180…179).
pub fn own_lon_window(lon: &[f64]) -> f64 {
    let n = lon.len();
    if n == 0 {
        return -180.0;
    }
    let (first, last) = (lon[0], lon[n - 1]);
    if lon.windows(2).all(|w| w[1] > w[0]) && last - first < 360.0 {
        return first;
    }
    if lon.windows(2).all(|w| w[1] < w[0]) && first - last < 360.0 {
        return last;
    }
    let span = |lo: f64| {
        let (mn, mx) = lon
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
                let x = wrap_lon(l, lo);
                (a.min(x), b.max(x))
            });
        mx - mn
    };
    if span(0.0) < span(-180.0) {
        0.0
    } else {
        -180.0
    }
}

pub(crate) fn netcdf_err(path: &Path, action: &str, e: netcdf::Error) -> Error {
    Error::Netcdf {
        path: path.to_path_buf(),
        action: action.to_string(),
        reason: e.to_string(),
    }
}

/// HDF5 chunk cache per variable. libnetcdf's default (64 MiB in netCDF-C 4.9) holds
/// decompressed chunks for re-reading; the engine reads every chunk once, so a small cache
/// loses nothing and keeps the memory of a read at the size of its result.
const CHUNK_CACHE_BYTES: usize = 4 << 20;

/// Sets libnetcdf's default chunk cache, once, before the first file is opened, and silences
/// HDF5's error printing in the calling thread ([`silence_hdf5_errors_in_this_thread`]):
/// called before every open and create.
pub(crate) fn configure_libnetcdf() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sets libnetcdf's global defaults for files opened later; called once, before
        // this crate opens or creates any file.
        unsafe {
            netcdf_sys::nc_set_chunk_cache(CHUNK_CACHE_BYTES, 1009, 0.75);
        }
    });
    thread_local! {
        static SILENCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    SILENCED.with(|done| {
        if !done.replace(true) {
            silence_hdf5_errors_in_this_thread();
        }
    });
}

/// Turns off HDF5's printing of its error stack in the calling thread. libnetcdf turns it off
/// when it starts, but a thread-safe HDF5 keeps the setting per thread: in any other thread
/// every attribute libnetcdf probes and does not find (`_QuantizeBitGroom…`, `_Netcdf4Dimid`)
/// would print a screenful of `HDF5-DIAG` lines. Call it first in a thread that opens files;
/// a no-op where HDF5's `H5Eset_auto2` is not in the process. Every open and create of this
/// crate calls it (once per thread); a program that opens files with the `netcdf` crate
/// itself in threads of its own calls it there.
pub fn silence_hdf5_errors_in_this_thread() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::c_void;
        extern "C" {
            fn dlsym(handle: *mut c_void, symbol: *const std::ffi::c_char) -> *mut c_void;
        }
        // `herr_t H5Eset_auto2(hid_t estack_id, H5E_auto2_t func, void *client_data)`, hid_t
        // being int64_t since HDF5 1.10; H5E_DEFAULT is 0; a null function turns printing off.
        type SetAuto = unsafe extern "C" fn(i64, *const c_void, *mut c_void) -> i32;
        // SAFETY: dlsym with RTLD_DEFAULT (a null handle in glibc) only looks a name up among
        // the loaded libraries; a non-null result for this name is HDF5's function of the
        // signature above (HDF5 is loaded with libnetcdf).
        unsafe {
            let f = dlsym(std::ptr::null_mut(), c"H5Eset_auto2".as_ptr());
            if !f.is_null() {
                let set_auto: SetAuto = std::mem::transmute::<*mut c_void, SetAuto>(f);
                set_auto(0, std::ptr::null(), std::ptr::null_mut());
            }
        }
    }
}

/// Opens a file, telling a missing file from one that is not NetCDF.
pub fn open(path: &Path) -> Result<netcdf::File> {
    configure_libnetcdf();
    super::clobber::remember_input(path);
    // OPeNDAP (and other libnetcdf URLs) go to libnetcdf unchanged.
    if is_url(path) {
        return netcdf::open(path).map_err(|e| Error::NotNetcdf {
            path: path.to_path_buf(),
            reason: format!("libnetcdf could not open the URL ({e}); is the server reachable and does it serve OPeNDAP?"),
        });
    }
    if super::zarr::is_zarr_store(path) {
        return super::zarr::open_as_netcdf(path);
    }
    // A file set's metadata (variables, units, layout, leads, grid) is that of its first file;
    // its values are read file by file ([`read_cube`]).
    if super::fileset::is_pattern(path) {
        return open(&super::fileset::expand(path)?[0]);
    }
    match std::fs::metadata(path) {
        Err(e) => {
            return Err(Error::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
        Ok(m) if m.is_dir() => {
            return Err(Error::Open {
                path: path.to_path_buf(),
                reason: "is a directory".into(),
            })
        }
        Ok(m) if m.len() == 0 => {
            return Err(Error::NotNetcdf {
                path: path.to_path_buf(),
                reason: "the file is empty".into(),
            })
        }
        Ok(_) => {}
    }
    if let Some(edition) = grib_edition(path) {
        #[cfg(feature = "grib")]
        {
            let _ = edition;
            return super::grib::open_as_netcdf(path);
        }
        #[cfg(not(feature = "grib"))]
        return Err(Error::NotNetcdf {
            path: path.to_path_buf(),
            reason: format!("it is GRIB edition {edition}, and this build of s2s has no GRIB support (cargo feature `grib`); convert it first: `cdo -f nc4 copy {0} out.nc` or `grib_to_netcdf -o out.nc {0}` (ecCodes)", path.display()),
        });
    }
    if let Some(reason) = super::truncation::truncation(path) {
        return Err(Error::NotNetcdf {
            path: path.to_path_buf(),
            reason,
        });
    }
    match super::names::first_name_problem(path) {
        Some(super::names::HeaderProblem::Unopenable(reason)) => {
            return Err(Error::NotNetcdf {
                path: path.to_path_buf(),
                reason,
            })
        }
        Some(super::names::HeaderProblem::Damaged(problem)) => {
            return Err(Error::Input {
                path: path.to_path_buf(),
                reason: if problem.contains("UTF-8") {
                    format!("{problem}: rename it (ncrename) to a UTF-8 name")
                } else {
                    problem
                },
            });
        }
        None => {}
    }
    netcdf::open(path).map_err(|e| Error::NotNetcdf {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// How far into a file a GRIB message may start: WMO bulletins put an abbreviated heading
/// (`TTAAii CCCC YYGGgg`, tens of bytes) before it, which ecCodes skips.
const GRIB_HEADER_SEARCH_BYTES: usize = 4096;

/// The GRIB edition of a file whose first GRIB message (`GRIB`, then the edition in byte 8)
/// starts in its first 4 KiB (NetCDF and HDF5 files excluded by their
/// own magic numbers), or `None`.
pub fn grib_edition(path: &Path) -> Option<u8> {
    let (head, n) = file_head(path);
    if n == 8 && &head[..4] == b"GRIB" {
        return Some(head[7]);
    }
    if n < 8 || head.starts_with(b"CDF") || head.starts_with(b"\x89HDF") {
        return None;
    }
    let mut buf = vec![0u8; GRIB_HEADER_SEARCH_BYTES];
    let got = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut buf))
        .unwrap_or(0);
    buf[..got]
        .windows(8)
        .find(|w| &w[..4] == b"GRIB" && matches!(w[7], 1 | 2))
        .map(|w| w[7])
}

/// The first 8 bytes of a file (the magic numbers of NetCDF, HDF5 and GRIB) and how many
/// there were (0 for an unreadable file).
pub(crate) fn file_head(path: &Path) -> ([u8; 8], usize) {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    (head, n)
}

/// The scalar time coordinate of a file without a time dimension: the first of `valid_time`,
/// `time`, `forecast_reference_time` that is 0-d with CF time units.
fn scalar_time(meta: &FileMeta) -> Option<&'static str> {
    ["valid_time", "time", "forecast_reference_time"]
        .into_iter()
        .find(|name| {
            meta.vars.get(*name).is_some_and(|v| {
                v.shape.is_empty() && v.text("units").is_some_and(|u| u.contains(" since "))
            })
        })
}

/// The "implausibly dry" check of precipitation: `n_finite` (≥ 100) values in mm/day whose
/// largest is below [`crate::units::Quantity::IMPLAUSIBLY_DRY_MM_DAY`] are a flux mislabelled.
fn implausibly_dry(
    n_finite: usize,
    largest: f64,
    units_in: &str,
) -> std::result::Result<(), String> {
    if n_finite >= 100 && largest < crate::units::Quantity::IMPLAUSIBLY_DRY_MM_DAY {
        return Err(format!(
            "the largest of {n_finite} values is {largest:.3e} mm/day (from units '{units_in}'): implausibly dry; are these kg m-2 s-1 or m s-1 labelled as mm/day? (--assume-units overrides them)"
        ));
    }
    Ok(())
}

/// The likely cause of an implausibly wet field that is not a temperature.
const WET_TOTAL_CAUSE: &str =
    "are they a total over a season or year, or mm/hour or cm, labelled as mm/day?";

/// What to do about an implausibly wet field.
const WET_ADVICE: &str = "(--assume-units overrides the units; check the variable with --var; --allow-implausible reads it anyway)";

/// The "implausibly wet" check of precipitation: a field of at least 100 values in mm/day
/// whose median exceeds [`crate::units::Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY`] is another
/// quantity or in other units. The median is taken over an even sample of at most 100 000
/// values.
fn implausibly_wet<'a>(
    values: impl ExactSizeIterator<Item = &'a f32>,
    units_in: &str,
) -> std::result::Result<(), String> {
    let step = (values.len() / 100_000).max(1);
    let mut sample: Vec<f32> = values
        .step_by(step)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if sample.len() < 100 {
        return Ok(());
    }
    let mid = sample.len() / 2;
    let median = f64::from(*sample.select_nth_unstable_by(mid, f32::total_cmp).1);
    if median > crate::units::Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY {
        let (lo, hi) = sample
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let cause = if (150.0..=350.0).contains(&lo) && (150.0..=350.0).contains(&hi) {
            "they look like a temperature in K labelled as precipitation"
        } else {
            WET_TOTAL_CAUSE
        };
        return Err(format!(
            "the median of the values is {median:.1} mm/day (from units '{units_in}', range {lo:.1}..{hi:.1}): implausibly wet — {cause} {WET_ADVICE}"
        ));
    }
    Ok(())
}

/// Whether a path is a URL libnetcdf opens itself (OPeNDAP over http(s), `dap4://`, `file://`
/// with a `#mode=` fragment).
pub fn is_url(path: &Path) -> bool {
    let s = path.to_string_lossy();
    ["http://", "https://", "dap2://", "dap4://", "file://"]
        .iter()
        .any(|p| s.starts_with(p))
}

fn attr_value(v: AttributeValue) -> AttrValue {
    use AttributeValue as A;
    let nums = |v: Vec<f64>| AttrValue::Numbers(v);
    match v {
        A::Str(s) => AttrValue::Text(s),
        A::Strs(s) => AttrValue::Text(s.join(" ")),
        A::Uchar(x) => nums(vec![f64::from(x)]),
        A::Uchars(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Schar(x) => nums(vec![f64::from(x)]),
        A::Schars(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Ushort(x) => nums(vec![f64::from(x)]),
        A::Ushorts(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Short(x) => nums(vec![f64::from(x)]),
        A::Shorts(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Uint(x) => nums(vec![f64::from(x)]),
        A::Uints(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Int(x) => nums(vec![f64::from(x)]),
        A::Ints(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Ulonglong(x) => nums(vec![x as f64]),
        A::Ulonglongs(x) => nums(x.into_iter().map(|v| v as f64).collect()),
        A::Longlong(x) => nums(vec![x as f64]),
        A::Longlongs(x) => nums(x.into_iter().map(|v| v as f64).collect()),
        A::Float(x) => nums(vec![f64::from(x)]),
        A::Floats(x) => nums(x.into_iter().map(f64::from).collect()),
        A::Double(x) => nums(vec![x]),
        A::Doubles(x) => nums(x),
    }
}

fn read_attrs<'a>(it: impl Iterator<Item = netcdf::Attribute<'a>>) -> Attrs {
    it.filter_map(|a| Some((a.name().to_string(), attr_value(a.value().ok()?))))
        .collect()
}

fn stored_type(v: &netcdf::Variable) -> Option<StoredType> {
    use netcdf::types::{FloatType, IntType, NcVariableType as T};
    Some(match v.vartype() {
        T::Int(IntType::I8 | IntType::U8) => StoredType::Byte,
        T::Int(IntType::I16 | IntType::U16) => StoredType::Short,
        T::Int(IntType::I32 | IntType::U32) => StoredType::Int,
        T::Int(IntType::I64 | IntType::U64) => StoredType::Int64,
        T::Float(FloatType::F32) => StoredType::Float,
        T::Float(FloatType::F64) => StoredType::Double,
        _ => return None,
    })
}

fn dtype_name(v: &netcdf::Variable) -> String {
    use netcdf::types::NcVariableType as T;
    match (stored_type(v), v.vartype()) {
        (Some(StoredType::Byte), _) => "byte",
        (Some(StoredType::Short), _) => "short",
        (Some(StoredType::Int), _) => "int",
        (Some(StoredType::Int64), _) => "int64",
        (Some(StoredType::Float), _) => "float",
        (Some(StoredType::Double), _) => "double",
        (None, T::String) => "string",
        (None, T::Char) => "char",
        _ => "other",
    }
    .to_string()
}

fn format_name(path: &Path) -> String {
    if super::fileset::is_pattern(path) {
        return match super::fileset::expand(path) {
            Ok(files) => format!(
                "file set of {} files ({} … {}), the first {}",
                files.len(),
                files[0].file_name().unwrap_or_default().to_string_lossy(),
                files[files.len() - 1]
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy(),
                format_name(&files[0])
            ),
            Err(_) => "file set (no file matches)".into(),
        };
    }
    if is_url(path) {
        return "remote (OPeNDAP through libnetcdf)".into();
    }
    if super::zarr::is_zarr_store(path) {
        return format!(
            "Zarr v{} store (decoded to NetCDF-4 on read)",
            super::zarr::zarr_version(path)
        );
    }
    // The first bytes tell the on-disk format (the crate does not expose nc_inq_format).
    let (head, n) = file_head(path);
    match &head[..n.min(4)] {
        [b'C', b'D', b'F', 1] => "classic".into(),
        [b'C', b'D', b'F', 2] => "64-bit offset".into(),
        [b'C', b'D', b'F', 5] => "64-bit data (CDF-5)".into(),
        [0x89, b'H', b'D', b'F'] => "netCDF-4 (HDF5)".into(),
        _ => match grib_edition(path) {
            Some(edition) => format!("GRIB edition {edition} (decoded by ecCodes on read)"),
            None => "unknown".into(),
        },
    }
}

/// Collects the metadata of an open file.
pub fn file_meta(path: &Path, file: &netcdf::File) -> FileMeta {
    let dims = file.dimensions().map(|d| (d.name(), d.len())).collect();
    let vars = file
        .variables()
        .map(|v| {
            let meta = VarMeta {
                name: v.name(),
                dims: v.dimensions().iter().map(|d| d.name()).collect(),
                shape: v.dimensions().iter().map(|d| d.len()).collect(),
                dtype: dtype_name(&v),
                attrs: read_attrs(v.attributes()),
            };
            (meta.name.clone(), meta)
        })
        .collect();
    let mut meta = FileMeta {
        format: format_name(path),
        dims,
        vars,
        global: read_attrs(file.attributes()),
    };
    join_member_families(&mut meta);
    meta
}

/// Attribute of a variable joined from the per-member variables of the CDO layout: their names.
const MEMBER_PARTS_ATTR: &str = "s2s_member_parts";
/// Attribute of a joined variable: the member numbers of its parts.
const MEMBER_NUMBERS_ATTR: &str = "s2s_member_numbers";

/// Joins the per-member variables s2s writes in the CDO layout (`pr_member01` … with
/// `s2s_nd_variable = "pr"`, `s2s_nd_dimensions = "member"`) into one variable `pr` with a
/// `member` dimension after the first (time) dimension, as the N-D layout has it: every reader
/// then sees the cube. The parts leave the variable list; reading the joined variable reads
/// them one by one.
fn join_member_families(meta: &mut FileMeta) {
    use super::write::{ND_INDEX_ATTR, ND_SPLIT_ATTR, ND_VARIABLE_ATTR};
    let names: std::collections::BTreeSet<String> = meta
        .vars
        .values()
        .filter(|v| v.text(ND_SPLIT_ATTR) == Some("member"))
        .filter_map(|v| v.text(ND_VARIABLE_ATTR).map(str::to_string))
        .collect();
    for name in names {
        // (index, variable, member number: its `member` attribute, else the index)
        let parts: Vec<(usize, String, f64)> = meta
            .split_parts(&name, "member")
            .into_iter()
            .map(|(i, v)| {
                let number = match v.attrs.get("member") {
                    Some(AttrValue::Numbers(n)) => n.first().copied().unwrap_or(i as f64),
                    _ => i as f64,
                };
                (i, v.name.clone(), number)
            })
            .collect();
        if meta.vars.contains_key(&name) || parts.is_empty() {
            continue;
        }
        let first = meta.vars[&parts[0].1].clone();
        // Parts must agree on dimensions and type; otherwise they stay separate variables.
        if parts.iter().any(|p| {
            let v = &meta.vars[&p.1];
            v.dims != first.dims || v.dtype != first.dtype
        }) || first.dims.is_empty()
        {
            continue;
        }
        let mut joined = first.clone();
        joined.name = name.clone();
        joined.dims.insert(1.min(first.dims.len()), "member".into());
        joined.shape.insert(1.min(first.shape.len()), parts.len());
        for k in [
            ND_VARIABLE_ATTR,
            ND_SPLIT_ATTR,
            super::write::ND_DIMENSIONS_ATTR,
            ND_INDEX_ATTR,
            "member",
            "member_name",
        ] {
            joined.attrs.remove(k);
        }
        if let Some(AttrValue::Text(l)) = joined.attrs.get_mut("long_name") {
            if let Some(cut) = l.rfind(": member") {
                l.truncate(cut);
            }
        }
        joined.attrs.insert(
            MEMBER_PARTS_ATTR.into(),
            AttrValue::Text(
                parts
                    .iter()
                    .map(|p| p.1.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        );
        joined.attrs.insert(
            MEMBER_NUMBERS_ATTR.into(),
            AttrValue::Numbers(parts.iter().map(|p| p.2).collect()),
        );
        if !meta.dims.iter().any(|d| d.0 == "member") {
            meta.dims.push(("member".into(), parts.len()));
        }
        for p in &parts {
            meta.vars.remove(&p.1);
        }
        meta.vars.insert(name, joined);
    }
}

/// Reads a variable joined by [`join_member_families`]: each member's variable, stacked on
/// the member axis.
fn read_member_parts(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    vm: &VarMeta,
    opts: &ReadOptions,
) -> Result<Option<Cube>> {
    let Some(parts) = vm.text(MEMBER_PARTS_ATTR) else {
        return Ok(None);
    };
    let numbers: Vec<i32> = match vm.attrs.get(MEMBER_NUMBERS_ATTR) {
        Some(AttrValue::Numbers(n)) => n.iter().map(|&x| x as i32).collect(),
        _ => Vec::new(),
    };
    let member_at = vm.dims.iter().position(|d| d == "member").unwrap_or(1);
    let mut cubes = Vec::new();
    for part in parts.split_whitespace() {
        let mut pm = vm.clone();
        pm.name = part.to_string();
        pm.dims.remove(member_at);
        pm.shape.remove(member_at);
        pm.attrs.remove(MEMBER_PARTS_ATTR);
        pm.attrs.remove(MEMBER_NUMBERS_ATTR);
        // The part is its family's quantity (units converted as the family's).
        pm.attrs.insert(
            super::write::ND_VARIABLE_ATTR.to_string(),
            AttrValue::Text(vm.name.clone()),
        );
        let mut c = read_variable(path, file, meta, &pm, opts)?;
        c.meta.attributes.remove(super::write::ND_VARIABLE_ATTR);
        c.meta.variable = vm.name.clone();
        cubes.push(c);
    }
    let views: Vec<_> = cubes.iter().map(|c| c.values.view()).collect();
    let values = ndarray::concatenate(Axis(1), &views).map_err(|e| Error::Dimensions {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason: format!("its per-member variables ({parts}) do not stack: {e}"),
    })?;
    let n = views.len();
    drop(views);
    let mut first = cubes.swap_remove(0);
    let mut coords = first.coords.clone();
    coords.member = if numbers.len() == n {
        numbers
    } else {
        (0..n as i32).collect()
    };
    first.meta.attributes.remove(MEMBER_PARTS_ATTR);
    first.meta.attributes.remove(MEMBER_NUMBERS_ATTR);
    Ok(Some(Cube::new(values, coords, first.meta)?))
}

/// Picks the variable to read: the one asked for, or the only data variable.
pub fn choose_variable<'a>(
    path: &Path,
    meta: &'a FileMeta,
    asked: Option<&str>,
) -> Result<&'a VarMeta> {
    let present = || {
        let names: Vec<&str> = meta.vars.keys().map(String::as_str).collect();
        names.join(", ")
    };
    if let Some(name) = asked {
        return meta.vars.get(name).ok_or_else(|| Error::MissingVariable {
            path: path.to_path_buf(),
            variable: name.to_string(),
            present: present(),
        });
    }
    let data = meta.data_variables();
    match data.as_slice() {
        [] => Err(Error::AmbiguousVariable {
            path: path.to_path_buf(),
            reason: format!("no data variable found (variables: {})", present()),
        }),
        [one] => Ok(one),
        many => Err(Error::AmbiguousVariable {
            path: path.to_path_buf(),
            reason: format!(
                "several data variables ({}); say which one with --var",
                many.iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Reads a numeric coordinate variable as f64 (NaN where missing).
fn read_coord(path: &Path, file: &netcdf::File, meta: &FileMeta, name: &str) -> Result<Vec<f64>> {
    let var = file.variable(name).ok_or_else(|| Error::MissingVariable {
        path: path.to_path_buf(),
        variable: name.to_string(),
        present: meta.vars.keys().cloned().collect::<Vec<_>>().join(", "),
    })?;
    let shape: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
    crate::memory::check_allocation(
        &format!("coordinate '{name}' of {}", path.display()),
        &shape,
        3 * 8, // the f64 values, their decoded copy and the result
        "the file's header declares an implausibly long axis: check the file (ncdump -h)",
    )?;
    let raw: Vec<f64> = var
        .get_values::<f64, _>(..)
        .map_err(|e| netcdf_err(path, &format!("reading coordinate '{name}'"), e))?;
    let stored = stored_type(&var).unwrap_or(StoredType::Double);
    let packing = Packing::from_attrs(&meta.vars[name].attrs, stored);
    let mut out = vec![0f32; raw.len()];
    packing.decode_f64(&raw, &mut out);
    // Keep full f64 precision for unpacked coordinates; NaN where masked.
    Ok(raw
        .iter()
        .zip(&out)
        .map(|(&r, &o)| {
            if o.is_nan() {
                f64::NAN
            } else if packing.is_unpacked() {
                r
            } else {
                r * packing.scale + packing.offset
            }
        })
        .collect())
}

pub(crate) fn read_coord_2d(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    name: &str,
) -> Result<Array2<f64>> {
    let v = read_coord(path, file, meta, name)?;
    let shape = &meta.vars[name].shape;
    // A grid whose cells all sit at one place has lost its positions (a subsetting tool that
    // wrote the staggered points' coordinates as zeros): every position-based step would be
    // silently wrong.
    let mut finite = v.iter().filter(|x| x.is_finite());
    if let Some(&first) = finite.next() {
        if v.len() > 1 && finite.all(|&x| x == first) && shape.iter().all(|&n| n > 1) {
            return Err(Error::Grid {
                path: path.to_path_buf(),
                variable: name.to_string(),
                reason: format!(
                    "the 2-D coordinate holds one value ({first}) in all its {} cells: the grid's positions are missing from the file (check it with ncdump -v {name}; take them from the model's grid file)",
                    v.len()
                ),
            });
        }
    }
    Array2::from_shape_vec((shape[0], shape[1]), v).map_err(|e| Error::Grid {
        path: path.to_path_buf(),
        variable: name.to_string(),
        reason: e.to_string(),
    })
}

fn calendar_of(path: &Path, vm: &VarMeta) -> Result<Calendar> {
    match vm.text("calendar") {
        None => Ok(Calendar::Standard),
        Some(c) => Calendar::parse(c).map_err(|e| Error::Time {
            path: path.to_path_buf(),
            variable: vm.name.clone(),
            reason: e.to_string(),
        }),
    }
}

/// A date of CDO's absolute time axis, `YYYYMMDD.f` (f: fraction of the day), to the minute.
fn absolute_day(v: f64) -> Option<CfDateTime> {
    if !(0.0..1e9).contains(&v) {
        return None;
    }
    let ymd = v.trunc() as i64;
    let (year, month, day) = (
        (ymd / 10_000) as i32,
        (ymd / 100 % 100) as u32,
        (ymd % 100) as u32,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut d = CfDateTime::ymd(year, month, day);
    d.micros_of_day = ((v.fract() * 1440.0).round() as i64).min(1439) * 60_000_000;
    Some(d)
}

/// Decodes a time coordinate (start dates or observation times).
fn decode_times(path: &Path, vm: &VarMeta, values: &[f64]) -> Result<(Vec<CfDateTime>, Calendar)> {
    let terr = |reason: String| Error::Time {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason,
    };
    let cal = calendar_of(path, vm)?;
    let units = vm.text("units").unwrap_or("").trim();
    if units.is_empty() || !units.to_ascii_lowercase().contains(" since ") {
        // Integral years without units (CESM decadal `init`): 1 January of that year.
        if values
            .iter()
            .all(|v| v.fract() == 0.0 && (1000.0..3000.0).contains(v))
        {
            return Ok((
                values
                    .iter()
                    .map(|&v| CfDateTime::ymd(v as i32, 1, 1))
                    .collect(),
                cal,
            ));
        }
        // CDO's absolute time axis (`cdo -a`, `settaxis` on a file without time):
        // `day as %Y%m%d.%f`, the fraction being the time of day.
        if units.to_ascii_lowercase().starts_with("day as %y%m%d") {
            return values
                .iter()
                .map(|&v| {
                    absolute_day(v).ok_or_else(|| {
                        terr(format!("{v} is not a date YYYYMMDD.f (units '{units}')"))
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(|d| (d, cal));
        }
        return Err(terr(format!(
            "units '{units}' are not '<unit> since <date>' (nor CDO's 'day as %Y%m%d.%f'), and the values are not years"
        )));
    }
    let tc = TimeCoding::parse(units, cal).map_err(|e| terr(e.to_string()))?;
    let dates = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            tc.decode(v)
                .map_err(|e| terr(format!("value {i} ({v}): {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((dates, cal))
}

/// Decodes lead coordinates into target-period offsets (see [`crate::cube`] for conventions).
/// Whether a lead dimension is C3S's `forecastMonth` (1 = the month of the start date).
fn is_forecast_month(dim: &str) -> bool {
    matches!(
        dim.to_ascii_lowercase().as_str(),
        "forecastmonth" | "forecast_month" | "fcmonth" | "leadmonth"
    )
}

fn decode_leads(path: &Path, dim: &str, vm: Option<&VarMeta>, values: &[f64]) -> Result<Vec<Lead>> {
    if is_forecast_month(dim) {
        return Ok(values.iter().map(|&v| Lead::months(v - 1.0, 1.0)).collect());
    }
    let (unit, scale) = lead_unit(path, dim, vm)?;
    let lerr = |reason: String| Error::Time {
        path: path.to_path_buf(),
        variable: dim.to_string(),
        reason,
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(lerr("lead values contain missing values".into()));
    }
    decode_lead_values(vm, values, unit, scale)
}

/// The unit of a lead coordinate and the factor to it (years count as 12 months).
fn lead_unit(path: &Path, dim: &str, vm: Option<&VarMeta>) -> Result<(LeadUnit, f64)> {
    let lerr = |reason: String| Error::Time {
        path: path.to_path_buf(),
        variable: dim.to_string(),
        reason,
    };
    let units = vm
        .and_then(|v| v.text("units"))
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let long = vm
        .and_then(|v| v.text("long_name"))
        .unwrap_or("")
        .to_ascii_lowercase();
    let (unit, scale) = match units.as_str() {
        "months" | "month" | "mon" => (LeadUnit::Month, 1.0),
        "years" | "year" => (LeadUnit::Month, 12.0),
        "days" | "day" | "d" => (LeadUnit::Day, 1.0),
        "hours" | "hour" | "h" => (LeadUnit::Hour, 1.0),
        "weeks" | "week" => (LeadUnit::Week, 1.0),
        "seconds" | "second" | "s" => (LeadUnit::Hour, 1.0 / 3600.0),
        "minutes" | "minute" => (LeadUnit::Hour, 1.0 / 60.0),
        "" if long.contains("year") => (LeadUnit::Month, 12.0),
        "" if long.contains("month") => (LeadUnit::Month, 1.0),
        other => {
            return Err(lerr(format!(
                "lead units '{other}' are not months, weeks, days or hours{}",
                if other.is_empty() {
                    " (the lead coordinate has no units; name them in the run configuration)"
                } else {
                    ""
                }
            )))
        }
    };
    Ok((unit, scale))
}

/// Leads from coordinate values in `unit` (× `scale`): IRI centres with a `pointwidth`, lead
/// years, or period starts spaced by their median step.
fn decode_lead_values(
    vm: Option<&VarMeta>,
    values: &[f64],
    unit: LeadUnit,
    scale: f64,
) -> Result<Vec<Lead>> {
    let pointwidth = vm
        .and_then(|v| v.attrs.get("pointwidth"))
        .and_then(AttrValue::as_number)
        .filter(|w| *w > 0.0);
    let half = values.iter().all(|v| (v.fract().abs() - 0.5).abs() < 1e-6);
    let spacing = if values.len() > 1 {
        let mut d: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
        d.sort_by(f64::total_cmp);
        d[d.len() / 2]
    } else {
        1.0
    };
    Ok(values
        .iter()
        .map(|&v| {
            let (start, width) = if half || pointwidth.is_some() {
                // IRI: L is the centre of the period; pointwidth its width (default one unit).
                let w = pointwidth.unwrap_or(1.0);
                (v - w / 2.0, w)
            } else if unit == LeadUnit::Month && scale == 12.0 {
                // Lead years 1, 2, ...: year 1 starts at the start date.
                (v - 1.0, 1.0)
            } else {
                (v, if spacing > 0.0 { spacing } else { 1.0 })
            };
            Lead {
                start: start * scale,
                width: width * scale,
                unit,
            }
        })
        .collect())
}

/// The cadence of an observed series as a lead width (a day, a month, a year, ...).
fn cadence(times: &[CfDateTime], cal: Calendar) -> Lead {
    if times.len() < 2 {
        return Lead::days(0.0, 1.0);
    }
    let mut d: Vec<f64> = times
        .windows(2)
        .filter_map(|w| w[0].days_until(&w[1], cal).ok())
        .collect();
    d.sort_by(f64::total_cmp);
    // no interval between two valid dates (dates out of the calendar): a daily series
    let Some(&med) = d.get(d.len() / 2) else {
        return Lead::days(0.0, 1.0);
    };
    match med {
        m if m < 0.99 => Lead {
            start: 0.0,
            width: (m * 24.0).round().max(1.0),
            unit: LeadUnit::Hour,
        },
        m if m < 1.5 => Lead::days(0.0, 1.0),
        m if (27.5..32.5).contains(&m) => Lead::months(0.0, 1.0),
        m if (88.0..93.0).contains(&m) => Lead::months(0.0, 3.0),
        m if (359.0..367.0).contains(&m) => Lead::months(0.0, 12.0),
        m => Lead::days(0.0, m.round()),
    }
}

/// The smallest contiguous range covering `idx`, and `idx` relative to it.
fn cover(idx: &[usize]) -> ((usize, usize), Vec<usize>) {
    let lo = *idx.iter().min().unwrap_or(&0);
    let hi = *idx.iter().max().unwrap_or(&0);
    ((lo, hi + 1 - lo), idx.iter().map(|i| i - lo).collect())
}

/// The positions of [`ReadOptions::time_steps`] `(start, count)` among `total` steps (the
/// count cut at the last one); an error when the block starts past the end or is empty.
fn time_step_block(
    path: &Path,
    (start, count): (usize, usize),
    total: usize,
) -> Result<std::ops::Range<usize>> {
    if start >= total || count == 0 {
        return Err(Error::invalid(
            "time steps",
            format!(
                "{}: steps {start}..{} asked for, there are {total}",
                path.display(),
                start + count
            ),
        ));
    }
    Ok(start..(start + count).min(total))
}

/// Reads one variable of a file into a cube.
pub fn read_cube(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Cube> {
    let path = path.as_ref();
    let started = std::time::Instant::now();
    let cube = read_cube_untimed(path, opts)?;
    if !opts.part_of_set {
        let (ni, nm, nl, _, _) = cube.values.dim();
        log::info!(
            "read {} '{}': {ni} {} x {nm} members x {nl} leads on {}, {} ({:?}) in {:.2} s",
            path.display(),
            cube.meta.variable,
            if cube.meta.kind == crate::cube::CubeKind::Observed {
                "times"
            } else {
                "starts"
            },
            cube.coords.spatial.describe(),
            cube.meta.units,
            cube.meta.quantity,
            started.elapsed().as_secs_f64()
        );
        for step in &cube.meta.history {
            log::debug!("{}: {step}", path.display());
        }
    }
    Ok(cube)
}

fn read_cube_untimed(path: &Path, opts: &ReadOptions) -> Result<Cube> {
    if super::fileset::is_pattern(path) {
        // Each file whole in time, the run's years selected from the set (a file of other
        // years is not an error).
        let files = super::fileset::expand(path)?;
        let each = ReadOptions {
            years: None,
            part_of_set: true,
            // a block of the set's steps is cut from the whole set below
            time_steps: None,
            ..opts.clone()
        };
        let set = super::fileset::read_set(&files, |f| read_cube(f, &each))?;
        if set.meta.quantity == crate::units::Quantity::Precipitation
            && !opts.keep_units
            && opts.checks_whole_field()
            && super::whole_field_checks()
        {
            let finite = set.values.iter().filter(|v| v.is_finite());
            let mx = finite.clone().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            implausibly_dry(finite.count(), f64::from(mx), &set.meta.units)
                .and_then(|()| implausibly_wet(set.values.iter(), &set.meta.units))
                .map_err(|reason| Error::Units {
                    path: path.to_path_buf(),
                    variable: set.meta.variable.clone(),
                    reason,
                })?;
        }
        let set = match opts.years {
            Some((y0, y1)) => set
                .select_init_years(y0, y1)
                .map_err(|e| Error::invalid("years", format!("{}: {e}", path.display())))?,
            None => set,
        };
        return match opts.time_steps {
            Some(steps) => {
                let total = set.n_init();
                let idx: Vec<usize> = time_step_block(path, steps, total)?.collect();
                let mut block = set.select_inits(&idx)?;
                block.meta.source_time_steps = Some(total);
                Ok(block)
            }
            None => Ok(set),
        };
    }
    let file = open(path)?;
    let meta = file_meta(path, &file);
    let vm = choose_variable(path, &meta, opts.variable.as_deref())?.clone();
    read_variable(path, &file, &meta, &vm, opts)
}

/// The values (hPa) of a pressure-level coordinate (Pa converted when its units say so or
/// when the values are too large for hPa).
fn level_axis(path: &Path, file: &netcdf::File, meta: &FileMeta, dim: &str) -> Result<Vec<f64>> {
    let vals = read_coord(path, file, meta, dim)?;
    let units = meta
        .vars
        .get(dim)
        .and_then(|v| v.text("units"))
        .unwrap_or("");
    let factor = match crate::units::pressure_to_pa(units) {
        Some(f) => f / 100.0,
        None if vals.iter().any(|&v| v > 2000.0) => 0.01,
        None => 1.0,
    };
    Ok(vals.iter().map(|v| v * factor).collect())
}

/// ROMS and CROCO write their momentum components `u`, `v` (and the depth-integrated `ubar`,
/// `vbar`) along the grid's ξ and η axes, often without a standard name; such a file is known
/// by its `angle` variable ("angle between XI-axis and EAST") or its `type` attribute. The
/// standard name those components would carry, so that they are rotated like any other
/// grid-relative pair ([`crate::grid::vectors`]).
fn roms_momentum_standard_name(meta: &FileMeta, variable: &str) -> Option<&'static str> {
    let roms = meta.vars.get("angle").is_some_and(|a| {
        a.text("long_name")
            .is_some_and(|l| l.to_ascii_lowercase().contains("xi-axis"))
    }) || meta.global.get("type").is_some_and(|t| {
        let t = t.to_string().to_ascii_uppercase();
        t.contains("ROMS") || t.contains("CROCO")
    });
    if !roms {
        return None;
    }
    match variable {
        "u" => Some("sea_water_x_velocity_at_u_location"),
        "v" => Some("sea_water_y_velocity_at_v_location"),
        "ubar" => Some("barotropic_sea_water_x_velocity_at_u_location"),
        "vbar" => Some("barotropic_sea_water_y_velocity_at_v_location"),
        _ => None,
    }
}

/// The index of the ocean level of dimension `dim` to read: the only one, or with `surface`
/// the one nearest the sea surface — the largest value of a coordinate that is `positive =
/// "up"` (ROMS/CROCO `s_rho` from −1 at the bottom to 0 at the top), else the smallest absolute
/// depth; a dimension without a coordinate variable is taken as ordered from the surface down
/// unless it is `s_rho` (bottom up).
fn surface_level_index(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    dim: &str,
    surface: bool,
) -> std::result::Result<usize, String> {
    let len = file.dimension(dim).map_or(0, |d| d.len());
    if len == 1 {
        return Ok(0);
    }
    let values = match meta.vars.get(dim) {
        Some(cv) if cv.dims.len() == 1 && cv.is_numeric() => {
            read_coord(path, file, meta, dim).map_err(|e| e.to_string())?
        }
        _ => Vec::new(),
    };
    let list = || {
        if values.is_empty() {
            format!("{len} levels")
        } else {
            format!(
                "{len} levels ({})",
                values
                    .iter()
                    .map(|v| format!("{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    if !surface {
        return Err(format!(
            "has {} along '{dim}': s2s reads one ocean level; select one first (cdo sellevidx,K IN OUT, or ncks -d {dim},K IN OUT) — s2s emergency takes the one nearest the surface by itself",
            list()
        ));
    }
    let up = meta
        .vars
        .get(dim)
        .and_then(|v| v.text("positive"))
        .map(|p| p.trim().eq_ignore_ascii_case("up"))
        .unwrap_or(dim.eq_ignore_ascii_case("s_rho"));
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return Ok(if up { len - 1 } else { 0 });
    }
    let key = |v: f64| if up { -v } else { v.abs() };
    Ok((0..values.len())
        .min_by(|&a, &b| key(values[a]).total_cmp(&key(values[b])))
        .unwrap_or(0))
}

/// The index of the wanted level (within 0.5 hPa), or the only one.
fn pick_level(levels: &[f64], wanted: Option<f64>) -> std::result::Result<usize, String> {
    let list = || {
        levels
            .iter()
            .map(|l| format!("{l}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(w) => levels
            .iter()
            .position(|l| (l - w).abs() <= 0.5)
            .ok_or_else(|| format!("no {w} hPa level; the levels are {} hPa", list())),
        None if levels.len() == 1 => Ok(0),
        None => Err(format!(
            "has {} pressure levels ({} hPa): choose one",
            levels.len(),
            list()
        )),
    }
}

/// The pressure levels (hPa) of a variable, empty when it has no level dimension.
pub fn pressure_levels(path: impl AsRef<Path>, variable: Option<&str>) -> Result<Vec<f64>> {
    let path = path.as_ref();
    let (file, meta, layout) = open_layout(path, variable, &DimMapping::default())?;
    match layout.dim(DimRole::Level) {
        Some(d) => level_axis(path, &file, &meta, &d.dim),
        None => Ok(Vec::new()),
    }
}

/// Opens a file and decides the layout of one of its variables (`None`: its only data
/// variable): what the metadata-only readers below share.
fn open_layout(
    path: &Path,
    variable: Option<&str>,
    dims: &DimMapping,
) -> Result<(netcdf::File, FileMeta, Layout)> {
    let file = open(path)?;
    let meta = file_meta(path, &file);
    let vm = choose_variable(path, &meta, variable)?;
    let layout = detect_layout(&meta, vm, dims).map_err(|reason| Error::Dimensions {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason,
    })?;
    Ok((file, meta, layout))
}

/// Whether a variable has a time coordinate: a time or start dimension, or a scalar
/// `valid_time`/`time`/`forecast_reference_time`. A variable without one (a static field, a
/// snapshot) is read only with [`ReadOptions::time`].
pub fn has_time_coordinate(
    path: impl AsRef<Path>,
    variable: Option<&str>,
    dims: &DimMapping,
) -> Result<bool> {
    let (_file, meta, layout) = open_layout(path.as_ref(), variable, dims)?;
    Ok(is_dated(&meta, &layout))
}

/// Whether a variable of this layout has a time coordinate: a time or start dimension, or a
/// scalar time of the file.
pub(crate) fn is_dated(meta: &FileMeta, layout: &super::detect::Layout) -> bool {
    layout.dim(DimRole::Time).is_some()
        || layout.dim(DimRole::Init).is_some()
        || scalar_time(meta).is_some()
}

/// The leads of a forecast variable (file order; empty for an observed series), without
/// reading its data: for reading a large file lead by lead.
pub fn read_leads(
    path: impl AsRef<Path>,
    variable: Option<&str>,
    dims: &DimMapping,
) -> Result<Vec<Lead>> {
    let path = path.as_ref();
    let (file, meta, layout) = open_layout(path, variable, dims)?;
    match layout.dim(DimRole::Lead) {
        Some(d) => lead_axis(path, &file, &meta, d),
        None => Ok(Vec::new()),
    }
}

/// The leads of a lead dimension, from its coordinate variable (or its indices).
///
/// CF cell bounds (`bounds = "lead_bnds"`, shape `(lead, 2)`, as s2s writes them) give each
/// lead's start and width exactly: a season `months 2–4` stays three months wide.
fn lead_axis(path: &Path, file: &netcdf::File, meta: &FileMeta, d: &Decided) -> Result<Vec<Lead>> {
    let cv = meta.vars.get(&d.dim);
    let vals = match cv {
        Some(_) => read_coord(path, file, meta, &d.dim)?,
        None => (0..d.len).map(|i| i as f64).collect(),
    };
    let bounds = cv
        .and_then(|v| v.text("bounds"))
        .and_then(|b| meta.vars.get(b))
        .filter(|b| b.shape == [d.len, 2]);
    if let (Some(b), false) = (bounds, is_forecast_month(&d.dim)) {
        let (unit, scale) = lead_unit(path, &d.dim, cv)?;
        let raw = read_coord(path, file, meta, &b.name)?;
        let ok = raw.chunks(2).all(|p| p[0].is_finite() && p[1] > p[0]);
        if ok {
            return Ok(raw
                .chunks(2)
                .map(|p| Lead {
                    start: p[0] * scale,
                    width: (p[1] - p[0]) * scale,
                    unit,
                })
                .collect());
        }
    }
    decode_leads(path, &d.dim, cv, &vals)
}

/// Only the horizontal layout of a variable (its grid or points), without reading its data:
/// what `--like FILE` needs.
pub fn read_spatial(
    path: impl AsRef<Path>,
    variable: Option<&str>,
    dims: &DimMapping,
) -> Result<Spatial> {
    let path = path.as_ref();
    let file = open(path)?;
    let meta = file_meta(path, &file);
    let vm = choose_variable(path, &meta, variable)?.clone();
    let layout = detect_layout(&meta, &vm, dims).map_err(|reason| Error::Dimensions {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason,
    })?;
    Ok(plan_spatial(path, &file, &meta, &vm, &layout, None)?.spatial)
}

/// For the x and then the y axis of `variable`'s curvilinear or projected grid: `-1.0` when
/// the dimension's own coordinate variable (a projection coordinate) decreases along the index,
/// else `1.0`. A grid-relative vector component points along its axis's coordinate (+x, +y),
/// while the grid's geometry gives the direction of the increasing index: an NSIDC
/// polar-stereographic file stores `y` from north to south, so its `v` points against the rows
/// ([`crate::grid::vectors::to_east_north`] takes these signs). Axes without a coordinate
/// variable (ROMS `xi_rho`, NEMO `x`) follow their index: `1.0`.
pub fn grid_axis_signs(
    path: impl AsRef<Path>,
    variable: Option<&str>,
    dims: &DimMapping,
) -> Result<[f64; 2]> {
    let path = path.as_ref();
    let (file, meta, layout) = open_layout(path, variable, dims)?;
    let sign = |role: DimRole| -> Result<f64> {
        let Some(d) = layout.dim(role) else {
            return Ok(1.0);
        };
        match meta.vars.get(&d.dim) {
            Some(cv) if cv.dims.len() == 1 && cv.dims[0] == d.dim && cv.is_numeric() => {
                let c = read_coord(path, &file, &meta, &d.dim)?;
                let descending = c.len() > 1 && c.windows(2).all(|w| w[1] < w[0]);
                Ok(if descending { -1.0 } else { 1.0 })
            }
            _ => Ok(1.0),
        }
    };
    Ok([sign(DimRole::GridX)?, sign(DimRole::GridY)?])
}

/// The horizontal part of a plan: which file indices give which output cells.
struct SpatialPlan {
    spatial: Spatial,
    /// Output order of file indices along the y dimension (`None` = no such dimension).
    y_idx: Option<Vec<usize>>,
    /// Output order of file indices along the x (or location) dimension.
    x_idx: Option<Vec<usize>>,
}

impl SpatialPlan {
    /// Only the rows of a lat/lon grid within `[south, north]` ([`ReadOptions::lat_band`]).
    fn lat_band(self, (south, north): (f64, f64)) -> std::result::Result<SpatialPlan, String> {
        let (Spatial::Grid { lat, lon }, Some(y_idx)) = (&self.spatial, &self.y_idx) else {
            return Err(format!(
                "a band of latitudes is read only from a lat/lon grid, not from {}",
                self.spatial.describe()
            ));
        };
        let keep: Vec<usize> = (0..lat.len())
            .filter(|&i| lat[i] >= south && lat[i] <= north)
            .collect();
        if keep.is_empty() {
            return Err(format!(
                "no latitude of the grid lies in the band {south}..{north}"
            ));
        }
        Ok(SpatialPlan {
            spatial: Spatial::Grid {
                lat: keep.iter().map(|&i| lat[i]).collect(),
                lon: lon.clone(),
            },
            y_idx: Some(keep.iter().map(|&i| y_idx[i]).collect()),
            x_idx: self.x_idx,
        })
    }
}

fn plan_spatial(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    vm: &VarMeta,
    layout: &Layout,
    bbox: Option<&BBox>,
) -> Result<SpatialPlan> {
    let gerr = |reason: String| Error::Grid {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason,
    };
    match &layout.spatial {
        SpatialVars::Index => Ok(SpatialPlan {
            spatial: Spatial::index_series(&vm.name),
            y_idx: None,
            x_idx: None,
        }),
        SpatialVars::Grid { lat, lon } => {
            let lat_v = if meta.vars.contains_key(lat) {
                read_coord(path, file, meta, lat)?
            } else {
                return Err(gerr(format!(
                    "latitude dimension '{lat}' has no coordinate variable"
                )));
            };
            let lon_v = if meta.vars.contains_key(lon) {
                read_coord(path, file, meta, lon)?
            } else {
                return Err(gerr(format!(
                    "longitude dimension '{lon}' has no coordinate variable"
                )));
            };
            if lat_v
                .iter()
                .any(|v| !v.is_finite() || v.abs() > 90.0 + 1e-6)
            {
                return Err(gerr(format!(
                    "latitude '{lat}' has values outside -90..90 or missing"
                )));
            }
            if lon_v.iter().any(|v| !v.is_finite()) {
                return Err(gerr(format!("longitude '{lon}' has missing values")));
            }
            // degrees east in one of the usual windows (-180..180, 0..360) or a rotated one;
            // anything beyond ±720 is not a longitude in degrees (radians are below 7)
            if let Some(v) = lon_v.iter().find(|v| v.abs() > MAX_ABS_LONGITUDE_DEG) {
                return Err(gerr(format!(
                    "longitude '{lon}' has the value {v:e}, not a longitude in degrees (expected within ±{MAX_ABS_LONGITUDE_DEG})"
                )));
            }
            let ascending = lat_v.windows(2).all(|w| w[1] > w[0]);
            let descending = lat_v.windows(2).all(|w| w[1] < w[0]);
            if !ascending && !descending {
                return Err(gerr(format!("latitude '{lat}' is not monotonic")));
            }
            // Latitude: south → north, inside the box.
            let mut ys: Vec<usize> = (0..lat_v.len()).collect();
            if descending {
                ys.reverse();
            }
            if let Some(b) = bbox {
                ys.retain(|&i| (b.south..=b.north).contains(&lat_v[i]));
            }
            // Longitude: ascending, inside the box; without a box in the file's own convention
            // ([`own_lon_window`]).
            let (lo, w, e) = match bbox {
                Some(b) => b.lon_window(),
                None => {
                    let lo = own_lon_window(&lon_v);
                    (lo, lo, lo + 360.0)
                }
            };
            let mut xs: Vec<(f64, usize)> = lon_v
                .iter()
                .enumerate()
                .map(|(i, &l)| (wrap_lon(l, lo), i))
                .filter(|&(l, _)| bbox.is_none() || (l >= w && l <= e))
                .collect();
            xs.sort_by(|a, b| a.0.total_cmp(&b.0));
            if xs.windows(2).any(|p| (p[1].0 - p[0].0).abs() < 1e-9) {
                return Err(gerr(format!(
                    "longitude '{lon}' repeats a value (after wrapping to {lo}..{})",
                    lo + 360.0
                )));
            }
            if ys.is_empty() || xs.is_empty() {
                return Err(gerr(format!(
                    "the box {:?} holds no grid cell (lat {:.2}..{:.2}, lon {:.2}..{:.2})",
                    bbox,
                    lat_v.iter().copied().fold(f64::INFINITY, f64::min),
                    lat_v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    lon_v.iter().copied().fold(f64::INFINITY, f64::min),
                    lon_v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                )));
            }
            Ok(SpatialPlan {
                spatial: Spatial::Grid {
                    lat: ys.iter().map(|&i| lat_v[i]).collect(),
                    lon: xs.iter().map(|p| p.0).collect(),
                },
                y_idx: Some(ys),
                x_idx: Some(xs.iter().map(|p| p.1).collect()),
            })
        }
        SpatialVars::Curvilinear { lat, lon } => {
            if bbox.is_some() {
                return Err(gerr("cutting a box from a curvilinear grid is not supported; regrid onto a regular grid first".into()));
            }
            let la = read_coord_2d(path, file, meta, lat)?;
            let lo = read_coord_2d(path, file, meta, lon)?;
            let (ny, nx) = la.dim();
            Ok(SpatialPlan {
                spatial: Spatial::Curvilinear { lat: la, lon: lo },
                y_idx: Some((0..ny).collect()),
                x_idx: Some((0..nx).collect()),
            })
        }
        SpatialVars::Projected { y, x, mapping } => {
            if bbox.is_some() {
                return Err(gerr("cutting a box from a projected grid is not supported; regrid onto a regular grid first (s2s regrid --method distance)".into()));
            }
            let gm = &meta.vars[mapping];
            let projection = crate::grid::projection::GridMapping::from_cf(
                |k| gm.text(k).map(str::to_string),
                |k| gm.attrs.get(k).map(AttrValue::as_numbers),
            )
            .map_err(|e| gerr(format!("grid mapping '{mapping}': {e}")))?;
            let in_metres = |name: &str| -> Result<Vec<f64>> {
                let v = read_coord(path, file, meta, name)?;
                let units = crate::units::normalise(meta.vars[name].text("units").unwrap_or("m"));
                let k = match units.as_str() {
                    "km" | "kilometer" | "kilometers" | "kilometre" | "kilometres" => 1000.0,
                    "m" | "meter" | "meters" | "metre" | "metres" | "" => 1.0,
                    other => {
                        return Err(gerr(format!(
                            "projection coordinate '{name}' has units '{other}'; expected m or km"
                        )))
                    }
                };
                Ok(v.into_iter().map(|x| x * k).collect())
            };
            let (yv, xv) = (in_metres(y)?, in_metres(x)?);
            let (la, lo) = crate::grid::projection::lat_lon_of(&projection, &xv, &yv)?;
            let (ny, nx) = la.dim();
            Ok(SpatialPlan {
                spatial: Spatial::Curvilinear { lat: la, lon: lo },
                y_idx: Some((0..ny).collect()),
                x_idx: Some((0..nx).collect()),
            })
        }
        SpatialVars::Points { lat, lon } => {
            let dim = layout
                .dim(DimRole::Location)
                .map(|d| d.dim.clone())
                .unwrap_or_default();
            let n = layout.dim(DimRole::Location).map_or(0, |d| d.len);
            let la = match lat {
                Some(l) => read_coord(path, file, meta, l)?,
                None => vec![f64::NAN; n],
            };
            let lo = match lon {
                Some(l) => read_coord(path, file, meta, l)?,
                None => vec![f64::NAN; n],
            };
            let names = point_names(file, meta, &dim, n);
            let mut xs: Vec<usize> = (0..n).collect();
            if let Some(b) = bbox {
                xs.retain(|&i| b.contains(la[i], lo[i]));
                if xs.is_empty() {
                    return Err(gerr(format!("the box {b:?} holds none of the {n} points")));
                }
            }
            Ok(SpatialPlan {
                spatial: Spatial::Points {
                    lat: xs.iter().map(|&i| la[i]).collect(),
                    lon: xs.iter().map(|&i| wrap_lon(lo[i], -180.0)).collect(),
                    names: xs.iter().map(|&i| names[i].clone()).collect(),
                },
                y_idx: None,
                x_idx: Some(xs),
            })
        }
    }
}

/// Station names from a string coordinate of the location dimension (or a `station_name`-like
/// variable), else "point N".
fn point_names(file: &netcdf::File, meta: &FileMeta, dim: &str, n: usize) -> Vec<String> {
    let candidates = [
        dim,
        "station_name",
        "station",
        "name",
        "site_name",
        "station_id",
    ];
    for c in candidates {
        let Some(vm) = meta.vars.get(c) else { continue };
        let chars = vm.dtype == "char" && vm.dims.len() == 2 && vm.dims[0] == dim;
        if vm.dims != [dim.to_string()] && !chars {
            continue;
        }
        if let Some(v) = file.variable(c) {
            if chars {
                if let Ok(bytes) = v.get_raw_values(..) {
                    let width = vm.shape[1].max(1);
                    let names: Vec<String> = bytes
                        .chunks(width)
                        .take(n)
                        .map(|b| {
                            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                            String::from_utf8_lossy(&b[..end]).trim().to_string()
                        })
                        .collect();
                    if names.len() == n {
                        return names;
                    }
                }
            } else if vm.dtype == "string" {
                let names: Option<Vec<String>> = (0..n).map(|i| v.get_string(i).ok()).collect();
                if let Some(names) = names {
                    return names;
                }
            } else if vm.is_numeric() {
                if let Ok(vals) = v.get_values::<f64, _>(..) {
                    return vals.iter().map(|x| format!("{x}")).collect();
                }
            }
        }
    }
    (0..n).map(|i| format!("point {i}")).collect()
}

fn read_variable(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    vm: &VarMeta,
    opts: &ReadOptions,
) -> Result<Cube> {
    let derr = |reason: String| Error::Dimensions {
        path: path.to_path_buf(),
        variable: vm.name.clone(),
        reason,
    };
    if !vm.is_numeric() {
        return Err(derr(format!("is of type {}, not numeric", vm.dtype)));
    }
    if let Some(cube) = read_member_parts(path, file, meta, vm, opts)? {
        return Ok(cube);
    }
    let layout = detect_layout(meta, vm, &opts.dims).map_err(derr)?;
    let var = file.variable(&vm.name).ok_or_else(|| {
        derr("is listed by libnetcdf but cannot be opened by its name (a damaged name?)".into())
    })?;
    let stored = stored_type(&var)
        .ok_or_else(|| derr(format!("type {} cannot be read as numbers", vm.dtype)))?;

    // ---- time axis: start dates (forecast) or time stamps (observed series) ----
    let time_dim = layout
        .dim(DimRole::Init)
        .or_else(|| layout.dim(DimRole::Time));
    let kind = if layout.dim(DimRole::Init).is_some() || layout.dim(DimRole::Lead).is_some() {
        CubeKind::Forecast
    } else {
        CubeKind::Observed
    };
    // Time steps whose time value is missing (it happens: the BoM RMM series has one) are
    // dropped; the history says how many.
    let (mut init, calendar, init_ok) = match time_dim {
        Some(d) => match meta.vars.get(&d.dim) {
            Some(cv) => {
                let vals = read_coord(path, file, meta, &d.dim)?;
                let ok: Vec<bool> = vals.iter().map(|v| v.is_finite()).collect();
                let finite: Vec<f64> = vals
                    .iter()
                    .map(|v| if v.is_finite() { *v } else { 0.0 })
                    .collect();
                let (dates, cal) = decode_times(path, cv, &finite)?;
                (dates, cal, ok)
            }
            None => {
                return Err(derr(format!(
                    "time dimension '{}' has no coordinate variable",
                    d.dim
                )))
            }
        },
        // No time dimension: a scalar time coordinate (cfgrib's `valid_time`, `time`,
        // `forecast_reference_time`) dates the single field; without one, the date given by
        // the user (`--time`), or a refusal.
        None => match scalar_time(meta) {
            Some(name) => {
                let vals = read_coord(path, file, meta, name)?;
                let (dates, cal) = decode_times(path, &meta.vars[name], &vals)?;
                let ok = vals.iter().map(|v| v.is_finite()).collect();
                (dates, cal, ok)
            }
            None => match opts.time {
                Some(t) => (vec![t], Calendar::Standard, vec![true]),
                None => {
                    return Err(derr(
                        "no time coordinate (no time dimension and no scalar valid_time, time or forecast_reference_time): give its date with --time 2025-12-01T00 (s2s inspect, s2s regrid), or add one: `cdo -settaxis,2025-12-01,00:00:00 IN OUT`".into(),
                    ))
                }
            },
        },
    };
    let mut init_idx: Vec<usize> = (0..init.len()).filter(|&i| init_ok[i]).collect();
    let dropped_times = init.len() - init_idx.len();
    // A forecast's start date is never legitimately missing: a hole there means the file is
    // damaged, and dropping the start would pair the others with the wrong observations.
    if kind == CubeKind::Forecast && dropped_times > 0 {
        let k = init_ok.iter().position(|ok| !ok).unwrap_or(0);
        return Err(derr(format!(
            "start date {} of {} is missing (NaN or fill value in the time coordinate): repair the time coordinate, e.g. with cdo settaxis",
            k + 1,
            init.len()
        )));
    }
    if init_idx.is_empty() {
        return Err(derr("every time value is missing".into()));
    }
    if let Some((y0, y1)) = opts.years {
        init_idx.retain(|&i| (y0..=y1).contains(&init[i].year));
        if init_idx.is_empty() {
            return Err(Error::invalid(
                "years",
                format!(
                    "{}: no {} in {y0}-{y1}",
                    path.display(),
                    if kind == CubeKind::Forecast {
                        "start date"
                    } else {
                        "time step"
                    }
                ),
            ));
        }
    }

    // ---- leads ----
    let mut leads = match layout.dim(DimRole::Lead) {
        Some(d) => lead_axis(path, file, meta, d)?,
        None if kind == CubeKind::Observed => {
            let good: Vec<CfDateTime> = init_idx.iter().map(|&i| init[i]).collect();
            vec![cadence(&good, calendar)]
        }
        None => vec![Lead::months(0.0, 1.0)],
    };
    let mut lead_idx: Vec<usize> = (0..leads.len()).collect();
    if let Some(sel) = &opts.leads {
        if let Some(&bad) = sel.iter().find(|&&i| i >= leads.len()) {
            return Err(Error::invalid(
                "leads",
                format!(
                    "{}: lead index {bad} out of range (the file has {})",
                    path.display(),
                    leads.len()
                ),
            ));
        }
        if layout.dim(DimRole::Lead).is_none() && sel.iter().any(|&i| i > 0) {
            return Err(Error::invalid(
                "leads",
                format!("{}: the variable has no lead dimension", path.display()),
            ));
        }
        lead_idx = sel.clone();
    }

    // ---- members ----
    // A member coordinate of labels (strings, e.g. a category axis read as members) is
    // numbered instead.
    let numeric_coord = |name: &str| file.variable(name).and_then(|v| stored_type(&v)).is_some();
    let members: Vec<i32> = match layout.dim(DimRole::Member) {
        Some(d) if meta.vars.contains_key(&d.dim) && numeric_coord(&d.dim) => {
            read_coord(path, file, meta, &d.dim)?
                .iter()
                .enumerate()
                .map(|(i, v)| if v.is_finite() { *v as i32 } else { i as i32 })
                .collect()
        }
        Some(d) => (0..d.len as i32).collect(),
        None => vec![0],
    };

    let sp = plan_spatial(path, file, meta, vm, &layout, opts.bbox.as_ref())?;
    let sp = match opts.lat_band {
        Some(band) => sp.lat_band(band).map_err(|reason| Error::Grid {
            path: path.to_path_buf(),
            variable: vm.name.clone(),
            reason,
        })?,
        None => sp,
    };

    // ---- a block of the time steps ----
    let source_time_steps = match opts.time_steps {
        Some(steps) => {
            let total = init_idx.len();
            init_idx = init_idx[time_step_block(path, steps, total)?].to_vec();
            Some(total)
        }
        None => None,
    };

    // ---- hyperslab: per file dimension, a covering range and the selection inside it ----
    // A box across the file's longitude seam covers both ends of the longitude range: that
    // range is read once and the cells are picked in memory (with one map per chunk, HDF5 reads
    // whole chunks anyway; two separate runs would visit every chunk twice).
    let mut ext: Vec<Extent> = Vec::with_capacity(layout.dims.len());
    let mut select: Vec<Option<Vec<usize>>> = Vec::with_capacity(layout.dims.len());
    for d in &layout.dims {
        let idx: Option<&Vec<usize>> = match d.role {
            DimRole::Init | DimRole::Time => Some(&init_idx),
            DimRole::Lead => Some(&lead_idx),
            DimRole::Lat | DimRole::GridY => sp.y_idx.as_ref(),
            DimRole::Lon | DimRole::GridX | DimRole::Location => sp.x_idx.as_ref(),
            DimRole::Member => None,
            DimRole::Singleton => {
                ext.push(Extent::Index(0));
                select.push(None);
                continue;
            }
            DimRole::Depth => {
                let k = surface_level_index(path, file, meta, &d.dim, opts.surface_level).map_err(
                    |reason| Error::Dimensions {
                        path: path.to_path_buf(),
                        variable: vm.name.clone(),
                        reason,
                    },
                )?;
                ext.push(Extent::Index(k));
                select.push(None);
                continue;
            }
            DimRole::Level => {
                let levels = level_axis(path, file, meta, &d.dim)?;
                let k =
                    pick_level(&levels, opts.level_hpa).map_err(|reason| Error::Dimensions {
                        path: path.to_path_buf(),
                        variable: vm.name.clone(),
                        reason,
                    })?;
                ext.push(Extent::Index(k));
                select.push(None);
                continue;
            }
        };
        match idx {
            Some(idx) => {
                let ((start, count), rel) = cover(idx);
                ext.push(Extent::SliceCount {
                    start,
                    count,
                    stride: 1,
                });
                let identity = rel.len() == count && rel.iter().enumerate().all(|(i, &r)| i == r);
                select.push(if identity { None } else { Some(rel) });
            }
            None => {
                ext.push(Extent::SliceCount {
                    start: 0,
                    count: d.len,
                    stride: 1,
                });
                select.push(None);
            }
        }
    }

    if let Some(problem) = Packing::attribute_problem(&vm.attrs) {
        return Err(Error::Data {
            path: path.to_path_buf(),
            variable: vm.name.clone(),
            reason: format!("{problem}: fix the attribute (ncatted) before reading the file"),
        });
    }
    let packing = Packing::from_attrs(&vm.attrs, stored);
    let (mut values, mut read_summary) = read_in_slabs(
        path, &var, &vm.name, stored, &packing, &layout, &ext, &select,
    )?;
    init = init_idx.iter().map(|&i| init[i]).collect();
    leads = lead_idx.iter().map(|&i| leads[i]).collect();

    // ---- metadata, units ----
    let standard_name = vm
        .text("standard_name")
        .map(str::to_string)
        .or_else(|| roms_momentum_standard_name(meta, &vm.name).map(str::to_string));
    let long_name = vm.text("long_name").map(|s| s.trim().to_string());
    // A per-member part of the CDO layout (`tasmax_member02`) is the quantity of its family.
    let family = vm.text(super::write::ND_VARIABLE_ATTR).unwrap_or(&vm.name);
    let quantity = Quantity::detect(family, standard_name.as_deref(), long_name.as_deref());
    let (units_in, _) = units_to_read(vm, opts);
    let model = opts.model.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let history = Vec::new();
    let mut attributes = std::collections::BTreeMap::new();
    if let Some(h) = meta.global.get("history").and_then(AttrValue::as_text) {
        attributes.insert("history".to_string(), h.to_string());
    }
    for key in ["cell_methods", "comment"] {
        if let Some(t) = vm.text(key) {
            attributes.insert(key.to_string(), t.to_string());
        }
    }
    // A per-label variable of an s2s product keeps what it is part of (so a regridded
    // product is still read as one): the s2s_nd_* attributes, the index as text.
    for (key, value) in vm.attrs.iter().filter(|(k, _)| k.starts_with("s2s_nd_")) {
        let text = match value {
            AttrValue::Text(t) => t.clone(),
            AttrValue::Numbers(n) => n
                .iter()
                .map(|x| format!("{x}"))
                .collect::<Vec<_>>()
                .join(" "),
        };
        attributes.insert(key.clone(), text);
    }
    attributes.insert("source_file".into(), path.display().to_string());
    let mut cube_meta = Meta {
        model,
        variable: vm.name.clone(),
        standard_name,
        long_name,
        units: units_in.clone(),
        quantity,
        calendar,
        kind,
        history,
        attributes,
        season: None,
        provisional_divisor: None,
        source_time_steps,
    };
    let yearly_series =
        kind == CubeKind::Observed && leads.first().is_some_and(Lead::is_yearly_cadence);
    let season = if yearly_series {
        opts.season.or_else(|| {
            time_dim.and_then(|d| meta.vars.get(&d.dim)).and_then(|cv| {
                season_of_time_bounds(path, file, meta, cv, init_idx.first().copied())
            })
        })
    } else {
        None
    };
    cube_meta.season = season;
    if dropped_times > 0 {
        cube_meta.history.push(format!(
            "dropped {dropped_times} time step(s) whose time value is missing"
        ));
    }
    // The summary taken while reading holds unless the valid range masks values below.
    if let Some((lo, hi)) = packing.valid_range_unpacked() {
        read_summary = None;
        let kept = values
            .iter()
            .filter(|v| (lo..=hi).contains(&f64::from(**v)))
            .count();
        let finite = values.iter().filter(|v| v.is_finite()).count();
        if kept == 0 && finite > 0 {
            cube_meta.history.push(format!(
                "valid range {lo}..{hi} ignored: it would mask every one of the {finite} values (metadata in other units than the data?)"
            ));
        } else {
            values.mapv_inplace(|v| {
                if (lo..=hi).contains(&f64::from(v)) {
                    v
                } else {
                    f32::NAN
                }
            });
        }
    }
    let (mut mn, mut mx, mut n_finite) = read_summary.unwrap_or_else(|| summary_of(&values));
    if n_finite == 0 && !opts.allow_all_missing && opts.checks_whole_field() {
        return Err(Error::Data {
            path: path.to_path_buf(),
            variable: vm.name.clone(),
            reason: format!(
                "all {} values read are missing (masked: {})",
                values.len(),
                describe_masking(&packing)
            ),
        });
    }
    if !opts.keep_units {
        let uerr = |reason: String| Error::Units {
            path: path.to_path_buf(),
            variable: vm.name.clone(),
            reason,
        };
        let conv = Conversion::to_canonical(quantity, &units_in).map_err(uerr)?;
        let deaccumulated = if conv.per_period != crate::units::PeriodDivisor::None {
            deaccumulate_if_accumulated(&mut values, &mut leads, &vm.name)
        } else {
            false
        };
        if !conv.is_identity() {
            if yearly_series && conv.per_period != crate::units::PeriodDivisor::None {
                let p = convert_yearly(&mut values, &conv, &init, calendar, season)
                    .map_err(|e| uerr(e.to_string()))?;
                cube_meta.history.push(match (p, season) {
                    (_, Some(s)) => format!("values stamped once a year taken as {s} amounts (--obs-season or the time bounds) and converted over the days of each {s}"),
                    (Some(p), None) => format!("values stamped once a year in '{units_in}' over an unknown period: converted with a stand-in of {:.4} days, rescaled to the length of the target period each is matched with (--obs-season names the season)", p.days),
                    (None, None) => String::new(),
                });
                cube_meta.provisional_divisor = p;
                (mn, mx, n_finite) = summary_of(&values);
            } else {
                (mn, mx, n_finite) =
                    apply_conversion(&mut values, &conv, &init, &leads, calendar, kind)
                        .map_err(|e| uerr(e.to_string()))?;
            }
        }
        if let Some(canon) = quantity.canonical_units() {
            if !conv.is_identity() || deaccumulated {
                cube_meta.history.push(format!(
                    "converted from '{units_in}' to '{canon}'{}",
                    if deaccumulated {
                        " after de-accumulating along lead"
                    } else {
                        ""
                    }
                ));
            }
            cube_meta.units = canon.to_string();
        }
        if let Some((lo, hi)) = quantity.plausible_range() {
            let (mn, mx) = (f64::from(mn), f64::from(mx));
            if quantity == Quantity::Precipitation
                && !opts.part_of_set
                && opts.checks_whole_field()
                && super::whole_field_checks()
            {
                implausibly_dry(n_finite, mx, &units_in).map_err(uerr)?;
                implausibly_wet(values.iter(), &units_in).map_err(uerr)?;
            }
            if mn < lo || mx > hi {
                return Err(uerr(format!(
                    "values {mn:.4}..{mx:.4} {} (from units '{units_in}') are implausible for {:?} (expected {lo}..{hi}); are the units right? (--assume-units overrides them)",
                    cube_meta.units, quantity
                )));
            }
            // One rule for negative precipitation everywhere: small negatives (numerical noise
            // of models, packing and analyses, above the plausible floor) become 0, counted in
            // the history; larger ones were refused above.
            if quantity == Quantity::Precipitation && mn < 0.0 {
                let mut clipped = 0usize;
                for v in values.iter_mut().filter(|v| **v < 0.0) {
                    *v = 0.0;
                    clipped += 1;
                }
                cube_meta.history.push(format!(
                    "{clipped} small negative values (down to {mn:.3} mm/day, above the plausible floor {lo} mm/day) set to 0"
                ));
            }
        }
    }
    let coords = Coords {
        init,
        member: members,
        lead: leads,
        spatial: sp.spatial,
    };
    Cube::new(values, coords, cube_meta)
}

fn describe_masking(p: &Packing) -> String {
    let mut parts: Vec<String> = p.missing.iter().map(|m| format!("{m}")).collect();
    parts.push("NaN".into());
    if let Some(lo) = p.valid_min {
        parts.push(format!("< {lo}"));
    }
    if let Some(hi) = p.valid_max {
        parts.push(format!("> {hi}"));
    }
    parts.join(", ")
}

/// Reads one hyperslab and decodes it to f32 (file dimension order, singletons dropped).
fn read_decoded(
    path: &Path,
    var: &netcdf::Variable,
    name: &str,
    stored: StoredType,
    packing: &Packing,
    ext: Vec<Extent>,
) -> Result<ArrayD<f32>> {
    Ok(match stored {
        StoredType::Float => {
            let mut a: ArrayD<f32> = var
                .get::<f32, _>(ext)
                .map_err(|e| netcdf_err(path, &format!("reading '{name}'"), e))?;
            if let Some(s) = a.as_slice_memory_order_mut() {
                packing.decode_f32_in_place(s);
            }
            a
        }
        _ => {
            let a: ArrayD<f64> = var
                .get::<f64, _>(ext)
                .map_err(|e| netcdf_err(path, &format!("reading '{name}'"), e))?;
            let mut out = ArrayD::<f32>::zeros(a.raw_dim());
            match (a.as_slice_memory_order(), out.as_slice_memory_order_mut()) {
                (Some(r), Some(o)) => packing.decode_f64(r, o),
                _ => unreachable!("freshly read arrays are contiguous"),
            }
            out
        }
    })
}

/// Largest magnitude of a longitude in degrees: files use -180..180, 0..360 and, for
/// rotated or unwrapped grids, up to 540 or 720.
const MAX_ABS_LONGITUDE_DEG: f64 = 720.0;

/// Largest slab read at once: libnetcdf holds a second buffer of a read's size, so reading
/// a variable in slabs keeps the peak near the variable's own size.
const SLAB_BYTES: usize = 8 << 20;

/// The smallest and largest value and the count of finite values ([`crate::stats::finite_summary`]).
type Summary = (f32, f32, usize);

/// The [`Summary`] of a whole read array.
fn summary_of(values: &Array5<f32>) -> Summary {
    finite_summary(
        values
            .as_slice_memory_order()
            .expect("read arrays are contiguous"),
    )
}

/// Reads the hyperslab `ext` (with in-memory selections `select`) slab by slab along the first
/// file dimension, straight into the canonical `(init, member, lead, y, x)` array; with the
/// values' summary where it was taken slab by slab as they were decoded (still in cache).
#[allow(clippy::too_many_arguments)]
fn read_in_slabs(
    path: &Path,
    var: &netcdf::Variable,
    name: &str,
    stored: StoredType,
    packing: &Packing,
    layout: &Layout,
    ext: &[Extent],
    select: &[Option<Vec<usize>>],
) -> Result<(Array5<f32>, Option<Summary>)> {
    let range = |e: &Extent| match *e {
        Extent::SliceCount { start, count, .. } => (start, count),
        _ => (0, 1),
    };
    let out_len = |k: usize| select[k].as_ref().map_or(range(&ext[k]).1, Vec::len);
    let mut shape = [1usize; 5];
    for (k, d) in layout.dims.iter().enumerate() {
        if let Some(t) = d.role.cube_axis() {
            shape[t] = out_len(k);
        }
    }
    let Some(k0) = layout
        .dims
        .iter()
        .position(|d| !matches!(d.role, DimRole::Singleton | DimRole::Level | DimRole::Depth))
    else {
        let raw = read_decoded(path, var, name, stored, packing, ext.to_vec())?;
        return Ok((to_canonical_order(raw, layout, select)?, None));
    };
    let t0 = layout.dims[k0].role.cube_axis().expect("not a singleton");
    let n0 = out_len(k0);
    let total: usize = shape.iter().product();
    let bytes_per_index = (total / n0.max(1)) * if stored == StoredType::Float { 4 } else { 12 };
    let per = (SLAB_BYTES / bytes_per_index.max(1)).clamp(1, n0.max(1));
    let (start0, _) = range(&ext[k0]);
    crate::memory::check_allocation(
        &format!("'{name}' of {}", path.display()),
        &shape,
        4,
        "read fewer start dates, members or leads, or a smaller box (--bbox)",
    )?;
    let mut values = Array5::<f32>::zeros(shape);
    // libnetcdf fills it on this thread alone: its page faults are taken in parallel first
    if let Some(fresh) = values.as_slice_mut() {
        crate::memory::touch_pages_in_parallel(fresh);
    }
    // Fast path: f32 stored in canonical order, no selection except along the innermost
    // dimension (a longitude rotation or a box), nothing outside the first dimension's axis:
    // each slab is read by libnetcdf into one reused buffer (or straight into its place) and
    // its rows copied as runs of consecutive indices — no per-slab allocation.
    let targets: Vec<usize> = layout
        .dims
        .iter()
        .filter_map(|d| d.role.cube_axis())
        .collect();
    let last = select.len().saturating_sub(1);
    if stored == StoredType::Float
        && select[..last].iter().all(Option::is_none)
        && k0 != last
        && targets.windows(2).all(|w| w[0] < w[1])
        && shape[..t0].iter().all(|&n| n == 1)
    {
        let inner = total / n0.max(1);
        let out = values.as_slice_mut().expect("a fresh array is contiguous");
        let row_in = range(&ext[last]).1;
        let inner_sel = select[last].as_ref();
        let runs: Vec<(usize, usize, usize)> =
            inner_sel.map_or_else(Vec::new, |idx| index_runs(idx));
        let row_out = inner_sel.map_or(row_in, Vec::len);
        let inner_in = inner / row_out.max(1) * row_in;
        let mut buf: Vec<f32> = Vec::new();
        let mut summary = (f32::INFINITY, f32::NEG_INFINITY, 0);
        for p0 in (0..n0).step_by(per) {
            let p1 = (p0 + per).min(n0);
            let mut e = ext.to_vec();
            e[k0] = Extent::SliceCount {
                start: start0 + p0,
                count: p1 - p0,
                stride: 1,
            };
            let dst = &mut out[p0 * inner..p1 * inner];
            let read_err = |err| netcdf_err(path, &format!("reading '{name}'"), err);
            if inner_sel.is_none() {
                var.get_values_into(dst, e).map_err(read_err)?;
                packing.decode_f32_in_place(dst);
                summary = merge_finite_summaries(summary, finite_summary(dst));
                continue;
            }
            buf.resize((p1 - p0) * inner_in, 0.0);
            var.get_values_into(&mut buf, e).map_err(read_err)?;
            packing.decode_f32_in_place(&mut buf);
            for (src, row) in buf.chunks_exact(row_in).zip(dst.chunks_exact_mut(row_out)) {
                for &(o, i, len) in &runs {
                    row[o..o + len].copy_from_slice(&src[i..i + len]);
                }
            }
            summary = merge_finite_summaries(summary, finite_summary(dst));
        }
        return Ok((values, Some(summary)));
    }
    for p0 in (0..n0).step_by(per) {
        let p1 = (p0 + per).min(n0);
        let file_idx: Vec<usize> = (p0..p1)
            .map(|p| start0 + select[k0].as_ref().map_or(p, |s| s[p]))
            .collect();
        let lo = *file_idx.iter().min().expect("non-empty slab");
        let hi = *file_idx.iter().max().expect("non-empty slab");
        let mut e = ext.to_vec();
        e[k0] = Extent::SliceCount {
            start: lo,
            count: hi + 1 - lo,
            stride: 1,
        };
        let mut sel = select.to_vec();
        let rel: Vec<usize> = file_idx.iter().map(|i| i - lo).collect();
        sel[k0] = if rel.len() == hi + 1 - lo && rel.iter().enumerate().all(|(i, &r)| i == r) {
            None
        } else {
            Some(rel)
        };
        let raw = read_decoded(path, var, name, stored, packing, e)?;
        let chunk = to_canonical_order(raw, layout, &sel)?;
        values
            .slice_axis_mut(Axis(t0), ndarray::Slice::from(p0..p1))
            .assign(&chunk);
    }
    Ok((values, None))
}

/// Puts a read slab (file dimension order, singletons already dropped) into
/// `(init, member, lead, y, x)` order, applying selections.
fn to_canonical_order(
    raw: ArrayD<f32>,
    layout: &Layout,
    select: &[Option<Vec<usize>>],
) -> Result<Array5<f32>> {
    let mut arr = raw;
    let mut targets: Vec<usize> = Vec::new();
    let mut axis_pos = 0;
    for (d, sel) in layout.dims.iter().zip(select) {
        let Some(target) = d.role.cube_axis() else {
            continue;
        };
        if let Some(idx) = sel {
            arr = select_axis(&arr, axis_pos, idx);
        }
        targets.push(target);
        axis_pos += 1;
    }
    // Permute present axes into ascending target order, then insert the absent ones.
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by_key(|&i| targets[i]);
    let mut arr = arr.permuted_axes(IxDyn(&order));
    let mut present: Vec<usize> = order.iter().map(|&i| targets[i]).collect();
    for t in 0..5 {
        if !present.contains(&t) {
            let pos = present.iter().filter(|&&p| p < t).count();
            arr = arr.insert_axis(Axis(pos));
            present.insert(pos, t);
        }
    }
    let arr = arr
        .into_dimensionality::<Ix5>()
        .expect("five axes after inserting the absent ones");
    Ok(if arr.is_standard_layout() {
        arr
    } else {
        arr.as_standard_layout().into_owned()
    })
}

/// `(out start, in start, length)` of the runs of consecutive indices in `idx`: a longitude
/// rotation 0–360° → −180–180° is two runs, a box one.
fn index_runs(idx: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (o, &i) in idx.iter().enumerate() {
        match runs.last_mut() {
            Some((os, is, len)) if *os + *len == o && *is + *len == i => *len += 1,
            _ => runs.push((o, i, 1)),
        }
    }
    runs
}

/// `arr.select(Axis(axis), idx)`, in one pass when `axis` is the innermost one (ndarray's
/// `select` would sweep the whole array once per selected index along a contiguous axis).
fn select_axis(arr: &ArrayD<f32>, axis: usize, idx: &[usize]) -> ArrayD<f32> {
    if axis + 1 != arr.ndim() || !arr.is_standard_layout() {
        return arr.select(Axis(axis), idx);
    }
    let mut shape = arr.shape().to_vec();
    shape[axis] = idx.len();
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    ndarray::Zip::from(out.lanes_mut(Axis(axis)))
        .and(arr.lanes(Axis(axis)))
        .for_each(|mut o, a| {
            for (dst, &i) in o.iter_mut().zip(idx) {
                *dst = a[i];
            }
        });
    out
}

/// ECMWF-style accumulations since the start (`tp` in m over steps): differences along lead.
/// Applied when the values never decrease along lead (within rounding) for every cell, the lead
/// is in hours or days and there is more than one lead. Returns whether it did.
fn deaccumulate_if_accumulated(values: &mut Array5<f32>, leads: &mut [Lead], name: &str) -> bool {
    let nl = leads.len();
    if nl < 2
        || !leads
            .iter()
            .all(|l| matches!(l.unit, LeadUnit::Hour | LeadUnit::Day))
    {
        return false;
    }
    let monotone = values.lanes(Axis(2)).into_iter().all(|lane| {
        lane.iter()
            .zip(lane.iter().skip(1))
            .all(|(a, b)| !(a.is_finite() && b.is_finite()) || *b >= *a - 1e-6 * a.abs().max(1e-6))
    });
    let named = matches!(
        name.to_ascii_lowercase().as_str(),
        "tp" | "tp_acc" | "acc_precip"
    );
    if !(monotone && (named || leads.iter().any(|l| l.start > 0.0))) {
        return false;
    }
    for mut lane in values.lanes_mut(Axis(2)) {
        for k in (1..nl).rev() {
            lane[k] -= lane[k - 1];
        }
    }
    // Step values mark period ends: lead k now covers [step_{k-1}, step_k).
    let ends: Vec<f64> = leads.iter().map(|l| l.start).collect();
    for k in 0..nl {
        let start = if k == 0 { 0.0 } else { ends[k - 1] };
        leads[k].start = start;
        leads[k].width = (ends[k] - start).max(f64::MIN_POSITIVE);
    }
    true
}

/// The season a yearly-stamped series covers, from the CF cell bounds of its time coordinate
/// (`bounds` or `climatology`, e.g. `1982-06-01 .. 1982-10-01` for a JJAS total): `None` when
/// there are none or they span the whole year. An end bound on the 1st at 00:00 is exclusive;
/// any other end day closes its month (`1982-09-30`).
fn season_of_time_bounds(
    path: &Path,
    file: &netcdf::File,
    meta: &FileMeta,
    time: &VarMeta,
    first: Option<usize>,
) -> Option<crate::calendar::Season> {
    let name = time.text("bounds").or_else(|| time.text("climatology"))?;
    let bv = meta.vars.get(name)?;
    if bv.shape.len() != 2 || bv.shape[1] != 2 {
        return None;
    }
    let i = first?;
    let v = file.variable(name)?;
    let pair: Vec<f64> = v.get_values::<f64, _>((i, ..)).ok()?;
    let (dates, _) = decode_times(path, time, &pair).ok()?;
    let (start, end) = (dates[0], dates[1]);
    // Whole months from the start's month to the end (exclusive on the 1st at 00:00, else
    // the end's month included).
    let first = CfDateTime::ymd(start.year, start.month, 1);
    let after = if end.day == 1 && end.micros_of_day == 0 {
        end
    } else {
        CfDateTime::ymd(end.year, end.month, 1).add_months(1, Calendar::Standard)
    };
    crate::calendar::Season::of_period(&first, &after).filter(|s| s.months < 12)
}

/// Converts a series stamped once a year whose values are amounts or per-month rates: over
/// the days of `season` in each value's occurrence of it when known, else over a stand-in
/// (the mean Gregorian year, or the mean month for per-month rates) returned for
/// [`crate::cube::align_observations`] to rescale — never over the calendar year of the
/// stamp, which would put a leap-year factor into every fourth value.
fn convert_yearly(
    values: &mut Array5<f32>,
    conv: &Conversion,
    init: &[CfDateTime],
    cal: Calendar,
    season: Option<crate::calendar::Season>,
) -> Result<Option<crate::cube::ProvisionalDivisor>> {
    use crate::units::{PeriodDivisor, MEAN_MONTH_DAYS};
    /// Days of the mean Gregorian year: the stand-in period of a yearly value.
    const MEAN_YEAR_DAYS: f64 = 365.2425;
    let stand_in = match conv.per_period {
        PeriodDivisor::MonthDays => MEAN_MONTH_DAYS,
        _ => MEAN_YEAR_DAYS,
    };
    for (i, t0) in init.iter().enumerate() {
        let div = match season {
            Some(s) => {
                let start = s.occurrence_start(t0);
                let end = start.add_months(i64::from(s.months), cal);
                conv.period_divisor(start.days_until(&end, cal)?, Some(f64::from(s.months)))
            }
            None => stand_in,
        };
        values
            .slice_mut(ndarray::s![i, .., .., .., ..])
            .mapv_inplace(|x| conv.apply(x, div));
    }
    Ok(season.is_none().then_some(crate::cube::ProvisionalDivisor {
        kind: conv.per_period,
        days: stand_in,
    }))
}

fn apply_conversion(
    values: &mut Array5<f32>,
    conv: &Conversion,
    init: &[CfDateTime],
    leads: &[Lead],
    cal: Calendar,
    kind: CubeKind,
) -> Result<Summary> {
    if conv.is_identity() {
        return Ok(summary_of(values));
    }
    let (ni, nm, nl, ny, nx) = values.dim();
    // The divisor of every (start, lead) first (the fallible part).
    let mut divisors = Vec::with_capacity(ni * nl);
    for t0 in init {
        for lead in leads {
            let (start, end) = lead.period(t0, cal)?;
            let mut days = start.days_until(&end, cal)?;
            let months =
                (lead.unit == LeadUnit::Month && lead.width.fract() == 0.0).then_some(lead.width);
            if kind == CubeKind::Observed && lead.unit == LeadUnit::Month && lead.width == 1.0 {
                // A monthly stamp may be any day of its month: use that month's length.
                days = f64::from(cal.days_in_month(t0.year, t0.month));
            }
            divisors.push(conv.period_divisor(days, months));
        }
    }
    // One parallel pass over the maps (a map is one (start, member, lead)): converted, then
    // summarised while still in cache.
    let map = (ny * nx).max(1);
    Ok(values
        .as_slice_mut()
        .expect("read arrays are in standard layout")
        .par_chunks_mut(map)
        .enumerate()
        .map(|(k, cells)| {
            let (i, l) = (k / (nm * nl), k % nl);
            let div = divisors[i * nl + l];
            for x in cells.iter_mut() {
                *x = conv.apply(*x, div);
            }
            finite_summary(cells)
        })
        .reduce(
            || (f32::INFINITY, f32::NEG_INFINITY, 0),
            merge_finite_summaries,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_of_indices() {
        assert_eq!(cover(&[3, 5, 4]), ((3, 3), vec![0, 2, 1]));
    }

    #[test]
    fn iri_and_subx_leads() {
        let p = Path::new("f.nc");
        let mk = |units: &str, pw: Option<f64>| {
            let mut attrs = Attrs::new();
            attrs.insert("units".into(), AttrValue::Text(units.into()));
            if let Some(w) = pw {
                attrs.insert("pointwidth".into(), AttrValue::Numbers(vec![w]));
            }
            VarMeta {
                name: "L".into(),
                dims: vec!["L".into()],
                shape: vec![1],
                dtype: "float".into(),
                attrs,
            }
        };
        // NMME seasonal: L = 2.5 months, pointwidth 3 → months 2–4 after the start.
        let l = decode_leads(p, "L", Some(&mk("months", Some(3.0))), &[2.5]).unwrap();
        assert_eq!(l, vec![Lead::months(1.0, 3.0)]);
        // NMME monthly: L = 0.5 → the start month.
        let l = decode_leads(p, "L", Some(&mk("months", None)), &[0.5, 1.5]).unwrap();
        assert_eq!(l, vec![Lead::months(0.0, 1.0), Lead::months(1.0, 1.0)]);
        // SubX: L = 0.5 days, pointwidth 1 → day 1.
        let l = decode_leads(p, "L", Some(&mk("days", Some(1.0))), &[0.5, 44.5]).unwrap();
        assert_eq!(l[1], Lead::days(44.0, 1.0));
        // C3S forecastMonth 1..
        let l = decode_leads(p, "forecastMonth", None, &[1.0, 2.0]).unwrap();
        assert_eq!(l[0], Lead::months(0.0, 1.0));
        // Synthetic convention: integer months from 0.
        let l = decode_leads(p, "lead", Some(&mk("months", None)), &[0.0, 1.0]).unwrap();
        assert_eq!(l[1], Lead::months(1.0, 1.0));
        assert!(decode_leads(p, "lead", Some(&mk("furlongs", None)), &[0.0]).is_err());
    }

    #[test]
    fn cdo_absolute_days() {
        let d = absolute_day(20251201.25).unwrap();
        assert_eq!((d.year, d.month, d.day), (2025, 12, 1));
        assert_eq!(d.micros_of_day, 6 * 3_600_000_000);
        assert!(absolute_day(20251301.0).is_none());
        assert!(absolute_day(f64::NAN).is_none());
    }

    #[test]
    fn deaccumulates_step_totals() {
        let mut v = Array5::from_shape_vec((1, 1, 3, 1, 1), vec![1.0, 3.0, 6.0]).unwrap();
        let mut leads = vec![
            Lead {
                start: 24.0,
                width: 24.0,
                unit: LeadUnit::Hour,
            },
            Lead {
                start: 48.0,
                width: 24.0,
                unit: LeadUnit::Hour,
            },
            Lead {
                start: 72.0,
                width: 24.0,
                unit: LeadUnit::Hour,
            },
        ];
        assert!(deaccumulate_if_accumulated(&mut v, &mut leads, "tp"));
        assert_eq!(v.as_slice().unwrap(), &[1.0, 2.0, 3.0]);
        assert_eq!((leads[0].start, leads[0].width), (0.0, 24.0));
        assert_eq!((leads[2].start, leads[2].width), (48.0, 24.0));
        // Decreasing values are not accumulations.
        let mut v = Array5::from_shape_vec((1, 1, 2, 1, 1), vec![3.0, 1.0]).unwrap();
        let mut leads = vec![Lead::days(1.0, 1.0), Lead::days(2.0, 1.0)];
        assert!(!deaccumulate_if_accumulated(&mut v, &mut leads, "tp"));
    }

    #[test]
    fn cadence_of_series() {
        let cal = Calendar::Standard;
        let daily: Vec<_> = (0..5).map(|d| CfDateTime::ymd(2000, 1, 1 + d)).collect();
        assert_eq!(cadence(&daily, cal), Lead::days(0.0, 1.0));
        let monthly: Vec<_> = (1..6).map(|m| CfDateTime::ymd(2000, m, 15)).collect();
        assert_eq!(cadence(&monthly, cal), Lead::months(0.0, 1.0));
        let yearly: Vec<_> = (0..5).map(|y| CfDateTime::ymd(1982 + y, 12, 1)).collect();
        assert_eq!(cadence(&yearly, cal), Lead::months(0.0, 12.0));
    }
    #[test]
    fn longitudes_keep_the_files_convention() {
        assert_eq!(own_lon_window(&[0.0, 90.0, 180.0, 270.0]), 0.0);
        assert_eq!(own_lon_window(&[-180.0, -90.0, 0.0, 90.0]), -180.0);
        assert_eq!(own_lon_window(&[40.0, 100.0, 180.0]), 40.0);
        assert_eq!(own_lon_window(&[180.0, 100.0, 40.0]), 40.0);
        // stored 0…179 then −180…−1: read −180…179
        assert_eq!(own_lon_window(&[0.0, 90.0, -180.0, -90.0]), -180.0);
        // a regional grid across 0° stored 300…359, 0…30: read −60…30
        assert_eq!(own_lon_window(&[300.0, 330.0, 0.0, 30.0]), -180.0);
        // a Pacific grid across 180° stored 170…179, −180…−170: read 170…190
        assert_eq!(own_lon_window(&[170.0, 175.0, -180.0, -175.0]), 0.0);
        assert_eq!(own_lon_window(&[]), -180.0);
    }
}
