//! Synthetic daily subseasonal sets with planted extremes, for the extremes outlook
//! (`s2s synth --daily-extremes`): hindcasts, a forecast and observations of daily maximum
//! temperature (`tasmax`, °C) and precipitation (`pr`, mm/day) on a 2.5° grid over South Asia.
//!
//! # The model
//! At cell `(φ, λ)`, day `t` and lead `l` (days), with `u ∈ [−1, 1)` deterministic noise of
//! `(seed, variable, start, member, lead, cell)` (SplitMix64, no random-stream state):
//! - a predictable weekly signal `s(t) = 1.5 u` shared by the observations and the hindcasts
//!   (one value per calendar week of each year), seen by a hindcast with weight
//!   `exp(−l/10)`: skill in week 1, little by weeks 3–4;
//! - `tasmax = 40 − 0.5 (φ − 20) + s + 1.5 u` (no seasonal cycle, so every start of the
//!   M-climate window has one climate);
//! - `pr = 8 q²` with `q = (u + 1)/2`, plus `2 max(s, 0)` (wetter in positive weeks).
//!
//! The forecast (start `forecast_start`) has no signal and small noise: `tasmax` within ±0.8 K
//! of the climate's centre and `pr ≤ 3 mm/day`, so no day is beyond the M-climate's daily
//! 10th/90th percentiles (nor a wettest day beyond its 1-in-10 level) by itself: the planted
//! events are the only heat waves, cold waves and heavy-rain days, and their probabilities are
//! exact (period means, averaging the noise away, can still fall beyond the period-mean
//! percentiles):
//! - **heat wave**: members `0 .. heat_members` are `+12 K` on leads `heat_leads` inside
//!   `heat_box` (`west, east, south, north`);
//! - **heavy rain**: members `0 .. rain_members` get `rain_mm` mm on lead `rain_lead` inside
//!   `rain_box`.

use crate::calendar::{Calendar, CfDateTime};

/// Settings of a synthetic daily set.
#[derive(Debug, Clone)]
pub struct DailyExtremesConfig {
    /// Latitudes, ascending.
    pub lat: Vec<f64>,
    /// Longitudes, ascending.
    pub lon: Vec<f64>,
    /// Hindcast years, inclusive.
    pub hindcast_years: (i32, i32),
    /// Hindcast start (month, day) of each year.
    pub starts: Vec<(u32, u32)>,
    /// Hindcast members.
    pub hindcast_members: usize,
    /// Forecast members.
    pub forecast_members: usize,
    /// Daily leads.
    pub leads: usize,
    /// Forecast start.
    pub forecast_start: CfDateTime,
    /// Members with the planted heat wave.
    pub heat_members: usize,
    /// Leads of the heat wave (0-based lead indices).
    pub heat_leads: std::ops::Range<usize>,
    /// Box of the heat wave (west, east, south, north).
    pub heat_box: (f64, f64, f64, f64),
    /// Members with the planted heavy-rain day.
    pub rain_members: usize,
    /// Lead of the heavy-rain day.
    pub rain_lead: usize,
    /// Rain of that day, mm.
    pub rain_mm: f32,
    /// Box of the heavy rain.
    pub rain_box: (f64, f64, f64, f64),
    /// Seed of the noise.
    pub seed: u64,
}

impl DailyExtremesConfig {
    /// The demo set: 2001–2020 hindcasts started weekly from 18 May to 15 June (4 members, 28
    /// days), a 10-member forecast from 1 June 2022; a heat wave over north-west India and
    /// Pakistan (65–77.5°E, 25–35°N) on days 16–19 in 6 members, a 90 mm day over Bangladesh
    /// and north-east India (87.5–92.5°E, 20–27.5°N) on day 10 in 4 members.
    pub fn demo() -> Self {
        DailyExtremesConfig {
            lat: (0..9).map(|i| 15.0 + 2.5 * i as f64).collect(),
            lon: (0..13).map(|i| 62.5 + 2.5 * i as f64).collect(),
            hindcast_years: (2001, 2020),
            starts: vec![(5, 18), (5, 25), (6, 1), (6, 8), (6, 15)],
            hindcast_members: 4,
            forecast_members: 10,
            leads: 28,
            forecast_start: CfDateTime::ymd(2022, 6, 1),
            heat_members: 6,
            heat_leads: 15..19,
            heat_box: (65.0, 77.5, 25.0, 35.0),
            rain_members: 4,
            rain_lead: 9,
            rain_mm: 90.0,
            rain_box: (87.5, 92.5, 20.0, 27.5),
            seed: 7,
        }
    }

    /// Hindcast start dates.
    pub fn hindcast_starts(&self) -> Vec<CfDateTime> {
        let mut out = Vec::new();
        for y in self.hindcast_years.0..=self.hindcast_years.1 {
            for &(m, d) in &self.starts {
                out.push(CfDateTime::ymd(y, m, d));
            }
        }
        out
    }

    /// Whether cell `(y, x)` is inside a box.
    pub fn in_box(&self, b: (f64, f64, f64, f64), y: usize, x: usize) -> bool {
        let (la, lo) = (self.lat[y], self.lon[x]);
        lo >= b.0 && lo <= b.1 && la >= b.2 && la <= b.3
    }
}

/// Deterministic noise in [−1, 1) of a key.
pub fn noise(seed: u64, key: &[u64]) -> f32 {
    let mut z = seed;
    for &k in key {
        z = z
            .wrapping_mul(0x100_0000_01B3)
            .wrapping_add(k ^ 0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// The variables of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyVariable {
    /// Daily maximum temperature, °C.
    Tasmax,
    /// Precipitation, mm/day.
    Pr,
}

impl DailyVariable {
    /// File and variable name.
    pub fn name(self) -> &'static str {
        match self {
            DailyVariable::Tasmax => "tasmax",
            DailyVariable::Pr => "pr",
        }
    }

    /// Units.
    pub fn units(self) -> &'static str {
        match self {
            DailyVariable::Tasmax => "degC",
            DailyVariable::Pr => "mm/day",
        }
    }

    fn id(self) -> u64 {
        match self {
            DailyVariable::Tasmax => 1,
            DailyVariable::Pr => 2,
        }
    }
}

/// The weekly predictable signal of the day with day number `day` (calendar day numbers).
fn signal(cfg: &DailyExtremesConfig, day: i64) -> f32 {
    1.5 * noise(cfg.seed, &[99, day.div_euclid(7) as u64])
}

/// Climate value plus the given signal and noise.
fn value(v: DailyVariable, lat: f64, signal: f32, u: f32) -> f32 {
    match v {
        DailyVariable::Tasmax => 40.0 - 0.5 * (lat as f32 - 20.0) + signal + 1.5 * u,
        DailyVariable::Pr => {
            let q = (u + 1.0) / 2.0;
            8.0 * q * q + 2.0 * signal.max(0.0)
        }
    }
}

/// Hindcast value of `(start, member, lead, y, x)`.
pub fn hindcast_value(
    cfg: &DailyExtremesConfig,
    v: DailyVariable,
    start: &CfDateTime,
    (i, m, l, y, x): (usize, usize, usize, usize, usize),
) -> f32 {
    let day = Calendar::Standard
        .day_number(start.year, start.month, start.day)
        .unwrap_or(0)
        + l as i64;
    let s = signal(cfg, day) * (-(l as f32) / 10.0).exp();
    let u = noise(
        cfg.seed,
        &[v.id(), i as u64, m as u64, l as u64, y as u64, x as u64],
    );
    value(v, cfg.lat[y], s, u)
}

/// Observed value of calendar day number `day` at `(y, x)`.
pub fn observed_value(
    cfg: &DailyExtremesConfig,
    v: DailyVariable,
    day: i64,
    y: usize,
    x: usize,
) -> f32 {
    let u = noise(
        cfg.seed,
        &[v.id(), 7_000_000 + day as u64, y as u64, x as u64],
    );
    value(v, cfg.lat[y], signal(cfg, day), u)
}

/// Forecast value of `(member, lead, y, x)`: the climate's centre with small noise, plus the
/// planted events.
pub fn forecast_value(
    cfg: &DailyExtremesConfig,
    v: DailyVariable,
    (m, l, y, x): (usize, usize, usize, usize),
) -> f32 {
    let u = noise(
        cfg.seed,
        &[v.id(), 5_000_000, m as u64, l as u64, y as u64, x as u64],
    );
    match v {
        DailyVariable::Tasmax => {
            let base = 40.0 - 0.5 * (cfg.lat[y] as f32 - 20.0) + 0.8 * u;
            let hot = m < cfg.heat_members
                && cfg.heat_leads.contains(&l)
                && cfg.in_box(cfg.heat_box, y, x);
            if hot {
                base + 12.0
            } else {
                base
            }
        }
        DailyVariable::Pr => {
            let q = (u + 1.0) / 2.0;
            let wet = m < cfg.rain_members && l == cfg.rain_lead && cfg.in_box(cfg.rain_box, y, x);
            if wet {
                cfg.rain_mm
            } else {
                3.0 * q * q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecast_stays_inside_the_climate_except_planted() {
        let cfg = DailyExtremesConfig::demo();
        for m in 0..cfg.forecast_members {
            for l in 0..cfg.leads {
                let t = forecast_value(&cfg, DailyVariable::Tasmax, (m, l, 0, 0));
                assert!((t - 42.5).abs() <= 0.8);
                let p = forecast_value(&cfg, DailyVariable::Pr, (m, l, 0, 0));
                assert!((0.0..=3.0).contains(&p));
            }
        }
        // (25°N, 65°E) is in the heat box: member 0, lead 16.
        let (y, x) = (4, 1);
        assert!(cfg.in_box(cfg.heat_box, y, x));
        let t = forecast_value(&cfg, DailyVariable::Tasmax, (0, 16, y, x));
        assert!((t - (37.5 + 12.0)).abs() <= 0.8, "{t}");
    }
}
