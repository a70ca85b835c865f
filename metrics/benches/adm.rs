//! Bench group: adm_1080p_8bit (frames per second, one thread): rdbench's ADM kernel, and
//! libvmaf's own integer ADM extractor on the same pair (through the VMAF scorer with the `adm`
//! feature alone and no model, its extractor running on the calling thread).

use criterion::{Criterion, Throughput};
use rdbench_metrics::vmaf::adm::Adm;
use rdbench_metrics::{VmafConfig, VmafScorer};
use std::hint::black_box;
use std::time::Instant;

pub fn bench(c: &mut Criterion) {
    let (a, b) = crate::common::pair_1080p();
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    let mut g = c.benchmark_group("adm_1080p_8bit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rdbench", |bench| {
        let mut adm = Adm::default();
        bench.iter(|| black_box(adm.scores(va.luma(), vb.luma())))
    });
    g.bench_function("libvmaf", |bench| {
        bench.iter_custom(|iters| {
            let mut s = VmafScorer::new(VmafConfig {
                models: vec![],
                features: vec!["adm".into()],
                ..Default::default()
            })
            .unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                s.push(&va, &vb).unwrap();
            }
            black_box(s.finish().unwrap());
            start.elapsed()
        })
    });
    g.finish();
}
