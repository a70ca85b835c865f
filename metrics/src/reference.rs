//! Plain scalar reference versions of the SSIM and MS-SSIM kernels: straightforward loops that
//! follow libvmaf 2.3.1's algorithm step by step, including where it keeps values in `f32` and
//! where it sums in `f64`, with its 2-D decimation filters. Slow; tests use them to check the fast
//! kernels and to tie both to libvmaf. The PSNR reference is [`crate::psnr::plane_sse_scalar`].

use crate::frame::{Plane, Sample};
use crate::msssim::{combine, lpf_2d};
use crate::ssim::{c1, c2, decimated_size, mirror, ssim_scale, GAUSS};

/// A plane as libvmaf's floats: samples divided by 2^(b−8).
fn to_float<T: Sample>(plane: &Plane<'_, T>, bit_depth: u8) -> Vec<f32> {
    let div = (1u32 << (bit_depth - 8)) as f32;
    plane
        .rows()
        .flat_map(|r| r.iter().map(move |v| v.to_f32() / div))
        .collect()
}

/// One output of a `k`×`k` 2-D filter centred at (x, y) with mirrored borders (`f32` products,
/// `f64` sum, as libvmaf's `_iqa_filter_pixel`).
fn filter_pixel(
    img: &[f32],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    kernel: &[f32],
    k: usize,
) -> f32 {
    let c = (k / 2) as isize;
    let even = (k % 2 == 0) as isize;
    let mut sum = 0f64;
    let mut ki = 0;
    for v in -c..=c - even {
        for u in -c..=c - even {
            let sx = mirror(x as isize + u, w);
            let sy = mirror(y as isize + v, h);
            sum += (img[sy * w + sx] * kernel[ki]) as f64;
            ki += 1;
        }
    }
    sum as f32
}

/// Keeps every `factor`-th sample after filtering with `kernel` (`k`×`k`).
fn decimate(
    img: &[f32],
    w: usize,
    h: usize,
    factor: usize,
    kernel: &[f32],
    k: usize,
) -> (Vec<f32>, usize, usize) {
    let (sw, sh) = decimated_size(w, h, factor);
    let mut out = Vec::with_capacity(sw * sh);
    for y in 0..sh {
        for x in 0..sw {
            out.push(filter_pixel(img, w, h, x * factor, y * factor, kernel, k));
        }
    }
    (out, sw, sh)
}

/// The 11×11 Gaussian applied separably where it fits entirely (`f32` products, `f64` sums,
/// `f32` storage between the passes).
fn convolve_valid(img: &[f32], w: usize, h: usize) -> Vec<f32> {
    let (dw, dh) = (w - 10, h - 10);
    let mut tmp = vec![0f32; dw * h];
    for y in 0..h {
        for x in 0..dw {
            let mut sum = 0f64;
            for (k, g) in GAUSS.iter().enumerate() {
                sum += (img[y * w + x + k] * g) as f64;
            }
            tmp[y * dw + x] = sum as f32;
        }
    }
    let mut out = vec![0f32; dw * dh];
    for y in 0..dh {
        for x in 0..dw {
            let mut sum = 0f64;
            for (k, g) in GAUSS.iter().enumerate() {
                sum += (tmp[(y + k) * dw + x] * g) as f64;
            }
            out[y * dw + x] = sum as f32;
        }
    }
    out
}

/// Mean SSIM, luminance, contrast and structure over all windows (libvmaf's `_iqa_ssim`).
fn ssim_terms(a: &[f32], b: &[f32], w: usize, h: usize) -> [f32; 4] {
    let (c1, c2) = (c1(), c2());
    let c3 = c2 / 2.0;
    let mu_a = convolve_valid(a, w, h);
    let mu_b = convolve_valid(b, w, h);
    let aa: Vec<f32> = a.iter().map(|v| v * v).collect();
    let bb: Vec<f32> = b.iter().map(|v| v * v).collect();
    let ab: Vec<f32> = a.iter().zip(b).map(|(x, y)| x * y).collect();
    let (saa, sbb, sab) = (
        convolve_valid(&aa, w, h),
        convolve_valid(&bb, w, h),
        convolve_valid(&ab, w, h),
    );
    let (mut sum, mut ls, mut cs, mut ss) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..mu_a.len() {
        let (m1, m2) = (mu_a[i], mu_b[i]);
        let s11 = (saa[i] - m1 * m1).max(0.0);
        let s22 = (sbb[i] - m2 * m2).max(0.0);
        let s12 = sab[i] - m1 * m2;
        let srs = ((s11 * s22) as f64).sqrt() as f32;
        let l = (2.0 * m1 as f64 * m2 as f64 + c1 as f64) / ((m1 * m1 + m2 * m2 + c1) as f64);
        let c = (2.0 * srs as f64 + c2 as f64) / ((s11 + s22 + c2) as f64);
        let s12 = if s12 < 0.0 && srs <= 0.0 { 0.0 } else { s12 };
        let s = ((s12 + c3) / (srs + c3)) as f64;
        sum += l * c * s;
        ls += l;
        cs += c;
        ss += s;
    }
    let n = mu_a.len() as f64;
    [
        (sum / n) as f32,
        (ls / n) as f32,
        (cs / n) as f32,
        (ss / n) as f32,
    ]
}

/// Scalar SSIM of one plane, step by step as libvmaf's `float_ssim`.
pub fn ssim_plane_reference<T: Sample>(a: &Plane<'_, T>, b: &Plane<'_, T>, bit_depth: u8) -> f64 {
    let (mut w, mut h) = (a.width(), a.height());
    let mut fa = to_float(a, bit_depth);
    let mut fb = to_float(b, bit_depth);
    let f = ssim_scale(w, h);
    if f > 1 {
        let k = vec![1.0 / (f * f) as f32; f * f];
        let (da, sw, sh) = decimate(&fa, w, h, f, &k, f);
        let (db, _, _) = decimate(&fb, w, h, f, &k, f);
        (fa, fb, w, h) = (da, db, sw, sh);
    }
    ssim_terms(&fa, &fb, w, h)[0] as f64
}

/// Scalar MS-SSIM of one plane, step by step as libvmaf's `float_ms_ssim`.
pub fn ms_ssim_plane_reference<T: Sample>(
    a: &Plane<'_, T>,
    b: &Plane<'_, T>,
    bit_depth: u8,
) -> f64 {
    let (mut w, mut h) = (a.width(), a.height());
    let mut fa = to_float(a, bit_depth);
    let mut fb = to_float(b, bit_depth);
    let kernel = lpf_2d();
    let mut lcs = [[0f32; 3]; 5];
    for (j, item) in lcs.iter_mut().enumerate() {
        let t = ssim_terms(&fa, &fb, w, h);
        *item = [t[1], t[2], t[3]];
        if j < 4 {
            let (da, sw, sh) = decimate(&fa, w, h, 2, &kernel, 9);
            let (db, _, _) = decimate(&fb, w, h, 2, &kernel, 9);
            (fa, fb, w, h) = (da, db, sw, sh);
        }
    }
    combine(&lcs)
}

/// The separable 9-tap filter, for tests comparing it with the 2-D table.
#[cfg(test)]
pub(crate) fn lpf_outer(i: usize, j: usize) -> f32 {
    crate::msssim::LPF[i] * crate::msssim::LPF[j]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lpf_table_is_the_rounded_outer_product() {
        let t = lpf_2d();
        for i in 0..9 {
            for j in 0..9 {
                assert!((t[i * 9 + j] - lpf_outer(i, j)).abs() < 7e-7, "({i},{j})");
            }
        }
        assert!((crate::msssim::lpf_2d_sum() - 1.000005).abs() < 1e-6);
    }
}
