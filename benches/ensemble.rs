//! Ensemble kernels and the whole combination on the synth medium preset (3 models, 10 + 25 + 15 members, 24 starts,
//! 6 leads, 3358 cells: 24.2 M member values of temperature): weighted mean + spread (one
//! streaming pass), percentiles 10/50/90 (model-equal and pooled), and tercile probabilities
//! with each model's own hindcast climatology. Throughput in member values per second; no I/O
//! in the timed loop.
//!
//! The memory-bandwidth bound is measured in the same run: `memory_bandwidth/read_members`
//! reads the same member values once front to back (no kernel that must read them can be
//! faster), `memory_bandwidth/triad_f32_1.5GiB` is the STREAM triad. Compare their bytes/s
//! with `ensemble/mean_spread_model_equal_into_bytes` (outputs written into arrays allocated
//! once, as the triad's are); `ensemble/mean_spread_model_equal_bytes` also allocates the two
//! output cubes each time, whose first touch of fresh pages costs the rest.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use s2s_ensemble::cube::align_observations;
use s2s_ensemble::ensemble::{
    combine, ensemble_mean_spread, ensemble_mean_spread_into, ensemble_percentiles,
    forecast_probabilities, CombineInput, CombineSpec, WeightScheme, Weights, TERCILES,
};
use s2s_ensemble::synth::{Preset, SynthConfig, SynthVar};
use s2s_ensemble::Cube;

fn bench(c: &mut Criterion) {
    let cfg = SynthConfig::preset(Preset::Medium, false).unwrap();
    let cubes: Vec<Cube> = (0..cfg.models.len())
        .map(|m| cfg.model_cube(m, false, SynthVar::Tas).unwrap())
        .collect();
    let refs: Vec<&Cube> = cubes.iter().collect();
    let values: usize = cubes.iter().map(|c| c.values.len()).sum();
    let mut g = c.benchmark_group("ensemble");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((values * 4) as u64));
    g.bench_function("mean_spread_model_equal_bytes", |b| {
        b.iter(|| ensemble_mean_spread(&refs, &Weights::ModelEqual).unwrap())
    });
    let (mut mean, mut spread) = ensemble_mean_spread(&refs, &Weights::ModelEqual).unwrap();
    g.bench_function("mean_spread_model_equal_into_bytes", |b| {
        b.iter(|| {
            ensemble_mean_spread_into(&refs, &Weights::ModelEqual, &mut mean, &mut spread).unwrap()
        })
    });
    g.throughput(Throughput::Elements(values as u64));
    g.bench_function("mean_spread_model_equal", |b| {
        b.iter(|| ensemble_mean_spread(&refs, &Weights::ModelEqual).unwrap())
    });
    // Model-equal weights (10, 25, 15 members): a weighted percentile, sorted per cell.
    g.bench_function("percentiles_10_50_90", |b| {
        b.iter(|| ensemble_percentiles(&refs, &Weights::ModelEqual, &[0.1, 0.5, 0.9]).unwrap())
    });
    // Pooled: every member weighs the same, type 7 by the counting kernel of the edges.
    g.bench_function("percentiles_10_50_90_pooled", |b| {
        b.iter(|| ensemble_percentiles(&refs, &Weights::Pooled, &[0.1, 0.5, 0.9]).unwrap())
    });
    // Every hindcast start as a "forecast": edges from the model climatologies, then counting.
    g.bench_function("tercile_probabilities_model_edges", |b| {
        b.iter(|| forecast_probabilities(&refs, &refs, &TERCILES, &Weights::ModelEqual).unwrap())
    });
    g.finish();
    combine_schemes(c, &cfg, &cubes);

    let mut g = c.benchmark_group("memory_bandwidth");
    g.sample_size(10);
    let slices: Vec<&[f32]> = cubes
        .iter()
        .map(|c| c.values.as_slice().expect("standard layout"))
        .collect();
    common::read_once(&mut g, "read_members", &slices);
    common::triad(&mut g);
    g.finish();
}

/// The whole combination ([`combine`]: cross-validated hindcast and forecast products) of the
/// medium preset's temperature under five schemes: counted members against each
/// model's own terciles (model-equal), PMME, the regression-calibrated default, extended
/// logistic regression and principal-component regression MOS. Throughput
/// in member values (hindcast + forecast) per second.
fn combine_schemes(c: &mut Criterion, cfg: &SynthConfig, hindcasts: &[Cube]) {
    let forecasts: Vec<Cube> = (0..cfg.models.len())
        .map(|m| cfg.model_cube(m, true, SynthVar::Tas).unwrap())
        .collect();
    let obs = cfg.observation_cube(SynthVar::Tas).unwrap();
    let (aligned, _) = align_observations(&obs, &hindcasts[0]).unwrap();
    let h: Vec<&Cube> = hindcasts.iter().collect();
    let f: Vec<&Cube> = forecasts.iter().collect();
    let input = CombineInput {
        hindcasts: &h,
        forecasts: Some(&f),
        obs: Some(&aligned),
    };
    let values: usize = h.iter().chain(&f).map(|c| c.values.len()).sum();
    let mut g = c.benchmark_group("combine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(values as u64));
    for (name, scheme) in [
        ("model_equal", WeightScheme::ModelEqual),
        ("pmme", WeightScheme::Pmme),
        ("calibrated", WeightScheme::Calibrated),
        ("elr", WeightScheme::Elr),
        ("pcr", WeightScheme::Pcr),
    ] {
        // The hindcast with the fields verification needs, as `s2s combine` and the outlook
        // write it (percentiles for the forecast only).
        let spec = CombineSpec {
            scheme,
            full_hindcast: false,
            ..CombineSpec::default()
        };
        g.bench_function(name, |b| b.iter(|| combine(&input, &spec).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
