//! Synthetic monthly-mean tropical environments on pressure levels — sea surface temperature,
//! sea-level pressure, temperature, specific humidity and winds — for the genesis potential
//! outlook of models that give no daily fields (`s2s synth --gpi`).
//!
//! # The model of the environment
//! At latitude `φ`, longitude `λ`, month `m` and year `y`:
//! - a warm pool centred on `φ₀(m) = 10° cos(2π(m − 8)/12)` (north in boreal summer):
//!   `SST = 29.2 − 0.006 (φ − φ₀)²` °C, plus an ENSO-like index `e_y ~ N(0, 1)` warming the
//!   central Pacific (`+0.5 e_y`) and cooling the western Pacific (`−0.3 e_y`), and an
//!   Indian-Ocean-dipole-like index `d_y` (`±0.3 d_y` west / east of 80°E, smoothly); NaN over land
//!   (the bundled Natural Earth polygons);
//! - temperature: the tropical sounding of the `tcpyPI` test case (28 °C sea surface) shifted by
//!   `(SST − 28) g(p)` in the boundary layer (≥ 925 hPa) and by the background warm pool's
//!   `(SST₀ − 28) g(p)` above (the free troposphere is horizontally uniform, so a local warm
//!   anomaly raises the potential intensity), with `g` growing from 1 at the surface to 1.8 at
//!   300 hPa (a moist adiabat warms more aloft) and falling to 0 at 100 hPa;
//! - moisture: the sounding's mixing ratio times `0.7 + 0.4 exp(−((φ − φ₀)/12)²)` (moist in the
//!   convergence zone, dry in the subtropics), ±10 % with the year's indices;
//! - winds: at 850 hPa `u = −7 tanh((φ − φ₀ − 8)/6)` (westerlies south of a monsoon trough,
//!   easterlies north: cyclonic shear), at 200 hPa a tropical easterly jet
//!   `−12 exp(−((φ − 12)/10)²)` and a subtropical westerly jet `28 exp(−((φ − 38)/7)²)`, both
//!   weaker in the western Pacific in warm ENSO years; linear in `ln p` between them;
//! - sea-level pressure `1010 − 4 exp(−((φ − φ₀ − 8)/8)²)` hPa.
//!
//! The forecast year has its own indices plus two planted anomalies: a warmer (+0.8 °C), less
//! sheared Bay of Bengal (80–100°E, 5–22°N) and a cooler (−0.7 °C) South China Sea
//! (105–120°E, 5–22°N), so the outlook has an above- and a below-normal basin to find.

use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::calendar::CfDateTime;
use crate::grid::Countries;

/// The `tcpyPI` test sounding: pressure (hPa), temperature (°C), mixing ratio (g/kg).
const SOUNDING: [(f64, f64, f64); 12] = [
    (1000.0, 26.0, 18.0),
    (925.0, 22.0, 15.0),
    (850.0, 17.5, 12.0),
    (700.0, 9.0, 7.5),
    (600.0, 2.5, 4.8),
    (500.0, -6.8, 3.0),
    (400.0, -17.3, 1.6),
    (300.0, -32.5, 0.5),
    (250.0, -42.0, 0.2),
    (200.0, -53.5, 0.06),
    (150.0, -66.8, 0.01),
    (100.0, -73.5, 0.005),
];

/// A synthetic monthly environment set: grid, levels, years and months.
#[derive(Debug, Clone)]
pub struct EnvironmentConfig {
    /// Latitudes (ascending).
    pub lat: Vec<f64>,
    /// Longitudes (ascending, degrees east).
    pub lon: Vec<f64>,
    /// Hindcast years `[first, last]`.
    pub hindcast_years: (i32, i32),
    /// The forecast year.
    pub forecast_year: i32,
    /// Calendar months written each year (1–12, in order).
    pub months: Vec<u32>,
    /// Seed of the yearly indices.
    pub seed: u64,
}

/// One month's fields; level arrays are `(level, lat, lon)` in [`EnvironmentConfig::levels_hpa`]
/// order.
#[derive(Debug, Clone)]
pub struct EnvironmentFields {
    /// Sea surface temperature (°C), NaN over land.
    pub sst_c: Array2<f32>,
    /// Sea-level pressure (Pa).
    pub psl_pa: Array2<f32>,
    /// Air temperature (K).
    pub ta_k: Array3<f32>,
    /// Specific humidity (kg/kg).
    pub hus: Array3<f32>,
    /// Eastward wind (m/s).
    pub ua: Array3<f32>,
    /// Northward wind (m/s).
    pub va: Array3<f32>,
}

impl EnvironmentConfig {
    /// The demo set: 2.5° over 40–160°E, 20°S–40°N, hindcasts 1993–2007 and forecast 2008
    /// (the years of the `asia` workload preset), May–October (its six monthly leads).
    pub fn demo() -> Self {
        let lat = (0..25).map(|j| -20.0 + 2.5 * f64::from(j)).collect();
        let lon = (0..49).map(|i| 40.0 + 2.5 * f64::from(i)).collect();
        EnvironmentConfig {
            lat,
            lon,
            hindcast_years: (1993, 2007),
            forecast_year: 2008,
            months: vec![5, 6, 7, 8, 9, 10],
            seed: 20_261_123,
        }
    }

    /// The pressure levels (hPa), surface first.
    pub fn levels_hpa(&self) -> Vec<f64> {
        SOUNDING.iter().map(|s| s.0).collect()
    }

    /// Mid-month times of the hindcast (`forecast = false`) or forecast months.
    pub fn times(&self, forecast: bool) -> Vec<CfDateTime> {
        let years: Vec<i32> = if forecast {
            vec![self.forecast_year]
        } else {
            (self.hindcast_years.0..=self.hindcast_years.1).collect()
        };
        years
            .into_iter()
            .flat_map(|y| self.months.iter().map(move |&m| CfDateTime::ymd(y, m, 15)))
            .collect()
    }

    /// The ENSO-like and dipole-like indices of a year.
    fn indices(&self, year: i32) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (year as u64).wrapping_mul(0x9e37));
        (rng.sample(StandardNormal), rng.sample(StandardNormal))
    }

    /// The fields of one month.
    pub fn fields(&self, year: i32, month: u32) -> EnvironmentFields {
        let (ny, nx, nl) = (self.lat.len(), self.lon.len(), SOUNDING.len());
        let (enso, dipole) = self.indices(year);
        let forecast = year == self.forecast_year;
        let phi0 = 10.0 * (2.0 * std::f64::consts::PI * (f64::from(month) - 8.0) / 12.0).cos();
        let land = Countries::bundled();
        let gauss = |x: f64, w: f64| (-(x / w).powi(2)).exp();
        let boxed = |la: f64, lo: f64, (w, e, s, n): (f64, f64, f64, f64)| {
            (w..=e).contains(&lo) && (s..=n).contains(&la)
        };
        let mut f = EnvironmentFields {
            sst_c: Array2::from_elem((ny, nx), f32::NAN),
            psl_pa: Array2::zeros((ny, nx)),
            ta_k: Array3::zeros((nl, ny, nx)),
            hus: Array3::zeros((nl, ny, nx)),
            ua: Array3::zeros((nl, ny, nx)),
            va: Array3::zeros((nl, ny, nx)),
        };
        for (j, &la) in self.lat.iter().enumerate() {
            for (i, &lo) in self.lon.iter().enumerate() {
                let bay = forecast && boxed(la, lo, (80.0, 100.0, 5.0, 22.0));
                let scs = forecast && boxed(la, lo, (105.0, 120.0, 5.0, 22.0));
                // the dipole: + west of ~80°E, − in the eastern Indian Ocean, smoothly
                let west_east = ((80.0 - lo) / 8.0).tanh().max(-gauss(lo - 100.0, 15.0));
                let background = 29.2 - 0.006 * (la - phi0).powi(2);
                let mut sst = background + 0.5 * enso * gauss(lo - 155.0, 25.0) * gauss(la, 12.0)
                    - 0.3 * enso * gauss(lo - 125.0, 15.0)
                    + 0.3 * dipole * west_east;
                if bay {
                    sst += 0.8;
                }
                if scs {
                    sst -= 0.7;
                }
                let sst = sst.max(5.0);
                if !land.is_land(la, lo) {
                    f.sst_c[[j, i]] = sst as f32;
                }
                f.psl_pa[[j, i]] = (100.0 * (1010.0 - 4.0 * gauss(la - phi0 - 8.0, 8.0))) as f32;
                // the year's indices also move humidity and the upper jets
                let moist = (0.7 + 0.4 * gauss(la - phi0, 12.0))
                    * (1.0 + 0.1 * enso * gauss(lo - 150.0, 30.0) + 0.1 * dipole * west_east);
                let u850 = -7.0 * ((la - phi0 - 8.0) / 6.0).tanh();
                let mut u200 = (-12.0 * gauss(la - 12.0, 10.0) + 28.0 * gauss(la - 38.0, 7.0))
                    * (1.0 - 0.15 * enso * gauss(lo - 130.0, 25.0));
                if bay {
                    u200 = 0.5 * u200 + 0.5 * u850;
                }
                for (k, &(p, t_c, r_g)) in SOUNDING.iter().enumerate() {
                    let g = if p >= 300.0 {
                        1.0 + 0.8 * (1000.0 - p) / 700.0
                    } else {
                        (1.8 * (p - 100.0) / 200.0).max(0.0)
                    };
                    // the free troposphere follows the background sea surface (weak temperature
                    // gradients), so a local warm anomaly raises the potential intensity
                    let below = if p >= 925.0 { sst } else { background };
                    f.ta_k[[k, j, i]] = (t_c + 273.15 + (below - 28.0) * g) as f32;
                    let r = r_g * 1e-3 * moist;
                    f.hus[[k, j, i]] = (r / (1.0 + r)) as f32;
                    // linear in ln p between 850 and 200 hPa, constant beyond
                    let x = ((850.0f64.ln() - p.ln()) / (850.0f64.ln() - 200.0f64.ln()))
                        .clamp(0.0, 1.0);
                    f.ua[[k, j, i]] = (u850 + x * (u200 - u850)) as f32;
                }
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_environment_is_tropical_and_has_its_planted_anomalies() {
        let cfg = EnvironmentConfig::demo();
        let f = cfg.fields(2008, 10);
        let at = |la: f64, lo: f64| {
            let j = cfg.lat.iter().position(|&x| (x - la).abs() < 1e-9).unwrap();
            let i = cfg.lon.iter().position(|&x| (x - lo).abs() < 1e-9).unwrap();
            (j, i)
        };
        // Bay of Bengal warm, sea; India land
        let (j, i) = at(15.0, 90.0);
        assert!(f.sst_c[[j, i]] > 29.0, "{}", f.sst_c[[j, i]]);
        let (jl, il) = at(20.0, 77.5);
        assert!(f.sst_c[[jl, il]].is_nan());
        // temperature falls with height, humidity too; the surface ~ SST − 2
        assert!(f.ta_k[[0, j, i]] > f.ta_k[[5, j, i]] && f.hus[[0, j, i]] > f.hus[[5, j, i]]);
        assert!((f.ta_k[[0, j, i]] - 273.15 - f.sst_c[[j, i]]).abs() < 3.0);
        // the same place in a hindcast year is cooler
        let h = cfg.fields(2000, 10);
        assert!(h.sst_c[[j, i]] < f.sst_c[[j, i]]);
        assert_eq!(cfg.times(false).len(), 15 * 6);
        assert_eq!(cfg.levels_hpa()[0], 1000.0);
    }
}
