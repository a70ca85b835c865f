//! `rdbench merge SHARD... --out RUN`: joins shard run folders into one run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;

/// Join shard runs of one suite into one run folder.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The shard run folders.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The new, merged run folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `rdbench merge`.
pub fn run(args: Args) -> Result<()> {
    let summary = rdbench_bench_suite::merge::merge(&args.shards, &args.out)?;
    println!(
        "merged {} jobs from {} shards into {}",
        summary.harness.jobs_run,
        args.shards.len(),
        args.out.display()
    );
    Ok(())
}
