//! The memory budget: every allocation whose size comes from a file's header or a flag
//! (a variable's hyperslab, a coordinate, a target grid, a particle cloud) is checked here
//! before it is made, so a hostile or mistaken header (`member = 1000000` in a 36 KB file),
//! `regrid --grid 0.001` or `--particles 100000000` is refused with a message instead of
//! aborting the process when the allocator fails.
//!
//! The budget is [`DEFAULT_MEMORY_SHARE`] of the machine's physical memory unless set
//! ([`set_max_memory`]; the binary's `--max-memory`). Sizes are products of dimension lengths
//! computed with overflow checks.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Share of physical memory one allocation may take by default: a run holds a few arrays of
/// the largest size at once (the input, its corrected copy, an output), and the system and
/// page cache need the rest; three quarters refuses only what could never have fitted.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.75;

/// Arrays from this size on get their pages first touched by every thread before a
/// one-threaded fill ([`touch_pages_in_parallel`]): below it the faults cost less than
/// waking the threads.
pub(crate) const PARALLEL_FIRST_TOUCH_BYTES: usize = 16 << 20;

/// Touches every 4 KiB page of `values`, a fresh zeroed array about to be filled by one
/// thread (a read through libnetcdf's global lock), from rayon's threads: the kernel's page
/// faults of fresh memory (a page zeroed and mapped on first write) are then taken in
/// parallel instead of inside the read. The values stay zero.
pub(crate) fn touch_pages_in_parallel(values: &mut [f32]) {
    const PAGE: usize = 4096 / std::mem::size_of::<f32>();
    if std::mem::size_of_val(values) < PARALLEL_FIRST_TOUCH_BYTES {
        return;
    }
    use rayon::prelude::*;
    values.par_chunks_mut(512 * PAGE).for_each(|chunk| {
        for v in chunk.iter_mut().step_by(PAGE) {
            *v = 0.0;
        }
    });
}

/// Budget when physical memory cannot be read (non-Linux): 8 GiB.
const FALLBACK_BUDGET_BYTES: u64 = 8 << 30;

static MAX_BYTES: AtomicU64 = AtomicU64::new(0);

/// Sets the budget in bytes (0: back to the default).
pub fn set_max_memory(bytes: u64) {
    MAX_BYTES.store(bytes, Ordering::Relaxed);
}

/// Physical memory in bytes (`MemTotal` of `/proc/meminfo`).
pub fn physical_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The budget in bytes.
pub fn max_memory() -> u64 {
    match MAX_BYTES.load(Ordering::Relaxed) {
        0 => physical_memory_bytes()
            .map(|b| (b as f64 * DEFAULT_MEMORY_SHARE) as u64)
            .unwrap_or(FALLBACK_BUDGET_BYTES),
        b => b,
    }
}

/// Parses a size: `2G`, `500M`, `1.5GiB`, `800000000` (bytes); K, M, G, T are powers of 1024.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let bad = || {
        Error::invalid(
            "--max-memory",
            format!("'{text}': give a size such as 4G, 500M or 2.5GiB"),
        )
    };
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let value: f64 = num.parse().map_err(|_| bad())?;
    let scale: u64 = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// A byte count for messages: `1.2 GiB`, `35 MiB`.
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1u64 << 20) as f64 {
        format!("{:.0} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
}

/// Checks that an array of `shape` with `bytes_per_value` bytes per value fits the budget;
/// `what` names it ("pr in hc.nc", "the target grid") and `fix` says how to need less.
pub fn check_allocation(
    what: &str,
    shape: &[usize],
    bytes_per_value: usize,
    fix: &str,
) -> Result<()> {
    let bytes = shape
        .iter()
        .try_fold(bytes_per_value as u64, |acc, &n| acc.checked_mul(n as u64));
    let budget = max_memory();
    let dims = shape
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" × ");
    match bytes {
        Some(b) if b <= budget => Ok(()),
        Some(b) => Err(Error::invalid(
            "memory",
            format!(
                "{what} would need {} ({dims} values), more than the memory budget of {}: {fix}, or raise the budget with --max-memory",
                human_bytes(b),
                human_bytes(budget)
            ),
        )),
        None => Err(Error::invalid(
            "memory",
            format!("{what} has {dims} values, more than any memory can hold: {fix}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_pages_leaves_the_values_as_they_were() {
        // large enough to be touched, with an odd tail after the last whole page
        let n = PARALLEL_FIRST_TOUCH_BYTES / 4 + 1234;
        let mut fresh = vec![0.0f32; n];
        touch_pages_in_parallel(&mut fresh);
        assert!(fresh.iter().all(|&v| v == 0.0));
        // small arrays are left alone (a value that is not zero stays)
        let mut small = vec![7.0f32; 1000];
        touch_pages_in_parallel(&mut small);
        assert!(small.iter().all(|&v| v == 7.0));
    }

    #[test]
    fn sizes_and_budget() {
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        for bad in ["", "G", "-1G", "4X", "0"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(check_allocation("small", &[10, 10], 4, "fewer").is_ok());
        // 1e6 members × 36 × 10 × 60 × 120 f32: 103.7 GB, the abort of the issue
        let e = check_allocation(
            "pr in x.nc",
            &[10, 1_000_000, 36, 60, 12],
            4,
            "read fewer members",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("pr in x.nc") && e.contains("memory budget") && e.contains("--max-memory"),
            "{e}"
        );
        let e = check_allocation("x", &[usize::MAX, 4], 4, "smaller")
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than any memory"), "{e}");
        assert!(max_memory() > 0);
        assert!(human_bytes(3 << 30).starts_with("3.0 GiB"));
    }
}
