//! `s2s emergency` on synthetic currents: exact drift in a uniform current and a solid-body
//! rotation, stranding on Sri Lanka, cyclone passage from planted storms, bad input.

use std::path::Path;

use crate::common::{s2s, stderr};

const R: f64 = 6_371_000.0;

fn synth_currents(dir: &Path, case: &str) -> String {
    let o = s2s(&["synth", "--currents", case, "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir.join("currents.nc").to_str().unwrap().to_string()
}

/// (lat, lon, status) of every trajectory at the record nearest `hours`.
fn positions(out: &Path, hours: f64) -> Vec<(f32, f32, i8)> {
    let nc = crate::common::nc_open(out.join("trajectories.nc")).unwrap();
    assert_eq!(
        nc.attribute("featureType").unwrap().value().unwrap(),
        netcdf::AttributeValue::Str("trajectory".into())
    );
    let t: Vec<f64> = nc.variable("time").unwrap().get_values(..).unwrap();
    let k = t.iter().position(|&x| (x - hours).abs() < 1e-6).unwrap();
    let n = nc.dimension("trajectory").unwrap().len();
    let get = |v: &str| -> Vec<f32> { nc.variable(v).unwrap().get_values((.., k)).unwrap() };
    let st: Vec<i8> = nc.variable("status").unwrap().get_values((.., k)).unwrap();
    let (la, lo) = (get("lat"), get("lon"));
    (0..n).map(|p| (la[p], lo[p], st[p])).collect()
}

/// The `emergency.json` of an output directory.
fn emergency_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("emergency.json")).unwrap()).unwrap()
}

/// A GeoJSON with one small island far away: a sea without coasts.
fn open_sea(dir: &Path) -> String {
    let p = dir.join("island.geojson");
    std::fs::write(&p, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Nowhere"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0.1,0],[0.1,0.1],[0,0.1],[0,0]]]}}]}"#).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn uniform_current_43_2_km_a_day_and_rotation_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let uniform = synth_currents(&d.join("u"), "uniform");
    let out = d.join("out_u");
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "82.5",
        "--start",
        "2020-09-01",
        "--days",
        "3",
        "--currents",
        &uniform,
        "--particles",
        "5",
        "--diffusivity",
        "0",
        "--release-radius-km",
        "0",
        "--countries",
        &sea,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (la, lo, st) in positions(&out, 24.0) {
        assert_eq!(st, 0);
        assert!((la - 7.0).abs() < 1e-5);
        let east = (lo as f64 - 82.5).to_radians() * R * 7f64.to_radians().cos();
        assert!((east - 43_200.0).abs() < 2.0, "{east}"); // f32 storage: ~1 m
    }
    // solid-body rotation about (7°N, 82.5°E), period 5 days: back after 5 days
    let rotation = synth_currents(&d.join("r"), "rotation");
    let out = d.join("out_r");
    let o = s2s(&[
        "emergency",
        "--lat",
        "10.0",
        "--lon",
        "82.5",
        "--start",
        "2020-09-01",
        "--days",
        "5",
        "--currents",
        &rotation,
        "--particles",
        "1",
        "--diffusivity",
        "0",
        "--release-radius-km",
        "0",
        "--countries",
        &sea,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let half = positions(&out, 60.0)[0]; // half a turn: 3° south of the centre
    assert!(
        (half.0 - 4.0).abs() < 0.01 && (half.1 - 82.5).abs() < 0.01,
        "{half:?}"
    );
    let (la, lo, _) = positions(&out, 120.0)[0];
    let miss = ((la as f64 - 10.0).to_radians().powi(2)
        + ((lo as f64 - 82.5).to_radians() * 10f64.to_radians().cos()).powi(2))
    .sqrt()
        * R;
    let circumference = std::f64::consts::TAU * 3f64.to_radians().sin() * R;
    assert!(miss < 1e-3 * circumference, "{miss} m");
}

#[test]
fn oil_west_of_sri_lanka_strands_on_its_coast() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uniform = synth_currents(&d.join("u"), "uniform");
    let out = d.join("out");
    let countries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/regions/countries_110m.geojson"
    );
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "79.0",
        "--start",
        "2020-09-01",
        "--days",
        "7",
        "--currents",
        &uniform,
        "--particles",
        "200",
        "--countries",
        countries,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = emergency_json(&out);
    let coast = &json["coasts"][0];
    assert_eq!(coast["country"], "Sri Lanka");
    // 0.85° of longitude at 7°N is 94 km: 2.2 days at 43.2 km/day
    let earliest = coast["earliest_hours"].as_f64().unwrap();
    assert!((42.0..60.0).contains(&earliest), "{earliest}");
    let by_day_7 = coast["probability_by_day"][2][1].as_f64().unwrap();
    assert!(by_day_7 > 0.95, "{by_day_7}");
    let md = std::fs::read_to_string(out.join("emergency.md")).unwrap();
    assert!(md.contains("reaches Sri Lanka's coast"), "{md}");
    let nc = crate::common::nc_open(out.join("drift_probability.nc")).unwrap();
    let p: Vec<f32> = nc
        .variable("position_probability")
        .unwrap()
        .get_values((0, .., ..))
        .unwrap();
    let total: f32 = p.iter().sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
}

#[test]
fn cyclone_passage_from_planted_storms() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let currents = synth_currents(&d.join("c"), "monsoon");
    let o = s2s(&[
        "synth",
        "--storms",
        "--step-hours",
        "6",
        "--days",
        "30",
        "--out",
        d.join("s").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("out");
    let countries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/regions/countries_110m.geojson"
    );
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "82.5",
        "--start",
        "2020-09-01",
        "--days",
        "14",
        "--currents",
        &currents,
        "--particles",
        "100",
        "--cyclone-fields",
        d.join("s/storms.nc").to_str().unwrap(),
        "--countries",
        countries,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = emergency_json(&out);
    let p = &json["cyclone_passage"];
    // member 2's storm moves west along ~6°N towards Sri Lanka: 1 of 4 members
    assert_eq!(p["cumulative"][13], 0.25);
    assert!(p["first_passage_days"][2].as_f64().is_some());
    assert!(p["first_passage_days"][0].is_null() && p["first_passage_days"][3].is_null());
    let md = std::fs::read_to_string(out.join("emergency.md")).unwrap();
    assert!(
        md.contains("25 % chance a tropical cyclone passes within 300 km"),
        "{md}"
    );
}

#[test]
fn bad_sites_and_short_currents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uniform = synth_currents(&d.join("u"), "uniform");
    let countries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/regions/countries_110m.geojson"
    );
    let run = |lat: &str, lon: &str, days: &str| {
        let o = s2s(&[
            "emergency",
            "--lat",
            lat,
            "--lon",
            lon,
            "--start",
            "2020-09-01",
            "--days",
            days,
            "--currents",
            &uniform,
            "--countries",
            countries,
            "--out",
            d.join("x").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        assert!(!d.join("x").join("emergency.json").exists());
        stderr(&o)
    };
    let e = run("7.5", "80.7", "5");
    assert!(e.contains("on land (Sri Lanka)"), "{e}");
    let e = run("7.0", "82.5", "60");
    assert!(e.contains("the currents cover"), "{e}");
}

/// `s2s emergency --config FILE` reads the `[emergency]` table (paths relative to the file)
/// and uses the bundled country polygons by default.
#[test]
fn config_file_and_bundled_countries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth_currents(&d.join("u"), "uniform");
    std::fs::write(
        d.join("e.toml"),
        "[emergency]\nlat = 7.0\nlon = 79.0\nstart = \"2020-09-01\"\ndays = 5\ncurrents = \"u/currents.nc\"\nparticles = 50\noutput = \"em\"\n",
    )
    .unwrap();
    let o = s2s(&["emergency", "--config", d.join("e.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = emergency_json(&d.join("em"));
    assert_eq!(json["coasts"][0]["country"], "Sri Lanka");
    assert_eq!(json["particles_per_member"], 50);
    let o = s2s(&[
        "emergency",
        "--config",
        d.join("e.toml").to_str().unwrap(),
        "--lat",
        "3",
    ]);
    assert!(!o.status.success());
}

/// Two models (comma-separated --currents), each weighing half: the JSON lists both, the
/// position probabilities still sum to one, and the oil west of Sri Lanka in the uniform
/// eastward current (half the weight) strands there with probability ≥ 0.5.
#[test]
fn two_models_weigh_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = synth_currents(&d.join("a"), "uniform");
    let b = synth_currents(&d.join("b"), "rotation");
    let out = d.join("out");
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "79.0",
        "--start",
        "2020-09-01",
        "--days",
        "7",
        "--currents",
        &format!("{a},{b}"),
        "--particles",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = emergency_json(&out);
    assert_eq!(json["members"], 8);
    assert_eq!(json["models"].as_array().unwrap().len(), 2);
    let sri_lanka = json["coasts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["country"] == "Sri Lanka")
        .unwrap();
    let p7 = sri_lanka["probability_by_day"][2][1].as_f64().unwrap();
    assert!(p7 >= 0.5 - 1e-9, "{p7}");
    let nc = crate::common::nc_open(out.join("drift_probability.nc")).unwrap();
    let p: Vec<f32> = nc
        .variable("position_probability")
        .unwrap()
        .get_values((0, .., ..))
        .unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
}

/// A plain `(time, lat, lon)` current file, 0.5 m/s eastward, whose velocity variables carry
/// `long_name` and, optionally, `units`.
fn plain_currents(path: &Path, long_names: [&str; 2], with_units: bool) {
    plain_currents_on(path, long_names, with_units, 0.5);
}

/// [`plain_currents`] on a grid of `step` degrees; a 1/12° grid is stored as float32 with
/// the 4–8e-6° wobble of real ocean-model files.
fn plain_currents_on(path: &Path, long_names: [&str; 2], with_units: bool, step: f64) {
    use crate::common::{coord, create, data_f32, A};
    let mut f = create(path);
    let t: Vec<f64> = (0..6).map(f64::from).collect();
    let (ny, nx) = (
        (14.0 / step).round() as usize + 1,
        (15.0 / step).round() as usize + 1,
    );
    let wobble = |i: usize| {
        if step < 0.1 {
            [6e-6, -8e-6, 4e-6][i % 3]
        } else {
            0.0
        }
    };
    let lat: Vec<f64> = (0..ny).map(|i| 1.0 + step * i as f64 + wobble(i)).collect();
    let lon: Vec<f64> = (0..nx)
        .map(|i| 75.0 + step * i as f64 + wobble(i + 1))
        .collect();
    coord(
        &mut f,
        "time",
        &t,
        &[("units", A::T("days since 2020-09-01"))],
    );
    for (name, axis, units) in [
        ("lat", &lat, "degrees_north"),
        ("lon", &lon, "degrees_east"),
    ] {
        f.add_dimension(name, axis.len()).unwrap();
        let mut v = f.add_variable::<f32>(name, &[name]).unwrap();
        v.put_attribute("units", units).unwrap();
        let stored: Vec<f32> = axis.iter().map(|&x| x as f32).collect();
        v.put_values(&stored, ..).unwrap();
    }
    let n = t.len() * ny * nx;
    for (name, value, long_name) in [("uo", 0.5f32, long_names[0]), ("vo", 0.0, long_names[1])] {
        let mut attrs = vec![("long_name", A::T(long_name))];
        if with_units {
            attrs.push(("units", A::T("m s-1")));
        }
        data_f32(
            &mut f,
            name,
            &["time", "lat", "lon"],
            &vec![value; n],
            &attrs,
        );
    }
}

/// Units only in `long_name` ("eastward_sea_water_velocity (m/s)") are read, and `inspect`
/// says where they came from; a file with no units anywhere is refused until
/// `--assume-units VAR=UNITS` (global, repeatable) or the configuration's `units` gives them.
#[test]
fn current_units_from_long_name_or_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let in_long_name = d.join("cur_long_name.nc");
    plain_currents(
        &in_long_name,
        [
            "eastward_sea_water_velocity (m/s)",
            "northward_sea_water_velocity (m/s)",
        ],
        false,
    );
    let o = s2s(&["inspect", "--var", "uo", in_long_name.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = crate::common::stdout(&o);
    assert!(text.contains("'m/s' (from long_name"), "{text}");
    let run = |currents: &Path, out: &str, extra: &[&str]| {
        let mut args = vec![
            "emergency",
            "--lat",
            "7.0",
            "--lon",
            "80.0",
            "--start",
            "2020-09-01",
            "--days",
            "2",
            "--currents",
            currents.to_str().unwrap(),
            "--particles",
            "2",
            "--diffusivity",
            "0",
            "--release-radius-km",
            "0",
            "--countries",
            &sea,
            "--out",
        ];
        let out = d.join(out);
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        (s2s(&args), out)
    };
    let (o, out) = run(&in_long_name, "a", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (la, lo, _) in positions(&out, 24.0) {
        let east = (lo as f64 - 80.0).to_radians() * R * 7f64.to_radians().cos();
        assert!(
            (la - 7.0).abs() < 1e-5 && (east - 43_200.0).abs() < 2.0,
            "{east}"
        );
    }

    let bare = d.join("cur_bare.nc");
    plain_currents(&bare, ["eastward current", "northward current"], false);
    let (o, _) = run(&bare, "b", &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("uo") && e.contains("units"), "{e}");
    let (o, out) = run(
        &bare,
        "c",
        &["--assume-units", "uo=m/s", "--assume-units", "vo=m/s"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, lo, _) = positions(&out, 24.0)[0];
    assert!((lo - 80.39).abs() < 0.01, "{lo}");
    // cm/s assumed: 100 times slower
    let (o, out) = run(&bare, "d", &["--assume-units", "cm/s"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, lo, _) = positions(&out, 24.0)[0];
    assert!((lo - 80.0039).abs() < 1e-3, "{lo}");
    // the configuration's `units` table
    std::fs::write(
        d.join("e.toml"),
        format!(
            "units = {{ uo = \"m/s\", vo = \"m/s\" }}\n[emergency]\nlat = 7.0\nlon = 80.0\nstart = \"2020-09-01\"\ndays = 2\ncurrents = \"{}\"\nparticles = 2\ndiffusivity = 0.0\nrelease_radius_km = 0.0\noutput = \"em\"\n",
            bare.display()
        ),
    )
    .unwrap();
    let o = s2s(&[
        "emergency",
        "--config",
        d.join("e.toml").to_str().unwrap(),
        "--countries",
        &sea,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// 1/12° float32 coordinates that wobble by 4–8e-6° are a regular grid: the drift runs and
/// goes 43.2 km a day in 0.5 m/s, as on the exact grid.
#[test]
fn jittered_twelfth_degree_currents_drift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let cur = d.join("cur_12th.nc");
    plain_currents_on(&cur, ["u", "v"], true, 1.0 / 12.0);
    let out = d.join("o");
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "80.0",
        "--start",
        "2020-09-01",
        "--days",
        "2",
        "--currents",
        cur.to_str().unwrap(),
        "--particles",
        "2",
        "--diffusivity",
        "0",
        "--release-radius-km",
        "0",
        "--countries",
        &sea,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (la, lo, _) in positions(&out, 24.0) {
        let east = (lo as f64 - 80.0).to_radians() * R * 7f64.to_radians().cos();
        assert!(
            (la - 7.0).abs() < 1e-4 && (east - 43_200.0).abs() < 5.0,
            "{east}"
        );
    }
    let o = s2s(&["inspect", cur.to_str().unwrap(), "--var", "uo"]);
    assert!(
        crate::common::stdout(&o).contains("regular lat/lon grid"),
        "{}",
        crate::common::stdout(&o)
    );
}

/// Uniform 10 m/s eastward winds on a 1° grid (coarser than the 0.5° currents) over `days`.
fn coarse_winds(path: &Path, days: usize) {
    use crate::common::{coord, create, data_f32, A};
    let mut f = create(path);
    let t: Vec<f64> = (0..days).map(|d| d as f64).collect();
    let lat: Vec<f64> = (0..17).map(f64::from).collect(); // 0..16
    let lon: Vec<f64> = (0..18).map(|i| 74.0 + f64::from(i)).collect(); // 74..91
    coord(
        &mut f,
        "time",
        &t,
        &[("units", A::T("days since 2020-09-01"))],
    );
    coord(&mut f, "lat", &lat, &[("units", A::T("degrees_north"))]);
    coord(&mut f, "lon", &lon, &[("units", A::T("degrees_east"))]);
    let n = t.len() * lat.len() * lon.len();
    for (name, value) in [("uas", 10.0f32), ("vas", 0.0)] {
        data_f32(
            &mut f,
            name,
            &["time", "lat", "lon"],
            &vec![value; n],
            &[("units", A::T("m s-1"))],
        );
    }
}

/// Winds are sampled on their own (coarser) grid: 0.5 m/s current + 2 % of 10 m/s wind =
/// 0.7 m/s, 60.48 km a day; winds that end before the run stop it with an error naming them.
#[test]
fn winds_on_their_own_grid_and_time_axis() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let cur = d.join("cur.nc");
    plain_currents(&cur, ["u", "v"], true);
    let run = |wind: &Path, days: &str, out: &str, extra: &[&str]| {
        let out = d.join(out);
        let mut args = vec![
            "emergency",
            "--lat",
            "7.0",
            "--lon",
            "80.0",
            "--start",
            "2020-09-01",
            "--days",
            days,
            "--currents",
            cur.to_str().unwrap(),
            "--wind",
            wind.to_str().unwrap(),
            "--windage",
            "0.02",
            "--particles",
            "2",
            "--diffusivity",
            "0",
            "--release-radius-km",
            "0",
            "--countries",
            &sea,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        (s2s(&args), out)
    };
    let full = d.join("wind_full.nc");
    coarse_winds(&full, 6);
    let (o, out) = run(&full, "2", "a", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (la, lo, _) in positions(&out, 24.0) {
        let east = (lo as f64 - 80.0).to_radians() * R * 7f64.to_radians().cos();
        assert!(
            (la - 7.0).abs() < 1e-5 && (east - 60_480.0).abs() < 3.0,
            "{east}"
        );
    }
    let short = d.join("wind_short.nc");
    coarse_winds(&short, 2);
    let (o, out) = run(&short, "5", "b", &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("wind_short.nc") && e.contains("the winds cover 0.0 to 1.0 days"),
        "{e}"
    );
    assert!(!out.join("emergency.json").exists());
    // --allow-persistence: the last wind field is held, and the bulletin says so
    let (o, out) = run(&short, "4", "c", &["--allow-persistence"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = emergency_json(&out);
    let w = json["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("wind_short.nc") && w.contains("persistence"),
        "{w}"
    );
    let md = std::fs::read_to_string(out.join("emergency.md")).unwrap();
    assert!(md.contains("**Warning:** the winds of"), "{md}");
    let (_, lo, _) = positions(&out, 72.0)[0];
    let east = (lo as f64 - 80.0).to_radians() * R * 7f64.to_radians().cos();
    assert!((east - 3.0 * 60_480.0).abs() < 10.0, "{east}");
}

/// The ocean model's own land (NaN currents east of 81°E) is a coast: particles drifting east
/// into it are stranded and the coast table names the model coast, not "outside domain".
#[test]
fn masked_current_cells_are_a_coast() {
    use crate::common::{coord, create, data_f32, A};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let cur = d.join("cur_mask.nc");
    {
        let mut f = create(&cur);
        let t: Vec<f64> = (0..6).map(f64::from).collect();
        let lat: Vec<f64> = (0..29).map(|i| 1.0 + 0.5 * f64::from(i)).collect();
        let lon: Vec<f64> = (0..31).map(|i| 75.0 + 0.5 * f64::from(i)).collect();
        coord(
            &mut f,
            "time",
            &t,
            &[("units", A::T("days since 2020-09-01"))],
        );
        coord(&mut f, "lat", &lat, &[("units", A::T("degrees_north"))]);
        coord(&mut f, "lon", &lon, &[("units", A::T("degrees_east"))]);
        let cell = |k: usize| if lon[k % 31] >= 81.0 { f32::NAN } else { 1.0 };
        let n = 6 * 29 * 31;
        let u: Vec<f32> = (0..n).map(|k| cell(k) * 0.5).collect();
        let v: Vec<f32> = (0..n).map(|k| cell(k) * 0.0).collect();
        for (name, vals) in [("uo", u), ("vo", v)] {
            data_f32(
                &mut f,
                name,
                &["time", "lat", "lon"],
                &vals,
                &[("units", A::T("m s-1")), ("_FillValue", A::F32(f32::NAN))],
            );
        }
    }
    let out = d.join("o");
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "80.0",
        "--start",
        "2020-09-01",
        "--days",
        "4",
        "--currents",
        cur.to_str().unwrap(),
        "--particles",
        "4",
        "--diffusivity",
        "0",
        "--release-radius-km",
        "0",
        "--countries",
        &sea,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 0.5 m/s covers the 0.5°..1° to the masked cells in about 1.5–3 days: stranded by day 4
    let last = positions(&out, 96.0);
    assert!(
        last.iter()
            .all(|&(_, lo, st)| st == 1 && (80.4..81.0).contains(&lo)),
        "{last:?}"
    );
    let json = emergency_json(&out);
    assert!(
        json["coasts"][0]["country"]
            .as_str()
            .unwrap()
            .starts_with("model coast"),
        "{}",
        json["coasts"]
    );
}

#[test]
fn a_particle_cloud_beyond_the_memory_budget_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uniform = synth_currents(&d.join("u"), "uniform");
    let out = d.join("out");
    let o = s2s(&[
        "emergency",
        "--lat",
        "7.0",
        "--lon",
        "82.5",
        "--start",
        "2020-09-01",
        "--days",
        "30",
        "--currents",
        &uniform,
        "--particles",
        "100000000",
        "--countries",
        &open_sea(d),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("memory budget") && err.contains("--particles"),
        "{err}"
    );
    assert!(!out.join("trajectories.nc").exists());
}

/// A ROMS-style file: an Arakawa C grid of 0.05° cells turned 30° from east (`xi` points
/// 30° north of east), `u` on the u-points and `v` on the v-points as grid-relative
/// components (ROMS' standard names, units "meter second-1"), `lon_rho/lat_rho`,
/// `lon_u/lat_u`, `lon_v/lat_v` named in `coordinates`; the water moves due east at
/// `east_m_s`. With `standard_names = false` the components carry none; with `roms_type` the
/// file says it is a ROMS history file (global `type`), as ROMS writes it.
fn roms_like_currents(path: &Path, east_m_s: f64, standard_names: bool, roms_type: bool) {
    use crate::common::{coord, create, data_f32, A};
    let angle = 30f64.to_radians();
    let (spacing, origin) = (0.05, (5.0f64, 79.0f64));
    let (ny, nx) = (80usize, 80usize);
    // position of (fractional) grid point (j, i): a small rotated box on the sphere
    let at = |j: f64, i: f64| {
        let e = spacing * (i * angle.cos() - j * angle.sin());
        let n = spacing * (i * angle.sin() + j * angle.cos());
        let lat = origin.0 + n;
        (lat, origin.1 + e / lat.to_radians().cos())
    };
    let mut f = create(path);
    if roms_type {
        f.add_attribute("type", "ROMS/TOMS history file").unwrap();
    }
    let days: Vec<f64> = (0..4).map(|d| 86_400.0 * f64::from(d)).collect();
    coord(
        &mut f,
        "ocean_time",
        &days,
        &[("units", A::T("seconds since 2020-09-01 00:00:00"))],
    );
    for (name, len) in [
        ("eta_rho", ny),
        ("xi_rho", nx),
        ("xi_u", nx - 1),
        ("eta_v", ny - 1),
    ] {
        f.add_dimension(name, len).unwrap();
    }
    // (points, dimensions, shape, offset in cells from the rho points)
    let grids = [
        ("rho", ["eta_rho", "xi_rho"], (ny, nx), (0.0, 0.0)),
        ("u", ["eta_rho", "xi_u"], (ny, nx - 1), (0.0, 0.5)),
        ("v", ["eta_v", "xi_rho"], (ny - 1, nx), (0.5, 0.0)),
    ];
    for (tag, dims, (gy, gx), (dj, di)) in grids {
        let mut lat = Vec::with_capacity(gy * gx);
        let mut lon = Vec::with_capacity(gy * gx);
        for j in 0..gy {
            for i in 0..gx {
                let (a, o) = at(j as f64 + dj, i as f64 + di);
                lat.push(a);
                lon.push(o);
            }
        }
        for (name, vals, units) in [
            (format!("lat_{tag}"), lat, "degree_north"),
            (format!("lon_{tag}"), lon, "degree_east"),
        ] {
            let mut v = f.add_variable::<f64>(&name, &dims).unwrap();
            v.put_attribute("units", units).unwrap();
            v.put_values(&vals, ..).unwrap();
        }
    }
    // grid components of a due-east current: along xi cos(30°), along eta −sin(30°)
    for (name, dims, n, value, std, coords) in [
        (
            "u",
            ["ocean_time", "eta_rho", "xi_u"],
            ny * (nx - 1),
            east_m_s * angle.cos(),
            "sea_water_x_velocity_at_u_location",
            "lon_u lat_u ocean_time",
        ),
        (
            "v",
            ["ocean_time", "eta_v", "xi_rho"],
            (ny - 1) * nx,
            -east_m_s * angle.sin(),
            "sea_water_y_velocity_at_v_location",
            "lon_v lat_v ocean_time",
        ),
    ] {
        let mut attrs = vec![
            ("units", A::T("meter second-1")),
            ("coordinates", A::T(coords)),
        ];
        if standard_names {
            attrs.push(("standard_name", A::T(std)));
        }
        data_f32(
            &mut f,
            name,
            &dims,
            &vec![value as f32; days.len() * n],
            &attrs,
        );
    }
}

/// Grid-relative currents of a rotated, staggered (ROMS-style) grid: `s2s emergency` rotates
/// them to east/north at the u-points (v brought there first), regrids onto a lon/lat grid at
/// the model's resolution and drifts: a due-east 0.2 m/s current moves the particles 17.28 km
/// east in a day — read as if the components were east/north, they would go 30° off. Without
/// standard names the file is refused with the ncatted command that gives them.
#[test]
fn grid_relative_currents_of_a_rotated_staggered_grid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let run = |currents: &Path, out: &Path| {
        drift_without_spread(currents.to_str().unwrap(), ("7.5", "79.5"), "1", &sea, out)
    };
    let roms = d.join("roms_his.nc");
    roms_like_currents(&roms, 0.2, true, false);
    // ROMS' own files often give u and v no standard name: the `type` attribute says what
    // they are
    let roms_own = d.join("roms_own.nc");
    roms_like_currents(&roms_own, 0.2, false, true);
    for (file, out) in [(&roms, d.join("out")), (&roms_own, d.join("out_own"))] {
        let o = run(file, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        check_due_east(&out);
    }
    let bare = d.join("roms_bare.nc");
    roms_like_currents(&bare, 0.2, false, false);
    let o = run(&bare, &d.join("out_bare"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("curvilinear")
            && e.contains("ncatted -a standard_name,u,o,c,sea_water_x_velocity"),
        "{e}"
    );
    assert!(!d.join("out_bare").join("trajectories.nc").exists());
}

/// [`grid_relative_currents_of_a_rotated_staggered_grid`]'s particles after a day: 17.28 km
/// due east of the release.
fn check_due_east(out: &Path) {
    for (la, lo, status) in positions(out, 24.0) {
        assert_eq!(status, 0, "still drifting");
        let north = (f64::from(la) - 7.5).to_radians() * R;
        let east = (f64::from(lo) - 79.5).to_radians() * R * 7.5f64.to_radians().cos();
        assert!(
            // measured: 5 m short and 8 m south (axis directions by finite differences, the
            // regridding of a field that is uniform in east/north)
            (east - 17_280.0).abs() < 30.0 && north.abs() < 30.0,
            "east {east:.1} m, north {north:.1} m"
        );
    }
}

/// 3-D ocean currents `(time, level, lat, lon)`: 0.5 m/s east in the level nearest the
/// surface, 0.1 m/s below. `levels` with `positive` ("down" for depth in metres, "up" for
/// ROMS' s_rho from the bottom at −1 to the surface at 0) and the standard name.
fn layered_currents(path: &Path, dim: &str, levels: &[f64], positive: &str, std: &str) {
    use crate::common::{coord, create, data_f32, A};
    let mut f = create(path);
    let t: Vec<f64> = (0..4).map(f64::from).collect();
    coord(
        &mut f,
        "time",
        &t,
        &[("units", A::T("days since 2020-09-01"))],
    );
    let units = if positive == "down" { "m" } else { "1" };
    coord(
        &mut f,
        dim,
        levels,
        &[
            ("standard_name", A::T(std)),
            ("positive", A::T(positive)),
            ("units", A::T(units)),
        ],
    );
    let lat: Vec<f64> = (0..29).map(|i| 1.0 + 0.5 * f64::from(i)).collect();
    let lon: Vec<f64> = (0..31).map(|i| 75.0 + 0.5 * f64::from(i)).collect();
    coord(&mut f, "lat", &lat, &[("units", A::T("degrees_north"))]);
    coord(&mut f, "lon", &lon, &[("units", A::T("degrees_east"))]);
    let surface = if positive == "down" {
        0
    } else {
        levels.len() - 1
    };
    let per_level = lat.len() * lon.len();
    let mut uo = Vec::new();
    for _ in &t {
        for k in 0..levels.len() {
            let speed = if k == surface { 0.5f32 } else { 0.1 };
            uo.extend(std::iter::repeat(speed).take(per_level));
        }
    }
    let dims = ["time", dim, "lat", "lon"];
    for (name, values, sn) in [
        ("uo", uo.clone(), "eastward_sea_water_velocity"),
        ("vo", vec![0.0; uo.len()], "northward_sea_water_velocity"),
    ] {
        data_f32(
            &mut f,
            name,
            &dims,
            &values,
            &[("units", A::T("m s-1")), ("standard_name", A::T(sn))],
        );
    }
}

/// An ocean model's 3-D currents: the drift takes the level nearest the surface (depth 0.5 m
/// of a positive-down axis; the last s_rho of a positive-up one) and goes 43.2 km a day in its
/// 0.5 m/s; `inspect` describes the ocean level; a job that needs one level and was not told
/// which (regrid) says how to pick it.
#[test]
fn three_d_currents_drift_with_their_surface_level() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    for (case, dim, levels, positive, std) in [
        ("z", "depth", vec![0.5, 10.0, 50.0], "down", "depth"),
        (
            "s",
            "s_rho",
            vec![-0.9, -0.5, -0.05],
            "up",
            "ocean_s_coordinate_g2",
        ),
    ] {
        let cur = d.join(format!("cur_{case}.nc"));
        layered_currents(&cur, dim, &levels, positive, std);
        let o = s2s(&["inspect", "--var", "uo", cur.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = crate::common::stdout(&o);
        assert!(text.contains(&format!("{dim}=ocean level")), "{text}");
        let out = d.join(format!("out_{case}"));
        let o = drift_without_spread(cur.to_str().unwrap(), ("7.0", "80.0"), "1", &sea, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        for (_, lo, _) in positions(&out, 24.0) {
            let east = (f64::from(lo) - 80.0).to_radians() * R * 7f64.to_radians().cos();
            assert!((east - 43_200.0).abs() < 5.0, "{case}: {east}");
        }
        let o = s2s(&[
            "regrid",
            "--method",
            "bilinear",
            "--grid",
            "1",
            cur.to_str().unwrap(),
            d.join(format!("r_{case}.nc")).to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.contains("3 levels") && e.contains(&format!("ncks -d {dim},K")),
            "{e}"
        );
    }
}

/// NEMO's native output: `vozocrtx` in a `grid_U` file and `vomecrty` in a `grid_V` file,
/// each on its own points of the C grid (`nav_lon`/`nav_lat` of the U or V points, named in
/// `coordinates`), with a `depthu`/`depthv` axis (the surface first) and `time_counter` in
/// seconds since 1900; the grid turned 30° from east as in [`roms_like_currents`], the water
/// moving due east at `east_m_s` in the top level and not below.
fn nemo_like_currents(dir: &Path, east_m_s: f64) -> (std::path::PathBuf, std::path::PathBuf) {
    use crate::common::{coord, create, data_f32, A};
    let angle = 30f64.to_radians();
    let (spacing, origin) = (0.05, (5.0f64, 79.0f64));
    let (ny, nx) = (80usize, 80usize);
    let at = |j: f64, i: f64| {
        let e = spacing * (i * angle.cos() - j * angle.sin());
        let n = spacing * (i * angle.sin() + j * angle.cos());
        let lat = origin.0 + n;
        (lat, origin.1 + e / lat.to_radians().cos())
    };
    // 2020-09-01 00:00 is 44 073 days = 3 807 907 200 s after 1900-01-01
    let times: Vec<f64> = (0..4)
        .map(|d| 3_807_907_200.0 + 86_400.0 * f64::from(d))
        .collect();
    let mut paths = Vec::new();
    for (grid, var, std, depth, (dj, di), value) in [
        (
            "U",
            "vozocrtx",
            "sea_water_x_velocity",
            "depthu",
            (0.0, 0.5),
            east_m_s * angle.cos(),
        ),
        (
            "V",
            "vomecrty",
            "sea_water_y_velocity",
            "depthv",
            (0.5, 0.0),
            -east_m_s * angle.sin(),
        ),
    ] {
        let path = dir.join(format!("NEMO_1d_20200901_grid_{grid}.nc"));
        let mut f = create(&path);
        coord(
            &mut f,
            "time_counter",
            &times,
            &[("units", A::T("seconds since 1900-01-01 00:00:00"))],
        );
        coord(
            &mut f,
            depth,
            &[0.494, 1.54, 2.65],
            &[
                ("units", A::T("m")),
                ("positive", A::T("down")),
                ("standard_name", A::T("depth")),
            ],
        );
        f.add_dimension("y", ny).unwrap();
        f.add_dimension("x", nx).unwrap();
        let mut lat = Vec::with_capacity(ny * nx);
        let mut lon = Vec::with_capacity(ny * nx);
        for j in 0..ny {
            for i in 0..nx {
                let (a, o) = at(j as f64 + dj, i as f64 + di);
                lat.push(a as f32);
                lon.push(o as f32);
            }
        }
        for (name, vals, units, sn) in [
            ("nav_lat", &lat, "degrees_north", "latitude"),
            ("nav_lon", &lon, "degrees_east", "longitude"),
        ] {
            data_f32(
                &mut f,
                name,
                &["y", "x"],
                vals,
                &[("units", A::T(units)), ("standard_name", A::T(sn))],
            );
        }
        let n = ny * nx;
        let mut values = Vec::with_capacity(times.len() * 3 * n);
        for _ in &times {
            for k in 0..3 {
                let v = if k == 0 { value as f32 } else { 0.0 };
                values.extend(std::iter::repeat(v).take(n));
            }
        }
        data_f32(
            &mut f,
            var,
            &["time_counter", depth, "y", "x"],
            &values,
            &[
                ("units", A::T("m/s")),
                ("standard_name", A::T(std)),
                ("coordinates", A::T("time_counter nav_lat nav_lon")),
            ],
        );
        paths.push(path);
    }
    (paths[0].clone(), paths[1].clone())
}

/// NEMO's two files given as one forcing, `--currents 'grid_U.nc;grid_V.nc'`: each component
/// read from its own file at its own points and top level, v moved to the U points, rotated
/// and regridded — the particles go 17.28 km due east in a day.
#[test]
fn nemo_currents_from_their_u_and_v_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sea = open_sea(d);
    let (u, v) = nemo_like_currents(d, 0.2);
    let currents = format!("{};{}", u.display(), v.display());
    let out = d.join("out");
    let o = drift_without_spread(&currents, ("7.5", "79.5"), "1", &sea, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    check_due_east(&out);
}

/// `s2s emergency` of a few particles without diffusion or release radius (every particle
/// follows the same path) from `(lat, lon)` on 2020-09-01 for `days`.
fn drift_without_spread(
    currents: &str,
    (lat, lon): (&str, &str),
    days: &str,
    sea: &str,
    out: &Path,
) -> std::process::Output {
    s2s(&[
        "emergency",
        "--lat",
        lat,
        "--lon",
        lon,
        "--start",
        "2020-09-01",
        "--days",
        days,
        "--currents",
        currents,
        "--particles",
        "2",
        "--diffusivity",
        "0",
        "--release-radius-km",
        "0",
        "--countries",
        sea,
        "--out",
        out.to_str().unwrap(),
    ])
}
