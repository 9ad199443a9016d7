//! Times the verification kernels on the peers' workload (`../shared/peers/make_workload.py`),
//! the work of the peers' `crps_xskillscore`, `rps_xskillscore`, `acc_xskillscore` and
//! `verify_climpred` ops (see `../shared/peers/README.md`):
//!
//! - `crps`, `rps`, `acc`: the 30 members of the three models pooled, each model first
//!   mean-bias-corrected to the observations as the peers do it (temperature
//!   `x − mean(x) + mean(obs)`, precipitation `x · mean(obs) / mean(x)`, 0 where the model's mean
//!   is 0; means over starts × members and over starts, per lead and cell), then the plain
//!   (non-fair) ensemble CRPS, the tercile RPS with in-sample type-7 edges (observations' over
//!   the starts, the members' over starts × members) or the correlation of the ensemble-mean
//!   anomalies, each averaged or taken over the 24 starts;
//! - `climpred`: model ALPHA as it is, CRPS (members against the observation) and the
//!   ensemble-mean correlation.
//!
//! Prints one JSON line: the seconds of reading, of the bias correction and of the score
//! kernels (compute only, like the peers' `compute_seconds`), and, given the peers' results
//! directory, the largest absolute difference from the peer's output over every lead and cell.
//!
//! ```text
//! cargo run --release --example verify_workload -- crps|rps|acc|climpred /tmp/peers-workload [PEER_RESULTS_DIR]
//! ```

// Printing its measurements is what this program is for.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array3, Array5, Axis};
use rayon::prelude::*;
use s2s_ensemble::io::{read_cube, ReadOptions};
use s2s_ensemble::verify::{ensemble_mean_correlation, mean_crps, mean_rps};
use s2s_ensemble::Cube;

#[path = "common/peer_field.rs"]
mod peer_field;
use peer_field::PeerField;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let usage = "usage: verify_workload crps|rps|acc|climpred DIR [PEER_RESULTS_DIR]";
    let mut args = std::env::args().skip(1);
    let op = args.next().ok_or(usage)?;
    if !["crps", "rps", "acc", "climpred"].contains(&op.as_str()) {
        return Err(format!("unknown op '{op}'; {usage}").into());
    }
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let results = args.next().map(PathBuf::from);
    let models: &[&str] = if op == "climpred" {
        &["ALPHA"]
    } else {
        &["ALPHA", "BRAVO", "CHARLIE"]
    };
    let mut line = serde_json::json!({ "op": op });
    let (mut read_s, mut correct_s, mut score_s) = (0.0, 0.0, 0.0);
    let mut diffs = serde_json::Map::new();
    for var in ["pr", "tas"] {
        let t = Instant::now();
        let obs = read(&dir.join("obs.nc"), var)?;
        let hindcasts: Vec<Cube> = models
            .iter()
            .map(|m| read(&dir.join(format!("hindcast_{m}.nc")), var))
            .collect::<Result<_, _>>()?;
        read_s += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let members = if op == "climpred" {
            hindcasts[0].values.clone()
        } else {
            // The pooled members, model after model, corrected straight into place.
            let (ni, _, nl, ny, nx) = obs.values.dim();
            let total: usize = hindcasts.iter().map(|h| h.values.dim().1).sum();
            let mut pooled = Array5::<f32>::zeros((ni, total, nl, ny, nx));
            let mut first = 0;
            for h in &hindcasts {
                let nm = h.values.dim().1;
                let mut part = pooled.slice_mut(ndarray::s![.., first..first + nm, .., .., ..]);
                mean_bias_correct(&h.values, &obs.values, var == "pr", &mut part);
                first += nm;
            }
            pooled
        };
        correct_s += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let scores: Vec<(&str, Array3<f32>)> = match op.as_str() {
            "crps" => vec![("", mean_crps(members.view(), obs.values.view(), false)?)],
            "rps" => vec![(
                "",
                mean_rps(members.view(), obs.values.view(), &[1.0 / 3.0, 2.0 / 3.0])?,
            )],
            "acc" => vec![(
                "",
                ensemble_mean_correlation(members.view(), obs.values.view())?,
            )],
            _ => vec![
                ("crps", mean_crps(members.view(), obs.values.view(), false)?),
                (
                    "acc",
                    ensemble_mean_correlation(members.view(), obs.values.view())?,
                ),
            ],
        };
        score_s += t.elapsed().as_secs_f64();

        if let Some(res) = &results {
            let peer = res.join(if op == "climpred" {
                "out_verify_climpred.nc".to_string()
            } else {
                format!("out_{op}_xskillscore.nc")
            });
            if peer.exists() {
                let theirs = PeerField::open(&peer, &hindcasts[0])?;
                for (score, ours) in &scores {
                    let name = if score.is_empty() {
                        var.to_string()
                    } else {
                        format!("{var}_{score}")
                    };
                    let Ok(values) = theirs.values(&name) else {
                        continue;
                    };
                    diffs.insert(name, largest_difference(ours, &values, &theirs).into());
                }
            }
        }
    }
    line["read_s"] = read_s.into();
    line["bias_correction_s"] = correct_s.into();
    line["score_s"] = score_s.into();
    if !diffs.is_empty() {
        line["max_abs_diff_vs_peer"] = diffs.into();
    }
    println!("{line}");
    Ok(())
}

/// Reads `var` of a workload file (temperature in °C: the scores are the same in K).
fn read(path: &Path, var: &str) -> Result<Cube, Failure> {
    let opts = ReadOptions {
        variable: Some(var.to_string()),
        ..Default::default()
    };
    Ok(read_cube(path, &opts)?)
}

/// The peers' mean bias correction of one model `(init, member, lead, y, x)` against the
/// observations `(init, 1, lead, y, x)`, written into `out` (same shape as the model): per
/// lead and cell, `x − m + o` (additive) or `x · o / m` (multiplicative, 0 where `m` is 0),
/// `m` the model's mean over starts × members and `o` the observed mean over starts (sums in
/// f64).
fn mean_bias_correct(
    model: &Array5<f32>,
    obs: &Array5<f32>,
    multiplicative: bool,
    out: &mut ndarray::ArrayViewMut5<f32>,
) {
    let (_, _, nl, ny, nx) = model.dim();
    let cells = ny * nx;
    // Per lead: the mean over every map (start × member) of that lead.
    let mean_of = |a: &Array5<f32>| -> Vec<f64> {
        let maps = a.as_slice().expect("read cubes are in standard layout");
        let n = (a.len() / (nl * cells).max(1)) as f64;
        let mut mean = vec![0f64; nl * cells];
        mean.par_chunks_mut(cells).enumerate().for_each(|(l, sum)| {
            for map in maps.chunks_exact(cells).skip(l).step_by(nl) {
                for (s, &x) in sum.iter_mut().zip(map) {
                    *s += f64::from(x);
                }
            }
            sum.iter_mut().for_each(|s| *s /= n);
        });
        mean
    };
    let (m, o) = (mean_of(model), mean_of(obs));
    // Per (start, member, lead) map: its cells are contiguous on both sides.
    let pairs: Vec<_> = out
        .lanes_mut(Axis(4))
        .into_iter()
        .zip(model.lanes(Axis(4)))
        .collect();
    pairs
        .into_par_iter()
        .enumerate()
        .for_each(|(row, (mut dst, src))| {
            let (l, y) = ((row / ny) % nl, row % ny);
            let (m, o) = (
                &m[l * cells + y * nx..][..nx],
                &o[l * cells + y * nx..][..nx],
            );
            for (((d, &x), &m), &o) in dst.iter_mut().zip(src).zip(m).zip(o) {
                *d = if multiplicative {
                    x * if m > 0.0 { (o / m) as f32 } else { 0.0 }
                } else {
                    x - m as f32 + o as f32
                };
            }
        });
}

/// Largest absolute difference between our `(lead, y, x)` map and the peer's, over the cells
/// both define (a NaN on one side only counts as a difference of infinity).
fn largest_difference(ours: &Array3<f32>, theirs: &[f32], field: &PeerField) -> f32 {
    let mut worst = 0f32;
    for ((l, y, x), &a) in ours.indexed_iter() {
        let b = theirs[field.at(l, y, x)];
        let d = match (a.is_nan(), b.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (a - b).abs(),
            _ => f32::INFINITY,
        };
        worst = worst.max(d);
    }
    worst
}
