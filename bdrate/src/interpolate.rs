//! Interpolants of one RD curve for Bjøntegaard deltas, and their exact integrals.
//!
//! Three ways to turn sample points `(x, y)` (x strictly increasing) into a function:
//! - a polynomial of degree 3 fitted by least squares (exact through 4 points), as VCEG-M33 does,
//!   with the abscissa centred and scaled to `[-1, 1]` before the fit;
//! - piecewise cubic Hermite with PCHIP slopes (the JCT-VC/JVET spreadsheets, scipy's
//!   `PchipInterpolator`), including its one-sided shape-preserving end-point rule;
//! - piecewise cubic Hermite with Akima's slopes (as scipy's `Akima1DInterpolator`, default
//!   variant, which "Beyond Bjøntegaard" uses).
//!
//! Every interpolant integrates exactly (antiderivatives of the cubic pieces, no quadrature) and can
//! report its smallest slope over an interval, which is how fits that dip are detected.

use super::BdMethod;

/// A fitted curve `y = f(x)` over the sample points' x range.
#[derive(Debug, Clone)]
pub(crate) enum Interpolant {
    /// One polynomial in the scaled variable `s = (x - centre) / half_width`.
    Polynomial {
        /// Centre of the samples' x range.
        centre: f64,
        /// Half the width of the samples' x range (positive).
        half_width: f64,
        /// Coefficients in ascending powers of `s`.
        coefficients: Vec<f64>,
    },
    /// Piecewise cubic Hermite: values and first derivatives at the breakpoints.
    Hermite {
        /// Breakpoints, strictly increasing.
        x: Vec<f64>,
        /// Values at the breakpoints.
        y: Vec<f64>,
        /// First derivatives at the breakpoints.
        slopes: Vec<f64>,
    },
}

impl Interpolant {
    /// Fits `y = f(x)` by `method`. `x` must be strictly increasing, finite and hold at least two
    /// points (the caller checks); with fewer than 4 points the polynomial method fits the degree
    /// the points determine (linear through 2, quadratic through 3).
    pub(crate) fn fit(method: BdMethod, x: &[f64], y: &[f64]) -> Interpolant {
        debug_assert!(x.len() >= 2 && x.len() == y.len());
        debug_assert!(x.windows(2).all(|w| w[0] < w[1]));
        match method {
            BdMethod::Cubic => fit_polynomial(x, y, 3),
            BdMethod::Pchip => Interpolant::Hermite {
                x: x.to_vec(),
                y: y.to_vec(),
                slopes: pchip_slopes(x, y),
            },
            BdMethod::Akima => Interpolant::Hermite {
                x: x.to_vec(),
                y: y.to_vec(),
                slopes: akima_slopes(x, y),
            },
        }
    }

    /// The exact integral of the interpolant over `[a, b]`, with `a <= b` inside the samples' range.
    pub(crate) fn integrate(&self, a: f64, b: f64) -> f64 {
        match self {
            Interpolant::Polynomial {
                centre,
                half_width,
                coefficients,
            } => {
                let antiderivative = |s: f64| {
                    coefficients
                        .iter()
                        .enumerate()
                        .rev()
                        .fold(0.0, |acc, (power, c)| acc * s + c / (power + 1) as f64)
                        * s
                };
                let sa = (a - centre) / half_width;
                let sb = (b - centre) / half_width;
                half_width * (antiderivative(sb) - antiderivative(sa))
            }
            Interpolant::Hermite { x, .. } => {
                let mut total = 0.0;
                for k in 0..x.len() - 1 {
                    let (lo, hi) = (a.max(x[k]), b.min(x[k + 1]));
                    if lo < hi {
                        let piece = self.piece(k);
                        total += piece.antiderivative(hi - x[k]) - piece.antiderivative(lo - x[k]);
                    }
                }
                total
            }
        }
    }

    /// The value of a Hermite interpolant at `at`, extending its end pieces outside the
    /// samples' range.
    pub(crate) fn value(&self, at: f64) -> f64 {
        match self {
            Interpolant::Polynomial {
                centre,
                half_width,
                coefficients,
            } => {
                let s = (at - centre) / half_width;
                coefficients.iter().rev().fold(0.0, |acc, c| acc * s + c)
            }
            Interpolant::Hermite { x, .. } => {
                let k = x[1..x.len() - 1].partition_point(|&b| b <= at);
                let p = self.piece(k);
                let t = at - x[k];
                p.y + t * (p.d + t * (p.c2 + t * p.c3))
            }
        }
    }

    /// The smallest first derivative of the interpolant over `[a, b]`.
    pub(crate) fn min_slope(&self, a: f64, b: f64) -> f64 {
        match self {
            Interpolant::Polynomial {
                centre,
                half_width,
                coefficients,
            } => {
                // d/dx p((x - c) / w) = p'(s) / w, with p' = c1 + 2 c2 s + 3 c3 s^2.
                let mut derivative = [0.0; 3];
                for (power, c) in coefficients.iter().enumerate().skip(1) {
                    derivative[power - 1] = power as f64 * c / half_width;
                }
                let sa = (a - centre) / half_width;
                let sb = (b - centre) / half_width;
                min_of_quadratic(derivative, sa, sb)
            }
            Interpolant::Hermite { x, .. } => {
                let mut min = f64::INFINITY;
                for k in 0..x.len() - 1 {
                    let (lo, hi) = (a.max(x[k]), b.min(x[k + 1]));
                    if lo <= hi {
                        let piece = self.piece(k);
                        let derivative = [piece.d, 2.0 * piece.c2, 3.0 * piece.c3];
                        min = min.min(min_of_quadratic(derivative, lo - x[k], hi - x[k]));
                    }
                }
                min
            }
        }
    }

    /// The cubic on piece `k` of a Hermite interpolant, in the local variable `t = x - x[k]`.
    fn piece(&self, k: usize) -> CubicPiece {
        let Interpolant::Hermite { x, y, slopes } = self else {
            unreachable!("piece() is only called on Hermite interpolants")
        };
        let h = x[k + 1] - x[k];
        let secant = (y[k + 1] - y[k]) / h;
        let (d0, d1) = (slopes[k], slopes[k + 1]);
        CubicPiece {
            y: y[k],
            d: d0,
            c2: (3.0 * secant - 2.0 * d0 - d1) / h,
            c3: (d0 + d1 - 2.0 * secant) / (h * h),
        }
    }
}

/// `y + d t + c2 t^2 + c3 t^3`.
struct CubicPiece {
    y: f64,
    d: f64,
    c2: f64,
    c3: f64,
}

impl CubicPiece {
    fn antiderivative(&self, t: f64) -> f64 {
        t * (self.y + t * (self.d / 2.0 + t * (self.c2 / 3.0 + t * self.c3 / 4.0)))
    }
}

/// The minimum of `q[0] + q[1] t + q[2] t^2` over `[lo, hi]`.
fn min_of_quadratic(q: [f64; 3], lo: f64, hi: f64) -> f64 {
    let at = |t: f64| q[0] + t * (q[1] + t * q[2]);
    let mut min = at(lo).min(at(hi));
    if q[2] > 0.0 {
        let vertex = -q[1] / (2.0 * q[2]);
        if lo < vertex && vertex < hi {
            min = min.min(at(vertex));
        }
    }
    min
}

/// Least-squares polynomial of degree `min(max_degree, n - 1)` through the points, fitted in the
/// centred and scaled abscissa (the raw Vandermonde matrix of, say, PSNR values near 40 cubed is
/// ill-conditioned) by Householder QR.
fn fit_polynomial(x: &[f64], y: &[f64], max_degree: usize) -> Interpolant {
    let n = x.len();
    let columns = (max_degree + 1).min(n);
    let (lo, hi) = (x[0], x[n - 1]);
    let centre = 0.5 * (lo + hi);
    let half_width = 0.5 * (hi - lo);
    // Column-major Vandermonde matrix in s.
    let mut a: Vec<Vec<f64>> = (0..columns)
        .map(|power| {
            x.iter()
                .map(|&xi| ((xi - centre) / half_width).powi(power as i32))
                .collect()
        })
        .collect();
    let mut b = y.to_vec();
    for j in 0..columns {
        let norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|e| e * e).sum();
        if vv == 0.0 {
            continue;
        }
        let reflect = |col: &mut [f64]| {
            let dot: f64 = v.iter().zip(col.iter()).map(|(p, q)| p * q).sum();
            let scale = 2.0 * dot / vv;
            for (c, vi) in col.iter_mut().zip(&v) {
                *c -= scale * vi;
            }
        };
        for column in a.iter_mut().skip(j + 1) {
            reflect(&mut column[j..]);
        }
        reflect(&mut b[j..]);
        a[j][j] = alpha;
        for value in a[j][j + 1..].iter_mut() {
            *value = 0.0;
        }
    }
    // Back substitution: R c = (Q^T y)[..columns].
    let mut coefficients = vec![0.0; columns];
    for i in (0..columns).rev() {
        let mut sum = b[i];
        for k in i + 1..columns {
            sum -= a[k][i] * coefficients[k];
        }
        coefficients[i] = sum / a[i][i];
    }
    Interpolant::Polynomial {
        centre,
        half_width,
        coefficients,
    }
}

/// PCHIP slopes as scipy's `PchipInterpolator` computes them: a weighted harmonic mean of the
/// neighbouring secants inside (zero where they differ in sign or either is zero), and at each
/// end a one-sided three-point estimate, set to zero if its sign differs from the end secant's
/// and limited to three times the end secant if the first two secants differ in sign. Two points
/// give the straight line.
fn pchip_slopes(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len();
    let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let m: Vec<f64> = (0..n - 1).map(|k| (y[k + 1] - y[k]) / h[k]).collect();
    if n == 2 {
        return vec![m[0], m[0]];
    }
    let mut d = vec![0.0; n];
    for k in 1..n - 1 {
        let (m_prev, m_next) = (m[k - 1], m[k]);
        if m_prev == 0.0 || m_next == 0.0 || m_prev.signum() != m_next.signum() {
            continue;
        }
        let w1 = 2.0 * h[k] + h[k - 1];
        let w2 = h[k] + 2.0 * h[k - 1];
        d[k] = 1.0 / ((w1 / m_prev + w2 / m_next) / (w1 + w2));
    }
    d[0] = pchip_end_slope(h[0], h[1], m[0], m[1]);
    d[n - 1] = pchip_end_slope(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
    d
}

/// The end rule: `h0`, `m0` belong to the end interval, `h1`, `m1` to its neighbour.
fn pchip_end_slope(h0: f64, h1: f64, m0: f64, m1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if sign(d) != sign(m0) {
        0.0
    } else if sign(m0) != sign(m1) && d.abs() > 3.0 * m0.abs() {
        3.0 * m0
    } else {
        d
    }
}

/// numpy's `sign`: -1, 0 or 1.
fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// Akima slopes as scipy's `Akima1DInterpolator` (method "akima") computes them: the secants are
/// extended by two linearly extrapolated secants at each end, each slope is the weighted mean of
/// the two secants beside its point with weights `|m[i+1] - m[i]|` and `|m[i-1] - m[i-2]|`, and
/// where both weights are (relatively) zero the plain mean of the outer secants is used. Two points
/// give the straight line.
fn akima_slopes(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 2 {
        let m = (y[1] - y[0]) / (x[1] - x[0]);
        return vec![m, m];
    }
    // m[2..n+1] are the n - 1 secants; two extrapolated on each side.
    let mut m = vec![0.0; n + 3];
    for k in 0..n - 1 {
        m[k + 2] = (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
    }
    m[1] = 2.0 * m[2] - m[3];
    m[0] = 2.0 * m[1] - m[2];
    m[n + 1] = 2.0 * m[n] - m[n - 1];
    m[n + 2] = 2.0 * m[n + 1] - m[n];
    let dm: Vec<f64> = m.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let f12: Vec<f64> = (0..n).map(|i| dm[i + 2] + dm[i]).collect();
    let f12_max = f12.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    const BREAK_MULT: f64 = 1e-9;
    (0..n)
        .map(|i| {
            if f12[i] > BREAK_MULT * f12_max {
                m[i + 1] + dm[i] / f12[i] * (m[i + 2] - m[i + 1])
            } else {
                0.5 * (m[i + 3] + m[i])
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cubic is reproduced exactly by the 4-point fit, and its integral matches the closed form.
    #[test]
    fn polynomial_fit_reproduces_a_cubic() {
        let f = |x: f64| 2.0 - 0.5 * x + 0.25 * x * x - 0.01 * x * x * x;
        let xs = [30.0, 33.0, 37.0, 41.0];
        let ys: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
        let fit = Interpolant::fit(BdMethod::Cubic, &xs, &ys);
        let big_f = |x: f64| 2.0 * x - 0.25 * x * x + x * x * x / 12.0 - 0.0025 * x.powi(4);
        let exact = big_f(39.0) - big_f(31.0);
        assert!((fit.integrate(31.0, 39.0) - exact).abs() < 1e-9 * exact.abs());
    }

    /// Least squares above 4 points: a cubic with noise-free extra points is still exact.
    #[test]
    fn polynomial_least_squares_with_six_points() {
        let f = |x: f64| 1.0 + x - 0.1 * x * x + 0.003 * x * x * x;
        let xs = [1.0, 2.0, 4.0, 5.5, 7.0, 9.0];
        let ys: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
        let fit = Interpolant::fit(BdMethod::Cubic, &xs, &ys);
        let big_f = |x: f64| x + x * x / 2.0 - 0.1 * x.powi(3) / 3.0 + 0.003 * x.powi(4) / 4.0;
        assert!((fit.integrate(1.0, 9.0) - (big_f(9.0) - big_f(1.0))).abs() < 1e-10);
    }

    /// Hermite pieces of collinear data are the line itself for both slope rules.
    #[test]
    fn hermite_of_a_line_is_the_line() {
        let xs = [0.0, 1.0, 3.0, 4.0, 7.0];
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
        for method in [BdMethod::Pchip, BdMethod::Akima] {
            let fit = Interpolant::fit(method, &xs, &ys);
            // Integral of 2x + 1 over [0.5, 6] = (36 + 6) - (0.25 + 0.5).
            assert!((fit.integrate(0.5, 6.0) - 41.25).abs() < 1e-12, "{method}");
            assert!((fit.min_slope(0.0, 7.0) - 2.0).abs() < 1e-12, "{method}");
        }
    }

    /// PCHIP's interior slope is the weighted harmonic mean; hand-computed for h = (1, 2),
    /// secants (1, 4): w1 = 2*2 + 1 = 5, w2 = 2 + 2*1 = 4, d = 9 / (5/1 + 4/4) = 1.5.
    #[test]
    fn pchip_interior_slope_by_hand() {
        let d = pchip_slopes(&[0.0, 1.0, 3.0], &[0.0, 1.0, 9.0]);
        assert!((d[1] - 1.5).abs() < 1e-15);
        // End: ((2*1 + 2)*1 - 1*4) / 3 = 0 -> sign differs from m0 -> 0.
        assert_eq!(d[0], 0.0);
        // Other end: ((2*2 + 1)*4 - 2*1) / 3 = 6.
        assert!((d[2] - 6.0).abs() < 1e-15);
    }

    /// A polynomial that turns over inside the interval has a negative minimum slope.
    #[test]
    fn min_slope_finds_a_dip() {
        let xs = [0.0, 1.0, 2.0, 3.0];
        let ys = [0.0, 1.0, 0.5, 2.0];
        let fit = Interpolant::fit(BdMethod::Cubic, &xs, &ys);
        assert!(fit.min_slope(0.0, 3.0) < 0.0);
        let pchip = Interpolant::fit(BdMethod::Pchip, &xs, &ys);
        assert!(pchip.min_slope(0.0, 3.0) < 0.0);
    }
}
