//! `cargo xtask bench-workers`: what running each benchmark job in a worker process costs.
//!
//! The same small suite (two generated 640x360 clips, x264 and x265, 4 CRF points each, VMAF,
//! PSNR and SSIM, two jobs at a time) runs with `--no-cache` in turn on the pool's threads
//! (`--in-process`, the anchor) and in worker processes (the default), alternating. The figures
//! are the medians of the whole run's wall and CPU time and the overhead per encode: the extra
//! wall time of the worker run divided by the number of jobs, as a share of a job's mean time.

use std::process::Command;

use anyhow::Result;

use crate::util::{self, median, Timing};

const CLIPS: [(&str, &str); 2] = [
    (
        "pattern",
        "testsrc2=size=640x360:rate=30:duration=4,noise=alls=6:allf=t",
    ),
    ("fractal", "mandelbrot=size=640x360:rate=30,trim=duration=4"),
];

const CONFIGS: &str = "[[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"medium\"\nthreads = 1\ncrf = [19, 24, 29, 34]\n\
[[config]]\nname = \"x265\"\ncodec = \"libx265\"\npreset = \"fast\"\nthreads = 1\ncrf = [21, 26, 31, 36]\n";

/// Runs the benchmark and prints the figures.
pub fn run(args: &[String]) -> Result<()> {
    let runs = util::parse_runs(args, 3, "bench-workers")?;
    let root = util::project_root();
    util::build_release(&root, &["--bin", "rdbench"])?;
    let rdbench = root.join("target/release/rdbench");
    let work = root.join("target/bench-workers");
    std::fs::create_dir_all(&work)?;
    let mut corpus = String::from("name = \"workers\"\n");
    for (id, graph) in CLIPS {
        let y4m = work.join(format!("{id}.y4m"));
        if !y4m.exists() {
            util::run(
                Command::new("ffmpeg")
                    .args(["-y", "-v", "error", "-nostdin", "-f", "lavfi", "-i", graph])
                    .args(["-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"])
                    .arg(&y4m),
            )?;
        }
        corpus += &format!(
            "[[sequence]]\nid = \"{id}\"\nsource = {{ path = \"{}\" }}\nclass = \"C\"\nlicence = \"generated\"\n",
            y4m.display()
        );
    }
    let corpus_file = work.join("corpus.toml");
    std::fs::write(&corpus_file, corpus)?;
    let suite = work.join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"workers\"\ncorpora = [\"{}\"]\nmetrics = [\"vmaf\", \"psnr\", \"ssim\"]\nanchor = \"x264\"\njobs = 2\n{CONFIGS}",
            corpus_file.display()
        ),
    )?;
    let jobs = CLIPS.len() * 8;
    let bench = |in_process: bool, i: usize| -> Result<Timing> {
        let id = format!("{}-{i}", if in_process { "inproc" } else { "worker" });
        let _ = std::fs::remove_dir_all(work.join("runs").join(&id));
        let mut c = Command::new(&rdbench);
        c.args(["bench", "--no-cache", "--suite"])
            .arg(&suite)
            .arg("--runs-dir")
            .arg(work.join("runs"))
            .arg("--cache-dir")
            .arg(work.join("cache"))
            .args(["--run-id", &id]);
        if in_process {
            c.arg("--in-process");
        }
        util::timed(&mut c)
    };
    // One run of each first so that the corpus is decoded into the cache and the disk is warm.
    bench(true, 0)?;
    bench(false, 0)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "bench-workers: {} clips x 2 encoders x 4 CRF = {jobs} jobs, 2 at a time, --no-cache; {runs} runs each, alternating; {cores} cores",
        CLIPS.len()
    );
    let (mut inproc, mut worker) = (Vec::new(), Vec::new());
    for i in 1..=runs {
        inproc.push(bench(true, i)?);
        worker.push(bench(false, i)?);
    }
    let med = |t: &[Timing], f: fn(&Timing) -> f64| median(&t.iter().map(f).collect::<Vec<_>>());
    let (iw, ic) = (med(&inproc, |t| t.wall_s), med(&inproc, |t| t.cpu_s));
    let (ww, wc) = (med(&worker, |t| t.wall_s), med(&worker, |t| t.cpu_s));
    println!("  {:<12} {:>8} {:>8}", "", "wall s", "CPU s");
    println!("  {:<12} {:>8.2} {:>8.2}", "in-process", iw, ic);
    println!("  {:<12} {:>8.2} {:>8.2}", "workers", ww, wc);
    // A job's mean time on its thread: the in-process run's wall time x its concurrency / jobs.
    let per_job = iw * 2.0 / jobs as f64;
    let extra = (ww - iw) * 2.0 / jobs as f64;
    println!(
        "  workers / in-process: wall {:.3}, CPU {:.3}",
        ww / iw,
        wc / ic
    );
    println!(
        "  overhead per encode: {:+.1} ms of a {:.2} s job ({:+.2}%)",
        extra * 1000.0,
        per_job,
        extra / per_job * 100.0
    );
    println!(
        "  goal: mean overhead per encode <= 1% -> {}",
        if extra / per_job <= 0.01 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
