//! climpred's published skill values (`data/real/verification/climpred_expected_values.json`,
//! climpred 2.6.0 / xskillscore 0.0.29) reproduced on index series without a grid:
//! - SubX GMAO-GEOS RMM1 (510 weekly starts × 4 members × 45 daily leads) against the observed
//!   RMM1 through `s2s verify` itself (`--acc-of mean --crps plain`: climpred's `e2o` Pearson r
//!   and the plain ensemble CRPS; its "maximize" alignment is what the reader's (start, lead)
//!   alignment with NaN-skipping scores does);
//! - CESM decadal global-mean SST (64 starts × 10 leads × 10 members) against ERSST with the
//!   library's score functions, after climpred's recipe: anomalies against 1964–2014, the
//!   "same_verifs" alignment (verification years every lead can reach).

use std::collections::HashMap;

use s2s_ensemble::ensemble::category_of;
use s2s_ensemble::verify::{brier, crps_ensemble, deterministic, pearson_r, rps};

use crate::common::{real, s2s, stderr};

/// The expected values (Python's JSON writes `-Infinity` / `Infinity` / `NaN`, which JSON
/// proper has not: read as null).
fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(real("verification/climpred_expected_values.json")).unwrap();
    let text = text
        .replace("-Infinity", "null")
        .replace("Infinity", "null")
        .replace("NaN", "null");
    serde_json::from_str(&text).unwrap()
}

fn series(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn assert_close(name: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{name}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < tol, "{name} lead {k}: {g} vs climpred {w}");
    }
}

#[test]
fn subx_rmm1_acc_rmse_crps_by_daily_lead() {
    let dir = tempfile::tempdir().unwrap();
    let v = |f: &str| {
        real(&format!("verification/{f}"))
            .to_string_lossy()
            .into_owned()
    };
    let o = s2s(&[
        "verify",
        "-q",
        "--hindcast",
        &v("GMAO-GEOS-V2p1.RMM1.nc"),
        "--var",
        "RMM1",
        "--obs",
        &v("RMM1.observed.interannual.1974-06.2017-07.nc"),
        "--obs-var",
        "rmm1",
        "--obs-units",
        "1",
        "--regions",
        "",
        "--bootstrap",
        "0",
        "--acc-of",
        "mean",
        "--crps",
        "plain",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = crate::common::nc_open(dir.path().join("skill.RMM1.nc")).unwrap();
    let read = |name: &str| -> Vec<f64> {
        let v: Vec<f32> = crate::common::nd_values(&f, name).unwrap().1;
        v.into_iter().map(f64::from).collect()
    };
    let e = expected();
    // The published values are printed to 4 decimals; we agree to f32 storage precision.
    assert_close("acc", &read("acc"), &series(&e["subx_rmm1_acc"]), 1e-6);
    assert_close("rmse", &read("rmse"), &series(&e["subx_rmm1_rmse"]), 1e-6);
    assert_close("crps", &read("crps"), &series(&e["subx_rmm1_crps"]), 1e-6);
}

/// Anomalies of the hindcast, `[init][lead][member]`.
type Hindcast = Vec<Vec<Vec<f64>>>;

/// CESM decadal hindcast and ERSST as climpred's recipe prepares them: `(inits, hindcast
/// anomalies, obs anomalies by year)`.
fn cesm() -> (Vec<i32>, Hindcast, HashMap<i32, f64>) {
    let h = crate::common::nc_open(real("verification/CESM-DP-LE.SST.global.nc")).unwrap();
    let init: Vec<f32> = h.variable("init").unwrap().get_values(..).unwrap();
    let init: Vec<i32> = init.into_iter().map(|v| v as i32).collect();
    let sst: Vec<f64> = h.variable("SST").unwrap().get_values(..).unwrap();
    let (ni, nl, nm) = (init.len(), 10, 10);
    assert_eq!(sst.len(), ni * nl * nm);
    let at = |i: usize, l: usize, m: usize| sst[(i * nl + l) * nm + m];
    // Anomalies against the mean over the starts 1964–2014, per lead and member.
    let base: Vec<usize> = (0..ni)
        .filter(|&i| (1964..=2014).contains(&init[i]))
        .collect();
    let hind: Vec<Vec<Vec<f64>>> = (0..ni)
        .map(|i| {
            (0..nl)
                .map(|l| {
                    (0..nm)
                        .map(|m| {
                            let clim =
                                base.iter().map(|&b| at(b, l, m)).sum::<f64>() / base.len() as f64;
                            at(i, l, m) - clim
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let o = crate::common::nc_open(real("verification/ERSSTv4.global.mean.nc")).unwrap();
    let years: Vec<i64> = o.variable("time").unwrap().get_values(..).unwrap();
    let obs: Vec<f32> = o.variable("SST").unwrap().get_values(..).unwrap();
    let pairs: Vec<(i32, f64)> = years
        .iter()
        .zip(&obs)
        .map(|(&y, &v)| (y as i32, f64::from(v)))
        .collect();
    let in_base: Vec<f64> = pairs
        .iter()
        .filter(|(y, _)| (1964..=2014).contains(y))
        .map(|p| p.1)
        .collect();
    let clim = in_base.iter().sum::<f64>() / in_base.len() as f64;
    let obs = pairs.into_iter().map(|(y, v)| (y, v - clim)).collect();
    (init, hind, obs)
}

#[test]
fn cesm_decadal_crps_rmse_pearson_msss_rps_brier_by_lead() {
    let (init, hind, obs) = cesm();
    let mut verif: Vec<i32> = obs
        .keys()
        .copied()
        .filter(|v| (1..=10).all(|l| init.contains(&(v - l))))
        .collect();
    verif.sort_unstable();
    assert_eq!(verif.len(), 52, "same_verifs: 1964-2015");
    let e = expected();
    let d = &e["cesm_doc_variants_no_reference"];
    let edges = [-0.5, 0.0, 0.5, 1.0];
    let terciles: Vec<f64> = series(&e["cesm_rps_category_edges"])[1..3].to_vec();
    let mut got: HashMap<&str, Vec<f64>> = HashMap::new();
    #[allow(clippy::needless_range_loop)] // l indexes the lead of every start
    for l in 0..10 {
        let starts: Vec<usize> = verif
            .iter()
            .map(|v| init.iter().position(|&i| i == v - (l as i32 + 1)).unwrap())
            .collect();
        let y: Vec<f64> = verif.iter().map(|v| obs[v]).collect();
        let mean: Vec<f64> = starts
            .iter()
            .map(|&i| hind[i][l].iter().sum::<f64>() / 10.0)
            .collect();
        let det = deterministic(&mean, &y);
        let n = y.len() as f64;
        let crps: f64 = starts
            .iter()
            .zip(&y)
            .map(|(&i, &o)| crps_ensemble(&mut hind[i][l].clone(), o, false))
            .sum::<f64>()
            / n;
        // Category probabilities counted from the members; the observed category likewise.
        let rps_with = |e: &[f64]| -> f64 {
            starts
                .iter()
                .zip(&y)
                .map(|(&i, &o)| {
                    let mut p = vec![0.0; e.len() + 1];
                    for &x in &hind[i][l] {
                        p[category_of(x as f32, e).unwrap()] += 0.1;
                    }
                    rps(&p, category_of(o as f32, e).unwrap())
                })
                .sum::<f64>()
                / n
        };
        let p_warm: Vec<f64> = starts
            .iter()
            .map(|&i| hind[i][l].iter().filter(|&&x| x > 0.0).count() as f64 / 10.0)
            .collect();
        let o_warm: Vec<bool> = y.iter().map(|&o| o > 0.0).collect();
        for (k, v) in [
            ("crps", crps),
            ("rmse", det.rmse),
            ("pearson", pearson_r(&mean, &y)),
            ("msss", det.msss),
            ("rps", rps_with(&edges)),
            ("rps_terciles", rps_with(&terciles)),
            ("brier", brier(&p_warm, &o_warm, 10).score),
        ] {
            got.entry(k).or_default().push(v);
        }
    }
    // ERSST is stored as f32 and climpred averages it in f32: agreement to ~1e-8.
    let tol = 1e-7;
    assert_close(
        "crps",
        &got["crps"],
        &series(&e["cesm_crps_m2o_same_verifs"]),
        tol,
    );
    assert_close(
        "rmse",
        &got["rmse"],
        &series(&d["rmse_e2o_same_verifs"]),
        tol,
    );
    assert_close(
        "pearson_r",
        &got["pearson"],
        &series(&d["pearson_r_e2o_same_verifs"]),
        tol,
    );
    assert_close(
        "msess",
        &got["msss"],
        &series(&d["msess_e2o_same_verifs"]),
        tol,
    );
    assert_close(
        "rps",
        &got["rps"],
        &series(&d["rps_m2o_same_verifs_edges[-0.5,0,0.5,1]"]),
        tol,
    );
    assert_close(
        "rps terciles",
        &got["rps_terciles"],
        &series(&e["cesm_rps_terciles_m2o_same_verifs"]["initialized"]),
        tol,
    );
    assert_close(
        "brier",
        &got["brier"],
        &series(&d["brier_pos_m2o_same_verifs"]),
        tol,
    );
}
