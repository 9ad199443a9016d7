//! Memory-bandwidth references shared by the benches: what a kernel that streams its inputs
//! once could at best reach on this machine, measured in the same run as the kernel.
// Each bench compiles this module on its own and uses part of it.
#![allow(dead_code)]

use criterion::{BenchmarkGroup, Throughput};
use rayon::prelude::*;

/// STREAM triad `a = b + s·c` on three 512 MiB f32 arrays, rayon-parallel (bytes counted:
/// 3 × 4 per element, as STREAM does).
pub fn triad<M: criterion::measurement::Measurement>(g: &mut BenchmarkGroup<M>) {
    let n = 128 << 20;
    let b = vec![1.0f32; n];
    let cc = vec![2.0f32; n];
    let mut a = vec![0.0f32; n];
    g.throughput(Throughput::Bytes((12 * n) as u64));
    g.bench_function("triad_f32_1.5GiB", |bch| {
        bch.iter(|| {
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(cc.par_chunks(1 << 16))
                .for_each(|((a, b), c)| {
                    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + 3.0 * c;
                    }
                })
        })
    });
}

/// Reading `values` once, front to back, rayon-parallel (a sum in 16 f32 lanes, so that the
/// adds vectorise): the bound of any kernel that has to read these values.
pub fn read_once<M: criterion::measurement::Measurement>(
    g: &mut BenchmarkGroup<M>,
    name: &str,
    values: &[&[f32]],
) {
    let bytes: usize = values.iter().map(|v| v.len() * 4).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(name, |bch| {
        bch.iter(|| {
            values
                .par_iter()
                .flat_map(|v| v.par_chunks(1 << 16))
                .map(|chunk| {
                    let mut lanes = [0f32; 16];
                    for block in chunk.chunks_exact(16) {
                        for (l, &x) in lanes.iter_mut().zip(block) {
                            *l += x;
                        }
                    }
                    lanes.iter().sum::<f32>()
                })
                .sum::<f32>()
        })
    });
}

/// The STREAM triad as a group of its own (`memory_bandwidth/triad_f32_1.5GiB`), listed in a
/// bench's `criterion_group!` so that its kernels' bytes/s or values/s sit beside this
/// machine's bandwidth measured in the same run.
pub fn memory_bandwidth(c: &mut criterion::Criterion) {
    let mut g = c.benchmark_group("memory_bandwidth");
    g.sample_size(10);
    triad(&mut g);
    g.finish();
}
