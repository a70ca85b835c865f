//! Turning, flipping and black-border cropping, read back from decoded outputs; the source's
//! display-matrix rotation is checked against the `ffmpeg` CLI's own autorotation.

use std::path::Path;

use crate::support::*;

fn frame(path: &Path) -> Vec<u8> {
    rgb_frame(&["-i", &path.to_string_lossy()])
}

fn red_at(rgb: &[u8], w: u32, x: u32, y: u32) -> bool {
    let i = ((y * w + x) * 3) as usize;
    rgb[i] > 180 && rgb[i + 1] < 80 && rgb[i + 2] < 80
}

#[test]
fn turns_flips_and_the_display_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    // Grey with a red box in the top-left corner.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=25:d=1,drawbox=x=0:y=0:w=80:h=60:color=red:t=fill",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "10",
        "-pix_fmt",
        "yuv420p",
        &d("src.mp4"),
    ]);
    ffmpeg(&[
        "-i",
        &d("src.mp4"),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        &d("rot.mp4"),
    ]);
    run_ok(
        dir.path(),
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 10 }
[[output]]
path = "r90.mp4"
rotate = 90
[[output]]
path = "r90h.mp4"
rotate = 90
flip = "horizontal"
[[output]]
path = "r180.mp4"
rotate = 180
[[output]]
path = "v.mp4"
flip = "vertical"
height = 120
"#,
    );
    // (file, width, height, a point inside the box, a point that must not be red)
    for (name, w, h, inside, outside) in [
        ("r90.mp4", 240, 320, (200, 40), (40, 40)),
        ("r90h.mp4", 240, 320, (30, 40), (200, 40)),
        ("r180.mp4", 320, 240, (280, 210), (40, 30)),
        ("v.mp4", 160, 120, (20, 105), (20, 15)),
    ] {
        let p = probe(&dir.path().join(name));
        assert_eq!((p.width, p.height), (w as u64, h as u64), "{name}");
        let rgb = frame(&dir.path().join(name));
        assert!(
            red_at(&rgb, w, inside.0, inside.1),
            "{name}: the box turned with the picture"
        );
        assert!(!red_at(&rgb, w, outside.0, outside.1), "{name}");
    }

    // The display matrix: kept as stored unless asked, applied as the ffmpeg CLI applies it.
    run_ok(
        dir.path(),
        r#"
input = "rot.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 10 }
[[output]]
path = "stored.mp4"
[[output]]
path = "auto.mp4"
autorotate = true
"#,
    );
    let stored = probe(&dir.path().join("stored.mp4"));
    assert_eq!((stored.width, stored.height), (320, 240));
    let auto = probe(&dir.path().join("auto.mp4"));
    assert_eq!((auto.width, auto.height), (240, 320));
    let cli = rgb_frame(&["-i", &d("rot.mp4")]);
    let ours = frame(&dir.path().join("auto.mp4"));
    let diff = mean_abs_diff(&ours, &cli);
    assert!(diff < 2.0, "autorotated like the ffmpeg CLI: {diff}");
}

#[test]
fn black_borders_are_found_and_cropped() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    // A letterboxed and a pillarboxed source (bars of 30 and 40 pixels).
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=25:d=2,pad=320:240:0:30:black",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        "-pix_fmt",
        "yuv420p",
        &d("letter.mp4"),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=25:d=2,pad=400:180:40:0:black",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        "-pix_fmt",
        "yuv420p",
        &d("pillar.mp4"),
    ]);
    for (input, crop) in [
        ("letter.mp4", "320:180:0:30"),
        ("pillar.mp4", "320:180:40:0"),
    ] {
        run_ok(
            dir.path(),
            &format!(
                r#"
input = "{input}"
[[output]]
path = "cut-{input}"
codec = "libx264"
preset = "ultrafast"
rc = {{ mode = "crf", value = 10 }}
crop_black = true
"#
            ),
        );
        let out = dir.path().join(format!("cut-{input}"));
        let p = probe(&out);
        assert_eq!((p.width, p.height), (320, 180), "{input}");
        let cli = rgb_frame(&["-i", &d(input), "-vf", &format!("crop={crop}")]);
        let diff = mean_abs_diff(&frame(&out), &cli);
        assert!(
            diff < 3.0,
            "{input}: the bars, and only they, are cut: {diff}"
        );
    }
    let report = run_job(
        dir.path(),
        r#"
input = "letter.mp4"
[defaults]
codec = "libx264"
[[output]]
path = "a.mp4"
crop_black = true
crop = { width = 100, height = 100 }
[[output]]
path = "b.mp4"
rotate = 45
[[output]]
path = "c.mp4"
flip = "sideways"
"#,
    );
    let errors: Vec<String> = report
        .outputs
        .iter()
        .map(|o| o.error.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        errors,
        [
            "output[0].crop_black: conflicts with `crop`: give one",
            "output[1].rotate: must be 90, 180 or 270 (degrees clockwise), not 45",
            "output[2].flip: unknown flip `sideways` (horizontal, vertical, both)",
        ]
    );
}
