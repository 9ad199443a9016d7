//! The default outlook: what `s2s outlook` runs without a configuration — a bulletin for each
//! of the three regions the engine serves, from the bundled demo data. South Asia from the four
//! real NMME models against IMD rainfall (`data/demo/outlook.toml`); Central and Southeast Asia,
//! which no bundled real file covers, from the synthetic three-model workload of
//! `data/demo/asia.toml` (rainfall, temperature, drought, cyclone genesis potential), whose files
//! are made on the first run when they are absent (`s2s synth --preset asia` and `--gpi`, the
//! same seeds, so every run gives the same files).
//!
//! Each region is its own run into `<out>/<region>/` (its bulletin at the top of that folder,
//! every output of the run beside it), and each run's outputs appear together or not at all.

use std::path::{Path, PathBuf};

use super::{outlook, OutlookPlan, OutlookReport};
use crate::error::{Error, Result};
use crate::pipeline::RunOptions;
use crate::progress::Progress;

/// The regions of the default outlook: folder, configuration (in the demo folder) and the
/// regions it is cut to (none: the configuration's own).
pub const DEFAULT_REGIONS: [(&str, &str, &[&str]); 3] = [
    ("central_asia", "asia.toml", &["central_asia"]),
    ("south_asia", "outlook.toml", &[]),
    ("southeast_asia", "asia.toml", &["southeast_asia"]),
];

/// The synthetic files `asia.toml` reads, relative to the demo folder.
const SYNTHETIC_FILES: [&str; 9] = [
    "synthetic/hindcast_ALPHA.nc",
    "synthetic/forecast_ALPHA.nc",
    "synthetic/hindcast_BRAVO.nc",
    "synthetic/forecast_BRAVO.nc",
    "synthetic/hindcast_CHARLIE.nc",
    "synthetic/forecast_CHARLIE.nc",
    "synthetic/obs.nc",
    "synthetic/gpi_hindcast.nc",
    "synthetic/gpi_forecast.nc",
];

/// Makes the synthetic Asia workload and its monthly environments in `demo/synthetic` when any
/// of their files is missing; `true` when it made them.
pub fn ensure_synthetic(demo: &Path, progress: &dyn Progress) -> Result<bool> {
    if SYNTHETIC_FILES.iter().all(|f| demo.join(f).is_file()) {
        return Ok(false);
    }
    use crate::synth::workload::{write_environment_set, write_workload, WorkloadOptions};
    let dir = demo.join("synthetic");
    let opts = WorkloadOptions {
        cdo_copies: false,
        history: Some("s2s outlook (the default outlook made its synthetic demo files)".into()),
        deflate: None,
    };
    let cfg = crate::synth::SynthConfig::preset(crate::synth::Preset::Asia, false)?;
    write_workload(&cfg, &dir, &opts, progress)?;
    write_environment_set(
        &crate::synth::environment::EnvironmentConfig::demo(),
        &dir,
        &opts,
        progress,
    )?;
    Ok(true)
}

/// Runs the default outlook from the demo folder `demo` into `out`: one report per region of
/// [`DEFAULT_REGIONS`], in that order.
pub fn default_outlook(
    demo: &Path,
    out: &Path,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Vec<(String, OutlookReport)>> {
    let missing: Vec<PathBuf> = ["outlook.toml", "asia.toml"]
        .iter()
        .map(|c| demo.join(c))
        .filter(|p| !p.is_file())
        .collect();
    if let Some(p) = missing.first() {
        return Err(Error::Open {
            path: p.clone(),
            reason: "the demo configuration is not there: run from the repository's folder, or give --config FILE".into(),
        });
    }
    ensure_synthetic(demo, progress)?;
    crate::io::create_dir(out)?;
    let mut reports = Vec::new();
    for (folder, config, regions) in DEFAULT_REGIONS {
        let mut plan =
            OutlookPlan::from_file(&demo.join(config), Some(out.join(folder)), options.clone())?;
        if !regions.is_empty() {
            plan.config.regions = regions.iter().map(|r| r.to_string()).collect();
        }
        reports.push((folder.to_string(), outlook(&plan, progress)?));
    }
    Ok(reports)
}
