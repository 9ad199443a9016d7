//! Candidate detection on one time step (DetectNodes-like).
//!
//! # Algorithm (TempestExtremes `DetectNodes`, Ullrich & Zarzycki 2017; Ullrich et al. 2021)
//! 1. **Candidates**: grid points where no neighbour has a strictly lower sea-level pressure
//!    (4 neighbours by default, 8 with [`DetectSpec::diagonal_connectivity`], as TE's
//!    `--diag_connect`); the longitude wraps when the grid is periodic. Missing (NaN) pressure is
//!    never a candidate.
//! 2. **Location**: candidates outside the latitude band ([`DetectSpec::min_lat_deg`] …
//!    [`DetectSpec::max_lat_deg`], TE's `--minlat/--maxlat`; poleward of
//!    [`DetectSpec::max_abs_lat_deg`]; equatorward of [`DetectSpec::min_abs_lat_deg`], TE's
//!    `--minabslat`) are dropped.
//! 3. **Merge**: a candidate is dropped when another candidate within
//!    [`DetectSpec::merge_dist_deg`] (great-circle degrees) has *strictly* lower pressure —
//!    whether or not that other candidate survives, which is what TE does. Two candidates of
//!    exactly equal pressure both stay (TE's default); with [`DetectSpec::merge_equal`] (TE's
//!    `--mergeequal`) a candidate is also dropped when an equal one already kept lies within
//!    the distance, candidates being visited in the file's grid order. Then the
//!    **vorticity** test (optional, when a relative-vorticity field is given): the largest
//!    *hemisphere-signed* relative vorticity `ζ · sign(φ)` (cyclonic > 0 in both hemispheres,
//!    0 on the equator) within [`VorticityThreshold::radius_deg`] must reach
//!    [`VorticityThreshold::min_cyclonic_s`] — TE's
//!    `--thresholdcmd "_PROD(vo,_SIGN(_LAT())),>=,value,radius"`. It rejects the heat lows and
//!    shallow troughs that pass the pressure test without a vortex above them.
//! 4. **Closed contours**: from a pivot (the candidate itself, or the minimum / maximum of the
//!    field within `minmax_dist_deg` of it), a breadth-first search over grid neighbours visits
//!    every point whose value has not yet changed by `delta` from the pivot's; the contour is
//!    closed when no visited point lies farther than `dist_deg` from the pivot. PSL must rise by
//!    200 Pa within 5.5° ([`ClosedContour::PSL`]); the optional warm core — the geopotential
//!    thickness Z(300 hPa) − Z(500 hPa) must *fall* by 58.8 m² s⁻² within 6.5° of its maximum
//!    within 1° ([`ClosedContour::WARM_CORE`]). On a regional (non-periodic) grid a search that
//!    reaches the domain edge fails: the contour cannot be shown to close.
//! 5. **Outputs** per surviving candidate: PSL at the candidate (TE `PSL,min,0`), the largest
//!    wind speed within [`DetectSpec::wind_radius_deg`] (TE `_VECMAG(UBOT,VBOT),max,2`) when a
//!    wind is given, and the largest signed vorticity of step 3 (TE
//!    `_PROD(vo,_SIGN(_LAT())),max,radius`) when a vorticity is given. Pressure alone is enough
//!    to detect: wind is not a detection criterion, only an output (and a path filter of
//!    tracking).
//!
//! Candidates are visited and written in the file's grid order (row-major over the file's
//! latitude and longitude order, [`NodeGrid::with_file_order`]), as TE writes them.
//!
//! Distances are great-circle angles on the sphere,
//! `d = acos(sin φ₁ sin φ₂ + cos φ₁ cos φ₂ cos(λ₂ − λ₁))`, and a point is within a distance
//! unless `d` *exceeds* it. A grid point exactly one distance away (2.5° north of a centre on a
//! 2.5° grid) is then in or out by the last bit of `d`: TE's answer depends on how it rounds,
//! so the search radius (`Radius`) decides such points with TE's own arithmetic — `180/π · acos` for closed
//! contours and thresholds, `acos · 180/π` for the minimum/maximum searches, the squared chord
//! of unit vectors for the merge (TE's k-d tree) — and everything else through the cosine, so
//! the inner loops need no `acos`.

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

/// The vorticity criterion (TE `--thresholdcmd "_PROD(vo,_SIGN(_LAT())),>=,value,radius"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VorticityThreshold {
    /// Smallest largest-cyclonic relative vorticity (s⁻¹) within the radius.
    pub min_cyclonic_s: f64,
    /// Search radius (great-circle degrees).
    pub radius_deg: f64,
}

impl VorticityThreshold {
    /// The default when a vorticity field is given: 850 hPa relative vorticity of at least
    /// 5 × 10⁻⁵ s⁻¹ (cyclonic) within 2.5°. Hodges-type TC criteria on ERA5 use 5 × 10⁻⁵ s⁻¹
    /// at 850 hPa on T63-smoothed fields (Bengtsson, Hodges & Esch 2007; Hodges, Cobb & Vidale
    /// 2017) — the scale of a 2.5° grid; one grid length of 2.5° around the centre finds the
    /// vortex even when it sits between pressure and vorticity grid points.
    pub const DEFAULT: VorticityThreshold = VorticityThreshold {
        min_cyclonic_s: 5.0e-5,
        radius_deg: 2.5,
    };
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
    /// The vorticity criterion, applied when a vorticity field is given.
    pub vorticity: VorticityThreshold,
    /// Candidates south of this latitude are dropped (TE `--minlat`; `None`: no bound).
    pub min_lat_deg: Option<f64>,
    /// Candidates north of this latitude are dropped (TE `--maxlat`; `None`: no bound).
    pub max_lat_deg: Option<f64>,
    /// Candidates poleward of this latitude are dropped (`None`: anywhere).
    pub max_abs_lat_deg: Option<f64>,
    /// Candidates equatorward of this latitude are dropped (TE `--minabslat`; `None`: none).
    pub min_abs_lat_deg: Option<f64>,
    /// Merge candidates of exactly equal pressure too (TE `--mergeequal`): the first kept in
    /// the file's grid order wins. Off by default, as in TE: equal twins both stay.
    pub merge_equal: bool,
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
            vorticity: VorticityThreshold::DEFAULT,
            min_lat_deg: None,
            max_lat_deg: None,
            max_abs_lat_deg: None,
            min_abs_lat_deg: None,
            merge_equal: false,
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
            ("vorticity search radius", self.vorticity.radius_deg),
        ] {
            if !(0.0..180.0).contains(&v) {
                return Err(Error::invalid(what, format!("{v}° must be in [0, 180)")));
            }
        }
        if !self.vorticity.min_cyclonic_s.is_finite() {
            return Err(Error::invalid(
                "vorticity threshold",
                format!("{} s-1 must be finite", self.vorticity.min_cyclonic_s),
            ));
        }
        for (what, l, range) in [
            ("maximum |latitude|", self.max_abs_lat_deg, 0.0..=90.0),
            ("minimum |latitude|", self.min_abs_lat_deg, 0.0..=90.0),
            ("minimum latitude", self.min_lat_deg, -90.0..=90.0),
            ("maximum latitude", self.max_lat_deg, -90.0..=90.0),
        ] {
            if let Some(l) = l {
                if !range.contains(&l) {
                    return Err(Error::invalid(
                        what,
                        format!("{l}° must be in [{}, {}]", range.start(), range.end()),
                    ));
                }
            }
        }
        if let (Some(a), Some(b)) = (self.min_lat_deg, self.max_lat_deg) {
            if a > b {
                return Err(Error::invalid(
                    "latitude band",
                    format!("the minimum latitude {a}° is north of the maximum {b}°"),
                ));
            }
        }
        Ok(())
    }

    /// Whether a candidate at latitude `lat` lies in the band of step 2.
    pub fn in_latitude_band(&self, lat: f64) -> bool {
        self.min_lat_deg.map_or(true, |m| lat >= m)
            && self.max_lat_deg.map_or(true, |m| lat <= m)
            && self.max_abs_lat_deg.map_or(true, |m| lat.abs() <= m)
            && self.min_abs_lat_deg.map_or(true, |m| lat.abs() >= m)
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
    /// Largest wind speed within the wind search radius (m/s); NaN without a wind field.
    pub wind_ms: f32,
    /// Largest hemisphere-signed relative vorticity within the vorticity radius (s⁻¹,
    /// cyclonic > 0); NaN without a vorticity field.
    #[serde(default = "nan_f32")]
    pub vorticity_s: f32,
}

fn nan_f32() -> f32 {
    f32::NAN
}

impl Node {
    /// A node read from a track file: a position with its pressure (Pa) and wind (m/s), NaN
    /// where missing; no grid indices, no vorticity.
    pub fn from_track(lat: f64, lon: f64, psl_pa: f32, wind_ms: f32) -> Node {
        Node {
            j: 0,
            i: 0,
            lat,
            lon,
            psl_pa,
            wind_ms,
            vorticity_s: f32::NAN,
        }
    }

    /// A node at a position with a wind, for tests of what follows detection.
    #[cfg(test)]
    pub(crate) fn at(lat: f64, lon: f64, wind_ms: f32) -> Node {
        Node::from_track(lat, lon, 99_000.0, wind_ms)
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
    /// Row and column of each grid latitude and longitude in the file (identity unless set by
    /// [`NodeGrid::with_file_order`]).
    file_rows: Vec<usize>,
    file_cols: Vec<usize>,
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
            file_rows: (0..lat.len()).collect(),
            file_cols: (0..lon.len()).collect(),
        })
    }

    /// The same grid, with the file's row of each latitude and column of each longitude (the
    /// reader may reorder both): candidates are visited, merged and written in the file's
    /// row-major order, as TE does. Each must be a permutation of the grid's indices.
    pub fn with_file_order(mut self, rows: Vec<usize>, cols: Vec<usize>) -> Result<Self> {
        let permutation = |v: &[usize], n: usize| {
            let mut seen = vec![false; n];
            v.len() == n
                && v.iter()
                    .all(|&k| k < n && !std::mem::replace(&mut seen[k], true))
        };
        if !permutation(&rows, self.ny()) || !permutation(&cols, self.nx()) {
            return Err(Error::invalid(
                "cyclone grid",
                "the file order of the rows or columns is not a permutation of the grid's",
            ));
        }
        self.file_rows = rows;
        self.file_cols = cols;
        Ok(self)
    }

    /// The file's row and column of grid point `(j, i)`.
    pub fn file_index(&self, (j, i): (usize, usize)) -> (usize, usize) {
        (self.file_rows[j], self.file_cols[i])
    }

    /// Position of grid point `p` in the file's row-major order.
    fn file_rank(&self, p: (usize, usize)) -> usize {
        let (r, c) = self.file_index(p);
        r * self.nx() + c
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

    /// Whether `b` lies within `r` of `a`.
    #[inline]
    fn within(&self, a: (usize, usize), b: (usize, usize), r: &Radius) -> bool {
        let c = self.cos_angle(a, b);
        if c > r.cos_surely_in {
            return true;
        }
        if c < r.cos_surely_out {
            return false;
        }
        // within 1e-6° of the boundary: TE's arithmetic decides
        use std::f64::consts::PI;
        let (pa, pb) = (
            (self.lat[a.0].to_radians(), self.lon[a.1].to_radians()),
            (self.lat[b.0].to_radians(), self.lon[b.1].to_radians()),
        );
        match r.rounding {
            Rounding::Contour | Rounding::MinMax => {
                let x = pa.0.sin() * pb.0.sin() + pa.0.cos() * pb.0.cos() * (pb.1 - pa.1).cos();
                let d = if x >= 1.0 {
                    0.0
                } else if x <= -1.0 {
                    180.0
                } else if r.rounding == Rounding::Contour {
                    180.0 / PI * x.acos()
                } else {
                    x.acos() * 180.0 / PI
                };
                d <= r.deg
            }
            Rounding::Chord => {
                let xyz = |(lat, lon): (f64, f64)| {
                    [lon.cos() * lat.cos(), lon.sin() * lat.cos(), lat.sin()]
                };
                let (u, v) = (xyz(pa), xyz(pb));
                let mut dist_sq = 0.0;
                for k in 0..3 {
                    dist_sq += (v[k] - u[k]) * (v[k] - u[k]);
                }
                let chord = 2.0 * (0.5 * r.deg / 180.0 * PI).sin();
                dist_sq <= chord * chord
            }
        }
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
    /// Near-surface wind speed (m/s), for the wind output.
    pub wind_ms: Option<ArrayView2<'a, f32>>,
    /// Geopotential thickness Z(300 hPa) − Z(500 hPa) (m² s⁻²), for the warm-core test.
    pub thickness: Option<ArrayView2<'a, f32>>,
    /// Relative vorticity (s⁻¹, positive anticlockwise as in the files), for the vorticity
    /// criterion.
    pub vorticity_s: Option<ArrayView2<'a, f32>>,
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
        if !spec.in_latitude_band(grid.lat[j]) {
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
    cand.sort_unstable_by_key(|&p| grid.file_rank(p));

    // 3. merge: drop a candidate with a deeper one within the merge distance
    let kept = merge_candidates(
        grid,
        &cand,
        |p| psl[[p.0, p.1]],
        spec.merge_dist_deg,
        spec.merge_equal,
    );

    // 3b. the hemisphere-signed vorticity, as TE's _PROD(vo,_SIGN(_LAT())) in f32
    let signed_vorticity = fields.vorticity_s.map(|vo| {
        let mut out = vo.to_owned();
        for (j, mut row) in out.outer_iter_mut().enumerate() {
            let sign = match grid.lat[j] {
                l if l > 0.0 => 1.0f32,
                l if l < 0.0 => -1.0,
                _ => 0.0,
            };
            row.mapv_inplace(|v| v * sign);
        }
        out
    });

    // 4–5. closed contours and outputs
    let mut nodes = Vec::new();
    for p in kept {
        let vorticity = match &signed_vorticity {
            Some(vo) => {
                // TE's threshold: some point within the radius reaches the value (NaN fails)
                let r = Radius::new(spec.vorticity.radius_deg, Rounding::Contour);
                let reached = disk_extremum(grid, vo.view(), p, r, false, spec, scratch).1;
                let enough = reached as f64 >= spec.vorticity.min_cyclonic_s;
                if !enough {
                    continue;
                }
                // TE's output: the largest value within the radius
                let r = Radius::new(spec.vorticity.radius_deg, Rounding::MinMax);
                disk_extremum(grid, vo.view(), p, r, false, spec, scratch).1
            }
            None => f32::NAN,
        };
        if !closed_contour(grid, psl, p, &spec.psl_contour, spec, scratch) {
            continue;
        }
        if let Some(th) = fields.thickness {
            if !closed_contour(grid, th, p, &spec.warm_core, spec, scratch) {
                continue;
            }
        }
        let wind = match fields.wind_ms {
            Some(w) => {
                let r = Radius::new(spec.wind_radius_deg, Rounding::MinMax);
                disk_extremum(grid, w, p, r, false, spec, scratch).1
            }
            None => f32::NAN,
        };
        nodes.push(Node {
            j: p.0,
            i: p.1,
            lat: grid.lat[p.0],
            lon: grid.lon[p.1],
            psl_pa: psl[[p.0, p.1]],
            wind_ms: wind,
            vorticity_s: vorticity,
        });
    }
    nodes
}

/// How TE rounds a distance it compares (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    /// `180/π · acos(x)`: closed contours and thresholds.
    Contour,
    /// `acos(x) · 180/π`: the minimum or maximum within a distance.
    MinMax,
    /// The squared chord between unit vectors against `(2 sin(d/2))²`: the merge.
    Chord,
}

/// "Within `deg` degrees" as TE decides it.
#[derive(Debug, Clone, Copy)]
struct Radius {
    deg: f64,
    rounding: Rounding,
    /// Cosines of `deg ∓ 1e-6°`: points beyond them are decided without TE's arithmetic.
    cos_surely_in: f64,
    cos_surely_out: f64,
}

impl Radius {
    fn new(deg: f64, rounding: Rounding) -> Self {
        Radius {
            deg,
            rounding,
            cos_surely_in: (deg - 1e-6).max(0.0).to_radians().cos(),
            cos_surely_out: (deg + 1e-6).min(180.0).to_radians().cos(),
        }
    }
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

/// Candidates (given in the file's grid order) without a strictly lower one within
/// `dist_deg`; with `merge_equal`, also without an equal one kept before them (TE's
/// `--mergeequal`). Sorted by latitude so only a latitude window is compared.
fn merge_candidates(
    grid: &NodeGrid,
    cand: &[(usize, usize)],
    value: impl Fn((usize, usize)) -> f32,
    dist_deg: f64,
    merge_equal: bool,
) -> Vec<(usize, usize)> {
    if dist_deg <= 0.0 {
        return cand.to_vec();
    }
    let radius = Radius::new(dist_deg, Rounding::Chord);
    let mut by_lat: Vec<(usize, usize)> = cand.to_vec();
    by_lat.sort_by(|a, b| grid.lat[a.0].total_cmp(&grid.lat[b.0]).then(a.cmp(b)));
    let lats: Vec<f64> = by_lat.iter().map(|p| grid.lat[p.0]).collect();
    let mut kept = Vec::new();
    let mut kept_set = std::collections::HashSet::new();
    for &p in cand {
        let (v, lat) = (value(p), grid.lat[p.0]);
        let lo = lats.partition_point(|&l| l < lat - dist_deg);
        let hi = lats.partition_point(|&l| l <= lat + dist_deg);
        let merged = by_lat[lo..hi].iter().any(|&q| {
            if q == p {
                return false;
            }
            let w = value(q);
            (w < v || (merge_equal && w == v && kept_set.contains(&q)))
                && grid.within(p, q, &radius)
        });
        if !merged {
            kept.push(p);
            kept_set.insert(p);
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
    radius: Radius,
    minimum: bool,
    spec: &DetectSpec,
    s: &mut Scratch,
) -> ((usize, usize), f32) {
    let nx = grid.nx();
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
            if grid.within(p, r, &radius) && s.visit(r.0 * nx + r.1) {
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
        let r = Radius::new(cc.minmax_dist_deg, Rounding::MinMax);
        disk_extremum(grid, field, p, r, cc.delta > 0.0, spec, s).0
    } else {
        p
    };
    let reference = field[[origin.0, origin.1]];
    if reference.is_nan() {
        return false;
    }
    let (reference, delta) = (reference as f64, cc.delta);
    let radius = Radius::new(cc.dist_deg, Rounding::Contour);
    let nx = grid.nx();
    s.begin(grid.ny() * nx);
    s.visit(origin.0 * nx + origin.1);
    s.queue.push(origin);
    let mut head = 0;
    let mut nb = [(0usize, 0usize); 8];
    while head < s.queue.len() {
        let q = s.queue[head];
        head += 1;
        if !grid.within(origin, q, &radius) {
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

/// The `(time, lat, lon)` fields of a series: pressure, and each optional field.
#[derive(Debug, Clone, Copy)]
pub struct SeriesFields<'a> {
    /// Sea-level pressure (Pa).
    pub psl_pa: ArrayView3<'a, f32>,
    /// Near-surface wind speed (m/s).
    pub wind_ms: Option<ArrayView3<'a, f32>>,
    /// Z300 − Z500 thickness (m² s⁻²): switches the warm-core test on.
    pub thickness: Option<ArrayView3<'a, f32>>,
    /// Relative vorticity (s⁻¹): switches the vorticity criterion on.
    pub vorticity_s: Option<ArrayView3<'a, f32>>,
}

impl<'a> SeriesFields<'a> {
    /// Pressure only.
    pub fn pressure(psl_pa: ArrayView3<'a, f32>) -> Self {
        SeriesFields {
            psl_pa,
            wind_ms: None,
            thickness: None,
            vorticity_s: None,
        }
    }

    fn step(&self, t: usize) -> StepFields<'_> {
        fn at<'b>(f: &'b Option<ArrayView3<'_, f32>>, t: usize) -> Option<ArrayView2<'b, f32>> {
            f.as_ref().map(|a| a.index_axis(Axis(0), t))
        }
        let at = |f| at(f, t);
        StepFields {
            psl_pa: self.psl_pa.index_axis(Axis(0), t),
            wind_ms: at(&self.wind_ms),
            thickness: at(&self.thickness),
            vorticity_s: at(&self.vorticity_s),
        }
    }
}

/// Detects the centres of every time step of a `(time, lat, lon)` series, in parallel over
/// time steps.
pub fn detect_series(
    grid: &NodeGrid,
    fields: SeriesFields<'_>,
    spec: &DetectSpec,
) -> Result<Vec<Vec<Node>>> {
    spec.validate()?;
    let want = (fields.psl_pa.len_of(Axis(0)), grid.ny(), grid.nx());
    for (name, dim) in [
        ("sea-level pressure", Some(fields.psl_pa.dim())),
        ("wind speed", fields.wind_ms.map(|w| w.dim())),
        ("thickness", fields.thickness.map(|t| t.dim())),
        ("vorticity", fields.vorticity_s.map(|v| v.dim())),
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
            detect_step(grid, fields.step(t), spec, s)
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
        centres_with(g, psl, None, &DetectSpec::default())
    }

    /// The centres of a pressure field with an optional vorticity field.
    fn centres_with(
        g: &NodeGrid,
        psl: &Array2<f32>,
        vo: Option<&Array2<f32>>,
        spec: &DetectSpec,
    ) -> Vec<Node> {
        let f = StepFields {
            psl_pa: psl.view(),
            wind_ms: None,
            thickness: None,
            vorticity_s: vo.map(|v| v.view()),
        };
        detect_step(g, f, spec, &mut Scratch::default())
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
            wind_ms: Some(wind.view()),
            thickness: None,
            vorticity_s: None,
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
                wind_ms: Some(wind.view()),
                thickness: None,
                vorticity_s: None,
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
                wind_ms: Some(wind.view()),
                thickness: Some(th.view()),
                vorticity_s: None,
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
        let mut f = SeriesFields::pressure(psl.view());
        f.wind_ms = Some(wind.view());
        let out = detect_series(&g, f, &DetectSpec::default());
        assert!(out.unwrap().iter().all(|s| s.is_empty()));
        let bad = ndarray::Array3::<f32>::zeros((2, g.ny(), g.nx() - 1));
        f.wind_ms = Some(bad.view());
        let err = detect_series(&g, f, &DetectSpec::default());
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("wind speed has shape"));
    }

    #[test]
    fn pressure_alone_detects_and_outputs_no_wind() {
        let g = grid(0.0, 30.0, 80.0, 120.0, 1.0);
        let psl = low(&g, 15.0, 100.0, 1500.0, 3.0);
        let nodes = centres(&g, &psl);
        assert_eq!(nodes.len(), 1);
        assert!(nodes[0].wind_ms.is_nan() && nodes[0].vorticity_s.is_nan());
    }

    /// Two lows of exactly equal depth 4° apart (inside the 6° merge distance): TE keeps both
    /// by default; with `--mergeequal` only the first in the file's order (the southern one
    /// here: rows run south to north).
    #[test]
    fn equal_twins_are_both_kept_unless_merge_equal() {
        let g = grid(0.0, 40.0, 70.0, 130.0, 1.0);
        let a = low(&g, 15.0, 98.0, 1500.0, 1.0);
        let b = low(&g, 19.0, 98.0, 1500.0, 1.0);
        let psl = Array2::from_shape_fn(a.dim(), |ix| a[ix].min(b[ix]));
        assert_eq!(psl[[15, 28]], psl[[19, 28]]);
        let both: Vec<f64> = centres(&g, &psl).iter().map(|n| n.lat).collect();
        assert_eq!(both, vec![15.0, 19.0]);
        let spec = DetectSpec {
            merge_equal: true,
            ..DetectSpec::default()
        };
        let one: Vec<f64> = centres_with(&g, &psl, None, &spec)
            .iter()
            .map(|n| n.lat)
            .collect();
        assert_eq!(one, vec![15.0]);
        // in a file whose rows run north to south, the northern twin comes first and wins
        let rows: Vec<usize> = (0..g.ny()).rev().collect();
        let cols: Vec<usize> = (0..g.nx()).collect();
        let flipped = g.clone().with_file_order(rows, cols).unwrap();
        let one: Vec<f64> = centres_with(&flipped, &psl, None, &spec)
            .iter()
            .map(|n| n.lat)
            .collect();
        assert_eq!(one, vec![19.0]);
    }

    /// Hand-built vorticity: a cyclonic vortex is positive in the north and negative in the
    /// south; the criterion takes ζ·sign(φ) at each point within 2.5°.
    #[test]
    fn vorticity_criterion_is_hemisphere_signed() {
        let g = grid(-30.0, 30.0, 80.0, 120.0, 1.0);
        let spec = DetectSpec::default();
        for lat0 in [15.0, -15.0] {
            let psl = low(&g, lat0, 100.0, 1500.0, 3.0);
            let j = (lat0 + 30.0) as usize;
            let sign = if lat0 > 0.0 { 1.0f32 } else { -1.0 };
            // 2° from the centre: within 2.5°
            let mut vo = Array2::<f32>::zeros(psl.dim());
            vo[[j + 2, 20]] = sign * 6.0e-5;
            let n = centres_with(&g, &psl, Some(&vo), &spec);
            assert_eq!(n.len(), 1, "lat {lat0}");
            assert_eq!(n[0].vorticity_s, 6.0e-5);
            // anticyclonic sign: rejected
            vo[[j + 2, 20]] = -sign * 6.0e-5;
            assert!(centres_with(&g, &psl, Some(&vo), &spec).is_empty());
            // cyclonic but weaker than 5e-5: rejected
            vo[[j + 2, 20]] = sign * 4.9e-5;
            assert!(centres_with(&g, &psl, Some(&vo), &spec).is_empty());
            // strong enough but 3° away: outside the radius
            vo[[j + 2, 20]] = 0.0;
            vo[[j + 3, 20]] = sign * 9.0e-5;
            assert!(centres_with(&g, &psl, Some(&vo), &spec).is_empty());
        }
    }

    #[test]
    fn latitude_band_as_te() {
        let g = grid(-30.0, 30.0, 60.0, 140.0, 1.0);
        let a = low(&g, 12.0, 80.0, 1500.0, 2.0);
        let b = low(&g, -20.0, 120.0, 1500.0, 2.0);
        let c = low(&g, 2.0, 100.0, 1500.0, 2.0);
        let psl = Array2::from_shape_fn(a.dim(), |ix| a[ix].min(b[ix]).min(c[ix]));
        let lats = |spec: DetectSpec| -> Vec<f64> {
            centres_with(&g, &psl, None, &spec)
                .iter()
                .map(|n| n.lat)
                .collect()
        };
        assert_eq!(lats(DetectSpec::default()), vec![-20.0, 2.0, 12.0]);
        let band = DetectSpec {
            min_lat_deg: Some(-10.0),
            max_lat_deg: Some(20.0),
            ..DetectSpec::default()
        };
        assert_eq!(lats(band), vec![2.0, 12.0]);
        let off_equator = DetectSpec {
            min_abs_lat_deg: Some(5.0),
            max_abs_lat_deg: Some(15.0),
            ..DetectSpec::default()
        };
        assert_eq!(lats(off_equator), vec![12.0]);
        let reversed = DetectSpec {
            min_lat_deg: Some(10.0),
            max_lat_deg: Some(-10.0),
            ..DetectSpec::default()
        };
        assert!(reversed.validate().is_err());
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
