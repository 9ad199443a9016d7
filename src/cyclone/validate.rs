//! Validation of detected tracks against observed best tracks: which observed storms were
//! found (probability of detection), which detected tracks are no storm (false-alarm ratio),
//! how far the positions are off and how biased the intensities are — per basin.
//!
//! # Matching
//! A detected point and an observed point **pair** when they are at most
//! [`MatchSpec::max_distance_km`] apart (great circle, Earth radius 6371 km) and at most
//! [`MatchSpec::max_time_hours`] apart in time. A detected track **matches** the observed track
//! with which it has the most pairing points, at least [`MatchSpec::min_pairs`] (ties: the
//! smaller mean distance of those pairs, then the first in the file). An observed storm is a
//! **hit** when at least one detected track matches it (a storm broken into two tracks is still
//! one hit), a **miss** otherwise; a detected track that matches nothing is a **false alarm**:
//!
//! `POD = hits / observed`, `FAR = false alarms / detected`
//!
//! (Walsh et al. 2007; the matching of Zarzycki & Ullrich 2017 and Roberts et al. 2020 with a
//! time tolerance). For each hit the **position error** is the mean distance between the
//! detected and observed points at the same time (within an hour), over the matched tracks;
//! the **intensity biases** are detected minus observed lifetime maximum wind (m/s) and
//! minimum central pressure (hPa), where both have them.
//!
//! # Basins
//! An observed storm is in the basin IBTrACS gives its first point; a detected track in the
//! basin of its first point by [`ibtracs_basin`] — IBTrACS' basins drawn as longitude bands on
//! either side of the equator (NI west of 100°E, WP 100°E–180°, EP east of 180° to Central
//! America, NA beyond it; SI west of 135°E from 20°E, SP east of 135°E to 70°W, SA beyond),
//! close to but not exactly IBTrACS' own polygons near Central America and southern Africa.
//!
//! # References
//! - Walsh, K. J. E. et al. (2007), *Objectively determined resolution-dependent threshold
//!   criteria for the detection of tropical cyclones in climate models and reanalyses*,
//!   J. Climate 20, 2307–2314.
//! - Zarzycki, C. M. & Ullrich, P. A. (2017), GRL 44, 1141–1149.
//! - Roberts, M. J. et al. (2020), *Impact of model resolution on tropical cyclone simulation
//!   using the HighResMIP–PRIMAVERA multimodel ensemble*, J. Climate 33, 2557–2583.

use serde::Serialize;

use super::nodefile::Track;
use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::grid::great_circle;

/// Earth radius (km) of the distances.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// How detected and observed tracks are matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchSpec {
    /// Largest distance (km) of a pairing point.
    pub max_distance_km: f64,
    /// Largest time difference (hours) of a pairing point.
    pub max_time_hours: f64,
    /// Fewest pairing points for a match.
    pub min_pairs: usize,
}

impl Default for MatchSpec {
    /// 300 km, ±24 h, one pairing point: a storm found within a day and within about three
    /// 1° grid lengths of where it was (the tolerance of seasonal and subseasonal forecast
    /// tracks against best tracks).
    fn default() -> Self {
        MatchSpec {
            max_distance_km: 300.0,
            max_time_hours: 24.0,
            min_pairs: 1,
        }
    }
}

impl MatchSpec {
    fn validate(&self) -> Result<()> {
        if !(self.max_distance_km > 0.0 && self.max_distance_km.is_finite()) {
            return Err(Error::invalid(
                "match distance",
                format!("{} km must be positive", self.max_distance_km),
            ));
        }
        if !(self.max_time_hours >= 0.0 && self.max_time_hours.is_finite()) {
            return Err(Error::invalid(
                "match time tolerance",
                format!("{} h must be ≥ 0", self.max_time_hours),
            ));
        }
        if self.min_pairs == 0 {
            return Err(Error::invalid(
                "match pairs",
                "at least one point must pair",
            ));
        }
        Ok(())
    }
}

/// An observed storm to validate against: its track and IBTrACS basin.
#[derive(Debug, Clone)]
pub struct ObservedStorm {
    /// Identifier (IBTrACS SID or the track number).
    pub id: String,
    /// Name, if any.
    pub name: String,
    /// IBTrACS basin code of its first point.
    pub basin: String,
    /// The track (pressure in Pa, wind in m/s; NaN where missing).
    pub track: Track,
}

/// The scores of one basin (or of all, `basin = "all"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasinScores {
    /// IBTrACS basin code or `all`.
    pub basin: String,
    /// Observed storms.
    pub observed: usize,
    /// Detected tracks.
    pub detected: usize,
    /// Observed storms matched by at least one detected track.
    pub hits: usize,
    /// Observed storms matched by none.
    pub misses: usize,
    /// Detected tracks matching no observed storm.
    pub false_alarms: usize,
    /// Probability of detection (NaN without observed storms).
    pub pod: f64,
    /// False-alarm ratio (NaN without detected tracks).
    pub far: f64,
    /// Mean position error of the hits (km) at common times.
    pub mean_position_error_km: f64,
    /// Mean detected − observed lifetime maximum wind of the hits (m/s).
    pub wind_bias_ms: f64,
    /// Mean detected − observed lifetime minimum pressure of the hits (hPa).
    pub pressure_bias_hpa: f64,
}

/// One detected track's match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackMatch {
    /// Detected track id.
    pub track_id: usize,
    /// Ensemble member of the detected track.
    pub member: i32,
    /// Basin of its first point.
    pub basin: String,
    /// The observed storm it matches (`None`: false alarm).
    pub observed_id: Option<String>,
    /// Pairing points.
    pub pairs: usize,
    /// Mean distance (km) at common times, NaN without any.
    pub position_error_km: f64,
}

/// Scores per basin (the basins present, in IBTrACS' order, then `all`) and each detected
/// track's match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// Scores per basin, then over all basins.
    pub basins: Vec<BasinScores>,
    /// Each detected track's match.
    pub matches: Vec<TrackMatch>,
}

/// IBTrACS basin codes in their documentation's order.
pub const IBTRACS_BASINS: [&str; 7] = ["NA", "EP", "WP", "NI", "SI", "SP", "SA"];

/// The IBTrACS basin of a position (module doc).
pub fn ibtracs_basin(lat: f64, lon: f64) -> &'static str {
    let lon = lon.rem_euclid(360.0);
    if lat >= 0.0 {
        // the Central American isthmus, from Colombia to the Isthmus of Tehuantepec
        let isthmus = if lat < 8.5 {
            282.5
        } else if lat < 15.0 {
            275.0
        } else if lat < 18.0 {
            266.0
        } else {
            260.0
        };
        if lon < 100.0 {
            "NI"
        } else if lon < 180.0 {
            "WP"
        } else if lon < isthmus {
            "EP"
        } else {
            "NA"
        }
    } else if (20.0..135.0).contains(&lon) {
        "SI"
    } else if (135.0..290.0).contains(&lon) {
        "SP"
    } else {
        "SA"
    }
}

/// Distance (km) between two track points.
fn km(a: &super::TrackPoint, b: &super::TrackPoint) -> f64 {
    EARTH_RADIUS_KM * great_circle(a.node.lat, a.node.lon, b.node.lat, b.node.lon)
}

/// Hours from `a` to `b` (standard calendar; best tracks and reanalyses use it).
fn hours(a: &super::TrackPoint, b: &super::TrackPoint) -> Result<f64> {
    Ok(a.time.seconds_until(&b.time, Calendar::Standard)? / 3600.0)
}

/// `(pairs, mean pairing distance, mean distance at common times)` of a detected and an
/// observed track.
fn pairing(d: &Track, o: &Track, spec: &MatchSpec) -> Result<(usize, f64, Option<f64>)> {
    let (mut pairs, mut sum) = (0usize, 0.0);
    let (mut common, mut common_sum) = (0usize, 0.0);
    for p in &d.points {
        let mut best: Option<f64> = None;
        let mut same_time: Option<f64> = None;
        for q in &o.points {
            let dt = hours(p, q)?.abs();
            if dt > spec.max_time_hours {
                continue;
            }
            let dist = km(p, q);
            if dt <= 1.0 {
                same_time = Some(same_time.map_or(dist, |s: f64| s.min(dist)));
            }
            if dist <= spec.max_distance_km {
                best = Some(best.map_or(dist, |b: f64| b.min(dist)));
            }
        }
        if let Some(b) = best {
            pairs += 1;
            sum += b;
            if let Some(s) = same_time {
                common += 1;
                common_sum += s;
            }
        }
    }
    let mean = if pairs > 0 {
        sum / pairs as f64
    } else {
        f64::NAN
    };
    Ok((
        pairs,
        mean,
        (common > 0).then(|| common_sum / common as f64),
    ))
}

fn nan_mean(v: &[f64]) -> f64 {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if f.is_empty() {
        f64::NAN
    } else {
        f.iter().sum::<f64>() / f.len() as f64
    }
}

fn lifetime_max_wind(t: &Track) -> f64 {
    t.points
        .iter()
        .map(|p| p.node.wind_ms as f64)
        .filter(|w| w.is_finite())
        .fold(f64::NAN, f64::max)
}

fn lifetime_min_pressure_hpa(t: &Track) -> f64 {
    t.points
        .iter()
        .map(|p| p.node.psl_pa as f64 / 100.0)
        .filter(|p| p.is_finite())
        .fold(f64::NAN, f64::min)
}

/// Matches `detected` to `observed` and scores them per basin (module doc).
pub fn validate_tracks(
    detected: &[Track],
    observed: &[ObservedStorm],
    spec: &MatchSpec,
) -> Result<Validation> {
    spec.validate()?;
    // the duration of each observed track (hours), to skip hopeless pairs quickly
    let durations: Vec<Option<f64>> = observed
        .iter()
        .map(|o| hours(o.track.points.first()?, o.track.points.last()?).ok())
        .collect();
    let mut matches = Vec::with_capacity(detected.len());
    // per observed storm: position errors and intensity differences of its matched tracks
    let mut hit_errors: Vec<Vec<f64>> = vec![Vec::new(); observed.len()];
    let mut hit_wind: Vec<Vec<f64>> = vec![Vec::new(); observed.len()];
    let mut hit_pres: Vec<Vec<f64>> = vec![Vec::new(); observed.len()];
    for d in detected {
        let Some(first) = d.points.first() else {
            continue;
        };
        let d_last = d.points.last().expect("non-empty");
        let mut best: Option<(usize, usize, f64, Option<f64>)> = None;
        for (k, o) in observed.iter().enumerate() {
            let (Some(o_first), Some(o_len)) = (o.track.points.first(), durations[k]) else {
                continue;
            };
            // no point of one within the tolerance of the other's span
            let start = hours(o_first, first)?;
            let end = hours(o_first, d_last)?;
            if end < -spec.max_time_hours || start > o_len + spec.max_time_hours {
                continue;
            }
            let (pairs, mean, common) = pairing(d, &o.track, spec)?;
            if pairs < spec.min_pairs {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, bp, bm, _)) => pairs > bp || (pairs == bp && mean < bm),
            };
            if better {
                best = Some((k, pairs, mean, common));
            }
        }
        let basin = ibtracs_basin(first.node.lat, first.node.lon).to_string();
        match best {
            Some((k, pairs, _, common)) => {
                let err = common.unwrap_or(f64::NAN);
                hit_errors[k].push(err);
                hit_wind[k].push(lifetime_max_wind(d) - lifetime_max_wind(&observed[k].track));
                hit_pres[k].push(
                    lifetime_min_pressure_hpa(d) - lifetime_min_pressure_hpa(&observed[k].track),
                );
                matches.push(TrackMatch {
                    track_id: d.id,
                    member: d.member,
                    basin,
                    observed_id: Some(observed[k].id.clone()),
                    pairs,
                    position_error_km: err,
                });
            }
            None => matches.push(TrackMatch {
                track_id: d.id,
                member: d.member,
                basin,
                observed_id: None,
                pairs: 0,
                position_error_km: f64::NAN,
            }),
        }
    }

    let score = |basin: &str, in_basin: &dyn Fn(&str) -> bool| -> BasinScores {
        let obs: Vec<usize> = (0..observed.len())
            .filter(|&k| in_basin(&observed[k].basin))
            .collect();
        let det: Vec<&TrackMatch> = matches.iter().filter(|m| in_basin(&m.basin)).collect();
        let hits: Vec<usize> = obs
            .iter()
            .copied()
            .filter(|&k| !hit_errors[k].is_empty())
            .collect();
        let false_alarms = det.iter().filter(|m| m.observed_id.is_none()).count();
        let per_hit = |v: &[Vec<f64>]| -> f64 {
            nan_mean(&hits.iter().map(|&k| nan_mean(&v[k])).collect::<Vec<_>>())
        };
        let ratio = |a: usize, b: usize| {
            if b == 0 {
                f64::NAN
            } else {
                a as f64 / b as f64
            }
        };
        BasinScores {
            basin: basin.to_string(),
            observed: obs.len(),
            detected: det.len(),
            hits: hits.len(),
            misses: obs.len() - hits.len(),
            false_alarms,
            pod: ratio(hits.len(), obs.len()),
            far: ratio(false_alarms, det.len()),
            mean_position_error_km: per_hit(&hit_errors),
            wind_bias_ms: per_hit(&hit_wind),
            pressure_bias_hpa: per_hit(&hit_pres),
        }
    };
    let mut basins: Vec<BasinScores> = IBTRACS_BASINS
        .iter()
        .filter(|b| {
            observed.iter().any(|o| o.basin == **b) || matches.iter().any(|m| m.basin == **b)
        })
        .map(|b| score(b, &|x: &str| x == *b))
        .collect();
    // storms IBTrACS puts in a basin code we do not know (`MM`) are counted in `all` only
    basins.push(score("all", &|_| true));
    Ok(Validation { basins, matches })
}

/// The scores as CSV: `basin,observed,detected,hits,misses,false_alarms,pod,far,
/// mean_position_error_km,wind_bias_ms,pressure_bias_hpa` (empty where undefined).
pub fn validation_csv(v: &Validation) -> String {
    let num = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            String::new()
        }
    };
    let mut out = String::from(
        "basin,observed,detected,hits,misses,false_alarms,pod,far,mean_position_error_km,wind_bias_ms,pressure_bias_hpa\n",
    );
    for b in &v.basins {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            b.basin,
            b.observed,
            b.detected,
            b.hits,
            b.misses,
            b.false_alarms,
            num(b.pod, 4),
            num(b.far, 4),
            num(b.mean_position_error_km, 1),
            num(b.wind_bias_ms, 2),
            num(b.pressure_bias_hpa, 2),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CfDateTime;
    use crate::cyclone::{Node, TrackPoint};

    /// A track of 6-hourly points from `(lat, lon)` moving `dlon` degrees per step, with a
    /// constant pressure and wind.
    #[allow(clippy::too_many_arguments)]
    fn track(
        id: usize,
        day: u32,
        lat: f64,
        lon: f64,
        dlon: f64,
        steps: usize,
        psl: f32,
        wind: f32,
    ) -> Track {
        Track {
            id,
            member: 0,
            points: (0..steps)
                .map(|k| TrackPoint {
                    time: CfDateTime::ymd_hms(2021, 5, day, 0, 0, 0.0)
                        .add_seconds(6.0 * 3600.0 * k as f64, Calendar::Standard)
                        .unwrap(),
                    node: Node {
                        j: 0,
                        i: 0,
                        lat,
                        lon: lon + dlon * k as f64,
                        psl_pa: psl,
                        wind_ms: wind,
                        vorticity_s: f32::NAN,
                    },
                })
                .collect(),
        }
    }

    fn obs(id: &str, basin: &str, t: Track) -> ObservedStorm {
        ObservedStorm {
            id: id.into(),
            name: String::new(),
            basin: basin.into(),
            track: t,
        }
    }

    /// Hand-checked: 3 observed storms (2 NI, 1 WP), 4 detected tracks — one on the Arabian
    /// Sea storm 1° (111.2 km) east of it, two pieces of the Bay of Bengal storm, one false
    /// alarm in the WP; the WP storm is missed.
    /// NI: observed 2, hits 2, detected 3, false alarms 0 → POD 1, FAR 0.
    /// WP: observed 1, hits 0, detected 1, false alarms 1 → POD 0, FAR 1.
    /// all: POD 2/3, FAR 1/4.
    #[test]
    fn pod_and_far_by_hand() {
        let observed = vec![
            obs(
                "AS",
                "NI",
                track(1, 14, 15.0, 65.0, 0.5, 12, 98_000.0, 30.0),
            ),
            obs(
                "BB",
                "NI",
                track(2, 20, 15.0, 88.0, 0.0, 12, 97_000.0, 40.0),
            ),
            obs(
                "WP",
                "WP",
                track(3, 10, 15.0, 140.0, -0.5, 8, 96_000.0, 45.0),
            ),
        ];
        let detected = vec![
            // 1° of longitude east at 15°N: 111.2 × cos 15° ≈ 107.4 km
            track(1, 14, 15.0, 66.0, 0.5, 10, 99_000.0, 20.0),
            track(2, 20, 15.5, 88.0, 0.0, 5, 99_500.0, 18.0),
            track(3, 21, 15.5, 88.0, 0.0, 5, 99_000.0, 22.0),
            track(4, 2, 20.0, 150.0, 0.0, 12, 100_000.0, 15.0),
        ];
        let v = validate_tracks(&detected, &observed, &MatchSpec::default()).unwrap();
        let by = |b: &str| v.basins.iter().find(|s| s.basin == b).unwrap().clone();
        let ni = by("NI");
        assert_eq!(
            (ni.observed, ni.detected, ni.hits, ni.false_alarms),
            (2, 3, 2, 0)
        );
        assert_eq!((ni.pod, ni.far), (1.0, 0.0));
        let wp = by("WP");
        assert_eq!(
            (
                wp.observed,
                wp.detected,
                wp.hits,
                wp.misses,
                wp.false_alarms
            ),
            (1, 1, 0, 1, 1)
        );
        assert_eq!((wp.pod, wp.far), (0.0, 1.0));
        let all = by("all");
        assert!((all.pod - 2.0 / 3.0).abs() < 1e-12 && (all.far - 0.25).abs() < 1e-12);
        // position errors: AS 107.4 km (great circle of 1° at 15°N), BB 55.6 km (0.5° north)
        let as_err = EARTH_RADIUS_KM * great_circle(15.0, 65.0, 15.0, 66.0);
        let bb_err = EARTH_RADIUS_KM * 0.5f64.to_radians();
        assert!((as_err - 107.4).abs() < 0.1, "{as_err}");
        assert!((ni.mean_position_error_km - (as_err + bb_err) / 2.0).abs() < 1e-6);
        // wind biases: AS 20 − 30 = −10; BB mean of (18 − 40, 22 − 40) = −20 → NI −15 m/s
        assert!((ni.wind_bias_ms + 15.0).abs() < 1e-9);
        // pressure biases: AS 990 − 980 = +10; BB (995 − 970, 990 − 970) → 22.5 → NI 16.25 hPa
        assert!((ni.pressure_bias_hpa - 16.25).abs() < 1e-9);
        assert_eq!(v.matches[3].observed_id, None);
        assert_eq!(v.matches[1].observed_id.as_deref(), Some("BB"));
        let csv = validation_csv(&v);
        assert!(
            csv.lines()
                .any(|l| l.starts_with("WP,1,1,0,1,1,0.0000,1.0000,,,")),
            "{csv}"
        );
    }

    #[test]
    fn tolerances_decide_and_self_validation_is_perfect() {
        let o = vec![obs(
            "A",
            "NI",
            track(1, 14, 15.0, 65.0, 0.0, 8, 98_000.0, 30.0),
        )];
        // 3° away (≈ 322 km at 15°N along the parallel): beyond 300 km
        let far_away = vec![track(1, 14, 15.0, 68.0, 0.0, 8, 98_000.0, 30.0)];
        let v = validate_tracks(&far_away, &o, &MatchSpec::default()).unwrap();
        assert_eq!(v.basins.last().unwrap().hits, 0);
        let wide = MatchSpec {
            max_distance_km: 400.0,
            ..MatchSpec::default()
        };
        assert_eq!(
            validate_tracks(&far_away, &o, &wide)
                .unwrap()
                .basins
                .last()
                .unwrap()
                .hits,
            1
        );
        // starting 30 h after the observed storm's last point (day 15, 18 UTC): beyond ±24 h
        let late = vec![track(1, 17, 15.0, 65.0, 0.0, 8, 98_000.0, 30.0)];
        let v = validate_tracks(&late, &o, &MatchSpec::default()).unwrap();
        assert_eq!(v.basins.last().unwrap().false_alarms, 1);
        // the observed tracks against themselves
        let same: Vec<Track> = o.iter().map(|s| s.track.clone()).collect();
        let v = validate_tracks(&same, &o, &MatchSpec::default()).unwrap();
        let all = v.basins.last().unwrap();
        assert_eq!(
            (all.pod, all.far, all.mean_position_error_km),
            (1.0, 0.0, 0.0)
        );
    }

    #[test]
    fn basins_of_positions() {
        assert_eq!(ibtracs_basin(15.0, 88.0), "NI");
        assert_eq!(ibtracs_basin(15.0, 130.0), "WP");
        assert_eq!(ibtracs_basin(15.0, -100.0), "EP");
        assert_eq!(ibtracs_basin(25.0, -90.0), "NA"); // Gulf of Mexico
        assert_eq!(ibtracs_basin(12.0, -80.0), "NA"); // Caribbean
        assert_eq!(ibtracs_basin(-15.0, 60.0), "SI");
        assert_eq!(ibtracs_basin(-15.0, 150.0), "SP");
        assert_eq!(ibtracs_basin(-25.0, -40.0), "SA");
    }
}
