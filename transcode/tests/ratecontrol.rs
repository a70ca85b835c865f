//! Rate control through the core: ABR accuracy, two passes, and every first-class encoder with
//! each rate-control mode it supports.

use crate::support::*;

/// A 5 s source with real detail (noise over a moving pattern), so bitrate targets mean something.
fn detailed_source(dir: &std::path::Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=5",
        "-vf",
        "noise=alls=12:allf=t",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        dir.join("detail.mp4").to_str().unwrap(),
    ]);
}

#[test]
fn abr_lands_within_ten_percent_of_its_target_on_a_5_s_clip() {
    let dir = tempfile::tempdir().unwrap();
    detailed_source(dir.path());
    let report = run_ok(
        dir.path(),
        r#"
input = "detail.mp4"
[defaults]
codec = "libx264"
preset = "veryfast"
[[output]]
path = "abr.mp4"
rc = { mode = "abr", bitrate_kbps = 800 }
[[output]]
path = "abr2.mp4"
rc = { mode = "abr", bitrate_kbps = 800, passes = 2 }
[[output]]
path = "vp9-twopass.webm"
codec = "libvpx-vp9"
preset = 8
audio = "drop"
rc = { mode = "abr", bitrate_kbps = 800, passes = 2 }
"#,
    );
    for o in &report.outputs {
        let err = (o.video_kbps / 800.0 - 1.0) * 100.0;
        assert!(
            err.abs() <= 10.0,
            "{:?}: {:.1} kbit/s is {err:+.1}% off 800",
            o.path,
            o.video_kbps
        );
        assert_eq!(o.frames, 150);
    }
    // No two-pass statistics are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("2pass"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn every_first_class_encoder_takes_each_rate_control_mode_it_supports() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "tiny.mp4", "128x96", 10, 1.0, false);
    let modes = [
        ("crf", "{ mode = \"crf\", value = 35 }"),
        ("qp", "{ mode = \"qp\", value = 35 }"),
        ("abr", "{ mode = \"abr\", bitrate_kbps = 100 }"),
        (
            "cbr",
            "{ mode = \"cbr\", bitrate_kbps = 100, bufsize_kbits = 100 }",
        ),
        (
            "capped",
            "{ mode = \"capped_crf\", value = 35, maxrate_kbps = 150, bufsize_kbits = 300 }",
        ),
    ];
    let encoders = [
        (
            "libx264",
            "ultrafast",
            "mp4",
            &["crf", "qp", "abr", "cbr", "capped"][..],
        ),
        (
            "libx265",
            "ultrafast",
            "mp4",
            &["crf", "qp", "abr", "cbr", "capped"][..],
        ),
        (
            "libsvtav1",
            "12",
            "mkv",
            &["crf", "qp", "abr", "cbr", "capped"][..],
        ),
        (
            "libaom-av1",
            "8",
            "mkv",
            &["crf", "qp", "abr", "cbr", "capped"][..],
        ),
        (
            "libvpx-vp9",
            "8",
            "webm",
            &["crf", "qp", "abr", "cbr", "capped"][..],
        ),
        ("librav1e", "10", "mkv", &["qp", "abr"][..]),
    ];
    let mut job = String::from("input = \"tiny.mp4\"\n[defaults]\naudio = \"drop\"\n");
    let mut expected = Vec::new();
    for (codec, preset, ext, supported) in encoders {
        for (mode, rc) in modes {
            if !supported.contains(&mode) {
                continue;
            }
            let path = format!("m/{codec}-{mode}.{ext}");
            job.push_str(&format!("[[output]]\npath = \"{path}\"\ncodec = \"{codec}\"\npreset = \"{preset}\"\nrc = {rc}\n"));
            expected.push(path);
        }
    }
    let report = run_job(dir.path(), &job);
    let failures: Vec<String> = report
        .outputs
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    for path in expected {
        let p = probe(&dir.path().join(&path));
        assert_eq!((p.width, p.height, p.frames), (128, 96, 10), "{path}");
    }
}
