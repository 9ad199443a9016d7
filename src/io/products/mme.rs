//! The multi-model ensemble product, `mme_forecast.<var>.nc` / `mme_hindcast.<var>.nc`:
//! category probabilities (`probability(init, category, lead, …)` with the category's
//! quantile-level bounds), extreme-category probabilities, ensemble mean, normal, anomaly,
//! standardized anomaly, spread, signal-to-noise, percentiles, most likely and dominant
//! category (CF flags), per-model weights, category edges per edge source and, for
//! precipitation, percent of normal and target-period totals.
//!
//! Defined once from the first lead, then filled lead by lead ([`MmeFile::put_lead`]), so a
//! job streaming by lead never holds more than one lead's products.

use std::path::Path;

use crate::cube::{Coords, CubeKind, Lead};
use crate::ensemble::combine::DOMINANT_FILL;
use crate::ensemble::{category_level_bounds, CombineSpec, Products};
use crate::error::Result;
use crate::io::write::LabelAxis;
use crate::io::write::{write_spatial, write_time_coords};
use crate::io::{CfWriter, WriteOptions};
use crate::units::Quantity;

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

/// The names of the categories: `below`, `near`, `above` for terciles (the variables of the
/// CDO layout are `probability_below` …), else the labels.
fn category_names(labels: &[String], terciles: bool) -> Vec<String> {
    if terciles {
        vec!["below".into(), "near".into(), "above".into()]
    } else {
        labels.to_vec()
    }
}

/// `p10`, `p33.33` for a percentile in percent (a `.` where CDO-layout names get `_`).
fn percent_label(p: f64) -> String {
    format!("p{}", (p * 100.0).round() / 100.0)
}

/// One output file (hindcast or forecast products), defined at the first lead and filled lead
/// by lead.
pub struct MmeFile {
    pub w: CfWriter,
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

/// What the hindcast and forecast files of one run share.
pub struct Layout<'a> {
    pub spec: &'a CombineSpec,
    pub models: &'a [String],
    pub leads: &'a [Lead],
    pub sources: Vec<String>,
    pub units: String,
    pub variable: String,
    pub quantity: Quantity,
    pub calendar: crate::calendar::Calendar,
}

impl MmeFile {
    /// Creates the file at `path` and defines every variable, coordinate and attribute from
    /// the layout and the coordinates `first` of the first lead's cube (its start dates and
    /// grid); `kind` names the product in the title
    /// (`forecast`, `hindcast (cross-validated)`); `full`: every field, else the ones
    /// verification needs.
    pub fn create(
        path: &Path,
        opts: &WriteOptions,
        layout: &Layout,
        first: &Coords,
        kind: &str,
        full: bool,
    ) -> Result<MmeFile> {
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
            init: first.init.clone(),
            member: Vec::new(),
            lead: layout.leads.to_vec(),
            spatial: first.spatial.clone(),
        };
        let time_dims = write_time_coords(&mut w, &coords, layout.calendar, CubeKind::Forecast)?;
        debug_assert_eq!(time_dims, ["init", "lead"]);
        let spatial_dims = write_spatial(&mut w, &first.spatial)?;
        let terciles = spec.category_levels.len() == 2
            && (spec.category_levels[0] - 1.0 / 3.0).abs() < 1e-3
            && (spec.category_levels[1] - 2.0 / 3.0).abs() < 1e-3;
        let (labels, bounds) = category_labels(&spec.category_levels, terciles);
        let pairs = |b: &[f64]| b.chunks(2).map(<[f64]>::to_vec).collect::<Vec<_>>();
        w.label_axis(LabelAxis {
            entry_numbers: vec![("level_bounds".into(), pairs(&bounds))],
            ..LabelAxis::named(
                "category",
                "forecast category, from the lowest",
                &category_names(&labels, terciles),
            )
        })?;
        let has_extremes = !spec.extreme_levels.is_empty();
        if has_extremes {
            let (xl, xb) = category_labels(&spec.extreme_levels, false);
            w.label_axis(LabelAxis {
                entry_numbers: vec![("level_bounds".into(), pairs(&xb))],
                ..LabelAxis::named("extreme_category", "extreme category, from the lowest", &xl)
            })?;
        }
        let pcts: Vec<f64> = spec.percentile_levels.iter().map(|p| p * 100.0).collect();
        w.label_axis(LabelAxis {
            values: Some((pcts.clone(), Some("percent".into()))),
            ..LabelAxis::named(
                "percentile",
                "ensemble percentile",
                &pcts.iter().map(|p| percent_label(*p)).collect::<Vec<_>>(),
            )
        })?;
        w.label_axis(LabelAxis::named(
            "model",
            "contributing model",
            layout.models,
        ))?;
        w.label_axis(LabelAxis::named(
            "edge_source",
            "climatology the category edges are taken from",
            &layout.sources,
        ))?;
        let level_names = |levels: &[f64]| -> Vec<String> {
            levels.iter().map(|l| percent_label(l * 100.0)).collect()
        };
        w.label_axis(LabelAxis {
            values: Some((spec.category_levels.clone(), Some("1".into()))),
            ..LabelAxis::named(
                "edge",
                "quantile level of the category edge",
                &level_names(&spec.category_levels),
            )
        })?;
        if has_extremes {
            w.label_axis(LabelAxis {
                values: Some((spec.extreme_levels.clone(), Some("1".into()))),
                ..LabelAxis::named(
                    "extreme_level",
                    "quantile level of the extreme edge",
                    &level_names(&spec.extreme_levels),
                )
            })?;
        }
        let (ny, nx) = first.spatial.shape();
        let nt = first.init.len();
        let nl = layout.leads.len();
        let dims = |extra: &[&'static str]| -> Vec<&'static str> {
            let mut d = vec!["init"];
            d.extend_from_slice(extra);
            d.push("lead");
            d.extend(spatial_dims.iter().copied());
            d
        };
        let coordinates = if matches!(
            first.spatial,
            crate::cube::Spatial::Curvilinear { .. } | crate::cube::Spatial::Points { .. }
        ) && !first.spatial.is_index()
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
        for (name, method) in [
            ("ensemble_mean", "realization: mean"),
            ("spread", "realization: standard_deviation"),
        ] {
            if wants(name) {
                w.var_attr(name, "cell_methods", method)?;
            }
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
                edge_dims(&spatial_dims, "extreme_level"),
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
    pub fn put_lead(&mut self, l: usize, p: &Products) -> Result<()> {
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
pub fn spatial_count(n_dims: usize, ny: usize, nx: usize) -> Vec<usize> {
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
            "extreme_level" => out.push(spec.extreme_levels.len()),
            _ => {}
        }
    }
    out
}
