//! Small helpers shared by the tasks: finding the project, calling cargo, running commands,
//! showing a command line, and measuring a child process's wall and CPU time and peak memory.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// The folder cargo builds into: `$CARGO_TARGET_DIR` when set, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                project_root().join(d)
            }
        }
        _ => project_root().join("target"),
    }
}

/// The available bytes `df -Pk` reports on its data line (the fourth column, in KiB).
pub fn parse_df_available(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Fails with one line when the file system that holds the build (the target folder, or its
/// nearest existing parent) has less than `cold_gib` free, or `warm_gib` when
/// `target/<profile>` already exists (an incremental build needs less). A build that runs out
/// of disk half-way fails with pages of linker errors instead.
pub fn ensure_disk(profile: &str, cold_gib: f64, warm_gib: f64) -> Result<()> {
    let target = target_dir();
    let warm = target.join(profile).is_dir();
    let need = if warm { warm_gib } else { cold_gib };
    let mut probe = target.as_path();
    while !probe.exists() {
        match probe.parent() {
            Some(p) => probe = p,
            None => return Ok(()),
        }
    }
    // Without `df` there is nothing to judge by: the build goes ahead.
    let Ok(out) = Command::new("df").arg("-Pk").arg(probe).output() else {
        return Ok(());
    };
    let Some(free) = parse_df_available(&String::from_utf8_lossy(&out.stdout)) else {
        return Ok(());
    };
    let gib = free as f64 / (1u64 << 30) as f64;
    if gib < need {
        bail!(
            "{} has {gib:.1} GiB free, and about {need:.0} GiB is needed for the {profile} build{}: \
             free some disk or point CARGO_TARGET_DIR elsewhere",
            probe.display(),
            if warm {
                " (incremental)"
            } else {
                " and its test files"
            },
        );
    }
    Ok(())
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

/// Wall and CPU time and peak resident memory of one finished child process.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub wall_s: f64,
    pub cpu_s: f64,
    /// Peak resident memory of the process and its descendants together, MiB.
    pub peak_rss_mib: f64,
}

/// Runs `cmd` to completion with its output discarded and returns its wall time, CPU time (as
/// [`timed`] measures it) and peak resident memory. The memory is sampled every 10 ms from
/// `/proc`: the larger of the process's own high-water mark (`VmHWM`, exact) and the largest sum
/// of the resident memory (`VmRSS`) of the process and all its descendants at one sample, so that
/// work spread over child processes counts in full (pages they share, such as the binary's own,
/// count once per process). A failure is reported with the last line the process wrote to stderr.
pub fn measured(cmd: &mut Command) -> Result<Usage> {
    let before = children_cpu_s()?;
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", shell_line(cmd)))?;
    // Drained on its own thread so that a chatty child never blocks on a full pipe.
    let mut stderr = child.stderr.take().context("the child's stderr")?;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let mut peak_kib = 0u64;
    let status = loop {
        peak_kib = peak_kib.max(tree_rss_kib(child.id()));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall_s = start.elapsed().as_secs_f64();
    let cpu_s = children_cpu_s()? - before;
    let stderr = reader.join().unwrap_or_default();
    if !status.success() {
        let program = std::path::Path::new(cmd.get_program())
            .file_name()
            .unwrap_or(cmd.get_program())
            .to_string_lossy()
            .into_owned();
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(nothing on stderr)");
        bail!("{program} failed ({status}): {}", last.trim());
    }
    Ok(Usage {
        wall_s,
        cpu_s,
        peak_rss_mib: peak_kib as f64 / 1024.0,
    })
}

/// One `/proc` sample of the memory of process `pid` and its descendants, KiB (see [`measured`]).
fn tree_rss_kib(pid: u32) -> u64 {
    let field = |pid: u32, name: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    };
    let mut sum = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        sum += field(p, "VmRSS:");
        todo.extend(child_pids(p));
    }
    field(pid, "VmHWM:").max(sum)
}

/// The child processes of `pid`, from every thread's `/proc/PID/task/TID/children`.
fn child_pids(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// `cmd` as a shell command line: the program and its arguments, each single-quoted when it
/// holds anything but letters, digits and `-_./=:,+`.
pub fn shell_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| shell_word(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_available_is_the_fourth_column_in_kib() {
        let text = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                    /dev/vda         263174212 46123456  49012345      49% /\n";
        assert_eq!(parse_df_available(text), Some(49_012_345 * 1024));
        assert_eq!(
            parse_df_available("Filesystem 1024-blocks Used Available\n"),
            None
        );
        assert_eq!(parse_df_available("header\n/dev/x 1 2 lots 3% /\n"), None);
    }

    #[test]
    fn shell_line_quotes_what_a_shell_would_split() {
        let mut c = Command::new("ffmpeg");
        c.args(["-i", "a b.mp4", "-vf", "x='1'", "", "out/c.mp4"]);
        assert_eq!(
            shell_line(&c),
            r"ffmpeg -i 'a b.mp4' -vf 'x='\''1'\''' '' out/c.mp4"
        );
    }
}

/// The `-n RUNS` argument of a benchmark task (`default` without it); anything else is an error
/// naming `task`'s usage.
pub fn parse_runs(args: &[String], default: usize, task: &str) -> Result<usize> {
    let mut runs = default;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .context("-n needs a number")?
            }
            other => bail!("unknown argument `{other}` (usage: cargo xtask {task} [-n RUNS])"),
        }
    }
    if runs == 0 {
        bail!("-n must be at least 1");
    }
    Ok(runs)
}
