//! The combine job (`s2s combine`): the multi-model ensemble of several models' (bias-corrected)
//! hindcasts and forecasts, streamed lead by lead so that only one lead of every model is in
//! memory at a time (CDO's `ens*` operators stream the same way, record by record).
//!
//! Every lead: each model's hindcast and forecast of that lead are read, the observations
//! aligned to the hindcast's targets, [`crate::ensemble::combine()`] computes the forecast
//! products and the cross-validated hindcast products, and [`MmeFile::put_lead`] writes them
//! into `mme_forecast.<var>.nc` and `mme_hindcast.<var>.nc`, defined at the first lead.

use std::path::{Path, PathBuf};

use super::{align_or_fail, common_years, model_names, RunOptions};
use crate::cube::CubeKind;
use crate::distributed::products::{
    check_bands, decode_products, encode_products, product_rows, report_checks, stack_product_rows,
};
use crate::distributed::{agree, Bands, Ranks};
use crate::ensemble::{
    combine as combine_lead, CombineInput, CombineSpec, Combined, Products, WeightScheme,
};
use crate::error::{Context, Error, Result};
use crate::io::products::{Layout, MmeFile};
use crate::io::{read_leads, read_spatial, read_var, resolve_var, DimMapping, ReadOptions};
use crate::progress::Progress;
use crate::Cube;

/// A combination to run.
#[derive(Debug, Clone)]
pub struct CombinePlan {
    /// Hindcast files, one per model (on one grid, same start dates).
    pub hindcast: Vec<PathBuf>,
    /// Forecast files, one per model in the same order, or none.
    pub forecast: Vec<PathBuf>,
    /// Observations: needed for observed edges, skill weights and PMME.
    pub obs: Option<PathBuf>,
    /// Variable of the model files (`pr`, `tas` by quantity, or a name; `None`: the only one).
    pub variable: Option<String>,
    /// Variable of the observations when it differs.
    pub obs_variable: Option<String>,
    /// Units of the observations when their file has none or wrong ones.
    /// The season each value of a yearly-stamped observation file covers (`--obs-season`).
    pub obs_season: Option<crate::calendar::Season>,
    pub obs_units: Option<String>,
    /// Model names (empty: the hindcast files' names).
    pub models: Vec<String>,
    /// Weights, edges, levels, cross-validation.
    pub spec: CombineSpec,
    /// Only these hindcast years.
    pub years: Option<(i32, i32)>,
    /// Every field in the hindcast file, not only what verification needs.
    pub all_hindcast_fields: bool,
    /// Output folder.
    pub out: PathBuf,
    /// `history` and compression.
    pub options: RunOptions,
}

impl CombinePlan {
    /// Checks the files against the method before any file is read (the method itself is
    /// checked by [`crate::ensemble::combine()`]).
    pub fn check(&self) -> Result<()> {
        let nm = self.hindcast.len();
        if nm == 0 {
            return Err(Error::invalid("--hindcast", "no hindcast file given"));
        }
        if !self.forecast.is_empty() && self.forecast.len() != nm {
            return Err(Error::invalid(
                "--forecast",
                format!(
                    "{} hindcast files but {} forecast files: give one forecast per model, in the same order",
                    nm,
                    self.forecast.len()
                ),
            ));
        }
        if self.spec.needs_observations() && self.obs.is_none() {
            return Err(Error::invalid(
                "--obs",
                "--edges obs and --weights skill, pmme or calibrated need --obs (without observations use --weights model or pooled)",
            ));
        }
        Ok(())
    }
}

/// What [`combine`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CombineReport {
    /// `mme_hindcast.<var>.nc`.
    pub hindcast_file: PathBuf,
    /// `mme_forecast.<var>.nc`, when forecasts were given.
    pub forecast_file: Option<PathBuf>,
    /// Models and leads combined.
    pub models: usize,
    pub leads: usize,
    /// The method in words (the files' `ensemble_method`).
    pub method: String,
    /// Where the time went, seconds summed over the leads: reading the models (on the
    /// read-ahead thread from the second lead on, overlapping the combination), combining,
    /// writing.
    pub read_seconds: f64,
    pub combine_seconds: f64,
    pub write_seconds: f64,
}

/// Reads one lead of a file's variable.
fn read_lead(
    path: &Path,
    var: Option<&str>,
    lead: usize,
    years: Option<(i32, i32)>,
    model: &str,
) -> Result<Cube> {
    let opts = ReadOptions {
        leads: Some(vec![lead]),
        years,
        model: Some(model.to_string()),
        ..Default::default()
    };
    read_var(path, var, opts)
}

/// One lead of every model's hindcast and forecast.
struct ModelLeads {
    hindcasts: Vec<Cube>,
    forecasts: Vec<Cube>,
}

/// The next lead is read ahead while the current one is combined when the memory budget
/// holds this many leads of every model: the one being combined, the one being read, and
/// the combination's own arrays (about one more).
const PREFETCH_BUDGET_SHARES: u64 = 3;

/// The observations of lead `lead` (of `nl`) on the targets of `hindcast`: a series aligned to
/// its target periods, or that lead of observations given per start and lead.
fn lead_observations(
    plan: &CombinePlan,
    obs: Option<&Cube>,
    hindcast: &Cube,
    lead: usize,
    nl: usize,
) -> Result<Option<Cube>> {
    let Some(o) = obs else {
        return Ok(None);
    };
    let obs_path = plan.obs.as_deref().expect("obs read from a path");
    if o.meta.kind == CubeKind::Observed {
        return Ok(Some(align_or_fail(o, obs_path, hindcast)?.0));
    }
    // Observations already on the hindcast's targets (one member per start and lead).
    if o.n_member() == 1 && o.n_lead() == nl && o.init_years() == hindcast.init_years() {
        let mut o = o.select_leads(&[lead])?;
        super::align_grid(&mut o, obs_path, hindcast)?;
        return Ok(Some(o));
    }
    Err(Error::Dimensions {
        path: obs_path.to_path_buf(),
        variable: o.meta.variable.clone(),
        reason: format!(
            "observations with start dates and leads must have one member and the hindcast's start dates and {} leads (found {} starts, {} members, {} leads); give a time series (time, lat, lon) instead",
            nl,
            o.n_init(),
            o.n_member(),
            o.n_lead()
        ),
    })
}

/// Reads lead `lead` of every model's hindcast (over `years`) and forecast; with the seconds it
/// took.
fn read_models_lead(
    plan: &CombinePlan,
    models: &[String],
    var: Option<&str>,
    lead: usize,
    years: Option<(i32, i32)>,
) -> Result<(ModelLeads, f64)> {
    let started = std::time::Instant::now();
    let mut hindcasts = Vec::with_capacity(models.len());
    for (p, name) in plan.hindcast.iter().zip(models) {
        hindcasts.push(read_lead(p, var, lead, years, name)?);
    }
    let mut forecasts = Vec::with_capacity(plan.forecast.len());
    for (p, name) in plan.forecast.iter().zip(models) {
        forecasts.push(read_lead(p, var, lead, None, name)?);
    }
    Ok((
        ModelLeads {
            hindcasts,
            forecasts,
        },
        started.elapsed().as_secs_f64(),
    ))
}

/// Runs the combination of `plan`, lead by lead.
pub fn combine(plan: &CombinePlan, progress: &dyn Progress) -> Result<CombineReport> {
    // the outputs appear together when the run succeeds, not at all when it fails
    crate::outputs::staging::as_one_set(&plan.out, || combine_staged(plan, progress))
}

fn combine_staged(plan: &CombinePlan, progress: &dyn Progress) -> Result<CombineReport> {
    plan.check()?;
    let spec = &plan.spec;
    let nm = plan.hindcast.len();
    let models = model_names(&plan.hindcast, &plan.models)?;
    let mut years = plan.years;
    let var = plan.variable.as_deref();
    // Leads of every model: the same list, read from the coordinates alone.
    let lead_var = var.map(|v| resolve_var(&plan.hindcast[0], v)).transpose()?;
    let leads = read_leads(
        &plan.hindcast[0],
        lead_var.as_deref(),
        &DimMapping::default(),
    )
    .with_context(|| format!("reading the leads of {}", plan.hindcast[0].display()))?;
    let nl = leads.len().max(1);
    let obs = match &plan.obs {
        Some(p) => {
            let opts = ReadOptions {
                years,
                assume_units: plan.obs_units.clone(),
                season: plan.obs_season,
                ..Default::default()
            };
            Some(read_var(p, plan.obs_variable.as_deref().or(var), opts)?)
        }
        None => None,
    };
    super::create_dir(&plan.out)?;
    log::info!(
        "combining {} models ({}) over {nl} leads: weights {:?}, edges {:?}, category levels {:?}, cross-validated {}",
        nm,
        models.join(", "),
        spec.scheme,
        spec.edges,
        spec.category_levels,
        spec.cross_validate
    );
    let mut files: Option<(MmeFile, Option<MmeFile>)> = None;
    let mut names = (PathBuf::new(), None);
    progress.start("combining", nl as u64);
    // While lead l is combined (in the caller's thread pool), a second thread reads lead l+1:
    // reading (one thread, through the libnetcdf lock) and the kernels overlap instead of
    // adding up, for the memory of one more lead of every model — when the budget allows it
    // and there is more than one thread. Writing stays on the calling thread.
    let mut next: Option<(ModelLeads, f64)> = None;
    let (mut read_seconds, mut combine_seconds, mut write_seconds) = (0.0, 0.0, 0.0);
    for l in 0..nl {
        let (
            ModelLeads {
                hindcasts: mut hc,
                forecasts: mut fc,
            },
            seconds,
        ) = match next.take() {
            Some(read) => read,
            None => read_models_lead(plan, &models, var, l, years)?,
        };
        read_seconds += seconds;
        if l == 0 {
            first_lead_checks(plan, &mut hc, &mut years, progress)?;
        }
        align_models(plan, &mut hc, &mut fc)?;
        let lead_bytes: u64 = hc
            .iter()
            .chain(&fc)
            .map(|c| c.values.len() as u64 * 4)
            .sum();
        let prefetch = l + 1 < nl
            && rayon::current_num_threads() > 1
            && PREFETCH_BUDGET_SHARES * lead_bytes <= crate::memory::max_memory();
        let models_ref = &models;
        let (out, read) = std::thread::scope(|scope| {
            let reading = prefetch.then(|| {
                scope.spawn(move || {
                    crate::io::silence_hdf5_errors_in_this_thread();
                    read_models_lead(plan, models_ref, var, l + 1, years)
                })
            });
            let started = std::time::Instant::now();
            let out = combine_models(plan, obs.as_ref(), &hc, &fc, l, nl);
            combine_seconds += started.elapsed().as_secs_f64();
            let read = reading.map(|r| {
                r.join().unwrap_or_else(|_| {
                    Err(Error::invalid("combine", "reading the next lead failed"))
                })
            });
            (out, read)
        });
        let out = out?;
        next = read.transpose()?;
        let writing = std::time::Instant::now();
        if files.is_none() {
            let created = create_outputs(
                plan,
                &models,
                &leads,
                &hc[0].meta,
                &hc[0].coords,
                fc.first().map(|f| &f.coords),
            )?;
            names = (created.2.clone(), created.3.clone());
            files = Some((created.0, created.1));
        }
        let (hfile, ffile) = files.as_mut().expect("created");
        hfile.put_lead(l, &out.hindcast)?;
        if let (Some(f), Some(p)) = (ffile.as_mut(), out.forecast.as_ref()) {
            f.put_lead(l, p)?;
        }
        write_seconds += writing.elapsed().as_secs_f64();
        progress.advance(1);
    }
    progress.finish();
    let (hfile, ffile) = files.ok_or_else(|| Error::invalid("leads", "no lead to combine"))?;
    let writing = std::time::Instant::now();
    hfile.w.finish()?;
    if let Some(f) = ffile {
        f.w.finish()?;
    }
    write_seconds += writing.elapsed().as_secs_f64();
    Ok(CombineReport {
        hindcast_file: names.0,
        forecast_file: names.1,
        models: nm,
        leads: nl,
        method: spec.describe(),
        read_seconds,
        combine_seconds,
        write_seconds,
    })
}

/// The checks of the first lead read (enough hindcast years, members counted as the scheme
/// needs), and the models' common hindcast years when their periods differ (`years` then
/// reads only those from the next lead on).
fn first_lead_checks(
    plan: &CombinePlan,
    hc: &mut Vec<Cube>,
    years: &mut Option<(i32, i32)>,
    progress: &dyn Progress,
) -> Result<()> {
    super::policy::check_hindcast_years(hc)?;
    super::policy::check_counted_members(plan.spec.scheme, hc, progress)?;
    // Models with different hindcast periods are compared on their common years.
    if let Some((first, last)) = common_years(hc)? {
        progress.note(&format!(
            "hindcast periods differ; using the common years {first}-{last}"
        ));
        *years = Some((first, last));
    }
    Ok(())
}

/// Every model on the first one's grid (or the same points in another longitude convention,
/// rotated): cells are never paired by position alone.
fn align_models(plan: &CombinePlan, hc: &mut [Cube], fc: &mut [Cube]) -> Result<()> {
    let (first, rest) = hc.split_first_mut().expect("at least one model");
    for (c, p) in rest.iter_mut().zip(&plan.hindcast[1..]) {
        super::align_grid(c, p, first)?;
    }
    for (c, p) in fc.iter_mut().zip(&plan.forecast) {
        super::align_grid(c, p, first)?;
    }
    Ok(())
}

/// The combination of lead `l` (of `nl`) of the models' hindcasts `hc` and forecasts `fc`,
/// aligned on one grid, with the observations of its targets.
fn combine_models(
    plan: &CombinePlan,
    obs: Option<&Cube>,
    hc: &[Cube],
    fc: &[Cube],
    l: usize,
    nl: usize,
) -> Result<Combined> {
    let aligned = lead_observations(plan, obs, &hc[0], l, nl)?;
    let hrefs: Vec<&Cube> = hc.iter().collect();
    let frefs: Vec<&Cube> = fc.iter().collect();
    let input = CombineInput {
        hindcasts: &hrefs,
        forecasts: (!frefs.is_empty()).then_some(frefs.as_slice()),
        obs: aligned.as_ref(),
    };
    combine_lead(&input, &plan.spec)
}

/// The hindcast and forecast files and their paths.
type Outputs = (MmeFile, Option<MmeFile>, PathBuf, Option<PathBuf>);

/// `mme_hindcast.<var>.nc` (and `mme_forecast.<var>.nc` when forecasts were given: their
/// coordinates `forecast`), defined from the first model's first lead (`meta`, `coords`).
fn create_outputs(
    plan: &CombinePlan,
    models: &[String],
    leads: &[crate::cube::Lead],
    meta: &crate::cube::Meta,
    coords: &crate::cube::Coords,
    forecast: Option<&crate::cube::Coords>,
) -> Result<Outputs> {
    let spec = &plan.spec;
    let sources = if spec.model_edges() {
        models.to_vec()
    } else {
        vec!["observed".to_string()]
    };
    let variable = plan.variable.clone().unwrap_or(meta.variable.clone());
    let layout = Layout {
        spec,
        models,
        leads,
        sources,
        units: meta.units.clone(),
        variable: variable.clone(),
        quantity: meta.quantity,
        calendar: meta.calendar,
    };
    let wopts = plan.options.write_options();
    let hpath = plan.out.join(format!("mme_hindcast.{variable}.nc"));
    let hfile = MmeFile::create(
        &hpath,
        &wopts,
        &layout,
        coords,
        "hindcast (cross-validated)",
        plan.all_hindcast_fields,
    )?;
    let (ffile, fpath) = match forecast {
        Some(f) => {
            let fpath = plan.out.join(format!("mme_forecast.{variable}.nc"));
            let file = MmeFile::create(&fpath, &wopts, &layout, f, "forecast", true)?;
            (Some(file), Some(fpath))
        }
        None => (None, None),
    };
    Ok((hfile, ffile, hpath, fpath))
}

/// [`combine`] over the processes of a distributed run (`mpirun -n N s2s combine`): each rank
/// reads and combines a band of latitude rows ([`crate::distributed`]), rank 0 gathers every
/// lead's products and writes the files as one process does — byte-identical to
/// [`combine`]'s. With one rank it is [`combine`]. The report is rank 0's (`None` on the
/// others).
pub fn combine_on(
    plan: &CombinePlan,
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<CombineReport>> {
    if ranks.size() == 1 {
        return combine(plan, progress).map(Some);
    }
    // Rank 0 alone writes: its outputs are the staged set, committed after the last
    // agreement (every rank has then finished).
    super::bands::staged_on_root(ranks, &plan.out, || combine_bands(plan, progress, ranks))
}

/// What rank 0 defines the files from: the first model's metadata and the coordinates of its
/// first lead (and of the first forecast's).
struct FirstLead {
    meta: crate::cube::Meta,
    coords: crate::cube::Coords,
    forecast: Option<crate::cube::Coords>,
}

/// An input of a distributed combination: its path, its model, whether the run's years apply
/// (hindcasts) or not (forecasts).
type Input<'a> = (&'a Path, &'a String, bool);

/// Lead `lead` of the start dates `steps` (`(first, count)` of those in the run's `years`) of
/// an input, whole maps, its whole-field checks left to the caller.
fn read_block(
    (path, name, in_years): Input,
    var: Option<&str>,
    lead: usize,
    years: Option<(i32, i32)>,
    steps: (usize, usize),
) -> Result<Cube> {
    read_var(
        path,
        var,
        ReadOptions {
            leads: Some(vec![lead]),
            years: if in_years { years } else { None },
            model: Some(name.clone()),
            time_steps: Some(steps),
            checks_by_caller: true,
            ..Default::default()
        },
    )
}

/// The start dates of each input in the run's years.
fn start_counts(
    inputs: &[Input],
    var: Option<&str>,
    years: Option<(i32, i32)>,
) -> Result<Vec<usize>> {
    inputs
        .iter()
        .map(|&(path, name, in_years)| {
            let opts = ReadOptions {
                years: if in_years { years } else { None },
                model: Some(name.clone()),
                ..Default::default()
            };
            super::bands::start_count(path, var, opts)
        })
        .collect()
}

/// A rank's combination of its band of one lead, with what the files are defined from.
type BandLead = (Combined, FirstLead);

/// What every rank knows before reading: the models, the leads and the bands.
struct BandSetup {
    models: Vec<String>,
    leads: Vec<crate::cube::Lead>,
    bands: Bands,
}

fn band_setup(plan: &CombinePlan, n: usize) -> Result<BandSetup> {
    plan.check()?;
    let models = model_names(&plan.hindcast, &plan.models)?;
    let var = plan.variable.as_deref();
    let lead_var = var.map(|v| resolve_var(&plan.hindcast[0], v)).transpose()?;
    let dims = DimMapping::default();
    let leads = read_leads(&plan.hindcast[0], lead_var.as_deref(), &dims)
        .with_context(|| format!("reading the leads of {}", plan.hindcast[0].display()))?;
    // Principal-component regression needs every cell of the field at once.
    let bands = if plan.spec.scheme == WeightScheme::Pcr {
        Bands::whole_on_root(
            read_spatial(&plan.hindcast[0], lead_var.as_deref(), &dims)?,
            n,
        )
    } else {
        let sample = ReadOptions {
            years: plan.years,
            model: Some(models[0].clone()),
            ..Default::default()
        };
        super::bands::grid_bands(&plan.hindcast[0], var, sample, n)?
    };
    Ok(BandSetup {
        models,
        leads,
        bands,
    })
}

fn combine_bands(
    plan: &CombinePlan,
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<CombineReport>> {
    let root = ranks.is_root();
    let spec = &plan.spec;
    let var = plan.variable.as_deref();
    let variable = plan
        .variable
        .clone()
        .unwrap_or_else(|| "the variable".into());
    let (setup, _) = agree(
        ranks,
        band_setup(plan, ranks.size()).map(|s| (s, Vec::new())),
    )?;
    let BandSetup {
        models,
        leads,
        bands,
    } = setup;
    let nl = leads.len().max(1);
    let rank = ranks.rank();
    let mine = bands.mine(rank);
    let halo = match spec.scheme {
        WeightScheme::Skill { radius_cells, .. } => radius_cells,
        _ => 0,
    };
    let lat_band = bands.lat_band(rank, halo);
    let mut years = plan.years;

    // The observations of this band.
    let obs_read = (|| -> Result<(Option<Cube>, Vec<u8>)> {
        let (Some(p), false) = (&plan.obs, mine.is_empty()) else {
            return Ok((None, Vec::new()));
        };
        let opts = ReadOptions {
            years,
            assume_units: plan.obs_units.clone(),
            season: plan.obs_season,
            lat_band,
            ..Default::default()
        };
        let o = read_var(p, plan.obs_variable.as_deref().or(var), opts)?;
        let mut report = Vec::new();
        if lat_band.is_some() {
            report_checks(&[&o], false, &mut report);
        }
        Ok((Some(o), report))
    })();
    let (obs, reports) = agree(ranks, obs_read)?;
    if let Some(p) = &plan.obs {
        check_bands(&reports, &[p.as_path()], &variable)?;
    }

    if root {
        progress.start("combining", nl as u64);
    }
    let mut files: Option<Outputs> = None;
    let mut pending: Result<()> = Ok(());
    let (mut read_seconds, mut combine_seconds, mut write_seconds) = (0.0, 0.0, 0.0);
    // Every model file, hindcasts first: path, model name, whether its years are the run's.
    let inputs: Vec<Input> = plan
        .hindcast
        .iter()
        .zip(&models)
        .map(|(p, m)| (p.as_path(), m, true))
        .chain(
            plan.forecast
                .iter()
                .zip(&models)
                .map(|(p, m)| (p.as_path(), m, false)),
        )
        .collect();
    let paths: Vec<&Path> = inputs.iter().map(|i| i.0).collect();
    // Start dates of each file in the run's years: the blocks the ranks read.
    let mut counts: Option<Vec<usize>> = None;
    for l in 0..nl {
        // Files are stored in whole maps (a chunk spans the latitudes): each rank reads whole
        // maps of its block of start dates, the same bytes once, and sends every rank the rows
        // of its band; reading a band of every map would inflate every chunk once per rank.
        let counted = (|| -> Result<((), Vec<u8>)> {
            std::mem::replace(&mut pending, Ok(()))?;
            if bands.decomposed && counts.is_none() {
                counts = Some(start_counts(&inputs, var, years)?);
            }
            Ok(((), Vec::new()))
        })();
        agree(ranks, counted)?;
        // One input at a time: a rank holds one input's outgoing and incoming pieces beside
        // the bands already received.
        let mut band_inputs: Vec<Result<Cube>> = Vec::with_capacity(inputs.len());
        let block_counts = counts
            .clone()
            .filter(|_| bands.decomposed)
            .unwrap_or_default();
        for (i, (&input, &total)) in inputs.iter().zip(&block_counts).enumerate() {
            let started = std::time::Instant::now();
            let read = |steps| read_block(input, var, l, years, steps);
            let band = super::bands::exchange_rows(
                ranks,
                &bands,
                halo,
                total,
                read,
                (paths[i], &variable),
            )?;
            // a failure to decode is agreed with the combination's outcome below
            band_inputs.extend(band);
            read_seconds += started.elapsed().as_secs_f64();
        }
        let step = (|| -> Result<(Option<BandLead>, Vec<u8>)> {
            if mine.is_empty() {
                return Ok((None, Vec::new()));
            }
            let (mut hc, mut fc) = if bands.decomposed {
                let mut cubes = std::mem::take(&mut band_inputs)
                    .into_iter()
                    .collect::<Result<Vec<_>>>()?;
                let fc = cubes.split_off(plan.hindcast.len());
                (cubes, fc)
            } else {
                let (leads, seconds) = read_models_lead(plan, &models, var, l, years)?;
                read_seconds += seconds;
                (leads.hindcasts, leads.forecasts)
            };
            let mut report = Vec::new();
            if l == 0 {
                let before = years;
                first_lead_checks(plan, &mut hc, &mut years, progress)?;
                // the common years: every rank reads them from the next lead on
                if let (Some((first, last)), true) = (years, years != before) {
                    report.extend_from_slice(&first.to_le_bytes());
                    report.extend_from_slice(&last.to_le_bytes());
                }
            }
            align_models(plan, &mut hc, &mut fc)?;
            let started = std::time::Instant::now();
            let out = combine_models(plan, obs.as_ref(), &hc, &fc, l, nl)?;
            combine_seconds += started.elapsed().as_secs_f64();
            // the first model's metadata and coordinates, for the files
            let first = FirstLead {
                meta: hc[0].meta.clone(),
                coords: hc[0].coords.clone(),
                forecast: fc.first().map(|f| f.coords.clone()),
            };
            Ok((Some((out, first)), report))
        })();
        let (mine_out, reports) = agree(ranks, step)?;
        // Hindcast periods that differ: rank 0's common years (every rank with a band found
        // the same) for the next leads, whose blocks are counted again.
        if let Some(r) = reports.first().filter(|r| r.len() == 8) {
            let year = |b: &[u8]| i32::from_le_bytes(b.try_into().expect("4 bytes"));
            years = Some((year(&r[..4]), year(&r[4..])));
            counts = None;
        }

        // This rank's own rows (without the halo) to rank 0.
        let mut bytes = Vec::new();
        if let Some((out, _)) = &mine_out {
            let own = bands.own_in_read(rank, halo);
            let crop = |p: &Products| {
                if bands.decomposed {
                    product_rows(p, own.clone())
                } else {
                    p.clone()
                }
            };
            encode_products(&crop(&out.hindcast), &mut bytes);
            if let Some(f) = &out.forecast {
                encode_products(&crop(f), &mut bytes);
            }
        }
        let writing = std::time::Instant::now();
        let parts = ranks.gather_bytes_to_root(&bytes);
        if !root {
            continue;
        }
        pending = (|| -> Result<()> {
            let has_forecast = !plan.forecast.is_empty();
            let (mut hind, mut fore) = (Vec::new(), Vec::new());
            for part in parts.iter().filter(|p| !p.is_empty()) {
                let mut at = 0;
                hind.push(decode_products(part, &mut at)?);
                if has_forecast {
                    fore.push(decode_products(part, &mut at)?);
                }
            }
            let hindcast = stack_product_rows(&hind)?;
            let forecast = has_forecast
                .then(|| stack_product_rows(&fore))
                .transpose()?;
            if files.is_none() {
                let (_, first) = mine_out.as_ref().expect("rank 0 reads a band");
                let whole = |c: &crate::cube::Coords| crate::cube::Coords {
                    spatial: bands.grid.clone(),
                    ..c.clone()
                };
                super::create_dir(&plan.out)?;
                files = Some(create_outputs(
                    plan,
                    &models,
                    &leads,
                    &first.meta,
                    &whole(&first.coords),
                    first.forecast.as_ref().map(whole).as_ref(),
                )?);
            }
            let (hfile, ffile, _, _) = files.as_mut().expect("created");
            hfile.put_lead(l, &hindcast)?;
            if let (Some(f), Some(p)) = (ffile.as_mut(), forecast.as_ref()) {
                f.put_lead(l, p)?;
            }
            Ok(())
        })();
        write_seconds += writing.elapsed().as_secs_f64();
        progress.advance(1);
    }
    if root {
        progress.finish();
    }
    // Rank 0 closes the files; every rank learns whether it could.
    let finished = (|| -> Result<Option<(PathBuf, Option<PathBuf>)>> {
        std::mem::replace(&mut pending, Ok(()))?;
        let Some((hfile, ffile, hpath, fpath)) = files.take() else {
            return Ok(None);
        };
        let writing = std::time::Instant::now();
        hfile.w.finish()?;
        if let Some(f) = ffile {
            f.w.finish()?;
        }
        write_seconds += writing.elapsed().as_secs_f64();
        Ok(Some((hpath, fpath)))
    })();
    let (names, _) = agree(ranks, finished.map(|n| (n, Vec::new())))?;
    Ok(names.map(|(hindcast_file, forecast_file)| CombineReport {
        hindcast_file,
        forecast_file,
        models: plan.hindcast.len(),
        leads: nl,
        method: spec.describe(),
        read_seconds,
        combine_seconds,
        write_seconds,
    }))
}

/// Levels such as `0.1,0.9`, or `none` for no level; `what` names the option in the error.
pub fn parse_levels(text: &str, what: &str) -> Result<Vec<f64>> {
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::invalid(
                format!("{what} '{text}'"),
                "expected levels such as 0.1,0.9 or none",
            )
        })
}

/// Cross-validation of the hindcast by name: `loyo` (leave one year out) or `none`.
pub fn parse_cross_validation(text: &str) -> Result<bool> {
    match text {
        "loyo" => Ok(true),
        "none" => Ok(false),
        other => Err(Error::invalid(
            format!("--cv '{other}'"),
            "use loyo or none",
        )),
    }
}
