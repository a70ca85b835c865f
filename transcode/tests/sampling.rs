//! Frame-rate sampling: CFR, VFR and VFR-HALF.

use crate::support::*;

#[test]
fn vfr_half_vfr_and_cfr_from_50_fps() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src50.mp4", "320x240", 50, 2.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "src50.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 30 }
[[output]]
path = "half.mp4"
fps = 30
fps_mode = "vfr_half"
[[output]]
path = "vfr.mkv"
fps = 30
fps_mode = "vfr"
[[output]]
path = "cfr.mp4"
fps = 24
"#,
    );
    // VFR-HALF: 50 fps over a 30 target keeps one frame in two: 25 fps.
    let half = probe(&dir.path().join("half.mp4"));
    assert_eq!(half.frames, 50);
    assert!((half.fps - 25.0).abs() < 1e-6, "{}", half.fps);
    assert_eq!(report.outputs[0].fps, 25.0);
    // VFR: at most one frame per 1/30 s slot, timestamps kept: 60 frames over 2 s.
    let vfr = probe(&dir.path().join("vfr.mkv"));
    assert_eq!(vfr.frames, 60);
    // CFR: exactly 24 fps.
    let cfr = probe(&dir.path().join("cfr.mp4"));
    assert_eq!(cfr.frames, 48);
    assert!((cfr.fps - 24.0).abs() < 1e-6);
    let dropped: Vec<u64> = report
        .outputs
        .iter()
        .map(|o| o.tasks.iter().find(|t| t.kind == "filter").unwrap().dropped)
        .collect();
    assert_eq!(
        dropped[..2],
        [50, 40],
        "the filter task counts the frames sampling removed"
    );
}

/// A frame-rate conversion lasts the whole input, its last frame included, as the `ffmpeg`
/// CLI's `fps` filter does: the same pictures at the same times, up and down in rate.
#[test]
fn cfr_conversion_gives_the_ffmpeg_clis_frames() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src25.mp4", "96x64", 25, 2.0, false);
    run_ok(
        dir.path(),
        r#"
input = "src25.mp4"
[defaults]
codec = "ffv1"
[[output]]
path = "up.mkv"
fps = 30
[[output]]
path = "down.mkv"
fps = 24
"#,
    );
    for (name, rate, frames) in [("up.mkv", 30, 60), ("down.mkv", 24, 48)] {
        let cli = dir.path().join(format!("cli_{name}"));
        ffmpeg(&[
            "-i",
            dir.path().join("src25.mp4").to_str().unwrap(),
            "-vf",
            &format!("fps={rate}"),
            "-c:v",
            "ffv1",
            cli.to_str().unwrap(),
        ]);
        let ours = framemd5(&[], &dir.path().join(name));
        assert_eq!(ours.len(), frames, "{name}: 2 s at {rate} fps");
        assert_eq!(ours, framemd5(&[], &cli), "{name}: the CLI's frames");
    }
}
