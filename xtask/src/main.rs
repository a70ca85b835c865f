//! `cargo xtask`: the developer tasks of rdbench.
//!
//! - `cargo xtask test`: install missing system packages, then run every test in the `ci` profile.
//! - `cargo xtask bench`: install missing system packages, then run the main benchmark job.
//! - `cargo xtask bench-ladder`: the transcode core against the `ffmpeg` CLI on the same ladder.
//! - `cargo xtask deps`: only install missing system packages.
//!
//! Every task calls cargo through `$CARGO`, so it uses the toolchain that runs xtask.

mod deps;
mod ladder;
mod util;

use anyhow::{bail, Result};

const HELP: &str = "\
usage: cargo xtask <task> [args]

tasks:
  test [ARGS]        install missing system packages, then run all tests (ci profile); ARGS go to cargo test
  bench [ARGS]       install missing system packages, then run the main benchmark job (release build)
  bench-ladder [-n N] [--seconds S]
                     time rdbench's transcode core against the ffmpeg CLI on a 1080p ABR ladder
  deps               install missing system packages and exit
";

fn main() {
    if let Err(err) = run() {
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("test") => test(&rest),
        Some("bench") => bench(&rest),
        Some("bench-ladder") => {
            deps::ensure(deps::Need::Build)?;
            ladder::run(&rest)
        }
        Some("deps") => deps::ensure(deps::Need::Test),
        Some("help" | "-h" | "--help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n{HELP}"),
    }
}

/// `cargo xtask test`: every test of the workspace, built in the `ci` profile (optimised, with
/// debug assertions and overflow checks; libvmaf's C code is unusably slow at -O0).
fn test(rest: &[String]) -> Result<()> {
    deps::ensure(deps::Need::Test)?;
    let root = util::project_root();
    let mut cmd = util::cargo();
    cmd.current_dir(&root).args(["test", "--workspace", "--profile", "ci"]).args(rest);
    util::run(&mut cmd)
}

/// `cargo xtask bench`: the main job, in release.
fn bench(rest: &[String]) -> Result<()> {
    deps::ensure(deps::Need::Build)?;
    let root = util::project_root();
    util::run(util::cargo().current_dir(&root).args(["build", "--release", "--bin", "rdbench"]))?;
    let rdbench = root.join("target/release/rdbench");
    let mut cmd = std::process::Command::new(&rdbench);
    cmd.current_dir(&root).arg("demo").args(rest);
    eprintln!("xtask: the benchmark harness is not built yet; running the demo ladder transcode instead");
    util::run(&mut cmd)
}
