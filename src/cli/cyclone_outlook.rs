//! `s2s cyclones outlook`: flags → [`ActivityPlan`] → seasonal tropical-cyclone activity per
//! basin from forecast and hindcast fields ([`activity_products`]; detection and tracking as
//! `s2s cyclones track`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use s2s_ensemble::io::write_text_atomic;
use s2s_ensemble::pipeline::cyclones::{activity_products, ActivityPlan};
use s2s_ensemble::pipeline::load_countries;

use super::cyclones::{track_settings, FieldArgs, StitchArgs};
use super::{parse_years, Globals};

#[derive(Debug, Args)]
pub struct OutlookArgs {
    #[command(flatten)]
    fields: FieldArgs,
    #[command(flatten)]
    stitch: StitchArgs,
    /// Forecast field files (comma-separated): the runs must cover every target month.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILES")]
    forecast: Vec<PathBuf>,
    /// Hindcast field files of the same model (comma-separated): its climatology.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILES")]
    hindcast: Vec<PathBuf>,
    /// Target months `FIRST-LAST` (wrapping the year allowed: `11-4`).
    #[arg(long, value_name = "MONTHS")]
    season: String,
    /// Basins (comma-separated keys): nio, arb, bob, wnp, scs, sio.
    #[arg(long, value_delimiter = ',', default_value = "nio,arb,bob,wnp,scs,sio")]
    basins: Vec<String>,
    /// Country polygons (GeoJSON with `name`) for landfall and the map; `none` to skip;
    /// default: the bundled Natural Earth 1:110m countries.
    #[arg(long, value_name = "FILE")]
    countries: Option<String>,
    /// Observed (best-track) storms in the tracks CSV layout, to calibrate counts.
    #[arg(long, value_name = "CSV", requires = "obs_years")]
    obs_tracks: Option<PathBuf>,
    /// Years `FIRST-LAST` the observed tracks cover (years without a storm count as zero).
    #[arg(long, value_name = "FIRST-LAST")]
    obs_years: Option<String>,
    /// Box size (degrees) of the track-density maps.
    #[arg(long, default_value_t = 5.0, value_name = "DEG")]
    density_deg: f64,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(a: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let obs_years = a.obs_years.as_deref().map(parse_years).transpose()?;
    let countries = match a.countries.as_deref() {
        Some("none") => None,
        other => Some(load_countries(other.map(Path::new))?),
    };
    let tracking = track_settings(&a.fields, Some(&a.stitch))?;
    let plan = ActivityPlan {
        tracking: &tracking,
        forecast: &a.forecast,
        hindcast: &a.hindcast,
        season: &a.season,
        basins: &a.basins,
        countries: countries.as_ref(),
        observed: a.obs_tracks.as_deref().zip(obs_years),
        density_deg: a.density_deg,
        out: &a.out,
    };
    let p = activity_products(&plan, &g.run_options(), &g.bars())?;
    write_text_atomic(
        a.out.join("cyclone_outlook.json"),
        &serde_json::to_string_pretty(&p.json)?,
    )?;
    write_text_atomic(a.out.join("cyclone_outlook.md"), &p.markdown)?;
    if !g.quiet {
        eprintln!(
            "cyclone outlook {}: {} forecast and {} hindcast member-seasons in {:.1} s: {}",
            p.label,
            p.member_seasons.0,
            p.member_seasons.1,
            t0.elapsed().as_secs_f64(),
            a.out.join("cyclone_outlook.md").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
