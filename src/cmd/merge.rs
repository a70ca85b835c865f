//! `rdbench merge SHARD... --out RUN`: joins shard run folders into one run, refusing an
//! incomplete or mismatched shard set unless `--allow-partial`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use rdbench_results::merge::{merge, MergeOptions};

/// Join shard runs of one suite into one run folder.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The shard run folders.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The new, merged run folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Merge an incomplete set of shards; the run is marked partial.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Runs `rdbench merge`.
pub fn run(args: Args) -> Result<()> {
    let outcome = merge(
        &args.shards,
        &args.out,
        &MergeOptions {
            allow_partial: args.allow_partial,
        },
    )?;
    for note in &outcome.notes {
        eprintln!("rdbench: note: {note}");
    }
    println!(
        "merged {} jobs from {} shards into {}",
        outcome.summary.jobs,
        args.shards.len(),
        args.out.display()
    );
    Ok(())
}
