//! The decisions of the target-quality search, as pure functions: which samples of an input to
//! encode, which CRF to probe next given the probes so far, and when to stop. The search that
//! encodes and scores the probes (`crf_search.rs`) asks these and does nothing clever itself.
//!
//! Quality falls as CRF rises. The answer is the highest CRF whose pooled score reaches the
//! target: a probe scoring within `[target, target + tolerance]`, or, when no CRF on the grid
//! lands there, the ok side of two neighbouring grid CRFs that bracket the target.

use rdbench_bdrate::Pchip;
use serde::Serialize;

/// What the search looks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchSpec {
    /// Lowest CRF probed.
    pub min_crf: f64,
    /// Highest CRF probed.
    pub max_crf: f64,
    /// The CRF grid's spacing from `min_crf`: 1 for encoders taking whole CRFs.
    pub step: f64,
    /// The pooled score to reach.
    pub target: f64,
    /// A probe scoring in `[target, target + tolerance]` is the answer.
    pub tolerance: f64,
    /// Probes at most.
    pub max_probes: usize,
}

/// One probe: a CRF and the pooled score its encode reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Probe {
    /// The CRF.
    pub crf: f64,
    /// The pooled score.
    pub score: f64,
}

/// Why the search stopped at its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// A probe scored within the tolerance above the target.
    Tolerance,
    /// The answer's neighbour on the CRF grid scores below the target.
    Adjacent,
    /// Even the highest CRF allowed reaches the target.
    MaxCrf,
    /// The probe budget ran out with the target bracketed but not within the tolerance.
    ProbeLimit,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Encode and score this CRF.
    Probe(f64),
    /// The answer: the highest CRF known to reach the target.
    Found {
        /// The probe answering.
        probe: Probe,
        /// Why the search stopped.
        stop: Stop,
    },
    /// No CRF in range reaches the target: the best probe (the lowest CRF's).
    Unreachable {
        /// The probe with the highest score.
        best: Probe,
        /// Whether the lowest CRF allowed was probed (otherwise the probe budget ran out).
        tried_min: bool,
    },
}

impl SearchSpec {
    fn snap(&self, crf: f64) -> f64 {
        let k = ((crf - self.min_crf) / self.step).round();
        (self.min_crf + k * self.step).clamp(self.min_crf, self.max_crf)
    }

    fn eps(&self) -> f64 {
        self.step * 1e-6
    }
}

/// The next step of the search after `probes` (in the order they were made).
pub fn next(spec: &SearchSpec, probes: &[Probe]) -> Decision {
    let eps = spec.eps();
    if probes.is_empty() {
        return Decision::Probe(spec.snap((spec.min_crf + spec.max_crf) / 2.0));
    }
    // The highest CRF reaching the target, and the lowest CRF above it that does not.
    let ok = probes
        .iter()
        .filter(|p| p.score >= spec.target)
        .max_by(|a, b| a.crf.total_cmp(&b.crf))
        .copied();
    let bad = probes
        .iter()
        .filter(|p| p.score < spec.target && ok.map_or(true, |a| p.crf > a.crf))
        .min_by(|a, b| a.crf.total_cmp(&b.crf))
        .copied();
    if let Some(a) = ok {
        if a.score <= spec.target + spec.tolerance {
            return Decision::Found {
                probe: a,
                stop: Stop::Tolerance,
            };
        }
        if let Some(b) = bad {
            if b.crf - a.crf <= spec.step + eps {
                return Decision::Found {
                    probe: a,
                    stop: Stop::Adjacent,
                };
            }
        } else if a.crf >= spec.max_crf - eps {
            return Decision::Found {
                probe: a,
                stop: Stop::MaxCrf,
            };
        }
    }
    let best = *probes
        .iter()
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .expect("probes is not empty");
    if ok.is_none() && bad.is_some_and(|b| b.crf <= spec.min_crf + eps) {
        return Decision::Unreachable {
            best,
            tried_min: true,
        };
    }
    if probes.len() >= spec.max_probes {
        return match ok {
            Some(a) => Decision::Found {
                probe: a,
                stop: Stop::ProbeLimit,
            },
            None => Decision::Unreachable {
                best,
                tried_min: false,
            },
        };
    }
    // The CRFs still open: strictly between the bracket's ends, on the grid.
    let lo = ok.map_or(spec.min_crf, |a| a.crf + spec.step);
    let hi = bad.map_or(spec.max_crf, |b| b.crf - spec.step);
    let estimate = match (ok, bad) {
        (Some(a), Some(b)) => {
            let guess =
                interpolate(probes, spec.target, a.crf, b.crf).unwrap_or((a.crf + b.crf) / 2.0);
            // Two probes in a row on the same side of the target: the curve bends away from its
            // interpolant there, so the estimate is pushed one grid step further towards the
            // other side, to bracket the answer tightly instead of creeping up on it.
            let n = probes.len();
            let last_ok = probes[n - 1].score >= spec.target;
            let same_side = n >= 2 && last_ok == (probes[n - 2].score >= spec.target);
            match (same_side, last_ok) {
                (true, true) => guess + spec.step,
                (true, false) => guess - spec.step,
                (false, _) => guess,
            }
        }
        (Some(a), None) => extrapolate(probes, spec.target, a, spec),
        (None, Some(b)) => extrapolate(probes, spec.target, b, spec),
        (None, None) => unreachable!("every probe is either ok or bad"),
    };
    Decision::Probe(spec.snap(estimate).clamp(lo, hi))
}

/// The CRF in `[a, b]` where the PCHIP curve through the probes reaches `target`, when the
/// probes' scores fall strictly as CRF rises (otherwise None: the caller bisects).
fn interpolate(probes: &[Probe], target: f64, a: f64, b: f64) -> Option<f64> {
    let mut points: Vec<Probe> = probes.to_vec();
    points.sort_by(|p, q| p.crf.total_cmp(&q.crf));
    points.dedup_by(|p, q| p.crf == q.crf);
    if !points.windows(2).all(|w| w[1].score < w[0].score) {
        return None;
    }
    let x: Vec<f64> = points.iter().map(|p| p.crf).collect();
    let y: Vec<f64> = points.iter().map(|p| p.score).collect();
    let curve = Pchip::new(&x, &y)?;
    // PCHIP keeps the points' monotonicity, so the root in the bracket is unique.
    let (mut lo, mut hi) = (a, b);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if curve.value(mid) >= target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / 2.0)
}

/// The CRF at which the line through the two probes nearest `from` reaches `target`; with one
/// probe, an eighth of the CRF range towards the target. At most a quarter of the range away.
fn extrapolate(probes: &[Probe], target: f64, from: Probe, spec: &SearchSpec) -> f64 {
    let width = spec.max_crf - spec.min_crf;
    let towards = if from.score >= target { 1.0 } else { -1.0 };
    let mut others: Vec<&Probe> = probes.iter().filter(|p| p.crf != from.crf).collect();
    others.sort_by(|p, q| {
        (p.crf - from.crf)
            .abs()
            .total_cmp(&(q.crf - from.crf).abs())
    });
    let jump = match others.first() {
        Some(o) if (o.score - from.score).abs() > 1e-9 => {
            let slope = (o.score - from.score) / (o.crf - from.crf);
            let d = (target - from.score) / slope;
            if d * towards > 0.0 {
                d
            } else {
                towards * width / 8.0
            }
        }
        _ => towards * width / 8.0,
    };
    from.crf + jump.clamp(-width / 4.0, width / 4.0)
}

/// A stretch of frames the search encodes in place of the whole input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SampleSpan {
    /// First frame.
    pub start: u32,
    /// Frames.
    pub frames: u32,
}

/// The samples of an input of `frames` frames at `fps`: `count` (default: one per 12 minutes,
/// at least one) stretches of `seconds`, centred in equal parts of the input, each starting at
/// the first scene cut (from `cuts`, ascending frame numbers) in its first half, so a sample
/// starts like the shots the full encode starts with a keyframe. The whole input when the
/// samples would cover half of it or more.
pub fn plan_samples(
    frames: u32,
    fps: f64,
    count: Option<u32>,
    seconds: f64,
    cuts: &[u32],
) -> Vec<SampleSpan> {
    let duration = f64::from(frames) / fps;
    let n = count
        .unwrap_or_else(|| (duration / 720.0).ceil().max(1.0) as u32)
        .max(1);
    let len = ((seconds * fps).round() as u32).max(1);
    if u64::from(n) * u64::from(len) * 2 >= u64::from(frames) {
        return vec![SampleSpan { start: 0, frames }];
    }
    let part = f64::from(frames) / f64::from(n);
    let mut out: Vec<SampleSpan> = Vec::new();
    for i in 0..n {
        let centre = part * (f64::from(i) + 0.5);
        let nominal = (centre - f64::from(len) / 2.0).max(0.0) as u32;
        let earliest = out.last().map_or(0, |s| s.start + s.frames);
        let window = nominal..nominal + len / 2;
        let start = cuts
            .iter()
            .copied()
            .find(|c| window.contains(c) && *c >= earliest)
            .unwrap_or(nominal.max(earliest));
        let start = start.min(frames - len);
        if start < earliest {
            continue;
        }
        out.push(SampleSpan { start, frames: len });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(step: f64) -> SearchSpec {
        SearchSpec {
            min_crf: 10.0,
            max_crf: 50.0,
            step,
            target: 90.0,
            tolerance: 0.4,
            max_probes: 8,
        }
    }

    fn p(crf: f64, score: f64) -> Probe {
        Probe { crf, score }
    }

    /// The search against a known curve: the probes it makes and where it stops.
    fn run(spec: &SearchSpec, curve: impl Fn(f64) -> f64) -> (Vec<Probe>, Decision) {
        let mut probes = Vec::new();
        loop {
            match next(spec, &probes) {
                Decision::Probe(c) => {
                    assert!(
                        probes.iter().all(|q: &Probe| q.crf != c),
                        "{c} probed twice"
                    );
                    probes.push(p(c, curve(c)));
                }
                d => return (probes, d),
            }
        }
    }

    #[test]
    fn the_first_probe_is_the_middle_of_the_range_on_the_grid() {
        assert_eq!(next(&spec(1.0), &[]), Decision::Probe(30.0));
        let s = SearchSpec {
            min_crf: 1.0,
            max_crf: 63.0,
            ..spec(1.0)
        };
        assert_eq!(next(&s, &[]), Decision::Probe(32.0));
        let s = SearchSpec {
            min_crf: 0.0,
            max_crf: 51.0,
            ..spec(0.25)
        };
        assert_eq!(next(&s, &[]), Decision::Probe(25.5));
    }

    #[test]
    fn one_probe_steps_an_eighth_of_the_range_towards_the_target() {
        // Above the target: a higher CRF; below: a lower one.
        assert_eq!(next(&spec(1.0), &[p(30.0, 95.0)]), Decision::Probe(35.0));
        assert_eq!(next(&spec(1.0), &[p(30.0, 80.0)]), Decision::Probe(25.0));
    }

    #[test]
    fn two_probes_on_one_side_extrapolate_along_their_line() {
        // 95 at 30, 93 at 35: 0.4 per CRF, 90 at 42.5 -> 43 on the whole grid.
        let d = next(&spec(1.0), &[p(30.0, 95.0), p(35.0, 93.0)]);
        assert_eq!(d, Decision::Probe(43.0));
        // A flat line gives no direction: an eighth of the range.
        let d = next(&spec(1.0), &[p(30.0, 95.0), p(35.0, 95.0)]);
        assert_eq!(d, Decision::Probe(40.0));
        // A steep line far from the target is limited to a quarter of the range.
        let d = next(&spec(1.0), &[p(30.0, 99.9), p(31.0, 99.8)]);
        assert_eq!(d, Decision::Probe(41.0));
    }

    #[test]
    fn a_bracket_is_searched_on_the_pchip_curve() {
        // Linear data: PCHIP is the line, 90 at 32.5, 32.5 on a 0.25 grid.
        let d = next(&spec(0.25), &[p(30.0, 95.0), p(35.0, 85.0)]);
        assert_eq!(d, Decision::Probe(32.5));
    }

    #[test]
    fn stops_within_the_tolerance_or_between_neighbours() {
        let d = next(&spec(1.0), &[p(30.0, 95.0), p(34.0, 90.3)]);
        assert_eq!(
            d,
            Decision::Found {
                probe: p(34.0, 90.3),
                stop: Stop::Tolerance
            }
        );
        // 33 reaches 90.9 (outside the tolerance) and 34 misses: 33 is the answer.
        let d = next(&spec(1.0), &[p(30.0, 95.0), p(34.0, 89.0), p(33.0, 90.9)]);
        assert_eq!(
            d,
            Decision::Found {
                probe: p(33.0, 90.9),
                stop: Stop::Adjacent
            }
        );
    }

    #[test]
    fn the_range_ends_answer_or_refuse() {
        let d = next(&spec(1.0), &[p(30.0, 97.0), p(50.0, 92.0)]);
        assert_eq!(
            d,
            Decision::Found {
                probe: p(50.0, 92.0),
                stop: Stop::MaxCrf
            }
        );
        let d = next(&spec(1.0), &[p(30.0, 80.0), p(10.0, 88.0)]);
        assert_eq!(
            d,
            Decision::Unreachable {
                best: p(10.0, 88.0),
                tried_min: true
            }
        );
    }

    #[test]
    fn a_score_that_rises_with_crf_is_bisected() {
        // Noise: 33 scores above 31. Not monotone, so the bracket [31, 36] is bisected.
        let probes = [p(31.0, 91.0), p(36.0, 85.0), p(33.0, 91.5)];
        assert_eq!(next(&spec(1.0), &probes), Decision::Probe(35.0));
    }

    #[test]
    fn the_probe_budget_ends_the_search() {
        let s = SearchSpec {
            max_probes: 2,
            ..spec(0.25)
        };
        let d = next(&s, &[p(30.0, 95.0), p(40.0, 80.0)]);
        assert_eq!(
            d,
            Decision::Found {
                probe: p(30.0, 95.0),
                stop: Stop::ProbeLimit
            }
        );
    }

    #[test]
    fn realistic_curves_are_solved_in_a_few_probes() {
        // Convex and concave curves shaped like encoders' VMAF against CRF.
        let curves: [(&str, fn(f64) -> f64); 3] = [
            ("x264-like", |c| 100.0 - 0.012 * (c - 5.0).powi(2)),
            ("av1-like", |c| 99.0 - 0.35 * c - 0.004 * c * c),
            ("steep", |c| 130.0 - 1.4 * c),
        ];
        for (name, f) in curves {
            for step in [1.0, 0.25] {
                let (probes, d) = run(&spec(step), f);
                let Decision::Found { probe, stop } = d else {
                    panic!("{name}: {d:?}");
                };
                assert!(probes.len() <= 6, "{name} step {step}: {probes:?}");
                assert!(probe.score >= 90.0, "{name}: {probe:?}");
                // On the grid, the answer is the highest CRF reaching 90.
                assert!(
                    f(probe.crf + step) < 90.0 || stop == Stop::Tolerance,
                    "{name}"
                );
                if stop == Stop::Tolerance {
                    assert!(probe.score <= 90.4);
                }
            }
        }
    }

    /// Scores SVT-AV1 preset 10 reached on a generated 640x360 clip (rdbench crf-search), joined
    /// by straight lines: the search needs at most 5 probes for VMAF 90.
    #[test]
    fn a_measured_svt_av1_curve_is_solved_in_five_probes() {
        let measured = [
            (32.0, 95.736),
            (40.0, 92.777),
            (45.0, 90.739),
            (46.0, 90.183),
            (47.0, 89.983),
            (48.0, 89.436),
        ];
        let curve = |c: f64| {
            let k = measured
                .windows(2)
                .position(|w| c <= w[1].0)
                .unwrap_or(measured.len() - 2);
            let ((x0, y0), (x1, y1)) = (measured[k], measured[k + 1]);
            y0 + (c - x0) * (y1 - y0) / (x1 - x0)
        };
        let s = SearchSpec {
            min_crf: 1.0,
            max_crf: 63.0,
            ..spec(1.0)
        };
        let (probes, d) = run(&s, curve);
        assert!(probes.len() <= 5, "{probes:?}");
        assert!(
            matches!(d, Decision::Found { probe, .. } if probe.crf == 46.0),
            "{d:?} after {probes:?}"
        );
    }

    #[test]
    fn samples_are_spread_and_start_at_scene_cuts() {
        // 30 minutes at 30 fps: three samples of 20 s (600 frames), centred in thirds.
        let frames = 30 * 60 * 30;
        let s = plan_samples(frames, 30.0, None, 20.0, &[]);
        assert_eq!(
            s,
            vec![
                SampleSpan {
                    start: 8700,
                    frames: 600
                },
                SampleSpan {
                    start: 26700,
                    frames: 600
                },
                SampleSpan {
                    start: 44700,
                    frames: 600
                },
            ]
        );
        // A cut in the first half of a sample's place moves its start there; one outside does not.
        let s = plan_samples(frames, 30.0, None, 20.0, &[8650, 8800, 27100]);
        assert_eq!(s[0].start, 8800);
        assert_eq!(s[1].start, 26700);
        // A short input is used whole.
        let s = plan_samples(1200, 30.0, None, 20.0, &[]);
        assert_eq!(
            s,
            vec![SampleSpan {
                start: 0,
                frames: 1200
            }]
        );
        // Explicit count and length.
        let s = plan_samples(3000, 25.0, Some(4), 2.0, &[]);
        assert_eq!(s.len(), 4);
        assert!(s.windows(2).all(|w| w[0].start + w[0].frames <= w[1].start));
        assert!(s
            .iter()
            .all(|x| x.frames == 50 && x.start + x.frames <= 3000));
    }
}
