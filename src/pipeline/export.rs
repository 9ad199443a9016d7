//! `s2s export`: a multi-model forecast file (`mme_forecast.<var>.nc`, either layout, also
//! after `s2s regrid`) as GIS layers — per lead, a GeoTIFF of the category probabilities (one
//! band per category, lowest first, EPSG:4326, nodata −9999) and one of the dominant category
//! (Int16: −1 no dominant category, 0 … lowest …, nodata −32768) — for the start date asked
//! for (default: the last one in the file).
//!
//! The maps are the file's values, unchanged; rows are written north to south.

use std::path::{Path, PathBuf};

use ndarray::{Array3, Axis};

use crate::cube::Spatial;
use crate::error::{Error, Result};
use crate::io::geotiff::{write_geotiff, Bands};
use crate::io::{read_cube, ReadOptions};

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// The forecast file.
    pub input: PathBuf,
    /// Output directory (created if needed).
    pub out: PathBuf,
    /// Start date index; `None`: the last start of the file.
    pub init: Option<usize>,
}

/// Writes the GeoTIFFs of every lead; returns their paths.
pub fn export_geotiff(plan: &ExportPlan) -> Result<Vec<PathBuf>> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&plan.out, || export_geotiff_staged(plan))
}

fn export_geotiff_staged(plan: &ExportPlan) -> Result<Vec<PathBuf>> {
    let path = plan.input.as_path();
    let (names, categories) = category_names(path)?;
    let probs = crate::io::read_category_probabilities(path, None, None, categories, "forecast")?;
    let (lat, lon) = match &probs.coords.spatial {
        Spatial::Grid { lat, lon } => (lat.clone(), lon.clone()),
        other => {
            return Err(Error::Input {
                path: path.to_path_buf(),
                reason: format!(
                    "GeoTIFF needs a regular latitude/longitude grid, the file has {}: regrid it first (s2s regrid --grid)",
                    other.describe()
                ),
            })
        }
    };
    let n_init = probs.n_init();
    let t = match plan.init {
        Some(i) if i < n_init => i,
        Some(i) => {
            return Err(Error::invalid(
                "--init-index",
                format!(
                    "{i} is past the {n_init} start date(s) of {}",
                    path.display()
                ),
            ))
        }
        None => n_init - 1,
    };
    let dominant = read_cube(
        path,
        &ReadOptions {
            variable: Some("dominant_category".into()),
            keep_units: true,
            allow_all_missing: true,
            ..Default::default()
        },
    )
    .ok();
    crate::io::create_dir(&plan.out)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "forecast".into());
    let date = probs.coords.init[t].to_string().replace(':', "");
    let mut written = Vec::new();
    for (l, lead) in probs.coords.lead.iter().enumerate() {
        // (category, lat, lon) of this start and lead
        let p: Array3<f32> = probs
            .values
            .index_axis(Axis(0), t)
            .index_axis(Axis(1), l)
            .to_owned();
        let tag = lead.label().replace([' ', '–'], "_");
        let target = plan
            .out
            .join(format!("{stem}.{date}.{tag}.probability.tif"));
        written.push(write_geotiff(
            &target,
            &lat,
            &lon,
            &Bands::F32(p.view()),
            &names,
        )?);
        if let Some(d) = &dominant {
            if d.values.dim().2 == probs.values.dim().2 && d.coords.spatial == probs.coords.spatial
            {
                let band = d
                    .values
                    .index_axis(Axis(0), t)
                    .index_axis(Axis(0), 0)
                    .index_axis(Axis(0), l)
                    .mapv(|v| {
                        // -1: no dominant category; the byte fill (-127) is missing.
                        (v.is_finite() && v > f32::from(crate::ensemble::combine::DOMINANT_FILL))
                            .then_some(v as i16)
                    })
                    .insert_axis(Axis(0));
                let target = plan
                    .out
                    .join(format!("{stem}.{date}.{tag}.dominant_category.tif"));
                let label = format!(
                    "dominant category: -1 none, {}",
                    names
                        .iter()
                        .enumerate()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                written.push(write_geotiff(
                    &target,
                    &lat,
                    &lon,
                    &Bands::I16(band),
                    &[label],
                )?);
            }
        }
    }
    Ok(written)
}

/// The category names of a forecast file and how many there are: the `category_name`
/// attributes of the per-category variables (CDO layout), else the terciles.
fn category_names(path: &Path) -> Result<(Vec<String>, usize)> {
    use crate::io::decode::AttrValue;
    let file = crate::io::read::open(path)?;
    let meta = crate::io::read::file_meta(path, &file);
    let parts: Vec<String> = meta
        .split_parts("probability", "category")
        .into_iter()
        .map(|(i, v)| match v.attrs.get("category_name") {
            Some(AttrValue::Text(t)) => t.clone(),
            _ => format!("category {i}"),
        })
        .collect();
    if parts.is_empty() {
        // The N-D layout (or a file of another centre): its category dimension's length.
        let n = meta
            .dims
            .iter()
            .find(|(d, _)| {
                crate::io::probabilities::CATEGORY_DIMS.contains(&d.to_lowercase().as_str())
            })
            .map_or(3, |d| d.1);
        let names = if n == 3 {
            vec!["below".into(), "near".into(), "above".into()]
        } else {
            (0..n).map(|k| format!("category {k}")).collect()
        };
        return Ok((names, n));
    }
    let n = parts.len();
    Ok((parts, n))
}
