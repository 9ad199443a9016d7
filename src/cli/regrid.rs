//! `s2s regrid`: every data variable of a file onto another grid.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use s2s_ensemble::cube::BBox;
use s2s_ensemble::grid::{regrid_cube, LonLatGrid, Method, WeightCache};
use s2s_ensemble::io::{read_cube, read_spatial, write_cubes, DimMapping, ReadOptions};
use s2s_ensemble::progress::Progress;

use super::progress::Bars;
use super::Globals;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    /// Bilinear interpolation (like `cdo remapbil`): smooth fields, temperature.
    Bilinear,
    /// First-order conservative (like `cdo remapcon`): precipitation, anything summed or averaged
    /// over areas.
    Conservative,
    /// Inverse-distance weighting of the 4 nearest source centres (like `cdo remapdis`): the
    /// method for curvilinear and projected sources (ROMS, NEMO, polar stereographic).
    /// Grid-relative vector pairs (standard names `sea_water_x/y_velocity`, `x/y_wind`, …,
    /// staggered or not) are rotated to eastward/northward first.
    Distance,
}

#[derive(Debug, Args)]
pub struct RegridArgs {
    /// Regridding method.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// Target: a regular grid of this spacing in degrees, `DLAT` or `DLATxDLON`.
    #[arg(
        long,
        value_name = "DLAT[xDLON]",
        conflicts_with = "like",
        required_unless_present = "like"
    )]
    grid: Option<String>,
    /// With --grid: only this box, `W,E,S,N` in degrees (cell edges on the box edges).
    #[arg(
        long,
        value_name = "W,E,S,N",
        requires = "grid",
        allow_hyphen_values = true
    )]
    bbox: Option<String>,
    /// Target: the grid of (the first data variable of) this file.
    #[arg(long, value_name = "FILE")]
    like: Option<PathBuf>,
    /// Dimension roles of the input, overriding detection: role=dim,...
    #[arg(long, value_name = "MAPPING")]
    dims: Option<String>,
    /// Date of an input with no time coordinate (a snapshot without `time`/`valid_time`),
    /// `YYYY-MM-DD[THH]` UTC; without it such an input is regridded and written undated.
    #[arg(long, value_name = "DATE", value_parser = super::parse_time)]
    time: Option<s2s_ensemble::calendar::CfDateTime>,
    /// Input NetCDF file.
    input: PathBuf,
    /// Output NetCDF file (written whole or not at all).
    output: PathBuf,
}

pub fn run(args: &RegridArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let dims = match &args.dims {
        Some(d) => DimMapping::parse(d).map_err(|e| anyhow::anyhow!("--dims: {e}"))?,
        None => DimMapping::default(),
    };
    let target = match (&args.grid, &args.like) {
        (Some(spec), None) => {
            let (dlat, dlon) = LonLatGrid::parse_spacing(spec)?;
            let bbox = args.bbox.as_deref().map(BBox::parse).transpose()?;
            LonLatGrid::regular(dlat, dlon, bbox.as_ref())?
        }
        (None, Some(like)) => {
            // The grid of its first data variable, as the option says (a file of several
            // variables on one grid is the usual case).
            let first = s2s_ensemble::io::inspect::data_variable_names(like)?
                .into_iter()
                .next();
            let spatial = read_spatial(like, first.as_deref(), &DimMapping::default())?;
            LonLatGrid::from_spatial(&spatial)
                .with_context(|| format!("{}: target grid", like.display()))?
        }
        _ => bail!("give either --grid or --like"),
    };
    // Every data variable, in the file's units: regridding changes the grid, nothing else.
    // Categories (CF flags, e.g. dominant_category) are left out: an interpolated category
    // is no category; they are recomputed from the regridded probabilities.
    let categorical = s2s_ensemble::io::inspect::categorical_variables(&args.input)?;
    let file_vars: Vec<String> = s2s_ensemble::io::inspect::data_variable_names(&args.input)?
        .into_iter()
        .filter(|v| !categorical.contains(v))
        .collect();
    if file_vars.is_empty() {
        bail!(
            "{}: every data variable is categorical ({}): interpolation does not apply to categories",
            args.input.display(),
            categorical.join(", ")
        );
    }
    if !categorical.is_empty() && !g.quiet {
        errln!(
            "note: {}: categorical variables not regridded (an interpolated category is no category): {}",
            args.input.display(),
            categorical.join(", ")
        );
    }
    let source = read_spatial(&args.input, Some(&file_vars[0]), &dims)?;
    let curvilinear = matches!(source, s2s_ensemble::cube::Spatial::Curvilinear { .. });
    if curvilinear || matches!(args.method, MethodArg::Distance) {
        if !matches!(args.method, MethodArg::Distance) {
            bail!(
                "{}: a curvilinear grid ({}): regrid it with --method distance (inverse-distance weighting, as cdo remapdis)",
                args.input.display(),
                source.describe()
            );
        }
        return regrid_by_distance(args, g, &file_vars, &dims, &target);
    }
    // Read only the source cells the target needs.
    let src_grid = LonLatGrid::from_spatial(&source)
        .with_context(|| format!("{}: variable '{}'", args.input.display(), file_vars[0]))?;
    let read_box = target.source_box(&src_grid);
    // A field without any time coordinate (a land mask, a snapshot) stays undated, as CDO
    // keeps it, unless --time dates it.
    let (undated, time) = dating(args, &file_vars[0], &dims)?;
    let bars = Bars::new(g.quiet);
    bars.start("regridding", file_vars.len() as u64);
    let mut cubes = Vec::with_capacity(file_vars.len());
    let mut cache = WeightCache::new(
        match args.method {
            MethodArg::Bilinear => Method::Bilinear,
            // (distance weighting returned above)
            MethodArg::Conservative | MethodArg::Distance => Method::Conservative,
        },
        target,
    );
    for var in &file_vars {
        let opts = ReadOptions {
            variable: Some(var.clone()),
            dims: dims.clone(),
            keep_units: true,
            bbox: read_box,
            time,
            ..Default::default()
        };
        let cube = read_cube(&args.input, &opts)?;
        let src = LonLatGrid::from_spatial(&cube.coords.spatial)
            .with_context(|| format!("{}: variable '{var}'", args.input.display()))?;
        cubes.push(regrid_cube(&cube, cache.from_source(&src)?)?);
        bars.advance(1);
    }
    bars.finish();
    write_regridded(args, g, &cubes, undated, cache.target(), "")
}

/// Whether the input has no time coordinate and is written undated (unless `--time` dates
/// it), and the date to read it with: `--time`, or a placeholder for an undated field.
fn dating(
    args: &RegridArgs,
    first_var: &str,
    dims: &DimMapping,
) -> anyhow::Result<(bool, Option<s2s_ensemble::calendar::CfDateTime>)> {
    let undated = args.time.is_none()
        && !s2s_ensemble::io::has_time_coordinate(&args.input, Some(first_var), dims)?;
    let time = args
        .time
        .or(undated.then(|| s2s_ensemble::calendar::CfDateTime::ymd(1970, 1, 1)));
    Ok((undated, time))
}

/// Writes the regridded variables (whole or not at all) and says so.
fn write_regridded(
    args: &RegridArgs,
    g: &Globals,
    cubes: &[s2s_ensemble::Cube],
    undated: bool,
    target: &LonLatGrid,
    how: &str,
) -> anyhow::Result<ExitCode> {
    let refs: Vec<&s2s_ensemble::Cube> = cubes.iter().collect();
    let opts = s2s_ensemble::io::WriteOptions {
        undated,
        ..g.write_options()
    };
    write_cubes(&args.output, &refs, &opts)?;
    if !g.quiet {
        errln!(
            "regridded {} variable(s){how} to {} x {} (lat x lon): {}",
            cubes.len(),
            target.ny(),
            target.nx(),
            args.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--method distance`: every variable read whole and regridded by inverse-distance weighting
/// (curvilinear and projected sources).
fn regrid_by_distance(
    args: &RegridArgs,
    g: &Globals,
    file_vars: &[String],
    dims: &DimMapping,
    target: &LonLatGrid,
) -> anyhow::Result<ExitCode> {
    let (undated, time) = dating(args, &file_vars[0], dims)?;
    let mut sources = Vec::with_capacity(file_vars.len());
    for var in file_vars {
        let opts = ReadOptions {
            variable: Some(var.clone()),
            dims: dims.clone(),
            keep_units: true,
            time,
            ..Default::default()
        };
        sources.push(read_cube(&args.input, &opts)?);
    }
    // grid-relative vectors (sea_water_x/y_velocity, x/y_wind, …) are turned to east/north at
    // their own points before regridding: on a lon/lat grid only east/north mean anything
    let names: Vec<Option<String>> = sources
        .iter()
        .map(|c| c.meta.standard_name.clone())
        .collect();
    let rotated = s2s_ensemble::grid::vectors::rotate_pairs(&mut sources, |x| {
        s2s_ensemble::io::grid_axis_signs(&args.input, Some(&file_vars[x]), dims)
    })
    .with_context(|| {
        format!(
            "{}: turning grid-relative vectors to east/north",
            args.input.display()
        )
    })?;
    let name = |k: usize, of: &[Option<String>]| of[k].clone().unwrap_or_default();
    if !g.quiet {
        for &k in &rotated.lone {
            errln!(
                "note: {}: '{}' ({}) is one component of a grid-relative vector without the other in this file: regridded as it is, still along the source grid's axes (give both components in one file to have them turned to east/north)",
                args.input.display(),
                file_vars[k],
                name(k, &names)
            );
        }
        let now: Vec<Option<String>> = sources
            .iter()
            .map(|c| c.meta.standard_name.clone())
            .collect();
        for &(x, y) in &rotated.pairs {
            errln!(
                "note: {}: '{}' and '{}' are grid-relative ({}, {}): rotated to {} and {} before regridding",
                args.input.display(),
                file_vars[x],
                file_vars[y],
                name(x, &names),
                name(y, &names),
                name(x, &now),
                name(y, &now)
            );
        }
    }
    // weights found once per source grid (the variables of a file mostly share one)
    let mut weights: Vec<s2s_ensemble::grid::distance::ToLonLat> = Vec::new();
    let mut cubes = Vec::with_capacity(sources.len());
    for (cube, var) in sources.iter().zip(file_vars) {
        let context = || format!("{}: variable '{var}'", args.input.display());
        let k = match weights
            .iter()
            .position(|w| w.source() == &cube.coords.spatial)
        {
            Some(k) => k,
            None => {
                weights.push(
                    s2s_ensemble::grid::distance::ToLonLat::new(&cube.coords.spatial, target)
                        .with_context(context)?,
                );
                weights.len() - 1
            }
        };
        cubes.push(weights[k].regrid(cube).with_context(context)?);
    }
    write_regridded(args, g, &cubes, undated, target, " by distance weighting")
}
