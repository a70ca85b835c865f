//! Integration tests of rdbench-metrics: against independent implementations (libvmaf's own
//! `vmaf` tool for PSNR, SSIM, MS-SSIM and VMAF, FFmpeg's `psnr` filter, FFmpeg 9's `xpsnr`
//! filter through committed goldens) on clips generated at test time, and rate control on known
//! traces.

mod support;

mod model;
mod motion;
mod msssim;
mod psnr;
mod ratecontrol;
mod ssim;
mod ssimulacra2;
mod vmaf;
mod xpsnr;
mod y4m;
