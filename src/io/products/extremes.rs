//! The extremes outlook, `extremes_forecast.<var>.nc`: per start, target period and cell the
//! EFI and SOT±, the probabilities of the period mean beyond the model climate's 10th, 90th
//! and 95th percentiles, and of heat/cold waves, hot/cold days or Rx1day/Rx5day beyond their
//! model-climate levels ([`crate::extremes::outlook`]). One `(init, lead, lat, lon)` variable
//! per product, with `lead` and `lead_bnds` giving each period in days after the start.

use std::path::Path;

use ndarray::Axis;

use crate::calendar::CfDateTime;
use crate::cube::{Coords, CubeKind, Spatial};
use crate::error::Result;
use crate::extremes::ExtremesForecast;
use crate::io::write::{write_spatial, write_time_coords};
use crate::io::{CfWriter, WriteOptions};

/// Writes the extremes products of the start `init` on `spatial`.
pub fn write_extremes_forecast(
    path: &Path,
    opts: &WriteOptions,
    init: CfDateTime,
    spatial: &Spatial,
    calendar: crate::calendar::Calendar,
    variable: &str,
    f: &ExtremesForecast,
) -> Result<()> {
    let coords = Coords {
        init: vec![init],
        member: Vec::new(),
        lead: f.periods.clone(),
        spatial: spatial.clone(),
    };
    let mut w = CfWriter::create(path, opts)?;
    w.global_text(
        "title",
        &format!(
            "extremes of the {variable} forecast against its model climate, per target period"
        ),
    )?;
    w.global_text(
        "comment",
        &format!(
            "model climate: {} hindcast starts within the window of the start date, {} values a \
             lead per cell; EFI after Lalaurette (2003) and Zsotér (2006), SOT after Zsotér (2009)",
            f.m_climate_starts, f.m_climate_size
        ),
    )?;
    let time_dims = write_time_coords(&mut w, &coords, calendar, CubeKind::Forecast)?;
    let spatial_dims = write_spatial(&mut w, spatial)?;
    let dims: Vec<&str> = ["init", time_dims[time_dims.len() - 1]]
        .into_iter()
        .chain(spatial_dims.iter().copied())
        .collect();
    for field in &f.fields {
        let v = field.values.view().insert_axis(Axis(0));
        w.f32_var(
            field.name,
            &dims,
            v.into_dyn(),
            &[("long_name", &field.long_name), ("units", &field.units)],
            &[],
        )?;
    }
    w.finish()?;
    Ok(())
}
