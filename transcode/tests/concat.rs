//! Concatenation: inputs of other sizes, shapes, frame rates and audio layouts played one after
//! the other, normalised to the first: every frame, continuous timestamps, the audio following.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn audio_stream(path: &Path) -> (f64, u64, u64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .args(["stream=duration,channels,sample_rate", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    (
        s["duration"].as_str().unwrap().parse().unwrap(),
        s["channels"].as_u64().unwrap(),
        s["sample_rate"].as_str().unwrap().parse().unwrap(),
    )
}

fn row_mean(rgb: &[u8], w: usize, y: usize) -> f64 {
    let row = &rgb[y * w * 3..(y + 1) * w * 3];
    row.iter().map(|&v| v as f64).sum::<f64>() / row.len() as f64
}

#[test]
fn inputs_of_other_sizes_rates_and_layouts_join_normalised_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    source(d, "a.mp4", "320x240", 25, 2.0, true);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "smptebars=size=640x360:rate=30:duration=1.5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=44100:duration=1.5",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        &d.join("b.mkv").to_string_lossy(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=160x120:rate=25,trim=duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:sample_rate=22050:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        &d.join("c.mp4").to_string_lossy(),
    ]);
    let report = run_ok(
        d,
        r#"
concat = ["a.mp4", "b.mkv", "c.mp4"]
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
[[output]]
path = "out.mp4"
[[output]]
path = "hls/out.m3u8"
hls_time = 1
"#,
    );
    assert!(report.all_ok());
    assert_eq!(report.chunks.len(), 3);
    let out = d.join("out.mp4");
    let p = probe(&out);
    assert_eq!((p.width, p.height), (320, 240));
    // 50 frames, 1.5 s made 25 fps (36 to 38: the rate conversion ends at the last picture's
    // time), 25 frames.
    assert!((111..=113).contains(&p.frames), "{} frames", p.frames);
    assert_eq!(report.outputs[0].frames, p.frames);
    assert!((p.duration - 4.5).abs() < 0.1, "{} s", p.duration);
    assert_eq!(probe(&d.join("hls/out.m3u8")).frames, p.frames);
    // The audio follows, in the first input's layout.
    let (seconds, channels, rate) = audio_stream(&out);
    assert!((seconds - 4.5).abs() < 0.15, "audio {seconds} s");
    assert_eq!((channels, rate), (1, 48000));
    // Each part's pictures, in order: the first as it was, the 16:9 second letterboxed, the
    // third scaled up.
    let at = |f: &Path, t: f64, vf: Option<&str>| {
        let mut args = vec![
            "-ss".to_string(),
            t.to_string(),
            "-i".into(),
            f.to_string_lossy().into_owned(),
        ];
        if let Some(vf) = vf {
            args.extend(["-vf".into(), vf.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        rgb_frame(&refs)
    };
    let first = mean_abs_diff(&at(&out, 1.0, None), &at(&d.join("a.mp4"), 1.0, None));
    assert!(first < 2.0, "{first}");
    let second = at(&out, 2.6, None);
    for y in [0, 20, 220, 239] {
        assert!(
            row_mean(&second, 320, y) < 20.0,
            "row {y} of the second part is not black"
        );
    }
    assert!(row_mean(&second, 320, 120) > 40.0);
    let third = mean_abs_diff(
        &at(&out, 4.0, None),
        &at(&d.join("c.mp4"), 0.5, Some("scale=320:240")),
    );
    assert!(third < 6.0, "{third}");
}

#[test]
fn bad_concatenations_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let load = |text: &str| {
        let path = d.join("job.toml");
        std::fs::write(&path, text).unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path))
    };
    let out = "[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\n";
    let e = load(&format!("concat = [\"a.mp4\"]\n{out}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("concat") && e.contains("2 to 20"), "{e}");
    let e = load(&format!(
        "input = \"a.mp4\"\nconcat = [\"a.mp4\", \"b.mp4\"]\n{out}"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("not both"), "{e}");
    let e = load(out).unwrap_err().to_string();
    assert!(e.contains("input") && e.contains("missing"), "{e}");
    // An input without audio, for an output with audio: that output fails, naming the input.
    source(d, "a.mp4", "160x120", 25, 1.0, true);
    source(d, "mute.mp4", "160x120", 25, 1.0, false);
    let job = load(&format!("concat = [\"a.mp4\", \"mute.mp4\"]\n{out}")).unwrap();
    let report = rdbench_transcode::job::run(&job, &rdbench_transcode::job::NoProgress).unwrap();
    let e = report.outputs[0].error.as_ref().unwrap().to_string();
    assert!(
        e.contains("concat[1]") && e.contains("mute.mp4") && e.contains("no audio"),
        "{e}"
    );
}
