#!/usr/bin/env bash
# Regenerates the CDO reference files for tests/it/regrid.rs. Needs only CDO (Debian `cdo`,
# 2.1.1 when these were made). Run from this folder: ./make.sh
set -euo pipefail
cat > grid_src_2deg.txt <<'G'
gridtype = lonlat
xsize = 180
ysize = 90
xfirst = 1
xinc = 2
yfirst = -89
yinc = 2
G
cat > grid_1p5.txt <<'G'
gridtype = lonlat
xsize = 240
ysize = 120
xfirst = 0.75
xinc = 1.5
yfirst = -89.25
yinc = 1.5
G
cat > grid_asia_1p5.txt <<'G'
gridtype = lonlat
xsize = 74
ysize = 46
xfirst = 40.75
xinc = 1.5
yfirst = -14.25
yinc = 1.5
G
cat > grid_region_1deg.txt <<'G'
gridtype = lonlat
xsize = 51
ysize = 50
xfirst = 57.5
xinc = 1
yfirst = -8.5
yinc = 1
G
# Smooth test fields of SCRIP/Jones (1999): Y2_2-like and a wave-16 field, in K-like values.
F='x=2+cos(rad(clat(topo)))^2*cos(2*rad(clon(topo)));y=2+sin(2*rad(clat(topo)))^16*cos(16*rad(clon(topo)))'
cdo -s -O -f nc4 -expr,"$F" -topo,grid_src_2deg.txt src_2deg.nc
# The same with an irregular mask: values of x in 2.6..2.9 missing (about 10 % of the cells).
cdo -s -O -f nc4 -setrtomiss,2.6,2.9 src_2deg.nc src_2deg_masked.nc
# A regional 1-degree source (the NMME South Asia box).
cdo -s -O -f nc4 -expr,"$F" -topo,grid_region_1deg.txt src_region.nc
for m in remapbil remapcon; do
    cdo -s -O $m,grid_1p5.txt src_2deg.nc ${m}_global.nc
    cdo -s -O $m,grid_1p5.txt src_2deg_masked.nc ${m}_masked.nc
    cdo -s -O $m,grid_asia_1p5.txt src_2deg.nc ${m}_asia.nc
    cdo -s -O $m,grid_asia_1p5.txt src_region.nc ${m}_region.nc
done
