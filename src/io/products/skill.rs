//! The skill product, `skill.<var>.nc`: per model (and `MME`), lead and cell the scalar
//! scores (ACC, RMSE, bias, MSSS, RPS, RPSS, CRPS, CRPSS), their bootstrap intervals and
//! significance where computed, and the Brier score and ROC area per category; global
//! attributes say how ACC, CRPS and RPSS are defined.

use std::collections::BTreeSet;
use std::path::Path;

use ndarray::Array3;

use crate::error::Result;
use crate::io::write::{write_spatial, LabelAxis};
use crate::io::{CfWriter, WriteOptions};
use crate::verify::{Bootstrap, SkillMaps};
use crate::Cube;

/// The per-cell scalar scores of the skill file.
pub const SCALARS: [&str; 8] = [
    "acc", "rmse", "bias", "msss", "rps", "rpss", "crps", "crpss",
];

/// The map of the scalar score (or interval bound) `name`.
pub fn scalar<'a>(m: &'a SkillMaps, name: &str) -> &'a Array3<f32> {
    match name {
        "acc" => &m.acc,
        "rmse" => &m.rmse,
        "bias" => &m.bias,
        "msss" => &m.msss,
        "rps" => &m.rps,
        "rpss" => &m.rpss,
        "crps" => &m.crps,
        "crpss" => &m.crpss,
        "acc_lower" => &m.acc_lower,
        "acc_upper" => &m.acc_upper,
        "rpss_lower" => &m.rpss_lower,
        _ => &m.rpss_upper,
    }
}

/// Whether a score is significantly above 0, from the lower end of its interval (`None`
/// without one).
pub fn significance(lower: f32) -> Option<bool> {
    (!lower.is_nan()).then_some(lower > 0.0)
}

/// Skill maps of every system into one file, with a `model` coordinate that includes `MME`.
/// What goes into the skill file besides the maps.
pub struct SkillFile<'a> {
    pub levels: &'a [f64],
    pub scores: &'a BTreeSet<&'static str>,
    pub bootstrap: Option<&'a Bootstrap>,
    /// Global attributes saying how ACC, CRPS and RPSS are defined.
    pub definitions: [(&'static str, &'static str); 3],
}

pub fn write_skill(
    path: &Path,
    opts: &WriteOptions,
    template: &Cube,
    systems: &[(&str, &SkillMaps)],
    spec: &SkillFile,
) -> Result<()> {
    let SkillFile {
        levels,
        scores,
        bootstrap,
        definitions,
    } = *spec;
    let mut w = CfWriter::create(path, opts)?;
    w.global_text(
        "title",
        "Cross-validated hindcast skill of each model and the multi-model ensemble",
    )?;
    for (name, text) in definitions {
        w.global_text(name, text)?;
    }
    if let Some(b) = bootstrap {
        w.global_text(
            "bootstrap",
            &format!(
                "{} resamples of the {} start years with replacement; percentile intervals at confidence {}",
                b.len(),
                b.years(),
                b.confidence
            ),
        )?;
    }
    let nl = template.n_lead();
    let names: Vec<String> = systems.iter().map(|s| s.0.to_string()).collect();
    w.label_axis(LabelAxis::named("model", "forecast system", &names))?;
    w.dimension("lead", nl)?;
    w.dimension("bnds", 2)?;
    let unit = template
        .coords
        .lead
        .first()
        .map(|l| l.unit.cf_name())
        .unwrap_or("months");
    let starts: Vec<f64> = template.coords.lead.iter().map(|l| l.start).collect();
    let bnds: Vec<f64> = template
        .coords
        .lead
        .iter()
        .flat_map(|l| [l.start, l.start + l.width])
        .collect();
    w.f64_var(
        "lead",
        &["lead"],
        &starts,
        &[
            ("units", unit),
            ("standard_name", "forecast_period"),
            ("bounds", "lead_bnds"),
        ],
    )?;
    w.f64_var("lead_bnds", &["lead", "bnds"], &bnds, &[])?;
    let labels: Vec<String> = if levels.len() == 2 {
        ["below", "near", "above"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        (0..=levels.len())
            .map(|c| format!("category_{c}"))
            .collect()
    };
    w.label_axis(LabelAxis::named("category", "forecast category", &labels))?;
    let sp = write_spatial(&mut w, &template.coords.spatial)?;
    let (ny, nx) = template.coords.spatial.shape();
    let spatial_count = crate::io::products::mme::spatial_count(sp.len(), ny, nx);
    let long = |s: &str| match s {
        "acc" => "anomaly correlation of the ensemble mean",
        "rmse" => "root-mean-square error of the ensemble mean",
        "bias" => "mean error of the ensemble mean",
        "msss" => "mean-squared-error skill score",
        "rps" => "ranked probability score (mean over years)",
        "rpss" => "ranked probability skill score against climatology",
        "crps" => "continuous ranked probability score of the members (mean over years)",
        "crpss" => "CRPS skill score against the observed climatology of the other years",
        "acc_lower" => "lower end of the bootstrap confidence interval of the ACC",
        "acc_upper" => "upper end of the bootstrap confidence interval of the ACC",
        "rpss_lower" => "lower end of the bootstrap confidence interval of the RPSS",
        "rpss_upper" => "upper end of the bootstrap confidence interval of the RPSS",
        "brier" => "Brier score per category",
        _ => "area under the ROC curve per category",
    };
    let units = template.meta.units.clone();
    let map_dims = |lead_first: &[&'static str]| {
        let mut dims: Vec<&str> = vec!["model"];
        dims.extend_from_slice(lead_first);
        dims.extend(sp.iter().copied());
        dims
    };
    let mut written: Vec<&str> = SCALARS
        .iter()
        .copied()
        .filter(|s| scores.contains(s))
        .collect();
    if bootstrap.is_some() {
        for (score, bounds) in [
            ("acc", ["acc_lower", "acc_upper"]),
            ("rpss", ["rpss_lower", "rpss_upper"]),
        ] {
            if scores.contains(score) {
                written.extend(bounds);
            }
        }
    }
    let mut shape = vec![systems.len(), nl];
    shape.extend_from_slice(&spatial_count);
    let mut count = vec![1, nl];
    count.extend_from_slice(&spatial_count);
    let start_of = |m: usize, extra: usize| {
        let mut start = vec![m];
        start.resize(1 + extra + spatial_count.len(), 0);
        start
    };
    for s in &written {
        let u = if matches!(*s, "rmse" | "bias" | "crps") {
            units.as_str()
        } else {
            "1"
        };
        w.def_f32(
            s,
            &map_dims(&["lead"]),
            &shape,
            &[("units", u), ("long_name", long(s))],
            &[],
        )?;
        for (m, sys) in systems.iter().enumerate() {
            let a = scalar(sys.1, s);
            w.put_f32(
                s,
                &start_of(m, 1),
                &count,
                a.as_slice().expect("standard layout"),
            )?;
        }
    }
    if let Some(b) = bootstrap {
        for score in ["acc", "rpss"].iter().filter(|s| scores.contains(*s)) {
            let name = format!("{score}_significant");
            let long = format!(
                "{} significantly above 0: the {:.0} % bootstrap interval lies above 0",
                score.to_uppercase(),
                b.confidence * 100.0
            );
            w.def_i8(
                &name,
                &map_dims(&["lead"]),
                &shape,
                -1,
                &[
                    ("long_name", &long),
                    ("flag_meanings", "not_significant significant"),
                ],
            )?;
            w.var_attr(&name, "flag_values", vec![0i8, 1])?;
            for (m, sys) in systems.iter().enumerate() {
                let lower = scalar(sys.1, &format!("{score}_lower"));
                let flags: Vec<i8> = lower
                    .iter()
                    .map(|&v| significance(v).map_or(-1, i8::from))
                    .collect();
                w.put_i8(&name, &start_of(m, 1), &count, &flags)?;
            }
        }
    }
    let ncat = levels.len() + 1;
    for (key, s) in [("brier", "brier"), ("roc", "roc_area")] {
        if !scores.contains(key) {
            continue;
        }
        let mut shape = vec![systems.len(), ncat, nl];
        shape.extend_from_slice(&spatial_count);
        w.def_f32(
            s,
            &map_dims(&["category", "lead"]),
            &shape,
            &[("units", "1"), ("long_name", long(s))],
            &[],
        )?;
        let mut count = vec![1, ncat, nl];
        count.extend_from_slice(&spatial_count);
        for (m, sys) in systems.iter().enumerate() {
            let a = if s == "brier" {
                &sys.1.brier
            } else {
                &sys.1.roc_area
            };
            w.put_f32(
                s,
                &start_of(m, 2),
                &count,
                a.as_slice().expect("standard layout"),
            )?;
        }
    }
    w.finish()?;
    Ok(())
}
