//! Category probability forecasts as centres receive them (C3S and IRI style, or s2s's own
//! `mme_*.nc`), read into a cube whose member axis is the category, lowest first:
//! `probability(init, category, lead, y, x)`, values in 0–1.
//!
//! Two layouts are recognised:
//! - one variable with a category dimension — named `category`, `categories`, `tercile`,
//!   `terciles`, `quantile_category`, `C` or `cat` (IRI's `C`, s2s's `category`) — whose labels
//!   may be strings;
//! - one variable per category, the names telling which: `below` (`lower`, `bn`), `normal`
//!   (`near`, `middle`, `nn`) and `above` (`upper`, `an`), e.g. `prob_below`, `tercile_above`.
//!   Without a `normal` variable, near normal is `1 − below − above`.
//!
//! Percentages (values up to 100) are turned into probabilities. Values below 0, above 1 after
//! that, or categories whose sum is off 1 by more than [`SUM_TOLERANCE`] are an error naming
//! the file and the variable.

use std::path::Path;

use ndarray::{concatenate, Axis};

use super::detect::DimMapping;
use super::read::{file_meta, open, read_cube, ReadOptions};
use crate::error::{Error, Result};
use crate::Cube;

/// Names of a category dimension (compared without case).
pub const CATEGORY_DIMS: [&str; 7] = [
    "category",
    "categories",
    "tercile",
    "terciles",
    "quantile_category",
    "c",
    "cat",
];

/// How far the probabilities of a forecast's categories may sum from 1: published files round
/// each category to a percent (three categories: up to ±1.5 %) and some to 5 %.
pub const SUM_TOLERANCE: f64 = 0.05;

/// Reads the category probabilities of `path` (`variable`: the probability variable, or
/// `None` to find it) restricted to the start `years`, as `(init, category, lead, y, x)` with
/// `categories` categories; `model` names the cube.
pub fn read_category_probabilities(
    path: &Path,
    variable: Option<&str>,
    years: Option<(i32, i32)>,
    categories: usize,
    model: &str,
) -> Result<Cube> {
    let bad = |variable: &str, reason: String| Error::Input {
        path: path.to_path_buf(),
        reason: format!("variable '{variable}': {reason}"),
    };
    let file = open(path)?;
    let meta = file_meta(path, &file);
    drop(file);
    let category_dim = |dims: &[String]| -> Option<String> {
        dims.iter()
            .find(|d| CATEGORY_DIMS.contains(&d.to_lowercase().as_str()))
            .cloned()
    };
    let opts = |var: &str, member: Option<String>| ReadOptions {
        variable: Some(var.to_string()),
        model: Some(model.to_string()),
        years,
        keep_units: true,
        dims: DimMapping {
            member,
            ..DimMapping::default()
        },
        ..ReadOptions::default()
    };
    let data = meta.data_variables();
    // One variable with a category dimension: the named one, else the first such.
    let with_dim = match variable {
        Some(v) => {
            let vm = meta.vars.get(v).ok_or_else(|| Error::MissingVariable {
                path: path.to_path_buf(),
                variable: v.to_string(),
                present: data
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            category_dim(&vm.dims).map(|d| (v.to_string(), d))
        }
        None => data
            .iter()
            .find_map(|v| category_dim(&v.dims).map(|d| (v.name.clone(), d))),
    };
    // s2s's own CDO layout: the variables split from `probability` say so and their index.
    let family: Vec<String> = meta
        .split_parts(variable.unwrap_or("probability"), "category")
        .into_iter()
        .map(|(_, v)| v.name.clone())
        .collect();
    let (name, mut cube) = if !family.is_empty() && with_dim.is_none() {
        let parts: Vec<Cube> = family
            .iter()
            .map(|v| read_cube(path, &opts(v, None)))
            .collect::<Result<_>>()?;
        let views: Vec<_> = parts.iter().map(|c| c.values.view()).collect();
        let stacked = concatenate(Axis(1), &views).map_err(|e| bad(&family[0], e.to_string()))?;
        let mut c = parts[0].clone();
        c.coords.member = (0..family.len() as i32).collect();
        c.values = stacked.as_standard_layout().into_owned();
        (family.join(", "), c)
    } else if let Some((var, dim)) = with_dim {
        let c = read_cube(path, &opts(&var, Some(dim)))?;
        (var, c)
    } else {
        // One variable per category.
        let find = |words: &[&str], not: &[&str]| -> Option<String> {
            data.iter().map(|v| v.name.clone()).find(|n| {
                let l = n.to_lowercase();
                let parts: Vec<&str> = l.split(['_', '-', ' ', '.']).collect();
                words.iter().any(|w| parts.contains(w) || l == *w)
                    && !not.iter().any(|w| parts.contains(w))
            })
        };
        // Not the extreme categories (`extreme_probability_below_p10`) beside the terciles.
        let below = find(&["below", "lower", "bn"], &["above", "extreme"]);
        let normal = find(
            &["normal", "near", "middle", "nn"],
            &["below", "above", "extreme"],
        );
        let above = find(&["above", "upper", "an"], &["below", "extreme"]);
        let (Some(below), Some(above)) = (below, above) else {
            return Err(Error::Input {
                path: path.to_path_buf(),
                reason: format!(
                    "no category probabilities found: give a variable with a category dimension (one of {}) or one variable per category (names with below / normal / above); data variables: {}",
                    CATEGORY_DIMS.join(", "),
                    data.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            });
        };
        let mut lo = read_cube(path, &opts(&below, None))?;
        let mut hi = read_cube(path, &opts(&above, None))?;
        let mid = match &normal {
            Some(n) => read_cube(path, &opts(n, None))?,
            None => {
                // Near normal is what the outer categories leave, in their scale.
                let percent = lo
                    .values
                    .iter()
                    .chain(hi.values.iter())
                    .any(|&v| v > 1.0 + 1e-4);
                if percent {
                    for c in [&mut lo, &mut hi] {
                        c.values.mapv_inplace(|v| v / 100.0);
                        c.meta.history.push("percentages divided by 100".into());
                    }
                }
                let mut m = lo.clone();
                m.values = 1.0 - &lo.values - &hi.values;
                m
            }
        };
        if lo.values.dim() != hi.values.dim() || lo.values.dim() != mid.values.dim() {
            return Err(bad(
                &below,
                format!(
                    "the variables {below}, {} and {above} differ in shape",
                    normal.as_deref().unwrap_or("(normal)")
                ),
            ));
        }
        let stacked = concatenate(
            Axis(1),
            &[lo.values.view(), mid.values.view(), hi.values.view()],
        )
        .map_err(|e| bad(&below, e.to_string()))?;
        let mut c = lo;
        c.coords.member = vec![0, 1, 2];
        c.values = stacked.as_standard_layout().into_owned();
        (format!("{below}, {above}"), c)
    };
    if cube.n_member() != categories {
        return Err(bad(
            &name,
            format!(
                "{} categories, but {categories} are verified (terciles: 3)",
                cube.n_member()
            ),
        ));
    }
    let max = cube
        .values
        .iter()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    if max > 1.0 + 1e-4 {
        if max <= 100.0 + 1e-3 {
            cube.values.mapv_inplace(|v| v / 100.0);
            cube.meta.history.push("percentages divided by 100".into());
        } else {
            return Err(bad(
                &name,
                format!("values up to {max}: not probabilities (0–1) nor percentages (0–100)"),
            ));
        }
    }
    let (ni, nc, nl, ny, nx) = cube.values.dim();
    for i in 0..ni {
        for l in 0..nl {
            for y in 0..ny {
                for x in 0..nx {
                    let p: Vec<f32> = (0..nc).map(|c| cube.values[[i, c, l, y, x]]).collect();
                    if p.iter().any(|v| v.is_nan()) {
                        continue;
                    }
                    let sum: f64 = p.iter().map(|&v| f64::from(v)).sum();
                    if p.iter().any(|&v| v < -1e-4) || (sum - 1.0).abs() > SUM_TOLERANCE {
                        let (lat, lon) = cube.coords.spatial.cell_lat_lon(y, x);
                        return Err(bad(
                            &name,
                            format!(
                                "the category probabilities at start {} lead {} ({lat:.2}°N {lon:.2}°E) are {p:?}, summing to {sum:.3}: each must be in 0–1 and together 1 (± {SUM_TOLERANCE})",
                                cube.coords.init[i],
                                cube.coords.lead[l].label()
                            ),
                        ));
                    }
                }
            }
        }
    }
    cube.meta.variable = "probability".into();
    cube.meta.units = "1".into();
    Ok(cube)
}
