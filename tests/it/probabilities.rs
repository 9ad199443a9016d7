//! `s2s verify --forecast-probabilities`: category probabilities as centres publish them (a
//! category dimension with percentages, IRI style; one variable per category; s2s's own
//! `mme_hindcast.<var>.nc`) verified as they are.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// 12 yearly January starts (360-day calendar, IRI `S`/`L`), 2 × 3 cells.
const YEARS: usize = 12;

/// Monthly observations from January 2000 (360-day), 12 years.
fn observations(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("obs.nc");
    plain_obs(&p, "pr", "mm/day", YEARS * 12, |t, y, x| {
        1.0 + ((t * 7 + y * 3 + x * 5) % 13) as f32
    });
    p
}

/// A probability file: `prob(C, S, L, Y, X)` in percent with `C` the category, or three
/// variables `prob_below` / `prob_normal` / `prob_above` in 0–1; `p(s, c)` gives the
/// probability of category `c` at start `s` (the same everywhere).
fn probability_file(path: &Path, per_category: bool, p: impl Fn(usize, usize) -> f64) {
    let mut nc = create(path);
    coord(
        &mut nc,
        "S",
        &(0..YEARS).map(|s| (12 * s) as f64).collect::<Vec<_>>(),
        &[
            ("units", A::T("months since 2000-01-01")),
            ("calendar", A::T("360_day")),
        ],
    );
    coord(&mut nc, "L", &[0.5], &[("units", A::T("months"))]);
    coord(
        &mut nc,
        "Y",
        &[10.0, 20.0],
        &[("units", A::T("degrees_north"))],
    );
    coord(
        &mut nc,
        "X",
        &[70.0, 80.0, 90.0],
        &[("units", A::T("degrees_east"))],
    );
    let cells = 6;
    if per_category {
        for (c, name) in ["prob_below", "prob_normal", "prob_above"]
            .iter()
            .enumerate()
        {
            let v: Vec<f32> = (0..YEARS * cells).map(|i| p(i / cells, c) as f32).collect();
            data_f32(
                &mut nc,
                name,
                &["S", "L", "Y", "X"],
                &v,
                &[("units", A::T("1"))],
            );
        }
    } else {
        nc.add_dimension("C", 3).unwrap();
        let v: Vec<f32> = (0..3 * YEARS * cells)
            .map(|i| (100.0 * p(i / cells % YEARS, i / (YEARS * cells))) as f32)
            .collect();
        data_f32(
            &mut nc,
            "prob",
            &["C", "S", "L", "Y", "X"],
            &v,
            &[("units", A::T("percent"))],
        );
    }
}

/// Verifies `file` against `obs` over the whole map; the summary's RPSS and Brier scores.
fn scores(file: &Path, obs: &Path, out: &Path) -> (f64, Vec<f64>) {
    let o = s2s(&[
        "verify",
        "--forecast-probabilities",
        file.to_str().unwrap(),
        "--obs",
        obs.to_str().unwrap(),
        "--regions",
        "all=0,180,-90,90",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("skill_summary.probability.json")).unwrap(),
    )
    .unwrap();
    let lead = &j["regions"][0]["models"][0]["leads"][0];
    assert_eq!(j["regions"][0]["models"][0]["kind"], "probabilities");
    let brier = lead["brier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    (lead["rpss"].as_f64().unwrap(), brier)
}

#[test]
fn climatological_probabilities_score_zero_in_either_layout() {
    let dir = tempfile::tempdir().unwrap();
    let obs = observations(dir.path());
    let clim = |_: usize, _: usize| 1.0 / 3.0;
    let (a, b) = (dir.path().join("c_dim.nc"), dir.path().join("per_cat.nc"));
    probability_file(&a, false, clim);
    probability_file(&b, true, clim);
    let (ra, ba) = scores(&a, &obs, &dir.path().join("va"));
    let (rb, bb) = scores(&b, &obs, &dir.path().join("vb"));
    // The reference of the RPSS is the climatological 1/3 each: no skill, exactly.
    assert!(ra.abs() < 1e-6, "{ra}");
    // The same numbers from percentages on a C axis and fractions per variable (f32 rounding).
    assert!((ra - rb).abs() < 1e-6 && ba.iter().zip(&bb).all(|(x, y)| (x - y).abs() < 1e-6));
}

#[test]
fn a_confident_wrong_forecast_scores_below_climatology_and_bad_sums_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let obs = observations(dir.path());
    // Every year 90 % on the category of alternating years: wrong about as often as right,
    // and overconfident.
    let f = dir.path().join("bold.nc");
    probability_file(&f, true, |s, c| match (s % 2, c) {
        (0, 0) | (1, 2) => 0.9,
        _ => 0.05,
    });
    let (r, _) = scores(&f, &obs, &dir.path().join("v"));
    assert!(r < -0.2, "{r}");
    // Probabilities that do not sum to one: a clear error naming the file and variable.
    let bad = dir.path().join("bad.nc");
    probability_file(&bad, false, |_, c| if c == 1 { 0.2 } else { 0.3 });
    let o = s2s(&[
        "verify",
        "--forecast-probabilities",
        bad.to_str().unwrap(),
        "--obs",
        obs.to_str().unwrap(),
        "--out",
        dir.path().join("vbad").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("bad.nc") && err.contains("'prob'") && err.contains("summing to 0.800"),
        "{err}"
    );
}

#[test]
fn the_combined_hindcast_file_scores_as_the_mme_verify_computes() {
    // `s2s combine` (calibrated, the default with observations, or PCR) writes the
    // cross-validated MME hindcast; verified as given it must score exactly as verify's own MME
    // of the same method.
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let h = synth_files(dir.path(), "hindcast");
    let obs = dir.path().join("obs.nc");
    for method in ["calibrated", "pcr"] {
        let out = dir.path().join(format!("mme_{method}"));
        let o = s2s(&[
            "combine",
            "-q",
            "--var",
            "pr",
            "--weights",
            method,
            "--hindcast",
            &h,
            "--obs",
            obs.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let file = out.join("mme_hindcast.pr.nc");
        let v = dir.path().join(format!("v_{method}"));
        let o = s2s(&[
            "verify",
            "--var",
            "pr",
            "--probabilities",
            method,
            "--hindcast",
            &h,
            "--forecast-probabilities",
            file.to_str().unwrap(),
            "--obs",
            obs.to_str().unwrap(),
            "--regions",
            "south_asia",
            "--out",
            v.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let j: Value = serde_json::from_str(
            &std::fs::read_to_string(v.join("skill_summary.pr.json")).unwrap(),
        )
        .unwrap();
        let models = j["regions"][0]["models"].as_array().unwrap();
        let by_kind = |k: &str| models.iter().find(|m| m["kind"] == k).unwrap()["leads"].clone();
        let (mme, given) = (by_kind("mme"), by_kind("probabilities"));
        assert_eq!(
            mme.as_array().unwrap().len(),
            given.as_array().unwrap().len()
        );
        for (a, b) in mme
            .as_array()
            .unwrap()
            .iter()
            .zip(given.as_array().unwrap())
        {
            let (ra, rb) = (a["rpss"].as_f64().unwrap(), b["rpss"].as_f64().unwrap());
            assert!(
                (ra - rb).abs() < 1e-6,
                "{method} {}: {ra} vs {rb}",
                a["lead"]
            );
            assert!(ra.is_finite(), "{method}");
            assert_eq!(a["reliability_slope"], b["reliability_slope"]);
        }
    }
}
