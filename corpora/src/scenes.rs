//! Scene cuts of a sequence, from its luma: where the target-quality search starts its samples,
//! so that a sample begins with a new shot as the full encode's keyframes do.
//!
//! Each frame is reduced to a thumbnail of 8x8-pixel block means on the 8-bit scale; a frame's
//! change is the mean absolute difference of its thumbnail from the previous frame's. Frame `i`
//! starts a new scene when its change is at least [`MIN_CHANGE`] and at least [`RATIO`] times
//! the median change of the [`WINDOW`] frames on either side of it (motion raises the median, so
//! a pan is not a cut), and no cut was found in the previous [`WINDOW`] frames.

use std::path::Path;

use rdbench_metrics::frame::{Plane, Sample};
use rdbench_metrics::y4m::{Y4mFrame, Y4mReader};

use crate::error::Result;
use crate::siti::plane0;

/// The smallest change (mean absolute difference, 8-bit scale) that can be a cut.
pub const MIN_CHANGE: f64 = 12.0;
/// How much larger than its neighbourhood's median a cut's change is.
pub const RATIO: f64 = 3.0;
/// Frames each side of a frame that make its neighbourhood; also the shortest scene.
pub const WINDOW: usize = 12;

/// The frames (0-based, ascending) where a new scene starts, from each frame's change against
/// the previous one (`changes[0]` is the first frame's and is ignored).
pub fn cuts_from_changes(changes: &[f64]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for i in 1..changes.len() {
        let c = changes[i];
        if c < MIN_CHANGE {
            continue;
        }
        if out.last().is_some_and(|&l| i - (l as usize) <= WINDOW) {
            continue;
        }
        let lo = i.saturating_sub(WINDOW).max(1);
        let hi = (i + WINDOW + 1).min(changes.len());
        let mut around: Vec<f64> = (lo..hi).filter(|&j| j != i).map(|j| changes[j]).collect();
        around.sort_by(f64::total_cmp);
        let median = around.get(around.len() / 2).copied().unwrap_or(0.0);
        if c >= RATIO * median {
            out.push(i as u32);
        }
    }
    out
}

/// The 8x8 block means of a luma plane on the 8-bit scale (partial blocks at the edges are
/// averaged over the pixels they have).
pub fn thumbnail<T: Sample>(luma: &Plane<'_, T>, bit_depth: u8) -> Vec<f64> {
    let (w, h) = (luma.width(), luma.height());
    let (bw, bh) = (w.div_ceil(8), h.div_ceil(8));
    let mut sum = vec![0.0f64; bw * bh];
    let mut n = vec![0u32; bw * bh];
    for (y, row) in luma.rows().enumerate() {
        for (x, s) in row.iter().enumerate() {
            let k = (y / 8) * bw + x / 8;
            sum[k] += f64::from(s.to_u32());
            n[k] += 1;
        }
    }
    let scale = 1.0 / f64::from(1u32 << (bit_depth.max(8) - 8));
    sum.iter()
        .zip(&n)
        .map(|(s, &c)| s / f64::from(c.max(1)) * scale)
        .collect()
}

/// The mean absolute difference of two thumbnails of the same size.
pub fn change(prev: &[f64], cur: &[f64]) -> f64 {
    if cur.is_empty() {
        return 0.0;
    }
    prev.iter()
        .zip(cur)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / cur.len() as f64
}

/// The scene cuts of a Y4M file.
pub fn scene_cuts(path: &Path) -> Result<Vec<u32>> {
    let mut r = Y4mReader::open(path)?;
    let mut changes = Vec::new();
    let mut prev: Option<Vec<f64>> = None;
    while let Some(f) = r.read_frame()? {
        let t = match &f {
            Y4mFrame::U8(f) => {
                thumbnail(&plane0(&f.planes[0], f.width, f.height, path)?, f.bit_depth)
            }
            Y4mFrame::U16(f) => {
                thumbnail(&plane0(&f.planes[0], f.width, f.height, path)?, f.bit_depth)
            }
        };
        changes.push(prev.as_ref().map_or(0.0, |p| change(p, &t)));
        prev = Some(t);
    }
    Ok(cuts_from_changes(&changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_above_its_neighbourhood_is_a_cut() {
        let mut c = vec![2.0; 100];
        c[40] = 30.0;
        c[41] = 20.0; // right after a cut: not another one
        c[70] = 11.0; // below the minimum change
        assert_eq!(cuts_from_changes(&c), vec![40]);
    }

    #[test]
    fn steady_motion_is_not_a_cut() {
        // A fast pan changes every frame by 15: above the minimum, but no more than its median.
        let mut c = vec![15.0; 100];
        c[50] = 50.0;
        assert_eq!(cuts_from_changes(&c), vec![50]);
        c[50] = 30.0;
        assert_eq!(cuts_from_changes(&c), Vec::<u32>::new());
    }

    #[test]
    fn thumbnails_average_blocks_on_the_8_bit_scale() {
        // 10x9 plane at 10 bits: value 4 * (x + y); blocks 8x8, 2x8, 8x1, 2x1.
        let (w, h) = (10, 9);
        let data: Vec<u16> = (0..h)
            .flat_map(|y| (0..w).map(move |x| 4 * (x + y) as u16))
            .collect();
        let p = Plane::new(&data, w, h, w).unwrap();
        let t = thumbnail(&p, 10);
        // Block (0,0): mean of x + y over 0..8 x 0..8 = 7.
        assert_eq!(t.len(), 4);
        assert!((t[0] - 7.0).abs() < 1e-12);
        // Block (1,0): x in 8..10, y in 0..8 -> 8.5 + 3.5 = 12.
        assert!((t[1] - 12.0).abs() < 1e-12);
        // Block (0,1): y = 8 -> 3.5 + 8 = 11.5; block (1,1): 8.5 + 8 = 16.5.
        assert!((t[2] - 11.5).abs() < 1e-12 && (t[3] - 16.5).abs() < 1e-12);
        assert_eq!(change(&t, &t), 0.0);
    }
}
