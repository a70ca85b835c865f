//! The rdbench benchmark harness: suites, rayon-parallel encode grids through the transcode core,
//! scoring, results tables, caching, resume, sharding and the regression gate.
//!
//! A run is a folder (see [`run`]): `manifest.json`, one record per finished job under `jobs/`,
//! the tables `encodes.{parquet,csv}` and `frames.{parquet,csv}`, and `summary.json`/`summary.md`.
//! The record types in [`record`] are the columns of those tables.

#![forbid(unsafe_code)]

pub mod cache;
pub mod compare;
pub mod execute;
pub mod gate;
pub mod grid;
pub mod harness;
pub mod merge;
pub mod record;
pub mod run;
pub mod suite;
pub mod summary;
pub mod tables;
