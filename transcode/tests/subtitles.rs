//! Subtitles burned into the picture: the frames equal those the `ffmpeg` CLI's `subtitles`
//! filter draws from the same file, at the input's time in clips and chunked jobs too. Soft
//! subtitles: a stream of each container's kind, whose cues FFmpeg reads back with the file's
//! text and times.

use std::path::Path;

use crate::support::*;

const SRT: &str = "1\n00:00:01,000 --> 00:00:02,500\nFIRST LINE\n\n2\n00:00:04,000 --> 00:00:06,000\nSECOND LINE\n";

/// 320x240, 25 fps, 8 s, a keyframe every second.
fn keyed(dir: &Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=8",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        &dir.join("src.mp4").to_string_lossy(),
    ]);
    std::fs::write(dir.join("subs.srt"), SRT).unwrap();
    // The independent rendering: the ffmpeg CLI burning the same file.
    ffmpeg(&[
        "-i",
        &dir.join("src.mp4").to_string_lossy(),
        "-vf",
        &format!("subtitles=filename={}", dir.join("subs.srt").display()),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        &dir.join("oracle.mp4").to_string_lossy(),
    ]);
}

fn frame_at(path: &Path, t: f64) -> Vec<u8> {
    rgb_frame(&["-ss", &format!("{t}"), "-i", &path.to_string_lossy()])
}

#[test]
fn burned_subtitles_match_the_cli_in_whole_clipped_and_chunked_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keyed(d);
    let report = run_ok(
        d,
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
subtitles = { file = "subs.srt", burn = true }
[[output]]
path = "whole.mp4"
"#,
    );
    assert!(report.all_ok());
    let clip = run_ok(
        d,
        r#"
input = "src.mp4"
clip = { start = 3 }
[[output]]
path = "clip.mp4"
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
subtitles = { file = "subs.srt", burn = true }
"#,
    );
    assert!(clip.all_ok());
    let chunked = run_ok(
        d,
        r#"
input = "src.mp4"
[execution]
chunked = { seconds = 3 }
[[output]]
path = "chunked.mp4"
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
subtitles = { file = "subs.srt", burn = true }
"#,
    );
    assert_eq!(chunked.chunks.len(), 3);
    let oracle = d.join("oracle.mp4");
    let src = d.join("src.mp4");
    for (name, shift) in [("whole.mp4", 0.0), ("clip.mp4", 3.0), ("chunked.mp4", 0.0)] {
        let out = d.join(name);
        // During each line (the second falls in the second chunk, and in the clip)
        // the picture is the CLI's; outside them it is the source's.
        for t in [1.5, 2.2, 4.5, 5.5] {
            if t < shift {
                continue;
            }
            let ours = frame_at(&out, t - shift);
            let theirs = mean_abs_diff(&ours, &frame_at(&oracle, t));
            let plain = mean_abs_diff(&ours, &frame_at(&src, t));
            assert!(
                theirs < 1.0,
                "{name} at {t} s: {theirs} from the CLI's subtitled frame"
            );
            assert!(
                plain > 2.0 * theirs.max(0.1),
                "{name} at {t} s: no subtitle drawn ({plain})"
            );
        }
        for t in [0.5, 3.5, 7.0] {
            if t < shift {
                continue;
            }
            let ours = frame_at(&out, t - shift);
            let plain = mean_abs_diff(&ours, &frame_at(&src, t));
            assert!(
                plain < 1.0,
                "{name} at {t} s: {plain} from the source without subtitles"
            );
        }
    }
}

#[test]
fn bad_subtitles_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("subs.srt"), SRT).unwrap();
    std::fs::write(d.join("notes.txt"), "x").unwrap();
    let err = |subs: &str| {
        let path = d.join("job.toml");
        let (out, subs) = subs.split_once('|').unwrap_or(("o.mp4", subs));
        std::fs::write(
            &path,
            format!("input = \"in.mp4\"\n[[output]]\npath = \"{out}\"\ncodec = \"libx264\"\nsubtitles = {subs}\n"),
        )
        .unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        let job = rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
        job.rejected[0].2.to_string()
    };
    let e = err("{ file = \"gone.srt\" }");
    assert!(
        e.contains("output[0].subtitles.file") && e.contains("gone.srt"),
        "{e}"
    );
    let e = err("{ file = \"gone.srt\", burn = true }");
    assert!(
        e.contains("output[0].subtitles.file") && e.contains("gone.srt"),
        "{e}"
    );
    let e = err("{ file = \"notes.txt\", burn = true }");
    assert!(
        e.contains("notes.txt") && e.contains("not a subtitle file"),
        "{e}"
    );
    // A subtitle stream is not joined from chunks: that output fails alone, named.
    let path = d.join("chunked.toml");
    std::fs::write(
        &path,
        "input = \"in.mp4\"\n[execution]\nchunked = { seconds = 2 }\n[[output]]\npath = \"o.mkv\"\ncodec = \"libx264\"\nsubtitles = { file = \"subs.srt\" }\n[[output]]\npath = \"p.mkv\"\ncodec = \"libx264\"\n",
    )
    .unwrap();
    let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
    let job = rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
    assert_eq!(job.outputs.len(), 1);
    assert!(job.rejected[0]
        .2
        .to_string()
        .starts_with("output[0].subtitles.burn: a subtitle stream is not joined from chunks"));
    // A container without text subtitle streams is named, with the way out.
    let e = err("o.ts|{ file = \"subs.srt\" }");
    assert_eq!(
        e,
        "output[0].subtitles.burn: the mpegts container carries no subtitle stream (mkv, mp4, mov, webm and hls do); `burn = true` draws them into the picture"
    );
}

/// The subtitle stream's cues as FFmpeg reads them: (start, end) in ms and the text. With
/// `from_video`, times count from the video's first picture (a muxer may shift every stream so
/// the audio's priming is not negative); else they are the file's own.
fn cues(path: &Path, from_video: bool) -> (String, Vec<(i64, i64, String)>) {
    let first = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries"])
        .args([
            "frame=pts_time",
            "-read_intervals",
            "%+#1",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let video_ms = (String::from_utf8_lossy(&first.stdout)
        .trim()
        .trim_end_matches(',')
        .parse::<f64>()
        .unwrap()
        * 1000.0)
        .round() as i64
        * from_video as i64;
    let codec = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "s", "-show_entries"])
        .args(["stream=codec_name", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    // -copyts keeps the file's own times (no shift to the earliest stream's start).
    let out = stdout_of(
        std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-copyts", "-i"])
            .arg(path)
            .args(["-map", "0:s", "-f", "srt", "-"]),
    );
    let text = String::from_utf8_lossy(&out).replace('\r', "");
    let ms = |t: &str| -> i64 {
        let (hms, milli) = t.trim().split_once(',').unwrap();
        let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + milli.parse::<i64>().unwrap()
    };
    let list = text
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            let lines: Vec<&str> = b.trim().lines().collect();
            let (a, z) = lines[1].split_once(" --> ").unwrap();
            (ms(a) - video_ms, ms(z) - video_ms, lines[2..].join("\n"))
        })
        .collect();
    (
        String::from_utf8_lossy(&codec.stdout).trim().to_string(),
        list,
    )
}

#[test]
fn soft_subtitles_are_a_stream_of_each_containers_kind_in_whole_and_clipped_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    source(d, "src.mp4", "320x240", 25, 8.0, true);
    std::fs::write(d.join("subs.srt"), SRT).unwrap();
    run_ok(
        d,
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
subtitles = { file = "subs.srt" }
[[output]]
path = "s.mkv"
[[output]]
path = "s.mp4"
[[output]]
path = "s.webm"
codec = "libvpx-vp9"
preset = 8
audio = { codec = "libopus" }
[[output]]
path = "hls/s.m3u8"
"#,
    );
    let whole = vec![
        (1000, 2500, "FIRST LINE".to_string()),
        (4000, 6000, "SECOND LINE".to_string()),
    ];
    for (name, codec) in [
        ("s.mkv", "subrip"),
        ("s.mp4", "mov_text"),
        ("s.webm", "webvtt"),
    ] {
        assert_eq!(
            cues(&d.join(name), true),
            (codec.to_string(), whole.clone()),
            "{name}"
        );
        assert_eq!(
            probe(&d.join(name)).frames,
            200,
            "{name}: the video is whole"
        );
    }
    // HLS: WebVTT segments in a subtitle playlist that a master playlist groups with the video.
    let master = std::fs::read_to_string(d.join("hls/s_master.m3u8")).unwrap();
    assert!(
        master.contains("TYPE=SUBTITLES") && master.contains("URI=\"s_vtt.m3u8\""),
        "{master}"
    );
    assert!(master.contains("SUBTITLES=\"subtitles\""), "{master}");
    let vtt: String = std::fs::read_dir(d.join("hls"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "vtt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(vtt.starts_with("WEBVTT") && vtt.contains("FIRST LINE") && vtt.contains("SECOND LINE"));
    // A clip from 1.5 s lasting 3 s: the cues move with it and are cut at its edges (on the
    // output's clock: no audio, so nothing shifts it).
    run_ok(
        d,
        r#"
input = "src.mp4"
clip = { start = 1.5, duration = 3 }
[[output]]
path = "clip.mkv"
codec = "libx264"
preset = "ultrafast"
audio = "drop"
subtitles = { file = "subs.srt" }
"#,
    );
    assert_eq!(
        cues(&d.join("clip.mkv"), false).1,
        vec![
            (0, 1000, "FIRST LINE".to_string()),
            (2500, 3000, "SECOND LINE".to_string())
        ]
    );
}
