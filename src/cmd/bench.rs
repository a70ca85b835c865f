//! `rdbench bench`: runs a benchmark suite (the embedded default suite unless one is given) and
//! writes a run folder; `--resume` continues a killed run, `--shard K/N` runs a slice.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use rdbench_bench_suite::grid::{parse_shard, shard_from_env};
use rdbench_bench_suite::harness::{self, Observer, RunOptions};
use rdbench_bench_suite::suite::Suite;
use rdbench_results::EncodeRecord;

/// Run a benchmark suite.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The suite (TOML); the embedded default suite when absent.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Where run folders are created.
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Continue this run folder (after a crash or kill).
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Run shard K of N (1-based); also read from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Number of shards, for JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's completions).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u32>,
    /// Concurrent jobs (default: the suite's, else cores / encoder threads).
    #[arg(long)]
    pub jobs: Option<u32>,
    /// Cache folder (corpora and results); default $RDBENCH_CACHE or ~/.cache/rdbench.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Neither reuse nor store cached encodes and scores.
    #[arg(long)]
    pub no_cache: bool,
    /// A fixed run id (the run folder's name).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Benchmark these media files (files, folders, `*` patterns) instead of the suite's
    /// corpora: each is probed and decoded once into the corpus cache.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub clips: Vec<PathBuf>,
    /// Run the suite on these corpora (names or manifest paths) instead of its own.
    #[arg(long, value_name = "NAME", num_args = 1.., conflicts_with = "clips")]
    pub corpus: Vec<String>,
    /// Resample variable-frame-rate clips to their nominal rate instead of refusing them.
    #[arg(long)]
    pub cfr: bool,
    /// Run the jobs on threads of this process instead of worker processes (no crash
    /// isolation: a crashing encoder takes the run down; for debugging and measuring the
    /// workers' cost).
    #[arg(long)]
    pub in_process: bool,
    /// Score each encode in its own job instead of all encodes of a source together (same
    /// scores; for measuring what scoring together saves).
    #[arg(long)]
    pub score_alone: bool,
}

/// A progress bar with ETA on a terminal, one line per finished job otherwise.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Observer for Progress {
    fn planned(&self, todo: usize, done: usize) {
        if done > 0 {
            self.note(&format!("{done} jobs already finished; {todo} to run"));
        } else {
            self.note(&format!("{todo} jobs to run"));
        }
        if let Some(b) = &self.bar {
            b.set_length(todo as u64);
        }
    }
    fn finished(&self, r: &EncodeRecord, done: usize, todo: usize) {
        let what = if r.is_ok() {
            format!(
                "{:.1} kbit/s{}{} {:.1} fps{}",
                r.bitrate_kbps,
                r.vmaf.map(|v| format!(" vmaf {v:.2}")).unwrap_or_default(),
                r.psnr_y
                    .map(|v| format!(" psnr {v:.2}"))
                    .unwrap_or_default(),
                r.encode_fps,
                if r.cached { " (cached)" } else { "" }
            )
        } else {
            format!("FAILED: {}", r.error.as_deref().unwrap_or(""))
        };
        match &self.bar {
            Some(b) => {
                b.set_position(done as u64);
                b.set_message(format!("{} {}", r.job_id, what));
            }
            None => println!("[{done}/{todo}] {} {what}", r.job_id),
        }
    }
    fn encoded(&self, r: &EncodeRecord, done: usize, todo: usize) {
        let what = format!("{:.1} kbit/s {:.1} fps", r.bitrate_kbps, r.encode_fps);
        match &self.bar {
            Some(b) => b.set_message(format!("encoded {done}/{todo}: {} {what}", r.job_id)),
            None => println!("[encode {done}/{todo}] {} {what}", r.job_id),
        }
    }
    fn note(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            // Without a terminal, progress goes to stdout with the per-job lines; stderr keeps
            // only what went wrong.
            None => println!("{text}"),
        }
    }
}

/// Runs `rdbench bench`.
pub fn run(args: Args) -> Result<()> {
    let mut suite = match &args.suite {
        Some(p) => Suite::load(p)?,
        None => Suite::default_suite(),
    };
    if !args.corpus.is_empty() {
        suite.spec.corpora = args.corpus.clone();
    }
    let shard = match (
        &args.shard,
        shard_from_env(|k| std::env::var(k).ok(), args.shard_count),
    ) {
        (Some(s), _) => Some(
            parse_shard(s)
                .ok_or_else(|| anyhow::anyhow!("--shard: `{s}` is not K/N with 1 <= K <= N"))?,
        ),
        (None, Ok(s)) => s,
        (None, Err(e)) => bail!("{e}"),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} jobs  eta {eta}  {wide_msg}")
                .expect("static template"),
        );
        b
    });
    let progress = Progress { bar };
    let options = RunOptions {
        runs_dir: args.runs_dir.clone(),
        resume: args.resume.clone(),
        shard,
        jobs: args.jobs,
        cache_dir: args.cache_dir.clone(),
        use_cache: !args.no_cache,
        command_line: std::env::args().collect(),
        git_revision: env!("RDBENCH_GIT_REV").to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        run_id: args.run_id.clone(),
        clips: args.clips.clone(),
        cfr: args.cfr,
        // Every job in a worker process of this binary, so a crash takes that job alone.
        worker: if args.in_process {
            None
        } else {
            Some(std::env::current_exe().context("finding the rdbench executable")?)
        },
        score_alone: args.score_alone,
    };
    let outcome = harness::run(&suite, &options, &progress);
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let outcome = outcome?;
    let h = &outcome.summary.harness;
    println!("run folder: {}", outcome.dir.display());
    println!(
        "{}",
        rdbench_results::summary::markdown(&outcome.summary)
            .lines()
            .filter(|l| !l.starts_with("## "))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
    );
    if h.all_cached() {
        println!("harness: every job came from the cache, so there are no timing figures");
    } else {
        println!(
        "harness: wall {:.1} s vs ideal {:.1} s (sum of job CPU {:.1} s / {} cores): ratio {:.3}; overhead per encode mean {:.2}%, max {:.2}%",
        h.wall_s,
        h.jobs_cpu_s / h.cores.max(1) as f64,
        h.jobs_cpu_s,
        h.cores,
        h.wall_over_ideal,
        h.overhead_pct_mean,
        h.overhead_pct_max
    );
    }
    if h.encodes_scored > 0 {
        println!(
            "harness: scoring (metrics and decoding) {:.1} CPU-s for {} encodes, {:.3} CPU-s an encode; {} of them scored together with the other encodes of their source",
            h.score_cpu_s,
            h.encodes_scored,
            h.score_cpu_s / h.encodes_scored as f64,
            h.encodes_scored_in_groups
        );
    }
    // The run's report: HTML, Markdown, charts and tables under <run>/report.
    let run = rdbench_reports::load_run(&outcome.dir)?;
    match rdbench_reports::render(&run, &rdbench_reports::ReportOptions::default()) {
        Ok(paths) => println!("report: {}", paths.html.display()),
        // A run whose every job failed has nothing to plot; its records still say why.
        Err(e @ rdbench_reports::ReportError::NoFinishedJobs { .. }) => {
            eprintln!("rdbench: note: no report: {e}")
        }
        Err(e) => return Err(e.into()),
    }
    if outcome.failed > 0 {
        eprintln!(
            "warning: {} jobs failed; their errors are in {}/encodes.csv",
            outcome.failed,
            outcome.dir.display()
        );
    }
    Ok(())
}
