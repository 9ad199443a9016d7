//! Names that are not UTF-8. NetCDF names are byte strings; the `netcdf` crate turns them into
//! Rust strings with `expect`, so a file with an invalid byte sequence in a dimension,
//! variable, attribute or group name (a damaged header, a Latin-1 name written by an old tool)
//! would end the process with a panic. Before the crate sees a file, [`first_name_problem`]
//! walks every name through libnetcdf's C interface (under the library's global lock) and the
//! reader refuses such a file with an error naming the object. The same walk asks libnetcdf to
//! describe every dimension each variable uses, since the crate unwraps those calls too (a
//! damaged NetCDF-4 file can list a dimension id it cannot describe).
//!
//! Reported upstream behaviour: `Variable::name`, `Dimension::name`, `Group::name` and
//! `Attribute::name` of netcdf 0.12 panic on invalid UTF-8 (they could return lossy strings).

use std::ffi::{c_char, c_int, CString};
use std::path::Path;

use netcdf_sys as nc;

/// A name buffer of libnetcdf's maximum name length plus the terminating zero.
type NameBuf = [u8; nc::NC_MAX_NAME as usize + 1];

fn name_bytes(buf: &NameBuf) -> &[u8] {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    &buf[..end]
}

/// Describes a name that is not UTF-8 (`what` and its bytes, invalid ones escaped).
fn check(what: &str, buf: &NameBuf) -> Result<(), String> {
    let bytes = name_bytes(buf);
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "the name of {what} is not valid UTF-8 (\"{}\")",
            bytes.escape_ascii()
        )),
    }
}

/// Walks the names of one group (its dimensions, variables, their attributes, its global
/// attributes) and its subgroups. `Err` carries the first invalid name; libnetcdf errors end
/// the walk quietly (the reader reports them when it opens the file).
unsafe fn walk_group(ncid: c_int, depth: usize) -> Result<(), String> {
    let mut buf: NameBuf = [0; nc::NC_MAX_NAME as usize + 1];
    let p = buf.as_mut_ptr().cast::<c_char>();
    let ok = |status: c_int| status == nc::NC_NOERR;
    // dimensions
    let mut n: c_int = 0;
    if ok(nc::nc_inq_dimids(ncid, &mut n, std::ptr::null_mut(), 0)) && n > 0 {
        let mut ids = vec![0 as c_int; n as usize];
        if ok(nc::nc_inq_dimids(ncid, &mut n, ids.as_mut_ptr(), 0)) {
            for (k, &id) in ids.iter().enumerate() {
                buf.fill(0);
                if ok(nc::nc_inq_dimname(ncid, id, p)) {
                    check(&format!("dimension {}", k + 1), &buf)?;
                }
            }
        }
    }
    // attributes of the group, then variables and theirs
    let attributes = |varid: c_int, owner: &str, buf: &mut NameBuf| -> Result<(), String> {
        let mut natts: c_int = 0;
        let status = if varid == nc::NC_GLOBAL {
            nc::nc_inq_natts(ncid, &mut natts)
        } else {
            nc::nc_inq_varnatts(ncid, varid, &mut natts)
        };
        if !ok(status) {
            return Ok(());
        }
        for a in 0..natts {
            buf.fill(0);
            if ok(nc::nc_inq_attname(ncid, varid, a, buf.as_mut_ptr().cast())) {
                check(&format!("attribute {} of {owner}", a + 1), buf)?;
            }
        }
        Ok(())
    };
    attributes(nc::NC_GLOBAL, "the file", &mut buf)?;
    let mut nv: c_int = 0;
    if ok(nc::nc_inq_varids(ncid, &mut nv, std::ptr::null_mut())) && nv > 0 {
        let mut ids = vec![0 as c_int; nv as usize];
        if ok(nc::nc_inq_varids(ncid, &mut nv, ids.as_mut_ptr())) {
            for &id in &ids {
                buf.fill(0);
                if !ok(nc::nc_inq_varname(ncid, id, buf.as_mut_ptr().cast())) {
                    return Err(format!(
                        "libnetcdf lists variable {} but cannot name it (a damaged file)",
                        id + 1
                    ));
                }
                check(&format!("variable {}", id + 1), &buf)?;
                let owner = format!("variable '{}'", String::from_utf8_lossy(name_bytes(&buf)));
                // the type, the dimension list and every dimension the variable uses must be
                // ones libnetcdf can describe (the crate unwraps each of these calls)
                let damaged = |what: &str| {
                    format!("libnetcdf cannot read {what} of {owner} (a damaged file)")
                };
                let mut xtype: nc::nc_type = 0;
                if !ok(nc::nc_inq_vartype(ncid, id, &mut xtype)) {
                    return Err(damaged("the type"));
                }
                let mut nd: c_int = 0;
                if !ok(nc::nc_inq_varndims(ncid, id, &mut nd)) || nd < 0 {
                    return Err(damaged("the number of dimensions"));
                }
                let mut dims = vec![0 as c_int; nd as usize];
                if nd > 0 && !ok(nc::nc_inq_vardimid(ncid, id, dims.as_mut_ptr())) {
                    return Err(damaged("the dimension ids"));
                }
                let mut nunlimited: c_int = 0;
                if !ok(nc::nc_inq_unlimdims(
                    ncid,
                    &mut nunlimited,
                    std::ptr::null_mut(),
                )) {
                    return Err(damaged("the unlimited dimensions"));
                }
                for &d in &dims {
                    let mut len = 0usize;
                    buf.fill(0);
                    if !ok(nc::nc_inq_dimname(ncid, d, buf.as_mut_ptr().cast()))
                        || !ok(nc::nc_inq_dimlen(ncid, d, &mut len))
                    {
                        return Err(format!("{owner} uses dimension id {d}, which libnetcdf cannot describe (a damaged file)"));
                    }
                }
                attributes(id, &owner, &mut buf)?;
            }
        }
    }
    // subgroups (NetCDF-4), a bounded depth against cyclic damage
    let mut ng: c_int = 0;
    if depth < 32 && ok(nc::nc_inq_grps(ncid, &mut ng, std::ptr::null_mut())) && ng > 0 {
        let mut ids = vec![0 as c_int; ng as usize];
        if ok(nc::nc_inq_grps(ncid, &mut ng, ids.as_mut_ptr())) {
            for &g in &ids {
                buf.fill(0);
                if ok(nc::nc_inq_grpname(g, buf.as_mut_ptr().cast())) {
                    check("a group", &buf)?;
                }
                walk_group(g, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// What is wrong with a file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// libnetcdf cannot open the file: its reason.
    Unopenable(String),
    /// A name that is not UTF-8, or an object libnetcdf lists but cannot describe.
    Damaged(String),
}

/// The first name in the file at `path` that is not valid UTF-8, or the first variable or
/// dimension libnetcdf lists but cannot describe (the crate would unwrap the failed call),
/// described, or libnetcdf's reason when it cannot open the file; `None` when all is sound.
pub fn first_name_problem(path: &Path) -> Option<HeaderProblem> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let _lock = nc::libnetcdf_lock.lock();
    let mut ncid: c_int = 0;
    // SAFETY: libnetcdf calls under its global lock, with buffers of NC_MAX_NAME + 1 bytes as
    // the C interface requires; the file is closed before the lock is released.
    unsafe {
        let status = nc::nc_open(c_path.as_ptr(), nc::NC_NOWRITE, &mut ncid);
        if status != nc::NC_NOERR {
            // refused here: after a failed open, HDF5 may keep the damaged file half open, and
            // a second open by the crate then succeeds on it and fails later, inside an unwrap
            let reason = std::ffi::CStr::from_ptr(nc::nc_strerror(status)).to_string_lossy();
            return Some(HeaderProblem::Unopenable(reason.into_owned()));
        }
        let found = walk_group(ncid, 0).err().map(HeaderProblem::Damaged);
        nc::nc_close(ncid);
        found
    }
}
