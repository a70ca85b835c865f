//! Bench group: vif_1080p (frames per second, one thread): rdbench's integer VIF kernel (four
//! scales) on a 1920x1080 8-bit pair and on a 10-bit pair with detail in the two low bits, and
//! libvmaf's own integer VIF extractor on the 8-bit pair (through the VMAF scorer with the `vif`
//! feature alone and no model, its extractor running on the calling thread).
//!
//! Bench group: vif_1080p_shared_reference (pairs per second, one thread): eight distorted 8-bit
//! pictures against one reference, each pair alone and all eight as one group, which computes the
//! reference's share of the work once.
//!
//! The `*_cpu` functions time the same work by the calling thread's CPU time (Linux's
//! `/proc/thread-self/schedstat`) instead of wall time, for machines shared with other work;
//! elsewhere they fall back to wall time.

use criterion::{Criterion, Throughput};
use rdbench_metrics::vmaf::vif::Vif;
use rdbench_metrics::{OwnedFrame, Plane, VmafConfig, VmafScorer};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The calling thread's time on a CPU so far, if the system tells it.
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    (ns > 0).then(|| Duration::from_nanos(ns))
}

/// Runs `f` `iters` times and returns the thread CPU time it took (wall time without it).
fn cpu_timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let (cpu, wall) = (thread_cpu_time(), Instant::now());
    for _ in 0..iters {
        f();
    }
    match (cpu, thread_cpu_time()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed(),
    }
}

/// The same frame with 10-bit samples, its two new low bits filled with deterministic texture.
fn to10(f: &OwnedFrame<u8>) -> OwnedFrame<u16> {
    OwnedFrame {
        planes: std::array::from_fn(|i| {
            f.planes[i]
                .iter()
                .enumerate()
                .map(|(k, &v)| ((v as u16) << 2) | ((k * 7 + k / 1920) & 3) as u16)
                .collect()
        }),
        width: f.width,
        height: f.height,
        strides: f.strides,
        bit_depth: 10,
        sampling: f.sampling,
    }
}

pub fn bench(c: &mut Criterion) {
    let (a, b) = crate::common::pair_1080p();
    let (a10, b10) = (to10(&a), to10(&b));
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    let (va10, vb10) = (a10.view().unwrap(), b10.view().unwrap());
    let mut g = c.benchmark_group("vif_1080p");
    g.throughput(Throughput::Elements(1));
    let mut vif = Vif::default();
    g.bench_function("rdbench_8bit", |bench| {
        bench.iter(|| black_box(vif.scales(va.luma(), vb.luma())))
    });
    g.bench_function("rdbench_10bit", |bench| {
        bench.iter(|| black_box(vif.scales_hbd(va10.luma(), vb10.luma(), 10)))
    });
    g.bench_function("rdbench_8bit_cpu", |bench| {
        bench.iter_custom(|iters| {
            cpu_timed(iters, || {
                black_box(vif.scales(va.luma(), vb.luma()));
            })
        })
    });
    g.bench_function("rdbench_10bit_cpu", |bench| {
        bench.iter_custom(|iters| {
            cpu_timed(iters, || {
                black_box(vif.scales_hbd(va10.luma(), vb10.luma(), 10));
            })
        })
    });
    g.bench_function("libvmaf_8bit", |bench| {
        bench.iter_custom(|iters| {
            let mut s = VmafScorer::new(VmafConfig {
                models: vec![],
                features: vec!["vif".into()],
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

    // Eight distorted pictures: the noisy copy with eight different brightness offsets.
    let distorted: Vec<Vec<u8>> = (0..8u8)
        .map(|k| b.planes[0].iter().map(|&v| v.saturating_add(k)).collect())
        .collect();
    let (w, h) = (a.width, a.height);
    let planes: Vec<Plane<'_, u8>> = distorted
        .iter()
        .map(|d| Plane::new(d, w, h, w).unwrap())
        .collect();
    let mut g = c.benchmark_group("vif_1080p_shared_reference");
    g.throughput(Throughput::Elements(planes.len() as u64));
    g.bench_function("pairs_alone_8bit", |bench| {
        bench.iter_custom(|iters| {
            cpu_timed(iters, || {
                for d in &planes {
                    black_box(vif.scales(va.luma(), d));
                }
            })
        })
    });
    g.bench_function("group_8bit", |bench| {
        bench.iter_custom(|iters| {
            cpu_timed(iters, || {
                black_box(vif.scales_group(va.luma(), &planes));
            })
        })
    });
    g.finish();
}
