//! Synthetic daily surface currents and 10 m winds for testing and demonstrating the drift.
//!
//! Cases ([`CurrentCase`]) on a 0.25° grid over 70–100°E, 0–25°N (Sri Lanka and the Bay of
//! Bengal), daily, every member its own field:
//! - **Uniform**: 0.5 m/s eastward everywhere, no wind — the drift must move 43.2 km a day.
//! - **Rotation**: solid-body rotation about 7°N, 82.5°E with a 5-day period (speed
//!   `Ω r`, about 0.44 m/s at 3°), no wind — particles must come back to their start.
//! - **Monsoon**: a south-west-monsoon-like case: a westward current south of Sri Lanka turning
//!   north-east in the Bay of Bengal (0.2–0.5 m/s) with an eddy whose position differs by
//!   member, and a south-westerly wind of 6–9 m/s varying by day and member.

use ndarray::Array3;
use serde::{Deserialize, Serialize};

use crate::calendar::CfDateTime;
use crate::grid::EARTH_RADIUS_M;

/// Which synthetic currents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurrentCase {
    /// 0.5 m/s eastward, no wind.
    Uniform,
    /// Solid-body rotation about 7°N, 82.5°E, period 5 days, no wind.
    Rotation,
    /// Monsoon-like currents and winds, different per member.
    Monsoon,
}

/// The configuration of a synthetic current set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentConfig {
    /// Case.
    pub case: CurrentCase,
    /// Latitudes (degrees).
    pub lat: Vec<f64>,
    /// Longitudes (degrees east).
    pub lon: Vec<f64>,
    /// First day.
    pub start: CfDateTime,
    /// Number of days.
    pub days: usize,
    /// Number of members.
    pub members: usize,
}

/// Rotation centre and period of [`CurrentCase::Rotation`].
pub const ROTATION_CENTRE: (f64, f64) = (7.0, 82.5);
/// Period of [`CurrentCase::Rotation`] (s).
pub const ROTATION_PERIOD_S: f64 = 5.0 * 86_400.0;

/// Eastward and northward velocity (m/s) of a rigid rotation with angular speed `omega`
/// (rad/s) about the axis through `centre` (degrees), at `(lat, lon)`.
pub fn solid_body_velocity(centre: (f64, f64), omega: f64, lat: f64, lon: f64) -> (f64, f64) {
    let (pc, lc) = (centre.0.to_radians(), centre.1.to_radians());
    let (p, l) = (lat.to_radians(), lon.to_radians());
    let axis = [pc.cos() * lc.cos(), pc.cos() * lc.sin(), pc.sin()];
    let r = [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()];
    let w = [
        omega * (axis[1] * r[2] - axis[2] * r[1]),
        omega * (axis[2] * r[0] - axis[0] * r[2]),
        omega * (axis[0] * r[1] - axis[1] * r[0]),
    ];
    let east = [-l.sin(), l.cos(), 0.0];
    let north = [-p.sin() * l.cos(), -p.sin() * l.sin(), p.cos()];
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    (
        EARTH_RADIUS_M * dot(w, east),
        EARTH_RADIUS_M * dot(w, north),
    )
}

/// Currents `(uo, vo)` and winds `(uas, vas)` of one member, each `(time, lat, lon)`.
pub struct CurrentFields {
    /// Eastward surface current (m/s).
    pub uo: Array3<f32>,
    /// Northward surface current (m/s).
    pub vo: Array3<f32>,
    /// Eastward 10 m wind (m/s).
    pub uas: Array3<f32>,
    /// Northward 10 m wind (m/s).
    pub vas: Array3<f32>,
}

impl CurrentConfig {
    /// A case on the default grid: 45 days from 1 September 2020, 4 members.
    pub fn new(case: CurrentCase) -> Self {
        CurrentConfig {
            case,
            lat: (0..=100).map(|j| j as f64 * 0.25).collect(),
            lon: (0..=120).map(|i| 70.0 + i as f64 * 0.25).collect(),
            start: CfDateTime::ymd(2020, 9, 1),
            days: 45,
            members: 4,
        }
    }

    /// The fields of one member.
    pub fn member_fields(&self, member: usize) -> CurrentFields {
        let shape = (self.days, self.lat.len(), self.lon.len());
        let omega = std::f64::consts::TAU / ROTATION_PERIOD_S;
        let m = member as f64;
        let current = |t: usize, lat: f64, lon: f64| -> (f64, f64) {
            match self.case {
                CurrentCase::Uniform => (0.5, 0.0),
                CurrentCase::Rotation => solid_body_velocity(ROTATION_CENTRE, omega, lat, lon),
                CurrentCase::Monsoon => {
                    // westward south of 6°N, turning north-east in the Bay east of 84°E
                    let south = (-(lat - 4.5f64).powi(2) / 4.0).exp();
                    let bay = 1.0 / (1.0 + (-(lon - 84.0) / 1.5).exp());
                    let u = -0.45 * south * (1.0 - bay) + 0.25 * bay;
                    let v = 0.30 * bay * (1.0 - south) + 0.05 * (lon - 80.0).signum() * south;
                    // a member-dependent eddy drifting west
                    let (ec_lat, ec_lon) = (9.0 + 0.7 * m, 88.0 - 0.15 * t as f64 - 0.5 * m);
                    let (dy, dx) = (lat - ec_lat, (lon - ec_lon) * lat.to_radians().cos());
                    let e = 0.35 * (-(dx * dx + dy * dy) / 2.0).exp();
                    (u - e * dy, v + e * dx)
                }
            }
        };
        let wind = |t: usize, _lat: f64, _lon: f64| -> (f64, f64) {
            match self.case {
                CurrentCase::Monsoon => {
                    let s = 7.5 + 1.5 * ((t as f64) * 0.7 + m).sin();
                    (s * 0.8, s * 0.6)
                }
                _ => (0.0, 0.0),
            }
        };
        let field = |f: &dyn Fn(usize, f64, f64) -> (f64, f64), pick: usize| {
            Array3::from_shape_fn(shape, |(t, j, i)| {
                let v = f(t, self.lat[j], self.lon[i]);
                (if pick == 0 { v.0 } else { v.1 }) as f32
            })
        };
        CurrentFields {
            uo: field(&current, 0),
            vo: field(&current, 1),
            uas: field(&wind, 0),
            vas: field(&wind, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_have_their_defining_values() {
        let u = CurrentConfig::new(CurrentCase::Uniform).member_fields(0);
        assert!(u.uo.iter().all(|&x| x == 0.5) && u.vo.iter().all(|&x| x == 0.0));
        let r = CurrentConfig::new(CurrentCase::Rotation).member_fields(0);
        let cfg = CurrentConfig::new(CurrentCase::Rotation);
        // 3° north of the centre: speed Ω R sin 3°, eastward... anticlockwise: westward
        let j = cfg.lat.iter().position(|&l| l == 10.0).unwrap();
        let i = cfg.lon.iter().position(|&l| l == 82.5).unwrap();
        let want =
            std::f64::consts::TAU / ROTATION_PERIOD_S * EARTH_RADIUS_M * 3f64.to_radians().sin();
        assert!(
            (r.uo[[0, j, i]] as f64 + want).abs() < 1e-3,
            "{} vs {want}",
            r.uo[[0, j, i]]
        );
        assert!(r.vo[[0, j, i]].abs() < 1e-3);
        let m0 = CurrentConfig::new(CurrentCase::Monsoon).member_fields(0);
        let m1 = CurrentConfig::new(CurrentCase::Monsoon).member_fields(1);
        assert_ne!(m0.uo, m1.uo);
        assert!(m0.uas.iter().all(|&w| (4.0..8.0).contains(&w)));
    }
}
