//! Inverse-distance regridding from a curvilinear grid (2-D latitude/longitude: ROMS, NEMO,
//! HYCOM native, a polar-stereographic or Lambert grid) onto a lon/lat grid — CDO `remapdis`
//! with its default four neighbours.
//!
//! # Formula
//! For each target centre `t`, the `k = 4` source centres nearest in great-circle distance
//! `dᵢ` get the weights `wᵢ = (1/dᵢ) / Σⱼ (1/dⱼ)` (a source centre at distance 0 takes the whole
//! weight); `x_t = Σ wᵢ xᵢ / Σ wᵢ` over the neighbours that are not missing, missing when all
//! are. A target whose nearest source centre is farther than [`MAX_GAP_CELLS`] times the
//! source's median cell spacing is outside the source grid: missing.
//!
//! Neighbours are found in a hash of 3-D unit vectors bucketed by the search radius, so that
//! every source centre within the radius of a target is among the 27 buckets around it.
//!
//! # References
//! CDO `remapdis` (Schulzweida, MPI-M), after SCRIP's distance-weighted remapping (Jones, LANL).

use std::collections::HashMap;

use ndarray::{Array2, Array5};
use rayon::prelude::*;

use super::LonLatGrid;
use crate::cube::{Cube, Spatial};
use crate::error::{Error, Result};

/// Source centres averaged for each target, as CDO `remapdis` does by default.
pub const NEIGHBOURS: usize = 4;

/// A target farther than this many median source cell spacings from every source centre is
/// outside the source grid (missing): two cells tolerate a ragged or masked edge without
/// extrapolating into the open.
pub const MAX_GAP_CELLS: f64 = 2.0;

/// The point at `(lat, lon)` (degrees) as a unit vector from the Earth's centre.
pub(crate) fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (p, l) = (lat.to_radians(), lon.to_radians());
    [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()]
}

/// Unit vectors of a grid's centres in row-major order, NaN where a position is missing.
pub(crate) fn unit_points(lat: &Array2<f64>, lon: &Array2<f64>) -> Vec<[f64; 3]> {
    lat.iter()
        .zip(lon.iter())
        .map(|(&a, &o)| {
            if a.is_finite() && o.is_finite() {
                unit_vector(a, o)
            } else {
                [f64::NAN; 3]
            }
        })
        .collect()
}

fn chord(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Great-circle angle (radians) of a chord on the unit sphere.
fn angle_of_chord(c: f64) -> f64 {
    2.0 * (c / 2.0).min(1.0).asin()
}

/// Per target cell, the source cells and weights.
struct Neighbours {
    rows: Vec<Vec<(u32, f64)>>,
}

/// Median chord between neighbouring centres along both grid directions (`points` are the
/// unit vectors of a `ny x nx` grid, NaN where a centre has no position).
fn median_spacing(points: &[[f64; 3]], (ny, nx): (usize, usize)) -> Result<f64> {
    let mut steps: Vec<f64> = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let k = j * nx + i;
            if i + 1 < nx {
                steps.push(chord(&points[k], &points[k + 1]));
            }
            if j + 1 < ny {
                steps.push(chord(&points[k], &points[k + nx]));
            }
        }
    }
    steps.retain(|d| d.is_finite() && *d > 0.0);
    if steps.is_empty() {
        return Err(Error::invalid(
            "curvilinear grid",
            "its latitude/longitude give no two distinct neighbouring centres",
        ));
    }
    steps.sort_by(f64::total_cmp);
    Ok(steps[steps.len() / 2])
}

/// The regular lon/lat grid that covers a curvilinear grid (2-D `lat`/`lon`, degrees) at its
/// own resolution: latitude spacing its median cell spacing (great-circle degrees, rounded to
/// 1e-6°), longitude spacing that divided by the cosine of the domain's latitude nearest the
/// equator (so cells are no wider than the source's anywhere), cell edges half a spacing beyond
/// the outermost centres (clamped to ±90°); the whole globe in longitude when the centres
/// span it. What a job that needs a lon/lat grid (`s2s emergency`) regrids such a source onto.
pub fn covering_grid(lat: &Array2<f64>, lon: &Array2<f64>) -> Result<LonLatGrid> {
    let points = unit_points(lat, lon);
    let d = (angle_of_chord(median_spacing(&points, lat.dim())?).to_degrees() * 1e6).round() / 1e6;
    let finite: Vec<(f64, f64)> = lat
        .iter()
        .zip(lon.iter())
        .filter(|(a, o)| a.is_finite() && o.is_finite())
        .map(|(&a, &o)| (a, o))
        .collect();
    let (south, north) = finite
        .iter()
        .fold((90f64, -90f64), |(s, n), &(a, _)| (s.min(a), n.max(a)));
    let equatorward = if south <= 0.0 && north >= 0.0 {
        0.0
    } else {
        south.abs().min(north.abs())
    };
    let dlon = (d / equatorward.to_radians().cos()).min(180.0);
    // longitudes in the window that starts half a turn west of the first centre
    let window = finite[0].1 - 180.0;
    let (west, east) = finite.iter().fold((f64::MAX, f64::MIN), |(w, e), &(_, o)| {
        let o = crate::cube::wrap_lon(o, window);
        (w.min(o), e.max(o))
    });
    let (west, east) = if east - west + dlon >= 360.0 {
        (-180.0, 180.0)
    } else {
        (west - dlon / 2.0, east + dlon / 2.0)
    };
    let bbox = crate::cube::BBox {
        west,
        east,
        south: (south - d / 2.0).max(-90.0),
        north: (north + d / 2.0).min(90.0),
    };
    LonLatGrid::regular(d, dlon, Some(&bbox))
}

fn neighbours(lat: &Array2<f64>, lon: &Array2<f64>, targets: &[(f64, f64)]) -> Result<Neighbours> {
    let (ny, nx) = lat.dim();
    let points = unit_points(lat, lon);
    let spacing = median_spacing(&points, (ny, nx))?;
    let radius = MAX_GAP_CELLS * spacing;
    let key = |p: &[f64; 3]| {
        [
            (p[0] / radius).floor() as i32,
            (p[1] / radius).floor() as i32,
            (p[2] / radius).floor() as i32,
        ]
    };
    let mut buckets: HashMap<[i32; 3], Vec<u32>> = HashMap::new();
    for (k, p) in points.iter().enumerate() {
        if p[0].is_finite() {
            buckets.entry(key(p)).or_default().push(k as u32);
        }
    }
    let rows = targets
        .par_iter()
        .map(|&(a, o)| {
            let t = unit_vector(a, o);
            if !t[0].is_finite() {
                // a target point without a position (a masked corner of a curvilinear grid)
                return Vec::new();
            }
            let c = key(&t);
            let mut near: Vec<(f64, u32)> = Vec::new();
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        if let Some(b) = buckets.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                            for &k in b {
                                let d = chord(&t, &points[k as usize]);
                                if d <= radius {
                                    near.push((d, k));
                                }
                            }
                        }
                    }
                }
            }
            near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            near.truncate(NEIGHBOURS);
            if let Some(&(d0, k0)) = near.first() {
                if d0 == 0.0 {
                    return vec![(k0, 1.0)];
                }
            }
            let inv: Vec<(u32, f64)> = near
                .iter()
                .map(|&(d, k)| (k, 1.0 / angle_of_chord(d)))
                .collect();
            let total: f64 = inv.iter().map(|p| p.1).sum();
            inv.into_iter().map(|(k, w)| (k, w / total)).collect()
        })
        .collect();
    Ok(Neighbours { rows })
}

/// The 2-D latitude/longitude of a grid's cells (a lon/lat grid written out in 2-D).
fn centres_2d(spatial: &Spatial) -> Result<(Array2<f64>, Array2<f64>)> {
    match spatial {
        Spatial::Curvilinear { lat, lon } => Ok((lat.clone(), lon.clone())),
        Spatial::Grid { lat, lon } => Ok((
            Array2::from_shape_fn((lat.len(), lon.len()), |(j, _)| lat[j]),
            Array2::from_shape_fn((lat.len(), lon.len()), |(_, i)| lon[i]),
        )),
        Spatial::Points { .. } => Err(Error::invalid(
            "regridding",
            "the source is a list of points, not a grid",
        )),
    }
}

/// Every `(init, member, lead)` map of `cube` at the `ny x nx` targets of `nb`.
fn apply(cube: &Cube, nb: &Neighbours, (dy, dx): (usize, usize)) -> Result<Array5<f32>> {
    let (ni, nm, nl, ny, nx) = cube.values.dim();
    let maps = ni * nm * nl;
    let src = cube
        .values
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((maps, ny * nx))
        .map_err(|e| Error::invalid("cube", e.to_string()))?;
    let mut out = Array5::<f32>::from_elem((ni, nm, nl, dy, dx), f32::NAN);
    {
        let mut out2 = out
            .view_mut()
            .into_shape_with_order((maps, dy * dx))
            .map_err(|e| Error::invalid("cube", e.to_string()))?;
        out2.outer_iter_mut()
            .into_par_iter()
            .zip(src.outer_iter().into_par_iter())
            .for_each(|(mut d, s)| {
                for (t, row) in nb.rows.iter().enumerate() {
                    let (mut sum, mut wsum) = (0.0f64, 0.0f64);
                    for &(k, w) in row {
                        let v = s[k as usize];
                        if v.is_finite() {
                            sum += w * f64::from(v);
                            wsum += w;
                        }
                    }
                    d[t] = if wsum > 0.0 {
                        (sum / wsum) as f32
                    } else {
                        f32::NAN
                    };
                }
            });
    }
    Ok(out)
}

/// Inverse-distance weights from one curvilinear grid (or a lon/lat grid taken as one) to a
/// lon/lat grid, found once and applied to every variable on that grid — the two components
/// of a current and the mask of where the source has a say.
pub struct ToLonLat {
    source: Spatial,
    target: LonLatGrid,
    nb: Neighbours,
}

impl ToLonLat {
    /// The weights from the cells of `source` to those of `target`.
    pub fn new(source: &Spatial, target: &LonLatGrid) -> Result<ToLonLat> {
        let (lat, lon) = centres_2d(source)?;
        let targets: Vec<(f64, f64)> = target
            .lat
            .iter()
            .flat_map(|&a| target.lon.iter().map(move |&o| (a, o)))
            .collect();
        Ok(ToLonLat {
            nb: neighbours(&lat, &lon, &targets)?,
            source: source.clone(),
            target: target.clone(),
        })
    }

    /// The grid the weights start from.
    pub fn source(&self) -> &Spatial {
        &self.source
    }

    /// `cube` (on the source grid) on the target grid, every `(init, member, lead)` map.
    pub fn regrid(&self, cube: &Cube) -> Result<Cube> {
        if cube.coords.spatial != self.source {
            return Err(Error::mismatch(
                "regridding",
                format!(
                    "'{}' is on {}, the weights were made for {}",
                    cube.meta.variable,
                    cube.coords.spatial.describe(),
                    self.source.describe()
                ),
            ));
        }
        let (dy, dx) = (self.target.ny(), self.target.nx());
        let out = apply(cube, &self.nb, (dy, dx))?;
        let (_, _, _, ny, nx) = cube.values.dim();
        let mut coords = cube.coords.clone();
        coords.spatial = self.target.spatial();
        let mut meta = cube.meta.clone();
        meta.history.push(format!(
            "regridded from a {ny} x {nx} grid to {dy} x {dx} (lat x lon) by inverse-distance weighting of the {NEIGHBOURS} nearest centres (as CDO remapdis)"
        ));
        Cube::new(out, coords, meta)
    }

    /// Which target cells lie inside the source grid: those with a source centre within
    /// [`MAX_GAP_CELLS`] median spacings — the cells [`ToLonLat::regrid`] gives a value unless
    /// every neighbour is masked. A missing value inside is the source's own mask (land);
    /// outside, the source says nothing.
    pub fn inside(&self) -> Array2<bool> {
        let nx = self.target.nx();
        Array2::from_shape_fn((self.target.ny(), nx), |(j, i)| {
            !self.nb.rows[j * nx + i].is_empty()
        })
    }
}

/// `cube` (on a curvilinear grid, or a lon/lat grid taken as one) on the lon/lat grid
/// `target`, every `(init, member, lead)` map by inverse-distance weighting of the four nearest
/// source centres ([`ToLonLat`] for several variables on one grid).
pub fn regrid_curvilinear(cube: &Cube, target: &LonLatGrid) -> Result<Cube> {
    ToLonLat::new(&cube.coords.spatial, target)?.regrid(cube)
}

/// `cube` at the centres of another curvilinear grid (2-D `lat`/`lon`), by the same
/// inverse-distance weighting: how one component of a staggered vector (a v on the v-points
/// of an Arakawa C grid) is brought to the points of the other — on a uniform C grid the four
/// nearest v-points of a u-point are the four around it, equally distant, so this is the
/// usual four-point average.
pub fn regrid_to_centres(cube: &Cube, lat: &Array2<f64>, lon: &Array2<f64>) -> Result<Cube> {
    if lat.dim() != lon.dim() {
        return Err(Error::invalid(
            "regridding",
            "the target latitude and longitude differ in shape",
        ));
    }
    let (src_lat, src_lon) = centres_2d(&cube.coords.spatial)?;
    let targets: Vec<(f64, f64)> = lat.iter().zip(lon.iter()).map(|(&a, &o)| (a, o)).collect();
    let nb = neighbours(&src_lat, &src_lon, &targets)?;
    let out = apply(cube, &nb, lat.dim())?;
    let mut coords = cube.coords.clone();
    coords.spatial = Spatial::Curvilinear {
        lat: lat.clone(),
        lon: lon.clone(),
    };
    let mut meta = cube.meta.clone();
    meta.history.push(format!(
        "moved from its own {} x {} points to the {} x {} points of its companion component by inverse-distance weighting of the {NEIGHBOURS} nearest",
        src_lat.dim().0,
        src_lat.dim().1,
        lat.dim().0,
        lat.dim().1
    ));
    Cube::new(out, coords, meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::cube::{Coords, Lead, Meta};

    /// A curvilinear grid that is a regular 1° grid written in 2-D, rotated in index order:
    /// targets on source centres take their values, midpoints the mean of the four around.
    #[test]
    fn centres_and_midpoints() {
        let (ny, nx) = (5, 6);
        let lat = Array2::from_shape_fn((ny, nx), |(j, _)| 10.0 + j as f64);
        let lon = Array2::from_shape_fn((ny, nx), |(_, i)| 70.0 + i as f64);
        let values =
            Array5::from_shape_fn((1, 1, 1, ny, nx), |(_, _, _, j, i)| (10 * j + i) as f32);
        let cube = Cube::new(
            values,
            Coords {
                init: vec![crate::calendar::CfDateTime::ymd(2020, 1, 1)],
                member: vec![0],
                lead: vec![Lead::days(0.0, 1.0)],
                spatial: Spatial::Curvilinear { lat, lon },
            },
            Meta::new("m", "x", "1", Calendar::Standard),
        )
        .unwrap();
        let on_centres = LonLatGrid::from_centres(vec![11.0, 12.0], vec![71.0, 72.0]).unwrap();
        let a = regrid_curvilinear(&cube, &on_centres).unwrap();
        assert_eq!(a.values[[0, 0, 0, 0, 0]], 11.0);
        assert_eq!(a.values[[0, 0, 0, 1, 1]], 22.0);
        let mid = LonLatGrid::from_centres(vec![11.5], vec![71.5, 90.0]).unwrap();
        let b = regrid_curvilinear(&cube, &mid).unwrap();
        // four equidistant neighbours (to 1e-4 on the sphere): 11, 12, 21, 22
        assert!(
            (b.values[[0, 0, 0, 0, 0]] - 16.5).abs() < 0.01,
            "{}",
            b.values[[0, 0, 0, 0, 0]]
        );
        // 90°E is far outside the source grid: missing
        assert!(b.values[[0, 0, 0, 0, 1]].is_nan());
    }
}
