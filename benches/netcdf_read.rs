//! NetCDF read throughput (MB/s of decoded f32 values) of `read_cube` on a ~190 MB hindcast
//! file: the whole variable, and a box (hyperslab) of a quarter of the domain.
//!
//! The file (24 inits x 10 members x 6 leads x 128 x 256, f32, uncompressed NetCDF-4, like the
//! peers' workload in `../shared/peers/`) is written once to `target/bench-data/` and reused;
//! `scripts/bench_read_peers.sh` times nccopy, `cdo copy` and netCDF4-python on the same file.

mod common;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::Array5;
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::{BBox, Coords, Cube, CubeKind, Lead, Meta, Spatial};
use s2s_ensemble::io::{read_cube, write_cube, ReadOptions, WriteOptions};

const SHAPE: (usize, usize, usize, usize, usize) = (24, 10, 6, 128, 256);

/// The bench files, written on first use: the 5-D hindcast and the same values as a 3-D
/// `(time, lat, lon)` series of 1440 steps, which CDO can read too.
pub fn bench_files() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data directory");
    let path = dir.join("read_190mb.nc");
    let series = dir.join("read_190mb_series.nc");
    if path.exists() && series.exists() {
        return (path, series);
    }
    let (ni, nm, nl, ny, nx) = SHAPE;
    let coords = Coords {
        init: (0..ni)
            .map(|i| CfDateTime::ymd(1993 + i as i32, 5, 1))
            .collect(),
        member: (0..nm as i32).collect(),
        lead: (0..nl).map(|l| Lead::months(l as f64, 1.0)).collect(),
        spatial: Spatial::Grid {
            lat: (0..ny).map(|y| -89.296875 + y as f64 * 1.40625).collect(),
            lon: (0..nx).map(|x| -180.0 + x as f64 * 1.40625).collect(),
        },
    };
    let values = Array5::from_shape_fn(SHAPE, |(i, m, l, y, x)| {
        let lat = (y as f32 / ny as f32 - 0.5) * std::f32::consts::PI;
        28.0 - 40.0 * lat.sin().powi(2)
            + 0.1 * (i as f32 - 12.0)
            + 0.05 * m as f32
            + 0.3 * l as f32
            + 0.01 * x as f32
    });
    let opts = WriteOptions {
        deflate: Some(0),
        history: Some("bench file".into()),
        ..Default::default()
    };
    let cube = Cube::new(
        values,
        coords,
        Meta::new("BENCH", "tas", "degC", Calendar::Standard),
    )
    .expect("cube");
    write_cube(&path, &cube, &opts).expect("write bench file");
    let nt = ni * nm * nl;
    let mut meta = cube.meta.clone();
    meta.kind = CubeKind::Observed;
    let coords = Coords {
        init: (0..nt)
            .map(|t| CfDateTime::ymd(1900 + (t / 12) as i32, (t % 12) as u32 + 1, 1))
            .collect(),
        member: vec![0],
        lead: vec![Lead::months(0.0, 1.0)],
        spatial: cube.coords.spatial.clone(),
    };
    let values = cube
        .values
        .into_shape_with_order((nt, 1, 1, ny, nx))
        .expect("reshape");
    write_cube(
        &series,
        &Cube::new(values, coords, meta).expect("series"),
        &opts,
    )
    .expect("write series");
    (path, series)
}

fn read(c: &mut Criterion) {
    let (path, series) = bench_files();
    let (ni, nm, nl, ny, nx) = SHAPE;
    let bytes = (ni * nm * nl * ny * nx * 4) as u64;
    let mut g = c.benchmark_group("netcdf_read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("read_cube_whole_190MB", |b| {
        b.iter(|| read_cube(&path, &ReadOptions::default()).expect("read"));
    });
    // The floor: libnetcdf's own read of the same variable into an array, nothing else.
    g.bench_function("netcdf_get_series_190MB_floor", |b| {
        b.iter(|| {
            let f = netcdf::open(&series).expect("open");
            let v = f.variable("tas").expect("tas");
            v.get::<f32, _>(..).expect("get")
        });
    });
    g.bench_function("read_cube_series_190MB", |b| {
        b.iter(|| read_cube(&series, &ReadOptions::default()).expect("read"));
    });
    // Boxes of half the latitudes and half the longitudes: inside the file's longitude range,
    // and across its seam at 180E (read as the whole longitude range, then cut).
    for (name, west, east) in [
        ("read_cube_box_quarter", -90.0, 90.0),
        ("read_cube_box_quarter_across_seam", 90.0, -90.0),
    ] {
        let opts = ReadOptions {
            bbox: Some(BBox::new(west, east, -45.0, 45.0).expect("bbox")),
            ..Default::default()
        };
        let sub = read_cube(&path, &opts).expect("read box");
        g.throughput(Throughput::Bytes((sub.values.len() * 4) as u64));
        g.bench_function(name, |b| {
            b.iter(|| read_cube(&path, &opts).expect("read"));
        });
    }
    g.finish();
}

criterion_group!(benches, read, common::memory_bandwidth);
criterion_main!(benches);
