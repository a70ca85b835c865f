//! Bench group: ssim_1080p_8bit (frames per second, one thread).

use criterion::{Criterion, Throughput};
use std::hint::black_box;

pub fn bench(c: &mut Criterion) {
    let (a, b) = crate::common::pair_1080p();
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    let mut g = c.benchmark_group("ssim_1080p_8bit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rdbench", |bench| {
        bench.iter(|| black_box(rdbench_metrics::ssim(&va, &vb).unwrap()))
    });
    g.finish();
}
