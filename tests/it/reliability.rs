//! Hostile and careless inputs (issue #28): each class of finding has a test here — sizes from
//! headers and flags checked against the memory budget, output sets that appear whole or not
//! at all, a folder lock, files paired by their coordinates, physically implausible values,
//! too short hindcasts, decoding traps, broken stdout, invalid names.

use std::path::Path;

use crate::common::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A NetCDF-4 forecast file `(init, member, lead, lat, lon)` of `members` members whose data
/// were never written (every chunk unallocated: a 30 KB file declaring any size).
fn declared_only(path: &Path, members: usize) {
    let mut f = create(path);
    coord(
        &mut f,
        "init",
        &[0.0, 365.0],
        &[("units", A::T("days since 2000-01-01"))],
    );
    coord(
        &mut f,
        "member",
        &(0..members).map(|m| m as f64).collect::<Vec<_>>(),
        &[],
    );
    coord(
        &mut f,
        "lead",
        &[0.0, 1.0, 2.0],
        &[("units", A::T("months"))],
    );
    coord(
        &mut f,
        "lat",
        &(0..60).map(|k| -29.5 + k as f64).collect::<Vec<_>>(),
        &[("units", A::T("degrees_north"))],
    );
    coord(
        &mut f,
        "lon",
        &(0..120).map(|k| 40.5 + k as f64).collect::<Vec<_>>(),
        &[("units", A::T("degrees_east"))],
    );
    let mut v = f
        .add_variable::<f32>("pr", &["init", "member", "lead", "lat", "lon"])
        .unwrap();
    v.set_chunking(&[1, 1, 1, 60, 120]).unwrap();
    v.put_attribute("units", "mm/day").unwrap();
}

#[test]
fn sizes_from_headers_and_flags_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.nc");
    declared_only(&huge, 1_000_000);
    assert!(std::fs::metadata(&huge).unwrap().len() < 20 << 20);
    let out = dir.path().join("out.nc");
    let regrid = |extra: &[&str], input: &Path| {
        let mut args = vec!["regrid", "-q", "--method", "bilinear"];
        args.extend_from_slice(extra);
        args.extend([p(input), p(&out)]);
        fails(&args)
    };
    let err = regrid(&["--grid", "2"], &huge);
    assert!(
        err.contains("memory budget") && err.contains("huge.nc"),
        "{err}"
    );
    assert!(!out.exists());
    // every subcommand that reads it
    let folder = dir.path().join("products");
    let (h, f) = (p(&huge).to_string(), p(&folder).to_string());
    let runs: [Vec<&str>; 5] = [
        vec!["inspect", &h],
        vec!["verify", "--hindcast", &h, "--obs", &h, "--out", &f],
        vec!["combine", "--hindcast", &h, "--forecast", &h, "--out", &f],
        vec![
            "bias-correct",
            "--method",
            "scaling",
            "--var",
            "pr",
            "--hindcast",
            &h,
            "--obs",
            &h,
            "--out",
            &f,
        ],
        vec!["spi", &h, p(&out)],
    ];
    for args in runs {
        let err = fails(&args);
        assert!(err.contains("memory budget"), "{args:?}: {err}");
    }
    // nothing written, not even the output folder the runs would have created
    assert!(!out.exists() && !folder.exists());
    // a target grid of 0.001°: 6.5e10 cells
    let small = dir.path().join("small.nc");
    declared_only(&small, 2);
    let err = regrid(&["--grid", "0.001"], &small);
    assert!(
        err.contains("memory budget") && err.contains("coarser spacing"),
        "{err}"
    );
    // an explicit budget applies to ordinary files too
    let err = regrid(&["--max-memory", "100K", "--grid", "2"], &small);
    assert!(err.contains("memory budget of 100 KiB"), "{err}");
    // a size that is not one is a usage error (exit 2)
    let o = s2s(&["regrid", "--max-memory", "lots", p(&small), p(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give a size such as 4G"));
}

/// The workload's verification of `pr` into `out`, with `obs`.
fn verify_into(wl: &Path, obs: &Path, out: &Path) -> std::process::Output {
    s2s(&[
        "verify",
        "-q",
        "-O",
        "--hindcast",
        &synth_files(wl, "hindcast"),
        "--obs",
        p(obs),
        "--var",
        "pr",
        "--scores",
        "acc,rpss",
        "--out",
        p(out),
    ])
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                files.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_failed_run_leaves_the_previous_outputs_and_a_lock_refuses_a_second_run() {
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let out = wl.path().join("skill");
    let o = verify_into(wl.path(), &wl.path().join("obs.nc"), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = listing(&out);
    assert!(before.iter().any(|(n, _)| n == "skill.pr.nc"));
    assert!(
        before.iter().all(|(n, _)| !n.starts_with('.')),
        "{before:?}"
    );
    // observations that fail half-way (after the hindcasts are read): nothing changes
    let bad = wl.path().join("bad_obs.nc");
    std::fs::write(&bad, b"CDF\x01 not really").unwrap();
    let o = verify_into(wl.path(), &bad, &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(listing(&out), before);
    // a live process holds the folder (pid 1 is always alive): refused, outputs untouched
    std::fs::write(out.join(".s2s.lock"), "1\n").unwrap();
    let o = verify_into(wl.path(), &wl.path().join("obs.nc"), &out);
    let err = stderr(&o);
    assert!(err.contains("another s2s run (process 1)"), "{err}");
    // a lock and a stage left by a killed run are cleaned at the next start
    let dead = "4194305";
    std::fs::write(out.join(".s2s.lock"), format!("{dead}\n")).unwrap();
    std::fs::create_dir(out.join(format!(".s2s-stage-{dead}"))).unwrap();
    std::fs::write(out.join(format!(".skill.pr.nc.tmp-{dead}")), "partial").unwrap();
    let o = verify_into(wl.path(), &wl.path().join("obs.nc"), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = listing(&out);
    let names = |l: &[(String, Vec<u8>)]| l.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before));
}

/// A copy of `from` with the values of coordinate `name` moved by `by`.
fn shifted_copy(from: &Path, to: &Path, name: &str, by: f64) {
    std::fs::copy(from, to).unwrap();
    let mut f = crate::common::nc_append(to).unwrap();
    let mut v = f.variable_mut(name).unwrap();
    let vals: Vec<f64> = v.get_values::<f64, _>(..).unwrap();
    let moved: Vec<f64> = vals.iter().map(|x| x + by).collect();
    v.put_values(&moved, ..).unwrap();
}

#[test]
fn files_are_paired_by_their_coordinates_not_their_shapes() {
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let obs = wl.path().join("obs.nc");
    let hc = synth_files(wl.path(), "hindcast");
    let fc = synth_files(wl.path(), "forecast");
    let out = wl.path().join("out");
    let alpha = wl.path().join("hindcast_ALPHA.nc");
    for (name, by) in [("lon", 100.0), ("lat", 1.0)] {
        let moved = wl.path().join(format!("obs_{name}.nc"));
        shifted_copy(&obs, &moved, name, by);
        let runs: [Vec<&str>; 3] = [
            vec!["verify", "--hindcast", &hc, "--var", "pr"],
            vec![
                "bias-correct",
                "--method",
                "scaling",
                "--hindcast",
                p(&alpha),
                "--var",
                "pr",
            ],
            vec![
                "combine",
                "--hindcast",
                &hc,
                "--forecast",
                &fc,
                "--var",
                "pr",
            ],
        ];
        for mut args in runs {
            args.extend(["-q", "--obs", p(&moved), "--out", p(&out)]);
            let err = fails(&args);
            assert!(
                err.contains(&format!("obs_{name}.nc")) && err.contains("grid"),
                "{args:?}: {err}"
            );
        }
    }
    // a model moved by 1° of latitude among the others
    let moved = wl.path().join("hindcast_MOVED.nc");
    shifted_copy(&wl.path().join("hindcast_BRAVO.nc"), &moved, "Y", 1.0);
    let hc2 = hc.replace(
        wl.path().join("hindcast_BRAVO.nc").to_str().unwrap(),
        p(&moved),
    );
    let err = fails(&[
        "combine",
        "-q",
        "--hindcast",
        &hc2,
        "--forecast",
        &fc,
        "--var",
        "pr",
        "--obs",
        p(&obs),
        "--out",
        p(&out),
    ]);
    assert!(
        err.contains("hindcast_MOVED.nc") && err.contains("grid"),
        "{err}"
    );
    assert!(!out.exists() || listing(&out).is_empty());
}

#[test]
fn a_temperature_in_kelvin_labelled_as_rainfall_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("t_as_pr.nc");
    plain_obs(&k, "pr", "mm/day", 60, |t, y, x| {
        285.0 + (t % 12) as f32 + y as f32 + 0.1 * x as f32
    });
    let err = fails(&["inspect", p(&k)]);
    assert!(
        err.contains("t_as_pr.nc")
            && err.contains("implausibly wet")
            && err.contains("temperature in K"),
        "{err}"
    );
    // read anyway when the user says so
    let o = s2s(&["inspect", "--allow-implausible", p(&k)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // the same values as monsoon rainfall in mm/day pass
    let wet = dir.path().join("pr.nc");
    plain_obs(&wet, "pr", "mm/day", 60, |t, _, x| {
        2.0 + (t % 12) as f32 * 1.5 + x as f32
    });
    let o = s2s(&["inspect", p(&wet)]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_hindcast_of_too_few_years_is_refused() {
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let out = wl.path().join("out");
    let obs = wl.path().join("obs.nc");
    let hc = synth_files(wl.path(), "hindcast");
    let fc = synth_files(wl.path(), "forecast");
    let alpha = wl.path().join("hindcast_ALPHA.nc");
    // four of the workload's twelve start years (1993-2004)
    let one = "1993-1996".to_string();
    let runs: [Vec<&str>; 3] = [
        vec!["verify", "--hindcast", &hc],
        vec![
            "bias-correct",
            "--method",
            "scaling",
            "--hindcast",
            p(&alpha),
        ],
        vec!["combine", "--hindcast", &hc, "--forecast", &fc],
    ];
    for mut args in runs {
        args.extend([
            "-q",
            "--var",
            "pr",
            "--years",
            &one,
            "--obs",
            p(&obs),
            "--out",
            p(&out),
        ]);
        let err = fails(&args);
        assert!(
            err.contains("start year") && err.contains("at least 5"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn decoding_traps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nc4 = dir.path().join("obs4.nc");
    plain_obs(&nc4, "pr", "mm/day", 24, |t, y, x| 1.0 + (t + y + x) as f32);
    let classic = dir.path().join("obs.nc");
    to_classic(&nc4, &classic);
    let whole = std::fs::read(&classic).unwrap();
    assert!(s2s(&["inspect", p(&classic)]).status.success());
    // a classic file short by 1 to 3 bytes (inside its last value)
    for cut in 1..=3 {
        let short = dir.path().join(format!("short{cut}.nc"));
        std::fs::write(&short, &whole[..whole.len() - cut]).unwrap();
        let err = fails(&["inspect", p(&short)]);
        assert!(
            err.contains(&format!("short{cut}.nc")) && err.contains("truncated"),
            "{err}"
        );
    }
    // broken packing attributes and absurd longitudes
    let edit = |name: &str, f: &dyn Fn(&mut netcdf::FileMut)| {
        let path = dir.path().join(name);
        std::fs::copy(&nc4, &path).unwrap();
        let mut nc = crate::common::nc_append(&path).unwrap();
        f(&mut nc);
        drop(nc);
        path
    };
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            edit("scale_text.nc", &|nc| {
                nc.variable_mut("pr")
                    .unwrap()
                    .put_attribute("scale_factor", "0.1")
                    .unwrap();
            }),
            "scale_factor",
        ),
        (
            edit("range.nc", &|nc| {
                nc.variable_mut("pr")
                    .unwrap()
                    .put_attribute("valid_range", vec![500.0f32, 0.0])
                    .unwrap();
            }),
            "inverted",
        ),
        (
            edit("lon.nc", &|nc| {
                nc.variable_mut("lon")
                    .unwrap()
                    .put_values(&[70.0, 80.0, 1e300], ..)
                    .unwrap();
            }),
            "not a longitude in degrees",
        ),
    ];
    for (path, want) in cases {
        let err = fails(&["inspect", p(&path)]);
        assert!(
            err.contains(want) && err.contains(path.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
}

#[test]
fn names_that_are_not_utf8_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let nc4 = dir.path().join("obs4.nc");
    plain_obs(&nc4, "pr", "mm/day", 12, |t, y, x| 1.0 + (t + y + x) as f32);
    {
        let mut f = crate::common::nc_append(&nc4).unwrap();
        f.variable_mut("pr")
            .unwrap()
            .put_attribute("qqnote", "x")
            .unwrap();
        f.add_attribute("qqglobal", "y").unwrap();
    }
    let classic = dir.path().join("obs.nc");
    to_classic(&nc4, &classic);
    let whole = std::fs::read(&classic).unwrap();
    let patched = |from: &[u8], to: &[u8], name: &str| {
        let at = whole.windows(from.len()).position(|w| w == from).unwrap();
        let mut b = whole.clone();
        b[at..at + to.len()].copy_from_slice(to);
        let path = dir.path().join(name);
        std::fs::write(&path, b).unwrap();
        path
    };
    for (from, to, name, what) in [
        (&b"qqnote"[..], &b"\xff\xfenote"[..], "attr.nc", "attribute"),
        (b"qqglobal", b"\xc3\x28global", "global.nc", "attribute"),
        (b"lon\0", b"l\xe9n\0", "dim.nc", "dimension"),
    ] {
        let path = patched(from, to, name);
        for cmd in [
            vec!["inspect", p(&path)],
            vec![
                "regrid",
                "--method",
                "bilinear",
                "--grid",
                "2",
                p(&path),
                p(&dir.path().join("o.nc")),
            ],
        ] {
            let err = fails(&cmd);
            assert!(
                err.contains(name) && err.contains("not valid UTF-8") && err.contains(what),
                "{err}"
            );
        }
    }
}

#[test]
fn a_closed_or_full_stdout_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let hc = synth_files(wl.path(), "hindcast");
    let obs = wl.path().join("obs.nc");
    let args = |out: &str| -> Vec<String> {
        [
            "verify",
            "-O",
            "--hindcast",
            &hc,
            "--obs",
            p(&obs),
            "--var",
            "pr",
            "--scores",
            "acc",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    // stdout a pipe nobody reads (`s2s verify … | true`): quiet success
    let mut child = Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(args(p(&wl.path().join("a"))))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(o.status.success(), "{err}");
    // stderr a pipe nobody reads: progress and notes are dropped, the run succeeds
    let mut child = Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(args(p(&wl.path().join("c"))))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert!(child.wait().unwrap().success());
    // stdout a full disk: one error line, exit 1
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(args(p(&wl.path().join("b"))))
        .stdout(full)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left"), "{err}");
}

#[test]
fn inputs_that_once_crashed_get_one_clean_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    for f in files {
        let err = fails(&["inspect", p(&f)]);
        assert_eq!(err.lines().count(), 1, "{}: {err}", f.display());
        assert!(
            err.starts_with("error: ") && err.contains(f.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
}

/// Whether every output in `dir` is whole: NetCDF files open, PNGs end with their IEND chunk,
/// JSON parses; and no temporary lies under a final name.
fn outputs_are_whole(dir: &Path) -> Result<usize, String> {
    let mut n = 0;
    for (name, bytes) in listing(dir) {
        if name.starts_with('.') || name.contains("/.") {
            // staging folders, locks and temporaries: never final names
            if !(name.starts_with(".s2s-stage-") || name == ".s2s.lock" || name.contains(".tmp-")) {
                return Err(format!("unexpected hidden file {name}"));
            }
            continue;
        }
        n += 1;
        let whole = if name.ends_with(".nc") {
            crate::common::nc_open(dir.join(&name)).is_ok()
        } else if name.ends_with(".png") {
            bytes.len() > 12 && &bytes[bytes.len() - 8..bytes.len() - 4] == b"IEND"
        } else if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
        } else {
            true
        };
        if !whole {
            return Err(format!("{name} is not whole"));
        }
    }
    Ok(n)
}

#[test]
fn a_run_killed_at_any_point_leaves_the_previous_set_or_the_new_one() {
    use std::process::{Command, Stdio};
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let out = wl.path().join("skill");
    let obs = wl.path().join("obs.nc");
    let o = verify_into(wl.path(), &obs, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = listing(&out);
    let names = |l: &[(String, Vec<u8>)]| {
        l.iter()
            .map(|x| x.0.clone())
            .filter(|n| !n.starts_with('.'))
            .collect::<Vec<_>>()
    };
    // kill -9 at points spread over a run (reading, scoring, drawing, writing)
    for delay_ms in [20u64, 60, 120, 200, 300, 450, 700] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_s2s"))
            .args([
                "verify",
                "-q",
                "-O",
                "--hindcast",
                &synth_files(wl.path(), "hindcast"),
                "--obs",
                p(&obs),
                "--var",
                "pr",
                "--scores",
                "acc,rpss",
                "--out",
                p(&out),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let n =
            outputs_are_whole(&out).unwrap_or_else(|e| panic!("killed after {delay_ms} ms: {e}"));
        assert_eq!(
            n,
            names(&before).len(),
            "killed after {delay_ms} ms: a mixed or partial set"
        );
    }
    // the next run cleans what the killed ones left
    let o = verify_into(wl.path(), &obs, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(&listing(&out)), names(&before));
    assert!(
        listing(&out).iter().all(|(n, _)| !n.starts_with('.')),
        "left over: {:?}",
        names(&listing(&out))
    );
}

#[test]
fn two_runs_into_one_folder_do_not_mix() {
    let wl = tempfile::tempdir().unwrap();
    synth_small(wl.path());
    let out = wl.path().join("skill");
    let obs = wl.path().join("obs.nc");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| verify_into(wl.path(), &obs, &out));
        let b = s.spawn(|| verify_into(wl.path(), &obs, &out));
        (a.join().unwrap(), b.join().unwrap())
    });
    let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
    assert!(ok >= 1, "{}\n{}", stderr(&a), stderr(&b));
    for o in [&a, &b] {
        if !o.status.success() {
            assert!(stderr(o).contains("another s2s run"), "{}", stderr(o));
        }
    }
    outputs_are_whole(&out).unwrap();
}

#[test]
fn an_outlook_failing_on_its_second_variable_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let syn = dir.path().join("synthetic");
    let o = s2s(&["synth", "-q", "--preset", "asia", "--out", p(&syn)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // temperature in °C declared as mm/day: refused when the second variable is read, after
    // the rainfall products are made
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/asia.toml"))
            .unwrap();
    let cut = text.find("[cyclones]").unwrap();
    let cfg = dir.path().join("asia.toml");
    std::fs::write(
        &cfg,
        text[..cut].replace("periods = [", "units = { tas = \"mm/day\" }\nperiods = ["),
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("bulletin.md"), "the previous bulletin").unwrap();
    let err = fails(&["outlook", "-q", "-O", "--config", p(&cfg), "--out", p(&out)]);
    assert!(err.contains("tas"), "{err}");
    assert_eq!(
        listing(&out),
        vec![("bulletin.md".to_string(), b"the previous bulletin".to_vec())]
    );
}

#[test]
fn a_missing_forecast_start_date_is_an_error_not_a_dropped_step() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fc.nc");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/forecast_netcdf4.nc"),
        &f,
    )
    .unwrap();
    assert!(s2s(&["inspect", p(&f)]).status.success());
    {
        let mut nc = crate::common::nc_append(&f).unwrap();
        nc.variable_mut("S")
            .unwrap()
            .put_values(&[0.0, f64::NAN], ..)
            .unwrap();
    }
    let err = fails(&["inspect", p(&f)]);
    assert!(err.contains("start date 2 of 2 is missing"), "{err}");
}

#[test]
fn a_zarr_store_declaring_an_overflowing_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("huge.zarr");
    std::fs::create_dir_all(store.join("x")).unwrap();
    std::fs::write(store.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    // 2^40 × 2^40 values: the product overflows 64 bits
    std::fs::write(
        store.join("x/.zarray"),
        r#"{"shape": [1099511627776, 1099511627776], "chunks": [4, 4], "dtype": "<f4",
            "fill_value": "NaN", "filters": null, "order": "C", "zarr_format": 2,
            "compressor": null}"#,
    )
    .unwrap();
    std::fs::write(
        store.join("x/.zattrs"),
        r#"{"_ARRAY_DIMENSIONS": ["lat", "lon"]}"#,
    )
    .unwrap();
    let err = fails(&["inspect", p(&store)]);
    assert!(
        err.contains("huge.zarr") && err.contains("memory budget"),
        "{err}"
    );
}
