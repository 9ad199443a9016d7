//! Progress reporting without printing: the library calls a [`Progress`]; the binary turns it
//! into progress bars (indicatif), tests and benches pass [`NoProgress`].

/// Receives progress of long-running work.
pub trait Progress: Sync {
    /// A stage starts, with its total number of steps (0 when unknown).
    fn start(&self, _stage: &str, _total: u64) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// The stage is done.
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
