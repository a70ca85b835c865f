//! The test pictures of the SSIMULACRA2 goldens: deterministic Y'CbCr reference/distorted pairs
//! built from integer arithmetic only, so that rdbench's test and the oracle program (which both
//! compile this very file, through `#[path]`) see the same samples without any media committed.
//!
//! Each [`Case`] is a short sequence: the content moves from frame to frame, so a scorer that
//! reuses its buffers across frames is exercised. Samples are `u16` whatever the bit depth.

/// How the distorted picture is made from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distortion {
    /// The reference itself (SSIMULACRA2 gives 100).
    Identical,
    /// Uniform noise of this amplitude (in 8-bit units) on every plane.
    Noise(u32),
    /// A 3x3 box blur of every plane, then noise of this amplitude.
    BlurNoise(u32),
    /// Luma replaced by the mean of 4x4 blocks (blockiness), chroma blurred.
    Blocks,
    /// Everything at once and strongly: block means, heavy noise, chroma shifted by 3 samples.
    Strong,
}

/// One sequence of picture pairs and how to read it.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Name, the key of the golden scores.
    pub name: &'static str,
    /// Luma width.
    pub width: usize,
    /// Luma height.
    pub height: usize,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Chroma subsampling: log2 of the horizontal and vertical factors ((1, 1) = 4:2:0).
    pub subsampling: (u8, u8),
    /// Full-range samples (otherwise limited range).
    pub full_range: bool,
    /// The Y'CbCr matrix: "bt709" or "bt601".
    pub matrix: &'static str,
    /// Frames in the sequence.
    pub frames: usize,
    /// The distortion.
    pub distortion: Distortion,
}

/// One picture: three planes of `u16` samples, tightly packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// Luma width.
    pub width: usize,
    /// Luma height.
    pub height: usize,
    /// Planes Y, Cb, Cr; chroma planes are `ceil(width / 2^sx)` by `ceil(height / 2^sy)`.
    pub planes: [Vec<u16>; 3],
}

impl Picture {
    /// Width and height of plane `i` of a picture of `case`.
    pub fn plane_size(case: &Case, i: usize) -> (usize, usize) {
        if i == 0 {
            (case.width, case.height)
        } else {
            let (sx, sy) = case.subsampling;
            (
                (case.width + (1 << sx) - 1) >> sx,
                (case.height + (1 << sy) - 1) >> sy,
            )
        }
    }
}

/// The golden cases.
pub fn cases() -> Vec<Case> {
    let base = Case {
        name: "",
        width: 64,
        height: 48,
        bit_depth: 8,
        subsampling: (1, 1),
        full_range: false,
        matrix: "bt709",
        frames: 3,
        distortion: Distortion::Noise(6),
    };
    vec![
        Case {
            name: "420-8-64x48-noise",
            ..base
        },
        Case {
            name: "420-8-176x144-blur",
            width: 176,
            height: 144,
            frames: 2,
            distortion: Distortion::BlurNoise(2),
            ..base
        },
        Case {
            name: "420-8-67x45-odd-blocks",
            width: 67,
            height: 45,
            distortion: Distortion::Blocks,
            ..base
        },
        // 22x18 -> 11x9 -> 6x5: three scales, the last below 8 samples (the scale-skip rule).
        Case {
            name: "420-8-22x18-small",
            width: 22,
            height: 18,
            distortion: Distortion::Noise(12),
            ..base
        },
        // 8x8 -> 4x4: the smallest picture, two scales.
        Case {
            name: "444-8-8x8-tiny",
            width: 8,
            height: 8,
            subsampling: (0, 0),
            distortion: Distortion::Noise(20),
            ..base
        },
        Case {
            name: "420-8-640x360-blocks",
            width: 640,
            height: 360,
            frames: 1,
            distortion: Distortion::Blocks,
            ..base
        },
        Case {
            name: "420-10-96x64-noise",
            width: 96,
            height: 64,
            bit_depth: 10,
            frames: 2,
            distortion: Distortion::Noise(3),
            ..base
        },
        Case {
            name: "422-10-80x50-blur",
            width: 80,
            height: 50,
            bit_depth: 10,
            subsampling: (1, 0),
            frames: 2,
            distortion: Distortion::BlurNoise(1),
            ..base
        },
        Case {
            name: "444-8-80x60-noise",
            width: 80,
            height: 60,
            subsampling: (0, 0),
            distortion: Distortion::Noise(4),
            ..base
        },
        Case {
            name: "444-12-53x41-odd-blur",
            width: 53,
            height: 41,
            bit_depth: 12,
            subsampling: (0, 0),
            frames: 2,
            distortion: Distortion::BlurNoise(3),
            ..base
        },
        Case {
            name: "420-8-64x48-identical",
            distortion: Distortion::Identical,
            frames: 2,
            ..base
        },
        Case {
            name: "420-10-64x48-identical",
            bit_depth: 10,
            distortion: Distortion::Identical,
            frames: 1,
            ..base
        },
        Case {
            name: "420-8-120x90-strong",
            width: 120,
            height: 90,
            frames: 2,
            distortion: Distortion::Strong,
            ..base
        },
        Case {
            name: "420-8-64x48-fullrange",
            full_range: true,
            frames: 2,
            distortion: Distortion::BlurNoise(4),
            ..base
        },
        Case {
            name: "420-8-64x48-bt601",
            matrix: "bt601",
            frames: 2,
            distortion: Distortion::BlurNoise(4),
            ..base
        },
        Case {
            name: "420-8-176x144-slight",
            width: 176,
            height: 144,
            frames: 2,
            distortion: Distortion::Noise(1),
            ..base
        },
        Case {
            name: "420-10-96x64-blur",
            width: 96,
            height: 64,
            bit_depth: 10,
            frames: 2,
            distortion: Distortion::BlurNoise(0),
            ..base
        },
        Case {
            name: "420-8-1920x1080-noise",
            width: 1920,
            height: 1080,
            frames: 1,
            distortion: Distortion::Noise(5),
            ..base
        },
    ]
}

/// A 32-bit hash of a few integers (a splitmix-style finaliser), the source of all noise here.
fn hash(a: u32, b: u32, c: u32, d: u32) -> u32 {
    let mut h = a
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add(b.wrapping_mul(0x85EB_CA77))
        .wrapping_add(c.wrapping_mul(0xC2B2_AE3D))
        .wrapping_add(d.wrapping_mul(0x27D4_EB2F));
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^ (h >> 15)
}

/// A triangle wave of period `p` and amplitude `a` (0..=a).
fn tri(v: i64, p: i64, a: i64) -> i64 {
    let m = v.rem_euclid(p);
    let half = p / 2;
    if m < half {
        m * a / half
    } else {
        (p - m) * a / (p - half)
    }
}

/// Sample (in 8-bit units times 16, for sub-8-bit detail) of plane `p` at `(x, y)` of frame `f`.
fn content(p: usize, x: i64, y: i64, f: i64) -> i64 {
    let (x, y) = (x + 3 * f, y + f);
    match p {
        0 => {
            // Gradients, a disc, stripes and fine texture; a dark and a bright corner that the
            // limited range clamps.
            let mut v = 16 * 40 + tri(x * 5 + y * 3, 700, 16 * 150);
            let (dx, dy) = (x - 40, y - 30);
            if dx * dx + dy * dy < 400 {
                v = 16 * 200 - tri(x * 11, 90, 16 * 60);
            }
            if (x / 7 + y / 5) % 9 == 0 {
                v += 16 * 30;
            }
            if x < 6 && y < 6 {
                v = 16 * 3;
            }
            if x > 180 && y < 4 {
                v = 16 * 252;
            }
            v + (hash(x as u32, y as u32, 7, 0) % (16 * 12)) as i64
        }
        1 => {
            16 * 90
                + tri(x * 2 - y * 3, 300, 16 * 80)
                + (hash(x as u32, y as u32, 8, 0) % 64) as i64
        }
        _ => 16 * 100 + tri(y * 4 + x, 410, 16 * 70) + (hash(x as u32, y as u32, 9, 0) % 64) as i64,
    }
}

/// Converts a value in 8-bit units times 16 to a sample of `bit_depth` bits, clamped.
fn to_sample(v16: i64, bit_depth: u8) -> u16 {
    let max = (1i64 << bit_depth) - 1;
    let v = if bit_depth >= 4 + 8 {
        v16 << (bit_depth - 12)
    } else {
        let sh = 12 - bit_depth;
        (v16 + (1 << sh >> 1)) >> sh
    };
    v.clamp(0, max) as u16
}

/// The reference picture `frame` of `case`.
pub fn reference(case: &Case, frame: usize) -> Picture {
    let planes = std::array::from_fn(|p| {
        let (w, h) = Picture::plane_size(case, p);
        let (sx, sy) = if p == 0 { (0, 0) } else { case.subsampling };
        let mut v = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let s = content(p, (x << sx) as i64, (y << sy) as i64, frame as i64);
                v.push(to_sample(s, case.bit_depth));
            }
        }
        v
    });
    Picture {
        width: case.width,
        height: case.height,
        planes,
    }
}

/// A 3x3 box blur of one plane (edges clamped).
fn blur(s: &[u16], w: usize, h: usize) -> Vec<u16> {
    let mut out = vec![0u16; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for dy in 0..3 {
                for dx in 0..3 {
                    let yy = (y + dy).saturating_sub(1).min(h - 1);
                    let xx = (x + dx).saturating_sub(1).min(w - 1);
                    sum += s[yy * w + xx] as u32;
                }
            }
            out[y * w + x] = ((sum + 4) / 9) as u16;
        }
    }
    out
}

/// Replaces each `b`x`b` block by its mean.
fn blocks(s: &[u16], w: usize, h: usize, b: usize) -> Vec<u16> {
    let mut out = vec![0u16; w * h];
    for by in (0..h).step_by(b) {
        for bx in (0..w).step_by(b) {
            let (ye, xe) = ((by + b).min(h), (bx + b).min(w));
            let n = ((ye - by) * (xe - bx)) as u32;
            let sum: u32 = (by..ye)
                .flat_map(|y| (bx..xe).map(move |x| (y, x)))
                .map(|(y, x)| s[y * w + x] as u32)
                .sum();
            for y in by..ye {
                for x in bx..xe {
                    out[y * w + x] = ((sum + n / 2) / n) as u16;
                }
            }
        }
    }
    out
}

/// Adds noise of amplitude `amp` (8-bit units) to every sample.
fn noise(s: &mut [u16], amp: u32, bit_depth: u8, seed: u32) {
    if amp == 0 {
        return;
    }
    let scale = 1i64 << (bit_depth - 8);
    let max = (1i64 << bit_depth) - 1;
    for (i, v) in s.iter_mut().enumerate() {
        let n = (hash(i as u32, seed, 11, 1) % (2 * amp * scale as u32 + 1)) as i64
            - amp as i64 * scale;
        *v = (*v as i64 + n).clamp(0, max) as u16;
    }
}

/// The distorted picture `frame` of `case`.
pub fn distorted(case: &Case, frame: usize) -> Picture {
    let mut pic = reference(case, frame);
    let seed = frame as u32 * 3 + 1;
    for p in 0..3 {
        let (w, h) = Picture::plane_size(case, p);
        let s = &mut pic.planes[p];
        let seed = seed * 7 + p as u32;
        match case.distortion {
            Distortion::Identical => {}
            Distortion::Noise(a) => noise(s, a, case.bit_depth, seed),
            Distortion::BlurNoise(a) => {
                *s = blur(s, w, h);
                noise(s, a, case.bit_depth, seed);
            }
            Distortion::Blocks => {
                *s = if p == 0 {
                    blocks(s, w, h, 4)
                } else {
                    blur(s, w, h)
                };
            }
            Distortion::Strong => {
                *s = blocks(s, w, h, if p == 0 { 8 } else { 4 });
                noise(s, 40, case.bit_depth, seed);
                if p > 0 {
                    let shifted: Vec<u16> = (0..w * h)
                        .map(|i| s[(i / w) * w + (i % w + 3).min(w - 1)])
                        .collect();
                    *s = shifted;
                }
            }
        }
    }
    pic
}

/// FNV-1a over the samples of a pair, recorded with the goldens to prove both sides generated the
/// same pictures.
pub fn checksum(a: &Picture, b: &Picture) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for pic in [a, b] {
        for plane in &pic.planes {
            for &v in plane {
                for byte in v.to_le_bytes() {
                    h ^= byte as u64;
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
    }
    h
}
