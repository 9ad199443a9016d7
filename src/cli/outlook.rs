//! `s2s outlook`: the outlook job ([`s2s_ensemble::pipeline::outlook`]) on a TOML configuration,
//! or without one the default outlook of the three regions from the bundled demo
//! ([`s2s_ensemble::pipeline::outlook::demo`]); prints where the bulletins are.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use s2s_ensemble::pipeline::outlook::demo::default_outlook;
use s2s_ensemble::pipeline::outlook::{outlook_on, OutlookPlan};

use super::Globals;

/// The demo folder `s2s outlook` reads without `--config` (run from the repository's folder).
const DEMO_FOLDER: &str = "data/demo";

/// Where the default outlook writes without `--out`.
const DEFAULT_OUT: &str = "out/outlook";

#[derive(Debug, Args)]
pub struct OutlookArgs {
    /// Run configuration (TOML; see docs/config.md); default: the default outlook of Central,
    /// South and Southeast Asia from the bundled demo (`data/demo`, run from the repository's
    /// folder) into `out/outlook/<region>/`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output directory (overrides `output` of the configuration).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

impl OutlookArgs {
    /// Whether the run spreads over the processes of `mpirun -n N`: a configured outlook
    /// does; the default outlook of the demo (which may first write the demo's files) runs on
    /// rank 0 alone.
    pub(crate) fn is_distributed(&self) -> bool {
        self.config.is_some()
    }
}

pub fn run(args: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let Some(config) = &args.config else {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
        let reports = default_outlook(
            &PathBuf::from(DEMO_FOLDER),
            &out,
            &g.run_options(),
            &g.bars(),
        )?;
        if g.print_json(&reports)? {
            return Ok(ExitCode::SUCCESS);
        }
        if !g.quiet {
            for (region, report) in &reports {
                // the region's own bulletin (maps cut to it), else the run's
                let own = report
                    .region_bulletins
                    .iter()
                    .find(|b| b.parent().and_then(|d| d.file_name()) == Some(region.as_ref()));
                let html = own.unwrap_or(&report.bulletin[1]);
                outln!("{region}: {}", html.display())?;
                outln!("  {}", html.with_extension("pdf").display())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let plan = OutlookPlan::from_file(config, args.out.clone(), g.run_options())?;
    let Some(report) = outlook_on(&plan, &g.bars(), g.ranks.as_ref())? else {
        // a rank other than 0 of a distributed run: rank 0 prints
        return Ok(ExitCode::SUCCESS);
    };
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        let [md, html, json] = &report.bulletin;
        outln!("bulletin: {}", md.display())?;
        outln!("  {}", html.display())?;
        outln!("  {}", html.with_extension("pdf").display())?;
        outln!("  {}", json.display())?;
        for v in &report.variables {
            outln!("  {}", v.netcdf.display())?;
            for m in &v.maps {
                outln!("  {}", m.display())?;
            }
        }
        for b in &report.region_bulletins {
            outln!("  {}", b.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
