//! `s2s emergency`: flags or `[emergency]` → [`EmergencyPlan`] → the emergency job
//! ([`emergency`]). Drift of a ship or oil from a point at sea in every member's currents and
//! winds, and (with cyclone fields) the risk that a tropical cyclone passes near the site.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use s2s_ensemble::pipeline::emergency::{emergency, EmergencyPlan};

use super::Globals;

#[derive(Debug, Args)]
pub struct EmergencyCli {
    /// Read everything from the `[emergency]` table of this TOML file (a run configuration or
    /// a file with only that table; paths relative to it); `--out` still overrides `output`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lat", "lon", "start", "currents"])]
    config: Option<PathBuf>,
    /// Latitude of the site (degrees north).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "config")]
    lat: Option<f64>,
    /// Longitude of the site (degrees east).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "config")]
    lon: Option<f64>,
    /// Release date `YYYY-MM-DD` (00 UTC).
    #[arg(long, value_name = "DATE", required_unless_present = "config")]
    start: Option<String>,
    /// Days to forecast.
    #[arg(long, default_value_t = 30)]
    days: usize,
    /// Surface currents, one file per model (comma-separated): `uo`/`vo` (or
    /// --current-vars) on `(time, lat, lon)` or `(time, member, lat, lon)` (any order), daily or finer.
    /// Each model weighs the same whatever its member count. `--models` is another name for it.
    #[arg(
        long,
        alias = "models",
        value_name = "FILES",
        value_delimiter = ',',
        required_unless_present = "config"
    )]
    currents: Vec<PathBuf>,
    /// Current variables `U,V` (default: uo,vo or ugos,vgos or u,v).
    #[arg(long, value_name = "U,V")]
    current_vars: Option<String>,
    /// 10 m winds, one file per model in the order of --currents, or one for all (default:
    /// each currents file when it has uas/vas or u10/v10).
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    wind: Vec<PathBuf>,
    /// Particles per member.
    #[arg(long, default_value_t = 2000)]
    particles: usize,
    /// Windage: fraction of the 10 m wind added to the current (0.03 oil; a few % for a ship).
    #[arg(long, default_value_t = 0.03)]
    windage: f64,
    /// Horizontal diffusivity (m² s⁻¹).
    #[arg(long, default_value_t = 10.0)]
    diffusivity: f64,
    /// Particles are released uniformly within this radius of the site (km).
    #[arg(long, default_value_t = 5.0, value_name = "KM")]
    release_radius_km: f64,
    /// Time step (minutes).
    #[arg(long, default_value_t = 60.0, value_name = "MIN")]
    step_minutes: f64,
    /// Seed of the release positions and the random walk.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fields of the cyclone check (psl and winds, as `s2s cyclones track` reads them),
    /// comma-separated; without them only the drift is forecast.
    #[arg(long, value_delimiter = ',', value_name = "FILES")]
    cyclone_fields: Vec<PathBuf>,
    /// A storm "passes" when its centre comes within this distance of the site (km).
    #[arg(long, default_value_t = 300.0, value_name = "KM")]
    radius_km: f64,
    /// Country polygons (GeoJSON with `name`) for stranding and the coast table (default: the
    /// bundled Natural Earth countries (1:50m in Asia)).
    #[arg(long, value_name = "FILE")]
    countries: Option<PathBuf>,
    /// Output directory (required without --config).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run past the end of the currents or winds on their last field (persistence), with a
    /// warning in the bulletin, instead of stopping with an error.
    #[arg(long)]
    allow_persistence: bool,
}

impl EmergencyCli {
    /// The job: the `[emergency]` table of --config, or the flags.
    fn resolve(&self) -> anyhow::Result<EmergencyPlan> {
        if let Some(path) = &self.config {
            let mut plan = EmergencyPlan::from_config(
                path,
                self.out.clone(),
                self.step_minutes,
                self.countries.clone(),
            )?;
            plan.allow_persistence |= self.allow_persistence;
            return Ok(plan);
        }
        let need = |what: &str| anyhow::anyhow!("{what} is required (or --config)");
        Ok(EmergencyPlan {
            lat: self.lat.ok_or_else(|| need("--lat"))?,
            lon: self.lon.ok_or_else(|| need("--lon"))?,
            start: self.start.clone().ok_or_else(|| need("--start"))?,
            days: self.days,
            currents: if self.currents.is_empty() {
                return Err(need("--currents"));
            } else {
                self.currents.clone()
            },
            current_vars: self.current_vars.clone(),
            wind: self.wind.clone(),
            particles: self.particles,
            windage: self.windage,
            diffusivity: self.diffusivity,
            release_radius_km: self.release_radius_km,
            step_minutes: self.step_minutes,
            seed: self.seed,
            cyclone_fields: self.cyclone_fields.clone(),
            radius_km: self.radius_km,
            countries: self.countries.clone(),
            out: self.out.clone().ok_or_else(|| need("--out"))?,
            allow_persistence: self.allow_persistence,
        })
    }
}

/// `s2s emergency`.
pub fn run(cli: &EmergencyCli, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let a = cli.resolve()?;
    let report = emergency(&a, &g.run_options(), &g.bars())?;
    if g.print_json(&report)? {
        return Ok(ExitCode::SUCCESS);
    }
    if !g.quiet {
        errln!(
            "emergency forecast for ({}, {}) from {}: {} members × {} particles × {} days in {:.1} s: {}",
            a.lat,
            a.lon,
            a.start,
            report.members,
            a.particles,
            a.days,
            t0.elapsed().as_secs_f64(),
            report.markdown.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
