//! The run configuration of `s2s outlook` (TOML, read with serde): models, observations,
//! bias correction, weighting, regions and outputs. Every field is documented in
//! `docs/config.md`; a bad configuration gets the field, the value and the reason.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ensemble::{SkillScore, WeightScheme};
use crate::error::{Error, Result};
use crate::verify::Region;

/// One model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Name in outputs.
    pub name: String,
    /// Hindcast file (relative paths are relative to the configuration file).
    pub hindcast: PathBuf,
    /// Forecast file.
    pub forecast: PathBuf,
    /// Variable name in this model's files, when not found by `variable`.
    pub variable: Option<String>,
}

/// The observations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObsConfig {
    /// File: a time series `(time, lat, lon)` on the models' grid.
    pub path: PathBuf,
    /// Variable name, when not found by `variable`.
    pub variable: Option<String>,
    /// Units to assume when the file's are missing or wrong (e.g. `mm/month`).
    pub units: Option<String>,
}

/// Bias correction of each model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BiasMethod {
    /// None (inputs already corrected).
    None,
    /// Mean scaling (multiplicative for precipitation).
    #[default]
    Scaling,
    /// Empirical quantile mapping.
    Eqm,
}

/// Model weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeightsConfig {
    /// Every member equal.
    Pooled,
    /// Every model equal.
    #[default]
    Model,
    /// Cross-validated RPSS over 3 x 3 cells.
    Skill,
    /// APCC PMME (for ensemble means).
    Pmme,
}

impl WeightsConfig {
    /// The combination scheme.
    pub fn scheme(self) -> WeightScheme {
        match self {
            WeightsConfig::Pooled => WeightScheme::Pooled,
            WeightsConfig::Model => WeightScheme::ModelEqual,
            WeightsConfig::Skill => WeightScheme::Skill {
                score: SkillScore::Rpss,
                radius_cells: 1,
            },
            WeightsConfig::Pmme => WeightScheme::Pmme,
        }
    }
}

fn default_title() -> String {
    "s2s-ensemble".into()
}

fn default_output() -> PathBuf {
    PathBuf::from("outlook")
}

fn default_regions() -> Vec<String> {
    vec![
        "central_asia".into(),
        "south_asia".into(),
        "southeast_asia".into(),
    ]
}

/// The configuration of one outlook run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutlookConfig {
    /// Title of the bulletin (e.g. the issuing centre).
    #[serde(default = "default_title")]
    pub title: String,
    /// Variable: `pr`, `tas` or a name common to the files.
    pub variable: String,
    /// Output directory (relative to the configuration file).
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// Only these hindcast years `[first, last]`.
    pub years: Option<(i32, i32)>,
    /// The models.
    pub models: Vec<ModelConfig>,
    /// The observations.
    pub observations: ObsConfig,
    /// Bias correction.
    #[serde(default)]
    pub bias: BiasMethod,
    /// Weighting of the models.
    #[serde(default)]
    pub weights: WeightsConfig,
    /// Category edges from the observed climatology instead of each model's.
    #[serde(default)]
    pub edges_from_obs: bool,
    /// Regions: predefined names or `NAME=W,E,S,N`.
    #[serde(default = "default_regions")]
    pub regions: Vec<String>,
    /// White out cells where the MME has no cross-validated skill (RPSS ≤ 0).
    #[serde(default)]
    pub mask_unskilful: bool,
    /// Country outlines for the maps (GeoJSON).
    pub countries: Option<PathBuf>,
}

impl OutlookConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let cfg: OutlookConfig = toml::from_str(&text).map_err(|e| {
            Error::invalid(
                "configuration",
                format!("{}: {}", path.display(), e.to_string().trim()),
            )
        })?;
        cfg.check(path)?;
        Ok(cfg)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, why: String| {
            Err(Error::invalid(
                "configuration",
                format!("{}: {field}: {why}", path.display()),
            ))
        };
        if self.models.is_empty() {
            return bad("models", "no [[models]] given".into());
        }
        for (i, m) in self.models.iter().enumerate() {
            if self.models[..i].iter().any(|o| o.name == m.name) {
                return bad("models.name", format!("'{}' appears twice", m.name));
            }
        }
        if let Some((a, b)) = self.years {
            if a > b {
                return bad(
                    "years",
                    format!("[{a}, {b}]: the first year is after the last"),
                );
            }
        }
        if self.weights == WeightsConfig::Pooled && self.edges_from_obs {
            // Allowed; nothing to check.
        }
        self.regions()?;
        Ok(())
    }

    /// The regions, parsed.
    pub fn regions(&self) -> Result<Vec<Region>> {
        self.regions.iter().map(|r| Region::parse(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<OutlookConfig> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).unwrap();
        OutlookConfig::load(&p)
    }

    const GOOD: &str = r#"
variable = "pr"
weights = "pmme"
[[models]]
name = "A"
hindcast = "a_h.nc"
forecast = "a_f.nc"
[observations]
path = "obs.nc"
units = "mm/month"
"#;

    #[test]
    fn reads_a_good_configuration_with_defaults() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.weights, WeightsConfig::Pmme);
        assert_eq!(c.bias, BiasMethod::Scaling);
        assert_eq!(c.regions().unwrap().len(), 3);
    }

    #[test]
    fn bad_configurations_name_the_field() {
        let e = load(&GOOD.replace("pmme", "magic"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("weights") || e.contains("magic"), "{e}");
        let e = load(&GOOD.replace("units", "unit"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unit"), "{e}");
        let e = load(&format!("{GOOD}\nregions = [\"atlantis\"]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("atlantis"), "{e}");
    }
}
