//! Diagram data of probabilistic forecasts: reliability diagram, ROC curve, rank histogram.
//!
//! - **Reliability** (attributes) diagram: forecasts of one category binned by probability,
//!   bin `k` holding `k/K ≤ p < (k+1)/K` (the last bin closed); per bin the mean forecast
//!   probability, the observed relative frequency and the sample count (Wilks 2011, §8.4.4).
//!   Forecasts on a bin edge go to the bin above it (a counted 3/10 is in 0.3–0.4), whereas
//!   `xskillscore.reliability` compares with `numpy.linspace` edges and may put it below.
//! - **ROC curve**: for every distinct forecast probability `t` (highest first) "warn when
//!   `p ≥ t`", hit rate `H = Σ_events [p ≥ t] / N_events` and false-alarm rate
//!   `F = Σ_non-events [p ≥ t] / N_non-events`, from (0, 0) to (1, 1); the trapezoidal area
//!   under it equals the Mann–Whitney ROC area (Mason & Graham 2002), as `xskillscore.roc`
//!   with `bin_edges="continuous"`.
//! - **Rank histogram** (Talagrand diagram; Hamill 2001): the rank of the observation among
//!   the `m` members, `0..=m`; ties between the observation and members are broken at
//!   random (uniformly among the tied positions), so an ensemble that often equals the
//!   observation (dry days) still gives a flat histogram when it is reliable.
//!
//! Samples may carry weights (cos(latitude) when pooled over a region); counts stay counts.

use serde::Serialize;

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge of the probability bin.
    pub lower: f64,
    /// Upper edge.
    pub upper: f64,
    /// Weighted mean forecast probability in the bin (NaN when empty).
    pub forecast_mean: f64,
    /// Weighted observed relative frequency of the event in the bin (NaN when empty).
    pub observed_frequency: f64,
    /// Number of forecasts in the bin.
    pub count: usize,
}

/// The slope of a reliability diagram: the least-squares line of the observed frequency on the
/// mean forecast probability through the non-empty bins, each weighted by its count. 1 is
/// reliable, below 1 overconfident (probabilities too far from climatology), above 1
/// underconfident (Wilks 2011 §8.4.4; Weisheimer & Palmer 2014, J. R. Soc. Interface 11,
/// who grade seasonal forecasts by it). NaN with fewer than two non-empty bins.
pub fn reliability_slope(bins: &[ReliabilityBin]) -> f64 {
    let used = || {
        bins.iter().filter(|b| {
            b.count > 0 && b.forecast_mean.is_finite() && b.observed_frequency.is_finite()
        })
    };
    let total: f64 = used().map(|b| b.count as f64).sum();
    if used().count() < 2 {
        return f64::NAN;
    }
    let mean =
        |f: fn(&ReliabilityBin) -> f64| used().map(|b| b.count as f64 * f(b)).sum::<f64>() / total;
    let (mp, mo) = (mean(|b| b.forecast_mean), mean(|b| b.observed_frequency));
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for b in used() {
        let dx = b.forecast_mean - mp;
        sxx += b.count as f64 * dx * dx;
        sxy += b.count as f64 * dx * (b.observed_frequency - mo);
    }
    if sxx > 0.0 {
        sxy / sxx
    } else {
        f64::NAN
    }
}

/// The bin `0..bins` of probability `p` (bins `[k/K, (k+1)/K)`, the last closed; a value a
/// rounding error below an edge counts as on it).
pub fn probability_bin(p: f64, bins: usize) -> usize {
    let k = (p * bins as f64 + 1e-9).floor();
    if k <= 0.0 {
        0
    } else {
        (k as usize).min(bins - 1)
    }
}

/// Reliability-diagram data of probabilities `p` for outcomes `o` with sample weights `w`
/// (pairs with a non-finite probability or a non-positive weight are skipped) in `bins`
/// equal probability bins.
pub fn reliability_table(p: &[f64], o: &[bool], w: &[f64], bins: usize) -> Vec<ReliabilityBin> {
    let bins = bins.max(1);
    let mut count = vec![0usize; bins];
    let mut wsum = vec![0.0; bins];
    let mut psum = vec![0.0; bins];
    let mut osum = vec![0.0; bins];
    for ((&pi, &oi), &wi) in p.iter().zip(o).zip(w) {
        if !pi.is_finite() || wi <= 0.0 {
            continue;
        }
        let k = probability_bin(pi, bins);
        count[k] += 1;
        wsum[k] += wi;
        psum[k] += wi * pi;
        if oi {
            osum[k] += wi;
        }
    }
    (0..bins)
        .map(|k| {
            let empty = wsum[k] <= 0.0;
            ReliabilityBin {
                lower: k as f64 / bins as f64,
                upper: (k + 1) as f64 / bins as f64,
                forecast_mean: if empty { f64::NAN } else { psum[k] / wsum[k] },
                observed_frequency: if empty { f64::NAN } else { osum[k] / wsum[k] },
                count: count[k],
            }
        })
        .collect()
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RocPoint {
    /// Warning threshold: warn when the probability is at least this (`+∞` for the origin).
    pub threshold: f64,
    /// False-alarm rate (probability of false detection).
    pub false_alarm_rate: f64,
    /// Hit rate (probability of detection).
    pub hit_rate: f64,
}

/// A ROC curve and its area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    /// Points from (0, 0) to (1, 1), thresholds decreasing.
    pub points: Vec<RocPoint>,
    /// Trapezoidal area under the curve (NaN without both events and non-events).
    pub area: f64,
}

/// The ROC curve of probabilities `p` for outcomes `o` with sample weights `w`, one point per
/// distinct probability.
pub fn roc_curve(p: &[f64], o: &[bool], w: &[f64]) -> RocCurve {
    let mut s: Vec<(f64, bool, f64)> = p
        .iter()
        .zip(o)
        .zip(w)
        .filter(|((pi, _), wi)| pi.is_finite() && **wi > 0.0)
        .map(|((&pi, &oi), &wi)| (pi, oi, wi))
        .collect();
    let events: f64 = s.iter().filter(|x| x.1).map(|x| x.2).sum();
    let non: f64 = s.iter().filter(|x| !x.1).map(|x| x.2).sum();
    let mut points = vec![RocPoint {
        threshold: f64::INFINITY,
        false_alarm_rate: 0.0,
        hit_rate: 0.0,
    }];
    if events <= 0.0 || non <= 0.0 {
        return RocCurve {
            points,
            area: f64::NAN,
        };
    }
    s.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut hits, mut false_alarms, mut area) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < s.len() {
        let t = s[i].0;
        while i < s.len() && s[i].0 == t {
            if s[i].1 {
                hits += s[i].2;
            } else {
                false_alarms += s[i].2;
            }
            i += 1;
        }
        let last = points.last().copied().expect("origin");
        let (h, f) = (hits / events, false_alarms / non);
        area += (f - last.false_alarm_rate) * (h + last.hit_rate) / 2.0;
        points.push(RocPoint {
            threshold: t,
            false_alarm_rate: f,
            hit_rate: h,
        });
    }
    RocCurve { points, area }
}

/// The rank `0..=m` of observation `y` among the finite members `x` (the number of members
/// below it), ties broken by `u ∈ [0, 1)`: with `t` members equal to `y` the rank is
/// `below + ⌊u (t + 1)⌋`. `None` for a NaN observation or no finite member.
pub fn observation_rank(x: &[f64], y: f64, u: f64) -> Option<usize> {
    if !y.is_finite() {
        return None;
    }
    let (mut below, mut tied, mut m) = (0usize, 0usize, 0usize);
    for &v in x.iter().filter(|v| v.is_finite()) {
        m += 1;
        if v < y {
            below += 1;
        } else if v == y {
            tied += 1;
        }
    }
    if m == 0 {
        return None;
    }
    let extra = ((u.clamp(0.0, 1.0 - f64::EPSILON)) * (tied + 1) as f64).floor() as usize;
    Some(below + extra.min(tied))
}

/// A uniform number in `[0, 1)` from a 64-bit key (SplitMix64 finaliser): tie-breaking that
/// depends only on the sample, not on thread order.
pub fn uniform_from_key(key: u64) -> f64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliability_slope_by_hand() {
        let bin = |p: f64, o: f64, count: usize| ReliabilityBin {
            lower: 0.0,
            upper: 1.0,
            forecast_mean: p,
            observed_frequency: o,
            count,
        };
        // Perfectly reliable: slope 1; half as far from the mean as forecast: ½.
        let reliable = [bin(0.2, 0.2, 3), bin(0.4, 0.4, 5), bin(0.6, 0.6, 2)];
        assert!((reliability_slope(&reliable) - 1.0).abs() < 1e-12);
        let over = [bin(0.2, 0.3, 1), bin(0.6, 0.5, 1)];
        assert!((reliability_slope(&over) - 0.5).abs() < 1e-12);
        // Counts weigh: (0.1, 0.1)×1, (0.3, 0.4)×2, (0.5, 0.4)×1 → means p 0.3, o 0.325;
        // Sxx = 0.04 + 0 + 0.04 = 0.08, Sxy = (−0.2)(−0.225) + 0 + (0.2)(0.075) = 0.06 → 0.75.
        let weighted = [bin(0.1, 0.1, 1), bin(0.3, 0.4, 2), bin(0.5, 0.4, 1)];
        assert!((reliability_slope(&weighted) - 0.75).abs() < 1e-12);
        assert!(reliability_slope(&[bin(0.3, 0.3, 4), bin(0.5, f64::NAN, 0)]).is_nan());
    }

    #[test]
    fn reliability_bins_by_hand() {
        let p = [0.05, 0.15, 0.3, 0.35, 0.95, 1.0];
        let o = [false, true, true, false, true, true];
        let t = reliability_table(&p, &o, &[1.0; 6], 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0].count, 1);
        assert_eq!(t[0].observed_frequency, 0.0);
        // 0.3 (on an edge) and 0.35 share the 0.3–0.4 bin: one event of two.
        assert_eq!(t[3].count, 2);
        assert!((t[3].forecast_mean - 0.325).abs() < 1e-12);
        assert_eq!(t[3].observed_frequency, 0.5);
        // 1.0 goes in the last bin with 0.95.
        assert_eq!(t[9].count, 2);
        assert!(t[5].forecast_mean.is_nan());
        // Weights move the frequencies, not the counts.
        let tw = reliability_table(&p, &o, &[1.0, 1.0, 3.0, 1.0, 1.0, 1.0], 10);
        assert_eq!(tw[3].count, 2);
        assert_eq!(tw[3].observed_frequency, 0.75);
    }

    #[test]
    fn roc_curve_area_is_the_mann_whitney_area() {
        let p = [0.9, 0.8, 0.6, 0.1, 0.6, 0.3];
        let o = [true, false, true, false, false, true];
        let c = roc_curve(&p, &o, &[1.0; 6]);
        // Events 0.9, 0.6, 0.3; non-events 0.8, 0.6, 0.1: pairs won 3 (0.9), 1 + ½ (0.6
        // against 0.1, tie with 0.6), 1 (0.3 > 0.1) of 9 → 5.5 / 9.
        assert!((c.area - 5.5 / 9.0).abs() < 1e-12);
        assert!((c.area - super::super::roc_area(&p, &o)).abs() < 1e-12);
        let last = c.points.last().unwrap();
        assert_eq!((last.false_alarm_rate, last.hit_rate), (1.0, 1.0));
        // Thresholds 0.9, 0.8, 0.6, 0.3, 0.1 after the origin.
        assert_eq!(c.points.len(), 6);
        assert_eq!(c.points[1].hit_rate, 1.0 / 3.0);
        assert!(roc_curve(&[0.5], &[true], &[1.0]).area.is_nan());
    }

    #[test]
    fn observation_rank_breaks_ties_uniformly() {
        let x = [1.0, 2.0, 2.0, 3.0];
        assert_eq!(observation_rank(&x, 0.5, 0.3), Some(0));
        assert_eq!(observation_rank(&x, 9.0, 0.3), Some(4));
        assert_eq!(observation_rank(&x, 2.5, 0.9), Some(3));
        // y = 2 ties two members: ranks 1, 2, 3 with equal chance.
        assert_eq!(observation_rank(&x, 2.0, 0.0), Some(1));
        assert_eq!(observation_rank(&x, 2.0, 0.5), Some(2));
        assert_eq!(observation_rank(&x, 2.0, 0.99), Some(3));
        assert_eq!(observation_rank(&[f64::NAN], 1.0, 0.5), None);
        assert_eq!(observation_rank(&x, f64::NAN, 0.5), None);
        let u: Vec<f64> = (0..1000).map(uniform_from_key).collect();
        assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = u.iter().sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
    }
}
