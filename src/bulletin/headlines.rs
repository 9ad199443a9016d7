//! Headlines: the 3–5 one-line key messages a bulletin leads with, chosen by rules from the
//! regional summaries, the drought outlook and the cyclone genesis outlook (the way C3S, IRI
//! and the RCOF statements open), in the bulletin's language.
//!
//! # Rules
//! Each candidate has a strength in 0–1; the strongest [`MAX_HEADLINES`] are kept, at most one
//! per kind, region and quantity (the lead with the strongest signal).
//! - **Tercile**: below- or above-normal dominant over at least [`MIN_DOMINANT_AREA`] of a
//!   region; strength = that area share. Near normal is not headlined (it is the absence of a
//!   signal on these maps).
//! - **Extremes**: the area-mean chance of the period falling in the top (bottom) decile at
//!   least [`MIN_EXTREME_RATIO`] times its climatological chance; strength =
//!   (ratio − 1) / 4, at most 1.
//! - **Drought**: area-mean `P(SPI ≤ −1)` at least [`MIN_EXTREME_RATIO`] × 15.9 %; strength as
//!   for extremes.
//! - **Cyclones**: a basin's genesis potential in the upper or lower tercile of its hindcast
//!   years *and* at least [`MIN_GENESIS_DEPARTURE`] from 100 % of normal; strength =
//!   |percent − 100| / 50, at most 1.
//!
//! A region where the ensemble showed skill (RPSS > 0) over less than
//! [`MIN_SKILFUL_AREA`] of its area gives no tercile or extremes headline: the bulletin does not
//! lead with a signal the hindcasts say not to trust. Without any candidate the bulletin says
//! there is no clear signal.

use serde::Serialize;

use super::catalogue::Catalogue;
use super::{percent, DroughtSummary, RegionOutlook};
use crate::cyclone::genesis_outlook::BasinGenesis;

/// The most headlines a bulletin leads with (C3S and RCOF statements have 3–5).
pub const MAX_HEADLINES: usize = 5;

/// The least share of a region where a tercile category dominates for it to be headlined:
/// a quarter, so that a signal over a corner of a large region does not lead the bulletin.
pub const MIN_DOMINANT_AREA: f64 = 0.25;

/// The least share of a region with hindcast skill (RPSS > 0) for its tercile and extremes
/// signals to be headlined: a quarter (below it the skill map is mostly hatched).
pub const MIN_SKILFUL_AREA: f64 = 0.25;

/// How many times its climatological chance an extreme (or drought) must be to be headlined.
pub const MIN_EXTREME_RATIO: f64 = 1.5;

/// The least departure of a basin's genesis potential from normal, in percent, for a headline
/// (a tercile category a few percent from normal is "close to usual" to a reader).
pub const MIN_GENESIS_DEPARTURE: f64 = 10.0;

/// One headline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Headline {
    /// The line, in the bulletin's language.
    pub text: String,
    /// What it is about: `tercile`, `extreme`, `drought`, `cyclones`.
    pub kind: &'static str,
    /// The strength of the signal (0–1) it was ranked by.
    pub strength: f64,
}

/// What the headlines are chosen from.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadlineSources<'a> {
    /// Per variable: its quantity in English words (`rainfall`, `temperature`) and the
    /// regional summaries of every lead.
    pub variables: &'a [(&'a str, &'a [RegionOutlook])],
    /// The drought summaries.
    pub drought: &'a [DroughtSummary],
    /// The genesis potential per basin and the season's label.
    pub genesis: Option<(&'a [BasinGenesis], &'a str)>,
}

/// The headlines of a bulletin, strongest first; one "no clear signal" line without any.
pub fn headlines(src: &HeadlineSources, cat: &Catalogue) -> Vec<Headline> {
    // (kind, region or basin, quantity) → the strongest candidate
    let mut best: Vec<((&'static str, String, String), Headline)> = Vec::new();
    let mut offer = |key: (&'static str, String, String), h: Headline| match best
        .iter_mut()
        .find(|(k, _)| *k == key)
    {
        Some((_, old)) if old.strength >= h.strength => {}
        Some((_, old)) => *old = h,
        None => best.push((key, h)),
    };
    for &(what, outlooks) in src.variables {
        for o in outlooks.iter().filter(|o| o.cells > 0) {
            if o.skilful_share.is_finite() && o.skilful_share < MIN_SKILFUL_AREA {
                continue;
            }
            let region = cat.region(&o.region);
            let target = cat.period(&o.target);
            let quantity = cat.quantity(what);
            // the stronger of below and above normal
            let c = if o.dominant_share[2] >= o.dominant_share[0] {
                2
            } else {
                0
            };
            let share = o.dominant_share[c];
            if share.is_finite() && share >= MIN_DOMINANT_AREA {
                let category = cat.text(
                    if c == 2 {
                        "category.above"
                    } else {
                        "category.below"
                    },
                    &[("what", &quantity)],
                );
                let text = cat.text(
                    "headline.tercile",
                    &[
                        ("region", &region),
                        ("target", &target),
                        ("category", &category),
                        ("share", &percent(share)),
                        ("chance", &percent(o.mean_probability[c])),
                    ],
                );
                offer(
                    ("tercile", o.region.clone(), what.to_string()),
                    Headline {
                        text,
                        kind: "tercile",
                        strength: share.min(1.0),
                    },
                );
            }
            // extremes: [low, high] against their climatological chances
            let clim = [o.extreme_levels[0], 1.0 - o.extreme_levels[1]];
            let keys = match what {
                "rainfall" => ["headline.very_dry", "headline.very_wet"],
                "temperature" => ["headline.cold", "headline.heat"],
                _ => continue,
            };
            for side in 0..2 {
                let (p, c) = (o.extreme_probability[side], clim[side]);
                if !(p.is_finite() && c.is_finite() && c > 0.0) || p < MIN_EXTREME_RATIO * c {
                    continue;
                }
                let text = cat.text(
                    keys[side],
                    &[
                        ("region", &region),
                        ("target", &target),
                        ("p", &percent(p)),
                        ("clim", &percent(c)),
                    ],
                );
                offer(
                    ("extreme", o.region.clone(), format!("{what}{side}")),
                    Headline {
                        text,
                        kind: "extreme",
                        strength: ((p / c - 1.0) / 4.0).min(1.0),
                    },
                );
            }
        }
    }
    /// `P(SPI ≤ −1)` of a normal distribution.
    const DROUGHT_CLIMATOLOGY: f64 = 0.1587;
    for d in src.drought.iter().filter(|d| d.cells > 0) {
        let p = d.drought_probability[0];
        if !p.is_finite() || p < MIN_EXTREME_RATIO * DROUGHT_CLIMATOLOGY {
            continue;
        }
        let text = cat.text(
            "headline.drought",
            &[
                ("region", &cat.region(&d.region)),
                ("target", &cat.period(&d.target)),
                ("p", &percent(p)),
            ],
        );
        offer(
            ("drought", d.region.clone(), String::new()),
            Headline {
                text,
                kind: "drought",
                strength: ((p / DROUGHT_CLIMATOLOGY - 1.0) / 4.0).min(1.0),
            },
        );
    }
    if let Some((basins, season)) = src.genesis {
        for b in basins {
            let departure = b.percent_of_normal - 100.0;
            let key = match b.category.as_str() {
                "above normal" if departure >= MIN_GENESIS_DEPARTURE => "headline.cyclones_more",
                "below normal" if -departure >= MIN_GENESIS_DEPARTURE => "headline.cyclones_fewer",
                _ => continue,
            };
            let text = cat.text(
                key,
                &[
                    ("basin", &cat.basin(&b.basin, &b.name)),
                    ("season", &cat.period(season)),
                    ("pct", &format!("{:.0}", b.percent_of_normal)),
                ],
            );
            offer(
                ("cyclones", b.basin.clone(), String::new()),
                Headline {
                    text,
                    kind: "cyclones",
                    strength: (departure.abs() / 50.0).min(1.0),
                },
            );
        }
    }
    let mut out: Vec<Headline> = best.into_iter().map(|(_, h)| h).collect();
    // strongest first; equal strengths keep the order of the sources
    out.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    out.truncate(MAX_HEADLINES);
    if out.is_empty() {
        out.push(Headline {
            text: cat.text("page.no_signal", &[]),
            kind: "none",
            strength: 0.0,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outlook(region: &str, dominant: [f64; 3], skilful: f64, ext: [f64; 2]) -> RegionOutlook {
        RegionOutlook {
            region: region.into(),
            lead: "month 1".into(),
            target: "Oct–Dec 2021".into(),
            cells: 10,
            mean_probability: [0.25, 0.3, 0.45],
            dominant_share: dominant,
            dominant_bins: [[0.0; 4]; 3],
            no_dominant_share: 1.0 - dominant.iter().sum::<f64>(),
            acc: 0.4,
            rpss: 0.05,
            skilful_share: skilful,
            extreme_probability: ext,
            extreme_levels: [0.1, 0.9],
            mean_anomaly: f64::NAN,
            percent_of_normal: f64::NAN,
        }
    }

    #[test]
    fn ranked_skipped_where_unskilful_and_capped() {
        let en = Catalogue::new("en").unwrap();
        let rain = [
            // 62 % above normal: headline; extremes 27 % very wet (2.7× → 0.425)
            outlook("south_asia", [0.1, 0.0, 0.62], 0.6, [0.05, 0.27]),
            // strong signal but no skill: nothing
            outlook("central_asia", [0.0, 0.0, 0.9], 0.1, [0.05, 0.5]),
            // below normal over 30 %
            outlook("southeast_asia", [0.3, 0.0, 0.1], f64::NAN, [0.1, 0.1]),
        ];
        let vars = [("rainfall", &rain[..])];
        let h = headlines(
            &HeadlineSources {
                variables: &vars,
                ..Default::default()
            },
            &en,
        );
        let texts: Vec<&str> = h.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "South Asia, Oct–Dec 2021: above-normal rainfall favoured over 62 % of the area (45 % chance on average).",
                "South Asia, Oct–Dec 2021: very wet conditions more likely than usual — 27 % chance (normally 10 %).",
                "Southeast Asia, Oct–Dec 2021: below-normal rainfall favoured over 30 % of the area (25 % chance on average).",
            ]
        );
        assert!((h[1].strength - 0.425).abs() < 1e-12);
        // many regions: at most five
        let many: Vec<RegionOutlook> = (0..9)
            .map(|k| {
                outlook(
                    &format!("r{k}"),
                    [0.0, 0.0, 0.3 + 0.05 * k as f64],
                    0.5,
                    [0.1; 2],
                )
            })
            .collect();
        let vars = [("temperature", &many[..])];
        let h = headlines(
            &HeadlineSources {
                variables: &vars,
                ..Default::default()
            },
            &en,
        );
        assert_eq!(h.len(), MAX_HEADLINES);
        assert!(h[0].text.starts_with("R8,"), "{}", h[0].text);
        // nothing to say
        let none = headlines(&HeadlineSources::default(), &en);
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].kind, "none");
        let ru = Catalogue::new("ru").unwrap();
        let vars = [("rainfall", &rain[..1])];
        let h = headlines(
            &HeadlineSources {
                variables: &vars,
                ..Default::default()
            },
            &ru,
        );
        assert_eq!(
            h[0].text,
            "Южная Азия, окт–дек 2021: вероятнее всего осадки выше нормы на 62 % территории (в среднем 45 %)."
        );
    }
}
