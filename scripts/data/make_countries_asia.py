#!/usr/bin/env python3
"""Makes data/regions/countries_asia_50m.geojson.gz, the finer country outlines bundled for
Central, South and Southeast Asia (read by src/grid/countries.rs; see data/regions/SOURCE.md).

Input: ne_50m_admin_0_countries.json (Natural Earth 1:50m admin-0 countries, v4.0, public
domain; GeoJSON conversion in the martynafford/natural-earth-geojson repository,
50m/cultural/ne_50m_admin_0_countries.7z). Output: the countries of the continent "Asia" plus
the Indian Ocean islands (Maldives, British Indian Ocean Territory), properties name, iso_a3
(ADM0_A3 where ISO_A3 is -99), continent; coordinates rounded to 1e-4 degrees (11 m, far
below the 1:50m line accuracy). Usage: make_countries_asia.py INPUT.json OUTPUT.geojson.gz
"""
import gzip
import json
import sys

EXTRA = {"Maldives", "Br. Indian Ocean Ter."}


def rounded(c):
    if isinstance(c[0], (int, float)):
        return [round(c[0], 4), round(c[1], 4)]
    return [rounded(x) for x in c]


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    out = []
    for f in data["features"]:
        p = f["properties"]
        if p["CONTINENT"] != "Asia" and p["NAME"] not in EXTRA:
            continue
        iso = p["ISO_A3"] if p["ISO_A3"] != "-99" else p["ADM0_A3"]
        g = f["geometry"]
        out.append({
            "type": "Feature",
            "properties": {"name": p["NAME"], "iso_a3": iso, "continent": p["CONTINENT"]},
            "geometry": {"type": g["type"], "coordinates": rounded(g["coordinates"])},
        })
    out.sort(key=lambda f: f["properties"]["name"])
    text = json.dumps({"type": "FeatureCollection", "features": out}, separators=(",", ":"))
    with gzip.GzipFile(dst, "wb", mtime=0) as z:
        z.write(text.encode("utf-8"))
    print(f"{dst}: {len(out)} countries, {len(text)} bytes of JSON")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
