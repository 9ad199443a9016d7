//! `s2s cyclones outlook`: seasonal tropical-cyclone activity per basin from forecast and
//! hindcast fields (detection and tracking as `s2s cyclones track`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use s2s_ensemble::bulletin::{render_track_map, DensityLayer};
use s2s_ensemble::calendar::Calendar;
use s2s_ensemble::cyclone::activity::{
    activity_outlook, basin_activity, member_seasons, track_density, ActivityOutlook, Basin,
    Season, BASINS,
};
use s2s_ensemble::cyclone::{parse_tracks_csv, tracks_csv, Track};
use s2s_ensemble::grid::Countries;
use s2s_ensemble::io::{write_text_atomic, CfWriter};

use super::cyclones::{track_inputs, FieldArgs, StitchArgs};
use super::{load_countries, parse_years, Globals};

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

/// What a seasonal cyclone outlook needs: from the command line or the runner's
/// `[cyclones]` section.
pub(crate) struct Plan<'a> {
    pub fields: &'a FieldArgs,
    pub stitch: &'a StitchArgs,
    pub forecast: &'a [PathBuf],
    pub hindcast: &'a [PathBuf],
    pub season: &'a str,
    pub basins: &'a [String],
    /// Country polygons for landfall (`None`: no landfall).
    pub countries: Option<&'a Countries>,
    /// Observed tracks and the years they cover, for calibration.
    pub observed: Option<(&'a Path, (i32, i32))>,
    pub density_deg: f64,
    pub out: &'a Path,
}

/// The products of [`produce`]: per-basin outlooks, the Markdown section, the JSON summary.
pub(crate) struct Produced {
    pub markdown: String,
    pub json: serde_json::Value,
    pub member_seasons: (usize, usize),
    pub label: String,
}

pub fn run(a: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let obs_years = a.obs_years.as_deref().map(parse_years).transpose()?;
    let countries = match a.countries.as_deref() {
        Some("none") => None,
        other => Some(load_countries(other.map(Path::new))?),
    };
    let plan = Plan {
        fields: &a.fields,
        stitch: &a.stitch,
        forecast: &a.forecast,
        hindcast: &a.hindcast,
        season: &a.season,
        basins: &a.basins,
        countries: countries.as_ref(),
        observed: a.obs_tracks.as_deref().zip(obs_years),
        density_deg: a.density_deg,
        out: &a.out,
    };
    let p = produce(&plan, g)?;
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

/// Detects and tracks the storms of the forecast and hindcast fields, and writes the
/// track-density NetCDF, the track map and the track CSVs into `plan.out`.
pub(crate) fn produce(plan: &Plan<'_>, g: &Globals) -> anyhow::Result<Produced> {
    let a = plan;
    let season = Season::parse(a.season)?;
    let basins: Vec<&Basin> = a
        .basins
        .iter()
        .map(|k| Basin::by_key(k))
        .collect::<Result<_, _>>()?;
    let countries = a.countries;
    let observed: Option<(Vec<Track>, (i32, i32))> = match a.observed {
        Some((p, years)) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some((parse_tracks_csv(&text, &p.display().to_string())?, years))
        }
        None => None,
    };
    std::fs::create_dir_all(a.out).with_context(|| format!("creating {}", a.out.display()))?;

    let fc = track_inputs(a.fields, a.stitch, a.forecast, g)?;
    let hc = track_inputs(a.fields, a.stitch, a.hindcast, g)?;
    let cal = Calendar::Standard;
    let fc_seasons = member_seasons(&fc.runs, &season, cal);
    let hc_seasons = member_seasons(&hc.runs, &season, cal);

    let mut outlooks: Vec<ActivityOutlook> = Vec::new();
    for b in &basins {
        let f = basin_activity(
            &fc.tracks,
            &fc_seasons,
            b,
            &season,
            fc.step_hours,
            countries,
        );
        let h = basin_activity(
            &hc.tracks,
            &hc_seasons,
            b,
            &season,
            hc.step_hours,
            countries,
        );
        let obs_counts: Option<Vec<usize>> = observed.as_ref().map(|(tracks, (y0, y1))| {
            (*y0..=*y1)
                .map(|y| {
                    tracks
                        .iter()
                        .filter(|t| {
                            t.points.first().is_some_and(|p| {
                                b.contains(p.node.lat, p.node.lon)
                                    && season.season_year(&p.time) == Some(y)
                            })
                        })
                        .count()
                })
                .collect()
        });
        outlooks.push(
            activity_outlook(b, &season, &f, &h, obs_counts.as_deref())
                .with_context(|| format!("basin {}", b.name))?,
        );
    }

    // track density over the union of the basins' boxes
    let (mut w, mut e, mut s, mut n) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for b in BASINS
        .iter()
        .filter(|b| basins.iter().any(|x| x.key == b.key))
    {
        for &(bw, be, bs, bn) in b.boxes {
            (w, e, s, n) = (w.min(bw), e.max(be), s.min(bs), n.max(bn));
        }
    }
    let bounds = (w, e, s, n);
    let (lat, lon, dens_fc) =
        track_density(&fc.tracks, &fc_seasons, &season, bounds, a.density_deg)?;
    let (_, _, dens_hc) = track_density(&hc.tracks, &hc_seasons, &season, bounds, a.density_deg)?;
    let dens_path = a.out.join("track_density.nc");
    let mut wtr = CfWriter::create(&dens_path, &g.write_options())?;
    wtr.dimension("lat", lat.len())?;
    wtr.dimension("lon", lon.len())?;
    wtr.f64_var(
        "lat",
        &["lat"],
        &lat,
        &[("standard_name", "latitude"), ("units", "degrees_north")],
    )?;
    wtr.f64_var(
        "lon",
        &["lon"],
        &lon,
        &[("standard_name", "longitude"), ("units", "degrees_east")],
    )?;
    let label = season.label();
    let anomaly = &dens_fc - &dens_hc;
    for (name, data, long) in [
        (
            "track_density",
            &dens_fc,
            format!(
                "storms passing per {}° box per member, {label} forecast",
                a.density_deg
            ),
        ),
        (
            "track_density_climatology",
            &dens_hc,
            format!(
                "storms passing per {}° box per member-season, {label} hindcast",
                a.density_deg
            ),
        ),
        (
            "track_density_anomaly",
            &anomaly,
            format!("forecast minus hindcast track density, {label}"),
        ),
    ] {
        wtr.f32_var(
            name,
            &["lat", "lon"],
            data.view().into_dyn(),
            &[("long_name", &long), ("units", "1")],
            &[],
        )?;
    }
    wtr.global_text("season", &label)?;
    wtr.finish()?;

    // map of the forecast tracks of the season over the forecast track density
    let season_tracks: Vec<(i32, Vec<(f64, f64)>)> = fc
        .tracks
        .iter()
        .filter(|t| {
            t.points.first().is_some_and(|p| {
                season
                    .season_year(&p.time)
                    .is_some_and(|y| fc_seasons.contains(&(t.member, y)))
            })
        })
        .map(|t| {
            (
                t.member,
                t.points.iter().map(|p| (p.node.lat, p.node.lon)).collect(),
            )
        })
        .collect();
    let max_density = dens_fc
        .iter()
        .chain(dens_hc.iter())
        .fold(0.0f32, |m, &v| m.max(v));
    let map_path = a.out.join("map_tracks.png");
    render_track_map(
        &map_path,
        bounds,
        &season_tracks,
        Some(DensityLayer {
            lat: &lat,
            lon: &lon,
            values: dens_fc.as_slice().expect("fresh array"),
        }),
        max_density,
        a.countries,
        &format!("Tropical cyclone tracks and track density, forecast {label}"),
    )?;

    write_text_atomic(a.out.join("forecast_tracks.csv"), &tracks_csv(&fc.tracks))?;
    write_text_atomic(a.out.join("hindcast_tracks.csv"), &tracks_csv(&hc.tracks))?;
    let json = serde_json::json!({
        "season": label,
        "forecast_member_seasons": fc_seasons.len(),
        "hindcast_member_seasons": hc_seasons.len(),
        "time_step_hours": fc.step_hours,
        "filters": fc.filters,
        "basins": outlooks,
        "track_density_netcdf": "track_density.nc",
        "map": "map_tracks.png",
    });
    let mut md = markdown(&outlooks, &label, fc_seasons.len(), hc_seasons.len());
    md.push_str(&format!(
        "\n![Forecast tracks {label}](map_tracks.png)\n\n*Forecast tracks of the season (one colour per member, a dot at genesis) over the forecast track density (storms per member passing each {}° box; darker = more). Tables and probabilities: `cyclone_outlook.json`; maps of density, climatology and anomaly: `track_density.nc`.*\n",
        a.density_deg
    ));
    Ok(Produced {
        markdown: md,
        json,
        member_seasons: (fc_seasons.len(), hc_seasons.len()),
        label,
    })
}

/// The outlook as a Markdown section: a table per basin and key messages.
pub fn markdown(outlooks: &[ActivityOutlook], season: &str, n_fc: usize, n_hc: usize) -> String {
    let pct = |p: f64| format!("{:.0} %", 100.0 * p);
    let mut md = format!(
        "## Tropical cyclone outlook, {season}\n\nFrom {n_fc} forecast members against {n_hc} hindcast member-seasons of the same model (storms counted by genesis basin and month).\n\n| basin | storms (forecast) | climatology | anomaly | below / near / above normal | P(≥ 1) | P(≥ 2) | ACE (10⁴ kt²) fc / clim |\n|---|---|---|---|---|---|---|---|\n"
    );
    for o in outlooks {
        md.push_str(&format!(
            "| {} | {:.1}{} | {:.1} | {:+.1} | {} / {} / {} | {} | {} | {:.1} / {:.1} |\n",
            o.basin_name,
            o.count_mean,
            o.count_calibrated
                .map(|c| format!(" (calibrated {c:.1})"))
                .unwrap_or_default(),
            o.count_climatology,
            o.count_anomaly,
            pct(o.tercile_probabilities[0]),
            pct(o.tercile_probabilities[1]),
            pct(o.tercile_probabilities[2]),
            pct(o.prob_at_least.first().copied().unwrap_or(0.0)),
            pct(o.prob_at_least.get(1).copied().unwrap_or(0.0)),
            o.ace_mean,
            o.ace_climatology
        ));
    }
    md.push_str("\n### Key messages\n\n");
    for o in outlooks {
        let t = o.tercile_probabilities;
        let (k, p) = t
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, p)| (k, *p))
            .unwrap_or((1, 0.0));
        if o.count_mean == 0.0 && o.count_climatology == 0.0 {
            md.push_str(&format!(
                "- **{}**: no storms in the forecast nor in the model's climatology for these months.\n",
                o.basin_name
            ));
            continue;
        }
        // the C3S/NMME convention: a category is "most likely" at ≥ 40 %
        if p >= 0.4 {
            let cat = ["below-normal", "near-normal", "above-normal"][k];
            md.push_str(&format!(
                "- **{}**: {} activity most likely ({}); {:.1} storms expected against {:.1} normally.",
                o.basin_name,
                cat,
                pct(p),
                o.count_mean,
                o.count_climatology
            ));
        } else {
            md.push_str(&format!(
                "- **{}**: no clear signal (below / near / above normal {} / {} / {}); {:.1} storms expected against {:.1} normally.",
                o.basin_name,
                pct(t[0]),
                pct(t[1]),
                pct(t[2]),
                o.count_mean,
                o.count_climatology
            ));
        }
        if let Some((c, pf, ph)) = o.landfall.first() {
            md.push_str(&format!(
                " Landfall most likely in {c}: {} of members (normally {}).",
                pct(*pf),
                pct(*ph)
            ));
        }
        md.push('\n');
    }
    md
}
