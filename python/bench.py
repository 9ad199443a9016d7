"""Same-run timing of the Python bindings against the Python peers on the peers' workload.

    python python/bench.py [WORKLOAD_DIR] [--rounds 2] [--json out.json]

WORKLOAD_DIR is the peers' workload (``../shared/peers/make_workload.py --out DIR``; default
``$PEERS_WL`` or ``/tmp/peers-workload``), read into xarray once before any timing. Each op runs
the peer and ours alternately (round 1 peer first, round 2 ours first, and so on), and the
ratio peer ÷ ours is taken within each round; the table shows the smallest and largest over
the rounds; each side is called once untimed first (lazy imports, JIT compilation and thread
pools start-up are not what a notebook pays on every call). The definitions are the peers' (``../shared/peers/peer_ops.py``):

- terciles: numpy's type-7 edges per model over init × member and strict counts of the 30
  pooled members, hindcast starts and forecast, pr and tas — ``s2s.tercile_probabilities``;
- CRPS: ``xskillscore.crps_ensemble`` of the 30 pooled mean-bias-corrected members over the 24
  starts — ``s2s.crps``;
- RPS: ``xskillscore.rps`` with the quantile edges of the observations and of the members —
  ``s2s.rps`` (edges included on both sides);
- SPI: ``xclim.indices.standardized_precipitation_index`` (gamma, APP, floc=0, 1991–2020) of
  the monthly record — ``s2s.spi`` (Thom's approximation, the same method).

"ours" is the whole call on DataArrays (the xarray layer included); "kernel" the extension's
function on arrays already in the library's order, so ours − kernel is the cost of the
conversion (transposes and copies; zero where the inputs are C-contiguous float32 in the
library's order, which the workload's ``(init, member, lead, lat, lon)`` files are).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

# the installed package (pip install ./python), not the sources beside this script, which
# lack the compiled extension
_here = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != _here]
import s2s_ensemble as s2s  # noqa: E402
from s2s_ensemble import _core  # noqa: E402

MODELS = ("ALPHA", "BRAVO", "CHARLIE")


def load(path):
    return xr.open_dataset(path).drop_vars("valid_time", errors="ignore").load()


def mean_bias_corrected(hindcasts, obs, var):
    """The peers' mean-bias correction of each model, members pooled (not timed)."""
    parts = []
    for h in hindcasts:
        x = h[var]
        m = x.mean(("init", "member"))
        o = obs[var].mean("init")
        parts.append(x * (o / m).where(m > 0, 0.0) if var == "pr" else x - m + o)
    pooled = xr.concat(parts, "member").astype("float32")
    return pooled.assign_coords(member=np.arange(pooled.sizes["member"]))


def numpy_terciles(hindcasts, forecasts, var):
    below_h = above_h = below_f = above_f = 0
    members = 0
    for h, f in zip(hindcasts, forecasts):
        x = h[var].values
        ni, nm = x.shape[:2]
        q = np.quantile(x.reshape(ni * nm, *x.shape[2:]), [1 / 3, 2 / 3], axis=0, method="linear")
        below_h = below_h + (x < q[0]).sum(axis=1)
        above_h = above_h + (x > q[1]).sum(axis=1)
        y = f[var].values
        below_f = below_f + (y < q[0]).sum(axis=1)
        above_f = above_f + (y > q[1]).sum(axis=1)
        members += nm
    return below_h / members, above_h / members, below_f / members, above_f / members


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workload", nargs="?", default=os.environ.get("PEERS_WL", "/tmp/peers-workload"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", help="write every measurement here")
    a = ap.parse_args()
    wl = Path(a.workload)
    if not (wl / "hindcast_ALPHA.nc").exists():
        sys.exit(f"no peers' workload in {wl}: make it with ../shared/peers/make_workload.py --out {wl}")
    import xclim.indices as xci
    import xskillscore as xs

    t = time.perf_counter()
    hindcasts = [load(wl / f"hindcast_{m}.nc") for m in MODELS]
    forecasts = [load(wl / f"forecast_{m}.nc") for m in MODELS]
    obs = load(wl / "obs.nc")
    monthly = xr.open_dataset(wl / "obs_monthly_pr.nc").pr.load()
    mme = {v: mean_bias_corrected(hindcasts, obs, v) for v in ("pr", "tas")}
    print(f"workload {wl} read in {time.perf_counter() - t:.1f} s; {os.cpu_count()} cores", flush=True)

    def terciles_peer():
        for v in ("pr", "tas"):
            numpy_terciles(hindcasts, forecasts, v)

    def terciles_ours():
        for v in ("pr", "tas"):
            s2s.tercile_probabilities([h[v] for h in hindcasts], [f[v] for f in forecasts], return_hindcast=True)

    prepared = {v: ([np.ascontiguousarray(h[v].values) for h in hindcasts], [np.ascontiguousarray(f[v].values) for f in forecasts]) for v in ("pr", "tas")}

    def terciles_kernel():
        for v in ("pr", "tas"):
            h, f = prepared[v]
            _core.tercile_probabilities(h, [f], list(s2s.TERCILES), "pooled", None)

    def crps_peer():
        for v in ("pr", "tas"):
            xs.crps_ensemble(obs[v], mme[v], member_dim="member", dim=["init"]).load()

    def crps_ours():
        for v in ("pr", "tas"):
            s2s.crps(mme[v], obs[v])

    arrays = {v: (np.ascontiguousarray(mme[v].values), np.ascontiguousarray(obs[v].values[:, None])) for v in ("pr", "tas")}

    def crps_kernel():
        for v in ("pr", "tas"):
            _core.crps(*arrays[v], False)

    def rps_peer():
        for v in ("pr", "tas"):
            qo = obs[v].quantile([1 / 3, 2 / 3], dim="init").rename(quantile="category_edge")
            qf = mme[v].quantile([1 / 3, 2 / 3], dim=["init", "member"]).rename(quantile="category_edge")
            xs.rps(obs[v], mme[v], category_edges=(qo, qf), dim=["init"], member_dim="member", fair=False).load()

    def rps_ours():
        for v in ("pr", "tas"):
            s2s.rps(mme[v], obs[v])

    def rps_kernel():
        for v in ("pr", "tas"):
            _core.rps(*arrays[v], list(s2s.TERCILES))

    def spi_peer():
        xci.standardized_precipitation_index(monthly, freq="MS", window=3, dist="gamma", method="APP",
                                            fitkwargs={"floc": 0}, cal_start="1991-01-01", cal_end="2020-12-31").load()

    def spi_ours():
        s2s.spi(monthly, 3, (1991, 2020))

    first = s2s._start_dates(monthly.time)[0]
    spi_array = np.ascontiguousarray(monthly.transpose("time", "lat", "lon").values, dtype=np.float32)

    def spi_kernel():
        _core.spi(spi_array, first[0], first[1], 3, (1991, 2020), "thom")

    ops = [
        ("tercile probabilities, pr + tas (hindcast + forecast)", "numpy", terciles_peer, terciles_ours, terciles_kernel),
        ("CRPS of 30 pooled members over 24 starts, pr + tas", "xskillscore", crps_peer, crps_ours, crps_kernel),
        ("tercile RPS (quantile edges), pr + tas", "xskillscore", rps_peer, rps_ours, rps_kernel),
        ("SPI-3, gamma (APP / Thom), 1991–2020", "xclim", spi_peer, spi_ours, spi_kernel),
    ]
    rows, record = [], []
    for name, peer_name, peer, ours, kernel in ops:
        # one untimed call of each first: imports done lazily, numba's and the pool's start-up
        peer()
        ours()
        runs = []
        for r in range(a.rounds):
            order = [("peer", peer), ("ours", ours)] if r % 2 == 0 else [("ours", ours), ("peer", peer)]
            got = {k: timed(f) for k, f in order}
            got["kernel"] = timed(kernel)
            runs.append(got)
            print(f"  {name} round {r + 1}: peer {got['peer']:.3f} s, ours {got['ours']:.3f} s, kernel {got['kernel']:.3f} s", flush=True)
        ratios = [g["peer"] / g["ours"] for g in runs]

        def span(k):
            xs_ = [g[k] for g in runs]
            return f"{min(xs_):.3f}–{max(xs_):.3f}"

        conversion = [g["ours"] - g["kernel"] for g in runs]
        rows.append(f"| {name} | {peer_name} | {span('peer')} | {span('ours')} | {span('kernel')} | "
                    f"{min(conversion):.3f}–{max(conversion):.3f} | **{min(ratios):.1f}–{max(ratios):.1f}×** |")
        record.append({"op": name, "peer": peer_name, "rounds": runs, "ratio": ratios})
    print()
    print(f"s2s_ensemble {s2s.__version__}, {a.rounds} rounds, peer and ours alternated; ratio = peer ÷ ours within a round")
    print()
    print("| op | peer | peer s | ours s (xarray in and out) | kernel s | conversion s | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    if a.json:
        Path(a.json).write_text(json.dumps({"workload": str(wl), "rounds": record}, indent=1))


if __name__ == "__main__":
    main()
