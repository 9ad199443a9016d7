//! `s2s bias-correct` on real data: daily CanESM2 vs AHCCD station observations at three
//! stations (noleap calendar, kg m-2 s-1 vs mm/day, K vs degC), leave-one-year-out over
//! 1950-2013. Corrected mean, standard deviation and quantiles must be closer to the
//! observations than the raw model's, at every station.

use s2s_ensemble::cube::{align_observations, Spatial};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::stats::{mean_sd, quantile_sorted};

use crate::common::{real, s2s, stderr};

fn stats(v: &mut [f32]) -> Vec<f64> {
    v.sort_by(f32::total_cmp);
    let (m, s) = mean_sd(v);
    let mut out = vec![m, s];
    out.extend([0.1, 0.5, 0.9, 0.99].iter().map(|&p| quantile_sorted(v, p)));
    out
}

fn check(var: &str, method: &str, model_var: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = real("bias_correction/CanESM2_1950-2100.nc");
    let obs = real("bias_correction/ahccd_1950-2013.nc");
    let o = s2s(&[
        "bias-correct",
        "-q",
        "--method",
        method,
        "--var",
        var,
        "--years",
        "1950-2013",
        "--hindcast",
        model.to_str().unwrap(),
        "--obs",
        obs.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir
        .path()
        .join(format!("CanESM2_1950-2100.{var}.{method}.nc"));
    let corrected = read_cube(&out, &ReadOptions::default()).unwrap();
    let raw = read_cube(
        &model,
        &ReadOptions {
            variable: Some(model_var.into()),
            years: Some((1950, 2013)),
            ..Default::default()
        },
    )
    .unwrap();
    let observed = read_cube(
        &obs,
        &ReadOptions {
            variable: Some(model_var.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (aligned, _) = align_observations(&observed, &raw).unwrap();
    assert_eq!(corrected.values.dim(), raw.values.dim());
    let names = match &raw.coords.spatial {
        Spatial::Points { names, .. } => names.clone(),
        _ => unreachable!(),
    };
    for (x, name) in names.iter().enumerate() {
        // Days with an observation.
        let mut o = Vec::new();
        let mut r = Vec::new();
        let mut c = Vec::new();
        for i in 0..raw.n_init() {
            let ov = aligned.values[[i, 0, 0, 0, x]];
            if ov.is_finite() {
                o.push(ov);
                r.push(raw.values[[i, 0, 0, 0, x]]);
                c.push(corrected.values[[i, 0, 0, 0, x]]);
            }
        }
        assert!(
            c.iter().all(|v| v.is_finite()),
            "{name}: corrected values are all finite"
        );
        let (so, sr, sc) = (stats(&mut o), stats(&mut r), stats(&mut c));
        let labels = ["mean", "sd", "q10", "q50", "q90", "q99"];
        let mut line = format!("{var} {method} {name}:");
        for k in 0..labels.len() {
            line += &format!(
                " {} obs {:.2} raw {:.2} bc {:.2};",
                labels[k], so[k], sr[k], sc[k]
            );
            let (er, ec) = ((sr[k] - so[k]).abs(), (sc[k] - so[k]).abs());
            assert!(
                ec <= er + 0.02 * so[k].abs().max(0.1),
                "{name} {}: raw error {er:.3}, corrected {ec:.3}",
                labels[k]
            );
        }
        #[allow(clippy::print_stdout)] // the numbers for the issue note (cargo test -- --nocapture)
        {
            println!("{line}");
        }
    }
}

#[test]
fn eqm_brings_real_station_precipitation_closer_to_observations() {
    check("pr", "eqm", "pr");
}

#[test]
fn eqm_and_variance_scaling_bring_real_station_temperature_closer() {
    check("tasmax", "eqm", "tasmax");
    check("tasmax", "variance", "tasmax");
}

#[test]
fn qdm_needs_an_ensemble() {
    let dir = tempfile::tempdir().unwrap();
    let model = real("bias_correction/CanESM2_1950-2100.nc");
    let obs = real("bias_correction/ahccd_1950-2013.nc");
    let o = s2s(&[
        "bias-correct",
        "--method",
        "qdm",
        "--var",
        "pr",
        "--years",
        "1950-2013",
        "--hindcast",
        model.to_str().unwrap(),
        "--obs",
        obs.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("qdm ranks each value within its forecast ensemble"),
        "{}",
        stderr(&o)
    );
}

/// The synthetic workload: every method on a C3S-like model, cross-validated, with a forecast;
/// precipitation never negative, dry stays dry, outputs reopen with their attributes.
#[test]
fn synthetic_forecast_and_hindcast_all_methods() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    assert!(s2s(&[
        "synth",
        "-q",
        "--preset",
        "small",
        "--out",
        wl.to_str().unwrap()
    ])
    .status
    .success());
    for (var, methods) in [
        ("pr", &["scaling", "eqm", "qdm"][..]),
        ("tas", &["scaling", "variance", "eqm", "qdm"][..]),
    ] {
        for m in methods {
            let out = dir.path().join("bc");
            let o = s2s(&[
                "bias-correct",
                "-q",
                "--method",
                m,
                "--var",
                var,
                "--hindcast",
                wl.join("hindcast_ALPHA.nc").to_str().unwrap(),
                "--obs",
                wl.join("obs.nc").to_str().unwrap(),
                "--forecast",
                wl.join("forecast_ALPHA.nc").to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{var} {m}: {}", stderr(&o));
            for f in ["hindcast_ALPHA", "forecast_ALPHA"] {
                let c = read_cube(
                    out.join(format!("{f}.{var}.{m}.nc")),
                    &ReadOptions::default(),
                )
                .unwrap();
                assert_eq!(c.meta.variable, var);
                if var == "pr" {
                    assert!(
                        c.values.iter().all(|&v| v >= 0.0 || v.is_nan()),
                        "{m}: negative rain"
                    );
                }
                let h = std::process::Command::new("ncdump")
                    .arg("-h")
                    .arg(out.join(format!("{f}.{var}.{m}.nc")))
                    .output()
                    .unwrap();
                let h = String::from_utf8_lossy(&h.stdout);
                assert!(
                    h.contains(":bias_correction_method = ")
                        && h.contains("bias_correction_cross_validation"),
                    "{h}"
                );
            }
        }
    }
}

/// Observations already on the hindcast's (init, lead) targets (one member), as the peers'
/// workload writes them, are used as they are.
#[test]
fn observations_on_the_hindcast_targets() {
    use s2s_ensemble::io::{write_cube, WriteOptions};
    use s2s_ensemble::synth::{Preset, SynthConfig, SynthVar};
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig::preset(Preset::Small, false).unwrap();
    let hc = cfg.model_cube(2, false, SynthVar::Tas).unwrap();
    let (aligned, _) =
        align_observations(&cfg.observation_cube(SynthVar::Tas).unwrap(), &hc).unwrap();
    let mut aligned = aligned;
    aligned.meta.kind = s2s_ensemble::cube::CubeKind::Forecast;
    let (h, o) = (dir.path().join("h.nc"), dir.path().join("o.nc"));
    write_cube(&h, &hc, &WriteOptions::default()).unwrap();
    write_cube(&o, &aligned, &WriteOptions::default()).unwrap();
    let out = dir.path().join("bc");
    let run = || {
        s2s(&[
            "bias-correct",
            "-q",
            "--method",
            "eqm",
            "--var",
            "tas",
            "--hindcast",
            h.to_str().unwrap(),
            "--obs",
            o.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let r = run();
    assert!(r.status.success(), "{}", stderr(&r));
    let c = read_cube(out.join("h.tas.eqm.nc"), &ReadOptions::default()).unwrap();
    assert_eq!(c.values.dim(), hc.values.dim());
    // Observations on other start dates are refused with the reason.
    let short = aligned.select_inits(&[0, 1, 2]).unwrap();
    write_cube(&o, &short, &WriteOptions::default()).unwrap();
    let r = run();
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stderr(&r).contains("must have one member and the hindcast's start dates"),
        "{}",
        stderr(&r)
    );
}
