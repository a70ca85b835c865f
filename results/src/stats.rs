//! The statistics behind every interval rdbench prints: medians and quantiles, and seeded
//! bootstrap intervals — of a mean over sequences (paired: each sequence carries its own
//! BD-rate, so resampling sequences resamples pairs), and of a ratio of summed medians over
//! jobs timed several times (resampling each job's repetitions).
//!
//! The generator is a fixed-seed SplitMix64, so a rerun on the same figures prints the same
//! interval on every machine.

use serde::{Deserialize, Serialize};

/// A two-sided interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// Whether `v` lies within the interval, bounds included.
    pub fn contains(&self, v: f64) -> bool {
        self.low <= v && v <= self.high
    }

    /// The interval with `f` applied to both bounds (`f` must be increasing).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval {
            low: f(self.low),
            high: f(self.high),
        }
    }
}

/// How bootstrap intervals are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Resamples (at least 2000 for a 95% interval whose bounds are stable to a tenth of a
    /// percent).
    pub resamples: u32,
    /// The generator's seed.
    pub seed: u64,
    /// Coverage (0.95: the 2.5th and 97.5th percentiles of the resampled statistic).
    pub level: f64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 4000,
            seed: 0x7264_6265_6e63_6821,
            level: 0.95,
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood): small, fast, and the same on every platform. The
/// bootstrap draws from it; tests use it for seeded cases.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n`, by rejection so every index is equally likely (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The mean of `values` (None when empty).
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The `q` quantile (0..=1) of sorted values, linearly interpolated between order statistics
/// (Hyndman and Fan's type 7, numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

impl Bootstrap {
    fn interval_of(&self, mut stats: Vec<f64>) -> Option<Interval> {
        stats.retain(|v| v.is_finite());
        if stats.is_empty() {
            return None;
        }
        stats.sort_by(f64::total_cmp);
        let tail = (1.0 - self.level) / 2.0;
        Some(Interval {
            low: quantile_sorted(&stats, tail),
            high: quantile_sorted(&stats, 1.0 - tail),
        })
    }

    /// The percentile interval of the mean of `values`, resampling the values with replacement.
    /// None with fewer than 2 values: one sequence says nothing about the spread.
    pub fn mean_interval(&self, values: &[f64]) -> Option<Interval> {
        if values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut rng = SplitMix64(self.seed);
        let n = values.len();
        let stats = (0..self.resamples)
            .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
            .collect();
        self.interval_of(stats)
    }

    /// The percentile interval of `sum(median(after)) / sum(median(before))` over `jobs`, each
    /// job's repetitions resampled with replacement on both sides. None unless every job has at
    /// least `min_repetitions` on both sides (a median of one or two timings has no spread to
    /// resample) and the sums are positive.
    pub fn ratio_interval(
        &self,
        jobs: &[(Vec<f64>, Vec<f64>)],
        min_repetitions: usize,
    ) -> Option<Interval> {
        if jobs.is_empty()
            || jobs
                .iter()
                .any(|(b, a)| b.len() < min_repetitions.max(1) || a.len() < min_repetitions.max(1))
        {
            return None;
        }
        let mut rng = SplitMix64(self.seed);
        let mut draw = |v: &[f64], scratch: &mut Vec<f64>| {
            scratch.clear();
            scratch.extend((0..v.len()).map(|_| v[rng.below(v.len())]));
            median(scratch)
        };
        let mut scratch = Vec::new();
        let stats = (0..self.resamples)
            .map(|_| {
                let (mut before, mut after) = (0.0, 0.0);
                for (b, a) in jobs {
                    before += draw(b, &mut scratch);
                    after += draw(a, &mut scratch);
                }
                if before > 0.0 {
                    after / before
                } else {
                    f64::NAN
                }
            })
            .collect();
        self.interval_of(stats)
    }
}

/// `sum(median(after)) / sum(median(before))` over `jobs` (None when the before-sum is not
/// positive).
pub fn ratio_of_medians(jobs: &[(Vec<f64>, Vec<f64>)]) -> Option<f64> {
    let before: f64 = jobs.iter().map(|(b, _)| median(b)).sum();
    let after: f64 = jobs.iter().map(|(_, a)| median(a)).sum();
    (before > 0.0 && after.is_finite()).then(|| after / before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_quantiles_match_numpy() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        // numpy.quantile([1, 2, 3, 4, 10], [0.025, 0.5, 0.975]) = [1.1, 3.0, 9.4]
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((quantile_sorted(&s, 0.025) - 1.1).abs() < 1e-12);
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert!((quantile_sorted(&s, 0.975) - 9.4).abs() < 1e-12);
    }

    #[test]
    fn the_generator_is_splitmix64() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut g = SplitMix64(0);
        assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn mean_intervals_are_reproducible_and_shrink_with_more_sequences() {
        let b = Bootstrap::default();
        let six: Vec<f64> = [-1.2, 0.3, -0.9, 0.1, -0.5, -0.2].to_vec();
        let sixty: Vec<f64> = six.iter().cycle().take(60).copied().collect();
        let i6 = b.mean_interval(&six).unwrap();
        let i60 = b.mean_interval(&sixty).unwrap();
        assert_eq!(b.mean_interval(&six), Some(i6), "same seed, same interval");
        let m = mean(&six).unwrap();
        assert!(i6.contains(m) && i60.contains(m));
        assert!(
            (i60.high - i60.low) < 0.5 * (i6.high - i6.low),
            "{i6:?} vs {i60:?}"
        );
        assert_eq!(b.mean_interval(&[1.0]), None);
        // Identical values: a point interval.
        let same = b.mean_interval(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((same.low, same.high), (2.0, 2.0));
    }

    #[test]
    fn the_mean_interval_covers_the_true_mean_about_95_percent_of_the_time() {
        // Samples of 30 from a known distribution (uniform on [0, 1), mean 0.5).
        let mut g = SplitMix64(42);
        let b = Bootstrap {
            resamples: 2000,
            ..Bootstrap::default()
        };
        let trials = 200;
        let covered = (0..trials)
            .filter(|_| {
                let v: Vec<f64> = (0..30)
                    .map(|_| (g.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
                    .collect();
                b.mean_interval(&v).unwrap().contains(0.5)
            })
            .count();
        assert!(
            (175..=199).contains(&covered),
            "covered {covered} of {trials}"
        );
    }

    #[test]
    fn ratio_intervals_need_repetitions_and_bracket_the_ratio() {
        let b = Bootstrap::default();
        let jobs = vec![
            (vec![1.00, 1.02, 0.98], vec![1.10, 1.12, 1.08]),
            (vec![2.00, 2.04, 1.96], vec![2.20, 2.22, 2.18]),
        ];
        let r = ratio_of_medians(&jobs).unwrap();
        assert!((r - 1.1).abs() < 1e-12);
        let i = b.ratio_interval(&jobs, 3).unwrap();
        assert!(i.contains(r) && i.low > 1.05 && i.high < 1.15, "{i:?}");
        let short = vec![(vec![1.0, 1.1], vec![1.0, 1.1])];
        assert_eq!(b.ratio_interval(&short, 3), None);
    }
}
