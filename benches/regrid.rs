//! Regridding: weight generation (target cells/s) and weight application (source values/s)
//! for 1° global → 1.5° Asia and 0.25° global → 1° global, bilinear and conservative; and a
//! STREAM-like triad for this machine's memory bandwidth, the bound for application.
//!
//! `scripts/bench_regrid_peers.sh` times `s2s regrid` against `cdo remapbil` / `remapcon` on
//! the file this bench writes (`target/bench-data/regrid_1deg_144.nc`).

mod common;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, Array5};
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{BBox, Coords, Cube, CubeKind, Lead, Meta};
use s2s_ensemble::grid::{bilinear, conservative, LonLatGrid, RegridWeights};
use s2s_ensemble::io::{write_cubes, WriteOptions};

fn asia() -> LonLatGrid {
    LonLatGrid::regular(
        1.5,
        1.5,
        Some(&BBox::new(40.0, 150.0, -15.0, 55.0).unwrap()),
    )
    .unwrap()
}

fn field(g: &LonLatGrid, maps: usize) -> Array2<f32> {
    Array2::from_shape_fn((maps, g.len()), |(m, k)| {
        let (i, j) = (k / g.nx(), k % g.nx());
        let (la, lo) = (g.lat[i].to_radians(), g.lon[j].to_radians());
        (2.0 + la.cos().powi(2) * (2.0 * lo + m as f64 * 0.1).cos()) as f32
    })
}

/// The peer-comparison file: 1° global, 144 monthly maps of pr and tas, (time, lat, lon).
fn peer_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("regrid_1deg_144.nc");
    if path.exists() {
        return path;
    }
    let g = LonLatGrid::regular(1.0, 1.0, None).unwrap();
    let nt = 144;
    let coords = Coords {
        init: (0..nt)
            .map(|t| CfDateTime::ymd(1993 + (t / 12) as i32, (t % 12) as u32 + 1, 1))
            .collect(),
        member: vec![0],
        lead: vec![Lead::months(0.0, 1.0)],
        spatial: g.spatial(),
    };
    let f = field(&g, nt);
    let mut cubes = Vec::new();
    for (name, units, scale, offset) in [("pr", "mm/day", 3.0, 0.0), ("tas", "degC", 10.0, 5.0)] {
        let values = Array5::from_shape_fn((nt, 1, 1, g.ny(), g.nx()), |(t, _, _, i, j)| {
            f[[t, i * g.nx() + j]] * scale + offset
        });
        let mut meta = Meta::new("BENCH", name, units, Calendar::Standard);
        meta.kind = CubeKind::Observed;
        cubes.push(Cube::new(values, coords.clone(), meta).unwrap());
    }
    let refs: Vec<&Cube> = cubes.iter().collect();
    write_cubes(
        &path,
        &refs,
        &WriteOptions {
            deflate: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    path
}

fn weights(c: &mut Criterion) {
    let cases = [
        (
            "1deg_global_to_1p5_asia",
            LonLatGrid::regular(1.0, 1.0, None).unwrap(),
            asia(),
        ),
        (
            "0p25_global_to_1deg",
            LonLatGrid::regular(0.25, 0.25, None).unwrap(),
            LonLatGrid::regular(1.0, 1.0, None).unwrap(),
        ),
    ];
    let mut g = c.benchmark_group("regrid_weights");
    g.sample_size(10);
    for (name, src, dst) in &cases {
        g.throughput(Throughput::Elements(dst.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("bilinear", name),
            &(src, dst),
            |b, (s, d)| b.iter(|| bilinear(s, d).unwrap()),
        );
        g.bench_with_input(
            BenchmarkId::new("conservative", name),
            &(src, dst),
            |b, (s, d)| b.iter(|| conservative(s, d).unwrap()),
        );
    }
    g.finish();
}

fn apply(c: &mut Criterion) {
    let _ = peer_file();
    let cases = [
        (
            "1deg_global_to_1p5_asia",
            LonLatGrid::regular(1.0, 1.0, None).unwrap(),
            asia(),
            144,
        ),
        (
            "0p25_global_to_1deg",
            LonLatGrid::regular(0.25, 0.25, None).unwrap(),
            LonLatGrid::regular(1.0, 1.0, None).unwrap(),
            24,
        ),
    ];
    let mut g = c.benchmark_group("regrid_apply");
    g.sample_size(10);
    for (name, src, dst, maps) in &cases {
        let x = field(src, *maps);
        let mut y = Array2::<f32>::zeros((*maps, dst.len()));
        g.throughput(Throughput::Elements((maps * src.len()) as u64));
        for (method, w) in [
            ("bilinear", bilinear(src, dst).unwrap()),
            ("conservative", conservative(src, dst).unwrap()),
        ] {
            let w: RegridWeights = w;
            g.bench_function(BenchmarkId::new(method, name), |b| {
                b.iter(|| w.apply(x.view(), y.view_mut()).unwrap())
            });
        }
    }
    g.finish();
}

/// The memory-bandwidth reference (see `common::triad`).
fn triad(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_bandwidth");
    g.sample_size(10);
    common::triad(&mut g);
    g.finish();
}

criterion_group!(benches, weights, apply, triad);
criterion_main!(benches);
