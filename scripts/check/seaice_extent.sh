#!/usr/bin/env bash
# Independent Northern/Southern Hemisphere extent of the bundled CanESM5 concentration file:
# ncdump's text and plain Python (no s2s code), cells with siconc >= 15 % times areacello.
# The values in tests/it/seaice.rs come from this script.
set -euo pipefail
F="${1:-$(dirname "$0")/../../data/real/seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for v in siconc areacello latitude; do
    ncdump -v "$v" -p 9,17 "$F" | sed -n "/^ $v =/,/;/p" | sed "s/^ $v =//; s/;//" | tr ',' '\n' | tr -d ' ' | grep -v '^$' > "$tmp/$v.txt"
done
python3 - "$tmp" <<'PY'
import math, sys
d = sys.argv[1]
def load(n):
    out = []
    for t in open(f"{d}/{n}.txt").read().split():
        try:
            out.append(float(t))
        except ValueError:
            out.append(float("nan"))  # ncdump's "_" for a fill value
    return out
c, a, la = load("siconc"), load("areacello"), load("latitude")
n = len(a)
print("month,north_extent,north_area,south_extent")
for t in range(len(c) // n):
    en = ar = es = 0.0
    for k in range(n):
        v, A = c[t * n + k], a[k]
        if math.isnan(v) or math.isnan(A) or A > 1e19 or v < 15:
            continue
        if la[k] >= 0:
            en += A
            ar += A * min(v, 100) / 100
        else:
            es += A
    print(f"{t + 1},{en / 1e12:.4f},{ar / 1e12:.4f},{es / 1e12:.4f}")
PY
