//! The front of a bulletin: who issues it, when, for which period, the headlines, and the
//! disclaimer and credits it closes with — the same facts in `bulletin.md`, the page, the PDF
//! and `bulletin.json`.
//!
//! Dates: the issue date (configured, default the day of the run), the start the forecasts
//! were initialised from, the valid period of every lead and the next update (configured,
//! default [`NEXT_UPDATE_WEEKS`] after the issue date for weekly periods,
//! [`NEXT_UPDATE_MONTHS`] after it otherwise).

use chrono::NaiveDate;
use serde::Serialize;

use super::catalogue::Catalogue;
use super::headlines::Headline;

/// The next subseasonal (weekly) bulletin: one week on, the usual cadence of extended-range
/// outlooks issued from twice-weekly starts.
pub const NEXT_UPDATE_WEEKS: u64 = 1;

/// The next seasonal bulletin: one month on, the cadence of C3S, NMME and RCOF updates.
pub const NEXT_UPDATE_MONTHS: u32 = 1;

/// The default next update after `issued`: a week on for weekly periods, a month on otherwise.
pub fn default_next_update(issued: NaiveDate, weekly: bool) -> NaiveDate {
    if weekly {
        issued + chrono::Days::new(7 * NEXT_UPDATE_WEEKS)
    } else {
        issued
            .checked_add_months(chrono::Months::new(NEXT_UPDATE_MONTHS))
            .unwrap_or(issued)
    }
}

/// The front of one bulletin.
#[derive(Debug, Clone, Serialize)]
pub struct Front {
    /// The configured title, as given.
    pub title: String,
    /// What and where ("Rainfall and temperature outlook — South Asia").
    pub subtitle: String,
    /// The issuing institution.
    pub institution: Option<String>,
    /// The institution's logo (PNG bytes).
    #[serde(skip)]
    pub logo_png: Option<Vec<u8>>,
    /// How to reach the issuer.
    pub contact: Option<String>,
    /// The disclaimer.
    pub disclaimer: String,
    /// `(dataset, credit)` lines.
    pub credits: Vec<(String, String)>,
    /// Language code.
    pub language: String,
    /// Issue date.
    pub issued: NaiveDate,
    /// The forecasts' start ("2021-09-01").
    pub initialised: String,
    /// `(lead, target period)` of every lead.
    pub valid: Vec<(String, String)>,
    /// The next bulletin.
    pub next_update: NaiveDate,
    /// When the run made it (UTC, `YYYY-MM-DD HH:MM UTC`).
    pub produced: String,
    /// The headlines, strongest first.
    pub headlines: Vec<Headline>,
}

impl Front {
    /// The dates block as `(label, value)` pairs in the bulletin's language.
    pub fn dates(&self, cat: &Catalogue) -> Vec<(String, String)> {
        let valid = self
            .valid
            .iter()
            .map(|(lead, target)| format!("{}: {}", cat.lead(lead), cat.period(target)))
            .collect::<Vec<_>>()
            .join("; ");
        let mut out = vec![(cat.text("page.issued", &[]), cat.date(self.issued))];
        if !self.initialised.is_empty() {
            out.push((cat.text("page.initialised", &[]), self.initialised.clone()));
        }
        if !valid.is_empty() {
            out.push((cat.text("page.valid", &[]), valid));
        }
        out.push((
            cat.text("page.next_update", &[]),
            cat.date(self.next_update),
        ));
        out
    }

    /// The line that says when and with what the bulletin was made.
    pub fn produced_line(&self, cat: &Catalogue) -> String {
        cat.text(
            "page.produced",
            &[
                ("when", &self.produced),
                ("version", env!("CARGO_PKG_VERSION")),
            ],
        )
    }

    /// The front as Markdown, for `bulletin.md`: title, issuer, dates, headlines.
    pub fn markdown(&self, cat: &Catalogue) -> String {
        let mut s = format!("# {}\n\n", markdown_text(&self.title));
        if !self.subtitle.is_empty() {
            s.push_str(&format!("**{}**\n\n", markdown_text(&self.subtitle)));
        }
        if let Some(i) = &self.institution {
            s.push_str(&format!(
                "{}: {}\n\n",
                cat.text("page.issuer", &[]),
                markdown_text(i)
            ));
        }
        for (label, value) in self.dates(cat) {
            s.push_str(&format!("- {label}: {}\n", markdown_text(&value)));
        }
        s.push_str(&format!("\n## {}\n\n", cat.text("page.headlines", &[])));
        for h in &self.headlines {
            s.push_str(&format!("- {}\n", markdown_text(&h.text)));
        }
        s
    }

    /// The closing lines as Markdown: contact, credits, disclaimer, production.
    pub fn closing_markdown(&self, cat: &Catalogue) -> String {
        let mut s = String::from("\n---\n\n");
        if let Some(c) = &self.contact {
            s.push_str(&format!(
                "{}: {}\n\n",
                cat.text("page.contact", &[]),
                markdown_text(c)
            ));
        }
        if !self.credits.is_empty() {
            s.push_str(&format!("{}:\n\n", cat.text("page.credits", &[])));
            for (what, credit) in &self.credits {
                s.push_str(&format!(
                    "- {}: {}\n",
                    markdown_text(what),
                    markdown_text(credit)
                ));
            }
            s.push('\n');
        }
        s.push_str(&format!(
            "{}: {}\n\n{}\n",
            cat.text("page.disclaimer", &[]),
            markdown_text(&self.disclaimer),
            self.produced_line(cat)
        ));
        s
    }
}

/// `text` with Markdown's punctuation escaped, so a name with `*`, `_`, `|` or `<` reads as
/// written wherever the Markdown is rendered.
pub fn markdown_text(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!'
        ) {
            s.push('\\');
        }
        s.push(if c.is_control() { ' ' } else { c });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_update_defaults() {
        let d = NaiveDate::from_ymd_opt(2021, 1, 31).unwrap();
        assert_eq!(
            default_next_update(d, false),
            NaiveDate::from_ymd_opt(2021, 2, 28).unwrap()
        );
        assert_eq!(
            default_next_update(d, true),
            NaiveDate::from_ymd_opt(2021, 2, 7).unwrap()
        );
        assert_eq!(markdown_text("a*b_c|<x>"), "a\\*b\\_c\\|\\<x\\>");
    }
}
