//! How outputs reach the disk, for every writer (NetCDF, GeoTIFF, PNG, text):
//! - [`clobber`]: what an output may replace — never an input of the run, an existing file
//!   only with `-O/--overwrite`; names from configurations made safe as file names;
//! - [`staging`]: a job's folder of outputs written into a staging folder under a lock and
//!   moved in whole at the end, every file through a temporary name and a rename; what killed
//!   runs left is cleaned at the next start.

pub mod clobber;
pub mod staging;
