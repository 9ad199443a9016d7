//! `s2s outlook` on the bundled demo configuration (four real NMME models, IMD rainfall): the
//! bulletin, its JSON, the CF-NetCDF forecast and the map are written and consistent.

use std::path::Path;

use crate::common::{s2s, stderr};

#[test]
fn demo_configuration_produces_a_bulletin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/outlook.toml");
    let o = s2s(&[
        "outlook",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(dir.path().join("bulletin.md")).unwrap();
    assert!(
        md.contains("## Key messages") && md.contains("map_prec_lead0.png"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bulletin.json")).unwrap())
            .unwrap();
    for r in json["regions"].as_array().unwrap() {
        let p: f64 = r["mean_probability"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-4, "{r}");
        assert!(r["cells"].as_u64().unwrap() > 400);
    }
    let png = std::fs::read(dir.path().join("map_prec_lead0.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let nc = netcdf::open(dir.path().join("mme_forecast.prec.nc")).unwrap();
    assert!(nc.variable("probability").is_some() && nc.variable("dominant_category").is_some());
    assert!(dir.path().join("provenance.json").exists());
}

#[test]
fn a_bad_configuration_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "variable = \"pr\"\nweights = \"magic\"\nmodels = []\n[observations]\npath = \"o.nc\"\n",
    )
    .unwrap();
    let o = s2s(&["outlook", "--config", cfg.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("weights"), "{}", stderr(&o));
}
