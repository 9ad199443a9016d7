#!/usr/bin/env bash
# s2s against TempestExtremes on the same pressure + vorticity files, in one run: the
# DetectNodes/StitchNodes settings of data/real/cyclones/SOURCE.md and `s2s cyclones track`
# with the same criteria, alternated for ROUNDS rounds; prints wall time and peak memory of
# each and checks that the StitchNodes texts are identical.
#   usage: scripts/check/cyclones_te.sh TE_BIN_DIR MSL.nc VO.nc [ROUNDS]
# (the latitude and longitude variables are found by name: lat/latitude, lon/longitude)
# TE_BIN_DIR holds DetectNodes and StitchNodes, built from TempestExtremes' source by you
# (cmake -DCMAKE_BUILD_TYPE=Release -DENABLE_MPI=OFF); nothing here builds it. The files may
# be the bundled January (data/real/cyclones), the shared DJF season, or a 1° remap of it
# (cdo remapbil,r360x181).
set -euo pipefail
TE=$1; MSL=$2; VO=$3; ROUNDS=${4:-2}
LATNAME=lat; LONNAME=lon
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
ncdump -h "$MSL" > "$W/header"
if grep -q "double latitude(\|float latitude(" "$W/header"; then LATNAME=latitude; LONNAME=longitude; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
S2S="${CARGO_TARGET_DIR:-$ROOT/target}/release/s2s"
measure() { # label, command...: prints "label seconds peak_kB"
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$W/t" "$@" > "$W/log" 2>&1 || { cat "$W/log"; exit 1; }
    echo "$label $(cat "$W/t")"
}
for r in $(seq 1 "$ROUNDS"); do
    measure "te_detectnodes" "$TE/DetectNodes" --in_data "$MSL;$VO" --out "$W/te_nodes.txt" \
        --searchbymin msl --closedcontourcmd "msl,200.0,5.5,0" --mergedist 6.0 \
        --thresholdcmd "_PROD(vo(0),_SIGN(_LAT())),>=,5e-5,2.5" --minlat -40 --maxlat 40 \
        --outputcmd "msl,min,0;_PROD(vo(0),_SIGN(_LAT())),max,2.5" \
        --latname "$LATNAME" --lonname "$LONNAME"
    measure "te_stitchnodes" "$TE/StitchNodes" --in "$W/te_nodes.txt" --out "$W/te_tracks.txt" \
        --in_fmt "lon,lat,msl,vo" --range 8.0 --mintime 54h --maxgap 24h \
        --threshold "lat,|<=,50.0,10;lat,|<=,40.0,first"
    measure "s2s_track" "$S2S" -O -q cyclones track --vorticity vo --min-lat -40 --max-lat 40 \
        "$MSL;$VO" --stitchnodes "$W/s2s_tracks.txt" --out "$W/s2s_tracks.csv"
done
if cmp -s "$W/te_tracks.txt" "$W/s2s_tracks.txt"; then
    echo "tracks identical ($(grep -c '^start' "$W/te_tracks.txt") tracks)"
else
    echo "tracks DIFFER"; exit 1
fi
