//! Sea-ice files: concentration fields with their cell areas, the NSIDC Sea Ice Index CSV
//! files (monthly `N_MM_extent_v3.0.csv`, daily `N_seaice_extent_daily_v3.0.csv`), and the
//! extent table `time,hemisphere,extent,area[,member,init]` that `s2s seaice extent` writes.
//!
//! Cell areas, in this order: the variable named by the concentration's `cell_measures`
//! (`area: areacello`, CF 7.2) in the same file or in `cell_area_file`; the spherical area of
//! the cell vertices named by the latitude's and longitude's `bounds` (CMIP
//! `vertices_latitude/longitude`); the areas of a regular lat/lon grid. Units m² or km².

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::read::{choose_variable, file_meta, open, read_coord_2d, read_cube, ReadOptions};
use crate::cube::{Cube, Spatial};
use crate::error::{Error, Result};
use crate::seaice::{polygon_area_km2, ConcentrationScale};

/// A concentration variable with what extent needs.
#[derive(Debug, Clone)]
pub struct ConcentrationField {
    /// The values as read, in the file's units (`(init, member, lead, y, x)`).
    pub cube: Cube,
    /// Percent or fraction.
    pub scale: ConcentrationScale,
    /// Area of each cell, km², `(y, x)`.
    pub cell_area_km2: Array2<f64>,
    /// Where the areas came from (for the output's attributes).
    pub cell_area_source: String,
    /// Centre latitude of each cell, `(y, x)`.
    pub lat: Array2<f64>,
}

fn input_error(path: &Path, reason: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        reason,
    }
}

/// Reads a sea-ice concentration variable (`variable`, else the file's only data variable)
/// and its cell areas.
pub fn read_concentration(
    path: &Path,
    variable: Option<&str>,
    cell_area_file: Option<&Path>,
) -> Result<ConcentrationField> {
    let cube = read_cube(
        path,
        &ReadOptions {
            variable: variable.map(str::to_string),
            keep_units: true,
            ..Default::default()
        },
    )?;
    let largest = cube
        .values
        .iter()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, |a, &b| a.max(f64::from(b)));
    // units that say something else (mm/day, K) are not a concentration whatever the values;
    // only a file without units has its scale guessed from them
    let units = cube.meta.units.trim();
    let scale = match ConcentrationScale::from_units(units) {
        Some(s) => s,
        None if units.is_empty() => ConcentrationScale::from_largest(largest),
        None => {
            return Err(Error::Data {
                path: path.to_path_buf(),
                variable: cube.meta.variable.clone(),
                reason: format!(
                    "units '{units}' are not those of a sea-ice concentration (% or 1); give the concentration variable with --var"
                ),
            })
        }
    };
    let top = match scale {
        ConcentrationScale::Percent => 100.0,
        ConcentrationScale::Fraction => 1.0,
    };
    if largest > top * 1.05 {
        return Err(Error::Data {
            path: path.to_path_buf(),
            variable: cube.meta.variable.clone(),
            reason: format!(
                "values up to {largest:.3} in units '{}': not a sea-ice concentration (0–{top}); give the concentration variable with --var",
                cube.meta.units
            ),
        });
    }
    let (ny, nx) = cube.coords.spatial.shape();
    let lat = match &cube.coords.spatial {
        Spatial::Grid { lat, .. } => Array2::from_shape_fn((ny, nx), |(y, _)| lat[y]),
        Spatial::Curvilinear { lat, .. } => lat.clone(),
        Spatial::Points { .. } => {
            return Err(input_error(
                path,
                "a list of points: sea-ice extent needs a grid with cell areas".into(),
            ))
        }
    };
    let (cell_area_km2, cell_area_source) = cell_areas(path, &cube, cell_area_file)?;
    if cell_area_km2.dim() != (ny, nx) {
        return Err(input_error(
            path,
            format!(
                "cell areas of shape {:?} ({cell_area_source}) do not match the grid {ny} x {nx}",
                cell_area_km2.dim()
            ),
        ));
    }
    Ok(ConcentrationField {
        cube,
        scale,
        cell_area_km2,
        cell_area_source,
        lat,
    })
}

/// Factor from an area unit to km².
fn km2_per(units: &str) -> Option<f64> {
    match units.trim() {
        "m2" | "m^2" | "m**2" | "m 2" | "square meters" | "square metres" => Some(1e-6),
        "km2" | "km^2" | "km**2" | "km 2" => Some(1.0),
        _ => None,
    }
}

/// The cell-area variable `name` of the file at `from` in km², and where it came from; units
/// `default_units` when it has none (`""`: none is an error).
fn area_variable_km2(
    from: &Path,
    name: &str,
    default_units: &str,
    concentration: &str,
) -> Result<(Array2<f64>, String)> {
    let f = open(from)?;
    let m = file_meta(from, &f);
    let av = m.vars.get(name).ok_or_else(|| {
        input_error(
            from,
            format!("has no variable '{name}' (the cell areas named by '{concentration}')"),
        )
    })?;
    let units = av.text("units").unwrap_or(default_units).to_string();
    let factor = km2_per(&units).ok_or_else(|| {
        input_error(
            from,
            format!("cell areas '{name}' have units '{units}'; expected m2 or km2"),
        )
    })?;
    Ok((
        read_coord_2d(from, &f, &m, name)?.mapv(|a| a * factor),
        format!("{name} ({})", from.display()),
    ))
}

fn cell_areas(path: &Path, cube: &Cube, extra: Option<&Path>) -> Result<(Array2<f64>, String)> {
    let file = open(path)?;
    let meta = file_meta(path, &file);
    let vm = choose_variable(path, &meta, Some(&cube.meta.variable))?.clone();
    // 1. cell_measures = "area: NAME"
    if let Some(name) = vm.text("cell_measures").and_then(|m| {
        let rest = m.split("area:").nth(1)?;
        rest.split_whitespace().next().map(str::to_string)
    }) {
        let from: PathBuf = if meta.vars.contains_key(&name) {
            path.to_path_buf()
        } else if let Some(p) = extra {
            p.to_path_buf()
        } else {
            return Err(input_error(
                path,
                format!("variable '{}' names its cell areas '{name}' (cell_measures), which are not in this file: give the file that holds them with --cell-area (CMIP publishes areacello in its own fx file)", vm.name),
            ));
        };
        return area_variable_km2(&from, &name, "", &vm.name);
    }
    if let Some(p) = extra {
        let f = open(p)?;
        let m = file_meta(p, &f);
        let name = ["areacello", "areacella", "cell_area", "area", "tarea"]
            .into_iter()
            .find(|n| m.vars.contains_key(*n))
            .ok_or_else(|| {
                input_error(
                    p,
                    "has no areacello, areacella, cell_area, area or tarea variable".into(),
                )
            })?;
        return area_variable_km2(p, name, "m2", &vm.name);
    }
    // 2. vertices named by the coordinates' bounds
    if let Spatial::Curvilinear { lat, .. } = &cube.coords.spatial {
        let bounds_of = |std: &str| {
            meta.vars
                .values()
                .filter(|v| v.shape.len() == 2 && v.text("standard_name") == Some(std))
                .find_map(|v| v.text("bounds").map(str::to_string))
        };
        if let (Some(bl), Some(bo)) = (bounds_of("latitude"), bounds_of("longitude")) {
            let read3 = |name: &str| -> Result<(Vec<f64>, Vec<usize>)> {
                let v = file
                    .variable(name)
                    .ok_or_else(|| input_error(path, format!("has no bounds variable '{name}'")))?;
                let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
                let values = v
                    .get_values::<f64, _>(..)
                    .map_err(|e| super::read::netcdf_err(path, &format!("reading '{name}'"), e))?;
                Ok((values, shape))
            };
            let ((la, sl), (lo, so)) = (read3(&bl)?, read3(&bo)?);
            let (ny, nx) = lat.dim();
            if sl.len() == 3 && sl == so && sl[0] == ny && sl[1] == nx {
                let nv = sl[2];
                let fill = |v: f64| if v.abs() > 1e19 { f64::NAN } else { v };
                let areas = Array2::from_shape_fn((ny, nx), |(y, x)| {
                    let k = (y * nx + x) * nv;
                    let lats: Vec<f64> = la[k..k + nv].iter().map(|&v| fill(v)).collect();
                    let lons: Vec<f64> = lo[k..k + nv].iter().map(|&v| fill(v)).collect();
                    polygon_area_km2(&lats, &lons)
                });
                return Ok((
                    areas,
                    format!("spherical areas of the cell vertices {bl}/{bo}"),
                ));
            }
        }
        return Err(input_error(
            path,
            format!("variable '{}' is on a curvilinear grid with neither cell_measures nor cell vertices: give the cell areas (areacello) with --cell-area", vm.name),
        ));
    }
    // 3. a regular grid
    let (ny, nx) = cube.coords.spatial.shape();
    let areas = crate::bulletin::cell_areas_km2(&cube.coords.spatial).ok_or_else(|| {
        input_error(
            path,
            "cannot compute cell areas of a grid of one row or column: give them with --cell-area"
                .into(),
        )
    })?;
    Ok((
        Array2::from_shape_vec((ny, nx), areas).expect("one area per cell"),
        "areas of the regular lat/lon grid".into(),
    ))
}

/// An observed extent of one month (or day).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservedExtent {
    /// Year.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Extent, 10⁶ km².
    pub extent: f64,
    /// Area, 10⁶ km², when the file gives it.
    pub area: Option<f64>,
}

/// Fewest daily values a month needs for its mean extent (the daily file has a value every
/// other day before August 1987: about 15 a month).
pub const MIN_DAYS_FOR_MONTHLY_MEAN: usize = 10;

fn number(field: &str) -> Option<f64> {
    let v: f64 = field.trim().parse().ok()?;
    (v.is_finite() && v > -9000.0).then_some(v)
}

/// Reads NSIDC Sea Ice Index text: a monthly file (`year, mo, data-type, region, extent,
/// area`, −9999 missing), the daily file (`Year, Month, Day, Extent, Missing, Source Data`
/// with a units line; months averaged from their days), or s2s's own extent table. One
/// hemisphere: `N`/`S` rows of s2s's table are filtered by `hemisphere` (`north`/`south`).
pub fn read_observed_extents(path: &Path, hemisphere: &str) -> Result<Vec<ObservedExtent>> {
    let text = read_text(path)?;
    let (header, lines) = csv_header(&text);
    let col = |name: &str| header.iter().position(|h| h == name);
    let bad = |n: usize, what: &str| input_error(path, format!("line {n}: {what}"));
    let mut out = Vec::new();
    if let (Some(y), Some(m), Some(e)) = (col("year"), col("mo"), col("extent")) {
        let a = col("area");
        for (n, l) in lines.enumerate() {
            let f: Vec<&str> = l.split(',').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            let year = get(y)
                .trim()
                .parse()
                .map_err(|_| bad(n + 2, "year is not a number"))?;
            let month = get(m)
                .trim()
                .parse()
                .map_err(|_| bad(n + 2, "month is not a number"))?;
            if let Some(extent) = number(get(e)) {
                out.push(ObservedExtent {
                    year,
                    month,
                    extent,
                    area: a.and_then(|a| number(get(a))),
                });
            }
        }
    } else if let (Some(y), Some(m), Some(_d), Some(e)) =
        (col("year"), col("month"), col("day"), col("extent"))
    {
        let mut days: BTreeMap<(i32, u32), Vec<f64>> = BTreeMap::new();
        for (n, l) in lines.enumerate() {
            let f: Vec<&str> = l.split(',').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            let Ok(year) = get(y).trim().parse::<i32>() else {
                if n == 0 {
                    continue; // the units line: YYYY, MM, DD, 10^6 sq km
                }
                return Err(bad(n + 2, "year is not a number"));
            };
            let month = get(m)
                .trim()
                .parse()
                .map_err(|_| bad(n + 2, "month is not a number"))?;
            if let Some(v) = number(get(e)) {
                days.entry((year, month)).or_default().push(v);
            }
        }
        for ((year, month), v) in days {
            if v.len() >= MIN_DAYS_FOR_MONTHLY_MEAN {
                out.push(ObservedExtent {
                    year,
                    month,
                    extent: v.iter().sum::<f64>() / v.len() as f64,
                    area: None,
                });
            }
        }
    } else if let (Some(_), Some(_), Some(_)) = (col("time"), col("hemisphere"), col("extent")) {
        let want = if hemisphere.starts_with('s') {
            "south"
        } else {
            "north"
        };
        for r in read_extent_rows(path, &text)? {
            if r.hemisphere == want {
                out.push(ObservedExtent {
                    year: r.year,
                    month: r.month,
                    extent: r.extent,
                    area: Some(r.area),
                });
            }
        }
    } else {
        return Err(input_error(path, format!("columns {header:?} are neither an NSIDC Sea Ice Index file (year, mo, …, extent, area or Year, Month, Day, Extent) nor an s2s extent table (time,hemisphere,extent,area)")));
    }
    if out.is_empty() {
        return Err(input_error(path, "has no extent value".into()));
    }
    Ok(out)
}

/// One row of an s2s extent table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtentRow {
    /// `YYYY-MM-DD…` of the value.
    pub time: String,
    /// Its year.
    pub year: i32,
    /// Its month.
    pub month: u32,
    /// `north` or `south`.
    pub hemisphere: String,
    /// 10⁶ km².
    pub extent: f64,
    /// 10⁶ km².
    pub area: f64,
    /// Member label, when the table has members.
    pub member: Option<i32>,
    /// Start date, when the values are forecasts.
    pub init: Option<String>,
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The trimmed, lower-case column names of a CSV text's first non-empty line, and its other
/// non-empty lines.
fn csv_header(text: &str) -> (Vec<String>, impl Iterator<Item = &str>) {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    (header, lines)
}

/// The rows of an s2s extent table's text.
fn read_extent_rows(path: &Path, text: &str) -> Result<Vec<ExtentRow>> {
    let (header, lines) = csv_header(text);
    let col = |name: &str| header.iter().position(|c| c == name);
    let (Some(t), Some(h), Some(e)) = (col("time"), col("hemisphere"), col("extent")) else {
        return Err(input_error(path, format!("columns {header:?}: an extent table needs time,hemisphere,extent,area (as `s2s seaice extent` writes it)")));
    };
    let (a, member, init) = (col("area"), col("member"), col("init"));
    let mut out = Vec::new();
    for (n, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let time = get(t).to_string();
        let (date, _) = crate::calendar::CfDateTime::parse_with_offset(&time).map_err(|_| {
            input_error(path, format!("line {}: time '{time}' is not a date", n + 2))
        })?;
        out.push(ExtentRow {
            year: date.year,
            month: date.month,
            hemisphere: get(h).to_string(),
            extent: number(get(e)).unwrap_or(f64::NAN),
            area: a.and_then(|a| number(get(a))).unwrap_or(f64::NAN),
            member: member.and_then(|m| get(m).parse().ok()),
            init: init.map(|i| get(i).to_string()).filter(|s| !s.is_empty()),
            time,
        });
    }
    Ok(out)
}

/// Reads an s2s extent table (`time,hemisphere,extent,area[,member,init]`).
pub fn read_extent_table(path: &Path) -> Result<Vec<ExtentRow>> {
    read_extent_rows(path, &read_text(path)?)
}

/// The extent table as CSV: `time,hemisphere,extent,area`, then `member` and `init` when any
/// row has them; values with 4 decimals (10⁶ km², i.e. 100 km²).
pub fn extent_table_csv(rows: &[ExtentRow]) -> String {
    let members = rows.iter().any(|r| r.member.is_some());
    let inits = rows.iter().any(|r| r.init.is_some());
    let mut s = String::from("time,hemisphere,extent,area");
    if members || inits {
        s.push_str(",member");
    }
    if inits {
        s.push_str(",init");
    }
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "{},{},{:.4},{:.4}",
            r.time, r.hemisphere, r.extent, r.area
        ));
        if members || inits {
            s.push_str(&format!(
                ",{}",
                r.member.map_or(String::new(), |m| m.to_string())
            ));
        }
        if inits {
            s.push_str(&format!(",{}", r.init.as_deref().unwrap_or("")));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("s2s-seaice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn nsidc_monthly_daily_and_own_tables_are_read() {
        let m = temp("N_09.csv", "year, mo,    data-type, region, extent,   area\n1979,  9,      Goddard,      N,   7.05,   4.58\n1980,  9,      Goddard,      N,  -9999,  -9999\n");
        let v = read_observed_extents(&m, "north").unwrap();
        assert_eq!(
            v,
            [ObservedExtent {
                year: 1979,
                month: 9,
                extent: 7.05,
                area: Some(4.58)
            }]
        );
        let mut daily = String::from("Year, Month, Day,     Extent,    Missing, Source Data\nYYYY,    MM,  DD, 10^6 sq km, 10^6 sq km, Source data product web sites\n");
        for d in 1..=10 {
            daily.push_str(&format!(
                "2000, 3, {d}, {}, 0.000, ['x']\n",
                14.0 + f64::from(d) / 10.0
            ));
        }
        daily.push_str("2000, 4, 1, 13.0, 0.000, ['x']\n"); // one day: no monthly mean
        let v = read_observed_extents(&temp("daily.csv", &daily), "north").unwrap();
        assert_eq!(v.len(), 1);
        assert!((v[0].extent - 14.55).abs() < 1e-12);
        let rows = vec![ExtentRow {
            time: "2020-09-16".into(),
            year: 2020,
            month: 9,
            hemisphere: "north".into(),
            extent: 4.5,
            area: 3.25,
            member: Some(2),
            init: None,
        }];
        let csv = extent_table_csv(&rows);
        assert_eq!(
            csv,
            "time,hemisphere,extent,area,member\n2020-09-16,north,4.5000,3.2500,2\n"
        );
        let p = temp("own.csv", &csv);
        assert_eq!(read_extent_table(&p).unwrap(), rows);
        assert_eq!(read_observed_extents(&p, "north").unwrap()[0].extent, 4.5);
        assert!(read_observed_extents(&temp("bad.csv", "a,b\n1,2\n"), "north").is_err());
    }
}
