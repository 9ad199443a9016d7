"""s2s-ensemble from Python: the engine's kernels and jobs with xarray in and out.

Each function takes :class:`xarray.DataArray` objects (dimensions found by name, any order,
any extra spatial dimensions: a lat/lon grid, a curvilinear grid or a list of stations) or
plain :class:`numpy.ndarray` objects in the library's axis order, and returns the same kind:
DataArrays keep the inputs' coordinates and attributes and carry CF attributes of their own.

The work runs in Rust (``s2s_ensemble._core``) with the GIL released, on rayon threads
(:func:`set_threads`). Arrays cross without a copy when they are C-contiguous ``float32`` in
the library's order; otherwise one copy is made on the way in (see ``python/README.md``).

Functions
---------
tercile_probabilities
    Category probabilities of one or several models against each model's own hindcast edges.
crps, rps, acc
    Verification scores of an ensemble against observations, over the start dates.
spi
    Standardized Precipitation Index of a monthly precipitation record (McKee et al. 1993).
bias_correct
    Mean or variance scaling, empirical quantile mapping (EQM) or quantile delta mapping (QDM)
    of a hindcast and forecast against observations, cross-validated by year.
combine
    The multi-model combination (``s2s combine``): probabilities, means, anomalies,
    percentiles and weights, calibrated or not, as a Dataset.
verify
    Skill maps of a combined hindcast (``s2s verify``): ACC, RMSE, MSSS, RPSS, CRPSS, Brier,
    ROC area, with bootstrap intervals.
detect_cyclones
    Tropical-cyclone tracks (TempestExtremes' DetectNodes/StitchNodes criteria) as a
    pandas DataFrame.
drift
    Ensemble drift of a ship or oil from a point at sea (``s2s emergency``).
run_outlook
    The ``s2s outlook`` job of a TOML configuration: NetCDF products, maps and bulletins.
"""

from __future__ import annotations

from pathlib import Path
import json as _json
from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import xarray as xr

from . import _core
from ._core import S2SError, __version__, set_threads

__all__ = [
    "S2SError",
    "__version__",
    "set_threads",
    "tercile_probabilities",
    "crps",
    "rps",
    "acc",
    "spi",
    "bias_correct",
    "combine",
    "verify",
    "detect_cyclones",
    "drift",
    "run_outlook",
    "TERCILES",
]

#: The tercile levels: below normal below the 1/3 quantile, above normal above the 2/3 one.
TERCILES = (1.0 / 3.0, 2.0 / 3.0)

_ArrayLike = Union[xr.DataArray, np.ndarray]
_Models = Union[_ArrayLike, Sequence[_ArrayLike], Mapping[str, _ArrayLike]]


# --------------------------------------------------------------------------- layouts
#: Longest row of cells handed to the kernels when the cells are not a 2-D grid (see
#: ``_Layout.rows``): 256 float32 values of 240 members and starts are 240 KiB, a row's
#: working set within a core's L2 cache.
_ROW_CELLS = 256

_LAT_NAMES = ("lat", "latitude", "y", "rlat", "nav_lat")
_LON_NAMES = ("lon", "longitude", "x", "rlon", "nav_lon")


def _is_axis(da: xr.DataArray, dim: str, names, standard_name: str, units: str) -> bool:
    c = da.coords.get(dim)
    attrs = c.attrs if c is not None else {}
    return dim.lower() in names or attrs.get("standard_name") == standard_name or attrs.get("units") == units


class _Layout:
    """How one DataArray maps onto the library's ``(init, member, lead, y, x)``.

    The ensemble dimensions are found by name; a missing member or lead dimension becomes
    length 1. Every other dimension is spatial. With ``grid=True`` and two spatial dimensions
    that are latitude and longitude (by name, ``standard_name`` or units) with ascending
    longitudes, the library gets the grid (latitudes flipped to ascending if need be): the
    jobs whose neighbourhoods or area weights need positions (skill weights pooled over
    cells, PCR) see them. Otherwise the spatial dimensions are flattened (in their order) into
    one row of cells, so a curvilinear grid and a list of stations are the same to the
    kernels, and put back afterwards with their coordinates.
    """

    def __init__(self, da: xr.DataArray, init_dim: str, member_dim: str, lead_dim: str, what: str, grid: bool = False):
        if init_dim not in da.dims:
            raise S2SError(
                f"{what}: no '{init_dim}' dimension (dims {tuple(da.dims)}); "
                f"name the start-date dimension with init_dim="
            )
        self.dims = (init_dim, member_dim, lead_dim)
        self.has_member = member_dim in da.dims
        self.has_lead = lead_dim in da.dims
        self.spatial = tuple(d for d in da.dims if d not in self.dims)
        self.what = what
        self.grid = None
        self.flip = False
        if grid and len(self.spatial) == 2:
            a, b = self.spatial
            lat_first = _is_axis(da, a, _LAT_NAMES, "latitude", "degrees_north")
            if not lat_first:
                a, b = b, a
            if (_is_axis(da, a, _LAT_NAMES, "latitude", "degrees_north")
                    and _is_axis(da, b, _LON_NAMES, "longitude", "degrees_east")
                    and a in da.coords and b in da.coords and da[a].ndim == 1 and da[b].ndim == 1):
                lat = np.asarray(da[a].values, dtype=np.float64)
                lon = np.asarray(da[b].values, dtype=np.float64)
                self.flip = lat.size > 1 and bool(lat[0] > lat[-1])
                if self.flip:
                    lat = lat[::-1]
                if np.all(np.diff(lat) > 0) and np.all(np.diff(lon) > 0):
                    self.spatial = (a, b)
                    self.grid = (lat.tolist(), lon.tolist())
                else:
                    self.flip = False

    def sizes(self, da: xr.DataArray) -> Tuple[int, ...]:
        return tuple(int(da.sizes[d]) for d in self.spatial)

    def values(self, da: xr.DataArray) -> np.ndarray:
        """``da`` as a C-contiguous float32 array ``(init, member, lead, y, x)``."""
        init_dim, member_dim, lead_dim = self.dims
        if member_dim not in da.dims:
            da = da.expand_dims(member_dim, axis=1)
        if lead_dim not in da.dims:
            da = da.expand_dims(lead_dim, axis=2)
        missing = [d for d in self.spatial if d not in da.dims]
        if missing:
            raise S2SError(f"{self.what}: dimension(s) {missing} missing from an input (dims {tuple(da.dims)})")
        da = da.transpose(init_dim, member_dim, lead_dim, *self.spatial)
        ni, nm, nl = (int(da.sizes[d]) for d in (init_dim, member_dim, lead_dim))
        a = da.values
        if self.grid is not None:
            if self.flip:
                a = a[..., ::-1, :]
            return np.ascontiguousarray(a, dtype=np.float32)
        return np.ascontiguousarray(a, dtype=np.float32).reshape((ni, nm, nl) + self.rows(da))

    def rows(self, da: xr.DataArray) -> Tuple[int, int]:
        """The cells as ``(rows, columns)`` for the kernels, which work row by row (a row's
        values of every start and member are gathered into cache at once): the two spatial
        dimensions as they are; otherwise the cells cut into rows of at most
        ``_ROW_CELLS`` (a divisor of the cell count), so that one long row of 10⁴ stations or
        curvilinear cells neither overflows the cache nor leaves one task per lead."""
        sizes = self.sizes(da)
        if len(sizes) == 2:
            return sizes
        cells = int(np.prod(sizes, dtype=np.int64))
        for columns in range(min(cells, _ROW_CELLS), 0, -1):
            if cells % columns == 0:
                if columns * 8 >= min(cells, _ROW_CELLS):
                    return (cells // columns, columns)
                break
        return (1, cells)

    def spatial_coords(self, da: xr.DataArray) -> dict:
        """The coordinates of ``da`` that live on spatial dimensions only."""
        keep = set(self.spatial)
        return {k: v for k, v in da.coords.items() if set(v.dims) <= keep}

    def restore(self, a: np.ndarray, lead_dims: Sequence[str], lead_coords: dict, like: xr.DataArray, name: str, attrs: dict) -> xr.DataArray:
        """``a`` (``(..., y, x)`` as :meth:`values` made them) back on the spatial dims of ``like``."""
        if self.grid is not None and self.flip:
            a = a[..., ::-1, :]
        shape = a.shape[:-2] + self.sizes(like)
        coords = dict(lead_coords)
        coords.update(self.spatial_coords(like))
        return xr.DataArray(a.reshape(shape), dims=tuple(lead_dims) + self.spatial, coords=coords, name=name, attrs=attrs)


def _as_models(models: _Models, what: str) -> Tuple[list, list]:
    """Names and arrays of one model, a sequence of models or a mapping name → model."""
    if isinstance(models, Mapping):
        return list(models.keys()), list(models.values())
    if isinstance(models, (xr.DataArray, np.ndarray)):
        return [getattr(models, "name", None) or "model"], [models]
    models = list(models)
    if not models:
        raise S2SError(f"{what}: no model given")
    return [getattr(m, "name", None) or f"model {k}" for k, m in enumerate(models)], models


def _numpy5(a: np.ndarray, what: str) -> np.ndarray:
    if a.ndim != 5:
        raise S2SError(f"{what}: a numpy array must be 5-D (init, member, lead, y, x); got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _numpy_obs5(a: np.ndarray, what: str) -> np.ndarray:
    """Observations as numpy: ``(init, lead, y, x)`` or ``(init, 1, lead, y, x)``."""
    if a.ndim == 4:
        a = a[:, None]
    return _numpy5(a, what)


def _start_dates(coord) -> list:
    """``(year, month, day)`` of each value of a start-date coordinate: numpy datetimes, cftime
    dates, Python dates, or integers taken as years (starts on 1 January)."""
    values = np.asarray(coord.values if hasattr(coord, "values") else coord)
    if np.issubdtype(values.dtype, np.datetime64):
        days = values.astype("datetime64[D]")
        out = []
        for d in days:
            y, m, dd = str(d).split("-")[:3]
            out.append((int(y), int(m), int(dd[:2])))
        return out
    if np.issubdtype(values.dtype, np.integer):
        return [(int(y), 1, 1) for y in values]
    out = []
    for d in values.ravel():
        if all(hasattr(d, k) for k in ("year", "month", "day")):
            out.append((int(d.year), int(d.month), int(d.day)))
        else:
            raise S2SError(
                f"start dates: cannot read {d!r} as a date; give datetime64, cftime or integer years"
            )
    return out


def _history(attrs: dict, words: str) -> dict:
    """``attrs`` with a new first ``history`` line, stamped as the library stamps its files
    (``SOURCE_DATE_EPOCH`` when set)."""
    stamp = _core.stamp_time()
    attrs = dict(attrs)
    line = f"{stamp}: {words} (s2s_ensemble {__version__})"
    attrs["history"] = f"{line}\n{attrs['history']}" if attrs.get("history") else line
    return attrs


def _category_labels(levels: Sequence[float]) -> list:
    if len(levels) == 2:
        return ["below_normal", "near_normal", "above_normal"]
    return [f"category_{k + 1}" for k in range(len(levels) + 1)]


def _aligned(forecast: xr.DataArray, obs: xr.DataArray, what: str):
    """The forecast and observations on the same coordinates, or one clear error."""
    try:
        return xr.align(forecast, obs, join="exact", copy=False)
    except ValueError as e:
        raise S2SError(
            f"{what}: forecast and observations do not share their coordinates ({e}); "
            "select the common start dates, leads and cells first (e.g. xr.align(..., join='inner'))"
        ) from None


# --------------------------------------------------------------------------- terciles
def tercile_probabilities(
    hindcast: _Models,
    forecast: Optional[_Models] = None,
    *,
    levels: Sequence[float] = TERCILES,
    weights: Union[str, Sequence[float]] = "pooled",
    init_dim: str = "init",
    member_dim: str = "member",
    lead_dim: str = "lead",
    return_hindcast: bool = False,
):
    """Probabilities of the categories bounded by the quantiles ``levels`` of each model's own
    hindcast climate, combined over the models.

    Parameters
    ----------
    hindcast : DataArray, sequence or mapping of DataArrays (or 5-D numpy arrays)
        Each model's hindcast with dims ``init_dim``, ``member_dim`` (and ``lead_dim``), plus
        any spatial dims. A model's edges are the type-7 quantiles (numpy's ``linear``) of its
        hindcast over starts × members, per lead and cell.
    forecast : same kind as ``hindcast``, optional
        The forecasts, one per model in the same order, counted against the same edges.
    levels : sequence of float
        Quantile levels of the edges (default terciles).
    weights : {"pooled", "model"} or sequence of float
        ``pooled``: every member counts the same; ``model``: every model counts the same;
        or one weight per model.
    return_hindcast : bool
        Also return the hindcast's probabilities (``(hindcast, forecast)``).

    Returns
    -------
    DataArray ``(init, category, lead, ...)``
        The forecast's probabilities if a forecast is given, else the hindcast's. A member
        equal to an edge counts in neither neighbour's strict inequality the way numpy's
        ``x < q1``/``x > q2`` does; probabilities sum to 1.
    """
    names, hcs = _as_models(hindcast, "hindcast")
    fcs = None
    if forecast is not None:
        _, fcs = _as_models(forecast, "forecast")
        if len(fcs) != len(hcs):
            raise S2SError(f"forecast: {len(fcs)} models for {len(hcs)} hindcasts")
    scheme, given = (weights, None) if isinstance(weights, str) else ("given", [float(w) for w in weights])
    labels = _category_labels(levels)
    if isinstance(hcs[0], np.ndarray):
        h = [_numpy5(a, f"hindcast of {n}") for n, a in zip(names, hcs)]
        targets = [[_numpy5(a, f"forecast of {n}") for n, a in zip(names, fcs)]] if fcs else []
        out = _core.tercile_probabilities(h, targets, list(levels), scheme, given)
        if fcs is None:
            return out[0]
        return (out[0], out[1]) if return_hindcast else out[1]

    layout = _Layout(hcs[0], init_dim, member_dim, lead_dim, "hindcast")
    h = [layout.values(a) for a in hcs]
    targets = [[layout.values(a) for a in fcs]] if fcs else []
    out = _core.tercile_probabilities(h, targets, list(levels), scheme, given)
    attrs = {
        "long_name": "probability of each category of the multi-model ensemble",
        "units": "1",
        "category_levels": list(levels),
        "category_edges": "type-7 quantiles of each model's hindcast over starts x members, per lead and cell",
        "weights": scheme if given is None else ", ".join(f"{n}: {w:g}" for n, w in zip(names, given)),
        "models": ", ".join(names),
    }

    def wrap(p: np.ndarray, like: xr.DataArray, kind: str) -> xr.DataArray:
        coords = {init_dim: like[init_dim], "category": labels}
        if lead_dim in like.dims:
            coords[lead_dim] = like[lead_dim]
        else:
            p = p[:, :, 0]
        dims = (init_dim, "category") + ((lead_dim,) if lead_dim in like.dims else ())
        return layout.restore(p, dims, coords, like, f"probability_{kind}", _history(attrs, f"tercile_probabilities of the {kind}"))

    hp = wrap(out[0], hcs[0], "hindcast")
    if fcs is None:
        return hp
    fp = wrap(out[1], fcs[0], "forecast")
    return (hp, fp) if return_hindcast else fp


# --------------------------------------------------------------------------- scores
def _score(kernel, forecast, obs, name, long_name, extra, init_dim, member_dim, lead_dim, *args):
    if isinstance(forecast, np.ndarray):
        return kernel(_numpy5(forecast, "forecast"), _numpy_obs5(np.asarray(obs), "observations"), *args)
    if member_dim not in forecast.dims:
        raise S2SError(f"forecast: no '{member_dim}' dimension (dims {tuple(forecast.dims)}); name it with member_dim=")
    if member_dim in obs.dims:
        raise S2SError(f"observations: a '{member_dim}' dimension (dims {tuple(obs.dims)}); observations have one value per start")
    f, o = _aligned(forecast, obs, name)
    layout = _Layout(f, init_dim, member_dim, lead_dim, "forecast")
    out = kernel(layout.values(f), layout.values(o), *args)
    if lead_dim in f.dims:
        dims, coords = (lead_dim,), {lead_dim: f[lead_dim]}
    else:
        dims, coords, out = (), {}, out[0]
    attrs = {"long_name": long_name, "units": extra.pop("units", "1"), "cell_methods": f"{init_dim}: mean", **extra}
    return layout.restore(out, dims, coords, f, name, _history(attrs, name))


def crps(forecast: _ArrayLike, obs: _ArrayLike, *, fair: bool = False, init_dim: str = "init", member_dim: str = "member", lead_dim: str = "lead"):
    """Continuous ranked probability score of the ensemble, averaged over the starts.

    ``fair=False`` is the ensemble CRPS of properscoring/xskillscore (``crps_ensemble``);
    ``fair=True`` the fair CRPS of Ferro (2014), unbiased for the ensemble's size. Units: the
    data's. Returns ``(lead, ...)``.
    """
    units = getattr(forecast, "attrs", {}).get("units", "1")
    return _score(_core.crps, forecast, obs, "crps", "fair CRPS" if fair else "ensemble CRPS",
                  {"units": units, "fair": int(fair)}, init_dim, member_dim, lead_dim, fair)


def rps(forecast: _ArrayLike, obs: _ArrayLike, *, levels: Sequence[float] = TERCILES, init_dim: str = "init", member_dim: str = "member", lead_dim: str = "lead"):
    """Ranked probability score of the categories at the quantiles ``levels``, averaged over
    the starts: the observations' edges from the observations over the starts, the forecast's
    from its members over starts × members (in-sample edges, as xskillscore's ``rps`` with
    quantile edges). Unnormalised (0 best, at most ``len(levels)``). Returns ``(lead, ...)``."""
    return _score(_core.rps, forecast, obs, "rps", "ranked probability score",
                  {"category_levels": list(levels)}, init_dim, member_dim, lead_dim, list(levels))


def acc(forecast: _ArrayLike, obs: _ArrayLike, *, init_dim: str = "init", member_dim: str = "member", lead_dim: str = "lead"):
    """Anomaly correlation coefficient: Pearson correlation over the starts of the
    ensemble-mean anomalies with the observed anomalies (each against its own mean over the
    starts). Returns ``(lead, ...)``."""
    return _score(_core.acc, forecast, obs, "acc", "anomaly correlation coefficient of the ensemble mean",
                  {}, init_dim, member_dim, lead_dim)


# --------------------------------------------------------------------------- SPI
def spi(
    pr: _ArrayLike,
    scale: int = 3,
    calibration: Tuple[int, int] = (1991, 2020),
    *,
    fit: str = "thom",
    time_dim: str = "time",
    first: Optional[Tuple[int, int]] = None,
    return_fit: bool = False,
):
    """Standardized Precipitation Index (McKee et al. 1993) of a monthly record.

    Parameters
    ----------
    pr : DataArray with a monthly ``time_dim`` (or numpy ``(time, y, x)`` with ``first``)
        Monthly precipitation (totals or means: the index does not depend on the unit).
        Months must follow each other without a gap.
    scale : int
        Accumulation in months (1, 3, 6, 12, ...).
    calibration : (int, int)
        Years (inclusive) the gamma distributions are fitted on; cut to the record.
    fit : {"thom", "ml"}
        Thom's approximation of the maximum-likelihood shape (the SPI standard; xclim's
        ``method="APP"``) or exact maximum likelihood (xclim's ``"ML"``).
    first : (year, month), only for numpy input
        The first month of the record.
    return_fit : bool
        Also return a Dataset of the fitted ``shape``, ``scale`` and ``prob_zero`` per month.

    Returns
    -------
    DataArray like ``pr`` (or ``(spi, fit)``); NaN where the window is incomplete or a
    calendar month could not be fitted; clipped to ±3.09 as the reference tools do.
    """
    if isinstance(pr, np.ndarray):
        if first is None:
            raise S2SError("spi: a numpy record needs first=(year, month)")
        a = np.ascontiguousarray(pr, dtype=np.float32)
        squeeze = a.ndim == 1
        if squeeze:
            a = a[:, None, None]
        if a.ndim != 3:
            raise S2SError(f"spi: a numpy record must be (time,) or (time, y, x); got shape {pr.shape}")
        out = _core.spi(a, int(first[0]), int(first[1]), int(scale), tuple(calibration), fit)
        return out["spi"][:, 0, 0] if squeeze else out["spi"]
    if time_dim not in pr.dims:
        raise S2SError(f"spi: no '{time_dim}' dimension (dims {tuple(pr.dims)}); name it with time_dim=")
    dates = _start_dates(pr[time_dim])
    months = [y * 12 + m - 1 for y, m, _ in dates]
    gaps = [k for k in range(1, len(months)) if months[k] != months[k - 1] + 1]
    if gaps:
        k = gaps[0]
        raise S2SError(
            f"spi: the record is not monthly without gaps: {dates[k - 1][:2]} is followed by {dates[k][:2]}; "
            "resample to months (e.g. .resample(time='MS').sum()) and fill the gap with NaN"
        )
    other = [d for d in pr.dims if d != time_dim]
    da = pr.transpose(time_dim, *other)
    shape = da.shape
    cells = int(np.prod(shape[1:], dtype=np.int64))
    a = np.ascontiguousarray(da.values, dtype=np.float32).reshape(shape[0], 1, cells)
    out = _core.spi(a, dates[0][0], dates[0][1], int(scale), tuple(calibration), fit)
    attrs = {
        "long_name": f"standardized precipitation index over {scale} month(s)",
        "units": "1",
        "scale_months": int(scale),
        "calibration_years": f"{out['calibration'][0]}-{out['calibration'][1]}",
        "distribution": "zero-inflated gamma per calendar month",
        "gamma_fit": {"thom": "Thom (1958) approximation", "ml": "maximum likelihood"}.get(fit, fit),
        "references": "McKee, Doesken & Kleist (1993); WMO-No. 1090 (2012)",
    }
    result = xr.DataArray(out["spi"].reshape(shape), dims=da.dims, coords=da.coords, name="spi",
                          attrs=_history(attrs, f"spi scale {scale}")).transpose(*pr.dims)
    if not return_fit:
        return result
    keep = {k: v for k, v in da.coords.items() if time_dim not in v.dims}
    fit_ds = xr.Dataset(
        {k: (("month",) + tuple(other), out[k].reshape((12,) + shape[1:])) for k in ("shape", "scale", "prob_zero")},
        coords={"month": np.arange(1, 13), **keep},
    )
    return result, fit_ds


# --------------------------------------------------------------------------- bias
def _default_wet_threshold(hindcast: Optional[xr.DataArray], lead_dim: str) -> float:
    """The library's wet threshold for the data's time step: daily when the leads are
    timedeltas at most a day apart."""
    if hindcast is not None and lead_dim in hindcast.coords:
        lead = np.asarray(hindcast[lead_dim].values)
        if np.issubdtype(lead.dtype, np.timedelta64) and lead.size > 1:
            step = np.diff(lead.astype("timedelta64[s]").astype(np.int64))
            if step.size and np.all(step <= 86400):
                return _core.WET_DAY_THRESHOLD_DAILY_MM
    return _core.WET_THRESHOLD_MONTHLY_MM


def bias_correct(
    hindcast: _ArrayLike,
    obs: _ArrayLike,
    forecast: Optional[_ArrayLike] = None,
    *,
    method: str = "eqm",
    cv: str = "loyo",
    kind: Optional[str] = None,
    quantiles: Optional[int] = None,
    wet_threshold: Optional[float] = None,
    window_days: Optional[int] = None,
    init_dim: str = "init",
    member_dim: str = "member",
    lead_dim: str = "lead",
):
    """Bias correction of one model against observations on its targets.

    Parameters
    ----------
    hindcast : DataArray ``(init, member, lead, ...)``
    obs : DataArray ``(init, lead, ...)``
        The observed value of each hindcast target (start and lead).
    forecast : DataArray, optional
        Corrected with the hindcast's training (every year).
    method : {"scaling", "variance", "eqm", "qdm"}
        Mean scaling; variance scaling (temperature); empirical quantile mapping over every
        training value (or ``quantiles`` nodes); quantile delta mapping (Cannon et al. 2015).
    cv : {"loyo", "none", "leave-K"}
        Cross-validation of the corrected hindcast by the years of the starts.
    kind : {"additive", "multiplicative"}, optional
        Default from the variable: multiplicative for precipitation.
    wet_threshold : float, optional
        Wet-day threshold of multiplicative methods in the data's units (mm/day). Default the
        library's by time step: 0.1 for daily leads (a ``lead_dim`` of timedeltas a day or
        less apart), else 0.01 (0.3 mm in a month: monthly means).
    window_days : int, optional
        Train on starts within ± this many days of the target's day of year instead of the
        same calendar month (subseasonal starts).

    Returns
    -------
    The corrected hindcast, or ``(hindcast, forecast)`` when a forecast is given.
    """
    numpy_in = isinstance(hindcast, np.ndarray)
    if kind is None:
        if numpy_in:
            raise S2SError("bias_correct: numpy input needs kind='additive' or 'multiplicative'")
        kind = _core.correction_kind(str(hindcast.name or ""), hindcast.attrs.get("standard_name"), hindcast.attrs.get("long_name"))
    if kind not in ("additive", "multiplicative"):
        raise S2SError(f"bias_correct: kind '{kind}': use 'additive' or 'multiplicative'")
    wet = _default_wet_threshold(None if numpy_in else hindcast, lead_dim) if wet_threshold is None else float(wet_threshold)
    common = dict(method=method, multiplicative=kind == "multiplicative", cv=cv, quantiles=quantiles,
                  wet_threshold=wet, window_days=window_days)
    if numpy_in:
        h = _numpy5(hindcast, "hindcast")
        starts = [(2000 + k, 1, 1) for k in range(h.shape[0])]
        f = None if forecast is None else _numpy5(np.asarray(forecast), "forecast")
        fs = None if f is None else [(2000 + h.shape[0] + k, 1, 1) for k in range(f.shape[0])]
        out = _core.bias_correct(h, _numpy_obs5(np.asarray(obs), "observations"), starts, f, fs, **common)
        return out["hindcast"] if f is None else (out["hindcast"], out["forecast"])

    if member_dim in obs.dims:
        if obs.sizes[member_dim] != 1:
            raise S2SError(f"observations: {obs.sizes[member_dim]} members; observations have one value per target")
        obs = obs.isel({member_dim: 0}, drop=True)
    h, o = _aligned(hindcast, obs, "bias_correct")
    layout = _Layout(h, init_dim, member_dim, lead_dim, "hindcast")
    starts = _start_dates(h[init_dim])
    f = fs = None
    if forecast is not None:
        f = layout.values(forecast)
        fs = _start_dates(forecast[init_dim])
    out = _core.bias_correct(layout.values(h), layout.values(o), starts, f, fs, **common)
    words = f"{out['method']}, cross-validation {out['cross_validation']}"

    def wrap(a: np.ndarray, like: xr.DataArray) -> xr.DataArray:
        if not layout.has_lead:
            a = a[:, :, 0]
        if not layout.has_member:
            a = a[:, 0]
        dims = (init_dim,) + ((member_dim,) if layout.has_member else ()) + ((lead_dim,) if layout.has_lead else ())
        coords = {d: like[d] for d in dims}
        attrs = dict(like.attrs)
        attrs["bias_correction"] = words
        r = layout.restore(a, dims, coords, like, like.name, _history(attrs, f"bias_correct: {words}"))
        return r.transpose(*like.dims)

    hc = wrap(out["hindcast"], h)
    if forecast is None:
        return hc
    return hc, wrap(out["forecast"], forecast)


# --------------------------------------------------------------------------- combine
def _extreme_labels(levels: Sequence[float]) -> list:
    if not levels:
        return []
    labels = [f"below_p{round(100 * levels[0]):g}"]
    labels += [f"p{round(100 * a):g}_to_p{round(100 * b):g}" for a, b in zip(levels[:-1], levels[1:])]
    return labels + [f"above_p{round(100 * levels[-1]):g}"]


def _hindcast_fields(fields: str) -> bool:
    if fields not in ("verification", "all"):
        raise S2SError(f"combine: hindcast_fields '{fields}': use 'verification' or 'all'")
    return fields == "all"


def combine(
    hindcasts: _Models,
    forecasts: Optional[_Models] = None,
    obs: Optional[xr.DataArray] = None,
    *,
    weights: str = "model",
    calibration: Optional[str] = None,
    skill_score: str = "rpss",
    skill_radius: int = 0,
    edges: Optional[str] = None,
    levels: Sequence[float] = TERCILES,
    extremes: Sequence[float] = (0.1, 0.9),
    percentiles: Sequence[float] = (0.1, 0.5, 0.9),
    dominant: float = 0.4,
    cross_validate: bool = True,
    hindcast_fields: str = "verification",
    init_dim: str = "init",
    member_dim: str = "member",
    lead_dim: str = "lead",
    return_hindcast: bool = False,
):
    """Multi-model combination: the ``s2s combine`` job on DataArrays.

    Parameters
    ----------
    hindcasts, forecasts : mapping name → DataArray (or a sequence)
        Each model's hindcast ``(init, member, lead, ...)`` on the same start dates, leads
        and grid; the forecasts in the same order.
    obs : DataArray ``(init, lead, ...)``, optional
        The observed value of each hindcast target. Needed by observed edges, skill weights,
        PMME and the calibrated schemes.
    weights : {"model", "pooled", "skill", "pmme"}
        Member counting: every model the same, every member the same, cross-validated skill
        around each cell (``skill_score`` ``rpss``/``acc`` over ``(2 skill_radius + 1)²``
        cells), or APCC's PMME.
    calibration : {"calibrated", "elr", "pcr"}, optional
        Calibrate each model against ``obs`` instead (regression with a Student-t predictive,
        extended logistic regression, principal-component regression), models averaged with
        equal weights. Default when ``obs`` is given: ``calibrated``.
    edges : {"model", "obs"}, optional
        Category edges from each model's own hindcast climate, or from the observed one
        (default: observed when calibrating, else the models').
    levels, extremes, percentiles : sequences of float in (0, 1)
        Category levels (terciles), extreme levels, ensemble percentiles.
    cross_validate : bool
        The hindcast's products for each start from the other years (what verification
        needs).
    hindcast_fields : {"verification", "all"}
        The hindcast's fields: what verification needs (probabilities, mean, anomalies,
        spread, weights; the rest NaN), or every field of the forecast (edges, percentiles
        and categories of every year: a sort per start, several times slower) — as
        ``s2s combine --hindcast-fields``.

    Returns
    -------
    Dataset of the forecast's products (the hindcast's without forecasts; both with
    ``return_hindcast``): ``probability (init, category, lead, ...)``, ``extreme_probability``,
    ``mean``, ``normal``, ``anomaly``, ``standardized_anomaly``, ``percent_of_normal``,
    ``spread``, ``signal_to_noise``, ``percentiles``, ``most_likely_category``,
    ``most_likely_probability``, ``dominant_category`` (−1 no dominant category, −127 no
    probabilities), ``weights (init, model, lead, ...)``, ``edges`` and ``extreme_edges``
    ``(init, source, edge, lead, ...)``.
    """
    names, hcs = _as_models(hindcasts, "hindcasts")
    if isinstance(hcs[0], np.ndarray):
        raise S2SError("combine: give DataArrays (the start dates decide which hindcast years a forecast is compared with)")
    fcs = None
    if forecasts is not None:
        _, fcs = _as_models(forecasts, "forecasts")
        if len(fcs) != len(hcs):
            raise S2SError(f"combine: {len(fcs)} forecasts for {len(hcs)} hindcasts")
    if calibration is None and obs is not None and weights == "model":
        calibration = "calibrated"
    scheme = calibration or weights
    if edges is None:
        edges = "obs" if calibration else "model"
    if obs is not None and member_dim in obs.dims:
        obs = obs.isel({member_dim: 0}, drop=True)
    layout = _Layout(hcs[0], init_dim, member_dim, lead_dim, "hindcast", grid=True)
    first = hcs[0]
    if obs is not None:
        try:
            xr.align(first.isel({member_dim: 0}, drop=True) if member_dim in first.dims else first, obs, join="exact", copy=False)
        except ValueError as e:
            raise S2SError(f"combine: observations and hindcast do not share their coordinates ({e})") from None
    out = _core.combine(
        [layout.values(h) for h in hcs],
        _start_dates(first[init_dim]),
        None if fcs is None else [layout.values(f) for f in fcs],
        None if fcs is None else _start_dates(fcs[0][init_dim]),
        None if obs is None else layout.values(obs),
        layout.grid,
        str(first.name or "x"),
        first.attrs.get("standard_name"),
        str(first.attrs.get("units", "1")),
        scheme,
        skill_score,
        int(skill_radius),
        edges,
        list(levels),
        list(extremes),
        list(percentiles),
        float(dominant),
        bool(cross_validate),
        _hindcast_fields(hindcast_fields),
    )
    sources = names if edges == "model" else ["observed"]
    attrs = {
        "method": out["method"],
        "models": ", ".join(names),
        "category_levels": list(levels),
        "source": f"s2s_ensemble {__version__}",
        "Conventions": "CF-1.8",
    }

    def dataset(fields: dict, like: xr.DataArray, kind: str) -> xr.Dataset:
        has_lead = lead_dim in like.dims
        base = {init_dim: like[init_dim]}
        if has_lead:
            base[lead_dim] = like[lead_dim]

        def var(a, k_dim=None, k_labels=None, extra=None, name="", va=None):
            dims = [init_dim]
            coords = dict(base)
            if k_dim is None:
                a = a[:, 0]
            else:
                dims.append(k_dim)
                coords[k_dim] = k_labels
            if extra is not None:
                dims.append(extra[0])
                coords[extra[0]] = extra[1]
            if not has_lead:
                a = a[(slice(None),) * (len(dims)) + (0,)]
            else:
                dims.append(lead_dim)
            return layout.restore(a, dims, coords, like, name, va or {})

        units = str(first.attrs.get("units", "1"))
        v = {
            "probability": var(fields["probability"], "category", _category_labels(levels), name="probability",
                               va={"long_name": "probability of each category", "units": "1"}),
            "weights": var(fields["weights"], "model", names, name="weights", va={"long_name": "model weights", "units": "1"}),
            "edges": var(fields["edges"], "source", sources, extra=("edge", list(levels)), name="edges",
                         va={"long_name": "category edges", "units": units}),
        }
        # what was not asked for is left out, not written as empty variables
        if extremes:
            v["extreme_probability"] = var(fields["extreme_probability"], "extreme_category", _extreme_labels(list(extremes)),
                                           name="extreme_probability",
                                           va={"long_name": "probability below, between and above the extreme levels", "units": "1"})
            v["extreme_edges"] = var(fields["extreme_edges"], "source", sources, extra=("extreme_edge", list(extremes)),
                                     name="extreme_edges", va={"long_name": "extreme edges", "units": units})
        if percentiles:
            v["percentiles"] = var(fields["percentiles"], "percentile", [100 * p for p in percentiles], name="percentiles",
                                   va={"long_name": "percentiles of the weighted members", "units": units})
        for f, long_name, u in [
            ("mean", "multi-model ensemble mean", units),
            ("normal", "multi-model normal (hindcast climatology)", units),
            ("anomaly", "multi-model mean anomaly", units),
            ("standardized_anomaly", "standardized anomaly", "1"),
            ("percent_of_normal", "percent of normal", "%"),
            ("spread", "standard deviation of the weighted members", units),
            ("signal_to_noise", "signal-to-noise ratio |anomaly| / spread", "1"),
            ("most_likely_probability", "probability of the most likely category", "1"),
        ]:
            v[f] = var(fields[f], name=f, va={"long_name": long_name, "units": u})
        for f, long_name in [("most_likely_category", "index of the most likely category"),
                             ("dominant_category", "dominant category (-1 none above the threshold, -127 no probabilities)")]:
            v[f] = var(fields[f], name=f, va={"long_name": long_name, "flag_values": list(range(len(levels) + 1))})
        return xr.Dataset(v, attrs=_history(dict(attrs, product=kind), f"combine ({out['method']})"))

    hds = dataset(out["hindcast"], first, "hindcast (cross-validated)" if cross_validate else "hindcast")
    if fcs is None:
        return hds
    fds = dataset(out["forecast"], fcs[0], "forecast")
    return (hds, fds) if return_hindcast else fds


# --------------------------------------------------------------------------- verify
def verify(
    hindcast: xr.Dataset,
    obs: xr.DataArray,
    *,
    members: Optional[xr.DataArray] = None,
    levels: Optional[Sequence[float]] = None,
    debias_members: Optional[int] = None,
    resamples: int = 0,
    confidence: float = 0.95,
    seed: int = 1,
    fair: bool = True,
    init_dim: str = "init",
    member_dim: str = "member",
    lead_dim: str = "lead",
) -> xr.Dataset:
    """Skill of a hindcast over its starts, per lead and cell: the ``s2s verify`` scores.

    Parameters
    ----------
    hindcast : Dataset
        ``probability (init, category, lead, ...)`` and ``mean`` (``anomaly`` optional, used
        for the ACC when present) — what :func:`combine` returns for the hindcast.
    obs : DataArray ``(init, lead, ...)``
        The observed value of each target.
    members : DataArray ``(init, member, lead, ...)``, optional
        The members, for the CRPS (fair by default, ``fair=False`` for the plain one).
    levels : category levels of the probabilities (default: the Dataset's
        ``category_levels`` attribute, else terciles).
    debias_members : int, optional
        Weigel et al.'s (2007) debiased RPSS for probabilities counted from this many members.
    resamples : int
        Bootstrap resamples of the years for ``confidence`` intervals of ACC and RPSS.

    Returns
    -------
    Dataset: ``acc``, ``rmse``, ``bias``, ``msss``, ``rps``, ``rpss``, ``crps``, ``crpss``,
    ``acc_lower/upper``, ``rpss_lower/upper`` ``(lead, ...)``; ``brier``, ``roc_area``
    ``(category, lead, ...)``. The observed categories and the climatological references
    of each year come from the other years (leave-one-year-out).
    """
    if "probability" not in hindcast or "mean" not in hindcast:
        raise S2SError("verify: the hindcast Dataset needs 'probability' and 'mean' (what combine returns)")
    if levels is None:
        levels = hindcast.attrs.get("category_levels", TERCILES)
    levels = [float(x) for x in np.atleast_1d(levels)]
    prob = hindcast["probability"]
    if "category" not in prob.dims:
        raise S2SError("verify: 'probability' has no 'category' dimension")
    mean = hindcast["mean"]
    if obs is not None and member_dim in obs.dims:
        obs = obs.isel({member_dim: 0}, drop=True)
    m, o = _aligned(mean, obs, "verify")
    layout = _Layout(m, init_dim, member_dim, lead_dim, "hindcast mean")
    p = layout.values(prob.rename(category=member_dim).transpose(init_dim, member_dim, *[d for d in prob.dims if d not in (init_dim, "category")]))
    anomaly = layout.values(hindcast["anomaly"]) if "anomaly" in hindcast else None
    mem = None
    if members is not None:
        mem = _Layout(members, init_dim, member_dim, lead_dim, "members")
        mem.spatial = layout.spatial
        mem = mem.values(members)
    out = _core.verify(p, layout.values(m), layout.values(o), levels, anomaly, mem, debias_members,
                       int(resamples), float(confidence), int(seed), bool(fair))
    has_lead = lead_dim in m.dims
    coords = {lead_dim: m[lead_dim]} if has_lead else {}
    lead_dims = (lead_dim,) if has_lead else ()
    units = str(mean.attrs.get("units", "1"))
    words = {
        "acc": ("anomaly correlation of the ensemble mean", "1"),
        "rmse": ("root-mean-square error of the ensemble mean", units),
        "bias": ("mean error of the ensemble mean", units),
        "msss": ("mean-squared-error skill score", "1"),
        "rps": ("ranked probability score", "1"),
        "rpss": ("ranked probability skill score", "1"),
        "crps": ("fair CRPS" if fair else "ensemble CRPS", units),
        "crpss": ("CRPS skill score against the observed climatology", "1"),
        "acc_lower": (f"lower end of the {confidence:.0%} bootstrap interval of the ACC", "1"),
        "acc_upper": (f"upper end of the {confidence:.0%} bootstrap interval of the ACC", "1"),
        "rpss_lower": (f"lower end of the {confidence:.0%} bootstrap interval of the RPSS", "1"),
        "rpss_upper": (f"upper end of the {confidence:.0%} bootstrap interval of the RPSS", "1"),
    }
    v = {}
    for k, (long_name, u) in words.items():
        a = out[k] if has_lead else out[k][0]
        v[k] = layout.restore(a, lead_dims, coords, m, k, {"long_name": long_name, "units": u})
    for k, long_name in [("brier", "Brier score of each category"), ("roc_area", "area under the ROC curve of each category")]:
        a = out[k] if has_lead else out[k][:, 0]
        v[k] = layout.restore(a, ("category",) + lead_dims, dict(coords, category=prob["category"].values), m, k,
                              {"long_name": long_name, "units": "1"})
    return xr.Dataset(v, attrs=_history({"category_levels": levels}, "verify"))


def _as_files(items, tmp: str, stem: str, what: str) -> list:
    """File paths of ``items`` (a Dataset, a path, or a list of them; None: none), each
    Dataset written to ``tmp`` as NetCDF: the jobs that stream from files read them there."""
    if items is None:
        return []
    items = items if isinstance(items, (list, tuple)) else [items]
    found = []
    for k, x in enumerate(items):
        if isinstance(x, xr.Dataset):
            path = Path(tmp) / f"{stem}_{k}.nc"
            x.to_netcdf(path)
            found.append(str(path))
        elif isinstance(x, (str, Path)):
            found.append(str(x))
        else:
            raise S2SError(f"{what}: {stem} {k} is a {type(x).__name__}; give a Dataset or a file path")
    return found


# --------------------------------------------------------------------------- cyclones
def detect_cyclones(
    data,
    *,
    psl: Optional[str] = None,
    wind: Optional[str] = None,
    uas: Optional[str] = None,
    vas: Optional[str] = None,
    vorticity: Optional[str] = None,
    thickness: Optional[str] = None,
    bbox: Optional[Sequence[float]] = None,
    vorticity_min: Optional[float] = None,
    vorticity_radius: Optional[float] = None,
    min_lat: Optional[float] = None,
    max_lat: Optional[float] = None,
    max_abs_lat: Optional[float] = None,
    min_abs_lat: Optional[float] = None,
    merge_equal: bool = False,
    range_deg: float = 8.0,
    min_duration_hours: float = 54.0,
    max_gap_hours: float = 24.0,
    thresholds: Optional[str] = None,
):
    """Tropical-cyclone tracks: TempestExtremes' DetectNodes and StitchNodes (the
    ``s2s cyclones track`` job).

    Parameters
    ----------
    data : Dataset, path, or a list of them (one member run each)
        Six-hourly (or any step) fields with sea-level pressure (``psl``; found by name:
        psl, msl, mslp, slp, prmsl), optionally wind (``wind`` or ``uas``/``vas``), 850 hPa
        relative vorticity (``vorticity``: turns the vorticity criterion on) and a 300–500 hPa
        thickness (``thickness``: the warm core). A path may be ``"msl.nc;vo.nc"``: one run in
        two files. A Dataset is written to a temporary NetCDF file first (the detection
        streams from files, block by block).
    bbox : (west, east, south, north), optional
    min_lat, max_lat, max_abs_lat, min_abs_lat : float, optional
        Latitude band of candidate centres (TE ``--minlat`` …).
    range_deg, min_duration_hours, max_gap_hours, thresholds
        StitchNodes linking and path filters (TE syntax ``col,op,value,count;…``; default
        the TC filters for the data's time step).

    Returns
    -------
    pandas.DataFrame with one row per track point, the columns of the tracks CSV of
    ``s2s cyclones track``: ``track_id``, ``member``, ``time``,
    ``lat``, ``lon``, ``psl`` (Pa), ``wind`` (m/s), ``vorticity`` (s⁻¹, with ``vorticity``);
    ``attrs`` holds the candidate count and the filters.
    """
    import io
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="s2s-cyclones-") as tmp:
        inputs = _as_files(data, tmp, "run", "detect_cyclones")
        box = None if bbox is None else ",".join(f"{float(v):g}" for v in bbox)
        csv, nodes, filters = _core.track_cyclones(
            inputs, psl, wind, uas, vas, vorticity, thickness, box, vorticity_min, vorticity_radius,
            min_lat, max_lat, max_abs_lat, min_abs_lat, merge_equal, range_deg, min_duration_hours,
            max_gap_hours, thresholds,
        )
    df = pd.read_csv(io.StringIO(csv), parse_dates=["time"])
    df.attrs.update({"candidate_centres": nodes, "filters": filters,
                     "method": "TempestExtremes DetectNodes + StitchNodes criteria (s2s-ensemble)"})
    return df


# --------------------------------------------------------------------------- drift
def drift(
    currents,
    lat: float,
    lon: float,
    start: str,
    *,
    days: int = 30,
    wind=None,
    current_vars: Optional[Tuple[str, str]] = None,
    particles: int = 2000,
    windage: float = 0.03,
    diffusivity: float = 10.0,
    release_radius_km: float = 5.0,
    step_minutes: float = 60.0,
    seed: int = 1,
    cyclone_fields=None,
    radius_km: float = 300.0,
    allow_persistence: bool = False,
    out=None,
) -> xr.Dataset:
    """Ensemble drift of a ship or oil after an accident at sea: the ``s2s emergency`` job.

    Parameters
    ----------
    currents : Dataset, path, or a list of them (one ensemble member each)
        Surface currents on a lat/lon grid with a time axis: ``uo``/``vo`` (or ugos/vgos,
        u/v, water_u/water_v; ``current_vars=(u, v)`` names others), in m/s. Datasets are
        written to temporary NetCDF files first.
    lat, lon : float
        The release site (degrees).
    start : str
        Release date, ``YYYY-MM-DD``.
    wind : Dataset, path or list, optional
        10 m winds (uas/vas or u10/v10), one for all members or one per member, applied with
        ``windage`` (fraction of the wind speed).
    particles, diffusivity, release_radius_km, step_minutes, seed
        Particles per member, random-walk diffusivity (m² s⁻¹), the release disc, the time
        step of the midpoint integration, the random seed.
    cyclone_fields : optional
        Fields to look for cyclones passing within ``radius_km`` of the site.
    out : path, optional
        Folder of the outputs (the bulletin, ``trajectories.nc``, ``drift_probability.nc``);
        default a temporary folder, removed after reading.

    Returns
    -------
    Dataset: ``trajectories.nc`` read into memory; ``attrs["report"]`` holds the job's report
    (and the output folder when ``out`` is given).
    """
    import tempfile

    def paths(items, tmp, stem):
        return _as_files(items, tmp, stem, "drift")

    with tempfile.TemporaryDirectory(prefix="s2s-drift-") as tmp:
        folder = Path(out) if out is not None else Path(tmp) / "out"
        vars_ = None if current_vars is None else ",".join(current_vars)
        report = _json.loads(_core.drift(
            paths(currents, tmp, "currents"), float(lat), float(lon), str(start), str(folder), int(days),
            paths(wind, tmp, "wind"), vars_, int(particles), float(windage), float(diffusivity),
            float(release_radius_km), float(step_minutes), int(seed), paths(cyclone_fields, tmp, "cyclones"),
            float(radius_km), bool(allow_persistence),
        ))
        with xr.open_dataset(folder / "trajectories.nc") as ds:
            result = ds.load()
    result.attrs["report"] = _json.dumps(report)
    return result


# --------------------------------------------------------------------------- jobs
def run_outlook(config, out=None) -> dict:
    """Runs ``s2s outlook`` on the TOML configuration ``config`` (into ``out``, default the
    configuration's own folder) and returns its report: the bulletin files, each variable's
    NetCDF and maps, the stages with their seconds and peak memory."""
    return _json.loads(_core.run_outlook(str(config), None if out is None else str(out)))
