//! The `rdbench` command line: one module per subcommand under `cmd/`, each with an `Args`
//! struct (clap) and a `run` that turns the arguments into the library crates' validated types.

mod cmd;

use clap::Parser;

/// Encoder benchmarking and quality analysis.
#[derive(Debug, Parser)]
#[command(name = "rdbench", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() {
    let cli = Cli::parse();
    if let Err(err) = cmd::run(cli.command) {
        // One line: the chain of causes, outermost first. No backtrace for a user's mistake.
        eprintln!("rdbench: error: {err:#}");
        std::process::exit(1);
    }
}
