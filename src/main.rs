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
    rdbench_transcode::allocator::keep_frame_buffers();
    quiet_panics();
    let cli = Cli::parse();
    if let Err(err) = cmd::run(cli.command) {
        // One line: the chain of causes, outermost first. No backtrace for a user's mistake.
        // One line, whatever a library's message holds.
        // A cause that a message already quotes is not repeated.
        let mut text = err.to_string();
        for cause in err.chain().skip(1) {
            let cause = cause.to_string();
            if !text.contains(&cause) {
                text = format!("{text}: {cause}");
            }
        }
        let text = text.replace(['\r', '\n'], " ");
        eprintln!("rdbench: error: {text}");
        std::process::exit(err.downcast_ref::<cmd::Exit>().map_or(1, |e| e.code));
    }
}

/// A closed stdout (`rdbench corpus info | head`) ends the program quietly, as other command-line
/// tools do; any other panic is a bug in rdbench and says so in one line.
fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default(info);
        } else {
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("rdbench: internal error{at}: {msg} (a bug in rdbench; RUST_BACKTRACE=1 shows where)");
        }
    }));
}
