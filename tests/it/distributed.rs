//! The combination spread over ranks ([`s2s_ensemble::distributed`]) gives the bytes of one
//! process. The ranks here are threads of this test exchanging bytes through shared memory —
//! the same calls, in the same order, as MPI ranks make (the real `mpirun -n 1|2|3` comparison
//! runs in `scripts/test.sh --mpi`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};

use s2s_ensemble::bias::CrossValidation;
use s2s_ensemble::distributed::Ranks;
use s2s_ensemble::ensemble::{CombineSpec, SkillScore, WeightScheme};
use s2s_ensemble::indices::SpiSpec;
use s2s_ensemble::pipeline::bias::{bias_correct, bias_correct_on, BiasPlan, Method};
use s2s_ensemble::pipeline::combine::{combine, combine_on, CombinePlan};
use s2s_ensemble::pipeline::cyclones::{
    detect_nodes, detect_nodes_on, track_inputs, track_inputs_on, TrackSettings,
};
use s2s_ensemble::pipeline::drought::{observed_spi, observed_spi_on, SpiPlan};
use s2s_ensemble::pipeline::verify::{
    selected_scores, verify, verify_on, Probabilities, VerifyPlan,
};
use s2s_ensemble::pipeline::RunOptions;
use s2s_ensemble::progress::NoProgress;

use crate::common::synth_small as synth;

/// What the thread ranks share: one slot per rank and a barrier.
struct Hub {
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
}

/// One rank of a run whose ranks are threads.
struct ThreadRank {
    rank: usize,
    size: usize,
    hub: Arc<Hub>,
}

impl ThreadRank {
    fn exchange(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        // the previous exchange has been read by every rank before a slot is overwritten
        self.hub.barrier.wait();
        self.hub.slots.lock().unwrap()[self.rank] = mine.to_vec();
        self.hub.barrier.wait();
        let all = self.hub.slots.lock().unwrap().clone();
        self.hub.barrier.wait();
        all
    }
}

impl Ranks for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        self.exchange(mine)
    }
    fn gather_bytes_to_root(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        let all = self.exchange(mine);
        if self.rank == 0 {
            all
        } else {
            Vec::new()
        }
    }
}

fn plan(wl: &Path, out: PathBuf, scheme: WeightScheme, obs: bool) -> CombinePlan {
    let files = |kind: &str| -> Vec<PathBuf> {
        ["ALPHA", "BRAVO", "CHARLIE"]
            .iter()
            .map(|m| wl.join(format!("{kind}_{m}.nc")))
            .collect()
    };
    CombinePlan {
        hindcast: files("hindcast"),
        forecast: files("forecast"),
        obs: obs.then(|| wl.join("obs.nc")),
        variable: Some("pr".into()),
        obs_variable: None,
        obs_season: None,
        obs_units: None,
        models: Vec::new(),
        spec: CombineSpec {
            scheme,
            ..CombineSpec::default()
        },
        years: None,
        all_hindcast_fields: true,
        out,
        options: RunOptions {
            history: Some("s2s combine (test)".into()),
            ..RunOptions::default()
        },
    }
}

/// Runs `job` on `n` thread ranks; every rank's outcome, its error as the message.
fn on_ranks<T>(
    n: usize,
    job: impl Fn(&dyn Ranks) -> s2s_ensemble::error::Result<T> + Sync,
) -> Vec<Result<(), String>> {
    let hub = Arc::new(Hub {
        slots: Mutex::new(vec![Vec::new(); n]),
        barrier: Barrier::new(n),
    });
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|rank| {
                let (hub, job) = (hub.clone(), &job);
                s.spawn(move || {
                    job(&ThreadRank { rank, size: n, hub })
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn bands_on_three_ranks_write_the_bytes_of_one_process() {
    // the history line's time is the only thing two runs could differ by
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let schemes = [
        ("calibrated", WeightScheme::Calibrated, true),
        // a halo of two rows on each side of a band
        (
            "skill",
            WeightScheme::Skill {
                score: SkillScore::Rpss,
                radius_cells: 2,
            },
            true,
        ),
        // the whole field on rank 0
        ("pcr", WeightScheme::Pcr, true),
        ("model", WeightScheme::ModelEqual, false),
    ];
    for (name, scheme, obs) in schemes {
        let one = plan(&wl, dir.path().join(format!("{name}-1")), scheme, obs);
        combine(&one, &NoProgress).unwrap_or_else(|e| panic!("{name}: {e}"));
        for n in [2, 3] {
            let spread = plan(&wl, dir.path().join(format!("{name}-{n}")), scheme, obs);
            let outcomes = on_ranks(n, |r| combine_on(&spread, &NoProgress, r));
            for (rank, r) in outcomes.into_iter().enumerate() {
                r.unwrap_or_else(|e| panic!("{name}, rank {rank} of {n}: {e}"));
            }
            for file in ["mme_hindcast.pr.nc", "mme_forecast.pr.nc"] {
                assert!(
                    bytes(&one.out.join(file)) == bytes(&spread.out.join(file)),
                    "{name}: {file} on {n} ranks differs from one process's"
                );
            }
        }
    }
}

#[test]
fn a_failure_on_one_rank_stops_every_rank() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let mut p = plan(&wl, dir.path().join("out"), WeightScheme::Calibrated, true);
    // observations that are not a NetCDF file: every rank fails at the same step
    let bad = dir.path().join("obs.nc");
    std::fs::write(&bad, b"not a netcdf file").unwrap();
    p.obs = Some(bad);
    let outcomes = on_ranks(3, |r| combine_on(&p, &NoProgress, r));
    assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    assert!(!p.out.join("mme_forecast.pr.nc").exists());
}

#[test]
fn spi_of_bands_is_the_spi_of_one_process() {
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    // 13 years of monthly rain, a few cells missing
    let plan = |output: PathBuf| SpiPlan {
        input: wl.join("obs.nc"),
        variable: None,
        units: None,
        spec: SpiSpec {
            scale_months: 3,
            calibration: (1993, 2005),
            ..SpiSpec::default()
        },
        output,
        options: RunOptions {
            history: Some("s2s spi (test)".into()),
            ..RunOptions::default()
        },
    };
    let one = plan(dir.path().join("spi-1.nc"));
    observed_spi(&one).unwrap();
    for n in [2, 3] {
        let spread = plan(dir.path().join(format!("spi-{n}.nc")));
        for (rank, r) in on_ranks(n, |r| observed_spi_on(&spread, r))
            .into_iter()
            .enumerate()
        {
            r.unwrap_or_else(|e| panic!("rank {rank} of {n}: {e}"));
        }
        assert!(
            bytes(&one.output) == bytes(&spread.output),
            "SPI on {n} ranks differs from one process's"
        );
    }
}

#[test]
fn bias_correction_of_bands_is_that_of_one_process() {
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let plan = |method: Method, out: PathBuf| BiasPlan {
        method,
        variable: "pr".into(),
        hindcast: wl.join("hindcast_BRAVO.nc"),
        obs: wl.join("obs.nc"),
        forecast: Some(wl.join("forecast_BRAVO.nc")),
        cv: CrossValidation::LeaveOut(1),
        quantiles: None,
        wet_threshold: None,
        window_days: None,
        years: None,
        obs_season: None,
        obs_units: None,
        forecast_only: false,
        out,
        options: RunOptions {
            history: Some("s2s bias-correct (test)".into()),
            ..RunOptions::default()
        },
    };
    for method in [Method::Eqm, Method::Qdm, Method::Scaling] {
        let name = method.name();
        let one = plan(method, dir.path().join(format!("{name}-1")));
        let report = bias_correct(&one, &NoProgress).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.written.len(), 2);
        for n in [2, 3] {
            let spread = plan(method, dir.path().join(format!("{name}-{n}")));
            let outcomes = on_ranks(n, |r| bias_correct_on(&spread, &NoProgress, r));
            for (rank, r) in outcomes.into_iter().enumerate() {
                r.unwrap_or_else(|e| panic!("{name}, rank {rank} of {n}: {e}"));
            }
            for written in &report.written {
                let file = written.file_name().unwrap();
                assert!(
                    bytes(written) == bytes(&spread.out.join(file)),
                    "{name}: {file:?} on {n} ranks differs from one process's"
                );
            }
        }
    }
    // a refusal found on the bands is every rank's, and nothing is written
    let refused = plan(Method::Variance, dir.path().join("variance-3"));
    let outcomes = on_ranks(3, |r| bias_correct_on(&refused, &NoProgress, r));
    assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    assert!(outcomes[0].as_ref().unwrap_err().contains("temperature"));
    assert!(!refused.out.exists() || std::fs::read_dir(&refused.out).unwrap().next().is_none());
}

#[test]
fn cyclones_detected_over_ranks_are_those_of_one_process() {
    // a month of ERA5 at 2.5°: the steps split over the ranks, the runs joined on rank 0
    let data = crate::common::real("cyclones");
    let run = PathBuf::from(format!(
        "{};{}",
        data.join("era5_msl_2026-01_2.5x2.5.nc").display(),
        data.join("era5_vo850_2026-01_2.5x2.5.nc").display()
    ));
    let mut settings = TrackSettings::default();
    settings.fields.vorticity = Some("vo".into());
    settings.detect.min_lat_deg = Some(-40.0);
    settings.detect.max_lat_deg = Some(40.0);
    let inputs = [run];
    let (text, count) = detect_nodes(&settings, &inputs, &NoProgress).unwrap();
    let set = track_inputs(&settings, &inputs, &NoProgress).unwrap();
    let csv = s2s_ensemble::cyclone::tracks_csv(&set.tracks, set.columns);
    assert!(
        count > 100 && set.tracks.len() > 5,
        "{count} nodes, {} tracks",
        set.tracks.len()
    );
    // Each thread rank reads its own copy of the files: HDF5 shares one open file between
    // handles of a process, and a vlen fill value read through one handle after another
    // closed crashes HDF5 1.10 — MPI ranks are processes, each with its own handles.
    let dir = tempfile::tempdir().unwrap();
    let copies: Vec<[PathBuf; 1]> = (0..3)
        .map(|r| {
            let own = dir.path().join(format!("rank{r}"));
            std::fs::create_dir_all(&own).unwrap();
            let mut parts = Vec::new();
            for name in [
                "era5_msl_2026-01_2.5x2.5.nc",
                "era5_vo850_2026-01_2.5x2.5.nc",
            ] {
                std::fs::copy(data.join(name), own.join(name)).unwrap();
                parts.push(own.join(name).display().to_string());
            }
            [PathBuf::from(parts.join(";"))]
        })
        .collect();
    for n in [2, 3] {
        let got = Mutex::new(Vec::new());
        let outcomes = on_ranks(n, |r| {
            let inputs = &copies[r.rank()];
            let nodes = detect_nodes_on(&settings, inputs, &NoProgress, r)?;
            let tracks = track_inputs_on(&settings, inputs, &NoProgress, r)?;
            assert_eq!(nodes.is_some(), r.rank() == 0);
            if let (Some(nodes), Some(tracks)) = (nodes, tracks) {
                let csv = s2s_ensemble::cyclone::tracks_csv(&tracks.tracks, tracks.columns);
                got.lock().unwrap().push((nodes, csv));
            }
            Ok(())
        });
        for (rank, r) in outcomes.into_iter().enumerate() {
            r.unwrap_or_else(|e| panic!("rank {rank} of {n}: {e}"));
        }
        let got = got.into_inner().unwrap();
        assert_eq!(got.len(), 1);
        assert!(
            got[0].0 == (text.clone(), count),
            "nodes on {n} ranks differ"
        );
        assert!(got[0].1 == csv, "tracks on {n} ranks differ");
    }
}

#[test]
fn verification_of_bands_is_that_of_one_process() {
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let plan = |out: PathBuf| VerifyPlan {
        hindcast: ["ALPHA", "BRAVO"]
            .iter()
            .map(|m| wl.join(format!("hindcast_{m}.nc")))
            .collect(),
        obs: wl.join("obs.nc"),
        variable: Some("pr".into()),
        obs_variable: None,
        obs_season: None,
        obs_units: None,
        models: Vec::new(),
        probabilities: Probabilities::Members,
        forecast_probabilities: Vec::new(),
        probability_variable: None,
        scores: selected_scores(&["all".to_string()]).unwrap(),
        regions: vec!["south=60,100,0,20".into(), "north=60,100,20,40".into()],
        countries: None,
        acc_of_anomaly: true,
        fair_crps: true,
        rpss_debiased: false,
        bootstrap: 20,
        confidence: 0.9,
        seed: 7,
        reliability_bins: 10,
        years: None,
        out,
        options: RunOptions {
            history: Some("s2s verify (test)".into()),
            ..RunOptions::default()
        },
    };
    let one = plan(dir.path().join("one"));
    let report = verify(&one, &NoProgress).unwrap();
    let mut files = vec![report.skill_file.clone(), report.summary_file.clone()];
    files.extend(report.diagrams.iter().cloned());
    for n in [2, 3] {
        let spread = plan(dir.path().join(format!("spread-{n}")));
        let outcomes = on_ranks(n, |r| verify_on(&spread, &NoProgress, r));
        for (rank, r) in outcomes.into_iter().enumerate() {
            r.unwrap_or_else(|e| panic!("rank {rank} of {n}: {e}"));
        }
        for f in &files {
            let name = f.file_name().unwrap();
            assert!(
                bytes(f) == bytes(&spread.out.join(name)),
                "{name:?} on {n} ranks differs from one process's"
            );
        }
    }
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// The outlook's configuration over the small workload: pr, EQM, `weights`, single-month
/// leads (the drought outlook continues the observed record with the corrected members), two
/// regions.
fn outlook_config(wl: &Path, weights: &str, hindcast_bravo: &str) -> PathBuf {
    let models: String = ["ALPHA", "BRAVO", "CHARLIE"]
        .iter()
        .map(|m| {
            let hindcast = if *m == "BRAVO" {
                hindcast_bravo.to_string()
            } else {
                format!("hindcast_{m}.nc")
            };
            format!("[[models]]\nname = \"{m}\"\nhindcast = \"{hindcast}\"\nforecast = \"forecast_{m}.nc\"\n\n")
        })
        .collect();
    let cfg = wl.join(format!("outlook_{weights}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "title = \"test\"\nvariable = \"pr\"\nbias = \"eqm\"\nweights = \"{weights}\"\nregions = [\"south_asia\", \"all=60,100,0,40\"]\n\n{models}[observations]\npath = \"obs.nc\"\nvariable = \"pr\"\n"
        ),
    )
    .unwrap();
    cfg
}

/// The outlook spread over three ranks (each variable's bands; skill weights with a halo of
/// one row; EQM; the drought outlook from the observed record) writes every file of one
/// process's — NetCDF, maps, Markdown, HTML, JSON, PDF — byte for byte.
#[test]
fn outlook_of_bands_is_that_of_one_process() {
    use s2s_ensemble::pipeline::outlook::{outlook, outlook_on, OutlookPlan};
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let options = RunOptions {
        history: Some("s2s outlook (test)".into()),
        ..RunOptions::default()
    };
    for weights in ["skill", "calibrated"] {
        let cfg = outlook_config(&wl, weights, "hindcast_BRAVO.nc");
        let plan_into = |out: &str| {
            OutlookPlan::from_file(&cfg, Some(dir.path().join(out)), options.clone()).unwrap()
        };
        let one = plan_into(&format!("one_{weights}"));
        outlook(&one, &NoProgress).unwrap();
        let spread = plan_into(&format!("three_{weights}"));
        let outcomes = on_ranks(3, |r| outlook_on(&spread, &NoProgress, r));
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let files = files_under(&one.out);
        assert_eq!(files, files_under(&spread.out), "{weights}: the same files");
        assert!(files.len() > 20, "{weights}: {} files", files.len());
        for f in files.iter().filter(|f| !f.ends_with("provenance.json")) {
            assert!(
                bytes(&one.out.join(f)) == bytes(&spread.out.join(f)),
                "{weights}: {} on three ranks differs from one process's",
                f.display()
            );
        }
    }
}

/// A model whose hindcast has no value at all fails the whole-field check of the read: the
/// ranks read blocks of its start dates, merge their counts and stop together with the
/// message one process gives; the outlook leaves no output.
#[test]
fn an_outlook_failing_in_a_band_stops_every_rank() {
    use s2s_ensemble::pipeline::outlook::{outlook, outlook_on, OutlookPlan};
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("wl");
    synth(&wl);
    let empty = wl.join("empty_BRAVO.nc");
    std::fs::copy(wl.join("hindcast_BRAVO.nc"), &empty).unwrap();
    {
        let mut f = crate::common::nc_append(&empty).unwrap();
        let mut v = f.variable_mut("prec").unwrap();
        let n = v.len();
        v.put_values(&vec![f32::NAN; n], ..).unwrap();
    }
    let cfg = outlook_config(&wl, "calibrated", "empty_BRAVO.nc");
    let plan_into = |out: &Path| {
        OutlookPlan::from_file(&cfg, Some(out.to_path_buf()), RunOptions::default()).unwrap()
    };
    let one = plan_into(&dir.path().join("one"));
    let alone = outlook(&one, &NoProgress).unwrap_err().to_string();
    let spread = plan_into(&dir.path().join("three"));
    let outcomes = on_ranks(3, |r| outlook_on(&spread, &NoProgress, r));
    assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    let root = outcomes[0].as_ref().unwrap_err();
    assert!(root.contains("empty_BRAVO.nc"), "{root}");
    // the reason, as one process finds it (which also says how the file masks values)
    let reason = "empty_BRAVO.nc: variable 'prec': all 21600 values read are missing";
    assert!(root.contains(reason), "{root}");
    assert!(alone.contains(reason), "{alone}");
    for out in [&one.out, &spread.out] {
        assert!(!out.join("bulletin.md").exists());
        assert!(!out.join("mme_forecast.pr.nc").exists());
    }
}
