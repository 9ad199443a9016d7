//! The tercile probability map as a PNG: cells coloured by the dominant category and its
//! probability, country outlines from a GeoJSON file (Natural Earth 1:110m), a colour key.
//! No text is drawn (no font dependency); the Markdown bulletin carries the captions.

use std::path::Path;

use plotters::prelude::*;

use crate::cube::Spatial;
use crate::error::{Error, Result};
use crate::grid::Countries;

/// Colours for precipitation (brown / grey / green) or temperature (blue / grey / red).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapStyle {
    /// Dry browns below, greens above.
    Precipitation,
    /// Blues below, reds above.
    Temperature,
}

/// Shades per category for probabilities 40–50, 50–60, 60–70, ≥ 70 %.
fn shades(style: MapStyle, category: usize) -> [RGBColor; 4] {
    match (style, category) {
        (MapStyle::Precipitation, 0) => [
            RGBColor(246, 224, 170),
            RGBColor(232, 188, 110),
            RGBColor(205, 140, 60),
            RGBColor(150, 90, 30),
        ],
        (MapStyle::Temperature, 0) => [
            RGBColor(198, 219, 239),
            RGBColor(140, 185, 225),
            RGBColor(70, 130, 200),
            RGBColor(20, 70, 160),
        ],
        (MapStyle::Precipitation, 2) => [
            RGBColor(204, 236, 204),
            RGBColor(140, 210, 140),
            RGBColor(60, 170, 80),
            RGBColor(10, 110, 40),
        ],
        (MapStyle::Temperature, 2) => [
            RGBColor(253, 212, 180),
            RGBColor(250, 160, 110),
            RGBColor(230, 90, 60),
            RGBColor(170, 30, 30),
        ],
        _ => [
            RGBColor(225, 225, 225),
            RGBColor(190, 190, 190),
            RGBColor(150, 150, 150),
            RGBColor(110, 110, 110),
        ],
    }
}

/// Draws the outlines of the countries of a GeoJSON file that reach into the box
/// `(west, east, south, north)` (rings shifted by ±360° when that brings them in); `px` maps
/// (lon, lat) to pixels.
fn draw_countries<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    countries: &Countries,
    (west, east, south, north): (f64, f64, f64, f64),
    px: &dyn Fn(f64, f64) -> (i32, i32),
    colour: RGBColor,
) -> std::result::Result<(), String> {
    for ring in countries.rings() {
        // the whole ring shifted by a turn when that brings it into the box (a map over
        // 0–360°E); shifting points one by one would tear rings that cross the box's edge
        let inside = |shift: f64| {
            ring.iter().any(|&(lo, la)| {
                let lo = lo + shift;
                lo >= west && lo <= east && la >= south && la <= north
            })
        };
        let Some(shift) = [0.0, 360.0, -360.0].into_iter().find(|&s| inside(s)) else {
            continue;
        };
        let pts: Vec<(f64, f64)> = ring.iter().map(|&(lo, la)| (lo + shift, la)).collect();
        let pix: Vec<(i32, i32)> = pts
            .iter()
            .map(|&(lo, la)| px(lo.clamp(west, east), la.clamp(south, north)))
            .collect();
        root.draw(&PathElement::new(pix, colour.stroke_width(1)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Draws the map of one lead: `probability[c]` and `dominant` are `(y, x)` row-major on a
/// regular grid (`spatial`); `mask[k]` false hides a cell (no skill). Writes `out` (PNG).
pub fn render_tercile_map(
    out: &Path,
    spatial: &Spatial,
    probability: [&[f32]; 3],
    dominant: &[i8],
    mask: Option<&[bool]>,
    style: MapStyle,
    countries: Option<&Countries>,
) -> Result<()> {
    let Spatial::Grid { lat, lon } = spatial else {
        return Err(Error::invalid(
            "map",
            "maps need a regular lon/lat grid; regrid first",
        ));
    };
    let (ny, nx) = (lat.len(), lon.len());
    if ny < 2 || nx < 2 {
        return Err(Error::invalid("map", "a map needs at least 2 x 2 cells"));
    }
    let (dlat, dlon) = (
        (lat[ny - 1] - lat[0]) / (ny - 1) as f64,
        (lon[nx - 1] - lon[0]) / (nx - 1) as f64,
    );
    let (west, east) = (lon[0] - dlon / 2.0, lon[nx - 1] + dlon / 2.0);
    let (south, north) = (lat[0] - dlat / 2.0, lat[ny - 1] + dlat / 2.0);
    let scale = (900.0 / (east - west)).min(700.0 / (north - south));
    let (w, h) = (
        ((east - west) * scale) as u32 + 20,
        ((north - south) * scale) as u32 + 60,
    );
    let werr = |e: String| Error::Write {
        path: out.to_path_buf(),
        reason: e,
    };
    let root = BitMapBackend::new(out, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    let px = |lo: f64, la: f64| -> (i32, i32) {
        (
            10 + ((lo - west) * scale) as i32,
            10 + ((north - la) * scale) as i32,
        )
    };
    for (y, &la) in lat.iter().enumerate() {
        for (x, &lo) in lon.iter().enumerate() {
            let k = y * nx + x;
            let colour = if !probability[0][k].is_finite() {
                RGBColor(235, 235, 235)
            } else if mask.is_some_and(|m| !m[k]) {
                WHITE
            } else {
                match dominant[k] {
                    c @ 0..=2 => {
                        let p = probability[c as usize][k];
                        let shade = ((p - 0.4) / 0.1).floor().clamp(0.0, 3.0) as usize;
                        shades(style, c as usize)[shade]
                    }
                    _ => WHITE,
                }
            };
            let a = px(lo - dlon / 2.0, la + dlat / 2.0);
            let b = px(lo + dlon / 2.0, la - dlat / 2.0);
            root.draw(&Rectangle::new([a, b], colour.filled()))
                .map_err(|e| werr(e.to_string()))?;
        }
    }
    if let Some(c) = countries {
        draw_countries(&root, c, (west, east, south, north), &px, BLACK).map_err(werr)?;
    }
    // Colour key: below, near, above from light to dark, along the bottom.
    let y0 = h as i32 - 40;
    for c in 0..3 {
        for (s, colour) in shades(style, c).iter().enumerate() {
            let x0 = 10 + (c as i32 * 5 + s as i32) * 28;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + 26, y0 + 20)],
                colour.filled(),
            ))
            .map_err(|e| werr(e.to_string()))?;
        }
    }
    root.draw(&Rectangle::new(
        [(9, 9), (w as i32 - 9, h as i32 - 49)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| werr(e.to_string()))?;
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}

/// Colours of the tracks, cycled over members.
const TRACK_COLOURS: [RGBColor; 8] = [
    RGBColor(200, 30, 30),
    RGBColor(30, 90, 200),
    RGBColor(20, 140, 60),
    RGBColor(150, 60, 170),
    RGBColor(230, 120, 0),
    RGBColor(0, 150, 160),
    RGBColor(120, 80, 40),
    RGBColor(90, 90, 90),
];

/// A regular grid of boxes with a value each (storms per member-season), for
/// [`render_track_map`].
#[derive(Debug, Clone, Copy)]
pub struct DensityLayer<'a> {
    /// Box-centre latitudes (ascending).
    pub lat: &'a [f64],
    /// Box-centre longitudes (ascending).
    pub lon: &'a [f64],
    /// Values `(lat, lon)` row-major.
    pub values: &'a [f32],
}

/// Draws cyclone tracks (one polyline per track, coloured by member, a dot at genesis) over a
/// track-density layer (white → light orange → orange, saturating at `max_density`) and country
/// outlines, in the box `(west, east, south, north)` (degrees east may exceed 180). Writes
/// `out` (PNG). As the tercile map, it draws no text: captions go in the bulletin.
pub fn render_track_map(
    out: &Path,
    bounds: (f64, f64, f64, f64),
    tracks: &[(i32, Vec<(f64, f64)>)],
    density: Option<DensityLayer<'_>>,
    max_density: f32,
    countries: Option<&Countries>,
) -> Result<()> {
    let (west, east, south, north) = bounds;
    if east <= west || north <= south {
        return Err(Error::invalid("track map", format!("empty box {bounds:?}")));
    }
    let scale = (1000.0 / (east - west)).min(650.0 / (north - south));
    let (w, h) = (
        ((east - west) * scale) as u32 + 20,
        ((north - south) * scale) as u32 + 20,
    );
    let werr = |e: String| Error::Write {
        path: out.to_path_buf(),
        reason: e,
    };
    let root = BitMapBackend::new(out, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    // longitudes into [west, west + 360)
    let x_of = |lo: f64| west + (lo - west).rem_euclid(360.0);
    let px = |lo: f64, la: f64| -> (i32, i32) {
        (
            10 + ((lo - west) * scale) as i32,
            10 + ((north - la) * scale) as i32,
        )
    };
    if let Some(d) = density {
        let (ny, nx) = (d.lat.len(), d.lon.len());
        let dlat = if ny > 1 { d.lat[1] - d.lat[0] } else { 1.0 };
        let dlon = if nx > 1 { d.lon[1] - d.lon[0] } else { 1.0 };
        for (j, &la) in d.lat.iter().enumerate() {
            for (i, &lo) in d.lon.iter().enumerate() {
                let v = d.values[j * nx + i];
                if v.is_nan() || v <= 0.0 {
                    continue;
                }
                let f = (v / max_density.max(1e-6)).min(1.0) as f64;
                let colour = RGBColor(
                    (255.0 - 15.0 * f) as u8,
                    (240.0 - 110.0 * f) as u8,
                    (200.0 - 150.0 * f) as u8,
                );
                let lo = x_of(lo);
                let a = px(lo - dlon / 2.0, la + dlat / 2.0);
                let b = px(lo + dlon / 2.0, la - dlat / 2.0);
                root.draw(&Rectangle::new([a, b], colour.filled()))
                    .map_err(|e| werr(e.to_string()))?;
            }
        }
    }
    if let Some(c) = countries {
        draw_countries(&root, c, bounds, &px, RGBColor(60, 60, 60)).map_err(werr)?;
    }
    for (member, pts) in tracks {
        let colour = TRACK_COLOURS[member.rem_euclid(TRACK_COLOURS.len() as i32) as usize];
        // tracks born outside the box are left out; the others are clamped to it
        let inside = |&(la, lo): &(f64, f64)| {
            (south..=north).contains(&la) && (west..=east).contains(&x_of(lo))
        };
        if !pts.first().is_some_and(inside) {
            continue;
        }
        let pix: Vec<(i32, i32)> = pts
            .iter()
            .map(|&(la, lo)| px(x_of(lo).clamp(west, east), la.clamp(south, north)))
            .collect();
        if let Some(&first) = pix.first() {
            root.draw(&Circle::new(first, 4, colour.filled()))
                .map_err(|e| werr(e.to_string()))?;
        }
        root.draw(&PathElement::new(pix, colour.stroke_width(2)))
            .map_err(|e| werr(e.to_string()))?;
    }
    root.draw(&Rectangle::new(
        [(9, 9), (w as i32 - 9, h as i32 - 9)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| werr(e.to_string()))?;
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}
