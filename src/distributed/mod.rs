//! Runs spread over the processes of an MPI job (`mpirun -n N s2s combine …`): which latitude
//! rows each process reads and computes, how the processes agree on failures and on the
//! whole-field checks, and how one process gathers the bands it writes.
//!
//! # Design
//!
//! The grid is cut into `N` bands of whole latitude rows, one per process (rank), balanced
//! by estimated work: a row costs its cells with data plus [`MISSING_CELL_COST`] of each cell
//! without (ocean under a land-only variable is read and skipped, not computed). Each rank
//! reads only its band (a hyperslab, [`crate::io::ReadOptions::lat_band`]) through its own
//! libnetcdf — separate processes do not share the library's global lock, so N ranks read N
//! hyperslabs at once — and computes it with rayon inside the rank. A job whose values depend on
//! neighbouring cells reads `r` more rows on each side (a halo: skill pooled over
//! `(2r+1)²` cells) and drops them after computing; a job that needs the whole field at once
//! (principal-component regression) runs on rank 0 alone.
//!
//! Rank 0 gathers each lead's products (a few fields per category, much smaller than the
//! members they come from) and writes them with the same writer, in the same order, as one
//! process does. That is why the output is byte-identical to the non-MPI binary's: a parallel
//! NetCDF-4 write lays its chunks out in the order the ranks reach them, and deflate under
//! parallel HDF5 needs collective writes of equal-sized pieces; the gather costs one copy of
//! the products over the interconnect, against reading every member.
//!
//! Every step that can fail in one rank only (a file, a band) ends in [`agree`]: the ranks
//! exchange their outcome, and if one failed all stop with its error — never with one rank
//! waiting forever for the others. The whole-field checks of a read (all values missing,
//! implausibly dry or wet precipitation) are made on the counts of every band merged
//! ([`crate::io::FieldChecks`]), as one read of the whole field makes them.
//!
//! Without the `mpi` feature the only [`Ranks`] is [`OneProcess`] and nothing changes.

use std::ops::Range;

use crate::cube::{Cube, Spatial};
use crate::error::{Error, Result};

#[cfg(feature = "mpi")]
pub mod mpi;
#[cfg(feature = "netcdf")]
pub mod products;

/// The processes of a run, as the jobs see them: who this one is, and the two collective
/// operations the jobs need. Every rank must make the same calls in the same order.
pub trait Ranks {
    /// This process, 0-based.
    fn rank(&self) -> usize;
    /// Processes in the run.
    fn size(&self) -> usize;
    /// Every rank's bytes, in rank order, on every rank.
    fn all_gather_bytes(&self, mine: &[u8]) -> Vec<Vec<u8>>;
    /// Every rank's bytes, in rank order, on rank 0; an empty list on the others.
    fn gather_bytes_to_root(&self, mine: &[u8]) -> Vec<Vec<u8>>;
    /// Each rank's `to_each[r]` delivered to rank `r`: what rank `q` sent this one, in rank
    /// order. (This default gathers everything everywhere; MPI sends each piece once.)
    fn all_to_all_bytes(&self, to_each: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut mine = Vec::new();
        for piece in to_each {
            put_u64(&mut mine, piece.len() as u64);
            mine.extend_from_slice(piece);
        }
        let me = self.rank();
        self.all_gather_bytes(&mine)
            .into_iter()
            .map(|all| {
                // the sender's piece for this rank: skip the ones before it
                let mut at = 0;
                for _ in 0..me {
                    let len = take_u64(&all, &mut at).unwrap_or(0) as usize;
                    at += len;
                }
                let len = take_u64(&all, &mut at).unwrap_or(0) as usize;
                all.get(at..at + len).unwrap_or_default().to_vec()
            })
            .collect()
    }
    /// Whether this is rank 0, the one that writes and prints.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// A run of one process: no communication at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneProcess;

impl Ranks for OneProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        vec![mine.to_vec()]
    }
    fn gather_bytes_to_root(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        vec![mine.to_vec()]
    }
    fn all_to_all_bytes(&self, to_each: &[Vec<u8>]) -> Vec<Vec<u8>> {
        to_each.iter().take(1).cloned().collect()
    }
}

/// Which rows of a job's grid each rank reads and computes.
#[derive(Debug, Clone)]
pub struct Bands {
    /// The whole grid (what rank 0 writes).
    pub grid: Spatial,
    /// Each rank's own rows, in rank order, south to north.
    pub rows: Vec<Range<usize>>,
    /// Whether the ranks read bands of a lat/lon grid; `false`: rank 0 reads and computes the
    /// whole field, the others nothing.
    pub decomposed: bool,
}

impl Bands {
    /// The whole field on rank 0: points, curvilinear grids, and jobs that need every cell at
    /// once.
    pub fn whole_on_root(grid: Spatial, n: usize) -> Bands {
        let (ny, _) = grid.shape();
        Bands {
            rows: (0..n.max(1))
                .map(|r| if r == 0 { 0..ny } else { ny..ny })
                .collect(),
            grid,
            decomposed: false,
        }
    }

    /// Bands of a lat/lon grid balanced by work ([`row_costs`], [`lat_bands`]) from a sample
    /// field of the job (any start and member: which cells have data); the whole field on
    /// rank 0 for any other layout.
    pub fn balanced(grid: Spatial, sample: &Cube, n: usize) -> Bands {
        if !matches!(grid, Spatial::Grid { .. }) || sample.coords.spatial.shape() != grid.shape() {
            return Bands::whole_on_root(grid, n);
        }
        let (_, _, _, ny, nx) = sample.values.dim();
        let mut finite = vec![0usize; ny];
        for (y, f) in finite.iter_mut().enumerate() {
            *f = (0..nx)
                .filter(|&x| {
                    sample
                        .values
                        .slice(ndarray::s![.., .., .., y, x])
                        .iter()
                        .any(|v| v.is_finite())
                })
                .count();
        }
        Bands {
            rows: lat_bands(&row_costs(&finite, nx), n),
            grid,
            decomposed: true,
        }
    }

    /// Rank `rank`'s own rows.
    pub fn mine(&self, rank: usize) -> Range<usize> {
        self.rows[rank].clone()
    }

    /// The rows rank `rank` reads: its own and `halo` more on each side.
    pub fn read_rows(&self, rank: usize, halo: usize) -> Range<usize> {
        with_halo(&self.rows[rank], halo, self.grid.shape().0)
    }

    /// The latitudes rank `rank` reads ([`crate::io::ReadOptions::lat_band`]); `None` when it
    /// reads the whole field or nothing.
    pub fn lat_band(&self, rank: usize, halo: usize) -> Option<(f64, f64)> {
        match &self.grid {
            Spatial::Grid { lat, .. } if self.decomposed && !self.rows[rank].is_empty() => {
                Some(lat_range(lat, &self.read_rows(rank, halo)))
            }
            _ => None,
        }
    }

    /// The start dates `start..start + count` of `total` that rank `rank` reads whole maps of
    /// (blocks in rank order); `None` when there are fewer dates than ranks before it.
    pub fn start_block(total: usize, rank: usize, n: usize) -> Option<(usize, usize)> {
        let per = total.div_ceil(n.max(1));
        let start = rank * per;
        (start < total && per > 0).then(|| (start, per.min(total - start)))
    }

    /// Where rank `rank`'s own rows lie in the rows it read.
    pub fn own_in_read(&self, rank: usize, halo: usize) -> Range<usize> {
        let (mine, read) = (self.mine(rank), self.read_rows(rank, halo));
        (mine.start - read.start)..(mine.end - read.start)
    }
}

/// The cost of a cell without data relative to one with data when bands are balanced: it is
/// read and decoded like the others but skips the per-cell statistics, which are most of a
/// combination's time (a tenth is the reading's share of a lead's time on one core).
pub const MISSING_CELL_COST: f64 = 0.1;

/// The work of each latitude row: its cells with data plus [`MISSING_CELL_COST`] of the
/// others, from `finite[y]` cells with data of `nx` in each row.
pub fn row_costs(finite: &[usize], nx: usize) -> Vec<f64> {
    finite
        .iter()
        .map(|&f| f as f64 + MISSING_CELL_COST * nx.saturating_sub(f) as f64)
        .collect()
}

/// `n` bands of consecutive rows, in order, covering every row once, each as close as whole
/// rows allow to an `n`-th of the total cost: a band ends where the cumulative cost crosses
/// its share. With at least `n` rows no band is empty; with fewer, the first `ny` ranks get a
/// row each.
pub fn lat_bands(costs: &[f64], n: usize) -> Vec<Range<usize>> {
    let ny = costs.len();
    let n = n.max(1);
    if ny <= n {
        // a row each for the first ranks (rank 0 always has one: it defines the outputs)
        return (0..n).map(|b| b.min(ny)..(b + 1).min(ny)).collect();
    }
    let total: f64 = costs.iter().map(|c| c.max(0.0)).sum();
    let mut bands = Vec::with_capacity(n);
    let mut start = 0;
    let mut cumulative = 0.0;
    for b in 0..n {
        let left = n - b - 1; // bands after this one
        let mut end = start;
        if b + 1 == n {
            end = ny;
        } else {
            let target = total * (b + 1) as f64 / n as f64;
            // at least one row when rows are left for the later bands, and leave one per band
            while end < ny.saturating_sub(left) {
                let c = costs[end].max(0.0);
                // stop before a row that overshoots the share by more than it undershoots
                if end > start && cumulative + c - target > target - cumulative {
                    break;
                }
                cumulative += c;
                end += 1;
                if cumulative >= target {
                    break;
                }
            }
        }
        bands.push(start..end);
        start = end;
    }
    bands
}

/// The rows a band reads: `halo` more on each side, within `0..ny`.
pub fn with_halo(band: &Range<usize>, halo: usize, ny: usize) -> Range<usize> {
    band.start.saturating_sub(halo)..(band.end + halo).min(ny)
}

/// The latitudes `[south, north]` that select `rows` of the ascending latitudes `lat`, padded
/// by a quarter of the smallest spacing for coordinate jitter (other files of the run on the
/// same grid up to jitter select the same rows).
pub fn lat_range(lat: &[f64], rows: &Range<usize>) -> (f64, f64) {
    let spacing = lat
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let pad = if spacing.is_finite() {
        spacing / 4.0
    } else {
        1e-6
    };
    (lat[rows.start] - pad, lat[rows.end - 1] + pad)
}

/// The outcome of a step every rank took, agreed: `Ok` on every rank when every rank
/// succeeded (with each rank's `report` bytes, in rank order), else an error on every rank —
/// a failing rank keeps its own, the others get the lowest failing rank's message.
pub fn agree<T>(ranks: &dyn Ranks, outcome: Result<(T, Vec<u8>)>) -> Result<(T, Vec<Vec<u8>>)> {
    let mine = match &outcome {
        Ok((_, report)) => {
            let mut b = vec![0u8];
            b.extend_from_slice(report);
            b
        }
        Err(e) => {
            let mut b = vec![1u8];
            b.extend_from_slice(e.to_string().as_bytes());
            b
        }
    };
    let all = ranks.all_gather_bytes(&mine);
    let (value, _) = outcome?;
    if let Some((rank, b)) = all.iter().enumerate().find(|(_, b)| b.first() != Some(&0)) {
        return Err(Error::OnRank {
            rank,
            size: ranks.size(),
            message: String::from_utf8_lossy(b.get(1..).unwrap_or_default()).into_owned(),
        });
    }
    Ok((value, all.into_iter().map(|mut b| b.split_off(1)).collect()))
}

/// `error`, told to the other ranks at the agreement they are waiting in (see [`agree`]):
/// for a rank that failed before the step the others take together.
pub fn fail_together(ranks: &dyn Ranks, error: Error) -> Error {
    match agree::<()>(ranks, Err(error)) {
        Err(e) => e,
        Ok(_) => Error::invalid("agreement", "a failure was agreed as a success"),
    }
}

/// The exit code of rank 0 on every rank: a command that runs on rank 0 alone ends with the
/// same status in every process.
pub fn root_status(ranks: &dyn Ranks, code: u8) -> u8 {
    let all = ranks.all_gather_bytes(&[code]);
    all.first().and_then(|b| b.first()).copied().unwrap_or(1)
}

/// Little-endian bytes of numbers, for the messages between ranks.
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The next `u64` of `bytes` at `*at`, moving past it.
pub(crate) fn take_u64(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let b = bytes
        .get(*at..*at + 8)
        .ok_or_else(|| Error::invalid("message between processes", "cut short"))?;
    *at += 8;
    Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blocks_of_start_dates_cover_every_date_once() {
        // one forecast start date on three ranks: the first reads it, the others nothing
        assert_eq!(Bands::start_block(1, 0, 3), Some((0, 1)));
        assert_eq!(Bands::start_block(1, 1, 3), None);
        assert_eq!(Bands::start_block(1, 2, 3), None);
        assert_eq!(Bands::start_block(0, 0, 2), None);
        for total in 0..12 {
            for n in 1..6 {
                let mut next = 0;
                for rank in 0..n {
                    if let Some((start, count)) = Bands::start_block(total, rank, n) {
                        assert_eq!(start, next, "{total} dates on {n} ranks");
                        assert!(count > 0);
                        next += count;
                    }
                }
                assert_eq!(next, total, "{total} dates on {n} ranks");
            }
        }
    }

    #[test]
    fn bands_split_even_rows_evenly() {
        assert_eq!(lat_bands(&[1.0; 6], 3), vec![0..2, 2..4, 4..6]);
        assert_eq!(lat_bands(&[1.0; 7], 2), vec![0..4, 4..7]);
        assert_eq!(lat_bands(&[1.0; 3], 1), vec![0..3]);
    }

    #[test]
    fn bands_follow_the_cost() {
        // rows 0–3 land (cost 1 each), rows 4–7 ocean (0.1 each): the share is 4.4 / 2 = 2.2;
        // a third land row would overshoot it by 0.8, more than the 0.2 it lacks without
        let costs = [1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1];
        let b = lat_bands(&costs, 2);
        assert_eq!(b, vec![0..2, 2..8]);
        let sums: Vec<f64> = b.iter().map(|r| costs[r.clone()].iter().sum()).collect();
        assert!((sums[0] - 2.0).abs() < 1e-12 && (sums[1] - 2.4).abs() < 1e-12);
    }

    #[test]
    fn more_ranks_than_rows_leaves_the_last_bands_empty() {
        let b = lat_bands(&[1.0, 1.0], 3);
        assert_eq!(b, vec![0..1, 1..2, 2..2]);
    }

    #[test]
    fn halo_and_range() {
        assert_eq!(with_halo(&(3..5), 2, 6), 1..6);
        assert_eq!(with_halo(&(0..2), 1, 6), 0..3);
        let lat = [-10.0, -9.0, -8.0, -7.0];
        assert_eq!(lat_range(&lat, &(1..3)), (-9.25, -7.75));
    }

    #[test]
    fn one_process_agrees_with_itself() {
        let ok = agree(&OneProcess, Ok((5, vec![7u8]))).unwrap();
        assert_eq!(ok, (5, vec![vec![7u8]]));
        let err = agree::<()>(&OneProcess, Err(Error::invalid("x", "y"))).unwrap_err();
        assert_eq!(err.to_string(), Error::invalid("x", "y").to_string());
        assert_eq!(root_status(&OneProcess, 3), 3);
    }

    proptest! {
        #[test]
        fn bands_cover_every_row_once_in_order(
            costs in proptest::collection::vec(0.0f64..10.0, 1..200),
            n in 1usize..9,
        ) {
            let b = lat_bands(&costs, n);
            prop_assert_eq!(b.len(), n);
            prop_assert_eq!(b[0].start, 0);
            prop_assert_eq!(b[n - 1].end, costs.len());
            for w in b.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
            }
            if costs.len() >= n {
                prop_assert!(b.iter().all(|r| !r.is_empty()));
            }
            // no band carries more than its share plus the largest row
            let total: f64 = costs.iter().sum();
            let largest = costs.iter().cloned().fold(0.0, f64::max);
            for r in &b {
                let s: f64 = costs[r.clone()].iter().sum();
                prop_assert!(s <= total / n as f64 + 2.0 * largest + 1e-9);
            }
        }
    }
}
