//! Integration tests of rdbench-metrics: one test binary, one module per area.

mod bdrate;
mod ratecontrol;
