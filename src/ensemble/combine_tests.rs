//! Tests of [`super::combine`]: hand-checked probabilities, leave-one-year-out edges, PMME
//! against a direct calculation, skill weights, and proptest invariants.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal};

use super::*;
use crate::cube::test_cell_cube;
use crate::stats::quantile_sorted;

fn years(values: &[&[f32]]) -> Vec<Vec<f32>> {
    values.iter().map(|v| v.to_vec()).collect()
}

/// Models A (2 members), B (5) and C (10) with three hindcast years each.
fn three_models() -> (Vec<Cube>, Vec<Cube>) {
    let a = test_cell_cube("A", &years(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]));
    let b_vals: Vec<Vec<f32>> = (0..3)
        .map(|y| (1..=5).map(|k| (5 * y + k) as f32).collect())
        .collect();
    let c_vals: Vec<Vec<f32>> = (0..3)
        .map(|y| (1..=10).map(|k| (10 * y + k) as f32).collect())
        .collect();
    let hc = vec![
        a,
        test_cell_cube("B", &b_vals),
        test_cell_cube("C", &c_vals),
    ];
    let fc = vec![
        test_cell_cube("A", &[vec![0.0, 5.0]]),
        test_cell_cube("B", &[vec![1.0, 6.0, 7.0, 12.0, 20.0]]),
        test_cell_cube("C", &[(1..=10).map(|k| k as f32).collect()]),
    ];
    (hc, fc)
}

fn run(hc: &[Cube], fc: &[Cube], obs: Option<&Cube>, spec: &CombineSpec) -> Combined {
    let h: Vec<&Cube> = hc.iter().collect();
    let f: Vec<&Cube> = fc.iter().collect();
    let input = CombineInput {
        hindcasts: &h,
        forecasts: (!f.is_empty()).then_some(f.as_slice()),
        obs,
    };
    combine(&input, spec).expect("combine")
}

fn probs(p: &Products, i: usize) -> Vec<f64> {
    (0..p.probability.dim().1)
        .map(|c| f64::from(p.probability[[i, c, 0, 0, 0]]))
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn hand_checked_probabilities_of_three_models() {
    // Edges by hand (type 7): A pool 1..6 → 2.667, 4.333; B pool 1..15 → 5.667, 10.333;
    // C pool 1..30 → 10.667, 20.333. Forecast shares: A (½, 0, ½), B (⅕, ⅖, ⅖), C (1, 0, 0).
    let (hc, fc) = three_models();
    let spec = CombineSpec::default();
    let out = run(&hc, &fc, None, &spec);
    let f = out.forecast.expect("forecast");
    let expected = [
        (0.5 + 0.2 + 1.0) / 3.0,
        (0.0 + 0.4 + 0.0) / 3.0,
        (0.5 + 0.4 + 0.0) / 3.0,
    ];
    assert!(close(&probs(&f, 0), &expected, 1e-6), "{:?}", probs(&f, 0));
    let edges_b: Vec<f32> = (0..2).map(|k| f.edges[[0, 1, k, 0, 0, 0]]).collect();
    assert!((edges_b[0] - 17.0 / 3.0).abs() < 1e-5 && (edges_b[1] - 31.0 / 3.0).abs() < 1e-5);
    assert_eq!(f.most_likely_category[[0, 0, 0, 0, 0]], 0);
    assert_eq!(f.dominant_category[[0, 0, 0, 0, 0]], 0);
    let w: Vec<f32> = (0..3).map(|m| f.weights[[0, m, 0, 0, 0]]).collect();
    assert!(w.iter().all(|&x| (x - 1.0 / 3.0).abs() < 1e-6));
    // Ensemble mean: model-equal mean of the model means 2.5, 9.2, 5.5.
    assert!((f64::from(f.mean[[0, 0, 0, 0, 0]]) - (2.5 + 9.2 + 5.5) / 3.0).abs() < 1e-5);

    // Pooled: 17 members, 12 below, 2 near, 3 above.
    let pooled = CombineSpec {
        scheme: WeightScheme::Pooled,
        ..CombineSpec::default()
    };
    let f = run(&hc, &fc, None, &pooled).forecast.expect("forecast");
    assert!(close(
        &probs(&f, 0),
        &[12.0 / 17.0, 2.0 / 17.0, 3.0 / 17.0],
        1e-6
    ));
}

#[test]
fn hindcast_edges_leave_the_scored_year_out() {
    // Year 0 of model A without its own values: pool 3,4,5,6 → edges 4 and 5; its members 1, 2
    // are both below normal.
    let (hc, fc) = three_models();
    let out = run(&hc, &fc, None, &CombineSpec::default());
    let h = &out.hindcast;
    assert_eq!(h.edges[[0, 0, 0, 0, 0, 0]], 4.0);
    assert_eq!(h.edges[[0, 0, 1, 0, 0, 0]], 5.0);
    // Without cross-validation the edges are those of the full pool.
    let plain = CombineSpec {
        cross_validate: false,
        ..CombineSpec::default()
    };
    let out = run(&hc, &fc, None, &plain);
    assert!((out.hindcast.edges[[0, 0, 0, 0, 0, 0]] - 8.0 / 3.0).abs() < 1e-6);
}

#[test]
fn pmme_matches_a_direct_calculation() {
    let obs_v = [3.0f32, 5.0, 4.0, 7.0, 6.0, 2.0, 5.5];
    let m1 = [2.0f32, 4.5, 3.0, 6.5, 5.0, 2.5, 4.0];
    let m2 = [4.0f32, 5.0, 5.0, 6.0, 7.5, 3.0, 6.0];
    let col = |v: &[f32]| v.iter().map(|&x| vec![x]).collect::<Vec<_>>();
    let hc = vec![
        test_cell_cube("M1", &col(&m1)),
        test_cell_cube("M2", &col(&m2)),
    ];
    let fc = vec![
        test_cell_cube("M1", &[vec![6.0]]),
        test_cell_cube("M2", &[vec![6.5]]),
    ];
    let obs = test_cell_cube("obs", &col(&obs_v));
    let spec = CombineSpec {
        scheme: WeightScheme::Pmme,
        ..CombineSpec::default()
    };
    let out = run(&hc, &fc, Some(&obs), &spec);

    let mean = |v: &[f32], skip: Option<usize>| {
        let kept: Vec<f64> = v
            .iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != skip)
            .map(|(_, &x)| f64::from(x))
            .collect();
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    let n = obs_v.len();
    let errors: Vec<f64> = (0..n)
        .map(|j| {
            let a = ((f64::from(m1[j]) - mean(&m1, Some(j)))
                + (f64::from(m2[j]) - mean(&m2, Some(j))))
                / 2.0;
            a - (f64::from(obs_v[j]) - mean(&obs_v, Some(j)))
        })
        .collect();
    let sigma = (errors.iter().map(|e| e * e).sum::<f64>() / n as f64).sqrt();
    let o_mean = mean(&obs_v, None);
    let o_sd = (obs_v
        .iter()
        .map(|&x| (f64::from(x) - o_mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64)
        .sqrt();
    let anomaly = ((6.0 - mean(&m1, None)) + (6.5 - mean(&m2, None))) / 2.0;
    let mu = o_mean + anomaly;
    let z = Normal::standard().inverse_cdf(1.0 / 3.0);
    let (e1, e2) = (o_mean + z * o_sd, o_mean - z * o_sd);
    let nd = Normal::new(mu, sigma).expect("normal");
    let expected = [nd.cdf(e1), nd.cdf(e2) - nd.cdf(e1), 1.0 - nd.cdf(e2)];
    let f = out.forecast.expect("forecast");
    assert!(
        close(&probs(&f, 0), &expected, 1e-5),
        "{:?} vs {expected:?}",
        probs(&f, 0)
    );
    assert!((f64::from(f.spread[[0, 0, 0, 0, 0]]) - sigma).abs() < 1e-5);
    assert!((f64::from(f.edges[[0, 0, 0, 0, 0, 0]]) - e1).abs() < 1e-5);
    // z(1/3) is the familiar −0.4307.
    assert!((z + 0.4307).abs() < 1e-4);
}

/// A model of `members` members: obs plus noise of size `noise`.
fn noisy_model(name: &str, obs: &[f32], members: usize, noise: f32, rng: &mut ChaCha8Rng) -> Cube {
    let v: Vec<Vec<f32>> = obs
        .iter()
        .map(|&o| {
            (0..members)
                .map(|_| o + noise * (rng.random::<f32>() - 0.5))
                .collect()
        })
        .collect();
    test_cell_cube(name, &v)
}

#[test]
fn skill_weights_favour_the_skilful_model_and_fall_back_to_equal() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let obs_v: Vec<f32> = (0..20).map(|_| 10.0 * rng.random::<f32>()).collect();
    let col: Vec<Vec<f32>> = obs_v.iter().map(|&x| vec![x]).collect();
    let obs = test_cell_cube("obs", &col);
    let good = noisy_model("good", &obs_v, 5, 1.0, &mut rng);
    let unrelated: Vec<f32> = (0..20).map(|_| 10.0 * rng.random::<f32>()).collect();
    let bad = noisy_model("bad", &unrelated, 5, 1.0, &mut rng);
    let fc = vec![
        test_cell_cube("good", &[vec![1.0; 5]]),
        test_cell_cube("bad", &[vec![9.0; 5]]),
    ];
    for score in [SkillScore::Rpss, SkillScore::Acc] {
        let spec = CombineSpec {
            scheme: WeightScheme::Skill {
                score,
                radius_cells: 1,
            },
            ..CombineSpec::default()
        };
        let out = run(&[good.clone(), bad.clone()], &fc, Some(&obs), &spec);
        let f = out.forecast.expect("forecast");
        let w_good = f.weights[[0, 0, 0, 0, 0]];
        assert!(w_good > 0.8, "{score:?}: weight of the good model {w_good}");
        let total: f32 = (0..2).map(|m| f.weights[[0, m, 0, 0, 0]]).sum();
        assert!((total - 1.0).abs() < 1e-6);
        // Every hindcast year has weights too, each summing to 1.
        for i in 0..20 {
            let t: f32 = (0..2).map(|m| out.hindcast.weights[[i, m, 0, 0, 0]]).sum();
            assert!((t - 1.0).abs() < 1e-5);
        }
    }
    // Two models with negative skill (anti-correlated with the observations): equal weights.
    let flipped: Vec<f32> = obs_v.iter().map(|&o| 10.0 - o).collect();
    let anti1 = noisy_model("anti1", &flipped, 5, 0.5, &mut rng);
    let anti2 = noisy_model("anti2", &flipped, 3, 0.5, &mut rng);
    for score in [SkillScore::Rpss, SkillScore::Acc] {
        let spec = CombineSpec {
            scheme: WeightScheme::Skill {
                score,
                radius_cells: 0,
            },
            ..CombineSpec::default()
        };
        let out = run(&[anti1.clone(), anti2.clone()], &fc, Some(&obs), &spec);
        let f = out.forecast.expect("forecast");
        let (w0, w1) = (f.weights[[0, 0, 0, 0, 0]], f.weights[[0, 1, 0, 0, 0]]);
        assert_eq!((w0, w1), (0.5, 0.5), "{score:?}");
    }
}

#[test]
fn observed_edges_without_observations_give_no_probabilities() {
    let (hc, fc) = three_models();
    let obs = test_cell_cube("obs", &[vec![f32::NAN], vec![f32::NAN], vec![f32::NAN]]);
    let spec = CombineSpec {
        edges: EdgeSource::Observed,
        ..CombineSpec::default()
    };
    let f = run(&hc, &fc, Some(&obs), &spec).forecast.expect("forecast");
    assert!(probs(&f, 0).iter().all(|p| p.is_nan()));
    assert_eq!(f.dominant_category[[0, 0, 0, 0, 0]], DOMINANT_FILL);
}

#[test]
fn needs_observations_for_pmme_and_checks_levels() {
    let (hc, fc) = three_models();
    let h: Vec<&Cube> = hc.iter().collect();
    let f: Vec<&Cube> = fc.iter().collect();
    let input = CombineInput {
        hindcasts: &h,
        forecasts: Some(&f),
        obs: None,
    };
    let pmme = CombineSpec {
        scheme: WeightScheme::Pmme,
        ..CombineSpec::default()
    };
    assert!(combine(&input, &pmme).is_err());
    let bad_levels = CombineSpec {
        category_levels: vec![0.7, 0.3],
        ..CombineSpec::default()
    };
    assert!(combine(&input, &bad_levels).is_err());
}

/// Random models for the invariants: 2–4 models, 1–6 members, 4–8 years, one forecast.
fn models_strategy() -> impl Strategy<Value = (Vec<Cube>, Vec<Cube>)> {
    (2usize..5, 4usize..9, any::<u64>()).prop_flat_map(|(nm, ny, seed)| {
        proptest::collection::vec(1usize..7, nm).prop_map(move |members| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut hc = Vec::new();
            let mut fc = Vec::new();
            for (m, &k) in members.iter().enumerate() {
                let name = format!("M{m}");
                let v: Vec<Vec<f32>> = (0..ny)
                    .map(|_| {
                        (0..k)
                            .map(|_| (rng.random::<f32>() * 8.0).round())
                            .collect()
                    })
                    .collect();
                hc.push(test_cell_cube(&name, &v));
                let f: Vec<f32> = (0..k)
                    .map(|_| (rng.random::<f32>() * 8.0).round())
                    .collect();
                fc.push(test_cell_cube(&name, &[f]));
            }
            (hc, fc)
        })
    })
}

proptest! {
    #[test]
    fn probabilities_and_weights_sum_to_one((hc, fc) in models_strategy()) {
        for scheme in [WeightScheme::Pooled, WeightScheme::ModelEqual] {
            let spec = CombineSpec { scheme, ..CombineSpec::default() };
            let out = run(&hc, &fc, None, &spec);
            let f = out.forecast.as_ref().expect("forecast");
            for p in [f, &out.hindcast] {
                for i in 0..p.probability.dim().0 {
                    let s: f64 = probs(p, i).iter().sum();
                    prop_assert!((s - 1.0).abs() < 1e-6, "sum {s}");
                    let x: f32 = (0..3).map(|c| p.extreme_probability[[i, c, 0, 0, 0]]).sum();
                    prop_assert!((x - 1.0).abs() < 1e-5);
                    let w: f32 = (0..hc.len()).map(|m| p.weights[[i, m, 0, 0, 0]]).sum();
                    prop_assert!((w - 1.0).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn model_order_does_not_matter((hc, fc) in models_strategy()) {
        let spec = CombineSpec::default();
        let a = run(&hc, &fc, None, &spec);
        let (mut hr, mut fr) = (hc.clone(), fc.clone());
        hr.reverse();
        fr.reverse();
        let b = run(&hr, &fr, None, &spec);
        for i in 0..hc[0].n_init() {
            prop_assert!(close(&probs(&a.hindcast, i), &probs(&b.hindcast, i), 1e-6));
        }
        let (fa, fb) = (a.forecast.expect("f"), b.forecast.expect("f"));
        prop_assert!(close(&probs(&fa, 0), &probs(&fb, 0), 1e-6));
        prop_assert!((fa.mean[[0, 0, 0, 0, 0]] - fb.mean[[0, 0, 0, 0, 0]]).abs() < 1e-4);
    }

    #[test]
    fn an_identical_copy_changes_nothing_under_model_equal_weights((hc, fc) in models_strategy()) {
        let spec = CombineSpec::default();
        let a = run(&hc, &fc, None, &spec);
        // Copy every model once: each keeps the same share of the total weight.
        let hc2: Vec<Cube> = hc.iter().chain(hc.iter()).cloned().collect();
        let fc2: Vec<Cube> = fc.iter().chain(fc.iter()).cloned().collect();
        let b = run(&hc2, &fc2, None, &spec);
        let (fa, fb) = (a.forecast.expect("f"), b.forecast.expect("f"));
        prop_assert!(close(&probs(&fa, 0), &probs(&fb, 0), 1e-6));
    }

    #[test]
    fn cross_validated_edges_never_use_the_left_out_year((hc, fc) in models_strategy()) {
        let out = run(&hc, &fc, None, &CombineSpec::default());
        for (m, cube) in hc.iter().enumerate() {
            for i in 0..cube.n_init() {
                let mut pool: Vec<f32> = (0..cube.n_init())
                    .filter(|&j| j != i)
                    .flat_map(|j| (0..cube.n_member()).map(move |k| (j, k)))
                    .map(|(j, k)| cube.values[[j, k, 0, 0, 0]])
                    .collect();
                pool.sort_by(f32::total_cmp);
                for (k, &p) in TERCILES.iter().enumerate() {
                    let want = quantile_sorted(&pool, p) as f32;
                    let got = out.hindcast.edges[[i, m, k, 0, 0, 0]];
                    prop_assert!((want - got).abs() <= 1e-5 * want.abs().max(1.0), "{want} vs {got}");
                }
            }
        }
    }
}

/// One column per year: ensemble means (one member).
fn column(v: &[f32]) -> Vec<Vec<f32>> {
    v.iter().map(|&x| vec![x]).collect()
}

/// Type-7 quantiles of `v` without index `skip`.
fn quantiles_without(v: &[f32], skip: Option<usize>, levels: &[f64]) -> Vec<f64> {
    let mut kept: Vec<f32> = v
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .map(|(_, &x)| x)
        .collect();
    kept.sort_by(f32::total_cmp);
    levels.iter().map(|&p| quantile_sorted(&kept, p)).collect()
}

#[test]
fn single_model_observed_edges_are_the_observed_terciles() {
    // One model whose values are 10× the observations: with observed edges the file must hold
    // the observed terciles (the bug: with one model the model's own pool was used).
    let obs_v = [1.0f32, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 6.0];
    let model: Vec<f32> = obs_v.iter().map(|v| 10.0 * v).collect();
    let hc = vec![test_cell_cube("M", &column(&model))];
    let fc = vec![test_cell_cube("M", &[vec![45.0]])];
    let obs = test_cell_cube("obs", &column(&obs_v));
    for scheme in [WeightScheme::ModelEqual, WeightScheme::Pmme] {
        let spec = CombineSpec {
            scheme,
            edges: EdgeSource::Observed,
            ..CombineSpec::default()
        };
        let out = run(&hc, &fc, Some(&obs), &spec);
        let f = out.forecast.expect("forecast");
        let e: Vec<f64> = (0..2)
            .map(|k| f64::from(f.edges[[0, 0, k, 0, 0, 0]]))
            .collect();
        if scheme == WeightScheme::ModelEqual {
            let want = quantiles_without(&obs_v, None, &TERCILES);
            assert!(close(&e, &want, 1e-5), "{e:?} vs {want:?}");
            // 45 is above every observed edge: all of the single member above normal.
            assert!(close(&probs(&f, 0), &[0.0, 0.0, 1.0], 1e-9));
        } else {
            // PMME: Gaussian quantiles of the observations, never the model's 10× values.
            assert!(e.iter().all(|&v| v > 1.0 && v < 8.0), "{e:?}");
        }
    }
}

#[test]
fn calibrated_probabilities_match_a_direct_fit() {
    use crate::ensemble::calibrate::{mixture_probabilities, regression_predictive};
    let obs_v = [3.0f32, 5.0, 4.0, 7.0, 6.0, 2.0, 5.5, 4.5, 6.5, 3.5];
    let m1 = [2.0f32, 4.5, 3.0, 6.5, 5.0, 2.5, 4.0, 4.0, 5.5, 3.0];
    let m2 = [4.0f32, 5.0, 5.0, 6.0, 7.5, 3.0, 6.0, 4.0, 6.0, 5.0];
    let hc = vec![
        test_cell_cube("M1", &column(&m1)),
        test_cell_cube("M2", &column(&m2)),
    ];
    let fc = vec![
        test_cell_cube("M1", &[vec![6.0]]),
        test_cell_cube("M2", &[vec![6.5]]),
    ];
    let obs = test_cell_cube("obs", &column(&obs_v));
    let spec = CombineSpec {
        scheme: WeightScheme::Calibrated,
        ..CombineSpec::default()
    };
    let out = run(&hc, &fc, Some(&obs), &spec);
    let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let (x1, x2, o) = (f64s(&m1), f64s(&m2), f64s(&obs_v));
    let expect = |skip: Option<usize>, new: [f64; 2]| {
        let train = |j: usize| Some(j) != skip;
        let fits: Vec<_> = [(&x1, new[0]), (&x2, new[1])]
            .iter()
            .filter_map(|(x, n)| regression_predictive(x, &o, train, *n))
            .collect();
        let edges = quantiles_without(&obs_v, skip, &TERCILES);
        let mut p = Vec::new();
        mixture_probabilities(&fits, &edges, &mut p);
        p
    };
    let f = out.forecast.as_ref().expect("forecast");
    let want = expect(None, [6.0, 6.5]);
    assert!(
        close(&probs(f, 0), &want, 1e-6),
        "{:?} vs {want:?}",
        probs(f, 0)
    );
    for j in 0..obs_v.len() {
        let want = expect(Some(j), [x1[j], x2[j]]);
        let got = probs(&out.hindcast, j);
        assert!(close(&got, &want, 1e-6), "year {j}: {got:?} vs {want:?}");
    }
    // Equal weights; the edges are the observed terciles.
    assert!((f.weights[[0, 0, 0, 0, 0]] - 0.5).abs() < 1e-7);
    let e = f64::from(f.edges[[0, 0, 0, 0, 0, 0]]);
    assert!((e - quantiles_without(&obs_v, None, &TERCILES)[0]).abs() < 1e-5);
    // The deterministic anomaly: standardized model anomalies averaged, in observed sd.
    let ms = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        (m, sd)
    };
    let ((c1, s1), (c2, s2), (om, osd)) = (ms(&x1), ms(&x2), ms(&o));
    let z = ((6.0 - c1) / s1 + (6.5 - c2) / s2) / 2.0;
    assert!((f64::from(f.anomaly[[0, 0, 0, 0, 0]]) - osd * z).abs() < 1e-5);
    assert!((f64::from(f.mean[[0, 0, 0, 0, 0]]) - (om + osd * z)).abs() < 1e-5);
    // The median percentile lies between the outer edges of the predictive mixture.
    let p50 = f64::from(f.percentiles[[0, 1, 0, 0, 0]]);
    assert!(p50 > 3.0 && p50 < 8.0, "{p50}");
}

#[test]
fn calibrated_precipitation_is_fitted_on_cube_roots() {
    use crate::ensemble::calibrate::{mixture_probabilities, regression_predictive, Transform};
    use crate::units::Quantity;
    let obs_v = [0.5f32, 8.0, 2.0, 27.0, 1.0, 12.0, 4.0, 20.0];
    let m = [1.0f32, 6.0, 3.0, 20.0, 0.0, 9.0, 2.0, 15.0];
    let mut hc = vec![test_cell_cube("M", &column(&m))];
    let mut fc = vec![test_cell_cube("M", &[vec![10.0]])];
    for c in hc.iter_mut().chain(fc.iter_mut()) {
        c.meta.quantity = Quantity::Precipitation;
    }
    let obs = test_cell_cube("obs", &column(&obs_v));
    let spec = CombineSpec {
        scheme: WeightScheme::Calibrated,
        ..CombineSpec::default()
    };
    let out = run(&hc, &fc, Some(&obs), &spec);
    let t = Transform::CubeRoot;
    let x: Vec<f64> = m.iter().map(|&v| t.apply(f64::from(v))).collect();
    let o: Vec<f64> = obs_v.iter().map(|&v| t.apply(f64::from(v))).collect();
    let fit = regression_predictive(&x, &o, |_| true, t.apply(10.0)).expect("fit");
    let edges: Vec<f64> = quantiles_without(&obs_v, None, &TERCILES)
        .iter()
        .map(|&e| t.apply(e))
        .collect();
    let mut want = Vec::new();
    mixture_probabilities(&[fit], &edges, &mut want);
    let f = out.forecast.expect("forecast");
    assert!(
        close(&probs(&f, 0), &want, 1e-6),
        "{:?} vs {want:?}",
        probs(&f, 0)
    );
    // Percentiles come back in mm: the median is the cube of the fit's location.
    let p50 = f64::from(f.percentiles[[0, 1, 0, 0, 0]]);
    assert!(
        (p50 - fit.location().powi(3)).abs() < 1e-3 * p50.max(1.0),
        "{p50}"
    );
}

/// Models and observations for the calibration invariants: 1–3 models of 1–4 members, 8–14
/// years, values with some signal.
fn calibration_strategy() -> impl Strategy<Value = (Vec<Cube>, Vec<Cube>, Vec<f32>)> {
    (1usize..4, 8usize..15, any::<u64>()).prop_flat_map(|(nm, ny, seed)| {
        proptest::collection::vec(1usize..5, nm).prop_map(move |members| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let obs: Vec<f32> = (0..ny).map(|_| 10.0 * rng.random::<f32>()).collect();
            let mut hc = Vec::new();
            let mut fc = Vec::new();
            for (m, &k) in members.iter().enumerate() {
                let name = format!("M{m}");
                hc.push(noisy_model(&name, &obs, k, 8.0, &mut rng));
                let f: Vec<f32> = (0..k).map(|_| 10.0 * rng.random::<f32>()).collect();
                fc.push(test_cell_cube(&name, &[f]));
            }
            (hc, fc, obs)
        })
    })
}

proptest! {
    #[test]
    fn calibrated_probabilities_sum_to_one_and_never_see_the_left_out_year(
        (hc, fc, obs_v) in calibration_strategy(), which in 0usize..100, shift in -50.0f32..50.0
    ) {
        for scheme in [WeightScheme::Calibrated, WeightScheme::Elr, WeightScheme::Pcr] {
        let spec = CombineSpec { scheme, ..CombineSpec::default() };
        let obs = test_cell_cube("obs", &column(&obs_v));
        let out = run(&hc, &fc, Some(&obs), &spec);
        let f = out.forecast.as_ref().expect("forecast");
        for p in [f, &out.hindcast] {
            for i in 0..p.probability.dim().0 {
                let pr = probs(p, i);
                let s: f64 = pr.iter().sum();
                prop_assert!((s - 1.0).abs() < 1e-6, "sum {s}");
                prop_assert!(pr.iter().all(|&v| v >= -1e-7), "{pr:?}");
            }
        }
        // Percentiles never cross.
        let pct: Vec<f32> = (0..3).map(|k| f.percentiles[[0, k, 0, 0, 0]]).collect();
        prop_assert!(pct[0] <= pct[1] && pct[1] <= pct[2], "{pct:?}");
        // Changing the observation of one year leaves that year's hindcast probabilities as
        // they were: its own fit and edges never saw it.
        let i = which % obs_v.len();
        let mut moved = obs_v.clone();
        moved[i] += shift;
        let obs2 = test_cell_cube("obs", &column(&moved));
        let out2 = run(&hc, &fc, Some(&obs2), &spec);
        prop_assert!(close(&probs(&out.hindcast, i), &probs(&out2.hindcast, i), 1e-9));
        }
    }
}

/// One model's ensemble mean and the observations of twelve years at one cell, and their
/// combination by `scheme` with a forecast of 6.0.
fn one_model_twelve_years(scheme: WeightScheme) -> ([f32; 12], [f32; 12], Combined) {
    let obs_v = [
        3.0f32, 5.0, 4.0, 7.0, 6.0, 2.0, 5.5, 4.5, 6.5, 3.5, 5.2, 4.1,
    ];
    let m1 = [
        2.0f32, 4.5, 3.0, 6.5, 5.0, 2.5, 4.0, 4.0, 5.5, 3.0, 4.9, 3.6,
    ];
    let hc = vec![test_cell_cube("M1", &column(&m1))];
    let fc = vec![test_cell_cube("M1", &[vec![6.0]])];
    let obs = test_cell_cube("obs", &column(&obs_v));
    let spec = CombineSpec {
        scheme,
        ..CombineSpec::default()
    };
    (obs_v, m1, run(&hc, &fc, Some(&obs), &spec))
}

#[test]
fn elr_probabilities_match_a_direct_fit() {
    use crate::ensemble::calibrate::{elr_predictive, mixture_probabilities};
    let (obs_v, m1, out) = one_model_twelve_years(WeightScheme::Elr);
    let x: Vec<f64> = m1.iter().map(|&v| f64::from(v)).collect();
    let o: Vec<f64> = obs_v.iter().map(|&v| f64::from(v)).collect();
    let expect = |skip: Option<usize>, x_new: f64| {
        let edges = quantiles_without(&obs_v, skip, &TERCILES);
        let mut thresholds = edges.clone();
        thresholds.extend(quantiles_without(&obs_v, skip, &[0.1, 0.9]));
        thresholds.sort_by(f64::total_cmp);
        let fit = elr_predictive(&x, &o, |j| Some(j) != skip, &thresholds, x_new);
        let mut p = Vec::new();
        mixture_probabilities(&fit.into_iter().collect::<Vec<_>>(), &edges, &mut p);
        p
    };
    let f = out.forecast.as_ref().expect("forecast");
    let want = expect(None, 6.0);
    assert!(
        close(&probs(f, 0), &want, 1e-6),
        "{:?} vs {want:?}",
        probs(f, 0)
    );
    for (j, &xj) in x.iter().enumerate() {
        let want = expect(Some(j), xj);
        assert!(close(&probs(&out.hindcast, j), &want, 1e-6), "year {j}");
    }
}

#[test]
fn pcr_probabilities_match_a_direct_fit() {
    use crate::ensemble::calibrate::mixture_probabilities;
    use crate::ensemble::pcr::{PcrData, PCR_MAX_MODES};
    // One cell (a quantity without a transform): the field is the cell, its PCR the
    // cross-validated choice between the climatology and the regression on the model's
    // ensemble mean.
    let (obs_v, m1, out) = one_model_twelve_years(WeightScheme::Pcr);
    let x = ndarray::Array2::from_shape_fn(
        (13, 1),
        |(j, _)| {
            if j < 12 {
                f64::from(m1[j])
            } else {
                6.0
            }
        },
    );
    let y = ndarray::Array2::from_shape_fn((12, 1), |(j, _)| f64::from(obs_v[j]));
    let data = PcrData::new(x.view(), 12, &[1.0], y.view(), &[1.0]).unwrap();
    let expect = |skip: Option<usize>, target: usize| {
        let edges = quantiles_without(&obs_v, skip, &TERCILES);
        let train: Vec<usize> = (0..12).filter(|&j| Some(j) != skip).collect();
        let fit = data
            .forecast(&train, target, PCR_MAX_MODES)
            .and_then(|f| f.predictive(0));
        let mut p = Vec::new();
        mixture_probabilities(&fit.into_iter().collect::<Vec<_>>(), &edges, &mut p);
        p
    };
    let f = out.forecast.as_ref().expect("forecast");
    let want = expect(None, 12);
    assert!(
        close(&probs(f, 0), &want, 1e-6),
        "{:?} vs {want:?}",
        probs(f, 0)
    );
    for j in 0..12 {
        let want = expect(Some(j), j);
        assert!(close(&probs(&out.hindcast, j), &want, 1e-6), "year {j}");
    }
}
