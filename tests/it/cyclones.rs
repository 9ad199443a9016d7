//! `s2s synth --storms` and `s2s cyclones detect|track` on NetCDF files: every planted storm
//! found at every step within one grid length, no false tracks, TE formats, units, bad input.

use std::path::Path;

use s2s_ensemble::cyclone::{parse_tracks_csv, Track};
use s2s_ensemble::grid::great_circle;
use s2s_ensemble::synth::storms::StormConfig;

use crate::common::{coord, create, data_f32, plain_obs, s2s, stderr, A};

/// `(storm_id, member, time, lat, lon)` rows of `storms_truth.csv`.
fn truth(path: &Path) -> Vec<(usize, i32, String, f64, f64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].parse().unwrap(),
                c[1].parse().unwrap(),
                c[2].to_string(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
            )
        })
        .collect()
}

/// `s2s synth --storms` daily for `days` days from 1 September of `year` into `dir`; returns
/// the fields file.
fn synth_storms(dir: &Path, days: usize, year: i32) -> std::path::PathBuf {
    let o = s2s(&[
        "synth",
        "--storms",
        "--step-hours",
        "24",
        "--days",
        &days.to_string(),
        "--start",
        &format!("{year}-09-01"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir.join("storms.nc")
}

fn time_label(t: &s2s_ensemble::cyclone::TrackPoint) -> String {
    t.time.iso_datetime()
}

/// Every planted storm is one track with a point at each of its steps within 1° (the grid
/// length) of the true centre; and there are no other tracks.
fn assert_matches_truth(tracks: &[Track], truth: &[(usize, i32, String, f64, f64)]) {
    let n_storms = truth.iter().map(|t| t.0).max().unwrap();
    assert_eq!(tracks.len(), n_storms, "one track per planted storm");
    for id in 1..=n_storms {
        let pts: Vec<_> = truth.iter().filter(|t| t.0 == id).collect();
        let genesis = pts[0];
        let tr = tracks
            .iter()
            .find(|tr| {
                tr.member == genesis.1
                    && tr.points.iter().any(|p| {
                        time_label(p) == genesis.2
                            && great_circle(p.node.lat, p.node.lon, genesis.3, genesis.4)
                                .to_degrees()
                                < 1.0
                    })
            })
            .unwrap_or_else(|| panic!("storm {id} not tracked"));
        assert_eq!(tr.points.len(), pts.len(), "storm {id}: every step");
        for (p, t) in tr.points.iter().zip(&pts) {
            assert_eq!(time_label(p), t.2);
            let err = great_circle(p.node.lat, p.node.lon, t.3, t.4).to_degrees();
            assert!(err < 1.0, "storm {id} at {}: {err:.2}°", t.2);
            assert!(p.node.psl_pa > 90_000.0 && p.node.psl_pa < 101_500.0);
        }
    }
}

#[test]
fn planted_storms_are_tracked_with_te_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth_storms(d, 20, 2020);
    let csv = d.join("tracks.csv");
    let gfdl = d.join("tracks.txt");
    let o = s2s(&[
        "cyclones",
        "track",
        "--thickness",
        "zthick",
        "--stitchnodes",
        gfdl.to_str().unwrap(),
        d.join("storms.nc").to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("wind,>=,10,3"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("track_id,member,time,lat,lon,psl,wind\n"));
    let tracks = parse_tracks_csv(&text, "tracks.csv").unwrap();
    assert_matches_truth(&tracks, &truth(&d.join("storms_truth.csv")));
    assert!(
        tracks.iter().all(|t| t.member != 3),
        "member 3 has no storm"
    );
    // StitchNodes text: one `start` header per track with its point count.
    let g = std::fs::read_to_string(&gfdl).unwrap();
    let starts: Vec<usize> = g
        .lines()
        .filter(|l| l.starts_with("start"))
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        starts,
        tracks.iter().map(|t| t.points.len()).collect::<Vec<_>>()
    );

    // detect: DetectNodes text, one block per member, a count line per day.
    let nodes = d.join("nodes.txt");
    let o = s2s(&[
        "cyclones",
        "detect",
        d.join("storms.nc").to_str().unwrap(),
        "--out",
        nodes.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let n = std::fs::read_to_string(&nodes).unwrap();
    assert_eq!(n.lines().filter(|l| l.starts_with("# member")).count(), 4);
    assert_eq!(
        n.lines().filter(|l| l.starts_with("2020\t")).count(),
        4 * 20
    );
}

/// One member written as a plain `(time, lat, lon)` file with pressure in hPa and wind speed in
/// knots: the same storm is found (units converted), numbered member 0.
#[test]
fn single_member_file_in_hpa_and_knots() {
    let cfg = StormConfig::demo(24.0, 20).unwrap();
    let f = cfg.member_fields(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("member2.nc");
    let mut nc = create(&path);
    let days: Vec<f64> = (0..cfg.steps).map(|t| t as f64).collect();
    coord(
        &mut nc,
        "time",
        &days,
        &[
            ("units", A::T("days since 2020-09-01")),
            ("calendar", A::T("proleptic_gregorian")),
        ],
    );
    coord(
        &mut nc,
        "lat",
        &cfg.lat,
        &[("units", A::T("degrees_north"))],
    );
    coord(&mut nc, "lon", &cfg.lon, &[("units", A::T("degrees_east"))]);
    let hpa: Vec<f32> = f.psl.iter().map(|p| p / 100.0).collect();
    let knots: Vec<f32> = f
        .uas
        .iter()
        .zip(f.vas.iter())
        .map(|(u, v)| u.hypot(*v) / 0.514_444)
        .collect();
    let dims = ["time", "lat", "lon"];
    data_f32(&mut nc, "msl", &dims, &hpa, &[("units", A::T("hPa"))]);
    data_f32(&mut nc, "wspd", &dims, &knots, &[("units", A::T("knots"))]);
    drop(nc);
    let csv = dir.path().join("t.csv");
    let o = s2s(&[
        "cyclones",
        "track",
        path.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tracks = parse_tracks_csv(&std::fs::read_to_string(&csv).unwrap(), "t.csv").unwrap();
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].member, 0);
    // the storm moving west towards Sri Lanka: 6 days, ending near 82–84°E
    assert_eq!(tracks[0].points.len(), 6);
    let last = tracks[0].points.last().unwrap().node;
    assert!(
        (last.lon - 84.0).abs() <= 1.0 && (last.lat - 6.5).abs() <= 1.0,
        "{last:?}"
    );
    assert!(tracks[0].max_wind_ms() > 15.0);
}

#[test]
fn bad_inputs_are_named_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("t.csv");
    let run = |file: &Path, extra: &[&str]| {
        let mut args = vec!["cyclones", "track"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let o = s2s(&args);
        assert!(!o.status.success());
        assert!(!out.exists(), "no output after an error");
        stderr(&o)
    };
    // monthly fields: too coarse in time
    let monthly = d.join("monthly.nc");
    plain_obs(&monthly, "psl", "Pa", 6, |_, _, _| 101_000.0);
    let e = run(&monthly, &["--wind", "psl"]);
    assert!(e.contains("daily or sub-daily"), "{e}");
    // pressure in kelvin
    let kelvin = d.join("kelvin.nc");
    plain_obs(&kelvin, "psl", "K", 3, |_, _, _| 300.0);
    let e = run(&kelvin, &["--wind", "psl"]);
    assert!(e.contains("units 'K'") && e.contains("Pa"), "{e}");
    // hPa values labelled Pa
    let mislabelled = d.join("mislabelled.nc");
    plain_obs(&mislabelled, "psl", "Pa", 3, |_, _, _| 1010.0);
    let e = run(&mislabelled, &["--wind", "psl"]);
    assert!(
        e.contains("not plausible") && e.contains("mislabelled.nc"),
        "{e}"
    );
    // no wind at all (a daily pressure-only file)
    let daily = d.join("daily.nc");
    let mut nc = create(&daily);
    coord(
        &mut nc,
        "time",
        &[0.0, 1.0, 2.0],
        &[("units", A::T("days since 2020-09-01"))],
    );
    coord(
        &mut nc,
        "lat",
        &[0.0, 1.0, 2.0, 3.0],
        &[("units", A::T("degrees_north"))],
    );
    coord(
        &mut nc,
        "lon",
        &[80.0, 81.0, 82.0, 83.0],
        &[("units", A::T("degrees_east"))],
    );
    data_f32(
        &mut nc,
        "psl",
        &["time", "lat", "lon"],
        &[101_000.0; 48],
        &[("units", A::T("Pa"))],
    );
    drop(nc);
    // pressure alone is enough to detect, but a wind filter needs a wind
    let e = run(&daily, &["--threshold", "wind,>=,10,3"]);
    assert!(
        e.contains("tests wind") && e.contains("no wind variable"),
        "{e}"
    );
    // a named variable that is not there
    let e = run(&daily, &["--vorticity", "vo"]);
    assert!(
        e.contains("no variable 'vo' (given with --vorticity)") && e.contains("daily.nc"),
        "{e}"
    );
    let o = s2s(&[
        "cyclones",
        "track",
        daily.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(&out).unwrap();
    // no pressure
    let tas = d.join("tas.nc");
    plain_obs(&tas, "tas", "K", 3, |_, _, _| 300.0);
    let e = run(&tas, &[]);
    assert!(e.contains("no sea-level pressure"), "{e}");
    // a bad threshold
    let e = run(&tas, &["--psl", "tas", "--threshold", "wind,>>,10,3"]);
    assert!(e.contains("unknown comparison '>>'"), "{e}");
}

/// `s2s cyclones detect` and `track --stitchnodes` reproduce TempestExtremes' DetectNodes
/// and StitchNodes output byte for byte on the daily synthetic storms (tests/data/cyclones).
#[test]
fn same_output_as_tempestextremes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth_storms(d, 20, 2020);
    let fields = d.join("storms.nc");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cyclones");
    let nodes = d.join("nodes.txt");
    let o = s2s(&[
        "cyclones",
        "detect",
        fields.to_str().unwrap(),
        "--out",
        nodes.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours: String = std::fs::read_to_string(&nodes)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let te = std::fs::read_to_string(data.join("te_detectnodes_storms_daily.txt")).unwrap();
    assert!(
        ours == te,
        "DetectNodes output differs from TempestExtremes'"
    );
    let gfdl = d.join("tracks.txt");
    let o = s2s(&[
        "cyclones",
        "track",
        "--stitchnodes",
        gfdl.to_str().unwrap(),
        fields.to_str().unwrap(),
        "--out",
        d.join("tracks.csv").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = std::fs::read_to_string(&gfdl).unwrap();
    let te = std::fs::read_to_string(data.join("te_stitchnodes_storms_daily.txt")).unwrap();
    assert!(
        ours == te,
        "StitchNodes output differs from TempestExtremes'"
    );
}

/// The `s2s cyclones detect` text without its `# member` comment lines.
fn without_member_lines(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Real ERA5 fields (January 2026, pressure in one file, 850 hPa vorticity on a pressure-level
/// dimension in another, latitudes north to south, int64 seconds): detection with the
/// vorticity criterion and a latitude band, tracking, and pressure-only detection equal
/// TempestExtremes' output byte for byte (data/real/cyclones/SOURCE.md); the season's strong
/// lows are tracks and no track leaves 40°S–40°N.
#[test]
fn era5_january_same_as_tempestextremes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = crate::common::real("cyclones");
    let msl = data.join("era5_msl_2026-01_2.5x2.5.nc");
    let run = format!(
        "{};{}",
        msl.display(),
        data.join("era5_vo850_2026-01_2.5x2.5.nc").display()
    );
    let band = ["--min-lat", "-40", "--max-lat", "40"];
    let nodes = d.join("nodes.txt");
    let mut args = vec!["cyclones", "detect", "--vorticity", "vo"];
    args.extend(band);
    args.extend([run.as_str(), "--out", nodes.to_str().unwrap()]);
    let o = s2s(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let te = std::fs::read_to_string(data.join("te_detectnodes_era5_2026-01.txt")).unwrap();
    assert!(
        without_member_lines(&nodes) == te,
        "DetectNodes output (vorticity) differs from TempestExtremes'"
    );

    let (gfdl, csv) = (d.join("tracks.txt"), d.join("tracks.csv"));
    let mut args = vec!["cyclones", "track", "--vorticity", "vo"];
    args.extend(band);
    args.extend([
        run.as_str(),
        "--stitchnodes",
        gfdl.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    let o = s2s(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let te = std::fs::read_to_string(data.join("te_stitchnodes_era5_2026-01.txt")).unwrap();
    assert!(
        std::fs::read_to_string(&gfdl).unwrap() == te,
        "StitchNodes output differs from TempestExtremes'"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("track_id,member,time,lat,lon,psl,wind,vorticity\n"));
    let tracks = parse_tracks_csv(&text, "tracks.csv").unwrap();
    assert_eq!(tracks.len(), 11);
    assert!(tracks
        .iter()
        .flat_map(|t| &t.points)
        .all(|p| p.node.lat.abs() <= 40.0
            && p.node.wind_ms.is_nan()
            && p.node.vorticity_s >= 5e-5));
    // the strong lows of the shared SOURCE.md: (date, lat range, lon range)
    for (day, (s, n), (w, e)) in [
        ("2026-01-06", (-17.5, -10.0), (92.5, 97.5)), // SE Indian Ocean
        ("2026-01-14", (-20.0, -15.0), (72.5, 77.5)), // SW Indian Ocean
        ("2026-01-17", (10.0, 17.5), (125.0, 132.5)), // east of the Philippines
    ] {
        assert!(
            tracks.iter().any(|t| t.points.iter().any(|p| {
                p.time.iso_datetime().starts_with(day)
                    && (s..=n).contains(&p.node.lat)
                    && (w..=e).contains(&p.node.lon)
            })),
            "no track near {s}..{n}N {w}..{e}E on {day}"
        );
    }

    // pressure alone: no wind, no vorticity needed
    let mut args = vec!["cyclones", "detect"];
    args.extend(band);
    args.extend([
        msl.to_str().unwrap(),
        "--out",
        nodes.to_str().unwrap(),
        "-O",
    ]);
    let o = s2s(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let te =
        std::fs::read_to_string(data.join("te_detectnodes_era5_2026-01_msl_only.txt")).unwrap();
    assert!(
        without_member_lines(&nodes) == te,
        "DetectNodes output (pressure only) differs from TempestExtremes'"
    );
}

/// `s2s cyclones outlook` on three synthetic Septembers (hindcast 2018–2019, forecast 2020,
/// the same planted storms with other noise): no anomaly; observed counts (the 2019 tracks
/// of all members: 2 Bay of Bengal storms) calibrate the Bay of Bengal count 0.5 → 2.0.
#[test]
fn seasonal_outlook_per_basin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for y in [2018, 2019, 2020] {
        synth_storms(&d.join(format!("y{y}")), 30, y);
    }
    let f = |y: i32| {
        d.join(format!("y{y}/storms.nc"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let obs = d.join("obs.csv");
    let o = s2s(&[
        "cyclones",
        "track",
        &f(2019),
        "--out",
        obs.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("tc");
    let countries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/regions/countries_110m.geojson"
    );
    let hind = format!("{},{}", f(2018), f(2019));
    let o = s2s(&[
        "cyclones",
        "outlook",
        "--forecast",
        &f(2020),
        "--hindcast",
        &hind,
        "--season",
        "9-9",
        "--basins",
        "bob,wnp,scs",
        "--countries",
        countries,
        "--obs-tracks",
        obs.to_str().unwrap(),
        "--obs-years",
        "2019-2019",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cyclone_outlook.json")).unwrap())
            .unwrap();
    assert_eq!(json["forecast_member_seasons"], 4);
    assert_eq!(json["hindcast_member_seasons"], 8);
    // The files as the shell expands `--hindcast hc/*.nc`: separate arguments.
    let out2 = d.join("tc_args");
    let (h18, h19) = (f(2018), f(2019));
    let o = s2s(&[
        "cyclones",
        "outlook",
        "-q",
        "--forecast",
        &f(2020),
        "--hindcast",
        &h18,
        &h19,
        "--season",
        "9-9",
        "--basins",
        "bob",
        "--countries",
        "none",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("cyclone_outlook.json")).unwrap())
            .unwrap();
    assert_eq!(j2["hindcast_member_seasons"], 8);
    let bob = &json["basins"][0];
    assert_eq!(bob["basin"], "bob");
    assert_eq!(bob["count_mean"], 0.5);
    assert_eq!(bob["count_climatology"], 0.5);
    assert_eq!(bob["count_observed_climatology"], 2.0);
    assert_eq!(bob["count_calibrated"], 2.0);
    let p1 = bob["prob_at_least_calibrated"][0].as_f64().unwrap();
    assert!((p1 - (1.0 - (-2f64).exp())).abs() < 1e-12);
    let t: f64 = (0..3)
        .map(|k| bob["tercile_probabilities"][k].as_f64().unwrap())
        .sum();
    assert!((t - 1.0).abs() < 1e-12);
    let md = std::fs::read_to_string(out.join("cyclone_outlook.md")).unwrap();
    assert!(
        md.contains("| Bay of Bengal | 0.5 (calibrated 2.0) | 0.5 | +0.0 |"),
        "{md}"
    );
    assert!(md.contains("**South China Sea**: no storms"), "{md}");
    let nc = crate::common::nc_open(out.join("track_density.nc")).unwrap();
    let dens: Vec<f32> = nc
        .variable("track_density_anomaly")
        .unwrap()
        .get_values(..)
        .unwrap();
    assert!(!dens.is_empty());
    assert!(md.contains("![Forecast tracks Sep](map_tracks.png)"));
    let png = std::fs::read(out.join("map_tracks.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let csv = std::fs::read_to_string(out.join("forecast_tracks.csv")).unwrap();
    assert_eq!(parse_tracks_csv(&csv, "fc").unwrap().len(), 5);

    // forecasts that stop before the end of the season
    let short = synth_storms(&d.join("short"), 20, 2020);
    let o = s2s(&[
        "cyclones",
        "outlook",
        "--forecast",
        short.to_str().unwrap(),
        "--hindcast",
        &hind,
        "--season",
        "9-9",
        "--countries",
        "none",
        "--out",
        d.join("tc2").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no forecast run covers every month of Sep"),
        "{}",
        stderr(&o)
    );
}

/// `s2s cyclones gpi` on a small monthly file with 17 pressure levels (hPa, like CMIP's plev in
/// Pa converted): the potential intensity is tcpyPI's for the same sounding
/// (tests/data/cyclones, SST 28 °C, 1010 hPa: 64.2876 m/s, 936.30 hPa) and the GPI follows the
/// Emanuel–Nolan formula from the written components.
#[test]
fn gpi_from_pressure_levels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monthly.nc");
    let plev = [
        1000.0, 925.0, 850.0, 700.0, 600.0, 500.0, 400.0, 300.0, 250.0, 200.0, 150.0, 100.0, 70.0,
        50.0, 30.0, 20.0, 10.0,
    ];
    let t_c = [
        26.0, 22.0, 17.5, 9.0, 2.5, -6.8, -17.3, -32.5, -42.0, -53.5, -66.8, -73.5, -69.0, -63.0,
        -55.0, -50.0, -42.0,
    ];
    let r_g = [
        18.0, 15.0, 12.0, 7.5, 4.8, 3.0, 1.6, 0.5, 0.2, 0.06, 0.01, 0.005, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    let lat = [5.0, 10.0, 15.0];
    let lon = [80.0, 85.0, 90.0, 95.0];
    let (nt, nl, ny, nx) = (3, plev.len(), lat.len(), lon.len());
    let mut nc = create(&path);
    coord(
        &mut nc,
        "time",
        &[14.0, 45.0, 74.0],
        &[("units", A::T("days since 2020-01-01"))],
    );
    coord(
        &mut nc,
        "plev",
        &plev.iter().map(|p| p * 100.0).collect::<Vec<_>>(),
        &[
            ("units", A::T("Pa")),
            ("standard_name", A::T("air_pressure")),
        ],
    );
    coord(&mut nc, "lat", &lat, &[("units", A::T("degrees_north"))]);
    coord(&mut nc, "lon", &lon, &[("units", A::T("degrees_east"))]);
    let surface = |v: f32| vec![v; nt * ny * nx];
    data_f32(
        &mut nc,
        "tos",
        &["time", "lat", "lon"],
        &surface(28.0),
        &[("units", A::T("degC"))],
    );
    data_f32(
        &mut nc,
        "psl",
        &["time", "lat", "lon"],
        &surface(101_000.0),
        &[("units", A::T("Pa"))],
    );
    let level_field = |f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
        (0..nt * nl * ny * nx)
            .map(|k| f((k / (ny * nx)) % nl, (k / nx) % ny))
            .collect()
    };
    let d4 = ["time", "plev", "lat", "lon"];
    let ta = level_field(&|l, _| (t_c[l] + 273.15) as f32);
    let hus = level_field(&|l, _| {
        let r = r_g[l] * 1e-3;
        (r / (1.0 + r)) as f32
    });
    // zonal wind 10 cos φ at 850 hPa, 20 m/s at 200 hPa: shear ≈ 10–10.2 m/s
    let ua = level_field(&|l, j| {
        if plev[l] == 200.0 {
            20.0
        } else {
            (10.0 * lat[j].to_radians().cos()) as f32
        }
    });
    let va = level_field(&|_, _| 0.0);
    data_f32(&mut nc, "ta", &d4, &ta, &[("units", A::T("K"))]);
    data_f32(&mut nc, "hus", &d4, &hus, &[("units", A::T("1"))]);
    data_f32(&mut nc, "ua", &d4, &ua, &[("units", A::T("m s-1"))]);
    data_f32(&mut nc, "va", &d4, &va, &[("units", A::T("m s-1"))]);
    drop(nc);
    let out = dir.path().join("gpi.nc");
    let o = s2s(&[
        "cyclones",
        "gpi",
        "--fields",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nc = crate::common::nc_open(&out).unwrap();
    let get = |v: &str| -> Vec<f32> { nc.variable(v).unwrap().get_values(..).unwrap() };
    let (vpot, pmin, gpi) = (get("vpot"), get("pmin"), get("gpi"));
    let (eta, rh, shear) = (
        get("abs_vorticity_850"),
        get("rh_600"),
        get("shear_850_200"),
    );
    // f32 inputs: the sounding differs from tcpyPI's f64 one in the 7th digit
    assert!((vpot[0] as f64 - 64.287_6).abs() < 0.01, "{}", vpot[0]);
    assert!((pmin[0] as f64 - 936.30).abs() < 0.05, "{}", pmin[0]);
    for k in 0..gpi.len() {
        let want = s2s_ensemble::cyclone::genesis::genesis_potential_index(
            eta[k] as f64,
            rh[k] as f64,
            vpot[k] as f64,
            shear[k] as f64,
        );
        assert!(
            (gpi[k] as f64 - want).abs() <= 1e-5 * want.abs().max(1e-3),
            "{k}"
        );
    }
    assert!(rh[0] > 20.0 && rh[0] < 80.0, "{}", rh[0]);
    // a file without pressure levels is refused with the reason
    let flat = dir.path().join("flat.nc");
    plain_obs(&flat, "ta", "K", 3, |_, _, _| 300.0);
    let o = s2s(&[
        "cyclones",
        "gpi",
        "--fields",
        &format!("{},{}", path.display(), flat.display()),
        "--out",
        dir.path().join("x.nc").to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "ta is found in the first file: {}",
        stderr(&o)
    );
}

/// The observed climatology of the bundled IBTrACS file (2021-01 … 2024-09, WMO winds):
/// storms reaching 34 kt by genesis basin, May–December 2021–2023, equal to the independent
/// count of `scripts/check/ibtracs_counts.py` (netCDF4 + numpy from the definitions):
/// North Indian Ocean [4, 3, 6] per year, by month May…Dec [4, 1, 0, 0, 1, 3, 3, 1];
/// western North Pacific [19, 23, 15], by month [2, 5, 8, 13, 13, 11, 2, 3].
#[test]
fn ibtracs_observed_climatology_counts() {
    use s2s_ensemble::cyclone::activity::{observed_climatology, Basin, Season};
    use s2s_ensemble::io::ibtracs::Agency;
    use s2s_ensemble::pipeline::cyclones::observed_storm_tracks;
    let path = crate::common::real("cyclones/IBTrACS.last3years.v04r01.nc");
    let tracks = observed_storm_tracks(&path, Agency::Wmo).unwrap();
    let season = Season::parse("5-12").unwrap();
    for (key, per_year, per_month) in [
        ("nio", [4, 3, 6], [4, 1, 0, 0, 1, 3, 3, 1]),
        ("wnp", [19, 23, 15], [2, 5, 8, 13, 13, 11, 2, 3]),
    ] {
        let basin = Basin::by_key(key).unwrap();
        let c = observed_climatology(&tracks, (2021, 2023), basin, &season, None);
        let counts: Vec<usize> = c.counts.iter().map(|x| x.1).collect();
        assert_eq!(counts, per_year, "{key}");
        let months: Vec<f64> = c.month_mean_counts.iter().map(|x| x.1 * 3.0).collect();
        for (got, want) in months.iter().zip(per_month) {
            assert!((got - want as f64).abs() < 1e-9, "{key}: {months:?}");
        }
        assert!(c.ace_mean > 0.0);
    }
    // every point at a synoptic hour, winds in m/s (34 kt = 17.49 m/s reached)
    assert!(tracks.iter().all(|t| t
        .points
        .iter()
        .all(|p| p.time.micros_of_day % (6 * 3_600_000_000) == 0)));
    assert!(tracks.iter().all(|t| t.max_wind_ms() >= 17.49));
}

/// `s2s cyclones validate`: IBTrACS against itself is perfect; the tracks CSV against a
/// hand-made IBTrACS CSV edition (units line, blank winds) gives the hand-counted POD and FAR.
#[test]
fn validate_against_best_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ib = crate::common::real("cyclones/IBTrACS.last3years.v04r01.nc");
    let out = d.join("self.csv");
    let o = s2s(&[
        "cyclones",
        "validate",
        "--tracks",
        ib.to_str().unwrap(),
        "--best-track",
        ib.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let all = text.lines().find(|l| l.starts_with("all,")).unwrap();
    let f: Vec<&str> = all.split(',').collect();
    assert_eq!(f[1], f[2], "as many detected as observed: {all}");
    assert_eq!((f[6], f[7], f[8]), ("1.0000", "0.0000", "0.0"), "{all}");
    assert!(d.join("self.json").exists());

    // Best tracks: two Bay of Bengal storms (one reaching 34 kt only at its 12 UTC point,
    // one never reaching it: not counted) and one western North Pacific storm.
    let best = d.join("ibtracs.csv");
    std::fs::write(
        &best,
        "SID,SEASON,NUMBER,BASIN,SUBBASIN,NAME,ISO_TIME,NATURE,LAT,LON,WMO_WIND,WMO_PRES,WMO_AGENCY,TRACK_TYPE
 ,Year, , , , , , ,degrees_north,degrees_east,kts,mb, , 
2020300N15088,2020,1,NI,BB,ONE,2020-10-26 00:00:00,TS,15.0,88.0, ,1000,newdelhi,main
2020300N15088,2020,1,NI,BB,ONE,2020-10-26 06:00:00,TS,15.5,87.5,30,998,newdelhi,main
2020300N15088,2020,1,NI,BB,ONE,2020-10-26 12:00:00,TS,16.0,87.0,40,990,newdelhi,main
2020302N12090,2020,2,NI,BB,WEAK,2020-10-28 00:00:00,DS,12.0,90.0,25,1004,newdelhi,main
2020302N12090,2020,2,NI,BB,WEAK,2020-10-28 06:00:00,DS,12.5,90.0,25,1004,newdelhi,main
2020301N10140,2020,3,WP,MM,THREE,2020-10-27 00:00:00,TS,10.0,140.0,45,985,tokyo,main
2020301N10140,2020,3,WP,MM,THREE,2020-10-27 06:00:00,TS,10.5,139.0,50,980,tokyo,main
",
    )
    .unwrap();
    // detected: ONE found 1° north (111 km), a false alarm in the Arabian Sea; THREE missed
    let tracks = d.join("tracks.csv");
    std::fs::write(
        &tracks,
        "track_id,member,time,lat,lon,psl,wind
1,0,2020-10-26T00:00:00,16.0,88.0,100000.0,
1,0,2020-10-26T06:00:00,16.5,87.5,99900.0,
2,0,2020-10-27T00:00:00,15.0,65.0,100100.0,
2,0,2020-10-27T06:00:00,15.0,64.0,100100.0,
",
    )
    .unwrap();
    let out = d.join("v.csv");
    let o = s2s(&[
        "cyclones",
        "validate",
        "--tracks",
        tracks.to_str().unwrap(),
        "--best-track",
        best.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let row = |b: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{b},")))
            .unwrap_or_else(|| panic!("no {b} row: {text}"))
            .to_string()
    };
    // NI: observed 1 (WEAK never reaches 34 kt), detected 2, hit 1, false alarm 1;
    // position error 111.2 km (1° of latitude), pressure bias 999.0 − 990 = +9 hPa
    assert_eq!(row("NI"), "NI,1,2,1,0,1,1.0000,0.5000,111.2,,9.00");
    assert_eq!(row("WP"), "WP,1,0,0,1,0,0.0000,,,,");
    assert_eq!(row("all"), "all,2,2,1,1,1,0.5000,0.5000,111.2,,9.00");

    // not best tracks: one error naming the file, no output
    let era5 = crate::common::real("cyclones/era5_msl_2026-01_2.5x2.5.nc");
    let bad_out = d.join("bad.csv");
    for (t, b, want) in [
        (&tracks, &era5, "no variable 'sid'"),
        (&best, &tracks, "no 'SID' column"),
    ] {
        let o = s2s(&[
            "cyclones",
            "validate",
            "--tracks",
            t.to_str().unwrap(),
            "--best-track",
            b.to_str().unwrap(),
            "--out",
            bad_out.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.contains(want) && e.contains(b.file_name().unwrap().to_str().unwrap()),
            "{e}"
        );
        assert!(!bad_out.exists() && !d.join("bad.json").exists());
    }
}

/// Reading a series block by block (`ReadOptions::time_steps`, what detection streams with)
/// gives the whole read's values and times; the cube says how many steps the file has; a block
/// past the end is an error naming the file.
#[test]
fn blocks_of_time_steps_read_as_the_whole() {
    use s2s_ensemble::io::{read_cube, ReadOptions};
    let path = crate::common::real("cyclones/era5_msl_2026-01_2.5x2.5.nc");
    let opts = |steps| ReadOptions {
        variable: Some("msl".into()),
        keep_units: true,
        time_steps: steps,
        ..Default::default()
    };
    let whole = read_cube(&path, &opts(None)).unwrap();
    assert_eq!(whole.meta.source_time_steps, None);
    let mut times = Vec::new();
    let mut values = Vec::new();
    for start in (0..124).step_by(50) {
        let b = read_cube(&path, &opts(Some((start, 50)))).unwrap();
        assert_eq!(b.meta.source_time_steps, Some(124));
        assert_eq!(
            b.coords.lead, whole.coords.lead,
            "the 6-hourly cadence of the whole axis"
        );
        times.extend(b.coords.init.clone());
        values.extend(b.values.iter().copied());
    }
    assert_eq!(times, whole.coords.init);
    assert!(values
        .iter()
        .zip(whole.values.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let e = read_cube(&path, &opts(Some((124, 10)))).unwrap_err();
    assert!(e.to_string().contains("era5_msl_2026-01_2.5x2.5.nc"), "{e}");

    // a file set (the month cut in two by cdo): blocks across the files' seam, and tracking
    // the set gives the nodes of the single file
    let dir = tempfile::tempdir().unwrap();
    for (name, steps) in [("a", "1/70"), ("b", "71/124")] {
        let st = std::process::Command::new("cdo")
            .args(["-s", &format!("seltimestep,{steps}")])
            .arg(&path)
            .arg(dir.path().join(format!("msl_{name}.nc")))
            .status()
            .expect("cdo is installed by scripts/setup.sh");
        assert!(st.success());
    }
    let set = dir.path().join("msl_*.nc");
    let mut times = Vec::new();
    for start in (0..124).step_by(50) {
        let b = read_cube(&set, &opts(Some((start, 50)))).unwrap();
        assert_eq!(b.meta.source_time_steps, Some(124));
        times.extend(b.coords.init.clone());
    }
    assert_eq!(times, whole.coords.init);
    let nodes = |input: &Path| {
        let out = dir.path().join("nodes.txt");
        let o = s2s(&[
            "cyclones",
            "detect",
            "--min-lat",
            "-40",
            "--max-lat",
            "40",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-O",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        without_member_lines(&out)
    };
    assert_eq!(nodes(&set), nodes(&path));
}
