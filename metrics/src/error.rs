//! The error type shared by the native metric kernels (PSNR, SSIM, MS-SSIM, XPSNR).

use crate::frame::{ChromaSampling, FrameView, Sample};
use thiserror::Error;

/// Why a reference/distorted pair cannot be scored.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricError {
    /// Reference and distorted planes differ in size.
    #[error(
        "plane {plane}: reference is {ref_width}x{ref_height}, distorted is {dist_width}x{dist_height}"
    )]
    SizeMismatch {
        /// Plane index (0 = Y, 1 = Cb, 2 = Cr).
        plane: usize,
        /// Reference plane width.
        ref_width: usize,
        /// Reference plane height.
        ref_height: usize,
        /// Distorted plane width.
        dist_width: usize,
        /// Distorted plane height.
        dist_height: usize,
    },
    /// Reference and distorted pictures use different bit depths.
    #[error("reference has bit depth {reference}, distorted has {distorted}")]
    BitDepthMismatch {
        /// Reference bit depth.
        reference: u8,
        /// Distorted bit depth.
        distorted: u8,
    },
    /// Reference and distorted pictures use different chroma subsampling.
    #[error("reference chroma sampling is {reference:?}, distorted is {distorted:?}")]
    SamplingMismatch {
        /// Reference sampling.
        reference: ChromaSampling,
        /// Distorted sampling.
        distorted: ChromaSampling,
    },
    /// A bit depth outside 8..=16 was passed for a plane.
    #[error("bit depth {0} is outside 8..=16 or does not fit the sample type")]
    BitDepth(u8),
    /// The plane is smaller than the metric's window needs.
    #[error("{metric} needs a plane of at least {min_width}x{min_height}, got {width}x{height}")]
    TooSmall {
        /// The metric ("SSIM", "MS-SSIM").
        metric: &'static str,
        /// Plane width.
        width: usize,
        /// Plane height.
        height: usize,
        /// Smallest accepted width.
        min_width: usize,
        /// Smallest accepted height.
        min_height: usize,
    },
    /// A frame pair fed to a stateful scorer (XPSNR) differs in format from the stream it was
    /// set up for.
    #[error(
        "frame is {got_width}x{got_height} {got_bit_depth}-bit {got_sampling:?}, the scorer was set up for {width}x{height} {bit_depth}-bit {sampling:?}"
    )]
    FormatChanged {
        /// Luma width the scorer was set up for.
        width: usize,
        /// Luma height the scorer was set up for.
        height: usize,
        /// Bit depth the scorer was set up for.
        bit_depth: u8,
        /// Chroma sampling the scorer was set up for.
        sampling: ChromaSampling,
        /// Luma width of the frame.
        got_width: usize,
        /// Luma height of the frame.
        got_height: usize,
        /// Bit depth of the frame.
        got_bit_depth: u8,
        /// Chroma sampling of the frame.
        got_sampling: ChromaSampling,
    },
}

/// Checks that two planes have the same size.
pub(crate) fn check_same_size(
    plane: usize,
    r: (usize, usize),
    d: (usize, usize),
) -> Result<(), MetricError> {
    if r != d {
        return Err(MetricError::SizeMismatch {
            plane,
            ref_width: r.0,
            ref_height: r.1,
            dist_width: d.0,
            dist_height: d.1,
        });
    }
    Ok(())
}

/// Checks a bit depth for samples of `bytes` bytes.
pub(crate) fn check_bit_depth(bit_depth: u8, bytes: usize) -> Result<(), MetricError> {
    let ok = match bytes {
        1 => bit_depth == 8,
        _ => (9..=16).contains(&bit_depth),
    };
    if ok {
        Ok(())
    } else {
        Err(MetricError::BitDepth(bit_depth))
    }
}

/// Checks that two frames can be compared: same bit depth, sampling and plane sizes.
pub(crate) fn check_frames<T: Sample>(
    reference: &FrameView<'_, T>,
    distorted: &FrameView<'_, T>,
) -> Result<(), MetricError> {
    if reference.bit_depth() != distorted.bit_depth() {
        return Err(MetricError::BitDepthMismatch {
            reference: reference.bit_depth(),
            distorted: distorted.bit_depth(),
        });
    }
    if reference.sampling() != distorted.sampling() {
        return Err(MetricError::SamplingMismatch {
            reference: reference.sampling(),
            distorted: distorted.sampling(),
        });
    }
    for i in 0..3 {
        let (r, d) = (reference.plane(i), distorted.plane(i));
        check_same_size(i, (r.width(), r.height()), (d.width(), d.height()))?;
    }
    Ok(())
}
