//! The study summary: a run's findings in plain sentences, the way a codec study states them
//! ("With SSIM as the metric, x265 saves 25.0% bitrate against x264 on average (BD-rate)").
//!
//! [`study_summary`] is a pure function of [`Findings`], which holds only numbers and names, so
//! every sentence can be tested by its exact text.
//!
//! Speed is stated in encoder CPU time relative to the anchor's: "20.0% slower" means 20 % more
//! CPU time than the anchor at the same rate point, "20.0% faster" 20 % less.

/// A BD-rate against the anchor for one metric, averaged over the sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricBd {
    /// The metric's name for people ("VMAF", "SSIM", ...).
    pub metric: String,
    /// The mean BD-rate in percent (negative: the test saves bitrate), or `None` when no sequence
    /// has a defined value.
    pub percent: Option<f64>,
    /// The 95% bootstrap interval of the mean (low, high), from 2 sequences up.
    pub interval: Option<(f64, f64)>,
    /// Sequences averaged.
    pub sequences: usize,
}

/// What a run found about one test configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFindings {
    /// The configuration.
    pub config: String,
    /// Mean BD-rate per metric, in display order.
    pub bd_rate: Vec<MetricBd>,
    /// Encoder CPU time over the anchor's at each rate point of the headline mode, ordered from
    /// the highest bitrate to the lowest.
    pub cpu_ratios: Vec<f64>,
}

/// The rate-control accuracy of every configuration in one bitrate mode.
#[derive(Debug, Clone, PartialEq)]
pub struct RateControlFindings {
    /// The mode (abr, abr2, cbr).
    pub rc_mode: String,
    /// Mean |bitrate error| in percent, per configuration (anchor first).
    pub mean_abs_error_pct: Vec<(String, f64)>,
    /// VBV violations per configuration.
    pub vbv_violations: Vec<(String, u64)>,
}

/// One configuration of this run against the same configuration in another run.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedConfig {
    /// The configuration.
    pub config: String,
    /// Mean BD-rate of this run against the other, per metric.
    pub bd_rate: Vec<MetricBd>,
    /// Encoder CPU time of this run over the other's, over the rate points both have.
    pub cpu_ratio: Option<f64>,
}

/// This run against another run of the same suite.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonFindings {
    /// The other run's id.
    pub other_run: String,
    /// Each configuration both runs have.
    pub configs: Vec<ComparedConfig>,
}

/// What a run found, as numbers and names.
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    /// The anchor configuration.
    pub anchor: String,
    /// The rate-control mode whose curves the BD-rates and speeds describe.
    pub rc_mode: String,
    /// Sequences compared.
    pub sequences: usize,
    /// The BD interpolation method (pchip, cubic, akima).
    pub method: String,
    /// One entry per test configuration.
    pub tests: Vec<TestFindings>,
    /// One entry per bitrate mode with encodes.
    pub rate_control: Vec<RateControlFindings>,
    /// The comparison with another run, when there is one.
    pub comparison: Option<ComparisonFindings>,
}

/// A percentage with one decimal, without sign.
fn pct(v: f64) -> String {
    format!("{:.1}%", v.abs())
}

/// Whether a percentage rounds to zero at one decimal.
fn rounds_to_zero(v: f64) -> bool {
    v.abs() < 0.05
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "A, B and C".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// " (95% interval -27.0% to -23.1% over 4 sequences)", or nothing without an interval.
fn interval_words(bd: &MetricBd) -> String {
    match bd.interval {
        Some((lo, hi)) => format!(
            "; 95% interval {lo:+.1}% to {hi:+.1}% over {}",
            plural(bd.sequences, "sequence", "sequences")
        ),
        None => String::new(),
    }
}

fn bd_sentence(test: &str, anchor: &str, bd: &MetricBd) -> String {
    let lead = format!("With {} as the metric, {test}", bd.metric);
    let ci = interval_words(bd);
    match bd.percent {
        None => format!(
            "With {} as the metric, the BD-rate of {test} against {anchor} is undefined on every \
             sequence.",
            bd.metric
        ),
        Some(p) if rounds_to_zero(p) => {
            format!("{lead} needs the same bitrate as {anchor} on average (BD-rate 0.0%{ci}).")
        }
        Some(p) if p < 0.0 => {
            format!(
                "{lead} saves {} bitrate against {anchor} on average (BD-rate{ci}).",
                pct(p)
            )
        }
        Some(p) => {
            format!(
                "{lead} needs {} more bitrate than {anchor} on average (BD-rate{ci}).",
                pct(p)
            )
        }
    }
}

/// "12.0% faster", "30.0% slower", or "as fast as" for a CPU-time ratio.
fn speed_words(ratio: f64) -> (String, &'static str) {
    let d = (ratio - 1.0) * 100.0;
    if rounds_to_zero(d) {
        (String::new(), "as fast as")
    } else if d < 0.0 {
        (pct(d), "faster")
    } else {
        (pct(d), "slower")
    }
}

fn speed_sentence(test: &str, anchor: &str, mode: &str, ratios: &[f64]) -> Option<String> {
    let (first, last) = (*ratios.first()?, *ratios.last()?);
    let diffs: Vec<f64> = ratios.iter().map(|r| (r - 1.0) * 100.0).collect();
    let all = |f: fn(f64) -> bool| diffs.iter().all(|d| f(*d));
    let (a, wa) = speed_words(first);
    let (b, wb) = speed_words(last);
    if ratios.len() == 1 {
        return Some(match wa {
            "as fast as" => format!("{test} is as fast as {anchor} at its only {mode} rate point."),
            _ => format!("{test} is {a} {wa} than {anchor} at its only {mode} rate point."),
        });
    }
    if all(rounds_to_zero) {
        return Some(format!(
            "{test} is as fast as {anchor} at every {mode} rate point."
        ));
    }
    for (word, test_fn) in [
        ("faster", (|d: f64| d <= -0.05) as fn(f64) -> bool),
        ("slower", |d| d >= 0.05),
    ] {
        if all(test_fn) {
            return Some(format!(
                "{test} is {word} than {anchor} at every {mode} rate point: {a} at the highest \
                 bitrate and {b} at the lowest."
            ));
        }
    }
    let end = |n: &str, w: &str| {
        if w == "as fast as" {
            format!("as fast as {anchor}")
        } else {
            format!("{n} {w} than {anchor}")
        }
    };
    let span = if wa != "as fast as" && wb != "as fast as" {
        format!("from {a} {wa} to {b} {wb} than {anchor}")
    } else {
        format!("from {} to {}", end(&a, wa), end(&b, wb))
    };
    Some(format!(
        "{test} goes {span} as the {mode} rate point moves from the highest to the lowest bitrate."
    ))
}

fn rate_control_sentence(rc: &RateControlFindings) -> Option<String> {
    let (first, rest) = rc.mean_abs_error_pct.split_first()?;
    let mut parts = vec![format!("{} averages {:.1}%", first.0, first.1)];
    parts.extend(rest.iter().map(|(c, e)| format!("{c} {e:.1}%")));
    let mut s = format!("Rate-control error ({}): {}.", rc.rc_mode, parts.join(", "));
    let violations: Vec<String> = rc
        .vbv_violations
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    if !violations.is_empty() {
        s.push_str(&format!(" VBV violations: {}.", violations.join(", ")));
    }
    Some(s)
}

fn comparison_sentences(cmp: &ComparisonFindings) -> Vec<String> {
    let mut out = Vec::new();
    for c in &cmp.configs {
        let parts: Vec<String> = c
            .bd_rate
            .iter()
            .filter_map(|bd| {
                let p = bd.percent?;
                Some(if rounds_to_zero(p) {
                    format!("the same bitrate with {}", bd.metric)
                } else if p < 0.0 {
                    format!("{} less bitrate with {}", pct(p), bd.metric)
                } else {
                    format!("{} more bitrate with {}", pct(p), bd.metric)
                })
            })
            .collect();
        let mut s = format!("Against run {}, {}", cmp.other_run, c.config);
        if parts.is_empty() {
            s.push_str(" has no defined BD-rate");
        } else {
            s.push_str(&format!(" needs {} (BD-rate)", join_and(&parts)));
        }
        match c.cpu_ratio {
            Some(r) => {
                let (n, w) = speed_words(r);
                if w == "as fast as" {
                    s.push_str(" and encodes as fast as before.");
                } else {
                    s.push_str(&format!(" and encodes {n} {w}."));
                }
            }
            None => s.push('.'),
        }
        out.push(s);
    }
    out
}

/// The study summary: one sentence per finding, in this order: what the BD-rates compare; per
/// test configuration its BD-rate for each metric and its speed across rate points; the
/// rate-control error per bitrate mode; then the comparison with another run.
pub fn study_summary(f: &Findings) -> Vec<String> {
    let mut out = Vec::new();
    if !f.tests.is_empty() {
        out.push(format!(
            "BD-rates compare the {} curves of {} against {} ({} interpolation).",
            f.rc_mode,
            plural(f.sequences, "sequence", "sequences"),
            f.anchor,
            f.method
        ));
    }
    for t in &f.tests {
        for bd in &t.bd_rate {
            out.push(bd_sentence(&t.config, &f.anchor, bd));
        }
        if let Some(s) = speed_sentence(&t.config, &f.anchor, &f.rc_mode, &t.cpu_ratios) {
            out.push(s);
        }
    }
    out.extend(f.rate_control.iter().filter_map(rate_control_sentence));
    if let Some(cmp) = &f.comparison {
        out.extend(comparison_sentences(cmp));
    }
    out
}
