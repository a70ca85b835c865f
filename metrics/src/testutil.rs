//! Synthetic test pictures for the unit tests: smooth gradients with texture, a flat area and
//! deterministic noise, so every branch of the SSIM formula (flat windows, clamped variances) runs.

use crate::frame::{ChromaSampling, OwnedFrame};

/// A deterministic linear congruential generator.
pub(crate) struct Lcg(pub(crate) u32);

impl Lcg {
    pub(crate) fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1664525).wrapping_add(1013904223);
        self.0 >> 8
    }
}

/// A reference picture and a distorted copy (`noise` = amplitude of the added noise in 8-bit
/// units), at `bit_depth` bits.
pub(crate) fn pair(
    w: usize,
    h: usize,
    bit_depth: u8,
    noise: u32,
    seed: u32,
) -> (OwnedFrame<u16>, OwnedFrame<u16>) {
    let max = (1u32 << bit_depth) - 1;
    let up = 1u32 << (bit_depth - 8);
    let mut rng = Lcg(seed);
    let mut a = OwnedFrame::<u16>::new(w, h, bit_depth, ChromaSampling::Cs444);
    let mut b = a.clone();
    for p in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let flat = x < w / 5 && y < h / 4;
                let v8 = if flat {
                    235.0
                } else {
                    128.0
                        + 60.0 * ((x as f32 * 0.07 + p as f32).sin() * (y as f32 * 0.05).cos())
                        + 30.0 * (((x * 7 + y * 3) % 17) as f32 / 17.0 - 0.5)
                };
                let v = ((v8 * up as f32) as u32 + rng.next() % up).min(max);
                let n = if flat {
                    0
                } else {
                    (rng.next() % (2 * noise * up + 1)) as i64 - (noise * up) as i64
                };
                a.planes[p][y * w + x] = v as u16;
                b.planes[p][y * w + x] = (v as i64 + n).clamp(0, max as i64) as u16;
            }
        }
    }
    (a, b)
}

/// The same pair with 8-bit samples.
pub(crate) fn pair8(w: usize, h: usize, noise: u32, seed: u32) -> (OwnedFrame<u8>, OwnedFrame<u8>) {
    let (a, b) = pair(w, h, 8, noise, seed);
    (to_8bit(&a), to_8bit(&b))
}

/// An 8-bit picture held in 16-bit words, in 8-bit words.
pub(crate) fn to_8bit(f: &OwnedFrame<u16>) -> OwnedFrame<u8> {
    OwnedFrame::<u8> {
        planes: std::array::from_fn(|i| f.planes[i].iter().map(|&v| v as u8).collect()),
        width: f.width,
        height: f.height,
        strides: f.strides,
        bit_depth: 8,
        sampling: f.sampling,
    }
}
