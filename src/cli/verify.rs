//! `s2s verify`: cross-validated skill of each model's hindcast and of the multi-model ensemble
//! against observations — maps with bootstrap intervals and significance (NetCDF), regional
//! means, diagram data and the MME-against-best-model comparison (JSON, table), and one PNG of
//! reliability / ROC / rank-histogram diagrams per region and lead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use ndarray::{concatenate, Array3, ArrayView2, Axis};
use s2s_ensemble::bulletin::{render_verification_diagrams, DiagramCategory, DiagramSystem};
use s2s_ensemble::ensemble::{
    collapsed_categories, combine, CombineInput, CombineSpec, WeightScheme,
};
use s2s_ensemble::io::write::write_spatial;
use s2s_ensemble::io::write_text_atomic;
use s2s_ensemble::io::{CfWriter, ReadOptions};
use s2s_ensemble::verify::{
    regional_diagnostics, regional_mean, skill_maps, Bootstrap, Interval, Region,
    RegionalDiagnostics, ReliabilityBin, RocCurve, ScoredForecast, SkillMaps,
};
use s2s_ensemble::Cube;
use serde::Serialize;

use s2s_ensemble::io::{read_observed_series, read_var};
use s2s_ensemble::pipeline::{align_or_fail, load_countries, model_names};

use super::{parse_years, Globals, VariableArgs};

/// Every score `--scores` accepts.
const ALL_SCORES: [&str; 13] = [
    "acc",
    "rmse",
    "bias",
    "msss",
    "rps",
    "rpss",
    "crps",
    "crpss",
    "brier",
    "roc",
    "reliability",
    "rank",
    "pattern",
];

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
    /// Scores to compute and write, comma-separated: acc, rmse, bias, msss, rps, rpss, crps,
    /// crpss, brier, roc (area map and curves), reliability (diagram data), rank (rank
    /// histogram), pattern (pattern ACC per year), or `all`.
    #[arg(
        long,
        value_name = "SCORES",
        value_delimiter = ',',
        default_value = "all"
    )]
    scores: Vec<String>,
    /// Regions for area means and diagrams, `;`-separated: predefined names (central_asia,
    /// south_asia, southeast_asia: country sets), a country (`Nepal`, `KAZ`),
    /// NAME=W,E,S,N (a box) or NAME=Country,Country.
    #[arg(
        long,
        value_name = "REGIONS",
        value_delimiter = ';',
        default_value = "central_asia;south_asia;southeast_asia"
    )]
    regions: Vec<String>,
    /// Country polygons (GeoJSON with `name` / `iso_a3`) for country regions (default: the
    /// bundled Natural Earth 1:110m countries).
    #[arg(long, value_name = "FILE")]
    countries: Option<PathBuf>,
    /// What the ACC correlates with the observations: `anomaly` — the ensemble-mean anomaly
    /// against each model's own cross-validated climatology (needed for PMME, whose
    /// calibrated mean carries the left-out observation) — or `mean`, the raw ensemble mean
    /// (climpred's `e2o` / xskillscore `pearson_r`). The two agree when there is one start
    /// per year and calendar month.
    #[arg(long, default_value = "anomaly", value_name = "WHAT")]
    acc_of: String,
    /// `fair` CRPS (Ferro 2014, unbiased for small ensembles) or `plain` ensemble CRPS
    /// (properscoring, xskillscore.crps_ensemble, climpred).
    #[arg(long, default_value = "fair", value_name = "KIND")]
    crps: String,
    /// Debiased RPSS (Weigel et al. 2007) for the ensemble size, for member-count
    /// probabilities (`--probabilities model`).
    #[arg(long)]
    rpss_debiased: bool,
    /// Bootstrap resamples of the years for confidence intervals of ACC and RPSS (0: none).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    bootstrap: usize,
    /// Confidence level of the bootstrap intervals; a cell is significant when the whole
    /// interval is above 0.
    #[arg(long, default_value_t = 0.95, value_name = "LEVEL")]
    confidence: f64,
    /// Seed of the bootstrap resamples (same seed, same intervals).
    #[arg(long, default_value_t = 20_261_123)]
    seed: u64,
    /// Probability bins of the reliability diagram.
    #[arg(long, default_value_t = 10, value_name = "N")]
    reliability_bins: usize,
    /// Only these years, `FIRST-LAST`.
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// The whole summary file.
#[derive(Debug, Serialize)]
struct Summary {
    variable: String,
    units: String,
    start_years: Vec<i32>,
    probabilities: String,
    acc: &'static str,
    crps: &'static str,
    rpss: &'static str,
    bootstrap: Option<BootstrapSettings>,
    scores: Vec<&'static str>,
    regions: Vec<RegionSummary>,
}

#[derive(Debug, Serialize)]
struct BootstrapSettings {
    resamples: usize,
    confidence: f64,
    seed: u64,
}

/// Regional means of every score, per model and lead, and the MME against the best model.
#[derive(Debug, Serialize)]
struct RegionSummary {
    region: String,
    bbox: [f64; 4],
    countries: Vec<String>,
    cells: usize,
    models: Vec<ModelSummary>,
    mme_against_best_model: Vec<Comparison>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    acc_interval: Option<Interval>,
    /// Share of the region's area where the cell's ACC interval is above 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    acc_significant_area: Option<f64>,
    rmse: f64,
    bias: f64,
    msss: f64,
    rps: f64,
    rpss: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rpss_interval: Option<Interval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rpss_significant_area: Option<f64>,
    crps: f64,
    crpss: f64,
    brier: Vec<f64>,
    roc_area: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern_acc: Option<Vec<YearValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reliability: Option<Vec<Vec<ReliabilityBin>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roc: Option<Vec<RocCurve>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rank_histogram: Option<Vec<u64>>,
}

#[derive(Debug, Serialize)]
struct YearValue {
    year: i32,
    value: f64,
}

/// Whether the MME beats the best single model on the region's mean RPSS.
#[derive(Debug, Serialize)]
struct Comparison {
    lead: String,
    best_model: String,
    best_model_rpss: f64,
    mme_rpss: f64,
    mme_minus_best: f64,
    /// Share of the bootstrap resamples on which the MME's RPSS is the higher (paired).
    #[serde(skip_serializing_if = "Option::is_none")]
    mme_better_in_resamples: Option<f64>,
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
        "crpss" => &m.crpss,
        "acc_lower" => &m.acc_lower,
        "acc_upper" => &m.acc_upper,
        "rpss_lower" => &m.rpss_lower,
        _ => &m.rpss_upper,
    }
}

/// The scores asked for, checked.
fn selected_scores(asked: &[String]) -> anyhow::Result<BTreeSet<&'static str>> {
    let mut set = BTreeSet::new();
    for s in asked {
        let s = s.trim();
        if s == "all" {
            set.extend(ALL_SCORES);
            continue;
        }
        match ALL_SCORES.iter().find(|k| **k == s) {
            Some(k) => {
                set.insert(*k);
            }
            None => bail!(
                "--scores: unknown score '{s}'; choose from {} or all",
                ALL_SCORES.join(", ")
            ),
        }
    }
    if set.is_empty() {
        bail!("--scores: no score given");
    }
    Ok(set)
}

/// One scored forecast system.
struct System {
    name: String,
    maps: SkillMaps,
    /// `[region][lead]`.
    regional: Vec<Vec<RegionalDiagnostics>>,
}

pub fn run(args: &VerifyArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let years = args.years.as_deref().map(parse_years).transpose()?;
    let scores = selected_scores(&args.scores)?;
    let scheme = match args.probabilities.as_str() {
        "model" => WeightScheme::ModelEqual,
        "pmme" => WeightScheme::Pmme,
        other => bail!("--probabilities '{other}': use model or pmme"),
    };
    let acc_of_anomaly = match args.acc_of.as_str() {
        "anomaly" => true,
        "mean" => false,
        other => bail!("--acc-of '{other}': use anomaly or mean"),
    };
    let fair_crps = match args.crps.as_str() {
        "fair" => true,
        "plain" => false,
        other => bail!("--crps '{other}': use fair or plain"),
    };
    if !acc_of_anomaly && scheme == WeightScheme::Pmme {
        bail!("--acc-of mean with --probabilities pmme: the PMME mean is calibrated with the other years' observations and biases the correlation low; use --acc-of anomaly");
    }
    if args.rpss_debiased && scheme != WeightScheme::ModelEqual {
        bail!("--rpss-debiased applies to probabilities counted from members (--probabilities model), not to PMME");
    }
    let countries = load_countries(args.countries.as_deref())?;
    let regions: Vec<Region> = args
        .regions
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| Region::parse_with(r, &countries))
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
    let no_outlook = collapsed_categories(aligned.values.view(), &spec.category_levels);
    let bootstrap = if args.bootstrap > 0 {
        Some(
            Bootstrap::new(hc[0].n_init(), args.bootstrap, args.confidence, args.seed)
                .context("--bootstrap")?,
        )
    } else {
        None
    };
    let weights: Vec<Vec<f64>> = regions
        .iter()
        .map(|r| r.cell_weights(&hc[0].coords.spatial))
        .collect();
    let nl = hc[0].n_lead();
    let mut systems: Vec<System> = Vec::new();
    let mut evaluate =
        |name: String, cubes: &[&Cube], members: ndarray::ArrayView5<f32>| -> anyhow::Result<()> {
            let mut out = combine(
                &CombineInput {
                    hindcasts: cubes,
                    forecasts: None,
                    obs: Some(&aligned),
                },
                &spec,
            )
            .with_context(|| format!("probabilities of {name}"))?;
            // No probabilistic scores where the observed climate has no terciles (dry
            // seasons): the categories are undefined there.
            out.hindcast.withhold(no_outlook.view());
            // Effective ensemble size of equally weighted models with m_j members each:
            // K² / Σ 1/m_j (the sampling variance of their mean probability).
            let m_eff = args.rpss_debiased.then(|| {
                let k = cubes.len() as f64;
                let inv: f64 = cubes.iter().map(|c| 1.0 / c.n_member() as f64).sum();
                (k * k / inv).round() as usize
            });
            let scored = ScoredForecast {
                probability: out.hindcast.probability.view(),
                ensemble_mean: out.hindcast.mean.view(),
                anomaly: acc_of_anomaly.then(|| out.hindcast.anomaly.view()),
                members: Some(members),
                obs: aligned.values.view(),
                levels: &spec.category_levels,
                debias_members: m_eff,
                bootstrap: bootstrap.as_ref(),
                fair_crps,
            };
            let maps = skill_maps(&scored)?;
            let mut regional = Vec::with_capacity(regions.len());
            for w in &weights {
                let per_lead = (0..nl)
                    .map(|l| regional_diagnostics(&scored, l, w, args.reliability_bins))
                    .collect::<Result<Vec<_>, _>>()?;
                regional.push(per_lead);
            }
            systems.push(System {
                name,
                maps,
                regional,
            });
            Ok(())
        };
    for c in &hc {
        evaluate(c.meta.model.clone(), &[c], c.values.view())?;
    }
    if hc.len() > 1 {
        let refs: Vec<&Cube> = hc.iter().collect();
        let views: Vec<_> = hc.iter().map(|c| c.values.view()).collect();
        let pooled = concatenate(Axis(1), &views).context("pooling the members")?;
        evaluate("MME".to_string(), &refs, pooled.view())?;
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let var = args
        .input
        .variable
        .clone()
        .unwrap_or(hc[0].meta.variable.clone());
    let nc_path = args.out.join(format!("skill.{var}.nc"));
    write_skill(
        &nc_path,
        g,
        &hc[0],
        &systems,
        &SkillFile {
            levels: &spec.category_levels,
            scores: &scores,
            bootstrap: bootstrap.as_ref(),
            definitions: [
                ("acc_definition", acc_text(acc_of_anomaly)),
                ("crps_definition", crps_text(fair_crps)),
                ("rpss_definition", rpss_text(args.rpss_debiased)),
            ],
        },
    )?;
    let summary = Summary {
        variable: var.clone(),
        units: hc[0].meta.units.clone(),
        start_years: hc[0].init_years(),
        probabilities: args.probabilities.clone(),
        acc: acc_text(acc_of_anomaly),
        crps: crps_text(fair_crps),
        rpss: rpss_text(args.rpss_debiased),
        bootstrap: bootstrap.as_ref().map(|b| BootstrapSettings {
            resamples: b.len(),
            confidence: b.confidence,
            seed: args.seed,
        }),
        scores: scores.iter().copied().collect(),
        regions: regions
            .iter()
            .enumerate()
            .map(|(r, region)| {
                let boot = bootstrap.is_some();
                region_summary(r, region, &weights[r], &hc[0], &systems, &scores, boot)
            })
            .collect(),
    };
    let json_path = args.out.join(format!("skill_summary.{var}.json"));
    write_text_atomic(&json_path, &serde_json::to_string_pretty(&summary)?)?;
    let mut pngs = Vec::new();
    if ["reliability", "roc", "rank"]
        .iter()
        .any(|s| scores.contains(s))
    {
        for (r, region) in regions.iter().enumerate() {
            if summary.regions[r].cells == 0 {
                continue;
            }
            for (l, lead) in hc[0].coords.lead.iter().enumerate() {
                let label = lead.label();
                let file: String = label
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let path = args
                    .out
                    .join(format!("diagrams.{var}.{}.{file}.png", region.name));
                pngs.push(draw_diagrams(
                    &path,
                    &format!(
                        "{var} — {} — {label} — {} start years",
                        region.name,
                        hc[0].n_init()
                    ),
                    &systems,
                    r,
                    l,
                    &spec.category_levels,
                )?);
            }
        }
    }
    if !g.quiet {
        print_table(&summary);
        eprintln!("  {}\n  {}", nc_path.display(), json_path.display());
        if let Some(p) = pngs.first() {
            eprintln!("  {} diagram PNGs, e.g. {}", pngs.len(), p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a score is significantly above 0, from the lower end of its interval (`None`
/// without one).
fn significance(lower: f32) -> Option<bool> {
    (!lower.is_nan()).then_some(lower > 0.0)
}

fn acc_text(of_anomaly: bool) -> &'static str {
    if of_anomaly {
        "Pearson correlation of the ensemble-mean anomaly (against each model's own cross-validated climatology) with the observations"
    } else {
        "Pearson correlation of the raw ensemble mean with the observations"
    }
}

fn crps_text(fair: bool) -> &'static str {
    if fair {
        "fair ensemble CRPS (Ferro 2014)"
    } else {
        "plain ensemble CRPS (as properscoring / xskillscore.crps_ensemble)"
    }
}

fn rpss_text(debiased: bool) -> &'static str {
    if debiased {
        "RPSS debiased for the ensemble size (Weigel et al. 2007)"
    } else {
        "RPSS against climatological probabilities"
    }
}

fn draw_diagrams(
    path: &Path,
    title: &str,
    systems: &[System],
    region: usize,
    lead: usize,
    levels: &[f64],
) -> anyhow::Result<PathBuf> {
    let shown: Vec<DiagramSystem> = systems
        .iter()
        .map(|s| DiagramSystem {
            name: &s.name,
            diagnostics: &s.regional[region][lead],
        })
        .collect();
    let ncat = levels.len() + 1;
    let bounds = s2s_ensemble::ensemble::category_level_bounds(levels);
    let label = |c: usize| -> String {
        match (ncat, c) {
            (3, 0) => "below normal".to_string(),
            (3, 2) => "above normal".to_string(),
            (_, 0) => format!("below the {:.0}th percentile", levels[0] * 100.0),
            _ => format!(
                "above the {:.0}th percentile",
                levels[levels.len() - 1] * 100.0
            ),
        }
    };
    let labels = [label(0), label(ncat - 1)];
    let cats = [
        DiagramCategory {
            index: 0,
            label: &labels[0],
            climatology: bounds[0].1 - bounds[0].0,
        },
        DiagramCategory {
            index: ncat - 1,
            label: &labels[1],
            climatology: bounds[ncat - 1].1 - bounds[ncat - 1].0,
        },
    ];
    render_verification_diagrams(path, title, &shown, &cats)?;
    Ok(path.to_path_buf())
}

fn region_summary(
    r: usize,
    region: &Region,
    weights: &[f64],
    template: &Cube,
    systems: &[System],
    scores: &BTreeSet<&str>,
    bootstrapped: bool,
) -> RegionSummary {
    let years = template.init_years();
    let mut cells = 0;
    let mut models = Vec::new();
    for s in systems {
        let mut leads = Vec::new();
        for (l, lead) in template.coords.lead.iter().enumerate() {
            let d = &s.regional[r][l];
            cells = cells.max(d.cells);
            let mean_of = |a: ArrayView2<f32>| {
                let v = a.as_standard_layout();
                regional_mean(v.as_slice().expect("standard"), weights).0
            };
            let map_mean = |name: &str| mean_of(scalar(&s.maps, name).index_axis(Axis(0), l));
            let per_cat = |a: &ndarray::Array4<f32>| -> Vec<f64> {
                (0..a.dim().0)
                    .map(|c| mean_of(a.slice(ndarray::s![c, l, .., ..])))
                    .collect()
            };
            let has = |k: &str| scores.contains(k);
            let with_interval = |k: &str| has(k) && bootstrapped;
            // Area share where the interval's lower end is above 0 (of cells with one).
            let significant = |score: &str| -> Option<f64> {
                if !with_interval(score) {
                    return None;
                }
                let lower = scalar(&s.maps, &format!("{score}_lower")).index_axis(Axis(0), l);
                let flags: Vec<f32> = lower
                    .iter()
                    .map(|&v| significance(v).map_or(f32::NAN, |b| f32::from(u8::from(b))))
                    .collect();
                Some(regional_mean(&flags, weights).0)
            };
            leads.push(LeadSummary {
                lead: lead.label(),
                acc: map_mean("acc"),
                acc_interval: with_interval("acc").then_some(d.acc_interval),
                acc_significant_area: significant("acc"),
                rmse: map_mean("rmse"),
                bias: map_mean("bias"),
                msss: map_mean("msss"),
                rps: map_mean("rps"),
                rpss: map_mean("rpss"),
                rpss_interval: with_interval("rpss").then_some(d.rpss_interval),
                rpss_significant_area: significant("rpss"),
                crps: map_mean("crps"),
                crpss: map_mean("crpss"),
                brier: per_cat(&s.maps.brier),
                roc_area: per_cat(&s.maps.roc_area),
                pattern_acc: has("pattern").then(|| {
                    years
                        .iter()
                        .zip(&d.pattern_acc)
                        .map(|(&year, &value)| YearValue { year, value })
                        .collect()
                }),
                reliability: has("reliability").then(|| d.reliability.clone()),
                roc: has("roc").then(|| d.roc.clone()),
                rank_histogram: has("rank").then(|| d.rank_histogram.clone()),
            });
        }
        models.push(ModelSummary {
            model: s.name.clone(),
            leads,
        });
    }
    let mut comparison = Vec::new();
    if let Some((mme, singles)) = models
        .split_last()
        .filter(|(m, s)| m.model == "MME" && !s.is_empty())
    {
        let mme_sys = systems.last().expect("MME");
        for (l, lead) in mme.leads.iter().enumerate() {
            let Some((k, best)) = singles
                .iter()
                .enumerate()
                .filter(|(_, m)| m.leads[l].rpss.is_finite())
                .max_by(|a, b| a.1.leads[l].rpss.total_cmp(&b.1.leads[l].rpss))
            else {
                continue;
            };
            let a = &mme_sys.regional[r][l].rpss_resampled;
            let b = &systems[k].regional[r][l].rpss_resampled;
            let pairs: Vec<bool> = a
                .iter()
                .zip(b)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| x > y)
                .collect();
            comparison.push(Comparison {
                lead: lead.lead.clone(),
                best_model: best.model.clone(),
                best_model_rpss: best.leads[l].rpss,
                mme_rpss: lead.rpss,
                mme_minus_best: lead.rpss - best.leads[l].rpss,
                mme_better_in_resamples: (!pairs.is_empty())
                    .then(|| pairs.iter().filter(|&&x| x).count() as f64 / pairs.len() as f64),
            });
        }
    }
    RegionSummary {
        region: region.name.clone(),
        bbox: [
            region.bbox.west,
            region.bbox.east,
            region.bbox.south,
            region.bbox.north,
        ],
        countries: region.countries.iter().map(|c| c.name.clone()).collect(),
        cells,
        models,
        mme_against_best_model: comparison,
    }
}

#[allow(clippy::print_stdout)]
fn print_table(summary: &Summary) {
    println!(
        "{:<16} {:<14} {:>6} {:>7} {:>7} {:>17} {:>7}",
        "region", "model", "cells", "ACC", "RPSS", "RPSS interval", "CRPSS"
    );
    for r in &summary.regions {
        if r.cells == 0 {
            println!("{:<16} (no grid cell in the region)", r.region);
            continue;
        }
        for m in &r.models {
            let l = &m.leads[0];
            let interval = l
                .rpss_interval
                .filter(|i| i.lower.is_finite())
                .map(|i| format!("[{:.3}, {:.3}]", i.lower, i.upper))
                .unwrap_or_default();
            println!(
                "{:<16} {:<14} {:>6} {:>7.3} {:>7.3} {:>17} {:>7.3}",
                r.region, m.model, r.cells, l.acc, l.rpss, interval, l.crpss
            );
        }
        if let Some(c) = r.mme_against_best_model.first() {
            println!(
                "{:<16} MME − best model ({}) RPSS at {}: {:+.3}{}",
                r.region,
                c.best_model,
                c.lead,
                c.mme_minus_best,
                c.mme_better_in_resamples
                    .map(|p| format!(" (MME higher in {:.0} % of resamples)", p * 100.0))
                    .unwrap_or_default()
            );
        }
    }
}

/// Skill maps of every system into one file, with a `model` coordinate that includes `MME`.
/// What goes into the skill file besides the maps.
struct SkillFile<'a> {
    levels: &'a [f64],
    scores: &'a BTreeSet<&'static str>,
    bootstrap: Option<&'a Bootstrap>,
    /// Global attributes saying how ACC, CRPS and RPSS are defined.
    definitions: [(&'static str, &'static str); 3],
}

fn write_skill(
    path: &Path,
    g: &Globals,
    template: &Cube,
    systems: &[System],
    spec: &SkillFile,
) -> anyhow::Result<()> {
    let SkillFile {
        levels,
        scores,
        bootstrap,
        definitions,
    } = *spec;
    let mut w = CfWriter::create(path, &g.write_options())?;
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
    w.dimension("model", systems.len())?;
    let names: Vec<String> = systems.iter().map(|s| s.name.clone()).collect();
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
    let spatial_count = s2s_ensemble::io::products::mme::spatial_count(sp.len(), ny, nx);
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
            let a = scalar(&sys.maps, s);
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
                let lower = scalar(&sys.maps, &format!("{score}_lower"));
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
                &sys.maps.brier
            } else {
                &sys.maps.roc_area
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
