//! `s2s synth`: every model file, whatever its convention, reads back as the values the
//! generator made; observations align with every model's targets.

use s2s_ensemble::cube::{align_observations, CubeKind};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::synth::{Preset, SynthConfig, SynthVar};

use crate::common::{s2s, stderr};

fn check(weekly: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "synth",
        "--quiet",
        "--preset",
        "small",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    if weekly {
        args.push("--weekly");
    }
    let o = s2s(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let cfg = SynthConfig::preset(Preset::Small, weekly).unwrap();
    let names = [("tprate", "t2m"), ("prec", "tref"), ("pr", "tas")]; // C3S, NMME, plain
    for (k, spec) in cfg.models.iter().enumerate() {
        for (v, var) in SynthVar::ALL.into_iter().enumerate() {
            let name = if v == 0 { names[k].0 } else { names[k].1 };
            let path = dir.path().join(format!("hindcast_{}.nc", spec.name));
            let got = read_cube(
                &path,
                &ReadOptions {
                    variable: Some(name.into()),
                    ..Default::default()
                },
            )
            .unwrap();
            let want = cfg.model_cube(k, false, var).unwrap();
            assert_eq!(got.coords.init, want.coords.init, "{} {name}", spec.name);
            assert_eq!(got.coords.lead, want.coords.lead, "{} {name}", spec.name);
            assert_eq!(
                got.coords.spatial, want.coords.spatial,
                "{} {name}",
                spec.name
            );
            assert_eq!(got.values.dim(), want.values.dim());
            for (a, b) in got.values.iter().zip(want.values.iter()) {
                // m/s and K round trips in f32: a few ulps.
                assert!(
                    (a - b).abs() <= 2e-5 * b.abs().max(1.0),
                    "{} {name}: {a} vs {b}",
                    spec.name
                );
            }
        }
        let fc = read_cube(
            dir.path().join(format!("forecast_{}.nc", spec.name)),
            &ReadOptions {
                variable: Some(names[k].1.into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(fc.init_years(), vec![2005]);
    }
    let obs = read_cube(
        dir.path().join("obs.nc"),
        &ReadOptions {
            variable: Some("tas".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(obs.meta.kind, CubeKind::Observed);
    assert_eq!(obs.meta.units, "degC");
    let bravo = read_cube(
        dir.path().join("hindcast_BRAVO.nc"),
        &ReadOptions {
            variable: Some("tref".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (aligned, missing) = align_observations(&obs, &bravo).unwrap();
    assert_eq!(
        missing, 0,
        "observations cover every target of the 360-day model"
    );
    assert_eq!(aligned.values.dim().0, 12);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("workload.json")).unwrap())
            .unwrap();
    assert_eq!(json["models"][1]["members"], 5);
}

#[test]
fn monthly_workload_round_trips() {
    check(false);
}

#[test]
fn weekly_workload_round_trips() {
    check(true);
}
