//! Times the ensemble kernels on the peers' workload (`../shared/peers/make_workload.py`: one
//! `hindcast_<MODEL>.nc` and `forecast_<MODEL>.nc` per model, `pr` and `tas`), the work the
//! peers do in `terciles_numpy` and `cdo_ensmean` + `cdo_enspctl,10/50/90`:
//!
//! - terciles: each model's edges from its own hindcast (type 7, in-sample, all members ×
//!   starts), pooled member counts for every hindcast start and the forecast;
//! - mean + percentiles: pooled ensemble mean (with the spread) and the 10/50/90th percentiles
//!   of the 30 members at every hindcast start and lead.
//!
//! Prints one JSON line per variable with the seconds of reading and of each kernel (compute
//! only, like the peers' `compute_seconds`; with `S2S_REPEAT=N` the best of N runs), and, given
//! the numpy peer's output, the largest difference of the tercile probabilities from numpy's.
//!
//! ```text
//! cargo run --release --example ensemble_workload -- /tmp/peers-workload [out_terciles_numpy.nc]
//! ```

// Printing its measurements is what this program is for.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use s2s_ensemble::ensemble::{
    ensemble_mean_spread, ensemble_percentiles, model_edge_probabilities, Weights, TERCILES,
};
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::Cube;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: ensemble_workload DIR [NUMPY_OUT.nc]")?,
    );
    let numpy = args.next().map(PathBuf::from);
    // Best of this many runs of each kernel (the machine's speed drifts).
    let repeat: usize = std::env::var("S2S_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let models = ["ALPHA", "BRAVO", "CHARLIE"];
    for var in ["pr", "tas"] {
        let opts = ReadOptions {
            variable: Some(var.to_string()),
            ..Default::default()
        };
        let t = Instant::now();
        let read = |kind: &str| -> Result<Vec<Cube>, Box<dyn std::error::Error>> {
            models
                .iter()
                .map(|m| Ok(read_cube(dir.join(format!("{kind}_{m}.nc")), &opts)?))
                .collect()
        };
        let hindcasts = read("hindcast")?;
        let forecasts = read("forecast")?;
        let read_s = t.elapsed().as_secs_f64();
        let hc: Vec<&Cube> = hindcasts.iter().collect();
        let fc: Vec<&Cube> = forecasts.iter().collect();

        let best = |f: &mut dyn FnMut() -> Result<(), Box<dyn std::error::Error>>| {
            let mut best = f64::INFINITY;
            for _ in 0..repeat {
                let t = Instant::now();
                f()?;
                best = best.min(t.elapsed().as_secs_f64());
            }
            Ok::<f64, Box<dyn std::error::Error>>(best)
        };
        let mut probs = Vec::new();
        let terciles_s = best(&mut || {
            probs = model_edge_probabilities(&hc, &[&hc, &fc], &TERCILES, &Weights::Pooled)?;
            Ok(())
        })?;
        let mean_s = best(&mut || {
            std::hint::black_box(ensemble_mean_spread(&hc, &Weights::Pooled)?);
            Ok(())
        })?;
        let percentiles_s = best(&mut || {
            std::hint::black_box(ensemble_percentiles(
                &hc,
                &Weights::Pooled,
                &[0.1, 0.5, 0.9],
            )?);
            Ok(())
        })?;

        let mut line = serde_json::json!({
            "var": var,
            "read_s": read_s,
            "terciles_s": terciles_s,
            "mean_spread_s": mean_s,
            "percentiles_s": percentiles_s,
        });
        if let Some(path) = &numpy {
            let file = netcdf::open(path)?;
            // The reader puts longitudes in −180…180: match numpy's cells by coordinates.
            let lon: Vec<f64> = file
                .variable("lon")
                .ok_or("numpy output without lon")?
                .get_values(..)?;
            let (ny, nx) = hc[0].coords.spatial.shape();
            let column: Vec<usize> = (0..nx)
                .map(|x| {
                    let ours = hc[0].coords.spatial.cell_lat_lon(0, x).1.rem_euclid(360.0);
                    lon.iter()
                        .position(|&l| (l.rem_euclid(360.0) - ours).abs() < 1e-6)
                        .ok_or("numpy output on another grid")
                })
                .collect::<Result<_, _>>()?;
            let mut worst = 0f32;
            for (name, ours) in [("hindcast", &probs[0]), ("forecast", &probs[1])] {
                let v = file
                    .variable(&format!("{var}_prob_{name}"))
                    .ok_or("numpy output without the probabilities")?;
                // numpy: (start, category, lead, lat, lon), as ours.
                let theirs: Vec<f32> = v.get_values(..)?;
                for ((i, c, l, y, x), &a) in ours.indexed_iter() {
                    let (_, nc, nl, _, _) = ours.dim();
                    let b = theirs[(((i * nc + c) * nl + l) * ny + y) * nx + column[x]];
                    worst = worst.max((a - b).abs());
                }
            }
            line["max_abs_diff_vs_numpy"] = worst.into();
        }
        println!("{line}");
    }
    Ok(())
}
