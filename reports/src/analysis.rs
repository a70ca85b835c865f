//! What a report says about a run: BD-rates per sequence and per class against the anchor, encode
//! speed per rate point, rate-control accuracy, encode-time ratios, and the comparison of two runs.
//!
//! The run's own `summary.json` is the source when its anchor is the report's anchor (the report
//! then repeats exactly what the run found); otherwise, or without a summary, the same figures
//! are computed here from the encodes with the metrics crate's BD-rate.

use std::collections::BTreeMap;

use rdbench_bench_suite::record::{BitrateError, ClassBd, SequenceBd, SpeedPoint};
use rdbench_metrics::bdrate::{
    average_by_class, bd_compare, BdMethod, BdOptions, BdResult, RatePoint, RdCurve,
};

use crate::data::{rc_mode_rank, Dataset};

/// Where the BD-rates and speed figures of a report come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The run's summary.json.
    Summary,
    /// Computed by the report from the encodes.
    Computed,
}

/// The encode-time ratio of a test configuration against the anchor over one sequence, one class
/// or all sequences ("all").
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRatio {
    /// Test configuration.
    pub config: String,
    /// Rate-control mode.
    pub rc_mode: String,
    /// Sequence id, class name, or "all".
    pub scope: String,
    /// Test encoder CPU seconds over anchor encoder CPU seconds, summed over the rate points both
    /// have (classes and "all": geometric mean of the sequences' ratios).
    pub ratio: f64,
}

/// The figures of a report about one run against its anchor.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The anchor.
    pub anchor: String,
    /// The BD method.
    pub method: BdMethod,
    /// Where BD-rates and speed come from.
    pub source: Source,
    /// BD-rate per sequence.
    pub bd_sequences: Vec<SequenceBd>,
    /// BD-rate per class and overall ("all").
    pub bd_classes: Vec<ClassBd>,
    /// Speed per rate point, every configuration (the anchor's own ratio is 1).
    pub speed: Vec<SpeedPoint>,
    /// Rate-control accuracy per configuration and bitrate mode.
    pub bitrate_error: Vec<BitrateError>,
    /// Encode-time ratios per sequence, class and overall.
    pub time_ratios: Vec<TimeRatio>,
}

/// The change of one configuration between the run compared against and this run, at one rate
/// point.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedChange {
    /// Configuration.
    pub config: String,
    /// Rate-control mode.
    pub rc_mode: String,
    /// Rate point.
    pub rc_point: u32,
    /// Mean bitrate of this run at the point.
    pub bitrate_kbps: f64,
    /// Encoder CPU seconds summed over the sequences both runs have, in this run.
    pub cpu_s: f64,
    /// The same in the other run.
    pub other_cpu_s: f64,
    /// cpu_s / other_cpu_s.
    pub ratio: f64,
}

/// This run against another run of the same suite: each configuration against itself.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The other run's id.
    pub other_run: String,
    /// BD-rate of each configuration in this run against the same configuration in the other
    /// run, per sequence (the `config` field is the configuration compared with itself).
    pub bd_sequences: Vec<SequenceBd>,
    /// Their class and overall averages.
    pub bd_classes: Vec<ClassBd>,
    /// Speed change per rate point.
    pub speed: Vec<SpeedChange>,
}

fn bd_row(
    config: &str,
    metric: &str,
    rc_mode: &str,
    sequence: &str,
    class: &str,
    r: &BdResult,
) -> SequenceBd {
    SequenceBd {
        config: config.to_owned(),
        metric: metric.to_owned(),
        rc_mode: rc_mode.to_owned(),
        sequence: sequence.to_owned(),
        class: class.to_owned(),
        bd_rate_percent: r.bd_rate_percent,
        bd_quality: r.bd_quality,
        warnings: r.warnings.iter().map(|w| w.as_str().to_owned()).collect(),
        reason: r.reason.clone(),
    }
}

fn curve(ds: &Dataset, sequence: &str, config: &str, rc_mode: &str, metric: &str) -> RdCurve {
    ds.curve(sequence, config, rc_mode)
        .iter()
        .filter_map(|p| p.metric(metric).map(|q| RatePoint::new(p.bitrate_kbps, q)))
        .collect()
}

/// BD-rates of `test` curves against `anchor` curves for every sequence, mode and metric, with
/// the class and overall averages. `pairs` lists (anchor dataset, anchor config, test config).
fn bd_tables(
    anchor_ds: &Dataset,
    test_ds: &Dataset,
    pairs: &[(String, String)],
    method: BdMethod,
) -> (Vec<SequenceBd>, Vec<ClassBd>) {
    let options = BdOptions::with_method(method);
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for mode in &test_ds.rc_modes {
        for metric in &test_ds.metrics {
            for (anchor, test) in pairs {
                let mut results = Vec::new();
                for seq in &test_ds.sequences {
                    let a = curve(anchor_ds, &seq.id, anchor, mode, metric);
                    let t = curve(test_ds, &seq.id, test, mode, metric);
                    if a.is_empty() || t.is_empty() {
                        continue;
                    }
                    let r = bd_compare(&a, &t, &options);
                    rows.push(bd_row(test, metric, mode, &seq.id, &seq.class, &r));
                    results.push((seq.id.clone(), seq.class.clone(), r));
                }
                if results.is_empty() {
                    continue;
                }
                let avg =
                    average_by_class(results.iter().map(|(s, c, r)| (s.as_str(), c.as_str(), r)));
                let class_row = |class: &str, ca: &rdbench_metrics::bdrate::ClassAverage| ClassBd {
                    config: test.clone(),
                    metric: metric.clone(),
                    rc_mode: mode.clone(),
                    class: class.to_owned(),
                    bd_rate_percent: ca.bd_rate_percent,
                    bd_quality: ca.bd_quality,
                    sequences: (ca.sequences - ca.bd_rate_skipped.len()) as u32,
                    skipped: ca.bd_rate_skipped.len() as u32,
                };
                for (class, ca) in &avg.per_class {
                    classes.push(class_row(class, ca));
                }
                classes.push(class_row("all", &avg.overall));
            }
        }
    }
    (rows, classes)
}

/// Speed per rate point of every configuration, against the anchor's same point over the same
/// sequences.
fn speed_points(ds: &Dataset) -> Vec<SpeedPoint> {
    let mut out = Vec::new();
    for config in &ds.configs {
        for mode in &ds.rc_modes {
            let mut by_point: BTreeMap<u32, Vec<&crate::data::Point>> = BTreeMap::new();
            for p in ds.points_of(config, mode) {
                by_point.entry(p.record.rc_point).or_default().push(p);
            }
            for (rc_point, pts) in by_point {
                let anchor_cpu: Option<f64> = pts
                    .iter()
                    .map(|p| {
                        ds.points_of(&ds.anchor, mode)
                            .find(|a| {
                                a.record.rc_point == rc_point
                                    && a.record.sequence == p.record.sequence
                            })
                            .map(|a| a.encode_cpu_s)
                    })
                    .sum();
                let cpu: f64 = pts.iter().map(|p| p.encode_cpu_s).sum();
                out.push(SpeedPoint {
                    config: config.clone(),
                    rc_mode: mode.clone(),
                    rc_point,
                    rc_value: pts[0].record.rc_value,
                    bitrate_kbps: pts.iter().map(|p| p.bitrate_kbps).sum::<f64>()
                        / pts.len() as f64,
                    encode_cpu_s: cpu,
                    encode_wall_s: pts.iter().map(|p| p.encode_wall_s).sum(),
                    anchor_cpu_s: anchor_cpu,
                    cpu_ratio: anchor_cpu.filter(|a| *a > 0.0).map(|a| cpu / a),
                });
            }
        }
    }
    out
}

/// Rate-control accuracy of every configuration in every bitrate mode.
fn bitrate_errors(ds: &Dataset) -> Vec<BitrateError> {
    let mut out = Vec::new();
    for config in &ds.configs {
        for mode in ds.bitrate_modes() {
            let pts: Vec<_> = ds.points_of(config, &mode).collect();
            let errors: Vec<f64> = pts
                .iter()
                .filter_map(|p| p.record.bitrate_error_pct)
                .collect();
            if errors.is_empty() {
                continue;
            }
            let n = errors.len() as f64;
            out.push(BitrateError {
                config: config.clone(),
                rc_mode: mode.clone(),
                mean_abs_error_pct: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
                max_abs_error_pct: errors.iter().map(|e| e.abs()).fold(0.0, f64::max),
                mean_error_pct: errors.iter().sum::<f64>() / n,
                vbv_violations: pts.iter().filter_map(|p| p.record.vbv_violations).sum(),
                encodes: errors.len() as u32,
            });
        }
    }
    out
}

fn geometric_mean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// Encode-time ratios of each test configuration per sequence, class and overall.
fn time_ratios(ds: &Dataset) -> Vec<TimeRatio> {
    let mut out = Vec::new();
    for test in ds.tests() {
        for mode in &ds.rc_modes {
            let mut per_seq: Vec<(String, f64)> = Vec::new();
            for seq in &ds.sequences {
                let a = ds.curve(&seq.id, &ds.anchor, mode);
                let t = ds.curve(&seq.id, test, mode);
                let (mut at, mut tt) = (0.0, 0.0);
                for tp in &t {
                    if let Some(ap) = a.iter().find(|ap| ap.record.rc_point == tp.record.rc_point) {
                        at += ap.encode_cpu_s;
                        tt += tp.encode_cpu_s;
                    }
                }
                if at > 0.0 {
                    per_seq.push((seq.id.clone(), tt / at));
                    out.push(TimeRatio {
                        config: test.clone(),
                        rc_mode: mode.clone(),
                        scope: seq.id.clone(),
                        ratio: tt / at,
                    });
                }
            }
            let mut scopes: Vec<(String, Vec<f64>)> = ds
                .classes
                .iter()
                .map(|c| {
                    let v = per_seq
                        .iter()
                        .filter(|(s, _)| ds.sequences.iter().any(|q| q.id == *s && q.class == *c))
                        .map(|(_, r)| *r)
                        .collect();
                    (c.clone(), v)
                })
                .collect();
            scopes.push(("all".into(), per_seq.iter().map(|(_, r)| *r).collect()));
            for (scope, values) in scopes {
                if let Some(ratio) = geometric_mean(&values) {
                    out.push(TimeRatio {
                        config: test.clone(),
                        rc_mode: mode.clone(),
                        scope,
                        ratio,
                    });
                }
            }
        }
    }
    out
}

/// The figures of `ds` against its anchor: from the run's summary when it has the same anchor,
/// computed otherwise.
pub fn analyse(ds: &Dataset) -> Analysis {
    let mut a = analyse_unordered(ds);
    let rank = |config: &str| ds.configs.iter().position(|c| c == config);
    a.bitrate_error
        .sort_by_key(|e| (rank(&e.config), rc_mode_rank(&e.rc_mode)));
    a.speed
        .sort_by_key(|s| (rank(&s.config), rc_mode_rank(&s.rc_mode), s.rc_point));
    a
}

fn analyse_unordered(ds: &Dataset) -> Analysis {
    let summary = ds.run.summary.as_ref();
    let method = summary
        .and_then(|s| s.method.parse().ok())
        .unwrap_or_default();
    let bitrate_error = match summary {
        Some(s) if !s.bitrate_error.is_empty() => s.bitrate_error.clone(),
        _ => bitrate_errors(ds),
    };
    let time_ratios = time_ratios(ds);
    match summary {
        Some(s) if s.anchor == ds.anchor && !s.bd_sequences.is_empty() => Analysis {
            anchor: ds.anchor.clone(),
            method,
            source: Source::Summary,
            bd_sequences: s.bd_sequences.clone(),
            bd_classes: s.bd_classes.clone(),
            speed: if s.speed.is_empty() {
                speed_points(ds)
            } else {
                s.speed.clone()
            },
            bitrate_error,
            time_ratios,
        },
        _ => {
            let pairs: Vec<(String, String)> = ds
                .tests()
                .iter()
                .map(|t| (ds.anchor.clone(), t.clone()))
                .collect();
            let (bd_sequences, bd_classes) = bd_tables(ds, ds, &pairs, method);
            Analysis {
                anchor: ds.anchor.clone(),
                method,
                source: Source::Computed,
                bd_sequences,
                bd_classes,
                speed: speed_points(ds),
                bitrate_error,
                time_ratios,
            }
        }
    }
}

/// This run (`ds`) against another run of the same suite (`other`): BD-rate of each configuration
/// against itself in the other run, and the speed change per rate point.
pub fn compare(ds: &Dataset, other: &Dataset, method: BdMethod) -> Comparison {
    let pairs: Vec<(String, String)> = ds
        .configs
        .iter()
        .filter(|c| other.configs.contains(c))
        .map(|c| (c.clone(), c.clone()))
        .collect();
    let (bd_sequences, bd_classes) = bd_tables(other, ds, &pairs, method);
    let mut speed = Vec::new();
    for (config, _) in &pairs {
        for mode in &ds.rc_modes {
            let mut by_point: BTreeMap<u32, (f64, f64, f64, usize)> = BTreeMap::new();
            for p in ds.points_of(config, mode) {
                let o = other.points_of(config, mode).find(|o| {
                    o.record.rc_point == p.record.rc_point && o.record.sequence == p.record.sequence
                });
                if let Some(o) = o {
                    let e = by_point.entry(p.record.rc_point).or_default();
                    e.0 += p.encode_cpu_s;
                    e.1 += o.encode_cpu_s;
                    e.2 += p.bitrate_kbps;
                    e.3 += 1;
                }
            }
            for (rc_point, (cpu, other_cpu, rate, n)) in by_point {
                if other_cpu > 0.0 {
                    speed.push(SpeedChange {
                        config: config.clone(),
                        rc_mode: mode.clone(),
                        rc_point,
                        bitrate_kbps: rate / n as f64,
                        cpu_s: cpu,
                        other_cpu_s: other_cpu,
                        ratio: cpu / other_cpu,
                    });
                }
            }
        }
    }
    Comparison {
        other_run: other.run.manifest.run_id.clone(),
        bd_sequences,
        bd_classes,
        speed,
    }
}
