"""Each function against the peer that computes the same thing on the same arrays: numpy
(tercile probabilities), xskillscore (CRPS, RPS, ACC), xclim (SPI), xsdba (EQM). The
definitions are the ones of the peers' benchmark (../shared/peers/peer_ops.py), where the CLI
meets the same tolerances."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import s2s_ensemble as s2s

REAL = Path(__file__).resolve().parents[2] / "data" / "real"


def ensemble(seed, ni=24, nm=10, nl=3, ny=6, nx=7, gamma=False, name="tas"):
    """A hindcast-like DataArray with start dates, leads and a lat/lon grid."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(ni, 1, nl, ny, nx))
    if gamma:
        values = rng.gamma(2.0, 1.5, size=(ni, nm, nl, ny, nx)) * np.exp(0.3 * signal)
    else:
        values = 20 + 2 * signal + rng.normal(size=(ni, nm, nl, ny, nx))
    return xr.DataArray(
        values.astype("float32"),
        dims=("init", "member", "lead", "lat", "lon"),
        coords={
            "init": xr.date_range("1993-05-01", periods=ni, freq="YS-MAY"),
            "member": np.arange(nm),
            "lead": np.arange(1, nl + 1),
            "lat": np.linspace(5, 30, ny),
            "lon": np.linspace(60, 95, nx),
        },
        name=name,
        attrs={"units": "mm/day" if gamma else "degC"},
    )


def observed(hindcast, seed):
    rng = np.random.default_rng(seed)
    truth = hindcast.isel(member=0, drop=True)
    return (truth + rng.normal(size=truth.shape).astype("float32")).rename(hindcast.name)


# ----------------------------------------------------------------------------- terciles
def numpy_terciles(hindcasts, forecasts):
    """The peers' numpy terciles: type-7 edges per model over init x member, strict
    inequalities, counts pooled over every member of every model."""
    below = above = 0
    members = 0
    for h, f in zip(hindcasts, forecasts):
        x = h.values.astype("float32")
        ni, nm = x.shape[:2]
        q = np.quantile(x.reshape(ni * nm, *x.shape[2:]), [1 / 3, 2 / 3], axis=0, method="linear")
        y = f.values
        below = below + (y < q[0]).sum(axis=1)
        above = above + (y > q[1]).sum(axis=1)
        members += nm
    pb, pa = below / members, above / members
    return np.stack([pb, 1 - pb - pa, pa], axis=1)


def test_tercile_probabilities_equal_numpy():
    hindcasts = {"A": ensemble(1), "B": ensemble(2, nm=6), "C": ensemble(3, nm=12)}
    forecasts = {k: v.isel(init=slice(-2, None)) + 1.0 for k, v in hindcasts.items()}
    hp, fp = s2s.tercile_probabilities(hindcasts, forecasts, return_hindcast=True)
    assert fp.dims == ("init", "category", "lead", "lat", "lon")
    assert list(fp.category.values) == ["below_normal", "near_normal", "above_normal"]
    np.testing.assert_array_equal(fp.lat, hindcasts["A"].lat)
    expect_f = numpy_terciles(hindcasts.values(), forecasts.values())
    expect_h = numpy_terciles(hindcasts.values(), hindcasts.values())
    np.testing.assert_allclose(fp.values, expect_f, atol=1e-6)
    np.testing.assert_allclose(hp.values, expect_h, atol=1e-6)
    np.testing.assert_allclose(fp.sum("category"), 1.0, atol=1e-6)


def test_tercile_probabilities_of_numpy_arrays_and_model_weights():
    a, b = ensemble(4, nm=4), ensemble(5, nm=12)
    p = s2s.tercile_probabilities([a.values, b.values], [a.values[:1], b.values[:1]], weights="model")
    # model-equal: the mean of each model's own probabilities
    pa = numpy_terciles([a], [a[:1]])
    pb = numpy_terciles([b], [b[:1]])
    np.testing.assert_allclose(p, (pa + pb) / 2, atol=1e-6)
    assert isinstance(p, np.ndarray)


# ----------------------------------------------------------------------------- scores
def test_crps_equals_xskillscore():
    xs = pytest.importorskip("xskillscore")
    hc = ensemble(6, gamma=True, name="pr")
    obs = observed(hc, 7).clip(min=0)
    ours = s2s.crps(hc, obs)
    theirs = xs.crps_ensemble(obs, hc, member_dim="member", dim=["init"])
    assert ours.dims == ("lead", "lat", "lon")
    np.testing.assert_allclose(ours.values, theirs.transpose(*ours.dims).values, rtol=2e-5, atol=1e-5)
    assert ours.attrs["units"] == "mm/day"


def test_fair_crps_is_the_plain_crps_minus_the_ensemble_size_term():
    hc = ensemble(8)
    obs = observed(hc, 9)
    plain, fair = s2s.crps(hc, obs), s2s.crps(hc, obs, fair=True)
    # fair = plain - mean |x_i - x_j| / (2 m (m - 1)) * m ... checked by hand from the
    # definitions: CRPS_fair = E|X-y| - E|X-X'| / 2 * m/(m-1)
    x = hc.values.astype("float64")
    m = x.shape[1]
    spread = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(1, 2)) / (2 * m * m)
    expect = plain.values - (spread / (m - 1)).mean(axis=0)
    np.testing.assert_allclose(fair.values, expect, rtol=1e-4, atol=1e-5)


def test_rps_equals_xskillscore():
    xs = pytest.importorskip("xskillscore")
    hc = ensemble(10)
    obs = observed(hc, 11)
    ours = s2s.rps(hc, obs)
    qo = obs.quantile([1 / 3, 2 / 3], dim="init").rename(quantile="category_edge")
    qf = hc.quantile([1 / 3, 2 / 3], dim=["init", "member"]).rename(quantile="category_edge")
    theirs = xs.rps(obs, hc, category_edges=(qo, qf), dim=["init"], member_dim="member", fair=False)
    np.testing.assert_allclose(ours.values, theirs.transpose(*ours.dims).values, atol=1e-5)


def test_acc_equals_xskillscore():
    xs = pytest.importorskip("xskillscore")
    hc = ensemble(12)
    obs = observed(hc, 13)
    ours = s2s.acc(hc, obs)
    em = hc.mean("member")
    theirs = xs.pearson_r(obs - obs.mean("init"), em - em.mean("init"), dim="init")
    np.testing.assert_allclose(ours.values, theirs.transpose(*ours.dims).values, atol=2e-6)


def test_acc_of_real_nmme_ensemble_means_equals_xskillscore():
    """NMME CCSM4 JJAS hindcasts (ensemble means, IRI layout S/L/Y/X, months since 1960)
    against IMD land-only rainfall: the dims found by name, NaN over the sea."""
    xs = pytest.importorskip("xskillscore")
    hc = xr.open_dataset(REAL / "nmme_india" / "CCSM4_HCST.nc", decode_times=False).prec.load()
    ob = xr.open_dataset(REAL / "nmme_india" / "observations.nc", decode_times=False).rf.load()
    ob = ob.rename(time="S", LATITUDE="Y", LONGITUDE="X").assign_coords(S=hc.S, Y=hc.Y, X=hc.X)
    ob = ob.expand_dims(L=hc.L, axis=1)
    ours = s2s.acc(hc.expand_dims(M=[0], axis=1), ob, init_dim="S", member_dim="M", lead_dim="L")
    # a year missing in the observations leaves that year out (pairwise complete), as
    # xskillscore's skipna=True; the sea has no observation at all
    theirs = xs.pearson_r(ob - ob.mean("S"), hc - hc.mean("S"), dim="S", skipna=True).transpose(*ours.dims)
    land = np.isfinite(theirs.values)
    assert land.sum() > 500  # Indian land cells
    np.testing.assert_array_equal(np.isfinite(ours.values), land)
    np.testing.assert_allclose(ours.values[land], theirs.values[land], atol=2e-6)


# ----------------------------------------------------------------------------- SPI
@pytest.mark.parametrize("fit,method", [("thom", "APP"), ("ml", "ML")])
def test_spi_equals_xclim(fit, method):
    xclim_indices = pytest.importorskip("xclim.indices")
    rng = np.random.default_rng(14)
    months = 30 * 12
    seasonal = 1 + 0.8 * np.sin(2 * np.pi * np.arange(months) / 12)
    values = rng.gamma(2.0, 30.0, size=(months, 3, 4)) * seasonal[:, None, None]
    values[rng.random(values.shape) < 0.05] = 0.0  # some dry months
    pr = xr.DataArray(
        values.astype("float32"),
        dims=("time", "lat", "lon"),
        coords={"time": xr.date_range("1991-01-01", periods=months, freq="MS"), "lat": [10.0, 12.0, 14.0], "lon": [70.0, 72.0, 74.0, 76.0]},
        name="pr",
        attrs={"units": "mm/month"},
    )
    ours = s2s.spi(pr, 3, (1991, 2020), fit=fit)
    # the two-parameter gamma (location 0), as the SPI defines it
    kw = {"fitkwargs": {"floc": 0}}
    theirs = xclim_indices.standardized_precipitation_index(
        pr.astype("float64").assign_attrs(units="mm/month"), freq="MS", window=3, dist="gamma", method=method,
        cal_start="1991-01-01", cal_end="2020-12-31", **kw,
    ).transpose(*ours.dims)
    assert ours.dims == pr.dims
    # ours is clipped to ±3.09 (probabilities 0.001 and 0.999), as WMO's guide and
    # climate_indices do; xclim leaves the tails as they are
    theirs = theirs.clip(-3.09, 3.09)
    ok = np.isfinite(theirs.values)
    assert ok.sum() > 0.9 * ok.size
    np.testing.assert_array_equal(np.isfinite(ours.values), ok)
    np.testing.assert_allclose(ours.values[ok], theirs.values[ok], atol=1e-5)


# ----------------------------------------------------------------------------- EQM
def test_additive_eqm_equals_xsdba():
    """In-sample EQM of temperature with 100 nodes at (k + 1/2)/100, linear interpolation and
    constant extrapolation: xsdba's EmpiricalQuantileMapping with the same settings."""
    xsdba = pytest.importorskip("xsdba")
    hc = ensemble(15, ni=24, nm=10, nl=1, ny=3, nx=4)
    obs = observed(hc, 16) + 1.5
    ours = s2s.bias_correct(hc, obs, method="eqm", cv="none", quantiles=100)
    ref = obs.isel(lead=0, drop=True).rename(init="time").assign_attrs(units="degC")
    hist = hc.isel(lead=0, drop=True).rename(init="time").assign_attrs(units="degC")
    grp = xsdba.Grouper("time", add_dims=["member"])
    tr = xsdba.EmpiricalQuantileMapping.train(ref, hist, nquantiles=100, group=grp, kind="+")
    theirs = tr.adjust(hist, interp="linear", extrapolation="constant").rename(time="init")
    theirs = theirs.transpose("init", "member", "lat", "lon").values
    np.testing.assert_allclose(ours.isel(lead=0).values, theirs, atol=2e-4)


# ----------------------------------------------------------------------------- cyclones
def stitchnodes_tracks(path):
    """The tracks of a TempestExtremes StitchNodes (GFDL) file: per track, its points as
    (lon, lat, psl, year, month, day, hour)."""
    tracks = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f[0] == "start":
            tracks.append([])
        else:
            tracks[-1].append((float(f[2]), float(f[3]), float(f[4]), *map(int, f[-4:])))
    return tracks


def test_detect_cyclones_of_era5_datasets_equals_tempestextremes():
    """ERA5 January 2026 (2.5°, 6-hourly msl and 850 hPa vorticity) opened with xarray and
    merged: the tracks TempestExtremes' StitchNodes gives (fixture from TE built from source,
    see data/real/cyclones/SOURCE.md), point for point."""
    data = REAL / "cyclones"
    ds = xr.merge([xr.open_dataset(data / "era5_msl_2026-01_2.5x2.5.nc"), xr.open_dataset(data / "era5_vo850_2026-01_2.5x2.5.nc")])
    df = s2s.detect_cyclones(ds, vorticity="vo", min_lat=-40, max_lat=40)
    te = stitchnodes_tracks(data / "te_stitchnodes_era5_2026-01.txt")
    ours = [g for _, g in df.groupby("track_id", sort=True)]
    assert len(ours) == len(te) == 11
    for g, t in zip(ours, te):
        assert len(g) == len(t)
        lon = np.where(g.lon.values < 0, g.lon.values + 360, g.lon.values)
        np.testing.assert_allclose(lon, [p[0] for p in t], atol=1e-4)
        np.testing.assert_allclose(g.lat.values, [p[1] for p in t], atol=1e-4)
        np.testing.assert_allclose(g.psl.values, [p[2] for p in t], rtol=1e-6)
        times = [(x.year, x.month, x.day, x.hour) for x in g.time]
        assert times == [p[3:] for p in t]
    assert df.attrs["candidate_centres"] > 100
