//! First-order conservative weights between rectilinear lon/lat grids (Jones 1999; CDO
//! `remapcon` with `fracarea` normalisation, see [`super`]).

use rayon::prelude::*;

use super::{LonLatGrid, Method, RegridWeights};
use crate::cube::wrap_lon;
use crate::error::Result;

/// First-order conservative weights from `src` to `dst`: `A(s ∩ t) / A(t)`.
pub fn conservative(src: &LonLatGrid, dst: &LonLatGrid) -> Result<RegridWeights> {
    let periodic = src.is_periodic();
    let snx = src.nx();
    let sin = |b: &[f64]| b.iter().map(|x| x.to_radians().sin()).collect::<Vec<f64>>();
    let (src_sin, dst_sin) = (sin(&src.lat_bounds), sin(&dst.lat_bounds));
    let b0 = src.lon_bounds[0];
    let rows: Vec<Vec<(u32, f64)>> = (0..dst.ny())
        .into_par_iter()
        .flat_map_iter(|i| {
            let (s_d, n_d) = (dst.lat_bounds[i], dst.lat_bounds[i + 1]);
            // Source rows overlapping [s_d, n_d].
            let k0 = src
                .lat_bounds
                .partition_point(|&b| b <= s_d)
                .saturating_sub(1);
            let k1 = src.lat_bounds.partition_point(|&b| b < n_d).min(src.ny());
            let lat_overlaps: Vec<(usize, f64)> = (k0..k1)
                .filter_map(|k| {
                    let lo = src_sin[k].max(dst_sin[i]);
                    let hi = src_sin[k + 1].min(dst_sin[i + 1]);
                    (hi > lo).then_some((k, hi - lo))
                })
                .collect();
            let band = dst_sin[i + 1] - dst_sin[i];
            let lat_overlaps = std::sync::Arc::new(lat_overlaps);
            (0..dst.nx()).map(move |j| {
                let (w_d, e_d) = (dst.lon_bounds[j], dst.lon_bounds[j + 1]);
                let width = e_d - w_d;
                let area_t = width.to_radians() * band;
                let w0 = wrap_lon(w_d, b0);
                let mut row = Vec::new();
                // The target cell may run past the source's window end: look at the source
                // cells once more, shifted by 360 degrees.
                for shift in [0.0, 360.0] {
                    let (w, e) = (w0 - shift, w0 - shift + width);
                    let m0 = src
                        .lon_bounds
                        .partition_point(|&b| b <= w)
                        .saturating_sub(1);
                    let m1 = src.lon_bounds.partition_point(|&b| b < e).min(snx);
                    for m in m0..m1 {
                        let dl = src.lon_bounds[m + 1].min(e) - src.lon_bounds[m].max(w);
                        if dl <= 0.0 {
                            continue;
                        }
                        for &(k, dsin) in lat_overlaps.iter() {
                            row.push(((k * snx + m) as u32, dl.to_radians() * dsin / area_t));
                        }
                    }
                    if !periodic && shift == 0.0 && w0 + width <= src.lon_bounds[snx] {
                        break;
                    }
                }
                row
            })
        })
        .collect();
    Ok(RegridWeights::from_rows(
        Method::Conservative,
        src.clone(),
        dst.clone(),
        rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_by_two_into_one() {
        // Four 10-degree cells at the equator into one 20-degree cell: weights by area.
        let src = LonLatGrid::from_centres(vec![-5.0, 5.0], vec![5.0, 15.0]).unwrap();
        let dst = LonLatGrid::from_centres(vec![0.0], vec![10.0]).unwrap();
        let dst = LonLatGrid {
            lat_bounds: vec![-10.0, 10.0],
            lon_bounds: vec![0.0, 20.0],
            ..dst
        };
        let w = conservative(&src, &dst).unwrap();
        let r: Vec<(usize, f64)> = w.row(0).collect();
        assert_eq!(r.len(), 4);
        for (_, x) in &r {
            assert!((x - 0.25).abs() < 1e-12);
        }
        // One source missing: the mean of the other three (fracarea).
        let mut y = [0.0f32];
        w.apply_map(&[1.0, 2.0, f32::NAN, 6.0], &mut y);
        assert!((y[0] - 3.0).abs() < 1e-6);
    }

    fn integral(g: &LonLatGrid, x: &[f32]) -> f64 {
        g.cell_areas()
            .iter()
            .zip(x)
            .map(|(a, &v)| a * f64::from(v))
            .sum()
    }

    proptest! {
        /// Global grid to global grid: the area integral is conserved to 1e-6 relative, and a
        /// constant stays constant.
        #[test]
        fn conserves_the_area_integral(ny1 in 20usize..200, nx1 in 30usize..300, ny2 in 20usize..200, nx2 in 30usize..300, seed in 0u64..1000) {
            let src = LonLatGrid::global(ny1, nx1).unwrap();
            let dst = LonLatGrid::global(ny2, nx2).unwrap();
            let w = conservative(&src, &dst).unwrap();
            let x: Vec<f32> = (0..src.len()).map(|k| {
                let h = (k as u64).wrapping_mul(6364136223846793005).wrapping_add(seed);
                1.0 + (h >> 40) as f32 / (1u64 << 24) as f32
            }).collect();
            let mut y = vec![0.0f32; dst.len()];
            w.apply_map(&x, &mut y);
            let (a, b) = (integral(&src, &x), integral(&dst, &y));
            prop_assert!(((a - b) / a).abs() < 1e-6, "{a} vs {b}");
            let ones = vec![1.0f32; src.len()];
            w.apply_map(&ones, &mut y);
            prop_assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-5));
        }
    }
}
