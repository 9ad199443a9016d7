//! Drift throughput (particle-steps per second): 10 000 particles for 30 days at hourly RK4
//! steps (7.2 M particle-steps, 4 current + 4 wind samples each) in daily 0.25° currents and
//! winds over the Bay of Bengal, with diffusion and, in the second case, stranding on the
//! Natural Earth country polygons. The workload is 10 members of this
//! (72 M particle-steps): multiply the time by 10.

mod common;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::Array3;
use s2s_ensemble::emergency::{drift, seed_disk, DriftSpec, Schedule, VelocityField};
use s2s_ensemble::grid::{Countries, LandRaster};

fn bench(c: &mut Criterion) {
    let lat: Vec<f64> = (0..=120).map(|j| j as f64 * 0.25).collect(); // 0–30°N
    let lon: Vec<f64> = (0..=120).map(|i| 75.0 + i as f64 * 0.25).collect(); // 75–105°E
    let days = 31;
    let times: Vec<f64> = (0..days).map(|d| d as f64 * 86_400.0).collect();
    let shape = (days, lat.len(), lon.len());
    // a gyre-like current and a monsoon wind varying in time
    let cu = Array3::from_shape_fn(shape, |(t, j, i)| {
        0.3 * ((j as f32) * 0.05 + t as f32 * 0.1).sin() - 0.1 * (i as f32 * 0.03).cos()
    });
    let cv = Array3::from_shape_fn(shape, |(t, j, i)| {
        0.2 * ((i as f32) * 0.04 - t as f32 * 0.07).cos() + 0.001 * j as f32
    });
    let wu = Array3::from_shape_fn(shape, |(t, _, _)| 6.0 + (t as f32 * 0.3).sin());
    let wv = Array3::from_shape_fn(shape, |(_, j, _)| 2.0 - j as f32 * 0.01);
    let cur = VelocityField::new(&lat, &lon, &times, cu.view(), cv.view()).unwrap();
    let wind = VelocityField::new(&lat, &lon, &times, wu.view(), wv.view()).unwrap();
    let start = seed_disk(12.0, 88.0, 50.0, 10_000, 7);
    let steps = 30 * 24;
    let spec = DriftSpec::default();
    let sched = Schedule {
        start_s: 0.0,
        steps,
        record_every: 24,
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/regions/countries_110m.geojson"
    );
    let countries = Countries::from_geojson(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let raster = LandRaster::new(&countries, (75.0, 105.0, 0.0, 30.0), 0.1).unwrap();

    let mut g = c.benchmark_group("drift");
    g.sample_size(10);
    g.throughput(Throughput::Elements((start.len() * steps) as u64));
    g.bench_function("rk4_10k_particles_30_days_hourly", |b| {
        b.iter(|| drift(&cur, Some(&wind), &start, sched, &spec, None).unwrap())
    });
    g.bench_function("rk4_10k_particles_30_days_hourly_stranding", |b| {
        b.iter(|| drift(&cur, Some(&wind), &start, sched, &spec, Some(&countries)).unwrap())
    });
    g.bench_function("rk4_10k_particles_30_days_hourly_stranding_raster", |b| {
        b.iter(|| drift(&cur, Some(&wind), &start, sched, &spec, Some(&raster)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench, common::memory_bandwidth);
criterion_main!(benches);
