//! MS-SSIM (Wang, Simoncelli, Bovik 2003) over five scales, computed the way libvmaf 2.3.1's
//! `float_ms_ssim` feature computes it.
//!
//! What libvmaf does, and therefore what this module does:
//!
//! * samples are taken in the 8-bit range (a b-bit sample divided by 2^(b−8)), full resolution at
//!   scale 0 (no initial reduction, unlike SSIM);
//! * each next scale is the previous one low-pass filtered with the 9-tap 9/7 biorthogonal wavelet
//!   filter (mirrored borders) and subsampled by two, keeping even rows and columns:
//!   `w / 2 + (w & 1)` by `h / 2 + (h & 1)`;
//! * at each scale the mean luminance, contrast and structure terms over all 11×11 Gaussian windows
//!   are taken separately, and the score is `Π l_j^α_j · c_j^β_j · s_j^γ_j` with
//!   α = (0, 0, 0, 0, 0.1333), β = γ = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333);
//! * a plane needs `w, w/2, w/4, w/8, w/16 ≥ 11` (and the same for `h`): at least 176×176.
//!
//! libvmaf filters with a 9×9 table that is the outer product of its 9-tap filter rounded to six
//! decimals; the fast path filters separably with the 9-tap filter (the two differ by at most
//! 6.3e-7 per tap). The 9×9 table lives here (`lpf_2d`): [`crate::reference`] filters with it,
//! and the fast path scales its offsets by the table's sum.

use crate::error::{check_bit_depth, check_frames, check_same_size, MetricError};
use crate::frame::{FrameView, Plane, Sample};
use crate::simd::{dispatch, lanes, load, round_up, store, Scratch};
use crate::ssim::{decimated_size, mirror, window_stats, Image, PlaneRows, Rows, Want, WINDOW};
use pulp::{Simd, WithSimd};

/// Smallest width and height MS-SSIM accepts (11 × 2⁴).
pub const MS_SSIM_MIN_SIZE: usize = 176;

/// Number of scales.
pub const MS_SSIM_SCALES: usize = 5;

/// libvmaf's 9-tap low-pass (9/7 biorthogonal analysis) filter.
pub(crate) const LPF: [f32; 9] = [
    0.026727, -0.016828, -0.078201, 0.266846, 0.602914, 0.266846, -0.078201, -0.016828, 0.026727,
];

/// Exponent of the luminance term per scale.
pub(crate) const ALPHAS: [f32; 5] = [0.0, 0.0, 0.0, 0.0, 0.1333];
/// Exponent of the contrast term per scale.
pub(crate) const BETAS: [f32; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
/// Exponent of the structure term per scale.
pub(crate) const GAMMAS: [f32; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// libvmaf's 9×9 low-pass table: the outer product of [`LPF`] rounded to six decimals, as libvmaf
/// stores it (one quadrant; the table is symmetric in both directions).
const LPF_2D_QUADRANT: [[f32; 5]; 5] = [
    [0.000714, -0.000450, -0.002090, 0.007132, 0.016114],
    [-0.000450, 0.000283, 0.001316, -0.004490, -0.010146],
    [-0.002090, 0.001316, 0.006115, -0.020867, -0.047149],
    [0.007132, -0.004490, -0.020867, 0.071207, 0.160885],
    [0.016114, -0.010146, -0.047149, 0.160885, 0.363505],
];

/// Tap `i` (row-major, 0..81) of the 9×9 low-pass table.
fn lpf_2d_tap(i: usize) -> f32 {
    LPF_2D_QUADRANT[(i / 9).min(8 - i / 9)][(i % 9).min(8 - i % 9)]
}

/// The full 9×9 low-pass table, row-major.
pub(crate) fn lpf_2d() -> Vec<f32> {
    (0..81).map(lpf_2d_tap).collect()
}

/// Sum of libvmaf's 9×9 low-pass table (its DC gain, slightly above 1).
pub(crate) fn lpf_2d_sum() -> f64 {
    (0..81).map(|i| lpf_2d_tap(i) as f64).sum()
}

/// Checks the libvmaf size rule: every scale must hold one window.
pub(crate) fn check_ms_ssim_size(w: usize, h: usize) -> Result<(), MetricError> {
    let (mut cw, mut ch) = (w, h);
    for _ in 0..MS_SSIM_SCALES {
        if cw < WINDOW || ch < WINDOW {
            return Err(MetricError::TooSmall {
                metric: "MS-SSIM",
                width: w,
                height: h,
                min_width: MS_SSIM_MIN_SIZE,
                min_height: MS_SSIM_MIN_SIZE,
            });
        }
        cw /= 2;
        ch /= 2;
    }
    Ok(())
}

/// Combines per-scale mean (l, c, s) the way libvmaf does (`f32` means, `f64` powers).
pub(crate) fn combine(lcs: &[[f32; 3]; 5]) -> f64 {
    let mut ms = 1.0f64;
    for (j, t) in lcs.iter().enumerate() {
        ms *= (t[0] as f64).powf(ALPHAS[j] as f64)
            * (t[1] as f64).powf(BETAS[j] as f64)
            * (t[2] as f64).powf(GAMMAS[j] as f64);
    }
    ms
}

/// MS-SSIM of one plane pair holding `bit_depth`-bit samples, as libvmaf's `float_ms_ssim`.
pub fn ms_ssim_plane<T: Sample>(
    reference: &Plane<'_, T>,
    distorted: &Plane<'_, T>,
    bit_depth: u8,
) -> Result<f64, MetricError> {
    check_bit_depth(bit_depth, std::mem::size_of::<T>())?;
    let (w, h) = (reference.width(), reference.height());
    check_same_size(0, (w, h), (distorted.width(), distorted.height()))?;
    check_ms_ssim_size(w, h)?;

    let a0 = PlaneRows::new(reference, bit_depth);
    let b0 = PlaneRows::new(distorted, bit_depth);
    let mut lcs = [[0f32; 3]; 5];
    let mean = |s: crate::ssim::WindowSums| {
        let n = s.count as f64;
        [(s.l / n) as f32, (s.c / n) as f32, (s.s / n) as f32]
    };
    let mut offset = 128.0f64;
    // Scales whose luminance exponent is zero skip the luminance term (x^0 = 1 in libvmaf too).
    let want = |j: usize| {
        if ALPHAS[j] == 0.0 {
            Want::Cs
        } else {
            Want::Lcs
        }
    };
    lcs[0] = mean(window_stats(&a0, &b0, offset as f32, want(0)));
    let mut a = lpf_decimate(&a0);
    let mut b = lpf_decimate(&b0);
    let gain = lpf_2d_sum();
    for (j, item) in lcs.iter_mut().enumerate().skip(1) {
        // A constant offset passes through the low-pass filter scaled by libvmaf's filter gain.
        offset *= gain;
        *item = mean(window_stats(&a, &b, offset as f32, want(j)));
        if j + 1 < MS_SSIM_SCALES {
            a = lpf_decimate(&a);
            b = lpf_decimate(&b);
        }
    }
    Ok(combine(&lcs))
}

/// Luma MS-SSIM of a frame pair (what libvmaf's `float_ms_ssim` reports).
pub fn ms_ssim<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<f64, MetricError> {
    check_frames(reference, distorted)?;
    ms_ssim_plane(reference.luma(), distorted.luma(), reference.bit_depth())
}

/// MS-SSIM of each plane (Y, Cb, Cr) of a frame pair.
pub fn ms_ssim_planes<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<[f64; 3], MetricError> {
    check_frames(reference, distorted)?;
    let bd = reference.bit_depth();
    Ok([
        ms_ssim_plane(reference.plane(0), distorted.plane(0), bd)?,
        ms_ssim_plane(reference.plane(1), distorted.plane(1), bd)?,
        ms_ssim_plane(reference.plane(2), distorted.plane(2), bd)?,
    ])
}

/// Samples of padding after a decimated picture's last row: room for the overspill of the last
/// row's vectors and for in-place reads of whole vectors and windows past any row's end.
const IMAGE_PADDING: usize = 64;

/// Low-pass filters and halves a picture (one MS-SSIM scale step).
pub(crate) fn lpf_decimate<R: Rows>(src: &R) -> Image {
    dispatch(LpfKernel { src })
}

struct LpfKernel<'r, R> {
    src: &'r R,
}

impl<R: Rows> WithSimd for LpfKernel<'_, R> {
    type Output = Image;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Image {
        let l = lanes::<S>();
        let (w, h) = (self.src.width(), self.src.height());
        let (sw, sh) = decimated_size(w, h, 2);
        let wp = round_up(w, l);
        let swp = round_up(sw, l);
        let f: [S::f32s; 5] = std::array::from_fn(|k| simd.splat_f32s(LPF[k]));

        // Output rows are made PASS at a time: rows y .. y + PASS filter source rows
        // 2y − 4 ..= 2y + 2·PASS + 2 (mirrored), so each vector of those SRC rows is loaded once
        // for all of them. Source rows are cached by row index; the rows of one pass are
        // consecutive before mirroring, so SLOTS ≥ SRC never evicts a row still in use.
        const PASS: usize = 4;
        const SRC: usize = 2 * PASS + 7;
        const SLOTS: usize = 16;
        const { assert!(SLOTS >= SRC) };
        let mut cache = Scratch::zeroed(SLOTS * wp);
        let mut tag = [usize::MAX; SLOTS];
        // The vertically filtered rows of a pass, then the even and odd samples of one after
        // mirroring:
        // even[j] = v[2j − 4], odd[j] = v[2j − 3].
        let mut vrows: [Scratch; PASS] = std::array::from_fn(|_| Scratch::zeroed(wp));
        let mut even = Scratch::zeroed(swp + 4 + l);
        let mut odd = Scratch::zeroed(swp + 4 + l);
        // The output, padded so that whole vectors can be stored at the end of every row (each
        // row's overspill is overwritten by the next row) and so that the next kernels can read
        // whole vectors and windows in place past the end of any row.
        let mut data = Scratch::zeroed(sw * sh + IMAGE_PADDING);

        for y in (0..sh).step_by(PASS) {
            let rows_here = PASS.min(sh - y);
            let src_rows: [usize; SRC] =
                std::array::from_fn(|k| mirror(2 * y as isize - 4 + k as isize, h));
            let in_place = src_rows
                .iter()
                .all(|&r| self.src.slice(r).is_some_and(|row| row.len() >= wp));
            if !in_place {
                for &r in &src_rows {
                    let slot = r % SLOTS;
                    if tag[slot] != r {
                        tag[slot] = r;
                        self.src.fill(r, 0, &mut cache[slot * wp..slot * wp + w]);
                    }
                }
            }
            // Vertical 9-tap filter at these kept rows, all columns.
            let c: [&[f32]; SRC] = std::array::from_fn(|k| {
                if in_place {
                    if let Some(row) = self.src.slice(src_rows[k]) {
                        return &row[..wp];
                    }
                }
                let slot = src_rows[k] % SLOTS;
                &cache[slot * wp..(slot + 1) * wp]
            });
            let mut x = 0;
            while x < wp {
                let r: [S::f32s; SRC] = std::array::from_fn(|k| load::<S>(c[k], x));
                for (i, vrow) in vrows.iter_mut().enumerate() {
                    let o = 2 * i;
                    let mut a = simd.mul_f32s(f[4], r[o + 4]);
                    for k in 0..4 {
                        a = simd.mul_add_e_f32s(simd.add_f32s(r[o + k], r[o + 8 - k]), f[k], a);
                    }
                    store::<S>(vrow, x, a);
                }
                x += l;
            }
            for (i, vrow) in vrows.iter().enumerate().take(rows_here) {
                // Split even and odd samples; only the row ends need mirroring.
                let np = w / 2;
                for ((e, o), p) in even[2..2 + np]
                    .iter_mut()
                    .zip(odd[2..2 + np].iter_mut())
                    .zip(vrow[..2 * np].chunks_exact(2))
                {
                    *e = p[0];
                    *o = p[1];
                }
                let at = |i: isize| -> f32 {
                    if i >= -(w as isize) && i < 2 * w as isize {
                        vrow[mirror(i, w)]
                    } else {
                        0.0
                    }
                };
                for j in (0..2).chain(2 + np..swp + 4) {
                    even[j] = at(2 * j as isize - 4);
                    odd[j] = at(2 * j as isize - 3);
                }
                // Horizontal 9-tap filter at the kept (even) columns, stored in place.
                let row = y + i;
                let out_row = &mut data[row * sw..row * sw + swp];
                let mut x = 0;
                while x < swp {
                    let mut acc = simd.mul_f32s(f[4], load::<S>(&even, x + 2));
                    let p0 = simd.add_f32s(load::<S>(&even, x), load::<S>(&even, x + 4));
                    acc = simd.mul_add_e_f32s(p0, f[0], acc);
                    let p1 = simd.add_f32s(load::<S>(&odd, x), load::<S>(&odd, x + 3));
                    acc = simd.mul_add_e_f32s(p1, f[1], acc);
                    let p2 = simd.add_f32s(load::<S>(&even, x + 1), load::<S>(&even, x + 3));
                    acc = simd.mul_add_e_f32s(p2, f[2], acc);
                    let p3 = simd.add_f32s(load::<S>(&odd, x + 1), load::<S>(&odd, x + 2));
                    acc = simd.mul_add_e_f32s(p3, f[3], acc);
                    store::<S>(out_row, x, acc);
                    x += l;
                }
            }
        }
        Image { w: sw, h: sh, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_rule_matches_libvmaf() {
        assert!(check_ms_ssim_size(176, 176).is_ok());
        assert!(check_ms_ssim_size(1920, 1080).is_ok());
        // 175 / 16 = 10 < 11 although a ceil chain would give 11: libvmaf refuses it.
        let e = check_ms_ssim_size(175, 400).unwrap_err();
        assert_eq!(
            e,
            MetricError::TooSmall {
                metric: "MS-SSIM",
                width: 175,
                height: 400,
                min_width: 176,
                min_height: 176
            }
        );
        assert_eq!(
            e.to_string(),
            "MS-SSIM needs a plane of at least 176x176, got 175x400"
        );
    }

    #[test]
    fn too_small_frames_are_refused_by_the_public_api() {
        let a = vec![0u8; 160 * 200];
        let p = Plane::new(&a, 160, 200, 160).unwrap();
        assert!(matches!(
            ms_ssim_plane(&p, &p, 8),
            Err(MetricError::TooSmall {
                width: 160,
                height: 200,
                min_width: 176,
                ..
            })
        ));
    }

    fn check_against_reference(w: usize, h: usize, bit_depth: u8, noise: u32) {
        use crate::reference::ms_ssim_plane_reference;
        use crate::testutil::{pair, pair8};
        let (fast, slow) = if bit_depth == 8 {
            let (a, b) = pair8(w, h, noise, w as u32);
            let (a, b) = (a.view().unwrap(), b.view().unwrap());
            (
                ms_ssim_plane(a.luma(), b.luma(), 8).unwrap(),
                ms_ssim_plane_reference(a.luma(), b.luma(), 8),
            )
        } else {
            let (a, b) = pair(w, h, bit_depth, noise, w as u32);
            let (a, b) = (a.view().unwrap(), b.view().unwrap());
            (
                ms_ssim_plane(a.luma(), b.luma(), bit_depth).unwrap(),
                ms_ssim_plane_reference(a.luma(), b.luma(), bit_depth),
            )
        };
        eprintln!(
            "ms-ssim {w}x{h} {bit_depth}-bit noise {noise}: fast {fast} reference {slow} diff {:e}",
            fast - slow
        );
        assert!(
            (fast - slow).abs() < 2e-6,
            "{w}x{h} {bit_depth}-bit: fast {fast} vs reference {slow}"
        );
    }

    #[test]
    fn fast_ms_ssim_agrees_with_the_scalar_reference() {
        check_against_reference(176, 176, 8, 6);
        check_against_reference(353, 289, 8, 3);
        check_against_reference(400, 300, 10, 12);
        check_against_reference(250, 190, 8, 40);
    }

    #[test]
    fn identical_planes_score_one() {
        let (a, _) = crate::testutil::pair8(300, 200, 5, 1);
        let v = a.view().unwrap();
        assert_eq!(ms_ssim(&v, &v).unwrap(), 1.0);
    }
}
