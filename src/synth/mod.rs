//! Deterministic synthetic S2S workloads for tests, benches and demos.
//!
//! # What it generates
//! For each model: hindcasts (one start a year, `n_years` years) and a forecast (the year after)
//! of monthly-mean precipitation (mm/day) and 2 m temperature (°C) on `(member, lead, lat, lon)`;
//! and an observed series that covers every target period. Writing them as files (each model in
//! its own file convention) is [`workload`]'s job; this module only computes values.
//!
//! # The statistical model
//! At cell `(φ, λ)`, target month `m` (fractional for weekly leads) and lead `l`:
//! - **Predictable signal**: a yearly index `s_y ~ N(0, 1)` (ENSO-like), a spatial pattern
//!   `P(φ, λ) ∈ [−1, 1]` strongest in the tropics, damped with lead `d_l = exp(−l/8)` (months; for
//!   weekly leads `exp(−w/3)` in weeks). The predictable part of a standardized anomaly is
//!   `a = ρ P d_l s_y` with `ρ = 0.8`; a model sees `f·a` (`f` = its `signal_fraction`).
//! - **Temperature**: `T = T_clim + σ_T (a + √(1 − (ρPd_l)²) ε)`, `ε ~ N(0, 1)`, with
//!   `T_clim = 27 − 40 sin²φ + 12 sin φ cos(2π(m − 7)/12)` °C and interannual
//!   `σ_T = 0.6 + 2 |sin φ|` K. A model adds its bias `b` (times a spatial pattern `1 ± 0.25`) and
//!   scales its anomalies by its `tas_spread` (too small or too large ensemble spread).
//! - **Precipitation**: zero-inflated gamma. Climatological mean `μ(φ, λ, m)`: a seasonally
//!   migrating ITCZ, mid-latitude storm tracks, a South Asian monsoon (June–September) and a
//!   desert box over Arabia (about 45–60°E, 18–30°N: observed always dry). Dry with probability
//!   `p₀ = min(0.55, 0.55 e^{−μ/0.8})`, else `Gamma(k, μ g / k)` with shape `k = 1.5 + 2.5 tanh(μ/4)`
//!   and signal `g = exp(0.4 a)`. A model multiplies `μ` by its `pr_bias` (spatially modulated),
//!   `k` by its `pr_shape_factor` and `p₀` by its `dry_factor` (drizzle models: < 1).
//! - About 1 % of observed cells are missing (NaN), as in station-based gridded analyses.
//!
//! Presets (`Small` for tests, `Medium` ≈ the peers' workload over an Asian 1.5° domain,
//! `Large` = 8 models on a 1° global grid for scale benches) are in [`SynthConfig::preset`].
//! Daily or 6-hourly pressure and wind fields with planted tropical cyclones (known tracks) for
//! the cyclone module are in [`storms`]; daily surface currents and winds for the drift in
//! [`currents`]; Arctic sea-ice concentration with a planted extent bias and trend in
//! [`seaice`].
//!
//! Streams: each `(model, year, member, variable)` draws from its own ChaCha8 stream seeded from
//! `seed`, so the values do not depend on thread scheduling.

pub mod currents;
pub mod daily;
pub mod environment;
pub mod seaice;
pub mod storms;
#[cfg(feature = "netcdf")]
pub mod workload;

use ndarray::{Array3, Array4, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CfDateTime};
use crate::cube::{BBox, Coords, Cube, CubeKind, Lead, LeadUnit, Meta};
use crate::error::{Error, Result};
use crate::grid::LonLatGrid;
use crate::units::Quantity;

/// Maximum share of the observed anomaly variance that is predictable.
const RHO: f64 = 0.8;

/// A workload size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 3 models, 12 years, 2° South Asia box: tests, seconds.
    Small,
    /// 3 models × 10–25 members × 24 years × 6 leads, 1.5° Asia (40–150°E, 15°S–55°N).
    Medium,
    /// 8 models × 25–51 members × 24 years × 6 leads, 1° global.
    Large,
    /// 3 models × 5–8 members × 15 years × 6 leads, 2.5° Asia (40–150°E, 15°S–55°N): the
    /// demo's Central, South and Southeast Asia bulletin in seconds.
    Asia,
}

impl std::str::FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "small" => Ok(Preset::Small),
            "medium" => Ok(Preset::Medium),
            "large" => Ok(Preset::Large),
            "asia" => Ok(Preset::Asia),
            o => Err(Error::invalid(
                "preset",
                format!("'{o}' (small, medium, large or asia)"),
            )),
        }
    }
}

/// The file layout a model's output is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileConvention {
    /// C3S/CDS netCDF: `number, forecast_reference_time, forecastMonth, latitude (N→S),
    /// longitude (0–360)`, `tprate` in m s⁻¹ and `t2m` in K.
    C3s,
    /// NMME/IRI: `S` (months since 1960-01-01, 360_day), `M`, `L` (0.5, 1.5 … months), `Y`, `X`
    /// (0–360), `prec` in mm/day and `tref` in K.
    Nmme,
    /// The engine's own CF layout: `init, member, lead, lat, lon`, `pr` mm/day, `tas` °C.
    Plain,
}

/// One synthetic model: its size, file convention and errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Name (file names use it).
    pub name: String,
    /// Ensemble members.
    pub members: usize,
    /// File layout.
    pub convention: FileConvention,
    /// Multiplicative mean bias of precipitation.
    pub pr_bias: f64,
    /// Factor on the gamma shape (< 1: too variable, > 1: too steady).
    pub pr_shape_factor: f64,
    /// Factor on the dry probability (< 1: too many drizzle days).
    pub dry_factor: f64,
    /// Additive temperature bias, K.
    pub tas_bias: f64,
    /// Factor on temperature anomalies (ensemble and interannual spread).
    pub tas_spread: f64,
    /// Share of the observed predictable signal the model reproduces.
    pub signal_fraction: f64,
}

/// A variable the generator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynthVar {
    /// Precipitation, mm/day.
    Pr,
    /// Near-surface air temperature, °C.
    Tas,
}

impl SynthVar {
    /// Both variables.
    pub const ALL: [SynthVar; 2] = [SynthVar::Pr, SynthVar::Tas];

    /// CF name in the engine.
    pub fn name(self) -> &'static str {
        match self {
            SynthVar::Pr => "pr",
            SynthVar::Tas => "tas",
        }
    }
    fn stream(self) -> u64 {
        match self {
            SynthVar::Pr => 1,
            SynthVar::Tas => 2,
        }
    }
}

/// Everything that defines a workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Preset it came from.
    pub preset: Preset,
    /// Seed of every random stream.
    pub seed: u64,
    /// First hindcast year.
    pub first_year: i32,
    /// Number of hindcast years; the forecast starts in `first_year + n_years`.
    pub n_years: usize,
    /// Month of the yearly start date (day 1).
    pub start_month: u32,
    /// Leads (monthly, or weekly as 7-day periods).
    pub leads: Vec<Lead>,
    /// The grid every model and the observations share.
    pub grid: LonLatGrid,
    /// The models.
    pub models: Vec<ModelSpec>,
}

fn model(name: &str, members: usize, convention: FileConvention, k: usize) -> ModelSpec {
    // Spread the errors over plausible ranges, differently for each model.
    let t =
        |a: f64, b: f64, phase: f64| a + (b - a) * (0.5 + 0.5 * (phase * (k as f64 + 1.0)).sin());
    ModelSpec {
        name: name.to_string(),
        members,
        convention,
        pr_bias: t(0.75, 1.30, 1.7),
        pr_shape_factor: t(0.6, 1.4, 2.3),
        dry_factor: t(0.5, 1.3, 0.9),
        tas_bias: t(-1.5, 2.0, 1.3),
        tas_spread: t(0.8, 1.3, 2.9),
        signal_fraction: t(0.5, 1.0, 0.7),
    }
}

const NAMES: [&str; 8] = [
    "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL",
];
const CONVENTIONS: [FileConvention; 3] = [
    FileConvention::C3s,
    FileConvention::Nmme,
    FileConvention::Plain,
];

impl SynthConfig {
    /// A preset; `weekly` gives six weekly leads (days 1–7, …, 36–42) from 1 June instead of six
    /// monthly leads from 1 May.
    pub fn preset(preset: Preset, weekly: bool) -> Result<Self> {
        let (n_models, members, n_years, grid): (usize, &[usize], usize, LonLatGrid) = match preset
        {
            Preset::Small => (
                3,
                &[3, 5, 4],
                12,
                LonLatGrid::regular(2.0, 2.0, Some(&BBox::new(60.0, 100.0, 0.0, 36.0)?))?,
            ),
            Preset::Medium => (
                3,
                &[10, 25, 15],
                24,
                LonLatGrid::regular(1.5, 1.5, Some(&BBox::new(40.0, 150.0, -15.0, 55.0)?))?,
            ),
            Preset::Large => (
                8,
                &[25, 51, 40, 30, 28, 51, 25, 35],
                24,
                LonLatGrid::regular(1.0, 1.0, None)?,
            ),
            Preset::Asia => (
                3,
                &[5, 8, 6],
                15,
                LonLatGrid::regular(2.5, 2.5, Some(&BBox::new(40.0, 150.0, -15.0, 55.0)?))?,
            ),
        };
        let models = (0..n_models)
            .map(|k| model(NAMES[k], members[k], CONVENTIONS[k % 3], k))
            .collect();
        let (start_month, leads) = if weekly {
            (6, (0..6).map(|w| Lead::days(7.0 * w as f64, 7.0)).collect())
        } else {
            (5, (0..6).map(|m| Lead::months(m as f64, 1.0)).collect())
        };
        Ok(SynthConfig {
            preset,
            seed: 20_261_123,
            first_year: 1993,
            n_years,
            start_month,
            leads,
            grid,
            models,
        })
    }

    /// Whether the leads are weekly.
    pub fn is_weekly(&self) -> bool {
        self.leads
            .first()
            .is_some_and(|l| l.unit != LeadUnit::Month)
    }

    /// Start date of a year.
    pub fn init_date(&self, year: i32) -> CfDateTime {
        CfDateTime::ymd(year, self.start_month, 1)
    }

    /// Hindcast years, then the forecast year.
    pub fn years(&self, forecast: bool) -> Vec<i32> {
        if forecast {
            vec![self.first_year + self.n_years as i32]
        } else {
            (0..self.n_years as i32)
                .map(|i| self.first_year + i)
                .collect()
        }
    }

    fn year_signal(&self, year: i32) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(&[self.seed, 0x5157_4e41_4c00, year as u64]));
        rng.sample(StandardNormal)
    }

    /// Lead position in "months" for signal damping and fractional target month.
    fn lead_position(&self, lead: &Lead) -> (f64, f64) {
        match lead.unit {
            LeadUnit::Month => (
                lead.start,
                f64::from(self.start_month) + lead.start + 0.5 * lead.width - 0.5,
            ),
            _ => {
                let days = lead.start + 0.5 * lead.width;
                (
                    (lead.start / 7.0) * 8.0 / 3.0,
                    f64::from(self.start_month) + days / 30.44,
                )
            }
        }
    }

    /// Values of one model for one start year: `(member, lead, lat, lon)`.
    pub fn model_block(&self, model: usize, year: i32, var: SynthVar) -> Array4<f32> {
        let spec = &self.models[model];
        let (ny, nx) = (self.grid.ny(), self.grid.nx());
        let s = self.year_signal(year);
        let mut out = Array4::<f32>::zeros((spec.members, self.leads.len(), ny, nx));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(member, mut block)| {
                let mut rng = ChaCha8Rng::seed_from_u64(mix(&[
                    self.seed,
                    model as u64 + 1,
                    year as u64,
                    member as u64,
                    var.stream(),
                ]));
                for (l, lead) in self.leads.iter().enumerate() {
                    let (pos, month) = self.lead_position(lead);
                    let damp = (-pos / 8.0).exp();
                    for y in 0..ny {
                        for x in 0..nx {
                            let c = Cell::new(&self.grid, y, x, month);
                            let a = RHO * c.pattern * damp;
                            let bias_pattern = 1.0
                                + 0.25
                                    * (3.0 * c.lon_rad + model as f64).sin()
                                    * (2.0 * c.lat_rad).cos();
                            block[[l, y, x]] = match var {
                                SynthVar::Tas => {
                                    let eps: f64 = rng.sample(StandardNormal);
                                    let fa = spec.signal_fraction * a;
                                    let anom = fa * s + (1.0 - fa * fa).max(0.0).sqrt() * eps;
                                    (c.tas_clim()
                                        + spec.tas_bias * bias_pattern
                                        + spec.tas_spread * c.tas_sd() * anom)
                                        as f32
                                }
                                SynthVar::Pr => {
                                    let mu = c.pr_clim() * spec.pr_bias * bias_pattern;
                                    let g = (0.4 * spec.signal_fraction * a * s).exp();
                                    let p0 = (c.dry_probability() * spec.dry_factor).min(0.95);
                                    gamma_draw(
                                        &mut rng,
                                        p0,
                                        c.gamma_shape() * spec.pr_shape_factor,
                                        mu * g,
                                    ) as f32
                                }
                            };
                        }
                    }
                }
            });
        out
    }

    /// The observed series: time stamps (the 1st of every month from January of the first
    /// hindcast year to December of the forecast year; daily for weekly leads) and values
    /// `(time, lat, lon)`.
    pub fn observations(&self, var: SynthVar) -> (Vec<CfDateTime>, Array3<f32>) {
        let cal = Calendar::Standard;
        let last = self.first_year + self.n_years as i32;
        let times: Vec<CfDateTime> = if self.is_weekly() {
            let d0 = CfDateTime::ymd(self.first_year, 1, 1);
            let n = cal.day_number(last, 12, 31).unwrap_or(0)
                - cal.day_number(self.first_year, 1, 1).unwrap_or(0)
                + 1;
            (0..n).filter_map(|k| d0.add_days(k, cal).ok()).collect()
        } else {
            (self.first_year..=last)
                .flat_map(|y| (1..=12).map(move |m| CfDateTime::ymd(y, m, 1)))
                .collect()
        };
        let (ny, nx) = (self.grid.ny(), self.grid.nx());
        let mut out = Array3::<f32>::zeros((times.len(), ny, nx));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(times.par_iter())
            .enumerate()
            .for_each(|(t, (mut map, date))| {
                let mut rng =
                    ChaCha8Rng::seed_from_u64(mix(&[self.seed, 999, t as u64, var.stream()]));
                // Position of this date relative to its year's start date.
                let start = self.init_date(date.year);
                let (pos, month, daily) = if self.is_weekly() {
                    let days = start.days_until(date, cal).unwrap_or(0.0);
                    let days = if days < 0.0 { days + 365.0 } else { days };
                    (
                        (days / 7.0) * 8.0 / 3.0,
                        f64::from(date.month) + (f64::from(date.day) - 0.5) / 30.44,
                        true,
                    )
                } else {
                    let off =
                        (i64::from(date.month) - i64::from(self.start_month)).rem_euclid(12) as f64;
                    (off, f64::from(date.month), false)
                };
                let s = self.year_signal(date.year);
                let damp = (-pos / 8.0).exp();
                for y in 0..ny {
                    for x in 0..nx {
                        let c = Cell::new(&self.grid, y, x, month);
                        if (y * 7 + x * 13) % 97 == 0 {
                            map[[y, x]] = f32::NAN;
                            continue;
                        }
                        let a = RHO * c.pattern * damp;
                        map[[y, x]] = match var {
                            SynthVar::Tas => {
                                let eps: f64 = rng.sample(StandardNormal);
                                // Daily values vary more than the monthly means they average into.
                                let sd = if daily { c.tas_sd() * 2.5 } else { c.tas_sd() };
                                (c.tas_clim() + sd * (a * s + (1.0 - a * a).max(0.0).sqrt() * eps))
                                    as f32
                            }
                            SynthVar::Pr if c.desert => 0.0,
                            SynthVar::Pr => {
                                let g = (0.4 * a * s).exp();
                                let (p0, k) = if daily {
                                    ((c.dry_probability() + 0.35).min(0.9), 0.7)
                                } else {
                                    (c.dry_probability(), c.gamma_shape())
                                };
                                let mean = if daily {
                                    c.pr_clim() * g / (1.0 - p0) * (1.0 - c.dry_probability())
                                } else {
                                    c.pr_clim() * g
                                };
                                gamma_draw(&mut rng, p0, k, mean) as f32
                            }
                        };
                    }
                }
            });
        (times, out)
    }

    /// One model's hindcast (or forecast) as a cube in the engine's units.
    pub fn model_cube(&self, model: usize, forecast: bool, var: SynthVar) -> Result<Cube> {
        let years = self.years(forecast);
        let spec = &self.models[model];
        let (ny, nx) = (self.grid.ny(), self.grid.nx());
        let mut values =
            ndarray::Array5::<f32>::zeros((years.len(), spec.members, self.leads.len(), ny, nx));
        for (i, &y) in years.iter().enumerate() {
            values
                .index_axis_mut(Axis(0), i)
                .assign(&self.model_block(model, y, var));
        }
        let coords = Coords {
            init: years.iter().map(|&y| self.init_date(y)).collect(),
            member: (0..spec.members as i32).collect(),
            lead: self.leads.clone(),
            spatial: self.grid.spatial(),
        };
        let units = match var {
            SynthVar::Pr => "mm/day",
            SynthVar::Tas => "degC",
        };
        let mut meta = Meta::new(&spec.name, var.name(), units, Calendar::Standard);
        meta.quantity = match var {
            SynthVar::Pr => Quantity::Precipitation,
            SynthVar::Tas => Quantity::Temperature,
        };
        Cube::new(values, coords, meta)
    }

    /// The observations as an observed-series cube in the engine's units.
    pub fn observation_cube(&self, var: SynthVar) -> Result<Cube> {
        let (times, v) = self.observations(var);
        let (nt, ny, nx) = v.dim();
        let cadence = if self.is_weekly() {
            Lead::days(0.0, 1.0)
        } else {
            Lead::months(0.0, 1.0)
        };
        let coords = Coords {
            init: times,
            member: vec![0],
            lead: vec![cadence],
            spatial: self.grid.spatial(),
        };
        let units = match var {
            SynthVar::Pr => "mm/day",
            SynthVar::Tas => "degC",
        };
        let mut meta = Meta::new("OBS", var.name(), units, Calendar::Standard);
        meta.kind = CubeKind::Observed;
        let values = v
            .into_shape_with_order((nt, 1, 1, ny, nx))
            .map_err(|e| Error::invalid("observations", e.to_string()))?;
        Cube::new(values, coords, meta)
    }
}

/// Zero with probability `p0`, else a gamma value of shape `k` and mean `mean`.
fn gamma_draw(rng: &mut ChaCha8Rng, p0: f64, k: f64, mean: f64) -> f64 {
    let u: f64 = rng.random();
    if u < p0 || mean <= 0.0 {
        return 0.0;
    }
    match Gamma::new(k.max(0.05), mean / k.max(0.05)) {
        Ok(g) => g.sample(rng),
        Err(_) => 0.0,
    }
}

/// Per-cell climatology for a (fractional) calendar month.
struct Cell {
    lat_rad: f64,
    lon_rad: f64,
    lat: f64,
    lon: f64,
    month: f64,
    pattern: f64,
    desert: bool,
}

impl Cell {
    fn new(grid: &LonLatGrid, y: usize, x: usize, month: f64) -> Self {
        let (lat, lon) = (grid.lat[y], grid.lon[x]);
        let (lat_rad, lon_rad) = (lat.to_radians(), lon.to_radians());
        // Strongest in the tropics, a wave-2 structure in longitude.
        let pattern = (lat_rad.cos().powi(4)) * (2.0 * lon_rad + 0.5).cos();
        let desert = (45.0..=60.0).contains(&lon) && (18.0..=30.0).contains(&lat);
        Cell {
            lat_rad,
            lon_rad,
            lat,
            lon,
            month,
            pattern,
            desert,
        }
    }
    fn season(&self) -> f64 {
        (2.0 * std::f64::consts::PI * (self.month - 7.0) / 12.0).cos()
    }
    fn tas_clim(&self) -> f64 {
        27.0 - 40.0 * self.lat_rad.sin().powi(2) + 12.0 * self.lat_rad.sin() * self.season()
    }
    fn tas_sd(&self) -> f64 {
        0.6 + 2.0 * self.lat_rad.sin().abs()
    }
    fn pr_clim(&self) -> f64 {
        if self.desert {
            return 0.05;
        }
        let itcz = 6.0 + 9.0 * (2.0 * std::f64::consts::PI * (self.month - 4.0) / 12.0).sin();
        let tropics = 8.0 * (-((self.lat - itcz) / 7.0).powi(2)).exp();
        let storms = 2.5 * (-((self.lat.abs() - 45.0) / 10.0).powi(2)).exp();
        let monsoon_season = (2.0 * std::f64::consts::PI * (self.month - 7.5) / 12.0)
            .cos()
            .max(0.0);
        let monsoon = 6.0
            * (-((self.lat - 20.0) / 8.0).powi(2)).exp()
            * (-((self.lon - 85.0) / 20.0).powi(2)).exp()
            * monsoon_season;
        0.3 + tropics + storms + monsoon
    }
    fn dry_probability(&self) -> f64 {
        (0.55 * (-self.pr_clim() / 0.8).exp()).min(0.55)
    }
    fn gamma_shape(&self) -> f64 {
        1.5 + 2.5 * (self.pr_clim() / 4.0).tanh()
    }
}

/// SplitMix64 over a list of words: independent seeds for independent streams.
fn mix(words: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &w in words {
        h ^= w
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(h << 6)
            .wrapping_add(h >> 2);
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::align_observations;

    fn corr(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }

    #[test]
    fn deterministic_and_thread_independent() {
        let cfg = SynthConfig::preset(Preset::Small, false).unwrap();
        let a = cfg.model_block(1, 1995, SynthVar::Pr);
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| cfg.model_block(1, 1995, SynthVar::Pr));
        assert_eq!(a, b);
        assert_ne!(a, cfg.model_block(1, 1996, SynthVar::Pr));
        assert_eq!(a.dim(), (5, 6, 18, 20));
    }

    #[test]
    fn realistic_statistics() {
        let cfg = SynthConfig::preset(Preset::Small, false).unwrap();
        let obs = cfg.observation_cube(SynthVar::Pr).unwrap();
        let pr = cfg.model_cube(0, false, SynthVar::Pr).unwrap();
        let (aligned, missing) = align_observations(&obs, &pr).unwrap();
        assert_eq!(missing, 0);
        // Dry values exist, no negative values, the desert box is not in this domain.
        let v: Vec<f32> = pr.values.iter().copied().collect();
        let dry = v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64;
        assert!(
            v.iter().all(|&x| x >= 0.0) && dry > 0.001 && dry < 0.5,
            "dry share {dry}"
        );
        // The model's mean bias shows: mean ratio model/obs near pr_bias (within sampling).
        let m_mean = crate::stats::nan_mean(&v);
        let o_mean = crate::stats::nan_mean(&aligned.values.iter().copied().collect::<Vec<_>>());
        let ratio = m_mean / o_mean;
        // Expected from the climatology: mean of mu*bias*pattern*(1 - p0*dry) over mean of
        // mu*(1 - p0), over the cells and target months (signal terms average out).
        let spec = &cfg.models[0];
        let (mut num, mut den) = (0.0, 0.0);
        for lead in &cfg.leads {
            let (_, month) = cfg.lead_position(lead);
            for y in 0..cfg.grid.ny() {
                for x in 0..cfg.grid.nx() {
                    let c = Cell::new(&cfg.grid, y, x, month);
                    let pattern = 1.0 + 0.25 * (3.0 * c.lon_rad).sin() * (2.0 * c.lat_rad).cos();
                    num += c.pr_clim()
                        * spec.pr_bias
                        * pattern
                        * (1.0 - (c.dry_probability() * spec.dry_factor).min(0.95));
                    den += c.pr_clim() * (1.0 - c.dry_probability());
                }
            }
        }
        let expect = num / den;
        assert!(
            (ratio / expect - 1.0).abs() < 0.08,
            "ratio {ratio} vs expected {expect}"
        );
        assert!(expect > 1.0, "model ALPHA is wet-biased ({expect})");
        // Skill: ensemble-mean temperature correlates with observations at lead 0 in the
        // tropics, but not perfectly.
        let tas = cfg.model_cube(1, false, SynthVar::Tas).unwrap();
        let tobs = align_observations(&cfg.observation_cube(SynthVar::Tas).unwrap(), &tas)
            .unwrap()
            .0;
        let mut cors = Vec::new();
        for yx in [(2, 3), (4, 10), (6, 15)] {
            let em: Vec<f64> = (0..tas.n_init())
                .map(|i| {
                    (0..tas.n_member())
                        .map(|m| f64::from(tas.values[[i, m, 0, yx.0, yx.1]]))
                        .sum::<f64>()
                        / tas.n_member() as f64
                })
                .collect();
            let ob: Vec<f64> = (0..tas.n_init())
                .map(|i| f64::from(tobs.values[[i, 0, 0, yx.0, yx.1]]))
                .collect();
            cors.push(corr(&em, &ob));
        }
        let mean_cor = cors.iter().sum::<f64>() / cors.len() as f64;
        assert!(mean_cor > 0.2 && mean_cor < 0.98, "{cors:?}");
    }

    #[test]
    fn observations_have_missing_cells_and_dry_deserts() {
        let mut cfg = SynthConfig::preset(Preset::Small, false).unwrap();
        cfg.grid = LonLatGrid::regular(2.0, 2.0, Some(&BBox::new(40.0, 70.0, 10.0, 36.0).unwrap()))
            .unwrap();
        let (_, v) = cfg.observations(SynthVar::Pr);
        let nan = v.iter().filter(|x| x.is_nan()).count() as f64 / v.len() as f64;
        assert!(nan > 0.005 && nan < 0.03, "{nan}");
        // A desert cell (lat 25, lon 51) is always exactly 0.
        let (y, x) = (
            cfg.grid.lat.iter().position(|&l| l == 25.0).unwrap(),
            cfg.grid.lon.iter().position(|&l| l == 51.0).unwrap(),
        );
        assert!(v
            .index_axis(Axis(1), y)
            .index_axis(Axis(1), x)
            .iter()
            .all(|&p| p == 0.0));
    }

    #[test]
    fn weekly_leads() {
        let cfg = SynthConfig::preset(Preset::Small, true).unwrap();
        assert!(cfg.is_weekly());
        assert_eq!(cfg.leads[2], Lead::days(14.0, 7.0));
        let obs = cfg.observation_cube(SynthVar::Tas).unwrap();
        let f = cfg.model_cube(2, false, SynthVar::Tas).unwrap();
        let (a, missing) = align_observations(&obs, &f).unwrap();
        assert_eq!(missing, 0);
        assert!(a.values.iter().filter(|v| v.is_finite()).count() > 0);
    }
}
