//! The bulletins of an outlook run: the whole run's and each region's `bulletin.md`, `.html`
//! (one self-contained page) and `.json`, with the variables' sections, drought, cyclones and
//! the methods.

use super::{bias_words, CycloneProducts, RunContext, VariableProducts};
use crate::bulletin::{
    display_name, drought_markdown, markdown, methods_markdown, Methods, VariableSection,
};
use crate::cube::BBox;
use crate::error::Result;
use crate::io::write_text_atomic;

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
        reliability: variables
            .iter()
            .flat_map(|v| {
                v.reliability.iter().map(move |(lead, slopes)| {
                    let words = ["below", "near", "above"];
                    let each: Vec<String> = slopes
                        .iter()
                        .enumerate()
                        .map(|(c, s)| match (slopes.len(), words.get(c)) {
                            (3, Some(w)) => format!("{w} {s:.2}"),
                            _ => format!("category {} {s:.2}", c + 1),
                        })
                        .collect();
                    format!("{}, {lead}: {}", v.what, each.join(", "))
                })
            })
            .collect(),
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
pub(super) fn write_bulletins(
    ctx: &RunContext,
    variables: &[VariableProducts],
    cyclones: &CycloneProducts,
) -> Result<()> {
    let names: Vec<&str> = variables.iter().map(|v| v.what.as_str()).collect();
    let title = format!("{} — {} outlook", ctx.cfg.title, names.join(" and "));
    let methods = methods(ctx, variables);
    let md = bulletin_markdown(&title, variables, &cyclones.markdown, &methods);
    write_text_atomic(ctx.out.join("bulletin.md"), &md)?;
    // the same bulletin as one self-contained page (maps embedded)
    // the maps this run drew, as bytes: the page never opens a file named in its text
    let images = crate::bulletin::Images::drawn_under(&crate::outputs::staging::staged(ctx.out)?)?;
    let html = crate::bulletin::html_page(&title, &md, &images, "");
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
    // ---- the regional table for GIS and spreadsheets ----
    let tables: Vec<(&str, &[crate::bulletin::RegionOutlook])> = variables
        .iter()
        .map(|v| (v.variable.as_str(), v.outlooks.as_slice()))
        .collect();
    write_text_atomic(
        ctx.out.join("regions.csv"),
        &crate::bulletin::gis::regional_csv(&tables),
    )?;
    write_text_atomic(
        ctx.out.join("regions.geojson"),
        &serde_json::to_string(&crate::bulletin::gis::regional_geojson(
            &tables,
            ctx.regions,
        ))?,
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
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let html = crate::bulletin::html_page(&rtitle, &rmd, &images, &base);
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
