//! rdbench's results layer: what a benchmark run leaves behind and everything computed from it.
//! It depends on no codec library and no scorer: reports, merges and the gate read run folders
//! written on any machine.
//!
//! - [`record`]: the job records ([`EncodeRecord`], [`FrameRecord`]), the rows of the tables;
//!   [`types`] and [`metric`]: their typed values (rate-control mode, rate point, status, metric).
//! - [`run`]: the run folder (manifest, job records), loaded and written atomically;
//!   [`tables`]: `encodes` and `frames` as CSV and Parquet (polars).
//! - [`dataset`] and [`analysis`]: the one analysis — BD-rate per sequence, class and overall
//!   with bootstrap intervals, speed per rate point, rate-control error — within a run (against
//!   the anchor) and across runs (against a baseline); [`stats`]: its statistics.
//! - [`summary`]: `summary.json`/`summary.md` and finishing a run folder; [`merge`]: joining
//!   shards; [`gate`]: the regression gate; [`ladder`]: per-title ladders, their saving against
//!   a reference ladder and its averages per class.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod dataset;
pub mod gate;
pub mod ladder;
pub mod merge;
pub mod metric;
pub mod record;
pub mod run;
pub mod stats;
pub mod summary;
pub mod tables;
pub mod types;

pub use metric::Metric;
pub use record::{EncodeRecord, FrameRecord};
pub use types::{JobStatus, RcMode, RcPoint};
