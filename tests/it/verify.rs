//! `s2s verify` on the real NMME monsoon hindcasts against IMD rainfall: grid-point ACC over the
//! 38 years, cos-lat mean over the cells with observations, compared with the values in the
//! data's SOURCE.md (a plain numpy calculation); and the whole set of outputs on a synthetic
//! workload: country regions, bootstrap intervals and flags, diagram PNGs, score selection.

use crate::common::{real, s2s, stderr, synth_files, synth_small};

#[test]
fn nmme_monsoon_acc_matches_the_published_values() {
    let dir = tempfile::tempdir().unwrap();
    let models = ["CANSIPSV2", "CCSM4", "NASAGEOSS2S", "NCEPCFSV2"];
    let list = models
        .iter()
        .map(|m| {
            real(&format!("nmme_india/{m}_HCST.nc"))
                .to_string_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join(",");
    let o = s2s(&[
        "verify",
        "-q",
        "--probabilities",
        "pmme",
        "--hindcast",
        &list,
        "--obs",
        real("nmme_india/observations.nc").to_str().unwrap(),
        "--obs-units",
        "mm/month",
        "--regions",
        "domain=0,180,-90,90",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("skill_summary.prec.json")).unwrap(),
    )
    .unwrap();
    let published = [0.085, 0.077, 0.051, 0.099];
    let region = &json["regions"][0];
    for (k, want) in published.iter().enumerate() {
        let acc = region["models"][k]["leads"][0]["acc"].as_f64().unwrap();
        // numpy used the 581 cells with all 38 years; we also score the 8 cells with gaps.
        assert!((acc - want).abs() < 0.003, "model {k}: {acc} vs {want}");
    }
    assert_eq!(region["models"][4]["model"], "MME");
    let f = crate::common::nc_open(dir.path().join("skill.prec.nc")).unwrap();
    for v in [
        "acc", "rmse", "bias", "msss", "rps", "rpss", "crps", "crpss", "brier", "roc_area",
    ] {
        assert!(crate::common::nd_values(&f, v).is_some(), "no {v}");
    }
    // CDO layout: one map per model (five systems with the MME).
    let (shape, _) = crate::common::nd_values(&f, "acc").unwrap();
    assert_eq!(shape[0], 5);
    assert!(f.variable("acc_MME").is_some() && f.variable("brier_MME_below").is_some());
}

#[test]
fn synthetic_workload_every_output() {
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let hindcasts = synth_files(wl.path(), "hindcast");
    let obs = wl.path().join("obs.nc");
    // `s2s verify` of the workload's precipitation with `extra` options, into `out`
    let verify = |extra: &[&str], out: &std::path::Path| {
        let mut a = vec![
            "verify",
            "--hindcast",
            &hindcasts,
            "--obs",
            obs.to_str().unwrap(),
            "--var",
            "pr",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        s2s(&a)
    };
    let out = tempfile::tempdir().unwrap();
    let o = verify(
        &[
            "--regions",
            "south_asia;India;box=70,90,10,30",
            "--bootstrap",
            "200",
            "--rpss-debiased",
        ],
        out.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(crate::common::stdout(&o).contains("MME − best model"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("skill_summary.pr.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["bootstrap"]["resamples"], 200);
    let regions = json["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 3);
    assert_eq!(regions[1]["region"], "india");
    assert_eq!(regions[1]["countries"][0], "India");
    // The country region has fewer cells than the box that holds it.
    let cells = |r: usize| regions[r]["cells"].as_u64().unwrap();
    assert!(cells(1) > 0 && cells(1) < cells(0));
    let mme = &regions[2]["models"][3];
    assert_eq!(mme["model"], "MME");
    let lead = &mme["leads"][0];
    let (lo, hi) = (
        lead["rpss_interval"]["lower"].as_f64().unwrap(),
        lead["rpss_interval"]["upper"].as_f64().unwrap(),
    );
    let rpss = lead["rpss"].as_f64().unwrap();
    assert!(lo <= rpss && rpss <= hi, "{lo} {rpss} {hi}");
    let years = json["start_years"].as_array().unwrap().len();
    assert_eq!(lead["pattern_acc"].as_array().unwrap().len(), years);
    assert_eq!(lead["reliability"][0].as_array().unwrap().len(), 10);
    let ranks: u64 = lead["rank_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(ranks > 0);
    assert!(!regions[2]["mme_against_best_model"]
        .as_array()
        .unwrap()
        .is_empty());
    let f = crate::common::nc_open(out.path().join("skill.pr.nc")).unwrap();
    for v in [
        "acc_lower",
        "acc_upper",
        "rpss_lower",
        "rpss_upper",
        "acc_significant",
        "rpss_significant",
    ] {
        assert!(crate::common::nd_values(&f, v).is_some(), "no {v}");
    }
    let flags = crate::common::nd_values(&f, "rpss_significant").unwrap().1;
    assert!(flags.iter().all(|&v| (-1.0..=1.0).contains(&v)));
    let pngs: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .collect();
    let leads = mme["leads"].as_array().unwrap().len();
    assert_eq!(pngs.len(), 3 * leads);

    // Only some scores: no diagrams, no bootstrap, fewer variables.
    let out2 = tempfile::tempdir().unwrap();
    let o = verify(
        &["-q", "--scores", "acc,rmse", "--bootstrap", "0"],
        out2.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let f = crate::common::nc_open(out2.path().join("skill.pr.nc")).unwrap();
    let has = |v: &str| crate::common::nd_values(&f, v).is_some();
    assert!(has("acc") && !has("rpss"));
    assert!(!has("acc_lower"));
    assert!(!std::fs::read_dir(out2.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".png")));

    // Bad requests are refused with the reason.
    for (args, why) in [
        (vec!["--scores", "acc,skill"], "unknown score 'skill'"),
        (vec!["--regions", "x=Atlantis"], "no country 'Atlantis'"),
        (vec!["--confidence", "1.5"], "confidence 1.5"),
        (
            vec!["--probabilities", "pmme", "--rpss-debiased"],
            "--rpss-debiased applies",
        ),
    ] {
        let mut a = vec!["-q"];
        a.extend(args);
        let o = verify(&a, out2.path());
        assert!(!o.status.success());
        assert!(stderr(&o).contains(why), "{why}: {}", stderr(&o));
    }
}
