//! Lagrangian drift of particles (a ship, oil) in gridded surface currents and winds.
//!
//! # Model
//! Each particle moves with the surface current plus a fraction of the 10 m wind
//! (`windage`, "wind drift factor"):
//! `dx/dt = u_c(x, t) + α u_w(x, t)`, on the sphere
//! `dφ/dt = v / R`, `dλ/dt = u / (R cos φ)` with `R` = 6 371 km, integrated with the classical
//! fourth-order Runge–Kutta scheme (or the midpoint RK2) at a fixed step. Fields are
//! interpolated bilinearly in space and linearly in time; missing values (land in an ocean
//! model) are left out of the bilinear weights, and a particle where all four corners are
//! missing stops (stranded). After each step a random walk adds horizontal diffusion:
//! displacements `√(2 K Δt) · N(0, 1)` east and north (`K` in m² s⁻¹), from a ChaCha8 stream
//! per particle seeded from the run's seed, so results do not depend on threads.
//!
//! A particle whose new position is on land (a [`LandMask`], e.g. country polygons) strands
//! there: it stops, with status [`Status::Stranded`]; one that leaves the fields' grid stops
//! with [`Status::OutsideDomain`].
//!
//! # Conventions compared with OpenDrift and PyGNOME
//! - Windage: OpenDrift's `wind_drift_factor` (default 0.02 for `OceanDrift`; oil models use
//!   about 0.03) and PyGNOME's windage range 1–4 % are the same quantity; default here 3 %.
//! - Diffusion: OpenDrift's `drift:horizontal_diffusivity` (m² s⁻¹) with the same random-walk
//!   step `√(2KΔt)`; PyGNOME's `RandomMover` takes cm² s⁻¹ (10 m² s⁻¹ = 10⁵ cm² s⁻¹).
//! - Stranding: OpenDrift's `general:coastline_action = "stranding"`: particles that hit the
//!   coast stop and stay.
//! - Time stepping: OpenDrift defaults to RK1 (Euler) with an option for RK2/RK4; RK4 here.
//! - Trajectory files follow OpenDrift's CF discrete-sampling-geometry layout
//!   (`featureType = "trajectory"`, `(trajectory, time)`), written by the I/O layer.

use ndarray::{Array2, ArrayView2, ArrayView3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::EARTH_RADIUS_M;

/// A velocity field `(u east, v north)` in m/s on a regular lat/lon grid over time.
#[derive(Debug, Clone, Copy)]
pub struct VelocityField<'a> {
    lat0: f64,
    dlat: f64,
    lon0: f64,
    dlon: f64,
    periodic: bool,
    times_s: &'a [f64],
    u: ArrayView3<'a, f32>,
    v: ArrayView3<'a, f32>,
    /// Cells of the grid inside the domain of the model the field was regridded from (`None`:
    /// every cell): a missing value there is the model's land, beyond it the open boundary.
    domain: Option<ArrayView2<'a, bool>>,
}

impl<'a> VelocityField<'a> {
    /// A field from its regular, ascending latitudes and longitudes (degrees), its times
    /// (seconds since the drift's origin, ascending) and `u`, `v` on `(time, lat, lon)`.
    pub fn new(
        lat: &[f64],
        lon: &[f64],
        times_s: &'a [f64],
        u: ArrayView3<'a, f32>,
        v: ArrayView3<'a, f32>,
    ) -> Result<Self> {
        let bad = |why: String| Error::invalid("drift field", why);
        if lat.len() < 2 || lon.len() < 2 || times_s.is_empty() {
            return Err(bad(format!(
                "{} latitudes, {} longitudes, {} times: at least 2, 2 and 1 needed",
                lat.len(),
                lon.len(),
                times_s.len()
            )));
        }
        // Regular up to float32 jitter ([`crate::cube::regular_spacing`]); the spacing is the
        // mean one, so a jittered axis does not drift away from its own coordinates.
        let (Some(dlat), Some(dlon)) = (
            crate::cube::regular_spacing(lat),
            crate::cube::regular_spacing(lon),
        ) else {
            return Err(bad(
                "latitudes and longitudes must be regular and ascending (regrid the fields first)"
                    .into(),
            ));
        };
        if times_s.windows(2).any(|w| w[1] <= w[0]) {
            return Err(bad("times must increase".into()));
        }
        let want = (times_s.len(), lat.len(), lon.len());
        if u.dim() != want || v.dim() != want {
            return Err(Error::mismatch(
                "drift field",
                format!(
                    "u {:?} and v {:?} must be (time, lat, lon) = {want:?}",
                    u.dim(),
                    v.dim()
                ),
            ));
        }
        Ok(VelocityField {
            lat0: lat[0],
            dlat,
            lon0: lon[0],
            dlon,
            periodic: ((lon.len() as f64) * dlon - 360.0).abs() < 1e-6 * dlon,
            times_s,
            u,
            v,
            domain: None,
        })
    }

    /// The same field, told which `(lat, lon)` cells lie inside the domain of the model it was
    /// regridded from (a curvilinear ocean model covers only part of the lon/lat grid around
    /// it): a particle that reaches a cell outside is outside the domain, not on a coast.
    pub fn with_domain(self, domain: ArrayView2<'a, bool>) -> Result<Self> {
        let (_, ny, nx) = self.u.dim();
        if domain.dim() != (ny, nx) {
            return Err(Error::mismatch(
                "drift field",
                format!("domain mask {:?} for a ({ny}, {nx}) grid", domain.dim()),
            ));
        }
        Ok(VelocityField {
            domain: Some(domain),
            ..self
        })
    }

    /// Fractional grid indices `(fy, fx)` of a place inside the grid, `fx` in `[0, nx)` on a
    /// periodic grid and in `[0, nx − 1]` otherwise (a longitude in the other convention,
    /// −180…180 vs 0…360, moved by a turn); `None` outside.
    #[inline]
    fn grid_position(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        let (_, ny, nx) = self.u.dim();
        let fy = (lat - self.lat0) / self.dlat;
        let mut fx = (lon - self.lon0) / self.dlon;
        if self.periodic {
            fx = fx.rem_euclid(nx as f64);
        } else {
            let nlon = 360.0 / self.dlon;
            if fx < 0.0 {
                fx += nlon;
            } else if fx > (nx - 1) as f64 {
                fx -= nlon;
            }
        }
        let x_inside = if self.periodic {
            fx >= 0.0
        } else {
            (0.0..=(nx - 1) as f64).contains(&fx)
        };
        ((0.0..=(ny - 1) as f64).contains(&fy) && x_inside).then_some((fy, fx))
    }

    /// Whether a place is inside the grid (whatever the values there) and, for a field with a
    /// domain mask ([`VelocityField::with_domain`]), its nearest cell inside the domain.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        match (self.grid_position(lat, lon), &self.domain) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some((fy, fx)), Some(d)) => {
                let (ny, nx) = d.dim();
                let j = (fy.round() as usize).min(ny - 1);
                let i = (fx.round() as usize) % nx;
                d[[j, i]]
            }
        }
    }

    /// `(u, v)` at a time and place; `None` outside the grid or where all four corners are
    /// missing. Before the first or after the last time the nearest time is used.
    #[inline]
    pub fn sample(&self, t_s: f64, lat: f64, lon: f64) -> Option<(f64, f64)> {
        let (_, ny, nx) = self.u.dim();
        let (fy, fx) = self.grid_position(lat, lon)?;
        let (j, i) = ((fy as usize).min(ny - 2), fx as usize);
        let (i1, ax) = if i + 1 < nx {
            (i + 1, fx - i as f64)
        } else if self.periodic {
            (0, fx - i as f64)
        } else {
            (i, 0.0) // on the last column
        };
        let ay = fy - j as f64;
        // time interpolation
        let ts = self.times_s;
        let (k0, k1, at) = if t_s <= ts[0] {
            (0, 0, 0.0)
        } else if t_s >= ts[ts.len() - 1] {
            (ts.len() - 1, ts.len() - 1, 0.0)
        } else {
            let k = ts.partition_point(|&x| x <= t_s) - 1;
            (k, k + 1, (t_s - ts[k]) / (ts[k + 1] - ts[k]))
        };
        let corners = [
            (j, i, (1.0 - ay) * (1.0 - ax)),
            (j, i1, (1.0 - ay) * ax),
            (j + 1, i, ay * (1.0 - ax)),
            (j + 1, i1, ay * ax),
        ];
        let (mut su, mut sv, mut sw) = (0.0, 0.0, 0.0);
        for (jj, ii, w) in corners {
            let u = (1.0 - at) * self.u[[k0, jj, ii]] as f64 + at * self.u[[k1, jj, ii]] as f64;
            let v = (1.0 - at) * self.v[[k0, jj, ii]] as f64 + at * self.v[[k1, jj, ii]] as f64;
            if u.is_finite() && v.is_finite() {
                su += w * u;
                sv += w * v;
                sw += w;
            }
        }
        (sw > 1e-12).then(|| (su / sw, sv / sw))
    }
}

/// Where a particle is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(i8)]
pub enum Status {
    /// Drifting.
    Active = 0,
    /// Reached land (a coastline polygon, or a cell the currents' model masks as land) and
    /// stopped.
    Stranded = 1,
    /// Left the fields' grid (or met missing values everywhere) and stopped.
    OutsideDomain = 2,
}

/// Time-stepping scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Midpoint Runge–Kutta (second order).
    Rk2,
    /// Classical Runge–Kutta (fourth order).
    Rk4,
}

/// Drift settings; [`Default`]: oil (3 % windage), 10 m² s⁻¹, RK4, hourly steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftSpec {
    /// Fraction of the 10 m wind added to the current (0.03 for oil; a leeway for a ship).
    pub windage: f64,
    /// Horizontal diffusivity (m² s⁻¹); 0 switches the random walk off.
    pub diffusivity_m2_s: f64,
    /// Time step (s).
    pub step_s: f64,
    /// Scheme.
    pub scheme: Scheme,
    /// Seed of the random walk.
    pub seed: u64,
}

impl Default for DriftSpec {
    fn default() -> Self {
        DriftSpec {
            windage: 0.03,
            diffusivity_m2_s: 10.0,
            step_s: 3600.0,
            scheme: Scheme::Rk4,
            seed: 1,
        }
    }
}

/// Land, for stranding.
pub trait LandMask: Sync {
    /// Whether the point (degrees) is on land.
    fn is_land(&self, lat: f64, lon: f64) -> bool;
}

impl LandMask for crate::grid::Countries {
    fn is_land(&self, lat: f64, lon: f64) -> bool {
        crate::grid::Countries::is_land(self, lat, lon)
    }
}

impl LandMask for crate::grid::LandRaster<'_> {
    fn is_land(&self, lat: f64, lon: f64) -> bool {
        crate::grid::LandRaster::is_land(self, lat, lon)
    }
}

/// Positions of every particle at the output times.
#[derive(Debug, Clone)]
pub struct Trajectories {
    /// Output times (s since the origin).
    pub times_s: Vec<f64>,
    /// Latitudes `(particle, time)`; NaN before release... never: from the first time on.
    pub lat: Array2<f64>,
    /// Longitudes `(particle, time)`.
    pub lon: Array2<f64>,
    /// Status `(particle, time)` ([`Status`] as i8).
    pub status: Array2<i8>,
}

/// Moves `(lat, lon)` by a displacement in metres east and north.
#[inline]
fn displace(lat: f64, lon: f64, east_m: f64, north_m: f64) -> (f64, f64) {
    let dlat = (north_m / EARTH_RADIUS_M).to_degrees();
    let coslat = lat.to_radians().cos().max(1e-6);
    let dlon = (east_m / (EARTH_RADIUS_M * coslat)).to_degrees();
    (lat + dlat, lon + dlon)
}

/// When a drift starts, how long it runs and how often positions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Release time (s since the fields' time origin).
    pub start_s: f64,
    /// Number of time steps.
    pub steps: usize,
    /// Keep positions every this many steps (and at the release).
    pub record_every: usize,
}

/// Drifts particles from `start` positions `(lat, lon)` over a [`Schedule`]. Parallel over
/// particles.
pub fn drift(
    currents: &VelocityField<'_>,
    wind: Option<&VelocityField<'_>>,
    start: &[(f64, f64)],
    schedule: Schedule,
    spec: &DriftSpec,
    land: Option<&dyn LandMask>,
) -> Result<Trajectories> {
    let Schedule {
        start_s: t0_s,
        steps,
        record_every,
    } = schedule;
    if spec.step_s.is_nan() || spec.step_s <= 0.0 || record_every == 0 {
        return Err(Error::invalid(
            "drift",
            "the time step and the recording interval must be positive",
        ));
    }
    if !(0.0..=0.2).contains(&spec.windage)
        || spec.diffusivity_m2_s.is_nan()
        || spec.diffusivity_m2_s < 0.0
    {
        return Err(Error::invalid(
            "drift",
            format!(
                "windage {} must be in 0–0.2 and diffusivity {} m²/s ≥ 0",
                spec.windage, spec.diffusivity_m2_s
            ),
        ));
    }
    let n_rec = steps / record_every + 1;
    let times_s: Vec<f64> = (0..n_rec)
        .map(|k| t0_s + (k * record_every) as f64 * spec.step_s)
        .collect();
    let velocity = |t: f64, lat: f64, lon: f64| -> Option<(f64, f64)> {
        let (mut u, mut v) = currents.sample(t, lat, lon)?;
        if let Some(w) = wind {
            if spec.windage > 0.0 {
                let (uw, vw) = w.sample(t, lat, lon)?;
                u += spec.windage * uw;
                v += spec.windage * vw;
            }
        }
        Some((u, v))
    };
    // derivative of (lat, lon) in degrees per second
    let rate = |t: f64, lat: f64, lon: f64| -> Option<(f64, f64)> {
        let (u, v) = velocity(t, lat, lon)?;
        let coslat = lat.to_radians().cos().max(1e-6);
        Some((
            (v / EARTH_RADIUS_M).to_degrees(),
            (u / (EARTH_RADIUS_M * coslat)).to_degrees(),
        ))
    };
    let dt = spec.step_s;
    let sigma = (2.0 * spec.diffusivity_m2_s * dt).sqrt();
    let rows: Vec<(Vec<f64>, Vec<f64>, Vec<i8>)> = start
        .par_iter()
        .enumerate()
        .map(|(p, &(lat0, lon0))| {
            let mut rng = ChaCha8Rng::seed_from_u64(
                spec.seed ^ (p as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let (mut la, mut lo) = (lat0, lon0);
            let mut status = if land.is_some_and(|l| l.is_land(la, lo)) {
                Status::Stranded
            } else {
                Status::Active
            };
            let mut out = (
                Vec::with_capacity(n_rec),
                Vec::with_capacity(n_rec),
                Vec::with_capacity(n_rec),
            );
            out.0.push(la);
            out.1.push(lo);
            out.2.push(status as i8);
            for s in 0..steps {
                if status == Status::Active {
                    let t = t0_s + s as f64 * dt;
                    let next = match spec.scheme {
                        Scheme::Rk2 => rate(t, la, lo).and_then(|k1| {
                            let k2 =
                                rate(t + dt / 2.0, la + dt / 2.0 * k1.0, lo + dt / 2.0 * k1.1)?;
                            Some((la + dt * k2.0, lo + dt * k2.1))
                        }),
                        Scheme::Rk4 => rate(t, la, lo).and_then(|k1| {
                            let k2 =
                                rate(t + dt / 2.0, la + dt / 2.0 * k1.0, lo + dt / 2.0 * k1.1)?;
                            let k3 =
                                rate(t + dt / 2.0, la + dt / 2.0 * k2.0, lo + dt / 2.0 * k2.1)?;
                            let k4 = rate(t + dt, la + dt * k3.0, lo + dt * k3.1)?;
                            Some((
                                la + dt / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0),
                                lo + dt / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1),
                            ))
                        }),
                    };
                    match next {
                        // Inside the grid but no current: the ocean model's own land (its mask),
                        // a coast like the polygons'. Beyond the grid: outside the domain.
                        None => {
                            let ahead = rate(t, la, lo)
                                .map_or((la, lo), |k1| (la + dt * k1.0, lo + dt * k1.1));
                            status = if currents.contains(la, lo)
                                && currents.contains(ahead.0, ahead.1)
                            {
                                Status::Stranded
                            } else {
                                Status::OutsideDomain
                            };
                        }
                        Some((mut nla, mut nlo)) => {
                            if sigma > 0.0 {
                                let e: f64 = StandardNormal.sample(&mut rng);
                                let n: f64 = StandardNormal.sample(&mut rng);
                                (nla, nlo) = displace(nla, nlo, sigma * e, sigma * n);
                            }
                            // land at the midpoint or the end of the step strands
                            let mid = ((la + nla) / 2.0, (lo + nlo) / 2.0);
                            if let Some(l) = land {
                                if l.is_land(mid.0, mid.1) {
                                    (nla, nlo) = mid;
                                    status = Status::Stranded;
                                } else if l.is_land(nla, nlo) {
                                    status = Status::Stranded;
                                }
                            }
                            la = nla.clamp(-90.0, 90.0);
                            lo = nlo;
                        }
                    }
                }
                if (s + 1) % record_every == 0 {
                    out.0.push(la);
                    out.1.push(lo);
                    out.2.push(status as i8);
                }
            }
            out
        })
        .collect();
    let n = start.len();
    let mut lat = Array2::<f64>::zeros((n, n_rec));
    let mut lon = Array2::<f64>::zeros((n, n_rec));
    let mut st = Array2::<i8>::zeros((n, n_rec));
    for (p, (a, b, c)) in rows.into_iter().enumerate() {
        for k in 0..n_rec {
            lat[[p, k]] = a[k];
            lon[[p, k]] = b[k];
            st[[p, k]] = c[k];
        }
    }
    Ok(Trajectories {
        times_s,
        lat,
        lon,
        status: st,
    })
}

/// `n` release positions uniformly distributed over a disk of `radius_km` around a point
/// (seeded; the first is the point itself).
pub fn seed_disk(lat: f64, lon: f64, radius_km: f64, n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|k| {
            if k == 0 || radius_km <= 0.0 {
                return (lat, lon);
            }
            let u: f64 = rand::Rng::random(&mut rng);
            let th: f64 = rand::Rng::random::<f64>(&mut rng) * std::f64::consts::TAU;
            let r = radius_km * 1000.0 * u.sqrt();
            displace(lat, lon, r * th.cos(), r * th.sin())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::great_circle;
    use ndarray::Array3;

    /// A regular grid and constant-in-time fields from a function of (lat, lon).
    fn field(
        lat: (f64, f64, f64),
        lon: (f64, f64, f64),
        f: impl Fn(f64, f64) -> (f64, f64),
    ) -> (Vec<f64>, Vec<f64>, Array3<f32>, Array3<f32>) {
        let la: Vec<f64> = (0..)
            .map(|j| lat.0 + j as f64 * lat.2)
            .take_while(|&x| x <= lat.1 + 1e-9)
            .collect();
        let lo: Vec<f64> = (0..)
            .map(|i| lon.0 + i as f64 * lon.2)
            .take_while(|&x| x <= lon.1 + 1e-9)
            .collect();
        let u = Array3::from_shape_fn((2, la.len(), lo.len()), |(_, j, i)| {
            f(la[j], lo[i]).0 as f32
        });
        let v = Array3::from_shape_fn((2, la.len(), lo.len()), |(_, j, i)| {
            f(la[j], lo[i]).1 as f32
        });
        (la, lo, u, v)
    }

    const TIMES: [f64; 2] = [0.0, 40.0 * 86_400.0];

    fn sched(steps: usize, record_every: usize) -> Schedule {
        Schedule {
            start_s: 0.0,
            steps,
            record_every,
        }
    }

    fn no_diffusion() -> DriftSpec {
        DriftSpec {
            diffusivity_m2_s: 0.0,
            ..Default::default()
        }
    }

    #[test]
    fn uniform_current_moves_43_2_km_a_day() {
        let (la, lo, u, v) = field((-10.0, 20.0, 0.5), (70.0, 100.0, 0.5), |_, _| (0.5, 0.0));
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        for lat0 in [0.0, 7.0] {
            let tr = drift(
                &c,
                None,
                &[(lat0, 82.5)],
                sched(24, 24),
                &no_diffusion(),
                None,
            )
            .unwrap();
            let (lat1, lon1) = (tr.lat[[0, 1]], tr.lon[[0, 1]]);
            // along the parallel: 43.2 km = Δλ R cos φ
            let along = (lon1 - 82.5).to_radians() * EARTH_RADIUS_M * lat0.to_radians().cos();
            assert!((along - 43_200.0).abs() < 1e-3, "{along}");
            assert!((lat1 - lat0).abs() < 1e-12);
            // the great circle between the ends is shorter by less than 1e-6 relative
            let gc = great_circle(lat0, 82.5, lat1, lon1) * EARTH_RADIUS_M;
            assert!((gc - 43_200.0).abs() / 43_200.0 < 1e-6, "{gc}");
        }
    }

    #[test]
    fn windage_adds_exactly_its_fraction() {
        // values exact in f32, so the check can be to the nanometre
        let (la, lo, u, v) = field((-10.0, 20.0, 1.0), (70.0, 100.0, 1.0), |_, _| (0.25, 0.125));
        let (_, _, wu, wv) = field((-10.0, 20.0, 1.0), (70.0, 100.0, 1.0), |_, _| (10.0, -5.0));
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        let w = VelocityField::new(&la, &lo, &TIMES, wu.view(), wv.view()).unwrap();
        let tr = drift(
            &c,
            Some(&w),
            &[(0.0, 80.0)],
            sched(10, 10),
            &no_diffusion(),
            None,
        )
        .unwrap();
        // (0.25 + 0.03·10, 0.125 − 0.03·5) = (0.55, −0.025) m/s for 10 h
        let north = (tr.lat[[0, 1]]).to_radians() * EARTH_RADIUS_M;
        assert!((north - (-0.025 * 36_000.0)).abs() < 1e-6, "{north}");
        let east = (tr.lon[[0, 1]] - 80.0).to_radians() * EARTH_RADIUS_M;
        assert!((east - 0.55 * 36_000.0).abs() < 0.5, "{east}"); // cos φ ≈ 1 near the equator
    }

    /// Solid-body rotation about a point: one revolution returns the particle to its start
    /// within 0.1 % of the circle's circumference (RK4, hourly steps, 0.25° grid).
    #[test]
    fn solid_body_rotation_returns_to_the_start() {
        let (latc, lonc) = (10.0f64, 85.0f64);
        let period = 5.0 * 86_400.0;
        let omega = std::f64::consts::TAU / period;
        let rot = |lat: f64, lon: f64| {
            crate::synth::currents::solid_body_velocity((latc, lonc), omega, lat, lon)
        };
        let (la, lo, u, v) = field((0.0, 20.0, 0.25), (75.0, 95.0, 0.25), rot);
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        let start = (latc + 3.0, lonc);
        let steps = (period / 3600.0) as usize;
        let tr = drift(
            &c,
            None,
            &[start],
            sched(steps, steps),
            &no_diffusion(),
            None,
        )
        .unwrap();
        let miss = great_circle(start.0, start.1, tr.lat[[0, 1]], tr.lon[[0, 1]]) * EARTH_RADIUS_M;
        let circumference = std::f64::consts::TAU * 3f64.to_radians().sin() * EARTH_RADIUS_M;
        assert!(
            miss < 1e-3 * circumference,
            "missed by {miss:.0} m of {circumference:.0} m"
        );
    }

    #[test]
    fn random_walk_spreads_as_2kt_and_is_reproducible() {
        let (la, lo, u, v) = field((-10.0, 20.0, 1.0), (70.0, 100.0, 1.0), |_, _| (0.0, 0.0));
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        let spec = DriftSpec::default(); // K = 10 m²/s
        let start = vec![(5.0, 85.0); 4000];
        let a = drift(&c, None, &start, sched(24, 24), &spec, None).unwrap();
        let b = drift(&c, None, &start, sched(24, 24), &spec, None).unwrap();
        assert_eq!(a.lat, b.lat);
        // variance of the northward displacement after a day: 2 K t = 1.728e6 m²
        let var = a
            .lat
            .column(1)
            .iter()
            .map(|&l| ((l - 5.0).to_radians() * EARTH_RADIUS_M).powi(2))
            .sum::<f64>()
            / 4000.0;
        assert!((var / 1.728e6 - 1.0).abs() < 0.1, "{var}");
    }

    /// Particles pushed east onto Sri Lanka strand on its coast; none is ever on land.
    #[test]
    fn stranding_on_country_polygons() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/regions/countries_110m.geojson"
        );
        let countries =
            crate::grid::Countries::from_geojson(&std::fs::read_to_string(path).unwrap(), path)
                .unwrap();
        let (la, lo, u, v) = field((0.0, 15.0, 0.25), (75.0, 90.0, 0.25), |_, _| (-0.5, 0.0));
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        let start = seed_disk(7.0, 82.5, 20.0, 200, 3);
        let tr = drift(
            &c,
            None,
            &start,
            sched(24 * 10, 24),
            &DriftSpec::default(),
            Some(&countries),
        )
        .unwrap();
        let last = tr.times_s.len() - 1;
        let stranded = (0..start.len())
            .filter(|&p| tr.status[[p, last]] == Status::Stranded as i8)
            .count();
        assert!(stranded > 150, "{stranded} of 200 stranded");
        for p in 0..start.len() {
            for k in 0..=last {
                if tr.status[[p, k]] == Status::Active as i8 {
                    assert!(!countries.is_land(tr.lat[[p, k]], tr.lon[[p, k]]));
                }
            }
            if tr.status[[p, last]] == Status::Stranded as i8 {
                let c = countries.at(tr.lat[[p, last]], tr.lon[[p, last]]);
                assert_eq!(c.map(|c| c.name.as_str()), Some("Sri Lanka"));
            }
        }
    }

    #[test]
    fn leaving_the_grid_and_bad_fields() {
        let (la, lo, u, v) = field((0.0, 2.0, 1.0), (80.0, 82.0, 1.0), |_, _| (1.0, 0.0));
        let c = VelocityField::new(&la, &lo, &TIMES, u.view(), v.view()).unwrap();
        let tr = drift(
            &c,
            None,
            &[(1.0, 81.5)],
            sched(48, 48),
            &no_diffusion(),
            None,
        )
        .unwrap();
        assert_eq!(tr.status[[0, 1]], Status::OutsideDomain as i8);
        assert!(VelocityField::new(&[0.0, 1.0, 3.0], &lo, &TIMES, u.view(), v.view()).is_err());
        let spec = DriftSpec {
            windage: 0.5,
            ..Default::default()
        };
        assert!(drift(&c, None, &[(1.0, 81.0)], sched(1, 1), &spec, None).is_err());
    }
}
