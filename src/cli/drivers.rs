//! `s2s drivers`: flags → [`DriversPlan`] → the Niño 3.4 and IOD plumes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use s2s_ensemble::pipeline::drivers::{drivers, DriversPlan};

use super::Globals;

#[derive(Debug, Args)]
pub struct DriversArgs {
    /// SST hindcast of each model (starts × members × monthly leads), comma-separated; one
    /// model's files joined with '+'.
    #[arg(long, value_name = "FILES", required = true)]
    hindcast: String,
    /// SST forecast of each model, in the order of --hindcast.
    #[arg(long, value_name = "FILES", required = true)]
    forecast: String,
    /// Model names, in the order of --hindcast (default: the hindcast file names).
    #[arg(long, value_name = "NAMES")]
    models: Option<String>,
    /// Observed monthly SST record (time, lat, lon), e.g. OISST or ERSST.
    #[arg(long = "obs", value_name = "FILE")]
    observed: Option<PathBuf>,
    /// SST variable (default: each file's only data variable).
    #[arg(long = "var", value_name = "VAR")]
    variable: Option<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(a: &DriversArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let report = drivers(&DriversPlan {
        models: super::model_file_lists(&a.hindcast, &a.forecast, a.models.as_deref())?,
        observed: a.observed.clone(),
        variable: a.variable.clone(),
        out: a.out.clone(),
        run: g.run_options(),
    })?;
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        for p in &report.plumes {
            let l = p.targets.len() - 1;
            println!(
                "{} {}: MME {:+.2} °C ({:+.2} … {:+.2}), P({}) {:.0} %, P({}) {:.0} %",
                p.index,
                p.targets[l],
                p.mme_mean[l],
                p.mme_range[l].0,
                p.mme_range[l].1,
                p.phases.0,
                100.0 * p.prob_positive[l],
                p.phases.1,
                100.0 * p.prob_negative[l]
            );
        }
        for s in &report.skipped {
            println!("not computed: {s}");
        }
        for f in &report.files {
            println!("wrote {}", f.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
