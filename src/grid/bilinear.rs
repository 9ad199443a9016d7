//! Bilinear weights between rectilinear lon/lat grids (CDO `remapbil` conventions, see
//! [`super`]).

use rayon::prelude::*;

use super::{great_circle, LonLatGrid, Method, RegridWeights};
use crate::cube::wrap_lon;
use crate::error::{Error, Result};

/// Bilinear weights from `src` to `dst`.
pub fn bilinear(src: &LonLatGrid, dst: &LonLatGrid) -> Result<RegridWeights> {
    if src.ny() < 2 || src.nx() < 2 {
        return Err(Error::invalid(
            "bilinear regridding",
            format!(
                "the source grid has {} x {} cells; it needs at least 2 x 2",
                src.ny(),
                src.nx()
            ),
        ));
    }
    let periodic = src.is_periodic();
    let rows: Vec<Vec<(u32, f64)>> = (0..dst.ny())
        .into_par_iter()
        .flat_map_iter(|i| (0..dst.nx()).map(move |j| (i, j)))
        .map(|(i, j)| target_row(src, periodic, dst.lat[i], dst.lon[j]))
        .collect();
    Ok(RegridWeights::from_rows(
        Method::Bilinear,
        src.clone(),
        dst.clone(),
        rows,
    ))
}

fn target_row(src: &LonLatGrid, periodic: bool, phi: f64, lam: f64) -> Vec<(u32, f64)> {
    let (ny, nx) = (src.ny(), src.nx());
    let idx = |k: usize, m: usize| (k * nx + m) as u32;
    let (lat0, latn) = (src.lat[0], src.lat[ny - 1]);
    if phi < lat0 || phi > latn {
        return if periodic {
            polar_fallback(src, phi, lam)
        } else {
            Vec::new()
        };
    }
    // Latitude: lat[k] <= phi <= lat[k+1].
    let k = src.lat.partition_point(|&l| l <= phi).clamp(1, ny - 1) - 1;
    let t = (phi - src.lat[k]) / (src.lat[k + 1] - src.lat[k]);
    // Longitude, in the source's window [lon0, lon0 + 360).
    let l = wrap_lon(lam, src.lon[0]);
    let (m, m1, lon_m, lon_m1) = if l <= src.lon[nx - 1] {
        let m = src.lon.partition_point(|&x| x <= l).clamp(1, nx - 1) - 1;
        (m, m + 1, src.lon[m], src.lon[m + 1])
    } else if periodic {
        (nx - 1, 0, src.lon[nx - 1], src.lon[0] + 360.0)
    } else {
        return Vec::new();
    };
    let u = (l - lon_m) / (lon_m1 - lon_m);
    vec![
        (idx(k, m), (1.0 - t) * (1.0 - u)),
        (idx(k, m1), (1.0 - t) * u),
        (idx(k + 1, m1), t * u),
        (idx(k + 1, m), t * (1.0 - u)),
    ]
}

/// Beyond the outermost source latitude of a global grid: inverse-distance average of the four
/// nearest source centres (all of which lie in the two outermost rows on that side).
fn polar_fallback(src: &LonLatGrid, phi: f64, lam: f64) -> Vec<(u32, f64)> {
    let (ny, nx) = (src.ny(), src.nx());
    let rows: [usize; 2] = if phi < src.lat[0] {
        [0, 1]
    } else {
        [ny - 1, ny - 2]
    };
    let mut cand: Vec<(f64, u32)> = rows
        .iter()
        .flat_map(|&k| (0..nx).map(move |m| (k, m)))
        .map(|(k, m)| {
            (
                great_circle(phi, lam, src.lat[k], src.lon[m]),
                (k * nx + m) as u32,
            )
        })
        .collect();
    cand.sort_by(|a, b| a.0.total_cmp(&b.0));
    cand.truncate(4);
    if cand[0].0 < 1e-12 {
        return vec![(cand[0].1, 1.0)];
    }
    let total: f64 = cand.iter().map(|c| 1.0 / c.0).sum();
    cand.iter().map(|c| (c.1, 1.0 / c.0 / total)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_by_hand() {
        let src = LonLatGrid::from_centres(vec![0.0, 10.0], vec![100.0, 110.0, 120.0]).unwrap();
        let dst = LonLatGrid::from_centres(vec![2.5], vec![105.0, 119.0]).unwrap();
        let w = bilinear(&src, &dst).unwrap();
        // (2.5, 105): t = 0.25, u = 0.5 -> 0.375, 0.375, 0.125, 0.125
        let r: Vec<(usize, f64)> = w.row(0).collect();
        assert_eq!(r, vec![(0, 0.375), (1, 0.375), (4, 0.125), (3, 0.125)]);
        // A linear field is reproduced exactly.
        let f = |lat: f64, lon: f64| (3.0 * lat + 0.5 * lon) as f32;
        let x: Vec<f32> = [0.0, 10.0]
            .iter()
            .flat_map(|&la| [100.0, 110.0, 120.0].map(move |lo| f(la, lo)))
            .collect();
        let mut y = vec![0.0f32; 2];
        w.apply_map(&x, &mut y);
        assert!((y[0] - f(2.5, 105.0)).abs() < 1e-5 && (y[1] - f(2.5, 119.0)).abs() < 1e-5);
        // Outside a regional source: missing.
        let out = LonLatGrid::from_centres(vec![-5.0, 5.0], vec![125.0]).unwrap();
        let w = bilinear(&src, &out).unwrap();
        let mut y = vec![0.0f32; 2];
        w.apply_map(&x, &mut y);
        assert!(y[0].is_nan() && y[1].is_nan());
    }

    #[test]
    fn periodic_seam_and_missing_corners() {
        let src = LonLatGrid::regular(10.0, 90.0, None).unwrap(); // lon -135, -45, 45, 135
        let dst = LonLatGrid::from_centres(vec![0.0], vec![180.0]).unwrap();
        let w = bilinear(&src, &dst).unwrap();
        let cols: Vec<usize> = w.row(0).map(|(s, _)| s % 4).collect();
        assert_eq!(cols, vec![3, 0, 0, 3]); // between 135 and 225 (= -135)
        let mut x = vec![1.0f32; src.len()];
        let mut y = vec![0.0f32];
        w.apply_map(&x, &mut y);
        assert!((y[0] - 1.0).abs() < 1e-6);
        x[w.row(0).next().unwrap().0] = f32::NAN;
        w.apply_map(&x, &mut y);
        assert!(y[0].is_nan());
    }
}
