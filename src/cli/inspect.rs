//! `s2s inspect FILE...`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use s2s_ensemble::io::{inspect_file, DimMapping, InspectOptions};

use s2s_ensemble::progress::Progress;

use super::progress::Bars;
use super::Globals;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// NetCDF files to describe.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only this variable.
    #[arg(long = "var", value_name = "NAME")]
    variable: Option<String>,
    /// Dimension roles, overriding detection: role=dim,... (roles: init, member, lead, time,
    /// lat, lon, location).
    #[arg(long, value_name = "MAPPING")]
    dims: Option<String>,
    /// Date of a file with no time coordinate (a snapshot without `time`/`valid_time`),
    /// `YYYY-MM-DD[THH]` UTC; without it such a file is described undated.
    #[arg(long, value_name = "DATE", value_parser = super::parse_time)]
    time: Option<s2s_ensemble::calendar::CfDateTime>,
}

/// Describes every file; exit code 1 when any file or variable cannot be used as it is.
pub fn run(args: &InspectArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let dims = match &args.dims {
        Some(d) => DimMapping::parse(d).map_err(|e| anyhow::anyhow!("--dims: {e}"))?,
        None => DimMapping::default(),
    };
    let opts = InspectOptions {
        variable: args.variable.clone(),
        assume_units: None,
        dims,
        time: args.time,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut reports = Vec::new();
    let mut failed = false;
    // Reports go to stdout as they come; the bar (stderr) only for many files.
    let bars = Bars::new(g.quiet || args.files.len() < 4);
    bars.start("inspecting", args.files.len() as u64);
    for f in &args.files {
        bars.advance(1);
        match inspect_file(f, &opts) {
            Ok(r) => {
                for p in &r.problems {
                    errln!("error: {p}");
                    failed = true;
                }
                for w in &r.warnings {
                    errln!("warning: {w}");
                }
                if g.json {
                    reports.push(r);
                } else {
                    write!(out, "{r}").context("writing to stdout")?;
                }
            }
            Err(e) => {
                errln!("error: {e}");
                failed = true;
            }
        }
    }
    bars.finish();
    if g.json {
        serde_json::to_writer_pretty(&mut out, &reports).context("writing JSON")?;
        writeln!(out).context("writing to stdout")?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
