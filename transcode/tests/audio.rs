//! Outputs of audio alone (MP3, M4A, Ogg Vorbis, Opus, FLAC), from inputs with or without
//! video, beside video outputs with and without audio; the audio read back with `ffprobe` and the
//! `ffmpeg` CLI.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Codec name, duration and whether there is video, by ffprobe.
fn streams(path: &Path) -> (Vec<String>, f64) {
    let out = stdout_of(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type,codec_name:format=duration",
            ])
            .args(["-of", "json"])
            .arg(path),
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let kinds = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s["codec_type"].as_str().unwrap(),
                s["codec_name"].as_str().unwrap()
            )
        })
        .collect();
    let d = v["format"]["duration"]
        .as_str()
        .unwrap_or("0")
        .parse()
        .unwrap();
    (kinds, d)
}

/// The first `seconds` of the audio of `path` as 16-bit samples, decoded by the ffmpeg CLI.
fn pcm(path: &Path, seconds: f64) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-t",
            &seconds.to_string(),
            "-map",
            "0:a",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn audio_alone_in_every_audio_container_beside_video_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.mp4", "160x120", 25, 3.0, true);
    let report = run_ok(
        d,
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
[[output]]
path = "a.mp3"
[[output]]
path = "a.m4a"
[[output]]
path = "a.ogg"
[[output]]
path = "a.opus"
[[output]]
path = "a.flac"
[[output]]
path = "video.mp4"
[[output]]
path = "silent.mp4"
audio = "drop"
"#,
    );
    assert!(report.all_ok());
    for (name, codec) in [
        ("a.mp3", "mp3"),
        ("a.m4a", "aac"),
        ("a.ogg", "vorbis"),
        ("a.opus", "opus"),
        ("a.flac", "flac"),
    ] {
        let (kinds, seconds) = streams(&d.join(name));
        assert_eq!(kinds, [format!("audio:{codec}")], "{name}: audio alone");
        assert!((seconds - 3.0).abs() < 0.15, "{name}: {seconds} s");
    }
    assert_eq!(streams(&d.join("video.mp4")).0, ["video:h264", "audio:aac"]);
    assert_eq!(streams(&d.join("silent.mp4")).0, ["video:h264"]);
    // FLAC keeps the decoded samples (to 16-bit rounding).
    let (a, b) = (pcm(&src, 2.5), pcm(&d.join("a.flac"), 2.5));
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (*x as i32 - *y as i32).abs())
        .max()
        .unwrap();
    assert!(
        worst <= 1,
        "FLAC differs from the source's audio by {worst}"
    );
    // The sine survives the lossy codecs too: their samples stay close to the source's.
    let energy = |v: &[i16]| v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / v.len() as f64;
    for name in ["a.mp3", "a.m4a", "a.ogg", "a.opus"] {
        let e = energy(&pcm(&d.join(name), 2.5)) / energy(&a);
        assert!((0.8..1.25).contains(&e), "{name}: energy ratio {e}");
    }
}

#[test]
fn an_input_without_video_makes_audio_outputs_and_refuses_video_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:sample_rate=44100:duration=2",
        "-c:a",
        "aac",
        &d.join("music.m4a").to_string_lossy(),
    ]);
    let report = run_ok(
        d,
        r#"
input = "music.m4a"
[[output]]
path = "music.mp3"
[[output]]
path = "music.flac"
[[output]]
path = "copy.m4a"
audio = "copy"
"#,
    );
    assert!(report.all_ok());
    assert_eq!(streams(&d.join("music.mp3")).0, ["audio:mp3"]);
    assert_eq!(streams(&d.join("music.flac")).0, ["audio:flac"]);
    assert_eq!(streams(&d.join("copy.m4a")).0, ["audio:aac"]);
    // A video output needs video.
    let path = d.join("job.toml");
    std::fs::write(
        &path,
        "input = \"music.m4a\"\n[[output]]\npath = \"v.mp4\"\ncodec = \"libx264\"\n",
    )
    .unwrap();
    let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
    let job = rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
    let e = rdbench_transcode::job::run(&job, &rdbench_transcode::job::NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("music.m4a") && e.contains("video"), "{e}");
}

#[test]
fn bad_audio_outputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = |out: &str| {
        let path = dir.path().join("job.toml");
        std::fs::write(&path, format!("input = \"in.mp4\"\n[[output]]\n{out}\n")).unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        let job = rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
        job.rejected[0].2.to_string()
    };
    let e = err("path = \"a.mp3\"\naudio = \"drop\"");
    assert!(
        e.contains("output[0].audio") && e.contains("cannot drop"),
        "{e}"
    );
    let e = err("path = \"a.mp3\"\naudio = { codec = \"libx264\" }");
    assert!(
        e.contains("output[0].audio.codec") && e.contains("not an audio encoder"),
        "{e}"
    );
    let e = err("path = \"a.mp3\"\naudio = { codec = \"libopus\" }");
    assert!(
        e.contains("output[0].audio.codec") && e.contains("cannot carry"),
        "{e}"
    );
}
