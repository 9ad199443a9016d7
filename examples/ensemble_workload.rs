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
//! the peers' results directory, how far ours are from theirs, largest absolute differences:
//! - the tercile probabilities from numpy's (`out_terciles_numpy.nc`);
//! - the mean from CDO `ensmean` (`out_cdo_ensmean.nc`);
//! - the percentiles from CDO `enspctl` with its default `nrank` method (`out_cdo_enspctlP.nc`),
//!   which differs from ours (type 7) by definition, and from a nearest-rank percentile of our own
//!   (`x₍⌈pn⌉₎`, the ⌈pn⌉-th smallest of the `n` members), which shows what nrank is;
//! - the 90th percentile from CDO `--percentile linear enspctl,90` (numpy's type 7, as ours;
//!   `out_cdo_enspctl90_linear.nc`).
//!
//! ```text
//! cargo run --release --example ensemble_workload -- /tmp/peers-workload [PEER_RESULTS_DIR]
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

#[path = "common/peer_field.rs"]
mod peer_field;
use peer_field::PeerField;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage =
        "usage: ensemble_workload DIR [PEER_RESULTS_DIR] [--kernels terciles,mean,percentiles]";
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Which kernels to run (all by default): a whole-process timing of one peer op's work.
    let mut kernels = vec!["terciles".to_string(), "mean".into(), "percentiles".into()];
    if let Some(k) = args.iter().position(|a| a == "--kernels") {
        let list = args.get(k + 1).ok_or(usage)?.clone();
        kernels = list.split(',').map(str::to_string).collect();
        if let Some(bad) = kernels
            .iter()
            .find(|k| !["terciles", "mean", "percentiles"].contains(&k.as_str()))
        {
            return Err(format!("unknown kernel '{bad}'; {usage}").into());
        }
        args.drain(k..k + 2);
    }
    let run = |k: &str| kernels.iter().any(|x| x == k);
    let mut args = args.into_iter();
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let results = args.next().map(PathBuf::from);
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
        // The forecasts only enter the terciles (numpy counts them; CDO does not read them).
        let forecasts = if run("terciles") {
            read("forecast")?
        } else {
            Vec::new()
        };
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
        let mut line = serde_json::json!({ "var": var, "read_s": read_s });
        let mut probs = Vec::new();
        let mut mean = None;
        let mut percentiles = None;
        if run("terciles") {
            line["terciles_s"] = best(&mut || {
                probs = model_edge_probabilities(&hc, &[&hc, &fc], &TERCILES, &Weights::Pooled)?;
                Ok(())
            })?
            .into();
        }
        if run("mean") {
            line["mean_spread_s"] = best(&mut || {
                mean = Some(ensemble_mean_spread(&hc, &Weights::Pooled)?.0);
                Ok(())
            })?
            .into();
        }
        if run("percentiles") {
            line["percentiles_s"] = best(&mut || {
                percentiles = Some(ensemble_percentiles(&hc, &Weights::Pooled, &LEVELS)?);
                Ok(())
            })?
            .into();
        }
        if let Some(res) = &results {
            let numpy = res.join("out_terciles_numpy.nc");
            if run("terciles") && numpy.exists() {
                let theirs = PeerField::open(&numpy, hc[0])?;
                let mut worst = 0f32;
                for (name, ours) in [("hindcast", &probs[0]), ("forecast", &probs[1])] {
                    // numpy: (start, category, lead, lat, lon), as ours.
                    let values = theirs.values(&format!("{var}_prob_{name}"))?;
                    let (_, nc, nl, _, _) = ours.dim();
                    for ((i, c, l, y, x), &a) in ours.indexed_iter() {
                        worst =
                            worst.max((a - values[theirs.at((i * nc + c) * nl + l, y, x)]).abs());
                    }
                }
                line["max_abs_diff_vs_numpy"] = worst.into();
            }
            let (Some(mean), Some(percentiles)) = (mean, percentiles) else {
                println!("{line}");
                continue;
            };
            let nl = mean.dim().2;
            // CDO: (time, lat, lon) with time = start × lead.
            let cdo = |name: &str, ours: &dyn Fn(usize, usize, usize, usize) -> f32| {
                let path = res.join(format!("out_cdo_{name}.nc"));
                if !path.exists() {
                    return Ok::<_, Box<dyn std::error::Error>>(None);
                }
                let theirs = PeerField::open(&path, hc[0])?;
                let values = theirs.values_in_our_units(var)?;
                let (ni, _, _, ny, nx) = mean.dim();
                let mut worst = 0f32;
                for i in 0..ni {
                    for l in 0..nl {
                        for y in 0..ny {
                            for x in 0..nx {
                                let b = values[theirs.at(i * nl + l, y, x)];
                                worst = worst.max((ours(i, l, y, x) - b).abs());
                            }
                        }
                    }
                }
                Ok(Some(worst))
            };
            let mut diffs = serde_json::Map::new();
            let mut put = |key: String, v: Option<f32>| {
                if let Some(v) = v {
                    diffs.insert(key, v.into());
                }
            };
            put(
                "ensmean".into(),
                cdo("ensmean", &|i, l, y, x| mean[[i, 0, l, y, x]])?,
            );
            let nrank = nearest_rank(&hc, &LEVELS);
            for (k, p) in [10, 50, 90].into_iter().enumerate() {
                let name = format!("enspctl{p}");
                put(
                    format!("{name}_nrank_vs_ours_type7"),
                    cdo(&name, &|i, l, y, x| percentiles[[i, k, l, y, x]])?,
                );
                put(
                    format!("{name}_nrank_vs_ours_nearest_rank"),
                    cdo(&name, &|i, l, y, x| nrank[[i, k, l, y, x]])?,
                );
            }
            put(
                "enspctl90_linear_vs_ours_type7".into(),
                cdo("enspctl90_linear", &|i, l, y, x| {
                    percentiles[[i, 2, l, y, x]]
                })?,
            );
            line["max_abs_diff_vs_cdo"] = diffs.into();
        }
        println!("{line}");
    }
    Ok(())
}

/// The percentiles CDO `enspctl` and the numpy reference are compared at.
const LEVELS: [f64; 3] = [0.1, 0.5, 0.9];

/// The nearest-rank percentiles `x₍⌈pn⌉₎` (1-based rank, at least 1) of the pooled members of
/// every cell, `(init, level, lead, y, x)` — CDO's default (`nrank`) definition.
fn nearest_rank(cubes: &[&Cube], levels: &[f64]) -> ndarray::Array5<f32> {
    let (ni, _, nl, ny, nx) = cubes[0].values.dim();
    let mut out = ndarray::Array5::<f32>::from_elem((ni, levels.len(), nl, ny, nx), f32::NAN);
    let mut members = Vec::new();
    for ((i, l, y, x), _) in cubes[0]
        .values
        .slice(ndarray::s![.., 0, .., .., ..])
        .indexed_iter()
    {
        members.clear();
        for c in cubes {
            members.extend(c.values.slice(ndarray::s![i, .., l, y, x]).iter().copied());
        }
        members.retain(|v| v.is_finite());
        if members.is_empty() {
            continue;
        }
        // Sorted once for all levels.
        members.sort_unstable_by(f32::total_cmp);
        let n = members.len() as f64;
        for (k, &p) in levels.iter().enumerate() {
            let rank = ((p * n).ceil() as usize).clamp(1, members.len());
            out[[i, k, l, y, x]] = members[rank - 1];
        }
    }
    out
}
