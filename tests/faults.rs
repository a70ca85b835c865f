//! Faults injected into real runs: a worker that segfaults, aborts, hangs, is killed as the
//! out-of-memory killer kills, exits with a status or cannot allocate, one job each mid-grid
//! (each recorded as such, every other job completes); the whole run killed with SIGKILL at ten
//! seeded random moments and resumed each time (the final records equal an uninterrupted run's
//! apart from timings, no finished job redone, no temporary file left); and the disk filling up
//! (a small tmpfs in a private mount namespace: one clear error, valid records, nothing half
//! written, and `--resume` on a larger disk completes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

use crate::bench::tiny_corpus as corpus;

/// x264 (byte-identical reruns, see the README's "Reproducibility") at four CRF points and two
/// ABR points, on both sequences: 12 jobs.
fn suite(dir: &Path, corpus: &Path, extra: &str) -> PathBuf {
    let p = dir.join("suite.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"faults\"\ncorpora = [\"{}\"]\nmetrics = [\"psnr\"]\nanchor = \"x264\"\njobs = 2\n{extra}\
             [[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"veryfast\"\nthreads = 1\ncrf = [20, 26, 32, 38]\nabr_bpp = [0.1, 0.2]\n",
            corpus.display()
        ),
    )
    .unwrap();
    p
}

fn records(run: &Path) -> BTreeMap<String, rdbench_results::EncodeRecord> {
    rdbench_results::run::load(run)
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| (j.record.job_id.clone(), j.record))
        .collect()
}

/// A record without what legitimately differs between runs (ids, timings, cache state).
fn comparable(r: &rdbench_results::EncodeRecord) -> String {
    let mut r = r.clone();
    r.run_id.clear();
    r.host.clear();
    (r.encode_wall_s, r.encode_cpu_s, r.encode_fps) = (0.0, 0.0, 0.0);
    (r.decode_wall_s, r.decode_cpu_s, r.score_wall_s, r.job_cpu_s) = (0.0, 0.0, 0.0, 0.0);
    r.encode_instructions = None;
    r.cached = false;
    serde_json::to_string(&r).unwrap()
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name.contains(".tmp")
                || name.starts_with(".running-")
                || name.contains(".decoding")
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_crashing_aborting_hanging_or_killed_job_fails_alone() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let c = corpus(dir, 8);
    let s = suite(dir, &c, "timeout_s = 8\n");
    let faults = [
        ("tiny/zoom/x264/crf/0/r0", "segfault"),
        ("tiny/zoom/x264/crf/1/r0", "abort"),
        ("tiny/zoom/x264/crf/2/r0", "hang"),
        ("tiny/grain/x264/crf/0/r0", "oom"),
        ("tiny/grain/x264/crf/1/r0", "exit:7"),
        ("tiny/grain/x264/crf/2/r0", "alloc"),
    ];
    let spec: Vec<String> = faults.iter().map(|(j, f)| format!("{j}={f}")).collect();
    let start = Instant::now();
    // The run goes into a memory cgroup of 512 MiB, so that the `oom` job (which touches memory
    // without bound) meets the kernel's real out-of-memory killer quickly.
    let cgroup = MemoryCgroup::new(512 << 20);
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {} && exec \"$0\" \"$@\"",
            cgroup.procs.display()
        ))
        .arg(env!("CARGO_BIN_EXE_rdbench"))
        .args(["bench", "--suite"])
        .arg(&s)
        .args([
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "f",
        ])
        .env("RDBENCH_INJECT_FAULT", spec.join(";"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(start.elapsed() < Duration::from_secs(120));
    let recs = records(&dir.join("runs/f"));
    assert_eq!(recs.len(), 12);
    let error = |id: &str| recs[id].error.clone().unwrap_or_default();
    assert!(
        error(faults[0].0).contains("killed by signal 11 (SIGSEGV)"),
        "{}",
        error(faults[0].0)
    );
    assert!(
        error(faults[0].0).contains("injecting fault `segfault`"),
        "the log tail is kept"
    );
    assert!(
        error(faults[1].0).contains("killed by signal 6 (SIGABRT)"),
        "{}",
        error(faults[1].0)
    );
    assert_eq!(
        recs[faults[2].0].status,
        rdbench_results::JobStatus::TimedOut
    );
    assert!(
        error(faults[2].0).contains("timed out after 8 s and was killed"),
        "{}",
        error(faults[2].0)
    );
    assert!(
        error(faults[3].0).contains("killed by signal 9 (SIGKILL: the out-of-memory killer"),
        "{}",
        error(faults[3].0)
    );
    assert!(
        cgroup.oom_kills() >= 1,
        "the kernel's out-of-memory killer did not act"
    );
    drop(cgroup);
    assert!(
        error(faults[4].0).contains("exit status 7"),
        "{}",
        error(faults[4].0)
    );
    assert!(
        error(faults[5].0).contains("SIGABRT") && error(faults[5].0).contains("memory allocation"),
        "{}",
        error(faults[5].0)
    );
    for (id, r) in &recs {
        if !faults.iter().any(|(f, _)| f == id) {
            assert!(r.is_ok(), "{id}: {:?}", r.error);
        }
    }
    assert!(temporaries(dir).is_empty(), "{:?}", temporaries(dir));
    // No worker is left behind.
    let left = Command::new("pgrep")
        .args(["-f", "rdbench __worker"])
        .output()
        .unwrap();
    let pids = String::from_utf8_lossy(&left.stdout).trim().to_string();
    assert!(pids.is_empty(), "workers left: {pids}");
}

/// A memory cgroup of this test's own (cgroup v1's memory hierarchy, or v2's where it holds the
/// memory controller), removed when dropped.
struct MemoryCgroup {
    dir: PathBuf,
    procs: PathBuf,
    v1: bool,
}

impl MemoryCgroup {
    fn new(limit: u64) -> MemoryCgroup {
        let name = format!("rdbench-faults-{}", std::process::id());
        let v1 = Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .map(|c| c.split_whitespace().any(|w| w == "memory"))
            .unwrap_or(false);
        let dir = if v1 {
            Path::new("/sys/fs/cgroup/memory").join(&name)
        } else if v2 {
            Path::new("/sys/fs/cgroup").join(&name)
        } else {
            panic!("the out-of-memory test needs a memory cgroup (cgroup v1 memory hierarchy or v2 memory controller) and root");
        };
        std::fs::create_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "creating the cgroup {}: {e} (the test needs root)",
                dir.display()
            )
        });
        let write = |file: &str, value: &str| {
            std::fs::write(dir.join(file), value)
                .unwrap_or_else(|e| panic!("writing {value} to {}/{file}: {e}", dir.display()))
        };
        if v1 {
            write("memory.limit_in_bytes", &limit.to_string());
            if dir.join("memory.memsw.limit_in_bytes").exists() {
                write("memory.memsw.limit_in_bytes", &limit.to_string());
            }
        } else {
            write("memory.max", &limit.to_string());
            write("memory.swap.max", "0");
        }
        MemoryCgroup {
            procs: dir.join("cgroup.procs"),
            dir,
            v1,
        }
    }

    /// How many processes the out-of-memory killer has killed in this cgroup.
    fn oom_kills(&self) -> u64 {
        let (file, key) = if self.v1 {
            ("memory.oom_control", "oom_kill ")
        } else {
            ("memory.events", "oom_kill ")
        };
        std::fs::read_to_string(self.dir.join(file))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0)
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // Its processes have ended (the run was waited for); an empty cgroup can be removed.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn killed_at_ten_random_moments_a_run_resumes_to_the_same_records() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let c = corpus(dir, 60);
    let s = suite(dir, &c, "");
    let bench = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbench"));
        cmd.args(["bench", "--suite"])
            .arg(&s)
            .args(["--runs-dir", "runs", "--cache-dir", "cache", "--no-cache"])
            .args(extra)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // The uninterrupted run (which also renders the corpus), then its time once the corpus
    // is there: the kills fall within that.
    assert!(bench(&["--run-id", "whole"]).status().unwrap().success());
    let t0 = Instant::now();
    assert!(bench(&["--run-id", "timed"]).status().unwrap().success());
    let whole = t0.elapsed();
    let expected = records(&dir.join("runs/whole"));
    // Ten kills at seeded moments within the job phase, each followed by a resume.
    let mut seed = rdbench_results::stats::SplitMix64::new(20261201);
    let mut started = false;
    let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut interrupted = 0;
    let jobs = dir.join("runs/k/jobs");
    for _ in 0..10 {
        let args: Vec<&str> = if started {
            vec!["--resume", "runs/k"]
        } else {
            vec!["--run-id", "k"]
        };
        let mut child = bench(&args).spawn().unwrap();
        // A seeded moment: after 0 or 1 more records, plus up to one job's time in the
        // uninterrupted run (two jobs at a time). Early kills land in the start-up, later ones
        // mid-job or mid-write; each leaves work to resume however fast the machine is.
        let count = || {
            std::fs::read_dir(&jobs)
                .map(|r| {
                    r.flatten()
                        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                        .count()
                })
                .unwrap_or(0)
        };
        let want = count() + (seed.next_u64() % 2) as usize;
        let t = Instant::now();
        while count() < want && t.elapsed() < whole * 4 && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let job = whole.mul_f64(2.0 / expected.len() as f64);
        std::thread::sleep(job.mul_f64((seed.next_u64() % 1000) as f64 / 1000.0));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // A run killed before its folder was made is started again, not resumed.
        started = dir.join("runs/k/manifest.json").is_file();
        // Every record written so far is intact and was not rewritten.
        for e in std::fs::read_dir(&jobs).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let bytes = std::fs::read(e.path()).unwrap();
            serde_json::from_slice::<rdbench_results::run::JobResult>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not a whole record: {e}"));
            if let Some(before) = kept.get(&name) {
                assert_eq!(before, &bytes, "{name} was redone");
            }
            kept.insert(name, bytes);
        }
        if kept.len() < expected.len() {
            interrupted += 1;
        }
    }
    assert!(bench(&["--resume", "runs/k"]).status().unwrap().success());
    let got = records(&dir.join("runs/k"));
    assert_eq!(got.len(), expected.len());
    for (id, r) in &expected {
        assert_eq!(comparable(&got[id]), comparable(r), "{id}");
    }
    assert!(
        temporaries(&dir.join("runs")).is_empty(),
        "{:?}",
        temporaries(dir)
    );
    assert!(
        interrupted >= 3,
        "only {interrupted} of the kills interrupted the run"
    );
}

#[test]
fn a_full_disk_stops_the_run_cleanly_and_resume_elsewhere_completes() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let c = corpus(dir, 30);
    let s = suite(dir, &c, "");
    // Generate the corpus on the big disk, so the small one fills with results.
    let warm = rdbench(
        dir,
        &[
            "corpus",
            "fetch",
            c.to_str().unwrap(),
            "--cache-dir",
            "cache",
        ],
    );
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    let small = dir.join("small");
    std::fs::create_dir(&small).unwrap();
    let exe = env!("CARGO_BIN_EXE_rdbench");
    // In a private mount namespace: a 1.2 MiB tmpfs holding the run folder and the result cache,
    // filled but for 150 KiB once the cache is copied in, whatever the content's size.
    let script = format!(
        "set -e; mount -t tmpfs -o size=1200k tmpfs {small}; cp -r cache {small}/cache; \
         avail=$(df -k --output=avail {small} | tail -1); \
         dd if=/dev/zero of={small}/filler bs=1k count=$((avail - 150)) 2>/dev/null; \
         {exe} bench --suite {suite} --runs-dir {small}/runs --cache-dir {small}/cache --run-id full > {dir}/out.txt 2> {dir}/err.txt && echo 0 > {dir}/status.txt || echo $? > {dir}/status.txt; \
         echo done > {dir}/status.done; \
         cp -r {small}/runs {dir}/runs-from-small",
        small = small.display(),
        dir = dir.display(),
        suite = s.display(),
    );
    let status = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .current_dir(dir)
        .status()
        .expect("unshare runs (root, util-linux)");
    assert!(status.success(), "the namespace script failed");
    let code: i32 = std::fs::read_to_string(dir.join("status.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let err = std::fs::read_to_string(dir.join("err.txt")).unwrap();
    assert_ne!(code, 0, "the run should not pass on a full disk");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("rdbench: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("No space left on device") && lines[0].contains("--resume"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // What was written is whole; nothing is half-written.
    let run = dir.join("runs-from-small/full");
    let done = records(&run);
    assert!(done.len() < 12, "the disk should fill before the end");
    assert!(temporaries(&run).is_empty(), "{:?}", temporaries(&run));
    // Resumed on the big disk, the run completes.
    let resumed = rdbench(
        dir,
        &[
            "bench",
            "--suite",
            s.to_str().unwrap(),
            "--runs-dir",
            "runs-from-small",
            "--cache-dir",
            "cache",
            "--resume",
            run.to_str().unwrap(),
        ],
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let all = records(&run);
    assert_eq!(all.len(), 12);
    assert!(all.values().all(|r| r.is_ok()));
    for (id, r) in &done {
        assert_eq!(
            comparable(&all[id]),
            comparable(r),
            "{id} changed on resume"
        );
    }
}
