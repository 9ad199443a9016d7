//! Integration tests: the library and the `s2s` binary on real and generated NetCDF files.

mod bias;
mod climpred;
mod combine;
mod common;
mod cyclones;
mod distributed;
mod drivers;
mod emergency;
mod extremes;
mod filesets;
mod grib;
mod help_examples;
mod inspect_cli;
mod layouts;
mod outlook;
mod probabilities;
mod products;
mod regrid;
mod reliability;
mod roundtrip;
mod seaice;
mod seasons;
mod spi;
mod synth;
mod verify;
mod xskillscore;
