//! `cargo xtask bench-ladder`: rdbench's transcode core against the `ffmpeg` CLI doing the same
//! job, measured in the same run: a generated 1080p 8 s source to a 1080/720/480/360 ladder with
//! libx264 veryfast CRF 23, once with one encoder thread per rung and once with the encoders'
//! default threads. Runs alternate (anchor, rdbench, anchor, ...) and medians are compared.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, median, Timing};

const RUNGS: [u32; 4] = [1080, 720, 480, 360];

struct Options {
    runs: usize,
    seconds: u32,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        runs: 3,
        seconds: 8,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--runs" => o.runs = it.next().context("-n needs a number")?.parse().context("-n needs a number")?,
            "--seconds" => o.seconds = it.next().context("--seconds needs a number")?.parse().context("--seconds needs a number")?,
            other => bail!("unknown argument `{other}` (usage: cargo xtask bench-ladder [-n RUNS] [--seconds S])"),
        }
    }
    if o.runs == 0 {
        bail!("-n must be at least 1");
    }
    Ok(o)
}

/// The anchor: FFmpeg's CLI with a split/scale filter graph and four libx264 outputs.
fn ffmpeg_command(src: &Path, out: &Path, one_thread: bool) -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-y", "-v", "error", "-nostdin", "-i"]).arg(src);
    c.args([
        "-filter_complex",
        "[0:v]split=4[a][b][c][d];[b]scale=-2:720[b2];[c]scale=-2:480[c2];[d]scale=-2:360[d2]",
    ]);
    for (label, rung) in ["[a]", "[b2]", "[c2]", "[d2]"].iter().zip(RUNGS) {
        c.args([
            "-map", label, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
        ]);
        if one_thread {
            c.args(["-threads", "1"]);
        }
        c.arg(out.join(format!("{rung}.mp4")));
    }
    c
}

/// The same ladder as an rdbench job spec.
fn job_spec(src: &Path, out: &Path, one_thread: bool) -> String {
    let mut s = format!("input = \"{}\"\n[defaults]\ncodec = \"libx264\"\npreset = \"veryfast\"\nrc = {{ mode = \"crf\", value = 23 }}\n", src.display());
    if one_thread {
        s.push_str("threads = 1\n");
    }
    for rung in RUNGS {
        s.push_str(&format!(
            "[[output]]\npath = \"{}\"\nheight = {rung}\n",
            out.join(format!("{rung}.mp4")).display()
        ));
    }
    s
}

fn sizes(dir: &Path) -> Result<Vec<u64>> {
    RUNGS
        .iter()
        .map(|r| {
            let p = dir.join(format!("{r}.mp4"));
            std::fs::metadata(&p)
                .map(|m| m.len())
                .with_context(|| format!("reading {}", p.display()))
        })
        .collect()
}

/// Runs the benchmark and prints the figures and ratios.
pub fn run(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let root = util::project_root();
    util::build_release(&root, &["--bin", "rdbench"])?;
    let rdbench = root.join("target/release/rdbench");
    let work = root.join("target/bench-ladder");
    std::fs::create_dir_all(&work)?;
    let src = work.join(format!("src-1080p-{}s.mp4", opts.seconds));
    if !src.exists() {
        eprintln!("bench-ladder: generating {}", src.display());
        util::run(
            Command::new("ffmpeg")
                .args(["-y", "-v", "error", "-nostdin", "-f", "lavfi", "-i"])
                .arg(format!(
                    "testsrc2=size=1920x1080:rate=30:duration={}",
                    opts.seconds
                ))
                .args([
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                ])
                .arg(&src),
        )?;
    }
    let host = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("bench-ladder: {} -> 1080/720/480/360, libx264 veryfast CRF 23; {} runs each; {cores} cores ({host})", src.display(), opts.runs);

    for (label, one_thread) in [
        ("encoders on 1 thread each", true),
        ("default encoder threads", false),
    ] {
        let ff_out = work.join(if one_thread {
            "ffmpeg-t1"
        } else {
            "ffmpeg-auto"
        });
        let rd_out = work.join(if one_thread {
            "rdbench-t1"
        } else {
            "rdbench-auto"
        });
        std::fs::create_dir_all(&ff_out)?;
        std::fs::create_dir_all(&rd_out)?;
        let job = work.join(if one_thread {
            "ladder-t1.toml"
        } else {
            "ladder-auto.toml"
        });
        std::fs::write(&job, job_spec(&src, &rd_out, one_thread))?;
        let mut ff: Vec<Timing> = Vec::new();
        let mut rd: Vec<Timing> = Vec::new();
        for _ in 0..opts.runs {
            ff.push(util::timed(&mut ffmpeg_command(&src, &ff_out, one_thread))?);
            rd.push(util::timed(
                Command::new(&rdbench).arg("transcode").arg(&job),
            )?);
        }
        let (ffw, ffc) = (
            median(&ff.iter().map(|t| t.wall_s).collect::<Vec<_>>()),
            median(&ff.iter().map(|t| t.cpu_s).collect::<Vec<_>>()),
        );
        let (rdw, rdc) = (
            median(&rd.iter().map(|t| t.wall_s).collect::<Vec<_>>()),
            median(&rd.iter().map(|t| t.cpu_s).collect::<Vec<_>>()),
        );
        println!("\n{label}");
        println!(
            "  {:<8} {:>8} {:>8} {:>11}",
            "", "wall s", "CPU s", "cores busy"
        );
        println!(
            "  {:<8} {:>8.2} {:>8.2} {:>11.2}",
            "ffmpeg",
            ffw,
            ffc,
            ffc / ffw
        );
        println!(
            "  {:<8} {:>8.2} {:>8.2} {:>11.2}",
            "rdbench",
            rdw,
            rdc,
            rdc / rdw
        );
        println!("  speed-up (ffmpeg wall / rdbench wall): {:.2}x", ffw / rdw);
        println!("  CPU ratio (rdbench / ffmpeg): {:.3}", rdc / ffc);
        if one_thread {
            println!(
                "  goal: speed-up >= 1.6x -> {}",
                if ffw / rdw >= 1.6 { "met" } else { "NOT met" }
            );
        } else {
            println!(
                "  goal: wall <= ffmpeg's and CPU <= 1.05x -> {}",
                if rdw <= ffw && rdc <= 1.05 * ffc {
                    "met"
                } else {
                    "NOT met"
                }
            );
        }
        let (fs, rs) = (sizes(&ff_out)?, sizes(&rd_out)?);
        for ((rung, a), b) in RUNGS.iter().zip(&fs).zip(&rs) {
            let d = (*b as f64 / *a as f64 - 1.0) * 100.0;
            println!(
                "  {rung:>4}p size: ffmpeg {a} B, rdbench {b} B ({d:+.2}%){}",
                if d.abs() <= 1.0 { "" } else { "  <- beyond 1%" }
            );
        }
    }
    Ok(())
}
