//! `s2s combine` on generated files (three models in three file conventions) and on the real
//! NMME monsoon ensemble means: outputs reopen with a `category` dimension, probabilities in
//! [0, 1] summing to 1, and bad input fails with a clear message.

use std::path::Path;

use crate::common::{nd_values, real, s2s, stderr, synth_files as files, synth_small as synth};

fn values(f: &netcdf::File, name: &str) -> (Vec<usize>, Vec<f32>) {
    nd_values(f, name).unwrap_or_else(|| panic!("no variable {name}"))
}

/// Probabilities `(init, category, lead, y, x)` sum to 1 wherever they are defined.
fn check_probabilities(path: &Path) -> usize {
    let f = crate::common::nc_open(path).unwrap();
    let (shape, p) = values(&f, "probability");
    assert_eq!(shape[1], 3, "three categories");
    // The default (CDO) layout: one variable per category.
    assert!(f.dimension("category").is_none());
    let units = f
        .variable("probability_below")
        .unwrap()
        .attribute_value("units");
    assert!(matches!(units, Some(Ok(netcdf::AttributeValue::Str(ref u))) if u == "1"));
    let (ni, nc, rest) = (shape[0], shape[1], shape[2..].iter().product::<usize>());
    let mut defined = 0;
    for i in 0..ni {
        for c in 0..rest {
            let s: Vec<f32> = (0..nc).map(|k| p[(i * nc + k) * rest + c]).collect();
            if s.iter().all(|&x| x < 1e19) {
                assert!(s.iter().all(|&x| (0.0..=1.0 + 1e-6).contains(&x)), "{s:?}");
                let sum: f32 = s.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "sum {sum}");
                defined += 1;
            }
        }
    }
    defined
}

#[test]
fn three_conventions_every_weighting() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let (h, f) = (files(&wl, "hindcast"), files(&wl, "forecast"));
    let obs = wl.join("obs.nc");
    for weights in ["pooled", "model", "skill", "pmme"] {
        let out = dir.path().join(weights);
        let o = s2s(&[
            "combine",
            "-q",
            "--weights",
            weights,
            "--var",
            "pr",
            "--hindcast",
            &h,
            "--forecast",
            &f,
            "--obs",
            obs.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{weights}: {}", stderr(&o));
        let fc = out.join("mme_forecast.pr.nc");
        let hc = out.join("mme_hindcast.pr.nc");
        assert!(check_probabilities(&fc) > 100, "{weights}");
        assert!(check_probabilities(&hc) > 1000, "{weights}");
        let file = crate::common::nc_open(&fc).unwrap();
        for v in [
            "ensemble_mean",
            "anomaly",
            "percent_of_normal",
            "ensemble_percentile",
            "most_likely_category",
            "dominant_category",
            "model_weight",
            "category_edge",
            "extreme_probability",
        ] {
            assert!(nd_values(&file, v).is_some(), "{weights}: no {v}");
        }
        // Weights sum to 1 over the models.
        let (shape, w) = values(&file, "model_weight");
        let (nm, rest) = (shape[1], shape[2..].iter().product::<usize>());
        for c in 0..rest {
            let s: f32 = (0..nm).map(|m| w[m * rest + c]).sum();
            assert!((s - 1.0).abs() < 1e-5, "{weights}: weights sum {s}");
        }
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let (h, f) = (files(&wl, "hindcast"), files(&wl, "forecast"));
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "combine",
            "-q",
            "--var",
            "pr",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        s2s(&args)
    };
    let o = run(&["--weights", "pmme", "--hindcast", &h, "--forecast", &f]);
    assert!(
        !o.status.success() && stderr(&o).contains("need --obs"),
        "{}",
        stderr(&o)
    );
    let one = wl.join("forecast_ALPHA.nc");
    let o = run(&["--hindcast", &h, "--forecast", one.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("one forecast per model"));
    // A model on another grid.
    let coarse = dir.path().join("coarse.nc");
    let r = s2s(&[
        "regrid",
        "-q",
        "--method",
        "bilinear",
        "--grid",
        "4",
        "--bbox",
        "60,100,0,36",
        wl.join("hindcast_CHARLIE.nc").to_str().unwrap(),
        coarse.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let mixed = format!(
        "{},{}",
        wl.join("hindcast_ALPHA.nc").display(),
        coarse.display()
    );
    let o = run(&["--hindcast", &mixed]);
    assert!(
        !o.status.success() && stderr(&o).contains("regrid first"),
        "{}",
        stderr(&o)
    );
    assert!(
        !out.join("mme_hindcast.pr.nc").exists(),
        "no half-written output"
    );
}

/// The real NMME monsoon set: four models' ensemble means, PMME against IMD rainfall.
#[test]
fn nmme_monsoon_pmme() {
    let dir = tempfile::tempdir().unwrap();
    let models = ["CANSIPSV2", "CCSM4", "NASAGEOSS2S", "NCEPCFSV2"];
    let list = |suffix: &str| {
        models
            .iter()
            .map(|m| {
                real(&format!("nmme_india/{m}_{suffix}.nc"))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let o = s2s(&[
        "combine",
        "-q",
        "--weights",
        "pmme",
        "--hindcast",
        &list("HCST"),
        "--forecast",
        &list("FCST"),
        "--obs",
        real("nmme_india/observations.nc").to_str().unwrap(),
        "--obs-units",
        "mm/month",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Probabilities where IMD has observations (India), none over the sea.
    let n = check_probabilities(&dir.path().join("mme_forecast.prec.nc"));
    assert!((500..=700).contains(&n), "{n} cells with probabilities");
    let n = check_probabilities(&dir.path().join("mme_hindcast.prec.nc"));
    assert!(n > 38 * 500, "{n}");
}
