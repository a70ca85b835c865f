//! Chunked parallel transcoding: chunks encoded apart and joined make an output with every
//! source frame, in order, on a continuous clock, with the audio encoded once; slices made apart
//! join into the same bitstream as one run; scene cuts start chunks; bad settings are named.

use std::path::{Path, PathBuf};
use std::process::Command;

use rdbench_transcode::job::{self, chunk_dir, Job, NoProgress, Part};
use rdbench_transcode::spec;

use crate::support::*;

/// A 320x240, 25 fps, 10 s test pattern with a keyframe every second and a sine audio track.
fn keyed_source(dir: &Path) -> PathBuf {
    let path = dir.join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=10",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=10",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "16",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        &path.to_string_lossy(),
    ]);
    path
}

fn load(dir: &Path, text: &str) -> rdbench_transcode::Result<Job> {
    let path = dir.join("job.toml");
    std::fs::write(&path, text).unwrap();
    let (s, t) = spec::load_job(&path)?;
    Job::from_spec(&s, t.as_ref(), Some(&path))
}

/// ffprobe's value of `entries` (e.g. `frame=pts_time`) for every frame or packet of the video.
fn video_column(path: &Path, section: &str, entries: &str) -> Vec<String> {
    let out = stdout_of(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                section,
                "-show_entries",
            ])
            .arg(entries)
            .args(["-of", "csv=p=0"])
            .arg(path),
    );
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_string())
        // Side data (SEI) comes on lines of its own, or after the fields.
        .filter(|l| {
            l.split(',')
                .next()
                .is_some_and(|f| f.parse::<f64>().is_ok())
        })
        .collect()
}

/// The PSNR (average, minimum over frames) of `a` against `b`, by FFmpeg's psnr filter.
fn psnr(a: &Path, b: &Path) -> (f64, f64) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(a)
        .arg("-i")
        .arg(b)
        .args(["-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("PSNR y:"))
        .unwrap_or_else(|| panic!("no PSNR line: {text}"));
    let field = |name: &str| -> f64 {
        let rest = &line[line.find(name).unwrap() + name.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    (field("average:"), field("min:"))
}

fn video_md5(path: &Path) -> String {
    let out = stdout_of(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
            .arg(path)
            .args(["-map", "0:v", "-c", "copy", "-f", "md5", "-"]),
    );
    String::from_utf8_lossy(&out).trim().to_string()
}

const JOB: &str = r#"
input = "src.mp4"
[execution]
chunked = { seconds = 3, workers = 2 }
[defaults]
preset = "ultrafast"
threads = 1
rc = { mode = "crf", value = 18 }
audio = { codec = "aac", bitrate_kbps = 96 }
[[output]]
path = "out.mp4"
codec = "libx264"
[[output]]
path = "hevc.mkv"
codec = "libx265"
[[output]]
path = "hls/index.m3u8"
codec = "libx264"
hls_time = 1
"#;

#[test]
fn chunks_join_into_every_frame_in_order_with_the_audio_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = keyed_source(dir.path());
    let job = load(dir.path(), JOB).unwrap();
    let report = job::run(&job, &NoProgress).unwrap();
    for o in &report.outputs {
        assert!(
            o.error.is_none(),
            "{:?}: {}",
            o.path,
            o.error.as_ref().unwrap()
        );
    }
    // Keyframes every second; 3 s chunks start at 0, 3, 6 and 9 s, and the last (1 s, shorter
    // than the 1.5 s minimum) joins the one before.
    let starts: Vec<f64> = report.chunks.iter().map(|c| c.start_s).collect();
    assert_eq!(starts, vec![0.0, 3.0, 6.0]);
    assert_eq!(
        report.chunks.iter().map(|c| c.frames).collect::<Vec<_>>(),
        [75, 75, 100]
    );
    for (o, name) in report
        .outputs
        .iter()
        .zip(["out.mp4", "hevc.mkv", "hls/index.m3u8"])
    {
        let path = dir.path().join(name);
        assert_eq!(o.frames, 250, "{name}");
        assert!(o.encode_stats().unwrap().name.contains("3 chunks"));
        let p = probe(&path);
        assert_eq!(p.frames, 250, "{name}: every source frame");
        assert!((p.duration - 10.0).abs() < 0.05, "{name}: {}", p.duration);
        assert_eq!(p.audio_codec.as_deref(), Some("aac"), "{name}");
        // In order and on the source's pictures: a chunk out of place or a frame lost at a
        // joint would put the moving pattern off by a frame (about 20 dB).
        let (avg, min) = psnr(&path, &src);
        assert!(
            avg > 38.0 && min > 33.0,
            "{name}: PSNR {avg} average, {min} minimum"
        );
        assert!(!chunk_dir(&path).exists(), "{name}: chunk folder removed");
    }
    // A continuous clock: one frame every 40 ms from 0, and each chunk starts with a keyframe.
    let out = dir.path().join("out.mp4");
    let times: Vec<f64> = video_column(&out, "-show_frames", "frame=pts_time")
        .iter()
        .map(|t| t.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 250);
    for (i, t) in times.iter().enumerate() {
        assert!((t - i as f64 * 0.04).abs() < 1e-3, "frame {i} at {t}");
    }
    let keys: Vec<String> = video_column(&out, "-show_packets", "packet=pts_time,flags")
        .into_iter()
        .filter(|l| l.contains('K'))
        .collect();
    for t in ["3.0", "6.0"] {
        assert!(
            keys.iter().any(|k| k.starts_with(t)),
            "a keyframe at {t} s: {keys:?}"
        );
    }
    // The audio was encoded once over the whole input: it lasts the input, with no gaps.
    let out_audio = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=duration,nb_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out_audio.stdout);
    let mut fields = text.trim().split(',');
    let seconds: f64 = fields.next().unwrap().parse().unwrap();
    let frames: f64 = fields.next().unwrap().parse().unwrap();
    assert!((seconds - 10.0).abs() < 0.1, "audio {seconds} s");
    // 48 kHz AAC frames of 1024 samples.
    assert!(
        (frames - 10.0 * 48000.0 / 1024.0).abs() < 3.0,
        "{frames} audio frames"
    );
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn slices_made_apart_join_into_the_bitstream_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    keyed_source(dir.path());
    let text = JOB
        .split("[[output]]")
        .take(2)
        .collect::<Vec<_>>()
        .join("[[output]]");
    let whole = load(dir.path(), &text.replace("out.mp4", "whole.mp4")).unwrap();
    assert!(job::run(&whole, &NoProgress).unwrap().all_ok());
    let job = load(dir.path(), &text).unwrap();
    let slice = |k, n| Part::Slice(rdbench_transcode::chunk::Slice { k, n });
    let first = job::run_part(&job, slice(1, 2), &NoProgress).unwrap();
    assert!(first.all_ok());
    // The first of two slices of three chunks is chunk 0.
    let chunks = chunk_dir(&dir.path().join("out.mp4"));
    assert_eq!(first.outputs[0].path.as_deref(), Some(chunks.as_path()));
    assert_eq!(first.outputs[0].frames, 75);
    assert!(chunks.join("00000.mp4").is_file() && !chunks.join("00001.mp4").exists());
    // A slice run again does not encode again.
    let made = std::fs::metadata(chunks.join("00000.mp4"))
        .unwrap()
        .modified()
        .unwrap();
    job::run_part(&job, slice(1, 2), &NoProgress).unwrap();
    assert_eq!(
        std::fs::metadata(chunks.join("00000.mp4"))
            .unwrap()
            .modified()
            .unwrap(),
        made
    );
    // Joining before every slice ran names what is missing, and writes nothing.
    let early = job::run_part(&job, Part::Join, &NoProgress).unwrap();
    let e = early.outputs[0].error.as_ref().unwrap().to_string();
    assert!(
        e.contains("chunks 1, 2 of 3 missing") && e.contains("out.mp4.chunks"),
        "{e}"
    );
    assert!(!dir.path().join("out.mp4").exists());
    assert!(job::run_part(&job, slice(2, 2), &NoProgress)
        .unwrap()
        .all_ok());
    let joined = job::run_part(&job, Part::Join, &NoProgress).unwrap();
    assert!(joined.all_ok(), "{:?}", joined.outputs[0].error);
    assert_eq!(joined.outputs[0].frames, 250);
    assert_eq!(
        video_md5(&dir.path().join("out.mp4")),
        video_md5(&dir.path().join("whole.mp4"))
    );
    assert!(!chunks.exists());
}

#[test]
fn scene_cuts_start_chunks() {
    let dir = tempfile::tempdir().unwrap();
    // Three scenes: 2 s of a moving pattern, 2.4 s of colour bars, 1.6 s of another pattern;
    // one keyframe only, so the chunks cannot come from keyframes.
    let src = dir.path().join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-f",
        "lavfi",
        "-i",
        "smptebars=size=320x240:rate=25:duration=2.4",
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=320x240:rate=25,trim=duration=1.6",
        "-filter_complex",
        "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "1000",
        "-sc_threshold",
        "0",
        &src.to_string_lossy(),
    ]);
    let job = load(
        dir.path(),
        r#"
input = "src.mp4"
[execution]
chunked = { scene_cuts = true, min_seconds = 1 }
[[output]]
path = "out.mp4"
codec = "libx264"
preset = "ultrafast"
"#,
    )
    .unwrap();
    let report = job::run(&job, &NoProgress).unwrap();
    assert!(report.all_ok(), "{:?}", report.outputs[0].error);
    let frames: Vec<u64> = report.chunks.iter().map(|c| c.frames).collect();
    assert_eq!(frames, [50, 60, 40]);
    assert_eq!(probe(&dir.path().join("out.mp4")).frames, 150);
    let (avg, _) = psnr(&dir.path().join("out.mp4"), &src);
    assert!(avg > 30.0, "{avg}");
}

#[test]
fn bad_chunked_jobs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    keyed_source(dir.path());
    let err = |text: &str| load(dir.path(), text).unwrap_err().to_string();
    let base = "input = \"src.mp4\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\n";
    let e = err(&format!(
        "{base}[execution]\nchunked = {{ seconds = -2 }}\n"
    ));
    assert!(
        e.contains("execution.chunked.seconds") && e.contains("-2"),
        "{e}"
    );
    let e = err(&format!("{base}[execution]\nchunked = {{ secs = 2 }}\n"));
    assert!(e.contains("secs"), "{e}");
    let e = err(&format!(
        "clip = {{ start = 1 }}\n{base}[execution]\nchunked = {{ seconds = 2 }}\n"
    ));
    assert!(e.contains("execution.chunked") && e.contains("clip"), "{e}");
    // A GIF is not joined from chunks: it fails alone.
    let job = load(
        dir.path(),
        &format!("{base}[[output]]\npath = \"a.gif\"\n[execution]\nchunked = {{ seconds = 5 }}\n"),
    )
    .unwrap();
    assert_eq!(job.outputs.len(), 1);
    let e = job.rejected[0].2.to_string();
    assert!(e.contains("output[1].format") && e.contains("gif"), "{e}");
    // Slices and joins of a job that is not chunked.
    let plain = load(dir.path(), base).unwrap();
    let e = job::run_part(&plain, Part::Join, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("execution.chunked"), "{e}");
}

#[test]
fn a_bitrate_target_is_held_per_chunk_with_two_passes_and_reported_for_the_file() {
    let dir = tempfile::tempdir().unwrap();
    keyed_source(dir.path());
    let job = load(
        dir.path(),
        r#"
input = "src.mp4"
[execution]
chunked = { seconds = 3 }
[[output]]
path = "out.mp4"
codec = "libx264"
preset = "veryfast"
threads = 1
rc = { mode = "abr", bitrate_kbps = 400, passes = 2 }
audio = "drop"
"#,
    )
    .unwrap();
    let report = job::run(&job, &NoProgress).unwrap();
    let o = &report.outputs[0];
    assert!(o.error.is_none(), "{}", o.error.as_ref().unwrap());
    assert_eq!(o.target_kbps, Some(400.0));
    assert_eq!(o.frames, 250);
    // Two passes per 3 s chunk land near the target for the whole file.
    let err = (o.video_kbps - 400.0).abs() / 400.0;
    assert!(err < 0.1, "{} kbit/s for a 400 kbit/s target", o.video_kbps);
    // The file's bitrate as ffprobe reads it agrees with the report: the encoders' bytes, and
    // the parameter sets of the chunks whose x264 chose another initial QP, carried in-band.
    let bytes: u64 = video_column(&dir.path().join("out.mp4"), "-show_packets", "packet=size")
        .iter()
        .map(|s| s.parse::<u64>().unwrap())
        .sum();
    assert!(
        bytes >= o.video_bytes && bytes - o.video_bytes < 200 * 3,
        "{bytes} bytes in the file, {} encoded",
        o.video_bytes
    );
    // Every frame decodes, in order, with the source's pictures.
    let (avg, min) = psnr(&dir.path().join("out.mp4"), &dir.path().join("src.mp4"));
    assert!(
        avg > 30.0 && min > 25.0,
        "PSNR {avg} average, {min} minimum"
    );
    // The encoder's packets, on the file's clock: one per frame, every 40 ms from 0.
    let enc = o.encode_stats().unwrap();
    let mut pts: Vec<f64> = enc.packets.iter().map(|p| p.pts_s).collect();
    pts.sort_by(f64::total_cmp);
    assert_eq!(pts.len(), 250);
    for (i, t) in pts.iter().enumerate() {
        assert!((t - i as f64 * 0.04).abs() < 1e-3, "packet {i} at {t}");
    }
    // Nothing left behind: no chunk folder, no first-pass statistics.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["job.toml", "out.mp4", "src.mp4"]);
}

#[test]
fn chunks_of_whole_gops_keep_the_keyframes_of_one_encoder() {
    let dir = tempfile::tempdir().unwrap();
    keyed_source(dir.path());
    let job = |out: &str, chunked: &str| {
        format!(
            "input = \"src.mp4\"\n{chunked}[[output]]\npath = \"{out}\"\ncodec = \"libx264\"\n\
             preset = \"veryfast\"\nthreads = 1\ngop = 40\nparams = \"scenecut=0\"\naudio = \"drop\"\n"
        )
    };
    let whole = load(dir.path(), &job("whole.mp4", "")).unwrap();
    assert!(job::run(&whole, &NoProgress).unwrap().all_ok());
    let chunked = load(
        dir.path(),
        &job("chunked.mp4", "[execution]\nchunked = { seconds = 3 }\n"),
    )
    .unwrap();
    let report = job::run(&chunked, &NoProgress).unwrap();
    assert!(report.all_ok(), "{:?}", report.outputs[0].error);
    // 40-frame GOPs (1.6 s): chunks start at the GOP starts nearest 3 and 6 s (3.2 and 6.4 s;
    // the source's keyframes are at whole seconds), and the 0.4 s left at the end joins the last.
    assert_eq!(
        report.chunks.iter().map(|c| c.frames).collect::<Vec<_>>(),
        [80, 80, 90]
    );
    let keys = |name: &str| -> Vec<String> {
        video_column(
            &dir.path().join(name),
            "-show_packets",
            "packet=pts_time,flags",
        )
        .into_iter()
        .filter(|l| l.contains('K'))
        .collect()
    };
    assert_eq!(keys("chunked.mp4"), keys("whole.mp4"));
    assert_eq!(
        keys("whole.mp4").len(),
        7,
        "keyframes every 40 frames of 250"
    );
    let (avg, min) = psnr(&dir.path().join("chunked.mp4"), &dir.path().join("src.mp4"));
    assert!(
        avg > 30.0 && min > 28.0,
        "PSNR {avg} average, {min} minimum"
    );
}
