//! PSNR: per-plane sum of squared errors, MSE and PSNR, the CTC-weighted YUV PSNR, and pooling
//! over frames (mean of per-frame PSNR, and "global" PSNR of the mean MSE).
//!
//! Definitions follow libvmaf 2.3.1's `psnr` feature (its default options) so rdbench's numbers
//! equal the ones codec teams get from `vmaf --feature psnr`:
//!
//! * peak = 2^b − 1 for bit depth b (255, 1023, 4095, ...), i.e. no rescaling of high bit depth
//!   content to the 8-bit range;
//! * MSE = SSE / (plane width × plane height);
//! * PSNR = min(10·log10(peak² / max(MSE, 1e-16)), 6·b + 12): the cap is 60 dB at 8 bits, 72 dB at
//!   10 bits, 84 dB at 12 bits, and identical planes score exactly the cap.
//!
//! The weighted YUV PSNR is the weighted mean of the three per-plane PSNR values in dB, with the
//! weights 6:1:1 or 14:1:1 used by the AOM common test conditions.

use crate::error::{check_bit_depth, check_frames, check_same_size, MetricError};
use crate::frame::{FrameView, Plane, Sample};
use crate::simd::dispatch;
use pulp::{Simd, WithSimd};
use serde::Serialize;

/// YUV weights 6:1:1 (luma counts six times each chroma plane).
pub const YUV_WEIGHTS_6_1_1: [f64; 3] = [6.0, 1.0, 1.0];
/// YUV weights 14:1:1.
pub const YUV_WEIGHTS_14_1_1: [f64; 3] = [14.0, 1.0, 1.0];

/// The largest sample value at `bit_depth` bits: 2^b − 1.
pub fn peak(bit_depth: u8) -> f64 {
    ((1u32 << bit_depth) - 1) as f64
}

/// The PSNR cap at `bit_depth` bits: 6·b + 12 dB (libvmaf's default `psnr_max`).
pub fn psnr_cap(bit_depth: u8) -> f64 {
    (6 * bit_depth as u32 + 12) as f64
}

/// PSNR in dB of a mean squared error at `bit_depth` bits, capped at [`psnr_cap`].
pub fn mse_to_psnr(mse: f64, bit_depth: u8) -> f64 {
    let p = (1u64 << bit_depth) - 1;
    let psnr = 10.0 * ((p * p) as f64 / mse.max(1e-16)).log10();
    psnr.min(psnr_cap(bit_depth))
}

/// Weighted mean of three per-plane values with `weights`.
pub fn weighted(values: [f64; 3], weights: [f64; 3]) -> f64 {
    let wsum: f64 = weights.iter().sum();
    (values[0] * weights[0] + values[1] * weights[1] + values[2] * weights[2]) / wsum
}

/// PSNR of one frame, per plane (Y, Cb, Cr).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PsnrFrame {
    /// Sum of squared differences per plane.
    pub sse: [u64; 3],
    /// Samples per plane.
    pub samples: [u64; 3],
    /// Mean squared error per plane.
    pub mse: [f64; 3],
    /// PSNR in dB per plane, capped at [`psnr_cap`].
    pub psnr: [f64; 3],
    /// Bit depth the PSNR is relative to.
    pub bit_depth: u8,
}

impl PsnrFrame {
    /// Builds the frame result from per-plane SSE and sample counts.
    pub fn from_sse(sse: [u64; 3], samples: [u64; 3], bit_depth: u8) -> Self {
        let mse = std::array::from_fn(|i| sse[i] as f64 / samples[i] as f64);
        let psnr = std::array::from_fn(|i| mse_to_psnr(mse[i], bit_depth));
        Self {
            sse,
            samples,
            mse,
            psnr,
            bit_depth,
        }
    }

    /// Weighted YUV PSNR: the weighted mean of the per-plane PSNR values.
    pub fn weighted(&self, weights: [f64; 3]) -> f64 {
        weighted(self.psnr, weights)
    }

    /// YUV PSNR with weights 6:1:1.
    pub fn yuv_6_1_1(&self) -> f64 {
        self.weighted(YUV_WEIGHTS_6_1_1)
    }

    /// YUV PSNR with weights 14:1:1.
    pub fn yuv_14_1_1(&self) -> f64 {
        self.weighted(YUV_WEIGHTS_14_1_1)
    }
}

/// PSNR of a sequence, pooled over frames.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PsnrSummary {
    /// Frames pooled.
    pub frames: usize,
    /// Mean over frames of the per-frame PSNR, per plane.
    pub mean_psnr: [f64; 3],
    /// Mean over frames of the per-frame 6:1:1 YUV PSNR.
    pub mean_yuv_6_1_1: f64,
    /// Mean over frames of the per-frame 14:1:1 YUV PSNR.
    pub mean_yuv_14_1_1: f64,
    /// Mean over frames of the per-frame MSE, per plane.
    pub mean_mse: [f64; 3],
    /// "Global" PSNR per plane: the PSNR of the mean MSE (capped like a frame's PSNR).
    pub global_psnr: [f64; 3],
    /// 6:1:1 weighting of the global per-plane PSNR values.
    pub global_yuv_6_1_1: f64,
    /// 14:1:1 weighting of the global per-plane PSNR values.
    pub global_yuv_14_1_1: f64,
}

/// Pools per-frame PSNR results; `None` for an empty series.
pub fn pool_psnr(frames: &[PsnrFrame]) -> Option<PsnrSummary> {
    let first = frames.first()?;
    let n = frames.len() as f64;
    let mean = |f: &dyn Fn(&PsnrFrame) -> f64| frames.iter().map(f).sum::<f64>() / n;
    let mean_psnr = std::array::from_fn(|i| mean(&|f| f.psnr[i]));
    let mean_mse: [f64; 3] = std::array::from_fn(|i| mean(&|f| f.mse[i]));
    let global_psnr = std::array::from_fn(|i| mse_to_psnr(mean_mse[i], first.bit_depth));
    Some(PsnrSummary {
        frames: frames.len(),
        mean_psnr,
        mean_yuv_6_1_1: mean(&|f| f.yuv_6_1_1()),
        mean_yuv_14_1_1: mean(&|f| f.yuv_14_1_1()),
        mean_mse,
        global_psnr,
        global_yuv_6_1_1: weighted(global_psnr, YUV_WEIGHTS_6_1_1),
        global_yuv_14_1_1: weighted(global_psnr, YUV_WEIGHTS_14_1_1),
    })
}

/// PSNR of all three planes of a frame pair.
pub fn psnr<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<PsnrFrame, MetricError> {
    check_frames(reference, distorted)?;
    let mut sse = [0u64; 3];
    let mut samples = [0u64; 3];
    for i in 0..3 {
        let (r, d) = (reference.plane(i), distorted.plane(i));
        sse[i] = plane_sse(r, d, reference.bit_depth())?;
        samples[i] = (r.width() * r.height()) as u64;
    }
    Ok(PsnrFrame::from_sse(sse, samples, reference.bit_depth()))
}

/// Sum of squared differences of two planes of `bit_depth`-bit samples (fast path).
pub fn plane_sse<T: Sample>(
    reference: &Plane<'_, T>,
    distorted: &Plane<'_, T>,
    bit_depth: u8,
) -> Result<u64, MetricError> {
    check_bit_depth(bit_depth, std::mem::size_of::<T>())?;
    check_same_size(
        0,
        (reference.width(), reference.height()),
        (distorted.width(), distorted.height()),
    )?;
    Ok(dispatch(SseKernel {
        a: reference,
        b: distorted,
        bit_depth,
    }))
}

/// Sum of squared differences, plain scalar reference of [`plane_sse`].
pub fn plane_sse_scalar<T: Sample>(reference: &Plane<'_, T>, distorted: &Plane<'_, T>) -> u64 {
    let mut sse = 0u64;
    for (ra, rb) in reference.rows().zip(distorted.rows()) {
        for (x, y) in ra.iter().zip(rb) {
            let e = x.to_u32() as i64 - y.to_u32() as i64;
            sse += (e * e) as u64;
        }
    }
    sse
}

struct SseKernel<'p, 'a, T: Sample> {
    a: &'p Plane<'a, T>,
    b: &'p Plane<'a, T>,
    bit_depth: u8,
}

impl<T: Sample> WithSimd for SseKernel<'_, '_, T> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> u64 {
        let max_sq = ((1u64 << self.bit_depth) - 1).pow(2);
        // Samples whose squared errors fit a u32 accumulator; 0 means accumulate in u64.
        let chunk = (u32::MAX as u64 / max_sq) as usize;
        let mut sse = 0u64;
        for (ra, rb) in self.a.rows().zip(self.b.rows()) {
            sse += if chunk >= 16 {
                row_sse_u32(ra, rb, chunk)
            } else {
                row_sse_u64(ra, rb)
            };
        }
        sse
    }
}

/// Row SSE accumulated in u32 over chunks of at most `chunk` samples (no overflow possible).
#[inline(always)]
fn row_sse_u32<T: Sample>(a: &[T], b: &[T], chunk: usize) -> u64 {
    let mut total = 0u64;
    for (ca, cb) in a.chunks(chunk).zip(b.chunks(chunk)) {
        let mut acc = 0u32;
        for (x, y) in ca.iter().zip(cb) {
            let e = x.to_u32() as i32 - y.to_u32() as i32;
            acc = acc.wrapping_add((e * e) as u32);
        }
        total += acc as u64;
    }
    total
}

/// Row SSE accumulated in u64 (bit depths above 12).
#[inline(always)]
fn row_sse_u64<T: Sample>(a: &[T], b: &[T]) -> u64 {
    let mut acc = 0u64;
    for (x, y) in a.iter().zip(b) {
        let e = x.to_u32() as i64 - y.to_u32() as i64;
        acc += (e * e) as u64;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{ChromaSampling, OwnedFrame};

    fn noisy_frame(w: usize, h: usize, seed: u32) -> OwnedFrame<u8> {
        let mut f = OwnedFrame::<u8>::new(w, h, 8, ChromaSampling::Cs420);
        let mut s = seed;
        for p in &mut f.planes {
            for v in p.iter_mut() {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                *v = (s >> 24) as u8;
            }
        }
        f
    }

    #[test]
    fn caps_and_peaks_match_libvmaf_defaults() {
        assert_eq!(psnr_cap(8), 60.0);
        assert_eq!(psnr_cap(10), 72.0);
        assert_eq!(peak(10), 1023.0);
        assert_eq!(mse_to_psnr(0.0, 8), 60.0);
        assert_eq!(mse_to_psnr(0.0, 10), 72.0);
        // 255^2 / 65.025 = 1000 -> exactly 30 dB.
        assert!((mse_to_psnr(65.025, 8) - 30.0).abs() < 1e-12);
    }

    #[test]
    fn identical_frames_score_the_cap() {
        let f = noisy_frame(64, 48, 7);
        let r = psnr(&f.view().unwrap(), &f.view().unwrap()).unwrap();
        assert_eq!(r.psnr, [60.0; 3]);
        assert_eq!(r.sse, [0; 3]);
        assert_eq!(r.yuv_6_1_1(), 60.0);
    }

    #[test]
    fn hand_computed_mse() {
        // Luma differs by 2 on every sample, chroma by 0 -> MSE_Y = 4.
        let a = OwnedFrame::<u8>::new(8, 4, 8, ChromaSampling::Cs420);
        let mut b = a.clone();
        b.planes[0].iter_mut().for_each(|v| *v = 2);
        let r = psnr(&a.view().unwrap(), &b.view().unwrap()).unwrap();
        assert_eq!(r.sse, [4 * 32, 0, 0]);
        assert_eq!(r.mse[0], 4.0);
        let expected = 10.0 * (65025.0f64 / 4.0).log10();
        assert_eq!(r.psnr[0], expected);
        assert_eq!(r.yuv_6_1_1(), (6.0 * expected + 120.0) / 8.0);
        assert_eq!(r.yuv_14_1_1(), (14.0 * expected + 120.0) / 16.0);
    }

    #[test]
    fn fast_sse_equals_scalar_for_all_depths() {
        for bd in [8u8, 10, 12, 16] {
            let (w, h, stride) = (1000, 7, 1013);
            let mut s = 12345u32 + bd as u32;
            let mut gen = || {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                s >> 8
            };
            let mask = (1u32 << bd) - 1;
            if bd == 8 {
                let a: Vec<u8> = (0..stride * h).map(|_| (gen() & 255) as u8).collect();
                let b: Vec<u8> = (0..stride * h).map(|_| (gen() & 255) as u8).collect();
                let (pa, pb) = (
                    Plane::new(&a, w, h, stride).unwrap(),
                    Plane::new(&b, w, h, stride).unwrap(),
                );
                assert_eq!(plane_sse(&pa, &pb, 8).unwrap(), plane_sse_scalar(&pa, &pb));
            } else {
                // Extreme values make u32 overflow visible if the chunking were wrong.
                let a: Vec<u16> = (0..stride * h)
                    .map(|i| {
                        if i % 3 == 0 {
                            mask as u16
                        } else {
                            (gen() & mask) as u16
                        }
                    })
                    .collect();
                let b: Vec<u16> = (0..stride * h)
                    .map(|i| if i % 3 == 0 { 0 } else { (gen() & mask) as u16 })
                    .collect();
                let (pa, pb) = (
                    Plane::new(&a, w, h, stride).unwrap(),
                    Plane::new(&b, w, h, stride).unwrap(),
                );
                assert_eq!(
                    plane_sse(&pa, &pb, bd).unwrap(),
                    plane_sse_scalar(&pa, &pb),
                    "bit depth {bd}"
                );
            }
        }
    }

    #[test]
    fn pooling_mean_and_global() {
        let f1 = PsnrFrame::from_sse([100, 0, 0], [100, 25, 25], 8); // MSE 1
        let f2 = PsnrFrame::from_sse([300, 0, 0], [100, 25, 25], 8); // MSE 3
        let s = pool_psnr(&[f1, f2]).unwrap();
        assert_eq!(s.mean_mse[0], 2.0);
        assert_eq!(s.global_psnr[0], mse_to_psnr(2.0, 8));
        assert_eq!(s.mean_psnr[0], (f1.psnr[0] + f2.psnr[0]) / 2.0);
        assert!(s.global_psnr[0] < s.mean_psnr[0]);
        assert_eq!(s.global_psnr[1], 60.0);
        assert!(pool_psnr(&[]).is_none());
    }

    #[test]
    fn mismatches_are_errors() {
        let a = OwnedFrame::<u8>::new(8, 4, 8, ChromaSampling::Cs420);
        let b = OwnedFrame::<u8>::new(8, 6, 8, ChromaSampling::Cs420);
        assert!(matches!(
            psnr(&a.view().unwrap(), &b.view().unwrap()),
            Err(MetricError::SizeMismatch {
                plane: 0,
                ref_height: 4,
                dist_height: 6,
                ..
            })
        ));
        let c = OwnedFrame::<u8>::new(8, 4, 8, ChromaSampling::Cs444);
        assert!(matches!(
            psnr(&a.view().unwrap(), &c.view().unwrap()),
            Err(MetricError::SamplingMismatch { .. })
        ));
    }
}
