//! Extremes: heat and cold waves, hot and cold days, heavy rain and the extreme-forecast
//! indices of subseasonal forecasts, and the warm/cold-spell indices of observed daily series.
//!
//! - [`thresholds`]: calendar-day percentiles of a daily series in a ±2-day window of a base
//!   period (ETCCDI; Hyndman & Fan type 8, as climdex and xclim compute them).
//! - [`spells`]: yearly hot/cold days, spell days (WSDI/CSDI), spell counts and longest runs
//!   against calendar-day thresholds; the Excess Heat Factor (Nairn & Fawcett 2015).
//! - [`mclimate`]: the model climate of a subseasonal forecast — hindcast starts within ±14 days
//!   of the forecast's start date, all years but the forecast's, pooled per lead (ECMWF's
//!   M-climate).
//! - [`outlook`]: per target period (week 1, week 2, weeks 3–4) and cell, against the
//!   M-climate: EFI and SOT±, probabilities of the period mean beyond the 10th/90th/95th
//!   percentiles, of heat and cold waves (≥ 3 days beyond the lead's 90th/10th percentile),
//!   of more hot or cold days than normal, of Rx1day/Rx5day beyond the 1-in-10 level; and
//!   their leave-one-year-out verification (Brier, BSS, ROC area and curve, reliability bins and
//!   slope).

pub mod mclimate;
pub mod outlook;
pub mod spells;
pub mod thresholds;

pub use mclimate::{m_climate_starts, M_CLIMATE_HALF_WINDOW_DAYS};
pub use outlook::{
    extremes_forecast, verify_extremes, EventScore, ExtremeField, ExtremeVariable,
    ExtremesForecast, ExtremesSpec,
};
pub use spells::{excess_heat_factor, yearly_spells, SpellKind, YearSpells};
pub use thresholds::{calendar_day_percentiles, daily_days_of_year, day_of_year};
