//! Test support: generating media, running jobs, probing outputs with ffprobe.

use std::path::{Path, PathBuf};
use std::process::Command;

use rdbench_transcode::job::{self, Job, JobReport, NoProgress};
use rdbench_transcode::spec;

/// Runs a command to completion and returns its standard output; panics with the command line
/// and its standard error when it cannot start or does not succeed.
pub fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs the ffmpeg CLI quietly; panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    stdout_of(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(args),
    );
}

/// A test pattern source of `size` at `rate` fps for `seconds`, H.264 in MP4, with a sine
/// audio track when `audio`.
pub fn source(dir: &Path, name: &str, size: &str, rate: u32, seconds: f64, audio: bool) -> PathBuf {
    let path = dir.join(name);
    let video = format!("testsrc2=size={size}:rate={rate}:duration={seconds}");
    let mut args: Vec<String> = vec!["-f".into(), "lavfi".into(), "-i".into(), video];
    if audio {
        args.extend(["-f", "lavfi", "-i"].map(String::from));
        args.push(format!(
            "sine=frequency=440:sample_rate=48000:duration={seconds}"
        ));
        args.extend(["-c:a", "aac", "-shortest"].map(String::from));
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ]
        .map(String::from),
    );
    args.push(path.to_string_lossy().into_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
    path
}

/// Writes `toml` as `job.toml` in `dir` and runs it.
pub fn run_job(dir: &Path, toml: &str) -> JobReport {
    let path = dir.join("job.toml");
    std::fs::write(&path, toml).unwrap();
    let (s, t) = spec::load_job(&path).unwrap();
    let job = Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
    job::run(&job, &NoProgress).unwrap()
}

/// A run whose outputs must all succeed.
pub fn run_ok(dir: &Path, toml: &str) -> JobReport {
    let r = run_job(dir, toml);
    for o in &r.outputs {
        assert!(
            o.error.is_none(),
            "output {:?} failed: {}",
            o.path,
            o.error.as_ref().unwrap()
        );
    }
    r
}

/// What ffprobe says about the first video stream, frames counted by decoding.
#[derive(Debug)]
pub struct Probed {
    pub width: u64,
    pub height: u64,
    pub pix_fmt: String,
    pub frames: u64,
    pub fps: f64,
    pub duration: f64,
    pub codec: String,
    pub audio_codec: Option<String>,
}

fn ratio(s: &str) -> f64 {
    match s.split_once('/') {
        Some((n, d)) => {
            let (n, d): (f64, f64) = (n.parse().unwrap_or(0.0), d.parse().unwrap_or(0.0));
            if d == 0.0 {
                0.0
            } else {
                n / d
            }
        }
        None => s.parse().unwrap_or(0.0),
    }
}

/// Probes `path` with ffprobe (an independent reading of the output).
pub fn probe(path: &Path) -> Probed {
    let out = stdout_of(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-show_streams",
                "-show_format",
                "-of",
                "json",
            ])
            .arg(path),
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let streams = v["streams"].as_array().unwrap();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream");
    let audio = streams.iter().find(|s| s["codec_type"] == "audio");
    let fps = {
        let avg = ratio(video["avg_frame_rate"].as_str().unwrap_or("0/0"));
        if avg > 0.0 {
            avg
        } else {
            ratio(video["r_frame_rate"].as_str().unwrap_or("0/0"))
        }
    };
    let duration = video["duration"]
        .as_str()
        .or(v["format"]["duration"].as_str())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    Probed {
        width: video["width"].as_u64().unwrap(),
        height: video["height"].as_u64().unwrap(),
        pix_fmt: video["pix_fmt"].as_str().unwrap_or("").to_string(),
        frames: video["nb_read_frames"].as_str().unwrap().parse().unwrap(),
        fps,
        duration,
        codec: video["codec_name"].as_str().unwrap_or("").to_string(),
        audio_codec: audio.map(|a| a["codec_name"].as_str().unwrap_or("").to_string()),
    }
}

/// Files in `dir` whose names mark them as rdbench temporaries.
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("rdbench-tmp")
            {
                found.push(p.clone());
            }
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    found
}

/// Counts occurrences of `needle` in the bytes of `path`.
pub fn count_bytes(path: &Path, needle: &[u8]) -> usize {
    let data = std::fs::read(path).unwrap();
    data.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The first frame the `ffmpeg` CLI decodes with `args` (an input and any options), as RGB
/// bytes: the tests' independent reading of pictures.
pub fn rgb_frame(args: &[&str]) -> Vec<u8> {
    let out = stdout_of(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
            .args(args)
            .args([
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "pipe:1",
            ]),
    );
    out
}

/// The mean absolute difference of two pictures of the same size.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "same picture size");
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y) as f64)
        .sum::<f64>()
        / a.len() as f64
}

/// Each picture the `ffmpeg` CLI decodes from `path`'s video (with `input_args` before `-i`),
/// as its presentation timestamp and MD5 (FFmpeg's `framemd5`): the tests' independent reading
/// of a whole stream.
pub fn framemd5(input_args: &[&str], path: &Path) -> Vec<(String, String)> {
    let out = stdout_of(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
            .args(input_args)
            .arg("-i")
            .arg(path)
            .args(["-map", "0:v", "-f", "framemd5", "pipe:1"]),
    );
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            // stream, dts, pts, duration, size, md5
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f[2].to_string(), f[f.len() - 1].to_string())
        })
        .collect()
}
