//! GIF outputs: a palette per output, kept small by default (15 fps, 480 pixels wide), read
//! back and compared with the source by the `ffmpeg` CLI.

use crate::support::*;

fn rgb_at(path: &std::path::Path, t: f64, vf: Option<&str>) -> Vec<u8> {
    let t = t.to_string();
    let path = path.to_string_lossy();
    let mut args = vec!["-ss", &t, "-i", &path];
    if let Some(f) = vf {
        args.extend(["-vf", f]);
    }
    rgb_frame(&args)
}

#[test]
fn gifs_get_a_palette_and_stay_small() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "src.mp4", "640x360", 25, 2.0, true);
    let report = run_job(
        dir.path(),
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
rc = { mode = "crf", value = 20 }
[[output]]
path = "default.gif"
[[output]]
path = "small.gif"
width = 160
fps = 5
[[output]]
path = "bad.gif"
pix_fmt = "yuv420p"
"#,
    );
    let d = probe(&dir.path().join("default.gif"));
    assert_eq!((d.codec.as_str(), d.width, d.height), ("gif", 480, 270));
    // GIF delays are whole centiseconds: 15 fps alternates 7 and 6.
    assert!((d.fps - 15.0).abs() < 0.2, "{}", d.fps);
    assert!(
        (29..=30).contains(&d.frames),
        "{} frames for 2 s at 15 fps",
        d.frames
    );
    assert_eq!(d.audio_codec, None);
    let s = probe(&dir.path().join("small.gif"));
    assert_eq!((s.width, s.height), (160, 90));
    assert_eq!(s.frames, 10);
    // Palette colour, dithered: close to the source's picture at the same time.
    let ours = rgb_at(&dir.path().join("default.gif"), 1.0, None);
    let theirs = rgb_at(&src, 1.0, Some("scale=480:270:flags=bicubic"));
    assert_eq!(ours.len(), theirs.len());
    let mad = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / ours.len() as f64;
    assert!(mad < 10.0, "mean absolute difference {mad}");
    assert_eq!(
        report.outputs[2].error.as_ref().unwrap().to_string(),
        "output[2].pix_fmt: a GIF is 8-bit palette colour; its palette is made per output"
    );
}
