//! `s2s combine`: the multi-model ensemble of several models' (bias-corrected) hindcasts and
//! forecasts, lead by lead so that only one lead of every model is in memory at a time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use s2s_ensemble::cube::{Coords, CubeKind, Lead};
use s2s_ensemble::ensemble::combine::DOMINANT_FILL;
use s2s_ensemble::ensemble::{
    category_level_bounds, combine, CombineInput, CombineSpec, EdgeSource, Products, SkillScore,
    WeightScheme,
};
use s2s_ensemble::io::write::{write_spatial, write_time_coords};
use s2s_ensemble::io::{read_leads, CfWriter, DimMapping, ReadOptions, WriteOptions};
use s2s_ensemble::progress::Progress;
use s2s_ensemble::units::Quantity;
use s2s_ensemble::Cube;

use super::{
    align_or_fail, common_years, model_names, parse_years, peak_rss_mib, read_var, Globals,
    VariableArgs,
};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum WeightsArg {
    /// Every member counts the same.
    Pooled,
    /// Every model counts the same (1/M), whatever its member count.
    Model,
    /// Cross-validated skill of each model around each cell (see --skill-score).
    Skill,
    /// APCC PMME: Gaussian around the MME mean with the hindcast error spread.
    Pmme,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum EdgesArg {
    /// Each model's own hindcast climatology (the C3S way).
    Model,
    /// The observed climatology.
    Obs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum ScoreArg {
    /// Ranked probability skill score of the model's terciles.
    Rpss,
    /// Anomaly correlation of the model's ensemble mean.
    Acc,
}

#[derive(Debug, Args)]
pub struct CombineArgs {
    /// Hindcast files, one per model, comma-separated (on one grid, same start dates).
    #[arg(long, value_name = "FILES", value_delimiter = ',', required = true)]
    hindcast: Vec<PathBuf>,
    /// Forecast files, one per model in the same order.
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    forecast: Vec<PathBuf>,
    /// Observations on the same grid: needed for --edges obs, --weights skill and pmme.
    #[arg(long, value_name = "FILE")]
    obs: Option<PathBuf>,
    #[command(flatten)]
    input: VariableArgs,
    /// Weighting of the models.
    #[arg(long, value_enum, default_value = "model")]
    weights: WeightsArg,
    /// Skill score behind --weights skill.
    #[arg(long, value_enum, default_value = "rpss")]
    skill_score: ScoreArg,
    /// Skill pooled over (2N+1)x(2N+1) cells around each cell.
    #[arg(long, value_name = "N", default_value_t = 1)]
    skill_radius: usize,
    /// Source of the category edges.
    #[arg(long, value_enum, default_value = "model")]
    edges: EdgesArg,
    /// Category levels (quantiles), comma-separated; default terciles.
    #[arg(long, value_name = "LEVELS", value_delimiter = ',')]
    levels: Vec<f64>,
    /// Extreme levels, comma-separated, or `none`.
    #[arg(long, value_name = "LEVELS", default_value = "0.1,0.9")]
    extremes: String,
    /// Ensemble percentiles in percent, comma-separated.
    #[arg(
        long,
        value_name = "P",
        value_delimiter = ',',
        default_value = "10,50,90"
    )]
    percentiles: Vec<f64>,
    /// Probability from which the most likely category is dominant.
    #[arg(long, value_name = "P", default_value_t = 0.4)]
    dominant: f64,
    /// Cross-validation of the hindcast: `loyo` (leave one year out) or `none`.
    #[arg(long, default_value = "loyo", value_name = "CV")]
    cv: String,
    /// Only these hindcast years, `FIRST-LAST`.
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
    /// Fields of the cross-validated hindcast file: what verification needs (probabilities,
    /// mean, anomalies, spread, weights) or all of the forecast's.
    #[arg(long, value_enum, default_value = "verification")]
    hindcast_fields: HindcastFields,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum HindcastFields {
    /// Probabilities, mean, anomalies, spread and weights.
    Verification,
    /// Every field, including edges, percentiles and categories of every year.
    All,
}

impl CombineArgs {
    fn spec(&self) -> anyhow::Result<CombineSpec> {
        let scheme = match self.weights {
            WeightsArg::Pooled => WeightScheme::Pooled,
            WeightsArg::Model => WeightScheme::ModelEqual,
            WeightsArg::Pmme => WeightScheme::Pmme,
            WeightsArg::Skill => WeightScheme::Skill {
                score: match self.skill_score {
                    ScoreArg::Rpss => SkillScore::Rpss,
                    ScoreArg::Acc => SkillScore::Acc,
                },
                radius_cells: self.skill_radius,
            },
        };
        let extreme_levels = if self.extremes.trim() == "none" {
            Vec::new()
        } else {
            self.extremes
                .split(',')
                .map(|t| t.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .with_context(|| {
                    format!(
                        "--extremes '{}': expected levels such as 0.1,0.9 or none",
                        self.extremes
                    )
                })?
        };
        let cross_validate = match self.cv.as_str() {
            "loyo" => true,
            "none" => false,
            other => bail!("--cv '{other}': use loyo or none"),
        };
        let mut spec = CombineSpec {
            scheme,
            edges: match self.edges {
                EdgesArg::Model => EdgeSource::Model,
                EdgesArg::Obs => EdgeSource::Observed,
            },
            extreme_levels,
            percentile_levels: self.percentiles.iter().map(|p| p / 100.0).collect(),
            dominant_threshold: self.dominant,
            cross_validate,
            full_hindcast: self.hindcast_fields == HindcastFields::All,
            ..CombineSpec::default()
        };
        if !self.levels.is_empty() {
            spec.category_levels = self.levels.clone();
        }
        Ok(spec)
    }
}

/// Reads one lead of a file's variable.
fn read_lead(
    path: &Path,
    var: Option<&str>,
    lead: usize,
    years: Option<(i32, i32)>,
    model: &str,
) -> anyhow::Result<Cube> {
    let opts = ReadOptions {
        leads: Some(vec![lead]),
        years,
        model: Some(model.to_string()),
        ..Default::default()
    };
    read_var(path, var, opts)
}

/// Category labels and their quantile-level bounds.
fn category_labels(levels: &[f64], terciles: bool) -> (Vec<String>, Vec<f64>) {
    let pct = |p: f64| format!("p{}", (p * 100.0 * 100.0).round() / 100.0);
    let mut labels = Vec::new();
    let mut bounds = Vec::new();
    for (c, (lo, hi)) in category_level_bounds(levels).into_iter().enumerate() {
        bounds.extend([lo, hi]);
        labels.push(if terciles {
            ["below_normal", "near_normal", "above_normal"][c].to_string()
        } else if c == 0 {
            format!("below_{}", pct(hi))
        } else if c == levels.len() {
            format!("above_{}", pct(lo))
        } else {
            format!("between_{}_{}", pct(lo), pct(hi))
        });
    }
    (labels, bounds)
}

/// One output file (hindcast or forecast products), defined at the first lead and filled lead
/// by lead.
pub(crate) struct MmeFile {
    pub(crate) w: CfWriter,
    spatial_dims: Vec<&'static str>,
    nt: usize,
    ny: usize,
    nx: usize,
    nl: usize,
    precipitation: bool,
    /// Every field, or only [`VERIFICATION_SET`].
    full: bool,
    /// Length in days of the target period of each `(start, lead)`, for period totals of
    /// precipitation (a rate in mm/day inside the engine).
    period_days: ndarray::Array2<f64>,
}

/// What the output files share.
pub(crate) struct Layout<'a> {
    pub(crate) spec: &'a CombineSpec,
    pub(crate) models: &'a [String],
    pub(crate) leads: &'a [Lead],
    pub(crate) sources: Vec<String>,
    pub(crate) units: String,
    pub(crate) variable: String,
    pub(crate) quantity: Quantity,
    pub(crate) calendar: s2s_ensemble::calendar::Calendar,
}

impl MmeFile {
    pub(crate) fn create(
        path: &Path,
        opts: &WriteOptions,
        layout: &Layout,
        first: &Cube,
        kind: &str,
        full: bool,
    ) -> anyhow::Result<MmeFile> {
        let spec = layout.spec;
        let mut w = CfWriter::create(path, opts)?;
        w.global_text(
            "title",
            &format!(
                "Multi-model ensemble {kind}: {} of {}",
                layout.variable,
                layout.models.join(", ")
            ),
        )?;
        w.global_text("ensemble_method", &spec.describe())?;
        w.global_text("models", &layout.models.join(" "))?;
        w.global_text("product", kind)?;
        let coords = Coords {
            init: first.coords.init.clone(),
            member: Vec::new(),
            lead: layout.leads.to_vec(),
            spatial: first.coords.spatial.clone(),
        };
        let time_dims = write_time_coords(&mut w, &coords, layout.calendar, CubeKind::Forecast)?;
        debug_assert_eq!(time_dims, ["init", "lead"]);
        let spatial_dims = write_spatial(&mut w, &first.coords.spatial)?;
        let terciles = spec.category_levels.len() == 2
            && (spec.category_levels[0] - 1.0 / 3.0).abs() < 1e-3
            && (spec.category_levels[1] - 2.0 / 3.0).abs() < 1e-3;
        let (labels, bounds) = category_labels(&spec.category_levels, terciles);
        w.dimension("category", labels.len())?;
        w.string_var(
            "category",
            "category",
            &labels,
            &[("long_name", "forecast category, from the lowest")],
        )?;
        w.f64_var(
            "category_level_bounds",
            &["category", "bnds"],
            &bounds,
            &[(
                "long_name",
                "climatological quantile levels bounding each category",
            )],
        )?;
        let has_extremes = !spec.extreme_levels.is_empty();
        if has_extremes {
            let (xl, xb) = category_labels(&spec.extreme_levels, false);
            w.dimension("extreme_category", xl.len())?;
            w.string_var(
                "extreme_category",
                "extreme_category",
                &xl,
                &[("long_name", "extreme category, from the lowest")],
            )?;
            w.f64_var(
                "extreme_category_level_bounds",
                &["extreme_category", "bnds"],
                &xb,
                &[(
                    "long_name",
                    "climatological quantile levels bounding each extreme category",
                )],
            )?;
        }
        w.dimension("percentile", spec.percentile_levels.len())?;
        let pcts: Vec<f64> = spec.percentile_levels.iter().map(|p| p * 100.0).collect();
        w.f64_var(
            "percentile",
            &["percentile"],
            &pcts,
            &[("units", "percent"), ("long_name", "ensemble percentile")],
        )?;
        w.dimension("model", layout.models.len())?;
        w.string_var(
            "model",
            "model",
            layout.models,
            &[("long_name", "contributing model")],
        )?;
        w.dimension("edge_source", layout.sources.len())?;
        w.string_var(
            "edge_source",
            "edge_source",
            &layout.sources,
            &[("long_name", "climatology the category edges are taken from")],
        )?;
        w.dimension("edge", spec.category_levels.len())?;
        w.f64_var(
            "edge_level",
            &["edge"],
            &spec.category_levels,
            &[("long_name", "quantile level of the category edge")],
        )?;
        if has_extremes {
            w.dimension("extreme_edge", spec.extreme_levels.len())?;
            w.f64_var(
                "extreme_edge_level",
                &["extreme_edge"],
                &spec.extreme_levels,
                &[("long_name", "quantile level of the extreme edge")],
            )?;
        }
        let (ny, nx) = first.coords.spatial.shape();
        let nt = first.n_init();
        let nl = layout.leads.len();
        let dims = |extra: &[&'static str]| -> Vec<&'static str> {
            let mut d = vec!["init"];
            d.extend_from_slice(extra);
            d.push("lead");
            d.extend(spatial_dims.iter().copied());
            d
        };
        let coordinates = if matches!(
            first.coords.spatial,
            s2s_ensemble::cube::Spatial::Curvilinear { .. }
                | s2s_ensemble::cube::Spatial::Points { .. }
        ) && !first.coords.spatial.is_index()
        {
            "valid_time lat lon"
        } else {
            "valid_time"
        };
        let units = layout.units.as_str();
        let mut vars: Vec<(&str, Vec<&'static str>, &str, String)> = vec![
            (
                "probability",
                dims(&["category"]),
                "1",
                format!("probability of each {} category", layout.variable),
            ),
            (
                "ensemble_mean",
                dims(&[]),
                units,
                "multi-model ensemble mean".into(),
            ),
            (
                "normal",
                dims(&[]),
                units,
                "multi-model hindcast climatology (normal)".into(),
            ),
            (
                "anomaly",
                dims(&[]),
                units,
                "ensemble mean anomaly against the models' hindcast climatologies".into(),
            ),
            (
                "standardized_anomaly",
                dims(&[]),
                "1",
                "weighted mean of each model's anomaly over its climatological standard deviation"
                    .into(),
            ),
            (
                "spread",
                dims(&[]),
                units,
                "ensemble spread (weighted standard deviation of the members)".into(),
            ),
            (
                "signal_to_noise",
                dims(&[]),
                "1",
                "absolute anomaly over spread".into(),
            ),
            (
                "ensemble_percentile",
                dims(&["percentile"]),
                units,
                "weighted ensemble percentiles".into(),
            ),
            (
                "most_likely_probability",
                dims(&[]),
                "1",
                "probability of the most likely category".into(),
            ),
            (
                "model_weight",
                dims(&["model"]),
                "1",
                "weight of each model in the combination".into(),
            ),
        ];
        if has_extremes {
            vars.push((
                "extreme_probability",
                dims(&["extreme_category"]),
                "1",
                "probability of each extreme category".into(),
            ));
        }
        let precipitation = layout.quantity == Quantity::Precipitation;
        if precipitation {
            vars.push((
                "percent_of_normal",
                dims(&[]),
                "percent",
                "ensemble mean as percent of the hindcast normal".into(),
            ));
            vars.push((
                "period_total",
                dims(&[]),
                "mm",
                "ensemble-mean precipitation total over the target period (mean rate × days)"
                    .into(),
            ));
            vars.push((
                "period_total_anomaly",
                dims(&[]),
                "mm",
                "ensemble-mean precipitation total anomaly over the target period".into(),
            ));
        }
        let wants = |name: &str| full || VERIFICATION_SET.contains(&name);
        for (name, d, u, long) in vars.iter().filter(|v| wants(v.0)) {
            let shape = shape_of(d, nt, nl, ny, nx, layout, spec);
            w.def_f32(
                name,
                d,
                &shape,
                &[
                    ("units", u),
                    ("long_name", long),
                    ("coordinates", coordinates),
                ],
                &[],
            )?;
        }
        let cat_flags = "below_normal near_normal above_normal";
        let flag_meanings: String = if terciles {
            cat_flags.to_string()
        } else {
            labels.join(" ")
        };
        for (name, long, meanings, with_none) in [
            (
                "most_likely_category",
                "index of the most likely category",
                flag_meanings.clone(),
                false,
            ),
            (
                "dominant_category",
                "most likely category where its probability reaches the dominance threshold, -1 (none) elsewhere",
                format!("none {flag_meanings}"),
                true,
            ),
        ] {
            if !wants(name) {
                continue;
            }
            let d = dims(&[]);
            let shape = shape_of(&d, nt, nl, ny, nx, layout, spec);
            let fill = if with_none { DOMINANT_FILL } else { -1 };
            w.def_i8(
                name,
                &d,
                &shape,
                fill,
                &[
                    ("long_name", long),
                    ("flag_meanings", &meanings),
                    ("coordinates", coordinates),
                ],
            )?;
            let first_flag = if with_none { -1 } else { 0 };
            let flags: Vec<i8> = (first_flag..=spec.category_levels.len() as i8).collect();
            w.var_attr(name, "flag_values", flags)?;
        }
        if wants("dominant_category") {
            w.var_attr("dominant_category", "threshold", spec.dominant_threshold)?;
        }
        for (name, d, long) in [
            (
                "category_edge",
                edge_dims(&spatial_dims, "edge"),
                "category edges (climatological quantiles)",
            ),
            (
                "extreme_edge",
                edge_dims(&spatial_dims, "extreme_edge"),
                "extreme edges (climatological quantiles)",
            ),
        ] {
            if (name == "extreme_edge" && !has_extremes) || !wants(name) {
                continue;
            }
            let shape = shape_of(&d, nt, nl, ny, nx, layout, spec);
            w.def_f32(
                name,
                &d,
                &shape,
                &[("units", units), ("long_name", long)],
                &[],
            )?;
        }
        let mut period_days = ndarray::Array2::<f64>::from_elem((nt, nl), f64::NAN);
        for ((t, l), d) in period_days.indexed_iter_mut() {
            let lead = layout.leads[l];
            if let Some(init) = coords.init.get(t) {
                let (a, b) = lead.period(init, layout.calendar)?;
                *d = a.seconds_until(&b, layout.calendar)? / 86_400.0;
            }
        }
        Ok(MmeFile {
            w,
            spatial_dims,
            nt,
            ny,
            nx,
            nl,
            precipitation,
            full,
            period_days,
        })
    }

    /// Writes the products of lead `l` (arrays with one lead).
    pub(crate) fn put_lead(&mut self, l: usize, p: &Products) -> anyhow::Result<()> {
        let sp = spatial_count(self.spatial_dims.len(), self.ny, self.nx);
        let nt = self.nt;
        let full = self.full;
        let put5 = |w: &mut CfWriter, name: &str, a: &ndarray::Array5<f32>, keep_k: bool| {
            if !full && !VERIFICATION_SET.contains(&name) {
                return Ok(());
            }
            let k = a.dim().1;
            let mut start = vec![0, 0];
            let mut count = vec![nt, 1];
            if keep_k {
                start.insert(1, 0);
                count.insert(1, k);
            }
            start.resize(start.len() + sp.len(), 0);
            count.extend_from_slice(&sp);
            start[if keep_k { 2 } else { 1 }] = l;
            let v = a.as_standard_layout();
            w.put_f32(name, &start, &count, v.as_slice().expect("standard layout"))
        };
        let w = &mut self.w;
        put5(w, "probability", &p.probability, true)?;
        if p.extreme_probability.dim().1 > 0 {
            put5(w, "extreme_probability", &p.extreme_probability, true)?;
        }
        put5(w, "ensemble_mean", &p.mean, false)?;
        put5(w, "normal", &p.normal, false)?;
        put5(w, "anomaly", &p.anomaly, false)?;
        put5(w, "standardized_anomaly", &p.standardized_anomaly, false)?;
        put5(w, "spread", &p.spread, false)?;
        put5(w, "signal_to_noise", &p.signal_to_noise, false)?;
        put5(w, "ensemble_percentile", &p.percentiles, true)?;
        put5(
            w,
            "most_likely_probability",
            &p.most_likely_probability,
            false,
        )?;
        put5(w, "model_weight", &p.weights, true)?;
        if self.precipitation && full {
            put5(w, "percent_of_normal", &p.percent_of_normal, false)?;
            // Totals: the mean rate (mm/day) times the days of each start's target period.
            for (name, rate) in [
                ("period_total", &p.mean),
                ("period_total_anomaly", &p.anomaly),
            ] {
                let mut total = rate.clone();
                for (t, mut per_start) in total.axis_iter_mut(ndarray::Axis(0)).enumerate() {
                    let days = self.period_days[[t, l]] as f32;
                    per_start.mapv_inplace(|v| v * days);
                }
                put5(w, name, &total, false)?;
            }
        }
        if !full {
            return Ok(());
        }
        let mut start = vec![0, l];
        start.resize(start.len() + sp.len(), 0);
        let mut count = vec![nt, 1];
        count.extend_from_slice(&sp);
        for (name, a) in [
            ("most_likely_category", &p.most_likely_category),
            ("dominant_category", &p.dominant_category),
        ] {
            let v = a.as_standard_layout();
            w.put_i8(name, &start, &count, v.as_slice().expect("standard layout"))?;
        }
        for (name, a) in [
            ("category_edge", &p.edges),
            ("extreme_edge", &p.extreme_edges),
        ] {
            let (_, nsrc, ne, _, _, _) = a.dim();
            if ne == 0 {
                continue;
            }
            let mut start = vec![0, 0, 0, l];
            start.resize(start.len() + sp.len(), 0);
            let mut count = vec![nt, nsrc, ne, 1];
            count.extend_from_slice(&sp);
            let v = a.as_standard_layout();
            w.put_f32(name, &start, &count, v.as_slice().expect("standard layout"))?;
        }
        debug_assert!(l < self.nl);
        Ok(())
    }
}

/// The fields a cross-validated hindcast file holds unless every field is asked for: what
/// verification needs.
const VERIFICATION_SET: [&str; 7] = [
    "probability",
    "extreme_probability",
    "ensemble_mean",
    "anomaly",
    "standardized_anomaly",
    "spread",
    "model_weight",
];

fn edge_dims(spatial: &[&'static str], edge: &'static str) -> Vec<&'static str> {
    let mut d = vec!["init", "edge_source", edge, "lead"];
    d.extend(spatial.iter().copied());
    d
}

/// Counts of the spatial dimensions (a grid: y, x; points: x; an index series: none).
pub(crate) fn spatial_count(n_dims: usize, ny: usize, nx: usize) -> Vec<usize> {
    match n_dims {
        2 => vec![ny, nx],
        1 => vec![ny * nx],
        _ => vec![],
    }
}

/// The shape of an output variable from its dimension names.
fn shape_of(
    dims: &[&str],
    nt: usize,
    nl: usize,
    ny: usize,
    nx: usize,
    layout: &Layout,
    spec: &CombineSpec,
) -> Vec<usize> {
    let sp = dims.len() - dims.iter().position(|d| *d == "lead").unwrap_or(0) - 1;
    let spatial = spatial_count(sp, ny, nx);
    let mut out = Vec::new();
    for d in dims {
        match *d {
            "init" => out.push(nt),
            "lead" => {
                out.push(nl);
                out.extend_from_slice(&spatial);
                break;
            }
            "category" => out.push(spec.category_levels.len() + 1),
            "extreme_category" => out.push(spec.extreme_levels.len() + 1),
            "percentile" => out.push(spec.percentile_levels.len()),
            "model" => out.push(layout.models.len()),
            "edge_source" => out.push(layout.sources.len()),
            "edge" => out.push(spec.category_levels.len()),
            "extreme_edge" => out.push(spec.extreme_levels.len()),
            _ => {}
        }
    }
    out
}

pub fn run(args: &CombineArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let spec = args.spec()?;
    let nm = args.hindcast.len();
    if !args.forecast.is_empty() && args.forecast.len() != nm {
        bail!(
            "{} hindcast files but {} forecast files: give one forecast per model, in the same order",
            nm,
            args.forecast.len()
        );
    }
    let needs_obs =
        args.edges == EdgesArg::Obs || matches!(args.weights, WeightsArg::Skill | WeightsArg::Pmme);
    if needs_obs && args.obs.is_none() {
        bail!("--edges obs, --weights skill and --weights pmme need --obs");
    }
    let models = model_names(&args.hindcast, &args.input.models)?;
    let mut years = args.years.as_deref().map(parse_years).transpose()?;
    let var = args.input.variable.as_deref();
    // Leads of every model: the same list, read from the coordinates alone.
    let lead_var = var
        .map(|v| super::resolve_var(&args.hindcast[0], v))
        .transpose()?;
    let leads = read_leads(
        &args.hindcast[0],
        lead_var.as_deref(),
        &DimMapping::default(),
    )
    .with_context(|| format!("reading the leads of {}", args.hindcast[0].display()))?;
    let nl = leads.len().max(1);
    let obs = match &args.obs {
        Some(p) => {
            let opts = ReadOptions {
                years,
                assume_units: args.input.obs_units.clone(),
                ..Default::default()
            };
            Some(read_var(p, args.input.obs_variable(), opts)?)
        }
        None => None,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut files: Option<(MmeFile, Option<MmeFile>)> = None;
    let mut names = (PathBuf::new(), None);
    let bar = super::progress::Bars::new(g.quiet);
    bar.start("combining", nl as u64);
    for l in 0..nl {
        let mut hc = Vec::with_capacity(nm);
        for (p, name) in args.hindcast.iter().zip(&models) {
            hc.push(read_lead(p, var, l, years, name)?);
        }
        if l == 0 {
            // Models with different hindcast periods are compared on their common years.
            if let Some((first, last)) = common_years(&mut hc)? {
                if !g.quiet {
                    eprintln!(
                        "note: hindcast periods differ; using the common years {first}-{last}"
                    );
                }
                years = Some((first, last));
            }
        }
        let mut fc = Vec::new();
        for (p, name) in args.forecast.iter().zip(&models) {
            fc.push(read_lead(p, var, l, None, name)?);
        }
        let aligned = match &obs {
            Some(o) if o.meta.kind == CubeKind::Observed => {
                let obs_path = args.obs.as_deref().expect("obs read from a path");
                Some(align_or_fail(o, obs_path, &hc[0])?.0)
            }
            // Observations already on the hindcast's targets (one member per start and lead).
            Some(o)
                if o.n_member() == 1
                    && o.n_lead() == nl
                    && o.init_years() == hc[0].init_years() =>
            {
                Some(o.select_leads(&[l])?)
            }
            Some(o) => bail!(
                "{}: observations with start dates and leads must have one member and the hindcast's start dates and {} leads (found {} starts, {} members, {} leads); give a time series (time, lat, lon) instead",
                args.obs.as_ref().expect("obs").display(),
                nl,
                o.n_init(),
                o.n_member(),
                o.n_lead()
            ),
            None => None,
        };
        let hrefs: Vec<&Cube> = hc.iter().collect();
        let frefs: Vec<&Cube> = fc.iter().collect();
        let input = CombineInput {
            hindcasts: &hrefs,
            forecasts: (!frefs.is_empty()).then_some(frefs.as_slice()),
            obs: aligned.as_ref(),
        };
        let out = combine(&input, &spec)?;
        if files.is_none() {
            let first = &hc[0];
            let sources = if spec.edges == EdgeSource::Model && spec.scheme != WeightScheme::Pmme {
                models.clone()
            } else {
                vec!["observed".to_string()]
            };
            let variable = args
                .input
                .variable
                .clone()
                .unwrap_or(first.meta.variable.clone());
            let layout = Layout {
                spec: &spec,
                models: &models,
                leads: &leads,
                sources,
                units: first.meta.units.clone(),
                variable: variable.clone(),
                quantity: first.meta.quantity,
                calendar: first.meta.calendar,
            };
            let wopts = g.write_options();
            let hpath = args.out.join(format!("mme_hindcast.{variable}.nc"));
            let hfile = MmeFile::create(
                &hpath,
                &wopts,
                &layout,
                first,
                "hindcast (cross-validated)",
                args.hindcast_fields == HindcastFields::All,
            )?;
            let ffile = match fc.first() {
                Some(f) => {
                    let fpath = args.out.join(format!("mme_forecast.{variable}.nc"));
                    names.1 = Some(fpath.clone());
                    Some(MmeFile::create(
                        &fpath, &wopts, &layout, f, "forecast", true,
                    )?)
                }
                None => None,
            };
            names.0 = hpath;
            files = Some((hfile, ffile));
        }
        let (hfile, ffile) = files.as_mut().expect("created");
        hfile.put_lead(l, &out.hindcast)?;
        if let (Some(f), Some(p)) = (ffile.as_mut(), out.forecast.as_ref()) {
            f.put_lead(l, p)?;
        }
        bar.advance(1);
    }
    bar.finish();
    let (hfile, ffile) = files.context("no lead to combine")?;
    hfile.w.finish()?;
    if let Some(f) = ffile {
        f.w.finish()?;
    }
    if !g.quiet {
        eprintln!("{} ({} models, {} leads)", spec.describe(), nm, nl);
        eprintln!("  {}", names.0.display());
        if let Some(f) = &names.1 {
            eprintln!("  {}", f.display());
        }
        let rss = peak_rss_mib().map_or(String::new(), |m| format!(", peak memory {m:.0} MiB"));
        eprintln!("  {:.1} s{rss}", started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}
