//! GRIB input (`s2s_ensemble::io::grib`): files encoded by CDO and ecCodes' own tools
//! (`cdo -f grb2 copy`, `grib_filter`) from NetCDF test files read as the NetCDF files do —
//! C3S-style hindcasts (one GRIB2 file per start date, all members, monthly means as step
//! ranges or GRIB1 `forecastMonth`), observations, and an outlook from a templated config.

use crate::common::*;
use chrono::{Months, NaiveDate};
use s2s_ensemble::cube::Cube;
use s2s_ensemble::io::{read_var, ReadOptions};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (cdo and libeccodes-tools come from scripts/setup.sh)")
    });
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// One field of a C3S-style file: start, member, forecast month (1-based), values.
struct Field<'a> {
    start: NaiveDate,
    member: i64,
    month: u32,
    values: &'a [f32],
}

/// How the forecast month is encoded.
#[derive(Clone, Copy)]
enum Edition {
    /// GRIB2, product template 11, monthly means as step ranges in hours (IEEE packing).
    Two,
    /// GRIB1, ECMWF local definition 16 with `forecastMonth` (simple packing).
    One,
}

/// Writes `fields` as one GRIB file of `tprate` (m s**-1, C3S's monthly mean precipitation
/// rate): CDO encodes a `(time, lat, lon)` NetCDF file, `grib_filter` sets the keys.
fn write_c3s_grib(
    out: &Path,
    fields: &[Field],
    lat: &[f64],
    lon: &[f64],
    members: usize,
    edition: Edition,
) {
    let dir = out.parent().unwrap();
    let stem = out.file_stem().unwrap().to_string_lossy();
    let flat = dir.join(format!("{stem}.flat.nc"));
    let coded = dir.join(format!("{stem}.flat.grib"));
    {
        let mut f = create(&flat);
        let times: Vec<f64> = (0..fields.len()).map(|k| k as f64).collect();
        coord(
            &mut f,
            "time",
            &times,
            &[
                ("units", A::T("days since 2000-01-01")),
                ("axis", A::T("T")),
            ],
        );
        coord(&mut f, "lat", lat, &[("units", A::T("degrees_north"))]);
        coord(&mut f, "lon", lon, &[("units", A::T("degrees_east"))]);
        let values: Vec<f32> = fields
            .iter()
            .flat_map(|x| x.values.iter().copied())
            .collect();
        data_f32(
            &mut f,
            "x",
            &["time", "lat", "lon"],
            &values,
            &[("_FillValue", A::F32(1e20))],
        );
    }
    let (format, bits) = match edition {
        Edition::Two => ("grb2", "F32"),
        Edition::One => ("grb", "P24"),
    };
    run(Command::new("cdo")
        .args(["-s", "-f", format, "-b", bits, "copy"])
        .arg(&flat)
        .arg(&coded));
    let mut rules = String::new();
    for (k, x) in fields.iter().enumerate() {
        let date = x.start.format("%Y%m%d");
        match edition {
            Edition::Two => {
                let at = |m: u32| {
                    (x.start.checked_add_months(Months::new(m)).unwrap() - x.start).num_hours()
                };
                writeln!(
                    rules,
                    "if (count == {}) {{ set productDefinitionTemplateNumber = 11; set paramId = 172228; set number = {}; set numberOfForecastsInEnsemble = {members}; set typeOfStatisticalProcessing = 0; set dataDate = {date}; set dataTime = 0; set stepRange = \"{}-{}\"; }}",
                    k + 1,
                    x.member,
                    at(x.month - 1),
                    at(x.month)
                )
                .unwrap();
            }
            Edition::One => {
                writeln!(
                    rules,
                    "if (count == {}) {{ set centre = 98; set paramId = 172228; set setLocalDefinition = 1; set localDefinitionNumber = 16; set number = {}; set forecastMonth = {}; set dataDate = {date}; set dataTime = 0; }}",
                    k + 1,
                    x.member,
                    x.month
                )
                .unwrap();
            }
        }
    }
    rules += "write;\n";
    let rules_path = dir.join(format!("{stem}.rules"));
    std::fs::write(&rules_path, rules).unwrap();
    run(Command::new("grib_filter")
        .arg("-o")
        .arg(out)
        .arg(&rules_path)
        .arg(&coded));
    for p in [flat, coded, rules_path] {
        std::fs::remove_file(p).unwrap();
    }
}

/// The raw `tprate(number, forecast_reference_time, forecastMonth, lat, lon)` of a synthetic
/// C3S-like file, with its starts and axes.
struct C3sFile {
    values: Vec<f32>,
    shape: Vec<usize>,
    starts: Vec<NaiveDate>,
    lat: Vec<f64>,
    lon: Vec<f64>,
}

fn read_c3s(path: &Path) -> C3sFile {
    let f = crate::common::nc_open(path).unwrap();
    let v = f.variable("tprate").unwrap();
    let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
    let cube = read_var(path, Some("tprate"), ReadOptions::default()).unwrap();
    let starts = cube
        .coords
        .init
        .iter()
        .map(|d| NaiveDate::from_ymd_opt(d.year, d.month, d.day).unwrap())
        .collect();
    let coord = |n: &str| f.variable(n).unwrap().get_values::<f64, _>(..).unwrap();
    C3sFile {
        values: v.get_values::<f32, _>(..).unwrap(),
        shape,
        starts,
        lat: coord("latitude"),
        lon: coord("longitude"),
    }
}

/// Writes one GRIB file per start (`{stem}_{year}.grib`), all members inside.
fn split_to_grib(src: &C3sFile, dir: &Path, stem: &str, edition: Edition) {
    let [nm, ns, nl, ny, nx] = src.shape[..] else {
        panic!("5-D")
    };
    let cell = ny * nx;
    for (s, start) in src.starts.iter().enumerate() {
        let mut fields = Vec::new();
        for m in 0..nm {
            for l in 0..nl {
                let at = ((m * ns + s) * nl + l) * cell;
                fields.push(Field {
                    start: *start,
                    member: m as i64,
                    month: l as u32 + 1,
                    values: &src.values[at..at + cell],
                });
            }
        }
        let out = dir.join(format!("{stem}_{}.grib", chrono::Datelike::year(start)));
        write_c3s_grib(&out, &fields, &src.lat, &src.lon, nm, edition);
    }
}

fn max_abs_diff(a: &Cube, b: &Cube) -> f32 {
    assert_eq!(a.values.shape(), b.values.shape());
    a.values
        .iter()
        .zip(b.values.iter())
        .map(|(x, y)| {
            if x.is_nan() && y.is_nan() {
                0.0
            } else if x.is_nan() || y.is_nan() {
                f32::INFINITY
            } else {
                (x - y).abs()
            }
        })
        .fold(0.0, f32::max)
}

/// The done-when of the GRIB part: a C3S-style set (one GRIB2 file per start date, every member
/// inside, monthly means as step ranges) and the same as GRIB1 with `forecastMonth` give the
/// cube of the NetCDF file — identical for IEEE-packed GRIB2, within the 24-bit packing for
/// GRIB1.
#[test]
fn c3s_style_grib_per_start_reads_as_its_netcdf() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let nc = dir.path().join("hindcast_ALPHA.nc");
    let whole = read_var(&nc, Some("tprate"), ReadOptions::default()).unwrap();
    let src = read_c3s(&nc);
    for (edition, sub, tolerance) in [(Edition::Two, "g2", 0.0), (Edition::One, "g1", 1e-4)] {
        let split = dir.path().join(sub);
        std::fs::create_dir_all(&split).unwrap();
        split_to_grib(&src, &split, "ALPHA", edition);
        let set = read_var(
            &split.join("ALPHA_{year}.grib"),
            Some("tprate"),
            ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(set.coords.init, whole.coords.init, "{sub}");
        assert_eq!(set.coords.member.len(), whole.coords.member.len(), "{sub}");
        assert_eq!(set.coords.lead, whole.coords.lead, "{sub}");
        assert_eq!(set.coords.spatial, whole.coords.spatial, "{sub}");
        assert_eq!(set.meta.units, whole.meta.units, "{sub}");
        let d = max_abs_diff(&set, &whole);
        assert!(d <= tolerance, "{sub}: largest difference {d} mm/day");
    }
    // inspect names the format and reads the set.
    let out = s2s(&[
        "inspect",
        dir.path().join("g2/ALPHA_1993.grib").to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    for want in [
        "GRIB edition 2",
        "variable tprate (Mean total precipitation rate)",
        "members:   3",
        "leads:     month 1",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

/// Observations encoded by `cdo -f grb2 -b F32 copy` (CDO stores a time series as steps from
/// the time axis's epoch) read as the NetCDF file: same times, same values.
#[test]
fn observations_through_cdo_grib2_are_the_netcdf_series() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let obs = dir.path().join("obs.nc");
    let grib = dir.path().join("tas.grb2");
    run(Command::new("cdo")
        .args([
            "-s",
            "-f",
            "grb2",
            "-b",
            "F32",
            "-setparam,0.0.0",
            "-selvar,tas",
        ])
        .arg(&obs)
        .arg(&grib));
    let a = read_var(&obs, Some("tas"), ReadOptions::default()).unwrap();
    let b = read_var(&grib, Some("t"), ReadOptions::default()).unwrap();
    assert_eq!(a.coords.init, b.coords.init);
    assert_eq!(a.coords.spatial, b.coords.spatial);
    assert_eq!(max_abs_diff(&a, &b), 0.0);
    // The same behind a WMO abbreviated heading (as GTS bulletins come).
    let wmo = dir.path().join("wmo.grb2");
    let mut bytes = b"\x01\r\r\n123\r\r\nHTXA50 ECMF 051200\r\r\n".to_vec();
    bytes.extend(std::fs::read(&grib).unwrap());
    std::fs::write(&wmo, bytes).unwrap();
    let c = read_var(&wmo, Some("t"), ReadOptions::default()).unwrap();
    assert_eq!(max_abs_diff(&b, &c), 0.0);
}

/// The C3S-style done-when: an outlook whose first model is a set of GRIB2 files, one per
/// start date (`hindcast = "grib/{model}_{year}.grib"`, or the same files as a TOML list), gives
/// the probabilities of the NetCDF run exactly.
#[test]
fn outlook_from_a_templated_config_of_grib_files_per_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth_small(d);
    let grib = d.join("grib");
    std::fs::create_dir_all(&grib).unwrap();
    split_to_grib(
        &read_c3s(&d.join("hindcast_ALPHA.nc")),
        &grib,
        "ALPHA",
        Edition::Two,
    );
    split_to_grib(
        &read_c3s(&d.join("forecast_ALPHA.nc")),
        &grib,
        "ALPHA_fcst",
        Edition::Two,
    );
    let model = |m: &str, hc: &str, fc: &str| {
        format!("[[models]]\nname = \"{m}\"\nhindcast = \"{hc}\"\nforecast = \"{fc}\"\n\n")
    };
    let head = "title = \"grib\"\nvariable = \"pr\"\nbias = \"eqm\"\nweights = \"model\"\nregions = [\"all=60,100,0,40\"]\n\n";
    let tail = "[observations]\npath = \"obs.nc\"\nvariable = \"pr\"\n";
    let others = model("BRAVO", "hindcast_BRAVO.nc", "forecast_BRAVO.nc")
        + &model("CHARLIE", "hindcast_CHARLIE.nc", "forecast_CHARLIE.nc");
    let netcdf_cfg = format!(
        "{head}{}{others}{tail}",
        model("ALPHA", "hindcast_ALPHA.nc", "forecast_ALPHA.nc")
    );
    let grib_cfg = format!(
        "{head}{}{others}{tail}",
        model(
            "ALPHA",
            "grib/{model}_{year}.grib",
            "grib/ALPHA_fcst_*.grib"
        )
    );
    let probabilities = |name: &str, cfg: &str| {
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, cfg).unwrap();
        let out = d.join(name);
        let o = s2s(&[
            "outlook",
            "-q",
            "--config",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let f = crate::common::nc_open(out.join("mme_forecast.pr.nc")).unwrap();
        crate::common::nd_values(&f, "probability").unwrap().1
    };
    // The same files as a TOML list (relative to the configuration's folder).
    let years: Vec<String> = (1993..=2004)
        .map(|y| format!("\"grib/ALPHA_{y}.grib\""))
        .collect();
    let list_cfg = grib_cfg.replace(
        "hindcast = \"grib/{model}_{year}.grib\"",
        &format!("hindcast = [{}]", years.join(", ")),
    );
    assert!(list_cfg.contains("hindcast = [\"grib/ALPHA_1993.grib\", "));
    let a = probabilities("from_netcdf", &netcdf_cfg);
    let b = probabilities("from_grib", &grib_cfg);
    let c = probabilities("from_list", &list_cfg);
    assert!(a.iter().any(|v| v.is_finite()));
    for other in [&b, &c] {
        assert_eq!(a.len(), other.len());
        assert!(a
            .iter()
            .zip(other)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
    }
}

/// Bad GRIB: one clear line naming the file and what to do.
#[test]
fn bad_grib_files_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let grib = dir.path().join("tas.grb2");
    run(Command::new("cdo")
        .args(["-s", "-f", "grb2", "-setparam,0.0.0", "-selvar,tas"])
        .arg(dir.path().join("obs.nc"))
        .arg(&grib));
    // Truncated in its second message (a GRIB2 message's length is in bytes 8..16).
    let bytes = std::fs::read(&grib).unwrap();
    let first = u64::from_be_bytes(bytes[8..16].try_into().unwrap()) as usize;
    let cut = dir.path().join("cut.grb2");
    std::fs::write(&cut, &bytes[..first + 100]).unwrap();
    let o = s2s(&["inspect", cut.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cut.grb2") && err.contains("GRIB message 2") && err.contains("truncated"),
        "{err}"
    );
    // A reduced Gaussian field (ecCodes' own sample) is refused with the CDO command.
    let gg = dir.path().join("gg.grib2");
    run(Command::new("grib_set")
        .args(["-s", "dataDate=20240101"])
        .arg("/usr/share/eccodes/samples/reduced_gg_pl_32_grib2.tmpl")
        .arg(&gg));
    let o = s2s(&["inspect", gg.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains("gg.grib2")
            && err.contains("reduced_gg")
            && err.contains("setgridtype,regular"),
        "{err}"
    );
    // The same field twice in a series.
    let twice = dir.path().join("twice.grb2");
    let one = &bytes[..first];
    std::fs::write(&twice, [one, one].concat()).unwrap();
    let o = s2s(&["inspect", twice.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains("twice.grb2") && err.contains("appears twice"),
        "{err}"
    );
}
