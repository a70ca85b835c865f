//! VIF's horizontal filter pass and per-pixel statistic written with AVX2 operations by name
//! (through `pulp`'s safe wrappers). The statistic takes eight pixels at a time: the same integer
//! and double-precision operations as the scalar [`super::statistic`], lane by lane, with its
//! branches turned into masks. Every accumulated quantity is an integer, so summing lanes in
//! another order gives the same totals; the tests check the totals against the scalar statistic
//! on every instruction set, on extreme inputs included.
//!
//! The horizontal pass (of the filters whose taps are below 2^15: scales 0 to 2) multiplies
//! 16-bit words in pairs of taps with `_mm256_madd_epi16`: the vertical outputs are re-encoded as
//! signed words (the means, and the squares' high and low halves, each less 2^15), and the
//! filter sums, which come out less 2^31, are corrected in wrapping 32-bit arithmetic, exactly.
//!
//! Two facts keep the double-precision part exact without 64-bit conversions, which AVX2 lacks:
//! every integer it handles is below 2^53, so a double holds it exactly; and the 16 leading bits
//! and the bit length libvmaf's `get_best16_from32/64` extract from an integer of at least 2^15
//! are the top of the double's mantissa and its exponent. The log2 table is read by scalar
//! loads (AVX2's gathers take raw pointers), from indices packed four to a 64-bit word; inactive
//! lanes read entry 0, which is 0.
//!
//! Everything here is `#[inline(always)]` functions and no closures, so that it inlines into the
//! AVX2 context `pulp` dispatches to.

use super::{Accum, Filtered, Rows, L, PAD};
use core::arch::x86_64::{__m128i, __m256d, __m256i, _MM_FROUND_NO_EXC, _MM_FROUND_TO_ZERO};
use pulp::{cast, x86::V3};

const SIGMA_NSQ: i32 = 65536 << 1;
const EPS: f64 = 65536.0 * 1.0e-10;

/// A scale's accumulators across the rows: 64-bit lanes for the shift counts and the non-log
/// variance, scalars for the table sums and counts.
pub(super) struct StatAcc {
    x: __m256i,
    x2: __m256i,
    num_non_log: __m256i,
    num_log: i64,
    den_log: i64,
    den_non_log: i64,
    num_x: i64,
}

impl StatAcc {
    #[inline(always)]
    pub(super) fn new(v3: V3) -> Self {
        let z = v3.avx._mm256_setzero_si256();
        Self {
            x: z,
            x2: z,
            num_non_log: z,
            num_log: 0,
            den_log: 0,
            den_non_log: 0,
            num_x: 0,
        }
    }

    /// Adds the totals to `a`.
    #[inline(always)]
    pub(super) fn flush(self, a: &mut Accum) {
        a.x += sum4(self.x);
        a.x2 += sum4(self.x2);
        a.num_non_log += sum4(self.num_non_log);
        a.num_log += self.num_log;
        a.den_log += self.den_log;
        a.den_non_log += self.den_non_log;
        a.num_x += self.num_x;
    }
}

/// The sum of four 64-bit lanes.
#[inline(always)]
fn sum4(v: __m256i) -> i64 {
    let v: [i64; 4] = cast(v);
    v[0] + v[1] + v[2] + v[3]
}

/// `((a * b) + 2^31) >> 32` of unsigned 32-bit lanes.
#[inline(always)]
fn mul_round(v3: V3, a: __m256i, b: __m256i) -> __m256i {
    let x = v3.avx2;
    let round = v3.avx._mm256_set1_epi64x(1 << 31);
    let even = x._mm256_add_epi64(x._mm256_mul_epu32(a, b), round);
    let odd = x._mm256_mul_epu32(x._mm256_srli_epi64::<32>(a), x._mm256_srli_epi64::<32>(b));
    let odd = x._mm256_add_epi64(odd, round);
    // The high halves: of the even products shifted down, of the odd ones in place.
    x._mm256_blend_epi32::<0b1010_1010>(x._mm256_srli_epi64::<32>(even), odd)
}

/// The low (`H` = 0) or high (`H` = 1) four 32-bit lanes.
#[inline(always)]
fn half<const H: i32>(v3: V3, v: __m256i) -> __m128i {
    v3.avx2._mm256_extracti128_si256::<H>(v)
}

/// The 16 leading bits of an integer-valued double of at least 2^15 (libvmaf's
/// `get_best16_from*` value): the implicit bit and the mantissa's top 15 bits.
#[inline(always)]
fn best16(v3: V3, bits: __m256i) -> __m256i {
    let x = v3.avx2;
    let top = x._mm256_and_si256(
        x._mm256_srli_epi64::<37>(bits),
        v3.avx._mm256_set1_epi64x(0x7fff),
    );
    x._mm256_or_si256(top, v3.avx._mm256_set1_epi64x(0x8000))
}

/// The table look-ups of eight pixels: `words` holds four 64-bit words of four 16-bit indices
/// each (two of the denominator's, two of the numerator's), `sub` four words of two indices
/// whose entries the numerator subtracts. Inactive lanes hold index 0, whose entry is 0.
#[inline(always)]
fn look_up(table: &[u16; 65537], words: __m256i, sub: __m256i, acc: &mut StatAcc) {
    let (words, sub): ([u64; 4], [u64; 4]) = (cast(words), cast(sub));
    let at = |v: u64| table[(v & 0xffff) as usize] as i64;
    let (mut den, mut num) = (0, 0);
    for (w, s) in words.into_iter().zip(sub) {
        den += at(w) + at(w >> 16);
        num += at(w >> 32) + at(w >> 48) - at(s) - at(s >> 16);
    }
    acc.den_log += den;
    acc.num_log += num;
}

/// The log branch of four lanes (`H` picks the half of the eight), for the lanes set in `log`;
/// `pos` marks those of them with a non-negative covariance, `s2_zero` a zero distorted
/// variance. Returns the table indices in 64-bit lanes, 0 where inactive: the denominator's,
/// the numerator's and the one the numerator subtracts.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one half-block's sigmas and masks, kept in registers
fn log_half<const H: i32>(
    v3: V3,
    s1: __m256i,
    s2: __m256i,
    s12: __m256i,
    log: __m256i,
    pos: __m256i,
    s2_zero: __m256i,
    gain_limit: f64,
    acc: &mut StatAcc,
) -> [__m256i; 3] {
    let (x, a) = (v3.avx2, v3.avx);
    let (s1d, s2d, s12d) = (
        a._mm256_cvtepi32_pd(half::<H>(v3, s1)),
        a._mm256_cvtepi32_pd(half::<H>(v3, s2)),
        a._mm256_cvtepi32_pd(half::<H>(v3, s12)),
    );
    let log = x._mm256_cvtepi32_epi64(half::<H>(v3, log));
    let pos = x._mm256_cvtepi32_epi64(half::<H>(v3, pos));
    let nsq = a._mm256_set1_pd(SIGMA_NSQ as f64);

    // The denominator: best16_from32(SIGMA_NSQ + sigma1_sq), its shift counted in x.
    let v: __m256i = cast(a._mm256_add_pd(s1d, nsq));
    let e = x._mm256_srli_epi64::<52>(v);
    let k = x._mm256_sub_epi64(e, a._mm256_set1_epi64x(1023 + 15));
    acc.x = x._mm256_sub_epi64(acc.x, x._mm256_and_si256(k, log));
    let den_idx = x._mm256_and_si256(best16(v3, v), log);

    // The gain and the numerator's variance, zero where the distorted variance is.
    let g = a._mm256_div_pd(s12d, a._mm256_add_pd(s1d, a._mm256_set1_pd(EPS)));
    let sv = a._mm256_cvttpd_epi32(a._mm256_sub_pd(s2d, a._mm256_mul_pd(g, s12d)));
    let z32 = half::<H>(v3, s2_zero);
    let sv = v3.sse2._mm_andnot_si128(z32, sv);
    let sv = v3.sse4_1._mm_max_epi32(sv, v3.sse2._mm_setzero_si128());
    let z64: __m256d = cast(x._mm256_cvtepi32_epi64(z32));
    let g = a._mm256_andnot_pd(z64, g);
    let g = a._mm256_min_pd(g, a._mm256_set1_pd(gain_limit));

    // numer1 = sv_sq + SIGMA_NSQ and numer1_tmp = (int64)(g * g * sigma1_sq) + numer1, both
    // exact integers below 2^53.
    let numer1 = a._mm256_add_pd(a._mm256_cvtepi32_pd(sv), nsq);
    let gg = a._mm256_mul_pd(a._mm256_mul_pd(g, g), s1d);
    let tmp = a._mm256_add_pd(
        a._mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(gg),
        numer1,
    );
    let (tb, nb): (__m256i, __m256i) = (cast(tmp), cast(numer1));
    // x2 - x1 of libvmaf: the difference of the two bit lengths.
    let dx = x._mm256_sub_epi64(x._mm256_srli_epi64::<52>(tb), x._mm256_srli_epi64::<52>(nb));
    acc.x2 = x._mm256_add_epi64(acc.x2, x._mm256_and_si256(dx, pos));
    [
        den_idx,
        x._mm256_and_si256(best16(v3, tb), pos),
        x._mm256_and_si256(best16(v3, nb), pos),
    ]
}

/// The statistic of eight pixels' filter outputs, for the lanes set (all ones) in `active`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // eight pixels' five filter outputs, kept in registers
pub(super) fn statistic8(
    v3: V3,
    mu1: __m256i,
    mu2: __m256i,
    xx: __m256i,
    yy: __m256i,
    xy: __m256i,
    active: __m256i,
    table: &[u16; 65537],
    gain_limit: f64,
    acc: &mut StatAcc,
) {
    let (x, a) = (v3.avx2, v3.avx);
    let zero = a._mm256_setzero_si256();
    let s1 = x._mm256_max_epi32(x._mm256_sub_epi32(xx, mul_round(v3, mu1, mu1)), zero);
    let s2 = x._mm256_max_epi32(x._mm256_sub_epi32(yy, mul_round(v3, mu2, mu2)), zero);
    let s12 = x._mm256_sub_epi32(xy, mul_round(v3, mu1, mu2));

    // A flat reference: the non-log branch.
    let small = x._mm256_cmpgt_epi32(a._mm256_set1_epi32(SIGMA_NSQ), s1);
    let non_log = x._mm256_and_si256(active, small);
    acc.den_non_log += a._mm256_movemask_ps(cast(non_log)).count_ones() as i64;
    let s2n = x._mm256_and_si256(s2, non_log);
    let low = a._mm256_set1_epi64x(0xffff_ffff);
    acc.num_non_log = x._mm256_add_epi64(
        acc.num_non_log,
        x._mm256_add_epi64(x._mm256_and_si256(s2n, low), x._mm256_srli_epi64::<32>(s2n)),
    );
    let log = x._mm256_andnot_si256(small, active);
    let log_bits = a._mm256_movemask_ps(cast(log));
    if log_bits == 0 {
        return;
    }
    // sigma1_sq >= SIGMA_NSQ here, so libvmaf's `sigma1_sq < eps` never holds.
    acc.num_x += log_bits.count_ones() as i64;
    let pos = x._mm256_andnot_si256(x._mm256_cmpgt_epi32(zero, s12), log);
    let s2_zero = x._mm256_cmpeq_epi32(s2, zero);
    let [d0, n0, sub0] = log_half::<0>(v3, s1, s2, s12, log, pos, s2_zero, gain_limit, acc);
    let [d1, n1, sub1] = log_half::<1>(v3, s1, s2, s12, log, pos, s2_zero, gain_limit, acc);
    let words = x._mm256_or_si256(
        x._mm256_or_si256(d0, x._mm256_slli_epi64::<16>(d1)),
        x._mm256_or_si256(x._mm256_slli_epi64::<32>(n0), x._mm256_slli_epi64::<48>(n1)),
    );
    let sub = x._mm256_or_si256(sub0, x._mm256_slli_epi64::<16>(sub1));
    look_up(table, words, sub, acc);
}

/// The statistic of a block's lanes `first..end` (of [`L`]).
#[inline(always)]
pub(super) fn statistic_block(
    v3: V3,
    out: &Filtered,
    first: usize,
    end: usize,
    table: &[u16; 65537],
    gain_limit: f64,
    acc: &mut StatAcc,
) {
    let (x, a) = (v3.avx2, v3.avx);
    let lane: __m256i = cast([0i32, 1, 2, 3, 4, 5, 6, 7]);
    for h in 0..L / 8 {
        let lanes = x._mm256_add_epi32(lane, a._mm256_set1_epi32((h * 8) as i32));
        let active = x._mm256_and_si256(
            x._mm256_cmpgt_epi32(lanes, a._mm256_set1_epi32(first as i32 - 1)),
            x._mm256_cmpgt_epi32(a._mm256_set1_epi32(end as i32), lanes),
        );
        statistic8(
            v3,
            eight(&out.mu1, h),
            eight(&out.mu2, h),
            eight(&out.xx, h),
            eight(&out.yy, h),
            eight(&out.xy, h),
            active,
            table,
            gain_limit,
            acc,
        );
    }
}

/// One padded row's five filter outputs re-encoded for `_mm256_madd_epi16`: the means and the
/// high and low 16 bits of the squares and product, each less 2^15 so that it is a signed 16-bit
/// word (every vertical output is below 2^16, or split so). The filter sums then come out less
/// 2^31 (the filters sum to 2^16), which wrapping 32-bit arithmetic adds back exactly.
#[derive(Default)]
pub(super) struct Packed([Vec<i16>; 8]);

impl Packed {
    /// Re-encodes the row's `w + 2 * PAD` padded samples.
    #[inline(always)]
    fn fill(&mut self, rows: [&[u32]; 5], w: usize) {
        let [mu1, mu2, xx, yy, xy] = rows;
        let len = w + 2 * PAD;
        // Room for a full block's reads past the end of a narrow row.
        let room = len + L + 2;
        for p in self.0.iter_mut() {
            if p.len() < room {
                p.resize(room, 0);
            }
        }
        let [m1, m2, xh, xl, yh, yl, zh, zl] = &mut self.0;
        let word = |v: u32| (v as u16 ^ 0x8000) as i16;
        for (d, &v) in m1[..len].iter_mut().zip(&mu1[..len]) {
            *d = word(v);
        }
        for (d, &v) in m2[..len].iter_mut().zip(&mu2[..len]) {
            *d = word(v);
        }
        for (src, hi, lo) in [
            (xx, &mut *xh, &mut *xl),
            (yy, &mut *yh, &mut *yl),
            (xy, &mut *zh, &mut *zl),
        ] {
            for ((h, l), &v) in hi[..len]
                .iter_mut()
                .zip(lo[..len].iter_mut())
                .zip(&src[..len])
            {
                *h = word(v >> 16);
                *l = word(v);
            }
        }
    }
}

/// Sixteen 16-bit words from `s[i..i + 16]`.
#[inline(always)]
fn load16(s: &[i16], i: usize) -> __m256i {
    let a: &[i16; 16] = s[i..i + 16].try_into().expect("sixteen words");
    cast(*a)
}

/// The horizontal filter (`H` taps each side, coefficients paired in `coef`) of sixteen outputs
/// of one re-encoded quantity, from padded position `base`: the outputs 0-3 and 8-11 in the
/// first vector, 4-7 and 12-15 in the second (the order of AVX2's in-lane unpacking), each less
/// 2^31 as [`Packed`] says.
#[inline(always)]
fn filter16<const H: usize>(v3: V3, q: &[i16], base: usize, coef: &[__m256i; 9]) -> [__m256i; 2] {
    let x = v3.avx2;
    let q = &q[base..base + 2 * H + 2 + 16];
    let (mut lo, mut hi) = (v3.avx._mm256_setzero_si256(), v3.avx._mm256_setzero_si256());
    for (p, &c) in coef.iter().enumerate().take(H + 1) {
        let (a, b) = (load16(q, 2 * p), load16(q, 2 * p + 1));
        lo = x._mm256_add_epi32(lo, x._mm256_madd_epi16(x._mm256_unpacklo_epi16(a, b), c));
        hi = x._mm256_add_epi32(hi, x._mm256_madd_epi16(x._mm256_unpackhi_epi16(a, b), c));
    }
    [lo, hi]
}

/// One square or product's horizontal filter from its high and low words: `hi + ((lo + 2^15)
/// >> 16)`, both sums' 2^31 added back.
#[inline(always)]
fn filter16_sq<const H: usize>(
    v3: V3,
    hi: &[i16],
    lo: &[i16],
    base: usize,
    coef: &[__m256i; 9],
) -> [__m256i; 2] {
    let x = v3.avx2;
    let bias_round = v3.avx._mm256_set1_epi32(i32::MIN + (1 << 15));
    let bias = v3.avx._mm256_set1_epi32(i32::MIN);
    let (hi, lo) = (
        filter16::<H>(v3, hi, base, coef),
        filter16::<H>(v3, lo, base, coef),
    );
    // A loop, not a closure: a closure left out of line would lose the instruction set.
    let mut out = [v3.avx._mm256_setzero_si256(); 2];
    for (k, o) in out.iter_mut().enumerate() {
        let lo = x._mm256_add_epi32(lo[k], bias_round);
        *o = x._mm256_add_epi32(
            x._mm256_add_epi32(hi[k], bias),
            x._mm256_srli_epi32::<16>(lo),
        );
    }
    out
}

/// The horizontal pass of one padded row (filter `f` of `2 * H + 1` taps, each below 2^15) and
/// the statistic of its `w` outputs, sixteen at a time with `_mm256_madd_epi16`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the row, the filter and the statistic's state
pub(super) fn horizontal_and_statistic<const H: usize>(
    v3: V3,
    rows: &mut Rows,
    f: &[u32],
    w: usize,
    table: &[u16; 65537],
    gain_limit: f64,
    acc: &mut StatAcc,
) {
    let a = v3.avx;
    let Rows {
        packed,
        mu1,
        mu2,
        xx,
        yy,
        xy,
    } = rows;
    packed.fill([mu1, mu2, xx, yy, xy], w);
    // Taps 2p and 2p + 1 as one 32-bit word, the first tap low (a tap past the filter is 0).
    let mut coef = [a._mm256_setzero_si256(); 9];
    for (p, c) in coef.iter_mut().enumerate().take(H + 1) {
        let hi = if 2 * p < 2 * H { f[2 * p + 1] } else { 0 };
        *c = a._mm256_set1_epi32((f[2 * p] | hi << 16) as i32);
    }
    if w < L {
        block::<H>(v3, packed, 0, 0, w, &coef, table, gain_limit, acc);
    } else {
        // Full blocks, then a last block ending at w whose lanes before `done` were counted.
        let mut done = 0;
        for start in super::block_starts(w) {
            block::<H>(
                v3,
                packed,
                start,
                done - start,
                L,
                &coef,
                table,
                gain_limit,
                acc,
            );
            done = start + L;
        }
    }
}

/// The horizontal pass and statistic of the block of outputs `start..start + L`, for its lanes
/// `first..end`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the block, the filter and the statistic's state
fn block<const H: usize>(
    v3: V3,
    packed: &Packed,
    start: usize,
    first: usize,
    end: usize,
    coef: &[__m256i; 9],
    table: &[u16; 65537],
    gain_limit: f64,
    acc: &mut StatAcc,
) {
    let (x, a) = (v3.avx2, v3.avx);
    let [m1, m2, xh, xl, yh, yl, zh, zl] = &packed.0;
    let base = PAD + start - H;
    let mu1 = filter16::<H>(v3, m1, base, coef);
    let mu2 = filter16::<H>(v3, m2, base, coef);
    let xx = filter16_sq::<H>(v3, xh, xl, base, coef);
    let yy = filter16_sq::<H>(v3, yh, yl, base, coef);
    let xy = filter16_sq::<H>(v3, zh, zl, base, coef);
    let bias = a._mm256_set1_epi32(i32::MIN);
    let order: [__m256i; 2] = [
        cast([0i32, 1, 2, 3, 8, 9, 10, 11]),
        cast([4i32, 5, 6, 7, 12, 13, 14, 15]),
    ];
    for k in 0..2 {
        let active = x._mm256_and_si256(
            x._mm256_cmpgt_epi32(order[k], a._mm256_set1_epi32(first as i32 - 1)),
            x._mm256_cmpgt_epi32(a._mm256_set1_epi32(end as i32), order[k]),
        );
        statistic8(
            v3,
            x._mm256_add_epi32(mu1[k], bias),
            x._mm256_add_epi32(mu2[k], bias),
            xx[k],
            yy[k],
            xy[k],
            active,
            table,
            gain_limit,
            acc,
        );
    }
}

/// Lanes `8 * h..8 * h + 8` of a block.
#[inline(always)]
fn eight(v: &[u32; L], h: usize) -> __m256i {
    cast(<[u32; 8]>::try_from(&v[h * 8..h * 8 + 8]).expect("eight lanes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmaf::vif::{log2_table, statistic, DEFAULT_GAIN_LIMIT};

    /// Fixed-seed 32-bit values.
    fn lcg(s: &mut u64) -> u32 {
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*s >> 32) as u32
    }

    /// Filter outputs of a window of `bpc`-bit pixels (8, 10, 12 or 16 bits) as the kernel
    /// scales them: four samples with weights summing to 2^16, the samples taken to 16 bits, the
    /// distorted ones a gained (possibly negated or clipped) copy of the reference plus noise,
    /// or independent of it, or flat.
    fn window(s: &mut u64) -> [u32; 5] {
        let bpc = [8, 10, 12, 16][lcg(s) as usize % 4];
        let max = (1u64 << bpc) - 1;
        let px = |s: &mut u64| lcg(s) as u64 & max;
        let a: [u64; 4] = std::array::from_fn(|_| px(s));
        let mode = lcg(s) % 6;
        let gain = (lcg(s) % 400) as i64 - 200;
        let b: [u64; 4] = std::array::from_fn(|i| match mode {
            0 => px(s),
            1 => max / 2,
            2 => max - a[i],
            _ => (a[i] as i64 * gain / 16 + (px(s) >> (lcg(s) % 17)) as i64 - max as i64 / 4)
                .clamp(0, max as i64) as u64,
        });
        let a = if mode == 5 { [a[0]; 4] } else { a };
        let mut wt = [0u64; 4];
        let mut left = 1u64 << 16;
        for w in wt.iter_mut().take(3) {
            *w = lcg(s) as u64 % (left + 1);
            left -= *w;
        }
        wt[3] = left;
        let (u, v) = (a.map(|x| x << (16 - bpc)), b.map(|x| x << (16 - bpc)));
        let mean = |x: [u64; 4]| {
            (0..4)
                .map(|i| wt[i] * x[i])
                .sum::<u64>()
                .min(u32::MAX as u64)
        };
        let prod = |x: [u64; 4], y: [u64; 4]| {
            (((0..4).map(|i| wt[i] * x[i] * y[i]).sum::<u64>() + (1 << 15)) >> 16) as u32
        };
        [
            mean(u) as u32,
            mean(v) as u32,
            prod(u, u),
            prod(v, v),
            prod(u, v),
        ]
    }

    /// Filter outputs in eight lanes that stress each branch and range: random words, extreme
    /// words, and consistent statistics of flat, noisy, correlated and anti-correlated areas.
    fn inputs(seed: u64) -> Vec<[[u32; 8]; 5]> {
        let mut s = seed;
        let extremes = [
            0,
            1,
            65535,
            65536,
            131071,
            131072,
            1 << 31,
            u32::MAX,
            u32::MAX - 1,
        ];
        let mut out = Vec::new();
        for round in 0..4000 {
            let mut q = [[0u32; 8]; 5];
            for l in 0..8 {
                let kind = (lcg(&mut s) >> 29) as usize;
                let (m1, m2) = (lcg(&mut s) >> (lcg(&mut s) % 16), lcg(&mut s) >> 8);
                let sq = |m: u32| (((m as u64 * m as u64) + (1 << 31)) >> 32) as u32;
                let v = match kind {
                    0 => [
                        lcg(&mut s),
                        lcg(&mut s),
                        lcg(&mut s),
                        lcg(&mut s),
                        lcg(&mut s),
                    ],
                    1 => std::array::from_fn(|_| extremes[lcg(&mut s) as usize % extremes.len()]),
                    6 | 7 => window(&mut s),
                    _ => {
                        // Variances around the non-log threshold and far above it, covariance
                        // of either sign and any size against them.
                        let v1 = lcg(&mut s) >> (lcg(&mut s) % 32);
                        let v2 = lcg(&mut s) >> (lcg(&mut s) % 32);
                        let c = (lcg(&mut s) >> (lcg(&mut s) % 32)) as i64
                            * if kind % 2 == 0 { 1 } else { -1 };
                        let m12 = (((m1 as u64 * m2 as u64) + (1 << 31)) >> 32) as u32;
                        [
                            m1,
                            m2,
                            sq(m1).wrapping_add(v1 >> (round % 3)),
                            sq(m2).wrapping_add(v2),
                            m12.wrapping_add(c as u32),
                        ]
                    }
                };
                for (qk, vk) in q.iter_mut().zip(v) {
                    qk[l] = vk;
                }
            }
            out.push(q);
        }
        out
    }

    #[test]
    fn avx2_statistic_equals_the_scalar_one_on_extreme_inputs() {
        let Some(v3) = V3::try_new() else {
            return;
        };
        let table = log2_table();
        let table: &[u16; 65537] = table[..].try_into().unwrap();
        for gain_limit in [DEFAULT_GAIN_LIMIT, 1.0] {
            for seed in 0..4 {
                let mut want = Accum::default();
                let mut got = StatAcc::new(v3);
                for (n, q) in inputs(seed).iter().enumerate() {
                    // Every lane active, or some lanes off.
                    let active: [i32; 8] = std::array::from_fn(|l| {
                        if n % 3 == 0 && (l + n) % 4 == 0 {
                            0
                        } else {
                            -1
                        }
                    });
                    for l in 0..8 {
                        if active[l] != 0 {
                            statistic(
                                q[0][l], q[1][l], q[2][l], q[3][l], q[4][l], table, gain_limit,
                                &mut want,
                            );
                        }
                    }
                    v3.vectorize(
                        #[inline(always)]
                        || {
                            statistic8(
                                v3,
                                cast(q[0]),
                                cast(q[1]),
                                cast(q[2]),
                                cast(q[3]),
                                cast(q[4]),
                                cast(active),
                                table,
                                gain_limit,
                                &mut got,
                            )
                        },
                    );
                }
                let mut got_total = Accum::default();
                got.flush(&mut got_total);
                assert_eq!(
                    format!("{got_total:?}"),
                    format!("{want:?}"),
                    "seed {seed}, gain limit {gain_limit}"
                );
            }
        }
    }
}
