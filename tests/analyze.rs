//! `rdbench analyze`: which templates fit generated inputs of two sizes and rates, with and
//! without audio, and one-line errors for a templates file or an input that cannot be read.

use serde_json::Value;

use crate::support::{assert_one_line_error, ffmpeg, rdbench};

const TEMPLATES: &str = r#"
[template.hd]
codec = "libx264"
height = 720
fps = 30
rc = { mode = "abr", bitrate_kbps = 3000 }
audio = { codec = "aac", bitrate_kbps = 128 }

[template.small]
codec = "libx264"
height = 180
rc = { mode = "abr", bitrate_kbps = 20 }

[template.greedy]
codec = "libx264"
height = 180
rc = { mode = "abr", bitrate_kbps = 100000 }
"#;

fn analyze(dir: &std::path::Path, input: &str) -> Value {
    let out = rdbench(dir, &["analyze", input, "--templates", "t.toml", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn reasons(v: &Value, name: &str) -> Vec<String> {
    let t = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no template {name} in {v}"));
    let r: Vec<String> = t["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(t["fits"], r.is_empty());
    r
}

#[test]
fn templates_that_fit_and_the_reasons_of_those_that_do_not() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.toml"), TEMPLATES).unwrap();
    // 640x360 at 25 fps with audio; 320x180 at 30 fps without.
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
            "a.mp4",
        ],
    );
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "b.mkv",
        ],
    );
    let a = analyze(d.path(), "a.mp4");
    assert_eq!(a["source"]["width"], 640);
    assert_eq!(a["source"]["audio"], true);
    let hd = reasons(&a, "hd");
    assert!(
        hd.contains(&"it would upscale 640x360 to 1280x720".to_string()),
        "{hd:?}"
    );
    assert!(
        hd.contains(&"it would raise the frame rate from 25 to 30 fps".to_string()),
        "{hd:?}"
    );
    assert!(!hd.iter().any(|r| r.contains("audio")), "{hd:?}");
    assert_eq!(reasons(&a, "small"), Vec::<String>::new());
    let greedy = reasons(&a, "greedy");
    assert_eq!(greedy.len(), 1, "{greedy:?}");
    assert!(greedy[0].starts_with("it asks for 100000 kbit/s of video, more than the source's"));

    let b = analyze(d.path(), "b.mkv");
    assert_eq!(b["source"]["audio"], false);
    let hd = reasons(&b, "hd");
    assert_eq!(hd.len(), 3, "{hd:?}");
    assert_eq!(hd[0], "it would upscale 320x180 to 1280x720");
    assert!(
        hd[1].starts_with("it asks for 3000 kbit/s of video"),
        "{hd:?}"
    );
    assert_eq!(hd[2], "it carries audio and the input has none");
    assert_eq!(reasons(&b, "small"), Vec::<String>::new());

    // The table says the same in words.
    let out = rdbench(d.path(), &["analyze", "b.mkv", "--templates", "t.toml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fits      small"), "{text}");
    assert!(
        text.contains("does not  hd: it would upscale 320x180 to 1280x720"),
        "{text}"
    );
}

#[test]
fn unreadable_templates_and_inputs_get_one_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.toml"), TEMPLATES).unwrap();
    std::fs::write(
        d.path().join("bad.toml"),
        "[template.x]\nheight = \"tall\"\n",
    )
    .unwrap();
    std::fs::write(d.path().join("empty.toml"), "").unwrap();
    std::fs::write(d.path().join("notes.mp4"), "not a video").unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64:rate=10:duration=1",
            "-c:v",
            "libx264",
            "v.mkv",
        ],
    );
    let out = rdbench(d.path(), &["analyze", "v.mkv", "--templates", "bad.toml"]);
    assert_one_line_error(&out, &["bad.toml", "line 2", "\"tall\""]);
    let out = rdbench(d.path(), &["analyze", "v.mkv", "--templates", "empty.toml"]);
    assert_one_line_error(&out, &["empty.toml", "no [template.NAME] table"]);
    let out = rdbench(
        d.path(),
        &["analyze", "v.mkv", "--templates", "missing.toml"],
    );
    assert_one_line_error(&out, &["missing.toml"]);
    let out = rdbench(d.path(), &["analyze", "notes.mp4", "--templates", "t.toml"]);
    assert_one_line_error(&out, &["notes.mp4"]);
}
