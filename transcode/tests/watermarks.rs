//! Watermarks: image and text marks drawn at their place on every rung, only in their time
//! window, with the image's alpha respected; read back by decoding the outputs with the
//! `ffmpeg` CLI.

use std::path::Path;

use crate::support::*;

/// The frame of `path` at `t` seconds as RGB bytes.
fn frame_at(path: &Path, t: f64) -> Vec<u8> {
    rgb_frame(&["-ss", &t.to_string(), "-i", &path.to_string_lossy()])
}

fn pixel(rgb: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * w + x) * 3) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

fn is_red(p: [u8; 3]) -> bool {
    p[0] > 200 && p[1] < 70 && p[2] < 70
}

fn is_grey(p: [u8; 3]) -> bool {
    p.iter().all(|&c| (100..=160).contains(&c))
}

/// Pixels brighter than the grey background in a box.
fn bright(rgb: &[u8], w: u32, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            if pixel(rgb, w, x, y).iter().all(|&c| c > 220) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn marks_sit_where_asked_on_every_rung_and_only_in_their_window() {
    let dir = tempfile::tempdir().unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=25:d=3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &dir.path().join("grey.mp4").to_string_lossy(),
    ]);
    // A 40x20 logo: opaque red on the left half, transparent on the right.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=40x20,format=rgba,geq=r=255:g=0:b=0:a='if(lt(X\\,20)\\,255\\,0)'",
        "-frames:v",
        "1",
        &dir.path().join("logo.png").to_string_lossy(),
    ]);
    run_ok(
        dir.path(),
        r#"
input = "grey.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 12 }
watermarks = [
  { image = "logo.png", position = "top-right", width = 0.125, x = 0.05, y = 0.05, start = 1, end = 2 },
  { text = "rdbench", position = "bottom-left", x = 8, y = 8, size = 0.1 },
]
[[output]]
path = "big.mp4"
height = 480
[[output]]
path = "small.mp4"
"#,
    );
    // (file, width, height, centre of the logo's opaque half, centre of its transparent half)
    for (name, w, h, opaque, clear) in [
        ("big.mp4", 640, 480, (548, 44), (588, 44)),
        ("small.mp4", 320, 240, (274, 22), (294, 22)),
    ] {
        let path = dir.path().join(name);
        let shown = frame_at(&path, 1.5);
        let before = frame_at(&path, 0.5);
        let after = frame_at(&path, 2.5);
        assert_eq!(shown.len(), (w * h * 3) as usize);
        assert!(
            is_red(pixel(&shown, w, opaque.0, opaque.1)),
            "{name}: the logo is at its place"
        );
        assert!(
            is_grey(pixel(&shown, w, clear.0, clear.1)),
            "{name}: its transparent half shows the frame"
        );
        assert!(
            is_grey(pixel(&before, w, opaque.0, opaque.1)),
            "{name}: not before 1 s"
        );
        assert!(
            is_grey(pixel(&after, w, opaque.0, opaque.1)),
            "{name}: not after 2 s"
        );
        assert!(
            is_grey(pixel(&shown, w, w / 2, h / 2)),
            "{name}: the rest untouched"
        );
        // The text: 10% of the height, 8 px in from the bottom-left corner, all the time.
        let text_h = h / 10;
        for frame in [&before, &shown] {
            let inside = bright(frame, w, 8, h - 8 - text_h - 4, w / 2, h - 4);
            let elsewhere = bright(frame, w, 8, 4, w / 2, 4 + text_h + 8);
            assert!(
                inside > (text_h * text_h / 4) as usize,
                "{name}: {inside} text pixels"
            );
            assert_eq!(elsewhere, 0, "{name}: text only where asked");
        }
    }
}

#[test]
fn bad_watermarks_fail_their_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 1.0, false);
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    let report = run_job(
        dir.path(),
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
[[output]]
path = "ok.mp4"
[[output]]
path = "a.mp4"
watermarks = [{ image = "notes.txt" }]
[[output]]
path = "b.mp4"
watermarks = [{ image = "src.mp4" }]
[[output]]
path = "c.mp4"
watermarks = [{ text = "x", position = "middle" }]
"#,
    );
    assert!(report.outputs[0].error.is_none());
    let errors: Vec<String> = report.outputs[1..]
        .iter()
        .map(|o| o.error.as_ref().unwrap().to_string())
        .collect();
    let p = |n: &str| dir.path().join(n).display().to_string();
    assert_eq!(
        errors,
        [
            format!("output[1].watermarks[0].image: {} is not an image FFmpeg can read", p("notes.txt")),
            format!("output[2].watermarks[0].image: {} is h264, not a still image", p("src.mp4")),
            "output[3].watermarks[0].position: unknown position `middle` (top-left, top-right, bottom-left, bottom-right, center)".into(),
        ]
    );
}
