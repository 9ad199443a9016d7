//! # s2s-ensemble
//!
//! A subseasonal-to-seasonal (S2S) multi-model ensemble engine: it reads the gridded NetCDF
//! output of several climate models (hindcasts and forecasts) and observations, bias-corrects
//! each model, combines them into calibrated multi-model probabilities, verifies them, and
//! writes outlook bulletins.
//!
//! The core type is [`Cube`]: one model's values on `(init, member, lead, y, x)` with
//! coordinates ([`cube::Coords`]: start dates, members, leads, a lat/lon grid or a list of
//! points) and metadata ([`cube::Meta`]). Everything that reads or writes files is in [`io`];
//! the science modules take `ndarray` views and return arrays and [`Error`]s — they never print
//! and never touch files.
//!
//! | module | what |
//! |---|---|
//! | [`calendar`] | CF calendars, `"<unit> since <date>"` (including months since, NMME style) |
//! | [`units`] | quantities, canonical units (mm/day, °C), conversions, plausibility |
//! | [`cube`] | [`Cube`], leads and target periods, selections, lead aggregation, observation alignment |
//! | [`stats`] | NaN-aware kernels shared by the science modules |
//! | [`io`] | CF-NetCDF reading (dimension detection, decoding, hyperslabs) and writing |
//! | [`cyclone`] | tropical-cyclone detection and tracking (TempestExtremes criteria), track formats |
//! | [`emergency`] | ensemble drift of a ship or oil from a point at sea (Lagrangian particles) |
//! | [`indices`] | SPI of observed records and of forecast ensembles, drought-class probabilities |
//! | [`progress`] | the [`progress::Progress`] trait the binary turns into progress bars |
//!
//! ## Example
//! Build a small forecast cube, average two monthly leads into a season and write it as
//! CF-NetCDF; read it back.
//! ```
//! # #[cfg(feature = "netcdf")] {
//! use ndarray::Array5;
//! use s2s_ensemble::calendar::{Calendar, CfDateTime};
//! use s2s_ensemble::cube::{Coords, Cube, Lead, Meta, Spatial};
//! use s2s_ensemble::io::{read_cube, write_cube, ReadOptions, WriteOptions};
//!
//! let coords = Coords {
//!     init: vec![CfDateTime::ymd(2020, 5, 1), CfDateTime::ymd(2021, 5, 1)],
//!     member: vec![0, 1, 2],
//!     lead: vec![Lead::months(1.0, 1.0), Lead::months(2.0, 1.0)],
//!     spatial: Spatial::Grid { lat: vec![5.0, 6.0], lon: vec![80.0, 81.0] },
//! };
//! let values = Array5::from_shape_fn((2, 3, 2, 2, 2), |(i, m, l, _, _)| (i + m + l) as f32);
//! let cube = Cube::new(values, coords, Meta::new("demo", "pr", "mm/day", Calendar::Standard)).unwrap();
//! let season = cube.aggregate_leads(&[0, 1]).unwrap();          // June–July of a May start
//! assert_eq!(season.coords.lead[0].label(), "months 2–3");
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("season.nc");
//! write_cube(&path, &season, &WriteOptions::default()).unwrap();
//! let back = read_cube(&path, &ReadOptions::default()).unwrap();
//! assert_eq!(back.values, season.values);
//! assert_eq!(back.coords.init[1], CfDateTime::ymd(2021, 5, 1));
//! # }
//! ```

pub mod bias;
pub mod bulletin;
pub mod calendar;
pub mod config;
pub mod cube;
pub mod cyclone;
pub mod emergency;
pub mod ensemble;
pub mod error;
pub mod grid;
pub mod indices;
#[cfg(feature = "netcdf")]
pub mod io;
pub mod progress;
pub mod stats;
pub mod synth;
pub mod units;
pub mod verify;

pub use cube::Cube;
pub use error::{Error, Result};
