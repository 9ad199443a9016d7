//! `s2s cyclones gpi`: potential intensity and the genesis potential index from monthly
//! (or any) mean fields on pressure levels.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use ndarray::{s, Array3, Axis, Zip};
use rayon::prelude::*;
use s2s_ensemble::cube::{CubeKind, Spatial};
use s2s_ensemble::cyclone::genesis::{
    absolute_vorticity, genesis_potential_index, potential_intensity, relative_humidity_pct,
    PiSpec, Sounding,
};
use s2s_ensemble::io::write::{write_spatial, write_time_coords};
use s2s_ensemble::io::{pressure_levels, CfWriter, ReadOptions};
use s2s_ensemble::units::pressure_to_pa;
use s2s_ensemble::Cube;

use super::cyclones::{pick, read_raw, to_units};
use super::{read_var, Globals};

#[derive(Debug, Args)]
pub struct GpiArgs {
    /// Files holding the variables (comma-separated; each variable is taken from the first
    /// file that has it): sea surface temperature `tos`/`sst` (°C or K), sea-level pressure
    /// `psl`/`msl` (Pa or hPa), and on pressure levels air temperature `ta` (K), specific
    /// humidity `hus` (kg/kg), winds `ua`, `va` (m/s) and optionally relative humidity `hur`
    /// (%), all on one grid and one time axis.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILES")]
    fields: Vec<PathBuf>,
    /// `C_k / C_D` of the potential intensity.
    #[arg(long, default_value_t = 0.9)]
    ck_cd: f64,
    /// Output NetCDF: `gpi`, `vpot`, `pmin`, `abs_vorticity_850`, `rh_600`, `shear_850_200`
    /// and `gpi_anomaly` (against the mean of the same calendar month over the file's years).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// The first file of `files` with one of `names`, and the name.
fn find(files: &[PathBuf], names: &[&str]) -> anyhow::Result<Option<(PathBuf, String)>> {
    for f in files {
        if let Some(n) = pick(f, None, names)? {
            return Ok(Some((f.clone(), n)));
        }
    }
    Ok(None)
}

fn need(files: &[PathBuf], names: &[&str], what: &str) -> anyhow::Result<(PathBuf, String)> {
    find(files, names)?.with_context(|| {
        format!(
            "no {what} ({}) in {}",
            names.join(", "),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn slab(c: &Cube) -> Array3<f32> {
    c.values.slice(s![.., 0, 0, .., ..]).to_owned()
}

pub fn run(a: &GpiArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (sst_f, sst_v) = need(
        &a.fields,
        &["tos", "sst", "ts", "SST"],
        "sea surface temperature",
    )?;
    let (psl_f, psl_v) = need(&a.fields, &["psl", "msl", "slp"], "sea-level pressure")?;
    let (ta_f, ta_v) = need(&a.fields, &["ta", "t", "T", "air"], "air temperature")?;
    let (hus_f, hus_v) = need(&a.fields, &["hus", "q", "shum"], "specific humidity")?;
    let (ua_f, ua_v) = need(&a.fields, &["ua", "u", "uwnd"], "eastward wind")?;
    let (va_f, va_v) = need(&a.fields, &["va", "v", "vwnd"], "northward wind")?;
    let hur = find(&a.fields, &["hur", "rh", "r"])?;

    // the reader converts a temperature to °C by its units (and checks them)
    let sst_c = read_var(&sst_f, Some(&sst_v), ReadOptions::default())?;
    let sst = slab(&sst_c);
    let psl_c = to_units(
        read_raw(&psl_f, &psl_v, None, None)?,
        &psl_f,
        pressure_to_pa,
        "Pa",
        (85_000.0, 110_000.0),
    )?;
    let msl = slab(&psl_c).mapv(|p| p / 100.0); // hPa
    let Spatial::Grid { lat, lon } = &sst_c.coords.spatial else {
        bail!("{}: not on a latitude/longitude grid", sst_f.display());
    };
    let shape = sst.dim();
    if msl.dim() != shape {
        bail!("{} and {}: sea surface temperature and sea-level pressure differ in shape {:?} vs {:?}", sst_f.display(), psl_f.display(), shape, msl.dim());
    }
    let mut levels = pressure_levels(&ta_f, Some(&ta_v))?;
    levels.sort_by(|x, y| y.total_cmp(x)); // surface first
    if levels.len() < 5 {
        bail!("{}: '{ta_v}' has {} pressure levels; the potential intensity needs a sounding (at least 5 levels up to ~100 hPa)", ta_f.display(), levels.len());
    }
    for need_level in [850.0, 600.0, 200.0] {
        if !levels.iter().any(|l| (l - need_level).abs() <= 0.5) {
            bail!(
                "{}: no {need_level} hPa level (levels: {levels:?})",
                ta_f.display()
            );
        }
    }
    // soundings (level, time, y, x)
    let mut ta = Vec::new();
    let mut hus = Vec::new();
    for &l in &levels {
        let t = slab(&read_raw(&ta_f, &ta_v, None, Some(l))?);
        let q = slab(&read_raw(&hus_f, &hus_v, None, Some(l))?);
        if t.dim() != shape || q.dim() != shape {
            bail!("the fields at {l} hPa are not on the sea surface temperature's times and grid");
        }
        ta.push(t);
        hus.push(q);
    }
    let u850 = slab(&read_raw(&ua_f, &ua_v, None, Some(850.0))?);
    let v850 = slab(&read_raw(&va_f, &va_v, None, Some(850.0))?);
    let u200 = slab(&read_raw(&ua_f, &ua_v, None, Some(200.0))?);
    let v200 = slab(&read_raw(&va_f, &va_v, None, Some(200.0))?);
    let k600 = levels
        .iter()
        .position(|l| (l - 600.0).abs() <= 0.5)
        .expect("checked");
    let rh600 = match &hur {
        Some((f, v)) => slab(&read_raw(f, v, None, Some(600.0))?),
        None => Zip::from(&ta[k600])
            .and(&hus[k600])
            .map_collect(|&t, &q| relative_humidity_pct(t as f64, q as f64, 600.0) as f32),
    };
    let (nt, ny, nx) = shape;
    let spec = PiSpec {
        ck_cd: a.ck_cd,
        ..PiSpec::default()
    };
    // potential intensity per cell and time, in parallel over times
    let mut vpot = Array3::<f32>::from_elem(shape, f32::NAN);
    let mut pmin = Array3::<f32>::from_elem(shape, f32::NAN);
    vpot.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(pmin.axis_iter_mut(Axis(0)))
        .enumerate()
        .for_each(|(t, (mut vp, mut pm))| {
            let mut tk = vec![0.0; levels.len()];
            let mut rk = vec![0.0; levels.len()];
            for j in 0..ny {
                for i in 0..nx {
                    let (s, m) = (sst[[t, j, i]] as f64, msl[[t, j, i]] as f64);
                    if !s.is_finite() || !m.is_finite() {
                        continue;
                    }
                    for (k, _) in levels.iter().enumerate() {
                        tk[k] = ta[k][[t, j, i]] as f64;
                        let q = hus[k][[t, j, i]] as f64;
                        rk[k] = q / (1.0 - q);
                    }
                    let pi = potential_intensity(
                        s,
                        m,
                        Sounding {
                            p_hpa: &levels,
                            t_k: &tk,
                            r_kg_kg: &rk,
                        },
                        &spec,
                    );
                    vp[[j, i]] = pi.vmax_m_s as f32;
                    pm[[j, i]] = pi.pmin_hpa as f32;
                }
            }
        });
    let mut eta = Array3::<f32>::zeros(shape);
    for t in 0..nt {
        eta.slice_mut(s![t, .., ..]).assign(&absolute_vorticity(
            lat,
            lon,
            u850.slice(s![t, .., ..]),
            v850.slice(s![t, .., ..]),
        ));
    }
    let shear = Zip::from(&u200)
        .and(&v200)
        .and(&u850)
        .and(&v850)
        .map_collect(|&a2, &b2, &a8, &b8| (a2 - a8).hypot(b2 - b8));
    let mut gpi = Array3::<f32>::zeros(shape);
    Zip::from(&mut gpi)
        .and(&eta)
        .and(&rh600)
        .and(&vpot)
        .and(&shear)
        .for_each(|g, &e, &h, &v, &sh| {
            *g = genesis_potential_index(e as f64, h as f64, v as f64, sh as f64) as f32
        });
    // anomaly against the mean of the same calendar month (when there are ≥ 3 years)
    let months: Vec<u32> = sst_c.coords.init.iter().map(|t| t.month).collect();
    let mut anomaly = Array3::<f32>::from_elem(shape, f32::NAN);
    for m in 1..=12u32 {
        let idx: Vec<usize> = (0..nt).filter(|&t| months[t] == m).collect();
        if idx.len() < 3 {
            continue;
        }
        for j in 0..ny {
            for i in 0..nx {
                let vals: Vec<f32> = idx
                    .iter()
                    .map(|&t| gpi[[t, j, i]])
                    .filter(|x| x.is_finite())
                    .collect();
                if vals.len() < 3 {
                    continue;
                }
                let mean = vals.iter().sum::<f32>() / vals.len() as f32;
                for &t in &idx {
                    anomaly[[t, j, i]] = gpi[[t, j, i]] - mean;
                }
            }
        }
    }
    // output
    let mut w = CfWriter::create(&a.out, &g.write_options())?;
    if sst_c.meta.kind != CubeKind::Observed {
        bail!(
            "{}: '{sst_v}' is a forecast layout (start dates and leads); give (time, lat, lon) means",
            sst_f.display()
        );
    }
    let mut dims = write_time_coords(
        &mut w,
        &sst_c.coords,
        sst_c.meta.calendar,
        CubeKind::Observed,
    )?;
    dims.extend(write_spatial(&mut w, &sst_c.coords.spatial)?);
    let d: Vec<&str> = dims.to_vec();
    for (name, data, long, units) in [
        (
            "gpi",
            &gpi,
            "genesis potential index (Emanuel and Nolan 2004)",
            "1",
        ),
        (
            "gpi_anomaly",
            &anomaly,
            "genesis potential index minus its mean over the same calendar month",
            "1",
        ),
        (
            "vpot",
            &vpot,
            "potential intensity: maximum 10 m wind (Bister and Emanuel 2002)",
            "m s-1",
        ),
        (
            "pmin",
            &pmin,
            "potential intensity: minimum central pressure",
            "hPa",
        ),
        (
            "abs_vorticity_850",
            &eta,
            "absolute vorticity at 850 hPa",
            "s-1",
        ),
        ("rh_600", &rh600, "relative humidity at 600 hPa", "%"),
        (
            "shear_850_200",
            &shear,
            "magnitude of the 200 - 850 hPa wind difference",
            "m s-1",
        ),
    ] {
        w.f32_var(
            name,
            &d,
            data.view().into_dyn(),
            &[("long_name", long), ("units", units)],
            &[],
        )?;
    }
    w.finish()?;
    if !g.quiet {
        eprintln!(
            "GPI of {nt} times × {ny} × {nx} cells from {} levels in {:.1} s: {}",
            levels.len(),
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
