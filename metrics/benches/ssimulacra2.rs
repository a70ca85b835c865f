//! Bench group: ssimulacra2_1080p_8bit (frames per second, one thread), one scorer reused from
//! frame to frame as a video would use it. The `ssimulacra2` crate's time on the same pair comes
//! from its oracle program (`metrics/tests/goldens/ssimulacra2/oracle`, `--bench`).

use criterion::{Criterion, Throughput};
use rdbench_metrics::Ssimulacra2;
use std::hint::black_box;

pub fn bench(c: &mut Criterion) {
    let (a, b) = crate::common::pair_1080p();
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    let mut scorer = Ssimulacra2::default();
    let mut g = c.benchmark_group("ssimulacra2_1080p_8bit");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("rdbench", |bench| {
        bench.iter(|| black_box(scorer.score(&va, &vb).unwrap()))
    });
    g.finish();
}
