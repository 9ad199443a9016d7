//! GeoTIFF maps for GIS: a regular latitude/longitude grid written as a baseline TIFF (one
//! strip, uncompressed, pixel-interleaved bands) with the GeoTIFF 1.0 tags that place it on
//! WGS 84 (EPSG:4326): `ModelPixelScale` (cell size), `ModelTiepoint` (the north-west corner of
//! the first pixel), and the key directory `GTModelType = geographic`, `GTRasterType =
//! PixelIsArea`, `GeographicType = 4326`. Missing cells carry the `GDAL_NODATA` value; band
//! names go into `GDAL_METADATA` as each band's description, as GDAL reads them.
//!
//! Rows run north to south and columns west to east, whatever order the grid had.
//!
//! # References
//! TIFF 6.0 (Adobe 1992); OGC GeoTIFF 1.1 (OGC 19-008r4, 2019), §7 (tags) and Annex B (keys);
//! GDAL's GTiff driver documentation (`GDAL_NODATA` tag 42113, `GDAL_METADATA` tag 42112).

use std::path::{Path, PathBuf};

use ndarray::ArrayView3;

use crate::error::{Error, Result};

/// Nodata value of float GeoTIFF bands.
pub const NODATA_F32: f32 = -9999.0;
/// Nodata value of integer (category) GeoTIFF bands.
pub const NODATA_I16: i16 = -32768;

/// The pixel values of a GeoTIFF.
pub enum Bands<'a> {
    /// Float bands `(band, lat, lon)`; NaN becomes [`NODATA_F32`].
    F32(ArrayView3<'a, f32>),
    /// 16-bit integer bands `(band, lat, lon)` (categories); `None` becomes [`NODATA_I16`].
    I16(ndarray::Array3<Option<i16>>),
}

/// Writes `bands` on the regular grid `lat` × `lon` (centres, degrees; either order, evenly
/// spaced) to `path` (atomically: a temporary name, then renamed); `names` describe the bands.
pub fn write_geotiff(
    path: &Path,
    lat: &[f64],
    lon: &[f64],
    bands: &Bands,
    names: &[String],
) -> Result<PathBuf> {
    let bad = |reason: String| Error::Write {
        path: path.to_path_buf(),
        reason,
    };
    let (nb, ny, nx) = match bands {
        Bands::F32(a) => a.dim(),
        Bands::I16(a) => a.dim(),
    };
    if ny != lat.len() || nx != lon.len() || ny < 2 || nx < 2 || nb == 0 {
        return Err(bad(format!(
            "a GeoTIFF needs at least 2 × 2 cells and one band; got {nb} band(s) of {ny} × {nx} on a {} × {} grid",
            lat.len(),
            lon.len()
        )));
    }
    let dlat = (lat[ny - 1] - lat[0]) / (ny - 1) as f64;
    let dlon = (lon[nx - 1] - lon[0]) / (nx - 1) as f64;
    let even = |v: &[f64], d: f64| {
        v.windows(2)
            .all(|w| ((w[1] - w[0]) - d).abs() <= 1e-6 * d.abs().max(1e-3) + 1e-9)
    };
    if dlon <= 0.0 || !even(lon, dlon) || dlat == 0.0 || !even(lat, dlat) {
        return Err(bad(
            "a GeoTIFF needs a regular grid with longitudes increasing west to east: regrid it first (s2s regrid --grid)".into(),
        ));
    }
    let north_first = dlat < 0.0;
    let row_of = |r: usize| if north_first { r } else { ny - 1 - r };
    let (sample_bytes, format) = match bands {
        Bands::F32(_) => (4usize, 3u16),
        Bands::I16(_) => (2usize, 2u16),
    };
    let mut pixels = Vec::with_capacity(nb * ny * nx * sample_bytes);
    for r in 0..ny {
        let y = row_of(r);
        for x in 0..nx {
            for b in 0..nb {
                match bands {
                    Bands::F32(a) => {
                        let v = a[[b, y, x]];
                        let v = if v.is_finite() { v } else { NODATA_F32 };
                        pixels.extend_from_slice(&v.to_le_bytes());
                    }
                    Bands::I16(a) => {
                        let v = a[[b, y, x]].unwrap_or(NODATA_I16);
                        pixels.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
    }
    let nodata = match bands {
        Bands::F32(_) => format!("{NODATA_F32}"),
        Bands::I16(_) => format!("{NODATA_I16}"),
    };
    let north_edge = lat[row_of(0)] + dlat.abs() / 2.0;
    let west_edge = lon[0] - dlon / 2.0;
    let mut metadata = String::from("<GDALMetadata>");
    for (b, n) in names.iter().enumerate().take(nb) {
        let escaped = n
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        metadata.push_str(&format!(
            "<Item name=\"DESCRIPTION\" sample=\"{b}\" role=\"description\">{escaped}</Item>"
        ));
    }
    metadata.push_str("</GDALMetadata>");

    let bits = vec![(sample_bytes * 8) as u16; nb];
    let mut tags: Vec<(u16, Value)> = vec![
        (256, Value::Long(vec![nx as u32])),
        (257, Value::Long(vec![ny as u32])),
        (258, Value::Short(bits)),
        (259, Value::Short(vec![1])),
        (262, Value::Short(vec![1])),
        (273, Value::Long(vec![0])), // strip offset, set below
        (277, Value::Short(vec![nb as u16])),
        (278, Value::Long(vec![ny as u32])),
        (279, Value::Long(vec![pixels.len() as u32])),
        (284, Value::Short(vec![1])),
        (339, Value::Short(vec![format; nb])),
        (33550, Value::Double(vec![dlon, dlat.abs(), 0.0])),
        (
            33922,
            Value::Double(vec![0.0, 0.0, 0.0, west_edge, north_edge, 0.0]),
        ),
        // Key directory: version 1.1.0, 3 keys; model type geographic (2), raster type
        // PixelIsArea (1), geographic CRS EPSG:4326.
        (
            34735,
            Value::Short(vec![
                1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326,
            ]),
        ),
        (42112, Value::Ascii(metadata)),
        (42113, Value::Ascii(nodata)),
    ];
    if nb > 1 {
        // Bands beyond the first are "unspecified" extra samples of a grey image.
        tags.push((338, Value::Short(vec![0; nb - 1])));
    }
    tags.sort_by_key(|t| t.0);
    if pixels.len() > u32::MAX as usize - 1_000_000 {
        return Err(bad(format!(
            "{} bytes of pixels: beyond a classic TIFF's 4 GiB; crop with --bbox",
            pixels.len()
        )));
    }
    let bytes = encode(&tags, &pixels);
    super::write::write_bytes_atomic(path, &bytes)
}

/// A TIFF field value.
enum Value {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Double(Vec<f64>),
    Ascii(String),
}

impl Value {
    /// (TIFF type, count, little-endian bytes).
    fn encoded(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Value::Short(v) => (
                3,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Value::Long(v) => (
                4,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Value::Double(v) => (
                12,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Value::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u32, b)
            }
        }
    }
}

/// A little-endian TIFF: header, pixels, one IFD with its out-of-line values.
fn encode(tags: &[(u16, Value)], pixels: &[u8]) -> Vec<u8> {
    let pixel_offset = 8usize;
    let mut ifd_offset = pixel_offset + pixels.len();
    ifd_offset += ifd_offset % 2; // word alignment
    let ifd_len = 2 + 12 * tags.len() + 4;
    let mut extra_offset = ifd_offset + ifd_len;
    let mut out = Vec::with_capacity(extra_offset + 1024);
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&(ifd_offset as u32).to_le_bytes());
    out.extend_from_slice(pixels);
    out.resize(ifd_offset, 0);
    out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
    let mut extra = Vec::new();
    for (tag, value) in tags {
        let (kind, count, mut bytes) = value.encoded();
        if *tag == 273 {
            bytes = (pixel_offset as u32).to_le_bytes().to_vec();
        }
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if bytes.len() <= 4 {
            bytes.resize(4, 0);
            out.extend_from_slice(&bytes);
        } else {
            out.extend_from_slice(&(extra_offset as u32).to_le_bytes());
            extra_offset += bytes.len() + bytes.len() % 2;
            let pad = bytes.len() % 2;
            extra.extend_from_slice(&bytes);
            extra.resize(extra.len() + pad, 0);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&extra);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn header_tags_and_north_up_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.tif");
        // Latitude ascending (south first): the file's first row is the northern one.
        let mut a = Array3::<f32>::zeros((1, 2, 3));
        a[[0, 1, 0]] = 7.0; // north-west cell
        a[[0, 0, 2]] = f32::NAN;
        write_geotiff(
            &p,
            &[10.0, 11.0],
            &[70.0, 71.0, 72.0],
            &Bands::F32(a.view()),
            &["x".into()],
        )
        .unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[..4], b"II*\0");
        // pixels start at 8: first value is the north-west cell
        assert_eq!(f32::from_le_bytes([b[8], b[9], b[10], b[11]]), 7.0);
        // the last pixel (south-east) is missing: nodata
        let last = 8 + 5 * 4;
        assert_eq!(
            f32::from_le_bytes([b[last], b[last + 1], b[last + 2], b[last + 3]]),
            NODATA_F32
        );
        let ifd = u32_at(&b, 4) as usize;
        let n = u16_at(&b, ifd) as usize;
        let tags: Vec<u16> = (0..n).map(|i| u16_at(&b, ifd + 2 + 12 * i)).collect();
        let mut sorted = tags.clone();
        sorted.sort();
        assert_eq!(tags, sorted, "tags in ascending order");
        for t in [256, 257, 273, 33550, 33922, 34735, 42113] {
            assert!(tags.contains(&t), "tag {t}");
        }
        // tie point: north-west corner of the first pixel, half a cell out from the centres
        let k = tags.iter().position(|&t| t == 33922).unwrap();
        let off = u32_at(&b, ifd + 2 + 12 * k + 8) as usize;
        let d = |i: usize| {
            let s = off + 8 * i;
            f64::from_le_bytes(b[s..s + 8].try_into().unwrap())
        };
        assert_eq!((d(3), d(4)), (69.5, 11.5));
    }

    #[test]
    fn an_irregular_grid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Array3::<f32>::zeros((1, 2, 3));
        let e = write_geotiff(
            &dir.path().join("m.tif"),
            &[10.0, 11.0],
            &[70.0, 71.0, 75.0],
            &Bands::F32(a.view()),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("regular grid"), "{e}");
    }
}
