use proptest::prelude::*;

use super::*;
use crate::synth::{Preset, SynthConfig, SynthVar};

/// The three models' hindcast cubes of `var` in the small synthetic preset.
fn small_cubes(var: SynthVar) -> Vec<Cube> {
    let cfg = SynthConfig::preset(Preset::Small, false).unwrap();
    (0..3)
        .map(|m| cfg.model_cube(m, false, var).unwrap())
        .collect()
}

#[test]
fn categories_follow_the_tercile_rule() {
    let e = [1.0, 2.0];
    assert_eq!(category_of(0.5, &e), Some(0));
    assert_eq!(category_of(1.0, &e), Some(1)); // on the lower edge: near normal
    assert_eq!(category_of(2.0, &e), Some(1)); // on the upper edge: near normal
    assert_eq!(category_of(2.5, &e), Some(2));
    assert_eq!(category_of(f32::NAN, &e), None);
    // Quintile-like edges.
    let e = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(category_of(2.5, &e), Some(2));
    assert_eq!(category_of(4.0, &e), Some(3));
    assert_eq!(category_of(4.1, &e), Some(4));
}

#[test]
fn three_models_with_2_5_10_members_by_hand() {
    let edges: [&[f64]; 3] = [&[0.0, 1.0], &[0.0, 1.0], &[10.0, 20.0]];
    let a = [-1.0f32, 2.0]; // below, above
    let b = [-1.0f32, -2.0, 0.5, 0.5, 3.0]; // 2 below, 2 near, 1 above
    let c = [5.0f32, 15.0, 15.0, 15.0, 15.0, 25.0, 25.0, 25.0, 25.0, 25.0]; // 1, 4, 5
    let members: [&[f32]; 3] = [&a, &b, &c];
    let mut p = [0.0; 3];
    category_probabilities(
        &members,
        &edges,
        &Weights::ModelEqual,
        &mut p,
        &mut ProbScratch::default(),
    );
    let third = 1.0 / 3.0;
    let want = [
        third * (0.5 + 0.4 + 0.1),
        third * (0.0 + 0.4 + 0.4),
        third * (0.5 + 0.2 + 0.5),
    ];
    for k in 0..3 {
        assert!((p[k] - want[k]).abs() < 1e-12, "{p:?} vs {want:?}");
    }
    category_probabilities(
        &members,
        &edges,
        &Weights::Pooled,
        &mut p,
        &mut ProbScratch::default(),
    );
    // 17 members: below 1+2+1 = 4, near 0+2+4 = 6, above 1+1+5 = 7
    for (k, n) in [4.0, 6.0, 7.0].iter().enumerate() {
        assert!((p[k] - n / 17.0).abs() < 1e-12, "{p:?}");
    }
    // Skill weights 0, 1, 3: model A drops out.
    category_probabilities(
        &members,
        &edges,
        &Weights::Given(vec![0.0, 1.0, 3.0]),
        &mut p,
        &mut ProbScratch::default(),
    );
    assert!((p[0] - (0.25 * 0.4 + 0.75 * 0.1)).abs() < 1e-12, "{p:?}");
    // A model with no valid member is left out; nobody valid: NaN.
    let none = [f32::NAN, f32::NAN];
    let only: [&[f32]; 2] = [&none, &a];
    category_probabilities(
        &only,
        &edges[..2],
        &Weights::ModelEqual,
        &mut p,
        &mut ProbScratch::default(),
    );
    assert_eq!(p, [0.5, 0.0, 0.5]);
    let nothing: [&[f32]; 1] = [&none];
    category_probabilities(
        &nothing,
        &edges[..1],
        &Weights::ModelEqual,
        &mut p,
        &mut ProbScratch::default(),
    );
    assert!(p.iter().all(|v| v.is_nan()));
}

#[test]
fn edges_and_percentiles_are_numpy_type_7() {
    // np.quantile([1, 2, 3, 4, 10], [1/3, 2/3]) = [2.3333, 3.6667]
    let mut e = [0.0; 2];
    category_edges(&[1.0, 2.0, 3.0, 4.0, 10.0], &TERCILES, &mut e);
    assert!(
        (e[0] - 7.0 / 3.0).abs() < 1e-6 && (e[1] - 11.0 / 3.0).abs() < 1e-6,
        "{e:?}"
    );
    // Equal weights: np.percentile([1, 2, 4, 8], 90) = 6.8 whatever the split into models.
    let a = [8.0f32, 1.0];
    let b = [4.0f32, 2.0];
    let m: [&[f32]; 2] = [&a, &b];
    assert!((weighted_percentile(&m, &Weights::Pooled, 0.9) - 6.8).abs() < 1e-9);
    assert!((weighted_percentile(&m, &Weights::Pooled, 0.5) - 3.0).abs() < 1e-9);
    assert!((ensemble_mean(&m, &Weights::Pooled) - 3.75).abs() < 1e-12);
    let c = [10.0f32];
    let m3: [&[f32]; 2] = [&a, &c];
    // Model-equal: mean of 4.5 and 10.
    assert!((ensemble_mean(&m3, &Weights::ModelEqual) - 7.25).abs() < 1e-12);
}

fn models() -> impl Strategy<Value = Vec<Vec<f32>>> {
    prop::collection::vec(
        prop::collection::vec(prop_oneof![-10.0f32..10.0, Just(f32::NAN)], 1..12),
        1..6,
    )
}

proptest! {
    /// Probabilities are in [0, 1] and sum to 1 (within 1e-6), whatever the weights.
    #[test]
    fn probabilities_sum_to_one(ms in models(), e0 in -5.0f64..0.0, width in 0.0f64..5.0, given in prop::collection::vec(0.0f64..3.0, 6)) {
        let edges = [e0, e0 + width];
        let members: Vec<&[f32]> = ms.iter().map(Vec::as_slice).collect();
        let ev: Vec<&[f64]> = vec![&edges[..]; ms.len()];
        let any = ms.iter().any(|v| v.iter().any(|x| x.is_finite()));
        for w in [Weights::Pooled, Weights::ModelEqual, Weights::Given(given.clone())] {
            let mut p = [0.0; 3];
            category_probabilities(&members, &ev, &w, &mut p, &mut ProbScratch::default());
            if any {
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{p:?}");
                prop_assert!(p.iter().all(|&x| (0.0..=1.0 + 1e-12).contains(&x)));
            } else {
                prop_assert!(p.iter().all(|x| x.is_nan()));
            }
            let valid: Vec<usize> = ms.iter().map(|v| v.iter().filter(|x| x.is_finite()).count()).collect();
            let mut wts = vec![0.0; ms.len()];
            model_weights(&w, &valid, &mut wts);
            if any {
                prop_assert!((wts.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                prop_assert!(wts.iter().all(|&x| x >= 0.0));
            }
        }
    }

    /// Reordering the models changes nothing, and neither does entering every model twice (under
    /// model-equal and pooled weights). (Copying one model only doubles its say, as it should.)
    #[test]
    fn invariant_to_model_order_and_duplication(ms in models(), rot in 0usize..6) {
        let edges = [-1.0, 1.0];
        let members: Vec<&[f32]> = ms.iter().map(Vec::as_slice).collect();
        let ev: Vec<&[f64]> = vec![&edges[..]; ms.len()];
        let mut p = [0.0; 3];
        category_probabilities(&members, &ev, &Weights::ModelEqual, &mut p, &mut ProbScratch::default());
        let mut rotated = members.clone();
        rotated.rotate_left(rot % members.len());
        let mut q = [0.0; 3];
        category_probabilities(&rotated, &ev, &Weights::ModelEqual, &mut q, &mut ProbScratch::default());
        for k in 0..3 {
            prop_assert!((p[k] - q[k]).abs() < 1e-12 || (p[k].is_nan() && q[k].is_nan()));
        }
        // Every model twice: same probabilities under both weightings.
        let doubled: Vec<&[f32]> = members.iter().chain(members.iter()).copied().collect();
        let ev2: Vec<&[f64]> = vec![&edges[..]; doubled.len()];
        for w in [Weights::ModelEqual, Weights::Pooled] {
            category_probabilities(&members, &ev, &w, &mut p, &mut ProbScratch::default());
            category_probabilities(&doubled, &ev2, &w, &mut q, &mut ProbScratch::default());
            for k in 0..3 {
                prop_assert!((p[k] - q[k]).abs() < 1e-12 || (p[k].is_nan() && q[k].is_nan()));
            }
        }
    }

    /// Under model-equal weights a model's member count does not change its say: a model whose
    /// members are each entered r times (an identical copy of its ensemble) gives the same
    /// probabilities.
    #[test]
    fn model_equal_ignores_member_counts(ms in models(), r in 2usize..4) {
        let edges = [-1.0, 1.0];
        let members: Vec<&[f32]> = ms.iter().map(Vec::as_slice).collect();
        let ev: Vec<&[f64]> = vec![&edges[..]; ms.len()];
        let repeated: Vec<Vec<f32>> = ms.iter().map(|v| v.iter().flat_map(|&x| std::iter::repeat_n(x, r)).collect()).collect();
        let rep: Vec<&[f32]> = repeated.iter().map(Vec::as_slice).collect();
        let (mut p, mut q) = ([0.0; 3], [0.0; 3]);
        category_probabilities(&members, &ev, &Weights::ModelEqual, &mut p, &mut ProbScratch::default());
        category_probabilities(&rep, &ev, &Weights::ModelEqual, &mut q, &mut ProbScratch::default());
        for k in 0..3 {
            prop_assert!((p[k] - q[k]).abs() < 1e-12 || (p[k].is_nan() && q[k].is_nan()));
        }
    }
}

#[test]
fn forecast_probabilities_with_model_climatologies() {
    // Two models at one cell: model A's hindcast 0..9, model B's 100..109 (a huge bias);
    // forecasts at the top of each model's own climate are "above normal" for both.
    let cube = |vals: Vec<f32>, ni: usize, nm: usize, name: &str| {
        let rows: Vec<Vec<f32>> = vals.chunks(nm).map(<[f32]>::to_vec).collect();
        assert_eq!(rows.len(), ni);
        crate::cube::test_cell_cube(name, &rows)
    };
    let ha = cube((0..10).map(|v| v as f32).collect(), 5, 2, "A");
    let hb = cube((100..110).map(|v| v as f32).collect(), 5, 2, "B");
    let fa = cube(vec![9.5, 8.0], 1, 2, "A");
    let fb = cube(vec![109.0, 101.0], 1, 2, "B");
    let p =
        forecast_probabilities(&[&ha, &hb], &[&fa, &fb], &TERCILES, &Weights::ModelEqual).unwrap();
    assert_eq!(p.dim(), (1, 3, 1, 1, 1));
    // A: edges 3, 6 -> both above; B: edges 103, 106 -> one above, one below.
    let got: Vec<f32> = (0..3).map(|c| p[[0, c, 0, 0, 0]]).collect();
    assert_eq!(got, vec![0.25, 0.0, 0.75]);
    assert!(forecast_probabilities(&[&ha], &[&fa, &fb], &TERCILES, &Weights::Pooled).is_err());
}

#[test]
fn cube_fields_agree_with_the_per_cell_kernels() {
    let mut cubes = small_cubes(SynthVar::Tas);
    cubes[1].values[[0, 0, 0, 0, 0]] = f32::NAN; // a missing member
    let refs: Vec<&Cube> = cubes.iter().collect();
    let levels = [0.1, 0.5, 0.9];
    for w in [
        Weights::Pooled,
        Weights::ModelEqual,
        Weights::Given(vec![0.2, 0.0, 0.8]),
        Weights::Given(vec![0.0; 3]),
    ] {
        let f = ensemble_fields(&refs, &w, &levels).unwrap();
        for (i, l, y, x) in [(0, 0, 0, 0), (3, 2, 5, 7), (11, 5, 17, 19)] {
            let members: Vec<Vec<f32>> = cubes
                .iter()
                .map(|c| c.values.slice(ndarray::s![i, .., l, y, x]).to_vec())
                .collect();
            let m = ensemble_mean(&members.iter().map(Vec::as_slice).collect::<Vec<_>>(), &w);
            assert!(
                (f64::from(f.mean[[i, 0, l, y, x]]) - m).abs() < 1e-4,
                "{w:?}"
            );
            for (k, &p) in levels.iter().enumerate() {
                let q = weighted_percentile(&members, &w, p);
                assert!((f64::from(f.percentiles[[i, k, l, y, x]]) - q).abs() < 1e-4);
            }
            if w == Weights::Pooled {
                let all: Vec<f32> = members
                    .concat()
                    .into_iter()
                    .filter(|v| v.is_finite())
                    .collect();
                let mu = all.iter().map(|&v| f64::from(v)).sum::<f64>() / all.len() as f64;
                let sd = (all
                    .iter()
                    .map(|&v| (f64::from(v) - mu).powi(2))
                    .sum::<f64>()
                    / all.len() as f64)
                    .sqrt();
                assert!((f64::from(f.spread[[i, 0, l, y, x]]) - sd).abs() < 1e-4);
            }
        }
    }
}

#[test]
fn collapsed_categories_flag_dry_and_tied_climates() {
    use ndarray::Array5;
    // Three cells of 9 years × 1 member: wet (all distinct), dry (4 of 9 zero: the lower
    // tercile edge is 0 = the minimum), and all-NaN.
    let mut v = Array5::<f32>::zeros((9, 1, 1, 1, 3));
    for i in 0..9 {
        v[[i, 0, 0, 0, 0]] = 1.0 + i as f32;
        v[[i, 0, 0, 0, 1]] = if i < 4 { 0.0 } else { i as f32 };
        v[[i, 0, 0, 0, 2]] = f32::NAN;
    }
    let m = collapsed_categories(v.view(), &TERCILES);
    assert_eq!(
        m.iter().copied().collect::<Vec<_>>(),
        vec![false, true, true]
    );
    // 2 of 9 zeros: the lower tercile edge (h = 8/3 → between 0 and 2) is above 0: fine.
    for i in 0..9 {
        v[[i, 0, 0, 0, 1]] = if i < 2 { 0.0 } else { i as f32 };
    }
    assert!(!collapsed_categories(v.view(), &TERCILES)[[0, 0, 1]]);
}

#[test]
fn model_edge_probabilities_agree_with_the_per_cell_kernels() {
    for var in [SynthVar::Pr, SynthVar::Tas] {
        let mut cubes = small_cubes(var);
        cubes[1].values[[2, 0, 1, 3, 4]] = f32::NAN; // a missing member
        cubes[0].values[[1, 1, 0, 2, 9]] = f32::INFINITY;
        cubes[2]
            .values
            .slice_mut(ndarray::s![.., .., 0, 0, 0])
            .fill(f32::NAN); // no climatology
                             // A forecast set: other cubes (a model's first starts), one with a missing member.
        let mut forecasts: Vec<Cube> = cubes
            .iter()
            .map(|c| {
                let mut f = c.clone();
                f.values = c.values.slice(ndarray::s![..2, .., .., .., ..]).to_owned();
                f.values.mapv_inplace(|v| v * 1.01);
                f
            })
            .collect();
        forecasts[0].values[[1, 2, 2, 5, 6]] = f32::NAN;
        let refs: Vec<&Cube> = cubes.iter().collect();
        let frefs: Vec<&Cube> = forecasts.iter().collect();
        let (_, _, nl, ny, nx) = cubes[0].values.dim();
        for w in [
            Weights::Pooled,
            Weights::ModelEqual,
            Weights::Given(vec![0.5, 0.0, 2.0]),
        ] {
            let p = model_edge_probabilities(&refs, &[&refs, &frefs], &TERCILES, &w).unwrap();
            for (set, p) in [&cubes, &forecasts].into_iter().zip(&p) {
                let ni = set[0].values.dim().0;
                assert_eq!(p.dim(), (ni, 3, nl, ny, nx));
                for (i, l, y, x) in ndarray::indices((ni, nl, ny, nx)) {
                    let mut edges = Vec::new();
                    let mut members = Vec::new();
                    for (c, target) in cubes.iter().zip(set.iter()) {
                        let mut clim: Vec<f32> = c
                            .values
                            .slice(ndarray::s![.., .., l, y, x])
                            .iter()
                            .copied()
                            .filter(|v| v.is_finite())
                            .collect();
                        clim.sort_unstable_by(f32::total_cmp);
                        let mut e = vec![0.0; 2];
                        category_edges(&clim, &TERCILES, &mut e);
                        edges.push(e);
                        members.push(if clim.is_empty() {
                            Vec::new()
                        } else {
                            target.values.slice(ndarray::s![i, .., l, y, x]).to_vec()
                        });
                    }
                    let mut want = [0.0; 3];
                    category_probabilities(
                        &members,
                        &edges,
                        &w,
                        &mut want,
                        &mut ProbScratch::default(),
                    );
                    for c in 0..3 {
                        let got = p[[i, c, l, y, x]];
                        assert!(
                            got == want[c] as f32 || (got.is_nan() && want[c].is_nan()),
                            "{w:?} {i} {c} {l} {y} {x}: {got} vs {}",
                            want[c]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn mean_spread_into_reused_arrays_gives_the_same_fields() {
    let (tas, pr) = (small_cubes(SynthVar::Tas), small_cubes(SynthVar::Pr));
    let (tas, pr): (Vec<&Cube>, Vec<&Cube>) = (tas.iter().collect(), pr.iter().collect());
    let (mut mean, mut spread) = ensemble_mean_spread(&tas, &Weights::Pooled).unwrap();
    // The arrays hold temperature statistics; filled again with precipitation's, they must
    // equal freshly allocated ones bit for bit.
    ensemble_mean_spread_into(&pr, &Weights::ModelEqual, &mut mean, &mut spread).unwrap();
    let (want_mean, want_spread) = ensemble_mean_spread(&pr, &Weights::ModelEqual).unwrap();
    let bits = |a: &Array5<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&mean), bits(&want_mean));
    assert_eq!(bits(&spread), bits(&want_spread));

    // Arrays of another shape are refused, naming the one that does not fit.
    let (ni, _, nl, ny, nx) = mean.dim();
    let mut short = Array5::<f32>::zeros((ni, 1, nl, ny, nx - 1));
    let err = ensemble_mean_spread_into(&pr, &Weights::Pooled, &mut mean, &mut short)
        .unwrap_err()
        .to_string();
    assert!(err.contains("spread array"), "{err}");
}

#[test]
fn pooled_percentiles_by_counting_equal_the_sorted_weighted_ones_on_every_cell() {
    for var in [SynthVar::Tas, SynthVar::Pr] {
        let mut cubes = small_cubes(var);
        // Missing members in a few cells (the selection fallback), a whole model missing in
        // one cell, and a block of cells where every member is 0 or ties.
        cubes[1].values[[0, 0, 0, 0, 0]] = f32::NAN;
        cubes[2].values[[2, 3, 1, 4, 9]] = f32::INFINITY;
        cubes[0].values.slice_mut(s![5, .., 2, 3, 0..12]).fill(0.0);
        cubes[1].values.slice_mut(s![5, .., 2, 3, 4..12]).fill(0.0);
        cubes[2].values.slice_mut(s![5, .., 2, 3, ..]).fill(1.5);
        cubes[0].values.slice_mut(s![7, .., 1, 2, 3]).fill(f32::NAN);
        for c in cubes.iter_mut() {
            c.values.slice_mut(s![8, .., 0, 1, 1]).fill(f32::NAN); // no member at all
        }
        let refs: Vec<&Cube> = cubes.iter().collect();
        let levels = [0.1, 0.5, 0.9];
        let fast = ensemble_percentiles(&refs, &Weights::Pooled, &levels).unwrap();
        let (ni, np, nl, ny, nx) = fast.dim();
        let mut scratch = PercentileScratch::default();
        let mut out = [0.0; 3];
        let mut cells = 0;
        for i in 0..ni {
            for l in 0..nl {
                for y in 0..ny {
                    for x in 0..nx {
                        let members: Vec<Vec<f32>> = cubes
                            .iter()
                            .map(|c| c.values.slice(s![i, .., l, y, x]).to_vec())
                            .collect();
                        weighted_percentiles(
                            &members,
                            &Weights::Pooled,
                            &levels,
                            &mut out,
                            &mut scratch,
                        );
                        let (lo, hi) = crate::stats::finite_min_max(
                            members.concat().into_iter().map(f64::from),
                        );
                        for k in 0..np {
                            let (got, want) = (fast[[i, k, l, y, x]], out[k] as f32);
                            // The weighted positions are rounded sums, so the interpolation
                            // fraction may be off by ~1e-16 (between 0 and 4.2 mm, say): an f32
                            // ulp, or a trace of the range.
                            let tol = want.abs() * f32::EPSILON + 1e-9 * (hi - lo).max(0.0) as f32;
                            assert!(
                                (got - want).abs() <= tol || (got.is_nan() && want.is_nan()),
                                "{var:?} ({i}, {k}, {l}, {y}, {x}): {got} vs {want}"
                            );
                        }
                        cells += 1;
                    }
                }
            }
        }
        assert_eq!(cells, ni * nl * ny * nx);
    }
}
