//! Clips: a part of the input cut on decoded frames, every output starting at the clip's first
//! frame (the one an accurate seek of the `ffmpeg` CLI gives) and lasting the clip.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn audio_seconds(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0)
}

#[test]
fn a_clip_starts_at_its_frame_and_lasts_its_duration() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "src.mp4", "320x240", 25, 6.0, true);
    let report = run_ok(
        dir.path(),
        r#"
input = "src.mp4"
clip = { start = 2.5, duration = 2 }
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 8 }
[[output]]
path = "clip.mp4"
[[output]]
path = "clip.m3u8"
hls_time = 1
[[snapshot]]
path = "first.png"
times = [0]
"#,
    );
    assert!(report.all_ok());
    let p = probe(&dir.path().join("clip.mp4"));
    assert_eq!(p.frames, 50, "2 s at 25 fps");
    assert!((p.duration - 2.0).abs() < 0.05, "{}", p.duration);
    let a = audio_seconds(&dir.path().join("clip.mp4"));
    assert!((a - 2.0).abs() < 0.1, "audio lasts the clip: {a}");
    assert_eq!(probe(&dir.path().join("clip.m3u8")).frames, 50);
    // The first frame is the source's at 2.5 s, not its neighbours.
    let ours = rgb_frame(&["-i", &dir.path().join("clip.mp4").to_string_lossy()]);
    let at = |t: f64| rgb_frame(&["-ss", &t.to_string(), "-i", &src.to_string_lossy()]);
    let right = mean_abs_diff(&ours, &at(2.5));
    assert!(right < 1.5, "{right}");
    assert!(mean_abs_diff(&ours, &at(2.54)) > 2.0 * right.max(0.2));
    assert!(mean_abs_diff(&ours, &at(2.46)) > 2.0 * right.max(0.2));
    // Snapshots are timed from the clip's start.
    let snap = rgb_frame(&["-i", &dir.path().join("first.png").to_string_lossy()]);
    assert!(mean_abs_diff(&snap, &at(2.5)) < 1.0);
}

#[test]
fn bad_clips_are_named() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 2.0, true);
    let load = |text: &str| {
        let path = dir.path().join("job.toml");
        std::fs::write(&path, text).unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path))
    };
    let head = "input = \"src.mp4\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\n";
    assert_eq!(
        load(&format!("{head}[clip]\nduration = 0\n"))
            .err()
            .unwrap()
            .to_string(),
        "clip.duration: must be a positive number of seconds, not 0"
    );
    assert_eq!(
        load(&format!("{head}[clip]\n")).err().unwrap().to_string(),
        "clip.start: give `start`, `duration` or both"
    );
    let job = load(&format!("{head}audio = \"copy\"\n[clip]\nstart = 1\n")).unwrap();
    assert_eq!(
        job.rejected[0].2.to_string(),
        "output[0].audio: `copy` cannot be cut to the clip; encode the audio"
    );
    let job = load(&format!("{head}[clip]\nstart = 5\n")).unwrap();
    let err = rdbench_transcode::job::run(&job, &rdbench_transcode::job::NoProgress)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "clip.start: 5 s is not before the end of {} (2.000 s)",
            dir.path().join("src.mp4").display()
        )
    );
}
