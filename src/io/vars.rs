//! Finding and reading the variable a user means: by exact name, or `pr` / `tas` by its
//! quantity (CF `standard_name`, units); observed series; fields in their file's units with a
//! conversion and a plausibility check of the converted median.
//!
//! Every job of [`crate::pipeline`] and every subcommand reads its inputs through these, so a
//! file is understood the same way everywhere.

use std::path::Path;

use super::{read_cube, ReadOptions};
use crate::cube::{BBox, CubeKind};
use crate::error::{Error, Result};
use crate::units::Quantity;
use crate::Cube;

/// The name of the variable meant by `var` in a file: an exact name, or `pr` / `tas` found by
/// its quantity (CF metadata and units).
pub fn resolve_var(path: &Path, var: &str) -> Result<String> {
    let vars = super::inspect::variable_quantities(path)?;
    let names: Vec<&str> = vars.iter().map(|v| v.0.as_str()).collect();
    if names.contains(&var) {
        return Ok(var.to_string());
    }
    let wanted = match var {
        "pr" => Quantity::Precipitation,
        "tas" => Quantity::Temperature,
        _ => {
            return Err(Error::MissingVariable {
                path: path.to_path_buf(),
                variable: var.to_string(),
                present: names.join(", "),
            })
        }
    };
    let found: Vec<&str> = vars
        .iter()
        .filter(|v| v.1 == wanted)
        .map(|v| v.0.as_str())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::AmbiguousVariable {
            path: path.to_path_buf(),
            reason: format!(
                "no {var} variable (by name or CF metadata) among {}",
                names.join(", ")
            ),
        }),
        many => Err(Error::AmbiguousVariable {
            path: path.to_path_buf(),
            reason: format!(
                "several {var} variables ({}); give the name with --var",
                many.join(", ")
            ),
        }),
    }
}

/// Reads the variable meant by `var` from a file (see [`resolve_var`]; `pr` and `tas` are then
/// the cube's variable name; `None`: the file's only data variable), with the other read
/// options of `opts`.
pub fn read_var(path: &Path, var: Option<&str>, opts: ReadOptions) -> Result<Cube> {
    let Some(var) = var else {
        return read_cube(path, &opts);
    };
    let name = resolve_var(path, var)?;
    // `--assume-units pr=…` names the alias the user asked for, not the file's name for it.
    let assume_units = opts.assume_units.clone().or_else(|| {
        (name != var)
            .then(|| super::assumed_units_for(var))
            .flatten()
    });
    let mut cube = read_cube(
        path,
        &ReadOptions {
            variable: Some(name),
            assume_units,
            ..opts
        },
    )?;
    if matches!(var, "pr" | "tas") {
        cube.meta.variable = var.to_string();
    }
    Ok(cube)
}

/// An observed series `(time, lat, lon)` read as [`read_var`] does; an error for anything with
/// start dates and leads.
pub fn read_observed_series(
    path: &Path,
    var: Option<&str>,
    years: Option<(i32, i32)>,
    units: Option<String>,
    season: Option<crate::calendar::Season>,
) -> Result<Cube> {
    let opts = ReadOptions {
        years,
        assume_units: units,
        season,
        ..Default::default()
    };
    let obs = read_var(path, var, opts)?;
    if obs.meta.kind != CubeKind::Observed {
        return Err(Error::Dimensions {
            path: path.to_path_buf(),
            variable: obs.meta.variable.clone(),
            reason: "give observations as a time series (time, lat, lon)".into(),
        });
    }
    Ok(obs)
}

/// `given`, else the first of `names` the file has as a data variable.
pub fn pick(path: &Path, given: Option<&str>, names: &[&str]) -> Result<Option<String>> {
    if let Some(g) = given {
        return Ok(Some(g.to_string()));
    }
    let vars = super::inspect::data_variable_names(path)?;
    Ok(names
        .iter()
        .find(|n| vars.iter().any(|v| v == *n))
        .map(|n| n.to_string()))
}

/// A variable in its file's units (optionally a box and one pressure level).
pub fn read_raw(
    path: &Path,
    var: &str,
    bbox: Option<&BBox>,
    level_hpa: Option<f64>,
) -> Result<Cube> {
    read_cube(
        path,
        &ReadOptions {
            variable: Some(var.to_string()),
            bbox: bbox.cloned(),
            keep_units: true,
            level_hpa,
            ..Default::default()
        },
    )
}

/// A variable in its file's units at the ocean level nearest the sea surface, when it has
/// ocean levels ([`ReadOptions::surface_level`]): what a drift forecast takes from an ocean
/// model's 3-D currents.
pub fn read_surface(path: &Path, var: &str) -> Result<Cube> {
    read_cube(
        path,
        &ReadOptions {
            variable: Some(var.to_string()),
            keep_units: true,
            surface_level: true,
            ..Default::default()
        },
    )
}

/// Multiplies a cube by the factor its units need to become `wanted` (`factor` says it, or
/// `None` for units it does not understand), then checks that the median of the converted
/// values lies in `plausible`: wrong units are an error naming the file, the variable and the
/// units, never a silently scaled field.
pub fn to_units(
    mut c: Cube,
    path: &Path,
    factor: fn(&str) -> Option<f64>,
    wanted: &str,
    plausible: (f64, f64),
) -> Result<Cube> {
    let units_error = |c: &Cube, reason: String| Error::Units {
        path: path.to_path_buf(),
        variable: c.meta.variable.clone(),
        reason,
    };
    let Some(f) = factor(&c.meta.units) else {
        return Err(units_error(
            &c,
            format!("units '{}' cannot be converted to {wanted}", c.meta.units),
        ));
    };
    if f != 1.0 {
        c.values.mapv_inplace(|x| (x as f64 * f) as f32);
    }
    // the median of a systematic sample of ~100 000 values: enough to tell units apart
    let stride = (c.values.len() / 100_000).max(1);
    let mut finite: Vec<f32> = c
        .values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if finite.is_empty() {
        finite = c.values.iter().copied().filter(|x| x.is_finite()).collect();
    }
    if finite.is_empty() {
        return Err(Error::Data {
            path: path.to_path_buf(),
            variable: c.meta.variable.clone(),
            reason: "missing (NaN) everywhere".into(),
        });
    }
    let mid = finite.len() / 2;
    let median = *finite.select_nth_unstable_by(mid, f32::total_cmp).1 as f64;
    if !(plausible.0..=plausible.1).contains(&median) {
        return Err(units_error(
            &c,
            format!(
                "a median of {median:.6} {wanted} after converting from '{}': not plausible (expected {}–{}); are the units right?",
                c.meta.units, plausible.0, plausible.1
            ),
        ));
    }
    c.meta.units = wanted.to_string();
    Ok(c)
}
