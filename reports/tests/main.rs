//! Integration tests of rdbench-reports: a synthetic run folder rendered end to end (files,
//! sentences, table values, CSV columns), the study summary by exact output, bad input, and the
//! HTML page opened in headless Chromium.

mod browser;
mod errors;
mod fixture;
mod render;
mod summary;
