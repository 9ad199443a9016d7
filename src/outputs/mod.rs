//! How outputs reach the disk, for every writer (NetCDF, GeoTIFF, PNG, text):
//! - [`clobber`]: what an output may replace — never an input of the run, an existing file
//!   only with `-O/--overwrite`; names from configurations made safe as file names;
//! - [`staging`]: a job's folder of outputs written into a staging folder under a lock and
//!   moved in whole at the end, every file through a temporary name and a rename; what killed
//!   runs left is cleaned at the next start;
//! - [`stamp_time`]: the time outputs are stamped with (NetCDF `history`, the PDF's dates).

pub mod clobber;
pub mod staging;

/// The time a run stamps its outputs with (the NetCDF `history` line, the PDF bulletin's
/// creation and modification dates): now, or `SOURCE_DATE_EPOCH` (seconds since 1970, the
/// reproducible-builds convention) when it is set, so that two runs of the same command write
/// the same bytes — a distributed run compared with one process, a rerun checked against an
/// archived output.
pub fn stamp_time() -> chrono::DateTime<chrono::Utc> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now)
}
