//! Climate drivers of the seasonal story in South and Southeast Asia: the Niño 3.4 index and
//! the Indian Ocean Dipole Mode Index from each model's sea-surface temperature, as anomaly
//! plumes per model and for the multi-model ensemble.
//!
//! - **Niño 3.4**: area mean (cos-latitude weights, ocean cells only) of SST over 5°S–5°N,
//!   170°W–120°W (Trenberth 1997, BAMS 78, 2771); El Niño at `+0.5 °C` or more, La Niña at
//!   `−0.5 °C` or less (NOAA CPC's ONI thresholds).
//! - **DMI**: western box 50–70°E, 10°S–10°N minus eastern box 90–110°E, 10°S–0 (Saji et al.
//!   1999, Nature 401, 360); positive / negative IOD at `±0.4 °C` (Bureau of Meteorology).
//!
//! A model's anomaly at lead `l` is its index minus the mean index of its hindcasts at the same
//! lead over every hindcast start in the forecast's start month and every member (a
//! lead-dependent climate, so the model's drift cancels). The MME weighs models equally: its
//! mean is the mean of the model means, its phase probabilities the mean of the models' member
//! shares, its 10–90 % range the model-weighted quantiles of all members. Observed anomalies
//! (a monthly SST record) are against the calendar-month means of the hindcast years.

use ndarray::Array3;
use serde::Serialize;

use crate::calendar::CfDateTime;
use crate::cube::{BBox, Cube, CubeKind};
use crate::error::{Error, Result};

/// A box `(west, east, south, north)` in degrees.
pub type LonLatBox = (f64, f64, f64, f64);

/// A box-mean climate index: a weighted sum of box means.
#[derive(Debug, Clone, Copy)]
pub struct ClimateIndex {
    /// Short name (`nino34`, `dmi`).
    pub name: &'static str,
    /// Long name.
    pub long_name: &'static str,
    /// `(weight, (west, east, south, north))` of each box.
    pub boxes: &'static [(f64, LonLatBox)],
    /// Anomaly (°C) at or beyond which the positive / negative phase is declared.
    pub threshold: f64,
    /// Names of the positive and negative phases.
    pub phases: (&'static str, &'static str),
}

/// Niño 3.4 (Trenberth 1997), CPC's ±0.5 °C.
pub const NINO34: ClimateIndex = ClimateIndex {
    name: "nino34",
    long_name: "Niño 3.4 SST anomaly (5°S–5°N, 170°W–120°W)",
    boxes: &[(1.0, (-170.0, -120.0, -5.0, 5.0))],
    threshold: 0.5,
    phases: ("El Niño", "La Niña"),
};

/// Dipole Mode Index (Saji et al. 1999), the Bureau of Meteorology's ±0.4 °C.
pub const DMI: ClimateIndex = ClimateIndex {
    name: "dmi",
    long_name: "Indian Ocean Dipole Mode Index (50–70°E 10°S–10°N minus 90–110°E 10°S–0)",
    boxes: &[
        (1.0, (50.0, 70.0, -10.0, 10.0)),
        (-1.0, (90.0, 110.0, -10.0, 0.0)),
    ],
    threshold: 0.4,
    phases: ("positive IOD", "negative IOD"),
};

/// The indices the drivers job computes.
pub const DRIVER_INDICES: [ClimateIndex; 2] = [NINO34, DMI];

/// Whether the grid of `spatial` has a cell in every box of `index`.
pub fn grid_covers(spatial: &crate::cube::Spatial, index: &ClimateIndex) -> bool {
    let (ny, nx) = spatial.shape();
    index.boxes.iter().all(|&(_, (west, east, south, north))| {
        BBox::new(west, east, south, north).is_ok_and(|b| {
            (0..ny).any(|y| {
                (0..nx).any(|x| {
                    let (lat, lon) = spatial.cell_lat_lon(y, x);
                    lat.is_finite() && lon.is_finite() && b.contains(lat, lon)
                })
            })
        })
    })
}

/// The index of every `(init, member, lead)` of an SST cube; NaN where a box has no valid cell.
/// An error when a box has no grid cell at all (the grid does not reach it).
pub fn index_values(cube: &Cube, index: &ClimateIndex) -> Result<Array3<f64>> {
    let (ni, nm, nl, ny, nx) = cube.values.dim();
    let mut boxes = Vec::new();
    for &(w, (west, east, south, north)) in index.boxes {
        let b = BBox::new(west, east, south, north)?;
        let mut cells = Vec::new();
        for y in 0..ny {
            for x in 0..nx {
                let (lat, lon) = cube.coords.spatial.cell_lat_lon(y, x);
                if lat.is_finite() && lon.is_finite() && b.contains(lat, lon) {
                    cells.push((y, x, lat.to_radians().cos()));
                }
            }
        }
        if cells.is_empty() {
            return Err(Error::invalid(
                format!("{} of {}", index.name, cube.meta.model),
                format!(
                    "the grid ({}) has no cell in the box {west}..{east}°E, {south}..{north}°N; \
                     give SST fields that cover it",
                    cube.coords.spatial.describe()
                ),
            ));
        }
        boxes.push((w, cells));
    }
    Ok(Array3::from_shape_fn((ni, nm, nl), |(i, m, l)| {
        let mut total = 0.0;
        for (w, cells) in &boxes {
            let (mut s, mut ws) = (0.0, 0.0);
            for &(y, x, c) in cells {
                let v = f64::from(cube.values[[i, m, l, y, x]]);
                if v.is_finite() {
                    s += c * v;
                    ws += c;
                }
            }
            if ws == 0.0 {
                return f64::NAN;
            }
            total += w * s / ws;
        }
        total
    }))
}

/// One model's plume.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPlume {
    /// Model name.
    pub model: String,
    /// Anomaly of each member at each lead, `[member][lead]`.
    pub members: Vec<Vec<f64>>,
    /// Ensemble-mean anomaly per lead.
    pub mean: Vec<f64>,
    /// Hindcast starts in the climate.
    pub climate_starts: usize,
}

/// The plume of one index.
#[derive(Debug, Clone, Serialize)]
pub struct DriverPlume {
    /// Index name.
    pub index: String,
    /// Long name.
    pub long_name: String,
    /// Forecast start.
    pub start: String,
    /// Target month of each lead (`YYYY-MM`).
    pub targets: Vec<String>,
    /// Per model.
    pub models: Vec<ModelPlume>,
    /// MME mean anomaly per lead (models weighted equally).
    pub mme_mean: Vec<f64>,
    /// MME 10 % and 90 % quantiles per lead.
    pub mme_range: Vec<(f64, f64)>,
    /// Probability of the positive phase per lead.
    pub prob_positive: Vec<f64>,
    /// Probability of the negative phase per lead.
    pub prob_negative: Vec<f64>,
    /// Phase threshold (°C).
    pub threshold: f64,
    /// Phase names (positive, negative).
    pub phases: (String, String),
    /// Observed anomalies `(YYYY-MM, value)` before the start and in the targets (with a record).
    pub observed: Vec<(String, f64)>,
}

fn ym(d: &CfDateTime) -> String {
    format!("{:04}-{:02}", d.year, d.month)
}

/// Months of observations shown before the start.
pub const OBSERVED_MONTHS_BEFORE: i64 = 6;

/// The plume of `index` from each model's `(name, hindcast, forecast)` SST cubes (monthly
/// leads, the forecast's last start) and an optional observed monthly SST record.
pub fn driver_plume(
    models: &[(String, Cube, Cube)],
    observed: Option<&Cube>,
    index: &ClimateIndex,
) -> Result<DriverPlume> {
    let (_, _, first) = models
        .first()
        .ok_or_else(|| Error::invalid("drivers", "no model given"))?;
    let start_idx = first.n_init() - 1;
    let start = first.coords.init[start_idx];
    let cal = first.meta.calendar;
    let nl = first.n_lead();
    let targets: Vec<String> = (0..nl)
        .map(|l| first.target_period(start_idx, l).map(|(a, _)| ym(&a)))
        .collect::<Result<_>>()?;
    let mut plumes = Vec::new();
    let mut years: Vec<i32> = Vec::new();
    for (name, hc, fc) in models {
        if fc.n_lead() != nl || fc.coords.init.last().map(ym) != Some(ym(&start)) {
            return Err(Error::mismatch(
                "driver forecasts",
                format!(
                    "model '{name}' starts {} with {} leads, the first model {} with {nl}: give forecasts of one start and one set of leads",
                    fc.coords.init.last().map(ym).unwrap_or_default(),
                    fc.n_lead(),
                    ym(&start)
                ),
            ));
        }
        if hc.n_lead() < nl {
            return Err(Error::mismatch(
                format!("model '{name}'"),
                format!("its hindcast has {} leads, its forecast {nl}", hc.n_lead()),
            ));
        }
        let starts: Vec<usize> = (0..hc.n_init())
            .filter(|&i| {
                hc.coords.init[i].month == start.month && hc.coords.init[i].year != start.year
            })
            .collect();
        if starts.is_empty() {
            return Err(Error::invalid(
                format!("model '{name}'"),
                format!(
                    "no hindcast start in month {} (the forecast's start month): the \
                     lead-dependent climate needs hindcasts of the same start month",
                    start.month
                ),
            ));
        }
        years.extend(starts.iter().map(|&i| hc.coords.init[i].year));
        let hi = index_values(hc, index)?;
        let fi = index_values(fc, index)?;
        let clim: Vec<f64> = (0..nl)
            .map(|l| {
                let v: Vec<f64> = starts
                    .iter()
                    .flat_map(|&i| (0..hc.n_member()).map(move |m| (i, m)))
                    .map(|(i, m)| hi[[i, m, l]])
                    .filter(|v| v.is_finite())
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            })
            .collect();
        let members: Vec<Vec<f64>> = (0..fc.n_member())
            .map(|m| {
                (0..nl)
                    .map(|l| fi[[fc.n_init() - 1, m, l]] - clim[l])
                    .collect()
            })
            .collect();
        let mean = (0..nl)
            .map(|l| {
                let v: Vec<f64> = members
                    .iter()
                    .map(|r| r[l])
                    .filter(|v| v.is_finite())
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            })
            .collect();
        plumes.push(ModelPlume {
            model: name.clone(),
            members,
            mean,
            climate_starts: starts.len(),
        });
    }
    let nmod = plumes.len() as f64;
    let mme_mean = (0..nl)
        .map(|l| plumes.iter().map(|p| p.mean[l]).sum::<f64>() / nmod)
        .collect();
    let mut mme_range = Vec::new();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for l in 0..nl {
        let mut weighted: Vec<(f64, f64)> = Vec::new();
        let (mut p, mut n) = (0.0, 0.0);
        for pl in &plumes {
            let v: Vec<f64> = pl
                .members
                .iter()
                .map(|r| r[l])
                .filter(|v| v.is_finite())
                .collect();
            let k = v.len() as f64;
            p += v.iter().filter(|&&x| x >= index.threshold).count() as f64 / k / nmod;
            n += v.iter().filter(|&&x| x <= -index.threshold).count() as f64 / k / nmod;
            weighted.extend(v.iter().map(|&x| (x, 1.0 / (k * nmod))));
        }
        weighted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let q = |q: f64| {
            let mut acc = 0.0;
            for &(x, w) in &weighted {
                acc += w;
                if acc >= q - 1e-12 {
                    return x;
                }
            }
            weighted.last().map_or(f64::NAN, |p| p.0)
        };
        mme_range.push((q(0.1), q(0.9)));
        pos.push(p);
        neg.push(n);
    }
    years.sort_unstable();
    years.dedup();
    let observed = match observed {
        Some(obs) => observed_anomalies(obs, index, &years, &start, cal, nl)?,
        None => Vec::new(),
    };
    Ok(DriverPlume {
        index: index.name.into(),
        long_name: index.long_name.into(),
        start: start.date_label(),
        targets,
        models: plumes,
        mme_mean,
        mme_range,
        prob_positive: pos,
        prob_negative: neg,
        threshold: index.threshold,
        phases: (index.phases.0.into(), index.phases.1.into()),
        observed,
    })
}

/// Observed monthly anomalies against the calendar-month means of `years`, from
/// [`OBSERVED_MONTHS_BEFORE`] months before `start` to the last target month.
fn observed_anomalies(
    obs: &Cube,
    index: &ClimateIndex,
    years: &[i32],
    start: &CfDateTime,
    cal: crate::calendar::Calendar,
    leads: usize,
) -> Result<Vec<(String, f64)>> {
    if obs.meta.kind != CubeKind::Observed {
        return Err(Error::invalid(
            "observed SST",
            "the observed SST must be a monthly record (time, lat, lon), not a forecast",
        ));
    }
    let v = index_values(obs, index)?;
    let mut clim = [(0.0, 0usize); 12];
    for (t, d) in obs.coords.init.iter().enumerate() {
        let x = v[[t, 0, 0]];
        if years.contains(&d.year) && x.is_finite() {
            let c = &mut clim[d.month as usize - 1];
            c.0 += x;
            c.1 += 1;
        }
    }
    let from = start.add_months(-OBSERVED_MONTHS_BEFORE, cal);
    let to = start.add_months(leads as i64, cal);
    let mut out = Vec::new();
    for (t, d) in obs.coords.init.iter().enumerate() {
        let first = CfDateTime::ymd(d.year, d.month, 1);
        let (s, n) = clim[d.month as usize - 1];
        if first >= CfDateTime::ymd(from.year, from.month, 1)
            && first < CfDateTime::ymd(to.year, to.month, 1)
            && n > 0
            && v[[t, 0, 0]].is_finite()
        {
            out.push((ym(d), v[[t, 0, 0]] - s / n as f64));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::cube::{Coords, Lead, Meta, Spatial};
    use ndarray::Array5;

    /// A global 5° SST cube: 27 °C everywhere plus `warm(y, m)` in the Niño 3.4 box and
    /// `dipole(y)` (+ west, − east) in the DMI boxes, 1 °C of noise-free lead drift.
    fn sst(
        inits: Vec<CfDateTime>,
        members: usize,
        anomaly: impl Fn(i32, usize) -> (f64, f64),
    ) -> Cube {
        let lat: Vec<f64> = (0..36).map(|i| -87.5 + 5.0 * i as f64).collect();
        let lon: Vec<f64> = (0..72).map(|i| 2.5 + 5.0 * i as f64).collect();
        let (la, lo) = (lat.clone(), lon.clone());
        let years: Vec<i32> = inits.iter().map(|d| d.year).collect();
        let values = Array5::from_shape_fn((inits.len(), members, 3, 36, 72), |(i, m, l, y, x)| {
            let (nino, iod) = anomaly(years[i], m);
            let (phi, lam) = (la[y], lo[x]);
            let mut v = 27.0 + 0.3 * l as f64;
            if phi.abs() <= 5.0 && (190.0..=240.0).contains(&lam) {
                v += nino;
            }
            if phi.abs() <= 10.0 && (50.0..=70.0).contains(&lam) {
                v += iod / 2.0;
            }
            if (-10.0..=0.0).contains(&phi) && (90.0..=110.0).contains(&lam) {
                v -= iod / 2.0;
            }
            v as f32
        });
        Cube::new(
            values,
            Coords {
                init: inits,
                member: (0..members as i32).collect(),
                lead: (0..3).map(|l| Lead::months(l as f64, 1.0)).collect(),
                spatial: Spatial::Grid { lat, lon },
            },
            Meta::new("m", "tos", "degC", Calendar::Standard),
        )
        .unwrap()
    }

    #[test]
    fn planted_el_nino_and_positive_iod_come_out_exactly() {
        let hc = sst(
            (2000..2010).map(|y| CfDateTime::ymd(y, 6, 1)).collect(),
            4,
            |y, _| if y % 2 == 0 { (0.5, 0.2) } else { (-0.5, -0.2) },
        );
        // members 0–5 +1.5 °C in Niño 3.4, 6–9 +0.3; DMI +0.8 for all
        let fc = sst(vec![CfDateTime::ymd(2023, 6, 1)], 10, |_, m| {
            (if m < 6 { 1.5 } else { 0.3 }, 0.8)
        });
        let models = vec![("A".to_string(), hc, fc)];
        let n = driver_plume(&models, None, &NINO34).unwrap();
        assert_eq!(n.targets, ["2023-06", "2023-07", "2023-08"]);
        for l in 0..3 {
            // hindcast climate: mean of ±0.5 = 0; lead drift cancels
            assert!((n.mme_mean[l] - (6.0 * 1.5 + 4.0 * 0.3) / 10.0).abs() < 1e-5);
            assert!((n.prob_positive[l] - 0.6).abs() < 1e-12);
            assert_eq!(n.prob_negative[l], 0.0);
            assert!((n.mme_range[l].0 - 0.3).abs() < 1e-5 && (n.mme_range[l].1 - 1.5).abs() < 1e-5);
        }
        let d = driver_plume(&models, None, &DMI).unwrap();
        assert!((d.mme_mean[0] - 0.8).abs() < 1e-5, "{:?}", d.mme_mean);
        assert!((d.prob_positive[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_grid_that_misses_the_box_is_refused() {
        let mut c = sst(vec![CfDateTime::ymd(2000, 6, 1)], 1, |_, _| (0.0, 0.0));
        c = c
            .select_bbox(&BBox::new(40.0, 160.0, -20.0, 40.0).unwrap())
            .unwrap();
        let e = index_values(&c, &NINO34).unwrap_err().to_string();
        assert!(e.contains("no cell in the box -170..-120°E"), "{e}");
        assert!(index_values(&c, &DMI).is_ok());
    }
}
