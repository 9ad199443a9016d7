//! The verification functions against xskillscore 0.0.29 on the same small ensembles
//! (`tests/data/verification/xskillscore_fixture.json`, written by the script beside it):
//! plain CRPS and RPS per sample, Pearson r, RMSE, Brier score, ROC area and curve, rank
//! histogram and reliability per cell, to 1e-12 (the same formulas in f64). Conventions: the
//! fixture's probabilities are member fractions `k/7`, none on a reliability-bin edge other
//! than 0 and 1 (on an edge xskillscore's `linspace` edges and our bins may differ, see
//! `verify::diagrams`); there are no ties, so the random tie-breaking of the rank histograms
//! does not enter.

use s2s_ensemble::ensemble::category_of;
use s2s_ensemble::verify::{
    brier, crps_ensemble, deterministic, observation_rank, pearson_r, reliability_table, roc_area,
    roc_curve, rps,
};

fn fixture() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verification/xskillscore_fixture.json");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("NaN", "null");
    serde_json::from_str(&text).unwrap()
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan())
}

#[test]
fn same_scores_as_xskillscore() {
    let fx = fixture();
    let (nt, nm, nc) = (
        fx["n_time"].as_u64().unwrap() as usize,
        fx["n_member"].as_u64().unwrap() as usize,
        fx["n_cell"].as_u64().unwrap() as usize,
    );
    let obs = |t: usize, c: usize| num(&fx["obs"][t][c]);
    let member = |t: usize, m: usize, c: usize| num(&fx["members"][t][m][c]);
    let edges: Vec<f64> = fx["category_edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(num)
        .collect();
    for c in 0..nc {
        let o: Vec<f64> = (0..nt).map(|t| obs(t, c)).collect();
        let mean: Vec<f64> = (0..nt)
            .map(|t| (0..nm).map(|m| member(t, m, c)).sum::<f64>() / nm as f64)
            .collect();
        let mut prob = Vec::new();
        let mut event = Vec::new();
        for t in 0..nt {
            let mut x: Vec<f64> = (0..nm).map(|m| member(t, m, c)).collect();
            // Plain CRPS and RPS of each sample.
            let want = num(&fx["crps_ensemble"][t][c]);
            let got = crps_ensemble(&mut x.clone(), o[t], false);
            assert!(close(got, want), "crps t{t} c{c}: {got} vs {want}");
            let mut p = vec![0.0; edges.len() + 1];
            for &v in &x {
                p[category_of(v as f32, &edges).unwrap()] += 1.0 / nm as f64;
            }
            let got = rps(&p, category_of(o[t] as f32, &edges).unwrap());
            let want = num(&fx["rps"][t][c]);
            assert!((got - want).abs() < 1e-12, "rps t{t} c{c}: {got} vs {want}");
            x.sort_unstable_by(f64::total_cmp);
            prob.push(x.iter().filter(|&&v| v > 0.0).count() as f64 / nm as f64);
            event.push(o[t] > 0.0);
        }
        let want = num(&fx["pearson_r"][c]);
        assert!(close(pearson_r(&mean, &o), want), "pearson c{c}");
        let want = num(&fx["rmse"][c]);
        assert!(close(deterministic(&mean, &o).rmse, want), "rmse c{c}");
        let want = num(&fx["brier_score"][c]);
        assert!(close(brier(&prob, &event, 10).score, want), "brier c{c}");
        let want = num(&fx["roc_area"][c]);
        let w = vec![1.0; nt];
        let curve = roc_curve(&prob, &event, &w);
        assert!(close(roc_area(&prob, &event), want), "roc area c{c}");
        assert!(close(curve.area, want), "roc curve area c{c}");
        // Every point of xskillscore's curve is one of ours.
        let fa = fx["roc_false_alarm_rate"][c].as_array().unwrap();
        let hr = fx["roc_hit_rate"][c].as_array().unwrap();
        for (f, h) in fa.iter().zip(hr) {
            let (f, h) = (num(f), num(h));
            assert!(
                curve
                    .points
                    .iter()
                    .any(|p| close(p.false_alarm_rate, f) && close(p.hit_rate, h)),
                "roc point ({f}, {h}) of cell {c} not on our curve"
            );
        }
        // Rank histogram: xskillscore counts ranks 1..=m+1, we 0..=m.
        let mut hist = vec![0u64; nm + 1];
        for t in 0..nt {
            let x: Vec<f64> = (0..nm).map(|m| member(t, m, c)).collect();
            hist[observation_rank(&x, o[t], 0.5).unwrap()] += 1;
        }
        let want: Vec<u64> = fx["rank_histogram"][c]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as u64)
            .collect();
        assert_eq!(hist, want, "rank histogram c{c}");
        // Reliability: observed frequency and samples per bin.
        let table = reliability_table(&prob, &event, &w, 10);
        for (k, bin) in table.iter().enumerate() {
            let freq = num(&fx["reliability"][c][k]);
            let n = num(&fx["reliability_samples"][c][k]) as usize;
            assert_eq!(bin.count, n, "reliability samples c{c} bin {k}");
            assert!(
                close(bin.observed_frequency, freq),
                "reliability c{c} bin {k}"
            );
        }
    }
}
