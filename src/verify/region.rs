//! Regions for area means and bulletins: a lon/lat box, or a set of countries. A grid cell
//! belongs to a country region when its centre lies in one of the countries' polygons
//! (point-in-polygon with the `geo` crate, [`crate::grid::Countries`]); so country regions
//! hold land cells only, and on a grid coarser than a small country it may hold none.
//!
//! Area means weight each cell by cos(latitude), the area of a regular lon/lat cell:
//! `x̄ = Σ w_k x_k / Σ w_k`, `w_k = cos φ_k`, over the cells of the region where `x` is finite.
//! The pattern (spatial) anomaly correlation of a forecast anomaly field `f` with the observed
//! anomaly field `o` is the centred, area-weighted correlation over the same cells:
//! `r = Σ w (f − f̄)(o − ō) / √(Σ w (f − f̄)² Σ w (o − ō)²)` (Wilks 2011, §8.6.4).

use serde::Serialize;

use crate::cube::{BBox, Spatial};
use crate::error::{Error, Result};
use crate::grid::{Countries, Country};

/// A named region: every cell in `bbox`, or, when `countries` is not empty, the cells of the
/// box whose centres are in one of the countries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    /// Name used in outputs.
    pub name: String,
    /// Its box (for a country region, the union of the countries' bounding boxes; maps use
    /// it as their extent).
    pub bbox: BBox,
    /// The countries (empty: the whole box).
    pub countries: Vec<Country>,
}

/// The predefined regions and their countries (Natural Earth names): Central Asia; South Asia
/// (the SAARC members); Southeast Asia (the ASEAN members and Timor-Leste).
pub const PREDEFINED: [(&str, &[&str]); 3] = [
    (
        "central_asia",
        &[
            "Kazakhstan",
            "Kyrgyzstan",
            "Tajikistan",
            "Turkmenistan",
            "Uzbekistan",
        ],
    ),
    (
        "south_asia",
        &[
            "Afghanistan",
            "Pakistan",
            "India",
            "Nepal",
            "Bhutan",
            "Bangladesh",
            "Sri Lanka",
            "Maldives",
        ],
    ),
    (
        "southeast_asia",
        &[
            "Myanmar",
            "Thailand",
            "Laos",
            "Cambodia",
            "Vietnam",
            "Malaysia",
            "Singapore",
            "Brunei",
            "Indonesia",
            "Philippines",
            "Timor-Leste",
        ],
    ),
];

impl Region {
    /// A box region.
    pub fn from_bbox(name: &str, bbox: BBox) -> Region {
        Region {
            name: name.to_string(),
            bbox,
            countries: Vec::new(),
        }
    }

    /// A region of the countries named by `keys` (names or ISO-A3 codes, case-insensitive)
    /// in `source`.
    pub fn from_countries(name: &str, keys: &[&str], source: &Countries) -> Result<Region> {
        let mut countries = Vec::with_capacity(keys.len());
        for key in keys {
            let c = source.find(key.trim()).ok_or_else(|| {
                Error::invalid(
                    "region",
                    format!(
                        "'{name}': no country '{}' in the country polygons (use the Natural Earth name, e.g. 'India', or the ISO code 'IND')",
                        key.trim()
                    ),
                )
            })?;
            countries.push(c.clone());
        }
        let Some(first) = countries.first() else {
            return Err(Error::invalid(
                "region",
                format!("'{name}': no countries given"),
            ));
        };
        let (mut w, mut e, mut s, mut n) = first.bounds();
        for c in &countries[1..] {
            let (cw, ce, cs, cn) = c.bounds();
            w = w.min(cw);
            e = e.max(ce);
            s = s.min(cs);
            n = n.max(cn);
        }
        Ok(Region {
            name: name.to_string(),
            bbox: BBox::new(w, e, s, n)?,
            countries,
        })
    }

    /// The predefined regions of the bulletins ([`PREDEFINED`]) on the bundled countries.
    pub fn predefined() -> Vec<Region> {
        PREDEFINED
            .iter()
            .map(|(name, keys)| {
                Region::from_countries(name, keys, Countries::bundled())
                    .expect("the predefined countries are in the bundled set")
            })
            .collect()
    }

    /// Parses a region with the bundled countries; see [`Region::parse_with`].
    pub fn parse(text: &str) -> Result<Region> {
        Region::parse_with(text, Countries::bundled())
    }

    /// Parses `NAME` (a predefined region, or one country by name or ISO code, e.g. `Nepal`,
    /// `KAZ`), `NAME=W,E,S,N` (a box) or `NAME=A,B,…` / `NAME=A+B+…` (countries).
    pub fn parse_with(text: &str, countries: &Countries) -> Result<Region> {
        let text = text.trim();
        match text.split_once('=') {
            Some((name, rest)) => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(Error::invalid(
                        "region",
                        format!("'{text}': the region needs a name before '='"),
                    ));
                }
                let parts: Vec<&str> = rest
                    .split([',', '+'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect();
                let numeric = parts.iter().all(|p| p.parse::<f64>().is_ok());
                if numeric {
                    Ok(Region::from_bbox(name, BBox::parse(rest)?))
                } else {
                    Region::from_countries(name, &parts, countries)
                }
            }
            None => {
                if let Some(r) = Region::predefined().into_iter().find(|r| r.name == text) {
                    return Ok(r);
                }
                if countries.find(text).is_some() {
                    let name = text.to_lowercase().replace(' ', "_");
                    return Region::from_countries(&name, &[text], countries);
                }
                Err(Error::invalid(
                    "region",
                    format!(
                        "'{text}': not a predefined region (central_asia, south_asia, southeast_asia) nor a country; give NAME=W,E,S,N or NAME=Country,Country"
                    ),
                ))
            }
        }
    }

    /// Whether a point is in the region.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        self.bbox.contains(lat, lon)
            && (self.countries.is_empty() || self.countries.iter().any(|c| c.contains(lat, lon)))
    }

    /// The area weight of every cell of `spatial` (row-major): cos(latitude) for cells whose
    /// centre is in the region, 0 for the others (and for points without a position).
    pub fn cell_weights(&self, spatial: &Spatial) -> Vec<f64> {
        area_weights_where(spatial, |lat, lon| self.contains(lat, lon))
    }
}

/// The area weight of every cell of `spatial` (row-major): cos(latitude), 0 for points without
/// a position — the whole map as one region.
pub fn map_weights(spatial: &Spatial) -> Vec<f64> {
    area_weights_where(spatial, |_, _| true)
}

/// cos(latitude) of the cells whose centre `keep(lat, lon)` accepts, 0 elsewhere.
fn area_weights_where(spatial: &Spatial, keep: impl Fn(f64, f64) -> bool) -> Vec<f64> {
    let (ny, nx) = spatial.shape();
    (0..ny * nx)
        .map(|k| {
            let (lat, lon) = spatial.cell_lat_lon(k / nx, k % nx);
            if lat.is_finite() && lon.is_finite() && keep(lat, lon) {
                lat.to_radians().cos().max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Area-weighted mean of a field (row-major, as `weights` from [`Region::cell_weights`]) over
/// the cells with a positive weight where the field is finite: `(mean, cells)`, NaN mean
/// without cells.
pub fn regional_mean(field: &[f32], weights: &[f64]) -> (f64, usize) {
    let (mut sum, mut wsum, mut n) = (0.0, 0.0, 0);
    for (&v, &w) in field.iter().zip(weights) {
        if w > 0.0 && v.is_finite() {
            sum += w * f64::from(v);
            wsum += w;
            n += 1;
        }
    }
    (if wsum > 0.0 { sum / wsum } else { f64::NAN }, n)
}

/// Area-weighted, centred pattern correlation of two anomaly fields over the cells with a
/// positive weight where both are finite; NaN with fewer than 3 such cells or a flat field.
pub fn pattern_acc(forecast: &[f32], observed: &[f32], weights: &[f64]) -> f64 {
    let mut r = super::WeightedCorrelation::default();
    for ((&f, &o), &w) in forecast.iter().zip(observed).zip(weights) {
        r.add(f64::from(f), f64::from(o), w);
    }
    r.value()
}
