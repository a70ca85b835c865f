//! ADM (the additive detail loss measure of VMAF) of 8- to 16-bit luma, computed exactly as
//! libvmaf 2.3.1's integer `adm` extractor computes it, so that `adm2` and the four per-scale
//! scores equal libvmaf's `VMAF_integer_feature_adm2_score` and `integer_adm_scale{0..3}`.
//!
//! This file holds the shared pieces: the options, the noise-floor model and the final
//! floating-point combination (which must round exactly as libvmaf's does). The plain scalar port
//! of libvmaf's integer pipeline, kept as the oracle of the fast kernel, is [`reference`].

use crate::frame::Plane;
use crate::vif::LumaPair;

/// libvmaf's default enhancement gain limit (`adm_enhn_gain_limit`); `vmaf_v0.6.1neg` uses 1.0.
pub const DEFAULT_GAIN_LIMIT: f64 = 100.0;

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
    /// 2^30 / i for i in -32768..=32768, at i + 32768 (libvmaf's `div_lookup`; entry 32768 is 0).
    pub(crate) div_lookup: Vec<i32>,
}

impl Params {
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
        let mut div_lookup = vec![0i32; 65537];
        for i in 1..=32768usize {
            let recip = (1i32 << 30) / i as i32;
            div_lookup[32768 + i] = recip;
            div_lookup[32768 - i] = -recip;
        }
        Self {
            gain_limit,
            cos_1deg_sq: (cos1 * cos1) as f32,
            rfactor,
            i_rfactor0,
            i_rfactor,
            div_lookup,
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
    for k in 0..3 {
        let f = accum[k] as f32 / final_shift;
        out += cbrt_f32(f) + add;
    }
    out
}

/// Which of libvmaf's two scale-0 transforms of 8-bit pictures to follow.
///
/// libvmaf runs an AVX2 transform on 8-bit pictures whose width is a multiple of 8 when the CPU
/// has AVX2, and its C transform otherwise. The two differ at the right edge: the AVX2 one does
/// not mirror the last output column's fourth tap but reads one intermediate sample past the
/// row, which is the first sample of the vertical high-pass row stored right after it (or, for
/// widths of 16k + 8, the transform of the zeroed padding libvmaf's pictures carry, which also
/// overwrites the first eight high-pass samples). That column feeds the coarser scales, so the
/// scores differ. Everything else is the same integer arithmetic.
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

/// Reusable ADM state: the derived constants and work buffers.
pub struct Adm {
    params: Params,
    variant: DwtVariant,
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
        }
    }

    /// Whether a `w`×`h` picture can be scored: both at least [`MIN_SIZE`], and the width not
    /// 40 or 48, where libvmaf's AVX2 transform of 8-bit pictures lets bytes it never wrote into
    /// the scores.
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
    /// If the planes differ in size or are smaller than [`MIN_SIZE`]; callers check
    /// [`Adm::supports`].
    pub fn scores(&mut self, reference: &Plane<'_, u8>, distorted: &Plane<'_, u8>) -> AdmScores {
        Self::check(reference, distorted);
        reference::scores(
            &self.params,
            &reference::Input::U8(reference, distorted),
            self.variant == DwtVariant::Avx2,
        )
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
        reference::scores(
            &self.params,
            &reference::Input::U16(reference, distorted, bpc as u32),
            false,
        )
    }

    /// [`Adm::scores`] or [`Adm::scores_hbd`], as the pair is.
    pub fn score(&mut self, pair: &LumaPair<'_>) -> AdmScores {
        match pair {
            LumaPair::Bits8(r, d) => self.scores(r, d),
            LumaPair::High(r, d, bpc) => self.scores_hbd(r, d, *bpc),
        }
    }
}

/// A plain port of libvmaf's integer ADM: whole-picture buffers, one pass per step, the same
/// integer operations in the same order. The oracle of the fast kernel.
pub(crate) mod reference {
    use super::*;

    /// The two pictures of a pair: 8-bit, or `bpc`-bit in 16-bit words.
    pub(crate) enum Input<'a, 'b> {
        U8(&'a Plane<'b, u8>, &'a Plane<'b, u8>),
        U16(&'a Plane<'b, u16>, &'a Plane<'b, u16>, u32),
    }

    /// The four taps of output `i` of a decimating pass over `n` samples (libvmaf's
    /// `dwt2_src_indices_filt`): `2i - 1 ..= 2i + 2`, reflected about 0 at the start and
    /// mirrored with the edge sample repeated at the end.
    pub(crate) fn taps(i: usize, n: usize) -> [usize; 4] {
        if i == 0 {
            return [1, 0, 1, 2];
        }
        let m = |k: usize| if k >= n { 2 * n - k - 1 } else { k };
        [m(2 * i - 1), m(2 * i), m(2 * i + 1), m(2 * i + 2)]
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
            let ty = taps(i, h);
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
                    taps(j, w)
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
            let ty = taps(i, h);
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
                let tx = taps(j, w);
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
                        (p.div_lookup[(ov + 32768) as usize] as i64 * tv + 16384) >> 15
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
                        (p.div_lookup[msb as usize + 32768] as i64 * tv * sign
                            + (1i64 << (14 + shift)))
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
                (w, h, dwt_s0(&pr, w, h, *bpc, false), dwt_s0(&pd, w, h, *bpc, false))
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
    use crate::testutil::pair8;
    use crate::vmaf::{VmafConfig, VmafScorer};

    /// libvmaf's own integer ADM scores of one pair: adm2, then the four scales; `cpumask` 255
    /// keeps libvmaf to its C code.
    fn libvmaf_adm<T: crate::frame::Sample>(
        r: &crate::OwnedFrame<T>,
        d: &crate::OwnedFrame<T>,
        cpumask: u64,
    ) -> [f64; 5] {
        let mut s = VmafScorer::new(VmafConfig {
            models: vec![],
            features: vec!["adm".into()],
            cpumask,
            ..Default::default()
        })
        .unwrap();
        s.push(&r.view().unwrap(), &d.view().unwrap()).unwrap();
        let res = s.finish().unwrap();
        let f = |n: &str| res.features[n][0];
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

    #[test]
    fn reference_equals_libvmaf_c() {
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
            (320, 180, 3, 14),
        ] {
            let (r, d) = pair8(w, h, noise, seed);
            let (rv, dv) = (r.view().unwrap(), d.view().unwrap());
            for (variant, mask) in [(DwtVariant::C, 255), (DwtVariant::Avx2, 0)] {
                let want = libvmaf_adm(&r, &d, mask);
                let got = flat(&Adm::with_variant(100.0, variant).scores(rv.luma(), dv.luma()));
                assert_eq!(got, want, "{w}x{h} {variant:?}");
            }
        }
    }
}
