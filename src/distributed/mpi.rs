//! [`Ranks`] over MPI (the `mpi` feature: rsmpi over the system's Open MPI), for runs under
//! `mpirun -n N` or `srun -n N`. Only the thread that initialised MPI calls it (rayon's
//! threads compute, the read-ahead thread reads files); MPI is initialised at the
//! single-threaded level.

use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::Ranks;
use crate::error::{Error, Result};

/// The largest message sent at once: MPI counts elements in a C `int`, so a message of
/// products above 2 GiB goes in pieces of 1 GiB.
const MESSAGE_PIECE_BYTES: usize = 1 << 30;

/// The processes of `MPI_COMM_WORLD`.
pub struct MpiRanks {
    world: SimpleCommunicator,
    // finalises MPI when dropped, after every use of `world`
    _universe: mpi::environment::Universe,
}

impl MpiRanks {
    /// Initialises MPI (once per process); an error when it is already initialised or the
    /// MPI library refuses.
    pub fn init() -> Result<MpiRanks> {
        let universe = mpi::initialize()
            .ok_or_else(|| Error::invalid("MPI", "MPI was already initialised in this process"))?;
        let world = universe.world();
        Ok(MpiRanks {
            world,
            _universe: universe,
        })
    }
}

impl Ranks for MpiRanks {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_gather_bytes(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        // agreements and counts: small messages, one collective for the sizes, one for the bytes
        let n = self.size();
        let count = i32::try_from(mine.len()).expect("an agreement message below 2 GiB");
        let mut counts = vec![0i32; n];
        self.world.all_gather_into(&count, &mut counts[..]);
        let displs: Vec<i32> = counts
            .iter()
            .scan(0i32, |s, &c| {
                let d = *s;
                *s += c;
                Some(d)
            })
            .collect();
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let mut all = vec![0u8; total];
        {
            let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.world.all_gather_varcount_into(mine, &mut part);
        }
        let mut out = Vec::with_capacity(n);
        for (c, d) in counts.iter().zip(&displs) {
            out.push(all[*d as usize..(*d + *c) as usize].to_vec());
        }
        out
    }

    fn gather_bytes_to_root(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        self.gather_to(0, mine)
    }

    fn all_to_all_bytes(&self, to_each: &[Vec<u8>]) -> Vec<Vec<u8>> {
        // one round per receiving rank: the others send it their piece, in rank order
        let mut received = Vec::new();
        for (r, piece) in to_each.iter().enumerate() {
            let got = self.gather_to(r, piece);
            if r == self.rank() {
                received = got;
            }
        }
        received
    }
}

impl MpiRanks {
    /// Every rank's bytes, in rank order, on rank `root` (its own included); an empty list on
    /// the others. Messages go in pieces of at most [`MESSAGE_PIECE_BYTES`].
    fn gather_to(&self, root: usize, mine: &[u8]) -> Vec<Vec<u8>> {
        if self.rank() != root {
            let to = self.world.process_at_rank(root as i32);
            to.send(&(mine.len() as u64));
            for piece in mine.chunks(MESSAGE_PIECE_BYTES) {
                to.send(piece);
            }
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.size());
        for r in 0..self.size() {
            if r == root {
                out.push(mine.to_vec());
                continue;
            }
            let from = self.world.process_at_rank(r as i32);
            let (len, _) = from.receive::<u64>();
            let mut bytes = Vec::with_capacity(len as usize);
            while bytes.len() < len as usize {
                let (piece, _) = from.receive_vec::<u8>();
                bytes.extend_from_slice(&piece);
            }
            out.push(bytes);
        }
        out
    }
}
