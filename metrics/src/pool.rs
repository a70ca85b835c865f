//! Pooling of a per-frame score series into one summary: mean, harmonic mean, minimum, low
//! percentiles and standard deviation.
//!
//! Definitions:
//!
//! * `harmonic_mean` is libvmaf's: `n / Σ 1/(x_i + 1) − 1` (the +1 keeps zero scores finite);
//! * percentiles use linear interpolation between closest ranks on the ascending series (the
//!   "R-7" / NumPy default): for p in [0, 100], rank `h = (n − 1)·p/100`, value
//!   `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋])`;
//! * `stddev` is the population standard deviation (divides by n).

use serde::Serialize;

/// Summary statistics of a per-frame series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pooled {
    /// Arithmetic mean.
    pub mean: f64,
    /// libvmaf's harmonic mean: `n / Σ 1/(x + 1) − 1`.
    pub harmonic_mean: f64,
    /// Minimum.
    pub min: f64,
    /// 1st percentile (linear interpolation).
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Population standard deviation.
    pub stddev: f64,
}

impl Pooled {
    /// Pools `values`; `None` for an empty series or one holding NaN.
    pub fn from_series(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let inv: f64 = values.iter().map(|v| 1.0 / (v + 1.0)).sum();
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            mean,
            harmonic_mean: n / inv - 1.0,
            min: sorted[0],
            p1: percentile_sorted(&sorted, 1.0),
            p5: percentile_sorted(&sorted, 5.0),
            p10: percentile_sorted(&sorted, 10.0),
            stddev: var.sqrt(),
        })
    }
}

/// The `p`-th percentile (0..=100) of an ascending, non-empty series, interpolating linearly.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_series() {
        // 1..=10: mean 5.5, population variance 8.25.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let p = Pooled::from_series(&v).unwrap();
        assert_eq!(p.mean, 5.5);
        assert_eq!(p.min, 1.0);
        assert!((p.stddev - 8.25f64.sqrt()).abs() < 1e-15);
        // h = 9 * 0.01 = 0.09 -> 1 + 0.09 * (2 - 1)
        assert!((p.p1 - 1.09).abs() < 1e-12);
        assert!((p.p5 - 1.45).abs() < 1e-12);
        assert!((p.p10 - 1.9).abs() < 1e-12);
        // n / sum(1/(x+1)) - 1 with x + 1 = 2..=11
        let inv: f64 = (2..=11).map(|k| 1.0 / k as f64).sum();
        assert_eq!(p.harmonic_mean, 10.0 / inv - 1.0);
    }

    #[test]
    fn harmonic_mean_of_zero_and_hundred() {
        // 2 / (1/1 + 1/101) - 1 = 202/102 - 1 = 0.98039...
        let p = Pooled::from_series(&[0.0, 100.0]).unwrap();
        assert!((p.harmonic_mean - (202.0 / 102.0 - 1.0)).abs() < 1e-15);
        assert_eq!(p.mean, 50.0);
        assert_eq!(p.stddev, 50.0);
    }

    #[test]
    fn constant_and_single_series() {
        let p = Pooled::from_series(&[42.0]).unwrap();
        assert_eq!(
            (p.mean, p.min, p.p1, p.p10, p.stddev),
            (42.0, 42.0, 42.0, 42.0, 0.0)
        );
        assert!((p.harmonic_mean - 42.0).abs() < 1e-12);
        assert!(Pooled::from_series(&[]).is_none());
        assert!(Pooled::from_series(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn order_does_not_matter() {
        let a = Pooled::from_series(&[3.0, 1.0, 2.0, 9.0]).unwrap();
        let b = Pooled::from_series(&[9.0, 2.0, 3.0, 1.0]).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn serializes_with_the_documented_field_names() {
        let p = Pooled::from_series(&[1.0, 1.0]).unwrap();
        let json = serde_json::to_value(p).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = ["mean", "harmonic_mean", "min", "p1", "p5", "p10", "stddev"];
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);
    }
}
