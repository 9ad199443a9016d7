//! Is a file shorter than its own header says? libnetcdf does not always notice: HDF5 reads the
//! chunks of a truncated NetCDF-4 file as fill values, and a classic file cut inside its data
//! opens and reads as zeros. Both formats record where the data end, so the check is exact:
//! - NetCDF-4: the HDF5 superblock's end-of-file address (superblock versions 0–3);
//! - classic, 64-bit offset, CDF-5: the whole header grammar checked (libnetcdf 4.9.0 corrupts
//!   its heap on some malformed headers), then the end of the last variable's data, from the header's
//!   `begin`/`vsize` of every variable and the number of records.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A sentence saying the file is truncated (or, for a classic file, that its header is
/// malformed), or `None` when it is whole (or not recognised).
pub fn truncation(path: &Path) -> Option<String> {
    hdf5_truncation(path).or_else(|| classic_problem(path))
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

/// Reads big-endian fields from a classic header; every read is bounds-checked and the
/// failure says what was being read.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    wide: bool,
}

/// Largest length of a NetCDF name (`NC_MAX_NAME`).
const MAX_NAME: u64 = 256;
/// List tags of the classic header.
const NC_DIMENSION: u64 = 0x0A;
const NC_VARIABLE: u64 = 0x0B;
const NC_ATTRIBUTE: u64 = 0x0C;

type Check<T> = std::result::Result<T, String>;

impl Cursor<'_> {
    fn u32(&mut self, what: &str) -> Check<u64> {
        let v = self
            .b
            .get(self.at..self.at + 4)
            .ok_or_else(|| format!("the header ends inside {what}"))?;
        self.at += 4;
        Ok(u64::from(u32::from_be_bytes([v[0], v[1], v[2], v[3]])))
    }
    fn u64(&mut self, what: &str) -> Check<u64> {
        let v = self
            .b
            .get(self.at..self.at + 8)
            .ok_or_else(|| format!("the header ends inside {what}"))?;
        self.at += 8;
        let mut a = [0u8; 8];
        a.copy_from_slice(v);
        Ok(u64::from_be_bytes(a))
    }
    /// A count: 4 bytes, 8 in CDF-5.
    fn count(&mut self, what: &str) -> Check<u64> {
        if self.wide {
            self.u64(what)
        } else {
            self.u32(what)
        }
    }
    fn left(&self) -> u64 {
        (self.b.len() - self.at.min(self.b.len())) as u64
    }
    fn skip(&mut self, n: u64, what: &str) -> Check<()> {
        let padded = n
            .checked_add(3)
            .map(|x| x / 4 * 4)
            .filter(|&x| x <= self.left())
            .ok_or_else(|| format!("{what} ({n} bytes) runs past the header"))?;
        self.at += padded as usize;
        Ok(())
    }
    fn name(&mut self, what: &str) -> Check<()> {
        let n = self.count(what)?;
        if n == 0 || n > MAX_NAME {
            return Err(format!(
                "{what} has a name of {n} bytes (1 to {MAX_NAME} allowed)"
            ));
        }
        let start = self.at;
        self.skip(n, what)?;
        if self.b[start..start + n as usize].contains(&0) {
            return Err(format!("{what} has a zero byte in its name"));
        }
        Ok(())
    }
    /// A list header `(tag, number of elements)`: ABSENT (two zeros) or the expected tag.
    fn list(&mut self, tag: u64, what: &str, min_entry_bytes: u64) -> Check<u64> {
        let t = self.u32(what)?;
        let n = self.count(what)?;
        if (t == 0 && n == 0) || (t == tag && n > 0) {
            // each entry takes at least `min_entry_bytes` of what is left
            if n > self.left() / min_entry_bytes {
                return Err(format!(
                    "{what} declares {n} entries, more than the header holds"
                ));
            }
            return Ok(n);
        }
        Err(format!(
            "{what}: tag {t:#x} with {n} entries is not a valid list"
        ))
    }
}

/// Size in bytes of a classic type code; CDF-5 adds the unsigned and 64-bit integers.
fn type_size(t: u64, cdf5: bool) -> Option<u64> {
    Some(match t {
        1 | 2 => 1,
        3 => 2,
        4 | 5 => 4,
        6 => 8,
        7 if cdf5 => 1,
        8 if cdf5 => 2,
        9 if cdf5 => 4,
        10 | 11 if cdf5 => 8,
        _ => return None,
    })
}

/// For a classic-format file (CDF-1, CDF-2, CDF-5): what is wrong with its header (the whole
/// grammar of the format specification checked: list tags, name lengths, type codes,
/// dimension ids, at most one record dimension and only first, attribute sizes within the
/// header, sizes and offsets consistent), or whether it ends before the data its header
/// describes. libnetcdf 4.9.0 corrupts its heap on some malformed headers, so such a file
/// must never reach it. `None` when the header is sound and the data complete, or when the
/// file is not classic or its header is larger than the 4 MiB read.
fn classic_problem(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut head = vec![0u8; usize::try_from(len.min(HEADER_READ_BYTES)).ok()?];
    f.seek(SeekFrom::Start(0)).ok()?;
    f.read_exact(&mut head).ok()?;
    if head.len() < 4 || &head[..3] != b"CDF" {
        return None;
    }
    let whole = len <= HEADER_READ_BYTES;
    match check_classic(&head, len) {
        Ok(None) => None,
        Ok(Some(truncated)) => Some(truncated),
        // a header cut by the 4 MiB read is not known to be malformed
        Err(_) if !whole => None,
        Err(e) => Some(format!("malformed classic NetCDF header: {e}")),
    }
}

/// Bytes of a classic file read to check its header.
const HEADER_READ_BYTES: u64 = 4 << 20;

/// Checks the header `head` of a classic file of `len` bytes; `Ok(Some(..))` when the data
/// end after the file.
fn check_classic(head: &[u8], len: u64) -> Check<Option<String>> {
    let version = head[3];
    let (wide, begin64) = match version {
        1 => (false, false),
        2 => (false, true),
        5 => (true, true),
        v => return Err(format!("version byte {v} (1, 2 or 5 expected)")),
    };
    let mut c = Cursor {
        b: head,
        at: 4,
        wide,
    };
    let numrecs = c.count("the number of records")?;
    let streaming = numrecs == u64::from(u32::MAX) || (wide && numrecs == u64::MAX);
    // ---- dimensions ----
    let ndims = c.list(NC_DIMENSION, "the dimension list", 12)?;
    let mut dim_len = Vec::with_capacity(ndims as usize);
    for k in 0..ndims {
        let what = format!("dimension {}", k + 1);
        c.name(&what)?;
        dim_len.push(c.count(&what)?);
    }
    if dim_len.iter().filter(|&&n| n == 0).count() > 1 {
        return Err("more than one record (unlimited) dimension".into());
    }
    // ---- attributes ----
    let attrs = |c: &mut Cursor, owner: &str| -> Check<()> {
        let n = c.list(NC_ATTRIBUTE, &format!("the attribute list of {owner}"), 16)?;
        for k in 0..n {
            let what = format!("attribute {} of {owner}", k + 1);
            c.name(&what)?;
            let t = c.u32(&what)?;
            let size = type_size(t, wide).ok_or_else(|| format!("{what} has type code {t}"))?;
            let n = c.count(&what)?;
            let bytes = n
                .checked_mul(size)
                .ok_or_else(|| format!("{what} declares {n} values"))?;
            c.skip(bytes, &what)?;
        }
        Ok(())
    };
    attrs(&mut c, "the file")?;
    // ---- variables ----
    let nvars = c.list(NC_VARIABLE, "the variable list", 24)?;
    let mut vars = Vec::with_capacity(nvars as usize);
    for k in 0..nvars {
        let what = format!("variable {}", k + 1);
        c.name(&what)?;
        let nd = c.count(&what)?;
        if nd > c.left() / 4 {
            return Err(format!("{what} declares {nd} dimensions"));
        }
        let mut is_record = false;
        let mut elements = 1u64;
        for d in 0..nd {
            let id = c.count(&what)?;
            let dl = *usize::try_from(id)
                .ok()
                .and_then(|i| dim_len.get(i))
                .ok_or_else(|| format!("{what} uses dimension id {id} of {ndims}"))?;
            if dl == 0 {
                if d != 0 {
                    return Err(format!(
                        "{what} has the record dimension in place {}",
                        d + 1
                    ));
                }
                is_record = true;
            } else {
                elements = elements
                    .checked_mul(dl)
                    .ok_or_else(|| format!("{what}: the product of its dimensions overflows"))?;
            }
        }
        attrs(&mut c, &what)?;
        let t = c.u32(&what)?;
        let size = type_size(t, wide).ok_or_else(|| format!("{what} has type code {t}"))?;
        let vsize = c.count(&what)?;
        let begin = if begin64 {
            c.u64(&what)?
        } else {
            c.u32(&what)?
        };
        let bytes = elements
            .checked_mul(size)
            .ok_or_else(|| format!("{what}: its size overflows"))?;
        // vsize is the padded size, or 2^32 - 1 for a variable too large for 32 bits
        let capped = !wide && vsize == u64::from(u32::MAX);
        if vsize < bytes && !capped {
            return Err(format!(
                "{what} declares {vsize} bytes for {bytes} bytes of data"
            ));
        }
        vars.push((begin, vsize, bytes, is_record));
    }
    let header_end = c.at as u64;
    if let Some((k, _)) = vars
        .iter()
        .enumerate()
        .find(|(_, v)| v.0 < header_end || v.0 > len)
    {
        return Err(format!(
            "variable {} starts at byte {}, outside the data section ({header_end}..{len})",
            k + 1,
            vars[k].0
        ));
    }
    if streaming {
        return Ok(None); // the number of records is not known
    }
    // Where each variable's data end — their last value's last byte, without the padding to
    // 4 bytes (which the file may omit after the last variable).
    let mut end = 0u64;
    let rec: Vec<&(u64, u64, u64, bool)> = vars.iter().filter(|v| v.3).collect();
    for v in vars.iter().filter(|v| !v.3) {
        end = end.max(v.0.saturating_add(v.2));
    }
    if !rec.is_empty() && numrecs > 0 {
        // one record variable: records are not padded
        let recsize: u64 = if rec.len() == 1 {
            rec[0].2
        } else {
            rec.iter().fold(0u64, |a, v| a.saturating_add(v.1))
        };
        for v in &rec {
            let last = (numrecs - 1).saturating_mul(recsize);
            end = end.max(v.0.saturating_add(last).saturating_add(v.2));
        }
    }
    Ok((len < end).then(|| {
        format!(
            "truncated: the file has {len} bytes but its header describes data up to byte {end}"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CDF-1 header: one dimension `x` of `n`, one float variable `v(x)` at `begin`.
    fn header(n: u32, type_code: u32, begin: u32, name_len: u32) -> Vec<u8> {
        let mut b = b"CDF\x01".to_vec();
        let be = |b: &mut Vec<u8>, x: u32| b.extend_from_slice(&x.to_be_bytes());
        be(&mut b, 0); // numrecs
        be(&mut b, 0x0A);
        be(&mut b, 1);
        be(&mut b, 1);
        b.extend_from_slice(b"x\0\0\0");
        be(&mut b, n);
        be(&mut b, 0); // no global attributes
        be(&mut b, 0);
        be(&mut b, 0x0B);
        be(&mut b, 1);
        be(&mut b, name_len);
        b.extend_from_slice(b"v\0\0\0");
        be(&mut b, 1); // one dimension
        be(&mut b, 0); // id 0
        be(&mut b, 0); // no attributes
        be(&mut b, 0);
        be(&mut b, type_code);
        be(&mut b, n * 4);
        be(&mut b, begin);
        b
    }

    #[test]
    fn classic_headers_are_checked_before_libnetcdf_sees_them() {
        let good = header(3, 5, 80, 1);
        assert_eq!(good.len(), 80);
        let file = |h: &[u8], data: usize| {
            let mut f = h.to_vec();
            f.resize(h.len() + data, 0);
            f
        };
        let whole = file(&good, 12);
        assert_eq!(check_classic(&whole, whole.len() as u64), Ok(None));
        // one byte short
        let t = check_classic(&whole, whole.len() as u64 - 1)
            .unwrap()
            .unwrap();
        assert!(t.contains("truncated"), "{t}");
        for (bad, want) in [
            (header(3, 12, 80, 1), "type code 12"),
            (header(3, 5, 8, 1), "outside the data section"),
            (header(3, 5, 80, 300), "name of 300 bytes"),
            (header(3, 5, 80, 0), "name of 0 bytes"),
        ] {
            let f = file(&bad, 12);
            let e = check_classic(&f, f.len() as u64).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        // a dimension list claiming a million entries
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&1_000_000u32.to_be_bytes());
        let e = check_classic(&huge, huge.len() as u64 + 12).unwrap_err();
        assert!(e.contains("more than the header holds"), "{e}");
    }
}
