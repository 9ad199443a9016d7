//! The drought part of a precipitation outlook: the forecast SPI of each target period (from
//! the observed monthly record before the start when it reaches it, else at the scale of the
//! target period), its NetCDF, maps and regional summaries.

use ndarray::{s, Array4, ArrayView4, Axis};

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

/// How the drought outlook of a run is made, chosen once before its leads are streamed.
enum Route {
    /// From each member's SPI over the observed months before the start and its forecast
    /// months: needs every lead of the forecasts, so it is made after the last lead.
    History(Box<HistoryRoute>),
    /// The MME mean on the SPI scale of the observed period totals with its hindcast error
    /// (PMME, ensemble means), lead by lead.
    Gaussian,
    /// Each member against its own model's hindcast gamma, lead by lead.
    ModelClimatology,
}

/// The drought outlook of a precipitation variable, built while the leads are streamed.
pub(super) struct DroughtBuilder {
    route: Route,
    /// The outlook of each lead so far (the lead-by-lead routes).
    leads: Vec<DroughtOutlook>,
    /// The bias-corrected forecast members of each model `(member, lead, y, x)`, gathered lead
    /// by lead for the history route when the forecasts are corrected.
    corrected: Option<Vec<Array4<f32>>>,
}

/// The SPI of target-period totals: where a dry period is at least as likely as Φ(−1), SPI
/// ≤ −1 cannot occur, so there is no outlook.
fn period_spi_spec() -> SpiSpec {
    SpiSpec {
        max_prob_zero: PROB_SPI_BELOW_MINUS_ONE,
        ..SpiSpec::default()
    }
}

impl DroughtBuilder {
    /// Chooses the route: the observed monthly history when the leads are consecutive single
    /// months and the observations reach the month before the start (not for PMME), else the
    /// target-period SPI (`gaussian`: the MME mean with its hindcast error, for PMME and
    /// ensemble means; else each member against its own model's climatology).
    /// `corrected`: the forecasts are bias-corrected onto the observed climate, and the
    /// history route is to use the corrected members given by [`Self::corrected_forecast`].
    pub(super) fn new(
        obs: &Cube,
        forecasts: &[Cube],
        leads: &[Lead],
        scale: usize,
        gaussian: bool,
        corrected: bool,
    ) -> Result<Self> {
        let route = if gaussian {
            Route::Gaussian
        } else if let Some(h) = HistoryRoute::prepare(obs, &forecasts[0], leads, scale)? {
            Route::History(Box::new(h))
        } else {
            Route::ModelClimatology
        };
        let corrected = (corrected && matches!(route, Route::History(_))).then(|| {
            forecasts
                .iter()
                .map(|f| {
                    let (_, nm, nl, ny, nx) = f.values.dim();
                    Array4::from_elem((nm, nl, ny, nx), f32::NAN)
                })
                .collect()
        });
        Ok(DroughtBuilder {
            route,
            leads: Vec::new(),
            corrected,
        })
    }

    /// The builder of one rank's rows `rows` in a distributed run: the route was chosen on the
    /// whole field (the same on every rank: whether the observed record reaches the start is a
    /// whole-field question), the outlook is made on the rank's rows, cell by cell as one
    /// process makes it.
    pub(super) fn rows(mut self, rows: std::ops::Range<usize>) -> Self {
        if let Route::History(h) = &mut self.route {
            h.record.values = h.record.values.slice(s![.., rows.clone(), ..]).to_owned();
        }
        if let Some(c) = self.corrected.as_mut() {
            for a in c.iter_mut() {
                *a = a.slice(s![.., .., rows.clone(), ..]).to_owned();
            }
        }
        self
    }

    /// Keeps lead `l` of model `k`'s bias-corrected forecast (one lead, one start) when the
    /// route needs it.
    pub(super) fn corrected_forecast(&mut self, k: usize, l: usize, forecast: &Cube) {
        if let Some(c) = self.corrected.as_mut() {
            c[k].slice_mut(s![.., l, .., ..])
                .assign(&forecast.values.slice(s![0, .., 0, .., ..]));
        }
    }

    /// The outlook of the next lead on the lead-by-lead routes: `aligned` the observations on
    /// its targets, `hindcast` and `forecast` the MME products of the lead, `hindcasts` and
    /// `forecasts` the models' cubes as combined.
    pub(super) fn lead(
        &mut self,
        aligned: &Cube,
        hindcast: &Products,
        forecast: &Products,
        hindcasts: &[Cube],
        forecasts: &[Cube],
    ) -> Result<()> {
        let spec = period_spi_spec();
        let outlook = match self.route {
            Route::History(_) => return Ok(()),
            Route::Gaussian => gaussian_spi_outlook(
                aligned.values.index_axis(Axis(1), 0),
                hindcast.mean.index_axis(Axis(1), 0),
                forecast.mean.slice(s![0, 0, .., .., ..]),
                &spec,
            )?,
            Route::ModelClimatology => {
                let h: Vec<_> = hindcasts.iter().map(|c| c.values.view()).collect();
                let f: Vec<_> = forecasts
                    .iter()
                    .map(|c| c.values.index_axis(Axis(0), 0))
                    .collect();
                model_climatology_outlook(&h, &f, &spec)?
            }
        };
        self.leads.push(outlook);
        Ok(())
    }

    /// The outlook of every lead and its method in words; `forecasts` are the raw forecasts
    /// (the history route's members when they were not corrected).
    pub(super) fn finish(self, forecasts: &[Cube]) -> Result<(DroughtOutlook, MethodText)> {
        match self.route {
            Route::History(h) => {
                let members: Vec<ArrayView4<f32>> = match &self.corrected {
                    Some(c) => c.iter().map(|a| a.view()).collect(),
                    None => forecasts
                        .iter()
                        .map(|f| f.values.index_axis(Axis(0), 0))
                        .collect(),
                };
                h.outlook(&members)
            }
            Route::Gaussian => Ok((
                DroughtOutlook::concat_leads(&self.leads)?,
                MethodText::new("method.spi_gaussian"),
            )),
            Route::ModelClimatology => Ok((
                DroughtOutlook::concat_leads(&self.leads)?,
                MethodText::new("method.spi_model"),
            )),
        }
    }
}

/// How a drought outlook was made: a message of the bulletin's catalogue and its values,
/// worded when the bulletin's language is known.
#[derive(Debug, Clone)]
pub(super) struct MethodText {
    key: &'static str,
    args: Vec<(&'static str, String)>,
}

impl MethodText {
    fn new(key: &'static str) -> MethodText {
        MethodText {
            key,
            args: Vec::new(),
        }
    }

    /// The words in the language of `cat`.
    fn words(&self, cat: &crate::bulletin::Catalogue) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        cat.text(self.key, &args)
    }
}

/// The drought outlook's NetCDF, maps and regional summaries; `forecast` gives the start,
/// the leads and the grid.
pub(super) fn drought_part(
    ctx: &RunContext,
    forecast: &Cube,
    leads: &[Lead],
    drought: DroughtOutlook,
    method: MethodText,
    region_cells: &[RegionCells],
) -> Result<DroughtPart> {
    let variable = &forecast.meta.variable;
    let path = ctx.out.join(format!("spi_forecast.{variable}.nc"));
    write_drought_outlook(&path, &ctx.options.write_options(), forecast, &drought)?;
    let mut part = DroughtPart {
        method: method.words(ctx.cat),
        summaries: Vec::new(),
        maps: Vec::new(),
        region_maps: vec![Vec::new(); ctx.regions.len()],
        file: path,
    };
    for (l, lead) in leads.iter().enumerate() {
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
        let cat = ctx.cat;
        let caption = cat.text(
            "caption.drought",
            &[
                ("lead", &cat.lead(&lead.label())),
                ("target", &cat.period(&target)),
            ],
        );
        let [drought_key, wet_key] = ["legend.drought", "legend.wet"].map(|k| cat.text(k, &[]));
        let notes = cat.map_notes();
        let map = TercileMap {
            spatial: &forecast.coords.spatial,
            probability: [&dry[0], &normal, &wet],
            dominant: &dominant,
            mask: None,
            hatch: None,
            style: MapStyle::Precipitation,
            countries: Some(ctx.countries),
            title: &caption,
            categories: [&drought_key, "", &wet_key],
            notes: [&notes[0], &notes[1], &notes[2], &notes[3]],
        };
        ctx.tercile_maps(&map, png, &caption, &mut part.maps, &mut part.region_maps)?;
    }
    Ok(part)
}

/// The observed monthly record a forecast SPI continues: the months strictly before the start
/// (enough of them for the scale), and the first forecast month.
struct HistoryRoute {
    record: MonthlyRecord,
    /// Months of the record before the start month.
    end: usize,
    axis: MonthlyAxis,
    /// `(year, month)` of the first lead.
    first_target: (i32, u32),
    scale: usize,
}

impl HistoryRoute {
    /// `None` (the target-period SPI is used instead) unless the leads are consecutive single
    /// months and the observations a monthly record that reaches the month before the start
    /// far enough for the scale.
    fn prepare(obs: &Cube, forecast: &Cube, leads: &[Lead], scale: usize) -> Result<Option<Self>> {
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
        let cal = forecast.meta.calendar;
        let init = forecast.coords.init[0];
        // Observed months strictly before the start month, and enough of them for the scale.
        let before = record.axis.index_of(init.year, init.month);
        if before < scale as i64 || before > record.axis.len as i64 {
            return Ok(None);
        }
        let end = before as usize;
        let axis = MonthlyAxis::new(record.axis.first_year, record.axis.first_month, end)?;
        if record
            .values
            .index_axis(Axis(0), end - 1)
            .iter()
            .all(|v| v.is_nan())
        {
            return Ok(None);
        }
        let first = init.add_months(leads[0].start as i64, cal);
        Ok(Some(HistoryRoute {
            record,
            end,
            axis,
            first_target: (first.year, first.month),
            scale,
        }))
    }

    /// The drought outlook from each member's SPI over the observed months before the start
    /// and its forecast months ([`forecast_spi`]), models weighted equally (`forecasts[k]`:
    /// model `k`'s members `(member, lead, y, x)`), with the tendency against the observed SPI
    /// of the last month before the start.
    fn outlook(&self, forecasts: &[ArrayView4<f32>]) -> Result<(DroughtOutlook, MethodText)> {
        let (scale, end, axis) = (self.scale, self.end, self.axis);
        let history = self.record.values.slice(s![..end, .., ..]);
        let members =
            ndarray::concatenate(Axis(0), forecasts).context("pooling the forecast members")?;
        let counts: Vec<usize> = forecasts.iter().map(|f| f.dim().0).collect();
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
                first_target: self.first_target,
            },
            &spec,
        )
        .context("forecast SPI from the observed monthly record")?;
        let now = latest_observed_spi(history, &axis, &spec)?;
        let outlook = drought_outlook(spi.view(), &weights, Some(now.view()))?;
        let (ly, lm) = (axis.year(end - 1), axis.calendar_month(end - 1) + 1);
        let words = MethodText {
            key: "method.spi_history",
            args: vec![
                ("scale", scale.to_string()),
                ("end", format!("{ly}-{lm:02}")),
                ("first", spec.calibration.0.to_string()),
                ("last", spec.calibration.1.to_string()),
            ],
        };
        Ok((outlook, words))
    }
}
