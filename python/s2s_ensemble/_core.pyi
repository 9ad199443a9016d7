"""Type stubs of the compiled extension ``s2s_ensemble._core`` (numpy arrays in the library's
axis order: ``(init, member, lead, y, x)`` for ensembles, ``(time, y, x)`` for records).
The documented, xarray-aware functions are those of ``s2s_ensemble``."""

from typing import Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str
WET_DAY_THRESHOLD_DAILY_MM: float
WET_THRESHOLD_MONTHLY_MM: float

Array = npt.NDArray[np.float32]
StartDate = Tuple[int, int, int]

class S2SError(ValueError):
    """An error of s2s-ensemble, with the library's message."""

def tercile_probabilities(
    hindcasts: Sequence[Array],
    targets: Sequence[Sequence[Array]],
    levels: Sequence[float],
    weights: str = "pooled",
    given: Optional[Sequence[float]] = None,
) -> list[Array]: ...
def crps(members: Array, obs: Array, fair: bool = False) -> Array: ...
def rps(members: Array, obs: Array, levels: Sequence[float]) -> Array: ...
def acc(members: Array, obs: Array) -> Array: ...
def spi(
    precip: Array,
    first_year: int,
    first_month: int,
    scale: int = 3,
    calibration: Tuple[int, int] = (1991, 2020),
    fit: str = "thom",
    min_nonzero: Optional[int] = None,
) -> dict: ...
def bias_correct(
    hindcast: Array,
    obs: Array,
    starts: Sequence[StartDate],
    forecast: Optional[Array] = None,
    forecast_starts: Optional[Sequence[StartDate]] = None,
    method: str = "eqm",
    multiplicative: bool = False,
    cv: str = "loyo",
    quantiles: Optional[int] = None,
    wet_threshold: float = 0.01,
    window_days: Optional[int] = None,
    forecast_only: bool = False,
) -> dict: ...
def combine(
    hindcasts: Sequence[Array],
    starts: Sequence[StartDate],
    forecasts: Optional[Sequence[Array]] = None,
    forecast_starts: Optional[Sequence[StartDate]] = None,
    obs: Optional[Array] = None,
    grid: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
    variable: str = "x",
    standard_name: Optional[str] = None,
    units: str = "1",
    weights: str = "model",
    skill_score: str = "rpss",
    skill_radius: int = 0,
    edges: str = "model",
    levels: Sequence[float] = ...,
    extremes: Sequence[float] = ...,
    percentiles: Sequence[float] = ...,
    dominant: float = 0.4,
    cross_validate: bool = True,
    full_hindcast: bool = False,
) -> dict: ...
def verify(
    probability: Array,
    ensemble_mean: Array,
    obs: Array,
    levels: Sequence[float],
    anomaly: Optional[Array] = None,
    members: Optional[Array] = None,
    debias_members: Optional[int] = None,
    resamples: int = 0,
    confidence: float = 0.95,
    seed: int = 1,
    fair_crps: bool = True,
) -> dict: ...
def track_cyclones(
    inputs: Sequence[str],
    psl: Optional[str] = None,
    wind: Optional[str] = None,
    uas: Optional[str] = None,
    vas: Optional[str] = None,
    vorticity: Optional[str] = None,
    thickness: Optional[str] = None,
    bbox: Optional[str] = None,
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
) -> Tuple[str, int, str]: ...
def drift(
    currents: Sequence[str],
    lat: float,
    lon: float,
    start: str,
    out: str,
    days: int = 30,
    wind: Sequence[str] = ...,
    current_vars: Optional[str] = None,
    particles: int = 2000,
    windage: float = 0.03,
    diffusivity: float = 10.0,
    release_radius_km: float = 5.0,
    step_minutes: float = 60.0,
    seed: int = 1,
    cyclone_fields: Sequence[str] = ...,
    radius_km: float = 300.0,
    allow_persistence: bool = False,
) -> str: ...
def correction_kind(name: str, standard_name: Optional[str] = None, long_name: Optional[str] = None) -> str: ...
def run_outlook(config: str, out: Optional[str] = None) -> str: ...
def set_threads(threads: int) -> None: ...
def stamp_time() -> str: ...
