//! s2s's own products as other tools and s2s itself read them: the CDO layout (default) with at
//! most `(time, lead, lat, lon)` per variable, listed whole by `cdo sinfon`, reduced by
//! `cdo fldmean` and regridded by `cdo remapbil`; the N-D layout (`--layout nd`) with the same
//! values; `s2s inspect` and `s2s regrid` on every product; the regridded probabilities read
//! back as probabilities.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{nd_values, s2s, stderr, stdout, synth_files as files, synth_small as synth};

/// Runs CDO with `args`; returns (success, stdout, stderr).
fn cdo(args: &[&str]) -> (bool, String, String) {
    let o = Command::new("cdo")
        .args(args)
        .output()
        .expect("cdo is installed by scripts/setup.sh");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The data variables of a NetCDF file as netCDF lists them: not coordinates, bounds or
/// label variables (char), i.e. what CDO must list.
fn data_variables(path: &Path) -> Vec<(String, usize)> {
    let f = crate::common::nc_open(path).unwrap();
    let mut out = Vec::new();
    for v in f.variables() {
        let name = v.name();
        let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
        let coordinate = dims.len() == 1 && dims[0] == name;
        let char_or_bounds = matches!(v.vartype(), netcdf::types::NcVariableType::Char)
            || name.ends_with("_bnds")
            || name == "valid_time";
        if !coordinate && !char_or_bounds {
            out.push((name, dims.len()));
        }
    }
    out
}

/// A combine, bias correction and verification of the small synthetic workload in `layout`.
fn products(dir: &Path, wl: &Path, layout: &str) -> Vec<PathBuf> {
    let (h, f) = (files(wl, "hindcast"), files(wl, "forecast"));
    let obs = wl.join("obs.nc");
    let out = dir.join(layout);
    let run = |args: &[&str]| {
        let mut all = vec!["-q", "--layout", layout];
        all.extend_from_slice(args);
        let o = s2s(&all);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let o = |p: &str| out.join(p).to_string_lossy().into_owned();
    run(&[
        "combine",
        "--var",
        "pr",
        "--hindcast",
        &h,
        "--forecast",
        &f,
        "--out",
        &o("mme"),
    ]);
    let alpha = |k: &str| {
        wl.join(format!("{k}_ALPHA.nc"))
            .to_string_lossy()
            .into_owned()
    };
    run(&[
        "bias-correct",
        "--method",
        "eqm",
        "--var",
        "pr",
        "--hindcast",
        &alpha("hindcast"),
        "--forecast",
        &alpha("forecast"),
        "--obs",
        obs.to_str().unwrap(),
        "--out",
        &o("bias"),
    ]);
    run(&[
        "verify",
        "--var",
        "pr",
        "--hindcast",
        &h,
        "--obs",
        obs.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--out",
        &o("skill"),
    ]);
    vec![
        out.join("mme/mme_forecast.pr.nc"),
        out.join("mme/mme_hindcast.pr.nc"),
        out.join("bias/forecast_ALPHA.pr.eqm.nc"),
        out.join("bias/hindcast_ALPHA.pr.eqm.nc"),
        out.join("skill/skill.pr.nc"),
    ]
}

#[test]
fn cdo_layout_is_read_whole_by_cdo_and_s2s_and_equals_the_nd_layout() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let cdo_files = products(dir.path(), &wl, "cdo");
    let nd_files = products(dir.path(), &wl, "nd");
    for p in &cdo_files {
        let vars = data_variables(p);
        assert!(
            vars.iter().all(|(_, rank)| *rank <= 4),
            "{}: {vars:?}",
            p.display()
        );
        // cdo sinfon lists every data variable.
        let (ok, _, err) = cdo(&["-s", "showname", p.to_str().unwrap()]);
        assert!(ok, "{}: {err}", p.display());
        let (_, names, _) = cdo(&["-s", "showname", p.to_str().unwrap()]);
        let listed: Vec<&str> = names.split_whitespace().collect();
        for (v, _) in &vars {
            assert!(
                listed.contains(&v.as_str()),
                "{}: cdo misses {v}",
                p.display()
            );
        }
        // CDO computes with them: a field mean and a bilinear remapping.
        let fm = dir.path().join("fldmean.nc");
        let (ok, _, err) = cdo(&["-s", "fldmean", p.to_str().unwrap(), fm.to_str().unwrap()]);
        assert!(ok, "cdo fldmean {}: {err}", p.display());
        let rb = dir.path().join("remapbil.nc");
        let (ok, _, err) = cdo(&[
            "-s",
            "remapbil,r36x18",
            p.to_str().unwrap(),
            rb.to_str().unwrap(),
        ]);
        assert!(ok, "cdo remapbil {}: {err}", p.display());
        // s2s reads its own product.
        let o = s2s(&["inspect", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
    }
    // The default layout has no vlen strings and no category dimension.
    let f = crate::common::nc_open(&cdo_files[0]).unwrap();
    assert!(f.dimension("category").is_none());
    for v in f.variables() {
        assert!(!matches!(
            v.vartype(),
            netcdf::types::NcVariableType::String
        ));
    }
    // Members of a bias-corrected cube: one variable each, read back as one 5-D cube.
    let inspect = stdout(&s2s(&["inspect", cdo_files[2].to_str().unwrap()]));
    assert!(
        inspect.contains("variable pr ") && inspect.contains("members:   3"),
        "{inspect}"
    );
    // The same numbers in both layouts.
    for (a, b) in cdo_files.iter().zip(&nd_files) {
        let (fa, fb) = (
            crate::common::nc_open(a).unwrap(),
            crate::common::nc_open(b).unwrap(),
        );
        let names: Vec<&str> = if a.to_string_lossy().contains("skill") {
            vec!["acc", "rpss", "brier", "roc_area"]
        } else if a.to_string_lossy().contains("eqm") {
            vec!["pr"]
        } else {
            vec!["probability", "ensemble_mean", "model_weight"]
        };
        for n in names {
            // (pr: the members reassembled on the member axis after init, as in the N-D file)
            let (sa, va) = nd_values(&fa, n).unwrap();
            let (sb, vb) = nd_values(&fb, n).unwrap();
            assert_eq!(sa, sb, "{n}: shapes in {} and {}", a.display(), b.display());
            let same = va
                .iter()
                .zip(&vb)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()));
            assert!(
                same,
                "{n}: values differ between {} and {}",
                a.display(),
                b.display()
            );
        }
    }
    // The N-D layout is read by s2s too (one labelled axis read as the member axis).
    let o = s2s(&["inspect", nd_files[0].to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_regridded_forecast_is_still_read_as_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let files = products(dir.path(), &wl, "cdo");
    let fine = dir.path().join("mme_half_degree.nc");
    let o = s2s(&[
        "regrid",
        "--method",
        "bilinear",
        "--grid",
        "0.5",
        "--bbox",
        "66,94,6,30",
        files[0].to_str().unwrap(),
        fine.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Categories are not interpolated; the user is told.
    assert!(stderr(&o).contains("dominant_category"), "{}", stderr(&o));
    let f = crate::common::nc_open(&fine).unwrap();
    assert!(f.variable("dominant_category").is_none());
    assert!(f.variable("probability_below").is_some());
    // The categories still sum to 1 after bilinear interpolation (a convex combination), and
    // the family attributes survived, so the N-D view is rebuilt.
    let (shape, p) = nd_values(&f, "probability").unwrap();
    assert_eq!(shape[1], 3);
    let rest: usize = shape[2..].iter().product();
    let mut checked = 0;
    for c in 0..rest {
        let s: Vec<f32> = (0..3).map(|k| p[k * rest + c]).collect();
        if s.iter().all(|&x| x < 1e19) {
            assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{s:?}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    // And s2s inspects the result.
    let o = s2s(&["inspect", fine.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn geotiff_export_opens_in_gdal_with_the_grid_and_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let files = products(dir.path(), &wl, "cdo");
    let gis = dir.path().join("gis");
    let o = s2s(&[
        "export",
        "--geotiff",
        "--out",
        gis.to_str().unwrap(),
        files[0].to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let written: Vec<&str> = out.lines().collect();
    assert_eq!(
        written.len(),
        12,
        "6 leads × (probabilities, dominant): {written:?}"
    );
    let prob = written
        .iter()
        .find(|p| p.ends_with("probability.tif"))
        .unwrap();
    let info = Command::new("gdalinfo")
        .args(["-json", prob])
        .output()
        .expect("gdalinfo is installed by scripts/setup.sh");
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    // The synthetic grid: 18 × 20 cells of 2°, centres 1..35°N, 61..99°E.
    assert_eq!(j["size"], serde_json::json!([20, 18]));
    let gt: Vec<f64> = j["geoTransform"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(gt, vec![60.0, 2.0, 0.0, 36.0, 0.0, -2.0]);
    assert!(j["coordinateSystem"]["wkt"]
        .as_str()
        .unwrap()
        .contains("ID[\"EPSG\",4326]"));
    let bands = j["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 3);
    assert_eq!(bands[0]["noDataValue"].as_f64(), Some(-9999.0));
    assert_eq!(bands[2]["description"], "above");
    // A cell's values are the file's: 21°N 81°E is lat index 10, lon index 10 of lead 0.
    let at = Command::new("gdallocationinfo")
        .args(["-valonly", "-wgs84", prob, "81", "21"])
        .output()
        .unwrap();
    let got: Vec<f32> = String::from_utf8_lossy(&at.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    let f = crate::common::nc_open(&files[0]).unwrap();
    let (shape, p) = nd_values(&f, "probability").unwrap();
    let (nl, ny, nx) = (shape[2], shape[3], shape[4]);
    let want: Vec<f32> = (0..3)
        .map(|c| p[(c * nl) * ny * nx + 10 * nx + 10])
        .collect();
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() < 1e-6 || (*w > 1e19 && *g == -9999.0),
            "{got:?} vs {want:?}"
        );
    }
    // A file without category probabilities (the skill maps) is refused.
    let o = s2s(&[
        "export",
        "--geotiff",
        "--out",
        gis.to_str().unwrap(),
        files[4].to_str().unwrap(),
    ]);
    assert!(!o.status.success());
}

#[test]
fn cli_conventions_inputs_outputs_and_argument_checks() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let obs = wl.join("obs.nc");
    let obs_s = obs.to_str().unwrap();
    let before = std::fs::read(&obs).unwrap();
    // An input is never an output, not even with -O.
    for extra in [&[][..], &["-O"][..]] {
        let mut args = extra.to_vec();
        args.extend([
            "regrid", "--method", "bilinear", "--grid", "4", obs_s, obs_s,
        ]);
        let o = s2s(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("is an input of this run"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(
        std::fs::read(&obs).unwrap(),
        before,
        "the input is untouched"
    );
    // An existing output is replaced only with -O/--overwrite.
    let out = dir.path().join("obs_4deg.nc");
    let regrid = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend([
            "regrid",
            "--method",
            "bilinear",
            "--grid",
            "4",
            obs_s,
            out.to_str().unwrap(),
        ]);
        s2s(&args)
    };
    assert!(regrid(&[]).status.success());
    let again = regrid(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("pass -O/--overwrite"),
        "{}",
        stderr(&again)
    );
    assert!(regrid(&["--overwrite"]).status.success());
    // A box whose west edge is east of its east edge (and not across 180°) is a slip.
    let o = s2s(&[
        "regrid",
        "--method",
        "bilinear",
        "--grid",
        "1",
        "--bbox",
        "100,60,0,30",
        obs_s,
        dir.path().join("x.nc").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("320° wide"), "{}", stderr(&o));
    // verify: a lead column, every lead, only the scores asked for, on stdout.
    let o = s2s(&[
        "-q",
        "verify",
        "--var",
        "pr",
        "--scores",
        "acc",
        "--bootstrap",
        "0",
        "--hindcast",
        &files(&wl, "hindcast"),
        "--obs",
        obs_s,
        "--out",
        dir.path().join("skill").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let head = table.lines().next().unwrap();
    assert!(head.contains("lead") && head.contains("ACC"), "{table}");
    assert!(!head.contains("RPSS") && !head.contains("CRPSS"), "{table}");
    for lead in ["month 1", "month 6"] {
        assert!(table.contains(lead), "every lead is printed: {table}");
    }
    // --json: the console summary as JSON on stdout, for every subcommand.
    let o = s2s(&[
        "--json",
        "-O",
        "combine",
        "--var",
        "pr",
        "--hindcast",
        &files(&wl, "hindcast"),
        "--out",
        dir.path().join("mme").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["models"], 3);
    assert!(j["hindcast_file"]
        .as_str()
        .unwrap()
        .ends_with("mme_hindcast.pr.nc"));
}
