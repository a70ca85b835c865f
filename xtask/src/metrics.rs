//! `cargo xtask bench-metrics`: rdbench's metric kernels against libvmaf's own `vmaf` tool on the
//! same frames, in the same run, with the ratios printed (1080p 8-bit, 120 frames, one thread),
//! plus VMAF end to end from two compressed files against the tool on pre-decoded Y4M, and the
//! peak memory of a 4K comparison.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    let mut runs = 3usize;
    let mut libvmaf_src: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => {
                runs = it
                    .next()
                    .context("-n needs a number")?
                    .parse()
                    .context("-n needs a number")?
            }
            "--libvmaf-src" => {
                libvmaf_src = Some(PathBuf::from(
                    it.next().context("--libvmaf-src needs a folder")?,
                ))
            }
            _ => bail!("usage: cargo xtask bench-metrics [-n RUNS] [--libvmaf-src DIR]"),
        }
    }
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
    let anchor32 = match &libvmaf_src {
        Some(src) => Some(build_libvmaf(src, &work.join("libvmaf-3.2.0"))?),
        None => {
            println!("\nlibvmaf 3.2.0: anchor not available (give its source with --libvmaf-src DIR; ../shared/ANCHORS.md says how to get it)");
            None
        }
    };
    vmaf_table(&tool, anchor32.as_deref(), &rdbench, &work, runs, cores)?;
    let usage = util::measured(Command::new(&rdbench).args([
        "metrics",
        &p("ref4k.mkv"),
        &p("dis4k.mkv"),
        "--metrics",
        "vmaf,psnr,ssim,ms-ssim",
        "--json",
    ]))?;
    let (mib, secs) = (usage.peak_rss_mib, usage.wall_s);
    println!("\n4K (3840x2160, 30 frames) vmaf+psnr+ssim+ms-ssim: peak resident memory {mib:.0} MiB in {secs:.1} s  goal <= 1024 MiB: {}", if mib <= 1024.0 { "met" } else { "NOT met" });
    Ok(())
}

/// Builds libvmaf's `vmaf` tool from the source folder `src` (the repository's root or its
/// `libvmaf/` folder) into `build` (meson, release), once; returns the tool's path.
fn build_libvmaf(src: &Path, build: &Path) -> Result<PathBuf> {
    let tool = build.join("tools/vmaf");
    if tool.is_file() {
        return Ok(tool);
    }
    let lib = if src.join("libvmaf/meson.build").is_file() {
        src.join("libvmaf")
    } else if src.join("meson.build").is_file() {
        src.to_path_buf()
    } else {
        bail!(
            "--libvmaf-src {}: no libvmaf/meson.build there",
            src.display()
        );
    };
    eprintln!(
        "bench-metrics: building libvmaf from {} (meson, release)",
        lib.display()
    );
    util::run(Command::new("meson").args([
        "setup".as_ref(),
        build.as_os_str(),
        lib.as_os_str(),
        "--buildtype".as_ref(),
        "release".as_ref(),
        "-Denable_tests=false".as_ref(),
        "-Denable_docs=false".as_ref(),
    ]))?;
    util::run(Command::new("ninja").arg("-C").arg(build).arg("tools/vmaf"))?;
    Ok(tool)
}

/// The pooled VMAF mean in a `vmaf` tool's JSON output.
fn tool_vmaf(json: &Path) -> Result<f64> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json)?)?;
    v["pooled_metrics"]["vmaf"]["mean"]
        .as_f64()
        .with_context(|| format!("{}: no pooled vmaf mean", json.display()))
}

/// One scorer's figures on one input: median wall time, CPU time, peak memory, pooled VMAF, and
/// the wall time of each round.
struct Measured {
    wall_s: f64,
    cpu_s: f64,
    peak_mib: f64,
    vmaf: f64,
    walls: Vec<f64>,
}

/// A command to time and how to read its pooled VMAF.
type Scorer<'a> = (
    Box<dyn FnMut() -> Command + 'a>,
    Box<dyn Fn(&[u8]) -> Result<f64> + 'a>,
);

/// Runs every scorer once per round for `runs` rounds, in turn, so that a machine whose speed
/// drifts slows each of them alike; then each once more for its peak memory and once for its
/// pooled VMAF (read right after its own run: the tools share output files).
fn measure_alternating(runs: usize, mut scorers: Vec<Scorer<'_>>) -> Result<Vec<Measured>> {
    let mut times: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); scorers.len()];
    for _ in 0..runs {
        for ((cmd, _), (wall, cpu)) in scorers.iter_mut().zip(&mut times) {
            let t = util::timed(&mut cmd())?;
            wall.push(t.wall_s);
            cpu.push(t.cpu_s);
        }
    }
    scorers
        .iter_mut()
        .zip(times)
        .map(|((cmd, score), (wall, cpu))| {
            let peak_mib = util::measured(&mut cmd())?.peak_rss_mib;
            let out = cmd().output()?;
            Ok(Measured {
                wall_s: median(&wall),
                cpu_s: median(&cpu),
                peak_mib,
                vmaf: score(&out.stdout)?,
                walls: wall,
            })
        })
        .collect()
}

/// How much faster `fast` is than `slow`, round by round: the median and the range.
struct Ratio {
    median: f64,
    min: f64,
    max: f64,
}

impl Ratio {
    fn of(slow: &Measured, fast: &Measured) -> Ratio {
        let r: Vec<f64> = slow
            .walls
            .iter()
            .zip(&fast.walls)
            .map(|(s, f)| s / f)
            .collect();
        Ratio {
            median: median(&r),
            min: r.iter().copied().fold(f64::INFINITY, f64::min),
            max: r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2}x ({:.2}-{:.2})", self.median, self.min, self.max)
    }
}

/// VMAF (vmaf_v0.6.1), whole process: libvmaf 2.3.1's tool, libvmaf 3.2.0's tool (when built)
/// and `rdbench metrics`, on the same pre-decoded Y4M pairs, 1 thread and every core; then
/// rdbench from the compressed files against 3.2.0 on Y4M.
fn vmaf_table(
    tool23: &Path,
    tool32: Option<&Path>,
    rdbench: &Path,
    work: &Path,
    runs: usize,
    cores: usize,
) -> Result<()> {
    let p = |name: &str| work.join(name);
    let tool = |exe: &Path, r: &str, d: &str, threads: usize| {
        let (exe, r, d, out) = (
            exe.to_path_buf(),
            p(r),
            p(d),
            p(&format!("vmaf-{threads}.json")),
        );
        move || {
            let mut c = Command::new(&exe);
            c.arg("-r")
                .arg(&r)
                .arg("-d")
                .arg(&d)
                .args(["--threads", &threads.to_string(), "-q", "--json", "-o"])
                .arg(&out);
            c
        }
    };
    let tool_score = |threads: usize| {
        let out = p(&format!("vmaf-{threads}.json"));
        move |_: &[u8]| tool_vmaf(&out)
    };
    // `--no-align` as the tools do not align; `ours_default` is the command as a user types it,
    // which first searches the distorted file's offset.
    let ours_aligned = |r: &str, d: &str, threads: usize, search: bool| {
        let (exe, r, d) = (rdbench.to_path_buf(), p(r), p(d));
        move || {
            let mut c = Command::new(&exe);
            c.arg("metrics").arg(&r).arg(&d).args([
                "--metrics",
                "vmaf",
                "--threads",
                &threads.to_string(),
                "--json",
            ]);
            if !search {
                c.arg("--no-align");
            }
            c
        }
    };
    let ours = |r: &str, d: &str, threads: usize| ours_aligned(r, d, threads, false);
    let our_score = |stdout: &[u8]| -> Result<f64> {
        let v: serde_json::Value = serde_json::from_slice(stdout)?;
        if v["vmaf_path"].as_str() != Some("native") {
            bail!(
                "rdbench metrics did not take the native path: {}",
                v["vmaf_path"]
            );
        }
        v["pooled"]["vmaf"]["mean"]
            .as_f64()
            .context("rdbench metrics printed no VMAF mean")
    };
    println!("\nVMAF (vmaf_v0.6.1), 1920x1080, 120 frames, whole process on pre-decoded Y4M; the scorers run in turn, {runs} rounds: median wall, CPU, peak memory, pooled VMAF; ratios are the median of the rounds' (and their range)");
    println!(
        "  {:<22} {:>7}  {:>26}  {:>26}  {:>26}  {:>18}  {:>18}   goal",
        "input", "threads", "libvmaf 2.3.1", "libvmaf 3.2.0", "rdbench", "vs 2.3.1", "vs 3.2.0"
    );
    let cell = |m: &Measured| {
        format!(
            "{:.2} s {:.1} CPU-s {:.0} MiB",
            m.wall_s, m.cpu_s, m.peak_mib
        )
    };
    let mut scores = Vec::new();
    for (what, r, d) in [
        ("8-bit, x264 CRF 30", "ref.y4m", "dis.y4m"),
        ("10-bit, x265 CRF 30", "ref10.y4m", "dis10.y4m"),
    ] {
        for threads in [1, cores] {
            let mut scorers: Vec<Scorer<'_>> = vec![(
                Box::new(tool(tool23, r, d, threads)),
                Box::new(tool_score(threads)),
            )];
            if let Some(t) = tool32 {
                scorers.push((
                    Box::new(tool(t, r, d, threads)),
                    Box::new(tool_score(threads)),
                ));
            }
            scorers.push((Box::new(ours(r, d, threads)), Box::new(our_score)));
            let mut measured = measure_alternating(runs, scorers)?.into_iter();
            let a23 = measured.next().context("libvmaf 2.3.1 measured")?;
            let a32 = if tool32.is_some() {
                measured.next()
            } else {
                None
            };
            let us = measured.next().context("rdbench measured")?;
            let (vs32, goal) = match &a32 {
                Some(a) => {
                    let ratio = Ratio::of(a, &us);
                    let memory = us.peak_mib <= a.peak_mib;
                    (
                        ratio.to_string(),
                        format!(
                            ">= 1.5x and memory <= 3.2.0's: {}",
                            if ratio.median >= 1.5 && memory {
                                "met"
                            } else {
                                "NOT met"
                            }
                        ),
                    )
                }
                None => ("n/a".into(), "anchor not available".into()),
            };
            println!(
                "  {what:<22} {threads:>7}  {:>26}  {:>26}  {:>26}  {:>18}  {vs32:>18}   {goal}",
                cell(&a23),
                a32.as_ref().map(cell).unwrap_or_else(|| "n/a".into()),
                cell(&us),
                Ratio::of(&a23, &us).to_string(),
            );
            scores.push((what, threads, a23.vmaf, a32.map(|a| a.vmaf), us.vmaf));
        }
    }
    println!("  pooled VMAF: rdbench equals libvmaf 2.3.1 (its kernels are bit-identical); 3.2.0 for comparison");
    for (what, threads, a23, a32, us) in &scores {
        println!(
            "    {what}, {threads} thread(s): 2.3.1 {a23:.6}, 3.2.0 {}, rdbench {us:.6}: {}",
            a32.map(|v| format!("{v:.6}"))
                .unwrap_or_else(|| "n/a".into()),
            if (us - a23).abs() <= 1e-4 {
                "equal"
            } else {
                "DIFFERENT"
            }
        );
    }
    if let Some(t32) = tool32 {
        println!("\nThe default command, which searches the offset within +-30 frames first (the tools do not align)");
        for threads in [1, cores] {
            let mut measured = measure_alternating(
                runs,
                vec![
                    (
                        Box::new(tool(t32, "ref.y4m", "dis.y4m", threads)),
                        Box::new(tool_score(threads)),
                    ),
                    (
                        Box::new(ours_aligned("ref.y4m", "dis.y4m", threads, true)),
                        Box::new(our_score),
                    ),
                ],
            )?
            .into_iter();
            let (a, us) = match (measured.next(), measured.next()) {
                (Some(a), Some(us)) => (a, us),
                _ => bail!("a scorer was not measured"),
            };
            println!(
                "  8-bit, {threads} thread(s): libvmaf 3.2.0 {}, rdbench {}: {} (informative)",
                cell(&a),
                cell(&us),
                Ratio::of(&a, &us)
            );
        }
    }
    println!("\nVMAF from compressed files (rdbench decodes, and scales the 720p rung to 1080p) vs the tools on pre-decoded Y4M");
    for (what, ref_y4m, dis_y4m, ref_mkv, dis_mkv) in [
        (
            "8-bit H.264, 720p rung",
            "ref_dec.y4m",
            "rung_dec.y4m",
            "ref.mkv",
            "rung720.mkv",
        ),
        (
            "10-bit HEVC, 1080p",
            "ref10.y4m",
            "dis10.y4m",
            "ref10.mkv",
            "dis10.mkv",
        ),
    ] {
        for threads in [1, cores] {
            let anchor = tool32.unwrap_or(tool23);
            let mut measured = measure_alternating(
                runs,
                vec![
                    (
                        Box::new(tool(anchor, ref_y4m, dis_y4m, threads)),
                        Box::new(tool_score(threads)),
                    ),
                    (
                        Box::new(ours(ref_mkv, dis_mkv, threads)),
                        Box::new(our_score),
                    ),
                ],
            )?
            .into_iter();
            let (a, us) = match (measured.next(), measured.next()) {
                (Some(a), Some(us)) => (a, us),
                _ => bail!("a scorer was not measured"),
            };
            let ratio = Ratio::of(&a, &us);
            println!(
                "  {what}, {threads} thread(s): libvmaf {} tool {:.2} s, rdbench {:.2} s: {ratio}  goal >= 1x{}: {}",
                if tool32.is_some() { "3.2.0" } else { "2.3.1" },
                a.wall_s,
                us.wall_s,
                if threads == cores { "" } else { " (informative)" },
                if ratio.median >= 1.0 { "met" } else { "NOT met" }
            );
        }
    }
    Ok(())
}
