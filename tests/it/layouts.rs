//! Each input convention of DESIGN.md, written as a small file, read into a Cube: the values
//! must land on the right (init, member, lead, lat, lon) with coordinates and units decoded.

use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{BBox, CubeKind, Lead, LeadUnit, Spatial};
use s2s_ensemble::io::{read_cube, ReadOptions};

use crate::common::*;

fn grid(c: &s2s_ensemble::Cube) -> (Vec<f64>, Vec<f64>) {
    match &c.coords.spatial {
        Spatial::Grid { lat, lon } => (lat.clone(), lon.clone()),
        other => panic!("expected a grid, got {other:?}"),
    }
}

/// C3S / CDS: `number, forecast_reference_time, forecastMonth, latitude (N→S), longitude 0–360`,
/// precipitation rate in m s**-1.
#[test]
fn c3s_layout_flips_latitude_keeps_longitude_and_converts_units() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c3s.nc");
    let (nn, ni, nl, ny, nx) = (3, 2, 2, 3, 4);
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "number",
            &[0.0, 1.0, 2.0],
            &[("standard_name", A::T("realization"))],
        );
        coord(
            &mut f,
            "forecast_reference_time",
            &[736_214_400.0, 767_750_400.0],
            &[
                ("units", A::T("seconds since 1970-01-01")),
                ("calendar", A::T("proleptic_gregorian")),
                ("standard_name", A::T("forecast_reference_time")),
            ],
        );
        coord(&mut f, "forecastMonth", &[1.0, 2.0], &[]);
        coord(
            &mut f,
            "latitude",
            &[20.0, 10.0, 0.0],
            &[("units", A::T("degrees_north"))],
        );
        coord(
            &mut f,
            "longitude",
            &[0.0, 90.0, 180.0, 270.0],
            &[("units", A::T("degrees_east"))],
        );
        // value = 1e-8 * (1 + n*1000 + i*100 + l*10 + y) * (x + 1), m/s
        let mut vals = Vec::new();
        for n in 0..nn {
            for i in 0..ni {
                for l in 0..nl {
                    for y in 0..ny {
                        for x in 0..nx {
                            vals.push(
                                1e-10
                                    * (1 + n * 1000 + i * 100 + l * 10 + y) as f32
                                    * (x + 1) as f32,
                            );
                        }
                    }
                }
            }
        }
        data_f32(
            &mut f,
            "tprate",
            &[
                "number",
                "forecast_reference_time",
                "forecastMonth",
                "latitude",
                "longitude",
            ],
            &vals,
            &[
                ("units", A::T("m s**-1")),
                ("standard_name", A::T("lwe_precipitation_rate")),
            ],
        );
    }
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert_eq!(c.values.dim(), (ni, nn, nl, ny, nx));
    assert_eq!(c.meta.units, "mm/day");
    assert_eq!(c.meta.kind, CubeKind::Forecast);
    assert_eq!(
        c.coords.init,
        vec![CfDateTime::ymd(1993, 5, 1), CfDateTime::ymd(1994, 5, 1)]
    );
    assert_eq!(
        c.coords.lead,
        vec![Lead::months(0.0, 1.0), Lead::months(1.0, 1.0)]
    );
    assert_eq!(c.coords.member, vec![0, 1, 2]);
    let (lat, lon) = grid(&c);
    assert_eq!(lat, vec![0.0, 10.0, 20.0]);
    // 0…270 stays in the file's own convention
    assert_eq!(lon, vec![0.0, 90.0, 180.0, 270.0]);
    // Output (i=1, m=2, l=1, lat=0 → file y=2, lon=270 → file x=3)
    let expect = 1e-10 * (1 + 2000 + 100 + 10 + 2) as f64 * 4.0 * 86_400_000.0;
    let got = f64::from(c.values[[1, 2, 1, 0, 3]]);
    assert!((got - expect).abs() < 1e-4 * expect, "{got} vs {expect}");
}

/// NMME / IRI: `S` (months since 1960-01-01, calendar "360"), `M`, `L` (0.5, 1.5 months), `Y`, `X`,
/// classic format, `missing_value = -999`.
#[test]
fn nmme_iri_layout_in_classic_format() {
    let dir = tempfile::tempdir().unwrap();
    let p4 = dir.path().join("nmme4.nc");
    let p = dir.path().join("nmme.nc");
    {
        let mut f = create(&p4);
        coord(
            &mut f,
            "S",
            &[400.0, 412.0],
            &[
                ("units", A::T("months since 1960-01-01")),
                ("calendar", A::T("360")),
            ],
        );
        coord(
            &mut f,
            "M",
            &[1.0, 2.0],
            &[("standard_name", A::T("realization"))],
        );
        coord(&mut f, "L", &[0.5, 1.5], &[("units", A::T("months"))]);
        coord(&mut f, "Y", &[5.0, 6.0], &[("units", A::T("degree_north"))]);
        coord(
            &mut f,
            "X",
            &[80.0, 81.0],
            &[("units", A::T("degree_east"))],
        );
        let mut vals: Vec<f32> = (0..32).map(|k| k as f32 / 10.0).collect();
        vals[5] = -999.0;
        data_f32(
            &mut f,
            "prec",
            &["S", "M", "L", "Y", "X"],
            &vals,
            &[("units", A::T("mm/day")), ("missing_value", A::F32(-999.0))],
        );
    }
    to_classic(&p4, &p);
    assert!(
        std::fs::read(&p).unwrap().starts_with(b"CDF\x01"),
        "a classic-format file"
    );
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert_eq!(c.meta.calendar, Calendar::Day360);
    assert_eq!(
        c.coords.init,
        vec![CfDateTime::ymd(1993, 5, 1), CfDateTime::ymd(1994, 5, 1)]
    );
    assert_eq!(c.coords.lead[1], Lead::months(1.0, 1.0));
    assert_eq!(c.coords.member, vec![1, 2]);
    assert!(c.values[[0, 0, 1, 0, 1]].is_nan()); // flat index 5
    assert_eq!(c.values[[1, 1, 1, 1, 1]], 3.1);
    assert_eq!(
        c.target_period(1, 1).unwrap().0,
        CfDateTime::ymd(1994, 6, 1)
    );
}

/// cfgrib / S2S database: `number, time, step` with `tp` accumulated since the start in metres.
#[test]
fn cfgrib_layout_deaccumulates_total_precipitation() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s2s.nc");
    {
        let mut f = create(&p);
        coord(&mut f, "number", &[0.0, 1.0], &[]);
        coord(
            &mut f,
            "time",
            &[1_577_836_800.0],
            &[
                ("units", A::T("seconds since 1970-01-01")),
                ("standard_name", A::T("forecast_reference_time")),
            ],
        );
        coord(
            &mut f,
            "step",
            &[24.0, 48.0, 72.0],
            &[
                ("units", A::T("hours")),
                ("standard_name", A::T("forecast_period")),
            ],
        );
        coord(
            &mut f,
            "latitude",
            &[10.0],
            &[("units", A::T("degrees_north"))],
        );
        coord(
            &mut f,
            "longitude",
            &[80.0],
            &[("units", A::T("degrees_east"))],
        );
        // member 0: 2, 5, 5 mm per day accumulated; member 1: 0, 1, 4
        let acc = [0.002, 0.007, 0.012, 0.0, 0.001, 0.005];
        data_f32(
            &mut f,
            "tp",
            &["number", "time", "step", "latitude", "longitude"],
            &acc,
            &[("units", A::T("m"))],
        );
    }
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert_eq!(c.coords.init, vec![CfDateTime::ymd(2020, 1, 1)]);
    let m0: Vec<f32> = (0..3).map(|l| c.values[[0, 0, l, 0, 0]]).collect();
    let m1: Vec<f32> = (0..3).map(|l| c.values[[0, 1, l, 0, 0]]).collect();
    for (g, e) in m0.iter().chain(&m1).zip([2.0, 5.0, 5.0, 0.0, 1.0, 4.0]) {
        assert!((g - e).abs() < 1e-4, "{m0:?} {m1:?}");
    }
    assert_eq!(
        c.coords.lead[0],
        Lead {
            start: 0.0,
            width: 24.0,
            unit: LeadUnit::Hour
        }
    );
    assert!(c.meta.history.iter().any(|h| h.contains("de-accumulating")));
}

/// Packed int16 temperature in K with scale, offset and _FillValue → degC with NaN.
#[test]
fn packed_shorts_are_masked_then_unpacked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("packed.nc");
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "time",
            &[0.0, 1.0],
            &[("units", A::T("days since 2001-01-01"))],
        );
        coord(&mut f, "lat", &[0.0], &[("units", A::T("degrees_north"))]);
        coord(
            &mut f,
            "lon",
            &[0.0, 1.0],
            &[("units", A::T("degrees_east"))],
        );
        data_i16(
            &mut f,
            "t2m",
            &["time", "lat", "lon"],
            &[0, 100, -32767, -2000],
            &[
                ("units", A::T("K")),
                ("scale_factor", A::F(0.01)),
                ("add_offset", A::F(273.15)),
                ("_FillValue", A::S(-32767)),
            ],
        );
    }
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert_eq!(c.meta.kind, CubeKind::Observed);
    assert_eq!(c.meta.units, "degC");
    assert!(c.values[[0, 0, 0, 0, 0]].abs() < 1e-4);
    assert!((c.values[[0, 0, 0, 0, 1]] - 1.0).abs() < 1e-4);
    assert!(c.values[[1, 0, 0, 0, 0]].is_nan());
    assert!((c.values[[1, 0, 0, 0, 1]] + 20.0).abs() < 1e-4);
}

/// A box across the antimeridian on a 0–360 file is read as two longitude runs.
#[test]
fn bbox_across_the_antimeridian_reads_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("global.nc");
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "time",
            &[0.0],
            &[("units", A::T("days since 2001-01-01"))],
        );
        coord(
            &mut f,
            "lat",
            &[-10.0, 0.0, 10.0],
            &[("units", A::T("degrees_north"))],
        );
        let lons: Vec<f64> = (0..36).map(|i| f64::from(i) * 10.0).collect();
        coord(&mut f, "lon", &lons, &[("units", A::T("degrees_east"))]);
        let vals: Vec<f32> = (0..108).map(|k| (k % 36) as f32 * 10.0).collect(); // value = lon
        data_f32(
            &mut f,
            "lonvalue",
            &["time", "lat", "lon"],
            &vals,
            &[("units", A::T("1"))],
        );
    }
    let opts = ReadOptions {
        bbox: Some(BBox::new(160.0, -170.0, -5.0, 15.0).unwrap()),
        ..Default::default()
    };
    let c = read_cube(&p, &opts).unwrap();
    let (lat, lon) = grid(&c);
    assert_eq!(lat, vec![0.0, 10.0]);
    assert_eq!(lon, vec![160.0, 170.0, 180.0, 190.0]);
    let row: Vec<f32> = (0..4).map(|x| c.values[[0, 0, 0, 1, x]]).collect();
    assert_eq!(row, vec![160.0, 170.0, 180.0, 190.0]);
}

/// Leads and years are cut on read.
#[test]
fn reads_only_the_leads_and_years_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.nc");
    {
        let mut f = create(&p);
        coord(
            &mut f,
            "init",
            &[0.0, 365.0, 730.0],
            &[
                ("units", A::T("days since 1993-05-01")),
                ("calendar", A::T("noleap")),
            ],
        );
        coord(
            &mut f,
            "lead",
            &[0.0, 1.0, 2.0, 3.0],
            &[("units", A::T("months"))],
        );
        coord(&mut f, "lat", &[0.0], &[("units", A::T("degrees_north"))]);
        coord(&mut f, "lon", &[0.0], &[("units", A::T("degrees_east"))]);
        let vals: Vec<f32> = (0..12).map(|k| k as f32).collect();
        data_f32(
            &mut f,
            "tas",
            &["init", "lead", "lat", "lon"],
            &vals,
            &[("units", A::T("degC"))],
        );
    }
    let opts = ReadOptions {
        leads: Some(vec![3, 1]),
        years: Some((1994, 1995)),
        ..Default::default()
    };
    let c = read_cube(&p, &opts).unwrap();
    assert_eq!(c.init_years(), vec![1994, 1995]);
    assert_eq!(
        c.coords.lead,
        vec![Lead::months(3.0, 1.0), Lead::months(1.0, 1.0)]
    );
    assert_eq!(c.values[[0, 0, 0, 0, 0]], 7.0);
    assert_eq!(c.values[[1, 0, 1, 0, 0]], 9.0);
}

/// Real station series: AHCCD observations (location, time) and CanESM2 (time, location).
#[test]
fn real_station_series_read_as_points() {
    let obs = read_cube(
        real("bias_correction/ahccd_1950-2013.nc"),
        &ReadOptions {
            variable: Some("pr".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let model = read_cube(
        real("bias_correction/CanESM2_1950-2100.nc"),
        &ReadOptions {
            variable: Some("pr".into()),
            years: Some((1950, 2013)),
            ..Default::default()
        },
    )
    .unwrap();
    for c in [&obs, &model] {
        assert_eq!(c.meta.kind, CubeKind::Observed);
        assert_eq!(c.meta.units, "mm/day");
        assert_eq!(c.meta.calendar, Calendar::NoLeap);
        match &c.coords.spatial {
            Spatial::Points { names, lat, .. } => {
                assert_eq!(names, &["Vancouver", "Kugluktuk", "Amos"]);
                assert!((lat[1] - 67.8).abs() < 0.1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.n_init(), 23_360);
    }
    // Vancouver is wetter than Kugluktuk in both.
    let mean = |c: &s2s_ensemble::Cube, x: usize| {
        s2s_ensemble::stats::nan_mean(&c.values.slice(ndarray::s![.., 0, 0, 0, x]).to_vec())
    };
    assert!(mean(&obs, 0) > 2.0 * mean(&obs, 1));
    assert!(mean(&model, 0) > mean(&model, 1));
}

/// The real NMME hindcast and IMD observations align by year.
#[test]
fn real_nmme_and_imd_align_by_year() {
    let h = read_cube(real("nmme_india/CCSM4_HCST.nc"), &ReadOptions::default()).unwrap();
    let o = read_cube(
        real("nmme_india/observations.nc"),
        &ReadOptions {
            assume_units: Some("mm/month".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (a, missing) = s2s_ensemble::cube::align_observations(&o, &h).unwrap();
    assert_eq!(missing, 0);
    assert_eq!(a.values.dim(), (38, 1, 1, 50, 51));
    // 1982 obs (first time step) land on the 1982 start, NaN (ocean) where they are NaN. The
    // file does not say which months its yearly mm/month values cover: read over a mean month
    // (30.436875 days), they are rescaled to the months of the target they are matched with
    // (October–December: 92 days / 3), not to a twelfth of the stamp's year.
    let k = (365.2425 / 12.0) / (92.0 / 3.0);
    for (x, y) in a
        .values
        .slice(ndarray::s![0, 0, 0, .., ..])
        .iter()
        .zip(o.values.slice(ndarray::s![0, 0, 0, .., ..]))
    {
        assert!(
            (f64::from(*x) - k * f64::from(*y)).abs() <= 1e-6 * f64::from(y.abs()) + 1e-6
                || (x.is_nan() && y.is_nan()),
            "{x} {y}"
        );
    }
    // S = September and L = months 2-4: the season is October-December (the northeast
    // monsoon), whatever the file names say: India-mean rainfall 1-2 mm/day in both.
    assert_eq!(
        h.target_period(0, 0).unwrap(),
        (CfDateTime::ymd(1982, 10, 1), CfDateTime::ymd(1983, 1, 1))
    );
    let india = |c: &s2s_ensemble::Cube| {
        let v: Vec<f32> = c
            .values
            .iter()
            .zip(a.values.iter())
            .filter(|(_, o)| o.is_finite())
            .map(|(x, _)| *x)
            .collect();
        s2s_ensemble::stats::nan_mean(&v)
    };
    let (obs_mean, model_mean) = (india(&a), india(&h));
    assert!((1.0..2.0).contains(&obs_mean), "{obs_mean}");
    assert!((1.0..2.5).contains(&model_mean), "{model_mean}");
}

/// The real SubX file: index series with daily leads.
#[test]
fn real_subx_index_series() {
    let c = read_cube(
        real("verification/GMAO-GEOS-V2p1.RMM1.nc"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(c.values.dim(), (510, 4, 45, 1, 1));
    assert!(c.coords.spatial.is_index());
    assert_eq!(c.coords.init[0], CfDateTime::ymd(1999, 1, 1));
    assert_eq!(c.coords.lead[0], Lead::days(0.0, 1.0));
    assert_eq!(c.coords.lead[44], Lead::days(44.0, 1.0));
}
