//! `s2s cyclones gpi`: potential intensity and the genesis potential index from monthly
//! (or any) mean fields on pressure levels.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use ndarray::{s, Array3};
use s2s_ensemble::bulletin::{anomaly_classes, genesis_markdown, render_classed_map, ClassedMap};
use s2s_ensemble::cube::{CubeKind, Spatial};
use s2s_ensemble::cyclone::activity::{Basin, Season};
use s2s_ensemble::cyclone::genesis::PiSpec;
use s2s_ensemble::cyclone::genesis_outlook::{
    genesis_outlook, gpi_fields, monthly_anomaly, GenesisInput, GpiFields, GpiInputs,
};
use s2s_ensemble::grid::Countries;
use s2s_ensemble::io::write::{write_spatial, write_time_coords};
use s2s_ensemble::io::{pressure_levels, CfWriter, ReadOptions};
use s2s_ensemble::units::pressure_to_pa;
use s2s_ensemble::Cube;

use super::cyclones::{pick, read_raw, to_units};
use super::{read_var, Globals};

#[derive(Debug, Args)]
pub struct GpiArgs {
    /// Files holding the variables (comma-separated; each variable is taken from the first
    /// file that has it): sea surface temperature `tos`/`sst` (°C or K), sea-level pressure
    /// `psl`/`msl` (Pa or hPa), and on pressure levels air temperature `ta` (K), specific
    /// humidity `hus` (kg/kg), winds `ua`, `va` (m/s) and optionally relative humidity `hur`
    /// (%), all on one grid and one time axis.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILES")]
    fields: Vec<PathBuf>,
    /// `C_k / C_D` of the potential intensity.
    #[arg(long, default_value_t = 0.9)]
    ck_cd: f64,
    /// Output NetCDF: `gpi`, `vpot`, `pmin`, `abs_vorticity_850`, `rh_600`, `shear_850_200`
    /// and `gpi_anomaly` (against the mean of the same calendar month over the file's years).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// The first file of `files` with one of `names`, and the name.
fn find(files: &[PathBuf], names: &[&str]) -> anyhow::Result<Option<(PathBuf, String)>> {
    for f in files {
        if let Some(n) = pick(f, None, names)? {
            return Ok(Some((f.clone(), n)));
        }
    }
    Ok(None)
}

fn need(files: &[PathBuf], names: &[&str], what: &str) -> anyhow::Result<(PathBuf, String)> {
    find(files, names)?.with_context(|| {
        format!(
            "no {what} ({}) in {}",
            names.join(", "),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn slab(c: &Cube) -> Array3<f32> {
    c.values.slice(s![.., 0, 0, .., ..]).to_owned()
}

/// The GPI of the fields in `files` (each variable from the first file that has it), with the
/// sea surface temperature's cube for the grid and times.
pub fn read_gpi_fields(files: &[PathBuf], ck_cd: f64) -> anyhow::Result<(GpiFields, Cube)> {
    let (sst_f, sst_v) = need(
        files,
        &["tos", "sst", "ts", "SST"],
        "sea surface temperature",
    )?;
    let (psl_f, psl_v) = need(files, &["psl", "msl", "slp"], "sea-level pressure")?;
    let (ta_f, ta_v) = need(files, &["ta", "t", "T", "air"], "air temperature")?;
    let (hus_f, hus_v) = need(files, &["hus", "q", "shum"], "specific humidity")?;
    let (ua_f, ua_v) = need(files, &["ua", "u", "uwnd"], "eastward wind")?;
    let (va_f, va_v) = need(files, &["va", "v", "vwnd"], "northward wind")?;
    let hur = find(files, &["hur", "rh", "r"])?;

    // the reader converts a temperature to °C by its units (and checks them)
    let sst_c = read_var(&sst_f, Some(&sst_v), ReadOptions::default())?;
    if sst_c.meta.kind != CubeKind::Observed {
        bail!(
            "{}: '{sst_v}' is a forecast layout (start dates and leads); give (time, lat, lon) means",
            sst_f.display()
        );
    }
    let sst = slab(&sst_c);
    let psl_c = to_units(
        read_raw(&psl_f, &psl_v, None, None)?,
        &psl_f,
        pressure_to_pa,
        "Pa",
        (85_000.0, 110_000.0),
    )?;
    let msl = slab(&psl_c).mapv(|p| p / 100.0); // hPa
    let Spatial::Grid { lat, lon } = &sst_c.coords.spatial else {
        bail!("{}: not on a latitude/longitude grid", sst_f.display());
    };
    let shape = sst.dim();
    if msl.dim() != shape {
        bail!("{} and {}: sea surface temperature and sea-level pressure differ in shape {:?} vs {:?}", sst_f.display(), psl_f.display(), shape, msl.dim());
    }
    let mut levels = pressure_levels(&ta_f, Some(&ta_v))?;
    levels.sort_by(|x, y| y.total_cmp(x)); // surface first
    if levels.len() < 5 {
        bail!("{}: '{ta_v}' has {} pressure levels; the potential intensity needs a sounding (at least 5 levels up to ~100 hPa)", ta_f.display(), levels.len());
    }
    for need_level in [850.0, 600.0, 200.0] {
        if !levels.iter().any(|l| (l - need_level).abs() <= 0.5) {
            bail!(
                "{}: no {need_level} hPa level (levels: {levels:?})",
                ta_f.display()
            );
        }
    }
    let mut ta = Vec::new();
    let mut hus = Vec::new();
    for &l in &levels {
        let t = slab(&read_raw(&ta_f, &ta_v, None, Some(l))?);
        let q = slab(&read_raw(&hus_f, &hus_v, None, Some(l))?);
        if t.dim() != shape || q.dim() != shape {
            bail!("the fields at {l} hPa are not on the sea surface temperature's times and grid");
        }
        ta.push(t);
        hus.push(q);
    }
    let wind = |f: &PathBuf, v: &str, l: f64| -> anyhow::Result<Array3<f32>> {
        Ok(slab(&read_raw(f, v, None, Some(l))?))
    };
    let winds = [
        wind(&ua_f, &ua_v, 850.0)?,
        wind(&va_f, &va_v, 850.0)?,
        wind(&ua_f, &ua_v, 200.0)?,
        wind(&va_f, &va_v, 200.0)?,
    ];
    let rh600 = match &hur {
        Some((f, v)) => Some(slab(&read_raw(f, v, None, Some(600.0))?)),
        None => None,
    };
    let ta_views: Vec<_> = ta.iter().map(|a| a.view()).collect();
    let hus_views: Vec<_> = hus.iter().map(|a| a.view()).collect();
    let fields = gpi_fields(
        &GpiInputs {
            lat,
            lon,
            sst_c: sst.view(),
            msl_hpa: msl.view(),
            levels_hpa: &levels,
            ta_k: &ta_views,
            hus: &hus_views,
            winds: winds.each_ref().map(|w| w.view()),
            rh_600_pct: rh600.as_ref().map(|h| h.view()),
        },
        &PiSpec {
            ck_cd,
            ..PiSpec::default()
        },
    )
    .with_context(|| format!("the genesis potential of {}", sst_f.display()))?;
    Ok((fields, sst_c))
}

pub fn run(a: &GpiArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (f, sst_c) = read_gpi_fields(&a.fields, a.ck_cd)?;
    let (nt, ny, nx) = f.gpi.dim();
    // anomaly against the mean of the same calendar month (when there are ≥ 3 years)
    let months: Vec<u32> = sst_c.coords.init.iter().map(|t| t.month).collect();
    let anomaly = monthly_anomaly(f.gpi.view(), &months, 3);
    // output
    let mut w = CfWriter::create(&a.out, &g.write_options())?;
    let mut dims = write_time_coords(
        &mut w,
        &sst_c.coords,
        sst_c.meta.calendar,
        CubeKind::Observed,
    )?;
    dims.extend(write_spatial(&mut w, &sst_c.coords.spatial)?);
    let d: Vec<&str> = dims.to_vec();
    for (name, data, long, units) in [
        (
            "gpi",
            &f.gpi,
            "genesis potential index (Emanuel and Nolan 2004)",
            "1",
        ),
        (
            "gpi_anomaly",
            &anomaly,
            "genesis potential index minus its mean over the same calendar month",
            "1",
        ),
        (
            "vpot",
            &f.vpot,
            "potential intensity: maximum 10 m wind (Bister and Emanuel 2002)",
            "m s-1",
        ),
        (
            "pmin",
            &f.pmin,
            "potential intensity: minimum central pressure",
            "hPa",
        ),
        (
            "abs_vorticity_850",
            &f.abs_vorticity_850,
            "absolute vorticity at 850 hPa",
            "s-1",
        ),
        ("rh_600", &f.rh_600, "relative humidity at 600 hPa", "%"),
        (
            "shear_850_200",
            &f.shear_850_200,
            "magnitude of the 200 - 850 hPa wind difference",
            "m s-1",
        ),
    ] {
        w.f32_var(
            name,
            &d,
            data.view().into_dyn(),
            &[("long_name", long), ("units", units)],
            &[],
        )?;
    }
    w.finish()?;
    if !g.quiet {
        eprintln!(
            "GPI of {nt} times × {ny} × {nx} cells in {:.1} s: {}",
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What the runner's genesis-potential outlook needs (`[cyclones]` with `gpi_forecast` and
/// `gpi_hindcast`).
pub(crate) struct GenesisPlan<'a> {
    pub forecast: &'a [PathBuf],
    pub hindcast: &'a [PathBuf],
    pub season: &'a str,
    pub basins: &'a [String],
    pub countries: &'a Countries,
    pub out: &'a Path,
}

/// The genesis outlook's Markdown section and JSON.
pub(crate) struct GenesisProducts {
    pub markdown: String,
    pub json: serde_json::Value,
}

/// A step of 1, 2 or 5 × 10ⁿ near `x` (> 0), for colour classes.
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 0.1;
    }
    let p = 10f64.powf(x.log10().floor());
    let m = x / p;
    p * if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    }
}

/// The genesis potential outlook: GPI of the forecast and hindcast monthly means, the season
/// against the hindcast years per basin, `genesis_outlook.nc` and `map_gpi_anomaly.png`.
pub(crate) fn genesis_products(plan: &GenesisPlan, g: &Globals) -> anyhow::Result<GenesisProducts> {
    let season = Season::parse(plan.season)?;
    let basins: Vec<&'static Basin> = plan
        .basins
        .iter()
        .map(|k| Basin::by_key(k))
        .collect::<Result<_, _>>()?;
    let (fc, fc_cube) = read_gpi_fields(plan.forecast, 0.9).context("the forecast fields")?;
    let (hc, hc_cube) = read_gpi_fields(plan.hindcast, 0.9).context("the hindcast fields")?;
    if fc_cube.coords.spatial != hc_cube.coords.spatial {
        bail!(
            "{} and {}: the forecast and hindcast fields are on different grids",
            plan.forecast[0].display(),
            plan.hindcast[0].display()
        );
    }
    let Spatial::Grid { lat, lon } = &fc_cube.coords.spatial else {
        bail!(
            "{}: not on a latitude/longitude grid",
            plan.forecast[0].display()
        );
    };
    let o = genesis_outlook(&GenesisInput {
        forecast: (fc.gpi.view(), &fc_cube.coords.init),
        hindcast: (hc.gpi.view(), &hc_cube.coords.init),
        lat,
        lon,
        season: &season,
        basins: &basins,
    })?;
    let year = fc_cube
        .coords
        .init
        .iter()
        .find_map(|t| season.season_year(t))
        .unwrap_or_default();
    let label = format!("{} {year}", season.label());
    let years = (
        o.years.first().copied().unwrap_or_default(),
        o.years.last().copied().unwrap_or_default(),
    );
    // NetCDF: the season's forecast, normal, anomaly and percent of normal
    let nc = plan.out.join("genesis_outlook.nc");
    let mut w = CfWriter::create(&nc, &g.write_options())?;
    w.global_text(
        "title",
        &format!("genesis potential index (Emanuel and Nolan 2004), {label}"),
    )?;
    let dims = write_spatial(&mut w, &fc_cube.coords.spatial)?;
    for (name, a, long, units) in [
        (
            "gpi_forecast",
            &o.forecast,
            "season-mean GPI of the forecast",
            "1",
        ),
        (
            "gpi_normal",
            &o.normal,
            "mean season GPI of the hindcast years",
            "1",
        ),
        ("gpi_anomaly", &o.anomaly, "gpi_forecast - gpi_normal", "1"),
        (
            "gpi_percent_of_normal",
            &o.percent_of_normal,
            "100 gpi_forecast / gpi_normal (where gpi_normal >= 1e-3)",
            "%",
        ),
    ] {
        w.f32_var(
            name,
            &dims,
            a.view().into_dyn(),
            &[("long_name", long), ("units", units)],
            &[],
        )?;
    }
    w.finish()?;
    // the anomaly map, classes scaled to the anomalies
    let mut mags: Vec<f32> = o
        .anomaly
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    let p90 = if mags.is_empty() {
        f64::NAN
    } else {
        s2s_ensemble::stats::quantile_select(&mut mags, 0.9)
    };
    let step = nice_step(p90 / 3.0) as f32;
    let classes = anomaly_classes(step, false);
    let values: Vec<f32> = o.anomaly.iter().copied().collect();
    let title = format!(
        "Genesis potential index anomaly, {label} (forecast − {}–{} mean)",
        years.0, years.1
    );
    render_classed_map(
        &plan.out.join("map_gpi_anomaly.png"),
        &ClassedMap {
            spatial: &fc_cube.coords.spatial,
            values: &values,
            classes: &classes,
            legend: "GPI anomaly (season mean; red: more favourable for cyclone formation)",
            countries: Some(plan.countries),
            title: &title,
        },
    )?;
    let markdown = genesis_markdown(&o, &label, "map_gpi_anomaly.png");
    let json = serde_json::json!({
        "season": label,
        "hindcast_years": [years.0, years.1],
        "basins": o.basins,
        "netcdf": "genesis_outlook.nc",
        "map": "map_gpi_anomaly.png",
        "anomaly_class_step": step,
    });
    Ok(GenesisProducts { markdown, json })
}
