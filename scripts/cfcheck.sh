#!/usr/bin/env bash
# CF compliance of NetCDF files with the NCAS CF checker (cfchecker, from PyPI), offline: the
# checker is given the reduced CF tables in tests/cf/ (made by scripts/make_cf_tables.py) instead
# of downloading the full ones.
#   usage: scripts/cfcheck.sh FILE.nc [FILE2.nc ...]
#   prints one line per file (errors, warnings; the messages when there are errors); exits with
#   the number of files with errors (at most 125), 126 when the checker cannot be installed.
# First run: libudunits2 from apt, a venv with cfchecker at ${CF_VENV:-$HOME/.cache/s2s-cf-venv}.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TABLES="$ROOT/tests/cf"
VENV="${CF_VENV:-$HOME/.cache/s2s-cf-venv}"
missing=""
for pkg in libudunits2-0 python3-venv; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x "$VENV/bin/cfchecks" ]; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q cfchecker >/dev/null \
        || { echo "cannot install cfchecker into $VENV" >&2; exit 126; }
fi
bad=0
for f in "$@"; do
    out=$("$VENV/bin/cfchecks" -v auto -s "$TABLES/cf-standard-name-table.xml" \
        -a "$TABLES/area-type-table.xml" -r "$TABLES/standardized-region-list.xml" "$f" 2>&1); rc=$?
    errs=$(printf '%s\n' "$out" | sed -n 's/^ERRORS detected: *\([0-9]*\).*/\1/p' | tail -1)
    warns=$(printf '%s\n' "$out" | sed -n 's/^WARNINGS given: *\([0-9]*\).*/\1/p' | tail -1)
    if [ -z "$errs" ]; then
        echo "$f: cfchecks did not finish (rc $rc): $(printf '%s\n' "$out" | tail -1)"; bad=$((bad + 1))
    else
        echo "$f: $errs errors, ${warns:-0} warnings"
        if [ "$errs" -gt 0 ]; then
            printf '%s\n' "$out" | grep -E '^(ERROR|WARN)' | sed 's/^/    /'; bad=$((bad + 1))
        fi
    fi
done
exit $(( bad > 125 ? 125 : bad ))
