//! Bootstrap confidence intervals of skill over the hindcast years.
//!
//! The years are resampled with replacement (`B` resamples of `n` years, a fixed seed, the
//! same resamples for every cell, region and forecast system, so differences between systems
//! are paired). A resample is stored as the multiplicity `c_i` of each year, and a score on it
//! is the score with year weights `c_i`: the ACC is the weighted Pearson correlation
//! `Σc(f−f̄)(o−ō) / √(Σc(f−f̄)² Σc(o−ō)²)`, the RPSS `1 − Σc RPS / Σc (RPS_clim + D)`. Each
//! year keeps its own observed category and per-year scores (the contributions are resampled,
//! not recomputed), the usual block-of-one-year bootstrap of seasonal verification
//! (Wilks 2011, §5.3.5; Mason 2008 for RPSS). The interval is the percentile interval
//! `[q_{(1−γ)/2}, q_{(1+γ)/2}]` of the `B` values at confidence `γ`; a score is significantly
//! positive when the interval's lower end is above 0 (one-sided test at `(1−γ)/2`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};

/// Bootstrap resamples of `n` years.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    years: usize,
    counts: Vec<u16>,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
}

impl Bootstrap {
    /// `resamples` draws of `years` years with replacement from a ChaCha8 stream seeded with
    /// `seed`.
    pub fn new(years: usize, resamples: usize, confidence: f64, seed: u64) -> Result<Self> {
        if years < 2 || resamples == 0 {
            return Err(Error::invalid(
                "bootstrap",
                format!("needs at least 2 years and 1 resample (got {years} years, {resamples} resamples)"),
            ));
        }
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(Error::invalid(
                "bootstrap",
                format!("confidence {confidence} must be between 0 and 1 (e.g. 0.95)"),
            ));
        }
        crate::memory::check_allocation(
            "the bootstrap resamples",
            &[resamples, years],
            std::mem::size_of::<u16>(),
            "ask for fewer resamples (1000 give intervals to about ±0.01)",
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut counts = vec![0u16; years * resamples];
        for row in counts.chunks_exact_mut(years) {
            for _ in 0..years {
                row[rng.random_range(0..years)] += 1;
            }
        }
        Ok(Bootstrap {
            years,
            counts,
            confidence,
        })
    }

    /// Number of years of each resample.
    pub fn years(&self) -> usize {
        self.years
    }

    /// Number of resamples.
    pub fn len(&self) -> usize {
        self.counts.len() / self.years
    }

    /// Whether there are no resamples (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The multiplicity of each year in resample `b`.
    pub fn counts(&self, b: usize) -> &[u16] {
        &self.counts[b * self.years..(b + 1) * self.years]
    }

    /// The percentile interval of `values` (NaNs dropped; the interval is NaN when fewer than
    /// half of the resamples gave a value), type-7 quantiles found by selection, not sorting.
    /// Reorders `values`.
    pub fn interval(&self, values: &mut Vec<f64>) -> Interval {
        values.retain(|v| v.is_finite());
        if values.is_empty() || values.len() * 2 < self.len() {
            return Interval::NAN;
        }
        let tail = (1.0 - self.confidence) / 2.0;
        Interval {
            lower: crate::stats::quantile_select(values, tail),
            upper: crate::stats::quantile_select(values, 1.0 - tail),
        }
    }
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

impl Interval {
    /// The interval of nothing.
    pub const NAN: Interval = Interval {
        lower: f64::NAN,
        upper: f64::NAN,
    };

    /// Whether the whole interval is above zero.
    pub fn positive(&self) -> bool {
        self.lower > 0.0
    }
}

/// Pearson correlation with year weights `c` over the years where both series are finite
/// (NaN for fewer than 3 distinct such years or a constant series).
pub fn weighted_pearson(f: &[f64], o: &[f64], c: &[u16]) -> f64 {
    let (mut n, mut distinct, mut sf, mut so) = (0.0, 0, 0.0, 0.0);
    for ((&a, &b), &k) in f.iter().zip(o).zip(c) {
        if k > 0 && a.is_finite() && b.is_finite() {
            let k = f64::from(k);
            n += k;
            distinct += 1;
            sf += k * a;
            so += k * b;
        }
    }
    if distinct < 3 {
        return f64::NAN;
    }
    let (mf, mo) = (sf / n, so / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for ((&a, &b), &k) in f.iter().zip(o).zip(c) {
        if k > 0 && a.is_finite() && b.is_finite() {
            let k = f64::from(k);
            sxy += k * (a - mf) * (b - mo);
            sxx += k * (a - mf).powi(2);
            syy += k * (b - mo).powi(2);
        }
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// The skill score `1 − Σc s / Σc (s_ref + d)` of per-year scores `s` against per-year
/// reference scores `s_ref` with year weights `c` (years where either is NaN skipped), `d`
/// added to every reference score (Weigel's debiasing term, 0 for the plain score).
pub fn weighted_skill_score(s: &[f64], s_ref: &[f64], c: &[u16], d: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for ((&a, &b), &k) in s.iter().zip(s_ref).zip(c) {
        if k > 0 && a.is_finite() && b.is_finite() {
            num += f64::from(k) * a;
            den += f64::from(k) * (b + d);
        }
    }
    if den > 0.0 {
        1.0 - num / den
    } else {
        f64::NAN
    }
}

/// The per-year contributions of one cell, laid out for fast resampling: anomalies centred
/// on their means and per-year skill-score terms, with 0/1 masks for the years that count.
/// [`ResampleKernel::scores`] gives the same values as [`weighted_pearson`] and
/// [`weighted_skill_score`] in one branch-free pass over the years.
#[derive(Debug, Default, Clone)]
pub struct ResampleKernel {
    f: Vec<f64>,
    o: Vec<f64>,
    pair: Vec<f64>,
    s: Vec<f64>,
    s_ref: Vec<f64>,
    scored: Vec<f64>,
}

impl ResampleKernel {
    /// Loads the series `f`, `o` (ACC) and the per-year scores `s`, `s_ref` (skill score,
    /// `d` added to each reference score) of one cell.
    pub fn load(&mut self, f: &[f64], o: &[f64], s: &[f64], s_ref: &[f64], d: f64) {
        let n = f.len();
        let both = |i: usize| f[i].is_finite() && o[i].is_finite();
        let k = (0..n).filter(|&i| both(i)).count().max(1) as f64;
        let mf = (0..n).filter(|&i| both(i)).map(|i| f[i]).sum::<f64>() / k;
        let mo = (0..n).filter(|&i| both(i)).map(|i| o[i]).sum::<f64>() / k;
        self.f.clear();
        self.o.clear();
        self.pair.clear();
        self.s.clear();
        self.s_ref.clear();
        self.scored.clear();
        for i in 0..n {
            let ok = both(i);
            self.pair.push(f64::from(u8::from(ok)));
            self.f.push(if ok { f[i] - mf } else { 0.0 });
            self.o.push(if ok { o[i] - mo } else { 0.0 });
            let sok = s[i].is_finite() && s_ref[i].is_finite();
            self.scored.push(f64::from(u8::from(sok)));
            self.s.push(if sok { s[i] } else { 0.0 });
            self.s_ref.push(if sok { s_ref[i] + d } else { 0.0 });
        }
    }

    /// `(correlation, skill score)` on the resample with year multiplicities `c`.
    pub fn scores(&self, c: &[u16]) -> (f64, f64) {
        let (mut n, mut distinct) = (0.0, 0.0);
        let (mut sf, mut so, mut sff, mut soo, mut sfo) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &ci) in c.iter().enumerate().take(self.f.len()) {
            let k = f64::from(ci);
            let a = k * self.pair[i];
            let (f, o) = (self.f[i], self.o[i]);
            n += a;
            distinct += f64::from(u8::from(a > 0.0));
            sf += a * f;
            so += a * o;
            sff += a * f * f;
            soo += a * o * o;
            sfo += a * f * o;
            let b = k * self.scored[i];
            num += b * self.s[i];
            den += b * self.s_ref[i];
        }
        let r = if distinct < 3.0 {
            f64::NAN
        } else {
            let vxy = sfo - sf * so / n;
            let vxx = sff - sf * sf / n;
            let vyy = soo - so * so / n;
            if vxx <= 1e-12 * sff || vyy <= 1e-12 * soo {
                f64::NAN
            } else {
                vxy / (vxx * vyy).sqrt()
            }
        };
        let ss = if den > 0.0 { 1.0 - num / den } else { f64::NAN };
        (r, ss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resamples_draw_n_years_each_and_repeat_with_the_seed() {
        let b = Bootstrap::new(24, 200, 0.95, 7).unwrap();
        assert_eq!(b.len(), 200);
        for k in 0..b.len() {
            assert_eq!(
                b.counts(k).iter().map(|&c| usize::from(c)).sum::<usize>(),
                24
            );
        }
        let again = Bootstrap::new(24, 200, 0.95, 7).unwrap();
        assert_eq!(b.counts, again.counts);
        assert_ne!(b.counts, Bootstrap::new(24, 200, 0.95, 8).unwrap().counts);
        // About 1 − 1/e of the years are drawn in a resample.
        let drawn: usize = (0..b.len())
            .map(|k| b.counts(k).iter().filter(|&&c| c > 0).count())
            .sum();
        let share = drawn as f64 / (24.0 * 200.0);
        assert!((share - 0.64).abs() < 0.03, "{share}");
        assert!(Bootstrap::new(1, 10, 0.95, 1).is_err());
        assert!(Bootstrap::new(10, 10, 1.5, 1).is_err());
    }

    #[test]
    fn weighted_scores_with_unit_weights_are_the_plain_scores() {
        let f = [1.0, 3.0, 2.0, 5.0, 4.0];
        let o = [1.5, 2.0, 2.5, 6.0, 3.0];
        let ones = [1u16; 5];
        assert!((weighted_pearson(&f, &o, &ones) - super::super::pearson_r(&f, &o)).abs() < 1e-12);
        // Doubling a year is the same as listing it twice.
        let c = [2u16, 1, 1, 1, 0];
        let f2 = [1.0, 1.0, 3.0, 2.0, 5.0];
        let o2 = [1.5, 1.5, 2.0, 2.5, 6.0];
        assert!((weighted_pearson(&f, &o, &c) - super::super::pearson_r(&f2, &o2)).abs() < 1e-12);
        let s = [0.1, 0.2, 0.3];
        let r = [0.5, 0.5, 0.5];
        assert!((weighted_skill_score(&s, &r, &[1, 1, 1], 0.0) - 0.6).abs() < 1e-12);
        assert!((weighted_skill_score(&s, &r, &[0, 0, 3], 0.0) - 0.4).abs() < 1e-12);
        // The debiasing term enlarges the reference.
        assert!((weighted_skill_score(&s, &r, &[1, 1, 1], 0.5) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn kernel_gives_the_weighted_scores() {
        let f = [1.0, 3.0, f64::NAN, 5.0, 4.0, 2.5, 300.2];
        let o = [1.5, 2.0, 2.5, 6.0, f64::NAN, 2.2, 299.0];
        let s = [0.1, 0.4, 0.3, f64::NAN, 0.2, 0.5, 0.3];
        let r = [0.5, 0.6, 0.4, 0.5, f64::NAN, 0.5, 0.5];
        let b = Bootstrap::new(7, 50, 0.9, 3).unwrap();
        let mut k = ResampleKernel::default();
        k.load(&f, &o, &s, &r, 0.05);
        for j in 0..b.len() {
            let c = b.counts(j);
            let (acc, ss) = k.scores(c);
            let want = weighted_pearson(&f, &o, c);
            assert!(
                (acc - want).abs() < 1e-9 || (acc.is_nan() && want.is_nan()),
                "{acc} {want}"
            );
            let want = weighted_skill_score(&s, &r, c, 0.05);
            assert!((ss - want).abs() < 1e-12 || (ss.is_nan() && want.is_nan()));
        }
    }

    #[test]
    fn interval_of_a_known_distribution() {
        let b = Bootstrap::new(10, 101, 0.9, 1).unwrap();
        let mut v: Vec<f64> = (0..101).map(f64::from).collect();
        let i = b.interval(&mut v);
        assert!(
            (i.lower - 5.0).abs() < 1e-9 && (i.upper - 95.0).abs() < 1e-9,
            "{i:?}"
        );
        assert!(i.positive());
        let mut few = vec![1.0, f64::NAN, f64::NAN];
        assert!(b.interval(&mut few).lower.is_nan());
    }
}
