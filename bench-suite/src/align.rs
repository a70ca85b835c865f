//! Aligning a distorted stream with its reference before scoring, as a viewer would see them:
//! a temporal offset found by content (the offset that maximises luma PSNR on the first frames,
//! searched over a window), then each reference frame paired with the distorted frame on screen
//! at its presentation time, so dropped and duplicated frames and another frame rate are scored
//! as what they are instead of shifting every later pair.
//!
//! Everything here is pure: [`best_offset`] on luma thumbnails, [`Pairing`] on timestamps. The
//! scorer (`compare`) feeds them decoded pictures.

use serde::Serialize;

/// How a distorted stream is aligned with its reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// No alignment: frame i against frame i; different frame counts are an error.
    Exact,
    /// Pair by presentation time after skipping `offset` frames (positive: the distorted stream
    /// starts `offset` frames late, so its first frames are skipped; negative: the reference's).
    Timestamps {
        /// Frames skipped.
        offset: i64,
    },
    /// Search the offset within +-`window` frames on the first frames' luma PSNR (when both
    /// streams have the same frame rate), then pair by presentation time.
    Auto {
        /// The search window in frames.
        window: u32,
    },
}

impl Default for Align {
    fn default() -> Self {
        Align::Auto { window: 30 }
    }
}

/// What alignment did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Alignment {
    /// Frames skipped at the start (see [`Align::Timestamps`]).
    pub offset: i64,
    /// Whether the offset was found by search (false: given, or no search).
    pub searched: bool,
    /// Mean luma PSNR of the first frames at the chosen offset (searched offsets only).
    pub search_psnr: Option<f64>,
    /// Whether frames were paired by presentation time (false: frame by frame).
    pub by_timestamps: bool,
    /// Reference frames scored.
    pub scored: u64,
    /// Reference frames paired with a distorted frame of their own.
    pub matched: u64,
    /// Reference frames paired with a distorted frame already shown (the distorted stream
    /// dropped them, or has fewer frames per second).
    pub repeated: u64,
    /// Distorted frames never on screen at a reference frame's time (duplicates, or more frames
    /// per second).
    pub skipped: u64,
    /// Reference frames after the end of the distorted stream, not scored.
    pub unscored: u64,
    /// The distorted stream was converted from another bit depth (bits).
    pub converted_from_depth: Option<u8>,
}

impl Alignment {
    /// Whether anything was done beyond pairing frame i with frame i.
    pub fn is_trivial(&self) -> bool {
        self.offset == 0
            && self.repeated == 0
            && self.skipped == 0
            && self.unscored == 0
            && self.converted_from_depth.is_none()
    }

    /// One sentence for people.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.offset != 0 {
            parts.push(format!(
                "offset {:+} frames{} ({} skipped at the start of the {})",
                self.offset,
                if self.searched {
                    format!(
                        ", found by search{}",
                        self.search_psnr
                            .map(|p| format!(" at {p:.2} dB"))
                            .unwrap_or_default()
                    )
                } else {
                    String::new()
                },
                self.offset.unsigned_abs(),
                if self.offset > 0 {
                    "distorted stream"
                } else {
                    "reference"
                }
            ));
        }
        parts.push(format!(
            "{} reference frames scored: {} matched, {} repeated, {} distorted frames skipped",
            self.scored, self.matched, self.repeated, self.skipped
        ));
        if self.unscored > 0 {
            parts.push(format!(
                "{} reference frames after the end of the distorted stream not scored",
                self.unscored
            ));
        }
        if let Some(d) = self.converted_from_depth {
            parts.push(format!("distorted stream converted from {d}-bit"));
        }
        format!(
            "aligned{}: {}",
            if self.by_timestamps {
                " by timestamps"
            } else {
                ""
            },
            parts.join("; ")
        )
    }
}

/// A small grey picture for the offset search: the luma plane averaged over `factor` x `factor`
/// blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Thumb {
    /// Samples, row by row, scaled to 0..=255 whatever the bit depth.
    pub samples: Vec<f32>,
}

impl Thumb {
    /// The thumbnail of a luma plane of `width` x `height` samples of `bit_depth` bits, rows
    /// `stride` samples apart. Each block's samples are summed exactly in integers (a row's
    /// columns first, `factor` rows at a time, which the compiler vectorises), then scaled once.
    pub fn of<T: Copy + Into<u32>>(
        plane: &[T],
        stride: usize,
        width: usize,
        height: usize,
        bit_depth: u8,
        factor: usize,
    ) -> Thumb {
        let factor = factor.max(1);
        let (tw, th) = (width / factor, height / factor);
        let scale = 255.0 / ((1u32 << bit_depth) - 1) as f32 / (factor * factor) as f32;
        let mut samples = Vec::with_capacity(tw * th);
        let mut columns = vec![0u32; tw * factor];
        for ty in 0..th {
            columns.iter_mut().for_each(|c| *c = 0);
            for y in ty * factor..(ty + 1) * factor {
                let row = &plane[y * stride..y * stride + tw * factor];
                for (c, &v) in columns.iter_mut().zip(row) {
                    *c += v.into();
                }
            }
            samples.extend(
                columns
                    .chunks_exact(factor)
                    .map(|block| block.iter().sum::<u32>() as f32 * scale),
            );
        }
        Thumb { samples }
    }

    fn psnr(&self, other: &Thumb) -> f64 {
        let n = self.samples.len().min(other.samples.len()).max(1);
        let mse: f64 = self
            .samples
            .iter()
            .zip(&other.samples)
            .map(|(a, b)| {
                let d = (*a - *b) as f64;
                d * d
            })
            .sum::<f64>()
            / n as f64;
        if mse <= 1e-10 {
            100.0
        } else {
            10.0 * (255.0f64 * 255.0 / mse).log10()
        }
    }
}

/// The offset in `-window..=window` whose first `pairs` pairs (reference frame i against
/// distorted frame i + offset) have the highest mean PSNR, and that PSNR. Ties go to the
/// offset nearest 0. None when no offset has a full set of pairs.
pub fn best_offset(
    reference: &[Thumb],
    distorted: &[Thumb],
    window: u32,
    pairs: usize,
) -> Option<(i64, f64)> {
    let w = window as i64;
    let mut best: Option<(i64, f64)> = None;
    let mut offsets: Vec<i64> = (-w..=w).collect();
    offsets.sort_by_key(|o| o.abs());
    for o in offsets {
        let mut sum = 0.0;
        let mut n = 0;
        for i in 0..reference.len() as i64 {
            let j = i + o;
            if j < 0 {
                continue;
            }
            let Some(d) = distorted.get(j as usize) else {
                break;
            };
            sum += reference[i as usize].psnr(d);
            n += 1;
            if n == pairs {
                break;
            }
        }
        if n < pairs {
            continue;
        }
        let mean = sum / n as f64;
        // Offsets are tried nearest 0 first; a farther one must be better by a hundredth of a
        // dB, so noise cannot pull the answer away from 0.
        if best.map_or(true, |(_, b)| mean > b + 0.01) {
            best = Some((o, mean));
        }
    }
    best
}

/// Pairs reference frames with the distorted frame on screen at their time. Feed it the
/// distorted stream's timestamps (after the offset) as they come; for each reference frame it
/// says which distorted frame to score against.
#[derive(Clone, Debug)]
pub struct Pairing {
    tolerance: f64,
    ref_start: Option<f64>,
    dist_start: Option<f64>,
}

/// What to do with the next distorted frame for the current reference frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The next distorted frame is on screen by then: move to it.
    Advance,
    /// The current distorted frame is the one on screen: score against it.
    Use,
}

impl Pairing {
    /// A pairing for a reference of `fps` frames per second (timestamps within half a frame
    /// count as the same instant).
    pub fn new(fps: f64) -> Pairing {
        Pairing {
            tolerance: 0.5 / fps.max(1e-3),
            ref_start: None,
            dist_start: None,
        }
    }

    /// Whether to advance from the current distorted frame to the one at `next_dist_pts`
    /// before scoring the reference frame at `ref_pts`. Both streams' clocks start at their
    /// first frame.
    pub fn step(&mut self, ref_pts: f64, next_dist_pts: f64) -> Step {
        let r = ref_pts - *self.ref_start.get_or_insert(ref_pts);
        let d = next_dist_pts - *self.dist_start.get_or_insert(next_dist_pts);
        if d <= r + self.tolerance {
            Step::Advance
        } else {
            Step::Use
        }
    }

    /// Sets the distorted stream's clock start (its first frame after the offset).
    pub fn start_distorted(&mut self, pts: f64) {
        self.dist_start = Some(pts);
    }

    /// Whether the reference frame at `ref_pts` comes after the last distorted frame (at
    /// `last_pts`, shown for `duration`) has left the screen: the distorted stream has ended.
    pub fn past_end(&mut self, ref_pts: f64, last_pts: f64, duration: f64) -> bool {
        let r = ref_pts - *self.ref_start.get_or_insert(ref_pts);
        let d = last_pts - self.dist_start.unwrap_or(last_pts);
        r > d + duration - self.tolerance
    }
}

/// The distorted frame (index into `dist`) each reference frame is paired with, by the same
/// rule as [`Pairing`] (None for reference frames after the distorted stream's end). For tests
/// and for explaining the rule.
pub fn pair_by_timestamps(
    reference: &[f64],
    dist: &[f64],
    dist_duration: f64,
    fps: f64,
) -> Vec<Option<usize>> {
    let mut p = Pairing::new(fps);
    if let Some(d0) = dist.first() {
        p.start_distorted(*d0);
    }
    let mut cur = 0usize;
    reference
        .iter()
        .map(|&t| {
            if dist.is_empty() {
                return None;
            }
            while cur + 1 < dist.len() && p.step(t, dist[cur + 1]) == Step::Advance {
                cur += 1;
            }
            if cur + 1 == dist.len() && p.past_end(t, dist[cur], dist_duration) {
                return None;
            }
            Some(cur)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thumb(seed: u32) -> Thumb {
        // A distinct smooth picture per frame index.
        let plane: Vec<u8> = (0..32u32)
            .flat_map(|y| (0..64u32).map(move |x| ((x * 3 + y * 5 + seed * 17) % 256) as u8))
            .collect();
        Thumb::of(&plane, 64, 64, 32, 8, 4)
    }

    #[test]
    fn the_offset_search_finds_a_known_shift_both_ways() {
        let reference: Vec<Thumb> = (0..40).map(thumb).collect();
        // The distorted stream starts 3 frames late (3 extra leading frames).
        let late: Vec<Thumb> = (0..3)
            .map(|i| thumb(100 + i))
            .chain((0..37).map(thumb))
            .collect();
        assert_eq!(best_offset(&reference, &late, 5, 8).unwrap().0, 3);
        // It lacks its first 4 frames.
        let early: Vec<Thumb> = (4..40).map(thumb).collect();
        assert_eq!(best_offset(&reference, &early, 5, 8).unwrap().0, -4);
        // Identical streams: offset 0.
        let (o, psnr) = best_offset(&reference, &reference, 5, 8).unwrap();
        assert_eq!((o, psnr), (0, 100.0));
        // Thumbnails scale 10-bit samples to the 8-bit range.
        let t10 = Thumb::of(&[1023u16; 16], 4, 4, 4, 10, 2);
        assert_eq!(t10.samples, vec![255.0; 4]);
    }

    #[test]
    fn thumbnails_are_block_means_of_a_strided_plane() {
        // 37 x 23 samples in rows of 41 (padding filled with a value that must not count),
        // blocks of 4: a 9 x 5 thumbnail, the partial blocks at the right and bottom left out.
        let (w, h, stride, f) = (37, 23, 41, 4);
        let plane: Vec<u16> = (0..h * stride)
            .map(|i| {
                if i % stride < w {
                    ((i * 7919) % 1024) as u16
                } else {
                    9999
                }
            })
            .collect();
        let t = Thumb::of(&plane, stride, w, h, 10, f);
        let mut expected = Vec::new();
        for ty in 0..h / f {
            for tx in 0..w / f {
                let mut sum = 0.0f64;
                for y in ty * f..ty * f + f {
                    for x in tx * f..tx * f + f {
                        sum += plane[y * stride + x] as f64;
                    }
                }
                expected.push(sum / (f * f) as f64 * 255.0 / 1023.0);
            }
        }
        assert_eq!(t.samples.len(), expected.len());
        for (got, want) in t.samples.iter().zip(&expected) {
            assert!((*got as f64 - want).abs() < 1e-3, "{got} against {want}");
        }
    }

    #[test]
    fn timestamps_pair_drops_duplicates_and_half_rate() {
        let r: Vec<f64> = (0..8).map(|i| i as f64 / 30.0).collect();
        // Same timeline.
        assert_eq!(
            pair_by_timestamps(&r, &r, 1.0 / 30.0, 30.0),
            (0..8).map(Some).collect::<Vec<_>>()
        );
        // Frames 2 and 5 dropped: the previous frame stays on screen.
        let dropped: Vec<f64> = [0, 1, 3, 4, 6, 7]
            .iter()
            .map(|i| *i as f64 / 30.0)
            .collect();
        assert_eq!(
            pair_by_timestamps(&r, &dropped, 1.0 / 30.0, 30.0),
            [0, 1, 1, 2, 3, 3, 4, 5].map(Some).to_vec()
        );
        // Half the rate: every distorted frame covers two reference frames.
        let half: Vec<f64> = (0..4).map(|i| i as f64 / 15.0).collect();
        assert_eq!(
            pair_by_timestamps(&r, &half, 1.0 / 15.0, 30.0),
            [0, 0, 1, 1, 2, 2, 3, 3].map(Some).to_vec()
        );
        // A duplicated frame (same timestamp twice, then on): the later copy is shown.
        let dup = [0.0, 1.0 / 30.0, 1.0 / 30.0, 2.0 / 30.0];
        assert_eq!(
            pair_by_timestamps(&r[..3], &dup, 1.0 / 30.0, 30.0),
            [0, 2, 3].map(Some).to_vec()
        );
        // Streams starting at other clock values line up by their first frames, and reference
        // frames past the distorted end are not paired.
        let shifted: Vec<f64> = (0..4).map(|i| 10.0 + i as f64 / 30.0).collect();
        assert_eq!(
            pair_by_timestamps(&r, &shifted, 1.0 / 30.0, 30.0),
            [Some(0), Some(1), Some(2), Some(3), None, None, None, None].to_vec()
        );
    }
}
