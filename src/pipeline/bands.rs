//! The steps the distributed jobs share ([`crate::distributed`], `mpirun -n N`): the bands of
//! a job's grid balanced by work, a model file read by blocks of start dates (whole maps, the
//! files' storage order) and exchanged so that every rank holds its band's rows, and an output
//! set staged and committed by rank 0 alone once every rank has finished.
//!
//! A file stored in whole maps (a chunk spans the latitudes) is read once in all: each rank
//! reads the whole maps of its block of start dates and sends every rank the rows of its band
//! (one all-to-all per file). Reading a band of every map instead would decompress every chunk
//! once per rank.

use std::path::Path;

use crate::cube::Spatial;
use crate::distributed::products::{
    check_bands, decode_cube_blocks, encode_checks, encode_cube_rows, report_checks,
};
use crate::distributed::{agree, fail_together, Bands, Ranks};
use crate::error::Result;
use crate::io::{read_spatial, read_var, resolve_var, DimMapping, FieldChecks, ReadOptions};
use crate::Cube;

/// Runs `job` with rank 0's outputs staged in `out` and committed after the job's last
/// agreement (every rank has then finished); on failure nothing is left.
pub(super) fn staged_on_root<T>(
    ranks: &dyn Ranks,
    out: &Path,
    job: impl FnOnce() -> Result<Option<T>>,
) -> Result<Option<T>> {
    let set = if ranks.is_root() {
        match crate::outputs::staging::OutputSet::begin(out) {
            Ok(s) => Some(s),
            // the others wait in the job's first agreement: they learn it there
            Err(e) => return Err(fail_together(ranks, e)),
        }
    } else {
        None
    };
    let report = job()?;
    if let Some(set) = set {
        set.commit()?;
    }
    Ok(report)
}

/// The bands of the grid of `var` in `path` for `n` ranks, balanced by the cells with data of
/// its first start date (read with `sample`'s options: years, model, units); the whole field
/// on rank 0 for points and curvilinear grids.
pub(super) fn grid_bands(
    path: &Path,
    var: Option<&str>,
    sample: ReadOptions,
    n: usize,
) -> Result<Bands> {
    let name = var.map(|v| resolve_var(path, v)).transpose()?;
    let grid = read_spatial(path, name.as_deref(), &DimMapping::default())?;
    if !matches!(grid, Spatial::Grid { .. }) {
        return Ok(Bands::whole_on_root(grid, n));
    }
    Ok(Bands::balanced(grid, &first_start(path, var, sample)?, n))
}

/// The first start date's first lead of `var` in `path`, read with `opts` (years, model),
/// without the whole-field checks: a sample, whose emptiness is for the job's own read of the
/// whole field to find (and word as one process does).
fn first_start(path: &Path, var: Option<&str>, opts: ReadOptions) -> Result<Cube> {
    let first = ReadOptions {
        leads: Some(vec![0]),
        time_steps: Some((0, 1)),
        checks_by_caller: true,
        ..opts
    };
    read_var(path, var, first)
}

/// The start dates of `var` in `path` a read with `opts` (its years) would give, from a read
/// of one start date of its first lead.
pub(super) fn start_count(path: &Path, var: Option<&str>, opts: ReadOptions) -> Result<usize> {
    let first = first_start(path, var, opts)?;
    Ok(first.meta.source_time_steps.unwrap_or(first.n_init()))
}

/// One file of `total` start dates exchanged between the ranks: this rank reads its block of
/// start dates with `read` (whole maps, its whole-field checks left to the caller, as
/// [`ReadOptions::checks_by_caller`]), every rank checks the merged counts, and each receives
/// the rows of its band (with `halo` rows on each side). `None` on a rank without a band;
/// a failure to decode what arrived is this rank's own, for the caller to agree on.
pub(super) fn exchange_rows(
    ranks: &dyn Ranks,
    bands: &Bands,
    halo: usize,
    total: usize,
    read: impl FnOnce((usize, usize)) -> Result<Cube>,
    file: (&Path, &str),
) -> Result<Option<Result<Cube>>> {
    exchange_rows_then(ranks, bands, halo, total, read, Ok, file)
}

/// [`exchange_rows`] with a step between the read and the exchange: `then` turns the block
/// as read (whose whole-field checks are counted) into what the ranks exchange — the
/// outlook's target-period means on the run's grid, made of whole maps as one process makes
/// them.
pub(super) fn exchange_rows_then(
    ranks: &dyn Ranks,
    bands: &Bands,
    halo: usize,
    total: usize,
    read: impl FnOnce((usize, usize)) -> Result<Cube>,
    then: impl FnOnce(Cube) -> Result<Cube>,
    (path, variable): (&Path, &str),
) -> Result<Option<Result<Cube>>> {
    let (rank, n) = (ranks.rank(), ranks.size());
    let piece = (|| -> Result<(Vec<Vec<u8>>, Vec<u8>)> {
        let mut to_each = vec![Vec::new(); n];
        let mut report = Vec::new();
        let Some(steps) = Bands::start_block(total, rank, n) else {
            encode_checks(&FieldChecks::default(), false, &mut report);
            return Ok((to_each, report));
        };
        let block = read(steps)?;
        report_checks(&[&block], false, &mut report);
        let block = then(block)?;
        for (r, piece) in to_each.iter_mut().enumerate() {
            if !bands.mine(r).is_empty() {
                encode_cube_rows(&block, bands.read_rows(r, halo), piece)?;
            }
        }
        Ok((to_each, report))
    })();
    let (to_each, reports) = agree(ranks, piece)?;
    check_bands(&reports, &[path], variable)?;
    let parts = ranks.all_to_all_bytes(&to_each);
    drop(to_each);
    Ok((!bands.mine(rank).is_empty()).then(|| decode_cube_blocks(&parts)))
}

/// The rows of `cube` (a lat/lon grid) within `[south, north]` degrees north: a rank's band of
/// a file every rank reads whole (observations, given probabilities), cut by latitude so that
/// a file on another grid is still refused by the grid checks that follow.
pub(super) fn rows_within(cube: Cube, (south, north): (f64, f64)) -> Result<Cube> {
    let Spatial::Grid { lat, lon } = &cube.coords.spatial else {
        return Err(crate::Error::invalid(
            "a band of rows",
            format!("{} is not on a lat/lon grid", cube.meta.model),
        ));
    };
    let rows: Vec<usize> = (0..lat.len())
        .filter(|&y| lat[y] >= south && lat[y] <= north)
        .collect();
    let coords = crate::cube::Coords {
        spatial: Spatial::Grid {
            lat: rows.iter().map(|&y| lat[y]).collect(),
            lon: lon.clone(),
        },
        ..cube.coords.clone()
    };
    let values = cube.values.select(ndarray::Axis(3), &rows);
    Cube::new(values, coords, cube.meta)
}
