//! Tropical cyclones: detection of centres on gridded model fields, tracking, and the track
//! formats other tools read.
//!
//! - [`detect`]: TempestExtremes-style candidates — local sea-level-pressure minima in an
//!   optional latitude band, merged within 6° (equal twins kept, as TE), with a closed 200 Pa
//!   contour within 5.5°, optionally a cyclonic 850 hPa vorticity ≥ 5 × 10⁻⁵ s⁻¹ within 2.5°
//!   and a warm core (Z300 − Z500 thickness falling by 58.8 m² s⁻² within 6.5°), with the
//!   largest wind within 2° when a wind is given — pressure alone is enough; rayon-parallel
//!   over time steps; identical to TE's DetectNodes on ERA5 (`data/real/cyclones`).
//! - [`track`]: StitchNodes-style linking (nearest candidate within 8° at the next step with
//!   candidates, gaps ≤ 24 h) and path filters (≥ 54 h, wind ≥ 10 m/s and |lat| ≤ 50° at ≥ 60 h
//!   of points, genesis equatorward of 40°).
//! - [`activity`]: seasonal activity per basin — counts, ACE, storm days, track density,
//!   landfall by country — against the model's hindcast climatology, with tercile and
//!   exceedance probabilities and an optional calibration to observed counts.
//! - [`genesis`]: potential intensity (Bister & Emanuel 2002, as `tcpyPI`) and the
//!   Emanuel–Nolan (2004) genesis potential index, for models with monthly means only.
//! - [`genesis_outlook`]: GPI fields from monthly means and the season's GPI per basin against
//!   the model's hindcast years — the cyclone product when no daily fields exist.
//! - [`agency`]: whose winds and pressures a best track gives (IBTrACS' agencies).
//! - [`validate`]: detected tracks against observed best tracks — matching within 300 km and
//!   ±1 day, probability of detection, false-alarm ratio, position error and intensity bias
//!   per IBTrACS basin.
//! - [`nodefile`]: tracks as CSV (`track_id,member,time,lat,lon,psl,wind[,vorticity]`) and in
//!   TE's StitchNodes (GFDL) and DetectNodes text formats.
//!
//! # References
//! - Ullrich, P. A. & Zarzycki, C. M. (2017), *TempestExtremes: a framework for scale-insensitive
//!   pointwise feature tracking on unstructured grids*, Geosci. Model Dev. 10, 1069–1090.
//! - Zarzycki, C. M. & Ullrich, P. A. (2017), *Assessing sensitivities in algorithmic detection
//!   of tropical cyclones in climate data*, Geophys. Res. Lett. 44, 1141–1149.
//! - Ullrich, P. A. et al. (2021), *TempestExtremes v2.1*, Geosci. Model Dev. 14, 5023–5048.

pub mod activity;
pub mod agency;
pub mod detect;
pub mod genesis;
pub mod genesis_outlook;
pub mod nodefile;
pub mod track;
pub mod validate;

pub use detect::{
    detect_series, detect_step, ClosedContour, DetectSpec, Node, NodeGrid, SeriesFields,
    StepFields, VorticityThreshold,
};
pub use nodefile::{
    build_tracks, parse_tracks_csv, tracks_csv, tracks_stitchnodes, NodeColumns, Track, TrackPoint,
};
pub use track::{stitch, PathThreshold, StitchSpec};

#[cfg(test)]
mod synthetic_tests {
    //! Detection and tracking against the planted storms of [`crate::synth::storms`].
    use super::*;
    use crate::synth::storms::StormConfig;

    /// Runs detection + tracking on every member; returns the tracks.
    fn run(cfg: &StormConfig) -> Vec<Track> {
        let grid = NodeGrid::new(&cfg.lat, &cfg.lon).unwrap();
        let times = cfg.times().unwrap();
        let hours: Vec<f64> = (0..cfg.steps).map(|t| t as f64 * cfg.step_hours).collect();
        let spec = DetectSpec::default();
        let stitch_spec = StitchSpec::tempest_tc(cfg.step_hours);
        let mut tracks = Vec::new();
        for m in 0..cfg.members {
            let f = cfg.member_fields(m);
            let wind = detect::wind_speed(f.uas.view(), f.vas.view()).unwrap();
            let fields = detect::SeriesFields {
                psl_pa: f.psl.view(),
                wind_ms: Some(wind.view()),
                thickness: Some(f.thickness.view()),
                vorticity_s: None,
            };
            let nodes = detect_series(&grid, fields, &spec).unwrap();
            let paths = stitch(&hours, &nodes, &stitch_spec).unwrap();
            let first = tracks.len() + 1;
            tracks.extend(build_tracks(m as i32, &times, &nodes, &paths, first));
        }
        tracks
    }

    fn check(step_hours: f64) {
        let cfg = StormConfig::demo(step_hours, 20).unwrap();
        let times = cfg.times().unwrap();
        let tracks = run(&cfg);
        let truth = cfg.truth();
        // one track per planted storm, none elsewhere (member 3 has no storm)
        assert_eq!(tracks.len(), cfg.storms.len(), "{tracks:#?}");
        for (k, storm) in cfg.storms.iter().enumerate() {
            let pts: Vec<_> = truth.iter().filter(|p| p.storm == k).collect();
            // the track of this storm: same member, at its genesis point
            let tr = tracks
                .iter()
                .find(|t| {
                    t.member == storm.member as i32
                        && t.points.iter().any(|p| {
                            p.time == times[pts[0].step]
                                && crate::grid::great_circle(
                                    p.node.lat, p.node.lon, pts[0].lat, pts[0].lon,
                                )
                                .to_degrees()
                                    < 1.0
                        })
                })
                .unwrap_or_else(|| panic!("storm {k} not found"));
            assert_eq!(tr.points.len(), pts.len(), "storm {k}: every step found");
            for (p, want) in tr.points.iter().zip(&pts) {
                assert_eq!(p.time, times[want.step]);
                let err = crate::grid::great_circle(p.node.lat, p.node.lon, want.lat, want.lon)
                    .to_degrees();
                assert!(
                    err < 1.0,
                    "storm {k} step {}: error {err:.2}° ≥ 1 grid length",
                    want.step
                );
            }
            assert!(tr.max_wind_ms() >= 10.0);
        }
    }

    #[test]
    fn every_planted_storm_daily() {
        check(24.0);
    }

    #[test]
    fn every_planted_storm_six_hourly() {
        check(6.0);
    }
}
