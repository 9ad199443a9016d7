//! The policy defaults of the jobs, each named once with its reason. Science modules take
//! these as parameters; only the jobs choose them.

use crate::bias::{CrossValidation, Kind};
use crate::cube::{Lead, LeadUnit};
use crate::ensemble::WeightScheme;
use crate::error::{Error, Result};
use crate::units::Quantity;

pub use crate::bias::{WET_DAY_THRESHOLD_DAILY_MM, WET_THRESHOLD_MONTHLY_MM};

/// The wet-day threshold (mm/day) for precipitation on these leads: daily or finer leads get
/// [`WET_DAY_THRESHOLD_DAILY_MM`], anything coarser (weeks, months, target periods) gets
/// [`WET_THRESHOLD_MONTHLY_MM`].
pub fn wet_threshold_for(leads: &[Lead]) -> f64 {
    let daily = leads.iter().all(|l| match l.unit {
        LeadUnit::Hour => l.width <= 24.0,
        LeadUnit::Day => l.width <= 1.0,
        _ => false,
    });
    if daily {
        WET_DAY_THRESHOLD_DAILY_MM
    } else {
        WET_THRESHOLD_MONTHLY_MM
    }
}

/// How a quantity is corrected: ratios for precipitation (a bounded, skewed quantity whose
/// zero must stay zero), differences for everything else.
pub fn correction_kind(quantity: Quantity) -> Kind {
    if quantity == Quantity::Precipitation {
        Kind::Multiplicative
    } else {
        Kind::Additive
    }
}

/// Cross-validation of a corrected hindcast that is scored or combined with observed edges:
/// leave one year out (the operational practice of C3S and CPT), so no year is corrected with
/// its own observation.
pub const HINDCAST_CROSS_VALIDATION: CrossValidation = CrossValidation::LeaveOut(1);

/// Probability from which a drought (SPI ≤ −1) or wet (SPI ≥ 1) outlook is called dominant on
/// the drought maps: the tercile maps' rule ([`crate::ensemble::DOMINANT_THRESHOLD`], the
/// C3S/NMME 40 %), so every map of a bulletin reads the same way.
pub const DROUGHT_DOMINANCE: f64 = crate::ensemble::DOMINANT_THRESHOLD;

/// Probability from which a basin's cyclone activity category is "most likely" in the
/// bulletin's key messages: the same rule.
pub const ACTIVITY_DOMINANCE: f64 = crate::ensemble::DOMINANT_THRESHOLD;

/// Member weights of a forecast pooled over `members` (one count per model) with the models
/// weighted equally: `1 / (m · k)` for each of the `m` members of each of the `k` models, so
/// a model with many members does not outvote the others (Hagedorn et al. 2005).
pub fn model_equal_member_weights(members: &[usize]) -> Vec<f64> {
    let k = members.len() as f64;
    members
        .iter()
        .flat_map(|&m| vec![1.0 / (m as f64 * k); m])
        .collect()
}

/// Probability bins of the reliability diagrams behind the bulletin's reliability slopes:
/// tenths, as the WMO standard verification of long-range forecasts (SVS-LRF) draws them.
pub const RELIABILITY_BINS: usize = 10;

/// Fewest members per start for probabilities counted from members without a warning: with
/// fewer, a model's tercile probability moves in steps of more than 10 % and sampling noise
/// alone makes ~40 % "dominant" categories common (C3S models have 25–51 members; the
/// calibrated method needs only ensemble means).
pub const MIN_COUNTED_MEMBERS: usize = 10;

/// Whether `scheme` counts members into probabilities (pooled, model-equal and skill weights).
pub fn counts_members(scheme: WeightScheme) -> bool {
    matches!(
        scheme,
        WeightScheme::Pooled | WeightScheme::ModelEqual | WeightScheme::Skill { .. }
    )
}

/// [`counted_members_guard`] on the hindcast cubes of a job: an error refuses, a warning goes
/// to `progress`.
pub fn check_counted_members(
    scheme: WeightScheme,
    hindcasts: &[crate::Cube],
    progress: &dyn crate::progress::Progress,
) -> Result<()> {
    let members: Vec<(String, usize)> = hindcasts
        .iter()
        .map(|c| (c.meta.model.clone(), c.n_member()))
        .collect();
    if let Some(warning) = counted_members_guard(scheme, &members)? {
        progress.note(&warning);
    }
    Ok(())
}

/// Fewest distinct hindcast years a climatology is made of: tercile edges from fewer years
/// rest on one or two values per category, and leave-one-year-out cross-validation has
/// nothing left to fit; WMO's guidance for operational long-range forecasts is 20–30 years,
/// and the NMME and C3S hindcasts have 24–38. Five is the floor below which every product is
/// noise, not a recommendation.
pub const MIN_HINDCAST_YEARS: usize = 5;

/// Refuses a hindcast with fewer than [`MIN_HINDCAST_YEARS`] distinct start years.
pub fn check_hindcast_years(hindcasts: &[crate::Cube]) -> Result<()> {
    for c in hindcasts {
        let years: std::collections::BTreeSet<i32> = c.coords.init.iter().map(|t| t.year).collect();
        if years.len() < MIN_HINDCAST_YEARS {
            let list: Vec<String> = years.iter().map(|y| y.to_string()).collect();
            return Err(Error::invalid(
                "hindcast",
                format!(
                    "{} has {} start year{} ({}): a climatology needs at least {MIN_HINDCAST_YEARS} (20–30 recommended); give the whole hindcast period (check --years)",
                    c.meta.model,
                    years.len(),
                    if years.len() == 1 { "" } else { "s" },
                    list.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The guard on probabilities counted from members, given each model's `(name, members)`: an
/// error where a model has one member per start (an ensemble mean: its counted probabilities
/// are 0 or 100 %), a warning to show where a model has fewer than [`MIN_COUNTED_MEMBERS`];
/// nothing for the calibrated and PMME methods, which do not count.
pub fn counted_members_guard(
    scheme: WeightScheme,
    models: &[(String, usize)],
) -> Result<Option<String>> {
    if !counts_members(scheme) {
        return Ok(None);
    }
    let use_instead = "use calibrated probabilities instead (weights = \"calibrated\" in the configuration, --weights calibrated for combine, --probabilities calibrated for verify), or PMME";
    let single: Vec<&str> = models
        .iter()
        .filter(|(_, n)| *n <= 1)
        .map(|(m, _)| m.as_str())
        .collect();
    if !single.is_empty() {
        return Err(Error::invalid(
            "probabilities counted from members",
            format!(
                "{} {} one member per start (ensemble means?): counted probabilities would be 0 or 100 %; {use_instead}",
                single.join(", "),
                if single.len() == 1 { "has" } else { "have" }
            ),
        ));
    }
    let few: Vec<String> = models
        .iter()
        .filter(|(_, n)| *n < MIN_COUNTED_MEMBERS)
        .map(|(m, n)| format!("{m} ({n})"))
        .collect();
    Ok((!few.is_empty()).then(|| {
        format!(
            "warning: probabilities counted from few members — {} — are noisy and overconfident (fewer than {MIN_COUNTED_MEMBERS} per start); {use_instead}",
            few.join(", ")
        )
    }))
}

/// Observed storms counted by the cyclone validation and the observed climatology: those whose
/// best-track wind reaches 34 kt at least once — tropical-storm strength, the storms C3S, IRI
/// and the RSMCs count in seasonal statistics ("named storms"). Depressions (IBTrACS keeps
/// them) are left out.
pub const OBSERVED_STORM_MIN_WIND_KT: f64 = 34.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wet_threshold_follows_the_time_step() {
        let day = Lead {
            start: 1.0,
            width: 1.0,
            unit: LeadUnit::Day,
        };
        let month = Lead::months(1.0, 1.0);
        assert_eq!(wet_threshold_for(&[day, day]), 0.1);
        assert_eq!(wet_threshold_for(&[month]), 0.01);
        assert_eq!(wet_threshold_for(&[day, month]), 0.01);
    }

    #[test]
    fn model_equal_weights_sum_to_one_per_model() {
        let w = model_equal_member_weights(&[2, 4]);
        assert_eq!(w.len(), 6);
        assert!((w[0] - 0.25).abs() < 1e-15 && (w[5] - 0.125).abs() < 1e-15);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn counted_members_guard_refuses_ensemble_means_and_warns_on_few() {
        let models = |n: &[usize]| -> Vec<(String, usize)> {
            n.iter()
                .enumerate()
                .map(|(i, &k)| (format!("M{i}"), k))
                .collect()
        };
        let model_equal = WeightScheme::ModelEqual;
        let e = counted_members_guard(model_equal, &models(&[1, 25])).unwrap_err();
        assert!(e.to_string().contains("M0 has one member"), "{e}");
        assert!(e.to_string().contains("calibrated"), "{e}");
        let w = counted_members_guard(model_equal, &models(&[5, 25])).unwrap();
        assert!(w.unwrap().contains("M0 (5)"));
        assert!(counted_members_guard(model_equal, &models(&[10, 25]))
            .unwrap()
            .is_none());
        // The calibrated method and PMME do not count members.
        for s in [
            WeightScheme::Calibrated,
            WeightScheme::Elr,
            WeightScheme::Pcr,
            WeightScheme::Pmme,
        ] {
            assert!(counted_members_guard(s, &models(&[1, 1]))
                .unwrap()
                .is_none());
        }
    }
}
