//! The outlook job (`s2s outlook`): from the models' raw hindcast and forecast files to
//! regional bulletins — for every configured variable ingest (target periods, common years,
//! `[grid]`), bias correction, multi-model combination, verification of the MME, maps and the
//! CF-NetCDF forecast; the drought outlook for precipitation; the tropical-cyclone outlook from
//! daily fields (tracks) or monthly means (genesis potential); then the Markdown, HTML and JSON
//! bulletin of the whole domain and of each region.
//!
//! Each variable is streamed lead by lead (target period by target period): the forecasts (one
//! start) and the observations are read whole, the hindcasts one lead of every model at a time,
//! which is corrected, combined, verified, written and mapped before the next lead is read, so
//! a run's memory is bounded by one lead of the hindcasts (as in [`super::combine`]).
//!
//! Under `mpirun -n N` ([`outlook_on`], module `spread`) every variable is computed in
//! latitude bands, one per process, and rank 0 makes the files, maps and bulletins from the
//! gathered fields, byte-identical to one process's.
//!
//! The plan is the checked TOML configuration ([`OutlookConfig`], `docs/config.md`) with the
//! folder its relative paths start from and the output folder; [`outlook`] runs it and returns
//! the files it wrote. Policy defaults (wet-day threshold, cross-validation, drought
//! dominance, member weights) come from [`super::policy`].

mod bulletins;
pub mod demo;
mod drought;
mod spread;

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Axis;
use serde::Serialize;

use super::cyclones::{
    activity_products, genesis_products, ActivityPlan, GenesisPlan, TrackSettings,
};
use super::{align_or_fail, common_years, peak_rss_mib, policy, RunOptions};
use crate::bias::{
    correct, BiasCorrector, BiasParams, CrossValidation, MeanScaling, QuantileMapping,
};
use crate::bulletin::{
    anomaly_classes, capitalised, cell_countries, extreme_classes, percent_of_normal_classes,
    render_classed_map, render_region_classed_map, render_region_map, render_tercile_map,
    summarise, summarise_countries, ClassedMap, CountryOutlook, DroughtSummary, ExtremeTail,
    LeadMaps, MapStyle, RegionCells, RegionOutlook, TercileMap, VariableSection,
};
use crate::config::{resolve_path, BiasMethod, OutlookConfig};
use crate::cube::{align_observations, BBox, Lead, TargetPeriod};
use crate::distributed::Ranks;
use crate::ensemble::{
    collapsed_categories, combine, CombineInput, CombineSpec, EdgeSource, Products, WeightScheme,
};
use crate::error::{Context, Error, Result};
use crate::grid::{regrid_cube, Countries, LonLatGrid, WeightCache};
use crate::io::products::{Layout, MmeFile};
use crate::io::{
    read_leads, read_observed_series, read_var, resolve_var, write_text_atomic, DimMapping,
    ReadOptions,
};
use crate::progress::Progress;
use crate::units::Quantity;
use crate::verify::{
    map_weights, regional_diagnostics, reliability_slope, skill_maps, Region, ScoredForecast,
    SkillMaps,
};
use crate::Cube;
use bulletins::write_bulletins;
use drought::{drought_part, DroughtBuilder};
pub use spread::outlook_on;

/// A checked outlook run: the configuration, the folder its relative paths start from, where
/// the outputs go and how they are written.
#[derive(Debug, Clone)]
pub struct OutlookPlan {
    /// The run configuration (checked when loaded).
    pub config: OutlookConfig,
    /// The folder relative paths of the configuration start from (the configuration's own).
    pub base: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// `history` and compression of the NetCDF outputs.
    pub options: RunOptions,
}

impl OutlookPlan {
    /// The plan of a configuration file: paths relative to its folder, outputs into `out` or
    /// else the configuration's `output` (relative to its folder).
    pub fn from_file(config: &Path, out: Option<PathBuf>, options: RunOptions) -> Result<Self> {
        let cfg = OutlookConfig::load(config)?;
        let mut global = options.global.clone();
        for (key, value) in [
            ("institution", &cfg.institution),
            ("references", &cfg.references),
            ("comment", &cfg.comment),
        ] {
            // The command line's --institution wins over the configuration's.
            if let (Some(v), false) = (value, global.iter().any(|(k, _)| k == key)) {
                global.push((key.to_string(), v.clone()));
            }
        }
        let options = RunOptions {
            layout: options.layout.or(cfg.layout),
            global,
            ..options
        };
        let base = config.parent().unwrap_or(Path::new(".")).to_path_buf();
        let out = out.unwrap_or_else(|| base.join(&cfg.output));
        Ok(OutlookPlan {
            config: cfg,
            base,
            out,
            options,
        })
    }
}

/// One stage's time and the peak memory so far, for the run log.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    /// `ingest pr`, `bias pr`, `combine pr`, … `cyclones`, `bulletin`.
    pub stage: String,
    /// Wall time of the stage.
    pub seconds: f64,
    /// Peak resident memory of the process during the stage (Linux: sampled every
    /// [`super::RSS_SAMPLE_INTERVAL`], see [`super::RssWatch`]); `provenance.json` has the
    /// process's own peak beside the stages.
    pub peak_rss_mib: Option<f64>,
}

/// The files one variable's section produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VariableFiles {
    /// The variable as configured.
    pub variable: String,
    /// `mme_forecast.<var>.nc`.
    pub netcdf: PathBuf,
    /// The maps of the whole run (tercile and deterministic), in order.
    pub maps: Vec<PathBuf>,
}

/// What [`outlook`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutlookReport {
    /// `bulletin.md`, `bulletin.html`, `bulletin.json` of the whole run.
    pub bulletin: [PathBuf; 3],
    /// Each variable's NetCDF and maps.
    pub variables: Vec<VariableFiles>,
    /// `<region>/bulletin.html` of each region.
    pub region_bulletins: Vec<PathBuf>,
    /// The run log (also in `provenance.json`).
    pub stages: Vec<Stage>,
}

/// The run log: each stage's time and peak memory.
struct RunLog<'a> {
    stages: Vec<Stage>,
    t: Instant,
    progress: &'a dyn Progress,
    rss: super::RssWatch,
}

impl<'a> RunLog<'a> {
    fn new(progress: &'a dyn Progress) -> Self {
        RunLog {
            stages: Vec::new(),
            t: Instant::now(),
            progress,
            rss: super::RssWatch::start(),
        }
    }

    /// Adds the time since the last stage to stage `name` (a stream of leads passes through
    /// the same stages once per lead), without announcing it.
    fn add(&mut self, name: &str) {
        let seconds = self.t.elapsed().as_secs_f64();
        let peak = self.rss.stage_peak();
        match self.stages.iter_mut().find(|s| s.stage == name) {
            Some(s) => {
                s.seconds += seconds;
                s.peak_rss_mib = match (s.peak_rss_mib, peak) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
            None => self.stages.push(Stage {
                stage: name.to_string(),
                seconds,
                peak_rss_mib: peak,
            }),
        }
        self.t = Instant::now();
    }

    /// Announces the stages from index `from` on.
    fn announce(&self, from: usize) {
        for s in &self.stages[from..] {
            self.progress.stage_done(&s.stage, s.seconds);
        }
    }

    /// Closes the current stage as `name`.
    fn stage(&mut self, name: &str) {
        let seconds = self.t.elapsed().as_secs_f64();
        let peak = self.rss.stage_peak();
        self.stages.push(Stage {
            stage: name.to_string(),
            seconds,
            peak_rss_mib: peak,
        });
        self.progress.stage_done(name, seconds);
        self.t = Instant::now();
    }
}

/// Runs the outlook of `plan`: every variable, the cyclone products, the bulletins and
/// `provenance.json` (configuration, SHA-256 of every input, the run log) in `plan.out`.
pub fn outlook(plan: &OutlookPlan, progress: &dyn Progress) -> Result<OutlookReport> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&plan.out, || outlook_staged(plan, progress, None))
}

/// What a run draws and words its products with: the countries (with the provinces drawn
/// inside), the provinces, the regions, their folders and the bulletin's language. Made
/// alike by every process of a distributed run; nothing is written.
struct Setting {
    countries: Countries,
    provinces: Option<Countries>,
    regions: Vec<Region>,
    region_dirs: Vec<PathBuf>,
    cat: crate::bulletin::Catalogue,
}

impl Setting {
    fn of(plan: &OutlookPlan) -> Result<Setting> {
        let cfg = &plan.config;
        let (base, out) = (plan.base.as_path(), plan.out.as_path());
        // The configuration's units fill the process's table under the command line's.
        crate::io::add_assumed_units_defaults(&crate::units::AssumedUnits {
            by_variable: cfg.units.clone(),
            any: None,
        });
        // the configured outlines, else the bundled Natural Earth countries
        let countries = super::load_countries(
            cfg.countries
                .as_ref()
                .map(|p| resolve_path(base, p))
                .as_deref(),
        )?;
        let regions = cfg.regions(&countries)?;
        // admin-1 outlines for the province table, when configured
        let provinces = cfg
            .provinces
            .as_ref()
            .map(|p| super::load_countries(Some(&resolve_path(base, p))))
            .transpose()?;
        // the maps draw the provinces inside the countries
        let countries = match &provinces {
            Some(p) => countries.with_province_outlines(p),
            None => countries,
        };
        // One bulletin per region too, in out/<region>/: its maps, its countries.
        // region names become folder names only as slugs: no separators, no `..`, no
        // absolute path
        let region_dirs: Vec<PathBuf> = regions
            .iter()
            .map(|r| out.join(crate::io::clobber::file_slug(&r.name)))
            .collect();
        // the bulletin's language, for the captions and legends made with the maps
        let cat = crate::bulletin::Catalogue::new(
            cfg.issuer
                .language
                .as_deref()
                .unwrap_or(crate::bulletin::catalogue::DEFAULT_LANGUAGE),
        )?;
        Ok(Setting {
            countries,
            provinces,
            regions,
            region_dirs,
            cat,
        })
    }

    /// The context of `plan`'s products in this setting (`ranks`: the processes of a
    /// distributed run, `None` for one process).
    fn context<'a>(
        &'a self,
        plan: &'a OutlookPlan,
        ranks: Option<&'a dyn Ranks>,
    ) -> RunContext<'a> {
        RunContext {
            cfg: &plan.config,
            cat: &self.cat,
            base: &plan.base,
            out: &plan.out,
            options: &plan.options,
            countries: &self.countries,
            provinces: self.provinces.as_ref(),
            regions: &self.regions,
            region_dirs: &self.region_dirs,
            ranks,
        }
    }
}

/// The outlook by one process (`ranks`: `None`) or by rank 0 of a distributed run, whose
/// other ranks take their part of each variable ([`spread::outlook_on`]).
fn outlook_staged(
    plan: &OutlookPlan,
    progress: &dyn Progress,
    ranks: Option<&dyn Ranks>,
) -> Result<OutlookReport> {
    let started = Instant::now();
    let cfg = &plan.config;
    let out = plan.out.as_path();
    let setting = Setting::of(plan)?;
    super::create_dir(out)?;
    let mut log = RunLog::new(progress);
    for d in &setting.region_dirs {
        super::create_dir(d)?;
    }
    let ctx = setting.context(plan, ranks);
    let region_dirs = &setting.region_dirs;
    let mut variables = Vec::new();
    for v in cfg.variables() {
        let products = variable_products(&ctx, &v, &mut log, progress)
            .with_context(|| format!("the outlook of '{v}'"))?;
        variables.extend(products);
    }
    let cyclones = match &cfg.cyclones {
        Some(c) => {
            let p = cyclone_products(&ctx, c, progress).context("the [cyclones] outlook")?;
            log.stage("cyclones");
            p
        }
        None => CycloneProducts::default(),
    };
    let mut extremes_md = String::new();
    let mut extremes_variables = std::collections::BTreeSet::new();
    for (k, e) in cfg.extremes.iter().enumerate() {
        extremes_md.push_str(
            &extremes_section(&ctx, e, &mut extremes_variables)
                .with_context(|| format!("the [extremes] outlook number {}", k + 1))?,
        );
        log.stage("extremes");
    }
    if let Some(d) = &cfg.drivers {
        extremes_md.push_str(&drivers_section(&ctx, d).context("the [drivers] outlook")?);
        log.stage("drivers");
    }
    if let Some(c) = &cfg.seaice {
        extremes_md.push_str(&seaice_section(&ctx, c).context("the [seaice] outlook")?);
        log.stage("seaice");
    }
    write_bulletins(&ctx, &variables, &cyclones, &extremes_md)?;
    log.stage("bulletin");

    let mut inputs = Vec::new();
    let mut files = Vec::new();
    for f in cfg.input_files() {
        let p = ctx.path(&f);
        // a pattern stands for the files it matches
        if crate::io::fileset::is_pattern(&p) {
            files.extend(crate::io::fileset::expand(&p)?);
        } else {
            files.push(p);
        }
    }
    for p in files {
        let (sha256, bytes) = crate::io::sha256_file(&p)?;
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
        "peak_rss_mib": peak_rss_mib(),
    });
    write_text_atomic(
        out.join("provenance.json"),
        &serde_json::to_string_pretty(&provenance)?,
    )?;
    Ok(OutlookReport {
        bulletin: ["md", "html", "json"].map(|e| out.join(format!("bulletin.{e}"))),
        variables: variables
            .iter()
            .map(|v| VariableFiles {
                variable: v.variable.clone(),
                netcdf: v.netcdf.clone(),
                maps: v
                    .maps
                    .iter()
                    .chain(&v.field_maps)
                    .chain(&v.extreme_maps)
                    .map(|(_, m)| out.join(m))
                    .collect(),
            })
            .collect(),
        region_bulletins: region_dirs
            .iter()
            .map(|d| d.join("bulletin.html"))
            .collect(),
        stages: log.stages,
    })
}

/// What every product of a run shares: the configuration, where inputs and outputs are, the
/// countries and the regions.
pub(super) struct RunContext<'a> {
    cfg: &'a OutlookConfig,
    /// The bulletin's message catalogue (`[issuer] language`).
    cat: &'a crate::bulletin::Catalogue,
    base: &'a Path,
    out: &'a Path,
    options: &'a RunOptions,
    countries: &'a Countries,
    /// Admin-1 outlines for the province table (`provinces`).
    provinces: Option<&'a Countries>,
    regions: &'a [Region],
    region_dirs: &'a [PathBuf],
    /// The processes of a distributed run (`None`: one process).
    ranks: Option<&'a dyn Ranks>,
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
        draw: impl Fn(&Path, Option<(&str, &BBox)>) -> Result<bool>,
    ) -> Result<()> {
        draw(&self.out.join(&png), None)?;
        for (ri, r) in self.regions.iter().enumerate() {
            let title = format!("{} — {caption}", self.cat.region(&r.name));
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
    ) -> Result<()> {
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

    /// [`Self::maps_everywhere`] for a map of colour classes.
    fn classed_maps(
        &self,
        map: &ClassedMap,
        png: String,
        caption: &str,
        maps: &mut Maps,
        region_maps: &mut [Maps],
    ) -> Result<()> {
        self.maps_everywhere(
            png,
            caption,
            maps,
            region_maps,
            |out, region| match region {
                None => render_classed_map(out, map).map(|_| true),
                Some((title, bbox)) => {
                    render_region_classed_map(out, &ClassedMap { title, ..*map }, bbox)
                }
            },
        )
    }

    /// A configured path, relative to the configuration's folder unless absolute.
    fn path(&self, p: &Path) -> PathBuf {
        resolve_path(self.base, p)
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
    /// The province table's rows (every lead), when `provinces` is configured.
    provinces: Vec<CountryOutlook>,
    maps: Maps,
    field_maps: Maps,
    field_note: String,
    extreme_maps: Maps,
    region_maps: Vec<Maps>,
    region_field_maps: Vec<Maps>,
    region_extreme_maps: Vec<Maps>,
    /// Per region: its POE curve and plume of every lead `(caption, file in its folder)`.
    region_graphs: Vec<Maps>,
    /// The regional means behind them (every region and lead).
    series: Vec<crate::bulletin::regional::RegionalSeries>,
    region_countries: Vec<Vec<CountryOutlook>>,
    region_provinces: Vec<Vec<CountryOutlook>>,
    drought: Option<DroughtPart>,
    /// Per lead: its label and the reliability-diagram slope of each category of the
    /// cross-validated MME hindcast over the whole map.
    reliability: Vec<(String, Vec<f64>)>,
    netcdf: PathBuf,
    models: Vec<(String, usize, (i32, i32))>,
    observations: String,
    issued_from: String,
    years: (i32, i32),
    /// Whether the maps hide cells without skill (`mask_unskilful`).
    masked: bool,
}

impl VariableProducts {
    fn section(&self) -> VariableSection<'_> {
        VariableSection {
            what: &self.what,
            method: &self.method,
            outlooks: &self.outlooks,
            maps: &self.maps,
            field_maps: &self.field_maps,
            extreme_maps: &self.extreme_maps,
            graphs: self.graphs(),
            field_note: &self.field_note,
            countries: &self.countries,
            provinces: &self.provinces,
            masked: self.masked,
        }
    }

    /// The POE curves and plumes the section shows: a region's own (its bulletin), none in
    /// the whole run's bulletin (they are per region; the JSON has every series).
    fn graphs(&self) -> &[(String, String)] {
        match self.region_graphs.as_slice() {
            [own] => own,
            _ => &[],
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
            provinces: self.region_provinces[ri].clone(),
            maps: self.region_maps[ri].clone(),
            field_maps: self.region_field_maps[ri].clone(),
            extreme_maps: self.region_extreme_maps[ri].clone(),
            field_note: self.field_note.clone(),
            region_maps: Vec::new(),
            region_field_maps: Vec::new(),
            region_extreme_maps: Vec::new(),
            region_graphs: vec![self.region_graphs[ri].clone()],
            series: self
                .series
                .iter()
                .filter(|s| s.region == region)
                .cloned()
                .collect(),
            region_countries: Vec::new(),
            region_provinces: Vec::new(),
            reliability: self.reliability.clone(),
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
            masked: self.masked,
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
            "provinces": self.provinces.iter().map(province_json).collect::<Vec<_>>(),
            "drought": self.drought.as_ref().map(|d| &d.summaries),
            "regional_series": self.series,
            "maps": self
                .maps
                .iter()
                .chain(&self.field_maps)
                .chain(&self.extreme_maps)
                .chain(self.drought.iter().flat_map(|d| &d.maps))
                .map(|m| &m.1)
                .collect::<Vec<_>>(),
            "netcdf": file(&self.netcdf),
            "spi_netcdf": self.drought.as_ref().and_then(|d| file(&d.file)),
        })
    }
}

/// A province row of the JSON under its own names: `province` and its ISO 3166-2 code
/// `iso_3166_2` (the rows share [`CountryOutlook`] with the countries, whose fields are
/// `country` and `iso_a3`).
fn province_json(p: &CountryOutlook) -> serde_json::Value {
    serde_json::json!({
        "province": p.country,
        "iso_3166_2": p.iso_a3,
        "lead": p.lead,
        "target": p.target,
        "cells": p.cells,
        "area_share": p.area_share,
        "mean_probability": p.mean_probability,
    })
}

/// Folder of the extremes products inside the run's output folder.
const EXTREMES_DIR: &str = "extremes";

/// One `[extremes]` table: its products in `out/extremes/<variable>/` (one folder per variable,
/// so that a temperature's and a rainfall's tables, each with its own tercile maps and report,
/// do not write over each other; `done` holds the variables of the tables before it) and its
/// bulletin section (image links relative to the run's folder).
fn extremes_section(
    ctx: &RunContext,
    e: &crate::config::ExtremesConfig,
    done: &mut std::collections::BTreeSet<String>,
) -> Result<String> {
    use crate::pipeline::extremes::{
        extremes_products, outlook_markdown, write_extremes_run, ExtremesOutlookPlan,
    };
    let paths = |v: &[PathBuf]| v.iter().map(|p| ctx.path(p)).collect::<Vec<_>>();
    let periods = e
        .periods
        .iter()
        .map(|p| TargetPeriod::parse(p))
        .collect::<Result<Vec<_>>>()?;
    let plan = ExtremesOutlookPlan {
        hindcast: paths(&e.hindcast),
        forecast: paths(&e.forecast),
        observed: (!e.observations.is_empty()).then(|| paths(&e.observations)),
        variable: e.variable.clone(),
        periods,
        start: None,
        half_window_days: e.window_days,
        spell_min_days: e.min_days,
        return_period: e.return_period,
        out: ctx.out.join(EXTREMES_DIR),
        run: ctx.options.clone(),
    };
    let mut run = extremes_products(&plan)?;
    let variable = run.report.variable.clone();
    if !done.insert(variable.clone()) {
        return Err(Error::invalid(
            "[[extremes]]",
            format!(
                "a second table of '{variable}': give one table per variable (the products of \
                 each go to {EXTREMES_DIR}/<variable>/)"
            ),
        ));
    }
    let folder = format!(
        "{EXTREMES_DIR}/{}",
        crate::io::clobber::file_slug(&variable)
    );
    let out = ctx.out.join(&folder);
    super::create_dir(&out)?;
    write_extremes_run(
        &mut run,
        &out,
        &ctx.options.write_options(),
        Some(ctx.countries),
        ctx.cat,
    )?;
    Ok(images_in(
        &outlook_markdown(&run.report, "##", ctx.cat),
        &folder,
    ))
}

/// Markdown whose `![caption](file)` image links point into the folder `dir`.
fn images_in(md: &str, dir: &str) -> String {
    md.lines()
        .map(|l| match l.strip_prefix("![") {
            Some(rest) if rest.contains("](") => {
                format!("![{}", rest.replacen("](", &format!("]({dir}/"), 1))
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n\n"
}

/// Each model's `(name, [hindcast], [forecast])` of a section with one hindcast and one
/// forecast input per model (paths resolved against the configuration) and optional names
/// (default: the hindcast file names); an error naming `table` when the lists do not pair up.
fn model_inputs(
    ctx: &RunContext,
    table: &str,
    what: &str,
    (hindcast, forecast): (&[PathBuf], &[PathBuf]),
    names: &[String],
) -> Result<crate::pipeline::ModelInputs> {
    if hindcast.len() != forecast.len() || hindcast.is_empty() {
        return Err(Error::invalid(
            table,
            format!(
                "{} hindcast and {} forecast {what}: give one of each per model, in the same order",
                hindcast.len(),
                forecast.len()
            ),
        ));
    }
    if !names.is_empty() && names.len() != hindcast.len() {
        return Err(Error::invalid(
            table,
            format!("{} model names for {} models", names.len(), hindcast.len()),
        ));
    }
    Ok(hindcast
        .iter()
        .zip(forecast)
        .enumerate()
        .map(|(k, (h, f))| {
            let name = names.get(k).cloned().unwrap_or_else(|| {
                h.file_stem()
                    .map_or("model".into(), |s| s.to_string_lossy().into_owned())
            });
            (name, vec![ctx.path(h)], vec![ctx.path(f)])
        })
        .collect())
}

/// Folder of the sea-ice outlook inside the run's output folder.
const SEAICE_DIR: &str = "seaice";

/// `[seaice]`: the extent outlook in `out/seaice/` and its bulletin section.
fn seaice_section(ctx: &RunContext, c: &crate::config::SeaIceConfig) -> Result<String> {
    use crate::config::SeaIceAdjust;
    use crate::pipeline::seaice::{
        outlook_markdown, seaice_products, sip_map_markdown, write_seaice, SeaIceOutlookPlan,
    };
    use crate::seaice::Adjustment;
    let models = model_inputs(
        ctx,
        "[seaice]",
        "inputs",
        (&c.hindcast, &c.forecast),
        &c.models,
    )?;
    if !matches!(c.hemisphere.as_str(), "north" | "south") {
        return Err(Error::invalid(
            "[seaice] hemisphere",
            format!("'{}': north or south", c.hemisphere),
        ));
    }
    let plan = SeaIceOutlookPlan {
        models,
        observed: ctx.path(&c.observations),
        target: c.target()?,
        hemisphere: c.hemisphere.clone(),
        adjustment: match c.adjust {
            SeaIceAdjust::MeanTrend => Adjustment::MeanAndTrend,
            SeaIceAdjust::Mean => Adjustment::Mean,
            SeaIceAdjust::None => Adjustment::None,
        },
        cell_area: c.cell_area.as_ref().map(|p| ctx.path(p)),
        out: ctx.out.join(SEAICE_DIR),
    };
    let (outlook, sip) = seaice_products(&plan)?;
    super::create_dir(&plan.out)?;
    write_seaice(
        &plan,
        &outlook,
        sip.as_ref(),
        &plan.out,
        &ctx.options.write_options(),
        ctx.cat,
    )?;
    // one heading level down inside the bulletin
    let md = outlook_markdown(&outlook, plan.target.1, &plan.hemisphere, ctx.cat);
    let map = match sip {
        Some(_) => sip_map_markdown(plan.target, &format!("{SEAICE_DIR}/"), ctx.cat),
        None => String::new(),
    };
    Ok(format!("#{md}\n\n{map}"))
}

/// Folder of the driver plumes inside the run's output folder.
const DRIVERS_DIR: &str = "drivers";

/// `[drivers]`: the plumes in `out/drivers/` and their bulletin section.
fn drivers_section(ctx: &RunContext, d: &crate::config::DriversConfig) -> Result<String> {
    use crate::pipeline::drivers::{driver_plumes, drivers_markdown, write_drivers, DriversPlan};
    let models = model_inputs(
        ctx,
        "[drivers]",
        "files",
        (&d.hindcast, &d.forecast),
        &d.models,
    )?;
    let plan = DriversPlan {
        models,
        observed: d.observations.as_ref().map(|p| ctx.path(p)),
        variable: d.variable.clone(),
        out: ctx.out.join(DRIVERS_DIR),
        run: ctx.options.clone(),
    };
    let mut report = driver_plumes(&plan)?;
    super::create_dir(&plan.out)?;
    write_drivers(&mut report, &plan.out, ctx.cat)?;
    Ok(images_in(
        &drivers_markdown(&report, "##", ctx.cat),
        DRIVERS_DIR,
    ))
}

/// The cyclone part of the bulletins: from tracks, from the genesis potential, or both.
#[derive(Default)]
struct CycloneProducts {
    markdown: String,
    tracks_json: serde_json::Value,
    genesis_json: serde_json::Value,
    /// The basins the section covers (their boxes), to include it in the regions they touch.
    basin_boxes: Vec<(f64, f64, f64, f64)>,
    /// The genesis potential of every basin and the season's label.
    genesis: Option<(Vec<crate::cyclone::genesis_outlook::BasinGenesis>, String)>,
}

/// What one variable is made from, read before its leads are streamed: the forecasts (one
/// start each, so small) and the observations, whole and on the run's grid; for the hindcasts
/// only which of their file leads make up each lead of the outlook.
struct Inputs {
    /// Every model's forecast, cut to the target periods and on the run's grid.
    forecasts: Vec<Cube>,
    obs: Cube,
    obs_path: PathBuf,
    /// The configured target periods (none: the files' own leads).
    periods: Vec<TargetPeriod>,
    /// `[lead][model]`: the hindcast file's lead indices that make up each lead of the outlook.
    hindcast_leads: Vec<Vec<Vec<usize>>>,
    /// Regridding onto `[grid]` (weights computed once per source grid); `None` without it.
    regrid: Option<WeightCache>,
}

/// Reads every model's forecast of `variable` and the observations, cuts the forecasts to the
/// target periods and puts both on the run's grid; of the hindcasts, reads the lead
/// coordinates alone and finds the file leads of each target period.
fn ingest(ctx: &RunContext, variable: &str, bars: &dyn Progress) -> Result<Inputs> {
    let cfg = ctx.cfg;
    bars.start(&format!("ingest {variable}"), cfg.models.len() as u64);
    // Target periods (weeks 1, 2, 3–4 from daily leads; month 1, months 2–4 from monthly).
    let periods = cfg.target_periods()?;
    let mut forecasts = Vec::new();
    let mut file_leads = Vec::new();
    for m in &cfg.models {
        bars.advance(1);
        let var = m.file_variable(variable);
        let hindcast = ctx.path(&m.hindcast);
        let name = resolve_var(&hindcast, var)?;
        let leads = read_leads(&hindcast, Some(&name), &DimMapping::default())
            .with_context(|| format!("reading the leads of {}", hindcast.display()))?;
        file_leads.push(leads);
        let opts = ReadOptions {
            model: Some(m.name.clone()),
            ..Default::default()
        };
        let mut forecast = read_var(&ctx.path(&m.forecast), Some(var), opts)?;
        if !periods.is_empty() {
            forecast = forecast
                .target_periods(&periods)
                .with_context(|| format!("periods of model {}", m.name))?;
        }
        forecasts.push(forecast);
    }
    let hindcast_leads = lead_plan(cfg, &periods, &file_leads)?;
    for (f, m) in forecasts.iter().zip(&cfg.models) {
        if f.n_lead() != hindcast_leads.len() {
            return Err(Error::mismatch(
                "forecast and hindcast",
                format!(
                    "{}: the forecast has {} leads, its hindcast {}; give both the same leads",
                    m.name,
                    f.n_lead(),
                    hindcast_leads.len()
                ),
            ));
        }
    }
    let obs_cfg = cfg
        .observations
        .for_variable(variable)
        .expect("checked when the configuration was read");
    let obs_path = ctx.path(&obs_cfg.path);
    let mut obs = read_observed_series(
        &obs_path,
        Some(obs_cfg.variable.as_deref().unwrap_or(variable)),
        cfg.years,
        obs_cfg.units.clone(),
        obs_cfg
            .season
            .as_deref()
            .map(crate::calendar::Season::parse)
            .transpose()
            .map_err(|e| Error::invalid("observations.season", e))?,
    )?;
    bars.finish();
    let regrid = match &cfg.grid {
        Some(grid) => {
            let target = match grid.target()? {
                Some(t) => t,
                None => LonLatGrid::from_spatial(&obs.coords.spatial).with_context(|| {
                    format!("{}: the observations' grid as [grid]", obs_path.display())
                })?,
            };
            let mut cache = WeightCache::new(grid.method, target);
            for c in forecasts.iter_mut().chain(std::iter::once(&mut obs)) {
                to_run_grid(&mut cache, c)?;
            }
            Some(cache)
        }
        None => {
            for f in forecasts.iter_mut() {
                on_obs_grid(f, &obs, &obs_path)?;
            }
            None
        }
    };
    Ok(Inputs {
        forecasts,
        obs,
        obs_path,
        periods,
        hindcast_leads,
        regrid,
    })
}

/// `[lead][model]`: the file leads of each model's hindcast that make up each lead of the
/// outlook — the leads each target period covers, or without periods every file lead on its
/// own (then every model must have the same leads).
fn lead_plan(
    cfg: &OutlookConfig,
    periods: &[TargetPeriod],
    file_leads: &[Vec<Lead>],
) -> Result<Vec<Vec<Vec<usize>>>> {
    if !periods.is_empty() {
        return periods
            .iter()
            .map(|p| {
                file_leads
                    .iter()
                    .zip(&cfg.models)
                    .map(|(leads, m)| {
                        p.leads_of(leads)
                            .with_context(|| format!("periods of model {}", m.name))
                    })
                    .collect()
            })
            .collect();
    }
    for (leads, m) in file_leads.iter().zip(&cfg.models).skip(1) {
        if leads != &file_leads[0] {
            return Err(Error::mismatch(
                "models",
                format!(
                    "the hindcasts of {} and {} have other leads ({} and {}); give every model the same leads, or set `periods` to combine what they share",
                    m.name,
                    cfg.models[0].name,
                    leads.len(),
                    file_leads[0].len()
                ),
            ));
        }
    }
    // A file without a lead dimension is one lead.
    let n = file_leads[0].len().max(1);
    Ok((0..n).map(|l| vec![vec![l]; cfg.models.len()]).collect())
}

/// Reads lead `l` of every model's hindcast (the file leads of its target period, averaged),
/// restricted to the common hindcast years and put on the run's grid — the whole field, or in
/// a distributed run this rank's band (`bands`: each rank reads whole maps of a block of start
/// dates, makes their target-period means on the run's grid and sends every rank its rows).
/// Also returns the common years.
fn hindcast_lead(
    ctx: &RunContext,
    variable: &str,
    inputs: &Inputs,
    regrid: &mut Option<WeightCache>,
    l: usize,
    bands: Option<&spread::VariableBands>,
) -> Result<(Vec<Cube>, (i32, i32))> {
    let cfg = ctx.cfg;
    let mut hindcasts = Vec::with_capacity(cfg.models.len());
    for (k, (m, leads)) in cfg.models.iter().zip(&inputs.hindcast_leads[l]).enumerate() {
        let path = ctx.path(&m.hindcast);
        let var = m.file_variable(variable);
        let opts = ReadOptions {
            years: cfg.years,
            model: Some(m.name.clone()),
            leads: Some(leads.clone()),
            ..Default::default()
        };
        let on_run_grid = |h: Cube| -> Result<Cube> {
            let mut h = match inputs.periods.get(l) {
                Some(p) => h
                    .target_periods(std::slice::from_ref(p))
                    .with_context(|| format!("periods of model {}", m.name))?,
                None => h,
            };
            match regrid.as_mut() {
                Some(cache) => to_run_grid(cache, &mut h)?,
                None => on_obs_grid(&mut h, &inputs.obs, &inputs.obs_path)?,
            }
            Ok(h)
        };
        let h = match bands {
            None => read_var(&path, Some(var), opts).and_then(on_run_grid)?,
            Some(b) => {
                let read = |steps| {
                    let block = ReadOptions {
                        time_steps: Some(steps),
                        checks_by_caller: true,
                        ..opts.clone()
                    };
                    read_var(&path, Some(var), block)
                };
                let band = crate::pipeline::bands::exchange_rows_then(
                    b.ranks,
                    &b.bands,
                    b.halo,
                    b.starts[k],
                    read,
                    on_run_grid,
                    (&path, &b.file_variables[k]),
                )?
                .unwrap_or_else(|| Err(Error::invalid("outlook", "a rank without a band")));
                spread::agreed(Some(b.ranks), band)?
            }
        };
        hindcasts.push(h);
    }
    let common = (|| {
        let all_years = hindcasts[0].init_years();
        let span =
            common_years(&mut hindcasts)?.unwrap_or((all_years[0], all_years[all_years.len() - 1]));
        for (h, f) in hindcasts.iter().zip(&inputs.forecasts) {
            if h.coords.lead[0] != f.coords.lead[l] {
                return Err(Error::mismatch(
                    "forecast and hindcast",
                    format!(
                        "{}: lead {} of the forecast is {}, of its hindcast {}; give both the same leads",
                        h.meta.model,
                        l + 1,
                        f.coords.lead[l].label(),
                        h.coords.lead[0].label()
                    ),
                ));
            }
        }
        Ok(span)
    })();
    let span = spread::agreed(bands.map(|b| b.ranks), common)?;
    Ok((hindcasts, span))
}

/// Regrids `c` onto the `[grid]` of the run, unless it is on it already.
fn to_run_grid(cache: &mut WeightCache, c: &mut Cube) -> Result<()> {
    let src = LonLatGrid::from_spatial(&c.coords.spatial).with_context(|| {
        format!(
            "{} '{}': regridding to [grid]",
            c.meta.model, c.meta.variable
        )
    })?;
    if &src != cache.target() {
        *c = regrid_cube(c, cache.from_source(&src)?)?;
    }
    Ok(())
}

/// Without `[grid]`, every file must already be on the observations' grid.
fn on_obs_grid(c: &mut Cube, obs: &Cube, obs_path: &Path) -> Result<()> {
    if !c.align_layout(&obs.coords.spatial) {
        return Err(Error::mismatch(
            format!("the grids of model {} and {}", c.meta.model, obs_path.display()),
            "add a [grid] section to the configuration (e.g. `[grid]` alone regrids every model onto the observations' grid; `spacing = \"1\"` onto a 1° grid), or regrid the files with `s2s regrid`",
        ));
    }
    Ok(())
}

/// The observations on the targets of every lead of `hindcast`'s start dates (`leads`: all the
/// outlook's leads, `hindcast` one of them): an error when no observation falls in any target.
fn observed_targets(obs: &Cube, obs_path: &Path, hindcast: &Cube, leads: &[Lead]) -> Result<Cube> {
    let (ni, _, _, ny, nx) = hindcast.values.dim();
    let targets = Cube::new(
        ndarray::Array5::zeros((ni, 1, leads.len(), ny, nx)),
        crate::cube::Coords {
            init: hindcast.coords.init.clone(),
            member: vec![0],
            lead: leads.to_vec(),
            spatial: hindcast.coords.spatial.clone(),
        },
        hindcast.meta.clone(),
    )?;
    Ok(align_or_fail(obs, obs_path, &targets)?.0)
}

/// The quantity in a bulletin's words.
fn quantity_words(quantity: Quantity, variable: &str) -> String {
    match quantity {
        Quantity::Precipitation => "rainfall".to_string(),
        Quantity::Temperature => "temperature".to_string(),
        _ => variable.to_string(),
    }
}

/// One variable from raw files to its maps, summaries and NetCDF products, streamed lead by
/// lead (target period by target period): the forecasts and observations are read whole, the
/// hindcasts one lead of every model at a time, which is bias-corrected, combined, verified,
/// written into `mme_forecast.<var>.nc` and mapped before the next is read — so the memory
/// of a run is bounded by one lead of the hindcasts, not by whole cubes.
///
/// In a distributed run every rank takes this path: each bias-corrects, combines and scores
/// its band of rows ([`spread`]), rank 0 gathers each lead's results and makes the files, maps
/// and summaries from them as one process does. `None` on the other ranks.
fn variable_products(
    ctx: &RunContext,
    variable: &str,
    log: &mut RunLog,
    bars: &dyn Progress,
) -> Result<Option<VariableProducts>> {
    let cfg = ctx.cfg;
    let first_stage = log.stages.len();
    spread::tell_variable(ctx.ranks, variable);
    let mut inputs = spread::agreed(ctx.ranks, ingest(ctx, variable, bars))?;
    let bands = match ctx.ranks {
        Some(r) => spread::agreed(
            Some(r),
            spread::VariableBands::of(ctx, variable, &inputs, r),
        )?,
        None => None,
    };
    let root = ctx.ranks.map_or(true, |r| r.is_root());
    match (&bands, ctx.ranks) {
        (Some(b), Some(r)) if r.is_root() => log::info!(
            "{variable}: latitude rows {:?} on ranks 0..{}, halo {}",
            b.bands.rows,
            b.bands.rows.len(),
            b.halo
        ),
        (None, Some(r)) if r.is_root() => {
            log::info!("{variable}: the whole field on rank 0 (a grid the ranks cannot share)")
        }
        _ => {}
    }
    if !root && bands.is_none() {
        // the whole field on rank 0
        return Ok(None);
    }
    let ranks = bands.as_ref().map(|b| b.ranks);
    // What this process computes: its band (with the halo) or the whole field.
    let band = spread::agreed(ranks, bands.as_ref().map(|b| b.cut(&inputs)).transpose())?;
    let mut regrid = inputs.regrid.take();
    let inputs = inputs;
    let work_obs = band.as_ref().map_or(&inputs.obs, |b| &b.obs);
    let work_forecasts = band.as_ref().map_or(&inputs.forecasts, |b| &b.forecasts);
    let leads = inputs.forecasts[0].coords.lead.clone();
    let mut first = Some(hindcast_lead(
        ctx,
        variable,
        &inputs,
        &mut regrid,
        0,
        bands.as_ref(),
    )?);
    let Some((hindcasts, (first_year, last_year))) = &first else {
        unreachable!("just read");
    };
    // The observations on every target of the hindcast years; checked for each model.
    let aligned_all = spread::agreed(
        ranks,
        (|| {
            let mut aligned_all = None;
            for h in hindcasts {
                let aligned = observed_targets(work_obs, &inputs.obs_path, h, &leads)?;
                aligned_all.get_or_insert(aligned);
            }
            policy::check_hindcast_years(hindcasts)?;
            policy::check_counted_members(cfg.weights.scheme(), hindcasts, bars)?;
            Ok(aligned_all.expect("at least one model"))
        })(),
    )?;
    log.add(&format!("ingest {variable}"));

    // The bias correction (cross-validated hindcast + forecast).
    let quantity = hindcasts[0].meta.quantity;
    let kind = policy::correction_kind(quantity);
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
    let bias_params = BiasParams {
        wet_threshold: policy::wet_threshold_for(&leads),
        cv: if combine_corrected {
            policy::HINDCAST_CROSS_VALIDATION
        } else {
            CrossValidation::None
        },
        correct_hindcast: combine_corrected,
        ..Default::default()
    };
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
    let pmme = spec.scheme == WeightScheme::Pmme;
    let models: Vec<String> = cfg.models.iter().map(|m| m.name.clone()).collect();
    let forecast = &inputs.forecasts[0];
    let what = quantity_words(quantity, variable);
    let nc_path = ctx.out.join(format!("mme_forecast.{variable}.nc"));
    let model_years: Vec<(String, usize, (i32, i32))> = hindcasts
        .iter()
        .map(|h| {
            (
                h.meta.model.clone(),
                h.n_member(),
                (*first_year, *last_year),
            )
        })
        .collect();
    let mut products = VariableProducts {
        variable: variable.to_string(),
        what: what.clone(),
        method: method_words(&spec, ctx.cat),
        outlooks: Vec::new(),
        countries: Vec::new(),
        provinces: Vec::new(),
        maps: Vec::new(),
        field_maps: Vec::new(),
        extreme_maps: Vec::new(),
        field_note: field_note(quantity, spec.scheme, ctx.cat),
        region_maps: vec![Vec::new(); ctx.regions.len()],
        region_field_maps: vec![Vec::new(); ctx.regions.len()],
        region_extreme_maps: vec![Vec::new(); ctx.regions.len()],
        region_graphs: vec![Vec::new(); ctx.regions.len()],
        series: Vec::new(),
        region_countries: vec![Vec::new(); ctx.regions.len()],
        region_provinces: vec![Vec::new(); ctx.regions.len()],
        drought: None,
        reliability: Vec::new(),
        netcdf: nc_path.clone(),
        models: model_years,
        observations: format!(
            "{} ({})",
            inputs
                .obs_path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            inputs.obs.meta.variable
        ),
        issued_from: forecast.coords.init[0].date_label(),
        years: (*first_year, *last_year),
        masked: ctx.cfg.mask_unskilful,
    };
    // Each region's cells and each cell's country, found once for every lead and product (by
    // rank 0, which makes the maps and summaries).
    let region_cells: Vec<RegionCells> = if root {
        ctx.regions
            .iter()
            .map(|r| RegionCells::new(r, &forecast.coords.spatial))
            .collect()
    } else {
        Vec::new()
    };
    let cell_country = cell_countries(&forecast.coords.spatial, ctx.countries, &region_cells);
    let cell_province = ctx
        .provinces
        .filter(|_| root)
        .map(|p| cell_countries(&forecast.coords.spatial, p, &region_cells));
    let cell_area = crate::bulletin::cell_areas_km2(&forecast.coords.spatial);
    // Area weights of the whole map, for the reliability of the hindcast.
    let whole_map = map_weights(&forecast.coords.spatial);
    // The drought outlook from the MME mean and its hindcast error (Gaussian on the SPI
    // scale) for PMME and wherever a model has only its ensemble mean: counting four ensemble
    // means as members would give probabilities in steps of 25 %. Its route is chosen on the
    // whole field, its outlook made on the rows each process keeps.
    let ensemble_means = hindcasts.iter().any(|h| h.n_member() < 2);
    let drought = (quantity == Quantity::Precipitation)
        .then(|| {
            DroughtBuilder::new(
                &inputs.obs,
                &inputs.forecasts,
                &leads,
                cfg.spi_scale,
                pmme || ensemble_means,
                corrector.is_some(),
            )
        })
        .transpose();
    let mut drought = spread::agreed(ranks, drought)?.map(|d| match &band {
        Some(b) => d.rows(b.own_rows.clone()),
        None => d,
    });
    let science = Science {
        corrector: corrector.as_deref(),
        bias_params: &bias_params,
        spec: &spec,
        combine_corrected,
        obs: work_obs,
        own: band.as_ref().and_then(|b| b.own_in_read.clone()),
        variable,
    };
    let mut file: Option<MmeFile> = None;
    // rank 0's failure in what it alone does for a lead, told to the others at the next
    // agreement
    let mut pending: Result<()> = Ok(());

    bars.start(&format!("outlook {variable}"), leads.len() as u64);
    for (l, lead) in leads.iter().enumerate() {
        let (hindcasts, _) = match first.take() {
            Some(h) => h,
            None => {
                let h = hindcast_lead(ctx, variable, &inputs, &mut regrid, l, bands.as_ref())?;
                log.add(&format!("ingest {variable}"));
                h
            }
        };
        let computed = std::mem::replace(&mut pending, Ok(())).and_then(|()| {
            let forecasts = work_forecasts
                .iter()
                .map(|f| f.select_leads(&[l]))
                .collect::<Result<Vec<_>>>()?;
            let aligned = aligned_all.select_leads(&[l])?;
            science.lead(hindcasts, forecasts, aligned, l, drought.as_mut(), log)
        });
        let gathered = match &bands {
            None => Some(computed?),
            Some(b) => match b.gather(spread::agreed(ranks, computed)?) {
                Ok(s) => s,
                Err(e) => {
                    pending = Err(e);
                    None
                }
            },
        };
        let Some(s) = gathered else {
            continue;
        };

        // ---- rank 0: the CF-NetCDF forecast, maps and summaries ----
        let rendered = (|| -> Result<()> {
            let scored = ScoredForecast {
                probability: s.hindcast.probability.view(),
                ensemble_mean: s.hindcast.mean.view(),
                anomaly: Some(s.hindcast.anomaly.view()),
                members: None,
                obs: s.observed.values.view(),
                levels: &spec.category_levels,
                debias_members: None,
                bootstrap: None,
                fair_crps: true,
            };
            let reliability =
                regional_diagnostics(&scored, 0, &whole_map, policy::RELIABILITY_BINS)?
                    .reliability
                    .iter()
                    .map(|b| reliability_slope(b))
                    .collect();
            products.reliability.push((lead.label(), reliability));
            log.add(&format!("verify {variable}"));
            let fc = &s.forecast;
            if file.is_none() {
                let layout = Layout {
                    spec: &spec,
                    models: &models,
                    leads: &leads,
                    sources: if spec.model_edges() {
                        models.clone()
                    } else {
                        vec!["observed".into()]
                    },
                    units: s.forecasts[0].meta.units.clone(),
                    variable: variable.to_string(),
                    quantity,
                    calendar: s.forecasts[0].meta.calendar,
                };
                file = Some(MmeFile::create(
                    &nc_path,
                    &ctx.options.write_options(),
                    &layout,
                    &s.forecasts[0].coords,
                    "forecast",
                    true,
                )?);
            }
            file.as_mut().expect("created").put_lead(l, fc)?;
            LeadContext {
                ctx,
                variable,
                what: &what,
                quantity,
                spec: &spec,
                forecast,
                fc,
                skill: &s.skill,
                region_cells: &region_cells,
                country_cells: crate::bulletin::CountryCells {
                    country: &cell_country,
                    area_km2: cell_area.as_deref(),
                },
                province_cells: cell_province
                    .as_deref()
                    .map(|c| crate::bulletin::CountryCells {
                        country: c,
                        area_km2: cell_area.as_deref(),
                    }),
            }
            .lead(l, lead, &mut products)?;
            regional_graphs(
                ctx,
                &RegionalSources {
                    variable,
                    what: &what,
                    quantity,
                    lead,
                    l,
                    forecast,
                    observed: &s.observed,
                    hindcast_mme: &s.hindcast,
                    forecast_mme: fc,
                    hindcast_means: &s.hindcast_means,
                    forecasts: &s.forecasts,
                    region_cells: &region_cells,
                },
                &mut products,
            )?;
            bars.advance(1);
            log.add(&format!("maps {variable}"));
            Ok(())
        })();
        match &bands {
            None => rendered?,
            Some(_) => pending = rendered,
        }
    }
    bars.finish();
    // every rank has finished its leads: rank 0's last failure, agreed
    spread::agreed(ranks, std::mem::replace(&mut pending, Ok(())))?;

    // ---- drought: forecast SPI of each target period (precipitation) ----
    if let Some(d) = drought {
        let own_forecasts = band
            .as_ref()
            .map_or(&inputs.forecasts, |b| &b.own_forecasts);
        let finished = spread::agreed(ranks, d.finish(own_forecasts))?;
        let whole = match &bands {
            None => Some(finished),
            Some(b) => b.gather_drought(finished)?,
        };
        if let Some((outlook, method)) = whole {
            products.drought = Some(drought_part(
                ctx,
                &inputs.forecasts[0],
                &leads,
                outlook,
                method,
                &region_cells,
            )?);
        }
        log.add(&format!("drought {variable}"));
    }
    if !root {
        return Ok(None);
    }
    file.expect("at least one lead").w.finish()?;
    log.announce(first_stage);
    Ok(Some(products))
}

/// What the science of every lead of a variable shares: the correction, the combination, the
/// observations of the rows this process computes and the rows it keeps.
struct Science<'a> {
    corrector: Option<&'a dyn BiasCorrector>,
    bias_params: &'a BiasParams,
    spec: &'a CombineSpec,
    /// Whether the corrected cubes are combined (observed edges) or the raw ones.
    combine_corrected: bool,
    /// The observations of the rows computed (a band with its halo, or the whole field).
    obs: &'a Cube,
    /// The rows kept of those computed (a band's own rows without its halo); `None`: all.
    own: Option<std::ops::Range<usize>>,
    variable: &'a str,
}

/// One lead's science on the rows a process keeps — the whole field in one process, a band in
/// a distributed run (gathered whole on rank 0, [`spread::VariableBands::gather`]).
struct LeadScience {
    /// The cross-validated MME hindcast products.
    hindcast: Products,
    /// The MME forecast products.
    forecast: Products,
    /// The hindcast skill of the MME.
    skill: SkillMaps,
    /// The observations on the lead's targets.
    observed: Cube,
    /// Each model's hindcast member mean `(start, 1, 1, y, x)`, as combined.
    hindcast_means: Vec<Cube>,
    /// Each model's forecast of the lead, as combined.
    forecasts: Vec<Cube>,
}

impl Science<'_> {
    /// Bias-corrects, combines and scores lead `l` (`hindcasts`, `forecasts` and `aligned`:
    /// the rows computed), feeds the drought builder and keeps the own rows.
    fn lead(
        &self,
        mut hindcasts: Vec<Cube>,
        mut forecasts: Vec<Cube>,
        aligned: Cube,
        l: usize,
        mut drought: Option<&mut DroughtBuilder>,
        log: &mut RunLog,
    ) -> Result<LeadScience> {
        let variable = self.variable;
        let own = |c: Cube| -> Result<Cube> {
            match &self.own {
                Some(rows) => crate::distributed::products::cube_rows(&c, rows.clone()),
                None => Ok(c),
            }
        };
        // ---- bias correction ----
        if let Some(c) = self.corrector {
            for (k, (h, f)) in hindcasts.iter_mut().zip(forecasts.iter_mut()).enumerate() {
                let on_targets = if k == 0 {
                    aligned.clone()
                } else {
                    align_observations(self.obs, h)?.0
                };
                let r = correct(c, h, &on_targets, Some(f), self.bias_params)
                    .with_context(|| format!("bias correction of {}", h.meta.model))?;
                let fc = r.forecast.expect("forecast given");
                if let Some(d) = drought.as_mut() {
                    d.corrected_forecast(k, l, &own(fc.clone())?);
                }
                if self.combine_corrected {
                    *h = r.hindcast.expect("hindcast corrected");
                    *f = fc;
                }
            }
            log.add(&format!("bias {variable}"));
        }

        // ---- combine, verify ----
        let href: Vec<&Cube> = hindcasts.iter().collect();
        let fref: Vec<&Cube> = forecasts.iter().collect();
        let spec = self.spec;
        let mut result = combine(
            &CombineInput {
                hindcasts: &href,
                forecasts: Some(&fref),
                obs: Some(&aligned),
            },
            spec,
        )?;
        // No category forecast where the observed climate cannot be split into terciles (dry
        // seasons, deserts): grey on the maps, left out of the summaries and the skill.
        // With each model's own edges, a model whose climate collapses skews the MME too.
        let mut no_outlook = collapsed_categories(aligned.values.view(), &spec.category_levels);
        if spec.model_edges() {
            for h in &hindcasts {
                let m = collapsed_categories(h.values.view(), &spec.category_levels);
                no_outlook.zip_mut_with(&m, |a, &b| *a |= b);
            }
        }
        result.hindcast.withhold(no_outlook.view());
        let mut fc = result.forecast.expect("forecast products");
        fc.withhold(no_outlook.view());
        log.add(&format!("combine {variable}"));
        // the rows kept, without a halo
        let (hindcast, forecast, observed) = match &self.own {
            Some(rows) => (
                crate::distributed::products::product_rows(&result.hindcast, rows.clone()),
                crate::distributed::products::product_rows(&fc, rows.clone()),
                own(aligned)?,
            ),
            None => (result.hindcast, fc, aligned),
        };
        let hindcasts = hindcasts.into_iter().map(own).collect::<Result<Vec<_>>>()?;
        let forecasts = forecasts.into_iter().map(own).collect::<Result<Vec<_>>>()?;
        let scored = ScoredForecast {
            probability: hindcast.probability.view(),
            ensemble_mean: hindcast.mean.view(),
            anomaly: Some(hindcast.anomaly.view()),
            members: None,
            obs: observed.values.view(),
            levels: &spec.category_levels,
            debias_members: None,
            bootstrap: None,
            fair_crps: true,
        };
        let skill = skill_maps(&scored)?;
        log.add(&format!("verify {variable}"));
        if let Some(d) = drought {
            d.lead(&observed, &hindcast, &forecast, &hindcasts, &forecasts)?;
            log.add(&format!("drought {variable}"));
        }
        let hindcast_means = hindcasts.iter().map(member_means).collect::<Result<_>>()?;
        Ok(LeadScience {
            hindcast,
            forecast,
            skill,
            observed,
            hindcast_means,
            forecasts,
        })
    }
}

/// What the deterministic maps of a quantity show.
fn field_note(
    quantity: Quantity,
    scheme: WeightScheme,
    cat: &crate::bulletin::Catalogue,
) -> String {
    let normal = cat.text(
        match scheme {
            WeightScheme::Pmme => "note.normal_pmme",
            s if s.calibrates() => "note.normal_calibrated",
            _ => "note.normal_models",
        },
        &[],
    );
    let key = match quantity {
        Quantity::Precipitation => "note.pct_normal",
        Quantity::Temperature => "note.anomaly",
        _ => "note.std_anomaly",
    };
    cat.text(key, &[("normal", &normal)])
}

/// What the maps and summaries of each lead are made from.
struct LeadContext<'a> {
    ctx: &'a RunContext<'a>,
    variable: &'a str,
    what: &'a str,
    quantity: Quantity,
    spec: &'a CombineSpec,
    /// The first model's forecast, every lead (its start, calendar and grid).
    forecast: &'a Cube,
    /// The MME forecast products of this lead alone.
    fc: &'a Products,
    /// The hindcast skill of this lead alone.
    skill: &'a SkillMaps,
    region_cells: &'a [RegionCells],
    country_cells: crate::bulletin::CountryCells<'a>,
    /// Each cell's province, when `provinces` is configured.
    province_cells: Option<crate::bulletin::CountryCells<'a>>,
}

impl LeadContext<'_> {
    /// The maps, regional summaries and country rows of lead `l` (of the forecast).
    fn lead(&self, l: usize, lead: &Lead, p: &mut VariableProducts) -> Result<()> {
        let (ctx, fc, spec, variable) = (self.ctx, self.fc, self.spec, self.variable);
        let slab = |a: &ndarray::Array5<f32>, k: usize| -> Vec<f32> {
            a.slice(ndarray::s![0, k, 0, .., ..])
                .iter()
                .copied()
                .collect()
        };
        let (start, end) = self.forecast.target_period(0, l)?;
        let target = start.period_label(&end, self.forecast.meta.calendar);
        let prob: Vec<Vec<f32>> = (0..3).map(|c| slab(&fc.probability, c)).collect();
        let dominant: Vec<i8> = fc
            .dominant_category
            .slice(ndarray::s![0, 0, 0, .., ..])
            .iter()
            .copied()
            .collect();
        let acc: Vec<f32> = self
            .skill
            .acc
            .index_axis(Axis(0), 0)
            .iter()
            .copied()
            .collect();
        let rpss: Vec<f32> = self
            .skill
            .rpss
            .index_axis(Axis(0), 0)
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
            self.country_cells,
            &all_regions,
            &lead.label(),
            &target,
        ));
        for (ri, rc) in self.region_cells.iter().enumerate() {
            p.region_countries[ri].extend(summarise_countries(
                &lm,
                ctx.countries,
                self.country_cells,
                &[rc],
                &lead.label(),
                &target,
            ));
        }
        if let (Some(provinces), Some(cells)) = (ctx.provinces, self.province_cells) {
            let rows = |regions: &[&RegionCells]| {
                summarise_countries(&lm, provinces, cells, regions, &lead.label(), &target)
            };
            p.provinces.extend(rows(&all_regions));
            for (ri, rc) in self.region_cells.iter().enumerate() {
                p.region_provinces[ri].extend(rows(&[rc]));
            }
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
        let cat = ctx.cat;
        let (lead_words, target_words) = (cat.lead(&lead.label()), cat.period(&target));
        let caption_of = |key: &str, pct: &str| {
            cat.text(
                key,
                &[
                    ("What", &capitalised(&cat.quantity(self.what))),
                    ("lead", &lead_words),
                    ("target", &target_words),
                    ("issued", &issued),
                    ("pct", pct),
                ],
            )
        };
        let png = format!("map_{variable}_lead{l}.png");
        let caption = caption_of("caption.tercile", "");
        let categories = cat.tercile_names();
        let notes = cat.map_notes();
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
            categories: [&categories[0], &categories[1], &categories[2]],
            notes: [&notes[0], &notes[1], &notes[2], &notes[3]],
        };
        ctx.tercile_maps(&map, png, &caption, &mut p.maps, &mut p.region_maps)?;

        // The deterministic map: percent of normal, anomaly or standardized anomaly.
        let (values, classes, legend, name, caption_key) = match self.quantity {
            Quantity::Precipitation => (
                slab(&fc.percent_of_normal, 0),
                percent_of_normal_classes(),
                "legend.pct_normal",
                "pct_normal",
                "caption.field_pct",
            ),
            Quantity::Temperature => (
                slab(&fc.anomaly, 0),
                anomaly_classes(0.5, false),
                "legend.anomaly",
                "anomaly",
                "caption.field_anomaly",
            ),
            _ => (
                slab(&fc.standardized_anomaly, 0),
                anomaly_classes(0.5, false),
                "legend.std_anomaly",
                "std_anomaly",
                "caption.field_std",
            ),
        };
        let legend = cat.text(legend, &[]);
        let no_data = cat.text("legend.no_data_short", &[]);
        let png = format!("map_{variable}_{name}_lead{l}.png");
        let caption = caption_of(caption_key, "");
        let field = ClassedMap {
            spatial: &self.forecast.coords.spatial,
            values: &values,
            classes: &classes,
            legend: &legend,
            countries: Some(ctx.countries),
            title: &caption,
            no_data: &no_data,
        };
        ctx.classed_maps(
            &field,
            png,
            &caption,
            &mut p.field_maps,
            &mut p.region_field_maps,
        )?;
        // The extremes: the chance below the lowest and above the highest extreme level.
        let tails = match self.quantity {
            Quantity::Precipitation => Some([
                (ExtremeTail::Dry, "caption.extreme_dry"),
                (ExtremeTail::Wet, "caption.extreme_wet"),
            ]),
            Quantity::Temperature => Some([
                (ExtremeTail::Cold, "caption.extreme_cold"),
                (ExtremeTail::Heat, "caption.extreme_heat"),
            ]),
            _ => None,
        };
        if let (Some(ext), Some(tails)) = (&ext, tails) {
            let [low, high] = lm.extreme_levels;
            for (side, (tail, caption_key)) in tails.into_iter().enumerate() {
                let level = if side == 0 { low } else { high };
                let climatology = if side == 0 { low } else { 1.0 - high };
                let values: Vec<f32> = ext[side].iter().map(|&p| 100.0 * p).collect();
                let classes = extreme_classes(tail, (100.0 * climatology) as f32);
                let png = format!(
                    "map_{variable}_{}_lead{l}.png",
                    if side == 0 {
                        "extreme_low"
                    } else {
                        "extreme_high"
                    }
                );
                let caption = caption_of(caption_key, &format!("{}", (100.0 * level).round()));
                let legend = cat.text(
                    "legend.chance",
                    &[("pct", &format!("{:.0}", 100.0 * climatology))],
                );
                let field = ClassedMap {
                    spatial: &self.forecast.coords.spatial,
                    values: &values,
                    classes: &classes,
                    legend: &legend,
                    countries: Some(ctx.countries),
                    title: &caption,
                    no_data: &no_data,
                };
                ctx.classed_maps(
                    &field,
                    png,
                    &caption,
                    &mut p.extreme_maps,
                    &mut p.region_extreme_maps,
                )?;
            }
        }
        Ok(())
    }
}

/// What the regional POE curves and plumes of one lead are made from.
struct RegionalSources<'a> {
    variable: &'a str,
    what: &'a str,
    quantity: Quantity,
    lead: &'a Lead,
    l: usize,
    /// The first model's forecast, every lead (its start and calendar).
    forecast: &'a Cube,
    /// Observations on the hindcast starts, this lead.
    observed: &'a Cube,
    /// The cross-validated MME hindcast products of this lead.
    hindcast_mme: &'a Products,
    /// The MME forecast products of this lead.
    forecast_mme: &'a Products,
    /// Every model's hindcast member mean ([`member_means`]) and forecast of this lead, as
    /// combined.
    hindcast_means: &'a [Cube],
    forecasts: &'a [Cube],
    region_cells: &'a [RegionCells],
}

/// The `(y, x)` field of `a[init, index, 0]` as a row-major vector.
fn field(a: &ndarray::Array5<f32>, init: usize, index: usize) -> Vec<f32> {
    a.slice(ndarray::s![init, index, 0, .., ..])
        .iter()
        .copied()
        .collect()
}

/// The member mean of every start of `c`'s first lead, `(start, 1, 1, y, x)` (NaN where no
/// member has a value).
fn member_means(c: &Cube) -> Result<Cube> {
    let means = c
        .values
        .slice(ndarray::s![.., .., 0..1, .., ..])
        .map_axis(Axis(1), |members| {
            crate::stats::nan_mean(&members.to_vec()) as f32
        })
        .insert_axis(Axis(1));
    let coords = crate::cube::Coords {
        member: vec![0],
        lead: c.coords.lead[..1].to_vec(),
        ..c.coords.clone()
    };
    Cube::new(means, coords, c.meta.clone())
}

/// The POE curve and plume of every region for one lead
/// ([`crate::bulletin::regional`]), drawn into each region's folder.
fn regional_graphs(ctx: &RunContext, s: &RegionalSources, p: &mut VariableProducts) -> Result<()> {
    use crate::bulletin::regional::{
        regional_mean, regional_series, render_exceedance, render_plume, ModelRegional,
        RegionalInputs,
    };
    let years = s.observed.init_years();
    let (start, end) = s.forecast.target_period(0, s.l)?;
    let target = start.period_label(&end, s.forecast.meta.calendar);
    let units = s.forecasts[0].meta.units.clone();
    let n_years = s.observed.values.dim().0;
    for (ri, cells) in s.region_cells.iter().enumerate() {
        let observed: Vec<f64> = (0..n_years)
            .map(|y| regional_mean(&field(&s.observed.values, y, 0), cells))
            .collect();
        let hindcast_mme: Vec<f64> = (0..s.hindcast_mme.mean.dim().0)
            .map(|y| regional_mean(&field(&s.hindcast_mme.mean, y, 0), cells))
            .collect();
        let models: Vec<ModelRegional> = s
            .hindcast_means
            .iter()
            .zip(s.forecasts)
            .map(|(h, f)| ModelRegional {
                hindcast_mean: (0..h.values.dim().0)
                    .map(|y| regional_mean(&field(&h.values, y, 0), cells))
                    .collect(),
                forecast_members: (0..f.values.dim().1)
                    .map(|m| regional_mean(&field(&f.values, 0, m), cells))
                    .collect(),
            })
            .collect();
        let series = regional_series(&RegionalInputs {
            labels: (&cells.region, &s.lead.label(), &target, start.year, &units),
            years: &years,
            observed: &observed,
            hindcast_mme: &hindcast_mme,
            models: &models,
            forecast_mean: regional_mean(&field(&s.forecast_mme.mean, 0, 0), cells),
            multiplicative: s.quantity == Quantity::Precipitation,
        });
        if series.members.is_empty() || series.observed.iter().all(|v| !v.is_finite()) {
            p.series.push(series);
            continue;
        }
        let cat = ctx.cat;
        let dir = &ctx.region_dirs[ri];
        let poe = format!("poe_{}_lead{}.png", s.variable, s.l);
        let title = cat.text(
            "caption.region",
            &[
                ("region", &cat.region(&cells.region)),
                ("What", &capitalised(&cat.quantity(s.what))),
                ("lead", &cat.lead(&s.lead.label())),
                ("target", &cat.period(&target)),
            ],
        );
        let with_title = |key: &str| cat.text(key, &[("title", &title)]);
        render_exceedance(
            &dir.join(&poe),
            &series,
            &with_title("caption.poe_title"),
            cat,
        )?;
        p.region_graphs[ri].push((with_title("caption.poe"), poe));
        let plume = format!("plume_{}_lead{}.png", s.variable, s.l);
        render_plume(
            &dir.join(&plume),
            &series,
            &with_title("caption.plume_title"),
            cat,
        )?;
        let caption = with_title("caption.plume");
        p.region_graphs[ri].push((caption, plume));
        p.series.push(series);
    }
    Ok(())
}

/// The tropical-cyclone products: the track outlook from daily or 6-hourly fields, the
/// genesis potential outlook from monthly means, or both.
fn cyclone_products(
    ctx: &RunContext,
    c: &crate::config::CyclonesConfig,
    progress: &dyn Progress,
) -> Result<CycloneProducts> {
    let mut p = CycloneProducts::default();
    let boxes = |keys: &[String]| -> Result<Vec<(f64, f64, f64, f64)>> {
        let mut v = Vec::new();
        for k in keys {
            v.extend(
                crate::cyclone::activity::Basin::by_key(k)?
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
        let tracking = TrackSettings::from_config(c)?;
        let plan = ActivityPlan {
            tracking: &tracking,
            forecast: &forecast,
            hindcast: &hindcast,
            season: &c.season,
            basins: &c.basins,
            countries: Some(ctx.countries),
            observed: observed_tracks.as_deref().zip(c.observed_years),
            observed_agency: crate::io::ibtracs::Agency::parse(&c.observed_agency)
                .context("[cyclones] observed_agency")?,
            density_deg: c.density_deg,
            cat: ctx.cat,
            out: ctx.out,
        };
        let produced = activity_products(&plan, ctx.options, progress)?;
        p.markdown.push_str(&format!("\n{}", produced.markdown));
        p.tracks_json = produced.json;
    }
    if !c.gpi_forecast.is_empty() {
        let forecast: Vec<PathBuf> = c.gpi_forecast.iter().map(|f| ctx.path(f)).collect();
        let hindcast: Vec<PathBuf> = c.gpi_hindcast.iter().map(|f| ctx.path(f)).collect();
        let g = genesis_products(
            &GenesisPlan {
                forecast: &forecast,
                hindcast: &hindcast,
                season: &c.season,
                basins: &c.basins,
                countries: ctx.countries,
                cat: ctx.cat,
                out: ctx.out,
            },
            ctx.options,
        )?;
        p.markdown.push_str(&format!("\n{}", g.markdown));
        p.genesis_json = g.json;
        p.genesis = Some((g.basins, g.season));
    }
    Ok(p)
}

/// The bias correction in words, for the methods section.
fn bias_words(cfg: &OutlookConfig, cat: &crate::bulletin::Catalogue) -> String {
    let scheme = cfg.weights.scheme();
    let method = match cfg.bias {
        BiasMethod::None if scheme.calibrates() => {
            return cat.text("method.bias_none_calibrated", &[])
        }
        BiasMethod::None if cfg.edges_from_obs => {
            return cat.text("method.bias_none_observed", &[])
        }
        BiasMethod::None => return cat.text("method.bias_none_model", &[]),
        BiasMethod::Scaling => cat.text("method.bias_scaling", &[]),
        BiasMethod::Eqm => cat.text("method.bias_eqm", &[]),
    };
    let key = if cfg.edges_from_obs {
        "method.bias_observed_edges"
    } else if scheme.calibrates() {
        "method.bias_calibrated"
    } else {
        "method.bias_model_climate"
    };
    cat.text(key, &[("method", &method)])
}

/// How the probabilities were made and the models weighted, in the bulletin's language (the
/// words of [`CombineSpec::describe`], which the NetCDF attributes keep in English).
fn method_words(spec: &CombineSpec, cat: &crate::bulletin::Catalogue) -> String {
    let scheme = match spec.scheme {
        WeightScheme::Pooled => cat.text("method.pooled", &[]),
        WeightScheme::ModelEqual => cat.text("method.model_equal", &[]),
        WeightScheme::Skill {
            score,
            radius_cells,
        } => cat.text(
            "method.skill",
            &[
                (
                    "score",
                    match score {
                        crate::ensemble::SkillScore::Rpss => "RPSS",
                        crate::ensemble::SkillScore::Acc => "ACC",
                    },
                ),
                ("n", &(2 * radius_cells + 1).to_string()),
            ],
        ),
        WeightScheme::Pmme => cat.text("method.pmme", &[]),
        WeightScheme::Calibrated => cat.text("method.calibrated", &[]),
        WeightScheme::Elr => cat.text("method.elr", &[]),
        WeightScheme::Pcr => cat.text(
            "method.pcr",
            &[("modes", &crate::ensemble::pcr::PCR_MAX_MODES.to_string())],
        ),
    };
    let edges = match (spec.scheme, spec.edges) {
        (WeightScheme::Pmme, _) => "method.edges_gaussian",
        (s, _) if s.calibrates() => "method.edges_observed",
        (_, crate::ensemble::EdgeSource::Model) => "method.edges_model",
        (_, crate::ensemble::EdgeSource::Observed) => "method.edges_observed",
    };
    let cv = if spec.cross_validate {
        cat.text("method.cross_validated", &[])
    } else {
        String::new()
    };
    cat.text(
        "method.combined",
        &[
            ("scheme", &scheme),
            ("edges", &cat.text(edges, &[])),
            ("cv", &cv),
        ],
    )
}
