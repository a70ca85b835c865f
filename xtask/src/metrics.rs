//! `cargo xtask bench-metrics`: rdbench's metric kernels against libvmaf's own `vmaf` tool on the
//! same frames, in the same run, with the ratios printed (1080p 8-bit, 120 frames, one thread),
//! plus VMAF end to end from two compressed files against the tool on pre-decoded Y4M, and the
//! peak memory of a 4K comparison.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{self, median, Timing};

fn ffmpeg(args: &[&str]) -> Result<()> {
    util::run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(args),
    )
}

/// libvmaf's own tool, built by libvmaf-sys in the release profile.
fn vmaf_tool(root: &Path) -> Result<PathBuf> {
    let build = root.join("target/release/build");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&build)
        .with_context(|| format!("listing {}", build.display()))?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("libvmaf-sys-"))
        .map(|e| e.path().join("out/build/tools/vmaf"))
        .filter(|p| p.is_file())
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).context("libvmaf's vmaf tool was not built (target/release/build/libvmaf-sys-*/out/build/tools/vmaf)")
}

/// Parses "kernel 1.23 s (456.7 fps)" and "wall ..." from the example's output.
fn fps_after(text: &str, label: &str) -> Option<f64> {
    let i = text.find(label)?;
    let rest = &text[i..];
    let open = rest.find('(')?;
    rest[open + 1..].split_whitespace().next()?.parse().ok()
}

/// Runs `cmd` and samples its peak resident memory (VmHWM) while it runs.
fn peak_rss_mib(cmd: &mut Command) -> Result<(f64, f64)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0.0f64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(v) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
            {
                peak_kib = peak_kib.max(v);
            }
        }
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("{cmd:?} failed: {status}");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok((peak_kib / 1024.0, start.elapsed().as_secs_f64()))
}

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [] => 3,
        [flag, n] if flag == "-n" => n.parse().context("-n needs a number")?,
        _ => bail!("usage: cargo xtask bench-metrics [-n RUNS]"),
    };
    let root = util::project_root();
    util::build_release(&root, &["--bin", "rdbench"])?;
    util::build_release(
        &root,
        &["-p", "rdbench-metrics", "--example", "y4m_metrics"],
    )?;
    let tool = vmaf_tool(&root)?;
    let example = root.join("target/release/examples/y4m_metrics");
    let rdbench = root.join("target/release/rdbench");
    let work = root.join("target/bench-metrics");
    std::fs::create_dir_all(&work)?;
    let p = |name: &str| work.join(name).to_string_lossy().into_owned();
    if !work.join("dis.y4m").is_file() {
        eprintln!(
            "bench-metrics: generating 1080p test media in {}",
            work.display()
        );
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=30",
            "-frames:v",
            "120",
            "-pix_fmt",
            "yuv420p",
            &p("ref.y4m"),
        ])?;
        ffmpeg(&[
            "-i",
            &p("ref.y4m"),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "30",
            &p("dis.mkv"),
        ])?;
        ffmpeg(&["-i", &p("dis.mkv"), "-f", "yuv4mpegpipe", &p("dis.y4m")])?;
        // Compressed pair for the end-to-end VMAF: a near-lossless reference and a 720p rung.
        ffmpeg(&[
            "-i",
            &p("ref.y4m"),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "8",
            &p("ref.mkv"),
        ])?;
        ffmpeg(&[
            "-i",
            &p("ref.mkv"),
            "-vf",
            "scale=1280:720",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            &p("rung720.mkv"),
        ])?;
        ffmpeg(&["-i", &p("ref.mkv"), "-f", "yuv4mpegpipe", &p("ref_dec.y4m")])?;
        ffmpeg(&[
            "-i",
            &p("rung720.mkv"),
            "-vf",
            "scale=1920:1080:flags=bicubic",
            "-f",
            "yuv4mpegpipe",
            &p("rung_dec.y4m"),
        ])?;
        // 4K pair for the memory check.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=3840x2160:rate=30",
            "-frames:v",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "10",
            &p("ref4k.mkv"),
        ])?;
        ffmpeg(&[
            "-i",
            &p("ref4k.mkv"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "32",
            &p("dis4k.mkv"),
        ])?;
    }
    if !work.join("dis10.y4m").is_file() {
        eprintln!("bench-metrics: generating 10-bit 1080p test media");
        // A lossless 10-bit HEVC reference and a CRF 30 encode of it.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=30",
            "-frames:v",
            "120",
            "-pix_fmt",
            "yuv420p10le",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "lossless=1:log-level=error",
            &p("ref10.mkv"),
        ])?;
        ffmpeg(&[
            "-i",
            &p("ref10.mkv"),
            "-pix_fmt",
            "yuv420p10le",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-crf",
            "30",
            "-x265-params",
            "log-level=error",
            &p("dis10.mkv"),
        ])?;
        for (mkv, y4m) in [("ref10.mkv", "ref10.y4m"), ("dis10.mkv", "dis10.y4m")] {
            ffmpeg(&[
                "-i",
                &p(mkv),
                "-pix_fmt",
                "yuv420p10le",
                "-strict",
                "-1",
                "-f",
                "yuv4mpegpipe",
                &p(y4m),
            ])?;
        }
    }
    // Page cache warm.
    for f in [
        "ref.y4m",
        "dis.y4m",
        "ref_dec.y4m",
        "rung_dec.y4m",
        "ref10.y4m",
        "dis10.y4m",
    ] {
        let _ = std::fs::read(work.join(f));
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("bench-metrics: 1920x1080 8-bit, 120 frames (testsrc2 vs x264 CRF 30); median of {runs} runs; {cores} cores");
    println!("\none thread, kernels (rdbench) vs libvmaf's vmaf tool end to end on Y4M");
    println!(
        "  {:<14} {:>12} {:>14} {:>10} {:>14} {:>10}   goal",
        "metric", "libvmaf fps", "rdbench kernel", "ratio", "rdbench wall", "ratio"
    );
    for (feature, ours, goal) in [
        ("float_ssim", "ssim", 10.0),
        ("float_ms_ssim", "ms_ssim", 20.0),
        ("psnr", "psnr", 0.0),
        // VIF, the part of VMAF rdbench computes itself: no goal of its own, it pays for the
        // decoding in the end-to-end comparison below.
        ("vif", "vif", 0.0),
    ] {
        let mut anchor = Vec::new();
        let (mut kernel, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t: Timing = util::timed(Command::new(&tool).args([
                "-r",
                &p("ref.y4m"),
                "-d",
                &p("dis.y4m"),
                "--threads",
                "1",
                "-q",
                "-n",
                "--feature",
                feature,
                "--json",
                "-o",
                &p("out.json"),
            ]))?;
            anchor.push(120.0 / t.wall_s);
            let out = Command::new(&example)
                .args([&p("ref.y4m"), &p("dis.y4m"), ours])
                .output()?;
            if !out.status.success() {
                bail!(
                    "y4m_metrics failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            kernel.push(fps_after(&text, "kernel").context("parsing kernel fps")?);
            wall.push(fps_after(&text, "wall").context("parsing wall fps")?);
        }
        let (a, k, w) = (median(&anchor), median(&kernel), median(&wall));
        let verdict = if ours == "vif" {
            "(integer VIF, scores equal to libvmaf's)".to_string()
        } else if ours == "psnr" {
            format!(
                ">= 1500 fps: {}",
                if k >= 1500.0 { "met" } else { "NOT met" }
            )
        } else {
            format!(
                ">= {goal}x: {}",
                if k / a >= goal { "met" } else { "NOT met" }
            )
        };
        println!(
            "  {:<14} {:>12.1} {:>14.1} {:>9.1}x {:>14.1} {:>9.1}x   {verdict}",
            ours,
            a,
            k,
            k / a,
            w,
            w / a
        );
    }
    println!("\nVMAF end to end: rdbench from two compressed files (decode, scale, score) vs the tool on pre-decoded Y4M");
    for (what, ref_y4m, dis_y4m, ref_mkv, dis_mkv, threads) in [
        (
            "8-bit H.264, 720p rung scaled to 1080p",
            "ref_dec.y4m",
            "rung_dec.y4m",
            "ref.mkv",
            "rung720.mkv",
            1,
        ),
        (
            "8-bit H.264, 720p rung scaled to 1080p",
            "ref_dec.y4m",
            "rung_dec.y4m",
            "ref.mkv",
            "rung720.mkv",
            cores,
        ),
        (
            "10-bit HEVC, 1080p",
            "ref10.y4m",
            "dis10.y4m",
            "ref10.mkv",
            "dis10.mkv",
            1,
        ),
        (
            "10-bit HEVC, 1080p",
            "ref10.y4m",
            "dis10.y4m",
            "ref10.mkv",
            "dis10.mkv",
            cores,
        ),
    ] {
        let (mut a, mut r) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            a.push(
                util::timed(Command::new(&tool).args([
                    "-r",
                    &p(ref_y4m),
                    "-d",
                    &p(dis_y4m),
                    "--threads",
                    &threads.to_string(),
                    "-q",
                    "--json",
                    "-o",
                    &p("vmaf.json"),
                ]))?
                .wall_s,
            );
            r.push(
                util::timed(Command::new(&rdbench).args([
                    "metrics",
                    &p(ref_mkv),
                    &p(dis_mkv),
                    "--metrics",
                    "vmaf",
                    "--threads",
                    &threads.to_string(),
                    "--json",
                ]))?
                .wall_s,
            );
        }
        let (a, r) = (median(&a), median(&r));
        println!(
            "  {what}, {threads} thread(s): libvmaf tool {a:.2} s ({:.1} fps), rdbench {r:.2} s ({:.1} fps): {:.2}x  goal >= 1x: {}",
            120.0 / a,
            120.0 / r,
            a / r,
            if r <= a { "met" } else { "NOT met" }
        );
    }
    let (mib, secs) = peak_rss_mib(Command::new(&rdbench).args([
        "metrics",
        &p("ref4k.mkv"),
        &p("dis4k.mkv"),
        "--metrics",
        "vmaf,psnr,ssim,ms-ssim",
        "--json",
    ]))?;
    println!("\n4K (3840x2160, 30 frames) vmaf+psnr+ssim+ms-ssim: peak resident memory {mib:.0} MiB in {secs:.1} s  goal <= 1024 MiB: {}", if mib <= 1024.0 { "met" } else { "NOT met" });
    Ok(())
}
