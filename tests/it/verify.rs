//! `s2s verify` on the real NMME monsoon hindcasts against IMD rainfall: grid-point ACC over the
//! 38 years, cos-lat mean over the cells with observations, compared with the values in the
//! data's SOURCE.md (a plain numpy calculation).

use crate::common::{real, s2s, stderr};

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
    let region = &json[0];
    for (k, want) in published.iter().enumerate() {
        let acc = region["models"][k]["leads"][0]["acc"].as_f64().unwrap();
        // numpy used the 581 cells with all 38 years; we also score the 8 cells with gaps.
        assert!((acc - want).abs() < 0.003, "model {k}: {acc} vs {want}");
    }
    assert_eq!(region["models"][4]["model"], "MME");
    let f = netcdf::open(dir.path().join("skill.prec.nc")).unwrap();
    for v in [
        "acc", "rmse", "bias", "msss", "rps", "rpss", "crps", "crpss", "brier", "roc_area",
    ] {
        assert!(f.variable(v).is_some(), "no {v}");
    }
    assert_eq!(f.dimension("model").unwrap().len(), 5);
}
