//! Climate indices for the drought products: the Standardized Precipitation Index (SPI) of an
//! observed record, and the SPI of a forecast ensemble with its drought-class probabilities.
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
//! The SPI classes follow McKee et al. (1993) and the WMO SPI User Guide (WMO-No. 1090, 2012).

pub mod drought;
pub mod spi;

pub use drought::{
    drought_outlook, fit_period_climatology, forecast_spi, gaussian_spi_outlook,
    latest_observed_spi, model_climatology_outlook, spi_class, standardize_periods,
    target_period_spi, DroughtOutlook, DroughtTendency, ForecastSpiInput, SpiClass, SPI_CLASSES,
};
pub use spi::{
    spi_grid, spi_series, GammaFit, MonthlyAxis, MonthlyRecord, SpiFit, SpiGrid, SpiSpec,
    ZeroInflatedGamma,
};
