//! Tests of the cross-validating driver (the kernels are tested beside them).

use proptest::prelude::*;

use super::*;
use crate::calendar::CfDateTime;
use crate::cube::Coords;

/// A cube of `values[year][member]` at one lead and one cell.
fn cube(values: &[Vec<f32>], observed: bool) -> Cube {
    crate::cube::test_cell_cube(if observed { "OBS" } else { "M" }, values)
}

/// The corrected hindcast.
fn hc(c: &Corrected) -> &Cube {
    c.hindcast.as_ref().expect("hindcast corrected")
}

fn col(c: &Cube, i: usize) -> Vec<f32> {
    c.values.slice(s![i, .., 0, 0, 0]).to_vec()
}

#[test]
fn leave_one_year_out_scaling_by_hand() {
    // model years: means 1, 2, 3; obs 11, 12, 16
    let h = cube(&[vec![0.0, 2.0], vec![1.0, 3.0], vec![2.0, 4.0]], false);
    let o = cube(&[vec![11.0], vec![12.0], vec![16.0]], true);
    let p = BiasParams {
        min_training: 2,
        ..Default::default()
    };
    let c = correct(
        &MeanScaling {
            kind: Kind::Additive,
        },
        &h,
        &o,
        None,
        &p,
    )
    .unwrap();
    // Year 0 trained on years 1, 2: model mean 2.5, obs mean 14: +11.5
    assert_eq!(col(hc(&c), 0), vec![11.5, 13.5]);
    // Year 2 trained on years 0, 1: model mean 1.5, obs 11.5: +10
    assert_eq!(col(hc(&c), 2), vec![12.0, 14.0]);
    // In sample, every year: model mean 2, obs 13: +11
    let p = BiasParams {
        cv: CrossValidation::None,
        min_training: 2,
        ..Default::default()
    };
    let f = cube(&[vec![5.0, 6.0]], false);
    let f = Cube {
        coords: Coords {
            init: vec![CfDateTime::ymd(2003, 5, 1)],
            ..f.coords.clone()
        },
        ..f
    };
    let c = correct(
        &MeanScaling {
            kind: Kind::Additive,
        },
        &h,
        &o,
        Some(&f),
        &p,
    )
    .unwrap();
    assert_eq!(col(hc(&c), 1), vec![12.0, 14.0]);
    assert_eq!(col(c.forecast.as_ref().unwrap(), 0), vec![16.0, 17.0]);
    assert_eq!(c.untrained, 0);
    assert!(hc(&c)
        .meta
        .history
        .last()
        .unwrap()
        .contains("cross-validation none"));
    // Only the forecast: the same forecast, no hindcast; with no forecast, a clear error.
    let only = BiasParams {
        correct_hindcast: false,
        ..p
    };
    let scaling = MeanScaling {
        kind: Kind::Additive,
    };
    let c = correct(&scaling, &h, &o, Some(&f), &only).unwrap();
    assert!(c.hindcast.is_none());
    assert_eq!(col(c.forecast.as_ref().unwrap(), 0), vec![16.0, 17.0]);
    let e = correct(&scaling, &h, &o, None, &only)
        .unwrap_err()
        .to_string();
    assert!(e.contains("neither the hindcast nor a forecast"), "{e}");
}

#[test]
fn precipitation_dry_cells_drizzle_and_missing_values() {
    let p = BiasParams {
        min_training: 3,
        wet_threshold: 0.1,
        ..Default::default()
    };
    let eqm = QuantileMapping {
        quantiles: None,
        kind: Kind::Multiplicative,
    };
    // A desert: observations always 0 -> every corrected value 0, never NaN.
    let h = cube(
        &(0..6)
            .map(|i| vec![0.3 * i as f32, 1.0])
            .collect::<Vec<_>>(),
        false,
    );
    let o = cube(&(0..6).map(|_| vec![0.0]).collect::<Vec<_>>(), true);
    let c = correct(&eqm, &h, &o, None, &p).unwrap();
    assert!(hc(&c).values.iter().all(|&v| v == 0.0));
    // Drizzle: the model is wet every time, the observations half the time: the model's lower
    // half becomes dry; dry values stay dry; nothing negative.
    let h = cube(
        &(0..8)
            .map(|i| vec![0.2 + 0.1 * i as f32, 2.0 + i as f32])
            .collect::<Vec<_>>(),
        false,
    );
    let o = cube(
        &(0..8)
            .map(|i| vec![if i % 2 == 0 { 0.0 } else { 5.0 + i as f32 }])
            .collect::<Vec<_>>(),
        true,
    );
    for m in [
        &MeanScaling {
            kind: Kind::Multiplicative,
        } as &dyn BiasCorrector,
        &eqm,
        &QuantileDeltaMapping {
            kind: Kind::Multiplicative,
            trace: 0.1,
        },
    ] {
        let c = correct(m, &h, &o, None, &p).unwrap();
        let v: Vec<f32> = hc(&c).values.iter().copied().collect();
        assert!(
            v.iter().all(|&x| x >= 0.0 && x.is_finite()),
            "{}: {v:?}",
            m.describe()
        );
        let dry = v.iter().filter(|&&x| x == 0.0).count();
        assert!(
            dry >= 4,
            "{}: frequency adaptation dried {dry} of 16: {v:?}",
            m.describe()
        );
    }
    // Missing observations: NaN where training is too short, counted.
    let h = cube(
        &(0..4).map(|i| vec![i as f32, 1.0]).collect::<Vec<_>>(),
        false,
    );
    let o = cube(&(0..4).map(|_| vec![f32::NAN]).collect::<Vec<_>>(), true);
    let c = correct(&eqm, &h, &o, None, &p).unwrap();
    assert!(hc(&c).values.iter().all(|v| v.is_nan()));
    assert_eq!(c.untrained, 4);
}

#[test]
fn tags_sort_like_their_values() {
    let vals = [-3.5f32, -0.0, 0.0, 1e-30, 2.0, 7.25, -1e9, 1e9];
    let mut tagged: Vec<u64> = vals
        .iter()
        .enumerate()
        .map(|(k, &v)| tag(v, 1990 + k as i32))
        .collect();
    tagged.sort_unstable();
    let back: Vec<(f32, i32)> = tagged.iter().map(|&t| untag(t)).collect();
    for w in back.windows(2) {
        assert!(w[0].0 <= w[1].0, "{back:?}");
    }
    for (k, &v) in vals.iter().enumerate() {
        assert!(back.contains(&(v, 1990 + k as i32)));
    }
    assert_eq!(untag(tag(-2.5, -7)), (-2.5, -7));
}

#[test]
fn refuses_unaligned_observations() {
    let h = cube(&[vec![1.0], vec![2.0]], false);
    let o = cube(&[vec![1.0], vec![2.0], vec![3.0]], true);
    let e = correct(&VarianceScaling, &h, &o, None, &BiasParams::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("align them first"), "{e}");
}

/// Sees through the values which years it was trained on: model values are `year*100 + member`,
/// observed values `year*100 + 99`; it writes 1 where the training set is clean of the year of
/// the values it corrects, 0 where it is not.
struct Spy;
impl BiasCorrector for Spy {
    fn describe(&self) -> String {
        "spy".into()
    }
    fn kind(&self) -> Kind {
        Kind::Additive
    }
    fn correct(&self, train: &Training, sim: &[f32], out: &mut [f32], _: &mut Scratch) {
        let year = (sim[0] / 100.0).floor();
        let clean = train
            .model
            .iter()
            .chain(train.obs)
            .all(|v| (v / 100.0).floor() != year);
        out.fill(if clean { 1.0 } else { 0.0 });
    }
}

proptest! {
    /// Cross-validation never trains a hindcast year on itself (nor on the block around it).
    #[test]
    fn cv_never_uses_the_left_out_year(years in 3usize..30, members in 1usize..6, k in 1u32..4) {
        let h = cube(&(0..years).map(|i| (0..members).map(|m| (i * 100 + m) as f32).collect()).collect::<Vec<_>>(), false);
        let o = cube(&(0..years).map(|i| vec![(i * 100 + 99) as f32]).collect::<Vec<_>>(), true);
        let p = BiasParams { cv: CrossValidation::LeaveOut(k), min_training: 1, ..Default::default() };
        let c = correct(&Spy, &h, &o, None, &p).unwrap();
        // Clean, or untrained (NaN) when the left-out block is all there is.
        prop_assert!(hc(&c).values.iter().all(|&v| v == 1.0 || v.is_nan()));
        if years > 2 * k as usize {
            prop_assert_eq!(c.untrained, 0);
        }
        // ... and in-sample correction does see it (the spy can tell).
        let p = BiasParams { cv: CrossValidation::None, min_training: 1, ..Default::default() };
        let c = correct(&Spy, &h, &o, None, &p).unwrap();
        prop_assert!(hc(&c).values.iter().all(|&v| v == 0.0));
    }
}

proptest! {
    /// In-sample, the starts of a group are corrected together in ascending order: the same
    /// values as the kernel applied start by start (ties and repeated values included).
    #[test]
    fn in_sample_group_equals_start_by_start(
        values in prop::collection::vec(prop::collection::vec(prop_oneof![Just(1.0f32), Just(2.5f32), 0.5f32..40.0], 4), 3..12),
        obs in prop::collection::vec(0.5f32..60.0, 12),
        nq in prop::option::of(2usize..30),
        mult in any::<bool>(),
    ) {
        let years = values.len();
        let h = cube(&values, false);
        let o = cube(&obs[..years].iter().map(|&v| vec![v]).collect::<Vec<_>>(), true);
        let kind = if mult { Kind::Multiplicative } else { Kind::Additive };
        let eqm = QuantileMapping { quantiles: nq, kind };
        let p = BiasParams { cv: CrossValidation::None, min_training: 1, wet_threshold: 0.1, ..Default::default() };
        let c = correct(&eqm, &h, &o, None, &p).unwrap();
        let got = c.hindcast.unwrap().values;
        // Every value here is wet: the training sets are the sorted samples as they are.
        let mut model: Vec<f32> = values.iter().flatten().copied().collect();
        model.sort_by(f32::total_cmp);
        let mut observed = obs[..years].to_vec();
        observed.sort_by(f32::total_cmp);
        let train = Training { model: &model, obs: &observed };
        for (i, members) in values.iter().enumerate() {
            let mut want = vec![0.0; members.len()];
            eqm.correct(&train, members, &mut want, &mut Scratch::default());
            if mult {
                // (nothing below the wet-day threshold)
                want.iter_mut().filter(|w| **w < 0.1).for_each(|w| *w = 0.0);
            }
            let row: Vec<f32> = got.slice(s![i, .., 0, 0, 0]).to_vec();
            prop_assert_eq!(row, want);
        }
    }
}
