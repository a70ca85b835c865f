//! The one analysis of rdbench. Every figure the summary, the reports and the gate print comes
//! from here, for two kinds of comparison:
//!
//! - [`within_run`]: each configuration of a run against the run's anchor;
//! - [`across_runs`]: each configuration of a candidate run against the same configuration in a
//!   baseline run.
//!
//! Both compute BD-rate and BD-quality per sequence, per class and over all sequences for every
//! metric and rate-control mode, encoder speed per rate point (encoder CPU, decoder CPU and,
//! where counted, instructions), and the rate-control error of every bitrate mode.
//!
//! # What "sequences averaged" means
//!
//! A class average (and the overall one, class [`ALL`]) is the arithmetic mean of the BD-rates
//! of the sequences of the group whose BD-rate is defined. [`ClassBd::sequences`] counts exactly
//! those; [`ClassBd::skipped`] names the sequences of the group that have a per-sequence entry
//! but no BD-rate (its [`SequenceBd::reason`] says why). `sequences + skipped.len()` is the
//! number of per-sequence entries of the group. A sequence gets an entry when either side has a
//! job (finished or failed) on it in that mode.
//!
//! # Intervals
//!
//! Every mean BD-rate carries a 95% percentile interval from a paired bootstrap over the
//! sequences averaged (each sequence's BD-rate already pairs the two curves; resampling
//! sequences resamples pairs), seeded so that a rerun prints the same interval. Timing ratios
//! carry an interval when every job was timed at least [`MIN_REPETITIONS`] times: each job's
//! repetitions are resampled on both sides and the ratio of summed medians recomputed.

use std::collections::{BTreeMap, BTreeSet};

use rdbench_bdrate::{bd_compare, BdMethod, BdOptions, BdResult, BdWarning, RatePoint, RdCurve};
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Point};
use crate::metric::Metric;
use crate::record::EncodeRecord;
use crate::stats::{self, Bootstrap, Interval};
use crate::types::{RcMode, RcPoint};

/// The class name of the average over all sequences.
pub const ALL: &str = "all";

/// Repetitions every job needs before a timing ratio carries an interval.
pub const MIN_REPETITIONS: usize = 3;

/// How the analysis computes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct AnalysisOptions {
    /// The BD interpolation method.
    pub method: BdMethod,
    /// How intervals are drawn.
    pub bootstrap: Bootstrap,
}

impl AnalysisOptions {
    /// The default options with another BD method.
    pub fn with_method(method: BdMethod) -> Self {
        AnalysisOptions {
            method,
            ..Default::default()
        }
    }
}

/// BD-rate of one configuration against its reference on one sequence and metric.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SequenceBd {
    /// The configuration measured.
    pub config: String,
    /// What it is measured against: the anchor configuration (within a run) or the same
    /// configuration in the baseline run.
    pub reference: String,
    /// The metric.
    pub metric: Metric,
    /// The mode whose points form the curves.
    pub rc_mode: RcMode,
    /// Sequence id.
    pub sequence: String,
    /// Its class.
    pub class: String,
    /// BD-rate in percent (negative: fewer bits at equal quality), None when undefined.
    pub bd_rate_percent: Option<f64>,
    /// BD-quality in the metric's units (positive: better at equal rate).
    pub bd_quality: Option<f64>,
    /// Named warnings.
    pub warnings: Vec<BdWarning>,
    /// Why a figure is null.
    pub reason: Option<String>,
}

/// The mean BD-rate of a configuration over a class of sequences, or over all ([`ALL`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClassBd {
    /// The configuration measured.
    pub config: String,
    /// What it is measured against.
    pub reference: String,
    /// The metric.
    pub metric: Metric,
    /// The mode.
    pub rc_mode: RcMode,
    /// Class, or [`ALL`].
    pub class: String,
    /// Mean of the defined per-sequence BD-rates, in percent.
    pub bd_rate_percent: Option<f64>,
    /// 95% bootstrap interval of that mean (None below 2 sequences).
    pub bd_rate_interval: Option<Interval>,
    /// Mean of the defined per-sequence BD-qualities.
    pub bd_quality: Option<f64>,
    /// 95% bootstrap interval of that mean.
    pub bd_quality_interval: Option<Interval>,
    /// Sequences averaged: those of the group whose BD-rate is defined.
    pub sequences: u32,
    /// Sequences of the group with an entry but no BD-rate.
    pub skipped: Vec<String>,
}

/// Encoding cost of a configuration at one rate point, against its reference at the same point
/// on the same sequences.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeedPoint {
    /// The configuration.
    pub config: String,
    /// What it is measured against.
    pub reference: String,
    /// The rate point.
    pub point: RcPoint,
    /// The configuration's value at that point (CRF, QP, or the mean target kbit/s over the
    /// sequences).
    pub rc_value: f64,
    /// Mean bitrate over the sequences at that point.
    pub bitrate_kbps: f64,
    /// Sequences with this point.
    pub sequences: u32,
    /// Encoder CPU seconds summed over those sequences (median over repetitions).
    pub encode_cpu_s: f64,
    /// Encoder wall seconds, likewise.
    pub encode_wall_s: f64,
    /// Decoder CPU seconds (DecT), likewise.
    pub decode_cpu_s: f64,
    /// Encoder instructions, likewise, when every encode was counted.
    pub encode_instructions: Option<f64>,
    /// Sequences both sides have at this point (the ratios are over these).
    pub paired_sequences: u32,
    /// The reference's encoder CPU seconds over the paired sequences.
    pub reference_cpu_s: Option<f64>,
    /// Encoder CPU over the reference's on the paired sequences (above 1: slower).
    pub cpu_ratio: Option<f64>,
    /// 95% interval of `cpu_ratio` from the repetitions.
    pub cpu_ratio_interval: Option<Interval>,
    /// Decoder CPU over the reference's.
    pub decode_ratio: Option<f64>,
    /// Instructions over the reference's, when both were counted.
    pub instructions_ratio: Option<f64>,
}

/// Rate-control accuracy of a configuration in one bitrate mode.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BitrateError {
    /// The configuration.
    pub config: String,
    /// abr, abr2 or cbr.
    pub rc_mode: RcMode,
    /// Mean |bitrate error| in percent.
    pub mean_abs_error_pct: f64,
    /// Largest |bitrate error| in percent.
    pub max_abs_error_pct: f64,
    /// Mean signed error in percent.
    pub mean_error_pct: f64,
    /// VBV violations summed over encodes.
    pub vbv_violations: u64,
    /// Encodes counted (one per sequence and point).
    pub encodes: u32,
    /// Encodes left out because their target was unreachable (the encoder at its lowest
    /// quantiser spends less than the target on that content).
    #[serde(default)]
    pub unreachable: u32,
}

/// How a configuration's `target_vmaf` points met their targets: the VMAF reached against the
/// one asked for, what the searches cost, and the targets no CRF reached.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QualityTarget {
    /// The configuration.
    pub config: String,
    /// The target (VMAF).
    pub target: f64,
    /// Encodes that reached it (one per sequence).
    pub encodes: u32,
    /// Mean VMAF reached.
    pub mean_vmaf: f64,
    /// Largest |VMAF reached − target|.
    pub max_abs_miss: f64,
    /// Mean bitrate at the target, kbit/s.
    pub mean_kbps: f64,
    /// Mean CRF the searches found.
    pub mean_crf: f64,
    /// Mean encodes scored per search.
    pub mean_probes: f64,
    /// The searches' CPU over the answers' own job CPU (encode, decode, scoring): what a search
    /// costs, counted in encodes.
    pub search_cpu_ratio: Option<f64>,
    /// Sequences where the search failed (no CRF in range reaches the target, or the probe
    /// budget ran out).
    pub failed: u32,
}

/// Each configuration's `target_vmaf` points, target by target.
fn quality_targets(ds: &Dataset, configs: &[String]) -> Vec<QualityTarget> {
    let mut out = Vec::new();
    for config in configs {
        let pts: Vec<&Point> = ds.points_of(config, RcMode::TargetVmaf).collect();
        let mut targets: Vec<f64> = pts.iter().filter_map(|p| p.record.target_vmaf).collect();
        let failed_targets: Vec<f64> = ds
            .failed
            .iter()
            .filter(|r| r.config == *config && r.rc_mode == RcMode::TargetVmaf)
            .filter_map(|r| r.target_vmaf)
            .collect();
        targets.extend(failed_targets.iter().copied());
        targets.sort_by(f64::total_cmp);
        targets.dedup();
        for t in targets {
            let at: Vec<&&Point> = pts
                .iter()
                .filter(|p| p.record.target_vmaf == Some(t))
                .collect();
            let vmafs: Vec<f64> = at.iter().filter_map(|p| p.record.vmaf).collect();
            let n = at.len();
            let mean = |v: &[f64]| stats::mean(v).unwrap_or(f64::NAN);
            let search: f64 = at.iter().filter_map(|p| p.record.search_cpu_s).sum();
            let own: f64 = at.iter().map(|p| p.record.job_cpu_s).sum();
            out.push(QualityTarget {
                config: config.clone(),
                target: t,
                encodes: n as u32,
                mean_vmaf: mean(&vmafs),
                max_abs_miss: vmafs.iter().map(|v| (v - t).abs()).fold(0.0, f64::max),
                mean_kbps: mean(&at.iter().map(|p| p.bitrate_kbps).collect::<Vec<_>>()),
                mean_crf: mean(&at.iter().map(|p| p.record.rc_value).collect::<Vec<_>>()),
                mean_probes: mean(
                    &at.iter()
                        .filter_map(|p| p.record.search_probes.map(f64::from))
                        .collect::<Vec<_>>(),
                ),
                search_cpu_ratio: (own > 0.0).then(|| search / own),
                failed: failed_targets.iter().filter(|x| **x == t).count() as u32,
            });
        }
    }
    out
}

/// The encoder (EncT) and decoder (DecT) CPU ratios of a configuration against its reference
/// over one sequence, one class, or all sequences ([`ALL`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TimeRatio {
    /// The configuration.
    pub config: String,
    /// The mode.
    pub rc_mode: RcMode,
    /// Sequence id, class, or [`ALL`].
    pub scope: String,
    /// EncT. Sequence: encoder CPU over the reference's, summed over the points both have.
    /// Class and all: the geometric mean of the sequences' ratios.
    pub ratio: f64,
    /// DecT: the same for the CPU time of decoding the encodes (None when the reference's
    /// decoder time is zero, e.g. records made before rdbench measured it).
    pub decode_ratio: Option<f64>,
}

/// Everything one comparison found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Analysis {
    /// The BD method.
    pub method: BdMethod,
    /// Per sequence.
    pub bd_sequences: Vec<SequenceBd>,
    /// Per class and over all sequences.
    pub bd_classes: Vec<ClassBd>,
    /// Speed per rate point.
    pub speed: Vec<SpeedPoint>,
    /// Rate-control accuracy (of the configurations measured, in their own run).
    pub bitrate_error: Vec<BitrateError>,
    /// Encoder CPU ratios per sequence, class and overall.
    pub time_ratios: Vec<TimeRatio>,
    /// How `target_vmaf` points met their targets (of the configurations measured).
    #[serde(default)]
    pub quality_targets: Vec<QualityTarget>,
}

impl Analysis {
    /// The overall average of `config` in `metric` and `mode`.
    pub fn overall(&self, config: &str, metric: Metric, mode: RcMode) -> Option<&ClassBd> {
        self.class(config, metric, mode, ALL)
    }

    /// The average of `config` over `class`.
    pub fn class(
        &self,
        config: &str,
        metric: Metric,
        mode: RcMode,
        class: &str,
    ) -> Option<&ClassBd> {
        self.bd_classes.iter().find(|c| {
            c.config == config && c.metric == metric && c.rc_mode == mode && c.class == class
        })
    }
}

/// Which timing of an encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Encoder CPU seconds.
    EncodeCpu,
    /// Decoder CPU seconds of the encode (DecT).
    DecodeCpu,
    /// Encoder instructions (hardware counters).
    Instructions,
}

impl Timing {
    /// The value of this timing in a record, when it has one.
    pub fn of(self, r: &EncodeRecord) -> Option<f64> {
        match self {
            Timing::EncodeCpu => Some(r.encode_cpu_s),
            Timing::DecodeCpu => Some(r.decode_cpu_s),
            Timing::Instructions => r.encode_instructions.map(|i| i as f64),
        }
    }
}

/// The timings of `config` on `sequence` at `point` in both runs, per repetition.
pub type TimedJob = (Vec<f64>, Vec<f64>);

/// One side of a comparison: a dataset and the configuration on it.
#[derive(Clone, Copy)]
pub struct Side<'d, 'a> {
    /// The records.
    pub ds: &'d Dataset<'a>,
    /// The configuration.
    pub config: &'d str,
}

/// The per-repetition timings of every (sequence, point) both sides have, restricted to
/// `modes` (all when empty), for [`stats::ratio_of_medians`] and [`Bootstrap::ratio_interval`].
/// With `fresh_only`, repetitions taken from a cache are left out (their timings were measured
/// by another run) and a job left with none on either side is dropped.
pub fn timed_jobs(
    reference: Side,
    test: Side,
    modes: &[RcMode],
    point: Option<RcPoint>,
    timing: Timing,
    fresh_only: bool,
) -> Vec<TimedJob> {
    let values = |p: &Point| -> Option<Vec<f64>> {
        let reps: Vec<&EncodeRecord> = if fresh_only {
            p.fresh().collect()
        } else {
            p.repetitions.clone()
        };
        reps.iter().map(|r| timing.of(r)).collect()
    };
    let mut out = Vec::new();
    for tp in test
        .ds
        .points
        .iter()
        .filter(|p| p.record.config == test.config)
    {
        if !modes.is_empty() && !modes.contains(&tp.record.rc_mode) {
            continue;
        }
        if point.is_some_and(|want| tp.point() != want) {
            continue;
        }
        let Some(rp) = reference
            .ds
            .point(&tp.record.sequence, reference.config, tp.point())
        else {
            continue;
        };
        if let (Some(r), Some(t)) = (values(rp), values(tp)) {
            if !r.is_empty() && !t.is_empty() {
                out.push((r, t));
            }
        }
    }
    out
}

fn curve(ds: &Dataset, sequence: &str, config: &str, mode: RcMode, metric: Metric) -> RdCurve {
    ds.curve(sequence, config, mode)
        .iter()
        .filter_map(|p| p.metric(metric).map(|q| RatePoint::new(p.bitrate_kbps, q)))
        .collect()
}

/// Why a side has no curve on a sequence, when it has none.
fn missing_curve(
    ds: &Dataset,
    sequence: &str,
    config: &str,
    mode: RcMode,
    which: &str,
) -> Option<String> {
    if !ds.curve(sequence, config, mode).is_empty() {
        return None;
    }
    let failed: Vec<&&EncodeRecord> = ds
        .failed
        .iter()
        .filter(|r| r.sequence == sequence && r.config == config && r.rc_mode == mode)
        .collect();
    Some(match failed.first() {
        Some(first) => format!(
            "{which} `{config}` has no finished {mode} encode of {sequence} ({} failed: {})",
            failed.len(),
            first.error.as_deref().unwrap_or("no error recorded")
        ),
        None => format!("{which} `{config}` has no {mode} encode of {sequence}"),
    })
}

fn mode_has_jobs(ds: &Dataset, config: &str, mode: RcMode) -> bool {
    ds.run
        .records()
        .any(|r| r.config == config && r.rc_mode == mode)
}

/// Per-sequence BD-rates of each `(reference config, test config)` pair, and their class and
/// overall averages.
fn bd_tables(
    reference: &Dataset,
    test: &Dataset,
    pairs: &[(String, String)],
    options: &AnalysisOptions,
) -> (Vec<SequenceBd>, Vec<ClassBd>) {
    let bd_options = BdOptions::with_method(options.method);
    let metrics: Vec<Metric> = test
        .bd_metrics()
        .into_iter()
        .filter(|m| reference.metrics.contains(m))
        .collect();
    let mut modes: Vec<RcMode> = test.rc_modes.clone();
    modes.extend(reference.rc_modes.iter().copied());
    modes.sort_by_key(|m| m.rank());
    modes.dedup();
    // Sequences of both sides, by class then id.
    let mut sequences: BTreeMap<(String, String), ()> = BTreeMap::new();
    for s in test.sequences.iter().chain(reference.sequences.iter()) {
        sequences.insert((s.class.clone(), s.id.clone()), ());
    }
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for &mode in &modes {
        for &metric in &metrics {
            for (ref_config, test_config) in pairs {
                if !mode_has_jobs(reference, ref_config, mode)
                    || !mode_has_jobs(test, test_config, mode)
                {
                    continue;
                }
                let mut group: Vec<SequenceBd> = Vec::new();
                for (class, seq) in sequences.keys() {
                    if !reference.has_jobs(seq, ref_config, mode)
                        && !test.has_jobs(seq, test_config, mode)
                    {
                        continue;
                    }
                    let missing = missing_curve(reference, seq, ref_config, mode, "the reference")
                        .or_else(|| {
                            missing_curve(test, seq, test_config, mode, "the configuration")
                        });
                    let result = match missing {
                        Some(reason) => BdResult {
                            method: options.method,
                            bd_rate_percent: None,
                            bd_quality: None,
                            warnings: Vec::new(),
                            reason: Some(reason),
                        },
                        None => bd_compare(
                            &curve(reference, seq, ref_config, mode, metric),
                            &curve(test, seq, test_config, mode, metric),
                            &bd_options,
                        ),
                    };
                    group.push(SequenceBd {
                        config: test_config.clone(),
                        reference: ref_config.clone(),
                        metric,
                        rc_mode: mode,
                        sequence: seq.clone(),
                        class: class.clone(),
                        bd_rate_percent: result.bd_rate_percent,
                        bd_quality: result.bd_quality,
                        warnings: result.warnings,
                        reason: result.reason,
                    });
                }
                if group.is_empty() {
                    continue;
                }
                let mut by_class: BTreeMap<&str, Vec<&SequenceBd>> = BTreeMap::new();
                for s in &group {
                    by_class.entry(s.class.as_str()).or_default().push(s);
                }
                for (class, members) in &by_class {
                    classes.push(class_average(class, members, &options.bootstrap));
                }
                let all: Vec<&SequenceBd> = group.iter().collect();
                classes.push(class_average(ALL, &all, &options.bootstrap));
                rows.extend(group);
            }
        }
    }
    (rows, classes)
}

/// The average of one group of per-sequence entries (all of one config, reference, metric and
/// mode).
pub fn class_average(class: &str, members: &[&SequenceBd], bootstrap: &Bootstrap) -> ClassBd {
    let first = members[0];
    let rates: Vec<f64> = members.iter().filter_map(|s| s.bd_rate_percent).collect();
    let qualities: Vec<f64> = members.iter().filter_map(|s| s.bd_quality).collect();
    ClassBd {
        config: first.config.clone(),
        reference: first.reference.clone(),
        metric: first.metric,
        rc_mode: first.rc_mode,
        class: class.to_owned(),
        bd_rate_percent: stats::mean(&rates),
        bd_rate_interval: bootstrap.mean_interval(&rates),
        bd_quality: stats::mean(&qualities),
        bd_quality_interval: bootstrap.mean_interval(&qualities),
        sequences: rates.len() as u32,
        skipped: members
            .iter()
            .filter(|s| s.bd_rate_percent.is_none())
            .map(|s| s.sequence.clone())
            .collect(),
    }
}

/// Speed per rate point of each pair's test configuration against its reference.
fn speed_points(
    reference: &Dataset,
    test: &Dataset,
    pairs: &[(String, String)],
    bootstrap: &Bootstrap,
) -> Vec<SpeedPoint> {
    let mut out = Vec::new();
    for (ref_config, test_config) in pairs {
        let mut by_point: BTreeMap<RcPoint, Vec<&Point>> = BTreeMap::new();
        for p in test
            .points
            .iter()
            .filter(|p| p.record.config == *test_config)
        {
            by_point.entry(p.point()).or_default().push(p);
        }
        for (point, pts) in by_point {
            let (r, t) = (
                Side {
                    ds: reference,
                    config: ref_config,
                },
                Side {
                    ds: test,
                    config: test_config,
                },
            );
            let enc = timed_jobs(r, t, &[], Some(point), Timing::EncodeCpu, false);
            let dec = timed_jobs(r, t, &[], Some(point), Timing::DecodeCpu, false);
            let ins = timed_jobs(r, t, &[], Some(point), Timing::Instructions, false);
            let paired = enc.len() as u32;
            let reference_cpu: f64 = enc.iter().map(|(b, _)| stats::median(b)).sum();
            let counted: Option<Vec<f64>> = pts.iter().map(|p| p.encode_instructions).collect();
            out.push(SpeedPoint {
                config: test_config.clone(),
                reference: ref_config.clone(),
                point,
                // A bitrate target differs between sequences when it is derived from another
                // configuration's encodes (`abr_from`): the mean target is shown.
                rc_value: if point.mode.targets_bitrate() {
                    pts.iter().map(|p| p.record.rc_value).sum::<f64>() / pts.len() as f64
                } else {
                    pts[0].record.rc_value
                },
                bitrate_kbps: pts.iter().map(|p| p.bitrate_kbps).sum::<f64>() / pts.len() as f64,
                sequences: pts.len() as u32,
                encode_cpu_s: pts.iter().map(|p| p.encode_cpu_s).sum(),
                encode_wall_s: pts.iter().map(|p| p.encode_wall_s).sum(),
                decode_cpu_s: pts.iter().map(|p| p.decode_cpu_s).sum(),
                encode_instructions: counted.map(|v| v.iter().sum()),
                paired_sequences: paired,
                reference_cpu_s: (paired > 0).then_some(reference_cpu),
                cpu_ratio: stats::ratio_of_medians(&enc),
                cpu_ratio_interval: bootstrap.ratio_interval(&enc, MIN_REPETITIONS),
                decode_ratio: stats::ratio_of_medians(&dec),
                instructions_ratio: (ins.len() == enc.len())
                    .then(|| stats::ratio_of_medians(&ins))
                    .flatten(),
            });
        }
    }
    out.sort_by_key(|s| {
        (
            test.configs.iter().position(|c| *c == s.config),
            s.point.mode.rank(),
            s.point.index,
        )
    });
    out
}

/// Rate-control accuracy of `config` in `mode`, over the points `keep` accepts; points whose
/// target was unreachable are counted apart, not as rate-control error.
pub fn bitrate_error_of(
    ds: &Dataset,
    config: &str,
    mode: RcMode,
    keep: impl Fn(&Point) -> bool,
) -> Option<BitrateError> {
    let all: Vec<&Point> = ds.points_of(config, mode).filter(|p| keep(p)).collect();
    let unreachable = |p: &&Point| {
        p.repetitions
            .iter()
            .any(|r| r.target_reachable == Some(false))
    };
    let pts: Vec<&Point> = all.iter().copied().filter(|p| !unreachable(p)).collect();
    let skipped = all.iter().filter(|p| unreachable(p)).count() as u32;
    let errors: Vec<f64> = pts
        .iter()
        .filter_map(|p| {
            let v: Option<Vec<f64>> = p.repetitions.iter().map(|r| r.bitrate_error_pct).collect();
            v.and_then(|v| stats::mean(&v))
        })
        .collect();
    if errors.is_empty() {
        return None;
    }
    let n = errors.len() as f64;
    Some(BitrateError {
        config: config.to_owned(),
        rc_mode: mode,
        mean_abs_error_pct: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
        max_abs_error_pct: errors.iter().map(|e| e.abs()).fold(0.0, f64::max),
        mean_error_pct: errors.iter().sum::<f64>() / n,
        vbv_violations: pts.iter().filter_map(|p| p.record.vbv_violations).sum(),
        encodes: errors.len() as u32,
        unreachable: skipped,
    })
}

fn bitrate_errors(ds: &Dataset, configs: &[String]) -> Vec<BitrateError> {
    let mut out = Vec::new();
    for config in configs {
        for mode in ds.bitrate_modes() {
            out.extend(bitrate_error_of(ds, config, mode, |_| true));
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

/// Encoder CPU ratios per sequence, class and overall.
fn time_ratios(reference: &Dataset, test: &Dataset, pairs: &[(String, String)]) -> Vec<TimeRatio> {
    let mut out = Vec::new();
    for (ref_config, test_config) in pairs {
        for &mode in &test.rc_modes {
            // (sequence, class, EncT, DecT)
            let mut per_seq: Vec<(String, String, f64, Option<f64>)> = Vec::new();
            for seq in &test.sequences {
                let (mut at, mut tt, mut ad, mut td) = (0.0, 0.0, 0.0, 0.0);
                for tp in test.curve(&seq.id, test_config, mode) {
                    if let Some(ap) = reference.point(&seq.id, ref_config, tp.point()) {
                        at += ap.encode_cpu_s;
                        tt += tp.encode_cpu_s;
                        ad += ap.decode_cpu_s;
                        td += tp.decode_cpu_s;
                    }
                }
                if at > 0.0 {
                    let dec = (ad > 0.0).then(|| td / ad);
                    per_seq.push((seq.id.clone(), seq.class.clone(), tt / at, dec));
                    out.push(TimeRatio {
                        config: test_config.clone(),
                        rc_mode: mode,
                        scope: seq.id.clone(),
                        ratio: tt / at,
                        decode_ratio: dec,
                    });
                }
            }
            let mut scopes: Vec<(String, Vec<&SeqRatio>)> = test
                .classes
                .iter()
                .map(|c| (c.clone(), per_seq.iter().filter(|x| x.1 == *c).collect()))
                .collect();
            scopes.push((ALL.into(), per_seq.iter().collect()));
            for (scope, members) in scopes {
                let enc: Vec<f64> = members.iter().map(|x| x.2).collect();
                let dec: Option<Vec<f64>> = members.iter().map(|x| x.3).collect();
                if let Some(ratio) = geometric_mean(&enc) {
                    out.push(TimeRatio {
                        config: test_config.clone(),
                        rc_mode: mode,
                        scope,
                        ratio,
                        decode_ratio: dec.and_then(|d| geometric_mean(&d)),
                    });
                }
            }
        }
    }
    out
}

/// Each configuration of `ds` against its anchor (the anchor's own speed points too, ratio 1).
pub fn within_run(ds: &Dataset, options: &AnalysisOptions) -> Analysis {
    let anchor = ds.anchor.clone();
    let tests: Vec<(String, String)> = ds
        .tests()
        .into_iter()
        .map(|t| (anchor.clone(), t.to_owned()))
        .collect();
    let (bd_sequences, bd_classes) = bd_tables(ds, ds, &tests, options);
    let mut all = vec![(anchor.clone(), anchor.clone())];
    all.extend(tests.iter().cloned());
    let all: Vec<(String, String)> = all
        .into_iter()
        .filter(|(_, t)| ds.configs.contains(t))
        .collect();
    Analysis {
        method: options.method,
        bd_sequences,
        bd_classes,
        speed: speed_points(ds, ds, &all, &options.bootstrap),
        bitrate_error: bitrate_errors(ds, &ds.configs),
        time_ratios: time_ratios(ds, ds, &tests),
        quality_targets: quality_targets(ds, &ds.configs),
    }
}

/// Each configuration of `candidate` against the same configuration in `baseline`. Rate-control
/// accuracy is the candidate's, over the points both runs have.
pub fn across_runs(baseline: &Dataset, candidate: &Dataset, options: &AnalysisOptions) -> Analysis {
    let pairs: Vec<(String, String)> = candidate
        .configs
        .iter()
        .filter(|c| baseline.configs.contains(c))
        .map(|c| (c.clone(), c.clone()))
        .collect();
    let (bd_sequences, bd_classes) = bd_tables(baseline, candidate, &pairs, options);
    let mut bitrate_error = Vec::new();
    for (config, _) in &pairs {
        for mode in candidate.bitrate_modes() {
            bitrate_error.extend(bitrate_error_of(candidate, config, mode, |p| {
                baseline
                    .point(&p.record.sequence, config, p.point())
                    .is_some()
            }));
        }
    }
    Analysis {
        method: options.method,
        bd_sequences,
        bd_classes,
        speed: speed_points(baseline, candidate, &pairs, &options.bootstrap),
        bitrate_error,
        time_ratios: time_ratios(baseline, candidate, &pairs),
        quality_targets: quality_targets(
            candidate,
            &pairs.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
        ),
    }
}

/// The sequences and rate points of `ds` that `config` has, as (sequence, point) keys.
pub fn point_keys(ds: &Dataset, config: &str) -> BTreeSet<(String, RcPoint)> {
    ds.points
        .iter()
        .filter(|p| p.record.config == config)
        .map(|p| (p.record.sequence.clone(), p.point()))
        .collect()
}

/// One sequence's (id, class, encode-time ratio, decode-time ratio).
type SeqRatio = (String, String, f64, Option<f64>);
