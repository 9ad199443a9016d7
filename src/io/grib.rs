//! GRIB editions 1 and 2 (how C3S seasonal forecasts, the S2S database and most national model
//! output arrive) read through ecCodes and the NetCDF path: the messages of a file are decoded
//! by ecCodes, grouped into hypercubes the way cfgrib groups them, and written to a temporary
//! NetCDF file (CDF-5) (unlinked once open) that the ordinary reader opens — so every convention the
//! NetCDF reader knows (units, accumulations, leads in months, latitude order) applies to GRIB
//! unchanged, and a GRIB file gives the same cube as its NetCDF copy.
//!
//! # Grouping (cfgrib's, with the C3S keys)
//! - **variable**: ecCodes `cfVarName` (`t2m`, `tp`, `tprate`, `msl`, `u10`; `shortName`
//!   when it has none), with `units`, `name` → `long_name`, `cfName` → `standard_name`; a name
//!   found on several level types gets the level type appended (`t_isobaricInhPa`).
//! - **member**: `number` (ensemble member; absent for deterministic fields).
//! - **start**: `dataDate` + `dataTime`.
//! - **lead**: `forecastMonth` when the message has it (ECMWF local definition 16, C3S GRIB1
//!   monthly means); otherwise `startStep`/`endStep` in hours. Statistics over a period
//!   (`stepType` avg, accum, max, min) that span exactly one calendar month from a start at
//!   00 UTC on day 1 (C3S GRIB2 monthly means, `0-744`, `744-1416`, …) become forecast months,
//!   so starts in months of different lengths share one lead axis; other periods keep CF cell
//!   bounds in hours, except accumulations since the start (`tp` at steps `0-24`, `0-48`, …),
//!   which the reader de-accumulates.
//! - **level**: several `isobaricInhPa` levels of one variable form a pressure dimension.
//! - Messages without an ensemble member number (analyses, reanalyses, observations, `cdo -f
//!   grb2 copy` of a time series — which CDO encodes as steps from the time axis's epoch) form a
//!   time series stamped with their valid time (start + end of step, or the first day of the
//!   forecast month); two such fields valid at the same time are refused. Seasonal and
//!   subseasonal forecasts carry `number` (0 for the control), so they keep their starts and
//!   leads.
//!
//! # Grids
//! `regular_ll` (from the first/last grid points, counts and scanning mode — GRIB1's
//! millidegrees do not accumulate into the axis) and `regular_gg` (ecCodes' Gaussian
//! latitudes). Reduced Gaussian, rotated, Lambert, polar-stereographic and spectral fields are
//! refused with the CDO command that makes them regular. Bitmapped (missing) points become NaN.
//!
//! # Reference
//! WMO Manual on Codes (WMO-No. 306) Vol. I.2, FM 92 GRIB edition 2 and FM 92 GRIB edition 1;
//! ECMWF ecCodes 2.28 C API (`codes_handle_new_from_file`, `codes_get_*`) and key
//! definitions; cfgrib's dataset model (`number`, `time`, `step`, `forecastMonth`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_long, c_void};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

use crate::error::{Error, Result};

/// The largest variable the conversion holds (in bytes of f32): a file that would decode to
/// more is refused before its values are decoded rather than exhausting memory.
pub const GRIB_MAX_VARIABLE_BYTES: u64 = 8 << 30;

/// Hours since this epoch stamp the starts and times of the NetCDF copy.
const EPOCH: &str = "1970-01-01 00:00:00";

mod ffi {
    use super::{c_char, c_int, c_long, c_void};

    /// `ProductKind::PRODUCT_GRIB` of eccodes.h.
    pub const PRODUCT_GRIB: c_int = 1;
    /// `CODES_NOT_FOUND` / `GRIB_NOT_FOUND`: the key is not in this message.
    pub const NOT_FOUND: c_int = -10;

    #[repr(C)]
    pub struct CodesHandle {
        _private: [u8; 0],
    }

    #[link(name = "eccodes")]
    extern "C" {
        pub fn codes_handle_new_from_file(
            ctx: *mut c_void,
            file: *mut libc::FILE,
            product: c_int,
            err: *mut c_int,
        ) -> *mut CodesHandle;
        pub fn codes_handle_delete(h: *mut CodesHandle) -> c_int;
        pub fn codes_grib_multi_support_on(ctx: *mut c_void);
        pub fn codes_context_set_logging_proc(
            ctx: *mut c_void,
            log: Option<extern "C" fn(*const c_void, c_int, *const c_char)>,
        );
        pub fn codes_get_long(h: *const CodesHandle, key: *const c_char, v: *mut c_long) -> c_int;
        pub fn codes_get_double(h: *const CodesHandle, key: *const c_char, v: *mut f64) -> c_int;
        pub fn codes_get_string(
            h: *const CodesHandle,
            key: *const c_char,
            v: *mut c_char,
            len: *mut usize,
        ) -> c_int;
        pub fn codes_set_string(
            h: *mut CodesHandle,
            key: *const c_char,
            v: *const c_char,
            len: *mut usize,
        ) -> c_int;
        pub fn codes_get_size(h: *const CodesHandle, key: *const c_char, n: *mut usize) -> c_int;
        pub fn codes_get_double_array(
            h: *const CodesHandle,
            key: *const c_char,
            v: *mut f64,
            len: *mut usize,
        ) -> c_int;
        pub fn codes_get_error_message(code: c_int) -> *const c_char;
    }
}

/// ecCodes keeps global state (definitions, the multi-field buffer): one file at a time.
static ECCODES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn eccodes_message(code: c_int) -> String {
    // SAFETY: ecCodes returns a pointer to a static string for every code.
    unsafe {
        let p = ffi::codes_get_error_message(code);
        if p.is_null() {
            format!("ecCodes error {code}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// One decoded GRIB message (a handle owned until drop).
struct Message(*mut ffi::CodesHandle);

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: the handle came from codes_handle_new_from_file and is deleted once.
        unsafe {
            ffi::codes_handle_delete(self.0);
        }
    }
}

impl Message {
    fn key(name: &str) -> CString {
        CString::new(name).expect("key names have no NUL")
    }

    /// A long key; `None` when the message does not define it.
    fn long(&self, name: &str) -> std::result::Result<Option<i64>, String> {
        let mut v: c_long = 0;
        // SAFETY: valid handle, NUL-terminated key, out-pointer to a c_long.
        let rc = unsafe { ffi::codes_get_long(self.0, Self::key(name).as_ptr(), &mut v) };
        match rc {
            // c_long is 32-bit on some targets.
            #[allow(clippy::useless_conversion)]
            0 => Ok(Some(i64::from(v))),
            ffi::NOT_FOUND => Ok(None),
            e => Err(format!("key '{name}': {}", eccodes_message(e))),
        }
    }

    fn double(&self, name: &str) -> std::result::Result<f64, String> {
        let mut v = 0.0f64;
        // SAFETY: as in `long`.
        let rc = unsafe { ffi::codes_get_double(self.0, Self::key(name).as_ptr(), &mut v) };
        if rc == 0 {
            Ok(v)
        } else {
            Err(format!("key '{name}': {}", eccodes_message(rc)))
        }
    }

    /// A string key; `None` when not defined (or not representable as a string).
    fn string(&self, name: &str) -> Option<String> {
        let mut buf = vec![0u8; 1024];
        let mut len = buf.len();
        // SAFETY: the buffer holds `len` bytes; ecCodes writes at most that and sets `len`.
        let rc = unsafe {
            ffi::codes_get_string(
                self.0,
                Self::key(name).as_ptr(),
                buf.as_mut_ptr().cast::<c_char>(),
                &mut len,
            )
        };
        if rc != 0 {
            return None;
        }
        let end = buf[..len.min(buf.len())]
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(len.min(buf.len()));
        Some(String::from_utf8_lossy(&buf[..end]).into_owned())
    }

    fn set_string(&self, name: &str, value: &str) -> std::result::Result<(), String> {
        let v = CString::new(value).expect("values have no NUL");
        let mut len = value.len();
        // SAFETY: valid handle and NUL-terminated strings.
        let rc = unsafe {
            ffi::codes_set_string(self.0, Self::key(name).as_ptr(), v.as_ptr(), &mut len)
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("setting '{name}': {}", eccodes_message(rc)))
        }
    }

    fn doubles(&self, name: &str) -> std::result::Result<Vec<f64>, String> {
        let key = Self::key(name);
        let mut n = 0usize;
        // SAFETY: as in `long`.
        let rc = unsafe { ffi::codes_get_size(self.0, key.as_ptr(), &mut n) };
        if rc != 0 {
            return Err(format!("size of '{name}': {}", eccodes_message(rc)));
        }
        let mut v = vec![0.0f64; n];
        let mut len = n;
        // SAFETY: the buffer holds `len` doubles.
        let rc =
            unsafe { ffi::codes_get_double_array(self.0, key.as_ptr(), v.as_mut_ptr(), &mut len) };
        if rc != 0 {
            return Err(format!("'{name}': {}", eccodes_message(rc)));
        }
        v.truncate(len);
        Ok(v)
    }
}

/// ecCodes' log sink: nothing (every failure is returned as an error code).
extern "C" fn silent(_ctx: *const c_void, _level: c_int, _message: *const c_char) {}

/// An open GRIB file, message by message (multi-field messages split into their fields).
struct GribFile {
    file: *mut libc::FILE,
}

impl GribFile {
    fn open(path: &Path) -> std::result::Result<Self, String> {
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| "the path contains a NUL byte".to_string())?;
        // SAFETY: NUL-terminated path and mode.
        let file = unsafe { libc::fopen(c.as_ptr(), c"rb".as_ptr()) };
        if file.is_null() {
            return Err(std::io::Error::last_os_error().to_string());
        }
        // SAFETY: the default context (NULL); both settings are idempotent. ecCodes' own
        // messages are silenced: its error codes become one error line of ours.
        unsafe {
            ffi::codes_grib_multi_support_on(std::ptr::null_mut());
            ffi::codes_context_set_logging_proc(std::ptr::null_mut(), Some(silent));
        }
        Ok(GribFile { file })
    }

    /// The next message, `Ok(None)` at the end of the file.
    fn next_message(&mut self) -> std::result::Result<Option<Message>, String> {
        let mut err: c_int = 0;
        // SAFETY: an open FILE and the default context.
        let h = unsafe {
            ffi::codes_handle_new_from_file(
                std::ptr::null_mut(),
                self.file,
                ffi::PRODUCT_GRIB,
                &mut err,
            )
        };
        if err != 0 {
            if !h.is_null() {
                drop(Message(h));
            }
            return Err(eccodes_message(err));
        }
        Ok((!h.is_null()).then_some(Message(h)))
    }
}

impl Drop for GribFile {
    fn drop(&mut self) {
        // SAFETY: opened by fopen, closed once.
        unsafe {
            libc::fclose(self.file);
        }
    }
}

/// The horizontal grid of a message.
#[derive(Debug, Clone, PartialEq)]
struct Grid {
    kind: String,
    /// Latitudes in the order the values are stored (rows).
    lat: Vec<f64>,
    /// Longitudes in storage order (columns).
    lon: Vec<f64>,
    /// Values stored column by column (`jPointsAreConsecutive`).
    columns_first: bool,
}

/// Lead of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LeadKey {
    /// Forecast month, 1-based.
    Month(i64),
    /// Hours: period start and end (equal for instantaneous fields).
    Hours(i64, i64),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FieldKey {
    init: NaiveDateTime,
    member: Option<i64>,
    lead: LeadKey,
    level: Option<i64>,
}

/// Everything read from one message except its values.
struct Header {
    var: String,
    level_type: String,
    units: String,
    long_name: String,
    standard_name: Option<String>,
    step_type: String,
    key: FieldKey,
    grid: Grid,
}

/// One variable: its metadata and fields in message order.
struct Variable {
    name: String,
    units: String,
    long_name: String,
    standard_name: Option<String>,
    step_type: String,
    grid: Grid,
    fields: BTreeMap<FieldKey, Vec<f32>>,
    /// The message number (1-based) of each field, for error messages.
    first_message: usize,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        reason: format!("GRIB {what}"),
    }
}

fn grid_of(m: &Message) -> std::result::Result<Grid, String> {
    let kind = m.string("gridType").unwrap_or_else(|| "unknown".into());
    let cdo_hint = match kind.as_str() {
        "reduced_gg" => "`cdo -f grb2 setgridtype,regular FILE regular.grb2` (regular Gaussian) or `cdo -f grb2 remapbil,r360x181 FILE ll.grb2`",
        "sh" => "`cdo -f grb2 sp2gp FILE gp.grb2`",
        _ => "`cdo -f grb2 remapbil,r360x181 FILE ll.grb2` (or to your target grid)",
    };
    if kind != "regular_ll" && kind != "regular_gg" {
        return Err(format!(
            "grid type '{kind}': s2s reads regular latitude-longitude (regular_ll) and regular Gaussian (regular_gg) grids; make it regular first, e.g. {cdo_hint}"
        ));
    }
    let get = |k: &str| -> std::result::Result<i64, String> {
        m.long(k)?.ok_or_else(|| format!("key '{k}' is missing"))
    };
    let ni = get("Ni")?;
    let nj = get("Nj")?;
    if ni <= 0 || nj <= 0 || ni > 1_000_000 || nj > 1_000_000 {
        return Err(format!(
            "grid of {ni} x {nj} points (Ni x Nj): not a regular grid"
        ));
    }
    let (ni, nj) = (ni as usize, nj as usize);
    let i_negative = get("iScansNegatively")? != 0;
    let j_positive = get("jScansPositively")? != 0;
    let columns_first = get("jPointsAreConsecutive")? != 0;
    let lon0 = m.double("longitudeOfFirstGridPointInDegrees")?;
    let mut lon1 = m.double("longitudeOfLastGridPointInDegrees")?;
    if !i_negative && lon1 < lon0 {
        lon1 += 360.0;
    } else if i_negative && lon1 > lon0 {
        lon1 -= 360.0;
    }
    let lon = linear(lon0, lon1, ni);
    let lat = if kind == "regular_ll" {
        let lat0 = m.double("latitudeOfFirstGridPointInDegrees")?;
        let lat1 = m.double("latitudeOfLastGridPointInDegrees")?;
        linear(lat0, lat1, nj)
    } else {
        let mut lat = m.doubles("distinctLatitudes")?;
        if lat.len() != nj {
            return Err(format!(
                "{} Gaussian latitudes for Nj = {nj} rows",
                lat.len()
            ));
        }
        lat.sort_by(f64::total_cmp);
        if !j_positive {
            lat.reverse();
        }
        lat
    };
    Ok(Grid {
        kind,
        lat,
        lon,
        columns_first,
    })
}

/// `n` values from `a` to `b`, evenly spaced (both ends included).
fn linear(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

fn date_time(date: i64, time: i64) -> Option<NaiveDateTime> {
    let d = NaiveDate::from_ymd_opt(
        (date / 10_000) as i32,
        ((date / 100) % 100) as u32,
        (date % 100) as u32,
    )?;
    d.and_hms_opt((time / 100) as u32, (time % 100) as u32, 0)
}

/// The forecast month of a statistic over `[init + start h, init + end h)` when that period
/// is exactly one calendar month and the start is 00 UTC on day 1.
fn calendar_month_lead(init: NaiveDateTime, start_h: i64, end_h: i64) -> Option<i64> {
    let at_month_start =
        |t: NaiveDateTime| t.day() == 1 && t.time().num_seconds_from_midnight() == 0;
    let a = init + Duration::hours(start_h);
    let b = init + Duration::hours(end_h);
    if !(at_month_start(init) && at_month_start(a) && at_month_start(b)) {
        return None;
    }
    let months = |t: NaiveDateTime| i64::from(t.year()) * 12 + i64::from(t.month0());
    (months(b) - months(a) == 1).then(|| months(a) - months(init) + 1)
}

/// What names a variable, from ecCodes' concepts (`cfVarName`, `units`, `name`, `cfName`,
/// `typeOfLevel`, `stepType`): table look-ups, by far the costliest keys to read, so they are
/// read once per [`IDENTITY_KEYS`] combination.
#[derive(Clone)]
struct Identity {
    var: String,
    level_type: String,
    units: String,
    long_name: String,
    standard_name: Option<String>,
    step_type: String,
}

/// Plain integer keys that decide the concepts of [`Identity`] (parameter, level, statistic),
/// per edition.
const IDENTITY_KEYS: [&[&str]; 2] = [
    &[
        "centre",
        "table2Version",
        "indicatorOfParameter",
        "indicatorOfTypeOfLevel",
        "level",
        "timeRangeIndicator",
        "localDefinitionNumber",
    ],
    &[
        "centre",
        "discipline",
        "parameterCategory",
        "parameterNumber",
        "productDefinitionTemplateNumber",
        "typeOfFirstFixedSurface",
        "scaleFactorOfFirstFixedSurface",
        "scaledValueOfFirstFixedSurface",
        "typeOfSecondFixedSurface",
        "typeOfStatisticalProcessing",
    ],
];

/// The plain integer key that names the grid template, per edition.
const GRID_TEMPLATE_KEY: [&str; 2] = ["dataRepresentationType", "gridDefinitionTemplateNumber"];

/// Plain integer keys that, with [`GRID_TEMPLATE_KEY`], decide the grid (raw corner
/// coordinates, counts, scanning mode).
const GRID_KEYS: [&str; 8] = [
    "Ni",
    "Nj",
    "latitudeOfFirstGridPoint",
    "longitudeOfFirstGridPoint",
    "latitudeOfLastGridPoint",
    "longitudeOfLastGridPoint",
    "scanningMode",
    "numberOfDataPoints",
];

/// Concepts and grids already read, by their plain keys.
#[derive(Default)]
struct Caches {
    identity: BTreeMap<Vec<Option<i64>>, Identity>,
    grid: BTreeMap<Vec<Option<i64>>, Grid>,
}

/// The edition and the values of `keys` (a key this message's templates do not define is
/// part of the signature as `None`).
fn plain_keys<'a>(
    m: &Message,
    edition: usize,
    keys: impl IntoIterator<Item = &'a str>,
) -> Vec<Option<i64>> {
    let mut out = vec![Some(edition as i64)];
    out.extend(keys.into_iter().map(|k| m.long(k).unwrap_or(None)));
    out
}

fn identity(m: &Message) -> Identity {
    let short = m.string("shortName").unwrap_or_else(|| "unknown".into());
    let var = m
        .string("cfVarName")
        .filter(|s| !s.is_empty() && s != "unknown" && s != "~")
        .unwrap_or_else(|| {
            if short == "unknown" {
                let id = m.long("paramId").ok().flatten().unwrap_or(0);
                format!("param{id}")
            } else {
                short.clone()
            }
        });
    Identity {
        var,
        level_type: m.string("typeOfLevel").unwrap_or_default(),
        units: m.string("units").unwrap_or_else(|| "unknown".into()),
        long_name: m.string("name").unwrap_or_else(|| short.clone()),
        standard_name: m
            .string("cfName")
            .filter(|s| !s.is_empty() && s != "unknown" && s != "~"),
        step_type: m.string("stepType").unwrap_or_else(|| "instant".into()),
    }
}

fn header(m: &Message, caches: &mut Caches) -> std::result::Result<Header, String> {
    let edition = m.long("edition")?.unwrap_or(2).clamp(1, 2) as usize;
    let id_key = plain_keys(m, edition, IDENTITY_KEYS[edition - 1].iter().copied());
    let id = caches
        .identity
        .entry(id_key)
        .or_insert_with(|| identity(m))
        .clone();
    let grid_key = plain_keys(
        m,
        edition,
        std::iter::once(GRID_TEMPLATE_KEY[edition - 1]).chain(GRID_KEYS),
    );
    let grid = match caches.grid.get(&grid_key) {
        Some(g) => g.clone(),
        None => caches.grid.entry(grid_key).or_insert(grid_of(m)?).clone(),
    };
    let date = m.long("dataDate")?.ok_or("key 'dataDate' is missing")?;
    let time = m.long("dataTime")?.unwrap_or(0);
    let init = date_time(date, time)
        .ok_or_else(|| format!("dataDate {date} dataTime {time} is not a date"))?;
    let member = m.long("number")?;
    let lead = match m.long("forecastMonth")? {
        Some(month) if month > 0 => LeadKey::Month(month),
        _ => {
            // Steps in hours whatever unit the message uses.
            m.set_string("stepUnits", "h")?;
            let start = m.long("startStep")?.unwrap_or(0);
            let end = m.long("endStep")?.unwrap_or(start);
            match calendar_month_lead(init, start, end) {
                Some(month) if id.step_type != "instant" => LeadKey::Month(month),
                _ => LeadKey::Hours(start, end),
            }
        }
    };
    let level = m.long("level")?;
    Ok(Header {
        var: id.var,
        level_type: id.level_type,
        units: id.units,
        long_name: id.long_name,
        standard_name: id.standard_name,
        step_type: id.step_type,
        key: FieldKey {
            init,
            member,
            lead,
            level,
        },
        grid,
    })
}

/// The values of a message in (row, column) order, missing points as NaN.
fn values_of(m: &Message, grid: &Grid) -> std::result::Result<Vec<f32>, String> {
    let raw = m.doubles("values")?;
    let (nj, ni) = (grid.lat.len(), grid.lon.len());
    if raw.len() != ni * nj {
        return Err(format!("{} values for a {ni} x {nj} grid", raw.len()));
    }
    let missing = if m.long("bitmapPresent")?.unwrap_or(0) != 0 {
        Some(m.double("missingValue")?)
    } else {
        None
    };
    let value = |x: f64| match missing {
        Some(mv) if x == mv => f32::NAN,
        _ => x as f32,
    };
    Ok(if grid.columns_first {
        let mut out = vec![0.0f32; raw.len()];
        for i in 0..ni {
            for j in 0..nj {
                out[j * ni + i] = value(raw[i * nj + j]);
            }
        }
        out
    } else {
        raw.into_iter().map(value).collect()
    })
}

/// Reads every message of a GRIB file into variables.
fn read_messages(path: &Path) -> Result<Vec<Variable>> {
    let _guard = ECCODES.lock().unwrap_or_else(|p| p.into_inner());
    let mut file = GribFile::open(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e,
    })?;
    let mut vars: Vec<Variable> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut n = 0usize;
    let mut caches = Caches::default();
    loop {
        let m = match file.next_message() {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                return Err(bad(
                    path,
                    format!(
                        "message {} cannot be decoded by ecCodes ({e}): is the file truncated? (`grib_ls` lists the messages it can read)",
                        n + 1
                    ),
                ))
            }
        };
        n += 1;
        let at = |e: String| bad(path, format!("message {n}: {e}"));
        let h = header(&m, &mut caches).map_err(at)?;
        let slot = *index
            .entry((h.var.clone(), h.level_type.clone()))
            .or_insert_with(|| {
                vars.push(Variable {
                    name: h.var.clone(),
                    units: h.units.clone(),
                    long_name: h.long_name.clone(),
                    standard_name: h.standard_name.clone(),
                    step_type: h.step_type.clone(),
                    grid: h.grid.clone(),
                    fields: BTreeMap::new(),
                    first_message: n,
                });
                vars.len() - 1
            });
        let v = &mut vars[slot];
        if h.grid != v.grid {
            return Err(at(format!(
                "'{}' is on a different grid ({}, {} x {}) than in message {} ({}, {} x {}); split the file by grid first (`grib_copy FILE 'out_[gridType]_[Ni]x[Nj].grib'`)",
                h.var,
                h.grid.kind,
                h.grid.lon.len(),
                h.grid.lat.len(),
                v.first_message,
                v.grid.kind,
                v.grid.lon.len(),
                v.grid.lat.len()
            )));
        }
        let cells = (v.grid.lat.len() * v.grid.lon.len()) as u64;
        if (v.fields.len() as u64 + 1) * cells * 4 > GRIB_MAX_VARIABLE_BYTES {
            return Err(at(format!(
                "'{}' holds more than {} GiB of values; select a region or fewer fields first (`cdo sellonlatbox` or `grib_copy -w`)",
                h.var,
                GRIB_MAX_VARIABLE_BYTES >> 30
            )));
        }
        let values = values_of(&m, &v.grid).map_err(at)?;
        if v.fields.insert(h.key.clone(), values).is_some() {
            return Err(at(format!(
                "'{}' appears twice for start {}, member {}, lead {}, level {} (the same field in two messages); remove the duplicate (`grib_copy` with `-w`)",
                h.var,
                h.key.init,
                h.key.member.map_or("-".into(), |m| m.to_string()),
                lead_text(h.key.lead),
                h.key.level.map_or("-".into(), |l| l.to_string()),
            )));
        }
    }
    if n == 0 {
        return Err(bad(path, "file without any message (`grib_ls` lists none)"));
    }
    // Fields without an ensemble member form a time series: one field per valid time and level.
    for v in &vars {
        if v.fields.keys().all(|k| k.member.is_none()) {
            let mut seen: BTreeMap<(NaiveDateTime, Option<i64>), &FieldKey> = BTreeMap::new();
            for k in v.fields.keys() {
                if let Some(other) = seen.insert((valid_time(k), k.level), k) {
                    return Err(bad(
                        path,
                        format!(
                            "file: '{}' has two fields valid at {} (start {} lead {}, start {} lead {}) and no ensemble member number to tell them apart; split the file by start (`grib_copy FILE 'out_[dataDate].grib'`)",
                            v.name,
                            valid_time(k),
                            other.init,
                            lead_text(other.lead),
                            k.init,
                            lead_text(k.lead)
                        ),
                    ));
                }
            }
        }
    }
    // A name found on several level types: append the level type to each.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in index.keys() {
        *names.entry(name.clone()).or_default() += 1;
    }
    for ((name, level_type), &i) in &index {
        if names[name] > 1 {
            vars[i].name = format!("{name}_{level_type}");
        }
    }
    Ok(vars)
}

fn lead_text(l: LeadKey) -> String {
    match l {
        LeadKey::Month(m) => format!("month {m}"),
        LeadKey::Hours(a, b) if a == b => format!("{b} h"),
        LeadKey::Hours(a, b) => format!("{a}-{b} h"),
    }
}

/// The time a field is valid at: the end of its step, or the first day of its forecast month.
fn valid_time(k: &FieldKey) -> NaiveDateTime {
    match k.lead {
        LeadKey::Hours(_, end) => k.init + Duration::hours(end),
        LeadKey::Month(m) => k
            .init
            .checked_add_months(chrono::Months::new((m - 1).clamp(0, 1200) as u32))
            .unwrap_or(k.init),
    }
}

/// Hours from the epoch.
fn hours(t: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid epoch");
    (t - epoch).num_seconds() as f64 / 3600.0
}

/// Writes the variables of a GRIB file as a CF NetCDF file (cfgrib's layout): everything is
/// defined first, then the values are written (the classic formats have one define phase).
fn write_netcdf(path: &Path, vars: &[Variable], out: &Path) -> Result<()> {
    let nc_err = |e: netcdf::Error| Error::Netcdf {
        path: out.to_path_buf(),
        action: "writing the NetCDF copy of a GRIB file".into(),
        reason: e.to_string(),
    };
    // CDF-5 (64-bit data): 64-bit integers, no HDF5 layer to pass through, and an unlinked
    // copy can be reopened (HDF5 cannot reopen a deleted file through /proc/self/fd).
    crate::io::read::configure_libnetcdf();
    let mut f = netcdf::create_with(out, netcdf::Options::_64BIT_DATA).map_err(nc_err)?;
    f.add_attribute("Conventions", "CF-1.8").map_err(nc_err)?;
    f.add_attribute("source", format!("GRIB file {}", path.display()))
        .map_err(nc_err)?;
    let mut plans = Vec::with_capacity(vars.len());
    for (k, v) in vars.iter().enumerate() {
        // Dimension names per variable when a file holds several (their axes may differ).
        let suffix = if k > 0 {
            format!("_{k}")
        } else {
            String::new()
        };
        plans.push(define_variable(&mut f, v, &suffix).map_err(nc_err)?);
    }
    f.enddef().map_err(nc_err)?;
    for (v, plan) in vars.iter().zip(&plans) {
        write_values(&mut f, v, plan).map_err(nc_err)?;
    }
    f.close().map_err(nc_err)?;
    Ok(())
}

/// The axes of one variable in its NetCDF copy, defined and waiting for their values.
struct VariablePlan {
    /// Coordinate variables and their values.
    coords: Vec<(String, CoordValues)>,
    /// Lists each field's key is looked up in, in dimension order (before lat, lon).
    axes: Vec<Axis>,
}

enum CoordValues {
    Float(Vec<f64>),
    Int(Vec<i64>),
}

/// A leading dimension of a variable: where a field goes along it.
enum Axis {
    ValidTime(Vec<NaiveDateTime>),
    Init(Vec<NaiveDateTime>),
    Member(Vec<Option<i64>>),
    Lead(Vec<LeadKey>),
    Level(Vec<Option<i64>>),
}

impl Axis {
    fn index(&self, k: &FieldKey) -> usize {
        match self {
            Axis::ValidTime(l) => l.binary_search(&valid_time(k)),
            Axis::Init(l) => l.binary_search(&k.init),
            Axis::Member(l) => l.binary_search(&k.member),
            Axis::Lead(l) => l.binary_search(&k.lead),
            Axis::Level(l) => l.binary_search(&k.level),
        }
        .unwrap_or(0)
    }
}

fn define_coord(
    f: &mut netcdf::FileMut,
    plan: &mut VariablePlan,
    name: &str,
    values: CoordValues,
    attrs: &[(&str, String)],
) -> std::result::Result<(), netcdf::Error> {
    let n = match &values {
        CoordValues::Float(v) => v.len(),
        CoordValues::Int(v) => v.len(),
    };
    f.add_dimension(name, n)?;
    let mut v = match &values {
        CoordValues::Float(_) => f.add_variable::<f64>(name, &[name])?,
        CoordValues::Int(_) => f.add_variable::<i64>(name, &[name])?,
    };
    for (k, a) in attrs {
        v.put_attribute(k, a.as_str())?;
    }
    plan.coords.push((name.to_string(), values));
    Ok(())
}

fn define_variable(
    f: &mut netcdf::FileMut,
    v: &Variable,
    suffix: &str,
) -> std::result::Result<VariablePlan, netcdf::Error> {
    let inits: BTreeSet<NaiveDateTime> = v.fields.keys().map(|k| k.init).collect();
    let members: BTreeSet<Option<i64>> = v.fields.keys().map(|k| k.member).collect();
    let leads: BTreeSet<LeadKey> = v.fields.keys().map(|k| k.lead).collect();
    let levels: BTreeSet<Option<i64>> = v.fields.keys().map(|k| k.level).collect();
    let mut plan = VariablePlan {
        coords: Vec::new(),
        axes: Vec::new(),
    };
    let s = |x: &str| x.to_string();
    let time_units = format!("hours since {EPOCH}");
    let time = format!("time{suffix}");
    // Without members: a time series stamped with the valid times (checked unique in
    // `read_messages`); with members: the starts.
    let series = members.iter().all(Option::is_none);
    let (dates, mut attrs): (BTreeSet<NaiveDateTime>, _) = if series {
        (
            v.fields.keys().map(valid_time).collect(),
            vec![("standard_name", s("time")), ("axis", s("T"))],
        )
    } else {
        (
            inits,
            vec![
                ("standard_name", s("forecast_reference_time")),
                ("long_name", s("initial time of forecast")),
            ],
        )
    };
    attrs.push(("units", time_units));
    attrs.push(("calendar", s("proleptic_gregorian")));
    let vals = dates.iter().map(|t| hours(*t)).collect();
    define_coord(f, &mut plan, &time, CoordValues::Float(vals), &attrs)?;
    let dates: Vec<NaiveDateTime> = dates.into_iter().collect();
    plan.axes.push(if series {
        Axis::ValidTime(dates)
    } else {
        Axis::Init(dates)
    });
    if !series {
        let vals = members.iter().map(|m| m.unwrap_or(0)).collect();
        define_coord(
            f,
            &mut plan,
            &format!("number{suffix}"),
            CoordValues::Int(vals),
            &[
                ("standard_name", s("realization")),
                ("long_name", s("ensemble member numerical id")),
            ],
        )?;
        plan.axes.push(Axis::Member(members.into_iter().collect()));
        let list: Vec<LeadKey> = leads.into_iter().collect();
        if list.iter().all(|l| matches!(l, LeadKey::Month(_))) {
            let vals = list
                .iter()
                .map(|l| match l {
                    LeadKey::Month(m) => *m,
                    LeadKey::Hours(..) => 0,
                })
                .collect();
            define_coord(
                f,
                &mut plan,
                &format!("forecastMonth{suffix}"),
                CoordValues::Int(vals),
                &[("long_name", s("months since forecast_reference_time"))],
            )?;
        } else {
            let name = format!("step{suffix}");
            let hours_of = |l: &LeadKey| match l {
                LeadKey::Hours(a, b) => (*a as f64, *b as f64),
                LeadKey::Month(_) => (f64::NAN, f64::NAN),
            };
            // Periods carry CF bounds, except accumulations since the start (`0-24`, `0-48`,
            // …), which the reader de-accumulates from their ends.
            let since_start =
                list.len() > 1 && list.iter().all(|l| matches!(l, LeadKey::Hours(0, _)));
            let periods = list
                .iter()
                .any(|l| matches!(l, LeadKey::Hours(a, b) if a != b));
            let bounds = periods && !since_start;
            let mut attrs = vec![
                ("standard_name", s("forecast_period")),
                ("long_name", s("time since forecast_reference_time")),
                ("units", s("hours")),
            ];
            if bounds {
                attrs.push(("bounds", format!("{name}_bnds")));
            }
            let ends = list.iter().map(|l| hours_of(l).1).collect();
            define_coord(f, &mut plan, &name, CoordValues::Float(ends), &attrs)?;
            if bounds {
                let nv = format!("nv2{suffix}");
                f.add_dimension(&nv, 2)?;
                let bnds = format!("{name}_bnds");
                f.add_variable::<f64>(&bnds, &[name.as_str(), nv.as_str()])?;
                let vals = list
                    .iter()
                    .flat_map(|l| {
                        let (a, b) = hours_of(l);
                        [a, b]
                    })
                    .collect();
                plan.coords.push((bnds, CoordValues::Float(vals)));
            }
        }
        plan.axes.push(Axis::Lead(list));
    }
    if levels.len() > 1 {
        let vals = levels.iter().map(|l| l.unwrap_or(0) as f64).collect();
        define_coord(
            f,
            &mut plan,
            &format!("isobaricInhPa{suffix}"),
            CoordValues::Float(vals),
            &[
                ("standard_name", s("air_pressure")),
                ("units", s("hPa")),
                ("positive", s("down")),
                ("axis", s("Z")),
            ],
        )?;
        plan.axes.push(Axis::Level(levels.into_iter().collect()));
    }
    let (lat, lon) = (format!("latitude{suffix}"), format!("longitude{suffix}"));
    for (name, vals, sn, units, axis) in [
        (&lat, &v.grid.lat, "latitude", "degrees_north", "Y"),
        (&lon, &v.grid.lon, "longitude", "degrees_east", "X"),
    ] {
        define_coord(
            f,
            &mut plan,
            name,
            CoordValues::Float(vals.clone()),
            &[
                ("standard_name", s(sn)),
                ("units", s(units)),
                ("axis", s(axis)),
            ],
        )?;
    }
    let mut dims: Vec<&str> = plan.coords.iter().map(|(n, _)| n.as_str()).collect();
    dims.retain(|d| !d.ends_with("_bnds"));
    let mut var = f.add_variable::<f32>(&v.name, &dims)?;
    var.set_fill_value(f32::NAN)?;
    var.put_attribute("units", v.units.as_str())?;
    var.put_attribute("long_name", v.long_name.as_str())?;
    if let Some(sn) = &v.standard_name {
        var.put_attribute("standard_name", sn.as_str())?;
    }
    var.put_attribute("GRIB_stepType", v.step_type.as_str())?;
    var.put_attribute("GRIB_gridType", v.grid.kind.as_str())?;
    Ok(plan)
}

fn write_values(
    f: &mut netcdf::FileMut,
    v: &Variable,
    plan: &VariablePlan,
) -> std::result::Result<(), netcdf::Error> {
    for (name, values) in &plan.coords {
        let mut cv = f.variable_mut(name).expect("defined above");
        match values {
            CoordValues::Float(x) => cv.put_values(x, ..)?,
            CoordValues::Int(x) => cv.put_values(x, ..)?,
        }
    }
    let mut var = f.variable_mut(&v.name).expect("defined above");
    let (nj, ni) = (v.grid.lat.len(), v.grid.lon.len());
    for (key, values) in &v.fields {
        let mut extents: Vec<netcdf::Extent> = plan
            .axes
            .iter()
            .map(|a| netcdf::Extent::from(a.index(key)))
            .collect();
        extents.push((0..nj).into());
        extents.push((0..ni).into());
        var.put_values(values, extents.as_slice())?;
    }
    Ok(())
}

/// Opens a GRIB file as a NetCDF file (decoded to a temporary NetCDF file that is unlinked
/// once open).
pub fn open_as_netcdf(path: &Path) -> Result<netcdf::File> {
    super::open_converted(path, "grib", |tmp| {
        let vars = read_messages(path)?;
        write_netcdf(path, &vars, tmp)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_from_hours() {
        let init = date_time(20240201, 0).unwrap();
        // February 2024 has 29 days: 696 h; March 31 days.
        assert_eq!(calendar_month_lead(init, 0, 696), Some(1));
        assert_eq!(calendar_month_lead(init, 696, 696 + 744), Some(2));
        assert_eq!(calendar_month_lead(init, 0, 744), None);
        let mid = date_time(20240215, 0).unwrap();
        assert_eq!(calendar_month_lead(mid, 0, 696), None);
        let noon = date_time(20240201, 1200).unwrap();
        assert_eq!(calendar_month_lead(noon, 0, 696), None);
    }

    #[test]
    fn evenly_spaced_axes_include_both_ends() {
        assert_eq!(linear(90.0, -90.0, 3), vec![90.0, 0.0, -90.0]);
        assert_eq!(linear(0.0, 358.5, 240)[1], 1.5);
        assert_eq!(linear(5.0, 5.0, 1), vec![5.0]);
    }

    #[test]
    fn dates_from_grib_keys() {
        assert_eq!(
            date_time(19930501, 1200).unwrap().to_string(),
            "1993-05-01 12:00:00"
        );
        assert!(date_time(19931301, 0).is_none());
    }
}
