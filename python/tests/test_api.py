"""The xarray layer: dimensions by name in any order, coordinates and attributes kept, CF
attributes on outputs, numpy variants, one clear S2SError for bad input, and the outlook job."""

import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import s2s_ensemble as s2s
from test_peers import REAL, ensemble, observed

ROOT = Path(__file__).resolve().parents[2]


def test_any_dimension_order_and_extra_coordinates_are_kept():
    hc = ensemble(1)
    obs = observed(hc, 2)
    shuffled = hc.transpose("lon", "lead", "member", "lat", "init").assign_coords(
        station_height=(("lat", "lon"), np.ones((hc.sizes["lat"], hc.sizes["lon"])))
    )
    a = s2s.crps(hc, obs)
    b = s2s.crps(shuffled, obs.transpose("lat", "init", "lon", "lead"))
    xr.testing.assert_allclose(a, b.transpose(*a.dims).drop_vars("station_height"))
    assert "station_height" in b.coords
    assert b.attrs["cell_methods"] == "init: mean"
    assert "s2s_ensemble" in b.attrs["history"]


def test_stations_and_no_lead_dimension():
    """A list of stations (one spatial dim) and a single lead without a lead dim."""
    hc = ensemble(3).isel(lead=0, drop=True).stack(station=("lat", "lon")).reset_index("station")
    obs = observed(ensemble(3), 4).isel(lead=0, drop=True).stack(station=("lat", "lon")).reset_index("station")
    r = s2s.rps(hc, obs)
    assert r.dims == ("station",)
    assert r.sizes["station"] == 42
    c = s2s.bias_correct(hc, obs, method="scaling", cv="none")
    assert c.dims == hc.dims
    # additive mean scaling in-sample: the corrected mean is the observed mean, per station
    np.testing.assert_allclose(c.mean(("init", "member")), obs.mean("init"), atol=1e-4)


def test_bias_correct_keeps_the_input_and_tells_what_it_did():
    hc = ensemble(5, gamma=True, name="pr")
    obs = observed(hc, 6).clip(min=0) * 2.0
    fc = hc.isel(init=slice(-1, None))
    before = hc.copy(deep=True)
    h, f = s2s.bias_correct(hc, obs, fc, method="qdm")
    xr.testing.assert_identical(hc, before)
    assert h.dims == hc.dims and f.dims == fc.dims
    assert f.init.values[0] == fc.init.values[0]
    assert "quantile delta mapping (multiplicative)" in h.attrs["bias_correction"]
    assert "leave-one-year-out" in h.attrs["bias_correction"]
    assert h.attrs["units"] == "mm/day"
    # precipitation is corrected by ratios: dry stays dry, the wet mean roughly doubles
    assert float(h.min()) >= 0.0
    assert 1.6 < float(h.mean() / hc.mean()) < 2.4


def test_numpy_variants_take_the_library_order():
    hc = ensemble(7)
    obs = observed(hc, 8)
    a = s2s.crps(hc.values, obs.values)
    assert isinstance(a, np.ndarray) and a.shape == (3, 6, 7)
    np.testing.assert_array_equal(a, s2s.crps(hc, obs).values)
    c = s2s.bias_correct(hc.values, obs.values, kind="additive", method="eqm", cv="none")
    np.testing.assert_array_equal(c, s2s.bias_correct(hc, obs, method="eqm", cv="none").values)
    x = np.random.default_rng(0).gamma(2, 30, 240).astype("float32")
    z = s2s.spi(x, 3, (1991, 2010), first=(1991, 1))
    assert z.shape == (240,) and np.isnan(z[:2]).all() and np.isfinite(z[2:]).all()


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda hc, ob: s2s.crps(hc, ob.isel(init=slice(0, 5))), "do not share their coordinates"),
        (lambda hc, ob: s2s.crps(hc.rename(init="time"), ob), "no 'init' dimension"),
        (lambda hc, ob: s2s.bias_correct(hc, ob, method="quantile"), "use scaling, variance, eqm or qdm"),
        (lambda hc, ob: s2s.bias_correct(hc, ob, cv="leave-0"), "use loyo, none or leave-K"),
        (lambda hc, ob: s2s.bias_correct(hc.isel(member=slice(0, 2)), ob, method="qdm"), "2 member(s)"),
        (lambda hc, ob: s2s.bias_correct(hc.rename("pr"), ob.rename("pr"), method="variance"), "variance scaling is for temperature"),
        (lambda hc, ob: s2s.tercile_probabilities(hc, [hc, hc]), "2 models for 1 hindcasts"),
        (lambda hc, ob: s2s.tercile_probabilities([hc, hc], weights=[1.0]), "1 given for 2 models"),
        (lambda hc, ob: s2s.spi(hc.isel(member=0, lead=0).rename(init="time"), 3), "not monthly without gaps"),
        (lambda hc, ob: s2s.crps(hc.values[0], ob.values), "must be 5-D"),
    ],
)
def test_bad_input_is_one_clear_error(call, words):
    hc = ensemble(9)
    ob = observed(hc, 10)
    with pytest.raises(s2s.S2SError) as e:
        call(hc, ob)
    assert words in str(e.value), str(e.value)
    assert isinstance(e.value, ValueError)


def test_library_errors_carry_the_library_message():
    """A shape the library refuses comes back with the library's words."""
    hc = ensemble(11).values
    with pytest.raises(s2s.S2SError, match="observations"):
        s2s.rps(hc, hc[:, :1, :2])


def test_the_gil_is_released_while_a_kernel_runs():
    """A Python thread keeps running while the CRPS of a large ensemble is computed."""
    hc = ensemble(12, ni=30, nm=50, nl=6, ny=60, nx=80)
    obs = observed(hc, 13)
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    start = time.perf_counter()
    t.start()
    try:
        s2s.crps(hc.values, obs.values)
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start > 0.05, "kernel too quick to tell"
    assert len(during) >= 5, f"{len(during)} ticks in {end - start:.3f} s"


def test_run_outlook_writes_what_the_binary_writes(tmp_path):
    """The demo's NMME rainfall outlook through Python and through `s2s outlook`: the same
    probabilities in mme_forecast.prec.nc."""
    config = ROOT / "data" / "demo" / "outlook.toml"
    report = s2s.run_outlook(config, tmp_path / "py")
    nc = Path(report["variables"][0]["netcdf"])
    assert nc.exists() and nc.name == "mme_forecast.prec.nc"
    assert Path(report["bulletin"][1]).read_text().lstrip().lower().startswith("<!doctype html")
    ours = xr.open_dataset(nc)
    probabilities = [v for v in ours.data_vars if v.startswith("probability_")]
    assert {"probability_below", "probability_above"} <= set(probabilities)
    binary = ROOT / "target" / "release" / "s2s"
    if not binary.exists():
        pytest.skip("target/release/s2s not built")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    subprocess.run([str(binary), "outlook", "--config", str(config), "--out", str(tmp_path / "cli")],
                   check=True, capture_output=True, env=env)
    theirs = xr.open_dataset(tmp_path / "cli" / "mme_forecast.prec.nc")
    for v in probabilities:
        xr.testing.assert_identical(ours[v], theirs[v])


def test_set_threads_after_the_pool_exists_is_an_error():
    s2s.crps(ensemble(14).values, observed(ensemble(14), 15).values)
    with pytest.raises(s2s.S2SError, match="set_threads first"):
        s2s.set_threads(1)
    with pytest.raises(s2s.S2SError, match="at least 1"):
        s2s.set_threads(0)


def test_real_nmme_tercile_probabilities_of_the_forecast():
    """Four real NMME models (ensemble means: one member each) over India: the forecast's
    category of each model against its own 38 hindcast years, pooled."""
    names = ["CANSIPSV2", "CCSM4", "NASAGEOSS2S", "NCEPCFSV2"]
    hc = {n: xr.open_dataset(REAL / "nmme_india" / f"{n}_HCST.nc", decode_times=False).prec.expand_dims(M=[0], axis=1) for n in names}
    fc = {n: xr.open_dataset(REAL / "nmme_india" / f"{n}_FCST.nc", decode_times=False).prec.expand_dims(M=[0], axis=1) for n in names}
    p = s2s.tercile_probabilities(hc, fc, init_dim="S", member_dim="M", lead_dim="L")
    assert p.dims == ("S", "category", "L", "Y", "X")
    # one member per model: each model votes for one category, so probabilities are k/4
    v = p.values[np.isfinite(p.values)]
    assert v.size > 0
    np.testing.assert_allclose(v * 4, np.round(v * 4), atol=1e-6)
    assert p.attrs["models"] == ", ".join(names)



# ----------------------------------------------------------------------------- combine
def test_combine_with_pooled_members_and_model_edges_is_the_numpy_count():
    from test_peers import numpy_terciles

    hc = {"A": ensemble(20), "B": ensemble(21, nm=6)}
    fc = {k: v.isel(init=slice(-1, None)) + 0.5 for k, v in hc.items()}
    f = s2s.combine(hc, fc, weights="pooled", edges="model")
    np.testing.assert_allclose(f.probability.values, numpy_terciles(hc.values(), fc.values()), atol=1e-6)
    pooled = xr.concat([fc["A"], fc["B"]], "member")
    np.testing.assert_allclose(f["mean"].values, pooled.mean("member").values, rtol=1e-6)
    # pooled weights: each model's share is its share of the members
    np.testing.assert_allclose(f.weights.isel(init=0, lead=0, lat=0, lon=0).values, [10 / 16, 6 / 16], atol=1e-6)
    assert list(f.edges.source.values) == ["A", "B"]
    assert f.probability.dims == ("init", "category", "lead", "lat", "lon")
    assert f.most_likely_category.dtype == np.int8


def test_combine_needs_observations_for_calibration_and_says_so():
    hc = {"A": ensemble(22)}
    with pytest.raises(s2s.S2SError, match="obs"):
        s2s.combine(hc, calibration="calibrated")


# ----------------------------------------------------------------------------- verify
def observed_categories(obs):
    """The category of each year's observation against the other years' terciles (type 7),
    as the verification defines it (leave-one-year-out)."""
    o = obs.values
    cats = np.empty(o.shape, dtype=int)
    for y in range(o.shape[0]):
        others = np.delete(o, y, axis=0)
        q = np.quantile(others, [1 / 3, 2 / 3], axis=0, method="linear")
        cats[y] = (o[y] > q[0]).astype(int) + (o[y] > q[1]).astype(int)
    return cats


def test_verify_of_a_perfect_and_of_a_climatological_forecast():
    hc = ensemble(23)
    obs = observed(hc, 24)
    cats = observed_categories(obs)
    perfect = np.stack([(cats == k) for k in range(3)], axis=1).astype("float32")
    coords = {"init": obs.init, "category": ["below_normal", "near_normal", "above_normal"], "lead": obs.lead, "lat": obs.lat, "lon": obs.lon}
    dims = ("init", "category", "lead", "lat", "lon")
    ds = xr.Dataset({"probability": (dims, perfect), "mean": obs}, coords=coords)
    v = s2s.verify(ds, obs)
    np.testing.assert_allclose(v.rps, 0.0, atol=1e-7)
    np.testing.assert_allclose(v.rpss, 1.0, atol=1e-6)
    np.testing.assert_allclose(v.brier, 0.0, atol=1e-7)
    np.testing.assert_allclose(v.acc, 1.0, atol=1e-5)
    np.testing.assert_allclose(v.rmse, 0.0, atol=1e-5)
    clim = ds.assign(probability=(dims, np.full(perfect.shape, 1 / 3, dtype="float32")))
    v = s2s.verify(clim, obs)
    np.testing.assert_allclose(v.rpss, 0.0, atol=2e-6)
    # by hand: cumulative (1/3, 2/3) against (1, 1) for a below year: 4/9 + 1/9 = 5/9; against
    # (0, 1) for a near year: 1/9 + 1/9 = 2/9; above, (0, 0): 1/9 + 4/9 (unnormalised RPS)
    expect = np.where(cats == 1, 2 / 9, 5 / 9).mean(axis=0)
    np.testing.assert_allclose(v.rps.values, expect, atol=1e-6)


def test_verify_of_a_combined_hindcast_with_bootstrap_intervals():
    hc = {"A": ensemble(25), "B": ensemble(26)}
    obs = observed(hc["A"], 27)
    h = s2s.combine(hc, obs=obs)
    v = s2s.verify(h, obs, members=xr.concat(list(hc.values()), "member"), resamples=50)
    assert v.rpss.dims == ("lead", "lat", "lon")
    assert (v.acc_lower <= v.acc + 1e-6).all() and (v.acc <= v.acc_upper + 1e-6).all()
    assert np.isfinite(v.crpss).all()
    # the members carry the signal: skill well above climatology everywhere on average
    assert float(v.rpss.mean()) > 0.1 and float(v.acc.mean()) > 0.3


# ----------------------------------------------------------------------------- drift
def uniform_currents(u_ms, v_ms, days=12):
    import pandas as pd

    t = pd.date_range("2020-09-01", periods=days, freq="1D")
    lat = np.arange(0, 20.01, 0.25)
    lon = np.arange(70, 100.01, 0.25)
    shape = (days, lat.size, lon.size)
    return xr.Dataset(
        {
            "uo": (("time", "lat", "lon"), np.full(shape, u_ms, "f4"), {"units": "m s-1", "standard_name": "eastward_sea_water_velocity"}),
            "vo": (("time", "lat", "lon"), np.full(shape, v_ms, "f4"), {"units": "m s-1", "standard_name": "northward_sea_water_velocity"}),
        },
        coords={"time": t, "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
    )


def test_drift_in_a_uniform_current_moves_by_speed_times_time(tmp_path):
    """0.2 m/s east and 0.1 m/s north for 3 days, no wind, no diffusion, one release point:
    every particle ends 51.84 km east and 25.92 km north of the site (by hand, on a sphere of
    radius 6371 km)."""
    tr = s2s.drift([uniform_currents(0.2, 0.1), uniform_currents(0.2, 0.1)], 10.0, 85.0, "2020-09-03", days=3,
                   particles=10, diffusivity=0.0, windage=0.0, release_radius_km=0.0, out=tmp_path / "e")
    assert tr.sizes["trajectory"] == 20 and set(tr.member.values) == {0, 1}
    end = tr.isel(time=-1)
    radius_m = 6371e3
    dlat = np.degrees(0.1 * 3 * 86400 / radius_m)
    lat_mid = np.radians(10.0 + dlat / 2)
    dlon = np.degrees(0.2 * 3 * 86400 / (radius_m * np.cos(lat_mid)))
    np.testing.assert_allclose(end.lat.values, 10.0 + dlat, atol=2e-3)
    np.testing.assert_allclose(end.lon.values, 85.0 + dlon, atol=2e-3)
    assert (tmp_path / "e" / "emergency.html").exists()
    assert (tmp_path / "e" / "drift_probability.nc").exists()


def test_drift_refuses_a_site_on_land_or_off_the_grid():
    with pytest.raises(s2s.S2SError):
        s2s.drift(uniform_currents(0.2, 0.0), 45.0, 85.0, "2020-09-03", days=1, particles=5)


def test_combine_without_extremes_or_percentiles_leaves_them_out():
    d = s2s.combine({"A": ensemble(28)}, extremes=(), percentiles=())
    assert "extreme_probability" not in d and "percentiles" not in d
    assert d.probability.sizes["category"] == 3
    d = s2s.combine({"A": ensemble(28)}, extremes=(0.2,), percentiles=(0.5,))
    assert list(d.extreme_probability.extreme_category.values) == ["below_p20", "above_p20"]
    assert list(d.percentiles.percentile.values) == [50.0]


def test_the_wet_threshold_follows_the_time_step():
    from s2s_ensemble import _core, _default_wet_threshold

    monthly = ensemble(29, gamma=True, name="pr")
    daily = monthly.assign_coords(lead=np.array([1, 2, 3], dtype="timedelta64[D]"))
    assert _default_wet_threshold(monthly, "lead") == _core.WET_THRESHOLD_MONTHLY_MM == 0.01
    assert _default_wet_threshold(daily, "lead") == _core.WET_DAY_THRESHOLD_DAILY_MM == 0.1


def test_history_is_stamped_as_the_library_stamps(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    hc = ensemble(30)
    r = s2s.crps(hc, observed(hc, 31))
    assert r.attrs["history"].startswith("2023-11-14T22:13:20Z: crps")
