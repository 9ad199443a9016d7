//! The sea-ice probability map on a polar stereographic projection, as the Sea Ice Prediction
//! Network's outlooks draw it: each cell of the model grid (regular, or curvilinear such as a
//! tripolar ocean grid) coloured by its sea-ice probability (the share of members with at
//! least 15 % ice), the ensemble's **median ice edge** (the 50 % contour of that probability)
//! as a line, land from the country polygons, a graticule and a colour key.
//!
//! Projection (Snyder 1987, *Map Projections — A Working Manual*, §21, on the sphere, true
//! scale at the pole; the factor 2R dropped): north, ρ = tan((90° − φ)/2),
//! x = ρ sin(λ − λ₀), y = −ρ cos(λ − λ₀) with λ₀ = −45° (the orientation of the NSIDC polar
//! stereographic grid: 45° W points down); south, ρ = tan((90° + φ)/2), x = ρ sin(λ − λ₀),
//! y = ρ cos(λ − λ₀), λ₀ = 0°. A cell is drawn as the quadrilateral through the projected
//! means of the four cell centres around each of its corners (so curvilinear and tripolar
//! grids need no bounds); the contour is marching squares over the cell centres with linear
//! interpolation along each side of a square, saddles decided by the mean of the four corners.

use std::path::Path;

use plotters::prelude::*;

use crate::cube::Spatial;
use crate::error::{Error, Result};
use crate::grid::Countries;
use crate::outputs::staging::write_through_temporary;

/// The latitude where the map stops (north, and its mirror south): the Sea of Okhotsk's ice
/// reaches about 44° N in March, the Antarctic pack about 55° S in September, so 45° shows the
/// ice of any month in either hemisphere.
pub const POLAR_MAP_EDGE_LATITUDE: f64 = 45.0;

/// The probability whose contour is the median ice edge: half the members have ice there.
pub const MEDIAN_ICE_EDGE: f32 = 0.5;

/// Upper bounds of the colour classes of the sea-ice probability (the last class holds 1).
const CLASS_UPPER: [f32; 6] = [0.1, 0.3, 0.5, 0.7, 0.9, f32::INFINITY];

/// Colours of the classes: white where (almost) no member has ice, then ColorBrewer Blues.
const CLASS_COLOUR: [RGBColor; 6] = [
    RGBColor(255, 255, 255),
    RGBColor(198, 219, 239),
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(49, 130, 189),
    RGBColor(8, 81, 156),
];

/// Land and cells without data (the model's land mask), under the country outlines.
const LAND: RGBColor = RGBColor(205, 205, 205);

/// The median ice edge.
const EDGE: RGBColor = RGBColor(215, 25, 28);

/// One sea-ice probability map: what [`render_sea_ice_probability_map`] draws.
#[derive(Debug, Clone, Copy)]
pub struct PolarMap<'a> {
    /// The grid of the values (regular or curvilinear).
    pub spatial: &'a Spatial,
    /// Sea-ice probability (0–1) of each cell `(y, x)`, row-major; NaN on land.
    pub values: &'a [f32],
    /// The Antarctic instead of the Arctic.
    pub south: bool,
    /// Land polygons, filled and outlined.
    pub countries: Option<&'a Countries>,
    /// Title.
    pub title: &'a str,
    /// What the colour bar measures ("sea-ice probability, %").
    pub legend: &'a str,
    /// The key of the median ice edge line.
    pub edge_label: &'a str,
    /// The key of land and no-data cells.
    pub land_label: &'a str,
}

/// The projected position `(x, y)` of `(lat, lon)` in units of the map's half-width (the
/// edge latitude at distance 1 from the pole), or `None` for a missing coordinate.
fn project(lat: f64, lon: f64, south: bool) -> Option<(f64, f64)> {
    if !lat.is_finite() || !lon.is_finite() {
        return None;
    }
    let rho_edge = ((90.0 - POLAR_MAP_EDGE_LATITUDE) / 2.0).to_radians().tan();
    // points far in the other hemisphere are clamped: they stay far off the map
    if south {
        let phi = lat.min(30.0);
        let rho = ((90.0 + phi) / 2.0).to_radians().tan() / rho_edge;
        let a = lon.to_radians();
        Some((rho * a.sin(), rho * a.cos()))
    } else {
        let phi = lat.max(-30.0);
        let rho = ((90.0 - phi) / 2.0).to_radians().tan() / rho_edge;
        let a = (lon + 45.0).to_radians();
        Some((rho * a.sin(), -rho * a.cos()))
    }
}

/// A grid's rows, columns, cell centres `(lat, lon)` row-major, and whether its columns wrap
/// round the globe.
type Centres = (usize, usize, Vec<(f64, f64)>, bool);

/// The cell centres of a grid, `(ny, nx)` row-major, and whether its columns wrap round the
/// globe (the last column next to the first).
fn centres(spatial: &Spatial) -> Result<Centres> {
    let (ny, nx) = spatial.shape();
    // (more than two columns) the last column's centre within a step and a half of the first
    let wraps = |first: f64, second: f64, last: f64| {
        let short = |a: f64, b: f64| {
            let d = (a - b).rem_euclid(360.0);
            d.min(360.0 - d)
        };
        short(last, first) <= 1.5 * short(second, first)
    };
    match spatial {
        Spatial::Grid { lat, lon } => {
            let pts = lat
                .iter()
                .flat_map(|&la| lon.iter().map(move |&lo| (la, lo)))
                .collect();
            Ok((ny, nx, pts, nx > 2 && wraps(lon[0], lon[1], lon[nx - 1])))
        }
        Spatial::Curvilinear { lat, lon } => {
            let pts = lat.iter().zip(lon.iter()).map(|(&a, &o)| (a, o)).collect();
            let r = ny / 2;
            let wrapped = nx > 2 && wraps(lon[[r, 0]], lon[[r, 1]], lon[[r, nx - 1]]);
            Ok((ny, nx, pts, wrapped))
        }
        Spatial::Points { .. } => Err(Error::invalid(
            "sea-ice probability map",
            "the values are at points, not on a grid",
        )),
    }
}

/// Segments of the `level` contour of `values` over the projected centres `p` (marching
/// squares; squares with a missing value are skipped).
fn contour(
    (ny, nx, wraps): (usize, usize, bool),
    values: &[f32],
    p: &[Option<(f64, f64)>],
    level: f32,
) -> Vec<[(f64, f64); 2]> {
    let mut out = Vec::new();
    let columns = if wraps { nx } else { nx.saturating_sub(1) };
    for j in 0..ny.saturating_sub(1) {
        for i in 0..columns {
            let i1 = (i + 1) % nx;
            let k = [j * nx + i, j * nx + i1, (j + 1) * nx + i1, (j + 1) * nx + i];
            let v = k.map(|k| values[k]);
            let (Some(q0), Some(q1), Some(q2), Some(q3)) = (p[k[0]], p[k[1]], p[k[2]], p[k[3]])
            else {
                continue;
            };
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let q = [q0, q1, q2, q3];
            let inside = v.map(|x| x >= level);
            // the crossing on side s (corner s to corner s + 1), if any
            let cross = |s: usize| -> Option<(f64, f64)> {
                let (a, b) = (s, (s + 1) % 4);
                if inside[a] == inside[b] {
                    return None;
                }
                let t = f64::from((level - v[a]) / (v[b] - v[a]));
                Some((
                    q[a].0 + t * (q[b].0 - q[a].0),
                    q[a].1 + t * (q[b].1 - q[a].1),
                ))
            };
            let sides: Vec<(usize, (f64, f64))> =
                (0..4).filter_map(|s| cross(s).map(|c| (s, c))).collect();
            match sides.len() {
                2 => out.push([sides[0].1, sides[1].1]),
                4 => {
                    let centre_inside = v.iter().sum::<f32>() / 4.0 >= level;
                    // corners 0 and 2 inside with the centre, or 1 and 3 outside without it:
                    // corners 1 and 3 are cut off; otherwise corners 0 and 2
                    let cut_odd = inside[0] == centre_inside;
                    let c = |s: usize| sides[s].1;
                    if cut_odd {
                        out.push([c(0), c(1)]);
                        out.push([c(2), c(3)]);
                    } else {
                        out.push([c(3), c(0)]);
                        out.push([c(1), c(2)]);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Draws `map` into the PNG `out`.
pub fn render_sea_ice_probability_map(out: &Path, map: &PolarMap) -> Result<()> {
    super::diagram::ensure_font()?;
    write_through_temporary(out, |tmp| {
        draw(tmp, map).map_err(|e| Error::invalid("sea-ice probability map", e))
    })
    .map(|_| ())
}

/// Pixel size of the square map.
const SIDE: i32 = 760;
/// Left and top margins of the map.
const LEFT: i32 = 50;
const TOP: i32 = 56;

fn draw(out: &Path, map: &PolarMap) -> std::result::Result<(), String> {
    let werr = |e: &dyn std::fmt::Display| e.to_string();
    let (ny, nx, pts, wraps) = centres(map.spatial).map_err(|e| e.to_string())?;
    if map.values.len() != ny * nx {
        return Err(format!(
            "{} values for a {ny} × {nx} grid",
            map.values.len()
        ));
    }
    let width = (SIDE + 2 * LEFT) as u32;
    let height = (TOP + SIDE + 120) as u32;
    let root = BitMapBackend::new(out, (width, height)).into_drawing_area();
    root.fill(&LAND).map_err(|e| werr(&e))?;
    let half = f64::from(SIDE) / 2.0;
    let (cx, cy) = (f64::from(LEFT) + half, f64::from(TOP) + half);
    let px = |(x, y): (f64, f64)| -> (i32, i32) {
        let clamp = |v: f64| v.clamp(-20_000.0, 20_000.0).round() as i32;
        (clamp(cx + x * half), clamp(cy - y * half))
    };
    let p: Vec<Option<(f64, f64)>> = pts
        .iter()
        .map(|&(la, lo)| project(la, lo, map.south))
        .collect();
    // the centre of row r, column c, one row or column beyond the grid extrapolated linearly
    // (2 P(edge) − P(next inside)), columns wrapped on a global grid
    let at = |r: usize, c: usize| p.get(r * nx + c).copied().flatten();
    let centre = |r: isize, c: isize| -> Option<(f64, f64)> {
        let fold = |k: isize, n: usize| -> (usize, Option<usize>) {
            match k {
                k if k < 0 => (0, Some(1.min(n - 1))),
                k if k >= n as isize => (n - 1, Some(n.saturating_sub(2))),
                k => (k as usize, None),
            }
        };
        let c = if wraps { c.rem_euclid(nx as isize) } else { c };
        let (r0, r1) = fold(r, ny);
        let (c0, c1) = fold(c, nx);
        let edge = at(r0, c0)?;
        let inner = at(r1.unwrap_or(r0), c1.unwrap_or(c0))?;
        Some((2.0 * edge.0 - inner.0, 2.0 * edge.1 - inner.1))
    };
    // the corner between rows j−1, j and columns i−1, i: the mean of the centres around it
    let corner = |j: usize, i: usize| -> Option<(f64, f64)> {
        let (j, i) = (j as isize, i as isize);
        let (mut sx, mut sy) = (0.0, 0.0);
        for (r, c) in [(j - 1, i - 1), (j - 1, i), (j, i - 1), (j, i)] {
            let (x, y) = centre(r, c)?;
            sx += x;
            sy += y;
        }
        Some((sx / 4.0, sy / 4.0))
    };
    for j in 0..ny {
        for i in 0..nx {
            let v = map.values[j * nx + i];
            let Some(centre) = p[j * nx + i] else {
                continue;
            };
            if !v.is_finite() || centre.0.hypot(centre.1) > 1.6 {
                continue;
            }
            let quad = [
                corner(j, i),
                corner(j, i + 1),
                corner(j + 1, i + 1),
                corner(j + 1, i),
            ];
            let Some(quad) = quad.into_iter().collect::<Option<Vec<_>>>() else {
                continue;
            };
            // a cell torn across the grid's seam or fold would span the map: left out
            if quad
                .iter()
                .any(|q| (q.0 - centre.0).hypot(q.1 - centre.1) > 0.2)
            {
                continue;
            }
            let class = CLASS_UPPER.iter().position(|&u| v < u).unwrap_or(5);
            let colour = CLASS_COLOUR[class];
            let pix: Vec<(i32, i32)> = quad.iter().map(|&q| px(q)).collect();
            root.draw(&Polygon::new(pix, colour.filled()))
                .map_err(|e| werr(&e))?;
        }
    }
    // land on top of the cells: the model's coast and the polygons' coast differ a little
    let ring_pixels = |ring: &[(f64, f64)]| -> Vec<(i32, i32)> {
        ring.iter()
            .filter_map(|&(lo, la)| project(la, lo, map.south))
            .map(px)
            .collect()
    };
    if let Some(countries) = map.countries {
        for ring in countries.rings() {
            let near = ring.iter().any(|&(_, la)| {
                if map.south {
                    la < -POLAR_MAP_EDGE_LATITUDE + 10.0
                } else {
                    la > POLAR_MAP_EDGE_LATITUDE - 10.0
                }
            });
            if !near {
                continue;
            }
            let pix = ring_pixels(&ring);
            root.draw(&Polygon::new(pix.clone(), LAND.filled()))
                .map_err(|e| werr(&e))?;
            root.draw(&PathElement::new(
                pix,
                RGBColor(110, 110, 110).stroke_width(1),
            ))
            .map_err(|e| werr(&e))?;
        }
    }
    // graticule: parallels every 10°, meridians every 30°
    let grey = RGBColor(150, 150, 150).mix(0.7);
    let sign = if map.south { -1.0 } else { 1.0 };
    for lat in [50.0, 60.0, 70.0, 80.0] {
        let circle: Vec<(i32, i32)> = (0..=360)
            .filter_map(|d| project(sign * lat, f64::from(d), map.south))
            .map(px)
            .collect();
        root.draw(&PathElement::new(circle, grey.stroke_width(1)))
            .map_err(|e| werr(&e))?;
    }
    for d in (0..360).step_by(30) {
        let line: Vec<(i32, i32)> = [sign * POLAR_MAP_EDGE_LATITUDE - sign * 10.0, sign * 80.0]
            .iter()
            .filter_map(|&la| project(la, f64::from(d), map.south))
            .map(px)
            .collect();
        root.draw(&PathElement::new(line, grey.stroke_width(1)))
            .map_err(|e| werr(&e))?;
    }
    // the median ice edge
    for seg in contour((ny, nx, wraps), map.values, &p, MEDIAN_ICE_EDGE) {
        root.draw(&PathElement::new(
            vec![px(seg[0]), px(seg[1])],
            EDGE.stroke_width(2),
        ))
        .map_err(|e| werr(&e))?;
    }
    // what spilled out of the square is painted over; then the frame, labels, title and key
    let white = WHITE.filled();
    for r in [
        [(0, 0), (width as i32, TOP)],
        [(0, TOP + SIDE), (width as i32, height as i32)],
        [(0, 0), (LEFT, height as i32)],
        [(LEFT + SIDE, 0), (width as i32, height as i32)],
    ] {
        root.draw(&Rectangle::new(r, white)).map_err(|e| werr(&e))?;
    }
    root.draw(&Rectangle::new(
        [(LEFT, TOP), (LEFT + SIDE, TOP + SIDE)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| werr(&e))?;
    let font = ("sans-serif", 14).into_font();
    let hemi = if map.south { "S" } else { "N" };
    for lat in [50.0, 60.0, 70.0, 80.0] {
        // labels along the meridian pointing to the upper right
        let lon = if map.south { 45.0 } else { 90.0 };
        if let Some(q) = project(sign * lat, lon, map.south) {
            let (x, y) = px(q);
            root.draw(&Text::new(
                format!("{lat:.0}°{hemi}"),
                (x + 3, y - 14),
                font.color(&RGBColor(90, 90, 90)),
            ))
            .map_err(|e| werr(&e))?;
        }
    }
    root.draw(&Text::new(
        map.title.to_string(),
        (LEFT, 16),
        ("sans-serif", 19).into_font().style(FontStyle::Bold),
    ))
    .map_err(|e| werr(&e))?;
    let y0 = TOP + SIDE + 36;
    root.draw(&Text::new(
        map.legend.to_string(),
        (LEFT, y0 - 22),
        font.clone(),
    ))
    .map_err(|e| werr(&e))?;
    let bw = 56;
    for (k, colour) in CLASS_COLOUR.iter().enumerate() {
        let x0 = LEFT + k as i32 * bw;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + 16)],
            colour.filled(),
        ))
        .map_err(|e| werr(&e))?;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + 16)],
            BLACK.mix(0.5),
        ))
        .map_err(|e| werr(&e))?;
    }
    for (k, label) in ["0", "10", "30", "50", "70", "90", "100"]
        .iter()
        .enumerate()
    {
        let x = LEFT + k as i32 * bw - 4 * label.len() as i32;
        root.draw(&Text::new(label.to_string(), (x, y0 + 20), font.clone()))
            .map_err(|e| werr(&e))?;
    }
    let x = LEFT + 6 * bw + 30;
    root.draw(&Rectangle::new([(x, y0), (x + 16, y0 + 16)], LAND.filled()))
        .map_err(|e| werr(&e))?;
    root.draw(&Text::new(
        map.land_label.to_string(),
        (x + 22, y0 + 1),
        font.clone(),
    ))
    .map_err(|e| werr(&e))?;
    let y1 = y0 + 46;
    root.draw(&PathElement::new(
        vec![(LEFT, y1 + 8), (LEFT + 40, y1 + 8)],
        EDGE.stroke_width(2),
    ))
    .map_err(|e| werr(&e))?;
    root.draw(&Text::new(
        map.edge_label.to_string(),
        (LEFT + 48, y1),
        font,
    ))
    .map_err(|e| werr(&e))?;
    root.present().map_err(|e| werr(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_by_hand() {
        // the pole at the centre, the edge latitude at distance 1, 45° W straight down (north)
        let (x, y) = project(90.0, 0.0, false).unwrap();
        assert!(x.abs() < 1e-12 && y.abs() < 1e-12);
        let (x, y) = project(POLAR_MAP_EDGE_LATITUDE, -45.0, false).unwrap();
        assert!(x.abs() < 1e-12 && (y + 1.0).abs() < 1e-12, "{x} {y}");
        // 80° N: tan(5°)/tan(22.5°) = 0.087489/0.414214 = 0.211216, at 45° E to the right
        let (x, y) = project(80.0, 45.0, false).unwrap();
        assert!((x - 0.211_216).abs() < 1e-6 && y.abs() < 1e-12, "{x} {y}");
        // south: 0° straight up, 90° E to the right
        let (x, y) = project(-80.0, 0.0, true).unwrap();
        assert!(x.abs() < 1e-12 && (y - 0.211_216).abs() < 1e-6, "{x} {y}");
        let (x, y) = project(-80.0, 90.0, true).unwrap();
        assert!((x - 0.211_216).abs() < 1e-6 && y.abs() < 1e-9, "{x} {y}");
        assert!(project(f64::NAN, 0.0, false).is_none());
    }

    #[test]
    fn contour_of_a_square_by_hand() {
        // a 2 × 2 grid of centres at the unit square's corners
        let p = vec![
            Some((0.0, 0.0)),
            Some((1.0, 0.0)),
            Some((0.0, 1.0)),
            Some((1.0, 1.0)),
        ];
        // row 0 (0.0, 1.0), row 1 (0.0, 1.0): the 0.5 line is x = 0.5
        let segs = contour((2, 2, false), &[0.0, 1.0, 0.0, 1.0], &p, 0.5);
        assert_eq!(segs.len(), 1);
        let mut xs: Vec<(f64, f64)> = segs[0].to_vec();
        xs.sort_by(|a, b| a.1.total_cmp(&b.1));
        assert_eq!(xs, vec![(0.5, 0.0), (0.5, 1.0)]);
        // 0.2 → 0.7 along the bottom: crossing at t = 0.6
        let segs = contour((2, 2, false), &[0.2, 0.7, 0.2, 0.7], &p, 0.5);
        assert!((segs[0][0].0 - 0.6).abs() < 1e-6, "{segs:?}");
        // a saddle (corners 0 and 2 inside, mean 0.5 → the centre inside): corners 1 and 3
        // are cut off by two segments
        let segs = contour((2, 2, false), &[1.0, 0.0, 0.0, 1.0], &p, 0.5);
        assert_eq!(segs.len(), 2, "{segs:?}");
        // a missing value: nothing
        assert!(contour((2, 2, false), &[1.0, f32::NAN, 0.0, 1.0], &p, 0.5).is_empty());
        // all above: nothing
        assert!(contour((2, 2, false), &[1.0; 4], &p, 0.5).is_empty());
    }

    #[test]
    fn a_polar_cap_is_drawn() {
        // a regular 1° grid north of 40° N, ice north of 75° N
        let lat: Vec<f64> = (0..50).map(|k| 40.5 + k as f64).collect();
        let lon: Vec<f64> = (0..360).map(|k| k as f64 + 0.5).collect();
        let values: Vec<f32> = lat
            .iter()
            .flat_map(|&la| lon.iter().map(move |_| if la > 75.0 { 1.0 } else { 0.0 }))
            .collect();
        let spatial = Spatial::Grid { lat, lon };
        let (_, _, _, wraps) = centres(&spatial).unwrap();
        assert!(wraps, "a global grid wraps");
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("sip.png");
        let map = PolarMap {
            spatial: &spatial,
            values: &values,
            south: false,
            countries: None,
            title: "t",
            legend: "sea-ice probability, %",
            edge_label: "median ice edge",
            land_label: "land",
        };
        render_sea_ice_probability_map(&png, &map).unwrap();
        let img = image_pixels(&png);
        // the pole is dark blue, 60° N (straight down from the pole at 45° W) is white
        let (w, _) = (img.0, img.1);
        let at = |x: i32, y: i32| &img.2[((y as usize) * w as usize + x as usize) * 3..][..3];
        let half = SIDE / 2;
        assert_eq!(at(LEFT + half, TOP + half), [8, 81, 156]);
        // open water at 65° N 50° W (off the graticule's lines), the edge drawn at 75° N
        let pixel = |lat: f64, lon: f64| {
            let (x, y) = project(lat, lon, false).unwrap();
            (
                (f64::from(LEFT + half) + x * f64::from(half)).round() as i32,
                (f64::from(TOP + half) - y * f64::from(half)).round() as i32,
            )
        };
        let (x, y) = pixel(65.0, -50.0);
        assert_eq!(at(x, y), [255, 255, 255]);
        let (x, y) = pixel(75.0, -50.0);
        let near_edge = (-2..=2).any(|d| at(x, y + d) == [215, 25, 28]);
        assert!(near_edge, "the median ice edge at 75° N");
        // too few values is an error, not a panic
        let short = PolarMap {
            values: &values[..10],
            ..map
        };
        assert!(render_sea_ice_probability_map(&dir.path().join("x.png"), &short).is_err());
    }

    /// Width, height and RGB bytes of a PNG (plotters writes 8-bit RGB).
    fn image_pixels(path: &Path) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }
}
