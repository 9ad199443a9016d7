//! `s2s outlook` on the bundled demo configuration (four real NMME models, IMD rainfall): the
//! bulletin, its JSON, the CF-NetCDF forecast and the map are written and consistent.

use std::path::Path;

use crate::common::{s2s, stderr};

/// Runs `s2s outlook -q --config CFG --out OUT`, checks it succeeded, returns the bulletin's
/// Markdown.
fn run_outlook(cfg: &Path, out: &Path) -> String {
    let o = s2s(&[
        "outlook",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out.join("bulletin.md")).unwrap()
}

#[test]
fn demo_configuration_produces_a_bulletin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/outlook.toml");
    let md = run_outlook(&cfg, dir.path());
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
    let html = std::fs::read_to_string(dir.path().join("bulletin.html")).unwrap();
    assert!(html.contains("<h2>Key messages</h2>") && html.contains("data:image/png;base64,"));
    let nc = netcdf::open(dir.path().join("mme_forecast.prec.nc")).unwrap();
    assert!(nc.variable("probability").is_some() && nc.variable("dominant_category").is_some());
    // Period totals: OND in the files' 360-day calendar is 90 days of the mean rate.
    let mean: Vec<f32> = nc
        .variable("ensemble_mean")
        .unwrap()
        .get_values(..)
        .unwrap();
    let total: Vec<f32> = nc.variable("period_total").unwrap().get_values(..).unwrap();
    let ratios: Vec<f32> = mean
        .iter()
        .zip(&total)
        .filter(|(m, t)| m.is_finite() && t.is_finite() && **m > 0.1 && **m < 1e10)
        .map(|(m, t)| t / m)
        .collect();
    assert!(
        !ratios.is_empty() && ratios.iter().all(|r| (r - 90.0).abs() < 1e-3),
        "{:?}",
        &ratios[..ratios.len().min(10)]
    );
    // One bulletin per region in out/<region>/, with its own maps and only its numbers.
    for region in ["india", "south_asia"] {
        let d = dir.path().join(region);
        let rj: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("bulletin.json")).unwrap())
                .unwrap();
        let own = rj["regions"].as_array().unwrap();
        assert!(
            !own.is_empty() && own.iter().all(|o| o["region"] == region),
            "{rj}"
        );
        let png = std::fs::read(d.join("map_prec_lead0.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let html = std::fs::read_to_string(d.join("bulletin.html")).unwrap();
        assert!(html.contains("data:image/png;base64,") && !html.contains("src=\"map_"));
    }
    // Country table: probabilities per country sum to 1; India is there with most cells.
    let countries = json["countries"].as_array().unwrap();
    for c in countries {
        let p: f64 = c["mean_probability"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-4, "{c}");
    }
    let india = countries.iter().find(|c| c["iso_a3"] == "IND").unwrap();
    assert!(india["cells"].as_u64().unwrap() > 200);
    assert!(md.contains("## Country table") && md.contains("| India |"));
    assert!(md.contains("## Methods") && md.contains("| CFSv2 | 1 | 1982–2019 |"));
    assert_eq!(json["methods"]["models"].as_array().unwrap().len(), 4);
    // Provenance: every input with its size and SHA-256.
    let prov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("provenance.json")).unwrap())
            .unwrap();
    let inputs = prov["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 4 * 2 + 2, "models, observations, countries");
    for i in inputs {
        assert_eq!(i["sha256"].as_str().unwrap().len(), 64);
        assert!(i["bytes"].as_u64().unwrap() > 0);
    }

    // Drought outlook: the seven SPI-class probabilities sum to 1 where defined, cumulative
    // drought probabilities shrink with severity, and the bulletin says it in words.
    assert!(
        md.contains("## Drought outlook") && md.contains("map_spi_lead0.png"),
        "{md}"
    );
    let spi = netcdf::open(dir.path().join("spi_forecast.prec.nc")).unwrap();
    let probs: Vec<f32> = spi
        .variable("spi_class_probability")
        .unwrap()
        .get_values(..)
        .unwrap();
    let n = probs.len() / 7;
    let mut defined = 0;
    for k in 0..n {
        let cell: Vec<f32> = (0..7).map(|c| probs[c * n + k]).collect();
        if cell[0] < 1e19 {
            let sum: f32 = cell.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{cell:?}");
            defined += 1;
        }
    }
    assert!(defined > 400, "{defined} cells with an outlook");
    let dry: Vec<f32> = spi
        .variable("drought_probability")
        .unwrap()
        .get_values(..)
        .unwrap();
    let m = dry.len() / 3;
    for k in (0..m).filter(|&k| dry[k] < 1e19) {
        assert!(dry[k] >= dry[m + k] && dry[m + k] >= dry[2 * m + k]);
    }
    for d in json["drought"].as_array().unwrap() {
        let p = d["drought_probability"][0].as_f64().unwrap();
        assert!(p > 0.05 && p < 0.5, "{d}");
    }
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

/// The demo configuration with a `[cyclones]` section over synthetic storm fields (hindcast
/// Septembers 2018–2019, forecast 2020): the bulletin gains the cyclone outlook.
#[test]
fn cyclones_section_adds_the_cyclone_outlook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    let mut files = Vec::new();
    for y in [2018, 2019, 2020] {
        let sub = d.join(format!("s{y}"));
        let o = s2s(&[
            "synth",
            "-q",
            "--storms",
            "--step-hours",
            "24",
            "--days",
            "30",
            "--start",
            &format!("{y}-09-01"),
            "--out",
            sub.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        files.push(sub.join("storms.nc").to_str().unwrap().to_string());
    }
    // the demo configuration, moved: paths made absolute
    let text = std::fs::read_to_string(demo.join("outlook.toml"))
        .unwrap()
        .replace("\"../", &format!("\"{}/../", demo.display()));
    let cfg = d.join("with_cyclones.toml");
    std::fs::write(
        &cfg,
        format!(
            "{text}\n[cyclones]\nforecast = [\"{}\"]\nhindcast = [\"{}\", \"{}\"]\nseason = \"9-9\"\nbasins = [\"bob\", \"arb\"]\n",
            files[2], files[0], files[1]
        ),
    )
    .unwrap();
    let out = d.join("bulletin");
    let md = run_outlook(&cfg, &out);
    assert!(md.contains("## Tropical cyclone outlook, Sep"), "{md}");
    assert!(md.contains("| Bay of Bengal | 0.5 |"), "{md}");
    assert!(out.join("map_tracks.png").exists() && out.join("track_density.nc").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    assert_eq!(json["cyclones"]["basins"][0]["basin"], "bob");
    assert_eq!(json["cyclones"]["hindcast_member_seasons"], 8);
}

/// The small synthetic workload (three models with members, monthly leads, a monthly observed
/// record): EQM, model-equal weights, target periods, and the drought outlook from each
/// member's SPI-3 over the observed months before the start, with the drought tendency.
#[test]
fn synthetic_members_periods_and_monthly_history_spi() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::synth_small(d);
    let models: String = ["ALPHA", "BRAVO", "CHARLIE"]
        .iter()
        .map(|m| {
            format!("[[models]]\nname = \"{m}\"\nhindcast = \"hindcast_{m}.nc\"\nforecast = \"forecast_{m}.nc\"\n\n")
        })
        .collect();
    let cfg = d.join("outlook.toml");
    std::fs::write(
        &cfg,
        format!(
            "title = \"test\"\nvariable = \"pr\"\nbias = \"eqm\"\nweights = \"model\"\nperiods = [\"month 1\", \"months 2-3\"]\nregions = [\"south_asia\", \"all=60,100,0,40\"]\n\n{models}[observations]\npath = \"obs.nc\"\nvariable = \"pr\"\n"
        ),
    )
    .unwrap();
    let out = d.join("bulletin");
    let md = run_outlook(&cfg, &out);
    assert!(
        md.contains("rainfall is favoured") || md.contains("no rainfall category"),
        "{md}"
    );
    assert!(md.contains("months 2–3"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    assert_eq!(json["regions"].as_array().unwrap().len(), 2 * 2);
    // The member SPI-3 path needs single-month leads: with a 2-month period the
    // target-period SPI is used.
    assert!(md.contains("SPI at the scale of the target period"), "{md}");

    // Single-month leads: the monthly-history path and the tendency.
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("periods = [\"month 1\", \"months 2-3\"]\n", ""),
    )
    .unwrap();
    let md = run_outlook(&cfg, &out);
    assert!(md.contains("SPI-3 of each member"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    let d0 = &json["drought"][0];
    // Area shares of: no drought now, ends, persists, deepens.
    let shares: f64 = d0["tendency_share"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-6, "{d0}");
    let nc = netcdf::open(out.join("spi_forecast.pr.nc")).unwrap();
    assert!(nc.variable("drought_probability").is_some());
}
