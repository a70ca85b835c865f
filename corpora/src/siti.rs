//! Spatial and temporal information (ITU-T P.910) of a sequence's luma.
//!
//! * SI = the maximum over frames of the standard deviation of the Sobel gradient magnitude
//!   `sqrt(Gx² + Gy²)` of the frame. The 3x3 Sobel kernels need all eight neighbours, so the
//!   magnitude is taken on interior pixels only (the one-pixel border is left out, not padded);
//!   a frame narrower or shorter than 3 pixels has SI 0.
//! * TI = the maximum over frames n ≥ 1 of the standard deviation of `Fn − Fn-1` over all pixels;
//!   a one-frame sequence has TI 0.
//!
//! Standard deviations are population ones (divided by the pixel count). Samples of bit depth
//! B > 8 are divided by 2^(B−8) first, so SI/TI are on the 8-bit scale whatever the depth and
//! sequences of different depths compare directly.

use std::path::{Path, PathBuf};

use rdbench_metrics::frame::{Plane, Sample};
use serde::{Deserialize, Serialize};

use crate::cache::write_atomic;
use crate::error::Result;
use rdbench_metrics::y4m::{Y4mError, Y4mFrame, Y4mReader};

/// The method tag stored in cached results; bump when the computation changes.
const METHOD: &str = "p910-luma-sobel-interior-8bit-scale/1";

/// Spatial and temporal information of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiTi {
    /// Spatial information.
    pub si: f64,
    /// Temporal information.
    pub ti: f64,
    /// Frames measured.
    pub frames: u64,
}

/// Population standard deviation from a count, sum and sum of squares.
fn std_dev(n: f64, sum: f64, sum_sq: f64) -> f64 {
    if n == 0.0 {
        return 0.0;
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0).sqrt()
}

/// The luma plane as floats on the 8-bit scale.
fn to_unit_scale<T: Sample>(luma: &Plane<'_, T>, bit_depth: u8) -> Vec<f64> {
    let scale = 1.0 / f64::from(1u32 << (bit_depth.max(8) - 8));
    let mut v = Vec::with_capacity(luma.width() * luma.height());
    for row in luma.rows() {
        v.extend(row.iter().map(|s| f64::from(s.to_u32()) * scale));
    }
    v
}

/// SI of one frame: the standard deviation of the Sobel magnitude over interior pixels.
pub fn spatial_information<T: Sample>(luma: &Plane<'_, T>, bit_depth: u8) -> f64 {
    sobel_std(&to_unit_scale(luma, bit_depth), luma.width(), luma.height())
}

fn sobel_std(p: &[f64], w: usize, h: usize) -> f64 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for y in 1..h - 1 {
        let (a, b, c) = (
            &p[(y - 1) * w..y * w],
            &p[y * w..(y + 1) * w],
            &p[(y + 1) * w..(y + 2) * w],
        );
        for x in 1..w - 1 {
            let gx =
                (a[x + 1] + 2.0 * b[x + 1] + c[x + 1]) - (a[x - 1] + 2.0 * b[x - 1] + c[x - 1]);
            let gy = (c[x - 1] + 2.0 * c[x] + c[x + 1]) - (a[x - 1] + 2.0 * a[x] + a[x + 1]);
            let m = (gx * gx + gy * gy).sqrt();
            sum += m;
            sum_sq += m * m;
        }
    }
    std_dev(((w - 2) * (h - 2)) as f64, sum, sum_sq)
}

/// The standard deviation of the pixel-wise difference of two frames of the same size.
fn diff_std(prev: &[f64], cur: &[f64]) -> f64 {
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for (a, b) in prev.iter().zip(cur) {
        let d = b - a;
        sum += d;
        sum_sq += d * d;
    }
    std_dev(cur.len() as f64, sum, sum_sq)
}

/// Accumulates SI and TI frame by frame.
#[derive(Debug, Default)]
pub struct SiTiMeter {
    prev: Option<(usize, usize, Vec<f64>)>,
    si: f64,
    ti: f64,
    frames: u64,
}

impl SiTiMeter {
    /// An empty meter.
    pub fn new() -> Self {
        SiTiMeter::default()
    }

    /// Adds the next frame's luma. A frame whose size differs from the previous one restarts
    /// the temporal difference (no TI value for that pair).
    pub fn push<T: Sample>(&mut self, luma: &Plane<'_, T>, bit_depth: u8) {
        let (w, h) = (luma.width(), luma.height());
        let cur = to_unit_scale(luma, bit_depth);
        self.si = self.si.max(sobel_std(&cur, w, h));
        if let Some((pw, ph, prev)) = &self.prev {
            if (*pw, *ph) == (w, h) {
                self.ti = self.ti.max(diff_std(prev, &cur));
            }
        }
        self.prev = Some((w, h, cur));
        self.frames += 1;
    }

    /// The result so far.
    pub fn finish(&self) -> SiTi {
        SiTi {
            si: self.si,
            ti: self.ti,
            frames: self.frames,
        }
    }
}

/// SI/TI of every frame of a Y4M file.
pub fn siti_of_file(path: &Path) -> Result<SiTi> {
    let mut r = Y4mReader::open(path)?;
    let mut m = SiTiMeter::new();
    while let Some(f) = r.read_frame()? {
        match f {
            Y4mFrame::U8(f) => m.push(&plane0(&f.planes[0], f.width, f.height, path)?, f.bit_depth),
            Y4mFrame::U16(f) => {
                m.push(&plane0(&f.planes[0], f.width, f.height, path)?, f.bit_depth)
            }
        }
    }
    Ok(m.finish())
}

/// The luma plane of a Y4M frame's samples (also read by the scene-cut detector).
pub(crate) fn plane0<'a, T: Sample>(
    data: &'a [T],
    w: usize,
    h: usize,
    path: &Path,
) -> Result<Plane<'a, T>> {
    Plane::new(data, w, h, w).map_err(|e| Y4mError::format(path, e.to_string()).into())
}

#[derive(Serialize, Deserialize)]
struct SiTiRecord {
    sha256: String,
    method: String,
    si: f64,
    ti: f64,
    frames: u64,
}

/// Where the SI/TI of `path` is cached: `<path>.siti.json`.
pub fn siti_cache_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".siti.json");
    PathBuf::from(s)
}

/// The cached SI/TI of `path`, if one was stored for content `sha256` by this method.
pub fn cached_siti(path: &Path, sha256: &str) -> Option<SiTi> {
    let text = std::fs::read_to_string(siti_cache_path(path)).ok()?;
    let r: SiTiRecord = serde_json::from_str(&text).ok()?;
    (r.sha256 == sha256 && r.method == METHOD).then_some(SiTi {
        si: r.si,
        ti: r.ti,
        frames: r.frames,
    })
}

/// SI/TI of `path` (whose content has SHA-256 `sha256`), from the cache beside it or computed
/// and then cached.
pub fn siti_cached(path: &Path, sha256: &str) -> Result<SiTi> {
    if let Some(s) = cached_siti(path, sha256) {
        return Ok(s);
    }
    let s = siti_of_file(path)?;
    let rec = SiTiRecord {
        sha256: sha256.to_string(),
        method: METHOD.to_string(),
        si: s.si,
        ti: s.ti,
        frames: s.frames,
    };
    let json = serde_json::to_string_pretty(&rec).expect("a record always serialises");
    write_atomic(&siti_cache_path(path), |w| {
        std::io::Write::write_all(w, json.as_bytes())
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane<T: Sample>(data: &[T], w: usize, h: usize) -> Plane<'_, T> {
        Plane::new(data, w, h, w).unwrap()
    }

    #[test]
    fn si_of_an_edge() {
        // 5x3 frame, columns 0 0 0 255 255. Interior pixels (x = 1..3, y = 1):
        // x=1 sees 0,0,0 -> 0; x=2 and x=3 see a 0 -> 255 step: Gx = 255 * (1 + 2 + 1) = 1020.
        // Magnitudes 0, 1020, 1020: mean 680, variance (680² + 2 * 340²) / 3 = 231200.
        let row = [0u8, 0, 0, 255, 255];
        let data: Vec<u8> = row.iter().cycle().take(15).copied().collect();
        let si = spatial_information(&plane(&data, 5, 3), 8);
        assert!((si - 231_200f64.sqrt()).abs() < 1e-9, "{si}");
    }

    #[test]
    fn si_ignores_the_border_and_flat_frames() {
        // A bright border around a flat interior: interior magnitudes are all equal -> SI 0.
        let mut data = vec![200u8; 16];
        for (i, v) in data.iter_mut().enumerate() {
            if (i % 4 == 1 || i % 4 == 2) && (i / 4 == 1 || i / 4 == 2) {
                *v = 10;
            }
        }
        let si = spatial_information(&plane(&data, 4, 4), 8);
        assert!(si.abs() < 1e-9, "{si}");
        assert_eq!(spatial_information(&plane(&[1u8, 2, 3, 4], 2, 2), 8), 0.0);
    }

    #[test]
    fn ti_is_the_largest_difference_spread() {
        // Differences 0 0 0 4: mean 1, variance (1 + 1 + 1 + 9) / 4 = 3. Then no change.
        let mut m = SiTiMeter::new();
        m.push(&plane(&[0u8, 0, 0, 0], 2, 2), 8);
        m.push(&plane(&[0u8, 0, 0, 4], 2, 2), 8);
        m.push(&plane(&[0u8, 0, 0, 4], 2, 2), 8);
        let r = m.finish();
        assert!((r.ti - 3f64.sqrt()).abs() < 1e-12, "{}", r.ti);
        assert_eq!(r.frames, 3);
        let mut one = SiTiMeter::new();
        one.push(&plane(&[9u8, 0, 0, 4], 2, 2), 8);
        assert_eq!(one.finish().ti, 0.0);
    }

    #[test]
    fn high_bit_depth_is_scaled_to_8_bit() {
        let row8 = [0u8, 0, 0, 255, 255];
        let d8: Vec<u8> = row8.iter().cycle().take(15).copied().collect();
        let d10: Vec<u16> = d8.iter().map(|&v| u16::from(v) * 4).collect();
        let a = spatial_information(&plane(&d8, 5, 3), 8);
        let b = spatial_information(&plane(&d10, 5, 3), 10);
        assert!((a - b).abs() < 1e-9);
    }
}
