//! Extent and area of sea ice per hemisphere, and the sea-ice probability of an ensemble.
//!
//! `extent = Σ Aᵢ [cᵢ ≥ 15 %]`, `area = Σ Aᵢ cᵢ [cᵢ ≥ 15 %]` (NSIDC Sea Ice Index, Fetterer et
//! al. 2017); cells with a missing concentration (land) or area count for nothing; a cell
//! belongs to the northern hemisphere when its centre latitude is ≥ 0. Results in 10⁶ km², the
//! unit of the Sea Ice Index.

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};
use serde::Serialize;

/// Concentration from which a cell counts as ice-covered (fraction): the NSIDC Sea Ice Index
/// threshold, below which passive-microwave concentrations are too uncertain to call ice.
pub const EXTENT_THRESHOLD: f64 = 0.15;

/// How a concentration is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConcentrationScale {
    /// 0–100 (`%`, CMIP `siconc`).
    Percent,
    /// 0–1 (`1`, CICE `aice`, OSI SAF fractions).
    Fraction,
}

impl ConcentrationScale {
    /// The scale named by a `units` attribute; `None` when the units do not say.
    pub fn from_units(units: &str) -> Option<Self> {
        match units.trim().to_ascii_lowercase().as_str() {
            "%" | "percent" | "percentage" | "pct" => Some(Self::Percent),
            "1" | "fraction" | "0-1" | "dimensionless" | "unitless" | "none" => {
                Some(Self::Fraction)
            }
            _ => None,
        }
    }

    /// The scale a field's largest value implies when its units do not say: above 1.5 the
    /// values can only be percentages (a fraction has a little round-off above 1 at most).
    pub fn from_largest(largest: f64) -> Self {
        if largest > 1.5 {
            Self::Percent
        } else {
            Self::Fraction
        }
    }

    /// A concentration of this scale as a fraction.
    pub fn fraction(self, c: f64) -> f64 {
        match self {
            Self::Percent => c / 100.0,
            Self::Fraction => c,
        }
    }
}

/// Extent and area of one hemisphere, 10⁶ km².
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct HemisphereTotals {
    /// Σ of the areas of cells with concentration ≥ the threshold.
    pub extent: f64,
    /// Σ of area × concentration over the same cells.
    pub area: f64,
}

/// Extent and area of both hemispheres.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct IceTotals {
    /// Latitudes ≥ 0.
    pub north: HemisphereTotals,
    /// Latitudes < 0.
    pub south: HemisphereTotals,
}

/// Extent and area per hemisphere of one concentration field `(y, x)` with cell areas (km²)
/// and centre latitudes of the same shape; `threshold` is a fraction ([`EXTENT_THRESHOLD`]).
pub fn ice_totals(
    concentration: ArrayView2<f32>,
    cell_area_km2: ArrayView2<f64>,
    lat: ArrayView2<f64>,
    scale: ConcentrationScale,
    threshold: f64,
) -> IceTotals {
    let mut t = IceTotals::default();
    for ((&c, &a), &la) in concentration.iter().zip(cell_area_km2).zip(lat) {
        let c = scale.fraction(f64::from(c));
        if !(c.is_finite() && a.is_finite() && la.is_finite()) || c < threshold {
            continue;
        }
        // concentrations a little above 1 (round-off, melt-pond products) cover the cell once
        let covered = c.min(1.0);
        let h = if la >= 0.0 {
            &mut t.north
        } else {
            &mut t.south
        };
        h.extent += a * 1e-6;
        h.area += a * covered * 1e-6;
    }
    t
}

/// The sea-ice probability of each cell: the share of the members `(member, y, x)` whose
/// concentration is ≥ `threshold` (fraction), among those with a value; NaN where no member
/// has one (land).
pub fn sea_ice_probability(
    members: ArrayView3<f32>,
    scale: ConcentrationScale,
    threshold: f64,
) -> Array2<f32> {
    let (_, ny, nx) = members.dim();
    let mut out = Array2::from_elem((ny, nx), f32::NAN);
    for ((y, x), p) in out.indexed_iter_mut() {
        let column = members.index_axis(Axis(1), y);
        let column = column.index_axis(Axis(1), x);
        let (mut n, mut ice) = (0u32, 0u32);
        for &c in column {
            if c.is_finite() {
                n += 1;
                ice += u32::from(scale.fraction(f64::from(c)) >= threshold);
            }
        }
        if n > 0 {
            *p = ice as f32 / n as f32;
        }
    }
    out
}

/// The area (km²) of a cell on the sphere given its vertices in order (degrees), by the
/// line integral `A = R²/2 · |Σₖ (λₖ₊₁ − λₖ₋₁) sin φₖ|` — exact for cells bounded by
/// meridians and parallels, within a fraction of a percent for the small quadrilaterals of
/// ocean-model grids. Longitude steps are taken the short way round (across ±180°); NaN when
/// a vertex is missing. A cell containing a pole is not handled (models put a vertex there).
pub fn polygon_area_km2(lat_deg: &[f64], lon_deg: &[f64]) -> f64 {
    let n = lat_deg.len().min(lon_deg.len());
    if n < 3 || lat_deg.iter().chain(lon_deg).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    // unwrap the longitudes along the ring so each step is the short one
    let mut lon = Vec::with_capacity(n);
    lon.push(lon_deg[0]);
    for k in 1..n {
        let step = (lon_deg[k] - lon_deg[k - 1] + 540.0).rem_euclid(360.0) - 180.0;
        lon.push(lon[k - 1] + step);
    }
    let closing = (lon_deg[0] - lon_deg[n - 1] + 540.0).rem_euclid(360.0) - 180.0;
    let lon_after_ring = lon[n - 1] + closing; // λ₀ seen after one turn
    let mut sum = 0.0;
    for k in 0..n {
        let next = if k + 1 < n {
            lon[k + 1]
        } else {
            lon_after_ring
        };
        let prev = if k > 0 {
            lon[k - 1]
        } else {
            lon[n - 1] - (lon_after_ring - lon[0])
        };
        sum += (next - prev).to_radians() * lat_deg[k].to_radians().sin();
    }
    let r = crate::grid::EARTH_RADIUS_M / 1000.0;
    r * r * sum.abs() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array3};

    #[test]
    fn extent_counts_cells_from_15_percent_and_area_weights_by_concentration() {
        // four cells of 100 km² in the north (14.9 %, 15 %, 60 %, land) and one in the south
        let c = array![[14.9f32, 15.0, 60.0], [f32::NAN, 100.0, 0.0]];
        let a = Array2::from_elem((2, 3), 100.0);
        let lat = array![[70.0, 71.0, 72.0], [-60.0, -61.0, -62.0]];
        let t = ice_totals(
            c.view(),
            a.view(),
            lat.view(),
            ConcentrationScale::Percent,
            EXTENT_THRESHOLD,
        );
        // north: cells 15 % and 60 % → 200 km² extent, 15 + 60 = 75 km² area
        assert!((t.north.extent - 200e-6).abs() < 1e-15, "{t:?}");
        assert!((t.north.area - 75e-6).abs() < 1e-15, "{t:?}");
        // south: the full cell only
        assert!((t.south.extent - 100e-6).abs() < 1e-15, "{t:?}");
        assert!((t.south.area - 100e-6).abs() < 1e-15, "{t:?}");
        // the same field as fractions gives the same totals
        let f = c.mapv(|v| v / 100.0);
        let tf = ice_totals(
            f.view(),
            a.view(),
            lat.view(),
            ConcentrationScale::Fraction,
            EXTENT_THRESHOLD,
        );
        assert!((tf.north.extent - t.north.extent).abs() < 1e-15);
    }

    #[test]
    fn scale_from_units_and_from_values() {
        assert_eq!(
            ConcentrationScale::from_units("%"),
            Some(ConcentrationScale::Percent)
        );
        assert_eq!(
            ConcentrationScale::from_units("1"),
            Some(ConcentrationScale::Fraction)
        );
        assert_eq!(ConcentrationScale::from_units("m"), None);
        assert_eq!(
            ConcentrationScale::from_largest(99.9),
            ConcentrationScale::Percent
        );
        assert_eq!(
            ConcentrationScale::from_largest(1.0000001),
            ConcentrationScale::Fraction
        );
    }

    #[test]
    fn sea_ice_probability_is_the_share_of_members_with_ice() {
        let mut m = Array3::from_elem((4, 1, 2), 0.0f32);
        m[[0, 0, 0]] = 20.0;
        m[[1, 0, 0]] = 15.0;
        m[[2, 0, 0]] = 10.0;
        m[[3, 0, 0]] = f32::NAN; // three members with a value, two of them ice
        m.slice_mut(ndarray::s![.., 0, 1]).fill(f32::NAN);
        let p = sea_ice_probability(m.view(), ConcentrationScale::Percent, EXTENT_THRESHOLD);
        assert!((p[[0, 0]] - 2.0 / 3.0).abs() < 1e-6);
        assert!(p[[0, 1]].is_nan());
    }

    #[test]
    fn polygon_area_of_a_lat_lon_box_is_exact_and_crosses_180() {
        // 1° × 1° at 60–61°N: R² Δλ (sin 61° − sin 60°)
        let r = crate::grid::EARTH_RADIUS_M / 1000.0;
        let exact =
            r * r * 1f64.to_radians() * (61f64.to_radians().sin() - 60f64.to_radians().sin());
        let a = polygon_area_km2(&[60.0, 60.0, 61.0, 61.0], &[10.0, 11.0, 11.0, 10.0]);
        assert!((a - exact).abs() / exact < 1e-12, "{a} vs {exact}");
        // the same box across the date line, vertices in the other order
        let b = polygon_area_km2(&[60.0, 61.0, 61.0, 60.0], &[179.5, 179.5, -179.5, -179.5]);
        assert!((b - exact).abs() / exact < 1e-12, "{b} vs {exact}");
        assert!(polygon_area_km2(&[60.0, f64::NAN, 61.0], &[0.0, 1.0, 1.0]).is_nan());
    }
}
