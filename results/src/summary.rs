//! What a run found: `summary.json` ([`Summary`], the [`within_run`] analysis of its records
//! against its anchor, plus how the harness used the machine) and `summary.md`; and [`finish`],
//! which writes the tables, the summary and the manifest's end time of a run folder.

use std::path::Path;
use std::time::SystemTime;

use rdbench_bdrate::BdMethod;
use serde::{Deserialize, Serialize};

use crate::analysis::{
    within_run, Analysis, AnalysisOptions, BitrateError, ClassBd, QualityTarget, SequenceBd,
    SpeedPoint, ALL,
};
use crate::dataset::Dataset;
use crate::ladder::LadderSaving;
use crate::metric::Metric;
use crate::record::{EncodeRecord, FrameRecord};
use crate::run::{self, timestamps, write_atomic, LoadedRun, RunError};
use crate::stats::Interval;

/// How well the harness used the machine.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HarnessFigures {
    /// Wall seconds of the job phase.
    pub wall_s: f64,
    /// CPU seconds of all jobs run.
    pub jobs_cpu_s: f64,
    /// Cores the run was allowed.
    pub cores: u32,
    /// wall / (jobs CPU / cores): 1.0 is a perfectly busy machine.
    pub wall_over_ideal: f64,
    /// Harness CPU (outside encoders, decoders and scorers) as a percentage of encode CPU, worst
    /// job.
    pub overhead_pct_max: f64,
    /// Same, mean over jobs.
    pub overhead_pct_mean: f64,
    /// Jobs this process ran (cached or not).
    pub jobs_run: u32,
    /// Jobs whose encode and scores both came from the cache.
    pub jobs_cached: u32,
    /// Jobs that failed.
    pub jobs_failed: u32,
    /// CPU seconds this run spent scoring encodes (metrics and the decoding for them), and how
    /// many encodes that scored.
    #[serde(default)]
    pub score_cpu_s: f64,
    #[serde(default)]
    pub encodes_scored: u32,
    /// Of those, the encodes scored together with the other encodes of their source.
    #[serde(default)]
    pub encodes_scored_in_groups: u32,
}

impl HarnessFigures {
    /// Every job of the run came from the cache, so the run timed nothing.
    pub fn all_cached(&self) -> bool {
        self.jobs_run > 0 && self.jobs_cached >= self.jobs_run
    }
}

/// `summary.json`: what a run found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// The run.
    pub run_id: String,
    /// The anchor configuration.
    pub anchor: String,
    /// BD method.
    pub method: BdMethod,
    /// Metrics summarised.
    pub metrics: Vec<Metric>,
    /// Per sequence.
    pub bd_sequences: Vec<SequenceBd>,
    /// Per class and overall ([`ALL`]).
    pub bd_classes: Vec<ClassBd>,
    /// Speed per rate point.
    pub speed: Vec<SpeedPoint>,
    /// Rate-control accuracy.
    pub bitrate_error: Vec<BitrateError>,
    /// How `target_vmaf` points met their targets.
    #[serde(default)]
    pub quality_targets: Vec<QualityTarget>,
    /// The per-title ladders' saving against the reference ladder, per class and overall.
    #[serde(default)]
    pub ladder_savings: Vec<LadderSaving>,
    /// Jobs of the run and how many failed.
    pub jobs: u32,
    /// Failed jobs.
    pub failed: u32,
    /// A partial merge (some shards missing).
    pub partial: bool,
    /// Machine use.
    pub harness: HarnessFigures,
}

/// The summary of `run`: its records analysed against its anchor.
pub fn summarize(run: &LoadedRun, harness: HarnessFigures) -> Summary {
    let ds = Dataset::new(run, None);
    let analysis: Analysis = within_run(&ds, &AnalysisOptions::with_method(run.manifest.bd_method));
    Summary {
        run_id: run.manifest.run_id.clone(),
        anchor: ds.anchor.clone(),
        method: analysis.method,
        metrics: ds.bd_metrics(),
        bd_sequences: analysis.bd_sequences,
        bd_classes: analysis.bd_classes,
        speed: analysis.speed,
        bitrate_error: analysis.bitrate_error,
        quality_targets: analysis.quality_targets,
        ladder_savings: crate::ladder::savings(&run.ladders),
        jobs: run.jobs.len() as u32,
        failed: ds.failed.len() as u32,
        partial: run.manifest.partial,
        harness,
    }
}

/// A percentage with its interval: `-7.90% [-10.20, -5.60]`, or `n/a`.
pub fn pct_with_interval(v: Option<f64>, i: Option<Interval>) -> String {
    match (v, i) {
        (Some(v), Some(i)) => format!("{v:+.2}% [{:+.2}, {:+.2}]", i.low, i.high),
        (Some(v), None) => format!("{v:+.2}%"),
        (None, _) => "n/a".into(),
    }
}

/// `summary.md`: overall BD-rates with intervals, speed ratios, bitrate error and machine use.
pub fn markdown(s: &Summary) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "## rdbench run {}\n\nAnchor: **{}**; BD method: {}.{}\n\n",
        s.run_id,
        s.anchor,
        s.method,
        if s.partial {
            " **Partial run: some shards are missing.**"
        } else {
            ""
        }
    ));
    if s.failed > 0 {
        md.push_str(&format!(
            "**{} of {} jobs failed**; their errors are in `encodes.csv`.\n\n",
            s.failed, s.jobs
        ));
    }
    let overall: Vec<&ClassBd> = s.bd_classes.iter().filter(|c| c.class == ALL).collect();
    if !overall.is_empty() {
        md.push_str(
            "### BD-rate against the anchor (mean over sequences, 95% interval; negative saves bits)\n\n",
        );
        md.push_str(&format!(
            "| config | mode | sequences | {} |\n|---|---|---|{}\n",
            s.metrics
                .iter()
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(s.metrics.len())
        ));
        let mut rows: Vec<(&str, crate::types::RcMode)> = Vec::new();
        for c in &overall {
            if !rows.contains(&(c.config.as_str(), c.rc_mode)) {
                rows.push((c.config.as_str(), c.rc_mode));
            }
        }
        for (config, mode) in rows {
            let find = |m: &Metric| {
                overall
                    .iter()
                    .find(|c| c.config == config && c.rc_mode == mode && c.metric == *m)
            };
            let counted = s
                .metrics
                .iter()
                .filter_map(find)
                .map(|c| {
                    if c.skipped.is_empty() {
                        c.sequences.to_string()
                    } else {
                        format!("{} ({} skipped)", c.sequences, c.skipped.len())
                    }
                })
                .next()
                .unwrap_or_default();
            let cells: Vec<String> = s
                .metrics
                .iter()
                .map(|m| {
                    find(m)
                        .map(|c| pct_with_interval(c.bd_rate_percent, c.bd_rate_interval))
                        .unwrap_or_else(|| "n/a".into())
                })
                .collect();
            md.push_str(&format!(
                "| {config} | {mode} | {counted} | {} |\n",
                cells.join(" | ")
            ));
        }
        md.push('\n');
    }
    let ratios: Vec<&SpeedPoint> = s
        .speed
        .iter()
        .filter(|p| p.config != s.anchor && p.cpu_ratio.is_some())
        .collect();
    if !ratios.is_empty() {
        md.push_str("### Encoder and decoder CPU time against the anchor, per rate point (>1: slower)\n\n| config | point | value | kbit/s | EncT s | EncT ratio | DecT s | DecT ratio |\n|---|---|---|---|---|---|---|---|\n");
        for p in ratios {
            let ratio = |r: Option<f64>, i: Option<Interval>| match (r, i) {
                (Some(r), Some(i)) => format!("{r:.2}x [{:.2}, {:.2}]", i.low, i.high),
                (Some(r), None) => format!("{r:.2}x"),
                _ => "n/a".into(),
            };
            md.push_str(&format!(
                "| {} | {} | {} | {:.1} | {:.2} | {} | {:.3} | {} |\n",
                p.config,
                p.point,
                point_value(p.rc_value),
                p.bitrate_kbps,
                p.encode_cpu_s,
                ratio(p.cpu_ratio, p.cpu_ratio_interval),
                p.decode_cpu_s,
                ratio(p.decode_ratio, None),
            ));
        }
        md.push('\n');
    }
    if !s.bitrate_error.is_empty() {
        md.push_str("### Rate-control error\n\n| config | mode | encodes | mean abs error | max abs error | VBV violations | unreachable targets |\n|---|---|---|---|---|---|---|\n");
        for b in &s.bitrate_error {
            md.push_str(&format!(
                "| {} | {} | {} | {:.2}% | {:.2}% | {} | {} |\n",
                b.config,
                b.rc_mode,
                b.encodes,
                b.mean_abs_error_pct,
                b.max_abs_error_pct,
                b.vbv_violations,
                b.unreachable
            ));
        }
        md.push('\n');
    }
    if !s.quality_targets.is_empty() {
        md.push_str("### Quality targets\n\n| config | target VMAF | encodes | mean VMAF | max miss | mean kbit/s | mean CRF | probes per search | search CPU (encodes) | not reached |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for q in &s.quality_targets {
            md.push_str(&format!(
                "| {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.2} | {:.1} | {} | {} |\n",
                q.config,
                q.target,
                q.encodes,
                q.mean_vmaf,
                q.max_abs_miss,
                q.mean_kbps,
                q.mean_crf,
                q.mean_probes,
                q.search_cpu_ratio
                    .map(|r| format!("{r:.1}x"))
                    .unwrap_or_else(|| "n/a".into()),
                q.failed
            ));
        }
        md.push('\n');
    }
    if !s.ladder_savings.is_empty() {
        md.push_str("### Per-title ladders\n\nBD-rate (VMAF) of each sequence's per-title ladder against the reference ladder: negative is the bitrate it saves at equal quality.\n\n| class | sequences | measured | hull | rungs | rungs per ladder |\n|---|---|---|---|---|---|\n");
        let pct = |v: Option<f64>| {
            v.map(|v| format!("{v:+.2}%"))
                .unwrap_or_else(|| "n/a".into())
        };
        for l in &s.ladder_savings {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.1} |\n",
                l.scope,
                l.sequences,
                l.measured,
                pct(l.mean_bd_hull_pct),
                pct(l.mean_bd_rungs_pct),
                l.mean_rungs
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
    if h.encodes_scored > 0 {
        md.push_str(&format!(
            "Scoring (metrics and decoding): {:.1} CPU-s for {} encodes, {:.3} CPU-s an encode; {} scored together with the other encodes of their source.\n",
            h.score_cpu_s,
            h.encodes_scored,
            h.score_cpu_s / h.encodes_scored as f64,
            h.encodes_scored_in_groups
        ));
    }
    md
}

/// Writes the tables (`encodes`, `frames`), `summary.json`, `summary.md` and the manifest's end
/// time of the run folder `dir` from every job record it holds.
pub fn finish(dir: &Path, harness: HarnessFigures) -> Result<Summary, RunError> {
    let loaded = run::load(dir)?;
    let records: Vec<EncodeRecord> = loaded.jobs.iter().map(|j| j.record.clone()).collect();
    let frames: Vec<FrameRecord> = loaded
        .jobs
        .iter()
        .flat_map(|j| j.frames.iter().cloned())
        .collect();
    crate::tables::write_table(dir, "encodes", &records)?;
    crate::tables::write_table(dir, "frames", &frames)?;
    let summary = summarize(&loaded, harness);
    write_atomic(
        &dir.join("summary.json"),
        &serde_json::to_vec_pretty(&summary).expect("summaries serialise"),
    )?;
    write_atomic(&dir.join("summary.md"), markdown(&summary).as_bytes())?;
    let mut manifest = loaded.manifest;
    manifest.finished = Some(timestamps(SystemTime::now()).0);
    write_atomic(
        &dir.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
    )?;
    Ok(summary)
}

/// A rate point's value as a person reads it: a CRF or QP as written (`27`, `23.5`), a mean
/// bitrate target to 0.1 kbit/s.
fn point_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v}")
    } else if (v * 100.0).fract() == 0.0 {
        // Two decimals at most (a fractional CRF such as 23.25) are shown as given.
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::point_value;

    #[test]
    fn point_values_read_as_written_and_mean_targets_to_a_tenth() {
        assert_eq!(point_value(27.0), "27");
        assert_eq!(point_value(23.25), "23.25");
        assert_eq!(point_value(755.2000000000002), "755.2");
        assert_eq!(point_value(495.09999999999997), "495.1");
    }
}
