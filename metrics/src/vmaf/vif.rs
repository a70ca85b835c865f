//! VIF (visual information fidelity) of 8- to 16-bit luma, computed exactly as libvmaf 2.3.1's integer
//! `vif` extractor computes it: the same fixed-point filters, roundings, mirrored borders,
//! decimation and log2 table, so the four per-scale scores are bit-identical to libvmaf's
//! `VMAF_integer_feature_vif_scale{0..3}_score`.
//!
//! The VMAF scorer ([`crate::vmaf`]) uses this kernel instead of libvmaf's own extractor for the
//! models whose VIF runs with default options, and hands libvmaf the scores. The work is organised
//! differently from libvmaf's, which is where the speed comes from:
//!
//! * each scale is streamed row by row: a row's vertical and horizontal filter outputs are turned
//!   into VIF statistics while still in cache, instead of five full-frame 32-bit planes per scale;
//! * the symmetric filters add mirrored taps before multiplying (half the multiplications);
//! * the low-pass filter that feeds the next scale is evaluated only at the even rows and columns
//!   the decimation keeps, where libvmaf filters every pixel and then drops three in four;
//! * loops are written for the compiler to vectorise under the widest instruction set the CPU has
//!   (AVX-512, AVX2 or scalar, chosen at run time); on AVX-512 and on AVX2 the per-pixel
//!   statistic, whose branches, divisions and table look-ups defeat the compiler, is written with
//!   operations by name (`pulp`'s safe wrappers; the AVX2 one in `vif/avx2.rs`) and turns its branches
//!   into masks; so is the vertical pass of scale 0 on AVX-512 (8-bit, and 10- to 12-bit with
//!   64-bit sums of squares), which pairs each tap's two rows for `vpmaddwd`;
//! * on AVX-512 the statistic's three log2 look-ups per pixel evaluate piecewise cubics in
//!   registers instead of reading the table sixteen lanes one by one; the few lanes near a
//!   rounding step read the table, and the cubics are checked against the whole table when
//!   the kernel is made (`avx512::Cubics`), so the values stay the table's;
//! * several distorted pictures against one reference ([`Vif::scales_group`]) share the
//!   reference's filtered mean and square and its decimation: the passes take which quantities to
//!   compute as a const parameter, and one pair keeps the fused five-quantity pass.
//!
//! Helpers inside the SIMD code are `#[inline(always)]` functions and plain loops, never
//! closures or `array::from_fn`: a closure the compiler leaves out of line loses the caller's
//! instruction set, and every intrinsic in it becomes a call.
//!
//! Tests check the four scores against libvmaf's own extractor for equality, on every instruction
//! set the CPU has, on even and odd picture sizes, and every instruction set's integer
//! accumulators against the scalar path's on extreme content at 8 to 16 bits, and a group's
//! scores against each of its pairs scored alone.

use crate::frame::Plane;
use crate::simd;

#[cfg(target_arch = "x86_64")]
mod avx2;
use pulp::{Simd, WithSimd};

/// libvmaf's VIF filters per scale (`vif_filter1d_table`), each summing to 65536.
pub(crate) const FILTERS: [&[u32]; 4] = [
    &[
        489, 935, 1640, 2640, 3896, 5274, 6547, 7455, 7784, 7455, 6547, 5274, 3896, 2640, 1640,
        935, 489,
    ],
    &[1244, 3663, 7925, 12590, 14692, 12590, 7925, 3663, 1244],
    &[3571, 16004, 26386, 16004, 3571],
    &[10904, 43728, 10904],
];

/// libvmaf's default enhancement gain limit (`vif_enhn_gain_limit`).
pub const DEFAULT_GAIN_LIMIT: f64 = 100.0;

/// The smallest width and height this kernel scores: every scale must be larger than its
/// filters' half widths for mirrored borders to stay inside the picture.
pub const MIN_SIZE: usize = 16;

/// Numerator and denominator of one scale, as libvmaf keeps them (`float`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VifScale {
    /// Information the distorted picture keeps.
    pub num: f32,
    /// Information in the reference.
    pub den: f32,
}

impl VifScale {
    /// The scale's score, `num / den` in single precision as libvmaf divides it.
    pub fn score(&self) -> f64 {
        (self.num / self.den) as f64
    }
}

/// `log2(i) * 2048`, rounded, for i in 32767..=65535 (libvmaf's `log_generate`).
pub(crate) fn log2_table() -> Vec<u16> {
    let mut t = vec![0u16; 65537];
    for (i, v) in t.iter_mut().enumerate().take(65536).skip(32767) {
        *v = (((i as f32).log2() * 2048.0) as f64).round() as u16;
    }
    t
}

/// libvmaf's log2 table, and on AVX-512 the same values as cubics evaluated in registers.
pub(crate) struct Log2 {
    table: Vec<u16>,
    #[cfg(target_arch = "x86_64")]
    cubics: Option<avx512::Cubics>,
}

impl Log2 {
    fn new() -> Self {
        let table = log2_table();
        Self {
            #[cfg(target_arch = "x86_64")]
            cubics: avx512::Cubics::of(table[..].try_into().expect("65537 entries")),
            table,
        }
    }
}

/// The fixed-point accumulators of one scale's statistic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Accum {
    pub(crate) num_log: i64,
    pub(crate) den_log: i64,
    pub(crate) num_non_log: i64,
    pub(crate) den_non_log: i64,
    pub(crate) x: i64,
    pub(crate) x2: i64,
    pub(crate) num_x: i64,
}

impl Accum {
    #[inline(always)]
    fn add(&mut self, o: &Accum) {
        self.num_log += o.num_log;
        self.den_log += o.den_log;
        self.num_non_log += o.num_non_log;
        self.den_non_log += o.den_non_log;
        self.x += o.x;
        self.x2 += o.x2;
        self.num_x += o.num_x;
    }

    /// libvmaf's final combination, in double precision, stored as `float`.
    pub(crate) fn finish(&self) -> VifScale {
        let num = self.num_log as f64 / 2048.0
            + self.x2 as f64
            + (self.den_non_log as f64 - (self.num_non_log as f64 / 16384.0) / 65025.0);
        let den = self.den_log as f64 / 2048.0 - (self.x + self.num_x * 17) as f64
            + self.den_non_log as f64;
        VifScale {
            num: num as f32,
            den: den as f32,
        }
    }
}

#[inline(always)]
fn best16_from32(v: u32) -> (u16, i32) {
    let k = 16 - v.leading_zeros() as i32;
    ((v >> k) as u16, -k)
}

#[inline(always)]
fn best16_from64(v: u64) -> (u16, i32) {
    let k = v.leading_zeros() as i32;
    if k > 48 {
        let k = k - 48;
        ((v << k) as u16, k)
    } else if k < 47 {
        let k = 48 - k;
        ((v >> k) as u16, -k)
    } else if v >> 16 != 0 {
        ((v >> 1) as u16, -1)
    } else {
        (v as u16, 0)
    }
}

/// One pixel of libvmaf's `vif_statistic`, from the filtered means (`mu1`, `mu2`, scaled by 2^16
/// relative to the squares) and the filtered squares and product.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one pixel's five filter outputs, kept in registers
pub(crate) fn statistic(
    mu1: u32,
    mu2: u32,
    xx: u32,
    yy: u32,
    xy: u32,
    table: &[u16],
    gain_limit: f64,
    a: &mut Accum,
) {
    const SIGMA_NSQ: i32 = 65536 << 1;
    const EPS: f64 = 65536.0 * 1.0e-10;
    let round = |p: u64| ((p + 2147483648) >> 32) as u32;
    let mu1_sq = round(mu1 as u64 * mu1 as u64);
    let mu2_sq = round(mu2 as u64 * mu2 as u64);
    let mu1_mu2 = round(mu1 as u64 * mu2 as u64);
    let mut sigma1_sq = (xx.wrapping_sub(mu1_sq) as i32).max(0);
    let sigma2_sq = (yy.wrapping_sub(mu2_sq) as i32).max(0);
    let sigma12 = xy.wrapping_sub(mu1_mu2) as i32;
    if sigma1_sq < SIGMA_NSQ {
        a.num_non_log += sigma2_sq as i64;
        a.den_non_log += 1;
        return;
    }
    let mut g = sigma12 as f64 / (sigma1_sq as f64 + EPS);
    let mut sv_sq = (sigma2_sq as f64 - g * sigma12 as f64) as i32;
    if (sigma1_sq as f64) < EPS {
        g = 0.0;
        sv_sq = sigma2_sq;
        sigma1_sq = 0;
    }
    if (sigma2_sq as f64) < EPS {
        g = 0.0;
        sv_sq = 0;
    }
    if g < 0.0 {
        sv_sq = sigma2_sq;
        g = 0.0;
    }
    let sv_sq = sv_sq.max(0);
    let g = if g < gain_limit { g } else { gain_limit };

    // Both sums are taken in 32-bit unsigned arithmetic, as libvmaf stores them.
    let (log_den1, x) = best16_from32(sigma1_sq as u32 + SIGMA_NSQ as u32);
    a.num_x += 1;
    a.x += x as i64;
    let den_val = table[log_den1 as usize] as i64;
    if sigma12 >= 0 {
        let numer1 = sv_sq as u32 + SIGMA_NSQ as u32;
        let numer1_tmp = (g * g * sigma1_sq as f64) as i64 + numer1 as i64;
        let (numlog, x1) = best16_from64(numer1_tmp as u64);
        let (denlog, x2) = best16_from64(numer1 as u64);
        a.x2 += (x2 - x1) as i64;
        a.num_log += table[numlog as usize] as i64 - table[denlog as usize] as i64;
    }
    a.den_log += den_val;
}

/// Mirrors index `i` (which may lie up to one filter half-width outside) into `0..n`, as libvmaf
/// pads its buffers: row -k is row k, row n-1+k is row n-1-k.
#[inline(always)]
fn mirror(i: isize, n: usize) -> usize {
    if i < 0 {
        (-i) as usize
    } else if i as usize >= n {
        2 * (n - 1) - i as usize
    } else {
        i as usize
    }
}

/// Per-row work buffers, padded by the widest half filter (8) on both sides.
#[derive(Default)]
struct Rows {
    /// The row re-encoded for the AVX2 horizontal pass.
    #[cfg(target_arch = "x86_64")]
    packed: avx2::Packed,
    mu1: Vec<u32>,
    mu2: Vec<u32>,
    xx: Vec<u32>,
    yy: Vec<u32>,
    xy: Vec<u32>,
}

impl Rows {
    fn resize(&mut self, w: usize) {
        for v in [
            &mut self.mu1,
            &mut self.mu2,
            &mut self.xx,
            &mut self.yy,
            &mut self.xy,
        ] {
            v.clear();
            v.resize(w + 2 * PAD, 0);
        }
    }

    /// Fills the mirrored borders of the quantities `Q` says.
    #[inline(always)]
    fn pad<const Q: u8>(&mut self, w: usize, half: usize) {
        if Q & REF != 0 {
            pad_row(&mut self.mu1, w, half);
            pad_row(&mut self.xx, w, half);
        }
        if Q & DIS != 0 {
            pad_row(&mut self.mu2, w, half);
            pad_row(&mut self.yy, w, half);
            pad_row(&mut self.xy, w, half);
        }
    }
}

const PAD: usize = 8;

/// Fills the `half` mirrored samples on each side of a row stored at offset [`PAD`].
#[inline(always)]
fn pad_row(v: &mut [u32], w: usize, half: usize) {
    for f in 1..=half {
        v[PAD - f] = v[PAD + f];
        v[PAD + w - 1 + f] = v[PAD + w - 1 - f];
    }
}

/// A sample the kernel reads: 8- or 16-bit at scale 0, 16-bit below.
trait Src: Copy {
    fn get(self) -> u32;
}

impl Src for u8 {
    #[inline(always)]
    fn get(self) -> u32 {
        self as u32
    }
}

impl Src for u16 {
    #[inline(always)]
    fn get(self) -> u32 {
        self as u32
    }
}

/// Lanes per register block: one AVX-512 vector of 32-bit values.
const L: usize = 16;

/// Which of the five filtered quantities a pass computes (the passes' `Q` parameter): the
/// reference's own (`mu1`, `xx`), the distorted picture's with the product (`mu2`, `yy`, `xy`), or
/// all five. Scoring several distorted pictures against one reference computes the reference's
/// once per row and the others per picture; one pair computes all five in one pass.
const REF: u8 = 1;
const DIS: u8 = 2;
const ALL: u8 = REF | DIS;

/// Block starts covering `0..n` with blocks of [`L`]: full blocks, then one final block that ends
/// at `n` and may overlap the previous one (`n >= L`). The callers' per-lane outputs are pure
/// functions of the inputs, so lanes computed twice get the same value.
#[inline(always)]
fn block_starts(n: usize) -> impl Iterator<Item = usize> {
    block_starts_of(n, L)
}

/// [`block_starts`] with blocks of `len` (`n >= len`).
#[inline(always)]
fn block_starts_of(n: usize, len: usize) -> impl Iterator<Item = usize> {
    let full = n / len * len;
    (0..full).step_by(len).chain((full < n).then_some(n - len))
}

/// Vertical pass of scale 0 (8-bit) over columns `s..s + N` of one output row, with the taps'
/// rows in `r` and `d`: means rounded to 8 fractional bits, squares and product unshifted (they
/// fit 32 bits).
#[inline(always)]
fn vertical_s0_block<const N: usize, const Q: u8>(
    r: &[&[u8]; 17],
    d: &[&[u8]; 17],
    s: usize,
    out: &mut Rows,
) {
    const H: usize = 8;
    let (rf, df) = (Q & REF != 0, Q & DIS != 0);
    let f = FILTERS[0];
    let mut m1 = [0u32; N];
    let mut m2 = [0u32; N];
    let mut xx = [0u32; N];
    let mut yy = [0u32; N];
    let mut xy = [0u32; N];
    let c = f[H];
    let (rc, dc) = (&r[H][s..s + N], &d[H][s..s + N]);
    for l in 0..N {
        let (a, b) = (rc[l] as u32, dc[l] as u32);
        if rf {
            m1[l] = c * a;
            xx[l] = c * (a * a);
        }
        if df {
            m2[l] = c * b;
            yy[l] = c * (b * b);
            xy[l] = c * (a * b);
        }
    }
    for k in 0..H {
        let c = f[k];
        let (r0, r1) = (&r[k][s..s + N], &r[2 * H - k][s..s + N]);
        let (d0, d1) = (&d[k][s..s + N], &d[2 * H - k][s..s + N]);
        for l in 0..N {
            let (a0, a1, b0, b1) = (r0[l] as u32, r1[l] as u32, d0[l] as u32, d1[l] as u32);
            if rf {
                m1[l] += c * (a0 + a1);
                xx[l] += c * (a0 * a0 + a1 * a1);
            }
            if df {
                m2[l] += c * (b0 + b1);
                yy[l] += c * (b0 * b0 + b1 * b1);
                xy[l] += c * (a0 * b0 + a1 * b1);
            }
        }
    }
    let o = PAD + s;
    if rf {
        for (d, m) in out.mu1[o..o + N].iter_mut().zip(m1) {
            *d = (m + 128) >> 8;
        }
        out.xx[o..o + N].copy_from_slice(&xx);
    }
    if df {
        for (d, m) in out.mu2[o..o + N].iter_mut().zip(m2) {
            *d = (m + 128) >> 8;
        }
        out.yy[o..o + N].copy_from_slice(&yy);
        out.xy[o..o + N].copy_from_slice(&xy);
    }
}

/// Vertical pass of one output row at scale 0 (8-bit).
#[inline(always)]
fn vertical_s0<const Q: u8>(r: &[&[u8]; 17], d: &[&[u8]; 17], w: usize, out: &mut Rows) {
    #[cfg(target_arch = "x86_64")]
    if w >= 2 * L {
        if let Some(v4) = crate::simd::v4() {
            for s in block_starts_of(w, 2 * L) {
                avx512::vertical_s0_block32::<Q>(v4, r, d, s, out);
            }
            return;
        }
    }
    for s in block_starts(w) {
        vertical_s0_block::<L, Q>(r, d, s, out);
    }
}

/// Vertical pass of one output row at scale 0 of `bpc`-bit video (more than 8 bits).
#[inline(always)]
fn vertical_s0_hbd<const Q: u8>(
    r: &[&[u16]; 17],
    d: &[&[u16]; 17],
    w: usize,
    out: &mut Rows,
    bpc: u32,
) {
    let shifts = Shifts::scale0(bpc);
    #[cfg(target_arch = "x86_64")]
    if w >= 2 * L && bpc <= 12 {
        if let Some(v4) = crate::simd::v4() {
            for s in block_starts_of(w, 2 * L) {
                avx512::vertical_s0_hbd_block32::<Q>(v4, r, d, s, out, shifts);
            }
            return;
        }
    }
    vertical_s16::<Q>(r, d, FILTERS[0], w, out, shifts);
}

/// How a 16-bit vertical pass rounds: means and squares are shifted right by `mu` and `sq`
/// bits, rounding to nearest. Scales 1 to 3 shift both by 16; scale 0 of `bpc`-bit video shifts
/// the means by `bpc` and the squares by `2 * (bpc - 8)` (libvmaf's `filter1d_16`).
#[derive(Clone, Copy)]
struct Shifts {
    mu: u32,
    sq: u32,
}

impl Shifts {
    const DECIMATED: Shifts = Shifts { mu: 16, sq: 16 };

    fn scale0(bpc: u32) -> Shifts {
        Shifts {
            mu: bpc,
            sq: 2 * (bpc - 8),
        }
    }
}

/// Vertical pass over 16-bit samples (scale 0 of high-bit-depth video, and scales 1 to 3) over
/// columns `s..s + n` (`n` is `N`, or less for a row narrower than one block), rounded as
/// `shifts` says, squares accumulated in 64 bits.
///
/// `NARROW` says the samples have at most 12 bits (scale 0 of 10- and 12-bit video), so that the
/// sums of two squares or products fit 32 bits and only the multiplication by the tap widens.
#[inline(always)]
fn vertical_s16_block<const H: usize, const NARROW: bool, const N: usize, const Q: u8>(
    r: &[&[u16]],
    d: &[&[u16]],
    f: &[u32],
    s: usize,
    n: usize,
    out: &mut Rows,
    shifts: Shifts,
) {
    let (rf, df) = (Q & REF != 0, Q & DIS != 0);
    let mut m1 = [0u32; N];
    let mut m2 = [0u32; N];
    let mut xx = [0u64; N];
    let mut yy = [0u64; N];
    let mut xy = [0u64; N];
    let c = f[H];
    let (rc, dc) = (&r[H][s..s + n], &d[H][s..s + n]);
    for l in 0..n {
        let (a, b) = (rc[l] as u64, dc[l] as u64);
        if rf {
            m1[l] = c * a as u32;
            xx[l] = c as u64 * (a * a);
        }
        if df {
            m2[l] = c * b as u32;
            yy[l] = c as u64 * (b * b);
            xy[l] = c as u64 * (a * b);
        }
    }
    for k in 0..H {
        let c = f[k];
        let (r0, r1) = (&r[k][s..s + n], &r[2 * H - k][s..s + n]);
        let (d0, d1) = (&d[k][s..s + n], &d[2 * H - k][s..s + n]);
        if NARROW {
            for l in 0..n {
                let (a0, a1, b0, b1) = (r0[l] as u32, r1[l] as u32, d0[l] as u32, d1[l] as u32);
                if rf {
                    m1[l] += c * (a0 + a1);
                    xx[l] += c as u64 * (a0 * a0 + a1 * a1) as u64;
                }
                if df {
                    m2[l] += c * (b0 + b1);
                    yy[l] += c as u64 * (b0 * b0 + b1 * b1) as u64;
                    xy[l] += c as u64 * (a0 * b0 + a1 * b1) as u64;
                }
            }
        } else {
            for l in 0..n {
                let (a0, a1, b0, b1) = (r0[l] as u64, r1[l] as u64, d0[l] as u64, d1[l] as u64);
                if rf {
                    m1[l] += c * (a0 + a1) as u32;
                    xx[l] += c as u64 * (a0 * a0 + a1 * a1);
                }
                if df {
                    m2[l] += c * (b0 + b1) as u32;
                    yy[l] += c as u64 * (b0 * b0 + b1 * b1);
                    xy[l] += c as u64 * (a0 * b0 + a1 * b1);
                }
            }
        }
    }
    let o = PAD + s;
    let (mu_shift, mu_round) = (shifts.mu, 1u32 << (shifts.mu - 1));
    let sq_shift = shifts.sq;
    let sq_round = if sq_shift == 0 {
        0
    } else {
        1u64 << (sq_shift - 1)
    };
    if rf {
        for (d, m) in out.mu1[o..o + n].iter_mut().zip(m1) {
            *d = (m + mu_round) >> mu_shift;
        }
        for (d, m) in out.xx[o..o + n].iter_mut().zip(xx) {
            *d = ((m + sq_round) >> sq_shift) as u32;
        }
    }
    if df {
        for (d, m) in out.mu2[o..o + n].iter_mut().zip(m2) {
            *d = (m + mu_round) >> mu_shift;
        }
        for (d, m) in out.yy[o..o + n].iter_mut().zip(yy) {
            *d = ((m + sq_round) >> sq_shift) as u32;
        }
        for (d, m) in out.xy[o..o + n].iter_mut().zip(xy) {
            *d = ((m + sq_round) >> sq_shift) as u32;
        }
    }
}

/// Vertical pass of one output row at scales 1 to 3.
#[inline(always)]
fn vertical_s16<const Q: u8>(
    r: &[&[u16]],
    d: &[&[u16]],
    f: &[u32],
    w: usize,
    out: &mut Rows,
    shifts: Shifts,
) {
    #[inline(always)]
    fn run<const H: usize, const NARROW: bool, const Q: u8>(
        r: &[&[u16]],
        d: &[&[u16]],
        f: &[u32],
        w: usize,
        out: &mut Rows,
        shifts: Shifts,
    ) {
        // The block width stays a constant in the loop, for the compiler to vectorise.
        if w < L {
            vertical_s16_block::<H, NARROW, L, Q>(r, d, f, 0, w, out, shifts);
        } else {
            for s in block_starts(w) {
                // Eight lanes at a time, for the sums to stay in registers.
                vertical_s16_block::<H, NARROW, 8, Q>(r, d, f, s, 8, out, shifts);
                vertical_s16_block::<H, NARROW, 8, Q>(r, d, f, s + 8, 8, out, shifts);
            }
        }
    }
    match f.len() / 2 {
        // Scale 0 of video with at most 12 bits.
        8 if shifts.mu <= 12 => run::<8, true, Q>(r, d, f, w, out, shifts),
        8 => run::<8, false, Q>(r, d, f, w, out, shifts),
        4 => run::<4, false, Q>(r, d, f, w, out, shifts),
        2 => run::<2, false, Q>(r, d, f, w, out, shifts),
        _ => run::<1, false, Q>(r, d, f, w, out, shifts),
    }
}

/// Filter outputs of one block of a row, ready for the statistic.
struct Filtered {
    mu1: [u32; L],
    mu2: [u32; L],
    xx: [u32; L],
    yy: [u32; L],
    xy: [u32; L],
}

/// Horizontal pass over outputs `s..s + n` of a padded row, of the quantities `Q` says (the
/// others are left zero).
#[inline(always)]
fn horizontal_block<const H: usize, const Q: u8>(
    rows: &Rows,
    f: &[u32],
    s: usize,
    n: usize,
) -> Filtered {
    let (rf, df) = (Q & REF != 0, Q & DIS != 0);
    let mut m1 = [0u32; L];
    let mut m2 = [0u32; L];
    let mut xx = [0u64; L];
    let mut yy = [0u64; L];
    let mut xy = [0u64; L];
    // Output j reads inputs j - H ..= j + H, stored from PAD + j - H.
    let b = PAD + s - H;
    let span = n + 2 * H;
    let (p1, p2) = (&rows.mu1[b..b + span], &rows.mu2[b..b + span]);
    let (p3, p4, p5) = (
        &rows.xx[b..b + span],
        &rows.yy[b..b + span],
        &rows.xy[b..b + span],
    );
    // The 32-bit squares are split into 16-bit halves so that every sum stays in 32 bits:
    // (sum(c * hi) << 16) + sum(c * lo), rounded by 16 bits, is sum(c * hi) + (sum(c * lo) +
    // 32768) >> 16, exactly.
    let mut xh = [0u32; L];
    let mut yh = [0u32; L];
    let mut zh = [0u32; L];
    let mut xl = [0u32; L];
    let mut yl = [0u32; L];
    let mut zl = [0u32; L];
    let c = f[H];
    for l in 0..n {
        if rf {
            m1[l] = c * p1[H + l];
            xh[l] = c * (p3[H + l] >> 16);
            xl[l] = c * (p3[H + l] & 0xffff);
        }
        if df {
            m2[l] = c * p2[H + l];
            yh[l] = c * (p4[H + l] >> 16);
            zh[l] = c * (p5[H + l] >> 16);
            yl[l] = c * (p4[H + l] & 0xffff);
            zl[l] = c * (p5[H + l] & 0xffff);
        }
    }
    for k in 0..H {
        let c = f[k];
        let q = 2 * H - k;
        for l in 0..n {
            if rf {
                m1[l] += c * (p1[l + k] + p1[l + q]);
                xh[l] += c * ((p3[l + k] >> 16) + (p3[l + q] >> 16));
                xl[l] += c * ((p3[l + k] & 0xffff) + (p3[l + q] & 0xffff));
            }
            if df {
                m2[l] += c * (p2[l + k] + p2[l + q]);
                yh[l] += c * ((p4[l + k] >> 16) + (p4[l + q] >> 16));
                zh[l] += c * ((p5[l + k] >> 16) + (p5[l + q] >> 16));
                yl[l] += c * ((p4[l + k] & 0xffff) + (p4[l + q] & 0xffff));
                zl[l] += c * ((p5[l + k] & 0xffff) + (p5[l + q] & 0xffff));
            }
        }
    }
    let _ = (&mut xx, &mut yy, &mut xy);
    // Plain loops rather than `array::from_fn`, whose closure could be left out of line (and
    // without the caller's instruction set) in a large caller.
    let (mut ox, mut oy, mut oz) = ([0u32; L], [0u32; L], [0u32; L]);
    for l in 0..L {
        ox[l] = xh[l] + ((xl[l] + 32768) >> 16);
        oy[l] = yh[l] + ((yl[l] + 32768) >> 16);
        oz[l] = zh[l] + ((zl[l] + 32768) >> 16);
    }
    Filtered {
        mu1: m1,
        mu2: m2,
        xx: ox,
        yy: oy,
        xy: oz,
    }
}

/// The reference's horizontal outputs of one row (`mu1`, `xx`, unpadded), computed once and used
/// with each distorted picture's.
#[derive(Default)]
struct RefRow {
    mu1: Vec<u32>,
    xx: Vec<u32>,
}

/// One block of the five horizontal outputs: all from the row buffers, or the reference's taken
/// from `refh` and the others computed.
#[inline(always)]
fn block<const H: usize, const SHARED: bool>(
    rows: &Rows,
    refh: &RefRow,
    f: &[u32],
    s: usize,
    n: usize,
) -> Filtered {
    if SHARED {
        let mut out = horizontal_block::<H, DIS>(rows, f, s, n);
        out.mu1[..n].copy_from_slice(&refh.mu1[s..s + n]);
        out.xx[..n].copy_from_slice(&refh.xx[s..s + n]);
        out
    } else {
        horizontal_block::<H, ALL>(rows, f, s, n)
    }
}

/// The reference's horizontal pass of one row, into `refh`.
#[inline(always)]
fn horizontal_ref(rows: &Rows, f: &[u32], w: usize, refh: &mut RefRow) {
    #[inline(always)]
    fn run<const H: usize>(rows: &Rows, f: &[u32], w: usize, refh: &mut RefRow) {
        refh.mu1.resize(w, 0);
        refh.xx.resize(w, 0);
        if w < L {
            let out = horizontal_block::<H, REF>(rows, f, 0, w);
            refh.mu1.copy_from_slice(&out.mu1[..w]);
            refh.xx.copy_from_slice(&out.xx[..w]);
            return;
        }
        // Blocks of the constant width, for the compiler to vectorise.
        for s in block_starts(w) {
            let out = horizontal_block::<H, REF>(rows, f, s, L);
            refh.mu1[s..s + L].copy_from_slice(&out.mu1);
            refh.xx[s..s + L].copy_from_slice(&out.xx);
        }
    }
    match f.len() / 2 {
        8 => run::<8>(rows, f, w, refh),
        4 => run::<4>(rows, f, w, refh),
        2 => run::<2>(rows, f, w, refh),
        _ => run::<1>(rows, f, w, refh),
    }
}

/// Horizontal pass of one row and its statistic, block by block (with the reference's outputs
/// from `refh` when `SHARED`).
#[inline(always)]
fn horizontal_and_statistic<const SHARED: bool>(
    rows: &mut Rows,
    refh: &RefRow,
    f: &[u32],
    w: usize,
    log2: &Log2,
    gain_limit: f64,
    acc: &mut Accum,
) {
    #[inline(always)]
    fn run<const H: usize, const SHARED: bool>(
        rows: &mut Rows,
        refh: &RefRow,
        f: &[u32],
        w: usize,
        log2: &Log2,
        gain_limit: f64,
        acc: &mut Accum,
    ) {
        let mut a = Accum::default();
        #[cfg(target_arch = "x86_64")]
        if let Some(v4) = crate::simd::v4() {
            let table: &[u16; 65537] = log2.table[..]
                .try_into()
                .expect("the log2 table has 65537 entries");
            let log2 = avx512::Log2Ref {
                table,
                cubics: log2.cubics.as_ref(),
            };
            let mut row = avx512::RowAcc::new(v4);
            if w < L {
                let out = block::<H, SHARED>(rows, refh, f, 0, w);
                avx512::statistic16(v4, &out, (1u16 << w) - 1, log2, gain_limit, &mut row);
            } else {
                let mut done = 0;
                for start in block_starts(w) {
                    let out = block::<H, SHARED>(rows, refh, f, start, L);
                    let active = u16::MAX << (done - start);
                    avx512::statistic16(v4, &out, active, log2, gain_limit, &mut row);
                    done = start + L;
                }
            }
            row.flush(v4, acc);
            return;
        }
        let table = &log2.table[..];
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = crate::simd::v3() {
            let table: &[u16; 65537] = table.try_into().expect("the log2 table has 65537 entries");
            let mut st = avx2::StatAcc::new(v3);
            // The filters up to scale 2 have taps below 2^15, for 16-bit multiplications.
            if H >= 2 && !SHARED {
                avx2::horizontal_and_statistic::<H>(v3, rows, f, w, table, gain_limit, &mut st);
                st.flush(acc);
                return;
            }
            if w < L {
                let out = block::<H, SHARED>(rows, refh, f, 0, w);
                avx2::statistic_block(v3, &out, 0, w, table, gain_limit, &mut st);
            } else {
                let mut done = 0;
                for start in block_starts(w) {
                    let out = block::<H, SHARED>(rows, refh, f, start, L);
                    avx2::statistic_block(v3, &out, done - start, L, table, gain_limit, &mut st);
                    done = start + L;
                }
            }
            st.flush(acc);
            return;
        }
        if w < L {
            let out = block::<H, SHARED>(rows, refh, f, 0, w);
            for l in 0..w {
                statistic(
                    out.mu1[l], out.mu2[l], out.xx[l], out.yy[l], out.xy[l], table, gain_limit,
                    &mut a,
                );
            }
        } else {
            // Full blocks, then a last block ending at w whose lanes before `done` were counted.
            let mut done = 0;
            for start in block_starts(w) {
                let out = block::<H, SHARED>(rows, refh, f, start, L);
                for l in done - start..L {
                    statistic(
                        out.mu1[l], out.mu2[l], out.xx[l], out.yy[l], out.xy[l], table, gain_limit,
                        &mut a,
                    );
                }
                done = start + L;
            }
        }
        acc.add(&a);
    }
    match f.len() / 2 {
        8 => run::<8, SHARED>(rows, refh, f, w, log2, gain_limit, acc),
        4 => run::<4, SHARED>(rows, refh, f, w, log2, gain_limit, acc),
        2 => run::<2, SHARED>(rows, refh, f, w, log2, gain_limit, acc),
        _ => run::<1, SHARED>(rows, refh, f, w, log2, gain_limit, acc),
    }
}

/// The low-pass filter that feeds the next scale, at the even rows and columns the decimation
/// keeps, of one picture. `shift` is the vertical pass's rounding shift: the bit depth from scale
/// 0, 16 below.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)] // tap and plane indices pair up
fn decimate<'s, T: Src + 's>(
    src: impl Fn(usize) -> &'s [T],
    w: usize,
    h: usize,
    f: &[u32],
    shift: u32,
    conv: &mut [Vec<u32>; 5],
    dst: &mut [u16],
) {
    let half = f.len() / 2;
    let (w2, h2) = (w / 2, h / 2);
    // The vertical outputs (padded), then the padded row's even and odd samples and the
    // decimated sums.
    for c in conv.iter_mut() {
        c.clear();
        c.resize(w + 2 * PAD, 0);
    }
    let round = 1u32 << (shift - 1);
    for i2 in 0..h2 {
        let i = 2 * i2;
        {
            let cv = &mut conv[0][PAD..PAD + w];
            // The filter's rows (at most 17 taps), mirrored at the borders.
            let mut rows: [&[T]; 17] = [&[]; 17];
            for (k, r) in rows.iter_mut().enumerate().take(f.len()) {
                let y = mirror(i as isize + k as isize - half as isize, h);
                *r = &src(y)[..w];
            }
            // Blocks of L columns summed over every tap in registers, then the rest.
            let mut j = 0;
            while j + L <= w {
                let mut acc = [0u32; L];
                let (c, rc) = (f[half], &rows[half][j..j + L]);
                for l in 0..L {
                    acc[l] = c * rc[l].get();
                }
                for k in 0..half {
                    let c = f[k];
                    let (r0, r1) = (&rows[k][j..j + L], &rows[f.len() - 1 - k][j..j + L]);
                    for l in 0..L {
                        acc[l] += c * (r0[l].get() + r1[l].get());
                    }
                }
                for (o, a) in cv[j..j + L].iter_mut().zip(acc) {
                    *o = (a + round) >> shift;
                }
                j += L;
            }
            for j in j..w {
                let mut v = f[half] * rows[half][j].get();
                for k in 0..half {
                    v += f[k] * (rows[k][j].get() + rows[f.len() - 1 - k][j].get());
                }
                cv[j] = (v + round) >> shift;
            }
            pad_row(&mut conv[0], w, half);
        }
        let [cv, _, even, odd, sum] = &mut *conv;
        let (even, odd) = (&mut even[..w / 2 + PAD], &mut odd[..w / 2 + PAD]);
        // Even and odd samples of the padded row apart, so that every tap of the decimated
        // output reads consecutive values: padded position PAD + 2 * j2 + d is even[j2 +
        // (PAD + d) / 2] for even d and odd[j2 + (PAD + d - 1) / 2] for odd d.
        // Pairs without index arithmetic, so that no bounds check keeps the loop scalar.
        for ((e, o), pair) in even.iter_mut().zip(odd.iter_mut()).zip(cv.chunks_exact(2)) {
            *e = pair[0];
            *o = pair[1];
        }
        let tap = |d: isize| -> (&[u32], usize) {
            let p = (PAD as isize + d) as usize;
            if d % 2 == 0 {
                (&even[..], p / 2)
            } else {
                (&odd[..], (p - 1) / 2)
            }
        };
        let sum = &mut sum[..w2];
        {
            let (src, o) = tap(0);
            let c = f[half];
            for (j2, v) in sum.iter_mut().enumerate() {
                *v = c * src[o + j2];
            }
        }
        for k in 0..half {
            let c = f[k];
            let d = half as isize - k as isize;
            let ((a, oa), (b, ob)) = (tap(-d), tap(d));
            let (a, b) = (&a[oa..oa + w2], &b[ob..ob + w2]);
            for j2 in 0..w2 {
                sum[j2] += c * (a[j2] + b[j2]);
            }
        }
        for (o, v) in dst[i2 * w2..i2 * w2 + w2].iter_mut().zip(sum.iter()) {
            *o = ((*v + 32768) >> 16) as u16;
        }
    }
}

/// Reusable VIF state: the log2 table and work buffers, so scoring frame after frame allocates
/// nothing.
pub struct Vif {
    log2: Log2,
    gain_limit: f64,
    rows: Rows,
    refh: RefRow,
    conv: [Vec<u32>; 5],
    /// Scale pictures 1 to 3 of the reference, `w >> s` by `h >> s`, packed.
    scaled_ref: [Vec<u16>; 3],
    /// The same of each distorted picture.
    scaled_dis: Vec<[Vec<u16>; 3]>,
}

impl std::fmt::Debug for Vif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vif")
            .field("gain_limit", &self.gain_limit)
            .finish()
    }
}

impl Default for Vif {
    fn default() -> Self {
        Self::new(DEFAULT_GAIN_LIMIT)
    }
}

impl Vif {
    /// A kernel with libvmaf's `vif_enhn_gain_limit` option set to `gain_limit`.
    pub fn new(gain_limit: f64) -> Self {
        Self {
            log2: Log2::new(),
            gain_limit,
            rows: Rows::default(),
            refh: RefRow::default(),
            conv: Default::default(),
            scaled_ref: Default::default(),
            scaled_dis: Vec::new(),
        }
    }

    /// Whether a `w`×`h` picture can be scored (both at least [`MIN_SIZE`]).
    pub fn supports(w: usize, h: usize) -> bool {
        w >= MIN_SIZE && h >= MIN_SIZE
    }

    /// The four scales of VIF between two 8-bit luma planes of the same size.
    ///
    /// # Panics
    /// If the planes differ in size or are smaller than [`MIN_SIZE`]; callers check
    /// [`Vif::supports`].
    pub fn scales(
        &mut self,
        reference: &Plane<'_, u8>,
        distorted: &Plane<'_, u8>,
    ) -> [VifScale; 4] {
        self.scales_group(reference, std::slice::from_ref(distorted))[0]
    }

    /// The four scales of VIF of each of several 8-bit luma planes against one reference: the
    /// same values as [`Vif::scales`] of each pair, with the reference's share of the work
    /// (its filtered mean and square at every scale, and its decimation) done once.
    ///
    /// # Panics
    /// As [`Vif::scales`], for each distorted plane.
    pub fn scales_group(
        &mut self,
        reference: &Plane<'_, u8>,
        distorted: &[Plane<'_, u8>],
    ) -> Vec<[VifScale; 4]> {
        check_sizes(reference, distorted);
        simd::dispatch(Run {
            vif: self,
            input: Input::U8(reference, distorted),
        })
    }

    /// The four scales of VIF between two luma planes of `bpc`-bit video (9 to 16 bits) held in
    /// 16-bit words, as libvmaf's high-bit-depth path computes them.
    ///
    /// # Panics
    /// As [`Vif::scales`], and if `bpc` is not within 9..=16.
    pub fn scales_hbd(
        &mut self,
        reference: &Plane<'_, u16>,
        distorted: &Plane<'_, u16>,
        bpc: u8,
    ) -> [VifScale; 4] {
        self.scales_group_hbd(reference, std::slice::from_ref(distorted), bpc)[0]
    }

    /// [`Vif::scales_group`] for `bpc`-bit video in 16-bit words.
    ///
    /// # Panics
    /// As [`Vif::scales_hbd`], for each distorted plane.
    pub fn scales_group_hbd(
        &mut self,
        reference: &Plane<'_, u16>,
        distorted: &[Plane<'_, u16>],
        bpc: u8,
    ) -> Vec<[VifScale; 4]> {
        check_sizes(reference, distorted);
        assert!(
            (9..=16).contains(&bpc),
            "high-bit-depth VIF needs 9 to 16 bits, not {bpc}"
        );
        simd::dispatch(Run {
            vif: self,
            input: Input::U16(reference, distorted, bpc as u32),
        })
    }
}

/// Panics unless every distorted plane has the reference's size, at least [`MIN_SIZE`].
fn check_sizes<T: crate::frame::Sample>(reference: &Plane<'_, T>, distorted: &[Plane<'_, T>]) {
    let (w, h) = (reference.width(), reference.height());
    assert!(
        Vif::supports(w, h) && distorted.iter().all(|d| (d.width(), d.height()) == (w, h)),
        "VIF needs planes of one size, at least {MIN_SIZE}x{MIN_SIZE}"
    );
}

/// Two luma planes to score: 8-bit, or `bpc`-bit video in 16-bit words.
#[derive(Clone, Copy, Debug)]
pub enum LumaPair<'a> {
    /// Reference and distorted, 8-bit.
    Bits8(Plane<'a, u8>, Plane<'a, u8>),
    /// Reference, distorted and the bit depth (9 to 16).
    High(Plane<'a, u16>, Plane<'a, u16>, u8),
}

impl Vif {
    /// [`Vif::scales`] or [`Vif::scales_hbd`], as the pair is.
    pub fn score(&mut self, pair: &LumaPair<'_>) -> [VifScale; 4] {
        match pair {
            LumaPair::Bits8(r, d) => self.scales(r, d),
            LumaPair::High(r, d, bpc) => self.scales_hbd(r, d, *bpc),
        }
    }
}

/// The pictures a run scores: a reference and the distorted pictures, 8-bit, or `bpc`-bit in
/// 16-bit words.
enum Input<'a, 'b> {
    U8(&'a Plane<'b, u8>, &'a [Plane<'b, u8>]),
    U16(&'a Plane<'b, u16>, &'a [Plane<'b, u16>], u32),
}

struct Run<'a, 'b> {
    vif: &'a mut Vif,
    input: Input<'a, 'b>,
}

impl WithSimd for Run<'_, '_> {
    type Output = Vec<[VifScale; 4]>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Vec<[VifScale; 4]> {
        match self.input {
            Input::U8(r, d) => run::<u8>(self.vif, r, d, 8),
            Input::U16(r, d, bpc) => run::<u16>(self.vif, r, d, bpc),
        }
    }
}

/// A scale-0 sample type and its vertical pass.
trait Scale0: Src + crate::frame::Sample {
    fn vertical<const Q: u8>(
        r: &[&[Self]; 17],
        d: &[&[Self]; 17],
        w: usize,
        out: &mut Rows,
        bpc: u32,
    );
}

impl Scale0 for u8 {
    #[inline(always)]
    fn vertical<const Q: u8>(r: &[&[u8]; 17], d: &[&[u8]; 17], w: usize, out: &mut Rows, _: u32) {
        vertical_s0::<Q>(r, d, w, out);
    }
}

impl Scale0 for u16 {
    #[inline(always)]
    fn vertical<const Q: u8>(
        r: &[&[u16]; 17],
        d: &[&[u16]; 17],
        w: usize,
        out: &mut Rows,
        bpc: u32,
    ) {
        vertical_s0_hbd::<Q>(r, d, w, out, bpc);
    }
}

/// Decimates level `s - 2` of a picture's scale pictures into level `s - 1` (`ws`×`hs` to half
/// that).
#[inline(always)]
fn decimate_level(
    levels: &mut [Vec<u16>; 3],
    s: usize,
    ws: usize,
    hs: usize,
    conv: &mut [Vec<u32>; 5],
) {
    let (prev, next) = levels.split_at_mut(s - 1);
    let (prev, next) = (&prev[s - 2], &mut next[0]);
    next.resize((ws / 2) * (hs / 2), 0);
    decimate(
        |y| &prev[y * ws..y * ws + ws],
        ws,
        hs,
        FILTERS[s],
        16,
        conv,
        next,
    );
}

/// The rows of packed `ws`×`hs` picture `p` that a filter of `taps` taps centred on row `i`
/// reads, mirrored at the borders.
fn rows_of(p: &[u16], i: usize, taps: usize, ws: usize, hs: usize) -> Vec<&[u16]> {
    (0..taps)
        .map(|k| {
            let y = mirror(i as isize + k as isize - (taps / 2) as isize, hs);
            &p[y * ws..y * ws + ws]
        })
        .collect()
}

/// The four scales of each distorted picture against the reference. One distorted picture is
/// filtered with the reference in one pass per row; several share the reference's pass.
#[inline(always)]
fn run<T: Scale0>(
    vif: &mut Vif,
    reference: &Plane<'_, T>,
    distorted: &[Plane<'_, T>],
    bpc: u32,
) -> Vec<[VifScale; 4]> {
    let Vif {
        log2,
        gain_limit,
        rows,
        refh,
        conv,
        scaled_ref,
        scaled_dis,
    } = vif;
    let (log2, gain_limit) = (&*log2, *gain_limit);
    let (w, h) = (reference.width(), reference.height());
    let n = distorted.len();
    let mut out = vec![[VifScale::default(); 4]; n];
    if n == 0 {
        return out;
    }

    // Scale 0, straight from the pictures.
    rows.resize(w);
    let f = FILTERS[0];
    let half = f.len() / 2;
    let mut acc = vec![Accum::default(); n];
    for i in 0..h {
        let y = |k: usize| mirror(i as isize + k as isize - half as isize, h);
        let rr: [&[T]; 17] = std::array::from_fn(|k| reference.row(y(k)));
        if n == 1 {
            let dr: [&[T]; 17] = std::array::from_fn(|k| distorted[0].row(y(k)));
            T::vertical::<ALL>(&rr, &dr, w, rows, bpc);
            rows.pad::<ALL>(w, half);
            horizontal_and_statistic::<false>(rows, refh, f, w, log2, gain_limit, &mut acc[0]);
        } else {
            T::vertical::<REF>(&rr, &rr, w, rows, bpc);
            rows.pad::<REF>(w, half);
            horizontal_ref(rows, f, w, refh);
            for (d, a) in distorted.iter().zip(acc.iter_mut()) {
                let dr: [&[T]; 17] = std::array::from_fn(|k| d.row(y(k)));
                T::vertical::<DIS>(&rr, &dr, w, rows, bpc);
                rows.pad::<DIS>(w, half);
                horizontal_and_statistic::<true>(rows, refh, f, w, log2, gain_limit, a);
            }
        }
    }
    for (o, a) in out.iter_mut().zip(&acc) {
        o[0] = a.finish();
    }
    #[cfg(test)]
    tests::ACCUMS.with(|a| a.borrow_mut()[0] = acc[0]);

    // Scale 1 from the pictures.
    let (w1, h1) = (w / 2, h / 2);
    scaled_dis.resize_with(n, Default::default);
    scaled_ref[0].resize(w1 * h1, 0);
    decimate(
        |y| reference.row(y),
        w,
        h,
        FILTERS[1],
        bpc,
        conv,
        &mut scaled_ref[0],
    );
    for (d, levels) in distorted.iter().zip(scaled_dis.iter_mut()) {
        levels[0].resize(w1 * h1, 0);
        decimate(|y| d.row(y), w, h, FILTERS[1], bpc, conv, &mut levels[0]);
    }

    let (mut ws, mut hs) = (w1, h1);
    for s in 1..4 {
        let f = FILTERS[s];
        let half = f.len() / 2;
        if s > 1 {
            decimate_level(scaled_ref, s, ws, hs, conv);
            for levels in scaled_dis.iter_mut().take(n) {
                decimate_level(levels, s, ws, hs, conv);
            }
            ws /= 2;
            hs /= 2;
        }
        rows.resize(ws);
        let mut acc = vec![Accum::default(); n];
        for i in 0..hs {
            let rr = rows_of(&scaled_ref[s - 1], i, f.len(), ws, hs);
            if n == 1 {
                let dr = rows_of(&scaled_dis[0][s - 1], i, f.len(), ws, hs);
                vertical_s16::<ALL>(&rr, &dr, f, ws, rows, Shifts::DECIMATED);
                rows.pad::<ALL>(ws, half);
                horizontal_and_statistic::<false>(rows, refh, f, ws, log2, gain_limit, &mut acc[0]);
            } else {
                vertical_s16::<REF>(&rr, &rr, f, ws, rows, Shifts::DECIMATED);
                rows.pad::<REF>(ws, half);
                horizontal_ref(rows, f, ws, refh);
                for (levels, a) in scaled_dis.iter().zip(acc.iter_mut()) {
                    let dr = rows_of(&levels[s - 1], i, f.len(), ws, hs);
                    vertical_s16::<DIS>(&rr, &dr, f, ws, rows, Shifts::DECIMATED);
                    rows.pad::<DIS>(ws, half);
                    horizontal_and_statistic::<true>(rows, refh, f, ws, log2, gain_limit, a);
                }
            }
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            o[s] = a.finish();
        }
        #[cfg(test)]
        tests::ACCUMS.with(|a| a.borrow_mut()[s] = acc[0]);
    }
    out
}

/// The statistic on AVX-512, sixteen pixels at a time: the same integer and double-precision
/// operations as [`statistic`] in the same order (no fused multiply-adds), lane by lane, with
/// branches turned into masks. Every accumulated quantity is an integer, so summing lanes in a
/// different order gives the same totals.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Accum, Filtered, Rows, DIS, FILTERS, PAD, REF};
    use crate::simd::load32_u8 as load32;
    use core::arch::x86_64::{
        __m256i, __m512, __m512i, _CMP_GT_OQ, _CMP_LT_OQ, _MM_FROUND_NO_EXC, _MM_FROUND_TO_NEG_INF,
    };
    use pulp::{cast, x86::V4};

    /// Adds tap `c` of rows `r0`, `r1` (reference) and `d0`, `d1` (distorted) to the sums of
    /// the quantities `Q` says.
    #[inline(always)]
    fn add_tap<const Q: u8>(
        v4: V4,
        acc: &mut [[__m512i; 5]; 2],
        c: u32,
        (r0, r1): (__m512i, __m512i),
        (d0, d1): (__m512i, __m512i),
    ) {
        let (f, bw) = (v4.avx512f, v4.avx512bw);
        let pair = f._mm512_set1_epi32((c | (c << 16)) as i32);
        let tap = f._mm512_set1_epi32(c as i32);
        let halves = [
            (
                bw._mm512_unpacklo_epi16(r0, r1),
                bw._mm512_unpacklo_epi16(d0, d1),
            ),
            (
                bw._mm512_unpackhi_epi16(r0, r1),
                bw._mm512_unpackhi_epi16(d0, d1),
            ),
        ];
        for (a, (pr, pd)) in acc.iter_mut().zip(halves) {
            if Q & REF != 0 {
                a[0] = f._mm512_add_epi32(a[0], bw._mm512_madd_epi16(pr, pair));
                a[2] = f._mm512_add_epi32(
                    a[2],
                    f._mm512_mullo_epi32(bw._mm512_madd_epi16(pr, pr), tap),
                );
            }
            if Q & DIS != 0 {
                a[1] = f._mm512_add_epi32(a[1], bw._mm512_madd_epi16(pd, pair));
                a[3] = f._mm512_add_epi32(
                    a[3],
                    f._mm512_mullo_epi32(bw._mm512_madd_epi16(pd, pd), tap),
                );
                a[4] = f._mm512_add_epi32(
                    a[4],
                    f._mm512_mullo_epi32(bw._mm512_madd_epi16(pr, pd), tap),
                );
            }
        }
    }

    /// The vertical pass of scale 0 for 8-bit pictures over columns `s..s + 32`, with the
    /// values of [`super::vertical_s0_block`]: each tap's two rows are interleaved as 16-bit
    /// pairs, so that one `vpmaddwd` gives c * (a + a'), a * a + a' * a' or a * b + a' * b' (exact
    /// in 32 bits for 8-bit samples and taps below 2^15), and only the squares' and product's
    /// sums are multiplied by the tap in 32 bits (wrapping as the scalar `u32` sums do).
    #[inline(always)]
    pub(super) fn vertical_s0_block32<const Q: u8>(
        v4: V4,
        r: &[&[u8]; 17],
        d: &[&[u8]; 17],
        s: usize,
        out: &mut Rows,
    ) {
        let f = v4.avx512f;
        let taps = FILTERS[0];
        let zero = f._mm512_setzero_si512();
        // Per half (the columns of the low and of the high unpacking): mu1, mu2, xx, yy, xy.
        let mut acc = [[zero; 5]; 2];
        // The centre tap pairs its row with zeros.
        add_tap::<Q>(
            v4,
            &mut acc,
            taps[8],
            (load32(v4, r[8], s), zero),
            (load32(v4, d[8], s), zero),
        );
        for k in 0..8 {
            add_tap::<Q>(
                v4,
                &mut acc,
                taps[k],
                (load32(v4, r[k], s), load32(v4, r[16 - k], s)),
                (load32(v4, d[k], s), load32(v4, d[16 - k], s)),
            );
        }
        // The means rounded to 8 fractional bits; squares and product as they are.
        let round = f._mm512_set1_epi32(128);
        for half in &mut acc {
            for m in &mut half[..2] {
                *m = f._mm512_srli_epi32::<8>(f._mm512_add_epi32(*m, round));
            }
        }
        store32::<Q>(v4, &acc, s, out);
    }

    /// Stores a 32-column block's five quantities, held per unpacking half (mu1, mu2, xx, yy,
    /// xy), at columns `s..s + 32` of the rows. Unpacking works within 128-bit lanes: the low
    /// half holds columns 8L..8L+3 of lane L and the high half 8L+4..8L+7; they go back to
    /// column order 16 columns at a time.
    #[inline(always)]
    fn store32<const Q: u8>(v4: V4, halves: &[[__m512i; 5]; 2], s: usize, out: &mut Rows) {
        let f = v4.avx512f;
        let order: [__m512i; 2] = [
            cast([0u32, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]),
            cast([
                8u32, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31,
            ]),
        ];
        let o = PAD + s;
        let Rows {
            mu1,
            mu2,
            xx,
            yy,
            xy,
            ..
        } = out;
        for (q, dst) in [mu1, mu2, xx, yy, xy].into_iter().enumerate() {
            // mu1 and xx are the reference's.
            let ours = if q == 0 || q == 2 { REF } else { DIS };
            if Q & ours == 0 {
                continue;
            }
            for (part, idx) in order.iter().enumerate() {
                let v = f._mm512_permutex2var_epi32(halves[0][q], *idx, halves[1][q]);
                let lanes: [u32; 16] = cast(v);
                dst[o + 16 * part..o + 16 * part + 16].copy_from_slice(&lanes);
            }
        }
    }

    /// Samples `s..s + 32` of a 16-bit row.
    #[inline(always)]
    fn load32_u16(row: &[u16], s: usize) -> __m512i {
        let a: [u16; 32] = row[s..s + 32].try_into().expect("32 samples");
        cast(a)
    }

    /// Adds tap `c` of 16-bit rows `r0`, `r1` and `d0`, `d1` (samples of at most 12 bits) to the
    /// sums: the means' in 32-bit lanes, the squares' and product's in 64-bit lanes, split into
    /// the even and odd 32-bit lanes of the pairs' sums.
    #[inline(always)]
    fn add_tap_hbd<const Q: u8>(
        v4: V4,
        mu: &mut [[__m512i; 2]; 2],
        sq: &mut [[[__m512i; 2]; 3]; 2],
        c: u32,
        (r0, r1): (__m512i, __m512i),
        (d0, d1): (__m512i, __m512i),
    ) {
        let (f, bw) = (v4.avx512f, v4.avx512bw);
        let pair = f._mm512_set1_epi32((c | (c << 16)) as i32);
        let tap = f._mm512_set1_epi64(c as i64);
        let halves = [
            (
                bw._mm512_unpacklo_epi16(r0, r1),
                bw._mm512_unpacklo_epi16(d0, d1),
            ),
            (
                bw._mm512_unpackhi_epi16(r0, r1),
                bw._mm512_unpackhi_epi16(d0, d1),
            ),
        ];
        for (half, (pr, pd)) in halves.into_iter().enumerate() {
            let m = &mut mu[half];
            if Q & REF != 0 {
                m[0] = f._mm512_add_epi32(m[0], bw._mm512_madd_epi16(pr, pair));
            }
            if Q & DIS != 0 {
                m[1] = f._mm512_add_epi32(m[1], bw._mm512_madd_epi16(pd, pair));
            }
            let sums = [(REF, pr, pr), (DIS, pd, pd), (DIS, pr, pd)];
            for (a, (ours, x, y)) in sq[half].iter_mut().zip(sums) {
                if Q & ours == 0 {
                    continue;
                }
                let v = bw._mm512_madd_epi16(x, y);
                // The pairs' sums are below 2^25: non-negative as signed 32-bit values.
                let odd = f._mm512_srli_epi64::<32>(v);
                a[0] = f._mm512_add_epi64(a[0], f._mm512_mul_epu32(v, tap));
                a[1] = f._mm512_add_epi64(a[1], f._mm512_mul_epu32(odd, tap));
            }
        }
    }

    /// The vertical pass of scale 0 for pictures of at most 12 bits over columns `s..s + 32`,
    /// with the values of [`super::vertical_s16_block`] (`NARROW`): as
    /// [`vertical_s0_block32`], each tap's two rows interleaved as 16-bit pairs for `vpmaddwd`
    /// (samples below 2^12 and taps below 2^15 keep every pair's sum exact in 32 bits), and the
    /// squares' and product's pair sums multiplied by the tap into 64-bit lanes.
    #[inline(always)]
    pub(super) fn vertical_s0_hbd_block32<const Q: u8>(
        v4: V4,
        r: &[&[u16]; 17],
        d: &[&[u16]; 17],
        s: usize,
        out: &mut Rows,
        shifts: super::Shifts,
    ) {
        let f = v4.avx512f;
        let taps = FILTERS[0];
        let zero = f._mm512_setzero_si512();
        // Per half: mu1, mu2 (32-bit); xx, yy, xy as (even, odd) 64-bit lanes.
        let mut mu = [[zero; 2]; 2];
        let mut sq = [[[zero; 2]; 3]; 2];
        add_tap_hbd::<Q>(
            v4,
            &mut mu,
            &mut sq,
            taps[8],
            (load32_u16(r[8], s), zero),
            (load32_u16(d[8], s), zero),
        );
        for k in 0..8 {
            add_tap_hbd::<Q>(
                v4,
                &mut mu,
                &mut sq,
                taps[k],
                (load32_u16(r[k], s), load32_u16(r[16 - k], s)),
                (load32_u16(d[k], s), load32_u16(d[16 - k], s)),
            );
        }
        // Rounded and shifted; the squares truncated to 32 bits and put back in the order of
        // the pairs' sums (even lanes low, odd lanes high).
        let mu_round = f._mm512_set1_epi32(1 << (shifts.mu - 1));
        let mu_shift = f._mm512_set1_epi32(shifts.mu as i32);
        let sq_round = f._mm512_set1_epi64(if shifts.sq == 0 {
            0
        } else {
            1 << (shifts.sq - 1)
        });
        let sq_shift = f._mm512_set1_epi64(shifts.sq as i64);
        let mut lanes = [[zero; 5]; 2];
        for half in 0..2 {
            for q in 0..2 {
                lanes[half][q] =
                    f._mm512_srlv_epi32(f._mm512_add_epi32(mu[half][q], mu_round), mu_shift);
            }
            for q in 0..3 {
                let [even, odd] = sq[half][q];
                let even = f._mm512_srlv_epi64(f._mm512_add_epi64(even, sq_round), sq_shift);
                let odd = f._mm512_srlv_epi64(f._mm512_add_epi64(odd, sq_round), sq_shift);
                lanes[half][2 + q] =
                    f._mm512_mask_blend_epi32(0xaaaa, even, f._mm512_slli_epi64::<32>(odd));
            }
        }
        store32::<Q>(v4, &lanes, s, out);
    }

    const SIGMA_NSQ: i32 = 65536 << 1;
    const EPS: f64 = 65536.0 * 1.0e-10;

    /// One row's accumulators: 32-bit lanes for the table sums and shift counts (a row adds at
    /// most a few hundred values below 2^15 per lane), 64-bit lanes for the non-log variance.
    pub(super) struct RowAcc {
        num_log: __m512i,
        den_log: __m512i,
        x: __m512i,
        x2: __m512i,
        num_non_log: __m512i,
        den_non_log: i64,
        num_x: i64,
    }

    impl RowAcc {
        #[inline(always)]
        pub(super) fn new(v4: V4) -> Self {
            let z = v4.avx512f._mm512_setzero_si512();
            Self {
                num_log: z,
                den_log: z,
                x: z,
                x2: z,
                num_non_log: z,
                den_non_log: 0,
                num_x: 0,
            }
        }

        /// Adds the row's totals to `a`.
        #[inline(always)]
        pub(super) fn flush(self, v4: V4, a: &mut Accum) {
            let s = v4.avx512f;
            #[inline(always)]
            fn sum32(v4: V4, v: __m512i) -> i64 {
                let s = v4.avx512f;
                let lo = s._mm512_cvtepi32_epi64(s._mm512_castsi512_si256(v));
                let hi = s._mm512_cvtepi32_epi64(s._mm512_extracti64x4_epi64::<1>(v));
                s._mm512_reduce_add_epi64(s._mm512_add_epi64(lo, hi))
            }
            a.num_log += sum32(v4, self.num_log);
            a.den_log += sum32(v4, self.den_log);
            a.x += sum32(v4, self.x);
            a.x2 += sum32(v4, self.x2);
            a.num_non_log += s._mm512_reduce_add_epi64(self.num_non_log);
            a.den_non_log += self.den_non_log;
            a.num_x += self.num_x;
        }
    }

    /// The log2 table's indices 32768..=65535 in segments of this many.
    const SEGMENT: u32 = 1024;
    /// Segments in those indices, as many as one two-register permute selects from.
    const SEGMENTS: usize = 32;
    /// How close to a rounding boundary a cubic's value may lie before the table is asked
    /// instead: more than the cubic's own error, which is below 6e-5.
    const UNSURE: f32 = 1e-4;

    /// The log2 table's entries 32768..=65535 (every index the statistic looks up) as 32
    /// cubics, one per segment of 1024 indices: the Taylor expansion of `2048 * log2` around
    /// the segment's centre, evaluated in single precision for sixteen lanes at once, with
    /// the coefficients picked by register permutes. That replaces sixteen scalar loads per
    /// look-up, which were about a fifth of the VIF kernel's time.
    ///
    /// The table rounds `2048 * log2f(i)` half up, and `log2f`'s result is a multiple of
    /// 2^-9 after the scaling (2^-20 for results in 8..16). So the table's value steps up
    /// where `2048 * log2(i)` passes an integer plus one half less 2^-10, the midpoint
    /// between the last multiple that rounds down and the first that rounds up: its value is
    /// `floor(2048 * log2(i) + 0.5 + 2^-10)` when `log2f` rounds correctly. (Debian 12's
    /// `log2f` misrounds five of these indices, none near a step.) Lanes within
    /// [`UNSURE`] of a step are read from the table.
    pub(crate) struct Cubics {
        /// Per segment: the fraction of `2048 * log2` at the centre plus one half, then the
        /// first, second and third Taylor coefficients in the offset from the centre.
        c: [[f32; SEGMENTS]; 4],
        /// The integer part of `2048 * log2` at each centre.
        base: [i32; SEGMENTS],
    }

    impl Cubics {
        /// The cubics of `table`, when this CPU has AVX-512 and they give the table's value
        /// at every index of 32768..=65535 they are sure of (checked here, index by index, so
        /// a C library whose `log2f` rounds differently only costs the speed).
        pub(crate) fn of(table: &[u16; 65537]) -> Option<Cubics> {
            let v4 = V4::try_new()?;
            let scale = 2048.0 / std::f64::consts::LN_2;
            let mut k = Cubics {
                c: [[0.0; SEGMENTS]; 4],
                base: [0; SEGMENTS],
            };
            for s in 0..SEGMENTS {
                let c = (32768 + SEGMENT as usize * s + SEGMENT as usize / 2) as f64;
                let y = 2048.0 * c.log2();
                k.base[s] = y.floor() as i32;
                k.c[0][s] = (y - y.floor() + 0.5 + 1.0 / 1024.0) as f32;
                k.c[1][s] = (scale / c) as f32;
                k.c[2][s] = (-scale / (2.0 * c * c)) as f32;
                k.c[3][s] = (scale / (3.0 * c * c * c)) as f32;
            }
            let exact = v4.vectorize(
                #[inline(always)]
                || k.check(v4, table).0 == 0,
            );
            exact.then_some(k)
        }

        /// Of the indices 32768..=65535: how many the cubics are sure of and get wrong (none,
        /// when in use), and how many they leave to the table.
        #[inline(always)]
        pub(super) fn check(&self, v4: V4, table: &[u16; 65537]) -> (usize, usize) {
            let (mut wrong, mut left) = (0, 0);
            let mut i = 32768u32;
            while i < 65536 {
                let mut idx = [0u32; 16];
                for (l, x) in idx.iter_mut().enumerate() {
                    *x = i + l as u32;
                }
                let (v, unsure) = self.eval(v4, cast(idx));
                let v: [i32; 16] = cast(v);
                for l in 0..16 {
                    if unsure >> l & 1 != 0 {
                        left += 1;
                    } else if v[l] != table[(i as usize) + l] as i32 {
                        wrong += 1;
                    }
                }
                i += 16;
            }
            (wrong, left)
        }

        /// The table's values at sixteen indices, and the lanes to read from the table instead:
        /// those near a rounding boundary and those outside 32768..=65535.
        #[inline(always)]
        pub(super) fn eval(&self, v4: V4, idx: __m512i) -> (__m512i, u16) {
            let s = v4.avx512f;
            #[inline(always)]
            fn pick(v4: V4, t: &[f32; SEGMENTS], seg: __m512i) -> __m512 {
                let [lo, hi]: [__m512; 2] = cast(*t);
                v4.avx512f._mm512_permutex2var_ps(lo, seg, hi)
            }
            // The permutes read the segment's low five bits: (idx >> 10) - 32 for idx >= 32768.
            let seg = s._mm512_srli_epi32::<10>(idx);
            let d = s._mm512_cvtepi32_ps(s._mm512_sub_epi32(
                s._mm512_and_si512(idx, s._mm512_set1_epi32(SEGMENT as i32 - 1)),
                s._mm512_set1_epi32(SEGMENT as i32 / 2),
            ));
            let p = s._mm512_fmadd_ps(pick(v4, &self.c[3], seg), d, pick(v4, &self.c[2], seg));
            let p = s._mm512_fmadd_ps(p, d, pick(v4, &self.c[1], seg));
            // 2048 * log2(idx) + 0.5 + 2^-10 - base, whose floor is the table's value less base.
            let t = s._mm512_fmadd_ps(p, d, pick(v4, &self.c[0], seg));
            let floor = s._mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(t);
            let frac = s._mm512_sub_ps(t, floor);
            let unsure = s._mm512_cmp_ps_mask::<_CMP_LT_OQ>(frac, s._mm512_set1_ps(UNSURE))
                | s._mm512_cmp_ps_mask::<_CMP_GT_OQ>(frac, s._mm512_set1_ps(1.0 - UNSURE))
                | s._mm512_cmpge_epu32_mask(
                    s._mm512_sub_epi32(idx, s._mm512_set1_epi32(32768)),
                    s._mm512_set1_epi32(32768),
                );
            let [lo, hi]: [__m512i; 2] = cast(self.base);
            let base = s._mm512_permutex2var_epi32(lo, seg, hi);
            (
                s._mm512_add_epi32(s._mm512_cvttps_epi32(floor), base),
                unsure,
            )
        }
    }

    /// The log2 table, and its cubics when they are in use.
    #[derive(Clone, Copy)]
    pub(super) struct Log2Ref<'a> {
        pub(super) table: &'a [u16; 65537],
        pub(super) cubics: Option<&'a Cubics>,
    }

    /// Table values at sixteen indices, exact in the lanes of `active` (each index is masked
    /// to 16 bits when read from the table, so always in it).
    #[inline(always)]
    fn lookup(v4: V4, log2: Log2Ref<'_>, idx: __m512i, active: u16) -> __m512i {
        let Some(cubics) = log2.cubics else {
            return cast(from_table(log2.table, [0; 16], cast(idx), u16::MAX));
        };
        let (v, unsure) = cubics.eval(v4, idx);
        let unsure = unsure & active;
        if unsure == 0 {
            return v;
        }
        cast(from_table(log2.table, cast(v), cast(idx), unsure))
    }

    /// `vals` with the lanes of `lanes` read from the table.
    #[inline(always)]
    fn from_table(table: &[u16; 65537], vals: [i32; 16], idx: [u32; 16], lanes: u16) -> [i32; 16] {
        let mut vals = vals;
        for l in 0..16 {
            if lanes >> l & 1 != 0 {
                vals[l] = table[(idx[l] & 0xffff) as usize] as i32;
            }
        }
        vals
    }

    /// The statistic of the lanes set in `active`.
    #[inline(always)]
    pub(super) fn statistic16(
        v4: V4,
        f: &Filtered,
        active: u16,
        log2: Log2Ref<'_>,
        gain_limit: f64,
        acc: &mut RowAcc,
    ) {
        let s = v4.avx512f;
        let (mu1, mu2): (__m512i, __m512i) = (cast(f.mu1), cast(f.mu2));
        let (xx, yy, xy): (__m512i, __m512i, __m512i) = (cast(f.xx), cast(f.yy), cast(f.xy));

        // ((a * b) + 2^31) >> 32 in 64 bits, lane by lane.
        // Helpers are functions, not closures: a closure the compiler leaves out of line would
        // lose the caller's instruction set and call every intrinsic.
        #[inline(always)]
        fn mul_round(v4: V4, a: __m512i, b: __m512i) -> __m512i {
            let s = v4.avx512f;
            let round = s._mm512_set1_epi64(1 << 31);
            let high = s._mm512_set1_epi64(0xffff_ffff_0000_0000u64 as i64);
            let even = s._mm512_mul_epu32(a, b);
            let odd =
                s._mm512_mul_epu32(s._mm512_srli_epi64::<32>(a), s._mm512_srli_epi64::<32>(b));
            let even = s._mm512_srli_epi64::<32>(s._mm512_add_epi64(even, round));
            let odd = s._mm512_and_si512(s._mm512_add_epi64(odd, round), high);
            s._mm512_or_si512(even, odd)
        }
        let zero = s._mm512_setzero_si512();
        let nsq = s._mm512_set1_epi32(SIGMA_NSQ);
        let s1 = s._mm512_max_epi32(s._mm512_sub_epi32(xx, mul_round(v4, mu1, mu1)), zero);
        let s2 = s._mm512_max_epi32(s._mm512_sub_epi32(yy, mul_round(v4, mu2, mu2)), zero);
        let s12 = s._mm512_sub_epi32(xy, mul_round(v4, mu1, mu2));

        // Flat reference: the non-log branch.
        let small = s._mm512_cmplt_epi32_mask(s1, nsq);
        let nonlog = active & small;
        let log = active & !small;
        acc.den_non_log += nonlog.count_ones() as i64;
        let s2m = s._mm512_maskz_mov_epi32(nonlog, s2);
        let s2lo = s._mm512_cvtepi32_epi64(s._mm512_castsi512_si256(s2m));
        let s2hi = s._mm512_cvtepi32_epi64(s._mm512_extracti64x4_epi64::<1>(s2m));
        acc.num_non_log = s._mm512_add_epi64(acc.num_non_log, s._mm512_add_epi64(s2lo, s2hi));
        if log == 0 {
            return;
        }

        // The denominator's log: sigma1_sq >= SIGMA_NSQ here, so sigma1_sq < EPS never holds.
        acc.num_x += log.count_ones() as i64;
        let v = s._mm512_add_epi32(s1, nsq);
        let k = s._mm512_sub_epi32(s._mm512_set1_epi32(16), v4.avx512cd._mm512_lzcnt_epi32(v));
        acc.x = s._mm512_mask_sub_epi32(acc.x, log, acc.x, k);
        let den = lookup(v4, log2, s._mm512_srlv_epi32(v, k), log);
        acc.den_log = s._mm512_mask_add_epi32(acc.den_log, log, acc.den_log, den);

        // The gain and the numerator, eight lanes of double precision at a time.
        let s2zero = s._mm512_cmpeq_epi32_mask(s2, zero);
        let pos = log & s._mm512_cmpge_epi32_mask(s12, zero);
        if pos == 0 {
            return;
        }
        #[inline(always)]
        fn half(v4: V4, v: __m512i, h: usize) -> __m256i {
            if h == 0 {
                v4.avx512f._mm512_castsi512_si256(v)
            } else {
                v4.avx512f._mm512_extracti64x4_epi64::<1>(v)
            }
        }
        // libvmaf's get_best16_from64 as (16 significant bits, leading zeros).
        #[inline(always)]
        fn best16(v4: V4, v: __m512i) -> (__m512i, __m512i) {
            let s = v4.avx512f;
            let c48 = s._mm512_set1_epi64(48);
            let lz = v4.avx512cd._mm512_lzcnt_epi64(v);
            let left = s._mm512_sllv_epi64(v, s._mm512_sub_epi64(lz, c48));
            let right = s._mm512_srlv_epi64(v, s._mm512_sub_epi64(c48, lz));
            let ge = s._mm512_cmpge_epu64_mask(lz, c48);
            (s._mm512_mask_blend_epi64(ge, right, left), lz)
        }
        let mut num_idx = [v4.avx._mm256_setzero_si256(); 2];
        let mut den_idx = [v4.avx._mm256_setzero_si256(); 2];
        let mut dx = [v4.avx._mm256_setzero_si256(); 2];
        for h in 0..2 {
            let (a1, a2, a12) = (half(v4, s1, h), half(v4, s2, h), half(v4, s12, h));
            let (s1d, s2d, s12d) = (
                s._mm512_cvtepi32_pd(a1),
                s._mm512_cvtepi32_pd(a2),
                s._mm512_cvtepi32_pd(a12),
            );
            let g = s._mm512_div_pd(s12d, s._mm512_add_pd(s1d, s._mm512_set1_pd(EPS)));
            let sv = s._mm512_cvttpd_epi32(s._mm512_sub_pd(s2d, s._mm512_mul_pd(g, s12d)));
            let z = (s2zero >> (8 * h)) as u8;
            let neg = !z & s._mm512_cmp_pd_mask::<_CMP_LT_OQ>(g, s._mm512_setzero_pd());
            let sv = s._mm256_mask_blend_epi32(neg, sv, a2);
            let sv = s._mm256_maskz_mov_epi32(!z, sv);
            let g = s._mm512_maskz_mov_pd(!(z | neg), g);
            let sv = v4.avx2._mm256_max_epi32(sv, v4.avx._mm256_setzero_si256());
            let g = s._mm512_min_pd(g, s._mm512_set1_pd(gain_limit));
            let numer1 = s._mm512_cvtepu32_epi64(
                v4.avx2
                    ._mm256_add_epi32(sv, v4.avx._mm256_set1_epi32(SIGMA_NSQ)),
            );
            let gg = s._mm512_mul_pd(s._mm512_mul_pd(g, g), s1d);
            let tmp = s._mm512_add_epi64(v4.avx512dq._mm512_cvttpd_epi64(gg), numer1);
            let (nv, nk) = best16(v4, tmp);
            let (dv, dk) = best16(v4, numer1);
            num_idx[h] = s._mm512_cvtepi64_epi32(nv);
            den_idx[h] = s._mm512_cvtepi64_epi32(dv);
            // x2 - x1 of libvmaf is (48 - lz(numer1)) - (48 - lz(tmp)) negated twice.
            dx[h] = s._mm512_cvtepi64_epi32(s._mm512_sub_epi64(dk, nk));
        }
        #[inline(always)]
        fn join(v4: V4, v: [__m256i; 2]) -> __m512i {
            let s = v4.avx512f;
            s._mm512_inserti64x4::<1>(s._mm512_castsi256_si512(v[0]), v[1])
        }
        let dlog = s._mm512_sub_epi32(
            lookup(v4, log2, join(v4, num_idx), pos),
            lookup(v4, log2, join(v4, den_idx), pos),
        );
        acc.num_log = s._mm512_mask_add_epi32(acc.num_log, pos, acc.num_log, dlog);
        acc.x2 = s._mm512_mask_add_epi32(acc.x2, pos, acc.x2, join(v4, dx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{pair8, Lcg};
    use crate::vmaf::{VmafConfig, VmafScorer};

    thread_local! {
        /// The accumulators of each scale of the last run on this thread.
        pub(super) static ACCUMS: std::cell::RefCell<[Accum; 4]> =
            std::cell::RefCell::new([Accum::default(); 4]);
    }

    /// Pairs of `bpc`-bit luma (held in 16-bit words) that drive the statistic to its extremes:
    /// independent full-range noise, an inverted copy (negative covariance), a faint reference
    /// against a strongly correlated distorted picture (gains past the limit), flat pictures on
    /// either side (zero variances), a maximal-contrast checkerboard against noise, and mild
    /// noise on texture.
    fn extreme_pairs(
        w: usize,
        h: usize,
        bpc: u32,
        seed: u32,
    ) -> Vec<(&'static str, Vec<u16>, Vec<u16>)> {
        let max = (1u32 << bpc) - 1;
        let mut rng = Lcg(seed);
        let mut noise = |n: usize| -> Vec<u16> {
            (0..n)
                .map(|_| ((rng.next() as u64 * (max as u64 + 1)) >> 24) as u16)
                .collect()
        };
        let n = w * h;
        let (a, b) = (noise(n), noise(n));
        let faint: Vec<u16> = a
            .iter()
            .map(|&v| ((v as u32 >> (bpc - 1)) + max / 2) as u16)
            .collect();
        let strong: Vec<u16> = faint
            .iter()
            .map(|&v| if v as u32 > max / 2 { max as u16 } else { 0 })
            .collect();
        let inverted: Vec<u16> = a.iter().map(|&v| max as u16 - v).collect();
        let flat = vec![(max / 3) as u16; n];
        let checker: Vec<u16> = (0..n)
            .map(|k| {
                if (k % w + k / w) % 2 == 0 {
                    max as u16
                } else {
                    0
                }
            })
            .collect();
        let texture: Vec<u16> = (0..n)
            .map(|k| (((k % w) * 37 + (k / w) * 11) as u32 % (max + 1)) as u16)
            .collect();
        let mild: Vec<u16> = texture
            .iter()
            .zip(&b)
            .map(|(&t, &r)| {
                (t as i64 + (r as i64 >> (bpc - 3)) - (1 << 2)).clamp(0, max as i64) as u16
            })
            .collect();
        vec![
            ("noise", a.clone(), b.clone()),
            ("inverted", a.clone(), inverted),
            ("gain", faint.clone(), strong),
            ("flat reference", flat.clone(), b.clone()),
            ("flat distorted", a.clone(), flat.clone()),
            ("flat both", flat.clone(), flat),
            ("checker", checker, b),
            ("texture", texture, mild),
        ]
    }

    /// The whole kernel equals its scalar path on every instruction set this CPU has, scale by
    /// scale down to the integer accumulators, on extreme content at 8, 10, 12 and 16 bits and
    /// on odd and even sizes (partial blocks, picture-wide blocks, odd decimations).
    #[test]
    fn every_instruction_set_accumulates_what_the_scalar_path_does() {
        for (w, h) in [(16, 16), (17, 19), (33, 16), (67, 45), (130, 37), (251, 66)] {
            for bpc in [8u32, 10, 12, 16] {
                for (what, r, d) in extreme_pairs(w, h, bpc, (w * h) as u32 + bpc) {
                    // libvmaf's default gain limit, and its smallest, which clamps most gains.
                    for gain_limit in [DEFAULT_GAIN_LIMIT, 1.0] {
                        let run = || {
                            let mut vif = Vif::new(gain_limit);
                            let scales = if bpc == 8 {
                                let r8: Vec<u8> = r.iter().map(|&v| v as u8).collect();
                                let d8: Vec<u8> = d.iter().map(|&v| v as u8).collect();
                                vif.scales(
                                    &Plane::new(&r8, w, h, w).unwrap(),
                                    &Plane::new(&d8, w, h, w).unwrap(),
                                )
                            } else {
                                vif.scales_hbd(
                                    &Plane::new(&r, w, h, w).unwrap(),
                                    &Plane::new(&d, w, h, w).unwrap(),
                                    bpc as u8,
                                )
                            };
                            (
                                scales.map(|s| (s.num.to_bits(), s.den.to_bits())),
                                ACCUMS.with(|a| *a.borrow()),
                            )
                        };
                        let all = crate::simd::on_every_arch(run);
                        let (_, want) = &all[0];
                        for (arch, got) in &all[1..] {
                            assert_eq!(
                                got, want,
                                "{what} {w}x{h} {bpc}-bit, gain limit {gain_limit}: {arch} and \
                                 scalar differ"
                            );
                        }
                    }
                }
            }
        }
    }

    /// On AVX-512 the statistic's look-ups evaluate cubics instead of reading the log2 table:
    /// they must give the table's value at every index they are sure of, leave few to the
    /// table (or the speed is gone), and a table they do not reproduce must turn them off.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_log2_cubics_give_the_table_or_are_not_used() {
        let Some(v4) = pulp::x86::V4::try_new() else {
            eprintln!("no AVX-512 on this CPU: the cubics are not used");
            return;
        };
        let table = log2_table();
        let table: &[u16; 65537] = table[..].try_into().unwrap();
        let cubics = avx512::Cubics::of(table).expect("the cubics reproduce the table here");
        let (wrong, left) = v4.vectorize(
            #[inline(always)]
            || cubics.check(v4, table),
        );
        assert_eq!(wrong, 0);
        assert!(
            left > 0 && left < 32768 / 1000,
            "{left} of 32768 indices left to the table"
        );

        // One entry the cubics are sure of, off by one: the check finds it.
        let mut bad = table.to_vec();
        let i = (32768..65536)
            .find(|&i| {
                let idx: [u32; 16] = std::array::from_fn(|l| (i + l) as u32);
                let (_, unsure) = v4.vectorize(
                    #[inline(always)]
                    || cubics.eval(v4, pulp::cast(idx)),
                );
                unsure & 1 == 0
            })
            .unwrap();
        bad[i] += 1;
        assert!(avx512::Cubics::of(bad[..].try_into().unwrap()).is_none());
    }

    /// Several distorted pictures scored against one reference together get, on every
    /// instruction set, exactly the scores each gets alone (the reference's share of the work is
    /// done once, the rest per picture), at 8 to 16 bits, even and odd sizes, both gain limits.
    #[test]
    fn a_group_scores_what_each_pair_scores_alone() {
        for (w, h) in [(16, 16), (33, 17), (67, 45), (130, 37), (251, 66)] {
            for bpc in [8u32, 10, 12, 16] {
                let pairs = extreme_pairs(w, h, bpc, (w * h) as u32 + 3 * bpc);
                let reference = pairs[0].1.clone();
                // Every distorted picture of the pairs whose reference is the shared one.
                let distorted: Vec<Vec<u16>> = pairs
                    .iter()
                    .filter(|(_, r, _)| *r == reference)
                    .map(|(_, _, d)| d.clone())
                    .collect();
                assert!(distorted.len() >= 3);
                for gain_limit in [DEFAULT_GAIN_LIMIT, 1.0] {
                    let run = || {
                        let mut vif = Vif::new(gain_limit);
                        let bits = |v: Vec<[VifScale; 4]>| -> Vec<[(u32, u32); 4]> {
                            v.into_iter()
                                .map(|s| s.map(|s| (s.num.to_bits(), s.den.to_bits())))
                                .collect()
                        };
                        if bpc == 8 {
                            let to8 = |v: &[u16]| v.iter().map(|&x| x as u8).collect::<Vec<u8>>();
                            let r8 = to8(&reference);
                            let d8: Vec<Vec<u8>> = distorted.iter().map(|d| to8(d)).collect();
                            let rp = Plane::new(&r8, w, h, w).unwrap();
                            let dp: Vec<Plane<'_, u8>> =
                                d8.iter().map(|d| Plane::new(d, w, h, w).unwrap()).collect();
                            let alone: Vec<_> = dp.iter().map(|d| vif.scales(&rp, d)).collect();
                            (bits(vif.scales_group(&rp, &dp)), bits(alone))
                        } else {
                            let rp = Plane::new(&reference, w, h, w).unwrap();
                            let dp: Vec<Plane<'_, u16>> = distorted
                                .iter()
                                .map(|d| Plane::new(d, w, h, w).unwrap())
                                .collect();
                            let alone: Vec<_> = dp
                                .iter()
                                .map(|d| vif.scales_hbd(&rp, d, bpc as u8))
                                .collect();
                            (bits(vif.scales_group_hbd(&rp, &dp, bpc as u8)), bits(alone))
                        }
                    };
                    for (arch, (group, alone)) in crate::simd::on_every_arch(run) {
                        assert_eq!(
                            group, alone,
                            "{w}x{h} {bpc}-bit, gain limit {gain_limit} on {arch}: a group and \
                             its pairs alone differ"
                        );
                    }
                }
            }
        }
    }

    /// libvmaf's own integer VIF scores of one pair, scale by scale; `cpumask` 255 keeps
    /// libvmaf to its C code.
    fn libvmaf_vif<T: crate::frame::Sample>(
        r: &crate::OwnedFrame<T>,
        d: &crate::OwnedFrame<T>,
        cpumask: u64,
    ) -> [f64; 4] {
        let mut s = VmafScorer::new(VmafConfig {
            models: vec![],
            features: vec!["vif".into()],
            cpumask,
            ..Default::default()
        })
        .unwrap();
        s.push(&r.view().unwrap(), &d.view().unwrap()).unwrap();
        let res = s.finish().unwrap();
        std::array::from_fn(|k| res.features[&format!("integer_vif_scale{k}")][0])
    }

    /// libvmaf's AVX2 kernels agree with its C code on widths that are multiples of 16, and there
    /// rdbench's kernel must equal whatever libvmaf runs on this CPU; on other widths it equals
    /// libvmaf's C code (and the VMAF scorer leaves VIF to libvmaf).
    #[test]
    fn scores_equal_libvmafs_integer_vif_on_every_instruction_set() {
        for (w, h, noise, seed) in [
            (64, 48, 6, 1),
            (67, 45, 3, 2),
            (16, 16, 9, 3),
            (33, 17, 2, 4),
            (250, 131, 12, 5),
            (640, 360, 5, 8),
            (96, 64, 0, 6),
            (128, 72, 40, 7),
        ] {
            let (r, d) = pair8(w, h, noise, seed);
            check_against_libvmaf(&r, &d, &format!("{w}x{h} noise {noise}"), |r, d| {
                Vif::default().scales(r.luma(), d.luma())
            });
        }
    }

    /// The kernel's scores of one pair, `score`d on every instruction set this CPU has, against
    /// libvmaf's C code; where the width is a multiple of 16, libvmaf's SIMD code must agree
    /// with its C code too.
    fn check_against_libvmaf<T: crate::frame::Sample>(
        r: &crate::OwnedFrame<T>,
        d: &crate::OwnedFrame<T>,
        what: &str,
        score: impl Fn(&crate::FrameView<'_, T>, &crate::FrameView<'_, T>) -> [VifScale; 4],
    ) {
        let want = libvmaf_vif(r, d, 255);
        if r.view().unwrap().width() % 16 == 0 {
            assert_eq!(
                libvmaf_vif(r, d, 0),
                want,
                "{what}: libvmaf's SIMD and C differ"
            );
        }
        for (arch, got) in crate::simd::on_every_arch(|| {
            score(&r.view().unwrap(), &d.view().unwrap()).map(|s| s.score())
        }) {
            for k in 0..4 {
                assert!(
                    got[k] == want[k] || (got[k].is_nan() && want[k].is_nan()),
                    "{what} scale {k} on {arch}: rdbench {} libvmaf {}",
                    got[k],
                    want[k]
                );
            }
        }
    }

    /// 10- and 12-bit video: libvmaf's 16-bit path (its own roundings at scale 0).
    #[test]
    fn high_bit_depth_scores_equal_libvmafs_on_every_instruction_set() {
        for (w, h, bpc, noise, seed) in [
            (64, 48, 10, 20, 1),
            (67, 45, 10, 9, 2),
            (16, 16, 10, 30, 3),
            (250, 131, 12, 60, 5),
            (320, 180, 10, 25, 8),
            (128, 72, 12, 200, 7),
            (96, 64, 10, 0, 6),
        ] {
            let (r, d) = crate::testutil::pair(w, h, bpc, noise, seed);
            let what = format!("{w}x{h} {bpc}-bit noise {noise}");
            check_against_libvmaf(&r, &d, &what, |r, d| {
                Vif::default().scales_hbd(r.luma(), d.luma(), bpc)
            });
        }
    }

    #[test]
    fn the_statistic_branches_all_run() {
        // Identical pictures: sigma12 = sigma1_sq, g = 1; a flat area takes the non-log branch;
        // an inverted copy makes sigma12 negative.
        let (r, _) = pair8(80, 40, 0, 9);
        let mut inv = r.clone();
        for v in inv.planes[0].iter_mut() {
            *v = 255 - *v;
        }
        for d in [&r, &inv] {
            let want = libvmaf_vif(&r, d, 0);
            let (rv, dv) = (r.view().unwrap(), d.view().unwrap());
            let got = Vif::default()
                .scales(rv.luma(), dv.luma())
                .map(|s| s.score());
            assert_eq!(got, want);
        }
    }
}
