//! Integration tests of rdbench-metrics against independent implementations: libvmaf's own `vmaf`
//! tool (PSNR, SSIM, MS-SSIM, VMAF) and FFmpeg's `psnr` filter, on clips generated at test time.

mod support;

mod msssim;
mod psnr;
mod ssim;
mod vmaf;
mod y4m;
