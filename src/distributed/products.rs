//! What crosses between ranks: bands of rows of a combination's products (cut from a band
//! read with a halo, sent as bytes, stacked south to north on rank 0) and the counts of the
//! whole-field checks of each read.
//!
//! Every field of [`Products`] has the latitude axis second to last (`(start, k, lead, y, x)`
//! or `(start, source, edge, lead, y, x)`); a message is each field's shape and values,
//! little-endian, in the order of `ensemble::combine`'s list of fields, then the edges.

use std::ops::Range;
use std::path::Path;

use ndarray::{Array, ArrayD, Axis, Dimension, IxDyn};

use super::{put_u64, take_u64};
use crate::cube::{Coords, Cube, Spatial};
use crate::cyclone::Node;
use crate::ensemble::combine::products_fields_5d;
use crate::ensemble::Products;
use crate::error::{Error, Result};
use crate::indices::{DroughtOutlook, SpiGrid};
use crate::io::cyclone_fields::Series;
use crate::io::FieldChecks;
use crate::verify::SkillMaps;

/// A value type of the products, as bytes.
trait Scalar: Copy + Default {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(bytes: &[u8]) -> Self;
}

impl Scalar for f32 {
    const SIZE: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }
}

impl Scalar for i8 {
    const SIZE: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        i8::from_le_bytes([bytes[0]])
    }
}

/// The latitude axis of a product field: second to last.
fn y_axis<D: Dimension>(a: &Array<impl Scalar, D>) -> Axis {
    Axis(a.ndim() - 2)
}

fn encode_array<A: Scalar, D: Dimension>(a: &Array<A, D>, out: &mut Vec<u8>) {
    put_u64(out, a.ndim() as u64);
    for &d in a.shape() {
        put_u64(out, d as u64);
    }
    out.reserve(a.len() * A::SIZE);
    for &v in a.iter() {
        v.put(out);
    }
}

fn decode_array<A: Scalar, D: Dimension>(bytes: &[u8], at: &mut usize) -> Result<Array<A, D>> {
    let cut = || Error::invalid("products from another process", "message cut short");
    let ndim = take_u64(bytes, at)? as usize;
    if ndim > 8 {
        return Err(cut());
    }
    let shape = (0..ndim)
        .map(|_| take_u64(bytes, at).map(|d| d as usize))
        .collect::<Result<Vec<_>>>()?;
    let n: usize = shape.iter().product();
    let raw = bytes.get(*at..*at + n * A::SIZE).ok_or_else(cut)?;
    *at += n * A::SIZE;
    let values: Vec<A> = raw.chunks_exact(A::SIZE).map(A::get).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values)
        .map_err(|e| Error::invalid("products from another process", e.to_string()))?
        .into_dimensionality::<D>()
        .map_err(|e| Error::invalid("products from another process", e.to_string()))
}

fn rows_of<A: Scalar, D: Dimension>(a: &Array<A, D>, rows: Range<usize>) -> Array<A, D> {
    a.slice_axis(y_axis(a), rows.into()).to_owned()
}

fn stack_of<A: Scalar, D: ndarray::RemoveAxis>(parts: &[&Array<A, D>]) -> Result<Array<A, D>> {
    let axis = y_axis(parts[0]);
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let stacked = ndarray::concatenate(axis, &views)
        .map_err(|e| Error::invalid("stacking the bands of the products", e.to_string()))?;
    // concatenation lays the joined axis outermost in memory; the writers take row-major
    if stacked.is_standard_layout() {
        Ok(stacked)
    } else {
        Ok(stacked.as_standard_layout().into_owned())
    }
}

/// Rows `rows` (of the latitude axis) of every field.
pub fn product_rows(p: &Products, rows: Range<usize>) -> Products {
    macro_rules! build {
        ($($f:ident),*) => { Products { $($f: rows_of(&p.$f, rows.clone())),* } };
    }
    products_fields_5d!(build, edges, extreme_edges)
}

/// Bands of rows stacked in order (south to north) into one set of products.
pub fn stack_product_rows(parts: &[Products]) -> Result<Products> {
    if parts.is_empty() {
        return Err(Error::invalid("products", "no band to stack"));
    }
    macro_rules! build {
        ($($f:ident),*) => {
            Products { $($f: stack_of(&parts.iter().map(|p| &p.$f).collect::<Vec<_>>())?),* }
        };
    }
    Ok(products_fields_5d!(build, edges, extreme_edges))
}

/// The bytes of every field.
pub fn encode_products(p: &Products, out: &mut Vec<u8>) {
    macro_rules! put {
        ($($f:ident),*) => { $(encode_array(&p.$f, out);)* };
    }
    products_fields_5d!(put, edges, extreme_edges);
}

/// Products from the bytes of [`encode_products`], starting at `*at`.
pub fn decode_products(bytes: &[u8], at: &mut usize) -> Result<Products> {
    macro_rules! build {
        ($($f:ident),*) => { Products { $($f: decode_array(bytes, at)?),* } };
    }
    Ok(products_fields_5d!(build, edges, extreme_edges))
}

/// The counts of a read's whole-field checks, with whether they are precipitation's.
pub fn encode_checks(c: &FieldChecks, precipitation: bool, out: &mut Vec<u8>) {
    put_u64(out, c.n_values);
    put_u64(out, c.n_finite);
    put_u64(out, c.largest.to_bits());
    put_u64(out, c.n_wet);
    put_u64(out, u64::from(precipitation));
}

/// Counts from the bytes of [`encode_checks`], starting at `*at`.
pub fn decode_checks(bytes: &[u8], at: &mut usize) -> Result<(FieldChecks, bool)> {
    let c = FieldChecks {
        n_values: take_u64(bytes, at)?,
        n_finite: take_u64(bytes, at)?,
        largest: f64::from_bits(take_u64(bytes, at)?),
        n_wet: take_u64(bytes, at)?,
    };
    Ok((c, take_u64(bytes, at)? != 0))
}

/// The bytes of rows `rows` of a cube read as a block of start dates (whole maps): its
/// coordinates (with only those rows) and metadata as JSON, then the values.
pub fn encode_cube_rows(cube: &Cube, rows: Range<usize>, out: &mut Vec<u8>) -> Result<()> {
    let Spatial::Grid { lat, lon } = &cube.coords.spatial else {
        return Err(Error::invalid(
            "a band of rows",
            format!("{} is not on a lat/lon grid", cube.meta.model),
        ));
    };
    if rows.end > lat.len() {
        return Err(Error::mismatch(
            format!("the grid of {}", cube.meta.model),
            format!(
                "{} latitudes, fewer than the first model's; regrid first",
                lat.len()
            ),
        ));
    }
    let coords = Coords {
        spatial: Spatial::Grid {
            lat: lat[rows.clone()].to_vec(),
            lon: lon.clone(),
        },
        ..cube.coords.clone()
    };
    let header = serde_json::to_vec(&(&coords, &cube.meta))
        .map_err(|e| Error::invalid("a band of rows", e.to_string()))?;
    put_u64(out, header.len() as u64);
    out.extend_from_slice(&header);
    encode_array(
        &cube.values.slice_axis(Axis(3), rows.into()).to_owned(),
        out,
    );
    Ok(())
}

/// The coordinates, metadata and values of one part made by [`encode_cube_rows`].
type CubePart = (Coords, crate::cube::Meta, ndarray::Array5<f32>);

/// The coordinates and metadata of a part made by [`encode_cube_rows`], and where its values
/// start.
fn part_header(part: &[u8]) -> Result<(Coords, crate::cube::Meta, usize)> {
    let bad = |e: String| Error::invalid("a band of rows from another process", e);
    let mut at = 0;
    let len = take_u64(part, &mut at)? as usize;
    let header = part
        .get(at..at + len)
        .ok_or_else(|| bad("cut short".into()))?;
    let (coords, meta) = serde_json::from_slice(header).map_err(|e| bad(e.to_string()))?;
    Ok((coords, meta, at + len))
}

fn decode_cube_parts(parts: &[Vec<u8>]) -> Result<Vec<CubePart>> {
    let bad = |e: String| Error::invalid("a band of rows from another process", e);
    let mut blocks = Vec::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        let (coords, meta, mut at) = part_header(part)?;
        let values: ndarray::Array5<f32> = decode_array(part, &mut at)?;
        blocks.push((coords, meta, values));
    }
    if blocks.is_empty() {
        return Err(bad("no part to join".into()));
    }
    Ok(blocks)
}

/// The parts joined along `axis` of the values (0: start dates, 3: latitude rows), with the
/// first part's metadata and coordinates but for the joined one (`coords`).
fn join_cube_parts(blocks: Vec<CubePart>, axis: usize, coords: Coords) -> Result<Cube> {
    let meta = crate::cube::Meta {
        source_time_steps: None,
        ..blocks[0].1.clone()
    };
    let views: Vec<_> = blocks.iter().map(|b| b.2.view()).collect();
    let values = ndarray::concatenate(Axis(axis), &views)
        .map_err(|e| Error::invalid("a band of rows from another process", e.to_string()))?;
    Cube::new(values, coords, meta)
}

/// The band of a cube from the blocks of start dates the ranks read ([`encode_cube_rows`],
/// in rank order, empty for a rank without a block): the blocks joined along the start dates.
pub fn decode_cube_blocks(parts: &[Vec<u8>]) -> Result<Cube> {
    let blocks = decode_cube_parts(parts)?;
    let coords = Coords {
        init: blocks.iter().flat_map(|b| b.0.init.clone()).collect(),
        ..blocks[0].0.clone()
    };
    join_cube_parts(blocks, 0, coords)
}

/// The whole cube from every rank's band of rows ([`encode_cube_rows`], in rank order, empty
/// for a rank without a band): the bands joined south to north. Each part is copied into the
/// whole cube and dropped in turn, so that the gathered bytes and the cube are the most held
/// at once.
pub fn decode_cube_bands(parts: Vec<Vec<u8>>) -> Result<Cube> {
    let bad = |e: String| Error::invalid("a band of rows from another process", e);
    // the headers first: the whole grid's latitudes
    let headers = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| part_header(p))
        .collect::<Result<Vec<_>>>()?;
    let Some((first_coords, first_meta, _)) = headers.first() else {
        return Err(bad("no band to join".into()));
    };
    let mut lats = Vec::new();
    for (coords, _, _) in &headers {
        let Spatial::Grid { lat, .. } = &coords.spatial else {
            return Err(bad("not on a lat/lon grid".into()));
        };
        lats.extend_from_slice(lat);
    }
    let Spatial::Grid { lon, .. } = &first_coords.spatial else {
        return Err(bad("not on a lat/lon grid".into()));
    };
    let coords = Coords {
        spatial: Spatial::Grid {
            lat: lats,
            lon: lon.clone(),
        },
        ..first_coords.clone()
    };
    let meta = crate::cube::Meta {
        source_time_steps: None,
        ..first_meta.clone()
    };
    let shape = (
        coords.init.len(),
        coords.member.len(),
        coords.lead.len(),
        coords.spatial.shape().0,
        coords.spatial.shape().1,
    );
    let mut whole = ndarray::Array5::<f32>::zeros(shape);
    let mut row = 0;
    let offsets = headers.iter().map(|h| h.2);
    for (part, mut at) in parts.into_iter().filter(|p| !p.is_empty()).zip(offsets) {
        let band: ndarray::Array5<f32> = decode_array(&part, &mut at)?;
        drop(part);
        let rows = band.dim().3;
        let (ni, nm, nl, _, nx) = band.dim();
        if (ni, nm, nl, nx) != (shape.0, shape.1, shape.2, shape.4) || row + rows > shape.3 {
            return Err(bad(format!(
                "a band of shape {:?} in a cube of {shape:?}",
                band.dim()
            )));
        }
        whole
            .slice_mut(ndarray::s![.., .., .., row..row + rows, ..])
            .assign(&band);
        row += rows;
    }
    if row != shape.3 {
        return Err(bad(format!("{row} of {} rows arrived", shape.3)));
    }
    Cube::new(whole, coords, meta)
}

/// Rows `rows` of a cube on a lat/lon grid, its latitudes cut alike: a rank's own rows of a
/// field it read with a halo, or its band of a field every rank read whole.
pub fn cube_rows(cube: &Cube, rows: Range<usize>) -> Result<Cube> {
    let Spatial::Grid { lat, lon } = &cube.coords.spatial else {
        return Err(Error::invalid(
            "a band of rows",
            format!("{} is not on a lat/lon grid", cube.meta.model),
        ));
    };
    if rows.end > lat.len() || rows.start > rows.end {
        return Err(Error::invalid(
            "a band of rows",
            format!(
                "rows {}..{} of {} latitudes of {}",
                rows.start,
                rows.end,
                lat.len(),
                cube.meta.model
            ),
        ));
    }
    let coords = Coords {
        spatial: Spatial::Grid {
            lat: lat[rows.clone()].to_vec(),
            lon: lon.clone(),
        },
        ..cube.coords.clone()
    };
    let values = cube.values.slice_axis(Axis(3), rows.into()).to_owned();
    Cube::new(values, coords, cube.meta.clone())
}

/// `bytes` as one length-prefixed piece of a message of several.
pub fn put_piece(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The next piece of a message made by [`put_piece`], from `*at`.
pub fn take_piece(bytes: &[u8], at: &mut usize) -> Result<Vec<u8>> {
    let len = take_u64(bytes, at)? as usize;
    let piece = bytes
        .get(*at..*at + len)
        .ok_or_else(|| Error::invalid("a message from another process", "cut short"))?;
    *at += len;
    Ok(piece.to_vec())
}

/// A band's drought outlook (every field `(·, lead, y, x)` or `(lead, y, x)`), then its
/// tendency when it has one.
pub fn encode_drought(d: &DroughtOutlook, out: &mut Vec<u8>) {
    encode_array(&d.class_probability, out);
    encode_array(&d.drought_probability, out);
    encode_array(&d.wet_probability, out);
    encode_array(&d.median_spi, out);
    encode_array(&d.most_likely_class, out);
    put_u64(out, u64::from(d.tendency.is_some()));
    if let Some(t) = &d.tendency {
        encode_array(t, out);
    }
}

/// A band's drought outlook from the bytes of [`encode_drought`], starting at `*at`.
pub fn decode_drought(bytes: &[u8], at: &mut usize) -> Result<DroughtOutlook> {
    let class_probability = decode_array(bytes, at)?;
    let drought_probability = decode_array(bytes, at)?;
    let wet_probability = decode_array(bytes, at)?;
    let median_spi = decode_array(bytes, at)?;
    let most_likely_class = decode_array(bytes, at)?;
    let tendency = match take_u64(bytes, at)? {
        0 => None,
        _ => Some(decode_array(bytes, at)?),
    };
    Ok(DroughtOutlook {
        class_probability,
        drought_probability,
        wet_probability,
        median_spi,
        most_likely_class,
        tendency,
    })
}

/// Rows `rows` of every field of a drought outlook.
pub fn drought_rows(d: &DroughtOutlook, rows: Range<usize>) -> DroughtOutlook {
    DroughtOutlook {
        class_probability: rows_of(&d.class_probability, rows.clone()),
        drought_probability: rows_of(&d.drought_probability, rows.clone()),
        wet_probability: rows_of(&d.wet_probability, rows.clone()),
        median_spi: rows_of(&d.median_spi, rows.clone()),
        most_likely_class: rows_of(&d.most_likely_class, rows.clone()),
        tendency: d.tendency.as_ref().map(|t| rows_of(t, rows)),
    }
}

/// Bands of drought outlooks stacked in order (south to north); every band has a tendency or
/// none has.
pub fn stack_drought(parts: &[DroughtOutlook]) -> Result<DroughtOutlook> {
    if parts.is_empty() {
        return Err(Error::invalid("drought outlooks", "no band to stack"));
    }
    let tendency = if parts.iter().all(|p| p.tendency.is_some()) {
        let t: Vec<_> = parts.iter().filter_map(|p| p.tendency.as_ref()).collect();
        Some(stack_of(&t)?)
    } else if parts.iter().all(|p| p.tendency.is_none()) {
        None
    } else {
        return Err(Error::invalid(
            "drought outlooks",
            "a tendency in some bands only",
        ));
    };
    Ok(DroughtOutlook {
        class_probability: stack_of(
            &parts
                .iter()
                .map(|p| &p.class_probability)
                .collect::<Vec<_>>(),
        )?,
        drought_probability: stack_of(
            &parts
                .iter()
                .map(|p| &p.drought_probability)
                .collect::<Vec<_>>(),
        )?,
        wet_probability: stack_of(&parts.iter().map(|p| &p.wet_probability).collect::<Vec<_>>())?,
        median_spi: stack_of(&parts.iter().map(|p| &p.median_spi).collect::<Vec<_>>())?,
        most_likely_class: stack_of(
            &parts
                .iter()
                .map(|p| &p.most_likely_class)
                .collect::<Vec<_>>(),
        )?,
        tendency,
    })
}

/// The bytes of a band's SPI and fitted parameters (`(time or month, y, x)`), then its
/// calibration years.
pub fn encode_spi(g: &SpiGrid, out: &mut Vec<u8>) {
    for a in [&g.spi, &g.shape, &g.scale, &g.prob_zero] {
        encode_array(a, out);
    }
    put_u64(out, g.calibration_used.0 as i64 as u64);
    put_u64(out, g.calibration_used.1 as i64 as u64);
}

/// A band's SPI from the bytes of [`encode_spi`], starting at `*at`.
pub fn decode_spi(bytes: &[u8], at: &mut usize) -> Result<SpiGrid> {
    Ok(SpiGrid {
        spi: decode_array(bytes, at)?,
        shape: decode_array(bytes, at)?,
        scale: decode_array(bytes, at)?,
        prob_zero: decode_array(bytes, at)?,
        calibration_used: (
            take_u64(bytes, at)? as i64 as i32,
            take_u64(bytes, at)? as i64 as i32,
        ),
    })
}

/// Bands of the SPI stacked in order (south to north).
pub fn stack_spi(parts: &[SpiGrid]) -> Result<SpiGrid> {
    let first = parts
        .first()
        .ok_or_else(|| Error::invalid("SPI", "no band to stack"))?;
    let stack = |f: fn(&SpiGrid) -> &ndarray::Array3<f32>| {
        stack_of(&parts.iter().map(f).collect::<Vec<_>>())
    };
    Ok(SpiGrid {
        spi: stack(|g| &g.spi)?,
        shape: stack(|g| &g.shape)?,
        scale: stack(|g| &g.scale)?,
        prob_zero: stack(|g| &g.prob_zero)?,
        calibration_used: first.calibration_used,
    })
}

/// The bytes of one series' detected nodes ([`crate::pipeline::cyclones`]): the series'
/// label, times, hours, start and member as JSON, then every step's nodes (grid indices, then
/// the bits of their coordinates and values: NaN where a field is absent).
pub fn encode_detected((s, nodes): &(Series, Vec<Vec<Node>>), out: &mut Vec<u8>) -> Result<()> {
    let header = serde_json::to_vec(&(&s.label, &s.times, &s.hours, s.init, s.member))
        .map_err(|e| Error::invalid("detected nodes", e.to_string()))?;
    put_u64(out, header.len() as u64);
    out.extend_from_slice(&header);
    put_u64(out, nodes.len() as u64);
    for step in nodes {
        put_u64(out, step.len() as u64);
        for n in step {
            put_u64(out, n.j as u64);
            put_u64(out, n.i as u64);
            put_u64(out, n.lat.to_bits());
            put_u64(out, n.lon.to_bits());
            for v in [n.psl_pa, n.wind_ms, n.vorticity_s] {
                put_u64(out, u64::from(v.to_bits()));
            }
        }
    }
    Ok(())
}

/// Every series' nodes in the bytes of [`encode_detected`], in order.
pub fn decode_detected(bytes: &[u8]) -> Result<Vec<(Series, Vec<Vec<Node>>)>> {
    let bad = |e: String| Error::invalid("detected nodes from another process", e);
    let mut at = 0;
    let mut all = Vec::new();
    while at < bytes.len() {
        let len = take_u64(bytes, &mut at)? as usize;
        let header = bytes
            .get(at..at + len)
            .ok_or_else(|| bad("cut short".into()))?;
        at += len;
        let (label, times, hours, init, member) =
            serde_json::from_slice(header).map_err(|e| bad(e.to_string()))?;
        let steps = take_u64(bytes, &mut at)? as usize;
        let mut nodes = Vec::with_capacity(steps.min(bytes.len()));
        for _ in 0..steps {
            let count = take_u64(bytes, &mut at)? as usize;
            let mut step = Vec::with_capacity(count.min(bytes.len()));
            for _ in 0..count {
                let mut next = || take_u64(bytes, &mut at);
                let (j, i) = (next()? as usize, next()? as usize);
                let (lat, lon) = (f64::from_bits(next()?), f64::from_bits(next()?));
                let mut value = || next().map(|b| f32::from_bits(b as u32));
                step.push(Node {
                    j,
                    i,
                    lat,
                    lon,
                    psl_pa: value()?,
                    wind_ms: value()?,
                    vorticity_s: value()?,
                });
            }
            nodes.push(step);
        }
        all.push((
            Series {
                label,
                times,
                hours,
                init,
                member,
            },
            nodes,
        ));
    }
    Ok(all)
}

/// A band's skill maps ([`SkillMaps`], `(lead, y, x)` and `(category, lead, y, x)`).
pub fn encode_skill_maps(m: &SkillMaps, out: &mut Vec<u8>) {
    for a in [
        &m.acc,
        &m.rmse,
        &m.bias,
        &m.msss,
        &m.rps,
        &m.rpss,
        &m.crps,
        &m.crpss,
        &m.acc_lower,
        &m.acc_upper,
        &m.rpss_lower,
        &m.rpss_upper,
    ] {
        encode_array(a, out);
    }
    encode_array(&m.brier, out);
    encode_array(&m.roc_area, out);
}

/// A band's skill maps from the bytes of [`encode_skill_maps`], starting at `*at`.
pub fn decode_skill_maps(bytes: &[u8], at: &mut usize) -> Result<SkillMaps> {
    let mut maps3 = Vec::with_capacity(12);
    for _ in 0..12 {
        maps3.push(decode_array::<f32, ndarray::Ix3>(bytes, at)?);
    }
    let brier = decode_array(bytes, at)?;
    let roc_area = decode_array(bytes, at)?;
    let mut next = maps3.into_iter();
    let mut take = || next.next().unwrap_or_default();
    Ok(SkillMaps {
        acc: take(),
        rmse: take(),
        bias: take(),
        msss: take(),
        rps: take(),
        rpss: take(),
        crps: take(),
        crpss: take(),
        acc_lower: take(),
        acc_upper: take(),
        rpss_lower: take(),
        rpss_upper: take(),
        brier,
        roc_area,
    })
}

/// Bands of skill maps stacked in order (south to north).
pub fn stack_skill_maps(parts: &[SkillMaps]) -> Result<SkillMaps> {
    let s3 = |f: fn(&SkillMaps) -> &ndarray::Array3<f32>| {
        stack_of(&parts.iter().map(f).collect::<Vec<_>>())
    };
    let s4 = |f: fn(&SkillMaps) -> &ndarray::Array4<f32>| {
        stack_of(&parts.iter().map(f).collect::<Vec<_>>())
    };
    if parts.is_empty() {
        return Err(Error::invalid("skill maps", "no band to stack"));
    }
    Ok(SkillMaps {
        acc: s3(|m| &m.acc)?,
        rmse: s3(|m| &m.rmse)?,
        bias: s3(|m| &m.bias)?,
        msss: s3(|m| &m.msss)?,
        rps: s3(|m| &m.rps)?,
        rpss: s3(|m| &m.rpss)?,
        crps: s3(|m| &m.crps)?,
        crpss: s3(|m| &m.crpss)?,
        acc_lower: s3(|m| &m.acc_lower)?,
        acc_upper: s3(|m| &m.acc_upper)?,
        rpss_lower: s3(|m| &m.rpss_lower)?,
        rpss_upper: s3(|m| &m.rpss_upper)?,
        brier: s4(|m| &m.brier)?,
        roc_area: s4(|m| &m.roc_area)?,
    })
}

/// The `(start, ·, lead, y, x)` fields a band's forecast was scored on: its category
/// probabilities, ensemble mean, anomaly (when the ACC is of the anomaly), members (when it
/// has them) and observations.
#[derive(Debug, Clone)]
pub struct ScoredFields {
    pub probability: ndarray::Array5<f32>,
    pub ensemble_mean: ndarray::Array5<f32>,
    pub anomaly: Option<ndarray::Array5<f32>>,
    pub members: Option<ndarray::Array5<f32>>,
    pub obs: ndarray::Array5<f32>,
}

/// The bytes of [`ScoredFields`] (the views copied).
pub fn encode_scored(s: &crate::verify::ScoredForecast, out: &mut Vec<u8>) {
    encode_array(&s.probability.to_owned(), out);
    encode_array(&s.ensemble_mean.to_owned(), out);
    for a in [s.anomaly, s.members] {
        put_u64(out, u64::from(a.is_some()));
        if let Some(a) = a {
            encode_array(&a.to_owned(), out);
        }
    }
    encode_array(&s.obs.to_owned(), out);
}

/// [`ScoredFields`] from the bytes of [`encode_scored`], starting at `*at`.
pub fn decode_scored(bytes: &[u8], at: &mut usize) -> Result<ScoredFields> {
    let probability = decode_array(bytes, at)?;
    let ensemble_mean = decode_array(bytes, at)?;
    let mut optional = || -> Result<Option<ndarray::Array5<f32>>> {
        Ok(if take_u64(bytes, at)? != 0 {
            Some(decode_array(bytes, at)?)
        } else {
            None
        })
    };
    let anomaly = optional()?;
    let members = optional()?;
    Ok(ScoredFields {
        probability,
        ensemble_mean,
        anomaly,
        members,
        obs: decode_array(bytes, at)?,
    })
}

/// Bands of scored fields stacked in order (south to north).
pub fn stack_scored(parts: &[ScoredFields]) -> Result<ScoredFields> {
    let stack = |f: fn(&ScoredFields) -> &ndarray::Array5<f32>| {
        stack_of(&parts.iter().map(f).collect::<Vec<_>>())
    };
    let optional = |f: fn(&ScoredFields) -> Option<&ndarray::Array5<f32>>| {
        let some: Option<Vec<_>> = parts.iter().map(f).collect();
        some.map(|v| stack_of(&v)).transpose()
    };
    if parts.is_empty() {
        return Err(Error::invalid("scored fields", "no band to stack"));
    }
    Ok(ScoredFields {
        probability: stack(|p| &p.probability)?,
        ensemble_mean: stack(|p| &p.ensemble_mean)?,
        anomaly: optional(|p| p.anomaly.as_ref())?,
        members: optional(|p| p.members.as_ref())?,
        obs: stack(|p| &p.obs)?,
    })
}

/// The whole-field checks of the reads of a step, over every rank's band: `reports` holds each
/// rank's counts ([`report_checks`]) of the same reads in the same order (empty for a rank that
/// read nothing or read the whole field, which its reader checked), `paths` the files read.
/// The same decision on every rank.
pub fn check_bands(reports: &[Vec<u8>], paths: &[&Path], variable: &str) -> Result<()> {
    let mut merged: Vec<Option<(FieldChecks, bool)>> = vec![None; paths.len()];
    for r in reports.iter().filter(|r| !r.is_empty()) {
        let mut at = 0;
        for m in merged.iter_mut() {
            let (c, precipitation) = decode_checks(r, &mut at)?;
            *m = Some(match m.take() {
                Some((a, p)) => (a.merge(c), p || precipitation),
                None => (c, precipitation),
            });
        }
    }
    for (m, path) in merged.iter().zip(paths) {
        if let Some((c, precipitation)) = m {
            c.check(path, variable, *precipitation)?;
        }
    }
    Ok(())
}

/// Appends the whole-field counts of each cube read as a band (precipitation's checks unless
/// the read kept the file's units).
pub fn report_checks(cubes: &[&Cube], keep_units: bool, out: &mut Vec<u8>) {
    for c in cubes {
        let precipitation = !keep_units && c.meta.quantity == crate::units::Quantity::Precipitation;
        encode_checks(&FieldChecks::of(c), precipitation, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array5, Array6};

    fn sample(ny: usize, offset: f32) -> Products {
        let a5 = |k: usize| {
            Array5::from_shape_fn((2, k, 1, ny, 3), |(t, c, _, y, x)| {
                offset + (t * 100 + c * 10 + y * 3 + x) as f32
            })
        };
        let c5 = Array5::from_shape_fn((2, 1, 1, ny, 3), |(t, _, _, y, x)| (t + y + x) as i8 - 2);
        let a6 = Array6::from_shape_fn((2, 2, 2, 1, ny, 3), |(t, s, e, _, y, x)| {
            offset + (t * 1000 + s * 100 + e * 10 + y * 3 + x) as f32
        });
        Products {
            probability: a5(3),
            extreme_probability: a5(3),
            mean: a5(1),
            normal: a5(1),
            anomaly: a5(1),
            standardized_anomaly: a5(1),
            percent_of_normal: a5(1),
            spread: a5(1),
            signal_to_noise: a5(1),
            percentiles: a5(3),
            most_likely_category: c5.clone(),
            most_likely_probability: a5(1),
            dominant_category: c5,
            weights: a5(2),
            edges: a6.clone(),
            extreme_edges: a6,
        }
    }

    fn same(a: &Products, b: &Products) -> bool {
        macro_rules! eq {
            ($($f:ident),*) => { true $(&& a.$f.shape() == b.$f.shape()
                && a.$f.iter().zip(b.$f.iter()).all(|(x, y)| x.to_bits() == y.to_bits()))* };
        }
        trait Bits {
            fn to_bits(&self) -> u32;
        }
        impl Bits for f32 {
            fn to_bits(&self) -> u32 {
                f32::to_bits(*self)
            }
        }
        impl Bits for i8 {
            fn to_bits(&self) -> u32 {
                *self as u8 as u32
            }
        }
        products_fields_5d!(eq, edges, extreme_edges)
    }

    #[test]
    fn bands_cut_and_stacked_give_the_whole() {
        let whole = sample(5, 0.5);
        let parts = vec![
            product_rows(&whole, 0..2),
            product_rows(&whole, 2..3),
            product_rows(&whole, 3..5),
        ];
        assert_eq!(parts[1].probability.dim(), (2, 3, 1, 1, 3));
        assert!(same(&stack_product_rows(&parts).unwrap(), &whole));
    }

    #[test]
    fn products_survive_the_bytes() {
        let mut p = sample(4, -3.25);
        p.mean[[1, 0, 0, 2, 1]] = f32::NAN;
        let mut bytes = vec![9u8];
        encode_products(&p, &mut bytes);
        let mut at = 1;
        let back = decode_products(&bytes, &mut at).unwrap();
        assert_eq!(at, bytes.len());
        assert!(same(&back, &p));
        // cut short: an error, not a panic
        let mut at = 1;
        assert!(decode_products(&bytes[..bytes.len() - 3], &mut at).is_err());
    }

    #[test]
    fn checks_survive_the_bytes() {
        let c = FieldChecks {
            n_values: 10,
            n_finite: 7,
            largest: 3.5,
            n_wet: 1,
        };
        let mut b = Vec::new();
        encode_checks(&c, true, &mut b);
        let mut at = 0;
        assert_eq!(decode_checks(&b, &mut at).unwrap(), (c, true));
    }
}
