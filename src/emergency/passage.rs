//! Cyclone passage risk at a site from ensemble tracks.
//!
//! A storm **passes** the site when its centre comes within `radius_km` (default 300 km) of
//! it; tracks are walked between their points in steps of at most 0.1° (great-circle
//! interpolation is not needed at these distances: positions are interpolated linearly in
//! latitude, longitude and time). For day `d` after the start (`[d, d + 1)` days) the passage
//! probability is the weighted share of members with a passage that day; weekly and cumulative
//! ("by the end of day d") probabilities likewise. Member weights let each model count equally
//! whatever its member count (weight `1/(M·m_k)`), or follow skill.
//!
//! The **strike-probability map** gives, for each cell of a grid around the site, the
//! weighted share of members with a storm passing within `radius_km` of the cell during the
//! whole period — the NHC-style "strike probability" on an ensemble.

use ndarray::Array2;
use serde::Serialize;

use crate::calendar::{Calendar, CfDateTime};
use crate::cyclone::Track;
use crate::error::{Error, Result};
use crate::grid::{great_circle, EARTH_RADIUS_M};

/// Passage probabilities at a site.
#[derive(Debug, Clone, Serialize)]
pub struct PassageRisk {
    /// Radius (km).
    pub radius_km: f64,
    /// Probability of a passage on each day `[d, d + 1)`.
    pub daily: Vec<f64>,
    /// Probability of a passage in each week (days `7w … 7w + 6`).
    pub weekly: Vec<f64>,
    /// Probability of at least one passage by the end of each day.
    pub cumulative: Vec<f64>,
    /// First passage of each member (days after the start), `None` without one.
    pub first_passage_days: Vec<Option<f64>>,
    /// The weighted median first passage among the members with one (days).
    pub earliest_typical_days: Option<f64>,
    /// The earliest first passage of any member (days).
    pub earliest_days: Option<f64>,
}

/// Points along a track every ≤ 0.1° ([`Track::walk`]), with their times (days after
/// `start`).
fn track_samples(track: &Track, start: &CfDateTime, cal: Calendar) -> Result<Vec<(f64, f64, f64)>> {
    let days: Vec<f64> = track
        .points
        .iter()
        .map(|p| start.days_until(&p.time, cal))
        .collect::<Result<_>>()?;
    Ok(track
        .walk(0.1)
        .into_iter()
        .map(|(k, f, lat, lon)| {
            let t = if f == 0.0 {
                days[k]
            } else {
                days[k] + f * (days[k + 1] - days[k])
            };
            (t, lat, lon)
        })
        .collect())
}

/// The forecast period: `days` days from `start`, in a calendar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// First instant.
    pub start: CfDateTime,
    /// Number of days.
    pub days: usize,
    /// Calendar of the track times.
    pub calendar: Calendar,
}

/// Calls `f(member, t_days, lat, lon)` for every sample of the tracks of members
/// `0..members` within `[0, days)` days after `start`.
fn for_member_samples(
    tracks: &[Track],
    members: usize,
    start: &CfDateTime,
    cal: Calendar,
    days: usize,
    mut f: impl FnMut(usize, f64, f64, f64),
) -> Result<()> {
    for tr in tracks {
        let Some(member) = usize::try_from(tr.member).ok().filter(|&m| m < members) else {
            continue;
        };
        for (t, la, lo) in track_samples(tr, start, cal)? {
            if (0.0..days as f64).contains(&t) {
                f(member, t, la, lo);
            }
        }
    }
    Ok(())
}

/// Passage risk at `(lat, lon)` over the period, for members `0..weights.len()` (tracks of
/// other members are ignored) with the given weights.
pub fn passage_risk(
    tracks: &[Track],
    weights: &[f64],
    site: (f64, f64),
    radius_km: f64,
    period: &Period,
) -> Result<PassageRisk> {
    let (start, days, cal) = (&period.start, period.days, period.calendar);
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || weights.iter().any(|w| !w.is_finite() || *w < 0.0) || total <= 0.0 {
        return Err(Error::invalid(
            "passage risk",
            "member weights must be non-negative with a positive sum",
        ));
    }
    if radius_km.is_nan() || radius_km <= 0.0 || days == 0 {
        return Err(Error::invalid(
            "passage risk",
            format!("radius {radius_km} km and {days} days must be positive"),
        ));
    }
    let r_rad = radius_km * 1000.0 / EARTH_RADIUS_M;
    let m = weights.len();
    // per member: the times (days) of its storms' samples within reach of the site
    let mut hit = vec![vec![false; days]; m];
    let mut first: Vec<Option<f64>> = vec![None; m];
    for_member_samples(tracks, m, start, cal, days, |member, t, la, lo| {
        if great_circle(site.0, site.1, la, lo) <= r_rad {
            hit[member][t as usize] = true;
            first[member] = Some(first[member].map_or(t, |f: f64| f.min(t)));
        }
    })?;
    let share = |f: &dyn Fn(&[bool]) -> bool| {
        hit.iter()
            .zip(weights)
            .filter(|(h, _)| f(h))
            .fold(0.0, |a, (_, w)| a + w) // not `sum`: an empty f64 sum is −0.0
            / total
    };
    let daily: Vec<f64> = (0..days).map(|d| share(&|h| h[d])).collect();
    let weekly: Vec<f64> = (0..days.div_ceil(7))
        .map(|w| share(&|h| h[7 * w..(7 * w + 7).min(days)].iter().any(|&x| x)))
        .collect();
    let cumulative: Vec<f64> = (0..days)
        .map(|d| share(&|h| h[..=d].iter().any(|&x| x)))
        .collect();
    let mut firsts: Vec<(f64, f64)> = first
        .iter()
        .zip(weights)
        .filter_map(|(f, &w)| f.map(|t| (t, w)))
        .collect();
    firsts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let earliest = firsts.first().map(|f| f.0);
    let wsum: f64 = firsts.iter().map(|f| f.1).sum();
    let mut acc = 0.0;
    let typical = firsts.iter().find_map(|&(t, w)| {
        acc += w;
        (acc >= wsum / 2.0).then_some(t)
    });
    Ok(PassageRisk {
        radius_km,
        daily,
        weekly,
        cumulative,
        first_passage_days: first,
        earliest_typical_days: typical,
        earliest_days: earliest,
    })
}

/// Strike probability on a grid `(lat, lon)` (degrees): the weighted share of members with a
/// storm centre within `radius_km` of each cell during the period.
pub fn strike_probability(
    tracks: &[Track],
    weights: &[f64],
    (lat, lon): (&[f64], &[f64]),
    radius_km: f64,
    period: &Period,
) -> Result<Array2<f32>> {
    let (start, days, cal) = (&period.start, period.days, period.calendar);
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || lat.is_empty() || lon.is_empty() {
        return Err(Error::invalid(
            "strike probability",
            "empty grid or zero weights",
        ));
    }
    let r_rad = radius_km * 1000.0 / EARTH_RADIUS_M;
    let r_deg = r_rad.to_degrees();
    let (ny, nx) = (lat.len(), lon.len());
    let mut member_hit = vec![vec![false; ny * nx]; weights.len()];
    for_member_samples(
        tracks,
        weights.len(),
        start,
        cal,
        days,
        |member, _, la, lo| {
            for (j, &y) in lat.iter().enumerate() {
                if (y - la).abs() > r_deg {
                    continue;
                }
                for (i, &x) in lon.iter().enumerate() {
                    if great_circle(y, x, la, lo) <= r_rad {
                        member_hit[member][j * nx + i] = true;
                    }
                }
            }
        },
    )?;
    let mut out = Array2::<f32>::zeros((ny, nx));
    for (h, &w) in member_hit.iter().zip(weights) {
        for (k, &x) in h.iter().enumerate() {
            if x {
                out[[k / nx, k % nx]] += (w / total) as f32;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclone::detect::Node;
    use crate::cyclone::TrackPoint;

    fn period(days: usize) -> Period {
        Period {
            start: CfDateTime::ymd(2020, 9, 1),
            days,
            calendar: Calendar::Standard,
        }
    }

    /// A storm of `member` moving west along `lat` at 2°/day from `lon0`, from day `d0`.
    fn westward(member: i32, lat: f64, lon0: f64, d0: u32, n: u32) -> Track {
        Track {
            id: 1,
            member,
            points: (0..n)
                .map(|k| TrackPoint {
                    time: CfDateTime::ymd(2020, 9, 1 + d0 + k),
                    node: Node::at(lat, lon0 - 2.0 * k as f64, 20.0),
                })
                .collect(),
        }
    }

    /// Hand check: the site (7°N, 82.5°E), start 1 Sept. Member 0's storm moves west along
    /// 8°N from 90°E at 2°/day from 3 Sept (day 2). It is within 300 km when
    /// cos(300 km / R) ≤ sin 7° sin 8° + cos 7° cos 8° cos Δλ, i.e. |Δλ| ≤ 2.53°: from
    /// day 2 + (7.5 − 2.53)/2 = 4.48 to day 2 + (7.5 + 2.53)/2 = 7.01 — days 4 to 7, in
    /// weeks 1 and 2.
    #[test]
    fn daily_weekly_cumulative_and_first_passage() {
        let tracks = vec![westward(0, 8.0, 90.0, 2, 8), westward(2, 20.0, 90.0, 0, 8)];
        let r = passage_risk(
            &tracks,
            &[1.0, 1.0, 1.0, 1.0],
            (7.0, 82.5),
            300.0,
            &period(14),
        )
        .unwrap();
        // member 0 only (member 2's storm stays 13° north)
        let f = r.first_passage_days[0].unwrap();
        assert!((f - 4.48).abs() < 0.06, "{f}");
        assert!(r.first_passage_days[1].is_none() && r.first_passage_days[2].is_none());
        assert_eq!(r.daily[4], 0.25);
        assert_eq!(r.daily[0], 0.0);
        assert_eq!(r.daily[7], 0.25);
        assert_eq!(r.daily[8], 0.0);
        assert_eq!(r.weekly, vec![0.25, 0.25]);
        assert_eq!(r.cumulative[3], 0.0);
        assert_eq!(r.cumulative[13], 0.25);
        assert_eq!(r.earliest_days, r.earliest_typical_days);
        // weights: member 0 weighs half
        let r2 = passage_risk(
            &tracks,
            &[2.0, 1.0, 0.5, 0.5],
            (7.0, 82.5),
            300.0,
            &period(14),
        )
        .unwrap();
        assert_eq!(r2.cumulative[13], 0.5);
        assert!(passage_risk(&tracks, &[0.0], (7.0, 82.5), 300.0, &period(14)).is_err());
    }

    #[test]
    fn strike_map_marks_the_swath() {
        let tracks = vec![westward(0, 8.0, 90.0, 0, 8)];
        let lat: Vec<f64> = (0..=20).map(|j| j as f64).collect();
        let lon: Vec<f64> = (0..=20).map(|i| 75.0 + i as f64).collect();
        let p = strike_probability(&tracks, &[1.0, 1.0], (&lat, &lon), 300.0, &period(30)).unwrap();
        assert_eq!(p[[8, 10]], 0.5); // on the track (8°N, 85°E)
        assert_eq!(p[[11, 10]], 0.0); // 3° north: 333 km > 300 km
        assert_eq!(p[[10, 10]], 0.5); // 2° north: 222 km
    }
}
