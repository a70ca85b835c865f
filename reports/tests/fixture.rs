//! A synthetic run folder in the layout of `rdbench_results::run`: 4 sequences in 2 classes, x264
//! (anchor), x265 and svt-av1, 4 CRF and 4 ABR points each, per-frame records, one failed job,
//! and optionally the `summary.json` the results layer writes for it.
//!
//! The numbers are built so that the expected results are known exactly:
//! - at CRF point i, a test configuration's bitrate is `scale` times the anchor's with identical
//!   quality scores, so its BD-rate is `(scale - 1) * 100` % under every interpolation method
//!   (x265: 0.75 in class B, 0.80 in class C; svt-av1: 0.70 and 0.64);
//! - encoder CPU time at rate point i is the anchor's times a fixed ratio (x265: 0.90, 1.05, 1.20,
//!   1.35; svt-av1: 2.0, 2.4, 2.7, 3.0 from the highest bitrate to the lowest), on every sequence;
//! - ABR bitrate errors are the same on every sequence (x264: +2, -3, +4, -1 %; x265: +5, -5,
//!   +3, -3 %; svt-av1: +8, -6, +10, -4 %), so mean |error| is 2.5, 4.0 and 7.0 %.

use std::path::Path;

use rdbench_results::run::{job_file_name, load, JobResult, LoadedRun, Manifest, Versions};
use rdbench_results::summary::{finish, HarnessFigures};
use rdbench_results::{EncodeRecord, FrameRecord, JobStatus, RcMode};

/// A sequence: id, class, width, height, SI, TI, base bitrate (kbit/s), anchor CPU seconds.
pub type SequenceRow = (&'static str, &'static str, u32, u32, f64, f64, f64, f64);

/// The sequences.
pub const SEQUENCES: [SequenceRow; 4] = [
    ("BasketballDrive", "B", 1920, 1080, 45.2, 18.3, 3000.0, 12.0),
    ("Cactus", "B", 1920, 1080, 62.1, 12.4, 4200.0, 13.5),
    ("BQMall", "C", 832, 480, 71.5, 21.0, 900.0, 3.0),
    ("PartyScene", "C", 832, 480, 98.3, 14.7, 1500.0, 3.4),
];

/// Configurations: name, codec, CRF values, rate scale in class B, in class C, CPU ratios to the
/// anchor, ABR bitrate errors (%).
pub struct Config {
    pub name: &'static str,
    pub codec: &'static str,
    pub crf: [f64; 4],
    pub scale_b: f64,
    pub scale_c: f64,
    pub cpu_ratio: [f64; 4],
    pub abr_error: [f64; 4],
}

pub const CONFIGS: [Config; 3] = [
    Config {
        name: "x264",
        codec: "libx264",
        crf: [22.0, 27.0, 32.0, 37.0],
        scale_b: 1.0,
        scale_c: 1.0,
        cpu_ratio: [1.0; 4],
        abr_error: [2.0, -3.0, 4.0, -1.0],
    },
    Config {
        name: "x265",
        codec: "libx265",
        crf: [24.0, 29.0, 34.0, 39.0],
        scale_b: 0.75,
        scale_c: 0.80,
        cpu_ratio: [0.90, 1.05, 1.20, 1.35],
        abr_error: [5.0, -5.0, 3.0, -3.0],
    },
    Config {
        name: "svt-av1",
        codec: "libsvtav1",
        crf: [27.0, 35.0, 43.0, 51.0],
        scale_b: 0.70,
        scale_c: 0.64,
        cpu_ratio: [2.0, 2.4, 2.7, 3.0],
        abr_error: [8.0, -6.0, 10.0, -4.0],
    },
];

/// Anchor bitrate at CRF point i relative to the sequence's base bitrate.
const CRF_RATE: [f64; 4] = [2.0, 1.0, 0.5, 0.25];
/// ABR targets relative to the base bitrate.
const ABR_TARGET: [f64; 4] = [1.6, 0.8, 0.4, 0.2];
/// Anchor CPU time at rate point i relative to the sequence's anchor CPU seconds.
const CPU_SHAPE: [f64; 4] = [1.3, 1.1, 0.95, 0.85];

const FRAMES: u32 = 60;
const FPS: f64 = 30.0;

/// How a fixture run differs from the plain one (for two-run comparisons).
#[derive(Debug, Clone)]
pub struct Variant {
    /// The run id (and folder name).
    pub run_id: String,
    /// Whether to write summary.json.
    pub with_summary: bool,
    /// x265's bitrate multiplied by this (0.98: a revision that saves 2 %).
    pub x265_rate: f64,
    /// x265's CPU time multiplied by this.
    pub x265_cpu: f64,
}

impl Default for Variant {
    fn default() -> Self {
        Variant {
            run_id: "20250101T120000Z-synthetic".into(),
            with_summary: true,
            x265_rate: 1.0,
            x265_cpu: 1.0,
        }
    }
}

/// Quality scores at log2(rate / base) = x, for an encoder at scale 1.
struct Quality {
    vmaf: f64,
    psnr_y: f64,
    psnr_u: f64,
    psnr_v: f64,
    ssim: f64,
    ms_ssim: f64,
}

fn quality(x: f64) -> Quality {
    let psnr_y = 38.0 + 3.0 * x - 0.2 * x * x;
    Quality {
        vmaf: 88.0 + 6.0 * x - x * x,
        psnr_y,
        psnr_u: psnr_y + 3.5,
        psnr_v: psnr_y + 3.0,
        ssim: 0.96 + 0.015 * x - 0.004 * x * x,
        ms_ssim: 0.975 + 0.01 * x - 0.003 * x * x,
    }
}

fn scale(c: &Config, class: &str, v: &Variant) -> f64 {
    let s = if class == "B" { c.scale_b } else { c.scale_c };
    if c.name == "x265" {
        s * v.x265_rate
    } else {
        s
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    v: &Variant,
    seq: &SequenceRow,
    c: &Config,
    mode: RcMode,
    point: usize,
    rate: f64,
    target: Option<f64>,
    q: &Quality,
    cpu: f64,
) -> EncodeRecord {
    let (id, class, w, h, si, ti, _, _) = *seq;
    let bytes = (rate * 1000.0 / 8.0 * FRAMES as f64 / FPS).round() as u64;
    EncodeRecord {
        run_id: v.run_id.clone(),
        git_revision: "0123abcd".into(),
        host: "bench-1".into(),
        job_id: format!("synthetic/{id}/{}/{mode}/{point}/r0", c.name),
        cache_key: format!("{id}-{}-{mode}-{point}", c.name),
        status: JobStatus::Ok,
        error: None,
        corpus: "synthetic".into(),
        sequence: id.into(),
        class: class.into(),
        config: c.name.into(),
        codec: c.codec.into(),
        encoder_version: format!("{} 1.0", c.codec),
        preset: "medium".into(),
        params: String::new(),
        threads: 1,
        rc_mode: mode,
        rc_value: target.unwrap_or(c.crf[point]),
        rc_point: point as u32,
        target_kbps: target,
        maxrate_kbps: None,
        bufsize_kbits: None,
        repetition: 0,
        width: w,
        height: h,
        frames: FRAMES as u64,
        fps: FPS,
        bytes,
        bitrate_kbps: rate,
        bitrate_error_pct: target.map(|t| (rate - t) / t * 100.0),
        target_reachable: None,
        target_vmaf: None,
        vmaf_path: None,
        search_probes: None,
        search_cpu_s: None,
        reachable_kbps: None,
        peak_1s_kbps: rate * 1.3,
        vbv_violations: None,
        encode_wall_s: cpu / 1.8,
        encode_cpu_s: cpu,
        encode_instructions: None,
        instructions_note: Some("instructions not counted: synthetic run".into()),
        encode_fps: FRAMES as f64 / (cpu / 1.8),
        decode_wall_s: 0.2,
        decode_cpu_s: 0.05,
        score_wall_s: 1.5,
        job_cpu_s: cpu + 2.0,
        si: Some(si),
        ti: Some(ti),
        vmaf: Some(q.vmaf),
        vmaf_hmean: Some(q.vmaf - 0.4),
        vmaf_p1: Some(q.vmaf - 6.0),
        psnr_y: Some(q.psnr_y),
        psnr_u: Some(q.psnr_u),
        psnr_v: Some(q.psnr_v),
        psnr_yuv: Some((6.0 * q.psnr_y + q.psnr_u + q.psnr_v) / 8.0),
        ssim: Some(q.ssim),
        ms_ssim: Some(q.ms_ssim),
        cached: false,
        ..Default::default()
    }
}

fn frames(r: &EncodeRecord) -> Vec<FrameRecord> {
    let mean_bytes = r.bitrate_kbps * 1000.0 / 8.0 / FPS;
    (0..FRAMES)
        .map(|f| {
            let (t, weight) = if f % 30 == 0 {
                ("I", 5.0)
            } else if f % 3 == 0 {
                ("P", 1.4)
            } else {
                ("B", 0.7)
            };
            let wave = (f as f64 / 7.0).sin();
            let vmaf = r
                .vmaf
                .map(|v| (v + 2.5 * wave + if t == "I" { 1.5 } else { 0.0 }).clamp(0.0, 100.0));
            FrameRecord {
                job_id: r.job_id.clone(),
                frame: f,
                pts_s: f as f64 / FPS,
                size_bytes: (mean_bytes * weight * (1.0 + 0.1 * wave)).round() as u32,
                pict_type: t.into(),
                key: t == "I",
                vmaf,
                psnr_y: r.psnr_y.map(|p| p + wave),
                psnr_u: r.psnr_u,
                psnr_v: r.psnr_v,
                ssim: r.ssim,
                ms_ssim: r.ms_ssim,
                ..Default::default()
            }
        })
        .collect()
}

/// Every job of the fixture, the failed one included.
pub fn jobs(v: &Variant) -> Vec<JobResult> {
    let mut out = Vec::new();
    for seq in &SEQUENCES {
        let (_, class, _, _, _, _, base, cpu0) = *seq;
        for c in &CONFIGS {
            let s = scale(c, class, v);
            let cpu_factor = if c.name == "x265" { v.x265_cpu } else { 1.0 };
            for i in 0..4 {
                let cpu = cpu0 * CPU_SHAPE[i] * c.cpu_ratio[i] * cpu_factor;
                let anchor_rate = base * CRF_RATE[i];
                let q = quality(anchor_rate.log2() - base.log2());
                let r = record(v, seq, c, RcMode::Crf, i, anchor_rate * s, None, &q, cpu);
                out.push(JobResult {
                    frames: frames(&r),
                    record: r,
                });

                let target = base * ABR_TARGET[i];
                let actual = target * (1.0 + c.abr_error[i] / 100.0);
                let q = quality((actual / s).log2() - base.log2());
                let r = record(v, seq, c, RcMode::Abr, i, actual, Some(target), &q, cpu);
                out.push(JobResult {
                    frames: frames(&r),
                    record: r,
                });
            }
        }
    }
    let failed = EncodeRecord {
        run_id: v.run_id.clone(),
        job_id: "synthetic/PartyScene/x265/crf/4/r0".into(),
        status: JobStatus::Failed,
        error: Some("libx265 rejected crf 44: out of range".into()),
        sequence: "PartyScene".into(),
        class: "C".into(),
        config: "x265".into(),
        codec: "libx265".into(),
        rc_mode: RcMode::Crf,
        rc_value: 44.0,
        rc_point: 4,
        ..EncodeRecord::default()
    };
    out.push(JobResult {
        record: failed,
        frames: Vec::new(),
    });
    out
}

/// The manifest.
pub fn manifest(v: &Variant) -> Manifest {
    let mut versions = Versions {
        rdbench: "0.1.0".into(),
        libvmaf: "2.3.1".into(),
        ..Versions::default()
    };
    for c in &CONFIGS {
        versions
            .encoders
            .insert(c.codec.into(), format!("{} 1.0", c.codec));
    }
    versions
        .ffmpeg
        .insert("libavcodec".into(), "59.37.100".into());
    Manifest {
        run_id: v.run_id.clone(),
        suite_name: "synthetic".into(),
        suite_toml: "name = \"synthetic\"\nanchor = \"x264\"\n".into(),
        anchor: "x264".into(),
        command_line: vec!["rdbench".into(), "bench".into(), "synthetic.toml".into()],
        git_revision: "0123abcd".into(),
        host: "bench-1".into(),
        cores: 2,
        cpu: Default::default(),
        started: "2025-01-01T12:00:00Z".into(),
        finished: Some("2025-01-01T12:07:00Z".into()),
        versions,
        shard: None,
        merged_from: Vec::new(),
        suite_sha256: String::new(),
        design: Some(serde_json::json!({ "name": "synthetic" })),
        bd_method: Default::default(),
        partial: false,
        missing_shards: Vec::new(),
    }
}

/// Writes the run folder `parent/<run_id>` and loads it back.
pub fn write_run(parent: &Path, v: &Variant) -> LoadedRun {
    let dir = parent.join(&v.run_id);
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(dir.join("manifest.json"), json(&manifest(v))).unwrap();
    for j in jobs(v) {
        std::fs::write(
            dir.join("jobs").join(job_file_name(&j.record.job_id)),
            json(&j),
        )
        .unwrap();
    }
    if v.with_summary {
        let harness = HarnessFigures {
            wall_s: 400.0,
            jobs_cpu_s: 780.0,
            cores: 2,
            ..HarnessFigures::default()
        };
        finish(&dir, harness).unwrap();
    }
    load(&dir).unwrap()
}

fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string_pretty(x).unwrap()
}
