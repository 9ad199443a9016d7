//! Sea ice: extent and area from concentration fields, the sea-ice probability of an ensemble,
//! and the seasonal outlook of a month's extent (the Arctic September minimum).
//!
//! - [`extent`]: per hemisphere, **extent** `E = Σᵢ Aᵢ · [cᵢ ≥ 15 %]` and **area**
//!   `A = Σᵢ Aᵢ · cᵢ · [cᵢ ≥ 15 %]` over cells `i` of area `Aᵢ` and concentration `cᵢ` — the
//!   definitions of the NSIDC Sea Ice Index (Fetterer et al. 2017, doi:10.7265/N5K072F8), where
//!   15 % is the level below which passive-microwave concentrations are not trusted. Cell
//!   areas come from the file (`cell_measures`, `areacello`), from cell vertices (spherical
//!   polygon area), or from a regular grid. The **sea-ice probability** (SIP) of a cell is the
//!   share of members with `c ≥ 15 %`, as the Sea Ice Prediction Network's outlooks map it
//!   (Zampieri et al. 2018, GRL 45, doi:10.1029/2018GL079394).
//! - [`outlook`]: each model's members of the target month, **bias-adjusted** against the
//!   observed extent over the hindcast years (mean and linear trend: `x' = x − (aₘ + bₘ·y) +
//!   (aₒ + bₒ·y)`, fitted by least squares on the ensemble mean and the observations; the
//!   hindcast skill is cross-validated leaving each year out), pooled with equal weight per
//!   model into a multi-model distribution; tercile probabilities against the observed
//!   climate of the hindcast years and the probability of a record low; the hindcast RMSE,
//!   correlation and mean-square skill against the observed linear trend (the reference every
//!   extent outlook has to beat; Blanchard-Wrigglesworth et al. 2015, BAMS 96,
//!   doi:10.1175/BAMS-D-14-00163.1).

pub mod extent;
pub mod outlook;

pub use extent::{
    ice_totals, polygon_area_km2, sea_ice_probability, ConcentrationScale, HemisphereTotals,
    IceTotals, EXTENT_THRESHOLD,
};
pub use outlook::{
    extent_outlook, Adjustment, ExtentOutlook, ExtentProbabilities, HindcastSkill, ModelExtents,
    ModelOutlook, ObservedClimate,
};
