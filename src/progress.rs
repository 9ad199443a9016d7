//! Progress reporting without printing: the library calls a [`Progress`]; the binary turns it
//! into progress bars (indicatif) and messages on stderr, tests, benches and bindings pass
//! [`NoProgress`].

/// Receives progress of long-running work.
pub trait Progress: Sync {
    /// A stage starts, with its total number of steps (0 when unknown).
    fn start(&self, _stage: &str, _total: u64) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// The stage is done.
    fn finish(&self) {}
    /// A named step of a job ended after `seconds` (the run log of `s2s outlook`).
    fn stage_done(&self, _stage: &str, _seconds: f64) {}
    /// Something the user should know that is not an error (a fallback taken, years cut,
    /// targets without observations).
    fn note(&self, _message: &str) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
