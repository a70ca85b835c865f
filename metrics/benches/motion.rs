//! Bench group: motion_1080p (frames per second, one thread): rdbench's motion per frame (blur of
//! the reference and SAD against the previous blurred frame), its two parts apart, 8- and 10-bit,
//! and libvmaf's `motion` extractor on the same frames as the anchor.

use criterion::{Criterion, Throughput};
use rdbench_metrics::vmaf::motion::{blur, blur_into, motion_between, Blurred, Luma};
use rdbench_metrics::{OwnedFrame, VmafConfig, VmafScorer};
use std::hint::black_box;

/// The same frame with 10-bit samples.
fn to10(f: &OwnedFrame<u8>) -> OwnedFrame<u16> {
    OwnedFrame {
        planes: std::array::from_fn(|i| f.planes[i].iter().map(|&v| (v as u16) << 2).collect()),
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
    let mut g = c.benchmark_group("motion_1080p");
    g.throughput(Throughput::Elements(1));
    for (bits, la, lb) in [
        (8, Luma::Bits8(*va.luma()), Luma::Bits8(*vb.luma())),
        (
            10,
            Luma::High(*va10.luma(), 10),
            Luma::High(*vb10.luma(), 10),
        ),
    ] {
        let prev = blur(&lb);
        let mut cur = Blurred::default();
        g.bench_function(format!("rdbench_{bits}bit"), |bench| {
            bench.iter(|| {
                blur_into(&la, &mut cur);
                black_box(motion_between(&prev, &cur))
            })
        });
        g.bench_function(format!("rdbench_{bits}bit_blur"), |bench| {
            bench.iter(|| blur_into(&la, black_box(&mut cur)))
        });
        g.bench_function(format!("rdbench_{bits}bit_sad"), |bench| {
            bench.iter(|| black_box(motion_between(&prev, &cur)))
        });
    }
    // libvmaf's extractor on its C code for the vertical pass and AVX2 for the horizontal one;
    // each iteration also copies the frame pair into libvmaf's pictures.
    let mut s = VmafScorer::new(VmafConfig {
        models: vec![],
        features: vec!["motion".into()],
        ..Default::default()
    })
    .unwrap();
    let mut odd = false;
    g.bench_function("libvmaf_8bit", |bench| {
        bench.iter(|| {
            let v = if odd { &vb } else { &va };
            odd = !odd;
            s.push(v, v).unwrap()
        })
    });
    g.finish();
}
