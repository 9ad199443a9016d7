"""Writes xskillscore_fixture.json: small random ensembles and what xskillscore 0.0.29 scores
them as, for tests/it/xskillscore.rs. Run with the peers' venv (../shared/peers/setup.sh):

    /tmp/peers-venv/bin/python tests/data/verification/make_xskillscore_fixture.py
"""
import json
import os

import numpy as np
import xarray as xr
import xskillscore as xs

rng = np.random.default_rng(20261123)
n_time, n_member, n_cell = 20, 7, 5
signal = rng.normal(size=(n_time, 1, n_cell))
obs = (signal[:, 0, :] + 0.7 * rng.normal(size=(n_time, n_cell))).astype("float64")
fc = (signal + 0.8 * rng.normal(size=(n_time, n_member, n_cell))).astype("float64")
o = xr.DataArray(obs, dims=("time", "cell"))
f = xr.DataArray(fc, dims=("time", "member", "cell"))
edges = np.array([-0.5, 0.3])
event_o = o > 0
prob = (f > 0).mean("member")

out = {
    "source": "xskillscore " + xs.__version__ + ", numpy default_rng(20261123)",
    "n_time": n_time,
    "n_member": n_member,
    "n_cell": n_cell,
    "obs": obs.tolist(),                    # [time][cell]
    "members": fc.tolist(),                 # [time][member][cell]
    "category_edges": edges.tolist(),
    # Per sample (time, cell): crps_ensemble and rps reduce over no dimension.
    "crps_ensemble": xs.crps_ensemble(o, f, member_dim="member", dim=[]).values.tolist(),
    "rps": xs.rps(o, f, category_edges=edges, dim=[], member_dim="member").values.tolist(),
    # Per cell over time.
    "pearson_r": xs.pearson_r(o, f.mean("member"), dim="time").values.tolist(),
    "rmse": xs.rmse(o, f.mean("member"), dim="time").values.tolist(),
    "brier_score": xs.brier_score(event_o, prob, dim="time").values.tolist(),
    "roc_area": xs.roc(event_o, prob, bin_edges="continuous", dim="time",
                       return_results="area").values.tolist(),
    "rank_histogram": xs.rank_histogram(o, f, dim="time", member_dim="member")
                        .transpose("cell", "rank").values.tolist(),
}
rel = xs.reliability(event_o, prob, dim="time", probability_bin_edges=np.linspace(0, 1, 11))
out["reliability"] = rel.transpose("cell", "forecast_probability").values.tolist()
out["reliability_samples"] = rel["samples"].transpose("cell", "forecast_probability").values.tolist()
fpr, tpr, area = xs.roc(event_o, prob, bin_edges="continuous", dim="time",
                        return_results="all_as_tuple")
out["roc_false_alarm_rate"] = fpr.transpose("cell", "probability_bin").values.tolist()
out["roc_hit_rate"] = tpr.transpose("cell", "probability_bin").values.tolist()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xskillscore_fixture.json")
with open(path, "w") as fh:
    json.dump(out, fh, allow_nan=True)
print("wrote", path)
