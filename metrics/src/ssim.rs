//! SSIM (Wang et al. 2004) computed the way libvmaf 2.3.1's `float_ssim` feature computes it, and
//! the windowed-statistics kernel that MS-SSIM shares.
//!
//! What libvmaf does, and therefore what this module does:
//!
//! * samples are taken in the 8-bit range: a b-bit sample is divided by 2^(b−8) (10-bit by 4);
//! * the picture is first reduced by an integer factor `scale = max(1, round(min(w, h) / 256))`
//!   (round half up: 1 below 384 lines, 2 at 480p/576p, 3 at 720p, 4 at 1080p, 8 at 2160p). The
//!   reduction keeps every `scale`-th sample (output size `w / scale + (w & 1)` by
//!   `h / scale + (h & 1)`) and each kept sample is the mean of a `scale`×`scale` box whose top-left
//!   corner is `scale / 2` samples above and left of it; samples outside the picture are mirrored
//!   (`-1 → 0`, `w → w − 1`);
//! * an 11×11 Gaussian window (σ = 1.5, libvmaf's rounded taps, applied separably) is evaluated
//!   only where it lies fully inside the picture, K1 = 0.01, K2 = 0.03, L = 255;
//! * negative variances are clamped to zero and the score is the mean of the SSIM map, rounded to
//!   `f32`.
//!
//! The fast path streams rows once: each input row is converted and the five statistics (x, y,
//! x², y², xy) filtered horizontally into a ring of rows, the products formed in registers so only
//! the two sample rows are read; every eight output rows are then filtered vertically together and
//! the SSIM formula evaluated in the same pass (one division per window; MS-SSIM's contrast and
//! structure share one). Kernels run with AVX2+FMA or AVX-512 when the CPU has them (safe runtime
//! dispatch), else portable code. Samples are centred on 128 before filtering, which keeps `f32`
//! sums of squares accurate; the small bias libvmaf's un-normalised window (taps summing to
//! 1.000002) puts on its variances is added back analytically so both agree. [`crate::reference`]
//! keeps a plain scalar port for tests.

use crate::error::{check_bit_depth, check_frames, check_same_size, MetricError};
use crate::frame::{FrameView, Plane, Sample};
use crate::simd::{dispatch, lanes, load, round_up, sum_first, Scratch};
use pulp::{Simd, WithSimd};

/// libvmaf's 11-tap Gaussian (σ = 1.5), rounded to six decimals as libvmaf has it.
pub(crate) const GAUSS: [f32; 11] = [
    0.001028, 0.007599, 0.036001, 0.109361, 0.213006, 0.266012, 0.213006, 0.109361, 0.036001,
    0.007599, 0.001028,
];

/// Width of the SSIM window.
pub(crate) const WINDOW: usize = 11;

/// The stabilising constant C1 = (K1·L)², computed in `f32` as libvmaf does.
pub(crate) fn c1() -> f32 {
    let v = 0.01f32 * 255.0;
    v * v
}

/// The stabilising constant C2 = (K2·L)².
pub(crate) fn c2() -> f32 {
    let v = 0.03f32 * 255.0;
    v * v
}

/// Sum of the Gaussian taps in one dimension (libvmaf sums its products in `f64`).
pub(crate) fn gauss_sum() -> f64 {
    GAUSS.iter().map(|&g| g as f64).sum()
}

/// The factor libvmaf's `float_ssim` reduces a `w`×`h` picture by before SSIM.
pub fn ssim_scale(w: usize, h: usize) -> usize {
    let a = w.min(h) as f32 / 256.0;
    let t = a as i32;
    let r = if a - t as f32 >= 0.5 { t + 1 } else { t };
    r.max(1) as usize
}

/// Size of a picture reduced by `factor` the way libvmaf's decimation does it.
pub(crate) fn decimated_size(w: usize, h: usize, factor: usize) -> (usize, usize) {
    (w / factor + (w & 1), h / factor + (h & 1))
}

/// Mirrors an index into `0..n` the way libvmaf's symmetric border does (once, no repetition).
#[inline]
pub(crate) fn mirror(i: isize, n: usize) -> usize {
    let n = n as isize;
    let m = if i < 0 {
        -1 - i
    } else if i >= n {
        2 * n - i - 1
    } else {
        i
    };
    m.clamp(0, n - 1) as usize
}

/// A source of picture rows as centred `f32` samples (libvmaf's 8-bit-range value minus an offset).
///
/// Kernels are generic over their sources, so `fill` is inlined into each kernel and runs with
/// the kernel's instruction set.
pub(crate) trait Rows: Sync {
    /// Samples per row.
    fn width(&self) -> usize;
    /// Rows.
    fn height(&self) -> usize;
    /// Writes samples `x0..x0 + out.len()` of row `y` into `out` (the range lies in the row).
    fn fill(&self, y: usize, x0: usize, out: &mut [f32]);
    /// Row `y` in place when the source holds centred `f32` samples: the row's samples followed
    /// by whatever comes after them in memory (the next rows, then padding), so kernels may read
    /// past the row's end into lanes they discard.
    fn slice(&self, _y: usize) -> Option<&[f32]> {
        None
    }
}

/// Rows of a sample plane, scaled to the 8-bit range and centred on 128.
pub(crate) struct PlaneRows<'p, 'a, T: Sample> {
    plane: &'p Plane<'a, T>,
    scale: f32,
}

impl<'p, 'a, T: Sample> PlaneRows<'p, 'a, T> {
    /// Rows of `plane` holding `bit_depth`-bit samples.
    pub(crate) fn new(plane: &'p Plane<'a, T>, bit_depth: u8) -> Self {
        Self {
            plane,
            scale: 1.0 / (1u32 << (bit_depth - 8)) as f32,
        }
    }
}

impl<T: Sample> Rows for PlaneRows<'_, '_, T> {
    #[inline(always)]
    fn width(&self) -> usize {
        self.plane.width()
    }
    #[inline(always)]
    fn height(&self) -> usize {
        self.plane.height()
    }
    #[inline(always)]
    fn fill(&self, y: usize, x0: usize, out: &mut [f32]) {
        let s = self.scale;
        let src = &self.plane.row(y)[x0..x0 + out.len()];
        for (o, v) in out.iter_mut().zip(src) {
            *o = v.to_f32() * s - 128.0;
        }
    }
}

/// A picture of centred `f32` samples, tightly packed (`data` may hold padding after the last
/// row).
#[derive(Clone, Debug)]
pub(crate) struct Image {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) data: Scratch,
}

impl Rows for Image {
    #[inline(always)]
    fn width(&self) -> usize {
        self.w
    }
    #[inline(always)]
    fn height(&self) -> usize {
        self.h
    }
    #[inline(always)]
    fn fill(&self, y: usize, x0: usize, out: &mut [f32]) {
        let start = y * self.w + x0;
        out.copy_from_slice(&self.data[start..start + out.len()]);
    }
    #[inline(always)]
    fn slice(&self, y: usize) -> Option<&[f32]> {
        Some(&self.data[y * self.w..])
    }
}

/// Which per-window quantities to sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// Only the SSIM value l·c·s (one division per window).
    Ssim,
    /// Luminance, contrast and structure separately (MS-SSIM).
    Lcs,
    /// Contrast and structure only (MS-SSIM scales whose luminance exponent is zero).
    Cs,
}

/// Sums over all window positions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct WindowSums {
    pub(crate) l: f64,
    pub(crate) c: f64,
    pub(crate) s: f64,
    pub(crate) lcs: f64,
    pub(crate) count: usize,
}

/// Sums SSIM terms over every 11×11 window inside two pictures of centred samples
/// (`offset` = what was subtracted from libvmaf's sample values).
pub(crate) fn window_stats<A: Rows, B: Rows>(a: &A, b: &B, offset: f32, want: Want) -> WindowSums {
    dispatch(WindowKernel { a, b, offset, want })
}

struct WindowKernel<'r, A, B> {
    a: &'r A,
    b: &'r B,
    offset: f32,
    want: Want,
}

/// Number of statistics maps filtered per window: x, y, x², y², xy.
const MAPS: usize = 5;

/// Output rows filtered vertically together: each ring row is read once per block, which cuts
/// the ring traffic to (BLOCK + 10) / BLOCK rows per output row.
const BLOCK: usize = 8;

/// Ring slots: the rows one block of output rows needs.
const SLOTS: usize = WINDOW + BLOCK - 1;

/// The five statistics (x, y, x², y², xy) of `l` windows filtered horizontally, from the samples
/// `a[0..l + 10]` and `b[0..l + 10]`; the products are formed in registers, so only the two
/// sample rows are loaded.
#[inline(always)]
fn gauss5<S: Simd>(simd: S, g: &[S::f32s; 6], a: &[f32], b: &[f32]) -> [S::f32s; MAPS] {
    let x = load::<S>(a, 5);
    let y = load::<S>(b, 5);
    let mut acc = [
        simd.mul_f32s(g[5], x),
        simd.mul_f32s(g[5], y),
        simd.mul_f32s(g[5], simd.mul_f32s(x, x)),
        simd.mul_f32s(g[5], simd.mul_f32s(y, y)),
        simd.mul_f32s(g[5], simd.mul_f32s(x, y)),
    ];
    for (t, &gt) in g.iter().enumerate().take(5) {
        let (xa, xb) = (load::<S>(a, t), load::<S>(a, WINDOW - 1 - t));
        let (ya, yb) = (load::<S>(b, t), load::<S>(b, WINDOW - 1 - t));
        // Sums of two samples or two products: exact for 8-bit samples.
        let sx = simd.add_f32s(xa, xb);
        let sy = simd.add_f32s(ya, yb);
        let sxx = simd.mul_add_e_f32s(xa, xa, simd.mul_f32s(xb, xb));
        let syy = simd.mul_add_e_f32s(ya, ya, simd.mul_f32s(yb, yb));
        let sxy = simd.mul_add_e_f32s(xa, ya, simd.mul_f32s(xb, yb));
        acc[0] = simd.mul_add_e_f32s(sx, gt, acc[0]);
        acc[1] = simd.mul_add_e_f32s(sy, gt, acc[1]);
        acc[2] = simd.mul_add_e_f32s(sxx, gt, acc[2]);
        acc[3] = simd.mul_add_e_f32s(syy, gt, acc[3]);
        acc[4] = simd.mul_add_e_f32s(sxy, gt, acc[4]);
    }
    acc
}

/// Per-window constants of the SSIM formula, as vectors.
struct Consts<S: Simd> {
    g: [S::f32s; 6],
    /// What each map's vertical filter starts from (the centring corrections, see below).
    bias: [S::f32s; MAPS],
    zero: S::f32s,
    one: S::f32s,
    two: S::f32s,
    c1: S::f32s,
    c2: S::f32s,
    c3: S::f32s,
    /// Added to the corrected means to give libvmaf's means.
    mu: S::f32s,
    /// Scales √(σ₁²σ₂²) into a bound below any covariance where it is not zero.
    neg_huge: S::f32s,
}

/// Running vector sums of the SSIM terms.
struct Acc<S: Simd> {
    l: S::f32s,
    c: S::f32s,
    s: S::f32s,
    lcs: S::f32s,
    tail: [f32; 4],
}

/// Evaluates the SSIM terms of one vector of windows from its five filtered statistics and adds
/// the first `valid` lanes to `acc`.
#[inline(always)]
fn ssim_terms<S: Simd>(
    simd: S,
    k: &Consts<S>,
    st: [S::f32s; MAPS],
    want: Want,
    valid: usize,
    lanes: usize,
    acc: &mut Acc<S>,
) {
    let [m1, m2, xx, yy, xy] = st;
    let zero = k.zero;
    let s11 = simd.max_f32s(simd.negate_mul_add_e_f32s(m1, m1, xx), zero);
    let s22 = simd.max_f32s(simd.negate_mul_add_e_f32s(m2, m2, yy), zero);
    let s12 = simd.negate_mul_add_e_f32s(m1, m2, xy);
    let prod = simd.mul_f32s(s11, s22);
    let vden = simd.add_f32s(simd.add_f32s(s11, s22), k.c2);
    let full = valid == lanes;
    let lum = || {
        let mu1 = simd.add_f32s(m1, k.mu);
        let mu2 = simd.add_f32s(m2, k.mu);
        let lnum = simd.mul_add_e_f32s(simd.mul_f32s(k.two, mu1), mu2, k.c1);
        let lden = simd.mul_add_e_f32s(mu1, mu1, simd.mul_add_e_f32s(mu2, mu2, k.c1));
        (lnum, lden)
    };
    match want {
        Want::Ssim => {
            // libvmaf: a negative covariance where either variance is zero counts as zero.
            let clamp = simd.and_m32s(
                simd.less_than_f32s(s12, zero),
                simd.less_than_or_equal_f32s(prod, zero),
            );
            let s12 = simd.select_f32s(clamp, zero, s12);
            let (lnum, lden) = lum();
            let csnum = simd.mul_add_e_f32s(k.two, s12, k.c2);
            let v = simd.div_f32s(simd.mul_f32s(lnum, csnum), simd.mul_f32s(lden, vden));
            if full {
                acc.lcs = simd.add_f32s(acc.lcs, v);
            } else {
                acc.tail[3] += sum_first::<S>(v, valid);
            }
        }
        Want::Lcs | Want::Cs => {
            let srs = simd.sqrt_f32s(prod);
            // libvmaf: a negative covariance where either variance is zero counts as zero. With
            // srs = 0 the bound is −0; otherwise srs ≥ 1e-23 puts it below −1e7, under any
            // covariance of 8-bit-range samples, so s12 passes unchanged.
            let s12 = simd.max_f32s(s12, simd.mul_f32s(srs, k.neg_huge));
            // c = (2·srs + C2) / vden and s = (s12 + C3) / (srs + C3), with one division.
            let sden = simd.add_f32s(srs, k.c3);
            let inv = simd.div_f32s(k.one, simd.mul_f32s(vden, sden));
            let cnum = simd.mul_add_e_f32s(k.two, srs, k.c2);
            let cv = simd.mul_f32s(simd.mul_f32s(cnum, sden), inv);
            let sv = simd.mul_f32s(simd.mul_f32s(simd.add_f32s(s12, k.c3), vden), inv);
            if full {
                acc.c = simd.add_f32s(acc.c, cv);
                acc.s = simd.add_f32s(acc.s, sv);
            } else {
                acc.tail[1] += sum_first::<S>(cv, valid);
                acc.tail[2] += sum_first::<S>(sv, valid);
            }
            if want == Want::Lcs {
                let (lnum, lden) = lum();
                let lv = simd.div_f32s(lnum, lden);
                if full {
                    acc.l = simd.add_f32s(acc.l, lv);
                } else {
                    acc.tail[0] += sum_first::<S>(lv, valid);
                }
            }
        }
    }
}

/// Vectors of windows summed in `f32` lanes before the sums move to `f64`: at most
/// FLUSH × BLOCK terms per lane, which keeps the `f32` rounding of the sums far below the
/// tolerance whatever the vector width (one lane on the portable path).
const FLUSH: usize = 16;

impl<S: Simd> Acc<S> {
    fn new(zero: S::f32s) -> Self {
        Acc {
            l: zero,
            c: zero,
            s: zero,
            lcs: zero,
            tail: [0.0; 4],
        }
    }

    /// Adds the lanes to `sums` and starts again from zero.
    #[inline(always)]
    fn flush(&mut self, simd: S, sums: &mut WindowSums) {
        sums.l += (simd.reduce_sum_f32s(self.l) + self.tail[0]) as f64;
        sums.c += (simd.reduce_sum_f32s(self.c) + self.tail[1]) as f64;
        sums.s += (simd.reduce_sum_f32s(self.s) + self.tail[2]) as f64;
        sums.lcs += (simd.reduce_sum_f32s(self.lcs) + self.tail[3]) as f64;
        *self = Acc::new(simd.splat_f32s(0.0));
    }
}

/// Filters `r` (1..=BLOCK) output rows vertically from `rows` (their r + 10 input rows, oldest
/// first, `nvec` vectors of the five maps each) and adds their SSIM terms to `sums`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn vertical_block<S: Simd>(
    simd: S,
    k: &Consts<S>,
    rows: &[&[S::f32s]; SLOTS],
    r: usize,
    nvec: usize,
    last_valid: usize,
    want: Want,
    sums: &mut WindowSums,
) {
    let l = lanes::<S>();
    let mut acc = Acc::<S>::new(k.zero);
    for v in 0..nvec {
        let at = v * MAPS..(v + 1) * MAPS;
        let mut st = [[k.zero; MAPS]; BLOCK];
        for m in 0..MAPS {
            let mut col = [k.zero; SLOTS];
            for (c, row) in col.iter_mut().zip(rows.iter()).take(r + WINDOW - 1) {
                *c = row[at.clone()][m];
            }
            for (j, out) in st.iter_mut().enumerate().take(r) {
                let mut a = simd.mul_add_e_f32s(k.g[5], col[j + 5], k.bias[m]);
                for t in 0..5 {
                    let pair = simd.add_f32s(col[j + t], col[j + WINDOW - 1 - t]);
                    a = simd.mul_add_e_f32s(pair, k.g[t], a);
                }
                out[m] = a;
            }
        }
        let valid = if v + 1 < nvec { l } else { last_valid };
        for out in st.iter().take(r) {
            ssim_terms(simd, k, *out, want, valid, l, &mut acc);
        }
        if v % FLUSH == FLUSH - 1 {
            acc.flush(simd, sums);
        }
    }
    acc.flush(simd, sums);
}

impl<A: Rows, B: Rows> WithSimd for WindowKernel<'_, A, B> {
    type Output = WindowSums;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> WindowSums {
        let l = lanes::<S>();
        let (w, h) = (self.a.width(), self.a.height());
        debug_assert!(w >= WINDOW && h >= WINDOW);
        let (ow, oh) = (w - WINDOW + 1, h - WINDOW + 1);
        let nvec = ow.div_ceil(l);
        let plen = round_up(nvec * l + WINDOW, l);

        // Input rows (ref, dist), zero-padded past `w`.
        let mut ra = Scratch::zeroed(plen);
        let mut rb = Scratch::zeroed(plen);
        let zero = simd.splat_f32s(0.0);
        // Ring of horizontally filtered rows; within a row the five maps of one output vector
        // are adjacent, so the vertical pass reads one stream per row.
        let row_len = nvec * MAPS;
        let mut ring_buf = Scratch::zeroed(SLOTS * row_len * l);
        let ring = S::as_mut_simd_f32s(&mut ring_buf).0;

        // libvmaf's window is not normalised (its taps sum to `gw`); with centred samples x' = x − o
        // its variance estimate W(x²) − W(x)² equals W(x'²) − W(x')² + 2·a·W(x') + c0, where W is
        // the 2-D window (sum gw²), a = o·(1 − gw) and c0 = o²·gw·(1 − gw), and its covariance
        // W(x'y') − W(x')W(y') + a·(W(x') + W(y')) + c0. Both are computed as
        // (W(x'²) + c0 + a²) − (W(x') − a)² and (W(x'y') + c0 + a²) − (W(x') − a)(W(y') − a), the
        // constants entering the vertical filters as their starting values.
        let gw = gauss_sum() * gauss_sum();
        let o = self.offset as f64;
        let (ca, c0) = (o * (1.0 - gw), o * o * gw * (1.0 - gw));
        let neg_a = simd.splat_f32s(-ca as f32);
        let sq = simd.splat_f32s((c0 + ca * ca) as f32);
        let k = Consts::<S> {
            g: std::array::from_fn(|t| simd.splat_f32s(GAUSS[t])),
            bias: [neg_a, neg_a, sq, sq, sq],
            zero,
            one: simd.splat_f32s(1.0),
            two: simd.splat_f32s(2.0),
            c1: simd.splat_f32s(c1()),
            c2: simd.splat_f32s(c2()),
            c3: simd.splat_f32s(c2() / 2.0),
            mu: simd.splat_f32s((o * gw + ca) as f32),
            neg_huge: simd.splat_f32s(-1e30),
        };

        let mut sums = WindowSums {
            count: ow * oh,
            ..Default::default()
        };
        let last_valid = ow - (nvec - 1) * l;
        let mut done = 0; // output rows finished
        for y in 0..h {
            // Rows of f32 pictures are read in place when the picture's memory reaches far
            // enough; the lanes past the row's end only feed discarded windows.
            let xa: &[f32] = match self.a.slice(y) {
                Some(r) if r.len() >= plen => r,
                _ => {
                    self.a.fill(y, 0, &mut ra[..w]);
                    &ra
                }
            };
            let xb: &[f32] = match self.b.slice(y) {
                Some(r) if r.len() >= plen => r,
                _ => {
                    self.b.fill(y, 0, &mut rb[..w]);
                    &rb
                }
            };
            let slot = y % SLOTS;
            let dst = &mut ring[slot * row_len..(slot + 1) * row_len];
            for (v, d) in dst.chunks_exact_mut(MAPS).enumerate() {
                let span = v * l..v * l + l + WINDOW - 1;
                let out = gauss5(simd, &k.g, &xa[span.clone()], &xb[span]);
                d.copy_from_slice(&out);
            }

            // Output rows whose windows end at or before this row.
            let ready = (y + 2).saturating_sub(WINDOW);
            let r = ready - done;
            if r == BLOCK || (y + 1 == h && r > 0) {
                let rows: [&[S::f32s]; SLOTS] = std::array::from_fn(|t| {
                    let s = (done + t) % SLOTS;
                    &ring[s * row_len..(s + 1) * row_len]
                });
                vertical_block(simd, &k, &rows, r, nvec, last_valid, self.want, &mut sums);
                done += r;
            }
        }
        debug_assert_eq!(done, oh);
        sums
    }
}

/// Reduces a plane by `factor` with libvmaf's box filter, returning samples centred on 128.
pub(crate) fn box_decimate<T: Sample>(plane: &Plane<'_, T>, bit_depth: u8, factor: usize) -> Image {
    dispatch(BoxKernel {
        plane,
        bit_depth,
        factor,
    })
}

struct BoxKernel<'p, 'a, T: Sample> {
    plane: &'p Plane<'a, T>,
    bit_depth: u8,
    factor: usize,
}

impl<T: Sample> WithSimd for BoxKernel<'_, '_, T> {
    type Output = Image;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Image {
        let f = self.factor;
        let (w, h) = (self.plane.width(), self.plane.height());
        let (sw, sh) = decimated_size(w, h, f);
        let uc = (f / 2) as isize;
        let inv = 1.0 / ((f * f) as f64 * (1u32 << (self.bit_depth - 8)) as f64);
        let cols: Vec<usize> = (0..sw)
            .flat_map(|x| (0..f).map(move |k| (x * f) as isize - uc + k as isize))
            .map(|i| mirror(i, w))
            .collect();
        let mut acc = vec![0u32; w];
        let mut data = Scratch::zeroed(sw * sh);
        for (y, out) in data.chunks_exact_mut(sw).enumerate() {
            acc.fill(0);
            for k in 0..f {
                let row = self
                    .plane
                    .row(mirror((y * f) as isize - uc + k as isize, h));
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += v.to_u32();
                }
            }
            for (o, c) in out.iter_mut().zip(cols.chunks_exact(f)) {
                let t: u32 = c.iter().map(|&i| acc[i]).sum();
                *o = (t as f64 * inv - 128.0) as f32;
            }
        }
        Image { w: sw, h: sh, data }
    }
}

/// SSIM of one plane pair holding `bit_depth`-bit samples, as libvmaf's `float_ssim` computes it.
pub fn ssim_plane<T: Sample>(
    reference: &Plane<'_, T>,
    distorted: &Plane<'_, T>,
    bit_depth: u8,
) -> Result<f64, MetricError> {
    check_bit_depth(bit_depth, std::mem::size_of::<T>())?;
    let (w, h) = (reference.width(), reference.height());
    check_same_size(0, (w, h), (distorted.width(), distorted.height()))?;
    let factor = ssim_scale(w, h);
    let (sw, sh) = decimated_size(w, h, factor);
    if sw < WINDOW || sh < WINDOW || w < WINDOW || h < WINDOW {
        return Err(MetricError::TooSmall {
            metric: "SSIM",
            width: w,
            height: h,
            min_width: WINDOW,
            min_height: WINDOW,
        });
    }
    let sums = if factor == 1 {
        window_stats(
            &PlaneRows::new(reference, bit_depth),
            &PlaneRows::new(distorted, bit_depth),
            128.0,
            Want::Ssim,
        )
    } else {
        let a = box_decimate(reference, bit_depth, factor);
        let b = box_decimate(distorted, bit_depth, factor);
        window_stats(&a, &b, 128.0, Want::Ssim)
    };
    Ok((sums.lcs / sums.count as f64) as f32 as f64)
}

/// Luma SSIM of a frame pair (what libvmaf's `float_ssim` reports).
pub fn ssim<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<f64, MetricError> {
    check_frames(reference, distorted)?;
    ssim_plane(reference.luma(), distorted.luma(), reference.bit_depth())
}

/// SSIM of each plane (Y, Cb, Cr) of a frame pair; each plane is reduced by its own scale factor.
pub fn ssim_planes<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<[f64; 3], MetricError> {
    check_frames(reference, distorted)?;
    let bd = reference.bit_depth();
    Ok([
        ssim_plane(reference.plane(0), distorted.plane(0), bd)?,
        ssim_plane(reference.plane(1), distorted.plane(1), bd)?,
        ssim_plane(reference.plane(2), distorted.plane(2), bd)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_factor_matches_libvmaf_rounding() {
        assert_eq!(ssim_scale(352, 288), 1);
        assert_eq!(ssim_scale(640, 360), 1);
        assert_eq!(ssim_scale(640, 383), 1);
        assert_eq!(ssim_scale(640, 384), 2); // 1.5 rounds up
        assert_eq!(ssim_scale(720, 480), 2);
        assert_eq!(ssim_scale(1280, 720), 3);
        assert_eq!(ssim_scale(1920, 1080), 4);
        assert_eq!(ssim_scale(3840, 2160), 8);
        assert_eq!(decimated_size(1920, 1080, 4), (480, 270));
        assert_eq!(decimated_size(1281, 720, 3), (428, 240));
    }

    #[test]
    fn mirror_is_libvmaf_symmetric() {
        assert_eq!(mirror(-1, 10), 0);
        assert_eq!(mirror(-2, 10), 1);
        assert_eq!(mirror(10, 10), 9);
        assert_eq!(mirror(11, 10), 8);
        assert_eq!(mirror(5, 10), 5);
    }

    fn check_against_reference(w: usize, h: usize, bit_depth: u8, noise: u32) {
        use crate::reference::ssim_plane_reference;
        use crate::testutil::{pair, pair8};
        let (fast, slow) = if bit_depth == 8 {
            let (a, b) = pair8(w, h, noise, w as u32);
            let (a, b) = (a.view().unwrap(), b.view().unwrap());
            (
                ssim_plane(a.luma(), b.luma(), 8).unwrap(),
                ssim_plane_reference(a.luma(), b.luma(), 8),
            )
        } else {
            let (a, b) = pair(w, h, bit_depth, noise, w as u32);
            let (a, b) = (a.view().unwrap(), b.view().unwrap());
            (
                ssim_plane(a.luma(), b.luma(), bit_depth).unwrap(),
                ssim_plane_reference(a.luma(), b.luma(), bit_depth),
            )
        };
        eprintln!(
            "ssim {w}x{h} {bit_depth}-bit noise {noise}: fast {fast} reference {slow} diff {:e}",
            fast - slow
        );
        assert!(
            (fast - slow).abs() < 1e-6,
            "{w}x{h} {bit_depth}-bit: fast {fast} vs reference {slow}"
        );
    }

    #[test]
    fn fast_ssim_agrees_with_the_scalar_reference() {
        check_against_reference(200, 150, 8, 6); // scale 1
        check_against_reference(523, 400, 8, 3); // scale 2, odd width
        check_against_reference(777, 769, 10, 10); // scale 3, odd sizes
        check_against_reference(1030, 1024, 8, 20); // scale 4
        check_against_reference(64, 64, 12, 1);
    }

    #[test]
    fn identical_planes_score_one() {
        let (a, _) = crate::testutil::pair8(300, 200, 5, 1);
        let v = a.view().unwrap();
        assert_eq!(ssim(&v, &v).unwrap(), 1.0);
    }

    #[test]
    fn every_instruction_set_gives_the_same_scores() {
        let (a, b) = crate::testutil::pair(523, 400, 10, 9, 5);
        let (va, vb) = (a.view().unwrap(), b.view().unwrap());
        let results = crate::simd::on_every_arch(|| {
            (
                ssim(&va, &vb).unwrap(),
                crate::msssim::ms_ssim(&va, &vb).unwrap(),
                crate::psnr::psnr(&va, &vb).unwrap().sse,
            )
        });
        eprintln!("{results:?}");
        let (_, first) = results[0];
        for (name, r) in &results {
            assert!(
                (r.0 - first.0).abs() < 1e-6,
                "{name}: SSIM {} vs scalar {}",
                r.0,
                first.0
            );
            assert!(
                (r.1 - first.1).abs() < 1e-6,
                "{name}: MS-SSIM {} vs scalar {}",
                r.1,
                first.1
            );
            assert_eq!(r.2, first.2, "{name}: SSE");
        }
    }
}
