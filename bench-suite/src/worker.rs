//! Worker processes: each job's encode and scoring run in a child process (rdbench re-executing
//! itself as `rdbench __worker`), so a crash, an abort or the out-of-memory killer takes down
//! that job alone. A worker lives as long as its pool thread and runs that thread's jobs one at
//! a time (one start-up per thread, not per job); when it dies it is recorded against the job
//! it was running and the next job starts a new one.
//!
//! The protocol is JSON lines: the parent sends a [`WorkerInit`], then one [`WorkerJob`] per
//! job; the worker answers each job with its [`JobRun`]. The worker's stderr (FFmpeg's and the
//! encoders' logs) is kept as a short tail for the record of a job it died on.
//!
//! Fault injection for tests: `RDBENCH_INJECT_FAULT="JOB_ID=FAULT[;JOB_ID=FAULT...]"` makes the
//! worker, when it starts that job, segfault (`segfault`), abort (`abort`), hang (`hang`), exit
//! with a status (`exit:N`), fail to allocate (`alloc`) or die as the out-of-memory killer kills
//! (`oom`: it touches memory until the kernel kills it). Without the variable it does nothing.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError};
use rdbench_results::run::JobResult;
use rdbench_results::{EncodeRecord, JobStatus, RcMode};
use rdbench_transcode::process::{self, LogTail};
use rdbench_transcode::spec::RcSpec;
use serde::{Deserialize, Serialize};

use crate::cache::ResultCache;
use crate::execute::{execute, Context, JobRun};
use crate::grid::{Job, JobStage, SourceSequence};
use crate::suite::{ConfigSpec, PointSpec, Suite};

/// The environment variable naming faults to inject (see the module documentation).
pub const FAULT_ENV: &str = "RDBENCH_INJECT_FAULT";

/// What every job of a worker shares.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerInit {
    /// The suite's text.
    pub suite_text: String,
    /// Where it was read from.
    pub suite_path: Option<PathBuf>,
    /// The run's id.
    pub run_id: String,
    /// Git revision.
    pub git_revision: String,
    /// Host.
    pub host: String,
    /// The cache root, when caching is on.
    pub cache_root: Option<PathBuf>,
    /// Where encodes go when caching is off.
    pub scratch: PathBuf,
}

/// One job, as sent to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerJob {
    id: String,
    source: SourceSequence,
    config: ConfigSpec,
    mode: RcMode,
    point: u32,
    spec: PointSpec,
    rc: RcSpec,
    repetition: u32,
    #[serde(default)]
    stage: JobStage,
}

impl WorkerJob {
    fn of(job: &Job) -> WorkerJob {
        WorkerJob {
            id: job.id.clone(),
            source: (*job.source).clone(),
            config: (*job.config).clone(),
            mode: job.mode,
            point: job.point,
            spec: job.spec.clone(),
            rc: job.rc.clone(),
            repetition: job.repetition,
            stage: job.stage,
        }
    }

    fn job(self) -> Job {
        Job {
            id: self.id,
            source: Arc::new(self.source),
            config: Arc::new(self.config),
            mode: self.mode,
            point: self.point,
            spec: self.spec,
            rc: self.rc,
            repetition: self.repetition,
            cost: 0.0,
            stage: self.stage,
        }
    }
}

/// A job that did not finish (failed or timed out, with why), as a run with no measurements.
pub fn lost_job(run_id: &str, job: &Job, status: JobStatus, error: String) -> JobRun {
    JobRun {
        result: JobResult {
            record: failed_record(run_id, job, status, error),
            frames: Vec::new(),
        },
        cpu_s: 0.0,
        overhead_cpu_s: 0.0,
        encode_cpu_s: 0.0,
        wall_s: 0.0,
        score_cpu_s: 0.0,
    }
}

/// The record of a job that did not finish: who it was and why, nothing measured. Every
/// failure found outside the job itself (a lost worker, a timeout, a crash marker, a derived
/// target that has no source) is recorded through here.
pub fn failed_record(run_id: &str, job: &Job, status: JobStatus, error: String) -> EncodeRecord {
    EncodeRecord {
        run_id: run_id.to_string(),
        job_id: job.id.clone(),
        status,
        error: Some(error),
        corpus: job.source.corpus.clone(),
        sequence: job.source.seq.sequence.id.clone(),
        class: job.source.seq.sequence.class.to_string(),
        config: job.config.name.clone(),
        codec: job.config.encoder_name(),
        rc_mode: job.mode,
        rc_point: job.point,
        repetition: job.repetition,
        ..Default::default()
    }
}

/// A running worker process.
pub struct Worker {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    lines: Receiver<String>,
    log: LogTail,
}

impl Worker {
    /// Starts `exe __worker` and sends it `init`.
    pub fn spawn(exe: &Path, init: &WorkerInit) -> Result<Worker, String> {
        let mut child = Command::new(exe)
            .arg("__worker")
            // A crash's record keeps the worker's last lines: its message, not a backtrace.
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start a worker process ({}): {e}", exe.display()))?;
        let stdin = Some(BufWriter::new(child.stdin.take().expect("piped")));
        let stdout = child.stdout.take().expect("piped");
        let log = LogTail::default();
        if let Some(err) = child.stderr.take() {
            let _ = log.follow(err);
        }
        let (tx, lines) = unbounded();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let mut w = Worker {
            child,
            stdin,
            lines,
            log,
        };
        w.send(init)
            .map_err(|e| format!("cannot talk to the worker: {e}"))?;
        Ok(w)
    }

    fn send<T: Serialize>(&mut self, msg: &T) -> std::io::Result<()> {
        let w = self.stdin.as_mut().ok_or(std::io::ErrorKind::BrokenPipe)?;
        serde_json::to_writer(&mut *w, msg)?;
        w.write_all(b"\n")?;
        w.flush()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs `job`, killing the worker after `timeout`. `Err` when the worker did not answer:
    /// it is gone then (reaped), and the job's record says why.
    pub fn run(&mut self, job: &Job, timeout: Duration, run_id: &str) -> Result<JobRun, JobRun> {
        self.log.clear();
        if self.send(&WorkerJob::of(job)).is_err() {
            return Err(self.lost(job, run_id, None));
        }
        match self.lines.recv_timeout(timeout) {
            Ok(line) => serde_json::from_str(&line).map_err(|e| {
                lost_job(
                    run_id,
                    job,
                    JobStatus::Failed,
                    format!("internal error: the worker's answer does not parse: {e}"),
                )
            }),
            Err(RecvTimeoutError::Timeout) => {
                process::kill(self.pid());
                Err(self.lost(job, run_id, Some(timeout)))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.lost(job, run_id, None)),
        }
    }

    /// The record of the job a worker died on (reaping it).
    fn lost(&mut self, job: &Job, run_id: &str, timed_out: Option<Duration>) -> JobRun {
        // Reaped here: the handle must not be waited for again.
        self.stdin = None;
        let exit = process::wait(self.pid());
        let with_log = |what: String| self.log.with_tail(what);
        let mut run = match timed_out {
            Some(t) => lost_job(
                run_id,
                job,
                JobStatus::TimedOut,
                with_log(format!(
                    "timed out after {:.0} s and was killed (the suite's `timeout_s`)",
                    t.as_secs_f64()
                )),
            ),
            None => {
                let how = exit
                    .as_ref()
                    .map(|e| e.describe())
                    .unwrap_or_else(|e| format!("ended ({e})"));
                lost_job(
                    run_id,
                    job,
                    JobStatus::Failed,
                    with_log(format!("the worker process running this job {how}")),
                )
            }
        };
        run.cpu_s = exit.map(|e| e.cpu_s).unwrap_or(0.0);
        run
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing its input ends a worker between jobs; one that does not end within ten
        // seconds is killed. Either way it is reaped, so none is left behind.
        let Some(stdin) = self.stdin.take() else {
            return;
        };
        drop(stdin);
        let pid = self.pid();
        let watchdog = process::Watchdog::start(pid, Duration::from_secs(10));
        let _ = process::wait_ended(pid);
        watchdog.disarm();
        let _ = process::wait(pid);
    }
}

/// Injects the fault `RDBENCH_INJECT_FAULT` names for `job_id`, if any.
fn inject(job_id: &str) {
    let Ok(spec) = std::env::var(FAULT_ENV) else {
        return;
    };
    for item in spec.split(';') {
        let Some((id, fault)) = item.split_once('=') else {
            continue;
        };
        if id.trim() != job_id {
            continue;
        }
        eprintln!("rdbench-worker: injecting fault `{fault}` into {job_id}");
        match fault.trim() {
            "segfault" => process::raise_segfault(),
            "abort" => std::process::abort(),
            "oom" => {
                // Touch memory without bound until the kernel's out-of-memory killer ends the
                // process (under a memory cgroup's limit in the tests; the machine's otherwise).
                loop {
                    let chunk = vec![1u8; 64 << 20];
                    std::hint::black_box(Box::leak(chunk.into_boxed_slice()));
                }
            }
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            "alloc" => {
                let huge: Vec<u8> = Vec::with_capacity(usize::MAX / 4);
                std::hint::black_box(huge);
            }
            other => {
                if let Some(code) = other.strip_prefix("exit:") {
                    std::process::exit(code.parse().unwrap_or(1));
                }
            }
        }
    }
}

/// The worker's side: reads the [`WorkerInit`] and then jobs from `input`, answers each with its
/// [`JobRun`] on `output`, until `input` ends.
pub fn serve(input: impl BufRead, mut output: impl Write) -> Result<(), String> {
    process::die_with_parent();
    // When memory runs out, the kernel should kill a worker (one job lost, recorded) rather than
    // the harness (the whole run stopped). Best effort: a kernel without the file changes nothing.
    let _ = std::fs::write("/proc/self/oom_score_adj", "500");
    let mut lines = input.lines();
    let first = match lines.next() {
        Some(Ok(l)) => l,
        _ => return Ok(()),
    };
    let init: WorkerInit =
        serde_json::from_str(&first).map_err(|e| format!("worker: bad first message: {e}"))?;
    let suite = Suite::parse(&init.suite_text, init.suite_path.as_deref())
        .map_err(|e| format!("worker: {e}"))?;
    let ctx = Context {
        suite: &suite,
        run_id: init.run_id.clone(),
        git_revision: init.git_revision.clone(),
        host: init.host.clone(),
        cache: ResultCache::new(init.cache_root.as_deref()),
        scratch: init.scratch.clone(),
    };
    for line in lines {
        let line = line.map_err(|e| format!("worker: reading a job: {e}"))?;
        let wj: WorkerJob =
            serde_json::from_str(&line).map_err(|e| format!("worker: bad job message: {e}"))?;
        let job = wj.job();
        eprintln!("rdbench-worker: job {}", job.id);
        inject(&job.id);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(&ctx, &job)))
            .unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                lost_job(
                    &ctx.run_id,
                    &job,
                    JobStatus::Failed,
                    format!("internal error: {msg}"),
                )
            });
        serde_json::to_writer(&mut output, &run).map_err(|e| format!("worker: {e}"))?;
        output
            .write_all(b"\n")
            .and_then(|_| output.flush())
            .map_err(|e| format!("worker: writing an answer: {e}"))?;
    }
    Ok(())
}
