//! The rdbench benchmark harness: suites, rayon-parallel encode grids through the transcode core,
//! scoring, caching, resume and sharding.
//!
//! A run is a folder written through the results layer (`rdbench_results::run`): `manifest.json`,
//! one record per finished job under `jobs/`, the tables, and the summary. The harness produces
//! the records; everything computed from them (summary, merge, gate) is `rdbench-results`.

#![forbid(unsafe_code)]

pub mod align;
pub mod cache;
pub mod compare;
pub mod crf_search;
pub mod execute;
pub mod grid;
pub mod harness;
pub mod ladder;
pub mod media;
pub mod per_title;
pub mod search;
mod source;
pub mod suite;
pub mod worker;
