//! The seasonal outlook of a month's sea-ice extent from several models' members.
//!
//! For each model, the members of the target month in the hindcast years and the forecast
//! year, and the observed extent of the same month:
//! 1. **Adjustment** (mean and trend, [`Adjustment::MeanAndTrend`]): least-squares lines
//!    `m(y) = aₘ + bₘ·y` through the model's ensemble means and `o(y) = aₒ + bₒ·y` through
//!    the observations over the hindcast years both have; each member becomes
//!    `x' = x − m(y) + o(y)`. [`Adjustment::Mean`] uses the means instead of the lines.
//! 2. **Distribution**: the adjusted members of the forecast year; the multi-model ensemble
//!    gives each model the same weight whatever its number of members.
//! 3. **Probabilities** against the observed climate of the hindcast years: below, near and
//!    above normal (the observed terciles, linear interpolation between order statistics) and a
//!    **record low** (below the lowest observed extent of the target month before the target
//!    year).
//! 4. **Hindcast skill**, cross-validated: each hindcast year is adjusted with lines fitted
//!    without it; RMSE and correlation of the adjusted ensemble mean, the RMSE of the raw one,
//!    and the mean-square skill score against the observed linear trend fitted without that
//!    year, `MSSS = 1 − MSE / MSE_trend` (Blanchard-Wrigglesworth et al. 2015).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::quantile_sorted;
use thiserror::Error;

/// Why an outlook cannot be made.
#[derive(Debug, Error, PartialEq)]
pub enum OutlookError {
    /// Too few years shared by a model's hindcast and the observations.
    #[error("model '{model}': only {found} hindcast year(s) have both members and an observed extent; the {adjustment} adjustment needs at least {needed}")]
    TooFewYears {
        /// The model.
        model: String,
        /// Years found.
        found: usize,
        /// Years needed.
        needed: usize,
        /// The adjustment asked for.
        adjustment: Adjustment,
    },
    /// A model without forecast members.
    #[error("model '{model}' has no forecast member for the target year {year}")]
    NoForecast {
        /// The model.
        model: String,
        /// The target year.
        year: i32,
    },
    /// No model at all.
    #[error("no model given")]
    NoModel,
}

/// How model extents are adjusted to the observed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Adjustment {
    /// Raw members.
    None,
    /// The hindcast mean error removed.
    Mean,
    /// The hindcast mean error and the difference of linear trends removed.
    MeanAndTrend,
}

impl std::fmt::Display for Adjustment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Adjustment::None => "none",
            Adjustment::Mean => "mean",
            Adjustment::MeanAndTrend => "mean-and-trend",
        })
    }
}

impl Adjustment {
    /// Hindcast years needed: a mean needs two (one left out in cross-validation), a line
    /// three, and a skill score one more than that.
    fn years_needed(self) -> usize {
        match self {
            Adjustment::None => 2,
            Adjustment::Mean => 3,
            Adjustment::MeanAndTrend => 4,
        }
    }
}

/// One model's extents of the target month (10⁶ km²).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelExtents {
    /// Model name.
    pub name: String,
    /// Members of each hindcast year.
    pub hindcast: BTreeMap<i32, Vec<f64>>,
    /// Members of the forecast year.
    pub forecast: Vec<f64>,
}

/// The observed climate the probabilities refer to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedClimate {
    /// First and last hindcast year with an observation.
    pub years: (i32, i32),
    /// Lower and upper tercile of the observed extents of those years.
    pub terciles: [f64; 2],
    /// Observed mean of those years.
    pub mean: f64,
    /// Lowest observed extent before the target year, and its year.
    pub record_low: Option<(i32, f64)>,
    /// Observed linear trend over the hindcast years, 10⁶ km² per decade.
    pub trend_per_decade: f64,
}

/// Probabilities of the forecast extent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExtentProbabilities {
    /// Below the lower observed tercile.
    pub below: f64,
    /// Between the terciles.
    pub near: f64,
    /// Above the upper tercile.
    pub above: f64,
    /// Below the observed record low (NaN without an observed record).
    pub record_low: f64,
}

/// Cross-validated hindcast skill of the adjusted ensemble mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HindcastSkill {
    /// Hindcast years verified.
    pub years: usize,
    /// RMSE of the adjusted ensemble mean, 10⁶ km².
    pub rmse: f64,
    /// RMSE of the raw ensemble mean, 10⁶ km².
    pub rmse_raw: f64,
    /// Pearson correlation of the adjusted ensemble mean with the observations.
    pub correlation: f64,
    /// RMSE of the observed linear trend (fitted without the verified year), 10⁶ km².
    pub rmse_trend: f64,
    /// `1 − MSE / MSE_trend`.
    pub msss_vs_trend: f64,
}

/// One model's outlook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelOutlook {
    /// Model name.
    pub name: String,
    /// Mean of the raw forecast members.
    pub raw_mean: f64,
    /// The adjusted forecast members.
    pub members: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Correction added to every member of the forecast year.
    pub correction: f64,
    /// Probabilities from the adjusted members.
    pub probabilities: ExtentProbabilities,
    /// Cross-validated hindcast skill.
    pub skill: HindcastSkill,
    /// Cross-validated adjusted ensemble mean of each hindcast year, with the observation.
    pub hindcast: Vec<(i32, f64, f64)>,
}

/// The outlook of every model and of their equal-weight combination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtentOutlook {
    /// The year forecast.
    pub target_year: i32,
    /// The adjustment used.
    pub adjustment: Adjustment,
    /// The observed climate.
    pub climate: ObservedClimate,
    /// Each model.
    pub models: Vec<ModelOutlook>,
    /// Multi-model mean of the adjusted forecasts.
    pub mme_mean: f64,
    /// Multi-model 10th, 50th and 90th percentiles (equal weight per model).
    pub mme_percentiles: [f64; 3],
    /// Multi-model probabilities (the mean of the models').
    pub mme_probabilities: ExtentProbabilities,
    /// Cross-validated skill of the multi-model mean.
    pub mme_skill: HindcastSkill,
}

/// Least-squares line `(a, b)` of `v` on `y`; the mean and a zero slope when the years do not
/// vary.
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let my = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mv = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - my).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - my) * (p.1 - mv)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (mv - b * my, b)
}

/// The value at year `y` of the fit of `points` the adjustment uses.
fn fitted(adjustment: Adjustment, points: &[(f64, f64)], y: f64) -> f64 {
    match adjustment {
        Adjustment::None => 0.0,
        Adjustment::Mean => points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64,
        Adjustment::MeanAndTrend => {
            let (a, b) = line(points);
            a + b * y
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn probabilities(members: &[f64], climate: &ObservedClimate) -> ExtentProbabilities {
    let n = members.len() as f64;
    let share = |f: &dyn Fn(f64) -> bool| members.iter().filter(|&&x| f(x)).count() as f64 / n;
    let [lo, hi] = climate.terciles;
    ExtentProbabilities {
        below: share(&|x| x < lo),
        near: share(&|x| (lo..=hi).contains(&x)),
        above: share(&|x| x > hi),
        record_low: climate
            .record_low
            .map_or(f64::NAN, |(_, r)| share(&|x| x < r)),
    }
}

/// One cross-validated hindcast year: `(year, adjusted forecast, raw forecast, observed,
/// observed-trend reference)`.
type VerifiedYear = (i32, f64, f64, f64, f64);

/// Skill of a cross-validated series.
fn skill(rows: &[VerifiedYear]) -> HindcastSkill {
    let n = rows.len() as f64;
    let mse = |f: &dyn Fn(&VerifiedYear) -> f64| {
        rows.iter().map(|r| (f(r) - r.3).powi(2)).sum::<f64>() / n
    };
    let (m, m_raw, m_trend) = (mse(&|r| r.1), mse(&|r| r.2), mse(&|r| r.4));
    let (mf, mo) = (
        rows.iter().map(|r| r.1).sum::<f64>() / n,
        rows.iter().map(|r| r.3).sum::<f64>() / n,
    );
    let cov: f64 = rows.iter().map(|r| (r.1 - mf) * (r.3 - mo)).sum();
    let vf: f64 = rows.iter().map(|r| (r.1 - mf).powi(2)).sum();
    let vo: f64 = rows.iter().map(|r| (r.3 - mo).powi(2)).sum();
    HindcastSkill {
        years: rows.len(),
        rmse: m.sqrt(),
        rmse_raw: m_raw.sqrt(),
        correlation: if vf > 0.0 && vo > 0.0 {
            cov / (vf * vo).sqrt()
        } else {
            f64::NAN
        },
        rmse_trend: m_trend.sqrt(),
        msss_vs_trend: if m_trend > 0.0 {
            1.0 - m / m_trend
        } else {
            f64::NAN
        },
    }
}

/// The outlook of the target month's extent in `target_year` from `models` and the observed
/// extents of that month (`observed`, by year; years after the target are ignored).
pub fn extent_outlook(
    models: &[ModelExtents],
    observed: &BTreeMap<i32, f64>,
    target_year: i32,
    adjustment: Adjustment,
) -> Result<ExtentOutlook, OutlookError> {
    if models.is_empty() {
        return Err(OutlookError::NoModel);
    }
    let past: BTreeMap<i32, f64> = observed
        .iter()
        .filter(|(&y, v)| y < target_year && v.is_finite())
        .map(|(&y, &v)| (y, v))
        .collect();
    // every model's verified years, each with its ensemble mean and observation
    let mut per_model = Vec::new();
    for m in models {
        if m.forecast.iter().all(|v| !v.is_finite()) {
            return Err(OutlookError::NoForecast {
                model: m.name.clone(),
                year: target_year,
            });
        }
        let pairs: Vec<(i32, f64, f64)> = m
            .hindcast
            .iter()
            .filter(|(y, _)| **y < target_year)
            .filter_map(|(&y, members)| {
                let finite: Vec<f64> = members.iter().copied().filter(|v| v.is_finite()).collect();
                let o = *past.get(&y)?;
                (!finite.is_empty()).then(|| (y, mean(&finite), o))
            })
            .collect();
        if pairs.len() < adjustment.years_needed() {
            return Err(OutlookError::TooFewYears {
                model: m.name.clone(),
                found: pairs.len(),
                needed: adjustment.years_needed(),
                adjustment,
            });
        }
        per_model.push(pairs);
    }
    // the observed climate of the years the models verify on
    let years: Vec<i32> = {
        let mut all: Vec<i32> = per_model.iter().flatten().map(|p| p.0).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let mut clim: Vec<f64> = years.iter().map(|y| past[y]).collect();
    let obs_points: Vec<(f64, f64)> = years.iter().map(|&y| (f64::from(y), past[&y])).collect();
    let (_, slope) = line(&obs_points);
    clim.sort_by(f64::total_cmp);
    let climate = ObservedClimate {
        years: (years[0], years[years.len() - 1]),
        terciles: [
            quantile_sorted(&clim, 1.0 / 3.0),
            quantile_sorted(&clim, 2.0 / 3.0),
        ],
        mean: mean(&clim),
        record_low: past
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(&y, &v)| (y, v)),
        trend_per_decade: slope * 10.0,
    };

    let ty = f64::from(target_year);
    let mut outlooks = Vec::new();
    let mut cv_by_year: BTreeMap<i32, Vec<VerifiedYear>> = BTreeMap::new();
    for (m, pairs) in models.iter().zip(&per_model) {
        let model_pts: Vec<(f64, f64)> = pairs.iter().map(|p| (f64::from(p.0), p.1)).collect();
        let obs_pts: Vec<(f64, f64)> = pairs.iter().map(|p| (f64::from(p.0), p.2)).collect();
        let correction = fitted(adjustment, &obs_pts, ty) - fitted(adjustment, &model_pts, ty);
        let members: Vec<f64> = m
            .forecast
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| v + correction)
            .collect();
        let raw_mean = mean(&members) - correction;
        // cross-validation: year k adjusted and judged with lines fitted without it
        let mut rows = Vec::new();
        for k in 0..pairs.len() {
            let without = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
                pts.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(_, p)| *p)
                    .collect()
            };
            let (mo, oo) = (without(&model_pts), without(&obs_pts));
            let y = model_pts[k].0;
            let adjusted = model_pts[k].1 - fitted(adjustment, &mo, y) + fitted(adjustment, &oo, y);
            let (a, b) = line(&oo);
            let row = (pairs[k].0, adjusted, pairs[k].1, pairs[k].2, a + b * y);
            rows.push(row);
            cv_by_year.entry(row.0).or_default().push(row);
        }
        outlooks.push(ModelOutlook {
            name: m.name.clone(),
            raw_mean,
            mean: mean(&members),
            probabilities: probabilities(&members, &climate),
            members,
            correction,
            skill: skill(&rows),
            hindcast: rows.iter().map(|r| (r.0, r.1, r.3)).collect(),
        });
    }
    // the multi-model combination: equal weight per model
    let weighted: Vec<(f64, f64)> = {
        let mut w: Vec<(f64, f64)> = outlooks
            .iter()
            .flat_map(|o| {
                let wt = 1.0 / (o.members.len() as f64 * outlooks.len() as f64);
                o.members.iter().map(move |&x| (x, wt))
            })
            .collect();
        w.sort_by(|a, b| a.0.total_cmp(&b.0));
        w
    };
    let weighted_quantile = |p: f64| {
        let mut acc = 0.0;
        for &(x, w) in &weighted {
            acc += w;
            if acc >= p - 1e-12 {
                return x;
            }
        }
        weighted.last().map_or(f64::NAN, |v| v.0)
    };
    let n_models = outlooks.len() as f64;
    let avg = |f: &dyn Fn(&ExtentProbabilities) -> f64| {
        outlooks.iter().map(|o| f(&o.probabilities)).sum::<f64>() / n_models
    };
    let mme_probabilities = ExtentProbabilities {
        below: avg(&|p| p.below),
        near: avg(&|p| p.near),
        above: avg(&|p| p.above),
        record_low: avg(&|p| p.record_low),
    };
    // MME hindcast: years every model covers
    let mme_rows: Vec<VerifiedYear> = cv_by_year
        .iter()
        .filter(|(_, v)| v.len() == outlooks.len())
        .map(|(&y, v)| {
            let over_models =
                |f: &dyn Fn(&VerifiedYear) -> f64| v.iter().map(f).sum::<f64>() / n_models;
            // the observation is every model's; the observed-trend reference is the first
            // model's (fitted over its years without this one)
            (
                y,
                over_models(&|r| r.1),
                over_models(&|r| r.2),
                v[0].3,
                v[0].4,
            )
        })
        .collect();
    Ok(ExtentOutlook {
        target_year,
        adjustment,
        climate,
        mme_mean: outlooks.iter().map(|o| o.mean).sum::<f64>() / n_models,
        mme_percentiles: [
            weighted_quantile(0.1),
            weighted_quantile(0.5),
            weighted_quantile(0.9),
        ],
        mme_probabilities,
        mme_skill: skill(&mme_rows),
        models: outlooks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observed extent falling 0.08 per year from 7.0 in 2000; a model 1.5 too high whose
    /// trend is half the observed one; 3 members at ±0.2 around its mean.
    fn planted() -> (ModelExtents, BTreeMap<i32, f64>) {
        let obs: BTreeMap<i32, f64> = (2000..2020)
            .map(|y| (y, 7.0 - 0.08 * f64::from(y - 2000)))
            .collect();
        let model_mean = |y: i32| 8.5 - 0.04 * f64::from(y - 2000);
        let members = |y: i32| vec![model_mean(y) - 0.2, model_mean(y), model_mean(y) + 0.2];
        let m = ModelExtents {
            name: "planted".into(),
            hindcast: (2000..2020).map(|y| (y, members(y))).collect(),
            forecast: members(2020),
        };
        (m, obs)
    }

    #[test]
    fn mean_and_trend_adjustment_recovers_the_planted_observed_line() {
        let (m, obs) = planted();
        let o = extent_outlook(&[m], &obs, 2020, Adjustment::MeanAndTrend).unwrap();
        let mo = &o.models[0];
        // 2020 on the observed line: 7.0 − 1.6 = 5.4, members 5.2, 5.4, 5.6
        assert!((mo.mean - 5.4).abs() < 1e-9, "{}", mo.mean);
        assert!((mo.members[0] - 5.2).abs() < 1e-9);
        // raw 2020 mean 8.5 − 0.8 = 7.7: the correction is −2.3
        assert!((mo.correction + 2.3).abs() < 1e-9);
        // lines exact in every year left out: perfect cross-validated hindcast
        assert!(mo.skill.rmse < 1e-9, "{:?}", mo.skill);
        assert!(mo.skill.rmse_trend < 1e-9);
        assert_eq!(mo.skill.years, 20);
        // observed climate of 2000–2019: terciles of 7.0 − 0.08 k, k = 0..19
        let lower = 7.0 - 0.08 * (19.0 - 19.0 / 3.0);
        assert!((o.climate.terciles[0] - lower).abs() < 1e-9);
        assert!((o.climate.trend_per_decade + 0.8).abs() < 1e-9);
        assert_eq!(o.climate.record_low, Some((2019, 7.0 - 0.08 * 19.0)));
        // all three members (5.2–5.6) are below the record low 5.48? 5.2 and 5.4 are
        assert!((mo.probabilities.record_low - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(mo.probabilities.below, 1.0);
    }

    #[test]
    fn mean_adjustment_keeps_the_model_trend() {
        let (m, obs) = planted();
        let o = extent_outlook(&[m], &obs, 2020, Adjustment::Mean).unwrap();
        // mean error over 2000–2019: model 8.5 − 0.04·9.5, obs 7.0 − 0.08·9.5 → 1.5 + 0.38
        let c = -(1.5 + 0.04 * 9.5);
        assert!((o.models[0].correction - c).abs() < 1e-9);
    }

    #[test]
    fn models_weigh_the_same_whatever_their_members() {
        let (a, obs) = planted();
        let mut b = a.clone();
        b.name = "many".into();
        b.forecast = vec![b.forecast[1] + 10.0; 30];
        for v in b.hindcast.values_mut() {
            *v = vec![v[1] + 10.0; 30];
        }
        let o = extent_outlook(&[a, b], &obs, 2020, Adjustment::MeanAndTrend).unwrap();
        // b adjusts to 5.4 exactly (all members); the pooled median lies between a's 5.4 ones
        assert!((o.mme_mean - 5.4).abs() < 1e-9, "{}", o.mme_mean);
        // record-low probability: a 2/3, b 1 (5.4 < 5.48) → 5/6
        assert!((o.mme_probabilities.record_low - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(o.mme_skill.years, 20);
    }

    #[test]
    fn too_few_years_and_no_forecast_are_errors() {
        let (mut m, obs) = planted();
        m.hindcast.retain(|&y, _| y < 2003);
        let e = extent_outlook(&[m.clone()], &obs, 2020, Adjustment::MeanAndTrend).unwrap_err();
        assert!(
            matches!(
                e,
                OutlookError::TooFewYears {
                    found: 3,
                    needed: 4,
                    ..
                }
            ),
            "{e}"
        );
        m.forecast = vec![f64::NAN];
        assert!(matches!(
            extent_outlook(&[m], &obs, 2020, Adjustment::None).unwrap_err(),
            OutlookError::NoForecast { .. }
        ));
        assert_eq!(
            extent_outlook(&[], &obs, 2020, Adjustment::None).unwrap_err(),
            OutlookError::NoModel
        );
    }
}
