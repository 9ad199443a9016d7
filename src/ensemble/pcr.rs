//! Principal-component regression MOS (`weights = "pcr"`): the pattern-based calibration of
//! CPT / PyCPT, the tool of the South Asian and other regional climate outlook forums. Each
//! observed cell is regressed on the leading principal components of the model's
//! ensemble-mean *field*, so a cell borrows the signal of the whole pattern (a displaced
//! monsoon trough, an ENSO teleconnection) instead of only the model's value at the cell.
//!
//! # Formulas
//! Per model, lead and start month, with the training starts `S` (`m` of them: every hindcast
//! start outside the target's year, or all of them for a forecast):
//! - predictors: the transformed ensemble mean `x_j` (cube root for precipitation, see
//!   [`super::calibrate::Transform`]) at every cell with a value in every start, standardized
//!   by its mean and standard deviation over the hindcast starts (model data only) and
//!   weighted by `√cos φ`, so that the EOFs are those of the area-weighted correlation matrix;
//! - EOFs in start space (the dual, `m × m` problem): the centred Gram matrix
//!   `G = C X Xᵀ C` (`C` the centring matrix over `S`) has eigenpairs `(λ_r, u_r)`; the
//!   principal components of the training starts are `√λ_r u_r`, and a new predictor field
//!   `x*` projects onto them as `z_r = g·u_r / √λ_r` with `g_j = (x* − x̄)·(x_j − x̄)`;
//! - each observed cell `y` (transformed) is regressed on the first `k` components:
//!   `ŷ* = ȳ + Σ_{r≤k} (g·u_r / λ_r) (u_r·y)`, residual variance
//!   `s² = (Σ (y_j − ȳ)² − Σ_{r≤k} (u_r·y)²) / (m − k − 1)`, leverage
//!   `h = 1/m + Σ_{r≤k} (g·u_r)² / λ_r²`; the predictive distribution is Student-t with
//!   `m − k − 1` degrees of freedom, location `ŷ*` and scale `s √(1 + h)` (the prediction
//!   interval of the regression, as in [`super::calibrate::regression_predictive`]);
//! - the number of modes `k` (0 — the climatology — to [`PCR_MAX_MODES`], at most `m − 5` so
//!   that four degrees of freedom remain) minimizes the leave-one-out error of the regression
//!   over the training starts, summed over the observed cells with cos φ weights:
//!   `PRESS(k) = Σ_i [R W R]_ii / (1 − H_ii)²` with the hat matrix `H = 11ᵀ/m + U_k U_kᵀ`,
//!   `R = I − H` and `W = Σ_c (cos φ_c / S_c) y_c y_cᵀ` the observations' Gram matrix, each
//!   cell's anomalies over the training starts weighted by its area over their sum of squares
//!   `S_c` (Allen 1974's PRESS: the exact leave-one-out residual `r_i / (1 − H_ii)` of a
//!   linear fit on given predictors; standardized, every cell counts by its area whatever its
//!   variance, as in CPT's correlation-based goodness index). The EOFs themselves are model data; the observations of a target's
//!   year enter neither the EOFs, nor the choice of `k`, nor the fit of its hindcast.
//!
//! Cells whose observations miss a hindcast start, and model cells without a value in every
//! start, take no part (the former get no PCR forecast). Category probabilities, the
//! multi-model mixture and the deterministic fields are those of the calibrated scheme
//! ([`super::calibrate`]).
//!
//! # References
//! Mason & Tippett, *Climate Predictability Tool* documentation (IRI; PCR and CCA with
//! cross-validated mode selection); Wilks (2011), *Statistical Methods in the Atmospheric
//! Sciences*, 3rd ed., §12.2 (principal-component regression) and §7.4.4 (cross-validation);
//! Allen (1974), Technometrics 16, 125–127 (PRESS); North et al. (1982), MWR 110, 699–706
//! (area-weighted EOFs).

use ndarray::ArrayView2;

use super::calibrate::{Predictive, MIN_CALIBRATION_YEARS};

/// The most principal components a regression may use: CPT's default upper bound for the
/// predictor modes; cross-validation picks fewer wherever more would overfit.
pub const PCR_MAX_MODES: usize = 10;

/// Degrees of freedom a fit keeps at least (`m − k − 1 ≥ 4`): a finite Student-t variance
/// and a residual estimated from more than a handful of starts.
const MIN_RESIDUAL_DOF: usize = 4;

/// Relative size below which an eigenvalue of the centred Gram matrix is rounding noise (the
/// centring leaves one zero eigenvalue; identical starts leave more).
const EIGEN_NOISE: f64 = 1e-10;

/// The predictor and predictand Gram matrices of one model, lead and start month, from which
/// every training set's fit follows.
#[derive(Debug, Clone)]
pub struct PcrData {
    /// Predictor rows (hindcast starts first, then any forecast starts).
    rows: usize,
    /// Hindcast rows (those with observations).
    hindcast_rows: usize,
    /// `Z Zᵀ` of the standardized, weighted predictors, `rows × rows`.
    gram_x: Vec<f64>,
    /// The complete observed cells' values, cell by cell (`hindcast_rows` each).
    y: Vec<f64>,
    /// Which predictand cell each block of `y` is.
    y_cells: Vec<usize>,
    /// The area weight of each of those cells.
    y_area: Vec<f64>,
    /// Number of predictand cells.
    n_cells: usize,
}

/// The PCR forecast of one target at every predictand cell.
#[derive(Debug, Clone, PartialEq)]
pub struct PcrForecast {
    /// Principal components used (0: the observed climatology).
    pub modes: usize,
    /// Degrees of freedom of the Student-t, `m − k − 1`.
    pub dof: f64,
    /// Predictive location per cell (transformed units; NaN without a fit).
    pub location: Vec<f64>,
    /// Predictive scale per cell.
    pub scale: Vec<f64>,
}

impl PcrForecast {
    /// The predictive distribution at a cell; `None` without a fit there.
    pub fn predictive(&self, cell: usize) -> Option<Predictive> {
        let (location, scale) = (self.location[cell], self.scale[cell]);
        (location.is_finite() && scale > 0.0 && scale.is_finite()).then_some(Predictive::StudentT {
            location,
            scale,
            dof: self.dof,
        })
    }
}

impl PcrData {
    /// From the predictors `x` (`rows × cells`: the hindcast starts first, `hindcast_rows` of
    /// them, then forecast starts), the observations `y` (`hindcast_rows × cells`), and the
    /// area weight of each predictor and predictand cell. `None` when no predictor cell has a
    /// value in every start and varies, or no observed cell is complete.
    pub fn new(
        x: ArrayView2<f64>,
        hindcast_rows: usize,
        x_weights: &[f64],
        y: ArrayView2<f64>,
        y_weights: &[f64],
    ) -> Option<PcrData> {
        let (rows, px) = x.dim();
        let (ny_rows, py) = y.dim();
        assert!(hindcast_rows <= rows && ny_rows == hindcast_rows);
        assert!(x_weights.len() == px && y_weights.len() == py);
        // Standardized, √cos φ-weighted predictor columns, row-major.
        let mut z: Vec<Vec<f64>> = vec![Vec::new(); rows];
        for (col, &area) in x.columns().into_iter().zip(x_weights) {
            if area <= 0.0 || col.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let (mean, sd) = crate::stats::mean_sd_of(col.iter().take(hindcast_rows).copied());
            if sd.is_nan() || sd <= 0.0 {
                continue;
            }
            let f = area.sqrt() / sd;
            for (r, zr) in z.iter_mut().enumerate() {
                zr.push((col[r] - mean) * f);
            }
        }
        if z[0].is_empty() {
            return None;
        }
        let mut gram_x = vec![0.0; rows * rows];
        for a in 0..rows {
            for b in a..rows {
                let d: f64 = z[a].iter().zip(&z[b]).map(|(p, q)| p * q).sum();
                gram_x[a * rows + b] = d;
                gram_x[b * rows + a] = d;
            }
        }
        // Complete observed cells.
        let mut yv = Vec::new();
        let mut y_cells = Vec::new();
        let mut y_area = Vec::new();
        for (c, (col, &area)) in y.columns().into_iter().zip(y_weights).enumerate() {
            if area <= 0.0 || col.iter().any(|v| !v.is_finite()) {
                continue;
            }
            yv.extend(col.iter());
            y_cells.push(c);
            y_area.push(area);
        }
        if y_cells.is_empty() {
            return None;
        }
        Some(PcrData {
            rows,
            hindcast_rows,
            gram_x,
            y: yv,
            y_cells,
            y_area,
            n_cells: py,
        })
    }

    /// The forecast of predictor row `target` from the hindcast rows `train` (ascending, each
    /// below the hindcast row count), the number of modes chosen by PRESS up to `max_modes`;
    /// `None` with fewer than [`MIN_CALIBRATION_YEARS`] training starts.
    pub fn forecast(
        &self,
        train: &[usize],
        target: usize,
        max_modes: usize,
    ) -> Option<PcrForecast> {
        let m = train.len();
        if m < MIN_CALIBRATION_YEARS || target >= self.rows {
            return None;
        }
        debug_assert!(train.iter().all(|&j| j < self.hindcast_rows));
        let (r, n) = (self.rows, self.hindcast_rows);
        let mf = m as f64;
        // Centred Gram matrix of the training starts and the target's centred cross products.
        let g0 = |a: usize, b: usize| self.gram_x[a * r + b];
        let row_mean: Vec<f64> = train
            .iter()
            .map(|&a| train.iter().map(|&b| g0(a, b)).sum::<f64>() / mf)
            .collect();
        let grand = row_mean.iter().sum::<f64>() / mf;
        let mut gram = vec![0.0; m * m];
        for (i, &a) in train.iter().enumerate() {
            for (j, &b) in train.iter().enumerate() {
                gram[i * m + j] = g0(a, b) - row_mean[i] - row_mean[j] + grand;
            }
        }
        let target_mean = train.iter().map(|&b| g0(target, b)).sum::<f64>() / mf;
        let cross: Vec<f64> = train
            .iter()
            .enumerate()
            .map(|(i, &a)| g0(target, a) - target_mean - row_mean[i] + grand)
            .collect();
        let (values, vectors) = symmetric_eigen(gram, m);
        let largest = values.first().copied().unwrap_or(0.0);
        let rank = values
            .iter()
            .take_while(|&&v| largest > 0.0 && v > EIGEN_NOISE * largest)
            .count();
        let kmax = max_modes.min(rank).min(m - 1 - MIN_RESIDUAL_DOF);
        let u = |k: usize, i: usize| vectors[i * m + k];
        let w = self.standardized_gram(train);
        let modes = (0..=kmax)
            .map(|k| (k, press(&w, &vectors, m, k)))
            .fold(
                (0, f64::INFINITY),
                |best, (k, e)| {
                    if e < best.1 {
                        (k, e)
                    } else {
                        best
                    }
                },
            )
            .0;
        // Year weights of the prediction and the leverage of the target.
        let mut weights = vec![0.0; m];
        let mut leverage = 1.0 / mf;
        for (k, &lambda) in values.iter().enumerate().take(modes) {
            let gu: f64 = (0..m).map(|i| cross[i] * u(k, i)).sum();
            leverage += (gu / lambda).powi(2);
            for (i, wi) in weights.iter_mut().enumerate() {
                *wi += gu / lambda * u(k, i);
            }
        }
        let dof = (m - modes - 1) as f64;
        let mut location = vec![f64::NAN; self.n_cells];
        let mut scale = vec![f64::NAN; self.n_cells];
        let mut ys = vec![0.0; m];
        for (block, &cell) in self.y_cells.iter().enumerate() {
            let all = &self.y[block * n..(block + 1) * n];
            for (v, &j) in ys.iter_mut().zip(train) {
                *v = all[j];
            }
            let mean = ys.iter().sum::<f64>() / mf;
            let mut ss = 0.0;
            let mut shift = 0.0;
            for (v, wi) in ys.iter().zip(&weights) {
                let d = v - mean;
                ss += d * d;
                shift += wi * d;
            }
            let mut explained = 0.0;
            for k in 0..modes {
                let p: f64 = (0..m).map(|i| u(k, i) * ys[i]).sum();
                explained += p * p;
            }
            let s2 = (ss - explained).max(0.0) / dof;
            location[cell] = mean + shift;
            scale[cell] = (s2 * (1.0 + leverage)).sqrt();
        }
        Some(PcrForecast {
            modes,
            dof,
            location,
            scale,
        })
    }
}

impl PcrData {
    /// `W = Σ_c (cos φ_c / S_c) y_c y_cᵀ` over the training starts, with `y_c` a cell's
    /// anomalies about its training mean and `S_c` their sum of squares: each observed cell
    /// counts by its area whatever its variance (the mode choice follows the pattern of skill,
    /// not the wettest cells), from training observations only.
    fn standardized_gram(&self, train: &[usize]) -> Vec<f64> {
        let (m, n) = (train.len(), self.hindcast_rows);
        let mut w = vec![0.0; m * m];
        let mut d = vec![0.0; m];
        for (block, &area) in self.y_area.iter().enumerate() {
            let all = &self.y[block * n..(block + 1) * n];
            let mean = train.iter().map(|&j| all[j]).sum::<f64>() / m as f64;
            for (v, &j) in d.iter_mut().zip(train) {
                *v = all[j] - mean;
            }
            let ss: f64 = d.iter().map(|v| v * v).sum();
            if ss.is_nan() || ss <= 0.0 {
                continue;
            }
            let f = area / ss;
            for a in 0..m {
                let da = f * d[a];
                for b in a..m {
                    w[a * m + b] += da * d[b];
                }
            }
        }
        for a in 0..m {
            for b in 0..a {
                w[a * m + b] = w[b * m + a];
            }
        }
        w
    }
}

/// `PRESS(k) = Σ_i [R W R]_ii / (1 − H_ii)²` for the hat matrix of the first `k` components
/// (`vectors` column-major by mode: `vectors[i * m + k]`); infinite when a start is fitted
/// exactly (`H_ii = 1`).
fn press(w: &[f64], vectors: &[f64], m: usize, k: usize) -> f64 {
    let mf = m as f64;
    // R = I − 11ᵀ/m − U_k U_kᵀ (symmetric).
    let mut resid = vec![0.0; m * m];
    for i in 0..m {
        for j in i..m {
            let proj: f64 = (0..k)
                .map(|c| vectors[i * m + c] * vectors[j * m + c])
                .sum();
            let v = f64::from(u8::from(i == j)) - 1.0 / mf - proj;
            resid[i * m + j] = v;
            resid[j * m + i] = v;
        }
    }
    let mut total = 0.0;
    let mut rw = vec![0.0; m];
    for i in 0..m {
        let leave = resid[i * m + i];
        if leave <= 1e-12 {
            return f64::INFINITY;
        }
        // (R W)_i· then its product with column i of R.
        for (j, out) in rw.iter_mut().enumerate() {
            *out = (0..m).map(|a| resid[i * m + a] * w[a * m + j]).sum();
        }
        let rwr: f64 = (0..m).map(|j| rw[j] * resid[j * m + i]).sum();
        total += rwr / (leave * leave);
    }
    total
}

/// Eigenvalues (descending) and eigenvectors (`vectors[i * n + k]`: component `i` of the
/// `k`-th) of the symmetric `n × n` matrix `a` (row-major), by cyclic Jacobi rotations —
/// accurate to rounding for the small (tens of starts) matrices of a hindcast.
pub fn symmetric_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), n * n);
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        let diag: f64 = (0..n).map(|p| a[p * n + p] * a[p * n + p]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let values = order.iter().map(|&k| a[k * n + k]).collect();
    let mut vectors = vec![0.0; n * n];
    for (new, &old) in order.iter().enumerate() {
        for i in 0..n {
            vectors[i * n + new] = v[i * n + old];
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn jacobi_diagonalizes_a_symmetric_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/√2 and (1, −1)/√2.
        let (l, v) = symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2);
        assert!((l[0] - 3.0).abs() < 1e-14 && (l[1] - 1.0).abs() < 1e-14);
        assert!((v[0].abs() - 0.5f64.sqrt()).abs() < 1e-14);
        assert!((v[0] * v[2] - 0.5).abs() < 1e-14, "same sign in the first");
        // A 6 × 6: reconstruct A = V Λ Vᵀ and check orthonormality.
        let n = 6;
        let a: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                ((i * 7 + j * 7 + i * j) % 11) as f64 - 5.0
            })
            .collect();
        let (l, v) = symmetric_eigen(a.clone(), n);
        assert!(l.windows(2).all(|w| w[0] >= w[1]));
        for i in 0..n {
            for j in 0..n {
                let back: f64 = (0..n).map(|k| v[i * n + k] * l[k] * v[j * n + k]).sum();
                assert!((back - a[i * n + j]).abs() < 1e-10, "{i} {j}");
                let dot: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }

    /// Seeded Gaussian noise.
    fn noise(seed: u64) -> impl FnMut() -> f64 {
        use rand::SeedableRng;
        use rand_distr::Distribution;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        move || rand_distr::StandardNormal.sample(&mut rng)
    }

    /// 20 starts, 12 predictor cells carrying one pattern with amplitude `s_j` plus small
    /// noise, and 5 observed cells `y = 2 + 0.8 s_j + e` (independent noise).
    fn one_pattern() -> (Array2<f64>, Array2<f64>, Vec<f64>) {
        let n = 20;
        let signal: Vec<f64> = (0..n).map(|j| ((j * 7) % 13) as f64 / 6.0 - 1.0).collect();
        let (mut ex, mut ey) = (noise(1), noise(2));
        let x = Array2::from_shape_fn((n, 12), |(j, c)| {
            (1.0 + 0.1 * c as f64) * signal[j] + 0.02 * ex()
        });
        let y = Array2::from_shape_fn((n, 5), |(j, _)| 2.0 + 0.8 * signal[j] + 0.05 * ey());
        (x, y, signal)
    }

    #[test]
    fn press_is_the_leave_one_out_error() {
        // PRESS of k modes equals refitting the regression on the first k components without
        // each start in turn and summing its squared errors, each cell's over its sum of
        // squares (area weights 1).
        let (x, y, _) = one_pattern();
        let m = 20;
        let data = PcrData::new(x.view(), m, &[1.0; 12], y.view(), &[1.0; 5]).unwrap();
        let (vals, vecs) = symmetric_eigen(
            {
                // the centred Gram matrix over all starts
                let r = m;
                let g = |a: usize, b: usize| data.gram_x[a * r + b];
                let rm: Vec<f64> = (0..m)
                    .map(|a| (0..m).map(|b| g(a, b)).sum::<f64>() / m as f64)
                    .collect();
                let gr = rm.iter().sum::<f64>() / m as f64;
                (0..m * m)
                    .map(|k| g(k / m, k % m) - rm[k / m] - rm[k % m] + gr)
                    .collect()
            },
            m,
        );
        let ss: Vec<f64> = (0..5)
            .map(|c| {
                let mean = y.column(c).sum() / m as f64;
                y.column(c).iter().map(|v| (v - mean).powi(2)).sum()
            })
            .collect();
        for k in 0..3 {
            let all: Vec<usize> = (0..m).collect();
            let got = press(&data.standardized_gram(&all), &vecs, m, k);
            // Predictors: intercept and the k principal components √λ u.
            let mut want = 0.0;
            for i in 0..m {
                let keep: Vec<usize> = (0..m).filter(|&j| j != i).collect();
                let p = k + 1;
                let row = |j: usize| -> Vec<f64> {
                    std::iter::once(1.0)
                        .chain((0..k).map(|r| vals[r].sqrt() * vecs[j * m + r]))
                        .collect()
                };
                // Normal equations (p ≤ 3), solved by Gaussian elimination per cell.
                for c in 0..5 {
                    let mut a = vec![0.0; p * (p + 1)];
                    for &j in &keep {
                        let z = row(j);
                        for r in 0..p {
                            for q in 0..p {
                                a[r * (p + 1) + q] += z[r] * z[q];
                            }
                            a[r * (p + 1) + p] += z[r] * y[[j, c]];
                        }
                    }
                    for col in 0..p {
                        for r in col + 1..p {
                            let f = a[r * (p + 1) + col] / a[col * (p + 1) + col];
                            for q in col..=p {
                                a[r * (p + 1) + q] -= f * a[col * (p + 1) + q];
                            }
                        }
                    }
                    let mut beta = vec![0.0; p];
                    for r in (0..p).rev() {
                        let rest: f64 = (r + 1..p).map(|q| a[r * (p + 1) + q] * beta[q]).sum();
                        beta[r] = (a[r * (p + 1) + p] - rest) / a[r * (p + 1) + r];
                    }
                    let fit: f64 = row(i).iter().zip(&beta).map(|(z, b)| z * b).sum();
                    want += (y[[i, c]] - fit).powi(2) / ss[c];
                }
            }
            assert!((got - want).abs() < 1e-9 * want, "k={k}: {got} vs {want}");
        }
    }

    #[test]
    fn one_pattern_is_found_with_one_mode() {
        let (x, y, signal) = one_pattern();
        let data = PcrData::new(x.view(), 20, &[1.0; 12], y.view(), &[1.0; 5]).unwrap();
        let train: Vec<usize> = (1..20).collect();
        let f = data.forecast(&train, 0, PCR_MAX_MODES).unwrap();
        assert_eq!(f.modes, 1, "one pattern, one mode");
        assert_eq!(f.dof, (19 - 1 - 1) as f64);
        // The prediction for the left-out start follows its signal.
        for c in 0..5 {
            let want = 2.0 + 0.8 * signal[0];
            assert!(
                (f.location[c] - want).abs() < 0.1,
                "{} {want}",
                f.location[c]
            );
            assert!(f.scale[c] > 0.0 && f.scale[c] < 0.2);
        }
    }

    #[test]
    fn pcr_with_one_mode_is_the_regression_on_one_predictor() {
        // One predictor cell: its only EOF is the cell itself, so one-mode PCR is the simple
        // regression of `calibrate::regression_predictive` — same location and scale.
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.5];
        let ys = [3.1, 2.9, 7.2, 6.8, 11.1, 10.7, 15.3, 14.9];
        let x = Array2::from_shape_fn((9, 1), |(j, _)| xs[j]);
        let y = Array2::from_shape_fn((8, 1), |(j, _)| ys[j]);
        let data = PcrData::new(x.view(), 8, &[1.0], y.view(), &[1.0]).unwrap();
        let train: Vec<usize> = (0..8).collect();
        let f = data.forecast(&train, 8, 1).unwrap();
        assert_eq!(f.modes, 1);
        let reg =
            super::super::calibrate::regression_predictive(&xs[..8], &ys, |_| true, 2.5).unwrap();
        let pcr = f.predictive(0).unwrap();
        assert!((pcr.location() - reg.location()).abs() < 1e-10);
        assert!((pcr.scale() - reg.scale()).abs() < 1e-10);
    }

    #[test]
    fn noise_predictors_fall_back_to_the_climatology() {
        // Zero modes is the observed climatology: mean and scale sd √(1 + 1/m).
        let n = 24;
        let pure_noise = |seed: u64| {
            let (mut ex, mut ey) = (noise(seed), noise(seed + 1000));
            let x = Array2::from_shape_fn((n, 6), |_| ex());
            let y = Array2::from_shape_fn((n, 3), |_| 5.0 + ey());
            (x, y)
        };
        let (x, y) = pure_noise(3);
        let data = PcrData::new(x.view(), n, &[1.0; 6], y.view(), &[1.0; 3]).unwrap();
        let train: Vec<usize> = (0..n).filter(|&j| j != 4).collect();
        let f = data.forecast(&train, 4, 0).unwrap();
        assert_eq!(f.modes, 0);
        let ys: Vec<f64> = train.iter().map(|&j| y[[j, 1]]).collect();
        let (mean, sd) = crate::stats::mean_sd_of(ys.iter().copied());
        assert!((f.location[1] - mean).abs() < 1e-12);
        let m = train.len() as f64;
        assert!((f.scale[1] - sd * (1.0 + 1.0 / m).sqrt()).abs() < 1e-12);
        assert_eq!(f.dof, m - 1.0);
        // Observations unrelated to the predictors: PRESS keeps the climatology in most
        // draws (a chance correlation can pass leave-one-out now and then, not usually).
        let climatology = (0..40)
            .filter(|&seed| {
                let (x, y) = pure_noise(seed);
                let data = PcrData::new(x.view(), n, &[1.0; 6], y.view(), &[1.0; 3]).unwrap();
                data.forecast(&train, 4, PCR_MAX_MODES).unwrap().modes == 0
            })
            .count();
        assert!(climatology >= 28, "{climatology} of 40");
    }

    #[test]
    fn the_left_out_year_is_never_used_and_gaps_are_skipped() {
        let (x, mut y, _) = one_pattern();
        let data = PcrData::new(x.view(), 20, &[1.0; 12], y.view(), &[1.0; 5]).unwrap();
        let train: Vec<usize> = (0..20).filter(|&j| j != 3).collect();
        let a = data.forecast(&train, 3, PCR_MAX_MODES).unwrap();
        // Another observation in the target year changes nothing.
        y[[3, 2]] += 50.0;
        let moved = PcrData::new(x.view(), 20, &[1.0; 12], y.view(), &[1.0; 5]).unwrap();
        let b = moved.forecast(&train, 3, PCR_MAX_MODES).unwrap();
        assert_eq!(a.modes, b.modes);
        for c in 0..5 {
            assert!((a.location[c] - b.location[c]).abs() < 1e-9);
            assert!((a.scale[c] - b.scale[c]).abs() < 1e-9);
        }
        // A missing observation removes the cell; a missing predictor value removes the column.
        y[[7, 4]] = f64::NAN;
        let mut xg = x.clone();
        xg[[5, 0]] = f64::NAN;
        let gaps = PcrData::new(xg.view(), 20, &[1.0; 12], y.view(), &[1.0; 5]).unwrap();
        let f = gaps.forecast(&train, 3, PCR_MAX_MODES).unwrap();
        assert!(f.location[4].is_nan() && f.predictive(4).is_none());
        assert!(f.location[0].is_finite());
        // Too few training starts: no forecast.
        assert!(gaps.forecast(&[0, 1, 2, 4, 5], 3, 2).is_none());
    }
}
