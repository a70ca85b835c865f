//! The `rdbench` command line.
fn main() {}
