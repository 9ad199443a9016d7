//! Linking detected centres into tracks (StitchNodes-like) and filtering them.
//!
//! # Algorithm (TempestExtremes `StitchNodes`, basic mode)
//! 1. **Segments**: for every node at step `t`, look at the following steps `t + g`
//!    (`g = 1, 2, …` while the time since `t` is at most [`StitchSpec::max_gap_hours`]); in the
//!    first of them that has a node within [`StitchSpec::range_deg`] (great-circle, computed
//!    as TE computes it from the printed positions, so ties at exactly the range go the same
//!    way) of it, the *nearest* node there is its successor. Each node has at most one successor; two nodes may
//!    share one.
//! 2. **Paths**: for `t` in time order, every node at `t` that still has an unused outgoing
//!    segment starts a path that follows successors until a node has none left; segments are
//!    used once. (As in TE, when two storms merge into one node, the second path ends there.)
//! 3. **Filters**: a path is kept when its duration (last time − first time) is at least
//!    [`StitchSpec::min_duration_hours`] and it passes every [`PathThreshold`].
//!
//! # Defaults ([`StitchSpec::tempest_tc`])
//! The TC settings of Zarzycki & Ullrich (2017) and the TempestExtremes documentation:
//! range 8°, duration ≥ 54 h, gaps ≤ 24 h, wind ≥ 10 m/s at ≥ 10 points and |lat| ≤ 50° at ≥ 10
//! points — "10 points" meaning 60 h of 6-hourly data, so the count is scaled to the time step
//! (`⌈60 h / Δt⌉`: 3 points for daily fields) — plus genesis equatorward of 40°
//! (`lat,|<=,40,first`).

use serde::{Deserialize, Serialize};

use super::detect::Node;
use super::nodefile::NodeColumns;
use crate::error::{Error, Result};
use crate::grid::great_circle;

/// A node column a threshold tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Latitude (degrees north).
    Lat,
    /// Longitude (degrees east).
    Lon,
    /// Central sea-level pressure (Pa).
    Psl,
    /// Largest wind speed near the centre (m/s).
    Wind,
    /// Largest hemisphere-signed relative vorticity near the centre (s⁻¹).
    Vorticity,
}

impl Column {
    fn of(self, n: &Node) -> f64 {
        match self {
            Column::Lat => n.lat,
            Column::Lon => n.lon,
            Column::Psl => n.psl_pa as f64,
            Column::Wind => n.wind_ms as f64,
            Column::Vorticity => n.vorticity_s as f64,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Column::Lat => "lat",
            Column::Lon => "lon",
            Column::Psl => "psl",
            Column::Wind => "wind",
            Column::Vorticity => "vo",
        }
    }

    /// Whether nodes with these output columns have this column.
    pub fn present(self, cols: NodeColumns) -> bool {
        match self {
            Column::Wind => cols.wind,
            Column::Vorticity => cols.vorticity,
            _ => true,
        }
    }
}

/// A comparison (TE: `>`, `>=`, `<`, `<=`, `=`, `!=`, `|>=`, `|<=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `>`
    Greater,
    /// `>=`
    GreaterEq,
    /// `<`
    Less,
    /// `<=`
    LessEq,
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `|>=`: magnitude at least.
    AbsGreaterEq,
    /// `|<=`: magnitude at most.
    AbsLessEq,
}

impl Comparison {
    fn holds(self, x: f64, v: f64) -> bool {
        match self {
            Comparison::Greater => x > v,
            Comparison::GreaterEq => x >= v,
            Comparison::Less => x < v,
            Comparison::LessEq => x <= v,
            Comparison::Equal => x == v,
            Comparison::NotEqual => x != v,
            Comparison::AbsGreaterEq => x.abs() >= v,
            Comparison::AbsLessEq => x.abs() <= v,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterEq => ">=",
            Comparison::Less => "<",
            Comparison::LessEq => "<=",
            Comparison::Equal => "=",
            Comparison::NotEqual => "!=",
            Comparison::AbsGreaterEq => "|>=",
            Comparison::AbsLessEq => "|<=",
        }
    }
}

/// How many points of a path must pass a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointCount {
    /// At least this many points.
    AtLeast(usize),
    /// Every point.
    All,
    /// The first point (genesis).
    First,
    /// The last point.
    Last,
}

/// A path filter (TE `--threshold col,op,value,count`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PathThreshold {
    /// Column tested.
    pub column: Column,
    /// Comparison.
    pub op: Comparison,
    /// Right-hand side.
    pub value: f64,
    /// Points that must pass.
    pub count: PointCount,
}

impl PathThreshold {
    /// Whether a path passes.
    pub fn passes(&self, path: &[&Node]) -> bool {
        let ok = |n: &&Node| self.op.holds(self.column.of(n), self.value);
        match self.count {
            PointCount::All => path.iter().all(ok),
            PointCount::First => path.first().is_some_and(ok),
            PointCount::Last => path.last().is_some_and(ok),
            PointCount::AtLeast(k) => path.iter().filter(|n| ok(n)).count() >= k,
        }
    }

    /// Parses TE's `col,op,value,count` (count: a number, `all`, `first` or `last`).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: String| Error::invalid("track threshold", format!("'{text}': {why}"));
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() != 4 {
            return Err(bad("expected column,op,value,count".into()));
        }
        let column = match parts[0] {
            "lat" => Column::Lat,
            "lon" => Column::Lon,
            "psl" | "slp" | "PSL" => Column::Psl,
            "wind" => Column::Wind,
            "vo" | "vorticity" => Column::Vorticity,
            c => {
                return Err(bad(format!(
                    "unknown column '{c}' (lat, lon, psl, wind, vo)"
                )))
            }
        };
        let op = match parts[1] {
            ">" => Comparison::Greater,
            ">=" => Comparison::GreaterEq,
            "<" => Comparison::Less,
            "<=" => Comparison::LessEq,
            "=" => Comparison::Equal,
            "!=" => Comparison::NotEqual,
            "|>=" => Comparison::AbsGreaterEq,
            "|<=" => Comparison::AbsLessEq,
            o => return Err(bad(format!("unknown comparison '{o}'"))),
        };
        let value: f64 = parts[2]
            .parse()
            .map_err(|_| bad(format!("'{}' is not a number", parts[2])))?;
        let count = match parts[3] {
            "all" => PointCount::All,
            "first" => PointCount::First,
            "last" => PointCount::Last,
            n => PointCount::AtLeast(
                n.parse()
                    .map_err(|_| bad(format!("count '{n}' is not a number, all, first or last")))?,
            ),
        };
        Ok(PathThreshold {
            column,
            op,
            value,
            count,
        })
    }
}

impl std::fmt::Display for PathThreshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = match self.count {
            PointCount::All => "all".to_string(),
            PointCount::First => "first".to_string(),
            PointCount::Last => "last".to_string(),
            PointCount::AtLeast(k) => k.to_string(),
        };
        write!(
            f,
            "{},{},{},{}",
            self.column.name(),
            self.op.symbol(),
            self.value,
            count
        )
    }
}

/// Stitching settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StitchSpec {
    /// Largest distance (degrees) between consecutive nodes of a track.
    pub range_deg: f64,
    /// Shortest track duration (hours, last − first point).
    pub min_duration_hours: f64,
    /// Longest gap (hours) between consecutive nodes.
    pub max_gap_hours: f64,
    /// Path filters.
    pub thresholds: Vec<PathThreshold>,
}

impl StitchSpec {
    /// The published TempestExtremes TC settings for data every `step_hours` hours (module
    /// doc).
    pub fn tempest_tc(step_hours: f64) -> Self {
        let points = ((60.0 / step_hours.max(1e-9)) - 1e-9).ceil().max(1.0) as usize;
        let t = |column, op, value, count| PathThreshold {
            column,
            op,
            value,
            count,
        };
        StitchSpec {
            range_deg: 8.0,
            min_duration_hours: 54.0,
            max_gap_hours: 24.0,
            thresholds: vec![
                t(
                    Column::Wind,
                    Comparison::GreaterEq,
                    10.0,
                    PointCount::AtLeast(points),
                ),
                t(
                    Column::Lat,
                    Comparison::AbsLessEq,
                    50.0,
                    PointCount::AtLeast(points),
                ),
                t(Column::Lat, Comparison::AbsLessEq, 40.0, PointCount::First),
            ],
        }
    }

    /// The TC settings for nodes with `cols`: [`StitchSpec::tempest_tc`] without the wind
    /// filter when the fields had no wind (pressure-only or pressure + vorticity detection,
    /// where the closed contour and the vorticity criterion carry the intensity test).
    pub fn tempest_tc_for(step_hours: f64, cols: NodeColumns) -> Self {
        let mut spec = StitchSpec::tempest_tc(step_hours);
        spec.thresholds.retain(|t| t.column.present(cols));
        spec
    }

    /// An error when a filter tests a column the nodes do not have.
    pub fn check_columns(&self, cols: NodeColumns) -> Result<()> {
        match self.thresholds.iter().find(|t| !t.column.present(cols)) {
            Some(t) => Err(Error::invalid(
                "track threshold",
                format!(
                    "'{t}' tests {}, but the fields have no {} variable: give one (--wind/--uas/--vas or --vorticity) or drop the filter",
                    t.column.name(),
                    match t.column {
                        Column::Wind => "wind",
                        _ => "vorticity",
                    }
                ),
            )),
            None => Ok(()),
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.range_deg > 0.0 && self.range_deg < 180.0) {
            return Err(Error::invalid(
                "track range",
                format!("{}° must be in (0, 180)", self.range_deg),
            ));
        }
        if !(self.min_duration_hours >= 0.0 && self.max_gap_hours >= 0.0) {
            return Err(Error::invalid(
                "track durations",
                "minimum duration and maximum gap must be ≥ 0 h",
            ));
        }
        Ok(())
    }
}

/// The distance (degrees) StitchNodes compares with its range: of the positions as
/// DetectNodes printed them (6 decimals), `DegToRad` as `x·π/180`, `acos` of the spherical law
/// of cosines, `·180/π` — so a node exactly one range away (8° north on a 1° grid) is in or
/// out as in TE, by the last bit.
fn stitch_distance_deg(a: &Node, b: &Node) -> f64 {
    use std::f64::consts::PI;
    let printed = |x: f64| format!("{x:.6}").parse::<f64>().unwrap_or(x) * PI / 180.0;
    let (lat1, lon1, lat2, lon2) = (
        printed(a.lat),
        printed(a.lon),
        printed(b.lat),
        printed(b.lon),
    );
    let x = lat1.sin() * lat2.sin() + lat1.cos() * lat2.cos() * (lon2 - lon1).cos();
    let r = if x >= 1.0 {
        0.0
    } else if x <= -1.0 {
        PI
    } else {
        x.acos()
    };
    r * 180.0 / PI
}

/// A track: the `(step, node index)` of each of its points, in time order.
pub type Path = Vec<(usize, usize)>;

/// Links the nodes of one member's time series into tracks. `times_hours[t]` is the time of
/// step `t` (hours since any origin, increasing); `nodes[t]` its detected nodes.
pub fn stitch(times_hours: &[f64], nodes: &[Vec<Node>], spec: &StitchSpec) -> Result<Vec<Path>> {
    spec.validate()?;
    if times_hours.len() != nodes.len() {
        return Err(Error::mismatch(
            "track times",
            format!(
                "{} times for {} steps of nodes",
                times_hours.len(),
                nodes.len()
            ),
        ));
    }
    if times_hours
        .windows(2)
        .any(|w| w[1] <= w[0] || w[1].is_nan())
    {
        return Err(Error::invalid("track times", "must be strictly increasing"));
    }
    let nt = nodes.len();
    // 1. successor of every node
    let mut next: Vec<Vec<Option<(usize, usize)>>> =
        nodes.iter().map(|s| vec![None; s.len()]).collect();
    let range_deg = spec.range_deg;
    for t in 0..nt {
        for (k, a) in nodes[t].iter().enumerate() {
            for u in t + 1..nt {
                if times_hours[u] - times_hours[t] > spec.max_gap_hours + 1e-9 {
                    break;
                }
                let nearest = nodes[u]
                    .iter()
                    .enumerate()
                    .map(|(m, b)| (m, great_circle(a.lat, a.lon, b.lat, b.lon)))
                    .min_by(|x, y| x.1.total_cmp(&y.1));
                if let Some((m, _)) = nearest {
                    if stitch_distance_deg(a, &nodes[u][m]) <= range_deg {
                        next[t][k] = Some((u, m));
                        break;
                    }
                }
            }
        }
    }
    // 2. paths
    let mut paths = Vec::new();
    for t in 0..nt {
        for k in 0..nodes[t].len() {
            if next[t][k].is_none() {
                continue;
            }
            let mut path = vec![(t, k)];
            let mut cur = (t, k);
            while let Some(n) = next[cur.0][cur.1].take() {
                path.push(n);
                cur = n;
            }
            // 3. filters
            let duration = times_hours[cur.0] - times_hours[t];
            if duration + 1e-9 < spec.min_duration_hours {
                continue;
            }
            let pts: Vec<&Node> = path.iter().map(|&(s, m)| &nodes[s][m]).collect();
            if spec.thresholds.iter().all(|th| th.passes(&pts)) {
                paths.push(path);
            }
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(lat: f64, lon: f64, wind: f32) -> Node {
        Node::at(lat, lon, wind)
    }

    #[test]
    fn thresholds_parse_print_and_count() {
        let th = PathThreshold::parse("wind,>=,10.0,3").unwrap();
        assert_eq!(th.to_string(), "wind,>=,10,3");
        let a = node(10.0, 90.0, 12.0);
        let b = node(11.0, 90.0, 9.0);
        assert!(!th.passes(&[&a, &b, &a]));
        assert!(th.passes(&[&a, &b, &a, &a]));
        assert!(!th.passes(&[&a, &b, &b, &a]));
        let first = PathThreshold::parse("lat,|<=,40,first").unwrap();
        assert!(first.passes(&[&node(-39.0, 0.0, 0.0), &node(60.0, 0.0, 0.0)]));
        assert!(!first.passes(&[&node(41.0, 0.0, 0.0), &node(10.0, 0.0, 0.0)]));
        for bad in [
            "wind,>=,10",
            "speed,>=,1,1",
            "wind,=>,1,1",
            "wind,>=,x,1",
            "wind,>=,1,most",
        ] {
            assert!(PathThreshold::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_counts_scale_with_the_time_step() {
        let six = StitchSpec::tempest_tc(6.0);
        assert_eq!(six.thresholds[0].count, PointCount::AtLeast(10));
        assert_eq!(
            StitchSpec::tempest_tc(24.0).thresholds[0].count,
            PointCount::AtLeast(3)
        );
        assert_eq!(
            StitchSpec::tempest_tc(3.0).thresholds[0].count,
            PointCount::AtLeast(20)
        );
    }

    /// Two storms 30° apart moving west 1°/step for 12 6-hourly steps, a gap of one step in the
    /// first, plus a one-off node: two tracks, the gap bridged, the one-off dropped.
    #[test]
    fn links_two_storms_across_a_gap() {
        let times: Vec<f64> = (0..12).map(|t| 6.0 * t as f64).collect();
        let mut nodes: Vec<Vec<Node>> = (0..12)
            .map(|t| {
                vec![
                    node(15.0, 100.0 - t as f64, 20.0),
                    node(15.0, 130.0 - t as f64, 20.0),
                ]
            })
            .collect();
        nodes[5].remove(0);
        nodes[3].push(node(-30.0, 60.0, 40.0));
        let mut spec = StitchSpec::tempest_tc(6.0);
        spec.min_duration_hours = 54.0;
        let paths = stitch(&times, &nodes, &spec).unwrap();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert_eq!(paths[0].len(), 11);
        assert_eq!(paths[0][4], (4, 0));
        assert_eq!(paths[0][5], (6, 0)); // across the gap
        assert_eq!(paths[1].len(), 12);
        assert!(paths[1].iter().all(|&(t, k)| nodes[t][k].lon > 110.0));
    }

    #[test]
    fn short_weak_far_or_polar_paths_are_dropped() {
        let times: Vec<f64> = (0..12).map(|t| 6.0 * t as f64).collect();
        let spec = StitchSpec::tempest_tc(6.0);
        let run = |f: &dyn Fn(usize) -> Node, n: usize| {
            let nodes: Vec<Vec<Node>> = (0..12)
                .map(|t| if t < n { vec![f(t)] } else { vec![] })
                .collect();
            stitch(&times, &nodes, &spec).unwrap().len()
        };
        assert_eq!(run(&|t| node(15.0, 100.0 - t as f64, 20.0), 12), 1);
        assert_eq!(run(&|t| node(15.0, 100.0 - t as f64, 20.0), 9), 0); // 48 h < 54 h
        assert_eq!(run(&|t| node(15.0, 100.0 - t as f64, 9.0), 12), 0); // never 10 m/s
        assert_eq!(run(&|t| node(15.0, 100.0 - 9.0 * t as f64, 20.0), 12), 0); // 9°/step
        assert_eq!(run(&|t| node(45.0 + t as f64, 100.0, 20.0), 12), 0); // genesis 45°N
                                                                         // A gap longer than 24 h splits a track into two that are each too short.
        let nodes: Vec<Vec<Node>> = (0..14)
            .map(|t| {
                if (6..=10).contains(&t) {
                    vec![]
                } else {
                    vec![node(15.0, 100.0, 20.0)]
                }
            })
            .collect();
        let times: Vec<f64> = (0..14).map(|t| 6.0 * t as f64).collect();
        assert!(stitch(&times, &nodes, &spec).unwrap().is_empty());
    }

    #[test]
    fn bad_times_are_errors() {
        let spec = StitchSpec::tempest_tc(6.0);
        assert!(stitch(&[0.0, 0.0], &[vec![], vec![]], &spec).is_err());
        assert!(stitch(&[0.0], &[vec![], vec![]], &spec).is_err());
    }
}
