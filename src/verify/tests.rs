//! Hand-checked values of the verification scores.

use crate::cube::Spatial;

use super::*;

#[test]
fn pearson_and_deterministic_scores_by_hand() {
    let f = [1.0, 2.0, 3.0, 4.0];
    let o = [2.0, 4.0, 6.0, 8.0];
    assert!((pearson_r(&f, &o) - 1.0).abs() < 1e-12);
    let d = deterministic(&f, &o);
    // errors -1 -2 -3 -4: bias -2.5, MSE 7.5; obs variance (pop.) 5 → MSSS 1 - 7.5/5 = -0.5.
    assert!((d.bias + 2.5).abs() < 1e-12);
    assert!((d.rmse - 7.5f64.sqrt()).abs() < 1e-12);
    assert!((d.msss + 0.5).abs() < 1e-12);
    assert!(pearson_r(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
}

#[test]
fn rps_by_hand() {
    // Forecast (0.2, 0.3, 0.5), observed above: (0.2-0)² + (0.5-0)² = 0.29.
    assert!((rps(&[0.2, 0.3, 0.5], 2) - 0.29).abs() < 1e-12);
    // Climatology, observed below: (1/3-1)² + (2/3-1)² = 4/9 + 1/9.
    assert!((rps(&[1.0 / 3.0; 3], 0) - 5.0 / 9.0).abs() < 1e-12);
}

#[test]
fn crps_matches_the_pairwise_definition() {
    let x = [0.5, -1.0, 2.0, 0.7, 3.1];
    let y = 0.9;
    let m = x.len() as f64;
    let skill: f64 = x.iter().map(|v: &f64| (v - y).abs()).sum::<f64>() / m;
    let spread: f64 = x
        .iter()
        .flat_map(|a| x.iter().map(move |b| (a - b).abs()))
        .sum();
    let plain = skill - spread / (2.0 * m * m);
    let fair = skill - spread / (2.0 * m * (m - 1.0));
    assert!((crps_ensemble(&mut x.to_vec(), y, false) - plain).abs() < 1e-12);
    assert!((crps_ensemble(&mut x.to_vec(), y, true) - fair).abs() < 1e-12);
    // One member: the absolute error.
    assert_eq!(crps_ensemble(&mut [2.0], 0.5, false), 1.5);
}

#[test]
fn brier_decomposition_adds_up() {
    let p = [0.1, 0.9, 0.8, 0.3, 0.5, 0.7, 0.2, 0.6];
    let o = [false, true, true, false, true, false, false, true];
    let b = brier(&p, &o, 10);
    let direct: f64 = p
        .iter()
        .zip(&o)
        .map(|(&pi, &oi)| (pi - f64::from(u8::from(oi))).powi(2))
        .sum::<f64>()
        / 8.0;
    assert!((b.score - direct).abs() < 1e-12);
    // With one forecast value per bin the decomposition is exact.
    assert!((b.reliability - b.resolution + b.uncertainty - b.score).abs() < 1e-12);
    assert!((b.uncertainty - 0.25).abs() < 1e-12);
}

#[test]
fn roc_area_by_hand() {
    // Events get 0.9, 0.6; non-events 0.8, 0.1: pairs (0.9>0.8, 0.9>0.1, 0.6<0.8, 0.6>0.1) = 3/4.
    let p = [0.9, 0.8, 0.6, 0.1];
    let o = [true, false, true, false];
    assert!((roc_area(&p, &o) - 0.75).abs() < 1e-12);
    // Ties count one half; a perfect forecast has area 1.
    assert!((roc_area(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
    assert_eq!(roc_area(&[0.9, 0.1], &[true, false]), 1.0);
    assert!(roc_area(&[0.9, 0.1], &[true, true]).is_nan());
}

#[test]
fn regional_mean_weights_by_latitude() {
    let spatial = Spatial::Grid {
        lat: vec![0.0, 60.0],
        lon: vec![80.0],
    };
    let region = Region::parse("box=70,90,-10,70").unwrap();
    let (m, n) = regional_mean(&[1.0, 3.0], &region.cell_weights(&spatial));
    // Weights 1 and 0.5: (1 + 1.5) / 1.5.
    assert_eq!(n, 2);
    assert!((m - 2.5 / 1.5).abs() < 1e-12);
    assert!(Region::parse("atlantis").is_err());
    assert_eq!(Region::parse("south_asia").unwrap().name, "south_asia");
}

// ---- skill maps on constructed forecasts -------------------------------------------------

use ndarray::{Array5, Axis};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Observed category of each year of `obs` against the other years' terciles, as
/// `skill_maps` defines it.
fn loyo_categories(obs: &[f32]) -> Vec<usize> {
    (0..obs.len())
        .map(|i| {
            let mut others: Vec<f32> = (0..obs.len()).filter(|&j| j != i).map(|j| obs[j]).collect();
            others.sort_unstable_by(f32::total_cmp);
            let edges: Vec<f64> = [1.0 / 3.0, 2.0 / 3.0]
                .iter()
                .map(|&p| crate::stats::quantile_sorted(&others, p))
                .collect();
            crate::stats::categories::category_of(obs[i], &edges).unwrap()
        })
        .collect()
}

const TERCILE_LEVELS: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];

/// `(probability, mean, members, obs)` arrays of `ni` years, `m` members, one lead, `nc`
/// cells in a row.
struct Case {
    probability: Array5<f32>,
    mean: Array5<f32>,
    members: Array5<f32>,
    obs: Array5<f32>,
}

impl Case {
    fn scored(&self) -> ScoredForecast<'_> {
        ScoredForecast {
            probability: self.probability.view(),
            ensemble_mean: self.mean.view(),
            anomaly: None,
            members: Some(self.members.view()),
            obs: self.obs.view(),
            levels: &TERCILE_LEVELS,
            debias_members: None,
            bootstrap: None,
            fair_crps: true,
        }
    }

    /// Probabilities counted from the members against fixed edges.
    fn counted(members: Array5<f32>, obs: Array5<f32>, edges: &[f64]) -> Case {
        let (ni, m, nl, ny, nx) = members.dim();
        let mut probability = Array5::<f32>::zeros((ni, 3, nl, ny, nx));
        for ((i, k, l, y, x), &v) in members.indexed_iter() {
            let _ = k;
            let c = crate::stats::categories::category_of(v, edges).unwrap();
            probability[[i, c, l, y, x]] += 1.0 / m as f32;
        }
        let mean = members.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
        Case {
            probability,
            mean,
            members,
            obs,
        }
    }
}

fn normal_field(shape: (usize, usize, usize, usize, usize), seed: u64) -> Array5<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array5::from_shape_simple_fn(shape, || {
        let z: f64 = StandardNormal.sample(&mut rng);
        z as f32
    })
}

#[test]
fn debiased_rpss_of_a_reliable_small_ensemble_is_zero() {
    // Members and observations from the same N(0, 1), no signal: a perfectly reliable
    // 5-member ensemble without skill. Plain RPSS ≈ −D / RPS_clim = −(4/45)/(4/9) = −0.2;
    // Weigel's debiased RPSS ≈ 0.
    let (ni, m, cells) = (40, 5, 400);
    let members = normal_field((ni, m, 1, 1, cells), 1);
    let obs = normal_field((ni, 1, 1, 1, cells), 2);
    let q = 0.430_727_3; // N(0, 1) terciles ±0.4307
    let case = Case::counted(members, obs, &[-q, q]);
    let plain = skill_maps(&case.scored()).unwrap();
    let debiased = skill_maps(&ScoredForecast {
        debias_members: Some(m),
        ..case.scored()
    })
    .unwrap();
    let mean =
        |a: &ndarray::Array3<f32>| a.iter().map(|&v| f64::from(v)).sum::<f64>() / cells as f64;
    let (p, d) = (mean(&plain.rpss), mean(&debiased.rpss));
    assert!((p + 0.2).abs() < 0.03, "plain RPSS {p}");
    assert!(d.abs() < 0.03, "debiased RPSS {d}");
    assert!((rps_debiasing_term(&TERCILE_LEVELS, 5) - 4.0 / 45.0).abs() < 1e-12);
}

#[test]
fn bootstrap_intervals_cover_the_score_and_flag_real_skill() {
    // Members = signal + noise with the observations = signal + noise: strong ACC.
    let (ni, m, cells) = (30, 9, 6);
    let signal = normal_field((ni, 1, 1, 1, cells), 3);
    let obs = &signal + &(normal_field((ni, 1, 1, 1, cells), 4) * 0.5);
    let members = &signal + &(normal_field((ni, m, 1, 1, cells), 5) * 0.5);
    let case = Case::counted(members, obs, &[-0.43, 0.43]);
    let b = Bootstrap::new(ni, 400, 0.9, 11).unwrap();
    let maps = skill_maps(&ScoredForecast {
        bootstrap: Some(&b),
        ..case.scored()
    })
    .unwrap();
    for x in 0..cells {
        let (lo, acc, hi) = (
            maps.acc_lower[[0, 0, x]],
            maps.acc[[0, 0, x]],
            maps.acc_upper[[0, 0, x]],
        );
        assert!(lo < acc && acc < hi && lo > 0.3, "{lo} {acc} {hi}");
        assert!(maps.rpss_lower[[0, 0, x]] > 0.0);
        assert!(maps.rpss_lower[[0, 0, x]] <= maps.rpss[[0, 0, x]]);
    }
    // Regional intervals over the same resamples, and the pooled diagrams.
    let d = regional_diagnostics(
        &ScoredForecast {
            bootstrap: Some(&b),
            ..case.scored()
        },
        0,
        &[1.0; 6],
        10,
    )
    .unwrap();
    assert_eq!(d.cells, 6);
    assert!(d.acc_interval.lower > 0.3 && d.rpss_interval.lower > 0.0);
    assert_eq!(d.rank_histogram.len(), m + 1);
    assert_eq!(d.rank_histogram.iter().sum::<u64>(), (ni * cells) as u64);
    assert_eq!(d.pattern_acc.len(), ni);
    let n: usize = d.reliability[0].iter().map(|b| b.count).sum();
    assert_eq!(n, ni * cells);
    assert!(d.roc[2].area > 0.7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn perfect_forecasts_score_one_and_climatology_zero(
        seed in 0u64..1000,
        ni in 6usize..20,
    ) {
        let obs = normal_field((ni, 1, 1, 1, 2), seed);
        // Members all equal to the observation; probabilities one-hot on its category.
        let members = ndarray::concatenate(Axis(1), &[obs.view(), obs.view(), obs.view()]).unwrap();
        let mut probability = Array5::<f32>::zeros((ni, 3, 1, 1, 2));
        let climatology = Array5::<f32>::from_elem((ni, 3, 1, 1, 2), 1.0 / 3.0);
        for x in 0..2 {
            let series: Vec<f32> = (0..ni).map(|i| obs[[i, 0, 0, 0, x]]).collect();
            for (i, c) in loyo_categories(&series).into_iter().enumerate() {
                probability[[i, c, 0, 0, x]] = 1.0;
            }
        }
        let case = Case { probability, mean: obs.clone(), members, obs: obs.clone() };
        let maps = skill_maps(&case.scored()).unwrap();
        for x in 0..2 {
            prop_assert!((maps.rpss[[0, 0, x]] - 1.0).abs() < 1e-6);
            prop_assert!((maps.crpss[[0, 0, x]] - 1.0).abs() < 1e-6);
            prop_assert!((maps.acc[[0, 0, x]] - 1.0).abs() < 1e-6);
            prop_assert_eq!(maps.rps[[0, 0, x]], 0.0);
        }
        let clim_case = Case {
            probability: climatology,
            mean: obs.clone(),
            members: ndarray::concatenate(Axis(1), &[obs.view(), obs.view()]).unwrap(),
            obs: obs.clone(),
        };
        let maps = skill_maps(&clim_case.scored()).unwrap();
        for x in 0..2 {
            prop_assert!(maps.rpss[[0, 0, x]].abs() < 1e-6);
        }
    }

    #[test]
    fn scores_do_not_depend_on_the_order_of_members(seed in 0u64..1000, shift in 1usize..7) {
        let (ni, m) = (10, 7);
        let members = normal_field((ni, m, 1, 1, 3), seed);
        let obs = normal_field((ni, 1, 1, 1, 3), seed + 1);
        let mut rotated = members.clone();
        for k in 0..m {
            rotated
                .index_axis_mut(Axis(1), (k + shift) % m)
                .assign(&members.index_axis(Axis(1), k));
        }
        let a = Case::counted(members, obs.clone(), &[-0.4, 0.4]);
        let b = Case::counted(rotated, obs, &[-0.4, 0.4]);
        let (ma, mb) = (skill_maps(&a.scored()).unwrap(), skill_maps(&b.scored()).unwrap());
        for (x, y) in ma.crps.iter().zip(mb.crps.iter()) {
            prop_assert!((x - y).abs() < 1e-6);
        }
        for (x, y) in ma.rpss.iter().zip(mb.rpss.iter()) {
            prop_assert!((x - y).abs() < 1e-6);
        }
        for (x, y) in ma.acc.iter().zip(mb.acc.iter()) {
            prop_assert!((x - y).abs() < 1e-5);
        }
        let w = [1.0; 3];
        let (ra, rb) = (
            regional_diagnostics(&a.scored(), 0, &w, 10).unwrap(),
            regional_diagnostics(&b.scored(), 0, &w, 10).unwrap(),
        );
        prop_assert_eq!(ra.rank_histogram, rb.rank_histogram);
    }
}

#[test]
fn country_regions_hold_the_cells_in_the_countries() {
    let spatial = Spatial::Grid {
        lat: (0..20).map(|k| 20.0 + f64::from(k)).collect(),
        lon: (0..30).map(|k| 65.0 + f64::from(k)).collect(),
    };
    let nepal = Region::parse("Nepal").unwrap();
    let w = nepal.cell_weights(&spatial);
    // Kathmandu (27.7N, 85.3E) is in; Delhi (28.6N, 77.2E) is not.
    let k =
        |lat: f64, lon: f64| ((lat - 20.0).round() as usize) * 30 + (lon - 65.0).round() as usize;
    assert!(w[k(28.0, 85.0)] > 0.0);
    assert_eq!(w[k(29.0, 77.0)], 0.0);
    let south = Region::parse("south_asia").unwrap();
    let ws = south.cell_weights(&spatial);
    assert!(ws[k(29.0, 77.0)] > 0.0); // India
    assert_eq!(ws[k(20.0, 65.0)], 0.0); // Arabian Sea
    assert_eq!(south.countries.len(), 8); // the SAARC members, the Maldives included
    let custom = Region::parse("himalaya=Nepal+BTN").unwrap();
    assert_eq!(custom.countries.len(), 2);
    assert!(Region::parse("x=Nepal,Atlantis")
        .unwrap_err()
        .to_string()
        .contains("Atlantis"));
    let boxed = Region::parse("box=70,90,10,30").unwrap();
    assert!(boxed.countries.is_empty());
}

#[test]
fn pattern_acc_by_hand() {
    // Perfectly correlated up to a scale and offset; a NaN cell and a zero-weight cell ignored.
    let f = [1.0, 2.0, 3.0, f32::NAN, 100.0];
    let o = [3.0, 5.0, 7.0, 1.0, -50.0];
    let w = [1.0, 0.5, 0.2, 1.0, 0.0];
    assert!((pattern_acc(&f, &o, &w) - 1.0).abs() < 1e-12);
    let o2 = [7.0, 5.0, 3.0, 1.0, 0.0];
    assert!((pattern_acc(&f, &o2, &w) + 1.0).abs() < 1e-12);
    assert!(pattern_acc(&f[..2], &o[..2], &w[..2]).is_nan());
}
