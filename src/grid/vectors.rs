//! Grid-relative vectors (components along a curvilinear or projected grid's own axes) turned
//! into eastward and northward components.
//!
//! # What it computes
//! Ocean, ice and atmosphere models on curvilinear or projected grids (ROMS, NEMO, HYCOM
//! native, polar-stereographic ice motion, WRF on a Lambert grid) write a vector as its
//! components along the grid's axes: CF `sea_water_x_velocity`/`sea_water_y_velocity`,
//! `x_wind`/`y_wind` (alias `grid_eastward_wind`/`grid_northward_wind`), `sea_ice_x_velocity`…
//! A drift model or a lon/lat map needs eastward and northward components.
//! - [`grid_relative_component`] recognises those standard names (ROMS' `…_at_u_location`
//!   included) and gives the other component's name and the earth-relative name;
//! - [`axis_directions`] measures, at every cell, where the grid's x and y axes point;
//! - [`to_east_north`] brings the y component to the x component's points when the grid is
//!   staggered (the v-points of an Arakawa C grid: [`super::distance::regrid_to_centres`], on a
//!   uniform C grid the usual four-point average) and rotates the pair there — rotation at the
//!   source, before any regridding, so that only earth-relative (smooth) fields are ever
//!   interpolated.
//!
//! # Formula
//! At a cell at position `P` (unit vector on the sphere), the x axis points along
//! `d = P(i+1) − P(i−1)` (centred difference along the row; at an edge or beside a missing
//! cell the second-order one-sided `−3P(i) + 4P(i±1) − P(i±2)`), at the angle
//! `αx = atan2(d·n̂, d·ê)` counter-clockwise from east, with `ê = (−sin λ, cos λ, 0)` and
//! `n̂ = (−sin φ cos λ, −sin φ sin λ, cos φ)` the local east and north — so it holds across the
//! date line and beside the poles of tripolar grids; `αy` likewise along the column. With
//! `sx, sy = ±1` (−1 where a projection coordinate decreases along the index:
//! [`crate::io::grid_axis_signs`]):
//!
//! `east = sx u cos αx + sy v cos αy`,  `north = sx u sin αx + sy v sin αy`,
//!
//! which on an orthogonal right-handed grid (`αy = αx + 90°`, as ROMS and NEMO grids are) is
//! the rotation by the grid angle `α` that ROMS stores as `angle` and NEMO as `gcost`/`gsint`:
//! `east = u cos α − v sin α`, `north = u sin α + v cos α`.
//!
//! # References
//! CF conventions 1.8, standard name table (`x_wind`: "the component along the grid x-axis");
//! ROMS grid and `angle` (Hedström, *Technical manual for a coupled sea-ice/ocean circulation
//! model*, 2018); NEMO reference manual (Madec et al.), vector rotation with the grid angle.

use ndarray::{Array2, Zip};

use super::distance::{regrid_to_centres, unit_points};
use crate::cube::{Cube, Spatial};
use crate::error::{Error, Result};

/// Which axis of its grid a grid-relative component lies along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridAxis {
    /// Along the grid's x axis (columns, increasing `i`).
    X,
    /// Along the grid's y axis (rows, increasing `j`).
    Y,
}

/// A standard name read as a grid-relative vector component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridComponent {
    /// The axis it lies along.
    pub axis: GridAxis,
    /// The standard name of the other component of the same vector.
    pub twin: String,
    /// The standard name of its earth-relative counterpart (`eastward_…` for x, `northward_…`
    /// for y).
    pub earth_relative: String,
}

/// CF standard names whose earth-relative twin is not the name with `x`/`y` replaced by
/// `eastward`/`northward` in place.
const EARTH_RELATIVE_NAMES: [(&str, &str); 6] = [
    ("sea_water_x_velocity", "eastward_sea_water_velocity"),
    ("sea_water_y_velocity", "northward_sea_water_velocity"),
    (
        "barotropic_sea_water_x_velocity",
        "barotropic_eastward_sea_water_velocity",
    ),
    (
        "barotropic_sea_water_y_velocity",
        "barotropic_northward_sea_water_velocity",
    ),
    ("sea_ice_x_velocity", "eastward_sea_ice_velocity"),
    ("sea_ice_y_velocity", "northward_sea_ice_velocity"),
];

/// `standard_name` as a grid-relative component: a name with the word `x` or `y`
/// (`sea_water_x_velocity`, `x_wind`, `surface_downward_y_stress`), ROMS' `…_at_u_location` /
/// `…_at_v_location` forms, and the aliases `grid_eastward_…`/`grid_northward_…`; `None` for
/// anything else (an earth-relative `eastward_…` name included).
pub fn grid_relative_component(standard_name: &str) -> Option<GridComponent> {
    let name = standard_name.trim().to_ascii_lowercase();
    let (base, location) = match name
        .strip_suffix("_at_u_location")
        .map(|b| (b, Some('u')))
        .or_else(|| name.strip_suffix("_at_v_location").map(|b| (b, Some('v'))))
    {
        Some((b, loc)) => (b.to_string(), loc),
        None => (name.clone(), None),
    };
    let with_location = |b: String, loc: Option<char>| match loc {
        Some(c) => format!("{b}_at_{c}_location"),
        None => b,
    };
    let other_location = location.map(|c| if c == 'u' { 'v' } else { 'u' });
    for (prefix, axis, twin_prefix, earth) in [
        (
            "grid_eastward_",
            GridAxis::X,
            "grid_northward_",
            "eastward_",
        ),
        (
            "grid_northward_",
            GridAxis::Y,
            "grid_eastward_",
            "northward_",
        ),
    ] {
        if let Some(rest) = base.strip_prefix(prefix) {
            return Some(GridComponent {
                axis,
                twin: with_location(format!("{twin_prefix}{rest}"), other_location),
                earth_relative: format!("{earth}{rest}"),
            });
        }
    }
    let words: Vec<&str> = base.split('_').collect();
    let position = |w: &str| words.iter().position(|&x| x == w);
    let (axis, at) = match (position("x"), position("y")) {
        (Some(i), None) => (GridAxis::X, i),
        (None, Some(i)) => (GridAxis::Y, i),
        _ => return None,
    };
    let replaced = |with: &str| {
        let mut w = words.clone();
        w[at] = with;
        w.join("_")
    };
    let twin = replaced(if axis == GridAxis::X { "y" } else { "x" });
    let earth_relative = EARTH_RELATIVE_NAMES
        .iter()
        .find(|(g, _)| *g == base)
        .map(|(_, e)| e.to_string())
        .unwrap_or_else(|| {
            replaced(if axis == GridAxis::X {
                "eastward"
            } else {
                "northward"
            })
        });
    Some(GridComponent {
        axis,
        twin: with_location(twin, other_location),
        earth_relative,
    })
}

/// Among variables with these standard names, the `(x, y)` index pairs of grid-relative
/// vectors: each x component with the variable named as its twin (the first such).
pub fn grid_relative_pairs(standard_names: &[Option<&str>]) -> Vec<(usize, usize)> {
    let parsed: Vec<Option<GridComponent>> = standard_names
        .iter()
        .map(|s| s.and_then(grid_relative_component))
        .collect();
    let mut pairs = Vec::new();
    for (i, c) in parsed.iter().enumerate() {
        let Some(c) = c else { continue };
        if c.axis != GridAxis::X {
            continue;
        }
        let twin = standard_names
            .iter()
            .enumerate()
            .position(|(k, s)| k != i && s.is_some_and(|s| s.trim().eq_ignore_ascii_case(&c.twin)));
        if let Some(k) = twin {
            pairs.push((i, k));
        }
    }
    pairs
}

/// The angle (radians, counter-clockwise from east) of the 3-D direction `d` seen at the point
/// `(lat, lon)`; NaN for a zero direction.
fn direction_at(lat: f64, lon: f64, d: [f64; 3]) -> f64 {
    let (p, l) = (lat.to_radians(), lon.to_radians());
    let east = [-l.sin(), l.cos(), 0.0];
    let north = [-p.sin() * l.cos(), -p.sin() * l.sin(), p.cos()];
    let de = d[0] * east[0] + d[1] * east[1] + d[2] * east[2];
    let dn = d[0] * north[0] + d[1] * north[1] + d[2] * north[2];
    if de == 0.0 && dn == 0.0 {
        f64::NAN
    } else {
        dn.atan2(de)
    }
}

/// What [`rotate_pairs`] did to a set of variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotated {
    /// `(x, y)` index pairs turned to east/north, in place.
    pub pairs: Vec<(usize, usize)>,
    /// Grid-relative components without their twin among the variables, left as they are.
    pub lone: Vec<usize>,
}

/// Every grid-relative pair among `cubes` ([`grid_relative_pairs`] by standard name) turned
/// to east/north in place ([`to_east_north`]), with `signs(x)` the axis signs of the file of
/// the x component's variable `x` ([`crate::io::grid_axis_signs`]); components without
/// their twin are reported, not touched.
pub fn rotate_pairs(
    cubes: &mut [Cube],
    mut signs: impl FnMut(usize) -> Result<[f64; 2]>,
) -> Result<Rotated> {
    let names: Vec<Option<&str>> = cubes
        .iter()
        .map(|c| c.meta.standard_name.as_deref())
        .collect();
    let pairs = grid_relative_pairs(&names);
    let lone: Vec<usize> = (0..names.len())
        .filter(|&k| {
            names[k].and_then(grid_relative_component).is_some()
                && !pairs.iter().any(|&(x, y)| x == k || y == k)
        })
        .collect();
    for &(x, y) in &pairs {
        let (east, north) = to_east_north(&cubes[x], &cubes[y], signs(x)?)?;
        (cubes[x], cubes[y]) = (east, north);
    }
    Ok(Rotated { pairs, lone })
}

/// At every cell of the grid with 2-D `lat`/`lon` (degrees): the directions (radians,
/// counter-clockwise from east) of increasing column index (`αx`) and of increasing row index
/// (`αy`), from centred differences of the positions (second-order one-sided at the edges).
/// NaN where the cell or both of its neighbours along that axis have no position.
pub fn axis_directions(lat: &Array2<f64>, lon: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (ny, nx) = lat.dim();
    let points = unit_points(lat, lon);
    let p = |j: usize, i: usize| Some(points[j * nx + i]).filter(|q| q[0].is_finite());
    // the derivative of the position along one axis: the centred difference of the
    // neighbours, or the second-order one-sided difference (−3P₀ + 4P₁ − P₂) at an edge or
    // beside a missing cell, the first-order one with a single neighbour
    let along = |j: usize, i: usize, dj: usize, di: usize| -> f64 {
        let Some(here) = p(j, i) else {
            return f64::NAN;
        };
        let step = |k: isize| -> Option<[f64; 3]> {
            let (jj, ii) = (j as isize + k * dj as isize, i as isize + k * di as isize);
            if jj < 0 || ii < 0 || jj >= ny as isize || ii >= nx as isize {
                None
            } else {
                p(jj as usize, ii as usize)
            }
        };
        let combine = |terms: &[(f64, [f64; 3])]| -> [f64; 3] {
            let mut d = [0.0; 3];
            for (w, q) in terms {
                for k in 0..3 {
                    d[k] += w * q[k];
                }
            }
            d
        };
        let d = match (step(-2), step(-1), step(1), step(2)) {
            (_, Some(b), Some(a), _) => combine(&[(1.0, a), (-1.0, b)]),
            (_, None, Some(a), Some(a2)) => combine(&[(-3.0, here), (4.0, a), (-1.0, a2)]),
            (_, None, Some(a), None) => combine(&[(1.0, a), (-1.0, here)]),
            (Some(b2), Some(b), None, _) => combine(&[(3.0, here), (-4.0, b), (1.0, b2)]),
            (None, Some(b), None, _) => combine(&[(1.0, here), (-1.0, b)]),
            (_, None, None, _) => return f64::NAN,
        };
        direction_at(lat[[j, i]], lon[[j, i]], d)
    };
    let ax = Array2::from_shape_fn((ny, nx), |(j, i)| along(j, i, 0, 1));
    let ay = Array2::from_shape_fn((ny, nx), |(j, i)| along(j, i, 1, 0));
    (ax, ay)
}

/// The grid-relative pair `x`, `y` (same starts, members and leads) as eastward and northward
/// components at the points of `x`; `y` is first moved to them when it sits on other points (a
/// staggered grid). `signs` are the directions of the components against the increasing index
/// ([`crate::io::grid_axis_signs`]). On a lon/lat grid the grid's axes are east and north: the
/// values stay and only the names change. Both results carry the earth-relative standard name
/// and a history line.
pub fn to_east_north(x: &Cube, y: &Cube, signs: [f64; 2]) -> Result<(Cube, Cube)> {
    let name = |c: &Cube| -> Result<GridComponent> {
        c.meta
            .standard_name
            .as_deref()
            .and_then(grid_relative_component)
            .ok_or_else(|| {
                Error::invalid(
                    format!("variable '{}'", c.meta.variable),
                    format!(
                        "its standard_name ({}) does not say it is a grid-relative component (sea_water_x_velocity, x_wind, …)",
                        c.meta.standard_name.as_deref().unwrap_or("none")
                    ),
                )
            })
    };
    let (nx_name, ny_name) = (name(x)?, name(y)?);
    if nx_name.axis != GridAxis::X || ny_name.axis != GridAxis::Y {
        return Err(Error::invalid(
            format!("variables '{}' and '{}'", x.meta.variable, y.meta.variable),
            "expected an x component and then a y component of one vector",
        ));
    }
    let (xd, yd) = (x.values.dim(), y.values.dim());
    if (xd.0, xd.1, xd.2) != (yd.0, yd.1, yd.2) {
        return Err(Error::invalid(
            format!("variables '{}' and '{}'", x.meta.variable, y.meta.variable),
            "the two components differ in starts, members or leads",
        ));
    }
    let relabel = |c: &Cube, values, spatial: &Spatial, earth: &str, how: &str| -> Result<Cube> {
        let mut coords = c.coords.clone();
        coords.spatial = spatial.clone();
        let mut meta = c.meta.clone();
        meta.standard_name = Some(earth.to_string());
        meta.history.push(how.to_string());
        Cube::new(values, coords, meta)
    };
    let (lat, lon) = match &x.coords.spatial {
        Spatial::Grid { .. } => {
            let how = "grid-relative components of a lon/lat grid, which point east and north";
            let spatial = &x.coords.spatial;
            if !spatial.same_grid(&y.coords.spatial) {
                return Err(Error::invalid(
                    format!("variables '{}' and '{}'", x.meta.variable, y.meta.variable),
                    "the two components are on different lon/lat grids",
                ));
            }
            return Ok((
                relabel(x, x.values.clone(), spatial, &nx_name.earth_relative, how)?,
                relabel(y, y.values.clone(), spatial, &ny_name.earth_relative, how)?,
            ));
        }
        Spatial::Curvilinear { lat, lon } => (lat, lon),
        Spatial::Points { .. } => {
            return Err(Error::invalid(
                format!("variable '{}'", x.meta.variable),
                "grid-relative components of a list of points cannot be rotated (no grid axes)",
            ))
        }
    };
    let moved;
    let y_here = if y.coords.spatial.same_grid(&x.coords.spatial) {
        y
    } else {
        moved = regrid_to_centres(y, lat, lon)?;
        &moved
    };
    let (ax, ay) = axis_directions(lat, lon);
    let [sx, sy] = signs;
    let mut east = x.values.clone();
    let mut north = y_here.values.clone();
    let (ni, nm, nl, _, _) = x.values.dim();
    for a in 0..ni {
        for m in 0..nm {
            for l in 0..nl {
                let u = x.values.slice(ndarray::s![a, m, l, .., ..]);
                let v = y_here.values.slice(ndarray::s![a, m, l, .., ..]);
                let mut e = east.slice_mut(ndarray::s![a, m, l, .., ..]);
                let mut n = north.slice_mut(ndarray::s![a, m, l, .., ..]);
                Zip::from(&mut e)
                    .and(&mut n)
                    .and(&u)
                    .and(&v)
                    .and(&ax)
                    .and(&ay)
                    .par_for_each(|e, n, &u, &v, &ax, &ay| {
                        let (u, v) = (sx * f64::from(u), sy * f64::from(v));
                        *e = (u * ax.cos() + v * ay.cos()) as f32;
                        *n = (u * ax.sin() + v * ay.sin()) as f32;
                    });
            }
        }
    }
    log::info!(
        "'{}' and '{}' rotated from grid axes to east/north at {} points (signs {sx}, {sy}){}",
        x.meta.variable,
        y.meta.variable,
        lat.len(),
        if std::ptr::eq(y_here, y) {
            ""
        } else {
            "; the y component moved to the x component's points first"
        }
    );
    let how = format!(
        "rotated from the grid-relative components '{}' ({}) and '{}' ({}) to east/north with the grid's axis directions",
        x.meta.variable,
        x.meta.standard_name.as_deref().unwrap_or(""),
        y.meta.variable,
        y.meta.standard_name.as_deref().unwrap_or("")
    );
    Ok((
        relabel(x, east, &x.coords.spatial, &nx_name.earth_relative, &how)?,
        relabel(
            y_here,
            north,
            &x.coords.spatial,
            &ny_name.earth_relative,
            &how,
        )?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, CfDateTime};
    use crate::cube::{Coords, Lead, Meta};
    use crate::grid::projection::{GridMapping, PolarScale, Projection};
    use ndarray::Array5;

    #[test]
    fn standard_names_of_grid_relative_components() {
        let c = grid_relative_component("sea_water_x_velocity").unwrap();
        assert_eq!(c.axis, GridAxis::X);
        assert_eq!(c.twin, "sea_water_y_velocity");
        assert_eq!(c.earth_relative, "eastward_sea_water_velocity");
        let c = grid_relative_component("y_wind").unwrap();
        assert_eq!((c.axis, c.twin.as_str()), (GridAxis::Y, "x_wind"));
        assert_eq!(c.earth_relative, "northward_wind");
        let c = grid_relative_component("sea_water_x_velocity_at_u_location").unwrap();
        assert_eq!(c.twin, "sea_water_y_velocity_at_v_location");
        assert_eq!(c.earth_relative, "eastward_sea_water_velocity");
        let c = grid_relative_component("grid_northward_wind").unwrap();
        assert_eq!(
            (c.axis, c.twin.as_str()),
            (GridAxis::Y, "grid_eastward_wind")
        );
        assert_eq!(c.earth_relative, "northward_wind");
        let c = grid_relative_component("surface_downward_x_stress").unwrap();
        assert_eq!(c.earth_relative, "surface_downward_eastward_stress");
        assert_eq!(
            grid_relative_component("sea_ice_y_velocity")
                .unwrap()
                .earth_relative,
            "northward_sea_ice_velocity"
        );
        for earth in [
            "eastward_sea_water_velocity",
            "northward_wind",
            "sea_surface_height",
            "air_temperature",
        ] {
            assert_eq!(grid_relative_component(earth), None, "{earth}");
        }
        let names = [
            Some("sea_surface_height"),
            Some("sea_water_y_velocity"),
            None,
            Some("sea_water_x_velocity"),
        ];
        assert_eq!(grid_relative_pairs(&names), vec![(3, 1)]);
    }

    /// A regular lon/lat grid written in 2-D: x points east, y north.
    #[test]
    fn axes_of_a_lon_lat_grid_and_across_the_date_line() {
        let lat = Array2::from_shape_fn((3, 4), |(j, _)| -10.0 + j as f64);
        let lon = Array2::from_shape_fn((3, 4), |(_, i)| [178.0, 179.0, -180.0, -179.0][i]);
        let (ax, ay) = axis_directions(&lat, &lon);
        for (&a, &b) in ax.iter().zip(ay.iter()) {
            assert!(a.abs() < 1e-3, "{a}");
            assert!((b - std::f64::consts::FRAC_PI_2).abs() < 1e-3, "{b}");
        }
    }

    fn cube(values: Array2<f64>, lat: &Array2<f64>, lon: &Array2<f64>, std: &str) -> Cube {
        let (ny, nx) = values.dim();
        let mut meta = Meta::new(
            "m",
            if std.contains('x') { "u" } else { "v" },
            "m s-1",
            Calendar::Standard,
        );
        meta.standard_name = Some(std.into());
        Cube::new(
            Array5::from_shape_fn((1, 1, 1, ny, nx), |(_, _, _, j, i)| values[[j, i]] as f32),
            Coords {
                init: vec![CfDateTime::ymd(2020, 1, 1)],
                member: vec![0],
                lead: vec![Lead::days(0.0, 1.0)],
                spatial: Spatial::Curvilinear {
                    lat: lat.clone(),
                    lon: lon.clone(),
                },
            },
            meta,
        )
        .unwrap()
    }

    /// A pair among other variables is turned in place with the signs asked for its x
    /// component; an x component whose twin is missing is reported and left alone.
    #[test]
    fn pairs_rotated_in_place_and_lone_components_reported() {
        let lat = Array2::from_shape_fn((3, 3), |(j, _)| 10.0 + j as f64);
        let lon = Array2::from_shape_fn((3, 3), |(_, i)| 70.0 + i as f64);
        let field = Array2::from_elem((3, 3), 0.5);
        let mut cubes = vec![
            cube(field.clone(), &lat, &lon, "sea_water_x_velocity"),
            cube(field.clone(), &lat, &lon, "sea_water_y_velocity"),
            cube(field, &lat, &lon, "x_wind"),
        ];
        let mut asked = Vec::new();
        let done = rotate_pairs(&mut cubes, |x| {
            asked.push(x);
            Ok([1.0, 1.0])
        })
        .unwrap();
        assert_eq!(done.pairs, vec![(0, 1)]);
        assert_eq!(done.lone, vec![2]);
        assert_eq!(asked, vec![0]);
        assert_eq!(
            cubes[0].meta.standard_name.as_deref(),
            Some("eastward_sea_water_velocity")
        );
        assert_eq!(cubes[2].meta.standard_name.as_deref(), Some("x_wind"));
        // a regular grid written in 2-D: east = u, north = v
        assert!((cubes[0].values[[0, 0, 0, 1, 1]] - 0.5).abs() < 1e-4);
        assert!((cubes[1].values[[0, 0, 0, 1, 1]] - 0.5).abs() < 1e-4);
    }

    /// North polar stereographic, central meridian −45° (the NSIDC grid's): at longitude λ the
    /// grid's x axis points at −(λ − λ₀) from east. A uniform eastward current of 1 m/s
    /// written as grid components `u = cos α`, `v = −sin α` comes back as (1, 0) everywhere;
    /// a northward one as (0, 1). With the rows stored north to south (descending y) the v
    /// component points against the rows: the same answer with sign −1 on y.
    #[test]
    fn polar_stereographic_components_back_to_east_and_north() {
        let mapping = GridMapping {
            projection: Projection::PolarStereographic {
                north: true,
                lon0: (-45f64).to_radians(),
                scale: PolarScale::StandardParallel(70f64.to_radians()),
            },
            a: 6_378_273.0,
            e: 0.081_816_153,
            false_easting: 0.0,
            false_northing: 0.0,
        };
        let xs: Vec<f64> = (0..21)
            .map(|i| -1_000_000.0 + 100_000.0 * i as f64)
            .collect();
        for descending_y in [false, true] {
            let ys: Vec<f64> = if descending_y {
                xs.iter().rev().map(|y| y + 500_000.0).collect()
            } else {
                xs.iter().map(|y| y + 500_000.0).collect()
            };
            let (lat, lon) = crate::grid::projection::lat_lon_of(&mapping, &xs, &ys).unwrap();
            let alpha = lon.mapv(|l| -(l + 45.0).to_radians());
            let sy = if descending_y { -1.0 } else { 1.0 };
            for (east, north) in [(1.0, 0.0), (0.0, 1.0), (0.3, -0.4)] {
                // grid components: projections of (east, north) on x̂ = (cos α, sin α) and
                // ŷ = (−sin α, cos α)
                let u = alpha.mapv(|a| east * a.cos() + north * a.sin());
                let v = alpha.mapv(|a| -east * a.sin() + north * a.cos());
                let (e, n) = to_east_north(
                    &cube(u, &lat, &lon, "sea_water_x_velocity"),
                    // the file's y component points along +y whatever the rows' order
                    &cube(v, &lat, &lon, "sea_water_y_velocity"),
                    [1.0, sy],
                )
                .unwrap();
                assert_eq!(
                    e.meta.standard_name.as_deref(),
                    Some("eastward_sea_water_velocity")
                );
                assert_eq!(
                    n.meta.standard_name.as_deref(),
                    Some("northward_sea_water_velocity")
                );
                let worst = e
                    .values
                    .iter()
                    .map(|&x| (f64::from(x) - east).abs())
                    .chain(n.values.iter().map(|&x| (f64::from(x) - north).abs()))
                    .fold(0.0, f64::max);
                // centred differences on a 100 km grid: the axis direction to ~1e-4 rad
                assert!(
                    worst < 2e-3,
                    "({east}, {north}) descending {descending_y}: {worst}"
                );
            }
        }
    }

    /// An Arakawa C grid rotated by 30° (ROMS' `angle`): u on the u-points, v on the
    /// v-points, a uniform eastward current of 1 m/s. v is moved to the u-points (the four
    /// around each) and the pair rotated: east 1, north 0 inside the grid.
    #[test]
    fn staggered_rotated_grid_like_roms() {
        let angle = 30f64.to_radians();
        let spacing = 0.05; // degrees
        let origin = (10.0, 80.0);
        // position of grid point (j, i) (fractional for staggered points), in a small
        // rotated box where a flat (east, north) plane is good enough to build the grid
        let at = |j: f64, i: f64| {
            let e = spacing * (i * angle.cos() - j * angle.sin());
            let n = spacing * (i * angle.sin() + j * angle.cos());
            (origin.0 + n, origin.1 + e / origin.0.to_radians().cos())
        };
        let (ny, nx) = (12, 14);
        let u_pts = |j: usize, i: usize| at(j as f64, i as f64 + 0.5);
        let v_pts = |j: usize, i: usize| at(j as f64 + 0.5, i as f64);
        let grid = |n: (usize, usize), f: &dyn Fn(usize, usize) -> (f64, f64)| {
            (
                Array2::from_shape_fn(n, |(j, i)| f(j, i).0),
                Array2::from_shape_fn(n, |(j, i)| f(j, i).1),
            )
        };
        let (ulat, ulon) = grid((ny, nx - 1), &u_pts);
        let (vlat, vlon) = grid((ny - 1, nx), &v_pts);
        let u = Array2::from_elem((ny, nx - 1), angle.cos());
        let v = Array2::from_elem((ny - 1, nx), -angle.sin());
        let (e, n) = to_east_north(
            &cube(u, &ulat, &ulon, "sea_water_x_velocity_at_u_location"),
            &cube(v, &vlat, &vlon, "sea_water_y_velocity_at_v_location"),
            [1.0, 1.0],
        )
        .unwrap();
        assert_eq!(e.values.dim(), (1, 1, 1, ny, nx - 1));
        for j in 1..ny - 1 {
            for i in 1..nx - 2 {
                let (a, b) = (e.values[[0, 0, 0, j, i]], n.values[[0, 0, 0, j, i]]);
                assert!(
                    (a - 1.0).abs() < 2e-3 && b.abs() < 2e-3,
                    "({j}, {i}): {a}, {b}"
                );
            }
        }
    }
}
