//! The library's [`Progress`] as indicatif bars on stderr (hidden with `--quiet` or when stderr
//! is not a terminal), and its stage times and notes as lines on stderr (hidden with `--quiet`).

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use s2s_ensemble::progress::Progress;

/// Progress bars for one command.
pub struct Bars {
    /// Stage times and notes are printed unless `--quiet`.
    quiet: bool,
    /// Bars are drawn only on a terminal.
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars that show only when wanted and useful.
    pub fn new(quiet: bool) -> Self {
        Bars {
            quiet,
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta_precise})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn stage_done(&self, stage: &str, seconds: f64) {
        if !self.quiet {
            errln!("{stage:>16}: {seconds:.2} s");
        }
    }

    fn note(&self, message: &str) {
        if !self.quiet {
            errln!("note: {message}");
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}
