//! Shared helpers: paths, running the binary, writing fixture files in foreign layouts.

use std::path::{Path, PathBuf};
use std::process::Output;

/// A bundled real file.
pub fn real(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/real")
        .join(rel)
}

/// The demo configuration `data/demo/outlook.toml` as text, its relative paths made absolute so
/// that a copy can live in another folder.
pub fn moved_demo_config() -> String {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    std::fs::read_to_string(demo.join("outlook.toml"))
        .unwrap()
        .replace("\"../", &format!("\"{}/../", demo.display()))
}

/// Runs the `s2s` binary.
pub fn s2s(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(args)
        .output()
        .expect("the s2s binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must fail; returns its stderr after checking the failure is clean.
pub fn fails(args: &[&str]) -> String {
    let o = s2s(args);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "s2s {args:?} should exit 1:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.lines().all(|l| l.starts_with("error: ")),
        "one line per error: {err}"
    );
    err
}

/// A text attribute or a numeric one.
pub enum A<'a> {
    T(&'a str),
    F(f64),
    F32(f32),
    S(i16),
}

fn put(v: &mut netcdf::VariableMut, attrs: &[(&str, A)]) {
    for (k, a) in attrs {
        match a {
            A::T(t) => v.put_attribute(k, *t).map(|_| ()),
            A::F(x) => v.put_attribute(k, *x).map(|_| ()),
            A::F32(x) => v.put_attribute(k, *x).map(|_| ()),
            A::S(x) => v.put_attribute(k, *x).map(|_| ()),
        }
        .expect("attribute");
    }
}

/// Writes a 1-D f64 coordinate variable.
pub fn coord(f: &mut netcdf::FileMut, name: &str, values: &[f64], attrs: &[(&str, A)]) {
    f.add_dimension(name, values.len()).expect("dim");
    let mut v = f.add_variable::<f64>(name, &[name]).expect("var");
    put(&mut v, attrs);
    v.put_values(values, ..).expect("values");
}

/// Writes an f32 data variable.
pub fn data_f32(
    f: &mut netcdf::FileMut,
    name: &str,
    dims: &[&str],
    values: &[f32],
    attrs: &[(&str, A)],
) {
    let mut v = f.add_variable::<f32>(name, dims).expect("var");
    put(&mut v, attrs);
    v.put_values(values, ..).expect("values");
}

/// Writes an i16 (packed) data variable.
pub fn data_i16(
    f: &mut netcdf::FileMut,
    name: &str,
    dims: &[&str],
    values: &[i16],
    attrs: &[(&str, A)],
) {
    let mut v = f.add_variable::<i16>(name, dims).expect("var");
    put(&mut v, attrs);
    v.put_values(values, ..).expect("values");
}

/// A new NetCDF-4 file at `path`.
pub fn create(path: &Path) -> netcdf::FileMut {
    nc_create(path).expect("create fixture")
}

/// Converts a file to the classic format with `nccopy -k classic` (netcdf-bin).
pub fn to_classic(from: &Path, to: &Path) {
    let st = std::process::Command::new("nccopy")
        .args(["-k", "classic"])
        .arg(from)
        .arg(to)
        .status()
        .expect("nccopy (netcdf-bin) is installed by scripts/setup.sh");
    assert!(st.success());
}

/// A plain `(time, lat, lon)` monthly observation file with the given values function.
pub fn plain_obs(
    path: &Path,
    var: &str,
    units: &str,
    nt: usize,
    f: impl Fn(usize, usize, usize) -> f32,
) {
    let mut nc = create(path);
    coord(
        &mut nc,
        "time",
        &(0..nt).map(|t| (t * 30) as f64).collect::<Vec<_>>(),
        &[
            ("units", A::T("days since 2000-01-01")),
            ("calendar", A::T("360_day")),
        ],
    );
    coord(
        &mut nc,
        "lat",
        &[10.0, 20.0],
        &[("units", A::T("degrees_north"))],
    );
    coord(
        &mut nc,
        "lon",
        &[70.0, 80.0, 90.0],
        &[("units", A::T("degrees_east"))],
    );
    let vals: Vec<f32> = (0..nt * 6).map(|i| f(i / 6, i / 3 % 2, i % 3)).collect();
    data_f32(
        &mut nc,
        var,
        &["time", "lat", "lon"],
        &vals,
        &[("units", A::T(units))],
    );
}

/// Writes the small synthetic workload (`s2s synth --preset small`) into `dir`.
pub fn synth_small(dir: &Path) {
    let o = s2s(&[
        "synth",
        "-q",
        "--preset",
        "small",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The workload's three `{kind}_{MODEL}.nc` files (`hindcast` or `forecast`), comma-separated.
pub fn synth_files(dir: &Path, kind: &str) -> String {
    ["ALPHA", "BRAVO", "CHARLIE"]
        .iter()
        .map(|m| {
            dir.join(format!("{kind}_{m}.nc"))
                .to_string_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Text of a variable attribute.
fn text_attr(v: &netcdf::Variable, name: &str) -> Option<String> {
    match v.attribute_value(name) {
        Some(Ok(netcdf::AttributeValue::Str(s))) => Some(s),
        _ => None,
    }
}

/// The N-D values of product variable `name` in either layout: the variable itself (N-D
/// layout), or its per-label variables of the CDO layout reassembled from their
/// `s2s_nd_dimensions`/`s2s_nd_split`/`s2s_nd_index` attributes. Returns `(shape, values)`
/// in row-major order of the N-D dimensions; `None` when the file has neither.
pub fn nd_values(f: &netcdf::File, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
    if let Some(v) = f.variable(name) {
        let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        return Some((shape, v.get_values::<f32, _>(..).unwrap()));
    }
    // (index along the split axes, values, every N-D dimension, the split ones)
    type Part = (Vec<usize>, Vec<f32>, Vec<String>, Vec<String>);
    let mut parts: Vec<Part> = Vec::new();
    for v in f.variables() {
        if text_attr(&v, "s2s_nd_variable").as_deref() != Some(name) {
            continue;
        }
        let all: Vec<String> = text_attr(&v, "s2s_nd_dimensions")
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let split: Vec<String> = text_attr(&v, "s2s_nd_split")
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let index: Vec<usize> = match v.attribute_value("s2s_nd_index") {
            Some(Ok(netcdf::AttributeValue::Int(i))) => vec![i as usize],
            Some(Ok(netcdf::AttributeValue::Ints(i))) => i.iter().map(|&x| x as usize).collect(),
            other => panic!("{}: s2s_nd_index {other:?}", v.name()),
        };
        parts.push((index, v.get_values::<f32, _>(..).unwrap(), all, split));
    }
    let (_, _, all, split) = parts.first()?.clone();
    let shape: Vec<usize> = all
        .iter()
        .map(|d| match split.iter().position(|s| s == d) {
            Some(k) => parts.iter().map(|p| p.0[k]).max().unwrap() + 1,
            None => f.dimension(d).unwrap().len(),
        })
        .collect();
    let mut out = ndarray::ArrayD::<f32>::from_elem(ndarray::IxDyn(&shape), f32::NAN);
    for (index, values, ..) in &parts {
        let mut view = out.view_mut();
        // Highest split position first so the lower ones keep their axis numbers.
        let mut at: Vec<(usize, usize)> = split
            .iter()
            .zip(index)
            .map(|(d, &i)| (all.iter().position(|a| a == d).unwrap(), i))
            .collect();
        at.sort();
        for &(p, i) in at.iter().rev() {
            view = view.index_axis_move(ndarray::Axis(p), i);
        }
        for (o, v) in view.iter_mut().zip(values) {
            *o = *v;
        }
    }
    Some((shape, out.iter().copied().collect()))
}

/// Copies the NetCDF file `from` to `to` (NetCDF-4): every dimension and global attribute, the
/// variables `keep` accepts with their attributes, renamed as `rename` says (`(old, new)`) — a
/// fixture with another file's values under the names another producer uses.
pub fn copy_nc(from: &Path, to: &Path, rename: &[(&str, &str)], keep: impl Fn(&str) -> bool) {
    use netcdf::types::{FloatType, IntType, NcVariableType};
    let src = nc_open(from).expect("fixture source");
    let mut dst = create(to);
    for d in src.dimensions() {
        if d.is_unlimited() {
            dst.add_unlimited_dimension(&d.name())
        } else {
            dst.add_dimension(&d.name(), d.len())
        }
        .expect("dimension");
    }
    for a in src.attributes() {
        dst.add_attribute(a.name(), a.value().expect("attribute"))
            .expect("attribute");
    }
    for v in src.variables().filter(|v| keep(&v.name())) {
        let name = v.name();
        let name = rename.iter().find(|r| r.0 == name).map_or(&*name, |r| r.1);
        let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
        let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
        let typ = v.vartype();
        let mut w = dst
            .add_variable_with_type(name, &dims, &typ)
            .expect("variable");
        for a in v.attributes() {
            w.put_attribute(a.name(), a.value().expect("attribute"))
                .expect("attribute");
        }
        match typ {
            NcVariableType::Float(FloatType::F32) => {
                w.put_values(&v.get_values::<f32, _>(..).unwrap(), ..)
            }
            NcVariableType::Float(FloatType::F64) => {
                w.put_values(&v.get_values::<f64, _>(..).unwrap(), ..)
            }
            NcVariableType::Int(IntType::I32) => {
                w.put_values(&v.get_values::<i32, _>(..).unwrap(), ..)
            }
            NcVariableType::Int(IntType::I64) => {
                w.put_values(&v.get_values::<i64, _>(..).unwrap(), ..)
            }
            NcVariableType::String if dims.len() == 1 => {
                (0..v.len()).try_for_each(|i| w.put_string(&v.get_string([i]).unwrap(), [i]))
            }
            other => panic!("copy_nc: {name} of type {other:?} is not copied"),
        }
        .expect("values");
    }
}

/// The configuration `cfg` with `[issuer] language = "ru"` added (written beside it), run by
/// `s2s outlook -q` into `out`; the Russian `bulletin.md`.
pub fn russian_bulletin(cfg: &Path, out: &Path) -> String {
    let ru = cfg.with_extension("ru.toml");
    let text = std::fs::read_to_string(cfg).unwrap();
    std::fs::write(&ru, format!("{text}\n[issuer]\nlanguage = \"ru\"\n")).unwrap();
    let o = s2s(&[
        "outlook",
        "-q",
        "--config",
        ru.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out.join("bulletin.md")).unwrap()
}

/// Asserts that the picture `file` differs between the folders `russian` and `english`: the
/// same data drawn with the words of another language.
pub fn assert_redrawn(russian: &Path, english: &Path, file: &str) {
    let read = |dir: &Path| std::fs::read(dir.join(file)).unwrap();
    assert_ne!(read(russian), read(english), "{file}: still English");
}

/// `netcdf::open` with HDF5's error printing off in this test's thread (libnetcdf probes
/// attributes that are absent by design; a thread-safe HDF5 would print each miss).
pub fn nc_open(path: impl AsRef<Path>) -> netcdf::Result<netcdf::File> {
    s2s_ensemble::io::silence_hdf5_errors_in_this_thread();
    netcdf::open(path)
}

/// `netcdf::create`, as [`nc_open`].
pub fn nc_create(path: impl AsRef<Path>) -> netcdf::Result<netcdf::FileMut> {
    s2s_ensemble::io::silence_hdf5_errors_in_this_thread();
    netcdf::create(path)
}

/// `netcdf::append`, as [`nc_open`].
pub fn nc_append(path: impl AsRef<Path>) -> netcdf::Result<netcdf::FileMut> {
    s2s_ensemble::io::silence_hdf5_errors_in_this_thread();
    netcdf::append(path)
}
