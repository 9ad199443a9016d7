//! `s2s inspect` on every bundled real file, and one test per class of bad input: one clear
//! line on stderr naming the file (and variable), non-zero exit, no panic.

use crate::common::*;

fn ok(args: &[&str]) -> String {
    let o = s2s(args);
    assert!(o.status.success(), "s2s {args:?} failed:\n{}", stderr(&o));
    stdout(&o)
}

#[test]
fn nmme_iri_files() {
    let out = ok(&[
        "inspect",
        real("nmme_india/CCSM4_HCST.nc").to_str().unwrap(),
    ]);
    for want in [
        "format:      classic",
        "S=init [standard_name=forecast_reference_time]",
        "Y=lat [units=degree_north]",
        "'mm/day' -> mm/day",
        "calendar:  360_day",
        "1982-09-01 .. 2019-09-01 (38 start dates)",
        "leads:     months 2–4",
        "regular lat/lon grid 50 x 51",
    ] {
        assert!(out.contains(want), "missing '{want}' in\n{out}");
    }
}

#[test]
fn imd_observations_need_their_units_said() {
    let p = real("nmme_india/observations.nc");
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("observations.nc: variable 'rf'") && err.contains("--assume-units"),
        "{err}"
    );
    let out = ok(&["inspect", "--assume-units", "mm/month", p.to_str().unwrap()]);
    assert!(
        out.contains("cadence: yearly") && out.contains("missing:   76.9 %"),
        "{out}"
    );
}

#[test]
fn subx_daily_leads_and_station_series() {
    let out = ok(&[
        "inspect",
        real("verification/GMAO-GEOS-V2p1.RMM1.nc")
            .to_str()
            .unwrap(),
    ]);
    assert!(
        out.contains("1999-01-01 .. 2015-12-27 (510 start dates)"),
        "{out}"
    );
    assert!(
        out.contains("members:   4") && out.contains("day 1 .. day 45 (45 leads)"),
        "{out}"
    );
    assert!(out.contains("index series (no spatial dimension)"), "{out}");
    let out = ok(&[
        "inspect",
        real("bias_correction/CanESM2_1950-2100.nc")
            .to_str()
            .unwrap(),
    ]);
    assert!(
        out.contains("3 points: Vancouver (49.10N, -123.10E), Kugluktuk"),
        "{out}"
    );
    assert!(
        out.contains("'kg m-2 s-1' -> mm/day") && out.contains("calendar:  noleap"),
        "{out}"
    );
    assert!(
        out.contains("1950-01-01 .. 2100-12-31 (55115 time steps)"),
        "{out}"
    );
}

#[test]
fn curvilinear_grid_is_described() {
    let p = real("hindcast_grids/CESM-DP-LE.SST.eastern_pacific.nc");
    let out = ok(&["inspect", "--assume-units", "degC", p.to_str().unwrap()]);
    assert!(
        out.contains("curvilinear grid 37 x 26")
            && out.contains("regrid it with s2s regrid --method distance"),
        "{out}"
    );
    assert!(
        out.contains("nlat=grid y [2-D coordinates TLAT/TLONG]"),
        "{out}"
    );
}

#[test]
fn every_other_real_file_reads() {
    for f in [
        "verification/RMM1.observed.interannual.1974-06.2017-07.nc",
        "verification/Observations_Germany.nc",
        "verification/NMME_Reyn_SmithOIv2_Nino34_sst.nc",
        "bias_correction/ahccd_1950-2013.nc",
        "nmme_india/southasia_lsmask.nc",
        "nmme_india/NCEPCFSV2_FCST.nc",
    ] {
        ok(&["inspect", real(f).to_str().unwrap()]);
    }
    for f in [
        "verification/CESM-DP-LE.SST.global.nc",
        "verification/ERSSTv4.global.mean.nc",
        "hindcast_grids/FOSI.SST.eastern_pacific.nc",
    ] {
        ok(&[
            "inspect",
            "--assume-units",
            "degC",
            real(f).to_str().unwrap(),
        ]);
    }
}

#[test]
fn json_output_parses() {
    let out = ok(&[
        "inspect",
        "--json",
        real("nmme_india/CCSM4_FCST.nc").to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v[0]["variables"][0]["name"], "prec");
    assert_eq!(v[0]["variables"][0]["calendar"], "360_day");
    assert_eq!(v[0]["variables"][0]["dims"][0]["role"], "init");
}

#[test]
fn help_has_an_example() {
    let out = ok(&["inspect", "--help"]);
    assert!(
        out.contains("Examples:") && out.contains("s2s inspect"),
        "{out}"
    );
}

// ---- bad input, one class each ------------------------------------------------------------

#[test]
fn missing_file() {
    let err = fails(&["inspect", "/nonexistent/x.nc"]);
    assert!(err.contains("/nonexistent/x.nc: cannot open"), "{err}");
}

#[test]
fn not_netcdf() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.nc");
    std::fs::write(&p, "this is a text file, not NetCDF\n").unwrap();
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("notes.nc: not a readable NetCDF file"),
        "{err}"
    );
}

#[test]
fn truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    for (src, cut) in [
        ("nmme_india/CCSM4_HCST.nc", 2),
        ("bias_correction/CanESM2_1950-2100.nc", 3),
    ] {
        let bytes = std::fs::read(real(src)).unwrap();
        let p = dir.path().join("cut.nc");
        std::fs::write(&p, &bytes[..bytes.len() / cut]).unwrap();
        let err = fails(&["inspect", p.to_str().unwrap()]);
        assert!(err.contains("cut.nc"), "{err}");
        assert!(
            err.contains("truncated") || err.contains("NetCDF error"),
            "{err}"
        );
    }
}

#[test]
fn variable_absent_lists_the_present_ones() {
    let err = fails(&[
        "inspect",
        "--var",
        "tas",
        real("nmme_india/CCSM4_HCST.nc").to_str().unwrap(),
    ]);
    assert!(
        err.contains("variable 'tas' not found; the file has: L, S, X, Y, prec"),
        "{err}"
    );
}

#[test]
fn no_lat_lon_names_what_was_tried() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cells.nc");
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "time",
            &[0.0, 1.0],
            &[("units", A::T("days since 2000-01-01"))],
        );
        f.add_dimension("ncol", 4).unwrap();
        data_f32(
            &mut f,
            "tas",
            &["time", "ncol"],
            &[1.0; 8],
            &[("units", A::T("K"))],
        );
    }
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("cells.nc: variable 'tas': dimension 'ncol' (length 4)"),
        "{err}"
    );
    assert!(err.contains("latitude, y, nav_lat"), "{err}");
}

#[test]
fn all_nan_variable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.nc");
    plain_obs(&p, "pr", "mm/day", 3, |_, _, _| -999.0);
    {
        let mut f = crate::common::nc_append(&p).unwrap();
        f.variable_mut("pr")
            .unwrap()
            .put_attribute("missing_value", -999.0f32)
            .unwrap();
    }
    // Described (a score map not computed for one system is a variable too), with a warning.
    let o = s2s(&["inspect", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: ")
            && stderr(&o).contains("empty.nc: variable 'pr': every value is missing"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("values:    none (every value is missing)"));
    // Reading it for a job is refused.
    let err = fails(&[
        "regrid",
        "--method",
        "bilinear",
        "--grid",
        "1",
        p.to_str().unwrap(),
        dir.path().join("r.nc").to_str().unwrap(),
    ]);
    assert!(err.contains("all 18 values read are missing"), "{err}");
}

#[test]
fn unknown_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lunar.nc");
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "time",
            &[0.0, 1.0],
            &[
                ("units", A::T("days since 2000-01-01")),
                ("calendar", A::T("lunar")),
            ],
        );
        coord(&mut f, "lat", &[0.0], &[("units", A::T("degrees_north"))]);
        coord(&mut f, "lon", &[0.0], &[("units", A::T("degrees_east"))]);
        data_f32(
            &mut f,
            "tas",
            &["time", "lat", "lon"],
            &[1.0, 2.0],
            &[("units", A::T("degC"))],
        );
    }
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("lunar.nc: coordinate 'time': unknown calendar 'lunar'"),
        "{err}"
    );
}

#[test]
fn unknown_and_absurd_units() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("furlongs.nc");
    plain_obs(&p, "pr", "furlongs/fortnight", 2, |t, y, x| {
        (t + y + x) as f32
    });
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains(
            "furlongs.nc: variable 'pr': units 'furlongs/fortnight' are not a precipitation unit"
        ),
        "{err}"
    );
    // A flux in kg m-2 s-1 labelled mm/day is implausibly dry.
    let p = dir.path().join("flux.nc");
    plain_obs(&p, "pr", "mm/day", 20, |t, y, x| {
        3e-5 * (1 + t + y + x) as f32
    });
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("flux.nc: variable 'pr'") && err.contains("implausibly dry"),
        "{err}"
    );
    // Temperatures in K labelled degC are implausible.
    let p = dir.path().join("kelvin.nc");
    plain_obs(&p, "tas", "degC", 2, |_, _, _| 290.0);
    let err = fails(&["inspect", p.to_str().unwrap()]);
    assert!(
        err.contains("kelvin.nc: variable 'tas': values 290") && err.contains("implausible"),
        "{err}"
    );
    // --assume-units fixes it.
    ok(&["inspect", "--assume-units", "K", p.to_str().unwrap()]);
}

#[test]
fn small_negative_rainfall_becomes_zero_and_large_negative_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("noise.nc");
    plain_obs(&p, "pr", "mm/day", 4, |t, y, x| {
        if (t + y + x) % 3 == 0 {
            -0.4
        } else {
            2.0 + t as f32
        }
    });
    let c = s2s_ensemble::io::read_var(&p, Some("pr"), Default::default()).unwrap();
    assert!(c.values.iter().all(|v| *v >= 0.0));
    assert!(
        c.meta.history.iter().any(
            |h| h.contains("small negative values (down to -0.400 mm/day")
                && h.contains("set to 0")
        ),
        "{:?}",
        c.meta.history
    );
    let q = dir.path().join("sign_flipped.nc");
    plain_obs(
        &q,
        "pr",
        "mm/day",
        4,
        |t, _, _| if t == 0 { -6.0 } else { 2.0 },
    );
    let err = fails(&["inspect", q.to_str().unwrap()]);
    assert!(
        err.contains("sign_flipped.nc: variable 'pr': values -6") && err.contains("implausible"),
        "{err}"
    );
}

#[test]
fn several_files_report_each_and_fail_once() {
    let o = s2s(&[
        "inspect",
        real("nmme_india/CCSM4_FCST.nc").to_str().unwrap(),
        "/nonexistent.nc",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("CCSM4_FCST.nc"));
    assert!(stderr(&o).contains("/nonexistent.nc: cannot open"));
}

#[test]
fn zarr_stores_and_grib_files() {
    // A real xarray Zarr v2 store (ERA5 msl, blosc-lz4, first chunk only) reads as a file does.
    let store = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zarr/era5_msl_chunk0.zarr");
    let out = ok(&["inspect", store.to_str().unwrap()]);
    for want in [
        "format:      Zarr v2 store",
        "variable msl (Mean sea level pressure)",
        "time    :  2025-12-01 .. 2026-02-28T18:00:00 (360 time steps)",
        "regular lat/lon grid 73 x 144",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    // A GRIB file that ecCodes cannot decode: the message and what to check, not "another
    // format?".
    let dir = tempfile::tempdir().unwrap();
    let grib = dir.path().join("t2m.grib2");
    let mut bytes = b"GRIB\0\0\0\x02".to_vec();
    bytes.extend([0u8; 64]);
    std::fs::write(&grib, bytes).unwrap();
    let err = fails(&["inspect", grib.to_str().unwrap()]);
    assert!(
        err.contains("t2m.grib2")
            && err.contains("GRIB message 1 cannot be decoded")
            && err.contains("truncated"),
        "{err}"
    );
    // A directory that is not a store, and a store with a broken chunk: one clear line each.
    let err = fails(&["inspect", dir.path().to_str().unwrap()]);
    assert!(err.contains("is a directory"), "{err}");
    let broken = dir.path().join("broken.zarr");
    std::fs::create_dir_all(broken.join("x")).unwrap();
    std::fs::write(broken.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    std::fs::write(
        broken.join("x/.zarray"),
        r#"{"shape": [4], "chunks": [4], "dtype": "<f4", "fill_value": "NaN", "filters": null,
            "order": "C", "zarr_format": 2,
            "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}}"#,
    )
    .unwrap();
    std::fs::write(
        broken.join("x/.zattrs"),
        r#"{"_ARRAY_DIMENSIONS": ["time"]}"#,
    )
    .unwrap();
    std::fs::write(broken.join("x/0"), b"not a blosc frame").unwrap();
    let err = fails(&["inspect", broken.to_str().unwrap()]);
    assert!(
        err.contains("broken.zarr") && err.contains("chunk"),
        "{err}"
    );
}

#[test]
fn a_field_without_a_time_dimension_takes_its_scalar_valid_time() {
    // cfgrib/ERA5 snapshots: `msl(latitude, longitude)` with a 0-d `valid_time`.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("snapshot.nc");
    {
        let mut f = create(&p);
        f.add_dimension("latitude", 3).unwrap();
        f.add_dimension("longitude", 4).unwrap();
        let mut t = f.add_variable::<i64>("valid_time", &[]).unwrap();
        t.put_attribute("units", "seconds since 1970-01-01")
            .unwrap();
        t.put_attribute("standard_name", "time").unwrap();
        t.put_values(&[1_764_547_200i64], ..).unwrap();
        let mut lat = f.add_variable::<f64>("latitude", &["latitude"]).unwrap();
        lat.put_attribute("units", "degrees_north").unwrap();
        lat.put_values(&[10.0, 12.5, 15.0], ..).unwrap();
        let mut lon = f.add_variable::<f64>("longitude", &["longitude"]).unwrap();
        lon.put_attribute("units", "degrees_east").unwrap();
        lon.put_values(&[80.0, 82.5, 85.0, 87.5], ..).unwrap();
        let mut v = f
            .add_variable::<f32>("msl", &["latitude", "longitude"])
            .unwrap();
        v.put_attribute("units", "Pa").unwrap();
        v.put_values(&[101000f32; 12], ..).unwrap();
    }
    let out = ok(&["inspect", p.to_str().unwrap()]);
    assert!(out.contains("2025-12-01"), "{out}");
    assert!(!out.contains("0001-01-01"), "{out}");

    // Without the scalar: refused with the option to give, never dated 0001-01-01; with
    // --time it is that date.
    let q = dir.path().join("undated.nc");
    {
        let mut f = create(&q);
        coord(
            &mut f,
            "lat",
            &[10.0, 12.5],
            &[("units", A::T("degrees_north"))],
        );
        coord(
            &mut f,
            "lon",
            &[80.0, 82.5],
            &[("units", A::T("degrees_east"))],
        );
        data_f32(
            &mut f,
            "msl",
            &["lat", "lon"],
            &[101000.0; 4],
            &[("units", A::T("Pa"))],
        );
    }
    // Without a date the field is described undated (as regrid writes it back).
    let out = ok(&["inspect", q.to_str().unwrap()]);
    assert!(out.contains("undated (no time coordinate)"), "{out}");
    let out = ok(&["inspect", "--time", "2025-12-01T06", q.to_str().unwrap()]);
    assert!(out.contains("2025-12-01T06"), "{out}");
    // A bad date is a usage error (exit 2) naming the option.
    let o = s2s(&["inspect", "--time", "2025-13-01", q.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--time"), "{}", stderr(&o));
}

/// A curvilinear file whose 2-D latitude holds one value everywhere (a subsetting tool wrote
/// the staggered points' positions as zeros — OpenDrift's ROMS Nordic subset has `lat_u` and
/// `lon_u` all 0): refused, naming the coordinate, instead of a grid of cells at one place.
#[test]
fn a_curvilinear_grid_without_positions_is_refused() {
    use crate::common::{create, data_f32, A};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lost_positions.nc");
    {
        let mut f = create(&p);
        f.add_dimension("eta_u", 4).unwrap();
        f.add_dimension("xi_u", 5).unwrap();
        for (name, units, value) in [
            ("lat_u", "degree_north", 0.0f64),
            ("lon_u", "degree_east", 0.0),
        ] {
            let mut v = f.add_variable::<f64>(name, &["eta_u", "xi_u"]).unwrap();
            v.put_attribute("units", units).unwrap();
            v.put_values(&[value; 20], ..).unwrap();
        }
        data_f32(
            &mut f,
            "ubar",
            &["eta_u", "xi_u"],
            &[0.1; 20],
            &[
                ("units", A::T("m s-1")),
                ("coordinates", A::T("lon_u lat_u")),
            ],
        );
    }
    let o = crate::common::s2s(&["inspect", "--time", "2020-01-01", p.to_str().unwrap()]);
    let text = format!("{}{}", crate::common::stdout(&o), crate::common::stderr(&o));
    assert!(
        text.contains("'lat_u'") && text.contains("positions are missing"),
        "{text}"
    );
}

/// `-v` says what each stage reads, decides and writes (with seconds since the start), `-vv`
/// adds the details; `-q` and `-v` together are refused; without either nothing of it shows.
#[test]
fn verbose_says_what_each_stage_reads_decides_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::synth_small(d);
    let run = |flag: Option<&str>, out: &str| {
        let mut args: Vec<String> = flag.into_iter().map(str::to_string).collect();
        for a in [
            "bias-correct",
            "--method",
            "eqm",
            "--var",
            "pr",
            "--hindcast",
            "hindcast_ALPHA.nc",
            "--obs",
            "obs.nc",
            "--out",
            out,
        ] {
            args.push(a.to_string());
        }
        std::process::Command::new(env!("CARGO_BIN_EXE_s2s"))
            .current_dir(d)
            .args(&args)
            .output()
            .unwrap()
    };
    let o = run(Some("-v"), "bc1");
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    for said in [
        "info  io::read: read hindcast_ALPHA.nc 'tprate': 12 starts x 3 members x 6 leads",
        "info  pipeline::bias: bias correction of hindcast_ALPHA: empirical quantile mapping",
        "info  io::write: wrote bc1/hindcast_ALPHA.pr.eqm.nc",
        "info  outputs::staging: outputs moved into bc1 as one set",
    ] {
        assert!(e.contains(said), "missing {said:?} in\n{e}");
    }
    assert!(!e.contains("debug"), "{e}");
    let o = run(Some("-vv"), "bc2");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("debug io::read:"), "{}", stderr(&o));
    let o = run(None, "bc3");
    assert!(
        o.status.success() && !stderr(&o).contains("info "),
        "{}",
        stderr(&o)
    );
    let o = s2s(&["-q", "-v", "inspect", "x.nc"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}
