//! Regions for area means: predefined Central, South and Southeast Asia boxes, or any box;
//! means are weighted by cos(latitude), the area of a regular lon/lat cell.

use serde::Serialize;

use crate::cube::{BBox, Spatial};
use crate::error::{Error, Result};

/// A named region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    /// Name used in outputs.
    pub name: String,
    /// Its box.
    pub bbox: BBox,
}

impl Region {
    /// The predefined regions of the bulletins: Central Asia (46–88°E, 35–56°N), South Asia
    /// (60–98°E, 5–38°N) and Southeast Asia (92–142°E, 11°S–28°N).
    pub fn predefined() -> Vec<Region> {
        [
            ("central_asia", 46.0, 88.0, 35.0, 56.0),
            ("south_asia", 60.0, 98.0, 5.0, 38.0),
            ("southeast_asia", 92.0, 142.0, -11.0, 28.0),
        ]
        .iter()
        .map(|&(n, w, e, s, nn)| Region {
            name: n.to_string(),
            bbox: BBox::new(w, e, s, nn).expect("valid box"),
        })
        .collect()
    }

    /// Parses `NAME` (a predefined region) or `NAME=W,E,S,N`.
    pub fn parse(text: &str) -> Result<Region> {
        match text.split_once('=') {
            Some((name, b)) => Ok(Region {
                name: name.trim().to_string(),
                bbox: BBox::parse(b)?,
            }),
            None => Region::predefined()
                .into_iter()
                .find(|r| r.name == text.trim())
                .ok_or_else(|| {
                    Error::invalid(
                        "region",
                        format!(
                            "'{text}': not a predefined region (central_asia, south_asia, southeast_asia); give NAME=W,E,S,N"
                        ),
                    )
                }),
        }
    }
}

/// cos(latitude)-weighted mean of a `(y, x)` field (row-major) over the cells of `spatial` in
/// `region` where the field is finite; `(mean, cells)`, NaN mean without cells.
pub fn regional_mean(field: &[f32], spatial: &Spatial, region: &Region) -> (f64, usize) {
    let (ny, nx) = spatial.shape();
    let (mut sum, mut wsum, mut n) = (0.0, 0.0, 0);
    for y in 0..ny {
        for x in 0..nx {
            let v = field[y * nx + x];
            if !v.is_finite() {
                continue;
            }
            let (lat, lon) = spatial.cell_lat_lon(y, x);
            if !region.bbox.contains(lat, lon) {
                continue;
            }
            let w = lat.to_radians().cos().max(0.0);
            sum += w * f64::from(v);
            wsum += w;
            n += 1;
        }
    }
    (if wsum > 0.0 { sum / wsum } else { f64::NAN }, n)
}
