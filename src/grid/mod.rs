//! Longitude/latitude grids and regridding between them.
//!
//! Members:
//! - [`LonLatGrid`]: a rectilinear grid (regular or Gaussian latitudes) with cell bounds,
//!   built from a [`Spatial`], from a spacing and box ([`LonLatGrid::regular`]), or as a Gaussian
//!   grid ([`LonLatGrid::gaussian`]).
//! - [`countries`]: country polygons (GeoJSON) and point-in-polygon lookup (`geo`).
//! - [`distance`]: curvilinear sources (2-D latitude/longitude) onto a lon/lat grid by
//!   inverse-distance weighting of the four nearest centres (CDO `remapdis`).
//! - [`projection`]: CF grid mappings (polar stereographic, Lambert conformal conic, Mercator)
//!   to compute the latitude/longitude of a projected grid's cells.
//! - [`vectors`]: grid-relative vector components (`sea_water_x_velocity`, `x_wind`, on
//!   staggered grids too) rotated to eastward/northward with the grid's axis directions.
//! - [`bilinear`] and [`conservative`] weights, held in a sparse [`RegridWeights`] built once
//!   per grid pair and applied to every `(init, member, lead)` map in parallel
//!   ([`regrid_cube`]).
//!
//! # Conventions (those of CDO `remapbil` / `remapcon`, checked against CDO 2.1 output)
//! - Cell bounds are the midpoints between centres; the outermost bounds are half a spacing
//!   beyond the outermost centres, clamped to ±90°. A grid is *global in longitude* (periodic)
//!   when its cells cover 360° within 1e-6°.
//! - **Bilinear**: inside the rectangle of four neighbouring source centres (across the
//!   longitude seam of a periodic grid), `w = (1−t)(1−u), u(1−t), tu, t(1−u)` with `t, u` the
//!   fractional positions in latitude and longitude. A target beyond the outermost source
//!   latitude of a periodic grid (the polar caps) takes the inverse-great-circle-distance
//!   average of the four nearest source centres (SCRIP's fallback, which CDO keeps); any other
//!   target outside the source centres is missing. A target with a missing corner is missing.
//! - **First-order conservative** (Jones 1999): the overlap of two lon/lat cells is itself a
//!   lon/lat cell, with exact spherical area `R² Δλ (sin φₙ − sin φₛ)`. The weight of source cell
//!   `s` in target `t` is `A(s ∩ t) / A(t)`; applied with CDO's default `fracarea`
//!   normalisation, `x_t = Σ w x_s / Σ w` over the sources that are not missing — a target
//!   half over land-masked (NaN) cells is the mean of the valid half; a target with no valid
//!   overlap is missing. Without missing values the area integral is conserved exactly.
//!
//! # References
//! - Jones, P. W. (1999), *First- and second-order conservative remapping schemes for grids in
//!   spherical coordinates*, Mon. Wea. Rev. 127, 2204–2210.
//! - SCRIP (Jones, LANL) and CDO (Schulzweida, MPI-M) `remap_bilinear`, `remap_conserv`.

mod bilinear;
mod conservative;
pub mod countries;
pub mod distance;
pub mod projection;
pub mod vectors;
mod weights;

use serde::{Deserialize, Serialize};

pub use bilinear::bilinear;
pub use conservative::conservative;
pub use countries::{Countries, Country, LandRaster};
pub use weights::{regrid_cube, RegridWeights, WeightCache};

use crate::cube::{BBox, Spatial};
use crate::error::{Error, Result};

/// Mean Earth radius (m), for cell areas.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// A regridding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Bilinear interpolation (CDO `remapbil`).
    Bilinear,
    /// First-order conservative (CDO `remapcon`).
    Conservative,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bilinear" | "bil" => Ok(Method::Bilinear),
            "conservative" | "con" => Ok(Method::Conservative),
            other => Err(Error::invalid(
                "regridding method",
                format!("'{other}' (choose bilinear or conservative)"),
            )),
        }
    }
}

/// A rectilinear lon/lat grid: centres ascending, bounds around them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LonLatGrid {
    /// Latitudes of cell centres, ascending (degrees north).
    pub lat: Vec<f64>,
    /// Longitudes of cell centres, ascending, spanning less than 360° (degrees east).
    pub lon: Vec<f64>,
    /// `lat.len() + 1` latitude bounds, ascending.
    pub lat_bounds: Vec<f64>,
    /// `lon.len() + 1` longitude bounds, ascending.
    pub lon_bounds: Vec<f64>,
}

fn midpoint_bounds(c: &[f64], clamp: Option<(f64, f64)>) -> Vec<f64> {
    let n = c.len();
    let mut b = Vec::with_capacity(n + 1);
    if n == 1 {
        b.extend([c[0] - 0.5, c[0] + 0.5]);
    } else {
        b.push(c[0] - (c[1] - c[0]) / 2.0);
        b.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
        b.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
    }
    if let Some((lo, hi)) = clamp {
        for x in &mut b {
            *x = x.clamp(lo, hi);
        }
    }
    b
}

impl LonLatGrid {
    /// A grid from centres (bounds at midpoints, latitude clamped to ±90°).
    pub fn from_centres(lat: Vec<f64>, lon: Vec<f64>) -> Result<Self> {
        let bad = |r: &str| Error::invalid("grid", r.to_string());
        if lat.is_empty() || lon.is_empty() {
            return Err(bad("a grid needs at least one latitude and one longitude"));
        }
        if !lat.windows(2).all(|w| w[1] > w[0]) || !lon.windows(2).all(|w| w[1] > w[0]) {
            return Err(bad("grid centres must be strictly ascending"));
        }
        if lat.iter().any(|l| l.abs() > 90.0) || lon[lon.len() - 1] - lon[0] >= 360.0 {
            return Err(bad(
                "latitudes must lie in -90..90 and longitudes span less than 360 degrees",
            ));
        }
        let lat_bounds = midpoint_bounds(&lat, Some((-90.0, 90.0)));
        let mut lon_bounds = midpoint_bounds(&lon, None);
        // A grid that covers the globe to within rounding is exactly periodic.
        let span = lon_bounds[lon.len()] - lon_bounds[0];
        let tol = crate::cube::coordinate_tolerance(360.0 / lon.len() as f64, 360.0);
        if (span - 360.0).abs() <= tol {
            lon_bounds[lon.len()] = lon_bounds[0] + 360.0;
        }
        Ok(LonLatGrid {
            lat,
            lon,
            lat_bounds,
            lon_bounds,
        })
    }

    /// The grid of a cube's horizontal layout (regular or Gaussian lat/lon grids only).
    pub fn from_spatial(spatial: &Spatial) -> Result<Self> {
        match spatial {
            Spatial::Grid { lat, lon } => LonLatGrid::from_centres(lat.clone(), lon.clone()),
            Spatial::Curvilinear { .. } => Err(Error::invalid(
                "grid",
                "the source is a curvilinear grid (2-D lat/lon): bilinear and conservative need a regular or Gaussian lat/lon grid; use inverse-distance weighting (s2s regrid --method distance)",
            )),
            Spatial::Points { .. } => Err(Error::invalid(
                "grid",
                "the source is a list of points (stations), not a grid; nothing to regrid",
            )),
        }
    }

    /// A regular grid of spacing `dlat` × `dlon` degrees whose cells tile `bbox` (cell edges on
    /// the box edges), or the globe: latitude centres −90 + dlat/2, …; longitude centres
    /// −180 + dlon/2, … (in the box's longitude window for a box).
    pub fn regular(dlat: f64, dlon: f64, bbox: Option<&BBox>) -> Result<Self> {
        if !(dlat > 0.0 && dlon > 0.0 && dlat <= 90.0 && dlon <= 180.0) {
            return Err(Error::invalid(
                "grid spacing",
                format!("{dlat} x {dlon} degrees (must be positive, at most 90 x 180)"),
            ));
        }
        let (s, n, w, e) = match bbox {
            Some(b) => {
                let (_, w, e) = b.lon_window();
                (b.south, b.north, w, e)
            }
            None => (-90.0, 90.0, -180.0, 180.0),
        };
        let count = |lo: f64, hi: f64, d: f64| ((hi - lo) / d + 1e-9).floor() as usize;
        let (ny, nx) = (count(s, n, dlat), count(w, e, dlon));
        if bbox.is_none() {
            let divides = |span: f64, d: f64| ((span / d) - (span / d).round()).abs() < 1e-6;
            if !divides(180.0, dlat) || !divides(360.0, dlon) {
                return Err(Error::invalid(
                    "grid spacing",
                    format!("{dlat} x {dlon} degrees does not divide the globe (180 x 360 degrees) into whole cells"),
                ));
            }
        }
        if ny == 0 || nx == 0 {
            return Err(Error::invalid(
                "grid",
                format!("the box holds no {dlat} x {dlon} degree cell"),
            ));
        }
        // each target cell holds interpolation weights (4 × index and weight) and a value
        crate::memory::check_allocation(
            &format!("a {dlat} x {dlon} degree grid"),
            &[ny, nx],
            4 * (4 + 8) + 4,
            "choose a coarser spacing or a smaller box",
        )?;
        let lat: Vec<f64> = (0..ny).map(|k| s + dlat * (k as f64 + 0.5)).collect();
        let lon: Vec<f64> = (0..nx).map(|k| w + dlon * (k as f64 + 0.5)).collect();
        LonLatGrid::from_centres(lat, lon)
    }

    /// A global grid of `nlat` × `nlon` equal cells (CDO's `r<nlon>x<nlat>`, with longitudes
    /// from −180°).
    pub fn global(nlat: usize, nlon: usize) -> Result<Self> {
        if nlat == 0 || nlon == 0 {
            return Err(Error::invalid(
                "grid",
                "a global grid needs at least one cell",
            ));
        }
        let (dlat, dlon) = (180.0 / nlat as f64, 360.0 / nlon as f64);
        LonLatGrid::from_centres(
            (0..nlat).map(|k| -90.0 + dlat * (k as f64 + 0.5)).collect(),
            (0..nlon)
                .map(|k| -180.0 + dlon * (k as f64 + 0.5))
                .collect(),
        )
    }

    /// A global Gaussian grid with `n` latitudes between pole and equator (`2n` in all, the
    /// roots of the Legendre polynomial P₂ₙ) and `4n` equally spaced longitudes from −180°
    /// (the layout of CDO's `F<n>` grids, shifted to −180…180).
    pub fn gaussian(n: usize) -> Result<Self> {
        if n == 0 || n > 4000 {
            return Err(Error::invalid("Gaussian grid", format!("N{n} (1 to 4000)")));
        }
        let lat = gaussian_latitudes(2 * n);
        let dlon = 360.0 / (4 * n) as f64;
        let lon: Vec<f64> = (0..4 * n).map(|k| -180.0 + dlon * k as f64).collect();
        LonLatGrid::from_centres(lat, lon)
    }

    /// Parses a target spacing `DLAT[xDLON]` (degrees), e.g. `1.5` or `0.5x0.625`.
    pub fn parse_spacing(text: &str) -> Result<(f64, f64)> {
        let bad = || {
            Error::invalid(
                "grid",
                format!("'{text}' is not DLAT or DLATxDLON in degrees"),
            )
        };
        let (a, b) = match text.split_once(['x', 'X']) {
            Some((a, b)) => (a, b),
            None => (text, text),
        };
        let a: f64 = a.trim().parse().map_err(|_| bad())?;
        let b: f64 = b.trim().parse().map_err(|_| bad())?;
        Ok((a, b))
    }

    /// Number of latitudes.
    pub fn ny(&self) -> usize {
        self.lat.len()
    }
    /// Number of longitudes.
    pub fn nx(&self) -> usize {
        self.lon.len()
    }
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ny() * self.nx()
    }
    /// Whether the grid has no cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the cells cover all longitudes.
    pub fn is_periodic(&self) -> bool {
        (self.lon_bounds[self.nx()] - self.lon_bounds[0] - 360.0).abs() < 1e-9
    }

    /// Cell areas in m², row-major `(lat, lon)`: `R² Δλ (sin φₙ − sin φₛ)`.
    pub fn cell_areas(&self) -> Vec<f64> {
        let mut a = Vec::with_capacity(self.len());
        for i in 0..self.ny() {
            let band =
                self.lat_bounds[i + 1].to_radians().sin() - self.lat_bounds[i].to_radians().sin();
            for j in 0..self.nx() {
                let dl = (self.lon_bounds[j + 1] - self.lon_bounds[j]).to_radians();
                a.push(EARTH_RADIUS_M * EARTH_RADIUS_M * dl * band);
            }
        }
        a
    }

    /// The part of `src` that regridding onto this grid needs, as a box: this grid's bounds
    /// plus two source cells on every side; `None` when that is (nearly) the whole source.
    pub fn source_box(&self, src: &LonLatGrid) -> Option<BBox> {
        let dlat = src
            .lat_bounds
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(0.0, f64::max);
        let dlon = src
            .lon_bounds
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(0.0, f64::max);
        let (w, e) = (
            self.lon_bounds[0] - 2.0 * dlon,
            self.lon_bounds[self.nx()] + 2.0 * dlon,
        );
        let (s, n) = (
            (self.lat_bounds[0] - 2.0 * dlat).max(-90.0),
            (self.lat_bounds[self.ny()] + 2.0 * dlat).min(90.0),
        );
        // Near a pole, bilinear may average over the outermost source rows: read all longitudes.
        if e - w >= 360.0 || s <= src.lat[0] || n >= src.lat[src.ny() - 1] {
            return None;
        }
        BBox::new(w, e, s, n).ok()
    }

    /// The horizontal layout of a cube on this grid.
    pub fn spatial(&self) -> Spatial {
        Spatial::Grid {
            lat: self.lat.clone(),
            lon: self.lon.clone(),
        }
    }
}

/// Gaussian latitudes (degrees, ascending): the `m` roots of the Legendre polynomial `P_m`,
/// found by Newton iteration from the asymptotic first guess.
pub fn gaussian_latitudes(m: usize) -> Vec<f64> {
    let mut lat = vec![0.0; m];
    for k in 0..m.div_ceil(2) {
        // Initial guess (Abramowitz & Stegun 22.16.6) for the k-th root of P_m in cos θ.
        let mut x = (std::f64::consts::PI * (k as f64 + 0.75) / (m as f64 + 0.5)).cos();
        for _ in 0..100 {
            let (p, dp) = legendre(m, x);
            let dx = p / dp;
            x -= dx;
            if dx.abs() < 1e-15 {
                break;
            }
        }
        let phi = x.asin().to_degrees();
        lat[m - 1 - k] = phi;
        lat[k] = -phi;
    }
    lat
}

/// `P_m(x)` and its derivative by the three-term recurrence.
fn legendre(m: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for n in 2..=m {
        let p2 = ((2 * n - 1) as f64 * x * p1 - (n - 1) as f64 * p0) / n as f64;
        p0 = p1;
        p1 = p2;
    }
    let dp = m as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
}

/// Great-circle distance in radians between two points given in degrees.
pub fn great_circle(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let dp = p2 - p1;
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_grids_tile_the_globe_and_boxes() {
        let g = LonLatGrid::regular(1.5, 1.5, None).unwrap();
        assert_eq!((g.ny(), g.nx()), (120, 240));
        assert_eq!(g.lat[0], -89.25);
        assert_eq!(g.lon[0], -179.25);
        assert!(g.is_periodic());
        let total: f64 = g.cell_areas().iter().sum();
        let sphere = 4.0 * std::f64::consts::PI * EARTH_RADIUS_M * EARTH_RADIUS_M;
        assert!((total / sphere - 1.0).abs() < 1e-12);
        let b = BBox::new(40.0, 150.0, -15.0, 55.0).unwrap();
        let g = LonLatGrid::regular(1.0, 2.0, Some(&b)).unwrap();
        assert_eq!((g.ny(), g.nx()), (70, 55));
        assert_eq!((g.lat[0], g.lon[0], g.lon[54]), (-14.5, 41.0, 149.0));
        assert!(!g.is_periodic());
        assert_eq!(
            LonLatGrid::parse_spacing("0.5x0.625").unwrap(),
            (0.5, 0.625)
        );
        assert!(LonLatGrid::parse_spacing("fine").is_err());
        assert!(LonLatGrid::regular(-1.0, 1.0, None).is_err());
        assert!(LonLatGrid::regular(0.7, 1.0, None).is_err());
        assert_eq!(
            LonLatGrid::global(180, 360).unwrap(),
            LonLatGrid::regular(1.0, 1.0, None).unwrap()
        );
    }

    #[test]
    fn gaussian_latitudes_match_published_values() {
        // 32 Gauss-Legendre nodes (numpy.polynomial.legendre.leggauss(32), arcsin in degrees):
        // 85.7605871204438 at the pole end, 2.76890300773601 next to the equator.
        let lat = gaussian_latitudes(32);
        assert!((lat[31] - 85.760_587_120_443_8).abs() < 1e-9, "{}", lat[31]);
        assert!((lat[16] - 2.768_903_007_736_01).abs() < 1e-9, "{}", lat[16]);
        assert!((lat[0] + lat[31]).abs() < 1e-12);
        let g = LonLatGrid::gaussian(16).unwrap();
        assert_eq!((g.ny(), g.nx()), (32, 64));
        assert!(g.is_periodic());
    }

    #[test]
    fn refuses_points_and_curvilinear() {
        assert!(LonLatGrid::from_spatial(&Spatial::index_series("x")).is_err());
        let e = LonLatGrid::from_centres(vec![1.0, 0.0], vec![0.0]).unwrap_err();
        assert!(e.to_string().contains("ascending"));
    }

    #[test]
    fn great_circle_distance() {
        assert!((great_circle(0.0, 0.0, 0.0, 90.0) - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!((great_circle(89.0, 0.0, 89.0, 180.0) - 2f64.to_radians()).abs() < 1e-12);
    }
}
