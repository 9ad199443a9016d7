//! Calendar-day percentile thresholds of a daily series: the "90th percentile of the calendar
//! day" of heat-wave and warm-spell definitions (ETCCDI TX90p/WSDI, Zhang et al. 2005 and 2011;
//! xclim's `percentile_doy`).
//!
//! For day-of-year `d` (1 = 1 January, counted in the series' calendar, so 1 March is day 60 of
//! a common year and day 61 of a leap year, as xclim and climdex count it), the threshold is the
//! `p`-quantile of every value of the base period whose date lies within `±half_window` days *in
//! time* of a date with day-of-year `d` — a window of `2·half_window + 1` days around each base
//! year's day `d` (ETCCDI: 5 days). Windows stop at the ends of the base period; missing values
//! are skipped. The quantile is Hyndman & Fan (1996) type 8 (`α = β = 1/3`): with the window's
//! `n` values sorted, `h = (n + 1/3) p + 1/3` (1-based), linear between order statistics and
//! clamped to the smallest and largest — the estimator recommended by Hyndman & Fan, used by
//! climdex (ETCCDI) and by xclim's `percentile_doy`, so counts above the threshold can be
//! compared with theirs value for value.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::calendar::{Calendar, CfDateTime};
use crate::error::{Error, Result};

/// Days either side of a calendar day pooled into its percentile: the ETCCDI 5-day window.
pub const ETCCDI_HALF_WINDOW_DAYS: usize = 2;

/// Largest day of year of any CF calendar (366 in leap years; 360-day calendars use 1–360).
pub const MAX_DAY_OF_YEAR: usize = 366;

/// Day of year (1 = 1 January) of a date in its calendar.
pub fn day_of_year(date: &CfDateTime, cal: Calendar) -> Result<usize> {
    let n = cal.day_number(date.year, date.month, date.day)?;
    let jan1 = cal.day_number(date.year, 1, 1)?;
    Ok((n - jan1) as usize + 1)
}

/// Days of year of consecutive daily dates; an error when the dates are not one day apart (a
/// gap would join days that are not consecutive into one spell).
pub fn daily_days_of_year(dates: &[CfDateTime], cal: Calendar) -> Result<Vec<usize>> {
    let mut prev: Option<i64> = None;
    let mut doy = Vec::with_capacity(dates.len());
    for d in dates {
        let n = cal.day_number(d.year, d.month, d.day)?;
        if let Some(p) = prev {
            if n != p + 1 {
                let (y, m, dd) = cal.date_of_day_number(p);
                return Err(Error::invalid(
                    "daily series",
                    format!(
                        "the dates are not consecutive days: {} follows {y:04}-{m:02}-{dd:02} \
                         (a daily series without gaps is needed; fill missing days with the \
                         fill value)",
                        d.date_label()
                    ),
                ));
            }
        }
        prev = Some(n);
        doy.push(day_of_year(d, cal)?);
    }
    Ok(doy)
}

/// Hyndman & Fan type 8 quantile of an ascending NaN-free sample (`α = β = 1/3`); NaN when
/// empty.
pub fn quantile_type8_sorted(sorted: &[f32], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n as f64 + 1.0 / 3.0) * p.clamp(0.0, 1.0) + 1.0 / 3.0; // 1-based position
    if h <= 1.0 {
        return f64::from(sorted[0]);
    }
    if h >= n as f64 {
        return f64::from(sorted[n - 1]);
    }
    let lo = h.floor() as usize; // 1-based
    let a = f64::from(sorted[lo - 1]);
    let b = f64::from(sorted[lo]);
    a + (h - lo as f64) * (b - a)
}

/// Cells per block when a `(time, cell)` series is copied cell by cell: 16 f32 are one cache
/// line of a time row, so each row of a block is read whole.
pub const CELL_BLOCK: usize = 16;

/// The series of cells `first .. first + n` as contiguous vectors, read row by row (one cache
/// line of each time step) instead of one strided column at a time.
pub fn cell_block(series: ArrayView2<f32>, first: usize, n: usize) -> Vec<Vec<f32>> {
    let nt = series.nrows();
    let mut out: Vec<Vec<f32>> = (0..n).map(|_| Vec::with_capacity(nt)).collect();
    for row in series.outer_iter() {
        for (k, v) in out.iter_mut().enumerate() {
            v.push(row[first + k]);
        }
    }
    out
}

/// [`quantile_type8_sorted`] of an unsorted NaN-free sample by selection (the two order
/// statistics around the position, O(n)); reorders the sample.
pub fn quantile_type8_select(values: &mut [f32], p: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n as f64 + 1.0 / 3.0) * p.clamp(0.0, 1.0) + 1.0 / 3.0;
    let lo = (h.floor().clamp(1.0, n as f64) as usize) - 1; // 0-based
    let (_, a, right) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let a = f64::from(*a);
    if h <= 1.0 || right.is_empty() {
        return a;
    }
    let b = right.iter().copied().fold(f32::INFINITY, f32::min);
    a + (h - h.floor()) * (f64::from(b) - a)
}

/// The `p`-quantile per day of year and cell of a daily series `(time, cell)` over the base
/// period `base` (a range of time indices), in a window of `±half_window` days.
///
/// Returns `(MAX_DAY_OF_YEAR, cell)`; row `d − 1` is day of year `d`, NaN where no base-period
/// value falls in any window of that day (day 366 without a leap year in the base period).
pub fn calendar_day_percentiles(
    series: ArrayView2<f32>,
    doy: &[usize],
    base: std::ops::Range<usize>,
    half_window: usize,
    p: f64,
) -> Result<Array2<f32>> {
    let (nt, nc) = series.dim();
    if doy.len() != nt {
        return Err(Error::mismatch(
            "daily series",
            format!("{} values but {} dates", nt, doy.len()),
        ));
    }
    if base.is_empty() || base.end > nt {
        return Err(Error::invalid(
            "base period",
            format!("time indices {base:?} are not inside the series of {nt} days"),
        ));
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid("percentile", format!("{p} is not in 0..1")));
    }
    // For each day of year, the base-period time indices of its windows.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); MAX_DAY_OF_YEAR];
    for t in base.clone() {
        let lo = t.saturating_sub(half_window).max(base.start);
        let hi = (t + half_window + 1).min(base.end);
        members[doy[t] - 1].extend(lo..hi);
    }
    let blocks: Vec<Vec<Vec<f32>>> = (0..nc.div_ceil(CELL_BLOCK))
        .into_par_iter()
        .map(|b| {
            let first = b * CELL_BLOCK;
            let cols = cell_block(series, first, CELL_BLOCK.min(nc - first));
            let mut sample: Vec<f32> = Vec::new();
            cols.iter()
                .map(|col| {
                    members
                        .iter()
                        .map(|idx| {
                            sample.clear();
                            sample.extend(idx.iter().map(|&t| col[t]).filter(|v| v.is_finite()));
                            quantile_type8_select(&mut sample, p) as f32
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut out = Array2::<f32>::from_elem((MAX_DAY_OF_YEAR, nc), f32::NAN);
    for (c, thr) in blocks.into_iter().flatten().enumerate() {
        out.column_mut(c)
            .iter_mut()
            .zip(thr)
            .for_each(|(o, v)| *o = v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn type8_quantile_by_hand() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        // n = 5, p = 0.9: h = 5.333·0.9 + 0.333 = 5.1333 → clamped to the largest.
        assert_eq!(quantile_type8_sorted(&x, 0.9), 5.0);
        // p = 0.5: h = 2.6667 + 0.3333 = 3 → x₃ = 3.
        assert!((quantile_type8_sorted(&x, 0.5) - 3.0).abs() < 1e-12);
        // p = 0.25: h = 1.3333 + 0.3333 = 1.6667 → 1 + 0.6667·(2 − 1).
        assert!((quantile_type8_sorted(&x, 0.25) - 5.0 / 3.0).abs() < 1e-6);
        assert!(quantile_type8_sorted(&[], 0.5).is_nan());
        for p in [0.0, 0.05, 0.1, 0.25, 0.5, 0.9, 0.97, 1.0] {
            for n in 1..12 {
                let v: Vec<f32> = (0..n).map(|k| ((k * 7919) % 13) as f32).collect();
                let mut s = v.clone();
                s.sort_by(f32::total_cmp);
                let mut w = v.clone();
                assert_eq!(
                    quantile_type8_select(&mut w, p),
                    quantile_type8_sorted(&s, p),
                    "{n} {p}"
                );
            }
        }
    }

    #[test]
    fn day_of_year_in_calendars() {
        let d = CfDateTime::ymd(2000, 3, 1);
        assert_eq!(day_of_year(&d, Calendar::Standard).unwrap(), 61);
        assert_eq!(day_of_year(&d, Calendar::NoLeap).unwrap(), 60);
        assert_eq!(day_of_year(&d, Calendar::Day360).unwrap(), 61);
        let gap = [CfDateTime::ymd(2001, 1, 1), CfDateTime::ymd(2001, 1, 3)];
        let e = daily_days_of_year(&gap, Calendar::NoLeap)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not consecutive"), "{e}");
    }

    #[test]
    fn window_pools_neighbouring_days_of_every_base_year() {
        // Two 365-day years; value = day of year + 1000·year. Day 10's window (±2) pools days
        // 8–12 of both years: 10 values {8..12, 1008..1012}.
        let doy: Vec<usize> = (0..730).map(|t| t % 365 + 1).collect();
        let series =
            Array2::from_shape_fn((730, 1), |(t, _)| (t % 365 + 1 + 1000 * (t / 365)) as f32);
        let q = calendar_day_percentiles(series.view(), &doy, 0..730, 2, 0.5).unwrap();
        let mut s: Vec<f32> = (8..=12).chain(1008..=1012).map(|v| v as f32).collect();
        s.sort_by(f32::total_cmp);
        assert_eq!(q[[9, 0]] as f64, quantile_type8_sorted(&s, 0.5));
        // Day 1 of the first year only has days 1–3 (the window stops at the base start); day 1
        // of the second year has 364, 365 (first year) and 1–3: 3 + 5 values.
        let mut s1: Vec<f32> = vec![1.0, 2.0, 3.0, 364.0, 365.0, 1001.0, 1002.0, 1003.0];
        s1.sort_by(f32::total_cmp);
        assert_eq!(q[[0, 0]] as f64, quantile_type8_sorted(&s1, 0.5));
        assert!(q[[365, 0]].is_nan(), "no day 366 in noleap years");
    }
}
