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
    /// ISO 3166-1 alpha-3 code (`iso_a3`; Natural Earth writes `-99` for a few); for an
    /// admin-1 area (a province table's polygons) its ISO 3166-2 code (`iso_3166_2`).
    pub iso_a3: String,
    shape: MultiPolygon<f64>,
    bbox: Rect<f64>,
}

impl Country {
    /// The country's polygons as GeoJSON `MultiPolygon` coordinates: per polygon its rings
    /// (the exterior first, then the holes), each a closed list of `[lon, lat]`.
    pub fn geojson_coordinates(&self) -> Vec<Vec<Vec<[f64; 2]>>> {
        let ring = |l: &LineString<f64>| l.coords().map(|c| [c.x, c.y]).collect::<Vec<_>>();
        self.shape
            .0
            .iter()
            .map(|p| {
                std::iter::once(ring(p.exterior()))
                    .chain(p.interiors().iter().map(ring))
                    .collect()
            })
            .collect()
    }

    /// The country's area on the sphere (radius [`super::EARTH_RADIUS_M`]), km²: per ring
    /// `R²/2 |Σ (λ₂ − λ₁)(2 + sin φ₁ + sin φ₂)|` (the spherical polygon area of Chamberlain and
    /// Duquette 2007, JPL 07-03), exteriors minus holes.
    pub fn area_km2(&self) -> f64 {
        let r_km = super::EARTH_RADIUS_M / 1000.0;
        let ring = |l: &LineString<f64>| -> f64 {
            let c: Vec<_> = l.coords().collect();
            let sum: f64 = c
                .windows(2)
                .map(|w| {
                    (w[1].x - w[0].x).to_radians()
                        * (2.0 + w[0].y.to_radians().sin() + w[1].y.to_radians().sin())
                })
                .sum();
            (sum * r_km * r_km / 2.0).abs()
        };
        self.shape
            .0
            .iter()
            .map(|p| ring(p.exterior()) - p.interiors().iter().map(ring).sum::<f64>())
            .sum()
    }

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

    /// The bounding box of the country's polygons as `(west, east, south, north)` in the
    /// file's longitudes (−180…180 for Natural Earth).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let (lo, hi) = (self.bbox.min(), self.bbox.max());
        (lo.x, hi.x, lo.y, hi.y)
    }
}

impl serde::Serialize for Country {
    /// A country serialises as its name and ISO code (not its polygons).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Country", 2)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("iso_a3", &self.iso_a3)?;
        st.end()
    }
}

impl PartialEq for Country {
    /// Countries are the same when name and code are (polygons are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.iso_a3 == other.iso_a3
    }
}

fn wrap180(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// A set of country polygons.
#[derive(Debug, Clone)]
pub struct Countries {
    countries: Vec<Country>,
    /// Admin-1 areas (provinces, states) drawn inside the countries on maps
    /// ([`Countries::with_province_outlines`]); never used for lookups or tables.
    provinces: Vec<Country>,
}

/// Natural Earth 1:110m admin-0 countries (public domain; `data/regions/SOURCE.md`), bundled
/// so that land masks work without any file at hand.
pub const NATURAL_EARTH_110M: &str = include_str!("../../data/regions/countries_110m.geojson");

/// Natural Earth 1:50m admin-0 countries of Asia and the Indian Ocean islands, gzipped
/// (public domain; made by `scripts/data/make_countries_asia.py`, see `data/regions/SOURCE.md`):
/// the outlines of the regions this engine serves at the finer scale (Sri Lanka's coast in
/// ~90 points instead of 10, the Maldives, Singapore, Bahrain).
pub const NATURAL_EARTH_ASIA_50M_GZ: &[u8] =
    include_bytes!("../../data/regions/countries_asia_50m.geojson.gz");

/// Every ring (outer boundaries and holes) of every area of `areas` as `(lon, lat)` points.
fn rings_of(areas: &[Country]) -> impl Iterator<Item = Vec<(f64, f64)>> + '_ {
    areas.iter().flat_map(|c| {
        c.shape.0.iter().flat_map(|poly| {
            std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .map(|r| r.coords().map(|p| (p.x, p.y)).collect())
        })
    })
}

impl Countries {
    /// The bundled countries ([`Countries::bundled`]), as an owned set.
    pub fn natural_earth() -> Self {
        Countries::bundled().clone()
    }

    /// The bundled countries, parsed once per process: Natural Earth 1:50m for Asia and the
    /// Indian Ocean islands ([`NATURAL_EARTH_ASIA_50M_GZ`]), 1:110m for the rest of the world
    /// ([`NATURAL_EARTH_110M`]); a 1:50m country replaces the 1:110m one of the same ISO-A3
    /// code (or, for the codes Natural Earth writes as -99, the same name).
    pub fn bundled() -> &'static Countries {
        static BUNDLED: std::sync::OnceLock<Countries> = std::sync::OnceLock::new();
        BUNDLED.get_or_init(|| {
            let mut world =
                Countries::from_geojson(NATURAL_EARTH_110M, "bundled Natural Earth 1:110m")
                    .expect("the bundled GeoJSON parses (a unit test reads it)");
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(NATURAL_EARTH_ASIA_50M_GZ),
                &mut text,
            )
            .expect("the bundled gzip decodes (a unit test reads it)");
            let asia = Countries::from_geojson(&text, "bundled Natural Earth 1:50m Asia")
                .expect("the bundled GeoJSON parses (a unit test reads it)");
            for fine in asia.countries {
                let same = |c: &Country| {
                    (fine.iso_a3 != "-99" && c.iso_a3 == fine.iso_a3) || c.name == fine.name
                };
                match world.countries.iter_mut().find(|c| same(c)) {
                    Some(coarse) => *coarse = fine,
                    None => world.countries.push(fine),
                }
            }
            world
        })
    }

    /// Parses a GeoJSON FeatureCollection of `Polygon` / `MultiPolygon` features with `name`
    /// (and optionally `iso_a3`) properties. `source` names the text in errors.
    pub fn from_geojson(text: &str, source: &str) -> Result<Self> {
        let bad = |why: String| Error::invalid("GeoJSON outlines", format!("{source}: {why}"));
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
            // a country's ISO 3166-1 code, or an admin-1 area's ISO 3166-2 code
            let iso_a3 = f["properties"]["iso_a3"]
                .as_str()
                .or(f["properties"]["iso_3166_2"].as_str())
                .unwrap_or("")
                .to_string();
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
        Ok(Countries {
            countries,
            provinces: Vec::new(),
        })
    }

    /// These countries with the areas of `provinces` (an admin-1 set) as a second layer of
    /// outlines, drawn thinner and lighter inside the countries on maps
    /// ([`Countries::province_rings`]); lookups and country tables still see the countries
    /// alone.
    pub fn with_province_outlines(mut self, provinces: &Countries) -> Self {
        self.provinces = provinces.countries.clone();
        self
    }

    /// Every ring of the province layer (empty without one), as [`Countries::rings`].
    pub fn province_rings(&self) -> impl Iterator<Item = Vec<(f64, f64)>> + '_ {
        rings_of(&self.provinces)
    }

    /// Every ring (outer boundaries and holes) of every country as `(lon, lat)` points, for
    /// drawing outlines.
    pub fn rings(&self) -> impl Iterator<Item = Vec<(f64, f64)>> + '_ {
        rings_of(&self.countries)
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

/// What a raster cell of a [`LandRaster`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Sea,
    Land,
    /// A coastline or border passes through it or next to it: ask the polygons.
    Coast,
}

/// A raster of the countries' land over a box, for fast exact land tests: cells that no
/// polygon edge touches (nor their neighbours) are wholly land or wholly sea and answered
/// from the raster; the rest ask the polygons. Same answers as [`Countries::is_land`], about
/// as fast as an array lookup away from coasts.
#[derive(Debug, Clone)]
pub struct LandRaster<'a> {
    countries: &'a Countries,
    south: f64,
    west: f64,
    cell_deg: f64,
    ny: usize,
    nx: usize,
    cells: Vec<Cell>,
}

impl<'a> LandRaster<'a> {
    /// A raster of `cell_deg` cells over `(west, east, south, north)` (degrees, west < east
    /// within one turn).
    pub fn new(
        countries: &'a Countries,
        bounds: (f64, f64, f64, f64),
        cell_deg: f64,
    ) -> Result<Self> {
        let (west, east, south, north) = bounds;
        if cell_deg.is_nan()
            || cell_deg <= 0.0
            || east <= west
            || north <= south
            || east - west > 360.0
        {
            return Err(Error::invalid(
                "land raster",
                format!("box {bounds:?} with {cell_deg}° cells"),
            ));
        }
        let ny = ((north - south) / cell_deg).ceil() as usize;
        let nx = ((east - west) / cell_deg).ceil() as usize;
        let mut cells = vec![Cell::Sea; ny * nx];
        let idx = |lat: f64, lon: f64| -> Option<(usize, usize)> {
            let fy = (lat - south) / cell_deg;
            let fx = (lon - west).rem_euclid(360.0) / cell_deg;
            (fy >= 0.0 && fx >= 0.0 && (fy as usize) < ny && (fx as usize) < nx)
                .then_some((fy as usize, fx as usize))
        };
        // every cell an edge passes through, and its neighbours, is a coast cell
        for c in &countries.countries {
            for poly in &c.shape.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for seg in ring.lines() {
                        let (a, b) = (seg.start, seg.end);
                        let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
                        let n = (len / (cell_deg / 4.0)).ceil().max(1.0) as usize;
                        for k in 0..=n {
                            let f = k as f64 / n as f64;
                            let (lat, lon) = (a.y + f * (b.y - a.y), a.x + f * (b.x - a.x));
                            if let Some((j, i)) = idx(lat, lon) {
                                for jj in j.saturating_sub(1)..=(j + 1).min(ny - 1) {
                                    for ii in i.saturating_sub(1)..=(i + 1).min(nx - 1) {
                                        cells[jj * nx + ii] = Cell::Coast;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for j in 0..ny {
            for i in 0..nx {
                let k = j * nx + i;
                if cells[k] == Cell::Sea {
                    let lat = south + (j as f64 + 0.5) * cell_deg;
                    let lon = west + (i as f64 + 0.5) * cell_deg;
                    if countries.is_land(lat, lon) {
                        cells[k] = Cell::Land;
                    }
                }
            }
        }
        Ok(LandRaster {
            countries,
            south,
            west,
            cell_deg,
            ny,
            nx,
            cells,
        })
    }

    /// Whether the point is on land (exactly as [`Countries::is_land`]).
    pub fn is_land(&self, lat: f64, lon: f64) -> bool {
        let fy = (lat - self.south) / self.cell_deg;
        let fx = (lon - self.west).rem_euclid(360.0) / self.cell_deg;
        if fy >= 0.0 && fx >= 0.0 && (fy as usize) < self.ny && (fx as usize) < self.nx {
            match self.cells[fy as usize * self.nx + fx as usize] {
                Cell::Sea => return false,
                Cell::Land => return true,
                Cell::Coast => {}
            }
        }
        self.countries.is_land(lat, lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The finer Asian outlines: Trincomalee harbour and the sea off Colombo port are at sea,
    /// the towns behind them on land; the Maldives and Singapore exist; the rest of the world
    /// keeps its 1:110m countries.
    #[test]
    fn bundled_asia_is_fine_enough_for_harbours() {
        let c = Countries::bundled();
        assert!(!c.is_land(8.57, 81.23), "Trincomalee harbour");
        assert_eq!(c.at(8.6, 81.1).map(|c| c.name.as_str()), Some("Sri Lanka"));
        assert!(!c.is_land(6.95, 79.80), "off Colombo port");
        assert_eq!(c.at(6.92, 79.92).map(|c| c.iso_a3.as_str()), Some("LKA"));
        assert!(c.find("Maldives").is_some() && c.find("SGP").is_some());
        assert!(c.find("Brazil").is_some() && c.find("France").is_some());
        // one India, not two
        assert_eq!(c.all().iter().filter(|k| k.iso_a3 == "IND").count(), 1);
        // areas (km²) against the published ones: Sri Lanka 65 610 within 3 %; India
        // 3 287 263 within 6 % (the official figure counts all of Jammu and Kashmir, Natural
        // Earth draws India to the lines of control: 4 % less)
        let area = |k: &str| c.find(k).unwrap().area_km2();
        assert!(
            (area("LKA") / 65_610.0 - 1.0).abs() < 0.03,
            "{}",
            area("LKA")
        );
        assert!(
            (area("IND") / 3_287_263.0 - 1.0).abs() < 0.06,
            "{}",
            area("IND")
        );
    }

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
    fn province_outlines_are_drawn_but_never_looked_up() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/regions/provinces_lka.geojson.gz"
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
            &mut text,
        )
        .unwrap();
        let provinces = Countries::from_geojson(&text, path).unwrap();
        assert_eq!(provinces.all().len(), 9);
        let c = natural_earth();
        assert_eq!(c.province_rings().count(), 0);
        let both = c.clone().with_province_outlines(&provinces);
        assert!(both.province_rings().count() >= 9);
        // the countries are unchanged: the same rings, lookups and list
        assert_eq!(both.rings().count(), c.rings().count());
        assert_eq!(both.all().len(), 177);
        assert_eq!(both.at(7.29, 80.63).unwrap().name, "Sri Lanka"); // Kandy: not "Central"
        assert_eq!(provinces.at(7.29, 80.63).unwrap().name, "Central");
    }

    #[test]
    fn raster_answers_as_the_polygons() {
        let c = natural_earth();
        let r = LandRaster::new(&c, (60.0, 100.0, 0.0, 30.0), 0.1).unwrap();
        let mut state = 12_345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..20_000 {
            let (lat, lon) = (-2.0 + 34.0 * next(), 58.0 + 44.0 * next());
            assert_eq!(r.is_land(lat, lon), c.is_land(lat, lon), "{lat}, {lon}");
        }
        assert!(LandRaster::new(&c, (10.0, 0.0, 0.0, 1.0), 0.1).is_err());
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
