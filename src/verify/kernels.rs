//! One score over a whole hindcast, fast: the building blocks a caller (or a benchmark) uses
//! when it needs a single score map rather than every score with cross-validated categories
//! ([`super::skill_maps`]). Each maps `(start, member, lead, y, x)` members and
//! `(start, 1, lead, y, x)` observations to a `(lead, y, x)` map, the mean over the starts
//! where the observation and at least one member are finite (NaN where none is):
//!
//! - [`mean_crps`]: ensemble CRPS, fair or plain ([`super::crps_ensemble`]), as
//!   `xskillscore.crps_ensemble(obs, fc, dim="init")` for plain;
//! - [`mean_rps`]: RPS of probabilities counted from the members against category edges taken,
//!   in sample, from the members × starts (forecast) and from the starts (observations) — the
//!   quantile-edge convention of `xskillscore.rps(..., category_edges=(q_obs, q_fc))`;
//! - [`ensemble_mean_correlation`]: Pearson r of the ensemble mean with the observations
//!   over the starts (`xskillscore.pearson_r`, anomalies or not — r is shift invariant);
//! - [`roc_area_map`]: ROC area of event probabilities over the starts.
//!
//! Work is split over `(start, lead)` slabs or map rows with rayon; members are read as
//! contiguous rows (one per member) so the inner loops stream through memory.

use std::borrow::Cow;

use ndarray::{s, Array2, Array3, ArrayView2, ArrayView4, ArrayView5, Axis};
use rayon::prelude::*;

use super::{roc_area, rps};
use crate::error::{Error, Result};
use crate::stats::categories::category_of;

fn check(members: &ArrayView5<f32>, obs: &ArrayView5<f32>) -> Result<()> {
    let (m, o) = (members.dim(), obs.dim());
    if m.0 != o.0 || m.2 != o.2 || m.3 != o.3 || m.4 != o.4 || o.1 != 1 {
        return Err(Error::mismatch(
            "verification",
            format!("members {m:?} and observations {o:?} must share starts, leads and grid"),
        ));
    }
    Ok(())
}

/// Averages per-`(start, lead, cell)` values over the starts, skipping NaN.
fn mean_over_starts(values: &Array3<f32>, nl: usize, ny: usize, nx: usize) -> Array3<f32> {
    let ni = values.dim().0 / nl.max(1);
    let cells = ny * nx;
    let mut out = Array2::<f32>::zeros((nl, cells));
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(l, mut row)| {
            let mut sum = vec![0.0f64; cells];
            let mut n = vec![0u32; cells];
            for i in 0..ni {
                let slab = values.index_axis(Axis(0), i * nl + l);
                for (k, &v) in slab.iter().enumerate() {
                    if v.is_finite() {
                        sum[k] += f64::from(v);
                        n[k] += 1;
                    }
                }
            }
            for (k, r) in row.iter_mut().enumerate() {
                *r = if n[k] > 0 {
                    (sum[k] / f64::from(n[k])) as f32
                } else {
                    f32::NAN
                };
            }
        });
    out.into_shape_with_order((nl, ny, nx)).expect("same size")
}

/// The comparators `(i, j)`, `i < j`, of Batcher's odd–even merge sort of `n` values (`n` a
/// power of two): applying "put the smaller in `i`" in order sorts any input (Knuth, TAOCP
/// vol. 3, §5.3.4).
pub fn batcher_network(n: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut p = 1;
    while p < n {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < n {
                for i in 0..k.min(n - j - k) {
                    if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        pairs.push((i + j, i + j + k));
                    }
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    pairs
}

/// A map's values in row-major order: borrowed when the view is contiguous (a slab of a
/// standard-layout array), copied otherwise.
fn contiguous(map: ArrayView2<'_, f32>) -> Cow<'_, [f32]> {
    match map.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(map.iter().copied().collect()),
    }
}

/// Cells per block of the CRPS kernel: `members (padded) × block` f32 stay in L2.
const CRPS_BLOCK: usize = 512;

/// Mean ensemble CRPS over the starts, per lead and cell (fair: Ferro 2014).
///
/// The members of a block of cells are sorted together by a sorting network applied row-wise
/// (member `k` of every cell in one contiguous row, `min`/`max` across rows — vectorised over
/// the cells), after subtracting the observation (the CRPS is shift-invariant, and the sums
/// stay small); missing members become `+∞` and sort last. Then per cell
/// `CRPS = Σ|x_(i)|/m − 2 Σ (2i − m − 1) x_(i) / (2m²)` (or `2m(m−1)` for the fair score),
/// accumulated in f64 — the same values as [`super::crps_ensemble`] per sample.
pub fn mean_crps(
    members: ArrayView5<f32>,
    obs: ArrayView5<f32>,
    fair: bool,
) -> Result<Array3<f32>> {
    check(&members, &obs)?;
    let (ni, nm, nl, ny, nx) = members.dim();
    let cells = ny * nx;
    let padded = nm.next_power_of_two().max(2);
    let network = batcher_network(padded);
    let mut per = Array2::<f32>::zeros((ni * nl, cells));
    per.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each_init(
            || CrpsScratch::new(padded),
            |scratch, (k, mut out)| {
                let (i, l) = (k / nl, k % nl);
                let o = contiguous(obs.slice_move(s![i, 0, l, .., ..]));
                let rows: Vec<Cow<[f32]>> = (0..nm)
                    .map(|m| contiguous(members.slice_move(s![i, m, l, .., ..])))
                    .collect();
                let rows: Vec<&[f32]> = rows.iter().map(|r| r.as_ref()).collect();
                let out = out.as_slice_mut().expect("row");
                for start in (0..cells).step_by(CRPS_BLOCK) {
                    let end = (start + CRPS_BLOCK).min(cells);
                    scratch.block(
                        &rows,
                        &o[start..end],
                        start,
                        &network,
                        fair,
                        &mut out[start..end],
                    );
                }
            },
        );
    let per = per
        .into_shape_with_order((ni * nl, ny, nx))
        .expect("same size");
    Ok(mean_over_starts(&per, nl, ny, nx))
}

/// Reused buffers of [`mean_crps`].
struct CrpsScratch {
    padded: usize,
    sorted: Vec<f32>,
    count: Vec<f32>,
    skill: Vec<f64>,
    spread: Vec<f64>,
}

impl CrpsScratch {
    fn new(padded: usize) -> Self {
        CrpsScratch {
            padded,
            sorted: vec![0.0; padded * CRPS_BLOCK],
            count: vec![0.0; CRPS_BLOCK],
            skill: vec![0.0; CRPS_BLOCK],
            spread: vec![0.0; CRPS_BLOCK],
        }
    }

    /// CRPS of the cells `first..first + obs.len()` of one start and lead into `out`.
    fn block(
        &mut self,
        rows: &[&[f32]],
        obs: &[f32],
        first: usize,
        network: &[(usize, usize)],
        fair: bool,
        out: &mut [f32],
    ) {
        let b = obs.len();
        let count = &mut self.count[..b];
        count.fill(0.0);
        for k in 0..self.padded {
            let row = &mut self.sorted[k * b..(k + 1) * b];
            match rows.get(k) {
                Some(src) => {
                    for ((r, &x), (&y, n)) in row
                        .iter_mut()
                        .zip(&src[first..first + b])
                        .zip(obs.iter().zip(count.iter_mut()))
                    {
                        let d = x - y;
                        let ok = d.is_finite();
                        *r = if ok { d } else { f32::INFINITY };
                        *n += f32::from(u8::from(ok));
                    }
                }
                None => row.fill(f32::INFINITY),
            }
        }
        for &(lo, hi) in network {
            let (a, rest) = self.sorted[lo * b..].split_at_mut((hi - lo) * b);
            let (a, c) = (&mut a[..b], &mut rest[..b]);
            // min/max (no NaN here: missing members are +∞), written unconditionally so
            // that the loop compiles to vector min/max, not to per-lane conditional swaps.
            for (x, y) in a.iter_mut().zip(c.iter_mut()) {
                let (p, q) = (*x, *y);
                *x = p.min(q);
                *y = p.max(q);
            }
        }
        let (skill, spread) = (&mut self.skill[..b], &mut self.spread[..b]);
        skill.fill(0.0);
        spread.fill(0.0);
        for k in 0..self.padded {
            let rank = 2.0 * (k + 1) as f64 - 1.0;
            let row = &self.sorted[k * b..(k + 1) * b];
            for (((&x, &n), s), t) in row
                .iter()
                .zip(count.iter())
                .zip(skill.iter_mut())
                .zip(spread.iter_mut())
            {
                let valid = x < f32::INFINITY;
                let x = if valid { f64::from(x) } else { 0.0 };
                *s += x.abs();
                *t += (rank - f64::from(n)) * x;
            }
        }
        for (((o, &n), &s), &t) in out
            .iter_mut()
            .zip(count.iter())
            .zip(skill.iter())
            .zip(spread.iter())
        {
            let m = f64::from(n);
            let denom = if fair {
                2.0 * m * (m - 1.0)
            } else {
                2.0 * m * m
            };
            *o = if n < 1.0 || (fair && n < 2.0) {
                f32::NAN
            } else {
                (s / m - 2.0 * t / denom) as f32
            };
        }
    }
}

/// Mean RPS over the starts of probabilities counted from the members, categories at the
/// cumulative probabilities `levels` (terciles: 1/3, 2/3) with in-sample type-7 quantile edges
/// — of the members × starts for the forecast, of the starts for the observations.
///
/// Work goes by map rows: the members of a row's cells are gathered from contiguous member
/// rows into one pool per cell, the edges found by selection (O(n), no sort).
pub fn mean_rps(
    members: ArrayView5<f32>,
    obs: ArrayView5<f32>,
    levels: &[f64],
) -> Result<Array3<f32>> {
    check(&members, &obs)?;
    let ascending = levels.windows(2).all(|w| w[0] < w[1]);
    if levels.is_empty() || !ascending || levels.iter().any(|p| !(*p > 0.0 && *p < 1.0)) {
        return Err(Error::invalid(
            "RPS",
            format!("category levels {levels:?} must be one or more, ascending, within (0, 1) (terciles: 1/3, 2/3)"),
        ));
    }
    let (ni, nm, nl, ny, nx) = members.dim();
    let ncat = levels.len() + 1;
    let pool_len = ni * nm;
    let mut out = Array3::<f32>::from_elem((nl, ny, nx), f32::NAN);
    let mut rows: Vec<_> = out.axis_iter_mut(Axis(0)).collect::<Vec<_>>();
    let mut tasks: Vec<(usize, usize, ndarray::ArrayViewMut1<f32>)> = Vec::with_capacity(nl * ny);
    for (l, map) in rows.iter_mut().enumerate() {
        for (y, row) in map.axis_iter_mut(Axis(0)).enumerate() {
            tasks.push((l, y, row));
        }
    }
    tasks.into_par_iter().for_each_init(
        || {
            (
                vec![0f32; 0],
                Vec::<f32>::new(),
                Vec::<f32>::new(),
                vec![0.0f64; ncat],
            )
        },
        |(pool, scratch, opool, p), (l, y, mut row)| {
            // pool[x][i * nm + m] from the contiguous rows members[i, m, l, y, ..].
            pool.clear();
            pool.resize(nx * pool_len, f32::NAN);
            for i in 0..ni {
                for m in 0..nm {
                    let src = members.slice(s![i, m, l, y, ..]);
                    for (x, &v) in src.iter().enumerate() {
                        pool[x * pool_len + i * nm + m] = v;
                    }
                }
            }
            for (x, slot) in row.iter_mut().enumerate() {
                let cell = &pool[x * pool_len..(x + 1) * pool_len];
                scratch.clear();
                scratch.extend(cell.iter().copied().filter(|v| v.is_finite()));
                opool.clear();
                opool.extend(
                    (0..ni)
                        .map(|i| obs[[i, 0, l, y, x]])
                        .filter(|v| v.is_finite()),
                );
                if scratch.is_empty() || opool.is_empty() {
                    continue;
                }
                let fe: Vec<f64> = levels
                    .iter()
                    .map(|&q| crate::stats::quantile_select(scratch.as_mut_slice(), q))
                    .collect();
                let oe: Vec<f64> = levels
                    .iter()
                    .map(|&q| crate::stats::quantile_select(opool.as_mut_slice(), q))
                    .collect();
                let (mut sum, mut n) = (0.0, 0usize);
                for i in 0..ni {
                    let Some(oc) = category_of(obs[[i, 0, l, y, x]], &oe) else {
                        continue;
                    };
                    p.fill(0.0);
                    let mut count = 0usize;
                    for &v in &cell[i * nm..(i + 1) * nm] {
                        if let Some(c) = category_of(v, &fe) {
                            p[c] += 1.0;
                            count += 1;
                        }
                    }
                    if count == 0 {
                        continue;
                    }
                    p.iter_mut().for_each(|v| *v /= count as f64);
                    sum += rps(p, oc);
                    n += 1;
                }
                if n > 0 {
                    *slot = (sum / n as f64) as f32;
                }
            }
        },
    );
    Ok(out)
}

/// Cells per task of the correlation kernel.
const CORRELATION_BLOCK: usize = 4096;

/// Pearson correlation over the starts of the ensemble mean (of the finite members) with the
/// observations, per lead and cell.
///
/// One pass over memory: for each lead and block of cells, start after start, the ensemble
/// mean of the block is summed from the contiguous member rows and folded into per-cell sums
/// of `f`, `o`, `f²`, `o²`, `f·o` (f64, each series shifted by its first value so that the
/// one-pass variance does not cancel: r is shift-invariant).
pub fn ensemble_mean_correlation(
    members: ArrayView5<f32>,
    obs: ArrayView5<f32>,
) -> Result<Array3<f32>> {
    check(&members, &obs)?;
    let (ni, nm, nl, ny, nx) = members.dim();
    let cells = ny * nx;
    let mut out = Array2::<f32>::from_elem((nl, cells), f32::NAN);
    let mut tasks = Vec::new();
    for (l, row) in out.axis_iter_mut(Axis(0)).enumerate() {
        let row = row.into_slice().expect("row of a standard-layout array");
        for (b, chunk) in row.chunks_mut(CORRELATION_BLOCK).enumerate() {
            tasks.push((l, b * CORRELATION_BLOCK, chunk));
        }
    }
    tasks.into_par_iter().for_each(|(l, first, out)| {
        let n = out.len();
        let mut mean = vec![0f32; n];
        let mut count = vec![0u16; n];
        let mut shift = vec![(f64::NAN, f64::NAN); n];
        let mut sums = vec![[0f64; 6]; n];
        for i in 0..ni {
            mean.fill(0.0);
            count.fill(0);
            for m in 0..nm {
                let row = contiguous(members.slice_move(s![i, m, l, .., ..]));
                // Branch-free so that it vectorises.
                for ((s, c), &v) in mean
                    .iter_mut()
                    .zip(count.iter_mut())
                    .zip(&row[first..first + n])
                {
                    let ok = v.is_finite();
                    *s += if ok { v } else { 0.0 };
                    *c += u16::from(ok);
                }
            }
            let orow = contiguous(obs.slice_move(s![i, 0, l, .., ..]));
            for k in 0..n {
                let o = f64::from(orow[first + k]);
                if count[k] == 0 || !o.is_finite() {
                    continue;
                }
                let f = f64::from(mean[k] / f32::from(count[k]));
                if shift[k].0.is_nan() {
                    shift[k] = (f, o);
                }
                let (df, dz) = (f - shift[k].0, o - shift[k].1);
                let a = &mut sums[k];
                a[0] += 1.0;
                a[1] += df;
                a[2] += dz;
                a[3] += df * df;
                a[4] += dz * dz;
                a[5] += df * dz;
            }
        }
        for (slot, a) in out.iter_mut().zip(&sums) {
            let n = a[0];
            if n < 3.0 {
                continue;
            }
            let sxx = a[3] - a[1] * a[1] / n;
            let syy = a[4] - a[2] * a[2] / n;
            let sxy = a[5] - a[1] * a[2] / n;
            if sxx > 0.0 && syy > 0.0 {
                *slot = (sxy / (sxx * syy).sqrt()) as f32;
            }
        }
    });
    Ok(out.into_shape_with_order((nl, ny, nx)).expect("same size"))
}

/// ROC area over the starts of event probabilities `(start, lead, y, x)` against observed
/// events (`1` event, `0` none, anything else missing), per lead and cell.
pub fn roc_area_map(probability: ArrayView4<f32>, event: ArrayView4<u8>) -> Result<Array3<f32>> {
    if probability.dim() != event.dim() {
        return Err(Error::mismatch(
            "verification",
            format!(
                "probabilities {:?} and events {:?} differ in shape",
                probability.dim(),
                event.dim()
            ),
        ));
    }
    let (ni, nl, ny, nx) = probability.dim();
    let mut out = Array3::<f32>::from_elem((nl, ny, nx), f32::NAN);
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(l, mut map)| {
            let mut p = Vec::with_capacity(ni);
            let mut o = Vec::with_capacity(ni);
            for ((y, x), slot) in map.indexed_iter_mut() {
                p.clear();
                o.clear();
                for i in 0..ni {
                    let e = event[[i, l, y, x]];
                    if e <= 1 {
                        p.push(f64::from(probability[[i, l, y, x]]));
                        o.push(e == 1);
                    }
                }
                *slot = roc_area(&p, &o) as f32;
            }
        });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{crps_ensemble, pearson_r};
    use ndarray::Array5;

    fn case() -> (Array5<f32>, Array5<f32>) {
        let members = Array5::from_shape_fn((6, 4, 2, 2, 3), |(i, m, l, y, x)| {
            ((i * 7 + m * 3 + l * 5 + y * 11 + x * 13) % 17) as f32 * 0.3 - 2.0
        });
        let obs = Array5::from_shape_fn((6, 1, 2, 2, 3), |(i, _, l, y, x)| {
            ((i * 5 + l * 3 + y + x * 2) % 7) as f32 * 0.5 - 1.5
        });
        (members, obs)
    }

    #[test]
    fn batcher_network_sorts() {
        for n in [2usize, 4, 8, 16, 32, 64] {
            let net = batcher_network(n);
            for seed in 0..20u64 {
                let mut v: Vec<u64> = (0..n as u64)
                    .map(|k| (k * 2_654_435_761 + seed * 40_503) % 97)
                    .collect();
                for &(i, j) in &net {
                    if v[j] < v[i] {
                        v.swap(i, j);
                    }
                }
                assert!(v.windows(2).all(|w| w[0] <= w[1]), "n = {n}");
            }
        }
        assert_eq!(batcher_network(32).len(), 191);
    }

    #[test]
    fn crps_kernel_handles_missing_members_and_observations() {
        let (mut members, mut obs) = case();
        members[[2, 1, 0, 1, 1]] = f32::NAN;
        obs[[3, 0, 1, 0, 0]] = f32::NAN;
        for fair in [true, false] {
            let crps = mean_crps(members.view(), obs.view(), fair).unwrap();
            for ((l, y, x), &got) in crps.indexed_iter() {
                let (mut sum, mut n) = (0.0, 0);
                for i in 0..6 {
                    let mut m: Vec<f64> = (0..4)
                        .map(|k| f64::from(members[[i, k, l, y, x]]))
                        .filter(|v| v.is_finite())
                        .collect();
                    let c = crps_ensemble(&mut m, f64::from(obs[[i, 0, l, y, x]]), fair);
                    if c.is_finite() {
                        sum += c;
                        n += 1;
                    }
                }
                assert!(
                    (f64::from(got) - sum / f64::from(n)).abs() < 1e-5,
                    "{l} {y} {x}"
                );
            }
        }
    }

    #[test]
    fn kernels_agree_with_the_per_sample_scores() {
        let (members, obs) = case();
        let crps = mean_crps(members.view(), obs.view(), true).unwrap();
        let acc = ensemble_mean_correlation(members.view(), obs.view()).unwrap();
        let (l, y, x) = (1, 1, 2);
        let mut want = 0.0;
        let mut f = Vec::new();
        let mut o = Vec::new();
        for i in 0..6 {
            let mut m: Vec<f64> = (0..4)
                .map(|k| f64::from(members[[i, k, l, y, x]]))
                .collect();
            f.push(m.iter().sum::<f64>() / 4.0);
            o.push(f64::from(obs[[i, 0, l, y, x]]));
            want += crps_ensemble(&mut m, o[i], true) / 6.0;
        }
        assert!((f64::from(crps[[l, y, x]]) - want).abs() < 1e-5);
        assert!((f64::from(acc[[l, y, x]]) - pearson_r(&f, &o)).abs() < 1e-5);
        let levels = [1.0 / 3.0, 2.0 / 3.0];
        let r = mean_rps(members.view(), obs.view(), &levels).unwrap();
        // By hand at (l, y, x): sorted pools, type-7 edges, counted probabilities.
        let mut pool: Vec<f32> = members.slice(s![.., .., l, y, x]).iter().copied().collect();
        pool.sort_unstable_by(f32::total_cmp);
        let mut opool: Vec<f32> = obs.slice(s![.., 0, l, y, x]).iter().copied().collect();
        opool.sort_unstable_by(f32::total_cmp);
        let fe: Vec<f64> = levels
            .iter()
            .map(|&q| crate::stats::quantile_sorted(&pool, q))
            .collect();
        let oe: Vec<f64> = levels
            .iter()
            .map(|&q| crate::stats::quantile_sorted(&opool, q))
            .collect();
        let mut want = 0.0;
        for i in 0..6 {
            let mut p = [0.0; 3];
            for k in 0..4 {
                p[category_of(members[[i, k, l, y, x]], &fe).unwrap()] += 0.25;
            }
            want += rps(&p, category_of(obs[[i, 0, l, y, x]], &oe).unwrap()) / 6.0;
        }
        assert!(
            (f64::from(r[[l, y, x]]) - want).abs() < 1e-6,
            "{} {want}",
            r[[l, y, x]]
        );
        assert!(r.iter().all(|v| (0.0..=2.0).contains(v)));
        let p = members
            .slice(s![.., 0, .., .., ..])
            .mapv(|v| (v > 0.0) as u8 as f32);
        let e = obs.slice(s![.., 0, .., .., ..]).mapv(|v| u8::from(v > 0.0));
        let roc = roc_area_map(p.view(), e.view()).unwrap();
        assert!(roc.iter().all(|v| v.is_nan() || (0.0..=1.0).contains(v)));
        assert!(mean_crps(members.view(), members.view(), true).is_err());
    }
}
