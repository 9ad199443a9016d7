//! Emergency forecasts at a point at sea: where a ship or oil drifts (ensemble Lagrangian
//! particles in each member's currents and winds) and, in a later step, whether tropical
//! cyclones pass near the site.
//!
//! - [`drift`](mod@drift): particles advected by surface currents plus a windage fraction of the 10 m
//!   wind, RK4 (or RK2) on the sphere, bilinear/linear interpolation, random-walk diffusion,
//!   stranding on land (country polygons); release positions over a disk.
//! - [`passage`]: probability that a tropical cyclone passes within a radius of the site per
//!   day, per week and cumulatively, first passage times, and a strike-probability map.
//! - [`products`]: position-probability maps and the coast table (which country's coast, how
//!   likely by each day, how soon).

pub mod drift;
pub mod passage;
pub mod products;

pub use drift::{
    drift, seed_disk, DriftSpec, LandMask, Schedule, Scheme, Status, Trajectories, VelocityField,
};
pub use passage::{passage_risk, strike_probability, PassageRisk, Period};
pub use products::{coast_table, particle_weights, position_probability, CoastHit};
