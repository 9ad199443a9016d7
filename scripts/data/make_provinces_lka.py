#!/usr/bin/env python3
"""Makes data/regions/provinces_lka.geojson.gz, the nine provinces of Sri Lanka bundled for the
bulletin's province table (`provinces` in an outlook configuration; see data/regions/SOURCE.md).

Input: provinces.geojson of the "smallest" simplification in the nuuuwan/lk_admin_regions
repository (data/geo/geojson/smallest/provinces.geojson, MIT), itself made from the Survey
Department of Sri Lanka's administrative boundaries (COD-AB v03, 2022-08-16, published by OCHA
on the Humanitarian Data Exchange, CC BY-IGO). Output: properties name (English), iso_3166_2
(LK-1 ... LK-9 from the P-code LK1 ... LK9), country; coordinates rounded to 1e-4 degrees.
Usage: make_provinces_lka.py INPUT.geojson OUTPUT.geojson.gz
"""
import gzip
import json
import sys

from make_countries_asia import rounded  # coordinates to 1e-4 degrees


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    out = []
    for f in sorted(data["features"], key=lambda f: f["properties"]["adm1_pcode"]):
        p = f["properties"]
        code = "LK-" + p["adm1_pcode"][2:]
        g = f["geometry"]
        out.append({
            "type": "Feature",
            "properties": {"name": p["adm1_name"], "iso_3166_2": code, "country": p["adm0_name"]},
            "geometry": {"type": g["type"], "coordinates": rounded(g["coordinates"])},
        })
    text = json.dumps({"type": "FeatureCollection", "features": out}, separators=(",", ":"))
    with gzip.GzipFile(dst, "wb", mtime=0) as z:
        z.write(text.encode("utf-8"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
