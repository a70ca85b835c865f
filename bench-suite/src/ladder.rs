//! The decisions of a per-title ladder, as pure functions: the convex hull of encodes over
//! (bitrate, quality) across resolutions, and the rungs picked from it by target bitrates or by
//! quality steps. The encodes themselves come from the harness; this module only reads points.
//!
//! The hull is the upper concave envelope in linear bitrate: every point on it gives the best
//! quality reachable at its bitrate by any resolution, and its slope (quality per extra bit)
//! falls as the bitrate rises. Points below it are encodes no ladder should ship.

use serde::Serialize;

/// One encode of the ladder grid: its resolution (the encoded height), bitrate and quality
/// measured at the display resolution.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LadderPoint {
    /// Encoded height in pixels.
    pub height: u32,
    /// Bitrate in kbit/s.
    pub kbps: f64,
    /// Quality (VMAF at the display resolution).
    pub quality: f64,
}

/// The points of `points` on the upper convex hull, in ascending bitrate. A point no better than
/// one at a lower or equal bitrate is never on it; of points on one straight segment only the
/// ends are kept.
pub fn convex_hull(points: &[LadderPoint]) -> Vec<LadderPoint> {
    let mut sorted: Vec<LadderPoint> = points
        .iter()
        .copied()
        .filter(|p| p.kbps.is_finite() && p.quality.is_finite() && p.kbps > 0.0)
        .collect();
    // Ascending rate; at equal rate the better point first, so the others are dropped below.
    sorted.sort_by(|a, b| {
        a.kbps
            .total_cmp(&b.kbps)
            .then(b.quality.total_cmp(&a.quality))
    });
    let mut hull: Vec<LadderPoint> = Vec::new();
    for p in sorted {
        if hull.last().is_some_and(|l| p.quality <= l.quality) {
            continue;
        }
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            // b on or below the segment a-p: not on the upper hull.
            let cross = (b.kbps - a.kbps) * (p.quality - a.quality)
                - (b.quality - a.quality) * (p.kbps - a.kbps);
            if cross >= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(p);
    }
    hull
}

/// For each target bitrate (any order), the hull point with the highest bitrate not above it;
/// None for a target below the hull's lowest bitrate. A rung is not repeated: a target that
/// picks the same point as a lower target gives None.
pub fn rungs_at_bitrates(hull: &[LadderPoint], targets: &[f64]) -> Vec<Option<LadderPoint>> {
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].total_cmp(&targets[b]));
    let mut out = vec![None; targets.len()];
    let mut taken: Vec<usize> = Vec::new();
    for i in order {
        let k = hull.partition_point(|p| p.kbps <= targets[i]);
        if k == 0 || taken.contains(&(k - 1)) {
            continue;
        }
        taken.push(k - 1);
        out[i] = Some(hull[k - 1]);
    }
    out
}

/// Rungs by quality steps: the top rung is the best hull point at or below `top_kbps`; each next
/// one down is the best hull point at least `step` below the previous rung's quality; at most
/// `max_rungs`. Highest first.
pub fn rungs_by_quality(
    hull: &[LadderPoint],
    step: f64,
    top_kbps: f64,
    max_rungs: usize,
) -> Vec<LadderPoint> {
    let mut out: Vec<LadderPoint> = Vec::new();
    let k = hull.partition_point(|p| p.kbps <= top_kbps);
    let Some(top) = k.checked_sub(1).map(|i| hull[i]) else {
        return out;
    };
    out.push(top);
    while out.len() < max_rungs {
        let last = out[out.len() - 1];
        match hull
            .iter()
            .rev()
            .find(|p| p.quality <= last.quality - step && p.kbps < last.kbps)
        {
            Some(p) => out.push(*p),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(height: u32, kbps: f64, quality: f64) -> LadderPoint {
        LadderPoint {
            height,
            kbps,
            quality,
        }
    }

    /// Three resolutions, three rate points each, made by hand so the hull is known: 360p wins
    /// at the bottom, 720p in the middle, 1080p at the top; 540p never.
    fn grid() -> Vec<LadderPoint> {
        vec![
            p(360, 200.0, 60.0),
            p(360, 400.0, 70.0),
            p(360, 800.0, 74.0),
            p(540, 400.0, 66.0),
            p(540, 800.0, 76.0),
            p(540, 1600.0, 82.0),
            p(720, 800.0, 80.0),
            p(720, 1600.0, 88.0),
            p(720, 3200.0, 91.0),
            p(1080, 1600.0, 86.0),
            p(1080, 3200.0, 93.0),
            p(1080, 6400.0, 96.0),
        ]
    }

    #[test]
    fn the_hull_keeps_the_best_encode_at_each_bitrate_and_only_convex_corners() {
        let hull = convex_hull(&grid());
        assert_eq!(
            hull,
            vec![
                p(360, 200.0, 60.0),
                p(360, 400.0, 70.0),
                p(720, 800.0, 80.0),
                p(720, 1600.0, 88.0),
                p(1080, 3200.0, 93.0),
                p(1080, 6400.0, 96.0),
            ]
        );
        // Slopes fall along it: 0.05, 0.025, 0.01, 0.003125, 0.0009375.
        let slopes: Vec<f64> = hull
            .windows(2)
            .map(|w| (w[1].quality - w[0].quality) / (w[1].kbps - w[0].kbps))
            .collect();
        assert!(slopes.windows(2).all(|s| s[1] < s[0]), "{slopes:?}");
    }

    #[test]
    fn collinear_dominated_and_broken_points_are_left_out() {
        let hull = convex_hull(&[
            p(360, 100.0, 50.0),
            p(540, 200.0, 60.0), // on the segment 100-300: not a corner
            p(720, 300.0, 70.0),
            p(720, 300.0, 65.0),  // same rate, worse
            p(1080, 400.0, 69.0), // more bits, less quality
            p(1080, f64::NAN, 99.0),
            p(1080, 0.0, 99.0),
        ]);
        assert_eq!(hull, vec![p(360, 100.0, 50.0), p(720, 300.0, 70.0)]);
        assert!(convex_hull(&[]).is_empty());
    }

    #[test]
    fn bitrate_targets_take_the_best_rung_that_fits_under_them() {
        let hull = convex_hull(&grid());
        let r = rungs_at_bitrates(&hull, &[5000.0, 150.0, 450.0, 1700.0, 500.0]);
        assert_eq!(
            r,
            vec![
                Some(p(1080, 3200.0, 93.0)),
                None, // below the lowest encode
                Some(p(360, 400.0, 70.0)),
                Some(p(720, 1600.0, 88.0)),
                None, // the same rung as 450
            ]
        );
    }

    #[test]
    fn quality_steps_walk_down_from_the_top_rung() {
        let hull = convex_hull(&grid());
        // Top capped at 4000 kbit/s: 93; then <= 87: 80; then <= 74: 70; then <= 64: 60.
        let r = rungs_by_quality(&hull, 6.0, 4000.0, 10);
        assert_eq!(
            r,
            vec![
                p(1080, 3200.0, 93.0),
                p(720, 800.0, 80.0),
                p(360, 400.0, 70.0),
                p(360, 200.0, 60.0),
            ]
        );
        assert_eq!(rungs_by_quality(&hull, 6.0, 4000.0, 2).len(), 2);
        assert!(rungs_by_quality(&hull, 6.0, 100.0, 10).is_empty());
    }
}
