//! Small helpers shared by the tasks: finding the project, calling cargo, running commands,
//! and measuring a child process's wall and CPU time.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The workspace root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

/// A `cargo` command using the toolchain that runs xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, failing with its command line and status when it does not succeed.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Builds `what` (cargo target selection arguments) in release mode, quietly: benchmarks measure
/// release code only.
pub fn build_release(root: &std::path::Path, what: &[&str]) -> Result<()> {
    run(cargo()
        .current_dir(root)
        .args(["build", "--release", "--quiet"])
        .args(what))
}

/// Wall and CPU time of one finished child process.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub wall_s: f64,
    pub cpu_s: f64,
}

/// Runs `cmd` to completion with its output discarded and returns its wall time and the CPU time
/// (user + system, children included) it used. CPU time comes from this process's accounting of
/// waited-for children in `/proc/self/stat`, so only one child may run at a time.
pub fn timed(cmd: &mut Command) -> Result<Timing> {
    let before = children_cpu_s()?;
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("starting {cmd:?}"))?;
    let wall_s = start.elapsed().as_secs_f64();
    let after = children_cpu_s()?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(Timing {
        wall_s,
        cpu_s: after - before,
    })
}

/// User + system CPU seconds of all waited-for children (`cutime` + `cstime` of `/proc/self/stat`).
fn children_cpu_s() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .context("parsing /proc/self/stat")
    };
    // `after` starts at field 3 (state), so field n is index n - 3.
    let ticks_per_s = clock_ticks_per_second();
    Ok((ticks(16 - 3)? + ticks(17 - 3)?) / ticks_per_s)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Median of a non-empty list.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
