//! User data written after the encoder: job messages and latency records in H.264, HEVC and AV1
//! outputs, from libavcodec encoders and an encoder program; a dropped frame's user data merged
//! on to the next kept frame or dropped. Read back with rdbench's own parser, checked against
//! FFmpeg's decoders (the pictures are those of the same encode without user data, and FFmpeg
//! sees the SEI on every frame).

use std::path::Path;
use std::process::Command;

use rdbench_transcode::probe::{user_data, PictureUserData};
use rdbench_transcode::sei::{parse_uuid, LATENCY_UUID};

use crate::support::*;

const TEXT_UUID: &str = "a7c2e0f4-3b1d-4c8e-9f60-1d2e3f405162";
const HEX_UUID: &str = "00112233445566778899aabbccddeeff";

/// The decoded pictures' MD5s, by FFmpeg.
fn framemd5(path: &Path) -> Vec<String> {
    crate::support::framemd5(&[], path)
        .into_iter()
        .map(|(_, md5)| md5)
        .collect()
}

/// Frames on which FFmpeg's decoder found user-data-unregistered SEI.
fn ffprobe_sei_frames(path: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_frames",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["side_data_list"].as_array().is_some_and(|l| {
                l.iter().any(|s| {
                    s["side_data_type"]
                        .as_str()
                        .is_some_and(|t| t.contains("User Data Unregistered"))
                })
            })
        })
        .count()
}

fn with_uuid<'a>(p: &'a PictureUserData, uuid: &str) -> Vec<&'a [u8]> {
    let u = parse_uuid(uuid).unwrap();
    p.messages
        .iter()
        .filter(|m| m.uuid == u)
        .map(|m| m.payload.as_slice())
        .collect()
}

#[test]
fn messages_and_latency_reach_h264_hevc_and_av1_without_touching_a_picture() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "320x240", 25, 2.0, false);
    let sei = format!(
        "sei = {{ latency = true, messages = [\
         {{ uuid = \"{TEXT_UUID}\", text = \"rdbench user data\" }}, \
         {{ uuid = \"{HEX_UUID}\", hex = \"00000001ff\", every = \"first\" }}] }}"
    );
    let outputs = [
        ("h264", "libx264", "mp4", "preset = \"ultrafast\""),
        ("hevc", "libx265", "mkv", "preset = \"ultrafast\""),
        ("av1", "libsvtav1", "mkv", "preset = 12"),
    ];
    let mut job = String::from(
        "input = \"src.mp4\"\n[defaults]\nrc = { mode = \"crf\", value = 35 }\nthreads = 1\ngop = 25\naudio = \"drop\"\n",
    );
    for (name, codec, ext, preset) in outputs {
        job.push_str(&format!(
            "[[output]]\npath = \"{name}.{ext}\"\ncodec = \"{codec}\"\n{preset}\n{sei}\n\
             [[output]]\npath = \"{name}-plain.{ext}\"\ncodec = \"{codec}\"\n{preset}\n"
        ));
    }
    run_ok(dir.path(), &job);
    for (name, _, ext, _) in outputs {
        let out = dir.path().join(format!("{name}.{ext}"));
        let plain = dir.path().join(format!("{name}-plain.{ext}"));
        // The pictures are exactly those of the same encode without user data.
        let md5 = framemd5(&out);
        assert_eq!(md5.len(), 50, "{name}: every frame decodes");
        assert_eq!(
            md5,
            framemd5(&plain),
            "{name}: user data changed no picture"
        );
        let pictures = user_data(&out).unwrap();
        assert_eq!(
            pictures.len(),
            50,
            "{name}: a latency record on every picture"
        );
        let ours = |p: &PictureUserData| {
            p.latency.is_some()
                || !with_uuid(p, TEXT_UUID).is_empty()
                || !with_uuid(p, HEX_UUID).is_empty()
        };
        assert!(
            !user_data(&plain).unwrap().iter().any(ours),
            "{name}: plain has none of ours"
        );
        let keys = pictures.iter().filter(|p| p.key).count();
        assert!(keys >= 2, "{name}: a 25-frame GOP over 50 frames");
        for (i, p) in pictures.iter().enumerate() {
            let text = with_uuid(p, TEXT_UUID);
            if p.key {
                assert_eq!(text, vec![b"rdbench user data".as_slice()], "{name} {i}");
            } else {
                assert!(text.is_empty(), "{name}: picture {i} is not a keyframe");
            }
            let hex = with_uuid(p, HEX_UUID);
            if i == 0 {
                // Start-code bytes in the payload survive emulation prevention.
                assert_eq!(hex, vec![[0u8, 0, 0, 1, 0xff].as_slice()], "{name}");
            } else {
                assert!(hex.is_empty(), "{name}: `first` is written once");
            }
            let l = p.latency.expect("latency record");
            let t: Vec<i64> = l.stages().iter().map(|s| s.1).collect();
            assert!(
                t.iter().all(|&x| x > 0),
                "{name} {i}: every stage stamped {l:?}"
            );
            assert!(
                t.windows(2).all(|w| w[0] <= w[1]),
                "{name} {i}: stages in order {l:?}"
            );
            assert!(
                t[4] - t[0] < 60_000_000,
                "{name}: under a minute end to end"
            );
        }
        if name != "av1" {
            // FFmpeg's own SEI parser sees user data on every frame.
            assert_eq!(ffprobe_sei_frames(&out), 50, "{name}");
        }
    }
}

#[test]
fn dropped_frames_user_data_is_merged_or_dropped() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "raw.mp4", "160x120", 50, 1.0, false);
    // A 50 fps source with a distinct record on every frame: rdbench's own latency records.
    run_ok(
        dir.path(),
        "input = \"raw.mp4\"\n[[output]]\npath = \"src.mp4\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\nsei = { latency = true }\n",
    );
    assert_eq!(user_data(&dir.path().join("src.mp4")).unwrap().len(), 50);
    run_ok(
        dir.path(),
        "input = \"src.mp4\"\n[defaults]\ncodec = \"libx264\"\npreset = \"ultrafast\"\nfps = 25\nfps_mode = \"vfr\"\n\
         [[output]]\npath = \"merged.mp4\"\n\
         [[output]]\npath = \"dropped.mp4\"\nsei = { dropped = \"drop\" }\n\
         [[output]]\npath = \"none.mp4\"\npassthrough = false\n",
    );
    // Each record whole (two packets can reach the decoder within a microsecond).
    let records = |name: &str| -> Vec<Vec<Vec<u8>>> {
        user_data(&dir.path().join(name))
            .unwrap()
            .iter()
            .map(|p| {
                p.messages
                    .iter()
                    .filter(|m| m.uuid == LATENCY_UUID)
                    .map(|m| m.payload.clone())
                    .collect()
            })
            .collect()
    };
    let merged = records("merged.mp4");
    let dropped = records("dropped.mp4");
    assert_eq!(merged.len(), 25);
    assert_eq!(dropped.len(), 25);
    // The first picture has its own; each later one also the frame dropped before it.
    assert_eq!(merged[0].len(), 1);
    assert!(merged[1..].iter().all(|r| r.len() == 2), "{merged:?}");
    assert!(dropped.iter().all(|r| r.len() == 1), "{dropped:?}");
    // Every source frame's record is in the merged output once, but the last one's: no kept
    // frame follows it.
    let mut all: Vec<Vec<u8>> = merged.concat();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (49, 49));
    // Without passthrough only the output encoder's own SEI (x264's version) is left.
    assert!(user_data(&dir.path().join("none.mp4"))
        .unwrap()
        .iter()
        .all(|p| p.messages.iter().all(|m| m.uuid != LATENCY_UUID)));
}

#[test]
fn an_encoder_program_carries_the_same_user_data() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 1.0, false);
    run_ok(
        dir.path(),
        &format!(
            "input = \"src.mp4\"\n[[output]]\npath = \"x264.mkv\"\n\
             command = [\"x264\", \"--preset\", \"ultrafast\", \"--crf\", \"{{crf}}\", \"--threads\", \"1\", \"-o\", \"{{output}}\", \"{{input}}\"]\n\
             output_format = \"h264\"\nrc = {{ mode = \"crf\", value = 30 }}\n\
             sei = {{ messages = [{{ uuid = \"{TEXT_UUID}\", text = \"every frame\", every = \"frame\" }}] }}\n"
        ),
    );
    let out = dir.path().join("x264.mkv");
    let pictures = user_data(&out).unwrap();
    assert_eq!(pictures.len(), 25);
    assert!(pictures
        .iter()
        .all(|p| with_uuid(p, TEXT_UUID) == vec![b"every frame".as_slice()]));
    assert_eq!(ffprobe_sei_frames(&out), 25);
    assert_eq!(framemd5(&out).len(), 25);
}

#[test]
fn user_data_for_a_bitstream_without_a_place_for_it_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 0.2, false);
    let path = dir.path().join("job.toml");
    let load = |toml: &str| {
        std::fs::write(&path, toml).unwrap();
        let (s, t) = rdbench_transcode::spec::load_job(&path).unwrap();
        rdbench_transcode::job::Job::from_spec(&s, t.as_ref(), Some(&path))
    };
    let job = load(
        "input = \"src.mp4\"\n[[output]]\npath = \"o.webm\"\ncodec = \"libvpx-vp9\"\nsei = { latency = true }\n",
    )
    .unwrap();
    assert_eq!(job.rejected.len(), 1);
    assert_eq!(
        job.rejected[0].2.to_string(),
        "output[0].sei: libvpx-vp9 bitstreams have no place for user data (H.264, HEVC and AV1 do)"
    );
    let job = load(&format!(
        "input = \"src.mp4\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\n\
         sei = {{ messages = [{{ uuid = \"{TEXT_UUID}\", hex = \"0g\" }}] }}\n"
    ))
    .unwrap();
    assert_eq!(
        job.rejected[0].2.to_string(),
        "output[0].sei.messages[0].hex: `0g` is not an even number of hex digits"
    );
}
