//! Physical units of the variables the engine works on, and conversion to its canonical units.
//!
//! # What it computes
//! Inside the engine precipitation is a rate in **mm/day** and temperature is in **°C**
//! (`degC`); every other quantity keeps the units of its file. [`Quantity::detect`] decides
//! what a variable is from its CF `standard_name`, its name and its `long_name`;
//! [`Conversion::to_canonical`] turns a `units` string into `canonical = factor · x + offset`,
//! where a factor may depend on the length of the time period a value stands for.
//!
//! # Formula
//! | units in the file | to canonical |
//! |---|---|
//! | `kg m-2 s-1`, `mm s-1` (flux) | × 86 400 |
//! | `m s-1` (C3S `tprate`) | × 86 400 000 |
//! | `mm/day`, `mm d-1`, `kg m-2 day-1` | × 1 |
//! | `m/day` | × 1000 |
//! | `mm/month` | ÷ days in the month of the value (mean month 30.436875 d for longer periods) |
//! | amounts `mm`, `kg m-2`, `m` (ECMWF `tp`) | × (1 or 1000) ÷ days in the period the value covers |
//! | `K` | − 273.15 |
//! | `degC`, `Celsius`, … | × 1 |
//!
//! An *amount* covers the time step of the file (a day for daily files, the month for monthly
//! ones, the lead period for forecasts). Accumulations since the forecast start (ECMWF S2S `tp`)
//! are de-accumulated by the reader before this conversion. A value stamped once a year (a
//! JJAS total) covers a season, not the year of its stamp: the season's days when the time
//! bounds or the user ([`crate::calendar::Season`]) say which, else the length of the forecast
//! target it is matched with ([`crate::cube::ProvisionalDivisor`]).
//!
//! Units come from, in order: the caller's explicit units, the user's table
//! ([`AssumedUnits`]: `--assume-units VAR=UNITS`, a configuration's `units`), the `units`
//! attribute, then units written at the end of `long_name` ([`units_in_long_name`]).
//!
//! # Missing data and checks
//! After conversion, [`Quantity::plausible_range`] bounds what the values may be
//! (precipitation −1 … 2000 mm/day, temperature −100 … 70 °C): values outside mean the units
//! attribute is wrong, and the reader refuses the file instead of producing nonsense. The small
//! negative floor for precipitation lets real gridded analyses through (IMD's gridded rainfall has
//! a few cells down to −0.8 mm/day); a precipitation field whose largest value is below
//! [`Quantity::IMPLAUSIBLY_DRY_MM_DAY`] is a flux in kg m⁻² s⁻¹ or m s⁻¹ labelled as mm/day, and
//! one whose median is above [`Quantity::IMPLAUSIBLY_WET_MEDIAN_MM_DAY`] is another quantity
//! (a temperature in K, a total over a season) or a unit error (mm/hour or cm labelled mm/day).
//!
//! # References
//! CF conventions 1.8 §3.1 (units, udunits syntax); CF standard-name table
//! (`precipitation_flux`, `lwe_precipitation_rate`, `air_temperature`).

use serde::{Deserialize, Serialize};

/// Days in the mean Gregorian month, used for `mm/month` when a value covers more than a month.
pub const MEAN_MONTH_DAYS: f64 = 365.2425 / 12.0;
/// 0 °C in kelvin.
pub const ZERO_CELSIUS_K: f64 = 273.15;

/// What a variable measures, as far as units handling is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Precipitation (rate or amount); canonical units mm/day.
    Precipitation,
    /// Air, surface or sea-surface temperature; canonical units degC.
    Temperature,
    /// Anything else: kept in the units of the file.
    Other,
}

const PRECIP_NAMES: &[&str] = &[
    "pr",
    "prec",
    "precip",
    "precipitation",
    "tp",
    "tprate",
    "rf",
    "rain",
    "rainfall",
    "prcp",
    "ppt",
    "rr",
    "precipitation_rate",
    "pre",
    "apcp",
];
const TEMP_NAMES: &[&str] = &[
    "tas", "t2m", "tasmax", "tasmin", "tmax", "tmin", "temp", "t2", "2t", "mx2t", "mn2t", "sst",
    "tos", "ts", "tavg", "tmean", "air", "t2max", "t2min",
];

impl Quantity {
    /// Detects the quantity from CF metadata: `standard_name` first, then the variable name,
    /// then words in `long_name`.
    pub fn detect(name: &str, standard_name: Option<&str>, long_name: Option<&str>) -> Self {
        let lname = name.to_ascii_lowercase();
        let sname = standard_name.unwrap_or("").to_ascii_lowercase();
        // Masks and quality flags describe a quantity but are not one; an anomaly is a
        // difference (negative values, no plausible range of the quantity itself); an index
        // (the Standardized Precipitation Index) is dimensionless.
        let long = long_name.unwrap_or("").to_ascii_lowercase();
        if ["flag", "mask"]
            .iter()
            .any(|w| lname.contains(w) || sname.contains(w))
            || ["anomaly", "anomalies", "index"]
                .iter()
                .any(|w| lname.contains(w) || sname.contains(w) || long.contains(w))
        {
            return Quantity::Other;
        }
        if let Some(sn) = standard_name.map(str::to_ascii_lowercase) {
            // "lwe_pecipitation_rate" (sic) occurs in IRI NMME files.
            if sn.contains("precipitation") || sn.contains("pecipitation") {
                return Quantity::Precipitation;
            }
            if sn.ends_with("temperature") {
                return Quantity::Temperature;
            }
        }
        let n = name.to_ascii_lowercase();
        if PRECIP_NAMES.contains(&n.as_str()) {
            return Quantity::Precipitation;
        }
        if TEMP_NAMES.contains(&n.as_str()) {
            return Quantity::Temperature;
        }
        if let Some(ln) = long_name.map(str::to_ascii_lowercase) {
            if ln.contains("precip") || ln.contains("rainfall") {
                return Quantity::Precipitation;
            }
            if ln.contains("temperature") {
                return Quantity::Temperature;
            }
        }
        Quantity::Other
    }

    /// The units the engine stores this quantity in; `None` for [`Quantity::Other`].
    pub fn canonical_units(self) -> Option<&'static str> {
        match self {
            Quantity::Precipitation => Some("mm/day"),
            Quantity::Temperature => Some("degC"),
            Quantity::Other => None,
        }
    }

    /// Largest value (mm/day) below which a whole precipitation field (of at least 100 values)
    /// is taken to be in the wrong units.
    pub const IMPLAUSIBLY_DRY_MM_DAY: f64 = 0.01;

    /// Median (mm/day) above which a whole precipitation field (of at least 100 values) is
    /// taken to be in the wrong units: the wettest months on Earth (Cherrapunji, July) average
    /// ~30 mm/day and most of any field is far drier, while a temperature in K labelled as
    /// mm/day has a median near 290.
    pub const IMPLAUSIBLY_WET_MEDIAN_MM_DAY: f64 = 50.0;

    /// The range plausible values fall into, in canonical units.
    pub fn plausible_range(self) -> Option<(f64, f64)> {
        match self {
            Quantity::Precipitation => Some((-1.0, 2000.0)),
            Quantity::Temperature => Some((-100.0, 70.0)),
            Quantity::Other => None,
        }
    }
}

/// How a stored value becomes a canonical one: `factor · x / period_days^p + offset`, where
/// `p` is 1 when the value is an amount (or a per-month rate) over its time period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// Multiplier.
    pub factor: f64,
    /// Added after multiplying.
    pub offset: f64,
    /// The value covers a period and is divided by its length in days.
    pub per_period: PeriodDivisor,
}

/// Whether and how a conversion divides by the length of the period a value covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodDivisor {
    /// A rate: nothing to divide.
    None,
    /// An amount over the value's time period (day, month, lead period).
    PeriodDays,
    /// A per-month rate (`mm/month`): divided by the days of the calendar month of the value,
    /// or by [`MEAN_MONTH_DAYS`] per month when the period is not one calendar month.
    MonthDays,
}

impl Conversion {
    /// The identity.
    pub const IDENTITY: Conversion = Conversion {
        factor: 1.0,
        offset: 0.0,
        per_period: PeriodDivisor::None,
    };

    /// Whether applying it changes nothing.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// The conversion of `units` to the canonical units of `quantity`, or a sentence saying why
    /// there is none (for the caller to put file and variable in front of).
    pub fn to_canonical(quantity: Quantity, units: &str) -> Result<Conversion, String> {
        let key = normalise(units);
        let c = |factor, per_period| Conversion {
            factor,
            offset: 0.0,
            per_period,
        };
        match quantity {
            Quantity::Other => Ok(Self::IDENTITY),
            Quantity::Precipitation => match key.as_str() {
                "kg m-2 s-1" | "mm s-1" | "kg m-2 sec-1" => Ok(c(86_400.0, PeriodDivisor::None)),
                "m s-1" => Ok(c(86_400_000.0, PeriodDivisor::None)),
                "mm day-1" | "mm d-1" | "kg m-2 day-1" | "kg m-2 d-1" | "millimeter day-1"
                | "millimeters day-1" | "mm per day" | "mm 24h-1" => {
                    Ok(c(1.0, PeriodDivisor::None))
                }
                "m day-1" | "m d-1" => Ok(c(1000.0, PeriodDivisor::None)),
                "cm day-1" => Ok(c(10.0, PeriodDivisor::None)),
                "mm month-1" | "mm mon-1" | "kg m-2 month-1" | "mm per month" => {
                    Ok(c(1.0, PeriodDivisor::MonthDays))
                }
                "mm" | "kg m-2" | "millimeter" | "millimeters" => {
                    Ok(c(1.0, PeriodDivisor::PeriodDays))
                }
                "m" | "meter" | "metre" | "meters" | "metres" => {
                    Ok(c(1000.0, PeriodDivisor::PeriodDays))
                }
                "" | "1" | "unitless" | "none" | "-" | "dimensionless" => Err(format!(
                    "looks like precipitation but has no usable units ('{units}'); \
                     pass --assume-units with the real units (e.g. mm/day, mm/month, kg m-2 s-1)"
                )),
                _ => Err(format!(
                    "units '{units}' are not a precipitation unit this tool knows \
                     (kg m-2 s-1, m s-1, mm/day, m/day, mm/month, mm, m); \
                     if they are right, pass --assume-units with an equivalent"
                )),
            },
            Quantity::Temperature => match key.as_str() {
                "k" | "kelvin" | "degk" | "deg_k" | "degrees_k" | "degree_k" | "kelvins" => {
                    Ok(Conversion {
                        factor: 1.0,
                        offset: -ZERO_CELSIUS_K,
                        per_period: PeriodDivisor::None,
                    })
                }
                "degc" | "deg_c" | "degrees_c" | "degree_c" | "celsius" | "degree_celsius"
                | "degrees_celsius" | "°c" | "c" | "deg c" | "degrees c" | "oc"
                | "celsius_scale" => Ok(Self::IDENTITY),
                "" | "1" | "unitless" | "none" | "-" => Err(format!(
                    "looks like a temperature but has no usable units ('{units}'); \
                     pass --assume-units K or --assume-units degC"
                )),
                _ => Err(format!(
                    "units '{units}' are not a temperature unit (K, degC); \
                     if the variable is not a temperature, say which variable to read"
                )),
            },
        }
    }

    /// Divisor for one value covering `period_days` days; `months` is how many calendar months
    /// the period spans when it is a whole number of them (else `None`).
    pub fn period_divisor(&self, period_days: f64, months: Option<f64>) -> f64 {
        match self.per_period {
            PeriodDivisor::None => 1.0,
            PeriodDivisor::PeriodDays => period_days,
            PeriodDivisor::MonthDays => match months {
                // A one-month value: that month's own length; a several-month mean of
                // monthly rates: the mean month length of its months.
                Some(m) if m >= 1.0 => period_days / m,
                _ => MEAN_MONTH_DAYS,
            },
        }
    }

    /// Applies the conversion to one value covering `period_days` days.
    #[inline]
    pub fn apply(&self, x: f32, divisor: f64) -> f32 {
        (f64::from(x) * self.factor / divisor + self.offset) as f32
    }
}

/// Folds the spellings of udunits strings into one form: lower case, `**`/`^` exponents dropped,
/// `/x` turned into `x-1`, `.` and `*` as spaces, single spaces.
pub fn normalise(units: &str) -> String {
    let mut s = units.trim().to_ascii_lowercase();
    for (from, to) in [("**", ""), ("^", ""), ("*", " "), ("·", " ")] {
        s = s.replace(from, to);
    }
    // "kg.m-2.s-1" → "kg m-2 s-1" (a '.' between letters/digits and letters, not a decimal point)
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &ch) in chars.iter().enumerate() {
        let next_is_alpha = chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic());
        if ch == '.' && next_is_alpha {
            out.push(' ');
        } else {
            out.push(ch);
        }
    }
    // "mm/day" → "mm day-1"; "kg/m2/s" → "kg m-2 s-1"
    let mut parts = out.split('/');
    let mut norm = parts.next().unwrap_or("").trim().to_string();
    for p in parts {
        for tok in p.split_whitespace() {
            let (base, exp) = split_exponent(tok);
            norm.push(' ');
            norm.push_str(base);
            norm.push('-');
            norm.push_str(if exp.is_empty() { "1" } else { exp });
        }
    }
    norm.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Standard gravity (m s⁻²), to turn geopotential height (m) into geopotential (m² s⁻²).
pub const STANDARD_GRAVITY: f64 = 9.80665;

/// Factor from `units` to pascals (`Pa`, `hPa`, `mbar`/`millibars`, `kPa`, `bar`); `None`
/// for anything else.
pub fn pressure_to_pa(units: &str) -> Option<f64> {
    Some(match normalise(units).as_str() {
        "pa" | "pascal" | "pascals" | "n m-2" | "kg m-1 s-2" => 1.0,
        "hpa" | "mbar" | "mb" | "millibar" | "millibars" | "hectopascal" | "hectopascals" => 100.0,
        "kpa" => 1000.0,
        "bar" | "bars" => 100_000.0,
        _ => return None,
    })
}

/// Metres per second in one knot (one nautical mile, 1852 m, per hour).
pub const M_S_PER_KNOT: f64 = 1852.0 / 3600.0;

/// Factor from `units` to m/s (`m s-1`, `m/s`, `km/h`, `knots`); `None` for anything else.
pub fn speed_to_m_s(units: &str) -> Option<f64> {
    Some(match normalise(units).as_str() {
        "m s-1" | "meter second-1" | "meters second-1" | "metre second-1" | "mps" => 1.0,
        "cm s-1" => 0.01,
        "km h-1" | "km hr-1" | "kph" => 1.0 / 3.6,
        "knot" | "knots" | "kt" | "kts" | "kn" => M_S_PER_KNOT,
        _ => return None,
    })
}

/// Factor from `units` to geopotential (m² s⁻²): 1 for `m2 s-2`, standard gravity for a
/// geopotential height in `m` (or `gpm`); `None` for anything else.
pub fn geopotential_to_m2_s2(units: &str) -> Option<f64> {
    Some(match normalise(units).as_str() {
        "m2 s-2" | "j kg-1" => 1.0,
        "m" | "gpm" | "meter" | "meters" | "metre" | "metres" => STANDARD_GRAVITY,
        "dam" | "gpdam" => 10.0 * STANDARD_GRAVITY,
        _ => return None,
    })
}

/// Units the user gives for variables whose files have none or wrong ones: the global
/// `--assume-units [VAR=]UNITS` (repeatable) and the configuration's `units = { VAR = "…" }`.
///
/// A `VAR=UNITS` entry applies to the variable of that name in any file (and to the `pr`/`tas`
/// asked for by alias); a bare `UNITS` to every variable read without an entry of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssumedUnits {
    /// Units by variable name.
    pub by_variable: std::collections::BTreeMap<String, String>,
    /// Units for every other variable.
    pub any: Option<String>,
}

impl AssumedUnits {
    /// Parses one `--assume-units` value: `VAR=UNITS` or `UNITS`.
    pub fn parse_entry(text: &str) -> Result<(Option<String>, String), String> {
        let (var, units) = match text.split_once('=') {
            Some((v, u)) => (Some(v.trim().to_string()), u.trim()),
            None => (None, text.trim()),
        };
        if units.is_empty() || var.as_deref() == Some("") {
            return Err(format!(
                "'{text}': expected VAR=UNITS (e.g. pr=mm/month, uo=m/s) or UNITS"
            ));
        }
        Ok((var, units.to_string()))
    }

    /// The table of several `--assume-units` values; a later entry for a variable wins.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut t = AssumedUnits::default();
        for e in entries {
            let (var, units) = Self::parse_entry(e)?;
            t.insert(var, units);
        }
        Ok(t)
    }

    /// Adds one parsed entry ([`AssumedUnits::parse_entry`]): units for a variable, or for
    /// every variable (`None`); it replaces an earlier one for the same.
    pub fn insert(&mut self, variable: Option<String>, units: String) {
        match variable {
            Some(v) => {
                self.by_variable.insert(v, units);
            }
            None => self.any = Some(units),
        }
    }

    /// Units assumed for the variable `name`.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        self.by_variable
            .get(name)
            .or(self.any.as_ref())
            .map(String::as_str)
    }

    /// Adds the entries of `defaults` that this table has none for (a command line over a
    /// configuration file).
    pub fn fill_from(&mut self, defaults: &AssumedUnits) {
        for (v, u) in &defaults.by_variable {
            self.by_variable
                .entry(v.clone())
                .or_insert_with(|| u.clone());
        }
        if self.any.is_none() {
            self.any = defaults.any.clone();
        }
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.by_variable.is_empty() && self.any.is_none()
    }
}

/// Units written in a `long_name` rather than in `units`, as some ocean-model and station
/// files do: the text of a final `(…)` or `[…]` when it parses as units this crate knows
/// (a speed, a pressure, a precipitation or temperature unit). `"eastward_sea_water_velocity
/// (m/s)"` → `m/s`; `"Niño 3.4 (region)"` → none.
pub fn units_in_long_name(long_name: &str) -> Option<String> {
    let t = long_name.trim_end();
    let (open, close) = match t.chars().last()? {
        ')' => ('(', ')'),
        ']' => ('[', ']'),
        _ => return None,
    };
    let start = t.rfind(open)?;
    let inner = t[start + open.len_utf8()..t.len() - close.len_utf8()].trim();
    if inner.is_empty() {
        return None;
    }
    let known = speed_to_m_s(inner).is_some()
        || pressure_to_pa(inner).is_some()
        || geopotential_to_m2_s2(inner).is_some()
        || Conversion::to_canonical(Quantity::Precipitation, inner).is_ok()
        || Conversion::to_canonical(Quantity::Temperature, inner).is_ok();
    known.then(|| inner.to_string())
}

fn split_exponent(tok: &str) -> (&str, &str) {
    let pos = tok.find(|c: char| c.is_ascii_digit()).unwrap_or(tok.len());
    (&tok[..pos], &tok[pos..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_udunits_spellings() {
        for s in [
            "kg m-2 s-1",
            "kg/m2/s",
            "kg m**-2 s**-1",
            "kg.m-2.s-1",
            "KG M^-2 S^-1",
        ] {
            assert_eq!(normalise(s), "kg m-2 s-1", "{s}");
        }
        assert_eq!(normalise("mm/day"), "mm day-1");
        assert_eq!(normalise("mm day-1"), "mm day-1");
        assert_eq!(normalise("m s**-1"), "m s-1");
        assert_eq!(normalise("mm/month"), "mm month-1");
    }

    #[test]
    fn detects_quantities() {
        use Quantity::*;
        assert_eq!(
            Quantity::detect("prec", Some("lwe_pecipitation_rate"), None),
            Precipitation
        );
        assert_eq!(
            Quantity::detect("rf", None, Some("GRIDDED RAINFALL\r")),
            Precipitation
        );
        assert_eq!(
            Quantity::detect("x", None, Some("Total Precipitation")),
            Precipitation
        );
        assert_eq!(
            Quantity::detect("tasmax", Some("air_temperature"), None),
            Temperature
        );
        assert_eq!(Quantity::detect("SST", None, None), Temperature);
        assert_eq!(Quantity::detect("RMM1", None, Some("RMM1")), Other);
        assert_eq!(
            Quantity::detect("dataflag", None, Some("dataflag[GRIDDED RAINFALL]")),
            Other
        );
        assert_eq!(Quantity::detect("sst", None, None), Temperature);
    }

    #[test]
    fn converts_precipitation_to_mm_per_day() {
        let p = Quantity::Precipitation;
        let flux = Conversion::to_canonical(p, "kg m-2 s-1").unwrap();
        assert!((flux.apply(1.0 / 86_400.0, 1.0) - 1.0).abs() < 1e-6);
        let tprate = Conversion::to_canonical(p, "m s**-1").unwrap();
        assert!((tprate.apply(2.0e-8, 1.0) - 1.728).abs() < 1e-5);
        let monthly = Conversion::to_canonical(p, "mm/month").unwrap();
        // 310 mm in a 31-day month = 10 mm/day
        let div = monthly.period_divisor(31.0, Some(1.0));
        assert_eq!(monthly.apply(310.0, div), 10.0);
        // JJAS mean of monthly totals: mean month length of its four months (122/4 d).
        let div = monthly.period_divisor(122.0, Some(4.0));
        assert_eq!(monthly.apply(305.0, div), 10.0);
        let tp = Conversion::to_canonical(p, "m").unwrap();
        // 0.07 m over a 7-day week = 10 mm/day
        assert!((tp.apply(0.07, tp.period_divisor(7.0, None)) - 10.0).abs() < 1e-5);
        let cpc = Conversion::to_canonical(p, "mm").unwrap();
        assert_eq!(cpc.apply(4.5, cpc.period_divisor(1.0, None)), 4.5);
    }

    #[test]
    fn converts_temperature_to_celsius() {
        let k = Conversion::to_canonical(Quantity::Temperature, "K").unwrap();
        assert!((k.apply(300.0, 1.0) - 26.85).abs() < 1e-4);
        let c = Conversion::to_canonical(Quantity::Temperature, "degC").unwrap();
        assert!(c.is_identity());
        assert!(
            Conversion::to_canonical(Quantity::Temperature, "degrees_Celsius")
                .unwrap()
                .is_identity()
        );
    }

    #[test]
    fn refuses_missing_and_wrong_units_with_a_hint() {
        let e = Conversion::to_canonical(Quantity::Precipitation, "unitless").unwrap_err();
        assert!(e.contains("--assume-units"), "{e}");
        let e = Conversion::to_canonical(Quantity::Precipitation, "K").unwrap_err();
        assert!(e.contains("not a precipitation unit"), "{e}");
        let e = Conversion::to_canonical(Quantity::Temperature, "mm/day").unwrap_err();
        assert!(e.contains("not a temperature unit"), "{e}");
        assert!(Conversion::to_canonical(Quantity::Other, "unitless")
            .unwrap()
            .is_identity());
    }

    #[test]
    fn pressure_speed_and_geopotential_factors() {
        assert_eq!(pressure_to_pa("Pa"), Some(1.0));
        assert_eq!(pressure_to_pa("hPa"), Some(100.0));
        assert_eq!(pressure_to_pa("millibars"), Some(100.0));
        assert_eq!(pressure_to_pa("K"), None);
        assert_eq!(speed_to_m_s("m s**-1"), Some(1.0));
        assert_eq!(speed_to_m_s("m/s"), Some(1.0));
        assert!((speed_to_m_s("knots").unwrap() - 0.514_444).abs() < 1e-6);
        assert_eq!(speed_to_m_s("km/h"), Some(1.0 / 3.6));
        assert_eq!(geopotential_to_m2_s2("m2 s-2"), Some(1.0));
        assert_eq!(geopotential_to_m2_s2("m**2 s**-2"), Some(1.0));
        assert_eq!(geopotential_to_m2_s2("m"), Some(STANDARD_GRAVITY));
        assert_eq!(geopotential_to_m2_s2("mm/day"), None);
    }
    #[test]
    fn assumed_units_table() {
        let t = AssumedUnits::from_entries(["pr=mm/month", "K", "uo = m/s"]).unwrap();
        assert_eq!(t.lookup("pr"), Some("mm/month"));
        assert_eq!(t.lookup("uo"), Some("m/s"));
        assert_eq!(t.lookup("t2m"), Some("K"));
        assert!(AssumedUnits::parse_entry("pr=").is_err());
        assert!(AssumedUnits::parse_entry("=mm").is_err());
        let mut cli = AssumedUnits::from_entries(["pr=mm/day"]).unwrap();
        cli.fill_from(&AssumedUnits::from_entries(["pr=mm/month", "tas=K"]).unwrap());
        assert_eq!(cli.lookup("pr"), Some("mm/day"));
        assert_eq!(cli.lookup("tas"), Some("K"));
        assert_eq!(cli.lookup("x"), None);
    }

    #[test]
    fn units_found_in_long_names() {
        assert_eq!(
            units_in_long_name("eastward_sea_water_velocity (m/s)").as_deref(),
            Some("m/s")
        );
        assert_eq!(
            units_in_long_name("Rainfall [mm/day]").as_deref(),
            Some("mm/day")
        );
        assert_eq!(
            units_in_long_name("2 m temperature (K)").as_deref(),
            Some("K")
        );
        assert_eq!(units_in_long_name("Nino 3.4 (region)"), None);
        assert_eq!(units_in_long_name("velocity"), None);
        assert_eq!(units_in_long_name("()"), None);
    }
}
