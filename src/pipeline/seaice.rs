//! The sea-ice jobs: the extent table of concentration files (`s2s seaice extent`) and the
//! extent outlook of a target month (`s2s seaice outlook`): files → [`crate::io::seaice`] →
//! [`crate::seaice`] → the table, `seaice_outlook.json`, `seaice_hindcast.csv` and
//! `seaice_outlook.md`, and `sea_ice_probability.nc` when forecasts are concentration files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::s;
use serde::Serialize;

use crate::calendar::CfDateTime;
use crate::cube::{Cube, CubeKind};
use crate::error::{Error, Result};
use crate::io::seaice::{
    read_concentration, read_extent_table, read_observed_extents, ConcentrationField, ExtentRow,
};
use crate::seaice::{
    extent_outlook, ice_totals, sea_ice_probability, Adjustment, ExtentOutlook, ModelExtents,
};

/// What `s2s seaice extent` reads.
#[derive(Debug, Clone)]
pub struct ExtentPlan {
    /// Concentration files (monthly or daily; observed series or forecasts with members).
    pub inputs: Vec<PathBuf>,
    /// The concentration variable (default: the file's only data variable).
    pub variable: Option<String>,
    /// A file with the cell areas when the concentration's file has none (`areacello`).
    pub cell_area: Option<PathBuf>,
    /// Concentration from which a cell counts, fraction.
    pub threshold: f64,
}

/// Extent and area of each time step (and member) of each input, both hemispheres.
pub fn extent_table(plan: &ExtentPlan) -> Result<Vec<ExtentRow>> {
    let mut rows = Vec::new();
    for path in &plan.inputs {
        let f = read_concentration(path, plan.variable.as_deref(), plan.cell_area.as_deref())?;
        rows.extend(field_rows(&f, plan.threshold)?);
    }
    Ok(rows)
}

/// The date a step `(init i, lead l)` of a cube stands for: the start of the lead's period for
/// a forecast, the time stamp of an observed series.
fn valid_time(c: &Cube, i: usize, l: usize) -> Result<CfDateTime> {
    let init = &c.coords.init[i];
    Ok(if c.meta.kind == CubeKind::Forecast {
        c.coords.lead[l].period(init, c.meta.calendar)?.0
    } else {
        *init
    })
}

/// The extent rows of one concentration field: every step, member and hemisphere.
fn field_rows(f: &ConcentrationField, threshold: f64) -> Result<Vec<ExtentRow>> {
    let c = &f.cube;
    let forecast = c.meta.kind == CubeKind::Forecast;
    let members = forecast || c.n_member() > 1;
    let date = |t: &CfDateTime| format!("{:04}-{:02}-{:02}", t.year, t.month, t.day);
    let mut rows = Vec::new();
    for (i, init) in c.coords.init.iter().enumerate() {
        for l in 0..c.n_lead() {
            let time = valid_time(c, i, l)?;
            for (m, &label) in c.coords.member.iter().enumerate() {
                let field = c.values.slice(s![i, m, l, .., ..]);
                let t = ice_totals(
                    field,
                    f.cell_area_km2.view(),
                    f.lat.view(),
                    f.scale,
                    threshold,
                );
                for (hemisphere, h) in [("north", t.north), ("south", t.south)] {
                    rows.push(ExtentRow {
                        time: date(&time),
                        year: time.year,
                        month: time.month,
                        hemisphere: hemisphere.into(),
                        extent: h.extent,
                        area: h.area,
                        member: members.then_some(label),
                        init: forecast.then(|| date(init)),
                    });
                }
            }
        }
    }
    Ok(rows)
}

/// What `s2s seaice outlook` reads.
#[derive(Debug, Clone)]
pub struct SeaIceOutlookPlan {
    /// Each model: name, hindcast inputs and forecast inputs (extent tables `.csv`, or
    /// concentration files whose extents are computed first).
    pub models: super::ModelInputs,
    /// The observed extents (NSIDC Sea Ice Index monthly or daily CSV, or an extent table).
    pub observed: PathBuf,
    /// The year and month forecast.
    pub target: (i32, u32),
    /// `north` or `south`.
    pub hemisphere: String,
    /// How the members are adjusted.
    pub adjustment: Adjustment,
    /// Cell areas for concentration inputs without their own.
    pub cell_area: Option<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
}

/// The sea-ice probability of `target` (year, month) from the models' forecast concentration
/// fields `(model, file, field)` (`None` without any): each model's share of members with ice,
/// then the mean over models (equal weight), on the grid the models share.
fn sea_ice_probability_map(
    target: (i32, u32),
    forecasts: &[(&str, &Path, &ConcentrationField)],
) -> Result<Option<Cube>> {
    let (year, month) = target;
    let mut maps: Vec<(&Cube, ndarray::Array2<f32>)> = Vec::new();
    for &(name, path, f) in forecasts {
        let c = &f.cube;
        let mut found = None;
        'search: for i in 0..c.n_init() {
            for l in 0..c.n_lead() {
                let t = valid_time(c, i, l)?;
                if (t.year, t.month) == (year, month) {
                    found = Some((i, l));
                    break 'search;
                }
            }
        }
        let Some((i, l)) = found else { continue };
        let members = c.values.slice(s![i, .., l, .., ..]);
        let sip = sea_ice_probability(members, f.scale, crate::seaice::EXTENT_THRESHOLD);
        if let Some((first, _)) = maps.first() {
            if let Some(why) = first.coords.spatial.first_difference(&c.coords.spatial) {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    reason: format!("model '{name}' is on another grid than the first model's ({why}): regrid the concentrations onto one grid for the sea-ice probability map"),
                });
            }
        }
        maps.push((c, sip));
    }
    let Some((first, _)) = maps.first() else {
        return Ok(None);
    };
    let (ny, nx) = first.coords.spatial.shape();
    let mut mean = ndarray::Array2::<f32>::zeros((ny, nx));
    for (_, m) in &maps {
        mean += m;
    }
    mean /= maps.len() as f32;
    let target = CfDateTime::ymd(year, month, 1);
    let mut meta = crate::cube::Meta::new("MME", "sea_ice_probability", "1", first.meta.calendar);
    meta.kind = CubeKind::Observed;
    meta.long_name = Some(format!(
        "probability of sea-ice concentration >= {:.0} % (share of members, models weighted equally)",
        100.0 * crate::seaice::EXTENT_THRESHOLD
    ));
    meta.history.push(format!(
        "sea-ice probability of {year}-{month:02} from {} model(s)",
        maps.len()
    ));
    let values = mean
        .into_shape_with_order((1, 1, 1, ny, nx))
        .expect("one field")
        .into_owned();
    let cube = Cube::new(
        values,
        crate::cube::Coords {
            init: vec![target],
            member: vec![0],
            lead: vec![crate::cube::Lead::months(0.0, 1.0)],
            spatial: first.coords.spatial.clone(),
        },
        meta,
    )?;
    Ok(Some(cube))
}

fn is_table(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// What the outlook wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SeaIceOutlookReport {
    /// The outlook.
    pub outlook: ExtentOutlook,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// A concentration field with the file it came from.
type FieldOf = (PathBuf, ConcentrationField);

/// The extent rows of outlook inputs (extent tables, or concentration files whose extents
/// are computed), each file read once; the concentration fields are kept for the map.
fn read_inputs(
    inputs: &[PathBuf],
    cell_area: Option<&Path>,
) -> Result<(Vec<ExtentRow>, Vec<FieldOf>)> {
    let (mut rows, mut fields) = (Vec::new(), Vec::new());
    for p in inputs {
        if is_table(p) {
            rows.extend(read_extent_table(p)?);
        } else {
            let f = read_concentration(p, None, cell_area)?;
            rows.extend(field_rows(&f, crate::seaice::EXTENT_THRESHOLD)?);
            fields.push((p.clone(), f));
        }
    }
    Ok((rows, fields))
}

/// Members of `month` by year, for one hemisphere.
fn by_year(rows: &[ExtentRow], month: u32, hemisphere: &str) -> BTreeMap<i32, Vec<f64>> {
    let mut out: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.month == month && r.hemisphere == hemisphere && r.extent.is_finite())
    {
        out.entry(r.year).or_default().push(r.extent);
    }
    out
}

/// The outlook and its sea-ice probability map (when the forecasts are concentration fields),
/// computed and not yet written.
pub fn seaice_products(plan: &SeaIceOutlookPlan) -> Result<(ExtentOutlook, Option<Cube>)> {
    let (year, month) = plan.target;
    let mut models = Vec::new();
    let mut forecast_fields = Vec::new();
    for (name, hindcast, forecast) in &plan.models {
        let h = by_year(
            &read_inputs(hindcast, plan.cell_area.as_deref())?.0,
            month,
            &plan.hemisphere,
        );
        let (rows, fields) = read_inputs(forecast, plan.cell_area.as_deref())?;
        forecast_fields.extend(fields.into_iter().map(|(p, f)| (name.as_str(), p, f)));
        let f = by_year(&rows, month, &plan.hemisphere);
        let members = f.get(&year).cloned().unwrap_or_default();
        if members.is_empty() {
            return Err(Error::Input {
                path: forecast.first().cloned().unwrap_or_default(),
                reason: format!(
                    "model '{name}': no {} extent for {year}-{month:02} in the forecast input (years present: {:?})",
                    plan.hemisphere,
                    f.keys().collect::<Vec<_>>()
                ),
            });
        }
        models.push(ModelExtents {
            name: name.clone(),
            hindcast: h,
            forecast: members,
        });
    }
    let observed: BTreeMap<i32, f64> = read_observed_extents(&plan.observed, &plan.hemisphere)?
        .into_iter()
        .filter(|o| o.month == month)
        .map(|o| (o.year, o.extent))
        .collect();
    let outlook =
        extent_outlook(&models, &observed, year, plan.adjustment).map_err(|e| Error::Input {
            path: plan.observed.clone(),
            reason: e.to_string(),
        })?;
    let sip = sea_ice_probability_map(
        plan.target,
        &forecast_fields
            .iter()
            .map(|(n, p, f)| (*n, p.as_path(), f))
            .collect::<Vec<_>>(),
    )?;
    Ok((outlook, sip))
}

/// The file name of the sea-ice probability map.
pub const SIP_MAP: &str = "map_sea_ice_probability.png";

/// Writes `seaice_outlook.json`, `seaice_hindcast.csv`, `seaice_outlook.md` and, when the
/// forecasts are concentration fields, `sea_ice_probability.nc` and its polar map
/// ([`SIP_MAP`]) into `out`, inside whatever output set is open; words in `cat`'s language.
pub fn write_seaice(
    plan: &SeaIceOutlookPlan,
    outlook: &ExtentOutlook,
    sip: Option<&Cube>,
    out: &Path,
    opts: &crate::io::write::WriteOptions,
    cat: &crate::bulletin::Catalogue,
) -> Result<Vec<PathBuf>> {
    let (year, month) = plan.target;
    let json = out.join("seaice_outlook.json");
    let csv = out.join("seaice_hindcast.csv");
    let md = out.join("seaice_outlook.md");
    crate::io::write_text_atomic(&json, &serde_json::to_string_pretty(outlook)?)?;
    crate::io::write_text_atomic(&csv, &hindcast_csv(outlook))?;
    let mut text = outlook_markdown(outlook, month, &plan.hemisphere, cat);
    if sip.is_some() {
        text.push_str(&sip_map_markdown(plan.target, "", cat));
    }
    crate::io::write_text_atomic(&md, &text)?;
    let mut files = vec![json, csv, md];
    if let Some(c) = sip {
        let png = out.join(SIP_MAP);
        let name = cat.month(month);
        let title = cat.text(
            "seaice.sip_title",
            &[("month", &name), ("year", &year.to_string())],
        );
        let (legend, edge, land) = (
            cat.text("seaice.sip_legend", &[]),
            cat.text("seaice.sip_edge", &[]),
            cat.text("seaice.sip_land", &[]),
        );
        let values: Vec<f32> = c.values.iter().copied().collect();
        crate::bulletin::polar::render_sea_ice_probability_map(
            &png,
            &crate::bulletin::polar::PolarMap {
                spatial: &c.coords.spatial,
                values: &values,
                south: plan.hemisphere == "south",
                countries: Some(crate::grid::Countries::bundled()),
                title: &title,
                legend: &legend,
                edge_label: &edge,
                land_label: &land,
            },
        )?;
        files.push(png);
        let nc = out.join("sea_ice_probability.nc");
        crate::io::write::write_cube(
            &nc,
            c,
            &crate::io::write::WriteOptions {
                title: Some(format!("Sea-ice probability, {year}-{month:02}")),
                ..opts.clone()
            },
        )?;
        files.push(nc);
    }
    Ok(files)
}

/// The Markdown of the sea-ice probability map: the picture (in `folder`, `""` for the same
/// folder as the text) and what it shows.
pub fn sip_map_markdown(
    target: (i32, u32),
    folder: &str,
    cat: &crate::bulletin::Catalogue,
) -> String {
    let (year, month) = target;
    let caption = cat.text(
        "seaice.sip_caption",
        &[("month", &cat.month(month)), ("year", &year.to_string())],
    );
    format!(
        "\n![{caption}]({folder}{SIP_MAP})\n\n*{}*\n\n",
        cat.text("seaice.sip_note", &[])
    )
}

/// Runs the outlook and writes its files as one set.
pub fn seaice_outlook(plan: &SeaIceOutlookPlan) -> Result<SeaIceOutlookReport> {
    let (outlook, sip) = seaice_products(plan)?;
    let files = crate::outputs::staging::as_one_set(&plan.out, || {
        write_seaice(
            plan,
            &outlook,
            sip.as_ref(),
            &plan.out,
            &Default::default(),
            &crate::bulletin::Catalogue::english()?,
        )
    })?;
    Ok(SeaIceOutlookReport { outlook, files })
}

/// `model,year,adjusted_mean,observed` of the cross-validated hindcast.
pub fn hindcast_csv(o: &ExtentOutlook) -> String {
    let mut s = String::from("model,year,adjusted_mean,observed\n");
    for m in &o.models {
        for (y, f, obs) in &m.hindcast {
            s.push_str(&format!("{},{y},{f:.4},{obs:.4}\n", m.name));
        }
    }
    s
}

/// The outlook in words and a table.
pub fn outlook_markdown(
    o: &ExtentOutlook,
    month: u32,
    hemisphere: &str,
    cat: &crate::bulletin::Catalogue,
) -> String {
    let name = cat.month(month);
    let title = if hemisphere == "south" {
        "seaice.title_south"
    } else {
        "seaice.title_north"
    };
    let pct = |p: f64| format!("{:.0} %", 100.0 * p);
    let n2 = |x: f64| cat.number(x, 2);
    let p = &o.mme_probabilities;
    let [p10, p50, p90] = o.mme_percentiles;
    let c = &o.climate;
    let mut s = format!(
        "# {}\n\n",
        cat.text(
            title,
            &[("month", &name), ("year", &o.target_year.to_string())]
        )
    );
    s.push_str(&cat.text(
        "seaice.expect",
        &[
            ("month", &name),
            ("p50", &n2(p50)),
            ("p10", &n2(p10)),
            ("p90", &n2(p90)),
            ("first", &c.years.0.to_string()),
            ("last", &c.years.1.to_string()),
            ("mean", &n2(c.mean)),
            ("trend", &cat.signed(c.trend_per_decade, 2)),
        ],
    ));
    s.push_str("\n\n");
    s.push_str(&cat.text(
        "seaice.chances",
        &[
            ("low", &n2(c.terciles[0])),
            ("below", &pct(p.below)),
            ("near", &pct(p.near)),
            ("high", &n2(c.terciles[1])),
            ("above", &pct(p.above)),
        ],
    ));
    if let Some((ry, rv)) = c.record_low {
        s.push_str(&cat.text(
            "seaice.record",
            &[
                ("value", &n2(rv)),
                ("year", &ry.to_string()),
                ("p", &pct(p.record_low)),
            ],
        ));
    }
    s.push_str(".\n\n");
    let adjustment = o.adjustment.to_string();
    s.push_str(&format!(
        "{}\n\n{}\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        cat.text(
            "seaice.adjusted",
            &[(
                "adjustment",
                &cat.text(&format!("seaice.adjust_{adjustment}"), &[])
            )]
        ),
        cat.text("seaice.columns", &[])
    ));
    let row = |name: &str,
               n: usize,
               mean: f64,
               p: &crate::seaice::ExtentProbabilities,
               k: &crate::seaice::HindcastSkill| {
        format!(
            "| {name} | {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            n2(mean),
            pct(p.below),
            pct(p.near),
            pct(p.above),
            pct(p.record_low),
            n2(k.rmse),
            n2(k.rmse_raw),
            n2(k.rmse_trend),
            n2(k.msss_vs_trend),
            n2(k.correlation)
        )
    };
    for m in &o.models {
        s.push_str(&row(
            &m.name,
            m.members.len(),
            m.mean,
            &m.probabilities,
            &m.skill,
        ));
    }
    let n: usize = o.models.iter().map(|m| m.members.len()).sum();
    s.push_str(&row(
        "MME",
        n,
        o.mme_mean,
        &o.mme_probabilities,
        &o.mme_skill,
    ));
    s.push_str(&format!("\n{}\n", cat.text("seaice.footnote", &[])));
    s
}
