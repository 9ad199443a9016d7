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
//! | module | what it computes | formulas and references in |
//! |---|---|---|
//! | [`error`] | the library's one error type, with path, variable and fix | [`error::Error`] |
//! | [`calendar`] | CF calendars, `"<unit> since <date>"` (including months since, NMME style) | [`calendar`] |
//! | [`units`] | quantities, canonical units (mm/day, °C), conversions, plausibility | [`units`] |
//! | [`stats`] | NaN-aware kernels, quantiles, gamma fits, categories and RPS shared by the science modules | [`stats`], [`stats::categories`] |
//! | [`cube`] | [`Cube`], leads and target periods, selections, lead aggregation, observation alignment | [`cube`] |
//! | [`grid`] | lon/lat grids, bilinear and first-order conservative regridding weights, inverse-distance regridding of curvilinear grids, grid-relative vectors turned to east/north, CF grid mappings (projections), country masks | [`grid`] |
//! | [`io`] | CF-NetCDF reading (dimension detection, decoding, hyperslabs; Zarr stores, GRIB through ecCodes, OPeNDAP, file sets), writing in the CDO or N-D layout ([`io::write::ProductLayout`]), every product schema ([`io::products`]), GeoTIFF ([`io::geotiff`]), IBTrACS best tracks ([`io::ibtracs`]), names of outputs ([`outputs::clobber`]) | [`io`] |
//! | [`memory`] | the memory budget every header- or flag-sized allocation is checked against | [`memory`] |
//! | [`outputs`] | how outputs reach the disk: never over an input, one staged set per job under a lock, temporaries and renames | [`outputs`] |
//! | [`bias`] | bias correction: mean and variance scaling, EQM, QDM, cross-validation | [`bias`] (Déqué 2007; Cannon et al. 2015) |
//! | [`ensemble`] | multi-model combination: weights, category edges and probabilities, regression-calibrated probabilities, PMME, mean, spread, percentiles | [`ensemble`], [`ensemble::calibrate`], [`mod@ensemble::combine`] |
//! | [`verify`] | deterministic and probabilistic skill: ACC, RMSE, MSSS, RPSS, fair CRPS, Brier, ROC, reliability, bootstrap | [`verify`] |
//! | [`indices`] | SPI of observed records and of forecast ensembles, drought-class probabilities | [`indices`] (McKee et al. 1993) |
//! | [`extremes`] | heat and cold waves, hot/cold days and heavy rain of subseasonal forecasts against their model climate (M-climate, EFI, SOT, Rx1day/Rx5day) with leave-one-year-out verification; calendar-day percentiles, WSDI/CSDI spells and the Excess Heat Factor of daily series | [`extremes`] (Zhang et al. 2011; Nairn & Fawcett 2015; Lalaurette 2003) |
//! | [`seaice`] | sea-ice extent and area (15 % rule, any grid), sea-ice probability, the bias-adjusted extent outlook with tercile and record-low probabilities | [`seaice`] (NSIDC Sea Ice Index; SIPN) |
//! | [`cyclone`] | tropical-cyclone detection and tracking (TempestExtremes criteria: pressure, vorticity, warm core), validation against best tracks, activity and the observed climatology, genesis potential | [`cyclone`] |
//! | [`distributed`] | runs over the processes of `mpirun -n N`: latitude bands balanced by work, halos, agreement on failures and whole-field checks, products gathered to the writing rank (`mpi` feature) | [`distributed`] |
//! | [`emergency`] | ensemble drift of a ship or oil from a point at sea, cyclone passage probability | [`emergency`] |
//! | [`bulletin`] | regions, summaries, maps (PNG), Markdown, HTML, PDF and JSON of the bulletins: the front with issuer, dates and headlines ([`bulletin::front`], [`mod@bulletin::headlines`]), the message catalogue in English and Russian ([`bulletin::catalogue`]), the A4 document ([`bulletin::pdf`]), POE curves and plumes of the regional mean ([`bulletin::regional`]), the regional table as CSV and GeoJSON ([`bulletin::gis`]) | [`bulletin`] |
//! | [`config`] | the outlook's TOML configuration, checked when read | `docs/config.md` |
//! | [`pipeline`] | the jobs: outlook, combine, cyclones, GIS export — plans in, files and typed reports out; the policy defaults | [`pipeline`], [`pipeline::policy`] |
//! | [`synth`] | deterministic synthetic workloads (values and their files) for tests, benches and demos | [`synth`] |
//! | [`progress`] | the [`progress::Progress`] trait the binary turns into progress bars | [`progress`] |
//!
//! Layers (data flows one way; `docs/architecture.md` draws them): `error, units, calendar,
//! stats` ← `cube` ← `grid, io, bias, ensemble, verify, indices, seaice, cyclone` ← `emergency,
//! bulletin` ← `pipeline` ← the `s2s` binary (flags → plan → job → print).
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
//!
//! Run the outlook job on a small synthetic workload (three models in three file conventions,
//! monthly observations): EQM, model-equal weights, a bulletin for South Asia.
//! ```
//! # #[cfg(feature = "netcdf")] {
//! use s2s_ensemble::pipeline::outlook::{outlook, OutlookPlan};
//! use s2s_ensemble::pipeline::RunOptions;
//! use s2s_ensemble::progress::NoProgress;
//! use s2s_ensemble::synth::workload::{write_workload, WorkloadOptions};
//! use s2s_ensemble::synth::{Preset, SynthConfig};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let workload = SynthConfig::preset(Preset::Small, false).unwrap();
//! write_workload(&workload, dir.path(), &WorkloadOptions::default(), &NoProgress).unwrap();
//! let models: String = ["ALPHA", "BRAVO", "CHARLIE"]
//!     .map(|m| format!("[[models]]\nname = \"{m}\"\nhindcast = \"hindcast_{m}.nc\"\nforecast = \"forecast_{m}.nc\"\n"))
//!     .concat();
//! let config = dir.path().join("outlook.toml");
//! std::fs::write(&config, format!(
//!     "variable = \"pr\"\nbias = \"eqm\"\nweights = \"model\"\nregions = [\"south_asia\"]\n{models}[observations]\npath = \"obs.nc\"\n"
//! )).unwrap();
//!
//! let plan = OutlookPlan::from_file(&config, Some(dir.path().join("out")), RunOptions::default()).unwrap();
//! let report = outlook(&plan, &NoProgress).unwrap();
//! let bulletin = std::fs::read_to_string(&report.bulletin[0]).unwrap();
//! assert!(bulletin.contains("## Headlines"));
//! assert!(report.variables[0].netcdf.ends_with("mme_forecast.pr.nc"));
//! assert!(report.stages.iter().any(|s| s.stage == "combine pr"));
//! # }
//! ```

pub mod bias;
pub mod bulletin;
pub mod calendar;
pub mod config;
pub mod cube;
pub mod cyclone;
pub mod distributed;
pub mod emergency;
pub mod ensemble;
pub mod error;
pub mod extremes;
pub mod grid;
pub mod indices;
#[cfg(feature = "netcdf")]
pub mod io;
pub mod memory;
pub mod outputs;
#[cfg(feature = "netcdf")]
pub mod pipeline;
pub mod progress;
pub mod seaice;
pub mod stats;
pub mod synth;
pub mod units;
pub mod verify;

pub use cube::Cube;
pub use error::{Error, Result};
