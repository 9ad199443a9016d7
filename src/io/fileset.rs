//! File sets: one input given as a pattern over several files (one per start date, per year or
//! per member, as C3S and S2S downloads come), read as one cube.
//!
//! # Patterns
//! Any input path whose file name holds `*`, `?`, `[…]` or a `{placeholder}` (`{year}`,
//! `{month:02}`, `{init:%Y%m}` …) and that is not itself an existing file is a pattern: each
//! placeholder matches any text, like `*`. The files of the folder whose names match are the
//! set, in name order; a pattern that matches nothing is an error naming it. Placeholders the
//! run knows are filled in before (`{model}` in the outlook configuration), and the years the
//! run asks for select the starts after reading, so `hc/{model}_{year}.nc` reads the model's
//! files of the run's years.
//!
//! # Lists
//! An explicit list of files (`hindcast = ["hc/a.nc", "hc/b.nc"]` in a configuration) is one
//! input too: [`from_list`] joins the names with [`LIST_SEPARATOR`] (a newline, which no file
//! name given on a command line or in TOML holds) into one path that every reader takes as a
//! set of those files (each may itself be a pattern), in the order given.
//!
//! # Concatenation (CDO `mergetime` / `merge` semantics)
//! The cubes of the set must agree on grid, leads, variable, units and calendar. Files with
//! the same members and different starts (or time steps) are concatenated along them, sorted
//! by date; a date found in two files is refused with both names. Forecast files with the same
//! starts and different members (one file per member) are concatenated along the members.
//! Anything else is refused.

use std::path::{Path, PathBuf};

use ndarray::{concatenate, Axis};

use crate::cube::Cube;
use crate::error::{Error, Result};

pub use crate::config::{from_list, list_parts, LIST_SEPARATOR};

/// Whether a path is a set of files: a list ([`from_list`]), or a pattern — it does not exist
/// as it is, and its file name holds a wildcard or a placeholder.
pub fn is_pattern(path: &Path) -> bool {
    if list_parts(path).is_some() {
        return true;
    }
    if path.exists() || super::read::is_url(path) {
        return false;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.contains(['*', '?', '[', '{'])
}

/// The files a pattern matches, in name order; an error when it matches none or its folder
/// part holds a wildcard.
pub fn expand(pattern: &Path) -> Result<Vec<PathBuf>> {
    if let Some(parts) = list_parts(pattern) {
        return expand_each(&parts);
    }
    let dir = pattern
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if dir.to_string_lossy().contains(['*', '?', '[', '{']) {
        return Err(Error::invalid(
            pattern.display().to_string(),
            "wildcards and placeholders may only be in the file name, not in the folders",
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Open {
        path: pattern.to_path_buf(),
        reason: format!(
            "cannot list the folder {} of the pattern: {e}",
            dir.display()
        ),
    })?;
    let glob = to_glob(&name);
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| glob_match(&glob, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Open {
            path: pattern.to_path_buf(),
            reason: "no file matches this pattern (`*`, `?`, `[…]` and `{…}` match any text in the file name)".into(),
        });
    }
    Ok(files)
}

/// Each path as it is, or the files it matches when it is a pattern (inputs whose files are
/// separate runs, such as the cyclone outlook's, rather than one cube).
pub fn expand_each(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if is_pattern(p) {
            out.extend(expand(p)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A file-name pattern with every `{placeholder}` turned into `*`.
fn to_glob(name: &str) -> Vec<char> {
    let mut out = Vec::new();
    let mut in_brace = false;
    for c in name.chars() {
        match (c, in_brace) {
            ('{', false) => {
                in_brace = true;
                out.push('*');
            }
            ('}', true) => in_brace = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// Shell-style matching of a whole name: `*` any run, `?` one character, `[abc]`, `[a-z]`,
/// `[!a]` one of (not of) a set.
fn glob_match(p: &[char], name: &str) -> bool {
    let s: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class_match(p, pi, s[si]) {
                        if ok {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether `c` is in the class starting at `p[start] == '['`, and the index after the class;
/// `None` for an unclosed class.
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() && (p[i] != ']' || first) {
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    (i < p.len()).then_some((hit != negate, i + 1))
}

/// Gaps in a sequence of monthly-or-coarser dates: where two consecutive dates lie further
/// apart than the usual step (the most common difference in months), the date before the gap
/// and how many steps are missing. Empty for sub-monthly dates or fewer than three.
pub fn gaps(dates: &[crate::calendar::CfDateTime]) -> Vec<(crate::calendar::CfDateTime, usize)> {
    let months: Vec<i64> = dates
        .iter()
        .map(|d| i64::from(d.year) * 12 + i64::from(d.month))
        .collect();
    if months.len() < 3 {
        return Vec::new();
    }
    let diffs: Vec<i64> = months.windows(2).map(|w| w[1] - w[0]).collect();
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for &d in &diffs {
        *counts.entry(d).or_default() += 1;
    }
    let step = counts
        .iter()
        .max_by_key(|&(d, n)| (*n, std::cmp::Reverse(*d)))
        .map(|(&d, _)| d)
        .unwrap_or(0);
    if step <= 0 {
        return Vec::new();
    }
    diffs
        .iter()
        .enumerate()
        .filter(|&(_, &d)| d > step && d % step == 0)
        .map(|(i, &d)| (dates[i], (d / step - 1) as usize))
        .collect()
}

/// [`gaps`] in words (`""` without gaps): `"; gaps: 12 missing after 2000-12-01"`.
pub fn describe_gaps(dates: &[crate::calendar::CfDateTime]) -> String {
    let g = gaps(dates);
    if g.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = g
        .iter()
        .take(5)
        .map(|(d, n)| format!("{n} missing after {d}"))
        .collect();
    format!(
        "; gaps: {}{}",
        parts.join(", "),
        if g.len() > 5 { ", …" } else { "" }
    )
}

/// Reads every file of a set with `read` and concatenates the cubes (see the module doc).
pub fn read_set(files: &[PathBuf], read: impl Fn(&Path) -> Result<Cube>) -> Result<Cube> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        parts.push((f.clone(), read(f)?));
    }
    concatenate_set(parts)
}

fn concatenate_set(mut parts: Vec<(PathBuf, Cube)>) -> Result<Cube> {
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one").1);
    }
    let (first_path, first) = (&parts[0].0, &parts[0].1);
    for (p, c) in &parts[1..] {
        let differs = |what: &str| {
            Err(Error::invalid(
                p.display().to_string(),
                format!(
                    "its {what} differs from that of {} in the same file set: a set must hold one variable on one grid",
                    first_path.display()
                ),
            ))
        };
        if !c.coords.spatial.same_grid(&first.coords.spatial) {
            return differs("grid");
        }
        if c.coords.lead != first.coords.lead {
            return differs("leads");
        }
        if c.meta.units != first.meta.units || c.meta.variable != first.meta.variable {
            return differs("variable or units");
        }
        if c.meta.calendar != first.meta.calendar {
            return differs("calendar");
        }
    }
    let same_member_count = parts
        .iter()
        .all(|(_, c)| c.coords.member.len() == first.coords.member.len());
    let same_inits = parts
        .iter()
        .all(|(_, c)| c.coords.init == first.coords.init);
    // Observations have no members to split by, and files with the same starts and the same
    // several members are copies: both are duplicate dates (refused below), not a member split.
    let forecast = first.meta.kind == crate::cube::CubeKind::Forecast;
    let copies = first.coords.member.len() > 1
        && parts
            .iter()
            .all(|(_, c)| c.coords.member == first.coords.member);
    if same_inits && forecast && !copies {
        // One file per member (or per group of members): along the members.
        let mut member = Vec::new();
        for (_, c) in &parts {
            member.extend(&c.coords.member);
        }
        // Files that number their single member alike (0 in each) get 0, 1, 2 … in file order.
        let mut sorted = member.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != member.len() {
            member = (0..member.len() as i32).collect();
        }
        let views: Vec<_> = parts.iter().map(|(_, c)| c.values.view()).collect();
        let values =
            concatenate(Axis(1), &views).map_err(|e| Error::invalid("file set", e.to_string()))?;
        let mut coords = first.coords.clone();
        coords.member = member;
        let mut meta = first.meta.clone();
        meta.history
            .push(format!("{} files concatenated along members", parts.len()));
        return Cube::new(values, coords, meta);
    }
    if !same_member_count {
        return Err(Error::invalid(
            parts[1].0.display().to_string(),
            format!(
                "it has {} members and {} has {}, with different starts: a file set is split either by start date (same members) or by member (same starts)",
                parts[1].1.coords.member.len(),
                first_path.display(),
                first.coords.member.len()
            ),
        ));
    }
    // Along the starts, sorted; a start in two files is refused.
    let mut order: Vec<(usize, usize)> = parts
        .iter()
        .enumerate()
        .flat_map(|(f, (_, c))| (0..c.coords.init.len()).map(move |i| (f, i)))
        .collect();
    order.sort_by_key(|&(f, i)| parts[f].1.coords.init[i]);
    for w in order.windows(2) {
        let (a, b) = (w[0], w[1]);
        if parts[a.0].1.coords.init[a.1] == parts[b.0].1.coords.init[b.1] {
            return Err(Error::invalid(
                parts[b.0].0.display().to_string(),
                format!(
                    "start {} is also in {}: duplicate starts in one file set (remove one of the two files)",
                    parts[b.0].1.coords.init[b.1],
                    parts[a.0].0.display()
                ),
            ));
        }
    }
    let views: Vec<_> = order
        .iter()
        .map(|&(f, i)| {
            parts[f]
                .1
                .values
                .slice(ndarray::s![i..i + 1, .., .., .., ..])
        })
        .collect();
    let values =
        concatenate(Axis(0), &views).map_err(|e| Error::invalid("file set", e.to_string()))?;
    let mut coords = first.coords.clone();
    coords.init = order
        .iter()
        .map(|&(f, i)| parts[f].1.coords.init[i])
        .collect();
    let mut meta = first.meta.clone();
    meta.history.push(format!(
        "{} files concatenated along the starts ({} … {}){}",
        parts.len(),
        parts[0].0.display(),
        parts[parts.len() - 1].0.display(),
        describe_gaps(&coords.init)
    ));
    Cube::new(values, coords, meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(&to_glob(p), s)
    }

    #[test]
    fn patterns_match_like_a_shell() {
        assert!(m("hc_*.nc", "hc_1993.nc"));
        assert!(!m("hc_*.nc", "hc_1993.nc4"));
        assert!(m("hc_{year}.nc", "hc_1993.nc"));
        assert!(m("CCSM4_{init:%Y%m}_*.nc", "CCSM4_199311_ens.nc"));
        assert!(m("hc_199?.nc", "hc_1993.nc") && !m("hc_199?.nc", "hc_19933.nc"));
        assert!(m("hc_[0-9][0-9].nc", "hc_07.nc") && !m("hc_[0-9][0-9].nc", "hc_a7.nc"));
        assert!(m("hc_[!a].nc", "hc_b.nc") && !m("hc_[!a].nc", "hc_a.nc"));
        assert!(m("*", "anything") && m("a*b*c", "aXbYc") && !m("a*b*c", "aXbY"));
    }

    #[test]
    fn gaps_in_yearly_and_monthly_dates() {
        use crate::calendar::CfDateTime;
        let yearly: Vec<CfDateTime> = [1993, 1994, 1995, 1998, 1999, 2000]
            .iter()
            .map(|&y| CfDateTime::ymd(y, 11, 1))
            .collect();
        assert_eq!(gaps(&yearly), vec![(CfDateTime::ymd(1995, 11, 1), 2)]);
        assert!(describe_gaps(&yearly).contains("2 missing after 1995-11-01"));
        let monthly: Vec<CfDateTime> = (0..24)
            .filter(|m| !(5..8).contains(m))
            .map(|m| CfDateTime::ymd(2000 + m / 12, (m % 12 + 1) as u32, 1))
            .collect();
        assert_eq!(gaps(&monthly), vec![(CfDateTime::ymd(2000, 5, 1), 3)]);
        assert!(describe_gaps(&monthly[..5]).is_empty());
    }
}
