//! The regression gate: a candidate run against a baseline run of the same suite, judged on
//! every (configuration, sequence, rate point) of the baseline.
//!
//! The gate fails closed. A configuration, sequence or rate point of the baseline missing from
//! the candidate, a failed job, a null or non-finite score, a BD-rate that cannot be computed,
//! or a timing measured by neither run (both from a cache) is a "not judged" row, and a not
//! judged row fails the gate unless the rules allow it by name (it is then a warning). Every row
//! says what it is made of.
//!
//! The checks, per configuration of the baseline (defaults in [`GateRules::default`]):
//!
//! - **jobs**: every job of the baseline finished in both runs with every score present.
//! - **BD-rate** of the candidate's curves against the baseline's, per metric and mode: the mean
//!   over sequences (or a bound of its 95% bootstrap interval, `bd_rate_on`) must not exceed
//!   `bd_rate_max_pct`.
//! - **encoder CPU** and **decoder CPU** (DecT): the ratio of summed medians over the encodes
//!   both runs timed. With at least three repetitions per encode the ratio carries a 95%
//!   interval from the repetitions and the rule fails only when the whole interval lies beyond
//!   the limit; with fewer, the point estimate is held and the row says so.
//! - **encoder instructions**, when both runs counted them: the change must not exceed
//!   `instructions_max_pct`.
//! - **bitrate error** per bitrate mode: the increase of the mean |error| over the points both
//!   runs have must not exceed `bitrate_error_max_points`.
//!
//! The defaults, and why: BD-rate is held on the mean (a deterministic encoder has no
//! measurement noise in its BD-rate, so its interval describes how much the content disagrees;
//! holding its upper bound would fail every change that helps most sequences and hurts one on a
//! small corpus — a team that wants that strictness writes `bd_rate_on = "upper"`). Timings are
//! noisy, so they are held on their interval when there is one. 0.5% BD-rate is about the
//! smallest change the CTC reports as a change; 5% CPU is above run-to-run noise of a quiet
//! machine and below what a preset step costs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rdbench_bdrate::BdMethod;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::{
    across_runs, bitrate_error_of, timed_jobs, AnalysisOptions, Side, Timing, MIN_REPETITIONS,
};
use crate::dataset::Dataset;
use crate::metric::Metric;
use crate::record::EncodeRecord;
use crate::run::{LoadedRun, RunError};
use crate::stats::{self, Bootstrap, Interval};
use crate::types::{RcMode, RcPoint};

/// Why two runs cannot be compared (exit status 2 of `rdbench gate`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GateError {
    /// A run folder that cannot be loaded.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The rules file.
    #[error("{path}: {message}")]
    Rules { path: PathBuf, message: String },
    /// The runs come from different suites.
    #[error("{candidate} ran another suite than {baseline}: `{field}` is {baseline_value} in the baseline and {candidate_value} in the candidate")]
    Design {
        baseline: PathBuf,
        candidate: PathBuf,
        field: String,
        baseline_value: String,
        candidate_value: String,
    },
    /// A manifest without the suite's design.
    #[error("{path}/manifest.json: field `design` is missing (the run was recorded by an older rdbench); rerun it")]
    NoDesign { path: PathBuf },
}

/// Which bound of its interval a BD-rate is held on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BdBound {
    /// The mean over sequences.
    #[default]
    Mean,
    /// The upper bound of the 95% interval: fails unless the candidate is confidently no worse.
    Upper,
    /// The lower bound: fails only when the candidate is confidently worse.
    Lower,
}

/// What a row checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Every job finished with every score.
    Jobs,
    /// BD-rate against the baseline.
    BdRate,
    /// Encoder CPU time.
    EncodeCpu,
    /// Decoder CPU time (DecT).
    DecodeCpu,
    /// Encoder instructions.
    Instructions,
    /// Rate-control error.
    BitrateError,
}

/// A rule's exception: rows of this check (of this configuration and metric, when given) that
/// fail or cannot be judged are shown as warnings instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The check.
    pub check: Check,
    /// Only this configuration.
    pub config: Option<String>,
    /// Only this metric (BD-rate rows).
    pub metric: Option<Metric>,
    /// Why it is allowed (shown in the row).
    pub reason: String,
}

/// The gate's rules (`--rules gate.toml`; fields at top level, every one optional).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateRules {
    /// Largest BD-rate of the candidate against the baseline, percent.
    pub bd_rate_max_pct: f64,
    /// What of the BD-rate is held to the limit.
    pub bd_rate_on: BdBound,
    /// Largest encoder CPU increase, percent.
    pub cpu_max_pct: f64,
    /// Largest decoder CPU increase, percent.
    pub decode_cpu_max_pct: f64,
    /// A CPU-time increase smaller than this per encode (milliseconds) passes whatever its
    /// percentage: a thread's CPU clock over a job of a few milliseconds varies by more than the
    /// percentage limits from run to run.
    pub cpu_floor_ms: f64,
    /// Largest encoder instruction-count increase, percent.
    pub instructions_max_pct: f64,
    /// Largest increase of the mean |bitrate error|, percentage points.
    pub bitrate_error_max_points: f64,
    /// Metrics whose BD-rate is held (empty: every BD metric both runs have).
    pub metrics: Vec<Metric>,
    /// BD interpolation method.
    pub method: BdMethod,
    /// Exceptions.
    pub allow: Vec<Allow>,
}

impl Default for GateRules {
    fn default() -> Self {
        GateRules {
            bd_rate_max_pct: 0.5,
            bd_rate_on: BdBound::Mean,
            cpu_max_pct: 5.0,
            decode_cpu_max_pct: 5.0,
            cpu_floor_ms: 2.0,
            instructions_max_pct: 2.0,
            bitrate_error_max_points: 2.0,
            metrics: Vec::new(),
            method: BdMethod::Pchip,
            allow: Vec::new(),
        }
    }
}

impl GateRules {
    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<GateRules, GateError> {
        let text = std::fs::read_to_string(path).map_err(|e| GateError::Rules {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        GateRules::parse(&text).map_err(|message| GateError::Rules {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses rules text; the error names the field.
    pub fn parse(text: &str) -> Result<GateRules, String> {
        let de = toml::Deserializer::new(text);
        let rules: GateRules = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().replace('\n', " ");
            match inner.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: `{field}`: {message}")
                }
                None => format!("`{field}`: {message}"),
            }
        })?;
        for (name, v) in [
            ("bd_rate_max_pct", rules.bd_rate_max_pct),
            ("cpu_max_pct", rules.cpu_max_pct),
            ("decode_cpu_max_pct", rules.decode_cpu_max_pct),
            ("cpu_floor_ms", rules.cpu_floor_ms),
            ("instructions_max_pct", rules.instructions_max_pct),
            ("bitrate_error_max_points", rules.bitrate_error_max_points),
        ] {
            if !v.is_finite() {
                return Err(format!("`{name}`: {v} is not a number"));
            }
        }
        Ok(rules)
    }
}

/// A row's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within the limit.
    Pass,
    /// Beyond the limit.
    Fail,
    /// The figure could not be computed; fails the gate.
    NotJudged,
    /// Failed or not judged, but allowed by a rule.
    Warn,
}

impl Verdict {
    /// Whether the row fails the gate.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::NotJudged)
    }

    fn cell(self) -> &'static str {
        match self {
            Verdict::Pass => "ok",
            Verdict::Fail => "**FAIL**",
            Verdict::NotJudged => "**NOT JUDGED**",
            Verdict::Warn => "warn",
        }
    }
}

/// One checked figure.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GateRow {
    /// Configuration.
    pub config: String,
    /// The check.
    pub check: Check,
    /// The metric (BD-rate rows).
    pub metric: Option<Metric>,
    /// The mode (BD-rate and bitrate-error rows).
    pub rc_mode: Option<RcMode>,
    /// The figure held to the limit: percent, or percentage points for bitrate error.
    pub value: Option<f64>,
    /// Its 95% interval, when it has one.
    pub interval: Option<Interval>,
    /// The limit.
    pub limit: f64,
    /// The outcome.
    pub verdict: Verdict,
    /// What the figure is made of, or why there is none.
    pub note: String,
}

impl GateRow {
    /// The row's label: "BD-rate vmaf (crf)", "encoder CPU", "bitrate error (abr)".
    pub fn label(&self) -> String {
        match self.check {
            Check::Jobs => "jobs".into(),
            Check::BdRate => format!(
                "BD-rate {} ({})",
                self.metric.map(|m| m.column()).unwrap_or("?"),
                self.rc_mode.map(|m| m.as_str()).unwrap_or("?")
            ),
            Check::EncodeCpu => "encoder CPU".into(),
            Check::DecodeCpu => "decoder CPU".into(),
            Check::Instructions => "encoder instructions".into(),
            Check::BitrateError => format!(
                "bitrate error ({})",
                self.rc_mode.map(|m| m.as_str()).unwrap_or("?")
            ),
        }
    }

    fn unit(&self) -> &'static str {
        if self.check == Check::BitrateError {
            " pts"
        } else {
            "%"
        }
    }
}

/// The gate's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct GateReport {
    /// The baseline's run id.
    pub baseline: String,
    /// The candidate's run id.
    pub candidate: String,
    /// Every check.
    pub rows: Vec<GateRow>,
    /// Whether no row fails.
    pub passed: bool,
    /// Facts about the two runs shown above the table (revisions, hosts, processors, library
    /// versions that differ, counters).
    pub header: Vec<String>,
    /// What makes the comparison less trustworthy without failing it.
    pub warnings: Vec<String>,
}

/// The first place where two designs differ: (field path, baseline value, candidate value).
pub fn design_difference(
    baseline: &serde_json::Value,
    candidate: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    fn walk(path: &str, b: &Value, c: &Value) -> Option<(String, String, String)> {
        match (b, c) {
            (Value::Object(bo), Value::Object(co)) => {
                let keys: BTreeSet<&String> = bo.keys().chain(co.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (bo.get(k), co.get(k)) {
                        (Some(x), Some(y)) => {
                            if let Some(d) = walk(&p, x, y) {
                                return Some(d);
                            }
                        }
                        (Some(x), None) => return Some((p, x.to_string(), "absent".into())),
                        (None, Some(y)) => return Some((p, "absent".into(), y.to_string())),
                        (None, None) => {}
                    }
                }
                None
            }
            _ if b == c => None,
            _ => Some((path.to_owned(), b.to_string(), c.to_string())),
        }
    }
    walk("", baseline, candidate)
}

fn check_design(baseline: &LoadedRun, candidate: &LoadedRun) -> Result<(), GateError> {
    let b = baseline
        .manifest
        .design
        .as_ref()
        .ok_or(GateError::NoDesign {
            path: baseline.dir.clone(),
        })?;
    let c = candidate
        .manifest
        .design
        .as_ref()
        .ok_or(GateError::NoDesign {
            path: candidate.dir.clone(),
        })?;
    match design_difference(b, c) {
        None => Ok(()),
        Some((field, baseline_value, candidate_value)) => Err(GateError::Design {
            baseline: baseline.dir.clone(),
            candidate: candidate.dir.clone(),
            field,
            baseline_value,
            candidate_value,
        }),
    }
}

type JobKey = (String, RcPoint, u32);

fn key(r: &EncodeRecord) -> JobKey {
    (r.sequence.clone(), r.point(), r.repetition)
}

/// The jobs row of one configuration, and whether it is clean.
fn jobs_row(
    config: &str,
    base: &[&EncodeRecord],
    cand: &[&EncodeRecord],
    metrics: &[Metric],
) -> GateRow {
    let cand_by: BTreeMap<JobKey, &EncodeRecord> = cand.iter().map(|r| (key(r), *r)).collect();
    let total = base.len();
    let mut problems: Vec<String> = Vec::new();
    let base_failed: Vec<&&EncodeRecord> = base.iter().filter(|r| !r.is_ok()).collect();
    if let Some(first) = base_failed.first() {
        problems.push(format!(
            "{} of {total} {config} jobs failed in the baseline: {}",
            base_failed.len(),
            first.error.as_deref().unwrap_or("no error recorded")
        ));
    }
    if cand.is_empty() {
        problems.push(format!(
            "configuration {config} is missing from the candidate ({total} jobs)"
        ));
    } else {
        let missing: Vec<&&EncodeRecord> = base
            .iter()
            .filter(|r| !cand_by.contains_key(&key(r)))
            .collect();
        if !missing.is_empty() {
            let mut by_seq: BTreeMap<&str, usize> = BTreeMap::new();
            for r in &missing {
                *by_seq.entry(r.sequence.as_str()).or_default() += 1;
            }
            let whole: BTreeMap<&str, usize> = {
                let mut m: BTreeMap<&str, usize> = BTreeMap::new();
                for r in base {
                    *m.entry(r.sequence.as_str()).or_default() += 1;
                }
                m
            };
            for (seq, n) in &by_seq {
                if whole.get(seq) == Some(n) && !cand.iter().any(|r| r.sequence == *seq) {
                    problems.push(format!(
                        "sequence {seq} is missing from the candidate ({n} jobs)"
                    ));
                } else {
                    let points: Vec<String> = missing
                        .iter()
                        .filter(|r| r.sequence == *seq)
                        .map(|r| format!("{} r{}", r.point(), r.repetition))
                        .collect();
                    problems.push(format!(
                        "{n} jobs of {seq} are missing from the candidate ({})",
                        points.join(", ")
                    ));
                }
            }
        }
        let failed: Vec<&&EncodeRecord> = cand
            .iter()
            .filter(|r| !r.is_ok() && base.iter().any(|b| key(b) == key(r)))
            .collect();
        if let Some(first) = failed.first() {
            problems.push(format!(
                "{} of {total} {config} jobs failed: {}",
                failed.len(),
                first.error.as_deref().unwrap_or("no error recorded")
            ));
        }
        // Scores the baseline has that the candidate lacks, or that are not finite.
        let mut nulls: BTreeMap<Metric, usize> = BTreeMap::new();
        for b in base.iter().filter(|r| r.is_ok()) {
            let Some(c) = cand_by.get(&key(b)).filter(|c| c.is_ok()) else {
                continue;
            };
            for &m in metrics {
                let bad = |r: &EncodeRecord| m.of(r).map_or(true, |v| !v.is_finite());
                if !bad(b) && bad(c) {
                    *nulls.entry(m).or_default() += 1;
                }
            }
            if !c.bitrate_kbps.is_finite() || c.bitrate_kbps <= 0.0 {
                problems.push(format!("{}: bitrate {} kbit/s", c.job_id, c.bitrate_kbps));
            }
        }
        for (m, n) in nulls {
            problems.push(format!("{n} finished jobs have no {m} score"));
        }
    }
    GateRow {
        config: config.to_owned(),
        check: Check::Jobs,
        metric: None,
        rc_mode: None,
        value: None,
        interval: None,
        limit: 0.0,
        verdict: if problems.is_empty() {
            Verdict::Pass
        } else {
            Verdict::NotJudged
        },
        note: if problems.is_empty() {
            format!("{total} of {total} jobs finished in both runs with every score")
        } else {
            format!("not judged: {}", problems.join("; "))
        },
    }
}

fn timing_row(
    check: Check,
    base: Side,
    cand: Side,
    limit: f64,
    floor_ms: f64,
    bootstrap: &Bootstrap,
    unit_name: &str,
) -> Option<GateRow> {
    let timing = match check {
        Check::EncodeCpu => Timing::EncodeCpu,
        Check::DecodeCpu => Timing::DecodeCpu,
        _ => Timing::Instructions,
    };
    let jobs = timed_jobs(base, cand, &[], None, timing, true);
    let row = |value, interval, verdict, note| GateRow {
        config: cand.config.to_owned(),
        check,
        metric: None,
        rc_mode: None,
        value,
        interval,
        limit,
        verdict,
        note,
    };
    if jobs.is_empty() {
        if check == Check::Instructions {
            return None;
        }
        return Some(row(
            None,
            None,
            Verdict::NotJudged,
            "not judged: no encode was timed by both runs (their figures came from a cache; run each side with its own cache)".into(),
        ));
    }
    let Some(ratio) = stats::ratio_of_medians(&jobs) else {
        return Some(row(
            None,
            None,
            Verdict::NotJudged,
            format!("not judged: the baseline's {unit_name} is zero"),
        ));
    };
    let change = 100.0 * (ratio - 1.0);
    let reps = jobs
        .iter()
        .map(|(b, c)| b.len().min(c.len()))
        .min()
        .unwrap_or(0);
    let interval = bootstrap
        .ratio_interval(&jobs, MIN_REPETITIONS)
        .map(|i| i.map(|r| 100.0 * (r - 1.0)));
    let before: f64 = jobs.iter().map(|(b, _)| stats::median(b)).sum();
    let after: f64 = jobs.iter().map(|(_, c)| stats::median(c)).sum();
    let fmt = |v: f64| {
        if check == Check::Instructions {
            format!("{:.4e}", v)
        } else {
            format!("{v:.3} s")
        }
    };
    let (verdict, how) = match interval {
        Some(i) => (
            if i.low > limit {
                Verdict::Fail
            } else {
                Verdict::Pass
            },
            format!("{reps} repetitions: fails only when the whole interval is above the limit"),
        ),
        None if check == Check::Instructions => (
            if change > limit {
                Verdict::Fail
            } else {
                Verdict::Pass
            },
            "counted, not timed: no noise interval needed".into(),
        ),
        None => (
            if change > limit {
                Verdict::Fail
            } else {
                Verdict::Pass
            },
            format!(
                "{reps} repetition{}: no interval below {MIN_REPETITIONS}, the point estimate is held",
                if reps == 1 { "" } else { "s" }
            ),
        ),
    };
    let per_encode_ms = (after - before) / jobs.len() as f64 * 1000.0;
    let (verdict, how) = if verdict == Verdict::Fail
        && check != Check::Instructions
        && per_encode_ms < floor_ms
    {
        (
            Verdict::Pass,
            format!("{how}; {per_encode_ms:+.1} ms per encode is below the {floor_ms} ms floor"),
        )
    } else {
        (verdict, how)
    };
    Some(row(
        Some(change),
        interval,
        verdict,
        format!(
            "{} -> {} over {} encodes; {how}",
            fmt(before),
            fmt(after),
            jobs.len()
        ),
    ))
}

/// Compares `candidate` with `baseline` under `rules`.
pub fn gate(
    baseline: &LoadedRun,
    candidate: &LoadedRun,
    rules: &GateRules,
) -> Result<GateReport, GateError> {
    check_design(baseline, candidate)?;
    let (bds, cds) = (Dataset::new(baseline, None), Dataset::new(candidate, None));
    let options = AnalysisOptions::with_method(rules.method);
    let analysis = across_runs(&bds, &cds, &options);
    let metrics: Vec<Metric> = Metric::BD
        .into_iter()
        .filter(|m| rules.metrics.is_empty() || rules.metrics.contains(m))
        .filter(|m| baseline.records().any(|r| m.of(r).is_some()))
        .collect();
    let mut rows = Vec::new();
    for config in &bds.configs {
        let base: Vec<&EncodeRecord> = baseline.records().filter(|r| r.config == *config).collect();
        let cand: Vec<&EncodeRecord> = candidate
            .records()
            .filter(|r| r.config == *config)
            .collect();
        let jobs = jobs_row(config, &base, &cand, &metrics);
        let missing_config = cand.is_empty();
        rows.push(jobs);
        if missing_config {
            continue;
        }
        let mut modes: Vec<RcMode> = base.iter().map(|r| r.rc_mode).collect();
        modes.sort_by_key(|m| m.rank());
        modes.dedup();
        for &mode in &modes {
            for &metric in &metrics {
                let entries: Vec<_> = analysis
                    .bd_sequences
                    .iter()
                    .filter(|s| s.config == *config && s.metric == metric && s.rc_mode == mode)
                    .collect();
                let overall = analysis.overall(config, metric, mode);
                let undefined: Vec<_> = entries
                    .iter()
                    .filter(|s| s.bd_rate_percent.is_none())
                    .collect();
                let row = |value, interval, verdict, note| GateRow {
                    config: config.clone(),
                    check: Check::BdRate,
                    metric: Some(metric),
                    rc_mode: Some(mode),
                    value,
                    interval,
                    limit: rules.bd_rate_max_pct,
                    verdict,
                    note,
                };
                let Some(avg) = overall.filter(|_| undefined.is_empty() && !entries.is_empty())
                else {
                    let why = match undefined.first() {
                        Some(first) => format!(
                            "not judged: BD-rate undefined on {} of {} sequences ({}: {})",
                            undefined.len(),
                            entries.len(),
                            first.sequence,
                            first.reason.as_deref().unwrap_or("no reason recorded")
                        ),
                        None => "not judged: no sequence has curves in both runs".into(),
                    };
                    rows.push(row(
                        overall.and_then(|o| o.bd_rate_percent),
                        overall.and_then(|o| o.bd_rate_interval),
                        Verdict::NotJudged,
                        why,
                    ));
                    continue;
                };
                let mean = avg.bd_rate_percent.unwrap_or(f64::NAN);
                let held = match (rules.bd_rate_on, avg.bd_rate_interval) {
                    (BdBound::Mean, _) => mean,
                    (BdBound::Upper, Some(i)) => i.high,
                    (BdBound::Lower, Some(i)) => i.low,
                    (_, None) => mean,
                };
                let what = match (rules.bd_rate_on, avg.bd_rate_interval) {
                    (BdBound::Mean, _) => "mean held",
                    (BdBound::Upper, Some(_)) => "upper bound held",
                    (BdBound::Lower, Some(_)) => "lower bound held",
                    (_, None) => "one sequence: mean held",
                };
                let worst = entries
                    .iter()
                    .filter_map(|s| s.bd_rate_percent.map(|v| (v, s.sequence.as_str())))
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                rows.push(row(
                    Some(mean),
                    avg.bd_rate_interval,
                    if !held.is_finite() {
                        Verdict::NotJudged
                    } else if held > rules.bd_rate_max_pct {
                        Verdict::Fail
                    } else {
                        Verdict::Pass
                    },
                    format!(
                        "{} sequences, {what}{}",
                        avg.sequences,
                        worst
                            .map(|(v, s)| format!("; worst {s} {v:+.2}%"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        let (b, c) = (Side { ds: &bds, config }, Side { ds: &cds, config });
        rows.extend(timing_row(
            Check::EncodeCpu,
            b,
            c,
            rules.cpu_max_pct,
            rules.cpu_floor_ms,
            &options.bootstrap,
            "encoder CPU",
        ));
        rows.extend(timing_row(
            Check::DecodeCpu,
            b,
            c,
            rules.decode_cpu_max_pct,
            rules.cpu_floor_ms,
            &options.bootstrap,
            "decoder CPU",
        ));
        rows.extend(timing_row(
            Check::Instructions,
            b,
            c,
            rules.instructions_max_pct,
            0.0,
            &options.bootstrap,
            "instruction count",
        ));
        for mode in modes.iter().copied().filter(|m| m.targets_bitrate()) {
            let common = |ds: &Dataset, other: &Dataset| {
                bitrate_error_of(ds, config, mode, |p| {
                    other.point(&p.record.sequence, config, p.point()).is_some()
                })
            };
            let (be, ce) = (common(&bds, &cds), common(&cds, &bds));
            let value = be
                .as_ref()
                .zip(ce.as_ref())
                .map(|(x, y)| y.mean_abs_error_pct - x.mean_abs_error_pct);
            rows.push(GateRow {
                config: config.clone(),
                check: Check::BitrateError,
                metric: None,
                rc_mode: Some(mode),
                value,
                interval: None,
                limit: rules.bitrate_error_max_points,
                verdict: match value {
                    None => Verdict::NotJudged,
                    Some(v) if v > rules.bitrate_error_max_points => Verdict::Fail,
                    Some(_) => Verdict::Pass,
                },
                note: match (be, ce) {
                    (Some(x), Some(y)) => format!(
                        "mean |error| {:.2}% -> {:.2}% over {} encodes",
                        x.mean_abs_error_pct, y.mean_abs_error_pct, y.encodes
                    ),
                    _ => "not judged: no encode of this mode finished in both runs".into(),
                },
            });
        }
    }
    // Exceptions the rules allow.
    for row in &mut rows {
        if !row.verdict.fails() {
            continue;
        }
        if let Some(a) = rules.allow.iter().find(|a| {
            a.check == row.check
                && a.config.as_ref().map_or(true, |c| *c == row.config)
                && a.metric.map_or(true, |m| Some(m) == row.metric)
        }) {
            row.verdict = Verdict::Warn;
            row.note = format!("{} (allowed: {})", row.note, a.reason);
        }
    }
    let passed = !rows.iter().any(|r| r.verdict.fails());
    let (header, warnings) = describe(baseline, candidate);
    Ok(GateReport {
        baseline: baseline.manifest.run_id.clone(),
        candidate: candidate.manifest.run_id.clone(),
        rows,
        passed,
        header,
        warnings,
    })
}

fn describe(baseline: &LoadedRun, candidate: &LoadedRun) -> (Vec<String>, Vec<String>) {
    let (bm, cm) = (&baseline.manifest, &candidate.manifest);
    let side = |m: &crate::run::Manifest| {
        format!(
            "`{}` (revision {}, host {}, {})",
            m.run_id,
            if m.git_revision.is_empty() {
                "unknown"
            } else {
                &m.git_revision
            },
            m.host,
            m.cpu.describe()
        )
    };
    let mut header = vec![
        format!("Candidate {}", side(cm)),
        format!("Baseline {}", side(bm)),
    ];
    let mut diffs = Vec::new();
    let (be, ce) = (&bm.versions.encoders, &cm.versions.encoders);
    for name in be.keys().chain(ce.keys()).collect::<BTreeSet<_>>() {
        let (b, c) = (be.get(name), ce.get(name));
        if b != c {
            diffs.push(format!(
                "{name} {} -> {}",
                b.map(String::as_str).unwrap_or("absent"),
                c.map(String::as_str).unwrap_or("absent")
            ));
        }
    }
    let (bf, cf) = (&bm.versions.ffmpeg, &cm.versions.ffmpeg);
    for name in bf.keys().chain(cf.keys()).collect::<BTreeSet<_>>() {
        let (b, c) = (bf.get(name), cf.get(name));
        if b != c {
            diffs.push(format!(
                "{name} {} -> {}",
                b.map(String::as_str).unwrap_or("absent"),
                c.map(String::as_str).unwrap_or("absent")
            ));
        }
    }
    if bm.versions.libvmaf != cm.versions.libvmaf {
        diffs.push(format!(
            "libvmaf {} -> {}",
            bm.versions.libvmaf, cm.versions.libvmaf
        ));
    }
    if !diffs.is_empty() {
        header.push(format!("Library versions differ: {}", diffs.join(", ")));
    }
    let counted = |run: &LoadedRun| {
        let fresh: Vec<&EncodeRecord> = run.records().filter(|r| r.is_ok() && !r.cached).collect();
        let n = fresh
            .iter()
            .filter(|r| r.encode_instructions.is_some())
            .count();
        let note = fresh.iter().find_map(|r| r.instructions_note.clone());
        (n, fresh.len(), note)
    };
    for (name, run) in [("baseline", baseline), ("candidate", candidate)] {
        let (n, of, note) = counted(run);
        if of > 0 && n < of {
            header.push(format!(
                "Instruction counts: {n} of {of} fresh encodes of the {name} were counted{}",
                note.map(|n| format!(" ({n})")).unwrap_or_default()
            ));
        }
    }
    for (name, m) in [("baseline", bm), ("candidate", cm)] {
        if m.partial {
            header.push(format!(
                "The {name} is a partial merge: shards {:?} are missing",
                m.missing_shards
            ));
        }
    }
    let mut warnings = Vec::new();
    let (bc, cc) = (&bm.cpu, &cm.cpu);
    if bc != cc && !bc.model.is_empty() && !cc.model.is_empty() {
        warnings.push(format!(
            "the runs come from different processors (baseline: {}; candidate: {}): CPU times are not comparable, and encoders that pick kernels by the processor may write different bitstreams",
            bc.describe(),
            cc.describe()
        ));
    }
    (header, warnings)
}

/// The verdict as Markdown, for a pull-request comment or a job summary.
pub fn markdown(report: &GateReport) -> String {
    let failed = report.rows.iter().filter(|r| r.verdict.fails()).count();
    let mut md = format!(
        "### rdbench gate: {}\n\n",
        if report.passed {
            "passed".to_string()
        } else {
            format!("FAILED ({failed} of {} checks)", report.rows.len())
        }
    );
    for h in &report.header {
        md.push_str(&format!("- {h}\n"));
    }
    md.push_str("\n| | config | check | change | 95% interval | limit | note |\n|---|---|---|---|---|---|---|\n");
    for r in &report.rows {
        let unit = r.unit();
        let limit = if r.check == Check::Jobs {
            "all".to_string()
        } else {
            format!("{:+}{unit}", r.limit)
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.verdict.cell(),
            r.config,
            r.label(),
            r.value
                .map(|v| format!("{v:+.2}{unit}"))
                .unwrap_or_else(|| "n/a".into()),
            r.interval
                .map(|i| format!("[{:+.2}, {:+.2}]", i.low, i.high))
                .unwrap_or_else(|| "–".into()),
            limit,
            r.note.replace('|', "\\|").replace('\n', " ")
        ));
    }
    for w in &report.warnings {
        md.push_str(&format!("\nWarning: {w}.\n"));
    }
    md
}
