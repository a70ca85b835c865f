//! End-to-end tests of the `rdbench` binary: what a user types and what they see.

mod support;

mod align;
mod analyze;
mod bench;
mod clips;
mod crf_search;
mod examples;
mod external;
mod faults;
mod fuzz;
mod gate;
mod ladder;
mod live;
mod metrics_cli;
mod probe;
mod slurm;
mod transcode_errors;
