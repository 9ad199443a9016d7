//! The outlook job ([`s2s_ensemble::pipeline::outlook`], called as a library) on the bundled
//! demo configuration (four real NMME models, IMD rainfall) and on synthetic workloads: the
//! bulletin, its JSON, the CF-NetCDF forecast and the maps are written and consistent. The
//! binary's `s2s outlook` keeps a smoke test of its own (the demo, and a bad configuration).

use std::path::Path;

use s2s_ensemble::pipeline::outlook::{outlook as outlook_job, OutlookPlan, OutlookReport};
use s2s_ensemble::pipeline::{Par, RunOptions};
use s2s_ensemble::progress::NoProgress;

use crate::common::{s2s, stderr};

/// Runs the outlook job on the configuration `cfg` with outputs in `out`.
fn outlook(cfg: &Path, out: &Path) -> s2s_ensemble::Result<OutlookReport> {
    let plan = OutlookPlan::from_file(cfg, Some(out.to_path_buf()), RunOptions::default())?;
    outlook_job(&plan, &NoProgress)
}

/// [`outlook`], checked to succeed; returns the bulletin's Markdown.
fn run_outlook(cfg: &Path, out: &Path) -> String {
    let report = outlook(cfg, out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.bulletin[0], out.join("bulletin.md"));
    std::fs::read_to_string(out.join("bulletin.md")).unwrap()
}

/// The outlook on one thread and on a pool of two gives the same files (every kernel reduces
/// in a fixed order), and neither touches the global pool.
#[test]
fn outlook_is_the_same_on_one_thread_and_on_two() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/outlook.toml");
    let mut files = Vec::new();
    for (par, sub) in [(Par::Seq, "seq"), (Par::Rayon(2), "two")] {
        let out = dir.path().join(sub);
        let plan = OutlookPlan::from_file(&cfg, Some(out.clone()), RunOptions::default()).unwrap();
        par.install(|| outlook_job(&plan, &NoProgress)).unwrap();
        files.push(out);
    }
    // the bulletin says when it was produced (to the minute): that line aside
    let without_time = |b: Vec<u8>| -> Vec<u8> {
        String::from_utf8_lossy(&b)
            .lines()
            .filter(|l| !l.starts_with("Produced ") && !l.contains("\"produced\""))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    };
    for name in ["bulletin.md", "bulletin.json", "map_prec_lead0.png"] {
        let a = std::fs::read(files[0].join(name)).unwrap();
        let b = std::fs::read(files[1].join(name)).unwrap();
        let (a, b) = if name.ends_with(".png") {
            (a, b)
        } else {
            (without_time(a), without_time(b))
        };
        assert!(a == b, "{name} differs between one thread and two");
    }
    let nc = |d: &Path| {
        let f = crate::common::nc_open(d.join("mme_forecast.prec.nc")).unwrap();
        crate::common::nd_values(&f, "probability").unwrap().1
    };
    assert_eq!(nc(&files[0]), nc(&files[1]));
}

/// The binary: `s2s outlook -q --config data/demo/outlook.toml --out DIR` writes the bulletin
/// the job writes, and prints nothing with `-q`.
#[test]
fn s2s_outlook_runs_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/outlook.toml");
    // the run's stamp (SOURCE_DATE_EPOCH = 2023-11-14T22:13:20Z) dates the bulletin, not the
    // clock: a rerun or a distributed run writes the same bytes
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(["outlook", "-q", "--config", cfg.to_str().unwrap(), "--out"])
        .arg(dir.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let md = std::fs::read_to_string(dir.path().join("bulletin.md")).unwrap();
    assert!(md.contains("## Headlines"), "{md}");
    assert!(md.contains("2023-11-14 22:13 UTC"), "{md}");
    assert!(dir.path().join("mme_forecast.prec.nc").exists());
}

/// The `mean_probability` of a JSON summary (region or country): each in [0, 1], summing to 1.
fn assert_distribution(summary: &serde_json::Value) {
    let p: Vec<f64> = summary["mean_probability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(p.iter().all(|x| (0.0..=1.0).contains(x)), "{summary}");
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{summary}");
}

/// Four ensemble means counted as an ensemble (skill or model weights) would print confident
/// probabilities from four values: the outlook refuses and names the calibrated method. The
/// demo's bulletin states the reliability of its calibrated probabilities.
#[test]
fn counted_probabilities_from_ensemble_means_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::common::moved_demo_config();
    for weights in ["skill", "model", "pooled"] {
        let cfg = dir.path().join(format!("{weights}.toml"));
        std::fs::write(
            &cfg,
            text.replace(
                "weights = \"calibrated\"",
                &format!("weights = \"{weights}\""),
            ),
        )
        .unwrap();
        let err = outlook(&cfg, &dir.path().join(weights))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("one member per start") && err.contains("weights = \"calibrated\""),
            "{err}"
        );
        assert!(!dir.path().join(weights).join("bulletin.md").exists());
    }
}

#[test]
fn demo_configuration_produces_a_bulletin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/outlook.toml");
    let md = run_outlook(&cfg, dir.path());
    assert!(
        md.contains("## Headlines") && md.contains("map_prec_lead0.png"),
        "{md}"
    );
    // the title as configured, the dates, at most five headlines
    assert!(md.starts_with("# s2s-ensemble demo (NMME, South Asia)\n\n**Rainfall outlook**\n"));
    assert!(md.contains("- Forecast initialised: 2021-09-01\n"), "{md}");
    assert!(
        md.contains("- Valid for: months 2–4: Oct–Dec 2021\n"),
        "{md}"
    );
    assert!(md.contains("- Issued: ") && md.contains("- Next update: "));
    let headlines = md
        .split("## Headlines\n\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("- "))
        .count();
    assert!((1..=5).contains(&headlines), "{headlines}");
    check_pdf(
        &dir.path().join("bulletin.pdf"),
        &["Headlines", "Oct–Dec 2021"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bulletin.json")).unwrap())
            .unwrap();
    for r in json["regions"].as_array().unwrap() {
        assert_distribution(r);
        assert!(r["cells"].as_u64().unwrap() > 400);
    }
    // tercile, percent-of-normal, two extremes and drought maps, each decoding completely;
    // the regions have their POE curve and plume too
    assert_eq!(decode_pngs(dir.path()), 5);
    assert_eq!(decode_pngs(&dir.path().join("south_asia")), 7);
    assert!(dir.path().join("india/poe_prec_lead0.png").is_file());
    assert!(dir.path().join("india/plume_prec_lead0.png").is_file());
    check_html(&dir.path().join("bulletin.html"));
    check_html(&dir.path().join("india/bulletin.html"));
    let html = std::fs::read_to_string(dir.path().join("bulletin.html")).unwrap();
    assert!(html.contains("<h2>Headlines</h2>") && html.contains("data:image/png;base64,"));
    assert!(html.contains("<meta name=\"viewport\""));
    let nc = crate::common::nc_open(dir.path().join("mme_forecast.prec.nc")).unwrap();
    assert!(
        nc.variable("probability_below").is_some() && nc.variable("dominant_category").is_some()
    );
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
        assert_distribution(c);
    }
    let india = countries.iter().find(|c| c["iso_a3"] == "IND").unwrap();
    assert!(india["cells"].as_u64().unwrap() > 200);
    assert!(md.contains("## Country table") && md.contains("| India |"));
    assert!(md.contains("## Methods") && md.contains("| CFSv2 | 1 | 1982–2019 |"));
    assert!(
        md.contains("**Reliability** of the cross-validated hindcast probabilities")
            && md.contains("rainfall, months 2–4: below 0."),
        "{md}"
    );
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
    let spi = crate::common::nc_open(dir.path().join("spi_forecast.prec.nc")).unwrap();
    let probs: Vec<f32> = crate::common::nd_values(&spi, "spi_class_probability")
        .unwrap()
        .1;
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
    let dry: Vec<f32> = crate::common::nd_values(&spi, "drought_probability")
        .unwrap()
        .1;
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
    let text = crate::common::moved_demo_config();
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
    // in Russian: the section from the catalogue, basin names and decimal commas included
    let md = crate::common::russian_bulletin(&cfg, &d.join("bulletin_ru"));
    assert!(md.contains("## Прогноз тропических циклонов, сен"), "{md}");
    assert!(md.contains("| Бенгальский залив | 0,5 |"), "{md}");
    assert!(md.contains("### Главные выводы"), "{md}");
    assert!(md.contains("![Траектории прогноза сен"), "{md}");
    // the words drawn in the track map are Russian: another picture of the same tracks
    crate::common::assert_redrawn(&d.join("bulletin_ru"), &out, "map_tracks.png");
}

/// The demo configuration with two `[[extremes]]` tables on the synthetic daily set
/// (`s2s synth --daily-extremes`): the bulletin gains the heat-wave and heavy-rain sections
/// with their maps, the products go to `extremes/<variable>/`, and the planted events come out
/// exactly.
#[test]
fn extremes_sections_add_the_subseasonal_extremes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let daily = d.join("daily");
    let o = s2s(&[
        "synth",
        "-q",
        "--daily-extremes",
        "--out",
        daily.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = crate::common::moved_demo_config();
    let cfg = d.join("with_extremes.toml");
    let table = |v: &str| {
        format!(
            "\n[[extremes]]\nhindcast = \"daily/{v}_hindcast.nc\"\nforecast = [\"daily/{v}_forecast.nc\"]\nobservations = \"daily/{v}_obs.nc\"\n"
        )
    };
    std::fs::write(&cfg, format!("{text}{}{}", table("tasmax"), table("pr"))).unwrap();
    let out = d.join("bulletin");
    let md = run_outlook(&cfg, &out);
    assert!(
        md.contains("## Extremes outlook: tasmax from 2022-06-01"),
        "{md}"
    );
    assert!(md.contains("| weeks 3–4 | heat wave | 60 % |"), "{md}");
    assert!(
        md.contains("| week 2 | wettest day beyond the 1-in-10 level | 40 % |"),
        "{md}"
    );
    assert!(
        md.contains("](extremes/tasmax/map_extremes_heat_wave_weeks-3-4.png)"),
        "{md}"
    );
    assert!(
        md.contains("Hindcast verification (leave one year out)"),
        "{md}"
    );
    // each variable's products in its own folder: the tercile maps and reports of the two
    // tables do not write over each other
    for f in [
        "tasmax/extremes_forecast.tasmax.nc",
        "pr/extremes_forecast.pr.nc",
        "pr/map_extremes_rx1day_extreme_week-2.png",
        "tasmax/map_terciles_week-2.png",
        "pr/map_terciles_week-2.png",
        "tasmax/extremes_outlook.md",
        "pr/extremes_outlook.md",
    ] {
        assert!(out.join("extremes").join(f).exists(), "{f}");
    }
    assert!(
        md.contains("](extremes/tasmax/map_terciles_week-1.png)"),
        "{md}"
    );
    // the verification's reliability: a slope per event, a diagram per period, the bins in
    // the JSON holding every case
    assert!(
        md.contains("| period | event | cases | observed rate | Brier | BSS | ROC area | reliability slope |"),
        "{md}"
    );
    assert!(
        md.contains("![reliability and ROC, weeks 3–4](extremes/pr/diagram_weeks-3-4.png)"),
        "{md}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("extremes/tasmax/extremes_outlook.json")).unwrap(),
    )
    .unwrap();
    let scores = report["verification"].as_array().unwrap();
    assert_eq!(
        scores.len(),
        9,
        "3 periods × above p90, heat wave, cold wave"
    );
    for v in scores {
        let bins = v["reliability"].as_array().unwrap();
        assert_eq!(bins.len(), 10);
        let counted: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, v["cases"].as_u64().unwrap(), "{v}");
        let area = v["roc"]["area"].as_f64().unwrap();
        assert!((area - v["roc_area"].as_f64().unwrap()).abs() < 1e-9, "{v}");
    }
    for period in ["week-1", "week-2", "weeks-3-4"] {
        assert!(out
            .join(format!("extremes/tasmax/diagram_{period}.png"))
            .exists());
    }
    assert!(
        md.contains("](extremes/pr/map_terciles_week-1.png)"),
        "{md}"
    );
    // two tables of one variable are refused: their products would share a folder
    let twice = d.join("twice.toml");
    std::fs::write(&twice, format!("{text}{}{}", table("pr"), table("pr"))).unwrap();
    let err = crate::common::fails(&[
        "outlook",
        "-q",
        "--config",
        twice.to_str().unwrap(),
        "--out",
        d.join("twice").to_str().unwrap(),
    ]);
    assert!(err.contains("a second table of 'pr'"), "{err}");
    let html = std::fs::read_to_string(out.join("bulletin.html")).unwrap();
    assert!(
        html.contains("Extremes outlook"),
        "the HTML page has the section"
    );
    // with its pictures from extremes/<variable>/ embedded: the maps and diagrams of both
    // tables (3 periods × (2 waves + 1 tercile + 1 diagram) for tasmax, × (2 wet + 1 + 1)
    // for pr) besides the outlook's own
    let embedded = |needle: &str| {
        html.match_indices("<img alt=\"")
            .filter(|(at, _)| html[*at..].split('>').next().unwrap().contains(needle))
            .filter(|(at, _)| {
                html[*at..]
                    .split('>')
                    .next()
                    .unwrap()
                    .contains("data:image/png")
            })
            .count()
    };
    assert_eq!(
        embedded("reliability and ROC"),
        6,
        "diagrams of both tables"
    );
    assert_eq!(embedded("heat wave"), 3);
    // in Russian: the section's heading, table and verification from the catalogue
    let md = crate::common::russian_bulletin(&cfg, &d.join("bulletin_ru"));
    for words in [
        "## Прогноз экстремумов: tasmax с 2022-06-01",
        "| недели 3–4 | волна жары | 60 % |",
        "![волна жары, недели 3–4](extremes/tasmax/map_extremes_heat_wave_weeks-3-4.png)",
        "### Проверка на ретроспективе (с исключением одного года)",
    ] {
        assert!(md.contains(words), "{words}: {md}");
    }
    // the products' own report and the words drawn in the maps are the bulletin's language:
    // the same data give other pictures
    let ru = d.join("bulletin_ru/extremes");
    let report = std::fs::read_to_string(ru.join("tasmax/extremes_outlook.md")).unwrap();
    assert!(
        report.starts_with("# Прогноз экстремумов: tasmax"),
        "{report}"
    );
    for f in [
        "tasmax/map_extremes_heat_wave_weeks-3-4.png",
        "tasmax/map_terciles_week-1.png",
        "pr/map_extremes_above_p90_week-1.png",
        "pr/diagram_week-1.png",
    ] {
        crate::common::assert_redrawn(&ru, &out.join("extremes"), f);
    }
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
    let nc = crate::common::nc_open(out.join("spi_forecast.pr.nc")).unwrap();
    assert!(nc.variable("drought_probability_moderate").is_some());
}

/// Every PNG in `dir` (not below it) decodes completely; returns how many.
fn decode_pngs(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "png") {
            let decoder = png::Decoder::new(std::fs::File::open(&p).unwrap());
            let mut reader = decoder
                .read_info()
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader
                .next_frame(&mut buf)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(info.width >= 300 && info.height >= 200, "{}", p.display());
            // not a blank picture: more than two colours
            let px: std::collections::HashSet<&[u8]> = buf[..info.buffer_size()]
                .chunks(info.color_type.samples())
                .collect();
            assert!(px.len() > 2, "{} is blank", p.display());
            n += 1;
        }
    }
    n
}

/// The page links only embedded images: every `src=` is a `data:` URI, no `href`, and the
/// markup's elements are closed in order (a small well-formedness check).
/// `bulletin.pdf` opens in poppler (`pdfinfo`: A4 pages) and its text, as `pdftotext` copies
/// it out, holds every one of `words`.
fn check_pdf(path: &Path, words: &[&str]) {
    let info = std::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (poppler-utils, installed by scripts/setup.sh)");
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(text.contains("(A4)"), "{text}");
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&out.stdout);
    for w in words {
        assert!(text.contains(w), "{}: no {w:?} in {text}", path.display());
    }
}

fn check_html(path: &Path) {
    let html = std::fs::read_to_string(path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", path.display());
    for (k, _) in html.match_indices("src=\"") {
        assert!(
            html[k + 5..].starts_with("data:image/png;base64,"),
            "{}: an image that is not embedded",
            path.display()
        );
    }
    assert!(!html.contains("href="), "{}", path.display());
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("closed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if ["meta", "img", "br"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "{}",
                path.display()
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "{}: unclosed {stack:?}", path.display());
}

/// The Asia demo (`data/demo/asia.toml`) on freshly made synthetic files: rainfall and
/// temperature with their deterministic maps, the drought outlook, the genesis potential
/// fallback for cyclones, and a bulletin per region — every file there, every PNG decodes,
/// every page self-contained, the NetCDF CF, the probabilities sum to 1.
#[test]
fn asia_demo_two_variables_drought_and_genesis_potential() {
    let dir = tempfile::tempdir().unwrap();
    let syn = dir.path().join("synthetic");
    for args in [
        vec!["synth", "-q", "--preset", "asia", "--out"],
        vec!["synth", "-q", "--gpi", "--out"],
    ] {
        let mut a = args.clone();
        a.push(syn.to_str().unwrap());
        let o = s2s(&a);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let cfg = dir.path().join("asia.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/asia.toml"),
        &cfg,
    )
    .unwrap();
    let out = dir.path().join("out");
    let md = run_outlook(&cfg, &out);
    assert!(md.starts_with(
        "# s2s-ensemble demo (synthetic models, Asia)\n\n**Rainfall and temperature outlook**\n"
    ));
    for h in [
        "## Regional probabilities — rainfall",
        "## Regional probabilities — temperature",
        "## Country table — temperature",
        "## Drought outlook (SPI)",
        "## Tropical cyclone genesis potential, Jun–Aug 2008",
        "## Methods",
    ] {
        assert!(md.contains(h), "{h}");
    }
    // the planted warm Bay of Bengal and cool South China Sea
    assert!(md.contains("- Bay of Bengal, Jun–Aug: genesis potential above normal"));
    assert!(md.contains("- South China Sea, Jun–Aug: genesis potential below normal"));
    // every expected file
    let mut want = vec![
        "bulletin.md".to_string(),
        "bulletin.html".into(),
        "bulletin.json".into(),
        "provenance.json".into(),
        "mme_forecast.pr.nc".into(),
        "mme_forecast.tas.nc".into(),
        "spi_forecast.pr.nc".into(),
        "genesis_outlook.nc".into(),
        "map_gpi_anomaly.png".into(),
    ];
    for l in 0..2 {
        for m in [
            "pr",
            "pr_pct_normal",
            "pr_extreme_low",
            "pr_extreme_high",
            "tas",
            "tas_anomaly",
            "tas_extreme_low",
            "tas_extreme_high",
            "spi",
        ] {
            want.push(format!("map_{m}_lead{l}.png"));
        }
    }
    for f in &want {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(decode_pngs(&out), 19);
    check_pdf(&out.join("bulletin.pdf"), &["Headlines", "Jun–Aug 2008"]);
    check_html(&out.join("bulletin.html"));
    for r in ["central_asia", "south_asia", "southeast_asia"] {
        let d = out.join(r);
        for f in [
            "bulletin.md",
            "bulletin.html",
            "bulletin.json",
            "bulletin.pdf",
        ] {
            assert!(d.join(f).is_file(), "{r}/{f}");
        }
        // 18 maps, and a POE curve and a plume per variable and lead
        assert_eq!(decode_pngs(&d), 26, "{r}");
        for v in ["pr", "tas"] {
            for l in 0..2 {
                assert!(d.join(format!("poe_{v}_lead{l}.png")).is_file(), "{r}");
                assert!(d.join(format!("plume_{v}_lead{l}.png")).is_file(), "{r}");
            }
        }
        check_html(&d.join("bulletin.html"));
        let rmd = std::fs::read_to_string(d.join("bulletin.md")).unwrap();
        // the cyclone section only where the region touches a basin, its map one folder up
        assert_eq!(
            rmd.contains("](../map_gpi_anomaly.png)"),
            r != "central_asia",
            "{r}"
        );
    }
    // JSON: the documented schema, probabilities in [0, 1] summing to 1
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    for key in [
        "title",
        "variable",
        "variables",
        "regions",
        "countries",
        "drought",
        "maps",
        "netcdf",
        "methods",
        "genesis",
        "hindcast_years",
        "issued_from_start",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let vars = json["variables"].as_array().unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!(vars[1]["variable"], "tas");
    for v in vars {
        for r in v["regions"].as_array().unwrap() {
            assert_distribution(r);
        }
    }
    assert!(vars[1]["regions"][0]["mean_anomaly"]
        .as_f64()
        .unwrap()
        .is_finite());
    assert!(vars[0]["regions"][0]["percent_of_normal"].as_f64().unwrap() > 0.0);
    assert_eq!(json["genesis"]["basins"].as_array().unwrap().len(), 4);
    // NetCDF: reopen, units and CF attributes, probabilities sum to 1 per cell
    for v in ["pr", "tas"] {
        let nc = crate::common::nc_open(out.join(format!("mme_forecast.{v}.nc"))).unwrap();
        let conv: String = nc
            .attribute("Conventions")
            .unwrap()
            .value()
            .unwrap()
            .try_into()
            .unwrap();
        assert!(conv.starts_with("CF-"), "{conv}");
        let pv = nc.variable("probability_below").unwrap();
        let units: String = pv
            .attribute("units")
            .unwrap()
            .value()
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(units, "1");
        // (init, category, lead, lat, lon) reassembled from the per-category variables
        let k = 1;
        let (shape, p) = crate::common::nd_values(&nc, "probability").unwrap();
        // the crate hands fill values back as they are (1e20), not as NaN
        let p: Vec<f32> = p
            .into_iter()
            .map(|x| if x >= 1e19 { f32::NAN } else { x })
            .collect();
        let inner: usize = shape[k + 1..].iter().product();
        let outer: usize = shape[..k].iter().product();
        let mut checked = 0;
        for o in 0..outer {
            for i in 0..inner {
                let s: Vec<f32> = (0..shape[k])
                    .map(|c| p[(o * shape[k] + c) * inner + i])
                    .collect();
                if s.iter().all(|x| x.is_finite()) {
                    assert!(s.iter().all(|x| (0.0..=1.0).contains(x)));
                    assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{s:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{v}: {checked}");
    }
    let g = crate::common::nc_open(out.join("genesis_outlook.nc")).unwrap();
    for v in [
        "gpi_forecast",
        "gpi_normal",
        "gpi_anomaly",
        "gpi_percent_of_normal",
    ] {
        assert!(g.variable(v).is_some(), "{v}");
    }
    // land has no genesis potential
    let a: Vec<f32> = g.variable("gpi_anomaly").unwrap().get_values(..).unwrap();
    assert!(a.iter().any(|&x| x >= 1e19 || x.is_nan()) && a.iter().any(|&x| x.abs() < 10.0));

    // the same in Russian: the bulletins are Russian throughout, genesis potential included
    let out_ru = dir.path().join("out_ru");
    crate::common::russian_bulletin(&cfg, &out_ru);
    let central = std::fs::read_to_string(out_ru.join("central_asia/bulletin.md")).unwrap();
    for words in [
        "**Прогноз: осадки и температура — Центральная Азия**",
        "## Вероятности по регионам — температура",
        "| Казахстан | месяц 1 | май 2008 |",
        "## Прогноз засухи (SPI)",
        "## Методы",
    ] {
        assert!(central.contains(words), "{words}: {central}");
    }
    assert_no_english(&central, &[], &[]);
    for region in ["south_asia", "southeast_asia"] {
        let md = std::fs::read_to_string(out_ru.join(region).join("bulletin.md")).unwrap();
        assert_no_english(&md, &[], &[]);
    }
    let whole = std::fs::read_to_string(out_ru.join("bulletin.md")).unwrap();
    assert!(
        whole.contains("## Потенциал зарождения тропических циклонов, июн–авг 2008"),
        "{whole}"
    );
    assert!(whole.contains("- Бенгальский залив, июн–авг: потенциал циклогенеза выше нормы"));
    assert_no_english(&whole, &[], &[]);
}

/// Models on different grids: refused without `[grid]` (saying how to fix it); with `[grid]`
/// every model and the observations go onto the observations' grid or a spacing grid.
#[test]
fn models_on_other_grids_need_and_get_a_common_grid() {
    let dir = tempfile::tempdir().unwrap();
    let syn = dir.path().join("syn");
    crate::common::synth_small(&syn);
    for k in ["hindcast", "forecast"] {
        let o = s2s(&[
            "regrid",
            "-q",
            "--method",
            "conservative",
            "--grid",
            "1.5",
            "--bbox",
            "58,102,-2,38",
            syn.join(format!("{k}_BRAVO.nc")).to_str().unwrap(),
            syn.join(format!("{k}_BRAVO_15.nc")).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let base = "variable = \"pr\"\nbias = \"scaling\"\nregions = [\"south_asia\"]\n[[models]]\nname = \"ALPHA\"\nhindcast = \"syn/hindcast_ALPHA.nc\"\nforecast = \"syn/forecast_ALPHA.nc\"\n[[models]]\nname = \"BRAVO\"\nhindcast = \"syn/hindcast_BRAVO_15.nc\"\nforecast = \"syn/forecast_BRAVO_15.nc\"\n[observations]\npath = \"syn/obs.nc\"\n";
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, base).unwrap();
    let e = outlook(&cfg, &dir.path().join("none"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the grids of model BRAVO and")
            && e.contains("do not match")
            && e.contains("[grid]"),
        "{e}"
    );
    for (grid, ny, nx) in [
        ("[grid]\n", 18, 20),
        (
            "[grid]\nspacing = \"3\"\nbbox = [60, 99, 0, 36]\nmethod = \"bilinear\"\n",
            12,
            13,
        ),
    ] {
        std::fs::write(&cfg, format!("{base}{grid}")).unwrap();
        let out = dir.path().join(format!("g{ny}"));
        run_outlook(&cfg, &out);
        let nc = crate::common::nc_open(out.join("mme_forecast.pr.nc")).unwrap();
        assert_eq!(nc.dimension("lat").unwrap().len(), ny, "{grid}");
        assert_eq!(nc.dimension("lon").unwrap().len(), nx, "{grid}");
    }
}

/// A templated configuration (`hindcast = ".../{model}_{year}.nc"`, one file per start year as
/// C3S downloads come) gives the demo's probabilities exactly.
#[test]
fn outlook_from_a_templated_configuration_of_yearly_files() {
    use s2s_ensemble::io::{read_cube, write_cube, ReadOptions, WriteOptions};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = root.join("data/real/nmme_india");
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split");
    std::fs::create_dir_all(&split).unwrap();
    let models = [
        ("CanSIPSv2", "CANSIPSV2"),
        ("CCSM4", "CCSM4"),
        ("GEOS-S2S", "NASAGEOSS2S"),
        ("CFSv2", "NCEPCFSV2"),
    ];
    let mut cfg = String::from(
        "title = \"templated\"\nvariable = \"prec\"\nbias = \"none\"\nweights = \"calibrated\"\n",
    );
    cfg += &format!(
        "regions = [\"india=66,100,6,38\", \"south_asia\"]\ncountries = \"{}\"\n",
        root.join("data/regions/countries_110m.geojson").display()
    );
    for (name, file) in models {
        let whole = read_cube(
            real.join(format!("{file}_HCST.nc")),
            &ReadOptions::default(),
        )
        .unwrap();
        for (i, d) in whole.coords.init.iter().enumerate() {
            let one = whole.select_inits(&[i]).unwrap();
            let p = split.join(format!("{name}_{}.nc", d.year));
            write_cube(&p, &one, &WriteOptions::default()).unwrap();
        }
        cfg += &format!(
            "\n[[models]]\nname = \"{name}\"\nhindcast = \"{}\"\nforecast = \"{}\"\n",
            split.join("{model}_{year}.nc").display(),
            real.join(format!("{file}_FCST.nc")).display()
        );
    }
    cfg += &format!(
        "\n[observations]\npath = \"{}\"\nvariable = \"rf\"\nunits = \"mm/month\"\n",
        real.join("observations.nc").display()
    );
    let templated = dir.path().join("templated.toml");
    std::fs::write(&templated, cfg).unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_outlook(&root.join("data/demo/outlook.toml"), &a);
    run_outlook(&templated, &b);
    let nc = |d: &Path| {
        let f = crate::common::nc_open(d.join("mme_forecast.prec.nc")).unwrap();
        crate::common::nd_values(&f, "probability").unwrap().1
    };
    let (pa, pb) = (nc(&a), nc(&b));
    assert!(pa.iter().any(|v| v.is_finite()));
    assert!(pa
        .iter()
        .zip(&pb)
        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
}

/// A tiny valid PNG (one white pixel) for a logo.
fn tiny_png(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(file, 1, 1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .unwrap()
        .write_image_data(&[255, 255, 255])
        .unwrap();
}

/// `[issuer]`: the institution, logo, contact, credits, dates and language reach the page,
/// the PDF, the Markdown and the JSON; a Russian bulletin is Russian in its frame and
/// headlines; a bad date or a logo that is not a PNG is refused before anything is written.
#[test]
fn issuer_dates_and_a_russian_bulletin() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::common::moved_demo_config();
    tiny_png(&dir.path().join("logo.png"));
    let issuer = r#"
[issuer]
institution = "Центрально-Азиатский региональный климатический центр"
logo = "logo.png"
contact = "climate@example.org"
credits = { NMME = "NOAA NMME, Kirtman et al. 2014", IMD = "IMD gridded rainfall" }
language = "ru"
issue_date = "2021-09-10"
next_update = "2021-10-12"
"#;
    let cfg = dir.path().join("ru.toml");
    std::fs::write(&cfg, format!("{text}\n{issuer}")).unwrap();
    let out = dir.path().join("ru");
    let md = run_outlook(&cfg, &out);
    assert!(md.contains("- Дата выпуска: 10 сентября 2021 г.\n"), "{md}");
    assert!(
        md.contains("- Следующий выпуск: 12 октября 2021 г.\n"),
        "{md}"
    );
    assert!(md.contains("## Главное\n"), "{md}");
    assert!(md.contains("Выпущен: Центрально-Азиатский"), "{md}");
    assert!(md.contains("- IMD: IMD gridded rainfall"), "{md}");
    // the body from the catalogue: headings, tables, legends, messages, captions, methods,
    // country names; English stays only in names of data (files, models, the configured
    // title, institution, contact and credits)
    for heading in [
        "## Прогноз по регионам",
        "## Вероятности по регионам",
        "## Карты",
        "## Таблица по странам",
        "## Прогноз засухи (SPI)",
        "## Методы",
    ] {
        assert!(md.contains(heading), "{heading}: {md}");
    }
    assert!(md.contains("| Индия | месяцы 2–4 | окт–дек 2021 |"), "{md}");
    assert_no_english(
        &md,
        &["- IMD:", "- NMME:", "Выпущен:", "Контакты:"],
        &["GEOS", "India"],
    );
    let html = std::fs::read_to_string(out.join("bulletin.html")).unwrap();
    assert!(html.contains("<html lang=\"ru\">"));
    assert!(html.contains("class=\"logo\""));
    assert!(html.contains("Контакты: climate@example.org"));
    check_html(&out.join("bulletin.html"));
    check_pdf(
        &out.join("bulletin.pdf"),
        &["Главное", "10 сентября 2021 г.", "Центрально-Азиатский"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    assert_eq!(json["front"]["issued"], "2021-09-10");
    assert_eq!(json["front"]["language"], "ru");
    assert!(!json["front"]["headlines"].as_array().unwrap().is_empty());

    for (bad, words) in [
        ("issue_date = \"2021-09-10\"", "issue_date = \"10/09/2021\""),
        ("logo = \"logo.png\"", "logo = \"ru.toml\""),
        ("language = \"ru\"", "language = \"tj\""),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, format!("{text}\n{}", issuer.replace(bad, words))).unwrap();
        let err = outlook(&cfg, &dir.path().join("bad"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("issuer"), "{words}: {err}");
        assert!(
            !dir.path().join("bad").join("bulletin.md").exists(),
            "{words}"
        );
    }
}

/// The default outlook (`s2s outlook` without a configuration): the synthetic files made on
/// the first run, then a bulletin for each of Central, South and Southeast Asia, each with
/// its PDF, its own region folder and its POE curves; a second run makes no files anew.
#[test]
fn default_outlook_covers_the_three_regions() {
    use s2s_ensemble::pipeline::outlook::demo::{default_outlook, ensure_synthetic};
    let dir = tempfile::tempdir().unwrap();
    let repo_demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    let demo = dir.path().join("demo");
    std::fs::create_dir(&demo).unwrap();
    for c in ["outlook.toml", "asia.toml"] {
        let text = std::fs::read_to_string(repo_demo.join(c))
            .unwrap()
            .replace("\"../", &format!("\"{}/../", repo_demo.display()));
        std::fs::write(demo.join(c), text).unwrap();
    }
    let out = dir.path().join("out");
    let reports = default_outlook(&demo, &out, &RunOptions::default(), &NoProgress).unwrap();
    let regions: Vec<&str> = reports.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(regions, ["central_asia", "south_asia", "southeast_asia"]);
    for r in regions {
        let own = out.join(r).join(r);
        for f in [
            "bulletin.md",
            "bulletin.html",
            "bulletin.pdf",
            "bulletin.json",
        ] {
            assert!(own.join(f).is_file(), "{r}/{r}/{f}");
        }
        let md = std::fs::read_to_string(own.join("bulletin.md")).unwrap();
        assert!(md.contains("## Headlines"), "{r}");
        assert!(std::fs::read_dir(&own).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("poe_")));
    }
    // South Asia is the real NMME run, the others synthetic
    let sa = std::fs::read_to_string(out.join("south_asia/bulletin.md")).unwrap();
    assert!(sa.contains("CanSIPSv2"), "{sa}");
    let ca = std::fs::read_to_string(out.join("central_asia/central_asia/bulletin.md")).unwrap();
    assert!(
        ca.contains("ALPHA") && !ca.contains("Bay of Bengal"),
        "{ca}"
    );
    assert!(!ensure_synthetic(&demo, &NoProgress).unwrap());
    // without the demo configurations: one clear error
    let err = default_outlook(
        &dir.path().join("nowhere"),
        &out,
        &RunOptions::default(),
        &NoProgress,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("demo configuration"), "{err}");
}

/// `provinces` (the bundled Sri Lanka provinces) over the demo regridded to 0.25° on Sri
/// Lanka: the bulletin and the region's bulletin gain a province table of all nine provinces,
/// and the JSON their rows with ISO 3166-2 codes and distributions.
#[test]
fn province_table_of_sri_lanka() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = crate::common::moved_demo_config()
        .lines()
        .map(|l| match l {
            l if l.starts_with("regions =") => format!(
                "regions = [\"Sri Lanka\"]\nprovinces = \"{}\"",
                repo.join("data/regions/provinces_lka.geojson.gz").display()
            ),
            l if l.starts_with("countries =") => String::new(),
            l => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cfg = d.join("lk.toml");
    std::fs::write(
        &cfg,
        format!("{text}\n[grid]\nspacing = \"0.25\"\nbbox = [79.5, 82.0, 5.75, 10.0]\n"),
    )
    .unwrap();
    let out = d.join("out");
    let md = run_outlook(&cfg, &out);
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("## Province table"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.contains("| months 2–4 |"))
        .collect();
    assert_eq!(table.len(), 9, "{md}");
    assert!(
        table.iter().any(|l| l.starts_with("| Sabaragamuwa |")),
        "{md}"
    );
    // the rows the README quotes
    for row in [
        "| Northern | months 2–4 | Oct–Dec 2021 | 11 | 32 % | 32 % | **36 %** |",
        "| Eastern | months 2–4 | Oct–Dec 2021 | 8 | **40 %** | 37 % | 24 % |",
    ] {
        assert!(table.contains(&row), "{row}: {md}");
    }
    let region = std::fs::read_to_string(out.join("sri_lanka/bulletin.md")).unwrap();
    assert!(region.contains("## Province table"), "{region}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bulletin.json")).unwrap()).unwrap();
    let rows = json["variables"][0]["provinces"].as_array().unwrap();
    let mut codes: Vec<&str> = rows
        .iter()
        .map(|r| r["iso_3166_2"].as_str().unwrap())
        .collect();
    assert!(rows.iter().any(|r| r["province"] == "Sabaragamuwa"));
    codes.sort();
    assert_eq!(
        codes,
        ["LK-1", "LK-2", "LK-3", "LK-4", "LK-5", "LK-6", "LK-7", "LK-8", "LK-9"]
    );
    for r in rows {
        assert_distribution(r);
        assert!(r["cells"].as_u64().unwrap() >= 3, "{r}");
    }
}

/// Every line of a bulletin written in another language than English is free of English
/// words (four or more ASCII letters), except the title line, the observations' file names,
/// lines starting with `skip` (data the configuration gives: institution, credits, contact)
/// and the `names` of data (models, configured regions); image file names, code spans and
/// the program's name do not count.
fn assert_no_english(md: &str, skip: &[&str], names: &[&str]) {
    let always = ["NMME", "RPSS", "PMME", "ALPHA", "BRAVO", "CHARLIE"];
    for line in md.lines() {
        if line.starts_with("# ")
            || line.starts_with("- **Наблюдения**")
            || skip.iter().any(|p| line.starts_with(p))
        {
            continue;
        }
        // code spans (`genesis_outlook.nc`) are file names
        let text: String = line
            .split("](")
            .next()
            .unwrap_or(line)
            .replace("s2s-ensemble", "")
            .split('`')
            .step_by(2)
            .collect();
        let english: Vec<&str> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .filter(|w| !always.contains(w) && !names.contains(w))
            .collect();
        assert!(english.is_empty(), "English {english:?} in: {line}");
    }
}
