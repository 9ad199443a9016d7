//! Small pure kernels shared by the science modules: NaN-aware counts, means and ranges.
//!
//! ndarray has no NaN-skipping reductions; these are written once here. Every function takes
//! plain slices or iterators so it can run inside a per-cell loop without allocating.
//!
//! Missing data: NaN is missing everywhere in the engine; the `nan*` functions skip it and say
//! what they return when nothing is left (NaN, or an empty range).

/// Number of NaN values.
pub fn count_nan(values: &[f32]) -> usize {
    values.iter().filter(|v| v.is_nan()).count()
}

/// Mean of the finite values, accumulated in f64; NaN when there are none.
pub fn nan_mean(values: &[f32]) -> f64 {
    let (sum, n) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0usize), |(s, n), &v| (s + f64::from(v), n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Smallest and largest finite value; `(inf, -inf)` when there is none.
pub fn finite_min_max<I: IntoIterator<Item = f64>>(values: I) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Smallest and largest finite value and how many values are finite, in one pass.
/// `(inf, -inf, 0)` when nothing is finite.
pub fn finite_summary(values: &[f32]) -> (f32, f32, usize) {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    let mut n = 0usize;
    for &v in values {
        // NaN compares false: min/max skip it without a branch.
        lo = if v < lo { v } else { lo };
        hi = if v > hi { v } else { hi };
        n += usize::from(v.is_finite());
    }
    (lo, hi, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_aware_kernels() {
        let v = [1.0, f32::NAN, 3.0, f32::NAN];
        assert_eq!(count_nan(&v), 2);
        assert_eq!(nan_mean(&v), 2.0);
        assert!(nan_mean(&[f32::NAN]).is_nan());
        assert_eq!(finite_min_max([2.0, f64::NAN, -1.0, 5.0]), (-1.0, 5.0));
        let (lo, hi) = finite_min_max([f64::NAN]);
        assert!(lo > hi);
        assert_eq!(finite_summary(&[3.0, f32::NAN, -2.0, 7.5]), (-2.0, 7.5, 3));
        assert_eq!(finite_summary(&[f32::NAN]).2, 0);
    }
}
