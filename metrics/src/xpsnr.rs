//! XPSNR, the extended perceptually weighted PSNR, computed as FFmpeg's `xpsnr` filter
//! (libavfilter/vf_xpsnr.c, FFmpeg 7.1 to 9; tested against 9.0.2) computes it: per frame the Y, Cb
//! and Cr XPSNR, and over a sequence the filter's summary (per-plane averages and their minimum).
//!
//! The algorithm (Helmrich et al., ICASSP 2020 / ICIP 2021) weights each block's squared error by
//! the inverse visual activity of the *reference* picture in that block:
//!
//! * The luma picture is cut into square blocks of `b = 4·round(32·√(w·h / 3840·2160))` samples
//!   (64 at 1080p, 128 at 2160p; below about 2025 samples `b` is 0 and XPSNR falls back to plain
//!   PSNR).
//! * Spatial activity: the mean absolute output of a 3×3 high-pass (12 at the centre, −2 at the
//!   sides, −1 at the corners) over the block, the picture's outermost row and column left out.
//!   Above 2048×1152 the filter is a 4×4-ish high-pass evaluated once per 2×2 cell, and two rows
//!   and columns are left out.
//! * Temporal activity: twice the mean absolute difference to the previous reference picture
//!   (first order) or, from 32 frames per second up, to the second difference of the last three
//!   (`cur − 2·prev + prev2`); above 2048×1152 on 2×2 cell sums. The "previous pictures" start as
//!   zeros, so the first frame's temporal activity is the picture itself.
//! * The block's weight is `1 / max(spatial + temporal, 2^(bitdepth−6))`; up to 640×480 the weights
//!   are smoothed (each replaced by the least of itself and some neighbours, FFmpeg's in-line
//!   "min-smoothing"). Chroma blocks (the luma blocks scaled by the subsampling) reuse the luma
//!   weights.
//! * Per plane, the weighted SSE times `√(16·2^(2·bitdepth−9) / √(w·h / 3840·2160))`, rounded to an
//!   integer, is the frame's distortion `D`; XPSNR = 10·log10(w·h·(2^bitdepth − 1)² / D) for the
//!   plane's `w·h` samples, +∞ when `D` is 0.
//! * Over a sequence, the per-plane XPSNR is that formula applied to the mean of √D over frames
//!   (a square-mean-root average), or the mean of the per-frame values when that mean is below 1.
//!
//! **Which input is which.** FFmpeg measures the activity on its *first* input, which its
//! documentation calls the reference: `ffmpeg -i ref -i dist -lavfi "[0:v][1:v]xpsnr"`.
//! [`Xpsnr::push`] takes the reference first, the same way.
//!
//! **Where this equals FFmpeg, and where FFmpeg is not well defined.** Every arithmetic step
//! follows FFmpeg's C code, including its integer types and the order of its floating-point sums,
//! so the values are FFmpeg's to every digit it prints (the golden tests compare 8- to 16-bit,
//! odd sizes, all three samplings, up to 3840×2160), with FFmpeg's defects reproduced, not fixed,
//! where their outcome is defined:
//!
//! * Above 2048×1152, a right-most block column whose active width is 12 or less gets no spatial
//!   activity (FFmpeg computes it and drops the result).
//! * Samples are held as signed 16-bit numbers, so 16-bit samples of 32768 and above count as
//!   negative in the activities (the squared errors use them unsigned). FFmpeg's x86 SSE2 line
//!   kernel also wraps differences of 32768 or more and can overflow its 32-bit lane sums at 15
//!   and 16 bits (never with realistic distortion); this module computes the exact squared
//!   error, as FFmpeg's C code does.
//! * Above 2048×1152 with an odd width, FFmpeg's 2×2 cell loops read past the right edge into
//!   the next row's first samples (it keeps luma rows packed) and, in the last row, one sample
//!   past the picture. This module reads the same packed layout with zeros past the end, which
//!   equals FFmpeg 9 on 8-bit video (tested at 2049×1152). For high bit depth FFmpeg reads the
//!   decoder's frame there (after a Y4M frame's luma, its first chroma sample), so the last digits
//!   can differ (seen at 2049×1152, 10-bit).
//! * Above 2048×1152 with an odd height, or a last block column or row one sample wide, FFmpeg
//!   reads and writes up to a row past its buffers: FFmpeg 9 crashed on 2049×1153 8-bit and gave
//!   other values at 2089×1225. No reference exists there; this module follows the zero-padded
//!   model.
//!
//! FFmpeg also reads its second input of high-bit-depth video with the stride of a packed picture
//! rather than the frame's linesize, which is right for frames straight from a raw decoder (Y4M)
//! and wrong for padded frames; this module honours every plane's stride.
//!
//! The work: [`Xpsnr`] keeps the previous reference pictures across frames (fed in order) and
//! scores each pair with a fast kernel (row sweeps vectorised through `pulp`'s dispatch), whose
//! plain scalar reference is a literal transcription of FFmpeg's block loop, tested equal on every
//! instruction set. [`pool_xpsnr`] pools per-frame results as the filter's summary does.

use crate::error::{check_frames, MetricError};
use crate::fps::Fps;
use crate::frame::{ChromaSampling, FrameView, Plane, Sample};
use crate::simd::dispatch;
use pulp::{Simd, WithSimd};
use serde::Serialize;

/// XPSNR of one frame pair, per plane (Y, Cb, Cr).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct XpsnrFrame {
    /// The weighted squared error `D` per plane, as FFmpeg rounds it to an integer.
    pub wsse: [u64; 3],
    /// XPSNR in dB per plane; +∞ where the distortion is 0.
    pub xpsnr: [f64; 3],
    /// Samples per plane.
    pub samples: [u64; 3],
    /// Bit depth the XPSNR is relative to.
    pub bit_depth: u8,
}

impl XpsnrFrame {
    /// Builds the frame result from per-plane weighted squared errors, as FFmpeg turns them into
    /// dB: 10·log10(samples·peak² / (√D)²), +∞ when √D < 1.
    pub fn from_wsse(wsse: [u64; 3], samples: [u64; 3], bit_depth: u8) -> Self {
        let peak2 = peak_squared(bit_depth);
        let xpsnr = std::array::from_fn(|c| {
            let root = (wsse[c] as f64).sqrt();
            average_xpsnr(root, f64::INFINITY, samples[c] * peak2, 1)
        });
        Self {
            wsse,
            xpsnr,
            samples,
            bit_depth,
        }
    }

    /// The least of the three planes' XPSNR.
    pub fn minimum(&self) -> f64 {
        min_of(self.xpsnr)
    }
}

/// XPSNR of a sequence, pooled as FFmpeg's filter summary ("XPSNR average, N frames").
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct XpsnrSummary {
    /// Frames pooled.
    pub frames: usize,
    /// Per-plane XPSNR of the sequence.
    pub xpsnr: [f64; 3],
    /// The least of the three, which FFmpeg prints as "minimum" and recommends reporting.
    pub minimum: f64,
}

/// Pools per-frame results as FFmpeg's summary does: per plane, XPSNR of the mean of √D over the
/// frames (a square-mean-root average of the distortion), or, when the sum of √D is below the
/// number of frames, the mean of the per-frame XPSNR values (+∞ if any frame was identical).
/// `None` for an empty series.
pub fn pool_xpsnr(frames: &[XpsnrFrame]) -> Option<XpsnrSummary> {
    let first = frames.first()?;
    let peak2 = peak_squared(first.bit_depth);
    let xpsnr = std::array::from_fn(|c| {
        let mut sum_root = 0.0f64;
        let mut sum_db = 0.0f64;
        for f in frames {
            sum_root += (f.wsse[c] as f64).sqrt();
            sum_db += f.xpsnr[c];
        }
        average_xpsnr(
            sum_root,
            sum_db,
            first.samples[c] * peak2,
            frames.len() as u64,
        )
    });
    Some(XpsnrSummary {
        frames: frames.len(),
        xpsnr,
        minimum: min_of(xpsnr),
    })
}

/// (2^b − 1)², FFmpeg's "conventional limit".
fn peak_squared(bit_depth: u8) -> u64 {
    let p = (1u64 << bit_depth) - 1;
    p * p
}

/// FFmpeg's `get_avg_xpsnr`: `root_sum` is the sum of √D over `frames` frames, `db_sum` the sum
/// of their XPSNR values, `numerator` samples × peak².
fn average_xpsnr(root_sum: f64, db_sum: f64, numerator: u64, frames: u64) -> f64 {
    if frames == 0 {
        return f64::INFINITY;
    }
    if root_sum >= frames as f64 {
        let avg = root_sum / frames as f64;
        return 10.0 * (numerator as f64 / (avg * avg)).log10();
    }
    db_sum / frames as f64
}

/// The minimum as FFmpeg takes it: start at luma, replace by any smaller chroma value.
fn min_of(v: [f64; 3]) -> f64 {
    let mut m = v[0];
    for &x in &v[1..] {
        if m > x {
            m = x;
        }
    }
    m
}

/// A sample as FFmpeg's activity code sees it: a signed 16-bit number.
#[inline(always)]
fn act<T: Sample>(v: T) -> i32 {
    v.to_u32() as u16 as i16 as i32
}

/// FFmpeg's `FFMAX` on doubles.
#[inline(always)]
fn fmax(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

/// Everything about a stream that the per-frame computation depends on.
#[derive(Clone, Debug)]
struct Geometry {
    width: usize,
    height: usize,
    bit_depth: u8,
    sampling: ChromaSampling,
    /// Chroma plane size.
    chroma: (usize, usize),
    /// Temporal activity from the second difference (integer frame rate of 32 and up).
    second_order: bool,
    /// Luma block size `b`; below 4, XPSNR is plain PSNR.
    block: usize,
    blocks_x: usize,
    blocks_y: usize,
    /// Chroma block size (`b` scaled by the subsampling, FFmpeg's integer division).
    chroma_block: (usize, usize),
    /// Above 2048×1152: activities on 2×2 cells.
    cells: bool,
    /// Up to 640×480: min-smoothing of the weights.
    smoothing: bool,
    /// √(a_pic): the factor applied to the weighted sums.
    avg_act: f64,
}

impl Geometry {
    fn new(width: usize, height: usize, bit_depth: u8, sampling: ChromaSampling, fps: Fps) -> Self {
        // FFmpeg multiplies the sizes as 32-bit unsigned integers.
        let pixels = (width as u32).wrapping_mul(height as u32);
        let r = pixels as f64 / (3840.0 * 2160.0);
        let block = (4 * ((32.0 * r.sqrt() + 0.5) as i32)).max(0) as usize;
        let chroma = sampling.chroma_size(width, height);
        let (blocks_x, blocks_y, chroma_block) = if block >= 4 {
            (
                width.div_ceil(block),
                height.div_ceil(block),
                (block * chroma.0 / width, block * chroma.1 / height),
            )
        } else {
            (0, 0, (0, 0))
        };
        let a_pic = 16.0 * (1u64 << (2 * bit_depth as u32 - 9)) as f64;
        Geometry {
            width,
            height,
            bit_depth,
            sampling,
            chroma,
            second_order: fps.num() / fps.den() >= 32,
            block,
            blocks_x,
            blocks_y,
            chroma_block,
            cells: pixels > 2048 * 1152,
            smoothing: pixels <= 640 * 480,
            avg_act: (a_pic / fmax(0.00001, r).sqrt()).sqrt(),
        }
    }

    /// Samples left out at the picture's borders: 1, or 2 on 2×2 cells.
    fn border(&self) -> usize {
        if self.cells {
            2
        } else {
            1
        }
    }

    /// The lower limit of a block's activity, which accounts for the high-pass gain.
    fn activity_floor(&self) -> f64 {
        (1u32 << (self.bit_depth - 6)) as f64
    }

    /// Samples per plane.
    fn samples(&self) -> [u64; 3] {
        let c = (self.chroma.0 * self.chroma.1) as u64;
        [(self.width * self.height) as u64, c, c]
    }

    /// FFmpeg's active window of the block at (`x0`, `y0`) of `bw`×`bh`, relative to the block:
    /// `(x_act, y_act, w_act, h_act)`, or `None` when the block is too small for activities
    /// (its weight is then 1).
    fn active(&self, x0: usize, y0: usize, bw: usize, bh: usize) -> Option<[isize; 4]> {
        let bv = self.border() as isize;
        let x_act = if x0 > 0 { 0 } else { bv };
        let y_act = if y0 > 0 { 0 } else { bv };
        let w_act = if x0 + bw < self.width {
            bw as isize
        } else {
            bw as isize - bv
        };
        let h_act = if y0 + bh < self.height {
            bh as isize
        } else {
            bh as isize - bv
        };
        (w_act > x_act && h_act > y_act).then_some([x_act, y_act, w_act, h_act])
    }
}

/// The previous reference luma pictures, packed row after row (stride = width) as FFmpeg keeps
/// them, with zeros past the end for the reads and writes FFmpeg makes there.
#[derive(Clone, Debug)]
struct History {
    m1: Vec<i16>,
    m2: Vec<i16>,
}

impl History {
    fn new(g: &Geometry) -> Self {
        let len = g.width * g.height + padding(g.width);
        History {
            m1: vec![0; len],
            m2: vec![0; len],
        }
    }
}

/// Zero samples kept past a packed luma picture: FFmpeg's 2×2 loops reach one row and a few
/// samples past it.
fn padding(width: usize) -> usize {
    3 * width + 16
}

/// Read access to reference luma samples by their index in FFmpeg's packed layout.
trait Packed {
    fn at(&self, i: usize) -> i32;
}

impl Packed for [i16] {
    #[inline]
    fn at(&self, i: usize) -> i32 {
        self[i] as i32
    }
}

/// A plane read as if it were packed (stride = width), zero past its end.
struct Linear<'p, 'a, T: Sample> {
    plane: &'p Plane<'a, T>,
}

impl<T: Sample> Packed for Linear<'_, '_, T> {
    #[inline]
    fn at(&self, i: usize) -> i32 {
        let w = self.plane.width();
        if i < w * self.plane.height() {
            act(self.plane.row(i / w)[i % w])
        } else {
            0
        }
    }
}

/// FFmpeg's `calc_squared_error_and_weight` without the squared error: the block's squared
/// activity (`ms_act`), updating the history of the block's samples. A literal transcription of
/// FFmpeg's loops over its packed layout, used by the scalar reference for every block and by the
/// fast kernel for the edge blocks where FFmpeg reads past the picture.
fn block_activity<O: Packed + ?Sized>(
    g: &Geometry,
    org: &O,
    hist: &mut History,
    x0: usize,
    y0: usize,
    bw: usize,
    bh: usize,
) -> f64 {
    let Some([x_act, y_act, w_act, h_act]) = g.active(x0, y0, bw, bh) else {
        return 1.0;
    };
    let o = g.width as isize;
    let base = (y0 * g.width + x0) as isize;
    let px = |y: isize, x: isize| org.at((base + y * o + x) as usize);

    let mut sa = 0u64;
    if g.cells {
        // FFmpeg runs the high-pass on narrow blocks too but drops the result.
        if w_act > 12 {
            let mut y = y_act;
            while y < h_act {
                let mut x = x_act;
                while x < w_act {
                    let f = 12 * (px(y, x) + px(y, x + 1) + px(y + 1, x) + px(y + 1, x + 1))
                        - 3 * (px(y - 1, x) + px(y - 1, x + 1) + px(y + 2, x) + px(y + 2, x + 1))
                        - 3 * (px(y, x - 1) + px(y, x + 2) + px(y + 1, x - 1) + px(y + 1, x + 2))
                        - 2 * (px(y - 1, x - 1)
                            + px(y - 1, x + 2)
                            + px(y + 2, x - 1)
                            + px(y + 2, x + 2))
                        - (px(y - 2, x - 1)
                            + px(y - 2, x)
                            + px(y - 2, x + 1)
                            + px(y - 2, x + 2)
                            + px(y + 3, x - 1)
                            + px(y + 3, x)
                            + px(y + 3, x + 1)
                            + px(y + 3, x + 2)
                            + px(y - 1, x - 2)
                            + px(y, x - 2)
                            + px(y + 1, x - 2)
                            + px(y + 2, x - 2)
                            + px(y - 1, x + 3)
                            + px(y, x + 3)
                            + px(y + 1, x + 3)
                            + px(y + 2, x + 3));
                    sa += f.unsigned_abs() as u64;
                    x += 2;
                }
                y += 2;
            }
        }
    } else {
        for y in y_act..h_act {
            for x in x_act..w_act {
                let f = 12 * px(y, x)
                    - 2 * (px(y, x - 1) + px(y, x + 1) + px(y - 1, x) + px(y + 1, x))
                    - (px(y - 1, x - 1) + px(y - 1, x + 1) + px(y + 1, x - 1) + px(y + 1, x + 1));
                sa += f.unsigned_abs() as u64;
            }
        }
    }
    let mut ms_act = sa as f64 / ((w_act - x_act) as f64 * (h_act - y_act) as f64);

    let idx = |y: usize, x: usize| base as usize + y * g.width + x;
    let mut ta = 0u64;
    if g.cells {
        for y in (0..bh).step_by(2) {
            for x in (0..bw).step_by(2) {
                let cell = [idx(y, x), idx(y, x + 1), idx(y + 1, x), idx(y + 1, x + 1)];
                let sum = |v: &dyn Fn(usize) -> i32| cell.iter().map(|&i| v(i)).sum::<i32>();
                let cur = sum(&|i| org.at(i));
                let p1 = sum(&|i| hist.m1[i] as i32);
                let t = if g.second_order {
                    cur - 2 * p1 + sum(&|i| hist.m2[i] as i32)
                } else {
                    cur - p1
                };
                ta += t.unsigned_abs() as u64;
                if g.second_order {
                    for &i in &cell {
                        hist.m2[i] = hist.m1[i];
                    }
                }
                for &i in &cell {
                    hist.m1[i] = org.at(i) as i16;
                }
            }
        }
        ta *= 2;
    } else {
        for y in 0..bh {
            for x in 0..bw {
                let i = idx(y, x);
                let cur = org.at(i);
                let t = if g.second_order {
                    cur - 2 * hist.m1[i] as i32 + hist.m2[i] as i32
                } else {
                    cur - hist.m1[i] as i32
                };
                ta += 2 * t.unsigned_abs() as u64;
                if g.second_order {
                    hist.m2[i] = hist.m1[i];
                }
                hist.m1[i] = cur as i16;
            }
        }
    }
    ms_act += ta as f64 / (bw as f64 * bh as f64);
    if ms_act < g.activity_floor() {
        ms_act = g.activity_floor();
    }
    ms_act * ms_act
}

/// Sum of squared differences of a `bw`×`bh` block of two planes (unsigned samples), plainly.
fn block_sse_scalar<T: Sample>(
    a: &Plane<'_, T>,
    b: &Plane<'_, T>,
    x0: usize,
    y0: usize,
    bw: usize,
    bh: usize,
) -> u64 {
    let mut sse = 0u64;
    for y in y0..y0 + bh {
        let (ra, rb) = (&a.row(y)[x0..x0 + bw], &b.row(y)[x0..x0 + bw]);
        for (p, q) in ra.iter().zip(rb) {
            let e = p.to_u32() as i64 - q.to_u32() as i64;
            sse += (e * e) as u64;
        }
    }
    sse
}

/// FFmpeg's weighted sum turned into the integer distortion `D`.
fn round_wsse(wsse: f64, avg_act: f64) -> u64 {
    if wsse <= 0.0 {
        0
    } else {
        (wsse * avg_act + 0.5) as u64
    }
}

/// The scalar reference: FFmpeg's `get_wsse` transcribed loop for loop over a packed copy of the
/// reference luma (min-smoothing in line, sums in FFmpeg's order). Slow; tests check the fast
/// kernel against it.
fn wsse_reference<T: Sample>(
    g: &Geometry,
    org: &FrameView<'_, T>,
    rec: &FrameView<'_, T>,
    hist: &mut History,
) -> [u64; 3] {
    let (w, h, b) = (g.width, g.height, g.block);
    let mut wsse = [0u64; 3];
    let mut weights: Vec<f64> = Vec::new();
    if b >= 4 {
        let mut packed: Vec<i16> = org
            .luma()
            .rows()
            .flat_map(|r| r.iter().map(|&v| act(v) as i16))
            .collect();
        packed.resize(w * h + padding(w), 0);
        let w_blk = g.blocks_x;
        let mut sse_luma: Vec<f64> = Vec::new();
        let mut idx = 0usize;
        let mut y = 0;
        while y < h {
            let bh = if y + b > h { h - y } else { b };
            let mut x = 0;
            while x < w {
                let bw = if x + b > w { w - x } else { b };
                sse_luma.push(block_sse_scalar(org.luma(), rec.luma(), x, y, bw, bh) as f64);
                let ms_act = block_activity(g, &packed[..], hist, x, y, bw, bh);
                weights.push(1.0 / ms_act.sqrt());
                if g.smoothing {
                    let mut prev = if x == 0 {
                        if idx > 1 {
                            weights[idx - 2]
                        } else {
                            0.0
                        }
                    } else if x > b {
                        fmax(weights[idx - 2], weights[idx])
                    } else {
                        weights[idx]
                    };
                    if idx > w_blk {
                        prev = fmax(prev, weights[idx - 1 - w_blk]);
                    }
                    if idx > 0 && weights[idx - 1] > prev {
                        weights[idx - 1] = prev;
                    }
                    if x + b >= w && y + b >= h && idx > w_blk {
                        prev = fmax(weights[idx - 1], weights[idx - w_blk]);
                        if weights[idx] > prev {
                            weights[idx] = prev;
                        }
                    }
                }
                x += b;
                idx += 1;
            }
            y += b;
        }
        let mut wsse_luma = 0.0f64;
        for i in 0..idx {
            wsse_luma += sse_luma[i] * weights[i];
        }
        wsse[0] = round_wsse(wsse_luma, g.avg_act);
    }
    for (c, out) in wsse.iter_mut().enumerate() {
        let (po, pr) = (org.plane(c), rec.plane(c));
        let (pw, ph) = (po.width(), po.height());
        if b < 4 {
            *out = block_sse_scalar(po, pr, 0, 0, pw, ph);
        } else if c > 0 {
            let (bx, by) = g.chroma_block;
            let mut sum = 0.0f64;
            let mut idx = 0;
            let mut y = 0;
            while y < ph {
                let bh = if y + by > ph { ph - y } else { by };
                let mut x = 0;
                while x < pw {
                    let bw = if x + bx > pw { pw - x } else { bx };
                    sum += block_sse_scalar(po, pr, x, y, bw, bh) as f64 * weights[idx];
                    x += bx;
                    idx += 1;
                }
                y += by;
            }
            *out = round_wsse(sum, g.avg_act);
        }
    }
    wsse
}

/// Sum of squared differences of two row segments (unsigned samples), in 64 bits.
#[inline(always)]
fn sse_seg<T: Sample>(a: &[T], b: &[T]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| {
            let d = p.to_u32().abs_diff(q.to_u32()) as u64;
            d * d
        })
        .sum()
}

/// Adds each sample's squared difference to its column's 32-bit sum (up to 12 bits and 256 rows,
/// so no sum overflows).
#[inline(always)]
fn sse_cols<T: Sample>(a: &[T], b: &[T], acc: &mut [u32]) {
    for ((p, q), s) in a.iter().zip(b).zip(acc.iter_mut()) {
        let d = p.to_u32().abs_diff(q.to_u32());
        *s += d * d;
    }
}

/// Adds |3×3 high-pass| of each sample of `mid` but the first and last to its column's sum.
#[inline(always)]
fn highpass_cols<T: Sample>(up: &[T], mid: &[T], down: &[T], acc: &mut [u32]) {
    let Some(n) = mid.len().checked_sub(2) else {
        return;
    };
    let (u0, u1, u2) = (&up[..n], &up[1..][..n], &up[2..][..n]);
    let (m0, m1, m2) = (&mid[..n], &mid[1..][..n], &mid[2..][..n]);
    let (d0, d1, d2) = (&down[..n], &down[1..][..n], &down[2..][..n]);
    let acc = &mut acc[1..][..n];
    for i in 0..n {
        let f = 12 * act(m1[i])
            - 2 * (act(m0[i]) + act(m2[i]) + act(u1[i]) + act(d1[i]))
            - (act(u0[i]) + act(u2[i]) + act(d0[i]) + act(d2[i]));
        acc[i] += f.unsigned_abs();
    }
}

/// Adds each sample's |temporal difference| to its column's sum and moves the history on (first
/// order: `cur − prev`; `SECOND`: `cur − 2·prev + prev2`).
#[inline(always)]
fn temporal_cols<T: Sample, const SECOND: bool>(
    cur: &[T],
    m1: &mut [i16],
    m2: &mut [i16],
    acc: &mut [u32],
) {
    let n = cur.len();
    let (m1, m2, acc) = (&mut m1[..n], &mut m2[..n], &mut acc[..n]);
    for i in 0..n {
        let v = act(cur[i]);
        let t = if SECOND {
            v - 2 * m1[i] as i32 + m2[i] as i32
        } else {
            v - m1[i] as i32
        };
        acc[i] += t.unsigned_abs();
        if SECOND {
            m2[i] = m1[i];
        }
        m1[i] = v as i16;
    }
}

/// Splits a row into its even and odd samples (as activity values).
#[inline(always)]
fn deinterleave<T: Sample>(row: &[T], even: &mut [i32], odd: &mut [i32]) {
    for ((pair, e), o) in row.chunks_exact(2).zip(even.iter_mut()).zip(odd.iter_mut()) {
        *e = act(pair[0]);
        *o = act(pair[1]);
    }
    if row.len() % 2 == 1 {
        even[row.len() / 2] = act(row[row.len() - 1]);
    }
}

/// Adds |2×2-cell high-pass| of cells `ks..ke` (cell k at columns 2k, 2k+1) of a row pair to the
/// cells' sums; the six rows (two above to three below the pair's first row) are split into even
/// samples `e` and odd samples `o`. Needs `1 <= ks` and `ke < e[r].len()`.
#[inline(always)]
fn cells_highpass_cols(
    e: &[Vec<i32>; 6],
    o: &[Vec<i32>; 6],
    ks: usize,
    ke: usize,
    acc: &mut [u32],
) {
    let n = ke - ks;
    // Index i of each slice triple is cell ks + i - 1, ks + i, ks + i + 1.
    fn sl(v: &[i32], ks: usize, n: usize) -> [&[i32]; 3] {
        let v = &v[ks - 1..][..n + 2];
        [&v[..n], &v[1..][..n], &v[2..][..n]]
    }
    let [e0, e1, e2, e3, e4, e5] = std::array::from_fn(|r| sl(&e[r], ks, n));
    let [o0, o1, o2, o3, o4, o5] = std::array::from_fn(|r| sl(&o[r], ks, n));
    let acc = &mut acc[ks..ke];
    for i in 0..n {
        let f = 12 * (e2[1][i] + o2[1][i] + e3[1][i] + o3[1][i])
            - 3 * (e1[1][i] + o1[1][i] + e4[1][i] + o4[1][i])
            - 3 * (o2[0][i] + e2[2][i] + o3[0][i] + e3[2][i])
            - 2 * (o1[0][i] + e1[2][i] + o4[0][i] + e4[2][i])
            - (o0[0][i]
                + e0[1][i]
                + o0[1][i]
                + e0[2][i]
                + o5[0][i]
                + e5[1][i]
                + o5[1][i]
                + e5[2][i]
                + e1[0][i]
                + e2[0][i]
                + e3[0][i]
                + e4[0][i]
                + o1[2][i]
                + o2[2][i]
                + o3[2][i]
                + o4[2][i]);
        acc[i] += f.unsigned_abs();
    }
}

/// Adds |temporal difference| of the 2×2 cells of a row pair (`c0`, `c1`, even length) to the
/// cells' sums and moves the history of both rows on.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cells_temporal_cols<T: Sample, const SECOND: bool>(
    c0: &[T],
    c1: &[T],
    p1a: &mut [i16],
    p1b: &mut [i16],
    p2a: &mut [i16],
    p2b: &mut [i16],
    diff: &mut [i32],
    acc: &mut [u32],
) {
    let n = c0.len();
    let (c1, p1a, p1b) = (&c1[..n], &mut p1a[..n], &mut p1b[..n]);
    let (p2a, p2b, diff) = (&mut p2a[..n], &mut p2b[..n], &mut diff[..n]);
    for i in 0..n {
        let (va, vb) = (act(c0[i]), act(c1[i]));
        let p1 = p1a[i] as i32 + p1b[i] as i32;
        diff[i] = if SECOND {
            va + vb - 2 * p1 + p2a[i] as i32 + p2b[i] as i32
        } else {
            va + vb - p1
        };
        if SECOND {
            p2a[i] = p1a[i];
            p2b[i] = p1b[i];
        }
        p1a[i] = va as i16;
        p1b[i] = vb as i16;
    }
    for (pair, s) in diff.chunks_exact(2).zip(acc.iter_mut()) {
        *s += (pair[0] + pair[1]).unsigned_abs();
    }
}

/// A block's share of per-column sums.
#[inline(always)]
fn col_sum(v: &[u32]) -> u64 {
    v.iter().map(|&x| x as u64).sum()
}

/// Resets a per-column sum buffer to `n` zeros.
fn zeros(v: &mut Vec<u32>, n: usize) {
    v.clear();
    v.resize(n, 0);
}

/// Per-block-column sums of one block row.
#[derive(Clone, Debug, Default)]
struct RowSums {
    sse: Vec<u64>,
    spatial: Vec<u64>,
    temporal: Vec<u64>,
}

impl RowSums {
    fn reset(&mut self, n: usize) {
        for v in [&mut self.sse, &mut self.spatial, &mut self.temporal] {
            v.clear();
            v.resize(n, 0);
        }
    }
}

/// Work buffers of the fast kernel, kept across frames.
#[derive(Clone, Debug, Default)]
struct Work {
    sums: RowSums,
    /// Per-column (or per-cell-column) sums over a block row.
    cols_sse: Vec<u32>,
    cols_spatial: Vec<u32>,
    cols_temporal: Vec<u32>,
    sse_luma: Vec<u64>,
    weights: Vec<f64>,
    even: [Vec<i32>; 6],
    odd: [Vec<i32>; 6],
    diff: Vec<i32>,
}

/// The fast kernel's squared activity of a block from its sums (the same formula as
/// [`block_activity`]'s tail).
fn activity_from_sums(
    g: &Geometry,
    x0: usize,
    y0: usize,
    bw: usize,
    bh: usize,
    spatial: u64,
    temporal: u64,
) -> f64 {
    let Some([x_act, y_act, w_act, h_act]) = g.active(x0, y0, bw, bh) else {
        return 1.0;
    };
    let spatial = if g.cells && w_act <= 12 { 0 } else { spatial };
    let mut ms_act = spatial as f64 / ((w_act - x_act) as f64 * (h_act - y_act) as f64);
    ms_act += (2 * temporal) as f64 / (bw as f64 * bh as f64);
    if ms_act < g.activity_floor() {
        ms_act = g.activity_floor();
    }
    ms_act * ms_act
}

/// FFmpeg's in-line min-smoothing of the block weights, as a pass in the same order (each step
/// reads only weights the in-line version had already settled).
fn min_smoothing(g: &Geometry, weights: &mut [f64]) {
    let (w, h, b, w_blk) = (g.width, g.height, g.block, g.blocks_x);
    let mut idx = 0;
    for by in 0..g.blocks_y {
        let y = by * b;
        for bx in 0..g.blocks_x {
            let x = bx * b;
            let mut prev = if x == 0 {
                if idx > 1 {
                    weights[idx - 2]
                } else {
                    0.0
                }
            } else if x > b {
                fmax(weights[idx - 2], weights[idx])
            } else {
                weights[idx]
            };
            if idx > w_blk {
                prev = fmax(prev, weights[idx - 1 - w_blk]);
            }
            if idx > 0 && weights[idx - 1] > prev {
                weights[idx - 1] = prev;
            }
            if x + b >= w && y + b >= h && idx > w_blk {
                let last = fmax(weights[idx - 1], weights[idx - w_blk]);
                if weights[idx] > last {
                    weights[idx] = last;
                }
            }
            idx += 1;
        }
    }
}

/// One frame through the fast kernel.
struct FramePass<'k, 'a, T: Sample> {
    g: &'k Geometry,
    org: &'k FrameView<'a, T>,
    rec: &'k FrameView<'a, T>,
    hist: &'k mut History,
    work: &'k mut Work,
}

impl<T: Sample> WithSimd for FramePass<'_, '_, T> {
    type Output = [u64; 3];

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> [u64; 3] {
        // Squared errors summed per column in 32 bits up to 12 bits and 256 rows a block.
        if self.g.bit_depth <= 12 && self.g.block <= 256 {
            self.run::<true>()
        } else {
            self.run::<false>()
        }
    }
}

impl<T: Sample> FramePass<'_, '_, T> {
    #[inline(always)]
    fn run<const COLS: bool>(self) -> [u64; 3] {
        let FramePass {
            g,
            org,
            rec,
            hist,
            work,
        } = self;
        let mut wsse = [0u64; 3];
        if g.block < 4 {
            for (c, out) in wsse.iter_mut().enumerate() {
                let (po, pr) = (org.plane(c), rec.plane(c));
                *out = (0..po.height())
                    .map(|y| sse_seg(po.row(y), pr.row(y)))
                    .sum();
            }
            return wsse;
        }
        luma::<T, COLS>(g, org.luma(), rec.luma(), hist, work);
        if g.smoothing {
            min_smoothing(g, &mut work.weights);
        }
        let mut sum = 0.0f64;
        for (s, wt) in work.sse_luma.iter().zip(&work.weights) {
            sum += *s as f64 * wt;
        }
        wsse[0] = round_wsse(sum, g.avg_act);
        for (c, out) in wsse.iter_mut().enumerate().skip(1) {
            *out = chroma::<T, COLS>(g, org.plane(c), rec.plane(c), work);
        }
        wsse
    }
}

/// Per-block squared errors of the block row at `y0` (`bh` rows, blocks `bx`×`bh` wide) into
/// `work.sums.sse`.
#[inline(always)]
fn block_row_sse<T: Sample, const COLS: bool>(
    org: &Plane<'_, T>,
    rec: &Plane<'_, T>,
    y0: usize,
    bh: usize,
    bx: usize,
    work: &mut Work,
) {
    let w = org.width();
    let n = w.div_ceil(bx);
    work.sums.reset(n);
    if COLS {
        zeros(&mut work.cols_sse, w);
        for y in y0..y0 + bh {
            sse_cols(org.row(y), rec.row(y), &mut work.cols_sse);
        }
        for (c, s) in work.sums.sse.iter_mut().enumerate() {
            *s = col_sum(&work.cols_sse[c * bx..(c * bx + bx).min(w)]);
        }
    } else {
        for y in y0..y0 + bh {
            let (ro, rr) = (org.row(y), rec.row(y));
            for (c, s) in work.sums.sse.iter_mut().enumerate() {
                let r = c * bx..(c * bx + bx).min(w);
                *s += sse_seg(&ro[r.clone()], &rr[r]);
            }
        }
    }
}

/// Luma: per-block squared errors and weights (before smoothing) into `work`.
#[inline(always)]
fn luma<T: Sample, const COLS: bool>(
    g: &Geometry,
    org: &Plane<'_, T>,
    rec: &Plane<'_, T>,
    hist: &mut History,
    work: &mut Work,
) {
    let (w, h, b, nx) = (g.width, g.height, g.block, g.blocks_x);
    work.sse_luma.clear();
    work.weights.clear();
    // Above 2048×1152, FFmpeg's 2×2 loops reach past the picture in a last block column or row
    // of odd size, and its high-pass reaches one sample into the next block column or row, so
    // past the picture in the last but one when the last is one sample wide. Those blocks go
    // through the literal routine, in FFmpeg's block order.
    let clean_count = |n: usize, last: usize| match (g.cells, last) {
        (false, _) => n,
        (true, 1) => n.saturating_sub(2),
        (true, l) if l % 2 == 1 => n - 1,
        (true, _) => n,
    };
    let clean_cols = clean_count(nx, w - (nx - 1) * b);
    let clean_rows = clean_count(g.blocks_y, h - (g.blocks_y - 1) * b);
    for by in 0..g.blocks_y {
        let y0 = by * b;
        let bh = b.min(h - y0);
        let clean = if by < clean_rows { clean_cols } else { 0 };
        block_row_sse::<T, COLS>(org, rec, y0, bh, b, work);
        if clean > 0 {
            if g.cells {
                cells_rows(g, org, hist, work, y0, bh, clean);
            } else {
                pixel_rows(g, org, hist, work, y0, bh);
            }
        }
        for c in 0..nx {
            let x0 = c * b;
            let bw = b.min(w - x0);
            let ms_act = if c < clean {
                activity_from_sums(
                    g,
                    x0,
                    y0,
                    bw,
                    bh,
                    work.sums.spatial[c],
                    work.sums.temporal[c],
                )
            } else {
                block_activity(g, &Linear { plane: org }, hist, x0, y0, bw, bh)
            };
            work.sse_luma.push(work.sums.sse[c]);
            work.weights.push(1.0 / ms_act.sqrt());
        }
    }
}

/// Activities of every block of a block row, one pixel at a time (up to 2048×1152).
#[inline(always)]
fn pixel_rows<T: Sample>(
    g: &Geometry,
    org: &Plane<'_, T>,
    hist: &mut History,
    work: &mut Work,
    y0: usize,
    bh: usize,
) {
    let (w, h, b) = (g.width, g.height, g.block);
    zeros(&mut work.cols_spatial, w);
    zeros(&mut work.cols_temporal, w);
    for y in y0..y0 + bh {
        let mid = org.row(y);
        if y >= 1 && y + 1 < h {
            highpass_cols(org.row(y - 1), mid, org.row(y + 1), &mut work.cols_spatial);
        }
        let (m1, m2) = (&mut hist.m1[y * w..][..w], &mut hist.m2[y * w..][..w]);
        if g.second_order {
            temporal_cols::<T, true>(mid, m1, m2, &mut work.cols_temporal);
        } else {
            temporal_cols::<T, false>(mid, m1, m2, &mut work.cols_temporal);
        }
    }
    for c in 0..g.blocks_x {
        let r = c * b..(c * b + b).min(w);
        work.sums.spatial[c] = col_sum(&work.cols_spatial[r.clone()]);
        work.sums.temporal[c] = col_sum(&work.cols_temporal[r]);
    }
}

/// Activities of block columns `0..cols` of a block row of even height, on 2×2 cells (above
/// 2048×1152). The columns are those no cell of which reaches past the picture.
#[inline(always)]
fn cells_rows<T: Sample>(
    g: &Geometry,
    org: &Plane<'_, T>,
    hist: &mut History,
    work: &mut Work,
    y0: usize,
    bh: usize,
    cols: usize,
) {
    let (w, h, b) = (g.width, g.height, g.block);
    let half = w / 2 + 2;
    for v in work.even.iter_mut().chain(work.odd.iter_mut()) {
        v.clear();
        v.resize(half, 0);
    }
    zeros(&mut work.cols_spatial, half);
    zeros(&mut work.cols_temporal, half);
    work.diff.clear();
    work.diff.resize(w, 0);
    // The clean columns span an even width; the high-pass leaves out two samples at either
    // picture edge.
    let span = (cols * b).min(w);
    let (ks, ke) = (
        1,
        if cols == g.blocks_x {
            (w - 2) / 2
        } else {
            span / 2
        },
    );
    for y in (y0..y0 + bh).step_by(2) {
        if y >= 2 && y + 2 < h && ks < ke {
            for r in 0..6 {
                deinterleave(org.row(y + r - 2), &mut work.even[r], &mut work.odd[r]);
            }
            cells_highpass_cols(&work.even, &work.odd, ks, ke, &mut work.cols_spatial);
        }
        let (c0, c1) = (&org.row(y)[..span], &org.row(y + 1)[..span]);
        let (m1a, m1b) = hist.m1[y * w..][..2 * w].split_at_mut(w);
        let (m2a, m2b) = hist.m2[y * w..][..2 * w].split_at_mut(w);
        let (diff, acc) = (&mut work.diff, &mut work.cols_temporal);
        if g.second_order {
            cells_temporal_cols::<T, true>(c0, c1, m1a, m1b, m2a, m2b, diff, acc);
        } else {
            cells_temporal_cols::<T, false>(c0, c1, m1a, m1b, m2a, m2b, diff, acc);
        }
    }
    for c in 0..cols {
        let r = c * b / 2..(c * b + b).min(span) / 2;
        work.sums.spatial[c] = col_sum(&work.cols_spatial[r.clone()]);
        work.sums.temporal[c] = col_sum(&work.cols_temporal[r]);
    }
}

/// A chroma plane's weighted squared error, rounded to `D`.
#[inline(always)]
fn chroma<T: Sample, const COLS: bool>(
    g: &Geometry,
    org: &Plane<'_, T>,
    rec: &Plane<'_, T>,
    work: &mut Work,
) -> u64 {
    let (bx, by) = g.chroma_block;
    let mut sum = 0.0f64;
    let mut idx = 0;
    for y0 in (0..org.height()).step_by(by) {
        let bh = by.min(org.height() - y0);
        block_row_sse::<T, COLS>(org, rec, y0, bh, bx, work);
        for s in &work.sums.sse {
            sum += *s as f64 * work.weights[idx];
            idx += 1;
        }
    }
    round_wsse(sum, g.avg_act)
}

/// XPSNR of a stream of frame pairs, fed in display order: keeps the previous reference pictures
/// the temporal activity needs, and scores each pair as FFmpeg's `xpsnr` filter does.
#[derive(Clone, Debug)]
pub struct Xpsnr {
    g: Geometry,
    hist: History,
    work: Work,
    frames: u64,
}

impl Xpsnr {
    /// A scorer for a stream of `width`×`height` pictures at `bit_depth` bits (8 to 16) with
    /// chroma `sampling`, at frame rate `fps` (from an integer rate of 32 up, the temporal
    /// activity uses second differences, as FFmpeg's does).
    pub fn new(
        width: usize,
        height: usize,
        bit_depth: u8,
        sampling: ChromaSampling,
        fps: Fps,
    ) -> Result<Self, MetricError> {
        if !(8..=16).contains(&bit_depth) {
            return Err(MetricError::BitDepth(bit_depth));
        }
        if width == 0 || height == 0 {
            return Err(MetricError::TooSmall {
                metric: "XPSNR",
                width,
                height,
                min_width: 1,
                min_height: 1,
            });
        }
        let g = Geometry::new(width, height, bit_depth, sampling, fps);
        Ok(Xpsnr {
            hist: History::new(&g),
            g,
            work: Work::default(),
            frames: 0,
        })
    }

    /// A scorer for a stream of pictures like `frame`, at frame rate `fps`.
    pub fn for_frame<T: Sample>(frame: &FrameView<'_, T>, fps: Fps) -> Result<Self, MetricError> {
        Self::new(
            frame.width(),
            frame.height(),
            frame.bit_depth(),
            frame.sampling(),
            fps,
        )
    }

    /// The luma block size (0 when the picture is too small for blocks and XPSNR is plain PSNR).
    pub fn block_size(&self) -> usize {
        self.g.block
    }

    /// Frame pairs scored so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Scores the next frame pair: `reference` (whose activity weights the errors, FFmpeg's
    /// first input) and `distorted`.
    pub fn push<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<XpsnrFrame, MetricError> {
        self.check(reference, distorted)?;
        let wsse = dispatch(FramePass {
            g: &self.g,
            org: reference,
            rec: distorted,
            hist: &mut self.hist,
            work: &mut self.work,
        });
        self.frames += 1;
        Ok(XpsnrFrame::from_wsse(
            wsse,
            self.g.samples(),
            self.g.bit_depth,
        ))
    }

    /// [`Xpsnr::push`] through the plain scalar reference (FFmpeg's loops transcribed).
    #[doc(hidden)]
    pub fn push_reference<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<XpsnrFrame, MetricError> {
        self.check(reference, distorted)?;
        let wsse = wsse_reference(&self.g, reference, distorted, &mut self.hist);
        self.frames += 1;
        Ok(XpsnrFrame::from_wsse(
            wsse,
            self.g.samples(),
            self.g.bit_depth,
        ))
    }

    fn check<T: Sample>(
        &self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<(), MetricError> {
        check_frames(reference, distorted)?;
        let g = &self.g;
        if (
            reference.width(),
            reference.height(),
            reference.bit_depth(),
            reference.sampling(),
        ) != (g.width, g.height, g.bit_depth, g.sampling)
        {
            return Err(MetricError::FormatChanged {
                width: g.width,
                height: g.height,
                bit_depth: g.bit_depth,
                sampling: g.sampling,
                got_width: reference.width(),
                got_height: reference.height(),
                got_bit_depth: reference.bit_depth(),
                got_sampling: reference.sampling(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OwnedFrame;
    use crate::testutil::Lcg;

    /// Frame `t` of a moving test sequence and a distorted copy at `bit_depth` bits (full range,
    /// so 16-bit samples reach past 32767), each plane's rows padded past the width with junk.
    fn frame_pair(
        w: usize,
        h: usize,
        bit_depth: u8,
        sampling: ChromaSampling,
        t: usize,
        noise: u32,
    ) -> (OwnedFrame<u16>, OwnedFrame<u16>) {
        let max = (1i64 << bit_depth) - 1;
        let mut rng = Lcg(0x9e37 + t as u32 * 7919 + w as u32 * 31 + h as u32);
        let mut a = OwnedFrame::<u16>::new(w, h, bit_depth, sampling);
        let mut b = a.clone();
        for p in 0..3 {
            let (pw, ph) = a.plane_size(p);
            let stride = pw + 3 + 2 * p;
            a.strides[p] = stride;
            b.strides[p] = stride;
            a.planes[p] = vec![0xdead & max as u16; stride * ph];
            b.planes[p] = vec![0xbeef & max as u16; stride * ph];
            for y in 0..ph {
                for x in 0..pw {
                    let xm = x + 3 * t;
                    let flat = x < pw / 4 && y < ph / 3;
                    let v = if flat {
                        max * 3 / 4
                    } else {
                        let ramp = (xm * 5 + y * 3) as i64 % 512;
                        let tex = if (x / 16 + y / 16 + t) % 3 == 0 {
                            (rng.next() % 97) as i64
                        } else {
                            0
                        };
                        let edge = if (xm / 23 + y / 19) % 2 == 0 { 300 } else { 0 };
                        (ramp + tex + edge) * max / 1000
                    };
                    let n = if flat || noise == 0 {
                        0
                    } else {
                        (rng.next() % (2 * noise + 1)) as i64 - noise as i64
                    };
                    let n = n * (max / 255).max(1);
                    a.planes[p][y * stride + x] = v as u16;
                    b.planes[p][y * stride + x] = (v + n).clamp(0, max) as u16;
                }
            }
        }
        (a, b)
    }

    fn to_u8(f: &OwnedFrame<u16>) -> OwnedFrame<u8> {
        OwnedFrame::<u8> {
            planes: std::array::from_fn(|i| f.planes[i].iter().map(|&v| v as u8).collect()),
            width: f.width,
            height: f.height,
            strides: f.strides,
            bit_depth: 8,
            sampling: f.sampling,
        }
    }

    /// Scores `frames` pairs through the reference and, on every instruction set, the fast
    /// kernel, and asserts they agree exactly.
    fn check(
        w: usize,
        h: usize,
        bit_depth: u8,
        sampling: ChromaSampling,
        rate: u32,
        frames: usize,
    ) {
        let fps = Fps::new(rate, 1).unwrap();
        let pairs: Vec<_> = (0..frames)
            .map(|t| frame_pair(w, h, bit_depth, sampling, t, 6 + t as u32))
            .collect();
        let what = format!("{w}x{h} {bit_depth}-bit {sampling:?} {rate} fps");
        if bit_depth == 8 {
            let pairs: Vec<_> = pairs.iter().map(|(a, b)| (to_u8(a), to_u8(b))).collect();
            run(&pairs, fps, &what);
        } else {
            run(&pairs, fps, &what);
        }

        fn run<T: Sample>(pairs: &[(OwnedFrame<T>, OwnedFrame<T>)], fps: Fps, what: &str) {
            let first = pairs[0].0.view().unwrap();
            let mut reference = Xpsnr::for_frame(&first, fps).unwrap();
            let want: Vec<_> = pairs
                .iter()
                .map(|(a, b)| {
                    reference
                        .push_reference(&a.view().unwrap(), &b.view().unwrap())
                        .unwrap()
                })
                .collect();
            for (arch, got) in crate::simd::on_every_arch(|| {
                let mut x = Xpsnr::for_frame(&first, fps).unwrap();
                pairs
                    .iter()
                    .map(|(a, b)| x.push(&a.view().unwrap(), &b.view().unwrap()).unwrap())
                    .collect::<Vec<_>>()
            }) {
                assert_eq!(got, want, "{what} on {arch}");
            }
            assert!(want.iter().all(|f| f.wsse[0] > 0), "{what}: {want:?}");
        }
    }

    #[test]
    fn fast_kernel_equals_the_reference_up_to_2048x1152() {
        use ChromaSampling::*;
        for (w, h, bd, s, rate) in [
            (40, 30, 8, Cs420, 25),
            (45, 45, 8, Cs420, 25),
            (64, 48, 10, Cs444, 50),
            (177, 99, 8, Cs420, 25),
            (176, 144, 8, Cs422, 60),
            (161, 97, 12, Cs420, 30),
            (641, 479, 8, Cs420, 25),
            (641, 479, 10, Cs420, 60),
            (720, 480, 8, Cs444, 25),
            (333, 211, 16, Cs420, 25),
            (333, 211, 16, Cs444, 60),
            (1280, 720, 8, Cs420, 60),
        ] {
            check(w, h, bd, s, rate, 4);
        }
    }

    #[test]
    fn fast_kernel_equals_the_reference_above_2048x1152() {
        use ChromaSampling::*;
        for (w, h, bd, s, rate) in [
            // Odd last column (9 wide, active width 7: no spatial activity).
            (2049, 1152, 8, Cs420, 25),
            // Odd last column and row.
            (2049, 1153, 8, Cs420, 60),
            // Even last column of active width 8.
            (2050, 1152, 10, Cs420, 25),
            // Last column and row one sample wide.
            (2089, 1225, 8, Cs420, 30),
            (2304, 1296, 10, Cs420, 60),
            (2304, 1296, 16, Cs422, 25),
        ] {
            check(w, h, bd, s, rate, 3);
        }
    }

    #[test]
    fn identical_frames_score_infinity_and_pool_like_ffmpeg() {
        let (a, _) = frame_pair(176, 144, 8, ChromaSampling::Cs420, 0, 0);
        let a = to_u8(&a);
        let (_, b) = frame_pair(176, 144, 8, ChromaSampling::Cs420, 1, 9);
        let b = to_u8(&b);
        let fps = Fps::new(25, 1).unwrap();
        let mut x = Xpsnr::for_frame(&a.view().unwrap(), fps).unwrap();
        let same = x.push(&a.view().unwrap(), &a.view().unwrap()).unwrap();
        assert_eq!(same.wsse, [0; 3]);
        assert_eq!(same.xpsnr, [f64::INFINITY; 3]);
        let diff = x.push(&b.view().unwrap(), &a.view().unwrap()).unwrap();
        assert!(diff.xpsnr.iter().all(|v| v.is_finite()));
        // One identical frame of two: the sum of √D is still at least the frame count, so the
        // summary is the square-mean-root average, finite.
        let s = pool_xpsnr(&[same, diff]).unwrap();
        for c in 0..3 {
            let root = (diff.wsse[c] as f64).sqrt() / 2.0;
            let want = 10.0 * ((diff.samples[c] * 255 * 255) as f64 / (root * root)).log10();
            assert_eq!(s.xpsnr[c], want);
        }
        assert_eq!(
            s.minimum,
            s.xpsnr.iter().cloned().fold(f64::INFINITY, f64::min)
        );
        // All identical: the mean of the per-frame values, +∞.
        let s = pool_xpsnr(&[same, same]).unwrap();
        assert_eq!(s.xpsnr, [f64::INFINITY; 3]);
        assert!(pool_xpsnr(&[]).is_none());
    }

    #[test]
    fn block_size_follows_the_picture_area() {
        let fps = Fps::new(25, 1).unwrap();
        let b = |w, h| {
            Xpsnr::new(w, h, 8, ChromaSampling::Cs420, fps)
                .unwrap()
                .block_size()
        };
        assert_eq!(b(3840, 2160), 128);
        assert_eq!(b(1920, 1080), 64);
        assert_eq!(b(176, 144), 8);
        assert_eq!(b(45, 45), 4);
        assert_eq!(b(44, 44), 0);
    }

    #[test]
    fn a_changed_format_is_refused() {
        let fps = Fps::new(25, 1).unwrap();
        let mut x = Xpsnr::new(64, 48, 8, ChromaSampling::Cs420, fps).unwrap();
        let f = OwnedFrame::<u8>::new(64, 50, 8, ChromaSampling::Cs420);
        let v = f.view().unwrap();
        assert!(matches!(
            x.push(&v, &v),
            Err(MetricError::FormatChanged { got_height: 50, .. })
        ));
        assert_eq!(
            Xpsnr::new(64, 48, 7, ChromaSampling::Cs420, fps).unwrap_err(),
            MetricError::BitDepth(7)
        );
    }
}
