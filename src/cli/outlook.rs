//! `s2s outlook`: from the models' raw hindcast and forecast NetCDF to regional bulletins —
//! for every configured variable bias correction (cross-validated), multi-model combination,
//! verification of the MME, maps and the CF-NetCDF forecast; the drought outlook for
//! precipitation; the tropical-cyclone outlook from daily fields (tracks) or monthly means
//! (genesis potential); then the Markdown, HTML and JSON bulletin of the whole domain and of
//! each region, driven by a TOML configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ndarray::Axis;
use s2s_ensemble::bias::{
    correct, BiasCorrector, BiasParams, CrossValidation, Kind, MeanScaling, QuantileMapping,
};
use s2s_ensemble::bulletin::{
    anomaly_classes, capitalised, cell_countries, display_name, drought_markdown, markdown,
    methods_markdown, percent_of_normal_classes, render_classed_map, render_region_classed_map,
    render_region_map, render_tercile_map, summarise, summarise_countries, summarise_drought,
    ClassedMap, CountryOutlook, DroughtFields, DroughtSummary, LeadMaps, MapStyle, Methods,
    RegionCells, RegionOutlook, TercileMap, VariableSection,
};
use s2s_ensemble::config::{BiasMethod, OutlookConfig};
use s2s_ensemble::cube::{BBox, Lead};
use s2s_ensemble::ensemble::{
    collapsed_categories, combine, CombineInput, CombineSpec, EdgeSource, Products, WeightScheme,
};
use s2s_ensemble::grid::Countries;
use s2s_ensemble::indices::drought::{DroughtTendency, PROB_SPI_BELOW_MINUS_ONE, TENDENCY_FILL};
use s2s_ensemble::indices::{
    drought_outlook, forecast_spi, gaussian_spi_outlook, latest_observed_spi,
    model_climatology_outlook, DroughtOutlook, ForecastSpiInput, MonthlyAxis, MonthlyRecord,
    SpiSpec, SPI_CLASSES,
};
use s2s_ensemble::io::{write_text_atomic, ReadOptions};
use s2s_ensemble::progress::Progress;
use s2s_ensemble::units::Quantity;
use s2s_ensemble::verify::{skill_maps, Region, ScoredForecast, SkillMaps};
use s2s_ensemble::Cube;
use serde::Serialize;

use super::combine::{Layout, MmeFile};
use super::cyclone_outlook::{produce, Plan};
use super::cyclones::{FieldArgs, StitchArgs};
use super::progress::Bars;
use super::{align_or_fail, common_years, peak_rss_mib, read_observed_series, read_var, Globals};

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

/// One stage's time and the peak memory so far, for the run log.
#[derive(Debug, Serialize)]
struct Stage {
    stage: String,
    seconds: f64,
    peak_rss_mib: Option<f64>,
}

/// The run log: each stage's time and the peak memory after it.
struct RunLog {
    stages: Vec<Stage>,
    t: Instant,
    quiet: bool,
}

impl RunLog {
    /// Closes the current stage as `name`.
    fn stage(&mut self, name: &str) {
        self.stages.push(Stage {
            stage: name.to_string(),
            seconds: self.t.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
        });
        if !self.quiet {
            eprintln!("{name:>16}: {:.2} s", self.t.elapsed().as_secs_f64());
        }
        self.t = Instant::now();
    }
}

/// What every product of a run shares: the configuration, where inputs and outputs are, the
/// countries and the regions.
struct RunContext<'a> {
    cfg: &'a OutlookConfig,
    base: &'a Path,
    out: &'a Path,
    g: &'a Globals,
    countries: &'a Countries,
    regions: &'a [Region],
    region_dirs: &'a [PathBuf],
}

impl RunContext<'_> {
    /// Draws a map into `png` for the whole run (`draw(path, None)`) and cropped to each
    /// region (`draw(path, Some((title, box)))`, the title led by the region's name; `false`:
    /// no cells there), listing it under `caption` in `maps` and, where drawn, `region_maps`.
    fn maps_everywhere(
        &self,
        png: String,
        caption: &str,
        maps: &mut Maps,
        region_maps: &mut [Maps],
        draw: impl Fn(&Path, Option<(&str, &BBox)>) -> s2s_ensemble::Result<bool>,
    ) -> anyhow::Result<()> {
        draw(&self.out.join(&png), None)?;
        for (ri, r) in self.regions.iter().enumerate() {
            let title = format!("{} — {caption}", display_name(&r.name));
            if draw(&self.region_dirs[ri].join(&png), Some((&title, &r.bbox)))? {
                region_maps[ri].push((caption.to_string(), png.clone()));
            }
        }
        maps.push((caption.to_string(), png));
        Ok(())
    }

    /// [`Self::maps_everywhere`] for a tercile-style map.
    fn tercile_maps(
        &self,
        map: &TercileMap,
        png: String,
        caption: &str,
        maps: &mut Maps,
        region_maps: &mut [Maps],
    ) -> anyhow::Result<()> {
        self.maps_everywhere(
            png,
            caption,
            maps,
            region_maps,
            |out, region| match region {
                None => render_tercile_map(out, map).map(|_| true),
                Some((title, bbox)) => render_region_map(out, &TercileMap { title, ..*map }, bbox),
            },
        )
    }

    /// A configured path, relative to the configuration's folder unless absolute.
    fn path(&self, p: &Path) -> PathBuf {
        resolve(self.base, p)
    }
}

/// `p` as configured: relative to the configuration's folder `base` unless absolute.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A list of `(caption, file)` maps.
type Maps = Vec<(String, String)>;

/// The drought part of a precipitation variable.
struct DroughtPart {
    method: String,
    summaries: Vec<DroughtSummary>,
    maps: Maps,
    region_maps: Vec<Maps>,
    file: PathBuf,
}

/// Everything one variable contributes to the bulletins.
struct VariableProducts {
    variable: String,
    /// The quantity in words ("rainfall").
    what: String,
    method: String,
    outlooks: Vec<RegionOutlook>,
    countries: Vec<CountryOutlook>,
    maps: Maps,
    field_maps: Maps,
    field_note: String,
    region_maps: Vec<Maps>,
    region_field_maps: Vec<Maps>,
    region_countries: Vec<Vec<CountryOutlook>>,
    drought: Option<DroughtPart>,
    netcdf: PathBuf,
    models: Vec<(String, usize, (i32, i32))>,
    observations: String,
    issued_from: String,
    years: (i32, i32),
}

impl VariableProducts {
    fn section(&self) -> VariableSection<'_> {
        VariableSection {
            what: &self.what,
            method: &self.method,
            outlooks: &self.outlooks,
            maps: &self.maps,
            field_maps: &self.field_maps,
            field_note: &self.field_note,
            countries: &self.countries,
        }
    }

    /// The section of region `ri` alone.
    fn regional(&self, ri: usize, region: &str) -> VariableProducts {
        VariableProducts {
            variable: self.variable.clone(),
            what: self.what.clone(),
            method: self.method.clone(),
            outlooks: self
                .outlooks
                .iter()
                .filter(|o| o.region == region)
                .cloned()
                .collect(),
            countries: self.region_countries[ri].clone(),
            maps: self.region_maps[ri].clone(),
            field_maps: self.region_field_maps[ri].clone(),
            field_note: self.field_note.clone(),
            region_maps: Vec::new(),
            region_field_maps: Vec::new(),
            region_countries: Vec::new(),
            drought: self.drought.as_ref().map(|d| DroughtPart {
                method: d.method.clone(),
                summaries: d
                    .summaries
                    .iter()
                    .filter(|s| s.region == region)
                    .cloned()
                    .collect(),
                maps: d.region_maps[ri].clone(),
                region_maps: Vec::new(),
                file: d.file.clone(),
            }),
            netcdf: self.netcdf.clone(),
            models: self.models.clone(),
            observations: self.observations.clone(),
            issued_from: self.issued_from.clone(),
            years: self.years,
        }
    }

    /// The JSON of the variable: every number its sections show.
    fn json(&self) -> serde_json::Value {
        let file = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned());
        serde_json::json!({
            "variable": self.variable,
            "quantity": self.what,
            "method": self.method,
            "issued_from_start": self.issued_from,
            "hindcast_years": [self.years.0, self.years.1],
            "regions": self.outlooks,
            "countries": self.countries,
            "drought": self.drought.as_ref().map(|d| &d.summaries),
            "maps": self
                .maps
                .iter()
                .chain(&self.field_maps)
                .chain(self.drought.iter().flat_map(|d| &d.maps))
                .map(|m| &m.1)
                .collect::<Vec<_>>(),
            "netcdf": file(&self.netcdf),
            "spi_netcdf": self.drought.as_ref().and_then(|d| file(&d.file)),
        })
    }
}

/// The cyclone part of the bulletins: from tracks, from the genesis potential, or both.
#[derive(Default)]
struct CycloneProducts {
    markdown: String,
    tracks_json: serde_json::Value,
    genesis_json: serde_json::Value,
    /// The basins the section covers (their boxes), to include it in the regions they touch.
    basin_boxes: Vec<(f64, f64, f64, f64)>,
}

pub fn run(args: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
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
    let cfg = OutlookConfig::load(&config)?;
    let base = config.parent().unwrap_or(Path::new("."));
    let out = args.out.clone().unwrap_or_else(|| base.join(&cfg.output));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut log = RunLog {
        stages: Vec::new(),
        t: Instant::now(),
        quiet: g.quiet,
    };
    // A progress bar per stage on a terminal (ingest and bias go model by model).
    let bars = Bars::new(g.quiet);

    // the configured outlines, else the bundled Natural Earth countries
    let countries =
        super::load_countries(cfg.countries.as_ref().map(|p| resolve(base, p)).as_deref())?;
    let regions = cfg.regions(&countries)?;
    // One bulletin per region too, in out/<region>/: its maps, its countries.
    let region_dirs: Vec<PathBuf> = regions.iter().map(|r| out.join(&r.name)).collect();
    for d in &region_dirs {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let ctx = RunContext {
        cfg: &cfg,
        base,
        out: &out,
        g,
        countries: &countries,
        regions: &regions,
        region_dirs: &region_dirs,
    };
    let mut variables = Vec::new();
    for v in cfg.variables() {
        variables.push(
            variable_products(&ctx, &v, &mut log, &bars)
                .with_context(|| format!("the outlook of '{v}'"))?,
        );
    }
    let cyclones = match &cfg.cyclones {
        Some(c) => {
            let p = cyclone_products(&ctx, c).context("the [cyclones] outlook")?;
            log.stage("cyclones");
            p
        }
        None => CycloneProducts::default(),
    };
    write_bulletins(&ctx, &variables, &cyclones)?;
    log.stage("bulletin");

    let mut inputs = Vec::new();
    for f in cfg.input_files() {
        let p = ctx.path(&f);
        let (sha256, bytes) = s2s_ensemble::io::sha256_file(&p)?;
        inputs.push(serde_json::json!({
            "path": p.display().to_string(),
            "bytes": bytes,
            "sha256": sha256,
        }));
    }
    let provenance = serde_json::json!({
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg,
        "inputs": inputs,
        "stages": log.stages,
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    write_text_atomic(
        out.join("provenance.json"),
        &serde_json::to_string_pretty(&provenance)?,
    )?;
    if !g.quiet {
        println!("bulletin: {}", out.join("bulletin.md").display());
        println!("  {}", out.join("bulletin.html").display());
        println!("  {}", out.join("bulletin.json").display());
        for v in &variables {
            println!("  {}", v.netcdf.display());
            for (_, m) in v.maps.iter().chain(&v.field_maps) {
                println!("  {}", out.join(m).display());
            }
        }
        for d in &region_dirs {
            println!("  {}", d.join("bulletin.html").display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One variable's inputs.
struct Inputs {
    hindcasts: Vec<Cube>,
    forecasts: Vec<Cube>,
    obs: Cube,
    obs_path: PathBuf,
    /// The common hindcast years.
    years: (i32, i32),
}

/// Reads every model's hindcast and forecast of `variable` and the observations, cut to the
/// target periods and the common hindcast years.
fn ingest(ctx: &RunContext, variable: &str, bars: &Bars) -> anyhow::Result<Inputs> {
    let cfg = ctx.cfg;
    let years = cfg.years;
    bars.start(&format!("ingest {variable}"), cfg.models.len() as u64);
    let mut hindcasts = Vec::new();
    let mut forecasts = Vec::new();
    for m in &cfg.models {
        bars.advance(1);
        let opts = ReadOptions {
            years,
            model: Some(m.name.clone()),
            ..Default::default()
        };
        let var = Some(m.file_variable(variable));
        hindcasts.push(read_var(&ctx.path(&m.hindcast), var, opts.clone())?);
        forecasts.push(read_var(
            &ctx.path(&m.forecast),
            var,
            ReadOptions {
                years: None,
                ..opts
            },
        )?);
    }
    // Target periods (weeks 1, 2, 3–4 from daily leads; month 1, months 2–4 from monthly).
    let periods = cfg.target_periods()?;
    if !periods.is_empty() {
        for (c, m) in hindcasts
            .iter_mut()
            .chain(forecasts.iter_mut())
            .zip(cfg.models.iter().chain(cfg.models.iter()))
        {
            *c = c
                .target_periods(&periods)
                .with_context(|| format!("periods of model {}", m.name))?;
        }
    }
    let all_years = hindcasts[0].init_years();
    let span =
        common_years(&mut hindcasts)?.unwrap_or((all_years[0], all_years[all_years.len() - 1]));
    let obs_cfg = cfg
        .observations
        .for_variable(variable)
        .expect("checked when the configuration was read");
    let obs_path = ctx.path(&obs_cfg.path);
    let mut obs = read_observed_series(
        &obs_path,
        Some(obs_cfg.variable.as_deref().unwrap_or(variable)),
        years,
        obs_cfg.units.clone(),
    )?;
    bars.finish();
    match &cfg.grid {
        Some(grid) => common_grid(grid, &mut hindcasts, &mut forecasts, &mut obs, &obs_path)?,
        None => {
            // without [grid], every file must already be on the observations' grid
            for c in hindcasts.iter().chain(&forecasts) {
                if c.coords.spatial != obs.coords.spatial {
                    anyhow::bail!(
                        "model {} is not on the grid of {}: add a [grid] section to the configuration (e.g. `[grid]` alone regrids every model onto the observations' grid; `spacing = \"1\"` onto a 1° grid), or regrid the files with `s2s regrid`",
                        c.meta.model,
                        obs_path.display()
                    );
                }
            }
        }
    }
    Ok(Inputs {
        hindcasts,
        forecasts,
        obs,
        obs_path,
        years: span,
    })
}

/// Regrids every model cube and the observations onto the `[grid]` of the run (the spacing
/// grid, or the observations' own): weights computed once per source grid, cubes already on
/// the target left as they are.
fn common_grid(
    grid: &s2s_ensemble::config::GridConfig,
    hindcasts: &mut [Cube],
    forecasts: &mut [Cube],
    obs: &mut Cube,
    obs_path: &Path,
) -> anyhow::Result<()> {
    use s2s_ensemble::grid::{regrid_cube, LonLatGrid, WeightCache};
    let target = match grid.target()? {
        Some(t) => t,
        None => LonLatGrid::from_spatial(&obs.coords.spatial)
            .with_context(|| format!("{}: the observations' grid as [grid]", obs_path.display()))?,
    };
    let mut cache = WeightCache::new(grid.method, target);
    for c in hindcasts
        .iter_mut()
        .chain(forecasts.iter_mut())
        .chain(std::iter::once(obs))
    {
        let src = LonLatGrid::from_spatial(&c.coords.spatial).with_context(|| {
            format!(
                "{} '{}': regridding to [grid]",
                c.meta.model, c.meta.variable
            )
        })?;
        if &src == cache.target() {
            continue;
        }
        *c = regrid_cube(c, cache.from_source(&src)?)?;
    }
    Ok(())
}

/// The quantity in a bulletin's words.
fn quantity_words(quantity: Quantity, variable: &str) -> String {
    match quantity {
        Quantity::Precipitation => "rainfall".to_string(),
        Quantity::Temperature => "temperature".to_string(),
        _ => variable.to_string(),
    }
}

/// One variable from raw files to its maps, summaries and NetCDF products.
fn variable_products(
    ctx: &RunContext,
    variable: &str,
    log: &mut RunLog,
    bars: &Bars,
) -> anyhow::Result<VariableProducts> {
    let cfg = ctx.cfg;
    let Inputs {
        mut hindcasts,
        mut forecasts,
        obs,
        obs_path,
        years: (first_year, last_year),
    } = ingest(ctx, variable, bars)?;
    log.stage(&format!("ingest {variable}"));

    // ---- bias correction (cross-validated hindcast + forecast) ----
    let quantity = hindcasts[0].meta.quantity;
    let kind = if quantity == Quantity::Precipitation {
        Kind::Multiplicative
    } else {
        Kind::Additive
    };
    let corrector: Option<Box<dyn BiasCorrector>> = match cfg.bias {
        BiasMethod::None => None,
        BiasMethod::Scaling => Some(Box::new(MeanScaling { kind })),
        BiasMethod::Eqm => Some(Box::new(QuantileMapping {
            quantiles: None,
            kind,
        })),
    };
    // With each model's own category edges (the default), categories, anomalies and percent
    // of normal come from the model's own hindcast climate, which a correction fitted on all
    // years (a monotone map per cell and lead) leaves as they are; a leave-one-year-out
    // corrected hindcast would only add the degeneracy of cross-validation (the left-out
    // year's observation enters its own correction with weight −1/(n − 1): Barnston & van den
    // Dool 1993), which lowers the hindcast skill by ~σ_obs/(n − 1) of anomaly. So the models
    // are combined as they are, and the corrected forecasts feed what needs the observed
    // climate: the forecast SPI. With observed edges the combination uses the corrected
    // cubes, hindcasts leave-one-year-out.
    let combine_corrected = cfg.edges_from_obs;
    let mut corrected_forecasts: Option<Vec<Cube>> = None;
    if let Some(c) = &corrector {
        bars.start(&format!("bias {variable}"), hindcasts.len() as u64);
        let params = BiasParams {
            wet_threshold: 0.01,
            cv: if combine_corrected {
                CrossValidation::LeaveOut(1)
            } else {
                CrossValidation::None
            },
            correct_hindcast: combine_corrected,
            ..Default::default()
        };
        let mut fcs = Vec::new();
        for (h, f) in hindcasts.iter_mut().zip(forecasts.iter_mut()) {
            bars.advance(1);
            let (aligned, _) = align_or_fail(&obs, &obs_path, h)?;
            let r = correct(c.as_ref(), h, &aligned, Some(f), &params)
                .with_context(|| format!("bias correction of {}", h.meta.model))?;
            let fc = r.forecast.expect("forecast given");
            if combine_corrected {
                *h = r.hindcast.expect("hindcast corrected");
                *f = fc;
            } else {
                fcs.push(fc);
            }
        }
        if !combine_corrected {
            corrected_forecasts = Some(fcs);
        }
        bars.finish();
        log.stage(&format!("bias {variable}"));
    }

    // ---- combine, verify ----
    bars.start(&format!("combine {variable}"), 1);
    let spec = CombineSpec {
        scheme: cfg.weights.scheme(),
        edges: if cfg.edges_from_obs {
            EdgeSource::Observed
        } else {
            EdgeSource::Model
        },
        full_hindcast: false,
        ..CombineSpec::default()
    };
    let (aligned, _) = align_or_fail(&obs, &obs_path, &hindcasts[0])?;
    let models: Vec<String> = cfg.models.iter().map(|m| m.name.clone()).collect();
    let leads = hindcasts[0].coords.lead.clone();
    let href: Vec<&Cube> = hindcasts.iter().collect();
    let fref: Vec<&Cube> = forecasts.iter().collect();
    let mut result = combine(
        &CombineInput {
            hindcasts: &href,
            forecasts: Some(&fref),
            obs: Some(&aligned),
        },
        &spec,
    )?;
    // No category forecast where the observed climate cannot be split into terciles (dry
    // seasons, deserts): grey on the maps, left out of the summaries and the skill.
    // With each model's own edges, a model whose climate collapses skews the MME too.
    let mut no_outlook = collapsed_categories(aligned.values.view(), &spec.category_levels);
    if spec.edges == EdgeSource::Model && spec.scheme != WeightScheme::Pmme {
        for h in &hindcasts {
            let m = collapsed_categories(h.values.view(), &spec.category_levels);
            no_outlook.zip_mut_with(&m, |a, &b| *a |= b);
        }
    }
    result.hindcast.withhold(no_outlook.view());
    if let Some(f) = result.forecast.as_mut() {
        f.withhold(no_outlook.view());
    }
    bars.finish();
    log.stage(&format!("combine {variable}"));
    bars.start(&format!("verify {variable}"), 1);
    let fc = result.forecast.as_ref().expect("forecast products");
    let skill = skill_maps(&ScoredForecast {
        probability: result.hindcast.probability.view(),
        ensemble_mean: result.hindcast.mean.view(),
        anomaly: Some(result.hindcast.anomaly.view()),
        members: None,
        obs: aligned.values.view(),
        levels: &spec.category_levels,
        debias_members: None,
        bootstrap: None,
        fair_crps: true,
    })?;
    bars.finish();
    log.stage(&format!("verify {variable}"));

    // ---- the CF-NetCDF forecast ----
    bars.start(&format!("maps {variable}"), leads.len() as u64);
    let layout = Layout {
        spec: &spec,
        models: &models,
        leads: &leads,
        sources: if spec.edges == EdgeSource::Model && spec.scheme != WeightScheme::Pmme {
            models.clone()
        } else {
            vec!["observed".into()]
        },
        units: forecasts[0].meta.units.clone(),
        variable: variable.to_string(),
        quantity,
        calendar: forecasts[0].meta.calendar,
    };
    let nc_path = ctx.out.join(format!("mme_forecast.{variable}.nc"));
    let mut file = MmeFile::create(
        &nc_path,
        &ctx.g.write_options(),
        &layout,
        &forecasts[0],
        "forecast",
        true,
    )?;
    for l in 0..leads.len() {
        file.put_lead(l, &fc.select_lead(l))?;
    }
    file.w.finish()?;

    let what = quantity_words(quantity, variable);
    let mut products = VariableProducts {
        variable: variable.to_string(),
        what: what.clone(),
        method: spec.describe(),
        outlooks: Vec::new(),
        countries: Vec::new(),
        maps: Vec::new(),
        field_maps: Vec::new(),
        field_note: field_note(quantity, spec.scheme == WeightScheme::Pmme),
        region_maps: vec![Vec::new(); ctx.regions.len()],
        region_field_maps: vec![Vec::new(); ctx.regions.len()],
        region_countries: vec![Vec::new(); ctx.regions.len()],
        drought: None,
        netcdf: nc_path,
        models: hindcasts
            .iter()
            .map(|h| (h.meta.model.clone(), h.n_member(), (first_year, last_year)))
            .collect(),
        observations: format!(
            "{} ({})",
            obs_path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            obs.meta.variable
        ),
        issued_from: forecasts[0].coords.init[0].date_label(),
        years: (first_year, last_year),
    };
    // Each region's cells and each cell's country, found once for every lead and product.
    let spatial = &forecasts[0].coords.spatial;
    let region_cells: Vec<RegionCells> = ctx
        .regions
        .iter()
        .map(|r| RegionCells::new(r, spatial))
        .collect();
    let cell_country = cell_countries(spatial, ctx.countries, &region_cells);
    let maps = LeadContext {
        ctx,
        variable,
        what: &what,
        quantity,
        spec: &spec,
        forecast: &forecasts[0],
        fc,
        skill: &skill,
        region_cells: &region_cells,
        cell_country: &cell_country,
    };
    for (l, lead) in leads.iter().enumerate() {
        maps.lead(l, lead, &mut products)?;
        bars.advance(1);
    }
    bars.finish();
    log.stage(&format!("maps {variable}"));

    // ---- drought: forecast SPI of each target period (precipitation) ----
    if quantity == Quantity::Precipitation {
        let input = DroughtInput {
            obs: &obs,
            aligned: &aligned,
            hindcasts: &hindcasts,
            forecasts: &forecasts,
            corrected_forecasts: corrected_forecasts.as_deref().unwrap_or(&forecasts),
            leads: &leads,
            hindcast_mean: &result.hindcast,
            fc,
            pmme: spec.scheme == WeightScheme::Pmme,
        };
        products.drought = Some(drought_part(ctx, &input, &region_cells)?);
        log.stage(&format!("drought {variable}"));
    }
    Ok(products)
}

/// What the deterministic maps of a quantity show.
fn field_note(quantity: Quantity, pmme: bool) -> String {
    let normal = if pmme {
        "the observed mean of the hindcast years"
    } else {
        "the models' own hindcast means, weighted like the forecast"
    };
    match quantity {
        Quantity::Precipitation => format!("Ensemble-mean rainfall in percent of normal (normal: {normal}): browns below 80 %, white 80–120 %, blue-greens above 120 %."),
        Quantity::Temperature => format!("Ensemble-mean temperature anomaly (°C, against {normal}): blues colder, reds warmer, in steps of 0.5 °C."),
        _ => "Ensemble-mean standardized anomaly (in standard deviations of the hindcast climate), steps of 0.5.".to_string(),
    }
}

/// What the maps and summaries of each lead are made from.
struct LeadContext<'a> {
    ctx: &'a RunContext<'a>,
    variable: &'a str,
    what: &'a str,
    quantity: Quantity,
    spec: &'a CombineSpec,
    forecast: &'a Cube,
    fc: &'a Products,
    skill: &'a SkillMaps,
    region_cells: &'a [RegionCells],
    cell_country: &'a [Option<usize>],
}

impl LeadContext<'_> {
    /// The maps, regional summaries and country rows of lead `l`.
    fn lead(&self, l: usize, lead: &Lead, p: &mut VariableProducts) -> anyhow::Result<()> {
        let (ctx, fc, spec, variable) = (self.ctx, self.fc, self.spec, self.variable);
        let slab = |a: &ndarray::Array5<f32>, k: usize| -> Vec<f32> {
            a.slice(ndarray::s![0, k, l, .., ..])
                .iter()
                .copied()
                .collect()
        };
        let (start, end) = self.forecast.target_period(0, l)?;
        let target = start.period_label(&end, self.forecast.meta.calendar);
        let prob: Vec<Vec<f32>> = (0..3).map(|c| slab(&fc.probability, c)).collect();
        let dominant: Vec<i8> = fc
            .dominant_category
            .slice(ndarray::s![0, 0, l, .., ..])
            .iter()
            .copied()
            .collect();
        let acc: Vec<f32> = self
            .skill
            .acc
            .index_axis(Axis(0), l)
            .iter()
            .copied()
            .collect();
        let rpss: Vec<f32> = self
            .skill
            .rpss
            .index_axis(Axis(0), l)
            .iter()
            .copied()
            .collect();
        // Extremes: below the lowest and above the highest extreme level.
        let ne = spec.extreme_levels.len();
        let ext: Option<[Vec<f32>; 2]> =
            (ne >= 1).then(|| [0, ne].map(|k| slab(&fc.extreme_probability, k)));
        let (mean, normal) = (slab(&fc.mean, 0), slab(&fc.normal, 0));
        let lm = LeadMaps {
            probability: [&prob[0], &prob[1], &prob[2]],
            dominant: &dominant,
            acc: &acc,
            rpss: &rpss,
            extremes: ext.as_ref().map(|e| [e[0].as_slice(), e[1].as_slice()]),
            extreme_levels: [
                spec.extreme_levels.first().copied().unwrap_or(f64::NAN),
                spec.extreme_levels.last().copied().unwrap_or(f64::NAN),
            ],
            mean_and_normal: Some([&mean, &normal]),
        };
        for r in self.region_cells {
            p.outlooks.push(summarise(&lm, r, &lead.label(), &target));
        }
        let all_regions: Vec<&RegionCells> = self.region_cells.iter().collect();
        p.countries.extend(summarise_countries(
            &lm,
            ctx.countries,
            self.cell_country,
            &all_regions,
            &lead.label(),
            &target,
        ));
        for (ri, rc) in self.region_cells.iter().enumerate() {
            p.region_countries[ri].extend(summarise_countries(
                &lm,
                ctx.countries,
                self.cell_country,
                &[rc],
                &lead.label(),
                &target,
            ));
        }
        // Mask where the MME has no cross-validated skill, if asked; else the skill layer
        // hatches where the hindcasts show no skill.
        let mask: Option<Vec<bool>> = ctx
            .cfg
            .mask_unskilful
            .then(|| rpss.iter().map(|&r| r > 0.0).collect());
        let hatch: Option<Vec<bool>> = (!ctx.cfg.mask_unskilful)
            .then(|| rpss.iter().map(|&r| r.is_nan() || r <= 0.0).collect());
        let issued = self.forecast.coords.init[0].date_label();
        let png = format!("map_{variable}_lead{l}.png");
        let caption = format!(
            "{} tercile outlook, {} ({target}), issued from {issued}",
            capitalised(self.what),
            lead.label(),
        );
        let map = TercileMap {
            spatial: &self.forecast.coords.spatial,
            probability: [&prob[0], &prob[1], &prob[2]],
            dominant: &dominant,
            mask: mask.as_deref(),
            hatch: hatch.as_deref(),
            style: if self.quantity == Quantity::Temperature {
                MapStyle::Temperature
            } else {
                MapStyle::Precipitation
            },
            countries: Some(ctx.countries),
            title: &caption,
            categories: ["below normal", "near normal", "above normal"],
        };
        ctx.tercile_maps(&map, png, &caption, &mut p.maps, &mut p.region_maps)?;

        // The deterministic map: percent of normal, anomaly or standardized anomaly.
        let (values, classes, legend, name, words) = match self.quantity {
            Quantity::Precipitation => (
                slab(&fc.percent_of_normal, 0),
                percent_of_normal_classes(),
                "ensemble-mean rainfall, % of normal",
                "pct_normal",
                "in percent of normal",
            ),
            Quantity::Temperature => (
                slab(&fc.anomaly, 0),
                anomaly_classes(0.5, false),
                "ensemble-mean anomaly (°C)",
                "anomaly",
                "anomaly",
            ),
            _ => (
                slab(&fc.standardized_anomaly, 0),
                anomaly_classes(0.5, false),
                "ensemble-mean standardized anomaly",
                "std_anomaly",
                "standardized anomaly",
            ),
        };
        let png = format!("map_{variable}_{name}_lead{l}.png");
        let caption = format!(
            "{} {words}, {} ({target}), issued from {issued}",
            capitalised(self.what),
            lead.label()
        );
        let field = ClassedMap {
            spatial: &self.forecast.coords.spatial,
            values: &values,
            classes: &classes,
            legend,
            countries: Some(ctx.countries),
            title: &caption,
        };
        ctx.maps_everywhere(
            png,
            &caption,
            &mut p.field_maps,
            &mut p.region_field_maps,
            |out, region| match region {
                None => render_classed_map(out, &field).map(|_| true),
                Some((title, bbox)) => {
                    render_region_classed_map(out, &ClassedMap { title, ..field }, bbox)
                }
            },
        )?;
        Ok(())
    }
}

/// What the drought outlook of a precipitation variable is made from.
struct DroughtInput<'a> {
    obs: &'a Cube,
    aligned: &'a Cube,
    hindcasts: &'a [Cube],
    forecasts: &'a [Cube],
    /// The forecasts bias-corrected onto the observed climate (the same as `forecasts`
    /// without a correction or when the combination already uses corrected cubes).
    corrected_forecasts: &'a [Cube],
    leads: &'a [Lead],
    hindcast_mean: &'a Products,
    fc: &'a Products,
    pmme: bool,
}

/// The drought outlook: the forecast SPI of each target period, its NetCDF, maps and
/// regional summaries.
fn drought_part(
    ctx: &RunContext,
    d: &DroughtInput,
    region_cells: &[RegionCells],
) -> anyhow::Result<DroughtPart> {
    let variable = &d.forecasts[0].meta.variable;
    // Where a dry period is at least as likely as Φ(−1), SPI ≤ −1 cannot occur: no outlook.
    let spi_spec = SpiSpec {
        max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
        ..SpiSpec::default()
    };
    let history = if d.pmme {
        None
    } else {
        monthly_history_outlook(d.obs, d.corrected_forecasts, d.leads, ctx.cfg.spi_scale)?
    };
    let (drought, method): (DroughtOutlook, String) = if let Some(h) = history {
        h
    } else if d.pmme {
        // PMME placed on the SPI scale of the observed period totals.
        (
            gaussian_spi_outlook(
                d.aligned.values.index_axis(Axis(1), 0),
                d.hindcast_mean.mean.index_axis(Axis(1), 0),
                d.fc.mean.slice(ndarray::s![0, 0, .., .., ..]),
                &spi_spec,
            )?,
            "SPI at the scale of the target period: the PMME mean transformed with the observed zero-inflated gamma of the period (hindcast years), Gaussian on the SPI scale with the cross-validated hindcast error of the same transform".to_string(),
        )
    } else {
        let h: Vec<_> = d.hindcasts.iter().map(|c| c.values.view()).collect();
        let f: Vec<_> = d
            .forecasts
            .iter()
            .map(|c| c.values.index_axis(Axis(0), 0))
            .collect();
        (
            model_climatology_outlook(&h, &f, &spi_spec)?,
            "SPI at the scale of the target period: each member against its own model's hindcast gamma (members × years), models weighted equally".to_string(),
        )
    };
    let forecast = &d.forecasts[0];
    let path = ctx.out.join(format!("spi_forecast.{variable}.nc"));
    write_drought_file(&path, ctx.g, forecast, &drought)?;
    let mut part = DroughtPart {
        method,
        summaries: Vec::new(),
        maps: Vec::new(),
        region_maps: vec![Vec::new(); ctx.regions.len()],
        file: path,
    };
    for (l, lead) in d.leads.iter().enumerate() {
        let (start, end) = forecast.target_period(0, l)?;
        let target = start.period_label(&end, forecast.meta.calendar);
        let field = |a: &ndarray::Array4<f32>, k: usize| -> Vec<f32> {
            a.slice(ndarray::s![k, l, .., ..]).iter().copied().collect()
        };
        let dry = [
            field(&drought.drought_probability, 0),
            field(&drought.drought_probability, 1),
            field(&drought.drought_probability, 2),
        ];
        let wet = field(&drought.wet_probability, 0);
        let median: Vec<f32> = drought
            .median_spi
            .index_axis(Axis(0), l)
            .iter()
            .copied()
            .collect();
        let tendency: Option<Vec<i8>> = drought
            .tendency
            .as_ref()
            .map(|t| t.index_axis(Axis(0), l).iter().copied().collect());
        let fields = DroughtFields {
            drought: [&dry[0], &dry[1], &dry[2]],
            wet: &wet,
            median: &median,
            tendency: tendency.as_deref(),
        };
        for r in region_cells {
            part.summaries
                .push(summarise_drought(&fields, r, &lead.label(), &target));
        }
        let normal: Vec<f32> = dry[0].iter().zip(&wet).map(|(d, w)| 1.0 - d - w).collect();
        let dominant: Vec<i8> = dry[0]
            .iter()
            .zip(&wet)
            .map(|(&d, &w)| {
                if d.is_nan() {
                    -127
                } else if d >= 0.4 && d >= w {
                    0
                } else if w >= 0.4 {
                    2
                } else {
                    -1
                }
            })
            .collect();
        let png = format!("map_spi_lead{l}.png");
        let caption = format!(
            "drought (SPI ≤ −1) / wet (SPI ≥ 1) outlook, {} ({target})",
            lead.label()
        );
        let map = TercileMap {
            spatial: &forecast.coords.spatial,
            probability: [&dry[0], &normal, &wet],
            dominant: &dominant,
            mask: None,
            hatch: None,
            style: MapStyle::Precipitation,
            countries: Some(ctx.countries),
            title: &caption,
            categories: ["drought (SPI ≤ −1)", "", "wet (SPI ≥ 1)"],
        };
        ctx.tercile_maps(&map, png, &caption, &mut part.maps, &mut part.region_maps)?;
    }
    Ok(part)
}

/// The tropical-cyclone products: the track outlook from daily or 6-hourly fields, the
/// genesis potential outlook from monthly means, or both.
fn cyclone_products(
    ctx: &RunContext,
    c: &s2s_ensemble::config::CyclonesConfig,
) -> anyhow::Result<CycloneProducts> {
    let mut p = CycloneProducts::default();
    let boxes = |keys: &[String]| -> anyhow::Result<Vec<(f64, f64, f64, f64)>> {
        let mut v = Vec::new();
        for k in keys {
            v.extend(
                s2s_ensemble::cyclone::activity::Basin::by_key(k)?
                    .boxes
                    .iter()
                    .copied(),
            );
        }
        Ok(v)
    };
    p.basin_boxes = boxes(&c.basins)?;
    if !c.forecast.is_empty() {
        let forecast: Vec<PathBuf> = c.forecast.iter().map(|f| ctx.path(f)).collect();
        let hindcast: Vec<PathBuf> = c.hindcast.iter().map(|f| ctx.path(f)).collect();
        let observed_tracks = c.observed_tracks.as_ref().map(|f| ctx.path(f));
        let (fields, stitch) = (FieldArgs::default(), StitchArgs::default());
        let plan = Plan {
            fields: &fields,
            stitch: &stitch,
            forecast: &forecast,
            hindcast: &hindcast,
            season: &c.season,
            basins: &c.basins,
            countries: Some(ctx.countries),
            observed: observed_tracks.as_deref().zip(c.observed_years),
            density_deg: c.density_deg,
            out: ctx.out,
        };
        let produced = produce(&plan, ctx.g)?;
        p.markdown.push_str(&format!("\n{}", produced.markdown));
        p.tracks_json = produced.json;
    }
    if !c.gpi_forecast.is_empty() {
        let forecast: Vec<PathBuf> = c.gpi_forecast.iter().map(|f| ctx.path(f)).collect();
        let hindcast: Vec<PathBuf> = c.gpi_hindcast.iter().map(|f| ctx.path(f)).collect();
        let g = super::gpi::genesis_products(
            &super::gpi::GenesisPlan {
                forecast: &forecast,
                hindcast: &hindcast,
                season: &c.season,
                basins: &c.basins,
                countries: ctx.countries,
                out: ctx.out,
            },
            ctx.g,
        )?;
        p.markdown.push_str(&format!("\n{}", g.markdown));
        p.genesis_json = g.json;
    }
    Ok(p)
}

/// Whether a region's box touches one of the boxes `(west, east, south, north)`.
fn touches(bbox: &BBox, boxes: &[(f64, f64, f64, f64)]) -> bool {
    boxes.iter().any(|&(w, e, s, n)| {
        let lat = bbox.south < n && bbox.north > s;
        // the region's longitudes against the box's, both in 0–360
        let (rw, re) = (bbox.west.rem_euclid(360.0), bbox.east.rem_euclid(360.0));
        let lon = if rw <= re {
            rw < e && re > w
        } else {
            re > w || rw < e
        };
        lat && lon
    })
}

/// `![caption](file)` image links pointed one folder up (the whole run's maps, from a
/// region's folder).
fn images_one_up(md: &str) -> String {
    md.lines()
        .map(|l| match l.trim_start().strip_prefix("![") {
            Some(rest) if rest.contains("](") => l.replacen("](", "](../", 1),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Methods of a run: models, observations, bias correction, probabilities, regions.
fn methods(ctx: &RunContext, variables: &[VariableProducts]) -> Methods {
    Methods {
        models: variables[0].models.clone(),
        observations: variables
            .iter()
            .map(|v| v.observations.clone())
            .collect::<Vec<_>>()
            .join("; "),
        bias: bias_words(ctx.cfg),
        probabilities: variables[0].method.clone(),
        regions: ctx
            .regions
            .iter()
            .map(|r| {
                let what = if r.countries.is_empty() {
                    format!(
                        "box {}–{}°E, {}–{}°N",
                        r.bbox.west, r.bbox.east, r.bbox.south, r.bbox.north
                    )
                } else {
                    r.countries
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (r.name.clone(), what)
            })
            .collect(),
    }
}

/// The Markdown of a bulletin: the variables' sections, drought, cyclones, methods.
fn bulletin_markdown(
    title: &str,
    variables: &[VariableProducts],
    cyclones: &str,
    methods: &Methods,
) -> String {
    let sections: Vec<VariableSection> = variables.iter().map(|v| v.section()).collect();
    let mut md = markdown(title, &sections);
    for v in variables {
        if let Some(d) = &v.drought {
            if !d.summaries.is_empty() {
                md.push_str(&drought_markdown(&d.method, &d.summaries, &d.maps));
            }
        }
    }
    md.push_str(cyclones);
    md.push_str(&methods_markdown(methods));
    md
}

/// Adds the fields of the object `extra` to the object `json` (replacing those of the same name).
fn add_fields(json: &mut serde_json::Value, extra: serde_json::Value) {
    if let (Some(j), serde_json::Value::Object(e)) = (json.as_object_mut(), extra) {
        j.extend(e);
    }
}

/// Writes the bulletin of the whole run (`bulletin.md`, `.html`, `.json`) and of each region
/// (`<region>/bulletin.*`).
fn write_bulletins(
    ctx: &RunContext,
    variables: &[VariableProducts],
    cyclones: &CycloneProducts,
) -> anyhow::Result<()> {
    let names: Vec<&str> = variables.iter().map(|v| v.what.as_str()).collect();
    let title = format!("{} — {} outlook", ctx.cfg.title, names.join(" and "));
    let methods = methods(ctx, variables);
    let md = bulletin_markdown(&title, variables, &cyclones.markdown, &methods);
    write_text_atomic(ctx.out.join("bulletin.md"), &md)?;
    // the same bulletin as one self-contained page (maps embedded)
    let html = s2s_ensemble::bulletin::html_page(&title, &md, ctx.out)?;
    write_text_atomic(ctx.out.join("bulletin.html"), &html)?;
    // The headline variable's numbers at the top (as with one variable), every variable's
    // under "variables".
    let head = &variables[0];
    let mut json = head.json();
    let extra = serde_json::json!({
        "title": title,
        "variables": variables.iter().map(|v| v.json()).collect::<Vec<_>>(),
        "methods": methods,
        "cyclones": cyclones.tracks_json,
        "genesis": cyclones.genesis_json,
    });
    add_fields(&mut json, extra);
    write_text_atomic(
        ctx.out.join("bulletin.json"),
        &serde_json::to_string_pretty(&json)?,
    )?;
    // ---- one bulletin per region ----
    for (ri, r) in ctx.regions.iter().enumerate() {
        let dir = &ctx.region_dirs[ri];
        let rtitle = format!("{title} — {}", display_name(&r.name));
        let own: Vec<VariableProducts> =
            variables.iter().map(|v| v.regional(ri, &r.name)).collect();
        let rmethods = Methods {
            regions: methods
                .regions
                .iter()
                .filter(|(name, _)| *name == r.name)
                .cloned()
                .collect(),
            ..methods.clone()
        };
        // the cyclone section where the region touches one of its basins, maps one folder up
        let cyclone_md = if !cyclones.markdown.is_empty() && touches(&r.bbox, &cyclones.basin_boxes)
        {
            images_one_up(&cyclones.markdown)
        } else {
            String::new()
        };
        let rmd = bulletin_markdown(&rtitle, &own, &cyclone_md, &rmethods);
        write_text_atomic(dir.join("bulletin.md"), &rmd)?;
        let html = s2s_ensemble::bulletin::html_page(&rtitle, &rmd, dir)?;
        write_text_atomic(dir.join("bulletin.html"), &html)?;
        let mut rjson = own[0].json();
        let extra = serde_json::json!({
            "title": rtitle,
            "region": r,
            "variables": own.iter().map(|v| v.json()).collect::<Vec<_>>(),
            "methods": rmethods,
            "cyclones": if cyclone_md.is_empty() { serde_json::Value::Null } else { cyclones.tracks_json.clone() },
            "genesis": if cyclone_md.is_empty() { serde_json::Value::Null } else { cyclones.genesis_json.clone() },
        });
        add_fields(&mut rjson, extra);
        write_text_atomic(
            dir.join("bulletin.json"),
            &serde_json::to_string_pretty(&rjson)?,
        )?;
    }
    Ok(())
}

/// Writes the drought outlook as CF-NetCDF: SPI-class probabilities, cumulative drought and
/// wet probabilities, median SPI, most likely class (and the tendency when known).
fn write_drought_file(
    path: &Path,
    g: &Globals,
    forecast: &Cube,
    d: &DroughtOutlook,
) -> anyhow::Result<()> {
    use s2s_ensemble::io::write::{write_spatial, write_time_coords};
    let mut coords = forecast.coords.clone();
    coords.member.clear();
    let mut w = s2s_ensemble::io::CfWriter::create(path, &g.write_options())?;
    w.global_text(
        "title",
        "forecast SPI of the target periods: drought outlook",
    )?;
    let time_dims = write_time_coords(&mut w, &coords, forecast.meta.calendar, forecast.meta.kind)?;
    let spatial_dims = write_spatial(&mut w, &coords.spatial)?;
    let names: Vec<String> = SPI_CLASSES.iter().map(|c| c.name.to_string()).collect();
    w.dimension("spi_class", names.len())?;
    w.string_var(
        "spi_class",
        "spi_class",
        &names,
        &[("long_name", "SPI class (McKee et al. 1993), driest first")],
    )?;
    w.dimension("threshold", 3)?;
    w.f64_var(
        "threshold",
        &["threshold"],
        &[1.0, 1.5, 2.0],
        &[("long_name", "|SPI| threshold: moderate, severe, extreme")],
    )?;
    let (nl, ny, nx) = d.median_spi.dim();
    let lead_dim = time_dims[time_dims.len() - 1];
    let with = |extra: &'static str| -> Vec<&str> {
        ["init", extra, lead_dim]
            .into_iter()
            .chain(spatial_dims.iter().copied())
            .collect()
    };
    let shape5 = |k: usize| vec![1, k, nl, ny, nx];
    let put = |w: &mut s2s_ensemble::io::CfWriter,
               name: &str,
               dims: Vec<&str>,
               a: &ndarray::Array4<f32>,
               long: &str|
     -> anyhow::Result<()> {
        let k = a.dim().0;
        let v = a.view().into_shape_with_order(shape5(k))?;
        w.f32_var(
            name,
            &dims,
            v.into_dyn(),
            &[("long_name", long), ("units", "1")],
            &[],
        )?;
        Ok(())
    };
    put(
        &mut w,
        "spi_class_probability",
        with("spi_class"),
        &d.class_probability,
        "probability of each SPI class",
    )?;
    put(
        &mut w,
        "drought_probability",
        with("threshold"),
        &d.drought_probability,
        "probability that SPI <= -threshold",
    )?;
    put(
        &mut w,
        "wet_probability",
        with("threshold"),
        &d.wet_probability,
        "probability that SPI >= threshold",
    )?;
    let dims3: Vec<&str> = ["init", lead_dim]
        .into_iter()
        .chain(spatial_dims.iter().copied())
        .collect();
    let med = d.median_spi.view().into_shape_with_order((1, nl, ny, nx))?;
    w.f32_var(
        "median_spi",
        &dims3,
        med.into_dyn(),
        &[
            ("long_name", "ensemble median SPI of the target period"),
            ("units", "1"),
        ],
        &[],
    )?;
    let ml = d
        .most_likely_class
        .view()
        .into_shape_with_order((1, nl, ny, nx))?;
    let meanings = names.join(" ");
    w.def_i8(
        "most_likely_spi_class",
        &dims3,
        &[1, nl, ny, nx],
        -1,
        &[
            ("long_name", "most likely SPI class (index into spi_class)"),
            ("flag_meanings", &meanings),
        ],
    )?;
    w.var_attr(
        "most_likely_spi_class",
        "flag_values",
        (0..SPI_CLASSES.len() as i8).collect::<Vec<i8>>(),
    )?;
    w.put_i8(
        "most_likely_spi_class",
        &[0, 0, 0, 0],
        &[1, nl, ny, nx],
        ml.as_standard_layout().as_slice().unwrap_or(&[]),
    )?;
    if let Some(t) = &d.tendency {
        let tm: Vec<&str> = DroughtTendency::ALL.iter().map(|k| k.name()).collect();
        w.def_i8(
            "drought_tendency",
            &dims3,
            &[1, nl, ny, nx],
            TENDENCY_FILL,
            &[
                (
                    "long_name",
                    "what the forecast means for the drought at the start",
                ),
                ("flag_meanings", &tm.join(" ")),
            ],
        )?;
        w.var_attr(
            "drought_tendency",
            "flag_values",
            DroughtTendency::ALL
                .iter()
                .map(|k| *k as i8)
                .collect::<Vec<i8>>(),
        )?;
        w.put_i8(
            "drought_tendency",
            &[0, 0, 0, 0],
            &[1, nl, ny, nx],
            t.as_standard_layout().as_slice().unwrap_or(&[]),
        )?;
    }
    w.finish()?;
    Ok(())
}

/// The bias correction in words, for the methods section.
fn bias_words(cfg: &OutlookConfig) -> String {
    let method = match cfg.bias {
        BiasMethod::None => return "none (the inputs are used as they are; the tercile edges come from each model's own hindcast climatology or, for PMME, anomalies against it)".to_string(),
        BiasMethod::Scaling => "mean scaling of each model against the observations (multiplicative for precipitation, additive otherwise), per cell, lead and start month",
        BiasMethod::Eqm => "empirical quantile mapping of each model onto the observations (every training value a quantile), per cell, lead and start month",
    };
    if cfg.edges_from_obs {
        format!("{method}; hindcasts leave-one-year-out, forecasts trained on every hindcast year")
    } else {
        format!("{method}, trained on every hindcast year and applied to the forecasts for the SPI (which needs the observed climate); the tercile probabilities, anomalies and percent of normal use each model's own hindcast climate, which the correction leaves unchanged, so the models are combined as they are and their cross-validated skill carries no degeneracy of a leave-one-year-out correction (Barnston and van den Dool 1993)")
    }
}

/// The drought outlook from each member's SPI over the observed months before the start and
/// its forecast months ([`forecast_spi`]), models weighted equally, with the tendency against
/// the observed SPI of the last month before the start. `None` (the target-period SPI is used
/// instead) unless the leads are consecutive single months and the observations a monthly
/// record that reaches the month before the start far enough for the scale.
fn monthly_history_outlook(
    obs: &Cube,
    forecasts: &[Cube],
    leads: &[s2s_ensemble::cube::Lead],
    scale: usize,
) -> anyhow::Result<Option<(DroughtOutlook, String)>> {
    use s2s_ensemble::cube::LeadUnit;
    let single_months = leads.iter().enumerate().all(|(i, l)| {
        l.unit == LeadUnit::Month
            && l.width == 1.0
            && l.start.fract() == 0.0
            && l.start == leads[0].start + i as f64
    });
    if leads.is_empty() || !single_months {
        return Ok(None);
    }
    let Ok(record) = MonthlyRecord::from_observed(obs.clone()) else {
        return Ok(None);
    };
    let cal = forecasts[0].meta.calendar;
    let init = forecasts[0].coords.init[0];
    // Observed months strictly before the start month, and enough of them for the scale.
    let before = record.axis.index_of(init.year, init.month);
    if before < scale as i64 || before > record.axis.len as i64 {
        return Ok(None);
    }
    let end = before as usize;
    let history = record.values.slice(ndarray::s![..end, .., ..]);
    let axis = MonthlyAxis::new(record.axis.first_year, record.axis.first_month, end)?;
    if history
        .index_axis(Axis(0), end - 1)
        .iter()
        .all(|v| v.is_nan())
    {
        return Ok(None);
    }
    let first = init.add_months(leads[0].start as i64, cal);
    let views: Vec<_> = forecasts
        .iter()
        .map(|f| f.values.index_axis(Axis(0), 0))
        .collect();
    let members = ndarray::concatenate(Axis(0), &views).context("pooling the forecast members")?;
    let k = forecasts.len() as f64;
    let weights: Vec<f64> = forecasts
        .iter()
        .flat_map(|f| {
            let m = f.n_member();
            vec![1.0 / (m as f64 * k); m]
        })
        .collect();
    let spec = SpiSpec {
        scale_months: scale,
        max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
        ..SpiSpec::default()
    };
    let spi = forecast_spi(
        &ForecastSpiInput {
            history,
            history_axis: axis,
            members: members.view(),
            first_target: (first.year, first.month),
        },
        &spec,
    )
    .context("forecast SPI from the observed monthly record")?;
    let now = latest_observed_spi(history, &axis, &spec)?;
    let outlook = drought_outlook(spi.view(), &weights, Some(now.view()))?;
    let (ly, lm) = (axis.year(end - 1), axis.calendar_month(end - 1) + 1);
    let words = format!(
        "SPI-{scale} of each member: its forecast months appended to the observed months before the start (the record ends {ly}-{lm:02}), each calendar month standardised with the zero-inflated gamma fitted on the observed record (calibration {}–{} or as much of it as the record has); models weighted equally; the drought tendency compares each cell with its observed SPI-{scale} of {ly}-{lm:02}",
        spec.calibration.0, spec.calibration.1
    );
    Ok(Some((outlook, words)))
}
