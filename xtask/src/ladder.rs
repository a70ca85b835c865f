//! `cargo xtask bench-ladder`: rdbench's transcode core against the `ffmpeg` CLI on one ABR ladder.

use anyhow::{bail, Result};

/// Runs the ladder benchmark.
pub fn run(_args: &[String]) -> Result<()> {
    bail!("bench-ladder needs the transcode core, which is not built yet")
}
