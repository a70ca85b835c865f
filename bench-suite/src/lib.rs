//! The rdbench benchmark harness: suites, rayon-parallel encode grids through the transcode core,
//! scoring, results tables, caching, resume, sharding and the regression gate.
//!
//! Not started yet: this crate is filled in by the bench issue.

#![forbid(unsafe_code)]
