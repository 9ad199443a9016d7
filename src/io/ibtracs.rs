//! Observed tropical-cyclone best tracks from IBTrACS v04 (Knapp et al. 2010), in either of the
//! two editions NOAA NCEI distributes and national centres exchange:
//!
//! - **NetCDF** (`IBTrACS.<subset>.v04r01.nc`): per storm `sid`, `name`, `season`,
//!   `track_type`, and per observation `iso_time`, `lat`, `lon`, `basin`, and each agency's
//!   `<agency>_wind` (kts) and `<agency>_pres` (mb), missing values `_FillValue` (−9999),
//!   observations padded to the longest storm.
//! - **CSV** (`ibtracs.<subset>.list.v04r01.csv`): one row per observation with the columns
//!   `SID,SEASON,NUMBER,BASIN,SUBBASIN,NAME,ISO_TIME,NATURE,LAT,LON,WMO_WIND,WMO_PRES,…,
//!   USA_WIND,USA_PRES,…,TOKYO_WIND,…` (upper-case names), a **units line** after the header
//!   (` ,Year, , , , , , ,degrees_north,…`), and a blank (or space) field for a missing value.
//!
//! Positions are IBTrACS' merged `lat`/`lon`; the intensity (wind, pressure) is the chosen
//! agency's ([`Agency`]): the WMO-designated centre of each basin (RSMC Tokyo in the western
//! North Pacific, RSMC New Delhi in the North Indian Ocean, …; their averaging periods differ:
//! 10-min, 3-min, 1-min), the US agencies (1-min), or one regional agency. Winds are converted
//! from knots to m/s (× 1852/3600), pressures from mb to Pa (× 100). Spur tracks
//! (`track_type` `spur-…`, alternative positions of a storm already in the file) are skipped.
//!
//! # Reference
//! Knapp, K. R. et al. (2010), *The International Best Track Archive for Climate Stewardship
//! (IBTrACS)*, BAMS 91, 363–376; IBTrACS v04 column documentation (NOAA NCEI).

use std::path::Path;

use crate::calendar::CfDateTime;
pub use crate::cyclone::agency::Agency;
use crate::cyclone::{Node, Track, TrackPoint};
use crate::error::{Error, Result};
use crate::units::M_S_PER_KNOT;

/// One observed storm.
#[derive(Debug, Clone, PartialEq)]
pub struct BestTrack {
    /// IBTrACS serial identifier (`2021070N11135`).
    pub sid: String,
    /// Storm name (`UNNAMED` when none).
    pub name: String,
    /// IBTrACS season (the Southern Hemisphere season runs July–June and is named by the year
    /// it ends in).
    pub season: i32,
    /// IBTrACS basin of the first point (`NI`, `WP`, `SI`, `SP`, `EP`, `NA`, `SA`).
    pub basin: String,
    /// The track: positions, the agency's pressure (Pa) and wind (m/s), NaN where missing.
    pub track: Track,
}

impl BestTrack {
    /// The largest wind of the agency (m/s), NaN when it gave none.
    pub fn max_wind_ms(&self) -> f32 {
        self.track
            .points
            .iter()
            .map(|p| p.node.wind_ms)
            .filter(|w| w.is_finite())
            .fold(f32::NAN, f32::max)
    }

    /// The track at the synoptic hours (00, 06, 12, 18 UTC) only: IBTrACS adds 3-hourly
    /// interpolated points and extra fixes (landfall, peak), which ACE and TC days must not
    /// count.
    pub fn synoptic(&self) -> Track {
        let mut t = self.track.clone();
        t.points.retain(|p| {
            let s = p.time.micros_of_day;
            s % (6 * 3_600_000_000) == 0
        });
        t
    }
}

/// Whether a file is NetCDF/HDF5 (by its first bytes) rather than text.
fn is_netcdf(path: &Path) -> bool {
    let (head, n) = super::read::file_head(path);
    n >= 4 && (&head[..3] == b"CDF" || head[..4] == [0x89, b'H', b'D', b'F'])
}

/// Whether a file is IBTrACS: NetCDF, or text whose header is the CSV edition's.
pub fn is_best_track_file(path: &Path) -> Result<bool> {
    if is_netcdf(path) {
        return Ok(true);
    }
    let mut first_line = Vec::new();
    {
        use std::io::{BufRead, Read};
        let f = std::fs::File::open(path).map_err(|e| Error::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        std::io::BufReader::new(f.take(64 * 1024))
            .read_until(b'\n', &mut first_line)
            .map_err(|e| Error::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
    }
    Ok(looks_like_ibtracs_csv(&String::from_utf8_lossy(
        &first_line,
    )))
}

/// Reads the storms of an IBTrACS file (NetCDF or CSV edition, told apart by content) with
/// `agency`'s intensities; storms in file order, numbered from 1.
pub fn read_best_tracks(path: &Path, agency: Agency) -> Result<Vec<BestTrack>> {
    if is_netcdf(path) {
        return read_netcdf(path, agency);
    }
    let text = read_text_edition(path, "not an IBTrACS file (NetCDF, or the CSV edition)")?;
    parse_csv(&text, agency, &path.display().to_string())
}

/// The text of a file that is not NetCDF (the CSV edition of tracks), or one error saying it is
/// neither, `not_what` naming what the file should have been.
pub(crate) fn read_text_edition(path: &Path, not_what: &str) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| Error::Input {
        path: path.to_path_buf(),
        reason: format!("neither NetCDF nor text: {not_what}"),
    })
}

/// Whether a text starts like the IBTrACS CSV edition (a header with `SID` and `ISO_TIME`).
pub fn looks_like_ibtracs_csv(text: &str) -> bool {
    text.lines().next().is_some_and(|h| {
        let cols: Vec<&str> = h.split(',').map(str::trim).collect();
        cols.contains(&"SID") && cols.contains(&"ISO_TIME")
    })
}

/// A missing-or-number field of the CSV edition.
fn field_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok()
}

/// A point from its parts, converting the agency's units (kts, mb).
fn point(
    time: CfDateTime,
    lat: f64,
    lon: f64,
    wind_kt: Option<f64>,
    pres_mb: Option<f64>,
) -> TrackPoint {
    TrackPoint {
        time,
        node: Node::from_track(
            lat,
            lon,
            pres_mb.map_or(f32::NAN, |p| (p * 100.0) as f32),
            wind_kt.map_or(f32::NAN, |w| (w * M_S_PER_KNOT) as f32),
        ),
    }
}

/// An IBTrACS time `YYYY-MM-DD HH:MM:SS` (UTC).
fn parse_time(text: &str) -> Option<CfDateTime> {
    CfDateTime::parse_with_offset(text.trim())
        .ok()
        .filter(|(_, offset)| *offset == 0.0)
        .map(|(t, _)| t)
}

/// The CSV edition (module doc); `source` names the text in errors.
pub fn parse_csv(text: &str, agency: Agency, source: &str) -> Result<Vec<BestTrack>> {
    let bad = |line: usize, why: String| {
        Error::invalid("IBTrACS CSV", format!("{source}, line {line}: {why}"))
    };
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or_else(|| bad(1, "empty file".into()))?;
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .collect();
    let find = |name: &str| {
        cols.iter().position(|c| c == name).ok_or_else(|| {
            bad(
                1,
                format!("no '{name}' column: not the IBTrACS v04 CSV layout (SID, SEASON, BASIN, NAME, ISO_TIME, LAT, LON, WMO_WIND, …)"),
            )
        })
    };
    let prefix = agency.prefix().to_ascii_uppercase();
    let [sid, season, basin, name, time, lat, lon] =
        ["SID", "SEASON", "BASIN", "NAME", "ISO_TIME", "LAT", "LON"].map(find);
    let (sid, season, basin, name, time, lat, lon) =
        (sid?, season?, basin?, name?, time?, lat?, lon?);
    let wind = find(&format!("{prefix}_WIND"))?;
    let pres = find(&format!("{prefix}_PRES"))?;
    let track_type = cols.iter().position(|c| c == "TRACK_TYPE");
    let mut out: Vec<BestTrack> = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < cols.len() {
            return Err(bad(
                n + 1,
                format!("{} fields, the header has {}", f.len(), cols.len()),
            ));
        }
        // the units line: no SID, `Year` under SEASON
        if f[sid].trim().is_empty() && f[season].trim().eq_ignore_ascii_case("year") {
            continue;
        }
        if track_type.is_some_and(|k| f[k].trim().starts_with("spur")) {
            continue;
        }
        let t = parse_time(f[time])
            .ok_or_else(|| bad(n + 1, format!("'{}' is not an ISO_TIME", f[time].trim())))?;
        let (Some(la), Some(lo)) = (field_number(f[lat]), field_number(f[lon])) else {
            return Err(bad(n + 1, "no LAT or LON".into()));
        };
        if !(-90.0..=90.0).contains(&la) {
            return Err(bad(n + 1, format!("latitude {la} outside ±90")));
        }
        let p = point(t, la, lo, field_number(f[wind]), field_number(f[pres]));
        let id = f[sid].trim();
        match out.last_mut() {
            Some(b) if b.sid == id => b.track.points.push(p),
            _ => {
                let season = field_number(f[season])
                    .ok_or_else(|| bad(n + 1, format!("SEASON '{}'", f[season].trim())))?;
                out.push(BestTrack {
                    sid: id.to_string(),
                    name: f[name].trim().to_string(),
                    season: season as i32,
                    basin: f[basin].trim().to_string(),
                    track: Track {
                        id: out.len() + 1,
                        member: 0,
                        points: vec![p],
                    },
                })
            }
        }
    }
    Ok(out)
}

fn read_netcdf(path: &Path, agency: Agency) -> Result<Vec<BestTrack>> {
    crate::io::read::configure_libnetcdf();
    let file = netcdf::open(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let var = |name: &str| {
        file.variable(name).ok_or_else(|| Error::Input {
            path: path.to_path_buf(),
            reason: format!("no variable '{name}': not the IBTrACS v04 NetCDF layout (sid, season, iso_time, lat, lon, <agency>_wind, <agency>_pres)"),
        })
    };
    let read_err = |name: &str, e: netcdf::Error| Error::Data {
        path: path.to_path_buf(),
        variable: name.to_string(),
        reason: e.to_string(),
    };
    // (values, fill value) of a numeric per-observation or per-storm variable
    let numbers = |name: &str| -> Result<(Vec<f64>, Vec<usize>, Option<f64>)> {
        let v = var(name)?;
        let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        let values = v.get_values::<f64, _>(..).map_err(|e| read_err(name, e))?;
        let fill = v
            .attribute_value("_FillValue")
            .and_then(|a| a.ok())
            .and_then(|a| f64::try_from(a).ok());
        let scale = v
            .attribute_value("scale_factor")
            .and_then(|a| a.ok())
            .and_then(|a| f64::try_from(a).ok())
            .unwrap_or(1.0);
        let offset = v
            .attribute_value("add_offset")
            .and_then(|a| a.ok())
            .and_then(|a| f64::try_from(a).ok())
            .unwrap_or(0.0);
        let values = values
            .into_iter()
            .map(|x| {
                if fill.is_some_and(|f| x == f) || x == -9999.0 || !x.is_finite() {
                    f64::NAN
                } else {
                    x * scale + offset
                }
            })
            .collect();
        Ok((values, shape, fill))
    };
    // fixed-width character strings: the last dimension is the width
    let strings = |name: &str| -> Result<(Vec<String>, Vec<usize>)> {
        let v = var(name)?;
        let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        let width = shape.last().copied().unwrap_or(1).max(1);
        let bytes = v.get_raw_values(..).map_err(|e| read_err(name, e))?;
        let s = bytes
            .chunks(width)
            .map(|b| {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                String::from_utf8_lossy(&b[..end]).trim().to_string()
            })
            .collect();
        Ok((s, shape))
    };
    let (sids, _) = strings("sid")?;
    let (names, _) = strings("name")?;
    let (seasons, _, _) = numbers("season")?;
    let (times, tshape) = strings("iso_time")?;
    let (basins, _) = strings("basin")?;
    let (lats, lshape, _) = numbers("lat")?;
    let (lons, _, _) = numbers("lon")?;
    let (winds, _, _) = numbers(&format!("{}_wind", agency.prefix()))?;
    let (pres, _, _) = numbers(&format!("{}_pres", agency.prefix()))?;
    let track_types = strings("track_type").ok().map(|t| t.0);
    let (ns, nobs) = match lshape.as_slice() {
        [a, b] => (*a, *b),
        _ => {
            return Err(Error::Dimensions {
                path: path.to_path_buf(),
                variable: "lat".into(),
                reason: format!("shape {lshape:?}; expected (storm, date_time)"),
            })
        }
    };
    let per_obs = [
        ("lon", lons.len()),
        ("basin", basins.len()),
        ("iso_time", times.len()),
        ("wind", winds.len()),
        ("pres", pres.len()),
    ];
    if let Some((name, n)) = per_obs.iter().find(|(_, n)| *n != ns * nobs) {
        return Err(Error::Dimensions {
            path: path.to_path_buf(),
            variable: name.to_string(),
            reason: format!(
                "{n} values, not one per storm and observation ({ns} × {nobs}) as lat has"
            ),
        });
    }
    if sids.len() != ns || tshape.len() != 3 || tshape[..2] != [ns, nobs] {
        return Err(Error::Dimensions {
            path: path.to_path_buf(),
            variable: "iso_time".into(),
            reason: format!("shape {tshape:?} does not match lat (storm {ns}, date_time {nobs})"),
        });
    }
    let mut out = Vec::new();
    for (s, sid) in sids.iter().enumerate() {
        if track_types
            .as_ref()
            .is_some_and(|t| t.get(s).is_some_and(|x| x.starts_with("spur")))
        {
            continue;
        }
        let mut points = Vec::new();
        let mut basin = String::new();
        for o in 0..nobs {
            let k = s * nobs + o;
            let (la, lo) = (lats[k], lons[k]);
            if times[k].is_empty() || la.is_nan() || lo.is_nan() {
                continue;
            }
            let t = parse_time(&times[k]).ok_or_else(|| Error::Data {
                path: path.to_path_buf(),
                variable: "iso_time".into(),
                reason: format!("storm {sid}: '{}' is not a time", times[k]),
            })?;
            if points.is_empty() {
                basin = basins.get(k).cloned().unwrap_or_default();
            }
            let opt = |x: f64| (!x.is_nan()).then_some(x);
            points.push(point(t, la, lo, opt(winds[k]), opt(pres[k])));
        }
        if points.is_empty() {
            continue;
        }
        out.push(BestTrack {
            sid: sid.clone(),
            name: names.get(s).cloned().unwrap_or_default(),
            season: seasons
                .get(s)
                .copied()
                .filter(|x| !x.is_nan())
                .unwrap_or(0.0) as i32,
            basin,
            track: Track {
                id: out.len() + 1,
                member: 0,
                points,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two storms of the CSV edition (columns cut to the ones read, in IBTrACS' order), with
    /// the units line, blank WMO fields and a spur track.
    const CSV: &str = "SID,SEASON,NUMBER,BASIN,SUBBASIN,NAME,ISO_TIME,NATURE,LAT,LON,WMO_WIND,WMO_PRES,WMO_AGENCY,TRACK_TYPE,USA_WIND,USA_PRES
 ,Year, , , , , , ,degrees_north,degrees_east,kts,mb, , ,kts,mb
2021134N11073,2021,30,NI,AS,TAUKTAE,2021-05-14 00:00:00,TS,11.1,72.9, ,1004,newdelhi,main,25,1002
2021134N11073,2021,30,NI,AS,TAUKTAE,2021-05-14 03:00:00,TS,11.4,72.8,30,1003,newdelhi,main,28,1001
2021134N11073,2021,30,NI,AS,TAUKTAE,2021-05-14 06:00:00,TS,11.8,72.6,35,1000,newdelhi,main,35,998
2021134N11999,2021,31,NI,AS,SPUR,2021-05-14 06:00:00,TS,12.0,72.0,35,1000,newdelhi,spur-2021134N11073,35,998
2021145N17090,2021,32,NI,BB,YAAS,2021-05-23 12:00:00,TS,17.0,89.5,45,990,newdelhi,main,50,985
";

    #[test]
    fn csv_edition_with_units_line_and_blanks() {
        let storms = parse_csv(CSV, Agency::Wmo, "t.csv").unwrap();
        assert_eq!(storms.len(), 2, "the spur track is skipped");
        let t = &storms[0];
        assert_eq!(
            (t.sid.as_str(), t.name.as_str(), t.season),
            ("2021134N11073", "TAUKTAE", 2021)
        );
        assert_eq!(t.basin, "NI");
        assert_eq!(t.track.points.len(), 3);
        let p0 = t.track.points[0].node;
        assert!(p0.wind_ms.is_nan(), "blank WMO_WIND is missing");
        assert_eq!(p0.psl_pa, 100_400.0);
        // 35 kt = 18.005540 m/s
        assert!((t.track.points[2].node.wind_ms - 18.005_54).abs() < 1e-4);
        assert!((t.max_wind_ms() - 18.005_54).abs() < 1e-4);
        assert_eq!(
            t.synoptic().points.len(),
            2,
            "the 03 UTC point is not synoptic"
        );
        let usa = parse_csv(CSV, Agency::Usa, "t.csv").unwrap();
        assert!((usa[1].track.points[0].node.wind_ms - 50.0 * 0.514_444).abs() < 1e-4);
        assert_eq!(usa[1].track.points[0].node.psl_pa, 98_500.0);
    }

    #[test]
    fn csv_errors_name_the_line_and_agencies_parse() {
        let e = parse_csv("SID,SEASON\n", Agency::Wmo, "x.csv").unwrap_err();
        assert!(e.to_string().contains("no 'BASIN' column"), "{e}");
        let broken = CSV.replace("2021-05-14 03:00:00", "14/05/2021");
        let e = parse_csv(&broken, Agency::Wmo, "x.csv").unwrap_err();
        assert!(e.to_string().contains("x.csv, line 4"), "{e}");
        let e = parse_csv(CSV, Agency::Regional("tokyo"), "x.csv").unwrap_err();
        assert!(e.to_string().contains("TOKYO_WIND"), "{e}");
        assert_eq!(Agency::parse("IMD").unwrap(), Agency::Regional("newdelhi"));
        assert_eq!(Agency::parse("jma").unwrap().prefix(), "tokyo");
        assert!(Agency::parse("met office").is_err());
        assert!(looks_like_ibtracs_csv(CSV));
        assert!(!looks_like_ibtracs_csv(
            "track_id,member,time,lat,lon,psl,wind\n"
        ));
    }
}
