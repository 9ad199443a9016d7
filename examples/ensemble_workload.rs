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
use s2s_ensemble::units::{Conversion, Quantity};
use s2s_ensemble::Cube;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: ensemble_workload DIR [PEER_RESULTS_DIR]")?,
    );
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
        let mut mean = None;
        let mut percentiles = None;
        let terciles_s = best(&mut || {
            probs = model_edge_probabilities(&hc, &[&hc, &fc], &TERCILES, &Weights::Pooled)?;
            Ok(())
        })?;
        let mean_s = best(&mut || {
            mean = Some(ensemble_mean_spread(&hc, &Weights::Pooled)?.0);
            Ok(())
        })?;
        let percentiles_s = best(&mut || {
            percentiles = Some(ensemble_percentiles(&hc, &Weights::Pooled, &LEVELS)?);
            Ok(())
        })?;

        let mut line = serde_json::json!({
            "var": var,
            "read_s": read_s,
            "terciles_s": terciles_s,
            "mean_spread_s": mean_s,
            "percentiles_s": percentiles_s,
        });
        if let Some(res) = &results {
            let (mean, percentiles) = (mean.expect("timed"), percentiles.expect("timed"));
            let numpy = res.join("out_terciles_numpy.nc");
            if numpy.exists() {
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

/// A peer's output on the same grid as our cube, its cells matched by coordinates (our reader
/// puts longitudes in −180…180 and may flip latitudes).
struct PeerField {
    file: netcdf::File,
    row: Vec<usize>,
    column: Vec<usize>,
    nlat: usize,
    nlon: usize,
}

impl PeerField {
    fn open(path: &std::path::Path, ours: &Cube) -> Result<PeerField, Box<dyn std::error::Error>> {
        let file = netcdf::open(path)?;
        let coord = |name: &str| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
            Ok(file
                .variable(name)
                .ok_or_else(|| format!("{}: no {name}", path.display()))?
                .get_values(..)?)
        };
        let (lat, lon) = (coord("lat")?, coord("lon")?);
        let (ny, nx) = ours.coords.spatial.shape();
        let find = |values: &[f64], want: f64, wrap: bool| {
            values
                .iter()
                .position(|&v| {
                    let d = if wrap {
                        (v.rem_euclid(360.0) - want.rem_euclid(360.0)).abs()
                    } else {
                        (v - want).abs()
                    };
                    d < 1e-6
                })
                .ok_or_else(|| format!("{}: on another grid", path.display()))
        };
        let row = (0..ny)
            .map(|y| find(&lat, ours.coords.spatial.cell_lat_lon(y, 0).0, false))
            .collect::<Result<_, _>>()?;
        let column = (0..nx)
            .map(|x| find(&lon, ours.coords.spatial.cell_lat_lon(0, x).1, true))
            .collect::<Result<_, _>>()?;
        Ok(PeerField {
            file,
            row,
            column,
            nlat: lat.len(),
            nlon: lon.len(),
        })
    }

    /// Variable `name` of the peer's output.
    fn variable(&self, name: &str) -> Result<netcdf::Variable<'_>, Box<dyn std::error::Error>> {
        Ok(self
            .file
            .variable(name)
            .ok_or_else(|| format!("no {name} in the peer's output"))?)
    }

    /// All values of `name`, flat.
    fn values(&self, name: &str) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        Ok(self.variable(name)?.get_values(..)?)
    }

    /// All values of variable `name`, flat, in the engine's units (CDO keeps the file's: K).
    fn values_in_our_units(&self, name: &str) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        let v = self.variable(name)?;
        let units = match v.attribute_value("units") {
            Some(Ok(netcdf::AttributeValue::Str(u))) => u,
            _ => return Err(format!("{name} in the peer's output has no units").into()),
        };
        let conversion = Conversion::to_canonical(Quantity::detect(name, None, None), &units)?;
        let values: Vec<f32> = v.get_values(..)?;
        Ok(values
            .into_iter()
            .map(|x| conversion.apply(x, 1.0))
            .collect())
    }

    /// The flat index of our cell `(y, x)` in map `k` of the peer's field.
    fn at(&self, k: usize, y: usize, x: usize) -> usize {
        (k * self.nlat + self.row[y]) * self.nlon + self.column[x]
    }
}

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
