//! Chunked transcoding, the pure part: the checked `[execution] chunked` settings, where the
//! input is split (at source keyframes, or at scene cuts found on downscaled luma), which chunks a
//! slice `K/N` of a job runs, and the record a finished chunk leaves next to its file. The
//! runtime (encoding the chunks in parallel, joining them) is in `job/chunked.rs`.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::ChunkedSpec;
use crate::task::PacketRecord;

/// Chunk length when the spec gives none, in seconds.
pub const DEFAULT_SECONDS: f64 = 20.0;
/// Scene-change score (0 to 100) at which a cut is detected when the spec gives none.
pub const DEFAULT_THRESHOLD: f64 = 10.0;

/// Checked chunking settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunking {
    /// Target chunk length (with scene cuts: the longest a chunk runs), seconds.
    pub seconds: f64,
    /// Split at scene cuts rather than at source keyframes.
    pub scene_cuts: bool,
    /// Scene-change score threshold, 0 to 100.
    pub threshold: f64,
    /// The shortest chunk, seconds: a shorter last chunk joins the one before it, and scene cuts
    /// closer than this to the chunk's start are not used.
    pub min_seconds: f64,
    /// Chunks encoded at once (0: the machine's cores).
    pub workers: usize,
}

impl Chunking {
    /// Checks `[execution] chunked`; errors name the field.
    pub fn from_spec(s: &ChunkedSpec) -> Result<Chunking> {
        let err = |name: &str, message: String| Error::Spec {
            field: format!("execution.chunked.{name}"),
            message,
        };
        let seconds = s.seconds.unwrap_or(DEFAULT_SECONDS);
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(err(
                "seconds",
                format!("must be a positive number of seconds, not {seconds}"),
            ));
        }
        let threshold = s.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(threshold.is_finite() && threshold > 0.0 && threshold <= 100.0) {
            return Err(err(
                "threshold",
                format!("must be a score above 0 and at most 100, not {threshold}"),
            ));
        }
        if s.threshold.is_some() && s.scene_cuts != Some(true) {
            return Err(err(
                "threshold",
                "applies to scene cuts only; add `scene_cuts = true`".into(),
            ));
        }
        let min_seconds = s.min_seconds.unwrap_or_else(|| (seconds / 2.0).min(2.0));
        if !(min_seconds.is_finite() && min_seconds >= 0.0 && min_seconds <= seconds) {
            return Err(err(
                "min_seconds",
                format!("must be between 0 and `seconds` ({seconds}), not {min_seconds}"),
            ));
        }
        let workers = s.workers.unwrap_or(0);
        if s.workers == Some(0) {
            return Err(err("workers", "must be at least 1".into()));
        }
        Ok(Chunking {
            seconds,
            scene_cuts: s.scene_cuts.unwrap_or(false),
            threshold,
            min_seconds,
            workers,
        })
    }
}

/// One chunk of the input, in the video stream's time base.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position, from 0.
    pub index: usize,
    /// Presentation time of its first frame.
    pub from: i64,
    /// Presentation time of the next chunk's first frame (None: to the end).
    pub to: Option<i64>,
    /// Seconds from the input's first frame to this chunk's.
    pub start_s: f64,
    /// Source frames in the chunk.
    pub frames: u64,
}

/// Splits frames at presentation times `pts` (ascending, in ticks of `tick_s` seconds) into
/// chunks. `starts` are the indices of frames a chunk may start at (source keyframes, or the
/// first frames of scenes), ascending.
///
/// At keyframes (`scenes` false) chunk m starts at the keyframe nearest to m x `seconds`, at
/// least `min_seconds` after the chunk before. At scene cuts, a chunk ends at the first cut at least `min_seconds` after its start; a
/// scene longer than `seconds` is split at the first frame `seconds` in. Either way a last chunk
/// shorter than `min_seconds` joins the one before it.
pub fn split(
    pts: &[i64],
    starts: &[usize],
    tick_s: f64,
    chunking: &Chunking,
    scenes: bool,
) -> Vec<Chunk> {
    if pts.is_empty() {
        return Vec::new();
    }
    let t = |i: usize| (pts[i] - pts[0]) as f64 * tick_s;
    // The last chunk runs to the last frame plus one frame's duration.
    let frame_s = if pts.len() > 1 {
        t(pts.len() - 1) / (pts.len() - 1) as f64
    } else {
        0.0
    };
    let end_t = t(pts.len() - 1) + frame_s;
    let mut bounds = vec![0usize];
    if scenes {
        loop {
            let cur = *bounds.last().expect("not empty");
            let cur_t = t(cur);
            let cut = starts
                .iter()
                .copied()
                .find(|&s| s > cur && t(s) >= cur_t + chunking.min_seconds - 1e-9);
            let long = (cur + 1..pts.len()).find(|&i| t(i) >= cur_t + chunking.seconds - 1e-9);
            let next = match (cut, long) {
                (Some(c), Some(l)) => Some(c.min(l)),
                (c, l) => c.or(l),
            };
            match next {
                Some(n) => bounds.push(n),
                None => break,
            }
        }
    } else {
        // Chunk m starts at the keyframe nearest to m x seconds (on the input's clock, so
        // keyframes a little early or late do not make the chunks drift).
        let mut m = 1u64;
        loop {
            let cur = *bounds.last().expect("not empty");
            let cur_t = t(cur);
            m = m.max((cur_t / chunking.seconds).floor() as u64 + 1);
            let target = m as f64 * chunking.seconds;
            if target >= end_t {
                break;
            }
            let best = starts
                .iter()
                .copied()
                .filter(|&s| s > cur && t(s) >= cur_t + chunking.min_seconds - 1e-9)
                .min_by(|&a, &b| (t(a) - target).abs().total_cmp(&(t(b) - target).abs()));
            match best {
                Some(b) => bounds.push(b),
                None => break,
            }
            m += 1;
        }
    }
    if bounds.len() > 1 {
        let last = *bounds.last().expect("not empty");
        if end_t - t(last) < chunking.min_seconds - 1e-9 {
            bounds.pop();
        }
    }
    bounds
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            let end = bounds.get(k + 1).copied();
            Chunk {
                index: k,
                from: pts[b],
                to: end.map(|e| pts[e]),
                start_s: t(b),
                frames: (end.unwrap_or(pts.len()) - b) as u64,
            }
        })
        .collect()
}

/// A slice of a job's chunks: `K/N` runs the K-th of N contiguous, nearly equal parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// Which part, from 1.
    pub k: u32,
    /// How many parts.
    pub n: u32,
}

impl Slice {
    /// Parses `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> std::result::Result<Slice, String> {
        let bad = || format!("`{text}` is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Slice { k, n })
    }

    /// The chunk indices of this slice, among `chunks`.
    pub fn range(&self, chunks: usize) -> Range<usize> {
        let (k, n) = (self.k as usize, self.n as usize);
        chunks * (k - 1) / n..chunks * k / n
    }
}

/// What a finished chunk of one output leaves beside its file: enough for a join in another
/// process (or on another machine) to assemble and report the output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// The chunk.
    pub chunk: Chunk,
    /// The settings the chunk was encoded with (a fingerprint): a chunk made with other
    /// settings is encoded again.
    pub key: String,
    /// Picture size and format of the encoded chunk.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Pixel format.
    pub pix_fmt: String,
    /// Nominal frame rate.
    pub fps: f64,
    /// Frames encoded.
    pub frames: u64,
    /// Encoded video bytes.
    pub video_bytes: u64,
    /// Seconds the encoder worked.
    pub encode_busy_s: f64,
    /// CPU seconds of the encoder.
    pub encode_cpu_s: f64,
    /// Wall seconds of the chunk's whole job (decode, filter, encode, mux).
    pub wall_s: f64,
    /// The encoder's packets, timed from the chunk's start.
    pub packets: Vec<PacketRecord>,
}

/// A stable fingerprint of `text` (64-bit FNV-1a, hex).
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The parameter sets (SPS, PPS, and VPS for HEVC) of an `avcC` or `hvcC` record, written as
/// the length-prefixed NAL units a packet carries in-band. A chunk whose encoder chose other
/// parameter sets than the first chunk's (an x264 ABR chunk's initial QP, say) carries its own in
/// its first packet, so the joined stream decodes with one sample description. None when the
/// record cannot be read.
pub fn in_band_parameter_sets(hevc: bool, record: &[u8]) -> Option<Vec<u8>> {
    let mut nalus: Vec<&[u8]> = Vec::new();
    let read_u16 = |b: &[u8], at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *b.get(at)?,
            *b.get(at + 1)?,
        ])))
    };
    let len_size = if hevc {
        if record.len() < 23 || record[0] != 1 {
            return None;
        }
        let arrays = usize::from(record[22]);
        let mut at = 23;
        for _ in 0..arrays {
            let count = read_u16(record, at + 1)?;
            at += 3;
            for _ in 0..count {
                let len = read_u16(record, at)?;
                nalus.push(record.get(at + 2..at + 2 + len)?);
                at += 2 + len;
            }
        }
        usize::from(record[21] & 3) + 1
    } else {
        if record.len() < 7 || record[0] != 1 {
            return None;
        }
        let mut at = 6;
        for _ in 0..(record[5] & 0x1f) {
            let len = read_u16(record, at)?;
            nalus.push(record.get(at + 2..at + 2 + len)?);
            at += 2 + len;
        }
        let pps = *record.get(at)?;
        at += 1;
        for _ in 0..pps {
            let len = read_u16(record, at)?;
            nalus.push(record.get(at + 2..at + 2 + len)?);
            at += 2 + len;
        }
        usize::from(record[4] & 3) + 1
    };
    if nalus.is_empty() || len_size == 3 {
        return None;
    }
    let mut out = Vec::new();
    for n in nalus {
        let len = (n.len() as u32).to_be_bytes();
        out.extend_from_slice(&len[4 - len_size..]);
        out.extend_from_slice(n);
    }
    Some(out)
}

/// A luma thumbnail: the mean of each `block` x `block` square of a plane of `width` x `height`
/// samples (8-bit, or 16-bit little-endian when `wide`) whose rows are `stride` bytes apart,
/// scaled to 0..=255.
pub fn thumbnail(
    data: &[u8],
    stride: usize,
    width: usize,
    height: usize,
    wide: bool,
    depth: u32,
) -> Vec<u8> {
    let block = (width / 64).max(1);
    let (tw, th) = (width / block, height / block);
    let mut out = Vec::with_capacity(tw * th);
    let max = ((1u32 << depth) - 1) as f64;
    for by in 0..th {
        for bx in 0..tw {
            let mut sum = 0u64;
            for y in by * block..(by + 1) * block {
                let row = &data[y * stride..];
                for x in bx * block..(bx + 1) * block {
                    sum += if wide {
                        u64::from(u16::from_le_bytes([row[2 * x], row[2 * x + 1]]))
                    } else {
                        u64::from(row[x])
                    };
                }
            }
            let mean = sum as f64 / (block * block) as f64;
            out.push((mean / max * 255.0).round().min(255.0) as u8);
        }
    }
    out
}

/// The scene-change score of thumbnail `cur` after `prev` (0 to 100), and the mean absolute
/// difference it came from. The score is the difference itself, less the previous one's when
/// that was high too: steady motion scores low, a change of picture high.
pub fn scene_score(prev: &[u8], cur: &[u8], prev_mafd: f64) -> (f64, f64) {
    if prev.len() != cur.len() || cur.is_empty() {
        return (0.0, prev_mafd);
    }
    let sad: u64 = prev
        .iter()
        .zip(cur)
        .map(|(&a, &b)| u64::from(a.abs_diff(b)))
        .sum();
    let mafd = sad as f64 / cur.len() as f64 / 255.0 * 100.0;
    let score = mafd.min((mafd - prev_mafd).abs()).clamp(0.0, 100.0);
    (score, mafd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunking(seconds: f64) -> Chunking {
        Chunking::from_spec(&ChunkedSpec {
            seconds: Some(seconds),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn settings_default_and_errors_name_the_field() {
        let c = Chunking::from_spec(&ChunkedSpec::default()).unwrap();
        assert_eq!(
            c,
            Chunking {
                seconds: 20.0,
                scene_cuts: false,
                threshold: 10.0,
                min_seconds: 2.0,
                workers: 0
            }
        );
        assert_eq!(chunking(3.0).min_seconds, 1.5);
        let err = |s: ChunkedSpec| Chunking::from_spec(&s).unwrap_err().to_string();
        let e = err(ChunkedSpec {
            seconds: Some(0.0),
            ..Default::default()
        });
        assert!(
            e.contains("execution.chunked.seconds") && e.contains("not 0"),
            "{e}"
        );
        let e = err(ChunkedSpec {
            workers: Some(0),
            ..Default::default()
        });
        assert!(e.contains("execution.chunked.workers"), "{e}");
        let e = err(ChunkedSpec {
            threshold: Some(12.0),
            ..Default::default()
        });
        assert!(e.contains("scene_cuts = true"), "{e}");
        let e = err(ChunkedSpec {
            scene_cuts: Some(true),
            threshold: Some(120.0),
            ..Default::default()
        });
        assert!(
            e.contains("execution.chunked.threshold") && e.contains("120"),
            "{e}"
        );
        let e = err(ChunkedSpec {
            seconds: Some(4.0),
            min_seconds: Some(5.0),
            ..Default::default()
        });
        assert!(e.contains("execution.chunked.min_seconds"), "{e}");
    }

    /// 25 fps in ticks of 1/12800 s (512 ticks a frame), keyframes every 2 s.
    fn frames(n: usize) -> (Vec<i64>, Vec<usize>) {
        let pts: Vec<i64> = (0..n as i64).map(|i| 1000 + i * 512).collect();
        let keys: Vec<usize> = (0..n).step_by(50).collect();
        (pts, keys)
    }

    #[test]
    fn keyframe_chunks_start_at_the_keyframe_nearest_each_multiple() {
        let (pts, keys) = frames(500); // 20 s, keyframes every 2 s
        let c = split(&pts, &keys, 1.0 / 12800.0, &chunking(5.0), false);
        // 5 s chunks: the keyframes nearest 5 s (4 s and 6 s tie: the earlier), 10 s and 15 s.
        let from: Vec<i64> = c.iter().map(|c| c.from).collect();
        assert_eq!(from, [0, 100, 250, 350].map(|f| 1000 + f * 512));
        assert_eq!(
            c.iter().map(|c| c.frames).collect::<Vec<_>>(),
            [100, 150, 100, 150]
        );
        assert_eq!(c[1].to, Some(c[2].from));
        assert_eq!(c[3].to, None);
        assert!((c[2].start_s - 10.0).abs() < 1e-9);
        // A last chunk shorter than min_seconds joins the one before: 21 s, the last from 20 s.
        let (pts, keys) = frames(525);
        let mut merge = chunking(5.0);
        merge.min_seconds = 3.0;
        let c = split(&pts, &keys, 1.0 / 12800.0, &merge, false);
        assert_eq!(
            c.iter().map(|c| c.frames).collect::<Vec<_>>(),
            [100, 150, 100, 175]
        );
        assert_eq!(c[3].to, None);
        // Keyframes a frame early (every 49 frames) still give chunks near each multiple.
        let early: Vec<usize> = (0..500).step_by(49).collect();
        let c = split(&frames(500).0, &early, 1.0 / 12800.0, &chunking(5.0), false);
        assert_eq!(
            c.iter().map(|c| c.from).collect::<Vec<_>>(),
            [0, 147, 245, 392].map(|f| 1000 + f * 512)
        );
        // Sparse keyframes: chunks as close to the multiples as they allow, none skipped twice.
        let sparse = [0usize, 300];
        let c = split(
            &frames(500).0,
            &sparse,
            1.0 / 12800.0,
            &chunking(5.0),
            false,
        );
        assert_eq!(c.iter().map(|c| c.frames).collect::<Vec<_>>(), [300, 200]);
        // Longer than the input: one chunk.
        let c = split(&pts, &keys, 1.0 / 12800.0, &chunking(60.0), false);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].from, c[0].to, c[0].frames), (1000, None, 525));
    }

    #[test]
    fn scene_chunks_start_at_cuts_and_split_long_scenes() {
        let (pts, _) = frames(500);
        let mut c = chunking(8.0);
        c.scene_cuts = true;
        c.min_seconds = 1.0;
        // Cuts at 0.4 s (too close to the start), 3 s, 3.5 s (too close to 3 s) and 5 s; then
        // one scene from 5 s to the end, split every 8 s.
        let cuts = [0usize, 10, 75, 87, 125];
        let got = split(&pts, &cuts, 1.0 / 12800.0, &c, true);
        let frames: Vec<u64> = got.iter().map(|c| c.frames).collect();
        assert_eq!(frames, [75, 50, 200, 175]);
        assert_eq!(got[3].from, 1000 + 325 * 512);
        assert_eq!(
            got.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn parameter_sets_come_out_length_prefixed() {
        // avcC: 4-byte lengths, one SPS (3 bytes), one PPS (2 bytes), then high-profile bytes.
        let avcc = [
            1, 100, 0, 40, 0xff, 0xe1, 0, 3, 0x67, 1, 2, 1, 0, 2, 0x68, 9, 0xfd, 0xf8, 0xf8, 0,
        ];
        assert_eq!(
            in_band_parameter_sets(false, &avcc).unwrap(),
            [0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 9]
        );
        // hvcC: 22 header bytes (length size 4), then VPS, SPS and PPS arrays of one unit each.
        let mut hvcc = vec![1u8; 21];
        hvcc.push(0xf3);
        hvcc.push(3);
        for (kind, unit) in [
            (32u8, &[0x40u8, 1][..]),
            (33, &[0x42, 1, 7]),
            (34, &[0x44, 1]),
        ] {
            hvcc.extend_from_slice(&[kind, 0, 1, 0, unit.len() as u8]);
            hvcc.extend_from_slice(unit);
        }
        assert_eq!(
            in_band_parameter_sets(true, &hvcc).unwrap(),
            [0, 0, 0, 2, 0x40, 1, 0, 0, 0, 3, 0x42, 1, 7, 0, 0, 0, 2, 0x44, 1]
        );
        // Truncated or not a record: None.
        assert_eq!(in_band_parameter_sets(false, &avcc[..9]), None);
        assert_eq!(in_band_parameter_sets(false, &[0, 0, 0, 1, 0x67]), None);
        assert_eq!(in_band_parameter_sets(true, &hvcc[..30]), None);
    }

    #[test]
    fn slices_cover_every_chunk_once() {
        let s = |t: &str| Slice::parse(t).unwrap();
        assert_eq!(s("1/3").range(10), 0..3);
        assert_eq!(s("2/3").range(10), 3..6);
        assert_eq!(s("3/3").range(10), 6..10);
        assert_eq!(s("4/4").range(2), 1..2);
        assert_eq!(s("1/4").range(2), 0..0);
        for bad in ["0/2", "3/2", "1", "a/b", "1/0", ""] {
            let e = Slice::parse(bad).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn thumbnails_and_scene_scores() {
        // 128x2 8-bit plane: blocks of 2x2.
        let mut plane = vec![0u8; 128 * 2];
        plane[0] = 200;
        plane[1] = 100;
        plane[128] = 100;
        let t = thumbnail(&plane, 128, 128, 2, false, 8);
        assert_eq!(t.len(), 64);
        assert_eq!(t[0], 100);
        assert_eq!(t[1], 0);
        // 10-bit little-endian: full scale maps to 255.
        let wide: Vec<u8> = [1023u16, 1023, 0, 0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(thumbnail(&wide, 8, 4, 1, true, 10), vec![255, 255, 0, 0]);
        let a = vec![10u8; 64];
        let b = vec![61u8; 64]; // 20% of full scale
        let (score, mafd) = scene_score(&a, &b, 0.0);
        assert!((mafd - 20.0).abs() < 1e-9 && (score - 20.0).abs() < 1e-9);
        // The same difference again (steady motion) scores 0.
        let (score, _) = scene_score(&b, &a, mafd);
        assert!(score.abs() < 1e-9);
        assert_eq!(fingerprint("x"), fingerprint("x"));
        assert_ne!(fingerprint("x"), fingerprint("y"));
    }
}
