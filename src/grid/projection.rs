//! CF grid mappings: projected `x`/`y` (metres) to and from latitude/longitude, for files that
//! give a projection (`grid_mapping`) instead of 2-D latitude/longitude.
//!
//! # What it computes
//! [`GridMapping::from_cf`] reads the CF grid-mapping attributes (`grid_mapping_name`,
//! `semi_major_axis`, `inverse_flattening` or `semi_minor_axis` or `earth_radius`,
//! `false_easting`/`false_northing`, and the projection's own parameters);
//! [`GridMapping::forward`] maps (φ, λ) to (x, y) and [`GridMapping::inverse`] back.
//!
//! # Formulas (Snyder 1987, ellipsoidal forms; a sphere when e = 0)
//! - `polar_stereographic` (eqs. 21-33 … 21-40): ρ = a·m_c·t / t_c with the standard parallel
//!   φ_c, or ρ = 2a·k₀·t / √((1+e)^(1+e)(1−e)^(1−e)) with the scale factor k₀ at the pole;
//!   x = ρ sin(λ−λ₀), y = ∓ρ cos(λ−λ₀) (north / south pole).
//! - `lambert_conformal_conic` (15-1 … 15-11): n from the one or two standard parallels,
//!   F = m₁/(n t₁ⁿ), ρ = aF tⁿ; x = ρ sin θ, y = ρ₀ − ρ cos θ, θ = n(λ−λ₀).
//! - `mercator` (7-6, 7-7): x = a k₀ (λ−λ₀), y = a k₀ ln[tan(π/4+φ/2)((1−e sinφ)/(1+e sinφ))^(e/2)],
//!   k₀ from `scale_factor_at_projection_origin` or `standard_parallel`.
//!
//! with m = cos φ / √(1 − e² sin² φ) and t = tan(π/4 − φ/2) / ((1 − e sin φ)/(1 + e sin φ))^(e/2).
//! The inverse solves φ from t by the fixed-point iteration φ = π/2 − 2 atan(t ((1 − e sin φ) /
//! (1 + e sin φ))^(e/2)) (Snyder 7-9), to 1e-12 rad.
//!
//! # References
//! Snyder, J. P. (1987), *Map Projections — A Working Manual*, USGS Professional Paper 1395
//! (the numerical examples of its appendix are this module's tests). CF conventions 1.8,
//! Appendix F (grid mappings).

use crate::error::{Error, Result};

/// The projections a CF `grid_mapping` may name that this module computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Projection {
    /// Polar stereographic about the north (`north = true`) or south pole.
    PolarStereographic {
        /// Pole of the projection.
        north: bool,
        /// Longitude pointing down from the pole (radians).
        lon0: f64,
        /// Standard parallel (radians), or the scale factor at the pole.
        scale: PolarScale,
    },
    /// Lambert conformal conic with one or two standard parallels.
    LambertConformalConic {
        /// Latitude of the origin (radians).
        lat0: f64,
        /// Central meridian (radians).
        lon0: f64,
        /// Standard parallels (radians); equal for the tangent case.
        parallels: (f64, f64),
    },
    /// Mercator (normal aspect).
    Mercator {
        /// Central meridian (radians).
        lon0: f64,
        /// Scale factor on the equator.
        k0: f64,
    },
}

/// How the scale of a polar stereographic projection is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PolarScale {
    /// True scale on this latitude (radians).
    StandardParallel(f64),
    /// Scale factor at the pole.
    K0(f64),
}

/// A projection on an ellipsoid, with false easting and northing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridMapping {
    /// The projection.
    pub projection: Projection,
    /// Semi-major axis (m).
    pub a: f64,
    /// First eccentricity.
    pub e: f64,
    /// False easting (m).
    pub false_easting: f64,
    /// False northing (m).
    pub false_northing: f64,
}

/// The mean Earth radius CF's examples and most ocean models use when a mapping gives no figure.
pub const DEFAULT_EARTH_RADIUS_M: f64 = 6_371_229.0;

fn m_of(e: f64, phi: f64) -> f64 {
    phi.cos() / (1.0 - (e * phi.sin()).powi(2)).sqrt()
}

fn t_of(e: f64, phi: f64) -> f64 {
    let es = e * phi.sin();
    (std::f64::consts::FRAC_PI_4 - phi / 2.0).tan() / ((1.0 - es) / (1.0 + es)).powf(e / 2.0)
}

/// φ from t (Snyder 7-9), iterated to 1e-12 rad.
fn phi_of_t(e: f64, t: f64) -> f64 {
    let mut phi = std::f64::consts::FRAC_PI_2 - 2.0 * t.atan();
    for _ in 0..50 {
        let es = e * phi.sin();
        let next = std::f64::consts::FRAC_PI_2
            - 2.0 * (t * ((1.0 - es) / (1.0 + es)).powf(e / 2.0)).atan();
        if (next - phi).abs() < 1e-12 {
            return next;
        }
        phi = next;
    }
    phi
}

fn wrap_pi(x: f64) -> f64 {
    (x + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

impl GridMapping {
    /// The mapping of a CF grid-mapping variable's attributes (`text` gives a text attribute,
    /// `number` a numeric one, each by name); a sentence saying why when it cannot be used.
    pub fn from_cf(
        text: impl Fn(&str) -> Option<String>,
        number: impl Fn(&str) -> Option<Vec<f64>>,
    ) -> std::result::Result<GridMapping, String> {
        let name = text("grid_mapping_name").unwrap_or_default();
        let one = |k: &str| number(k).and_then(|v| v.first().copied());
        let deg = |k: &str| one(k).map(f64::to_radians);
        let (a, e) = if let Some(r) = one("earth_radius") {
            (r, 0.0)
        } else {
            let a = one("semi_major_axis").unwrap_or(DEFAULT_EARTH_RADIUS_M);
            let f = match (one("inverse_flattening"), one("semi_minor_axis")) {
                (Some(inv), _) if inv > 0.0 => 1.0 / inv,
                (_, Some(b)) => 1.0 - b / a,
                _ => 0.0,
            };
            (a, (f * (2.0 - f)).max(0.0).sqrt())
        };
        let missing = |k: &str| format!("grid mapping '{name}' has no {k}");
        let projection = match name.as_str() {
            "polar_stereographic" => {
                let lat0 = one("latitude_of_projection_origin")
                    .ok_or_else(|| missing("latitude_of_projection_origin"))?;
                let lon0 = deg("straight_vertical_longitude_from_pole")
                    .or_else(|| deg("longitude_of_projection_origin"))
                    .ok_or_else(|| missing("straight_vertical_longitude_from_pole"))?;
                let scale = match (deg("standard_parallel"), one("scale_factor_at_projection_origin")) {
                    (Some(p), _) => PolarScale::StandardParallel(p),
                    (None, Some(k)) => PolarScale::K0(k),
                    (None, None) => PolarScale::K0(1.0),
                };
                Projection::PolarStereographic {
                    north: lat0 > 0.0,
                    lon0,
                    scale,
                }
            }
            "lambert_conformal_conic" => {
                let sp = number("standard_parallel").ok_or_else(|| missing("standard_parallel"))?;
                let p1 = sp.first().copied().ok_or_else(|| missing("standard_parallel"))?;
                let p2 = sp.get(1).copied().unwrap_or(p1);
                Projection::LambertConformalConic {
                    lat0: deg("latitude_of_projection_origin")
                        .ok_or_else(|| missing("latitude_of_projection_origin"))?,
                    lon0: deg("longitude_of_central_meridian")
                        .ok_or_else(|| missing("longitude_of_central_meridian"))?,
                    parallels: (p1.to_radians(), p2.to_radians()),
                }
            }
            "mercator" => {
                let k0 = match (one("scale_factor_at_projection_origin"), deg("standard_parallel")) {
                    (Some(k), _) => k,
                    (None, Some(p)) => m_of(e, p),
                    (None, None) => 1.0,
                };
                Projection::Mercator {
                    lon0: deg("longitude_of_projection_origin").unwrap_or(0.0),
                    k0,
                }
            }
            "" => return Err("the grid mapping has no grid_mapping_name".into()),
            other => {
                return Err(format!(
                    "grid mapping '{other}' is not one this tool computes (polar_stereographic, lambert_conformal_conic, mercator); give 2-D latitude/longitude variables (coordinates = \"lon lat\") or regrid the file with cdo first"
                ))
            }
        };
        Ok(GridMapping {
            projection,
            a,
            e,
            false_easting: one("false_easting").unwrap_or(0.0),
            false_northing: one("false_northing").unwrap_or(0.0),
        })
    }

    /// Polar stereographic ρ per unit t: ρ = k·t.
    fn polar_k(&self, scale: PolarScale) -> f64 {
        let e = self.e;
        match scale {
            PolarScale::StandardParallel(pc) => {
                // t and m of the standard parallel in the projection's own hemisphere
                // (Snyder uses −φc for the south pole): the same as |φc|.
                let pc = pc.abs();
                if (pc - std::f64::consts::FRAC_PI_2).abs() < 1e-12 {
                    2.0 * self.a / ((1.0 + e).powf(1.0 + e) * (1.0 - e).powf(1.0 - e)).sqrt()
                } else {
                    self.a * m_of(e, pc) / t_of(e, pc)
                }
            }
            PolarScale::K0(k0) => {
                2.0 * self.a * k0 / ((1.0 + e).powf(1.0 + e) * (1.0 - e).powf(1.0 - e)).sqrt()
            }
        }
    }

    /// Lambert conformal conic (n, aF, ρ₀).
    fn lcc(&self, lat0: f64, parallels: (f64, f64)) -> (f64, f64, f64) {
        let e = self.e;
        let (p1, p2) = parallels;
        let (m1, m2) = (m_of(e, p1), m_of(e, p2));
        let (t1, t2, t0) = (t_of(e, p1), t_of(e, p2), t_of(e, lat0));
        let n = if (p1 - p2).abs() < 1e-12 {
            p1.sin()
        } else {
            (m1.ln() - m2.ln()) / (t1.ln() - t2.ln())
        };
        let af = self.a * m1 / (n * t1.powf(n));
        (n, af, af * t0.powf(n))
    }

    /// (x, y) in metres of a point (degrees).
    pub fn forward(&self, lat_deg: f64, lon_deg: f64) -> (f64, f64) {
        let (phi, lam) = (lat_deg.to_radians(), lon_deg.to_radians());
        let e = self.e;
        let (x, y) = match self.projection {
            Projection::PolarStereographic { north, lon0, scale } => {
                let k = self.polar_k(scale);
                let d = wrap_pi(lam - lon0);
                if north {
                    let rho = k * t_of(e, phi);
                    (rho * d.sin(), -rho * d.cos())
                } else {
                    let rho = k * t_of(e, -phi);
                    (rho * d.sin(), rho * d.cos())
                }
            }
            Projection::LambertConformalConic {
                lat0,
                lon0,
                parallels,
            } => {
                let (n, af, rho0) = self.lcc(lat0, parallels);
                let rho = af * t_of(e, phi).powf(n);
                let theta = n * wrap_pi(lam - lon0);
                (rho * theta.sin(), rho0 - rho * theta.cos())
            }
            Projection::Mercator { lon0, k0 } => {
                let es = e * phi.sin();
                (
                    self.a * k0 * wrap_pi(lam - lon0),
                    self.a
                        * k0
                        * ((std::f64::consts::FRAC_PI_4 + phi / 2.0).tan()
                            * ((1.0 - es) / (1.0 + es)).powf(e / 2.0))
                        .ln(),
                )
            }
        };
        (x + self.false_easting, y + self.false_northing)
    }

    /// (latitude, longitude) in degrees of a projected point (metres).
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let (x, y) = (x - self.false_easting, y - self.false_northing);
        let e = self.e;
        let (phi, lam) = match self.projection {
            Projection::PolarStereographic { north, lon0, scale } => {
                let k = self.polar_k(scale);
                let rho = x.hypot(y);
                let t = rho / k;
                if north {
                    (phi_of_t(e, t), lon0 + x.atan2(-y))
                } else {
                    (-phi_of_t(e, t), lon0 + x.atan2(y))
                }
            }
            Projection::LambertConformalConic {
                lat0,
                lon0,
                parallels,
            } => {
                let (n, af, rho0) = self.lcc(lat0, parallels);
                let s = n.signum();
                let rho = s * x.hypot(rho0 - y);
                let theta = (s * x).atan2(s * (rho0 - y));
                let t = (rho / af).powf(1.0 / n);
                (phi_of_t(e, t), theta / n + lon0)
            }
            Projection::Mercator { lon0, k0 } => {
                let t = (-y / (self.a * k0)).exp();
                (phi_of_t(e, t), x / (self.a * k0) + lon0)
            }
        };
        (phi.to_degrees(), wrap_pi(lam).to_degrees())
    }
}

/// 2-D latitude and longitude (degrees) of a projected grid's centres `y` × `x` (metres).
pub fn lat_lon_of(
    mapping: &GridMapping,
    x: &[f64],
    y: &[f64],
) -> Result<(ndarray::Array2<f64>, ndarray::Array2<f64>)> {
    if x.is_empty() || y.is_empty() {
        return Err(Error::invalid(
            "projected grid",
            "no x or y coordinate values",
        ));
    }
    let mut lat = ndarray::Array2::zeros((y.len(), x.len()));
    let mut lon = ndarray::Array2::zeros((y.len(), x.len()));
    for (j, &yy) in y.iter().enumerate() {
        for (i, &xx) in x.iter().enumerate() {
            let (a, o) = mapping.inverse(xx, yy);
            lat[[j, i]] = a;
            lon[[j, i]] = o;
        }
    }
    Ok((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(projection: Projection, a: f64, e2: f64) -> GridMapping {
        GridMapping {
            projection,
            a,
            e: e2.sqrt(),
            false_easting: 0.0,
            false_northing: 0.0,
        }
    }

    fn round_trip(m: &GridMapping, lat: f64, lon: f64) {
        let (x, y) = m.forward(lat, lon);
        let (a, o) = m.inverse(x, y);
        assert!(
            (a - lat).abs() < 1e-9 && (wrap_pi((o - lon).to_radians())).abs() < 1e-9,
            "{a} {o}"
        );
    }

    /// Snyder (1987) p. 315–316: International ellipsoid, south polar, φc = −71°, λ0 = −100°;
    /// (−75°, 150°) → x = −1 540 033.6 m, y = −560 526.4 m.
    #[test]
    fn polar_stereographic_snyder_example() {
        let m = mapping(
            Projection::PolarStereographic {
                north: false,
                lon0: (-100f64).to_radians(),
                scale: PolarScale::StandardParallel((-71f64).to_radians()),
            },
            6_378_388.0,
            0.006_722_67,
        );
        let (x, y) = m.forward(-75.0, 150.0);
        assert!(
            (x + 1_540_033.6).abs() < 0.5 && (y + 560_526.4).abs() < 0.5,
            "{x} {y}"
        );
        round_trip(&m, -75.0, 150.0);
        round_trip(&m, -60.0, -30.0);
    }

    /// Snyder (1987) p. 296–297: Clarke 1866, φ1 = 33°, φ2 = 45°, φ0 = 23°, λ0 = −96°;
    /// (35°, −75°) → x = 1 894 410.9 m, y = 1 564 649.5 m.
    #[test]
    fn lambert_conformal_conic_snyder_example() {
        let m = mapping(
            Projection::LambertConformalConic {
                lat0: (23f64).to_radians(),
                lon0: (-96f64).to_radians(),
                parallels: ((33f64).to_radians(), (45f64).to_radians()),
            },
            6_378_206.4,
            0.006_768_66,
        );
        let (x, y) = m.forward(35.0, -75.0);
        assert!(
            (x - 1_894_410.9).abs() < 0.5 && (y - 1_564_649.5).abs() < 0.5,
            "{x} {y}"
        );
        round_trip(&m, 35.0, -75.0);
        round_trip(&m, 50.0, -120.0);
    }

    /// Snyder (1987) p. 267: Clarke 1866, λ0 = −180°; (35°, −75°) → x = 11 688 673.7 m,
    /// y = 4 139 145.6 m.
    #[test]
    fn mercator_snyder_example() {
        let m = mapping(
            Projection::Mercator {
                lon0: (-180f64).to_radians(),
                k0: 1.0,
            },
            6_378_206.4,
            0.006_768_66,
        );
        let (x, y) = m.forward(35.0, -75.0);
        assert!(
            (x - 11_688_673.7).abs() < 0.5 && (y - 4_139_145.6).abs() < 0.5,
            "{x} {y}"
        );
        round_trip(&m, 35.0, -75.0);
        round_trip(&m, -20.0, 100.0);
    }

    #[test]
    fn cf_attributes() {
        let text = |k: &str| (k == "grid_mapping_name").then(|| "polar_stereographic".to_string());
        let number = |k: &str| match k {
            "latitude_of_projection_origin" => Some(vec![90.0]),
            "straight_vertical_longitude_from_pole" => Some(vec![-45.0]),
            "standard_parallel" => Some(vec![70.0]),
            "semi_major_axis" => Some(vec![6_378_273.0]),
            "semi_minor_axis" => Some(vec![6_356_889.449]),
            _ => None,
        };
        let m = GridMapping::from_cf(text, number).unwrap();
        assert!(matches!(
            m.projection,
            Projection::PolarStereographic { north: true, .. }
        ));
        assert!((m.e - 0.081_816_153).abs() < 1e-6, "{}", m.e);
        // NSIDC sea-ice grid corner (x = −3 850 km, y = 5 850 km) is about 30.98°N, 168.35°E
        let (lat, lon) = m.inverse(-3_850_000.0, 5_850_000.0);
        assert!(
            (lat - 30.98).abs() < 0.01 && (lon - 168.35).abs() < 0.01,
            "{lat} {lon}"
        );
        let bad = GridMapping::from_cf(|_| Some("transverse_mercator".into()), |_| None);
        assert!(bad.unwrap_err().contains("not one this tool computes"));
    }
}
