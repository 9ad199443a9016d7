//! The Extreme Forecast Index (EFI) and the Shift of Tails (SOT) of an ensemble against the
//! model climate (M-climate) of the same lead and season, as ECMWF issues them.
//!
//! **EFI** (Lalaurette 2003, QJRMS 129, doi:10.1256/qj.02.152; the form of Zsótér 2006,
//! ECMWF Newsletter 107, which weights the tails more):
//! `EFI = (2/π) ∫₀¹ (p − F_f(p)) / √(p(1 − p)) dp`, where `F_f(p)` is the share of members
//! below the climate's `p`-quantile. With the climate CDF `P_c` linear between the order
//! statistics of the M-climate sample ([`crate::stats::ecdf_sorted`]), member `i` is below the
//! `p`-quantile exactly for `p > P_c(xᵢ)`, and the integral is closed:
//! `EFI = (4 / (π n)) Σᵢ asin √P_c(xᵢ) − 1` — exact, with no quadrature over percentiles. EFI is
//! 0 when the ensemble is distributed like the climate, +1 when every member lies above the
//! climate's maximum, −1 below its minimum.
//!
//! **SOT** (Zsótér 2009, ECMWF Newsletter; Tsonevsky & Richardson 2012): how far the
//! ensemble's tail lies beyond the climate's extreme tail,
//! `SOT⁺ = (Q_f(0.9) − Q_c(0.99)) / (Q_c(0.99) − Q_c(0.9))` and
//! `SOT⁻ = (Q_c(0.01) − Q_f(0.1)) / (Q_c(0.1) − Q_c(0.01))`; positive when at least 10 % of the
//! members lie beyond the climate's 99th (1st) percentile. NaN when the climate's tail has no
//! width (a dry climate of zeros). Quantiles are type 7 ([`crate::stats::quantile_sorted`]).

use ndarray::{Array1, ArrayView2, Axis, Zip};

use crate::stats::{ecdf_sorted, quantile_sorted};

/// Ensemble quantile of SOT⁺ (the forecast's 90th percentile).
pub const SOT_FORECAST_UPPER: f64 = 0.9;
/// Climate quantiles of SOT⁺: its tail from the 90th to the 99th percentile.
pub const SOT_CLIMATE_UPPER: (f64, f64) = (0.9, 0.99);

/// EFI of `members` against an ascending M-climate sample; NaN without members or with fewer
/// than two climate values.
pub fn extreme_forecast_index(members: &[f32], climate_sorted: &[f32]) -> f64 {
    let finite: Vec<f32> = members.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || climate_sorted.len() < 2 {
        return f64::NAN;
    }
    let sum: f64 = finite
        .iter()
        .map(|&x| ecdf_sorted(climate_sorted, f64::from(x)).sqrt().asin())
        .sum();
    4.0 / (std::f64::consts::PI * finite.len() as f64) * sum - 1.0
}

/// SOT⁺ (`upper`) or SOT⁻ of `members` against an ascending M-climate sample.
pub fn shift_of_tails(members: &[f32], climate_sorted: &[f32], upper: bool) -> f64 {
    let mut f: Vec<f32> = members.iter().copied().filter(|v| v.is_finite()).collect();
    if f.is_empty() || climate_sorted.len() < 2 {
        return f64::NAN;
    }
    f.sort_by(f32::total_cmp);
    let (inner, outer) = SOT_CLIMATE_UPPER;
    let q = |p: f64| quantile_sorted(climate_sorted, p);
    let (num, den) = if upper {
        let qf = quantile_sorted(&f, SOT_FORECAST_UPPER);
        (qf - q(outer), q(outer) - q(inner))
    } else {
        let qf = quantile_sorted(&f, 1.0 - SOT_FORECAST_UPPER);
        (q(1.0 - outer) - qf, q(1.0 - inner) - q(1.0 - outer))
    };
    if den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// EFI, SOT⁺ and SOT⁻ of every cell: `members (member, cell)` and `climate (sample, cell)`
/// (the M-climate pooled over hindcast years, members and starts in the window); cells in
/// parallel.
pub fn efi_sot_grid(
    members: ArrayView2<f32>,
    climate: ArrayView2<f32>,
) -> (Array1<f32>, Array1<f32>, Array1<f32>) {
    let cells = members.len_of(Axis(1));
    let (mut efi, mut up, mut down) = (
        Array1::from_elem(cells, f32::NAN),
        Array1::from_elem(cells, f32::NAN),
        Array1::from_elem(cells, f32::NAN),
    );
    Zip::from(&mut efi)
        .and(&mut up)
        .and(&mut down)
        .and(members.axis_iter(Axis(1)))
        .and(climate.axis_iter(Axis(1)))
        .par_for_each(|e, u, d, m, c| {
            let mut clim: Vec<f32> = c.iter().copied().filter(|v| v.is_finite()).collect();
            clim.sort_by(f32::total_cmp);
            let m: Vec<f32> = m.to_vec();
            *e = extreme_forecast_index(&m, &clim) as f32;
            *u = shift_of_tails(&m, &clim, true) as f32;
            *d = shift_of_tails(&m, &clim, false) as f32;
        });
    (efi, up, down)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Climate 0, 1, …, 100: P_c(x) = x / 100, Q_c(p) = 100 p.
    fn climate() -> Vec<f32> {
        (0..=100).map(|v| v as f32).collect()
    }

    #[test]
    fn efi_limits_and_hand_values() {
        let c = climate();
        assert!((extreme_forecast_index(&[150.0, 200.0], &c) - 1.0).abs() < 1e-12);
        assert!((extreme_forecast_index(&[-5.0], &c) + 1.0).abs() < 1e-12);
        // one member at the median: asin √0.5 = π/4 → 0
        assert!(extreme_forecast_index(&[50.0], &c).abs() < 1e-12);
        // members at P = 0.25 and 1: (4/2π)(π/6 + π/2) − 1 = 1/3
        let e = extreme_forecast_index(&[25.0, 101.0], &c);
        assert!((e - 1.0 / 3.0).abs() < 1e-12, "{e}");
        // an ensemble spread like the climate: EFI near 0 (exactly 0 in the limit)
        let like: Vec<f32> = (0..1000).map(|k| (k as f32 + 0.5) / 10.0).collect();
        assert!(extreme_forecast_index(&like, &c).abs() < 2e-3);
        // the closed form equals a fine quadrature of Zsótér's integral
        let m = [10.0f32, 40.0, 70.0, 95.0, 120.0];
        let n = 200_000;
        let mut q = 0.0;
        for j in 0..n {
            let p = (j as f64 + 0.5) / n as f64;
            let below = m.iter().filter(|&&x| f64::from(x) < 100.0 * p).count() as f64 / 5.0;
            q += (p - below) / (p * (1.0 - p)).sqrt() / n as f64;
        }
        q *= 2.0 / std::f64::consts::PI;
        assert!((extreme_forecast_index(&m, &c) - q).abs() < 2e-3, "{q}");
        assert!(extreme_forecast_index(&[], &c).is_nan());
    }

    #[test]
    fn sot_hand_values() {
        let c = climate(); // Q_c(0.9) = 90, Q_c(0.99) = 99, Q_c(0.01) = 1, Q_c(0.1) = 10
                           // members 0..=10 scaled: Q_f(0.9) of [100, 101, …, 110] is 109 → (109 − 99)/9
        let m: Vec<f32> = (100..=110).map(|v| v as f32).collect();
        assert!((shift_of_tails(&m, &c, true) - 10.0 / 9.0).abs() < 1e-9);
        // Q_f(0.1) of [−10, …, 0] is −9 → (1 − (−9)) / 9
        let m: Vec<f32> = (-10..=0).map(|v| v as f32).collect();
        assert!((shift_of_tails(&m, &c, false) - 10.0 / 9.0).abs() < 1e-9);
        // a dry climate has no tail width
        assert!(shift_of_tails(&[5.0], &[0.0; 20], true).is_nan());
    }

    #[test]
    fn grid_matches_the_single_cell_functions() {
        let c = climate();
        let clim = ndarray::Array2::from_shape_fn((101, 2), |(k, j)| c[k] + j as f32 * 10.0);
        let members = ndarray::array![[95.0f32, 105.0], [99.0, 120.0], [80.0, 50.0]];
        let (e, u, d) = efi_sot_grid(members.view(), clim.view());
        let col1: Vec<f32> = clim.column(1).to_vec();
        let m1: Vec<f32> = members.column(1).to_vec();
        assert!((f64::from(e[1]) - extreme_forecast_index(&m1, &col1)).abs() < 1e-6);
        assert!((f64::from(u[1]) - shift_of_tails(&m1, &col1, true)).abs() < 1e-5);
        assert!(d[0].is_finite());
    }
}
