//! `s2s outlook`: the outlook job ([`s2s_ensemble::pipeline::outlook`]) on a TOML configuration,
//! by default the bundled demo; prints where the bulletin is.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use s2s_ensemble::pipeline::outlook::{outlook, OutlookPlan};

use super::Globals;

/// The configuration `s2s outlook` runs without `--config`: the bundled demo.
const DEMO_CONFIG: &str = "data/demo/outlook.toml";

#[derive(Debug, Args)]
pub struct OutlookArgs {
    /// Run configuration (TOML; see docs/config.md); default: the bundled demo,
    /// `data/demo/outlook.toml` (run from the repository's folder).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output directory (overrides `output` of the configuration).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(c) => c.clone(),
        None => {
            let demo = PathBuf::from(DEMO_CONFIG);
            if !demo.is_file() {
                anyhow::bail!("no --config given and the demo configuration {DEMO_CONFIG} is not here (run from the repository's folder, or give --config FILE)");
            }
            demo
        }
    };
    let plan = OutlookPlan::from_file(&config, args.out.clone(), g.run_options())?;
    let report = outlook(&plan, &g.bars())?;
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        let [md, html, json] = &report.bulletin;
        outln!("bulletin: {}", md.display())?;
        outln!("  {}", html.display())?;
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
