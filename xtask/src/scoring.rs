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

/// Runs the benchmark and prints the figures.
pub fn run(args: &[String]) -> Result<()> {
    let runs = util::parse_runs(args, 2, "bench-scoring")?;
    let root = util::project_root();
    util::build_release(&root, &["--bin", "rdbench"])?;
    let rdbench = root.join("target/release/rdbench");
    let work = root.join("target/bench-scoring");
    let (runs_dir, cache) = (work.join("runs"), work.join("cache"));
    std::fs::create_dir_all(&runs_dir)?;
    let bench = |id: &str, alone: bool, keep_scores: bool| -> Result<Figures> {
        if !keep_scores {
            let scores = cache.join("bench/scores");
            if scores.exists() {
                std::fs::remove_dir_all(&scores)
                    .with_context(|| format!("emptying {}", scores.display()))?;
            }
        }
        let dir = runs_dir.join(id);
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Command::new(&rdbench);
        c.arg("bench")
            .arg("--runs-dir")
            .arg(&runs_dir)
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--run-id", id]);
        if alone {
            c.arg("--score-alone");
        }
        let t = util::timed(&mut c)?;
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let h = &v["harness"];
        let num = |k: &str| {
            h[k].as_f64()
                .with_context(|| format!("{}: no harness.{k}", path.display()))
        };
        Ok(Figures {
            wall_s: t.wall_s,
            score_cpu_s: num("score_cpu_s")?,
            encodes: num("encodes_scored")? as u64,
            grouped: num("encodes_scored_in_groups")? as u64,
        })
    };
    eprintln!("bench-scoring: materialising the corpus and the encodes (cold: several minutes)");
    bench("warm", false, true)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "bench-scoring: default suite, encodes cached, scores not; {runs} runs each, alternating; {cores} cores"
    );
    let (mut alone, mut grouped) = (Vec::new(), Vec::new());
    for i in 1..=runs {
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
    println!(
        "  alone / together: scoring CPU {:.3}x, wall {:.3}x",
        ac / gc,
        aw / gw
    );
    println!(
        "  goal: scoring CPU at least 1.5x lower -> {}",
        if ac / gc >= 1.5 { "met" } else { "NOT met" }
    );
    Ok(())
}
