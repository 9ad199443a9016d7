//! What an output may replace: never a file this process read as an input (`s2s regrid
//! obs.nc obs.nc`, an output directory that holds the inputs), and an existing file only when
//! replacing is allowed — the library's default; the binary allows it with `-O/--overwrite`,
//! as CDO does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

static OVERWRITE: AtomicBool = AtomicBool::new(true);
static INPUTS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Whether outputs may replace existing files (inputs never).
pub fn set_overwrite(allowed: bool) {
    OVERWRITE.store(allowed, Ordering::Relaxed);
}

/// Remembers a file opened for reading (by the readers of `io`, which need the `netcdf` feature).
#[cfg_attr(not(feature = "netcdf"), allow(dead_code))]
pub(crate) fn remember_input(path: &Path) {
    if let Ok(abs) = std::fs::canonicalize(path) {
        INPUTS.lock().unwrap_or_else(|p| p.into_inner()).insert(abs);
    }
}

/// Checks that `target` may be written: not an input, and new unless replacing is allowed.
pub(crate) fn check_output(target: &Path) -> Result<()> {
    let Ok(abs) = std::fs::canonicalize(target) else {
        return Ok(()); // does not exist yet
    };
    let refuse = |reason: &str| {
        Err(Error::Write {
            path: target.to_path_buf(),
            reason: reason.to_string(),
        })
    };
    if INPUTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&abs)
    {
        return refuse("it is an input of this run: write the output to another file or folder");
    }
    if !OVERWRITE.load(Ordering::Relaxed) {
        return refuse("it exists: pass -O/--overwrite to replace it, or write elsewhere");
    }
    Ok(())
}

/// A name from a configuration or the command line (a region, a model) made safe as one
/// file-name component: letters, digits, `-`, `_` and `.` kept, every other character (path
/// separators, spaces, controls) replaced by `_`, no leading `.` (no `..`, no hidden file), at
/// most 100 bytes, never empty.
pub fn file_slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.starts_with('.') {
        s.replace_range(0..1, "_");
    }
    while s.len() > 100 {
        s.pop();
    }
    if s.is_empty() {
        s.push('_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_stay_inside_the_output_folder() {
        assert_eq!(file_slug("south_asia"), "south_asia");
        assert_eq!(file_slug("South Asia"), "South_Asia");
        assert_eq!(file_slug("../../etc"), "_._.._etc");
        assert_eq!(file_slug("/tmp/x"), "_tmp_x");
        assert_eq!(file_slug(".."), "_.");
        assert_eq!(file_slug(""), "_");
        assert_eq!(file_slug("a\nb"), "a_b");
        assert_eq!(file_slug("Việt Nam"), "Việt_Nam");
        for s in ["../x", "/abs", "a/../../b", ".hidden", "x\\y"] {
            let slug = file_slug(s);
            assert!(!slug.contains('/') && !slug.contains('\\') && !slug.starts_with('.'));
        }
    }

    #[test]
    fn inputs_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.nc");
        std::fs::write(&p, "x").unwrap();
        assert!(check_output(&p).is_ok(), "library default: replace");
        assert!(check_output(&dir.path().join("new.nc")).is_ok());
        remember_input(&p);
        let e = check_output(&p).unwrap_err().to_string();
        assert!(e.contains("is an input of this run"), "{e}");
    }
}
