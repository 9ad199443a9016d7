//! Climate indices: the Standardized Precipitation Index (SPI) of an observed record and of a
//! forecast ensemble with its drought-class probabilities, and the extreme-forecast indices
//! (EFI, SOT) of an ensemble against its model climate.
//!
//! - [`spi`]: SPI at any accumulation scale from a monthly precipitation series or grid
//!   (McKee et al. 1993): k-month accumulations, a zero-inflated gamma distribution fitted per
//!   calendar month over a calibration period (Thom 1958 approximation or exact maximum
//!   likelihood), SPI = Φ⁻¹(q + (1 − q) G(x)), clipped to ±3.09.
//! - [`drought`]: forecast SPI — each member's forecast months appended to the observed
//!   history, standardised with the observed calibration — and the ensemble's probabilities of
//!   the SPI classes (moderate / severe / extreme drought and wetness), the most likely class,
//!   and whether a drought under way ends, persists or deepens.
//!
//! - [`efi`]: the Extreme Forecast Index (Lalaurette 2003; Zsótér 2006) in closed form and the
//!   Shift of Tails (Zsótér 2009) of an ensemble against its model climate, per cell.
//!
//! - [`drivers`]: the Niño 3.4 and Dipole Mode indices of each model's SST as anomaly plumes
//!   per model and for the MME, with El Niño / La Niña and IOD-phase probabilities.
//!
//! The SPI classes follow McKee et al. (1993) and the WMO SPI User Guide (WMO-No. 1090, 2012).

pub mod drivers;
pub mod drought;
pub mod efi;
pub mod spi;

pub use drought::{
    drought_outlook, fit_period_climatology, forecast_spi, gaussian_spi_outlook,
    latest_observed_spi, model_climatology_outlook, spi_class, standardize_periods,
    target_period_spi, DroughtOutlook, DroughtTendency, ForecastSpiInput, SpiClass, SPI_CLASSES,
};
pub use efi::{efi_sot_grid, extreme_forecast_index, shift_of_tails};
pub use spi::{
    spi_grid, spi_series, GammaFit, MonthlyAxis, MonthlyRecord, SpiFit, SpiGrid, SpiSpec,
    ZeroInflatedGamma,
};
