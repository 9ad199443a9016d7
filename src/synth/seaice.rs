//! Synthetic Arctic sea-ice concentration with a planted extent trend, for the sea-ice outlook's
//! tests: a model whose September extent is the "observed" one plus a bias and a trend error,
//! members spread about it, so that the outlook's adjustment has a known answer.
//!
//! # What it plants
//! - **Observed** September extent `O(y) = O₂₀₀₀ + b (y − 2000)` (10⁶ km²; by default 6.0 and
//!   −0.08 a year, about the satellite record's September decline).
//! - **Model** member `m` of year `y`: `M(y, m) = O(y) + β + δ (y − 2000) + s_m` with a bias β
//!   (default +1.0), a trend error δ (default +0.03 a year: the model loses its ice too slowly)
//!   and member offsets `s_m` spread evenly over `±spread` (mean 0).
//! - The field of a member: concentration 90 % in whole grid cells from the pole southward,
//!   band by band and eastward within a band, until the cells' area is nearest to `M(y, m)`;
//!   then 10 % (marginal ice below the 15 % threshold, which must not count) in the next
//!   [`MARGINAL_CELLS`] cells, 0 % elsewhere. Cell areas are the exact spherical ones of a
//!   regular grid, `R² Δλ (sin φₙ − sin φₛ)`, so each member's extent is known in closed form
//!   ([`SeaIceSynthConfig::field`] returns it).
//!
//! Adjusting the members by the difference of the least-squares lines through the model's
//! ensemble means and the observations (mean and trend) removes β and δ: the adjusted forecast
//! mean is `O(forecast year)` up to the grid's discreteness (one cell, < 0.01 × 10⁶ km² with
//! the default 2° grid).

use crate::calendar::{Calendar, CfDateTime};
use crate::cube::{Coords, Cube, CubeKind, Lead, Meta, Spatial};
use crate::error::Result;

/// Cells of 10 % concentration beyond the ice edge of each member.
pub const MARGINAL_CELLS: usize = 40;

/// Concentration of the ice cells, %.
const ICE_PERCENT: f32 = 90.0;

/// Concentration of the marginal cells, %: below the 15 % of the extent's definition.
const MARGINAL_PERCENT: f32 = 10.0;

/// The synthetic set's design.
#[derive(Debug, Clone)]
pub struct SeaIceSynthConfig {
    /// Grid spacing, degrees (latitude and longitude).
    pub step: f64,
    /// Southern edge of the grid, degrees north.
    pub south: f64,
    /// Hindcast years (first, last).
    pub hindcast_years: (i32, i32),
    /// The forecast's year.
    pub forecast_year: i32,
    /// Target month.
    pub month: u32,
    /// Month of the starts (the lead to the target is `month − start_month`).
    pub start_month: u32,
    /// Members per year.
    pub members: usize,
    /// Observed extent in 2000, 10⁶ km².
    pub observed_2000: f64,
    /// Observed trend, 10⁶ km² a year.
    pub observed_trend: f64,
    /// Model bias β, 10⁶ km².
    pub model_bias: f64,
    /// Model trend error δ, 10⁶ km² a year.
    pub model_trend_error: f64,
    /// Member offsets run evenly from −spread to +spread, 10⁶ km².
    pub spread: f64,
}

impl SeaIceSynthConfig {
    /// The set `s2s synth --seaice` writes: 2° north of 40° N, hindcasts 1993–2020 from June
    /// starts, September 2021 forecast, 5 members.
    pub fn demo() -> Self {
        SeaIceSynthConfig {
            step: 2.0,
            south: 40.0,
            hindcast_years: (1993, 2020),
            forecast_year: 2021,
            month: 9,
            start_month: 6,
            members: 5,
            observed_2000: 6.0,
            observed_trend: -0.08,
            model_bias: 1.0,
            model_trend_error: 0.03,
            spread: 0.2,
        }
    }

    /// Cell-centre latitudes (south to north) and longitudes.
    pub fn grid(&self) -> (Vec<f64>, Vec<f64>) {
        let ny = ((90.0 - self.south) / self.step).round() as usize;
        let nx = (360.0 / self.step).round() as usize;
        let lat = (0..ny)
            .map(|k| self.south + (k as f64 + 0.5) * self.step)
            .collect();
        let lon = (0..nx).map(|k| (k as f64 + 0.5) * self.step).collect();
        (lat, lon)
    }

    /// The planted observed extent of `year`, 10⁶ km².
    pub fn observed(&self, year: i32) -> f64 {
        self.observed_2000 + self.observed_trend * f64::from(year - 2000)
    }

    /// The extent aimed at for member `m` of `year`, 10⁶ km² (the field's is the nearest a
    /// whole number of cells gives).
    pub fn model_target(&self, year: i32, m: usize) -> f64 {
        let offset = if self.members > 1 {
            -self.spread + 2.0 * self.spread * m as f64 / (self.members - 1) as f64
        } else {
            0.0
        };
        self.observed(year)
            + self.model_bias
            + self.model_trend_error * f64::from(year - 2000)
            + offset
    }

    /// The concentration field (%, `(lat, lon)` row-major, south to north) of an extent near
    /// `target` (10⁶ km²), and its exact extent.
    pub fn field(&self, target: f64) -> (Vec<f32>, f64) {
        let (lat, lon) = self.grid();
        let (ny, nx) = (lat.len(), lon.len());
        let r = crate::grid::EARTH_RADIUS_M / 1000.0;
        let half = self.step / 2.0;
        let cell_area = |la: f64| {
            r * r
                * self.step.to_radians()
                * ((la + half).min(90.0).to_radians().sin() - (la - half).to_radians().sin())
                / 1e6
        };
        let mut values = vec![0.0f32; ny * nx];
        let (mut extent, mut marginal) = (0.0, 0usize);
        'fill: for y in (0..ny).rev() {
            let a = cell_area(lat[y]);
            for x in 0..nx {
                let k = y * nx + x;
                // take the cell when that brings the sum nearer the target
                if marginal == 0 && (extent + a - target).abs() < (extent - target).abs() {
                    values[k] = ICE_PERCENT;
                    extent += a;
                } else {
                    values[k] = MARGINAL_PERCENT;
                    marginal += 1;
                    if marginal == MARGINAL_CELLS {
                        break 'fill;
                    }
                }
            }
        }
        (values, extent)
    }

    /// The hindcast (one June start a year, one September lead) or forecast cube of the
    /// concentration `siconc` (%), and the exact extent of each `(start, member)`.
    pub fn cube(&self, years: &[i32]) -> Result<(Cube, Vec<Vec<f64>>)> {
        let (lat, lon) = self.grid();
        let (ny, nx) = (lat.len(), lon.len());
        let mut values = ndarray::Array5::<f32>::zeros((years.len(), self.members, 1, ny, nx));
        let mut extents = Vec::new();
        for (i, &year) in years.iter().enumerate() {
            let mut row = Vec::new();
            for m in 0..self.members {
                let (field, extent) = self.field(self.model_target(year, m));
                values
                    .slice_mut(ndarray::s![i, m, 0, .., ..])
                    .assign(&ndarray::Array2::from_shape_vec((ny, nx), field).expect("grid"));
                row.push(extent);
            }
            extents.push(row);
        }
        let mut meta = Meta::new("synthetic-ice", "siconc", "%", Calendar::Standard);
        meta.kind = CubeKind::Forecast;
        meta.long_name = Some("Sea-ice area fraction".into());
        let lead = f64::from(self.month) - f64::from(self.start_month);
        let cube = Cube::new(
            values,
            Coords {
                init: years
                    .iter()
                    .map(|&y| CfDateTime::ymd(y, self.start_month, 1))
                    .collect(),
                member: (0..self.members as i32).collect(),
                lead: vec![Lead::months(lead, 1.0)],
                spatial: Spatial::Grid { lat, lon },
            },
            meta,
        )?;
        Ok((cube, extents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_extents_by_hand() {
        let c = SeaIceSynthConfig::demo();
        // O(2021) = 6.0 − 0.08 · 21 = 4.32; member 0: 4.32 + 1.0 + 0.03 · 21 − 0.2 = 5.75
        assert!((c.observed(2021) - 4.32).abs() < 1e-12);
        assert!((c.model_target(2021, 0) - 5.75).abs() < 1e-12);
        assert!((c.model_target(2021, 2) - 5.95).abs() < 1e-12);
        // the cap north of 88° N: 2π R² (1 − sin 88°) = 155 381 km² (R = 6371.0 km)
        let (field, extent) = c.field(0.155);
        let (lat, lon) = c.grid();
        let top = (lat.len() - 1) * lon.len();
        assert!(field[top..].iter().all(|&v| v == ICE_PERCENT));
        let cap = 2.0 * std::f64::consts::PI * 6371.0f64.powi(2) * (1.0 - 88f64.to_radians().sin());
        assert!((extent - cap / 1e6).abs() < 1e-9, "{extent} {cap}");
        // then the marginal ice and open water
        let marginal = field.iter().filter(|&&v| v == MARGINAL_PERCENT).count();
        assert_eq!(marginal, MARGINAL_CELLS);
        // the extent is within half a cell of the target
        let (_, e) = c.field(5.75);
        assert!((e - 5.75).abs() < 0.01, "{e}");
    }
}
