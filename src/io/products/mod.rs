//! One module per product schema the jobs of [`crate::pipeline`] write: which variables,
//! dimensions, units and CF attributes each file holds. The jobs compute, these modules lay the
//! results out in files (through [`super::CfWriter`]: NetCDF-4, written under a temporary name
//! and renamed on success).
//!
//! | module | files |
//! |---|---|
//! | [`mme`] | `mme_forecast.<var>.nc`, `mme_hindcast.<var>.nc`: the multi-model ensemble |
//! | [`cyclones`] | `track_density.nc`, `genesis_outlook.nc`, the GPI fields of `s2s cyclones gpi` |
//! | [`skill`] | `skill.<var>.nc`: skill maps of each model and the MME |
//! | [`spi`] | the SPI of an observed record with its fitted gamma parameters |
//! | [`emergency`] | `trajectories.nc`, `drift_probability.nc` |
//! | [`drought`] | `spi_forecast.<var>.nc`: SPI-class, drought and wet probabilities |
//! | [`extremes`] | `extremes_forecast.<var>.nc`: EFI, SOT, heat/cold-wave and heavy-rain probabilities per target period |

pub mod cyclones;
pub mod drought;
pub mod emergency;
pub mod extremes;
pub mod mme;
pub mod skill;
pub mod spi;

pub use drought::write_drought_outlook;
pub use mme::{Layout, MmeFile};
