//! The finished encodes of a run gathered into what the report plots and tabulates: rate points
//! (the repetitions of one encode merged), the configurations with the anchor first, the sequences
//! by class, the rate-control modes and the quality metrics present.

use std::collections::BTreeMap;

use rdbench_bench_suite::record::EncodeRecord;
use rdbench_bench_suite::run::LoadedRun;

use crate::error::ReportError;

/// The quality columns a report knows, in the order it shows them.
pub const QUALITY_METRICS: [&str; 5] = ["vmaf", "psnr_y", "psnr_yuv", "ssim", "ms_ssim"];

/// Rate-control modes in the order a report shows them; modes not listed follow alphabetically.
const RC_MODE_ORDER: [&str; 6] = ["crf", "qp", "capped_crf", "abr2", "abr", "cbr"];

/// Rate-control modes that aim at a target bitrate (their error is the rate-control error).
pub const BITRATE_MODES: [&str; 3] = ["abr", "abr2", "cbr"];

/// The value of a quality column of a record, by the column's name.
pub fn metric_value(record: &EncodeRecord, metric: &str) -> Option<f64> {
    match metric {
        "vmaf" => record.vmaf,
        "vmaf_hmean" => record.vmaf_hmean,
        "vmaf_p1" => record.vmaf_p1,
        "psnr_y" => record.psnr_y,
        "psnr_u" => record.psnr_u,
        "psnr_v" => record.psnr_v,
        "psnr_yuv" => record.psnr_yuv,
        "ssim" => record.ssim,
        "ms_ssim" => record.ms_ssim,
        _ => None,
    }
}

/// How a quality column is named for people ("VMAF", "PSNR-Y", ...).
pub fn metric_label(metric: &str) -> String {
    match metric {
        "vmaf" => "VMAF".into(),
        "vmaf_hmean" => "VMAF (harmonic mean)".into(),
        "vmaf_p1" => "VMAF (1st percentile)".into(),
        "psnr_y" => "PSNR-Y".into(),
        "psnr_u" => "PSNR-U".into(),
        "psnr_v" => "PSNR-V".into(),
        "psnr_yuv" => "PSNR-YUV".into(),
        "ssim" => "SSIM".into(),
        "ms_ssim" => "MS-SSIM".into(),
        other => other.to_owned(),
    }
}

/// The sort key of a rate-control mode.
pub fn rc_mode_rank(mode: &str) -> (usize, String) {
    let rank = RC_MODE_ORDER
        .iter()
        .position(|m| *m == mode)
        .unwrap_or(RC_MODE_ORDER.len());
    (rank, mode.to_owned())
}

/// One rate point of one configuration on one sequence: the repetitions of an encode merged.
#[derive(Debug, Clone)]
pub struct Point<'a> {
    /// The first repetition's record (quality scores, sizes, ids).
    pub record: &'a EncodeRecord,
    /// Mean bitrate over repetitions, kbit/s.
    pub bitrate_kbps: f64,
    /// Median encoder CPU seconds over repetitions.
    pub encode_cpu_s: f64,
    /// Median encoder wall seconds over repetitions.
    pub encode_wall_s: f64,
}

impl Point<'_> {
    /// The value of a quality column.
    pub fn metric(&self, metric: &str) -> Option<f64> {
        metric_value(self.record, metric)
    }
}

/// A sequence of the corpus as the run saw it.
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

/// The finished encodes of a run, organised.
#[derive(Debug)]
pub struct Dataset<'a> {
    /// The run.
    pub run: &'a LoadedRun,
    /// The anchor configuration.
    pub anchor: String,
    /// Configurations with finished encodes: the anchor first, then by name.
    pub configs: Vec<String>,
    /// Sequences ordered by class, then id.
    pub sequences: Vec<Sequence>,
    /// Classes in order.
    pub classes: Vec<String>,
    /// Rate-control modes present, in display order.
    pub rc_modes: Vec<String>,
    /// Quality columns with at least one value, in display order.
    pub metrics: Vec<String>,
    /// Every rate point, ordered by sequence, configuration, mode and rate point.
    pub points: Vec<Point<'a>>,
    /// Jobs that failed.
    pub failed: Vec<&'a EncodeRecord>,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl<'a> Dataset<'a> {
    /// Organises `run` with `anchor` (default: the manifest's anchor, else the summary's).
    pub fn new(run: &'a LoadedRun, anchor: Option<&str>) -> Result<Self, ReportError> {
        let ok: Vec<&EncodeRecord> = run.records().filter(|r| r.status == "ok").collect();
        let failed: Vec<&EncodeRecord> = run.records().filter(|r| r.status != "ok").collect();
        if ok.is_empty() {
            return Err(ReportError::NoFinishedJobs {
                path: run.dir.clone(),
                failed: failed.len(),
            });
        }
        let mut names: Vec<String> = ok.iter().map(|r| r.config.clone()).collect();
        names.sort();
        names.dedup();
        let wanted = match anchor {
            Some(a) => a.to_owned(),
            None if !run.manifest.anchor.is_empty() => run.manifest.anchor.clone(),
            None => run
                .summary
                .as_ref()
                .map(|s| s.anchor.clone())
                .unwrap_or_default(),
        };
        if !names.contains(&wanted) {
            return Err(ReportError::UnknownAnchor {
                path: run.dir.clone(),
                anchor: wanted,
                known: names.join(", "),
            });
        }
        let mut configs = vec![wanted.clone()];
        configs.extend(names.into_iter().filter(|n| *n != wanted));

        let mut groups: BTreeMap<(String, String, String, u32), Vec<&EncodeRecord>> =
            BTreeMap::new();
        let mut sequences: BTreeMap<(String, String), Sequence> = BTreeMap::new();
        for r in &ok {
            groups
                .entry((
                    r.sequence.clone(),
                    r.config.clone(),
                    r.rc_mode.clone(),
                    r.rc_point,
                ))
                .or_default()
                .push(r);
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
        let mut rc_modes: Vec<String> = ok.iter().map(|r| r.rc_mode.clone()).collect();
        rc_modes.sort_by_key(|m| rc_mode_rank(m));
        rc_modes.dedup();
        let metrics = QUALITY_METRICS
            .iter()
            .filter(|m| ok.iter().any(|r| metric_value(r, m).is_some()))
            .map(|m| m.to_string())
            .collect();

        let mut points: Vec<Point> = groups
            .into_values()
            .map(|mut reps| {
                reps.sort_by_key(|r| r.repetition);
                let n = reps.len() as f64;
                let mut cpu: Vec<f64> = reps.iter().map(|r| r.encode_cpu_s).collect();
                let mut wall: Vec<f64> = reps.iter().map(|r| r.encode_wall_s).collect();
                Point {
                    record: reps[0],
                    bitrate_kbps: reps.iter().map(|r| r.bitrate_kbps).sum::<f64>() / n,
                    encode_cpu_s: median(&mut cpu),
                    encode_wall_s: median(&mut wall),
                }
            })
            .collect();
        let seq_rank = |id: &str| sequences.iter().position(|s| s.id == id);
        let config_rank = |c: &str| configs.iter().position(|x| x == c);
        points.sort_by(|a, b| {
            let (a, b) = (a.record, b.record);
            (
                seq_rank(&a.sequence),
                config_rank(&a.config),
                rc_mode_rank(&a.rc_mode),
                a.rc_point,
            )
                .cmp(&(
                    seq_rank(&b.sequence),
                    config_rank(&b.config),
                    rc_mode_rank(&b.rc_mode),
                    b.rc_point,
                ))
        });
        Ok(Dataset {
            run,
            anchor: wanted,
            configs,
            sequences,
            classes,
            rc_modes,
            metrics,
            points,
            failed,
        })
    }

    /// The configurations other than the anchor.
    pub fn tests(&self) -> &[String] {
        &self.configs[1..]
    }

    /// The rate points of one configuration in one mode on one sequence, by increasing bitrate.
    pub fn curve(&self, sequence: &str, config: &str, rc_mode: &str) -> Vec<&Point<'a>> {
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

    /// The rate points of one configuration in one mode, all sequences.
    pub fn points_of(&self, config: &str, rc_mode: &str) -> impl Iterator<Item = &Point<'a>> {
        let (config, rc_mode) = (config.to_owned(), rc_mode.to_owned());
        self.points
            .iter()
            .filter(move |p| p.record.config == config && p.record.rc_mode == rc_mode)
    }

    /// The modes that aim at a target bitrate, in display order.
    pub fn bitrate_modes(&self) -> Vec<String> {
        self.rc_modes
            .iter()
            .filter(|m| BITRATE_MODES.contains(&m.as_str()))
            .cloned()
            .collect()
    }

    /// The mode whose curves headline the report: the first mode (crf before qp before the
    /// bitrate modes) in which the anchor and at least one other configuration have encodes.
    pub fn headline_mode(&self) -> Option<&str> {
        self.rc_modes
            .iter()
            .find(|m| {
                self.points_of(&self.anchor, m).next().is_some()
                    && self
                        .tests()
                        .iter()
                        .any(|t| self.points_of(t, m).next().is_some())
            })
            .or(self.rc_modes.first())
            .map(String::as_str)
    }
}
