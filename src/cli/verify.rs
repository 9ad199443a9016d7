//! `s2s verify`: flags → [`VerifyPlan`] → the verify job
//! ([`s2s_ensemble::pipeline::verify`]) → a table. Cross-validated skill of each model's hindcast and of the multi-model ensemble
//! against observations — maps with bootstrap intervals and significance (NetCDF), regional
//! means, diagram data and the MME-against-best-model comparison (JSON, table), and one PNG of
//! reliability / ROC / rank-histogram diagrams per region and lead.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use s2s_ensemble::pipeline::verify::{
    selected_scores, verify_on, Probabilities, Summary, SystemKind, VerifyPlan,
};

use super::{parse_years, Globals, VariableArgs};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Hindcast files, one per model, comma-separated (bias-corrected, on one grid).
    #[arg(
        long,
        value_name = "FILES",
        value_delimiter = ',',
        required_unless_present = "forecast_probabilities"
    )]
    hindcast: Vec<PathBuf>,
    /// Files of category probabilities to verify as they are, comma-separated, one system each:
    /// a variable with a category dimension (category, tercile, C, …; string labels fine) or
    /// one variable per category (below / normal / above in the names); percentages are
    /// accepted. Only probabilistic scores (RPSS, Brier, ROC, reliability).
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    forecast_probabilities: Vec<PathBuf>,
    /// The probability variable of --forecast-probabilities (default: found).
    #[arg(long, value_name = "NAME")]
    probability_var: Option<String>,
    /// Observations on the same grid.
    #[arg(long, value_name = "FILE")]
    obs: PathBuf,
    #[command(flatten)]
    input: VariableArgs,
    /// Probabilities of each model and of the MME: counted members (`model`), PMME (`pmme`,
    /// uncalibrated, for ensemble means), regression-calibrated (`calibrated`: each model's
    /// observed-on-ensemble-mean regression, Student-t), extended logistic regression (`elr`)
    /// or principal-component regression MOS of the model's field (`pcr`, CPT style); the MME
    /// weights models equally.
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
    /// bundled Natural Earth countries (1:50m in Asia)).
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

pub fn run(args: &VerifyArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let plan = VerifyPlan {
        hindcast: args.hindcast.clone(),
        obs: args.obs.clone(),
        variable: args.input.variable.clone(),
        obs_variable: args.input.obs_var.clone(),
        obs_units: args.input.obs_units.clone(),
        obs_season: args.input.obs_season,
        models: args.input.models.clone(),
        probabilities: Probabilities::parse(&args.probabilities)?,
        forecast_probabilities: args.forecast_probabilities.clone(),
        probability_variable: args.probability_var.clone(),
        scores: selected_scores(&args.scores)?,
        regions: args.regions.clone(),
        countries: args.countries.clone(),
        acc_of_anomaly: match args.acc_of.as_str() {
            "anomaly" => true,
            "mean" => false,
            other => bail!("--acc-of '{other}': use anomaly or mean"),
        },
        fair_crps: match args.crps.as_str() {
            "fair" => true,
            "plain" => false,
            other => bail!("--crps '{other}': use fair or plain"),
        },
        rpss_debiased: args.rpss_debiased,
        bootstrap: args.bootstrap,
        confidence: args.confidence,
        seed: args.seed,
        reliability_bins: args.reliability_bins,
        years: args.years.as_deref().map(parse_years).transpose()?,
        out: args.out.clone(),
        options: g.run_options(),
    };
    // the report is rank 0's: the others have nothing to print
    let Some(report) = verify_on(&plan, &g.bars(), g.ranks.as_ref())? else {
        return Ok(ExitCode::SUCCESS);
    };
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    // The table is the result: printed with --quiet too.
    print_table(&report.summary, &plan.scores)?;
    if !g.quiet {
        outln!(
            "  {}\n  {}",
            report.skill_file.display(),
            report.summary_file.display()
        )?;
        if let Some(p) = report.diagrams.first() {
            outln!(
                "  {} diagram PNGs, e.g. {}",
                report.diagrams.len(),
                p.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(
    summary: &Summary,
    scores: &std::collections::BTreeSet<&'static str>,
) -> anyhow::Result<()> {
    // The scalar scores asked for, in the table's order; one row per region, model and lead.
    let columns: Vec<&str> = ["acc", "rmse", "msss", "rpss", "crpss"]
        .into_iter()
        .filter(|s| scores.contains(s))
        .collect();
    let with_interval = scores.contains("rpss")
        && summary
            .regions
            .iter()
            .flat_map(|r| &r.models)
            .flat_map(|m| &m.leads)
            .any(|l| l.rpss_interval.is_some_and(|i| i.lower.is_finite()));
    let mut head = format!(
        "{:<16} {:<14} {:<14} {:>6}",
        "region", "model", "lead", "cells"
    );
    for c in &columns {
        head.push_str(&format!(" {:>7}", c.to_uppercase()));
        if *c == "rpss" && with_interval {
            head.push_str(&format!(" {:>17}", "RPSS interval"));
        }
    }
    outln!("{}", head.trim_end())?;
    for r in &summary.regions {
        if r.cells == 0 {
            outln!("{:<16} (no grid cell in the region)", r.region)?;
            continue;
        }
        for m in &r.models {
            for l in &m.leads {
                let mut row = format!(
                    "{:<16} {:<14} {:<14} {:>6}",
                    r.region, m.model, l.lead, r.cells
                );
                for c in &columns {
                    let v = match *c {
                        "acc" => l.acc,
                        "rmse" => l.rmse,
                        "msss" => l.msss,
                        "rpss" => l.rpss,
                        _ => l.crpss,
                    };
                    // A score not computed for this system (CRPS of probabilities alone) is "-".
                    if v.is_finite() {
                        row.push_str(&format!(" {v:>7.3}"));
                    } else {
                        row.push_str(&format!(" {:>7}", "-"));
                    }
                    if *c == "rpss" && with_interval {
                        let interval = l
                            .rpss_interval
                            .filter(|i| i.lower.is_finite())
                            .map(|i| format!("[{:.3}, {:.3}]", i.lower, i.upper))
                            .unwrap_or_default();
                        row.push_str(&format!(" {interval:>17}"));
                    }
                }
                outln!("{}", row.trim_end())?;
            }
        }
        for m in r.models.iter().filter(|m| m.kind != SystemKind::Model) {
            for l in m.leads.iter().filter(|l| !l.reliability_slope.is_empty()) {
                let slopes: Vec<String> = l
                    .reliability_slope
                    .iter()
                    .map(|s| format!("{s:.2}"))
                    .collect();
                outln!(
                    "{:<16} {} at {}: reliability slope per category, lowest first: {} (1 reliable, < 1 overconfident)",
                    r.region,
                    m.model,
                    l.lead,
                    slopes.join(" / ")
                )?;
            }
        }
        for c in &r.mme_against_best_model {
            outln!(
                "{:<16} MME − best model ({}) RPSS at {}: {:+.3}{}",
                r.region,
                c.best_model,
                c.lead,
                c.mme_minus_best,
                c.mme_better_in_resamples
                    .map(|p| format!(" (MME higher in {:.0} % of resamples)", p * 100.0))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
