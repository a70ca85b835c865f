//! VMAF's motion features of 8- to 16-bit luma, computed exactly as libvmaf 2.3.1's integer
//! `motion` extractor (`integer_motion.c`, and its AVX2 horizontal filter, which gives the same
//! values) computes them: `VMAF_integer_feature_motion_score` (`integer_motion`) and
//! `VMAF_integer_feature_motion2_score` (`integer_motion2`).
//!
//! The work comes in two parts:
//!
//! * [`blur`] / [`blur_into`]: the expensive, stateless part. The *reference* picture's luma is
//!   low-passed by libvmaf's 5-tap filter, vertically (rounded by the bit depth) and then
//!   horizontally (rounded by 16 bits), with libvmaf's borders (row -k is row k, row h-1+k is row
//!   h-k), into a 16-bit [`Blurred`] plane. A pure function of one picture, so any worker thread
//!   can run it.
//! * [`Motion`]: the cheap, stateful part, fed the blurred frames in order. Motion of frame n is
//!   the mean absolute difference between the blurred frames n-1 and n (0 for the first frame);
//!   motion2 of frame n is min(motion(n), motion(n+1)), so it is known only once frame n+1 has
//!   been pushed, and at [`Motion::finish`] for the last frame, where it is motion(n).
//!   libvmaf's `motion_force_zero` option makes both scores 0 and needs no blurring at all.
//!
//! libvmaf runs motion, a temporal extractor, on *every* frame even when it scores only every Nth
//! (`n_subsample`), so a caller feeds every frame to [`Motion`] and keeps the scores of the
//! frames it reports.
//!
//! The blur streams row by row (a row's vertical filter output stays in cache for the
//! horizontal pass) and adds the symmetric taps before multiplying; loops are written for the
//! compiler to vectorise under the widest instruction set the CPU has (chosen at run time). Every
//! sum is an integer that cannot overflow 32 bits, so the values are libvmaf's exactly. Tests
//! check both scores, frame by frame, against libvmaf's own extractor and the kernels against a
//! plain transcription of libvmaf's C code, on every instruction set.

use crate::frame::{Plane, Sample};
use crate::simd;
use crate::vmaf::vif::LumaPair;
use pulp::{Simd, WithSimd};
use thiserror::Error;

/// libvmaf's motion filter (`integer_motion.h`), summing to 65536.
const FILTER: [u32; 5] = [3571, 16004, 26386, 16004, 3571];

/// The smallest width and height this kernel blurs: the filter's mirrored borders reach two
/// samples beyond each edge.
pub const MIN_SIZE: usize = 3;

/// Whether a `w`×`h` picture can be blurred (both at least [`MIN_SIZE`]).
pub fn supports(w: usize, h: usize) -> bool {
    w >= MIN_SIZE && h >= MIN_SIZE
}

/// One luma plane to blur: 8-bit, or 9- to 16-bit video in 16-bit words.
#[derive(Clone, Copy, Debug)]
pub enum Luma<'a> {
    /// 8-bit samples.
    Bits8(Plane<'a, u8>),
    /// Samples of the given bit depth (9 to 16).
    High(Plane<'a, u16>, u8),
}

impl<'a> Luma<'a> {
    /// The reference picture of a pair: the one libvmaf's motion is computed from.
    pub fn reference(pair: &LumaPair<'a>) -> Self {
        match pair {
            LumaPair::Bits8(r, _) => Luma::Bits8(*r),
            LumaPair::High(r, _, bpc) => Luma::High(*r, *bpc),
        }
    }

    /// Width in samples.
    pub fn width(&self) -> usize {
        match self {
            Luma::Bits8(p) => p.width(),
            Luma::High(p, _) => p.width(),
        }
    }

    /// Height in rows.
    pub fn height(&self) -> usize {
        match self {
            Luma::Bits8(p) => p.height(),
            Luma::High(p, _) => p.height(),
        }
    }
}

/// A blurred reference luma plane: libvmaf's 16-bit `blur` picture, packed row after row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blurred {
    width: usize,
    height: usize,
    data: Vec<u16>,
}

impl Blurred {
    /// Width in samples.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The samples, `width` per row, rows packed.
    pub fn samples(&self) -> &[u16] {
        &self.data
    }

    /// Row `y`.
    pub fn row(&self, y: usize) -> &[u16] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// Sets the size and makes room for the samples, keeping the allocation (and, at an unchanged
    /// size, the old samples, all of which the blur overwrites).
    fn reset(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        if self.data.len() != width * height {
            self.data.clear();
            self.data.resize(width * height, 0);
        }
    }
}

/// Blurs a reference luma plane as libvmaf's motion extractor does.
///
/// # Panics
/// If the plane is smaller than [`MIN_SIZE`] or a high-bit-depth plane's depth is not 9..=16.
pub fn blur(luma: &Luma<'_>) -> Blurred {
    let mut out = Blurred::default();
    blur_into(luma, &mut out);
    out
}

/// [`blur`] into `out`, reusing its memory.
///
/// # Panics
/// As [`blur`].
pub fn blur_into(luma: &Luma<'_>, out: &mut Blurred) {
    let (w, h) = check(luma);
    out.reset(w, h);
    blur_rows(luma, 0, &mut out.data);
}

/// The size of `luma`, checked as [`blur`] says.
fn check(luma: &Luma<'_>) -> (usize, usize) {
    let (w, h) = (luma.width(), luma.height());
    assert!(
        supports(w, h),
        "motion needs a picture of at least {MIN_SIZE}x{MIN_SIZE}, got {w}x{h}"
    );
    if let Luma::High(_, bpc) = luma {
        assert!(
            (9..=16).contains(bpc),
            "high-bit-depth motion needs 9 to 16 bits, not {bpc}"
        );
    }
    (w, h)
}

/// The blurred rows of `luma` from `first` on that `out` holds.
fn blur_rows(luma: &Luma<'_>, first: usize, out: &mut [u16]) {
    match luma {
        Luma::Bits8(p) => simd::dispatch(BlurRun8 { src: p, first, out }),
        Luma::High(p, bpc) => simd::dispatch(BlurRun {
            src: p,
            shift: *bpc as u32,
            first,
            out,
        }),
    }
}

/// Rows blurred at a time by [`blur_over`].
const BAND: usize = 16;

/// Blurs `luma` over `prev`, the blurred frame before it (same size), band by band, and returns
/// the sum of absolute differences between the two as [`sad`] adds it: the one blurred picture
/// a sequence then needs, where blurring into a second one and comparing takes two. `band` is
/// scratch memory for [`BAND`] rows.
fn blur_over(luma: &Luma<'_>, prev: &mut Blurred, band: &mut Vec<u16>) -> u64 {
    let (w, h) = check(luma);
    assert!(
        (prev.width, prev.height) == (w, h),
        "motion compares blurred frames of one size"
    );
    band.resize(BAND * w, 0);
    let mut total = 0u64;
    for first in (0..h).step_by(BAND) {
        let rows = BAND.min(h - first);
        let band = &mut band[..rows * w];
        blur_rows(luma, first, band);
        let old = &mut prev.data[first * w..(first + rows) * w];
        total += simd::dispatch(SadRows { a: old, b: band, w });
        old.copy_from_slice(band);
    }
    total
}

/// Mirrors index `i` (at most two outside) into `0..n` as libvmaf's motion filter does: -k is k,
/// n-1+k is n-k.
#[inline(always)]
fn mirror(i: isize, n: usize) -> usize {
    if i < 0 {
        (-i) as usize
    } else if i as usize >= n {
        2 * n - 1 - i as usize
    } else {
        i as usize
    }
}

/// Samples each side of a padded row.
const PAD: usize = 2;

/// One blur: vertical filter of `src` rounded by `shift`, horizontal filter rounded by 16, of
/// the rows from `first` on that `out` holds (`out` has whole rows).
struct BlurRun<'a, 'b, T: Sample> {
    src: &'a Plane<'b, T>,
    shift: u32,
    first: usize,
    out: &'a mut [u16],
}

impl<T: Sample> WithSimd for BlurRun<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let BlurRun {
            src,
            shift,
            first,
            out,
        } = self;
        let (w, h) = (src.width(), src.height());
        let round = 1u32 << (shift - 1);
        let [c0, c1, c2, _, _] = FILTER;
        // The vertical output of one row, padded by two mirrored samples each side.
        let mut row = vec![0u32; w + 2 * PAD];
        for (k, dst) in out.chunks_exact_mut(w).enumerate() {
            let i = first + k;
            let tap = |k: isize| &src.row(mirror(i as isize + k, h))[..w];
            let (r0, r1, r2, r3, r4) = (tap(-2), tap(-1), tap(0), tap(1), tap(2));
            let mid = &mut row[PAD..PAD + w];
            for j in 0..w {
                let v = c0 * (r0[j].to_u32() + r4[j].to_u32())
                    + c1 * (r1[j].to_u32() + r3[j].to_u32())
                    + c2 * r2[j].to_u32();
                mid[j] = (v + round) >> shift;
            }
            // Padded position PAD + j holds column j; columns -1, -2 are 1, 2 and columns w,
            // w + 1 are w - 1, w - 2.
            row[PAD - 1] = row[PAD + 1];
            row[PAD - 2] = row[PAD + 2];
            row[PAD + w] = row[PAD + w - 1];
            row[PAD + w + 1] = row[PAD + w - 2];
            let (t0, t1, t2) = (&row[0..w], &row[1..w + 1], &row[2..w + 2]);
            let (t3, t4) = (&row[3..w + 3], &row[4..w + 4]);
            let dst = &mut dst[..w];
            for j in 0..w {
                let v = c0 * (t0[j] + t4[j]) + c1 * (t1[j] + t3[j]) + c2 * t2[j];
                dst[j] = ((v + 32768) >> 16) as u16;
            }
        }
    }
}

/// [`BlurRun`] of an 8-bit plane: on AVX-512 and at least 32 samples wide, [`avx512::blur8`].
struct BlurRun8<'a, 'b> {
    src: &'a Plane<'b, u8>,
    first: usize,
    out: &'a mut [u16],
}

impl WithSimd for BlurRun8<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        #[cfg(target_arch = "x86_64")]
        if let (Some(v4), true) = (simd::v4(), self.src.width() >= 32) {
            return avx512::blur8(v4, self.src, self.first, self.out);
        }
        BlurRun {
            src: self.src,
            shift: 8,
            first: self.first,
            out: self.out,
        }
        .with_simd(s)
    }
}

/// The blur of 8-bit planes written with AVX-512 operations by name (through `pulp`'s safe
/// wrappers), with the values of the portable [`BlurRun`]. Both passes multiply 16-bit words in
/// pairs with `vpmaddwd`: the vertical one the sums of the rows two apart (each below 2^9) and
/// the centre row, the horizontal one the vertical outputs less 2^15 (each below 2^16, so a
/// signed word), whose filter sum comes out less 2^31 (the taps sum to 2^16), which wrapping
/// 32-bit arithmetic adds back exactly. `#[inline(always)]` functions and no closures, so that
/// everything inlines into the AVX-512 context `pulp` dispatches to.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{mirror, FILTER, PAD};
    use crate::frame::Plane;
    use crate::simd::load32_u8 as load32;
    use core::arch::x86_64::__m512i;
    use pulp::{cast, x86::V4};

    /// Words `i..i + 32` of `s`.
    #[inline(always)]
    fn words(s: &[i16], i: usize) -> __m512i {
        let a: [i16; 32] = s[i..i + 32].try_into().expect("32 words");
        cast(a)
    }

    /// Block starts covering `0..n` (`n >= 32`) with blocks of 32, the last ending at `n`.
    #[inline(always)]
    fn starts(n: usize) -> impl Iterator<Item = usize> {
        let full = n / 32 * 32;
        (0..full).step_by(32).chain((full < n).then_some(n - 32))
    }

    /// The blur of an 8-bit plane at least 32 samples wide, the rows from `first` on that `out`
    /// holds (`width` per row).
    #[inline(always)]
    pub(super) fn blur8(v4: V4, src: &Plane<'_, u8>, first: usize, out: &mut [u16]) {
        let (f, bw) = (v4.avx512f, v4.avx512bw);
        let (w, h) = (src.width(), src.height());
        let [c0, c1, c2, _, _] = FILTER;
        let zero = f._mm512_setzero_si512();
        // Tap pairs as 32-bit words, the first tap low.
        let c01 = f._mm512_set1_epi32((c0 | c1 << 16) as i32);
        let c21 = f._mm512_set1_epi32((c2 | c1 << 16) as i32);
        let c2_ = f._mm512_set1_epi32(c2 as i32);
        let c0_ = f._mm512_set1_epi32(c0 as i32);
        // (sum + 128) >> 8, less 2^15: the vertical sum biased by 128 - 2^23.
        let vbias = f._mm512_set1_epi32(128 - (32768 << 8));
        // The horizontal sum's 2^31 back, and its rounding by 16 bits.
        let hbias = f._mm512_set1_epi32(i32::MIN + 32768);
        // The vertical outputs of one row less 2^15, padded by PAD mirrored samples each side,
        // with room for the last block's reads.
        let mut mid = vec![0i16; w + 2 * PAD + 32];
        for (n, dst) in out.chunks_exact_mut(w).enumerate() {
            let i = first + n;
            let mut rows: [&[u8]; 5] = [&[]; 5];
            for (k, r) in rows.iter_mut().enumerate() {
                *r = &src.row(mirror(i as isize + k as isize - 2, h))[..w];
            }
            for j in starts(w) {
                let (r0, r1, r2) = (
                    load32(v4, rows[0], j),
                    load32(v4, rows[1], j),
                    load32(v4, rows[2], j),
                );
                let (r3, r4) = (load32(v4, rows[3], j), load32(v4, rows[4], j));
                let s04 = bw._mm512_add_epi16(r0, r4);
                let s13 = bw._mm512_add_epi16(r1, r3);
                // In-lane unpacking, undone by the in-lane packing below.
                let lo = f._mm512_add_epi32(
                    bw._mm512_madd_epi16(bw._mm512_unpacklo_epi16(s04, s13), c01),
                    bw._mm512_madd_epi16(bw._mm512_unpacklo_epi16(r2, zero), c2_),
                );
                let hi = f._mm512_add_epi32(
                    bw._mm512_madd_epi16(bw._mm512_unpackhi_epi16(s04, s13), c01),
                    bw._mm512_madd_epi16(bw._mm512_unpackhi_epi16(r2, zero), c2_),
                );
                let lo = f._mm512_srai_epi32::<8>(f._mm512_add_epi32(lo, vbias));
                let hi = f._mm512_srai_epi32::<8>(f._mm512_add_epi32(hi, vbias));
                let v: [i16; 32] = cast(bw._mm512_packs_epi32(lo, hi));
                mid[PAD + j..PAD + j + 32].copy_from_slice(&v);
            }
            // Columns -1, -2 are 1, 2 and columns w, w + 1 are w - 1, w - 2.
            mid[PAD - 1] = mid[PAD + 1];
            mid[PAD - 2] = mid[PAD + 2];
            mid[PAD + w] = mid[PAD + w - 1];
            mid[PAD + w + 1] = mid[PAD + w - 2];
            // Output j reads padded positions j..j + 4: a load from j + 2p holds, in 32-bit
            // lane l, taps 2p and 2p + 1 of output j + 2l, so even and odd outputs come apart,
            // and go back together as the two halves of each 32-bit lane.
            let dst = &mut dst[..w];
            for j in starts(w) {
                let mut half = [zero; 2];
                for (k, acc) in half.iter_mut().enumerate() {
                    let a = f._mm512_add_epi32(
                        bw._mm512_madd_epi16(words(&mid, j + k), c01),
                        bw._mm512_madd_epi16(words(&mid, j + k + 2), c21),
                    );
                    let a =
                        f._mm512_add_epi32(a, bw._mm512_madd_epi16(words(&mid, j + k + 4), c0_));
                    *acc = f._mm512_srli_epi32::<16>(f._mm512_add_epi32(a, hbias));
                }
                let v: [u16; 32] =
                    cast(f._mm512_or_si512(half[0], f._mm512_slli_epi32::<16>(half[1])));
                dst[j..j + 32].copy_from_slice(&v);
            }
        }
    }
}

/// Sum of absolute differences between two blurred planes of one size, as libvmaf's `sad_c`
/// adds them: each row in 32 bits (wrapping, as libvmaf's `uint32_t`), the rows in 64.
fn sad(a: &Blurred, b: &Blurred) -> u64 {
    simd::dispatch(SadRows {
        a: &a.data,
        b: &b.data,
        w: a.width,
    })
}

/// The SAD of the rows of `w` samples that `a` and `b` hold.
struct SadRows<'a> {
    a: &'a [u16],
    b: &'a [u16],
    w: usize,
}

impl WithSimd for SadRows<'_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> u64 {
        let w = self.w;
        let mut total = 0u64;
        for (ra, rb) in self.a.chunks_exact(w).zip(self.b.chunks_exact(w)) {
            // Wrapping addition is associative, so any order of the row's terms gives libvmaf's
            // 32-bit row sum.
            let row = ra.iter().zip(rb).fold(0u32, |s, (&x, &y)| {
                s.wrapping_add((x as i32 - y as i32).unsigned_abs())
            });
            total += row as u64;
        }
        total
    }
}

/// libvmaf's `normalize_and_scale_sad`: the SAD over 256 rounded to `float`, divided by the
/// sample count in `float`.
fn score(sad: u64, w: usize, h: usize) -> f64 {
    let n = (w as u32).wrapping_mul(h as u32);
    ((sad as f64 / 256.0) as f32 / n as f32) as f64
}

/// The motion score of `cur` against `prev`, the blurred frame before it.
///
/// # Panics
/// If the planes differ in size.
pub fn motion_between(prev: &Blurred, cur: &Blurred) -> f64 {
    assert!(
        (prev.width, prev.height) == (cur.width, cur.height),
        "motion compares blurred frames of one size"
    );
    score(sad(prev, cur), cur.width, cur.height)
}

/// Why [`Motion`] cannot take a frame.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MotionError {
    /// A frame's size differs from the first frame's.
    #[error("frame {frame} is {got_width}x{got_height}, the sequence is {width}x{height}")]
    SizeChanged {
        /// Index of the offending frame.
        frame: u32,
        /// Size of the first frame.
        width: usize,
        /// Size of the first frame.
        height: usize,
        /// Size of this frame.
        got_width: usize,
        /// Size of this frame.
        got_height: usize,
    },
    /// No blurred picture was given although motion is not forced to zero.
    #[error("frame {frame} came without its blurred picture, which motion needs")]
    NotBlurred {
        /// Index of the frame.
        frame: u32,
    },
}

/// What one pushed frame yields.
#[derive(Clone, Debug, PartialEq)]
pub struct MotionStep {
    /// Index of the frame just pushed (0 for the first).
    pub index: u32,
    /// Its motion score (`integer_motion`).
    pub motion: f64,
    /// A motion2 score (`integer_motion2`) that became known: (frame index, score). The previous
    /// frame's from the third frame on; the frame's own for the first frame and when motion is
    /// forced to zero; none for the second frame.
    pub motion2: Option<(u32, f64)>,
    /// A blurred picture no longer needed, to blur a later frame into.
    pub spare: Option<Blurred>,
}

/// The temporal part of libvmaf's motion extractor: consumes the blurred reference frames in
/// order and yields each frame's motion and motion2 scores (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Motion {
    force_zero: bool,
    /// The last blurred frame pushed.
    prev: Option<Blurred>,
    /// The last frame's motion score.
    prev_score: f64,
    /// Frames pushed.
    frames: u32,
}

impl Motion {
    /// A fresh sequence; `force_zero` is libvmaf's `motion_force_zero` option (both scores 0).
    pub fn new(force_zero: bool) -> Self {
        Self {
            force_zero,
            ..Self::default()
        }
    }

    /// Whether the scores are forced to zero, so that frames need not be blurred.
    pub fn force_zero(&self) -> bool {
        self.force_zero
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Takes the next frame's blurred reference (`None` only when motion is forced to zero; a
    /// given picture is then handed back unread).
    pub fn push(&mut self, blurred: Option<Blurred>) -> Result<MotionStep, MotionError> {
        let index = self.frames;
        if self.force_zero {
            self.frames += 1;
            return Ok(MotionStep {
                index,
                motion: 0.0,
                motion2: Some((index, 0.0)),
                spare: blurred,
            });
        }
        let cur = blurred.ok_or(MotionError::NotBlurred { frame: index })?;
        let Some(prev) = self.prev.take() else {
            self.prev = Some(cur);
            self.frames += 1;
            return Ok(MotionStep {
                index,
                motion: 0.0,
                motion2: Some((0, 0.0)),
                spare: None,
            });
        };
        if (prev.width, prev.height) != (cur.width, cur.height) {
            let err = MotionError::SizeChanged {
                frame: index,
                width: prev.width,
                height: prev.height,
                got_width: cur.width,
                got_height: cur.height,
            };
            self.prev = Some(prev);
            return Err(err);
        }
        let motion = motion_between(&prev, &cur);
        self.prev = Some(cur);
        Ok(self.advance(motion, Some(prev)))
    }

    /// Counts the next frame, whose motion against the frame before is `motion`, and says what
    /// that gives.
    fn advance(&mut self, motion: f64, spare: Option<Blurred>) -> MotionStep {
        let index = self.frames;
        // libvmaf recomputes the previous frame's score here from the same two pictures; it is
        // the one kept.
        let motion2 = (index >= 2).then(|| (index - 1, self.prev_score.min(motion)));
        self.prev_score = motion;
        self.frames += 1;
        MotionStep {
            index,
            motion,
            motion2,
            spare,
        }
    }

    /// [`push`](Self::push) of the next frame's reference luma itself, blurred here over the
    /// previous frame's blurred picture ([`blur_over`]), so that the sequence keeps one blurred
    /// picture where blurring each frame apart keeps two. `band` is scratch memory the caller
    /// keeps between frames. The scores are [`push`](Self::push)'s; no spare picture comes
    /// back.
    ///
    /// # Panics
    /// As [`blur`].
    pub fn push_in_place(
        &mut self,
        luma: &Luma<'_>,
        band: &mut Vec<u16>,
    ) -> Result<MotionStep, MotionError> {
        if self.force_zero {
            return self.push(None);
        }
        let index = self.frames;
        let Some(prev) = self.prev.as_mut() else {
            return self.push(Some(blur(luma)));
        };
        if (prev.width, prev.height) != (luma.width(), luma.height()) {
            return Err(MotionError::SizeChanged {
                frame: index,
                width: prev.width,
                height: prev.height,
                got_width: luma.width(),
                got_height: luma.height(),
            });
        }
        let motion = score(blur_over(luma, prev, band), prev.width, prev.height);
        Ok(self.advance(motion, None))
    }

    /// Ends the sequence: the last frame's motion2 score, unless it was already given (one
    /// frame, forced zero, or nothing pushed).
    pub fn finish(self) -> Option<(u32, f64)> {
        (!self.force_zero && self.frames >= 2).then(|| (self.frames - 1, self.prev_score))
    }
}

/// A plain transcription of libvmaf's C code: full-frame vertical pass into a 16-bit picture with
/// libvmaf's edge handling, horizontal pass, SAD with a 32-bit row sum.
#[cfg(test)]
mod reference {
    use super::{Blurred, FILTER};
    use crate::frame::{Plane, Sample};

    fn edge(i: isize, n: usize) -> usize {
        if i < 0 {
            (-i) as usize
        } else if i as usize >= n {
            n - (i as usize - n + 1)
        } else {
            i as usize
        }
    }

    pub(super) fn blur<T: Sample>(src: &Plane<'_, T>, shift: u32) -> Blurred {
        let (w, h) = (src.width(), src.height());
        let add = 1u32 << (shift - 1);
        let mut tmp = vec![0u16; w * h];
        for i in 0..h {
            for j in 0..w {
                let mut accum = 0u32;
                for (k, f) in FILTER.iter().enumerate() {
                    let y = edge(i as isize - 2 + k as isize, h);
                    accum += f * src.row(y)[j].to_u32();
                }
                tmp[i * w + j] = ((accum + add) >> shift) as u16;
            }
        }
        let mut data = vec![0u16; w * h];
        for i in 0..h {
            for j in 0..w {
                let mut accum = 0u32;
                for (k, f) in FILTER.iter().enumerate() {
                    let x = edge(j as isize - 2 + k as isize, w);
                    accum += f * tmp[i * w + x] as u32;
                }
                data[i * w + j] = ((accum + 32768) >> 16) as u16;
            }
        }
        Blurred {
            width: w,
            height: h,
            data,
        }
    }

    pub(super) fn sad(a: &Blurred, b: &Blurred) -> u64 {
        let mut sad = 0u64;
        for i in 0..a.height {
            let mut inner = 0u32;
            for j in 0..a.width {
                let d = a.data[i * a.width + j] as i32 - b.data[i * b.width + j] as i32;
                inner = inner.wrapping_add(d.unsigned_abs());
            }
            sad += inner as u64;
        }
        sad
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{ChromaSampling, OwnedFrame};
    use crate::testutil::{pair, Lcg};
    use crate::vmaf::{VmafConfig, VmafScorer};

    /// A sequence of `n` pictures at `bpc` bits: one generated picture seen through a window that
    /// moves a few samples per frame, with fresh noise in every frame, a frame that repeats its
    /// predecessor and a scene cut. Luma rows are `pad` samples longer than the picture.
    fn sequence(w: usize, h: usize, bpc: u8, n: usize, pad: usize) -> Vec<OwnedFrame<u16>> {
        let (base, _) = pair(w + 12, h + 12, bpc, 0, 7);
        let (cut, _) = pair(w + 12, h + 12, bpc, 0, 99);
        let max = (1i64 << bpc) - 1;
        let mut rng = Lcg(5);
        let mut frames: Vec<OwnedFrame<u16>> = Vec::new();
        for k in 0..n {
            if k == 3 {
                frames.push(frames[2].clone());
                continue;
            }
            let src = if k >= 5 { &cut } else { &base };
            let (dx, dy) = ((k * 3) % 7, (k * 2) % 5);
            let mut f = OwnedFrame::<u16>::new(w, h, bpc, ChromaSampling::Cs444);
            let stride = w + pad;
            f.planes[0] = vec![0; stride * h];
            f.strides[0] = stride;
            let amp = 1i64 << (bpc - 8);
            for y in 0..h {
                for x in 0..w {
                    let v = src.planes[0][(y + dy) * (w + 12) + x + dx] as i64;
                    let noise = (rng.next() % (4 * amp as u32 + 1)) as i64 - 2 * amp;
                    f.planes[0][y * stride + x] = (v + noise).clamp(0, max) as u16;
                }
            }
            for p in 1..3 {
                f.planes[p] = src.planes[p][..w * h].to_vec();
            }
            frames.push(f);
        }
        frames
    }

    /// The same frames with 8-bit samples.
    fn to8(frames: &[OwnedFrame<u16>]) -> Vec<OwnedFrame<u8>> {
        frames
            .iter()
            .map(|f| OwnedFrame::<u8> {
                planes: std::array::from_fn(|i| f.planes[i].iter().map(|&v| v as u8).collect()),
                width: f.width,
                height: f.height,
                strides: f.strides,
                bit_depth: 8,
                sampling: f.sampling,
            })
            .collect()
    }

    /// libvmaf's per-frame motion and motion2 of a sequence (each frame scored against itself).
    fn libvmaf_motion<T: Sample>(
        frames: &[OwnedFrame<T>],
        cpumask: u64,
        n_subsample: u32,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut s = VmafScorer::new(VmafConfig {
            models: vec![],
            features: vec!["motion".into()],
            cpumask,
            n_subsample,
            ..Default::default()
        })
        .unwrap();
        for f in frames {
            s.push(&f.view().unwrap(), &f.view().unwrap()).unwrap();
        }
        let mut res = s.finish().unwrap();
        (
            res.features.remove("integer_motion").unwrap(),
            res.features.remove("integer_motion2").unwrap(),
        )
    }

    /// rdbench's motion and motion2 of a sequence, frame by frame, from the given blur.
    fn native_motion(
        luma: &[Luma<'_>],
        blur: impl Fn(&Luma<'_>) -> Blurred,
    ) -> (Vec<f64>, Vec<f64>) {
        let n = luma.len();
        let mut motion = vec![f64::NAN; n];
        let mut motion2 = vec![f64::NAN; n];
        let mut m = Motion::new(false);
        for l in luma {
            let step = m.push(Some(blur(l))).unwrap();
            motion[step.index as usize] = step.motion;
            if let Some((i, s)) = step.motion2 {
                assert!(
                    motion2[i as usize].is_nan(),
                    "motion2 of frame {i} given twice"
                );
                motion2[i as usize] = s;
            }
        }
        if let Some((i, s)) = m.finish() {
            motion2[i as usize] = s;
        }
        (motion, motion2)
    }

    /// [`native_motion`] with each frame blurred over the one before ([`Motion::push_in_place`]).
    fn native_motion_in_place(luma: &[Luma<'_>]) -> (Vec<f64>, Vec<f64>) {
        let n = luma.len();
        let mut motion = vec![f64::NAN; n];
        let mut motion2 = vec![f64::NAN; n];
        let mut m = Motion::new(false);
        let mut band = Vec::new();
        for l in luma {
            let step = m.push_in_place(l, &mut band).unwrap();
            assert!(step.spare.is_none(), "no picture is spare in place");
            motion[step.index as usize] = step.motion;
            if let Some((i, s)) = step.motion2 {
                motion2[i as usize] = s;
            }
        }
        if let Some((i, s)) = m.finish() {
            motion2[i as usize] = s;
        }
        (motion, motion2)
    }

    fn lumas<T: Sample>(frames: &[OwnedFrame<T>], bpc: u8) -> Vec<Luma<'_>> {
        frames
            .iter()
            .map(|f| {
                let v = f.view().unwrap();
                let p = *v.luma();
                match (T::as_u8_plane(&p), T::as_u16_plane(&p)) {
                    (Some(p), _) => Luma::Bits8(p),
                    (_, Some(p)) => Luma::High(p, bpc),
                    _ => unreachable!(),
                }
            })
            .collect()
    }

    fn check<T: Sample>(frames: &[OwnedFrame<T>], bpc: u8, what: &str) {
        let w = frames[0].width;
        let want = libvmaf_motion(frames, 255, 1);
        if w >= 16 {
            // libvmaf's AVX2 horizontal filter equals its C code (and crashes below 16 wide).
            assert_eq!(
                libvmaf_motion(frames, 0, 1),
                want,
                "{what}: libvmaf's AVX2 and C differ"
            );
        }
        assert!(
            want.0.iter().any(|&m| m > 0.0),
            "{what}: a still sequence checks little"
        );
        let luma = lumas(frames, bpc);
        let scalar = native_motion(&luma, |l| match l {
            Luma::Bits8(p) => reference::blur(p, 8),
            Luma::High(p, bpc) => reference::blur(p, *bpc as u32),
        });
        assert_eq!(
            scalar, want,
            "{what}: the scalar reference differs from libvmaf"
        );
        for (arch, got) in simd::on_every_arch(|| native_motion(&luma, blur)) {
            assert_eq!(got, want, "{what} on {arch}");
        }
        // Blurred over the previous frame, band by band (heights that end in a partial band).
        for (arch, got) in simd::on_every_arch(|| native_motion_in_place(&luma)) {
            assert_eq!(got, want, "{what} in place on {arch}");
        }
    }

    #[test]
    fn motion_equals_libvmafs_every_frame_on_every_instruction_set() {
        for (w, h, pad) in [
            (64, 48, 0),
            (67, 45, 5),
            (16, 16, 3),
            (33, 17, 0),
            (250, 131, 7),
        ] {
            let frames = to8(&sequence(w, h, 8, 8, pad));
            check(&frames, 8, &format!("{w}x{h} 8-bit"));
        }
    }

    #[test]
    fn high_bit_depth_motion_equals_libvmafs_every_frame_on_every_instruction_set() {
        for (w, h, bpc, pad) in [
            (64, 48, 10, 0),
            (67, 45, 10, 3),
            (33, 17, 12, 0),
            (130, 71, 12, 2),
            (48, 20, 16, 0),
        ] {
            let frames = sequence(w, h, bpc, 7, pad);
            check(&frames, bpc, &format!("{w}x{h} {bpc}-bit"));
        }
    }

    #[test]
    fn pictures_narrower_than_libvmafs_avx2_block_equal_its_c_code() {
        for (w, h) in [(3, 3), (5, 4), (9, 7), (15, 30)] {
            let frames = to8(&sequence(w, h, 8, 5, 1));
            check(&frames, 8, &format!("{w}x{h} 8-bit"));
        }
    }

    #[test]
    fn fast_blur_and_sad_equal_the_reference_on_every_instruction_set() {
        let frames = sequence(257, 40, 10, 3, 4);
        let luma = lumas(&frames, 10);
        let want: Vec<Blurred> = luma
            .iter()
            .map(|l| match l {
                Luma::High(p, b) => reference::blur(p, *b as u32),
                Luma::Bits8(_) => unreachable!(),
            })
            .collect();
        for (arch, got) in simd::on_every_arch(|| luma.iter().map(blur).collect::<Vec<_>>()) {
            assert_eq!(got, want, "blur on {arch}");
        }
        for (arch, got) in simd::on_every_arch(|| sad(&want[0], &want[2])) {
            assert_eq!(got, reference::sad(&want[0], &want[2]), "sad on {arch}");
        }
    }

    /// The 8-bit blur (AVX-512's own kernel where the CPU has it) on noise, extremes and
    /// widths that leave partial last blocks, against the plain transcription.
    #[test]
    fn the_8_bit_blur_equals_the_reference_on_every_instruction_set() {
        let mut rng = Lcg(11);
        for (w, h) in [(32, 9), (33, 7), (63, 12), (64, 5), (100, 17), (257, 6)] {
            let noise: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
            let extremes: Vec<u8> = (0..w * h)
                .map(|k| if (k / w + k % w / 3) % 2 == 0 { 255 } else { 0 })
                .collect();
            for (what, px) in [("noise", noise), ("extremes", extremes)] {
                let plane = Plane::new(&px, w, h, w).unwrap();
                let want = reference::blur(&plane, 8);
                for (arch, got) in simd::on_every_arch(|| blur(&Luma::Bits8(plane))) {
                    assert_eq!(got, want, "{what} {w}x{h} on {arch}");
                }
            }
        }
    }

    #[test]
    fn subsampled_runs_report_the_motion_of_every_frame_they_keep() {
        // Motion is temporal: libvmaf runs it on every frame and reports every Nth.
        let frames = to8(&sequence(64, 36, 8, 9, 0));
        let (m, m2) = native_motion(&lumas(&frames, 8), blur);
        let (sm, sm2) = libvmaf_motion(&frames, 0, 3);
        let keep = |v: &[f64]| v.iter().step_by(3).copied().collect::<Vec<_>>();
        assert_eq!((sm, sm2), (keep(&m), keep(&m2)));
    }

    #[test]
    fn in_place_motion_refuses_a_new_size_and_keeps_its_picture() {
        let frames = to8(&sequence(64, 40, 8, 3, 0));
        let small = to8(&sequence(48, 40, 8, 1, 0));
        let (luma, other) = (lumas(&frames, 8), lumas(&small, 8));
        let mut m = Motion::new(false);
        let mut band = Vec::new();
        m.push_in_place(&luma[0], &mut band).unwrap();
        assert!(matches!(
            m.push_in_place(&other[0], &mut band),
            Err(MotionError::SizeChanged { frame: 1, .. })
        ));
        // The sequence goes on from frame 0's picture, as if the refused frame never came.
        let step = m.push_in_place(&luma[1], &mut band).unwrap();
        assert_eq!(step.motion, native_motion(&luma[..2], blur).0[1]);
    }

    #[test]
    fn sequences_of_one_and_two_frames() {
        let frames = to8(&sequence(40, 24, 8, 2, 0));
        let luma = lumas(&frames, 8);
        for n in 1..=2 {
            let got = native_motion(&luma[..n], blur);
            assert_eq!(got, libvmaf_motion(&frames[..n], 0, 1), "{n} frames");
            assert_eq!(
                native_motion_in_place(&luma[..n]),
                got,
                "{n} frames in place"
            );
        }
    }

    #[test]
    fn forced_zero_gives_zeros_without_pictures() {
        let mut m = Motion::new(true);
        assert!(m.force_zero());
        for i in 0..3 {
            let s = m.push(None).unwrap();
            assert_eq!((s.index, s.motion, s.motion2), (i, 0.0, Some((i, 0.0))));
        }
        assert_eq!(m.finish(), None);
    }

    #[test]
    fn a_missing_picture_or_a_new_size_is_an_error() {
        let frames = to8(&sequence(40, 24, 8, 1, 0));
        let other = to8(&sequence(41, 24, 8, 1, 0));
        let mut m = Motion::default();
        assert_eq!(m.push(None), Err(MotionError::NotBlurred { frame: 0 }));
        m.push(Some(blur(&lumas(&frames, 8)[0]))).unwrap();
        assert_eq!(
            m.push(Some(blur(&lumas(&other, 8)[0]))),
            Err(MotionError::SizeChanged {
                frame: 1,
                width: 40,
                height: 24,
                got_width: 41,
                got_height: 24
            })
        );
        // The sequence goes on after the refused frame.
        let s = m.push(Some(blur(&lumas(&frames, 8)[0]))).unwrap();
        assert_eq!((s.index, s.motion), (1, 0.0));
    }
}
