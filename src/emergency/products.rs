//! Drift products: where the particles are likely to be, and which coasts they reach.
//!
//! - **Position probability** at a recorded time: for each cell of a regular grid, the
//!   weighted share of particles in it — each member's particles share its weight equally, so
//!   `Σ cells = 1` minus the share that left the grid. Stranded particles count where they
//!   stranded.
//! - **Coast table**: per country, the weighted share of particles stranded on its coast by
//!   each reporting day, and the earliest stranding time of any particle.

use ndarray::Array2;
use serde::Serialize;

use super::drift::{Status, Trajectories};
use crate::error::{Error, Result};
use crate::grid::Countries;

/// Weight of each particle: member weight / that member's particle count, normalised to 1.
pub fn particle_weights(member_of: &[usize], member_weights: &[f64]) -> Result<Vec<f64>> {
    let mut count = vec![0usize; member_weights.len()];
    for &m in member_of {
        if m >= member_weights.len() {
            return Err(Error::invalid(
                "particle weights",
                format!("member {m} of {} weights", member_weights.len()),
            ));
        }
        count[m] += 1;
    }
    let total: f64 = member_weights
        .iter()
        .zip(&count)
        .filter(|(_, &c)| c > 0)
        .map(|(w, _)| w)
        .sum();
    if total <= 0.0 {
        return Err(Error::invalid("particle weights", "weights sum to zero"));
    }
    Ok(member_of
        .iter()
        .map(|&m| member_weights[m] / count[m] as f64 / total)
        .collect())
}

/// Position probability at record `k` on a regular grid of cell centres `lat`, `lon`
/// (ascending, regular).
pub fn position_probability(
    tr: &Trajectories,
    weights: &[f64],
    k: usize,
    lat: &[f64],
    lon: &[f64],
) -> Result<Array2<f32>> {
    if lat.len() < 2 || lon.len() < 2 || k >= tr.times_s.len() || weights.len() != tr.lat.nrows() {
        return Err(Error::invalid(
            "position probability",
            "grid of at least 2 × 2, a recorded time and one weight per particle needed",
        ));
    }
    let (dlat, dlon) = (lat[1] - lat[0], lon[1] - lon[0]);
    let mut out = Array2::<f32>::zeros((lat.len(), lon.len()));
    for (p, &w) in weights.iter().enumerate() {
        if tr.status[[p, k]] == Status::OutsideDomain as i8 {
            continue;
        }
        let fy = ((tr.lat[[p, k]] - lat[0]) / dlat + 0.5).floor();
        let fx = (((tr.lon[[p, k]] - lon[0]).rem_euclid(360.0)) / dlon + 0.5).floor();
        if fy >= 0.0 && fx >= 0.0 && (fy as usize) < lat.len() && (fx as usize) < lon.len() {
            out[[fy as usize, fx as usize]] += w as f32;
        }
    }
    Ok(out)
}

/// The coast-table line of particles stranded on the ocean model's own land (cells its
/// currents mask) rather than on a country polygon.
pub const MODEL_COAST: &str = "model coast (land cells of the currents)";

/// One country's line of the coast table.
#[derive(Debug, Clone, Serialize)]
pub struct CoastHit {
    /// Country.
    pub country: String,
    /// Probability that oil / the ship reached its coast by each reporting day.
    pub probability_by_day: Vec<(usize, f64)>,
    /// Earliest stranding of any particle (hours after release).
    pub earliest_hours: f64,
}

/// The coast table: countries whose coast particles reached, most probable first, with the
/// probability by each of `report_days` (days after release; records are `record_hours`
/// apart, the first at the release).
pub fn coast_table(
    tr: &Trajectories,
    weights: &[f64],
    countries: &Countries,
    record_hours: f64,
    report_days: &[usize],
) -> Vec<CoastHit> {
    let n_rec = tr.times_s.len();
    let mut hits: Vec<CoastHit> = Vec::new();
    for (p, &w) in weights.iter().enumerate() {
        let Some(k) = (0..n_rec).find(|&k| tr.status[[p, k]] == Status::Stranded as i8) else {
            continue;
        };
        let name = countries
            .at(tr.lat[[p, k]], tr.lon[[p, k]])
            .map_or_else(|| MODEL_COAST.to_string(), |c| c.name.clone());
        let hours = k as f64 * record_hours;
        let line = match hits.iter_mut().find(|h| h.country == name) {
            Some(h) => h,
            None => {
                hits.push(CoastHit {
                    country: name,
                    probability_by_day: report_days.iter().map(|&d| (d, 0.0)).collect(),
                    earliest_hours: f64::INFINITY,
                });
                hits.last_mut().expect("just pushed")
            }
        };
        line.earliest_hours = line.earliest_hours.min(hours);
        for (d, prob) in line.probability_by_day.iter_mut() {
            if hours <= *d as f64 * 24.0 {
                *prob += w;
            }
        }
    }
    hits.sort_by(|a, b| {
        let last = |h: &CoastHit| h.probability_by_day.last().map_or(0.0, |x| x.1);
        last(b).total_cmp(&last(a))
    });
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traj(lat: &[&[f64]], status: &[&[i8]]) -> Trajectories {
        let (n, k) = (lat.len(), lat[0].len());
        Trajectories {
            times_s: (0..k).map(|i| i as f64 * 86_400.0).collect(),
            lat: Array2::from_shape_fn((n, k), |(p, i)| lat[p][i]),
            lon: Array2::from_elem((n, k), 81.0),
            status: Array2::from_shape_fn((n, k), |(p, i)| status[p][i]),
        }
    }

    #[test]
    fn weights_give_each_member_its_share() {
        let w = particle_weights(&[0, 0, 0, 1], &[1.0, 1.0]).unwrap();
        assert_eq!(w, vec![1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 0.5]);
        assert!(particle_weights(&[2], &[1.0]).is_err());
    }

    #[test]
    fn positions_and_coasts() {
        // three particles of one member; particle 2 strands in Sri Lanka (7.5°N, 81°E) on day 2
        let tr = traj(
            &[&[5.0, 5.0, 5.0], &[5.0, 5.2, 5.4], &[6.0, 7.0, 7.5]],
            &[&[0, 0, 0], &[0, 0, 0], &[0, 0, 1]],
        );
        let w = particle_weights(&[0, 0, 0], &[1.0]).unwrap();
        let lat: Vec<f64> = (0..40).map(|j| j as f64 * 0.25).collect();
        let lon: Vec<f64> = (0..40).map(|i| 75.0 + i as f64 * 0.25).collect();
        let p = position_probability(&tr, &w, 2, &lat, &lon).unwrap();
        assert!((p.sum() - 1.0).abs() < 1e-6);
        assert!((p[[20, 24]] - 1.0 / 3.0).abs() < 1e-6); // 5.0°N 81°E
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/regions/countries_110m.geojson"
        );
        let c = Countries::from_geojson(&std::fs::read_to_string(path).unwrap(), path).unwrap();
        let t = coast_table(&tr, &w, &c, 24.0, &[1, 2, 7]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].country, "Sri Lanka");
        assert_eq!(t[0].earliest_hours, 48.0);
        assert_eq!(t[0].probability_by_day[0], (1, 0.0));
        assert!((t[0].probability_by_day[1].1 - 1.0 / 3.0).abs() < 1e-12);
    }
}
