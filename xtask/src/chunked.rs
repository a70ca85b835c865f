//! `cargo xtask bench-chunked`: chunked parallel transcoding against the same job unchunked,
//! measured in the same run. A generated 1080p 30 fps source with an audio track (60 s by
//! default) goes to one MP4 output (libx265 medium, CRF 28, one encoder thread, AAC 128 kbit/s),
//! once as one job and once split into chunks (`[execution] chunked`) that parallel workers encode
//! and rdbench joins. Runs alternate, chunked first so that a job rdbench refuses fails at once;
//! the figures are each side's median wall time, peak memory, file size, frame count and VMAF
//! against the source, the ratios against their goals, and how the chunked wall scales with cores.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{bail, Context, Result};

use crate::util::{self, median, Usage};

/// Frame rate of the generated source.
const FPS: u32 = 30;

/// The source's picture: a Mandelbrot zoom (smooth areas, fine edges, steady zoom motion) under
/// a quarter-opacity Game of Life grown from a fixed seed and scaled up (small moving shapes).
const VIDEO_GRAPH: &str = "mandelbrot=size=1920x1080:rate=30[m];\
life=size=480x270:rate=30:seed=1:ratio=0.1:mold=10:life_color=#e0c070:death_color=#301020:mold_color=#103040,\
scale=1920:1080:flags=bicubic[l];[m][l]blend=all_mode=normal:all_opacity=0.25,format=yuv420p";

/// The source's sound: a 440 Hz tone beeping once a second.
const AUDIO_GRAPH: &str = "sine=frequency=440:beep_factor=4:sample_rate=48000";

/// Goal: the chunked side's wall time at most this share of the unchunked side's.
const GOAL_WALL_RATIO: f64 = 0.6;
/// Goal: the chunked file's size within this share of the unchunked file's.
const GOAL_SIZE_SHARE: f64 = 0.01;
/// Goal: the two outputs' VMAF against the source within this many points.
const GOAL_VMAF_DELTA: f64 = 0.3;

const USAGE: &str = "usage: cargo xtask bench-chunked [-n RUNS] [--seconds S] [--chunk-seconds S] [--workers N] [--gop FRAMES] [--rdbench PATH]";

/// How the chunked side splits and runs the job.
#[derive(Clone, Debug, PartialEq)]
struct Chunking {
    /// Chunk length, seconds.
    seconds: f64,
    /// Chunks encoded at once.
    workers: usize,
}

#[derive(Debug, PartialEq)]
struct Options {
    runs: usize,
    seconds: u32,
    chunking: Chunking,
    /// The keyframe interval both sides set, in frames (None: the encoder's own). Chunks are
    /// then whole GOPs, so both files have their keyframes in the same places.
    gop: Option<u32>,
    /// A given rdbench binary instead of the workspace's release build.
    rdbench: Option<PathBuf>,
}

fn parse(args: &[String], cores: usize) -> Result<Options> {
    fn value<T: FromStr>(
        it: &mut std::slice::Iter<'_, String>,
        flag: &str,
        what: &str,
    ) -> Result<T> {
        let v = it.next().with_context(|| format!("{flag} needs {what}"))?;
        v.parse()
            .ok()
            .with_context(|| format!("{flag} needs {what}, not `{v}`"))
    }
    let mut o = Options {
        runs: 1,
        seconds: 60,
        // Thirty chunks of a minute spread evenly over two workers (an odd count, or three
        // long ones, would leave one idle at the end), each one 2 s GOP of a streaming ladder,
        // starting on the source's keyframes (every 2 s).
        chunking: Chunking {
            seconds: 2.0,
            workers: cores.max(1),
        },
        gop: Some(60),
        rdbench: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--runs" => o.runs = value(&mut it, "-n", "a number of runs")?,
            "--seconds" => o.seconds = value(&mut it, "--seconds", "a whole number of seconds")?,
            "--chunk-seconds" => {
                o.chunking.seconds = value(&mut it, "--chunk-seconds", "a number of seconds")?
            }
            "--workers" => o.chunking.workers = value(&mut it, "--workers", "a number of workers")?,
            "--gop" => {
                let g: u32 = value(
                    &mut it,
                    "--gop",
                    "a number of frames (0: the encoder's own)",
                )?;
                o.gop = (g > 0).then_some(g);
            }
            "--rdbench" => {
                o.rdbench = Some(value(
                    &mut it,
                    "--rdbench",
                    "the path of an rdbench binary",
                )?)
            }
            other => bail!("unknown argument `{other}` ({USAGE})"),
        }
    }
    if o.runs == 0 {
        bail!("-n must be at least 1");
    }
    if o.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    if !(o.chunking.seconds.is_finite() && o.chunking.seconds > 0.0) {
        bail!("--chunk-seconds must be a positive number of seconds");
    }
    if o.chunking.workers == 0 {
        bail!("--workers must be at least 1");
    }
    Ok(o)
}

/// The `ffmpeg` arguments writing the source (`seconds` long) as MP4 to `out`: high-quality
/// H.264 with a keyframe every 2 s, and AAC audio.
fn source_args(seconds: u32, out: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "-y",
        "-v",
        "error",
        "-nostdin",
        "-f",
        "lavfi",
        "-i",
        VIDEO_GRAPH,
    ]
    .into_iter()
    .chain(["-f", "lavfi", "-i", AUDIO_GRAPH])
    .map(String::from)
    .collect();
    a.extend(["-t".to_string(), seconds.to_string()]);
    a.extend(
        [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-g", "60", "-pix_fmt",
            "yuv420p", "-c:a", "aac", "-b:a", "192k", "-f", "mp4",
        ]
        .map(String::from),
    );
    a.push(out.display().to_string());
    a
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The rdbench job of one side: `src` to `out`, chunked when `chunking` is given, with a
/// keyframe every `gop` frames when given.
fn job_spec(src: &Path, out: &Path, chunking: Option<&Chunking>, gop: Option<u32>) -> String {
    let mut s = format!("input = {}\n", toml_string(&src.display().to_string()));
    if let Some(c) = chunking {
        s += &format!(
            "\n[execution]\nchunked = {{ seconds = {}, workers = {} }}\n",
            c.seconds, c.workers
        );
    }
    s += &format!(
        "\n[[output]]\npath = {}\ncodec = \"libx265\"\npreset = \"medium\"\nthreads = 1\n\
         rc = {{ mode = \"crf\", value = 28 }}\naudio = {{ codec = \"aac\", bitrate_kbps = 128 }}\n",
        toml_string(&out.display().to_string())
    );
    if let Some(g) = gop {
        s += &format!("gop = {g}\n");
    }
    s
}

/// Generates the source into `work` unless a file made with the same arguments is there (the
/// arguments are kept beside it); returns its path and the command that made it.
fn ensure_source(work: &Path, seconds: u32) -> Result<(PathBuf, Command)> {
    let src = work.join(format!("src-1080p30-{seconds}s.mp4"));
    let part = work.join(format!("src-1080p30-{seconds}s.mp4.part"));
    let stamp = work.join(format!("src-1080p30-{seconds}s.args"));
    let mut cmd = Command::new("ffmpeg");
    cmd.args(source_args(seconds, &src));
    let wanted = util::shell_line(&cmd);
    if src.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        eprintln!("bench-chunked: reusing {}", src.display());
        return Ok((src, cmd));
    }
    eprintln!("bench-chunked: generating {} ({seconds} s)", src.display());
    let _ = std::fs::remove_file(&stamp);
    util::run(Command::new("ffmpeg").args(source_args(seconds, &part)))?;
    std::fs::rename(&part, &src).with_context(|| format!("renaming {}", part.display()))?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok((src, cmd))
}

/// Video and audio packets in `file`, counted by reading it with `ffprobe`.
fn packet_counts(file: &Path, commands: &mut Vec<String>) -> Result<(u64, u64)> {
    let mut cmd = Command::new("ffprobe");
    cmd.args(["-v", "error", "-count_packets", "-show_entries"])
        .args(["stream=codec_type,nb_read_packets", "-of", "json"])
        .arg(file);
    commands.push(util::shell_line(&cmd));
    let out = cmd.output().context("starting ffprobe")?;
    if !out.status.success() {
        bail!(
            "ffprobe {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("ffprobe's JSON")?;
    let count = |kind: &str| -> u64 {
        v["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["codec_type"] == kind)
            .and_then(|s| s["nb_read_packets"].as_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    Ok((count("video"), count("audio")))
}

/// Pooled VMAF of `out` against `src` from `rdbench metrics`, frame i against frame i.
fn vmaf(rdbench: &Path, src: &Path, out: &Path, commands: &mut Vec<String>) -> Result<f64> {
    let mut cmd = Command::new(rdbench);
    cmd.args(["metrics", "--metrics", "vmaf", "--json", "--no-align"])
        .arg(src)
        .arg(out);
    commands.push(util::shell_line(&cmd));
    let res = cmd.output().context("starting rdbench metrics")?;
    if !res.status.success() {
        let err = String::from_utf8_lossy(&res.stderr);
        bail!(
            "{}",
            err.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("rdbench metrics failed")
                .trim()
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&res.stdout).context("rdbench metrics' JSON")?;
    v["pooled"]["vmaf"]["mean"]
        .as_f64()
        .context("no pooled VMAF mean in rdbench metrics' JSON")
}

/// What the chunked job's report says of its chunks (the first array `chunks` of objects found
/// in it): each chunk's wall seconds when every entry has `wall_s`, else each chunk's source
/// frames when every entry has `frames`.
#[derive(Debug, PartialEq)]
enum ReportChunks {
    Walls(Vec<f64>),
    Frames(Vec<f64>),
}

fn report_chunks(report: &serde_json::Value) -> Option<ReportChunks> {
    match report {
        serde_json::Value::Object(map) => {
            let found = map
                .get("chunks")
                .and_then(|c| c.as_array())
                .filter(|c| !c.is_empty())
                .and_then(|c| {
                    let all = |key: &str| {
                        c.iter()
                            .map(|x| x[key].as_f64())
                            .collect::<Option<Vec<f64>>>()
                    };
                    all("wall_s")
                        .map(ReportChunks::Walls)
                        .or_else(|| all("frames").map(ReportChunks::Frames))
                });
            found.or_else(|| map.values().find_map(report_chunks))
        }
        serde_json::Value::Array(items) => items.iter().find_map(report_chunks),
        _ => None,
    }
}

/// Chunk lengths in seconds for `seconds` of input cut every `chunk` seconds (the last one
/// shorter): the estimate used when the report gives no chunks.
fn even_chunks(seconds: f64, chunk: f64) -> Vec<f64> {
    let mut v = Vec::new();
    let mut at = 0.0;
    while at < seconds - 1e-9 {
        v.push(chunk.min(seconds - at));
        at += chunk;
    }
    v
}

/// When the last of `durations` (taken in order, each by the first free worker) finishes on
/// `workers` workers.
fn makespan(durations: &[f64], workers: usize) -> f64 {
    let mut free = vec![0.0f64; workers.max(1)];
    for d in durations {
        let first = free
            .iter_mut()
            .min_by(|a, b| a.total_cmp(b))
            .expect("at least one worker");
        *first += d;
    }
    free.into_iter().fold(0.0, f64::max)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// One side of the comparison.
struct Side {
    name: &'static str,
    chunking: Option<Chunking>,
    job: PathBuf,
    out_dir: PathBuf,
    out: PathBuf,
    report: PathBuf,
    runs: Vec<Usage>,
}

impl Side {
    fn command(&self, rdbench: &Path) -> Command {
        let mut c = Command::new(rdbench);
        c.arg("transcode")
            .arg("--report")
            .arg(&self.report)
            .arg(&self.job);
        c
    }
}

/// Runs the benchmark and prints the figures, the goals and the commands.
pub fn run(args: &[String]) -> Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let opts = parse(args, cores)?;
    let root = util::project_root();
    let rdbench = match &opts.rdbench {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => bail!("--rdbench: no file at {}", p.display()),
        None => {
            util::build_release(&root, &["--bin", "rdbench"])?;
            root.join("target/release/rdbench")
        }
    };
    let work = root.join("target/bench-chunked");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let (src, gen_cmd) = ensure_source(&work, opts.seconds)?;
    let mut commands = vec![util::shell_line(&gen_cmd)];

    let c = &opts.chunking;
    let planned = even_chunks(f64::from(opts.seconds), c.seconds);
    println!(
        "bench-chunked: {} ({} s, 1920x1080, {FPS} fps, AAC) -> libx265 medium CRF 28, {}, 1 encoder thread, AAC 128 kbit/s; \
         chunked: {} s chunks (about {}), {} workers; {} run(s) each, alternating; {cores} cores",
        src.display(),
        opts.seconds,
        opts.gop.map_or("the encoder's GOP".to_string(), |g| format!("a keyframe every {g} frames")),
        c.seconds,
        planned.len(),
        c.workers,
        opts.runs
    );
    if c.workers > cores {
        println!(
            "  note: {} workers x 1 encoder thread is more than the {cores} cores",
            c.workers
        );
    }
    let best = makespan(&planned, c.workers) / f64::from(opts.seconds);
    if best > GOAL_WALL_RATIO {
        println!(
            "  note: {} equal chunks on {} workers take at best {best:.2} of the unchunked wall (goal {GOAL_WALL_RATIO}); shorter chunks (--chunk-seconds) spread better",
            planned.len(),
            c.workers
        );
    }

    let mut sides = [("chunked", Some(c.clone())), ("unchunked", None)].map(|(name, chunking)| {
        let out_dir = work.join(name);
        Side {
            name,
            chunking,
            job: work.join(format!("{name}.toml")),
            out: out_dir.join(format!("{name}.mp4")),
            out_dir,
            report: work.join(format!("{name}-report.json")),
            runs: Vec::new(),
        }
    });
    for side in &sides {
        std::fs::write(
            &side.job,
            job_spec(&src, &side.out, side.chunking.as_ref(), opts.gop),
        )
        .with_context(|| format!("writing {}", side.job.display()))?;
        commands.push(util::shell_line(&side.command(&rdbench)));
    }
    for i in 1..=opts.runs {
        for side in &mut sides {
            // A fresh folder each run: nothing a previous run left beside the output is reused.
            let _ = std::fs::remove_dir_all(&side.out_dir);
            let _ = std::fs::remove_file(&side.report);
            std::fs::create_dir_all(&side.out_dir)?;
            eprintln!("bench-chunked: run {i}/{} {}", opts.runs, side.name);
            let u = util::measured(&mut side.command(&rdbench)).map_err(|e| {
                let hint = if e.to_string().contains("unknown field `chunked`") {
                    " (this rdbench has no `[execution] chunked` yet)"
                } else {
                    ""
                };
                anyhow::anyhow!("{} side: {e:#}{hint}", side.name)
            })?;
            eprintln!(
                "bench-chunked:   {:.2} s wall, {:.2} CPU-s, {:.0} MiB peak",
                u.wall_s, u.cpu_s, u.peak_rss_mib
            );
            side.runs.push(u);
        }
    }

    eprintln!("bench-chunked: counting frames and scoring VMAF");
    let (src_frames, _) = packet_counts(&src, &mut commands)?;
    struct Row {
        wall: f64,
        cpu: f64,
        peak: f64,
        size: u64,
        frames: u64,
        audio: u64,
        vmaf: Result<f64>,
    }
    let mut rows = Vec::new();
    for side in &sides {
        let (frames, audio) = packet_counts(&side.out, &mut commands)?;
        let size = std::fs::metadata(&side.out)
            .with_context(|| format!("reading {}", side.out.display()))?
            .len();
        rows.push(Row {
            wall: median(&side.runs.iter().map(|u| u.wall_s).collect::<Vec<_>>()),
            cpu: median(&side.runs.iter().map(|u| u.cpu_s).collect::<Vec<_>>()),
            peak: side.runs.iter().map(|u| u.peak_rss_mib).fold(0.0, f64::max),
            size,
            frames,
            audio,
            vmaf: vmaf(&rdbench, &src, &side.out, &mut commands),
        });
    }

    println!(
        "\n  {:<10} {:>9} {:>9} {:>9} {:>12} {:>7} {:>11} {:>8}",
        "side", "wall s", "CPU s", "peak MiB", "size bytes", "frames", "audio pkts", "VMAF"
    );
    for (side, r) in sides.iter().zip(&rows) {
        let vmaf = match &r.vmaf {
            Ok(v) => format!("{v:.3}"),
            Err(_) => "n/a".into(),
        };
        println!(
            "  {:<10} {:>9.2} {:>9.2} {:>9.0} {:>12} {:>7} {:>11} {:>8}",
            side.name, r.wall, r.cpu, r.peak, r.size, r.frames, r.audio, vmaf
        );
    }
    if opts.runs > 1 {
        println!(
            "  (wall and CPU: medians of {} runs; peak: the largest)",
            opts.runs
        );
    }
    let (ch, un) = (&rows[0], &rows[1]);
    let wall_ratio = ch.wall / un.wall;
    println!(
        "\n  chunked / unchunked wall: {wall_ratio:.3}  goal <= {GOAL_WALL_RATIO}: {}",
        verdict(wall_ratio <= GOAL_WALL_RATIO)
    );
    let size_ratio = ch.size as f64 / un.size as f64;
    println!(
        "  chunked / unchunked size: {size_ratio:.4} ({:+.2}%)  goal within {}%: {}",
        (size_ratio - 1.0) * 100.0,
        GOAL_SIZE_SHARE * 100.0,
        verdict((size_ratio - 1.0).abs() <= GOAL_SIZE_SHARE)
    );
    println!(
        "  frames: source {src_frames}, chunked {}, unchunked {}  goal equal: {}",
        ch.frames,
        un.frames,
        verdict(src_frames > 0 && ch.frames == src_frames && un.frames == src_frames)
    );
    match (&ch.vmaf, &un.vmaf) {
        (Ok(a), Ok(b)) => println!(
            "  VMAF chunked - unchunked: {:+.3}  goal within {GOAL_VMAF_DELTA}: {}",
            a - b,
            verdict((a - b).abs() <= GOAL_VMAF_DELTA)
        ),
        _ => {
            for (side, r) in sides.iter().zip(&rows) {
                if let Err(e) = &r.vmaf {
                    println!("  VMAF of the {} output: none: {e:#}", side.name);
                }
            }
            println!("  VMAF chunked - unchunked: n/a  goal within {GOAL_VMAF_DELTA}: MISS");
        }
    }

    // How the chunked wall extends to other core counts, from this run's figures.
    let report: Option<serde_json::Value> = std::fs::read(&sides[0].report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let share = |parts: &[f64]| -> Vec<f64> {
        let sum: f64 = parts.iter().sum();
        parts.iter().map(|p| un.wall * p / sum).collect()
    };
    let (durations, from) = match report.as_ref().and_then(report_chunks) {
        Some(ReportChunks::Walls(w)) => (w, "per chunk, from rdbench's report"),
        Some(ReportChunks::Frames(f)) => (
            share(&f),
            "the unchunked wall shared by the chunks' frames in rdbench's report",
        ),
        None => (
            share(&planned),
            "the unchunked wall shared by equal chunks; the report lists no chunks",
        ),
    };
    let total: f64 = durations.iter().sum();
    let longest = durations.iter().copied().fold(0.0, f64::max);
    let join = ch.wall - makespan(&durations, c.workers);
    println!(
        "\n  on N cores: chunked wall ~ max(E / min(N, K), L) + J at best, and with chunks taken in turn \
         by the first free worker, the time the last one ends + J"
    );
    println!("  chunk times: {from}");
    println!(
        "  E = {total:.1} s of encoding, K = {} chunks, L = {longest:.1} s the longest, J = {join:.1} s \
         (the rest of the chunked wall on {} workers: split, join, start-up)",
        durations.len(),
        c.workers
    );
    let projected: Vec<String> = [1usize, 2, 4, 8, 16]
        .iter()
        .map(|&n| {
            let w = makespan(&durations, n) + join;
            format!("{n}: {w:.1} s ({:.2})", w / un.wall)
        })
        .collect();
    println!(
        "  projected chunked wall (ratio to unchunked) by workers = cores: {}",
        projected.join(", ")
    );

    println!("\n  commands:");
    for c in &commands {
        println!("    {c}");
    }
    for side in &sides {
        println!(
            "  job {}:\n{}",
            side.job.display(),
            indent(&job_spec(&src, &side.out, side.chunking.as_ref(), opts.gop))
        );
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_default_and_refuse_bad_input() {
        let o = parse(&[], 2).unwrap();
        assert_eq!(
            o,
            Options {
                runs: 1,
                seconds: 60,
                chunking: Chunking {
                    seconds: 2.0,
                    workers: 2
                },
                gop: Some(60),
                rdbench: None
            }
        );
        let o = parse(
            &args("-n 3 --seconds 4 --chunk-seconds 2.5 --workers 3 --rdbench /x/rdbench"),
            2,
        )
        .unwrap();
        assert_eq!((o.runs, o.seconds, o.chunking.workers), (3, 4, 3));
        assert_eq!(parse(&args("--gop 0"), 2).unwrap().gop, None);
        assert_eq!(parse(&args("--gop 60"), 2).unwrap().gop, Some(60));
        assert_eq!(o.chunking.seconds, 2.5);
        assert_eq!(o.rdbench, Some(PathBuf::from("/x/rdbench")));
        let err = |s: &str| parse(&args(s), 2).unwrap_err().to_string();
        assert_eq!(err("--seconds 0"), "--seconds must be at least 1");
        assert_eq!(
            err("--seconds x"),
            "--seconds needs a whole number of seconds, not `x`"
        );
        assert_eq!(
            err("--seconds"),
            "--seconds needs a whole number of seconds"
        );
        assert_eq!(err("-n 0"), "-n must be at least 1");
        assert_eq!(err("--workers 0"), "--workers must be at least 1");
        assert_eq!(
            err("--chunk-seconds 0"),
            "--chunk-seconds must be a positive number of seconds"
        );
        assert_eq!(
            err("--chunk-seconds nan"),
            "--chunk-seconds must be a positive number of seconds"
        );
        assert_eq!(
            err("--fast"),
            format!("unknown argument `--fast` ({USAGE})")
        );
    }

    #[test]
    fn job_specs_differ_only_by_the_chunked_key() {
        let (src, out) = (Path::new("/w/src.mp4"), Path::new("/w/o \"1\".mp4"));
        let tail = "\n[[output]]\npath = \"/w/o \\\"1\\\".mp4\"\ncodec = \"libx265\"\npreset = \"medium\"\nthreads = 1\n\
                    rc = { mode = \"crf\", value = 28 }\naudio = { codec = \"aac\", bitrate_kbps = 128 }\n";
        assert_eq!(
            job_spec(src, out, None, None),
            format!("input = \"/w/src.mp4\"\n{tail}")
        );
        let c = Chunking {
            seconds: 20.0,
            workers: 2,
        };
        assert_eq!(
            job_spec(src, out, Some(&c), None),
            format!("input = \"/w/src.mp4\"\n\n[execution]\nchunked = {{ seconds = 20, workers = 2 }}\n{tail}")
        );
        let c = Chunking {
            seconds: 7.5,
            workers: 4,
        };
        assert!(job_spec(src, out, Some(&c), None)
            .contains("chunked = { seconds = 7.5, workers = 4 }\n"));
        assert!(job_spec(src, out, None, Some(150)).ends_with("bitrate_kbps = 128 }\ngop = 150\n"));
    }

    #[test]
    fn source_arguments() {
        let a = source_args(4, Path::new("/w/s.mp4")).join(" ");
        assert_eq!(
            a,
            format!(
                "-y -v error -nostdin -f lavfi -i {VIDEO_GRAPH} -f lavfi -i {AUDIO_GRAPH} -t 4 \
                 -c:v libx264 -preset veryfast -crf 12 -g 60 -pix_fmt yuv420p -c:a aac -b:a 192k -f mp4 /w/s.mp4"
            )
        );
    }

    #[test]
    fn chunk_schedule() {
        assert_eq!(even_chunks(60.0, 20.0), [20.0, 20.0, 20.0]);
        assert_eq!(even_chunks(50.0, 20.0), [20.0, 20.0, 10.0]);
        assert_eq!(even_chunks(4.0, 20.0), [4.0]);
        // Three equal chunks on two workers: two rounds.
        assert_eq!(makespan(&[1.0, 1.0, 1.0], 2), 2.0);
        assert_eq!(makespan(&[3.0, 1.0, 1.0, 1.0], 2), 3.0);
        assert_eq!(makespan(&[1.0, 2.0], 8), 2.0);
        assert_eq!(makespan(&[], 2), 0.0);
    }

    #[test]
    fn chunks_found_anywhere_in_the_report() {
        let r = serde_json::json!({"outputs": [{"tasks": [], "chunks": [{"wall_s": 1.5}, {"wall_s": 2.0}]}]});
        assert_eq!(report_chunks(&r), Some(ReportChunks::Walls(vec![1.5, 2.0])));
        let r = serde_json::json!({"outputs": [], "chunks": [{"index": 0, "frames": 600}, {"index": 1, "frames": 300}]});
        assert_eq!(
            report_chunks(&r),
            Some(ReportChunks::Frames(vec![600.0, 300.0]))
        );
        let r = serde_json::json!({"outputs": [{"chunks": [{"index": 0}]}]});
        assert_eq!(report_chunks(&r), None);
        assert_eq!(
            report_chunks(&serde_json::json!({"outputs": [], "chunks": []})),
            None
        );
    }
}
