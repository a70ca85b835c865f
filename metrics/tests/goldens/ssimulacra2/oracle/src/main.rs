//! The SSIMULACRA2 oracle: scores the golden test pairs (`../pictures.rs`, the same file rdbench's
//! test compiles) with the `ssimulacra2` crate and prints `goldens.json`; with `--bench`, times the
//! crate on the 1920x1080 pair of rdbench's criterion bench (a report figure, not a test).
//!
//! Run from this directory:
//!     cargo run --release > ../goldens.json
//!     RAYON_NUM_THREADS=1 cargo run --release -- --bench

use ssimulacra2::{
    compute_frame_ssimulacra2, ColorPrimaries, Frame, MatrixCoefficients, Pixel, Plane,
    TransferCharacteristic, Yuv, YuvConfig,
};
use std::time::Instant;

#[path = "../../pictures.rs"]
#[allow(dead_code)]
mod pictures;

use pictures::{Case, Picture};

/// The picture as the crate's Y'CbCr frame. The crate refuses 4:2:0 and 4:2:2 at odd sizes, so
/// odd-sized subsampled pictures are handed over as 4:4:4 with each chroma sample repeated over
/// the luma samples it covers, which is exactly how the crate upsamples chroma (`x >> ss_x`,
/// `y >> ss_y`).
fn to_yuv<T: Pixel>(case: &Case, pic: &Picture) -> Yuv<T> {
    let (sx, sy) = case.subsampling;
    let odd = (case.width % (1 << sx) != 0) || (case.height % (1 << sy) != 0);
    let (fx, fy) = if odd { (0, 0) } else { (sx, sy) };
    let planes = std::array::from_fn(|p| {
        let (dx, dy) = if p == 0 { (0, 0) } else { (fx, fy) };
        let (w, h) = (case.width >> dx, case.height >> dy);
        let (src_w, _) = Picture::plane_size(case, p);
        let (ssx, ssy) = if p == 0 || !odd { (0, 0) } else { (sx, sy) };
        let mut plane = Plane::<T>::new(w, h, dx as usize, dy as usize, 0, 0);
        let stride = plane.cfg.stride;
        let data = plane.data_origin_mut();
        for y in 0..h {
            for x in 0..w {
                let v = pic.planes[p][(y >> ssy) * src_w + (x >> ssx)];
                data[y * stride + x] = T::cast_from(v);
            }
        }
        plane
    });
    let config = YuvConfig {
        bit_depth: case.bit_depth,
        subsampling_x: fx,
        subsampling_y: fy,
        full_range: case.full_range,
        matrix_coefficients: match case.matrix {
            "bt709" => MatrixCoefficients::BT709,
            "bt601" => MatrixCoefficients::BT470BG,
            m => panic!("unknown matrix {m}"),
        },
        transfer_characteristics: TransferCharacteristic::BT1886,
        color_primaries: ColorPrimaries::BT709,
    };
    Yuv::new(Frame { planes }, config).expect("valid Y'CbCr frame")
}

fn score(case: &Case, a: &Picture, b: &Picture) -> f64 {
    if case.bit_depth == 8 {
        compute_frame_ssimulacra2(to_yuv::<u8>(case, a), to_yuv::<u8>(case, b))
    } else {
        compute_frame_ssimulacra2(to_yuv::<u16>(case, a), to_yuv::<u16>(case, b))
    }
    .expect("scorable pair")
}

fn goldens() {
    println!("{{");
    println!("  \"oracle\": \"ssimulacra2 {}\",", ssimulacra2_version());
    println!("  \"transfer\": \"BT.709 (BT.1886 gamma 2.4)\", \"primaries\": \"BT.709\",");
    println!("  \"cases\": [");
    let cases = pictures::cases();
    for (i, case) in cases.iter().enumerate() {
        let mut scores = Vec::new();
        let mut sums = Vec::new();
        for f in 0..case.frames {
            let a = pictures::reference(case, f);
            let b = pictures::distorted(case, f);
            sums.push(format!("\"{:016x}\"", pictures::checksum(&a, &b)));
            scores.push(format!("{:?}", score(case, &a, &b)));
        }
        let comma = if i + 1 < cases.len() { "," } else { "" };
        println!(
            "    {{ \"name\": \"{}\", \"checksums\": [{}], \"scores\": [{}] }}{comma}",
            case.name,
            sums.join(", "),
            scores.join(", ")
        );
    }
    println!("  ]");
    println!("}}");
}

/// The version of the `ssimulacra2` crate this program was built against (from Cargo.lock).
fn ssimulacra2_version() -> &'static str {
    let lock = include_str!("../Cargo.lock");
    lock.split("[[package]]")
        .find(|p| p.contains("name = \"ssimulacra2\""))
        .and_then(|p| p.lines().find(|l| l.starts_with("version = ")))
        .map(|l| l.trim_start_matches("version = ").trim_matches('"'))
        .unwrap_or("?")
}

/// rdbench's bench pair (`metrics/benches/common.rs`, copied): 1920x1080 8-bit 4:2:0 texture and
/// a noisy copy.
fn bench_pair() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (w, h) = (1920usize, 1080usize);
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut s = 1u32;
    for p in 0..3 {
        let (pw, ph) = if p == 0 { (w, h) } else { (w / 2, h / 2) };
        let mut pa = vec![0u8; pw * ph];
        let mut pb = vec![0u8; pw * ph];
        for y in 0..ph {
            for x in 0..pw {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                let v = 128.0
                    + 90.0 * ((x as f32 * 0.01).sin() * (y as f32 * 0.013).cos())
                    + ((x ^ y) & 31) as f32;
                let v = v.clamp(0.0, 255.0) as i32;
                let n = (s >> 28) as i32 - 8;
                pa[y * pw + x] = v as u8;
                pb[y * pw + x] = (v + n).clamp(0, 255) as u8;
            }
        }
        a.push(pa);
        b.push(pb);
    }
    (a, b)
}

fn bench() {
    let (a, b) = bench_pair();
    let case = Case {
        name: "bench",
        width: 1920,
        height: 1080,
        bit_depth: 8,
        subsampling: (1, 1),
        full_range: false,
        matrix: "bt709",
        frames: 1,
        distortion: pictures::Distortion::Identical,
    };
    let pic = |planes: &[Vec<u8>]| Picture {
        width: 1920,
        height: 1080,
        planes: std::array::from_fn(|i| planes[i].iter().map(|&v| v as u16).collect()),
    };
    let (pa, pb) = (pic(&a), pic(&b));
    let runs = 5;
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut value = 0.0;
    for _ in 0..runs {
        let (ya, yb) = (to_yuv::<u8>(&case, &pa), to_yuv::<u8>(&case, &pb));
        let t = Instant::now();
        value = compute_frame_ssimulacra2(ya, yb).unwrap();
        let dt = t.elapsed().as_secs_f64() * 1e3;
        best = best.min(dt);
        total += dt;
    }
    println!(
        "ssimulacra2 {} on the 1920x1080 bench pair: score {value}, best {best:.1} ms/frame, mean {:.1} ms/frame over {runs} runs (RAYON_NUM_THREADS={})",
        ssimulacra2_version(),
        total / runs as f64,
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into())
    );
}

fn main() {
    if std::env::args().any(|a| a == "--bench") {
        bench();
    } else {
        goldens();
    }
}
