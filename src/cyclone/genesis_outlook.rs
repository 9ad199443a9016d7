//! The genesis potential as a seasonal cyclone product: GPI fields from monthly means, and the
//! season's GPI against the model's own hindcast climatology per basin — the fallback cyclone
//! outlook for models that give no daily fields to track storms in.
//!
//! # Fields
//! For every time and cell with a sea surface temperature: the potential intensity `V_pot`
//! (Bister & Emanuel 2002, [`potential_intensity`]) from the sounding, the absolute vorticity
//! `η` at 850 hPa, the relative humidity `H` at 600 hPa (given, or from temperature and specific
//! humidity) and the 850–200 hPa shear, combined into the Emanuel–Nolan (2004) GPI
//! `|10⁵ η|^{3/2} (H/50)³ (V_pot/70)³ (1 + 0.1 V_shear)^{−2}`.
//!
//! # Season outlook
//! The season-mean GPI `G` of the forecast and of each hindcast year (the mean over the
//! season's months), per cell and per basin as the cos(latitude)-weighted mean over the
//! basin's cells that have a GPI. Against the hindcast years of the same model:
//! - anomaly `G_f − Ḡ_h` and percent of normal `100 G_f / Ḡ_h` per cell and basin;
//! - the basin's category: below normal if `G_f` is below the lower tercile of the hindcast
//!   years' basin GPIs, above normal if above the upper, near normal otherwise (terciles as
//!   sample quantiles with linear interpolation, Hyndman–Fan type 7, like the rainfall edges);
//! - how many hindcast years had a lower basin GPI (the forecast's rank).
//!
//! The GPI was built so that its integral over a basin and a month scales with the number of
//! storms forming there (Emanuel & Nolan 2004; Camargo et al. 2007), so a basin's percent of
//! normal reads as "genesis conditions X % of normal"; it is a statement about the environment,
//! not a storm count.
//!
//! # References
//! - Emanuel, K. A. & Nolan, D. S. (2004), *Tropical cyclone activity and the global climate
//!   system*, 26th Conf. on Hurricanes and Tropical Meteorology, AMS.
//! - Camargo, S. J., Emanuel, K. A. & Sobel, A. H. (2007), *Use of a genesis potential index to
//!   diagnose ENSO effects on tropical cyclone genesis*, J. Climate 20, 4819–4834.
//! - Bister, M. & Emanuel, K. A. (2002), *Low frequency variability of tropical cyclone
//!   potential intensity 1*, J. Geophys. Res. 107, 4801.

use ndarray::{s, Array2, Array3, ArrayView3, Axis, Zip};
use rayon::prelude::*;
use serde::Serialize;

use super::activity::{Basin, Season};
use super::genesis::{
    absolute_vorticity, genesis_potential_index, potential_intensity, relative_humidity_pct,
    PiSpec, Sounding,
};
use crate::calendar::CfDateTime;
use crate::error::{Error, Result};

/// Monthly (or any) mean fields on one time axis and a regular grid, `(time, lat, lon)` each.
#[derive(Debug, Clone)]
pub struct GpiInputs<'a> {
    /// Latitudes (degrees north).
    pub lat: &'a [f64],
    /// Longitudes (degrees east).
    pub lon: &'a [f64],
    /// Sea surface temperature (°C); NaN over land.
    pub sst_c: ArrayView3<'a, f32>,
    /// Sea-level pressure (hPa).
    pub msl_hpa: ArrayView3<'a, f32>,
    /// Pressure levels (hPa) of the sounding, surface first; must include 850, 600 and 200.
    pub levels_hpa: &'a [f64],
    /// Air temperature (K) per level.
    pub ta_k: &'a [ArrayView3<'a, f32>],
    /// Specific humidity (kg/kg) per level.
    pub hus: &'a [ArrayView3<'a, f32>],
    /// Winds (m/s) at 850 and 200 hPa: `[u850, v850, u200, v200]`.
    pub winds: [ArrayView3<'a, f32>; 4],
    /// Relative humidity at 600 hPa (%), when the files have it; else from `ta` and `hus`.
    pub rh_600_pct: Option<ArrayView3<'a, f32>>,
}

/// The GPI and its components, `(time, lat, lon)`.
#[derive(Debug, Clone)]
pub struct GpiFields {
    /// Genesis potential index.
    pub gpi: Array3<f32>,
    /// Potential intensity: maximum 10 m wind (m/s).
    pub vpot: Array3<f32>,
    /// Potential intensity: minimum central pressure (hPa).
    pub pmin: Array3<f32>,
    /// Absolute vorticity at 850 hPa (s⁻¹).
    pub abs_vorticity_850: Array3<f32>,
    /// Relative humidity at 600 hPa (%).
    pub rh_600: Array3<f32>,
    /// `|V(200 hPa) − V(850 hPa)|` (m/s).
    pub shear_850_200: Array3<f32>,
}

fn level_index(levels: &[f64], p: f64) -> Option<usize> {
    levels.iter().position(|l| (l - p).abs() <= 0.5)
}

/// The GPI fields of [`GpiInputs`]: the potential intensity of every sounding (rayon over
/// times), vorticity, humidity and shear. Errors on shapes that differ or a missing level.
pub fn gpi_fields(inp: &GpiInputs, spec: &PiSpec) -> Result<GpiFields> {
    let shape = inp.sst_c.dim();
    let (nt, ny, nx) = shape;
    if (ny, nx) != (inp.lat.len(), inp.lon.len()) {
        return Err(Error::invalid(
            "genesis potential",
            format!(
                "fields of {ny} x {nx} cells on a {} x {} grid",
                inp.lat.len(),
                inp.lon.len()
            ),
        ));
    }
    let nl = inp.levels_hpa.len();
    if nl < 5 || inp.ta_k.len() != nl || inp.hus.len() != nl {
        return Err(Error::invalid(
            "genesis potential",
            format!(
                "{nl} pressure levels with {} temperature and {} humidity fields; the potential intensity needs a sounding of at least 5 levels up to ~100 hPa",
                inp.ta_k.len(),
                inp.hus.len()
            ),
        ));
    }
    let k600 = level_index(inp.levels_hpa, 600.0).ok_or_else(|| {
        Error::invalid(
            "genesis potential",
            format!("no 600 hPa level in {:?}", inp.levels_hpa),
        )
    })?;
    let all_shapes = [inp.msl_hpa]
        .iter()
        .chain(inp.ta_k)
        .chain(inp.hus)
        .chain(&inp.winds)
        .chain(inp.rh_600_pct.iter())
        .all(|a| a.dim() == shape);
    if !all_shapes {
        return Err(Error::invalid(
            "genesis potential",
            format!("every field must be {nt} times x {ny} x {nx} cells like the sea surface temperature"),
        ));
    }
    let mut vpot = Array3::<f32>::from_elem(shape, f32::NAN);
    let mut pmin = Array3::<f32>::from_elem(shape, f32::NAN);
    vpot.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(pmin.axis_iter_mut(Axis(0)))
        .enumerate()
        .for_each(|(t, (mut vp, mut pm))| {
            let mut tk = vec![0.0; nl];
            let mut rk = vec![0.0; nl];
            for j in 0..ny {
                for i in 0..nx {
                    let (sst, msl) = (
                        f64::from(inp.sst_c[[t, j, i]]),
                        f64::from(inp.msl_hpa[[t, j, i]]),
                    );
                    if !sst.is_finite() || !msl.is_finite() {
                        continue;
                    }
                    for k in 0..nl {
                        tk[k] = f64::from(inp.ta_k[k][[t, j, i]]);
                        let q = f64::from(inp.hus[k][[t, j, i]]);
                        rk[k] = q / (1.0 - q);
                    }
                    let pi = potential_intensity(
                        sst,
                        msl,
                        Sounding {
                            p_hpa: inp.levels_hpa,
                            t_k: &tk,
                            r_kg_kg: &rk,
                        },
                        spec,
                    );
                    vp[[j, i]] = pi.vmax_m_s as f32;
                    pm[[j, i]] = pi.pmin_hpa as f32;
                }
            }
        });
    let [u850, v850, u200, v200] = &inp.winds;
    let mut eta = Array3::<f32>::zeros(shape);
    for t in 0..nt {
        eta.slice_mut(s![t, .., ..]).assign(&absolute_vorticity(
            inp.lat,
            inp.lon,
            u850.slice(s![t, .., ..]),
            v850.slice(s![t, .., ..]),
        ));
    }
    let rh_600 = match inp.rh_600_pct {
        Some(h) => h.to_owned(),
        None => Zip::from(inp.ta_k[k600])
            .and(inp.hus[k600])
            .map_collect(|&t, &q| relative_humidity_pct(f64::from(t), f64::from(q), 600.0) as f32),
    };
    let shear = Zip::from(u200)
        .and(v200)
        .and(u850)
        .and(v850)
        .map_collect(|&a2, &b2, &a8, &b8| (a2 - a8).hypot(b2 - b8));
    let gpi = Zip::from(&eta)
        .and(&rh_600)
        .and(&vpot)
        .and(&shear)
        .map_collect(|&e, &h, &v, &sh| {
            genesis_potential_index(f64::from(e), f64::from(h), f64::from(v), f64::from(sh)) as f32
        });
    Ok(GpiFields {
        gpi,
        vpot,
        pmin,
        abs_vorticity_850: eta,
        rh_600,
        shear_850_200: shear,
    })
}

/// `field` minus its mean over the times of the same calendar month (`months`, 1–12), per cell;
/// NaN where a month has fewer than `min_years` finite values.
pub fn monthly_anomaly(field: ArrayView3<f32>, months: &[u32], min_years: usize) -> Array3<f32> {
    let (nt, ny, nx) = field.dim();
    let mut anomaly = Array3::<f32>::from_elem((nt, ny, nx), f32::NAN);
    for m in 1..=12u32 {
        let idx: Vec<usize> = (0..nt.min(months.len()))
            .filter(|&t| months[t] == m)
            .collect();
        if idx.len() < min_years.max(1) {
            continue;
        }
        for j in 0..ny {
            for i in 0..nx {
                let (sum, n) = idx.iter().fold((0.0f64, 0usize), |(s, n), &t| {
                    let v = field[[t, j, i]];
                    if v.is_finite() {
                        (s + f64::from(v), n + 1)
                    } else {
                        (s, n)
                    }
                });
                if n < min_years.max(1) {
                    continue;
                }
                let mean = (sum / n as f64) as f32;
                for &t in &idx {
                    anomaly[[t, j, i]] = field[[t, j, i]] - mean;
                }
            }
        }
    }
    anomaly
}

/// One basin's genesis outlook.
#[derive(Debug, Clone, Serialize)]
pub struct BasinGenesis {
    /// Basin key.
    pub basin: String,
    /// Basin name.
    pub name: String,
    /// Cells with a GPI in the basin.
    pub cells: usize,
    /// Season-mean basin GPI of the forecast.
    pub forecast: f64,
    /// Mean over the hindcast years.
    pub normal: f64,
    /// `100 forecast / normal`.
    pub percent_of_normal: f64,
    /// Lower and upper tercile of the hindcast years' basin GPIs.
    pub terciles: [f64; 2],
    /// `below normal`, `near normal` or `above normal`.
    pub category: String,
    /// Hindcast years with a lower basin GPI than the forecast.
    pub years_below: usize,
    /// Hindcast years.
    pub years: usize,
    /// Each hindcast year's basin GPI.
    pub hindcast: Vec<(i32, f64)>,
}

/// The season's genesis outlook: maps and basin summaries.
#[derive(Debug, Clone)]
pub struct GenesisOutlook {
    /// Season-mean forecast GPI `(lat, lon)`.
    pub forecast: Array2<f32>,
    /// Mean of the hindcast years' season-mean GPI.
    pub normal: Array2<f32>,
    /// `forecast − normal`.
    pub anomaly: Array2<f32>,
    /// `100 forecast / normal` (NaN where the normal is below 1e-3: no genesis there).
    pub percent_of_normal: Array2<f32>,
    /// Hindcast years used.
    pub years: Vec<i32>,
    /// Per basin.
    pub basins: Vec<BasinGenesis>,
}

/// What [`genesis_outlook`] is made from.
#[derive(Debug, Clone, Copy)]
pub struct GenesisInput<'a> {
    /// Forecast GPI `(time, lat, lon)`, its times (monthly means).
    pub forecast: (ArrayView3<'a, f32>, &'a [CfDateTime]),
    /// Hindcast GPI of the same model and its times.
    pub hindcast: (ArrayView3<'a, f32>, &'a [CfDateTime]),
    /// Latitudes and longitudes of the grid.
    pub lat: &'a [f64],
    /// Longitudes.
    pub lon: &'a [f64],
    /// Target months.
    pub season: &'a Season,
    /// Basins to summarise.
    pub basins: &'a [&'static Basin],
}

/// Season means of `gpi` per season year that has every target month: `(year, (lat, lon))`.
fn season_means(
    gpi: ArrayView3<f32>,
    times: &[CfDateTime],
    season: &Season,
) -> Vec<(i32, Array2<f32>)> {
    let mut years: Vec<i32> = times.iter().filter_map(|t| season.season_year(t)).collect();
    years.sort_unstable();
    years.dedup();
    let (_, ny, nx) = gpi.dim();
    years
        .into_iter()
        .filter_map(|y| {
            let idx: Vec<usize> = (0..times.len())
                .filter(|&t| season.season_year(&times[t]) == Some(y))
                .collect();
            let mut months: Vec<u32> = idx.iter().map(|&t| times[t].month).collect();
            months.sort_unstable();
            months.dedup();
            if months.len() != season.months().len() {
                return None;
            }
            let mut mean = Array2::<f32>::zeros((ny, nx));
            for &t in &idx {
                mean += &gpi.index_axis(Axis(0), t);
            }
            mean /= idx.len() as f32;
            Some((y, mean))
        })
        .collect()
}

/// The cos(latitude)-weighted mean of `field` over the basin's cells with a value, and the
/// number of such cells.
fn basin_mean(field: &Array2<f32>, lat: &[f64], lon: &[f64], basin: &Basin) -> (f64, usize) {
    let (mut s, mut w, mut n) = (0.0, 0.0, 0);
    for (j, &la) in lat.iter().enumerate() {
        let c = la.to_radians().cos();
        for (i, &lo) in lon.iter().enumerate() {
            let v = field[[j, i]];
            if v.is_finite() && basin.contains(la, lo) {
                s += c * f64::from(v);
                w += c;
                n += 1;
            }
        }
    }
    (if w > 0.0 { s / w } else { f64::NAN }, n)
}

/// The genesis outlook of a season: the forecast's season-mean GPI against the hindcast
/// years' (see the module doc). Errors when the forecast does not cover every target month
/// or fewer than 3 hindcast years do.
pub fn genesis_outlook(inp: &GenesisInput) -> Result<GenesisOutlook> {
    let bad = |why: String| Error::invalid("genesis outlook", why);
    let (ny, nx) = (inp.lat.len(), inp.lon.len());
    for (name, (a, t)) in [("forecast", inp.forecast), ("hindcast", inp.hindcast)] {
        if a.dim().1 != ny || a.dim().2 != nx || a.dim().0 != t.len() {
            return Err(bad(format!(
                "{name} GPI of shape {:?} with {} times on a {ny} x {nx} grid",
                a.dim(),
                t.len()
            )));
        }
    }
    let fc = season_means(inp.forecast.0, inp.forecast.1, inp.season);
    let Some((_, forecast)) = fc.into_iter().last() else {
        return Err(bad(format!(
            "the forecast does not cover every month of {}",
            inp.season.label()
        )));
    };
    let hc = season_means(inp.hindcast.0, inp.hindcast.1, inp.season);
    if hc.len() < 3 {
        return Err(bad(format!(
            "{} hindcast years cover every month of {}; at least 3 are needed for a climatology",
            hc.len(),
            inp.season.label()
        )));
    }
    let mut normal = Array2::<f32>::zeros((ny, nx));
    for (_, m) in &hc {
        normal += m;
    }
    normal /= hc.len() as f32;
    let anomaly = &forecast - &normal;
    let percent_of_normal = Zip::from(&forecast).and(&normal).map_collect(|&f, &n| {
        if n.is_finite() && n >= 1e-3 {
            100.0 * f / n
        } else {
            f32::NAN
        }
    });
    let basins = inp
        .basins
        .iter()
        .map(|b| {
            let (f, cells) = basin_mean(&forecast, inp.lat, inp.lon, b);
            let hindcast: Vec<(i32, f64)> = hc
                .iter()
                .map(|(y, m)| (*y, basin_mean(m, inp.lat, inp.lon, b).0))
                .collect();
            let mut sorted: Vec<f64> = hindcast
                .iter()
                .map(|h| h.1)
                .filter(|v| v.is_finite())
                .collect();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
            let terciles = [
                crate::stats::quantile_sorted(&sorted, 1.0 / 3.0),
                crate::stats::quantile_sorted(&sorted, 2.0 / 3.0),
            ];
            let category = if !f.is_finite() || sorted.is_empty() {
                "no outlook"
            } else if f < terciles[0] {
                "below normal"
            } else if f > terciles[1] {
                "above normal"
            } else {
                "near normal"
            };
            BasinGenesis {
                basin: b.key.to_string(),
                name: b.name.to_string(),
                cells,
                forecast: f,
                normal: n,
                percent_of_normal: if n > 0.0 { 100.0 * f / n } else { f64::NAN },
                terciles,
                category: category.to_string(),
                years_below: sorted.iter().filter(|&&v| v < f).count(),
                years: sorted.len(),
                hindcast,
            }
        })
        .collect();
    Ok(GenesisOutlook {
        forecast,
        normal,
        anomaly,
        percent_of_normal,
        years: hc.iter().map(|h| h.0).collect(),
        basins,
    })
}

/// A basin's genesis outlook in a forecaster's words, in the language of `cat`.
pub fn genesis_message(b: &BasinGenesis, season: &str, cat: &crate::bulletin::Catalogue) -> String {
    let basin = cat.basin(&b.basin, &b.name);
    if b.category == "no outlook" {
        return cat.text(
            "genesis.no_outlook",
            &[("basin", &basin), ("season", &cat.period(season))],
        );
    }
    // The category ranks the season among the hindcast years; how far it is from normal says
    // whether a reader should expect a difference: within CLOSE_TO_NORMAL_PERCENT it is
    // "slightly", however the years rank.
    const CLOSE_TO_NORMAL_PERCENT: f64 = 10.0;
    let close = (b.percent_of_normal - 100.0).abs() < CLOSE_TO_NORMAL_PERCENT;
    let tendency = match (b.category.as_str(), close) {
        ("above normal", false) => "genesis.more",
        ("below normal", false) => "genesis.less",
        ("above normal", true) => "genesis.slightly_more",
        ("below normal", true) => "genesis.slightly_less",
        _ => "genesis.usual",
    };
    cat.text(
        "genesis.message",
        &[
            ("basin", &basin),
            ("season", &cat.period(season)),
            ("category", &genesis_category_words(&b.category, cat)),
            ("pct", &format!("{:.0}", b.percent_of_normal)),
            ("k", &b.years_below.to_string()),
            ("n", &b.years.to_string()),
            ("tendency", &cat.text(tendency, &[])),
        ],
    )
}

/// A basin's category ("above normal", …) in the language of `cat`.
pub fn genesis_category_words(category: &str, cat: &crate::bulletin::Catalogue) -> String {
    let key = match category {
        "above normal" => "genesis.above",
        "near normal" => "genesis.near",
        "below normal" => "genesis.below",
        "no outlook" => "genesis.none",
        other => return other.to_string(),
    };
    cat.text(key, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclone::activity::Basin;

    fn times(years: std::ops::RangeInclusive<i32>, months: &[u32]) -> Vec<CfDateTime> {
        years
            .flat_map(|y| months.iter().map(move |&m| CfDateTime::ymd(y, m, 15)))
            .collect()
    }

    /// Hand-checked: 5 hindcast years with basin GPI 1..5 in a Bay of Bengal cell, a forecast
    /// of 4.5: above normal (terciles 2.33, 3.67), 150 % of the normal 3, above 4 of 5 years.
    #[test]
    fn season_outlook_by_hand() {
        let lat = [10.0, 15.0];
        let lon = [70.0, 88.0];
        let season = Season::parse("10-11").unwrap();
        let ht = times(2001..=2005, &[10, 11]);
        // year k (0-based) has GPI k + 1 in both months at the Bay of Bengal cells, 2 in the
        // Arabian Sea cells; a stray December would not count
        let hc = Array3::from_shape_fn((ht.len(), 2, 2), |(t, _, i)| {
            if i == 1 {
                (t / 2 + 1) as f32
            } else {
                2.0
            }
        });
        let ft = times(2024..=2024, &[10, 11, 12]);
        let fc = Array3::from_shape_fn((3, 2, 2), |(t, _, i)| match (t, i) {
            (2, _) => 100.0,
            (0, 1) => 4.0,
            (1, 1) => 5.0,
            _ => 2.0,
        });
        let basins = [Basin::by_key("bob").unwrap(), Basin::by_key("arb").unwrap()];
        let o = genesis_outlook(&GenesisInput {
            forecast: (fc.view(), &ft),
            hindcast: (hc.view(), &ht),
            lat: &lat,
            lon: &lon,
            season: &season,
            basins: &basins,
        })
        .unwrap();
        assert_eq!(o.years, vec![2001, 2002, 2003, 2004, 2005]);
        let bob = &o.basins[0];
        assert_eq!((bob.cells, bob.years, bob.years_below), (2, 5, 4));
        assert!((bob.forecast - 4.5).abs() < 1e-6 && (bob.normal - 3.0).abs() < 1e-6);
        assert!((bob.percent_of_normal - 150.0).abs() < 1e-4);
        assert!((bob.terciles[0] - 7.0 / 3.0).abs() < 1e-6);
        assert_eq!(bob.category, "above normal");
        let arb = &o.basins[1];
        assert_eq!(arb.category, "near normal");
        assert!((arb.percent_of_normal - 100.0).abs() < 1e-4);
        assert!((o.anomaly[[0, 1]] - 1.5).abs() < 1e-6 && o.anomaly[[0, 0]].abs() < 1e-6);
        assert!((o.percent_of_normal[[1, 1]] - 150.0).abs() < 1e-3);
        let m = genesis_message(
            bob,
            &season.label(),
            &crate::bulletin::Catalogue::new("en").unwrap(),
        );
        assert!(
            m.starts_with("Bay of Bengal, Oct–Nov: genesis potential above normal (150 % of normal; higher than in 4 of 5 hindcast years)"),
            "{m}"
        );
        // a forecast without November is refused, as are two hindcast years
        let e = genesis_outlook(&GenesisInput {
            forecast: (fc.slice(s![..1, .., ..]), &ft[..1]),
            hindcast: (hc.view(), &ht),
            lat: &lat,
            lon: &lon,
            season: &season,
            basins: &basins,
        })
        .unwrap_err();
        assert!(e.to_string().contains("every month of Oct–Nov"), "{e}");
        let e = genesis_outlook(&GenesisInput {
            forecast: (fc.view(), &ft),
            hindcast: (hc.slice(s![..4, .., ..]), &ht[..4]),
            lat: &lat,
            lon: &lon,
            season: &season,
            basins: &basins,
        })
        .unwrap_err();
        assert!(e.to_string().contains("2 hindcast years"), "{e}");
    }

    #[test]
    fn monthly_anomaly_removes_each_months_mean() {
        let months = [1, 2, 1, 2, 1, 2];
        let f = Array3::from_shape_fn((6, 1, 2), |(t, _, i)| (t * 10 + i) as f32);
        let a = monthly_anomaly(f.view(), &months, 3);
        // January values 0, 20, 40 (mean 20); February 10, 30, 50 (mean 30)
        assert_eq!(a[[0, 0, 0]], -20.0);
        assert_eq!(a[[5, 0, 1]], 20.0);
        assert!(monthly_anomaly(f.view(), &months, 4)[[0, 0, 0]].is_nan());
    }
}
