#!/usr/bin/env python3
"""Every peer op of ../shared/peers beside ours, in one run, on the peers' own workload.

Run through ./scripts/bench.sh (which sets up the peers, the workload and the release build).
The workload's files are read once first, so that every timing starts from a warm page cache.
For each comparison and each round, the peer's op(s) run as their own processes through the
peers' run_peers.sh (whole process under /usr/bin/time: imports, read, compute, write; plus the
`compute_seconds` the op reports), and ours as processes under /usr/bin/time; round 1 runs the
peer first, round 2 ours first, and so on. A ratio is always peer ÷ ours *of the same round*;
the table shows the smallest and largest over the rounds, never a ratio to a time measured at
another moment. Where a row's work differs from the peer's (a peer that times a subset), the
row says so.

Writes bench/results.json (every measurement, the machine, the versions) and bench/results.md
(the table the README quotes), and prints the table.

Environment: BENCH_ROUNDS (2), BENCH_ONLY="terciles eqm_cmethods" (comparison keys), BENCH_OUT
(bench/), PEERS_WL (/tmp/peers-workload), PEERS_VENV (/tmp/peers-venv).
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = (ROOT.parent / "shared" / "peers").resolve()
WL = Path(os.environ.get("PEERS_WL", "/tmp/peers-workload"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ONLY = os.environ.get("BENCH_ONLY", "").split()
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench"))
S2S = str(ROOT / "target/release/s2s")
EX = ROOT / "target/release/examples"
MODELS = ["ALPHA", "BRAVO", "CHARLIE"]


def hc(m):
    return str(WL / f"hindcast_{m}.nc")


def s2s_bias(method, models, forecast_only, extra):
    """One `s2s bias-correct` process per model and variable, as the peer corrects them."""
    cmds = []
    for m in models:
        for v in ("pr", "tas"):
            c = [S2S, "bias-correct", "-q", "-O", "--deflate", "0", "--method", method, "--var", v,
                 "--hindcast", hc(m), "--obs", str(WL / "obs.nc"), "--out", "{tmp}"] + extra
            if forecast_only:
                c += ["--forecast", str(WL / f"forecast_{m}.nc"), "--forecast-only"]
            cmds.append(c)
    return cmds


def s2s_regrid(method):
    """`s2s regrid` of each of model ALPHA's 10 member files onto the peers' 1.5° global grid
    (240 × 120 cells centred at 0.75 + 1.5k), uncompressed as CDO writes them."""
    files = sorted((WL / "cdo").glob("ALPHA_m*.nc"))
    return [[S2S, "regrid", "-q", "-O", "--deflate", "0", "--method", method, "--grid", "1.5",
             str(f), "{tmp}/" + f.name] for f in files]


def s2s_spi(fit):
    return [[S2S, "spi", "-q", "-O", "--deflate", "0", "--scale", "3", "--calibration", "1991-2020",
             "--fit", fit, str(WL / "obs_monthly_pr.nc"), "{tmp}/spi.nc"]]


def ensemble(kernels):
    return [[str(EX / "ensemble_workload"), str(WL), "{peer_results}", "--kernels", kernels]]


def verify(op):
    return [[str(EX / "verify_workload"), op, str(WL), "{peer_results}"]]


def stream(threads):
    return [["env", f"RAYON_NUM_THREADS={threads}", str(EX / "stream_triad")]]


def json_sum(*keys):
    """Our compute seconds: the sum of `keys` over the JSON lines our program printed."""
    def f(lines):
        return sum(line.get(k, 0.0) for line in lines for k in keys)
    return f


# key, what is computed, peer op(s) (whole processes, summed), our commands, our compute
# seconds (from what our program prints), a note where the work is not the same, the target.
COMPARISONS = [
    dict(key="ensemble_stats",
         work="ensemble mean + 10/50/90th percentiles, 30 pooled members, every start and lead, pr + tas",
         peer="CDO ensmean + 3 × enspctl", ops=["cdo_ensmean", "cdo_enspctl10", "cdo_enspctl50", "cdo_enspctl90"],
         ours=ensemble("mean,percentiles"), compute=json_sum("mean_spread_s", "percentiles_s"),
         note="CDO writes its four results; ours reads and computes (no output file)", target=("wall", 10)),
    dict(key="terciles", work="tercile edges per model (type 7, in-sample) + pooled counts, 24 starts + forecast, pr + tas",
         peer="numpy", ops=["terciles_numpy"], ours=ensemble("terciles"), compute=json_sum("terciles_s"),
         note="numpy writes its result; ours does not", target=("compute", 15)),
    dict(key="eqm_cmethods", work="EQM, 100 quantiles, in-sample, 3 models × pr, tas",
         peer="python-cmethods", ops=["eqm_cmethods"],
         ours=s2s_bias("eqm", MODELS, False, ["--quantiles", "100", "--cv", "none"]), target=("wall", 50)),
    dict(key="qdm_cmethods", work="QDM of model ALPHA's forecast, pr + tas",
         peer="python-cmethods", ops=["qdm_cmethods"], ours=s2s_bias("qdm", ["ALPHA"], True, [])),
    dict(key="eqm_xsdba", work="EQM, 100 quantiles, in-sample, model ALPHA, pr + tas",
         peer="xsdba", ops=["eqm_xsdba"], ours=s2s_bias("eqm", ["ALPHA"], False, ["--quantiles", "100", "--cv", "none"]),
         note="xsdba corrects 30 of the 90 latitude rows, ours all 90 (3× the work)"),
    dict(key="qdm_xsdba", work="QDM of model ALPHA's forecast, pr + tas",
         peer="xsdba", ops=["qdm_xsdba"], ours=s2s_bias("qdm", ["ALPHA"], True, [])),
    dict(key="crps", work="CRPS (plain) of the 30 pooled mean-bias-corrected members, mean over 24 starts",
         peer="xskillscore", ops=["crps_xskillscore"], ours=verify("crps"), compute=json_sum("score_s")),
    dict(key="rps", work="tercile RPS (in-sample edges) of the pooled members, mean over 24 starts",
         peer="xskillscore", ops=["rps_xskillscore"], ours=verify("rps"), compute=json_sum("score_s")),
    dict(key="acc", work="ensemble-mean anomaly correlation over 24 starts", peer="xskillscore",
         ops=["acc_xskillscore"], ours=verify("acc"), compute=json_sum("score_s")),
    dict(key="climpred", work="model ALPHA: CRPS + ensemble-mean correlation", peer="climpred",
         ops=["verify_climpred"], ours=verify("climpred"), compute=json_sum("score_s")),
    dict(key="spi_app", work="SPI-3, gamma (Thom / xclim APP), 1991–2020, 360 months × 800 cells",
         peer="xclim", ops=["spi_xclim_app"], ours=s2s_spi("thom")),
    dict(key="spi_climate_indices", work="SPI-3, gamma (Thom), 1991–2020, 360 months × 800 cells",
         peer="climate_indices", ops=["spi_climate_indices"], ours=s2s_spi("thom")),
    dict(key="spi_ml", work="SPI-3, gamma by maximum likelihood, 360 months",
         peer="xclim", ops=["spi_xclim_ml"], ours=s2s_spi("mle"),
         note="xclim fits 200 of the 800 cells, ours all 800 (4× the work)"),
    dict(key="remapbil", work="bilinear 2° → 1.5° global, 10 member files × 144 steps × pr, tas",
         peer="CDO remapbil -P 2", ops=["cdo_remapbil"], ours=s2s_regrid("bilinear")),
    dict(key="remapcon", work="conservative 2° → 1.5° global, 10 member files × 144 steps × pr, tas",
         peer="CDO remapcon -P 2", ops=["cdo_remapcon"], ours=s2s_regrid("conservative")),
    dict(key="remapcon_cachedw", work="the same, CDO's weights computed once (gencon + remap)",
         peer="CDO gencon + remap -P 2", ops=["cdo_remapcon_cachedw"], ours=s2s_regrid("conservative"),
         note="ours computes the weights in every process"),
    dict(key="stream_1thr", work="STREAM triad, 3 × 512 MiB f64, 1 thread (GB/s)", peer="C STREAM (gcc -O3)",
         ops=["stream_c_1thr"], ours=stream(1), bandwidth=True),
    dict(key="stream_2thr", work="STREAM triad, 3 × 512 MiB f64, 2 threads (GB/s)", peer="C STREAM (gcc -O3)",
         ops=["stream_c_2thr"], ours=stream(2), bandwidth=True),
    dict(key="stream_numpy", work="numpy add vs our triad, 3 × 512 MiB f64, 1 thread (GB/s)", peer="numpy",
         ops=["stream_numpy"], ours=stream(1), bandwidth=True),
]


def run_peer(c, res):
    env = dict(os.environ, PEERS_RESULTS=str(res), PEERS_ONLY=" ".join(c["ops"]), PEERS_WL=str(WL))
    # run_peers.sh times each op under /usr/bin/time and records it in res/<op>.json.
    subprocess.run([str(PEERS / "run_peers.sh")], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    recs = []
    for op in c["ops"]:
        f = res / f"{op}.json"
        if not f.exists():
            raise SystemExit(f"peer op {op} left no {f}")
        r = json.loads(f.read_text())
        if r.get("rc", 1) != 0:
            raise SystemExit(f"peer op {op} failed: {r.get('error_tail', '')[-500:]}")
        recs.append(r)
    info = [r.get("peer_info", {}) for r in recs]
    out = {"wall_s": sum(r["wall_seconds"] for r in recs),
           "peak_rss_mb": max(r.get("peak_rss_mb", 0) for r in recs)}
    comp = []
    for i in info:
        cs = i.get("compute_seconds")
        if isinstance(cs, dict):
            cs = sum(cs.values())
        if cs is not None:
            comp.append(cs)
    if comp and len(comp) == len(recs):
        out["compute_s"] = sum(comp)
    if c.get("bandwidth"):
        i = info[0]
        out["GBps"] = i.get("triad_GBps") or i.get("GBps", {}).get("add")
    return out


def run_ours(c, res, tmp, check=False):
    """Our commands, timed; with `check`, instead, once more with the peer's results directory
    given, so that our program compares its output with the peer's (not timed: the comparison
    is not the peer's work)."""
    wall, rss, lines = 0.0, 0.0, []
    for cmd in c["ours"]:
        if check and "{peer_results}" not in cmd:
            continue
        cmd = [a.replace("{tmp}", str(tmp)).replace("{peer_results}", str(res)) for a in cmd
               if check or a != "{peer_results}"]
        tf = tmp / "time.txt"
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(tf)] + cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"ours failed ({' '.join(cmd)}):\n{p.stderr[-2000:]}")
        # /usr/bin/time gives the peak RSS; its wall time has only two decimals.
        m = tf.read_text().split()[-1]
        wall += elapsed
        rss = max(rss, int(m) / 1024)
        lines += [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    out = {"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1), "printed": lines}
    if "compute" in c:
        out["compute_s"] = c["compute"](lines)
    if c.get("bandwidth") and not check:
        out["GBps"] = lines[0]["triad_GBps"]
    return out


def span(xs, fmt="{:.2f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    lo, hi = min(xs), max(xs)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def main():
    comps = [c for c in COMPARISONS if not ONLY or c["key"] in ONLY]
    if not comps:
        raise SystemExit(f"BENCH_ONLY={ONLY} names none of: {' '.join(c['key'] for c in COMPARISONS)}")
    # Both sides read the workload from a warm page cache: it is read once before timing
    # (peer and ours read different copies of it: CDO its per-member files, ours the cubes).
    for f in sorted(WL.rglob("*.nc")):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    work = Path(tempfile.mkdtemp(prefix="s2s-bench-"))
    rows = []
    try:
        for c in comps:
            rounds = []
            for r in range(ROUNDS):
                res = work / f"{c['key']}-{r}"
                tmp = work / f"{c['key']}-{r}-ours"
                res.mkdir()
                tmp.mkdir()
                # Alternate who goes first.
                if r % 2 == 0:
                    peer = run_peer(c, res)
                    ours = run_ours(c, res, tmp)
                else:
                    ours = run_ours(c, res, tmp)
                    peer = run_peer(c, res)
                rnd = {"round": r + 1, "peer": peer, "ours": ours}
                if r == 0:
                    rnd["check"] = run_ours(c, res, tmp, check=True)["printed"]
                if c.get("bandwidth"):
                    rnd["ratio_bandwidth"] = ours["GBps"] / peer["GBps"]
                else:
                    rnd["ratio_wall"] = peer["wall_s"] / ours["wall_s"]
                    if "compute_s" in peer and "compute_s" in ours and ours["compute_s"] > 0:
                        rnd["ratio_compute"] = peer["compute_s"] / ours["compute_s"]
                rounds.append(rnd)
                shutil.rmtree(tmp, ignore_errors=True)
                print(f"{c['key']:20s} round {r + 1}: " + (
                    f"peer {peer['GBps']:.1f} GB/s, ours {ours['GBps']:.1f} GB/s" if c.get("bandwidth") else
                    f"peer {peer['wall_s']:.2f} s, ours {ours['wall_s']:.2f} s, ×{rnd['ratio_wall']:.1f}"),
                    flush=True)
            rows.append({k: v for k, v in c.items() if k not in ("ours", "compute")} | {
                "ours_commands": [" ".join(x) for x in c["ours"]], "rounds": rounds})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(rows)


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def write(rows):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {cpu}, {platform.machine()}",
        "s2s": version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
        "cdo": version(["cdo", "--version"]) if shutil.which("cdo") else "?",
        "workload": str(WL), "rounds": ROUNDS,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({"meta": meta, "comparisons": rows}, indent=1) + "\n")
    md = [
        "# Same-run comparisons with the peers",
        "",
        f"`./scripts/bench.sh` on {meta['date']}: {meta['machine']}; s2s {meta['s2s']}; {meta['cdo']}; "
        f"the peers' workload (3 models × 10 members × 24 years × 6 leads, 2° global, pr and tas); "
        f"{ROUNDS} rounds, peer and ours alternated. A ratio is peer ÷ ours within one round "
        "(for bandwidth rows ours ÷ peer); each cell shows the smallest and largest over the rounds. "
        "Whole = whole processes (start, read, compute, write); compute = the kernels only, as the peer "
        "reports its `compute_seconds`. Every measurement is in `results.json`.",
        "",
        "| work | peer | peer whole s | ours whole s | whole ratio | peer compute s | ours compute s | compute ratio | peak RSS MB peer / ours | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rs = r["rounds"]
        p = [x["peer"] for x in rs]
        o = [x["ours"] for x in rs]
        note = f" ({r['note']})" if r.get("note") else ""
        tgt = "—"
        if r.get("target"):
            kind, val = r["target"]
            got = [x.get(f"ratio_{kind}") for x in rs]
            ok = all(g is not None and g >= val for g in got)
            tgt = f"{kind} ≥ {val}×: {'met' if ok else 'not met'}"
        if r.get("bandwidth"):
            md.append(f"| {r['work']}{note} | {r['peer']} | {span([x['GBps'] for x in p], '{:.1f}')} GB/s | "
                      f"{span([x['GBps'] for x in o], '{:.1f}')} GB/s | "
                      f"{span([x['ratio_bandwidth'] for x in rs])}× | — | — | — | "
                      f"{span([x['peak_rss_mb'] for x in p], '{:.0f}')} / {span([x['peak_rss_mb'] for x in o], '{:.0f}')} | {tgt} |")
            continue
        md.append(
            f"| {r['work']}{note} | {r['peer']} | {span([x['wall_s'] for x in p])} | {span([x['wall_s'] for x in o])} | "
            f"**{span([x['ratio_wall'] for x in rs], '{:.1f}')}×** | {span([x.get('compute_s') for x in p])} | "
            f"{span([x.get('compute_s') for x in o], '{:.3f}')} | "
            f"{span([x.get('ratio_compute') for x in rs], '{:.1f}')}{'×' if rs[0].get('ratio_compute') else ''} | "
            f"{span([x['peak_rss_mb'] for x in p], '{:.0f}')} / {span([x['peak_rss_mb'] for x in o], '{:.0f}')} | {tgt} |")
    checks = []
    for r in rows:
        for x in r["rounds"][:1]:
            for line in x.get("check", []):
                for k, v in line.items():
                    if k.startswith("max_abs_diff"):
                        checks.append(f"- {r['key']}{' ' + line['var'] if 'var' in line else ''}: {k} = {json.dumps(v)}")
    if checks:
        md += ["", "Largest absolute differences from the peer's output in the same run (first round):", ""] + checks
    text = "\n".join(md) + "\n"
    (OUT / "results.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    sys.exit(main())
