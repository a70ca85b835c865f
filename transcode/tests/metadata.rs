//! Metadata passthrough: user-data-unregistered SEI from an H.264 input reaches H.264 and HEVC
//! outputs; the source encoder's own version SEI does not.

use crate::support::*;

const UUID: &str = "086f3693-b7b3-4f2c-9653-21492feee5b8";
const PAYLOAD: &[u8] = b"rdbench-sei-passthrough";
/// The UUID x264 tags its version-information SEI with.
const X264_UUID: [u8; 16] = [
    0xdc, 0x45, 0xe9, 0xbd, 0xe6, 0xd9, 0x48, 0xb7, 0x96, 0x2c, 0xd8, 0x20, 0xd9, 0x23, 0xee, 0xef,
];

#[test]
fn unregistered_sei_passes_h264_to_h264_and_hevc() {
    let dir = tempfile::tempdir().unwrap();
    let bsf = format!(
        "h264_metadata=sei_user_data={UUID}+{}",
        std::str::from_utf8(PAYLOAD).unwrap()
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-bsf:v",
        &bsf,
        dir.path().join("sei.mp4").to_str().unwrap(),
    ]);
    assert_eq!(
        count_bytes(&dir.path().join("sei.mp4"), PAYLOAD),
        1,
        "the source carries the SEI"
    );
    run_ok(
        dir.path(),
        r#"
input = "sei.mp4"
[defaults]
preset = "ultrafast"
rc = { mode = "crf", value = 30 }
[[output]]
path = "h264.mp4"
codec = "libx264"
[[output]]
path = "hevc.mkv"
codec = "libx265"
[[output]]
path = "off.mp4"
codec = "libx264"
passthrough = false
"#,
    );
    assert_eq!(
        count_bytes(&dir.path().join("h264.mp4"), PAYLOAD),
        1,
        "H.264 -> H.264 keeps the SEI"
    );
    assert_eq!(
        count_bytes(&dir.path().join("hevc.mkv"), PAYLOAD),
        1,
        "H.264 -> HEVC keeps the SEI"
    );
    assert_eq!(
        count_bytes(&dir.path().join("off.mp4"), PAYLOAD),
        0,
        "passthrough = false drops it"
    );
    // Only the output's own x264 SEI, not the source's as well.
    assert_eq!(count_bytes(&dir.path().join("h264.mp4"), &X264_UUID), 1);
    // An independent decoder sees it as SEI side data on the output's first frame.
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-read_intervals",
            "%+#1",
            "-show_frames",
            "-of",
            "json",
        ])
        .arg(dir.path().join("hevc.mkv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("User Data Unregistered SEI"),
        "ffprobe sees no SEI on the HEVC output: {text}"
    );
}

#[test]
fn hdr_mastering_display_and_light_level_pass_to_hevc() {
    let dir = tempfile::tempdir().unwrap();
    let md = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)";
    let params = format!("master-display={md}:max-cll=1000,400:hdr10=1:log-level=error");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=0.4",
        "-pix_fmt",
        "yuv420p10le",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        "smpte2084",
        "-colorspace",
        "bt2020nc",
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        &params,
        dir.path().join("hdr.mkv").to_str().unwrap(),
    ]);
    run_ok(
        dir.path(),
        r#"
input = "hdr.mkv"
[defaults]
preset = "ultrafast"
rc = { mode = "crf", value = 30 }
[[output]]
path = "out.mkv"
codec = "libx265"
[[output]]
path = "off.mkv"
codec = "libx265"
passthrough = false
"#,
    );
    let frames = |name: &str| {
        let out = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v",
                "-read_intervals",
                "%+#1",
                "-show_frames",
                "-of",
                "json",
            ])
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let text = frames("out.mkv");
    assert!(
        text.contains("Mastering display metadata"),
        "no mastering display on the output: {text}"
    );
    assert!(
        text.contains("\"max_luminance\": \"10000000/10000\"")
            && text.contains("\"min_luminance\": \"50/10000\""),
        "{text}"
    );
    assert!(
        text.contains("Content light level metadata")
            && text.contains("\"max_content\": 1000")
            && text.contains("\"max_average\": 400"),
        "{text}"
    );
    assert!(
        !frames("off.mkv").contains("Mastering display metadata"),
        "passthrough = false drops it"
    );
}
