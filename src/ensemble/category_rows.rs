//! The row kernels of [`super::model_edge_probabilities`]: for one latitude row of one lead,
//! the category edges of every cell from its hindcast climatology, and the category counts of
//! the members of one start, both on the row as it lies in the cube — `samples × cells`, the
//! cells contiguous — so nothing is transposed cell-major.
//!
//! # Edges
//! For a cell with `n` finite climatology values and level `p`: `h = (n − 1) p`, `r = ⌊h⌋`,
//! `q = x₍ᵣ₎ + (h − r)(x₍ᵣ₊₁₎ − x₍ᵣ₎)` (Hyndman & Fan 1996, type 7; numpy's default) — the
//! same numbers as [`super::category_edges`] on the sorted values.
//!
//! On x86-64 with AVX2, eight neighbouring cells are done at once, one lane each, and the order
//! statistics x₍ᵣ₎, x₍ᵣ₊₁₎ of each level are found by *counting* instead of moving values. A
//! bracket `[lo, hi)` with `#{x < lo} ≤ r < #{x < hi}` starts at `[min, max⁺)` and shrinks with
//! each pass over the block — one compare and one subtract per value and level — to a guess
//! `t`, given `#{x < t}`:
//! - the first pass guesses `μ + zσ` (the normal approximation of the cell's values, `z` the
//!   standard normal quantile of `(r + ½)/n`) and also counts the values equal to the minimum
//!   (a probe just above it), so ties there — the zeros of dry cells — do not mislead what
//!   follows;
//! - later passes interpolate the counts linearly between `lo` and `hi` (regula falsi),
//!   aiming between x₍ᵣ₎ and x₍ᵣ₊₁₎, or take the middle of the bracket when the last two
//!   moves went the same way (then the middle of the order-preserving integer keys when the
//!   values leave no float in between).
//!
//! A lane stops when `#{x < hi} = r + 1` (`hi` splits x₍ᵣ₎, the largest value below it, from
//! x₍ᵣ₊₁₎, the smallest from it on), when `#{x < lo} = r` (x₍ᵣ₎ and x₍ᵣ₊₁₎ are the two smallest
//! from `lo` on), or when the bracket holds one value; one last pass takes those minima and
//! maxima. On the peers' workload (240 values a cell) a block of 8 cells × 2 terciles needs
//! 6–8 passes. Brackets still open after [`MAX_PASSES`] passes are finished by collecting
//! their (≤ 64) values from the column and sorting them. Blocks holding a non-finite value,
//! cells past the last full block, more than four levels and other processors use selection
//! on the cell's values (`select_nth_unstable` on order-preserving integer keys).
//!
//! # Counts
//! The category rule `c = [x ≥ e₀] + Σ_{j≥1} [x > e_j]` (see [`super::category_of`]) compares
//! f32 members with f64 edges. For an f32 `x`, `x ≥ e ⇔ x ≥ ⌈e⌉₃₂` and `x > e ⇔ x > ⌊e⌋₃₂`
//! (the nearest f32 at or above / at or below `e`: no f32 lies strictly between), so the counts
//! run on f32 thresholds, eight or more cells per instruction, with the same results.
//!
//! # References
//! Hyndman & Fan (1996), Am. Stat. 50, 361–365; Floyd & Rivest (1975), CACM 18, 165–172 (on
//! selection by narrowing a bracket around the wanted ranks).

use crate::stats::{finite, from_order_key, order_key};

/// Counting passes before open brackets are finished by collecting their values.
const MAX_PASSES: usize = 14;

/// The most values an open bracket may hold after [`MAX_PASSES`] to be finished by collecting
/// them from the column; wider ones go to selection.
#[cfg(target_arch = "x86_64")]
const STRAGGLER: usize = 64;

/// The ranks and interpolation weight of one level for `n` values.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// `h = (n − 1) p`.
    h: f64,
    /// `⌊h⌋`.
    r: usize,
    /// The standard normal quantile at `(r + ½) / n`: the first guess of the counting passes
    /// is `μ + zσ` of the column.
    z: f32,
}

impl Level {
    fn new(n: usize, p: f64) -> Self {
        let h = n.saturating_sub(1) as f64 * p.clamp(0.0, 1.0);
        let r = h as usize;
        let z = crate::stats::standard_normal_quantile((r as f64 + 0.5) / n.max(1) as f64);
        Level { h, r, z: z as f32 }
    }

    /// The type-7 quantile from the order statistics `x₍ᵣ₎ = a` and `x₍ᵣ₊₁₎ = b` (`b` unused
    /// when `r` is the last rank).
    #[inline]
    fn quantile(&self, n: usize, a: f32, b: f32) -> f64 {
        let a = f64::from(a);
        if self.r + 1 < n {
            a + (self.h - self.r as f64) * (f64::from(b) - a)
        } else {
            a
        }
    }
}

/// Reusable buffers of [`column_edges`], and its limit of counting passes per block.
#[derive(Debug)]
pub(super) struct ColumnScratch {
    keys: Vec<u32>,
    edges: Vec<f64>,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    max_passes: usize,
}

impl Default for ColumnScratch {
    fn default() -> Self {
        ColumnScratch {
            keys: Vec::new(),
            edges: Vec::new(),
            max_passes: MAX_PASSES,
        }
    }
}

/// Type-7 quantiles at the ascending `levels` (in `[0, 1]`) of the finite values of each
/// column of `rows` (`rows.len() / nx` rows of `nx` cells): `out[j * nx + x]` for level `j` and
/// cell `x` (NaN for a cell without finite values), and `n_finite[x]`, the finite values of
/// cell `x`.
pub(super) fn column_edges(
    rows: &[f32],
    nx: usize,
    levels: &[f64],
    scratch: &mut ColumnScratch,
    out: &mut [f64],
    n_finite: &mut [u32],
) {
    if nx == 0 {
        return;
    }
    let nrow = rows.len() / nx;
    let mut x = 0;
    #[cfg(target_arch = "x86_64")]
    if nrow > 0 && std::arch::is_x86_feature_detected!("avx2") {
        let plan: Vec<Level> = levels.iter().map(|&p| Level::new(nrow, p)).collect();
        let max_passes = scratch.max_passes;
        while x + 8 <= nx {
            // SAFETY: the processor supports AVX2 (checked above); columns x..x+8 exist.
            let left = unsafe {
                match plan.len() {
                    1 => avx2::block::<1>(rows, nx, x, &plan, out, max_passes),
                    2 => avx2::block::<2>(rows, nx, x, &plan, out, max_passes),
                    3 => avx2::block::<3>(rows, nx, x, &plan, out, max_passes),
                    4 => avx2::block::<4>(rows, nx, x, &plan, out, max_passes),
                    _ => 0xff,
                }
            };
            for lane in 0..8 {
                if left & (1 << lane) != 0 {
                    column_by_selection(rows, nx, x + lane, levels, scratch, out, n_finite);
                } else {
                    n_finite[x + lane] = nrow as u32;
                }
            }
            x += 8;
        }
    }
    for x in x..nx {
        column_by_selection(rows, nx, x, levels, scratch, out, n_finite);
    }
}

/// The edges of one column by selection on its finite values' keys.
fn column_by_selection(
    rows: &[f32],
    nx: usize,
    x: usize,
    levels: &[f64],
    scratch: &mut ColumnScratch,
    out: &mut [f64],
    n_finite: &mut [u32],
) {
    let keys = &mut scratch.keys;
    keys.resize(rows.len() / nx, 0);
    let mut n = 0;
    for row in rows.chunks_exact(nx) {
        // Written branch-free: a non-finite value's slot is taken by the next value.
        let v = row[x];
        keys[n] = order_key(v);
        n += usize::from(finite(v));
    }
    n_finite[x] = n as u32;
    scratch.edges.resize(levels.len(), 0.0);
    select_edges(&mut keys[..n], levels, &mut scratch.edges);
    for (j, &e) in scratch.edges.iter().enumerate() {
        out[j * nx + x] = e;
    }
}

/// Type-7 quantiles at ascending `levels` of the values behind `keys` (reordered), by
/// successive selection: the same numbers as [`super::category_edges`] on the sorted values.
/// NaN for an empty sample.
fn select_edges(keys: &mut [u32], levels: &[f64], out: &mut [f64]) {
    let n = keys.len();
    if n == 0 {
        out.fill(f64::NAN);
        return;
    }
    // `keys[..done]` holds the smallest `done` keys (unordered), `keys[done..]` the rest.
    let mut done = 0;
    for (o, &p) in out.iter_mut().zip(levels) {
        let level = Level::new(n, p);
        let lo = level.r;
        let a = if lo >= done {
            let (_, &mut a, _) = keys[done..].select_nth_unstable(lo - done);
            done = lo + 1;
            a
        } else {
            // A level whose order statistic lies among the keys already set apart (the
            // smallest `done`): select within them.
            let (_, &mut a, _) = keys[..done].select_nth_unstable(lo);
            a
        };
        let b = if lo + 1 >= n {
            a
        } else if lo + 1 >= done {
            // Smallest of the keys after `lo`.
            *keys[lo + 1..].iter().min().expect("lo + 1 < n")
        } else {
            let (_, &mut b, _) = keys[..done].select_nth_unstable(lo + 1);
            b
        };
        *o = level.quantile(n, from_order_key(a), from_order_key(b));
    }
}

/// The nearest f32 at or above `e` (NaN stays NaN): for f32 `x`, `x ≥ e ⇔ x ≥ at_least(e)`.
pub(super) fn f32_at_least(e: f64) -> f32 {
    let f = e as f32;
    if f64::from(f) < e {
        from_order_key(order_key(f) + 1)
    } else {
        f
    }
}

/// The nearest f32 at or below `e` (NaN stays NaN): for f32 `x`, `x > e ⇔ x > at_most(e)`.
pub(super) fn f32_at_most(e: f64) -> f32 {
    let f = e as f32;
    if f64::from(f) > e {
        from_order_key(order_key(f) - 1)
    } else {
        f
    }
}

/// Category counts of one start's members at every cell of a row. `members` holds the
/// members' rows (`nx` values each); `thresholds[j * nx + x]` is [`f32_at_least`] of the
/// lowest edge for `j = 0` and [`f32_at_most`] of edge `j` above. On return `valid[x]` is the
/// number of finite members of cell `x` and `above[j * nx + x]` the number of them in a
/// category above `j`, so category `c` holds `above[c − 1] − above[c]` (with `valid` before the
/// first and 0 after the last).
pub(super) fn count_members(
    members: &[f32],
    nx: usize,
    thresholds: &[f32],
    valid: &mut [u32],
    above: &mut [u32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        unsafe { count_members_avx2(members, nx, thresholds, valid, above) };
        return;
    }
    count_members_portable(members, nx, thresholds, valid, above);
}

/// [`count_members_portable`] compiled for AVX2 (the loops vectorise over the cells).
///
/// # Safety
/// Only on processors with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn count_members_avx2(
    members: &[f32],
    nx: usize,
    thresholds: &[f32],
    valid: &mut [u32],
    above: &mut [u32],
) {
    count_members_portable(members, nx, thresholds, valid, above);
}

#[inline(always)]
fn count_members_portable(
    members: &[f32],
    nx: usize,
    thresholds: &[f32],
    valid: &mut [u32],
    above: &mut [u32],
) {
    let valid = &mut valid[..nx];
    valid.fill(0);
    above.fill(0);
    for row in members.chunks_exact(nx) {
        for (v, &x) in valid.iter_mut().zip(row) {
            *v += u32::from(finite(x));
        }
        for (j, (count, t)) in above
            .chunks_exact_mut(nx)
            .zip(thresholds.chunks_exact(nx))
            .enumerate()
        {
            // Only finite members count (+∞ would pass every threshold).
            if j == 0 {
                for ((c, &x), &t) in count.iter_mut().zip(row).zip(t) {
                    *c += u32::from((x >= t) & finite(x));
                }
            } else {
                for ((c, &x), &t) in count.iter_mut().zip(row).zip(t) {
                    *c += u32::from((x > t) & finite(x));
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Level, STRAGGLER};

    /// Order-preserving integer keys of non-NaN values (as `stats::order_key`).
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn key(v: __m256) -> __m256i {
        let b = _mm256_castps_si256(v);
        let negative = _mm256_srai_epi32::<31>(b);
        _mm256_xor_si256(b, _mm256_or_si256(negative, _mm256_set1_epi32(i32::MIN)))
    }

    /// Inverse of [`key`].
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn from_key(k: __m256i) -> __m256 {
        // Top bit set: a value ≥ +0, clear the bit; otherwise a negative value, flip all bits.
        let top = _mm256_srai_epi32::<31>(k);
        let flip = _mm256_or_si256(
            _mm256_xor_si256(top, _mm256_set1_epi32(-1)),
            _mm256_set1_epi32(i32::MIN),
        );
        _mm256_castsi256_ps(_mm256_xor_si256(k, flip))
    }

    /// Lanes whose `hi` is the next float after `lo` (the bracket holds one value).
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn one_value(lo: __m256, hi: __m256) -> __m256i {
        let d = _mm256_sub_epi32(key(hi), key(lo));
        _mm256_cmpeq_epi32(_mm256_min_epu32(d, _mm256_set1_epi32(1)), d)
    }

    /// One level's bracket per lane.
    #[derive(Clone, Copy)]
    struct Bracket {
        lo: __m256,
        hi: __m256,
        /// `#{x < lo}` and `#{x < hi}`.
        below_lo: __m256i,
        below_hi: __m256i,
        /// Lanes still narrowing.
        open: __m256i,
        /// Lanes whose last move raised `lo` / lowered `hi`.
        raised: __m256i,
        lowered: __m256i,
        /// Lanes whose next guess is the middle of the bracket: the last two moves went the
        /// same way (regula falsi stalling on one side).
        bisect: __m256i,
    }

    impl Bracket {
        /// Lanes done: `hi` splits x₍ᵣ₎ from x₍ᵣ₊₁₎, `lo` is x₍ᵣ₎, or one value is left.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn settled(&self, r: i32) -> __m256i {
            let split = _mm256_cmpeq_epi32(self.below_hi, _mm256_set1_epi32(r + 1));
            let at_lo = _mm256_cmpeq_epi32(self.below_lo, _mm256_set1_epi32(r));
            _mm256_or_si256(_mm256_or_si256(split, at_lo), one_value(self.lo, self.hi))
        }

        /// The next guess strictly inside every open lane's bracket.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn guess(&self, r: i32) -> __m256 {
            let span = _mm256_cvtepi32_ps(_mm256_sub_epi32(self.below_hi, self.below_lo));
            // Aim between x₍ᵣ₎ and x₍ᵣ₊₁₎: `#{x < t} = r + ½` on the straight line.
            let aim = _mm256_sub_ps(
                _mm256_set1_ps(r as f32 + 0.5),
                _mm256_cvtepi32_ps(self.below_lo),
            );
            let width = _mm256_sub_ps(self.hi, self.lo);
            let interpolated =
                _mm256_add_ps(self.lo, _mm256_mul_ps(width, _mm256_div_ps(aim, span)));
            let half = _mm256_set1_ps(0.5);
            let middle = _mm256_add_ps(_mm256_mul_ps(self.lo, half), _mm256_mul_ps(self.hi, half));
            let t = _mm256_blendv_ps(interpolated, middle, _mm256_castsi256_ps(self.bisect));
            self.inside(t)
        }

        /// `t` where it lies strictly inside the bracket, else the middle of the bracket's
        /// integer keys (strictly inside wherever the bracket holds more than one value).
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn inside(&self, t: __m256) -> __m256 {
            // No −0: it equals +0 but has another key.
            let t = _mm256_add_ps(t, _mm256_setzero_ps());
            let inside = self.strictly_inside(t);
            let (klo, khi) = (key(self.lo), key(self.hi));
            let key_middle =
                _mm256_add_epi32(klo, _mm256_srli_epi32::<1>(_mm256_sub_epi32(khi, klo)));
            _mm256_blendv_ps(from_key(key_middle), t, inside)
        }

        /// Lanes where `lo < t < hi`.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn strictly_inside(&self, t: __m256) -> __m256 {
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GT_OQ>(t, self.lo),
                _mm256_cmp_ps::<_CMP_LT_OQ>(t, self.hi),
            )
        }

        /// Moves `lo` or `hi` of the open lanes where `t` lies inside the bracket to `t`,
        /// given `below = #{x < t}`.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn update(&mut self, r: i32, t: __m256, below: __m256i) {
            let inside = _mm256_castps_si256(self.strictly_inside(t));
            let moving = _mm256_and_si256(self.open, inside);
            let at_most_r = _mm256_cmpgt_epi32(_mm256_set1_epi32(r + 1), below);
            let raise = _mm256_and_si256(at_most_r, moving);
            let lower = _mm256_andnot_si256(at_most_r, moving);
            self.lo = _mm256_blendv_ps(self.lo, t, _mm256_castsi256_ps(raise));
            self.below_lo = _mm256_blendv_epi8(self.below_lo, below, raise);
            self.hi = _mm256_blendv_ps(self.hi, t, _mm256_castsi256_ps(lower));
            self.below_hi = _mm256_blendv_epi8(self.below_hi, below, lower);
            self.bisect = _mm256_or_si256(
                _mm256_and_si256(raise, self.raised),
                _mm256_and_si256(lower, self.lowered),
            );
            self.raised = raise;
            self.lowered = lower;
            self.open = _mm256_andnot_si256(self.settled(r), self.open);
        }
    }

    /// `#{x < t_j}` for each of the `L` thresholds and, with `PROBE`, `#{x < probe}`, over the
    /// `nrow` rows of 8 values at `base`, `nx` apart.
    ///
    /// # Safety
    /// AVX2, and 8 readable values at `base + i·nx` for every `i < nrow`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn count_below<const L: usize, const PROBE: bool>(
        base: *const f32,
        nx: usize,
        nrow: usize,
        t: &[__m256; L],
        probe: __m256,
    ) -> ([__m256i; L], __m256i) {
        // Two accumulators each keep the dependency chains short (rows taken in pairs, so
        // they stay in registers).
        let mut below = [[_mm256_setzero_si256(); L]; 2];
        let mut probed = [_mm256_setzero_si256(); 2];
        let mut i = 0;
        while i < nrow {
            let pair = (nrow - i).min(2);
            for u in 0..2 {
                if u == pair {
                    break;
                }
                let x = _mm256_loadu_ps(base.add((i + u) * nx));
                for j in 0..L {
                    let lt = _mm256_cmp_ps::<_CMP_LT_OQ>(x, t[j]);
                    below[u][j] = _mm256_sub_epi32(below[u][j], _mm256_castps_si256(lt));
                }
                if PROBE {
                    let lt = _mm256_cmp_ps::<_CMP_LT_OQ>(x, probe);
                    probed[u] = _mm256_sub_epi32(probed[u], _mm256_castps_si256(lt));
                }
            }
            i += pair;
        }
        (
            std::array::from_fn(|j| _mm256_add_epi32(below[0][j], below[1][j])),
            _mm256_add_epi32(probed[0], probed[1]),
        )
    }

    /// The edges of columns `x0 .. x0 + 8` of `rows` at the levels of `plan` (all `L`), into
    /// `out[j * nx + x]`. Returns the lanes left to selection (bit `i` for column `x0 + i`):
    /// all of them when the block holds a non-finite value.
    ///
    /// # Safety
    /// Only on processors with AVX2; `x0 + 8 ≤ nx`, `rows.len() ≥ nx`, `plan.len() == L`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn block<const L: usize>(
        rows: &[f32],
        nx: usize,
        x0: usize,
        plan: &[Level],
        out: &mut [f64],
        max_passes: usize,
    ) -> u32 {
        let nrow = rows.len() / nx;
        assert!(x0 + 8 <= nx && nrow > 0 && plan.len() == L && out.len() >= L * nx);
        let base = rows.as_ptr().add(x0);
        // SAFETY (every load below): row `i < nrow` of the block starts at `i * nx + x0` and
        // has 8 values since `x0 + 8 ≤ nx`.
        macro_rules! load {
            ($i:expr) => {
                _mm256_loadu_ps(base.add($i * nx))
            };
        }

        // Range, finiteness (x − x is 0 for finite x, NaN otherwise), and the mean and
        // standard deviation (of the differences from the first row, for accuracy in f32).
        let mut min = _mm256_set1_ps(f32::INFINITY);
        let mut max = _mm256_set1_ps(f32::NEG_INFINITY);
        let mut odd = _mm256_setzero_ps();
        let first = load!(0);
        let (mut sum, mut sumsq) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        for i in 0..nrow {
            let x = load!(i);
            min = _mm256_min_ps(min, x);
            max = _mm256_max_ps(max, x);
            odd = _mm256_or_ps(odd, _mm256_sub_ps(x, x));
            let d = _mm256_sub_ps(x, first);
            sum = _mm256_add_ps(sum, d);
            sumsq = _mm256_add_ps(sumsq, _mm256_mul_ps(d, d));
        }
        if _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(odd, odd)) != 0 {
            return 0xff;
        }
        let inv_n = _mm256_set1_ps(1.0 / nrow as f32);
        let mean_d = _mm256_mul_ps(sum, inv_n);
        let var = _mm256_sub_ps(_mm256_mul_ps(sumsq, inv_n), _mm256_mul_ps(mean_d, mean_d));
        let sd = _mm256_sqrt_ps(_mm256_max_ps(var, _mm256_setzero_ps()));
        let mean = _mm256_add_ps(first, mean_d);

        let zero = _mm256_setzero_ps();
        let lo = _mm256_add_ps(min, zero);
        let hi = from_key(_mm256_add_epi32(
            key(_mm256_add_ps(max, zero)),
            _mm256_set1_epi32(1),
        ));
        let ranks: [i32; L] = std::array::from_fn(|j| plan[j].r as i32);
        let mut brackets = [Bracket {
            lo,
            hi,
            below_lo: _mm256_setzero_si256(),
            below_hi: _mm256_set1_epi32(nrow as i32),
            open: _mm256_set1_epi32(-1),
            raised: _mm256_setzero_si256(),
            lowered: _mm256_setzero_si256(),
            bisect: _mm256_setzero_si256(),
        }; L];
        for (b, &r) in brackets.iter_mut().zip(&ranks) {
            b.open = _mm256_andnot_si256(b.settled(r), b.open);
        }

        // First pass: μ + zσ (the normal approximation of the column), and the probe just
        // above the minimum, which counts the ties at the minimum (dry cells' zeros) so the
        // interpolation afterwards is not misled by them.
        let t: [__m256; L] = std::array::from_fn(|j| {
            brackets[j].inside(_mm256_add_ps(
                mean,
                _mm256_mul_ps(_mm256_set1_ps(plan[j].z), sd),
            ))
        });
        let probe = from_key(_mm256_add_epi32(key(lo), _mm256_set1_epi32(1)));
        let (below, probed) = count_below::<L, true>(base, nx, nrow, &t, probe);
        for j in 0..L {
            brackets[j].update(ranks[j], probe, probed);
            brackets[j].update(ranks[j], t[j], below[j]);
            // The probe is not a guess: interpolate next.
            brackets[j].bisect = _mm256_setzero_si256();
        }
        let mut passes = 1;
        loop {
            let open = brackets
                .iter()
                .fold(_mm256_setzero_si256(), |a, b| _mm256_or_si256(a, b.open));
            if _mm256_testz_si256(open, open) == 1 || passes >= max_passes {
                break;
            }
            passes += 1;
            let t: [__m256; L] = std::array::from_fn(|j| brackets[j].guess(ranks[j]));
            let (below, _) = count_below::<L, false>(base, nx, nrow, &t, zero);
            for j in 0..L {
                brackets[j].update(ranks[j], t[j], below[j]);
            }
        }
        let mut left = 0u32;

        // Last pass, for the levels that need it: the two smallest values from `lo` (x₍ᵣ₎ and
        // x₍ᵣ₊₁₎ where `#{x < lo} = r`) and the values either side of `hi` (where
        // `#{x < hi} = r + 1`).
        let mut from_lo = [[_mm256_set1_ps(f32::INFINITY); 2]; L];
        let mut below_hi = [_mm256_set1_ps(f32::NEG_INFINITY); L];
        let mut from_hi = [_mm256_set1_ps(f32::INFINITY); L];
        let mut need = [(false, false); L];
        for (j, b) in brackets.iter().enumerate() {
            let done = _mm256_andnot_si256(b.open, _mm256_set1_epi32(-1));
            let at_lo = _mm256_and_si256(
                _mm256_cmpeq_epi32(b.below_lo, _mm256_set1_epi32(ranks[j])),
                done,
            );
            let split = _mm256_and_si256(
                _mm256_cmpeq_epi32(b.below_hi, _mm256_set1_epi32(ranks[j] + 1)),
                done,
            );
            need[j] = (
                _mm256_testz_si256(at_lo, at_lo) == 0,
                _mm256_testz_si256(split, split) == 0,
            );
        }
        if need.iter().any(|&(a, b)| a || b) {
            let inf = _mm256_set1_ps(f32::INFINITY);
            let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
            for i in 0..nrow {
                let x = load!(i);
                for j in 0..L {
                    let b = &brackets[j];
                    if need[j].0 {
                        let v = _mm256_blendv_ps(inf, x, _mm256_cmp_ps::<_CMP_GE_OQ>(x, b.lo));
                        let [first, second] = &mut from_lo[j];
                        *second = _mm256_min_ps(*second, _mm256_max_ps(*first, v));
                        *first = _mm256_min_ps(*first, v);
                    }
                    if need[j].1 {
                        let lt = _mm256_cmp_ps::<_CMP_LT_OQ>(x, b.hi);
                        below_hi[j] = _mm256_max_ps(below_hi[j], _mm256_blendv_ps(neg_inf, x, lt));
                        from_hi[j] = _mm256_min_ps(from_hi[j], _mm256_blendv_ps(x, inf, lt));
                    }
                }
            }
        }

        let n = nrow;
        for j in 0..L {
            let b = &brackets[j];
            let (lo, hi) = (floats(b.lo), floats(b.hi));
            let (below_lo, below_hi_count) = (ints(b.below_lo), ints(b.below_hi));
            let (smallest, second) = (floats(from_lo[j][0]), floats(from_lo[j][1]));
            let (under, over) = (floats(below_hi[j]), floats(from_hi[j]));
            let level = &plan[j];
            let r = level.r;
            let open = _mm256_movemask_ps(_mm256_castsi256_ps(b.open)) as u32;
            for lane in 0..8 {
                let (a, b) = if open & (1 << lane) != 0 {
                    // Still open: the bracket's few values of this column, sorted.
                    let skipped = below_lo[lane] as usize;
                    let span = below_hi_count[lane] as usize - skipped;
                    // One slot more than kept: every value is written, the next one overwrites
                    // it unless it lies in the bracket.
                    let mut few = [0f32; STRAGGLER + 1];
                    let mut k = 0;
                    if span <= STRAGGLER {
                        for row in rows.chunks_exact(nx) {
                            let v = row[x0 + lane];
                            few[k.min(STRAGGLER)] = v;
                            k += usize::from((v >= lo[lane]) & (v < hi[lane]));
                        }
                    }
                    if span > STRAGGLER || k != span {
                        left |= 1 << lane;
                        continue;
                    }
                    let few = &mut few[..k];
                    few.sort_unstable_by(f32::total_cmp);
                    // Not split, so x₍ᵣ₊₁₎ lies in the bracket too.
                    (few[r - skipped], few[(r + 1 - skipped).min(k - 1)])
                } else if below_hi_count[lane] as usize == r + 1 {
                    (under[lane], over[lane])
                } else if below_lo[lane] as usize == r {
                    (smallest[lane], second[lane])
                } else {
                    // One value in the bracket, and x₍ᵣ₊₁₎ in it too (not split).
                    (lo[lane], lo[lane])
                };
                out[j * nx + x0 + lane] = level.quantile(n, a, b);
            }
        }
        left
    }

    /// The lanes of a float vector.
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn floats(v: __m256) -> [f32; 8] {
        let mut a = [0f32; 8];
        _mm256_storeu_ps(a.as_mut_ptr(), v);
        a
    }

    /// The lanes of an integer vector.
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ints(v: __m256i) -> [i32; 8] {
        let mut a = [0i32; 8];
        _mm256_storeu_si256(a.as_mut_ptr() as *mut __m256i, v);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::category_edges;
    use proptest::prelude::*;

    /// Edges of each column by sorting it (the definition).
    fn edges_by_sorting(rows: &[f32], nx: usize, levels: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; levels.len() * nx];
        for x in 0..nx {
            let mut col: Vec<f32> = rows
                .chunks_exact(nx)
                .map(|r| r[x])
                .filter(|v| v.is_finite())
                .collect();
            col.sort_unstable_by(f32::total_cmp);
            let mut e = vec![0.0; levels.len()];
            category_edges(&col, levels, &mut e);
            for (j, e) in e.into_iter().enumerate() {
                out[j * nx + x] = e;
            }
        }
        out
    }

    fn check(rows: &[f32], nx: usize, levels: &[f64]) {
        check_within(rows, nx, levels, usize::MAX);
    }

    /// With few passes allowed, open brackets end in collection or selection.
    fn check_within(rows: &[f32], nx: usize, levels: &[f64], max_passes: usize) {
        let mut out = vec![0.0; levels.len() * nx];
        let mut n = vec![0; nx];
        let mut scratch = ColumnScratch {
            max_passes,
            ..Default::default()
        };
        column_edges(rows, nx, levels, &mut scratch, &mut out, &mut n);
        let want = edges_by_sorting(rows, nx, levels);
        for (k, (a, b)) in out.iter().zip(&want).enumerate() {
            // ±0 are one value: compared with `==`.
            assert!(
                a == b || (a.is_nan() && b.is_nan()),
                "level {} cell {}: {a} vs {b}",
                k / nx,
                k % nx
            );
        }
        for (x, &n) in n.iter().enumerate() {
            let finite = rows.chunks_exact(nx).filter(|r| r[x].is_finite()).count();
            assert_eq!(n as usize, finite);
        }
    }

    /// Terciles of one column and its count of finite values.
    fn terciles_of_one_column(rows: &[f32]) -> ([f64; 2], u32) {
        let mut out = [0.0; 2];
        let mut n = [0];
        let mut scratch = ColumnScratch::default();
        column_edges(rows, 1, &TERCILES_TEST, &mut scratch, &mut out, &mut n);
        (out, n[0])
    }

    #[test]
    fn hand_checked_terciles_of_one_column() {
        // 1..=10 in some order: h = 9/3 = 3 → x₍₃₎ = 4; h = 6 → x₍₆₎ = 7.
        let rows = [7.0, 3.0, 10.0, 1.0, 5.0, 9.0, 2.0, 8.0, 4.0, 6.0f32];
        assert_eq!(terciles_of_one_column(&rows), ([4.0, 7.0], 10));
        // 1..=11: h = 10/3 → 4 + (1/3)(5 − 4); h = 20/3 → 7 + (2/3)(8 − 7).
        let rows: Vec<f32> = (1..=11).rev().map(|v| v as f32).collect();
        let (out, n) = terciles_of_one_column(&rows);
        assert_eq!(n, 11);
        assert!((out[0] - (4.0 + 1.0 / 3.0)).abs() < 1e-12);
        assert!((out[1] - (7.0 + 2.0 / 3.0)).abs() < 1e-12);
    }

    const TERCILES_TEST: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];

    /// A row block of `nrow × nx` pseudo-random values of several shapes per column.
    fn block(nrow: usize, nx: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f64) / (1u64 << 31) as f64
        };
        let mut rows = vec![0f32; nrow * nx];
        for x in 0..nx {
            for i in 0..nrow {
                let u = next();
                rows[i * nx + x] = match x % 8 {
                    0 => (280.0 + 10.0 * (u - 0.5)) as f32, // temperature-like
                    1 => (-(1.0 - u).ln() * 3.0) as f32,    // skewed
                    2 => {
                        if u < 0.6 {
                            0.0
                        } else {
                            (u * 20.0) as f32
                        }
                    } // dry days
                    3 => (u * 4.0).floor() as f32,          // ties
                    4 => {
                        if u < 0.02 {
                            1e30
                        } else {
                            u as f32
                        }
                    } // an outlier
                    5 => 5.0,                               // constant
                    6 => ((u - 0.5) * 1e-40) as f32,        // subnormal, ±0
                    _ => ((u - 0.5) * 2e6) as f32,
                };
            }
        }
        rows
    }

    #[test]
    fn counting_gives_the_edges_of_sorting_on_many_shapes() {
        for (nrow, nx, seed) in [
            (240, 64, 1),
            (7, 16, 2),
            (1, 8, 3),
            (17, 24, 4),
            (1530, 16, 5),
            (240, 19, 6),
        ] {
            let rows = block(nrow, nx, seed);
            for levels in [
                &[1.0 / 3.0, 2.0 / 3.0][..],
                &[0.1, 1.0 / 3.0, 2.0 / 3.0, 0.9],
                &[0.0, 1.0],
                &[0.5],
                &[0.1, 0.2, 0.5, 0.8, 0.9],
            ] {
                check(&rows, nx, levels);
            }
        }
    }

    #[test]
    fn brackets_still_open_after_the_last_pass_are_finished_exactly() {
        for (nrow, nx, seed) in [(240, 32, 11), (60, 16, 12), (1530, 8, 13)] {
            let rows = block(nrow, nx, seed);
            for max_passes in [1, 2, 3, 5] {
                check_within(&rows, nx, &[0.1, 1.0 / 3.0, 2.0 / 3.0, 0.9], max_passes);
                check_within(&rows, nx, &[1.0 / 3.0, 2.0 / 3.0], max_passes);
            }
        }
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let mut rows = block(240, 16, 7);
        rows[5 * 16 + 2] = f32::NAN;
        rows[9 * 16 + 11] = f32::INFINITY;
        rows[10 * 16 + 11] = f32::NEG_INFINITY;
        for i in 0..240 {
            rows[i * 16 + 13] = f32::NAN; // a masked cell
        }
        check(&rows, 16, &TERCILES_TEST);
    }

    #[test]
    fn thresholds_are_the_f32_equivalents_of_the_edges() {
        for e in [
            0.1f64,
            -0.1,
            1.0 / 3.0,
            280.123456789,
            0.0,
            -1e-50,
            1e-50,
            5.0,
        ] {
            let (lo, hi) = (f32_at_least(e), f32_at_most(e));
            assert!(f64::from(lo) >= e && f64::from(hi) <= e);
            for x in [
                lo,
                hi,
                from_order_key(order_key(lo) + 1),
                from_order_key(order_key(hi) - 1),
            ] {
                assert_eq!(x >= lo, f64::from(x) >= e, "{x} ≥ {e}");
                assert_eq!(x > hi, f64::from(x) > e, "{x} > {e}");
            }
        }
        assert!(f32_at_least(f64::NAN).is_nan());
    }

    #[test]
    fn counts_follow_the_category_rule() {
        // Two cells, edges 1 and 2 (cell 0) and 0.5 and 0.5 (cell 1); three members.
        let members = [0.5, 1.0, 1.0, f32::NAN, 2.0, 0.7, f32::INFINITY, 0.5];
        let thresholds = [
            f32_at_least(1.0),
            f32_at_least(0.5),
            f32_at_most(2.0),
            f32_at_most(0.5),
        ];
        let mut valid = [0; 2];
        let mut above = [0; 4];
        count_members(&members, 2, &thresholds, &mut valid, &mut above);
        // Rows [0.5, 1.0], [1.0, NaN], [2.0, 0.7], [∞, 0.5]. Cell 0 (edges 1, 2): 0.5 below,
        // 1.0 and 2.0 near (2.0 lies on the upper edge), ∞ not counted. Cell 1 (edges 0.5, 0.5):
        // 0.5 near (on both edges), 1.0 and 0.7 above, NaN not counted.
        assert_eq!(valid, [3, 3]);
        assert_eq!(&above[..2], &[2, 3]);
        assert_eq!(&above[2..], &[0, 2]);
    }

    proptest! {
        #[test]
        fn edges_equal_sorting(values in proptest::collection::vec(-1e3f32..1e3, 8..400), cut in 0usize..6) {
            // Coarsen some values to create ties.
            let values: Vec<f32> = values.iter().map(|v| if cut > 2 { (v / cut as f32).round() } else { *v }).collect();
            let nx = 8;
            let nrow = values.len() / nx;
            check(&values[..nrow * nx], nx, &[0.1, 1.0 / 3.0, 2.0 / 3.0, 0.9]);
        }
    }
}
