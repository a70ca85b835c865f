//! Synthetic 1080p frame pairs for the benches (deterministic texture plus noise).

use rdbench_metrics::{ChromaSampling, OwnedFrame};

/// A 1920x1080 8-bit 4:2:0 reference and a noisy copy.
pub fn pair_1080p() -> (OwnedFrame<u8>, OwnedFrame<u8>) {
    let (w, h) = (1920, 1080);
    let mut a = OwnedFrame::<u8>::new(w, h, 8, ChromaSampling::Cs420);
    let mut b = a.clone();
    let mut s = 1u32;
    for p in 0..3 {
        let (pw, ph) = a.plane_size(p);
        for y in 0..ph {
            for x in 0..pw {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                let v = 128.0
                    + 90.0 * ((x as f32 * 0.01).sin() * (y as f32 * 0.013).cos())
                    + ((x ^ y) & 31) as f32;
                let v = v.clamp(0.0, 255.0) as i32;
                let n = (s >> 28) as i32 - 8;
                a.planes[p][y * pw + x] = v as u8;
                b.planes[p][y * pw + x] = (v + n).clamp(0, 255) as u8;
            }
        }
    }
    (a, b)
}
