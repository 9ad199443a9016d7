//! Warm and cold spells of a daily series against calendar-day thresholds, and the Excess Heat
//! Factor.
//!
//! **Spells** (ETCCDI WSDI/CSDI, Zhang et al. 2011, WIREs Clim. Change 2, 851; the heat-wave
//! definitions of Perkins & Alexander 2013, J. Climate 26, 4500): a day is *hot* when its value
//! is strictly above its calendar day's threshold (cold: strictly below); a *spell* is a run of
//! at least `min_days` consecutive hot (cold) days. Per year:
//! - `exceedance_days`: hot (cold) days — TX90p (TX10p) as a count;
//! - `spell_days`: days inside spells — WSDI (CSDI) when `min_days = 6`;
//! - `spell_count`: number of spells (HWN);
//! - `longest_spell`: longest run of hot (cold) days, spell or not (HWD of Perkins & Alexander
//!   counts only spells; 0 here means no run at all).
//!
//! Runs are cut at the boundaries of the year (xclim's `resample_before_rl = True`, climdex's
//! default without spanning years). A missing day is neither hot nor cold: it ends a run. A year
//! with more than `max_missing_days` missing days gets NaN for all four (xclim's default
//! `missing = "any"` is `max_missing_days = 0`).
//!
//! **Excess Heat Factor** (Nairn & Fawcett 2015, Int. J. Environ. Res. Public Health 12, 227):
//! from daily mean temperature `T`, with `T₃(i) = (Tᵢ + Tᵢ₊₁ + Tᵢ₊₂)/3`,
//! `EHI_sig(i) = T₃(i) − T₉₅` (`T₉₅`: 95th percentile of the daily means of the climate
//! period), `EHI_accl(i) = T₃(i) − mean(Tᵢ₋₃₀ … Tᵢ₋₁)` and
//! `EHF(i) = EHI_sig(i) · max(1, EHI_accl(i))` in K². A heat wave starts on day `i` where
//! `EHF(i) > 0` and covers days `i … i+2`; it is *severe* where `EHF > EHF₈₅`, the 85th
//! percentile of the positive EHF values of the climate period. NaN where any of the 33 days is
//! missing.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Hot or cold spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpellKind {
    /// Days strictly above the threshold (warm spells, heat waves).
    Warm,
    /// Days strictly below the threshold (cold spells, cold waves).
    Cold,
}

impl SpellKind {
    /// Whether `value` is beyond `threshold` on this side (false when either is NaN).
    pub fn beyond(self, value: f32, threshold: f32) -> bool {
        match self {
            SpellKind::Warm => value > threshold,
            SpellKind::Cold => value < threshold,
        }
    }
}

/// Yearly spell statistics of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearSpells {
    /// Days beyond the threshold.
    pub exceedance_days: f32,
    /// Days inside spells of at least `min_days`.
    pub spell_days: f32,
    /// Number of spells.
    pub spell_count: f32,
    /// Longest run of days beyond the threshold.
    pub longest_spell: f32,
}

impl YearSpells {
    const MISSING: YearSpells = YearSpells {
        exceedance_days: f32::NAN,
        spell_days: f32::NAN,
        spell_count: f32::NAN,
        longest_spell: f32::NAN,
    };
}

/// Spell statistics of one run of consecutive days (`beyond[t]`: day `t` is hot/cold).
pub fn spells_of(beyond: impl IntoIterator<Item = bool>, min_days: usize) -> YearSpells {
    let (mut days, mut spell_days, mut count, mut longest, mut run) = (0usize, 0, 0, 0, 0usize);
    let close = |run: usize, spell_days: &mut usize, count: &mut usize| {
        if run >= min_days {
            *spell_days += run;
            *count += 1;
        }
    };
    for b in beyond {
        if b {
            days += 1;
            run += 1;
            longest = longest.max(run);
        } else {
            close(run, &mut spell_days, &mut count);
            run = 0;
        }
    }
    close(run, &mut spell_days, &mut count);
    YearSpells {
        exceedance_days: days as f32,
        spell_days: spell_days as f32,
        spell_count: count as f32,
        longest_spell: longest as f32,
    }
}

/// Yearly spells of every cell of a daily series `(time, cell)`.
///
/// `doy[t]` is the day of year of time `t` (1-based), `years[t]` its year; `thresholds` is
/// `(day of year, cell)` as [`super::thresholds::calendar_day_percentiles`] returns it. Returns
/// the distinct years (ascending, as they come) and `(year, cell)` statistics.
pub fn yearly_spells(
    series: ArrayView2<f32>,
    doy: &[usize],
    years: &[i32],
    thresholds: ArrayView2<f32>,
    kind: SpellKind,
    min_days: usize,
    max_missing_days: usize,
) -> Result<(Vec<i32>, Vec<Vec<YearSpells>>)> {
    let (nt, nc) = series.dim();
    if doy.len() != nt || years.len() != nt || thresholds.ncols() != nc {
        return Err(Error::mismatch(
            "spells",
            format!(
                "{nt} days × {nc} cells, {} days of year, {} years, thresholds for {} cells",
                doy.len(),
                years.len(),
                thresholds.ncols()
            ),
        ));
    }
    if min_days == 0 {
        return Err(Error::invalid("spell length", "at least 1 day"));
    }
    // Time ranges of the years.
    let mut spans: Vec<(i32, std::ops::Range<usize>)> = Vec::new();
    for (t, &y) in years.iter().enumerate() {
        match spans.last_mut() {
            Some((yy, r)) if *yy == y => r.end = t + 1,
            _ => spans.push((y, t..t + 1)),
        }
    }
    let block = super::thresholds::CELL_BLOCK;
    let per_cell: Vec<Vec<YearSpells>> = (0..nc.div_ceil(block))
        .into_par_iter()
        .flat_map_iter(|b| {
            let first = b * block;
            let n = block.min(nc - first);
            let cols = super::thresholds::cell_block(series, first, n);
            let thrs = super::thresholds::cell_block(thresholds, first, n);
            cols.into_iter()
                .zip(thrs)
                .map(|(col, thr)| {
                    spans
                        .iter()
                        .map(|(_, r)| {
                            let missing = r
                                .clone()
                                .filter(|&t| !col[t].is_finite() || !thr[doy[t] - 1].is_finite())
                                .count();
                            if missing > max_missing_days {
                                return YearSpells::MISSING;
                            }
                            spells_of(
                                r.clone().map(|t| kind.beyond(col[t], thr[doy[t] - 1])),
                                min_days,
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Ok((spans.into_iter().map(|(y, _)| y).collect(), per_cell))
}

/// Days of mean temperature before a day that set its acclimatisation (Nairn & Fawcett 2015).
pub const EHF_ACCLIMATISATION_DAYS: usize = 30;
/// Days averaged into the heat-wave temperature of EHF.
pub const EHF_WINDOW_DAYS: usize = 3;
/// Climate percentile of daily mean temperature that makes a 3-day period significant.
pub const EHF_SIGNIFICANCE_PERCENTILE: f64 = 0.95;
/// Percentile of the positive EHF values above which a heat wave is severe.
pub const EHF_SEVERITY_PERCENTILE: f64 = 0.85;

/// Excess Heat Factor (K²) of each day of a daily-mean temperature series, given the climate's
/// 95th percentile `t95`; NaN for the first 30 and last 2 days and where a value is missing.
pub fn excess_heat_factor(tmean: ArrayView1<f32>, t95: f64) -> Vec<f32> {
    let n = tmean.len();
    let mut out = vec![f32::NAN; n];
    if n < EHF_ACCLIMATISATION_DAYS + EHF_WINDOW_DAYS {
        return out;
    }
    for (i, slot) in out
        .iter_mut()
        .enumerate()
        .take(n + 1 - EHF_WINDOW_DAYS)
        .skip(EHF_ACCLIMATISATION_DAYS)
    {
        let w = tmean.slice(ndarray::s![i..i + EHF_WINDOW_DAYS]);
        let prior = tmean.slice(ndarray::s![i - EHF_ACCLIMATISATION_DAYS..i]);
        if w.iter().chain(prior.iter()).any(|v| !v.is_finite()) {
            continue;
        }
        let t3 = w.iter().map(|&v| f64::from(v)).sum::<f64>() / EHF_WINDOW_DAYS as f64;
        let t30 =
            prior.iter().map(|&v| f64::from(v)).sum::<f64>() / EHF_ACCLIMATISATION_DAYS as f64;
        let sig = t3 - t95;
        *slot = (sig * (t3 - t30).max(1.0)) as f32;
    }
    out
}

/// EHF of every cell of `(time, cell)` daily means with the climate `t95` per cell.
pub fn excess_heat_factor_grid(tmean: ArrayView2<f32>, t95: &[f64]) -> Result<Array2<f32>> {
    if t95.len() != tmean.ncols() {
        return Err(Error::mismatch(
            "excess heat factor",
            format!(
                "{} cells but {} climate percentiles",
                tmean.ncols(),
                t95.len()
            ),
        ));
    }
    let mut out = Array2::<f32>::from_elem(tmean.dim(), f32::NAN);
    out.axis_iter_mut(Axis(1))
        .into_par_iter()
        .enumerate()
        .for_each(|(c, mut col)| {
            let e = excess_heat_factor(tmean.column(c), t95[c]);
            col.iter_mut().zip(e).for_each(|(o, v)| *o = v);
        });
    Ok(out)
}

/// Days inside EHF heat waves: day `t` is a heat-wave day when `EHF > threshold` on any of days
/// `t − 2 … t` (a heat wave starting on `i` covers `i … i+2`). `threshold = 0` gives heat-wave
/// days, `EHF₈₅` severe ones.
pub fn ehf_heatwave_days(ehf: &[f32], threshold: f64) -> Vec<bool> {
    let mut out = vec![false; ehf.len()];
    for (i, &e) in ehf.iter().enumerate() {
        if f64::from(e) > threshold {
            for slot in out.iter_mut().skip(i).take(EHF_WINDOW_DAYS) {
                *slot = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use proptest::prelude::*;

    #[test]
    fn spells_by_hand() {
        // hot: 1 1 1 0 1 1 1 1 1 1 0 1 1 → runs 3, 6, 2
        let b = [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1].map(|v| v == 1);
        let s = spells_of(b, 3);
        assert_eq!(s.exceedance_days, 11.0);
        assert_eq!(s.spell_days, 9.0);
        assert_eq!(s.spell_count, 2.0);
        assert_eq!(s.longest_spell, 6.0);
        let w = spells_of(b, 6); // WSDI
        assert_eq!((w.spell_days, w.spell_count), (6.0, 1.0));
    }

    #[test]
    fn yearly_spells_cut_runs_at_year_ends_and_mask_missing_years() {
        // Two 5-day "years"; hot on the last 2 days of year 1 and first 2 of year 2: no 3-day
        // spell once cut at the boundary.
        let v = [0.0f32, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0, 0.0, f32::NAN, 0.0];
        let series = Array2::from_shape_vec((10, 1), v.to_vec()).unwrap();
        let doy: Vec<usize> = (0..10).map(|t| t % 5 + 1).collect();
        let years: Vec<i32> = (0..10).map(|t| 2000 + t / 5).collect();
        let thr = Array2::from_elem((366, 1), 1.0f32);
        let (ys, s) = yearly_spells(
            series.view(),
            &doy,
            &years,
            thr.view(),
            SpellKind::Warm,
            3,
            1,
        )
        .unwrap();
        assert_eq!(ys, vec![2000, 2001]);
        assert_eq!(s[0][0].spell_count, 0.0);
        assert_eq!(s[0][0].exceedance_days, 2.0);
        assert_eq!(s[0][1].exceedance_days, 2.0);
        let (_, strict) = yearly_spells(
            series.view(),
            &doy,
            &years,
            thr.view(),
            SpellKind::Warm,
            3,
            0,
        )
        .unwrap();
        assert!(
            strict[0][1].spell_days.is_nan(),
            "a missing day masks its year"
        );
        assert_eq!(strict[0][0].spell_days, 0.0);
        let (_, cold) = yearly_spells(
            series.view(),
            &doy,
            &years,
            thr.view(),
            SpellKind::Cold,
            3,
            0,
        )
        .unwrap();
        assert_eq!(cold[0][0].spell_days, 3.0);
    }

    #[test]
    fn ehf_by_hand() {
        // 30 days at 20 °C, then 30, 31, 32: T₃ = 31, T₃₀ = 20 → EHI_accl = 11;
        // with T₉₅ = 25: EHI_sig = 6, EHF = 66.
        let mut t = vec![20.0f32; 30];
        t.extend([30.0, 31.0, 32.0, 20.0]);
        let e = excess_heat_factor(Array1::from(t).view(), 25.0);
        assert!((e[30] - 66.0).abs() < 1e-4, "{}", e[30]);
        assert!(e[29].is_nan() && e[32].is_nan());
        // Day 31: T₃ = (31+32+20)/3 = 27.667, T₃₀ = (29·20 + 30)/30 = 20.333:
        // EHF = 2.667 · 7.333 = 19.56.
        assert!((e[31] - 2.666_666_7 * 7.333_333).abs() < 1e-3, "{}", e[31]);
        let days = ehf_heatwave_days(&e, 0.0);
        assert_eq!(days.iter().filter(|&&d| d).count(), 4); // days 30–33
                                                            // Cold acclimatisation below 1 K does not shrink the factor.
        let flat = vec![26.0f32; 34];
        let e = excess_heat_factor(Array1::from(flat).view(), 25.0);
        assert!((e[30] - 1.0).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn spell_days_bounded_and_monotone_in_length(bits in proptest::collection::vec(any::<bool>(), 0..200), k in 1usize..8) {
            let s = spells_of(bits.iter().copied(), k);
            let longer = spells_of(bits.iter().copied(), k + 1);
            prop_assert!(s.spell_days <= s.exceedance_days);
            prop_assert!(longer.spell_days <= s.spell_days);
            prop_assert!(s.spell_count * k as f32 <= s.spell_days);
            prop_assert_eq!(spells_of(bits.iter().copied(), 1).spell_days, s.exceedance_days);
            prop_assert_eq!(s.spell_count > 0.0, s.longest_spell >= k as f32);
        }
    }
}
