//! `rdbench probe`: what a file holds, as text and as JSON.

use crate::support::*;

#[test]
fn probe_reports_container_streams_and_colour() {
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=48000:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
            "-c:a",
            "aac",
            "-shortest",
            "a.mp4",
        ],
    );
    rotate_first_track_90(&d.path().join("a.mp4"));
    let out = rdbench(d.path(), &["probe", "a.mp4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["container"].as_str().unwrap().contains("mp4"));
    assert!((v["duration_s"].as_f64().unwrap() - 2.0).abs() < 0.1);
    assert!(v["bitrate_kbps"].as_f64().unwrap() > 0.0);
    let video = &v["streams"][0];
    assert_eq!(video["kind"], "video");
    assert_eq!(video["codec"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(video["fps"].as_f64(), Some(25.0));
    assert_eq!(video["pix_fmt"], "yuv420p10le");
    assert_eq!(video["bit_depth"], 10);
    assert_eq!(video["color_primaries"], "bt2020");
    assert_eq!(video["color_transfer"], "smpte2084");
    assert_eq!(video["color_space"], "bt2020nc");
    assert_eq!(video["rotation_deg"].as_f64().map(f64::abs), Some(90.0));
    let audio = &v["streams"][1];
    assert_eq!(
        (
            audio["kind"].as_str(),
            audio["sample_rate"].as_u64(),
            audio["channels"].as_u64()
        ),
        (Some("audio"), Some(48000), Some(1))
    );
    let text = rdbench(d.path(), &["probe", "a.mp4"]);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(
        t.contains("320x240") && t.contains("yuv420p10le") && t.contains("48000 Hz"),
        "{t}"
    );
}

/// Writes a 90-degree display matrix into the first track header of an MP4 (FFmpeg 5.1's muxer
/// no longer takes a `rotate` tag, and phones write exactly this matrix).
fn rotate_first_track_90(path: &std::path::Path) {
    let mut b = std::fs::read(path).unwrap();
    let at = b
        .windows(4)
        .position(|w| w == b"tkhd")
        .expect("a track header");
    assert_eq!(b[at + 4], 0, "version-0 tkhd");
    // version+flags 4, creation 4, modification 4, track id 4, reserved 4, duration 4,
    // reserved 8, layer 2, group 2, volume 2, reserved 2: the matrix starts 40 bytes in.
    let m = at + 4 + 40;
    let matrix: [u32; 9] = [0, 0x0001_0000, 0, 0xFFFF_0000, 0, 0, 0, 0, 0x4000_0000];
    for (i, v) in matrix.iter().enumerate() {
        b[m + 4 * i..m + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn probe_of_a_missing_file_is_one_line() {
    let d = tempfile::tempdir().unwrap();
    assert_one_line_error(
        &rdbench(d.path(), &["probe", "gone.mkv"]),
        &["gone.mkv", "no such file"],
    );
}

#[test]
fn probe_sei_lists_user_data_and_refuses_a_codec_without_it() {
    let d = tempfile::tempdir().unwrap();
    // FFmpeg's own H.264 metadata filter writes the message: an independent writer.
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=0.4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bsf:v",
            "h264_metadata=sei_user_data=086f3693-b7b3-4f2c-9653-21492feee5b8+hello",
            "a.mp4",
        ],
    );
    let out = rdbench(d.path(), &["probe", "a.mp4", "--sei", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v[0];
    assert_eq!(first["pts_s"].as_f64(), Some(0.0));
    assert_eq!(first["key"], true);
    let ours: Vec<&serde_json::Value> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["uuid"] == "086f3693-b7b3-4f2c-9653-21492feee5b8")
        .collect();
    assert_eq!(ours.len(), 1, "{first}");
    assert_eq!(ours[0]["text"], "hello");
    // FFmpeg writes the string with its NUL; the text leaves it out.
    assert_eq!(ours[0]["hex"], "68656c6c6f00");
    let text = rdbench(d.path(), &["probe", "a.mp4", "--sei"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("0.000 s key 086f3693-b7b3-4f2c-9653-21492feee5b8  \"hello\""),
        "{text}"
    );
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=0.2",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "b.webm",
        ],
    );
    let out = rdbench(d.path(), &["probe", "b.webm", "--sei"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("b.webm: vp9 bitstreams carry no user data"),
        "{err}"
    );
}
