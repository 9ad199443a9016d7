//! Sparse regridding weights (compressed rows: one row per target cell) and their application.
//!
//! `x_t = Σ_k w_tk · x_{s(t,k)}` per map. Bilinear rows propagate a missing source (NaN in, NaN
//! out); conservative rows renormalise over the valid sources (`fracarea`, see [`super`]).
//! Application is parallel over maps (init × member × lead), or over target rows when there are
//! fewer maps than threads; the weights are shared read-only and nothing is allocated per map.

use ndarray::{Array5, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::{LonLatGrid, Method};
use crate::cube::Cube;
use crate::error::{Error, Result};

/// Weights from one grid to another, built once per grid pair.
#[derive(Debug, Clone)]
pub struct RegridWeights {
    /// How they were made.
    pub method: Method,
    /// Source grid.
    pub src: LonLatGrid,
    /// Target grid.
    pub dst: LonLatGrid,
    row_start: Vec<usize>,
    src_index: Vec<u32>,
    weight: Vec<f64>,
}

/// Weights onto one target grid by one method, built once per source grid: regridding several
/// files or models that share grids computes each grid pair's weights once.
#[derive(Debug, Clone)]
pub struct WeightCache {
    method: Method,
    target: LonLatGrid,
    built: Vec<RegridWeights>,
}

impl WeightCache {
    /// An empty cache for `method` onto `target`.
    pub fn new(method: Method, target: LonLatGrid) -> Self {
        WeightCache {
            method,
            target,
            built: Vec::new(),
        }
    }

    /// The target grid.
    pub fn target(&self) -> &LonLatGrid {
        &self.target
    }

    /// The weights from `src` onto the target (built on first use).
    pub fn from_source(&mut self, src: &LonLatGrid) -> Result<&RegridWeights> {
        let k = match self.built.iter().position(|w| &w.src == src) {
            Some(k) => k,
            None => {
                self.built.push(match self.method {
                    Method::Bilinear => super::bilinear(src, &self.target)?,
                    Method::Conservative => super::conservative(src, &self.target)?,
                });
                self.built.len() - 1
            }
        };
        Ok(&self.built[k])
    }
}

impl RegridWeights {
    /// Builds the sparse structure from one row of `(source cell, weight)` per target cell.
    pub fn from_rows(
        method: Method,
        src: LonLatGrid,
        dst: LonLatGrid,
        rows: Vec<Vec<(u32, f64)>>,
    ) -> Self {
        let mut row_start = Vec::with_capacity(rows.len() + 1);
        let n: usize = rows.iter().map(Vec::len).sum();
        let mut src_index = Vec::with_capacity(n);
        let mut weight = Vec::with_capacity(n);
        row_start.push(0);
        for r in rows {
            for (s, w) in r {
                src_index.push(s);
                weight.push(w);
            }
            row_start.push(src_index.len());
        }
        RegridWeights {
            method,
            src,
            dst,
            row_start,
            src_index,
            weight,
        }
    }

    /// Number of (target, source) links.
    pub fn n_links(&self) -> usize {
        self.weight.len()
    }

    /// The links of target cell `t`.
    pub fn row(&self, t: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.row_start[t], self.row_start[t + 1]);
        self.src_index[a..b]
            .iter()
            .zip(&self.weight[a..b])
            .map(|(&s, &w)| (s as usize, w))
    }

    #[inline]
    fn apply_row(&self, t: usize, src: &[f32]) -> f32 {
        let (a, b) = (self.row_start[t], self.row_start[t + 1]);
        if a == b {
            return f32::NAN;
        }
        let idx = &self.src_index[a..b];
        let w = &self.weight[a..b];
        match self.method {
            Method::Bilinear => {
                let mut acc = 0.0f64;
                for (&s, &w) in idx.iter().zip(w) {
                    acc += w * f64::from(src[s as usize]);
                }
                acc as f32
            }
            Method::Conservative => {
                let (mut num, mut den) = (0.0f64, 0.0f64);
                for (&s, &w) in idx.iter().zip(w) {
                    let x = src[s as usize];
                    if x.is_finite() {
                        num += w * f64::from(x);
                        den += w;
                    }
                }
                if den > 0.0 {
                    (num / den) as f32
                } else {
                    f32::NAN
                }
            }
        }
    }

    /// Regrids one map (`src.len()` = source cells, `dst.len()` = target cells, row-major).
    pub fn apply_map(&self, src: &[f32], dst: &mut [f32]) {
        for (t, d) in dst.iter_mut().enumerate() {
            *d = self.apply_row(t, src);
        }
    }

    /// Regrids many maps: `src` is `(maps, source cells)`, `dst` is `(maps, target cells)`.
    pub fn apply(&self, src: ArrayView2<f32>, mut dst: ArrayViewMut2<f32>) -> Result<()> {
        let (nm, ns) = src.dim();
        if ns != self.src.len() || dst.dim() != (nm, self.dst.len()) {
            return Err(Error::mismatch(
                "regridding arrays",
                format!(
                    "weights map {} source cells to {} target cells; got {:?} -> {:?}",
                    self.src.len(),
                    self.dst.len(),
                    src.dim(),
                    dst.dim()
                ),
            ));
        }
        let threads = rayon::current_num_threads();
        if nm >= 2 * threads || self.dst.len() < 4096 {
            dst.axis_iter_mut(Axis(0))
                .into_par_iter()
                .zip(src.axis_iter(Axis(0)).into_par_iter())
                .for_each(|(mut d, s)| {
                    let s = s.as_slice().expect("contiguous source map");
                    let d = d.as_slice_mut().expect("contiguous target map");
                    self.apply_map(s, d);
                });
        } else {
            // Few large maps: split each map's target cells across threads.
            let nx = self.dst.nx();
            for (mut d, s) in dst.axis_iter_mut(Axis(0)).zip(src.axis_iter(Axis(0))) {
                let s = s.as_slice().expect("contiguous source map");
                d.as_slice_mut()
                    .expect("contiguous target map")
                    .par_chunks_mut(nx)
                    .enumerate()
                    .for_each(|(row, out)| {
                        for (j, o) in out.iter_mut().enumerate() {
                            *o = self.apply_row(row * nx + j, s);
                        }
                    });
            }
        }
        Ok(())
    }
}

/// A cube on the target grid of `weights`; every `(init, member, lead)` map is regridded.
pub fn regrid_cube(cube: &Cube, weights: &RegridWeights) -> Result<Cube> {
    let src_grid = LonLatGrid::from_spatial(&cube.coords.spatial)?;
    let same = crate::cube::same_axis;
    if !same(&src_grid.lat, &weights.src.lat) || !same(&src_grid.lon, &weights.src.lon) {
        return Err(Error::mismatch(
            "regridding weights and data",
            format!(
                "the weights were made for a {} x {} grid, the data of {} are on a {} x {} grid",
                weights.src.ny(),
                weights.src.nx(),
                cube.meta.model,
                src_grid.ny(),
                src_grid.nx()
            ),
        ));
    }
    let (ni, nm, nl, ny, nx) = cube.values.dim();
    let maps = ni * nm * nl;
    let src = cube.values.as_standard_layout();
    let src2 = src
        .view()
        .into_shape_with_order((maps, ny * nx))
        .map_err(|e| Error::invalid("cube", e.to_string()))?;
    let (dy, dx) = (weights.dst.ny(), weights.dst.nx());
    let mut out = Array5::<f32>::zeros((ni, nm, nl, dy, dx));
    {
        let out2 = out
            .view_mut()
            .into_shape_with_order((maps, dy * dx))
            .map_err(|e| Error::invalid("cube", e.to_string()))?;
        weights.apply(src2, out2)?;
    }
    let mut c = Cube::new(
        out,
        {
            let mut co = cube.coords.clone();
            co.spatial = weights.dst.spatial();
            co
        },
        cube.meta.clone(),
    )?;
    c.meta.history.push(format!(
        "regridded {} from {} x {} to {} x {} (lat x lon)",
        match weights.method {
            Method::Bilinear => "bilinearly",
            Method::Conservative => "first-order conservatively",
        },
        ny,
        nx,
        dy,
        dx
    ));
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_cache_builds_once_per_source_grid() {
        let target = LonLatGrid::regular(
            2.0,
            2.0,
            Some(&crate::cube::BBox::new(60.0, 70.0, 0.0, 10.0).unwrap()),
        )
        .unwrap();
        let a = LonLatGrid::regular(
            1.0,
            1.0,
            Some(&crate::cube::BBox::new(58.0, 72.0, -2.0, 12.0).unwrap()),
        )
        .unwrap();
        let b = LonLatGrid::regular(
            0.5,
            0.5,
            Some(&crate::cube::BBox::new(58.0, 72.0, -2.0, 12.0).unwrap()),
        )
        .unwrap();
        let mut cache = WeightCache::new(Method::Conservative, target.clone());
        cache.from_source(&a).unwrap();
        assert_eq!(cache.built.len(), 1);
        cache.from_source(&b).unwrap();
        cache.from_source(&a).unwrap();
        assert_eq!(cache.built.len(), 2);
        assert_eq!(cache.from_source(&a).unwrap().src, a);
        assert_eq!(cache.from_source(&b).unwrap().dst, target);
        assert_eq!(cache.from_source(&b).unwrap().method, Method::Conservative);
    }
}
