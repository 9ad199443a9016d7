//! The bulletins of an outlook run: the whole run's and each region's `bulletin.md`, `.html`
//! (one self-contained page), `.pdf` (A4) and `.json`: the front (issuer, dates, headlines),
//! the variables' sections, drought, cyclones, the methods and the closing lines.

use super::{bias_words, CycloneProducts, RunContext, VariableProducts};
use crate::bulletin::{
    bulletin_page, drought_markdown, headlines, markdown, methods_markdown, pdf::bulletin_pdf,
    Catalogue, Front, HeadlineSources, Methods, VariableSection,
};
use crate::cube::BBox;
use crate::error::Result;
use crate::io::write::write_bytes_atomic;
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
    let cat = ctx.cat;
    Methods {
        models: variables[0].models.clone(),
        observations: variables
            .iter()
            .map(|v| v.observations.clone())
            .collect::<Vec<_>>()
            .join("; "),
        bias: bias_words(ctx.cfg, cat),
        probabilities: variables[0].method.clone(),
        reliability: variables
            .iter()
            .flat_map(|v| {
                v.reliability.iter().map(move |(lead, slopes)| {
                    let words = ["method.below", "method.near", "method.above"];
                    let each: Vec<String> = slopes
                        .iter()
                        .enumerate()
                        .map(|(c, s)| {
                            let slope = cat.number(*s, 2);
                            match (slopes.len(), words.get(c)) {
                                (3, Some(w)) => cat.text(
                                    "method.slope",
                                    &[("category", &cat.text(w, &[])), ("slope", &slope)],
                                ),
                                _ => cat.text(
                                    "method.slope_category",
                                    &[("n", &(c + 1).to_string()), ("slope", &slope)],
                                ),
                            }
                        })
                        .collect();
                    cat.text(
                        "method.reliability",
                        &[
                            ("what", &cat.quantity(&v.what)),
                            ("lead", &cat.lead(lead)),
                            ("slopes", &each.join(", ")),
                        ],
                    )
                })
            })
            .collect(),
        regions: ctx
            .regions
            .iter()
            .map(|r| {
                let what = if r.countries.is_empty() {
                    cat.text(
                        "method.region_box",
                        &[
                            ("west", &r.bbox.west.to_string()),
                            ("east", &r.bbox.east.to_string()),
                            ("south", &r.bbox.south.to_string()),
                            ("north", &r.bbox.north.to_string()),
                        ],
                    )
                } else {
                    r.countries
                        .iter()
                        .map(|c| cat.country(&c.name, &c.iso_a3))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (r.name.clone(), what)
            })
            .collect(),
    }
}

/// The Markdown body of a bulletin (without its front): the variables' sections, drought,
/// cyclones, methods.
fn bulletin_markdown(
    variables: &[VariableProducts],
    cyclones: &str,
    methods: &Methods,
    cat: &Catalogue,
) -> String {
    let sections: Vec<VariableSection> = variables.iter().map(|v| v.section()).collect();
    let mut md = markdown(&sections, cat);
    for v in variables {
        if let Some(d) = &v.drought {
            if !d.summaries.is_empty() {
                md.push_str(&drought_markdown(&d.method, &d.summaries, &d.maps, cat));
            }
        }
    }
    md.push_str(cyclones);
    md.push_str(&methods_markdown(methods, cat));
    md
}

/// Adds the fields of the object `extra` to the object `json` (replacing those of the same name).
fn add_fields(json: &mut serde_json::Value, extra: serde_json::Value) {
    if let (Some(j), serde_json::Value::Object(e)) = (json.as_object_mut(), extra) {
        j.extend(e);
    }
}

/// What every bulletin of a run shares: its language, issuer, dates and logo.
struct Issue {
    cat: Catalogue,
    institution: Option<String>,
    logo_png: Option<Vec<u8>>,
    issued: chrono::NaiveDate,
    next_update: chrono::NaiveDate,
    produced: String,
}

impl Issue {
    fn new(ctx: &RunContext) -> Result<Issue> {
        let issuer = &ctx.cfg.issuer;
        let cat = ctx.cat.clone();
        // The run's stamp, not the clock: with SOURCE_DATE_EPOCH set, the issue date and the
        // "produced" line are the same in every run (a rerun, a distributed run), as the
        // NetCDF history and the PDF dates are.
        let now = crate::outputs::stamp_time();
        let date = |d: &Option<String>| {
            d.as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let issued = date(&issuer.issue_date).unwrap_or_else(|| now.date_naive());
        let weekly = !ctx.cfg.periods.is_empty()
            && ctx
                .cfg
                .periods
                .iter()
                .all(|p| p.trim_start().starts_with("week"));
        let next_update = date(&issuer.next_update)
            .unwrap_or_else(|| crate::bulletin::front::default_next_update(issued, weekly));
        let logo_png = match &issuer.logo {
            None => None,
            Some(p) => {
                let path = ctx.path(p);
                let bytes = std::fs::read(&path).map_err(|e| crate::error::Error::Open {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                if !bytes.starts_with(&crate::bulletin::PNG_SIGNATURE) {
                    return Err(crate::error::Error::invalid(
                        "configuration",
                        format!(
                            "issuer.logo: {} is not a PNG file; convert the logo to PNG",
                            path.display()
                        ),
                    ));
                }
                Some(bytes)
            }
        };
        Ok(Issue {
            cat,
            institution: issuer.institution.clone().or(ctx.cfg.institution.clone()),
            logo_png,
            issued,
            next_update,
            produced: now.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
    }

    /// The front of a bulletin of `variables` (already cut to its region), with the subtitle
    /// `subtitle` and the headlines of its own summaries.
    fn front(
        &self,
        ctx: &RunContext,
        subtitle: String,
        variables: &[VariableProducts],
        genesis: Option<(&[crate::cyclone::genesis_outlook::BasinGenesis], &str)>,
    ) -> Front {
        let cat = &self.cat;
        let tables: Vec<(&str, &[crate::bulletin::RegionOutlook])> = variables
            .iter()
            .map(|v| (v.what.as_str(), v.outlooks.as_slice()))
            .collect();
        let drought: Vec<crate::bulletin::DroughtSummary> = variables
            .iter()
            .flat_map(|v| v.drought.iter().flat_map(|d| d.summaries.iter().cloned()))
            .collect();
        let headlines = headlines(
            &HeadlineSources {
                variables: &tables,
                drought: &drought,
                genesis,
            },
            cat,
        );
        let mut valid: Vec<(String, String)> = Vec::new();
        for o in variables.iter().flat_map(|v| &v.outlooks) {
            let pair = (o.lead.clone(), o.target.clone());
            if !valid.contains(&pair) {
                valid.push(pair);
            }
        }
        let issuer = &ctx.cfg.issuer;
        Front {
            title: ctx.cfg.title.clone(),
            subtitle,
            institution: self.institution.clone(),
            logo_png: self.logo_png.clone(),
            contact: issuer.contact.clone(),
            disclaimer: issuer
                .disclaimer
                .clone()
                .unwrap_or_else(|| cat.text("page.default_disclaimer", &[])),
            credits: issuer
                .credits
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            language: cat.language().to_string(),
            issued: self.issued,
            initialised: variables
                .first()
                .map(|v| v.issued_from.clone())
                .unwrap_or_default(),
            valid,
            next_update: self.next_update,
            produced: self.produced.clone(),
            headlines,
        }
    }

    /// Writes `bulletin.md`, `.html`, `.pdf` of one bulletin into `dir` (`base`: its folder
    /// relative to the output folder, for the images).
    fn write(
        &self,
        dir: &std::path::Path,
        base: &str,
        front: &Front,
        body: &str,
        images: &crate::bulletin::Images,
    ) -> Result<()> {
        let cat = &self.cat;
        let md = format!(
            "{}{body}{}",
            front.markdown(cat),
            front.closing_markdown(cat)
        );
        write_text_atomic(dir.join("bulletin.md"), &md)?;
        write_text_atomic(
            dir.join("bulletin.html"),
            &bulletin_page(front, cat, body, images, base),
        )?;
        write_bytes_atomic(
            dir.join("bulletin.pdf"),
            &bulletin_pdf(front, cat, body, images, base)?,
        )?;
        Ok(())
    }
}

/// "Rainfall and temperature outlook" in the bulletin's language.
fn subtitle(cat: &Catalogue, variables: &[VariableProducts]) -> String {
    let names: Vec<String> = variables.iter().map(|v| cat.quantity(&v.what)).collect();
    let joined = names.join(&format!(" {} ", cat.text("page.and", &[])));
    crate::bulletin::capitalised(&cat.text("page.subtitle", &[("what", &joined)]))
}

/// Writes the bulletin of the whole run (`bulletin.md`, `.html`, `.pdf`, `.json`) and of each
/// region (`<region>/bulletin.*`).
pub(super) fn write_bulletins(
    ctx: &RunContext,
    variables: &[VariableProducts],
    cyclones: &CycloneProducts,
    extremes: &str,
) -> Result<()> {
    let issue = Issue::new(ctx)?;
    let cat = &issue.cat;
    let genesis = cyclones
        .genesis
        .as_ref()
        .map(|(b, s)| (b.as_slice(), s.as_str()));
    let methods = methods(ctx, variables);
    let front = issue.front(ctx, subtitle(cat, variables), variables, genesis);
    let body = bulletin_markdown(
        variables,
        &format!("{extremes}{}", cyclones.markdown),
        &methods,
        cat,
    );
    // the maps this run drew, as bytes: the pages never open a file named in their text
    let images = crate::bulletin::Images::drawn_under(&crate::outputs::staging::staged(ctx.out)?)?;
    issue.write(ctx.out, "", &front, &body, &images)?;
    // The headline variable's numbers at the top (as with one variable), every variable's
    // under "variables".
    let head = &variables[0];
    let mut json = head.json();
    let extra = serde_json::json!({
        "title": front.title,
        "front": front,
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
        let touched = !cyclones.markdown.is_empty() && touches(&r.bbox, &cyclones.basin_boxes);
        let cyclone_md = if touched {
            images_one_up(&cyclones.markdown)
        } else {
            String::new()
        };
        let rsubtitle = format!("{} — {}", subtitle(cat, variables), cat.region(&r.name));
        let rfront = issue.front(ctx, rsubtitle, &own, genesis.filter(|_| touched));
        let rbody = bulletin_markdown(&own, &cyclone_md, &rmethods, cat);
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        issue.write(dir, &base, &rfront, &rbody, &images)?;
        let mut rjson = own[0].json();
        let extra = serde_json::json!({
            "title": rfront.title,
            "front": rfront,
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
