//! Procedural noise for natural-looking textures: 2-D gradient (Perlin-style) noise on a hashed
//! lattice, summed over octaves into fractional Brownian motion whose amplitude falls as 1/f
//! (the spectrum of natural images), band-limited so that no octave finer than the sampling
//! grid can alias.

/// Sixteen unit gradient directions, evenly spread.
// The rounded literals are part of the pinned recipe (`std::f32::consts::FRAC_1_SQRT_2` differs
// in the last bit and would change every rendered sequence), so clippy's suggestion is declined.
#[allow(clippy::approx_constant)]
const GRADS: [(f32, f32); 16] = {
    let mut g = [(0.0f32, 0.0f32); 16];
    // cos and sin of k * 22.5 degrees, written out because `const fn` has no trigonometry.
    let c = [
        1.0, 0.923_88, 0.707_107, 0.382_683, 0.0, -0.382_683, -0.707_107, -0.923_88, -1.0,
        -0.923_88, -0.707_107, -0.382_683, 0.0, 0.382_683, 0.707_107, 0.923_88,
    ];
    let mut k = 0;
    while k < 16 {
        g[k] = (c[k], c[(k + 12) % 16]);
        k += 1;
    }
    g
};

/// A cheap lattice hash: 64 well-mixed bits of a seed and two lattice coordinates.
#[inline]
fn lattice(seed: u64, ix: i32, iy: i32) -> u64 {
    let mut z = seed
        ^ (ix as u32 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (iy as u32 as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Quintic fade, zero first and second derivatives at 0 and 1.
#[inline]
fn fade(t: f32) -> f32 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// Gradient noise at (`x`, `y`) in lattice units: smooth, zero at lattice points, roughly in
/// -1..1 with a standard deviation near 0.3.
#[inline]
pub fn gradient(seed: u64, x: f32, y: f32) -> f32 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i32, fy as i32);
    let (tx, ty) = (x - fx, y - fy);
    let dot = |cx: i32, cy: i32, dx: f32, dy: f32| {
        let (gx, gy) = GRADS[(lattice(seed, ix + cx, iy + cy) >> 60) as usize];
        gx * dx + gy * dy
    };
    let n00 = dot(0, 0, tx, ty);
    let n10 = dot(1, 0, tx - 1.0, ty);
    let n01 = dot(0, 1, tx, ty - 1.0);
    let n11 = dot(1, 1, tx - 1.0, ty - 1.0);
    let (u, v) = (fade(tx), fade(ty));
    let a = n00 + (n10 - n00) * u;
    let b = n01 + (n11 - n01) * u;
    (a + (b - a) * v) * 1.4
}

/// Fractional Brownian motion: octaves of [`gradient`] noise from `base` cycles per unit of
/// (`x`, `y`), each octave `lacunarity` times finer and `gain` times weaker (0.5 with
/// lacunarity 2 gives the 1/f amplitude spectrum of natural images). Octaves above
/// `nyquist` cycles per unit fade out so the result can be sampled at that rate without
/// aliasing. Each octave is rotated and offset so the lattices do not line up.
#[derive(Clone, Copy, Debug)]
pub struct Fbm {
    /// Seed of the first octave.
    pub seed: u64,
    /// Frequency of the first octave, cycles per unit.
    pub base: f32,
    /// Frequency ratio between octaves.
    pub lacunarity: f32,
    /// Amplitude ratio between octaves.
    pub gain: f32,
    /// Most octaves.
    pub octaves: u32,
}

impl Fbm {
    /// 1/f noise from `base` cycles per unit, up to ten octaves.
    pub fn new(seed: u64, base: f32) -> Self {
        Fbm {
            seed,
            base,
            lacunarity: 2.0,
            gain: 0.5,
            octaves: 10,
        }
    }

    /// The same noise with another amplitude ratio between octaves.
    pub fn gain(self, gain: f32) -> Self {
        Fbm { gain, ..self }
    }

    /// The same noise limited to `octaves` octaves.
    pub fn octaves(self, octaves: u32) -> Self {
        Fbm { octaves, ..self }
    }

    /// The noise at (`x`, `y`), band-limited to `nyquist` cycles per unit; roughly -1..1 with a
    /// standard deviation near 0.3 whatever the gain.
    pub fn at(&self, x: f32, y: f32, nyquist: f32) -> f32 {
        let (mut f, mut amp, mut sum, mut norm) = (self.base, 1.0f32, 0.0f32, 0.0f32);
        // Rotation of about 37 degrees between octaves.
        let (c, s) = (0.798_636, 0.601_815);
        let (mut px, mut py) = (x, y);
        for o in 0..self.octaves {
            // Full weight up to 70 % of the limit, none beyond it.
            let w = 1.0 - smooth((f - 0.7 * nyquist) / (0.3 * nyquist));
            if w <= 0.0 {
                break;
            }
            let off = o as f32 * 17.31;
            sum += amp * w * gradient(self.seed.wrapping_add(o as u64), px * f + off, py * f - off);
            norm += amp * amp;
            let (rx, ry) = (px * c - py * s, px * s + py * c);
            (px, py) = (rx, ry);
            f *= self.lacunarity;
            amp *= self.gain;
        }
        if norm > 0.0 {
            sum / norm.sqrt()
        } else {
            0.0
        }
    }
}

/// Smoothstep of `t` clamped to 0..1.
#[inline]
fn smooth(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// A one-dimensional profile (a ridge line, a horizon) from 1/f noise along `x`.
pub fn profile(seed: u64, base: f32, x: f32, nyquist: f32) -> f32 {
    Fbm::new(seed, base).at(x, 0.37, nyquist)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_noise_is_smooth_and_centred() {
        let n = 100_000;
        let v: Vec<f32> = (0..n)
            .map(|i| gradient(5, (i % 317) as f32 * 0.173, (i / 317) as f32 * 0.191))
            .collect();
        let mean = v.iter().sum::<f32>() / n as f32;
        let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n as f32).sqrt();
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((0.15..0.6).contains(&sd), "sd {sd}");
        assert!(v.iter().all(|x| x.abs() <= 1.5));
        // Neighbours a hundredth of a cell apart differ by little.
        let d = (gradient(5, 3.3, 4.4) - gradient(5, 3.31, 4.4)).abs();
        assert!(d < 0.05, "{d}");
    }

    #[test]
    fn octaves_above_the_limit_are_left_out() {
        let f = Fbm::new(9, 0.01);
        // With a limit below the first octave nothing is left.
        assert_eq!(f.at(10.0, 20.0, 0.005), 0.0);
        // Raising the limit adds detail: the values differ.
        assert_ne!(f.at(10.0, 20.0, 0.05), f.at(10.0, 20.0, 0.5));
    }
}
