//! `s2s synth`: a deterministic synthetic workload.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use s2s_ensemble::io::workload::{write_workload, WorkloadOptions};
use s2s_ensemble::synth::{Preset, SynthConfig};

use super::progress::Bars;
use super::Globals;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PresetArg {
    /// 3 models (3-5 members), 12 years, 2° South Asia: seconds, for tests.
    Small,
    /// 3 models (10, 25, 15 members), 24 years, 6 leads, 1.5° Asia (40-150E, 15S-55N).
    Medium,
    /// 8 models (25-51 members), 24 years, 6 leads, 1° global: scale benches (tens of GB).
    Large,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Workload size.
    #[arg(long, value_enum)]
    preset: PresetArg,
    /// Six weekly leads from 1 June (subseasonal) instead of six monthly leads from 1 May.
    #[arg(long)]
    weekly: bool,
    /// Also write one (time, lat, lon) file per model member, which CDO can read.
    #[arg(long)]
    cdo: bool,
    /// Seed of all random streams (same seed, same files).
    #[arg(long)]
    seed: Option<u64>,
    /// Output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let preset = match args.preset {
        PresetArg::Small => Preset::Small,
        PresetArg::Medium => Preset::Medium,
        PresetArg::Large => Preset::Large,
    };
    let mut cfg = SynthConfig::preset(preset, args.weekly)?;
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    let cmd: Vec<String> = std::env::args().collect();
    let opts = WorkloadOptions {
        cdo_copies: args.cdo,
        history: Some(cmd.join(" ")),
        deflate: Some(g.deflate),
    };
    let t0 = Instant::now();
    let files = write_workload(&cfg, &args.out, &opts, &Bars::new(g.quiet))?;
    if !g.quiet {
        eprintln!(
            "wrote {} models ({} hindcast + forecast files), observations{} in {:.1} s: {}",
            cfg.models.len(),
            files.hindcasts.len() + files.forecasts.len(),
            if files.cdo.is_empty() {
                String::new()
            } else {
                format!(", {} CDO member files", files.cdo.len())
            },
            t0.elapsed().as_secs_f64(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
