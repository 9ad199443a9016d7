//! SPI throughput (monthly values standardised per second): SPI-3 with the Thom fit (and the
//! exact MLE) on 45 years of monthly precipitation, at 1° (360 × 180) and at the 0.5°
//! global size (720 × 360 × 540 months = 140 M values, 560 MB of f32). The input is a
//! deterministic zero-inflated, seasonally varying field; no NetCDF I/O inside the timed loop.
//!
//! Side by side with xclim and climate_indices on the same file: `s2s spi` on the peers'
//! `obs_monthly_pr.nc` (see the issue note for the ratios).
//!
//! `SPI_BENCH_FULL=0` skips the 0.5° case (it takes minutes with criterion's 10 samples).

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array3;
use s2s_ensemble::indices::{spi_grid, GammaFit, MonthlyAxis, SpiSpec};

/// Monthly rain (mm/day) with a seasonal cycle, cell-to-cell variety and ~5 % dry months in
/// the dry season of the subtropics.
fn field(nt: usize, ny: usize, nx: usize) -> Array3<f32> {
    Array3::from_shape_fn((nt, ny, nx), |(t, y, x)| {
        let h = ((t as u64 * 2_654_435_761) ^ (y as u64 * 40_503 + x as u64 * 97)) % 10_007;
        let u = h as f32 / 10_007.0;
        let season =
            1.0 + 0.8 * ((t % 12) as f32 * std::f32::consts::FRAC_PI_6 + y as f32 * 0.01).sin();
        if u < 0.05 && season < 0.6 {
            0.0
        } else {
            season * (0.2 + 4.0 * u * u) * (1.0 + (x % 7) as f32 * 0.1)
        }
    })
}

fn bench(c: &mut Criterion) {
    let nt = 45 * 12;
    let axis = MonthlyAxis::new(1981, 1, nt).unwrap();
    let mut g = c.benchmark_group("spi");
    g.sample_size(10);
    let full = std::env::var("SPI_BENCH_FULL").map_or(true, |v| v != "0");
    let mut sizes = vec![("1deg", 180usize, 360usize)];
    if full {
        sizes.push(("0p5deg", 360, 720));
    }
    for (name, ny, nx) in sizes {
        let p = field(nt, ny, nx);
        g.throughput(Throughput::Elements(p.len() as u64));
        for fit in [GammaFit::Thom, GammaFit::MaximumLikelihood] {
            if fit == GammaFit::MaximumLikelihood && name != "1deg" {
                continue;
            }
            let spec = SpiSpec {
                scale_months: 3,
                calibration: (1991, 2020),
                fit,
                ..Default::default()
            };
            g.bench_with_input(
                BenchmarkId::new(
                    format!("spi3_{}", fit.name()),
                    format!("{name}_{ny}x{nx}x{nt}"),
                ),
                &p,
                |b, p| b.iter(|| spi_grid(p.view(), &axis, &spec).unwrap()),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench, common::memory_bandwidth);
criterion_main!(benches);
