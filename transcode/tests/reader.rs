//! The frame reader: pictures come out exactly as FFmpeg decodes them, row by row through the
//! stride (odd sizes make the stride wider than a row), in 8 and 10 bits.

use rdbench_transcode::reader::{FrameReader, ReaderOptions};

use crate::support::*;

fn compare_with_rawvideo(pix_fmt: &str, wide: bool) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mkv");
    let raw = dir.path().join("src.yuv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=35x17:rate=5:duration=1",
        "-pix_fmt",
        pix_fmt,
        "-c:v",
        "ffv1",
        src.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        raw.to_str().unwrap(),
    ]);
    let raw = std::fs::read(&raw).unwrap();
    let mut reader = FrameReader::open(&src, ReaderOptions::default()).unwrap();
    let mut got: Vec<u8> = Vec::new();
    let mut frames = 0;
    while let Some(p) = reader.next_picture().unwrap() {
        assert_eq!(p.index, frames);
        frames += 1;
        for plane in 0..3 {
            let (w, h) = p.plane_size(plane);
            if wide {
                let (data, stride) = p.plane_u16(plane).unwrap();
                assert!(stride >= w);
                for y in 0..h {
                    for &s in &data[y * stride..y * stride + w] {
                        got.extend_from_slice(&s.to_le_bytes());
                    }
                }
            } else {
                let (data, stride) = p.plane_u8(plane).unwrap();
                assert!(stride > w, "an odd width should give a padded stride");
                for y in 0..h {
                    got.extend_from_slice(&data[y * stride..y * stride + w]);
                }
            }
        }
    }
    assert_eq!(frames, 5);
    assert_eq!(got.len(), raw.len());
    assert!(
        got == raw,
        "{pix_fmt}: planes differ from FFmpeg's own raw output"
    );
}

#[test]
fn eight_bit_planes_match_ffmpeg_byte_for_byte() {
    compare_with_rawvideo("yuv420p", false);
}

#[test]
fn ten_bit_planes_match_ffmpeg_sample_for_sample() {
    compare_with_rawvideo("yuv420p10le", true);
}

#[test]
fn scaling_and_conversion_follow_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "a.mp4", "320x240", 10, 0.5, false);
    let opts = ReaderOptions {
        size: Some((160, 120)),
        pix_fmt: Some("yuv444p".into()),
        ..Default::default()
    };
    let mut reader = FrameReader::open(&src, opts).unwrap();
    let p = reader.next_picture().unwrap().unwrap();
    assert_eq!(
        (p.width(), p.height(), p.pix_fmt().as_str()),
        (160, 120, "yuv444p")
    );
    assert_eq!(p.plane_size(1), (160, 120));
    assert!(
        p.plane_u16(0).is_err(),
        "an 8-bit picture has no 16-bit planes"
    );
}
