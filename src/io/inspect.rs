//! `s2s inspect`: what a file holds and how the engine reads it.
//!
//! For every data variable (or the one asked for): the role found for each dimension and the
//! rule that found it, the quantity and units (and the conversion the engine will apply), the
//! calendar, the range of start dates / time stamps and leads, the grid or points, and the share
//! of missing values. Variables the engine cannot use are listed as problems, one line each.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::detect::{detect_layout, Decided, DimMapping, FileMeta};
use super::read::{choose_variable, file_meta, open, read_cube, ReadOptions, UnitsSource};
use crate::cube::{Cube, CubeKind};
use crate::error::{Error, Result};
use crate::stats::finite_min_max;

/// What to inspect.
#[derive(Debug, Clone, Default)]
pub struct InspectOptions {
    /// Only this variable.
    pub variable: Option<String>,
    /// Units to assume instead of the file's.
    pub assume_units: Option<String>,
    /// Explicit dimension roles.
    pub dims: DimMapping,
    /// The date of a file without a time coordinate ([`ReadOptions::time`]).
    pub time: Option<crate::calendar::CfDateTime>,
}

/// Description of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// On-disk format.
    pub format: String,
    /// Dimensions and lengths.
    pub dimensions: Vec<(String, usize)>,
    /// Global `title` / `Conventions`, when present.
    pub conventions: Option<String>,
    /// One entry per data variable read.
    pub variables: Vec<VariableReport>,
    /// What makes a variable unusable as it is, one line each.
    pub problems: Vec<String>,
    /// What a reader should know but does not make the file unusable (a variable whose
    /// values are all missing, e.g. a score not computed for one system), one line each.
    pub warnings: Vec<String>,
}

/// Description of one variable.
#[derive(Debug, Clone, Serialize)]
pub struct VariableReport {
    /// Name.
    pub name: String,
    /// Long name.
    pub long_name: Option<String>,
    /// Roles of the dimensions and how they were found.
    pub dims: Vec<Decided>,
    /// Forecast or observed series.
    pub kind: CubeKind,
    /// Precipitation / temperature / other.
    pub quantity: crate::units::Quantity,
    /// Units in the file (or assumed).
    pub units: String,
    /// Units after reading (canonical), or the problem.
    pub units_read: String,
    /// Where the units came from when not from the `units` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units_note: Option<String>,
    /// Calendar.
    pub calendar: String,
    /// First and last start date (or time stamp) and their number.
    pub times: String,
    /// Members.
    pub members: usize,
    /// Leads, as labels.
    pub leads: Vec<String>,
    /// Grid / points.
    pub spatial: String,
    /// Share of missing values (0–1).
    pub missing_fraction: f64,
    /// Smallest and largest value read, in `units_read`.
    pub value_range: (f64, f64),
}

fn report_of(cube: &Cube, dims: Vec<Decided>, units: String, units_read: String) -> VariableReport {
    let init = &cube.coords.init;
    let times = match (init.first(), init.last()) {
        (Some(a), Some(b)) => format!(
            "{} .. {} ({} {}{})",
            a,
            b,
            init.len(),
            if cube.meta.kind == CubeKind::Forecast {
                "start dates"
            } else {
                "time steps"
            },
            super::fileset::describe_gaps(init)
        ),
        _ => "none".into(),
    };
    let leads = match cube.meta.kind {
        CubeKind::Forecast => cube.coords.lead.iter().map(|l| l.label()).collect(),
        CubeKind::Observed => vec![format!(
            "cadence: {}",
            cube.coords.lead[0]
                .label()
                .replace("month 1", "monthly")
                .replace("day 1", "daily")
                .replace("months 1–12", "yearly")
        )],
    };
    VariableReport {
        name: cube.meta.variable.clone(),
        long_name: cube.meta.long_name.clone(),
        dims,
        kind: cube.meta.kind,
        quantity: cube.meta.quantity,
        units,
        units_read,
        units_note: None,
        calendar: cube.meta.calendar.to_string(),
        times,
        members: cube.n_member(),
        leads,
        spatial: cube.coords.spatial.describe(),
        missing_fraction: cube.missing_fraction(),
        value_range: finite_min_max(cube.values.iter().map(|&v| f64::from(v))),
    }
}

/// The metadata of a file and its data variables; an error naming every variable when it has
/// none.
fn with_data_variables(path: &Path) -> Result<(FileMeta, Vec<String>)> {
    let file = open(path)?;
    let meta = file_meta(path, &file);
    let names: Vec<String> = meta
        .data_variables()
        .iter()
        .map(|v| v.name.clone())
        .collect();
    if names.is_empty() {
        return Err(Error::AmbiguousVariable {
            path: path.to_path_buf(),
            reason: format!(
                "no data variable found (variables: {})",
                meta.vars.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok((meta, names))
}

/// The data variables of a file that hold categories (CF flags: `flag_values` or
/// `flag_meanings`, e.g. `dominant_category`): interpolating them would invent categories.
pub fn categorical_variables(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let (meta, names) = with_data_variables(path.as_ref())?;
    Ok(names
        .into_iter()
        .filter(|n| {
            let v = &meta.vars[n];
            v.attrs.contains_key("flag_values") || v.attrs.contains_key("flag_meanings")
        })
        .collect())
}

/// Names of the data variables of a file (see [`super::detect::FileMeta::data_variables`]).
pub fn data_variable_names(path: impl AsRef<Path>) -> Result<Vec<String>> {
    Ok(with_data_variables(path.as_ref())?.1)
}

/// Each data variable of a file with the quantity its metadata says it is (no data read).
pub fn variable_quantities(
    path: impl AsRef<Path>,
) -> Result<Vec<(String, crate::units::Quantity)>> {
    let (meta, names) = with_data_variables(path.as_ref())?;
    Ok(names
        .into_iter()
        .map(|n| {
            let v = &meta.vars[&n];
            let q =
                crate::units::Quantity::detect(&n, v.text("standard_name"), v.text("long_name"));
            (n, q)
        })
        .collect())
}

/// Inspects one file. Errors that make the whole file unreadable are returned; problems with
/// single variables are listed in [`FileReport::problems`].
pub fn inspect_file(path: impl AsRef<Path>, opts: &InspectOptions) -> Result<FileReport> {
    let path = path.as_ref();
    let (meta, names) = match &opts.variable {
        Some(v) => {
            let meta = file_meta(path, &open(path)?);
            let name = choose_variable(path, &meta, Some(v))?.name.clone();
            (meta, vec![name])
        }
        None => with_data_variables(path)?,
    };
    let mut variables = Vec::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let vm = &meta.vars[&name];
        // A field without a time coordinate (a skill map, a mask, a genesis outlook) is
        // described undated, as `regrid` writes it.
        let layout = detect_layout(&meta, vm, &opts.dims).ok();
        let undated = opts.time.is_none()
            && layout
                .as_ref()
                .is_some_and(|l| !super::read::is_dated(&meta, l));
        let ropts = ReadOptions {
            variable: Some(name.clone()),
            dims: opts.dims.clone(),
            assume_units: opts.assume_units.clone(),
            time: opts
                .time
                .or(undated.then(|| crate::calendar::CfDateTime::ymd(1970, 1, 1))),
            allow_all_missing: true,
            // a 3-D ocean field is described by its level nearest the surface
            surface_level: true,
            ..Default::default()
        };
        let dims = layout.map(|l| l.dims).unwrap_or_default();
        let (units, source) = super::read::units_to_read(vm, &ropts);
        let units_note = match source {
            UnitsSource::Attribute | UnitsSource::Missing => None,
            UnitsSource::Assumed => Some("assumed (--assume-units)".to_string()),
            UnitsSource::LongName => {
                Some("from long_name, the file has no units attribute".to_string())
            }
        };
        let file_units = units;
        match read_cube(path, &ropts) {
            Ok(cube) => {
                let units_read = cube.meta.units.clone();
                let mut report = report_of(&cube, dims, file_units, units_read);
                report.units_note = units_note;
                if undated {
                    report.times = "undated (no time coordinate)".into();
                }
                if report.value_range.0 > report.value_range.1 {
                    warnings.push(format!(
                        "{}: variable '{name}': every value is missing",
                        path.display()
                    ));
                }
                variables.push(report);
            }
            Err(e @ Error::Units { .. }) => {
                problems.push(e.to_string());
                // Describe it anyway, in the file's units.
                let raw = ReadOptions {
                    keep_units: true,
                    ..ropts
                };
                if let Ok(cube) = read_cube(path, &raw) {
                    let mut report =
                        report_of(&cube, dims, file_units, "(unusable, see problems)".into());
                    report.units_note = units_note;
                    variables.push(report);
                }
            }
            // s2s's own N-D product variables with two labelled axes (model × category,
            // edge source × edge) are not a cube; the CDO layout has them per label.
            Err(Error::Dimensions { .. }) if meta.is_s2s_product() && vm.dims.len() > 4 => {
                warnings.push(format!(
                    "{}: variable '{name}' ({}) has more than one labelled axis and is skipped; the CDO layout (--layout cdo, the default) writes it one variable per label, each readable",
                    path.display(),
                    vm.dims.join(", ")
                ));
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    Ok(FileReport {
        path: path.to_path_buf(),
        format: meta.format.clone(),
        dimensions: meta.dims.clone(),
        conventions: meta
            .global
            .get("Conventions")
            .or_else(|| meta.global.get("conventions"))
            .map(|v| v.to_string()),
        variables,
        problems,
        warnings,
    })
}

impl std::fmt::Display for FileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.path.display())?;
        writeln!(
            f,
            "  format:      {}{}",
            self.format,
            self.conventions
                .as_ref()
                .map(|c| format!(", Conventions {c}"))
                .unwrap_or_default()
        )?;
        let dims: Vec<String> = self
            .dimensions
            .iter()
            .map(|(n, l)| format!("{n}={l}"))
            .collect();
        writeln!(f, "  dimensions:  {}", dims.join(" "))?;
        for v in &self.variables {
            writeln!(
                f,
                "  variable {}{}",
                v.name,
                v.long_name
                    .as_ref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            )?;
            let roles: Vec<String> = v
                .dims
                .iter()
                .map(|d| format!("{}={} [{}]", d.dim, d.role, d.how))
                .collect();
            writeln!(f, "    dims:      {}", roles.join(", "))?;
            writeln!(f, "    kind:      {:?}, {:?}", v.kind, v.quantity)?;
            writeln!(
                f,
                "    units:     '{}'{} -> {}",
                v.units,
                v.units_note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                v.units_read
            )?;
            writeln!(f, "    calendar:  {}", v.calendar)?;
            writeln!(
                f,
                "    {}:  {}",
                if v.kind == CubeKind::Forecast {
                    "inits   "
                } else {
                    "time    "
                },
                v.times
            )?;
            if v.kind == CubeKind::Forecast {
                writeln!(f, "    members:   {}", v.members)?;
                let leads = if v.leads.len() > 8 {
                    format!(
                        "{} .. {} ({} leads)",
                        v.leads[0],
                        v.leads[v.leads.len() - 1],
                        v.leads.len()
                    )
                } else {
                    v.leads.join(", ")
                };
                writeln!(f, "    leads:     {leads}")?;
            } else {
                writeln!(f, "    {}", v.leads.join(""))?;
            }
            writeln!(f, "    space:     {}", v.spatial)?;
            writeln!(f, "    missing:   {:.1} %", 100.0 * v.missing_fraction)?;
            if v.value_range.0 <= v.value_range.1 {
                writeln!(
                    f,
                    "    values:    {:.4} .. {:.4}",
                    v.value_range.0, v.value_range.1
                )?;
            } else {
                writeln!(f, "    values:    none (every value is missing)")?;
            }
        }
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        Ok(())
    }
}
