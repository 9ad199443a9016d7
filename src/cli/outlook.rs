//! `s2s outlook`: from the models' raw hindcast and forecast NetCDF to a regional bulletin —
//! bias correction (cross-validated), multi-model combination, verification of the MME, maps,
//! Markdown + JSON bulletin and the CF-NetCDF forecast, driven by a TOML configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ndarray::Axis;
use s2s_ensemble::bias::{correct, BiasCorrector, BiasParams, Kind, MeanScaling, QuantileMapping};
use s2s_ensemble::bulletin::{
    cell_countries, country_markdown, display_name, drought_markdown, markdown, methods_markdown,
    render_region_map, render_tercile_map, summarise, summarise_countries, summarise_drought,
    CountryOutlook, DroughtFields, LeadMaps, MapStyle, Methods, RegionCells, TercileMap,
};
use s2s_ensemble::config::{BiasMethod, OutlookConfig};
use s2s_ensemble::ensemble::{
    collapsed_categories, combine, CombineInput, CombineSpec, EdgeSource, WeightScheme,
};
use s2s_ensemble::indices::drought::{DroughtTendency, PROB_SPI_BELOW_MINUS_ONE, TENDENCY_FILL};
use s2s_ensemble::indices::{
    drought_outlook, forecast_spi, gaussian_spi_outlook, latest_observed_spi,
    model_climatology_outlook, DroughtOutlook, ForecastSpiInput, MonthlyAxis, MonthlyRecord,
    SpiSpec, SPI_CLASSES,
};
use s2s_ensemble::io::{write_text_atomic, ReadOptions};
use s2s_ensemble::progress::Progress;
use s2s_ensemble::units::Quantity;
use s2s_ensemble::verify::{skill_maps, ScoredForecast};
use s2s_ensemble::Cube;
use serde::Serialize;

use super::combine::{Layout, MmeFile};
use super::cyclone_outlook::{produce, Plan};
use super::cyclones::{FieldArgs, StitchArgs};
use super::{align_or_fail, common_years, peak_rss_mib, read_observed_series, read_var, Globals};

#[derive(Debug, Args)]
pub struct OutlookArgs {
    /// Run configuration (TOML; see docs/config.md).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
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

pub fn run(args: &OutlookArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let cfg = OutlookConfig::load(&args.config)?;
    let base = args.config.parent().unwrap_or(Path::new("."));
    let out = args.out.clone().unwrap_or_else(|| base.join(&cfg.output));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut log: Vec<Stage> = Vec::new();
    // A progress bar per stage on a terminal (ingest and bias go model by model).
    let bars = super::progress::Bars::new(g.quiet);
    let n_models = cfg.models.len() as u64;
    bars.start("ingest", n_models);
    let mut stage = |name: &str, t: &mut Instant| {
        log.push(Stage {
            stage: name.to_string(),
            seconds: t.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
        });
        if !g.quiet {
            eprintln!("{name:>14}: {:.2} s", t.elapsed().as_secs_f64());
        }
        *t = Instant::now();
    };
    let mut t = Instant::now();

    // ---- ingest ----
    let years = cfg.years;
    let path = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let mut hindcasts = Vec::new();
    let mut forecasts = Vec::new();
    for m in &cfg.models {
        bars.advance(1);
        let opts = ReadOptions {
            years,
            model: Some(m.name.clone()),
            ..Default::default()
        };
        let var = m.variable.as_deref().or(Some(cfg.variable.as_str()));
        hindcasts.push(read_var(&path(&m.hindcast), var, opts.clone())?);
        forecasts.push(read_var(
            &path(&m.forecast),
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
    let (first_year, last_year) =
        common_years(&mut hindcasts)?.unwrap_or((all_years[0], all_years[all_years.len() - 1]));
    let obs_cfg = &cfg.observations;
    let obs_path = path(&obs_cfg.path);
    let obs = read_observed_series(
        &obs_path,
        obs_cfg.variable.as_deref().or(Some(cfg.variable.as_str())),
        years,
        obs_cfg.units.clone(),
    )?;
    bars.finish();
    stage("ingest", &mut t);
    bars.start("bias", n_models);

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
    if let Some(c) = &corrector {
        let params = BiasParams {
            wet_threshold: 0.01,
            ..Default::default()
        };
        for (h, f) in hindcasts.iter_mut().zip(forecasts.iter_mut()) {
            bars.advance(1);
            let (aligned, _) = align_or_fail(&obs, &obs_path, h)?;
            let r = correct(c.as_ref(), h, &aligned, Some(f), &params)
                .with_context(|| format!("bias correction of {}", h.meta.model))?;
            *h = r.hindcast;
            *f = r.forecast.expect("forecast given");
        }
    }
    bars.finish();
    stage("bias", &mut t);
    bars.start("combine", 1);

    // ---- combine, verify, write lead by lead ----
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
    stage("combine", &mut t);
    bars.start("verify", 1);
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
    stage("verify", &mut t);
    bars.start("bulletin", 1);

    // ---- outputs: CF-NetCDF forecast, maps, bulletin ----
    let variable = cfg.variable.clone();
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
        variable: variable.clone(),
        quantity,
        calendar: forecasts[0].meta.calendar,
    };
    let nc_path = out.join(format!("mme_forecast.{variable}.nc"));
    let mut file = MmeFile::create(
        &nc_path,
        &g.write_options(),
        &layout,
        &forecasts[0],
        "forecast",
        true,
    )?;
    for l in 0..leads.len() {
        file.put_lead(l, &fc.select_lead(l))?;
    }
    file.w.finish()?;

    let spatial = &forecasts[0].coords.spatial;
    let style = if quantity == Quantity::Temperature {
        MapStyle::Temperature
    } else {
        MapStyle::Precipitation
    };
    // the configured outlines, else the bundled Natural Earth countries
    let countries = Some(super::load_countries(
        cfg.countries.as_ref().map(|p| path(p)).as_deref(),
    )?);
    let regions = cfg.regions(countries.as_ref().expect("loaded"))?;
    // Each region's cells and each cell's country, found once for every lead and product.
    let region_cells: Vec<RegionCells> = regions
        .iter()
        .map(|r| RegionCells::new(r, spatial))
        .collect();
    let cell_country = cell_countries(spatial, countries.as_ref().expect("loaded"), &region_cells);
    let all_region_cells: Vec<&RegionCells> = region_cells.iter().collect();
    let mut outlooks = Vec::new();
    let mut country_rows = Vec::new();
    let mut maps = Vec::new();
    // One bulletin per region too, in out/<region>/: its maps, its countries.
    let region_dirs: Vec<PathBuf> = regions.iter().map(|r| out.join(&r.name)).collect();
    for d in &region_dirs {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let mut region_maps: Vec<Vec<(String, String)>> = vec![Vec::new(); regions.len()];
    let mut region_dmaps: Vec<Vec<(String, String)>> = vec![Vec::new(); regions.len()];
    let mut region_countries: Vec<Vec<CountryOutlook>> = vec![Vec::new(); regions.len()];
    let init = forecasts[0].coords.init[0];
    for (l, lead) in leads.iter().enumerate() {
        let (start, end) = forecasts[0].target_period(0, l)?;
        let target = start.period_label(&end, forecasts[0].meta.calendar);
        let p: Vec<Vec<f32>> = (0..3)
            .map(|c| {
                fc.probability
                    .slice(ndarray::s![0, c, l, .., ..])
                    .iter()
                    .copied()
                    .collect()
            })
            .collect();
        let dominant: Vec<i8> = fc
            .dominant_category
            .slice(ndarray::s![0, 0, l, .., ..])
            .iter()
            .copied()
            .collect();
        let acc: Vec<f32> = skill.acc.index_axis(Axis(0), l).iter().copied().collect();
        let rpss: Vec<f32> = skill.rpss.index_axis(Axis(0), l).iter().copied().collect();
        // Extremes: below the lowest and above the highest extreme level.
        let ne = spec.extreme_levels.len();
        let ext: Option<[Vec<f32>; 2]> = (ne >= 1).then(|| {
            [0, ne].map(|k| {
                fc.extreme_probability
                    .slice(ndarray::s![0, k, l, .., ..])
                    .iter()
                    .copied()
                    .collect()
            })
        });
        let lm = LeadMaps {
            probability: [&p[0], &p[1], &p[2]],
            dominant: &dominant,
            acc: &acc,
            rpss: &rpss,
            extremes: ext.as_ref().map(|e| [e[0].as_slice(), e[1].as_slice()]),
            extreme_levels: [
                spec.extreme_levels.first().copied().unwrap_or(f64::NAN),
                spec.extreme_levels.last().copied().unwrap_or(f64::NAN),
            ],
        };
        for r in &region_cells {
            outlooks.push(summarise(&lm, r, &lead.label(), &target));
        }
        // Mask where the MME has no cross-validated skill, if asked.
        let mask: Option<Vec<bool>> = cfg
            .mask_unskilful
            .then(|| rpss.iter().map(|&r| r > 0.0).collect());
        // The skill layer: hatch where the hindcasts show no skill (unless masked white).
        let hatch: Option<Vec<bool>> =
            (!cfg.mask_unskilful).then(|| rpss.iter().map(|&r| r.is_nan() || r <= 0.0).collect());
        country_rows.extend(summarise_countries(
            &lm,
            countries.as_ref().expect("loaded"),
            &cell_country,
            &all_region_cells,
            &lead.label(),
            &target,
        ));
        let png = format!("map_{variable}_lead{l}.png");
        let caption = format!(
            "{variable} tercile outlook, {} ({target}), issued from {}",
            lead.label(),
            init.date_label()
        );
        let map = TercileMap {
            spatial,
            probability: [&p[0], &p[1], &p[2]],
            dominant: &dominant,
            mask: mask.as_deref(),
            hatch: hatch.as_deref(),
            style,
            countries: countries.as_ref(),
            title: &caption,
            categories: ["below normal", "near normal", "above normal"],
        };
        render_tercile_map(&out.join(&png), &map)?;
        for (ri, r) in regions.iter().enumerate() {
            region_countries[ri].extend(summarise_countries(
                &lm,
                countries.as_ref().expect("loaded"),
                &cell_country,
                &[&region_cells[ri]],
                &lead.label(),
                &target,
            ));
            let title = format!("{} — {caption}", display_name(&r.name));
            let regional = TercileMap {
                title: &title,
                ..map
            };
            if render_region_map(&region_dirs[ri].join(&png), &regional, &r.bbox)? {
                region_maps[ri].push((caption.clone(), png.clone()));
            }
        }
        maps.push((caption, png));
    }
    // ---- drought: forecast SPI of each target period (precipitation) ----
    let mut drought_md = String::new();
    let mut drought_summaries = Vec::new();
    let mut drought_file = None;
    let mut drought_method = String::new();
    if quantity == Quantity::Precipitation {
        // Where a dry period is at least as likely as Φ(−1), SPI ≤ −1 cannot occur: no outlook.
        let spi_spec = SpiSpec {
            max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
            ..SpiSpec::default()
        };
        let history = if spec.scheme == WeightScheme::Pmme {
            None
        } else {
            monthly_history_outlook(&obs, &forecasts, &leads, cfg.spi_scale)?
        };
        let (drought, method): (DroughtOutlook, String) = if let Some(h) = history {
            h
        } else if spec.scheme == WeightScheme::Pmme {
            // PMME placed on the SPI scale of the observed period totals.
            (
                gaussian_spi_outlook(
                    aligned.values.index_axis(Axis(1), 0),
                    result.hindcast.mean.index_axis(Axis(1), 0),
                    fc.mean.slice(ndarray::s![0, 0, .., .., ..]),
                    &spi_spec,
                )?,
                "SPI at the scale of the target period: the PMME mean transformed with the observed zero-inflated gamma of the period (hindcast years), Gaussian on the SPI scale with the cross-validated hindcast error of the same transform".to_string(),
            )
        } else {
            let h: Vec<_> = hindcasts.iter().map(|c| c.values.view()).collect();
            let f: Vec<_> = forecasts
                .iter()
                .map(|c| c.values.index_axis(Axis(0), 0))
                .collect();
            (
                model_climatology_outlook(&h, &f, &spi_spec)?,
                "SPI at the scale of the target period: each member against its own model's hindcast gamma (members × years), models weighted equally".to_string(),
            )
        };
        let path = out.join(format!("spi_forecast.{variable}.nc"));
        write_drought_file(&path, g, &forecasts[0], &drought)?;
        drought_file = Some(path);
        let mut dmaps = Vec::new();
        for (l, lead) in leads.iter().enumerate() {
            let (start, end) = forecasts[0].target_period(0, l)?;
            let target = start.period_label(&end, forecasts[0].meta.calendar);
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
            for r in &region_cells {
                drought_summaries.push(summarise_drought(&fields, r, &lead.label(), &target));
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
                spatial,
                probability: [&dry[0], &normal, &wet],
                dominant: &dominant,
                mask: None,
                hatch: None,
                style: MapStyle::Precipitation,
                countries: countries.as_ref(),
                title: &caption,
                categories: ["drought (SPI ≤ −1)", "", "wet (SPI ≥ 1)"],
            };
            render_tercile_map(&out.join(&png), &map)?;
            for (ri, r) in regions.iter().enumerate() {
                let title = format!("{} — {caption}", display_name(&r.name));
                let regional = TercileMap {
                    title: &title,
                    ..map
                };
                if render_region_map(&region_dirs[ri].join(&png), &regional, &r.bbox)? {
                    region_dmaps[ri].push((caption.clone(), png.clone()));
                }
            }
            dmaps.push((caption, png));
        }
        drought_md = drought_markdown(&method, &drought_summaries, &dmaps);
        drought_method = method.clone();
        maps.extend(dmaps.iter().cloned());
    }
    // ---- tropical cyclones, from daily / 6-hourly fields ----
    let mut cyclone_md = String::new();
    let mut cyclone_json = serde_json::Value::Null;
    if let Some(c) = &cfg.cyclones {
        let forecast: Vec<PathBuf> = c.forecast.iter().map(|p| path(p)).collect();
        let hindcast: Vec<PathBuf> = c.hindcast.iter().map(|p| path(p)).collect();
        let observed_tracks = c.observed_tracks.as_ref().map(|p| path(p));
        let (fields, stitch) = (FieldArgs::default(), StitchArgs::default());
        let plan = Plan {
            fields: &fields,
            stitch: &stitch,
            forecast: &forecast,
            hindcast: &hindcast,
            season: &c.season,
            basins: &c.basins,
            countries: countries.as_ref(),
            observed: observed_tracks.as_deref().zip(c.observed_years),
            density_deg: c.density_deg,
            out: &out,
        };
        let produced = produce(&plan, g).context("the [cyclones] outlook")?;
        cyclone_md = format!("\n{}", produced.markdown);
        cyclone_json = produced.json;
        stage("cyclones", &mut t);
    }
    bars.finish();
    stage("bulletin", &mut t);
    let title = format!("{} — {variable} outlook", cfg.title);
    let what = match quantity {
        Quantity::Precipitation => "rainfall".to_string(),
        Quantity::Temperature => "temperature".to_string(),
        _ => variable.clone(),
    };
    let mut md = markdown(
        &title,
        &what,
        &spec.describe(),
        &outlooks,
        &maps[..leads.len()],
    );
    md.push_str(&country_markdown(&country_rows));
    md.push_str(&drought_md);
    md.push_str(&cyclone_md);
    let methods = Methods {
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
        bias: bias_words(&cfg),
        probabilities: spec.describe(),
        regions: regions
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
    };
    md.push_str(&methods_markdown(&methods));
    let md_path = out.join("bulletin.md");
    write_text_atomic(&md_path, &md)?;
    // the same bulletin as one self-contained page (maps embedded)
    let html = s2s_ensemble::bulletin::html_page(&title, &md, &out)?;
    write_text_atomic(out.join("bulletin.html"), &html)?;
    let json_path = out.join("bulletin.json");
    let json = serde_json::json!({
        "title": title,
        "variable": variable,
        "issued_from_start": init.date_label(),
        "hindcast_years": [first_year, last_year],
        "method": spec.describe(),
        "regions": outlooks,
        "countries": country_rows,
        "methods": methods,
        "drought": drought_summaries,
        "cyclones": cyclone_json,
        "spi_netcdf": drought_file.as_ref().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned()),
        "maps": maps.iter().map(|m| &m.1).collect::<Vec<_>>(),
        "netcdf": nc_path.file_name().map(|f| f.to_string_lossy().into_owned()),
    });
    write_text_atomic(&json_path, &serde_json::to_string_pretty(&json)?)?;
    // ---- one bulletin per region ----
    for (ri, r) in regions.iter().enumerate() {
        let dir = &region_dirs[ri];
        let rtitle = format!("{title} — {}", display_name(&r.name));
        let own: Vec<_> = outlooks
            .iter()
            .filter(|o| o.region == r.name)
            .cloned()
            .collect();
        let own_drought: Vec<_> = drought_summaries
            .iter()
            .filter(|d| d.region == r.name)
            .cloned()
            .collect();
        let mut rmd = markdown(&rtitle, &what, &spec.describe(), &own, &region_maps[ri]);
        rmd.push_str(&country_markdown(&region_countries[ri]));
        if !own_drought.is_empty() {
            rmd.push_str(&drought_markdown(
                &drought_method,
                &own_drought,
                &region_dmaps[ri],
            ));
        }
        if !cyclone_md.is_empty() {
            rmd.push_str("\n## Tropical cyclones\n\nSee the cyclone outlook in the whole bulletin (`../bulletin.html`).\n");
        }
        let rmethods = Methods {
            regions: methods
                .regions
                .iter()
                .filter(|(name, _)| *name == r.name)
                .cloned()
                .collect(),
            ..methods.clone()
        };
        rmd.push_str(&methods_markdown(&rmethods));
        write_text_atomic(dir.join("bulletin.md"), &rmd)?;
        let html = s2s_ensemble::bulletin::html_page(&rtitle, &rmd, dir)?;
        write_text_atomic(dir.join("bulletin.html"), &html)?;
        let rjson = serde_json::json!({
            "title": rtitle,
            "region": r,
            "variable": variable,
            "issued_from_start": init.date_label(),
            "hindcast_years": [first_year, last_year],
            "method": spec.describe(),
            "regions": own,
            "countries": region_countries[ri],
            "drought": own_drought,
            "methods": rmethods,
            "maps": region_maps[ri].iter().chain(&region_dmaps[ri]).map(|m| &m.1).collect::<Vec<_>>(),
        });
        write_text_atomic(
            dir.join("bulletin.json"),
            &serde_json::to_string_pretty(&rjson)?,
        )?;
    }
    let mut inputs = Vec::new();
    for f in cfg.input_files() {
        let p = path(&f);
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
        "stages": log,
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    write_text_atomic(
        out.join("provenance.json"),
        &serde_json::to_string_pretty(&provenance)?,
    )?;
    if !g.quiet {
        println!("bulletin: {}", md_path.display());
        println!("  {}", out.join("bulletin.html").display());
        println!("  {}", json_path.display());
        println!("  {}", nc_path.display());
        for (_, m) in &maps {
            println!("  {}", out.join(m).display());
        }
    }
    Ok(ExitCode::SUCCESS)
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
    match cfg.bias {
        BiasMethod::None => "none (the inputs are used as they are; the tercile edges come from each model's own hindcast climatology or, for PMME, anomalies against it)".to_string(),
        BiasMethod::Scaling => "mean scaling of each model against the observations (multiplicative for precipitation, additive otherwise), per cell, lead and start month, hindcasts leave-one-year-out".to_string(),
        BiasMethod::Eqm => "empirical quantile mapping of each model onto the observations (every training value a quantile), per cell, lead and start month, hindcasts leave-one-year-out".to_string(),
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
