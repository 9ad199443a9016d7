//! Throughput of the daily extremes kernels (values per second):
//! - calendar-day 90th percentiles (±2-day window, type 8) over a 30-year base of a 64-year
//!   daily series, 2 000 cells;
//! - yearly warm spells (TX90p, WSDI counts) of the same series against those thresholds;
//! - the subseasonal extremes outlook of one start: an S2S-database-sized M-climate (20 years ×
//!   9 starts × 11 members × 46 daily leads) and a 51-member forecast on 20 × 20 cells, with
//!   EFI, SOT, exceedances and heat/cold waves for week 1, week 2, weeks 3–4, weeks 5–6.
//!
//! Inputs are deterministic noise with a seasonal cycle; no I/O inside the timed loop. The
//! same-run comparison with xclim on real station data is `scripts/check/extremes_xclim.sh`.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, Array5};
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{Coords, Cube, Lead, Meta, Spatial, TargetPeriod};
use s2s_ensemble::extremes::{
    calendar_day_percentiles, extremes_forecast, yearly_spells, ExtremeVariable, ExtremesSpec,
    SpellKind,
};

/// Deterministic noise in [−1, 1) of a key (the synthetic daily set's).
fn noise(k: u64) -> f32 {
    s2s_ensemble::synth::daily::noise(0, &[k])
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("extremes");
    g.sample_size(10);

    let (years, cells) = (64usize, 2000usize);
    let nt = years * 365;
    let doy: Vec<usize> = (0..nt).map(|t| t % 365 + 1).collect();
    let year: Vec<i32> = (0..nt).map(|t| 1950 + (t / 365) as i32).collect();
    let series = Array2::from_shape_fn((nt, cells), |(t, c)| {
        20.0 + 8.0 * ((t % 365) as f32 / 58.1).sin() + 3.0 * noise((t * cells + c) as u64)
    });
    let base = 11 * 365..41 * 365;
    g.throughput(Throughput::Elements((base.len() * cells) as u64));
    g.bench_function(
        BenchmarkId::new("calendar_day_p90", format!("30y_x_{cells}")),
        |b| b.iter(|| calendar_day_percentiles(series.view(), &doy, base.clone(), 2, 0.9).unwrap()),
    );
    let thr = calendar_day_percentiles(series.view(), &doy, base.clone(), 2, 0.9).unwrap();
    g.throughput(Throughput::Elements((nt * cells) as u64));
    g.bench_function(
        BenchmarkId::new("yearly_warm_spells", format!("64y_x_{cells}")),
        |b| {
            b.iter(|| {
                yearly_spells(
                    series.view(),
                    &doy,
                    &year,
                    thr.view(),
                    SpellKind::Warm,
                    6,
                    0,
                )
                .unwrap()
            })
        },
    );

    let leads = 46;
    let (ny, nx) = (20, 20);
    let mut init = Vec::new();
    for y in 2001..2021 {
        for d in [
            (5, 4),
            (5, 11),
            (5, 18),
            (5, 25),
            (6, 1),
            (6, 8),
            (6, 15),
            (6, 22),
            (6, 29),
        ] {
            init.push(CfDateTime::ymd(y, d.0, d.1));
        }
    }
    let spatial = Spatial::Grid {
        lat: (0..ny).map(|i| 10.0 + i as f64).collect(),
        lon: (0..nx).map(|i| 70.0 + i as f64).collect(),
    };
    let lead: Vec<Lead> = (0..leads).map(|d| Lead::days(d as f64, 1.0)).collect();
    let ni = init.len();
    let hindcast = Cube::new(
        Array5::from_shape_fn((ni, 11, leads, ny, nx), |(i, m, l, y, x)| {
            30.0 + 2.0 * noise(((((i * 11 + m) * leads + l) * ny + y) * nx + x) as u64)
        }),
        Coords {
            init,
            member: (0..11).collect(),
            lead: lead.clone(),
            spatial: spatial.clone(),
        },
        Meta::new("bench", "tasmax", "degC", Calendar::Standard),
    )
    .unwrap();
    let forecast = Cube::new(
        Array5::from_shape_fn((1, 51, leads, ny, nx), |(_, m, l, y, x)| {
            31.0 + 2.0 * noise((((m * leads + l) * ny + y) * nx + x) as u64 + 99)
        }),
        Coords {
            init: vec![CfDateTime::ymd(2022, 6, 1)],
            member: (0..51).collect(),
            lead,
            spatial,
        },
        Meta::new("bench", "tasmax", "degC", Calendar::Standard),
    )
    .unwrap();
    let mut spec = ExtremesSpec::weekly(ExtremeVariable::Temperature);
    spec.periods.push(TargetPeriod::parse("weeks 5-6").unwrap());
    // The M-climate of ±14 days holds 5 of the 9 weekly starts a year: 20 × 5 × 11 values a lead.
    g.throughput(Throughput::Elements(
        (20 * 5 * 11 * leads * ny * nx + 51 * leads * ny * nx) as u64,
    ));
    g.bench_function(
        BenchmarkId::new("subseasonal_outlook", "mclimate_1100x46_20x20"),
        |b| b.iter(|| extremes_forecast(&hindcast, &forecast, 0, &spec).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, bench, common::memory_bandwidth);
criterion_main!(benches);
