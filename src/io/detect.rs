//! Which dimension of a variable is init, member, lead, time, latitude, longitude or location.
//!
//! # Rules
//! Each dimension gets a role from the first rule that decides, in this order (the order of
//! DESIGN.md):
//! 1. an explicit [`DimMapping`] (run configuration or `--dims`);
//! 2. the CF `axis` attribute of its coordinate variable (`X`, `Y`, `T`);
//! 3. its `standard_name` (`latitude`, `longitude`, `forecast_reference_time`,
//!    `forecast_period`, `realization`, `time`);
//! 4. its `units` (`degrees_north`, `degrees_east`, `<unit> since <date>`, a bare time unit
//!    such as `months` or `days` → a lead);
//! 5. its name, among the names used by C3S/CDS (`number, forecast_reference_time, forecastMonth,
//!    leadtime, step, latitude, longitude`), NMME/IRI (`S, M, L, Y, X`), cfgrib/S2S
//!    (`number, time, step`) and plain CF (`time, lat, lon`).
//!
//! Then: a `time` dimension in a file that also has a lead is the start date (cfgrib writes
//! `time` + `step`); a dimension left over with 1-D latitude/longitude auxiliary coordinates
//! along it is a list of stations; two left over with 2-D ones form a curvilinear grid; other
//! length-1 dimensions are dropped; anything else is an error that names what was tried.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::decode::{AttrValue, Attrs};

/// Role of a dimension in the engine's `(init, member, lead, y, x)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimRole {
    /// Forecast start date.
    Init,
    /// Ensemble member.
    Member,
    /// Lead time / forecast period.
    Lead,
    /// Time of an observed series.
    Time,
    /// Latitude of a regular grid.
    Lat,
    /// Longitude of a regular grid.
    Lon,
    /// A list of stations / points.
    Location,
    /// Row of a curvilinear grid.
    GridY,
    /// Column of a curvilinear grid.
    GridX,
    /// A vertical (pressure) level: one level is read at a time.
    Level,
    /// An ocean model's vertical level (depth, ROMS/CROCO s-coordinate, sigma): one level is
    /// read at a time — the one nearest the sea surface when the reader asks for it
    /// ([`crate::io::ReadOptions::surface_level`]).
    Depth,
    /// A length-1 dimension without a role, dropped.
    Singleton,
}

impl DimRole {
    /// The axis of the canonical `(init, member, lead, y, x)` cube a dimension of this role
    /// fills; `None` for a level or a singleton, which are not kept as axes. Init and time
    /// share the first axis, a regular and a curvilinear grid the last two, stations the last.
    pub fn cube_axis(self) -> Option<usize> {
        match self {
            DimRole::Init | DimRole::Time => Some(0),
            DimRole::Member => Some(1),
            DimRole::Lead => Some(2),
            DimRole::Lat | DimRole::GridY => Some(3),
            DimRole::Lon | DimRole::GridX | DimRole::Location => Some(4),
            DimRole::Singleton | DimRole::Level | DimRole::Depth => None,
        }
    }
}

impl fmt::Display for DimRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DimRole::Init => "init",
            DimRole::Member => "member",
            DimRole::Lead => "lead",
            DimRole::Time => "time",
            DimRole::Lat => "lat",
            DimRole::Lon => "lon",
            DimRole::Location => "location",
            DimRole::GridY => "grid y",
            DimRole::GridX => "grid x",
            DimRole::Level => "pressure level",
            DimRole::Depth => "ocean level",
            DimRole::Singleton => "dropped (length 1)",
        })
    }
}

/// An explicit role → dimension-name mapping that overrides detection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimMapping {
    /// Dimension holding start dates.
    pub init: Option<String>,
    /// Dimension holding members.
    pub member: Option<String>,
    /// Dimension holding leads.
    pub lead: Option<String>,
    /// Time dimension of an observed series.
    pub time: Option<String>,
    /// Latitude dimension.
    pub lat: Option<String>,
    /// Longitude dimension.
    pub lon: Option<String>,
    /// Station / point dimension.
    pub location: Option<String>,
}

impl DimMapping {
    /// Parses `role=name,role=name` (e.g. `init=S,lead=L,lat=Y,lon=X`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut m = DimMapping::default();
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (role, name) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not role=dimension"))?;
            let slot = match role.trim() {
                "init" => &mut m.init,
                "member" => &mut m.member,
                "lead" => &mut m.lead,
                "time" => &mut m.time,
                "lat" => &mut m.lat,
                "lon" => &mut m.lon,
                "location" => &mut m.location,
                other => {
                    return Err(format!(
                    "unknown role '{other}' (roles: init, member, lead, time, lat, lon, location)"
                ))
                }
            };
            *slot = Some(name.trim().to_string());
        }
        Ok(m)
    }

    fn role_of(&self, dim: &str) -> Option<DimRole> {
        let pairs = [
            (&self.init, DimRole::Init),
            (&self.member, DimRole::Member),
            (&self.lead, DimRole::Lead),
            (&self.time, DimRole::Time),
            (&self.lat, DimRole::Lat),
            (&self.lon, DimRole::Lon),
            (&self.location, DimRole::Location),
        ];
        pairs
            .iter()
            .find(|(n, _)| n.as_deref() == Some(dim))
            .map(|(_, r)| *r)
    }

    fn names(&self) -> Vec<&str> {
        [
            &self.init,
            &self.member,
            &self.lead,
            &self.time,
            &self.lat,
            &self.lon,
            &self.location,
        ]
        .iter()
        .filter_map(|n| n.as_deref())
        .collect()
    }
}

/// Metadata of one variable, enough to detect roles without reading data.
#[derive(Debug, Clone, PartialEq)]
pub struct VarMeta {
    /// Variable name.
    pub name: String,
    /// Its dimensions, in file order.
    pub dims: Vec<String>,
    /// Its shape.
    pub shape: Vec<usize>,
    /// A short name of its stored type (`float`, `short`, `string`, ...).
    pub dtype: String,
    /// Its attributes.
    pub attrs: Attrs,
}

impl VarMeta {
    /// A text attribute.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).and_then(AttrValue::as_text)
    }
    /// Whether the type is numeric.
    pub fn is_numeric(&self) -> bool {
        !matches!(self.dtype.as_str(), "string" | "char" | "other")
    }
}

/// Metadata of a whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileMeta {
    /// On-disk format (`classic`, `64-bit offset`, `netCDF-4`, ...).
    pub format: String,
    /// Dimensions with their lengths, in file order.
    pub dims: Vec<(String, usize)>,
    /// Variables by name.
    pub vars: BTreeMap<String, VarMeta>,
    /// Global attributes.
    pub global: Attrs,
}

impl FileMeta {
    /// The variables s2s split from the N-D variable `nd_name` along the axis `split` (CDO
    /// layout, see [`super::write`]), each with its index along it, in index order; empty when
    /// the file has none.
    pub fn split_parts(&self, nd_name: &str, split: &str) -> Vec<(usize, &VarMeta)> {
        use super::write::{ND_INDEX_ATTR, ND_SPLIT_ATTR, ND_VARIABLE_ATTR};
        let mut parts: Vec<(usize, &VarMeta)> = self
            .vars
            .values()
            .filter(|v| {
                v.text(ND_VARIABLE_ATTR) == Some(nd_name) && v.text(ND_SPLIT_ATTR) == Some(split)
            })
            .filter_map(|v| Some((nd_index(v.attrs.get(ND_INDEX_ATTR)?)?, v)))
            .collect();
        parts.sort_by_key(|p| p.0);
        parts
    }

    /// Whether s2s wrote the file (global `source` "s2s-ensemble …").
    pub fn is_s2s_product(&self) -> bool {
        self.global
            .get("source")
            .and_then(AttrValue::as_text)
            .is_some_and(|s| s.starts_with("s2s-ensemble"))
    }

    /// Names of the data variables: numeric, not a coordinate variable, not named as an
    /// auxiliary coordinate, bounds or cell measure of another variable; largest rank first.
    pub fn data_variables(&self) -> Vec<&VarMeta> {
        let mut referenced: Vec<String> = Vec::new();
        for v in self.vars.values() {
            for key in [
                "coordinates",
                "bounds",
                "cell_measures",
                "ancillary_variables",
                "grid_mapping",
            ] {
                if let Some(t) = v.text(key) {
                    referenced.extend(
                        t.split_whitespace()
                            .filter(|w| !w.ends_with(':'))
                            .map(str::to_string),
                    );
                }
            }
        }
        let mut out: Vec<&VarMeta> = self
            .vars
            .values()
            .filter(|v| v.is_numeric())
            .filter(|v| !v.dims.is_empty())
            .filter(|v| !(v.dims.len() == 1 && v.dims[0] == v.name))
            .filter(|v| !referenced.contains(&v.name))
            .filter(|v| !v.name.ends_with("_bnds") && !v.name.ends_with("_bounds"))
            .filter(|v| !is_coordinate_like(v))
            .collect();
        out.sort_by_key(|v| std::cmp::Reverse(v.dims.len()));
        out
    }
}

/// The first index of an `s2s_nd_index` attribute, a number or (carried through a regrid)
/// text.
fn nd_index(a: &AttrValue) -> Option<usize> {
    let x = match a {
        AttrValue::Numbers(n) => *n.first()?,
        AttrValue::Text(t) => t.split_whitespace().next()?.parse().ok()?,
    };
    (x.is_finite() && x >= 0.0).then_some(x as usize)
}

fn is_coordinate_like(v: &VarMeta) -> bool {
    let sn = v.text("standard_name").unwrap_or("");
    let units = v.text("units").unwrap_or("").to_ascii_lowercase();
    matches!(
        sn,
        "latitude" | "longitude" | "time" | "forecast_reference_time"
    ) || is_lat_units(&units)
        || is_lon_units(&units)
        || (v.dims.len() <= 2 && units.contains(" since "))
}

/// Names tried for each role (lower case), reported in errors.
pub const LAT_NAMES: &[&str] = &["lat", "latitude", "y", "nav_lat", "lats", "rlat"];
/// Names tried for longitude.
pub const LON_NAMES: &[&str] = &["lon", "longitude", "x", "nav_lon", "lons", "long", "rlon"];
const INIT_NAMES: &[&str] = &[
    "init",
    "s",
    "start",
    "forecast_reference_time",
    "initial_time",
    "init_time",
    "reftime",
    "hdate",
    "start_time",
    "initialization",
    "inittime",
];
const LEAD_NAMES: &[&str] = &[
    "lead",
    "l",
    "leadtime",
    "lead_time",
    "step",
    "forecastmonth",
    "forecast_month",
    "forecast_period",
    "fcmonth",
    "leadmonth",
    "lead_month",
    "ftime",
];
const MEMBER_NAMES: &[&str] = &[
    "member",
    "m",
    "number",
    "realization",
    "realisation",
    "ensemble",
    "ens",
    "member_id",
    "ensemble_member",
    "mem",
];
const TIME_NAMES: &[&str] = &["time", "t", "date", "valid_time", "times"];
/// Names of ocean models' vertical dimensions (ROMS/CROCO, NEMO, HYCOM/CMEMS).
const OCEAN_LEVEL_NAMES: &[&str] = &["s_rho", "depth", "deptht", "depthu", "depthv"];

const LEVEL_NAMES: &[&str] = &[
    "plev",
    "lev",
    "level",
    "levels",
    "pressure",
    "pres",
    "isobaricinhpa",
    "pressure_level",
    "air_pressure",
];
const LOCATION_NAMES: &[&str] = &[
    "location",
    "station",
    "stations",
    "site",
    "sites",
    "points",
    "point",
    "station_id",
    "loc",
    "ncells",
    "cell",
];

fn is_lat_units(u: &str) -> bool {
    matches!(
        u,
        "degrees_north" | "degree_north" | "degree_n" | "degrees_n" | "degreen" | "degreesn"
    )
}
fn is_lon_units(u: &str) -> bool {
    matches!(
        u,
        "degrees_east" | "degree_east" | "degree_e" | "degrees_e" | "degreee" | "degreese"
    )
}
fn is_bare_time_unit(u: &str) -> bool {
    matches!(
        u,
        "months"
            | "month"
            | "days"
            | "day"
            | "hours"
            | "hour"
            | "weeks"
            | "week"
            | "years"
            | "year"
            | "seconds"
            | "minutes"
    )
}

/// How a role was decided, for `s2s inspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    /// Dimension name.
    pub dim: String,
    /// Length.
    pub len: usize,
    /// Its role.
    pub role: DimRole,
    /// The rule that decided it ("axis=X", "standard_name=latitude", "name", ...).
    pub how: String,
}

/// The horizontal layout found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpatialVars {
    /// Regular grid with 1-D coordinate variables (which may be absent: then indices).
    Grid {
        /// Latitude coordinate variable.
        lat: String,
        /// Longitude coordinate variable.
        lon: String,
    },
    /// Curvilinear grid with 2-D auxiliary coordinates.
    Curvilinear {
        /// 2-D latitude variable.
        lat: String,
        /// 2-D longitude variable.
        lon: String,
    },
    /// A projected grid: 1-D projection coordinates and a CF grid mapping, without 2-D
    /// latitude/longitude (the reader computes them, [`crate::grid::projection`]).
    Projected {
        /// Projection y coordinate variable.
        y: String,
        /// Projection x coordinate variable.
        x: String,
        /// The grid-mapping variable.
        mapping: String,
    },
    /// Stations with 1-D auxiliary coordinates (absent: NaN positions).
    Points {
        /// Latitude variable, if any.
        lat: Option<String>,
        /// Longitude variable, if any.
        lon: Option<String>,
    },
    /// No spatial dimension at all.
    Index,
}

/// The result of detection for one variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// One entry per dimension of the variable, in file order.
    pub dims: Vec<Decided>,
    /// Horizontal layout.
    pub spatial: SpatialVars,
}

impl Layout {
    /// The dimension with a role, if any.
    pub fn dim(&self, role: DimRole) -> Option<&Decided> {
        self.dims.iter().find(|d| d.role == role)
    }
}

/// Whether a coordinate is a map projection's x or y (CF `projection_x_coordinate`, rotated-pole
/// `grid_latitude`/`grid_longitude`, or an X/Y axis in metres or kilometres): not a latitude
/// or longitude, whatever its `axis` says; the grid's positions are then the 2-D
/// latitude/longitude its variables name in `coordinates`.
fn is_projection_coordinate(c: &VarMeta) -> bool {
    let sn = c
        .text("standard_name")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if matches!(
        sn.as_str(),
        "projection_x_coordinate"
            | "projection_y_coordinate"
            | "projection_x_angular_coordinate"
            | "projection_y_angular_coordinate"
            | "grid_latitude"
            | "grid_longitude"
    ) {
        return true;
    }
    let units = crate::units::normalise(c.text("units").unwrap_or(""));
    let axis = c.text("axis").unwrap_or("").trim().to_ascii_uppercase();
    matches!(axis.as_str(), "X" | "Y")
        && matches!(
            units.as_str(),
            "m" | "km"
                | "meter"
                | "meters"
                | "metre"
                | "metres"
                | "kilometer"
                | "kilometers"
                | "kilometre"
                | "kilometres"
        )
}

/// Whether a coordinate is an ocean model's vertical axis: standard name `depth` or an ocean
/// vertical coordinate (`ocean_s_coordinate_g2`, `ocean_sigma_coordinate`, …), or — without a
/// standard name — an `axis = Z` / `positive` coordinate in metres or without units.
fn is_ocean_level(c: &VarMeta) -> bool {
    let sn = c
        .text("standard_name")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if sn == "depth" || (sn.starts_with("ocean_") && sn.ends_with("coordinate")) {
        return true;
    }
    if !sn.is_empty() {
        // height, altitude, the atmosphere's hybrid and sigma levels: not the ocean's
        return false;
    }
    let units = c.text("units").unwrap_or("");
    let z = c
        .text("axis")
        .is_some_and(|a| a.trim().eq_ignore_ascii_case("z"))
        || c.text("positive").is_some();
    z && crate::units::pressure_to_pa(units).is_none()
        && matches!(
            crate::units::normalise(units).as_str(),
            "m" | "meter" | "meters" | "metre" | "metres" | "" | "1" | "level" | "layer"
        )
}

fn classify(dim: &str, coord: Option<&VarMeta>) -> Option<(DimRole, String)> {
    if coord.is_some_and(is_projection_coordinate) {
        return None;
    }
    if let Some(c) = coord.filter(|c| is_ocean_level(c)) {
        let how = match c.text("standard_name") {
            Some(sn) => format!("standard_name={sn}"),
            None => "vertical (axis=Z or positive) in metres or without units".into(),
        };
        return Some((DimRole::Depth, how));
    }
    if let Some(c) = coord {
        match c
            .text("axis")
            .map(|a| a.trim().to_ascii_uppercase())
            .as_deref()
        {
            Some("X") => return Some((DimRole::Lon, "axis=X".into())),
            Some("Y") => return Some((DimRole::Lat, "axis=Y".into())),
            Some("T") => return Some((DimRole::Time, "axis=T".into())),
            Some("Z") if crate::units::pressure_to_pa(c.text("units").unwrap_or("")).is_some() => {
                return Some((DimRole::Level, "axis=Z in pressure units".into()))
            }
            _ => {}
        }
        let sn = c.text("standard_name").map(str::to_ascii_lowercase);
        let by_sn = match sn.as_deref() {
            Some("latitude") => Some(DimRole::Lat),
            Some("longitude") => Some(DimRole::Lon),
            Some("forecast_reference_time") => Some(DimRole::Init),
            Some("forecast_period") => Some(DimRole::Lead),
            Some("realization") => Some(DimRole::Member),
            Some("time") => Some(DimRole::Time),
            Some("air_pressure") => Some(DimRole::Level),
            _ => None,
        };
        if let Some(r) = by_sn {
            return Some((r, format!("standard_name={}", sn.unwrap_or_default())));
        }
        let units = c.text("units").unwrap_or("").trim().to_ascii_lowercase();
        if is_lat_units(&units) {
            return Some((DimRole::Lat, format!("units={units}")));
        }
        if is_lon_units(&units) {
            return Some((DimRole::Lon, format!("units={units}")));
        }
        if units.contains(" since ") {
            let lname = dim.to_ascii_lowercase();
            let role = if INIT_NAMES.contains(&lname.as_str()) {
                DimRole::Init
            } else {
                DimRole::Time
            };
            return Some((role, "units=<unit> since <date>".into()));
        }
        if is_bare_time_unit(&units) && !TIME_NAMES.contains(&dim.to_ascii_lowercase().as_str()) {
            return Some((DimRole::Lead, format!("units={units}")));
        }
    }
    let n = dim.to_ascii_lowercase();
    let by_name = if LAT_NAMES.contains(&n.as_str()) {
        DimRole::Lat
    } else if LON_NAMES.contains(&n.as_str()) {
        DimRole::Lon
    } else if INIT_NAMES.contains(&n.as_str()) {
        DimRole::Init
    } else if LEAD_NAMES.contains(&n.as_str()) {
        DimRole::Lead
    } else if MEMBER_NAMES.contains(&n.as_str()) {
        DimRole::Member
    } else if TIME_NAMES.contains(&n.as_str()) {
        DimRole::Time
    } else if LOCATION_NAMES.contains(&n.as_str()) {
        DimRole::Location
    } else if LEVEL_NAMES.contains(&n.as_str()) {
        DimRole::Level
    } else if OCEAN_LEVEL_NAMES.contains(&n.as_str()) {
        DimRole::Depth
    } else {
        return None;
    };
    Some((by_name, "name".into()))
}

/// The (y, x) projection coordinate variables of `dims` and the variable's grid mapping, when
/// the variable names one (`grid_mapping`) that exists and both dimensions have projection
/// coordinate variables.
fn projected_axes(
    file: &FileMeta,
    var: &VarMeta,
    dims: &[&str; 2],
) -> Option<(String, String, String)> {
    let mapping = var
        .text("grid_mapping")?
        .split_whitespace()
        .next()?
        .trim_end_matches(':');
    file.vars.get(mapping)?.text("grid_mapping_name")?;
    let role = |d: &str| -> Option<char> {
        let c = file.vars.get(d)?;
        if !is_projection_coordinate(c) {
            return None;
        }
        let sn = c.text("standard_name").unwrap_or("").to_ascii_lowercase();
        let axis = c.text("axis").unwrap_or("").trim().to_ascii_uppercase();
        if sn.starts_with("projection_y") || axis == "Y" {
            Some('y')
        } else if sn.starts_with("projection_x") || axis == "X" {
            Some('x')
        } else {
            None
        }
    };
    match (role(dims[0])?, role(dims[1])?) {
        ('y', 'x') => Some((
            dims[0].to_string(),
            dims[1].to_string(),
            mapping.to_string(),
        )),
        ('x', 'y') => Some((
            dims[1].to_string(),
            dims[0].to_string(),
            mapping.to_string(),
        )),
        _ => None,
    }
}

/// Auxiliary latitude/longitude variables of the file whose dimensions are exactly `dims`.
fn aux_lat_lon(file: &FileMeta, var: &VarMeta, dims: &[&str]) -> Option<(String, String)> {
    // Variables named in `coordinates` first, then any variable of the file.
    let named: Vec<&str> = var
        .text("coordinates")
        .map(|t| t.split_whitespace().collect())
        .unwrap_or_default();
    let candidates = named
        .iter()
        .filter_map(|n| file.vars.get(*n))
        .chain(file.vars.values());
    let mut lat = None;
    let mut lon = None;
    for c in candidates {
        if c.dims.iter().map(String::as_str).collect::<Vec<_>>() != dims {
            continue;
        }
        let units = c.text("units").unwrap_or("").trim().to_ascii_lowercase();
        let sn = c.text("standard_name").unwrap_or("");
        let n = c.name.to_ascii_lowercase();
        if lat.is_none()
            && (is_lat_units(&units)
                || sn == "latitude"
                || LAT_NAMES.contains(&n.as_str())
                || n == "tlat"
                || n == "ulat")
        {
            lat = Some(c.name.clone());
        } else if lon.is_none()
            && (is_lon_units(&units)
                || sn == "longitude"
                || LON_NAMES.contains(&n.as_str())
                || n == "tlong"
                || n == "tlon"
                || n == "ulong")
        {
            lon = Some(c.name.clone());
        }
    }
    Some((lat?, lon?))
}

/// Detects the role of every dimension of `var`; the error is a sentence without file and
/// variable (the caller adds them).
pub fn detect_layout(
    file: &FileMeta,
    var: &VarMeta,
    mapping: &DimMapping,
) -> Result<Layout, String> {
    for name in mapping.names() {
        if !var.dims.iter().any(|d| d == name) {
            return Err(format!(
                "the dimension mapping names '{name}', but the variable's dimensions are ({})",
                var.dims.join(", ")
            ));
        }
    }
    let mut decided: Vec<Option<(DimRole, String)>> = var
        .dims
        .iter()
        .map(|d| {
            mapping
                .role_of(d)
                .map(|r| (r, "explicit mapping".to_string()))
                .or_else(|| classify(d, file.vars.get(d)))
        })
        .collect();

    // NEMO-style `y`/`x` dimensions: taken as latitude/longitude by their names alone, but
    // without coordinate variables, while 2-D latitude/longitude over them exist (`nav_lat`,
    // `nav_lon`): a curvilinear grid — left undecided here, found as one below.
    let by_name_alone = |i: usize, role: DimRole| {
        matches!(&decided[i], Some((r, how)) if *r == role && how == "name")
            && !file.vars.contains_key(&var.dims[i])
    };
    let ilat = (0..var.dims.len()).find(|&i| by_name_alone(i, DimRole::Lat));
    let ilon = (0..var.dims.len()).find(|&i| by_name_alone(i, DimRole::Lon));
    if let (Some(a), Some(b)) = (ilat, ilon) {
        let (first, second) = (a.min(b), a.max(b));
        let dims = [var.dims[first].as_str(), var.dims[second].as_str()];
        if aux_lat_lon(file, var, &dims).is_some() {
            decided[a] = None;
            decided[b] = None;
        }
    }
    let has = |decided: &[Option<(DimRole, String)>], r: DimRole| {
        decided.iter().flatten().any(|(x, _)| *x == r)
    };
    // cfgrib / S2S: `time` beside a lead is the start date.
    if has(&decided, DimRole::Lead) && !has(&decided, DimRole::Init) {
        for d in decided.iter_mut().flatten() {
            if d.0 == DimRole::Time {
                *d = (
                    DimRole::Init,
                    format!("{} (time beside a lead = start date)", d.1),
                );
            }
        }
    }
    // A time dimension beside an init dimension: only a length-1 one can be dropped.
    if has(&decided, DimRole::Init) && has(&decided, DimRole::Time) {
        for (i, d) in decided.iter_mut().enumerate() {
            if matches!(d, Some((DimRole::Time, _))) {
                if var.shape[i] == 1 {
                    *d = Some((DimRole::Singleton, "length 1".into()));
                } else {
                    return Err(format!(
                        "has both a start-date dimension and a time dimension '{}' of length {}; \
                         say which is which with a dimension mapping (init=..., lead=...)",
                        var.dims[i], var.shape[i]
                    ));
                }
            }
        }
    }

    // Dimensions left over: stations or a curvilinear grid through auxiliary coordinates.
    let unknown: Vec<usize> = (0..var.dims.len())
        .filter(|&i| decided[i].is_none())
        .collect();
    let big_unknown: Vec<usize> = unknown
        .iter()
        .copied()
        .filter(|&i| var.shape[i] > 1)
        .collect();
    let mut spatial = None;
    if big_unknown.len() == 2 {
        let dims = [
            var.dims[big_unknown[0]].as_str(),
            var.dims[big_unknown[1]].as_str(),
        ];
        if let Some((lat, lon)) = aux_lat_lon(file, var, &dims) {
            decided[big_unknown[0]] =
                Some((DimRole::GridY, format!("2-D coordinates {lat}/{lon}")));
            decided[big_unknown[1]] =
                Some((DimRole::GridX, format!("2-D coordinates {lat}/{lon}")));
            spatial = Some(SpatialVars::Curvilinear { lat, lon });
        } else if let Some((y, x, mapping)) = projected_axes(file, var, &dims) {
            let (iy, ix) = if var.dims[big_unknown[0]] == y {
                (big_unknown[0], big_unknown[1])
            } else {
                (big_unknown[1], big_unknown[0])
            };
            let how = format!("projection coordinates {y}/{x} with grid mapping {mapping}");
            decided[iy] = Some((DimRole::GridY, how.clone()));
            decided[ix] = Some((DimRole::GridX, how));
            spatial = Some(SpatialVars::Projected { y, x, mapping });
        }
    } else if big_unknown.len() == 1 {
        let d = var.dims[big_unknown[0]].as_str();
        if let Some((lat, lon)) = aux_lat_lon(file, var, &[d]) {
            decided[big_unknown[0]] =
                Some((DimRole::Location, format!("1-D coordinates {lat}/{lon}")));
            spatial = Some(SpatialVars::Points {
                lat: Some(lat),
                lon: Some(lon),
            });
        }
    }
    for (d, &len) in decided.iter_mut().zip(&var.shape) {
        if d.is_none() && len == 1 {
            *d = Some((DimRole::Singleton, "length 1".into()));
        }
    }
    // s2s's own products in the N-D layout: the one labelled axis (category, percentile,
    // model, SPI class) of a variable is read as its member axis.
    let left: Vec<usize> = (0..var.dims.len())
        .filter(|&i| decided[i].is_none())
        .collect();
    if left.len() == 1 && !has(&decided, DimRole::Member) && file.is_s2s_product() {
        decided[left[0]] = Some((
            DimRole::Member,
            "labelled axis of an s2s product, read as the member axis".into(),
        ));
    }
    if let Some(i) = (0..var.dims.len()).find(|&i| decided[i].is_none()) {
        return Err(format!(
            "dimension '{}' (length {}) is not init/member/lead/time/lat/lon/location, and no \
             lat/lon was found for it: tried axis X/Y, standard_name latitude/longitude, units \
             degrees_north/degrees_east, names {} / {}, and 1-D or 2-D auxiliary coordinates; \
             name its role with a dimension mapping (e.g. --dims lat=...,lon=...)",
            var.dims[i],
            var.shape[i],
            LAT_NAMES.join(", "),
            LON_NAMES.join(", ")
        ));
    }
    let dims: Vec<Decided> = decided
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let (role, how) = d.expect("every dimension decided above");
            Decided {
                dim: var.dims[i].clone(),
                len: var.shape[i],
                role,
                how,
            }
        })
        .collect();
    // Each role at most once, and each axis of the cube filled by one dimension at most (a
    // latitude and a curvilinear row, or a longitude and a station list, cannot share it).
    for (a, da) in dims.iter().enumerate() {
        if da.role == DimRole::Singleton {
            continue;
        }
        let same = |d: &&Decided| {
            d.role == da.role
                || (d.role.cube_axis().is_some() && d.role.cube_axis() == da.role.cube_axis())
        };
        if let Some(db) = dims[a + 1..].iter().find(same) {
            return Err(if db.role == da.role {
                format!(
                    "dimensions '{}' and '{}' both look like {}; say which is which with a dimension mapping",
                    da.dim, db.dim, da.role
                )
            } else {
                format!(
                    "dimension '{}' looks like {} and '{}' like {}, which cannot go together in one variable; say which is which with a dimension mapping",
                    da.dim, da.role, db.dim, db.role
                )
            });
        }
    }
    let find = |r: DimRole| dims.iter().find(|d| d.role == r);
    let spatial = match spatial {
        Some(s) => s,
        None => match (
            find(DimRole::Lat),
            find(DimRole::Lon),
            find(DimRole::Location),
        ) {
            (Some(la), Some(lo), None) => SpatialVars::Grid {
                lat: la.dim.clone(),
                lon: lo.dim.clone(),
            },
            (None, None, Some(loc)) => {
                let aux = aux_lat_lon(file, var, &[loc.dim.as_str()]);
                SpatialVars::Points {
                    lat: aux.as_ref().map(|a| a.0.clone()),
                    lon: aux.map(|a| a.1),
                }
            }
            (None, None, None) => SpatialVars::Index,
            (Some(la), None, _) => {
                return Err(format!(
                    "found latitude dimension '{}' but no longitude (tried {})",
                    la.dim,
                    LON_NAMES.join(", ")
                ))
            }
            (None, Some(lo), _) => {
                return Err(format!(
                    "found longitude dimension '{}' but no latitude (tried {})",
                    lo.dim,
                    LAT_NAMES.join(", ")
                ))
            }
            _ => return Err("has both grid and station dimensions".into()),
        },
    };
    Ok(Layout { dims, spatial })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coord(name: &str, attrs: &[(&str, &str)]) -> VarMeta {
        VarMeta {
            name: name.into(),
            dims: vec![name.into()],
            shape: vec![3],
            dtype: "float".into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), AttrValue::Text(v.to_string())))
                .collect(),
        }
    }

    fn file(var_dims: &[(&str, usize)], coords: Vec<VarMeta>) -> (FileMeta, VarMeta) {
        let v = VarMeta {
            name: "v".into(),
            dims: var_dims.iter().map(|d| d.0.to_string()).collect(),
            shape: var_dims.iter().map(|d| d.1).collect(),
            dtype: "float".into(),
            attrs: Attrs::new(),
        };
        let mut vars: BTreeMap<String, VarMeta> =
            coords.into_iter().map(|c| (c.name.clone(), c)).collect();
        vars.insert("v".into(), v.clone());
        (
            FileMeta {
                format: "netCDF-4".into(),
                dims: var_dims.iter().map(|(n, l)| (n.to_string(), *l)).collect(),
                vars,
                global: Attrs::new(),
            },
            v,
        )
    }

    fn roles(l: &Layout) -> Vec<DimRole> {
        l.dims.iter().map(|d| d.role).collect()
    }

    #[test]
    fn nmme_iri_layout() {
        let (f, v) = file(
            &[("S", 38), ("L", 1), ("Y", 50), ("X", 51)],
            vec![
                coord(
                    "S",
                    &[
                        ("standard_name", "forecast_reference_time"),
                        ("units", "months since 1960-01-01"),
                    ],
                ),
                coord(
                    "L",
                    &[("standard_name", "forecast_period"), ("units", "months")],
                ),
                coord("Y", &[("units", "degree_north")]),
                coord("X", &[("units", "degree_east")]),
            ],
        );
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(
            roles(&l),
            [DimRole::Init, DimRole::Lead, DimRole::Lat, DimRole::Lon]
        );
        assert_eq!(l.dims[2].how, "units=degree_north");
    }

    #[test]
    fn c3s_and_cfgrib_layouts() {
        let (f, v) = file(
            &[
                ("number", 25),
                ("forecast_reference_time", 24),
                ("forecastMonth", 6),
                ("latitude", 10),
                ("longitude", 20),
            ],
            vec![],
        );
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(
            roles(&l),
            [
                DimRole::Member,
                DimRole::Init,
                DimRole::Lead,
                DimRole::Lat,
                DimRole::Lon
            ]
        );
        // cfgrib: time + step
        let (f, v) = file(
            &[
                ("number", 11),
                ("time", 20),
                ("step", 46),
                ("latitude", 10),
                ("longitude", 20),
            ],
            vec![
                coord("time", &[("units", "seconds since 1970-01-01")]),
                coord("step", &[("units", "hours")]),
            ],
        );
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(
            roles(&l),
            [
                DimRole::Member,
                DimRole::Init,
                DimRole::Lead,
                DimRole::Lat,
                DimRole::Lon
            ]
        );
        assert!(l.dims[1].how.contains("start date"));
    }

    #[test]
    fn observations_and_singletons() {
        let (f, v) = file(
            &[
                ("time", 38),
                ("height", 1),
                ("LATITUDE", 50),
                ("LONGITUDE", 51),
            ],
            vec![],
        );
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(
            roles(&l),
            [
                DimRole::Time,
                DimRole::Singleton,
                DimRole::Lat,
                DimRole::Lon
            ]
        );
    }

    #[test]
    fn stations_through_auxiliary_coordinates() {
        let mut lat = coord("lat", &[("units", "degrees_north")]);
        lat.dims = vec!["site".into()];
        let mut lon = coord("lon", &[("units", "degrees_east")]);
        lon.dims = vec!["site".into()];
        let (f, v) = file(&[("time", 100), ("site", 3)], vec![lat, lon]);
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(roles(&l), [DimRole::Time, DimRole::Location]);
        assert_eq!(
            l.spatial,
            SpatialVars::Points {
                lat: Some("lat".into()),
                lon: Some("lon".into())
            }
        );
    }

    #[test]
    fn curvilinear_through_2d_coordinates() {
        let mut lat = coord("TLAT", &[("units", "degrees_north")]);
        lat.dims = vec!["nlat".into(), "nlon".into()];
        let mut lon = coord("TLONG", &[("units", "degrees_east")]);
        lon.dims = vec!["nlat".into(), "nlon".into()];
        let (f, v) = file(
            &[("init", 64), ("lead", 10), ("nlat", 37), ("nlon", 26)],
            vec![lat, lon],
        );
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(
            roles(&l),
            [DimRole::Init, DimRole::Lead, DimRole::GridY, DimRole::GridX]
        );
        assert_eq!(
            l.spatial,
            SpatialVars::Curvilinear {
                lat: "TLAT".into(),
                lon: "TLONG".into()
            }
        );
    }

    #[test]
    fn index_series_and_unknown_dimensions() {
        let (f, v) = file(&[("S", 510), ("M", 4), ("L", 45)], vec![]);
        let l = detect_layout(&f, &v, &DimMapping::default()).unwrap();
        assert_eq!(l.spatial, SpatialVars::Index);
        let (f, v) = file(&[("time", 10), ("ncol", 100)], vec![]);
        let e = detect_layout(&f, &v, &DimMapping::default()).unwrap_err();
        assert!(
            e.contains("'ncol'") && e.contains("nav_lat") && e.contains("--dims"),
            "{e}"
        );
    }

    #[test]
    fn explicit_mapping_overrides() {
        let (f, v) = file(&[("a", 5), ("b", 3), ("c", 4)], vec![]);
        let m = DimMapping::parse("init=a, lat=b, lon=c").unwrap();
        let l = detect_layout(&f, &v, &m).unwrap();
        assert_eq!(roles(&l), [DimRole::Init, DimRole::Lat, DimRole::Lon]);
        assert!(detect_layout(&f, &v, &DimMapping::parse("init=zz").unwrap()).is_err());
        assert!(DimMapping::parse("depth=z").is_err());
    }

    #[test]
    fn duplicate_roles_are_refused() {
        let (f, v) = file(&[("lat", 5), ("latitude", 3), ("lon", 4)], vec![]);
        let e = detect_layout(&f, &v, &DimMapping::default()).unwrap_err();
        assert!(e.contains("both look like lat"), "{e}");
    }

    #[test]
    fn a_station_list_and_a_longitude_cannot_share_the_last_axis() {
        // a fuzzed header: Y(I) and X(I) make I a station list, and X is a longitude by name
        let mut canonical = [DimRole::Lat, DimRole::GridY]
            .map(|r| r.cube_axis())
            .to_vec();
        canonical.dedup();
        assert_eq!(canonical, [Some(3)]);
        assert_eq!(DimRole::Location.cube_axis(), DimRole::Lon.cube_axis());
        assert_eq!(DimRole::Level.cube_axis(), None);
    }
}
