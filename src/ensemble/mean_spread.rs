//! The streaming kernel of [`super::ensemble_mean_spread`]: per cell, the weighted mean and
//! standard deviation of all members of all models,
//!
//! `μ = Σ_m w_m μ_m / W`, `σ² = Σ_m w_m q_m / W − μ²`, `W = Σ_m w_m`, with
//! `μ_m = Σ_k x_k / n_m` and `q_m = Σ_k x_k² / n_m` over the `n_m` finite members of model `m`
//! (f64 sums). Computed as `(w_m / n_m)·Σ_k x_k` and `1/W`, so that where every member is
//! finite one division per model and one per call serve all cells; `σ` is the f32 root of the
//! f64 variance rounded to f32 (within an ulp of the rounded f64 root, at a fraction of its
//! cost).
//!
//! The members of a start are `plane`-long maps one after the other, so a cell's members are
//! `plane` values apart. Blocks of [`MEAN_BLOCK`] neighbouring cells keep their sums in
//! registers while every member streams past (one 64-byte line per member and block), and the
//! line a few blocks ahead is prefetched: with 25–50 members per start that many streams are
//! more than the hardware prefetcher follows. Nothing but the two output maps is written.
//!
//! The AVX2 path (runtime detection) first sums a model's members without looking at them:
//! an f32 squared is below 1.2e77, so no sum of them in f64 overflows, and the sum of a cell is
//! finite exactly when all its members are. Only blocks with a missing member (NaN, ±∞) are
//! summed again with the members masked and counted. Per lane it does exactly what the
//! portable loop does — exact f32 → f64 conversion, then adds and multiplies in member order,
//! no fused multiply-add — so both give the same bits.

/// Cells per register block: 16 f32 values of a member are two AVX2 loads, and a model's f64
/// sums and sums of squares over the block are eight 256-bit registers.
pub(super) const MEAN_BLOCK: usize = 16;

/// Cells of one parallel task (a slice of one start's `lead × y × x` plane): large enough that
/// rayon's overhead vanishes, small enough that a forecast (one start) keeps both cores busy.
pub(super) const MEAN_TASK: usize = 8192;

/// Values ahead of the current block that are prefetched in each member's map (8 blocks).
#[cfg(target_arch = "x86_64")]
const PREFETCH_AHEAD: usize = 8 * MEAN_BLOCK;

/// One model's members at one start: `members` maps of `plane` values one after the other,
/// and the model's weight (`None`: pooled, every member weighs 1).
pub(super) struct ModelBlock<'a> {
    values: &'a [f32],
    members: usize,
    plane: usize,
    weight: Option<f64>,
    /// Weight `w` and factor `w / n` where all `n` members are finite (w = 0 without weight).
    complete: (f64, f64),
}

impl<'a> ModelBlock<'a> {
    /// `members` maps of `plane` values in `values`; `weight` `None` is pooled (every member
    /// weighs 1), given weights are taken as they are (negative ones as 0).
    pub fn new(values: &'a [f32], members: usize, plane: usize, weight: Option<f64>) -> Self {
        let n = members as f64;
        let w = weight.unwrap_or(n);
        let w = if w > 0.0 && members > 0 { w } else { 0.0 };
        let f = if members > 0 { w / n } else { 0.0 };
        ModelBlock {
            values,
            members,
            plane,
            weight: weight.map(|w| w.max(0.0)),
            complete: (w, f),
        }
    }
}

/// A model's sums over its members for the cells of one block.
struct MemberSums {
    sum: [f64; MEAN_BLOCK],
    sumsq: [f64; MEAN_BLOCK],
    count: [u32; MEAN_BLOCK],
}

/// Per-cell running totals over the models of one block.
#[derive(Default)]
struct BlockTotals {
    total: [f64; MEAN_BLOCK],
    total_sq: [f64; MEAN_BLOCK],
    wsum: [f64; MEAN_BLOCK],
    // Model-equal totals: the fallback of `model_weights` where given weights are all zero on
    // the models present.
    eq_total: [f64; MEAN_BLOCK],
    eq_total_sq: [f64; MEAN_BLOCK],
    eq_models: [u32; MEAN_BLOCK],
}

impl BlockTotals {
    /// Adds a model's member means to the totals, weighted by the model's weight (or, pooled,
    /// by its count of finite members); cells where the model has none are left alone. The
    /// model-equal totals are kept only where the weights may all be zero (`fallback`).
    #[inline(always)]
    fn add_model(&mut self, sums: &MemberSums, weight: Option<f64>, fallback: bool) {
        for j in 0..MEAN_BLOCK {
            let has = sums.count[j] > 0;
            let n = f64::from(sums.count[j]);
            let w = weight.unwrap_or(n);
            let w = if has && w > 0.0 { w } else { 0.0 };
            let f = if has { w / n } else { 0.0 };
            self.total[j] += f * sums.sum[j];
            self.total_sq[j] += f * sums.sumsq[j];
            self.wsum[j] += w;
            if fallback {
                let g = if has { 1.0 / n } else { 0.0 };
                self.eq_total[j] += g * sums.sum[j];
                self.eq_total_sq[j] += g * sums.sumsq[j];
                self.eq_models[j] += u32::from(has);
            }
        }
    }

    /// Mean and spread of the first `mean.len()` cells (NaN without any finite member).
    #[inline(always)]
    fn finish(&self, mean: &mut [f32], spread: &mut [f32]) {
        for (j, (mu_out, sd_out)) in mean.iter_mut().zip(spread.iter_mut()).enumerate() {
            let (tot, tsq, ws) = if self.wsum[j] > 0.0 {
                (self.total[j], self.total_sq[j], self.wsum[j])
            } else {
                (
                    self.eq_total[j],
                    self.eq_total_sq[j],
                    f64::from(self.eq_models[j]),
                )
            };
            if ws > 0.0 {
                let inv = 1.0 / ws;
                let mu = tot * inv;
                let var = (tsq * inv - mu * mu).max(0.0);
                *mu_out = mu as f32;
                *sd_out = (var as f32).sqrt();
            } else {
                *mu_out = f32::NAN;
                *sd_out = f32::NAN;
            }
        }
    }
}

/// Mean and spread of the cells `offset .. offset + mean.len()` of a start's plane.
pub(super) fn mean_spread_cells(
    models: &[ModelBlock],
    offset: usize,
    mean: &mut [f32],
    spread: &mut [f32],
) {
    let n = mean.len().min(spread.len());
    let (mean, spread) = (&mut mean[..n], &mut spread[..n]);
    // Only given weights with a zero among them can leave a cell with no weight on the
    // models present, where the model-equal totals take over.
    let fallback = models.iter().any(|m| m.weight == Some(0.0));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        let full = n - n % MEAN_BLOCK;
        let (mean, mean_tail) = mean.split_at_mut(full);
        let (spread, spread_tail) = spread.split_at_mut(full);
        // SAFETY: the processor supports AVX2 (checked just above).
        unsafe { avx2::mean_spread_blocks(models, offset, mean, spread, fallback) };
        portable_blocks(models, offset + full, mean_tail, spread_tail, fallback);
        return;
    }
    portable_blocks(models, offset, mean, spread, fallback);
}

/// The portable loop, block by block (the last block may be short).
fn portable_blocks(
    models: &[ModelBlock],
    offset: usize,
    mean: &mut [f32],
    spread: &mut [f32],
    fallback: bool,
) {
    for (b, (mean_b, spread_b)) in mean
        .chunks_mut(MEAN_BLOCK)
        .zip(spread.chunks_mut(MEAN_BLOCK))
        .enumerate()
    {
        let start = offset + b * MEAN_BLOCK;
        let mut totals = BlockTotals::default();
        for model in models {
            let mut sums = MemberSums {
                sum: [0.0; MEAN_BLOCK],
                sumsq: [0.0; MEAN_BLOCK],
                count: [0; MEAN_BLOCK],
            };
            for k in 0..model.members {
                let at = k * model.plane + start;
                let row = &model.values[at..at + mean_b.len()];
                for (j, &x) in row.iter().enumerate() {
                    let ok = crate::stats::finite(x); // vectorisable, unlike is_finite
                    let v = if ok { f64::from(x) } else { 0.0 };
                    sums.sum[j] += v;
                    sums.sumsq[j] += v * v;
                    sums.count[j] += u32::from(ok);
                }
            }
            totals.add_model(&sums, model.weight, fallback);
        }
        totals.finish(mean_b, spread_b);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{ModelBlock, MEAN_BLOCK, PREFETCH_AHEAD};

    /// Full blocks only (`mean.len()` a multiple of [`MEAN_BLOCK`]). Per lane the same
    /// operations as [`BlockTotals::add_model`] and [`BlockTotals::finish`].
    ///
    /// # Safety
    /// Only on processors with AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn mean_spread_blocks(
        models: &[ModelBlock],
        offset: usize,
        mean: &mut [f32],
        spread: &mut [f32],
        fallback: bool,
    ) {
        // Where every model is complete, every lane's total weight is this sum (added in the
        // same order as the lanes add it), and one division serves all blocks.
        let complete_weight = models.iter().fold(0.0, |acc, m| acc + m.complete.0);
        let complete_inv = _mm256_set1_pd(1.0 / complete_weight);
        for (b, (mean_b, spread_b)) in mean
            .chunks_exact_mut(MEAN_BLOCK)
            .zip(spread.chunks_exact_mut(MEAN_BLOCK))
            .enumerate()
        {
            let start = offset + b * MEAN_BLOCK;
            let mut totals = Totals::new();
            let mut all_complete = true;
            for model in models.iter().filter(|m| m.members > 0) {
                let sums = unmasked_sums(model, start);
                if sums_finite(&sums) {
                    totals.add_complete_model(&sums, model, fallback);
                } else {
                    let sums = member_sums(model, start);
                    totals.add_model(&sums, model.weight, fallback);
                    all_complete = false;
                }
            }
            if all_complete && complete_weight > 0.0 {
                totals.finish_complete(complete_inv, mean_b, spread_b);
            } else {
                totals.finish(mean_b, spread_b);
            }
        }
    }

    /// A model's sums over all its members for one block, without a count (every member
    /// finite, see [`sums_finite`]).
    struct Unmasked {
        sum: [__m256d; 4],
        sumsq: [__m256d; 4],
    }

    /// Whether every sum is finite, that is, every member of every cell of the block is.
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
    #[target_feature(enable = "avx2")]
    unsafe fn sums_finite(sums: &Unmasked) -> bool {
        let zero = _mm256_setzero_pd();
        let mut all = _mm256_cmp_pd::<_CMP_EQ_OQ>(_mm256_sub_pd(sums.sum[0], sums.sum[0]), zero);
        for s in &sums.sum[1..] {
            let ok = _mm256_cmp_pd::<_CMP_EQ_OQ>(_mm256_sub_pd(*s, *s), zero);
            all = _mm256_and_pd(all, ok);
        }
        _mm256_movemask_pd(all) == 0b1111
    }

    /// A model's sums over its members for one block, in registers.
    struct Sums {
        sum: [__m256d; 4],
        sumsq: [__m256d; 4],
        count: [__m256i; 2],
    }

    /// [`super::BlockTotals`] in registers (model counts as f64).
    struct Totals {
        total: [__m256d; 4],
        total_sq: [__m256d; 4],
        wsum: [__m256d; 4],
        eq_total: [__m256d; 4],
        eq_total_sq: [__m256d; 4],
        eq_models: [__m256d; 4],
    }

    impl Totals {
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[target_feature(enable = "avx2")]
        unsafe fn new() -> Self {
            let z = [_mm256_setzero_pd(); 4];
            Totals {
                total: z,
                total_sq: z,
                wsum: z,
                eq_total: z,
                eq_total_sq: z,
                eq_models: z,
            }
        }

        /// A model whose members are all finite in every cell of the block: count `n` and
        /// factor `w / n` are the same in all lanes.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[target_feature(enable = "avx2")]
        unsafe fn add_complete_model(
            &mut self,
            sums: &Unmasked,
            model: &ModelBlock,
            fallback: bool,
        ) {
            let (w, f) = model.complete;
            let (f, ws) = (_mm256_set1_pd(f), _mm256_set1_pd(w));
            for q in 0..4 {
                self.total[q] = _mm256_add_pd(self.total[q], _mm256_mul_pd(f, sums.sum[q]));
                self.total_sq[q] = _mm256_add_pd(self.total_sq[q], _mm256_mul_pd(f, sums.sumsq[q]));
                self.wsum[q] = _mm256_add_pd(self.wsum[q], ws);
            }
            if fallback {
                let (g, one) = (
                    _mm256_set1_pd(1.0 / model.members as f64),
                    _mm256_set1_pd(1.0),
                );
                for q in 0..4 {
                    let (s, sq) = (sums.sum[q], sums.sumsq[q]);
                    self.eq_total[q] = _mm256_add_pd(self.eq_total[q], _mm256_mul_pd(g, s));
                    self.eq_total_sq[q] = _mm256_add_pd(self.eq_total_sq[q], _mm256_mul_pd(g, sq));
                    self.eq_models[q] = _mm256_add_pd(self.eq_models[q], one);
                }
            }
        }

        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        #[target_feature(enable = "avx2")]
        unsafe fn add_model(&mut self, sums: &Sums, weight: Option<f64>, fallback: bool) {
            let zero = _mm256_setzero_pd();
            let one = _mm256_set1_pd(1.0);
            for q in 0..4 {
                let c = sums.count[q / 2];
                let c = if q % 2 == 0 {
                    _mm256_castsi256_si128(c)
                } else {
                    _mm256_extracti128_si256::<1>(c)
                };
                let n = _mm256_cvtepi32_pd(c);
                let has = _mm256_cmp_pd::<_CMP_GT_OQ>(n, zero);
                let d = _mm256_blendv_pd(one, n, has);
                let w = weight.map_or(n, |w| _mm256_set1_pd(w));
                let w = _mm256_and_pd(w, _mm256_and_pd(has, _mm256_cmp_pd::<_CMP_GT_OQ>(w, zero)));
                // Without members w is 0, so f = 0 / 1 = 0 as in the portable loop.
                let f = _mm256_div_pd(w, d);
                self.total[q] = _mm256_add_pd(self.total[q], _mm256_mul_pd(f, sums.sum[q]));
                self.total_sq[q] = _mm256_add_pd(self.total_sq[q], _mm256_mul_pd(f, sums.sumsq[q]));
                self.wsum[q] = _mm256_add_pd(self.wsum[q], w);
                if fallback {
                    let g = _mm256_div_pd(_mm256_and_pd(has, one), d);
                    let (s, sq) = (sums.sum[q], sums.sumsq[q]);
                    self.eq_total[q] = _mm256_add_pd(self.eq_total[q], _mm256_mul_pd(g, s));
                    self.eq_total_sq[q] = _mm256_add_pd(self.eq_total_sq[q], _mm256_mul_pd(g, sq));
                    self.eq_models[q] = _mm256_add_pd(self.eq_models[q], _mm256_and_pd(has, one));
                }
            }
        }

        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        /// `mean` and `spread` hold at least [`MEAN_BLOCK`] values (16 are stored into each).
        #[target_feature(enable = "avx2")]
        unsafe fn finish(&self, mean: &mut [f32], spread: &mut [f32]) {
            let (zero, one) = (_mm256_setzero_pd(), _mm256_set1_pd(1.0));
            let nan = _mm256_set1_pd(f64::NAN);
            for q in 0..4 {
                let given = _mm256_cmp_pd::<_CMP_GT_OQ>(self.wsum[q], zero);
                let tot = _mm256_blendv_pd(self.eq_total[q], self.total[q], given);
                let tsq = _mm256_blendv_pd(self.eq_total_sq[q], self.total_sq[q], given);
                let ws = _mm256_blendv_pd(self.eq_models[q], self.wsum[q], given);
                let ok = _mm256_cmp_pd::<_CMP_GT_OQ>(ws, zero);
                let inv = _mm256_div_pd(one, ws);
                let mu = _mm256_mul_pd(tot, inv);
                let var = _mm256_sub_pd(_mm256_mul_pd(tsq, inv), _mm256_mul_pd(mu, mu));
                let var = _mm256_max_pd(var, zero);
                // f64 NaN converts to f32::NAN.
                let mu = _mm256_cvtpd_ps(_mm256_blendv_pd(nan, mu, ok));
                let sd = _mm_sqrt_ps(_mm256_cvtpd_ps(_mm256_blendv_pd(nan, var, ok)));
                // SAFETY: `mean` and `spread` hold MEAN_BLOCK = 16 values; each store writes 4.
                unsafe {
                    _mm_storeu_ps(mean.as_mut_ptr().add(4 * q), mu);
                    _mm_storeu_ps(spread.as_mut_ptr().add(4 * q), sd);
                }
            }
        }

        /// [`Totals::finish`] where every model had all its members in every cell, so that the
        /// total weight is positive and the same in all lanes: `inv` is its inverse.
        ///
        /// # Safety
        /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`).
        /// `mean` and `spread` hold at least [`MEAN_BLOCK`] values (16 are stored into each).
        #[target_feature(enable = "avx2")]
        unsafe fn finish_complete(&self, inv: __m256d, mean: &mut [f32], spread: &mut [f32]) {
            let zero = _mm256_setzero_pd();
            for q in 0..4 {
                let mu = _mm256_mul_pd(self.total[q], inv);
                let var =
                    _mm256_sub_pd(_mm256_mul_pd(self.total_sq[q], inv), _mm256_mul_pd(mu, mu));
                let sd = _mm_sqrt_ps(_mm256_cvtpd_ps(_mm256_max_pd(var, zero)));
                // SAFETY: `mean` and `spread` hold MEAN_BLOCK = 16 values; each store writes 4.
                unsafe {
                    _mm_storeu_ps(mean.as_mut_ptr().add(4 * q), _mm256_cvtpd_ps(mu));
                    _mm_storeu_ps(spread.as_mut_ptr().add(4 * q), sd);
                }
            }
        }
    }

    /// Sums and sums of squares of the block at `start` over all a model's members, as they
    /// are: the common case, where every member is finite.
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`). `start
    /// + MEAN_BLOCK ≤ model.plane`, so that every member's block lies inside `model.values`.
    #[target_feature(enable = "avx2")]
    unsafe fn unmasked_sums(model: &ModelBlock, start: usize) -> Unmasked {
        let values = model.values;
        let mut sum = [_mm256_setzero_pd(); 4];
        let mut sumsq = [_mm256_setzero_pd(); 4];
        // Bounds checked once for the last member, instead of once per member.
        let end = model.members.saturating_sub(1) * model.plane + start + MEAN_BLOCK;
        assert!(end <= values.len(), "block past the end of the members");
        for k in 0..model.members {
            let at = k * model.plane + start;
            // SAFETY: `at + MEAN_BLOCK <= end <= values.len()` (checked above).
            let row = unsafe { std::slice::from_raw_parts(values.as_ptr().add(at), MEAN_BLOCK) };
            // A hint only: the address may lie past the end, which a prefetch tolerates.
            _mm_prefetch::<_MM_HINT_T0>(row.as_ptr().wrapping_add(PREFETCH_AHEAD) as *const i8);
            for half in 0..2 {
                // SAFETY: `row` has MEAN_BLOCK = 16 values; this reads 8 of them.
                let x = unsafe { _mm256_loadu_ps(row.as_ptr().add(8 * half)) };
                let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
                let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(x));
                for (q, d) in [(2 * half, lo), (2 * half + 1, hi)] {
                    sum[q] = _mm256_add_pd(sum[q], d);
                    sumsq[q] = _mm256_add_pd(sumsq[q], _mm256_mul_pd(d, d));
                }
            }
        }
        Unmasked { sum, sumsq }
    }

    /// Sums, sums of squares and finite counts of the block at `start` over a model's members,
    /// the non-finite ones left out.
    ///
    /// # Safety
    /// Only on processors with AVX2 (the caller checked `is_x86_feature_detected!("avx2")`). `start
    /// + MEAN_BLOCK ≤ model.plane`, so that every member's block lies inside `model.values`.
    #[target_feature(enable = "avx2")]
    unsafe fn member_sums(model: &ModelBlock, start: usize) -> Sums {
        let values = model.values;
        let zero = _mm256_setzero_ps();
        let mut sum = [_mm256_setzero_pd(); 4];
        let mut sumsq = [_mm256_setzero_pd(); 4];
        let mut count = [_mm256_setzero_si256(); 2];
        for k in 0..model.members {
            let at = k * model.plane + start;
            // Bounds checked once per member; the block was just read by `unmasked_sums`.
            let row = &values[at..at + MEAN_BLOCK];
            for (half, count) in count.iter_mut().enumerate() {
                // SAFETY: `row` has MEAN_BLOCK = 16 values; this reads 8 of them.
                let x = unsafe { _mm256_loadu_ps(row.as_ptr().add(8 * half)) };
                // Finite: x − x is 0 (NaN for NaN and ±inf); others count as 0 and weigh 0.
                let ok = _mm256_cmp_ps::<_CMP_EQ_OQ>(_mm256_sub_ps(x, x), zero);
                let v = _mm256_and_ps(x, ok);
                *count = _mm256_sub_epi32(*count, _mm256_castps_si256(ok));
                let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
                let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
                for (q, d) in [(2 * half, lo), (2 * half + 1, hi)] {
                    sum[q] = _mm256_add_pd(sum[q], d);
                    sumsq[q] = _mm256_add_pd(sumsq[q], _mm256_mul_pd(d, d));
                }
            }
        }
        Sums { sum, sumsq, count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Members of three models (2, 5, 10 members) on a plane that is not a multiple of the
    /// block. In every third block of cells, NaN, ±inf and a model missing in some cells;
    /// elsewhere every member is finite (the kernel's fast path).
    fn models(plane: usize) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        [2usize, 5, 10]
            .iter()
            .enumerate()
            .map(|(m, &k)| {
                (0..k * plane)
                    .map(|i| {
                        let cell = i % plane;
                        let gappy = (cell / MEAN_BLOCK) % 3 == 0;
                        if m == 2 && gappy && cell % 37 == 0 {
                            return f32::NAN; // the model has nothing here
                        }
                        let roll = if gappy { rng.random_range(0..50) } else { 99 };
                        match roll {
                            0 => f32::NAN,
                            1 => f32::INFINITY,
                            _ => 280.0 + 10.0 * rng.random::<f32>(),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn run(
        values: &[Vec<f32>],
        plane: usize,
        weights: [Option<f64>; 3],
        path: Path,
    ) -> (Vec<f32>, Vec<f32>) {
        let blocks: Vec<ModelBlock> = values
            .iter()
            .zip(weights)
            .map(|(v, weight)| ModelBlock::new(v, v.len() / plane, plane, weight))
            .collect();
        let (mut mean, mut spread) = (vec![0.0; plane], vec![0.0; plane]);
        match path {
            Path::Dispatched => mean_spread_cells(&blocks, 0, &mut mean, &mut spread),
            Path::Portable { fallback } => {
                portable_blocks(&blocks, 0, &mut mean, &mut spread, fallback)
            }
        }
        (mean, spread)
    }

    #[derive(Clone, Copy, Debug)]
    enum Path {
        /// `mean_spread_cells`: AVX2 where the processor has it.
        Dispatched,
        /// The portable loop, with or without the model-equal totals.
        Portable { fallback: bool },
    }

    #[test]
    fn simd_and_portable_loops_give_the_same_bits() {
        let plane = 16 * 40 + 9;
        let values = models(plane);
        for weights in [
            [None; 3],
            [Some(1.0); 3],
            [Some(0.0), Some(0.5), Some(2.0)],
            [Some(0.0), Some(0.0), Some(1.0)], // cells without the third model: model-equal
            [Some(0.0); 3],
        ] {
            let fallback = weights.contains(&Some(0.0));
            let fast = run(&values, plane, weights, Path::Dispatched);
            let mut others = vec![Path::Portable { fallback }];
            if !fallback {
                // Keeping the model-equal totals where they cannot be needed changes nothing.
                others.push(Path::Portable { fallback: true });
            }
            for path in others {
                let slow = run(&values, plane, weights, path);
                for (a, b) in fast
                    .0
                    .iter()
                    .chain(&fast.1)
                    .zip(slow.0.iter().chain(&slow.1))
                {
                    assert_eq!(a.to_bits(), b.to_bits(), "{weights:?} {path:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn hand_checked_cell() {
        // Model A: 1, 3 (mean 2, mean square 5); model B: 4, NaN, 6 (mean 5, mean square 26).
        // Model-equal: μ = 3.5, σ² = (5 + 26)/2 − 3.5² = 3.25. Pooled (weights 2, 2):
        // the same here. Given 1:3: μ = (2 + 15)/4 = 4.25, σ² = (5 + 78)/4 − 4.25² = 2.6875.
        let a = vec![1.0, 3.0];
        let b = vec![4.0, f32::NAN, 6.0];
        let values = [a, b];
        let cell = |weights: [Option<f64>; 2]| {
            let blocks: Vec<ModelBlock> = values
                .iter()
                .zip(weights)
                .map(|(v, weight)| ModelBlock::new(v, v.len(), 1, weight))
                .collect();
            let (mut mean, mut spread) = ([0.0], [0.0]);
            mean_spread_cells(&blocks, 0, &mut mean, &mut spread);
            (mean[0], spread[0])
        };
        assert_eq!(cell([Some(1.0), Some(1.0)]), (3.5, 3.25f32.sqrt()));
        assert_eq!(cell([None, None]), (3.5, 3.25f32.sqrt()));
        assert_eq!(cell([Some(1.0), Some(3.0)]), (4.25, 2.6875f32.sqrt()));
    }
}
