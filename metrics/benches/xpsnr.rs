//! Bench group: xpsnr_1080p_420_8bit (frames per second, one thread): the fast kernel, and the
//! scalar reference (FFmpeg's loops transcribed) for scale. Each iteration feeds the same pair to
//! one stateful scorer, as a stream of identical frames.

use criterion::{Criterion, Throughput};
use rdbench_metrics::{Fps, Xpsnr};
use std::hint::black_box;

pub fn bench(c: &mut Criterion) {
    let (a, b) = crate::common::pair_1080p();
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    let fps = Fps::new(25, 1).unwrap();
    let mut g = c.benchmark_group("xpsnr_1080p_420_8bit");
    g.throughput(Throughput::Elements(1));
    let mut x = Xpsnr::for_frame(&va, fps).unwrap();
    g.bench_function("rdbench", |bench| {
        bench.iter(|| black_box(x.push(&va, &vb).unwrap()))
    });
    let mut x = Xpsnr::for_frame(&va, fps).unwrap();
    g.sample_size(10);
    g.bench_function("scalar_reference", |bench| {
        bench.iter(|| black_box(x.push_reference(&va, &vb).unwrap()))
    });
    g.finish();
}
