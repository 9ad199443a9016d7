//! Synthetic daily or 6-hourly sea-level pressure and wind fields carrying moving idealised
//! tropical cyclones with known tracks, for testing detection and tracking.
//!
//! # The fields
//! - **Background** pressure: `p₀ = 101 000 Pa + 300 Pa · cos φ · sin(2π(λ − 5 t)/60°)` (a
//!   planetary wave drifting east by 5° a day, with `t` in days), plus smooth noise of ±20 Pa
//!   from four random plane waves of 8–25° wavelength per time step. None of it rises by 200 Pa
//!   within 5.5° (the wave by at most `300 (1 − cos(2π·5.5/60)) ≈ 50 Pa`), so vortex-free
//!   fields have no closed lows. Background wind: 5 m/s easterly trades equatorward of 25°,
//!   5 m/s westerlies poleward, plus ±1 m/s noise.
//! - **Vortices**: Holland (1980) profile around a moving centre,
//!   `p(r) = p₀ − Δp (1 − exp(−(R_max/r)^B))` with `B = 1.5`, `R_max = 100 km`, and the
//!   gradient wind `V(r) = √(B Δp/ρ (R_max/r)^B exp(−(R_max/r)^B) + (rf/2)²) − rf/2`
//!   (ρ = 1.15 kg m⁻³, `f` the Coriolis parameter of the centre), reduced by 0.8 to the
//!   surface, turning cyclonically (anticlockwise in the north, clockwise in the south), plus
//!   half the storm's translation velocity. The depth `Δp` grows and decays as
//!   `Δp_max · max(0.25, sin(π (s + ½)/n))` over the `n` steps of the storm's life.
//! - **Warm core**: the 300–500 hPa geopotential thickness
//!   `36 800 m² s⁻² + (80 + 100 Δp/2000 Pa) exp(−(r/3°)²)` (plus the background's scaled wave), so the TE warm-core test passes at
//!   every planted storm.
//!
//! Each member draws its noise from its own ChaCha8 stream, so the fields do not depend on
//! thread scheduling.

use ndarray::{Array3, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CfDateTime};
use crate::error::{Error, Result};
use crate::grid::{great_circle, EARTH_RADIUS_M};

const HOLLAND_B: f64 = 1.5;
const R_MAX_M: f64 = 100_000.0;
const AIR_DENSITY: f64 = 1.15;
const OMEGA: f64 = 7.292e-5;
const SURFACE_FACTOR: f64 = 0.8;
const THICKNESS_BASE: f64 = 36_800.0;

/// One planted storm: a straight or curving path at constant acceleration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlantedStorm {
    /// Member it lives in (0-based).
    pub member: usize,
    /// Step of genesis.
    pub genesis_step: usize,
    /// Number of steps it lives.
    pub steps: usize,
    /// Genesis latitude, longitude (degrees).
    pub lat0: f64,
    /// Genesis longitude (degrees east).
    pub lon0: f64,
    /// Initial motion (degrees of latitude per day).
    pub dlat_per_day: f64,
    /// Initial motion (degrees of longitude per day).
    pub dlon_per_day: f64,
    /// Change of the latitude motion per day (recurvature), degrees/day².
    pub dlat_accel: f64,
    /// Change of the longitude motion per day, degrees/day².
    pub dlon_accel: f64,
    /// Largest pressure deficit (Pa).
    pub depth_pa: f64,
}

impl PlantedStorm {
    /// Centre (lat, lon) and depth (Pa) at `days` after genesis, or `None` outside its life.
    fn at(&self, step: usize, step_hours: f64) -> Option<(f64, f64, f64)> {
        if step < self.genesis_step || step >= self.genesis_step + self.steps {
            return None;
        }
        let s = (step - self.genesis_step) as f64;
        let d = s * step_hours / 24.0;
        let lat = self.lat0 + self.dlat_per_day * d + 0.5 * self.dlat_accel * d * d;
        let lon = self.lon0 + self.dlon_per_day * d + 0.5 * self.dlon_accel * d * d;
        let life = (std::f64::consts::PI * (s + 0.5) / self.steps as f64).sin();
        Some((lat, lon, self.depth_pa * life.max(0.25)))
    }

    /// Translation velocity (m/s east, m/s north) at `step`.
    fn velocity(&self, step: usize, step_hours: f64) -> (f64, f64) {
        let d = (step.saturating_sub(self.genesis_step)) as f64 * step_hours / 24.0;
        let lat = self.lat0 + self.dlat_per_day * d;
        let m_per_deg = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        let vlat = (self.dlat_per_day + self.dlat_accel * d) * m_per_deg / 86_400.0;
        let vlon = (self.dlon_per_day + self.dlon_accel * d) * m_per_deg * lat.to_radians().cos()
            / 86_400.0;
        (vlon, vlat)
    }
}

/// A synthetic storm data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormConfig {
    /// Latitudes (degrees, south to north).
    pub lat: Vec<f64>,
    /// Longitudes (degrees east).
    pub lon: Vec<f64>,
    /// Time of the first step.
    pub start: CfDateTime,
    /// Hours between steps (6 or 24 usually).
    pub step_hours: f64,
    /// Number of steps.
    pub steps: usize,
    /// Number of members.
    pub members: usize,
    /// The planted storms.
    pub storms: Vec<PlantedStorm>,
    /// Seed of the noise.
    pub seed: u64,
}

/// A planted storm's centre at one step: the exact answer detection should find.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TruthPoint {
    /// Index of the storm in [`StormConfig::storms`].
    pub storm: usize,
    /// Member.
    pub member: usize,
    /// Step.
    pub step: usize,
    /// Latitude (degrees).
    pub lat: f64,
    /// Longitude (degrees).
    pub lon: f64,
    /// Pressure deficit (Pa).
    pub depth_pa: f64,
}

/// The fields of one member, each `(time, lat, lon)`.
#[derive(Debug, Clone)]
pub struct StormFields {
    /// Sea-level pressure (Pa).
    pub psl: Array3<f32>,
    /// Eastward 10 m wind (m/s).
    pub uas: Array3<f32>,
    /// Northward 10 m wind (m/s).
    pub vas: Array3<f32>,
    /// Z(300 hPa) − Z(500 hPa) geopotential thickness (m² s⁻²).
    pub thickness: Array3<f32>,
}

impl StormConfig {
    /// The demo set: a 1° grid over 30–180°E, 30°S–45°N from 1 September 2020, four members
    /// over `days` days (at least 20): member 0 a Bay of Bengal storm moving north-west and a
    /// recurving western North Pacific typhoon; member 1 an Arabian Sea storm and a South
    /// Indian Ocean cyclone; member 2 a storm moving west towards eastern Sri Lanka; member 3
    /// none.
    pub fn demo(step_hours: f64, days: usize) -> Result<Self> {
        if !(step_hours > 0.0 && 24.0 % step_hours == 0.0) {
            return Err(Error::invalid(
                "storm time step",
                format!("{step_hours} h: must divide a day (1, 3, 6, 12 or 24 h)"),
            ));
        }
        if days < 20 {
            return Err(Error::invalid(
                "storm days",
                format!("{days}: the demo storms need at least 20 days"),
            ));
        }
        let per_day = (24.0 / step_hours) as usize;
        let st = |member, day: f64, life_days: f64, lat0, lon0, dlat, dlon, alat, alon, depth| {
            PlantedStorm {
                member,
                genesis_step: (day * per_day as f64) as usize,
                steps: (life_days * per_day as f64) as usize,
                lat0,
                lon0,
                dlat_per_day: dlat,
                dlon_per_day: dlon,
                dlat_accel: alat,
                dlon_accel: alon,
                depth_pa: depth,
            }
        };
        Ok(StormConfig {
            lat: (0..76).map(|j| -30.0 + j as f64).collect(),
            lon: (0..151).map(|i| 30.0 + i as f64).collect(),
            start: CfDateTime::ymd(2020, 9, 1),
            step_hours,
            steps: days * per_day,
            members: 4,
            storms: vec![
                st(0, 3.0, 6.0, 10.0, 89.0, 0.8, -0.6, 0.0, 0.0, 3000.0),
                st(0, 10.0, 8.0, 12.0, 145.0, 0.3, -1.8, 0.25, 0.3, 4500.0),
                st(1, 5.0, 5.0, 13.0, 67.0, 0.6, -0.5, 0.0, 0.0, 2000.0),
                st(1, 8.0, 7.0, -11.0, 80.0, -0.7, -1.0, -0.05, 0.0, 3500.0),
                st(2, 1.0, 6.0, 6.0, 92.0, 0.1, -1.6, 0.0, 0.0, 2500.0),
            ],
            seed: 20_200_903,
        })
    }

    /// The same storms on a 1° global grid (181 latitudes from the South Pole, 360 longitudes
    /// from 0°E).
    pub fn on_global_grid(mut self) -> Self {
        self.lat = (0..181).map(|j| -90.0 + j as f64).collect();
        self.lon = (0..360).map(|i| i as f64).collect();
        self
    }

    /// Time of each step.
    pub fn times(&self) -> Result<Vec<CfDateTime>> {
        (0..self.steps)
            .map(|t| {
                self.start
                    .add_seconds(t as f64 * self.step_hours * 3600.0, Calendar::Standard)
            })
            .collect()
    }

    /// Every planted centre at every step of its life.
    pub fn truth(&self) -> Vec<TruthPoint> {
        let mut out = Vec::new();
        for (k, s) in self.storms.iter().enumerate() {
            for step in 0..self.steps {
                if let Some((lat, lon, depth)) = s.at(step, self.step_hours) {
                    out.push(TruthPoint {
                        storm: k,
                        member: s.member,
                        step,
                        lat,
                        lon,
                        depth_pa: depth,
                    });
                }
            }
        }
        out
    }

    /// The fields of one member (parallel over time steps).
    pub fn member_fields(&self, member: usize) -> StormFields {
        let (nt, ny, nx) = (self.steps, self.lat.len(), self.lon.len());
        let mut f = StormFields {
            psl: Array3::zeros((nt, ny, nx)),
            uas: Array3::zeros((nt, ny, nx)),
            vas: Array3::zeros((nt, ny, nx)),
            thickness: Array3::zeros((nt, ny, nx)),
        };
        let storms: Vec<&PlantedStorm> =
            self.storms.iter().filter(|s| s.member == member).collect();
        f.psl
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(f.uas.axis_iter_mut(Axis(0)))
            .zip(f.vas.axis_iter_mut(Axis(0)))
            .zip(f.thickness.axis_iter_mut(Axis(0)))
            .enumerate()
            .for_each(|(t, (((mut p, mut u), mut v), mut th))| {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    self.seed ^ ((member as u64) << 40) ^ (t as u64).wrapping_mul(0x9E37_79B9),
                );
                // four plane waves of smooth noise for pressure, two for wind
                let waves: Vec<(f64, f64, f64, f64)> = (0..6)
                    .map(|_| {
                        let wl: f64 = rng.random_range(8.0..25.0);
                        let dir: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                        let ph: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                        let k = std::f64::consts::TAU / wl;
                        (k * dir.cos(), k * dir.sin(), ph, 1.0)
                    })
                    .collect();
                let days = t as f64 * self.step_hours / 24.0;
                let centres: Vec<(f64, f64, f64, (f64, f64))> = storms
                    .iter()
                    .filter_map(|s| {
                        s.at(t, self.step_hours)
                            .map(|(a, b, d)| (a, b, d, s.velocity(t, self.step_hours)))
                    })
                    .collect();
                for (j, &lat) in self.lat.iter().enumerate() {
                    for (i, &lon) in self.lon.iter().enumerate() {
                        let wave = 300.0
                            * lat.to_radians().cos()
                            * (std::f64::consts::TAU * (lon - 5.0 * days) / 60.0).sin();
                        let noise_p: f64 = waves[..4]
                            .iter()
                            .map(|w| 5.0 * (w.0 * lon + w.1 * lat + w.2).sin())
                            .sum();
                        let noise_w =
                            |w: &(f64, f64, f64, f64)| (w.0 * lon + w.1 * lat + w.2).sin();
                        let mut pv = 101_000.0 + wave + noise_p;
                        let mut uv = if lat.abs() < 25.0 { -5.0 } else { 5.0 } + noise_w(&waves[4]);
                        let mut vv = noise_w(&waves[5]);
                        let mut tv = THICKNESS_BASE + 0.2 * wave;
                        for &(clat, clon, depth, (ut, vt)) in &centres {
                            let r_rad = great_circle(clat, clon, lat, lon);
                            let r = r_rad * EARTH_RADIUS_M;
                            let x = (R_MAX_M / r.max(1.0)).powf(HOLLAND_B);
                            let ex = (-x).exp();
                            pv -= depth * (1.0 - ex);
                            let f = 2.0 * OMEGA * clat.to_radians().sin().abs();
                            let speed = ((HOLLAND_B * depth / AIR_DENSITY) * x * ex
                                + (r * f / 2.0).powi(2))
                            .sqrt()
                                - r * f / 2.0;
                            let speed = SURFACE_FACTOR * speed;
                            // direction from the centre (local east/north)
                            let dx = (lon - clon) * clat.to_radians().cos();
                            let dy = lat - clat;
                            let norm = (dx * dx + dy * dy).sqrt();
                            if norm > 0.0 {
                                let sense = if clat >= 0.0 { 1.0 } else { -1.0 };
                                uv += -sense * speed * dy / norm + 0.5 * ut;
                                vv += sense * speed * dx / norm + 0.5 * vt;
                            }
                            let r_deg = r_rad.to_degrees();
                            tv += (80.0 + 100.0 * depth / 2000.0) * (-(r_deg / 3.0).powi(2)).exp();
                        }
                        p[[j, i]] = pv as f32;
                        u[[j, i]] = uv as f32;
                        v[[j, i]] = vv as f32;
                        th[[j, i]] = tv as f32;
                    }
                }
            });
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holland_profile_depth_and_wind_at_a_planted_centre() {
        let mut cfg = StormConfig::demo(24.0, 20).unwrap();
        cfg.storms = vec![PlantedStorm {
            member: 0,
            genesis_step: 0,
            steps: 1,
            lat0: 15.0,
            lon0: 100.0,
            dlat_per_day: 0.0,
            dlon_per_day: 0.0,
            dlat_accel: 0.0,
            dlon_accel: 0.0,
            depth_pa: 2000.0,
        }];
        let f = cfg.member_fields(0);
        let (j, i) = (45, 70); // 15°N, 100°E
        assert_eq!((cfg.lat[j], cfg.lon[i]), (15.0, 100.0));
        // At the centre the full (one-step life: sin(π/2) = 1) depth is removed.
        let bg = 101_000.0
            + 300.0 * 15f64.to_radians().cos() * (std::f64::consts::TAU * 100.0 / 60.0).sin();
        assert!((f.psl[[0, j, i]] as f64 - (bg - 2000.0)).abs() < 25.0);
        // Wind 1° (111 km) north of the centre blows from the east (westward, cyclonic).
        let u = f.uas[[0, j + 1, i]] as f64;
        assert!(u < -15.0, "{u}");
        // Member 1 has no storm here: background only.
        let g = cfg.member_fields(1);
        assert!((g.psl[[0, j, i]] as f64 - bg).abs() < 25.0);
    }

    #[test]
    fn truth_follows_the_motion() {
        let cfg = StormConfig::demo(6.0, 20).unwrap();
        let t = cfg.truth();
        let s4: Vec<&TruthPoint> = t.iter().filter(|p| p.storm == 4).collect();
        assert_eq!(s4.len(), 24);
        assert_eq!(s4[0].step, 4);
        // 1.6°/day west: after 4 steps (1 day) 1.6° further west.
        assert!((s4[0].lon - s4[4].lon - 1.6).abs() < 1e-12);
        assert!(StormConfig::demo(5.0, 20).is_err());
        assert!(StormConfig::demo(24.0, 10).is_err());
    }
}
