//! `s2s extremes`: warm/cold spells of real station and area series against xclim and an
//! independent numpy count, and the subseasonal extremes outlook end to end from daily
//! hindcast and forecast files with a planted heat wave.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array5;
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{Coords, Cube, Lead, Meta, Spatial};
use s2s_ensemble::io::{write_cube, WriteOptions};

use crate::common::{fails, real, s2s, stderr};

type Table = HashMap<(String, i32), Vec<String>>;

fn table(path: &Path, key_cols: usize) -> (Vec<String>, Table) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut rows = HashMap::new();
    for l in lines {
        let c: Vec<String> = l.split(',').map(str::to_string).collect();
        let loc = if key_cols == 2 {
            c[1].clone()
        } else {
            String::new()
        };
        rows.insert((loc, c[0].parse().unwrap()), c);
    }
    (head, rows)
}

fn spells(dir: &Path, name: &str, args: &[&str]) -> Table {
    let out = dir.join(name);
    let mut all = vec!["extremes", "spells"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let o = s2s(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    table(&out, 2).1
}

/// xclim 0.62 `tx90p`, `warm_spell_duration_index` (6 and 3 days) and
/// `cold_spell_duration_index` of AHCCD tasmax with `percentile_doy(window=5)` over 1961–1990,
/// years with a missing day left out (`scripts/check/extremes_xclim.sh`): equal year by year.
#[test]
fn ahccd_spells_equal_xclim() {
    let dir = tempfile::tempdir().unwrap();
    let obs = real("bias_correction/ahccd_1950-2013.nc");
    let base = [
        "--base",
        "1961-1990",
        "--var",
        "tasmax",
        obs.to_str().unwrap(),
    ];
    let wsdi = spells(dir.path(), "wsdi.csv", &base);
    let mut a = vec!["--min-days", "3"];
    a.extend_from_slice(&base);
    let warm3 = spells(dir.path(), "warm3.csv", &a);
    let mut a = vec!["--kind", "cold"];
    a.extend_from_slice(&base);
    let csdi = spells(dir.path(), "csdi.csv", &a);
    let (head, xclim) = table(&real("bias_correction/ahccd_spells_xclim.csv"), 2);
    assert_eq!(
        head[2..],
        ["tx90p", "wsdi", "warm_spell_days_3", "csdi_of_tasmax"]
    );
    assert_eq!(xclim.len(), 192);
    let mut compared = 0;
    for (key, x) in &xclim {
        // columns of ours: year,location,lat,lon,exceedance_days,spell_days,…
        let pairs = [
            (&wsdi[key][4], &x[2]),
            (&wsdi[key][5], &x[3]),
            (&warm3[key][5], &x[4]),
            (&csdi[key][5], &x[5]),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs, "{key:?}");
            compared += usize::from(!theirs.is_empty());
        }
    }
    assert_eq!(compared, 4 * 165, "165 station-years without a missing day");
}

/// 3-day warm spells of the CPC Germany daily mean over its 1999–2020 calendar-day 90th
/// percentile and EHF heat-wave days, against numpy written from the definitions.
#[test]
fn germany_spells_and_ehf_equal_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let obs = real("verification/Observations_Germany.nc");
    let ours = spells(
        dir.path(),
        "ehf.csv",
        &[
            "--ehf",
            "--min-days",
            "3",
            "--base",
            "1999-2020",
            "--var",
            "t2m",
            obs.to_str().unwrap(),
        ],
    );
    let (_, numpy) = table(&real("verification/germany_spells_numpy.csv"), 1);
    assert_eq!(numpy.len(), 22);
    let by_year: HashMap<i32, &Vec<String>> = ours.iter().map(|((_, y), r)| (*y, r)).collect();
    for ((_, year), n) in &numpy {
        let o = by_year[year];
        // hot days, spell days, spell count, EHF heat-wave days
        assert_eq!(
            [&o[4], &o[5], &o[6], &o[8]],
            [&n[1], &n[2], &n[3], &n[4]],
            "{year}"
        );
    }
    // The hot summers stand out: 2003, 2018, 2019 each have 30 or more EHF heat-wave days.
    for y in [2003, 2018, 2019] {
        assert!(by_year[&y][8].parse::<f32>().unwrap() >= 30.0, "{y}");
    }
}

const LEADS: usize = 28;

/// Deterministic noise in [−1, 1) of a key (the synthetic daily set's).
fn noise(k: u64) -> f32 {
    s2s_ensemble::synth::daily::noise(0, &[k])
}

fn daily_cube(
    init: Vec<CfDateTime>,
    members: usize,
    f: impl Fn((usize, usize, usize, usize, usize)) -> f32,
) -> Cube {
    let ni = init.len();
    Cube::new(
        Array5::from_shape_fn((ni, members, LEADS, 2, 3), f),
        Coords {
            init,
            member: (0..members as i32).collect(),
            lead: (0..LEADS).map(|d| Lead::days(d as f64, 1.0)).collect(),
            spatial: Spatial::Grid {
                lat: vec![20.0, 22.0],
                lon: vec![78.0, 80.0, 82.0],
            },
        },
        Meta::new("demo", "tasmax", "degC", Calendar::Standard),
    )
    .unwrap()
}

#[test]
fn outlook_finds_a_planted_heat_wave_and_verifies_the_hindcast() {
    let dir = tempfile::tempdir().unwrap();
    let mut init = Vec::new();
    for y in 2001..2021 {
        for (m, d) in [(5, 18), (5, 25), (6, 1), (6, 8), (6, 15)] {
            init.push(CfDateTime::ymd(y, m, d));
        }
    }
    let hc = daily_cube(init, 4, |(i, m, l, y, x)| {
        32.0 + 2.0 * noise(((((i * 4 + m) * LEADS + l) * 2 + y) * 3 + x) as u64)
    });
    // 10 members at the climate's middle; members 0–5 +12 K on days 16–19 over the western
    // column only.
    let fc = daily_cube(vec![CfDateTime::ymd(2022, 6, 1)], 10, |(_, m, l, _, x)| {
        if m < 6 && (15..19).contains(&l) && x == 0 {
            44.0
        } else {
            32.0
        }
    });
    // Observations: member 0 of every hindcast start, as a daily series would be aligned.
    let hpath = dir.path().join("hindcast.nc");
    let fpath = dir.path().join("forecast.nc");
    write_cube(&hpath, &hc, &WriteOptions::default()).unwrap();
    write_cube(&fpath, &fc, &WriteOptions::default()).unwrap();
    let out = dir.path().join("ext");
    let o = s2s(&[
        "extremes",
        "outlook",
        "--hindcast",
        hpath.to_str().unwrap(),
        "--forecast",
        fpath.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = crate::common::nc_open(out.join("extremes_forecast.tasmax.nc")).unwrap();
    let v = f.variable("prob_heat_wave").unwrap();
    let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
    assert_eq!(dims, ["init", "lead", "lat", "lon"]);
    let p: Vec<f32> = v.get_values(..).unwrap();
    // (init 1, lead 3, lat 2, lon 3): week 3 is lead 2 of week 1, week 2, weeks 3–4.
    for y in 0..2 {
        for x in 0..3 {
            let at = |l: usize| p[(l * 2 + y) * 3 + x];
            assert_eq!(at(0), 0.0);
            assert_eq!(at(1), 0.0);
            assert_eq!(at(2), if x == 0 { 0.6 } else { 0.0 }, "cell {y},{x}");
        }
    }
    let bnds: Vec<f64> = f.variable("lead_bnds").unwrap().get_values(..).unwrap();
    assert_eq!(bnds, [0.0, 7.0, 7.0, 14.0, 14.0, 28.0]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("extremes_outlook.json")).unwrap())
            .unwrap();
    assert_eq!(json["m_climate_starts"], 100);
    assert_eq!(json["m_climate_size"], 400);
    let md = std::fs::read_to_string(out.join("extremes_outlook.md")).unwrap();
    assert!(md.contains("| weeks 3–4 | heat wave | 60 % |"), "{md}");
    for period in ["week-1", "week-2", "weeks-3-4"] {
        assert!(
            out.join(format!("map_terciles_{period}.png")).exists(),
            "{period}"
        );
        for wave in ["heat_wave", "cold_wave"] {
            let png = format!("map_extremes_{wave}_{period}.png");
            assert!(out.join(&png).exists(), "{png}");
            assert!(md.contains(&png), "{md}");
        }
    }
}

#[test]
fn bad_extremes_inputs_get_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    // A forecast (starts × leads) is not a daily series.
    let rmm = real("verification/GMAO-GEOS-V2p1.RMM1.nc");
    let e = fails(&[
        "extremes",
        "spells",
        rmm.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("is not a daily series"), "{e}");
    let obs = real("bias_correction/ahccd_1950-2013.nc");
    let e = fails(&[
        "extremes",
        "spells",
        "--base",
        "1900-1920",
        "--var",
        "tasmax",
        obs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("no day of the base period 1900-1920"), "{e}");
    let e = fails(&[
        "extremes",
        "spells",
        "--ehf",
        "--var",
        "pr",
        obs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("--ehf needs a daily mean temperature"), "{e}");
    assert!(!out.exists());
}
