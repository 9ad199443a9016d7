//! Categories of a value against ascending edges, the climatological level bounds of each
//! category, and the ranked probability score of a category forecast — the shared maths of
//! [`crate::ensemble`] (probabilities) and [`crate::verify`] (scores), kept here so neither
//! imports the other.
//!
//! RPS (Epstein 1969; Wilks, *Statistical Methods in the Atmospheric Sciences*, §9.4.7):
//! `RPS = Σ_{c<K} (F_c − O_c)²` over the cumulative forecast probabilities `F_c` and the
//! cumulative observation `O_c` (0 below the observed category, 1 from it on).

/// Category of `x` for ascending `edges` (`edges.len() + 1` categories): `0` when
/// `x < edges[0]`, the last when `x > edges[last]`, otherwise `1 + #{j ≥ 1 : edges[j] < x}` —
/// so for terciles a value on an edge is near normal. `None` for NaN.
pub fn category_of(x: f32, edges: &[f64]) -> Option<usize> {
    if x.is_nan() {
        return None;
    }
    Some(category_index(f64::from(x), edges))
}

/// [`category_of`] for a non-NaN value, without branches: `[x ≥ e₀] + Σ_{j≥1} [x > e_j]` (for
/// ascending edges the same as the rule above).
#[inline]
pub(crate) fn category_index(x: f64, edges: &[f64]) -> usize {
    match edges.split_first() {
        None => 0,
        Some((e0, rest)) => {
            usize::from(x >= *e0) + rest.iter().map(|&e| usize::from(x > e)).sum::<usize>()
        }
    }
}

/// The climatological quantile levels bounding each of the `levels.len() + 1` categories:
/// `(0, l₀), (l₀, l₁), …, (l_last, 1)`. Their widths are the climatological probabilities.
pub fn category_level_bounds(levels: &[f64]) -> Vec<(f64, f64)> {
    (0..=levels.len())
        .map(|c| {
            let lo = if c == 0 { 0.0 } else { levels[c - 1] };
            (lo, levels.get(c).copied().unwrap_or(1.0))
        })
        .collect()
}

/// Ranked probability score of one forecast: `Σ_{c<K} (F_c − O_c)²` with cumulative
/// probabilities, the observation in category `observed`.
pub fn rps(probs: &[f64], observed: usize) -> f64 {
    let mut f = 0.0;
    let mut total = 0.0;
    for (c, &p) in probs.iter().enumerate().take(probs.len().saturating_sub(1)) {
        f += p;
        let o = if observed <= c { 1.0 } else { 0.0 };
        total += (f - o).powi(2);
    }
    total
}
