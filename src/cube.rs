//! `Cube`: the one core data type — one model's (or the observations') values on
//! `(init, member, lead, y, x)` with coordinates and metadata.
//!
//! # What it holds
//! - `values`: `Array5<f32>` in the fixed order [`axis::INIT`], [`axis::MEMBER`], [`axis::LEAD`],
//!   [`axis::Y`], [`axis::X`]; missing values are NaN.
//! - [`Coords`]: initialisation dates, member labels, leads ([`Lead`]: the offset and width of
//!   the target period from the start date, in months, weeks, days or hours), and the spatial
//!   layout ([`Spatial`]): a regular lat/lon grid (`y` = latitude south→north, `x` = longitude
//!   ascending), a curvilinear grid (2-D lat/lon), or a list of points (stations; `y` has length
//!   1, `x` runs over points). An index series with no position (RMM1, Niño 3.4) is one point
//!   with NaN coordinates.
//! - [`Meta`]: model, variable, units, calendar, and whether the cube is a forecast or an
//!   observed series.
//!
//! Observations read from a plain `time, lat, lon` file are an *observed series*: the `init`
//! axis holds the time stamps, there is one member and one lead whose width is the cadence of
//! the series (a day, a month, a year). [`align_observations`] turns such a series into a cube
//! on the forecast's `(init, lead)` targets, ready to be compared member by member.
//!
//! # Target periods
//! The target period of `(init i, lead l)` is `[init_i + start_l, init_i + start_l + width_l)` in
//! the lead's unit; months are calendar months of the cube's calendar. Leads follow the
//! conventions of the files: C3S `forecastMonth = 1` and NMME `L = 0.5` both mean the month of the
//! start date (start 0, width 1); NMME `L = 2.5` with `pointwidth = 3` is months 1–3 after the
//! start; SubX `L = 0.5` days is the start day.
//!
//! # Example
//! ```
//! use ndarray::Array5;
//! use s2s_ensemble::calendar::{CfDateTime, Calendar};
//! use s2s_ensemble::cube::{Coords, Cube, Lead, LeadUnit, Meta, Spatial};
//! let coords = Coords {
//!     init: vec![CfDateTime::ymd(2020, 5, 1)],
//!     member: vec![0, 1],
//!     lead: (0..3).map(|m| Lead::months(m as f64, 1.0)).collect(),
//!     spatial: Spatial::Grid { lat: vec![10.0, 11.0], lon: vec![80.0, 81.0, 82.0] },
//! };
//! let cube = Cube::new(Array5::from_elem((1, 2, 3, 2, 3), 1.0), coords, Meta::new("m", "pr", "mm/day", Calendar::Standard)).unwrap();
//! let jja = cube.aggregate_leads(&[1, 2]).unwrap();  // months 2–3 after a May start
//! assert_eq!(jja.coords.lead[0].label(), "months 2–3");
//! assert_eq!(cube.target_period(0, 1).unwrap().0, CfDateTime::ymd(2020, 6, 1));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use ndarray::{s, Array2, Array5, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CfDateTime};
use crate::error::{Error, Result};
use crate::units::Quantity;

/// Axis numbers of [`Cube::values`].
pub mod axis {
    /// Initialisation (start) date; time stamps for observed series.
    pub const INIT: usize = 0;
    /// Ensemble member.
    pub const MEMBER: usize = 1;
    /// Lead (target period).
    pub const LEAD: usize = 2;
    /// Latitude / grid row / (length 1 for points).
    pub const Y: usize = 3;
    /// Longitude / grid column / point.
    pub const X: usize = 4;
}

/// Unit of a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadUnit {
    /// Hours (sub-daily steps).
    Hour,
    /// Days (subseasonal).
    Day,
    /// Weeks of 7 days.
    Week,
    /// Calendar months (seasonal).
    Month,
}

impl LeadUnit {
    /// CF-style plural name ("months", "days", ...).
    pub fn cf_name(self) -> &'static str {
        match self {
            LeadUnit::Hour => "hours",
            LeadUnit::Day => "days",
            LeadUnit::Week => "weeks",
            LeadUnit::Month => "months",
        }
    }

    /// `date + amount` of this unit; months are calendar months (whole part) plus a fraction of
    /// the following month.
    pub fn add(self, date: &CfDateTime, amount: f64, cal: Calendar) -> Result<CfDateTime> {
        let secs = match self {
            LeadUnit::Hour => 3600.0,
            LeadUnit::Day => 86_400.0,
            LeadUnit::Week => 604_800.0,
            LeadUnit::Month => {
                let whole = amount.floor();
                let base = date.add_months(whole as i64, cal);
                let frac = amount - whole;
                if frac == 0.0 {
                    return Ok(base);
                }
                let next = date.add_months(whole as i64 + 1, cal);
                let span = base.seconds_until(&next, cal)?;
                return base.add_seconds(frac * span, cal);
            }
        };
        date.add_seconds(amount * secs, cal)
    }
}

/// A target period of a bulletin in whole weeks or months after the start, counted from 1:
/// `week 1`, `weeks 3-4`, `month 1`, `months 2-4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPeriod {
    /// Weeks or months.
    pub unit: LeadUnit,
    /// First week / month (from 1).
    pub first: u32,
    /// Last week / month (inclusive).
    pub last: u32,
}

impl TargetPeriod {
    /// Parses `week N`, `weeks N-M`, `month N`, `months N-M` (an en dash works too).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(
                "target period",
                format!(
                    "'{text}': {why} (e.g. \"week 1\", \"weeks 3-4\", \"month 1\", \"months 2-4\")"
                ),
            )
        };
        let t = text.trim().to_lowercase().replace('–', "-");
        let (word, range) = t.split_once(' ').ok_or_else(|| bad("no unit"))?;
        let unit = match word {
            "week" | "weeks" => LeadUnit::Week,
            "month" | "months" => LeadUnit::Month,
            _ => return Err(bad("the unit must be weeks or months")),
        };
        let num = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| bad("not a whole number"))
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(range)?, num(range)?),
        };
        if first == 0 || last < first {
            return Err(bad("periods count from 1 and end after they start"));
        }
        Ok(TargetPeriod { unit, first, last })
    }

    /// The indices of `leads` that make up this period: consecutive leads covering it
    /// exactly (weeks from daily or weekly leads, months from monthly leads).
    pub fn leads_of(&self, leads: &[Lead]) -> Result<Vec<usize>> {
        let (from, to, unit) = match self.unit {
            LeadUnit::Week => (
                7.0 * f64::from(self.first - 1),
                7.0 * f64::from(self.last),
                LeadUnit::Day,
            ),
            _ => (
                f64::from(self.first - 1),
                f64::from(self.last),
                LeadUnit::Month,
            ),
        };
        let in_units = |l: &Lead| -> Option<(f64, f64)> {
            match (l.unit, unit) {
                (u, v) if u == v => Some((l.start, l.start + l.width)),
                (LeadUnit::Week, LeadUnit::Day) => Some((7.0 * l.start, 7.0 * (l.start + l.width))),
                _ => None,
            }
        };
        let idx: Vec<usize> = leads
            .iter()
            .enumerate()
            .filter(|(_, l)| in_units(l).is_some_and(|(a, b)| a >= from - 1e-9 && b <= to + 1e-9))
            .map(|(i, _)| i)
            .collect();
        let covered: f64 = idx
            .iter()
            .filter_map(|&i| in_units(&leads[i]))
            .map(|(a, b)| b - a)
            .sum();
        if idx.is_empty() || (covered - (to - from)).abs() > 1e-6 {
            let have = leads
                .first()
                .map(|l| format!("{} … ({} leads)", l.label(), leads.len()))
                .unwrap_or_default();
            return Err(Error::invalid(
                "target period",
                format!("{self}: the files' leads ({have}) do not cover it"),
            ));
        }
        Ok(idx)
    }
}

impl std::fmt::Display for TargetPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = if self.unit == LeadUnit::Week {
            "week"
        } else {
            "month"
        };
        if self.first == self.last {
            write!(f, "{name} {}", self.first)
        } else {
            write!(f, "{name}s {}–{}", self.first, self.last)
        }
    }
}

/// A lead: the target period starts `start` units after the initialisation date and lasts
/// `width` units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// Offset of the period start from the initialisation date, in `unit`.
    pub start: f64,
    /// Length of the period, in `unit`.
    pub width: f64,
    /// Unit of `start` and `width`.
    pub unit: LeadUnit,
}

impl Lead {
    /// Whether this cadence of an observed series is a year or more: one value a year (a
    /// seasonal or annual total), matched by year and converted over its season.
    pub fn is_yearly_cadence(&self) -> bool {
        self.unit == LeadUnit::Month && self.width >= 12.0
    }

    /// A monthly lead.
    pub fn months(start: f64, width: f64) -> Self {
        Lead {
            start,
            width,
            unit: LeadUnit::Month,
        }
    }

    /// A daily lead.
    pub fn days(start: f64, width: f64) -> Self {
        Lead {
            start,
            width,
            unit: LeadUnit::Day,
        }
    }

    /// Human label counting from 1: "month 1", "months 2–4", "day 15", "days 15–28", "weeks 3–4".
    pub fn label(&self) -> String {
        let name = match self.unit {
            LeadUnit::Hour => "hour",
            LeadUnit::Day => "day",
            LeadUnit::Week => "week",
            LeadUnit::Month => "month",
        };
        // Days that make whole weeks from a week boundary read better as weeks.
        if self.unit == LeadUnit::Day
            && self.width >= 7.0
            && self.width % 7.0 == 0.0
            && self.start % 7.0 == 0.0
        {
            let first = self.start / 7.0 + 1.0;
            let last = (self.start + self.width) / 7.0;
            return if first == last {
                format!("week {first}")
            } else {
                format!("weeks {first}–{last}")
            };
        }
        let first = self.start + 1.0;
        let last = self.start + self.width;
        if self.width <= 1.0 {
            format!("{name} {}", fmt_num(first))
        } else {
            format!("{name}s {}–{}", fmt_num(first), fmt_num(last))
        }
    }

    /// The target period `[start, end)` for a given initialisation date.
    pub fn period(&self, init: &CfDateTime, cal: Calendar) -> Result<(CfDateTime, CfDateTime)> {
        Ok((
            self.unit.add(init, self.start, cal)?,
            self.unit.add(init, self.start + self.width, cal)?,
        ))
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A lon/lat box. Longitudes in degrees east; `east` may be smaller than `west` for a box that
/// crosses the antimeridian (`west = 170, east = -170`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    /// Western edge, degrees east.
    pub west: f64,
    /// Eastern edge, degrees east.
    pub east: f64,
    /// Southern edge, degrees north.
    pub south: f64,
    /// Northern edge, degrees north.
    pub north: f64,
}

impl BBox {
    /// Parses `W,E,S,N`.
    pub fn parse(text: &str) -> Result<Self> {
        let v: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::invalid("bbox", format!("'{text}' is not W,E,S,N in degrees")))?;
        if v.len() != 4 {
            return Err(Error::invalid(
                "bbox",
                format!("'{text}' needs four numbers W,E,S,N"),
            ));
        }
        BBox::new(v[0], v[1], v[2], v[3])
    }

    /// A checked box.
    pub fn new(west: f64, east: f64, south: f64, north: f64) -> Result<Self> {
        if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) || south > north {
            return Err(Error::invalid(
                "bbox",
                format!("latitudes {south}..{north} must satisfy -90 <= S <= N <= 90"),
            ));
        }
        if ![west, east].iter().all(|x| x.is_finite()) {
            return Err(Error::invalid("bbox", "longitudes must be finite"));
        }
        // W > E is a box across the 180° meridian, written in −180…180 (170,−170); with an
        // eastern edge at or east of Greenwich it is a slip (100,60 would be 320° wide).
        if west > east && east >= 0.0 {
            return Err(Error::invalid(
                "bbox",
                format!(
                    "west {west} > east {east} would be a box {}° wide around the globe; give W < E ({east},{west}), or a box across the 180° meridian as W,E in -180..180 (e.g. 170,-170)",
                    fmt_num(east + 360.0 - west)
                ),
            ));
        }
        Ok(BBox {
            west,
            east,
            south,
            north,
        })
    }

    /// The longitude window `[lo, lo + 360)` in which the box is contiguous, and the box's
    /// eastern edge in that window.
    pub fn lon_window(&self) -> (f64, f64, f64) {
        let w = wrap_lon(self.west, -180.0);
        let mut e = wrap_lon(self.east, w);
        if e == w && self.east != self.west {
            e = w + 360.0;
        }
        if e <= 180.0 {
            (-180.0, w, e)
        } else {
            (w, w, e)
        }
    }

    /// Whether a point is in the box (edges included).
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let (_, w, e) = self.lon_window();
        let l = wrap_lon(lon, w);
        (self.south..=self.north).contains(&lat) && l <= e
    }
}

/// `lon` moved by multiples of 360 into `[lo, lo + 360)`.
pub fn wrap_lon(lon: f64, lo: f64) -> f64 {
    if lon >= lo && lon < lo + 360.0 {
        lon // already there: keep the exact value
    } else {
        (lon - lo).rem_euclid(360.0) + lo
    }
}

/// Largest deviation from a regular axis, as a fraction of its spacing, still taken as regular
/// (and between two files' coordinates, still the same point): 1e-3. Float32 coordinates of a
/// 1/12° grid wobble by 4–8e-6° (1e-4 of the spacing) around the exact values; a real
/// irregularity (a Gaussian grid, a stretched ocean grid) is much larger.
pub const REGULAR_AXIS_TOLERANCE: f64 = 1e-3;

/// Float32 units in the last place an axis may deviate by in any case: coordinates stored as
/// float32 are exact to about one ulp (1.5e-5° near 180°), whatever the spacing.
pub const COORDINATE_F32_ULPS: f64 = 4.0;

/// The deviation allowed on an axis of spacing `spacing` reaching `max_abs` degrees.
pub fn coordinate_tolerance(spacing: f64, max_abs: f64) -> f64 {
    let ulp = f64::from(f32::EPSILON) * max_abs.max(1.0);
    (REGULAR_AXIS_TOLERANCE * spacing.abs()).max(COORDINATE_F32_ULPS * ulp)
}

/// The spacing of a strictly ascending, evenly spaced axis, `(last − first) / (n − 1)`, or
/// `None` when some step differs from it by more than [`coordinate_tolerance`].
pub fn regular_spacing(x: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || !x.iter().all(|v| v.is_finite()) {
        return None;
    }
    let d = (x[n - 1] - x[0]) / (n - 1) as f64;
    let max_abs = x[0].abs().max(x[n - 1].abs());
    let tol = coordinate_tolerance(d, max_abs);
    (d > 0.0 && x.windows(2).all(|w| ((w[1] - w[0]) - d).abs() <= tol)).then_some(d)
}

/// The smallest step between neighbours of an axis (1 for an axis of fewer than two points):
/// the spacing the tolerance of [`same_axis`] and [`lon_rotation`] scales with.
fn smallest_step(x: &[f64]) -> f64 {
    let d = x
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    if d.is_finite() {
        d
    } else {
        1.0
    }
}

/// Whether two coordinate axes name the same points: same length, and each pair within
/// [`coordinate_tolerance`] of the axis spacing.
pub fn same_axis(a: &[f64], b: &[f64]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a == b {
        return true;
    }
    let max_abs = a.iter().chain(b).fold(0.0f64, |m, v| m.max(v.abs()));
    let tol = coordinate_tolerance(smallest_step(a), max_abs);
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= tol || (x.is_nan() && y.is_nan()))
}

/// For each longitude of `to`, the index in `from` of the same longitude modulo 360° (within
/// [`coordinate_tolerance`]), when the two ascending axes hold the same points in another
/// convention (0…360 and −180…180) — a rotation; `None` otherwise.
pub fn lon_rotation(from: &[f64], to: &[f64]) -> Option<Vec<usize>> {
    let n = from.len();
    if n != to.len() || n == 0 {
        return None;
    }
    let tol = coordinate_tolerance(smallest_step(to), 360.0);
    let same = |a: f64, b: f64| {
        let d = (a - b).rem_euclid(360.0);
        d <= tol || 360.0 - d <= tol
    };
    let k = from.iter().position(|&x| same(x, to[0]))?;
    let perm: Vec<usize> = (0..n).map(|i| (k + i) % n).collect();
    perm.iter()
        .zip(to)
        .all(|(&j, &t)| same(from[j], t))
        .then_some(perm)
}

/// Horizontal layout of a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Spatial {
    /// Regular (or Gaussian) lat/lon grid: `y` over `lat` south→north, `x` over `lon` ascending.
    Grid {
        /// Cell-centre latitudes, ascending, degrees north.
        lat: Vec<f64>,
        /// Cell-centre longitudes, ascending, spanning less than 360°, degrees east.
        lon: Vec<f64>,
    },
    /// Curvilinear grid with 2-D coordinates of shape `(ny, nx)`.
    Curvilinear {
        /// Latitude of each cell centre.
        lat: Array2<f64>,
        /// Longitude of each cell centre.
        lon: Array2<f64>,
    },
    /// A list of points (stations); `y` has length 1 and `x` runs over the points.
    Points {
        /// Latitude of each point (NaN for an index series without position).
        lat: Vec<f64>,
        /// Longitude of each point.
        lon: Vec<f64>,
        /// Name of each point.
        names: Vec<String>,
    },
}

impl Spatial {
    /// Whether two layouts are the same grid (or points) up to coordinate jitter
    /// ([`same_axis`]); a float32 copy of a grid is the same grid.
    pub fn same_grid(&self, other: &Spatial) -> bool {
        match (self, other) {
            (Spatial::Grid { lat, lon }, Spatial::Grid { lat: la, lon: lo }) => {
                same_axis(lat, la) && same_axis(lon, lo)
            }
            (Spatial::Curvilinear { lat, lon }, Spatial::Curvilinear { lat: la, lon: lo }) => {
                lat.dim() == la.dim()
                    && lon.dim() == lo.dim()
                    && same_axis(lat.as_slice().unwrap_or(&[]), la.as_slice().unwrap_or(&[]))
                    && same_axis(lon.as_slice().unwrap_or(&[]), lo.as_slice().unwrap_or(&[]))
            }
            // Points by position (names differ between files: station ids, index names).
            (
                Spatial::Points { lat, lon, .. },
                Spatial::Points {
                    lat: la, lon: lo, ..
                },
            ) => same_axis(lat, la) && same_axis(lon, lo),
            _ => false,
        }
    }

    /// The first difference from `other`, in words (`"latitude 1 is 2 here, 3 there"`), for
    /// errors about grids that do not match; `None` when they are the same grid.
    pub fn first_difference(&self, other: &Spatial) -> Option<String> {
        if self.same_grid(other) {
            return None;
        }
        let axes = |s: &Spatial| -> Option<(Vec<f64>, Vec<f64>)> {
            match s {
                Spatial::Grid { lat, lon } | Spatial::Points { lat, lon, .. } => {
                    Some((lat.clone(), lon.clone()))
                }
                Spatial::Curvilinear { lat, lon } => {
                    Some((lat.iter().copied().collect(), lon.iter().copied().collect()))
                }
            }
        };
        let (Some((la, lo)), Some((lb, lob))) = (axes(self), axes(other)) else {
            return Some(format!("{} vs {}", self.describe(), other.describe()));
        };
        for (what, a, b) in [("latitude", &la, &lb), ("longitude", &lo, &lob)] {
            if a.len() != b.len() {
                return Some(format!("{} {what} values here, {} there", a.len(), b.len()));
            }
            if !same_axis(a, b) {
                let max_abs = a.iter().chain(b.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
                let tol = coordinate_tolerance(smallest_step(a), max_abs);
                if let Some(k) = (0..a.len()).find(|&k| (a[k] - b[k]).abs() > tol) {
                    return Some(format!("{what} {} is {} here, {} there", k + 1, a[k], b[k]));
                }
            }
        }
        Some(format!("{} vs {}", self.describe(), other.describe()))
    }

    /// For each `x` of `to`, the `x` of `self` at the same place: the identity for the same
    /// grid ([`Spatial::same_grid`]), a rotation of the longitudes for the same grid in another
    /// longitude convention ([`lon_rotation`]); `None` for another grid.
    pub fn x_order_like(&self, to: &Spatial) -> Option<Vec<usize>> {
        if self.same_grid(to) {
            return Some((0..self.shape().1).collect());
        }
        match (self, to) {
            (Spatial::Grid { lat, lon }, Spatial::Grid { lat: la, lon: lo })
                if same_axis(lat, la) =>
            {
                lon_rotation(lon, lo)
            }
            _ => None,
        }
    }

    /// `(ny, nx)` of the values.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Spatial::Grid { lat, lon } => (lat.len(), lon.len()),
            Spatial::Curvilinear { lat, .. } => lat.dim(),
            Spatial::Points { lat, .. } => (1, lat.len()),
        }
    }

    /// A series with no position at all (one point, NaN coordinates).
    pub fn index_series(name: &str) -> Self {
        Spatial::Points {
            lat: vec![f64::NAN],
            lon: vec![f64::NAN],
            names: vec![name.to_string()],
        }
    }

    /// Whether this is an index series (one point without coordinates).
    pub fn is_index(&self) -> bool {
        matches!(self, Spatial::Points { lat, .. } if lat.len() == 1 && lat[0].is_nan())
    }

    /// Latitude and longitude of cell `(y, x)`.
    pub fn cell_lat_lon(&self, y: usize, x: usize) -> (f64, f64) {
        match self {
            Spatial::Grid { lat, lon } => (lat[y], lon[x]),
            Spatial::Curvilinear { lat, lon } => (lat[[y, x]], lon[[y, x]]),
            Spatial::Points { lat, lon, .. } => (lat[x], lon[x]),
        }
    }

    /// One-line description: "regular grid 50 x 51, lat -8.5..40.5, lon 57.5..107.5 (1 x 1 deg)".
    pub fn describe(&self) -> String {
        match self {
            Spatial::Grid { lat, lon } => {
                let step = |v: &[f64]| {
                    if v.len() > 1 {
                        format!("{:.4}", (v[v.len() - 1] - v[0]) / (v.len() - 1) as f64)
                            .trim_end_matches('0')
                            .trim_end_matches('.')
                            .to_string()
                    } else {
                        "-".into()
                    }
                };
                format!(
                    "regular lat/lon grid {} x {} (lat x lon), lat {}..{}, lon {}..{}, spacing {} x {} deg",
                    lat.len(),
                    lon.len(),
                    lat.first().copied().unwrap_or(f64::NAN),
                    lat.last().copied().unwrap_or(f64::NAN),
                    lon.first().copied().unwrap_or(f64::NAN),
                    lon.last().copied().unwrap_or(f64::NAN),
                    step(lat),
                    step(lon)
                )
            }
            Spatial::Curvilinear { lat, lon } => {
                let (mn, mx) = crate::stats::finite_min_max(lat.iter().copied());
                let (lmn, lmx) = crate::stats::finite_min_max(lon.iter().copied());
                let (ny, nx) = lat.dim();
                format!(
                    "curvilinear grid {ny} x {nx} (2-D lat/lon), lat {mn:.2}..{mx:.2}, lon {lmn:.2}..{lmx:.2}; per-cell methods work; regrid it with s2s regrid --method distance"
                )
            }
            Spatial::Points { names, .. } if self.is_index() => {
                format!("index series (no spatial dimension): {}", names[0])
            }
            Spatial::Points { lat, lon, names } => {
                let list: Vec<String> = names
                    .iter()
                    .zip(lat.iter().zip(lon))
                    .take(6)
                    .map(|(n, (la, lo))| format!("{n} ({la:.2}N, {lo:.2}E)"))
                    .collect();
                format!(
                    "{} points: {}{}",
                    names.len(),
                    list.join(", "),
                    if names.len() > 6 { ", ..." } else { "" }
                )
            }
        }
    }
}

/// Whether a cube is a forecast or an observed series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CubeKind {
    /// `init` are start dates, `lead` target periods after them.
    Forecast,
    /// `init` are the time stamps of an observed (or reanalysis) series; one member, one lead
    /// whose width is the cadence.
    Observed,
}

/// Coordinates of a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coords {
    /// Initialisation dates (time stamps for observed series), in [`Meta::calendar`].
    pub init: Vec<CfDateTime>,
    /// Member labels (realisation numbers).
    pub member: Vec<i32>,
    /// Leads.
    pub lead: Vec<Lead>,
    /// Horizontal layout.
    pub spatial: Spatial,
}

/// Metadata of a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Model (or observation data set) name.
    pub model: String,
    /// Variable name (as in the file, or canonical: `pr`, `tas`).
    pub variable: String,
    /// CF standard name, if known.
    pub standard_name: Option<String>,
    /// Long name, if known.
    pub long_name: Option<String>,
    /// Units of `values` (canonical units for precipitation and temperature).
    pub units: String,
    /// What the variable measures.
    pub quantity: Quantity,
    /// Calendar of the dates.
    pub calendar: Calendar,
    /// Forecast or observed series.
    pub kind: CubeKind,
    /// This engine's processing steps so far, oldest first (written as `processing`).
    pub history: Vec<String>,
    /// Other attributes to carry to outputs (`history` holds the input file's history).
    pub attributes: BTreeMap<String, String>,
    /// For a series stamped once a year: the season each value covers, when known (the
    /// user's `--obs-season`); observations are then matched to targets of that season only.
    #[serde(default)]
    pub season: Option<crate::calendar::Season>,
    /// For a series stamped once a year whose values are amounts or per-month rates over a
    /// period nobody gave: the conversion to a rate used this many days (per value or per
    /// month) as a stand-in; [`align_observations`] rescales each value to the length of the
    /// target period it is matched with.
    #[serde(default)]
    pub provisional_divisor: Option<ProvisionalDivisor>,
    /// When only some time steps (starts) were read ([`crate::io::ReadOptions::time_steps`]):
    /// how many the file has, so a reader going through it block by block knows its end.
    #[serde(default)]
    pub source_time_steps: Option<usize>,
}

/// The stand-in period length of [`Meta::provisional_divisor`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProvisionalDivisor {
    /// What the value was divided by: the period's days or the days of a mean month.
    pub kind: crate::units::PeriodDivisor,
    /// The divisor used (days).
    pub days: f64,
}

impl ProvisionalDivisor {
    /// The factor turning a value divided by the stand-in into one divided by the length of
    /// the target period `[start, end)`.
    pub fn rescale_to(&self, start: &CfDateTime, end: &CfDateTime, cal: Calendar) -> Result<f64> {
        let days = start.days_until(end, cal)?;
        let months = crate::calendar::Season::of_period(start, end).map(|s| f64::from(s.months));
        let actual = crate::units::Conversion {
            factor: 1.0,
            offset: 0.0,
            per_period: self.kind,
        }
        .period_divisor(days, months);
        Ok(self.days / actual)
    }
}

impl Meta {
    /// Metadata of a forecast cube with the given model, variable, units and calendar.
    pub fn new(model: &str, variable: &str, units: &str, calendar: Calendar) -> Self {
        Meta {
            model: model.to_string(),
            variable: variable.to_string(),
            standard_name: None,
            long_name: None,
            units: units.to_string(),
            quantity: Quantity::detect(variable, None, None),
            calendar,
            kind: CubeKind::Forecast,
            history: Vec::new(),
            attributes: BTreeMap::new(),
            season: None,
            provisional_divisor: None,
            source_time_steps: None,
        }
    }
}

/// One model's (or the observations') values with coordinates and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Cube {
    /// Values `(init, member, lead, y, x)`; NaN = missing.
    pub values: Array5<f32>,
    /// Coordinates along each axis.
    pub coords: Coords,
    /// Metadata.
    pub meta: Meta,
}

impl Cube {
    /// Builds a cube, checking that coordinate lengths match the value shape.
    pub fn new(values: Array5<f32>, coords: Coords, meta: Meta) -> Result<Self> {
        let (ny, nx) = coords.spatial.shape();
        let expect = (
            coords.init.len(),
            coords.member.len(),
            coords.lead.len(),
            ny,
            nx,
        );
        if values.dim() != expect {
            return Err(Error::invalid(
                "cube",
                format!(
                    "values have shape {:?} but the coordinates say {:?} (init, member, lead, y, x)",
                    values.dim(),
                    expect
                ),
            ));
        }
        Ok(Cube {
            values,
            coords,
            meta,
        })
    }

    /// Number of initialisation dates.
    pub fn n_init(&self) -> usize {
        self.values.len_of(Axis(axis::INIT))
    }
    /// Number of members.
    pub fn n_member(&self) -> usize {
        self.values.len_of(Axis(axis::MEMBER))
    }
    /// Number of leads.
    pub fn n_lead(&self) -> usize {
        self.values.len_of(Axis(axis::LEAD))
    }
    /// Number of spatial cells (`ny · nx`).
    pub fn n_cells(&self) -> usize {
        let (ny, nx) = self.coords.spatial.shape();
        ny * nx
    }

    /// Years of the initialisation dates.
    pub fn init_years(&self) -> Vec<i32> {
        self.coords.init.iter().map(|d| d.year).collect()
    }

    /// Whether `other` starts in the same months as this cube, start for start (days and
    /// times may differ: models start on different days of a month).
    pub fn same_start_months(&self, other: &Cube) -> bool {
        self.coords.init.len() == other.coords.init.len()
            && self
                .coords
                .init
                .iter()
                .zip(&other.coords.init)
                .all(|(a, b)| (a.year, a.month) == (b.year, b.month))
    }

    /// The target period `[start, end)` of `(init, lead)`.
    pub fn target_period(&self, init: usize, lead: usize) -> Result<(CfDateTime, CfDateTime)> {
        self.coords.lead[lead].period(&self.coords.init[init], self.meta.calendar)
    }

    /// Share of missing (NaN) values, 0–1.
    pub fn missing_fraction(&self) -> f64 {
        if self.values.is_empty() {
            return 1.0;
        }
        let missing = self
            .values
            .as_slice_memory_order()
            .map(crate::stats::count_nan)
            .unwrap_or_else(|| self.values.iter().filter(|v| v.is_nan()).count());
        missing as f64 / self.values.len() as f64
    }

    /// Monthly means of an observed daily or sub-daily series (a monthly or coarser series is
    /// returned unchanged): one value per calendar month present, stamped on the 1st, the mean
    /// of the month's non-missing values; NaN when fewer than half of the month's time steps
    /// have a value. Months are taken from the date labels, so any CF calendar works.
    pub fn monthly_means(self) -> Result<Cube> {
        if self.meta.kind != CubeKind::Observed {
            return Err(Error::invalid(
                "monthly means",
                format!("{} is a forecast, not an observed series", self.meta.model),
            ));
        }
        if self
            .coords
            .lead
            .first()
            .map_or(true, |l| l.unit == LeadUnit::Month)
        {
            return Ok(self);
        }
        // Runs of consecutive stamps in the same (year, month), in time order.
        let mut order: Vec<usize> = (0..self.n_init()).collect();
        order.sort_by_key(|&t| self.coords.init[t]);
        let mut groups: Vec<((i32, u32), Vec<usize>)> = Vec::new();
        for t in order {
            let d = self.coords.init[t];
            match groups.last_mut() {
                Some((key, members)) if *key == (d.year, d.month) => members.push(t),
                _ => groups.push(((d.year, d.month), vec![t])),
            }
        }
        let (_, nm, nl, ny, nx) = self.values.dim();
        let mut values = Array5::from_elem((groups.len(), nm, nl, ny, nx), f32::NAN);
        for (g, (_, steps)) in groups.iter().enumerate() {
            let mut sum = ndarray::Array4::<f64>::zeros((nm, nl, ny, nx));
            let mut count = ndarray::Array4::<u32>::zeros((nm, nl, ny, nx));
            for &t in steps {
                Zip::from(&mut sum)
                    .and(&mut count)
                    .and(self.values.index_axis(Axis(axis::INIT), t))
                    .for_each(|s, c, &v| {
                        if !v.is_nan() {
                            *s += f64::from(v);
                            *c += 1;
                        }
                    });
            }
            let needed = (steps.len() as u32).div_ceil(2);
            Zip::from(values.index_axis_mut(Axis(axis::INIT), g))
                .and(&sum)
                .and(&count)
                .for_each(|o, &s, &c| {
                    if c > 0 && c >= needed {
                        *o = (s / f64::from(c)) as f32;
                    }
                });
        }
        let mut out = self.with_values(values);
        out.coords.init = groups
            .iter()
            .map(|((y, m), _)| CfDateTime::ymd(*y, *m, 1))
            .collect();
        out.coords.lead = vec![Lead::months(0.0, 1.0)];
        out.meta
            .history
            .push("monthly means of the daily series".to_string());
        Ok(out)
    }

    /// A cube with only the given leads (in the given order).
    pub fn select_leads(&self, leads: &[usize]) -> Result<Cube> {
        check_indices("lead", leads, self.n_lead())?;
        let mut c = self.with_values(self.values.select(Axis(axis::LEAD), leads));
        c.coords.lead = leads.iter().map(|&i| self.coords.lead[i]).collect();
        Ok(c)
    }

    /// A cube with only the given initialisation dates (in the given order).
    pub fn select_inits(&self, inits: &[usize]) -> Result<Cube> {
        check_indices("init", inits, self.n_init())?;
        let mut c = self.with_values(self.values.select(Axis(axis::INIT), inits));
        c.coords.init = inits.iter().map(|&i| self.coords.init[i]).collect();
        Ok(c)
    }

    /// A cube with only the initialisation dates whose year is in `first..=last`.
    pub fn select_init_years(&self, first: i32, last: i32) -> Result<Cube> {
        let idx: Vec<usize> = (0..self.n_init())
            .filter(|&i| (first..=last).contains(&self.coords.init[i].year))
            .collect();
        if idx.is_empty() {
            let years = self.init_years();
            return Err(Error::invalid(
                "init years",
                format!(
                    "no start date of {} in {first}-{last} (it has {}-{})",
                    self.meta.model,
                    years.iter().min().unwrap_or(&0),
                    years.iter().max().unwrap_or(&0)
                ),
            ));
        }
        self.select_inits(&idx)
    }

    /// A cube cut to a lon/lat box (grid cells or points whose centre is inside).
    pub fn select_bbox(&self, bbox: &BBox) -> Result<Cube> {
        let none = || {
            Error::invalid(
                "bbox",
                format!(
                    "{bbox:?} contains no cell of {}",
                    self.coords.spatial.describe()
                ),
            )
        };
        match &self.coords.spatial {
            Spatial::Grid { lat, lon } => {
                let ys: Vec<usize> = (0..lat.len())
                    .filter(|&i| (bbox.south..=bbox.north).contains(&lat[i]))
                    .collect();
                let (lo, w, e) = bbox.lon_window();
                let mut xs: Vec<(f64, usize)> = lon
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| (wrap_lon(l, lo), i))
                    .filter(|&(l, _)| l >= w && l <= e)
                    .collect();
                xs.sort_by(|a, b| a.0.total_cmp(&b.0));
                if ys.is_empty() || xs.is_empty() {
                    return Err(none());
                }
                let xi: Vec<usize> = xs.iter().map(|p| p.1).collect();
                let values = self
                    .values
                    .select(Axis(axis::Y), &ys)
                    .select(Axis(axis::X), &xi);
                let mut c = self.with_values(values);
                c.coords.spatial = Spatial::Grid {
                    lat: ys.iter().map(|&i| lat[i]).collect(),
                    lon: xs.iter().map(|p| p.0).collect(),
                };
                Ok(c)
            }
            Spatial::Points { lat, lon, names } => {
                let xi: Vec<usize> = (0..lat.len())
                    .filter(|&i| bbox.contains(lat[i], lon[i]))
                    .collect();
                if xi.is_empty() {
                    return Err(none());
                }
                let mut c = self.with_values(self.values.select(Axis(axis::X), &xi));
                c.coords.spatial = Spatial::Points {
                    lat: xi.iter().map(|&i| lat[i]).collect(),
                    lon: xi.iter().map(|&i| lon[i]).collect(),
                    names: xi.iter().map(|&i| names[i].clone()).collect(),
                };
                Ok(c)
            }
            Spatial::Curvilinear { .. } => Err(Error::invalid(
                "bbox",
                "cutting a box from a curvilinear grid is not supported; regrid it first",
            )),
        }
    }

    /// Mean over consecutive leads, e.g. months 2–4 → one 3-month season, or days 15–28 →
    /// weeks 3–4. A value is NaN where any of its leads is missing (a season with a missing
    /// month is not a season).
    pub fn aggregate_leads(&self, leads: &[usize]) -> Result<Cube> {
        check_indices("lead", leads, self.n_lead())?;
        if leads.is_empty() {
            return Err(Error::invalid("lead aggregation", "no leads given"));
        }
        let ls: Vec<Lead> = leads.iter().map(|&i| self.coords.lead[i]).collect();
        for pair in ls.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.unit != b.unit || (a.start + a.width - b.start).abs() > 1e-9 {
                return Err(Error::invalid(
                    "lead aggregation",
                    format!(
                        "leads {} and {} are not consecutive periods",
                        a.label(),
                        b.label()
                    ),
                ));
            }
        }
        let (ni, nm, _, ny, nx) = self.values.dim();
        let mut out = Array5::<f32>::zeros((ni, nm, 1, ny, nx));
        let n = leads.len() as f32;
        for &l in leads {
            let src = self.values.slice(s![.., .., l..l + 1, .., ..]);
            Zip::from(&mut out).and(&src).for_each(|o, &v| *o += v);
        }
        out.mapv_inplace(|v| v / n);
        let mut c = self.with_values(out);
        c.coords.lead = vec![Lead {
            start: ls[0].start,
            width: ls.iter().map(|l| l.width).sum(),
            unit: ls[0].unit,
        }];
        c.meta
            .history
            .push(format!("mean over leads {}", c.coords.lead[0].label()));
        Ok(c)
    }

    /// One lead per target period: the mean over the file's leads each period covers
    /// ([`Cube::aggregate_leads`]), e.g. weeks 1, 2, 3–4 from daily leads or month 1 and
    /// months 2–4 from monthly ones.
    pub fn target_periods(&self, periods: &[TargetPeriod]) -> Result<Cube> {
        if periods.is_empty() {
            return Err(Error::invalid("target periods", "no period given"));
        }
        let mut parts = Vec::with_capacity(periods.len());
        for p in periods {
            let leads = p.leads_of(&self.coords.lead)?;
            parts.push(self.aggregate_leads(&leads)?);
        }
        let views: Vec<_> = parts.iter().map(|c| c.values.view()).collect();
        let values = ndarray::concatenate(Axis(2), &views)
            .map_err(|e| Error::invalid("target periods", e.to_string()))?;
        let mut c = self.with_values(values);
        c.coords.lead = parts.iter().map(|p| p.coords.lead[0]).collect();
        c.meta.history.push(format!(
            "target periods {}",
            periods
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(c)
    }

    /// The same cube with other values of the same coordinates along init/member/lead, keeping
    /// coordinates as they are (callers fix the ones they change).
    fn with_values(&self, values: Array5<f32>) -> Cube {
        Cube {
            values,
            coords: self.coords.clone(),
            meta: self.meta.clone(),
        }
    }
}

fn check_indices(what: &str, idx: &[usize], len: usize) -> Result<()> {
    if let Some(&bad) = idx.iter().find(|&&i| i >= len) {
        return Err(Error::invalid(
            what,
            format!("index {bad} out of range (there are {len})"),
        ));
    }
    Ok(())
}

impl fmt::Display for Cube {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ni, nm, nl, ny, nx) = self.values.dim();
        write!(
            f,
            "{} {} [{}]: {ni} init x {nm} member x {nl} lead x {ny} x {nx}",
            self.meta.model, self.meta.variable, self.meta.units
        )
    }
}

/// How observation time stamps are matched with forecast target periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// Daily or sub-daily series: time stamps inside `[start, end)` of the target period.
    Timestamp,
    /// Monthly series: the (year, month) of the stamp is a month of the target period (stamps
    /// may be the 1st, the 15th or the end of the month).
    Month,
    /// Yearly series (one value a year, e.g. a seasonal total stamped with any date of its year,
    /// as in the IRI NMME monsoon files): the year of the stamp is the year the target period
    /// starts in.
    Year,
}

impl Alignment {
    /// The natural alignment of an observed series, from its cadence (the width of its lead).
    pub fn for_series(obs: &Cube) -> Alignment {
        match obs.coords.lead.first() {
            Some(l) if l.is_yearly_cadence() => Alignment::Year,
            Some(l) if l.unit == LeadUnit::Month => Alignment::Month,
            _ => Alignment::Timestamp,
        }
    }
}

/// Observations on a forecast's targets: for each `(init, lead)` of `forecast`, the mean of the
/// observed values whose time stamps fall in its target period (see [`Alignment`]); one member.
///
/// Dates are matched by their labels (year, month, day), so a 360-day model and standard-calendar
/// observations align month by month. A target with no observation, or (for `Timestamp` and
/// `Month`) fewer than the period needs, is NaN; the number of such targets is returned beside
/// the cube so that the caller can say so.
pub fn align_observations(obs: &Cube, forecast: &Cube) -> Result<(Cube, usize)> {
    if obs.meta.kind != CubeKind::Observed {
        return Err(Error::invalid(
            "observations",
            format!("{} is a forecast, not an observed series", obs.meta.model),
        ));
    }
    // The observations' x for each forecast x: the same grid, or the same points in another
    // longitude convention.
    let Some(x_order) = obs.coords.spatial.x_order_like(&forecast.coords.spatial) else {
        return Err(Error::mismatch(
            "grids of observations and forecast",
            format!(
                "observations: {}; forecast: {} — regrid one onto the other first",
                obs.coords.spatial.describe(),
                forecast.coords.spatial.describe()
            ),
        ));
    };
    let rotated;
    let obs_values = if x_order.iter().enumerate().all(|(i, &j)| i == j) {
        &obs.values
    } else {
        rotated = obs.values.select(Axis(axis::X), &x_order);
        &rotated
    };
    let mode = Alignment::for_series(obs);
    let (ni, nl) = (forecast.n_init(), forecast.n_lead());
    let (ny, nx) = forecast.coords.spatial.shape();
    let mut out = Array5::<f32>::from_elem((ni, 1, nl, ny, nx), f32::NAN);
    let mut incomplete = 0;
    // Observed stamps as (year, month, day, time) labels, in the observations' own calendar,
    // sorted once.
    let stamps = &obs.coords.init;
    let mut order: Vec<usize> = (0..stamps.len()).collect();
    order.sort_by_key(|&t| stamps[t]);
    let sorted: Vec<CfDateTime> = order.iter().map(|&t| stamps[t]).collect();
    let cadence_days = obs
        .coords
        .lead
        .first()
        .map(|c| match c.unit {
            LeadUnit::Hour => c.width / 24.0,
            LeadUnit::Day => c.width,
            LeadUnit::Week => 7.0 * c.width,
            LeadUnit::Month => 30.0 * c.width,
        })
        .unwrap_or(1.0);
    for i in 0..ni {
        for l in 0..nl {
            let (start, end) = forecast.target_period(i, l)?;
            // Every mode matches a contiguous run of the sorted stamps: [lower, upper).
            let month_start =
                |m: i64| CfDateTime::ymd(m.div_euclid(12) as i32, (m.rem_euclid(12) + 1) as u32, 1);
            let (lower, upper, needed) = match mode {
                Alignment::Year => {
                    if let Some(season) = obs.meta.season {
                        let target = crate::calendar::Season::of_period(&start, &end);
                        if target != Some(season) {
                            return Err(Error::mismatch(
                                format!("observations {} and forecast {}", obs.meta.model, forecast.meta.model),
                                format!(
                                    "the observations cover {season} of each year; the target of {} from {} is {} ({}..{}) — give observations of the target season, or the forecast's leads for {season}",
                                    forecast.meta.model,
                                    forecast.coords.init[i],
                                    target.map_or_else(|| "not whole months".to_string(), |t| t.label()),
                                    start,
                                    end
                                ),
                            ));
                        }
                        // The stamp whose season occurrence starts with the target.
                        let found = order.iter().position(|&t| {
                            season.occurrence_start(&stamps[t])
                                == CfDateTime::ymd(start.year, start.month, 1)
                        });
                        match found {
                            Some(k) => (
                                sorted[k],
                                CfDateTime {
                                    micros_of_day: sorted[k].micros_of_day + 1,
                                    ..sorted[k]
                                },
                                1,
                            ),
                            None => (start, start, 1),
                        }
                    } else {
                        (
                            CfDateTime::ymd(start.year, 1, 1),
                            CfDateTime::ymd(start.year + 1, 1, 1),
                            1,
                        )
                    }
                }
                Alignment::Month => {
                    let m0 = i64::from(start.year) * 12 + i64::from(start.month) - 1;
                    let mut m1 = i64::from(end.year) * 12 + i64::from(end.month) - 1;
                    if end.day > 1 || end.micros_of_day > 0 {
                        m1 += 1;
                    }
                    (month_start(m0), month_start(m1), (m1 - m0).max(1) as usize)
                }
                Alignment::Timestamp => {
                    let days = start.days_until(&end, forecast.meta.calendar)?;
                    (start, end, ((days / cadence_days).round() as usize).max(1))
                }
            };
            let lo = sorted.partition_point(|t| *t < lower);
            let hi = sorted.partition_point(|t| *t < upper);
            let matched = &order[lo..hi];
            if matched.len() < needed {
                incomplete += 1;
                continue;
            }
            let mut acc = ndarray::Array2::<f32>::zeros((ny, nx));
            for &t in matched {
                acc += &obs_values.slice(s![t, 0, 0, .., ..]);
            }
            acc /= matched.len() as f32;
            if let Some(p) = obs.meta.provisional_divisor {
                // An amount (or per-month rate) of an unknown period, matched with this target:
                // it covers the target period (in the observations' calendar), so that is the
                // length to divide by.
                let k = p.rescale_to(&start, &end, obs.meta.calendar)? as f32;
                acc.mapv_inplace(|v| v * k);
            }
            out.slice_mut(s![i, 0, l, .., ..]).assign(&acc);
        }
    }
    let mut meta = obs.meta.clone();
    meta.history.push(format!(
        "aligned to the targets of {} ({:?} matching{}{})",
        forecast.meta.model,
        mode,
        obs.meta
            .season
            .map(|s| format!(", values of {s}"))
            .unwrap_or_default(),
        if obs.meta.provisional_divisor.is_some() {
            ", each yearly value converted over the length of its target period"
        } else {
            ""
        }
    ));
    meta.provisional_divisor = None;
    let coords = Coords {
        init: forecast.coords.init.clone(),
        member: vec![0],
        lead: forecast.coords.lead.clone(),
        spatial: forecast.coords.spatial.clone(),
    };
    let mut cube = Cube::new(out, coords, meta)?;
    cube.meta.calendar = forecast.meta.calendar;
    Ok((cube, incomplete))
}

/// Appends the values of `rows` to `out` in row-major order: whole when they lie contiguous,
/// else a last-axis lane (a longitude row of a cube) at a time, each a slice when that axis is
/// contiguous — an N-D element iterator costs several times more.
pub(crate) fn append_rows<T: Copy, D: ndarray::Dimension>(
    rows: ndarray::ArrayView<T, D>,
    out: &mut Vec<T>,
) {
    if let Some(all) = rows.as_slice() {
        out.extend_from_slice(all);
        return;
    }
    let last = Axis(rows.ndim() - 1);
    for lane in rows.lanes(last) {
        match lane.as_slice() {
            Some(v) => out.extend_from_slice(v),
            None => out.extend(lane.iter().copied()),
        }
    }
}

/// Lanes transposed together by [`to_cell_major`] / [`from_cell_major`]: 16 f32, one cache line
/// of the cell-major buffer per cell.
const TILE: usize = 16;

/// Copies `(a, b, x)` values into `buf` cell-major: `buf[x·a·b + i·b + j] = values[i, j, x]`
/// (say one lead and latitude row of a cube's `(start, member, lead, y, x)`, so that each
/// cell's starts × members lie together).
pub(crate) fn to_cell_major(values: ndarray::ArrayView3<f32>, buf: &mut [f32]) {
    let (a, b, nx) = values.dim();
    let per_cell = a * b;
    // Lanes come in (i, j) order, so the k-th lane is at k = i·b + j. A tile of lanes at a
    // time, so that every cell's part of the buffer is written as one run.
    let lanes: Vec<_> = values.lanes(Axis(2)).into_iter().collect();
    for (t, tile) in lanes.chunks(TILE).enumerate() {
        let k0 = t * TILE;
        for x in 0..nx {
            let dst = &mut buf[x * per_cell + k0..x * per_cell + k0 + tile.len()];
            for (d, lane) in dst.iter_mut().zip(tile) {
                *d = lane[x];
            }
        }
    }
}

/// Inverse of [`to_cell_major`].
pub(crate) fn from_cell_major(buf: &[f32], mut values: ndarray::ArrayViewMut3<f32>) {
    let (a, b, nx) = values.dim();
    let per_cell = a * b;
    let mut lanes: Vec<_> = values.lanes_mut(Axis(2)).into_iter().collect();
    for (t, tile) in lanes.chunks_mut(TILE).enumerate() {
        let k0 = t * TILE;
        for x in 0..nx {
            let src = &buf[x * per_cell + k0..x * per_cell + k0 + tile.len()];
            for (&v, lane) in src.iter().zip(tile.iter_mut()) {
                lane[x] = v;
            }
        }
    }
}

impl Cube {
    /// Puts this cube on `to`'s horizontal layout: nothing but the exact coordinates (taken
    /// from `to`) changes on the same grid; the longitudes are rotated when `to` holds the same
    /// points in another longitude convention. `false` (and the cube untouched) when the grids
    /// differ.
    pub fn align_layout(&mut self, to: &Spatial) -> bool {
        let Some(order) = self.coords.spatial.x_order_like(to) else {
            return false;
        };
        if order.iter().enumerate().any(|(i, &j)| i != j) {
            self.values = self.values.select(Axis(axis::X), &order);
        }
        self.coords.spatial = to.clone();
        true
    }
}

/// A forecast cube at one lead and one (index) cell: `values[start][member]`, starts on 1 May
/// of 2000, 2001, ... — the fixture of the per-cell kernels' tests.
#[cfg(test)]
pub(crate) fn test_cell_cube(model: &str, values: &[Vec<f32>]) -> Cube {
    let (ni, nm) = (values.len(), values[0].len());
    let coords = Coords {
        init: (0..ni)
            .map(|i| CfDateTime::ymd(2000 + i as i32, 5, 1))
            .collect(),
        member: (0..nm as i32).collect(),
        lead: vec![Lead::months(0.0, 1.0)],
        spatial: Spatial::index_series("x"),
    };
    let v = Array5::from_shape_fn((ni, nm, 1, 1, 1), |(i, m, ..)| values[i][m]);
    Cube::new(v, coords, Meta::new(model, "x", "1", Calendar::Standard)).expect("consistent shape")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_rows_are_the_views_values_in_order() {
        let a = ndarray::Array::from_shape_fn((2, 3, 4, 5), |(i, j, k, l)| {
            (i * 1000 + j * 100 + k * 10 + l) as f32
        })
        .into_dyn();
        // a label's sub-slab (contiguous), a middle axis taken (rows contiguous, not the
        // whole), the last axis taken (no contiguous row), a transposed view
        let views = [
            a.view().index_axis_move(Axis(1), 2),
            a.view().index_axis_move(Axis(2), 1),
            a.view().index_axis_move(Axis(3), 4),
            a.view().reversed_axes(),
        ];
        for v in views {
            let want: Vec<f32> = v.iter().copied().collect();
            let mut got = Vec::new();
            append_rows(v, &mut got);
            assert_eq!(got, want);
        }
        // one value, as a 0-D view
        let mut one = a.view();
        for _ in 0..4 {
            one = one.index_axis_move(Axis(0), 1);
        }
        let mut got = Vec::new();
        append_rows(one, &mut got);
        assert_eq!(got, vec![1111.0]);
    }

    fn grid_cube(ni: usize, nl: usize) -> Cube {
        let coords = Coords {
            init: (0..ni)
                .map(|i| CfDateTime::ymd(1993 + i as i32, 5, 1))
                .collect(),
            member: vec![0, 1],
            lead: (0..nl).map(|l| Lead::months(l as f64, 1.0)).collect(),
            spatial: Spatial::Grid {
                lat: vec![-10.0, 0.0, 10.0],
                lon: vec![170.0, 175.0, 180.0, 185.0],
            },
        };
        let values = Array5::from_shape_fn((ni, 2, nl, 3, 4), |(i, m, l, y, x)| {
            (i * 10000 + m * 1000 + l * 100 + y * 10 + x) as f32
        });
        Cube::new(
            values,
            coords,
            Meta::new("TEST", "tas", "degC", Calendar::Standard),
        )
        .unwrap()
    }

    #[test]
    fn target_periods_from_monthly_and_daily_leads() {
        assert_eq!(
            TargetPeriod::parse("weeks 3–4").unwrap(),
            TargetPeriod {
                unit: LeadUnit::Week,
                first: 3,
                last: 4
            }
        );
        assert_eq!(
            TargetPeriod::parse("Month 1").unwrap().to_string(),
            "month 1"
        );
        for bad in ["fortnight 1", "weeks 4-3", "week 0", "months two", "3"] {
            assert!(TargetPeriod::parse(bad).is_err(), "{bad}");
        }
        // Monthly leads: month 1 and months 2–4.
        let c = grid_cube(2, 6);
        let periods = [
            TargetPeriod::parse("month 1").unwrap(),
            TargetPeriod::parse("months 2-4").unwrap(),
        ];
        let t = c.target_periods(&periods).unwrap();
        assert_eq!(t.n_lead(), 2);
        assert_eq!(t.coords.lead[1], Lead::months(1.0, 3.0));
        // The mean of leads 1, 2, 3 (values differ by 100 per lead).
        assert_eq!(t.values[[0, 0, 1, 0, 0]], 200.0);
        assert_eq!(t.values[[0, 0, 0, 0, 0]], 0.0);
        // Daily leads: weeks 1, 2, 3–4 from 28 days.
        let mut d = grid_cube(1, 28);
        d.coords.lead = (0..28).map(|l| Lead::days(l as f64, 1.0)).collect();
        let weeks: Vec<TargetPeriod> = ["week 1", "week 2", "weeks 3-4"]
            .iter()
            .map(|p| TargetPeriod::parse(p).unwrap())
            .collect();
        let w = d.target_periods(&weeks).unwrap();
        assert_eq!(w.coords.lead[2], Lead::days(14.0, 14.0));
        assert_eq!(w.coords.lead[2].label(), "weeks 3–4");
        assert_eq!(w.values[[0, 0, 0, 0, 0]], 300.0); // mean of 0..600 step 100
                                                      // Not covered: months from daily leads, week 5 from 28 days.
        assert!(d.target_periods(&periods).is_err());
        let err = d
            .target_periods(&[TargetPeriod::parse("week 5").unwrap()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("do not cover"), "{err}");
    }

    #[test]
    fn lead_labels_and_periods() {
        assert_eq!(Lead::months(0.0, 1.0).label(), "month 1");
        assert_eq!(Lead::months(1.0, 3.0).label(), "months 2–4");
        assert_eq!(Lead::days(14.0, 14.0).label(), "weeks 3–4");
        assert_eq!(Lead::days(3.0, 1.0).label(), "day 4");
        let cal = Calendar::Day360;
        let (s, e) = Lead::months(1.0, 3.0)
            .period(&CfDateTime::ymd(1982, 9, 1), cal)
            .unwrap();
        assert_eq!(
            (s, e),
            (CfDateTime::ymd(1982, 10, 1), CfDateTime::ymd(1983, 1, 1))
        );
        let (s, e) = Lead::days(14.0, 14.0)
            .period(&CfDateTime::ymd(2020, 2, 20), Calendar::Standard)
            .unwrap();
        assert_eq!(
            (s, e),
            (CfDateTime::ymd(2020, 3, 5), CfDateTime::ymd(2020, 3, 19))
        );
    }

    #[test]
    fn rejects_shape_mismatch() {
        let c = grid_cube(2, 3);
        let e = Cube::new(
            Array5::zeros((2, 2, 3, 3, 5)),
            c.coords.clone(),
            c.meta.clone(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("shape"), "{e}");
    }

    #[test]
    fn aggregates_leads_into_a_season() {
        let c = grid_cube(2, 4);
        let s = c.aggregate_leads(&[1, 2, 3]).unwrap();
        assert_eq!(s.values.dim(), (2, 2, 1, 3, 4));
        // mean of l*100 for l = 1, 2, 3 is 200
        assert_eq!(
            s.values[[1, 1, 0, 2, 3]],
            (10000 + 1000 + 200 + 20 + 3) as f32
        );
        assert_eq!(s.coords.lead[0], Lead::months(1.0, 3.0));
        assert!(c.aggregate_leads(&[0, 2]).is_err());
        let mut nan = c.clone();
        nan.values[[0, 0, 2, 0, 0]] = f32::NAN;
        assert!(nan.aggregate_leads(&[1, 2]).unwrap().values[[0, 0, 0, 0, 0]].is_nan());
    }

    #[test]
    fn a_box_east_of_its_west_edge_needs_the_180_meridian() {
        let e = BBox::parse("100,60,0,30").unwrap_err().to_string();
        assert!(e.contains("320° wide") && e.contains("(60,100)"), "{e}");
        assert!(BBox::parse("170,-170,0,30").is_ok());
        assert!(
            BBox::parse("100,-60,-30,30").is_ok(),
            "a Pacific box across 180°"
        );
    }

    #[test]
    fn selects_a_box_across_the_antimeridian() {
        let c = grid_cube(1, 1);
        let b = BBox::new(172.0, -176.0, -5.0, 15.0).unwrap();
        let s = c.select_bbox(&b).unwrap();
        match &s.coords.spatial {
            Spatial::Grid { lat, lon } => {
                assert_eq!(lat, &vec![0.0, 10.0]);
                assert_eq!(lon, &vec![175.0, 180.0]);
            }
            _ => unreachable!(),
        }
        assert_eq!(s.values[[0, 0, 0, 0, 0]], 11.0); // y = 1, x = 1
        assert!(c
            .select_bbox(&BBox::new(0.0, 10.0, -5.0, 5.0).unwrap())
            .is_err());
    }

    #[test]
    fn selects_years_and_leads() {
        let c = grid_cube(5, 3);
        let s = c.select_init_years(1994, 1995).unwrap();
        assert_eq!(s.init_years(), vec![1994, 1995]);
        assert_eq!(s.values[[0, 0, 0, 0, 0]], 10000.0);
        let l = c.select_leads(&[2]).unwrap();
        assert_eq!(l.coords.lead[0].start, 2.0);
        assert!(c.select_leads(&[3]).is_err());
        assert!(c.select_init_years(2050, 2060).is_err());
    }

    fn monthly_obs(first_year: i32, years: usize, day: u32) -> Cube {
        let n = years * 12;
        let coords = Coords {
            init: (0..n)
                .map(|t| CfDateTime::ymd(first_year + (t / 12) as i32, (t % 12) as u32 + 1, day))
                .collect(),
            member: vec![0],
            lead: vec![Lead::months(0.0, 1.0)],
            spatial: Spatial::Grid {
                lat: vec![-10.0, 0.0, 10.0],
                lon: vec![170.0, 175.0, 180.0, 185.0],
            },
        };
        let values = Array5::from_shape_fn((n, 1, 1, 3, 4), |(t, ..)| t as f32);
        let mut meta = Meta::new("OBS", "tas", "degC", Calendar::Standard);
        meta.kind = CubeKind::Observed;
        Cube::new(values, coords, meta).unwrap()
    }

    #[test]
    fn aligns_monthly_observations_by_month() {
        let f = grid_cube(2, 3).aggregate_leads(&[1, 2]).unwrap(); // June–July of 1993, 1994
        let obs = monthly_obs(1993, 1, 15); // 1993 only, stamped mid-month
        let (a, missing) = align_observations(&obs, &f).unwrap();
        assert_eq!(a.values.dim(), (2, 1, 1, 3, 4));
        assert_eq!(a.values[[0, 0, 0, 1, 1]], 5.5); // mean of June (5) and July (6)
        assert!(a.values[[1, 0, 0, 1, 1]].is_nan()); // 1994 not observed
        assert_eq!(missing, 1);
    }

    #[test]
    fn aligns_yearly_observations_by_year() {
        let f = grid_cube(2, 1);
        let mut obs = monthly_obs(1993, 1, 1).select_inits(&[11, 11]).unwrap();
        obs.coords.init = vec![CfDateTime::ymd(1993, 12, 1), CfDateTime::ymd(1994, 12, 1)];
        obs.coords.lead = vec![Lead::months(0.0, 12.0)];
        obs.values[[1, 0, 0, 0, 0]] = 42.0;
        let (a, missing) = align_observations(&obs, &f).unwrap();
        assert_eq!(missing, 0);
        assert_eq!(a.values[[1, 0, 0, 0, 0]], 42.0);
        assert_eq!(a.values[[0, 0, 0, 0, 0]], 11.0);
    }

    #[test]
    fn alignment_refuses_other_grids() {
        let f = grid_cube(1, 1);
        let mut obs = monthly_obs(1993, 1, 1);
        obs.coords.spatial = Spatial::index_series("x");
        obs.values = Array5::zeros((12, 1, 1, 1, 1));
        let e = align_observations(&obs, &f).unwrap_err().to_string();
        assert!(e.contains("regrid"), "{e}");
    }
    #[test]
    fn alignment_rotates_another_longitude_convention() {
        // forecast 0…270, observations −180…90: the same points, paired by longitude
        let global = |lon: Vec<f64>| Spatial::Grid {
            lat: vec![-10.0, 0.0, 10.0],
            lon,
        };
        let mut f = grid_cube(1, 1);
        f.coords.spatial = global(vec![0.0, 90.0, 180.0, 270.0]);
        let mut obs = monthly_obs(1993, 1, 1);
        obs.coords.spatial = global(vec![-180.0, -90.0, 0.0, 90.0]);
        obs.values = Array5::from_shape_fn((12, 1, 1, 3, 4), |(t, _, _, _, x)| {
            (t * 10 + x) as f32 // x: −180, −90, 0, 90
        });
        let (a, _) = align_observations(&obs, &f).unwrap();
        // May 1993 (t = 4): lon 0 is the observations' x = 2, lon 270 (−90) their x = 1
        assert_eq!(a.values[[0, 0, 0, 1, 0]], 42.0);
        assert_eq!(a.values[[0, 0, 0, 1, 3]], 41.0);
        assert_eq!(a.coords.spatial, f.coords.spatial);
        let mut o2 = obs.clone();
        assert!(o2.align_layout(&f.coords.spatial));
        assert_eq!(o2.values[[4, 0, 0, 1, 1]], 43.0); // lon 90 = their x = 3
                                                      // a shifted grid is not a rotation
        obs.coords.spatial = global(vec![-170.0, -80.0, 10.0, 100.0]);
        assert!(align_observations(&obs, &f).is_err());
        assert!(!obs.align_layout(&f.coords.spatial));
    }

    #[test]
    fn jittered_float32_axes_are_regular_and_the_same() {
        // 1/12° stored as float32 with 4–8e-6° wobble: regular, and the same as the exact axis
        let exact: Vec<f64> = (0..400).map(|i| 60.0 + f64::from(i) / 12.0).collect();
        let jittered: Vec<f64> = exact
            .iter()
            .enumerate()
            .map(|(i, &x)| f64::from((x + if i % 2 == 0 { 6e-6 } else { -8e-6 }) as f32))
            .collect();
        let d = regular_spacing(&jittered).unwrap();
        assert!((d - 1.0 / 12.0).abs() < 1e-7, "{d}");
        assert!(same_axis(&exact, &jittered));
        // a Gaussian-like or stretched axis is not regular; a shifted one is not the same
        let stretched: Vec<f64> = (0..50)
            .map(|i| f64::from(i) * (1.0 + 0.002 * f64::from(i)))
            .collect();
        assert!(regular_spacing(&stretched).is_none());
        let shifted: Vec<f64> = exact.iter().map(|x| x + 0.01).collect();
        assert!(!same_axis(&exact, &shifted));
        assert!(regular_spacing(&[1.0, 1.0]).is_none());
        assert!(regular_spacing(&[3.0, 2.0, 1.0]).is_none());
        let a = Spatial::Grid {
            lat: exact[..10].to_vec(),
            lon: exact.clone(),
        };
        let b = Spatial::Grid {
            lat: jittered[..10].to_vec(),
            lon: jittered.clone(),
        };
        assert!(a.same_grid(&b) && a != b);
    }
}
