//! `cargo xtask bench-scoring`: what scoring each source's encodes together saves on the default
//! suite, against scoring every encode in its own job.
//!
//! The embedded default suite runs with its own cache (`target/bench-scoring/cache`): once to
//! materialise the corpus and encode everything (a cold run, several minutes), then, alternating,
//! with `--score-alone` (the anchor: each job decodes the source again and scores its encode
//! alone) and with the default grouped scoring, the score cache emptied before each run so that
//! every encode is scored and none encoded. The figures are the medians of the scoring CPU the
//! harness reports (metrics and decoding, from the run's `summary.json`) and of the runs' wall
//! time, and their ratios.
//!
//! `--baseline PATH` adds an `rdbench` binary of an earlier revision to every round (with a
//! cache of its own, filled by a cold run of it first): the same suite rescored by that build,
//! for the scoring CPU of a revision that reported no scoring figure of its own. Its figure is
//! the CPU of its jobs, every encode cached, so decoding and scoring (plus the harness's per-job
//! work, under 0.1%).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, median};

/// One run's figures.
struct Figures {
    wall_s: f64,
    score_cpu_s: f64,
    encodes: u64,
    grouped: u64,
}

/// One `bench` run of the default suite by `exe` with cache `cache` (its score cache emptied
/// first unless `keep_scores`), as run `id` under `runs_dir`: the `harness` section of its
/// `summary.json`, that file's path, and the run's wall time.
fn bench_run(
    exe: &Path,
    runs_dir: &Path,
    cache: &Path,
    id: &str,
    keep_scores: bool,
    extra: &[&str],
) -> Result<(serde_json::Value, PathBuf, f64)> {
    let scores = cache.join("bench/scores");
    if !keep_scores && scores.exists() {
        std::fs::remove_dir_all(&scores)
            .with_context(|| format!("emptying {}", scores.display()))?;
    }
    let dir = runs_dir.join(id);
    let _ = std::fs::remove_dir_all(&dir);
    let t = util::timed(
        Command::new(exe)
            .arg("bench")
            .arg("--runs-dir")
            .arg(runs_dir)
            .arg("--cache-dir")
            .arg(cache)
            .args(["--run-id", id])
            .args(extra),
    )?;
    let path = dir.join("summary.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    Ok((v["harness"].take(), path, t.wall_s))
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &[String]) -> Result<()> {
    let mut rest = Vec::new();
    let mut baseline: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--baseline" {
            let p = it
                .next()
                .context("--baseline needs the path of an rdbench binary")?;
            let p = PathBuf::from(p);
            if !p.is_file() {
                bail!("--baseline {}: no such file", p.display());
            }
            baseline = Some(std::fs::canonicalize(&p)?);
        } else {
            rest.push(a.clone());
        }
    }
    let runs = util::parse_runs(&rest, 2, "bench-scoring")?;
    let root = util::project_root();
    util::build_release(&root, &["--bin", "rdbench"])?;
    let rdbench = root.join("target/release/rdbench");
    let work = root.join("target/bench-scoring");
    let (runs_dir, cache) = (work.join("runs"), work.join("cache"));
    std::fs::create_dir_all(&runs_dir)?;
    // The baseline build: its job CPU with every encode cached, and its wall time.
    let base_cache = work.join("baseline-cache");
    let base = |exe: &Path, id: &str, keep_scores: bool| -> Result<(f64, f64)> {
        let (h, path, wall_s) = bench_run(exe, &runs_dir, &base_cache, id, keep_scores, &[])?;
        if !keep_scores && h["jobs_cached"].as_f64() != Some(0.0) {
            bail!(
                "{}: the baseline took whole jobs from its cache",
                path.display()
            );
        }
        let cpu = h["jobs_cpu_s"]
            .as_f64()
            .with_context(|| format!("{}: no harness.jobs_cpu_s", path.display()))?;
        Ok((cpu, wall_s))
    };
    let bench = |id: &str, alone: bool, keep_scores: bool| -> Result<Figures> {
        let extra: &[&str] = if alone { &["--score-alone"] } else { &[] };
        let (h, path, wall_s) = bench_run(&rdbench, &runs_dir, &cache, id, keep_scores, extra)?;
        let num = |k: &str| {
            h[k].as_f64()
                .with_context(|| format!("{}: no harness.{k}", path.display()))
        };
        Ok(Figures {
            wall_s,
            score_cpu_s: num("score_cpu_s")?,
            encodes: num("encodes_scored")? as u64,
            grouped: num("encodes_scored_in_groups")? as u64,
        })
    };
    eprintln!("bench-scoring: materialising the corpus and the encodes (cold: several minutes)");
    bench("warm", false, true)?;
    if let Some(exe) = &baseline {
        eprintln!("bench-scoring: the same for the baseline {}", exe.display());
        base(exe, "baseline-warm", true)?;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "bench-scoring: default suite, encodes cached, scores not; {runs} runs each, alternating; {cores} cores"
    );
    let (mut alone, mut grouped, mut based) = (Vec::new(), Vec::new(), Vec::new());
    for i in 1..=runs {
        if let Some(exe) = &baseline {
            based.push(base(exe, &format!("baseline-{i}"), false)?);
        }
        alone.push(bench(&format!("alone-{i}"), true, false)?);
        grouped.push(bench(&format!("grouped-{i}"), false, false)?);
    }
    for (name, f) in [("alone", &alone), ("grouped", &grouped)] {
        if f.iter().any(|f| f.encodes == 0) {
            bail!("the {name} runs scored nothing: was the score cache emptied?");
        }
    }
    if grouped.iter().any(|f| f.grouped == 0) || alone.iter().any(|f| f.grouped != 0) {
        bail!("the grouped runs scored nothing in groups, or the alone runs did");
    }
    let med = |f: &[Figures], g: fn(&Figures) -> f64| median(&f.iter().map(g).collect::<Vec<_>>());
    let (ac, aw) = (med(&alone, |f| f.score_cpu_s), med(&alone, |f| f.wall_s));
    let (gc, gw) = (
        med(&grouped, |f| f.score_cpu_s),
        med(&grouped, |f| f.wall_s),
    );
    let n = alone[0].encodes;
    println!(
        "  {:<28} {:>12} {:>14} {:>8}",
        "", "scoring CPU", "per encode", "wall s"
    );
    println!(
        "  {:<28} {:>12.1} {:>14.3} {:>8.1}",
        "each encode alone",
        ac,
        ac / n as f64,
        aw
    );
    println!(
        "  {:<28} {:>12.1} {:>14.3} {:>8.1}",
        "each source's together",
        gc,
        gc / n as f64,
        gw
    );
    if let Some(exe) = &baseline {
        let bc = median(&based.iter().map(|b| b.0).collect::<Vec<_>>());
        let bw = median(&based.iter().map(|b| b.1).collect::<Vec<_>>());
        println!(
            "  {:<28} {:>12.1} {:>14.3} {:>8.1}",
            "baseline build (job CPU)",
            bc,
            bc / n as f64,
            bw
        );
        println!("  baseline: {}", exe.display());
        println!(
            "  baseline / together: scoring CPU {:.3}x, wall {:.3}x; baseline / alone: {:.3}x",
            bc / gc,
            bw / gw,
            bc / ac
        );
        println!(
            "  goal against the baseline: scoring CPU at least 1.5x lower -> {}",
            if bc / gc >= 1.5 { "met" } else { "NOT met" }
        );
    }
    println!(
        "  alone / together: scoring CPU {:.3}x, wall {:.3}x",
        ac / gc,
        aw / gw
    );
    println!(
        "  goal against each encode alone: scoring CPU at least 1.5x lower -> {}",
        if ac / gc >= 1.5 { "met" } else { "NOT met" }
    );
    Ok(())
}
