//! ADM's hot row kernels written with AVX2 operations by name (through `pulp`'s safe wrappers):
//! the same integer and floating-point operations as the portable kernels in `adm.rs`, eight
//! 32-bit or sixteen 16-bit lanes at a time, where the compiler does not find the vector form
//! by itself (16-bit multiply-adds, 64-bit products, exact divisions). Each function's result
//! equals its portable twin's for every input, which the tests check on every instruction set.
//!
//! Everything here is `#[inline(always)]` functions and no closures: the kernels must inline
//! into the AVX2 context `pulp` dispatches to, or each operation becomes a call.
//!
//! Elementwise kernels cover a row with blocks of 8 (or 16) lanes whose last block ends at the
//! row's end and may overlap the one before: every output is a pure function of the inputs, so
//! lanes computed twice get the same value. Reductions pad their last block with zeros instead,
//! which add nothing.

use super::{HI, LO, LO_SUM, ONE_BY_15, ONE_BY_30};
use core::arch::x86_64::{__m128i, __m256, __m256d, __m256i, _CMP_GE_OQ, _CMP_LE_OQ};
use pulp::{cast, x86::V3};

#[inline(always)]
fn ld32(s: &[i32], i: usize) -> __m256i {
    cast(<[i32; 8]>::try_from(&s[i..i + 8]).expect("eight lanes"))
}

#[inline(always)]
fn st32(s: &mut [i32], i: usize, v: __m256i) {
    let a: [i32; 8] = cast(v);
    s[i..i + 8].copy_from_slice(&a);
}

#[inline(always)]
fn ld16(s: &[i16], i: usize) -> __m256i {
    cast(<[i16; 16]>::try_from(&s[i..i + 16]).expect("sixteen lanes"))
}

#[inline(always)]
fn st16(s: &mut [i16], i: usize, v: __m256i) {
    let a: [i16; 16] = cast(v);
    s[i..i + 16].copy_from_slice(&a);
}

/// The last `n < 8` values of a row from `i`, zero-padded to a block.
#[inline(always)]
fn ld32_tail(s: &[i32], i: usize, n: usize) -> __m256i {
    let mut a = [0i32; 8];
    a[..n].copy_from_slice(&s[i..i + n]);
    cast(a)
}

/// A pair of 16-bit taps `(c0, c1)` in every 32-bit lane, for `madd`.
#[inline(always)]
fn pair(v3: V3, c0: i32, c1: i32) -> __m256i {
    v3.avx._mm256_set1_epi32((c1 << 16) | (c0 & 0xffff))
}

/// The low 16 bits of each lane, sign-extended (a store to `int16_t` and back).
#[inline(always)]
fn sext16(v3: V3, v: __m256i) -> __m256i {
    let a = v3.avx2;
    a._mm256_srai_epi32::<16>(a._mm256_slli_epi32::<16>(v))
}

/// A shift count for the `sra`/`srl` family.
#[inline(always)]
fn count(v3: V3, s: u32) -> __m128i {
    v3.sse2._mm_cvtsi32_si128(s as i32)
}

/// Picture rows that load as sixteen 16-bit lanes.
pub(super) trait Row16: Copy {
    fn load16(v3: V3, row: &[Self], i: usize) -> __m256i;
}

impl Row16 for u8 {
    #[inline(always)]
    fn load16(v3: V3, row: &[u8], i: usize) -> __m256i {
        let b: [u8; 16] = row[i..i + 16].try_into().expect("sixteen bytes");
        v3.avx2._mm256_cvtepu8_epi16(cast(b))
    }
}

impl Row16 for u16 {
    /// Samples of at most 15 bits, so that they are non-negative as `i16`.
    #[inline(always)]
    fn load16(_v3: V3, row: &[u16], i: usize) -> __m256i {
        cast(<[u16; 16]>::try_from(&row[i..i + 16]).expect("sixteen lanes"))
    }
}

/// One filter of the vertical pass for sixteen columns: the interleaved row pairs (low and
/// high halves of each 128-bit lane) times the tap pairs, biased, shifted and packed to 16 bits.
/// The in-lane unpacks and packs cancel out: columns come back in order.
#[inline(always)]
fn vfilt(
    v3: V3,
    p01: [__m256i; 2],
    p23: [__m256i; 2],
    c: [__m256i; 2],
    bias: __m256i,
    sh: __m128i,
) -> __m256i {
    let a = v3.avx2;
    let l = a._mm256_add_epi32(
        a._mm256_madd_epi16(p01[0], c[0]),
        a._mm256_madd_epi16(p23[0], c[1]),
    );
    let h = a._mm256_add_epi32(
        a._mm256_madd_epi16(p01[1], c[0]),
        a._mm256_madd_epi16(p23[1], c[1]),
    );
    let l = a._mm256_sra_epi32(a._mm256_add_epi32(l, bias), sh);
    let h = a._mm256_sra_epi32(a._mm256_add_epi32(h, bias), sh);
    a._mm256_packs_epi32(l, h)
}

/// Scale 0's vertical pass (`vert0`) for samples of at most 15 bits: sixteen columns per step,
/// the four taps as two 16-bit multiply-adds of interleaved row pairs.
#[inline(always)]
pub(super) fn vert0<T: Row16>(
    v3: V3,
    rows: [&[T]; 4],
    bits: u32,
    lo: &mut [i16],
    hi: Option<&mut [i16]>,
) {
    let (a, x) = (v3.avx2, v3.avx);
    let n = lo.len();
    let add = 1i32 << (bits - 1);
    let sh = count(v3, bits);
    let cl = [pair(v3, LO[0], LO[1]), pair(v3, LO[2], LO[3])];
    let ch = [pair(v3, HI[0], HI[1]), pair(v3, HI[2], HI[3])];
    let bias_lo = x._mm256_set1_epi32(add.wrapping_sub(LO_SUM.wrapping_mul(add)));
    let bias_hi = x._mm256_set1_epi32(add);
    let rows = [&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]];
    let mut hi = hi.map(|h| &mut h[..n]);
    each_block!(n, 16, |i| {
        let s0 = T::load16(v3, rows[0], i);
        let s1 = T::load16(v3, rows[1], i);
        let s2 = T::load16(v3, rows[2], i);
        let s3 = T::load16(v3, rows[3], i);
        let p01 = [
            a._mm256_unpacklo_epi16(s0, s1),
            a._mm256_unpackhi_epi16(s0, s1),
        ];
        let p23 = [
            a._mm256_unpacklo_epi16(s2, s3),
            a._mm256_unpackhi_epi16(s2, s3),
        ];
        st16(lo, i, vfilt(v3, p01, p23, cl, bias_lo, sh));
        if let Some(hi) = hi.as_mut() {
            st16(hi, i, vfilt(v3, p01, p23, ch, bias_hi, sh));
        }
    });
}

/// Scale 0's horizontal pass (`horiz0`): eight outputs per step, taps (2j - 1, 2j) and
/// (2j + 1, 2j + 2) as adjacent pairs of the padded row.
#[inline(always)]
pub(super) fn horiz0(v3: V3, buf: &[i16], c: &[i32; 4], out: &mut [i32], j0: usize) {
    let a = v3.avx2;
    let c01 = pair(v3, c[0], c[1]);
    let c23 = pair(v3, c[2], c[3]);
    let round = v3.avx._mm256_set1_epi32(32768);
    let n = out.len();
    let b = &buf[2 * j0..2 * (j0 + n) + 2];
    // |sum| <= 54822 * 2^15, so the rounded result always fits 16 bits: libvmaf's `int16_t`
    // store keeps it whole.
    each_block!(n, 8, |jj| {
        let acc = a._mm256_add_epi32(
            a._mm256_madd_epi16(ld16(b, 2 * jj), c01),
            a._mm256_madd_epi16(ld16(b, 2 * jj + 2), c23),
        );
        st32(
            out,
            jj,
            a._mm256_srai_epi32::<16>(a._mm256_add_epi32(acc, round)),
        );
    });
}

/// Lanes 0-3 (`h` = 0) or 4-7 (`h` = 1) of eight `f32`, widened to `f64`.
#[inline(always)]
fn half_pd(v3: V3, v: __m256, h: usize) -> __m256d {
    let x = v3.avx;
    let q: __m128i = if h == 0 {
        x._mm256_castsi256_si128(x._mm256_castps_si256(v))
    } else {
        v3.avx2
            ._mm256_extracti128_si256::<1>(x._mm256_castps_si256(v))
    };
    x._mm256_cvtps_pd(cast(q))
}

/// `d * d >= (c * o) * t` in `f64` for four lanes, as a mask of 64-bit lanes.
#[inline(always)]
fn ge_pd(v3: V3, c: __m256d, d: __m256d, o: __m256d, t: __m256d) -> __m256 {
    let x = v3.avx;
    let lhs = x._mm256_mul_pd(d, d);
    let rhs = x._mm256_mul_pd(x._mm256_mul_pd(c, o), t);
    x._mm256_castpd_ps(x._mm256_cmp_pd::<_CMP_GE_OQ>(lhs, rhs))
}

/// libvmaf's angle test for eight pixels, from the dot product and squared magnitudes (lanes
/// of all ones where the test passes). libvmaf compares `A * A >= c * O * T` in `f64`, where
/// `A`, `O`, `T` are the three converted to `f32` and `c` is cos²(1°) in `f32`. Here the
/// comparison is first made in `f32`, with a margin of 2^-20 either way that covers its
/// roundings (at most about 2^-22 relative); only where a lane falls inside the margin, which
/// takes an angle within a hair of 1°, is it repeated in `f64` for the whole block.
#[inline(always)]
fn angle8(v3: V3, cos_sq: __m256d, dot: __m256i, omag: __m256i, tmag: __m256i) -> __m256i {
    let (a, x) = (v3.avx2, v3.avx);
    let (df, of, tf) = (
        x._mm256_cvtepi32_ps(dot),
        x._mm256_cvtepi32_ps(omag),
        x._mm256_cvtepi32_ps(tmag),
    );
    let c32 = x._mm256_cvtpd_ps(cos_sq);
    let c = x._mm256_set_m128(c32, c32);
    let margin = x._mm256_set1_ps(1.0 + 1.0 / 1048576.0);
    let lhs = x._mm256_mul_ps(df, df);
    let rhs = x._mm256_mul_ps(x._mm256_mul_ps(c, of), tf);
    let yes = x._mm256_cmp_ps::<_CMP_GE_OQ>(lhs, x._mm256_mul_ps(rhs, margin));
    let no = x._mm256_cmp_ps::<_CMP_LE_OQ>(x._mm256_mul_ps(lhs, margin), rhs);
    let sure = x._mm256_or_ps(yes, no);
    let m = if x._mm256_movemask_ps(sure) == 0xff {
        x._mm256_castps_si256(yes)
    } else {
        let g0 = ge_pd(
            v3,
            cos_sq,
            half_pd(v3, df, 0),
            half_pd(v3, of, 0),
            half_pd(v3, tf, 0),
        );
        let g1 = ge_pd(
            v3,
            cos_sq,
            half_pd(v3, df, 1),
            half_pd(v3, of, 1),
            half_pd(v3, tf, 1),
        );
        // Each 64-bit mask holds two equal 32-bit halves: take one of each, then restore the
        // order.
        let m = x._mm256_castps_si256(x._mm256_shuffle_ps::<0b10_00_10_00>(g0, g1));
        a._mm256_permute4x64_epi64::<0b11_01_10_00>(m)
    };
    let negative = a._mm256_cmpgt_epi32(x._mm256_setzero_si256(), dot);
    a._mm256_andnot_si256(negative, m)
}

/// `floor(2^30 / d)` for eight lanes `1 <= d <= 32768` (libvmaf's `div_lookup`): the `f64`
/// quotient truncates correctly, its rounding error (at most 2^-23) being far below the
/// distance 1/d >= 2^-15 from a fractional quotient to the next integer. (Two 4-lane `f64`
/// divisions are cheaper here than an `f32` one with an integer correction.)
#[inline(always)]
fn recip30(v3: V3, d: __m256i) -> __m256i {
    let (a, x) = (v3.avx2, v3.avx);
    let two30 = x._mm256_set1_pd(1073741824.0);
    let lo = x._mm256_cvtepi32_pd(x._mm256_castsi256_si128(d));
    let hi = x._mm256_cvtepi32_pd(a._mm256_extracti128_si256::<1>(d));
    let rl = x._mm256_cvttpd_epi32(x._mm256_div_pd(two30, lo));
    let rh = x._mm256_cvttpd_epi32(x._mm256_div_pd(two30, hi));
    x._mm256_set_m128i(rh, rl)
}

/// Products of 32-bit lanes whose factors fit 16 bits, with one multiply-add: `p` in
/// 0..=32767 (its high half zero), `q` any value whose low half, as `i16`, is the factor.
#[inline(always)]
fn mul16(v3: V3, p: __m256i, q: __m256i) -> __m256i {
    v3.avx2._mm256_madd_epi16(p, q)
}

/// The 16-bit pair `(p, q)` in each 32-bit lane (`p` low), for a dot product by `madd`.
#[inline(always)]
fn pack_pair(v3: V3, p: __m256i, q: __m256i) -> __m256i {
    let a = v3.avx2;
    a._mm256_blend_epi16::<0b1010_1010>(p, a._mm256_slli_epi32::<16>(q))
}

/// Scale 0's decoupling (`decouple0`) with an integer gain limit, eight pixels per step, in
/// 32-bit lanes. Scale 0's coefficients are below 22841 in magnitude (the transform's gain on
/// 16-bit intermediates), so the dot products and squared magnitudes fit 31 bits, and the
/// reciprocal 2^30 / |o| comes from [`recip30`]. Where |t| > |o| the gain is 1 (32768); elsewhere R * |t| <= 2^30 fits.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn decouple0(
    v3: V3,
    cos_sq: f32,
    gain: i32,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    ad: &mut [&mut [i32]; 3],
) {
    let (a, x) = (v3.avx2, v3.avx);
    let n = o[0].len();
    let zero = x._mm256_setzero_si256();
    let one = x._mm256_set1_epi32(1);
    let full = x._mm256_set1_epi32(32768);
    let half = x._mm256_set1_epi32(16384);
    let gainv = x._mm256_set1_epi32(gain);
    let cos_sq = x._mm256_set1_pd(cos_sq as f64);
    let (o, t) = (o.map(|b| &b[..n]), t.map(|b| &b[..n]));
    let [r0, r1, r2] = r;
    let r = [&mut r0[..n], &mut r1[..n], &mut r2[..n]];
    let [a0, a1, a2] = ad;
    let ad = [&mut a0[..n], &mut a1[..n], &mut a2[..n]];
    each_block!(n, 8, |i| {
        let ob = [ld32(o[0], i), ld32(o[1], i), ld32(o[2], i)];
        let tb = [ld32(t[0], i), ld32(t[1], i), ld32(t[2], i)];
        // Scale-0 coefficients fit 16 bits: the dot products are multiply-adds of pairs.
        let po = pack_pair(v3, ob[0], ob[1]);
        let pt = pack_pair(v3, tb[0], tb[1]);
        let dot = a._mm256_madd_epi16(po, pt);
        let omag = a._mm256_madd_epi16(po, po);
        let tmag = a._mm256_madd_epi16(pt, pt);
        let angle = angle8(v3, cos_sq, dot, omag, tmag);
        for k in 0..3 {
            let (ok, tk) = (ob[k], tb[k]);
            let ao = a._mm256_abs_epi32(ok);
            let at = a._mm256_abs_epi32(tk);
            let recip = recip30(v3, a._mm256_max_epi32(ao, one));
            let prod = a._mm256_mullo_epi32(recip, at);
            let small = a._mm256_srai_epi32::<15>(a._mm256_add_epi32(prod, half));
            let kk = a._mm256_blendv_epi8(small, full, a._mm256_cmpgt_epi32(at, ao));
            let opposite = a._mm256_cmpgt_epi32(zero, a._mm256_xor_si256(ok, tk));
            let kk = a._mm256_andnot_si256(opposite, kk);
            let kk = a._mm256_blendv_epi8(kk, full, a._mm256_cmpeq_epi32(ok, zero));
            // A gain of 32768 restores the coefficient itself; below, kk fits 15 bits.
            let rst = a._mm256_srai_epi32::<15>(a._mm256_add_epi32(mul16(v3, kk, ok), half));
            let rst = a._mm256_blendv_epi8(rst, ok, a._mm256_cmpeq_epi32(kk, full));
            // The enhancement limit where the angle test holds and the gain is positive.
            let lim = mul16(v3, gainv, rst);
            let on = a._mm256_and_si256(angle, a._mm256_cmpgt_epi32(kk, zero));
            let pos = a._mm256_and_si256(on, a._mm256_cmpgt_epi32(ok, zero));
            let neg = a._mm256_and_si256(on, a._mm256_cmpgt_epi32(zero, ok));
            let rst = a._mm256_blendv_epi8(rst, a._mm256_min_epi32(lim, tk), pos);
            let rst = a._mm256_blendv_epi8(rst, a._mm256_max_epi32(lim, tk), neg);
            st32(r[k], i, rst);
            st32(ad[k], i, sext16(v3, a._mm256_sub_epi32(tk, rst)));
        }
    });
}

/// `(int16_t)((c * m + 2048) >> 12)`, one of the masking filter's fixed-point fractions.
#[inline(always)]
fn frac12(v3: V3, c: __m256i, m: __m256i) -> __m256i {
    let a = v3.avx2;
    let t = a._mm256_add_epi32(a._mm256_mullo_epi32(c, m), v3.avx._mm256_set1_epi32(2048));
    sext16(v3, a._mm256_srai_epi32::<12>(t))
}

/// Scale 0's CSF (`csf0`), eight pixels per step.
#[inline(always)]
pub(super) fn csf0(v3: V3, rf: [i32; 3], ad: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    let (a, x) = (v3.avx2, v3.avx);
    let by30 = x._mm256_set1_epi32(ONE_BY_30);
    let by15 = x._mm256_set1_epi32(ONE_BY_15);
    let r15 = x._mm256_set1_epi32(16384);
    let r17 = x._mm256_set1_epi32(65535);
    let n = f.len();
    let (ad, c) = (ad.map(|b| &b[..n]), &mut c[..n]);
    each_block!(n, 8, |i| {
        let mut fs = x._mm256_setzero_si256();
        let mut cs = fs;
        for k in 0..3 {
            let v = a._mm256_mullo_epi32(x._mm256_set1_epi32(rf[k]), ld32(ad[k], i));
            let v = if k == 2 {
                a._mm256_srai_epi32::<17>(a._mm256_add_epi32(v, r17))
            } else {
                a._mm256_srai_epi32::<15>(a._mm256_add_epi32(v, r15))
            };
            let m = a._mm256_abs_epi32(sext16(v3, v));
            fs = a._mm256_add_epi32(fs, frac12(v3, by30, m));
            cs = a._mm256_add_epi32(cs, frac12(v3, by15, m));
        }
        st32(f, i, fs);
        st32(c, i, a._mm256_sub_epi32(cs, fs));
    });
}

/// `floor(x / 2^s)` of 64-bit lanes (AVX2 shifts 64-bit lanes logically only): bias by 2^63,
/// shift, unbias.
#[inline(always)]
fn sra64(v3: V3, x: __m256i, s: __m128i) -> __m256i {
    let a = v3.avx2;
    let bias = v3.avx._mm256_set1_epi64x(i64::MIN);
    a._mm256_sub_epi64(
        a._mm256_srl_epi64(a._mm256_xor_si256(x, bias), s),
        a._mm256_srl_epi64(bias, s),
    )
}

/// Adds the four 64-bit lanes.
#[inline(always)]
fn sum64(v: __m256i) -> i64 {
    let l: [i64; 4] = cast(v);
    l[0].wrapping_add(l[1])
        .wrapping_add(l[2])
        .wrapping_add(l[3])
}

/// Contrast masking of one orientation for the four 32-bit values in the low halves of the
/// 64-bit lanes of `v` (non-negative, the masked coefficients): squared and rounded by `sq`
/// bits to 32 bits as libvmaf truncates it, times `v`, rounded by the cube shift.
#[inline(always)]
fn cube4(v3: V3, v: __m256i, sq: (__m256i, __m128i), cub: (__m256i, __m128i)) -> __m256i {
    let a = v3.avx2;
    let v_sq = a._mm256_srl_epi64(a._mm256_add_epi64(a._mm256_mul_epu32(v, v), sq.0), sq.1);
    let val = a._mm256_add_epi64(a._mm256_mul_epi32(v_sq, v), cub.0);
    sra64(v3, val, cub.1)
}

/// [`cube4`] of eight lanes, added to the even- and odd-lane accumulators.
#[inline(always)]
fn cube8(
    v3: V3,
    v: __m256i,
    sq: (__m256i, __m128i),
    cub: (__m256i, __m128i),
    acc: &mut [__m256i; 2],
) {
    let a = v3.avx2;
    acc[0] = a._mm256_add_epi64(acc[0], cube4(v3, v, sq, cub));
    acc[1] = a._mm256_add_epi64(acc[1], cube4(v3, a._mm256_srli_epi64::<32>(v), sq, cub));
}

/// The threshold at eight pixels: the 3-sums of the rows above, at and below, and the centre
/// terms.
#[inline(always)]
fn thr8(v3: V3, parts: [__m256i; 4]) -> __m256i {
    let a = v3.avx2;
    a._mm256_add_epi32(
        a._mm256_add_epi32(parts[0], parts[1]),
        a._mm256_add_epi32(parts[2], parts[3]),
    )
}

/// The constants of scale 0's contrast masking of one orientation.
#[derive(Clone, Copy)]
struct Cm0 {
    rf: __m256i,
    sub: __m128i,
    sq: (__m256i, __m128i),
    cub: (__m256i, __m128i),
}

/// Scale 0's contrast masking of eight pixels of one orientation: `r` restored coefficients.
#[inline(always)]
fn cm0_step(v3: V3, c: Cm0, r: __m256i, thr: __m256i, acc: &mut [__m256i; 2]) {
    let a = v3.avx2;
    let m = a._mm256_abs_epi32(a._mm256_mullo_epi32(r, c.rf));
    let t = a._mm256_sll_epi32(thr, c.sub);
    let v = a._mm256_max_epi32(a._mm256_sub_epi32(m, t), v3.avx._mm256_setzero_si256());
    cube8(v3, v, c.sq, c.cub, acc);
}

/// Scale 0's contrast-masked sums of a row segment (`cm0`), eight pixels per step; the last
/// step's missing pixels are zeros (no coefficient, no threshold), which add nothing.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn cm0(
    v3: V3,
    rf: [i32; 3],
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: [u32; 3],
) -> [i64; 3] {
    use super::{CM0_SHIFT_SQ as SHIFT_SQ, CM0_SHIFT_SUB as SHIFT_SUB};
    let x = v3.avx;
    let n = centre.len();
    let zero = x._mm256_setzero_si256();
    let c: [Cm0; 3] = std::array::from_fn(|k| Cm0 {
        rf: x._mm256_set1_epi32(rf[k]),
        sub: count(v3, SHIFT_SUB[k]),
        sq: (
            x._mm256_set1_epi64x(1 << (SHIFT_SQ[k] - 1)),
            count(v3, SHIFT_SQ[k]),
        ),
        cub: (
            x._mm256_set1_epi64x(super::half_of(shift_cub[k]) as i64),
            count(v3, shift_cub[k]),
        ),
    });
    let (mut a0, mut a1, mut a2) = ([zero; 2], [zero; 2], [zero; 2]);
    let (up, mid, down, centre) = (&up[..n], &mid[..n], &down[..n], &centre[..n]);
    let (r0, r1, r2) = (&r[0][..n], &r[1][..n], &r[2][..n]);
    let mut i = 0;
    while i + 8 <= n {
        let thr = thr8(
            v3,
            [ld32(up, i), ld32(mid, i), ld32(down, i), ld32(centre, i)],
        );
        cm0_step(v3, c[0], ld32(r0, i), thr, &mut a0);
        cm0_step(v3, c[1], ld32(r1, i), thr, &mut a1);
        cm0_step(v3, c[2], ld32(r2, i), thr, &mut a2);
        i += 8;
    }
    if i < n {
        let (full, m) = (i, n - i);
        let t = |s: &[i32]| ld32_tail(s, full, m);
        let thr = thr8(v3, [t(up), t(mid), t(down), t(centre)]);
        cm0_step(v3, c[0], t(r0), thr, &mut a0);
        cm0_step(v3, c[1], t(r1), thr, &mut a1);
        cm0_step(v3, c[2], t(r2), thr, &mut a2);
    }
    [a0, a1, a2].map(|[e, o]| sum64(e).wrapping_add(sum64(o)))
}

/// Cubes of the magnitudes of eight 16-bit coefficients, added to 64-bit accumulators.
#[inline(always)]
fn cubes8(v3: V3, v: __m256i, acc: &mut [__m256i; 2]) {
    let a = v3.avx2;
    let m = a._mm256_abs_epi32(v);
    let sq = a._mm256_mullo_epi32(m, m);
    acc[0] = a._mm256_add_epi64(acc[0], a._mm256_mul_epu32(sq, m));
    let (so, mo) = (a._mm256_srli_epi64::<32>(sq), a._mm256_srli_epi64::<32>(m));
    acc[1] = a._mm256_add_epi64(acc[1], a._mm256_mul_epu32(so, mo));
}

/// Scale 0's denominator sums of a row segment (`den0`).
#[inline(always)]
pub(super) fn den0(v3: V3, o: [&[i32]; 3]) -> [u64; 3] {
    let mut out = [0u64; 3];
    for k in 0..3 {
        let b = o[k];
        let n = b.len();
        let mut acc = [v3.avx._mm256_setzero_si256(); 2];
        let mut i = 0;
        while i + 8 <= n {
            cubes8(v3, ld32(b, i), &mut acc);
            i += 8;
        }
        if i < n {
            cubes8(v3, ld32_tail(b, i, n - i), &mut acc);
        }
        out[k] = sum64(acc[0]).wrapping_add(sum64(acc[1])) as u64;
    }
    out
}

// Scales 1 to 3.

#[inline(always)]
fn ld4(s: &[i32], i: usize) -> __m128i {
    cast(<[i32; 4]>::try_from(&s[i..i + 4]).expect("four lanes"))
}

#[inline(always)]
fn st4(s: &mut [i32], i: usize, v: __m128i) {
    let a: [i32; 4] = cast(v);
    s[i..i + 4].copy_from_slice(&a);
}

/// Four `f64` lanes from IEEE exponent fields: 2^e for each 64-bit lane `e`.
#[inline(always)]
fn pow2(v3: V3, e: __m256i) -> __m256d {
    let a = v3.avx2;
    let biased = a._mm256_add_epi64(e, v3.avx._mm256_set1_epi64x(1023));
    v3.avx
        ._mm256_castsi256_pd(a._mm256_slli_epi64::<52>(biased))
}

/// Signed 64-bit lanes rounded to `f32` as a C conversion rounds them (to nearest), returned
/// widened to `f64`. AVX2 converts no 64-bit integers: magnitudes below 2^52 are exact in
/// `f64` (the 2^52 bias trick), larger ones keep their top 48 bits and a sticky bit for the
/// rest, which rounds to the same 24 bits.
#[inline(always)]
fn i64_to_f32_pd(v3: V3, v: __m256i) -> __m256d {
    let (a, x) = (v3.avx2, v3.avx);
    let zero = x._mm256_setzero_si256();
    let neg = a._mm256_cmpgt_epi64(zero, v);
    let m = a._mm256_sub_epi64(a._mm256_xor_si256(v, neg), neg);
    let big = a._mm256_cmpgt_epi64(m, x._mm256_set1_epi64x((1 << 52) - 1));
    let low = a._mm256_and_si256(m, x._mm256_set1_epi64x(0xffff));
    let sticky = a._mm256_andnot_si256(a._mm256_cmpeq_epi64(low, zero), x._mm256_set1_epi64x(1));
    let m2 = a._mm256_or_si256(a._mm256_srli_epi64::<16>(m), sticky);
    let m = a._mm256_blendv_epi8(m, m2, big);
    let magic = x._mm256_set1_epi64x(0x4330_0000_0000_0000);
    let d = x._mm256_sub_pd(
        x._mm256_castsi256_pd(a._mm256_or_si256(m, magic)),
        x._mm256_set1_pd(4503599627370496.0),
    );
    let d = x._mm256_blendv_pd(
        d,
        x._mm256_mul_pd(d, x._mm256_set1_pd(65536.0)),
        x._mm256_castsi256_pd(big),
    );
    let f = x._mm256_cvtps_pd(x._mm256_cvtpd_ps(d));
    x._mm256_xor_pd(
        f,
        x._mm256_and_pd(x._mm256_castsi256_pd(neg), x._mm256_set1_pd(-0.0)),
    )
}

/// The decoupling of scales 1 to 3 (`decouple123`), four pixels per step in `f64`: the angle
/// test from exact 64-bit products, the gain from libvmaf's 15-bit reciprocal. The product of
/// the reciprocal and the distorted coefficient may exceed 2^53 and round, but only where the
/// gain clamps to 0 or 1 anyway; every other value is an integer below 2^53, exact.
#[inline(always)]
pub(super) fn decouple123(
    v3: V3,
    cos_sq: f32,
    gain: f64,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    ad: &mut [&mut [i32]; 3],
) {
    let (a, x) = (v3.avx2, v3.avx);
    let n = o[0].len();
    let zero = x._mm256_setzero_pd();
    let izero = x._mm256_setzero_si256();
    let cos_sq = x._mm256_set1_pd(cos_sq as f64);
    let sign = x._mm256_set1_pd(-0.0);
    let full = x._mm256_set1_pd(32768.0);
    let half = x._mm256_set1_pd(16384.0);
    let inv15 = x._mm256_set1_pd(1.0 / 32768.0);
    let two15 = x._mm256_set1_pd(32768.0);
    let two30 = x._mm256_set1_pd(1073741824.0);
    let gainv = x._mm256_set1_pd(gain);
    let e14 = x._mm256_set1_epi64x(14);
    let (o, t) = (o.map(|b| &b[..n]), t.map(|b| &b[..n]));
    let [r0, r1, r2] = r;
    let r = [&mut r0[..n], &mut r1[..n], &mut r2[..n]];
    let [a0, a1, a2] = ad;
    let ad = [&mut a0[..n], &mut a1[..n], &mut a2[..n]];
    each_block!(n, 4, |i| {
        let ob = [ld4(o[0], i), ld4(o[1], i), ld4(o[2], i)];
        let tb = [ld4(t[0], i), ld4(t[1], i), ld4(t[2], i)];
        let (oh, ov) = (
            a._mm256_cvtepi32_epi64(ob[0]),
            a._mm256_cvtepi32_epi64(ob[1]),
        );
        let (th, tv) = (
            a._mm256_cvtepi32_epi64(tb[0]),
            a._mm256_cvtepi32_epi64(tb[1]),
        );
        let dot = a._mm256_add_epi64(a._mm256_mul_epi32(oh, th), a._mm256_mul_epi32(ov, tv));
        let omag = a._mm256_add_epi64(a._mm256_mul_epi32(oh, oh), a._mm256_mul_epi32(ov, ov));
        let tmag = a._mm256_add_epi64(a._mm256_mul_epi32(th, th), a._mm256_mul_epi32(tv, tv));
        let (df, of, tf) = (
            i64_to_f32_pd(v3, dot),
            i64_to_f32_pd(v3, omag),
            i64_to_f32_pd(v3, tmag),
        );
        let ge = x._mm256_cmp_pd::<_CMP_GE_OQ>(
            x._mm256_mul_pd(df, df),
            x._mm256_mul_pd(x._mm256_mul_pd(cos_sq, of), tf),
        );
        let negative = x._mm256_castsi256_pd(a._mm256_cmpgt_epi64(izero, dot));
        let angle = x._mm256_andnot_pd(negative, ge);
        for k in 0..3 {
            let ok = x._mm256_cvtepi32_pd(ob[k]);
            let tk = x._mm256_cvtepi32_pd(tb[k]);
            let ao = x._mm256_andnot_pd(sign, ok);
            // Magnitudes of 2^15 and more keep their 15 leading bits, rounded: msb =
            // (|o| + 2^(sh - 1)) >> sh with sh = floor(log2 |o|) - 14.
            let big = x._mm256_cmp_pd::<_CMP_GE_OQ>(ao, two15);
            let e = a._mm256_sub_epi64(
                a._mm256_srli_epi64::<52>(x._mm256_castpd_si256(ao)),
                x._mm256_set1_epi64x(1023 + 14),
            );
            let sh = a._mm256_and_si256(e, x._mm256_castpd_si256(big));
            let neg_sh = a._mm256_sub_epi64(izero, sh);
            let half_step = pow2(v3, a._mm256_sub_epi64(sh, x._mm256_set1_epi64x(1)));
            let msb = x
                ._mm256_floor_pd(x._mm256_mul_pd(x._mm256_add_pd(ao, half_step), pow2(v3, neg_sh)));
            let msb = x._mm256_blendv_pd(ao, msb, big);
            let recip = x._mm256_floor_pd(x._mm256_div_pd(two30, msb));
            let st = x._mm256_xor_pd(tk, x._mm256_and_pd(ok, sign));
            let num = x._mm256_add_pd(
                x._mm256_mul_pd(recip, st),
                pow2(v3, a._mm256_add_epi64(sh, e14)),
            );
            let kk = x._mm256_floor_pd(x._mm256_mul_pd(
                num,
                pow2(v3, a._mm256_sub_epi64(neg_sh, x._mm256_set1_epi64x(15))),
            ));
            // NaN (a zero reference coefficient) becomes 0 here, then 32768 below.
            let kk = x._mm256_min_pd(x._mm256_max_pd(kk, zero), full);
            let kk = x._mm256_blendv_pd(kk, full, x._mm256_cmp_pd::<0>(ok, zero));
            let rst = x._mm256_floor_pd(
                x._mm256_mul_pd(x._mm256_add_pd(x._mm256_mul_pd(kk, ok), half), inv15),
            );
            let lim = x._mm256_mul_pd(rst, gainv);
            let on = x._mm256_and_pd(angle, x._mm256_cmp_pd::<14>(kk, zero));
            let pos = x._mm256_and_pd(on, x._mm256_cmp_pd::<14>(ok, zero));
            let neg = x._mm256_and_pd(on, x._mm256_cmp_pd::<1>(ok, zero));
            let rst = x._mm256_blendv_pd(rst, x._mm256_min_pd(lim, tk), pos);
            let rst = x._mm256_blendv_pd(rst, x._mm256_max_pd(lim, tk), neg);
            let ri = x._mm256_cvttpd_epi32(rst);
            st4(r[k], i, ri);
            st4(ad[k], i, v3.sse2._mm_sub_epi32(tb[k], ri));
        }
    });
}

/// `(int32_t)((c * v + 2^27) >> 28)` for eight lanes: the fixed-point scaling by a Q32 factor
/// below 2^31 of scales 1 to 3.
#[inline(always)]
fn q28(v3: V3, c: __m256i, v: __m256i) -> __m256i {
    let a = v3.avx2;
    let round = v3.avx._mm256_set1_epi64x(1 << 27);
    let s28 = count(v3, 28);
    let even = sra64(v3, a._mm256_add_epi64(a._mm256_mul_epi32(v, c), round), s28);
    let odd = sra64(
        v3,
        a._mm256_add_epi64(a._mm256_mul_epi32(a._mm256_srli_epi64::<32>(v), c), round),
        s28,
    );
    a._mm256_blend_epi32::<0b1010_1010>(even, a._mm256_slli_epi64::<32>(odd))
}

/// `(int32_t)((c * m - 2^31) >> 32)` for eight non-negative lanes `m` and `c < 2^32`: the
/// masking filter's fractions of scales 1 to 3 (libvmaf's rounding constant is 2^31 stored in
/// an `int32_t`, so it subtracts).
#[inline(always)]
fn q32(v3: V3, c: __m256i, m: __m256i) -> __m256i {
    let a = v3.avx2;
    let bias = v3.avx._mm256_set1_epi64x(1 << 31);
    let even = a._mm256_sub_epi64(a._mm256_mul_epu32(m, c), bias);
    let odd = a._mm256_sub_epi64(a._mm256_mul_epu32(a._mm256_srli_epi64::<32>(m), c), bias);
    // The high half of each 64-bit result is the floor division by 2^32.
    a._mm256_blend_epi32::<0b1010_1010>(a._mm256_srli_epi64::<32>(even), odd)
}

/// The CSF of scales 1 to 3 (`csf123`), eight pixels per step.
#[inline(always)]
pub(super) fn csf123(v3: V3, rf: [u32; 3], ad: [&[i32]; 3], f: &mut [i32], c: &mut [i32]) {
    let (a, x) = (v3.avx2, v3.avx);
    let by30 = x._mm256_set1_epi64x(super::I4_ONE_BY_30);
    let by15 = x._mm256_set1_epi64x(super::I4_ONE_BY_15);
    let n = f.len();
    let (ad, c) = (ad.map(|b| &b[..n]), &mut c[..n]);
    each_block!(n, 8, |i| {
        let mut fs = x._mm256_setzero_si256();
        let mut cs = fs;
        for k in 0..3 {
            let v = q28(v3, x._mm256_set1_epi64x(rf[k] as i64), ld32(ad[k], i));
            let m = a._mm256_abs_epi32(v);
            fs = a._mm256_add_epi32(fs, q32(v3, by30, m));
            cs = a._mm256_add_epi32(cs, q32(v3, by15, m));
        }
        st32(f, i, fs);
        st32(c, i, a._mm256_sub_epi32(cs, fs));
    });
}

/// The contrast masking of scales 1 to 3 for eight pixels of one orientation.
#[inline(always)]
fn cm123_step(
    v3: V3,
    rf: __m256i,
    sq: (__m256i, __m128i),
    cub: (__m256i, __m128i),
    r: __m256i,
    thr: __m256i,
    acc: &mut [__m256i; 2],
) {
    let a = v3.avx2;
    let v = a._mm256_abs_epi32(q28(v3, rf, r));
    let v = a._mm256_max_epi32(a._mm256_sub_epi32(v, thr), v3.avx._mm256_setzero_si256());
    cube8(v3, v, sq, cub, acc);
}

/// The contrast-masked sums of scales 1 to 3 (`cm123`), eight pixels per step, the last step
/// zero-padded.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn cm123(
    v3: V3,
    rf: [u32; 3],
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: u32,
) -> [i64; 3] {
    let x = v3.avx;
    let n = centre.len();
    let zero = x._mm256_setzero_si256();
    let sq = (x._mm256_set1_epi64x(1 << 29), count(v3, 30));
    let cub = (
        x._mm256_set1_epi64x(super::half_of(shift_cub) as i64),
        count(v3, shift_cub),
    );
    let rfv = [
        x._mm256_set1_epi64x(rf[0] as i64),
        x._mm256_set1_epi64x(rf[1] as i64),
        x._mm256_set1_epi64x(rf[2] as i64),
    ];
    let (mut a0, mut a1, mut a2) = ([zero; 2], [zero; 2], [zero; 2]);
    let (up, mid, down, centre) = (&up[..n], &mid[..n], &down[..n], &centre[..n]);
    let (r0, r1, r2) = (&r[0][..n], &r[1][..n], &r[2][..n]);
    let mut i = 0;
    while i + 8 <= n {
        let thr = thr8(
            v3,
            [ld32(up, i), ld32(mid, i), ld32(down, i), ld32(centre, i)],
        );
        cm123_step(v3, rfv[0], sq, cub, ld32(r0, i), thr, &mut a0);
        cm123_step(v3, rfv[1], sq, cub, ld32(r1, i), thr, &mut a1);
        cm123_step(v3, rfv[2], sq, cub, ld32(r2, i), thr, &mut a2);
        i += 8;
    }
    if i < n {
        let (full, m) = (i, n - i);
        let t = |s: &[i32]| ld32_tail(s, full, m);
        let thr = thr8(v3, [t(up), t(mid), t(down), t(centre)]);
        cm123_step(v3, rfv[0], sq, cub, t(r0), thr, &mut a0);
        cm123_step(v3, rfv[1], sq, cub, t(r1), thr, &mut a1);
        cm123_step(v3, rfv[2], sq, cub, t(r2), thr, &mut a2);
    }
    [a0, a1, a2].map(|[e, o]| sum64(e).wrapping_add(sum64(o)))
}

/// One step of [`den123`]: the rounded cubes of the four magnitudes in the low halves of the
/// 64-bit lanes of `m`.
#[inline(always)]
fn den123_4(
    v3: V3,
    m: __m256i,
    round: __m256i,
    sq: __m128i,
    add: __m256i,
    cub: __m128i,
) -> __m256i {
    let a = v3.avx2;
    let s = a._mm256_srl_epi64(a._mm256_add_epi64(a._mm256_mul_epu32(m, m), round), sq);
    a._mm256_srl_epi64(a._mm256_add_epi64(a._mm256_mul_epu32(s, m), add), cub)
}

/// The denominator sums of scales 1 to 3 for a row segment (`den123`), in unsigned 64-bit
/// lanes; the last step's missing values are zeros, which add nothing.
#[inline(always)]
pub(super) fn den123(v3: V3, o: [&[i32]; 3], sq: u32, add_cub: u64, shift_cub: u32) -> [u64; 3] {
    let (a, x) = (v3.avx2, v3.avx);
    let round = x._mm256_set1_epi64x(1i64 << sq);
    let sqc = count(v3, sq);
    let add = x._mm256_set1_epi64x(add_cub as i64);
    let cub = count(v3, shift_cub);
    let mut out = [0u64; 3];
    for k in 0..3 {
        let b = o[k];
        let n = b.len();
        let mut acc = x._mm256_setzero_si256();
        let mut i = 0;
        while i < n {
            let v = if i + 8 <= n {
                ld32(b, i)
            } else {
                ld32_tail(b, i, n - i)
            };
            let m = a._mm256_abs_epi32(v);
            acc = a._mm256_add_epi64(acc, den123_4(v3, m, round, sqc, add, cub));
            let odd = a._mm256_srli_epi64::<32>(m);
            acc = a._mm256_add_epi64(acc, den123_4(v3, odd, round, sqc, add, cub));
            i += 8;
        }
        out[k] = sum64(acc) as u64;
    }
    out
}

/// Pairs of 16-bit halves of two rows of 32-bit values, for `madd`: the high halves
/// `v >> 16` and the low halves less 2^15, `(v & 0xffff) - 32768`, of rows `p` and `q` in the
/// low and high half of each lane. Then `v = 2^16 * hi + lo + 2^15`, and the taps' sum over
/// the low halves' 2^15 is folded into the high sum (2^15 * 46342 = 2^16 * 23171 for the
/// low-pass filter, 0 for the high-pass).
#[inline(always)]
fn split_pairs(v3: V3, p: __m256i, q: __m256i) -> (__m256i, __m256i) {
    let a = v3.avx2;
    let mask = v3.avx._mm256_set1_epi32(0xffff);
    let hi = a._mm256_or_si256(
        a._mm256_and_si256(a._mm256_srli_epi32::<16>(p), mask),
        a._mm256_slli_epi32::<16>(a._mm256_srai_epi32::<16>(q)),
    );
    // (v & 0xffff) - 32768 is the low half with its top bit flipped.
    let flip = v3.avx._mm256_set1_epi32(0x8000_8000u32 as i32);
    let lo = a._mm256_xor_si256(
        a._mm256_or_si256(a._mm256_and_si256(p, mask), a._mm256_slli_epi32::<16>(q)),
        flip,
    );
    (hi, lo)
}

/// The low-pass taps' correction for the split: 23171 added to the high-half sum.
const LO_SPLIT: i32 = LO_SUM / 2;

/// One filter of [`vert1`] for sixteen columns, stored in order at `i`.
#[inline(always)]
fn vert1_store(
    v3: V3,
    p01: [__m256i; 2],
    p23: [__m256i; 2],
    c: [__m256i; 2],
    out: &mut [i32],
    i: usize,
) {
    let a = v3.avx2;
    let l = a._mm256_add_epi32(
        a._mm256_madd_epi16(p01[0], c[0]),
        a._mm256_madd_epi16(p23[0], c[1]),
    );
    let h = a._mm256_add_epi32(
        a._mm256_madd_epi16(p01[1], c[0]),
        a._mm256_madd_epi16(p23[1], c[1]),
    );
    // Columns 0-3 and 8-11 in `l`, 4-7 and 12-15 in `h`.
    st32(out, i, a._mm256_permute2x128_si256::<0x20>(l, h));
    st32(out, i + 8, a._mm256_permute2x128_si256::<0x31>(l, h));
}

/// The vertical pass of scale 1 from the 16-bit low band of scale 0: sixteen columns per step,
/// exact in 32 bits (|sum| < 54822 * 2^15), unrounded as libvmaf's scale 1 is.
#[inline(always)]
pub(super) fn vert1(v3: V3, rows: [&[i16]; 4], lo: &mut [i32], hi: Option<&mut [i32]>) {
    let a = v3.avx2;
    let n = lo.len();
    let cl = [pair(v3, LO[0], LO[1]), pair(v3, LO[2], LO[3])];
    let ch = [pair(v3, HI[0], HI[1]), pair(v3, HI[2], HI[3])];
    let rows = [&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]];
    let mut hi = hi.map(|h| &mut h[..n]);
    each_block!(n, 16, |i| {
        let s0 = ld16(rows[0], i);
        let s1 = ld16(rows[1], i);
        let s2 = ld16(rows[2], i);
        let s3 = ld16(rows[3], i);
        let p01 = [
            a._mm256_unpacklo_epi16(s0, s1),
            a._mm256_unpackhi_epi16(s0, s1),
        ];
        let p23 = [
            a._mm256_unpacklo_epi16(s2, s3),
            a._mm256_unpackhi_epi16(s2, s3),
        ];
        vert1_store(v3, p01, p23, cl, lo, i);
        if let Some(hi) = hi.as_mut() {
            vert1_store(v3, p01, p23, ch, hi, i);
        }
    });
}

/// One filter of [`vert23`] for eight columns: the high-half sum (plus the low-pass fold) and
/// the rounded low-half sum.
#[inline(always)]
fn vert23_one(v3: V3, h: [__m256i; 2], l: [__m256i; 2], c: [__m256i; 2], fold: __m256i) -> __m256i {
    let a = v3.avx2;
    let sh = a._mm256_add_epi32(
        a._mm256_madd_epi16(h[0], c[0]),
        a._mm256_madd_epi16(h[1], c[1]),
    );
    let sl = a._mm256_add_epi32(
        a._mm256_madd_epi16(l[0], c[0]),
        a._mm256_madd_epi16(l[1], c[1]),
    );
    let round = v3.avx._mm256_set1_epi32(32768);
    a._mm256_add_epi32(
        a._mm256_add_epi32(sh, fold),
        a._mm256_srai_epi32::<16>(a._mm256_add_epi32(sl, round)),
    )
}

/// The vertical pass of scales 2 and 3 from 32-bit low bands, eight columns per step:
/// `(sum + 2^15) >> 16` as the high-half sum plus the rounded low-half sum, exact for any
/// 32-bit input.
#[inline(always)]
pub(super) fn vert23(v3: V3, rows: [&[i32]; 4], lo: &mut [i32], hi: Option<&mut [i32]>) {
    let x = v3.avx;
    let n = lo.len();
    let cl = [pair(v3, LO[0], LO[1]), pair(v3, LO[2], LO[3])];
    let ch = [pair(v3, HI[0], HI[1]), pair(v3, HI[2], HI[3])];
    let fold = x._mm256_set1_epi32(LO_SPLIT);
    let zero = x._mm256_setzero_si256();
    let rows = [&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]];
    let mut hi = hi.map(|h| &mut h[..n]);
    each_block!(n, 8, |i| {
        let (h01, l01) = split_pairs(v3, ld32(rows[0], i), ld32(rows[1], i));
        let (h23, l23) = split_pairs(v3, ld32(rows[2], i), ld32(rows[3], i));
        st32(lo, i, vert23_one(v3, [h01, h23], [l01, l23], cl, fold));
        if let Some(hi) = hi.as_mut() {
            st32(hi, i, vert23_one(v3, [h01, h23], [l01, l23], ch, zero));
        }
    });
}

/// Splits a padded row of 32-bit values into its high halves `v >> 16` and its low halves less
/// 2^15 (see [`split_pairs`]), sixteen at a time.
#[inline(always)]
pub(super) fn split_row(v3: V3, src: &[i32], hi: &mut [i16], lo: &mut [i16]) {
    let a = v3.avx2;
    let mask = v3.avx._mm256_set1_epi32(0xffff);
    let flip = v3.avx._mm256_set1_epi32(0x8000);
    let n = src.len();
    let (hi, lo) = (&mut hi[..n], &mut lo[..n]);
    each_block!(n, 16, |i| {
        let (p, q) = (ld32(src, i), ld32(src, i + 8));
        let h = a._mm256_packs_epi32(a._mm256_srai_epi32::<16>(p), a._mm256_srai_epi32::<16>(q));
        let lp = a._mm256_sub_epi32(a._mm256_and_si256(p, mask), flip);
        let lq = a._mm256_sub_epi32(a._mm256_and_si256(q, mask), flip);
        let l = a._mm256_packs_epi32(lp, lq);
        st16(hi, i, a._mm256_permute4x64_epi64::<0b11_01_10_00>(h));
        st16(lo, i, a._mm256_permute4x64_epi64::<0b11_01_10_00>(l));
    });
}

/// The horizontal pass of scales 1 to 3 from a split padded row (`hi`, `lo`): eight outputs per
/// step, `(sum + 2^(shift - 1)) >> shift` (shift 15 or 16) as the high-half sum times
/// 2^(16 - shift) plus the rounded low-half sum, wrapping to 32 bits as libvmaf's cast does.
#[inline(always)]
pub(super) fn horiz_split(
    v3: V3,
    hi: &[i16],
    lo: &[i16],
    c: &[i32; 4],
    shift: u32,
    out: &mut [i32],
    j0: usize,
) {
    let (a, x) = (v3.avx2, v3.avx);
    let c01 = pair(v3, c[0], c[1]);
    let c23 = pair(v3, c[2], c[3]);
    let fold = x._mm256_set1_epi32(if c[0] == LO[0] { LO_SPLIT } else { 0 });
    let round = x._mm256_set1_epi32(1 << (shift - 1));
    let sc = count(v3, shift);
    let up = count(v3, 16 - shift);
    let n = out.len();
    let (hi, lo) = (&hi[2 * j0..2 * (j0 + n) + 2], &lo[2 * j0..2 * (j0 + n) + 2]);
    each_block!(n, 8, |jj| {
        let j = jj;
        let sh = a._mm256_add_epi32(
            a._mm256_madd_epi16(ld16(hi, 2 * j), c01),
            a._mm256_madd_epi16(ld16(hi, 2 * j + 2), c23),
        );
        let sl = a._mm256_add_epi32(
            a._mm256_madd_epi16(ld16(lo, 2 * j), c01),
            a._mm256_madd_epi16(ld16(lo, 2 * j + 2), c23),
        );
        let v = a._mm256_add_epi32(
            a._mm256_sll_epi32(a._mm256_add_epi32(sh, fold), up),
            a._mm256_sra_epi32(a._mm256_add_epi32(sl, round), sc),
        );
        st32(out, jj, v);
    });
}

/// Scale 0's horizontal pass into 16-bit outputs (the low band kept for scale 1), sixteen per
/// step.
#[inline(always)]
pub(super) fn horiz0_16(v3: V3, buf: &[i16], c: &[i32; 4], out: &mut [i16]) {
    let a = v3.avx2;
    let c01 = pair(v3, c[0], c[1]);
    let c23 = pair(v3, c[2], c[3]);
    let round = v3.avx._mm256_set1_epi32(32768);
    let n = out.len();
    let b = &buf[..2 * n + 2];
    each_block!(n, 16, |j| {
        let p = a._mm256_add_epi32(
            a._mm256_madd_epi16(ld16(b, 2 * j), c01),
            a._mm256_madd_epi16(ld16(b, 2 * j + 2), c23),
        );
        let q = a._mm256_add_epi32(
            a._mm256_madd_epi16(ld16(b, 2 * j + 16), c01),
            a._mm256_madd_epi16(ld16(b, 2 * j + 18), c23),
        );
        // The results fit 16 bits (see `horiz0`), so the saturating pack only packs.
        let p = a._mm256_srai_epi32::<16>(a._mm256_add_epi32(p, round));
        let q = a._mm256_srai_epi32::<16>(a._mm256_add_epi32(q, round));
        let packed = a._mm256_packs_epi32(p, q);
        st16(out, j, a._mm256_permute4x64_epi64::<0b11_01_10_00>(packed));
    });
}

/// Each AVX2 kernel against its portable twin on random rows that reach the extremes of each
/// value's range (every magnitude class, signs, zeros, the boundaries the kernels branch on),
/// with row lengths that leave partial last blocks.
#[cfg(test)]
pub(crate) mod tests {
    use super::super::{self as adm, Params};
    use super::*;
    use crate::testutil::Lcg;

    fn token() -> Option<V3> {
        V3::try_new()
    }

    /// A random 32-bit value of magnitude below 2^`bits` (every magnitude class alike), with
    /// special values mixed in.
    pub(crate) fn value(rng: &mut Lcg, bits: u32) -> i32 {
        let r = rng.next();
        let special = [0, 1, -1, 32767, -32767, 32768, -32768, 65535, 65536, -65537];
        if r % 11 == 0 {
            let v = special[(r / 11) as usize % special.len()] as i64;
            return v.clamp(-(1i64 << bits) + 1, (1i64 << bits) - 1) as i32;
        }
        let e = rng.next() % (bits + 1);
        let m = ((rng.next() as u64) << 8 | rng.next() as u64) & ((1u64 << e) - 1);
        let v = m as i64;
        (if rng.next() & 1 == 1 { -v } else { v }) as i32
    }

    pub(crate) fn row(rng: &mut Lcg, n: usize, bits: u32) -> Vec<i32> {
        (0..n).map(|_| value(rng, bits)).collect()
    }

    /// A distorted row near a reference row: equal, negated, a little larger or smaller, or
    /// unrelated, so that every branch of the gain runs.
    pub(crate) fn near(rng: &mut Lcg, o: &[i32], bits: u32) -> Vec<i32> {
        let lim = (1i64 << bits) - 1;
        o.iter()
            .map(|&v| {
                let v = v as i64;
                let t = match rng.next() % 6 {
                    0 => v,
                    1 => -v,
                    2 => v + (rng.next() % 5) as i64 - 2,
                    3 => v / 2,
                    4 => v * 3 / 2,
                    _ => value(rng, bits) as i64,
                };
                t.clamp(-lim, lim) as i32
            })
            .collect()
    }

    pub(crate) type Rows3 = [Vec<i32>; 3];

    pub(crate) fn run_decouple(
        n: usize,
        f: impl Fn([&[i32]; 3], [&[i32]; 3], &mut [&mut [i32]; 3], &mut [&mut [i32]; 3]),
        o: &Rows3,
        t: &Rows3,
    ) -> (Rows3, Rows3) {
        let mut r: Rows3 = std::array::from_fn(|_| vec![0; n]);
        let mut a: Rows3 = std::array::from_fn(|_| vec![0; n]);
        {
            let [r0, r1, r2] = &mut r;
            let [a0, a1, a2] = &mut a;
            f(
                [&o[0], &o[1], &o[2]],
                [&t[0], &t[1], &t[2]],
                &mut [r0, r1, r2],
                &mut [a0, a1, a2],
            );
        }
        (r, a)
    }

    #[test]
    fn decoupling_equals_the_portable_kernels() {
        let Some(v3) = token() else { return };
        let mut rng = Lcg(5);
        for trial in 0..400 {
            let n = 8 + trial % 29;
            // Scale 0: 16-bit coefficients of at most 22840 in magnitude.
            let o: Rows3 = std::array::from_fn(|_| {
                row(&mut rng, n, 14)
                    .iter()
                    .map(|&v| v.clamp(-22840, 22840))
                    .collect()
            });
            let t: Rows3 = std::array::from_fn(|k| {
                near(&mut rng, &o[k], 14)
                    .iter()
                    .map(|&v| v.clamp(-22840, 22840))
                    .collect()
            });
            for gain in [1.0, 100.0] {
                let p = Params::new(gain);
                let want = run_decouple(n, |o, t, r, a| adm::decouple0(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    n,
                    |o, t, r, a| decouple0(v3, p.cos_1deg_sq, gain as i32, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "scale 0, gain {gain}, trial {trial}");
            }
            // Scales 1 to 3: any 32-bit coefficient but the most negative.
            let bits = [20, 26, 31][trial % 3];
            let o: Rows3 = std::array::from_fn(|_| row(&mut rng, n.max(4), bits));
            let t: Rows3 = std::array::from_fn(|k| near(&mut rng, &o[k], bits));
            for gain in [1.0, 2.5, 100.0] {
                let p = Params::new(gain);
                let m = n.max(4);
                let want = run_decouple(m, |o, t, r, a| adm::decouple123(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    m,
                    |o, t, r, a| decouple123(v3, p.cos_1deg_sq, gain, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "scales 1-3, gain {gain}, trial {trial}");
            }
        }
    }

    /// Scale-0 rows of `n` pairs at angles within a hair of 1°, where the `f32` angle test
    /// defers to `f64`, and how many of them fall inside its margin.
    pub(crate) fn near_one_degree(rng: &mut Lcg, n: usize) -> (Rows3, Rows3, usize) {
        let c = Params::new(100.0).cos_1deg_sq as f64;
        let mut ambiguous = 0;
        let mut o: Rows3 = std::array::from_fn(|_| vec![0; n]);
        let mut t: Rows3 = std::array::from_fn(|_| vec![0; n]);
        for x in 0..n {
            let phi = (rng.next() % 6283) as f64 / 1000.0;
            let mag = 2000.0 + (rng.next() % 9000) as f64;
            let turn = (1.0f64 + ((rng.next() % 2001) as f64 - 1000.0) * 1e-5).to_radians();
            let turn = if rng.next() & 1 == 1 { -turn } else { turn };
            let (oh, ov) = ((mag * phi.cos()).round(), (mag * phi.sin()).round());
            let tm = mag * (1.0 + (rng.next() % 100) as f64 / 100.0);
            let (th, tv) = (
                (tm * (phi + turn).cos()).round(),
                (tm * (phi + turn).sin()).round(),
            );
            (o[0][x], o[1][x], o[2][x]) =
                (oh as i32, ov as i32, value(rng, 14).clamp(-22840, 22840));
            (t[0][x], t[1][x], t[2][x]) =
                (th as i32, tv as i32, value(rng, 14).clamp(-22840, 22840));
            let dot = (oh * th + ov * tv) as f32 as f64;
            let om = (oh * oh + ov * ov) as f32 as f64;
            let tmg = (th * th + tv * tv) as f32 as f64;
            if (dot * dot / (c * om * tmg) - 1.0).abs() < 1.0 / 1048576.0 {
                ambiguous += 1;
            }
        }
        (o, t, ambiguous)
    }

    /// Pairs at angles within a hair of 1°, where the `f32` angle test defers to `f64`.
    #[test]
    fn angles_near_one_degree_equal_the_portable_kernel() {
        let Some(v3) = token() else { return };
        let mut rng = Lcg(23);
        let mut ambiguous = 0;
        for trial in 0..300 {
            let n = 64;
            let (o, t, near) = near_one_degree(&mut rng, n);
            ambiguous += near;
            for gain in [1.0, 100.0] {
                let p = Params::new(gain);
                let want = run_decouple(n, |o, t, r, a| adm::decouple0(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    n,
                    |o, t, r, a| decouple0(v3, p.cos_1deg_sq, gain as i32, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "gain {gain}, trial {trial}");
            }
        }
        assert!(ambiguous > 20, "only {ambiguous} pairs near the threshold");
    }

    #[test]
    fn the_reciprocal_is_libvmafs_for_every_divisor() {
        let Some(v3) = token() else { return };
        for d0 in (1..=32768).step_by(8) {
            let d: [i32; 8] = std::array::from_fn(|l| (d0 + l as i32).min(32768));
            let got: [i32; 8] = cast(recip30(v3, cast(d)));
            for l in 0..8 {
                assert_eq!(got[l], (1 << 30) / d[l], "{}", d[l]);
            }
        }
    }

    #[test]
    fn conversions_of_64_bit_integers_round_as_c_does() {
        let Some(v3) = token() else { return };
        let mut rng = Lcg(9);
        for _ in 0..20000 {
            let e = rng.next() % 63;
            let m = (((rng.next() as u64) << 40) ^ ((rng.next() as u64) << 16) ^ rng.next() as u64)
                & ((1u64 << e) - 1);
            // Values just around f32 rounding midpoints, too.
            let m = if rng.next() % 4 == 0 {
                (m | (1u64 << e.max(25))) & !((1u64 << (e.max(25) - 25)) - 1)
            } else {
                m
            };
            let v = if rng.next() & 1 == 1 {
                -(m as i64)
            } else {
                m as i64
            };
            let lanes = [v, v.wrapping_add(1), v.wrapping_sub(1), v ^ 1];
            let got: [f64; 4] = cast(i64_to_f32_pd(v3, cast(lanes)));
            for (g, l) in got.iter().zip(lanes) {
                assert_eq!(g.to_bits(), (l as f32 as f64).to_bits(), "{l}");
            }
        }
    }

    #[test]
    fn csf_masking_and_denominators_equal_the_portable_kernels() {
        let Some(v3) = token() else { return };
        let mut rng = Lcg(13);
        for trial in 0..300 {
            let n = 8 + trial % 27;
            let p = Params::new(100.0);
            let s = 1 + trial % 3;
            for (bits, lim) in [(16, 32767), (31, i32::MAX)] {
                let a: Rows3 = std::array::from_fn(|_| {
                    row(&mut rng, n, bits)
                        .iter()
                        .map(|&v| v.clamp(-lim, lim))
                        .collect()
                });
                let a3 = [&a[0][..], &a[1][..], &a[2][..]];
                let (mut f0, mut c0, mut f1, mut c1) =
                    (vec![0; n], vec![0; n], vec![0; n], vec![0; n]);
                if bits == 16 {
                    adm::csf0(&p, a3, &mut f0, &mut c0);
                    csf0(v3, p.i_rfactor0, a3, &mut f1, &mut c1);
                } else {
                    adm::csf123(&p, s, a3, &mut f0, &mut c0);
                    csf123(v3, p.i_rfactor[s], a3, &mut f1, &mut c1);
                }
                assert_eq!((f0, c0), (f1, c1), "csf, {bits} bits, trial {trial}");
                let den_want = if bits == 16 {
                    adm::den0(a3)
                } else {
                    adm::den123(a3, 30, 64, 7)
                };
                let den_got = if bits == 16 {
                    den0(v3, a3)
                } else {
                    den123(v3, a3, 30, 64, 7)
                };
                assert_eq!(den_want, den_got, "den, {bits} bits, trial {trial}");
                let parts: [Vec<i32>; 4] = std::array::from_fn(|_| row(&mut rng, n, 18));
                let cub = [3 + trial as u32 % 9, 5, 1 + trial as u32 % 4];
                let want = if bits == 16 {
                    adm::cm0(&p, a3, &parts[0], &parts[1], &parts[2], &parts[3], cub)
                } else {
                    adm::cm123(
                        &p, s, a3, &parts[0], &parts[1], &parts[2], &parts[3], cub[0],
                    )
                };
                let got = if bits == 16 {
                    cm0(
                        v3,
                        p.i_rfactor0,
                        a3,
                        &parts[0],
                        &parts[1],
                        &parts[2],
                        &parts[3],
                        cub,
                    )
                } else {
                    cm123(
                        v3,
                        p.i_rfactor[s],
                        a3,
                        &parts[0],
                        &parts[1],
                        &parts[2],
                        &parts[3],
                        cub[0],
                    )
                };
                assert_eq!(want, got, "cm, {bits} bits, trial {trial}");
            }
        }
    }

    #[test]
    fn transforms_equal_the_portable_kernels() {
        let Some(v3) = token() else { return };
        let mut rng = Lcg(17);
        for trial in 0..200 {
            let w = 17 + trial % 40;
            // Scale 0 from 8-bit and 15-bit samples.
            let px8: Vec<Vec<u8>> = (0..4)
                .map(|_| (0..w).map(|_| rng.next() as u8).collect())
                .collect();
            let px15: Vec<Vec<u16>> = (0..4)
                .map(|_| (0..w).map(|_| (rng.next() & 0x7fff) as u16).collect())
                .collect();
            let r8 = [&px8[0][..], &px8[1][..], &px8[2][..], &px8[3][..]];
            let r15 = [&px15[0][..], &px15[1][..], &px15[2][..], &px15[3][..]];
            let mut want = (vec![0i16; w], vec![0i16; w]);
            let mut got = want.clone();
            adm::vert0(r8, 8, &mut want.0, Some(&mut want.1));
            vert0(v3, r8, 8, &mut got.0, Some(&mut got.1));
            assert_eq!(want, got, "vert0 8-bit, trial {trial}");
            adm::vert0(r15, 15, &mut want.0, Some(&mut want.1));
            vert0(v3, r15, 15, &mut got.0, Some(&mut got.1));
            assert_eq!(want, got, "vert0 15-bit, trial {trial}");
            // Scale 0's horizontal pass on any 16-bit row.
            let buf: Vec<i16> = (0..w + 3).map(|_| rng.next() as i16).collect();
            let ws = w.div_ceil(2);
            for c in [&LO, &HI] {
                let (mut a, mut b) = (vec![0i32; ws], vec![0i32; ws]);
                adm::horiz0(&buf, c, &mut a, 0);
                horiz0(v3, &buf, c, &mut b, 0);
                assert_eq!(a, b, "horiz0, trial {trial}");
                if ws >= 16 {
                    let (mut a, mut b) = (vec![0i16; ws], vec![0i16; ws]);
                    adm::horiz0_16(&buf, c, &mut a);
                    horiz0_16(v3, &buf, c, &mut b);
                    assert_eq!(a, b, "horiz0_16, trial {trial}");
                }
            }
            // Scale 1's vertical pass on 16-bit rows, 2 and 3's on any 32-bit rows.
            let l16: Vec<Vec<i16>> = (0..4)
                .map(|_| (0..w).map(|_| rng.next() as i16).collect())
                .collect();
            let rows16 = [&l16[0][..], &l16[1][..], &l16[2][..], &l16[3][..]];
            let mut want = (vec![0i32; w], vec![0i32; w]);
            let mut got = want.clone();
            adm::vert123(rows16, 0, 0, &mut want.0, Some(&mut want.1));
            vert1(v3, rows16, &mut got.0, Some(&mut got.1));
            assert_eq!(want, got, "vert1, trial {trial}");
            let l32: Vec<Vec<i32>> = (0..4).map(|_| row(&mut rng, w, 31)).collect();
            let rows32 = [&l32[0][..], &l32[1][..], &l32[2][..], &l32[3][..]];
            adm::vert123(rows32, 32768, 16, &mut want.0, Some(&mut want.1));
            vert23(v3, rows32, &mut got.0, Some(&mut got.1));
            assert_eq!(want, got, "vert23, trial {trial}");
            // The horizontal pass of scales 1 to 3 on any 32-bit row.
            let buf = row(&mut rng, w + 3, 31);
            let (mut hi, mut lo) = (vec![0i16; w + 3], vec![0i16; w + 3]);
            split_row(v3, &buf, &mut hi, &mut lo);
            for shift in [15, 16] {
                for c in [&LO, &HI] {
                    let (mut a, mut b) = (vec![0i32; ws], vec![0i32; ws]);
                    adm::horiz123(&buf, c, 1 << (shift - 1), shift, &mut a, 0);
                    horiz_split(v3, &hi, &lo, c, shift, &mut b, 0);
                    assert_eq!(a, b, "horiz_split, shift {shift}, trial {trial}");
                }
            }
        }
    }
}
