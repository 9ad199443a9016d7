//! Maps as PNG, plate carrée: the tercile probability map (cells coloured by the dominant
//! category and its probability, the C3S / NMME convention, white where no category reaches
//! 40 %) and the cyclone track map (tracks over a track-density layer). Both have country
//! outlines (the bundled Natural Earth countries, 1:50m in Asia, or a GeoJSON file), a title, a frame with latitude and
//! longitude labels, and a colour key with its words (DejaVu Sans, see `diagram`).

use std::path::Path;

use plotters::prelude::*;

use crate::cube::Spatial;
use crate::error::{Error, Result};
use crate::grid::Countries;
use crate::outputs::staging::write_through_temporary;

/// Colours for precipitation (brown / grey / green) or temperature (blue / grey / red).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapStyle {
    /// Dry browns below, greens above.
    Precipitation,
    /// Blues below, reds above.
    Temperature,
}

/// Cells without data or without an outlook (at sea for land-only observations, dry seasons):
/// a pale lavender no category shade comes near — at least 20 apart in some RGB channel from
/// every shade of the tercile maps, from white (no dominant category) and from [`NO_SKILL`] (a test
/// checks), so "no data" is never read as "near normal".
pub const NO_DATA: RGBColor = RGBColor(215, 195, 235);

/// Cells hidden because the MME had no skill there (`mask_unskilful = true`): pale yellow.
pub const NO_SKILL: RGBColor = RGBColor(250, 246, 200);

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

/// Where a lon/lat box goes in the picture: `scale` pixels per degree, the map's top-left
/// corner at `(left, top)`.
#[derive(Debug, Clone, Copy)]
struct MapFrame {
    west: f64,
    east: f64,
    south: f64,
    north: f64,
    scale: f64,
    left: i32,
    top: i32,
}

impl MapFrame {
    /// A frame for the box that fits `max_w × max_h` pixels, with room for labels.
    fn new((west, east, south, north): (f64, f64, f64, f64), max_w: f64, max_h: f64) -> Self {
        MapFrame {
            west,
            east,
            south,
            north,
            scale: (max_w / (east - west)).min(max_h / (north - south)),
            left: 62,
            top: 46,
        }
    }

    fn width(&self) -> i32 {
        ((self.east - self.west) * self.scale).round() as i32
    }

    fn height(&self) -> i32 {
        ((self.north - self.south) * self.scale).round() as i32
    }

    /// The picture size with `below` pixels under the map's longitude labels, wide enough
    /// for `title` (about 9.5 pixels a character at 17 px bold) and for `min_width`.
    fn picture(&self, below: i32, title: &str, min_width: i32) -> (u32, u32) {
        let title_width = self.left + (title.chars().count() as f64 * 8.6) as i32 + 10;
        let w = (self.left + self.width() + 24)
            .max(title_width)
            .max(min_width);
        (w as u32, (self.top + self.height() + 28 + below) as u32)
    }

    fn px(&self, lo: f64, la: f64) -> (i32, i32) {
        (
            self.left + ((lo - self.west) * self.scale) as i32,
            self.top + ((self.north - la) * self.scale) as i32,
        )
    }

    /// Title, frame, ticks and degree labels every 1, 2, 5, 10, 15, 20 or 30°.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (x0, y0) = (self.left, self.top);
        let (x1, y1) = (x0 + self.width(), y0 + self.height());
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
            .map_err(e)?;
        root.draw(&Text::new(
            title.to_string(),
            (x0, 12),
            ("sans-serif", 17).into_font().style(FontStyle::Bold),
        ))
        .map_err(e)?;
        let font = ("sans-serif", 13).into_font();
        let step = |span: f64| {
            [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0]
                .into_iter()
                .find(|s| span / s <= 7.0)
                .unwrap_or(90.0)
        };
        let dlon = step(self.east - self.west);
        let mut lo = (self.west / dlon).ceil() * dlon;
        while lo <= self.east + 1e-9 {
            let (x, _) = self.px(lo, self.south);
            root.draw(&PathElement::new([(x, y1), (x, y1 + 5)], BLACK))
                .map_err(e)?;
            root.draw(&Text::new(lon_label(lo), (x - 14, y1 + 8), font.clone()))
                .map_err(e)?;
            lo += dlon;
        }
        let dlat = step(self.north - self.south);
        let mut la = (self.south / dlat).ceil() * dlat;
        while la <= self.north + 1e-9 {
            let (_, y) = self.px(self.west, la);
            root.draw(&PathElement::new([(x0 - 5, y), (x0, y)], BLACK))
                .map_err(e)?;
            root.draw(&Text::new(lat_label(la), (4, y - 7), font.clone()))
                .map_err(e)?;
            la += dlat;
        }
        Ok(())
    }
}

/// `80°E`, `100°W`, `0°`, `180°` for a longitude in degrees east (any turn).
fn lon_label(lo: f64) -> String {
    let l = (lo + 180.0).rem_euclid(360.0) - 180.0;
    let v = l.abs().round() as i64;
    if v == 0 || v == 180 {
        format!("{v}°")
    } else if l > 0.0 {
        format!("{v}°E")
    } else {
        format!("{v}°W")
    }
}

/// `10°N`, `5°S`, `0°`.
fn lat_label(la: f64) -> String {
    let v = la.abs().round() as i64;
    match v {
        0 => "0°".to_string(),
        _ if la > 0.0 => format!("{v}°N"),
        _ => format!("{v}°S"),
    }
}

/// Colour of province (admin-1) outlines: a light grey, told apart from the black country
/// borders and still seen on the darkest category colours.
const PROVINCE_OUTLINE: RGBColor = RGBColor(150, 150, 150);

/// Draws the outlines of the countries of a GeoJSON file (and of its provinces, when it carries
/// them: [`Countries::with_province_outlines`]) that reach into the box
/// `(west, east, south, north)` (rings shifted by ±360° when that brings them in); `px` maps
/// (lon, lat) to pixels.
fn draw_countries<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    countries: &Countries,
    (west, east, south, north): (f64, f64, f64, f64),
    px: &dyn Fn(f64, f64) -> (i32, i32),
    colour: RGBColor,
) -> std::result::Result<(), String> {
    // provinces first, thin and light, so the country borders stay on top of them
    let rings = countries
        .province_rings()
        .map(|r| (r, PROVINCE_OUTLINE))
        .chain(countries.rings().map(|r| (r, colour)));
    for (ring, colour) in rings {
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

/// One tercile map: what [`render_tercile_map`] draws.
#[derive(Debug, Clone, Copy)]
pub struct TercileMap<'a> {
    /// The regular lon/lat grid of the fields.
    pub spatial: &'a Spatial,
    /// Probability of each category, `(y, x)` row-major.
    pub probability: [&'a [f32]; 3],
    /// The dominant category (0–2) per cell, anything else for none.
    pub dominant: &'a [i8],
    /// `false` hides a cell (no skill): drawn in [`NO_SKILL`].
    pub mask: Option<&'a [bool]>,
    /// `true` hatches a cell (the skill layer: no skill in the hindcasts).
    pub hatch: Option<&'a [bool]>,
    /// Palette.
    pub style: MapStyle,
    /// Country outlines.
    pub countries: Option<&'a Countries>,
    /// Title: variable, target period, issue date.
    pub title: &'a str,
    /// The categories' names in the key, e.g. "below normal"; an empty name leaves the
    /// category out of the key (a middle category that is never dominant).
    pub categories: [&'a str; 3],
    /// The key's second row: no dominant category, no data, hatched for no skill, hidden for
    /// no skill ([`ENGLISH_MAP_NOTES`], or the bulletin language's).
    pub notes: [&'a str; 4],
}

/// The key's second row of a tercile map in English (see [`TercileMap::notes`]).
pub const ENGLISH_MAP_NOTES: [&str; 4] = [
    "no category ≥ 40 %",
    "no data / no outlook",
    "no skill in the hindcasts (RPSS ≤ 0)",
    "no skill in the hindcasts (RPSS ≤ 0): not shown",
];

/// Draws the map of one lead into `out` (PNG).
pub fn render_tercile_map(out: &Path, map: &TercileMap) -> Result<()> {
    write_through_temporary(out, |tmp| draw_tercile_map(tmp, map)).map(|_| ())
}

fn draw_tercile_map(out: &Path, map: &TercileMap) -> Result<()> {
    let Spatial::Grid { lat, lon } = map.spatial else {
        return grid_box(map.spatial).map(|_| ());
    };
    let (bounds, dlat, dlon) = grid_box(map.spatial)?;
    let nx = lon.len();
    super::diagram::ensure_font()?;
    let frame = MapFrame::new(bounds, 900.0, 680.0);
    let legend_height = 100;
    let (w, h) = frame.picture(legend_height, map.title, 760);
    let werr = |e: String| Error::Write {
        path: out.to_path_buf(),
        reason: e,
    };
    let root = BitMapBackend::new(out, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    let no_data = NO_DATA;
    for (y, &la) in lat.iter().enumerate() {
        for (x, &lo) in lon.iter().enumerate() {
            let k = y * nx + x;
            let colour = if !map.probability[0][k].is_finite() {
                no_data
            } else if map.mask.is_some_and(|m| !m[k]) {
                NO_SKILL
            } else {
                match map.dominant[k] {
                    c @ 0..=2 => {
                        let p = map.probability[c as usize][k];
                        let shade = ((p - 0.4) / 0.1).floor().clamp(0.0, 3.0) as usize;
                        shades(map.style, c as usize)[shade]
                    }
                    _ => WHITE,
                }
            };
            let a = frame.px(lo - dlon / 2.0, la + dlat / 2.0);
            let b = frame.px(lo + dlon / 2.0, la - dlat / 2.0);
            root.draw(&Rectangle::new([a, b], colour.filled()))
                .map_err(|e| werr(e.to_string()))?;
            if colour != no_data && map.hatch.is_some_and(|h| h[k]) {
                hatch(&root, a, b).map_err(werr)?;
            }
        }
    }
    if let Some(c) = map.countries {
        draw_countries(&root, c, bounds, &|lo, la| frame.px(lo, la), BLACK).map_err(werr)?;
    }
    frame.draw(&root, map.title).map_err(werr)?;
    // Key: per category four shades (40–50, 50–60, 60–70, ≥ 70 %), then white and grey.
    let y0 = frame.top + frame.height() + 50;
    let font = ("sans-serif", 13).into_font();
    let (bw, gap) = (34, 18);
    let mut x = frame.left;
    for c in [0usize, 1, 2] {
        if map.categories[c].is_empty() {
            continue;
        }
        root.draw(&Text::new(
            map.categories[c].to_string(),
            (x, y0 - 18),
            font.clone(),
        ))
        .map_err(|e| werr(e.to_string()))?;
        for (s, colour) in shades(map.style, c).iter().enumerate() {
            let x0 = x + s as i32 * bw;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + bw - 1, y0 + 16)],
                colour.filled(),
            ))
            .map_err(|e| werr(e.to_string()))?;
            root.draw(&Text::new(
                format!("{}", 40 + 10 * s),
                (x0 - 6, y0 + 19),
                font.clone(),
            ))
            .map_err(|e| werr(e.to_string()))?;
        }
        x += 4 * bw + gap;
    }
    root.draw(&Text::new(
        "%".to_string(),
        (x - gap + 2, y0 + 19),
        font.clone(),
    ))
    .map_err(|e| werr(e.to_string()))?;
    // Second row: what white, grey and hatching mean.
    let (mut x, y0) = (frame.left, y0 + 44);
    let mut keys = vec![(WHITE, map.notes[0], false), (no_data, map.notes[1], false)];
    if map.hatch.is_some() {
        keys.push((WHITE, map.notes[2], true));
    }
    if map.mask.is_some() {
        keys.push((NO_SKILL, map.notes[3], false));
    }
    for (colour, words, hatched) in keys {
        let (a, b) = ((x, y0), (x + 16, y0 + 16));
        root.draw(&Rectangle::new([a, b], colour.filled()))
            .map_err(|e| werr(e.to_string()))?;
        if hatched {
            hatch(&root, a, b).map_err(werr)?;
        }
        root.draw(&Rectangle::new([a, b], BLACK.mix(0.5)))
            .map_err(|e| werr(e.to_string()))?;
        root.draw(&Text::new(
            words.to_string(),
            (x + 22, y0 + 2),
            font.clone(),
        ))
        .map_err(|e| werr(e.to_string()))?;
        x += 40 + 7 * words.chars().count() as i32;
    }
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}

/// Draws `map` cropped to the cells of `bbox` (with one cell of margin) into `out`: the map of
/// one region. `Ok(false)` (nothing written) when no cell of the grid is in the box.
pub fn render_region_map(out: &Path, map: &TercileMap, bbox: &crate::cube::BBox) -> Result<bool> {
    let Some((sub, idx)) = crop_grid(map.spatial, bbox, 1) else {
        return Ok(false);
    };
    let pick = |v: &[f32]| -> Vec<f32> { idx.iter().map(|&k| v[k]).collect() };
    let pick_bool = |v: &[bool]| -> Vec<bool> { idx.iter().map(|&k| v[k]).collect() };
    let p = map.probability.map(pick);
    let dominant: Vec<i8> = idx.iter().map(|&k| map.dominant[k]).collect();
    let mask = map.mask.map(pick_bool);
    let hatch = map.hatch.map(pick_bool);
    render_tercile_map(
        out,
        &TercileMap {
            spatial: &sub,
            probability: [&p[0], &p[1], &p[2]],
            dominant: &dominant,
            mask: mask.as_deref(),
            hatch: hatch.as_deref(),
            ..*map
        },
    )?;
    Ok(true)
}

/// The cells of a regular lon/lat grid whose centres are within `bbox` widened by `margin`
/// cells: the cropped grid and, for each of its cells (row-major), the index in the full
/// grid. `None` for other layouts or when fewer than 2 × 2 cells remain.
pub fn crop_grid(
    spatial: &Spatial,
    bbox: &crate::cube::BBox,
    margin: usize,
) -> Option<(Spatial, Vec<usize>)> {
    let Spatial::Grid { lat, lon } = spatial else {
        return None;
    };
    let (ny, nx) = (lat.len(), lon.len());
    let rows: Vec<usize> = (0..ny)
        .filter(|&y| (bbox.south..=bbox.north).contains(&lat[y]))
        .collect();
    let cols: Vec<usize> = (0..nx)
        .filter(|&x| bbox.contains(bbox.south, lon[x]))
        .collect();
    let (&y0, &y1) = (rows.first()?, rows.last()?);
    let (&x0, &x1) = (cols.first()?, cols.last()?);
    let (y0, y1) = (y0.saturating_sub(margin), (y1 + margin).min(ny - 1));
    let (x0, x1) = (x0.saturating_sub(margin), (x1 + margin).min(nx - 1));
    if y1 <= y0 || x1 <= x0 {
        return None;
    }
    let idx = (y0..=y1)
        .flat_map(|y| (x0..=x1).map(move |x| y * nx + x))
        .collect();
    Some((
        Spatial::Grid {
            lat: lat[y0..=y1].to_vec(),
            lon: lon[x0..=x1].to_vec(),
        },
        idx,
    ))
}

/// Diagonal hatching (lines every 6 pixels, bottom-left to top-right) in the box `a`–`b`.
fn hatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    a: (i32, i32),
    b: (i32, i32),
) -> std::result::Result<(), String> {
    let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
    let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
    let style = RGBColor(110, 110, 110).stroke_width(1);
    // lines x − x0 + (y1 − y) = d for d stepping by 5 across the box
    let mut d = 2;
    while d < (x1 - x0) + (y1 - y0) {
        let start = (x0 + (d - (y1 - y0)).max(0), y1 - d.min(y1 - y0));
        let end = (x0 + d.min(x1 - x0), y1 - (d - (x1 - x0)).max(0));
        root.draw(&PathElement::new([start, end], style))
            .map_err(|e| e.to_string())?;
        d += 6;
    }
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
    /// What the colour bar measures, with units ("chance of being in the cell, %").
    pub legend: &'a str,
}

/// The key under a track map: what the tracks are, and a site marked on the map.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackKey<'a> {
    /// What the coloured lines are ("cyclone tracks, one colour per member").
    pub tracks: Option<&'a str>,
    /// A site `(lat, lon)` drawn as a black cross in a circle, and its words.
    pub site: Option<(f64, f64, &'a str)>,
}

/// Draws cyclone tracks (one polyline per track, coloured by member, a dot at genesis) over a
/// track-density layer (white → light orange → orange, saturating at `max_density`) and country
/// outlines, in the box `(west, east, south, north)` (degrees east may exceed 180), with
/// `title` on top. Writes `out` (PNG).
#[allow(clippy::too_many_arguments)]
pub fn render_track_map(
    out: &Path,
    bounds: (f64, f64, f64, f64),
    tracks: &[(i32, Vec<(f64, f64)>)],
    density: Option<DensityLayer<'_>>,
    max_density: f32,
    countries: Option<&Countries>,
    title: &str,
    key: &TrackKey,
) -> Result<()> {
    write_through_temporary(out, |tmp| {
        draw_track_map(
            tmp,
            bounds,
            tracks,
            density,
            max_density,
            countries,
            title,
            key,
        )
    })
    .map(|_| ())
}

/// The density layer's colour at `f` (0–1 of the maximum): white → light orange → orange.
fn density_colour(f: f64) -> RGBColor {
    RGBColor(
        (255.0 - 15.0 * f) as u8,
        (240.0 - 110.0 * f) as u8,
        (200.0 - 150.0 * f) as u8,
    )
}

#[allow(clippy::too_many_arguments)]
fn draw_track_map(
    out: &Path,
    bounds: (f64, f64, f64, f64),
    tracks: &[(i32, Vec<(f64, f64)>)],
    density: Option<DensityLayer<'_>>,
    max_density: f32,
    countries: Option<&Countries>,
    title: &str,
    key: &TrackKey,
) -> Result<()> {
    let (west, east, south, north) = bounds;
    if east <= west || north <= south {
        return Err(Error::invalid("track map", format!("empty box {bounds:?}")));
    }
    super::diagram::ensure_font()?;
    let frame = MapFrame::new(bounds, 1000.0, 650.0);
    let rows = i32::from(density.is_some()) + i32::from(key.tracks.is_some() || key.site.is_some());
    let (w, h) = frame.picture(34 * rows, title, 640);
    let werr = |e: String| Error::Write {
        path: out.to_path_buf(),
        reason: e,
    };
    let root = BitMapBackend::new(out, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    // longitudes into [west, west + 360)
    let x_of = |lo: f64| west + (lo - west).rem_euclid(360.0);
    let px = |lo: f64, la: f64| frame.px(lo, la);
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
                let colour = density_colour(f);
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
    let site_mark = |c: (i32, i32)| -> std::result::Result<(), String> {
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.draw(&Circle::new(c, 7, BLACK.stroke_width(2)))
            .map_err(e)?;
        root.draw(&PathElement::new(
            [(c.0 - 5, c.1 - 5), (c.0 + 5, c.1 + 5)],
            BLACK.stroke_width(2),
        ))
        .map_err(e)?;
        root.draw(&PathElement::new(
            [(c.0 - 5, c.1 + 5), (c.0 + 5, c.1 - 5)],
            BLACK.stroke_width(2),
        ))
        .map_err(e)
    };
    if let Some((la, lo, _)) = key.site {
        site_mark(px(x_of(lo).clamp(west, east), la.clamp(south, north))).map_err(werr)?;
    }
    frame.draw(&root, title).map_err(werr)?;
    // ---- key: the colour bar of the density, then the tracks and the site ----
    let font = ("sans-serif", 14).into_font();
    let text = |s: &str, at: (i32, i32)| {
        root.draw(&Text::new(s.to_string(), at, font.clone()))
            .map_err(|e| werr(e.to_string()))
    };
    let mut y = frame.top + frame.height() + 36;
    if let Some(d) = &density {
        let (x0, bar_w, steps) = (frame.left, 240, 12);
        for s in 0..steps {
            let f = (f64::from(s) + 0.5) / f64::from(steps);
            let a = (x0 + s * bar_w / steps, y);
            let b = (x0 + (s + 1) * bar_w / steps, y + 14);
            root.draw(&Rectangle::new([a, b], density_colour(f).filled()))
                .map_err(|e| werr(e.to_string()))?;
        }
        root.draw(&Rectangle::new(
            [(x0, y), (x0 + bar_w, y + 14)],
            BLACK.mix(0.5),
        ))
        .map_err(|e| werr(e.to_string()))?;
        let max = if max_density >= 10.0 {
            format!("{max_density:.0}")
        } else {
            format!("{max_density:.2}")
        };
        text("0", (x0 - 4, y + 16))?;
        text(&max, (x0 + bar_w - 14, y + 16))?;
        text(d.legend, (x0 + bar_w + 16, y))?;
        y += 34;
    }
    let mut x = frame.left;
    if let Some(words) = key.tracks {
        let colour = TRACK_COLOURS[1];
        root.draw(&PathElement::new(
            [(x, y + 7), (x + 30, y + 7)],
            colour.stroke_width(2),
        ))
        .map_err(|e| werr(e.to_string()))?;
        root.draw(&Circle::new((x, y + 7), 4, colour.filled()))
            .map_err(|e| werr(e.to_string()))?;
        text(words, (x + 38, y))?;
        x += 60 + 8 * words.chars().count() as i32;
    }
    if let Some((_, _, words)) = key.site {
        site_mark((x + 8, y + 7)).map_err(werr)?;
        text(words, (x + 22, y))?;
    }
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}

/// One colour class of a [`ClassedMap`]: values below `upper` (and at or above the previous
/// class's `upper`) get `colour`; the last class takes everything above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourClass {
    /// Upper bound (exclusive); `f32::INFINITY` for the last class.
    pub upper: f32,
    /// Fill colour `(r, g, b)`.
    pub colour: (u8, u8, u8),
}

/// A field drawn in colour classes with a stepped colour bar: precipitation in percent of
/// normal, anomalies, the genesis potential anomaly.
#[derive(Debug, Clone, Copy)]
pub struct ClassedMap<'a> {
    /// The regular lon/lat grid of the field.
    pub spatial: &'a Spatial,
    /// Values `(y, x)` row-major; NaN is drawn in [`NO_DATA`].
    pub values: &'a [f32],
    /// Classes in increasing order of `upper`.
    pub classes: &'a [ColourClass],
    /// What the colour bar measures, with units ("% of normal").
    pub legend: &'a str,
    /// Country outlines.
    pub countries: Option<&'a Countries>,
    /// Title: variable, target period, issue date.
    pub title: &'a str,
    /// The key's label of the no-data colour ("no data", or the bulletin language's).
    pub no_data: &'a str,
}

impl ClassedMap<'_> {
    /// The class of `v` (`None` for NaN).
    fn class_of(&self, v: f32) -> Option<usize> {
        if v.is_nan() {
            return None;
        }
        Some(
            self.classes
                .iter()
                .position(|c| v < c.upper)
                .unwrap_or(self.classes.len().saturating_sub(1)),
        )
    }
}

/// Precipitation in percent of normal: seven classes from "< 40 %" (dark brown) through
/// "80–120 %" (white, near normal) to "> 200 %" (dark green) — the brown–green diverging
/// scheme of ColorBrewer's BrBG, which colour-blind readers can tell apart.
pub fn percent_of_normal_classes() -> Vec<ColourClass> {
    [
        (40.0, (140, 81, 10)),
        (60.0, (191, 129, 45)),
        (80.0, (223, 194, 125)),
        (120.0, (245, 245, 245)),
        (150.0, (128, 205, 193)),
        (200.0, (53, 151, 143)),
        (f32::INFINITY, (1, 102, 94)),
    ]
    .map(|(upper, colour)| ColourClass { upper, colour })
    .to_vec()
}

/// Which tail an extremes map shows, and so its colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtremeTail {
    /// Very dry (below the low percentile of rainfall): oranges to browns.
    Dry,
    /// Very wet (above the high percentile of rainfall): greens.
    Wet,
    /// Cold (below the low percentile of temperature): blues.
    Cold,
    /// Heat (above the high percentile of temperature): reds.
    Heat,
}

/// Classes of the chance (in percent) of an extreme whose climatological chance is
/// `climatology_percent` (10 for the 10th or 90th percentile): white below the climatological
/// chance, then 1–1.5, 1.5–2, 2–3, 3–4 and ≥ 4 times it in a ColorBrewer sequential scheme of
/// the tail's colour (YlOrBr, Greens, Blues, Reds).
pub fn extreme_classes(tail: ExtremeTail, climatology_percent: f32) -> Vec<ColourClass> {
    let ramp: [(u8, u8, u8); 5] = match tail {
        ExtremeTail::Dry => [
            (254, 227, 145),
            (254, 196, 79),
            (254, 153, 41),
            (217, 95, 14),
            (153, 52, 4),
        ],
        ExtremeTail::Wet => [
            (199, 233, 192),
            (161, 217, 155),
            (116, 196, 118),
            (49, 163, 84),
            (0, 109, 44),
        ],
        ExtremeTail::Cold => [
            (198, 219, 239),
            (158, 202, 225),
            (107, 174, 214),
            (49, 130, 189),
            (8, 81, 156),
        ],
        ExtremeTail::Heat => [
            (252, 187, 161),
            (252, 146, 114),
            (251, 106, 74),
            (222, 45, 38),
            (165, 15, 21),
        ],
    };
    let c = climatology_percent;
    let mut classes = vec![ColourClass {
        upper: c,
        colour: (255, 255, 255),
    }];
    for (upper, colour) in [1.5 * c, 2.0 * c, 3.0 * c, 4.0 * c, f32::INFINITY]
        .into_iter()
        .zip(ramp)
    {
        classes.push(ColourClass { upper, colour });
    }
    classes
}

/// A diverging scheme of eight classes centred on zero with bounds `±step, ±2 step, ±3 step`:
/// blue below to red above (ColorBrewer RdBu, for temperature and the genesis potential) or,
/// with `wet_is_green`, brown below to green above (BrBG, for rainfall anomalies).
pub fn anomaly_classes(step: f32, wet_is_green: bool) -> Vec<ColourClass> {
    let colours: [(u8, u8, u8); 8] = if wet_is_green {
        [
            (140, 81, 10),
            (191, 129, 45),
            (223, 194, 125),
            (246, 232, 195),
            (199, 234, 229),
            (128, 205, 193),
            (53, 151, 143),
            (1, 102, 94),
        ]
    } else {
        [
            (33, 102, 172),
            (67, 147, 195),
            (146, 197, 222),
            (209, 229, 240),
            (253, 219, 199),
            (244, 165, 130),
            (214, 96, 77),
            (178, 24, 43),
        ]
    };
    let uppers = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, f32::INFINITY];
    uppers
        .iter()
        .zip(colours)
        .map(|(&u, colour)| ColourClass {
            upper: if u.is_finite() { u * step } else { u },
            colour,
        })
        .collect()
}

/// A box `(west, east, south, north)` in degrees.
type LonLatBox = (f64, f64, f64, f64);

/// The picture's box of a regular grid (cell edges), with the grid's latitude and longitude
/// spacings; an error for other layouts and grids smaller than 2 × 2.
fn grid_box(spatial: &Spatial) -> Result<(LonLatBox, f64, f64)> {
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
    Ok((
        (
            lon[0] - dlon / 2.0,
            lon[nx - 1] + dlon / 2.0,
            lat[0] - dlat / 2.0,
            lat[ny - 1] + dlat / 2.0,
        ),
        dlat,
        dlon,
    ))
}

/// A class bound as the colour bar writes it: `-0.5`, `40`, `1.5`.
fn bound_label(v: f32) -> String {
    if (v - v.round()).abs() < 1e-4 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    }
}

/// Draws a [`ClassedMap`] into `out` (PNG): cells in their class colours, country outlines,
/// frame, title and a stepped colour bar with the class bounds and the legend.
pub fn render_classed_map(out: &Path, map: &ClassedMap) -> Result<()> {
    write_through_temporary(out, |tmp| draw_classed_map(tmp, map)).map(|_| ())
}

fn draw_classed_map(out: &Path, map: &ClassedMap) -> Result<()> {
    let Spatial::Grid { lat, lon } = map.spatial else {
        return grid_box(map.spatial).map(|_| ());
    };
    let (bounds, dlat, dlon) = grid_box(map.spatial)?;
    if map.classes.is_empty() || map.values.len() != lat.len() * lon.len() {
        return Err(Error::invalid(
            "map",
            format!(
                "{} values and {} classes for a {} x {} grid",
                map.values.len(),
                map.classes.len(),
                lat.len(),
                lon.len()
            ),
        ));
    }
    super::diagram::ensure_font()?;
    let nx = lon.len();
    let frame = MapFrame::new(bounds, 900.0, 680.0);
    let (w, h) = frame.picture(78, map.title, 760);
    let werr = |e: String| Error::Write {
        path: out.to_path_buf(),
        reason: e,
    };
    let root = BitMapBackend::new(out, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    let no_data = NO_DATA;
    let colour_of = |c: Option<usize>| match c {
        Some(c) => {
            let (r, g, b) = map.classes[c].colour;
            RGBColor(r, g, b)
        }
        None => no_data,
    };
    for (y, &la) in lat.iter().enumerate() {
        for (x, &lo) in lon.iter().enumerate() {
            let colour = colour_of(map.class_of(map.values[y * nx + x]));
            let a = frame.px(lo - dlon / 2.0, la + dlat / 2.0);
            let b = frame.px(lo + dlon / 2.0, la - dlat / 2.0);
            root.draw(&Rectangle::new([a, b], colour.filled()))
                .map_err(|e| werr(e.to_string()))?;
        }
    }
    if let Some(c) = map.countries {
        draw_countries(&root, c, bounds, &|lo, la| frame.px(lo, la), BLACK).map_err(werr)?;
    }
    frame.draw(&root, map.title).map_err(werr)?;
    // Colour bar: one box per class, the bounds between boxes, the legend above.
    let y0 = frame.top + frame.height() + 50;
    let font = ("sans-serif", 13).into_font();
    root.draw(&Text::new(
        map.legend.to_string(),
        (frame.left, y0 - 18),
        font.clone(),
    ))
    .map_err(|e| werr(e.to_string()))?;
    let bw = 56;
    for (k, class) in map.classes.iter().enumerate() {
        let x0 = frame.left + k as i32 * bw;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + 16)],
            colour_of(Some(k)).filled(),
        ))
        .map_err(|e| werr(e.to_string()))?;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + 16)],
            BLACK.mix(0.5),
        ))
        .map_err(|e| werr(e.to_string()))?;
        if class.upper.is_finite() && k + 1 < map.classes.len() {
            let label = bound_label(class.upper);
            let x = x0 + bw - 4 * label.chars().count() as i32;
            root.draw(&Text::new(label, (x, y0 + 19), font.clone()))
                .map_err(|e| werr(e.to_string()))?;
        }
    }
    let x = frame.left + map.classes.len() as i32 * bw + 24;
    root.draw(&Rectangle::new(
        [(x, y0), (x + 16, y0 + 16)],
        no_data.filled(),
    ))
    .map_err(|e| werr(e.to_string()))?;
    root.draw(&Text::new(
        map.no_data.to_string(),
        (x + 22, y0 + 2),
        font.clone(),
    ))
    .map_err(|e| werr(e.to_string()))?;
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}

/// Draws `map` cropped to the cells of `bbox` (one cell of margin) into `out`; `Ok(false)`
/// (nothing written) when no cell of the grid is in the box.
pub fn render_region_classed_map(
    out: &Path,
    map: &ClassedMap,
    bbox: &crate::cube::BBox,
) -> Result<bool> {
    let Some((sub, idx)) = crop_grid(map.spatial, bbox, 1) else {
        return Ok(false);
    };
    let values: Vec<f32> = idx.iter().map(|&k| map.values[k]).collect();
    render_classed_map(
        out,
        &ClassedMap {
            spatial: &sub,
            values: &values,
            ..*map
        },
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a reader must tell apart differ by at least 20 in some RGB channel: no data,
    /// no skill (masked) and white (no dominant category) against each other and every shade.
    #[test]
    fn no_data_no_skill_and_every_shade_are_told_apart() {
        let far = |a: RGBColor, b: RGBColor| {
            let d = |x: u8, y: u8| (i16::from(x) - i16::from(y)).abs();
            d(a.0, b.0).max(d(a.1, b.1)).max(d(a.2, b.2)) >= 20
        };
        for style in [MapStyle::Precipitation, MapStyle::Temperature] {
            let mut all: Vec<RGBColor> = (0..3).flat_map(|c| shades(style, c)).collect();
            all.push(WHITE);
            for key in [NO_DATA, NO_SKILL, WHITE] {
                for &other in all.iter().chain([NO_DATA, NO_SKILL].iter()) {
                    if other != key {
                        assert!(far(key, other), "{key:?} vs {other:?} ({style:?})");
                    }
                }
            }
        }
        // the classed maps: no data against every class colour (percent of normal, anomalies)
        let tails = [
            ExtremeTail::Dry,
            ExtremeTail::Wet,
            ExtremeTail::Cold,
            ExtremeTail::Heat,
        ];
        for classes in [
            percent_of_normal_classes(),
            anomaly_classes(0.5, false),
            anomaly_classes(0.5, true),
        ]
        .into_iter()
        .chain(tails.map(|t| extreme_classes(t, 10.0)))
        {
            for c in classes {
                let (r, g, b) = c.colour;
                assert!(far(NO_DATA, RGBColor(r, g, b)), "{:?}", c.colour);
            }
        }
    }

    #[test]
    fn classes_and_their_bounds() {
        let pct = percent_of_normal_classes();
        let map = ClassedMap {
            spatial: &Spatial::Grid {
                lat: vec![0.0, 1.0],
                lon: vec![0.0, 1.0],
            },
            values: &[f32::NAN, 39.9, 80.0, 250.0],
            classes: &pct,
            legend: "% of normal",
            countries: None,
            title: "t",
            no_data: "no data",
        };
        // below 40 %, 80 % opens "near normal" (80–120), above 200 % the last class
        let got: Vec<Option<usize>> = map.values.iter().map(|&v| map.class_of(v)).collect();
        assert_eq!(got, vec![None, Some(0), Some(3), Some(6)]);
        let a = anomaly_classes(0.5, false);
        assert_eq!(
            a.iter().map(|c| c.upper).collect::<Vec<_>>()[..7],
            [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
        );
        assert_eq!(bound_label(-1.5), "-1.5");
        assert_eq!(bound_label(40.0), "40");
        assert_eq!(bound_label(0.25), "0.25");
        // a picture is written; too few values for the grid is an error
        let dir = tempfile::tempdir().unwrap();
        render_classed_map(&dir.path().join("m.png"), &map).unwrap();
        assert!(std::fs::metadata(dir.path().join("m.png")).unwrap().len() > 1000);
        let short = ClassedMap {
            values: &[1.0],
            ..map
        };
        assert!(render_classed_map(&dir.path().join("x.png"), &short).is_err());
    }
}
