//! `s2s drivers`: Niño 3.4 and DMI plumes of two models' SST files with planted anomalies,
//! an observed record, and a regional grid that misses the Pacific.

use std::path::Path;

use ndarray::Array5;
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{Coords, Cube, CubeKind, Lead, Meta, Spatial};
use s2s_ensemble::io::{write_cube, WriteOptions};

use crate::common::{s2s, stderr};

/// Global 5° SST in kelvin: 300 K, `nino` added over Niño 3.4 and `iod/2` (west) / `−iod/2`
/// (east) over the DMI boxes; `lon` from `lon0`.
fn sst(
    inits: Vec<CfDateTime>,
    members: usize,
    leads: usize,
    kind: CubeKind,
    f: impl Fn(usize, usize) -> (f64, f64),
) -> Cube {
    let lat: Vec<f64> = (0..36).map(|i| -87.5 + 5.0 * i as f64).collect();
    let lon: Vec<f64> = (0..72).map(|i| 2.5 + 5.0 * i as f64).collect();
    let (la, lo) = (lat.clone(), lon.clone());
    let values = Array5::from_shape_fn((inits.len(), members, leads, 36, 72), |(i, m, l, y, x)| {
        let (nino, iod) = f(i, m);
        let (phi, lam) = (la[y], lo[x]);
        let mut v = 300.0 + 0.2 * l as f64;
        if phi.abs() <= 5.0 && (190.0..=240.0).contains(&lam) {
            v += nino;
        }
        if phi.abs() <= 10.0 && (50.0..=70.0).contains(&lam) {
            v += iod / 2.0;
        }
        if (-10.0..=0.0).contains(&phi) && (90.0..=110.0).contains(&lam) {
            v -= iod / 2.0;
        }
        v as f32
    });
    let mut meta = Meta::new("m", "tos", "K", Calendar::Standard);
    meta.kind = kind;
    Cube::new(
        values,
        Coords {
            init: inits,
            member: (0..members as i32).collect(),
            lead: (0..leads).map(|l| Lead::months(l as f64, 1.0)).collect(),
            spatial: Spatial::Grid { lat, lon },
        },
        meta,
    )
    .unwrap()
}

fn write(dir: &Path, name: &str, c: &Cube) -> String {
    let p = dir.join(name);
    write_cube(&p, c, &WriteOptions::default()).unwrap();
    p.to_str().unwrap().to_string()
}

/// Two models' SST hindcasts (2001–2020 May starts) and forecasts (May 2023), and an observed
/// monthly record, with a planted El Niño and positive IOD in 2023, written into `d` as
/// `names` (hindcast A, hindcast B, forecast A, forecast B, observations); their paths.
pub(crate) fn planted_el_nino_files(d: &Path, names: [&str; 5]) -> [String; 5] {
    let years: Vec<CfDateTime> = (2001..=2020).map(|y| CfDateTime::ymd(y, 5, 1)).collect();
    // hindcast climates: ±0.6 alternate years (mean 0)
    let alt = |i: usize| if i % 2 == 0 { 0.6 } else { -0.6 };
    let ha = sst(years.clone(), 4, 4, CubeKind::Forecast, |i, _| {
        (alt(i), alt(i))
    });
    let hb = sst(years.clone(), 3, 4, CubeKind::Forecast, |i, _| {
        (-alt(i), 0.0)
    });
    // forecasts from 1 May 2023: A all members +1.2 Niño, +0.5 IOD; B members +0.2, +0.8, +1.4
    let fa = sst(
        vec![CfDateTime::ymd(2023, 5, 1)],
        4,
        4,
        CubeKind::Forecast,
        |_, _| (1.2, 0.5),
    );
    let fb = sst(
        vec![CfDateTime::ymd(2023, 5, 1)],
        3,
        4,
        CubeKind::Forecast,
        |_, m| (0.2 + 0.6 * m as f64, 0.1),
    );
    // observed monthly record 2001-01 … 2023-04: 0 except +0.9 Niño in 2023
    let months: Vec<CfDateTime> = (0..268)
        .map(|k| CfDateTime::ymd(2001 + k / 12, (k % 12 + 1) as u32, 15))
        .collect();
    let obs_years: Vec<i32> = months.iter().map(|d| d.year).collect();
    let obs = sst(months, 1, 1, CubeKind::Observed, |i, _| {
        (if obs_years[i] == 2023 { 0.9 } else { 0.0 }, 0.0)
    });
    [
        write(d, names[0], &ha),
        write(d, names[1], &hb),
        write(d, names[2], &fa),
        write(d, names[3], &fb),
        write(d, names[4], &obs),
    ]
}

#[test]
fn planted_el_nino_and_iod_in_two_models_with_observations() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let [ha, hb, fa, fb, ob] =
        planted_el_nino_files(d, ["a_hc.nc", "b_hc.nc", "a_fc.nc", "b_fc.nc", "obs.nc"]);
    let (hc, fc) = (format!("{ha},{hb}"), format!("{fa},{fb}"));
    let out = d.join("drivers");
    let o = s2s(&[
        "drivers",
        "--hindcast",
        &hc,
        "--forecast",
        &fc,
        "--models",
        "A,B",
        "--obs",
        &ob,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("drivers.json")).unwrap()).unwrap();
    let nino = &json["plumes"][0];
    assert_eq!(nino["index"], "nino34");
    assert_eq!(nino["targets"][0], "2023-05");
    // MME: (1.2 + mean(0.2, 0.8, 1.4)) / 2 = 1.0; P(El Niño ≥ 0.5) = (1 + 2/3) / 2
    for l in 0..4 {
        let m = nino["mme_mean"][l].as_f64().unwrap();
        assert!((m - 1.0).abs() < 1e-4, "{m}");
        let p = nino["prob_positive"][l].as_f64().unwrap();
        assert!((p - 5.0 / 6.0).abs() < 1e-9, "{p}");
    }
    // observed: six months before the start (2022-11 … 2023-04), +0.9 from January 2023
    let o: Vec<(String, f64)> = serde_json::from_value(nino["observed"].clone()).unwrap();
    assert_eq!(o.len(), 6);
    assert_eq!(o[0].0, "2022-11");
    assert!(o[0].1.abs() < 1e-4 && (o[5].1 - 0.9).abs() < 1e-4, "{o:?}");
    let dmi = &json["plumes"][1];
    assert!((dmi["mme_mean"][0].as_f64().unwrap() - 0.3).abs() < 1e-4);
    let csv = std::fs::read_to_string(out.join("drivers.csv")).unwrap();
    assert!(csv.contains("nino34,B,2,0,2023-05,1.4000"), "{csv}");
    assert!(csv.contains("nino34,MME,mean,3,2023-08,1.0000"), "{csv}");
    for f in ["plume_nino34.png", "plume_dmi.png", "drivers.md"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let md = std::fs::read_to_string(out.join("drivers.md")).unwrap();
    assert!(md.contains("| 2023-05 | +1.00 |"), "{md}");
}

#[test]
fn a_regional_grid_gives_the_dipole_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bbox = s2s_ensemble::cube::BBox::new(40.0, 160.0, -20.0, 30.0).unwrap();
    let years: Vec<CfDateTime> = (2001..=2010).map(|y| CfDateTime::ymd(y, 5, 1)).collect();
    let h = sst(years, 2, 2, CubeKind::Forecast, |_, _| (0.0, 0.0))
        .select_bbox(&bbox)
        .unwrap();
    let f = sst(
        vec![CfDateTime::ymd(2023, 5, 1)],
        2,
        2,
        CubeKind::Forecast,
        |_, _| (0.0, -0.6),
    )
    .select_bbox(&bbox)
    .unwrap();
    let out = d.join("drivers");
    let o = s2s(&[
        "drivers",
        "--hindcast",
        &write(d, "h.nc", &h),
        "--forecast",
        &write(d, "f.nc", &f),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("dmi 2023-06: MME -0.60"), "{text}");
    assert!(text.contains("not computed: Niño 3.4"), "{text}");
}

/// `[drivers]` in the demo configuration: the bulletin gains the ENSO/IOD section with the
/// plumes from `drivers/`.
#[test]
fn drivers_section_of_the_outlook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let years: Vec<CfDateTime> = (2001..=2010).map(|y| CfDateTime::ymd(y, 5, 1)).collect();
    let h = sst(years, 2, 3, CubeKind::Forecast, |i, _| {
        if i % 2 == 0 {
            (0.4, 0.0)
        } else {
            (-0.4, 0.0)
        }
    });
    let f = sst(
        vec![CfDateTime::ymd(2023, 5, 1)],
        2,
        3,
        CubeKind::Forecast,
        |_, _| (-1.0, -0.5),
    );
    let (hp, fp) = (write(d, "sst_hc.nc", &h), write(d, "sst_fc.nc", &f));
    let text = crate::common::moved_demo_config();
    let cfg = d.join("with_drivers.toml");
    std::fs::write(
        &cfg,
        format!(
            "{text}\n[drivers]\nhindcast = [\"{hp}\"]\nforecast = [\"{fp}\"]\nmodels = [\"SYN\"]\n"
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
        md.contains("## Climate drivers: ENSO and the Indian Ocean Dipole"),
        "{md}"
    );
    assert!(
        md.contains("| 2023-05 | -1.00 | -1.00 … -1.00 | 0 % | 100 % |"),
        "{md}"
    );
    assert!(md.contains("](drivers/plume_nino34.png)"), "{md}");
    assert!(out.join("drivers/plume_dmi.png").exists());
    // in Russian: the section, the index and its phases from the catalogue, decimal commas
    let md = crate::common::russian_bulletin(&cfg, &d.join("bulletin_ru"));
    for words in [
        "## Климатические факторы: ЭНЮК и индоокеанский диполь",
        "### Аномалия ТПО в районе Ниньо-3.4",
        "| месяц | среднее ансамбля (°C) | диапазон 10–90 % | P(Эль-Ниньо) | P(Ла-Нинья) |",
        "| 2023-05 | -1,00 | -1,00 … -1,00 | 0 % | 100 % |",
    ] {
        assert!(md.contains(words), "{words}: {md}");
    }
    // the products' report and the words of the plumes are Russian too: other pictures
    let ru = d.join("bulletin_ru/drivers");
    let report = std::fs::read_to_string(ru.join("drivers.md")).unwrap();
    assert!(report.starts_with("# Климатические факторы"), "{report}");
    crate::common::assert_redrawn(&ru, &out.join("drivers"), "plume_nino34.png");
}
