//! SPI against the reference tools and `s2s spi` on NetCDF files.
//!
//! - `climate_indices` (monocongo, commit 58ca46a): SPI-1 and SPI-6 (gamma) of a US monthly
//!   series 1895–2017 calibrated on the full record, and the gamma parameters of 1981–2010.
//! - xclim `standardized_precipitation_index(freq="MS", dist="gamma", method="APP")` on CMIP5
//!   CanESM2 daily precipitation at Kugluktuk, calibration 1950–1980, windows 1 and 12.
//! - scipy `gamma.fit(x, floc=0)` (the exact MLE) on the same February and August samples.

use ndarray::Array1;
use s2s_ensemble::indices::spi::fit_calendar_months;
use s2s_ensemble::indices::{spi_series, MonthlyAxis, SpiSpec};

use crate::common::{plain_obs, real, s2s, stderr};

struct Fixture {
    precip: Vec<f32>,
    spi_01: Vec<f64>,
    spi_06: Vec<f64>,
}

fn climate_indices() -> Fixture {
    let text = std::fs::read_to_string(real("spi/climate_indices_monthly.csv")).unwrap();
    let mut f = Fixture {
        precip: vec![],
        spi_01: vec![],
        spi_06: vec![],
    };
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        f.precip.push(num(c[2]) as f32);
        f.spi_01.push(num(c[3]));
        f.spi_06.push(num(c[4]));
    }
    f
}

fn max_abs_diff(ours: &[f32], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    let mut worst = 0.0f64;
    for (t, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(a.is_nan(), b.is_nan(), "step {t}: ours {a}, reference {b}");
        if !b.is_nan() {
            worst = worst.max((f64::from(a) - b).abs());
        }
    }
    worst
}

#[test]
fn spi_1_and_6_equal_climate_indices() {
    let f = climate_indices();
    let axis = MonthlyAxis::new(1895, 1, f.precip.len()).unwrap();
    for (scale, reference) in [(1, &f.spi_01), (6, &f.spi_06)] {
        let spec = SpiSpec {
            scale_months: scale,
            calibration: (1895, 2017),
            ..Default::default()
        };
        let (spi, _) = spi_series(Array1::from(f.precip.clone()).view(), &axis, &spec).unwrap();
        let diff = max_abs_diff(&spi, reference);
        // climate_indices' own test tolerance is 1e-3; the remaining difference is f32 output.
        assert!(diff < 1e-6, "SPI-{scale}: max |difference| {diff}");
    }
}

#[test]
fn gamma_parameters_equal_climate_indices_1981_2010() {
    let f = climate_indices();
    let axis = MonthlyAxis::new(1895, 1, f.precip.len()).unwrap();
    let spec = SpiSpec {
        scale_months: 1,
        calibration: (1981, 2010),
        ..Default::default()
    };
    let sums: Vec<f64> = f.precip.iter().map(|&v| f64::from(v)).collect();
    let fit = fit_calendar_months(&sums, &axis, (1981, 2010), &spec);
    let text = std::fs::read_to_string(real(
        "spi/climate_indices_gamma_params_monthly_cal1981_2010.csv",
    ))
    .unwrap();
    let num = |s: &str| -> f64 {
        s.trim_start_matches("np.float64(")
            .trim_end_matches(')')
            .parse()
            .unwrap()
    };
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let m: usize = c[0].parse().unwrap();
        let d = fit[m - 1].expect("fitted");
        let (alpha, beta) = (num(c[1]), num(c[2]));
        assert!((d.shape / alpha - 1.0).abs() < 1e-9, "month {m} alpha");
        assert!((d.scale / beta - 1.0).abs() < 1e-9, "month {m} beta");
    }
}

/// SPI of CanESM2 at Kugluktuk for 2000-02, -04, -06, -08, -10, and the output file (with the
/// directory that holds it).
fn spi_at_kugluktuk(extra: &[&str], scale: &str) -> (Vec<f32>, netcdf::File, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spi.nc");
    let input = real("bias_correction/CanESM2_1950-2100.nc");
    let mut args = vec![
        "spi",
        "-q",
        "--scale",
        scale,
        "--calibration",
        "1950-1980",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = s2s(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = crate::common::nc_open(&out).unwrap();
    let spi = file.variable("spi").unwrap();
    assert_eq!(
        spi.dimensions()[0].len(),
        151 * 12,
        "monthly steps 1950–2100"
    );
    // 2000-02, -04, -06, -08, -10 at Kugluktuk (location 1).
    let values = [2, 4, 6, 8, 10]
        .iter()
        .map(|m| {
            let t = (2000 - 1950) * 12 + m - 1;
            spi.get_value::<f32, _>([t, 1]).unwrap()
        })
        .collect();
    (values, file, dir)
}

#[test]
fn daily_canesm2_spi_equals_xclim() {
    let oracle =
        std::fs::read_to_string(real("spi/xclim_spi_oracle_canesm2_kugluktuk.csv")).unwrap();
    let mut checked = 0;
    for line in oracle.lines().filter(|l| l.starts_with("MS,")) {
        let c: Vec<&str> = line.split(',').collect();
        if c[2] != "gamma" || c[3] != "APP" {
            continue; // other distributions / fitting methods are not the same method
        }
        let (ours, file, _dir) = spi_at_kugluktuk(&[], c[1]);
        for (k, v) in ours.iter().enumerate() {
            let expect: f64 = c[4 + k].parse().unwrap();
            // xclim's own tolerance is 0.02; the values agree to the printed digits.
            assert!(
                (f64::from(*v) - expect).abs() < 2e-5,
                "window {} value {k}: ours {v}, xclim {expect}",
                c[1]
            );
        }
        let attr = file.variable("spi").unwrap();
        let cal = attr.attribute_value("calibration_period").unwrap().unwrap();
        assert_eq!(format!("{cal:?}"), "Str(\"1950-01..1980-12\")");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn exact_mle_equals_scipy_gamma_fit_floc0() {
    let (_, file, _dir) = spi_at_kugluktuk(&["--fit", "mle"], "1");
    let shape = file.variable("gamma_shape").unwrap();
    let scale = file.variable("gamma_scale").unwrap();
    // scipy.stats.gamma.fit(x[x > 0], floc=0) of the 1950–1980 monthly means (mm/day).
    for (month, alpha, beta) in [
        (2, 10.628_559_5, 0.245_209_02),
        (8, 9.016_792_15, 0.218_272_72),
    ] {
        let a = shape.get_value::<f32, _>([month - 1, 1]).unwrap();
        let b = scale.get_value::<f32, _>([month - 1, 1]).unwrap();
        assert!(
            (f64::from(a) / alpha - 1.0).abs() < 1e-5,
            "month {month}: {a}"
        );
        assert!(
            (f64::from(b) / beta - 1.0).abs() < 1e-5,
            "month {month}: {b}"
        );
    }
    // Thom's shape is within 0.01 % of it here.
    let (_, thom, _dir2) = spi_at_kugluktuk(&[], "1");
    let t = thom
        .variable("gamma_shape")
        .unwrap()
        .get_value::<f32, _>([1, 1])
        .unwrap();
    assert!((f64::from(t) / 10.628_559_5 - 1.0).abs() < 1e-4);
}

#[test]
fn gridded_monthly_file_roundtrip_and_short_record() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pr.nc");
    // 20 years of monthly rain from 2000 (360-day calendar), one dry-season cell with zeros.
    plain_obs(&input, "pr", "mm/day", 240, |t, y, x| {
        let wobble = ((t * 7919 + y * 31 + x * 17) % 101) as f32 / 101.0;
        if y == 1 && x == 2 && t % 12 < 3 && t % 5 == 0 {
            0.0
        } else {
            1.0 + 4.0 * wobble + (t % 12) as f32 * 0.3
        }
    });
    let out = dir.path().join("spi3.nc");
    let o = s2s(&[
        "spi",
        "-q",
        "--scale",
        "3",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = crate::common::nc_open(&out).unwrap();
    let spi = f.variable("spi").unwrap();
    let dims: Vec<String> = spi.dimensions().iter().map(|d| d.name()).collect();
    assert_eq!(dims, ["time", "lat", "lon"]);
    let v: Vec<f32> = spi.get_values(..).unwrap();
    assert_eq!(v.len(), 240 * 6);
    // The first two months have no complete 3-month window: fill value.
    assert!(v[..12].iter().all(|&x| x > 1e19), "{:?}", &v[..12]);
    assert!(v[12..].iter().all(|&x| x.abs() <= 3.09));
    // The record (2000–2019) is shorter than 1991–2020: said in the attributes.
    let comment = format!(
        "{:?}",
        spi.attribute_value("calibration_comment").unwrap().unwrap()
    );
    assert!(comment.contains("only 2000–2019"), "{comment}");
    let q: Vec<f32> = f.variable("prob_zero").unwrap().get_values(..).unwrap();
    // January (month 0) of cell (1, 2): SPI-3 windows ending in January include Nov–Jan.
    assert!(q.iter().all(|&p| (0.0..=1.0).contains(&p)));
}

#[test]
fn bad_input_is_refused_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spi.nc");
    // Temperature is not precipitation.
    let tas = dir.path().join("tas.nc");
    plain_obs(&tas, "tas", "K", 48, |_, _, _| 290.0);
    let o = s2s(&[
        "spi",
        "--var",
        "tas",
        tas.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is not precipitation"),
        "{}",
        stderr(&o)
    );
    // An all-dry record (one rainy month in ten years) has no SPI anywhere.
    let dry = dir.path().join("dry.nc");
    plain_obs(
        &dry,
        "pr",
        "mm/day",
        120,
        |t, _, _| if t == 5 { 5.0 } else { 0.0 },
    );
    let o = s2s(&["spi", dry.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("all-dry or all-missing"),
        "{}",
        stderr(&o)
    );
    // A calibration period outside the record.
    let wet = dir.path().join("wet.nc");
    plain_obs(&wet, "pr", "mm/day", 120, |t, _, _| 1.0 + (t % 7) as f32);
    let o = s2s(&[
        "spi",
        "--calibration",
        "1961-1990",
        wet.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("does not overlap the record (2000–2009)"),
        "{}",
        stderr(&o)
    );
    // Negative rain (wrong units or a broken file).
    let neg = dir.path().join("neg.nc");
    plain_obs(&neg, "pr", "mm/day", 36, |t, _, _| t as f32 - 10.0);
    let o = s2s(&["spi", neg.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(!out.exists(), "no output after an error");
}
