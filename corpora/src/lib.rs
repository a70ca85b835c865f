//! Corpora for rdbench: manifests of test sequences, the generated default corpus `quick`,
//! fetching and verifying public sets, and content characterisation (SI/TI).
//!
//! Not started yet: this crate is filled in by the bench issue.

#![forbid(unsafe_code)]
