//! The model climate (M-climate) of a subseasonal forecast: the model's own hindcasts from
//! start dates near the forecast's, pooled per lead, as ECMWF builds it for the EFI and its
//! extended-range anomalies (Vitart et al. 2019, ECMWF Tech. Memo. 851; Lalaurette 2003).
//!
//! For a forecast started on day `d₀`, the M-climate holds every hindcast start whose calendar
//! day lies within `±half_window` days of `d₀` (across the new year too), of
//! every hindcast year except the excluded ones (the forecast's own year, and in
//! cross-validation the year verified), with all its members. At lead `l` the M-climate sample
//! of a cell is the values of all those starts and members at the same lead `l`: the model's
//! drift with lead stays in the climate, so anomalies and exceedances against it are
//! lead-corrected. With 2 starts a week, ±14 days, 20 years and 11 members that is
//! 9 × 20 × 11 = 1980 values a lead (ECMWF's 2019 M-climate: 1980).

use crate::calendar::{Calendar, CfDateTime};
use crate::error::{Error, Result};

/// Days either side of the forecast's start date whose hindcast starts enter the M-climate
/// (ECMWF: the reforecasts of 5 consecutive weeks centred on the start, ±2 weeks).
pub const M_CLIMATE_HALF_WINDOW_DAYS: u32 = 14;

/// Fewest values an M-climate sample may have: below it the 1st/99th percentiles of the SOT
/// and the 95th of the exceedances are order statistics of a handful of values.
pub const MIN_M_CLIMATE_SAMPLE: usize = 100;

/// Distance in days between the calendar days (month and day) of two dates: `a`'s month and
/// day moved into `b`'s year and the years either side, the nearest taken (so 20 December is
/// 17 days from 6 January; a 29 February counts as the 28th in a common year). Leap days do
/// not shift the window: 15 June is 14 days from 1 June in every year.
pub fn day_of_year_distance(a: &CfDateTime, b: &CfDateTime, cal: Calendar) -> Result<u32> {
    let here = cal.day_number(b.year, b.month, b.day)?;
    let mut best = i64::MAX;
    for y in [b.year - 1, b.year, b.year + 1] {
        let day = a.day.min(cal.days_in_month(y, a.month));
        let n = cal.day_number(y, a.month, day)?;
        best = best.min((n - here).abs());
    }
    Ok(best as u32)
}

/// Indices of the hindcast starts in the M-climate of a forecast started on `start`: within
/// `±half_window_days` of its day of year, not in `exclude_years`.
pub fn m_climate_starts(
    hindcast_starts: &[CfDateTime],
    start: &CfDateTime,
    cal: Calendar,
    half_window_days: u32,
    exclude_years: &[i32],
) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for (i, s) in hindcast_starts.iter().enumerate() {
        if exclude_years.contains(&s.year) {
            continue;
        }
        if day_of_year_distance(s, start, cal)? <= half_window_days {
            out.push(i);
        }
    }
    if out.is_empty() {
        let first = hindcast_starts
            .first()
            .map(|d| d.date_label())
            .unwrap_or_default();
        let last = hindcast_starts
            .last()
            .map(|d| d.date_label())
            .unwrap_or_default();
        return Err(Error::invalid(
            "model climate",
            format!(
                "no hindcast start within ±{half_window_days} days of {} outside the years \
                 {exclude_years:?} (hindcast starts {first} … {last}); give hindcasts of this \
                 time of year or widen the window",
                start.date_label()
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_wraps_the_new_year_and_skips_excluded_years() {
        let cal = Calendar::Standard;
        let starts: Vec<CfDateTime> = [
            (2001, 12, 20),
            (2002, 1, 3),
            (2002, 1, 20),
            (2003, 1, 10),
            (2003, 2, 1),
        ]
        .iter()
        .map(|&(y, m, d)| CfDateTime::ymd(y, m, d))
        .collect();
        let f = CfDateTime::ymd(2010, 1, 6);
        // 20 Dec is 17 days before 6 Jan; 3 Jan 3 days; 20 Jan 14; 10 Jan 4; 1 Feb 26.
        assert_eq!(
            m_climate_starts(&starts, &f, cal, 14, &[]).unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(
            m_climate_starts(&starts, &f, cal, 17, &[2003]).unwrap(),
            vec![0, 1, 2]
        );
        let e = m_climate_starts(&starts, &CfDateTime::ymd(2010, 7, 1), cal, 14, &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no hindcast start within ±14 days of 2010-07-01"),
            "{e}"
        );
    }
}
