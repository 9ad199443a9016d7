//! Every `Examples:` line of every `s2s … --help` runs, exactly as printed, and succeeds.
//!
//! The examples are read from the binary's help (not from the source), so what a user copies is
//! what is tested: each must be one line at any terminal width (`COLUMNS=40`), and each runs
//! through `sh -c` — quotes, globs and redirections as a shell does them — in a fresh
//! directory holding small files under the names the example uses: bundled real files (NMME,
//! ERA5, IBTrACS, AHCCD, CanESM2/5, NSIDC), the synthetic sets of `s2s synth`, and files made
//! from them (renamed variables, split fields, bias-corrected and combined products). The
//! files behind each name are listed per subcommand in [`files_of`]; an example that names a
//! file not listed there fails with the command's own error message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{copy_nc, real, s2s, stderr};

/// The binary's help for `path` (`["cyclones", "track"]`) at a narrow terminal.
fn help_of(path: &[String]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_s2s"))
        .args(path)
        .arg("--help")
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    assert!(o.status.success(), "s2s {path:?} --help: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Names listed under `Commands:` of a help text (without `help`).
fn subcommands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// Every example of every subcommand: (subcommand path, command line).
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo: Vec<Vec<String>> = subcommands_in(&help_of(&[]))
        .into_iter()
        .map(|s| vec![s])
        .collect();
    while let Some(path) = todo.pop() {
        let help = help_of(&path);
        for sub in subcommands_in(&help) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        let mut lines = help
            .lines()
            .skip_while(|l| !(l.starts_with("Examples:") || l.starts_with("Example:")));
        if lines.next().is_none() {
            continue;
        }
        for line in lines.filter(|l| !l.trim().is_empty()) {
            assert!(
                line.starts_with("  s2s "),
                "`s2s {} --help` at 40 columns: `{line}` is not a whole example command \
                 (wrapped, or text after the examples)",
                path.join(" ")
            );
            out.push((path.join(" "), line.trim().to_string()));
        }
    }
    out.sort();
    out
}

fn run_ok(args: &[&str]) {
    let o = s2s(args);
    assert!(o.status.success(), "s2s {args:?}: {}", stderr(&o));
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The shared files behind the examples' names, made once in `store`.
fn make_store(store: &Path) {
    let synth = |what: &[&str], dir: &str| {
        let mut args = vec!["synth", "-q"];
        args.extend_from_slice(what);
        let out = store.join(dir);
        args.extend_from_slice(&["--out", p(&out)]);
        run_ok(&args);
    };
    synth(&["--preset", "small"], "small");
    synth(&["--storms", "--days", "20"], "storms");
    synth(&["--storms", "--days", "20", "--seed", "2"], "storms2");
    synth(&["--storms", "--days", "20", "--step-hours", "24"], "daily");
    for year in ["1993", "1994", "1995", "2020"] {
        let start = format!("{year}-09-01");
        synth(
            &[
                "--storms",
                "--step-hours",
                "24",
                "--days",
                "122",
                "--start",
                &start,
            ],
            &format!("tc{year}"),
        );
    }
    synth(&["--gpi"], "gpi");
    synth(&["--daily-extremes"], "dx");
    synth(&["--currents", "uniform"], "uniform");
    synth(&["--currents", "monsoon"], "monsoon");

    // ERA5-named storms: msl, u10, v10
    copy_nc(
        &store.join("storms/storms.nc"),
        &store.join("era5_6h.nc"),
        &[("psl", "msl"), ("uas", "u10"), ("vas", "v10")],
        |_| true,
    );
    // a daily wind-speed file: sfcWind instead of the components
    let daily = store.join("daily_wind.nc");
    copy_nc(&store.join("daily/storms.nc"), &daily, &[], |v| {
        v != "uas" && v != "vas"
    });
    {
        let src = crate::common::nc_open(store.join("daily/storms.nc")).unwrap();
        let (u, v) = (
            src.variable("uas")
                .unwrap()
                .get_values::<f32, _>(..)
                .unwrap(),
            src.variable("vas")
                .unwrap()
                .get_values::<f32, _>(..)
                .unwrap(),
        );
        let speed: Vec<f32> = u.iter().zip(&v).map(|(u, v)| u.hypot(*v)).collect();
        let mut f = crate::common::nc_append(&daily).unwrap();
        let mut w = f
            .add_variable::<f32>("sfcWind", &["time", "member", "lat", "lon"])
            .unwrap();
        w.put_attribute("units", "m s-1").unwrap();
        w.put_attribute("standard_name", "wind_speed").unwrap();
        w.put_values(&speed, ..).unwrap();
    }
    // CMIP-style one field per file, ERA5-style levels and surface apart
    let gpi = store.join("gpi/gpi_forecast.nc");
    for var in ["tos", "psl", "ta", "hus", "ua", "va"] {
        let table = if var == "tos" { "Omon" } else { "Amon" };
        copy_nc(&gpi, &store.join(format!("{var}_{table}.nc")), &[], |v| {
            v == var || !["tos", "psl", "ta", "hus", "ua", "va"].contains(&v)
        });
    }
    copy_nc(&gpi, &store.join("era5_monthly_plev.nc"), &[], |v| {
        !["tos", "psl"].contains(&v)
    });
    copy_nc(&gpi, &store.join("era5_monthly_sfc.nc"), &[], |v| {
        !["ta", "hus", "ua", "va", "plev"].contains(&v)
    });
    // daily minimum temperatures (the AHCCD maxima under another name)
    copy_nc(
        &real("bias_correction/ahccd_1950-2013.nc"),
        &store.join("tasmin.nc"),
        &[("tasmax", "tasmin")],
        |v| v != "pr",
    );
    // the cell areas of CanESM5's ocean grid alone (CMIP6 `Ofx` table)
    let sic = real("seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc");
    copy_nc(&sic, &store.join("areacello.nc"), &[], |v| {
        !["siconc", "time", "time_bnds", "type"].contains(&v)
    });
    // sea-ice extent tables: a model 0.5 too high, and NSIDC's daily file of the September values
    let obs = crate::seaice::observed_september();
    let hind: Vec<(i32, f64)> = obs.iter().copied().filter(|y| y.0 < 2021).collect();
    let fc: Vec<(i32, f64)> = vec![(2021, obs.last().unwrap().1)];
    for (m, bias) in [("A", 0.5), ("B", -0.3)] {
        crate::seaice::planted_table(&store.join(format!("{m}_hindcast.csv")), &hind, |_| bias);
        crate::seaice::planted_table(&store.join(format!("{m}_2021.csv")), &fc, |_| bias);
    }
    let mut daily_csv = String::from(
        "Year, Month, Day,     Extent,    Missing, Source Data\nYYYY,    MM,  DD, 10^6 sq km, 10^6 sq km, Source data product web sites\n",
    );
    for &(y, e) in &obs {
        for day in 1..=30 {
            daily_csv.push_str(&format!("{y:4}, 09, {day:02}, {e:10.3}, 0.000, ['x']\n"));
        }
    }
    std::fs::write(store.join("N_seaice_extent_daily_v3.0.csv"), daily_csv).unwrap();
    // El Niño and IOD in two models' SST
    crate::drivers::planted_el_nino_files(
        store,
        [
            "sst_hc_A.nc",
            "sst_hc_B.nc",
            "sst_fc_A.nc",
            "sst_fc_B.nc",
            "oisst_monthly.nc",
        ],
    );
    // IBTrACS' CSV: North Indian Ocean storms of the hindcast years
    let mut ibtracs = String::from(
        "SID,SEASON,NUMBER,BASIN,SUBBASIN,NAME,ISO_TIME,NATURE,LAT,LON,WMO_WIND,WMO_PRES,WMO_AGENCY,TRACK_TYPE,NEWDELHI_WIND,NEWDELHI_PRES\n ,Year, , , , , , ,degrees_north,degrees_east,kts,mb, , ,kts,mb\n",
    );
    for (k, year) in (1993..=2016).step_by(3).enumerate() {
        for h in 0..4 {
            ibtracs.push_str(&format!(
                "{year}300N15088,{year},{k},NI,BB,S{k},{year}-10-26 {:02}:00:00,TS,{:.1},88.0,40,990,newdelhi,main,40,990\n",
                6 * h,
                15.0 + 0.5 * f64::from(h)
            ));
        }
    }
    std::fs::write(store.join("ibtracs_nio.csv"), ibtracs).unwrap();
    // tracks of the ERA5 month, to validate against IBTrACS
    run_ok(&[
        "cyclones",
        "track",
        "-q",
        "--vorticity",
        "vo",
        &format!(
            "{};{}",
            p(&real("cyclones/era5_msl_2026-01_2.5x2.5.nc")),
            p(&real("cyclones/era5_vo850_2026-01_2.5x2.5.nc"))
        ),
        "--out",
        p(&store.join("era5_tracks.csv")),
    ]);
    let bilinear = |spacing: &str, from: &Path, to: &Path| {
        run_ok(&[
            "regrid",
            "-q",
            "--method",
            "bilinear",
            "--grid",
            spacing,
            p(from),
            p(to),
        ])
    };
    // a 1° model field (ERA5 pressure interpolated)
    bilinear(
        "1",
        &real("cyclones/era5_msl_2026-01_2.5x2.5.nc"),
        &store.join("model_1deg.nc"),
    );
    // bias-corrected members, their combination, the combination at 0.25°
    let small = store.join("small");
    let bc = store.join("bc");
    for (model, short) in [("ALPHA", "A"), ("BRAVO", "B")] {
        for kind in ["hindcast", "forecast"] {
            std::fs::copy(
                small.join(format!("{kind}_{model}.nc")),
                store.join(format!("{kind}_{short}.nc")),
            )
            .unwrap();
        }
        run_ok(&[
            "bias-correct",
            "-q",
            "--method",
            "eqm",
            "--var",
            "pr",
            "--hindcast",
            p(&store.join(format!("hindcast_{short}.nc"))),
            "--obs",
            p(&small.join("obs.nc")),
            "--forecast",
            p(&store.join(format!("forecast_{short}.nc"))),
            "--out",
            p(&bc),
        ]);
    }
    let mme = store.join("mme");
    run_ok(&[
        "combine",
        "-q",
        "--hindcast",
        &crate::common::synth_files(&small, "hindcast"),
        "--forecast",
        &crate::common::synth_files(&small, "forecast"),
        "--obs",
        p(&small.join("obs.nc")),
        "--var",
        "pr",
        "--out",
        p(&mme),
    ]);
    bilinear(
        "0.25",
        &mme.join("mme_forecast.pr.nc"),
        &store.join("mme_forecast_0p25.nc"),
    );
    std::fs::write(
        store.join("emergency.toml"),
        "[emergency]\nlat = 7.0\nlon = 82.5\nstart = \"2020-09-03\"\ndays = 3\ncurrents = \"currents.nc\"\nparticles = 100\noutput = \"em\"\n",
    )
    .unwrap();
}

/// The files an example of `sub` may name: (name in the example's directory, file it is: a
/// path in the store, or `real:` a bundled real file, or `repo:` a path in the repository).
fn files_of(sub: &str) -> &'static [(&'static str, &'static str)] {
    match sub {
        "cyclones detect" => &[
            ("storms.nc", "storms/storms.nc"),
            ("era5_6h.nc", "era5_6h.nc"),
            ("era5_msl.nc", "real:cyclones/era5_msl_2026-01_2.5x2.5.nc"),
            (
                "era5_vo850.nc",
                "real:cyclones/era5_vo850_2026-01_2.5x2.5.nc",
            ),
        ],
        "cyclones track" => &[
            ("storms.nc", "storms/storms.nc"),
            ("member_01.nc", "storms/storms.nc"),
            ("member_02.nc", "storms2/storms.nc"),
            ("daily.nc", "daily_wind.nc"),
        ],
        "cyclones outlook" => &[
            ("fc_2020.nc", "tc2020/storms.nc"),
            ("fc.nc", "tc2020/storms.nc"),
            ("hc_1993.nc", "tc1993/storms.nc"),
            ("hc_1994.nc", "tc1994/storms.nc"),
            ("hc_1995.nc", "tc1995/storms.nc"),
            ("hc/hc_1993.nc", "tc1993/storms.nc"),
            ("hc/hc_1994.nc", "tc1994/storms.nc"),
            ("hc/hc_1995.nc", "tc1995/storms.nc"),
            ("ibtracs_nio.csv", "ibtracs_nio.csv"),
        ],
        "cyclones validate" => &[
            ("tracks.csv", "era5_tracks.csv"),
            (
                "IBTrACS.WP.v04r01.nc",
                "real:cyclones/IBTrACS.last3years.v04r01.nc",
            ),
            ("ibtracs.NI.list.v04r01.csv", "ibtracs_nio.csv"),
        ],
        "cyclones gpi" => &[
            ("tos_Omon.nc", "tos_Omon.nc"),
            ("psl_Amon.nc", "psl_Amon.nc"),
            ("ta_Amon.nc", "ta_Amon.nc"),
            ("hus_Amon.nc", "hus_Amon.nc"),
            ("ua_Amon.nc", "ua_Amon.nc"),
            ("va_Amon.nc", "va_Amon.nc"),
            ("era5_monthly_plev.nc", "era5_monthly_plev.nc"),
            ("era5_monthly_sfc.nc", "era5_monthly_sfc.nc"),
        ],
        "extremes spells" => &[
            (
                "ahccd_1950-2013.nc",
                "real:bias_correction/ahccd_1950-2013.nc",
            ),
            ("tasmin.nc", "tasmin.nc"),
            (
                "Observations_Germany.nc",
                "real:verification/Observations_Germany.nc",
            ),
        ],
        "extremes outlook" => &[
            ("hc/tas_2001-2020.nc", "dx/tasmax_hindcast.nc"),
            ("fc/tas_20210601.nc", "dx/tasmax_forecast.nc"),
            ("hc.nc", "dx/pr_hindcast.nc"),
            ("fc.nc", "dx/pr_forecast.nc"),
            ("obs_daily.nc", "dx/pr_obs.nc"),
        ],
        "seaice extent" => &[
            (
                "siconc_SImon_CanESM5_2020.nc",
                "real:seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc",
            ),
            ("areacello_Ofx_CanESM5.nc", "areacello.nc"),
            (
                "hindcast_2020.nc",
                "real:seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc",
            ),
        ],
        "seaice outlook" => &[
            ("A_hindcast.csv", "A_hindcast.csv"),
            ("B_hindcast.csv", "B_hindcast.csv"),
            ("A_2021.csv", "A_2021.csv"),
            ("B_2021.csv", "B_2021.csv"),
            ("N_09_extent_v3.0.csv", "real:seaice/N_09_extent_v3.0.csv"),
            (
                "N_seaice_extent_daily_v3.0.csv",
                "N_seaice_extent_daily_v3.0.csv",
            ),
            (
                "siconc_SImon_CanESM5_2020.nc",
                "real:seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc",
            ),
        ],
        "inspect" => &[
            ("hindcast_ECMWF.nc", "small/hindcast_ALPHA.nc"),
            ("NMME/CCSM4_HCST.nc", "real:nmme_india/CCSM4_HCST.nc"),
            (
                "NMME/CANSIPSV2_HCST.nc",
                "real:nmme_india/CANSIPSV2_HCST.nc",
            ),
            ("observations.nc", "real:nmme_india/observations.nc"),
            ("obs.nc", "small/obs.nc"),
        ],
        "regrid" => &[
            ("model_1deg.nc", "model_1deg.nc"),
            ("observations.nc", "real:nmme_india/observations.nc"),
            ("hindcast.nc", "real:nmme_india/CCSM4_HCST.nc"),
        ],
        "bias-correct" => &[
            ("hindcast_ALPHA.nc", "small/hindcast_ALPHA.nc"),
            ("forecast_ALPHA.nc", "small/forecast_ALPHA.nc"),
            ("hindcast_BRAVO.nc", "small/hindcast_BRAVO.nc"),
            ("forecast_BRAVO.nc", "small/forecast_BRAVO.nc"),
            ("obs.nc", "small/obs.nc"),
            ("CanESM2.nc", "real:bias_correction/CanESM2_1950-2100.nc"),
            ("ahccd.nc", "real:bias_correction/ahccd_1950-2013.nc"),
        ],
        "combine" | "verify" => &[
            ("bc/hindcast_A.pr.eqm.nc", "bc/hindcast_A.pr.eqm.nc"),
            ("bc/hindcast_B.pr.eqm.nc", "bc/hindcast_B.pr.eqm.nc"),
            ("bc/forecast_A.pr.eqm.nc", "bc/forecast_A.pr.eqm.nc"),
            ("bc/forecast_B.pr.eqm.nc", "bc/forecast_B.pr.eqm.nc"),
            ("CCSM4_HCST.nc", "real:nmme_india/CCSM4_HCST.nc"),
            ("CANSIPSV2_HCST.nc", "real:nmme_india/CANSIPSV2_HCST.nc"),
            ("CCSM4_FCST.nc", "real:nmme_india/CCSM4_FCST.nc"),
            ("CANSIPSV2_FCST.nc", "real:nmme_india/CANSIPSV2_FCST.nc"),
            ("observations.nc", "real:nmme_india/observations.nc"),
            ("A.nc", "small/hindcast_ALPHA.nc"),
            ("B.nc", "small/hindcast_BRAVO.nc"),
            ("C.nc", "small/hindcast_CHARLIE.nc"),
            ("FA.nc", "small/forecast_ALPHA.nc"),
            ("FB.nc", "small/forecast_BRAVO.nc"),
            ("FC.nc", "small/forecast_CHARLIE.nc"),
            ("obs.nc", "small/obs.nc"),
        ],
        "outlook" => &[("data", "repo:data")],
        "spi" => &[
            ("chirps_monthly.nc", "small/obs.nc"),
            ("obs_pr.nc", "real:bias_correction/CanESM2_1950-2100.nc"),
            (
                "CanESM2_daily.nc",
                "real:bias_correction/CanESM2_1950-2100.nc",
            ),
        ],
        "drivers" => &[
            ("sst_hc_A.nc", "sst_hc_A.nc"),
            ("sst_hc_B.nc", "sst_hc_B.nc"),
            ("sst_fc_A.nc", "sst_fc_A.nc"),
            ("sst_fc_B.nc", "sst_fc_B.nc"),
            ("oisst_monthly.nc", "oisst_monthly.nc"),
        ],
        "emergency" => &[
            ("currents.nc", "uniform/currents.nc"),
            ("cmems.nc", "monsoon/currents.nc"),
            ("era5_daily.nc", "monsoon/currents.nc"),
            ("storms.nc", "storms/storms.nc"),
            ("outlook.toml", "emergency.toml"),
        ],
        "export" => &[
            (
                "out/bulletin/mme_forecast.prec.nc",
                "mme/mme_forecast.pr.nc",
            ),
            ("mme_forecast_0p25.nc", "mme_forecast_0p25.nc"),
        ],
        "completions" => &[
            (".local/share/bash-completion/completions/", ""),
            (".zfunc/", ""),
        ],
        _ => &[],
    }
}

/// Makes `dir` the working directory of one example: its files linked in, folders made.
fn furnish(dir: &Path, store: &Path, sub: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, source) in files_of(sub) {
        let at = dir.join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&at).unwrap();
            continue;
        }
        let from: PathBuf = if let Some(r) = source.strip_prefix("real:") {
            real(r)
        } else if let Some(r) = source.strip_prefix("repo:") {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(r)
        } else {
            store.join(source)
        };
        assert!(from.exists(), "fixture {source} of `{sub}` is missing");
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&from, &at).unwrap();
    }
}

#[test]
fn every_help_example_runs_as_printed() {
    let examples = examples();
    assert!(examples.len() > 40, "{} examples", examples.len());
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    make_store(&store);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_s2s")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let has_man = Command::new("sh")
        .args(["-c", "command -v man"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut failed = BTreeMap::new();
    for (k, (sub, line)) in examples.iter().enumerate() {
        let dir = tmp.path().join(format!("example{k:02}"));
        furnish(&dir, &store, sub);
        // the pager step of `s2s man > s2s.1 && man ./s2s.1` needs man-db
        let line = match line.split_once(" && man ") {
            Some((first, _)) if !has_man => first,
            _ => line,
        };
        let o = Command::new("sh")
            .args(["-c", line])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("HOME", &dir)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        if !o.status.success() {
            failed.insert(line.to_string(), stderr(&o));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} help examples fail:\n{}",
        failed.len(),
        examples.len(),
        failed
            .iter()
            .map(|(line, err)| format!("{line}\n    {}", err.trim().replace('\n', "\n    ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
