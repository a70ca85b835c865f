//! The regression gate: a candidate run against a baseline run of the same suite (a pull
//! request against main, say). Per configuration it checks the BD-rate of the candidate's curves
//! against the baseline's, the change in encoder CPU time, and the change in rate-control error,
//! and renders a Markdown table fit for a pull-request comment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rdbench_metrics::bdrate::{bd_compare, BdMethod, BdOptions};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::record::EncodeRecord;
use crate::run::LoadedRun;
use crate::summary::{curve, metric_value, BD_METRICS};

/// Errors of the gate itself (a broken rule is a result, not an error).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GateError {
    /// The rules file.
    #[error("{path}: {message}")]
    Rules { path: PathBuf, message: String },
    /// Runs of different suites.
    #[error("the runs are of different suites: baseline `{baseline}`, candidate `{candidate}`")]
    Suites { baseline: String, candidate: String },
}

/// The limits a candidate must stay within.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GateRules {
    /// Largest allowed BD-rate of the candidate against the baseline, in percent (positive: worse).
    pub bd_rate_max_pct: f64,
    /// Largest allowed increase of encoder CPU time, in percent.
    pub cpu_max_pct: f64,
    /// Run-to-run noise of CPU time below which a change is not judged, in percent. With
    /// repetitions, the measured spread between repetitions raises it.
    pub cpu_noise_pct: f64,
    /// Largest allowed increase of mean |bitrate error|, in percentage points.
    pub bitrate_error_max_points: f64,
    /// Metrics the BD-rate rule applies to (default: all the runs have).
    pub metrics: Vec<String>,
    /// BD-rate method.
    pub method: String,
}

impl Default for GateRules {
    fn default() -> Self {
        GateRules {
            bd_rate_max_pct: 0.5,
            cpu_max_pct: 5.0,
            cpu_noise_pct: 1.0,
            bitrate_error_max_points: 2.0,
            metrics: Vec::new(),
            method: "pchip".into(),
        }
    }
}

impl GateRules {
    /// Reads `[rules]`-less TOML (the fields at top level).
    pub fn load(path: &Path) -> Result<GateRules, GateError> {
        let text = std::fs::read_to_string(path).map_err(|e| GateError::Rules {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let rules: GateRules = toml::from_str(&text).map_err(|e| GateError::Rules {
            path: path.to_path_buf(),
            message: e.message().replace('\n', " "),
        })?;
        if rules.method.parse::<BdMethod>().is_err() {
            return Err(GateError::Rules {
                path: path.to_path_buf(),
                message: format!("method: unknown `{}` (pchip, cubic, akima)", rules.method),
            });
        }
        Ok(rules)
    }
}

/// One checked figure.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GateRow {
    /// Configuration.
    pub config: String,
    /// What is checked: "BD-rate vmaf (crf)", "encoder CPU", "bitrate error (abr)".
    pub check: String,
    /// The figure (percent or points).
    pub value: Option<f64>,
    /// The limit it is held to.
    pub limit: f64,
    /// Within the limit (a missing figure passes with a note).
    pub ok: bool,
    /// Why there is no figure, or what it is made of.
    pub note: String,
}

/// The gate's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct GateReport {
    /// Every check.
    pub rows: Vec<GateRow>,
    /// Whether every check passed.
    pub passed: bool,
    /// What makes the comparison less trustworthy without failing it (runs on different
    /// processors).
    pub warnings: Vec<String>,
}

fn ok_records(run: &LoadedRun) -> Vec<&EncodeRecord> {
    run.records().filter(|r| r.status == "ok").collect()
}

/// Compares `candidate` with `baseline`.
pub fn gate(
    baseline: &LoadedRun,
    candidate: &LoadedRun,
    rules: &GateRules,
) -> Result<GateReport, GateError> {
    if baseline.manifest.suite_name != candidate.manifest.suite_name {
        return Err(GateError::Suites {
            baseline: baseline.manifest.suite_name.clone(),
            candidate: candidate.manifest.suite_name.clone(),
        });
    }
    let method: BdMethod = rules.method.parse().unwrap_or(BdMethod::Pchip);
    let (b, c) = (ok_records(baseline), ok_records(candidate));
    let configs: BTreeSet<&str> = b
        .iter()
        .map(|r| r.config.as_str())
        .filter(|x| c.iter().any(|r| r.config == *x))
        .collect();
    let mut rows = Vec::new();
    for config in configs {
        let modes: BTreeSet<&str> = b
            .iter()
            .filter(|r| r.config == config)
            .map(|r| r.rc_mode.as_str())
            .collect();
        let seqs: BTreeSet<&str> = b
            .iter()
            .filter(|r| r.config == config)
            .map(|r| r.sequence.as_str())
            .collect();
        let metrics: Vec<&str> = BD_METRICS
            .iter()
            .copied()
            .filter(|m| rules.metrics.is_empty() || rules.metrics.iter().any(|x| x == m))
            .filter(|m| {
                b.iter().any(|r| metric_value(r, m).is_some())
                    && c.iter().any(|r| metric_value(r, m).is_some())
            })
            .collect();
        for mode in &modes {
            for metric in &metrics {
                let mut vals = Vec::new();
                let mut nulls = 0;
                for seq in &seqs {
                    let bc = curve(&b, config, seq, mode, metric);
                    let cc = curve(&c, config, seq, mode, metric);
                    match bd_compare(&bc, &cc, &BdOptions::with_method(method)).bd_rate_percent {
                        Some(v) => vals.push(v),
                        None => nulls += 1,
                    }
                }
                let value =
                    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
                rows.push(GateRow {
                    config: config.to_string(),
                    check: format!("BD-rate {metric} ({mode})"),
                    value,
                    limit: rules.bd_rate_max_pct,
                    ok: value.map_or(true, |v| v <= rules.bd_rate_max_pct),
                    note: format!(
                        "{} sequences{}",
                        vals.len(),
                        if nulls > 0 {
                            format!(", {nulls} without a BD-rate")
                        } else {
                            String::new()
                        }
                    ),
                });
            }
        }
        // Encoder CPU: per job the median over repetitions, summed over jobs both runs have.
        let per_job = |rs: &[&EncodeRecord]| -> BTreeMap<String, Vec<f64>> {
            let mut m: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for r in rs.iter().filter(|r| r.config == config && !r.cached) {
                let key = format!("{}/{}/{}", r.sequence, r.rc_mode, r.rc_point);
                m.entry(key).or_default().push(r.encode_cpu_s);
            }
            m
        };
        let (bj, cj) = (per_job(&b), per_job(&c));
        let common: Vec<&String> = bj.keys().filter(|k| cj.contains_key(*k)).collect();
        let med = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (bt, ct): (f64, f64) = common
            .iter()
            .map(|k| (med(&bj[*k]), med(&cj[*k])))
            .fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1));
        // Noise: the relative spread between repetitions of the same job, at its largest.
        let spread = |m: &BTreeMap<String, Vec<f64>>| {
            m.values()
                .filter(|v| v.len() > 1)
                .map(|v| {
                    let (lo, hi) = v
                        .iter()
                        .fold((f64::MAX, 0.0f64), |(l, h), x| (l.min(*x), h.max(*x)));
                    if lo > 0.0 {
                        100.0 * (hi - lo) / lo
                    } else {
                        0.0
                    }
                })
                .fold(0.0, f64::max)
        };
        let noise = rules.cpu_noise_pct.max(spread(&bj)).max(spread(&cj));
        let change = (bt > 0.0).then(|| 100.0 * (ct / bt - 1.0));
        let limit = rules.cpu_max_pct.max(noise);
        rows.push(GateRow {
            config: config.to_string(),
            check: "encoder CPU".into(),
            value: change,
            limit,
            ok: change.map_or(true, |v| v <= limit),
            note: if change.is_none() {
                "no fresh (uncached) encodes in both runs".into()
            } else {
                format!(
                    "{bt:.2} s -> {ct:.2} s over {} encodes; noise {noise:.1}%",
                    common.len()
                )
            },
        });
        // Rate-control error.
        for mode in modes.iter().filter(|m| ["abr", "abr2", "cbr"].contains(m)) {
            let mean_abs = |rs: &[&EncodeRecord]| {
                let v: Vec<f64> = rs
                    .iter()
                    .filter(|r| r.config == config && r.rc_mode == *mode)
                    .filter_map(|r| r.bitrate_error_pct.map(f64::abs))
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let (be, ce) = (mean_abs(&b), mean_abs(&c));
            let value = be.zip(ce).map(|(x, y)| y - x);
            rows.push(GateRow {
                config: config.to_string(),
                check: format!("bitrate error ({mode})"),
                value,
                limit: rules.bitrate_error_max_points,
                ok: value.map_or(true, |v| v <= rules.bitrate_error_max_points),
                note: match (be, ce) {
                    (Some(x), Some(y)) => format!("mean |error| {x:.2}% -> {y:.2}%"),
                    _ => "missing in one run".into(),
                },
            });
        }
    }
    let passed = rows.iter().all(|r| r.ok);
    let mut warnings = Vec::new();
    let (bc, cc) = (&baseline.manifest.cpu, &candidate.manifest.cpu);
    if bc != cc && !bc.model.is_empty() && !cc.model.is_empty() {
        warnings.push(format!(
            "the runs come from different processors (baseline: {}; candidate: {}): CPU times are not comparable, and encoders that pick kernels by the processor may write different bitstreams",
            bc.describe(),
            cc.describe()
        ));
    }
    Ok(GateReport {
        rows,
        passed,
        warnings,
    })
}

/// The verdict as Markdown.
pub fn markdown(report: &GateReport, baseline: &str, candidate: &str) -> String {
    let mut md = format!(
        "### rdbench gate: {}\n\nCandidate `{candidate}` against baseline `{baseline}`.\n\n| | config | check | change | limit | note |\n|---|---|---|---|---|---|\n",
        if report.passed { "passed" } else { "FAILED" }
    );
    for r in &report.rows {
        let unit = if r.check.starts_with("bitrate") {
            " pts"
        } else {
            "%"
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {}{} | {} |\n",
            if r.ok { "ok" } else { "**FAIL**" },
            r.config,
            r.check,
            r.value
                .map(|v| format!("{v:+.2}{unit}"))
                .unwrap_or_else(|| "n/a".into()),
            r.limit,
            unit,
            r.note
        ));
    }
    for w in &report.warnings {
        md.push_str(&format!("\nWarning: {w}.\n"));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Manifest;

    fn run_of(rows: Vec<EncodeRecord>) -> LoadedRun {
        LoadedRun {
            manifest: Manifest {
                suite_name: "s".into(),
                ..Default::default()
            },
            jobs: rows
                .into_iter()
                .map(|record| crate::run::JobResult {
                    record,
                    frames: Vec::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn rows(rate_scale: f64, cpu: f64, err: f64) -> Vec<EncodeRecord> {
        let mut v = Vec::new();
        for seq in ["a", "b"] {
            for (i, (k, q)) in [
                (1000.0, 80.0),
                (2000.0, 88.0),
                (4000.0, 93.0),
                (8000.0, 96.0),
            ]
            .iter()
            .enumerate()
            {
                v.push(EncodeRecord {
                    config: "x".into(),
                    sequence: seq.into(),
                    rc_mode: "crf".into(),
                    rc_point: i as u32,
                    bitrate_kbps: k * rate_scale,
                    vmaf: Some(*q),
                    encode_cpu_s: cpu,
                    status: "ok".into(),
                    ..Default::default()
                });
                v.push(EncodeRecord {
                    config: "x".into(),
                    sequence: seq.into(),
                    rc_mode: "abr".into(),
                    rc_point: i as u32,
                    bitrate_kbps: *k,
                    vmaf: Some(*q),
                    bitrate_error_pct: Some(err),
                    encode_cpu_s: cpu,
                    status: "ok".into(),
                    ..Default::default()
                });
            }
        }
        v
    }

    #[test]
    fn an_identical_candidate_passes() {
        let r = gate(
            &run_of(rows(1.0, 1.0, 3.0)),
            &run_of(rows(1.0, 1.0, 3.0)),
            &GateRules::default(),
        )
        .unwrap();
        assert!(r.passed, "{:#?}", r.rows);
        let bd = r
            .rows
            .iter()
            .find(|x| x.check == "BD-rate vmaf (crf)")
            .unwrap();
        assert!(bd.value.unwrap().abs() < 1e-9);
    }

    #[test]
    fn runs_on_different_processors_pass_with_a_warning() {
        let cpu = |model: &str, features: &[&str]| crate::run::CpuInfo {
            model: model.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
        };
        let mut b = run_of(rows(1.0, 1.0, 3.0));
        let mut c = run_of(rows(1.0, 1.0, 3.0));
        b.manifest.cpu = cpu("EPYC 9B14", &["avx2", "avx512f"]);
        c.manifest.cpu = cpu("EPYC 9B14", &["avx2", "avx512f"]);
        let same = gate(&b, &c, &GateRules::default()).unwrap();
        assert!(same.passed && same.warnings.is_empty());
        c.manifest.cpu = cpu("Xeon E5-2680 v4", &["avx2"]);
        let other = gate(&b, &c, &GateRules::default()).unwrap();
        assert!(other.passed);
        assert_eq!(other.warnings.len(), 1);
        let md = markdown(&other, "main", "pr");
        assert!(
            md.contains("\nWarning: the runs come from different processors (baseline: EPYC 9B14 [avx2 avx512f]; candidate: Xeon E5-2680 v4 [avx2])"),
            "{md}"
        );
        // Manifests written before the processor was recorded say nothing either way.
        c.manifest.cpu = crate::run::CpuInfo::default();
        assert!(gate(&b, &c, &GateRules::default())
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn each_rule_catches_its_regression() {
        // 2% more bits for the same quality.
        let r = gate(
            &run_of(rows(1.0, 1.0, 3.0)),
            &run_of(rows(1.02, 1.0, 3.0)),
            &GateRules::default(),
        )
        .unwrap();
        assert!(!r.passed);
        let bd = r
            .rows
            .iter()
            .find(|x| x.check == "BD-rate vmaf (crf)")
            .unwrap();
        assert!(!bd.ok && (bd.value.unwrap() - 2.0).abs() < 1e-6);
        // 10% slower.
        let r = gate(
            &run_of(rows(1.0, 1.0, 3.0)),
            &run_of(rows(1.0, 1.1, 3.0)),
            &GateRules::default(),
        )
        .unwrap();
        let cpu = r.rows.iter().find(|x| x.check == "encoder CPU").unwrap();
        assert!(!cpu.ok && (cpu.value.unwrap() - 10.0).abs() < 1e-6);
        // Bitrate error from 3% to 6%.
        let r = gate(
            &run_of(rows(1.0, 1.0, 3.0)),
            &run_of(rows(1.0, 1.0, 6.0)),
            &GateRules::default(),
        )
        .unwrap();
        let be = r
            .rows
            .iter()
            .find(|x| x.check == "bitrate error (abr)")
            .unwrap();
        assert!(!be.ok && (be.value.unwrap() - 3.0).abs() < 1e-9);
        let md = markdown(&r, "main", "pr");
        assert!(
            md.contains("### rdbench gate: FAILED")
                && md.contains("| **FAIL** | x | bitrate error (abr) | +3.00 pts | 2 pts |"),
            "{md}"
        );
    }

    #[test]
    fn a_small_speed_change_within_the_limit_passes() {
        let r = gate(
            &run_of(rows(1.0, 1.0, 3.0)),
            &run_of(rows(1.0, 1.04, 3.0)),
            &GateRules::default(),
        )
        .unwrap();
        assert!(r.passed);
    }
}
