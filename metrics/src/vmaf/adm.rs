//! ADM (VMAF's additive detail-loss measure) of 8- to 16-bit luma, computed exactly as libvmaf
//! 2.3.1's integer `adm` extractor computes it: [`AdmScores::adm2`] and the four per-scale
//! ratios equal libvmaf's `VMAF_integer_feature_adm2_score` (`integer_adm2`) and
//! `integer_adm_scale{0..3}` bit for bit, for the gain limit libvmaf's models set
//! (`adm_enhn_gain_limit`: 100 by default, 1 for `vmaf_v0.6.1neg`) and libvmaf's default
//! viewing model ([`NORM_VIEW_DIST`], [`REF_DISPLAY_HEIGHT`], [`CSF_MODE`]).
//!
//! libvmaf transforms 8-bit pictures whose width is a multiple of 8 with AVX2 code that departs
//! from its C code at the right edge, and the departure reaches the scores; [`Adm`] follows the
//! code libvmaf runs on the same CPU, or either one on request ([`DwtVariant`]). Pictures
//! narrower or lower than [`MIN_SIZE`], and 8-bit pictures 40 or 48 wide, make libvmaf read
//! memory it never wrote, so no kernel can equal it there: [`Adm::supports`] says no.
//!
//! How the work is organised, which is where the speed comes from (about four times faster
//! than libvmaf's extractor on one AVX2 core):
//!
//! * every scale is streamed band row by band row: the vertical then horizontal wavelet pass of
//!   one row of both pictures, its decoupling, contrast sensitivity weighting and, one row
//!   behind, its contrast masking, all while the rows are in cache; only each scale's low band
//!   is kept whole, as the next scale's input;
//! * the three detail bands, the decoupling and the weighting are computed only on the window
//!   libvmaf pools (plus the masking filter's margin), as libvmaf does, and the low band
//!   everywhere;
//! * the masking filter's 3×3 sums over three orientations become one sum over orientations
//!   and separable 3-sums;
//! * the row kernels are written with AVX2 operations by name (`adm/avx2.rs`): 16-bit
//!   multiply-adds for the transforms (scales 1 to 3 split their 32-bit values into 16-bit
//!   halves rather than use 64-bit products), exact `f64` reciprocals, exact conversions of
//!   64-bit integers to `f32`, 64-bit lanes only where libvmaf's sums need them. Portable
//!   kernels (which the compiler vectorises as it can) run where AVX2 is missing and are the
//!   AVX2 kernels' oracle in the tests.
//!
//! The whole-picture port of libvmaf's code in `reference` (test builds only) is the portable
//! kernels' oracle; the tests check both against libvmaf itself, C and AVX2 code, on every
//! instruction set, at even and odd sizes, 8 to 16 bits, and on pictures that drive every value
//! to its extreme.

use crate::frame::Plane;
use crate::simd;
use crate::vmaf::vif::LumaPair;
use pulp::{Simd, WithSimd};

/// Runs `body` for the block starts covering `0..n` with blocks of `l` lanes (`n >= l`): full
/// blocks, then one ending at `n` that may overlap the one before. A loop bound of `i + l <= n`
/// lets the compiler drop the bounds checks of loads from slices of length `n`; the body is
/// repeated for the last block rather than called through a closure, which would leave the
/// instruction set's context.
macro_rules! each_block {
    ($n:expr, $l:expr, |$i:ident| $body:block) => {{
        let (n, l) = ($n, $l);
        let mut start = 0;
        while start + l <= n {
            let $i = start;
            $body
            start += l;
        }
        if start < n {
            let $i = n - l;
            $body
        }
    }};
}

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// libvmaf's default enhancement gain limit (`adm_enhn_gain_limit`); `vmaf_v0.6.1neg` uses 1.0.
pub const DEFAULT_GAIN_LIMIT: f64 = 100.0;

/// Scale 0's contrast masking per orientation (horizontal, vertical, diagonal): the rounding
/// shift of the squared coefficient, and the shift of the threshold subtracted from it.
const CM0_SHIFT_SQ: [u32; 3] = [29, 29, 30];
const CM0_SHIFT_SUB: [u32; 3] = [10, 10, 12];

/// libvmaf's normalised viewing distance (`adm_norm_view_dist`), the only one supported.
pub const NORM_VIEW_DIST: f64 = 3.0;

/// libvmaf's reference display height in pixels (`adm_ref_display_height`), the only one supported.
pub const REF_DISPLAY_HEIGHT: i32 = 1080;

/// libvmaf's contrast sensitivity function (`ADM_CSF_MODE_WATSON97`, mode 0), the only one.
pub const CSF_MODE: i32 = 0;

/// Share of the picture left out on every side when pooling (libvmaf's `ADM_BORDER_FACTOR`).
const BORDER_FACTOR: f64 = 0.1;

/// The smallest width and height this kernel scores. Below 33, the coarsest scale's wavelet
/// transform reads outside its input in libvmaf (an index table built for at least three output
/// samples), so libvmaf's own result depends on memory it never wrote.
pub const MIN_SIZE: usize = 33;

/// Daubechies-2 analysis filters in Q15 (libvmaf's `dwt2_db2_coeffs_lo` / `_hi`).
const LO: [i32; 4] = [15826, 27411, 7345, -4240];
const HI: [i32; 4] = [-4240, -7345, 27411, -15826];
/// Sum of the low-pass taps, used to centre 8- to 16-bit samples on zero.
const LO_SUM: i32 = 46342;

/// 1/15 and 1/30 in the fixed-point formats of the contrast-masking threshold.
const ONE_BY_15: i32 = 8738;
const ONE_BY_30: i32 = 4369;
const I4_ONE_BY_15: i64 = 286331153;
const I4_ONE_BY_30: i64 = 143165577;

/// Watson's luma noise-floor model (Watson, Yang, Solomon, Villasenor 1997, table IV, "sfl").
const MODEL_A: f32 = 0.495;
const MODEL_K: f32 = 0.466;
const MODEL_F0: f32 = 0.401;
const MODEL_G: [f32; 4] = [1.501, 1.0, 0.534, 1.0];

/// Basis function amplitudes of the 7-9 biorthogonal wavelet, by scale and orientation (table V).
const BASIS_AMPLITUDES: [[f32; 4]; 6] = [
    [0.62171, 0.67234, 0.72709, 0.67234],
    [0.34537, 0.41317, 0.49428, 0.41317],
    [0.18004, 0.22727, 0.28688, 0.22727],
    [0.091401, 0.11792, 0.15214, 0.11792],
    [0.045943, 0.059758, 0.077727, 0.059758],
    [0.023013, 0.030018, 0.039156, 0.030018],
];

/// The quantisation step of scale `lambda`, orientation `theta` (libvmaf's `dwt_quant_step`),
/// with libvmaf's mix of single and double precision.
fn quant_step(lambda: usize, theta: usize) -> f32 {
    let r = (NORM_VIEW_DIST * REF_DISPLAY_HEIGHT as f64 * std::f64::consts::PI / 180.0) as f32;
    let temp = (2f64.powf((lambda + 1) as f64) * MODEL_F0 as f64 * MODEL_G[theta] as f64 / r as f64)
        .log10() as f32;
    (2.0 * MODEL_A as f64 * 10f64.powf((MODEL_K * temp * temp) as f64)
        / BASIS_AMPLITUDES[lambda][theta] as f64) as f32
}

/// The four taps of output `i` of a decimating pass over `n` samples (libvmaf's
/// `dwt2_src_indices_filt`): `2i - 1 ..= 2i + 2`, reflected about 0 at the start (-1 is 1) and
/// mirrored with the edge sample repeated at the end (n is n - 1).
pub(crate) fn dwt_taps(i: usize, n: usize) -> [usize; 4] {
    if i == 0 {
        return [1, 0, 1, 2];
    }
    let m = |k: usize| if k >= n { 2 * n - k - 1 } else { k };
    [m(2 * i - 1), m(2 * i), m(2 * i + 1), m(2 * i + 2)]
}

/// Scores of one frame pair.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdmScores {
    /// `adm2`: the detail-loss ratio pooled over the four scales (libvmaf's
    /// `VMAF_integer_feature_adm2_score`, the VMAF models' ADM feature).
    pub adm2: f64,
    /// The ratio of each scale alone, finest first (libvmaf's `integer_adm_scale0..3`).
    pub scales: [f64; 4],
}

/// Numerator and denominator of one scale, as libvmaf keeps them (`float`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ScaleNumDen {
    pub(crate) num: f32,
    pub(crate) den: f32,
}

/// libvmaf's final combination of the four scales (`integer_compute_adm` and `extract`).
pub(crate) fn combine(scales: &[ScaleNumDen; 4], w: usize, h: usize) -> AdmScores {
    let limit = 1e-10 * (w as i32 * h as i32) as f64 / (1920.0 * 1080.0);
    let mut num = 0f64;
    let mut den = 0f64;
    for s in scales {
        num += s.num as f64;
        den += s.den as f64;
    }
    let num = if num < limit { 0.0 } else { num };
    let den = if den < limit { 0.0 } else { den };
    let adm2 = if den == 0.0 { 1.0 } else { num / den };
    AdmScores {
        adm2,
        scales: scales.map(|s| s.num as f64 / s.den as f64),
    }
}

/// Constants derived from the options, computed once per kernel.
#[derive(Clone, Debug)]
pub(crate) struct Params {
    pub(crate) gain_limit: f64,
    /// cos²(1°) in single precision, the angle test's threshold.
    pub(crate) cos_1deg_sq: f32,
    /// 1 / quantisation step of the (h, v, d) orientations, per scale.
    pub(crate) rfactor: [[f32; 3]; 4],
    /// The same for scale 0 in Q21 (h, v) and Q23 (d).
    pub(crate) i_rfactor0: [i32; 3],
    /// The same for scales 1 to 3 in Q32 (index 0 unused).
    pub(crate) i_rfactor: [[u32; 3]; 4],
}

impl Params {
    /// The gain limit when it is a whole number (libvmaf's default 100 and the NEG models' 1):
    /// then `rst * gain` is an exact integer and 32-bit lanes reproduce libvmaf's `f64` limit.
    pub(crate) fn integer_gain(&self) -> Option<i32> {
        let g = self.gain_limit;
        (g.fract() == 0.0 && (1.0..=100.0).contains(&g)).then_some(g as i32)
    }

    pub(crate) fn new(gain_limit: f64) -> Self {
        let cos1 = (1.0 * std::f64::consts::PI / 180.0).cos();
        let rfactor: [[f32; 3]; 4] = std::array::from_fn(|s| {
            let (f1, f2) = (quant_step(s, 1), quant_step(s, 2));
            [1.0f32 / f1, 1.0f32 / f1, 1.0f32 / f2]
        });
        let i_rfactor0 = if (NORM_VIEW_DIST * REF_DISPLAY_HEIGHT as f64 - 3.0 * 1080.0).abs() < 1e-8
        {
            [36453, 36453, 49417]
        } else {
            let r = rfactor[0];
            [
                (r[0] as f64 * 2f64.powi(21)) as u16 as i32,
                (r[1] as f64 * 2f64.powi(21)) as u16 as i32,
                (r[2] as f64 * 2f64.powi(23)) as u16 as i32,
            ]
        };
        let i_rfactor =
            std::array::from_fn(|s| rfactor[s].map(|r| (r as f64 * 2f64.powi(32)) as u32));
        Self {
            gain_limit,
            cos_1deg_sq: (cos1 * cos1) as f32,
            rfactor,
            i_rfactor0,
            i_rfactor,
        }
    }
}

/// The rows or columns a scale's statistics pool over: `n` × 10 % left out at each end.
#[inline]
pub(crate) fn pool_range(n: usize) -> (usize, usize) {
    let l = (n as f64 * BORDER_FACTOR - 0.5) as i32;
    (l as usize, (n as i32 - l) as usize)
}

/// The rows or columns decoupling and the CSF are computed on: the pooled range and one more
/// on each side for the masking filter (libvmaf's `-1` / `+2`).
#[inline]
pub(crate) fn ext_range(n: usize) -> (usize, usize) {
    let l = (n as f64 * BORDER_FACTOR - 0.5 - 1.0) as i32;
    let r = n as i32 - l + 2;
    (l.max(0) as usize, r.min(n as i32) as usize)
}

/// `(uint32_t)ceil(x)` of a value that may be negative, as x86-64 converts it.
#[inline]
fn ceil_u32(x: f64) -> u32 {
    x.ceil() as i64 as u32
}

/// `(uint32_t)pow(2, shift - 1)`: half of `1 << shift`, and 0 for a zero shift (libvmaf's `pow`
/// overflows to infinity there, which x86-64 converts to 0).
#[inline]
fn half_of(shift: u32) -> u32 {
    if shift == 0 {
        0
    } else {
        1u32 << (shift - 1)
    }
}

/// Shifts of scale 0's denominator: by how much each row's sum of cubes is reduced.
#[inline]
pub(crate) fn den0_shift(area: usize) -> u32 {
    let s = ((area as f64).log2() - 20.0).ceil() as i32;
    s.max(0) as u32
}

/// `powf(x, 1/3)` as libvmaf takes cube roots.
#[inline]
fn cbrt_f32(x: f32) -> f32 {
    x.powf(1.0f32 / 3.0f32)
}

/// The pooled area's share of a scale's num or den, `((bottom - top) * (right - left) / 32)^(1/3)`.
#[inline]
fn area_term(w: usize, h: usize) -> f32 {
    let (l, r) = pool_range(w);
    let (t, b) = pool_range(h);
    cbrt_f32(((b - t) * (r - l)) as i32 as f32 / 32.0f32)
}

/// Scale 0's denominator from the per-orientation sums of cubed reference coefficients
/// (libvmaf's `adm_csf_den_scale`).
pub(crate) fn den_s0(accum: [u64; 3], p: &Params, w: usize, h: usize) -> f32 {
    let (l, r) = pool_range(w);
    let (t, b) = pool_range(h);
    let shift = den0_shift((b - t) * (r - l));
    let shift_csf = 2f64.powf((18 - shift as i32) as f64);
    let rf = p.rfactor[0];
    let add = area_term(w, h);
    let mut out = 0f32;
    for k in 0..3 {
        let csf = (accum[k] as f64 / shift_csf) * (rf[k] as f64).powf(3.0);
        out += cbrt_f32(csf as f32) + add;
    }
    out
}

/// Shifts of scale 0's numerator: (cube shift of h and v, of d, row-sum shift).
#[inline]
pub(crate) fn num0_shifts(w: usize, h: usize) -> (u32, u32, u32) {
    let lw = (w as f64).log2();
    (
        ceil_u32(lw - 4.0),
        ceil_u32(lw - 3.0),
        ceil_u32((h as f64).log2()),
    )
}

/// Scale 0's numerator from the per-orientation contrast-masked sums (libvmaf's `adm_cm`).
pub(crate) fn num_s0(accum: [i64; 3], w: usize, h: usize) -> f32 {
    let (shift_hv, shift_d, shift_rows) = num0_shifts(w, h);
    let add = area_term(w, h);
    let exps = [
        52u32.wrapping_sub(shift_hv).wrapping_sub(shift_rows),
        52u32.wrapping_sub(shift_hv).wrapping_sub(shift_rows),
        57u32.wrapping_sub(shift_d).wrapping_sub(shift_rows),
    ];
    let mut out = 0f32;
    for k in 0..3 {
        let f = (accum[k] as f64 / 2f64.powf(exps[k] as f64)) as f32;
        out += cbrt_f32(f) + add;
    }
    out
}

/// Shifts of the denominator of scales 1 to 3: (cube shift, row-sum shift).
#[inline]
pub(crate) fn den123_shifts(w: usize, h: usize) -> (u32, u32) {
    let (l, r) = pool_range(w);
    let (t, b) = pool_range(h);
    (
        ceil_u32(((r - l) as f64).log2()),
        ceil_u32(((b - t) as f64).log2()),
    )
}

/// The denominator of scale `s` (1 to 3) from the per-orientation sums (`adm_csf_den_s123`).
pub(crate) fn den_s123(accum: [u64; 3], s: usize, p: &Params, w: usize, h: usize) -> f32 {
    const CONVERT: [u32; 3] = [32, 27, 23];
    let (shift_cub, shift_rows) = den123_shifts(w, h);
    let e = CONVERT[s - 1]
        .wrapping_sub(shift_rows)
        .wrapping_sub(shift_cub);
    let shift_csf = 2f64.powf(e as f64);
    let rf = p.rfactor[s];
    let add = area_term(w, h);
    let mut out = 0f32;
    for k in 0..3 {
        let csf = (accum[k] as f64 / shift_csf) * (rf[k] as f64).powf(3.0);
        out += cbrt_f32(csf as f32) + add;
    }
    out
}

/// Shifts of the numerator of scales 1 to 3: (cube shift, row-sum shift).
#[inline]
pub(crate) fn num123_shifts(w: usize, h: usize) -> (u32, u32) {
    (ceil_u32((w as f64).log2()), ceil_u32((h as f64).log2()))
}

/// The numerator of scale `s` (1 to 3) from the per-orientation sums (`i4_adm_cm`); libvmaf
/// divides by its power of two in single precision here.
pub(crate) fn num_s123(accum: [i64; 3], s: usize, w: usize, h: usize) -> f32 {
    const BASE: [u32; 3] = [45, 39, 36];
    let (shift_cub, shift_rows) = num123_shifts(w, h);
    let e = BASE[s - 1].wrapping_sub(shift_cub).wrapping_sub(shift_rows);
    let final_shift = 2f64.powf(e as f64) as f32;
    let add = area_term(w, h);
    let mut out = 0f32;
    for a in accum {
        out += cbrt_f32(a as f32 / final_shift) + add;
    }
    out
}

/// Which of libvmaf's two scale-0 transforms of 8-bit pictures to follow.
///
/// libvmaf runs an AVX2 transform on 8-bit pictures whose width is a multiple of 8 when the CPU
/// has AVX2, and its C transform otherwise. The two differ at the right edge: the AVX2 one does
/// not mirror the last output column's fourth tap but reads one intermediate sample past the
/// row. For the low-pass row that is the first sample of the high-pass row stored after it
/// (for widths of 16k + 8, the transform of the zeroed padding libvmaf's pictures carry, which
/// also overwrites the first eight high-pass samples). That column feeds the last column of
/// every coarser scale, which the pooling takes in only where a scale is under 25 samples wide:
/// the two transforms can give different scores only for widths up to 384 (the coarsest scale
/// is a sixteenth as wide), and the kernel follows either. For the high-pass row the sample
/// past the end is memory left from an earlier frame (or, at 16k + 8, zero), which reaches
/// the scores only below 50 pixels wide: at the widths [`Adm::supports`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DwtVariant {
    /// libvmaf's C code (`adm_dwt2_8`), which runs without AVX2 (or with `cpumask` masking it).
    C,
    /// libvmaf's AVX2 code (`adm_dwt2_8_avx2`).
    Avx2,
}

impl DwtVariant {
    /// The transform libvmaf picks on this CPU (with an empty `cpumask`).
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return DwtVariant::Avx2;
        }
        DwtVariant::C
    }
}

/// What libvmaf's AVX2 transform of 8-bit pictures 16k + 8 wide stores for the zeroed padding
/// past each row: the low-pass of zeros, centred, and the high-pass of zeros.
const AVX2_PAD_LO: i16 = ((-LO_SUM * 128 + 128) >> 8) as i16;
const AVX2_PAD_HI: i16 = 0;

/// Reusable ADM state: the constants derived from the options and the row buffers and low
/// bands the kernel streams through, kept from frame to frame so that scoring a sequence
/// allocates only for its first frame (and when the size changes).
pub struct Adm {
    params: Params,
    variant: DwtVariant,
    work: Work,
}

impl std::fmt::Debug for Adm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adm")
            .field("gain_limit", &self.params.gain_limit)
            .field("variant", &self.variant)
            .finish()
    }
}

impl Default for Adm {
    fn default() -> Self {
        Self::new(DEFAULT_GAIN_LIMIT)
    }
}

impl Adm {
    /// A kernel with libvmaf's `adm_enhn_gain_limit` option set to `gain_limit` (libvmaf accepts
    /// 1 to 100), following the transform libvmaf runs on this CPU ([`DwtVariant::detect`]).
    pub fn new(gain_limit: f64) -> Self {
        Self::with_variant(gain_limit, DwtVariant::detect())
    }

    /// A kernel following libvmaf's `variant` of the 8-bit transform.
    pub fn with_variant(gain_limit: f64, variant: DwtVariant) -> Self {
        Self {
            params: Params::new(gain_limit),
            variant,
            work: Work::default(),
        }
    }

    /// Whether a `w`×`h` picture can be scored exactly as libvmaf scores it: both at least
    /// [`MIN_SIZE`], and the width not 40 or 48, where libvmaf's AVX2 transform of 8-bit
    /// pictures lets memory it never wrote into the scores (see [`DwtVariant`]).
    pub fn supports(w: usize, h: usize) -> bool {
        w >= MIN_SIZE && h >= MIN_SIZE && w != 40 && w != 48
    }

    fn check<T: crate::frame::Sample>(r: &Plane<'_, T>, d: &Plane<'_, T>) {
        let (w, h) = (r.width(), r.height());
        assert!(
            (w, h) == (d.width(), d.height()) && Self::supports(w, h),
            "ADM needs two planes of one size that Adm::supports, not {w}x{h}"
        );
    }

    /// ADM between two 8-bit luma planes of the same size.
    ///
    /// # Panics
    /// If the planes differ in size or [`Adm::supports`] refuses their size; callers check it.
    pub fn scores(&mut self, reference: &Plane<'_, u8>, distorted: &Plane<'_, u8>) -> AdmScores {
        Self::check(reference, distorted);
        self.run(Source::U8(reference, distorted))
    }

    /// ADM between two luma planes of `bpc`-bit video (9 to 16 bits) held in 16-bit words.
    ///
    /// # Panics
    /// As [`Adm::scores`], and if `bpc` is not within 9..=16.
    pub fn scores_hbd(
        &mut self,
        reference: &Plane<'_, u16>,
        distorted: &Plane<'_, u16>,
        bpc: u8,
    ) -> AdmScores {
        Self::check(reference, distorted);
        assert!(
            (9..=16).contains(&bpc),
            "high-bit-depth ADM needs 9 to 16 bits, not {bpc}"
        );
        self.run(Source::U16(reference, distorted, bpc as u32))
    }

    fn run(&mut self, source: Source<'_, '_>) -> AdmScores {
        let (w, h) = match source {
            Source::U8(r, _) => (r.width(), r.height()),
            Source::U16(r, _, _) => (r.width(), r.height()),
            Source::Low => unreachable!("a frame starts from pictures"),
        };
        let scales = simd::dispatch(Run {
            params: &self.params,
            work: &mut self.work,
            source,
            avx2: self.variant == DwtVariant::Avx2,
        });
        combine(&scales, w, h)
    }

    /// [`Adm::scores`] or [`Adm::scores_hbd`], as the pair is.
    pub fn score(&mut self, pair: &LumaPair<'_>) -> AdmScores {
        match pair {
            LumaPair::Bits8(r, d) => self.scores(r, d),
            LumaPair::High(r, d, bpc) => self.scores_hbd(r, d, *bpc),
        }
    }
}

/// The work buffers of the fast kernel, kept between frames.
#[derive(Default)]
struct Work {
    /// Vertical pass outputs (low-pass, high-pass) of the reference (0) and distorted (1)
    /// pictures for one band row: sample `x` at `x + 1`, with the mirrored samples at both ends.
    /// Scale 0 keeps them in 16 bits, as libvmaf does; scales 1 to 3 in 32.
    v16lo: [Vec<i16>; 2],
    v16hi: [Vec<i16>; 2],
    vlo: [Vec<i32>; 2],
    vhi: [Vec<i32>; 2],
    /// One band row of (h, v, d) coefficients, reference and distorted.
    band: [[Vec<i32>; 3]; 2],
    /// The low band of scale 0 (scale 1's input), reference and distorted, in 16 bits as
    /// libvmaf keeps it.
    low0: [Vec<i16>; 2],
    /// The low bands of scales 1 and 2 (the next scale's input).
    low: [[Vec<i32>; 2]; 2],
    /// A padded row of 32-bit values split into 16-bit halves: (high, low) of the low-pass
    /// row, then of the high-pass row (see `avx2::split_row`).
    split: [Vec<i16>; 4],
    /// The restored part of the last two rows (by row parity), (h, v, d).
    rest: [[Vec<i32>; 3]; 2],
    /// The masking threshold's centre terms minus the filter sum, last two rows.
    centre: [Vec<i32>; 2],
    /// The additive part of the current row, (h, v, d).
    add: [Vec<i32>; 3],
    /// The masking filter summed over the orientations for the current row, `x` at `x + 1`.
    filt: Vec<i32>,
    /// Horizontal 3-sums of `filt`, last three rows (by row modulo 3).
    hsum: [Vec<i32>; 3],
}

/// Sets `v` to `n` zeros, keeping its allocation.
fn fit<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    v.clear();
    v.resize(n, T::default());
}

/// Fills the mirrored samples of a padded row holding `w` samples from index 1: x = -1 is
/// x = 1; x = w and w + 1 are x = w - 1 and w - 2.
#[inline(always)]
fn pad_row<T: Copy>(v: &mut [T], w: usize) {
    v[0] = v[2];
    v[w + 1] = v[w];
    v[w + 2] = v[w - 1];
}

/// The source rows of one scale: the pictures at scale 0, the previous low band below.
#[derive(Clone, Copy)]
enum Source<'a, 'b> {
    U8(&'a Plane<'b, u8>, &'a Plane<'b, u8>),
    U16(&'a Plane<'b, u16>, &'a Plane<'b, u16>, u32),
    Low,
}

/// The four taps `c` on samples `s`, in wrapping 32-bit arithmetic as libvmaf's `int32_t`.
#[inline(always)]
fn taps4(c: &[i32; 4], s: [i32; 4]) -> i32 {
    c[0].wrapping_mul(s[0])
        .wrapping_add(c[1].wrapping_mul(s[1]))
        .wrapping_add(c[2].wrapping_mul(s[2]))
        .wrapping_add(c[3].wrapping_mul(s[3]))
}

/// The four taps `c` on samples `s`, in 64 bits.
#[inline(always)]
fn taps4_64(c: &[i32; 4], s: [i32; 4]) -> i64 {
    c[0] as i64 * s[0] as i64
        + c[1] as i64 * s[1] as i64
        + c[2] as i64 * s[2] as i64
        + c[3] as i64 * s[3] as i64
}

// The portable kernels are written without closures around their loops: a closure that is not
// inlined would be compiled outside the dispatched instruction set's context.

/// Scale 0's vertical pass over one row: the four tap rows of `bits`-bit samples, centred and
/// rounded to 16 bits as libvmaf stores them.
#[inline(always)]
fn vert0<T: Copy + Into<i32>>(rows: [&[T]; 4], bits: u32, lo: &mut [i16], hi: Option<&mut [i16]>) {
    let n = lo.len();
    let (r0, r1, r2, r3) = (&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]);
    let add = 1i32 << (bits - 1);
    let bias = add.wrapping_sub(LO_SUM.wrapping_mul(add));
    for x in 0..n {
        let s = [r0[x].into(), r1[x].into(), r2[x].into(), r3[x].into()];
        lo[x] = (taps4(&LO, s).wrapping_add(bias) >> bits) as i16;
    }
    if let Some(hi) = hi {
        let hi = &mut hi[..n];
        for x in 0..n {
            let s = [r0[x].into(), r1[x].into(), r2[x].into(), r3[x].into()];
            hi[x] = (taps4(&HI, s).wrapping_add(add) >> bits) as i16;
        }
    }
}

/// The vertical pass of scales 1 to 3 over one row, in 64 bits, rounded by `round` and shifted
/// by `shift`, stored in 32 bits as libvmaf does.
#[inline(always)]
fn vert123<T: Copy + Into<i32>>(
    rows: [&[T]; 4],
    round: i64,
    shift: u32,
    lo: &mut [i32],
    hi: Option<&mut [i32]>,
) {
    let n = lo.len();
    let (r0, r1, r2, r3) = (&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]);
    for x in 0..n {
        let s = [r0[x].into(), r1[x].into(), r2[x].into(), r3[x].into()];
        lo[x] = ((taps4_64(&LO, s) + round) >> shift) as i32;
    }
    if let Some(hi) = hi {
        let hi = &mut hi[..n];
        for x in 0..n {
            let s = [r0[x].into(), r1[x].into(), r2[x].into(), r3[x].into()];
            hi[x] = ((taps4_64(&HI, s) + round) >> shift) as i32;
        }
    }
}

/// Scale 0's horizontal pass: outputs `j0..j0 + out.len()` of the padded row `buf`, rounded to
/// 16 bits.
#[inline(always)]
fn horiz0(buf: &[i16], c: &[i32; 4], out: &mut [i32], j0: usize) {
    let n = out.len();
    let b = &buf[2 * j0..2 * (j0 + n) + 2];
    for (jj, o) in out.iter_mut().enumerate() {
        let acc = c[0] * b[2 * jj] as i32
            + c[1] * b[2 * jj + 1] as i32
            + c[2] * b[2 * jj + 2] as i32
            + c[3] * b[2 * jj + 3] as i32;
        *o = ((acc + 32768) >> 16) as i16 as i32;
    }
}

/// Scale 0's horizontal pass into 16-bit outputs, as libvmaf stores the low band.
#[inline(always)]
fn horiz0_16(buf: &[i16], c: &[i32; 4], out: &mut [i16]) {
    let n = out.len();
    let b = &buf[..2 * n + 2];
    for (j, o) in out.iter_mut().enumerate() {
        let acc = c[0] * b[2 * j] as i32
            + c[1] * b[2 * j + 1] as i32
            + c[2] * b[2 * j + 2] as i32
            + c[3] * b[2 * j + 3] as i32;
        *o = ((acc + 32768) >> 16) as i16;
    }
}

/// The horizontal pass of scales 1 to 3, in 64 bits.
#[inline(always)]
fn horiz123(buf: &[i32], c: &[i32; 4], round: i64, shift: u32, out: &mut [i32], j0: usize) {
    let n = out.len();
    let b = &buf[2 * j0..2 * (j0 + n) + 2];
    for (jj, o) in out.iter_mut().enumerate() {
        let acc = c[0] as i64 * b[2 * jj] as i64
            + c[1] as i64 * b[2 * jj + 1] as i64
            + c[2] as i64 * b[2 * jj + 2] as i64
            + c[3] as i64 * b[2 * jj + 3] as i64;
        *o = ((acc + round) >> shift) as i32;
    }
}

/// libvmaf's angle test on values already converted to `f32` (then widened): the dot product
/// and the two squared magnitudes. The divisions by 4096 libvmaf applies scale both sides by
/// 2^-24 exactly, so they are left out.
#[inline(always)]
fn angle_ok(cos_sq: f64, dot: f64, omag: f64, tmag: f64) -> bool {
    dot >= 0.0 && dot * dot >= cos_sq * omag * tmag
}

/// The restored coefficient after libvmaf's enhancement limit, from the exact `rst` (as `f64`),
/// the gain `k`, both coefficients and the angle test.
#[inline(always)]
fn limited(rst: f64, k: f64, o: f64, t: f64, angle: bool, gain: f64) -> f64 {
    let x = rst * gain;
    let lo = if x < t { x } else { t };
    let hi = if x > t { x } else { t };
    let on = angle && k > 0.0;
    if on && o > 0.0 {
        lo
    } else if on && o < 0.0 {
        hi
    } else {
        rst
    }
}

/// Scale 0's decoupling of one row segment: reference bands `o`, distorted `t` (h, v, d), into
/// the restored `r` and additive `a` parts. Everything is exact in `f64`: the reciprocal
/// 2^30 / |o| truncates correctly from a rounded quotient (its fraction, when not zero, is at
/// least 2^-15, far above the rounding error), and no product exceeds 2^53.
#[inline(always)]
fn decouple0(
    p: &Params,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    a: &mut [&mut [i32]; 3],
) {
    let n = o[0].len();
    let cos_sq = p.cos_1deg_sq as f64;
    let gain = p.gain_limit;
    let [oh, ov, od] = o.map(|x| &x[..n]);
    let [th, tv, td] = t.map(|x| &x[..n]);
    for x in 0..n {
        let (ohf, ovf, thf, tvf) = (oh[x] as f64, ov[x] as f64, th[x] as f64, tv[x] as f64);
        let dot = (ohf * thf + ovf * tvf) as f32 as f64;
        let omag = (ohf * ohf + ovf * ovf) as f32 as f64;
        let tmag = (thf * thf + tvf * tvf) as f32 as f64;
        let angle = angle_ok(cos_sq, dot, omag, tmag);
        let ob = [ohf, ovf, od[x] as f64];
        let tb = [thf, tvf, td[x] as f64];
        for k in 0..3 {
            let (of, tf) = (ob[k], tb[k]);
            let recip = (1073741824.0 / of.abs()).floor().copysign(of);
            let tmp = ((recip * tf + 16384.0) * (1.0 / 32768.0)).floor();
            let kk = if of == 0.0 {
                32768.0
            } else {
                tmp.clamp(0.0, 32768.0)
            };
            let rst = ((kk * of + 16384.0) * (1.0 / 32768.0)).floor();
            let rst = limited(rst, kk, of, tf, angle, gain) as i32 as i16;
            r[k][x] = rst as i32;
            a[k][x] = (tb[k] as i32 as i16).wrapping_sub(rst) as i32;
        }
    }
}

/// The decoupling of scales 1 to 3 (32-bit coefficients).
#[inline(always)]
fn decouple123(
    p: &Params,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    a: &mut [&mut [i32]; 3],
) {
    let n = o[0].len();
    let cos_sq = p.cos_1deg_sq as f64;
    let gain = p.gain_limit;
    let [oh, ov, od] = o.map(|x| &x[..n]);
    let [th, tv, td] = t.map(|x| &x[..n]);
    for x in 0..n {
        let (ohi, ovi, thi, tvi) = (oh[x] as i64, ov[x] as i64, th[x] as i64, tv[x] as i64);
        let dot = (ohi * thi).wrapping_add(ovi * tvi) as f32 as f64;
        let omag = (ohi * ohi).wrapping_add(ovi * ovi) as f32 as f64;
        let tmag = (thi * thi).wrapping_add(tvi * tvi) as f32 as f64;
        let angle = angle_ok(cos_sq, dot, omag, tmag);
        let ob = [oh[x], ov[x], od[x]];
        let tb = [th[x], tv[x], td[x]];
        for k in 0..3 {
            let (oi, ti) = (ob[k], tb[k]);
            let abs = oi.unsigned_abs();
            let sh = (17 - abs.leading_zeros() as i32).max(0) as u32;
            let msb = if abs < 32768 {
                abs
            } else {
                (abs + (1 << (sh - 1))) >> sh
            };
            let sh = if abs < 32768 { 0 } else { sh };
            // (A zero coefficient's quotient is never used.)
            let recip = (1073741824.0 / msb.max(1) as f64).floor() as i64;
            let st = if oi < 0 { -(ti as i64) } else { ti as i64 };
            let num = recip * st + (1i64 << (14 + sh));
            let tmp = if num < 0 {
                0
            } else {
                (num >> (15 + sh)).min(32768)
            };
            let kk = if oi == 0 { 32768 } else { tmp };
            let (kf, of, tf) = (kk as f64, oi as f64, ti as f64);
            let rst = ((kf * of + 16384.0) * (1.0 / 32768.0)).floor();
            let rst = limited(rst, kf, of, tf, angle, gain) as i32;
            r[k][x] = rst;
            a[k][x] = ti.wrapping_sub(rst);
        }
    }
}

/// Scale 0's CSF of one row segment: the masking filter summed over the orientations (`f`) and
/// the threshold's centre terms minus that sum (`c`).
#[inline(always)]
fn csf0(p: &Params, a: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    const SHIFT: [u32; 3] = [15, 15, 17];
    const ROUND: [i32; 3] = [16384, 16384, 65535];
    let n = f.len();
    let a = a.map(|x| &x[..n]);
    let c = &mut c[..n];
    let rf = p.i_rfactor0;
    for x in 0..n {
        let mut fs = 0i32;
        let mut cs = 0i32;
        for k in 0..3 {
            let v = ((rf[k] * a[k][x] + ROUND[k]) >> SHIFT[k]) as i16 as i32;
            fs += ((ONE_BY_30 * v.abs() + 2048) >> 12) as i16 as i32;
            cs += ((ONE_BY_15 * v.abs() + 2048) >> 12) as i16 as i32;
        }
        f[x] = fs;
        c[x] = cs - fs;
    }
}

/// The CSF of scales 1 to 3.
#[inline(always)]
fn csf123(p: &Params, s: usize, a: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    let n = f.len();
    let a = a.map(|x| &x[..n]);
    let c = &mut c[..n];
    let rf = p.i_rfactor[s].map(|r| r as i64);
    for x in 0..n {
        let mut fs = 0i32;
        let mut cs = 0i32;
        for k in 0..3 {
            let v = ((rf[k] * a[k][x] as i64 + (1 << 27)) >> 28) as i32;
            let m = (v as i64).abs();
            fs = fs.wrapping_add(((I4_ONE_BY_30 * m - (1i64 << 31)) >> 32) as i32);
            cs = cs.wrapping_add(((I4_ONE_BY_15 * m - (1i64 << 31)) >> 32) as i32);
        }
        f[x] = fs;
        c[x] = cs.wrapping_sub(fs);
    }
}

/// Scale 0's denominator sums of one row segment of reference bands.
#[inline(always)]
fn den0(o: [&[i32]; 3]) -> [u64; 3] {
    let mut out = [0u64; 3];
    for k in 0..3 {
        let mut acc = 0u64;
        for &v in o[k] {
            let x = v.unsigned_abs() as u16 as u64;
            acc += x * x * x;
        }
        out[k] = acc;
    }
    out
}

/// The denominator sums of scales 1 to 3 for one row segment.
#[inline(always)]
fn den123(o: [&[i32]; 3], sq: u32, add_cub: u64, shift_cub: u32) -> [u64; 3] {
    let mut out = [0u64; 3];
    for k in 0..3 {
        let mut acc = 0u64;
        for &v in o[k] {
            let x = v.unsigned_abs() as u64;
            let v = ((((x * x) + (1u64 << sq)) >> sq).wrapping_mul(x) + add_cub) >> shift_cub;
            acc = acc.wrapping_add(v);
        }
        out[k] = acc;
    }
    out
}

/// Scale 0's contrast-masked sums of one row segment: restored parts `r`, the three rows of
/// horizontal 3-sums around it and the centre terms.
#[inline(always)]
fn cm0(
    p: &Params,
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: [u32; 3],
) -> [i64; 3] {
    const SHIFT_SQ: [u32; 3] = CM0_SHIFT_SQ;
    const SHIFT_SUB: [u32; 3] = CM0_SHIFT_SUB;
    let n = centre.len();
    let (up, mid, down) = (&up[..n], &mid[..n], &down[..n]);
    let rf = p.i_rfactor0;
    let add_cub = shift_cub.map(|s| half_of(s) as i64);
    let mut out = [0i64; 3];
    for k in 0..3 {
        let rk = &r[k][..n];
        let mut acc = 0i64;
        for x in 0..n {
            let thr = up[x]
                .wrapping_add(mid[x])
                .wrapping_add(down[x])
                .wrapping_add(centre[x]);
            let v = (rk[x] * rf[k])
                .abs()
                .wrapping_sub(thr.wrapping_shl(SHIFT_SUB[k]))
                .max(0);
            let sq = SHIFT_SQ[k];
            let v_sq = ((v as i64 * v as i64 + (1i64 << (sq - 1))) >> sq) as i32;
            acc += (v_sq as i64 * v as i64 + add_cub[k]) >> shift_cub[k];
        }
        out[k] = acc;
    }
    out
}

/// The contrast-masked sums of scales 1 to 3 for one row segment.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cm123(
    p: &Params,
    s: usize,
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: u32,
) -> [i64; 3] {
    let n = centre.len();
    let (up, mid, down) = (&up[..n], &mid[..n], &down[..n]);
    let add_cub = half_of(shift_cub) as i64;
    let mut out = [0i64; 3];
    for k in 0..3 {
        let rf = p.i_rfactor[s][k] as i64;
        let rk = &r[k][..n];
        let mut acc = 0i64;
        for x in 0..n {
            let thr = up[x]
                .wrapping_add(mid[x])
                .wrapping_add(down[x])
                .wrapping_add(centre[x]);
            let v = ((rk[x] as i64 * rf + (1 << 27)) >> 28) as i32;
            let v = v.wrapping_abs().wrapping_sub(thr).max(0);
            let v_sq = ((v as i64 * v as i64 + (1i64 << 29)) >> 30) as i32;
            acc += (v_sq as i64 * v as i64 + add_cub) >> shift_cub;
        }
        out[k] = acc;
    }
    out
}

/// Scale 0's transform of band row `i` of both pictures: the low band into row `i` of `low`
/// and, for the rows and columns `ext` of the decoupling window, the (h, v, d) bands into
/// `work.band`. `quirk` follows libvmaf's AVX2 transform of 8-bit pictures (see
/// [`DwtVariant::Avx2`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dwt_row0(
    work: &mut Work,
    low: &mut [Vec<i16>; 2],
    src: Source<'_, '_>,
    i: usize,
    w: usize,
    h: usize,
    ext: Option<(usize, usize)>,
    quirk: bool,
) {
    let ws = w.div_ceil(2);
    let ty = dwt_taps(i, h);
    for (plane, low) in low.iter_mut().enumerate() {
        let lo = &mut work.v16lo[plane];
        let hi = &mut work.v16hi[plane];
        // libvmaf's AVX2 transform: the low-pass row's sample x = w (the last column's fourth
        // tap) is read from where the high-pass row starts.
        let mut past_end = None;
        match src {
            Source::U8(r, d) => {
                let pic = if plane == 0 { r } else { d };
                let rows = ty.map(|y| pic.row(y));
                k_vert0_u8(rows, &mut lo[1..w + 1], ext.map(|_| &mut hi[1..w + 1]));
                if quirk {
                    past_end = Some(if w % 16 == 8 {
                        AVX2_PAD_LO
                    } else if ext.is_some() {
                        hi[1]
                    } else {
                        let mut h0 = [0i16];
                        vert0(rows.map(|r| &r[..1]), 8, &mut [0i16], Some(&mut h0));
                        h0[0]
                    });
                }
            }
            Source::U16(r, d, bpc) => {
                let pic = if plane == 0 { r } else { d };
                let rows = ty.map(|y| pic.row(y));
                k_vert0_u16(rows, bpc, &mut lo[1..w + 1], ext.map(|_| &mut hi[1..w + 1]));
            }
            Source::Low => unreachable!("scale 0 reads a picture"),
        }
        pad_row(lo, w);
        if ext.is_some() {
            if quirk && w % 16 == 8 {
                // The padding's transform also overwrites the first eight high-pass samples,
                // and stands past the high-pass row's end.
                hi[1..9].fill(AVX2_PAD_LO);
                pad_row(hi, w);
                hi[w + 1] = AVX2_PAD_HI;
            } else {
                pad_row(hi, w);
            }
        }
        if let Some(v) = past_end {
            lo[w + 1] = v;
        }
        k_horiz0_16(lo, &LO, &mut low[i * ws..i * ws + ws]);
        if let Some((el, er)) = ext {
            let [bh, bv, bd] = &mut work.band[plane];
            k_horiz0(lo, &HI, &mut bv[el..er], el);
            k_horiz0(hi, &LO, &mut bh[el..er], el);
            k_horiz0(hi, &HI, &mut bd[el..er], el);
        }
    }
}

/// The previous scale's low band, a scale's input: 16-bit from scale 0, 32-bit below.
#[derive(Clone, Copy)]
enum LowIn<'a> {
    I16(&'a [Vec<i16>; 2]),
    I32(&'a [Vec<i32>; 2]),
}

/// The transform of band row `i` of scale `s` (1 to 3) from the previous scale's low bands
/// (`input`), as [`dwt_row0`] does at scale 0; `low` is `None` at scale 3, whose low band
/// nothing reads.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dwt_row123(
    work: &mut Work,
    mut low: Option<&mut [Vec<i32>; 2]>,
    input: LowIn<'_>,
    s: usize,
    i: usize,
    w: usize,
    h: usize,
    ext: Option<(usize, usize)>,
) {
    const ROUND_V: [i64; 3] = [0, 32768, 32768];
    const SHIFT_V: [u32; 3] = [0, 16, 16];
    const SHIFT_H: [u32; 3] = [15, 16, 15];
    let ws = w.div_ceil(2);
    let ty = dwt_taps(i, h);
    let (rv, sv, sh) = (ROUND_V[s - 1], SHIFT_V[s - 1], SHIFT_H[s - 1]);
    for plane in 0..2 {
        let lo = &mut work.vlo[plane];
        let hi = &mut work.vhi[plane];
        match input {
            LowIn::I16(pic) => {
                let pic = &pic[plane];
                let rows = ty.map(|y| &pic[y * w..y * w + w]);
                k_vert1(rows, &mut lo[1..w + 1], ext.map(|_| &mut hi[1..w + 1]));
            }
            LowIn::I32(pic) => {
                let pic = &pic[plane];
                let rows = ty.map(|y| &pic[y * w..y * w + w]);
                k_vert23(
                    rows,
                    rv,
                    sv,
                    &mut lo[1..w + 1],
                    ext.map(|_| &mut hi[1..w + 1]),
                );
            }
        }
        pad_row(lo, w);
        if ext.is_some() {
            pad_row(hi, w);
        }
        let [lh, ll, hh, hl] = &mut work.split;
        let lo_parts = split(lo, lh, ll);
        if let Some(low) = low.as_deref_mut() {
            k_horiz123(
                lo,
                lo_parts,
                &LO,
                sh,
                &mut low[plane][i * ws..i * ws + ws],
                0,
            );
        }
        if let Some((el, er)) = ext {
            let hi_parts = split(hi, hh, hl);
            let [bh, bv, bd] = &mut work.band[plane];
            k_horiz123(lo, lo_parts, &HI, sh, &mut bv[el..er], el);
            k_horiz123(hi, hi_parts, &LO, sh, &mut bh[el..er], el);
            k_horiz123(hi, hi_parts, &HI, sh, &mut bd[el..er], el);
        }
    }
}

/// A padded 32-bit row split into 16-bit halves for the AVX2 horizontal pass, when the
/// kernels run on AVX2 and the row is long enough (`None` otherwise).
#[inline(always)]
fn split<'a>(row: &[i32], hi: &'a mut [i16], lo: &'a mut [i16]) -> Option<(&'a [i16], &'a [i16])> {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), row.len() >= 16) {
        avx2::split_row(v3, row, hi, lo);
        return Some((hi, lo));
    }
    let _ = (row, hi, lo);
    None
}

// The row kernels, each sent to its AVX2 form (`avx2`) when the kernels are dispatched to AVX2
// or wider and the row is long enough, and to the portable form otherwise.

#[inline(always)]
fn k_vert0_u8(rows: [&[u8]; 4], lo: &mut [i16], hi: Option<&mut [i16]>) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v4), true) = (simd::v4(), lo.len() >= 32) {
        return avx512::vert0(v4, rows, 8, lo, hi);
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), lo.len() >= 16) {
        return avx2::vert0(v3, rows, 8, lo, hi);
    }
    vert0(rows, 8, lo, hi)
}

#[inline(always)]
fn k_vert0_u16(rows: [&[u16]; 4], bits: u32, lo: &mut [i16], hi: Option<&mut [i16]>) {
    // 16-bit samples do not fit the signed 16-bit multiply-add.
    #[cfg(target_arch = "x86_64")]
    if let (Some(v4), true) = (simd::v4(), lo.len() >= 32 && bits <= 15) {
        return avx512::vert0(v4, rows, bits, lo, hi);
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), lo.len() >= 16 && bits <= 15) {
        return avx2::vert0(v3, rows, bits, lo, hi);
    }
    vert0(rows, bits, lo, hi)
}

#[inline(always)]
fn k_horiz0(buf: &[i16], c: &[i32; 4], out: &mut [i32], j0: usize) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), out.len() >= 8) {
        return avx2::horiz0(v3, buf, c, out, j0);
    }
    horiz0(buf, c, out, j0)
}

#[inline(always)]
fn k_horiz0_16(buf: &[i16], c: &[i32; 4], out: &mut [i16]) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), out.len() >= 16) {
        return avx2::horiz0_16(v3, buf, c, out);
    }
    horiz0_16(buf, c, out)
}

#[inline(always)]
fn k_vert1(rows: [&[i16]; 4], lo: &mut [i32], hi: Option<&mut [i32]>) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), lo.len() >= 16) {
        return avx2::vert1(v3, rows, lo, hi);
    }
    vert123(rows, 0, 0, lo, hi)
}

#[inline(always)]
fn k_vert23(rows: [&[i32]; 4], round: i64, shift: u32, lo: &mut [i32], hi: Option<&mut [i32]>) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), lo.len() >= 8) {
        return avx2::vert23(v3, rows, lo, hi);
    }
    vert123(rows, round, shift, lo, hi)
}

/// The horizontal pass of scales 1 to 3 from the padded row `buf`, or from its 16-bit halves
/// `parts` on AVX2.
#[inline(always)]
fn k_horiz123(
    buf: &[i32],
    parts: Option<(&[i16], &[i16])>,
    c: &[i32; 4],
    shift: u32,
    out: &mut [i32],
    j0: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), Some((hi, lo)), true) = (simd::v3(), parts, out.len() >= 8) {
        return avx2::horiz_split(v3, hi, lo, c, shift, out, j0);
    }
    let _ = parts;
    horiz123(buf, c, 1 << (shift - 1), shift, out, j0)
}

#[inline(always)]
fn k_decouple123(
    p: &Params,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    a: &mut [&mut [i32]; 3],
) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v4), true) = (simd::v4(), o[0].len() >= 8) {
        return avx512::decouple123(v4, p.cos_1deg_sq, p.gain_limit, o, t, r, a);
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), o[0].len() >= 4) {
        return avx2::decouple123(v3, p.cos_1deg_sq, p.gain_limit, o, t, r, a);
    }
    decouple123(p, o, t, r, a)
}

#[inline(always)]
fn k_csf123(p: &Params, s: usize, a: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), f.len() >= 8) {
        return avx2::csf123(v3, p.i_rfactor[s], a, f, c);
    }
    csf123(p, s, a, f, c)
}

#[inline(always)]
fn k_den123(o: [&[i32]; 3], sq: u32, add_cub: u64, shift_cub: u32) -> [u64; 3] {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd::v3() {
        return avx2::den123(v3, o, sq, add_cub, shift_cub);
    }
    den123(o, sq, add_cub, shift_cub)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn k_cm123(
    p: &Params,
    s: usize,
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: u32,
) -> [i64; 3] {
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = simd::v4() {
        return avx512::cm123(v4, p.i_rfactor[s], r, up, mid, down, centre, shift_cub);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd::v3() {
        return avx2::cm123(v3, p.i_rfactor[s], r, up, mid, down, centre, shift_cub);
    }
    cm123(p, s, r, up, mid, down, centre, shift_cub)
}

#[inline(always)]
fn k_decouple0(
    p: &Params,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    a: &mut [&mut [i32]; 3],
) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v4), Some(gain), true) = (simd::v4(), p.integer_gain(), o[0].len() >= 16) {
        return avx512::decouple0(v4, p.cos_1deg_sq, gain, o, t, r, a);
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), Some(gain), true) = (simd::v3(), p.integer_gain(), o[0].len() >= 8) {
        return avx2::decouple0(v3, p.cos_1deg_sq, gain, o, t, r, a);
    }
    decouple0(p, o, t, r, a)
}

#[inline(always)]
fn k_csf0(p: &Params, a: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(v3), true) = (simd::v3(), f.len() >= 8) {
        return avx2::csf0(v3, p.i_rfactor0, a, f, c);
    }
    csf0(p, a, f, c)
}

#[inline(always)]
fn k_den0(o: [&[i32]; 3]) -> [u64; 3] {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd::v3() {
        return avx2::den0(v3, o);
    }
    den0(o)
}

#[inline(always)]
fn k_cm0(
    p: &Params,
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: [u32; 3],
) -> [i64; 3] {
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = simd::v4() {
        return avx512::cm0(v4, p.i_rfactor0, r, up, mid, down, centre, shift_cub);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd::v3() {
        return avx2::cm0(v3, p.i_rfactor0, r, up, mid, down, centre, shift_cub);
    }
    cm0(p, r, up, mid, down, centre, shift_cub)
}

/// One frame through the fast kernel, dispatched to the widest instruction set.
struct Run<'a, 'b> {
    params: &'a Params,
    work: &'a mut Work,
    source: Source<'a, 'b>,
    avx2: bool,
}

impl WithSimd for Run<'_, '_> {
    type Output = [ScaleNumDen; 4];

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> [ScaleNumDen; 4] {
        let Run {
            params,
            work,
            source,
            avx2,
        } = self;
        let (mut w, mut h) = match source {
            Source::U8(r, _) => (r.width(), r.height()),
            Source::U16(r, _, _) => (r.width(), r.height()),
            Source::Low => unreachable!("scale 0 reads a picture"),
        };
        let mut out = [ScaleNumDen::default(); 4];
        for (s, o) in out.iter_mut().enumerate() {
            let src = if s == 0 { source } else { Source::Low };
            *o = scale(params, work, s, src, w, h, avx2);
            (w, h) = (w.div_ceil(2), h.div_ceil(2));
        }
        out
    }
}

/// One scale of a `w`×`h` input, streamed band row by band row.
#[inline(always)]
fn scale(
    p: &Params,
    work: &mut Work,
    s: usize,
    src: Source<'_, '_>,
    w: usize,
    h: usize,
    avx2: bool,
) -> ScaleNumDen {
    let (ws, hs) = (w.div_ceil(2), h.div_ceil(2));
    let (el, er) = ext_range(ws);
    let (et, eb) = ext_range(hs);
    let (pl, pr) = pool_range(ws);
    let (pt, pb) = pool_range(hs);
    let quirk = avx2 && matches!(src, Source::U8(..)) && w % 8 == 0;

    if s == 0 {
        for v in work.v16lo.iter_mut().chain(work.v16hi.iter_mut()) {
            fit(v, w + 3);
        }
    } else {
        for v in work.vlo.iter_mut().chain(work.vhi.iter_mut()) {
            fit(v, w + 3);
        }
    }
    for v in work.band.iter_mut().flatten() {
        fit(v, ws);
    }
    // The previous scale's low band is this scale's input; this scale's is the next one's.
    let mut low0 = std::mem::take(&mut work.low0);
    let mut low = [
        std::mem::take(&mut work.low[0]),
        std::mem::take(&mut work.low[1]),
    ];
    // Every sample of this scale's low band is written below; only the length matters.
    if s == 0 {
        for v in low0.iter_mut() {
            v.resize(ws * hs, 0);
        }
    } else if s < 3 {
        for v in low[s - 1].iter_mut() {
            v.resize(ws * hs, 0);
        }
    }
    for v in work.split.iter_mut() {
        fit(v, w + 3);
    }
    for v in work.rest.iter_mut().flatten().chain(work.add.iter_mut()) {
        fit(v, ws);
    }
    for v in work.centre.iter_mut().chain(work.hsum.iter_mut()) {
        fit(v, ws);
    }
    fit(&mut work.filt, ws + 2);

    let (den_sq, den_add_cub, den_shift_cub, den_add_rows, den_shift_rows) = if s == 0 {
        let sh = den0_shift((pb - pt) * (pr - pl));
        (0, 0, 0, if sh > 0 { 1u64 << (sh - 1) } else { 0 }, sh)
    } else {
        const SHIFT_SQ: [u32; 3] = [31, 30, 31];
        let (sc, sr) = den123_shifts(ws, hs);
        (
            SHIFT_SQ[s - 1],
            half_of(sc) as u64,
            sc,
            half_of(sr) as u64,
            sr,
        )
    };
    let (cm_shift_cub, cm_shift_rows) = if s == 0 {
        let (hv, d, rows) = num0_shifts(ws, hs);
        ([hv, hv, d], rows)
    } else {
        let (c, rows) = num123_shifts(ws, hs);
        ([c; 3], rows)
    };
    let cm_add_rows = half_of(cm_shift_rows) as i64;
    let mut den_acc = [0u64; 3];
    let mut num_acc = [0i64; 3];

    for i in 0..hs {
        let in_ext = (et..eb).contains(&i);
        let ext = in_ext.then_some((el, er));
        match s {
            0 => dwt_row0(work, &mut low0, src, i, w, h, ext, quirk),
            1 => {
                let [l1, _] = &mut low;
                dwt_row123(work, Some(l1), LowIn::I16(&low0), s, i, w, h, ext);
            }
            2 => {
                let [l1, l2] = &mut low;
                dwt_row123(work, Some(l2), LowIn::I32(l1), s, i, w, h, ext);
            }
            _ => dwt_row123(work, None, LowIn::I32(&low[1]), s, i, w, h, ext),
        }
        if in_ext {
            let [o, t] = &work.band;
            let o3 = [&o[0][..], &o[1][..], &o[2][..]];
            let t3 = [&t[0][..], &t[1][..], &t[2][..]];
            if (pt..pb).contains(&i) {
                let seg = o3.map(|b| &b[pl..pr]);
                let d = if s == 0 {
                    k_den0(seg)
                } else {
                    k_den123(seg, den_sq, den_add_cub, den_shift_cub)
                };
                for k in 0..3 {
                    den_acc[k] = den_acc[k]
                        .wrapping_add((d[k].wrapping_add(den_add_rows)) >> den_shift_rows);
                }
            }
            let [rh, rv, rd] = &mut work.rest[i % 2];
            let mut r3 = [&mut rh[el..er], &mut rv[el..er], &mut rd[el..er]];
            let [ah, av, ad] = &mut work.add;
            let mut a3 = [&mut ah[el..er], &mut av[el..er], &mut ad[el..er]];
            let (os, ts) = (o3.map(|b| &b[el..er]), t3.map(|b| &b[el..er]));
            if s == 0 {
                k_decouple0(p, os, ts, &mut r3, &mut a3);
            } else {
                k_decouple123(p, os, ts, &mut r3, &mut a3);
            }
            let a3 = [&a3[0][..], &a3[1][..], &a3[2][..]];
            let f = &mut work.filt[el + 1..er + 1];
            let c = &mut work.centre[i % 2][el..er];
            if s == 0 {
                k_csf0(p, a3, f, c);
            } else {
                k_csf123(p, s, a3, f, c);
            }
            // Mirrored columns of the masking filter: x = -1 is x = 1, x = ws is x = ws - 1.
            let f = &mut work.filt;
            if el == 0 {
                f[0] = f[2];
            }
            if er == ws {
                f[ws + 1] = f[ws];
            }
            let hrow = &mut work.hsum[i % 3][pl..pr];
            for (x, o) in hrow.iter_mut().enumerate() {
                let x = pl + x;
                *o = f[x].wrapping_add(f[x + 1]).wrapping_add(f[x + 2]);
            }
        }
        // The contrast masking of row c needs the 3-sums of rows c - 1 and c + 1 (mirrored:
        // -1 is 1, hs is hs - 1), so it runs one row behind: row i - 1 now, and at the end row
        // i too. (A loop, not a closure: the kernels must inline into the dispatched
        // instruction set's context.)
        for c in [i.checked_sub(1), (i + 1 == hs).then_some(i)]
            .into_iter()
            .flatten()
        {
            if !(pt..pb).contains(&c) {
                continue;
            }
            let up = if c == 0 { 1 } else { c - 1 };
            let down = if c + 1 == hs { hs - 1 } else { c + 1 };
            let rest = &work.rest[c % 2];
            let r3 = [&rest[0][pl..pr], &rest[1][pl..pr], &rest[2][pl..pr]];
            let (u, m, d) = (
                &work.hsum[up % 3][pl..pr],
                &work.hsum[c % 3][pl..pr],
                &work.hsum[down % 3][pl..pr],
            );
            let centre = &work.centre[c % 2][pl..pr];
            let sums = if s == 0 {
                k_cm0(p, r3, u, m, d, centre, cm_shift_cub)
            } else {
                k_cm123(p, s, r3, u, m, d, centre, cm_shift_cub[0])
            };
            for k in 0..3 {
                num_acc[k] += (sums[k] + cm_add_rows) >> cm_shift_rows;
            }
        }
    }
    work.low0 = low0;
    work.low = low;
    if s == 0 {
        ScaleNumDen {
            num: num_s0(num_acc, ws, hs),
            den: den_s0(den_acc, p, ws, hs),
        }
    } else {
        ScaleNumDen {
            num: num_s123(num_acc, s, ws, hs),
            den: den_s123(den_acc, s, p, ws, hs),
        }
    }
}

/// A plain port of libvmaf's integer ADM: whole-picture buffers, one pass per step, the same
/// integer operations in the same order. The oracle of the fast kernel.
#[cfg(test)]
pub(crate) mod reference {
    use super::*;

    /// 2^30 / i for i in -32768..=32768, at i + 32768 (libvmaf's `div_lookup`; entry 32768 is 0).
    fn div_lookup() -> Vec<i32> {
        let mut t = vec![0i32; 65537];
        for i in 1..=32768usize {
            let recip = (1i32 << 30) / i as i32;
            t[32768 + i] = recip;
            t[32768 - i] = -recip;
        }
        t
    }

    /// The two pictures of a pair: 8-bit, or `bpc`-bit in 16-bit words.
    pub(crate) enum Input<'a, 'b> {
        U8(&'a Plane<'b, u8>, &'a Plane<'b, u8>),
        U16(&'a Plane<'b, u16>, &'a Plane<'b, u16>, u32),
    }

    /// One scale's four sub-bands, row-major, `w`×`h`.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct Bands<T> {
        pub(crate) w: usize,
        pub(crate) h: usize,
        /// Low-pass both ways (the next scale's input).
        pub(crate) a: Vec<T>,
        /// Vertical low-pass, horizontal high-pass.
        pub(crate) v: Vec<T>,
        /// Vertical high-pass, horizontal low-pass.
        pub(crate) hz: Vec<T>,
        /// High-pass both ways.
        pub(crate) d: Vec<T>,
    }

    impl<T: Copy + Default> Bands<T> {
        fn new(w: usize, h: usize) -> Self {
            Self {
                w,
                h,
                a: vec![T::default(); w * h],
                v: vec![T::default(); w * h],
                hz: vec![T::default(); w * h],
                d: vec![T::default(); w * h],
            }
        }
    }

    /// Scale 0's transform of a `w`×`h` picture read through `px(row, col)`, whose samples have
    /// `shift` bits (libvmaf's `adm_dwt2_8` / `adm_dwt2_16`).
    pub(crate) fn dwt_s0(
        px: &dyn Fn(usize, usize) -> i32,
        w: usize,
        h: usize,
        shift: u32,
        avx2: bool,
    ) -> Bands<i16> {
        // libvmaf's AVX2 transform of 8-bit pictures whose width is a multiple of 8 (see
        // `DwtVariant::Avx2`): the last output column reads one sample past the row's end.
        let avx2 = avx2 && shift == 8 && w % 8 == 0;
        let (wo, ho) = (w.div_ceil(2), h.div_ceil(2));
        let mut out = Bands::new(wo, ho);
        let add = 1i32 << (shift - 1);
        let mut lo = vec![0i16; w + 1];
        let mut hi = vec![0i16; w + 1];
        for i in 0..ho {
            let ty = dwt_taps(i, h);
            for j in 0..w {
                let s = ty.map(|y| px(y, j));
                let mut acc = 0i32;
                for k in 0..4 {
                    acc = acc.wrapping_add(LO[k].wrapping_mul(s[k]));
                }
                acc = acc.wrapping_sub(LO_SUM.wrapping_mul(add));
                lo[j] = (acc.wrapping_add(add) >> shift) as i16;
                let mut acc = 0i32;
                for k in 0..4 {
                    acc = acc.wrapping_add(HI[k].wrapping_mul(s[k]));
                }
                hi[j] = (acc.wrapping_add(add) >> shift) as i16;
            }
            if avx2 {
                if w % 16 == 8 {
                    hi[..8].fill(AVX2_PAD_LO);
                    hi[w] = AVX2_PAD_HI;
                } else {
                    hi[w] = hi[w - 1];
                }
                lo[w] = hi[0];
            }
            for j in 0..wo {
                let tx = if avx2 && j == wo - 1 {
                    [2 * j - 1, 2 * j, 2 * j + 1, 2 * j + 2]
                } else {
                    dwt_taps(j, w)
                };
                let f = |src: &[i16], c: &[i32; 4]| -> i16 {
                    let mut acc = 0i32;
                    for k in 0..4 {
                        acc += c[k] * src[tx[k]] as i32;
                    }
                    ((acc + 32768) >> 16) as i16
                };
                let o = i * wo + j;
                out.a[o] = f(&lo, &LO);
                out.v[o] = f(&lo, &HI);
                out.hz[o] = f(&hi, &LO);
                out.d[o] = f(&hi, &HI);
            }
        }
        out
    }

    /// The transform of scales 1 to 3 from the previous scale's low band (libvmaf's
    /// `adm_dwt2_s123_combined`).
    pub(crate) fn dwt_s123(src: &[i32], w: usize, h: usize, s: usize) -> Bands<i32> {
        const ROUND_V: [i64; 3] = [0, 32768, 32768];
        const SHIFT_V: [u32; 3] = [0, 16, 16];
        const ROUND_H: [i64; 3] = [16384, 32768, 16384];
        const SHIFT_H: [u32; 3] = [15, 16, 15];
        let (rv, sv, rh, sh) = (
            ROUND_V[s - 1],
            SHIFT_V[s - 1],
            ROUND_H[s - 1],
            SHIFT_H[s - 1],
        );
        let (wo, ho) = (w.div_ceil(2), h.div_ceil(2));
        let mut out = Bands::new(wo, ho);
        let mut lo = vec![0i32; w];
        let mut hi = vec![0i32; w];
        for i in 0..ho {
            let ty = dwt_taps(i, h);
            for j in 0..w {
                let s = ty.map(|y| src[y * w + j] as i64);
                let mut acc = 0i64;
                for k in 0..4 {
                    acc += LO[k] as i64 * s[k];
                }
                lo[j] = ((acc + rv) >> sv) as i32;
                let mut acc = 0i64;
                for k in 0..4 {
                    acc += HI[k] as i64 * s[k];
                }
                hi[j] = ((acc + rv) >> sv) as i32;
            }
            for j in 0..wo {
                let tx = dwt_taps(j, w);
                let f = |src: &[i32], c: &[i32; 4]| -> i32 {
                    let mut acc = 0i64;
                    for k in 0..4 {
                        acc += c[k] as i64 * src[tx[k]] as i64;
                    }
                    ((acc + rh) >> sh) as i32
                };
                let o = i * wo + j;
                out.a[o] = f(&lo, &LO);
                out.v[o] = f(&lo, &HI);
                out.hz[o] = f(&hi, &LO);
                out.d[o] = f(&hi, &HI);
            }
        }
        out
    }

    /// libvmaf's angle test: whether the distorted (h, v) vector is within 1° of the
    /// reference's, evaluated with its single-to-double conversions.
    pub(crate) fn angle_flag(p: &Params, oh: i64, ov: i64, th: i64, tv: i64) -> bool {
        let ot_dp = oh * th + ov * tv;
        let o_mag_sq = oh * oh + ov * ov;
        let t_mag_sq = th * th + tv * tv;
        let a = ot_dp as f32 as f64 / 4096.0;
        a >= 0.0
            && a * a
                >= p.cos_1deg_sq as f64
                    * (o_mag_sq as f32 as f64 / 4096.0)
                    * (t_mag_sq as f32 as f64 / 4096.0)
    }

    /// The restored part of one coefficient, given the gain `k` (Q15) of the distorted over the
    /// reference coefficient: libvmaf's enhancement limit applied when the angle test holds.
    fn limit(rst: i64, k: i64, o: i64, t: i64, angle: bool, gain: f64) -> f64 {
        let positive = k > 0 && o > 0;
        let negative = k > 0 && o < 0;
        let r = rst as f64;
        if angle && positive {
            let x = r * gain;
            let t = t as f64;
            if x < t {
                x
            } else {
                t
            }
        } else if angle && negative {
            let x = r * gain;
            let t = t as f64;
            if x > t {
                x
            } else {
                t
            }
        } else {
            r
        }
    }

    /// Decoupled bands of one scale: restored (`r`) and additive (`a`) parts, (h, v, d).
    pub(crate) struct Decoupled<T> {
        pub(crate) r: [Vec<T>; 3],
        pub(crate) a: [Vec<T>; 3],
    }

    /// Scale 0's decoupling (`adm_decouple`) over the extended pooling window.
    pub(crate) fn decouple_s0(p: &Params, rf: &Bands<i16>, ds: &Bands<i16>) -> Decoupled<i16> {
        let div = div_lookup();
        let (w, h) = (rf.w, rf.h);
        let mut out = Decoupled {
            r: std::array::from_fn(|_| vec![0i16; w * h]),
            a: std::array::from_fn(|_| vec![0i16; w * h]),
        };
        let (l, r) = ext_range(w);
        let (t, b) = ext_range(h);
        for i in t..b {
            for j in l..r {
                let o = i * w + j;
                let ob = [rf.hz[o], rf.v[o], rf.d[o]].map(|x| x as i64);
                let tb = [ds.hz[o], ds.v[o], ds.d[o]].map(|x| x as i64);
                let angle = angle_flag(p, ob[0], ob[1], tb[0], tb[1]);
                for k in 0..3 {
                    let (ov, tv) = (ob[k], tb[k]);
                    let tmp = if ov == 0 {
                        32768
                    } else {
                        (div[(ov + 32768) as usize] as i64 * tv + 16384) >> 15
                    };
                    let kk = tmp.clamp(0, 32768);
                    let rst = ((kk * ov + 16384) >> 15) as i16 as i64;
                    let rst = limit(rst, kk, ov, tv, angle, p.gain_limit) as i32 as i16;
                    out.r[k][o] = rst;
                    out.a[k][o] = (tv as i16).wrapping_sub(rst);
                }
            }
        }
        out
    }

    /// Decoupling of scales 1 to 3 (`adm_decouple_s123`): 32-bit coefficients, the reciprocal of
    /// large reference coefficients taken from their 15 leading bits.
    pub(crate) fn decouple_s123(p: &Params, rf: &Bands<i32>, ds: &Bands<i32>) -> Decoupled<i32> {
        let div = div_lookup();
        let (w, h) = (rf.w, rf.h);
        let mut out = Decoupled {
            r: std::array::from_fn(|_| vec![0i32; w * h]),
            a: std::array::from_fn(|_| vec![0i32; w * h]),
        };
        let (l, r) = ext_range(w);
        let (t, b) = ext_range(h);
        for i in t..b {
            for j in l..r {
                let o = i * w + j;
                let ob = [rf.hz[o], rf.v[o], rf.d[o]].map(|x| x as i64);
                let tb = [ds.hz[o], ds.v[o], ds.d[o]].map(|x| x as i64);
                let angle = angle_flag(p, ob[0], ob[1], tb[0], tb[1]);
                for k in 0..3 {
                    let (ov, tv) = (ob[k], tb[k]);
                    let abs = ov.unsigned_abs() as u32;
                    let (msb, shift) = if abs < 32768 {
                        (abs, 0)
                    } else {
                        let sh = 17 - abs.leading_zeros();
                        ((abs + (1 << (sh - 1))) >> sh, sh)
                    };
                    let sign = if ov < 0 { -1 } else { 1 };
                    let tmp = if ov == 0 {
                        32768
                    } else {
                        (div[msb as usize + 32768] as i64 * tv * sign + (1i64 << (14 + shift)))
                            >> (15 + shift)
                    };
                    let kk = tmp.clamp(0, 32768);
                    let rst = ((kk * ov + 16384) >> 15) as i32 as i64;
                    let rst = limit(rst, kk, ov, tv, angle, p.gain_limit) as i32;
                    out.r[k][o] = rst;
                    out.a[k][o] = (tv as i32).wrapping_sub(rst);
                }
            }
        }
        out
    }

    /// Scale 0's denominator: sums of cubed reference coefficients over the pooling window.
    pub(crate) fn den_accum_s0(rf: &Bands<i16>) -> [u64; 3] {
        let (w, h) = (rf.w, rf.h);
        let (l, r) = pool_range(w);
        let (t, b) = pool_range(h);
        let shift = den0_shift((b - t) * (r - l));
        let add = if shift > 0 { 1u64 << (shift - 1) } else { 0 };
        let mut acc = [0u64; 3];
        for (k, band) in [&rf.hz, &rf.v, &rf.d].into_iter().enumerate() {
            for i in t..b {
                let mut inner = 0u64;
                for j in l..r {
                    let x = (band[i * w + j] as i32).unsigned_abs() as u16 as u64;
                    inner += x * x * x;
                }
                acc[k] += (inner + add) >> shift;
            }
        }
        acc
    }

    /// The denominator sums of scales 1 to 3.
    pub(crate) fn den_accum_s123(rf: &Bands<i32>, s: usize) -> [u64; 3] {
        const SHIFT_SQ: [u32; 3] = [31, 30, 31];
        let (w, h) = (rf.w, rf.h);
        let (l, r) = pool_range(w);
        let (t, b) = pool_range(h);
        let (shift_cub, shift_rows) = den123_shifts(w, h);
        let (add_cub, add_rows) = (half_of(shift_cub) as u64, half_of(shift_rows) as u64);
        let sq = SHIFT_SQ[s - 1];
        let mut acc = [0u64; 3];
        for (k, band) in [&rf.hz, &rf.v, &rf.d].into_iter().enumerate() {
            for i in t..b {
                let mut inner = 0u64;
                for j in l..r {
                    let x = band[i * w + j].unsigned_abs() as u64;
                    let v = (((x.wrapping_mul(x) + (1u64 << sq)) >> sq).wrapping_mul(x) + add_cub)
                        >> shift_cub;
                    inner = inner.wrapping_add(v);
                }
                acc[k] = acc[k].wrapping_add((inner + add_rows) >> shift_rows);
            }
        }
        acc
    }

    /// Scale 0's contrast sensitivity weighting of the additive part (`adm_csf`): the weighted
    /// coefficients and the masking filter's input (a thirtieth of their magnitude).
    pub(crate) fn csf_s0(
        p: &Params,
        a: &[Vec<i16>; 3],
        w: usize,
        h: usize,
    ) -> ([Vec<i16>; 3], [Vec<i16>; 3]) {
        const SHIFT: [u32; 3] = [15, 15, 17];
        const ROUND: [i32; 3] = [16384, 16384, 65535];
        let mut csf_a: [Vec<i16>; 3] = std::array::from_fn(|_| vec![0; w * h]);
        let mut csf_f: [Vec<i16>; 3] = std::array::from_fn(|_| vec![0; w * h]);
        let (l, r) = ext_range(w);
        let (t, b) = ext_range(h);
        for k in 0..3 {
            for i in t..b {
                for j in l..r {
                    let o = i * w + j;
                    let v = p.i_rfactor0[k] * a[k][o] as i32;
                    let v = ((v + ROUND[k]) >> SHIFT[k]) as i16;
                    csf_a[k][o] = v;
                    csf_f[k][o] = ((ONE_BY_30 * (v as i32).abs() + 2048) >> 12) as i16;
                }
            }
        }
        (csf_a, csf_f)
    }

    /// The CSF of scales 1 to 3 (`i4_adm_csf`); libvmaf's rounding constant for the filter
    /// input is 2^31 stored in an `int32_t`, so it subtracts 2^31.
    pub(crate) fn csf_s123(
        p: &Params,
        s: usize,
        a: &[Vec<i32>; 3],
        w: usize,
        h: usize,
    ) -> ([Vec<i32>; 3], [Vec<i32>; 3]) {
        let mut csf_a: [Vec<i32>; 3] = std::array::from_fn(|_| vec![0; w * h]);
        let mut csf_f: [Vec<i32>; 3] = std::array::from_fn(|_| vec![0; w * h]);
        let (l, r) = ext_range(w);
        let (t, b) = ext_range(h);
        for k in 0..3 {
            let rf = p.i_rfactor[s][k] as i64;
            for i in t..b {
                for j in l..r {
                    let o = i * w + j;
                    let v = ((rf * a[k][o] as i64 + (1 << 27)) >> 28) as i32;
                    csf_a[k][o] = v;
                    csf_f[k][o] = ((I4_ONE_BY_30 * (v as i64).abs() - (1i64 << 31)) >> 32) as i32;
                }
            }
        }
        (csf_a, csf_f)
    }

    /// The masking threshold at (i, j): the masking filter's 3×3 sums over the three
    /// orientations, the centre weighted 1/15 instead of 1/30; rows and columns reflected at the
    /// start (-1 → 1) and repeated at the end (n → n - 1).
    fn threshold<T: Copy + Into<i64>>(
        csf_a: &[Vec<T>; 3],
        csf_f: &[Vec<T>; 3],
        centre: impl Fn(i64) -> i32,
        w: usize,
        h: usize,
        i: usize,
        j: usize,
    ) -> i32 {
        let rows = [
            if i == 0 { 1 } else { i - 1 },
            i,
            if i == h - 1 { h - 1 } else { i + 1 },
        ];
        let cols = [
            if j == 0 { 1 } else { j - 1 },
            j,
            if j == w - 1 { w - 1 } else { j + 1 },
        ];
        let mut thr = 0i32;
        for k in 0..3 {
            let mut sum = 0i32;
            for (a, &y) in rows.iter().enumerate() {
                for (b, &x) in cols.iter().enumerate() {
                    sum = sum.wrapping_add(if (a, b) == (1, 1) {
                        centre(csf_a[k][y * w + x].into())
                    } else {
                        csf_f[k][y * w + x].into() as i32
                    });
                }
            }
            thr = thr.wrapping_add(sum);
        }
        thr
    }

    /// Scale 0's contrast-masked sums (`adm_cm`).
    pub(crate) fn num_accum_s0(
        p: &Params,
        dr: &[Vec<i16>; 3],
        csf_a: &[Vec<i16>; 3],
        csf_f: &[Vec<i16>; 3],
        w: usize,
        h: usize,
    ) -> [i64; 3] {
        let (shift_hv, shift_d, shift_rows) = num0_shifts(w, h);
        let shift_cub = [shift_hv, shift_hv, shift_d];
        let add_cub = shift_cub.map(|s| half_of(s) as i64);
        let add_rows = half_of(shift_rows) as i64;
        const SHIFT_SQ: [u32; 3] = [29, 29, 30];
        const SHIFT_SUB: [u32; 3] = [10, 10, 12];
        let (l, r) = pool_range(w);
        let (t, b) = pool_range(h);
        let mut acc = [0i64; 3];
        for i in t..b {
            let mut inner = [0i64; 3];
            for j in l..r {
                let thr = threshold(
                    csf_a,
                    csf_f,
                    |c| ((ONE_BY_15 * (c as i32).abs() + 2048) >> 12) as i16 as i32,
                    w,
                    h,
                    i,
                    j,
                );
                for k in 0..3 {
                    let x = dr[k][i * w + j] as i32 * p.i_rfactor0[k];
                    let x = (x.abs() - thr.wrapping_shl(SHIFT_SUB[k])).max(0);
                    let sq = SHIFT_SQ[k];
                    let x_sq = ((x as i64 * x as i64 + (1i64 << (sq - 1))) >> sq) as i32;
                    inner[k] += (x_sq as i64 * x as i64 + add_cub[k]) >> shift_cub[k];
                }
            }
            for k in 0..3 {
                acc[k] += (inner[k] + add_rows) >> shift_rows;
            }
        }
        acc
    }

    /// The contrast-masked sums of scales 1 to 3 (`i4_adm_cm`).
    pub(crate) fn num_accum_s123(
        p: &Params,
        s: usize,
        dr: &[Vec<i32>; 3],
        csf_a: &[Vec<i32>; 3],
        csf_f: &[Vec<i32>; 3],
        w: usize,
        h: usize,
    ) -> [i64; 3] {
        let (shift_cub, shift_rows) = num123_shifts(w, h);
        let add_cub = half_of(shift_cub) as i64;
        let add_rows = half_of(shift_rows) as i64;
        let (l, r) = pool_range(w);
        let (t, b) = pool_range(h);
        let mut acc = [0i64; 3];
        for i in t..b {
            let mut inner = [0i64; 3];
            for j in l..r {
                let thr = threshold(
                    csf_a,
                    csf_f,
                    |c| ((I4_ONE_BY_15 * c.abs() - (1i64 << 31)) >> 32) as i32,
                    w,
                    h,
                    i,
                    j,
                );
                for k in 0..3 {
                    let rf = p.i_rfactor[s][k] as i64;
                    let x = ((dr[k][i * w + j] as i64 * rf + (1 << 27)) >> 28) as i32;
                    let x = (x.wrapping_abs().wrapping_sub(thr)).max(0);
                    let x_sq = ((x as i64 * x as i64 + (1i64 << 29)) >> 30) as i32;
                    inner[k] += (x_sq as i64 * x as i64 + add_cub) >> shift_cub;
                }
            }
            for k in 0..3 {
                acc[k] += (inner[k] + add_rows) >> shift_rows;
            }
        }
        acc
    }

    /// The scores of one pair.
    pub(crate) fn scores(p: &Params, input: &Input<'_, '_>, avx2: bool) -> AdmScores {
        let (w, h, rf, ds) = match input {
            Input::U8(r, d) => {
                let (w, h) = (r.width(), r.height());
                let pr = |y: usize, x: usize| r.row(y)[x] as i32;
                let pd = |y: usize, x: usize| d.row(y)[x] as i32;
                (w, h, dwt_s0(&pr, w, h, 8, avx2), dwt_s0(&pd, w, h, 8, avx2))
            }
            Input::U16(r, d, bpc) => {
                let (w, h) = (r.width(), r.height());
                let pr = |y: usize, x: usize| r.row(y)[x] as i32;
                let pd = |y: usize, x: usize| d.row(y)[x] as i32;
                (
                    w,
                    h,
                    dwt_s0(&pr, w, h, *bpc, false),
                    dwt_s0(&pd, w, h, *bpc, false),
                )
            }
        };
        let mut out = [ScaleNumDen::default(); 4];
        let (bw, bh) = (rf.w, rf.h);
        let dec = decouple_s0(p, &rf, &ds);
        let den = den_s0(den_accum_s0(&rf), p, bw, bh);
        let (csf_a, csf_f) = csf_s0(p, &dec.a, bw, bh);
        let num = num_s0(num_accum_s0(p, &dec.r, &csf_a, &csf_f, bw, bh), bw, bh);
        out[0] = ScaleNumDen { num, den };

        let mut ra: Vec<i32> = rf.a.iter().map(|&v| v as i32).collect();
        let mut da: Vec<i32> = ds.a.iter().map(|&v| v as i32).collect();
        let (mut sw, mut sh) = (bw, bh);
        for (s, o) in out.iter_mut().enumerate().skip(1) {
            let rf = dwt_s123(&ra, sw, sh, s);
            let ds = dwt_s123(&da, sw, sh, s);
            (sw, sh) = (rf.w, rf.h);
            let dec = decouple_s123(p, &rf, &ds);
            let den = den_s123(den_accum_s123(&rf, s), s, p, sw, sh);
            let (csf_a, csf_f) = csf_s123(p, s, &dec.a, sw, sh);
            let num = num_s123(
                num_accum_s123(p, s, &dec.r, &csf_a, &csf_f, sw, sh),
                s,
                sw,
                sh,
            );
            *o = ScaleNumDen { num, den };
            ra = rf.a;
            da = ds.a;
        }
        combine(&out, w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Sample;
    use crate::testutil::{pair, pair8};
    use crate::vmaf::{VmafConfig, VmafModelVersion, VmafScorer};
    use crate::OwnedFrame;

    /// libvmaf's own integer ADM scores of one pair: adm2, then the four scales. `cpumask` 255
    /// keeps libvmaf to its C code; a gain limit of 1 is read from the `vmaf_v0.6.1neg` model's
    /// features, the only way the scorer sets that option.
    fn libvmaf_adm<T: Sample>(
        r: &OwnedFrame<T>,
        d: &OwnedFrame<T>,
        cpumask: u64,
        neg: bool,
    ) -> [f64; 5] {
        let mut s = VmafScorer::new(VmafConfig {
            models: if neg {
                vec![VmafModelVersion::V0_6_1Neg]
            } else {
                vec![]
            },
            features: if neg { vec![] } else { vec!["adm".into()] },
            native: false,
            cpumask,
            ..Default::default()
        })
        .unwrap();
        s.push(&r.view().unwrap(), &d.view().unwrap()).unwrap();
        let res = s.finish().unwrap();
        let suffix = if neg { "_egl_1" } else { "" };
        let f = |n: &str| res.features[&format!("{n}{suffix}")][0];
        [
            f("integer_adm2"),
            f("integer_adm_scale0"),
            f("integer_adm_scale1"),
            f("integer_adm_scale2"),
            f("integer_adm_scale3"),
        ]
    }

    fn flat(s: &AdmScores) -> [f64; 5] {
        [s.adm2, s.scales[0], s.scales[1], s.scales[2], s.scales[3]]
    }

    /// Equal as libvmaf's doubles are: bit for bit, NaN included.
    fn same(a: &[f64; 5], b: &[f64; 5]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    /// Checks one pair: for each of libvmaf's two 8-bit transforms, libvmaf (C code with
    /// `cpumask` 255, what runs on this CPU with 0), the scalar port and the fast kernel on every
    /// instruction set must agree exactly.
    fn check<T: Sample>(r: &OwnedFrame<T>, d: &OwnedFrame<T>, gain_limit: f64, what: &str) {
        let neg = gain_limit == 1.0;
        let (rv, dv) = (r.view().unwrap(), d.view().unwrap());
        let bpc = rv.bit_depth();
        let params = Params::new(gain_limit);
        for (variant, mask) in [(DwtVariant::C, 255), (DwtVariant::Avx2, 0)] {
            let avx2 = variant == DwtVariant::Avx2;
            let want = libvmaf_adm(r, d, mask, neg);
            let oracle = match (T::as_u8_plane(rv.luma()), T::as_u16_plane(rv.luma())) {
                (Some(rl), _) => {
                    let dl = T::as_u8_plane(dv.luma()).unwrap();
                    reference::scores(&params, &reference::Input::U8(&rl, &dl), avx2)
                }
                (_, Some(rl)) => {
                    let dl = T::as_u16_plane(dv.luma()).unwrap();
                    reference::scores(&params, &reference::Input::U16(&rl, &dl, bpc as u32), avx2)
                }
                _ => unreachable!(),
            };
            assert!(
                same(&flat(&oracle), &want),
                "{what} {variant:?}: port {oracle:?} libvmaf {want:?}"
            );
            let mut adm = Adm::with_variant(gain_limit, variant);
            for (arch, got) in crate::simd::on_every_arch(|| {
                let pair = match (T::as_u8_plane(rv.luma()), T::as_u16_plane(rv.luma())) {
                    (Some(rl), _) => LumaPair::Bits8(rl, T::as_u8_plane(dv.luma()).unwrap()),
                    (_, Some(rl)) => LumaPair::High(rl, T::as_u16_plane(dv.luma()).unwrap(), bpc),
                    _ => unreachable!(),
                };
                adm.score(&pair)
            }) {
                assert!(
                    same(&flat(&got), &want),
                    "{what} {variant:?} on {arch}: rdbench {got:?} libvmaf {want:?}"
                );
            }
        }
    }

    /// libvmaf's AVX2 transform departs from its C code on 8-bit pictures whose width is a
    /// multiple of 8 (here 64, 96, 128, 56, 72, 88, 200, 248); the kernel follows either.
    #[test]
    fn scores_equal_libvmafs_on_every_instruction_set() {
        for (w, h, noise, seed) in [
            (64, 48, 6, 1),
            (67, 45, 3, 2),
            (33, 33, 9, 3),
            (250, 131, 12, 5),
            (640, 360, 5, 8),
            (96, 64, 0, 6),
            (128, 72, 40, 7),
            (56, 40, 7, 9),
            (72, 50, 7, 10),
            (88, 35, 7, 11),
            (200, 100, 20, 12),
            (248, 64, 9, 13),
            (35, 97, 4, 14),
        ] {
            let (r, d) = pair8(w, h, noise, seed);
            check(
                &r,
                &d,
                DEFAULT_GAIN_LIMIT,
                &format!("{w}x{h} noise {noise}"),
            );
        }
    }

    /// 10-, 12- and 16-bit video (libvmaf reads no other depth): libvmaf's 16-bit transform.
    #[test]
    fn high_bit_depth_scores_equal_libvmafs_on_every_instruction_set() {
        for (w, h, bpc, noise, seed) in [
            (64, 48, 10, 20, 1),
            (67, 45, 10, 9, 2),
            (33, 33, 10, 30, 3),
            (250, 131, 12, 60, 5),
            (320, 180, 10, 25, 8),
            (128, 72, 12, 200, 7),
            (96, 64, 10, 0, 6),
            (64, 40, 16, 3000, 10),
        ] {
            let (r, d) = pair(w, h, bpc, noise, seed);
            check(
                &r,
                &d,
                DEFAULT_GAIN_LIMIT,
                &format!("{w}x{h} {bpc}-bit noise {noise}"),
            );
        }
    }

    /// `vmaf_v0.6.1neg`'s gain limit of 1: no enhancement counts as restored detail.
    #[test]
    fn the_neg_gain_limit_equals_libvmafs() {
        for (w, h, noise, seed) in [(64, 48, 6, 1), (67, 45, 3, 2), (250, 131, 12, 5)] {
            let (r, mut d) = pair8(w, h, noise, seed);
            // Sharpen the distorted picture so that some of its detail exceeds the reference's.
            let src = d.planes[0].clone();
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let c = src[y * w + x] as i32 * 5
                        - src[y * w + x - 1] as i32
                        - src[y * w + x + 1] as i32
                        - src[(y - 1) * w + x] as i32
                        - src[(y + 1) * w + x] as i32;
                    d.planes[0][y * w + x] = c.clamp(0, 255) as u8;
                }
            }
            check(&r, &d, 1.0, &format!("{w}x{h} sharpened, gain limit 1"));
        }
        let (r, d) = pair(96, 64, 10, 30, 4);
        check(&r, &d, 1.0, "96x64 10-bit, gain limit 1");
    }

    /// Identical pictures (every gain 1, the angle test always passes), an inverted copy (every
    /// angle beyond 90°), flat pictures (zero coefficients, libvmaf's 0/0 cases) and a flat
    /// reference against a textured picture.
    #[test]
    fn identical_inverted_and_flat_pictures_equal_libvmafs() {
        let (r, _) = pair8(80, 40, 0, 9);
        let mut inv = r.clone();
        for v in inv.planes[0].iter_mut() {
            *v = 255 - *v;
        }
        let flat_pic = |v: u8| {
            let mut f = r.clone();
            f.planes[0].fill(v);
            f
        };
        check(&r, &r, DEFAULT_GAIN_LIMIT, "identical");
        check(&r, &inv, DEFAULT_GAIN_LIMIT, "inverted");
        check(
            &flat_pic(128),
            &flat_pic(128),
            DEFAULT_GAIN_LIMIT,
            "flat, identical",
        );
        check(
            &flat_pic(20),
            &flat_pic(200),
            DEFAULT_GAIN_LIMIT,
            "flat, different",
        );
        check(&flat_pic(90), &r, DEFAULT_GAIN_LIMIT, "flat reference");
        check(&r, &flat_pic(90), DEFAULT_GAIN_LIMIT, "flat distorted");
        let (r10, _) = pair(72, 56, 12, 0, 3);
        let mut inv10 = r10.clone();
        for v in inv10.planes[0].iter_mut() {
            *v = 4095 - *v;
        }
        check(&r10, &inv10, DEFAULT_GAIN_LIMIT, "12-bit inverted");
    }

    /// Pictures that drive the coefficients to their extremes at every scale: checkerboards of
    /// several periods at full contrast, binary noise, and their inversions, 8-bit and 16-bit.
    #[test]
    fn extreme_pictures_equal_libvmafs() {
        let (w, h) = (136, 72);
        let mut rng = crate::testutil::Lcg(11);
        let noise: Vec<bool> = (0..w * h).map(|_| rng.next() & 1 == 1).collect();
        type Pattern<'a> = Box<dyn Fn(usize, usize) -> bool + 'a>;
        let patterns: [(&str, Pattern); 5] = [
            ("checker 1", Box::new(|x, y| (x + y) % 2 == 0)),
            ("checker 2", Box::new(|x, y| (x / 2 + y / 2) % 2 == 0)),
            ("checker 4", Box::new(|x, y| (x / 4 + y / 4) % 2 == 0)),
            ("stripes 8", Box::new(|x, _| (x / 8) % 2 == 0)),
            ("noise", Box::new(|x, y| noise[y * w + x])),
        ];
        for (name, pat) in &patterns {
            for &(bpc, max) in &[(8u8, 255u32), (16, 65535)] {
                let mut r = OwnedFrame::<u16>::new(w, h, bpc, crate::ChromaSampling::Cs444);
                for y in 0..h {
                    for x in 0..w {
                        r.planes[0][y * w + x] = if pat(x, y) { max as u16 } else { 0 };
                    }
                }
                let mut inv = r.clone();
                for v in inv.planes[0].iter_mut() {
                    *v = max as u16 - *v;
                }
                // A half-contrast copy, and the inversion.
                let mut half = r.clone();
                for v in half.planes[0].iter_mut() {
                    *v /= 2;
                }
                for (dname, d) in [("inverted", &inv), ("half", &half)] {
                    let what = format!("{name} {bpc}-bit vs {dname}");
                    if bpc == 8 {
                        let cvt = |f: &OwnedFrame<u16>| OwnedFrame::<u8> {
                            planes: std::array::from_fn(|i| {
                                f.planes[i].iter().map(|&v| v as u8).collect()
                            }),
                            width: f.width,
                            height: f.height,
                            strides: f.strides,
                            bit_depth: 8,
                            sampling: f.sampling,
                        };
                        check(&cvt(&r), &cvt(d), DEFAULT_GAIN_LIMIT, &what);
                    } else {
                        check(&r, d, DEFAULT_GAIN_LIMIT, &what);
                    }
                }
            }
        }
    }

    /// The portable decoupling kernels against the port of libvmaf's on coefficients of every
    /// magnitude (the frame tests above reach only the magnitudes real pictures produce).
    #[test]
    fn decoupling_equals_the_port_on_coefficients_of_every_magnitude() {
        let mut rng = crate::testutil::Lcg(21);
        let (w, h) = (24, 24);
        let mut value = |bits: u32| -> i32 {
            let e = rng.next() % (bits + 1);
            let m = ((rng.next() as u64) << 8 | rng.next() as u64) & ((1u64 << e) - 1);
            if rng.next() & 1 == 1 {
                -(m as i64) as i32
            } else {
                m as i32
            }
        };
        for trial in 0..40 {
            let bits = if trial % 2 == 0 { 14 } else { 31 };
            let mut planes: Vec<Vec<i32>> = (0..3)
                .map(|_| (0..w * h).map(|_| value(bits)).collect())
                .collect();
            // Distorted coefficients equal, opposite, halved or unrelated.
            for k in 0..3 {
                let t: Vec<i32> = planes[k]
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| match i % 4 {
                        0 => v,
                        1 => v.wrapping_neg(),
                        2 => v / 2,
                        _ => value(bits),
                    })
                    .collect();
                planes.push(t);
            }
            if bits == 14 {
                planes
                    .iter_mut()
                    .flatten()
                    .for_each(|v| *v = (*v).clamp(-22840, 22840));
            }
            for gain in [1.0, 2.5, 100.0] {
                let p = Params::new(gain);
                let mut r: [Vec<i32>; 3] = std::array::from_fn(|_| vec![0i32; w]);
                let mut a: [Vec<i32>; 3] = std::array::from_fn(|_| vec![0i32; w]);
                let (l, rt) = ext_range(w);
                for y in 0..h {
                    let o: [&[i32]; 3] = std::array::from_fn(|k| &planes[k][y * w + l..y * w + rt]);
                    let t: [&[i32]; 3] =
                        std::array::from_fn(|k| &planes[3 + k][y * w + l..y * w + rt]);
                    let [r0, r1, r2] = &mut r;
                    let [a0, a1, a2] = &mut a;
                    let mut rr = [&mut r0[l..rt], &mut r1[l..rt], &mut r2[l..rt]];
                    let mut aa = [&mut a0[l..rt], &mut a1[l..rt], &mut a2[l..rt]];
                    if bits == 14 {
                        decouple0(&p, o, t, &mut rr, &mut aa);
                        let bands = |k0: usize| reference::Bands::<i16> {
                            w,
                            h,
                            a: vec![0; w * h],
                            hz: planes[k0].iter().map(|&v| v as i16).collect(),
                            v: planes[k0 + 1].iter().map(|&v| v as i16).collect(),
                            d: planes[k0 + 2].iter().map(|&v| v as i16).collect(),
                        };
                        let want = reference::decouple_s0(&p, &bands(0), &bands(3));
                        for k in 0..3 {
                            for x in l..rt {
                                assert_eq!(
                                    r[k][x],
                                    want.r[k][y * w + x] as i32,
                                    "r {k} trial {trial}"
                                );
                                assert_eq!(
                                    a[k][x],
                                    want.a[k][y * w + x] as i32,
                                    "a {k} trial {trial}"
                                );
                            }
                        }
                    } else {
                        decouple123(&p, o, t, &mut rr, &mut aa);
                        let bands = |k0: usize| reference::Bands::<i32> {
                            w,
                            h,
                            a: vec![0; w * h],
                            hz: planes[k0].clone(),
                            v: planes[k0 + 1].clone(),
                            d: planes[k0 + 2].clone(),
                        };
                        let want = reference::decouple_s123(&p, &bands(0), &bands(3));
                        for k in 0..3 {
                            for x in l..rt {
                                assert_eq!(r[k][x], want.r[k][y * w + x], "r {k} trial {trial}");
                                assert_eq!(a[k][x], want.a[k][y * w + x], "a {k} trial {trial}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Views with a stride wider than the picture score as the packed pictures do.
    #[test]
    fn strides_are_honoured() {
        let (r, d) = pair8(70, 50, 8, 4);
        let pad = |f: &OwnedFrame<u8>| -> Vec<u8> {
            let mut v = vec![7u8; 96 * 50];
            for y in 0..50 {
                v[y * 96..y * 96 + 70].copy_from_slice(&f.planes[0][y * 70..y * 70 + 70]);
            }
            v
        };
        let (rb, db) = (pad(&r), pad(&d));
        let rp = Plane::new(&rb, 70, 50, 96).unwrap();
        let dp = Plane::new(&db, 70, 50, 96).unwrap();
        let (rv, dv) = (r.view().unwrap(), d.view().unwrap());
        let mut adm = Adm::default();
        assert_eq!(adm.scores(&rp, &dp), adm.scores(rv.luma(), dv.luma()));
    }

    /// Scoring frame after frame, at changing sizes, reuses the buffers without stale values.
    #[test]
    fn one_kernel_scores_a_sequence_of_sizes() {
        let mut adm = Adm::default();
        for (w, h, seed) in [(250, 131, 1), (64, 48, 2), (250, 131, 1), (120, 90, 3)] {
            let (r, d) = pair8(w, h, 10, seed);
            let (rv, dv) = (r.view().unwrap(), d.view().unwrap());
            let fresh = Adm::default().scores(rv.luma(), dv.luma());
            assert_eq!(adm.scores(rv.luma(), dv.luma()), fresh, "{w}x{h}");
        }
    }

    #[test]
    fn sizes_below_the_minimum_are_not_supported() {
        assert!(Adm::supports(33, 33));
        assert!(!Adm::supports(32, 33));
        assert!(!Adm::supports(33, 17));
        assert!(!Adm::supports(48, 100));
        assert!(Adm::supports(1920, 1080));
    }
}
