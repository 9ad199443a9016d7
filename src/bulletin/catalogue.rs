//! The message catalogue of the bulletin: every word the page template, the headlines and the
//! PDF print, per language (`locales/en.toml`, `locales/ru.toml`, compiled in), and dates in
//! each language's form ("5 December 2026", "5 декабря 2026 г.").
//!
//! A message is looked up by `table.key` and its `{name}` placeholders filled from
//! `(name, value)` pairs. The catalogues are plain TOML (one table per part of the page), so a
//! service adds a language by translating one file; a test checks that every catalogue has
//! every key of the English one.

use std::collections::BTreeMap;

use chrono::Datelike;

use crate::error::{Error, Result};

/// The languages a bulletin can be written in (`[issuer] language`).
pub const LANGUAGES: [&str; 2] = ["en", "ru"];

/// The language of a bulletin without `[issuer] language`.
pub const DEFAULT_LANGUAGE: &str = "en";

fn source(language: &str) -> Option<&'static str> {
    match language {
        "en" => Some(include_str!("locales/en.toml")),
        "ru" => Some(include_str!("locales/ru.toml")),
        _ => None,
    }
}

/// The messages of one language.
#[derive(Debug, Clone)]
pub struct Catalogue {
    language: String,
    messages: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
}

impl Catalogue {
    /// The catalogue of `language` (one of [`LANGUAGES`]).
    pub fn new(language: &str) -> Result<Catalogue> {
        let bad = |why: String| Error::invalid("bulletin language", why);
        let text = source(language).ok_or_else(|| {
            bad(format!(
                "{language:?} has no message catalogue; give one of {LANGUAGES:?}"
            ))
        })?;
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| bad(format!("the {language} catalogue does not parse: {e}")))?;
        let mut messages = BTreeMap::new();
        let mut lists = BTreeMap::new();
        for (section, entries) in &table {
            let Some(entries) = entries.as_table() else {
                continue;
            };
            for (key, value) in entries {
                let name = format!("{section}.{key}");
                match value {
                    toml::Value::String(s) => {
                        messages.insert(name, s.clone());
                    }
                    toml::Value::Array(a) => {
                        let items = a
                            .iter()
                            .map(|v| v.as_str().unwrap_or_default().to_string())
                            .collect();
                        lists.insert(name, items);
                    }
                    _ => {}
                }
            }
        }
        Ok(Catalogue {
            language: language.to_string(),
            messages,
            lists,
        })
    }

    /// The English catalogue: what the standalone subcommands write their reports and
    /// pictures in.
    pub fn english() -> Result<Catalogue> {
        Catalogue::new(DEFAULT_LANGUAGE)
    }

    /// The language code (`en`).
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The message `key` (`"page.issued"`) with its `{name}` placeholders filled; a key the
    /// catalogue lacks is returned as itself (a test keeps the catalogues complete).
    pub fn text(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self
            .messages
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The message `key` without placeholders, or `fallback()` when the catalogue has none
    /// (a name it does not translate: a user's region, a country it does not list).
    pub fn text_or(&self, key: &str, fallback: impl FnOnce() -> String) -> String {
        self.messages.get(key).cloned().unwrap_or_else(fallback)
    }

    /// Whether the catalogue has the message `key`.
    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }

    /// Every message key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages
            .keys()
            .chain(self.lists.keys())
            .map(|k| k.as_str())
    }

    /// `date` in the language's long form.
    pub fn date(&self, date: chrono::NaiveDate) -> String {
        let month = self
            .lists
            .get("months.names")
            .and_then(|m| m.get(date.month0() as usize))
            .cloned()
            .unwrap_or_else(|| date.month().to_string());
        self.text(
            "months.date",
            &[
                ("day", &date.day().to_string()),
                ("month", &month),
                ("year", &date.year().to_string()),
            ],
        )
    }

    /// The name of `month` (1–12) standing alone, as a title names it ("September",
    /// "сентябрь").
    pub fn month(&self, month: u32) -> String {
        let k = (month.clamp(1, 12) - 1) as usize;
        self.lists
            .get("months.standalone")
            .and_then(|m| m.get(k))
            .cloned()
            .unwrap_or_else(|| month.to_string())
    }

    /// A period label of the engine ("Oct–Dec 2021", "Nov 2021–Jan 2022") with its English
    /// month abbreviations replaced by the language's.
    pub fn period(&self, label: &str) -> String {
        let Some(own) = self.lists.get("months.short") else {
            return label.to_string();
        };
        let en = &ENGLISH_MONTHS;
        let mut out = String::new();
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            match en.iter().position(|m| *m == word.as_str()) {
                Some(i) => out.push_str(own.get(i).map(String::as_str).unwrap_or(word)),
                None => out.push_str(word),
            }
            word.clear();
        };
        for c in label.chars() {
            if c.is_alphabetic() {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// `x` with `decimals` digits after the language's decimal separator ("0.25", "0,25").
    pub fn number(&self, x: f64, decimals: usize) -> String {
        let text = format!("{x:.decimals$}");
        match self.messages.get("numbers.decimal") {
            Some(sep) if sep != "." => text.replace('.', sep),
            _ => text,
        }
    }

    /// `x` as [`Catalogue::number`] with its sign always written ("+0,3", "−1,2").
    pub fn signed(&self, x: f64, decimals: usize) -> String {
        if x >= 0.0 {
            format!("+{}", self.number(x, decimals))
        } else {
            self.number(x, decimals)
        }
    }

    /// A lead label of the engine ("month 1", "months 2–4", "weeks 3–4", "days 1–5") with
    /// its unit in the language.
    pub fn lead(&self, label: &str) -> String {
        label
            .split(' ')
            .map(|w| self.text_or(&format!("lead.{w}"), || w.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A region's name: the catalogue's (`region.south_asia`) or the name as a reader writes
    /// it ([`super::display_name`]).
    pub fn region(&self, name: &str) -> String {
        self.text_or(&format!("region.{}", name.to_lowercase()), || {
            super::display_name(name)
        })
    }

    /// The names of the three tercile categories in a map's key (below, near, above normal).
    pub fn tercile_names(&self) -> [String; 3] {
        ["legend.below", "legend.near", "legend.above"].map(|k| self.text(k, &[]))
    }

    /// The second row of a tercile map's key ([`super::TercileMap::notes`]): no dominant
    /// category, no data, no skill hatched, no skill hidden.
    pub fn map_notes(&self) -> [String; 4] {
        [
            "legend.no_category",
            "legend.no_data",
            "legend.no_skill",
            "legend.no_skill_hidden",
        ]
        .map(|k| self.text(k, &[]))
    }

    /// A cyclone basin's name in the language: the catalogue's by its key (`basin.bob`),
    /// else `name`.
    pub fn basin(&self, key: &str, name: &str) -> String {
        self.text_or(&format!("basin.{key}"), || name.to_string())
    }

    /// A country's name in the language: the catalogue's by its ISO 3166-1 alpha-3 code
    /// (`country.KAZ`), else `name` as the polygons give it (Natural Earth's English).
    pub fn country(&self, name: &str, iso_a3: &str) -> String {
        self.text_or(&format!("country.{iso_a3}"), || name.to_string())
    }

    /// A quantity's name ("rainfall") in the language; unknown ones as given.
    pub fn quantity(&self, what: &str) -> String {
        self.text_or(&format!("quantity.{what}"), || what.to_string())
    }
}

/// The month abbreviations the engine's period labels use.
const ENGLISH_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_english_key() {
        let en = Catalogue::new("en").unwrap();
        for lang in LANGUAGES {
            let c = Catalogue::new(lang).unwrap();
            for k in en.keys() {
                assert!(
                    c.messages.contains_key(k) || c.lists.contains_key(k),
                    "{lang} lacks {k}"
                );
            }
            assert_eq!(c.lists["months.names"].len(), 12, "{lang}");
            assert_eq!(c.lists["months.short"].len(), 12, "{lang}");
            assert_eq!(c.lists["months.standalone"].len(), 12, "{lang}");
        }
        assert!(Catalogue::new("xx").is_err());
    }

    #[test]
    fn dates_periods_and_placeholders_per_language() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let en = Catalogue::new("en").unwrap();
        let ru = Catalogue::new("ru").unwrap();
        assert_eq!(en.date(d), "5 December 2026");
        assert_eq!(ru.date(d), "5 декабря 2026 г.");
        assert_eq!(ru.period("Nov 2021–Jan 2022"), "ноя 2021–янв 2022");
        assert_eq!(en.period("Oct–Dec 2021"), "Oct–Dec 2021");
        assert_eq!(en.text("page.page", &[("n", "3")]), "Page 3");
        assert_eq!(ru.region("central_asia"), "Центральная Азия");
        assert_eq!(ru.region("india"), "India");
        assert_eq!(ru.quantity("rainfall"), "осадки");
        assert_eq!(
            (en.number(0.254, 2), ru.number(0.254, 2)),
            ("0.25".into(), "0,25".into())
        );
        assert_eq!(
            (en.signed(0.3, 1), ru.signed(-1.25, 1)),
            ("+0.3".into(), "-1,2".into())
        );
        assert_eq!(ru.lead("months 2–4"), "месяцы 2–4");
        assert_eq!(ru.country("Kazakhstan", "KAZ"), "Казахстан");
        assert_eq!(en.country("Kazakhstan", "KAZ"), "Kazakhstan");
        assert_eq!(en.lead("week 1"), "week 1");
    }
}
