//! `s2s synth`: a deterministic synthetic workload.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use s2s_ensemble::synth::currents::{CurrentCase, CurrentConfig};
use s2s_ensemble::synth::environment::EnvironmentConfig;
use s2s_ensemble::synth::storms::StormConfig;
use s2s_ensemble::synth::workload::{
    write_current_set, write_environment_set, write_storm_set, write_workload, WorkloadOptions,
};
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
    /// 3 models (5, 8, 6 members), 15 years, 6 leads, 2.5° Asia: the demo's regional bulletin.
    Asia,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CurrentArg {
    /// 0.5 m/s eastward everywhere, no wind.
    Uniform,
    /// Solid-body rotation about 7°N 82.5°E with a 5-day period, no wind.
    Rotation,
    /// Monsoon-like currents and south-westerly winds, different in each member.
    Monsoon,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Workload size.
    #[arg(long, value_enum, required_unless_present_any = ["storms", "currents", "gpi", "daily_extremes", "seaice"])]
    preset: Option<PresetArg>,
    /// Instead of a workload: daily surface currents `uo`, `vo` and winds `uas`, `vas` on
    /// `(time, member, lat, lon)` over Sri Lanka and the Bay of Bengal (`currents.nc`) —
    /// `uniform` (0.5 m/s east), `rotation` (solid body about 7°N 82.5°E, 5-day period) or
    /// `monsoon` (members differ) — for `s2s emergency`.
    #[arg(long, value_enum, conflicts_with_all = ["preset", "storms", "weekly", "cdo"])]
    currents: Option<CurrentArg>,
    /// Instead of a workload: daily or 6-hourly `psl`, `uas`, `vas`, `zthick` on
    /// `(time, member, lat, lon)` with planted tropical cyclones (`storms.nc`) and their true
    /// centres (`storms_truth.csv`).
    #[arg(long, conflicts_with_all = ["preset", "weekly", "cdo"])]
    storms: bool,
    /// Instead of a workload: monthly-mean tropical environments on pressure levels (`tos`,
    /// `psl`, `ta`, `hus`, `ua`, `va`; 2.5° over 40–160°E, 20°S–40°N, May–October), hindcasts
    /// 1993–2007 (`gpi_hindcast.nc`) and forecast 2008 (`gpi_forecast.nc`, the years of
    /// `--preset asia`) with a warmer Bay of Bengal and a cooler South China Sea — for the
    /// genesis potential outlook.
    #[arg(long, conflicts_with_all = ["preset", "storms", "currents", "weekly", "cdo"])]
    gpi: bool,
    /// Instead of a workload: daily `tasmax` and `pr` hindcasts (2001–2020, weekly starts 18
    /// May–15 June, 4 members, 28 days), a 10-member forecast from 1 June 2022 and daily
    /// observations on 2.5° over South Asia, with a planted heat wave (6 of 10 members, days
    /// 16–19, 65–77.5°E 25–35°N) and a planted 90 mm day (4 members, day 10, 87.5–92.5°E
    /// 20–27.5°N) — for `s2s extremes outlook`.
    #[arg(long, conflicts_with_all = ["preset", "storms", "currents", "gpi", "weekly", "cdo"])]
    daily_extremes: bool,
    /// Instead of a workload: monthly Arctic sea-ice concentration `siconc` (%, 2° north of
    /// 40° N, 5 members) for September from June starts, hindcasts 1993–2020
    /// (`siconc_hindcast.nc`) and forecast 2021 (`siconc_forecast.nc`), whose extent is the
    /// planted observed one (6.0 − 0.08 a year after 2000, million km²,
    /// `N_09_extent_synthetic.csv` in the NSIDC format) plus a bias of 1.0 and a trend error of
    /// +0.03 a year; the exact extents in `seaice_truth.csv` — for `s2s seaice outlook`.
    #[arg(long, conflicts_with_all = ["preset", "storms", "currents", "gpi", "daily_extremes", "weekly", "cdo"])]
    seaice: bool,
    /// Hours between time steps of --storms (1, 3, 6, 12 or 24).
    #[arg(long, default_value_t = 6.0, value_name = "HOURS", requires = "storms")]
    step_hours: f64,
    /// --storms on a 1° global grid (181 × 360) instead of 30–180°E, 30°S–45°N: the size of a
    /// global model run, for benchmarks.
    #[arg(long, requires = "storms")]
    global: bool,
    /// First day of --storms fields (`YYYY-MM-DD`, default 2020-09-01): hindcast-like sets for
    /// other years.
    #[arg(long, value_name = "DATE", requires = "storms")]
    start: Option<String>,
    /// Days of --storms fields (at least 20).
    #[arg(long, default_value_t = 30, value_name = "DAYS", requires = "storms")]
    days: usize,
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
        Some(PresetArg::Small) => Preset::Small,
        Some(PresetArg::Medium) => Preset::Medium,
        Some(PresetArg::Large) => Preset::Large,
        Some(PresetArg::Asia) => Preset::Asia,
        None => match args.currents {
            Some(c) => return currents(c, args, g),
            None if args.gpi => return environments(args, g),
            None if args.daily_extremes => return daily_extremes(args, g),
            None if args.seaice => return seaice(args, g),
            None => return storms(args, g),
        },
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
        errln!(
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

/// `s2s synth --storms`.
fn storms(args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let mut cfg = StormConfig::demo(args.step_hours, args.days)?;
    if args.global {
        cfg = cfg.on_global_grid();
    }
    if let Some(d) = &args.start {
        let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|e| anyhow::anyhow!("--start '{d}': expected YYYY-MM-DD ({e})"))?;
        use chrono::Datelike;
        // another year, other noise (the default year keeps the default fields)
        cfg.seed ^= (parsed.year() - cfg.start.year) as u64;
        cfg.start =
            s2s_ensemble::calendar::CfDateTime::ymd(parsed.year(), parsed.month(), parsed.day());
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    let opts = plain_options(g);
    let t0 = Instant::now();
    let files = write_storm_set(&cfg, &args.out, &opts, &Bars::new(g.quiet))?;
    if !g.quiet {
        errln!(
            "wrote {} members × {} steps of {} h with {} planted storms in {:.1} s: {} (true centres: {})",
            cfg.members,
            cfg.steps,
            cfg.step_hours,
            cfg.storms.len(),
            t0.elapsed().as_secs_f64(),
            files.fields.display(),
            files.truth.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writing options of the sets other than workloads: the command line as history, no CDO
/// copies.
fn plain_options(g: &Globals) -> WorkloadOptions {
    let cmd: Vec<String> = std::env::args().collect();
    WorkloadOptions {
        cdo_copies: false,
        history: Some(cmd.join(" ")),
        deflate: Some(g.deflate),
    }
}

/// `s2s synth --daily-extremes`.
fn daily_extremes(args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let mut cfg = s2s_ensemble::synth::daily::DailyExtremesConfig::demo();
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    let files = s2s_ensemble::synth::workload::write_daily_extremes_set(
        &cfg,
        &args.out,
        &plain_options(g),
    )?;
    if !g.quiet {
        for (v, h, f, o) in &files.variables {
            errln!(
                "wrote {v}: {}, {}, {}",
                h.display(),
                f.display(),
                o.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `s2s synth --seaice`.
fn seaice(args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = s2s_ensemble::synth::seaice::SeaIceSynthConfig::demo();
    let files =
        s2s_ensemble::synth::workload::write_seaice_set(&cfg, &args.out, &plain_options(g))?;
    if !g.quiet {
        errln!(
            "wrote sea-ice concentration, hindcasts {}–{} and forecast {}: {}, {}; observed extents {}; planted truth {}",
            cfg.hindcast_years.0,
            cfg.hindcast_years.1,
            cfg.forecast_year,
            files.hindcast.display(),
            files.forecast.display(),
            files.observed.display(),
            files.truth.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `s2s synth --gpi`.
fn environments(args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let mut cfg = EnvironmentConfig::demo();
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    let opts = plain_options(g);
    let (h, f) = write_environment_set(&cfg, &args.out, &opts, &Bars::new(g.quiet))?;
    if !g.quiet {
        errln!(
            "wrote monthly environments, hindcasts {}–{} and forecast {}: {}, {}",
            cfg.hindcast_years.0,
            cfg.hindcast_years.1,
            cfg.forecast_year,
            h.display(),
            f.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `s2s synth --currents CASE`.
fn currents(case: CurrentArg, args: &SynthArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = CurrentConfig::new(match case {
        CurrentArg::Uniform => CurrentCase::Uniform,
        CurrentArg::Rotation => CurrentCase::Rotation,
        CurrentArg::Monsoon => CurrentCase::Monsoon,
    });
    let opts = plain_options(g);
    let path = write_current_set(&cfg, &args.out, &opts, &Bars::new(g.quiet))?;
    if !g.quiet {
        errln!(
            "wrote {:?} currents and winds, {} members × {} days: {}",
            cfg.case,
            cfg.members,
            cfg.days,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
