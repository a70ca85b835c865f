//! Quality metrics for rdbench: PSNR, SSIM, MS-SSIM and VMAF (through libvmaf) over plane views of
//! decoded frames, pooling of per-frame scores, BD-rate and BD-quality, and rate-control accuracy.
//!
//! The math here never sees a codec library: kernels work on [`frame::FrameView`]s, and the glue
//! from decoded FFmpeg frames to views lives in the bench-suite crate, which knows both sides.
//! The libvmaf wrapper (`vmaf`) is the only module with `unsafe` code.

#![deny(unsafe_code)]

pub mod frame;
pub mod bdrate;
pub mod csv;
pub mod ratecontrol;
