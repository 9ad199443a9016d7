//! CF decoding of stored values: missing-value masking, then unpacking.
//!
//! # Formula
//! For a stored value `r` (CF 1.8 §2.5.1 and §8.1, NetCDF User Guide "Attribute Conventions"):
//! 1. `r` is **missing** when it is NaN, equals `_FillValue` or any `missing_value` (a scalar or a
//!    vector), or — when the variable has no `_FillValue` — equals the netCDF default fill of its
//!    type (9.969 209 968 386 869e36 for float and double; not applied to bytes, as
//!    netCDF4-python does). The comparisons are made on the **packed** value, before scaling, as
//!    CF requires.
//! 2. Otherwise `x = r · scale_factor + add_offset` (defaults 1 and 0), computed in f64 and stored
//!    as f32.
//! 3. Values outside `valid_range` / `valid_min` / `valid_max` are missing too
//!    ([`Packing::valid_range_unpacked`] gives the bounds in unpacked units). The reader applies
//!    this step separately: a valid range that would mask *every* value that step 1 kept is
//!    broken metadata (CPC's `t2m` in K carries the °C range −90…50) and is ignored, with a note
//!    in the cube's history.
//!
//! The raw and decoded domains are kept apart (the xarray `coding/variables.py` model): this
//! struct holds the encoding; attributes such as units live in [`crate::cube::Meta`].

use std::collections::BTreeMap;

/// A numeric or text attribute value, as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Text(String),
    /// One or more numbers (every numeric type, widened to f64).
    Numbers(Vec<f64>),
}

impl AttrValue {
    /// The text, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Numbers(_) => None,
        }
    }
    /// The first number, if numeric.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttrValue::Numbers(v) => v.first().copied(),
            AttrValue::Text(s) => s.trim().parse().ok(),
        }
    }
    /// All numbers, if numeric.
    pub fn as_numbers(&self) -> Vec<f64> {
        match self {
            AttrValue::Numbers(v) => v.clone(),
            AttrValue::Text(s) => s.trim().parse().map(|x| vec![x]).unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Text(s) => f.write_str(s),
            AttrValue::Numbers(v) => {
                let parts: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
                f.write_str(&parts.join(", "))
            }
        }
    }
}

/// Attributes of one variable.
pub type Attrs = BTreeMap<String, AttrValue>;

/// Stored numeric type of a variable, as far as decoding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredType {
    /// 8-bit integer (no default-fill masking).
    Byte,
    /// 16-bit integer.
    Short,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Int64,
    /// 32-bit float.
    Float,
    /// 64-bit float.
    Double,
}

impl StoredType {
    /// The netCDF default fill value of the type (`NC_FILL_*`), where masking it is sensible.
    pub fn default_fill(self) -> Option<f64> {
        match self {
            StoredType::Byte => None,
            StoredType::Short => Some(-32767.0),
            StoredType::Int => Some(-2_147_483_647.0),
            StoredType::Int64 => Some(-9_223_372_036_854_775_806.0),
            StoredType::Float => Some(f64::from(9.969_21e36_f32)),
            StoredType::Double => Some(9.969_209_968_386_869e36),
        }
    }
}

/// How the stored values of a variable map to physical values.
#[derive(Debug, Clone, PartialEq)]
pub struct Packing {
    /// `scale_factor` (1 when absent).
    pub scale: f64,
    /// `add_offset` (0 when absent).
    pub offset: f64,
    /// Stored values meaning "missing" (`_FillValue`, `missing_value`, default fill).
    pub missing: Vec<f64>,
    /// Smallest valid stored value.
    pub valid_min: Option<f64>,
    /// Largest valid stored value.
    pub valid_max: Option<f64>,
}

impl Packing {
    /// Reads the encoding from a variable's attributes.
    pub fn from_attrs(attrs: &Attrs, stored: StoredType) -> Packing {
        let num = |k: &str| attrs.get(k).and_then(AttrValue::as_number);
        let mut missing: Vec<f64> = Vec::new();
        let fill = attrs.get("_FillValue").map(AttrValue::as_numbers);
        match &fill {
            Some(f) => missing.extend(f.iter().copied()),
            None => missing.extend(stored.default_fill()),
        }
        if let Some(mv) = attrs.get("missing_value") {
            missing.extend(mv.as_numbers());
        }
        missing.retain(|v| !v.is_nan());
        missing.dedup();
        let (mut valid_min, mut valid_max) = (num("valid_min"), num("valid_max"));
        if let Some(r) = attrs.get("valid_range").map(AttrValue::as_numbers) {
            if r.len() == 2 {
                valid_min = Some(r[0]);
                valid_max = Some(r[1]);
            }
        }
        Packing {
            scale: num("scale_factor").unwrap_or(1.0),
            offset: num("add_offset").unwrap_or(0.0),
            missing,
            valid_min,
            valid_max,
        }
    }

    /// What is wrong with the packing and masking attributes of `attrs`, in words: a
    /// `scale_factor` or `add_offset` that is not one finite number (text, several values,
    /// NaN, or a zero scale), a `valid_range` that is not two numbers in order, a `valid_min`
    /// above `valid_max`. Readers that ignored such attributes would decode every value wrong.
    pub fn attribute_problem(attrs: &Attrs) -> Option<String> {
        let one_number = |k: &str| -> Option<String> {
            let v = attrs.get(k)?;
            let ok = match v {
                AttrValue::Numbers(n) => n.len() == 1 && n[0].is_finite(),
                AttrValue::Text(_) => false,
            };
            (!ok).then(|| format!("{k} = {v:?} is not one finite number"))
        };
        if let Some(p) = one_number("scale_factor").or_else(|| one_number("add_offset")) {
            return Some(p);
        }
        if attrs.get("scale_factor").and_then(AttrValue::as_number) == Some(0.0) {
            return Some("scale_factor = 0 would make every value the add_offset".into());
        }
        if let Some(p) = one_number("valid_min").or_else(|| one_number("valid_max")) {
            return Some(p);
        }
        if let Some(r) = attrs.get("valid_range") {
            let n = match r {
                AttrValue::Numbers(n) => n.clone(),
                AttrValue::Text(_) => Vec::new(),
            };
            if n.len() != 2 || n.iter().any(|x| x.is_nan()) {
                return Some(format!("valid_range = {r:?} is not two numbers"));
            }
            if n[0] > n[1] {
                return Some(format!(
                    "valid_range = [{}, {}] is inverted (the minimum comes first)",
                    n[0], n[1]
                ));
            }
        }
        let num = |k: &str| attrs.get(k).and_then(AttrValue::as_number);
        if let (Some(lo), Some(hi)) = (num("valid_min"), num("valid_max")) {
            if lo > hi {
                return Some(format!("valid_min = {lo} is above valid_max = {hi}"));
            }
        }
        None
    }

    /// Whether stored values are already physical values (no scale or offset).
    pub fn is_unpacked(&self) -> bool {
        self.scale == 1.0 && self.offset == 0.0
    }

    #[inline]
    fn is_missing(&self, raw: f64) -> bool {
        raw.is_nan()
            || self
                .missing
                .iter()
                .any(|&m| raw == m || (m.abs() > 1e30 && (raw - m).abs() <= m.abs() * 1e-6))
    }

    /// The valid range in unpacked units (`None` when the file gives none).
    pub fn valid_range_unpacked(&self) -> Option<(f64, f64)> {
        if self.valid_min.is_none() && self.valid_max.is_none() {
            return None;
        }
        let un = |x: f64| x * self.scale + self.offset;
        let lo = self.valid_min.map_or(f64::NEG_INFINITY, un);
        let hi = self.valid_max.map_or(f64::INFINITY, un);
        Some(if lo <= hi { (lo, hi) } else { (hi, lo) })
    }

    /// Decodes f32 stored values in place. Missing values are compared in f32, the precision
    /// they were stored in (a `_FillValue` of 1e20 read as f64 is not the f32 1e20).
    pub fn decode_f32_in_place(&self, values: &mut [f32]) {
        use rayon::prelude::*;
        let missing: Vec<f32> = self.missing.iter().map(|&m| m as f32).collect();
        if values.len() > crate::stats::PARALLEL_PASS_CHUNK {
            values
                .par_chunks_mut(crate::stats::PARALLEL_PASS_CHUNK)
                .for_each(|part| self.decode_f32_serial(part, &missing));
        } else {
            self.decode_f32_serial(values, &missing);
        }
    }

    /// [`Self::decode_f32_in_place`] of one part, the missing values already in f32.
    fn decode_f32_serial(&self, values: &mut [f32], missing: &[f32]) {
        if self.is_unpacked() {
            // The common case (float data with one fill value): a branch-free select per
            // value that the compiler vectorises. NaN stays NaN by itself.
            match missing {
                [] => {}
                [m] => values
                    .iter_mut()
                    .for_each(|v| *v = if *v == *m { f32::NAN } else { *v }),
                ms => values
                    .iter_mut()
                    .for_each(|v| *v = if ms.contains(v) { f32::NAN } else { *v }),
            }
            return;
        }
        let (scale, offset) = (self.scale, self.offset);
        for v in values.iter_mut() {
            *v = if v.is_nan() || missing.contains(v) {
                f32::NAN
            } else {
                (f64::from(*v) * scale + offset) as f32
            };
        }
    }

    /// Decodes f64 stored values (doubles, and integers widened by libnetcdf) into f32.
    pub fn decode_f64(&self, raw: &[f64], out: &mut [f32]) {
        for (o, &r) in out.iter_mut().zip(raw) {
            *o = if self.is_missing(r) {
                f32::NAN
            } else {
                (r * self.scale + self.offset) as f32
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_packing_attributes_are_named() {
        let attrs = |pairs: &[(&str, AttrValue)]| -> Attrs {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        let n = |v: &[f64]| AttrValue::Numbers(v.to_vec());
        assert_eq!(
            Packing::attribute_problem(&attrs(&[
                ("scale_factor", n(&[0.01])),
                ("valid_range", n(&[0.0, 100.0]))
            ])),
            None
        );
        for (bad, want) in [
            (
                attrs(&[("scale_factor", AttrValue::Text("0.01".into()))]),
                "scale_factor",
            ),
            (attrs(&[("add_offset", n(&[f64::NAN]))]), "add_offset"),
            (attrs(&[("scale_factor", n(&[1.0, 2.0]))]), "scale_factor"),
            (attrs(&[("scale_factor", n(&[0.0]))]), "scale_factor = 0"),
            (attrs(&[("valid_range", n(&[100.0, 0.0]))]), "inverted"),
            (attrs(&[("valid_range", n(&[1.0]))]), "two numbers"),
            (
                attrs(&[("valid_min", n(&[5.0])), ("valid_max", n(&[1.0]))]),
                "above valid_max",
            ),
        ] {
            let p = Packing::attribute_problem(&bad).expect(want);
            assert!(p.contains(want), "{p}");
        }
    }

    fn attrs(pairs: &[(&str, AttrValue)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn masks_in_the_packed_domain_then_unpacks() {
        // int16 packed temperature: x = r * 0.01 + 273.15; fill -32767, valid_range [-30000, 30000]
        let a = attrs(&[
            ("scale_factor", AttrValue::Numbers(vec![0.01])),
            ("add_offset", AttrValue::Numbers(vec![273.15])),
            ("_FillValue", AttrValue::Numbers(vec![-32767.0])),
            ("valid_range", AttrValue::Numbers(vec![-30000.0, 30000.0])),
        ]);
        let p = Packing::from_attrs(&a, StoredType::Short);
        let raw = [0.0, 1000.0, -32767.0, -2715.0];
        let mut out = [0.0f32; 4];
        p.decode_f64(&raw, &mut out);
        assert_eq!(out[0], 273.15);
        assert!((out[1] - 283.15).abs() < 1e-4);
        assert!(out[2].is_nan());
        assert!((out[3] - 246.0).abs() < 1e-4);
        let (lo, hi) = p.valid_range_unpacked().unwrap();
        assert!((lo - (273.15 - 300.0)).abs() < 1e-9 && (hi - 573.15).abs() < 1e-9);
    }

    #[test]
    fn missing_value_vector_and_default_fill() {
        let a = attrs(&[("missing_value", AttrValue::Numbers(vec![-999.0, -888.0]))]);
        let p = Packing::from_attrs(&a, StoredType::Float);
        let mut v = [1.0, -999.0, -888.0, 9.969_21e36, 2.0];
        p.decode_f32_in_place(&mut v);
        assert_eq!(v[0], 1.0);
        assert!(v[1].is_nan() && v[2].is_nan() && v[3].is_nan());
        assert_eq!(v[4], 2.0);
        // With an explicit _FillValue, the default fill is data (netCDF rules).
        let a = attrs(&[("_FillValue", AttrValue::Numbers(vec![1e20]))]);
        let p = Packing::from_attrs(&a, StoredType::Float);
        let mut v = [1e20f32, 3.0];
        p.decode_f32_in_place(&mut v);
        assert!(v[0].is_nan());
        assert_eq!(v[1], 3.0);
    }

    #[test]
    fn nan_fill_is_missing() {
        let a = attrs(&[("_FillValue", AttrValue::Numbers(vec![f64::NAN]))]);
        let p = Packing::from_attrs(&a, StoredType::Float);
        let mut v = [f32::NAN, 0.5];
        p.decode_f32_in_place(&mut v);
        assert!(v[0].is_nan());
        assert_eq!(v[1], 0.5);
    }
}
