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
//!
//! Only this module (and the runner) touch files; the science modules take arrays.
//!
//! Threads: the `netcdf` crate serialises every libnetcdf call behind one lock, so reading is
//! done on the calling thread and the computing is parallel. Debian's HDF5 is built
//! thread-safe, which makes its error printing a per-thread switch that libnetcdf only turns off
//! on the thread it initialised on: libnetcdf used from other threads (test harness threads)
//! prints harmless `HDF5-DIAG` lines for attributes it looks for and does not find.

pub mod decode;
pub mod detect;
pub mod inspect;
pub mod read;
mod truncation;
pub mod workload;
pub mod write;

pub use detect::{DimMapping, DimRole};
pub use inspect::{inspect_file, FileReport, InspectOptions};
pub use read::{pressure_levels, read_cube, read_leads, read_spatial, ReadOptions};
pub use write::{write_cube, write_cubes, write_text_atomic, CfWriter, WriteOptions};
