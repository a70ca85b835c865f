//! Criterion benches of the metric kernels at 1080p, 8-bit 4:2:0, one thread. Throughput is in
//! frames, so criterion's "elem/s" reads as frames per second.

use criterion::{criterion_group, criterion_main};

mod adm;
mod common;
mod motion;
mod msssim;
mod psnr;
mod ssim;
mod ssimulacra2;
mod vif;
mod xpsnr;

criterion_group!(
    kernels,
    psnr::bench,
    ssim::bench,
    msssim::bench,
    adm::bench,
    motion::bench,
    xpsnr::bench,
    ssimulacra2::bench,
    vif::bench
);
criterion_main!(kernels);
