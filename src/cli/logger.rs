//! `-v` / `-vv`: the library's log records (what each stage reads, decides and writes) as
//! lines on stderr, each with the seconds since the start of the run and its level.

use std::time::Instant;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLogger {
    start: Instant,
    level: LevelFilter,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level && metadata.target().starts_with("s2s_ensemble")
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        // the module without the crate's name: `io::read`, `pipeline::bias`
        let target = record
            .target()
            .strip_prefix("s2s_ensemble::")
            .unwrap_or(record.target());
        errln!(
            "[{:>8.3} s] {level:<5} {target}: {}",
            self.start.elapsed().as_secs_f64(),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// Shows the library's records up to `info` (`verbosity` 1, `-v`), `debug` (2, `-vv`) or
/// `trace` (3 or more); nothing at 0.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => return,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    // one logger for the life of the process
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger {
        start: Instant::now(),
        level,
    }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}
