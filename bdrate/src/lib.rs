//! Bjøntegaard deltas between two rate-distortion curves: BD-rate (average bitrate difference at
//! equal quality, in percent) and BD-quality (average quality difference at equal rate: BD-PSNR,
//! BD-SSIM, BD-VMAF, in the metric's own units), by the cubic (VCEG-M33), PCHIP (JCT-VC/JVET
//! spreadsheets, the default) or Akima ("Beyond Bjøntegaard") method, and RD curves read from CSV
//! files. Averages over sequences and classes are the results crate's (one analysis).
//!
//! # How a comparison goes
//!
//! Each curve is sorted by rate. BD-rate interpolates `log10(rate)` as a function of quality and
//! averages the test-minus-anchor difference over the overlap of the two quality ranges; the
//! percentage is `(10^avg - 1) * 100`. BD-quality interpolates quality as a function of
//! `log10(rate)` and averages the difference over the overlap of the two log-rate ranges. All
//! integrals are exact (polynomial antiderivatives), never sampled.
//!
//! # When the answer is null and when it only carries a warning
//!
//! A number is returned only where it is well defined; otherwise the field is `None` and
//! [`BdResult::reason`] says why. The rules, and why:
//!
//! - **Bad values** (a rate that is not finite and positive, a quality that is not finite): both
//!   null. `log10` of such a rate does not exist.
//! - **Duplicated points** (same rate): identical points are merged into one and
//!   [`BdWarning::DuplicatedPoints`] is raised. Two points at the same rate with *different*
//!   qualities make the curve not a function of rate; there is no honest way to pick one, so both
//!   results are null (the warning is raised too).
//! - **Fewer than 2 points** (after merging and the optional VMAF cut): both null; no curve.
//! - **Non-monotonic curve** (quality not strictly increasing with rate, plateaus included):
//!   [`BdWarning::NonMonotonic`]. BD-rate is null for *every* method: it needs rate as a function
//!   of quality, and a curve whose quality falls (or stays flat) as rate rises has two rates for
//!   one quality, so the inverse does not exist. PCHIP and Akima cannot even be built on a
//!   non-increasing abscissa, and the cubic fit, which can, is exactly what produces the -99.99 %
//!   or +1718 % answers other tools print. BD-quality stays defined (quality as a function of
//!   rate needs only distinct rates) and is returned with the warning.
//! - **No overlap** of the ranges on the integration axis (quality for BD-rate, log-rate for
//!   BD-quality), including ranges that only touch: that result is null.
//! - **Partial overlap**, under [`BdOptions::min_overlap`] (75 % by default) of the union of the
//!   two ranges on either integration axis: [`BdWarning::PartialOverlap`], value returned. The
//!   number is defined but describes only part of the curves.
//! - **Fewer than 4 points for the cubic fit**: [`BdWarning::FewerThanFourPoints`], and the
//!   polynomial has the degree the points determine (a line through 2, a parabola through 3)
//!   instead of an under-determined cubic.
//! - **A fitted curve that is not monotonic over the overlap** although the points are (the cubic
//!   polynomial can swing between points; Akima can overshoot): [`BdWarning::NonMonotonicFit`],
//!   value returned. PCHIP never raises it on monotonic points.
//! - **A numerically non-finite result** (it should not happen on validated input): null.
//!
//! # VMAF saturation (AOM CTC)
//!
//! With [`BdOptions::vmaf_saturation`], each curve is cut where VMAF saturates, following the rule
//! of the AOM common test conditions' BD-rate scripts (the AV2 CTC "convex hull" framework): walk
//! the points in increasing rate; at the first point whose VMAF is not above that of the previous
//! kept point while the previous kept point is at or above 99.5, drop that point and every point
//! of higher rate. The AOM script uses "lower than" and separately drops the higher-rate point of
//! two equal VMAF values; rdbench treats an equal value at or above 99.5 as the start of the
//! plateau as well, which gives the same kept points except when the curve climbs again after a
//! tie. Non-monotonicity below 99.5 is not cut (the AOM script reports it as an error; here
//! BD-rate is null as above). The cut raises [`BdWarning::VmafSaturationCut`].

#![forbid(unsafe_code)]

pub mod csv;
mod interpolate;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use interpolate::Interpolant;

/// A monotone-preserving curve through sample points: the PCHIP interpolant BD-rates use,
/// for other code that needs the same curve (the target-quality search inverts it).
#[derive(Debug, Clone)]
pub struct Pchip(Interpolant);

impl Pchip {
    /// The PCHIP curve through `(x, y)`; None unless there are at least two points, all finite,
    /// with `x` strictly increasing.
    pub fn new(x: &[f64], y: &[f64]) -> Option<Pchip> {
        let finite = x.iter().chain(y).all(|v| v.is_finite());
        if x.len() < 2 || x.len() != y.len() || !finite || !x.windows(2).all(|w| w[0] < w[1]) {
            return None;
        }
        Some(Pchip(Interpolant::fit(BdMethod::Pchip, x, y)))
    }

    /// The curve's value at `x` (the end pieces extended outside the points' range).
    pub fn value(&self, x: f64) -> f64 {
        self.0.value(x)
    }
}

/// The VMAF score at or above which a curve is treated as saturated (AOM CTC).
pub const VMAF_SATURATION_THRESHOLD: f64 = 99.5;

/// The default minimum overlap (fraction of the union of the two ranges) below which
/// [`BdWarning::PartialOverlap`] is raised.
pub const DEFAULT_MIN_OVERLAP: f64 = 0.75;

/// One encode on an RD curve: its rate (any consistent unit, typically kbit/s) and its quality
/// (PSNR in dB, SSIM, VMAF, ...).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatePoint {
    /// The bitrate; must be finite and positive.
    pub rate: f64,
    /// The quality score; must be finite.
    pub quality: f64,
}

impl RatePoint {
    /// A point from its rate and quality.
    pub fn new(rate: f64, quality: f64) -> Self {
        RatePoint { rate, quality }
    }
}

/// A rate-distortion curve: the points of one encoder configuration on one sequence, kept sorted
/// by rate (then quality), whatever order they were given in.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct RdCurve {
    points: Vec<RatePoint>,
}

impl RdCurve {
    /// A curve from points in any order. Values are not validated here: [`bd_compare`] reports bad
    /// values as a null result with a reason.
    pub fn new(points: impl IntoIterator<Item = RatePoint>) -> Self {
        let mut points: Vec<RatePoint> = points.into_iter().collect();
        points.sort_by(|a, b| {
            a.rate
                .total_cmp(&b.rate)
                .then(a.quality.total_cmp(&b.quality))
        });
        RdCurve { points }
    }

    /// The points, sorted by rate.
    pub fn points(&self) -> &[RatePoint] {
        &self.points
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the curve has no point.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The curve cut where VMAF saturates (see the module documentation): the points are walked
    /// in increasing rate and the walk stops at the first point whose quality is not above the
    /// previous kept point's while that one is at or above [`VMAF_SATURATION_THRESHOLD`].
    pub fn cut_vmaf_saturation(&self) -> RdCurve {
        let mut kept: Vec<RatePoint> = Vec::with_capacity(self.points.len());
        for &point in &self.points {
            if let Some(last) = kept.last() {
                if last.quality >= VMAF_SATURATION_THRESHOLD && point.quality <= last.quality {
                    break;
                }
            }
            kept.push(point);
        }
        RdCurve { points: kept }
    }
}

impl FromIterator<RatePoint> for RdCurve {
    fn from_iter<I: IntoIterator<Item = RatePoint>>(iter: I) -> Self {
        RdCurve::new(iter)
    }
}

impl From<Vec<RatePoint>> for RdCurve {
    fn from(points: Vec<RatePoint>) -> Self {
        RdCurve::new(points)
    }
}

/// How each RD curve is interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BdMethod {
    /// VCEG-M33: one cubic polynomial, least squares above 4 points.
    Cubic,
    /// Piecewise cubic Hermite with PCHIP slopes (JCT-VC/JVET spreadsheets).
    #[default]
    Pchip,
    /// Piecewise cubic Hermite with Akima's slopes.
    Akima,
}

impl BdMethod {
    /// Every method, in a stable order.
    pub const ALL: [BdMethod; 3] = [BdMethod::Cubic, BdMethod::Pchip, BdMethod::Akima];

    /// The method's name as written on command lines and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BdMethod::Cubic => "cubic",
            BdMethod::Pchip => "pchip",
            BdMethod::Akima => "akima",
        }
    }
}

impl fmt::Display for BdMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that is not one of `cubic`, `pchip`, `akima`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown BD method '{0}' (expected cubic, pchip or akima)")]
pub struct UnknownBdMethod(pub String);

impl FromStr for BdMethod {
    type Err = UnknownBdMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BdMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownBdMethod(s.to_owned()))
    }
}

/// Something about the input that makes a result less trustworthy or changes what it covers.
/// Serialised as a snake_case string (`"non_monotonic"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BdWarning {
    /// Quality does not strictly increase with rate on at least one curve.
    NonMonotonic,
    /// At least one curve has several points at the same rate.
    DuplicatedPoints,
    /// The curves overlap on less than the minimum fraction of the union of their ranges, on the
    /// quality axis (BD-rate) or the log-rate axis (BD-quality).
    PartialOverlap,
    /// The cubic method had fewer than 4 points on a curve and fitted a lower degree.
    FewerThanFourPoints,
    /// A fitted curve is not monotonic over the integration interval although its points are.
    NonMonotonicFit,
    /// The VMAF saturation rule removed points from at least one curve.
    VmafSaturationCut,
}

impl BdWarning {
    /// The warning's name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            BdWarning::NonMonotonic => "non_monotonic",
            BdWarning::DuplicatedPoints => "duplicated_points",
            BdWarning::PartialOverlap => "partial_overlap",
            BdWarning::FewerThanFourPoints => "fewer_than_four_points",
            BdWarning::NonMonotonicFit => "non_monotonic_fit",
            BdWarning::VmafSaturationCut => "vmaf_saturation_cut",
        }
    }

    /// A sentence for people.
    pub fn description(self) -> &'static str {
        match self {
            BdWarning::NonMonotonic => "quality does not increase with rate on a curve",
            BdWarning::DuplicatedPoints => "a curve has several points at the same rate",
            BdWarning::PartialOverlap => "the curves overlap on less than the minimum fraction",
            BdWarning::FewerThanFourPoints => {
                "the cubic fit had fewer than 4 points and used a lower degree"
            }
            BdWarning::NonMonotonicFit => "a fitted curve is not monotonic between its points",
            BdWarning::VmafSaturationCut => "points past VMAF saturation were removed",
        }
    }
}

impl fmt::Display for BdWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BdOptions {
    /// The interpolation method.
    pub method: BdMethod,
    /// Whether to cut each curve where VMAF saturates (AOM CTC rule; for VMAF on its 0-100 scale).
    pub vmaf_saturation: bool,
    /// The overlap fraction under which [`BdWarning::PartialOverlap`] is raised.
    pub min_overlap: f64,
}

impl Default for BdOptions {
    fn default() -> Self {
        BdOptions {
            method: BdMethod::default(),
            vmaf_saturation: false,
            min_overlap: DEFAULT_MIN_OVERLAP,
        }
    }
}

impl BdOptions {
    /// The default options with another method.
    pub fn with_method(method: BdMethod) -> Self {
        BdOptions {
            method,
            ..BdOptions::default()
        }
    }
}

/// The outcome of comparing a test curve against an anchor curve.
///
/// Serialises as `{"method", "bd_rate_percent", "bd_quality", "warnings", "reason"}` in that order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdResult {
    /// The interpolation method used.
    pub method: BdMethod,
    /// The average rate difference at equal quality, in percent (negative: the test saves rate),
    /// or `None` when it is undefined.
    pub bd_rate_percent: Option<f64>,
    /// The average quality difference at equal rate, in the metric's units (positive: the test is
    /// better), or `None` when it is undefined.
    pub bd_quality: Option<f64>,
    /// What makes the numbers less trustworthy, each listed once, in a stable order.
    pub warnings: Vec<BdWarning>,
    /// Why a result is null, when one is.
    pub reason: Option<String>,
}

impl BdResult {
    fn null(method: BdMethod, warnings: Vec<BdWarning>, reason: String) -> Self {
        BdResult {
            method,
            bd_rate_percent: None,
            bd_quality: None,
            warnings,
            reason: Some(reason),
        }
    }
}

/// Which curve a message is about.
#[derive(Debug, Clone, Copy)]
enum Side {
    Anchor,
    Test,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Anchor => "anchor",
            Side::Test => "test",
        })
    }
}

/// Compares `test` against `anchor`: BD-rate and BD-quality by `options.method`, with the
/// warnings and null rules described in the module documentation.
pub fn bd_compare(anchor: &RdCurve, test: &RdCurve, options: &BdOptions) -> BdResult {
    let method = options.method;
    let mut warnings = Vec::new();

    let mut curves = Vec::with_capacity(2);
    for (side, curve) in [(Side::Anchor, anchor), (Side::Test, test)] {
        if let Some(reason) = invalid_value(side, curve) {
            return BdResult::null(method, warnings, reason);
        }
        let (merged, had_duplicates) = merge_identical(curve);
        if had_duplicates {
            push_once(&mut warnings, BdWarning::DuplicatedPoints);
        }
        if let Some(reason) = conflicting_duplicate(side, &merged) {
            push_once(&mut warnings, BdWarning::DuplicatedPoints);
            warnings.sort();
            return BdResult::null(method, warnings, reason);
        }
        let cut = if options.vmaf_saturation {
            let cut = merged.cut_vmaf_saturation();
            if cut.len() < merged.len() {
                push_once(&mut warnings, BdWarning::VmafSaturationCut);
            }
            cut
        } else {
            merged
        };
        if cut.len() < 2 {
            warnings.sort();
            return BdResult::null(
                method,
                warnings,
                format!(
                    "the {side} curve has {} distinct point{}{}; at least 2 are needed",
                    cut.len(),
                    if cut.len() == 1 { "" } else { "s" },
                    if options.vmaf_saturation {
                        " after the VMAF saturation cut"
                    } else {
                        ""
                    }
                ),
            );
        }
        if method == BdMethod::Cubic && cut.len() < 4 {
            push_once(&mut warnings, BdWarning::FewerThanFourPoints);
        }
        curves.push((side, cut));
    }
    let (anchor, test) = (&curves[0].1, &curves[1].1);

    let log_rates = |c: &RdCurve| -> Vec<f64> { c.points.iter().map(|p| p.rate.log10()).collect() };
    let qualities = |c: &RdCurve| -> Vec<f64> { c.points.iter().map(|p| p.quality).collect() };
    let (anchor_log_rate, anchor_quality) = (log_rates(anchor), qualities(anchor));
    let (test_log_rate, test_quality) = (log_rates(test), qualities(test));

    let mut reasons = Vec::new();

    // BD-rate: log-rate as a function of quality, which needs quality strictly increasing.
    let mut non_monotonic = None;
    for (side, curve) in &curves {
        if let Some(note) = first_non_increase(*side, curve) {
            push_once(&mut warnings, BdWarning::NonMonotonic);
            non_monotonic.get_or_insert(note);
        }
    }
    let bd_rate_percent = match non_monotonic {
        Some(note) => {
            reasons.push(format!(
                "BD-rate is undefined: {note}, so rate at equal quality does not exist"
            ));
            None
        }
        None => match average_difference(
            method,
            (&anchor_quality, &anchor_log_rate),
            (&test_quality, &test_log_rate),
            options.min_overlap,
            &mut warnings,
        ) {
            Ok(avg) => finite_or_reason((10f64.powf(avg) - 1.0) * 100.0, "BD-rate", &mut reasons),
            Err(why) => {
                reasons.push(format!(
                    "BD-rate is undefined: {} in quality",
                    why.describe(|q| q)
                ));
                None
            }
        },
    };

    // BD-quality: quality as a function of log-rate; rates are distinct after the checks above.
    let bd_quality = match average_difference(
        method,
        (&anchor_log_rate, &anchor_quality),
        (&test_log_rate, &test_quality),
        options.min_overlap,
        &mut warnings,
    ) {
        Ok(avg) => finite_or_reason(avg, "BD-quality", &mut reasons),
        Err(why) => {
            reasons.push(format!(
                "BD-quality is undefined: {} in rate",
                why.describe(|log_rate| 10f64.powf(log_rate))
            ));
            None
        }
    };

    warnings.sort();
    BdResult {
        method,
        bd_rate_percent,
        bd_quality,
        warnings,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

/// The abscissa ranges of two curves that do not overlap (or only touch).
#[derive(Debug)]
struct NoOverlap {
    anchor: (f64, f64),
    test: (f64, f64),
}

impl NoOverlap {
    /// "the curves do not overlap (anchor lo..hi, test lo..hi)", with the ranges mapped by `unit`.
    fn describe(&self, unit: impl Fn(f64) -> f64) -> String {
        format!(
            "the curves do not overlap (anchor {}..{}, test {}..{})",
            short(unit(self.anchor.0)),
            short(unit(self.anchor.1)),
            short(unit(self.test.0)),
            short(unit(self.test.1))
        )
    }
}

/// The average of `f_test - f_anchor` over the overlap of the two abscissa ranges; both abscissae
/// are strictly increasing. Raises the overlap and fit warnings.
fn average_difference(
    method: BdMethod,
    (anchor_x, anchor_y): (&[f64], &[f64]),
    (test_x, test_y): (&[f64], &[f64]),
    min_overlap: f64,
    warnings: &mut Vec<BdWarning>,
) -> Result<f64, NoOverlap> {
    let anchor_range = (anchor_x[0], anchor_x[anchor_x.len() - 1]);
    let test_range = (test_x[0], test_x[test_x.len() - 1]);
    let lo = anchor_range.0.max(test_range.0);
    let hi = anchor_range.1.min(test_range.1);
    if lo >= hi {
        return Err(NoOverlap {
            anchor: anchor_range,
            test: test_range,
        });
    }
    let union = anchor_range.1.max(test_range.1) - anchor_range.0.min(test_range.0);
    if (hi - lo) / union < min_overlap {
        push_once(warnings, BdWarning::PartialOverlap);
    }
    let anchor_fit = Interpolant::fit(method, anchor_x, anchor_y);
    let test_fit = Interpolant::fit(method, test_x, test_y);
    for (fit, y) in [(&anchor_fit, anchor_y), (&test_fit, test_y)] {
        // Only meaningful when the points themselves increase; a relative tolerance keeps rounding
        // in flat (zero-slope) ends from counting as a dip.
        let increasing = y.windows(2).all(|w| w[0] < w[1]);
        let scale = (y[y.len() - 1] - y[0]).abs() / (hi - lo).max(f64::MIN_POSITIVE);
        if increasing && fit.min_slope(lo, hi) < -1e-9 * scale {
            push_once(warnings, BdWarning::NonMonotonicFit);
        }
    }
    Ok((test_fit.integrate(lo, hi) - anchor_fit.integrate(lo, hi)) / (hi - lo))
}

fn finite_or_reason(value: f64, what: &str, reasons: &mut Vec<String>) -> Option<f64> {
    if value.is_finite() {
        Some(value)
    } else {
        reasons.push(format!("{what} is not a finite number ({value})"));
        None
    }
}

fn push_once(warnings: &mut Vec<BdWarning>, warning: BdWarning) {
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
}

/// A reason if a point's rate is not finite and positive or its quality is not finite.
fn invalid_value(side: Side, curve: &RdCurve) -> Option<String> {
    curve.points.iter().find_map(|p| {
        if !(p.rate.is_finite() && p.rate > 0.0) {
            Some(format!(
                "the {side} curve has rate {} (quality {}); rates must be finite and positive",
                p.rate, p.quality
            ))
        } else if !p.quality.is_finite() {
            Some(format!(
                "the {side} curve has quality {} at rate {}; qualities must be finite",
                p.quality, p.rate
            ))
        } else {
            None
        }
    })
}

/// The curve with identical points merged, and whether there were any.
fn merge_identical(curve: &RdCurve) -> (RdCurve, bool) {
    let mut points = curve.points.clone();
    points.dedup();
    let had = points.len() < curve.points.len();
    (RdCurve { points }, had)
}

/// A reason if two points share a rate with different qualities.
fn conflicting_duplicate(side: Side, curve: &RdCurve) -> Option<String> {
    curve.points.windows(2).find_map(|w| {
        (w[0].rate == w[1].rate).then(|| {
            format!(
                "the {side} curve has two points at rate {} with different qualities ({} and {}), \
                 so it is not a function of rate",
                w[0].rate, w[0].quality, w[1].quality
            )
        })
    })
}

/// A description of the first place where quality does not increase with rate.
fn first_non_increase(side: Side, curve: &RdCurve) -> Option<String> {
    curve.points.windows(2).find_map(|w| {
        (w[1].quality <= w[0].quality).then(|| {
            format!(
                "on the {side} curve quality does not increase with rate (rate {} -> {}, \
                 quality {} -> {})",
                w[0].rate, w[1].rate, w[0].quality, w[1].quality
            )
        })
    })
}

/// A number short enough for a message.
fn short(v: f64) -> String {
    format!("{}", (v * 1e4).round() / 1e4)
}
