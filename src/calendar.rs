//! CF calendars and `"<unit> since <date>"` time coordinates.
//!
//! # What it computes
//! Decoding a numeric time coordinate into calendar dates and encoding dates back, for every
//! calendar of the CF conventions (§4.4.1):
//!
//! | [`Calendar`] | CF names | leap years |
//! |---|---|---|
//! | `Standard` | `standard`, `gregorian` | Julian before 1582-10-15, Gregorian after; 1582-10-05…14 do not exist |
//! | `ProlepticGregorian` | `proleptic_gregorian` | Gregorian rule for all years |
//! | `Julian` | `julian` | every 4th year |
//! | `NoLeap` | `noleap`, `365_day` | none |
//! | `AllLeap` | `all_leap`, `366_day` | all |
//! | `Day360` | `360_day` (and `360`, as IRI writes it) | twelve 30-day months |
//!
//! # Formula
//! A date is mapped to a day number `n`: the Julian Day Number for the real-world calendars
//! (Fliegel & Van Flandern 1968 for Gregorian, the Julian-calendar variant for Julian; `Standard`
//! switches at JDN 2 299 161 = 1582-10-15), and `n = year·L + day_of_year` for the idealised
//! calendars with fixed year length `L` (365, 366, 360). A coordinate value `v` with units
//! `"U since E"` is then `t = E + v·U`:
//! - for `U` in microseconds … weeks, `U` is a fixed number of seconds, added on the day-number
//!   axis;
//! - for `U` = months or years (NMME/IRI write `months since 1960-01-01` with a 360-day calendar),
//!   `v` counts **calendar months**: `E + ⌊v⌋ months`, plus the fraction `v − ⌊v⌋` of the length of
//!   the following month. With `360_day` this equals CF's fixed 30-day month; for other calendars
//!   it is what a forecaster means by "months since", where udunits' 30.436875-day month would put
//!   a monthly start on the wrong day.
//!
//! Years are numbered astronomically (year 0 exists) in every calendar; cftime drops year 0 for
//! the real-world calendars, which only matters before 1 AD.
//!
//! # References
//! - Eaton et al., *NetCDF Climate and Forecast (CF) Metadata Conventions* 1.8, §4.4.
//! - Fliegel, H. F. & Van Flandern, T. C. (1968), *A machine algorithm for processing calendar
//!   dates*, Comm. ACM 11, 657.
//! - cftime (Unidata) — the values in this module's tests were computed with it.
//!
//! # Example
//! ```
//! use s2s_ensemble::calendar::{Calendar, TimeCoding};
//! let nmme = TimeCoding::parse("months since 1960-01-01", Calendar::parse("360").unwrap()).unwrap();
//! assert_eq!(nmme.decode(272.0).unwrap().to_string(), "1982-09-01");
//! let subx = TimeCoding::parse("days since 1960-01-01", Calendar::Standard).unwrap();
//! assert_eq!(subx.decode(20139.0).unwrap().to_string(), "2015-02-20");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A CF calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    /// Mixed Julian/Gregorian (`standard`, `gregorian`): the CF default.
    Standard,
    /// Gregorian leap rule extended to all years.
    ProlepticGregorian,
    /// Julian leap rule for all years.
    Julian,
    /// 365-day years (`noleap`, `365_day`).
    NoLeap,
    /// 366-day years (`all_leap`, `366_day`).
    AllLeap,
    /// Twelve 30-day months (`360_day`).
    Day360,
}

/// Julian Day Number of 1582-10-15 (Gregorian), the first day of the Gregorian calendar.
const GREGORIAN_START_JDN: i64 = 2_299_161;
const CUM_DAYS_NOLEAP: [u32; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const CUM_DAYS_LEAP: [u32; 13] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366];
const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Calendar {
    /// Every calendar, for tests and listings.
    pub const ALL: [Calendar; 6] = [
        Calendar::Standard,
        Calendar::ProlepticGregorian,
        Calendar::Julian,
        Calendar::NoLeap,
        Calendar::AllLeap,
        Calendar::Day360,
    ];

    /// Parses a CF `calendar` attribute (case-insensitive). An empty string is `standard`, the
    /// CF default; `"360"`, `"365"`, `"366"` are accepted because IRI/NMME files use them.
    pub fn parse(name: &str) -> Result<Self> {
        let n = name.trim().to_ascii_lowercase();
        Ok(match n.as_str() {
            "" | "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "julian" => Calendar::Julian,
            "noleap" | "no_leap" | "365_day" | "365" => Calendar::NoLeap,
            "all_leap" | "366_day" | "366" => Calendar::AllLeap,
            "360_day" | "360" => Calendar::Day360,
            _ => return Err(Error::UnknownCalendar(name.to_string())),
        })
    }

    /// The canonical CF name, as written to output files.
    pub fn cf_name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::Julian => "julian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
        }
    }

    /// True where the calendar has a 29 February in `year`.
    pub fn is_leap(self, year: i32) -> bool {
        let julian = year.rem_euclid(4) == 0;
        let gregorian = julian && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
        match self {
            Calendar::Standard => {
                if year < 1582 {
                    julian
                } else {
                    gregorian
                }
            }
            Calendar::ProlepticGregorian => gregorian,
            Calendar::Julian => julian,
            Calendar::NoLeap | Calendar::Day360 => false,
            Calendar::AllLeap => true,
        }
    }

    /// Number of days of `month` (1–12) in `year`; for `Standard`, October 1582 has 21.
    pub fn days_in_month(self, year: i32, month: u32) -> u32 {
        if self == Calendar::Day360 {
            return 30;
        }
        if self == Calendar::Standard && year == 1582 && month == 10 {
            return 21;
        }
        let cum = if self.is_leap(year) {
            &CUM_DAYS_LEAP
        } else {
            &CUM_DAYS_NOLEAP
        };
        let m = month.clamp(1, 12) as usize;
        cum[m] - cum[m - 1]
    }

    /// Whether `(year, month, day)` is a date of this calendar.
    pub fn is_valid_date(self, year: i32, month: u32, day: u32) -> bool {
        if !(1..=12).contains(&month) || day == 0 {
            return false;
        }
        if self == Calendar::Standard && year == 1582 && month == 10 {
            return day <= 4 || (15..=31).contains(&day);
        }
        day <= self.days_in_month(year, month)
    }

    /// Day number of a date: consecutive integers for consecutive days of this calendar.
    /// (Julian Day Number for the real-world calendars.)
    pub fn day_number(self, year: i32, month: u32, day: u32) -> Result<i64> {
        if !self.is_valid_date(year, month, day) {
            return Err(Error::InvalidDate {
                date: format!("{year:04}-{month:02}-{day:02}"),
                calendar: self.cf_name().to_string(),
            });
        }
        let (y, m, d) = (i64::from(year), i64::from(month), i64::from(day));
        Ok(match self {
            Calendar::ProlepticGregorian => jdn_gregorian(y, m, d),
            Calendar::Julian => jdn_julian(y, m, d),
            Calendar::Standard => {
                if (year, month, day) >= (1582, 10, 15) {
                    jdn_gregorian(y, m, d)
                } else {
                    jdn_julian(y, m, d)
                }
            }
            Calendar::NoLeap => y * 365 + i64::from(CUM_DAYS_NOLEAP[month as usize - 1]) + d - 1,
            Calendar::AllLeap => y * 366 + i64::from(CUM_DAYS_LEAP[month as usize - 1]) + d - 1,
            Calendar::Day360 => y * 360 + (m - 1) * 30 + d - 1,
        })
    }

    /// The date of a day number (inverse of [`Calendar::day_number`]).
    pub fn date_of_day_number(self, n: i64) -> (i32, u32, u32) {
        match self {
            Calendar::ProlepticGregorian => gregorian_of_jdn(n),
            Calendar::Julian => julian_of_jdn(n),
            Calendar::Standard => {
                if n >= GREGORIAN_START_JDN {
                    gregorian_of_jdn(n)
                } else {
                    julian_of_jdn(n)
                }
            }
            Calendar::NoLeap | Calendar::AllLeap => {
                let (len, cum) = if self == Calendar::NoLeap {
                    (365, &CUM_DAYS_NOLEAP)
                } else {
                    (366, &CUM_DAYS_LEAP)
                };
                let year = n.div_euclid(len);
                let doy = n.rem_euclid(len) as u32;
                let month = (1..=12).find(|&m| doy < cum[m]).unwrap_or(12);
                (year as i32, month as u32, doy - cum[month - 1] + 1)
            }
            Calendar::Day360 => {
                let year = n.div_euclid(360);
                let doy = n.rem_euclid(360) as u32;
                (year as i32, doy / 30 + 1, doy % 30 + 1)
            }
        }
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cf_name())
    }
}

fn jdn_gregorian(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    d + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - yy.div_euclid(100) + yy.div_euclid(400)
        - 32045
}

fn jdn_julian(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    d + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - 32083
}

fn gregorian_of_jdn(j: i64) -> (i32, u32, u32) {
    let a = j + 32044;
    let b = (4 * a + 3).div_euclid(146_097);
    let c = a - (146_097 * b).div_euclid(4);
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2).div_euclid(153);
    let day = e - (153 * m + 2).div_euclid(5) + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = 100 * b + d - 4800 + m / 10;
    (year as i32, month as u32, day as u32)
}

fn julian_of_jdn(j: i64) -> (i32, u32, u32) {
    let c = j + 32082;
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2).div_euclid(153);
    let day = e - (153 * m + 2).div_euclid(5) + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = d - 4800 + m / 10;
    (year as i32, month as u32, day as u32)
}

/// A date and time of day in some CF calendar (the calendar is kept beside it, not inside).
///
/// Fields are ordered so that the derived ordering is chronological within one calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CfDateTime {
    /// Astronomical year (year 0 exists).
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day of month, from 1.
    pub day: u32,
    /// Microseconds since midnight.
    pub micros_of_day: i64,
}

/// English month names, January first.
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl CfDateTime {
    /// Midnight at the start of a date (not checked against a calendar).
    pub const fn ymd(year: i32, month: u32, day: u32) -> Self {
        CfDateTime {
            year,
            month,
            day,
            micros_of_day: 0,
        }
    }

    /// With a time of day in hours, minutes and seconds.
    pub fn ymd_hms(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: f64) -> Self {
        let micros = (f64::from(hour) * 3600.0 + f64::from(minute) * 60.0 + second) * 1e6;
        CfDateTime {
            year,
            month,
            day,
            micros_of_day: micros.round() as i64,
        }
    }

    /// Microseconds since the calendar's day-number origin (a total order within a calendar).
    pub fn micros(&self, cal: Calendar) -> Result<i128> {
        let n = cal.day_number(self.year, self.month, self.day)?;
        Ok(i128::from(n) * i128::from(MICROS_PER_DAY) + i128::from(self.micros_of_day))
    }

    /// Inverse of [`CfDateTime::micros`].
    pub fn from_micros(total: i128, cal: Calendar) -> Self {
        let per_day = i128::from(MICROS_PER_DAY);
        let days = total.div_euclid(per_day);
        let rem = total.rem_euclid(per_day);
        let (year, month, day) = cal.date_of_day_number(days as i64);
        CfDateTime {
            year,
            month,
            day,
            micros_of_day: rem as i64,
        }
    }

    /// Adds a (possibly negative) number of seconds.
    /// The date as `YYYY-MM-DD`.
    pub fn date_label(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The English name of month `m` (1–12).
    pub fn month_name(m: u32) -> &'static str {
        MONTH_NAMES[(m.clamp(1, 12) - 1) as usize]
    }

    /// The period `[self, end)` in words, as a bulletin names it: whole months as
    /// `October 2021`, `Oct–Dec 2021`, `Dec 2021–Feb 2022`; other periods by their first and
    /// last day, `3–9 September 2021`, `28 Sep–4 Oct 2021`.
    pub fn period_label(&self, end: &CfDateTime, cal: Calendar) -> String {
        let short = |m: u32| &Self::month_name(m)[..3];
        let long = |m: u32| Self::month_name(m);
        let whole =
            self.day == 1 && end.day == 1 && self.micros_of_day == 0 && end.micros_of_day == 0;
        let months = (end.year - self.year) * 12 + end.month as i32 - self.month as i32;
        if whole && months >= 1 {
            let last_index = self.year * 12 + self.month as i32 - 1 + months - 1;
            let (ly, lm) = (
                last_index.div_euclid(12),
                (last_index.rem_euclid(12) + 1) as u32,
            );
            return match months {
                1 => format!("{} {}", long(self.month), self.year),
                _ if ly == self.year => {
                    format!("{}–{} {}", short(self.month), short(lm), self.year)
                }
                _ => format!("{} {}–{} {}", short(self.month), self.year, short(lm), ly),
            };
        }
        let last = end.add_days(-1, cal).unwrap_or(*end);
        if last.year == self.year && last.month == self.month {
            format!(
                "{}–{} {} {}",
                self.day,
                last.day,
                long(self.month),
                self.year
            )
        } else if last.year == self.year {
            format!(
                "{} {}–{} {} {}",
                self.day,
                short(self.month),
                last.day,
                short(last.month),
                self.year
            )
        } else {
            format!(
                "{} {} {}–{} {} {}",
                self.day,
                short(self.month),
                self.year,
                last.day,
                short(last.month),
                last.year
            )
        }
    }

    pub fn add_seconds(&self, seconds: f64, cal: Calendar) -> Result<Self> {
        let t = self.micros(cal)? + (seconds * 1e6).round() as i128;
        Ok(Self::from_micros(t, cal))
    }

    /// Adds whole days.
    pub fn add_days(&self, days: i64, cal: Calendar) -> Result<Self> {
        let n = cal.day_number(self.year, self.month, self.day)? + days;
        let (year, month, day) = cal.date_of_day_number(n);
        Ok(CfDateTime {
            year,
            month,
            day,
            micros_of_day: self.micros_of_day,
        })
    }

    /// Adds whole calendar months; a day beyond the end of the new month is clamped to its last
    /// day (31 January + 1 month = 28/29 February).
    pub fn add_months(&self, months: i64, cal: Calendar) -> Self {
        let m0 = i64::from(self.year) * 12 + i64::from(self.month) - 1 + months;
        let year = m0.div_euclid(12) as i32;
        let month = (m0.rem_euclid(12) + 1) as u32;
        let mut day = self.day.min(cal.days_in_month(year, month));
        if cal == Calendar::Standard && year == 1582 && month == 10 && (5..15).contains(&day) {
            day = 15;
        }
        CfDateTime {
            year,
            month,
            day,
            micros_of_day: self.micros_of_day,
        }
    }

    /// Seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(&self, later: &CfDateTime, cal: Calendar) -> Result<f64> {
        Ok((later.micros(cal)? - self.micros(cal)?) as f64 / 1e6)
    }

    /// Days from `self` to `later`, fractional.
    pub fn days_until(&self, later: &CfDateTime, cal: Calendar) -> Result<f64> {
        Ok(self.seconds_until(later, cal)? / 86_400.0)
    }

    /// The same date as a `chrono` date, where it exists in the proleptic Gregorian calendar
    /// (standard-calendar dates from 1582-10-15 on, proleptic-Gregorian dates).
    pub fn to_chrono(&self, cal: Calendar) -> Option<chrono::NaiveDateTime> {
        let gregorian = match cal {
            Calendar::ProlepticGregorian => true,
            Calendar::Standard => (self.year, self.month, self.day) >= (1582, 10, 15),
            _ => false,
        };
        if !gregorian {
            return None;
        }
        let date = chrono::NaiveDate::from_ymd_opt(self.year, self.month, self.day)?;
        let secs = (self.micros_of_day / 1_000_000) as u32;
        let nanos = ((self.micros_of_day % 1_000_000) * 1000) as u32;
        date.and_hms_nano_opt(secs / 3600, secs / 60 % 60, secs % 60, nanos)
    }

    /// ISO 8601 with the time of day always written (`2020-09-03T00:00:00`), as track files
    /// and CSV tables want it; otherwise as [`fmt::Display`].
    pub fn iso_datetime(&self) -> String {
        let s = self.to_string();
        if self.micros_of_day == 0 {
            s + "T00:00:00"
        } else {
            s
        }
    }

    /// Parses `YYYY-MM-DD`, optionally followed by a time `HH:MM[:SS[.f]]` (after `T` or a
    /// space) and a UTC offset (`Z`, `UTC`, `+HH:MM`). Years may be signed and 1–6 digits. The
    /// offset is returned separately, in seconds east of UTC.
    pub fn parse_with_offset(text: &str) -> std::result::Result<(Self, f64), String> {
        let s = text.trim();
        let (date_part, rest) = split_date(s);
        let (year, month, day) = parse_ymd(date_part)?;
        let mut rest = rest.trim_start_matches(['T', ' ']).trim();
        let mut offset = 0.0;
        // Trailing zone designators.
        for z in ["UTC", "utc", "GMT", "Z", "z"] {
            if let Some(r) = rest.strip_suffix(z) {
                rest = r.trim();
                break;
            }
        }
        let mut time_part = rest;
        if let Some(pos) = rest.rfind(['+', '-']).filter(|&p| p > 0) {
            let (t, tz) = rest.split_at(pos);
            offset = parse_offset(tz)?;
            time_part = t.trim();
        } else if let Some((t, tz)) = rest.split_once(' ') {
            // "00:00:00 0:00" (old udunits style)
            offset = parse_offset(tz.trim())?;
            time_part = t;
        }
        let secs = if time_part.is_empty() {
            0.0
        } else {
            parse_hms(time_part)?
        };
        let mut dt = CfDateTime::ymd(year, month, day);
        dt.micros_of_day = (secs * 1e6).round() as i64;
        Ok((dt, offset))
    }
}

fn split_date(s: &str) -> (&str, &str) {
    // The date ends at the first 'T' or space after position 0.
    let start = usize::from(s.starts_with(['-', '+']));
    match s[start..].find(['T', ' ']) {
        Some(p) => s.split_at(start + p),
        None => (s, ""),
    }
}

fn parse_ymd(s: &str) -> std::result::Result<(i32, u32, u32), String> {
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => (-1, b),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let parts: Vec<&str> = body.split('-').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!("'{s}' is not a date of the form YYYY-MM-DD"));
    }
    let num = |p: &str| {
        p.parse::<i64>()
            .map_err(|_| format!("'{s}' is not a date of the form YYYY-MM-DD"))
    };
    let year = sign * num(parts[0])?;
    let month = if parts.len() > 1 { num(parts[1])? } else { 1 };
    let day = if parts.len() > 2 { num(parts[2])? } else { 1 };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(format!("'{s}': month or day out of range"));
    }
    Ok((year as i32, month as u32, day as u32))
}

fn parse_hms(s: &str) -> std::result::Result<f64, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || format!("'{s}' is not a time of day HH:MM:SS");
    if parts.is_empty() || parts.len() > 3 {
        return Err(bad());
    }
    let h: f64 = parts[0].parse().map_err(|_| bad())?;
    let m: f64 = parts
        .get(1)
        .map_or(Ok(0.0), |p| p.parse())
        .map_err(|_| bad())?;
    let sec: f64 = parts
        .get(2)
        .map_or(Ok(0.0), |p| p.parse())
        .map_err(|_| bad())?;
    if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&m) || !(0.0..61.0).contains(&sec) {
        return Err(bad());
    }
    Ok(h * 3600.0 + m * 60.0 + sec)
}

fn parse_offset(s: &str) -> std::result::Result<f64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0.0);
    }
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let bad = || format!("'{s}' is not a UTC offset (+HH:MM)");
    let (h, m) = match body.split_once(':') {
        Some((h, m)) => (h, m),
        None if body.len() == 4 && body.is_char_boundary(2) => body.split_at(2),
        None => (body, "0"),
    };
    let h: f64 = h.parse().map_err(|_| bad())?;
    let m: f64 = m.parse().map_err(|_| bad())?;
    Ok(sign * (h * 3600.0 + m * 60.0))
}

impl fmt::Display for CfDateTime {
    /// ISO 8601: `YYYY-MM-DD`, with `THH:MM:SS` when the time of day is not midnight.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year < 0 {
            write!(f, "-{:04}", -self.year)?;
        } else {
            write!(f, "{:04}", self.year)?;
        }
        write!(f, "-{:02}-{:02}", self.month, self.day)?;
        if self.micros_of_day != 0 {
            let secs = self.micros_of_day / 1_000_000;
            write!(
                f,
                "T{:02}:{:02}:{:02}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )?;
            let us = self.micros_of_day % 1_000_000;
            if us != 0 {
                write!(f, ".{us:06}")?;
            }
        }
        Ok(())
    }
}

/// The unit of a time coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// 10⁻⁶ s.
    Microseconds,
    /// 10⁻³ s.
    Milliseconds,
    /// SI seconds.
    Seconds,
    /// 60 s.
    Minutes,
    /// 3600 s.
    Hours,
    /// 86 400 s.
    Days,
    /// 7 days.
    Weeks,
    /// Calendar months (see the module doc).
    Months,
    /// Calendar years = 12 calendar months.
    Years,
}

impl TimeUnit {
    /// Parses a udunits time-unit name (`days`, `day`, `d`, `hours`, `hrs`, `months`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "microseconds" | "microsecond" | "us" => TimeUnit::Microseconds,
            "milliseconds" | "millisecond" | "msec" | "msecs" | "ms" => TimeUnit::Milliseconds,
            "seconds" | "second" | "secs" | "sec" | "s" => TimeUnit::Seconds,
            "minutes" | "minute" | "mins" | "min" => TimeUnit::Minutes,
            "hours" | "hour" | "hrs" | "hr" | "h" => TimeUnit::Hours,
            "days" | "day" | "d" => TimeUnit::Days,
            "weeks" | "week" => TimeUnit::Weeks,
            "months" | "month" | "mon" => TimeUnit::Months,
            "years" | "year" | "yr" | "common_years" => TimeUnit::Years,
            _ => return None,
        })
    }

    /// Length in seconds for the fixed-length units, `None` for months and years.
    pub fn seconds(self) -> Option<f64> {
        Some(match self {
            TimeUnit::Microseconds => 1e-6,
            TimeUnit::Milliseconds => 1e-3,
            TimeUnit::Seconds => 1.0,
            TimeUnit::Minutes => 60.0,
            TimeUnit::Hours => 3600.0,
            TimeUnit::Days => 86_400.0,
            TimeUnit::Weeks => 604_800.0,
            TimeUnit::Months | TimeUnit::Years => return None,
        })
    }

    /// The plural name used in CF units strings.
    pub fn cf_name(self) -> &'static str {
        match self {
            TimeUnit::Microseconds => "microseconds",
            TimeUnit::Milliseconds => "milliseconds",
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }
}

/// How a numeric time coordinate maps to dates: `"<unit> since <epoch>"` in a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeCoding {
    /// Unit of the stored numbers.
    pub unit: TimeUnit,
    /// Reference date (UTC; an offset in the units string is folded in).
    pub epoch: CfDateTime,
    /// Calendar of the epoch and of the decoded dates.
    pub calendar: Calendar,
}

impl TimeCoding {
    /// A coding from its parts; the epoch must be a date of the calendar.
    pub fn new(unit: TimeUnit, epoch: CfDateTime, calendar: Calendar) -> Result<Self> {
        calendar.day_number(epoch.year, epoch.month, epoch.day)?;
        Ok(TimeCoding {
            unit,
            epoch,
            calendar,
        })
    }

    /// Parses a CF `units` attribute such as `"days since 1960-01-01"`,
    /// `"hours since 1982-01-01 00:00:00"`, `"seconds since 1970-01-01T00:00:00Z"`.
    pub fn parse(units: &str, calendar: Calendar) -> Result<Self> {
        let err = |reason: String| Error::TimeUnits {
            units: units.to_string(),
            reason,
        };
        let lower = units.to_ascii_lowercase();
        let pos = lower
            .find(" since ")
            .ok_or_else(|| err("expected '<unit> since <date>'".into()))?;
        let unit_name = &units[..pos];
        let unit = TimeUnit::parse(unit_name)
            .ok_or_else(|| err(format!("'{}' is not a time unit", unit_name.trim())))?;
        let (mut epoch, offset) = CfDateTime::parse_with_offset(&units[pos + 7..]).map_err(err)?;
        calendar
            .day_number(epoch.year, epoch.month, epoch.day)
            .map_err(|e| err(e.to_string()))?;
        if offset != 0.0 {
            epoch = epoch
                .add_seconds(-offset, calendar)
                .map_err(|e| err(e.to_string()))?;
        }
        Ok(TimeCoding {
            unit,
            epoch,
            calendar,
        })
    }

    /// The CF `units` string, e.g. `"days since 1970-01-01 00:00:00"`.
    pub fn units_string(&self) -> String {
        let e = &self.epoch;
        let secs = e.micros_of_day as f64 / 1e6;
        let (h, m, s) = (
            (secs / 3600.0).floor(),
            (secs / 60.0).floor() % 60.0,
            secs % 60.0,
        );
        let date = CfDateTime::ymd(e.year, e.month, e.day);
        format!("{} since {date} {h:02}:{m:02}:{s:02}", self.unit.cf_name())
    }

    /// The date of a coordinate value.
    pub fn decode(&self, value: f64) -> Result<CfDateTime> {
        if !value.is_finite() {
            return Err(Error::TimeUnits {
                units: self.units_string(),
                reason: format!("time value {value} is not finite"),
            });
        }
        let cal = self.calendar;
        match self.unit.seconds() {
            Some(unit_secs) => {
                // Whole units added exactly, the fraction rounded to the microsecond.
                let whole = value.trunc();
                let frac = value - whole;
                let unit_micros = (unit_secs * 1e6).round() as i128;
                let mut micros = if unit_micros >= 1 {
                    whole as i128 * unit_micros + (frac * unit_secs * 1e6).round() as i128
                } else {
                    (value * unit_secs * 1e6).round() as i128
                };
                // An f64 holds ~16 digits: far from the epoch in small units the fraction is
                // only good to a few microseconds. Round to the resolution the value carries,
                // so that 2215-03-12T05:43:37 does not come back as ...36.999999.
                let ulp_micros = value.abs() * f64::EPSILON * unit_secs * 1e6;
                if ulp_micros > 0.25 {
                    let step = 10f64.powf((4.0 * ulp_micros).log10().ceil()) as i128;
                    micros = (micros + step / 2).div_euclid(step) * step;
                }
                Ok(CfDateTime::from_micros(
                    self.epoch.micros(cal)? + micros,
                    cal,
                ))
            }
            None => {
                let months = if self.unit == TimeUnit::Years {
                    value * 12.0
                } else {
                    value
                };
                let whole = months.floor();
                let frac = months - whole;
                let base = self.epoch.add_months(whole as i64, cal);
                if frac.abs() < 1e-12 {
                    return Ok(base);
                }
                let next = self.epoch.add_months(whole as i64 + 1, cal);
                let span = next.micros(cal)? - base.micros(cal)?;
                let t = base.micros(cal)? + (frac * span as f64).round() as i128;
                Ok(CfDateTime::from_micros(t, cal))
            }
        }
    }

    /// The coordinate value of a date (inverse of [`TimeCoding::decode`]).
    pub fn encode(&self, t: &CfDateTime) -> Result<f64> {
        let cal = self.calendar;
        match self.unit.seconds() {
            Some(unit_secs) => {
                let d = t.micros(cal)? - self.epoch.micros(cal)?;
                let per_unit = unit_secs * 1e6;
                // Exact integer division where possible keeps whole units exact.
                let per_unit_i = per_unit.round() as i128;
                if per_unit_i >= 1 && (per_unit - per_unit_i as f64).abs() < 1e-9 {
                    let q = d.div_euclid(per_unit_i);
                    let r = d.rem_euclid(per_unit_i);
                    Ok(q as f64 + r as f64 / per_unit)
                } else {
                    Ok(d as f64 / per_unit)
                }
            }
            None => {
                // Whole months from the epoch, then the fraction of the month that follows.
                let tm = t.micros(cal)?;
                let mut n = (i64::from(t.year) - i64::from(self.epoch.year)) * 12
                    + i64::from(t.month)
                    - i64::from(self.epoch.month);
                while self.epoch.add_months(n, cal).micros(cal)? > tm {
                    n -= 1;
                }
                while self.epoch.add_months(n + 1, cal).micros(cal)? <= tm {
                    n += 1;
                }
                let base = self.epoch.add_months(n, cal).micros(cal)?;
                let next = self.epoch.add_months(n + 1, cal).micros(cal)?;
                let months = n as f64 + (tm - base) as f64 / (next - base) as f64;
                Ok(if self.unit == TimeUnit::Years {
                    months / 12.0
                } else {
                    months
                })
            }
        }
    }
}

/// A season: consecutive calendar months, possibly across the year's end (`JJAS`, `OND`,
/// `NDJFM`), the period a value stamped once a year covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Season {
    /// First month, 1–12.
    pub first_month: u32,
    /// Number of months, 1–12.
    pub months: u32,
}

/// Month initials January to December, for season names.
const MONTH_INITIALS: &str = "JFMAMJJASOND";

impl Season {
    /// Parses a season: month initials (`JJAS`, `OND`, `DJF`; at least two letters, which
    /// must name one sequence of months), or month numbers `FIRST-LAST` (`6-9`, `11-3`), or
    /// `year` / `ann` for the whole calendar year.
    pub fn parse(text: &str) -> std::result::Result<Season, String> {
        let t = text.trim();
        let bad = |why: &str| {
            format!("season '{t}': {why} (e.g. JJAS, OND, DJF, or month numbers 6-9, 11-3)")
        };
        if t.eq_ignore_ascii_case("year") || t.eq_ignore_ascii_case("ann") {
            return Ok(Season {
                first_month: 1,
                months: 12,
            });
        }
        if let Some((a, b)) = t.split_once('-') {
            let m = |x: &str| {
                x.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|m| (1..=12).contains(m))
            };
            let (Some(a), Some(b)) = (m(a), m(b)) else {
                return Err(bad("months are numbers 1-12"));
            };
            return Ok(Season {
                first_month: a,
                months: (b + 12 - a) % 12 + 1,
            });
        }
        let up = t.to_ascii_uppercase();
        if up.len() < 2 || up.len() > 12 || !up.chars().all(|c| MONTH_INITIALS.contains(c)) {
            return Err(bad("not a sequence of month initials"));
        }
        let twice = MONTH_INITIALS.repeat(2);
        let starts: Vec<usize> = (0..12)
            .filter(|&k| twice[k..].starts_with(up.as_str()))
            .collect();
        match starts.as_slice() {
            [k] => Ok(Season {
                first_month: *k as u32 + 1,
                months: up.len() as u32,
            }),
            [] => Err(bad("the initials are not consecutive months")),
            _ => Err(bad("the initials fit several seasons; give month numbers")),
        }
    }

    /// Month initials (`JJAS`), or `year` for twelve months from January.
    pub fn label(&self) -> String {
        if self.months == 12 && self.first_month == 1 {
            return "year".into();
        }
        (0..self.months)
            .map(|k| {
                let m = ((self.first_month - 1 + k) % 12) as usize;
                &MONTH_INITIALS[m..m + 1]
            })
            .collect()
    }

    /// The first day of the occurrence of the season that a value stamped `stamp` stands for:
    /// the occurrence containing the stamp, else the one starting in the stamp's year.
    pub fn occurrence_start(&self, stamp: &CfDateTime) -> CfDateTime {
        let end_in_next = self.first_month + self.months - 1 > 12;
        let last_month_next_year = (self.first_month + self.months - 1 - 1) % 12 + 1;
        let year =
            if end_in_next && stamp.month <= last_month_next_year && stamp.month < self.first_month
            {
                stamp.year - 1
            } else {
                stamp.year
            };
        CfDateTime::ymd(year, self.first_month, 1)
    }

    /// The season a target period `[start, end)` of whole months is, if it is one.
    pub fn of_period(start: &CfDateTime, end: &CfDateTime) -> Option<Season> {
        if start.day != 1 || start.micros_of_day != 0 || end.day != 1 || end.micros_of_day != 0 {
            return None;
        }
        let months = (end.year - start.year) * 12 + end.month as i32 - start.month as i32;
        (1..=12).contains(&months).then_some(Season {
            first_month: start.month,
            months: months as u32,
        })
    }
}

impl fmt::Display for Season {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_labels_read_like_a_bulletin() {
        let cases = [
            (
                (2021, 10, 1),
                (2021, 11, 1),
                Calendar::Standard,
                "October 2021",
            ),
            (
                (2021, 10, 1),
                (2022, 1, 1),
                Calendar::Standard,
                "Oct–Dec 2021",
            ),
            (
                (2021, 12, 1),
                (2022, 3, 1),
                Calendar::Standard,
                "Dec 2021–Feb 2022",
            ),
            (
                (2021, 9, 3),
                (2021, 9, 10),
                Calendar::Standard,
                "3–9 September 2021",
            ),
            (
                (2021, 9, 28),
                (2021, 10, 5),
                Calendar::Standard,
                "28 Sep–4 Oct 2021",
            ),
            (
                (2021, 12, 28),
                (2022, 1, 4),
                Calendar::Standard,
                "28 Dec 2021–3 Jan 2022",
            ),
            // 360-day calendar: 30 February exists.
            (
                (2021, 2, 24),
                (2021, 3, 1),
                Calendar::Day360,
                "24–30 February 2021",
            ),
        ];
        for ((y0, m0, d0), (y1, m1, d1), cal, want) in cases {
            assert_eq!(d(y0, m0, d0).period_label(&d(y1, m1, d1), cal), want);
        }
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> CfDateTime {
        CfDateTime::ymd(y, m, day)
    }

    #[test]
    fn parses_calendar_names() {
        assert_eq!(Calendar::parse("gregorian").unwrap(), Calendar::Standard);
        assert_eq!(Calendar::parse("").unwrap(), Calendar::Standard);
        assert_eq!(Calendar::parse("365_day").unwrap(), Calendar::NoLeap);
        assert_eq!(Calendar::parse("360").unwrap(), Calendar::Day360);
        assert_eq!(Calendar::parse("ALL_LEAP").unwrap(), Calendar::AllLeap);
        let e = Calendar::parse("lunar").unwrap_err().to_string();
        assert!(e.contains("unknown calendar 'lunar'"), "{e}");
    }

    #[test]
    fn julian_day_numbers_by_hand() {
        // JDN of 2000-01-01 (Gregorian) is 2 451 545; of 1582-10-04 (Julian) 2 299 160.
        assert_eq!(
            Calendar::ProlepticGregorian.day_number(2000, 1, 1).unwrap(),
            2_451_545
        );
        assert_eq!(
            Calendar::Standard.day_number(1582, 10, 4).unwrap(),
            2_299_160
        );
        assert_eq!(
            Calendar::Standard.day_number(1582, 10, 15).unwrap(),
            2_299_161
        );
        assert!(Calendar::Standard.day_number(1582, 10, 10).is_err());
        // Julian calendar runs 13 days behind Gregorian in 2000.
        assert_eq!(
            Calendar::Julian.day_number(1999, 12, 19).unwrap(),
            Calendar::ProlepticGregorian.day_number(2000, 1, 1).unwrap()
        );
        assert!(Calendar::Standard.day_number(1900, 2, 29).is_err());
        assert!(Calendar::Julian.day_number(1900, 2, 29).is_ok());
        assert!(Calendar::Day360.day_number(2001, 2, 30).is_ok());
        assert!(Calendar::NoLeap.day_number(2000, 2, 29).is_err());
    }

    #[test]
    fn day_numbers_invert_for_every_calendar() {
        for cal in Calendar::ALL {
            for n in (-800_000..3_000_000).step_by(997) {
                let (y, m, day) = cal.date_of_day_number(n);
                assert_eq!(cal.day_number(y, m, day).unwrap(), n, "{cal} {n}");
            }
        }
    }

    /// Values computed with cftime 1.6.6:
    /// ```python
    /// import cftime
    /// for cal in ["standard","proleptic_gregorian","julian","noleap","all_leap","360_day"]:
    ///     for v in [0, 59, 60, 365, 1000.25, 36524, 20139]:   # 20139: a SubX start
    ///         print(cal, v, cftime.num2date(v, "days since 1960-01-01", calendar=cal))
    ///     print(cal, cftime.date2num(cftime.datetime(2020,9,3,calendar=cal), "days since 1960-01-01", calendar=cal))
    /// ```
    #[test]
    fn days_since_1960_matches_cftime() {
        let cases: &[(Calendar, f64, &str)] = &[
            (Calendar::Standard, 0.0, "1960-01-01"),
            (Calendar::Standard, 59.0, "1960-02-29"),
            (Calendar::Standard, 60.0, "1960-03-01"),
            (Calendar::Standard, 365.0, "1960-12-31"),
            (Calendar::Standard, 1000.25, "1962-09-27T06:00:00"),
            (Calendar::Standard, 36524.0, "2059-12-31"),
            (Calendar::Standard, 20139.0, "2015-02-20"),
            (Calendar::ProlepticGregorian, 0.0, "1960-01-01"),
            (Calendar::ProlepticGregorian, 59.0, "1960-02-29"),
            (Calendar::ProlepticGregorian, 60.0, "1960-03-01"),
            (Calendar::ProlepticGregorian, 365.0, "1960-12-31"),
            (Calendar::ProlepticGregorian, 1000.25, "1962-09-27T06:00:00"),
            (Calendar::ProlepticGregorian, 36524.0, "2059-12-31"),
            (Calendar::ProlepticGregorian, 20139.0, "2015-02-20"),
            (Calendar::Julian, 0.0, "1960-01-01"),
            (Calendar::Julian, 59.0, "1960-02-29"),
            (Calendar::Julian, 60.0, "1960-03-01"),
            (Calendar::Julian, 365.0, "1960-12-31"),
            (Calendar::Julian, 1000.25, "1962-09-27T06:00:00"),
            (Calendar::Julian, 36524.0, "2059-12-31"),
            (Calendar::Julian, 20139.0, "2015-02-20"),
            (Calendar::NoLeap, 0.0, "1960-01-01"),
            (Calendar::NoLeap, 59.0, "1960-03-01"),
            (Calendar::NoLeap, 60.0, "1960-03-02"),
            (Calendar::NoLeap, 365.0, "1961-01-01"),
            (Calendar::NoLeap, 1000.25, "1962-09-28T06:00:00"),
            (Calendar::NoLeap, 36524.0, "2060-01-25"),
            (Calendar::NoLeap, 20139.0, "2015-03-06"),
            (Calendar::AllLeap, 0.0, "1960-01-01"),
            (Calendar::AllLeap, 59.0, "1960-02-29"),
            (Calendar::AllLeap, 60.0, "1960-03-01"),
            (Calendar::AllLeap, 365.0, "1960-12-31"),
            (Calendar::AllLeap, 1000.25, "1962-09-25T06:00:00"),
            (Calendar::AllLeap, 36524.0, "2059-10-17"),
            (Calendar::AllLeap, 20139.0, "2015-01-10"),
            (Calendar::Day360, 0.0, "1960-01-01"),
            (Calendar::Day360, 59.0, "1960-02-30"),
            (Calendar::Day360, 60.0, "1960-03-01"),
            (Calendar::Day360, 365.0, "1961-01-06"),
            (Calendar::Day360, 1000.25, "1962-10-11T06:00:00"),
            (Calendar::Day360, 36524.0, "2061-06-15"),
            (Calendar::Day360, 20139.0, "2015-12-10"),
        ];
        for &(cal, v, expect) in cases {
            let tc = TimeCoding::parse("days since 1960-01-01", cal).unwrap();
            let got = tc.decode(v).unwrap();
            assert_eq!(got.to_string(), expect, "{cal} {v}");
            assert_eq!(tc.encode(&got).unwrap(), v, "{cal} {v} encode");
        }
        // date2num(2020-09-03): the Sri Lanka tanker fire.
        let expect = [
            (Calendar::Standard, 22161.0),
            (Calendar::ProlepticGregorian, 22161.0),
            (Calendar::Julian, 22161.0),
            (Calendar::NoLeap, 22145.0),
            (Calendar::AllLeap, 22206.0),
            (Calendar::Day360, 21842.0),
        ];
        for (cal, v) in expect {
            let tc = TimeCoding::parse("days since 1960-01-01", cal).unwrap();
            assert_eq!(tc.encode(&d(2020, 9, 3)).unwrap(), v, "{cal}");
        }
    }

    #[test]
    fn standard_calendar_crosses_the_gregorian_reform() {
        // cftime: num2date(0, "days since 1582-10-04", "standard") + 1 day = 1582-10-15
        let tc = TimeCoding::parse("days since 1582-10-04", Calendar::Standard).unwrap();
        assert_eq!(tc.decode(1.0).unwrap(), d(1582, 10, 15));
        let tc = TimeCoding::parse("days since 1500-03-01", Calendar::Standard).unwrap();
        // 1500 is a leap year in the Julian part: 1500-02-29 exists.
        assert_eq!(tc.decode(-1.0).unwrap(), d(1500, 2, 29));
        let pg = TimeCoding::parse("days since 1500-03-01", Calendar::ProlepticGregorian).unwrap();
        assert_eq!(pg.decode(-1.0).unwrap(), d(1500, 2, 28));
    }

    #[test]
    fn months_since_like_nmme() {
        let cal = Calendar::Day360;
        let tc = TimeCoding::parse("months since 1960-01-01", cal).unwrap();
        assert_eq!(tc.decode(272.0).unwrap(), d(1982, 9, 1));
        assert_eq!(tc.decode(740.0).unwrap(), d(2021, 9, 1));
        assert_eq!(tc.decode(0.5).unwrap(), d(1960, 1, 16));
        assert_eq!(tc.encode(&d(1982, 9, 1)).unwrap(), 272.0);
        // Standard calendar: calendar months, fraction of the following month.
        let tc = TimeCoding::parse("months since 1960-01-01", Calendar::Standard).unwrap();
        assert_eq!(tc.decode(1.5).unwrap().to_string(), "1960-02-15T12:00:00");
        assert_eq!(tc.encode(&d(1993, 5, 1)).unwrap(), 400.0);
        let tc = TimeCoding::parse("years since 2000-01-01", Calendar::NoLeap).unwrap();
        assert_eq!(tc.decode(3.0).unwrap(), d(2003, 1, 1));
    }

    #[test]
    fn parses_units_strings() {
        let tc = TimeCoding::parse("hours since 1982-01-01 00:00:00", Calendar::Standard).unwrap();
        assert_eq!(tc.unit, TimeUnit::Hours);
        assert_eq!(tc.decode(8016.0).unwrap(), d(1982, 12, 1));
        let tc =
            TimeCoding::parse("days since 1950-01-01 00:00:00.000000", Calendar::NoLeap).unwrap();
        assert_eq!(tc.epoch, d(1950, 1, 1));
        let tc =
            TimeCoding::parse("seconds since 1970-01-01T00:00:00Z", Calendar::Standard).unwrap();
        assert_eq!(tc.decode(86_400.0 * 365.0).unwrap(), d(1971, 1, 1));
        let tc =
            TimeCoding::parse("days since 1970-1-1 06:00:00 +06:00", Calendar::Standard).unwrap();
        assert_eq!(tc.epoch, d(1970, 1, 1));
        let tc = TimeCoding::parse("Days Since 1900-01-01", Calendar::Standard).unwrap();
        assert_eq!(tc.unit, TimeUnit::Days);
        for bad in [
            "days",
            "fortnights since 1900-01-01",
            "days since yesterday",
            "days since 1900-13-01",
        ] {
            let e = TimeCoding::parse(bad, Calendar::Standard)
                .unwrap_err()
                .to_string();
            assert!(e.contains(bad), "{e}");
        }
        assert!(TimeCoding::parse("days since 2001-02-29", Calendar::Standard).is_err());
        assert!(TimeCoding::parse("days since 2001-02-30", Calendar::Day360).is_ok());
    }

    #[test]
    fn units_string_round_trips() {
        let tc = TimeCoding::parse("hours since 1982-01-01 06:30:00", Calendar::Julian).unwrap();
        assert_eq!(tc.units_string(), "hours since 1982-01-01 06:30:00");
        assert_eq!(
            TimeCoding::parse(&tc.units_string(), Calendar::Julian).unwrap(),
            tc
        );
    }

    #[test]
    fn add_months_clamps() {
        let cal = Calendar::Standard;
        assert_eq!(d(2021, 1, 31).add_months(1, cal), d(2021, 2, 28));
        assert_eq!(d(2020, 1, 31).add_months(1, cal), d(2020, 2, 29));
        assert_eq!(d(2020, 11, 15).add_months(3, cal), d(2021, 2, 15));
        assert_eq!(d(2020, 3, 15).add_months(-3, cal), d(2019, 12, 15));
    }

    #[test]
    fn chrono_only_where_gregorian() {
        assert!(d(2020, 2, 30).to_chrono(Calendar::Day360).is_none());
        let c = d(2020, 9, 3).to_chrono(Calendar::Standard).unwrap();
        assert_eq!(c.to_string(), "2020-09-03 00:00:00");
    }

    proptest! {
        /// encode(decode(v)) == v for whole and quarter units in every calendar and unit.
        #[test]
        fn encode_inverts_decode(cal_i in 0usize..6, unit_i in 0usize..5, quarters in -4_000_000i64..4_000_000) {
            let cal = Calendar::ALL[cal_i];
            let unit = ["seconds", "hours", "days", "months", "years"][unit_i];
            let tc = TimeCoding::parse(&format!("{unit} since 1960-01-01"), cal).unwrap();
            let v = match unit_i {
                3 => (quarters / 4000) as f64,          // whole months
                4 => (quarters / 400_000) as f64,       // whole years
                _ => quarters as f64 * 0.25,
            };
            let t = tc.decode(v).unwrap();
            prop_assert!((tc.encode(&t).unwrap() - v).abs() < 1e-9);
        }

        /// decode(encode(t)) == t for every valid date and time.
        #[test]
        fn decode_inverts_encode(cal_i in 0usize..6, n in -200_000i64..200_000, secs in 0i64..86_400) {
            let cal = Calendar::ALL[cal_i];
            let base = cal.day_number(1960, 1, 1).unwrap();
            let (y, m, day) = cal.date_of_day_number(base + n);
            let t = CfDateTime { year: y, month: m, day, micros_of_day: secs * 1_000_000 };
            for unit in ["seconds", "minutes", "hours", "days"] {
                let tc = TimeCoding::parse(&format!("{unit} since 1960-01-01"), cal).unwrap();
                prop_assert_eq!(tc.decode(tc.encode(&t).unwrap()).unwrap(), t);
            }
        }
    }
    #[test]
    fn seasons_parse_label_and_place_stamps() {
        let jjas = Season::parse("JJAS").unwrap();
        assert_eq!((jjas.first_month, jjas.months), (6, 4));
        assert_eq!(Season::parse("6-9").unwrap(), jjas);
        assert_eq!(Season::parse("ond").unwrap().label(), "OND");
        let ndjfm = Season::parse("NDJFM").unwrap();
        assert_eq!((ndjfm.first_month, ndjfm.months), (11, 5));
        assert_eq!(Season::parse("11-3").unwrap(), ndjfm);
        assert_eq!(Season::parse("year").unwrap().months, 12);
        assert!(Season::parse("J").is_err());
        assert!(Season::parse("JA").is_ok()); // July–August only
        assert!(Season::parse("JAS").is_ok());
        assert!(Season::parse("JFA").is_err());
        assert!(Season::parse("13-2").is_err());
        // IRI stamps a JJAS total on 1 December of its year; a DJF value on 15 January of its
        // second year
        let stamp = CfDateTime::ymd(1982, 12, 1);
        assert_eq!(jjas.occurrence_start(&stamp), CfDateTime::ymd(1982, 6, 1));
        let djf = Season::parse("DJF").unwrap();
        assert_eq!(
            djf.occurrence_start(&CfDateTime::ymd(1983, 1, 15)),
            CfDateTime::ymd(1982, 12, 1)
        );
        assert_eq!(
            djf.occurrence_start(&CfDateTime::ymd(1982, 12, 1)),
            CfDateTime::ymd(1982, 12, 1)
        );
        assert_eq!(
            Season::of_period(&CfDateTime::ymd(1982, 10, 1), &CfDateTime::ymd(1983, 1, 1)),
            Some(Season::parse("OND").unwrap())
        );
    }
}
