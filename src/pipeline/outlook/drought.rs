//! The drought part of a precipitation outlook: the forecast SPI of each target period (from
//! the observed monthly record before the start when it reaches it, else at the scale of the
//! target period), its NetCDF, maps and regional summaries.

use ndarray::Axis;

use super::{policy, DroughtPart, RunContext};
use crate::bulletin::{summarise_drought, DroughtFields, MapStyle, RegionCells, TercileMap};
use crate::cube::Lead;
use crate::ensemble::Products;
use crate::error::{Context, Result};
use crate::indices::drought::PROB_SPI_BELOW_MINUS_ONE;
use crate::indices::{
    drought_outlook, forecast_spi, gaussian_spi_outlook, latest_observed_spi,
    model_climatology_outlook, DroughtOutlook, ForecastSpiInput, MonthlyAxis, MonthlyRecord,
    SpiSpec,
};
use crate::io::products::write_drought_outlook;
use crate::Cube;

/// What the drought outlook of a precipitation variable is made from.
pub(super) struct DroughtInput<'a> {
    pub(super) obs: &'a Cube,
    pub(super) aligned: &'a Cube,
    pub(super) hindcasts: &'a [Cube],
    pub(super) forecasts: &'a [Cube],
    /// The forecasts bias-corrected onto the observed climate (the same as `forecasts`
    /// without a correction or when the combination already uses corrected cubes).
    pub(super) corrected_forecasts: &'a [Cube],
    pub(super) leads: &'a [Lead],
    pub(super) hindcast_mean: &'a Products,
    pub(super) fc: &'a Products,
    pub(super) pmme: bool,
}

/// The drought outlook: the forecast SPI of each target period, its NetCDF, maps and
/// regional summaries.
pub(super) fn drought_part(
    ctx: &RunContext,
    d: &DroughtInput,
    region_cells: &[RegionCells],
) -> Result<DroughtPart> {
    let variable = &d.forecasts[0].meta.variable;
    // Where a dry period is at least as likely as Φ(−1), SPI ≤ −1 cannot occur: no outlook.
    let spi_spec = SpiSpec {
        max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
        ..SpiSpec::default()
    };
    let history = if d.pmme {
        None
    } else {
        monthly_history_outlook(d.obs, d.corrected_forecasts, d.leads, ctx.cfg.spi_scale)?
    };
    let (drought, method): (DroughtOutlook, String) = if let Some(h) = history {
        h
    } else if d.pmme {
        // PMME placed on the SPI scale of the observed period totals.
        (
            gaussian_spi_outlook(
                d.aligned.values.index_axis(Axis(1), 0),
                d.hindcast_mean.mean.index_axis(Axis(1), 0),
                d.fc.mean.slice(ndarray::s![0, 0, .., .., ..]),
                &spi_spec,
            )?,
            "SPI at the scale of the target period: the PMME mean transformed with the observed zero-inflated gamma of the period (hindcast years), Gaussian on the SPI scale with the cross-validated hindcast error of the same transform".to_string(),
        )
    } else {
        let h: Vec<_> = d.hindcasts.iter().map(|c| c.values.view()).collect();
        let f: Vec<_> = d
            .forecasts
            .iter()
            .map(|c| c.values.index_axis(Axis(0), 0))
            .collect();
        (
            model_climatology_outlook(&h, &f, &spi_spec)?,
            "SPI at the scale of the target period: each member against its own model's hindcast gamma (members × years), models weighted equally".to_string(),
        )
    };
    let forecast = &d.forecasts[0];
    let path = ctx.out.join(format!("spi_forecast.{variable}.nc"));
    write_drought_outlook(&path, &ctx.options.write_options(), forecast, &drought)?;
    let mut part = DroughtPart {
        method,
        summaries: Vec::new(),
        maps: Vec::new(),
        region_maps: vec![Vec::new(); ctx.regions.len()],
        file: path,
    };
    for (l, lead) in d.leads.iter().enumerate() {
        let (start, end) = forecast.target_period(0, l)?;
        let target = start.period_label(&end, forecast.meta.calendar);
        let field = |a: &ndarray::Array4<f32>, k: usize| -> Vec<f32> {
            a.slice(ndarray::s![k, l, .., ..]).iter().copied().collect()
        };
        let dry = [
            field(&drought.drought_probability, 0),
            field(&drought.drought_probability, 1),
            field(&drought.drought_probability, 2),
        ];
        let wet = field(&drought.wet_probability, 0);
        let median: Vec<f32> = drought
            .median_spi
            .index_axis(Axis(0), l)
            .iter()
            .copied()
            .collect();
        let tendency: Option<Vec<i8>> = drought
            .tendency
            .as_ref()
            .map(|t| t.index_axis(Axis(0), l).iter().copied().collect());
        let fields = DroughtFields {
            drought: [&dry[0], &dry[1], &dry[2]],
            wet: &wet,
            median: &median,
            tendency: tendency.as_deref(),
        };
        for r in region_cells {
            part.summaries
                .push(summarise_drought(&fields, r, &lead.label(), &target));
        }
        let normal: Vec<f32> = dry[0].iter().zip(&wet).map(|(d, w)| 1.0 - d - w).collect();
        let dominant: Vec<i8> = dry[0]
            .iter()
            .zip(&wet)
            .map(|(&d, &w)| {
                if d.is_nan() {
                    -127
                } else if d >= policy::DROUGHT_DOMINANCE as f32 && d >= w {
                    0
                } else if w >= policy::DROUGHT_DOMINANCE as f32 {
                    2
                } else {
                    -1
                }
            })
            .collect();
        let png = format!("map_spi_lead{l}.png");
        let caption = format!(
            "drought (SPI ≤ −1) / wet (SPI ≥ 1) outlook, {} ({target})",
            lead.label()
        );
        let map = TercileMap {
            spatial: &forecast.coords.spatial,
            probability: [&dry[0], &normal, &wet],
            dominant: &dominant,
            mask: None,
            hatch: None,
            style: MapStyle::Precipitation,
            countries: Some(ctx.countries),
            title: &caption,
            categories: ["drought (SPI ≤ −1)", "", "wet (SPI ≥ 1)"],
        };
        ctx.tercile_maps(&map, png, &caption, &mut part.maps, &mut part.region_maps)?;
    }
    Ok(part)
}

/// The drought outlook from each member's SPI over the observed months before the start and
/// its forecast months ([`forecast_spi`]), models weighted equally, with the tendency against
/// the observed SPI of the last month before the start. `None` (the target-period SPI is used
/// instead) unless the leads are consecutive single months and the observations a monthly
/// record that reaches the month before the start far enough for the scale.
fn monthly_history_outlook(
    obs: &Cube,
    forecasts: &[Cube],
    leads: &[crate::cube::Lead],
    scale: usize,
) -> Result<Option<(DroughtOutlook, String)>> {
    use crate::cube::LeadUnit;
    let single_months = leads.iter().enumerate().all(|(i, l)| {
        l.unit == LeadUnit::Month
            && l.width == 1.0
            && l.start.fract() == 0.0
            && l.start == leads[0].start + i as f64
    });
    if leads.is_empty() || !single_months {
        return Ok(None);
    }
    let Ok(record) = MonthlyRecord::from_observed(obs.clone()) else {
        return Ok(None);
    };
    let cal = forecasts[0].meta.calendar;
    let init = forecasts[0].coords.init[0];
    // Observed months strictly before the start month, and enough of them for the scale.
    let before = record.axis.index_of(init.year, init.month);
    if before < scale as i64 || before > record.axis.len as i64 {
        return Ok(None);
    }
    let end = before as usize;
    let history = record.values.slice(ndarray::s![..end, .., ..]);
    let axis = MonthlyAxis::new(record.axis.first_year, record.axis.first_month, end)?;
    if history
        .index_axis(Axis(0), end - 1)
        .iter()
        .all(|v| v.is_nan())
    {
        return Ok(None);
    }
    let first = init.add_months(leads[0].start as i64, cal);
    let views: Vec<_> = forecasts
        .iter()
        .map(|f| f.values.index_axis(Axis(0), 0))
        .collect();
    let members = ndarray::concatenate(Axis(0), &views).context("pooling the forecast members")?;
    let counts: Vec<usize> = forecasts.iter().map(|f| f.n_member()).collect();
    let weights = policy::model_equal_member_weights(&counts);
    let spec = SpiSpec {
        scale_months: scale,
        max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
        ..SpiSpec::default()
    };
    let spi = forecast_spi(
        &ForecastSpiInput {
            history,
            history_axis: axis,
            members: members.view(),
            first_target: (first.year, first.month),
        },
        &spec,
    )
    .context("forecast SPI from the observed monthly record")?;
    let now = latest_observed_spi(history, &axis, &spec)?;
    let outlook = drought_outlook(spi.view(), &weights, Some(now.view()))?;
    let (ly, lm) = (axis.year(end - 1), axis.calendar_month(end - 1) + 1);
    let words = format!(
        "SPI-{scale} of each member: its forecast months appended to the observed months before the start (the record ends {ly}-{lm:02}), each calendar month standardised with the zero-inflated gamma fitted on the observed record (calibration {}–{} or as much of it as the record has); models weighted equally; the drought tendency compares each cell with its observed SPI-{scale} of {ly}-{lm:02}",
        spec.calibration.0, spec.calibration.1
    );
    Ok(Some((outlook, words)))
}
