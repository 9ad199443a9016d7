//! Is a file shorter than its own header says? libnetcdf does not always notice: HDF5 reads the
//! chunks of a truncated NetCDF-4 file as fill values, and a classic file cut inside its data
//! opens and reads as zeros. Both formats record where the data end, so the check is exact:
//! - NetCDF-4: the HDF5 superblock's end-of-file address (superblock versions 0–3);
//! - classic, 64-bit offset, CDF-5: the end of the last variable's data, from the header's
//!   `begin`/`vsize` of every variable and the number of records.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A sentence saying the file is truncated, or `None` when it is whole (or not recognised).
pub fn truncation(path: &Path) -> Option<String> {
    hdf5_truncation(path).or_else(|| classic_truncation(path))
}

/// For a NetCDF-4 (HDF5) file: whether it is shorter than its superblock's end-of-file address
/// says. HDF5 reads missing chunks of a truncated file as fill values without an error, so this
/// is the only way to notice. `None` when the file is whole or not HDF5.
fn hdf5_truncation(path: &Path) -> Option<String> {
    const SIG: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    // The superblock is at 0 or after a user block of 512, 1024, 2048, ... bytes.
    let mut at = 0u64;
    let mut head = [0u8; 64];
    loop {
        if at + 64 > len {
            return None;
        }
        f.seek(SeekFrom::Start(at)).ok()?;
        f.read_exact(&mut head).ok()?;
        if head[..8] == SIG {
            break;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    let version = head[8];
    let (size_of_offsets, base_at) = match version {
        0 => (head[13] as usize, 24),
        1 => (head[13] as usize, 28),
        2 | 3 => (head[9] as usize, 12),
        _ => return None,
    };
    if !(2..=8).contains(&size_of_offsets) || base_at + 3 * size_of_offsets > head.len() {
        return None;
    }
    let read = |pos: usize| {
        let mut b = [0u8; 8];
        b[..size_of_offsets].copy_from_slice(&head[pos..pos + size_of_offsets]);
        u64::from_le_bytes(b)
    };
    let base = read(base_at);
    let eof = read(base_at + 2 * size_of_offsets);
    let expected = base.checked_add(eof)?;
    (len < expected).then(|| {
        format!("truncated: the file has {len} bytes but its HDF5 superblock says {expected}")
    })
}

/// Reads big-endian fields from a classic header.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    wide: bool,
}

impl Cursor<'_> {
    fn u32(&mut self) -> Option<u64> {
        let v = self.b.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u64::from(u32::from_be_bytes(v.try_into().ok()?)))
    }
    fn u64(&mut self) -> Option<u64> {
        let v = self.b.get(self.at..self.at + 8)?;
        self.at += 8;
        Some(u64::from_be_bytes(v.try_into().ok()?))
    }
    /// A count: 4 bytes, 8 in CDF-5.
    fn count(&mut self) -> Option<u64> {
        if self.wide {
            self.u64()
        } else {
            self.u32()
        }
    }
    fn skip(&mut self, n: u64) -> Option<()> {
        let n = usize::try_from(n).ok()?;
        let padded = n.checked_add(3)? / 4 * 4;
        self.at = self.at.checked_add(padded)?;
        (self.at <= self.b.len()).then_some(())
    }
    fn name(&mut self) -> Option<()> {
        let n = self.count()?;
        self.skip(n)
    }
    /// An attribute or dimension list header: (tag, number of elements).
    fn list(&mut self) -> Option<(u64, u64)> {
        let tag = self.u32()?;
        let n = self.count()?;
        Some((tag, n))
    }
}

fn type_size(t: u64) -> Option<u64> {
    Some(match t {
        1 | 2 | 7 => 1,
        3 | 8 => 2,
        4 | 5 | 9 => 4,
        6 | 10 | 11 => 8,
        _ => return None,
    })
}

/// For a classic-format file: whether it ends before the data its header describes.
fn classic_truncation(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut head = vec![0u8; usize::try_from(len.min(4 << 20)).ok()?];
    f.seek(SeekFrom::Start(0)).ok()?;
    f.read_exact(&mut head).ok()?;
    if head.len() < 8 || &head[..3] != b"CDF" {
        return None;
    }
    let version = head[3];
    let (wide, begin64) = match version {
        1 => (false, false),
        2 => (false, true),
        5 => (true, true),
        _ => return None,
    };
    let mut c = Cursor {
        b: &head,
        at: 4,
        wide,
    };
    let numrecs = c.count()?;
    if numrecs == u64::from(u32::MAX) || (wide && numrecs == u64::MAX) {
        return None; // streaming: the number of records is not known
    }
    // Dimensions.
    let (_, ndims) = c.list()?;
    let mut dim_len = Vec::new();
    for _ in 0..ndims {
        c.name()?;
        dim_len.push(c.count()?);
    }
    // Global attributes.
    let skip_attrs = |c: &mut Cursor| -> Option<()> {
        let (_, n) = c.list()?;
        for _ in 0..n {
            c.name()?;
            let t = c.u32()?;
            let n = c.count()?;
            c.skip(n.checked_mul(type_size(t)?)?)?;
        }
        Some(())
    };
    skip_attrs(&mut c)?;
    // Variables: where each one's data end — their last value's last byte, without the
    // padding to 4 bytes (which the file may omit after the last variable).
    let (_, nvars) = c.list()?;
    let mut end = 0u64;
    // (begin, padded vsize, unpadded bytes of one record)
    let mut rec_vars: Vec<(u64, u64, u64)> = Vec::new();
    for _ in 0..nvars {
        c.name()?;
        let nd = c.count()?;
        let mut is_record = false;
        let mut elements = 1u64;
        for k in 0..nd {
            let id = usize::try_from(c.count()?).ok()?;
            let len = *dim_len.get(id)?;
            if k == 0 && len == 0 {
                is_record = true;
            } else {
                elements = elements.checked_mul(len)?;
            }
        }
        skip_attrs(&mut c)?;
        let size = type_size(c.u32()?)?;
        let vsize = c.count()?;
        let begin = if begin64 { c.u64()? } else { c.u32()? };
        let bytes = elements.checked_mul(size)?;
        if is_record {
            rec_vars.push((begin, vsize, bytes));
        } else {
            end = end.max(begin.checked_add(bytes)?);
        }
    }
    if !rec_vars.is_empty() && numrecs > 0 {
        // one record variable: records are not padded
        let recsize: u64 = if rec_vars.len() == 1 {
            rec_vars[0].2
        } else {
            rec_vars.iter().map(|r| r.1).sum()
        };
        for (begin, _, bytes) in &rec_vars {
            let last = (numrecs - 1).checked_mul(recsize)?;
            end = end.max(begin.checked_add(last)?.checked_add(*bytes)?);
        }
    }
    (len < end).then(|| {
        format!(
            "truncated: the file has {len} bytes but its header describes data up to byte {end}"
        )
    })
}
