//! Candidate detection on one time step (DetectNodes-like).
//!
//! # Algorithm (TempestExtremes `DetectNodes`, Ullrich & Zarzycki 2017; Ullrich et al. 2021)
//! 1. **Candidates**: grid points where no neighbour has a strictly lower sea-level pressure
//!    (4 neighbours by default, 8 with [`DetectSpec::diagonal_connectivity`], as TE's
//!    `--diag_connect`); the longitude wraps when the grid is periodic. Missing (NaN) pressure is
//!    never a candidate.
//! 2. **Location**: candidates poleward of [`DetectSpec::max_abs_lat_deg`] are dropped.
//! 3. **Merge**: a candidate is dropped when another candidate within
//!    [`DetectSpec::merge_dist_deg`] (great-circle degrees) has lower pressure (equal pressure:
//!    the one earlier in row-major order wins) — whether or not that other candidate survives,
//!    which is what TE does.
//! 4. **Closed contours**: from a pivot (the candidate itself, or the minimum / maximum of the
//!    field within `minmax_dist_deg` of it), a breadth-first search over grid neighbours visits
//!    every point whose value has not yet changed by `delta` from the pivot's; the contour is
//!    closed when no visited point lies farther than `dist_deg` from the pivot. PSL must rise by
//!    200 Pa within 5.5° ([`ClosedContour::PSL`]); the optional warm core — the geopotential
//!    thickness Z(300 hPa) − Z(500 hPa) must *fall* by 58.8 m² s⁻² within 6.5° of its maximum
//!    within 1° ([`ClosedContour::WARM_CORE`]). On a regional (non-periodic) grid a search that
//!    reaches the domain edge fails: the contour cannot be shown to close.
//! 5. **Outputs** per surviving candidate: PSL at the candidate (TE `PSL,min,0`) and the largest
//!    wind speed within [`DetectSpec::wind_radius_deg`] (TE `_VECMAG(UBOT,VBOT),max,2`).
//!
//! Distances are great-circle angles on the sphere (inclusive: a point exactly at the distance
//! is within it),
//! `cos d = sin φ₁ sin φ₂ + cos φ₁ cos φ₂ cos(λ₂ − λ₁)`, compared through their cosines so the
//! inner loops need no `acos`.

use ndarray::{ArrayView2, ArrayView3, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A closed-contour criterion (TE `--closedcontourcmd var,delta,dist,minmaxdist`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClosedContour {
    /// Required change from the pivot: > 0 the field must rise (around a minimum), < 0 fall
    /// (around a maximum). Units of the field.
    pub delta: f64,
    /// Great-circle distance (degrees) within which the change must happen in every direction.
    pub dist_deg: f64,
    /// Distance (degrees) around the candidate searched for the pivot (the field's minimum when
    /// `delta > 0`, maximum when `delta < 0`); 0 = the candidate itself.
    pub minmax_dist_deg: f64,
}

impl ClosedContour {
    /// TE's default pressure criterion: PSL rises by 200 Pa within 5.5°.
    pub const PSL: ClosedContour = ClosedContour {
        delta: 200.0,
        dist_deg: 5.5,
        minmax_dist_deg: 0.0,
    };
    /// TE's default warm-core criterion: Z300 − Z500 (m² s⁻²) falls by 58.8 within 6.5° of its
    /// maximum within 1° of the candidate.
    pub const WARM_CORE: ClosedContour = ClosedContour {
        delta: -58.8,
        dist_deg: 6.5,
        minmax_dist_deg: 1.0,
    };

    fn validate(&self, what: &str) -> Result<()> {
        if !(self.delta.is_finite() && self.delta != 0.0) {
            return Err(Error::invalid(
                what,
                format!("contour change {} must be finite and non-zero", self.delta),
            ));
        }
        if !(self.dist_deg > 0.0 && self.dist_deg < 180.0) {
            return Err(Error::invalid(
                what,
                format!("contour distance {}° must be in (0, 180)", self.dist_deg),
            ));
        }
        if !(self.minmax_dist_deg >= 0.0 && self.minmax_dist_deg < 180.0) {
            return Err(Error::invalid(
                what,
                format!(
                    "pivot search distance {}° must be in [0, 180)",
                    self.minmax_dist_deg
                ),
            ));
        }
        Ok(())
    }
}

/// Detection settings; [`Default`] gives the published TempestExtremes TC criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectSpec {
    /// The sea-level-pressure contour (Pa).
    pub psl_contour: ClosedContour,
    /// The warm-core contour on Z300 − Z500 (m² s⁻²), used when thickness is given.
    pub warm_core: ClosedContour,
    /// Candidates closer than this (degrees) are merged, keeping the deepest.
    pub merge_dist_deg: f64,
    /// Radius (degrees) of the largest-wind search around a candidate.
    pub wind_radius_deg: f64,
    /// Candidates poleward of this latitude are dropped (`None`: anywhere).
    pub max_abs_lat_deg: Option<f64>,
    /// 8-neighbour (diagonal) connectivity instead of 4.
    pub diagonal_connectivity: bool,
}

impl Default for DetectSpec {
    fn default() -> Self {
        DetectSpec {
            psl_contour: ClosedContour::PSL,
            warm_core: ClosedContour::WARM_CORE,
            merge_dist_deg: 6.0,
            wind_radius_deg: 2.0,
            max_abs_lat_deg: None,
            diagonal_connectivity: false,
        }
    }
}

impl DetectSpec {
    /// Checks every distance and threshold.
    pub fn validate(&self) -> Result<()> {
        self.psl_contour.validate("PSL closed contour")?;
        self.warm_core.validate("warm-core closed contour")?;
        if self.psl_contour.delta < 0.0 {
            return Err(Error::invalid(
                "PSL closed contour",
                "the pressure must rise around a low: the change must be positive",
            ));
        }
        for (what, v) in [
            ("merge distance", self.merge_dist_deg),
            ("wind search radius", self.wind_radius_deg),
        ] {
            if !(0.0..180.0).contains(&v) {
                return Err(Error::invalid(what, format!("{v}° must be in [0, 180)")));
            }
        }
        if let Some(l) = self.max_abs_lat_deg {
            if !(0.0..=90.0).contains(&l) {
                return Err(Error::invalid(
                    "maximum latitude",
                    format!("{l}° must be in [0, 90]"),
                ));
            }
        }
        Ok(())
    }
}

/// A detected cyclone centre at one time step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Row (latitude index) on the grid.
    pub j: usize,
    /// Column (longitude index) on the grid.
    pub i: usize,
    /// Latitude (degrees north).
    pub lat: f64,
    /// Longitude (degrees east, as on the grid).
    pub lon: f64,
    /// Sea-level pressure at the centre (Pa).
    pub psl_pa: f32,
    /// Largest wind speed within the wind search radius (m/s).
    pub wind_ms: f32,
}

impl Node {
    /// A node at a position with a wind, for tests of what follows detection.
    #[cfg(test)]
    pub(crate) fn at(lat: f64, lon: f64, wind_ms: f32) -> Node {
        Node {
            j: 0,
            i: 0,
            lat,
            lon,
            psl_pa: 99_000.0,
            wind_ms,
        }
    }
}

/// A rectilinear latitude/longitude grid with the trigonometry detection needs.
#[derive(Debug, Clone)]
pub struct NodeGrid {
    lat: Vec<f64>,
    lon: Vec<f64>,
    sin_lat: Vec<f64>,
    cos_lat: Vec<f64>,
    sin_lon: Vec<f64>,
    cos_lon: Vec<f64>,
    periodic: bool,
}

impl NodeGrid {
    /// A grid from its centres (degrees). Latitudes and longitudes must be strictly monotonic;
    /// the grid is periodic in longitude when its spacing closes the circle
    /// (`n·Δλ ≈ 360°`).
    pub fn new(lat: &[f64], lon: &[f64]) -> Result<Self> {
        if lat.len() < 3 || lon.len() < 3 {
            return Err(Error::invalid(
                "cyclone grid",
                format!(
                    "{}×{} points: detection needs at least 3×3",
                    lat.len(),
                    lon.len()
                ),
            ));
        }
        let monotonic =
            |v: &[f64]| v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0]);
        if !monotonic(lat) || lat.iter().any(|l| !(-90.0..=90.0).contains(l)) {
            return Err(Error::invalid(
                "cyclone grid",
                "latitudes must be strictly monotonic within ±90°",
            ));
        }
        if !monotonic(lon) || lon.iter().any(|l| !l.is_finite()) {
            return Err(Error::invalid(
                "cyclone grid",
                "longitudes must be finite and strictly monotonic",
            ));
        }
        let n = lon.len() as f64;
        let dlon = (lon[lon.len() - 1] - lon[0]).abs() / (n - 1.0);
        let periodic = (n * dlon - 360.0).abs() < 1e-3 * dlon.max(1e-9);
        Ok(NodeGrid {
            sin_lat: lat.iter().map(|l| l.to_radians().sin()).collect(),
            cos_lat: lat.iter().map(|l| l.to_radians().cos()).collect(),
            sin_lon: lon.iter().map(|l| l.to_radians().sin()).collect(),
            cos_lon: lon.iter().map(|l| l.to_radians().cos()).collect(),
            lat: lat.to_vec(),
            lon: lon.to_vec(),
            periodic,
        })
    }

    /// Number of latitudes.
    pub fn ny(&self) -> usize {
        self.lat.len()
    }

    /// Number of longitudes.
    pub fn nx(&self) -> usize {
        self.lon.len()
    }

    /// Whether the longitude wraps around.
    pub fn is_periodic(&self) -> bool {
        self.periodic
    }

    /// Latitudes (degrees).
    pub fn lat(&self) -> &[f64] {
        &self.lat
    }

    /// Longitudes (degrees).
    pub fn lon(&self) -> &[f64] {
        &self.lon
    }

    /// Cosine of the great-circle angle between two points `(j, i)`.
    #[inline]
    fn cos_angle(&self, a: (usize, usize), b: (usize, usize)) -> f64 {
        // cos(λb − λa) = cos λa cos λb + sin λa sin λb
        let cdl = self.cos_lon[a.1] * self.cos_lon[b.1] + self.sin_lon[a.1] * self.sin_lon[b.1];
        self.sin_lat[a.0] * self.sin_lat[b.0] + self.cos_lat[a.0] * self.cos_lat[b.0] * cdl
    }

    /// Great-circle distance (degrees) between two grid points `(j, i)`.
    pub fn distance_deg(&self, a: (usize, usize), b: (usize, usize)) -> f64 {
        self.cos_angle(a, b).clamp(-1.0, 1.0).acos().to_degrees()
    }

    /// The neighbours of `(j, i)` into `out`; returns how many, and whether the point is on a
    /// non-periodic edge (some neighbours are missing).
    #[inline]
    fn neighbours(
        &self,
        (j, i): (usize, usize),
        diagonal: bool,
        out: &mut [(usize, usize); 8],
    ) -> (usize, bool) {
        let (ny, nx) = (self.ny() as isize, self.nx() as isize);
        let mut n = 0;
        let mut edge = false;
        for dj in -1isize..=1 {
            for di in -1isize..=1 {
                if (dj == 0 && di == 0) || (!diagonal && dj != 0 && di != 0) {
                    continue;
                }
                let jj = j as isize + dj;
                let mut ii = i as isize + di;
                if jj < 0 || jj >= ny {
                    edge = true;
                    continue;
                }
                if ii < 0 || ii >= nx {
                    if !self.periodic {
                        edge = true;
                        continue;
                    }
                    ii = ii.rem_euclid(nx);
                }
                out[n] = (jj as usize, ii as usize);
                n += 1;
            }
        }
        (n, edge && !self.at_pole(j))
    }

    /// Whether row `j` is the first or last latitude and that latitude is a pole (±90° or the
    /// row next to it on a global grid): missing neighbours there are not a domain edge.
    fn at_pole(&self, j: usize) -> bool {
        self.periodic && (j == 0 || j == self.ny() - 1) && self.lat[j].abs() > 80.0
    }
}

/// Reusable work space of the breadth-first searches (one per thread).
#[derive(Debug, Default)]
pub struct Scratch {
    stamp: Vec<u32>,
    generation: u32,
    queue: Vec<(usize, usize)>,
}

impl Scratch {
    fn begin(&mut self, n: usize) {
        if self.stamp.len() != n {
            self.stamp = vec![0; n];
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        self.queue.clear();
    }

    /// Marks a point visited; false when it already was.
    #[inline]
    fn visit(&mut self, k: usize) -> bool {
        if self.stamp[k] == self.generation {
            false
        } else {
            self.stamp[k] = self.generation;
            true
        }
    }
}

/// The fields of one time step. All `(lat, lon)` on the detection grid.
#[derive(Debug, Clone, Copy)]
pub struct StepFields<'a> {
    /// Sea-level pressure (Pa).
    pub psl_pa: ArrayView2<'a, f32>,
    /// Near-surface wind speed (m/s).
    pub wind_ms: ArrayView2<'a, f32>,
    /// Geopotential thickness Z(300 hPa) − Z(500 hPa) (m² s⁻²), for the warm-core test.
    pub thickness: Option<ArrayView2<'a, f32>>,
}

/// Detects the cyclone centres of one time step.
pub fn detect_step(
    grid: &NodeGrid,
    fields: StepFields<'_>,
    spec: &DetectSpec,
    scratch: &mut Scratch,
) -> Vec<Node> {
    let psl = fields.psl_pa;
    let (ny, nx) = (grid.ny(), grid.nx());
    let mut nb = [(0usize, 0usize); 8];

    // 1–2. local minima within the latitude band
    let mut cand: Vec<(usize, usize)> = Vec::new();
    let diag = spec.diagonal_connectivity;
    let rows = psl.as_slice().map(|s| (s, nx));
    for j in 0..ny {
        if spec.max_abs_lat_deg.is_some_and(|m| grid.lat[j].abs() > m) {
            continue;
        }
        match rows {
            // Fast path for the interior of a contiguous field: neighbours read from the three
            // rows directly. NaN neighbours do not count as lower (TE compares with `<`).
            Some((data, nx)) if j > 0 && j + 1 < ny => {
                let (up, row, down) = (
                    &data[(j - 1) * nx..j * nx],
                    &data[j * nx..(j + 1) * nx],
                    &data[(j + 1) * nx..(j + 2) * nx],
                );
                for i in 1..nx - 1 {
                    let v = row[i];
                    if v.is_nan()
                        || row[i - 1] < v
                        || row[i + 1] < v
                        || up[i] < v
                        || down[i] < v
                        || (diag
                            && (up[i - 1] < v
                                || up[i + 1] < v
                                || down[i - 1] < v
                                || down[i + 1] < v))
                    {
                        continue;
                    }
                    cand.push((j, i));
                }
                for i in [0, nx - 1] {
                    if is_local_min(grid, psl, (j, i), diag, &mut nb) {
                        cand.push((j, i));
                    }
                }
            }
            _ => {
                for i in 0..nx {
                    if is_local_min(grid, psl, (j, i), diag, &mut nb) {
                        cand.push((j, i));
                    }
                }
            }
        }
    }
    cand.sort_unstable();

    // 3. merge: drop a candidate with a deeper one within the merge distance
    let kept = merge_candidates(grid, &cand, |p| psl[[p.0, p.1]], spec.merge_dist_deg);

    // 4–5. closed contours and outputs
    let mut nodes = Vec::new();
    for p in kept {
        if !closed_contour(grid, psl, p, &spec.psl_contour, spec, scratch) {
            continue;
        }
        if let Some(th) = fields.thickness {
            if !closed_contour(grid, th, p, &spec.warm_core, spec, scratch) {
                continue;
            }
        }
        let wind = disk_extremum(
            grid,
            fields.wind_ms,
            p,
            spec.wind_radius_deg,
            false,
            spec,
            scratch,
        )
        .1;
        nodes.push(Node {
            j: p.0,
            i: p.1,
            lat: grid.lat[p.0],
            lon: grid.lon[p.1],
            psl_pa: psl[[p.0, p.1]],
            wind_ms: wind,
        });
    }
    nodes
}

/// The cosine bound of "within `deg` degrees", inclusive: a point exactly `deg` away (a grid
/// point 2° north of a centre on a 1° grid) is within, whatever the rounding of the cosine —
/// TE compares `acos` distances with `>` and counts such points in.
fn cos_within(deg: f64) -> f64 {
    (deg + 1e-7).to_radians().cos()
}

/// Whether no neighbour of `p` has a strictly lower value (NaN is never a minimum; NaN
/// neighbours are not lower).
fn is_local_min(
    grid: &NodeGrid,
    field: ArrayView2<'_, f32>,
    p: (usize, usize),
    diagonal: bool,
    nb: &mut [(usize, usize); 8],
) -> bool {
    let v = field[[p.0, p.1]];
    if v.is_nan() {
        return false;
    }
    let (n, _) = grid.neighbours(p, diagonal, nb);
    !nb[..n].iter().any(|&(a, b)| field[[a, b]] < v)
}

/// Candidates without a lower one within `dist_deg` (ties: row-major order). Sorted by
/// latitude so only a latitude window is compared.
fn merge_candidates(
    grid: &NodeGrid,
    cand: &[(usize, usize)],
    value: impl Fn((usize, usize)) -> f32,
    dist_deg: f64,
) -> Vec<(usize, usize)> {
    if dist_deg <= 0.0 {
        return cand.to_vec();
    }
    let cos_d = cos_within(dist_deg);
    let mut by_lat: Vec<(usize, usize)> = cand.to_vec();
    by_lat.sort_by(|a, b| grid.lat[a.0].total_cmp(&grid.lat[b.0]).then(a.cmp(b)));
    let lats: Vec<f64> = by_lat.iter().map(|p| grid.lat[p.0]).collect();
    let mut kept = Vec::new();
    for &p in cand {
        let (v, lat) = (value(p), grid.lat[p.0]);
        let lo = lats.partition_point(|&l| l < lat - dist_deg);
        let hi = lats.partition_point(|&l| l <= lat + dist_deg);
        let deeper = by_lat[lo..hi].iter().any(|&q| {
            if q == p {
                return false;
            }
            let w = value(q);
            (w < v || (w == v && q < p)) && grid.cos_angle(p, q) >= cos_d
        });
        if !deeper {
            kept.push(p);
        }
    }
    kept
}

/// The minimum (`minimum = true`) or maximum of a field over the points within `radius_deg`
/// of `p` that are connected to it, and where it is. NaN values are skipped; NaN when all are.
fn disk_extremum(
    grid: &NodeGrid,
    field: ArrayView2<'_, f32>,
    p: (usize, usize),
    radius_deg: f64,
    minimum: bool,
    spec: &DetectSpec,
    s: &mut Scratch,
) -> ((usize, usize), f32) {
    let nx = grid.nx();
    let cos_r = cos_within(radius_deg);
    s.begin(grid.ny() * nx);
    s.visit(p.0 * nx + p.1);
    s.queue.push(p);
    let mut best = (p, f32::NAN);
    let mut head = 0;
    let mut nb = [(0usize, 0usize); 8];
    while head < s.queue.len() {
        let q = s.queue[head];
        head += 1;
        let v = field[[q.0, q.1]];
        if !v.is_nan() && (best.1.is_nan() || (minimum && v < best.1) || (!minimum && v > best.1)) {
            best = (q, v);
        }
        let (n, _) = grid.neighbours(q, spec.diagonal_connectivity, &mut nb);
        for &r in &nb[..n] {
            if grid.cos_angle(p, r) >= cos_r && s.visit(r.0 * nx + r.1) {
                s.queue.push(r);
            }
        }
    }
    best
}

/// TE's closed-contour test around candidate `p` (module doc, step 4).
fn closed_contour(
    grid: &NodeGrid,
    field: ArrayView2<'_, f32>,
    p: (usize, usize),
    cc: &ClosedContour,
    spec: &DetectSpec,
    s: &mut Scratch,
) -> bool {
    let origin = if cc.minmax_dist_deg > 0.0 {
        disk_extremum(grid, field, p, cc.minmax_dist_deg, cc.delta > 0.0, spec, s).0
    } else {
        p
    };
    let reference = field[[origin.0, origin.1]];
    if reference.is_nan() {
        return false;
    }
    let (reference, delta) = (reference as f64, cc.delta);
    let cos_d = cos_within(cc.dist_deg);
    let nx = grid.nx();
    s.begin(grid.ny() * nx);
    s.visit(origin.0 * nx + origin.1);
    s.queue.push(origin);
    let mut head = 0;
    let mut nb = [(0usize, 0usize); 8];
    while head < s.queue.len() {
        let q = s.queue[head];
        head += 1;
        if grid.cos_angle(origin, q) < cos_d {
            return false;
        }
        let v = field[[q.0, q.1]] as f64;
        let reached = if delta > 0.0 {
            v - reference >= delta
        } else {
            reference - v >= -delta
        };
        if reached {
            continue;
        }
        let (n, edge) = grid.neighbours(q, spec.diagonal_connectivity, &mut nb);
        if edge {
            return false;
        }
        for &r in &nb[..n] {
            if s.visit(r.0 * nx + r.1) {
                s.queue.push(r);
            }
        }
    }
    true
}

/// Detects the centres of every time step of a `(time, lat, lon)` series, in parallel over
/// time steps. `thickness` (Z300 − Z500, m² s⁻²) switches the warm-core test on.
pub fn detect_series(
    grid: &NodeGrid,
    psl_pa: ArrayView3<'_, f32>,
    wind_ms: ArrayView3<'_, f32>,
    thickness: Option<ArrayView3<'_, f32>>,
    spec: &DetectSpec,
) -> Result<Vec<Vec<Node>>> {
    spec.validate()?;
    let want = (psl_pa.len_of(Axis(0)), grid.ny(), grid.nx());
    for (name, dim) in [
        ("sea-level pressure", Some(psl_pa.dim())),
        ("wind speed", Some(wind_ms.dim())),
        ("thickness", thickness.map(|t| t.dim())),
    ] {
        if let Some(d) = dim {
            if d != want {
                return Err(Error::mismatch(
                    "cyclone fields",
                    format!("{name} has shape {d:?}, expected (time, lat, lon) = {want:?}"),
                ));
            }
        }
    }
    Ok((0..want.0)
        .into_par_iter()
        .map_init(Scratch::default, |s, t| {
            let fields = StepFields {
                psl_pa: psl_pa.index_axis(Axis(0), t),
                wind_ms: wind_ms.index_axis(Axis(0), t),
                thickness: thickness.as_ref().map(|th| th.index_axis(Axis(0), t)),
            };
            detect_step(grid, fields, spec, s)
        })
        .collect())
}

/// Wind speed `√(u² + v²)` from its eastward and northward components (NaN where either is;
/// no overflow guard: winds are far from f32's range).
pub fn wind_speed(u: ArrayView3<'_, f32>, v: ArrayView3<'_, f32>) -> Result<ndarray::Array3<f32>> {
    if u.dim() != v.dim() {
        return Err(Error::mismatch(
            "wind components",
            format!(
                "eastward {:?} and northward {:?} differ in shape",
                u.dim(),
                v.dim()
            ),
        ));
    }
    let mut out = ndarray::Array3::<f32>::zeros(u.dim());
    ndarray::Zip::from(&mut out)
        .and(&u)
        .and(&v)
        .par_for_each(|o, &a, &b| *o = (a * a + b * b).sqrt());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn grid(lat0: f64, lat1: f64, lon0: f64, lon1: f64, d: f64) -> NodeGrid {
        let ny = ((lat1 - lat0) / d).round() as usize + 1;
        let nx = ((lon1 - lon0) / d).round() as usize + 1;
        let lat: Vec<f64> = (0..ny).map(|j| lat0 + d * j as f64).collect();
        let lon: Vec<f64> = (0..nx).map(|i| lon0 + d * i as f64).collect();
        NodeGrid::new(&lat, &lon).unwrap()
    }

    /// A Gaussian low of depth `depth` Pa and e-folding radius `r_deg` at (lat0, lon0).
    fn low(g: &NodeGrid, lat0: f64, lon0: f64, depth: f64, r_deg: f64) -> Array2<f32> {
        Array2::from_shape_fn((g.ny(), g.nx()), |(j, i)| {
            let d = crate::grid::great_circle(lat0, lon0, g.lat[j], g.lon[i]).to_degrees();
            (101_000.0 - depth * (-(d / r_deg).powi(2)).exp()) as f32
        })
    }

    /// The centres of a pressure field without wind or thickness, default criteria.
    fn centres(g: &NodeGrid, psl: &Array2<f32>) -> Vec<Node> {
        let wind = Array2::<f32>::zeros(psl.dim());
        let f = StepFields {
            psl_pa: psl.view(),
            wind_ms: wind.view(),
            thickness: None,
        };
        detect_step(g, f, &DetectSpec::default(), &mut Scratch::default())
    }

    #[test]
    fn finds_a_closed_low_and_its_wind() {
        let g = grid(0.0, 30.0, 80.0, 120.0, 1.0);
        let psl = low(&g, 15.0, 100.0, 1500.0, 3.0);
        let mut wind = Array2::<f32>::from_elem(psl.dim(), 5.0);
        wind[[16, 21]] = 30.0; // 1.4° away: inside the 2° radius
        wind[[15, 23]] = 50.0; // 3° away: outside
        let spec = DetectSpec::default();
        let f = StepFields {
            psl_pa: psl.view(),
            wind_ms: wind.view(),
            thickness: None,
        };
        let nodes = detect_step(&g, f, &spec, &mut Scratch::default());
        assert_eq!(nodes.len(), 1, "{nodes:?}");
        let n = nodes[0];
        assert_eq!((n.lat, n.lon), (15.0, 100.0));
        assert_eq!(n.psl_pa, 99_500.0);
        assert_eq!(n.wind_ms, 30.0);
    }

    #[test]
    fn shallow_or_broad_lows_are_not_closed() {
        let g = grid(0.0, 30.0, 80.0, 120.0, 1.0);
        let wind = Array2::<f32>::zeros((g.ny(), g.nx()));
        let spec = DetectSpec::default();
        // 150 Pa deep: never rises by 200 Pa.
        let shallow = low(&g, 15.0, 100.0, 150.0, 3.0);
        // Hand check of the broad case: depth 400 Pa, e-folding 8°; at 5.5° the rise is
        // 400 (1 − e^{−0.47}) = 150 Pa < 200 Pa, so the contour is open.
        let broad = low(&g, 15.0, 100.0, 400.0, 8.0);
        for psl in [shallow, broad] {
            let f = StepFields {
                psl_pa: psl.view(),
                wind_ms: wind.view(),
                thickness: None,
            };
            assert!(detect_step(&g, f, &spec, &mut Scratch::default()).is_empty());
        }
    }

    #[test]
    fn merge_keeps_the_deeper_of_two_close_lows() {
        let g = grid(0.0, 40.0, 70.0, 130.0, 1.0);
        let a = low(&g, 15.0, 95.0, 1500.0, 1.5);
        let b = low(&g, 15.0, 99.0, 1800.0, 1.5); // 4° away, deeper
        let c = low(&g, 15.0, 115.0, 1200.0, 1.5); // 20° away: separate storm
        let psl = Array2::from_shape_fn(a.dim(), |ix| a[ix] + b[ix] + c[ix] - 2.0 * 101_000.0);
        let nodes = centres(&g, &psl);
        let pos: Vec<(f64, f64)> = nodes.iter().map(|n| (n.lat, n.lon)).collect();
        assert_eq!(pos, vec![(15.0, 99.0), (15.0, 115.0)]);
    }

    #[test]
    fn low_across_the_dateline_on_a_global_grid() {
        let g = grid(-60.0, 60.0, 0.0, 359.0, 1.0);
        assert!(g.is_periodic());
        let psl = low(&g, -15.0, 0.0, 1500.0, 2.5);
        let nodes = centres(&g, &psl);
        assert_eq!(nodes.len(), 1);
        assert_eq!((nodes[0].lat, nodes[0].lon), (-15.0, 0.0));
    }

    #[test]
    fn a_low_cut_by_a_regional_edge_is_rejected() {
        let g = grid(0.0, 30.0, 80.0, 120.0, 1.0);
        let psl = low(&g, 15.0, 81.0, 1500.0, 3.0); // 1° from the west edge
        assert!(centres(&g, &psl).is_empty());
    }

    #[test]
    fn warm_core_test_needs_a_thickness_maximum() {
        let g = grid(0.0, 30.0, 80.0, 120.0, 1.0);
        let psl = low(&g, 15.0, 100.0, 1500.0, 3.0);
        let wind = Array2::<f32>::zeros(psl.dim());
        let spec = DetectSpec::default();
        // A warm core: thickness 100 m² s⁻² higher at the centre (falls by > 58.8 within 6.5°).
        let warm = low(&g, 15.0, 100.0, -100.0, 3.0);
        // A cold core: thickness lower at the centre.
        let cold = low(&g, 15.0, 100.0, 100.0, 3.0);
        let count = |th: &Array2<f32>| {
            let f = StepFields {
                psl_pa: psl.view(),
                wind_ms: wind.view(),
                thickness: Some(th.view()),
            };
            detect_step(&g, f, &spec, &mut Scratch::default()).len()
        };
        assert_eq!(count(&warm), 1);
        assert_eq!(count(&cold), 0);
    }

    #[test]
    fn nan_pressure_is_never_a_centre_and_shapes_are_checked() {
        let g = grid(0.0, 10.0, 80.0, 90.0, 1.0);
        let psl = ndarray::Array3::<f32>::from_elem((2, g.ny(), g.nx()), f32::NAN);
        let wind = ndarray::Array3::<f32>::zeros((2, g.ny(), g.nx()));
        let out = detect_series(&g, psl.view(), wind.view(), None, &DetectSpec::default());
        assert!(out.unwrap().iter().all(|s| s.is_empty()));
        let bad = ndarray::Array3::<f32>::zeros((2, g.ny(), g.nx() - 1));
        let err = detect_series(&g, psl.view(), bad.view(), None, &DetectSpec::default());
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("wind speed has shape"));
    }

    #[test]
    fn distances_are_great_circle() {
        let g = grid(0.0, 60.0, 0.0, 10.0, 1.0);
        // 10° of longitude at 60°N: cos d = sin²60 + cos²60 cos 10 → d = 4.9952°
        let d = g.distance_deg((60, 0), (60, 10));
        let want = (0.75f64 + 0.25 * 10f64.to_radians().cos())
            .acos()
            .to_degrees();
        assert!((d - want).abs() < 1e-9 && (d - 4.9952).abs() < 1e-4, "{d}");
    }
}
