//! `s2s verify`: cross-validated skill of each model's hindcast and of the multi-model ensemble
//! against observations — maps (NetCDF) and regional means (JSON, table).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use ndarray::{concatenate, Array3, Axis};
use s2s_ensemble::ensemble::{combine, CombineInput, CombineSpec, WeightScheme};
use s2s_ensemble::io::write::write_spatial;
use s2s_ensemble::io::write_text_atomic;
use s2s_ensemble::io::{CfWriter, ReadOptions};
use s2s_ensemble::verify::{regional_mean, skill_maps, Region, ScoredForecast, SkillMaps};
use s2s_ensemble::Cube;
use serde::Serialize;

use super::{
    align_or_fail, model_names, parse_years, read_observed_series, read_var, Globals, VariableArgs,
};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Hindcast files, one per model, comma-separated (bias-corrected, on one grid).
    #[arg(long, value_name = "FILES", value_delimiter = ',', required = true)]
    hindcast: Vec<PathBuf>,
    /// Observations on the same grid.
    #[arg(long, value_name = "FILE")]
    obs: PathBuf,
    #[command(flatten)]
    input: VariableArgs,
    /// Probabilities of each model and of the MME: counted members (`model`) or PMME (`pmme`,
    /// for ensemble means); the MME weights models equally.
    #[arg(long, default_value = "model", value_name = "METHOD")]
    probabilities: String,
    /// Regions for area means: predefined names or NAME=W,E,S,N, comma-separated.
    #[arg(
        long,
        value_name = "REGIONS",
        value_delimiter = ';',
        default_value = "central_asia;south_asia;southeast_asia"
    )]
    regions: Vec<String>,
    /// Only these years, `FIRST-LAST`.
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Regional means of every score, per model and lead.
#[derive(Debug, Serialize)]
struct RegionSummary {
    region: String,
    bbox: [f64; 4],
    cells: usize,
    models: Vec<ModelSummary>,
}

#[derive(Debug, Serialize)]
struct ModelSummary {
    model: String,
    leads: Vec<LeadSummary>,
}

#[derive(Debug, Serialize)]
struct LeadSummary {
    lead: String,
    acc: f64,
    rmse: f64,
    bias: f64,
    msss: f64,
    rps: f64,
    rpss: f64,
    crps: f64,
    crpss: f64,
    brier: Vec<f64>,
    roc_area: Vec<f64>,
}

const SCALARS: [&str; 8] = [
    "acc", "rmse", "bias", "msss", "rps", "rpss", "crps", "crpss",
];

fn scalar<'a>(m: &'a SkillMaps, name: &str) -> &'a Array3<f32> {
    match name {
        "acc" => &m.acc,
        "rmse" => &m.rmse,
        "bias" => &m.bias,
        "msss" => &m.msss,
        "rps" => &m.rps,
        "rpss" => &m.rpss,
        "crps" => &m.crps,
        _ => &m.crpss,
    }
}

pub fn run(args: &VerifyArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let years = args.years.as_deref().map(parse_years).transpose()?;
    let scheme = match args.probabilities.as_str() {
        "model" => WeightScheme::ModelEqual,
        "pmme" => WeightScheme::Pmme,
        other => bail!("--probabilities '{other}': use model or pmme"),
    };
    let regions: Vec<Region> = args
        .regions
        .iter()
        .map(|r| Region::parse(r))
        .collect::<Result<_, _>>()?;
    let names = model_names(&args.hindcast, &args.input.models)?;
    let mut hc = Vec::new();
    for (p, n) in args.hindcast.iter().zip(&names) {
        let opts = ReadOptions {
            years,
            model: Some(n.clone()),
            ..Default::default()
        };
        hc.push(read_var(p, args.input.variable.as_deref(), opts)?);
    }
    let obs = read_observed_series(
        &args.obs,
        args.input.obs_variable(),
        years,
        args.input.obs_units.clone(),
    )?;
    let (aligned, _) = align_or_fail(&obs, &args.obs, &hc[0])?;
    let spec = CombineSpec {
        scheme,
        full_hindcast: false,
        ..CombineSpec::default()
    };
    let mut systems: Vec<(String, SkillMaps)> = Vec::new();
    for c in &hc {
        let one = [c];
        let out = combine(
            &CombineInput {
                hindcasts: &one,
                forecasts: None,
                obs: Some(&aligned),
            },
            &spec,
        )
        .with_context(|| format!("probabilities of {}", c.meta.model))?;
        let maps = skill_maps(&ScoredForecast {
            probability: out.hindcast.probability.view(),
            ensemble_mean: out.hindcast.mean.view(),
            anomaly: Some(out.hindcast.anomaly.view()),
            members: Some(c.values.view()),
            obs: aligned.values.view(),
            levels: &spec.category_levels,
        })?;
        systems.push((c.meta.model.clone(), maps));
    }
    if hc.len() > 1 {
        let refs: Vec<&Cube> = hc.iter().collect();
        let out = combine(
            &CombineInput {
                hindcasts: &refs,
                forecasts: None,
                obs: Some(&aligned),
            },
            &spec,
        )?;
        let views: Vec<_> = hc.iter().map(|c| c.values.view()).collect();
        let pooled = concatenate(Axis(1), &views).context("pooling the members")?;
        let maps = skill_maps(&ScoredForecast {
            probability: out.hindcast.probability.view(),
            ensemble_mean: out.hindcast.mean.view(),
            anomaly: Some(out.hindcast.anomaly.view()),
            members: Some(pooled.view()),
            obs: aligned.values.view(),
            levels: &spec.category_levels,
        })?;
        systems.push(("MME".to_string(), maps));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let var = args
        .input
        .variable
        .clone()
        .unwrap_or(hc[0].meta.variable.clone());
    let nc_path = args.out.join(format!("skill.{var}.nc"));
    write_skill(&nc_path, g, &hc[0], &systems, &spec.category_levels)?;
    // Regional means.
    let spatial = &hc[0].coords.spatial;
    let mut summary = Vec::new();
    for r in &regions {
        let mut cells = 0;
        let mut models = Vec::new();
        for (name, maps) in &systems {
            let mut leads = Vec::new();
            for (l, lead) in hc[0].coords.lead.iter().enumerate() {
                let mean_of = |a: ndarray::ArrayView2<f32>| {
                    let v = a.as_standard_layout();
                    regional_mean(v.as_slice().expect("standard"), spatial, r)
                };
                let mut vals = [0.0; 8];
                for (k, s) in SCALARS.iter().enumerate() {
                    let (m, n) = mean_of(scalar(maps, s).index_axis(Axis(0), l));
                    vals[k] = m;
                    cells = cells.max(n);
                }
                let per_cat = |a: &ndarray::Array4<f32>| -> Vec<f64> {
                    (0..a.dim().0)
                        .map(|c| mean_of(a.slice(ndarray::s![c, l, .., ..])).0)
                        .collect()
                };
                leads.push(LeadSummary {
                    lead: lead.label(),
                    acc: vals[0],
                    rmse: vals[1],
                    bias: vals[2],
                    msss: vals[3],
                    rps: vals[4],
                    rpss: vals[5],
                    crps: vals[6],
                    crpss: vals[7],
                    brier: per_cat(&maps.brier),
                    roc_area: per_cat(&maps.roc_area),
                });
            }
            models.push(ModelSummary {
                model: name.clone(),
                leads,
            });
        }
        summary.push(RegionSummary {
            region: r.name.clone(),
            bbox: [r.bbox.west, r.bbox.east, r.bbox.south, r.bbox.north],
            cells,
            models,
        });
    }
    let json_path = args.out.join(format!("skill_summary.{var}.json"));
    write_text_atomic(&json_path, &serde_json::to_string_pretty(&summary)?)?;
    if !g.quiet {
        println!(
            "{:<16} {:<14} {:>6} {:>7} {:>7} {:>6}",
            "region", "model", "cells", "ACC", "RPSS", "CRPSS"
        );
        for r in &summary {
            if r.cells == 0 {
                continue;
            }
            for m in &r.models {
                let l = &m.leads[0];
                println!(
                    "{:<16} {:<14} {:>6} {:>7.3} {:>7.3} {:>6.3}",
                    r.region, m.model, r.cells, l.acc, l.rpss, l.crpss
                );
            }
        }
        eprintln!("  {}\n  {}", nc_path.display(), json_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Skill maps of every system into one file, with a `model` coordinate that includes `MME`.
fn write_skill(
    path: &std::path::Path,
    g: &Globals,
    template: &Cube,
    systems: &[(String, SkillMaps)],
    levels: &[f64],
) -> anyhow::Result<()> {
    let mut w = CfWriter::create(path, &g.write_options())?;
    w.global_text(
        "title",
        "Cross-validated hindcast skill of each model and the multi-model ensemble",
    )?;
    let nl = template.n_lead();
    w.dimension("model", systems.len())?;
    let names: Vec<String> = systems.iter().map(|s| s.0.clone()).collect();
    w.string_var(
        "model",
        "model",
        &names,
        &[("long_name", "forecast system")],
    )?;
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
    w.f64_var("lead_bnds", &["lead", "bnds"], &bnds, &[("units", unit)])?;
    w.dimension("category", levels.len() + 1)?;
    let labels: Vec<String> = if levels.len() == 2 {
        ["below_normal", "near_normal", "above_normal"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        (0..=levels.len())
            .map(|c| format!("category_{c}"))
            .collect()
    };
    w.string_var(
        "category",
        "category",
        &labels,
        &[("long_name", "forecast category")],
    )?;
    let sp = write_spatial(&mut w, &template.coords.spatial)?;
    let (ny, nx) = template.coords.spatial.shape();
    let spatial_count = super::combine::spatial_count(sp.len(), ny, nx);
    let long = |s: &str| match s {
        "acc" => "anomaly correlation of the ensemble mean",
        "rmse" => "root-mean-square error of the ensemble mean",
        "bias" => "mean error of the ensemble mean",
        "msss" => "mean-squared-error skill score",
        "rps" => "ranked probability score (mean over years)",
        "rpss" => "ranked probability skill score against climatology",
        "crps" => "fair continuous ranked probability score (Ferro 2014)",
        "crpss" => "fair CRPS skill score against the observed climatology",
        "brier" => "Brier score per category",
        _ => "area under the ROC curve per category",
    };
    let units = template.meta.units.clone();
    for s in SCALARS {
        let mut dims = vec!["model", "lead"];
        dims.extend(sp.iter().copied());
        let mut shape = vec![systems.len(), nl];
        shape.extend_from_slice(&spatial_count);
        let u = if matches!(s, "rmse" | "bias" | "crps") {
            units.as_str()
        } else {
            "1"
        };
        w.def_f32(
            s,
            &dims,
            &shape,
            &[("units", u), ("long_name", long(s))],
            &[],
        )?;
        for (m, (_, maps)) in systems.iter().enumerate() {
            let a = scalar(maps, s);
            let mut start = vec![m, 0];
            start.resize(2 + spatial_count.len(), 0);
            let mut count = vec![1, nl];
            count.extend_from_slice(&spatial_count);
            w.put_f32(s, &start, &count, a.as_slice().expect("standard layout"))?;
        }
    }
    for s in ["brier", "roc_area"] {
        let mut dims = vec!["model", "category", "lead"];
        dims.extend(sp.iter().copied());
        let mut shape = vec![systems.len(), levels.len() + 1, nl];
        shape.extend_from_slice(&spatial_count);
        w.def_f32(
            s,
            &dims,
            &shape,
            &[("units", "1"), ("long_name", long(s))],
            &[],
        )?;
        for (m, (_, maps)) in systems.iter().enumerate() {
            let a = if s == "brier" {
                &maps.brier
            } else {
                &maps.roc_area
            };
            let mut start = vec![m, 0, 0];
            start.resize(3 + spatial_count.len(), 0);
            let mut count = vec![1, levels.len() + 1, nl];
            count.extend_from_slice(&spatial_count);
            w.put_f32(s, &start, &count, a.as_slice().expect("standard layout"))?;
        }
    }
    w.finish()?;
    Ok(())
}
