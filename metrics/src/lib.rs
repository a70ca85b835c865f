//! Quality metrics for rdbench: PSNR, SSIM, MS-SSIM, XPSNR, SSIMULACRA2 and VMAF (native
//! kernels, libvmaf as oracle and fallback) over plane views of decoded frames, pooling of
//! per-frame scores, and rate-control accuracy. (BD-rate is the `rdbench-bdrate` crate, which
//! needs no libvmaf.)
//!
//! The math here never sees a codec library: kernels work on [`frame::FrameView`]s, and the glue
//! from decoded FFmpeg frames to views lives in the bench-suite crate, which knows both sides.
//! The libvmaf wrapper (`vmaf/ffi.rs`) is the only file with `unsafe` code.
//!
//! * [`psnr`](mod@psnr): per-plane MSE/PSNR with libvmaf's cap, CTC-weighted YUV PSNR, frame pooling.
//! * [`ssim`](mod@ssim), [`msssim`](mod@msssim): SSIM and MS-SSIM as libvmaf's `float_ssim` / `float_ms_ssim` compute
//!   them (same downscaling, filters and borders), fast SIMD kernels with scalar references in
//!   [`reference`](mod@reference).
//! * [`xpsnr`](mod@xpsnr): XPSNR (perceptually weighted PSNR) as FFmpeg's `xpsnr` filter computes
//!   it, a stateful scorer fed frame pairs in order, with the filter's sequence pooling.
//! * [`ssimulacra2`](mod@ssimulacra2): SSIMULACRA2 (libjxl's metric, as the `ssimulacra2` crate
//!   computes it for video) from Y'CbCr frames, with a scorer that reuses its buffers across frames.
//! * [`pool`](mod@pool): mean, libvmaf's harmonic mean, minimum, low percentiles, standard deviation.
//! * [`vmaf`](mod@vmaf): streaming VMAF. The models' features are computed by rdbench's own integer
//!   kernels, each equal to libvmaf 2.3.1's to the last bit (`vmaf::vif`, `vmaf::adm`,
//!   `vmaf::motion`) and the scores predicted from libvmaf's model files (`vmaf::model`); the
//!   vendored libvmaf is the oracle in tests and the path for everything else (`vmaf::ffi`).
//! * [`y4m`](mod@y4m): the one Y4M reader and writer (sources, generated sequences, test media);
//!   [`fps`](mod@fps): exact frame rates.
//! * [`ratecontrol`](mod@ratecontrol): bitrate error, peak bitrate and VBV compliance of a packet trace.

#![deny(unsafe_code)]

pub mod error;
pub mod fps;
pub mod frame;
pub mod msssim;
pub mod pool;
pub mod psnr;
pub mod ratecontrol;
#[doc(hidden)]
pub mod reference;
mod simd;
pub mod ssim;
pub mod ssimulacra2;
pub mod vmaf;
pub mod xpsnr;
pub mod y4m;

/// The scorer's revision, part of the key under which the bench harness caches scores. Raise it
/// whenever a change can move any score, so that no run reuses scores computed the old way.
pub const SCORER_REVISION: u32 = 3;

/// The scorer as a run manifest records it: its revision and how VMAF is computed.
pub fn scorer_description() -> String {
    format!(
        "rdbench scorer revision {SCORER_REVISION}: VMAF by native VIF, ADM, motion and model \
         kernels where they equal libvmaf {} (8/10/12-bit, width a multiple of 16), libvmaf \
         elsewhere and for other libvmaf features",
        vmaf::libvmaf_version()
    )
}

pub use error::MetricError;
pub use fps::Fps;
pub use frame::{ChromaSampling, FrameError, FrameView, OwnedFrame, Plane, Sample};
pub use msssim::{ms_ssim, ms_ssim_plane, ms_ssim_planes, MS_SSIM_MIN_SIZE};
pub use pool::Pooled;
pub use psnr::{pool_psnr, psnr, PsnrFrame, PsnrSummary, YUV_WEIGHTS_14_1_1, YUV_WEIGHTS_6_1_1};
pub use ssim::{ssim, ssim_plane, ssim_planes};
pub use ssimulacra2::{ssimulacra2, ColourSpace, Ssimulacra2, YuvMatrix, SSIMULACRA2_MIN_SIZE};
pub use vmaf::{VmafConfig, VmafError, VmafModelVersion, VmafResult, VmafScorer};
pub use xpsnr::{pool_xpsnr, Xpsnr, XpsnrFrame, XpsnrSummary};
pub use y4m::{Y4mError, Y4mFrame, Y4mHeader, Y4mReader, Y4mWriter};
#[cfg(test)]
mod testutil;
