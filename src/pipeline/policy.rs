//! The policy defaults of the jobs, each named once with its reason. Science modules take
//! these as parameters; only the jobs choose them.

use crate::bias::{CrossValidation, Kind};
use crate::cube::{Lead, LeadUnit};
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
}
