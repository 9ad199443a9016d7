//! File sets: an input given as a pattern over files split by start, by year or by member reads
//! as the whole file does (`s2s_ensemble::io::fileset`).

use crate::common::*;
use s2s_ensemble::cube::Cube;
use s2s_ensemble::io::{read_var, write_cube, ReadOptions, WriteOptions};
use std::path::Path;

fn same_values(a: &Cube, b: &Cube) -> bool {
    a.values.shape() == b.values.shape()
        && a.values
            .iter()
            .zip(b.values.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// Writes each start of `whole` to `dir/{stem}_{year}.nc`.
fn split_by_start(whole: &Cube, dir: &Path, stem: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, d) in whole.coords.init.iter().enumerate() {
        let one = whole.select_inits(&[i]).unwrap();
        write_cube(
            dir.join(format!("{stem}_{}.nc", d.year)),
            &one,
            &WriteOptions::default(),
        )
        .unwrap();
    }
}

#[test]
fn a_hindcast_split_by_start_or_by_member_reads_as_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let whole_path = dir.path().join("hindcast_ALPHA.nc");
    let opts = ReadOptions::default();
    let read = |p: &Path, o: &ReadOptions| read_var(p, Some("pr"), o.clone());
    let whole = read(&whole_path, &opts).unwrap();
    let split = dir.path().join("split");
    split_by_start(&whole, &split, "ALPHA");
    // A placeholder and a wildcard: the same set.
    for pattern in ["ALPHA_{year}.nc", "ALPHA_*.nc"] {
        let set = read(&split.join(pattern), &opts).unwrap();
        assert_eq!(set.coords.init, whole.coords.init, "{pattern}");
        assert_eq!(set.coords.member, whole.coords.member);
        assert!(same_values(&set, &whole), "{pattern}");
        assert!(set
            .meta
            .history
            .iter()
            .any(|h| h.contains("concatenated along the starts")));
    }
    // The years of the run select the starts of a set as of a file.
    let years = ReadOptions {
        years: Some((1995, 1997)),
        ..opts.clone()
    };
    let a = read(&split.join("ALPHA_{year}.nc"), &years).unwrap();
    let b = read(&whole_path, &years).unwrap();
    assert!(a.coords.init == b.coords.init && same_values(&a, &b));

    // One file per member (each numbering its member 0): along the members, numbered in order.
    let members = dir.path().join("members");
    std::fs::create_dir_all(&members).unwrap();
    for m in 0..whole.n_member() {
        let values = whole
            .values
            .slice(ndarray::s![.., m..m + 1, .., .., ..])
            .to_owned();
        let mut coords = whole.coords.clone();
        coords.member = vec![0];
        let one = Cube::new(values, coords, whole.meta.clone()).unwrap();
        write_cube(
            members.join(format!("ALPHA_m{m:02}.nc")),
            &one,
            &WriteOptions::default(),
        )
        .unwrap();
    }
    let set = read(&members.join("ALPHA_m*.nc"), &opts).unwrap();
    assert_eq!(set.n_member(), whole.n_member());
    assert!(same_values(&set, &whole));

    // A start in two files: one clear error naming both.
    std::fs::copy(split.join("ALPHA_1995.nc"), split.join("ALPHA_1995b.nc")).unwrap();
    let e = read(&split.join("ALPHA_*.nc"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ALPHA_1995.nc") && e.contains("ALPHA_1995b.nc") && e.contains("duplicate"),
        "{e}"
    );
    // A pattern matching nothing.
    let e = read(&split.join("BRAVO_*.nc"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("BRAVO_*.nc") && e.contains("no file matches"),
        "{e}"
    );
}

#[test]
fn observations_split_by_cdo_splityear_and_a_combine_over_file_sets() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let obs = dir.path().join("obs.nc");
    let by_year = dir.path().join("obs_by_year");
    std::fs::create_dir_all(&by_year).unwrap();
    let st = std::process::Command::new("cdo")
        .args(["-s", "splityear"])
        .arg(&obs)
        .arg(by_year.join("obs_"))
        .status()
        .expect("cdo is installed by scripts/setup.sh");
    assert!(st.success());
    let read = |p: &Path| read_var(p, Some("pr"), ReadOptions::default());
    let whole = read(&obs).unwrap();
    let set = read(&by_year.join("obs_{year}.nc")).unwrap();
    assert_eq!(set.coords.init, whole.coords.init);
    assert!(same_values(&set, &whole));

    // `s2s combine` over per-start hindcast sets and yearly observations gives the same
    // probabilities as over the whole files.
    let h = synth_files(dir.path(), "hindcast");
    let f = synth_files(dir.path(), "forecast");
    let mut sets = Vec::new();
    for m in ["ALPHA", "BRAVO", "CHARLIE"] {
        let c = read(&dir.path().join(format!("hindcast_{m}.nc"))).unwrap();
        split_by_start(&c, &dir.path().join("split"), m);
        sets.push(dir.path().join("split").join(format!("{m}_{{year}}.nc")));
    }
    let sets: Vec<String> = sets
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let run = |hindcast: &str, obs: &Path, out: &str| {
        let o = s2s(&[
            "combine",
            "-q",
            "--var",
            "pr",
            "--hindcast",
            hindcast,
            "--forecast",
            &f,
            "--obs",
            obs.to_str().unwrap(),
            "--out",
            dir.path().join(out).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let f = crate::common::nc_open(dir.path().join(out).join("mme_forecast.pr.nc")).unwrap();
        let p: Vec<f32> = crate::common::nd_values(&f, "probability").unwrap().1;
        p
    };
    let a = run(&h, &obs, "whole");
    let b = run(&sets.join(","), &by_year.join("obs_*.nc"), "sets");
    assert!(!a.is_empty() && a.iter().any(|v| v.is_finite()));
    assert!(a
        .iter()
        .zip(&b)
        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
}

#[test]
fn the_same_observations_twice_are_duplicates_not_members() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let obs = dir.path().join("obs.nc");
    std::fs::copy(&obs, dir.path().join("obs_copy.nc")).unwrap();
    let e = read_var(
        &dir.path().join("obs*.nc"),
        Some("pr"),
        ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("obs.nc") && e.contains("obs_copy.nc") && e.contains("duplicate"),
        "{e}"
    );
}

#[test]
fn inspect_reports_a_file_set_and_its_gaps() {
    let dir = tempfile::tempdir().unwrap();
    synth_small(dir.path());
    let by_year = dir.path().join("y");
    std::fs::create_dir_all(&by_year).unwrap();
    let st = std::process::Command::new("cdo")
        .args(["-s", "splityear"])
        .arg(dir.path().join("obs.nc"))
        .arg(by_year.join("obs_"))
        .status()
        .expect("cdo is installed by scripts/setup.sh");
    assert!(st.success());
    std::fs::remove_file(by_year.join("obs_2001.nc")).unwrap();
    let o = s2s(&["inspect", by_year.join("obs_{year}.nc").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("file set of 12 files (obs_1993.nc … obs_2005.nc)"),
        "{out}"
    );
    assert!(
        out.contains("(144 time steps; gaps: 12 missing after 2000-12-01)"),
        "{out}"
    );
}
