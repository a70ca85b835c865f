//! One input, many outputs: every rung and every container round-trips.

use crate::support::*;

#[test]
fn one_input_feeds_a_ladder_and_every_rung_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "640x360", 30, 2.0, true);
    let report = run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[defaults]
codec = "libx264"
preset = "veryfast"
threads = 1
rc = { mode = "crf", value = 26 }
[[output]]
path = "out/360.mp4"
height = 360
[[output]]
path = "out/270.mp4"
height = 270
[[output]]
path = "out/180.mp4"
width = 320
"#,
    );
    assert_eq!(report.outputs.len(), 3);
    for (name, w, h) in [("360", 640, 360), ("270", 480, 270), ("180", 320, 180)] {
        let p = probe(&dir.path().join(format!("out/{name}.mp4")));
        assert_eq!((p.width, p.height), (w, h), "{name}");
        assert_eq!(p.frames, 60, "{name}");
        assert!((p.fps - 30.0).abs() < 1e-6, "{name}: {} fps", p.fps);
        assert_eq!(p.pix_fmt, "yuv420p");
        assert!(
            (p.duration - 2.0).abs() < 0.034,
            "{name}: duration {}",
            p.duration
        );
        assert_eq!(
            p.audio_codec.as_deref(),
            Some("aac"),
            "{name}: audio encoded by default"
        );
    }
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn every_container_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "320x240", 25, 1.0, true);
    run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 30 }
[[output]]
path = "o/a.mkv"
[[output]]
path = "o/a.mov"
audio = "copy"
[[output]]
path = "o/a.ts"
[[output]]
path = "o/a.flv"
[[output]]
path = "o/a.webm"
codec = "libvpx-vp9"
preset = 8
rc = { mode = "crf", value = 45 }
[[output]]
path = "o/a.ivf"
codec = "libsvtav1"
preset = 12
rc = { mode = "crf", value = 50 }
[[output]]
path = "o/a.y4m"
"#,
    );
    let expect = [
        ("a.mkv", "h264", Some("aac")),
        ("a.mov", "h264", Some("aac")),
        ("a.ts", "h264", Some("aac")),
        ("a.flv", "h264", Some("aac")),
        ("a.webm", "vp9", Some("opus")),
        ("a.ivf", "av1", None),
        ("a.y4m", "rawvideo", None),
    ];
    for (name, codec, audio) in expect {
        let p = probe(&dir.path().join("o").join(name));
        assert_eq!(p.codec, codec, "{name}");
        assert_eq!((p.width, p.height, p.frames), (320, 240, 25), "{name}");
        assert_eq!(p.pix_fmt, "yuv420p", "{name}");
        assert_eq!(p.audio_codec.as_deref(), audio, "{name}");
        if name != "a.ivf" {
            assert!((p.fps - 25.0).abs() < 0.01, "{name}: {} fps", p.fps);
        }
    }
}

/// Serial and parallel tasks must write byte-identical files, with x264's default settings.
///
/// On a CPU with AVX-512 this also checks that the core runs libx264 without its AVX-512 code,
/// whose output depends on what the heap held before (two encodes of the same frames in one
/// process can differ; the `ffmpeg` CLI shows it too under `MALLOC_PERTURB_=37`).
#[test]
fn serial_and_parallel_tasks_write_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "320x240", 25, 1.0, false);
    let job = |mode: &str, out: &str| {
        format!(
            "input = \"mezz.mp4\"\n[execution]\ndecode = \"{mode}\"\nfilter = \"{mode}\"\nencode = \"{mode}\"\nmux = \"{mode}\"\n\
             [defaults]\ncodec = \"libx264\"\npreset = \"fast\"\nthreads = 1\nrc = {{ mode = \"crf\", value = 25 }}\n\
             [[output]]\npath = \"{out}/a.mp4\"\nheight = 120\n[[output]]\npath = \"{out}/b.mp4\"\n"
        )
    };
    run_ok(dir.path(), &job("serial", "s"));
    run_ok(dir.path(), &job("parallel", "p"));
    for f in ["a.mp4", "b.mp4"] {
        let a = std::fs::read(dir.path().join("s").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("p").join(f)).unwrap();
        if a != b {
            let keep =
                std::env::temp_dir().join(format!("rdbench-identity-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::write(keep.join(format!("serial-{f}")), &a);
            let _ = std::fs::write(keep.join(format!("parallel-{f}")), &b);
            panic!(
                "{f}: serial and parallel outputs differ (both kept in {})",
                keep.display()
            );
        }
    }
}

#[test]
fn ten_bit_crop_and_scale_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "640x360", 25, 0.4, false);
    run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[[output]]
path = "hevc10.mkv"
codec = "libx265"
preset = "ultrafast"
pix_fmt = "yuv420p10le"
crop = { width = 480, height = 360, x = 80 }
height = 240
scale = "lanczos"
rc = { mode = "crf", value = 30 }
"#,
    );
    let p = probe(&dir.path().join("hevc10.mkv"));
    assert_eq!(
        (
            p.codec.as_str(),
            p.pix_fmt.as_str(),
            p.width,
            p.height,
            p.frames
        ),
        ("hevc", "yuv420p10le", 320, 240, 10)
    );
}

#[test]
fn templates_fill_outputs_and_outputs_override_them() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "320x240", 25, 0.4, false);
    std::fs::write(
        dir.path().join("templates.toml"),
        "[template.small]\ncodec = \"libx264\"\npreset = \"ultrafast\"\nheight = 120\nrc = { mode = \"crf\", value = 30 }\n",
    )
    .unwrap();
    run_ok(
        dir.path(),
        "input = \"mezz.mp4\"\ntemplates = \"templates.toml\"\n[[output]]\npath = \"t1.mp4\"\ntemplate = \"small\"\n\
         [[output]]\npath = \"t2.mp4\"\ntemplate = \"small\"\nheight = 60\n",
    );
    assert_eq!(probe(&dir.path().join("t1.mp4")).height, 120);
    assert_eq!(probe(&dir.path().join("t2.mp4")).height, 60);
}
