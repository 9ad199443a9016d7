//! Cyclone detection and tracking throughput (grid points per second) on 6-hourly 1° global
//! fields (181 × 360) with moving Holland vortices — the synthetic storms of
//! `s2s_ensemble::synth::storms` planted on a global grid. One "season" of one member is
//! 92 days × 4 steps = 368 fields; the target workload is 25 members of it
//! (9 200 fields, 600 M grid points). No NetCDF I/O inside the timed loop.

mod common;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use s2s_ensemble::cyclone::detect::wind_speed;
use s2s_ensemble::cyclone::{
    detect_series, stitch, DetectSpec, NodeGrid, SeriesFields, StitchSpec,
};
use s2s_ensemble::synth::storms::StormConfig;

fn bench(c: &mut Criterion) {
    let mut cfg = StormConfig::demo(6.0, 20).unwrap().on_global_grid();
    cfg.steps = 40;
    for s in &mut cfg.storms {
        s.genesis_step %= 20;
    }
    let grid = NodeGrid::new(&cfg.lat, &cfg.lon).unwrap();
    let f = cfg.member_fields(0);
    let wind = wind_speed(f.uas.view(), f.vas.view()).unwrap();
    let spec = DetectSpec::default();
    let points = f.psl.len() as u64;
    let with_wind = SeriesFields {
        wind_ms: Some(wind.view()),
        ..SeriesFields::pressure(f.psl.view())
    };
    let warm_core = SeriesFields {
        thickness: Some(f.thickness.view()),
        ..with_wind
    };

    let mut g = c.benchmark_group("cyclone");
    g.sample_size(10);
    g.throughput(Throughput::Elements(points));
    g.bench_function("detect_1deg_global_40steps", |b| {
        b.iter(|| detect_series(&grid, with_wind, &spec).unwrap())
    });
    g.bench_function("detect_warm_core_1deg_global_40steps", |b| {
        b.iter(|| detect_series(&grid, warm_core, &spec).unwrap())
    });
    let nodes = detect_series(&grid, with_wind, &spec).unwrap();
    let hours: Vec<f64> = (0..cfg.steps).map(|t| 6.0 * t as f64).collect();
    let stitch_spec = StitchSpec::tempest_tc(6.0);
    // throughput of the stitching: candidate nodes per second
    g.throughput(Throughput::Elements(
        nodes.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    g.bench_function("stitch_40steps", |b| {
        b.iter(|| stitch(&hours, &nodes, &stitch_spec).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench, common::memory_bandwidth);
criterion_main!(benches);
