//! Regridding against CDO 2.1 `remapbil` / `remapcon` reference files (made by
//! `tests/data/regrid/make.sh`): same missing cells, values within 1e-4 relative on smooth
//! fields; conservative remapping keeps the area integral to 1e-6 relative.

use std::path::PathBuf;

use s2s_ensemble::grid::{bilinear, conservative, regrid_cube, LonLatGrid, Method};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::Cube;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/regrid")
        .join(name)
}

/// The CDO reference files are undated fields: read with a date given (`--time`).
fn read(name: &str, var: &str) -> Cube {
    read_cube(
        data(name),
        &ReadOptions {
            variable: Some(var.into()),
            time: Some(s2s_ensemble::calendar::CfDateTime::ymd(2000, 1, 1)),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Regrids `src` onto the grid of CDO's output and compares: (max relative difference, cells).
fn compare(src: &str, reference: &str, method: Method, var: &str) -> (f64, usize) {
    let s = read(src, var);
    let r = read(reference, var);
    let sg = LonLatGrid::from_spatial(&s.coords.spatial).unwrap();
    let dg = LonLatGrid::from_spatial(&r.coords.spatial).unwrap();
    let w = match method {
        Method::Bilinear => bilinear(&sg, &dg).unwrap(),
        Method::Conservative => conservative(&sg, &dg).unwrap(),
    };
    let out = regrid_cube(&s, &w).unwrap();
    assert_eq!(out.values.dim(), r.values.dim());
    let mut worst = 0.0f64;
    let mut n = 0;
    for (k, (a, b)) in out.values.iter().zip(r.values.iter()).enumerate() {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{reference} {var}: cell {k}: ours {a}, CDO {b}"
        );
        if a.is_finite() {
            worst = worst.max(((a - b) / b).abs() as f64);
            n += 1;
        }
    }
    (worst, n)
}

#[test]
fn bilinear_matches_cdo_remapbil() {
    for (src, reference) in [
        ("src_2deg.nc", "remapbil_global.nc"),
        ("src_2deg_masked.nc", "remapbil_masked.nc"),
        ("src_2deg.nc", "remapbil_asia.nc"),
        ("src_region.nc", "remapbil_region.nc"),
    ] {
        for var in ["x", "y"] {
            let (worst, n) = compare(src, reference, Method::Bilinear, var);
            assert!(
                worst < 1e-4,
                "{reference} {var}: max relative difference {worst:e} over {n} cells"
            );
        }
    }
}

#[test]
fn conservative_matches_cdo_remapcon() {
    for (src, reference) in [
        ("src_2deg.nc", "remapcon_global.nc"),
        ("src_2deg_masked.nc", "remapcon_masked.nc"),
        ("src_2deg.nc", "remapcon_asia.nc"),
        ("src_region.nc", "remapcon_region.nc"),
    ] {
        for var in ["x", "y"] {
            let (worst, n) = compare(src, reference, Method::Conservative, var);
            assert!(
                worst < 1e-4,
                "{reference} {var}: max relative difference {worst:e} over {n} cells"
            );
        }
    }
}

#[test]
fn conservative_keeps_the_area_integral() {
    let s = read("src_2deg.nc", "y");
    let sg = LonLatGrid::from_spatial(&s.coords.spatial).unwrap();
    let dg = LonLatGrid::regular(1.5, 1.5, None).unwrap();
    let out = regrid_cube(&s, &conservative(&sg, &dg).unwrap()).unwrap();
    let integral = |g: &LonLatGrid, c: &Cube| -> f64 {
        g.cell_areas()
            .iter()
            .zip(c.values.iter())
            .map(|(a, &v)| a * f64::from(v))
            .sum()
    };
    let (a, b) = (integral(&sg, &s), integral(&dg, &out));
    assert!(((a - b) / a).abs() < 1e-6, "{a} vs {b}");
}

/// `s2s regrid` end to end: all variables, the grid asked for, attributes and history kept.
#[test]
fn regrid_cli_writes_every_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("asia.nc");
    let o = crate::common::s2s(&[
        "regrid",
        "--quiet",
        "--method",
        "conservative",
        "--grid",
        "1.5",
        "--bbox",
        "40,150,-15,55",
        data("src_2deg.nc").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    // An undated input stays undated (as CDO keeps it): no time axis in the output, and
    // reading it back needs a date, like the input.
    let f = crate::common::nc_open(&out).unwrap();
    assert!(f.dimension("time").is_none());
    assert_eq!(f.variable("x").unwrap().dimensions().len(), 2);
    let err = read_cube(
        &out,
        &ReadOptions {
            variable: Some("x".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no time coordinate") && err.contains("--time"),
        "{err}"
    );
    let at = |v: &str| ReadOptions {
        variable: Some(v.into()),
        time: Some(s2s_ensemble::calendar::CfDateTime::ymd(2025, 12, 1)),
        ..Default::default()
    };
    let x = read_cube(&out, &at("x")).unwrap();
    let y = read_cube(&out, &at("y")).unwrap();
    assert_eq!(x.coords.init[0].to_string(), "2025-12-01");
    // With --time the output is dated.
    let dated = dir.path().join("dated.nc");
    let o = crate::common::s2s(&[
        "regrid",
        "--quiet",
        "--method",
        "bilinear",
        "--grid",
        "5",
        "--time",
        "2025-12-01T06",
        data("src_2deg.nc").to_str().unwrap(),
        dated.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let d = read_cube(
        &dated,
        &ReadOptions {
            variable: Some("x".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(d.coords.init[0].iso_datetime(), "2025-12-01T06:00:00");
    let g = LonLatGrid::from_spatial(&x.coords.spatial).unwrap();
    assert_eq!(
        (g.ny(), g.nx(), g.lat[0], g.lon[0]),
        (46, 73, -14.25, 40.75)
    );
    assert_eq!(x.coords.spatial, y.coords.spatial);
    let h = std::process::Command::new("ncdump")
        .arg("-h")
        .arg(&out)
        .output()
        .unwrap();
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(
        h.contains("s2s regrid --quiet --method conservative")
            && h.contains("cdo -s -O -f nc4 -expr"),
        "{h}"
    );
    assert!(
        h.contains("x:processing = \"regridded first-order conservatively"),
        "{h}"
    );
}

#[test]
fn regrid_cli_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.nc");
    let curvi = crate::common::real("hindcast_grids/CESM-DP-LE.SST.eastern_pacific.nc");
    let o = crate::common::s2s(&[
        "regrid",
        "--method",
        "bilinear",
        "--grid",
        "1",
        curvi.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        crate::common::stderr(&o).contains("regrid it with --method distance"),
        "{}",
        crate::common::stderr(&o)
    );
    // The real CESM POP grid (2-D TLAT/TLONG) by inverse-distance weighting: SST anomalies
    // within the source's range, NaN away from the source's small box.
    let o = crate::common::s2s(&[
        "regrid",
        "-q",
        "--method",
        "distance",
        "--grid",
        "1",
        "--bbox",
        "240,290,-15,5",
        curvi.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let c = read_cube(
        &out,
        &ReadOptions {
            keep_units: true,
            ..Default::default()
        },
    )
    .unwrap();
    let (mn, mx) = s2s_ensemble::stats::finite_min_max(c.values.iter().map(|&v| f64::from(v)));
    assert!(-1.72 <= mn && mx <= 1.68 && mn < mx, "{mn} {mx}");
    assert!(c.values.iter().any(|v| v.is_nan()));
    std::fs::remove_file(&out).unwrap();
    let o = crate::common::s2s(&["regrid", "--method", "cubic", "--grid", "1", "a.nc", "b.nc"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(crate::common::stderr(&o).starts_with("error: invalid value 'cubic' for '--method"));
    // A target file without lat/lon.
    let idx = crate::common::real("verification/GMAO-GEOS-V2p1.RMM1.nc");
    let o = crate::common::s2s(&[
        "regrid",
        "--method",
        "bilinear",
        "--like",
        idx.to_str().unwrap(),
        data("src_2deg.nc").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        crate::common::stderr(&o).contains("GMAO-GEOS-V2p1.RMM1.nc: target grid"),
        "{}",
        crate::common::stderr(&o)
    );
    assert!(!out.exists(), "no output after an error");
}

/// A regional grid ending at 180°E keeps 180 (not −180) and its own order: `inspect` says
/// 40..180, `regrid` writes an ascending axis, and a file stored 0…179 then −180…−1 reads
/// −180…179 in ascending order.
#[test]
fn longitudes_keep_their_convention() {
    use crate::common::{coord, create, data_f32, s2s, stderr, stdout, A};
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, lon: &[f64]| {
        let p = dir.path().join(name);
        let mut f = create(&p);
        coord(
            &mut f,
            "time",
            &[0.0],
            &[("units", A::T("days since 2020-01-01"))],
        );
        coord(
            &mut f,
            "lat",
            &[0.0, 2.0, 4.0],
            &[("units", A::T("degrees_north"))],
        );
        coord(&mut f, "lon", lon, &[("units", A::T("degrees_east"))]);
        // the value is the longitude modulo 360, to see where each column went
        let v: Vec<f32> = (0..3)
            .flat_map(|_| lon.iter().map(|l| l.rem_euclid(360.0) as f32))
            .collect();
        data_f32(
            &mut f,
            "marker",
            &["time", "lat", "lon"],
            &v,
            &[("units", A::T("1"))],
        );
        p
    };
    let east: Vec<f64> = (0..71).map(|i| 40.0 + 2.0 * f64::from(i)).collect(); // 40..180
    let p = write("east.nc", &east);
    let o = s2s(&["inspect", p.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("lon 40..180, spacing 2 x 2 deg"),
        "{}",
        stdout(&o)
    );
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    let s2s_ensemble::cube::Spatial::Grid { lon, .. } = &c.coords.spatial else {
        panic!()
    };
    assert_eq!(lon, &east);
    let out = dir.path().join("east_4deg.nc");
    let o = s2s(&[
        "regrid",
        "-q",
        "--method",
        "bilinear",
        "--grid",
        "4",
        "--bbox",
        "40,180,0,4",
        p.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lon: Vec<f64> = crate::common::nc_open(&out)
        .unwrap()
        .variable("lon")
        .unwrap()
        .get_values(..)
        .unwrap();
    assert!(
        lon.windows(2).all(|w| w[1] > w[0]) && lon[0] == 42.0 && lon[lon.len() - 1] == 178.0,
        "{lon:?}"
    );

    let split: Vec<f64> = (0..90)
        .map(|i| f64::from(i) * 2.0)
        .chain((0..90).map(|i| -180.0 + f64::from(i) * 2.0))
        .collect();
    let c = read_cube(write("split.nc", &split), &ReadOptions::default()).unwrap();
    let s2s_ensemble::cube::Spatial::Grid { lon, .. } = &c.coords.spatial else {
        panic!()
    };
    assert_eq!((lon[0], lon[179]), (-180.0, 178.0));
    assert!(lon.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(c.values[[0, 0, 0, 0, 0]], 180.0); // −180 ≡ 180
    assert_eq!(c.values[[0, 0, 0, 0, 90]], 0.0);
}

/// Lead periods survive a write/read round trip through `s2s regrid` (`lead_bnds`): the NMME
/// seasonal hindcast (months 2–4) reads back as months 2–4, not "month 2".
#[test]
fn regridded_seasonal_leads_keep_their_period() {
    use crate::common::{real, s2s, stderr};
    use s2s_ensemble::cube::Lead;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ccsm4_2deg.nc");
    let o = s2s(&[
        "regrid",
        "-q",
        "--method",
        "conservative",
        "--grid",
        "2",
        "--bbox",
        "60,100,0,36",
        real("nmme_india/CCSM4_HCST.nc").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c = read_cube(&out, &ReadOptions::default()).unwrap();
    assert_eq!(c.coords.lead, vec![Lead::months(1.0, 3.0)]);
    assert_eq!(c.coords.lead[0].label(), "months 2–4");
}

/// A polar-stereographic grid (x/y in km with `projection_x_coordinate`, 2-D `lat`/`lon` named
/// in `coordinates`): read as a curvilinear grid (not "latitude 'y' outside -90..90"), refused
/// by bilinear with the fix, and regridded by `--method distance` onto a 1° lon/lat box where a
/// field equal to the latitude comes back as the target latitudes.
#[test]
fn polar_stereographic_grid_regridded_by_distance() {
    use crate::common::{create, s2s, stderr, stdout};
    let dir = tempfile::tempdir().unwrap();
    // with 2-D lat/lon in `coordinates`, and with only x/y and the grid mapping
    for with_lat_lon in [true, false] {
        let p = dir.path().join(format!("polar_{with_lat_lon}.nc"));
        let r_earth = 6371.0f64;
        let xs: Vec<f64> = (0..41).map(|i| -2000.0 + 100.0 * f64::from(i)).collect();
        let n = xs.len();
        let mut lat = Vec::with_capacity(n * n);
        let mut lon = Vec::with_capacity(n * n);
        for &y in &xs {
            for &x in &xs {
                // spherical north polar stereographic, true scale at the pole, central meridian 0°
                let r = (x * x + y * y).sqrt();
                lat.push(90.0 - 2.0 * (r / (2.0 * r_earth)).atan().to_degrees());
                lon.push(x.atan2(-y).to_degrees());
            }
        }
        {
            let mut f = create(&p);
            f.add_dimension("time", 1).unwrap();
            f.add_dimension("y", n).unwrap();
            f.add_dimension("x", n).unwrap();
            let mut t = f.add_variable::<f64>("time", &["time"]).unwrap();
            t.put_attribute("units", "days since 2020-01-01").unwrap();
            t.put_values(&[0.0], ..).unwrap();
            for (name, sn) in [
                ("x", "projection_x_coordinate"),
                ("y", "projection_y_coordinate"),
            ] {
                let mut v = f.add_variable::<f64>(name, &[name]).unwrap();
                v.put_attribute("units", "km").unwrap();
                v.put_attribute("standard_name", sn).unwrap();
                v.put_attribute("axis", name.to_uppercase().as_str())
                    .unwrap();
                v.put_values(&xs, ..).unwrap();
            }
            for (name, vals, units) in [
                ("lat", &lat, "degrees_north"),
                ("lon", &lon, "degrees_east"),
            ]
            .into_iter()
            .filter(|_| with_lat_lon)
            {
                let mut v = f.add_variable::<f64>(name, &["y", "x"]).unwrap();
                v.put_attribute("units", units).unwrap();
                v.put_values(vals, ..).unwrap();
            }
            let mut gm = f.add_variable::<i32>("polar_stereographic", &[]).unwrap();
            gm.put_attribute("grid_mapping_name", "polar_stereographic")
                .unwrap();
            gm.put_attribute("latitude_of_projection_origin", 90.0)
                .unwrap();
            gm.put_attribute("straight_vertical_longitude_from_pole", 0.0)
                .unwrap();
            gm.put_attribute("earth_radius", r_earth * 1000.0).unwrap();
            gm.put_attribute("scale_factor_at_projection_origin", 1.0)
                .unwrap();
            let mut v = f
                .add_variable::<f32>("marker", &["time", "y", "x"])
                .unwrap();
            v.put_attribute("units", "1").unwrap();
            if with_lat_lon {
                v.put_attribute("coordinates", "lon lat").unwrap();
            }
            v.put_attribute("grid_mapping", "polar_stereographic")
                .unwrap();
            let vals: Vec<f32> = lat.iter().map(|&a| a as f32).collect();
            v.put_values(&vals, ..).unwrap();
        }
        let o = s2s(&["inspect", "--var", "marker", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains("curvilinear grid 41 x 41"),
            "{}",
            stdout(&o)
        );
        let out = dir.path().join(format!("polar_1deg_{with_lat_lon}.nc"));
        let run = |method: &str| {
            s2s(&[
                "regrid",
                "-q",
                "--method",
                method,
                "--grid",
                "1",
                "--bbox",
                "0,90,72,80",
                p.to_str().unwrap(),
                out.to_str().unwrap(),
            ])
        };
        let o = run("bilinear");
        assert!(
            !o.status.success() && stderr(&o).contains("--method distance"),
            "{}",
            stderr(&o)
        );
        let o = run("distance");
        assert!(o.status.success(), "{}", stderr(&o));
        let c = read_cube(
            &out,
            &ReadOptions {
                keep_units: true,
                ..Default::default()
            },
        )
        .unwrap();
        let s2s_ensemble::cube::Spatial::Grid { lat: tl, .. } = &c.coords.spatial else {
            panic!()
        };
        let (mut worst, mut sum, mut n) = (0.0f64, 0.0f64, 0usize);
        for (j, &a) in tl.iter().enumerate() {
            for v in c.values.slice(ndarray::s![0, 0, 0, j, ..]) {
                let e = (f64::from(*v) - a).abs();
                worst = worst.max(e);
                sum += e;
                n += 1;
            }
        }
        // 100 km cells are ~0.9° of latitude; inverse-distance weighting is not exact for a
        // linear field: within a third of a cell, a tenth on average
        assert!(
            n == 8 * 90 && worst < 0.3 && sum / (n as f64) < 0.1,
            "{worst} {}",
            sum / n as f64
        );
    }
}

/// Grid-relative sea-ice motion on the NSIDC north polar-stereographic grid (Hughes
/// ellipsoid, 70°N true scale, central meridian −45°), stored as NSIDC stores it: x ascending,
/// y from north to south, only x/y and the grid mapping. The ice moves 0.3 m/s east and
/// 0.2 m/s south everywhere; `u`, `v` are its components along +x and +y. `s2s regrid --method
/// distance` says it rotates them, writes `eastward_sea_ice_velocity` /
/// `northward_sea_ice_velocity` and gives back (0.3, −0.2) — the `v` component points against
/// the rows, which a rotation by the grid's geometry alone would get backwards.
#[test]
fn grid_relative_ice_motion_on_a_polar_stereographic_grid() {
    use crate::common::{create, s2s, stderr};
    use s2s_ensemble::grid::projection::{lat_lon_of, GridMapping, PolarScale, Projection};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("icemotion.nc");
    let (a, b) = (6_378_273.0f64, 6_356_889.449f64);
    let mapping = GridMapping {
        projection: Projection::PolarStereographic {
            north: true,
            lon0: (-45f64).to_radians(),
            scale: PolarScale::StandardParallel(70f64.to_radians()),
        },
        a,
        e: (1.0 - (b / a).powi(2)).sqrt(),
        false_easting: 0.0,
        false_northing: 0.0,
    };
    let xs: Vec<f64> = (0..41)
        .map(|i| -2_000_000.0 + 100_000.0 * f64::from(i))
        .collect();
    let ys: Vec<f64> = xs.iter().rev().copied().collect();
    let (_, lon) = lat_lon_of(&mapping, &xs, &ys).unwrap();
    let (east, north) = (0.3f64, -0.2f64);
    let alpha = lon.mapv(|l| -(l + 45.0).to_radians());
    let u: Vec<f32> = alpha
        .iter()
        .map(|a| (east * a.cos() + north * a.sin()) as f32)
        .collect();
    let v: Vec<f32> = alpha
        .iter()
        .map(|a| (-east * a.sin() + north * a.cos()) as f32)
        .collect();
    {
        let mut f = create(&p);
        f.add_dimension("time", 1).unwrap();
        f.add_dimension("y", ys.len()).unwrap();
        f.add_dimension("x", xs.len()).unwrap();
        let mut t = f.add_variable::<f64>("time", &["time"]).unwrap();
        t.put_attribute("units", "days since 2020-01-01").unwrap();
        t.put_values(&[0.0], ..).unwrap();
        for (name, vals, sn) in [
            ("x", &xs, "projection_x_coordinate"),
            ("y", &ys, "projection_y_coordinate"),
        ] {
            let mut c = f.add_variable::<f64>(name, &[name]).unwrap();
            c.put_attribute("units", "m").unwrap();
            c.put_attribute("standard_name", sn).unwrap();
            c.put_values(vals, ..).unwrap();
        }
        let mut gm = f.add_variable::<i32>("crs", &[]).unwrap();
        gm.put_attribute("grid_mapping_name", "polar_stereographic")
            .unwrap();
        gm.put_attribute("latitude_of_projection_origin", 90.0)
            .unwrap();
        gm.put_attribute("straight_vertical_longitude_from_pole", -45.0)
            .unwrap();
        gm.put_attribute("standard_parallel", 70.0).unwrap();
        gm.put_attribute("semi_major_axis", a).unwrap();
        gm.put_attribute("semi_minor_axis", b).unwrap();
        for (name, vals, sn) in [
            ("u", &u, "sea_ice_x_velocity"),
            ("v", &v, "sea_ice_y_velocity"),
        ] {
            let mut c = f.add_variable::<f32>(name, &["time", "y", "x"]).unwrap();
            c.put_attribute("units", "m s-1").unwrap();
            c.put_attribute("standard_name", sn).unwrap();
            c.put_attribute("grid_mapping", "crs").unwrap();
            c.put_values(vals, ..).unwrap();
        }
    }
    let out = dir.path().join("icemotion_1deg.nc");
    let o = s2s(&[
        "regrid",
        "--method",
        "distance",
        "--grid",
        "1",
        "--bbox",
        "-90,90,72,82",
        p.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rotated to eastward_sea_ice_velocity and northward_sea_ice_velocity"),
        "{}",
        stderr(&o)
    );
    let f = crate::common::nc_open(&out).unwrap();
    for (name, want_sn, want) in [
        ("u", "eastward_sea_ice_velocity", east),
        ("v", "northward_sea_ice_velocity", north),
    ] {
        let var = f.variable(name).unwrap();
        let sn: String = var
            .attribute_value("standard_name")
            .unwrap()
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(sn, want_sn);
        let vals: Vec<f32> = var.get_values(..).unwrap();
        let worst = vals
            .iter()
            .map(|&x| (f64::from(x) - want).abs())
            .fold(0.0, f64::max);
        assert!(vals.len() == 180 * 10 && worst < 2e-3, "{name}: {worst}");
    }
}
