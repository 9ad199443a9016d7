//! The library's one error type.
//!
//! Every failure a user can cause with bad input has its own variant, grouped by class (input
//! files, coordinates and calendars, units, data content, arguments). Messages say *what* is
//! wrong, *where* (file and variable, when known) and, where there is one, *the fix* — the binary
//! prints them as they are, on one line.

use std::path::PathBuf;

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- input files -------------------------------------------------------------------
    /// The file does not exist or cannot be read.
    #[error("{path}: cannot open: {reason}")]
    Open { path: PathBuf, reason: String },

    /// The file exists but is not a NetCDF file libnetcdf can read (or it is truncated).
    #[error(
        "{path}: not a readable NetCDF file ({reason}); is it truncated or of another format?"
    )]
    NotNetcdf { path: PathBuf, reason: String },

    /// The NetCDF library failed on an operation that should have worked.
    #[error("{path}: NetCDF error while {action}: {reason}")]
    Netcdf {
        path: PathBuf,
        action: String,
        reason: String,
    },

    /// A file that is readable but unusable for the job as it is (its period, grid or members
    /// do not fit), with what to do.
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },

    /// The requested variable is not in the file.
    #[error("{path}: variable '{variable}' not found; the file has: {present}")]
    MissingVariable {
        path: PathBuf,
        variable: String,
        present: String,
    },

    /// No data variable could be chosen without being told which.
    #[error("{path}: {reason}")]
    AmbiguousVariable { path: PathBuf, reason: String },

    // ---- dimensions, coordinates, grids ------------------------------------------------
    /// A dimension of the variable could not be given a role (init, member, lead, lat, lon, ...).
    #[error("{path}: variable '{variable}': {reason}")]
    Dimensions {
        path: PathBuf,
        variable: String,
        reason: String,
    },

    /// The horizontal coordinates are missing or unusable.
    #[error("{path}: variable '{variable}': {reason}")]
    Grid {
        path: PathBuf,
        variable: String,
        reason: String,
    },

    /// Two inputs that must share a grid, a calendar or dates do not.
    #[error("{what} do not match: {reason}")]
    Mismatch { what: String, reason: String },

    // ---- calendars and time --------------------------------------------------------------
    /// A calendar name that CF does not define.
    #[error("unknown calendar '{0}'; CF calendars are standard (gregorian), proleptic_gregorian, julian, noleap (365_day), all_leap (366_day), 360_day")]
    UnknownCalendar(String),

    /// A time `units` string that is not `"<unit> since <date>"`.
    #[error("cannot read time units '{units}': {reason}")]
    TimeUnits { units: String, reason: String },

    /// A date that does not exist in the calendar (30 February in `standard`, ...).
    #[error("{date} does not exist in the {calendar} calendar")]
    InvalidDate { date: String, calendar: String },

    /// A time coordinate in a file could not be decoded.
    #[error("{path}: coordinate '{variable}': {reason}")]
    Time {
        path: PathBuf,
        variable: String,
        reason: String,
    },

    // ---- units ---------------------------------------------------------------------------
    /// Units that are unknown, or wrong for the quantity.
    #[error("{path}: variable '{variable}': {reason}")]
    Units {
        path: PathBuf,
        variable: String,
        reason: String,
    },

    // ---- data content --------------------------------------------------------------------
    /// The data are unusable: all missing, implausible values, ...
    #[error("{path}: variable '{variable}': {reason}")]
    Data {
        path: PathBuf,
        variable: String,
        reason: String,
    },

    // ---- arguments and configuration ------------------------------------------------------
    /// An argument or configuration value is out of range or inconsistent.
    #[error("invalid {what}: {reason}")]
    InvalidArgument { what: String, reason: String },

    // ---- output --------------------------------------------------------------------------
    /// Writing an output failed; nothing was left at the target path.
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },

    /// An operating-system failure (creating a folder, reading a file) while doing `action`.
    #[error("{action}: {reason}")]
    Io { action: String, reason: String },

    // ---- jobs ------------------------------------------------------------------------------
    /// A failure inside one step of a job, led by what the job was doing ("the outlook of
    /// 'pr'", "bias correction of ALPHA"); the message is `context: inner message`.
    #[error("{context}: {inner}")]
    Context { context: String, inner: Box<Error> },

    /// The failure of another process of a distributed run (`mpirun -n N s2s …`), as that
    /// process worded it; every process stops with it.
    #[error("process {rank} of {size}: {message}")]
    OnRank {
        rank: usize,
        size: usize,
        message: String,
    },
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io {
            action: "input/output".into(),
            reason: e.to_string(),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Io {
            action: "JSON".into(),
            reason: e.to_string(),
        }
    }
}

impl From<ndarray::ShapeError> for Error {
    fn from(e: ndarray::ShapeError) -> Self {
        Error::invalid("array shape", e.to_string())
    }
}

/// `.context(…)` and `.with_context(|| …)` on results, as the jobs of [`crate::pipeline`] use
/// them: the error becomes [`Error::Context`], its message led by what was being done.
pub trait Context<T> {
    /// Leads the error's message with `context`.
    fn context(self, context: impl Into<String>) -> Result<T>;
    /// Leads the error's message with `f()`, computed only on failure.
    fn with_context<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: context.into(),
            inner: Box::new(e.into()),
        })
    }

    fn with_context<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: f().into(),
            inner: Box::new(e.into()),
        })
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Mismatch`].
    pub fn mismatch(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Mismatch {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
