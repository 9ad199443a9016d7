//! What the engine writes, it (and other tools) read back the same.

use ndarray::{Array2, Array5};
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{Coords, Cube, CubeKind, Lead, Meta, Spatial};
use s2s_ensemble::io::{read_cube, write_cube, ReadOptions, WriteOptions};

fn cube(spatial: Spatial, kind: CubeKind, cal: Calendar) -> Cube {
    let (ny, nx) = spatial.shape();
    let (ni, nm, nl) = match kind {
        CubeKind::Forecast => (3, 4, 2),
        CubeKind::Observed => (5, 1, 1),
    };
    let init = match kind {
        CubeKind::Forecast => (0..ni)
            .map(|i| {
                CfDateTime::ymd(
                    2000 + i as i32,
                    2,
                    30.min(if cal == Calendar::Day360 { 30 } else { 28 }),
                )
            })
            .collect(),
        CubeKind::Observed => (0..ni)
            .map(|i| CfDateTime::ymd(2000, 1 + i as u32, 1))
            .collect(),
    };
    let lead = match kind {
        CubeKind::Forecast => vec![Lead::days(0.0, 7.0), Lead::days(7.0, 7.0)],
        CubeKind::Observed => vec![Lead::months(0.0, 1.0)],
    };
    let coords = Coords {
        init,
        member: (0..nm as i32).collect(),
        lead,
        spatial,
    };
    let values = Array5::from_shape_fn((ni, nm, nl, ny, nx), |(i, m, l, y, x)| {
        if (i + m + l + y + x) % 7 == 3 {
            f32::NAN
        } else {
            (i * 1000 + m * 100 + l * 10 + y + x) as f32 * 0.25
        }
    });
    let mut meta = Meta::new("TESTMODEL", "score", "1", cal);
    meta.kind = kind;
    Cube::new(values, coords, meta).unwrap()
}

fn roundtrip(c: &Cube) -> Cube {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.nc");
    write_cube(
        &p,
        c,
        &WriteOptions {
            history: Some("s2s test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only the output remains: {leftovers:?}");
    read_cube(&p, &ReadOptions::default()).unwrap()
}

fn same(a: &Cube, b: &Cube) {
    assert_eq!(a.values.dim(), b.values.dim());
    for (x, y) in a.values.iter().zip(b.values.iter()) {
        assert!((x.is_nan() && y.is_nan()) || x == y, "{x} vs {y}");
    }
    assert_eq!(a.coords.init, b.coords.init);
    assert_eq!(a.coords.lead, b.coords.lead);
    assert_eq!(a.coords.member, b.coords.member);
    assert_eq!(a.meta.calendar, b.meta.calendar);
    assert_eq!(a.meta.kind, b.meta.kind);
}

#[test]
fn forecast_grid_in_a_360_day_calendar() {
    let c = cube(
        Spatial::Grid {
            lat: vec![-5.0, 0.0, 5.0],
            lon: vec![100.0, 101.5],
        },
        CubeKind::Forecast,
        Calendar::Day360,
    );
    let b = roundtrip(&c);
    same(&c, &b);
    assert_eq!(b.coords.spatial, c.coords.spatial);
}

#[test]
fn observed_station_series() {
    let sp = Spatial::Points {
        lat: vec![7.0, 8.5],
        lon: vec![81.7, 79.9],
        names: vec!["Batticaloa".into(), "Colombo".into()],
    };
    let c = cube(sp, CubeKind::Observed, Calendar::Standard);
    let b = roundtrip(&c);
    same(&c, &b);
    assert_eq!(b.coords.spatial, c.coords.spatial);
}

#[test]
fn index_series_and_curvilinear_grids() {
    let c = cube(
        Spatial::index_series("score"),
        CubeKind::Forecast,
        Calendar::NoLeap,
    );
    same(&c, &roundtrip(&c));
    let lat = Array2::from_shape_fn((2, 3), |(j, i)| -5.0 + j as f64 + 0.1 * i as f64);
    let lon = Array2::from_shape_fn((2, 3), |(j, i)| 250.0 + i as f64 + 0.1 * j as f64);
    let c = cube(
        Spatial::Curvilinear { lat, lon },
        CubeKind::Forecast,
        Calendar::Standard,
    );
    let b = roundtrip(&c);
    same(&c, &b);
    assert_eq!(b.coords.spatial, c.coords.spatial);
}

/// The output is CF for other tools: ncdump shows the conventions, CDO reads an observed grid.
#[test]
fn outputs_are_cf_for_other_tools() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("obs.nc");
    let c = cube(
        Spatial::Grid {
            lat: vec![-5.0, 0.0, 5.0],
            lon: vec![100.0, 101.5],
        },
        CubeKind::Observed,
        Calendar::Standard,
    );
    write_cube(
        &p,
        &c,
        &WriteOptions {
            history: Some("s2s test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let h = std::process::Command::new("ncdump")
        .arg("-hs")
        .arg(&p)
        .output()
        .expect("ncdump (netcdf-bin) is installed by scripts/setup.sh");
    let h = String::from_utf8_lossy(&h.stdout);
    for want in [
        ":Conventions = \"CF-1.8\"",
        "score:units = \"1\"",
        "time:calendar = \"standard\"",
        "_DeflateLevel = 1",
        "_Shuffle = \"true\"",
        "score:_ChunkSizes = 1, 3, 2",
        ":history = ",
    ] {
        assert!(h.contains(want), "missing {want} in\n{h}");
    }
    let cdo = std::process::Command::new("cdo")
        .args(["-s", "outputtab,date,lat,lon,value"])
        .arg(&p)
        .output()
        .expect("cdo is installed by scripts/setup.sh");
    assert!(
        cdo.status.success(),
        "{}",
        String::from_utf8_lossy(&cdo.stderr)
    );
    let text = String::from_utf8_lossy(&cdo.stdout);
    // (i=2, y=1 → lat 0, x=1 → lon 101.5): 2000*... value = (2*1000 + 1 + 1) * 0.25 = 500.5
    assert!(
        text.lines().any(|l| l.contains("2000-03-01")
            && l.contains("101.5")
            && l.trim_end().ends_with("500.5")),
        "{text}"
    );
}

/// A failed write leaves nothing behind.
#[test]
fn failed_write_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = cube(
        Spatial::index_series("score"),
        CubeKind::Forecast,
        Calendar::Standard,
    );
    let p = dir.path().join("missing_dir").join("out.nc");
    let e = write_cube(&p, &c, &WriteOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    // Mixed lead units cannot be written: the error comes after the file was started.
    let mut bad = c.clone();
    bad.coords.lead[1] = Lead::months(1.0, 1.0);
    let p = dir.path().join("bad.nc");
    assert!(write_cube(&p, &bad, &WriteOptions::default()).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial or temporary file"
    );
}

/// A temperature in kelvin written in the CDO layout (one variable per member, `tas_member00`
/// …) is read back as a temperature: converted to °C like the N-D layout, not kept in K as an
/// unknown quantity because of its parts' names.
#[test]
fn per_member_parts_are_their_family_quantity() {
    use s2s_ensemble::units::Quantity;
    let dir = tempfile::tempdir().unwrap();
    let coords = Coords {
        init: vec![CfDateTime::ymd(2020, 5, 1)],
        member: vec![0, 1, 2],
        lead: vec![Lead::months(0.0, 1.0)],
        spatial: Spatial::Grid {
            lat: vec![10.0, 11.0],
            lon: vec![80.0],
        },
    };
    let cube = Cube::new(
        Array5::from_elem((1, 3, 1, 2, 1), 300.0),
        coords,
        Meta::new("m", "tas", "K", Calendar::Standard),
    )
    .unwrap();
    let path = dir.path().join("tas.nc");
    write_cube(&path, &cube, &WriteOptions::default()).unwrap();
    let back = read_cube(&path, &ReadOptions::default()).unwrap();
    assert_eq!(back.meta.quantity, Quantity::Temperature);
    assert_eq!(back.meta.units, "degC");
    assert!(back.values.iter().all(|&v| (v - 26.85).abs() < 1e-4));
    assert_eq!(back.n_member(), 3);
}
