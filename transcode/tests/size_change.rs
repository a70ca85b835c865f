//! A source whose picture size changes mid-stream (two streams spliced, as live sources switch
//! layouts): the filter graph is rebuilt and flushed, no frame is lost, every output keeps its
//! size, and the new pictures are fitted into it keeping their aspect ratio.

use std::path::Path;

use crate::support::*;

/// Row `y` of an RGB picture `w` pixels wide: its mean value.
fn row_mean(rgb: &[u8], w: usize, y: usize) -> f64 {
    let row = &rgb[y * w * 3..(y + 1) * w * 3];
    row.iter().map(|&v| v as f64).sum::<f64>() / row.len() as f64
}

fn spliced(dir: &Path) -> std::path::PathBuf {
    for (name, src) in [
        ("a.ts", "testsrc2=size=320x240:rate=25:duration=2"),
        ("b.ts", "smptebars=size=320x180:rate=25:duration=2"),
    ] {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            src,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-pix_fmt",
            "yuv420p",
            &dir.join(name).to_string_lossy(),
        ]);
    }
    std::fs::write(dir.join("list.txt"), "file 'a.ts'\nfile 'b.ts'\n").unwrap();
    let out = dir.join("spliced.ts");
    ffmpeg(&[
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        &dir.join("list.txt").to_string_lossy(),
        "-c",
        "copy",
        &out.to_string_lossy(),
    ]);
    out
}

#[test]
fn a_size_change_mid_stream_keeps_every_frame_and_every_output_size() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = spliced(d);
    let report = run_ok(
        d,
        r#"
input = "spliced.ts"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
audio = "drop"
[[output]]
path = "same.mp4"
[[output]]
path = "half.mp4"
height = 120
"#,
    );
    assert!(report.all_ok());
    for (name, w, h) in [("same.mp4", 320, 240), ("half.mp4", 160, 120)] {
        let p = probe(&d.join(name));
        assert_eq!((p.width, p.height), (w, h), "{name}");
        assert_eq!(p.frames, 100, "{name}: every frame of both parts");
    }
    // The first part is the source's picture.
    let ours = rgb_frame(&["-ss", "1", "-i", &d.join("same.mp4").to_string_lossy()]);
    let theirs = rgb_frame(&["-ss", "1", "-i", &src.to_string_lossy()]);
    assert!(mean_abs_diff(&ours, &theirs) < 1.5);
    // The 16:9 second part is letterboxed into 4:3: 30 black rows above and below.
    let second = rgb_frame(&["-ss", "3", "-i", &d.join("same.mp4").to_string_lossy()]);
    for y in [0, 10, 25, 215, 230, 239] {
        assert!(row_mean(&second, 320, y) < 20.0, "row {y} is not black");
    }
    for y in [40, 120, 200] {
        assert!(row_mean(&second, 320, y) > 40.0, "row {y} is black");
    }
}
