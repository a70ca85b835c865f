//! ADM kernels written with AVX-512 operations by name (through `pulp`'s safe wrappers), where
//! the full-width form saves more than twice the lanes: the decoupling and the contrast masking
//! of every scale. Scale 0's are the AVX2 kernels sixteen lanes wide, with masks for the blends
//! and native 64-bit arithmetic shifts. For scales 1 to 3, the AVX2 forms spend much of their
//! time on what AVX2 lacks: converting 64-bit products to `f32` by hand, blending, and shifting
//! 64-bit lanes arithmetically. AVX-512 converts in one instruction (`vcvtqq2ps`, rounding to
//! nearest as C does), selects lanes with masks and shifts 64-bit lanes arithmetically. Each
//! function's result equals its portable twin's in `adm.rs` for every input, which the tests
//! check.
//!
//! As in `avx2.rs`: `#[inline(always)]` functions and no closures, so that everything inlines
//! into the AVX-512 context `pulp` dispatches to.

use core::arch::x86_64::{
    __m128i, __m256, __m256i, __m512, __m512d, __m512i, _CMP_EQ_OQ, _CMP_GE_OQ, _CMP_GT_OS,
    _CMP_LE_OQ, _CMP_LT_OS,
};
use pulp::{cast, x86::V4};

#[inline(always)]
fn ld8(s: &[i32], i: usize) -> __m256i {
    cast(<[i32; 8]>::try_from(&s[i..i + 8]).expect("eight lanes"))
}

#[inline(always)]
fn st8(s: &mut [i32], i: usize, v: __m256i) {
    let a: [i32; 8] = cast(v);
    s[i..i + 8].copy_from_slice(&a);
}

/// Eight `f64` lanes from IEEE exponent fields: 2^e for each 64-bit lane `e`.
#[inline(always)]
fn pow2(v4: V4, e: __m512i) -> __m512d {
    let f = v4.avx512f;
    let biased = f._mm512_add_epi64(e, f._mm512_set1_epi64(1023));
    f._mm512_castsi512_pd(f._mm512_slli_epi64::<52>(biased))
}

/// Rounds toward minus infinity.
#[inline(always)]
fn floor(v4: V4, v: __m512d) -> __m512d {
    // 0x09: round down, exceptions suppressed.
    v4.avx512f._mm512_roundscale_pd::<0x09>(v)
}

/// Signed 64-bit lanes rounded to `f32` as a C conversion rounds them (to nearest, the
/// default rounding mode), returned widened to `f64`.
#[inline(always)]
fn i64_to_f32_pd(v4: V4, v: __m512i) -> __m512d {
    v4.avx512f
        ._mm512_cvtps_pd(v4.avx512dq._mm512_cvtepi64_ps(v))
}

/// Picture rows that load as thirty-two 16-bit lanes.
pub(super) trait Row32: Copy {
    fn load32(v4: V4, row: &[Self], i: usize) -> __m512i;
}

impl Row32 for u8 {
    #[inline(always)]
    fn load32(v4: V4, row: &[u8], i: usize) -> __m512i {
        crate::simd::load32_u8(v4, row, i)
    }
}

impl Row32 for u16 {
    /// Samples of at most 15 bits, so that they are non-negative as `i16`.
    #[inline(always)]
    fn load32(_v4: V4, row: &[u16], i: usize) -> __m512i {
        cast(<[u16; 32]>::try_from(&row[i..i + 32]).expect("32 lanes"))
    }
}

/// One filter of scale 0's vertical pass for 32 columns: the interleaved row pairs (low and
/// high halves of each 128-bit lane) times the tap pairs, biased, shifted and packed to 16 bits.
/// The in-lane unpacks and packs cancel out: columns come back in order.
#[inline(always)]
fn vfilt(
    v4: V4,
    p01: [__m512i; 2],
    p23: [__m512i; 2],
    c: [__m512i; 2],
    bias: __m512i,
    sh: __m128i,
) -> __m512i {
    let (f, bw) = (v4.avx512f, v4.avx512bw);
    let l = f._mm512_add_epi32(
        bw._mm512_madd_epi16(p01[0], c[0]),
        bw._mm512_madd_epi16(p23[0], c[1]),
    );
    let h = f._mm512_add_epi32(
        bw._mm512_madd_epi16(p01[1], c[0]),
        bw._mm512_madd_epi16(p23[1], c[1]),
    );
    let l = f._mm512_sra_epi32(f._mm512_add_epi32(l, bias), sh);
    let h = f._mm512_sra_epi32(f._mm512_add_epi32(h, bias), sh);
    bw._mm512_packs_epi32(l, h)
}

/// Scale 0's vertical pass (`vert0`) for samples of at most 15 bits: the AVX2 kernel's, 32
/// columns per step. Needs rows of at least 32.
#[inline(always)]
pub(super) fn vert0<T: Row32>(
    v4: V4,
    rows: [&[T]; 4],
    bits: u32,
    lo: &mut [i16],
    hi: Option<&mut [i16]>,
) {
    use super::{HI, LO, LO_SUM};
    let (f, bw) = (v4.avx512f, v4.avx512bw);
    let n = lo.len();
    let add = 1i32 << (bits - 1);
    let sh = count(v4, bits);
    #[inline(always)]
    fn pair(v4: V4, c0: i32, c1: i32) -> __m512i {
        v4.avx512f._mm512_set1_epi32((c1 << 16) | (c0 & 0xffff))
    }
    let cl = [pair(v4, LO[0], LO[1]), pair(v4, LO[2], LO[3])];
    let ch = [pair(v4, HI[0], HI[1]), pair(v4, HI[2], HI[3])];
    let bias_lo = f._mm512_set1_epi32(add.wrapping_sub(LO_SUM.wrapping_mul(add)));
    let bias_hi = f._mm512_set1_epi32(add);
    let rows = [&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]];
    let mut hi = hi.map(|h| &mut h[..n]);
    #[inline(always)]
    fn st(s: &mut [i16], i: usize, v: __m512i) {
        let a: [i16; 32] = cast(v);
        s[i..i + 32].copy_from_slice(&a);
    }
    each_block!(n, 32, |i| {
        let s0 = T::load32(v4, rows[0], i);
        let s1 = T::load32(v4, rows[1], i);
        let s2 = T::load32(v4, rows[2], i);
        let s3 = T::load32(v4, rows[3], i);
        let p01 = [
            bw._mm512_unpacklo_epi16(s0, s1),
            bw._mm512_unpackhi_epi16(s0, s1),
        ];
        let p23 = [
            bw._mm512_unpacklo_epi16(s2, s3),
            bw._mm512_unpackhi_epi16(s2, s3),
        ];
        st(lo, i, vfilt(v4, p01, p23, cl, bias_lo, sh));
        if let Some(hi) = hi.as_mut() {
            st(hi, i, vfilt(v4, p01, p23, ch, bias_hi, sh));
        }
    });
}

/// The decoupling of scales 1 to 3 (`decouple123`), eight pixels per step in `f64`: the same
/// operations as the AVX2 kernel (`avx2::decouple123`), whose comments say why each is exact.
/// Needs rows of at least 8.
#[inline(always)]
pub(super) fn decouple123(
    v4: V4,
    cos_sq: f32,
    gain: f64,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    ad: &mut [&mut [i32]; 3],
) {
    let f = v4.avx512f;
    let n = o[0].len();
    let zero = f._mm512_setzero_pd();
    let izero = f._mm512_setzero_si512();
    let cos_sq = f._mm512_set1_pd(cos_sq as f64);
    let sign_bit = f._mm512_set1_epi64(i64::MIN);
    let full = f._mm512_set1_pd(32768.0);
    let half = f._mm512_set1_pd(16384.0);
    let inv15 = f._mm512_set1_pd(1.0 / 32768.0);
    let two15 = f._mm512_set1_pd(32768.0);
    let two30 = f._mm512_set1_pd(1073741824.0);
    let gainv = f._mm512_set1_pd(gain);
    let one = f._mm512_set1_epi64(1);
    let e14 = f._mm512_set1_epi64(14);
    let e15 = f._mm512_set1_epi64(15);
    let bias = f._mm512_set1_epi64(1023 + 14);
    let (o, t) = (o.map(|b| &b[..n]), t.map(|b| &b[..n]));
    let [r0, r1, r2] = r;
    let r = [&mut r0[..n], &mut r1[..n], &mut r2[..n]];
    let [a0, a1, a2] = ad;
    let ad = [&mut a0[..n], &mut a1[..n], &mut a2[..n]];
    each_block!(n, 8, |i| {
        let ob = [ld8(o[0], i), ld8(o[1], i), ld8(o[2], i)];
        let tb = [ld8(t[0], i), ld8(t[1], i), ld8(t[2], i)];
        let (oh, ov) = (
            f._mm512_cvtepi32_epi64(ob[0]),
            f._mm512_cvtepi32_epi64(ob[1]),
        );
        let (th, tv) = (
            f._mm512_cvtepi32_epi64(tb[0]),
            f._mm512_cvtepi32_epi64(tb[1]),
        );
        let dot = f._mm512_add_epi64(f._mm512_mul_epi32(oh, th), f._mm512_mul_epi32(ov, tv));
        let omag = f._mm512_add_epi64(f._mm512_mul_epi32(oh, oh), f._mm512_mul_epi32(ov, ov));
        let tmag = f._mm512_add_epi64(f._mm512_mul_epi32(th, th), f._mm512_mul_epi32(tv, tv));
        let (df, of, tf) = (
            i64_to_f32_pd(v4, dot),
            i64_to_f32_pd(v4, omag),
            i64_to_f32_pd(v4, tmag),
        );
        let ge = f._mm512_cmp_pd_mask::<_CMP_GE_OQ>(
            f._mm512_mul_pd(df, df),
            f._mm512_mul_pd(f._mm512_mul_pd(cos_sq, of), tf),
        );
        let angle = ge & !f._mm512_cmplt_epi64_mask(dot, izero);
        for k in 0..3 {
            let ok = f._mm512_cvtepi32_pd(ob[k]);
            let tk = f._mm512_cvtepi32_pd(tb[k]);
            let ao = f._mm512_abs_pd(ok);
            // Magnitudes of 2^15 and more keep their 15 leading bits, rounded.
            let big = f._mm512_cmp_pd_mask::<_CMP_GE_OQ>(ao, two15);
            let e = f._mm512_sub_epi64(f._mm512_srli_epi64::<52>(f._mm512_castpd_si512(ao)), bias);
            let sh = f._mm512_maskz_mov_epi64(big, e);
            let neg_sh = f._mm512_sub_epi64(izero, sh);
            let half_step = pow2(v4, f._mm512_sub_epi64(sh, one));
            let msb = floor(
                v4,
                f._mm512_mul_pd(f._mm512_add_pd(ao, half_step), pow2(v4, neg_sh)),
            );
            let msb = f._mm512_mask_blend_pd(big, ao, msb);
            let recip = floor(v4, f._mm512_div_pd(two30, msb));
            // t with the sign of o flipped in: t where o >= 0, -t where o < 0.
            let st = f._mm512_castsi512_pd(f._mm512_xor_si512(
                f._mm512_castpd_si512(tk),
                f._mm512_and_si512(f._mm512_castpd_si512(ok), sign_bit),
            ));
            let num = f._mm512_add_pd(
                f._mm512_mul_pd(recip, st),
                pow2(v4, f._mm512_add_epi64(sh, e14)),
            );
            let kk = floor(
                v4,
                f._mm512_mul_pd(num, pow2(v4, f._mm512_sub_epi64(neg_sh, e15))),
            );
            // NaN (a zero reference coefficient) becomes 0 here, then 32768 below.
            let kk = f._mm512_min_pd(f._mm512_max_pd(kk, zero), full);
            let kk = f._mm512_mask_blend_pd(f._mm512_cmp_pd_mask::<_CMP_EQ_OQ>(ok, zero), kk, full);
            let rst = floor(
                v4,
                f._mm512_mul_pd(f._mm512_add_pd(f._mm512_mul_pd(kk, ok), half), inv15),
            );
            let lim = f._mm512_mul_pd(rst, gainv);
            let on = angle & f._mm512_cmp_pd_mask::<_CMP_GT_OS>(kk, zero);
            let pos = on & f._mm512_cmp_pd_mask::<_CMP_GT_OS>(ok, zero);
            let neg = on & f._mm512_cmp_pd_mask::<_CMP_LT_OS>(ok, zero);
            let rst = f._mm512_mask_blend_pd(pos, rst, f._mm512_min_pd(lim, tk));
            let rst = f._mm512_mask_blend_pd(neg, rst, f._mm512_max_pd(lim, tk));
            let ri = f._mm512_cvttpd_epi32(rst);
            st8(r[k], i, ri);
            st8(ad[k], i, v4.avx2._mm256_sub_epi32(tb[k], ri));
        }
    });
}

#[inline(always)]
fn ld16(s: &[i32], i: usize) -> __m512i {
    cast(<[i32; 16]>::try_from(&s[i..i + 16]).expect("sixteen lanes"))
}

#[inline(always)]
fn st16(s: &mut [i32], i: usize, v: __m512i) {
    let a: [i32; 16] = cast(v);
    s[i..i + 16].copy_from_slice(&a);
}

/// libvmaf's angle test for sixteen pixels, as a mask: the AVX2 kernel's `angle8` (whose
/// comment says why it is exact), the `f32` comparison with a margin of 2^-20 either way, and
/// only where a lane falls inside the margin the comparison in `f64` for the whole block.
#[inline(always)]
fn angle16(v4: V4, cos_sq: f32, dot: __m512i, omag: __m512i, tmag: __m512i) -> u16 {
    let f = v4.avx512f;
    let (df, of, tf) = (
        f._mm512_cvtepi32_ps(dot),
        f._mm512_cvtepi32_ps(omag),
        f._mm512_cvtepi32_ps(tmag),
    );
    let margin = f._mm512_set1_ps(1.0 + 1.0 / 1048576.0);
    let lhs = f._mm512_mul_ps(df, df);
    let rhs = f._mm512_mul_ps(f._mm512_mul_ps(f._mm512_set1_ps(cos_sq), of), tf);
    let yes = f._mm512_cmp_ps_mask::<_CMP_GE_OQ>(lhs, f._mm512_mul_ps(rhs, margin));
    let no = f._mm512_cmp_ps_mask::<_CMP_LE_OQ>(f._mm512_mul_ps(lhs, margin), rhs);
    let m = if yes | no == 0xffff {
        yes
    } else {
        let c = f._mm512_set1_pd(cos_sq as f64);
        #[inline(always)]
        fn ge(v4: V4, c: __m512d, d: __m256, o: __m256, t: __m256) -> u8 {
            let f = v4.avx512f;
            let (d, o, t) = (
                f._mm512_cvtps_pd(d),
                f._mm512_cvtps_pd(o),
                f._mm512_cvtps_pd(t),
            );
            let lhs = f._mm512_mul_pd(d, d);
            let rhs = f._mm512_mul_pd(f._mm512_mul_pd(c, o), t);
            f._mm512_cmp_pd_mask::<_CMP_GE_OQ>(lhs, rhs)
        }
        #[inline(always)]
        fn high(v4: V4, v: __m512) -> __m256 {
            v4.avx512dq._mm512_extractf32x8_ps::<1>(v)
        }
        let lo = ge(
            v4,
            c,
            f._mm512_castps512_ps256(df),
            f._mm512_castps512_ps256(of),
            f._mm512_castps512_ps256(tf),
        );
        let hi = ge(v4, c, high(v4, df), high(v4, of), high(v4, tf));
        lo as u16 | (hi as u16) << 8
    };
    m & !f._mm512_cmplt_epi32_mask(dot, f._mm512_setzero_si512())
}

/// `floor(2^30 / d)` for sixteen lanes `1 <= d <= 32768` (libvmaf's `div_lookup`), by `f64`
/// division as the AVX2 kernel's `recip30` (whose comment says why it is exact).
#[inline(always)]
fn recip30(v4: V4, d: __m512i) -> __m512i {
    let f = v4.avx512f;
    let two30 = f._mm512_set1_pd(1073741824.0);
    let lo = f._mm512_cvtepi32_pd(f._mm512_castsi512_si256(d));
    let hi = f._mm512_cvtepi32_pd(f._mm512_extracti64x4_epi64::<1>(d));
    let rl = f._mm512_cvttpd_epi32(f._mm512_div_pd(two30, lo));
    let rh = f._mm512_cvttpd_epi32(f._mm512_div_pd(two30, hi));
    f._mm512_inserti64x4::<1>(f._mm512_castsi256_si512(rl), rh)
}

/// The low 16 bits of each lane, sign-extended (a store to `int16_t` and back).
#[inline(always)]
fn sext16(v4: V4, v: __m512i) -> __m512i {
    let f = v4.avx512f;
    f._mm512_srai_epi32::<16>(f._mm512_slli_epi32::<16>(v))
}

/// Scale 0's decoupling (`decouple0`) with an integer gain limit, sixteen pixels per step: the
/// operations of the AVX2 kernel (`avx2::decouple0`, whose comments say why each is exact)
/// with masks for its blends. Needs rows of at least 16.
#[inline(always)]
pub(super) fn decouple0(
    v4: V4,
    cos_sq: f32,
    gain: i32,
    o: [&[i32]; 3],
    t: [&[i32]; 3],
    r: &mut [&mut [i32]; 3],
    ad: &mut [&mut [i32]; 3],
) {
    let (f, bw) = (v4.avx512f, v4.avx512bw);
    let n = o[0].len();
    let zero = f._mm512_setzero_si512();
    let one = f._mm512_set1_epi32(1);
    let full = f._mm512_set1_epi32(32768);
    let half = f._mm512_set1_epi32(16384);
    let gainv = f._mm512_set1_epi32(gain);
    let (o, t) = (o.map(|b| &b[..n]), t.map(|b| &b[..n]));
    let [r0, r1, r2] = r;
    let r = [&mut r0[..n], &mut r1[..n], &mut r2[..n]];
    let [a0, a1, a2] = ad;
    let ad = [&mut a0[..n], &mut a1[..n], &mut a2[..n]];
    // The 16-bit pair (p, q) in each 32-bit lane, p low, for a dot product by `vpmaddwd`.
    #[inline(always)]
    fn pack_pair(v4: V4, p: __m512i, q: __m512i) -> __m512i {
        v4.avx512bw
            ._mm512_mask_blend_epi16(0xaaaa_aaaa, p, v4.avx512f._mm512_slli_epi32::<16>(q))
    }
    each_block!(n, 16, |i| {
        let ob = [ld16(o[0], i), ld16(o[1], i), ld16(o[2], i)];
        let tb = [ld16(t[0], i), ld16(t[1], i), ld16(t[2], i)];
        let po = pack_pair(v4, ob[0], ob[1]);
        let pt = pack_pair(v4, tb[0], tb[1]);
        let dot = bw._mm512_madd_epi16(po, pt);
        let omag = bw._mm512_madd_epi16(po, po);
        let tmag = bw._mm512_madd_epi16(pt, pt);
        let angle = angle16(v4, cos_sq, dot, omag, tmag);
        for k in 0..3 {
            let (ok, tk) = (ob[k], tb[k]);
            let ao = f._mm512_abs_epi32(ok);
            let at = f._mm512_abs_epi32(tk);
            let recip = recip30(v4, f._mm512_max_epi32(ao, one));
            let prod = f._mm512_mullo_epi32(recip, at);
            let small = f._mm512_srai_epi32::<15>(f._mm512_add_epi32(prod, half));
            let kk = f._mm512_mask_blend_epi32(f._mm512_cmpgt_epi32_mask(at, ao), small, full);
            let opposite = f._mm512_cmplt_epi32_mask(f._mm512_xor_si512(ok, tk), zero);
            let kk = f._mm512_maskz_mov_epi32(!opposite, kk);
            let kk = f._mm512_mask_blend_epi32(f._mm512_cmpeq_epi32_mask(ok, zero), kk, full);
            // A gain of 32768 restores the coefficient itself; below, kk fits 15 bits.
            let rst =
                f._mm512_srai_epi32::<15>(f._mm512_add_epi32(bw._mm512_madd_epi16(kk, ok), half));
            let rst = f._mm512_mask_blend_epi32(f._mm512_cmpeq_epi32_mask(kk, full), rst, ok);
            // The enhancement limit where the angle test holds and the gain is positive.
            let lim = bw._mm512_madd_epi16(gainv, rst);
            let on = angle & f._mm512_cmpgt_epi32_mask(kk, zero);
            let pos = on & f._mm512_cmpgt_epi32_mask(ok, zero);
            let neg = on & f._mm512_cmplt_epi32_mask(ok, zero);
            let rst = f._mm512_mask_blend_epi32(pos, rst, f._mm512_min_epi32(lim, tk));
            let rst = f._mm512_mask_blend_epi32(neg, rst, f._mm512_max_epi32(lim, tk));
            st16(r[k], i, rst);
            st16(ad[k], i, sext16(v4, f._mm512_sub_epi32(tk, rst)));
        }
    });
}

/// Sixteen values of a row from `i`; past the row's end (a last, partial block), zeros.
#[inline(always)]
fn ld16_or_zeros(s: &[i32], i: usize) -> __m512i {
    let mut a = [0i32; 16];
    let n = (s.len() - i).min(16);
    a[..n].copy_from_slice(&s[i..i + n]);
    cast(a)
}

/// `(int32_t)((c * v + 2^27) >> 28)` for sixteen lanes: the fixed-point scaling by a Q32
/// factor `c` below 2^31 (in every 64-bit lane) of scales 1 to 3.
#[inline(always)]
fn q28(v4: V4, c: __m512i, v: __m512i) -> __m512i {
    let f = v4.avx512f;
    let round = f._mm512_set1_epi64(1 << 27);
    let even = f._mm512_srai_epi64::<28>(f._mm512_add_epi64(f._mm512_mul_epi32(v, c), round));
    let odd = f._mm512_srai_epi64::<28>(
        f._mm512_add_epi64(f._mm512_mul_epi32(f._mm512_srli_epi64::<32>(v), c), round),
    );
    f._mm512_mask_blend_epi32(0xaaaa, even, f._mm512_slli_epi64::<32>(odd))
}

/// Contrast masking of one orientation for the eight non-negative 32-bit values in the low
/// halves of the 64-bit lanes of `v`: squared and rounded by 30 bits to 32 bits as libvmaf
/// truncates it, times `v`, rounded by the cube shift `cub`.
#[inline(always)]
fn cube8(v4: V4, v: __m512i, cub: (__m512i, __m128i)) -> __m512i {
    let f = v4.avx512f;
    let sq = f._mm512_set1_epi64(1 << 29);
    let v_sq = f._mm512_srli_epi64::<30>(f._mm512_add_epi64(f._mm512_mul_epu32(v, v), sq));
    let val = f._mm512_add_epi64(f._mm512_mul_epi32(v_sq, v), cub.0);
    f._mm512_sra_epi64(val, cub.1)
}

/// Contrast masking of one orientation for the eight non-negative 32-bit values in the low
/// halves of the 64-bit lanes of `v` at scale 0: squared and rounded by `sq` bits to 32 bits as
/// libvmaf truncates it, times `v`, rounded by the cube shift `cub` (the AVX2 kernel's `cube4`).
#[inline(always)]
fn cube8_sq(v4: V4, v: __m512i, sq: (__m512i, __m128i), cub: (__m512i, __m128i)) -> __m512i {
    let f = v4.avx512f;
    let v_sq = f._mm512_srl_epi64(f._mm512_add_epi64(f._mm512_mul_epu32(v, v), sq.0), sq.1);
    let val = f._mm512_add_epi64(f._mm512_mul_epi32(v_sq, v), cub.0);
    f._mm512_sra_epi64(val, cub.1)
}

/// Sixteen values of a row from `i`: loaded directly in a whole block, zero-padded in a last,
/// partial one.
#[inline(always)]
fn ld16_block(s: &[i32], i: usize) -> __m512i {
    if i + 16 <= s.len() {
        ld16(s, i)
    } else {
        ld16_or_zeros(s, i)
    }
}

/// A shift count for the `sll`/`srl`/`sra` family.
#[inline(always)]
fn count(v4: V4, s: u32) -> __m128i {
    v4.sse2._mm_cvtsi32_si128(s as i32)
}

/// Scale 0's contrast-masked sums of a row segment (`cm0`), sixteen pixels per step, the last
/// step zero-padded (no coefficient, no threshold: nothing added): the AVX2 kernel's
/// operations, with native 64-bit arithmetic shifts.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn cm0(
    v4: V4,
    rf: [i32; 3],
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: [u32; 3],
) -> [i64; 3] {
    use super::{CM0_SHIFT_SQ, CM0_SHIFT_SUB};
    let f = v4.avx512f;
    let n = centre.len();
    let zero = f._mm512_setzero_si512();
    let mut acc = [zero; 3];
    // Per orientation: the factor, the threshold's shift, the square's and the cube's rounding.
    let mut rfv = [zero; 3];
    let mut sub = [count(v4, 0); 3];
    let mut sq = [(zero, count(v4, 0)); 3];
    let mut cub = [(zero, count(v4, 0)); 3];
    for k in 0..3 {
        rfv[k] = f._mm512_set1_epi32(rf[k]);
        sub[k] = count(v4, CM0_SHIFT_SUB[k]);
        sq[k] = (
            f._mm512_set1_epi64(1 << (CM0_SHIFT_SQ[k] - 1)),
            count(v4, CM0_SHIFT_SQ[k]),
        );
        cub[k] = (
            f._mm512_set1_epi64(super::half_of(shift_cub[k]) as i64),
            count(v4, shift_cub[k]),
        );
    }
    let (up, mid, down, centre) = (&up[..n], &mid[..n], &down[..n], &centre[..n]);
    let r = [&r[0][..n], &r[1][..n], &r[2][..n]];
    let mut i = 0;
    while i < n {
        let thr = f._mm512_add_epi32(
            f._mm512_add_epi32(ld16_block(up, i), ld16_block(mid, i)),
            f._mm512_add_epi32(ld16_block(down, i), ld16_block(centre, i)),
        );
        for k in 0..3 {
            let m = f._mm512_abs_epi32(f._mm512_mullo_epi32(ld16_block(r[k], i), rfv[k]));
            let t = f._mm512_sll_epi32(thr, sub[k]);
            let v = f._mm512_max_epi32(f._mm512_sub_epi32(m, t), zero);
            acc[k] = f._mm512_add_epi64(
                f._mm512_add_epi64(acc[k], cube8_sq(v4, v, sq[k], cub[k])),
                cube8_sq(v4, f._mm512_srli_epi64::<32>(v), sq[k], cub[k]),
            );
        }
        i += 16;
    }
    acc.map(|a| {
        let l: [i64; 8] = cast(a);
        l.iter().fold(0i64, |s, &x| s.wrapping_add(x))
    })
}

/// The contrast-masked sums of scales 1 to 3 (`cm123`), sixteen pixels per step, the last
/// step zero-padded (no coefficient, no threshold: nothing added).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn cm123(
    v4: V4,
    rf: [u32; 3],
    r: [&[i32]; 3],
    up: &[i32],
    mid: &[i32],
    down: &[i32],
    centre: &[i32],
    shift_cub: u32,
) -> [i64; 3] {
    let f = v4.avx512f;
    let n = centre.len();
    let zero = f._mm512_setzero_si512();
    let cub = (
        f._mm512_set1_epi64(super::half_of(shift_cub) as i64),
        v4.sse2._mm_cvtsi32_si128(shift_cub as i32),
    );
    let rfv = rf.map(|c| f._mm512_set1_epi64(c as i64));
    let mut acc = [zero; 3];
    let (up, mid, down) = (&up[..n], &mid[..n], &down[..n]);
    let r = r.map(|b| &b[..n]);
    let mut i = 0;
    while i < n {
        let thr = f._mm512_add_epi32(
            f._mm512_add_epi32(ld16_or_zeros(up, i), ld16_or_zeros(mid, i)),
            f._mm512_add_epi32(ld16_or_zeros(down, i), ld16_or_zeros(centre, i)),
        );
        for k in 0..3 {
            let v = f._mm512_abs_epi32(q28(v4, rfv[k], ld16_or_zeros(r[k], i)));
            let v = f._mm512_max_epi32(f._mm512_sub_epi32(v, thr), zero);
            acc[k] = f._mm512_add_epi64(
                f._mm512_add_epi64(acc[k], cube8(v4, v, cub)),
                cube8(v4, f._mm512_srli_epi64::<32>(v), cub),
            );
        }
        i += 16;
    }
    acc.map(|a| {
        let l: [i64; 8] = cast(a);
        l.iter().fold(0i64, |s, &x| s.wrapping_add(x))
    })
}

/// Each AVX-512 kernel against its portable twin on the AVX2 tests' random rows (every
/// magnitude class, signs, zeros, the boundaries the kernels branch on), with row lengths that
/// leave partial last blocks.
#[cfg(test)]
mod tests {
    use super::super::avx2::tests::{near, near_one_degree, row, run_decouple, Rows3};
    use super::super::{self as adm, Params};
    use super::*;
    use crate::testutil::Lcg;

    #[test]
    fn decoupling_equals_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(29);
        for trial in 0..600 {
            let n = 8 + trial % 29;
            let bits = [14, 20, 26, 31][trial % 4];
            let o: Rows3 = std::array::from_fn(|_| row(&mut rng, n, bits));
            let t: Rows3 = std::array::from_fn(|k| near(&mut rng, &o[k], bits));
            for gain in [1.0, 2.5, 100.0] {
                let p = Params::new(gain);
                let want = run_decouple(n, |o, t, r, a| adm::decouple123(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    n,
                    |o, t, r, a| decouple123(v4, p.cos_1deg_sq, gain, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "bits {bits}, gain {gain}, trial {trial}");
            }
        }
    }

    #[test]
    fn scale0_decoupling_equals_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(37);
        let clamp =
            |v: Vec<i32>| -> Vec<i32> { v.iter().map(|&x| x.clamp(-22840, 22840)).collect() };
        for trial in 0..600 {
            // Full blocks and a last block that overlaps the one before.
            let n = 16 + trial % 37;
            // Scale 0: 16-bit coefficients of at most 22840 in magnitude.
            let o: Rows3 = std::array::from_fn(|_| clamp(row(&mut rng, n, 14)));
            let t: Rows3 = std::array::from_fn(|k| clamp(near(&mut rng, &o[k], 14)));
            for gain in [1.0, 100.0] {
                let p = Params::new(gain);
                let want = run_decouple(n, |o, t, r, a| adm::decouple0(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    n,
                    |o, t, r, a| decouple0(v4, p.cos_1deg_sq, gain as i32, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "gain {gain}, trial {trial}");
            }
        }
    }

    /// Pairs at angles within a hair of 1°, where the `f32` angle test defers to `f64`.
    #[test]
    fn scale0_angles_near_one_degree_equal_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(41);
        let mut ambiguous = 0;
        for _ in 0..300 {
            let n = 64;
            let (o, t, near) = near_one_degree(&mut rng, n);
            ambiguous += near;
            for gain in [1.0, 100.0] {
                let p = Params::new(gain);
                let want = run_decouple(n, |o, t, r, a| adm::decouple0(&p, o, t, r, a), &o, &t);
                let got = run_decouple(
                    n,
                    |o, t, r, a| decouple0(v4, p.cos_1deg_sq, gain as i32, o, t, r, a),
                    &o,
                    &t,
                );
                assert_eq!(got, want, "gain {gain}");
            }
        }
        assert!(ambiguous > 20, "only {ambiguous} pairs near the threshold");
    }

    #[test]
    fn scale0_vertical_pass_equals_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(47);
        for trial in 0..200 {
            // Whole blocks and a last block that overlaps the one before.
            let w = 32 + trial % 45;
            let px8: Vec<Vec<u8>> = (0..4)
                .map(|_| (0..w).map(|_| rng.next() as u8).collect())
                .collect();
            let px15: Vec<Vec<u16>> = (0..4)
                .map(|_| (0..w).map(|_| (rng.next() & 0x7fff) as u16).collect())
                .collect();
            let r8 = [&px8[0][..], &px8[1][..], &px8[2][..], &px8[3][..]];
            let mut want = (vec![0i16; w], vec![0i16; w]);
            let mut got = want.clone();
            adm::vert0(r8, 8, &mut want.0, Some(&mut want.1));
            vert0(v4, r8, 8, &mut got.0, Some(&mut got.1));
            assert_eq!(want, got, "8-bit, trial {trial}");
            let mut lo_only = vec![0i16; w];
            vert0(v4, r8, 8, &mut lo_only, None);
            assert_eq!(want.0, lo_only, "8-bit, low pass alone, trial {trial}");
            for bits in [10, 12, 15] {
                let r: Vec<Vec<u16>> = px15
                    .iter()
                    .map(|row| row.iter().map(|&v| v >> (15 - bits)).collect())
                    .collect();
                let r = [&r[0][..], &r[1][..], &r[2][..], &r[3][..]];
                adm::vert0(r, bits, &mut want.0, Some(&mut want.1));
                vert0(v4, r, bits, &mut got.0, Some(&mut got.1));
                assert_eq!(want, got, "{bits}-bit, trial {trial}");
            }
        }
    }

    #[test]
    fn scale0_masking_equals_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(43);
        let p = Params::new(100.0);
        for trial in 0..600 {
            // Full blocks, partial last blocks and rows shorter than one block.
            let n = 1 + trial % 40;
            // Scale 0's restored coefficients fit 16 bits.
            let r: Rows3 = std::array::from_fn(|_| {
                row(&mut rng, n, 16)
                    .iter()
                    .map(|&v| v.clamp(-32767, 32767))
                    .collect()
            });
            let parts: [Vec<i32>; 4] = std::array::from_fn(|_| row(&mut rng, n, 18));
            let cub = [3 + trial as u32 % 9, 5, 1 + trial as u32 % 4];
            let rr = [&r[0][..], &r[1][..], &r[2][..]];
            let [up, mid, down, centre] = [&parts[0], &parts[1], &parts[2], &parts[3]];
            let want = adm::cm0(&p, rr, up, mid, down, centre, cub);
            let got = cm0(v4, p.i_rfactor0, rr, up, mid, down, centre, cub);
            assert_eq!(got, want, "n {n}, shifts {cub:?}, trial {trial}");
        }
    }

    #[test]
    fn masking_equals_the_portable_kernel() {
        let Some(v4) = V4::try_new() else { return };
        let mut rng = Lcg(31);
        for trial in 0..600 {
            // Full blocks, partial last blocks and rows shorter than one block.
            let n = 1 + trial % 40;
            let bits = [16, 31][trial % 2];
            let r: Rows3 = std::array::from_fn(|_| row(&mut rng, n, bits));
            // The threshold's four parts, as the AVX2 kernel's test draws them.
            let parts: [Vec<i32>; 4] = std::array::from_fn(|_| row(&mut rng, n, 18));
            let s = 1 + trial % 3;
            let p = Params::new(100.0);
            for shift_cub in [3 + trial as u32 % 9, 5, 1 + trial as u32 % 4] {
                let rr = [&r[0][..], &r[1][..], &r[2][..]];
                let [up, mid, down, centre] = [&parts[0], &parts[1], &parts[2], &parts[3]];
                let want = adm::cm123(&p, s, rr, up, mid, down, centre, shift_cub);
                let got = cm123(v4, p.i_rfactor[s], rr, up, mid, down, centre, shift_cub);
                assert_eq!(
                    got, want,
                    "n {n}, bits {bits}, shift {shift_cub}, trial {trial}"
                );
            }
        }
    }
}
