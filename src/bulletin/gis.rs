//! The regional table of an outlook for GIS and spreadsheets: `regions.csv` (one row per
//! variable, region and lead) and `regions.geojson` (the same rows as features whose geometry
//! is the region: its countries' polygons, or its box).
//!
//! Columns: the area-mean probability of each tercile category, the area share where each is
//! dominant and where none is, the area-mean cross-validated ACC and RPSS of the MME, the
//! share with skill (RPSS > 0), the area-mean anomaly and percent of normal — the numbers of
//! the bulletin's regional table, unrounded. Missing values are empty in CSV, `null` in JSON.
//! GeoJSON follows RFC 7946 (WGS 84 longitude/latitude, no `crs` member).

use serde_json::{json, Value};

use super::RegionOutlook;
use crate::verify::Region;

/// The columns after `variable, region, lead, target`.
const NUMBERS: [&str; 13] = [
    "cells",
    "p_below",
    "p_near",
    "p_above",
    "dominant_below",
    "dominant_near",
    "dominant_above",
    "no_dominant",
    "acc",
    "rpss",
    "skilful_share",
    "mean_anomaly",
    "percent_of_normal",
];

fn numbers(o: &RegionOutlook) -> [f64; 13] {
    [
        o.cells as f64,
        o.mean_probability[0],
        o.mean_probability[1],
        o.mean_probability[2],
        o.dominant_share[0],
        o.dominant_share[1],
        o.dominant_share[2],
        o.no_dominant_share,
        o.acc,
        o.rpss,
        o.skilful_share,
        o.mean_anomaly,
        o.percent_of_normal,
    ]
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `regions.csv` of the variables' regional outlooks (`(variable, outlooks)`).
pub fn regional_csv(variables: &[(&str, &[RegionOutlook])]) -> String {
    let mut out = format!("variable,region,lead,target,{}\n", NUMBERS.join(","));
    for (variable, outlooks) in variables {
        for o in *outlooks {
            let cells: Vec<String> = numbers(o)
                .iter()
                .map(|v| {
                    if v.is_finite() {
                        format!("{v}")
                    } else {
                        String::new()
                    }
                })
                .collect();
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                field(variable),
                field(&o.region),
                field(&o.lead),
                field(&o.target),
                cells.join(",")
            ));
        }
    }
    out
}

/// The GeoJSON geometry of a region: its countries as one MultiPolygon, else its box.
pub fn region_geometry(r: &Region) -> Value {
    if r.countries.is_empty() {
        let b = &r.bbox;
        // A box across the 180° meridian is written with its east edge past 180 (RFC 7946
        // §3.1.9 would split it; GIS tools draw the continuous ring).
        let east = if b.east < b.west {
            b.east + 360.0
        } else {
            b.east
        };
        json!({
            "type": "Polygon",
            "coordinates": [[[b.west, b.south], [east, b.south], [east, b.north], [b.west, b.north], [b.west, b.south]]],
        })
    } else {
        let polygons: Vec<_> = r
            .countries
            .iter()
            .flat_map(|c| c.geojson_coordinates())
            .collect();
        json!({ "type": "MultiPolygon", "coordinates": polygons })
    }
}

/// `regions.geojson`: a FeatureCollection, one feature per variable, region and lead.
pub fn regional_geojson(variables: &[(&str, &[RegionOutlook])], regions: &[Region]) -> Value {
    let mut features = Vec::new();
    for (variable, outlooks) in variables {
        for o in *outlooks {
            let Some(r) = regions.iter().find(|r| r.name == o.region) else {
                continue;
            };
            let mut props = serde_json::Map::new();
            props.insert("variable".into(), json!(variable));
            props.insert("region".into(), json!(o.region));
            props.insert("lead".into(), json!(o.lead));
            props.insert("target".into(), json!(o.target));
            for (k, v) in NUMBERS.iter().zip(numbers(o)) {
                props.insert(
                    (*k).into(),
                    if v.is_finite() { json!(v) } else { Value::Null },
                );
            }
            features.push(json!({
                "type": "Feature",
                "geometry": region_geometry(r),
                "properties": props,
            }));
        }
    }
    json!({ "type": "FeatureCollection", "features": features })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::BBox;

    fn outlook(region: &str) -> RegionOutlook {
        RegionOutlook {
            region: region.into(),
            lead: "months 2–4".into(),
            target: "Oct–Dec 2021".into(),
            cells: 12,
            mean_probability: [0.25, 0.35, 0.4],
            dominant_share: [0.0, 0.1, 0.5],
            dominant_bins: [[0.0; 4]; 3],
            no_dominant_share: 0.4,
            acc: 0.3,
            rpss: f64::NAN,
            skilful_share: 0.6,
            extreme_probability: [0.1, 0.1],
            extreme_levels: [0.1, 0.9],
            mean_anomaly: 0.5,
            percent_of_normal: 110.0,
        }
    }

    #[test]
    fn csv_rows_and_missing_values() {
        let o = [outlook("box, east")];
        let csv = regional_csv(&[("pr", &o)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("variable,region,lead,target,cells,p_below"));
        assert_eq!(
            lines[1],
            "pr,\"box, east\",months 2–4,Oct–Dec 2021,12,0.25,0.35,0.4,0,0.1,0.5,0.4,0.3,,0.6,0.5,110"
        );
    }

    #[test]
    fn geojson_box_feature() {
        let r = Region {
            name: "x".into(),
            bbox: BBox::new(170.0, -170.0, 0.0, 10.0).unwrap(),
            countries: vec![],
        };
        let o = [outlook("x")];
        let g = regional_geojson(&[("pr", &o)], &[r]);
        let f = &g["features"][0];
        assert_eq!(f["geometry"]["type"], "Polygon");
        assert_eq!(f["geometry"]["coordinates"][0][1], json!([190.0, 0.0]));
        assert_eq!(f["properties"]["p_above"], json!(0.4));
        assert!(f["properties"]["rpss"].is_null());
    }
}
