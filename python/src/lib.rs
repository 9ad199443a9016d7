//! `s2s_ensemble._core`: the s2s-ensemble kernels and jobs on numpy arrays.
//!
//! A thin layer: each function takes C-contiguous `float32` arrays in the library's axis order
//! (`(init, member, lead, y, x)` for ensembles, `(time, y, x)` for monthly records), releases
//! the GIL, calls the library and hands the arrays it returns to numpy without a copy. Names
//! of dimensions, coordinates and CF attributes are the business of the Python package around
//! it (`s2s_ensemble/__init__.py`), which transposes xarray objects into this order.
//!
//! Errors of the library come back as `s2s_ensemble.S2SError` (a `ValueError`) carrying the
//! library's message, the same words the `s2s` binary prints.

use std::path::PathBuf;

use ndarray::{Array, ArrayView5, Dimension};
use numpy::{IntoPyArray, PyArray3, PyArray5, PyReadonlyArray3, PyReadonlyArray5};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use s2s_ensemble::bias::{correct, BiasParams, Grouping, Kind};
use s2s_ensemble::calendar::{Calendar, CfDateTime};
use s2s_ensemble::cube::BBox;
use s2s_ensemble::cube::{Coords, Lead, Meta, Spatial};
use s2s_ensemble::cyclone::{tracks_csv, DetectSpec};
use s2s_ensemble::ensemble::combine::{
    combine as ensemble_combine, CombineInput, CombineSpec, EdgeSource, Products, SkillScore,
    WeightScheme,
};
use s2s_ensemble::ensemble::{model_edge_probabilities_of_arrays, Weights};
use s2s_ensemble::indices::{spi_grid, GammaFit, MonthlyAxis, SpiSpec};
use s2s_ensemble::io::cyclone_fields::FieldNames;
use s2s_ensemble::pipeline::bias::{corrector, parse_cross_validation, Method};
use s2s_ensemble::pipeline::cyclones::{track_inputs, StitchSettings, TrackSettings};
use s2s_ensemble::pipeline::RunOptions;
use s2s_ensemble::progress::NoProgress;
use s2s_ensemble::units::Quantity;
use s2s_ensemble::verify::maps::{skill_maps, ScoredForecast};
use s2s_ensemble::verify::{ensemble_mean_correlation, mean_crps, mean_rps, Bootstrap};
use s2s_ensemble::Cube;

create_exception!(
    _core,
    S2SError,
    PyValueError,
    "An error of s2s-ensemble: bad input (shapes, values, parameters) or a failed job, with the library's message."
);

/// The library's error as the Python exception.
fn py_err(e: s2s_ensemble::Error) -> PyErr {
    S2SError::new_err(e.to_string())
}

/// A start date `(year, month, day)` as the library's date.
fn start_date((year, month, day): (i32, u32, u32)) -> PyResult<CfDateTime> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(S2SError::new_err(format!(
            "start date {year}-{month}-{day}: month 1–12 and day 1–31"
        )));
    }
    Ok(CfDateTime::ymd(year, month, day))
}

/// What the Python layer knows of an input besides its values: the start dates
/// (`(year, month, day)`), the grid (ascending latitudes
/// and longitudes; else the cells are positionless points), the variable's name, CF
/// `standard_name` and units (the quantity decides ratios or differences, transforms).
#[derive(Clone)]
struct Described<'a> {
    starts: &'a [(i32, u32, u32)],
    grid: Option<&'a (Vec<f64>, Vec<f64>)>,
    variable: &'a str,
    standard_name: Option<&'a str>,
    units: &'a str,
}

/// A cube of `values` `(init, member, lead, y, x)` as `about` describes them: members and
/// monthly leads numbered. Without a grid the cells are one row of positionless points. The
/// values are copied: a cube owns its array, numpy keeps its own.
fn cube_of(values: ArrayView5<f32>, about: &Described, name: &str) -> PyResult<Cube> {
    let (ni, nm, nl, ny, nx) = values.dim();
    if about.starts.len() != ni {
        return Err(S2SError::new_err(format!(
            "{name}: {} start dates given for {ni} starts",
            about.starts.len()
        )));
    }
    let init = about
        .starts
        .iter()
        .copied()
        .map(start_date)
        .collect::<PyResult<_>>()?;
    let ascending =
        |v: &[f64]| v.windows(2).all(|w| w[0] < w[1]) && v.iter().all(|x| x.is_finite());
    let (spatial, shape) = match about.grid {
        Some((lat, lon)) if !ascending(lat) || !ascending(lon) => {
            return Err(S2SError::new_err(format!(
                "{name}: grid latitudes and longitudes must be finite and ascending"
            )))
        }
        Some((lat, lon)) if lat.len() == ny && lon.len() == nx => (
            Spatial::Grid {
                lat: lat.clone(),
                lon: lon.clone(),
            },
            (ny, nx),
        ),
        Some((lat, lon)) => {
            return Err(S2SError::new_err(format!(
                "{name}: a grid of {} x {} for values of {ny} x {nx}",
                lat.len(),
                lon.len()
            )))
        }
        None => (
            Spatial::Points {
                lat: vec![f64::NAN; ny * nx],
                lon: vec![f64::NAN; ny * nx],
                names: vec![String::new(); ny * nx],
            },
            (1, ny * nx),
        ),
    };
    let coords = Coords {
        init,
        member: (0..nm as i32).collect(),
        lead: (0..nl).map(|l| Lead::months(l as f64, 1.0)).collect(),
        spatial,
    };
    let owned = values
        .to_shape((ni, nm, nl, shape.0, shape.1))
        .map_err(|e| S2SError::new_err(format!("{name}: {e}")))?
        .to_owned();
    let mut meta = Meta::new(name, about.variable, about.units, Calendar::Standard);
    meta.standard_name = about.standard_name.map(str::to_string);
    meta.quantity = Quantity::detect(about.variable, about.standard_name, None);
    Cube::new(owned, coords, meta).map_err(py_err)
}

/// Values whose last two axes are a cube's `(y, x)` (one row of points without a grid) back
/// on the caller's `(y, x)`.
fn on_grid<T, D: Dimension>(values: Array<T, D>, ny: usize, nx: usize) -> PyResult<Array<T, D>> {
    let mut shape = values.raw_dim();
    let n = shape.ndim();
    shape[n - 2] = ny;
    shape[n - 1] = nx;
    values
        .into_shape_with_order(shape)
        .map_err(|e| S2SError::new_err(e.to_string()))
}

/// Member weights of the combination by name: `pooled` (every member the same), `model`
/// (every model the same), or one weight per model.
fn weights_of(scheme: &str, given: Option<Vec<f64>>, models: usize) -> PyResult<Weights> {
    Ok(match (scheme, given) {
        (_, Some(w)) if w.len() != models => {
            return Err(S2SError::new_err(format!(
                "weights: {} given for {models} models",
                w.len()
            )))
        }
        (_, Some(w))
            if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || w.iter().sum::<f64>() <= 0.0 =>
        {
            return Err(S2SError::new_err(format!(
                "weights {w:?}: one finite, non-negative weight per model, not all zero"
            )))
        }
        (_, Some(w)) => Weights::Given(w),
        ("pooled", None) => Weights::Pooled,
        ("model", None) => Weights::ModelEqual,
        (other, None) => {
            return Err(S2SError::new_err(format!(
                "weights '{other}': use 'pooled', 'model' or a sequence of one weight per model"
            )))
        }
    })
}

/// Category probabilities of each model's members against that model's own hindcast edges
/// (type-7 quantiles of `levels` over starts × members, per lead and cell), combined over the
/// models with `weights`: `(init, category, lead, y, x)` for the hindcast and for each target
/// set in `targets` (say the forecasts).
#[pyfunction]
#[pyo3(signature = (hindcasts, targets, levels, weights = "pooled", given = None))]
fn tercile_probabilities<'py>(
    py: Python<'py>,
    hindcasts: Vec<PyReadonlyArray5<'py, f32>>,
    targets: Vec<Vec<PyReadonlyArray5<'py, f32>>>,
    levels: Vec<f64>,
    weights: &str,
    given: Option<Vec<f64>>,
) -> PyResult<Vec<Bound<'py, PyArray5<f32>>>> {
    // the library checks the counts and shapes of the arrays (one per model in every set)
    let weights = weights_of(weights, given, hindcasts.len())?;
    // numpy's memory read in place: no copy on the way in
    let hc: Vec<ArrayView5<f32>> = hindcasts.iter().map(|h| h.as_array()).collect();
    let tg: Vec<Vec<ArrayView5<f32>>> = targets
        .iter()
        .map(|set| set.iter().map(|t| t.as_array()).collect())
        .collect();
    let out = py
        .detach(|| {
            let mut all: Vec<&[ArrayView5<f32>]> = vec![&hc];
            all.extend(tg.iter().map(Vec::as_slice));
            model_edge_probabilities_of_arrays(&hc, &all, &levels, &weights)
        })
        .map_err(py_err)?;
    // the views kept their (y, x): the results are on the caller's grid already
    Ok(out.into_iter().map(|p| p.into_pyarray(py)).collect())
}

/// Mean CRPS over the starts of an ensemble against the observations, `(lead, y, x)`; `fair`
/// for the fair (ensemble-size-adjusted) CRPS of Ferro (2014).
#[pyfunction]
#[pyo3(signature = (members, obs, fair = false))]
fn crps<'py>(
    py: Python<'py>,
    members: PyReadonlyArray5<'py, f32>,
    obs: PyReadonlyArray5<'py, f32>,
    fair: bool,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let (m, o) = (members.as_array(), obs.as_array());
    let out = py.detach(|| mean_crps(m, o, fair)).map_err(py_err)?;
    Ok(out.into_pyarray(py))
}

/// Mean ranked probability score over the starts, `(lead, y, x)`: categories at the type-7
/// quantiles `levels` of the observations over the starts and of the members over starts ×
/// members (in-sample edges, as xskillscore's `rps` with quantile edges).
#[pyfunction]
#[pyo3(signature = (members, obs, levels))]
fn rps<'py>(
    py: Python<'py>,
    members: PyReadonlyArray5<'py, f32>,
    obs: PyReadonlyArray5<'py, f32>,
    levels: Vec<f64>,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let (m, o) = (members.as_array(), obs.as_array());
    let out = py.detach(|| mean_rps(m, o, &levels)).map_err(py_err)?;
    Ok(out.into_pyarray(py))
}

/// Correlation over the starts of the ensemble-mean anomalies with the observed anomalies
/// (the anomaly correlation coefficient), `(lead, y, x)`.
#[pyfunction]
fn acc<'py>(
    py: Python<'py>,
    members: PyReadonlyArray5<'py, f32>,
    obs: PyReadonlyArray5<'py, f32>,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let (m, o) = (members.as_array(), obs.as_array());
    let out = py
        .detach(|| ensemble_mean_correlation(m, o))
        .map_err(py_err)?;
    Ok(out.into_pyarray(py))
}

/// SPI of a monthly precipitation record `(time, y, x)` starting in `first_year`-`first_month`:
/// accumulation over `scale` months, a zero-inflated gamma per calendar month fitted on the
/// `calibration` years (`fit`: `thom` or `ml`). A dict of `spi (time, y, x)`, `shape`, `scale`,
/// `prob_zero` `(month, y, x)` and `calibration` (the years used).
#[pyfunction]
#[pyo3(signature = (precip, first_year, first_month, scale = 3, calibration = (1991, 2020), fit = "thom", min_nonzero = None))]
#[allow(clippy::too_many_arguments)]
fn spi<'py>(
    py: Python<'py>,
    precip: PyReadonlyArray3<'py, f32>,
    first_year: i32,
    first_month: u32,
    scale: usize,
    calibration: (i32, i32),
    fit: &str,
    min_nonzero: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = precip.as_array();
    let fit = match fit {
        "thom" => GammaFit::Thom,
        "ml" => GammaFit::MaximumLikelihood,
        other => {
            return Err(S2SError::new_err(format!(
                "fit '{other}': use 'thom' (Thom's approximation, the SPI standard) or 'ml' (maximum likelihood)"
            )))
        }
    };
    let defaults = SpiSpec::default();
    let spec = SpiSpec {
        scale_months: scale,
        calibration,
        fit,
        min_nonzero: min_nonzero.unwrap_or(defaults.min_nonzero),
        ..defaults
    };
    let axis = MonthlyAxis::new(first_year, first_month, p.dim().0).map_err(py_err)?;
    let out = py.detach(|| spi_grid(p, &axis, &spec)).map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("spi", out.spi.into_pyarray(py))?;
    d.set_item("shape", out.shape.into_pyarray(py))?;
    d.set_item("scale", out.scale.into_pyarray(py))?;
    d.set_item("prob_zero", out.prob_zero.into_pyarray(py))?;
    d.set_item("calibration", out.calibration_used)?;
    Ok(d)
}

/// Bias correction of a hindcast `(init, member, lead, y, x)` against the observations on its
/// targets `(init, 1, lead, y, x)`, and of a forecast: `method` `scaling|variance|eqm|qdm`,
/// `multiplicative` for precipitation-like quantities, cross-validation `cv` (`loyo`, `none`,
/// `leave-K`) by the years of `starts` (`(year, month, day)` per hindcast start), training on
/// starts of the same calendar month (or within `window_days` of the day of year). A dict of
/// the corrected `hindcast` (None with `forecast_only`), `forecast` (None without one) and
/// `untrained` (targets left NaN for want of training data).
#[pyfunction]
#[pyo3(signature = (hindcast, obs, starts, forecast = None, forecast_starts = None, method = "eqm", multiplicative = false, cv = "loyo", quantiles = None, wet_threshold = 0.01, window_days = None, forecast_only = false))]
#[allow(clippy::too_many_arguments)]
fn bias_correct<'py>(
    py: Python<'py>,
    hindcast: PyReadonlyArray5<'py, f32>,
    obs: PyReadonlyArray5<'py, f32>,
    starts: Vec<(i32, u32, u32)>,
    forecast: Option<PyReadonlyArray5<'py, f32>>,
    forecast_starts: Option<Vec<(i32, u32, u32)>>,
    method: &str,
    multiplicative: bool,
    cv: &str,
    quantiles: Option<usize>,
    wet_threshold: f64,
    window_days: Option<u32>,
    forecast_only: bool,
) -> PyResult<Bound<'py, PyDict>> {
    // by the names the binary's outputs carry (Method::name)
    let method = [Method::Scaling, Method::Variance, Method::Eqm, Method::Qdm]
        .into_iter()
        .find(|m| m.name() == method)
        .ok_or_else(|| {
            S2SError::new_err(format!(
                "method '{method}': use scaling, variance, eqm or qdm"
            ))
        })?;
    let kind = if multiplicative {
        Kind::Multiplicative
    } else {
        Kind::Additive
    };
    let h = hindcast.as_array();
    let (_, nm, _, ny, nx) = h.dim();
    let c =
        corrector(method, kind, quantiles, wet_threshold, nm, "the hindcast").map_err(py_err)?;
    let params = BiasParams {
        cv: parse_cross_validation(cv).map_err(py_err)?,
        wet_threshold,
        grouping: window_days.map_or(Grouping::SameStartMonth, Grouping::WindowDays),
        correct_hindcast: !forecast_only,
        ..Default::default()
    };
    let about = Described {
        starts: &starts,
        grid: None,
        variable: "x",
        standard_name: None,
        units: "1",
    };
    let hc = cube_of(h, &about, "hindcast")?;
    let ob = cube_of(obs.as_array(), &about, "observations")?;
    let fc = forecast
        .as_ref()
        .map(|f| {
            let about = Described {
                starts: forecast_starts.as_deref().unwrap_or(&starts),
                ..about.clone()
            };
            cube_of(f.as_array(), &about, "forecast")
        })
        .transpose()?;
    let out = py
        .detach(|| correct(c.as_ref(), &hc, &ob, fc.as_ref(), &params))
        .map_err(py_err)?;
    let d = PyDict::new(py);
    let back = |c: Option<Cube>| -> PyResult<Option<Bound<'py, PyArray5<f32>>>> {
        c.map(|c| Ok(on_grid(c.values, ny, nx)?.into_pyarray(py)))
            .transpose()
    };
    d.set_item("hindcast", back(out.hindcast)?)?;
    d.set_item("forecast", back(out.forecast)?)?;
    d.set_item("untrained", out.untrained)?;
    d.set_item("method", c.describe())?;
    d.set_item("cross_validation", params.cv.describe())?;
    Ok(d)
}

/// The weighting of a combination by name (the `s2s combine --weights` values).
fn scheme_of(weights: &str, skill_score: &str, skill_radius: usize) -> PyResult<WeightScheme> {
    Ok(match weights {
        "pooled" => WeightScheme::Pooled,
        "model" => WeightScheme::ModelEqual,
        "pmme" => WeightScheme::Pmme,
        "calibrated" => WeightScheme::Calibrated,
        "elr" => WeightScheme::Elr,
        "pcr" => WeightScheme::Pcr,
        "skill" => WeightScheme::Skill {
            score: match skill_score {
                "rpss" => SkillScore::Rpss,
                "acc" => SkillScore::Acc,
                other => {
                    return Err(S2SError::new_err(format!(
                        "skill_score '{other}': use 'rpss' or 'acc'"
                    )))
                }
            },
            radius_cells: skill_radius,
        },
        other => {
            return Err(S2SError::new_err(format!(
                "weights '{other}': use pooled, model, skill, pmme, calibrated, elr or pcr"
            )))
        }
    })
}

/// The fields of one set of combined products, each `(start, k, lead, y, x)` on the caller's
/// grid (`edges`, `extreme_edges`: `(start, source, edge, lead, y, x)`).
fn products_dict<'py>(
    py: Python<'py>,
    p: Products,
    ny: usize,
    nx: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, a) in [
        ("probability", p.probability),
        ("extreme_probability", p.extreme_probability),
        ("mean", p.mean),
        ("normal", p.normal),
        ("anomaly", p.anomaly),
        ("standardized_anomaly", p.standardized_anomaly),
        ("percent_of_normal", p.percent_of_normal),
        ("spread", p.spread),
        ("signal_to_noise", p.signal_to_noise),
        ("percentiles", p.percentiles),
        ("most_likely_probability", p.most_likely_probability),
        ("weights", p.weights),
    ] {
        d.set_item(name, on_grid(a, ny, nx)?.into_pyarray(py))?;
    }
    for (name, a) in [
        ("most_likely_category", p.most_likely_category),
        ("dominant_category", p.dominant_category),
    ] {
        d.set_item(name, on_grid(a, ny, nx)?.into_pyarray(py))?;
    }
    for (name, a) in [("edges", p.edges), ("extreme_edges", p.extreme_edges)] {
        d.set_item(name, on_grid(a, ny, nx)?.into_pyarray(py))?;
    }
    Ok(d)
}

/// Combines the models' hindcasts (and forecasts) `(init, member, lead, y, x)` into
/// multi-model products: the `s2s combine` job on arrays. `obs` `(init, 1, lead, y, x)` on the
/// hindcast's targets is needed by observed edges, skill weights, PMME and the calibrated
/// schemes. The hindcast's products are cross-validated (each start against the other years)
/// when `cross_validate`. A dict `hindcast`, `forecast` (None without forecasts) of field
/// dicts, and `method` in words.
#[pyfunction]
#[pyo3(signature = (hindcasts, starts, forecasts = None, forecast_starts = None, obs = None, grid = None, variable = "x", standard_name = None, units = "1", weights = "model", skill_score = "rpss", skill_radius = 0, edges = "model", levels = vec![1.0 / 3.0, 2.0 / 3.0], extremes = vec![0.1, 0.9], percentiles = vec![0.1, 0.5, 0.9], dominant = 0.4, cross_validate = true, full_hindcast = false))]
#[allow(clippy::too_many_arguments)]
fn combine<'py>(
    py: Python<'py>,
    hindcasts: Vec<PyReadonlyArray5<'py, f32>>,
    starts: Vec<(i32, u32, u32)>,
    forecasts: Option<Vec<PyReadonlyArray5<'py, f32>>>,
    forecast_starts: Option<Vec<(i32, u32, u32)>>,
    obs: Option<PyReadonlyArray5<'py, f32>>,
    grid: Option<(Vec<f64>, Vec<f64>)>,
    variable: &str,
    standard_name: Option<&str>,
    units: &str,
    weights: &str,
    skill_score: &str,
    skill_radius: usize,
    edges: &str,
    levels: Vec<f64>,
    extremes: Vec<f64>,
    percentiles: Vec<f64>,
    dominant: f64,
    cross_validate: bool,
    full_hindcast: bool,
) -> PyResult<Bound<'py, PyDict>> {
    if hindcasts.is_empty() {
        return Err(S2SError::new_err("combine: no hindcast given"));
    }
    let spec = CombineSpec {
        scheme: scheme_of(weights, skill_score, skill_radius)?,
        edges: match edges {
            "model" => EdgeSource::Model,
            "obs" | "observed" => EdgeSource::Observed,
            other => {
                return Err(S2SError::new_err(format!(
                    "edges '{other}': use 'model' (each model's hindcast climate) or 'obs'"
                )))
            }
        },
        category_levels: levels,
        extreme_levels: extremes,
        percentile_levels: percentiles,
        dominant_threshold: dominant,
        cross_validate,
        full_hindcast,
    };
    let (_, _, _, ny, nx) = hindcasts[0].as_array().dim();
    let about = Described {
        starts: &starts,
        grid: grid.as_ref(),
        variable,
        standard_name,
        units,
    };
    let hc: Vec<Cube> = hindcasts
        .iter()
        .enumerate()
        .map(|(m, h)| cube_of(h.as_array(), &about, &format!("hindcast of model {m}")))
        .collect::<PyResult<_>>()?;
    let fc: Option<Vec<Cube>> = forecasts
        .as_ref()
        .map(|fs| {
            let about = Described {
                starts: forecast_starts.as_deref().unwrap_or(&starts),
                ..about.clone()
            };
            fs.iter()
                .enumerate()
                .map(|(m, f)| cube_of(f.as_array(), &about, &format!("forecast of model {m}")))
                .collect::<PyResult<_>>()
        })
        .transpose()?;
    let ob = obs
        .as_ref()
        .map(|o| cube_of(o.as_array(), &about, "observations"))
        .transpose()?;
    let combined = py
        .detach(|| {
            let href: Vec<&Cube> = hc.iter().collect();
            let fref: Option<Vec<&Cube>> = fc.as_ref().map(|f| f.iter().collect());
            ensemble_combine(
                &CombineInput {
                    hindcasts: &href,
                    forecasts: fref.as_deref(),
                    obs: ob.as_ref(),
                },
                &spec,
            )
        })
        .map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("hindcast", products_dict(py, combined.hindcast, ny, nx)?)?;
    d.set_item(
        "forecast",
        combined
            .forecast
            .map(|p| products_dict(py, p, ny, nx))
            .transpose()?,
    )?;
    d.set_item("method", spec.describe())?;
    Ok(d)
}

/// Skill maps of a hindcast over its starts: the `s2s verify` scores per lead and cell.
/// `probability` `(init, category, lead, y, x)` at the category `levels`, `ensemble_mean` and
/// `obs` `(init, 1, lead, y, x)`, optional `anomaly` (for the ACC) and `members` (for the
/// CRPS); `debias_members` for Weigel's debiased RPSS of member-count probabilities; a
/// bootstrap of `resamples` draws over the years for confidence intervals of ACC and RPSS.
/// A dict of `(lead, y, x)` maps and `(category, lead, y, x)` for `brier` and `roc_area`.
#[pyfunction]
#[pyo3(signature = (probability, ensemble_mean, obs, levels, anomaly = None, members = None, debias_members = None, resamples = 0, confidence = 0.95, seed = 1, fair_crps = true))]
#[allow(clippy::too_many_arguments)]
fn verify<'py>(
    py: Python<'py>,
    probability: PyReadonlyArray5<'py, f32>,
    ensemble_mean: PyReadonlyArray5<'py, f32>,
    obs: PyReadonlyArray5<'py, f32>,
    levels: Vec<f64>,
    anomaly: Option<PyReadonlyArray5<'py, f32>>,
    members: Option<PyReadonlyArray5<'py, f32>>,
    debias_members: Option<usize>,
    resamples: usize,
    confidence: f64,
    seed: u64,
    fair_crps: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let years = probability.as_array().dim().0;
    let bootstrap = (resamples > 0)
        .then(|| Bootstrap::new(years, resamples, confidence, seed))
        .transpose()
        .map_err(py_err)?;
    let scored = ScoredForecast {
        probability: probability.as_array(),
        ensemble_mean: ensemble_mean.as_array(),
        anomaly: anomaly.as_ref().map(|a| a.as_array()),
        members: members.as_ref().map(|m| m.as_array()),
        obs: obs.as_array(),
        levels: &levels,
        debias_members,
        bootstrap: bootstrap.as_ref(),
        fair_crps,
    };
    let maps = py.detach(|| skill_maps(&scored)).map_err(py_err)?;
    let d = PyDict::new(py);
    for (name, a) in [
        ("acc", maps.acc),
        ("rmse", maps.rmse),
        ("bias", maps.bias),
        ("msss", maps.msss),
        ("rps", maps.rps),
        ("rpss", maps.rpss),
        ("crps", maps.crps),
        ("crpss", maps.crpss),
        ("acc_lower", maps.acc_lower),
        ("acc_upper", maps.acc_upper),
        ("rpss_lower", maps.rpss_lower),
        ("rpss_upper", maps.rpss_upper),
    ] {
        d.set_item(name, a.into_pyarray(py))?;
    }
    d.set_item("brier", maps.brier.into_pyarray(py))?;
    d.set_item("roc_area", maps.roc_area.into_pyarray(py))?;
    Ok(d)
}

/// Detects and tracks tropical cyclones in the files `inputs` (each a member run; `a.nc;b.nc`
/// is one run whose variables are in two files): TempestExtremes' DetectNodes criteria
/// (sea-level pressure minimum closed by a 200 Pa contour within 5.5°, merged within 6°;
/// `vorticity` adds the 850 hPa vorticity criterion, `thickness` the warm core, `min_lat` …
/// `max_abs_lat` a latitude band) and StitchNodes linking (`range_deg`, `min_duration_hours`,
/// `max_gap_hours`, path `thresholds` in TE's syntax). Returns the tracks as the CSV text
/// `s2s cyclones track` writes, the number of candidate centres and the filters used.
#[pyfunction]
#[pyo3(signature = (inputs, psl = None, wind = None, uas = None, vas = None, vorticity = None, thickness = None, bbox = None, vorticity_min = None, vorticity_radius = None, min_lat = None, max_lat = None, max_abs_lat = None, min_abs_lat = None, merge_equal = false, range_deg = 8.0, min_duration_hours = 54.0, max_gap_hours = 24.0, thresholds = None))]
#[allow(clippy::too_many_arguments)]
fn track_cyclones(
    py: Python<'_>,
    inputs: Vec<PathBuf>,
    psl: Option<String>,
    wind: Option<String>,
    uas: Option<String>,
    vas: Option<String>,
    vorticity: Option<String>,
    thickness: Option<String>,
    bbox: Option<String>,
    vorticity_min: Option<f64>,
    vorticity_radius: Option<f64>,
    min_lat: Option<f64>,
    max_lat: Option<f64>,
    max_abs_lat: Option<f64>,
    min_abs_lat: Option<f64>,
    merge_equal: bool,
    range_deg: f64,
    min_duration_hours: f64,
    max_gap_hours: f64,
    thresholds: Option<String>,
) -> PyResult<(String, usize, String)> {
    let mut detect = DetectSpec::default();
    if let Some(v) = vorticity_min {
        detect.vorticity.min_cyclonic_s = v;
    }
    if let Some(r) = vorticity_radius {
        detect.vorticity.radius_deg = r;
    }
    detect.min_lat_deg = min_lat;
    detect.max_lat_deg = max_lat;
    detect.max_abs_lat_deg = max_abs_lat;
    detect.min_abs_lat_deg = min_abs_lat;
    detect.merge_equal = merge_equal;
    detect.validate().map_err(py_err)?;
    let settings = TrackSettings {
        fields: FieldNames {
            psl,
            wind,
            uas,
            vas,
            thickness,
            vorticity,
            bbox: bbox
                .as_deref()
                .map(BBox::parse)
                .transpose()
                .map_err(py_err)?,
        },
        detect,
        stitch: StitchSettings {
            range_deg,
            min_duration_hours,
            max_gap_hours,
            thresholds: thresholds
                .as_deref()
                .map(StitchSettings::parse_thresholds)
                .transpose()
                .map_err(py_err)?,
        },
    };
    let set = py
        .detach(|| track_inputs(&settings, &inputs, &NoProgress))
        .map_err(py_err)?;
    Ok((tracks_csv(&set.tracks, set.columns), set.nodes, set.filters))
}

/// Ensemble drift of a ship or oil released at (`lat`, `lon`) on `start` (YYYY-MM-DD) for
/// `days`: the `s2s emergency` job. Each file of `currents` is one member's surface currents
/// (`wind`: its 10 m winds, applied with `windage`), `particles` per member spread over
/// `release_radius_km`, random-walk `diffusivity` (m² s⁻¹), time step `step_minutes`;
/// `cyclone_fields` adds the cyclone passage probability within `radius_km`. Writes
/// `trajectories.nc`, `drift_probability.nc` and the emergency bulletin into `out`; returns
/// the report as JSON.
#[pyfunction]
#[pyo3(signature = (currents, lat, lon, start, out, days = 30, wind = vec![], current_vars = None, particles = 2000, windage = 0.03, diffusivity = 10.0, release_radius_km = 5.0, step_minutes = 60.0, seed = 1, cyclone_fields = vec![], radius_km = 300.0, allow_persistence = false))]
#[allow(clippy::too_many_arguments)]
fn drift(
    py: Python<'_>,
    currents: Vec<PathBuf>,
    lat: f64,
    lon: f64,
    start: String,
    out: PathBuf,
    days: usize,
    wind: Vec<PathBuf>,
    current_vars: Option<String>,
    particles: usize,
    windage: f64,
    diffusivity: f64,
    release_radius_km: f64,
    step_minutes: f64,
    seed: u64,
    cyclone_fields: Vec<PathBuf>,
    radius_km: f64,
    allow_persistence: bool,
) -> PyResult<String> {
    use s2s_ensemble::pipeline::emergency::{emergency, EmergencyPlan};
    let plan = EmergencyPlan {
        lat,
        lon,
        start,
        days,
        currents,
        current_vars,
        wind,
        particles,
        windage,
        diffusivity,
        release_radius_km,
        step_minutes,
        seed,
        cyclone_fields,
        radius_km,
        countries: None,
        out,
        allow_persistence,
    };
    py.detach(|| {
        let report = emergency(&plan, &RunOptions::default(), &NoProgress)?;
        serde_json::to_string(&report)
            .map_err(|e| s2s_ensemble::Error::invalid("report", e.to_string()))
    })
    .map_err(py_err)
}

/// How a variable is bias-corrected, from its name, CF `standard_name` and `long_name` (the
/// library's own detection): `multiplicative` for precipitation (ratios keep a dry day dry),
/// `additive` for everything else.
#[pyfunction]
#[pyo3(signature = (name, standard_name = None, long_name = None))]
fn correction_kind(
    name: &str,
    standard_name: Option<&str>,
    long_name: Option<&str>,
) -> &'static str {
    let quantity = s2s_ensemble::units::Quantity::detect(name, standard_name, long_name);
    s2s_ensemble::pipeline::policy::correction_kind(quantity).name()
}

/// Runs the outlook of the TOML configuration `config` (the `s2s outlook` job) into `out`
/// (default: the configuration's own); returns the JSON report the binary prints with
/// `--json`: the bulletin, the NetCDF and the maps written, the stages and their seconds.
#[pyfunction]
#[pyo3(signature = (config, out = None))]
fn run_outlook(py: Python<'_>, config: PathBuf, out: Option<PathBuf>) -> PyResult<String> {
    use s2s_ensemble::pipeline::outlook::{outlook, OutlookPlan};
    py.detach(|| {
        let plan = OutlookPlan::from_file(&config, out, RunOptions::default())?;
        let report = outlook(&plan, &NoProgress)?;
        serde_json::to_string(&report)
            .map_err(|e| s2s_ensemble::Error::invalid("report", e.to_string()))
    })
    .map_err(py_err)
}

/// The time outputs are stamped with, ISO 8601 UTC: now, or `SOURCE_DATE_EPOCH` when set (the
/// library's `outputs::stamp_time`, which the NetCDF `history` of the binary uses too).
#[pyfunction]
fn stamp_time() -> String {
    s2s_ensemble::outputs::stamp_time()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Number of threads the kernels use (rayon's global pool). Set it before the first call:
/// the pool is made once per process.
#[pyfunction]
fn set_threads(threads: usize) -> PyResult<()> {
    if threads == 0 {
        return Err(S2SError::new_err("threads must be at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| {
            S2SError::new_err(format!(
                "threads: {e} (the pool is made at the first call of a kernel; call set_threads first)"
            ))
        })
}

/// The module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("S2SError", m.py().get_type::<S2SError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // the library's wet thresholds of multiplicative corrections, mm/day, by time step
    m.add(
        "WET_DAY_THRESHOLD_DAILY_MM",
        s2s_ensemble::bias::WET_DAY_THRESHOLD_DAILY_MM,
    )?;
    m.add(
        "WET_THRESHOLD_MONTHLY_MM",
        s2s_ensemble::bias::WET_THRESHOLD_MONTHLY_MM,
    )?;
    m.add_function(wrap_pyfunction!(tercile_probabilities, m)?)?;
    m.add_function(wrap_pyfunction!(crps, m)?)?;
    m.add_function(wrap_pyfunction!(rps, m)?)?;
    m.add_function(wrap_pyfunction!(acc, m)?)?;
    m.add_function(wrap_pyfunction!(spi, m)?)?;
    m.add_function(wrap_pyfunction!(bias_correct, m)?)?;
    m.add_function(wrap_pyfunction!(combine, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(track_cyclones, m)?)?;
    m.add_function(wrap_pyfunction!(drift, m)?)?;
    m.add_function(wrap_pyfunction!(correction_kind, m)?)?;
    m.add_function(wrap_pyfunction!(run_outlook, m)?)?;
    m.add_function(wrap_pyfunction!(set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(stamp_time, m)?)?;
    Ok(())
}
