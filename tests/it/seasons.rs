//! Observations stamped once a year (IRI/SASCOF seasonal totals): amounts converted over the
//! days of the season they cover (never the calendar year of the stamp), matched only with
//! targets of that season, and without a declared season rescaled to the period of the target
//! they are matched with.

use std::path::Path;

use ndarray::Array5;
use s2s_ensemble::calendar::{Calendar, CfDateTime, Season};
use s2s_ensemble::cube::{align_observations, Coords, Lead, Meta, Spatial};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::Cube;

use crate::common::{coord, create, data_f32, s2s, stderr, A};

/// JJAS totals in `mm`, stamped 1 June of 1999–2003 (2000 a leap year), 1000 mm + 10 mm a year.
fn jjas_totals(path: &Path) {
    jjas_totals_with_bounds(path, false);
}

/// [`jjas_totals`], with CF `time_bnds` (1 June .. 30 September, inclusive end) when asked.
fn jjas_totals_with_bounds(path: &Path, with_bounds: bool) {
    let mut f = create(path);
    let day = |y: i32, m: u32, d: u32| {
        CfDateTime::ymd(1990, 1, 1)
            .days_until(&CfDateTime::ymd(y, m, d), Calendar::Standard)
            .unwrap()
    };
    let stamps: Vec<f64> = (1999..=2003).map(|y| day(y, 6, 1)).collect();
    if with_bounds {
        f.add_dimension("nv", 2).unwrap();
        f.add_dimension("time", 5).unwrap();
        let b: Vec<f64> = (1999..=2003)
            .flat_map(|y| [day(y, 6, 1), day(y, 9, 30)])
            .collect();
        let mut v = f.add_variable::<f64>("time_bnds", &["time", "nv"]).unwrap();
        v.put_values(&b, ..).unwrap();
        let mut t = f.add_variable::<f64>("time", &["time"]).unwrap();
        t.put_attribute("units", "days since 1990-01-01").unwrap();
        t.put_attribute("bounds", "time_bnds").unwrap();
        t.put_values(&stamps, ..).unwrap();
    } else {
        coord(
            &mut f,
            "time",
            &stamps,
            &[("units", A::T("days since 1990-01-01"))],
        );
    }
    coord(
        &mut f,
        "lat",
        &[10.0, 12.0],
        &[("units", A::T("degrees_north"))],
    );
    coord(
        &mut f,
        "lon",
        &[70.0, 72.0],
        &[("units", A::T("degrees_east"))],
    );
    let v: Vec<f32> = (0..5).flat_map(|t| [1000.0 + 10.0 * t as f32; 4]).collect();
    data_f32(
        &mut f,
        "pr",
        &["time", "lat", "lon"],
        &v,
        &[("units", A::T("mm"))],
    );
}

/// A hindcast of one start a year (1 May 1999–2003) whose only lead is `months` (start, width).
fn hindcast(start_month_offset: f64, width: f64) -> Cube {
    let coords = Coords {
        init: (1999..=2003).map(|y| CfDateTime::ymd(y, 5, 1)).collect(),
        member: vec![0],
        lead: vec![Lead::months(start_month_offset, width)],
        spatial: Spatial::Grid {
            lat: vec![10.0, 12.0],
            lon: vec![70.0, 72.0],
        },
    };
    Cube::new(
        Array5::from_elem((5, 1, 1, 2, 2), 1.0),
        coords,
        Meta::new("HC", "pr", "mm/day", Calendar::Standard),
    )
    .unwrap()
}

#[test]
fn yearly_jjas_totals_are_divided_by_the_season_not_the_year() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("jjas.nc");
    jjas_totals(&p);
    let jjas = Season::parse("JJAS").unwrap();
    // Declared season: each total over the 122 days of June–September, leap year or not.
    let c = read_cube(
        &p,
        &ReadOptions {
            season: Some(jjas),
            ..Default::default()
        },
    )
    .unwrap();
    for t in 0..4 {
        let want = (1000.0 + 10.0 * t as f64) / 122.0;
        assert!(
            (f64::from(c.values[[t, 0, 0, 0, 0]]) - want).abs() < 1e-5,
            "{t}"
        );
    }
    let jjas_target = hindcast(1.0, 4.0); // months 2–5 from 1 May: June–September
    let (a, missing) = align_observations(&c, &jjas_target).unwrap();
    assert_eq!(missing, 0);
    assert!((f64::from(a.values[[1, 0, 0, 1, 1]]) - 1010.0 / 122.0).abs() < 1e-5);
    // The same observations against an October–December target: an error naming both.
    let ond_target = hindcast(5.0, 3.0);
    let e = align_observations(&c, &ond_target).unwrap_err().to_string();
    assert!(e.contains("JJAS") && e.contains("OND"), "{e}");

    // No season given: a stand-in of the mean year, rescaled at alignment to the target's
    // length — the same values as with the season declared, and no leap-year factor.
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert!(c.meta.provisional_divisor.is_some());
    assert!((f64::from(c.values[[1, 0, 0, 0, 0]]) - 1010.0 / 365.2425).abs() < 1e-5);
    let (a, _) = align_observations(&c, &jjas_target).unwrap();
    for t in 0..4 {
        let want = (1000.0 + 10.0 * t as f64) / 122.0;
        assert!(
            (f64::from(a.values[[t, 0, 0, 0, 0]]) - want).abs() < 1e-4,
            "{t}"
        );
    }
    assert!(a.meta.provisional_divisor.is_none());
}

/// `--obs-season` on the command line: a mismatching season stops `bias-correct` with both
/// periods named; a bad season name is refused by the parser.
#[test]
fn obs_season_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let obs = d.join("jjas.nc");
    jjas_totals(&obs);
    // hindcast file: NetCDF with init May 1, lead months 6-8 (Oct–Dec) — via the writer
    let hc = hindcast(5.0, 3.0);
    let hp = d.join("hc.nc");
    s2s_ensemble::io::write_cube(&hp, &hc, &Default::default()).unwrap();
    let run = |season: &str| {
        s2s(&[
            "bias-correct",
            "--method",
            "scaling",
            "--var",
            "pr",
            "--hindcast",
            hp.to_str().unwrap(),
            "--obs",
            obs.to_str().unwrap(),
            "--obs-season",
            season,
            "--out",
            d.join("bc").to_str().unwrap(),
        ])
    };
    let o = run("JJAS");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("JJAS") && e.contains("OND"), "{e}");
    let o = run("JFA");
    assert!(
        !o.status.success() && stderr(&o).contains("season 'JFA'"),
        "{}",
        stderr(&o)
    );
}

/// CF time bounds say which season a yearly value covers: no `--obs-season` needed.
#[test]
fn season_from_time_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("jjas_bnds.nc");
    jjas_totals_with_bounds(&p, true);
    let c = read_cube(&p, &ReadOptions::default()).unwrap();
    assert_eq!(c.meta.season, Some(Season::parse("JJAS").unwrap()));
    assert!(c.meta.provisional_divisor.is_none());
    assert!((f64::from(c.values[[1, 0, 0, 0, 0]]) - 1010.0 / 122.0).abs() < 1e-5);
    let e = align_observations(&c, &hindcast(5.0, 3.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("JJAS") && e.contains("OND"), "{e}");
}
