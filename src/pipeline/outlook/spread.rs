//! The outlook over the processes of a distributed run (`mpirun -n N s2s outlook`).
//!
//! Rank 0 runs the outlook; at each variable it tells the other ranks (one gather of a short
//! message: the variable, or the end of the run with its status), and every rank then takes the
//! same path through the variable ([`super::variable_products`]): all read the forecasts and the
//! observations whole (one start date, one member: small) and put them on the run's grid; the
//! grid is cut into latitude bands balanced by work ([`crate::distributed::Bands`]); for each
//! lead each rank reads whole maps of its block of start dates of every hindcast, makes their
//! target-period means on the run's grid and sends every rank its band's rows (an all-to-all,
//! [`crate::pipeline::bands`]); each rank bias-corrects, combines and scores its band — cell by
//! cell, so with the halo of pooled skill weights — and sends rank 0 its own rows of the
//! products, the skill, the observations, each model's hindcast member mean and forecast. Rank 0
//! stacks them and makes the NetCDF, the maps, the summaries and the regional graphs from the
//! whole field as one process does, so every file is byte-identical to one process's. The
//! drought outlook's route is chosen on the whole field, its outlook made on each band and
//! gathered after the last lead. The cyclone, extremes, drivers and sea-ice sections and the
//! bulletins are rank 0's alone.
//!
//! Failures: every step a rank takes for its band ends in an agreement ([`agree`]); what rank 0
//! alone does for a lead (writing, drawing) is told to the others at the next agreement, so no
//! rank waits for a step the others skipped. A run whose grid cannot be cut (points, curvilinear
//! grids, principal-component regression, fewer rows than ranks) runs each such variable on rank
//! 0 alone.

use std::ops::Range;

use super::drought::MethodText;
use super::{Inputs, LeadScience, OutlookPlan, OutlookReport, RunContext, RunLog, Setting};
use crate::distributed::products::{
    cube_rows, decode_cube_bands, decode_drought, decode_products, decode_skill_maps,
    encode_cube_rows, encode_drought, encode_products, encode_skill_maps, put_piece, stack_drought,
    stack_product_rows, stack_skill_maps, take_piece,
};
use crate::distributed::{agree, fail_together, Bands, Ranks};
use crate::ensemble::WeightScheme;
use crate::error::{Error, Result};
use crate::indices::DroughtOutlook;
use crate::io::ReadOptions;
use crate::progress::Progress;
use crate::Cube;

/// The first byte of rank 0's message to the others: a variable follows.
const NEXT_VARIABLE: u8 = b'V';
/// The first byte of rank 0's message to the others: the run is over, its status follows.
const RUN_OVER: u8 = b'E';

/// `outcome` agreed by the ranks of a distributed run (see [`agree`]); as it is for one
/// process.
pub(super) fn agreed<T>(ranks: Option<&dyn Ranks>, outcome: Result<T>) -> Result<T> {
    match ranks {
        Some(r) => agree(r, outcome.map(|v| (v, Vec::new()))).map(|(v, _)| v),
        None => outcome,
    }
}

/// Rank 0 tells the others the variable it starts; nothing for one process or on the others.
pub(super) fn tell_variable(ranks: Option<&dyn Ranks>, variable: &str) {
    if let Some(r) = ranks.filter(|r| r.is_root()) {
        let mut message = vec![NEXT_VARIABLE];
        message.extend_from_slice(variable.as_bytes());
        r.all_gather_bytes(&message);
    }
}

/// What rank 0 tells the others.
enum Told {
    Variable(String),
    Over { succeeded: bool },
}

/// Rank 0's next message, on a rank other than 0.
fn listen(ranks: &dyn Ranks) -> Result<Told> {
    let all = ranks.all_gather_bytes(&[]);
    let message = all.first().map(Vec::as_slice).unwrap_or_default();
    match message.split_first() {
        Some((&NEXT_VARIABLE, name)) => Ok(Told::Variable(String::from_utf8_lossy(name).into())),
        Some((&RUN_OVER, status)) => Ok(Told::Over {
            succeeded: status == [0],
        }),
        _ => Err(Error::invalid(
            "a message from rank 0",
            "neither a variable nor the end of the run",
        )),
    }
}

/// [`super::outlook`] over the processes of a distributed run: rank 0 runs the outlook and
/// writes every file, the others take their band of each variable (module doc). With one rank
/// it is [`super::outlook`]. The report is rank 0's (`None` on the others).
pub fn outlook_on(
    plan: &OutlookPlan,
    progress: &dyn Progress,
    ranks: &dyn Ranks,
) -> Result<Option<OutlookReport>> {
    if ranks.size() == 1 {
        return super::outlook(plan, progress).map(Some);
    }
    if ranks.is_root() {
        let result = crate::outputs::staging::as_one_set(&plan.out, || {
            super::outlook_staged(plan, progress, Some(ranks))
        });
        ranks.all_gather_bytes(&[RUN_OVER, u8::from(result.is_err())]);
        return result.map(Some);
    }
    // the same setting as rank 0's (the same files): a failure here is rank 0's too
    let setting = Setting::of(plan);
    let mut log = RunLog::new(progress);
    loop {
        match listen(ranks)? {
            Told::Over { succeeded: true } => return Ok(None),
            Told::Over { succeeded: false } => {
                return Err(Error::invalid("outlook", "rank 0 stopped the run"))
            }
            Told::Variable(variable) => {
                // the outcome is agreed inside; rank 0 reports it and ends the run
                let _ = match &setting {
                    Ok(s) => {
                        let ctx = s.context(plan, Some(ranks));
                        super::variable_products(&ctx, &variable, &mut log, progress).map(|_| ())
                    }
                    Err(e) => Err(fail_together(
                        ranks,
                        Error::invalid("outlook", e.to_string()),
                    )),
                };
            }
        }
    }
}

/// How the ranks share one variable of the outlook: the bands of the run's grid, the halo of
/// pooled skill weights, and the blocks of start dates of each model's hindcast.
pub(super) struct VariableBands<'a> {
    pub(super) ranks: &'a dyn Ranks,
    pub(super) bands: Bands,
    pub(super) halo: usize,
    /// Start dates of each model's hindcast in the run's years: the blocks the ranks read.
    pub(super) starts: Vec<usize>,
    /// Each model's variable as its hindcast file names it (for the whole-field checks'
    /// messages).
    pub(super) file_variables: Vec<String>,
}

/// A rank's band of the inputs read whole.
pub(super) struct BandInputs {
    /// Every model's forecast, the band's rows with the halo.
    pub(super) forecasts: Vec<Cube>,
    /// The observations, the band's rows with the halo.
    pub(super) obs: Cube,
    /// Every model's forecast, the band's own rows.
    pub(super) own_forecasts: Vec<Cube>,
    /// The band's own rows of the whole grid.
    pub(super) own_rows: Range<usize>,
    /// The own rows among those with the halo; `None` without a halo (all of them).
    pub(super) own_in_read: Option<Range<usize>>,
}

impl<'a> VariableBands<'a> {
    /// The bands of `inputs`' grid (the run's), balanced by the cells with data of the first
    /// model's forecast; `None` (the whole field on rank 0) for points, curvilinear grids,
    /// principal-component regression and grids with fewer rows than ranks.
    pub(super) fn of(
        ctx: &RunContext,
        variable: &str,
        inputs: &Inputs,
        ranks: &'a dyn Ranks,
    ) -> Result<Option<VariableBands<'a>>> {
        let scheme = ctx.cfg.weights.scheme();
        let halo = match scheme {
            // needs every cell of the field at once
            WeightScheme::Pcr => return Ok(None),
            WeightScheme::Skill { radius_cells, .. } => radius_cells,
            _ => 0,
        };
        let sample = &inputs.forecasts[0];
        let bands = Bands::balanced(sample.coords.spatial.clone(), sample, ranks.size());
        if !bands.decomposed || bands.rows.iter().any(|r| r.is_empty()) {
            return Ok(None);
        }
        let mut starts = Vec::with_capacity(ctx.cfg.models.len());
        let mut file_variables = Vec::with_capacity(ctx.cfg.models.len());
        for m in &ctx.cfg.models {
            let opts = ReadOptions {
                years: ctx.cfg.years,
                model: Some(m.name.clone()),
                ..Default::default()
            };
            let path = ctx.path(&m.hindcast);
            let var = Some(m.file_variable(variable));
            starts.push(crate::pipeline::bands::start_count(&path, var, opts)?);
            file_variables.push(crate::io::resolve_var(&path, m.file_variable(variable))?);
        }
        Ok(Some(VariableBands {
            ranks,
            bands,
            halo,
            starts,
            file_variables,
        }))
    }

    /// This rank's band of the forecasts and observations every rank read whole.
    pub(super) fn cut(&self, inputs: &Inputs) -> Result<BandInputs> {
        let rank = self.ranks.rank();
        let read = self.bands.read_rows(rank, self.halo);
        let own_rows = self.bands.mine(rank);
        let rows_of_each = |cubes: &[Cube], rows: &Range<usize>| {
            cubes
                .iter()
                .map(|c| cube_rows(c, rows.clone()))
                .collect::<Result<Vec<_>>>()
        };
        Ok(BandInputs {
            forecasts: rows_of_each(&inputs.forecasts, &read)?,
            obs: cube_rows(&inputs.obs, read)?,
            own_forecasts: rows_of_each(&inputs.forecasts, &own_rows)?,
            own_in_read: (self.halo > 0).then(|| self.bands.own_in_read(rank, self.halo)),
            own_rows,
        })
    }

    /// Every rank's science of a lead (its own rows) stacked whole on rank 0; `None` on the
    /// others. A failure is rank 0's alone (what it received).
    pub(super) fn gather(&self, mine: LeadScience) -> Result<Option<LeadScience>> {
        let mut bytes = Vec::new();
        let encoded = (|| -> Result<()> {
            encode_products(&mine.hindcast, &mut bytes);
            encode_products(&mine.forecast, &mut bytes);
            encode_skill_maps(&mine.skill, &mut bytes);
            put_cube(&mine.observed, &mut bytes)?;
            for (h, f) in mine.hindcast_means.iter().zip(&mine.forecasts) {
                put_cube(h, &mut bytes)?;
                put_cube(f, &mut bytes)?;
            }
            Ok(())
        })();
        let models = mine.forecasts.len();
        drop(mine);
        // a band that cannot be encoded (never on a lat/lon grid) arrives empty: rank 0 fails
        if encoded.is_err() {
            bytes.clear();
        }
        let parts = self.ranks.gather_bytes_to_root(&bytes);
        drop(bytes);
        if !self.ranks.is_root() {
            return Ok(None);
        }
        encoded?;
        let (mut hindcast, mut forecast, mut skill) = (Vec::new(), Vec::new(), Vec::new());
        let mut observed = Vec::new();
        let mut means = vec![Vec::new(); models];
        let mut forecasts = vec![Vec::new(); models];
        for part in &parts {
            if part.is_empty() {
                return Err(Error::invalid(
                    "outlook",
                    "a rank sent no band of its products",
                ));
            }
            let mut at = 0;
            hindcast.push(decode_products(part, &mut at)?);
            forecast.push(decode_products(part, &mut at)?);
            skill.push(decode_skill_maps(part, &mut at)?);
            observed.push(take_piece(part, &mut at)?);
            for k in 0..models {
                means[k].push(take_piece(part, &mut at)?);
                forecasts[k].push(take_piece(part, &mut at)?);
            }
        }
        drop(parts);
        Ok(Some(LeadScience {
            hindcast: stack_product_rows(&hindcast)?,
            forecast: stack_product_rows(&forecast)?,
            skill: stack_skill_maps(&skill)?,
            observed: decode_cube_bands(observed)?,
            hindcast_means: means
                .into_iter()
                .map(decode_cube_bands)
                .collect::<Result<_>>()?,
            forecasts: forecasts
                .into_iter()
                .map(decode_cube_bands)
                .collect::<Result<_>>()?,
        }))
    }

    /// Every rank's drought outlook (its own rows) stacked whole on rank 0, with rank 0's
    /// words of its method; `None` on the others.
    pub(super) fn gather_drought(
        &self,
        (mine, method): (DroughtOutlook, MethodText),
    ) -> Result<Option<(DroughtOutlook, MethodText)>> {
        let mut bytes = Vec::new();
        encode_drought(&mine, &mut bytes);
        drop(mine);
        let parts = self.ranks.gather_bytes_to_root(&bytes);
        if !self.ranks.is_root() {
            return Ok(None);
        }
        let bands = parts
            .iter()
            .map(|p| decode_drought(p, &mut 0))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((stack_drought(&bands)?, method)))
    }
}

/// A cube's every row as one piece of a message ([`encode_cube_rows`], [`put_piece`]).
fn put_cube(c: &Cube, out: &mut Vec<u8>) -> Result<()> {
    let mut piece = Vec::new();
    encode_cube_rows(c, 0..c.coords.spatial.shape().0, &mut piece)?;
    put_piece(out, &piece);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::products::drought_rows;

    #[test]
    fn drought_bands_stack_back_to_the_whole_outlook() {
        use ndarray::{Array3, Array4};
        let (nl, ny, nx) = (2, 5, 3);
        let a4 = |k: usize, o: f32| {
            Array4::from_shape_fn((k, nl, ny, nx), |(c, l, y, x)| {
                o + (c * 1000 + l * 100 + y * 10 + x) as f32
            })
        };
        let whole = DroughtOutlook {
            class_probability: a4(7, 0.0),
            drought_probability: a4(3, 0.5),
            wet_probability: a4(3, 0.25),
            median_spi: Array3::from_shape_fn((nl, ny, nx), |(l, y, x)| (l + y + x) as f32),
            most_likely_class: Array3::from_shape_fn((nl, ny, nx), |(_, y, x)| (y * x) as i8 - 3),
            tendency: Some(Array3::from_shape_fn((nl, ny, nx), |(l, y, _)| {
                (l + y) as i8
            })),
        };
        let parts: Vec<DroughtOutlook> = [0..2, 2..2, 2..5]
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let mut bytes = Vec::new();
                encode_drought(&drought_rows(&whole, r), &mut bytes);
                decode_drought(&bytes, &mut 0).unwrap()
            })
            .collect();
        let back = stack_drought(&parts).unwrap();
        assert_eq!(back.class_probability, whole.class_probability);
        assert_eq!(back.drought_probability, whole.drought_probability);
        assert_eq!(back.wet_probability, whole.wet_probability);
        assert_eq!(back.median_spi, whole.median_spi);
        assert_eq!(back.most_likely_class, whole.most_likely_class);
        assert_eq!(back.tendency, whole.tendency);
        // a tendency in some bands only is refused
        let mut odd = parts;
        odd[0].tendency = None;
        assert!(stack_drought(&odd).is_err());
    }
}
