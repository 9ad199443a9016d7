//! Country polygons (GeoJSON, e.g. Natural Earth admin-0) and point-in-polygon lookup with the
//! `geo` crate: which country a point is in, for cyclone landfall, drift stranding and country
//! regions.
//!
//! A point is in a country when it is inside (or on the boundary of) one of the country's
//! polygons and outside their holes (`geo::Intersects`). Longitudes are compared modulo 360°
//! (a point at 100°E and one at −260° are the same). Each country's bounding box is checked
//! first, so a lookup costs a few comparisons away from land.

use geo::{BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Polygon, Rect};
use serde_json::Value;

use crate::error::{Error, Result};

/// One country.
#[derive(Debug, Clone)]
pub struct Country {
    /// Name (the `name` property).
    pub name: String,
    /// ISO 3166-1 alpha-3 code (`iso_a3`; Natural Earth writes `-99` for a few).
    pub iso_a3: String,
    shape: MultiPolygon<f64>,
    bbox: Rect<f64>,
}

impl Country {
    /// Whether the point (degrees) is in this country.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon = wrap180(lon);
        let p = Coord { x: lon, y: lat };
        let (lo, hi) = (self.bbox.min(), self.bbox.max());
        if p.x < lo.x || p.x > hi.x || p.y < lo.y || p.y > hi.y {
            return false;
        }
        self.shape.intersects(&Point::from(p))
    }
}

fn wrap180(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// A set of country polygons.
#[derive(Debug, Clone)]
pub struct Countries {
    countries: Vec<Country>,
}

impl Countries {
    /// Parses a GeoJSON FeatureCollection of `Polygon` / `MultiPolygon` features with `name`
    /// (and optionally `iso_a3`) properties. `source` names the text in errors.
    pub fn from_geojson(text: &str, source: &str) -> Result<Self> {
        let bad = |why: String| Error::invalid("country polygons", format!("{source}: {why}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let features = v["features"]
            .as_array()
            .ok_or_else(|| bad("not a GeoJSON FeatureCollection (no 'features')".into()))?;
        let ring = |r: &Value| -> Option<LineString<f64>> {
            let pts: Vec<Coord<f64>> = r
                .as_array()?
                .iter()
                .filter_map(|p| {
                    Some(Coord {
                        x: p.get(0)?.as_f64()?,
                        y: p.get(1)?.as_f64()?,
                    })
                })
                .collect();
            (pts.len() >= 4).then(|| LineString::new(pts))
        };
        let polygon = |rings: &Value| -> Option<Polygon<f64>> {
            let mut it = rings.as_array()?.iter().filter_map(ring);
            let outer = it.next()?;
            Some(Polygon::new(outer, it.collect()))
        };
        let mut countries = Vec::new();
        for (k, f) in features.iter().enumerate() {
            let g = &f["geometry"];
            let polys: Vec<Polygon<f64>> = match g["type"].as_str() {
                Some("Polygon") => polygon(&g["coordinates"]).into_iter().collect(),
                Some("MultiPolygon") => g["coordinates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(polygon)
                    .collect(),
                _ => continue,
            };
            if polys.is_empty() {
                continue;
            }
            let name = f["properties"]["name"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("feature {k} has no 'name' property")))?;
            let iso_a3 = f["properties"]["iso_a3"].as_str().unwrap_or("").to_string();
            let shape = MultiPolygon::new(polys);
            let Some(bbox) = shape.bounding_rect() else {
                continue;
            };
            countries.push(Country {
                name,
                iso_a3,
                shape,
                bbox,
            });
        }
        if countries.is_empty() {
            return Err(bad("no Polygon or MultiPolygon features".into()));
        }
        Ok(Countries { countries })
    }

    /// All countries, in file order.
    pub fn all(&self) -> &[Country] {
        &self.countries
    }

    /// The country containing the point, if any (the first in file order on shared borders).
    pub fn at(&self, lat: f64, lon: f64) -> Option<&Country> {
        self.countries.iter().find(|c| c.contains(lat, lon))
    }

    /// Whether the point is on land (in any country).
    pub fn is_land(&self, lat: f64, lon: f64) -> bool {
        self.at(lat, lon).is_some()
    }

    /// A country by name or ISO-A3 code (case-insensitive).
    pub fn find(&self, key: &str) -> Option<&Country> {
        self.countries
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(key) || c.iso_a3.eq_ignore_ascii_case(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn natural_earth() -> Countries {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/regions/countries_110m.geojson"
        );
        Countries::from_geojson(&std::fs::read_to_string(path).unwrap(), path).unwrap()
    }

    #[test]
    fn points_in_south_asian_countries() {
        let c = natural_earth();
        assert_eq!(c.all().len(), 177);
        assert_eq!(c.at(7.5, 80.7).unwrap().name, "Sri Lanka");
        assert_eq!(c.at(23.7, 90.4).unwrap().iso_a3, "BGD"); // Dhaka
        assert_eq!(c.at(19.1, 72.9).unwrap().name, "India"); // Mumbai
        assert_eq!(c.at(14.6, 121.0).unwrap().name, "Philippines"); // Manila
        assert!(c.at(7.0, 82.5).is_none()); // the ship fire of 3 Sept 2020, at sea
        assert!(c.at(15.0, 88.0).is_none()); // Bay of Bengal
                                             // longitudes modulo 360: 80.7°E = −279.3°
        assert_eq!(c.at(7.5, 80.7 - 360.0).unwrap().name, "Sri Lanka");
        assert!(c.find("lka").is_some() && c.find("Sri Lanka").is_some());
    }

    #[test]
    fn holes_and_bad_input() {
        let doughnut = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"name":"Ring"},"geometry":{"type":"Polygon","coordinates":[
            [[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}}]}"#;
        let c = Countries::from_geojson(doughnut, "ring.json").unwrap();
        assert!(c.is_land(2.0, 2.0));
        assert!(!c.is_land(5.0, 5.0)); // in the hole
        assert!(!c.is_land(5.0, 15.0));
        let e = Countries::from_geojson("{}", "x.json").unwrap_err();
        assert!(e.to_string().contains("x.json"), "{e}");
        assert!(Countries::from_geojson("not json", "y.json").is_err());
    }
}
