//! A run's records organised for analysis: the rate points of every configuration on every
//! sequence (the repetitions of one encode merged: mean bitrate, median timings, every
//! repetition kept for intervals), the configurations with the anchor first, the sequences by
//! class, the modes and metrics present, and the jobs that failed.

use std::collections::BTreeMap;

use crate::metric::Metric;
use crate::record::EncodeRecord;
use crate::run::LoadedRun;
use crate::stats::median;
use crate::types::{RcMode, RcPoint};

/// One rate point of one configuration on one sequence: the repetitions of an encode merged.
#[derive(Debug, Clone)]
pub struct Point<'a> {
    /// The first repetition's record (quality scores, sizes, ids).
    pub record: &'a EncodeRecord,
    /// Every finished repetition, by repetition index.
    pub repetitions: Vec<&'a EncodeRecord>,
    /// Mean bitrate over repetitions, kbit/s.
    pub bitrate_kbps: f64,
    /// Median encoder CPU seconds over repetitions.
    pub encode_cpu_s: f64,
    /// Median encoder wall seconds over repetitions.
    pub encode_wall_s: f64,
    /// Median CPU seconds of the encode's decoder over repetitions (DecT).
    pub decode_cpu_s: f64,
    /// Median instruction count of the encoder over repetitions, when every repetition has one.
    pub encode_instructions: Option<f64>,
}

impl Point<'_> {
    /// The value of a quality metric (first repetition).
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        metric.of(self.record)
    }

    /// The rate point.
    pub fn point(&self) -> RcPoint {
        self.record.point()
    }

    /// The repetitions whose encode ran in this run (not taken from a cache).
    pub fn fresh(&self) -> impl Iterator<Item = &EncodeRecord> {
        self.repetitions.iter().copied().filter(|r| !r.cached)
    }
}

/// A sequence as the run saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// Sequence id.
    pub id: String,
    /// Its class.
    pub class: String,
    /// Spatial information of the source.
    pub si: Option<f64>,
    /// Temporal information of the source.
    pub ti: Option<f64>,
}

/// The records of a run, organised.
#[derive(Debug)]
pub struct Dataset<'a> {
    /// The run.
    pub run: &'a LoadedRun,
    /// The anchor configuration (the manifest's unless another was asked for).
    pub anchor: String,
    /// Configurations with records: the anchor first (when it has any), then by name.
    pub configs: Vec<String>,
    /// Sequences with records, ordered by class, then id.
    pub sequences: Vec<Sequence>,
    /// Classes in order.
    pub classes: Vec<String>,
    /// Rate-control modes with finished encodes, in display order.
    pub rc_modes: Vec<RcMode>,
    /// Quality metrics with at least one value, in display order.
    pub metrics: Vec<Metric>,
    /// Every rate point with a finished encode, ordered by sequence, configuration, mode and
    /// point.
    pub points: Vec<Point<'a>>,
    /// Jobs that failed.
    pub failed: Vec<&'a EncodeRecord>,
}

impl<'a> Dataset<'a> {
    /// Organises `run` with `anchor` (default: the manifest's).
    pub fn new(run: &'a LoadedRun, anchor: Option<&str>) -> Self {
        let ok: Vec<&EncodeRecord> = run.records().filter(|r| r.is_ok()).collect();
        let failed: Vec<&EncodeRecord> = run.records().filter(|r| !r.is_ok()).collect();
        let anchor = anchor
            .map(str::to_owned)
            .unwrap_or_else(|| run.manifest.anchor.clone());
        let mut names: Vec<String> = run.records().map(|r| r.config.clone()).collect();
        names.sort();
        names.dedup();
        let mut configs: Vec<String> = names.iter().filter(|n| **n == anchor).cloned().collect();
        configs.extend(names.into_iter().filter(|n| *n != anchor));

        let mut groups: BTreeMap<(String, String, RcPoint), Vec<&EncodeRecord>> = BTreeMap::new();
        for r in &ok {
            groups
                .entry((r.sequence.clone(), r.config.clone(), r.point()))
                .or_default()
                .push(r);
        }
        let mut sequences: BTreeMap<(String, String), Sequence> = BTreeMap::new();
        for r in run.records() {
            if r.sequence.is_empty() {
                continue;
            }
            let seq = sequences
                .entry((r.class.clone(), r.sequence.clone()))
                .or_insert(Sequence {
                    id: r.sequence.clone(),
                    class: r.class.clone(),
                    si: None,
                    ti: None,
                });
            seq.si = seq.si.or(r.si);
            seq.ti = seq.ti.or(r.ti);
        }
        let sequences: Vec<Sequence> = sequences.into_values().collect();
        let mut classes: Vec<String> = sequences.iter().map(|s| s.class.clone()).collect();
        classes.dedup();
        let mut rc_modes: Vec<RcMode> = ok.iter().map(|r| r.rc_mode).collect();
        rc_modes.sort_by_key(|m| m.rank());
        rc_modes.dedup();
        let metrics = Metric::ALL
            .into_iter()
            .filter(|m| ok.iter().any(|r| m.of(r).is_some()))
            .collect();

        let mut points: Vec<Point> = groups
            .into_values()
            .map(|mut reps| {
                reps.sort_by_key(|r| r.repetition);
                let n = reps.len() as f64;
                let of = |f: fn(&EncodeRecord) -> f64| {
                    median(&reps.iter().map(|r| f(r)).collect::<Vec<_>>())
                };
                let instructions: Option<Vec<f64>> = reps
                    .iter()
                    .map(|r| r.encode_instructions.map(|i| i as f64))
                    .collect();
                Point {
                    record: reps[0],
                    bitrate_kbps: reps.iter().map(|r| r.bitrate_kbps).sum::<f64>() / n,
                    encode_cpu_s: of(|r| r.encode_cpu_s),
                    encode_wall_s: of(|r| r.encode_wall_s),
                    decode_cpu_s: of(|r| r.decode_cpu_s),
                    encode_instructions: instructions.map(|v| median(&v)),
                    repetitions: reps,
                }
            })
            .collect();
        let seq_rank = |id: &str| sequences.iter().position(|s| s.id == id);
        let config_rank = |c: &str| configs.iter().position(|x| x == c);
        points.sort_by_key(|p| {
            let r = p.record;
            (
                seq_rank(&r.sequence),
                config_rank(&r.config),
                r.rc_mode.rank(),
                r.rc_point,
            )
        });
        Dataset {
            run,
            anchor,
            configs,
            sequences,
            classes,
            rc_modes,
            metrics,
            points,
            failed,
        }
    }

    /// Whether the anchor has any finished encode.
    pub fn anchor_has_encodes(&self) -> bool {
        self.points.iter().any(|p| p.record.config == self.anchor)
    }

    /// The configurations other than the anchor.
    pub fn tests(&self) -> Vec<&str> {
        self.configs
            .iter()
            .filter(|c| **c != self.anchor)
            .map(String::as_str)
            .collect()
    }

    /// The metrics present on which BD-rates are computed, in report order.
    pub fn bd_metrics(&self) -> Vec<Metric> {
        Metric::BD
            .into_iter()
            .filter(|m| self.metrics.contains(m))
            .collect()
    }

    /// The rate points of one configuration in one mode on one sequence, by increasing bitrate.
    pub fn curve(&self, sequence: &str, config: &str, rc_mode: RcMode) -> Vec<&Point<'a>> {
        let mut pts: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| {
                p.record.sequence == sequence
                    && p.record.config == config
                    && p.record.rc_mode == rc_mode
            })
            .collect();
        pts.sort_by(|a, b| a.bitrate_kbps.total_cmp(&b.bitrate_kbps));
        pts
    }

    /// The rate point `point` of `config` on `sequence`.
    pub fn point(&self, sequence: &str, config: &str, point: RcPoint) -> Option<&Point<'a>> {
        self.points.iter().find(|p| {
            p.record.sequence == sequence && p.record.config == config && p.point() == point
        })
    }

    /// The rate points of one configuration in one mode, all sequences.
    pub fn points_of<'s>(
        &'s self,
        config: &'s str,
        rc_mode: RcMode,
    ) -> impl Iterator<Item = &'s Point<'a>> + 's {
        self.points
            .iter()
            .filter(move |p| p.record.config == config && p.record.rc_mode == rc_mode)
    }

    /// Whether `config` has any record (finished or failed) on `sequence` in `mode`.
    pub fn has_jobs(&self, sequence: &str, config: &str, mode: RcMode) -> bool {
        self.run
            .records()
            .any(|r| r.sequence == sequence && r.config == config && r.rc_mode == mode)
    }

    /// The modes that aim at a target bitrate, in display order.
    pub fn bitrate_modes(&self) -> Vec<RcMode> {
        self.rc_modes
            .iter()
            .copied()
            .filter(|m| m.targets_bitrate())
            .collect()
    }

    /// The mode whose curves headline a report: the first mode (crf before qp before the
    /// bitrate modes) in which the anchor and at least one other configuration have encodes.
    pub fn headline_mode(&self) -> Option<RcMode> {
        self.rc_modes
            .iter()
            .copied()
            .find(|m| {
                self.points_of(&self.anchor, *m).next().is_some()
                    && self
                        .tests()
                        .iter()
                        .any(|t| self.points_of(t, *m).next().is_some())
            })
            .or(self.rc_modes.first().copied())
    }
}
