//! Seasonal tropical-cyclone activity from ensemble tracks: counts, ACE, TC days, track
//! density and landfall per basin and target months, as anomalies against the same model's
//! hindcast climatology, with tercile and exceedance probabilities.
//!
//! # Definitions
//! - **Basin** of a storm: where its first point (genesis) is ([`BASINS`]: North Indian Ocean
//!   and its Arabian Sea / Bay of Bengal parts split at 77°E, western North Pacific and its South
//!   China Sea part, South Indian Ocean). A storm counts in a season when its genesis month is
//!   one of the target months.
//! - **Member-season**: one member's run over the target months of one year; only runs that
//!   cover every target month count (a 20-day run says nothing about a 3-month season).
//! - **ACE** (Bell et al. 2000): `10⁻⁴ Σ v²` over the 6-hourly points with `v ≥ 34 kt`, `v` the
//!   largest wind in knots; with other time steps each point stands for `Δt / 6 h` points.
//!   Model winds at 1° are weaker than best-track winds: compare ACE with the model's own
//!   hindcast, not with observations.
//! - **TC days**: the summed duration of the season's storms (points × Δt).
//! - **Landfall**: the first time a track, walked along great-circle segments between its
//!   points in 0.25° steps, enters a country's polygon from the sea. The landfall probability
//!   of a country is the share of member-seasons with at least one landfall there.
//! - **Track density**: the number of storms per member-season passing through each box of a
//!   regular grid (a storm counts once per box).
//! - **Terciles of activity**: the edges are the hindcast member-season counts' 1/3 and 2/3
//!   quantiles. Counts are integers, so ties at an edge are shared: a count `v` occupies the
//!   interval `[F(v⁻), F(v)]` of the hindcast distribution `F` and belongs to each tercile in
//!   proportion to its overlap — the hindcast itself then gives exactly 1/3 to each category
//!   (a "randomised" tercile assignment without the randomness).
//! - **Calibration** against observations (optional): the model's count is scaled by the ratio
//!   of the observed to the hindcast mean count over the same months (a 1° model sees too few
//!   storms), and exceedance probabilities of the calibrated count use a Poisson distribution
//!   with that mean.
//!
//! # References
//! - Bell, G. D. et al. (2000), *Climate assessment for 1999*, BAMS 81, S1–S50 (ACE).
//! - Camargo, S. J. & Barnston, A. G. (2009), *Experimental dynamical seasonal forecasts of
//!   tropical cyclone activity at IRI*, Wea. Forecasting 24, 472–491 (counts from model
//!   tracks, calibration against the hindcast).

use serde::{Deserialize, Serialize};

use super::nodefile::Track;
use crate::calendar::{Calendar, CfDateTime};
use crate::error::{Error, Result};
use crate::grid::Countries;

/// Knots per m/s.
const KNOTS_PER_M_S: f64 = 3600.0 / 1852.0;

/// A tropical-cyclone basin: boxes `(west, east, south, north)` in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Basin {
    /// Short key (`nio`, `arb`, `bob`, `wnp`, `scs`, `sio`).
    pub key: &'static str,
    /// Name for bulletins.
    pub name: &'static str,
    /// Boxes making up the basin.
    pub boxes: &'static [(f64, f64, f64, f64)],
}

impl Basin {
    /// Whether a point (degrees; any longitude convention) is in the basin.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon = lon.rem_euclid(360.0);
        self.boxes
            .iter()
            .any(|&(w, e, s, n)| lon >= w && lon < e && lat >= s && lat < n)
    }

    /// A basin by key.
    pub fn by_key(key: &str) -> Result<&'static Basin> {
        BASINS
            .iter()
            .find(|b| b.key.eq_ignore_ascii_case(key))
            .ok_or_else(|| {
                Error::invalid(
                    "basin",
                    format!(
                        "'{key}' (one of {})",
                        BASINS.iter().map(|b| b.key).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
    }
}

/// The basins of the bulletins (longitudes 0–360°E).
pub const BASINS: [Basin; 6] = [
    Basin {
        key: "nio",
        name: "North Indian Ocean",
        boxes: &[(40.0, 100.0, 0.0, 30.0)],
    },
    Basin {
        key: "arb",
        name: "Arabian Sea",
        boxes: &[(40.0, 77.0, 0.0, 30.0)],
    },
    Basin {
        key: "bob",
        name: "Bay of Bengal",
        boxes: &[(77.0, 100.0, 0.0, 30.0)],
    },
    Basin {
        key: "wnp",
        name: "Western North Pacific",
        boxes: &[(100.0, 180.0, 0.0, 60.0)],
    },
    Basin {
        key: "scs",
        name: "South China Sea",
        boxes: &[(100.0, 121.0, 0.0, 25.0)],
    },
    Basin {
        key: "sio",
        name: "South Indian Ocean",
        boxes: &[(30.0, 135.0, -40.0, 0.0)],
    },
];

/// Target months of a season, in order (may wrap the year: `[11, 12, 1, 2, 3, 4]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    months: Vec<u32>,
}

impl Season {
    /// Consecutive months from `first` to `last` (1–12, wrapping the year when `last < first`).
    pub fn new(first: u32, last: u32) -> Result<Self> {
        if !(1..=12).contains(&first) || !(1..=12).contains(&last) {
            return Err(Error::invalid(
                "season",
                format!("months {first}-{last} must be in 1–12"),
            ));
        }
        let mut months = vec![first];
        let mut m = first;
        while m != last {
            m = m % 12 + 1;
            months.push(m);
        }
        Ok(Season { months })
    }

    /// Parses `FIRST-LAST` (`9-11`, `11-4`) or one month (`10`).
    pub fn parse(text: &str) -> Result<Self> {
        let num = |s: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                Error::invalid(
                    "season",
                    format!("'{text}': expected FIRST-LAST months, e.g. 9-11"),
                )
            })
        };
        match text.split_once('-') {
            Some((a, b)) => Season::new(num(a)?, num(b)?),
            None => {
                let m = num(text)?;
                Season::new(m, m)
            }
        }
    }

    /// The months.
    pub fn months(&self) -> &[u32] {
        &self.months
    }

    /// Label such as `Sep–Nov`.
    pub fn label(&self) -> String {
        const N: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let f = N[self.months[0] as usize - 1];
        let l = N[*self.months.last().expect("non-empty") as usize - 1];
        if self.months.len() == 1 {
            f.to_string()
        } else {
            format!("{f}–{l}")
        }
    }

    /// The season year a time falls in (the year of the season's first month), if its month
    /// is a target month.
    pub fn season_year(&self, t: &CfDateTime) -> Option<i32> {
        let pos = self.months.iter().position(|&m| m == t.month)?;
        let wrapped = self.months[..=pos].windows(2).any(|w| w[1] < w[0]);
        Some(if wrapped { t.year - 1 } else { t.year })
    }

    /// First instant of the season of `year`, and the start of its last day.
    fn bounds(&self, year: i32, cal: Calendar) -> (CfDateTime, CfDateTime) {
        let first = CfDateTime::ymd(year, self.months[0], 1);
        let last_m = *self.months.last().expect("non-empty");
        let wraps = self.months.windows(2).any(|w| w[1] < w[0]);
        let last_y = if wraps { year + 1 } else { year };
        let last = CfDateTime::ymd(last_y, last_m, cal.days_in_month(last_y, last_m));
        (first, last)
    }
}

/// The time span of one member's run (a series `s2s cyclones` tracked).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunSpan {
    /// Member number (as in the tracks).
    pub member: i32,
    /// First time step.
    pub start: CfDateTime,
    /// Last time step.
    pub end: CfDateTime,
}

/// The member-seasons a run covers entirely: `(member, season year)`.
pub fn member_seasons(runs: &[RunSpan], season: &Season, cal: Calendar) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for r in runs {
        for year in r.start.year - 1..=r.end.year {
            let (first, last) = season.bounds(year, cal);
            let covered = r.start.micros(cal).ok() <= first.micros(cal).ok()
                && r.end.micros(cal).ok() >= last.micros(cal).ok();
            if covered {
                out.push((r.member, year));
            }
        }
    }
    out
}

/// Activity of one member-season in one basin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemberActivity {
    /// Member.
    pub member: i32,
    /// Season year.
    pub year: i32,
    /// Number of storms.
    pub count: usize,
    /// Accumulated cyclone energy (10⁴ kt²).
    pub ace: f64,
    /// Storm days.
    pub tc_days: f64,
    /// Countries with at least one landfall.
    pub landfall: Vec<String>,
}

/// The basin's storms of each member-season: tracks whose genesis is in the basin and in a
/// target month of the season. `step_hours` is the tracks' time step (for ACE and TC days).
pub fn basin_activity(
    tracks: &[Track],
    seasons: &[(i32, i32)],
    basin: &Basin,
    season: &Season,
    step_hours: f64,
    countries: Option<&Countries>,
) -> Vec<MemberActivity> {
    let mut out: Vec<MemberActivity> = seasons
        .iter()
        .map(|&(member, year)| MemberActivity {
            member,
            year,
            ..Default::default()
        })
        .collect();
    let weight = step_hours / 6.0;
    for tr in tracks {
        let Some(g) = tr.points.first() else { continue };
        if !basin.contains(g.node.lat, g.node.lon) {
            continue;
        }
        let Some(year) = season.season_year(&g.time) else {
            continue;
        };
        let Some(a) = out
            .iter_mut()
            .find(|a| a.member == tr.member && a.year == year)
        else {
            continue;
        };
        a.count += 1;
        a.tc_days += tr.points.len() as f64 * step_hours / 24.0;
        a.ace += weight
            * 1e-4
            * tr.points
                .iter()
                .map(|p| p.node.wind_ms as f64 * KNOTS_PER_M_S)
                .filter(|&kt| kt >= 34.0)
                .map(|kt| kt * kt)
                .sum::<f64>();
        if let Some(c) = countries {
            if let Some(name) = landfall(tr, c) {
                if !a.landfall.contains(&name) {
                    a.landfall.push(name);
                }
            }
        }
    }
    out
}

/// The country of a track's first landfall (module doc), if any.
pub fn landfall(track: &Track, countries: &Countries) -> Option<String> {
    let mut was_sea = false;
    for (k, f, lat, lon) in track.walk(0.25) {
        match countries.at(lat, lon) {
            // the first point (k = 0, f = 0) only says where the storm starts
            Some(c) if was_sea && (k, f) != (0, 0.0) => return Some(c.name.clone()),
            Some(_) => {}
            None => was_sea = true,
        }
    }
    None
}

/// Shares of each tercile for integer counts with ties (module doc): `hindcast` sorted
/// ascending, returns the three probabilities of a forecast count.
fn tercile_shares(hindcast_sorted: &[usize], v: usize) -> [f64; 3] {
    let n = hindcast_sorted.len() as f64;
    let below = hindcast_sorted.partition_point(|&h| h < v) as f64 / n;
    let upto = hindcast_sorted.partition_point(|&h| h <= v) as f64 / n;
    if upto <= below {
        // a value the hindcast never had: it falls at a point of the CDF
        let p = below;
        let k = if p < 1.0 / 3.0 {
            0
        } else if p < 2.0 / 3.0 {
            1
        } else {
            2
        };
        let mut out = [0.0; 3];
        out[k] = 1.0;
        return out;
    }
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let (lo, hi) = (k as f64 / 3.0, (k + 1) as f64 / 3.0);
        *o = ((upto.min(hi) - below.max(lo)).max(0.0)) / (upto - below);
    }
    out
}

/// `P(N ≥ k)` of a Poisson count with mean `mean`, for `k = 1..=kmax`.
fn poisson_at_least(mean: f64, kmax: usize) -> Vec<f64> {
    let mut p = (-mean).exp(); // P(N = 0)
    let mut cdf = p;
    (1..=kmax)
        .map(|k| {
            let at_least = (1.0 - cdf).max(0.0);
            p *= mean / k as f64;
            cdf += p;
            at_least
        })
        .collect()
}

/// The seasonal activity outlook of one basin.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityOutlook {
    /// Basin key.
    pub basin: String,
    /// Basin name.
    pub basin_name: String,
    /// Season label.
    pub season: String,
    /// Forecast member-seasons.
    pub forecast_members: usize,
    /// Hindcast member-seasons.
    pub hindcast_member_seasons: usize,
    /// Mean forecast storm count per member.
    pub count_mean: f64,
    /// Mean hindcast count per member-season (the model's climatology).
    pub count_climatology: f64,
    /// `count_mean − count_climatology`.
    pub count_anomaly: f64,
    /// Observed mean count over the same months, when observed tracks were given.
    pub count_observed_climatology: Option<f64>,
    /// Forecast count calibrated to the observed climatology (module doc).
    pub count_calibrated: Option<f64>,
    /// `P(N ≥ k)` for `k = 1, 2, …` among the forecast members.
    pub prob_at_least: Vec<f64>,
    /// `P(N ≥ k)` of the calibrated count (Poisson), when calibrated.
    pub prob_at_least_calibrated: Option<Vec<f64>>,
    /// The hindcast counts' 1/3 and 2/3 quantiles.
    pub tercile_edges: [f64; 2],
    /// Probabilities of below-, near- and above-normal activity.
    pub tercile_probabilities: [f64; 3],
    /// Mean forecast ACE (10⁴ kt²) and the hindcast's.
    pub ace_mean: f64,
    /// Hindcast mean ACE.
    pub ace_climatology: f64,
    /// Mean forecast storm days and the hindcast's.
    pub tc_days_mean: f64,
    /// Hindcast mean storm days.
    pub tc_days_climatology: f64,
    /// Per country: (name, forecast landfall probability, hindcast frequency), most likely
    /// first; countries with neither are left out.
    pub landfall: Vec<(String, f64, f64)>,
}

/// The observed climatology of one basin and season from best tracks (one track per storm,
/// member 0, 6-hourly synoptic points): storms per year and per target month, ACE, TC days and
/// the storms making landfall in each country, over a range of years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedClimatology {
    /// Basin key.
    pub basin: String,
    /// Basin name.
    pub basin_name: String,
    /// Season label.
    pub season: String,
    /// First and last season year.
    pub years: (i32, i32),
    /// Storms of each season year (genesis in the basin and a target month).
    pub counts: Vec<(i32, usize)>,
    /// Mean storms per season.
    pub count_mean: f64,
    /// Mean storms per year with genesis in each target month.
    pub month_mean_counts: Vec<(u32, f64)>,
    /// Mean ACE per season (10⁴ kt²).
    pub ace_mean: f64,
    /// Mean TC days per season.
    pub tc_days_mean: f64,
    /// Storms of all the years making landfall in each country (most first).
    pub landfall_storms: Vec<(String, usize)>,
}

/// [`ObservedClimatology`] of `tracks` (best tracks at 6-hourly synoptic points) over the
/// season years `years` (inclusive; a year without a storm counts as zero).
pub fn observed_climatology(
    tracks: &[Track],
    years: (i32, i32),
    basin: &Basin,
    season: &Season,
    countries: Option<&Countries>,
) -> ObservedClimatology {
    // observations are one "member", whatever the file numbers them
    let tracks: Vec<Track> = tracks
        .iter()
        .map(|t| Track {
            member: 0,
            ..t.clone()
        })
        .collect();
    let tracks = tracks.as_slice();
    let seasons: Vec<(i32, i32)> = (years.0..=years.1).map(|y| (0, y)).collect();
    let per_year = basin_activity(tracks, &seasons, basin, season, 6.0, None);
    let n = per_year.len().max(1) as f64;
    let mean = |f: &dyn Fn(&MemberActivity) -> f64| per_year.iter().map(f).sum::<f64>() / n;
    let in_basin_season = |t: &&Track| {
        t.points.first().is_some_and(|g| {
            basin.contains(g.node.lat, g.node.lon)
                && season
                    .season_year(&g.time)
                    .is_some_and(|y| (years.0..=years.1).contains(&y))
        })
    };
    let month_mean_counts = season
        .months()
        .iter()
        .map(|&m| {
            let c = tracks
                .iter()
                .filter(in_basin_season)
                .filter(|t| t.points[0].time.month == m)
                .count();
            (m, c as f64 / n)
        })
        .collect();
    let mut landfall_storms: Vec<(String, usize)> = Vec::new();
    if let Some(c) = countries {
        for t in tracks.iter().filter(in_basin_season) {
            if let Some(name) = landfall(t, c) {
                match landfall_storms.iter_mut().find(|(n, _)| *n == name) {
                    Some(e) => e.1 += 1,
                    None => landfall_storms.push((name, 1)),
                }
            }
        }
        landfall_storms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    ObservedClimatology {
        basin: basin.key.to_string(),
        basin_name: basin.name.to_string(),
        season: season.label(),
        years,
        counts: per_year.iter().map(|a| (a.year, a.count)).collect(),
        count_mean: mean(&|a| a.count as f64),
        month_mean_counts,
        ace_mean: mean(&|a| a.ace),
        tc_days_mean: mean(&|a| a.tc_days),
        landfall_storms,
    }
}

/// Combines the forecast and hindcast member-seasons of one basin into its outlook.
/// `observed_counts`: observed storm counts per season year, for calibration.
pub fn activity_outlook(
    basin: &Basin,
    season: &Season,
    forecast: &[MemberActivity],
    hindcast: &[MemberActivity],
    observed_counts: Option<&[usize]>,
) -> Result<ActivityOutlook> {
    if forecast.is_empty() {
        return Err(Error::invalid(
            "cyclone outlook",
            format!(
                "no forecast run covers every month of {} — the forecasts must span the target months",
                season.label()
            ),
        ));
    }
    if hindcast.len() < 3 {
        return Err(Error::invalid(
            "cyclone outlook",
            format!(
                "{} hindcast member-season(s) cover {}: at least 3 are needed for a climatology",
                hindcast.len(),
                season.label()
            ),
        ));
    }
    let mean = |xs: &[MemberActivity], f: &dyn Fn(&MemberActivity) -> f64| {
        xs.iter().map(f).sum::<f64>() / xs.len() as f64
    };
    let count_mean = mean(forecast, &|a| a.count as f64);
    let count_clim = mean(hindcast, &|a| a.count as f64);
    let mut hc: Vec<usize> = hindcast.iter().map(|a| a.count).collect();
    hc.sort_unstable();
    let hc_f32: Vec<f32> = hc.iter().map(|&c| c as f32).collect();
    let q = |p: f64| crate::stats::quantile_sorted(&hc_f32, p);
    let mut terc = [0.0; 3];
    for a in forecast {
        let s = tercile_shares(&hc, a.count);
        for k in 0..3 {
            terc[k] += s[k] / forecast.len() as f64;
        }
    }
    let kmax = forecast
        .iter()
        .chain(hindcast)
        .map(|a| a.count)
        .max()
        .unwrap_or(0)
        .max(3)
        + 1;
    let prob_at_least: Vec<f64> = (1..=kmax)
        .map(|k| forecast.iter().filter(|a| a.count >= k).count() as f64 / forecast.len() as f64)
        .collect();
    let obs_clim = observed_counts
        .filter(|o| !o.is_empty())
        .map(|o| o.iter().sum::<usize>() as f64 / o.len() as f64);
    let calibrated = match obs_clim {
        Some(o) if count_clim > 0.0 => Some(count_mean * o / count_clim),
        _ => None,
    };
    let mut countries: Vec<String> = forecast
        .iter()
        .chain(hindcast)
        .flat_map(|a| a.landfall.iter().cloned())
        .collect();
    countries.sort();
    countries.dedup();
    let share = |xs: &[MemberActivity], c: &str| {
        xs.iter()
            .filter(|a| a.landfall.iter().any(|l| l == c))
            .count() as f64
            / xs.len() as f64
    };
    let mut landfall: Vec<(String, f64, f64)> = countries
        .into_iter()
        .map(|c| {
            let (f, h) = (share(forecast, &c), share(hindcast, &c));
            (c, f, h)
        })
        .collect();
    landfall.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.total_cmp(&a.2)));
    Ok(ActivityOutlook {
        basin: basin.key.to_string(),
        basin_name: basin.name.to_string(),
        season: season.label(),
        forecast_members: forecast.len(),
        hindcast_member_seasons: hindcast.len(),
        count_mean,
        count_climatology: count_clim,
        count_anomaly: count_mean - count_clim,
        count_observed_climatology: obs_clim,
        count_calibrated: calibrated,
        prob_at_least,
        prob_at_least_calibrated: calibrated.map(|m| poisson_at_least(m, kmax)),
        tercile_edges: [q(1.0 / 3.0), q(2.0 / 3.0)],
        tercile_probabilities: terc,
        ace_mean: mean(forecast, &|a| a.ace),
        ace_climatology: mean(hindcast, &|a| a.ace),
        tc_days_mean: mean(forecast, &|a| a.tc_days),
        tc_days_climatology: mean(hindcast, &|a| a.tc_days),
        landfall,
    })
}

/// Track density: storms per member-season passing through each box of a regular grid of
/// `box_deg` boxes over `lat0..lat1`, `lon0..lon1` (tracks of any basin whose genesis is in
/// the season). Returns `(box-centre latitudes, longitudes, density (lat, lon))`.
pub fn track_density(
    tracks: &[Track],
    seasons: &[(i32, i32)],
    season: &Season,
    bounds: (f64, f64, f64, f64),
    box_deg: f64,
) -> Result<(Vec<f64>, Vec<f64>, ndarray::Array2<f32>)> {
    let (w, e, s, n) = bounds;
    if box_deg.is_nan() || box_deg <= 0.0 || e <= w || n <= s {
        return Err(Error::invalid(
            "track density",
            format!("box {box_deg}° over {w}..{e}°E, {s}..{n}°N"),
        ));
    }
    let nx = ((e - w) / box_deg).ceil() as usize;
    let ny = ((n - s) / box_deg).ceil() as usize;
    let lat: Vec<f64> = (0..ny).map(|j| s + (j as f64 + 0.5) * box_deg).collect();
    let lon: Vec<f64> = (0..nx).map(|i| w + (i as f64 + 0.5) * box_deg).collect();
    let mut count = ndarray::Array2::<f32>::zeros((ny, nx));
    if seasons.is_empty() {
        return Ok((lat, lon, count));
    }
    for tr in tracks {
        let Some(g) = tr.points.first() else { continue };
        let Some(year) = season.season_year(&g.time) else {
            continue;
        };
        if !seasons.contains(&(tr.member, year)) {
            continue;
        }
        let mut seen = std::collections::HashSet::new();
        for p in &tr.points {
            let x = (p.node.lon - w).rem_euclid(360.0);
            let (fj, fi) = ((p.node.lat - s) / box_deg, x / box_deg);
            if fj >= 0.0 && fi >= 0.0 && (fj as usize) < ny && (fi as usize) < nx {
                seen.insert((fj as usize, fi as usize));
            }
        }
        for (j, i) in seen {
            count[[j, i]] += 1.0;
        }
    }
    count.mapv_inplace(|c| c / seasons.len() as f32);
    Ok((lat, lon, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclone::detect::Node;
    use crate::cyclone::nodefile::TrackPoint;

    fn track(member: i32, day0: u32, pts: &[(f64, f64, f32)]) -> Track {
        Track {
            id: 1,
            member,
            points: pts
                .iter()
                .enumerate()
                .map(|(k, &(lat, lon, wind))| TrackPoint {
                    time: CfDateTime::ymd(2020, 10, day0 + k as u32),
                    node: Node::at(lat, lon, wind),
                })
                .collect(),
        }
    }

    #[test]
    fn seasons_wrap_and_are_covered() {
        let s = Season::parse("11-4").unwrap();
        assert_eq!(s.months(), &[11, 12, 1, 2, 3, 4]);
        assert_eq!(s.label(), "Nov–Apr");
        assert_eq!(s.season_year(&CfDateTime::ymd(2021, 2, 3)), Some(2020));
        assert_eq!(s.season_year(&CfDateTime::ymd(2020, 12, 3)), Some(2020));
        assert_eq!(s.season_year(&CfDateTime::ymd(2020, 6, 3)), None);
        assert!(Season::parse("13-2").is_err() && Season::parse("x").is_err());
        let son = Season::parse("9-11").unwrap();
        let run = |y0, m0, y1, m1, d1| RunSpan {
            member: 0,
            start: CfDateTime::ymd(y0, m0, 1),
            end: CfDateTime::ymd(y1, m1, d1),
        };
        let cal = Calendar::Standard;
        assert_eq!(
            member_seasons(&[run(2020, 9, 2020, 11, 30)], &son, cal),
            vec![(0, 2020)]
        );
        assert!(member_seasons(&[run(2020, 9, 2020, 11, 29)], &son, cal).is_empty());
        // a 3-year run holds three seasons
        assert_eq!(
            member_seasons(&[run(2018, 1, 2020, 12, 31)], &son, cal).len(),
            3
        );
    }

    /// Hand check: two storms of member 0 in the Bay of Bengal in October, one of which crosses
    /// into Sri Lanka; ACE of 40 and 50 kt points; a storm in the Arabian Sea is another basin.
    #[test]
    fn counts_ace_days_and_landfall() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/regions/countries_110m.geojson"
        );
        let countries =
            Countries::from_geojson(&std::fs::read_to_string(path).unwrap(), path).unwrap();
        let kt = |k: f64| (k / KNOTS_PER_M_S) as f32;
        let tracks = vec![
            // 3 daily points at sea, winds 30, 40, 50 kt: ACE = 4 × 1e-4 (40² + 50²) = 1.64
            track(
                0,
                2,
                &[
                    (12.0, 88.0, kt(30.0)),
                    (13.0, 87.0, kt(40.0)),
                    (14.0, 86.0, kt(50.0)),
                ],
            ),
            // from the sea east of Sri Lanka onto the island
            track(
                0,
                10,
                &[
                    (7.5, 84.0, kt(20.0)),
                    (7.6, 82.5, kt(20.0)),
                    (7.7, 80.8, kt(20.0)),
                ],
            ),
            track(0, 12, &[(15.0, 65.0, kt(60.0)), (16.0, 64.0, kt(60.0))]),
            track(1, 3, &[(12.0, 88.0, kt(20.0)), (12.5, 87.0, kt(20.0))]),
        ];
        let seasons = [(0, 2020), (1, 2020), (2, 2020)];
        let son = Season::parse("9-11").unwrap();
        let bob = Basin::by_key("bob").unwrap();
        let a = basin_activity(&tracks, &seasons, bob, &son, 24.0, Some(&countries));
        assert_eq!(a.iter().map(|m| m.count).collect::<Vec<_>>(), vec![2, 1, 0]);
        // winds are stored as f32 m/s: equal to 1e-7
        assert!(
            (a[0].ace - 4.0 * 1e-4 * (1600.0 + 2500.0)).abs() < 1e-6,
            "{}",
            a[0].ace
        );
        assert_eq!(a[0].tc_days, 6.0);
        assert_eq!(a[0].landfall, vec!["Sri Lanka".to_string()]);
        assert!(a[1].landfall.is_empty());
        let arb = Basin::by_key("arb").unwrap();
        let b = basin_activity(&tracks, &seasons, arb, &son, 24.0, None);
        assert_eq!(b[0].count, 1);
        assert!(Basin::by_key("atl").is_err());
    }

    #[test]
    fn tercile_shares_split_ties_so_the_hindcast_is_one_third_each() {
        let hc = [0, 0, 1, 1, 1, 2, 2, 3, 4]; // F(0)=2/9, F(1)=5/9, F(2)=7/9
        let sum = |v: usize| tercile_shares(&hc, v);
        let mut clim = [0.0; 3];
        for &h in &hc {
            let s = sum(h);
            for k in 0..3 {
                clim[k] += s[k] / hc.len() as f64;
            }
        }
        for c in clim {
            assert!((c - 1.0 / 3.0).abs() < 1e-12, "{clim:?}");
        }
        // a count of 1 occupies [2/9, 5/9]: 1/3 of it below 1/3, 2/3 in the middle
        let s = sum(1);
        assert!((s[0] - 1.0 / 3.0).abs() < 1e-12 && (s[1] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(sum(7), [0.0, 0.0, 1.0]);
        for v in 0..8 {
            assert!((sum(v).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn outlook_of_a_busy_season() {
        let act = |member, count| MemberActivity {
            member,
            year: 2020,
            count,
            ace: count as f64,
            tc_days: 2.0 * count as f64,
            landfall: if count >= 3 {
                vec!["India".into()]
            } else {
                vec![]
            },
        };
        let hind: Vec<MemberActivity> = [0, 1, 1, 2, 2, 2, 3, 3, 4]
            .iter()
            .map(|&c| act(0, c))
            .collect();
        let fc: Vec<MemberActivity> = [3, 4, 4, 5].iter().map(|&c| act(1, c)).collect();
        let bob = Basin::by_key("bob").unwrap();
        let son = Season::parse("10-12").unwrap();
        let o = activity_outlook(bob, &son, &fc, &hind, Some(&[4, 5, 6])).unwrap();
        assert_eq!(o.count_mean, 4.0);
        assert!((o.count_climatology - 2.0).abs() < 1e-12);
        assert_eq!(o.count_anomaly, 2.0);
        assert_eq!(o.count_calibrated, Some(10.0)); // 4 × 5 / 2
        assert_eq!(&o.prob_at_least[..5], &[1.0, 1.0, 1.0, 0.75, 0.25]);
        assert!((o.tercile_probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(
            o.tercile_probabilities[2] > 0.8,
            "{:?}",
            o.tercile_probabilities
        );
        assert_eq!(o.landfall[0].0, "India");
        assert_eq!(o.landfall[0].1, 1.0);
        assert!((o.landfall[0].2 - 3.0 / 9.0).abs() < 1e-12);
        let p = o.prob_at_least_calibrated.unwrap();
        assert!((p[0] - (1.0 - (-10f64).exp())).abs() < 1e-12);
        assert!(activity_outlook(bob, &son, &[], &hind, None).is_err());
        assert!(activity_outlook(bob, &son, &fc, &hind[..2], None).is_err());
    }

    #[test]
    fn density_counts_a_storm_once_per_box() {
        let t = track(
            0,
            2,
            &[(12.0, 88.0, 20.0), (12.5, 88.5, 20.0), (13.0, 93.0, 20.0)],
        );
        let son = Season::parse("10-10").unwrap();
        let (lat, lon, d) = track_density(
            &[t],
            &[(0, 2020), (1, 2020)],
            &son,
            (80.0, 100.0, 0.0, 20.0),
            5.0,
        )
        .unwrap();
        assert_eq!((lat.len(), lon.len()), (4, 4));
        assert_eq!(d[[2, 1]], 0.5); // 10–15°N, 85–90°E: once, over two member-seasons
        assert_eq!(d[[2, 2]], 0.5);
        assert_eq!(d.sum(), 1.0);
    }
}
