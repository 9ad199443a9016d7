#!/usr/bin/env bash
# GRIB reading side by side with the peers on the same file in one run, alternated, two rounds:
#   s2s inspect     decode every message with ecCodes, group, NetCDF copy, read into the Cube,
#                   value statistics
#   cdo copy        decode + re-encode GRIB2 (CDO's ecCodes path)
#   cdo -f nc4 copy decode + write NetCDF-4 (what a user converting by hand runs)
#   grib_copy       copy the messages without decoding their values (ecCodes; the I/O floor)
# The file: 306 GRIB2 fields of a 1-degree global grid (360 x 181), 16-bit simple packing —
# 20 M values, 40 MB — as a 6-hourly series (CDO cannot group ensemble members), made here
# with CDO and grib_filter. Prints each run, then min/max per tool and the same-round ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --quiet
S2S=target/release/s2s
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cdo -s -f grb2 -b P16 -setparam,0.0.0 -addc,273 -mulc,30 -random,r360x181,7 "$TMP/one.grb2" 2>/dev/null
for _ in $(seq 306); do cat "$TMP/one.grb2"; done > "$TMP/rep.grb2"
python3 - "$TMP/series.rules" <<'PY'
import datetime, sys
lines = []
for k in range(306):
    t = datetime.datetime(2000, 1, 1) + datetime.timedelta(hours=6 * k)
    lines.append(f"if (count == {k + 1}) {{ set dataDate = {t:%Y%m%d}; set dataTime = {t:%H}00; }}")
lines.append("write;")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
grib_filter -o "$TMP/series.grb2" "$TMP/series.rules" "$TMP/rep.grb2"
F=$TMP/series.grb2
echo "file: $(du -m "$F" | cut -f1) MB, $(grib_count "$F") messages"
one() { # label command...: prints "label seconds"
    local label=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    printf '%s %.3f\n' "$label" "$(echo "$t1 - $t0" | bc -l)"
}
RUNS=$TMP/runs.txt
for round in 1 2; do
    {
        one s2s_inspect "$S2S" inspect "$F"
        one cdo_copy cdo -s -O copy "$F" "$TMP/out.grb2"
        one cdo_nc4_copy cdo -s -O -f nc4 copy "$F" "$TMP/out.nc"
        one grib_copy grib_copy "$F" "$TMP/out2.grb2"
    } | sed "s/^/$round /" | tee -a "$RUNS"
done
python3 - "$RUNS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
t = {}
for r, label, s in rows:
    t.setdefault(label, {})[r] = float(s)
for label, v in t.items():
    print(f"{label:14s} min {min(v.values()):.3f} s  max {max(v.values()):.3f} s")
for peer in ["cdo_copy", "cdo_nc4_copy", "grib_copy"]:
    ratios = [t["s2s_inspect"][r] / t[peer][r] for r in t[peer]]
    print(f"s2s / {peer:13s} {min(ratios):.2f} .. {max(ratios):.2f} (same round)")
PY
