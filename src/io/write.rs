//! Writing CF-1.8 NetCDF-4 outputs.
//!
//! [`CfWriter`] writes a file in one pass: dimensions, coordinate variables, data variables
//! (f32, deflate level 1 + shuffle, chunked one map per chunk so that a map of one
//! init/member/lead is one read), attributes. It writes to a hidden temporary name in the
//! target directory and renames on [`CfWriter::finish`]; dropped without finishing (an error
//! anywhere), it removes the temporary file, so a target path never holds a half-written file.
//!
//! [`write_cube`] writes a [`Cube`]: a forecast as `var(init, member, lead, lat, lon)` with
//! `init` (`forecast_reference_time`), `member` (`realization`), `lead` (`forecast_period`, with
//! `lead_bnds`) and `valid_time(init, lead)` (start of each target period); an observed series as
//! `var(time, lat, lon)`. Stations become a `location` dimension with `lat(location)`,
//! `lon(location)`, `station_name(location)`; an index series has no spatial dimension; a
//! curvilinear grid keeps 2-D `lat(nj, ni)`/`lon(nj, ni)` named in `coordinates`. Missing values
//! are written as `_FillValue = 1e20f`.
//!
//! # Layouts of products ([`ProductLayout`])
//! CDO handles variables of at most four dimensions, `(time, level, y, x)`, and skips the rest
//! ("Unsupported file structure"); xarray users prefer one variable per quantity with every
//! axis a dimension. Axes other than time, lead and space — category, extreme category,
//! percentile, model, edge source, edge level, SPI class, threshold, member — are declared as
//! [`LabelAxis`]es:
//! - **CDO layout** (default): a variable on such an axis is written as one variable per label
//!   (`probability_below`, `ensemble_percentile_p90`, `model_weight_CCSM4`, `acc_MME`,
//!   `pr_member03`), each `(init, lead, y, x)` with the lead as CDO's level axis, and with
//!   attributes that say what it is part of: `s2s_nd_variable` (the N-D name), `s2s_nd_dimensions`
//!   (its dimensions), `s2s_nd_split` (the split ones), `s2s_nd_index` (the index along them),
//!   `<axis>_name` and the label's numbers (`category_level_bounds`, `percentile`, `member`).
//!   A single member is no axis. s2s joins per-member variables back into one cube on read.
//! - **N-D layout** (`--layout nd`): every axis a dimension with a coordinate variable — numeric
//!   values, or an integer index with `flag_values`/`flag_meanings` plus a char `<axis>_name`
//!   auxiliary coordinate (CF 6.1; never vlen strings, which CF 1.8 does not allow).

use std::path::{Path, PathBuf};

use ndarray::{ArrayViewD, Axis};
use netcdf::{AttributeValue, FileMut};

use super::read::netcdf_err;
use crate::calendar::{CfDateTime, TimeCoding};
use crate::cube::{Cube, CubeKind, Spatial};
use crate::error::{Error, Result};

/// `_FillValue` written for missing values.
pub const FILL_F32: f32 = 1.0e20;

/// The value as written: NaN becomes [`FILL_F32`].
fn with_fill(x: &f32) -> f32 {
    if x.is_nan() {
        FILL_F32
    } else {
        *x
    }
}

pub use crate::config::ProductLayout;

/// An axis of labelled entries (categories, models, members, percentiles, edge sources) that
/// the N-D layout writes as a dimension with a coordinate and the CDO layout splits into one
/// variable per label.
#[derive(Debug, Clone, Default)]
pub struct LabelAxis {
    /// Dimension name in the N-D layout (`category`, `model`, `member`).
    pub dim: String,
    /// `long_name` of the axis.
    pub long_name: String,
    /// The entries' names (`below_normal`, `GEOS-S2S`): `flag_meanings` and the char
    /// `<dim>_name` coordinate in the N-D layout, a `<dim>_name` attribute in the CDO layout.
    pub names: Vec<String>,
    /// Numeric coordinate values and their units (percentiles in percent, member numbers);
    /// `None`: an integer index `0..n` with `flag_values`/`flag_meanings`.
    pub values: Option<(Vec<f64>, Option<String>)>,
    /// `standard_name` of the numeric coordinate (`realization` for members).
    pub standard_name: Option<String>,
    /// Numbers attached to each entry (e.g. `level_bounds`: the quantile levels bounding a
    /// category): a `<dim>_<name>(<dim>, n)` variable in the N-D layout, a `<dim>_<name>`
    /// attribute of each split variable in the CDO layout.
    pub entry_numbers: Vec<(String, Vec<Vec<f64>>)>,
}

impl LabelAxis {
    /// An axis of named entries (an integer coordinate with flag meanings).
    pub fn named(dim: &str, long_name: &str, names: &[String]) -> Self {
        LabelAxis {
            dim: dim.to_string(),
            long_name: long_name.to_string(),
            names: names.to_vec(),
            ..Default::default()
        }
    }

    /// The labels used in split variable names: each name with every character other than a
    /// letter, digit or `_` made `_`, made unique by a numeric suffix.
    pub fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(self.names.len());
        for n in &self.names {
            let mut l: String = n
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if l.is_empty() {
                l.push('x');
            }
            let base = l.clone();
            let mut k = 2;
            while out.contains(&l) {
                l = format!("{base}_{k}");
                k += 1;
            }
            out.push(l);
        }
        out
    }
}

/// A variable of the N-D layout written as several variables in the CDO layout.
#[derive(Debug, Clone)]
struct Split {
    /// Positions of the split axes among the N-D dimensions.
    positions: Vec<usize>,
    /// Lengths of the split axes.
    lens: Vec<usize>,
    /// Names of the variables, row-major over the split axes.
    names: Vec<String>,
}

/// The attribute of a split variable naming the N-D variable it is part of.
pub const ND_VARIABLE_ATTR: &str = "s2s_nd_variable";
/// The attribute of a split variable naming the N-D axes it was split along.
pub const ND_SPLIT_ATTR: &str = "s2s_nd_split";
/// The attribute of a split variable listing every dimension of the N-D variable, in order.
pub const ND_DIMENSIONS_ATTR: &str = "s2s_nd_dimensions";
/// The attribute of a split variable giving its index along each split axis.
pub const ND_INDEX_ATTR: &str = "s2s_nd_index";

/// Options for [`write_cube`] and [`CfWriter`].
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The command line (or a description of the step) for the `history` attribute.
    pub history: Option<String>,
    /// A `title` global attribute.
    pub title: Option<String>,
    /// Extra global attributes.
    pub global: Vec<(String, String)>,
    /// Deflate level 0–9 (default 1; 0 = no compression).
    pub deflate: Option<i32>,
    /// The cubes are one undated field (read from a file without a time coordinate, e.g. a
    /// land mask to regrid): [`write_cubes`] writes them without a time axis, as they came.
    pub undated: bool,
    /// Layout of axes other than time, lead and space.
    pub layout: ProductLayout,
}

/// A CF NetCDF-4 file being written under a temporary name.
pub struct CfWriter {
    file: Option<FileMut>,
    tmp: PathBuf,
    /// Where the finished file goes: the target, or its place in an open output set's stage.
    place: PathBuf,
    target: PathBuf,
    deflate: i32,
    layout: ProductLayout,
    dims: std::collections::HashMap<String, usize>,
    axes: std::collections::HashMap<String, LabelAxis>,
    splits: std::collections::HashMap<String, Split>,
}

impl CfWriter {
    /// Starts a file that will appear at `target` when [`CfWriter::finish`] succeeds.
    pub fn create(target: impl AsRef<Path>, opts: &WriteOptions) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let werr = |reason: String| Error::Write {
            path: target.clone(),
            reason,
        };
        super::clobber::check_output(&target)?;
        let place = crate::outputs::staging::staged(&target)?;
        let tmp = crate::outputs::staging::temporary_beside(&place, false)?;
        super::read::configure_libnetcdf();
        let file = netcdf::create_with(&tmp, netcdf::Options::NETCDF4)
            .map_err(|e| werr(format!("cannot create {}: {e}", tmp.display())))?;
        let mut w = CfWriter {
            file: Some(file),
            tmp,
            place,
            target,
            deflate: opts.deflate.unwrap_or(1).clamp(0, 9),
            layout: opts.layout,
            dims: Default::default(),
            axes: Default::default(),
            splits: Default::default(),
        };
        w.global_text("Conventions", "CF-1.8")?;
        let version = format!("s2s-ensemble {}", env!("CARGO_PKG_VERSION"));
        w.global_text("source", &version)?;
        if let Some(t) = &opts.title {
            w.global_text("title", t)?;
        }
        w.set_history(opts.history.as_deref(), None)?;
        for (k, v) in &opts.global {
            w.global_text(k, v)?;
        }
        Ok(w)
    }

    /// Sets the `history` attribute: a new first line (time, `line`, version) above the
    /// `previous` history of the input, newest first as NCO and CDO write it.
    pub fn set_history(&mut self, line: Option<&str>, previous: Option<&str>) -> Result<()> {
        let now = crate::outputs::stamp_time().format("%Y-%m-%dT%H:%M:%SZ");
        let version = format!("s2s-ensemble {}", env!("CARGO_PKG_VERSION"));
        let mut h = format!("{now}: {} ({version})", line.unwrap_or("written"));
        if let Some(p) = previous.filter(|p| !p.trim().is_empty()) {
            h.push('\n');
            h.push_str(p.trim_end());
        }
        self.global_text("history", &h)
    }

    fn file(&mut self) -> &mut FileMut {
        self.file.as_mut().expect("file open until finish")
    }

    fn err(&self, action: &str, e: netcdf::Error) -> Error {
        netcdf_err(&self.target, action, e)
    }

    /// Adds a text global attribute.
    pub fn global_text(&mut self, name: &str, value: &str) -> Result<()> {
        let r = self.file().add_attribute(name, value);
        r.map(|_| ())
            .map_err(|e| self.err(&format!("writing attribute {name}"), e))
    }

    /// Adds a numeric global attribute.
    pub fn global_number(&mut self, name: &str, value: f64) -> Result<()> {
        let r = self.file().add_attribute(name, value);
        r.map(|_| ())
            .map_err(|e| self.err(&format!("writing attribute {name}"), e))
    }

    /// Adds a dimension.
    pub fn dimension(&mut self, name: &str, len: usize) -> Result<()> {
        let r = self.file().add_dimension(name, len);
        r.map(|_| ())
            .map_err(|e| self.err(&format!("adding dimension {name}"), e))?;
        self.dims.insert(name.to_string(), len);
        Ok(())
    }

    /// Adds a dimension unless the file has it already.
    pub fn ensure_dimension(&mut self, name: &str, len: usize) -> Result<()> {
        match self.dims.get(name) {
            Some(&n) if n == len => Ok(()),
            Some(&n) => Err(self.err(
                &format!("adding dimension {name} of length {len}"),
                netcdf::Error::Str(format!("it exists with length {n}")),
            )),
            None => self.dimension(name, len),
        }
    }

    /// The layout this file is written in.
    pub fn layout(&self) -> ProductLayout {
        self.layout
    }

    /// Declares a labelled axis: in the N-D layout, its dimension, coordinate (numeric, or an
    /// integer index with `flag_values`/`flag_meanings`), char `<dim>_name` labels and entry
    /// numbers; in the CDO layout nothing is written — variables defined later on the
    /// dimension are split into one variable per entry.
    pub fn label_axis(&mut self, axis: LabelAxis) -> Result<()> {
        let n = axis.names.len();
        if self.layout == ProductLayout::Nd {
            let dim = axis.dim.as_str();
            self.dimension(dim, n)?;
            let meanings = axis.labels().join(" ");
            match &axis.values {
                Some((values, units)) => {
                    let mut attrs = vec![("long_name", axis.long_name.as_str())];
                    if let Some(u) = units {
                        attrs.push(("units", u.as_str()));
                    }
                    if let Some(s) = &axis.standard_name {
                        attrs.push(("standard_name", s.as_str()));
                    }
                    self.f64_var(dim, &[dim], values, &attrs)?;
                }
                None => {
                    let index: Vec<i32> = (0..n as i32).collect();
                    self.i32_var(
                        dim,
                        &[dim],
                        &index,
                        &[
                            ("long_name", axis.long_name.as_str()),
                            ("units", "1"),
                            ("flag_meanings", meanings.as_str()),
                        ],
                    )?;
                    self.var_attr(dim, "flag_values", index)?;
                }
            }
            if axis.values.is_none() {
                let name_var = format!("{dim}_name");
                let long = format!("name of each {}", axis.long_name);
                self.char_var(&name_var, dim, &axis.names, &[("long_name", long.as_str())])?;
            }
            for (what, per_entry) in &axis.entry_numbers {
                let k = per_entry.first().map_or(0, Vec::len);
                let kdim = if k == 2 {
                    "bnds".to_string()
                } else {
                    format!("{dim}_{what}_n")
                };
                self.ensure_dimension(&kdim, k)?;
                let flat: Vec<f64> = per_entry.iter().flatten().copied().collect();
                let long = format!("{what} of each {}", axis.long_name).replace('_', " ");
                self.f64_var(
                    &format!("{dim}_{what}"),
                    &[dim, kdim.as_str()],
                    &flat,
                    &[("long_name", long.as_str())],
                )?;
            }
        }
        self.axes.insert(axis.dim.clone(), axis);
        Ok(())
    }

    /// Adds a char variable `name(dim, <name>_strlen)` of labels (CF 6.1 string-valued
    /// auxiliary coordinate, readable by every netCDF tool; vlen strings are not).
    pub fn char_var(
        &mut self,
        name: &str,
        dim: &str,
        values: &[String],
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        let width = values.iter().map(String::len).max().unwrap_or(0).max(1);
        let strlen = format!("{name}_strlen");
        self.ensure_dimension(&strlen, width)?;
        let mut bytes = vec![NcChar(0); values.len() * width];
        for (i, v) in values.iter().enumerate() {
            for (j, b) in v.bytes().enumerate() {
                bytes[i * width + j] = NcChar(b as i8);
            }
        }
        self.num_var(name, &[dim, strlen.as_str()], &bytes, attrs)
    }

    /// Adds a numeric variable (coordinates, bounds) with all its values and text attributes.
    pub fn num_var<T: netcdf::NcTypeDescriptor + Copy>(
        &mut self,
        name: &str,
        dims: &[&str],
        values: &[T],
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        let action = format!("writing variable {name}");
        let res = (|| -> std::result::Result<(), netcdf::Error> {
            let f = self.file.as_mut().expect("open");
            let mut v = f.add_variable::<T>(name, dims)?;
            for (k, val) in attrs {
                v.put_attribute(k, *val)?;
            }
            v.put_values(values, ..)?;
            Ok(())
        })();
        res.map_err(|e| self.err(&action, e))
    }

    /// [`CfWriter::num_var`] for f64 values.
    pub fn f64_var(
        &mut self,
        name: &str,
        dims: &[&str],
        values: &[f64],
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        self.num_var(name, dims, values, attrs)
    }

    /// [`CfWriter::num_var`] for i32 values.
    pub fn i32_var(
        &mut self,
        name: &str,
        dims: &[&str],
        values: &[i32],
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        self.num_var(name, dims, values, attrs)
    }

    /// Defines an f32 data variable of the given shape: `_FillValue` [`FILL_F32`], chunked one
    /// map (the last two dimensions) per chunk, deflate + shuffle. Values come with
    /// [`CfWriter::put_f32`].
    pub fn def_f32(
        &mut self,
        name: &str,
        dims: &[&str],
        shape: &[usize],
        attrs: &[(&str, &str)],
        num_attrs: &[(&str, f64)],
    ) -> Result<()> {
        self.def_data(name, dims, shape, FILL_F32, attrs)?;
        for (k, val) in num_attrs {
            self.var_attr(name, k, *val as f32)?;
        }
        Ok(())
    }

    /// Defines a byte (flag) variable with its `_FillValue`, chunked and compressed as
    /// [`CfWriter::def_f32`]; values come with [`CfWriter::put_i8`].
    pub fn def_i8(
        &mut self,
        name: &str,
        dims: &[&str],
        shape: &[usize],
        fill: i8,
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        self.def_data(name, dims, shape, fill, attrs)
    }

    /// A data variable of type `T`: one map (the last two dimensions) per chunk, deflate +
    /// shuffle at the writer's level, `_FillValue`, text attributes.
    fn def_data<T: netcdf::NcTypeDescriptor + Copy>(
        &mut self,
        name: &str,
        dims: &[&str],
        shape: &[usize],
        fill: T,
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        let positions: Vec<usize> = (0..dims.len())
            .filter(|&i| self.layout == ProductLayout::Cdo && self.axes.contains_key(dims[i]))
            .collect();
        if positions.is_empty() {
            return self.def_one(name, dims, shape, fill, attrs);
        }
        let axes: Vec<LabelAxis> = positions
            .iter()
            .map(|&p| self.axes[dims[p]].clone())
            .collect();
        let labels: Vec<Vec<String>> = axes.iter().map(LabelAxis::labels).collect();
        let lens: Vec<usize> = axes.iter().map(|a| a.names.len()).collect();
        let kept: Vec<usize> = (0..dims.len()).filter(|i| !positions.contains(i)).collect();
        let sub_dims: Vec<&str> = kept.iter().map(|&i| dims[i]).collect();
        let sub_shape: Vec<usize> = if shape.is_empty() {
            Vec::new()
        } else {
            kept.iter().map(|&i| shape[i]).collect()
        };
        let split_dims = positions
            .iter()
            .map(|&p| dims[p])
            .collect::<Vec<_>>()
            .join(" ");
        let all_dims = dims.join(" ");
        let long_name = attrs
            .iter()
            .find(|(k, _)| *k == "long_name")
            .map(|(_, v)| *v);
        let mut names = Vec::new();
        for combo in combinations(&lens) {
            let mut var = name.to_string();
            let mut described = Vec::new();
            for (a, &i) in combo.iter().enumerate() {
                var.push('_');
                var.push_str(&labels[a][i]);
                described.push(axes[a].names[i].clone());
            }
            let long = long_name.map(|l| format!("{l}: {}", described.join(", ")));
            let mut sub_attrs: Vec<(&str, &str)> = attrs
                .iter()
                .filter(|(k, _)| *k != "long_name")
                .copied()
                .collect();
            if let Some(l) = &long {
                sub_attrs.push(("long_name", l));
            }
            sub_attrs.push((ND_VARIABLE_ATTR, name));
            sub_attrs.push((ND_SPLIT_ATTR, &split_dims));
            sub_attrs.push((ND_DIMENSIONS_ATTR, &all_dims));
            self.def_one(&var, &sub_dims, &sub_shape, fill, &sub_attrs)?;
            let index: Vec<i32> = combo.iter().map(|&i| i as i32).collect();
            self.var_attr(&var, ND_INDEX_ATTR, index)?;
            for (a, &i) in combo.iter().enumerate() {
                let axis = &axes[a];
                let dim = axis.dim.clone();
                self.var_attr(&var, &format!("{dim}_name"), axis.names[i].as_str())?;
                if let Some((values, _)) = &axis.values {
                    self.var_attr(&var, &dim, values[i])?;
                }
                for (what, per_entry) in &axis.entry_numbers {
                    self.var_attr(&var, &format!("{dim}_{what}"), per_entry[i].clone())?;
                }
            }
            names.push(var);
        }
        self.splits.insert(
            name.to_string(),
            Split {
                positions,
                lens,
                names,
            },
        );
        Ok(())
    }

    /// Defines one variable as [`CfWriter::def_data`] describes, without splitting.
    fn def_one<T: netcdf::NcTypeDescriptor + Copy>(
        &mut self,
        name: &str,
        dims: &[&str],
        shape: &[usize],
        fill: T,
        attrs: &[(&str, &str)],
    ) -> Result<()> {
        let action = format!("defining variable {name}");
        let deflate = self.deflate;
        let res = (|| -> std::result::Result<(), netcdf::Error> {
            let f = self.file.as_mut().expect("open");
            let mut v = f.add_variable::<T>(name, dims)?;
            if !shape.is_empty() && shape.iter().all(|&n| n > 0) {
                let nd = shape.len();
                let chunk: Vec<usize> = (0..nd)
                    .map(|k| if k + 2 >= nd { shape[k] } else { 1 })
                    .collect();
                v.set_chunking(&chunk)?;
                if deflate > 0 {
                    v.set_compression(deflate, true)?;
                }
            }
            v.set_fill_value(fill)?;
            for (k, val) in attrs {
                v.put_attribute(k, *val)?;
            }
            Ok(())
        })();
        res.map_err(|e| self.err(&action, e))
    }

    /// Writes a hyperslab of a byte variable.
    pub fn put_i8(
        &mut self,
        name: &str,
        start: &[usize],
        count: &[usize],
        values: &[i8],
    ) -> Result<()> {
        self.put_slab(name, start, count, values)
    }

    /// Writes a hyperslab `start`/`count` of an f32 variable from values in row-major order;
    /// NaN becomes [`FILL_F32`].
    pub fn put_f32(
        &mut self,
        name: &str,
        start: &[usize],
        count: &[usize],
        values: &[f32],
    ) -> Result<()> {
        let buf: Vec<f32> = values.iter().map(with_fill).collect();
        self.put_slab(name, start, count, &buf)
    }

    fn put_slab<T: netcdf::NcTypeDescriptor + Copy>(
        &mut self,
        name: &str,
        start: &[usize],
        count: &[usize],
        buf: &[T],
    ) -> Result<()> {
        let Some(split) = self.splits.get(name).cloned() else {
            return self.put_one(name, start, count, buf);
        };
        // The slab as an array in N-D index space; each split variable gets its sub-slab.
        let slab = ndarray::ArrayView::from_shape(ndarray::IxDyn(count), buf).map_err(|e| {
            self.err(
                &format!("writing variable {name}"),
                netcdf::Error::Str(format!("slab shape: {e}")),
            )
        })?;
        let kept: Vec<usize> = (0..count.len())
            .filter(|i| !split.positions.contains(i))
            .collect();
        let sub_start: Vec<usize> = kept.iter().map(|&i| start[i]).collect();
        let sub_count: Vec<usize> = kept.iter().map(|&i| count[i]).collect();
        for (k, combo) in combinations(&split.lens).into_iter().enumerate() {
            let inside = split
                .positions
                .iter()
                .zip(&combo)
                .all(|(&p, &i)| i >= start[p] && i < start[p] + count[p]);
            if !inside {
                continue;
            }
            let mut view = slab.view();
            // Highest position first, so the lower positions keep their axis numbers.
            for (&p, &i) in split.positions.iter().zip(&combo).rev() {
                view = view.index_axis_move(Axis(p), i - start[p]);
            }
            // A label's sub-slab is usually contiguous in the slab (the split axis outermost
            // but one): written in place; otherwise gathered a longitude row at a time.
            match view.as_slice() {
                Some(values) => self.put_one(&split.names[k], &sub_start, &sub_count, values)?,
                None => {
                    let mut values = Vec::with_capacity(view.len());
                    crate::cube::append_rows(view, &mut values);
                    self.put_one(&split.names[k], &sub_start, &sub_count, &values)?
                }
            }
        }
        Ok(())
    }

    /// Writes a hyperslab of one variable of the file.
    fn put_one<T: netcdf::NcTypeDescriptor + Copy>(
        &mut self,
        name: &str,
        start: &[usize],
        count: &[usize],
        buf: &[T],
    ) -> Result<()> {
        let action = format!("writing variable {name}");
        let ext: Vec<netcdf::Extent> = start
            .iter()
            .zip(count)
            .map(|(&s, &c)| netcdf::Extent::SliceCount {
                start: s,
                count: c,
                stride: 1,
            })
            .collect();
        let res = (|| -> std::result::Result<(), netcdf::Error> {
            let f = self.file.as_mut().expect("open");
            let mut v = f
                .variable_mut(name)
                .ok_or_else(|| netcdf::Error::Str(format!("no variable {name}")))?;
            if ext.is_empty() {
                v.put_values(buf, ..)
            } else {
                v.put_values(buf, ext)
            }
        })();
        res.map_err(|e| self.err(&action, e))
    }

    /// Adds an f32 data variable with all its values (written map by map along the first axis,
    /// so the NaN → fill copy stays small).
    pub fn f32_var(
        &mut self,
        name: &str,
        dims: &[&str],
        data: ArrayViewD<f32>,
        attrs: &[(&str, &str)],
        num_attrs: &[(&str, f64)],
    ) -> Result<()> {
        let shape = data.shape().to_vec();
        self.def_f32(name, dims, &shape, attrs, num_attrs)?;
        if shape.is_empty() {
            let x = data.iter().next().copied().unwrap_or(f32::NAN);
            return self.put_f32(name, &[], &[], &[x]);
        }
        let mut count = shape.clone();
        count[0] = 1;
        let mut buf = Vec::new();
        let mut start = vec![0; shape.len()];
        for (i, sub) in data.axis_iter(Axis(0)).enumerate() {
            start[0] = i;
            buf.clear();
            match sub.as_slice() {
                Some(values) => buf.extend(values.iter().map(with_fill)),
                None => buf.extend(sub.iter().map(with_fill)),
            }
            self.put_slab(name, &start, &count, &buf)?;
        }
        Ok(())
    }

    /// Adds an attribute (text or number) to an existing variable.
    pub fn var_attr(
        &mut self,
        var: &str,
        name: &str,
        value: impl Into<AttributeValue>,
    ) -> Result<()> {
        let value = value.into();
        if let Some(split) = self.splits.get(var).cloned() {
            for v in &split.names {
                self.var_attr(v, name, value.clone())?;
            }
            return Ok(());
        }
        let action = format!("writing attribute {var}:{name}");
        let res = (|| -> std::result::Result<(), netcdf::Error> {
            let f = self.file.as_mut().expect("open");
            let mut v = f
                .variable_mut(var)
                .ok_or_else(|| netcdf::Error::Str(format!("no variable {var}")))?;
            v.put_attribute(name, value)?;
            Ok(())
        })();
        res.map_err(|e| self.err(&action, e))
    }

    /// Closes the file and moves it to its target path.
    pub fn finish(mut self) -> Result<PathBuf> {
        let file = self.file.take().expect("open");
        file.close().map_err(|e| self.err("closing", e))?;
        std::fs::rename(&self.tmp, &self.place).map_err(|e| Error::Write {
            path: self.target.clone(),
            reason: format!("cannot move the finished file into place: {e}"),
        })?;
        log::info!(
            "wrote {} ({} bytes)",
            self.target.display(),
            std::fs::metadata(&self.place).map_or(0, |m| m.len())
        );
        Ok(self.target.clone())
    }
}

impl Drop for CfWriter {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            drop(f);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The member axis of the CDO layout: labels `member01` … (zero-padded to the widest number)
/// and the member numbers as values (`realization`).
fn member_axis(members: &[i32]) -> LabelAxis {
    let width = members
        .iter()
        .map(|m| m.to_string().len())
        .max()
        .unwrap_or(1)
        .max(2);
    LabelAxis {
        values: Some((members.iter().map(|&m| f64::from(m)).collect(), None)),
        standard_name: Some("realization".into()),
        ..LabelAxis::named(
            "member",
            "ensemble member",
            &members
                .iter()
                .map(|m| format!("member{m:0width$}"))
                .collect::<Vec<_>>(),
        )
    }
}

/// Every index combination of axes of lengths `lens`, row-major.
fn combinations(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in lens {
        out = out
            .into_iter()
            .flat_map(|c| {
                (0..n).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    out
}

/// NetCDF's `char` type (text bytes), for label variables.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NcChar(i8);

// SAFETY: a transparent wrapper of one byte, the size and layout of NC_CHAR.
unsafe impl netcdf::NcTypeDescriptor for NcChar {
    fn type_descriptor() -> netcdf::types::NcVariableType {
        netcdf::types::NcVariableType::Char
    }
}

/// Coordinate dimensions written for a cube's horizontal layout, in order (empty for an index
/// series).
pub fn write_spatial(w: &mut CfWriter, spatial: &Spatial) -> Result<Vec<&'static str>> {
    match spatial {
        Spatial::Grid { lat, lon } => {
            w.dimension("lat", lat.len())?;
            w.dimension("lon", lon.len())?;
            w.f64_var(
                "lat",
                &["lat"],
                lat,
                &[
                    ("units", "degrees_north"),
                    ("standard_name", "latitude"),
                    ("long_name", "latitude"),
                    ("axis", "Y"),
                ],
            )?;
            w.f64_var(
                "lon",
                &["lon"],
                lon,
                &[
                    ("units", "degrees_east"),
                    ("standard_name", "longitude"),
                    ("long_name", "longitude"),
                    ("axis", "X"),
                ],
            )?;
            Ok(vec!["lat", "lon"])
        }
        Spatial::Curvilinear { lat, lon } => {
            let (ny, nx) = lat.dim();
            // Not "y"/"x": readers would take those names for a regular grid's lat/lon.
            w.dimension("nj", ny)?;
            w.dimension("ni", nx)?;
            let la: Vec<f64> = lat.iter().copied().collect();
            let lo: Vec<f64> = lon.iter().copied().collect();
            w.f64_var(
                "lat",
                &["nj", "ni"],
                &la,
                &[("units", "degrees_north"), ("standard_name", "latitude")],
            )?;
            w.f64_var(
                "lon",
                &["nj", "ni"],
                &lo,
                &[("units", "degrees_east"), ("standard_name", "longitude")],
            )?;
            Ok(vec!["nj", "ni"])
        }
        Spatial::Points { .. } if spatial.is_index() => Ok(vec![]),
        Spatial::Points { lat, lon, names } => {
            w.dimension("location", lat.len())?;
            w.f64_var(
                "lat",
                &["location"],
                lat,
                &[("units", "degrees_north"), ("standard_name", "latitude")],
            )?;
            w.f64_var(
                "lon",
                &["location"],
                lon,
                &[("units", "degrees_east"), ("standard_name", "longitude")],
            )?;
            w.char_var(
                "station_name",
                "location",
                names,
                &[("cf_role", "timeseries_id"), ("long_name", "station name")],
            )?;
            Ok(vec!["location"])
        }
    }
}

/// Writes the time coordinates of a cube and returns the dimension names they define.
pub fn write_time_axes(w: &mut CfWriter, cube: &Cube) -> Result<Vec<&'static str>> {
    write_time_coords(w, &cube.coords, cube.meta.calendar, cube.meta.kind)
}

/// [`write_time_axes`] from coordinates alone (for files written slab by slab).
pub fn write_time_coords(
    w: &mut CfWriter,
    coords: &crate::cube::Coords,
    cal: crate::calendar::Calendar,
    kind: CubeKind,
) -> Result<Vec<&'static str>> {
    let coding = TimeCoding::new(
        crate::calendar::TimeUnit::Days,
        CfDateTime::ymd(1970, 1, 1),
        cal,
    )?;
    let units = coding.units_string();
    let enc = |d: &CfDateTime| coding.encode(d);
    let times: Vec<f64> = coords.init.iter().map(enc).collect::<Result<_>>()?;
    match kind {
        CubeKind::Observed => {
            w.dimension("time", times.len())?;
            w.f64_var(
                "time",
                &["time"],
                &times,
                &[
                    ("units", &units),
                    ("calendar", cal.cf_name()),
                    ("standard_name", "time"),
                    ("axis", "T"),
                ],
            )?;
            Ok(vec!["time"])
        }
        CubeKind::Forecast => {
            w.dimension("init", times.len())?;
            let members_as_dimension = w.layout() == ProductLayout::Nd;
            // CDO layout: a single member (a deterministic field, a product regridded) is no
            // axis at all.
            let no_member_axis = !members_as_dimension && coords.member.len() == 1;
            if !coords.member.is_empty() && members_as_dimension {
                w.dimension("member", coords.member.len())?;
            }
            w.dimension("lead", coords.lead.len())?;
            w.dimension("bnds", 2)?;
            w.f64_var(
                "init",
                &["init"],
                &times,
                &[
                    ("units", &units),
                    ("calendar", cal.cf_name()),
                    ("standard_name", "forecast_reference_time"),
                    ("long_name", "initialisation (start) date"),
                ],
            )?;
            if !coords.member.is_empty() && members_as_dimension {
                w.i32_var(
                    "member",
                    &["member"],
                    &coords.member,
                    &[
                        ("standard_name", "realization"),
                        ("long_name", "ensemble member"),
                    ],
                )?;
            } else if !coords.member.is_empty() && !no_member_axis {
                // CDO layout: one variable per member (`pr_member01`), each saying its number.
                w.label_axis(member_axis(&coords.member))?;
            }
            let unit = coords
                .lead
                .first()
                .map(|l| l.unit)
                .unwrap_or(crate::cube::LeadUnit::Month);
            if coords.lead.iter().any(|l| l.unit != unit) {
                return Err(Error::invalid(
                    "leads",
                    "leads of one cube must share a unit to be written",
                ));
            }
            let starts: Vec<f64> = coords.lead.iter().map(|l| l.start).collect();
            let bnds: Vec<f64> = coords
                .lead
                .iter()
                .flat_map(|l| [l.start, l.start + l.width])
                .collect();
            let unit_name = unit.cf_name();
            w.f64_var(
                "lead",
                &["lead"],
                &starts,
                &[
                    ("units", unit_name),
                    ("standard_name", "forecast_period"),
                    (
                        "long_name",
                        "start of the target period after the initialisation date",
                    ),
                    ("bounds", "lead_bnds"),
                ],
            )?;
            // CF 7.1: bounds take their coordinate's units.
            w.f64_var("lead_bnds", &["lead", "bnds"], &bnds, &[])?;
            let mut valid = Vec::with_capacity(times.len() * coords.lead.len());
            for i in 0..coords.init.len() {
                for l in 0..coords.lead.len() {
                    valid.push(enc(&coords.lead[l].period(&coords.init[i], cal)?.0)?);
                }
            }
            w.f64_var(
                "valid_time",
                &["init", "lead"],
                &valid,
                &[
                    ("units", &units),
                    ("calendar", cal.cf_name()),
                    ("standard_name", "time"),
                    ("long_name", "start of the target period"),
                ],
            )?;
            Ok(if coords.member.is_empty() || no_member_axis {
                vec!["init", "lead"]
            } else {
                vec!["init", "member", "lead"]
            })
        }
    }
}

/// Attributes of a cube's data variable.
pub fn variable_attrs(cube: &Cube) -> Vec<(String, String)> {
    let m = &cube.meta;
    let mut a = vec![("units".to_string(), m.units.clone())];
    // Precipitation in the engine's mm/day is a rate of liquid-water-equivalent depth; in the
    // file's own units (kept, e.g. by `s2s regrid`) its standard name stays the file's.
    let canonical_precip =
        m.quantity == crate::units::Quantity::Precipitation && m.units == "mm/day";
    if canonical_precip {
        a.push(("standard_name".into(), "lwe_precipitation_rate".into()));
    } else if let Some(s) = &m.standard_name {
        a.push(("standard_name".into(), s.clone()));
    }
    if let Some(l) = &m.long_name {
        a.push(("long_name".into(), l.clone()));
    }
    for (k, v) in &m.attributes {
        if !matches!(k.as_str(), "source_file" | "history") {
            a.push((k.clone(), v.clone()));
        }
    }
    a
}

/// Writes a cube as a CF-1.8 NetCDF-4 file (see the module doc for the layout).
pub fn write_cube(path: impl AsRef<Path>, cube: &Cube, opts: &WriteOptions) -> Result<PathBuf> {
    write_cubes(path, &[cube], opts)
}

/// Writes several variables that share coordinates (same dates, members, leads and grid) into
/// one file; the first cube's model name and input history head the file.
pub fn write_cubes(
    path: impl AsRef<Path>,
    cubes: &[&Cube],
    opts: &WriteOptions,
) -> Result<PathBuf> {
    let path = path.as_ref();
    let first = *cubes
        .first()
        .ok_or_else(|| Error::invalid("output", "no variable to write"))?;
    for c in &cubes[1..] {
        if c.coords != first.coords
            || c.meta.kind != first.meta.kind
            || c.meta.calendar != first.meta.calendar
        {
            return Err(Error::mismatch(
                format!(
                    "variables {} and {} of {}",
                    first.meta.variable,
                    c.meta.variable,
                    path.display()
                ),
                "one file holds variables on the same dates, members, leads and grid",
            ));
        }
    }
    let mut w = CfWriter::create(path, opts)?;
    w.set_history(
        opts.history.as_deref(),
        first.meta.attributes.get("history").map(String::as_str),
    )?;
    w.global_text("model", &first.meta.model)?;
    let undated = opts.undated && first.meta.kind == CubeKind::Observed && first.n_init() == 1;
    let mut dims = if undated {
        Vec::new()
    } else {
        write_time_axes(&mut w, first)?
    };
    dims.extend(write_spatial(&mut w, &first.coords.spatial)?);
    for cube in cubes {
        write_variable(&mut w, cube, &dims, undated)?;
    }
    w.finish()
}

/// One data variable of a cube whose coordinates `dims` are already in the file.
fn write_variable(w: &mut CfWriter, cube: &Cube, dims: &[&str], undated: bool) -> Result<()> {
    let data = match cube.meta.kind {
        // An undated field: its only time step, no time axis.
        CubeKind::Observed if undated => cube
            .values
            .index_axis(Axis(0), 0)
            .index_axis_move(Axis(0), 0)
            .index_axis_move(Axis(0), 0)
            .into_dyn(),
        // An observed series: drop the member and lead axes.
        CubeKind::Observed => cube
            .values
            .index_axis(Axis(1), 0)
            .index_axis_move(Axis(1), 0)
            .into_dyn(),
        // The CDO layout writes a single member without a member axis.
        CubeKind::Forecast if !dims.contains(&"member") => {
            cube.values.index_axis(Axis(1), 0).into_dyn()
        }
        CubeKind::Forecast => cube.values.view().into_dyn(),
    };
    // Points: drop the length-1 y axis; index series: drop both spatial axes.
    let nd = data.ndim();
    let data = match &cube.coords.spatial {
        Spatial::Points { .. } if cube.coords.spatial.is_index() => data
            .index_axis_move(Axis(nd - 1), 0)
            .index_axis_move(Axis(nd - 2), 0),
        Spatial::Points { .. } => data.index_axis_move(Axis(nd - 2), 0),
        _ => data,
    };
    let attrs = variable_attrs(cube);
    let processing = cube.meta.history.join("\n");
    let mut attr_refs: Vec<(&str, &str)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let coordinates = match (&cube.meta.kind, &cube.coords.spatial) {
        (CubeKind::Forecast, Spatial::Curvilinear { .. }) => Some("valid_time lat lon"),
        (CubeKind::Forecast, Spatial::Points { .. }) if !cube.coords.spatial.is_index() => {
            Some("valid_time lat lon station_name")
        }
        (CubeKind::Forecast, _) => Some("valid_time"),
        (CubeKind::Observed, Spatial::Curvilinear { .. }) => Some("lat lon"),
        (CubeKind::Observed, Spatial::Points { .. }) if !cube.coords.spatial.is_index() => {
            Some("lat lon station_name")
        }
        _ => None,
    };
    if let Some(c) = coordinates {
        attr_refs.push(("coordinates", c));
    }
    if matches!(cube.coords.spatial, Spatial::Points { .. })
        && !cube.coords.spatial.is_index()
        && cube.meta.kind == CubeKind::Observed
    {
        w.global_text("featureType", "timeSeries")?;
    }
    if !processing.is_empty() {
        attr_refs.push(("processing", &processing));
    }
    let name = cube.meta.variable.clone();
    w.f32_var(&name, dims, data, &attr_refs, &[])?;
    // The index of a per-label variable is carried as text through the cube: a number again.
    if let Some(index) = cube.meta.attributes.get(ND_INDEX_ATTR) {
        let numbers: Option<Vec<i32>> = index.split_whitespace().map(|t| t.parse().ok()).collect();
        if let Some(n) = numbers.filter(|n| !n.is_empty()) {
            w.var_attr(&name, ND_INDEX_ATTR, n)?;
        }
    }
    Ok(())
}

/// A `time` coordinate on dimension `time` (defined by the caller) in hours since midnight of
/// `start`, standard calendar.
pub fn write_hours_since(w: &mut CfWriter, hours: &[f64], start: &CfDateTime) -> Result<()> {
    let units = format!(
        "hours since {:04}-{:02}-{:02} 00:00:00",
        start.year, start.month, start.day
    );
    w.f64_var(
        "time",
        &["time"],
        hours,
        &[
            ("standard_name", "time"),
            ("units", &units),
            ("calendar", "standard"),
            ("axis", "T"),
        ],
    )
}

/// Writes a text file (CSV, track files, Markdown) under a temporary name in the target's
/// directory and renames it into place, so a failed write never leaves a partial file.
pub fn write_text_atomic(target: impl AsRef<Path>, text: &str) -> Result<PathBuf> {
    write_bytes_atomic(target, text.as_bytes())
}

/// Writes `bytes` to `target` through a temporary file beside it (complete or not at all).
pub fn write_bytes_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf> {
    let target = target.as_ref();
    crate::outputs::staging::write_through_temporary(target, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| Error::Write {
            path: target.to_path_buf(),
            reason: e.to_string(),
        })
    })
}
