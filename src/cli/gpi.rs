//! `s2s cyclones gpi`: potential intensity and the genesis potential index from monthly
//! (or any) mean fields on pressure levels ([`gpi_job`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use s2s_ensemble::pipeline::cyclones::gpi_job;

use super::Globals;

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

pub fn run(a: &GpiArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (nt, ny, nx) = gpi_job(&a.fields, a.ck_cd, &a.out, &g.run_options())?;
    if !g.quiet {
        eprintln!(
            "GPI of {nt} times × {ny} × {nx} cells in {:.1} s: {}",
            t0.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
