//! Orientation and black borders: rotating and flipping an output's picture (by request, or by
//! the source's display matrix, the rotation phones record instead of turning the pixels), and
//! finding the black bars of a letterboxed or pillarboxed source to crop them.
//!
//! Everything here but [`detect_borders`] is pure and tested by exact output: the display
//! matrix's angle, the filters that turn a picture, and the bounding box of a frame's content.

use std::path::Path;

use ffmpeg_next as ff;

use crate::error::{Error, Result};
use crate::spec::CropSpec;

/// A flip applied after any rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flip {
    /// Mirror left-right.
    Horizontal,
    /// Upside down.
    Vertical,
    /// Both (the same as a 180-degree turn).
    Both,
}

impl Flip {
    /// Parses `horizontal`, `vertical` or `both`.
    pub fn parse(s: &str) -> Option<Flip> {
        match s {
            "horizontal" => Some(Flip::Horizontal),
            "vertical" => Some(Flip::Vertical),
            "both" => Some(Flip::Both),
            _ => None,
        }
    }
}

/// The clockwise turn, in degrees (0, 90, 180 or 270), a player applies to show a stream with
/// this display matrix (libavutil's 16.16 fixed-point 3x3 matrix), rounded to a quarter turn.
pub fn display_rotation(matrix: &[i32; 9]) -> u32 {
    let m0 = matrix[0] as f64 / 65536.0;
    let m1 = matrix[1] as f64 / 65536.0;
    let m3 = matrix[3] as f64 / 65536.0;
    let m4 = matrix[4] as f64 / 65536.0;
    let s0 = m0.hypot(m3);
    let s1 = m1.hypot(m4);
    if s0 == 0.0 || s1 == 0.0 {
        return 0;
    }
    // libavutil's av_display_rotation_get is -atan2(m1, m0); FFmpeg's autorotation turns the
    // picture clockwise by its negation.
    let degrees = (m1 / s1).atan2(m0 / s0).to_degrees();
    let quarter = ((degrees / 90.0).round() as i64).rem_euclid(4);
    (quarter * 90) as u32
}

/// The filters that turn a picture `rotate` degrees clockwise and then flip it.
pub fn filters(rotate: u32, flip: Option<Flip>) -> Vec<&'static str> {
    let mut f: Vec<&'static str> = match rotate % 360 {
        90 => vec!["transpose=clock"],
        180 => vec!["hflip", "vflip"],
        270 => vec!["transpose=cclock"],
        _ => Vec::new(),
    };
    match flip {
        Some(Flip::Horizontal) => f.push("hflip"),
        Some(Flip::Vertical) => f.push("vflip"),
        Some(Flip::Both) => f.extend(["hflip", "vflip"]),
        None => {}
    }
    f
}

/// The size of a `w` x `h` picture turned `rotate` degrees.
pub fn turned(w: u32, h: u32, rotate: u32) -> (u32, u32) {
    if rotate % 180 == 90 {
        (h, w)
    } else {
        (w, h)
    }
}

/// The box (x0, y0, x1, y1, exclusive ends) of the rows and columns of an 8-bit luma plane
/// that hold anything brighter than `threshold`; None for a frame black all over.
pub fn content_box(
    luma: &[u8],
    w: usize,
    h: usize,
    stride: usize,
    threshold: u8,
) -> Option<(usize, usize, usize, usize)> {
    let row_lit = |y: usize| {
        luma[y * stride..y * stride + w]
            .iter()
            .any(|&v| v > threshold)
    };
    let y0 = (0..h).find(|&y| row_lit(y))?;
    let y1 = (0..h).rev().find(|&y| row_lit(y)).expect("y0 is lit") + 1;
    let col_lit = |x: usize| (y0..y1).any(|y| luma[y * stride + x] > threshold);
    let x0 = (0..w)
        .find(|&x| col_lit(x))
        .expect("a lit row has a lit column");
    let x1 = (0..w).rev().find(|&x| col_lit(x)).expect("lit") + 1;
    Some((x0, y0, x1, y1))
}

/// The crop that removes black borders, from the content boxes of sampled frames of a
/// `w` x `h` picture: their union, widened to even edges (for 4:2:0); None when nothing is to
/// be cut (or every frame was black).
pub fn crop_of(boxes: &[(usize, usize, usize, usize)], w: usize, h: usize) -> Option<CropSpec> {
    let x0 = boxes.iter().map(|b| b.0).min()? & !1;
    let y0 = boxes.iter().map(|b| b.1).min()? & !1;
    let x1 = (boxes.iter().map(|b| b.2).max()?.div_ceil(2) * 2).min(w);
    let y1 = (boxes.iter().map(|b| b.3).max()?.div_ceil(2) * 2).min(h);
    if (x0, y0, x1, y1) == (0, 0, w, h) || x1 <= x0 || y1 <= y0 {
        return None;
    }
    Some(CropSpec {
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
        x: x0 as u32,
        y: y0 as u32,
    })
}

/// Black borders of the file `path`: frames sampled at nine points across it (the first frame
/// after each of 10%, 20%, ... 90% of its duration; the first 60 frames when the duration is
/// unknown), converted to 8-bit grey, with luma above 24 (limited-range black plus coding
/// noise) counting as content.
pub fn detect_borders(path: &Path, field: &str) -> Result<Option<CropSpec>> {
    crate::init();
    let fail = |m: String| Error::Spec {
        field: field.to_string(),
        message: format!("{}: {m}", path.display()),
    };
    let mut ictx = ff::format::input(&path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| fail("has no video".into()))?;
    let index = stream.index();
    let ctx = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| fail(format!("decoder: {e}")))?;
    let mut decoder = ctx
        .decoder()
        .video()
        .map_err(|e| fail(format!("decoder: {e}")))?;
    let duration = ictx.duration();
    let (w, h) = (decoder.width() as usize, decoder.height() as usize);
    let mut scaler = ff::software::scaling::Context::get(
        decoder.format(),
        decoder.width(),
        decoder.height(),
        ff::format::Pixel::GRAY8,
        decoder.width(),
        decoder.height(),
        ff::software::scaling::Flags::POINT,
    )
    .map_err(|e| fail(format!("converting to grey: {e}")))?;
    let mut boxes = Vec::new();
    let mut grey = ff::frame::Video::empty();
    let mut take = |frame: &ff::frame::Video, boxes: &mut Vec<_>| -> Result<()> {
        scaler
            .run(frame, &mut grey)
            .map_err(|e| fail(format!("converting to grey: {e}")))?;
        if let Some(b) = content_box(grey.data(0), w, h, grey.stride(0), 24) {
            boxes.push(b);
        }
        Ok(())
    };
    let points: Vec<Option<i64>> = if duration > 0 {
        (1..10).map(|k| Some(duration * k / 10)).collect()
    } else {
        vec![None]
    };
    let per_point = if duration > 0 { 1 } else { 60 };
    for point in points {
        if let Some(ts) = point {
            if ictx.seek(ts, ..ts).is_err() {
                continue;
            }
            decoder.flush();
        }
        let mut got = 0;
        let mut frame = ff::frame::Video::empty();
        // Decode from the keyframe before the point up to the first frame at or after it.
        let target = point.map(|ts| ts as f64 / ff::ffi::AV_TIME_BASE as f64);
        'packets: for (s, packet) in ictx.packets() {
            if s.index() != index {
                continue;
            }
            let tb = s.time_base();
            if decoder.send_packet(&packet).is_err() {
                continue;
            }
            while decoder.receive_frame(&mut frame).is_ok() {
                let t = frame
                    .timestamp()
                    .map(|p| p as f64 * tb.numerator() as f64 / tb.denominator() as f64);
                if let (Some(target), Some(t)) = (target, t) {
                    if t + 1e-3 < target {
                        continue;
                    }
                }
                take(&frame, &mut boxes)?;
                got += 1;
                if got >= per_point {
                    break 'packets;
                }
            }
        }
    }
    Ok(crop_of(&boxes, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libavutil's av_display_rotation_set(matrix, angle).
    fn matrix(angle: f64) -> [i32; 9] {
        let r = -angle.to_radians();
        let (c, s) = (r.cos(), r.sin());
        let fp = |v: f64| (v * 65536.0).round() as i32;
        [fp(c), fp(-s), 0, fp(s), fp(c), 0, 0, 0, 1 << 30]
    }

    #[test]
    fn display_matrices_give_the_clockwise_turn() {
        // The turn FFmpeg's own autorotation applies: the negated av_display_rotation_get, which
        // for a matrix set with angle a is a. (The integration tests compare whole pictures
        // with the ffmpeg CLI's autorotated output.)
        assert_eq!(display_rotation(&matrix(90.0)), 90);
        assert_eq!(display_rotation(&matrix(-90.0)), 270);
        assert_eq!(display_rotation(&matrix(180.0)), 180);
        assert_eq!(display_rotation(&matrix(0.0)), 0);
        assert_eq!(display_rotation(&matrix(89.6)), 90);
        assert_eq!(display_rotation(&[0; 9]), 0);
    }

    #[test]
    fn turns_and_flips_as_filters() {
        assert_eq!(filters(90, None), ["transpose=clock"]);
        assert_eq!(
            filters(270, Some(Flip::Horizontal)),
            ["transpose=cclock", "hflip"]
        );
        assert_eq!(filters(180, None), ["hflip", "vflip"]);
        assert_eq!(filters(0, Some(Flip::Both)), ["hflip", "vflip"]);
        assert!(filters(0, None).is_empty());
        assert_eq!(turned(1920, 1080, 90), (1080, 1920));
        assert_eq!(turned(1920, 1080, 180), (1920, 1080));
    }

    #[test]
    fn the_content_box_of_a_letterboxed_frame() {
        let (w, h) = (16, 10);
        let stride = 20;
        let mut luma = vec![16u8; stride * h];
        // Content rows 2..8, columns 3..13 (odd edges), with a dark pixel inside.
        for y in 2..8 {
            for x in 3..13 {
                luma[y * stride + x] = 120;
            }
        }
        luma[5 * stride + 6] = 16;
        // Beyond the width, in the stride's padding: never read as content.
        luma[stride - 1] = 255;
        assert_eq!(content_box(&luma, w, h, stride, 24), Some((3, 2, 13, 8)));
        assert_eq!(content_box(&vec![16u8; stride * h], w, h, stride, 24), None);
        assert_eq!(
            crop_of(&[(3, 2, 13, 8), (4, 2, 12, 7)], w, h),
            Some(CropSpec {
                width: 12,
                height: 6,
                x: 2,
                y: 2
            })
        );
        assert_eq!(crop_of(&[(0, 0, 16, 10)], w, h), None);
        assert_eq!(crop_of(&[], w, h), None);
    }
}
