//! Verification throughput (samples = start × lead × cell per second) at the peers' workload
//! size — 24 starts × 30 pooled members × 6 leads on a 2° global grid (90 × 180), the
//! `crps_xskillscore`, `rps_xskillscore` and `acc_xskillscore` ops of `../shared/peers/` —
//! for the single-score kernels (fair and plain CRPS, tercile RPS with in-sample edges,
//! ensemble-mean correlation, ROC area), and for every cross-validated score of
//! `skill_maps` with and without a 1000-resample bootstrap at the synth medium preset size
//! (24 starts × 25 members × 6 leads × 46 × 73).
//!
//! Inputs are deterministic fields with a shared signal (so the scores are not degenerate);
//! no NetCDF I/O inside the timed loops. `VERIFY_BENCH_QUICK=1` runs only the medium size.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{s, Array5, Axis};
use s2s_ensemble::verify::{
    ensemble_mean_correlation, mean_crps, mean_rps, roc_area_map, skill_maps, Bootstrap,
    ScoredForecast,
};

/// Members and observations with a common start-to-start signal and cell-varying noise.
fn fields(ni: usize, nm: usize, nl: usize, ny: usize, nx: usize) -> (Array5<f32>, Array5<f32>) {
    let noise = |a: u64| {
        let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        ((z >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32
    };
    let signal = |i: usize, y: usize, x: usize| ((i * 7 + y / 5 + x / 9) % 11) as f32 * 0.2 - 1.0;
    let members = Array5::from_shape_fn((ni, nm, nl, ny, nx), |(i, m, l, y, x)| {
        let key = ((((i * nm + m) * nl + l) * ny + y) * nx + x) as u64;
        signal(i, y, x) * 0.5 + noise(key) * 2.0 + 280.0
    });
    let obs = Array5::from_shape_fn((ni, 1, nl, ny, nx), |(i, _, l, y, x)| {
        let key = (((i * nl + l) * ny + y) * nx + x) as u64 + (1 << 40);
        signal(i, y, x) * 0.6 + noise(key) * 1.5 + 280.0
    });
    (members, obs)
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify_kernels");
    g.sample_size(10);
    let (ni, nm, nl, ny, nx) = (24, 30, 6, 90, 180);
    let (members, obs) = fields(ni, nm, nl, ny, nx);
    let samples = (ni * nl * ny * nx) as u64;
    g.throughput(Throughput::Elements(samples));
    let size = format!("{ni}x{nm}x{nl}x{ny}x{nx}");
    for fair in [true, false] {
        let name = if fair { "crps_fair" } else { "crps_plain" };
        g.bench_function(BenchmarkId::new(name, &size), |b| {
            b.iter(|| mean_crps(members.view(), obs.view(), fair).unwrap())
        });
    }
    g.bench_function(BenchmarkId::new("rps_terciles", &size), |b| {
        b.iter(|| mean_rps(members.view(), obs.view(), &[1.0 / 3.0, 2.0 / 3.0]).unwrap())
    });
    g.bench_function(BenchmarkId::new("acc", &size), |b| {
        b.iter(|| ensemble_mean_correlation(members.view(), obs.view()).unwrap())
    });
    // Above-normal probabilities and events against a fixed edge.
    let p = members
        .mapv(|v| f32::from(u8::from(v > 280.3)))
        .mean_axis(Axis(1))
        .unwrap();
    let e = obs
        .slice(s![.., 0, .., .., ..])
        .mapv(|v| u8::from(v > 280.3));
    g.bench_function(BenchmarkId::new("roc_area", &size), |b| {
        b.iter(|| roc_area_map(p.view(), e.view()).unwrap())
    });
    g.finish();
}

fn all_scores(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify_skill_maps");
    g.sample_size(10);
    let (ni, nm, nl, ny, nx) = (24, 25, 6, 46, 73);
    let (members, obs) = fields(ni, nm, nl, ny, nx);
    // Tercile probabilities counted against fixed edges (the scoring is what is timed).
    let mut probability = Array5::<f32>::zeros((ni, 3, nl, ny, nx));
    for ((i, _, l, y, x), &v) in members.indexed_iter() {
        let c = if v < 279.8 {
            0
        } else if v > 280.2 {
            2
        } else {
            1
        };
        probability[[i, c, l, y, x]] += 1.0 / nm as f32;
    }
    let mean = members.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    let levels = [1.0 / 3.0, 2.0 / 3.0];
    let boot = Bootstrap::new(ni, 1000, 0.95, 1).unwrap();
    g.throughput(Throughput::Elements((ni * nl * ny * nx) as u64));
    for (name, bootstrap) in [
        ("all_scores", None),
        ("all_scores_bootstrap1000", Some(&boot)),
    ] {
        let scored = ScoredForecast {
            probability: probability.view(),
            ensemble_mean: mean.view(),
            anomaly: None,
            members: Some(members.view()),
            obs: obs.view(),
            levels: &levels,
            debias_members: None,
            bootstrap,
            fair_crps: true,
        };
        g.bench_function(
            BenchmarkId::new(name, format!("{ni}x{nm}x{nl}x{ny}x{nx}")),
            |b| b.iter(|| skill_maps(&scored).unwrap()),
        );
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    if std::env::var("VERIFY_BENCH_QUICK").map_or(true, |v| v != "1") {
        kernels(c);
    }
    all_scores(c);
}

criterion_group!(verify, benches, common::memory_bandwidth);
criterion_main!(verify);
