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
    let (m, n) = regional_mean(&[1.0, 3.0], &spatial, &region);
    // Weights 1 and 0.5: (1 + 1.5) / 1.5.
    assert_eq!(n, 2);
    assert!((m - 2.5 / 1.5).abs() < 1e-12);
    assert!(Region::parse("atlantis").is_err());
    assert_eq!(Region::parse("south_asia").unwrap().name, "south_asia");
}
