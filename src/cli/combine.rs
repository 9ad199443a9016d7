//! `s2s combine`: flags → [`CombinePlan`] → the combine job
//! ([`s2s_ensemble::pipeline::combine`], lead by lead) → where the files are.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use s2s_ensemble::ensemble::{CombineSpec, EdgeSource, SkillScore, WeightScheme};
use s2s_ensemble::pipeline::combine::{
    combine_on, parse_cross_validation, parse_levels, CombinePlan,
};
use s2s_ensemble::pipeline::peak_rss_mib;

use super::{parse_years, Globals, VariableArgs};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum WeightsArg {
    /// Every member counts the same.
    Pooled,
    /// Every model counts the same (1/M), whatever its member count.
    Model,
    /// Cross-validated skill of each model around each cell (see --skill-score).
    Skill,
    /// APCC PMME: Gaussian around the MME mean with the hindcast error spread (not calibrated).
    Pmme,
    /// Regression-calibrated probabilities of each model (observed on ensemble mean,
    /// Student-t), averaged with equal weights; needs --obs.
    Calibrated,
    /// Extended logistic regression of each model (Wilks 2009), averaged with equal weights;
    /// needs --obs.
    Elr,
    /// Principal-component regression MOS of each model's ensemble-mean field (CPT style,
    /// modes by cross-validation), averaged with equal weights; needs --obs.
    Pcr,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum EdgesArg {
    /// Each model's own hindcast climatology (the C3S way).
    Model,
    /// The observed climatology.
    Obs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum ScoreArg {
    /// Ranked probability skill score of the model's terciles.
    Rpss,
    /// Anomaly correlation of the model's ensemble mean.
    Acc,
}

#[derive(Debug, Args)]
pub struct CombineArgs {
    /// Hindcast files, one per model, comma-separated (on one grid, same start dates).
    #[arg(long, value_name = "FILES", value_delimiter = ',', required = true)]
    hindcast: Vec<PathBuf>,
    /// Forecast files, one per model in the same order.
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    forecast: Vec<PathBuf>,
    /// Observations on the same grid: needed for --edges obs, --weights skill, pmme and
    /// calibrated (the default with observations).
    #[arg(long, value_name = "FILE")]
    obs: Option<PathBuf>,
    #[command(flatten)]
    input: VariableArgs,
    /// Weighting of the models [default: calibrated with --obs, model without].
    #[arg(long, value_enum)]
    weights: Option<WeightsArg>,
    /// Skill score behind --weights skill.
    #[arg(long, value_enum, default_value = "rpss")]
    skill_score: ScoreArg,
    /// Skill pooled over (2N+1)x(2N+1) cells around each cell.
    #[arg(long, value_name = "N", default_value_t = 1)]
    skill_radius: usize,
    /// Source of the category edges.
    #[arg(long, value_enum, default_value = "model")]
    edges: EdgesArg,
    /// Category levels (quantiles), comma-separated; default terciles.
    #[arg(long, value_name = "LEVELS", value_delimiter = ',')]
    levels: Vec<f64>,
    /// Extreme levels, comma-separated, or `none`.
    #[arg(long, value_name = "LEVELS", default_value = "0.1,0.9")]
    extremes: String,
    /// Ensemble percentiles in percent, comma-separated.
    #[arg(
        long,
        value_name = "P",
        value_delimiter = ',',
        default_value = "10,50,90"
    )]
    percentiles: Vec<f64>,
    /// Probability from which the most likely category is dominant.
    #[arg(long, value_name = "P", default_value_t = s2s_ensemble::ensemble::DOMINANT_THRESHOLD)]
    dominant: f64,
    /// Cross-validation of the hindcast: `loyo` (leave one year out) or `none`.
    #[arg(long, default_value = "loyo", value_name = "CV")]
    cv: String,
    /// Only these hindcast years, `FIRST-LAST`.
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
    /// Fields of the cross-validated hindcast file: what verification needs (probabilities,
    /// mean, anomalies, spread, weights) or all of the forecast's.
    #[arg(long, value_enum, default_value = "verification")]
    hindcast_fields: HindcastFields,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum HindcastFields {
    /// Probabilities, mean, anomalies, spread and weights.
    Verification,
    /// Every field, including edges, percentiles and categories of every year.
    All,
}

impl CombineArgs {
    /// The combination these flags ask for.
    fn plan(&self, g: &Globals) -> anyhow::Result<CombinePlan> {
        let weights = self.weights.unwrap_or(if self.obs.is_some() {
            WeightsArg::Calibrated
        } else {
            WeightsArg::Model
        });
        let scheme = match weights {
            WeightsArg::Calibrated => WeightScheme::Calibrated,
            WeightsArg::Elr => WeightScheme::Elr,
            WeightsArg::Pcr => WeightScheme::Pcr,
            WeightsArg::Pooled => WeightScheme::Pooled,
            WeightsArg::Model => WeightScheme::ModelEqual,
            WeightsArg::Pmme => WeightScheme::Pmme,
            WeightsArg::Skill => WeightScheme::Skill {
                score: match self.skill_score {
                    ScoreArg::Rpss => SkillScore::Rpss,
                    ScoreArg::Acc => SkillScore::Acc,
                },
                radius_cells: self.skill_radius,
            },
        };
        let mut spec = CombineSpec {
            scheme,
            edges: match self.edges {
                EdgesArg::Model => EdgeSource::Model,
                EdgesArg::Obs => EdgeSource::Observed,
            },
            extreme_levels: parse_levels(&self.extremes, "--extremes")?,
            percentile_levels: percentile_levels(&self.percentiles)?,
            dominant_threshold: self.dominant,
            cross_validate: parse_cross_validation(&self.cv)?,
            full_hindcast: self.hindcast_fields == HindcastFields::All,
            ..CombineSpec::default()
        };
        if !self.levels.is_empty() {
            spec.category_levels = self.levels.clone();
        }
        Ok(CombinePlan {
            hindcast: self.hindcast.clone(),
            forecast: self.forecast.clone(),
            obs: self.obs.clone(),
            variable: self.input.variable.clone(),
            obs_variable: self.input.obs_var.clone(),
            obs_units: self.input.obs_units.clone(),
            obs_season: self.input.obs_season,
            models: self.input.models.clone(),
            spec,
            years: self.years.as_deref().map(parse_years).transpose()?,
            all_hindcast_fields: self.hindcast_fields == HindcastFields::All,
            out: self.out.clone(),
            options: g.run_options(),
        })
    }
}

pub fn run(args: &CombineArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let plan = args.plan(g)?;
    // the report is rank 0's: the others have nothing to print
    let Some(report) = combine_on(&plan, &g.bars(), g.ranks.as_ref())? else {
        return Ok(ExitCode::SUCCESS);
    };
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    // Results (what was made, where) to stdout; timing is a diagnostic, on stderr.
    if !g.quiet {
        outln!(
            "{} ({} models, {} leads)",
            report.method,
            report.models,
            report.leads
        )?;
        outln!("  {}", report.hindcast_file.display())?;
        if let Some(f) = &report.forecast_file {
            outln!("  {}", f.display())?;
        }
        let rss = peak_rss_mib().map_or(String::new(), |m| format!(", peak memory {m:.0} MiB"));
        errln!(
            "  {:.1} s{rss} (reading {:.1} s, overlapping the combination after the first lead; combining {:.1} s; writing {:.1} s)",
            started.elapsed().as_secs_f64(),
            report.read_seconds,
            report.combine_seconds,
            report.write_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--percentiles` in percent as levels 0–1: each strictly between 0 and 100, and not all
/// at most 1 (0.1,0.5,0.9 are fractions given where percent is asked).
pub(crate) fn percentile_levels(percent: &[f64]) -> anyhow::Result<Vec<f64>> {
    if let Some(p) = percent.iter().find(|p| !(**p > 0.0 && **p < 100.0)) {
        anyhow::bail!("--percentiles {p}: each must lie strictly between 0 and 100 (percent)");
    }
    if !percent.is_empty() && percent.iter().all(|p| *p <= 1.0) {
        anyhow::bail!(
            "--percentiles {}: these look like fractions; give percent (e.g. 10,50,90)",
            percent
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    Ok(percent.iter().map(|p| p / 100.0).collect())
}
