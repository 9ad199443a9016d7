//! The STREAM triad `a = b + s·c` on three 512 MiB f64 arrays (the size and type of
//! `../shared/peers/stream.c`), rayon-parallel over the pool's threads (`RAYON_NUM_THREADS`),
//! best of 8 runs; bytes counted as STREAM counts them, 3 × 8 per element. Prints one JSON
//! line: `{"threads": …, "triad_GBps": …}`. `scripts/bench.sh` runs it beside the C STREAM of
//! the peers, in the same run, as the memory-bandwidth bound of the kernels.

// Printing its measurement is what this program is for.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use rayon::prelude::*;

fn main() {
    let n = (512usize << 20) / 8;
    let b = vec![1.0f64; n];
    let c = vec![2.0f64; n];
    let mut a = vec![0.0f64; n];
    let scalar = 3.0;
    let mut best = f64::INFINITY;
    for _ in 0..8 {
        let t = Instant::now();
        a.par_chunks_mut(1 << 16)
            .zip(b.par_chunks(1 << 16))
            .zip(c.par_chunks(1 << 16))
            .for_each(|((a, b), c)| {
                for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + scalar * c;
                }
            });
        best = best.min(t.elapsed().as_secs_f64());
    }
    // The result is used, so the loop cannot be dropped.
    let check: f64 = a.iter().step_by(4096).sum();
    let line = serde_json::json!({
        "threads": rayon::current_num_threads(),
        "array_MiB": 512,
        "triad_GBps": (3 * 8 * n) as f64 / best / 1e9,
        "check": check,
    });
    println!("{line}");
}
