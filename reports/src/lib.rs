//! Reports for rdbench: RD curves, BD-rate tables, speed and bitrate-error charts, and the study
//! summary, rendered from a benchmark run folder as one self-contained HTML page, a Markdown
//! summary, CSV tables, and each chart as PNG and SVG.
//!
//! ```text
//! <out>/                       default: <run>/report/
//!   report.html                everything, charts inline, sortable tables, works offline
//!   summary.md                 findings and average tables, for a pull request or a chat
//!   tables/bd_rate_<mode>.csv  CTC-style BD-rate table per rate-control mode
//!   tables/bd_rate_summary_<mode>.csv  its class and overall averages, one row per config
//!   tables/speed.csv           speed per rate point
//!   tables/bitrate_error.csv   rate-control accuracy (runs with bitrate modes)
//!   tables/quality_targets.csv how target_vmaf points met their targets (runs with them)
//!   tables/ladders.csv         per-title ladders' saving per sequence and class (with [ladder])
//!   tables/compare_*.csv       with a second run: BD-rate and speed against it
//!   charts/<kind>[_<name>].png|.svg
//! ```
//!
//! Every figure comes from the results layer's one analysis (`rdbench_results::analysis`):
//! [`render`] organises the run, analyses it against its anchor (and against another run when
//! asked), and only draws and tabulates what that analysis found. `rdbench bench` renders the
//! report at the end of a run; `rdbench report` calls [`load_run`] and [`render`].

#![forbid(unsafe_code)]

pub mod charts;
mod error;
mod html;
mod markdown;
pub mod summary;
pub mod tables;

use std::path::{Path, PathBuf};

use rdbench_results::analysis::{self, Analysis, AnalysisOptions, ALL};
use rdbench_results::dataset::Dataset;
use rdbench_results::run::{self, LoadedRun};
use rdbench_results::{FrameRecord, Metric};

pub use error::ReportError;

use charts::ChartFile;
use summary::{
    ComparedConfig, ComparisonFindings, Findings, MetricBd, RateControlFindings, TestFindings,
};
use tables::Table;

/// What to render and where.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions<'a> {
    /// The anchor configuration; default: the run's anchor.
    pub anchor: Option<String>,
    /// The output folder; default: `<run>/report`.
    pub out_dir: Option<PathBuf>,
    /// Another run of the same suite to compare against (the run reported is the newer one).
    pub compare: Option<&'a LoadedRun>,
    /// The job whose frames the per-frame chart shows; default: the anchor's middle bitrate-mode
    /// rate point (else its middle rate point) on the first sequence.
    pub encode: Option<String>,
}

/// Where a report was written.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    /// The report folder.
    pub dir: PathBuf,
    /// The HTML page.
    pub html: PathBuf,
    /// The Markdown summary.
    pub markdown: PathBuf,
    /// The CSV tables.
    pub csv: Vec<PathBuf>,
    /// The charts: (PNG, SVG) per chart.
    pub charts: Vec<(PathBuf, PathBuf)>,
    /// The study summary's sentences.
    pub findings: Vec<String>,
}

/// Organises `run` for a report: an error when it has no finished job or `anchor` has none.
fn dataset<'a>(run: &'a LoadedRun, anchor: Option<&str>) -> Result<Dataset<'a>, ReportError> {
    let ds = Dataset::new(run, anchor);
    if ds.points.is_empty() {
        return Err(ReportError::NoFinishedJobs {
            path: run.dir.clone(),
            failed: ds.failed.len(),
        });
    }
    if !ds.anchor_has_encodes() {
        let mut known: Vec<String> = ds.points.iter().map(|p| p.record.config.clone()).collect();
        known.sort();
        known.dedup();
        return Err(ReportError::UnknownAnchor {
            path: run.dir.clone(),
            anchor: ds.anchor.clone(),
            known: known.join(", "),
        });
    }
    Ok(ds)
}

/// Loads a run folder for a report, with a one-line error naming the folder when it does not
/// exist or is not a run.
pub fn load_run(dir: &Path) -> Result<LoadedRun, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NoSuchRun {
            path: dir.to_path_buf(),
        });
    }
    Ok(run::load(dir)?)
}

/// This run against another run of the same suite: each configuration against itself there.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The other run's id.
    pub other_run: String,
    /// The across-runs analysis (the other run is the reference).
    pub analysis: Analysis,
}

/// Everything a report shows, computed before anything is written.
pub(crate) struct Report<'a> {
    pub ds: Dataset<'a>,
    pub analysis: Analysis,
    pub comparison: Option<Comparison>,
    pub findings: Vec<String>,
    pub tables: Vec<Table>,
    pub charts: Vec<ChartFile>,
    pub frames_job: Option<String>,
}

/// Renders the report of `run` into `options.out_dir` (default `<run>/report`) and returns the
/// paths of what it wrote.
pub fn render(run: &LoadedRun, options: &ReportOptions) -> Result<ReportPaths, ReportError> {
    let ds = dataset(run, options.anchor.as_deref())?;
    let options_a = AnalysisOptions::with_method(run.manifest.bd_method);
    let analysis = analysis::within_run(&ds, &options_a);
    let other = options.compare.map(|o| Dataset::new(o, Some(&ds.anchor)));
    let comparison = other.as_ref().map(|o| Comparison {
        other_run: o.run.manifest.run_id.clone(),
        analysis: analysis::across_runs(o, &ds, &options_a),
    });
    let (frames_job, frames) = frames_of(&ds, options.encode.as_deref())?;

    let dir = options
        .out_dir
        .clone()
        .unwrap_or_else(|| run.dir.join("report"));
    let tables_dir = dir.join("tables");
    let charts_dir = dir.join("charts");
    for d in [&dir, &tables_dir, &charts_dir] {
        std::fs::create_dir_all(d).map_err(|e| ReportError::io(d, "creating the folder", e))?;
    }

    let mut tables = Vec::new();
    for &mode in &ds.rc_modes {
        if analysis.bd_classes.iter().any(|c| c.rc_mode == mode) {
            tables.push(tables::bd_rate_table(&ds, &analysis, mode)?);
            tables.push(tables::bd_rate_summary_table(&ds, &analysis, mode)?);
        }
    }
    tables.push(tables::speed_table(&ds, &analysis)?);
    if !analysis.bitrate_error.is_empty() {
        tables.push(tables::bitrate_error_table(&analysis)?);
    }
    if !analysis.quality_targets.is_empty() {
        tables.push(tables::quality_target_table(&analysis)?);
    }
    if !run.ladders.is_empty() {
        tables.push(tables::ladder_table(&run.ladders)?);
    }
    if let Some(c) = &comparison {
        for &mode in &ds.rc_modes {
            if c.analysis.bd_classes.iter().any(|b| b.rc_mode == mode) {
                tables.push(tables::compare_bd_table(&ds, c, mode)?);
                tables.push(tables::compare_bd_summary_table(&ds, c, mode)?);
            }
        }
        tables.push(tables::compare_speed_table(c)?);
    }
    let mut csv = Vec::new();
    for t in &tables {
        csv.push(t.write_csv(&tables_dir)?);
    }

    let mut chart_files = Vec::new();
    for &mode in &ds.rc_modes {
        if analysis.bd_classes.iter().any(|c| c.rc_mode == mode) {
            let c = charts::bd_rate::build(&ds, &analysis, mode);
            chart_files.push(charts::write(
                &c,
                &c.title,
                &charts_dir,
                &format!("bd_rate_{mode}"),
            )?);
        }
    }
    for seq in &ds.sequences {
        let c = charts::rd_curves::build(&ds, other.as_ref(), &seq.id, &seq.class);
        let stem = format!("rd_{}", charts::file_stem(&seq.id));
        chart_files.push(charts::write(&c, &c.title, &charts_dir, &stem)?);
    }
    let c = charts::speed::build(&ds, &analysis);
    chart_files.push(charts::write(&c, &c.title, &charts_dir, "speed")?);
    if let Some(c) = charts::rate_control::build(&ds, &analysis) {
        chart_files.push(charts::write(&c, &c.title, &charts_dir, "rate_control")?);
    }
    if let (Some(job), Some(frames)) = (&frames_job, frames) {
        let record = ds
            .points
            .iter()
            .find(|p| p.record.job_id == *job)
            .map(|p| p.record);
        let title = match record {
            Some(r) => format!(
                "Frame by frame: {job} ({:.0} kbit/s, VMAF {})",
                r.bitrate_kbps,
                r.vmaf
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_else(|| "–".into())
            ),
            None => format!("Frame by frame: {job}"),
        };
        let c = charts::frames::build(title, frames);
        let stem = format!("frames_{}", charts::file_stem(job));
        chart_files.push(charts::write(&c, &c.title, &charts_dir, &stem)?);
    }
    if let Some(c) = charts::si_ti::build(&ds) {
        chart_files.push(charts::write(&c, &c.title, &charts_dir, "si_ti")?);
    }
    for l in &run.ladders {
        if let Some(ladder) = &l.ladder {
            let c = charts::ladder::LadderChart::of(
                ladder,
                &format!("{} (class {})", l.sequence, l.class),
            );
            let stem = format!("ladder_{}", charts::file_stem(&l.sequence));
            chart_files.push(charts::write(&c, &c.title, &charts_dir, &stem)?);
        }
    }

    let findings = summary::study_summary(&findings(&ds, &analysis, comparison.as_ref()));
    let report = Report {
        ds,
        analysis,
        comparison,
        findings,
        tables,
        charts: chart_files,
        frames_job,
    };

    let html_path = dir.join("report.html");
    std::fs::write(&html_path, html::page(&report))
        .map_err(|e| ReportError::io(&html_path, "writing", e))?;
    let md_path = dir.join("summary.md");
    std::fs::write(&md_path, markdown::summary(&report))
        .map_err(|e| ReportError::io(&md_path, "writing", e))?;

    Ok(ReportPaths {
        dir,
        html: html_path,
        markdown: md_path,
        csv,
        charts: report
            .charts
            .iter()
            .map(|c| (c.png.clone(), c.svg.clone()))
            .collect(),
        findings: report.findings,
    })
}

/// The job the per-frame chart shows and its frames: `wanted` when given (an error when it is not
/// a finished job), else the anchor's middle rate point of its first bitrate mode (else of the
/// headline mode) on the first sequence.
fn frames_of<'a>(
    ds: &Dataset<'a>,
    wanted: Option<&str>,
) -> Result<(Option<String>, Option<&'a [FrameRecord]>), ReportError> {
    let frames = |job: &str| {
        ds.run
            .jobs
            .iter()
            .find(|j| j.record.job_id == job && j.record.is_ok())
            .map(|j| j.frames.as_slice())
    };
    if let Some(job) = wanted {
        return match frames(job) {
            Some(f) => Ok((Some(job.to_owned()), Some(f))),
            None => Err(ReportError::UnknownEncode {
                path: ds.run.dir.clone(),
                job_id: job.to_owned(),
                example: ds
                    .points
                    .first()
                    .map(|p| p.record.job_id.clone())
                    .unwrap_or_default(),
            }),
        };
    }
    let Some(first) = ds.sequences.first() else {
        return Ok((None, None));
    };
    let mode = ds
        .bitrate_modes()
        .into_iter()
        .find(|m| !ds.curve(&first.id, &ds.anchor, *m).is_empty())
        .or_else(|| ds.headline_mode());
    let Some(mode) = mode else {
        return Ok((None, None));
    };
    let mut pts = ds.curve(&first.id, &ds.anchor, mode);
    pts.sort_by_key(|p| p.record.rc_point);
    let Some(p) = pts.get(pts.len().saturating_sub(1) / 2) else {
        return Ok((None, None));
    };
    let job = p.record.job_id.clone();
    let f = frames(&job).filter(|f| !f.is_empty());
    Ok((f.map(|_| job), f))
}

/// The numbers the study summary states.
fn findings(ds: &Dataset, a: &Analysis, cmp: Option<&Comparison>) -> Findings {
    let mode = ds.headline_mode().unwrap_or_default();
    let overall = |a: &Analysis, config: &str| -> Vec<MetricBd> {
        ds.bd_metrics()
            .into_iter()
            .filter_map(|m: Metric| {
                let row = a.class(config, m, mode, ALL)?;
                Some(MetricBd {
                    metric: m.label().to_owned(),
                    percent: row.bd_rate_percent,
                    interval: row.bd_rate_interval.map(|i| (i.low, i.high)),
                    sequences: row.sequences as usize,
                })
            })
            .collect()
    };
    let tests = ds
        .tests()
        .iter()
        .map(|t| {
            let mut speed: Vec<_> = a
                .speed
                .iter()
                .filter(|s| s.config == *t && s.point.mode == mode && s.cpu_ratio.is_some())
                .collect();
            speed.sort_by(|x, y| y.bitrate_kbps.total_cmp(&x.bitrate_kbps));
            TestFindings {
                config: t.to_string(),
                bd_rate: overall(a, t),
                cpu_ratios: speed.iter().filter_map(|s| s.cpu_ratio).collect(),
            }
        })
        .collect();
    let mut sequences: Vec<&str> = a
        .bd_sequences
        .iter()
        .filter(|s| s.rc_mode == mode)
        .map(|s| s.sequence.as_str())
        .collect();
    sequences.sort();
    sequences.dedup();
    let rate_control = ds
        .bitrate_modes()
        .into_iter()
        .filter_map(|m| {
            let rows: Vec<_> = ds
                .configs
                .iter()
                .filter_map(|c| {
                    a.bitrate_error
                        .iter()
                        .find(|e| e.config == *c && e.rc_mode == m)
                })
                .collect();
            (!rows.is_empty()).then(|| RateControlFindings {
                mean_abs_error_pct: rows
                    .iter()
                    .map(|e| (e.config.clone(), e.mean_abs_error_pct))
                    .collect(),
                vbv_violations: rows
                    .iter()
                    .map(|e| (e.config.clone(), e.vbv_violations))
                    .collect(),
                rc_mode: m.to_string(),
            })
        })
        .collect();
    let comparison = cmp.map(|c| ComparisonFindings {
        other_run: c.other_run.clone(),
        configs: ds
            .configs
            .iter()
            .filter(|cfg| {
                c.analysis.bd_classes.iter().any(|b| b.config == **cfg)
                    || c.analysis.speed.iter().any(|s| s.config == **cfg)
            })
            .map(|cfg| {
                let sp: Vec<_> = c
                    .analysis
                    .speed
                    .iter()
                    .filter(|s| s.config == *cfg && s.point.mode == mode)
                    .collect();
                let (now, before) = sp.iter().fold((0.0, 0.0), |(a, b), s| {
                    (
                        a + s
                            .cpu_ratio
                            .map_or(0.0, |r| r * s.reference_cpu_s.unwrap_or(0.0)),
                        b + s.reference_cpu_s.unwrap_or(0.0),
                    )
                });
                ComparedConfig {
                    config: cfg.clone(),
                    bd_rate: overall(&c.analysis, cfg),
                    cpu_ratio: (before > 0.0).then(|| now / before),
                }
            })
            .collect(),
    });
    Findings {
        anchor: ds.anchor.clone(),
        rc_mode: mode.to_string(),
        sequences: if sequences.is_empty() {
            ds.sequences.len()
        } else {
            sequences.len()
        },
        method: a.method.to_string(),
        tests,
        rate_control,
        comparison,
    }
}
