//! `s2s seaice`: extent of a real curvilinear model file against an independent computation,
//! and the outlook on planted model extents against the real NSIDC September record.

use std::path::Path;

use crate::common::{fails, real, s2s, stderr};

/// Northern Hemisphere extent and area, Southern extent, Jan–Dec 2020 of the bundled CanESM5
/// file, from `scripts/check/seaice_extent.sh` (ncdump + plain Python, no s2s code).
const INDEPENDENT: [(f64, f64, f64); 12] = [
    (13.1213, 11.5556, 8.4382),
    (13.7911, 12.5406, 5.6123),
    (13.7322, 12.3846, 6.4725),
    (13.2011, 11.5753, 9.4933),
    (11.5846, 9.9336, 12.5766),
    (9.5211, 7.4192, 15.3452),
    (6.6387, 4.8422, 17.4572),
    (4.8814, 3.2193, 18.7146),
    (4.5471, 3.3212, 18.9590),
    (5.6537, 4.6473, 18.5912),
    (7.8576, 6.5394, 17.2651),
    (10.3683, 8.8484, 14.4741),
];

#[test]
fn extent_of_a_tripolar_model_grid_equals_an_independent_area_weighted_sum() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("extent.csv");
    let o = s2s(&[
        "seaice",
        "extent",
        real("seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc")
            .to_str()
            .unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time,hemisphere,extent,area"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 24);
    for (m, &(north, north_area, south)) in INDEPENDENT.iter().enumerate() {
        let n = &rows[2 * m];
        let s = &rows[2 * m + 1];
        assert!(n[0].starts_with(&format!("2020-{:02}-", m + 1)), "{n:?}");
        assert_eq!((n[1].as_str(), s[1].as_str()), ("north", "south"));
        let rel = |got: &str, want: f64| (got.parse::<f64>().unwrap() - want).abs() / want;
        // 0.1 % is the bar; the sums agree to the printed 4 decimals
        assert!(
            rel(&n[2], north) < 2e-5,
            "month {}: {n:?} vs {north}",
            m + 1
        );
        assert!(rel(&n[3], north_area) < 2e-5, "month {}: {n:?}", m + 1);
        assert!(rel(&s[2], south) < 2e-5, "month {}: {s:?}", m + 1);
    }
}

/// Extent table rows of a model whose members are `observed + offset(year) ± 0.1`.
pub(crate) fn planted_table(path: &Path, years: &[(i32, f64)], offset: impl Fn(i32) -> f64) {
    let mut s = String::from("time,hemisphere,extent,area,member\n");
    for &(y, obs) in years {
        for (m, d) in [-0.1, 0.0, 0.1].iter().enumerate() {
            s.push_str(&format!(
                "{y}-09-16,north,{:.6},0,{m}\n{y}-09-16,south,20,0,{m}\n",
                obs + offset(y) + d
            ));
        }
    }
    std::fs::write(path, s).unwrap();
}

pub(crate) fn observed_september() -> Vec<(i32, f64)> {
    let text = std::fs::read_to_string(real("seaice/N_09_extent_v3.0.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f[0].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

/// Runs `s2s --json seaice outlook` of one model for September 2020 against the bundled NSIDC
/// record; the parsed report.
fn september_2020_outlook(hindcast: &Path, forecast: &Path, out: &Path) -> serde_json::Value {
    let o = s2s(&[
        "--json",
        "seaice",
        "outlook",
        "--hindcast",
        hindcast.to_str().unwrap(),
        "--forecast",
        forecast.to_str().unwrap(),
        "--observed",
        real("seaice/N_09_extent_v3.0.csv").to_str().unwrap(),
        "--target",
        "2020-09",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn outlook_removes_a_planted_bias_and_trend_and_gives_record_and_tercile_chances() {
    let dir = tempfile::tempdir().unwrap();
    let obs = observed_september();
    let hind: Vec<(i32, f64)> = obs.iter().copied().filter(|p| p.0 < 2020).collect();
    let fc: Vec<(i32, f64)> = obs.iter().copied().filter(|p| p.0 == 2020).collect();
    // the model is 2.0 too high in 2000 and drifts up by 0.01 a year
    let offset = |y: i32| 2.0 + 0.01 * f64::from(y - 2000);
    let (h, f) = (
        dir.path().join("A_hindcast.csv"),
        dir.path().join("A_2020.csv"),
    );
    planted_table(&h, &hind, offset);
    planted_table(&f, &fc, offset);
    let out = dir.path().join("seaice");
    let j = september_2020_outlook(&h, &f, &out);
    let m = &j["outlook"]["models"][0];
    // adjusted members are 2020's observed 3.92 ± 0.1: the correction is −offset(2020)
    assert!((m["mean"].as_f64().unwrap() - 3.92).abs() < 1e-6, "{m}");
    assert!(
        (m["correction"].as_f64().unwrap() + 2.2).abs() < 1e-6,
        "{m}"
    );
    // the planted drift is a line: every left-out year is adjusted exactly
    assert!(m["skill"]["rmse"].as_f64().unwrap() < 1e-6, "{m}");
    assert_eq!(m["skill"]["years"], 41); // 1979–2019
    let c = &j["outlook"]["climate"];
    assert_eq!(c["record_low"][0], 2012);
    assert!((c["record_low"][1].as_f64().unwrap() - 3.57).abs() < 1e-9);
    // 3.82, 3.92, 4.02 are all above 2012's 3.57 and below the lower tercile of 1979–2019
    let p = &j["outlook"]["mme_probabilities"];
    assert_eq!(p["record_low"], 0.0);
    assert_eq!(p["below"], 1.0);
    for name in [
        "seaice_outlook.json",
        "seaice_hindcast.csv",
        "seaice_outlook.md",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
    let md = std::fs::read_to_string(out.join("seaice_outlook.md")).unwrap();
    assert!(md.contains("September 2020"), "{md}");
    assert!(md.contains("3.57 of 2012"), "{md}");
}

#[test]
fn seaice_inputs_that_cannot_work_get_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = fails(&[
        "seaice",
        "outlook",
        "--hindcast",
        "a.csv,b.csv",
        "--forecast",
        "a.csv",
        "--observed",
        "obs.csv",
        "--target",
        "2020-09",
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(e.contains("one forecast per hindcast"), "{e}");
    // a rainfall forecast is not a concentration, even with values below 100
    let e = fails(&[
        "seaice",
        "extent",
        real("nmme_india/CCSM4_FCST.nc").to_str().unwrap(),
        "--out",
        d.join("x.csv").to_str().unwrap(),
    ]);
    assert!(e.contains("not those of a sea-ice concentration"), "{e}");
    assert!(!d.join("x.csv").exists());
    let e = fails(&[
        "seaice",
        "outlook",
        "--hindcast",
        "a.csv",
        "--forecast",
        "a.csv",
        "--observed",
        "obs.csv",
        "--target",
        "2020-13",
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(e.contains("not YYYY-MM"), "{e}");
    // a table without the target year names the years it has
    let obs = real("seaice/N_09_extent_v3.0.csv");
    let h = d.join("h.csv");
    planted_table(
        &h,
        &[(2000, 6.0), (2001, 6.1), (2002, 6.2), (2003, 6.0)],
        |_| 1.0,
    );
    let e = fails(&[
        "seaice",
        "outlook",
        "--hindcast",
        h.to_str().unwrap(),
        "--forecast",
        h.to_str().unwrap(),
        "--observed",
        obs.to_str().unwrap(),
        "--target",
        "2020-09",
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(e.contains("no north extent for 2020-09"), "{e}");
    assert!(!d.join("o").exists(), "no half-written output set");
}

#[test]
fn a_concentration_forecast_gives_the_extent_and_a_sea_ice_probability_map() {
    let dir = tempfile::tempdir().unwrap();
    let obs = observed_september();
    let hind: Vec<(i32, f64)> = obs.iter().copied().filter(|p| p.0 < 2020).collect();
    let h = dir.path().join("CanESM5_hindcast.csv");
    planted_table(&h, &hind, |_| 0.7);
    let out = dir.path().join("out");
    let model = real("seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc");
    let j = september_2020_outlook(&h, &model, &out);
    // the September field's extent (4.5471, the independent sum) less the planted 0.7
    let m = &j["outlook"]["models"][0];
    assert!(
        (m["raw_mean"].as_f64().unwrap() - INDEPENDENT[8].0).abs() < 1e-3,
        "{m}"
    );
    assert!(
        (m["mean"].as_f64().unwrap() - (INDEPENDENT[8].0 - 0.7)).abs() < 1e-3,
        "{m}"
    );
    // one member: the probability map is 0 or 1 at sea, missing on land, on the model grid
    let sip = out.join("sea_ice_probability.nc");
    let o = s2s(&["--json", "inspect", sip.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("291") && text.contains("360"), "{text}");
    // its polar map: ice at the pole, open water in the Barents Sea (75° N 40° E, ice-free
    // in September), the median ice edge between them; the text shows the map
    let md = std::fs::read_to_string(out.join("seaice_outlook.md")).unwrap();
    assert!(
        md.contains("\n![Sea-ice probability, September 2020](map_sea_ice_probability.png)"),
        "{md}"
    );
    let decoder =
        png::Decoder::new(std::fs::File::open(out.join("map_sea_ice_probability.png")).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let width = info.width as usize;
    let at = |x: usize, y: usize| &buf[(y * width + x) * 3..][..3];
    // the map: 760 px square from (50, 56), the pole at its centre, 45° N at distance 380 px;
    // north polar stereographic with 45° W pointing down
    let pixel = |lat: f64, lon: f64| {
        let edge = (22.5f64).to_radians().tan();
        let rho = ((90.0 - lat) / 2.0).to_radians().tan() / edge * 380.0;
        let a = (lon + 45.0).to_radians();
        (
            (430.0 + rho * a.sin()).round() as usize,
            (436.0 + rho * a.cos()).round() as usize,
        )
    };
    let (x, y) = pixel(89.0, 10.0);
    assert_eq!(at(x, y), [8, 81, 156], "ice near the pole");
    let (x, y) = pixel(75.0, 40.0);
    assert_eq!(at(x, y), [255, 255, 255], "open water in the Barents Sea");
    let red = (0..=40).any(|k| {
        let (x, y) = pixel(75.0 + 14.0 * f64::from(k) / 40.0, 40.0);
        at(x, y) == [215, 25, 28]
    });
    assert!(
        red,
        "the median ice edge between the Barents Sea and the pole"
    );
}

/// `[seaice]` in the demo configuration: the bulletin gains the September extent outlook and
/// the run writes it into `seaice/`.
#[test]
fn seaice_section_of_the_outlook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let obs = observed_september();
    let hind: Vec<(i32, f64)> = obs.iter().copied().filter(|p| p.0 < 2020).collect();
    let fc: Vec<(i32, f64)> = obs.iter().copied().filter(|p| p.0 == 2020).collect();
    planted_table(&d.join("A_hindcast.csv"), &hind, |_| 1.0);
    planted_table(&d.join("A_2020.csv"), &fc, |_| 1.0);
    let text = crate::common::moved_demo_config();
    let cfg = d.join("with_seaice.toml");
    std::fs::write(
        &cfg,
        format!(
            "{text}\n[seaice]\nhindcast = [\"A_hindcast.csv\"]\nforecast = [\"A_2020.csv\"]\nmodels = [\"A\"]\nobservations = \"{}\"\ntarget = \"2020-09\"\nadjust = \"mean\"\n",
            real("seaice/N_09_extent_v3.0.csv").display()
        ),
    )
    .unwrap();
    let out = d.join("bulletin");
    let o = s2s(&[
        "outlook",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("bulletin.md")).unwrap();
    assert!(
        md.contains("## Arctic sea-ice extent outlook, September 2020"),
        "{md}"
    );
    // a constant +1.0 bias removed: the members are 2020's observed 3.92 ± 0.1
    assert!(md.contains("**3.92 million km²**"), "{md}");
    assert!(out.join("seaice/seaice_outlook.json").exists());
    // in Russian: the section from the catalogue, decimal commas
    let md = crate::common::russian_bulletin(&cfg, &d.join("b_ru"));
    for words in [
        "## Прогноз площади распространения морского льда в Арктике, сентябрь 2020",
        "**3,92 млн км²**",
        "поправка: среднее",
    ] {
        assert!(md.contains(words), "{words}: {md}");
    }
    // a concentration forecast: the polar map of the sea-ice probability in the section
    let with_field = d.join("with_field.toml");
    std::fs::write(
        &with_field,
        std::fs::read_to_string(&cfg).unwrap().replace(
            "forecast = [\"A_2020.csv\"]",
            &format!(
                "forecast = [\"{}\"]",
                real("seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc").display()
            ),
        ),
    )
    .unwrap();
    let md = crate::common::russian_bulletin(&with_field, &d.join("b_field"));
    assert!(
        md.contains(
            "![Вероятность морского льда, сентябрь 2020](seaice/map_sea_ice_probability.png)"
        ),
        "{md}"
    );
    assert!(d
        .join("b_field/seaice/map_sea_ice_probability.png")
        .exists());
    // a bad target is one clear error naming the field
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("2020-09", "2020-13"),
    )
    .unwrap();
    let e = fails(&[
        "outlook",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        d.join("b2").to_str().unwrap(),
    ]);
    assert!(
        e.contains("[seaice] target") && e.contains("'2020-13' is not YYYY-MM"),
        "{e}"
    );
}

/// `s2s synth --seaice` plants a model whose September extent is the observed one plus a bias
/// of 1.0 and a trend error of +0.03 a year: the extents read back are the planted ones (exact
/// spherical cell areas), and the mean-and-trend adjustment brings the 2021 forecast to the
/// planted observed 4.32 million km², where the mean adjustment alone misses by the trend
/// error times the years since the hindcast's middle.
#[test]
fn planted_bias_and_trend_of_synthetic_concentrations_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = s2s(&["synth", "-q", "--seaice", "--out", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // year,member,model_extent,observed_extent
    let truth: Vec<(i32, usize, f64, f64)> = std::fs::read_to_string(d.join("seaice_truth.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(truth.len(), 29 * 5);
    // the extents of the hindcast file are the planted ones
    let table = d.join("extent.csv");
    let o = s2s(&[
        "seaice",
        "extent",
        d.join("siconc_hindcast.nc").to_str().unwrap(),
        "--out",
        table.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<(i32, usize, f64)> = std::fs::read_to_string(&table)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.contains(",north,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0][..4].parse().unwrap(),
                f[4].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 28 * 5);
    for (y, m, e) in &rows {
        let t = truth.iter().find(|t| t.0 == *y && t.1 == *m).unwrap();
        assert!(
            (e - t.2).abs() < 6e-5,
            "{y} member {m}: {e} against {}",
            t.2
        );
    }
    let outlook = |adjust: &str| -> serde_json::Value {
        let out = d.join(format!("outlook_{adjust}"));
        let o = s2s(&[
            "--json",
            "seaice",
            "outlook",
            "--hindcast",
            d.join("siconc_hindcast.nc").to_str().unwrap(),
            "--forecast",
            d.join("siconc_forecast.nc").to_str().unwrap(),
            "--observed",
            d.join("N_09_extent_synthetic.csv").to_str().unwrap(),
            "--target",
            "2021-09",
            "--adjust",
            adjust,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let forecast: Vec<f64> = truth.iter().filter(|t| t.0 == 2021).map(|t| t.2).collect();
    let raw = forecast.iter().sum::<f64>() / 5.0;
    let j = outlook("mean-trend");
    let m = &j["outlook"]["models"][0];
    assert!((m["raw_mean"].as_f64().unwrap() - raw).abs() < 1e-4, "{m}");
    // the planted observed 2021 extent, to the grid's discreteness
    assert!((m["mean"].as_f64().unwrap() - 4.32).abs() < 0.01, "{m}");
    // the mean adjustment alone leaves the trend error: 0.03 × (2021 − 2006.5) = 0.435
    let j = outlook("mean");
    let m = &j["outlook"]["models"][0];
    let left = m["mean"].as_f64().unwrap() - 4.32;
    assert!((left - 0.435).abs() < 0.01, "{m}");
}
