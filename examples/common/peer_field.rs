//! Shared by the peer-workload examples: a peer's output field matched to our cube's cells.
// Each example compiles this module on its own and uses part of it.
#![allow(dead_code)]

use s2s_ensemble::units::{Conversion, Quantity};
use s2s_ensemble::Cube;

/// A peer's output on the same grid as our cube, its cells matched by coordinates (our reader
/// puts longitudes in −180…180 and may flip latitudes).
pub struct PeerField {
    file: netcdf::File,
    row: Vec<usize>,
    column: Vec<usize>,
    nlat: usize,
    nlon: usize,
}

impl PeerField {
    pub fn open(
        path: &std::path::Path,
        ours: &Cube,
    ) -> Result<PeerField, Box<dyn std::error::Error>> {
        let file = netcdf::open(path)?;
        let coord = |name: &str| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
            Ok(file
                .variable(name)
                .ok_or_else(|| format!("{}: no {name}", path.display()))?
                .get_values(..)?)
        };
        let (lat, lon) = (coord("lat")?, coord("lon")?);
        let (ny, nx) = ours.coords.spatial.shape();
        let find = |values: &[f64], want: f64, wrap: bool| {
            values
                .iter()
                .position(|&v| {
                    let d = if wrap {
                        (v.rem_euclid(360.0) - want.rem_euclid(360.0)).abs()
                    } else {
                        (v - want).abs()
                    };
                    d < 1e-6
                })
                .ok_or_else(|| format!("{}: on another grid", path.display()))
        };
        let row = (0..ny)
            .map(|y| find(&lat, ours.coords.spatial.cell_lat_lon(y, 0).0, false))
            .collect::<Result<_, _>>()?;
        let column = (0..nx)
            .map(|x| find(&lon, ours.coords.spatial.cell_lat_lon(0, x).1, true))
            .collect::<Result<_, _>>()?;
        Ok(PeerField {
            file,
            row,
            column,
            nlat: lat.len(),
            nlon: lon.len(),
        })
    }

    /// Variable `name` of the peer's output.
    pub fn variable(&self, name: &str) -> Result<netcdf::Variable<'_>, Box<dyn std::error::Error>> {
        Ok(self
            .file
            .variable(name)
            .ok_or_else(|| format!("no {name} in the peer's output"))?)
    }

    /// All values of `name`, flat.
    pub fn values(&self, name: &str) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        Ok(self.variable(name)?.get_values(..)?)
    }

    /// All values of variable `name`, flat, in the engine's units (CDO keeps the file's: K).
    pub fn values_in_our_units(&self, name: &str) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        let v = self.variable(name)?;
        let units = match v.attribute_value("units") {
            Some(Ok(netcdf::AttributeValue::Str(u))) => u,
            _ => return Err(format!("{name} in the peer's output has no units").into()),
        };
        let conversion = Conversion::to_canonical(Quantity::detect(name, None, None), &units)?;
        let values: Vec<f32> = v.get_values(..)?;
        Ok(values
            .into_iter()
            .map(|x| conversion.apply(x, 1.0))
            .collect())
    }

    /// The flat index of our cell `(y, x)` in map `k` of the peer's field.
    pub fn at(&self, k: usize, y: usize, x: usize) -> usize {
        (k * self.nlat + self.row[y]) * self.nlon + self.column[x]
    }
}
