//! XPSNR against FFmpeg 9's `xpsnr` filter: clips generated here from a seeded integer-only
//! generator, scored by FFmpeg once by `goldens/xpsnr/make_goldens.py` (which has this file
//! write the same clips as Y4M), and the per-frame values and summaries it printed kept in
//! `goldens/xpsnr/goldens.json`. The test regenerates the clips (no FFmpeg needed), checks that
//! their Y4M bytes hash to what FFmpeg was given, and requires every digit FFmpeg printed.

use rdbench_metrics::frame::{ChromaSampling, OwnedFrame, Sample};
use rdbench_metrics::xpsnr::{pool_xpsnr, Xpsnr, XpsnrFrame};
use rdbench_metrics::y4m::{Y4mHeader, Y4mWriter};
use rdbench_metrics::Fps;
use serde_json::{json, Value};
use std::io::Write;

/// A generated clip: picture format, rate, length and how hard it is distorted.
struct Spec {
    name: &'static str,
    width: usize,
    height: usize,
    bit_depth: u8,
    sampling: ChromaSampling,
    fps: (u32, u32),
    frames: usize,
    /// Noise amplitude in 8-bit units.
    noise: i64,
    /// A frame whose distorted picture equals the reference (per-frame XPSNR +∞).
    identical: Option<usize>,
}

const fn spec(
    name: &'static str,
    (width, height): (usize, usize),
    bit_depth: u8,
    sampling: ChromaSampling,
    fps: (u32, u32),
    frames: usize,
    noise: i64,
) -> Spec {
    Spec {
        name,
        width,
        height,
        bit_depth,
        sampling,
        fps,
        frames,
        noise,
        identical: None,
    }
}

use ChromaSampling::{Cs420, Cs422, Cs444};

/// The golden clips: every regime of FFmpeg's filter (plain PSNR below 2025 samples, weight
/// smoothing up to 640×480, 2×2 cells above 2048×1152, first and second temporal differences,
/// 8 to 16 bits, odd sizes, the three chroma samplings). Above 2048×1152: an odd width (the cell
/// loops wrap into the next row; the last column's 9-sample width gets no spatial activity), an
/// even last column of active width 8, and 3840×2160. Odd heights there are left out: FFmpeg reads
/// past its buffers (see the `xpsnr` module's documentation).
const SPECS: &[Spec] = &[
    Spec {
        identical: Some(2),
        ..spec("qcif-420-8", (176, 144), 8, Cs420, (25, 1), 5, 4)
    },
    spec(
        "odd-177x99-420-8-ntsc",
        (177, 99),
        8,
        Cs420,
        (30000, 1001),
        4,
        6,
    ),
    spec("tiny-40x30-420-8", (40, 30), 8, Cs420, (25, 1), 3, 5),
    spec(
        "cif-420-10-5994",
        (352, 288),
        10,
        Cs420,
        (60000, 1001),
        5,
        3,
    ),
    spec("odd-641x479-444-8", (641, 479), 8, Cs444, (25, 1), 3, 4),
    spec("ntsc-720x480-422-8-50", (720, 480), 8, Cs422, (50, 1), 3, 5),
    spec("odd-333x211-420-12", (333, 211), 12, Cs420, (24, 1), 3, 4),
    spec("odd-335x203-422-10", (335, 203), 10, Cs422, (25, 1), 3, 7),
    spec("qqvga-444-16-60", (160, 120), 16, Cs444, (60, 1), 3, 3),
    spec("hd-1280x720-420-8", (1280, 720), 8, Cs420, (25, 1), 3, 3),
    spec("odd-2049x1152-420-8", (2049, 1152), 8, Cs420, (25, 1), 3, 4),
    spec(
        "even-2304x1296-420-10-60",
        (2304, 1296),
        10,
        Cs420,
        (60, 1),
        3,
        3,
    ),
    spec(
        "narrow-2050x1152-420-8-60",
        (2050, 1152),
        8,
        Cs420,
        (60, 1),
        3,
        4,
    ),
    spec(
        "uhd-3840x2160-420-10",
        (3840, 2160),
        10,
        Cs420,
        (24, 1),
        2,
        4,
    ),
];

/// splitmix64's finaliser: a stateless hash, so every sample is a function of its coordinates.
fn mix(mut v: u64) -> u64 {
    v = v.wrapping_add(0x9e37_79b9_7f4a_7c15);
    v = (v ^ (v >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    v = (v ^ (v >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    v ^ (v >> 31)
}

fn hash(parts: [u64; 5]) -> u64 {
    parts.iter().fold(0x5eed, |h, &p| mix(h ^ p))
}

/// Reference sample of plane `p` at (`x`, `y`) of frame `t` in 8-bit units: a moving ramp, a
/// moving disc, textured and striped areas and a flat patch.
fn scene(p: usize, x: i64, y: i64, t: i64, w: i64, h: i64) -> i64 {
    if x < w / 6 && y > 2 * h / 3 {
        return 200 - 40 * p as i64;
    }
    let u = (x * 7 + y * 3 + t * 11 + p as i64 * 50) % 1024;
    let mut v = 30 + (u - 512).abs() * 100 / 512;
    let (cx, cy, r) = (w / 3 + 4 * t, h / 2, w.min(h) / 5);
    if (x - cx).pow(2) + (y - cy).pow(2) < r * r {
        v += 80;
    }
    if (x / 24 + y / 24) % 3 == 1 {
        v += (hash([1, x as u64, y as u64, t as u64, p as u64]) % 48) as i64;
    }
    if x > 2 * w / 3 && y < h / 3 {
        v += (x + t) / 2 % 2 * 50;
    }
    v.clamp(0, 255)
}

/// The clip's frame pairs (reference, distorted) in 16-bit words.
fn generate(s: &Spec) -> Vec<(OwnedFrame<u16>, OwnedFrame<u16>)> {
    let shift = s.bit_depth - 8;
    let max = (1i64 << s.bit_depth) - 1;
    (0..s.frames)
        .map(|t| {
            let mut a = OwnedFrame::<u16>::new(s.width, s.height, s.bit_depth, s.sampling);
            let mut b = a.clone();
            for p in 0..3 {
                let (pw, ph) = a.plane_size(p);
                let key =
                    |x: usize, y: usize, k: u64| hash([k, x as u64, y as u64, t as u64, p as u64]);
                for y in 0..ph {
                    for x in 0..pw {
                        let v8 = scene(p, x as i64, y as i64, t as i64, pw as i64, ph as i64);
                        let low = (key(x, y, 2) % (1 << shift)) as i64;
                        a.planes[p][y * pw + x] = ((v8 << shift) + low) as u16;
                    }
                }
                for y in 0..ph {
                    for x in 0..pw {
                        let v = a.planes[p][y * pw + x] as i64;
                        if s.identical == Some(t) {
                            b.planes[p][y * pw + x] = v as u16;
                            continue;
                        }
                        // Some 4×4 blocks are flattened towards their mean (coding-like blur).
                        let (bx, by) = (x / 4 * 4, y / 4 * 4);
                        let d = if key(bx, by, 3) % 5 == 0 {
                            let (xe, ye) = ((bx + 4).min(pw), (by + 4).min(ph));
                            let n = ((xe - bx) * (ye - by)) as i64;
                            let sum: i64 = (by..ye)
                                .flat_map(|yy| (bx..xe).map(move |xx| (xx, yy)))
                                .map(|(xx, yy)| a.planes[p][yy * pw + xx] as i64)
                                .sum();
                            (v + sum / n) / 2
                        } else {
                            v
                        };
                        let amp = s.noise << shift;
                        let n = (key(x, y, 4) % (2 * amp as u64 + 1)) as i64 - amp;
                        b.planes[p][y * pw + x] = (d + n).clamp(0, max) as u16;
                    }
                }
            }
            (a, b)
        })
        .collect()
}

fn to_u8(f: &OwnedFrame<u16>) -> OwnedFrame<u8> {
    OwnedFrame::<u8> {
        planes: std::array::from_fn(|i| f.planes[i].iter().map(|&v| v as u8).collect()),
        width: f.width,
        height: f.height,
        strides: f.strides,
        bit_depth: 8,
        sampling: f.sampling,
    }
}

fn fps(s: &Spec) -> Fps {
    Fps::new(s.fps.0, s.fps.1).unwrap()
}

/// FNV-1a (64-bit) of everything written.
struct Fnv(u64, Option<std::fs::File>);

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        if let Some(f) = &mut self.1 {
            f.write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.1.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

/// Writes one side of a clip as Y4M (to `file` if given) and returns the stream's FNV-1a hash.
fn y4m<T: Sample>(s: &Spec, frames: &[&OwnedFrame<T>], file: Option<std::fs::File>) -> String {
    let header = Y4mHeader::new(s.width, s.height, fps(s), s.sampling, s.bit_depth);
    let mut w = Y4mWriter::new(Fnv(0xcbf2_9ce4_8422_2325, file), header).unwrap();
    for f in frames {
        w.write_frame(&f.view().unwrap()).unwrap();
    }
    format!("{:016x}", w.finish().unwrap().0)
}

/// The clip's Y4M hashes (reference, distorted), writing the files into `dir` if given, and its
/// per-frame XPSNR.
fn run(s: &Spec, dir: Option<&std::path::Path>) -> ([String; 2], Vec<XpsnrFrame>) {
    let pairs = generate(s);
    if s.bit_depth == 8 {
        let pairs: Vec<_> = pairs.iter().map(|(a, b)| (to_u8(a), to_u8(b))).collect();
        score_and_hash(s, &pairs, dir)
    } else {
        score_and_hash(s, &pairs, dir)
    }
}

fn score_and_hash<T: Sample>(
    s: &Spec,
    pairs: &[(OwnedFrame<T>, OwnedFrame<T>)],
    dir: Option<&std::path::Path>,
) -> ([String; 2], Vec<XpsnrFrame>) {
    let file = |side: &str| {
        dir.map(|d| std::fs::File::create(d.join(format!("{}.{side}.y4m", s.name))).unwrap())
    };
    let refs: Vec<_> = pairs.iter().map(|p| &p.0).collect();
    let dists: Vec<_> = pairs.iter().map(|p| &p.1).collect();
    let hashes = [y4m(s, &refs, file("ref")), y4m(s, &dists, file("dist"))];
    let mut x = Xpsnr::new(s.width, s.height, s.bit_depth, s.sampling, fps(s)).unwrap();
    let frames = pairs
        .iter()
        .map(|(a, b)| x.push(&a.view().unwrap(), &b.view().unwrap()).unwrap())
        .collect();
    (hashes, frames)
}

fn sampling_name(s: ChromaSampling) -> &'static str {
    match s {
        Cs420 => "420",
        Cs422 => "422",
        Cs444 => "444",
    }
}

/// Writes every golden clip as `<name>.ref.y4m` / `<name>.dist.y4m` into `$RDBENCH_XPSNR_CLIPS`
/// with a `clips.json` manifest, for `make_goldens.py` to score with FFmpeg 9.
#[test]
#[ignore = "run by metrics/tests/goldens/xpsnr/make_goldens.py"]
fn write_xpsnr_golden_clips() {
    let dir = std::path::PathBuf::from(
        std::env::var_os("RDBENCH_XPSNR_CLIPS").expect("RDBENCH_XPSNR_CLIPS names the folder"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let manifest: Vec<Value> = SPECS
        .iter()
        .map(|s| {
            let ([r, d], _) = run(s, Some(&dir));
            json!({
                "name": s.name,
                "width": s.width,
                "height": s.height,
                "bit_depth": s.bit_depth,
                "sampling": sampling_name(s.sampling),
                "fps": [s.fps.0, s.fps.1],
                "frames": s.frames,
                "fnv64": {"reference": r, "distorted": d},
            })
        })
        .collect();
    std::fs::write(
        dir.join("clips.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

/// Every per-frame value and the summary of every golden clip, to every digit FFmpeg printed:
/// the stats file's `%3.4f` of the double, the frame metadata's `%f` of the value as a float,
/// and the summary's `%3.4f`.
#[test]
fn xpsnr_matches_ffmpeg_9_goldens() {
    let goldens: Value = serde_json::from_str(include_str!("goldens/xpsnr/goldens.json")).unwrap();
    let clips = goldens["clips"].as_array().unwrap();
    assert_eq!(clips.len(), SPECS.len(), "a golden for every clip");
    for g in clips {
        let name = g["name"].as_str().unwrap();
        let s = SPECS
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no clip {name}"));
        let (hashes, frames) = run(s, None);
        assert_eq!(
            hashes[0], g["fnv64"]["reference"],
            "{name}: the generated reference is not the one FFmpeg scored"
        );
        assert_eq!(
            hashes[1], g["fnv64"]["distorted"],
            "{name}: the generated distorted clip is not the one FFmpeg scored"
        );
        let stats = g["stats"].as_array().unwrap();
        let meta = g["metadata"].as_array().unwrap();
        assert_eq!(stats.len(), frames.len(), "{name}: frames");
        assert_eq!(meta.len(), frames.len(), "{name}: frames");
        for (i, f) in frames.iter().enumerate() {
            for c in 0..3 {
                let what = format!("{name} frame {i} plane {c}: {f:?}");
                assert_eq!(format!("{:.4}", f.xpsnr[c]), stats[i][c], "{what}");
                assert_eq!(format!("{:.6}", f.xpsnr[c] as f32), meta[i][c], "{what}");
            }
        }
        let sum = pool_xpsnr(&frames).unwrap();
        let want = &g["summary"];
        for (c, key) in ["y", "u", "v"].iter().enumerate() {
            assert_eq!(
                format!("{:.4}", sum.xpsnr[c]),
                want[key],
                "{name} summary {key}"
            );
        }
        assert_eq!(
            format!("{:.4}", sum.minimum),
            want["minimum"],
            "{name} summary minimum"
        );
        assert_eq!(want["frames"], frames.len(), "{name} summary frames");
    }
}
