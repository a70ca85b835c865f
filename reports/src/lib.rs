//! Reports for rdbench: RD curves, BD-rate tables, speed and bitrate-error charts, and the study
//! summary, rendered from a benchmark run folder as HTML, Markdown, CSV, PNG and SVG.
//!
//! Not started yet: this crate is filled in by the report issue.

#![forbid(unsafe_code)]
