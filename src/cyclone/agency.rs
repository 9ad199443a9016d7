//! Whose intensities a best track gives: the agencies of IBTrACS v04 (Knapp et al. 2010) — the
//! WMO-designated RSMC of each basin, the US agencies, or one regional agency — named as
//! IBTrACS prefixes its columns (`wmo_wind`, `usa_wind`, `tokyo_wind`, …). Their winds are
//! averaged over different periods (10-min for most RSMCs, 3-min for New Delhi, 1-min for the
//! US agencies): compare a model with one agency at a time.

use crate::error::{Error, Result};

/// Whose intensity (wind and pressure) to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agency {
    /// The WMO-designated RSMC of the basin (IBTrACS `WMO_WIND`, `WMO_PRES`).
    Wmo,
    /// The US agencies (JTWC, NHC, CPHC: `USA_WIND`, `USA_PRES`; 1-minute winds).
    Usa,
    /// One regional agency, by its IBTrACS column prefix (`tokyo`, `newdelhi`, `cma`, `hko`,
    /// `kma`, `reunion`, `bom`, `nadi`, `wellington`).
    Regional(&'static str),
}

/// The regional agencies' IBTrACS prefixes.
const REGIONAL: [&str; 9] = [
    "tokyo",
    "newdelhi",
    "cma",
    "hko",
    "kma",
    "reunion",
    "bom",
    "nadi",
    "wellington",
];

impl Agency {
    /// `wmo`, `usa` or a regional prefix (`tokyo`, `newdelhi`, …; `jma` and `imd` too).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim().to_ascii_lowercase();
        let t = match t.as_str() {
            "jma" | "rsmc-tokyo" => "tokyo",
            "imd" | "rsmc-newdelhi" => "newdelhi",
            "jtwc" | "nhc" => "usa",
            other => other,
        };
        match t {
            "wmo" => Ok(Agency::Wmo),
            "usa" => Ok(Agency::Usa),
            _ => REGIONAL
                .iter()
                .find(|r| **r == t)
                .map(|r| Agency::Regional(r))
                .ok_or_else(|| {
                    Error::invalid(
                        "best-track agency",
                        format!(
                            "'{text}': expected wmo, usa or one of {}",
                            REGIONAL.join(", ")
                        ),
                    )
                }),
        }
    }

    /// The column prefix in the NetCDF edition (`wmo`, `usa`, `tokyo`, …).
    pub fn prefix(&self) -> &'static str {
        match self {
            Agency::Wmo => "wmo",
            Agency::Usa => "usa",
            Agency::Regional(p) => p,
        }
    }
}
