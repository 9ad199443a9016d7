//! `s2s export`: GIS layers of a forecast file ([`s2s_ensemble::pipeline::export`]); prints
//! the files written.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use s2s_ensemble::pipeline::export::{export_geotiff, ExportPlan};

use super::Globals;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write GeoTIFFs (EPSG:4326) of the category probabilities (one band per category) and of
    /// the dominant category, one pair per lead.
    #[arg(long, required = true)]
    geotiff: bool,
    /// Start date to export, as an index into the file's starts (default: the last).
    #[arg(long, value_name = "INDEX")]
    init_index: Option<usize>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A multi-model forecast file (`mme_forecast.<var>.nc`, either layout, also regridded).
    input: PathBuf,
}

pub fn run(args: &ExportArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    debug_assert!(args.geotiff);
    let written = export_geotiff(&ExportPlan {
        input: args.input.clone(),
        out: args.out.clone(),
        init: args.init_index,
    })?;
    if g.print_json(&serde_json::json!({ "written": written }))? {
        return Ok(ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for p in &written {
        writeln!(out, "{}", p.display()).context("writing to stdout")?;
    }
    Ok(ExitCode::SUCCESS)
}
