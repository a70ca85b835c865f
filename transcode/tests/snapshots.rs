//! Snapshots: images of chosen frames, checked against the frames the `ffmpeg` CLI extracts
//! with an accurate seek (an independent reading of the same source).

use std::path::Path;

use crate::support::*;

fn image(path: &Path) -> Vec<u8> {
    rgb_frame(&["-i", &path.to_string_lossy()])
}

fn oracle(src: &Path, t: f64, w: u32, h: u32) -> Vec<u8> {
    rgb_frame(&[
        "-ss",
        &format!("{t}"),
        "-i",
        &src.to_string_lossy(),
        "-vf",
        &format!("scale={w}:{h}:flags=bicubic"),
    ])
}

/// Checks each image is the oracle's frame at its time, and closer to it than to the next
/// frame's (so a snapshot one frame off fails).
fn check_frames(src: &Path, files: &[std::path::PathBuf], times: &[f64], w: u32, h: u32, tol: f64) {
    assert_eq!(files.len(), times.len());
    for (f, &t) in files.iter().zip(times) {
        let ours = image(f);
        assert_eq!(ours.len(), (w * h * 3) as usize, "{}", f.display());
        let right = mean_abs_diff(&ours, &oracle(src, t, w, h));
        let next = mean_abs_diff(&ours, &oracle(src, t + 0.04, w, h));
        assert!(
            right <= tol,
            "{}: {right} from the frame at {t} s",
            f.display()
        );
        assert!(
            next > 2.0 * right.max(0.1),
            "{}: {next} from the next frame vs {right}",
            f.display()
        );
    }
}

#[test]
fn snapshots_at_times_and_evenly_spaced_are_the_frames_a_seek_gives() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "src.mp4", "320x240", 25, 4.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "src.mp4"
[[output]]
path = "out.mp4"
codec = "libx264"
preset = "ultrafast"
[[snapshot]]
path = "t-%02d.png"
times = [0, 1.01, 2.52]
width = 160
[[snapshot]]
path = "even-%d.jpg"
count = 4
height = 180
quality = 2
"#,
    );
    assert!(report.all_ok());
    assert_eq!(report.snapshots.len(), 2);
    let t = &report.snapshots[0];
    assert_eq!((t.width, t.height), (160, 120));
    let names: Vec<String> = t
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["t-01.png", "t-02.png", "t-03.png"]);
    // 1.01 s falls between frames: the first at or after it is at 1.04 s. PNG is lossless, so
    // the only difference from the oracle is rounding in the colour conversion.
    check_frames(&src, &t.files, &[0.0, 1.04, 2.52], 160, 120, 0.5);

    let e = &report.snapshots[1];
    assert_eq!((e.width, e.height), (240, 180));
    assert_eq!(e.files.len(), 4);
    for f in &e.files {
        let p = probe(f);
        assert_eq!((p.codec.as_str(), p.width, p.height), ("mjpeg", 240, 180));
    }
    // The middles of four equal parts of 4 s.
    check_frames(&src, &e.files, &[0.5, 1.5, 2.5, 3.5], 240, 180, 4.0);
    assert!(temporaries(dir.path()).is_empty());
    assert!(probe(&dir.path().join("out.mp4")).frames == 100);
}

#[test]
fn keyframe_snapshots_follow_the_gop_and_a_job_may_have_only_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("gop.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-keyint_min",
        "25",
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
        &src.to_string_lossy(),
    ]);
    let report = run_job(
        dir.path(),
        r#"
input = "gop.mp4"
[[snapshot]]
path = "k%03d.jpg"
keyframes = true
[[snapshot]]
path = "first%d.png"
keyframes = true
max = 2
"#,
    );
    assert!(report.all_ok(), "{:?}", report.snapshots);
    assert!(report.outputs.is_empty());
    let k = &report.snapshots[0];
    assert_eq!(k.files.len(), 4, "keyframes at 0, 1, 2 and 3 s");
    assert!(k.files[3].ends_with("k004.jpg"));
    check_frames(&src, &k.files, &[0.0, 1.0, 2.0, 3.0], 320, 240, 4.0);
    assert_eq!(report.snapshots[1].files.len(), 2);
}

#[test]
fn a_bad_snapshot_set_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 2.0, false);
    let report = run_job(
        dir.path(),
        r#"
input = "src.mp4"
[[output]]
path = "out.mp4"
codec = "libx264"
preset = "ultrafast"
[[snapshot]]
path = "late-%d.jpg"
times = [1, 9]
[[snapshot]]
path = "x.bmp"
times = [1]
[[snapshot]]
path = "ok-%d.png"
count = 2
"#,
    );
    assert!(report.outputs[0].error.is_none());
    let errors: Vec<Option<String>> = report
        .snapshots
        .iter()
        .map(|s| s.error.as_ref().map(|e| e.to_string()))
        .collect();
    assert_eq!(
        errors,
        [
            Some("snapshot[0].times: 9 s is not before the end of the input (2.000 s)".to_string()),
            Some(
                "snapshot[1].path: `x.bmp` does not end in .jpg, .jpeg or .png; set `format`"
                    .into()
            ),
            None
        ]
    );
    assert_eq!(report.snapshots[2].files.len(), 2);
    assert!(!dir.path().join("late-1.jpg").exists());
    assert!(!report.all_ok());
}

#[test]
fn sprite_sheets_tile_the_thumbnails_and_the_track_points_at_each() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "src.mp4", "320x240", 25, 4.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "src.mp4"
[[snapshot]]
path = "sheet-%d.png"
count = 5
width = 80
sprite = { columns = 2, rows = 2, vtt = "thumbs.vtt" }
"#,
    );
    assert!(report.all_ok(), "{:?}", report.snapshots);
    let s = &report.snapshots[0];
    assert_eq!(s.files.len(), 2, "5 thumbnails on 2x2 sheets");
    for f in &s.files {
        let p = probe(f);
        assert_eq!((p.width, p.height), (160, 120), "{}", f.display());
    }
    let vtt = std::fs::read_to_string(dir.path().join("thumbs.vtt")).unwrap();
    assert_eq!(
        vtt,
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nsheet-1.png#xywh=0,0,80,60\n\
         \n00:00:00.800 --> 00:00:01.600\nsheet-1.png#xywh=80,0,80,60\n\
         \n00:00:01.600 --> 00:00:02.400\nsheet-1.png#xywh=0,60,80,60\n\
         \n00:00:02.400 --> 00:00:03.200\nsheet-1.png#xywh=80,60,80,60\n\
         \n00:00:03.200 --> 00:00:04.000\nsheet-2.png#xywh=0,0,80,60\n"
    );
    // The third tile is the frame in the middle of the third part (2.0 s), as a single
    // snapshot would be.
    let sheet = image(&s.files[0]);
    let tile: Vec<u8> = (60..120)
        .flat_map(|y| sheet[(y * 160) * 3..(y * 160 + 80) * 3].to_vec())
        .collect();
    let right = mean_abs_diff(&tile, &oracle(&src, 2.0, 80, 60));
    let next = mean_abs_diff(&tile, &oracle(&src, 2.04, 80, 60));
    assert!(
        right < 0.5 && next > 2.0 * right.max(0.1),
        "{right} vs {next}"
    );
}
