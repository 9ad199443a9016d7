#!/usr/bin/env python3
"""Writes the reduced CF tables under tests/cf/ that scripts/cfcheck.sh gives the CF checker
offline: the standard names s2s writes or reads (every table entry whose name occurs in src/),
each with its canonical units only, and the ids of the area-type and standardized-region tables.

usage: scripts/make_cf_tables.py [DIR_WITH_FULL_TABLES]   (default ../shared/tools/cf)
The full tables are the CF conventions' own (standard names v83, area types v13, regions v5).
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

root = pathlib.Path(__file__).resolve().parent.parent
full = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else root.parent / "shared/tools/cf")
out = root / "tests/cf"
out.mkdir(parents=True, exist_ok=True)
source = "\n".join(p.read_text(errors="replace") for p in (root / "src").rglob("*.rs"))
words = set(re.findall(r"[a-z][a-z0-9_]+", source))


def header(tag, tree):
    """The table's element with the header fields the checker reads."""
    lines = [f'<?xml version="1.0"?>\n<{tag}>\n']
    for field in ["title", "version_number", "last_modified", "date", "institution", "contact"]:
        value = tree.findtext(field)
        if value is not None:
            lines.append(f"  <{field}>{value}</{field}>\n")
    return "".join(lines)


names = ET.parse(full / "cf-standard-name-table.xml").getroot()
lines = [header("standard_name_table", names)]
kept = set()
for e in names.findall("entry"):
    if e.get("id") in words:
        kept.add(e.get("id"))
        units = e.findtext("canonical_units") or ""
        lines.append(f'  <entry id="{e.get("id")}"><canonical_units>{units}</canonical_units></entry>\n')
for a in names.findall("alias"):
    if a.get("id") in words and a.findtext("entry_id") in kept:
        lines.append(f'  <alias id="{a.get("id")}"><entry_id>{a.findtext("entry_id")}</entry_id></alias>\n')
lines.append("</standard_name_table>\n")
(out / "cf-standard-name-table.xml").write_text("".join(lines))

for fname, tag in [("area-type-table.xml", "area_type_table"),
                   ("standardized-region-list.xml", "standardized_region_list")]:
    t = ET.parse(full / fname).getroot()
    body = "".join(f'  <entry id="{e.get("id")}"></entry>\n' for e in t.findall("entry"))
    (out / fname).write_text(header(tag, t) + body + f"</{tag}>\n")
print(f"{len(kept)} standard names written to {out}")
