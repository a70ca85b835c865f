//! Integration tests of the benchmark harness on a tiny generated corpus.

mod support;

mod harness;
