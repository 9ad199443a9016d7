//! Mutation fuzzer of the CF decoding layer: NetCDF files from `fuzz/corpus` (classic, 64-bit
//! offset, CDF-5 and NetCDF-4 forecasts, observations, packed values) are mutated — bit flips,
//! interesting bytes and 32/64-bit integers written over the header (dimension lengths,
//! offsets, type codes, counts), truncation, slices duplicated or deleted — and each mutant
//! goes through what `s2s inspect` does ([`s2s_ensemble::io::inspect_file`]: open, names,
//! truncation, dimension roles, coordinates, decoding, units, the whole variable read).
//!
//! A panic is caught and its input kept as `fuzz/crashes/panic-<hash>.nc`; an abort, a crash
//! by signal or a hang (no progress for 60 s) ends a worker process, whose input the
//! supervisor keeps as `abort-`/`hang-<hash>.nc` before starting another. Workers run under a
//! memory budget of 512 MiB for header-sized allocations and an address-space limit of 4 GiB,
//! so a header that makes libnetcdf or us ask for more shows up instead of swapping.
//!
//! ```text
//! cargo run --release --example fuzz_decode -- --seconds 60 [--inputs N] [--jobs 2]
//!     [--seed S] [--corpus fuzz/corpus] [--crashes fuzz/crashes]
//! cargo run --release --example fuzz_decode -- --make-corpus fuzz/corpus
//! ```
//! Exit status 1 when any panic, abort or hang was found; the summary line gives the number
//! of inputs, inputs per second and the largest resident memory of a worker.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Inputs a worker runs between reports of its count.
const REPORT_EVERY: u64 = 100;
/// A worker that has not reported for this long is hung.
const HANG_AFTER: Duration = Duration::from_secs(60);
/// Inputs a worker runs before a fresh one takes over: libnetcdf and HDF5 leak about 1.5 KB
/// per rejected file, which would otherwise add up to the address-space limit.
const INPUTS_PER_WORKER: u64 = 200_000;
/// Exit status of a worker that caught a panic.
const PANICKED: u8 = 3;
/// Memory budget of header-sized allocations in a worker.
const WORKER_BUDGET_BYTES: u64 = 512 << 20;
/// Address-space limit of a worker.
const WORKER_ADDRESS_SPACE_BYTES: u64 = 4 << 30;

/// xorshift64*: small, fast, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING_32: [u32; 12] = [
    0,
    1,
    2,
    3,
    4,
    0x7f,
    0xff,
    0xffff,
    1_000_000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];
const INTERESTING_64: [u64; 6] = [0, 1, 0x7fff_ffff, 0xffff_ffff, 1 << 40, u64::MAX];

/// One mutant of `seed`: 1 to 8 mutations, mostly in the first 4 KiB (the header).
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if b.is_empty() {
            break;
        }
        let span = if rng.below(5) < 4 {
            b.len().min(4096)
        } else {
            b.len()
        };
        let at = rng.below(span);
        match rng.below(9) {
            0 | 1 => b[at] ^= 1 << rng.below(8),
            2 => b[at] = [0u8, 0xff, 0x7f, 0x80, 1][rng.below(5)],
            3 | 4 => {
                let at = at & !3;
                if at + 4 <= b.len() {
                    let v = INTERESTING_32[rng.below(INTERESTING_32.len())];
                    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
                }
            }
            5 => {
                if at + 8 <= b.len() {
                    let v = INTERESTING_64[rng.below(INTERESTING_64.len())];
                    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
            }
            6 => b.truncate(at.max(1)),
            7 => {
                let len = rng.below(64).min(b.len() - at);
                let piece = b[at..at + len].to_vec();
                let to = rng.below(b.len());
                b.splice(to..to, piece);
            }
            _ => {
                let len = rng.below(64).min(b.len() - at);
                b.drain(at..at + len);
            }
        }
    }
    b
}

fn hash(bytes: &[u8]) -> u64 {
    // FNV-1a
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|it| it.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Where workers write their current input: tmpfs when there is one.
fn work_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

struct Args {
    seconds: f64,
    inputs: u64,
    jobs: usize,
    seed: u64,
    corpus: PathBuf,
    crashes: PathBuf,
    worker: Option<usize>,
    make_corpus: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 60.0,
        inputs: u64::MAX,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        seed: 1,
        corpus: PathBuf::from("fuzz/corpus"),
        crashes: PathBuf::from("fuzz/crashes"),
        worker: None,
        make_corpus: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let bad = |k: &str| format!("{k}: not a number");
        match k.as_str() {
            "--seconds" => a.seconds = v()?.parse().map_err(|_| bad(&k))?,
            "--inputs" => a.inputs = v()?.parse().map_err(|_| bad(&k))?,
            "--jobs" => a.jobs = v()?.parse().map_err(|_| bad(&k))?,
            "--seed" => a.seed = v()?.parse().map_err(|_| bad(&k))?,
            "--corpus" => a.corpus = PathBuf::from(v()?),
            "--crashes" => a.crashes = PathBuf::from(v()?),
            "--worker" => a.worker = Some(v()?.parse().map_err(|_| bad(&k))?),
            "--make-corpus" => a.make_corpus = Some(PathBuf::from(v()?)),
            _ => return Err(format!("unknown option {k}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.make_corpus {
        return match make_corpus(dir) {
            Ok(n) => {
                eprintln!("{n} corpus files in {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match args.worker {
        Some(_) => worker(&args),
        None => supervise(&args),
    }
}

/// Paths of worker `k`: its current input and its count of inputs done.
fn worker_files(k: usize) -> (PathBuf, PathBuf) {
    let pid = std::process::id();
    let dir = work_dir();
    (
        dir.join(format!("s2s-fuzz-{pid}-{k}.nc")),
        dir.join(format!("s2s-fuzz-{pid}-{k}.count")),
    )
}

/// Runs mutants until the time or the number of inputs is used up; prints `panics N`.
fn worker(args: &Args) -> ExitCode {
    #[cfg(target_os = "linux")]
    // SAFETY: setrlimit with a valid struct on this process only.
    unsafe {
        let lim = libc::rlimit {
            rlim_cur: WORKER_ADDRESS_SPACE_BYTES,
            rlim_max: WORKER_ADDRESS_SPACE_BYTES,
        };
        libc::setrlimit(libc::RLIMIT_AS, &lim);
    }
    s2s_ensemble::memory::set_max_memory(WORKER_BUDGET_BYTES);
    // the message and place of a panic, kept beside its input
    static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut m) = LAST_PANIC.lock() {
            *m = info.to_string();
        }
    }));
    let seeds = corpus(&args.corpus);
    if seeds.is_empty() {
        eprintln!("error: no .nc files in {}", args.corpus.display());
        return ExitCode::FAILURE;
    }
    // the supervisor passes its own paths through the environment
    let input = PathBuf::from(std::env::var("S2S_FUZZ_INPUT").expect("set by the supervisor"));
    let count_file = PathBuf::from(std::env::var("S2S_FUZZ_COUNT").expect("set"));
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let t0 = Instant::now();
    let (mut n, mut panics) = (0u64, 0u64);
    let opts = s2s_ensemble::io::InspectOptions::default();
    while n < args.inputs && t0.elapsed().as_secs_f64() < args.seconds {
        let bytes = mutate(&seeds[rng.below(seeds.len())], &mut rng);
        if std::fs::write(&input, &bytes).is_err() {
            break;
        }
        let outcome = std::panic::catch_unwind(|| {
            let _ = s2s_ensemble::io::inspect_file(&input, &opts);
        });
        n += 1;
        if outcome.is_err() {
            panics += 1;
            let _ = std::fs::create_dir_all(&args.crashes);
            let name = format!("panic-{:016x}", hash(&bytes));
            let _ = std::fs::write(args.crashes.join(format!("{name}.nc")), &bytes);
            let message = LAST_PANIC.lock().map(|m| m.clone()).unwrap_or_default();
            let _ = std::fs::write(args.crashes.join(format!("{name}.txt")), message);
            // a panic may leave a lock poisoned or libnetcdf mid-call: a fresh worker goes on
            let _ = std::fs::write(&count_file, format!("{n} {panics}"));
            return ExitCode::from(PANICKED);
        }
        if n >= INPUTS_PER_WORKER {
            break;
        }
        if n % REPORT_EVERY == 0 {
            let _ = std::fs::write(&count_file, format!("{n} {panics}"));
        }
    }
    let _ = std::fs::write(&count_file, format!("{n} {panics}"));
    ExitCode::SUCCESS
}

fn read_count(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .map(|x| x.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// Keeps worker `k`'s current input as `kind-<hash>.nc`.
fn keep_input(args: &Args, input: &Path, kind: &str) {
    if let Ok(bytes) = std::fs::read(input) {
        let _ = std::fs::create_dir_all(&args.crashes);
        let _ = std::fs::write(
            args.crashes
                .join(format!("{kind}-{:016x}.nc", hash(&bytes))),
            &bytes,
        );
    }
}

fn supervise(args: &Args) -> ExitCode {
    let exe = std::env::current_exe().expect("own path");
    let t0 = Instant::now();
    let per_job = args.inputs / args.jobs.max(1) as u64;
    let (mut done, mut panics, mut aborts, mut hangs) = (0u64, 0u64, 0u64, 0u64);
    let mut launches = 0u64;
    let spawn = |k: usize, launch: u64, left: u64, seconds: f64| {
        let (input, count) = worker_files(k);
        let _ = std::fs::remove_file(&count);
        Command::new(&exe)
            .args([
                "--worker",
                &k.to_string(),
                "--seed",
                &(args.seed + 1000 * launch + k as u64).to_string(),
                "--inputs",
                &left.to_string(),
                "--seconds",
                &seconds.to_string(),
                "--corpus",
                &args.corpus.to_string_lossy(),
                "--crashes",
                &args.crashes.to_string_lossy(),
            ])
            .env("S2S_FUZZ_INPUT", &input)
            .env("S2S_FUZZ_COUNT", &count)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    // (child, inputs done by this job's finished workers, last count, last progress)
    let mut jobs = Vec::new();
    for k in 0..args.jobs.max(1) {
        match spawn(k, launches, per_job, args.seconds) {
            Ok(c) => jobs.push((Some(c), 0u64, 0u64, Instant::now())),
            Err(e) => {
                eprintln!("error: cannot start a worker: {e}");
                return ExitCode::FAILURE;
            }
        }
        launches += 1;
    }
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let mut running = 0;
        for (k, job) in jobs.iter_mut().enumerate() {
            let (input, count_file) = worker_files(k);
            let Some(child) = job.0.as_mut() else {
                continue;
            };
            let (n, p) = read_count(&count_file);
            if n != job.2 {
                job.2 = n;
                job.3 = Instant::now();
            }
            let status = child.try_wait().ok().flatten();
            let hung = status.is_none() && job.3.elapsed() > HANG_AFTER;
            if hung {
                let _ = child.kill();
                let _ = child.wait();
                hangs += 1;
                keep_input(args, &input, "hang");
            }
            if status.is_some() || hung {
                let ok = status.is_some_and(|s| s.success());
                let panicked = status.is_some_and(|s| s.code() == Some(i32::from(PANICKED)));
                if !ok && !hung && !panicked {
                    aborts += 1;
                    keep_input(args, &input, "abort");
                }
                // the input that ended a worker counts too (a panic's is already counted)
                let finished = n + u64::from(!ok && !panicked);
                job.1 += finished;
                panics += p;
                done += finished;
                job.0 = None;
                let left_time = args.seconds - t0.elapsed().as_secs_f64();
                let left_inputs = per_job.saturating_sub(job.1);
                if left_time > 1.0 && left_inputs > 0 {
                    match spawn(k, launches, left_inputs, left_time) {
                        Ok(c) => {
                            job.0 = Some(c);
                            job.2 = 0;
                            job.3 = Instant::now();
                        }
                        Err(e) => eprintln!("error: cannot restart a worker: {e}"),
                    }
                    launches += 1;
                }
            }
            if job.0.is_some() {
                running += 1;
            }
        }
        if running == 0 {
            break;
        }
    }
    for k in 0..jobs.len() {
        let (input, count) = worker_files(k);
        let _ = std::fs::remove_file(input);
        let _ = std::fs::remove_file(count);
    }
    let secs = t0.elapsed().as_secs_f64();
    let max_rss_mib = max_child_rss_mib();
    println!(
        "fuzz_decode: {done} inputs in {secs:.0} s ({:.0}/s, {} jobs), {panics} panics, {aborts} aborts, {hangs} hangs; largest worker RSS {max_rss_mib:.0} MiB",
        done as f64 / secs.max(1e-9),
        jobs.len()
    );
    if panics + aborts + hangs > 0 {
        println!("inputs kept in {}", args.crashes.display());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Largest resident set of any finished child, MiB.
fn max_child_rss_mib() -> f64 {
    #[cfg(target_os = "linux")]
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) == 0 {
            return u.ru_maxrss as f64 / 1024.0;
        }
    }
    f64::NAN
}

/// A seed file's coordinate: name, values, text attributes.
type SeedCoord<'a> = (&'a str, Vec<f64>, &'a [(&'a str, &'a str)]);

/// Writes the seed files: a forecast `(init, member, lead, lat, lon)` in each NetCDF format,
/// an observed series with packed values, and one with bounds and text attributes.
fn make_corpus(dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let e = |e: netcdf::Error| e.to_string();
    let mut n = 0;
    // a forecast
    let path = dir.join("forecast_netcdf4.nc");
    let mut f = netcdf::create(&path).map_err(e)?;
    let dims = [("S", 2usize), ("M", 2), ("L", 2), ("Y", 3), ("X", 4)];
    for (d, len) in dims {
        f.add_dimension(d, len).map_err(e)?;
    }
    let coords: [SeedCoord; 5] = [
        (
            "S",
            vec![0.0, 12.0],
            &[
                ("units", "months since 1990-01-01"),
                ("calendar", "360_day"),
            ],
        ),
        ("M", vec![1.0, 2.0], &[("standard_name", "realization")]),
        ("L", vec![0.5, 1.5], &[("units", "months")]),
        ("Y", vec![10.0, 12.0, 14.0], &[("units", "degrees_north")]),
        (
            "X",
            vec![70.0, 72.0, 74.0, 76.0],
            &[("units", "degrees_east")],
        ),
    ];
    for (d, vals, attrs) in coords {
        let mut v = f.add_variable::<f64>(d, &[d]).map_err(e)?;
        for (k, t) in attrs {
            v.put_attribute(k, *t).map_err(e)?;
        }
        v.put_values(&vals, ..).map_err(e)?;
    }
    let mut v = f
        .add_variable::<f32>("prec", &["S", "M", "L", "Y", "X"])
        .map_err(e)?;
    v.put_attribute("units", "mm/day").map_err(e)?;
    v.put_attribute("_FillValue", 1e20f32).map_err(e)?;
    let vals: Vec<f32> = (0..96).map(|i| 1.0 + (i % 13) as f32).collect();
    v.put_values(&vals, ..).map_err(e)?;
    n += 1;
    drop(f);
    // observations, packed, with time bounds
    let path = dir.join("obs_packed_netcdf4.nc");
    let mut f = netcdf::create(&path).map_err(e)?;
    f.add_dimension("time", 3).map_err(e)?;
    f.add_dimension("nv", 2).map_err(e)?;
    f.add_dimension("lat", 2).map_err(e)?;
    f.add_dimension("lon", 3).map_err(e)?;
    let mut t = f.add_variable::<f64>("time", &["time"]).map_err(e)?;
    t.put_attribute("units", "days since 2000-01-01")
        .map_err(e)?;
    t.put_attribute("bounds", "time_bnds").map_err(e)?;
    t.put_values(&[15.0, 45.0, 74.0], ..).map_err(e)?;
    let mut b = f
        .add_variable::<f64>("time_bnds", &["time", "nv"])
        .map_err(e)?;
    b.put_values(&[0.0, 31.0, 31.0, 60.0, 60.0, 91.0], ..)
        .map_err(e)?;
    let mut la = f.add_variable::<f32>("lat", &["lat"]).map_err(e)?;
    la.put_attribute("units", "degrees_north").map_err(e)?;
    la.put_values(&[20.0f32, 21.0], ..).map_err(e)?;
    let mut lo = f.add_variable::<f32>("lon", &["lon"]).map_err(e)?;
    lo.put_attribute("units", "degrees_east").map_err(e)?;
    lo.put_values(&[80.0f32, 81.0, 82.0], ..).map_err(e)?;
    let mut v = f
        .add_variable::<i16>("t2m", &["time", "lat", "lon"])
        .map_err(e)?;
    v.put_attribute("units", "K").map_err(e)?;
    v.put_attribute("scale_factor", 0.01f64).map_err(e)?;
    v.put_attribute("add_offset", 280.0f64).map_err(e)?;
    v.put_attribute("_FillValue", -32767i16).map_err(e)?;
    v.put_attribute("valid_range", vec![-30000i16, 30000])
        .map_err(e)?;
    v.put_attribute("standard_name", "air_temperature")
        .map_err(e)?;
    let vals: Vec<i16> = (0..18).map(|i| 100 * i as i16 - 900).collect();
    v.put_values(&vals, ..).map_err(e)?;
    f.add_attribute("Conventions", "CF-1.8").map_err(e)?;
    n += 1;
    drop(f); // closed before nccopy reads it
             // the classic formats by nccopy (netcdf-bin) from the NetCDF-4 seeds
    for stem in ["forecast", "obs_packed"] {
        for (kind, name) in [
            ("classic", "classic"),
            ("64-bit offset", "offset64"),
            ("cdf5", "cdf5"),
        ] {
            let status = Command::new("nccopy")
                .args(["-k", kind])
                .arg(dir.join(format!("{stem}_netcdf4.nc")))
                .arg(dir.join(format!("{stem}_{name}.nc")))
                .status()
                .map_err(|e| format!("nccopy (netcdf-bin): {e}"))?;
            if !status.success() {
                return Err(format!("nccopy -k {kind} failed"));
            }
            n += 1;
        }
    }
    Ok(n)
}
