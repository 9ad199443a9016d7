//! Zarr stores (v2 and v3: what xarray, ARCO-ERA5 and most cloud archives write) read through
//! the NetCDF path: the store's arrays, dimensions and attributes are decoded here into a
//! temporary NetCDF-4 file, which the ordinary reader opens (and which is unlinked at once), so
//! every CF convention the NetCDF reader knows applies to Zarr unchanged.
//!
//! Why not libnetcdf's NCZarr: the Debian libnetcdf (4.9.0) crashes (SIGSEGV or unbounded
//! memory) on xarray's consolidated, blosc-compressed stores — the common case — and needs
//! filter plugins for blosc besides.
//!
//! # What is read
//! - Zarr v2 (`.zgroup`, `.zarray`, `.zattrs`, consolidated `.zmetadata`): dimension names from
//!   xarray's `_ARRAY_DIMENSIONS`; compressors `blosc` (lz4, lz4hc, zstd, zlib; byte shuffle),
//!   `zstd`, `zlib`, `gzip` or none; no filters; C order; dtypes `b1`, `i1`–`i8`, `u1`–`u8`,
//!   `f4`, `f8` in either byte order and fixed-width strings `U`/`S` (one-dimensional).
//! - Zarr v3 (`zarr.json`, with or without consolidated metadata): `dimension_names`, the
//!   regular chunk grid, the `default` and `v2` chunk key encodings, codecs `bytes`, `blosc`,
//!   `zstd`, `gzip`, `crc32c`. Sharding and `transpose` are refused with a message.
//! - Missing chunks take the array's `fill_value`, which also becomes `_FillValue`. Arrays of
//!   the root group only (nested groups are not read).
//!
//! # Formats
//! Zarr v2 and v3 specifications (zarr-specs, zarr.dev); the blosc-1 frame: a 16-byte header
//! (version, codec version, flags — bit 0 byte shuffle, bit 1 stored uncompressed, bit 2
//! bitshuffle, bit 4 streams not split, bits 5–7 the codec — type size, uncompressed bytes,
//! block size, compressed bytes), one 32-bit offset per block, and per block either one
//! compressed stream or one per byte of the type (when split), each preceded by its size.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The largest array the conversion decodes (in bytes): it holds one array in memory at a
/// time; a store that declares more is refused before any allocation rather than aborting
/// the process.
pub const ZARR_MAX_ARRAY_BYTES: u64 = 8 << 30;

/// Whether `path` is a Zarr store (a directory with Zarr v2 or v3 metadata).
pub fn is_zarr_store(path: &Path) -> bool {
    path.is_dir()
        && [".zgroup", ".zarray", ".zmetadata", "zarr.json"]
            .iter()
            .any(|f| path.join(f).is_file())
}

/// The Zarr format version of a store (2 or 3).
pub fn zarr_version(path: &Path) -> u8 {
    if path.join("zarr.json").is_file() {
        3
    } else {
        2
    }
}

/// Opens a Zarr store as a NetCDF file (decoded to a temporary NetCDF-4 file that is unlinked
/// once open).
pub fn open_as_netcdf(store: &Path) -> Result<netcdf::File> {
    super::open_converted(store, "zarr", |tmp| to_netcdf(store, tmp))
}

/// One array's metadata.
#[derive(Debug)]
struct ArrayMeta {
    name: String,
    shape: Vec<usize>,
    chunks: Vec<usize>,
    dtype: Dtype,
    big_endian: bool,
    fill: Value,
    codecs: Vec<Codec>,
    /// Chunk key of chunk indices, e.g. `0.1.2` or `c/0/1/2`.
    key: KeyEncoding,
    dims: Vec<String>,
    attrs: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dtype {
    Bool,
    I1,
    U1,
    I2,
    U2,
    I4,
    U4,
    I8,
    U8,
    F4,
    F8,
    /// Fixed-width UTF-32 (`U<n>`, `n` characters) or bytes (`S<n>`).
    Text {
        bytes: usize,
        utf32: bool,
    },
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::I1 | Dtype::U1 => 1,
            Dtype::I2 | Dtype::U2 => 2,
            Dtype::I4 | Dtype::U4 | Dtype::F4 => 4,
            Dtype::I8 | Dtype::U8 | Dtype::F8 => 8,
            Dtype::Text { bytes, .. } => bytes,
        }
    }

    /// From a v2 `dtype` (`<f4`, `|u1`, `<U4`…): the type and whether it is big-endian.
    fn from_v2(s: &str) -> Option<(Dtype, bool)> {
        let (order, rest) = s.split_at(1.min(s.len()));
        let big = order == ">";
        let (kind, n) = rest.split_at(1.min(rest.len()));
        let n: usize = n.parse().ok()?;
        let t = match (kind, n) {
            ("b", 1) => Dtype::Bool,
            ("i", 1) => Dtype::I1,
            ("u", 1) => Dtype::U1,
            ("i", 2) => Dtype::I2,
            ("u", 2) => Dtype::U2,
            ("i", 4) => Dtype::I4,
            ("u", 4) => Dtype::U4,
            ("i", 8) => Dtype::I8,
            ("u", 8) => Dtype::U8,
            ("f", 4) => Dtype::F4,
            ("f", 8) => Dtype::F8,
            ("U", n) if n > 0 => Dtype::Text {
                bytes: 4 * n,
                utf32: true,
            },
            ("S", n) if n > 0 => Dtype::Text {
                bytes: n,
                utf32: false,
            },
            _ => return None,
        };
        Some((t, big))
    }

    /// From a v3 `data_type`.
    fn from_v3(s: &str) -> Option<Dtype> {
        Some(match s {
            "bool" => Dtype::Bool,
            "int8" => Dtype::I1,
            "uint8" => Dtype::U1,
            "int16" => Dtype::I2,
            "uint16" => Dtype::U2,
            "int32" => Dtype::I4,
            "uint32" => Dtype::U4,
            "int64" => Dtype::I8,
            "uint64" => Dtype::U8,
            "float32" => Dtype::F4,
            "float64" => Dtype::F8,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Codec {
    Blosc,
    Zstd,
    /// zlib stream (v2 `zlib`).
    Zlib,
    /// gzip stream.
    Gzip,
    /// A CRC-32C checksum appended to the chunk (v3): stripped.
    Crc32c,
}

#[derive(Debug, Clone)]
enum KeyEncoding {
    /// v2 and v3 `v2`: indices joined by the separator; a 0-d array's key is `0`.
    V2(String),
    /// v3 `default`: `c` then the indices, joined by the separator.
    Default(String),
}

impl KeyEncoding {
    fn key(&self, idx: &[usize]) -> String {
        let join = |sep: &str| {
            idx.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(sep)
        };
        match self {
            KeyEncoding::V2(_) if idx.is_empty() => "0".into(),
            KeyEncoding::V2(sep) => join(sep),
            KeyEncoding::Default(_) if idx.is_empty() => "c".into(),
            KeyEncoding::Default(sep) => format!("c{sep}{}", join(sep)),
        }
    }
}

fn bad(store: &Path, what: impl std::fmt::Display) -> Error {
    Error::NotNetcdf {
        path: store.to_path_buf(),
        reason: format!("Zarr store: {what}"),
    }
}

fn read_json(store: &Path, path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| bad(store, format!("{}: {e}", path.display())))
}

/// The root group's attributes and its arrays' metadata (sorted by name).
fn store_metadata(store: &Path) -> Result<(Map<String, Value>, Vec<ArrayMeta>)> {
    if zarr_version(store) == 3 {
        return store_metadata_v3(store);
    }
    let mut entries: BTreeMap<String, Value> = BTreeMap::new();
    let consolidated = store.join(".zmetadata");
    if consolidated.is_file() {
        let v = read_json(store, &consolidated)?;
        if let Some(m) = v.get("metadata").and_then(Value::as_object) {
            entries.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    } else {
        if store.join(".zattrs").is_file() {
            entries.insert(".zattrs".into(), read_json(store, &store.join(".zattrs"))?);
        }
        for d in subdirectories(store)? {
            let name = d
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            for f in [".zarray", ".zattrs"] {
                if d.join(f).is_file() {
                    entries.insert(format!("{name}/{f}"), read_json(store, &d.join(f))?);
                }
            }
        }
    }
    let group_attrs = entries
        .get(".zattrs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut arrays = Vec::new();
    for (key, meta) in &entries {
        let Some(name) = key.strip_suffix("/.zarray") else {
            continue;
        };
        if name.contains('/') {
            continue; // nested group
        }
        let attrs = entries
            .get(&format!("{name}/.zattrs"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        arrays.push(array_v2(store, name, meta, attrs)?);
    }
    Ok((group_attrs, arrays))
}

fn subdirectories(store: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(store).map_err(|e| Error::Open {
        path: store.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn usize_list(v: Option<&Value>) -> Option<Vec<usize>> {
    v?.as_array()?
        .iter()
        .map(|x| x.as_u64().map(|u| u as usize))
        .collect()
}

fn dim_names(name: &str, listed: Option<&Value>, rank: usize) -> Vec<String> {
    let listed: Option<Vec<String>> = listed.and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    });
    match listed {
        Some(d) if d.len() == rank && d.iter().all(|s| !s.is_empty()) => d,
        _ => (0..rank).map(|i| format!("{name}_dim{i}")).collect(),
    }
}

fn array_v2(
    store: &Path,
    name: &str,
    meta: &Value,
    mut attrs: Map<String, Value>,
) -> Result<ArrayMeta> {
    let what = |w: &str| bad(store, format!("array '{name}': {w}"));
    let shape = usize_list(meta.get("shape")).ok_or_else(|| what("no valid shape"))?;
    let chunks = usize_list(meta.get("chunks")).ok_or_else(|| what("no valid chunks"))?;
    let dt = meta.get("dtype").and_then(Value::as_str).unwrap_or("");
    let (dtype, big_endian) = Dtype::from_v2(dt).ok_or_else(|| {
        what(&format!(
            "dtype {dt:?} is not supported (numbers, U<n>, S<n>)"
        ))
    })?;
    if meta.get("order").and_then(Value::as_str) == Some("F") {
        return Err(what("Fortran-ordered chunks are not supported"));
    }
    if meta.get("filters").is_some_and(|f| !f.is_null()) {
        return Err(what(&format!(
            "filters {} are not supported",
            meta["filters"]
        )));
    }
    let codecs = match meta.get("compressor") {
        None | Some(Value::Null) => vec![],
        Some(c) => match c.get("id").and_then(Value::as_str) {
            Some("blosc") => vec![Codec::Blosc],
            Some("zstd") => vec![Codec::Zstd],
            Some("zlib") => vec![Codec::Zlib],
            Some("gzip") => vec![Codec::Gzip],
            other => {
                return Err(what(&format!(
                    "compressor {other:?} is not supported (blosc, zstd, zlib, gzip)"
                )))
            }
        },
    };
    let sep = meta
        .get("dimension_separator")
        .and_then(Value::as_str)
        .unwrap_or(".")
        .to_string();
    let dims = dim_names(name, attrs.get("_ARRAY_DIMENSIONS"), shape.len());
    attrs.remove("_ARRAY_DIMENSIONS");
    Ok(ArrayMeta {
        name: name.to_string(),
        shape,
        chunks,
        dtype,
        big_endian,
        fill: meta.get("fill_value").cloned().unwrap_or(Value::Null),
        codecs,
        key: KeyEncoding::V2(sep),
        dims,
        attrs,
    })
}

fn store_metadata_v3(store: &Path) -> Result<(Map<String, Value>, Vec<ArrayMeta>)> {
    let root = read_json(store, &store.join("zarr.json"))?;
    let group_attrs = root
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut metas: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(m) = root
        .pointer("/consolidated_metadata/metadata")
        .and_then(Value::as_object)
    {
        metas.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
    } else {
        for d in subdirectories(store)? {
            if d.join("zarr.json").is_file() {
                let name = d
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                metas.insert(name, read_json(store, &d.join("zarr.json"))?);
            }
        }
    }
    let mut arrays = Vec::new();
    for (name, meta) in &metas {
        if name.contains('/') || meta.get("node_type").and_then(Value::as_str) != Some("array") {
            continue;
        }
        arrays.push(array_v3(store, name, meta)?);
    }
    Ok((group_attrs, arrays))
}

fn array_v3(store: &Path, name: &str, meta: &Value) -> Result<ArrayMeta> {
    let what = |w: &str| bad(store, format!("array '{name}': {w}"));
    let shape = usize_list(meta.get("shape")).ok_or_else(|| what("no valid shape"))?;
    if meta.pointer("/chunk_grid/name").and_then(Value::as_str) != Some("regular") {
        return Err(what("only the regular chunk grid is supported"));
    }
    let chunks = usize_list(meta.pointer("/chunk_grid/configuration/chunk_shape"))
        .ok_or_else(|| what("no valid chunk_shape"))?;
    let dt = meta.get("data_type").and_then(Value::as_str).unwrap_or("");
    let dtype = Dtype::from_v3(dt)
        .ok_or_else(|| what(&format!("data_type {dt:?} is not supported (numbers)")))?;
    let mut big_endian = false;
    let mut codecs = Vec::new();
    for c in meta
        .get("codecs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        match c.get("name").and_then(Value::as_str) {
            Some("bytes") => {
                big_endian =
                    c.pointer("/configuration/endian").and_then(Value::as_str) == Some("big");
            }
            Some("blosc") => codecs.push(Codec::Blosc),
            Some("zstd") => codecs.push(Codec::Zstd),
            Some("gzip") => codecs.push(Codec::Gzip),
            Some("crc32c") => codecs.push(Codec::Crc32c),
            other => {
                return Err(what(&format!(
                    "codec {other:?} is not supported (bytes, blosc, zstd, gzip, crc32c; no sharding or transpose) — rewrite the store with xarray's default encoding"
                )))
            }
        }
    }
    // Codecs are listed in encoding order; decoding undoes them in reverse.
    codecs.reverse();
    let sep = meta
        .pointer("/chunk_key_encoding/configuration/separator")
        .and_then(Value::as_str);
    let key = match meta
        .pointer("/chunk_key_encoding/name")
        .and_then(Value::as_str)
    {
        Some("v2") => KeyEncoding::V2(sep.unwrap_or(".").into()),
        _ => KeyEncoding::Default(sep.unwrap_or("/").into()),
    };
    let mut attrs = meta
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // xarray keeps a CF `_FillValue` (base64) among the attributes; the array's fill_value
    // says the same.
    attrs.remove("_FillValue");
    Ok(ArrayMeta {
        name: name.to_string(),
        dims: dim_names(name, meta.get("dimension_names"), shape.len()),
        shape,
        chunks,
        dtype,
        big_endian,
        fill: meta.get("fill_value").cloned().unwrap_or(Value::Null),
        codecs,
        key,
        attrs,
    })
}

/// Decodes every array of the store's root group into a NetCDF-4 file at `out`.
pub fn to_netcdf(store: &Path, out: &Path) -> Result<()> {
    let (group_attrs, arrays) = store_metadata(store)?;
    if arrays.is_empty() {
        return Err(bad(store, "no arrays in the root group"));
    }
    let nc_err = |e: netcdf::Error| Error::Netcdf {
        path: out.to_path_buf(),
        action: "writing the NetCDF copy of a Zarr store".into(),
        reason: e.to_string(),
    };
    crate::io::read::configure_libnetcdf();
    let mut f = netcdf::create_with(out, netcdf::Options::NETCDF4).map_err(nc_err)?;
    // Dimensions in the order the arrays of highest rank list them, checked for one length
    // each.
    let mut dims: Vec<(String, usize)> = Vec::new();
    let mut by_rank: Vec<&ArrayMeta> = arrays.iter().collect();
    by_rank.sort_by_key(|a| std::cmp::Reverse(a.shape.len()));
    for a in by_rank {
        if a.chunks.len() != a.shape.len() || a.chunks.contains(&0) {
            return Err(bad(
                store,
                format!(
                    "array '{}': chunks {:?} do not fit shape {:?}",
                    a.name, a.chunks, a.shape
                ),
            ));
        }
        for (d, &n) in a.dims.iter().zip(&a.shape) {
            match dims.iter().find(|(name, _)| name == d).map(|&(_, m)| m) {
                None => dims.push((d.clone(), n)),
                Some(m) if m != n => {
                    return Err(bad(
                        store,
                        format!(
                            "dimension '{d}' has length {m} in one array and {n} in '{}'",
                            a.name
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    for (d, n) in &dims {
        let n = *n;
        f.add_dimension(d, n).map_err(nc_err)?;
    }
    for (k, v) in &group_attrs {
        if let Some(value) = attribute(v) {
            f.add_attribute(k, value).map_err(nc_err)?;
        }
    }
    for a in &arrays {
        let bytes = decode_array(store, a)?;
        write_array(&mut f, a, &bytes).map_err(nc_err)?;
    }
    f.close().map_err(nc_err)?;
    Ok(())
}

/// A JSON attribute as a NetCDF attribute (objects and nulls are left out).
fn attribute(v: &Value) -> Option<netcdf::AttributeValue> {
    use netcdf::AttributeValue as A;
    match v {
        Value::String(s) => Some(A::Str(s.clone())),
        Value::Bool(b) => Some(A::Int(i32::from(*b))),
        Value::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if i32::try_from(i).is_ok() => A::Int(i as i32),
            (Some(i), _) => A::Longlong(i),
            (None, Some(x)) => A::Double(x),
            _ => return None,
        }),
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => {
            Some(A::Doubles(items.iter().filter_map(Value::as_f64).collect()))
        }
        Value::Array(items) if items.iter().all(Value::is_string) && !items.is_empty() => {
            Some(A::Strs(
                items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// The whole array, C order, native byte order.
fn decode_array(store: &Path, a: &ArrayMeta) -> Result<Vec<u8>> {
    let item = a.dtype.size();
    // products overflow-checked: a hostile shape saturates and is refused
    let product = |dims: &[usize]| {
        dims.iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))
            .unwrap_or(u64::MAX)
    };
    let count = product(&a.shape);
    let chunk_count = product(&a.chunks);
    let limit = ZARR_MAX_ARRAY_BYTES.min(crate::memory::max_memory());
    let too_big = |n: u64| n.saturating_mul(item as u64) > limit;
    if too_big(count) || too_big(chunk_count) {
        return Err(bad(
            store,
            format!(
                "array '{}' declares {:?} values of {item} bytes (chunks {:?}): more than the {} one array may take (the memory budget, --max-memory)",
                a.name,
                a.shape,
                a.chunks,
                crate::memory::human_bytes(limit)
            ),
        ));
    }
    let fill = fill_bytes(a);
    let mut out: Vec<u8> = fill
        .iter()
        .copied()
        .cycle()
        .take(count as usize * item)
        .collect();
    let rank = a.shape.len();
    let grid: Vec<usize> = a
        .shape
        .iter()
        .zip(&a.chunks)
        .map(|(&n, &c)| n.div_ceil(c))
        .collect();
    let chunk_bytes = chunk_count as usize * item;
    let dir = store.join(&a.name);
    let mut idx = vec![0usize; rank];
    if grid.contains(&0) {
        return Ok(out);
    }
    loop {
        let path = dir.join(a.key.key(&idx));
        if path.is_file() {
            let raw = std::fs::read(&path).map_err(|e| Error::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let chunk = decode_chunk(&raw, &a.codecs, chunk_bytes)
                .map_err(|w| bad(store, format!("chunk {}: {w}", path.display())))?;
            if chunk.len() != chunk_bytes {
                return Err(bad(
                    store,
                    format!(
                        "chunk {} holds {} bytes, expected {chunk_bytes}",
                        path.display(),
                        chunk.len()
                    ),
                ));
            }
            let mut chunk = chunk;
            // Stored big-endian: to native order chunk by chunk (the fill is native already).
            if a.big_endian && item > 1 && !matches!(a.dtype, Dtype::Text { .. }) {
                for v in chunk.chunks_exact_mut(item) {
                    v.reverse();
                }
            }
            place_chunk(&mut out, &chunk, &idx, a, item);
        }
        if !next_index(&mut idx, &grid) {
            return Ok(out);
        }
    }
}

/// Steps a multi-index through `0..limits` in C order (last dimension fastest); false once
/// every index has been visited.
fn next_index(idx: &mut [usize], limits: &[usize]) -> bool {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        if idx[d] < limits[d] {
            return true;
        }
        idx[d] = 0;
    }
    false
}

/// Copies the in-bounds part of chunk `idx` into the array, row by row of the last dimension.
fn place_chunk(out: &mut [u8], chunk: &[u8], idx: &[usize], a: &ArrayMeta, item: usize) {
    let rank = a.shape.len();
    if rank == 0 {
        out[..item].copy_from_slice(&chunk[..item]);
        return;
    }
    let start: Vec<usize> = idx.iter().zip(&a.chunks).map(|(i, c)| i * c).collect();
    let extent: Vec<usize> = (0..rank)
        .map(|d| a.chunks[d].min(a.shape[d] - start[d]))
        .collect();
    let run = extent[rank - 1] * item;
    let mut pos = vec![0usize; rank.saturating_sub(1)];
    loop {
        let mut src = 0usize;
        let mut dst = 0usize;
        for d in 0..rank {
            let p = if d + 1 < rank { pos[d] } else { 0 };
            src = src * a.chunks[d] + p;
            dst = dst * a.shape[d] + start[d] + p;
        }
        out[dst * item..dst * item + run].copy_from_slice(&chunk[src * item..src * item + run]);
        if !next_index(&mut pos, &extent[..rank - 1]) {
            return;
        }
    }
}

/// The fill value's bytes (native order): zero where there is none.
fn fill_bytes(a: &ArrayMeta) -> Vec<u8> {
    let f = &a.fill;
    let float = || -> Option<f64> {
        match f {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match s.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                hex if hex.starts_with("0x") => {
                    let bits = u64::from_str_radix(&hex[2..], 16).ok()?;
                    Some(if a.dtype == Dtype::F4 {
                        f64::from(f32::from_bits(bits as u32))
                    } else {
                        f64::from_bits(bits)
                    })
                }
                _ => None,
            },
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    };
    let int = || -> i128 {
        match f {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or(n.as_u64().map(i128::from))
                .unwrap_or(0),
            Value::Bool(b) => i128::from(*b),
            _ => 0,
        }
    };
    match a.dtype {
        Dtype::F4 => (float().unwrap_or(0.0) as f32).to_ne_bytes().to_vec(),
        Dtype::F8 => float().unwrap_or(0.0).to_ne_bytes().to_vec(),
        Dtype::Text { bytes, .. } => vec![0; bytes],
        Dtype::Bool | Dtype::I1 | Dtype::U1 => vec![int() as u8],
        Dtype::I2 | Dtype::U2 => (int() as u16).to_ne_bytes().to_vec(),
        Dtype::I4 | Dtype::U4 => (int() as u32).to_ne_bytes().to_vec(),
        Dtype::I8 | Dtype::U8 => (int() as u64).to_ne_bytes().to_vec(),
    }
}

/// Undoes a chunk's codecs (in decoding order).
fn decode_chunk(
    raw: &[u8],
    codecs: &[Codec],
    expected: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut data = raw.to_vec();
    for c in codecs {
        data = match c {
            Codec::Blosc => blosc_decompress(&data, expected)?,
            Codec::Zstd => unzstd(&data, expected, "zstd")?,
            Codec::Zlib => inflate(flate2::read::ZlibDecoder::new(&data[..]), expected, "zlib")?,
            Codec::Gzip => inflate(flate2::read::GzDecoder::new(&data[..]), expected, "gzip")?,
            Codec::Crc32c => {
                if data.len() < 4 {
                    return Err("shorter than its CRC-32C".into());
                }
                data.truncate(data.len() - 4);
                data
            }
        };
    }
    Ok(data)
}

/// Everything a decompressing reader gives, up to one byte past `expected` (so that a stream
/// longer than its chunk shows as a size mismatch without decompressing it all).
fn inflate(r: impl Read, expected: usize, what: &str) -> std::result::Result<Vec<u8>, String> {
    let mut v = Vec::with_capacity(expected);
    r.take(expected as u64 + 1)
        .read_to_end(&mut v)
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(v)
}

/// [`inflate`] of a zstd frame.
fn unzstd(data: &[u8], expected: usize, what: &str) -> std::result::Result<Vec<u8>, String> {
    let d = ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| format!("{what}: {e}"))?;
    inflate(d, expected, what)
}

/// Decompresses one blosc-1 frame of at most `limit` bytes.
pub fn blosc_decompress(src: &[u8], limit: usize) -> std::result::Result<Vec<u8>, String> {
    const DOSHUFFLE: u8 = 0x1;
    const MEMCPYED: u8 = 0x2;
    const BITSHUFFLE: u8 = 0x4;
    const DONT_SPLIT: u8 = 0x10;
    const MAX_SPLITS: usize = 16;
    const MIN_BUFFERSIZE: usize = 128;
    if src.len() < 16 {
        return Err("blosc frame shorter than its header".into());
    }
    let u32_at = |p: usize| -> std::result::Result<usize, String> {
        src.get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| "blosc frame truncated".to_string())
    };
    let (flags, typesize) = (src[2], usize::from(src[3]).max(1));
    let (nbytes, blocksize, cbytes) = (u32_at(4)?, u32_at(8)?, u32_at(12)?);
    if nbytes > limit {
        return Err(format!(
            "blosc frame of {nbytes} bytes, more than the chunk's {limit}"
        ));
    }
    if cbytes > src.len() {
        return Err("blosc frame truncated".into());
    }
    if nbytes == 0 {
        return Ok(Vec::new());
    }
    if flags & MEMCPYED != 0 {
        return src
            .get(16..16 + nbytes)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| "blosc frame truncated".into());
    }
    if flags & BITSHUFFLE != 0 {
        return Err("blosc bitshuffle is not supported (byte shuffle is)".into());
    }
    if blocksize == 0 || blocksize > limit {
        return Err(format!("blosc block size {blocksize} is not valid"));
    }
    let codec = flags >> 5;
    let nblocks = nbytes.div_ceil(blocksize);
    let mut out = vec![0u8; nbytes];
    let mut tmp = vec![0u8; blocksize];
    for b in 0..nblocks {
        let bsize = blocksize.min(nbytes - b * blocksize);
        let leftover = bsize < blocksize;
        let split = flags & DONT_SPLIT == 0
            && typesize <= MAX_SPLITS
            && blocksize / typesize >= MIN_BUFFERSIZE
            && !leftover;
        let nsplits = if split { typesize } else { 1 };
        let neblock = bsize / nsplits;
        let mut pos = u32_at(16 + 4 * b)?;
        let shuffle = flags & DOSHUFFLE != 0 && typesize > 1;
        let dest: &mut [u8] = if shuffle {
            &mut tmp[..bsize]
        } else {
            &mut out[b * blocksize..b * blocksize + bsize]
        };
        for j in 0..nsplits {
            let cb = u32_at(pos)?;
            pos += 4;
            let stream = src
                .get(pos..pos + cb)
                .ok_or_else(|| "blosc stream truncated".to_string())?;
            let target = &mut dest[j * neblock..(j + 1) * neblock];
            if cb == neblock {
                target.copy_from_slice(stream);
            } else {
                let n = match codec {
                    1 => lz4_flex::block::decompress_into(stream, target)
                        .map_err(|e| format!("blosc lz4: {e}"))?,
                    3 | 4 => {
                        let v = if codec == 3 {
                            inflate(flate2::read::ZlibDecoder::new(stream), neblock, "blosc zlib")?
                        } else {
                            unzstd(stream, neblock, "blosc zstd")?
                        };
                        let n = v.len().min(neblock);
                        target[..n].copy_from_slice(&v[..n]);
                        v.len()
                    }
                    0 => return Err("blosc's own blosclz codec is not supported (lz4, zstd, zlib are): rewrite the store with cname='lz4'".into()),
                    2 => return Err("blosc snappy is not supported (lz4, zstd, zlib are)".into()),
                    c => return Err(format!("unknown blosc codec {c}")),
                };
                if n != neblock {
                    return Err(format!("blosc stream gave {n} bytes, expected {neblock}"));
                }
            }
            pos += cb;
        }
        if shuffle {
            // Byte j of element i was stored at j·n + i; bytes past whole elements stay put.
            let n = bsize / typesize;
            let block = &mut out[b * blocksize..b * blocksize + bsize];
            for i in 0..n {
                for j in 0..typesize {
                    block[i * typesize + j] = tmp[j * n + i];
                }
            }
            block[n * typesize..].copy_from_slice(&tmp[n * typesize..bsize]);
        }
    }
    Ok(out)
}

/// Writes one decoded array as a NetCDF variable with its attributes and fill value.
fn write_array(
    f: &mut netcdf::FileMut,
    a: &ArrayMeta,
    bytes: &[u8],
) -> std::result::Result<(), netcdf::Error> {
    let dims: Vec<&str> = a.dims.iter().map(String::as_str).collect();
    macro_rules! numeric {
        ($t:ty) => {{
            let n = std::mem::size_of::<$t>();
            let values: Vec<$t> = bytes
                .chunks_exact(n)
                .map(|c| <$t>::from_ne_bytes(c.try_into().expect("item size")))
                .collect();
            let mut v = f.add_variable::<$t>(&a.name, &dims)?;
            if !a.fill.is_null() {
                let fb = fill_bytes(a);
                v.set_fill_value(<$t>::from_ne_bytes(fb[..n].try_into().expect("item size")))?;
            }
            put_attrs(&mut v, &a.attrs)?;
            v.put_values(&values, ..)?;
        }};
    }
    match a.dtype {
        Dtype::Bool | Dtype::I1 => numeric!(i8),
        Dtype::U1 => numeric!(u8),
        Dtype::I2 => numeric!(i16),
        Dtype::U2 => numeric!(u16),
        Dtype::I4 => numeric!(i32),
        Dtype::U4 => numeric!(u32),
        Dtype::I8 => numeric!(i64),
        Dtype::U8 => numeric!(u64),
        Dtype::F4 => numeric!(f32),
        Dtype::F8 => numeric!(f64),
        Dtype::Text {
            bytes: width,
            utf32,
        } => {
            // One-dimensional text (labels such as cfgrib's `expver`); others are left out.
            if dims.len() != 1 {
                return Ok(());
            }
            let mut v = f.add_string_variable(&a.name, &dims)?;
            put_attrs(&mut v, &a.attrs)?;
            for (i, item) in bytes.chunks_exact(width).enumerate() {
                let s: String = if utf32 {
                    item.chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .take_while(|&u| u != 0)
                        .filter_map(char::from_u32)
                        .collect()
                } else {
                    item.iter()
                        .take_while(|&&b| b != 0)
                        .map(|&b| char::from(b))
                        .collect()
                };
                v.put_string(&s, i)?;
            }
        }
    }
    Ok(())
}

fn put_attrs(
    v: &mut netcdf::VariableMut,
    attrs: &Map<String, Value>,
) -> std::result::Result<(), netcdf::Error> {
    for (k, val) in attrs {
        if k == "_FillValue" {
            continue;
        }
        if let Some(value) = attribute(val) {
            v.put_attribute(k, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zarr/era5_msl_chunk0.zarr")
    }

    #[test]
    fn a_real_xarray_store_decodes_to_the_values_of_its_netcdf_copy() {
        // ERA5 msl as xarray wrote it (blosc-lz4, byte shuffle, consolidated metadata), with
        // only the first chunk (90 × 19 × 72) kept; the values are ncdump's of the NetCDF copy
        // in ../shared/data/cyclones_era5 (written by xarray from the same store; `ncdump -p 12`).
        let store = fixture();
        assert!(is_zarr_store(&store) && zarr_version(&store) == 2);
        let f = open_as_netcdf(&store).unwrap();
        let msl = f.variable("msl").unwrap();
        let dims: Vec<String> = msl.dimensions().iter().map(|d| d.name()).collect();
        assert_eq!(dims, ["valid_time", "latitude", "longitude"]);
        let v: Vec<f32> = msl.get_values(..).unwrap();
        assert_eq!(v.len(), 360 * 73 * 144);
        let at = |t: usize, y: usize, x: usize| v[(t * 73 + y) * 144 + x];
        for (t, y, x, want) in [
            (0, 0, 0, 101908.125),
            (0, 18, 71, 99282.125),
            (45, 10, 33, 101184.375),
            (89, 18, 0, 100880.75),
            (89, 5, 70, 100612.5),
        ] {
            assert_eq!(at(t, y, x), want, "({t}, {y}, {x})");
        }
        let sum: f64 = (0..90)
            .flat_map(|t| (0..19).flat_map(move |y| (0..72).map(move |x| (t, y, x))))
            .map(|(t, y, x)| f64::from(at(t, y, x)))
            .sum();
        assert!((sum - 12523424607.125).abs() < 1e-3, "{sum}");
        // Chunks left out of the fixture are the fill value (NaN).
        assert!(at(90, 0, 0).is_nan() && at(0, 19, 0).is_nan() && at(0, 0, 72).is_nan());
        // Coordinates, attributes and the text coordinate come through.
        let lat: Vec<f64> = f.variable("latitude").unwrap().get_values(..).unwrap();
        assert_eq!((lat[0], lat[72]), (90.0, -90.0));
        let time = f.variable("valid_time").unwrap();
        let t: Vec<i64> = time.get_values(..).unwrap();
        assert_eq!(t[0], 1_764_547_200, "2025-12-01T00 in seconds since 1970");
        assert_eq!(
            time.attribute_value("units").unwrap().unwrap(),
            netcdf::AttributeValue::Str("seconds since 1970-01-01".into())
        );
        assert_eq!(
            f.attribute("Conventions").unwrap().value().unwrap(),
            netcdf::AttributeValue::Str("CF-1.7".into())
        );
        assert_eq!(f.variable("expver").unwrap().get_string(0).unwrap(), "0001");
    }

    #[test]
    fn blosc_frames_by_hand() {
        // 64 little-endian u16 values 0..64 (128 bytes), one block, byte-shuffled (all low
        // bytes, then all high bytes), not split, compressed with LZ4.
        let values: Vec<u8> = (0u16..64).flat_map(|v| v.to_le_bytes()).collect();
        let mut shuffled: Vec<u8> = values.iter().step_by(2).copied().collect();
        shuffled.extend(values.iter().skip(1).step_by(2));
        let stream = lz4_flex::block::compress(&shuffled);
        let mut frame = vec![2u8, 1, 0x1 | 0x10 | (1 << 5), 2];
        frame.extend(128u32.to_le_bytes()); // uncompressed bytes
        frame.extend(128u32.to_le_bytes()); // block size
        let total = 16 + 4 + 4 + stream.len();
        frame.extend((total as u32).to_le_bytes());
        frame.extend(20u32.to_le_bytes()); // the block starts after its offset
        frame.extend((stream.len() as u32).to_le_bytes());
        frame.extend(&stream);
        assert_eq!(blosc_decompress(&frame, 128).unwrap(), values);
        // Stored uncompressed (flag 0x2): the bytes follow the header.
        let mut plain = vec![2u8, 1, 0x2, 2];
        plain.extend(128u32.to_le_bytes());
        plain.extend(128u32.to_le_bytes());
        plain.extend(144u32.to_le_bytes());
        plain.extend(&values);
        assert_eq!(blosc_decompress(&plain, 128).unwrap(), values);
        // Hostile frames: an error, never a panic or a huge allocation.
        assert!(blosc_decompress(&frame[..10], 128).is_err());
        assert!(blosc_decompress(&frame[..frame.len() - 3], 128).is_err());
        let mut big = frame.clone();
        big[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(blosc_decompress(&big, 128)
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn edge_chunks_missing_chunks_and_big_endian_values() {
        // shape 3 × 5 in 2 × 2 chunks (grid 2 × 3; edge chunks padded), uncompressed, chunk
        // (1, 2) missing: its one in-bounds value is the fill (−1, in native order).
        let dir = tempfile::tempdir().unwrap();
        for (dtype, big) in [("<f4", false), (">f4", true)] {
            let store = dir.path().join(format!("s{}.zarr", u8::from(big)));
            std::fs::create_dir_all(store.join("v")).unwrap();
            std::fs::write(store.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
            std::fs::write(
                store.join("v/.zarray"),
                format!(
                    r#"{{"shape": [3, 5], "chunks": [2, 2], "dtype": "{dtype}", "compressor": null,
                        "fill_value": -1.0, "filters": null, "order": "C", "zarr_format": 2}}"#
                ),
            )
            .unwrap();
            std::fs::write(
                store.join("v/.zattrs"),
                r#"{"_ARRAY_DIMENSIONS": ["y", "x"]}"#,
            )
            .unwrap();
            let value = |y: usize, x: usize| (10 * y + x) as f32;
            for cy in 0..2 {
                for cx in 0..3 {
                    if (cy, cx) == (1, 2) {
                        continue;
                    }
                    let mut bytes = Vec::new();
                    for y in 0..2 {
                        for x in 0..2 {
                            let v = value(2 * cy + y, 2 * cx + x);
                            bytes.extend(if big {
                                v.to_be_bytes()
                            } else {
                                v.to_le_bytes()
                            });
                        }
                    }
                    std::fs::write(store.join(format!("v/{cy}.{cx}")), bytes).unwrap();
                }
            }
            let f = open_as_netcdf(&store).unwrap();
            let v: Vec<f32> = f.variable("v").unwrap().get_values(..).unwrap();
            let want: Vec<f32> = (0..15)
                .map(|k| {
                    let (y, x) = (k / 5, k % 5);
                    if (y, x) == (2, 4) {
                        -1.0
                    } else {
                        value(y, x)
                    }
                })
                .collect();
            assert_eq!(v, want, "{dtype}");
        }
    }

    #[test]
    fn a_store_declaring_a_huge_array_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("huge.zarr");
        std::fs::create_dir_all(store.join("x")).unwrap();
        std::fs::write(store.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
        std::fs::write(
            store.join("x/.zarray"),
            r#"{"shape": [1000000, 1000000, 1000], "chunks": [10, 10, 10], "dtype": "<f4",
                "compressor": null, "fill_value": "NaN", "filters": null, "order": "C",
                "zarr_format": 2}"#,
        )
        .unwrap();
        let err = open_as_netcdf(&store).unwrap_err().to_string();
        assert!(err.contains("huge.zarr") && err.contains("GiB"), "{err}");
    }
}
