//! The subcommands. Each module has an `Args` (clap) and a `run(Args) -> anyhow::Result<()>`.

use clap::Subcommand;

/// Every subcommand of `rdbench`.
#[derive(Debug, Subcommand)]
pub enum Command {
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
