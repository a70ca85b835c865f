//! What a run found, computed from its records: BD-rate of every configuration against the
//! anchor per sequence, per class and overall for every metric and rate-control mode; speed per
//! rate point against the anchor's; bitrate error per configuration; and a Markdown rendering.

use std::collections::{BTreeMap, BTreeSet};

use rdbench_metrics::bdrate::{
    average_by_class, bd_compare, BdMethod, BdOptions, BdResult, RatePoint, RdCurve,
};

use crate::record::{
    BitrateError, ClassBd, EncodeRecord, HarnessFigures, SequenceBd, SpeedPoint, Summary,
};

/// The metric columns BD-rates are computed on, in report order.
pub const BD_METRICS: [&str; 5] = ["vmaf", "psnr_y", "psnr_yuv", "ssim", "ms_ssim"];

/// The value of metric column `name` of a record.
pub fn metric_value(r: &EncodeRecord, name: &str) -> Option<f64> {
    match name {
        "vmaf" => r.vmaf,
        "vmaf_hmean" => r.vmaf_hmean,
        "psnr_y" => r.psnr_y,
        "psnr_u" => r.psnr_u,
        "psnr_v" => r.psnr_v,
        "psnr_yuv" => r.psnr_yuv,
        "ssim" => r.ssim,
        "ms_ssim" => r.ms_ssim,
        _ => None,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The RD curve of one configuration, sequence, mode and metric (first repetition, ok records).
pub fn curve(
    records: &[&EncodeRecord],
    config: &str,
    sequence: &str,
    mode: &str,
    metric: &str,
) -> RdCurve {
    RdCurve::new(
        records
            .iter()
            .filter(|r| {
                r.config == config
                    && r.sequence == sequence
                    && r.rc_mode == mode
                    && r.repetition == 0
                    && r.status == "ok"
            })
            .filter_map(|r| metric_value(r, metric).map(|q| RatePoint::new(r.bitrate_kbps, q))),
    )
}

/// BD-rate entries of `test` against `anchor` for every sequence, metric and mode both have.
pub fn bd_sequences(
    records: &[&EncodeRecord],
    anchor: &str,
    test: &str,
    method: BdMethod,
) -> Vec<(SequenceBd, BdResult)> {
    let mut out = Vec::new();
    let seqs: BTreeMap<&str, &str> = records
        .iter()
        .map(|r| (r.sequence.as_str(), r.class.as_str()))
        .collect();
    let modes = |c: &str| -> BTreeSet<&str> {
        records
            .iter()
            .filter(|r| r.config == c)
            .map(|r| r.rc_mode.as_str())
            .collect()
    };
    let (am, tm) = (modes(anchor), modes(test));
    let options = BdOptions::with_method(method);
    for mode in am.intersection(&tm) {
        for metric in BD_METRICS {
            if !records.iter().any(|r| metric_value(r, metric).is_some()) {
                continue;
            }
            for (seq, class) in &seqs {
                let a = curve(records, anchor, seq, mode, metric);
                let t = curve(records, test, seq, mode, metric);
                if a.is_empty() && t.is_empty() {
                    continue;
                }
                let res = bd_compare(&a, &t, &options);
                out.push((
                    SequenceBd {
                        config: test.to_string(),
                        metric: metric.to_string(),
                        rc_mode: mode.to_string(),
                        sequence: seq.to_string(),
                        class: class.to_string(),
                        bd_rate_percent: res.bd_rate_percent,
                        bd_quality: res.bd_quality,
                        warnings: res
                            .warnings
                            .iter()
                            .map(|w| w.as_str().to_string())
                            .collect(),
                        reason: res.reason.clone(),
                    },
                    res,
                ));
            }
        }
    }
    out
}

/// Per-class and overall ("all") means of sequence BD-rates.
pub fn bd_classes(entries: &[(SequenceBd, BdResult)]) -> Vec<ClassBd> {
    let mut groups: BTreeMap<(String, String, String), Vec<&(SequenceBd, BdResult)>> =
        BTreeMap::new();
    for e in entries {
        groups
            .entry((e.0.config.clone(), e.0.metric.clone(), e.0.rc_mode.clone()))
            .or_default()
            .push(e);
    }
    let mut out = Vec::new();
    for ((config, metric, mode), list) in groups {
        let avg = average_by_class(
            list.iter()
                .map(|(s, r)| (s.sequence.as_str(), s.class.as_str(), r)),
        );
        let mut push = |class: String, a: &rdbench_metrics::bdrate::ClassAverage| {
            out.push(ClassBd {
                config: config.clone(),
                metric: metric.clone(),
                rc_mode: mode.clone(),
                class,
                bd_rate_percent: a.bd_rate_percent,
                bd_quality: a.bd_quality,
                sequences: a.sequences as u32,
                skipped: a.bd_rate_skipped.len() as u32,
            });
        };
        for (class, a) in &avg.per_class {
            push(class.clone(), a);
        }
        push("all".into(), &avg.overall);
    }
    out
}

/// Encoder speed per rate point, against the anchor's same mode and point.
pub fn speed(records: &[&EncodeRecord], anchor: &str) -> Vec<SpeedPoint> {
    // (config, mode, point) -> sequence -> repetitions
    let mut cpu: BTreeMap<(String, String, u32), BTreeMap<String, Vec<(f64, f64, f64, f64)>>> =
        BTreeMap::new();
    for r in records.iter().filter(|r| r.status == "ok") {
        cpu.entry((r.config.clone(), r.rc_mode.clone(), r.rc_point))
            .or_default()
            .entry(r.sequence.clone())
            .or_default()
            .push((r.encode_cpu_s, r.encode_wall_s, r.bitrate_kbps, r.rc_value));
    }
    let totals: BTreeMap<(String, String, u32), (f64, f64, f64, f64)> = cpu
        .iter()
        .map(|(k, seqs)| {
            let n = seqs.len().max(1) as f64;
            let c: f64 = seqs
                .values()
                .map(|v| median(v.iter().map(|x| x.0).collect()))
                .sum();
            let w: f64 = seqs
                .values()
                .map(|v| median(v.iter().map(|x| x.1).collect()))
                .sum();
            let b: f64 = seqs
                .values()
                .map(|v| median(v.iter().map(|x| x.2).collect()))
                .sum::<f64>()
                / n;
            let val = seqs
                .values()
                .next()
                .and_then(|v| v.first())
                .map(|x| x.3)
                .unwrap_or(0.0);
            (k.clone(), (c, w, b, val))
        })
        .collect();
    totals
        .iter()
        .map(|((config, mode, point), (c, w, b, val))| {
            let a = totals
                .get(&(anchor.to_string(), mode.clone(), *point))
                .map(|t| t.0);
            SpeedPoint {
                config: config.clone(),
                rc_mode: mode.clone(),
                rc_point: *point,
                rc_value: *val,
                bitrate_kbps: *b,
                encode_cpu_s: *c,
                encode_wall_s: *w,
                anchor_cpu_s: a,
                cpu_ratio: a.filter(|a| *a > 0.0).map(|a| c / a),
            }
        })
        .collect()
}

/// Rate-control accuracy per configuration and bitrate mode.
pub fn bitrate_errors(records: &[&EncodeRecord]) -> Vec<BitrateError> {
    let mut groups: BTreeMap<(String, String), Vec<&EncodeRecord>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.status == "ok" && r.bitrate_error_pct.is_some())
    {
        groups
            .entry((r.config.clone(), r.rc_mode.clone()))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((config, mode), list)| {
            let errs: Vec<f64> = list.iter().filter_map(|r| r.bitrate_error_pct).collect();
            let n = errs.len().max(1) as f64;
            BitrateError {
                config,
                rc_mode: mode,
                mean_abs_error_pct: errs.iter().map(|e| e.abs()).sum::<f64>() / n,
                max_abs_error_pct: errs.iter().map(|e| e.abs()).fold(0.0, f64::max),
                mean_error_pct: errs.iter().sum::<f64>() / n,
                vbv_violations: list.iter().filter_map(|r| r.vbv_violations).sum(),
                encodes: errs.len() as u32,
            }
        })
        .collect()
}

/// The whole summary.
pub fn summarize(
    run_id: &str,
    records: &[EncodeRecord],
    anchor: &str,
    method: BdMethod,
    harness: HarnessFigures,
) -> Summary {
    let refs: Vec<&EncodeRecord> = records.iter().collect();
    let configs: BTreeSet<&str> = records.iter().map(|r| r.config.as_str()).collect();
    let mut seq_entries = Vec::new();
    for c in configs.iter().filter(|c| **c != anchor) {
        seq_entries.extend(bd_sequences(&refs, anchor, c, method));
    }
    let metrics: Vec<String> = BD_METRICS
        .iter()
        .filter(|m| records.iter().any(|r| metric_value(r, m).is_some()))
        .map(|m| m.to_string())
        .collect();
    Summary {
        run_id: run_id.to_string(),
        anchor: anchor.to_string(),
        method: method.as_str().to_string(),
        metrics,
        bd_classes: bd_classes(&seq_entries),
        bd_sequences: seq_entries.into_iter().map(|(s, _)| s).collect(),
        speed: speed(&refs, anchor),
        bitrate_error: bitrate_errors(&refs),
        harness,
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:+.2}%"))
        .unwrap_or_else(|| "n/a".into())
}

/// `summary.md`: overall BD-rates, speed ratios, bitrate error and machine use.
pub fn markdown(s: &Summary) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "## rdbench run {}\n\nAnchor: **{}**; BD method: {}.\n\n",
        s.run_id, s.anchor, s.method
    ));
    let overall: Vec<&ClassBd> = s.bd_classes.iter().filter(|c| c.class == "all").collect();
    if !overall.is_empty() {
        md.push_str(
            "### BD-rate against the anchor (mean over sequences; negative saves bits)\n\n",
        );
        md.push_str(&format!(
            "| config | mode | {} |\n|---|---|{}\n",
            s.metrics.join(" | "),
            "---|".repeat(s.metrics.len())
        ));
        let rows: BTreeSet<(&str, &str)> = overall
            .iter()
            .map(|c| (c.config.as_str(), c.rc_mode.as_str()))
            .collect();
        for (config, mode) in rows {
            let cells: Vec<String> = s
                .metrics
                .iter()
                .map(|m| {
                    pct(overall
                        .iter()
                        .find(|c| c.config == config && c.rc_mode == mode && &c.metric == m)
                        .and_then(|c| c.bd_rate_percent))
                })
                .collect();
            md.push_str(&format!("| {config} | {mode} | {} |\n", cells.join(" | ")));
        }
        md.push('\n');
    }
    let ratios: Vec<&SpeedPoint> = s
        .speed
        .iter()
        .filter(|p| p.config != s.anchor && p.cpu_ratio.is_some())
        .collect();
    if !ratios.is_empty() {
        md.push_str("### Encoder CPU time against the anchor, per rate point (>1: slower)\n\n| config | mode | point | value | CPU s | ratio |\n|---|---|---|---|---|---|\n");
        for p in ratios {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {:.2} | {:.2}x |\n",
                p.config,
                p.rc_mode,
                p.rc_point,
                p.rc_value,
                p.encode_cpu_s,
                p.cpu_ratio.unwrap_or(0.0)
            ));
        }
        md.push('\n');
    }
    if !s.bitrate_error.is_empty() {
        md.push_str("### Rate-control error\n\n| config | mode | mean abs error | max abs error | VBV violations |\n|---|---|---|---|---|\n");
        for b in &s.bitrate_error {
            md.push_str(&format!(
                "| {} | {} | {:.2}% | {:.2}% | {} |\n",
                b.config, b.rc_mode, b.mean_abs_error_pct, b.max_abs_error_pct, b.vbv_violations
            ));
        }
        md.push('\n');
    }
    let h = &s.harness;
    if h.all_cached() {
        md.push_str(&format!(
            "### Machine use\n\n{} jobs, every one from the cache: no timing figures.\n",
            h.jobs_run
        ));
        return md;
    }
    md.push_str(&format!(
        "### Machine use\n\n{} jobs run, {} from cache, {} failed; job phase {:.1} s on {} cores for {:.1} CPU-s of jobs: wall / ideal = {:.3}; harness overhead per encode: mean {:.2}%, max {:.2}%.\n",
        h.jobs_run, h.jobs_cached, h.jobs_failed, h.wall_s, h.cores, h.jobs_cpu_s, h.wall_over_ideal, h.overhead_pct_mean, h.overhead_pct_max
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        config: &str,
        seq: &str,
        class: &str,
        mode: &str,
        point: u32,
        kbps: f64,
        vmaf: f64,
        cpu: f64,
    ) -> EncodeRecord {
        EncodeRecord {
            config: config.into(),
            sequence: seq.into(),
            class: class.into(),
            rc_mode: mode.into(),
            rc_point: point,
            bitrate_kbps: kbps,
            vmaf: Some(vmaf),
            encode_cpu_s: cpu,
            status: "ok".into(),
            ..Default::default()
        }
    }

    fn grid() -> Vec<EncodeRecord> {
        let mut v = Vec::new();
        for (seq, class) in [("a", "B"), ("b", "C")] {
            for (i, (k, q)) in [
                (1000.0, 80.0),
                (2000.0, 88.0),
                (4000.0, 93.0),
                (8000.0, 96.0),
            ]
            .iter()
            .enumerate()
            {
                v.push(rec("x264", seq, class, "crf", i as u32, *k, *q, 1.0));
                // The test needs 82% of the anchor's rate for the same quality, at twice the CPU.
                v.push(rec("x265", seq, class, "crf", i as u32, k * 0.82, *q, 2.0));
            }
        }
        v
    }

    #[test]
    fn a_curve_at_0_82_times_the_rate_saves_18_percent_everywhere() {
        let s = summarize(
            "r",
            &grid(),
            "x264",
            BdMethod::Pchip,
            HarnessFigures::default(),
        );
        let vmaf: Vec<&SequenceBd> = s
            .bd_sequences
            .iter()
            .filter(|b| b.metric == "vmaf")
            .collect();
        assert_eq!(vmaf.len(), 2);
        for b in vmaf {
            assert!((b.bd_rate_percent.unwrap() + 18.0).abs() < 1e-9);
        }
        let all = s
            .bd_classes
            .iter()
            .find(|c| c.class == "all" && c.metric == "vmaf")
            .unwrap();
        assert_eq!(all.sequences, 2);
        assert!((all.bd_rate_percent.unwrap() + 18.0).abs() < 1e-9);
        assert_eq!(
            s.bd_classes.iter().filter(|c| c.metric == "vmaf").count(),
            3,
            "B, C and all"
        );
        assert_eq!(s.metrics, vec!["vmaf".to_string()]);
    }

    #[test]
    fn speed_is_compared_point_by_point_with_the_anchor() {
        let s = summarize(
            "r",
            &grid(),
            "x264",
            BdMethod::Pchip,
            HarnessFigures::default(),
        );
        let p = s
            .speed
            .iter()
            .find(|p| p.config == "x265" && p.rc_point == 2)
            .unwrap();
        assert_eq!(
            (p.encode_cpu_s, p.anchor_cpu_s, p.cpu_ratio),
            (4.0, Some(2.0), Some(2.0))
        );
        let md = markdown(&s);
        assert!(md.contains("| x265 | crf | -18.00% |"), "{md}");
        assert!(md.contains("| x265 | crf | 2 | 0 | 4.00 | 2.00x |"), "{md}");
    }

    #[test]
    fn bitrate_errors_are_averaged_per_mode() {
        let mut a = rec("x264", "a", "B", "abr", 0, 1100.0, 90.0, 1.0);
        a.bitrate_error_pct = Some(10.0);
        let mut b = rec("x264", "b", "B", "abr", 0, 950.0, 90.0, 1.0);
        b.bitrate_error_pct = Some(-5.0);
        b.vbv_violations = Some(3);
        let e = bitrate_errors(&[&a, &b]);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (
                e[0].mean_abs_error_pct,
                e[0].max_abs_error_pct,
                e[0].mean_error_pct,
                e[0].vbv_violations
            ),
            (7.5, 10.0, 2.5, 3)
        );
    }
}
