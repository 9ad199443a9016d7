"""Bad input to the extension gets one S2SError with the library's words: never a panic
(PanicException), an abort or a silently wrong result."""

import numpy as np
import pytest

import s2s_ensemble as s2s
from s2s_ensemble import _core

F = np.float32
STARTS = [(2000 + i, 5, 1) for i in range(6)]


def z(*shape):
    return np.zeros(shape, F)


CASES = {
    "crps starts differ": (lambda: _core.crps(z(5, 3, 2, 1, 4), z(4, 1, 2, 1, 4)), "must share starts"),
    "rps levels descend": (lambda: _core.rps(z(5, 3, 2, 1, 4), z(5, 1, 2, 1, 4), [0.7, 0.2]), "ascending"),
    "rps no levels": (lambda: _core.rps(z(5, 3, 2, 1, 4), z(5, 1, 2, 1, 4), []), "one or more"),
    "rps NaN level": (lambda: _core.rps(z(5, 3, 2, 1, 4), z(5, 1, 2, 1, 4), [float("nan")]), "within (0, 1)"),
    "terciles level 2": (lambda: _core.tercile_probabilities([z(3, 2, 2, 1, 4)], [], [2.0], "pooled", None), "within [0, 1]"),
    "terciles other leads": (lambda: _core.tercile_probabilities([z(3, 2, 2, 1, 4)], [[z(3, 2, 3, 1, 4)]], [0.5], "pooled", None), "2 leads"),
    "terciles NaN weight": (lambda: _core.tercile_probabilities([z(3, 2, 2, 1, 4)], [], [0.5], "given", [float("nan")]), "non-negative"),
    "terciles negative weight": (lambda: _core.tercile_probabilities([z(3, 2, 2, 1, 4)] * 2, [], [0.5], "given", [-1.0, 1.0]), "non-negative"),
    "spi no months": (lambda: _core.spi(z(0, 1, 3), 1991, 1), "no time steps"),
    "spi month 13": (lambda: _core.spi(z(24, 1, 3), 1991, 13), "month 13"),
    "spi scale 0": (lambda: _core.spi(z(24, 1, 3), 1991, 1, 0), "SPI scale"),
    "bias month 13": (lambda: _core.bias_correct(z(3, 3, 1, 1, 2), z(3, 1, 1, 1, 2), [(2000, 13, 40)] * 3), "month 1–12"),
    "bias 2 obs members": (lambda: _core.bias_correct(z(6, 3, 1, 1, 2), z(6, 2, 1, 1, 2), STARTS), "one"),
    "bias 0 quantiles": (lambda: _core.bias_correct(np.ones((6, 3, 1, 1, 2), F), np.ones((6, 1, 1, 1, 2), F), STARTS, quantiles=0), "at least 2"),
    "combine percentile 1.5": (lambda: _core.combine([z(6, 3, 1, 1, 2)], STARTS, percentiles=[1.5]), "[0, 1]"),
    "combine NaN dominant": (lambda: _core.combine([z(6, 3, 1, 1, 2)], STARTS, dominant=float("nan")), "dominant"),
    "combine calibrated without obs": (lambda: _core.combine([z(6, 3, 1, 1, 2)], STARTS, weights="calibrated"), "need observations"),
    "combine descending grid": (lambda: _core.combine([z(6, 3, 1, 2, 2)], STARTS, grid=([1.0, 0.0], [3.0, 4.0])), "ascending"),
    "verify one year": (lambda: _core.verify(z(1, 3, 1, 1, 2), z(1, 1, 1, 1, 2), z(1, 1, 1, 1, 2), [1 / 3, 2 / 3], resamples=10), "at least 2 years"),
    "verify 10^12 resamples": (lambda: _core.verify(z(4, 3, 1, 1, 2), z(4, 1, 1, 1, 2), z(4, 1, 1, 1, 2), [1 / 3, 2 / 3], resamples=10**12), "memory budget"),
    "tracks of a missing file": (lambda: _core.track_cyclones(["/nonexistent/msl.nc"]), "cannot open"),
    "tracks of a text file": (lambda: _core.track_cyclones([__file__]), "not a readable NetCDF"),
    "drift bad date": (lambda: _core.drift(["/nonexistent.nc"], 10.0, 85.0, "2020-13-01", "/tmp/never"), "YYYY-MM-DD"),
    "outlook of a text file": (lambda: _core.run_outlook(__file__), "configuration"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_an_s2s_error(name):
    call, words = CASES[name]
    with pytest.raises(s2s.S2SError) as e:
        call()
    assert words in str(e.value), str(e.value)


def test_empty_arrays_give_empty_results():
    assert _core.crps(z(0, 3, 2, 1, 4), z(0, 1, 2, 1, 4)).shape == (2, 1, 4)
    assert _core.tercile_probabilities([z(0, 3, 2, 1, 4)], [], [1 / 3, 2 / 3], "pooled", None)[0].shape == (0, 3, 2, 1, 4)
