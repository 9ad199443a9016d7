//! The run configuration of `s2s outlook` (TOML, read with serde): models, observations,
//! bias correction, weighting, regions and outputs. Every field is documented in
//! `docs/config.md`; a bad configuration gets the field, the value and the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cube::TargetPeriod;
use crate::ensemble::{SkillScore, WeightScheme};
use crate::error::{Error, Result};
use crate::verify::Region;

/// One model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Name in outputs.
    pub name: String,
    /// Hindcast file (relative paths are relative to the configuration file), or a file set:
    /// a pattern such as `"hc/{model}_{year}.nc"` or `"hc/CCSM4_*.nc"`, or a list of files
    /// `["hc/a.nc", "hc/b.nc"]` (one file per start, year or member; `io::fileset`).
    #[serde(deserialize_with = "one_or_list")]
    pub hindcast: PathBuf,
    /// Forecast file, or a file set (pattern or list).
    #[serde(deserialize_with = "one_or_list")]
    pub forecast: PathBuf,
    /// Variable name in this model's files, when not found by `variable` (runs of one
    /// variable).
    pub variable: Option<String>,
    /// Names in this model's files of the run's variables, when not found by their names
    /// (`{ tas = "t2m" }`).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

/// Joins the names of an explicit list of files into one input path (see `io::fileset`).
pub const LIST_SEPARATOR: char = '\n';

/// One input path for a list of files (a single file stays itself).
pub fn from_list(files: &[PathBuf]) -> PathBuf {
    let parts: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    PathBuf::from(parts.join(&LIST_SEPARATOR.to_string()))
}

/// The files of a list made by [`from_list`], or `None` for any other path.
pub fn list_parts(path: &Path) -> Option<Vec<PathBuf>> {
    let text = path.to_string_lossy();
    text.contains(LIST_SEPARATOR)
        .then(|| text.split(LIST_SEPARATOR).map(PathBuf::from).collect())
}

/// A path, or a non-empty list of paths joined into one input ([`from_list`]).
fn one_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<PathBuf, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        One(PathBuf),
        List(Vec<PathBuf>),
    }
    match OneOrList::deserialize(d)? {
        OneOrList::One(p) => Ok(p),
        OneOrList::List(l) if l.is_empty() => Err(serde::de::Error::custom(
            "an empty list of files; give at least one file (or a pattern)",
        )),
        OneOrList::List(l) => Ok(from_list(&l)),
    }
}

impl ModelConfig {
    /// The name to read for the run's variable `var` in this model's files: its entry in
    /// `names`, else `variable` (runs of one variable), else `var` itself.
    pub fn file_variable<'a>(&'a self, var: &'a str) -> &'a str {
        self.names
            .get(var)
            .map(String::as_str)
            .or(self.variable.as_deref())
            .unwrap_or(var)
    }
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
    /// The season each value covers when the file is stamped once a year (`"JJAS"`, `"OND"`,
    /// `"6-9"`): amounts are converted over its days, and a target of another season is an
    /// error.
    pub season: Option<String>,
    /// Which of the run's variables this file observes (with several `[[observations]]`);
    /// none: every variable without a file of its own.
    pub for_variable: Option<String>,
}

/// One observation file, or one per variable.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Observations {
    /// One file for every variable.
    One(ObsConfig),
    /// Several (`[[observations]]`), told apart by `for_variable`.
    More(Vec<ObsConfig>),
}

// By hand rather than `untagged`, so a typo inside the table keeps its own message
// ("unknown field `unit`") instead of "did not match any variant".
impl<'de> Deserialize<'de> for Observations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = toml::Value::deserialize(d)?;
        match v {
            toml::Value::Array(_) => v.try_into().map(Observations::More),
            other => other.try_into().map(Observations::One),
        }
        .map_err(|e: toml::de::Error| D::Error::custom(e.message()))
    }
}

impl Observations {
    /// Every file's entry.
    pub fn all(&self) -> Vec<&ObsConfig> {
        match self {
            Observations::One(o) => vec![o],
            Observations::More(v) => v.iter().collect(),
        }
    }

    /// The observations of the run's variable `var`: the entry for it, else the one without
    /// `for_variable`.
    pub fn for_variable(&self, var: &str) -> Option<&ObsConfig> {
        let all = self.all();
        all.iter()
            .find(|o| o.for_variable.as_deref() == Some(var))
            .or_else(|| all.iter().find(|o| o.for_variable.is_none()))
            .copied()
    }
}

/// A variable, or a list of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Variables {
    /// One variable.
    One(String),
    /// Several: one bulletin section each, the first the headline.
    More(Vec<String>),
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
    /// Every model equal (counted members).
    Model,
    /// Cross-validated RPSS over 3 x 3 cells.
    Skill,
    /// APCC PMME (for ensemble means; not calibrated).
    Pmme,
    /// Regression-calibrated probabilities of each model, averaged with equal weights: the
    /// default (reliable probabilities from short hindcasts and few members alike).
    #[default]
    Calibrated,
    /// Extended logistic regression of each model (Wilks 2009), averaged with equal weights.
    Elr,
    /// Principal-component regression MOS of each model's ensemble-mean field (CPT style),
    /// averaged with equal weights.
    Pcr,
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
            WeightsConfig::Calibrated => WeightScheme::Calibrated,
            WeightsConfig::Elr => WeightScheme::Elr,
            WeightsConfig::Pcr => WeightScheme::Pcr,
        }
    }
}

fn default_title() -> String {
    "s2s-ensemble".into()
}

fn default_output() -> PathBuf {
    PathBuf::from("outlook")
}

fn default_spi_scale() -> usize {
    3
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
    /// `institution` global attribute of every NetCDF product (CF 2.6.2): who issues them.
    pub institution: Option<String>,
    /// `references` global attribute of every NetCDF product: where the method is described.
    pub references: Option<String>,
    /// `comment` global attribute of every NetCDF product.
    pub comment: Option<String>,
    /// Variable: `pr`, `tas` or a name common to the files; or a list (`["pr", "tas"]`),
    /// one bulletin section each.
    pub variable: Variables,
    /// Output directory (relative to the configuration file).
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// Only these hindcast years `[first, last]`.
    pub years: Option<(i32, i32)>,
    /// The models.
    pub models: Vec<ModelConfig>,
    /// The observations: one file, or one per variable.
    pub observations: Observations,
    /// Bias correction.
    #[serde(default)]
    pub bias: BiasMethod,
    /// Weighting of the models.
    #[serde(default)]
    pub weights: WeightsConfig,
    /// Category edges from the observed climatology instead of each model's.
    #[serde(default)]
    pub edges_from_obs: bool,
    /// Layout of the NetCDF products: `cdo` (default: at most (time, lead, lat, lon) per
    /// variable) or `nd` (every axis a dimension); `--layout` wins.
    #[serde(default, deserialize_with = "layout_from_text")]
    pub layout: Option<ProductLayout>,
    /// Target periods of the bulletin in weeks or months from the start (`week 1`, `weeks 3-4`,
    /// `month 1`, `months 2-4`), each the mean over the files' leads it covers; empty: every
    /// lead of the files as it is.
    #[serde(default)]
    pub periods: Vec<String>,
    /// Scale in months of the forecast SPI made from the observed months before the start and
    /// each member's forecast months (used when the leads are single months and the
    /// observations a monthly record reaching the month before the start).
    #[serde(default = "default_spi_scale")]
    pub spi_scale: usize,
    /// Regions: predefined names (country sets), a country, `NAME=W,E,S,N` or
    /// `NAME=Country,Country`.
    #[serde(default = "default_regions")]
    pub regions: Vec<String>,
    /// White out cells where the MME has no cross-validated skill (RPSS ≤ 0).
    #[serde(default)]
    pub mask_unskilful: bool,
    /// Country outlines for the maps (GeoJSON).
    pub countries: Option<PathBuf>,
    /// Admin-1 outlines (GeoJSON, `.gz` too; `name` per feature) for a province table of
    /// area-mean probabilities beside the country table.
    pub provinces: Option<PathBuf>,
    /// The common grid every model and the observations are regridded onto; none: the files
    /// must share one grid.
    pub grid: Option<GridConfig>,
    /// The tropical-cyclone outlook, when daily or 6-hourly model fields are at hand.
    pub cyclones: Option<CyclonesConfig>,
    /// An emergency forecast (`s2s emergency --config`); the outlook itself ignores it.
    pub emergency: Option<EmergencyConfig>,
    /// Subseasonal extremes from daily hindcasts and forecasts (`[extremes]`, or one
    /// `[[extremes]]` table per variable): heat and cold waves, heavy rain, EFI and SOT per
    /// week against the model climate.
    #[serde(default, deserialize_with = "one_or_many_extremes")]
    pub extremes: Vec<ExtremesConfig>,
    /// ENSO and IOD plumes from the models' SST forecasts (`[drivers]`).
    pub drivers: Option<DriversConfig>,
    /// The sea-ice extent outlook of a month (`[seaice]`).
    pub seaice: Option<SeaIceConfig>,
    /// Who issues the bulletin and when: institution, logo, contact, disclaimer, credits,
    /// language, issue date, next update.
    #[serde(default)]
    pub issuer: IssuerConfig,
    /// Units of variables whose files have none or wrong ones, by variable name
    /// (`units = { pr = "mm/month", uo = "m/s" }`); `--assume-units` on the command line wins.
    #[serde(default)]
    pub units: std::collections::BTreeMap<String, String>,
}

/// `[issuer]`: the identity and dates a published bulletin carries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuing institution (default: the top-level `institution`).
    pub institution: Option<String>,
    /// The institution's logo, a PNG file (relative to the configuration file).
    pub logo: Option<PathBuf>,
    /// How to reach the issuer (address, e-mail, web page).
    pub contact: Option<String>,
    /// The disclaimer printed under every bulletin; none: a standard one from the message
    /// catalogue.
    pub disclaimer: Option<String>,
    /// Credits per dataset or model (`credits = { NMME = "…", IMD = "…" }`).
    #[serde(default)]
    pub credits: BTreeMap<String, String>,
    /// Language of the bulletin: `en` (default) or `ru`.
    pub language: Option<String>,
    /// Issue date `YYYY-MM-DD`; none: the day of the run (UTC).
    pub issue_date: Option<String>,
    /// Date of the next bulletin `YYYY-MM-DD`; none: a week after the issue date when the
    /// periods are weeks, a month after otherwise.
    pub next_update: Option<String>,
}

impl IssuerConfig {
    /// Checks the dates and the language.
    fn check(&self) -> std::result::Result<(), String> {
        for (field, date) in [
            ("issuer.issue_date", &self.issue_date),
            ("issuer.next_update", &self.next_update),
        ] {
            if let Some(d) = date {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|e| format!("{field}: {d:?} is not a date YYYY-MM-DD ({e})"))?;
            }
        }
        if let Some(lang) = &self.language {
            if !crate::bulletin::LANGUAGES.contains(&lang.as_str()) {
                return Err(format!(
                    "issuer.language: {lang:?} is not one of {:?}",
                    crate::bulletin::LANGUAGES
                ));
            }
        }
        Ok(())
    }
}

/// `[grid]`: the common grid of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridConfig {
    /// Spacing `"DLAT[xDLON]"` in degrees (`"1"`, `"0.5x1"`); none: the observations' grid.
    pub spacing: Option<String>,
    /// Box `[west, east, south, north]` of a spacing grid (degrees); none: the globe.
    pub bbox: Option<[f64; 4]>,
    /// `conservative` (default; keeps area means, for precipitation) or `bilinear`.
    #[serde(default = "default_regrid_method")]
    pub method: crate::grid::Method,
}

fn default_regrid_method() -> crate::grid::Method {
    crate::grid::Method::Conservative
}

impl GridConfig {
    /// The target grid, or `None` for the observations' grid.
    pub fn target(&self) -> Result<Option<crate::grid::LonLatGrid>> {
        let bad = |why: String| Error::invalid("configuration", format!("grid: {why}"));
        match &self.spacing {
            None => {
                if self.bbox.is_some() {
                    return Err(bad(
                        "a bbox needs a spacing (the observations' grid is taken as it is)".into(),
                    ));
                }
                Ok(None)
            }
            Some(sp) => {
                let (dlat, dlon) =
                    crate::grid::LonLatGrid::parse_spacing(sp).map_err(|e| bad(e.to_string()))?;
                let bbox = self
                    .bbox
                    .map(|[w, e, s, n]| crate::cube::BBox::new(w, e, s, n))
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?;
                crate::grid::LonLatGrid::regular(dlat, dlon, bbox.as_ref())
                    .map(Some)
                    .map_err(|e| bad(e.to_string()))
            }
        }
    }
}

/// `[emergency]`: an emergency forecast at a point at sea (`s2s emergency --config FILE`);
/// the same fields as the command's options (paths relative to the configuration file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyConfig {
    /// Latitude of the site (degrees north).
    pub lat: f64,
    /// Longitude of the site (degrees east).
    pub lon: f64,
    /// Release date `YYYY-MM-DD`.
    pub start: String,
    /// Days to forecast.
    #[serde(default = "default_emergency_days")]
    pub days: usize,
    /// Surface currents: one file, or one per model.
    pub currents: OneOrMore,
    /// Current variables `"U,V"`.
    pub current_vars: Option<String>,
    /// 10 m winds: one file for all models or one per model (default: the currents files
    /// when they have winds).
    pub wind: Option<OneOrMore>,
    /// Particles per member.
    #[serde(default = "default_particles")]
    pub particles: usize,
    /// Fraction of the 10 m wind added to the current.
    #[serde(default = "default_windage")]
    pub windage: f64,
    /// Horizontal diffusivity (m² s⁻¹).
    #[serde(default = "default_diffusivity")]
    pub diffusivity: f64,
    /// Release radius around the site (km).
    #[serde(default = "default_release_radius")]
    pub release_radius_km: f64,
    /// Fields for the cyclone check.
    #[serde(default)]
    pub cyclone_fields: Vec<PathBuf>,
    /// Passage radius (km).
    #[serde(default = "default_passage_radius")]
    pub radius_km: f64,
    /// Seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Output directory.
    pub output: Option<PathBuf>,
    /// Run past the end of a forcing file on its last field, with a warning in the bulletin.
    #[serde(default)]
    pub allow_persistence: bool,
    /// Units of variables whose files have none or wrong ones (`units = { uo = "m/s" }`),
    /// besides the configuration's top-level `units`; `--assume-units` wins.
    #[serde(default)]
    pub units: std::collections::BTreeMap<String, String>,
}

/// A path or a list of paths.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMore {
    /// One path.
    One(PathBuf),
    /// Several.
    More(Vec<PathBuf>),
}

impl OneOrMore {
    /// The paths.
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            OneOrMore::One(p) => vec![p.clone()],
            OneOrMore::More(v) => v.clone(),
        }
    }
}

fn default_emergency_days() -> usize {
    30
}
fn default_particles() -> usize {
    2000
}
fn default_windage() -> f64 {
    0.03
}
fn default_diffusivity() -> f64 {
    10.0
}
fn default_release_radius() -> f64 {
    5.0
}
fn default_passage_radius() -> f64 {
    300.0
}
fn default_seed() -> u64 {
    1
}

impl EmergencyConfig {
    /// Reads the `[emergency]` table of a TOML file (a run configuration or a file with only
    /// that table) and checks it.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let bad =
            |why: String| Error::invalid("configuration", format!("{}: {why}", path.display()));
        let value: toml::Table =
            toml::from_str(&text).map_err(|e| bad(e.to_string().trim().to_string()))?;
        let table = value
            .get("emergency")
            .cloned()
            .ok_or_else(|| bad("no [emergency] table".into()))?;
        let mut cfg: EmergencyConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| bad(format!("[emergency]: {}", e.to_string().trim())))?;
        if let Some(top) = value.get("units") {
            let top: std::collections::BTreeMap<String, String> = top
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| bad(format!("units: {}", e.to_string().trim())))?;
            for (var, units) in top {
                cfg.units.entry(var).or_insert(units);
            }
        }
        cfg.check().map_err(bad)?;
        Ok(cfg)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if !(-90.0..=90.0).contains(&self.lat) || !self.lon.is_finite() {
            return Err(format!(
                "emergency.lat/lon: ({}, {}) is not a position",
                self.lat, self.lon
            ));
        }
        if self.days == 0 || self.particles == 0 {
            return Err("emergency.days and emergency.particles must be positive".into());
        }
        if !(0.0..=0.2).contains(&self.windage) {
            return Err(format!(
                "emergency.windage: {} must be in 0–0.2",
                self.windage
            ));
        }
        Ok(())
    }
}

/// `[seaice]`: the outlook of one month's sea-ice extent (paths relative to the configuration
/// file); what `s2s seaice outlook` runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeaIceConfig {
    /// One hindcast input per model: an extent table (`s2s seaice extent`, `.csv`) or
    /// concentration file(s) (a pattern for several).
    pub hindcast: Vec<PathBuf>,
    /// One forecast input per model, in the order of `hindcast`.
    pub forecast: Vec<PathBuf>,
    /// Model names (default: the hindcast file names).
    #[serde(default)]
    pub models: Vec<String>,
    /// Observed extents: NSIDC Sea Ice Index monthly or daily CSV, or an extent table.
    pub observations: PathBuf,
    /// Month forecast, `YYYY-MM`.
    pub target: String,
    /// `north` or `south`.
    #[serde(default = "default_hemisphere")]
    pub hemisphere: String,
    /// How members are adjusted to the observed extents.
    #[serde(default)]
    pub adjust: SeaIceAdjust,
    /// Cell areas (areacello) for concentration files without their own.
    pub cell_area: Option<PathBuf>,
}

fn default_hemisphere() -> String {
    "north".into()
}

/// `adjust` of `[seaice]`, as `s2s seaice outlook --adjust` spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeaIceAdjust {
    /// Mean error and trend difference removed.
    #[default]
    MeanTrend,
    /// Mean error removed.
    Mean,
    /// Raw members.
    None,
}

impl SeaIceConfig {
    /// The target `(year, month)`.
    pub fn target(&self) -> Result<(i32, u32)> {
        self.target
            .split_once('-')
            .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(_, m)| (1..=12).contains(m))
            .ok_or_else(|| {
                Error::invalid(
                    "[seaice] target",
                    format!("'{}' is not YYYY-MM (e.g. \"2021-09\")", self.target),
                )
            })
    }
}

/// `[drivers]`: the Niño 3.4 and Indian Ocean Dipole plumes of the models' monthly SST
/// (paths relative to the configuration file); what `s2s drivers` runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriversConfig {
    /// One SST hindcast file (or pattern) per model.
    pub hindcast: Vec<PathBuf>,
    /// One SST forecast file per model, in the order of `hindcast`.
    pub forecast: Vec<PathBuf>,
    /// Model names (default: the hindcast file names).
    #[serde(default)]
    pub models: Vec<String>,
    /// Observed monthly SST record.
    pub observations: Option<PathBuf>,
    /// SST variable (default: each file's only data variable).
    pub variable: Option<String>,
}

/// `[extremes]`: the subseasonal extremes outlook of one model's daily files (paths relative to
/// the configuration file); what `s2s extremes outlook` runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtremesConfig {
    /// Daily hindcast file(s): starts × members × daily leads.
    #[serde(deserialize_with = "paths")]
    pub hindcast: Vec<PathBuf>,
    /// Daily forecast file(s) of the same model.
    #[serde(deserialize_with = "paths")]
    pub forecast: Vec<PathBuf>,
    /// Daily observations for the hindcast verification.
    #[serde(default, deserialize_with = "paths")]
    pub observations: Vec<PathBuf>,
    /// Variable in the files (default: each file's only data variable).
    pub variable: Option<String>,
    /// Target periods in weeks.
    #[serde(default = "default_extreme_periods")]
    pub periods: Vec<String>,
    /// Days either side of the start date whose hindcast starts make the model climate.
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Consecutive hot (cold) days of a heat (cold) wave.
    #[serde(default = "default_spell_days")]
    pub min_days: usize,
    /// Return period of the Rx1day/Rx5day levels, in target periods.
    #[serde(default = "default_return_period")]
    pub return_period: f64,
}

fn default_extreme_periods() -> Vec<String> {
    ["week 1", "week 2", "weeks 3-4"].map(String::from).to_vec()
}

fn default_window_days() -> u32 {
    crate::extremes::M_CLIMATE_HALF_WINDOW_DAYS
}

fn default_spell_days() -> usize {
    crate::extremes::outlook::DEFAULT_SPELL_MIN_DAYS
}

fn default_return_period() -> f64 {
    crate::extremes::outlook::DEFAULT_RETURN_PERIOD
}

/// A path or a list of paths.
fn paths<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        One(PathBuf),
        List(Vec<PathBuf>),
    }
    Ok(match OneOrList::deserialize(d)? {
        OneOrList::One(p) => vec![p],
        OneOrList::List(l) => l,
    })
}

/// `[extremes]` (one table) or `[[extremes]]` (one per variable), each checked with its own
/// messages.
fn one_or_many_extremes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<ExtremesConfig>, D::Error> {
    use serde::de::Error as _;
    let one = |v: toml::Value, what: &str| {
        v.try_into::<ExtremesConfig>()
            .map_err(|e| D::Error::custom(format!("{what}: {}", e.to_string().trim())))
    };
    match toml::Value::deserialize(d)? {
        toml::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(k, v)| one(v, &format!("[[extremes]] number {}", k + 1)))
            .collect(),
        v => Ok(vec![one(v, "[extremes]")?]),
    }
}

/// `[cyclones]`: the seasonal tropical-cyclone outlook from one model's daily or 6-hourly
/// sea-level pressure and winds (paths relative to the configuration file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclonesConfig {
    /// Forecast field files (their runs must cover every target month).
    #[serde(default)]
    pub forecast: Vec<PathBuf>,
    /// Hindcast field files of the same model.
    #[serde(default)]
    pub hindcast: Vec<PathBuf>,
    /// Monthly-mean forecast fields on pressure levels for the genesis potential index (the
    /// fallback product of models without daily fields; what `s2s cyclones gpi` reads).
    #[serde(default)]
    pub gpi_forecast: Vec<PathBuf>,
    /// Monthly-mean hindcast fields of the same model, the GPI climatology.
    #[serde(default)]
    pub gpi_hindcast: Vec<PathBuf>,
    /// Target months `"FIRST-LAST"` (e.g. `"10-12"`; `"11-4"` wraps the year).
    pub season: String,
    /// Basin keys (`nio`, `arb`, `bob`, `wnp`, `scs`, `sio`); default all.
    #[serde(default = "default_basins")]
    pub basins: Vec<String>,
    /// Observed (best-track) storms: IBTrACS v04 (NetCDF or CSV) or the tracks CSV layout —
    /// the observed climatology of the basins and the calibration of counts.
    pub observed_tracks: Option<PathBuf>,
    /// Years `[first, last]` the observed tracks cover.
    pub observed_years: Option<(i32, i32)>,
    /// Whose winds in IBTrACS: `wmo` (the basin's RSMC), `usa`, or a regional agency
    /// (`newdelhi`, `tokyo`, …).
    #[serde(default = "default_observed_agency")]
    pub observed_agency: String,
    /// Box size (degrees) of the track-density maps.
    #[serde(default = "default_density_deg")]
    pub density_deg: f64,
    /// Relative-vorticity variable of the fields (its 850 hPa level): turns the vorticity
    /// criterion on, as `s2s cyclones track --vorticity`.
    #[serde(default)]
    pub vorticity: Option<String>,
    /// Smallest cyclonic vorticity (s⁻¹) within `vorticity_radius` (default 5e-5).
    #[serde(default)]
    pub vorticity_min: Option<f64>,
    /// Radius (degrees) of the vorticity criterion (default 2.5).
    #[serde(default)]
    pub vorticity_radius: Option<f64>,
    /// Z300 − Z500 thickness variable: turns the warm-core test on.
    #[serde(default)]
    pub thickness: Option<String>,
    /// Candidates south of this latitude are dropped (degrees).
    #[serde(default)]
    pub min_lat: Option<f64>,
    /// Candidates north of this latitude are dropped (degrees).
    #[serde(default)]
    pub max_lat: Option<f64>,
}

fn default_observed_agency() -> String {
    "wmo".into()
}

fn default_basins() -> Vec<String> {
    ["nio", "arb", "bob", "wnp", "scs", "sio"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn default_density_deg() -> f64 {
    5.0
}

/// A path as configured: relative to the configuration's folder `base` unless absolute.
pub fn resolve_path(base: &Path, p: &Path) -> PathBuf {
    if let Some(parts) = list_parts(p) {
        let resolved: Vec<PathBuf> = parts.iter().map(|q| resolve_path(base, q)).collect();
        return from_list(&resolved);
    }
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl OutlookConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut cfg: OutlookConfig = toml::from_str(&text).map_err(|e| {
            Error::invalid(
                "configuration",
                format!("{}: {}", path.display(), e.to_string().trim()),
            )
        })?;
        // `{model}` in a model's file names is its name; the other placeholders ({year},
        // {init:%Y%m} …) match any text ([`crate::io::fileset`]), the run's years selecting
        // the starts.
        for m in &mut cfg.models {
            for p in [&mut m.hindcast, &mut m.forecast] {
                let text = p.to_string_lossy();
                if text.contains("{model}") {
                    *p = PathBuf::from(text.replace("{model}", &m.name));
                }
            }
        }
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
        // Strings that reach the bulletin's text and file names are single lines without
        // control characters: a newline in a title must not start a Markdown line of its own.
        let texts = [
            ("title", Some(&self.title)),
            ("institution", self.institution.as_ref()),
            ("references", self.references.as_ref()),
            ("comment", self.comment.as_ref()),
            ("issuer.institution", self.issuer.institution.as_ref()),
        ];
        let names = self
            .models
            .iter()
            .map(|m| ("models.name", Some(&m.name)))
            .chain(self.regions.iter().map(|r| ("regions", Some(r))));
        for (field, text) in texts.into_iter().chain(names) {
            if let Some(t) = text {
                if let Some(c) = t.chars().find(|c| c.is_control()) {
                    return bad(
                        field,
                        format!("{t:?} contains the control character {c:?}: write it on one line without control characters"),
                    );
                }
            }
        }
        let vars = self.variables();
        if vars.is_empty() || vars.iter().any(|v| v.trim().is_empty()) {
            return bad("variable", format!("{vars:?}: name at least one variable"));
        }
        for (i, v) in vars.iter().enumerate() {
            if vars[..i].contains(v) {
                return bad("variable", format!("'{v}' appears twice"));
            }
        }
        for m in &self.models {
            if vars.len() > 1 && m.variable.is_some() {
                return bad(
                    "models.variable",
                    format!("model '{}': with several variables name each in `names = {{ {} = \"...\" }}`", m.name, vars[0]),
                );
            }
            if let Some(k) = m.names.keys().find(|k| !vars.contains(k)) {
                return bad(
                    "models.names",
                    format!(
                        "model '{}': '{k}' is not one of the run's variables {vars:?}",
                        m.name
                    ),
                );
            }
        }
        let obs = self.observations.all();
        for o in &obs {
            if let Some(v) = &o.for_variable {
                if !vars.contains(v) {
                    return bad(
                        "observations.for_variable",
                        format!("'{v}' is not one of the run's variables {vars:?}"),
                    );
                }
            }
        }
        if let Some(v) = vars
            .iter()
            .find(|v| self.observations.for_variable(v).is_none())
        {
            return bad(
                "observations",
                format!("no observations for '{v}' (give one without `for_variable`, or one with `for_variable = \"{v}\"`)"),
            );
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
        if !(1..=48).contains(&self.spi_scale) {
            return Err(Error::invalid(
                "configuration",
                format!("spi_scale = {}: give 1 to 48 months", self.spi_scale),
            ));
        }
        for p in &self.periods {
            TargetPeriod::parse(p)
                .map_err(|e| Error::invalid("configuration", format!("periods: {e}")))?;
        }
        if self.countries.is_none() {
            // With a country file of its own the names are checked when it is read.
            self.regions(crate::grid::Countries::bundled())?;
        }
        if let Some(g) = &self.grid {
            g.target()?;
        }
        if let Err(why) = self.issuer.check() {
            return bad("issuer", why);
        }
        if let Some(c) = &self.cyclones {
            let tracks = !c.forecast.is_empty() || !c.hindcast.is_empty();
            let gpi = !c.gpi_forecast.is_empty() || !c.gpi_hindcast.is_empty();
            if !tracks && !gpi {
                return bad(
                    "cyclones",
                    "give daily or 6-hourly fields (forecast, hindcast) or monthly means for the genesis potential (gpi_forecast, gpi_hindcast)".into(),
                );
            }
            if tracks && (c.forecast.is_empty() || c.hindcast.is_empty()) {
                return bad(
                    "cyclones",
                    "both forecast and hindcast field files are needed".into(),
                );
            }
            if gpi && (c.gpi_forecast.is_empty() || c.gpi_hindcast.is_empty()) {
                return bad(
                    "cyclones",
                    "both gpi_forecast and gpi_hindcast files are needed".into(),
                );
            }
            if let Err(e) = crate::cyclone::activity::Season::parse(&c.season) {
                return bad("cyclones.season", e.to_string());
            }
            for b in &c.basins {
                if let Err(e) = crate::cyclone::activity::Basin::by_key(b) {
                    return bad("cyclones.basins", e.to_string());
                }
            }
            if c.observed_tracks.is_some() != c.observed_years.is_some() {
                return bad(
                    "cyclones.observed_tracks",
                    "observed_tracks and observed_years go together".into(),
                );
            }
            if let Err(e) = crate::cyclone::agency::Agency::parse(&c.observed_agency) {
                return bad("cyclones.observed_agency", e.to_string());
            }
            if c.density_deg.is_nan() || c.density_deg <= 0.0 {
                return bad(
                    "cyclones.density_deg",
                    format!("{} must be positive", c.density_deg),
                );
            }
        }
        Ok(())
    }

    /// Every input file the configuration names (as written, relative to the configuration's
    /// folder unless absolute): model hindcasts and forecasts, observations, country
    /// polygons, cyclone fields and observed tracks.
    pub fn input_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .models
            .iter()
            .flat_map(|m| [m.hindcast.clone(), m.forecast.clone()])
            .collect();
        files.extend(self.observations.all().iter().map(|o| o.path.clone()));
        files.extend(self.countries.clone());
        files.extend(self.provinces.clone());
        if let Some(c) = &self.cyclones {
            files.extend(c.forecast.iter().cloned());
            files.extend(c.hindcast.iter().cloned());
            files.extend(c.observed_tracks.clone());
            files.extend(c.gpi_forecast.iter().cloned());
            files.extend(c.gpi_hindcast.iter().cloned());
        }
        if let Some(c) = &self.seaice {
            files.extend(c.hindcast.iter().cloned());
            files.extend(c.forecast.iter().cloned());
            files.push(c.observations.clone());
            files.extend(c.cell_area.clone());
        }
        if let Some(d) = &self.drivers {
            files.extend(d.hindcast.iter().cloned());
            files.extend(d.forecast.iter().cloned());
            files.extend(d.observations.clone());
        }
        for e in &self.extremes {
            files.extend(e.hindcast.iter().cloned());
            files.extend(e.forecast.iter().cloned());
            files.extend(e.observations.iter().cloned());
        }
        files
    }

    /// The run's variables, the headline first.
    pub fn variables(&self) -> Vec<String> {
        match &self.variable {
            Variables::One(v) => vec![v.clone()],
            Variables::More(v) => v.clone(),
        }
    }

    /// The target periods, parsed (empty: the files' leads).
    pub fn target_periods(&self) -> Result<Vec<TargetPeriod>> {
        self.periods
            .iter()
            .map(|p| TargetPeriod::parse(p))
            .collect()
    }

    /// The regions, parsed; country names are looked up in `countries`.
    pub fn regions(&self, countries: &crate::grid::Countries) -> Result<Vec<Region>> {
        if self.regions.is_empty() {
            // A bulletin of no region has no table and no key message: not what was meant.
            return Err(Error::invalid(
                "regions",
                "the list is empty: name at least one region (\"India\", \"south_asia=60,100,5,35\"), or leave the key out for the default regions",
            ));
        }
        self.regions
            .iter()
            .map(|r| Region::parse_with(r, countries))
            .collect()
    }
}

/// How a product lays out its axes other than time, lead and space (category, percentile,
/// model, member, edge source, edge level): see `io::write`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductLayout {
    /// At most `(time, lead, y, x)` per variable, every other axis split into one variable per
    /// label (`probability_below`, `pr_member01`): the layout CDO reads, and the default.
    #[default]
    Cdo,
    /// One variable per quantity with every axis a dimension (`probability(init, category,
    /// lead, lat, lon)`), for xarray users.
    Nd,
}

impl ProductLayout {
    /// Parses `cdo` or `nd`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cdo" => Ok(ProductLayout::Cdo),
            "nd" | "n-d" => Ok(ProductLayout::Nd),
            other => Err(format!(
                "unknown layout '{other}': cdo (one variable per category/member/model, at most (time, lead, lat, lon), the default) or nd (every axis a dimension)"
            )),
        }
    }
}

/// `layout = "cdo"` or `"nd"`, with the parser's message for anything else.
fn layout_from_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ProductLayout>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    ProductLayout::parse(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
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
        assert_eq!(
            c.regions(crate::grid::Countries::bundled()).unwrap().len(),
            3
        );
    }

    #[test]
    fn an_empty_region_list_is_refused() {
        let e = load(&format!("regions = []\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("regions") && e.contains("empty"), "{e}");
    }

    #[test]
    fn product_layout_key() {
        use ProductLayout;
        assert_eq!(load(GOOD).unwrap().layout, None);
        let nd = load(&format!("layout = \"nd\"\n{GOOD}")).unwrap();
        assert_eq!(nd.layout, Some(ProductLayout::Nd));
        let bad = load(&format!("layout = \"5d\"\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("unknown layout '5d'") && bad.contains("cdo"),
            "{bad}"
        );
    }

    #[test]
    fn a_list_of_files_is_one_input_resolved_file_by_file() {
        let c = load(&GOOD.replace(
            "hindcast = \"a_h.nc\"",
            "hindcast = [\"h/a_1993.nc\", \"/data/a_1994.nc\"]",
        ))
        .unwrap();
        let resolved = resolve_path(Path::new("/cfg"), &c.models[0].hindcast);
        assert_eq!(
            list_parts(&resolved).unwrap(),
            vec![
                PathBuf::from("/cfg/h/a_1993.nc"),
                PathBuf::from("/data/a_1994.nc")
            ]
        );
        // One element is the file itself; an empty list is refused with what to give.
        let c = load(&GOOD.replace("hindcast = \"a_h.nc\"", "hindcast = [\"x.nc\"]")).unwrap();
        assert_eq!(c.models[0].hindcast, PathBuf::from("x.nc"));
        let e = load(&GOOD.replace("hindcast = \"a_h.nc\"", "hindcast = []")).unwrap_err();
        assert!(e.to_string().contains("empty list of files"), "{e}");
    }

    #[test]
    fn emergency_section_alone_or_in_a_run_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.toml");
        std::fs::write(
            &p,
            "[emergency]\nlat = 7.0\nlon = 82.5\nstart = \"2020-09-03\"\ncurrents = \"c.nc\"\n",
        )
        .unwrap();
        let e = EmergencyConfig::load(&p).unwrap();
        assert_eq!(
            (e.days, e.particles, e.windage, e.radius_km),
            (30, 2000, 0.03, 300.0)
        );
        std::fs::write(
            &p,
            "[emergency]\nlat = 97.0\nlon = 82.5\nstart = \"2020-09-03\"\ncurrents = \"c.nc\"\n",
        )
        .unwrap();
        assert!(EmergencyConfig::load(&p)
            .unwrap_err()
            .to_string()
            .contains("emergency.lat"));
        std::fs::write(&p, "[emergency]\nlat = 7.0\nlon = 82.5\nstart = \"2020-09-03\"\ncurrents = \"c.nc\"\nparticle = 3\n").unwrap();
        assert!(EmergencyConfig::load(&p)
            .unwrap_err()
            .to_string()
            .contains("particle"));
        let c = load(&format!("{GOOD}\n[emergency]\nlat = 7.0\nlon = 82.5\nstart = \"2020-09-03\"\ncurrents = \"c.nc\"\n")).unwrap();
        assert!(c.emergency.is_some());
    }

    #[test]
    fn cyclones_section() {
        let c = load(&format!(
            "{GOOD}\n[cyclones]\nforecast = [\"f.nc\"]\nhindcast = [\"h1.nc\", \"h2.nc\"]\nseason = \"10-12\"\n"
        ))
        .unwrap();
        let cy = c.cyclones.unwrap();
        assert_eq!(cy.basins.len(), 6);
        assert_eq!(cy.density_deg, 5.0);
        let e = load(&format!(
            "{GOOD}\n[cyclones]\nforecast = [\"f.nc\"]\nhindcast = [\"h.nc\"]\nseason = \"13-2\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("cyclones.season"), "{e}");
        let e = load(&format!(
            "{GOOD}\n[cyclones]\nforecast = [\"f.nc\"]\nhindcast = [\"h.nc\"]\nseason = \"9-11\"\nbasins = [\"atl\"]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("cyclones.basins"), "{e}");
    }

    #[test]
    fn several_variables_with_their_observations() {
        let two = GOOD
            .replace("variable = \"pr\"", "variable = [\"pr\", \"tas\"]")
            .replace(
                "forecast = \"a_f.nc\"",
                "forecast = \"a_f.nc\"\nnames = { tas = \"t2m\" }",
            );
        let c = load(&two).unwrap();
        assert_eq!(c.variables(), ["pr", "tas"]);
        assert_eq!(c.models[0].file_variable("tas"), "t2m");
        assert_eq!(c.models[0].file_variable("pr"), "pr");
        assert_eq!(
            c.observations.for_variable("tas").unwrap().path,
            PathBuf::from("obs.nc")
        );
        // one file per variable
        let per = two.replace(
            "[observations]\npath = \"obs.nc\"\nunits = \"mm/month\"\n",
            "[[observations]]\npath = \"pr.nc\"\nfor_variable = \"pr\"\n[[observations]]\npath = \"tas.nc\"\nfor_variable = \"tas\"\n",
        );
        let c = load(&per).unwrap();
        assert_eq!(
            c.observations.for_variable("tas").unwrap().path,
            PathBuf::from("tas.nc")
        );
        assert_eq!(c.input_files().len(), 4);
        // a variable without observations, a name for an unknown variable
        let e = load(&per.replace("for_variable = \"tas\"", "for_variable = \"pr\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no observations for 'tas'"), "{e}");
        let e = load(&two.replace("tas = \"t2m\"", "tos = \"sst\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("models.names") && e.contains("'tos'"), "{e}");
        let e = load(&two.replace("names = { tas = \"t2m\" }", "variable = \"precip\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("models.variable"), "{e}");
    }

    #[test]
    fn common_grid_section() {
        let c = load(&format!(
            "{GOOD}\n[grid]\nspacing = \"2\"\nbbox = [60, 100, 0, 40]\n"
        ))
        .unwrap();
        let g = c.grid.unwrap().target().unwrap().unwrap();
        assert_eq!((g.lat.len(), g.lon.len()), (20, 20));
        let c = load(&format!("{GOOD}\n[grid]\nmethod = \"bilinear\"\n")).unwrap();
        let g = c.grid.unwrap();
        assert_eq!(g.method, crate::grid::Method::Bilinear);
        assert!(g.target().unwrap().is_none());
        let e = load(&format!("{GOOD}\n[grid]\nspacing = \"-1\"\n")).unwrap_err();
        assert!(e.to_string().contains("grid: "), "{e}");
        let e = load(&format!("{GOOD}\n[grid]\nbbox = [60, 100, 0, 40]\n")).unwrap_err();
        assert!(e.to_string().contains("needs a spacing"), "{e}");
    }

    #[test]
    fn cyclones_from_gpi_fields_alone() {
        let c = load(&format!(
            "{GOOD}\n[cyclones]\ngpi_forecast = [\"g_f.nc\"]\ngpi_hindcast = [\"g_h.nc\"]\nseason = \"9-11\"\n"
        ))
        .unwrap();
        assert!(c.cyclones.unwrap().forecast.is_empty());
        let e = load(&format!(
            "{GOOD}\n[cyclones]\ngpi_forecast = [\"g_f.nc\"]\nseason = \"9-11\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("gpi_hindcast"), "{e}");
        let e = load(&format!("{GOOD}\n[cyclones]\nseason = \"9-11\"\n")).unwrap_err();
        assert!(e.to_string().contains("monthly means"), "{e}");
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
        let e = load(&format!("regions = [\"atlantis\"]\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("atlantis"), "{e}");
        let e = load(&format!("periods = [\"fortnight 1\"]\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("periods: ") && e.contains("unit must be"), "{e}");
        let c = load(&format!("periods = [\"week 1\", \"weeks 3-4\"]\n{GOOD}")).unwrap();
        assert_eq!(c.target_periods().unwrap()[1].to_string(), "weeks 3–4");
    }

    #[test]
    fn strings_for_the_bulletin_are_single_lines() {
        for (key, line) in [
            ("title", "title = \"Outlook\\n![x](/etc/hostname)\""),
            ("institution", "institution = \"A\\rB\""),
            ("regions", "regions = [\"x\\n=60,100,5,35\"]"),
        ] {
            let e = load(&format!("{line}\n{GOOD}")).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("control character"), "{e}");
        }
    }
}
