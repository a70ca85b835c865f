//! Subtitles burned into the picture: the frames equal those the `ffmpeg` CLI's `subtitles`
//! filter draws from the same file, at the input's time in clips and chunked jobs too.

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
        std::fs::write(
            &path,
            format!("input = \"in.mp4\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\nsubtitles = {subs}\n"),
        )
        .unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        let job = rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
        job.rejected[0].2.to_string()
    };
    let e = err("{ file = \"subs.srt\" }");
    assert!(
        e.contains("output[0].subtitles.burn") && e.contains("not supported"),
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
}
