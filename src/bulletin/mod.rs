//! Outlook bulletins: regional summaries of a multi-model tercile forecast, the Markdown text a
//! forecaster issues, the probability maps (PNG, drawn with plotters), and the page (HTML from a
//! template), the A4 document (PDF) and the front they open with (issuer, dates, headlines).
//!
//! # Modules
//! - [`front`]: issuer, dates, disclaimer and credits; [`mod@headlines`]: the 3–5 key messages
//!   chosen by rules; [`catalogue`]: every word of the frame in English and Russian.
//! - `html`: the page (pulldown-cmark body in a minijinja template); [`pdf`]: the A4 document.
//! - `map`, `diagram`: the PNG maps and verification diagrams; [`regional`]: POE curves and
//!   plumes of the regional mean; [`polar`]: the sea-ice probability map (polar stereographic,
//!   median ice edge); [`gis`]: the regional table as CSV and GeoJSON.
//!
//! # What a regional summary holds
//! For each region and lead: the cos(latitude)-weighted mean probability of each tercile
//! category over the region's cells; the share of the region's area where each category is
//! dominant (most likely with at least the dominance threshold, 40 % by default); the share
//! with no dominant category; the MME's cross-validated skill (ACC, RPSS) averaged over the
//! region, so the reader knows how far to trust the map. Area shares are cos(latitude)
//! weighted counts of cells.
//!
//! # Country table
//! The same area-mean probabilities per country (cells whose centre is in the country's
//! polygons) for every country that has cells in one of the regions.
//!
//! # Map
//! The C3S / WMO LC-LRFMME convention: each cell coloured by its most likely category (browns
//! for below normal, greys for near normal, greens for above normal for precipitation; blues /
//! reds for temperature), the shade darker as the probability grows (40–50, 50–60, 60–70,
//! ≥ 70 %); white where no category reaches 40 % or the MME has no skill (masked cells).

use serde::Serialize;

use crate::cube::Spatial;
use crate::cyclone::activity::ActivityOutlook;
use crate::grid::Countries;
use crate::verify::Region;

pub mod catalogue;
mod diagram;
pub mod front;
pub mod gis;
pub mod headlines;
mod html;
mod map;
pub mod pdf;
pub mod polar;
pub mod regional;
pub use catalogue::{Catalogue, LANGUAGES};
pub use diagram::{
    render_event_diagrams, render_verification_diagrams, DiagramCategory, DiagramSystem,
    EventCurves,
};
pub use front::Front;
pub use headlines::{headlines, Headline, HeadlineSources};
pub(crate) use html::PNG_SIGNATURE;
pub use html::{bulletin_page, html_page, markdown_html, Images};
pub use map::{
    anomaly_classes, crop_grid, extreme_classes, percent_of_normal_classes, render_classed_map,
    render_region_classed_map, render_region_map, render_tercile_map, render_track_map, ClassedMap,
    ColourClass, DensityLayer, ExtremeTail, MapStyle, TercileMap, TrackKey, ENGLISH_MAP_NOTES,
    NO_DATA, NO_SKILL,
};

/// Summary of one region and lead.
#[derive(Debug, Clone, Serialize)]
pub struct RegionOutlook {
    /// Region name.
    pub region: String,
    /// Lead label (e.g. "months 2–4").
    pub lead: String,
    /// Target period as text.
    pub target: String,
    /// Cells with a forecast.
    pub cells: usize,
    /// Area-mean probability of below / near / above normal.
    pub mean_probability: [f64; 3],
    /// Area share where each category is dominant.
    pub dominant_share: [f64; 3],
    /// Area share where each category is dominant with a probability of 40–50, 50–60,
    /// 60–70 and ≥ 70 % (the map's shades).
    pub dominant_bins: [[f64; 4]; 3],
    /// Area share without a dominant category.
    pub no_dominant_share: f64,
    /// Area-mean cross-validated ACC of the MME.
    pub acc: f64,
    /// Area-mean cross-validated RPSS of the MME.
    pub rpss: f64,
    /// Area share where the MME has skill (RPSS > 0).
    pub skilful_share: f64,
    /// Area-mean probability below the low and above the high extreme level (NaN without).
    pub extreme_probability: [f64; 2],
    /// The extreme levels, e.g. `[0.1, 0.9]`.
    pub extreme_levels: [f64; 2],
    /// Area-mean MME mean minus the area-mean normal, in the variable's units (NaN without).
    pub mean_anomaly: f64,
    /// The area-mean MME mean in percent of the area-mean normal (NaN without, or where the
    /// normal is dry).
    pub percent_of_normal: f64,
}

/// Maps of one lead the summary is made from, each `(y, x)` row-major.
#[derive(Debug, Clone, Copy)]
pub struct LeadMaps<'a> {
    /// Probabilities of the three categories.
    pub probability: [&'a [f32]; 3],
    /// Dominant category (−1 none, negative fill without data).
    pub dominant: &'a [i8],
    /// MME ACC.
    pub acc: &'a [f32],
    /// MME RPSS.
    pub rpss: &'a [f32],
    /// Probability below the lowest and above the highest extreme level (the hindcast 10th
    /// and 90th percentiles by default), when computed.
    pub extremes: Option<[&'a [f32]; 2]>,
    /// The extreme levels `[low, high]` (0.1, 0.9).
    pub extreme_levels: [f64; 2],
    /// The MME mean and its normal (the models' hindcast climatology; PMME: the observed),
    /// for the regional anomaly and percent of normal.
    pub mean_and_normal: Option<[&'a [f32]; 2]>,
}

/// The cells of one region on a grid, found once (the point-in-polygon tests of a country
/// region are not redone for every lead and product).
#[derive(Debug, Clone)]
pub struct RegionCells {
    /// Region name.
    pub region: String,
    /// `(row-major index, cos(latitude) weight)` of the cells whose centre is in the region.
    pub cells: Vec<(usize, f64)>,
}

impl RegionCells {
    /// The cells of `region` on `spatial` ([`Region::cell_weights`]).
    pub fn new(region: &Region, spatial: &Spatial) -> Self {
        RegionCells {
            region: region.name.clone(),
            cells: region
                .cell_weights(spatial)
                .into_iter()
                .enumerate()
                .filter(|&(_, w)| w > 0.0)
                .collect(),
        }
    }
}

/// The summary of one region and lead.
pub fn summarise(maps: &LeadMaps, region: &RegionCells, lead: &str, target: &str) -> RegionOutlook {
    let mut w_total = 0.0;
    let mut prob = [0.0; 3];
    let mut dom = [0.0; 3];
    let mut bins = [[0.0; 4]; 3];
    let mut none = 0.0;
    let (mut acc, mut acc_w, mut rpss, mut rpss_w, mut skilful) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut cells = 0;
    let (mut ext, mut ext_w) = ([0.0f64; 2], 0.0);
    let (mut totals, mut totals_w) = ([0.0f64; 2], 0.0);
    for &(k, w) in &region.cells {
        if let Some([m, n]) = maps.mean_and_normal {
            if m[k].is_finite() && n[k].is_finite() {
                totals[0] += w * f64::from(m[k]);
                totals[1] += w * f64::from(n[k]);
                totals_w += w;
            }
        }
        if !maps.probability[0][k].is_finite() {
            continue;
        }
        if let Some(e) = maps.extremes {
            if e[0][k].is_finite() && e[1][k].is_finite() {
                ext[0] += w * f64::from(e[0][k]);
                ext[1] += w * f64::from(e[1][k]);
                ext_w += w;
            }
        }
        cells += 1;
        w_total += w;
        for (p, m) in prob.iter_mut().zip(&maps.probability) {
            *p += w * f64::from(m[k]);
        }
        match maps.dominant[k] {
            c @ 0..=2 => {
                let c = c as usize;
                dom[c] += w;
                let p = f64::from(maps.probability[c][k]);
                let bin = ((p - 0.4) / 0.1 + 1e-9).floor().clamp(0.0, 3.0) as usize;
                bins[c][bin] += w;
            }
            _ => none += w,
        }
        if maps.acc[k].is_finite() {
            acc += w * f64::from(maps.acc[k]);
            acc_w += w;
        }
        if maps.rpss[k].is_finite() {
            rpss += w * f64::from(maps.rpss[k]);
            rpss_w += w;
            if maps.rpss[k] > 0.0 {
                skilful += w;
            }
        }
    }
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    RegionOutlook {
        region: region.region.clone(),
        lead: lead.to_string(),
        target: target.to_string(),
        cells,
        mean_probability: prob.map(|p| div(p, w_total)),
        dominant_share: dom.map(|d| div(d, w_total)),
        dominant_bins: bins.map(|b| b.map(|v| div(v, w_total))),
        no_dominant_share: div(none, w_total),
        acc: div(acc, acc_w),
        rpss: div(rpss, rpss_w),
        skilful_share: div(skilful, rpss_w),
        extreme_probability: ext.map(|v| div(v, ext_w)),
        extreme_levels: maps.extreme_levels,
        mean_anomaly: div(totals[0] - totals[1], totals_w),
        percent_of_normal: if totals[1] > 1e-6 * totals_w {
            100.0 * totals[0] / totals[1]
        } else {
            f64::NAN
        },
    }
}

/// Drought summary of one region and lead (from the forecast SPI of the target period).
#[derive(Debug, Clone, Serialize)]
pub struct DroughtSummary {
    /// Region name.
    pub region: String,
    /// Lead label.
    pub lead: String,
    /// Target period as text.
    pub target: String,
    /// Cells with a forecast SPI.
    pub cells: usize,
    /// Area-mean `P(SPI ≤ −1)`, `P(SPI ≤ −1.5)`, `P(SPI ≤ −2)` (climatology: 15.9, 6.7, 2.3 %).
    pub drought_probability: [f64; 3],
    /// Area-mean `P(SPI ≥ 1)`.
    pub wet_probability: f64,
    /// Area share where moderate-or-worse drought is at least as likely as not
    /// (`P(SPI ≤ −1) ≥ 0.5`).
    pub drought_likely_share: f64,
    /// Area-mean ensemble median SPI.
    pub median_spi: f64,
    /// With an observed SPI now: the area shares (of the cells with one) with no drought now,
    /// and in drought now with the drought ending, persisting, deepening.
    pub tendency_share: Option<[f64; 4]>,
}

/// The drought fields of one lead, each `(y, x)` row-major.
#[derive(Debug, Clone, Copy)]
pub struct DroughtFields<'a> {
    /// `P(SPI ≤ −1)`, `P(SPI ≤ −1.5)`, `P(SPI ≤ −2)`.
    pub drought: [&'a [f32]; 3],
    /// `P(SPI ≥ 1)`.
    pub wet: &'a [f32],
    /// Median SPI.
    pub median: &'a [f32],
    /// [`crate::indices::DroughtTendency`] flags (anything else: unknown), when the observed
    /// SPI now is known.
    pub tendency: Option<&'a [i8]>,
}

/// The drought summary of one region and lead.
pub fn summarise_drought(
    f: &DroughtFields,
    region: &RegionCells,
    lead: &str,
    target: &str,
) -> DroughtSummary {
    let (drought, wet, median) = (f.drought, f.wet, f.median);
    let (mut w_total, mut cells, mut likely, mut wet_sum, mut med) = (0.0, 0, 0.0, 0.0, 0.0);
    let mut dry = [0.0; 3];
    let (mut tend, mut tend_w) = ([0.0f64; 4], 0.0);
    for &(k, w) in &region.cells {
        if let Some(t) = f.tendency {
            if (0..4).contains(&t[k]) {
                tend[t[k] as usize] += w;
                tend_w += w;
            }
        }
        if !drought[0][k].is_finite() {
            continue;
        }
        cells += 1;
        w_total += w;
        for (d, m) in dry.iter_mut().zip(&drought) {
            *d += w * f64::from(m[k]);
        }
        wet_sum += w * f64::from(wet[k]);
        med += w * f64::from(median[k]);
        if drought[0][k] >= 0.5 {
            likely += w;
        }
    }
    let div = |a: f64| if w_total > 0.0 { a / w_total } else { f64::NAN };
    DroughtSummary {
        region: region.region.clone(),
        lead: lead.to_string(),
        target: target.to_string(),
        cells,
        drought_probability: dry.map(div),
        wet_probability: div(wet_sum),
        drought_likely_share: div(likely),
        median_spi: div(med),
        tendency_share: (tend_w > 0.0).then(|| tend.map(|v| v / tend_w)),
    }
}

/// The key drought message of a regional summary, in plain words.
pub fn drought_message(d: &DroughtSummary, cat: &Catalogue) -> String {
    let region = cat.region(&d.region);
    if d.cells == 0 {
        return cat.text("drought.no_cells", &[("region", &region)]);
    }
    let p = 100.0 * d.drought_probability[0];
    let tendency = if p >= 1.5 * 15.9 {
        "drought.more_likely"
    } else if p <= 15.9 / 1.5 {
        "drought.less_likely"
    } else {
        "drought.as_likely"
    };
    let text = cat.text(
        "drought.message",
        &[
            ("region", &region),
            ("target", &cat.period(&d.target)),
            ("tendency", &cat.text(tendency, &[])),
            ("p", &format!("{p:.0}")),
            ("severe", &percent(d.drought_probability[1])),
            ("extreme", &percent(d.drought_probability[2])),
            ("wet", &percent(d.wet_probability)),
            ("likely", &percent(d.drought_likely_share)),
        ],
    );
    match tendency_words(d, cat) {
        now if now.is_empty() => text,
        now => format!("{text} {now}"),
    }
}

/// A fraction as a whole percentage ("0.354" → "35").
pub(crate) fn percent(fraction: f64) -> String {
    format!("{:.0}", 100.0 * fraction)
}

/// What the forecast does to the drought under way now, in words (empty without an observed
/// SPI or without drought now).
fn tendency_words(d: &DroughtSummary, cat: &Catalogue) -> String {
    let Some(t) = d.tendency_share else {
        return String::new();
    };
    let now = t[1] + t[2] + t[3];
    if now < 0.01 {
        return cat.text("drought.none_now", &[]);
    }
    cat.text(
        "drought.now",
        &[
            ("now", &percent(now)),
            ("ends", &percent(t[1] / now)),
            ("persists", &percent(t[2] / now)),
            ("deepens", &percent(t[3] / now)),
        ],
    )
}

/// The Markdown drought section: method, key messages, table, maps.
pub fn drought_markdown(
    method: &str,
    summaries: &[DroughtSummary],
    maps: &[(String, String)],
    cat: &Catalogue,
) -> String {
    let mut s = format!(
        "\n## {}\n\n{}\n\n",
        cat.text("drought.heading", &[]),
        cat.text("body.method", &[("method", method)])
    );
    for d in summaries {
        s.push_str(&format!("- {}\n", drought_message(d, cat)));
    }
    s.push_str(&format!(
        "\n{}\n|---|---|---|---|---|---|---|---|---|---|\n",
        cat.text("drought.columns", &[])
    ));
    for d in summaries {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} % | {} % | {} % | {} % | {} % | {} |\n",
            cat.region(&d.region),
            cat.lead(&d.lead),
            cat.period(&d.target),
            d.cells,
            percent(d.drought_probability[0]),
            percent(d.drought_probability[1]),
            percent(d.drought_probability[2]),
            percent(d.wet_probability),
            percent(d.drought_likely_share),
            cat.number(d.median_spi, 2)
        ));
    }
    s.push_str(&format!("\n{}\n\n", cat.text("drought.maps", &[])));
    for (caption, file) in maps {
        s.push_str(&format!("![{caption}]({file})\n\n"));
    }
    s
}

/// Area-mean tercile probabilities of one country and lead.
#[derive(Debug, Clone, Serialize)]
pub struct CountryOutlook {
    /// Country name.
    pub country: String,
    /// ISO 3166-1 alpha-3 code.
    pub iso_a3: String,
    /// Lead label.
    pub lead: String,
    /// Target period as text.
    pub target: String,
    /// Cells with a forecast.
    pub cells: usize,
    /// The share of the country's area its cells with a forecast cover (NaN on grids of
    /// unknown cell size).
    pub area_share: f64,
    /// Area-mean probability of below / near / above normal.
    pub mean_probability: [f64; 3],
}

/// The area of each cell of a regular lon/lat grid, km², row-major (`R² Δλ |sin φₙ − sin φₛ|`);
/// `None` for other layouts.
pub fn cell_areas_km2(spatial: &Spatial) -> Option<Vec<f64>> {
    let Spatial::Grid { lat, lon } = spatial else {
        return None;
    };
    let step = |v: &[f64]| (v.len() > 1).then(|| (v[1] - v[0]).abs());
    let (dlat, dlon) = (step(lat)?, step(lon)?);
    let r = crate::grid::EARTH_RADIUS_M / 1000.0;
    let row = |la: f64| {
        let (s, n) = ((la - dlat / 2.0).max(-90.0), (la + dlat / 2.0).min(90.0));
        r * r * dlon.to_radians() * (n.to_radians().sin() - s.to_radians().sin()).abs()
    };
    Some(
        lat.iter()
            .flat_map(|&la| std::iter::repeat(row(la)).take(lon.len()))
            .collect(),
    )
}

/// The country (index into [`Countries::all`]) of every cell of `regions` (row-major over
/// the grid, `None` elsewhere and at sea), found once for all leads.
pub fn cell_countries(
    spatial: &Spatial,
    countries: &Countries,
    regions: &[RegionCells],
) -> Vec<Option<usize>> {
    let (ny, nx) = spatial.shape();
    let mut out = vec![None; ny * nx];
    for r in regions {
        for &(k, _) in &r.cells {
            if out[k].is_none() {
                let (lat, lon) = spatial.cell_lat_lon(k / nx, k % nx);
                out[k] = countries.all().iter().position(|c| c.contains(lat, lon));
            }
        }
    }
    out
}

/// Where the country table's cells are: each cell's country ([`cell_countries`]) and, on a
/// regular grid, each cell's area ([`cell_areas_km2`]).
#[derive(Debug, Clone, Copy)]
pub struct CountryCells<'a> {
    /// The country of every cell (`None` at sea and outside the regions).
    pub country: &'a [Option<usize>],
    /// The area of every cell, km².
    pub area_km2: Option<&'a [f64]>,
}

/// The country table of one lead: for every country with cells in one of `regions`,
/// the cos(latitude)-weighted mean probabilities over its cells with a forecast and the share
/// of its area they cover, in the order of `countries`.
pub fn summarise_countries(
    maps: &LeadMaps,
    countries: &Countries,
    cells: CountryCells,
    regions: &[&RegionCells],
    lead: &str,
    target: &str,
) -> Vec<CountryOutlook> {
    let cell_country = cells.country;
    let mut covered = vec![0.0f64; countries.all().len()];
    let mut sums = vec![([0.0f64; 3], 0.0f64, 0usize); countries.all().len()];
    let mut seen = vec![false; cell_country.len()];
    for &(k, w) in regions.iter().flat_map(|r| r.cells.iter()) {
        if std::mem::replace(&mut seen[k], true) || !maps.probability[0][k].is_finite() {
            continue;
        }
        let Some(c) = cell_country[k] else {
            continue;
        };
        let entry = &mut sums[c];
        for (acc, m) in entry.0.iter_mut().zip(&maps.probability) {
            *acc += w * f64::from(m[k]);
        }
        entry.1 += w;
        entry.2 += 1;
        if let Some(a) = cells.area_km2 {
            covered[c] += a[k];
        }
    }
    countries
        .all()
        .iter()
        .zip(sums)
        .zip(covered)
        .filter(|((_, s), _)| s.2 > 0 && s.1 > 0.0)
        .map(|((c, (p, w, n)), area)| CountryOutlook {
            country: c.name.clone(),
            iso_a3: c.iso_a3.clone(),
            lead: lead.to_string(),
            target: target.to_string(),
            cells: n,
            area_share: if cells.area_km2.is_some() {
                (area / c.area_km2()).min(1.0)
            } else {
                f64::NAN
            },
            mean_probability: p.map(|v| v / w),
        })
        .collect()
}

/// Fewest cells for a country to be in the Markdown country table (the JSON has all).
pub const MIN_COUNTRY_CELLS: usize = 3;

/// The least share of a country's area its cells in the regions must cover for the Markdown
/// country table (the JSON has all, with their share): a third, so that a mean over a sliver
/// of a large country (China's edge inside an India box) is not given as the country's.
pub const MIN_COUNTRY_AREA_SHARE: f64 = 1.0 / 3.0;

/// The country table as Markdown; `heading_suffix` follows "Country table" in the heading
/// (" — temperature" in a bulletin of several variables).
pub fn country_markdown(rows: &[CountryOutlook], heading_suffix: &str, cat: &Catalogue) -> String {
    area_table_markdown(rows, AreaKind::Country, heading_suffix, cat)
}

/// The province table as Markdown (rows from [`summarise_countries`] over admin-1 polygons,
/// the same thresholds as the country table); `heading_suffix` as in [`country_markdown`].
pub fn province_markdown(rows: &[CountryOutlook], heading_suffix: &str, cat: &Catalogue) -> String {
    area_table_markdown(rows, AreaKind::Province, heading_suffix, cat)
}

/// Which areas a table of area means lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AreaKind {
    Country,
    Province,
}

fn area_table_markdown(
    rows: &[CountryOutlook],
    kind: AreaKind,
    heading_suffix: &str,
    cat: &Catalogue,
) -> String {
    let shown = |r: &&CountryOutlook| {
        r.cells >= MIN_COUNTRY_CELLS
            && (r.area_share.is_nan() || r.area_share >= MIN_COUNTRY_AREA_SHARE)
    };
    if !rows.iter().any(|r| shown(&r)) {
        return String::new();
    }
    let part = match kind {
        AreaKind::Country => "country",
        AreaKind::Province => "province",
    };
    let text = |key: &str| {
        cat.text(
            &format!("body.{part}_{key}"),
            &[("cells", &MIN_COUNTRY_CELLS.to_string())],
        )
    };
    let mut s = format!(
        "\n## {}{heading_suffix}\n\n{}\n\n{}\n|---|---|---|---|---|---|---|\n",
        text("table"),
        text("text"),
        text("columns")
    );
    for r in rows.iter().filter(shown) {
        let best = (0..3).fold(0, |b, c| {
            if r.mean_probability[c] > r.mean_probability[b] {
                c
            } else {
                b
            }
        });
        let cell = |c: usize| {
            let v = format!("{} %", percent(r.mean_probability[c]));
            if c == best {
                format!("**{v}**")
            } else {
                v
            }
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            cat.country(&r.country, &r.iso_a3),
            cat.lead(&r.lead),
            cat.period(&r.target),
            r.cells,
            cell(0),
            cell(1),
            cell(2)
        ));
    }
    s
}

/// What the methods section of a bulletin says.
#[derive(Debug, Clone, Serialize)]
pub struct Methods {
    /// Each model: name, members, hindcast years.
    pub models: Vec<(String, usize, (i32, i32))>,
    /// Observations used (file name and variable).
    pub observations: String,
    /// Bias correction.
    pub bias: String,
    /// How probabilities and weights are made.
    pub probabilities: String,
    /// The regions and what they hold.
    pub regions: Vec<(String, String)>,
    /// The reliability of the cross-validated MME hindcast over the whole domain: per
    /// variable and lead, e.g. "rainfall, month 1: below 0.92, near 0.78, above 0.81" (slopes
    /// of the reliability diagrams).
    pub reliability: Vec<String>,
}

/// The methods section as Markdown.
pub fn methods_markdown(m: &Methods, cat: &Catalogue) -> String {
    let t = |key: &str| cat.text(key, &[]);
    let mut s = format!(
        "\n## {}\n\n{}\n|---|---|---|\n",
        t("methods.heading"),
        t("methods.columns")
    );
    for (name, members, (a, b)) in &m.models {
        s.push_str(&format!("| {name} | {members} | {a}–{b} |\n"));
    }
    s.push_str(&format!(
        "\n- **{}**: {}.\n- **{}**: {}.\n- **{}**: {}.\n- **{}**: {}\n",
        t("methods.observations"),
        m.observations,
        t("methods.bias"),
        m.bias,
        t("methods.probabilities"),
        m.probabilities,
        t("methods.verification"),
        t("methods.verification_text")
    ));
    if !m.reliability.is_empty() {
        s.push_str(&format!(
            "- **{}** {}\n",
            t("methods.reliability"),
            cat.text(
                "methods.reliability_text",
                &[("slopes", &m.reliability.join("; "))]
            )
        ));
    }
    let regions: Vec<String> = m
        .regions
        .iter()
        .map(|(name, what)| format!("{} ({what})", cat.region(name)))
        .collect();
    s.push_str(&format!(
        "- **{}**: {}.\n",
        t("methods.regions"),
        regions.join("; ")
    ));
    s
}

/// A region's name as a reader writes it: `south_asia` → "South Asia", `india` → "India".
pub fn display_name(name: &str) -> String {
    name.split(['_', ' '])
        .filter(|w| !w.is_empty())
        .map(capitalised)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The key message of a regional summary, in plain words: which category is favoured, over
/// how much of the region and with what chance where it is (the most common map shade),
/// then how far the hindcasts say to trust it. `what` names the quantity ("rainfall"; in the
/// bulletin's language through `cat`).
pub fn key_message(o: &RegionOutlook, what: &str, cat: &Catalogue) -> String {
    let region = cat.region(&o.region);
    if o.cells == 0 {
        return cat.text("message.no_cells", &[("region", &region)]);
    }
    let (best, share) =
        o.dominant_share.iter().enumerate().fold(
            (0, -1.0),
            |acc, (c, &s)| if s > acc.1 { (c, s) } else { acc },
        );
    let word = cat.quantity(what);
    let target = cat.period(&o.target);
    let skill = if o.skilful_share.is_finite() {
        format!(
            " {}",
            cat.text(
                "message.skill",
                &[
                    ("share", &percent(o.skilful_share)),
                    ("acc", &cat.number(o.acc, 2))
                ]
            )
        )
    } else {
        String::new()
    };
    let means = cat.text(
        "message.means",
        &[
            ("below", &percent(o.mean_probability[0])),
            ("near", &percent(o.mean_probability[1])),
            ("above", &percent(o.mean_probability[2])),
        ],
    );
    let details = format!(
        "{}{}{skill}",
        mean_words(o, what, cat),
        extremes_words(o, what, cat)
    );
    if share < 0.2 {
        let text = cat.text(
            "message.no_category",
            &[
                ("region", &region),
                ("target", &target),
                ("what", &word),
                ("share", &percent(o.no_dominant_share)),
                ("means", &means),
            ],
        );
        return format!("{text}{details}");
    }
    // The most common shade where category c is dominant.
    let chance = |c: usize| {
        let (bin, _) = o.dominant_bins[c]
            .iter()
            .enumerate()
            .fold(
                (0, -1.0),
                |acc, (b, &v)| if v > acc.1 { (b, v) } else { acc },
            );
        match bin {
            3 => cat.text("message.chance_top", &[]),
            b => cat.text(
                "message.chance_bin",
                &[
                    ("low", &(40 + 10 * b).to_string()),
                    ("high", &(50 + 10 * b).to_string()),
                ],
            ),
        }
    };
    let category = capitalised(&cat.text(
        ["category.below", "category.near", "category.above"][best],
        &[("what", &word)],
    ));
    // A second category favoured over a fifth of the region or more is said too.
    let second = (0..3)
        .filter(|&c| c != best && o.dominant_share[c] >= 0.2)
        .max_by(|&a, &b| o.dominant_share[a].total_cmp(&o.dominant_share[b]))
        .map(|c| {
            cat.text(
                "message.second",
                &[
                    (
                        "category",
                        &cat.text(["message.below", "message.near", "message.above"][c], &[]),
                    ),
                    ("share", &percent(o.dominant_share[c])),
                    ("chance", &chance(c)),
                ],
            )
        })
        .unwrap_or_default();
    let text = cat.text(
        "message.favoured",
        &[
            ("category", &category),
            ("share", &percent(share)),
            ("region", &region),
            ("target", &target),
            ("chance", &chance(best)),
            ("second", &second),
            ("means", &means),
        ],
    );
    format!("{text}{details}")
}

/// The MME mean of a regional summary in words: its anomaly for temperature (°C, the unit
/// the reader converts temperatures to), its percent of normal otherwise. Empty without.
fn mean_words(o: &RegionOutlook, what: &str, cat: &Catalogue) -> String {
    if what == "temperature" && o.mean_anomaly.is_finite() {
        format!(
            " {}",
            cat.text(
                "message.anomaly",
                &[("anomaly", &cat.signed(o.mean_anomaly, 1))]
            )
        )
    } else if what != "temperature" && o.percent_of_normal.is_finite() {
        format!(
            " {}",
            cat.text(
                "message.percent_of_normal",
                &[
                    ("what", &cat.quantity(what)),
                    ("pct", &format!("{:.0}", o.percent_of_normal)),
                ]
            )
        )
    } else {
        String::new()
    }
}

/// The extremes of a regional summary in words: the area-mean chance of the quantity beyond
/// the climatological low / high percentiles against their climatological chance — heat and cold
/// for temperature, very wet and very dry otherwise. Empty without extremes.
fn extremes_words(o: &RegionOutlook, what: &str, cat: &Catalogue) -> String {
    let [lo, hi] = o.extreme_probability;
    if !(lo.is_finite() && hi.is_finite()) {
        return String::new();
    }
    let [l, h] = o.extreme_levels;
    let key = if what == "temperature" {
        "message.extremes_temperature"
    } else {
        "message.extremes_rain"
    };
    format!(
        " {}",
        cat.text(
            key,
            &[
                ("high", &percent(h)),
                ("p_high", &percent(hi)),
                ("clim_high", &percent(1.0 - h)),
                ("low", &percent(l)),
                ("p_low", &percent(lo)),
                ("clim_low", &percent(l)),
            ]
        )
    )
}

/// One variable's part of a bulletin: its key messages, regional table, maps and country
/// table.
#[derive(Debug, Clone, Copy)]
pub struct VariableSection<'a> {
    /// The quantity in words ("rainfall", "temperature").
    pub what: &'a str,
    /// How the probabilities were made.
    pub method: &'a str,
    /// Regional summaries (every region and lead).
    pub outlooks: &'a [RegionOutlook],
    /// Tercile maps `(caption, file)`.
    pub maps: &'a [(String, String)],
    /// Deterministic maps (percent of normal, anomaly) `(caption, file)`.
    pub field_maps: &'a [(String, String)],
    /// What the deterministic maps show (one paragraph).
    pub field_note: &'a str,
    /// Area-mean probabilities per country.
    pub countries: &'a [CountryOutlook],
    /// Area-mean probabilities per province (admin-1 area; empty without `provinces`).
    pub provinces: &'a [CountryOutlook],
    /// Maps of the chance of the extremes (below the low and above the high percentile)
    /// `(caption, file)`.
    pub extreme_maps: &'a [(String, String)],
    /// POE curves and plumes of the regional mean `(caption, file)`.
    pub graphs: &'a [(String, String)],
    /// Whether cells without skill are hidden on the maps (`mask_unskilful`) rather than
    /// hatched.
    pub masked: bool,
}

/// `what` with a capital first letter ("rainfall" → "Rainfall").
pub fn capitalised(what: &str) -> String {
    let mut c = what.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The Markdown body of a bulletin of one or more variables (the front — title, dates,
/// headlines — is [`Front::markdown`]): every variable's regional messages in detail, then
/// per variable a table per region, the maps and the country table; `what` of each section
/// names the quantity in its messages. With several variables the section headings carry the
/// variable ("Regional probabilities — temperature").
pub fn markdown(sections: &[VariableSection], cat: &Catalogue) -> String {
    let t = |key: &str| cat.text(key, &[]);
    let mut s = String::new();
    let several = sections.len() > 1;
    if let [only] = sections {
        s.push_str(&format!(
            "\n{}\n\n",
            cat.text("body.method", &[("method", only.method)])
        ));
    }
    s.push_str(&format!("\n## {}\n\n", t("body.by_region")));
    for v in sections {
        for o in v.outlooks {
            if several {
                s.push_str(&format!(
                    "- **{}** — {}\n",
                    capitalised(&cat.quantity(v.what)),
                    key_message(o, v.what, cat)
                ));
            } else {
                s.push_str(&format!("- {}\n", key_message(o, v.what, cat)));
            }
        }
    }
    for v in sections {
        let suffix = if several {
            format!(" — {}", cat.quantity(v.what))
        } else {
            String::new()
        };
        if several {
            s.push_str(&format!(
                "\n{}\n",
                cat.text(
                    "body.method_of",
                    &[("what", &cat.quantity(v.what)), ("method", v.method)]
                )
            ));
        }
        s.push_str(&format!(
            "\n## {}{suffix}\n\n{}\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            t("body.regional_probabilities"),
            t("body.region_columns")
        ));
        for o in v.outlooks {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} % | {} % | {} % | {} % | {} % | {} % | {} | {} |\n",
                cat.region(&o.region),
                cat.lead(&o.lead),
                cat.period(&o.target),
                o.cells,
                percent(o.mean_probability[0]),
                percent(o.mean_probability[1]),
                percent(o.mean_probability[2]),
                percent(o.dominant_share[0]),
                percent(o.dominant_share[2]),
                percent(o.no_dominant_share),
                cat.number(o.acc, 2),
                cat.number(o.rpss, 2)
            ));
        }
        s.push_str(&format!(
            "\n## {}{suffix}\n\n{}{}\n\n",
            t("body.maps"),
            t("body.maps_colour"),
            t(if v.masked {
                "body.maps_masked"
            } else {
                "body.maps_hatched"
            })
        ));
        for (caption, file) in v.maps {
            s.push_str(&format!("![{caption}]({file})\n\n"));
        }
        if !v.extreme_maps.is_empty() {
            let [low, high] = v.outlooks.first().map_or([0.1, 0.9], |o| o.extreme_levels);
            s.push_str(&format!(
                "\n{}\n\n",
                cat.text(
                    "body.extremes",
                    &[
                        ("low", &percent(low)),
                        ("high", &percent(high)),
                        ("high_chance", &percent(1.0 - high)),
                    ]
                )
            ));
            for (caption, file) in v.extreme_maps {
                s.push_str(&format!("![{caption}]({file})\n\n"));
            }
        }
        if !v.field_maps.is_empty() {
            s.push_str(&format!("{}\n\n", v.field_note));
            for (caption, file) in v.field_maps {
                s.push_str(&format!("![{caption}]({file})\n\n"));
            }
        }
        if !v.graphs.is_empty() {
            s.push_str(&format!(
                "\n## {}{suffix}\n\n{}\n\n",
                t("body.regional_mean"),
                t("body.regional_mean_text")
            ));
            for (caption, file) in v.graphs {
                s.push_str(&format!("![{caption}]({file})\n\n"));
            }
        }
        s.push_str(&country_markdown(v.countries, &suffix, cat));
        s.push_str(&province_markdown(v.provinces, &suffix, cat));
    }
    s
}

/// The genesis potential outlook as a Markdown section: a table per basin, the key messages
/// and the anomaly map `map` (file name); `season` labels the target months and year.
pub fn genesis_markdown(
    o: &crate::cyclone::genesis_outlook::GenesisOutlook,
    season: &str,
    map: &str,
    cat: &Catalogue,
) -> String {
    use crate::cyclone::genesis_outlook::{genesis_category_words, genesis_message};
    let (first, last) = (
        o.years.first().copied().unwrap_or_default(),
        o.years.last().copied().unwrap_or_default(),
    );
    let season_words = cat.period(season);
    let mut md = format!(
        "## {}\n\n{}\n\n{}\n|---|---|---|---|---|---|\n",
        cat.text("genesis.heading", &[("season", &season_words)]),
        cat.text(
            "genesis.intro",
            &[
                ("n", &o.years.len().to_string()),
                ("first", &first.to_string()),
                ("last", &last.to_string()),
            ],
        ),
        cat.text("genesis.columns", &[])
    );
    for b in &o.basins {
        md.push_str(&format!(
            "| {} | {} | {} | {} % | {} | {} |\n",
            cat.basin(&b.basin, &b.name),
            cat.number(b.forecast, 2),
            cat.number(b.normal, 2),
            cat.number(b.percent_of_normal, 0),
            genesis_category_words(&b.category, cat),
            cat.text(
                "genesis.years_of",
                &[
                    ("k", &b.years_below.to_string()),
                    ("n", &b.years.to_string())
                ],
            )
        ));
    }
    md.push_str(&format!(
        "\n### {}\n\n",
        cat.text("genesis.key_messages", &[])
    ));
    let label = season.split(' ').next().unwrap_or(season);
    for b in &o.basins {
        md.push_str(&format!("- {}\n", genesis_message(b, label, cat)));
    }
    md.push_str(&format!(
        "\n![{}]({map})\n\n*{}*\n",
        cat.text("genesis.map_caption", &[("season", &season_words)]),
        cat.text("genesis.map_note", &[])
    ));
    md
}

/// The observed climatology of the basins from best tracks (`source` the file name, `agency`
/// whose winds): storms per season and per month, ACE, and landfalls by country.
pub fn observed_climatology_markdown(
    climate: &[crate::cyclone::activity::ObservedClimatology],
    source: &str,
    agency: &str,
    cat: &Catalogue,
) -> String {
    let Some(first) = climate.first() else {
        return String::new();
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y0, y1) = first.years;
    let mut md = format!(
        "\n### {}\n\n{}\n\n{}\n|---|---|---|---|---|---|\n",
        cat.text(
            "tc.observed_heading",
            &[
                ("season", &cat.period(&first.season)),
                ("first", &y0.to_string()),
                ("last", &y1.to_string()),
            ]
        ),
        cat.text(
            "tc.observed_intro",
            &[("agency", agency), ("source", source)]
        ),
        cat.text("tc.observed_columns", &[])
    );
    for c in climate {
        let per_year = c
            .counts
            .iter()
            .map(|(y, n)| format!("{y}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let by_month = c
            .month_mean_counts
            .iter()
            .map(|(m, n)| {
                format!(
                    "{} {}",
                    cat.period(MONTHS[(*m as usize).clamp(1, 12) - 1]),
                    cat.number(*n, 1)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let landfall = if c.landfall_storms.is_empty() {
            cat.text("tc.none", &[])
        } else {
            c.landfall_storms
                .iter()
                .map(|(n, k)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        md.push_str(&format!(
            "| {} | {} | {per_year} | {by_month} | {} | {landfall} |\n",
            cat.basin(&c.basin, &c.basin_name),
            cat.number(c.count_mean, 1),
            cat.number(c.ace_mean, 1)
        ));
    }
    md
}

/// The seasonal cyclone activity outlook as a Markdown section: a table per basin and key
/// messages (a category is named "most likely" from the probability `most_likely_from`).
pub fn cyclone_activity_markdown(
    outlooks: &[ActivityOutlook],
    season: &str,
    (n_fc, n_hc): (usize, usize),
    most_likely_from: f64,
    cat: &Catalogue,
) -> String {
    let pct = |p: f64| format!("{} %", percent(p));
    let mut md = format!(
        "## {}\n\n{}\n\n{}\n|---|---|---|---|---|---|---|---|\n",
        cat.text("tc.heading", &[("season", &cat.period(season))]),
        cat.text(
            "tc.intro",
            &[("n_fc", &n_fc.to_string()), ("n_hc", &n_hc.to_string())]
        ),
        cat.text("tc.columns", &[])
    );
    for o in outlooks {
        md.push_str(&format!(
            "| {} | {}{} | {} | {} | {} / {} / {} | {} | {} | {} / {} |\n",
            cat.basin(&o.basin, &o.basin_name),
            cat.number(o.count_mean, 1),
            o.count_calibrated
                .map(|c| cat.text("tc.calibrated", &[("count", &cat.number(c, 1))]))
                .unwrap_or_default(),
            cat.number(o.count_climatology, 1),
            cat.signed(o.count_anomaly, 1),
            pct(o.tercile_probabilities[0]),
            pct(o.tercile_probabilities[1]),
            pct(o.tercile_probabilities[2]),
            pct(o.prob_at_least.first().copied().unwrap_or(0.0)),
            pct(o.prob_at_least.get(1).copied().unwrap_or(0.0)),
            cat.number(o.ace_mean, 1),
            cat.number(o.ace_climatology, 1)
        ));
    }
    md.push_str(&format!("\n### {}\n\n", cat.text("tc.key_messages", &[])));
    for o in outlooks {
        let basin = cat.basin(&o.basin, &o.basin_name);
        let t = o.tercile_probabilities;
        let (k, p) = t
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, p)| (k, *p))
            .unwrap_or((1, 0.0));
        if o.count_mean == 0.0 && o.count_climatology == 0.0 {
            md.push_str(&format!(
                "- {}\n",
                cat.text("tc.no_storms", &[("basin", &basin)])
            ));
            continue;
        }
        let (fc, clim) = (
            cat.number(o.count_mean, 1),
            cat.number(o.count_climatology, 1),
        );
        // a category is "most likely" from `most_likely_from` (the C3S/NMME convention: 40 %)
        let message = if p >= most_likely_from {
            cat.text(
                "tc.most_likely",
                &[
                    ("basin", &basin),
                    (
                        "category",
                        &cat.text(["tc.below", "tc.near", "tc.above"][k], &[]),
                    ),
                    ("p", &pct(p)),
                    ("fc", &fc),
                    ("clim", &clim),
                ],
            )
        } else {
            cat.text(
                "tc.no_signal",
                &[
                    ("basin", &basin),
                    ("below", &pct(t[0])),
                    ("near", &pct(t[1])),
                    ("above", &pct(t[2])),
                    ("fc", &fc),
                    ("clim", &clim),
                ],
            )
        };
        md.push_str(&format!("- {message}"));
        if let Some((c, pf, ph)) = o.landfall.first() {
            md.push_str(&format!(
                " {}",
                cat.text(
                    "tc.landfall",
                    &[("country", c), ("pf", &pct(*pf)), ("ph", &pct(*ph))]
                )
            ));
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grid, probabilities, dominant category, ACC, RPSS.
    type Case = (Spatial, [Vec<f32>; 3], Vec<i8>, Vec<f32>, Vec<f32>);

    /// Four cells at the equator in a 2 × 2 box: two above normal at 45 % and 65 %, one below
    /// at 55 %, one without a dominant category; RPSS positive in one.
    fn case() -> Case {
        let spatial = Spatial::Grid {
            lat: vec![-0.5, 0.5],
            lon: vec![80.0, 81.0],
        };
        let below = vec![0.2, 0.2, 0.55, 0.34];
        let near = vec![0.35, 0.15, 0.25, 0.33];
        let above = vec![0.45, 0.65, 0.2, 0.33];
        let dominant = vec![2, 2, 0, -1];
        (
            spatial,
            [below, near, above],
            dominant,
            vec![0.3; 4],
            vec![0.1, -0.2, -0.1, f32::NAN],
        )
    }

    #[test]
    fn region_summary_and_key_message_by_hand() {
        let (spatial, p, dominant, acc, rpss) = case();
        let high = vec![0.3f32, 0.3, 0.1, f32::NAN];
        let low = vec![0.05f32, 0.05, 0.2, f32::NAN];
        // MME mean 2, 2, 1, 4.2 against a normal of 2 everywhere: 9.2 / 8 of normal, +0.3
        let (mean, normal) = (vec![2.0f32, 2.0, 1.0, 4.2], vec![2.0f32; 4]);
        let lm = LeadMaps {
            probability: [&p[0], &p[1], &p[2]],
            dominant: &dominant,
            acc: &acc,
            rpss: &rpss,
            extremes: Some([&low, &high]),
            extreme_levels: [0.1, 0.9],
            mean_and_normal: Some([&mean, &normal]),
        };
        let region = Region::parse("south_india=79,82,-1,1").unwrap();
        let o = summarise(
            &lm,
            &RegionCells::new(&region, &spatial),
            "month 1",
            "Oct–Dec 2021",
        );
        assert_eq!(o.cells, 4);
        // Equal weights at ±0.5°: plain means and shares.
        assert!((o.dominant_share[2] - 0.5).abs() < 1e-9);
        assert!((o.dominant_share[0] - 0.25).abs() < 1e-9);
        assert!((o.dominant_bins[2][0] - 0.25).abs() < 1e-9); // 45 %
        assert!((o.dominant_bins[2][2] - 0.25).abs() < 1e-9); // 65 %
        assert!((o.skilful_share - 1.0 / 3.0).abs() < 1e-6);
        assert!((o.percent_of_normal - 115.0).abs() < 1e-5);
        assert!((o.mean_anomaly - 0.3).abs() < 1e-6);
        let m = key_message(&o, "rainfall", &Catalogue::new("en").unwrap());
        assert!(
            m.contains("Ensemble-mean rainfall over the region: 115 % of normal."),
            "{m}"
        );
        assert!(
            key_message(&o, "temperature", &Catalogue::new("en").unwrap())
                .contains("anomaly over the region: +0.3 °C")
        );
        assert!(
            m.starts_with("Above-normal rainfall is favoured over 50 % of South India in Oct–Dec 2021, mostly with a 40–50 % chance; below-normal over 25 % (50–60 %)"),
            "{m}"
        );
        assert!(m.contains("skill (RPSS > 0) over 33 %"), "{m}");
        // Extremes over the three cells that have them: (0.3 + 0.3 + 0.1) / 3, (0.05+0.05+0.2)/3.
        assert!(
            m.contains("Chance of very wet (above the climatological 90th percentile): 23 % (normally 10 %); of very dry (below the 10th): 10 % (normally 10 %)."),
            "{m}"
        );
        assert!(
            key_message(&o, "temperature", &Catalogue::new("en").unwrap())
                .contains("Chance of heat")
        );
        assert_eq!(display_name("southeast_asia"), "Southeast Asia");
    }

    #[test]
    fn crop_grid_keeps_the_box_and_a_margin() {
        let spatial = Spatial::Grid {
            lat: (0..10).map(f64::from).collect(),
            lon: (0..20).map(|x| 60.0 + f64::from(x)).collect(),
        };
        let bbox = crate::cube::BBox::new(65.0, 67.0, 3.0, 4.0).unwrap();
        let (sub, idx) = crop_grid(&spatial, &bbox, 1).unwrap();
        let Spatial::Grid { lat, lon } = &sub else {
            panic!("grid")
        };
        assert_eq!(lat, &vec![2.0, 3.0, 4.0, 5.0]);
        assert_eq!(lon, &vec![64.0, 65.0, 66.0, 67.0, 68.0]);
        assert_eq!(idx.len(), 20);
        assert_eq!(idx[0], 2 * 20 + 4);
        let far = crate::cube::BBox::new(150.0, 160.0, 3.0, 4.0).unwrap();
        assert!(crop_grid(&spatial, &far, 1).is_none());
    }

    #[test]
    fn country_table_of_the_cells_in_the_regions() {
        let (spatial, p, dominant, acc, rpss) = case();
        let lm = LeadMaps {
            probability: [&p[0], &p[1], &p[2]],
            dominant: &dominant,
            acc: &acc,
            rpss: &rpss,
            extremes: None,
            extreme_levels: [0.1, 0.9],
            mean_and_normal: None,
        };
        // 80–81°E at the equator is sea: no country. Move the grid onto Sri Lanka.
        let land = Spatial::Grid {
            lat: vec![7.0, 8.0],
            lon: vec![80.5, 81.0],
        };
        let region = Region::parse("south_asia").unwrap();
        let on_land = RegionCells::new(&region, &land);
        let cell_country =
            cell_countries(&land, Countries::bundled(), std::slice::from_ref(&on_land));
        let rows = summarise_countries(
            &lm,
            Countries::bundled(),
            CountryCells {
                country: &cell_country,
                area_km2: None,
            },
            &[&on_land],
            "month 1",
            "Oct–Dec 2021",
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].iso_a3, "LKA");
        assert_eq!(rows[0].cells, 4);
        let sum: f64 = rows[0].mean_probability.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
        let at_sea = RegionCells::new(&region, &spatial);
        let none = cell_countries(
            &spatial,
            Countries::bundled(),
            std::slice::from_ref(&at_sea),
        );
        assert!(summarise_countries(
            &lm,
            Countries::bundled(),
            CountryCells {
                country: &none,
                area_km2: None
            },
            &[&at_sea],
            "",
            ""
        )
        .is_empty());
        let md = country_markdown(&rows, "", &Catalogue::new("en").unwrap());
        assert!(
            md.contains("| Sri Lanka | month 1 | Oct–Dec 2021 | 4 |"),
            "{md}"
        );
        // the same rows as a province table: its own heading and column
        let provinces = province_markdown(&rows, " — rainfall", &Catalogue::new("en").unwrap());
        assert!(
            provinces.contains("## Province table — rainfall")
                && provinces.contains("| province | lead |")
                && provinces.contains("| Sri Lanka | month 1 |"),
            "{provinces}"
        );
        // a sliver of a country (a tenth of its area) is left out of the table, a third is not
        let mut sliver = rows[0].clone();
        sliver.area_share = 0.1;
        assert!(country_markdown(&[sliver.clone()], "", &Catalogue::new("en").unwrap()).is_empty());
        sliver.area_share = 0.34;
        assert!(
            country_markdown(&[sliver], "", &Catalogue::new("en").unwrap())
                .contains("| Sri Lanka |")
        );
        // cell areas: a 1° cell at the equator is R² (π/180) (2 sin 0.5°) = 12 364 km²
        let at = |lat: f64| {
            cell_areas_km2(&Spatial::Grid {
                lat: vec![lat, lat + 1.0],
                lon: vec![10.0, 11.0],
            })
            .unwrap()[0]
        };
        assert!((at(0.0) - 12_364.0).abs() < 1.0, "{}", at(0.0));
        // cos 60° = 1/2
        assert!((at(60.0) / at(0.0) - 0.5).abs() < 1e-3);
    }
}
