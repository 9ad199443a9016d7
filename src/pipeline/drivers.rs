//! `s2s drivers`: the Niño 3.4 and Indian Ocean Dipole plumes of several models' SST forecasts
//! ([`crate::indices::drivers`]): `drivers.json`, `drivers.csv`
//! (`index,model,member,lead,target,anomaly`), `drivers.md` and `plume_<index>.png`.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::indices::drivers::{driver_plume, grid_covers, DriverPlume, DRIVER_INDICES};

use super::RunOptions;

/// What `s2s drivers` computes.
#[derive(Debug, Clone)]
pub struct DriversPlan {
    /// `(model, hindcast files, forecast files)`.
    pub models: super::ModelInputs,
    /// Observed monthly SST record.
    pub observed: Option<PathBuf>,
    /// SST variable (default: each file's only data variable).
    pub variable: Option<String>,
    /// Output folder.
    pub out: PathBuf,
    /// History and compression of the outputs.
    pub run: RunOptions,
}

/// What the job wrote and found.
#[derive(Debug, Clone, Serialize)]
pub struct DriversReport {
    /// One plume per index the grids cover.
    pub plumes: Vec<DriverPlume>,
    /// Indices left out, with the reason (a regional grid that misses the Pacific).
    pub skipped: Vec<String>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Reads the SST files and computes the plumes of the indices the grids reach.
pub fn driver_plumes(plan: &DriversPlan) -> Result<DriversReport> {
    let mut models = Vec::new();
    for (name, h, f) in &plan.models {
        models.push((
            name.clone(),
            super::read_file_set(h, plan.variable.as_deref())?,
            super::read_file_set(f, plan.variable.as_deref())?,
        ));
    }
    let observed = match &plan.observed {
        Some(p) => Some(super::read_file_set(
            std::slice::from_ref(p),
            plan.variable.as_deref(),
        )?),
        None => None,
    };
    let mut plumes = Vec::new();
    let mut skipped = Vec::new();
    for index in &DRIVER_INDICES {
        // a model grid that misses a box (a regional grid without the Pacific) leaves that
        // index out; the observations must cover what the models cover
        if let Some((name, _, f)) = models
            .iter()
            .find(|(_, _, f)| !grid_covers(&f.coords.spatial, index))
        {
            skipped.push(format!(
                "{}: the grid of model '{name}' ({}) does not reach its boxes",
                index.long_name,
                f.coords.spatial.describe()
            ));
            continue;
        }
        plumes.push(driver_plume(&models, observed.as_ref(), index)?);
    }
    if plumes.is_empty() {
        return Err(Error::invalid(
            "drivers",
            format!("no index could be computed: {}", skipped.join("; ")),
        ));
    }
    Ok(DriversReport {
        plumes,
        skipped,
        files: Vec::new(),
    })
}

/// Writes `drivers.json`, `drivers.csv`, `drivers.md` and the plumes into `out` (inside
/// whatever output set is open); the report gets the file names.
/// The words are `cat`'s.
pub fn write_drivers(
    report: &mut DriversReport,
    out: &std::path::Path,
    cat: &crate::bulletin::Catalogue,
) -> Result<()> {
    let json = out.join("drivers.json");
    let csv = out.join("drivers.csv");
    let md = out.join("drivers.md");
    let pngs: Vec<PathBuf> = report
        .plumes
        .iter()
        .map(|p| out.join(format!("plume_{}.png", p.index)))
        .collect();
    report.files = vec![json.clone(), csv.clone(), md.clone()];
    report.files.extend(pngs.iter().cloned());
    crate::io::write_text_atomic(&json, &serde_json::to_string_pretty(&report)?)?;
    crate::io::write_text_atomic(&csv, &drivers_csv(&report.plumes))?;
    crate::io::write_text_atomic(&md, &drivers_markdown(report, "#", cat))?;
    for (p, png) in report.plumes.iter().zip(&pngs) {
        crate::bulletin::regional::render_driver_plume(png, p, cat)?;
    }
    Ok(())
}

/// Runs the plumes and writes their files as one set in `plan.out`.
pub fn drivers(plan: &DriversPlan) -> Result<DriversReport> {
    let mut report = driver_plumes(plan)?;
    crate::io::create_dir(&plan.out)?;
    let english = crate::bulletin::Catalogue::english()?;
    crate::outputs::staging::as_one_set(&plan.out, || {
        write_drivers(&mut report, &plan.out, &english)
    })?;
    Ok(report)
}

/// `index,model,member,lead,target,anomaly`: every member's anomaly, then each model's mean
/// (`member = mean`) and the MME's (`model = MME`).
pub fn drivers_csv(plumes: &[DriverPlume]) -> String {
    let mut s = String::from("index,model,member,lead,target,anomaly\n");
    for p in plumes {
        for m in &p.models {
            for (k, member) in m.members.iter().enumerate() {
                for (l, v) in member.iter().enumerate() {
                    s.push_str(&format!(
                        "{},{},{k},{l},{},{v:.4}\n",
                        p.index, m.model, p.targets[l]
                    ));
                }
            }
            for (l, v) in m.mean.iter().enumerate() {
                s.push_str(&format!(
                    "{},{},mean,{l},{},{v:.4}\n",
                    p.index, m.model, p.targets[l]
                ));
            }
        }
        for (l, v) in p.mme_mean.iter().enumerate() {
            s.push_str(&format!(
                "{},MME,mean,{l},{},{v:.4}\n",
                p.index, p.targets[l]
            ));
        }
    }
    s
}

/// One table per index: the MME mean, its 10–90 % range and the phase probabilities per month;
/// `level` is the Markdown heading of the title (`#`, or `##` inside a bulletin).
pub fn drivers_markdown(
    r: &DriversReport,
    level: &str,
    cat: &crate::bulletin::Catalogue,
) -> String {
    // a word of the `drivers` table by the index's key, or the index's own English
    let word = |key: String, english: &str| cat.text_or(&key, || english.to_string());
    let signed = |x: f64| cat.signed(x, 2);
    let mut s = format!("{level} {}\n\n", cat.text("drivers.heading", &[]));
    for p in &r.plumes {
        let (positive, negative) = (
            word(format!("drivers.{}_positive", p.index), &p.phases.0),
            word(format!("drivers.{}_negative", p.index), &p.phases.1),
        );
        s.push_str(&format!(
            "{level}# {}\n\n{}\n\n{}\n|---|---|---|---|---|\n",
            word(format!("drivers.{}", p.index), &p.long_name),
            cat.text(
                "drivers.forecast_from",
                &[("start", &p.start), ("threshold", &p.threshold.to_string())]
            ),
            cat.text(
                "drivers.columns",
                &[("positive", &positive), ("negative", &negative)]
            )
        ));
        for (l, t) in p.targets.iter().enumerate() {
            s.push_str(&format!(
                "| {t} | {} | {} … {} | {} % | {} % |\n",
                signed(p.mme_mean[l]),
                signed(p.mme_range[l].0),
                signed(p.mme_range[l].1),
                cat.number(100.0 * p.prob_positive[l], 0),
                cat.number(100.0 * p.prob_negative[l], 0)
            ));
        }
        if let Some((m, v)) = p.observed.iter().rev().find(|(m, _)| m < &p.targets[0]) {
            s.push_str(&format!(
                "\n{}\n",
                cat.text(
                    "drivers.last_observed",
                    &[("month", m), ("value", &signed(*v))]
                )
            ));
        }
        s.push_str(&format!(
            "\n![{}](plume_{}.png)\n\n",
            cat.text("drivers.plume", &[("index", &p.index)]),
            p.index
        ));
    }
    for k in &r.skipped {
        s.push_str(&format!(
            "{}\n\n",
            cat.text("drivers.not_computed", &[("what", k)])
        ));
    }
    s
}
