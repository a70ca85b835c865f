//! The per-title ladder (`rdbench ladder`): an input encoded at every resolution x CRF of a grid
//! through the transcode core, in parallel, each encode scored with VMAF at the input's own
//! resolution (the encode upscaled, Lanczos by default, as the AOM CTC's adaptive-streaming
//! condition scores), the convex hull over (bitrate, quality), the rungs chosen from it
//! ([`crate::ladder`]), and the transcode job that ships them.
//!
//! Encodes and scores are cached by content: the decoded input's SHA-256, the encoder, its
//! version and settings, the resolution and CRF, the scaler, the VMAF model, the scorer's
//! revision and libvmaf's version.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rdbench_corpora::Cache;
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_transcode::filter::ScaleAlgorithm;
use rdbench_transcode::job::{self as tjob, NoProgress};
use rdbench_transcode::spec::{AudioKeyword, AudioSpec, JobSpec, OutputSettings, RcSpec, Scalar};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cache::{key_of, ResultCache, CACHE_VERSION};
use crate::compare::{compare, CompareOptions, Metric};
use crate::crf_search::materialize_input;
use crate::ladder::{convex_hull, rungs_at_bitrates, rungs_by_quality, LadderPoint};

/// The heights of the default grid (capped at the input's).
pub const DEFAULT_HEIGHTS: [u32; 7] = [1080, 720, 540, 432, 360, 270, 234];

/// How rungs are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum RungChoice {
    /// The best hull point under each target bitrate (kbit/s).
    Bitrates(Vec<f64>),
    /// Steps of this much quality down from the top rung.
    QualityStep(f64),
}

/// A ladder to build.
#[derive(Clone, Debug)]
pub struct LadderRequest {
    /// The input media file.
    pub input: PathBuf,
    /// libavcodec encoder.
    pub codec: String,
    /// Preset.
    pub preset: Option<Scalar>,
    /// Encoder parameters.
    pub params: Option<String>,
    /// Heights to encode (default: [`DEFAULT_HEIGHTS`] up to the input's).
    pub heights: Option<Vec<u32>>,
    /// CRFs of every resolution.
    pub crfs: Vec<f64>,
    /// How rungs are picked.
    pub choice: RungChoice,
    /// The top rung's bitrate cap in kbit/s.
    pub top_kbps: Option<f64>,
    /// Rungs at most (quality steps).
    pub max_rungs: usize,
    /// Scaler of the upscale before scoring.
    pub scale: ScaleAlgorithm,
    /// VMAF model.
    pub vmaf_model: VmafModelVersion,
    /// Concurrent encodes (default: the cores).
    pub jobs: Option<usize>,
    /// Cache folder.
    pub cache_dir: Option<PathBuf>,
    /// Reuse and store encodes.
    pub use_cache: bool,
}

/// One encode of the grid, measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridEncode {
    /// Encoded height.
    pub height: u32,
    /// Encoded width.
    pub width: u32,
    /// CRF.
    pub crf: f64,
    /// Bitrate in kbit/s.
    pub kbps: f64,
    /// Pooled VMAF (mean) at the input's resolution.
    pub vmaf: f64,
}

/// A rung: a grid encode on the hull.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rung {
    /// The encode.
    pub encode: GridEncode,
    /// The target bitrate that chose it (bitrate choice).
    pub target_kbps: Option<f64>,
}

/// What the ladder run found.
#[derive(Clone, Debug, Serialize)]
pub struct LadderReport {
    /// The input.
    pub input: PathBuf,
    /// Its size.
    pub source: (u32, u32),
    /// Every encode of the grid.
    pub grid: Vec<GridEncode>,
    /// The encodes on the convex hull, ascending bitrate.
    pub hull: Vec<GridEncode>,
    /// The chosen rungs, highest first.
    pub rungs: Vec<Rung>,
}

/// Why a ladder could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LadderError {
    /// A bad argument.
    #[error("{flag}: {message}")]
    Argument {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input cannot be used, or an encode failed.
    #[error("{0}")]
    Failed(String),
}

fn arg(flag: &'static str, message: String) -> LadderError {
    LadderError::Argument { flag, message }
}

/// Builds the ladder of `req`.
pub fn build(req: &LadderRequest) -> Result<LadderReport, LadderError> {
    if req.crfs.is_empty() {
        return Err(arg("--crf", "names no CRF".into()));
    }
    match &req.choice {
        RungChoice::Bitrates(b)
            if b.is_empty() || b.iter().any(|k| !(k.is_finite() && *k > 0.0)) =>
        {
            return Err(arg(
                "--bitrates",
                format!("must be positive kbit/s, not {b:?}"),
            ))
        }
        RungChoice::QualityStep(s) if !(s.is_finite() && *s > 0.0) => {
            return Err(arg("--quality-step", format!("must be positive, not {s}")))
        }
        _ => {}
    }
    let cache =
        Cache::resolve(req.cache_dir.as_deref()).map_err(|e| LadderError::Failed(e.to_string()))?;
    let (_, _, src) = materialize_input(&req.input, &cache, false).map_err(LadderError::Failed)?;
    let (sw, sh) = (src.sequence.width, src.sequence.height);
    let heights: Vec<u32> = match &req.heights {
        Some(h) => {
            if let Some(too) = h.iter().find(|&&x| x > sh || x < 2) {
                return Err(arg(
                    "--heights",
                    format!("{too} is not a height of a {sw}x{sh} input (2 to {sh}; rdbench does not upscale)"),
                ));
            }
            h.clone()
        }
        None => DEFAULT_HEIGHTS
            .iter()
            .copied()
            .filter(|&x| x <= sh)
            .collect(),
    };
    let heights = if heights.is_empty() {
        vec![sh]
    } else {
        heights
    };
    // Every CRF must pass the core's encoder rules before anything is encoded.
    for &crf in &req.crfs {
        let spec = job_spec(req, &src.path, Path::new("check.mkv"), heights[0], crf);
        let j = tjob::Job::from_spec(&spec, None, None).map_err(|e| arg("--crf", e.to_string()))?;
        if let Some((_, _, e)) = j.rejected.first() {
            return Err(arg("--crf", e.to_string()));
        }
    }
    let results = ResultCache::new(req.use_cache.then(|| cache.root().to_path_buf()).as_deref());
    let scratch = cache
        .root()
        .join("tmp")
        .join(format!("ladder-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| LadderError::Failed(format!("{}: {e}", scratch.display())))?;
    let cells: Vec<(u32, f64)> = heights
        .iter()
        .flat_map(|&h| req.crfs.iter().map(move |&c| (h, c)))
        .collect();
    let jobs = req.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| LadderError::Failed(e.to_string()))?;
    let grid: Result<Vec<GridEncode>, LadderError> = pool.install(|| {
        cells
            .par_iter()
            .map(|&(h, crf)| grid_encode(req, &src, &results, &scratch, h, crf))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&scratch);
    let grid = grid?;
    let points: Vec<LadderPoint> = grid
        .iter()
        .map(|g| LadderPoint {
            height: g.height,
            kbps: g.kbps,
            quality: g.vmaf,
        })
        .collect();
    let hull_points = convex_hull(&points);
    let back = |p: &LadderPoint| {
        *grid
            .iter()
            .find(|g| g.height == p.height && g.kbps == p.kbps && g.vmaf == p.quality)
            .expect("hull points are grid points")
    };
    let hull: Vec<GridEncode> = hull_points.iter().map(back).collect();
    let top = req.top_kbps.unwrap_or(f64::INFINITY);
    let mut rungs: Vec<Rung> = match &req.choice {
        RungChoice::Bitrates(targets) => {
            let capped: Vec<f64> = targets.iter().map(|t| t.min(top)).collect();
            rungs_at_bitrates(&hull_points, &capped)
                .iter()
                .zip(targets)
                .filter_map(|(r, t)| {
                    r.map(|p| Rung {
                        encode: back(&p),
                        target_kbps: Some(*t),
                    })
                })
                .collect()
        }
        RungChoice::QualityStep(step) => rungs_by_quality(&hull_points, *step, top, req.max_rungs)
            .iter()
            .map(|p| Rung {
                encode: back(p),
                target_kbps: None,
            })
            .collect(),
    };
    rungs.sort_by(|a, b| b.encode.kbps.total_cmp(&a.encode.kbps));
    if rungs.is_empty() {
        return Err(LadderError::Failed(
            "no encode of the grid is under the requested bitrates; lower the CRFs or raise the targets".into(),
        ));
    }
    Ok(LadderReport {
        input: req.input.clone(),
        source: (sw, sh),
        grid,
        hull,
        rungs,
    })
}

fn job_spec(req: &LadderRequest, input: &Path, out: &Path, height: u32, crf: f64) -> JobSpec {
    JobSpec::serial(
        input.to_string_lossy().into_owned(),
        vec![OutputSettings {
            path: Some(out.to_string_lossy().into_owned()),
            codec: Some(req.codec.clone()),
            preset: req.preset.clone(),
            threads: Some(1),
            height: Some(height),
            rc: Some(RcSpec::Crf { value: crf }),
            params: req.params.clone(),
            audio: Some(AudioSpec::Keyword(AudioKeyword::Drop)),
            ..Default::default()
        }],
    )
}

#[derive(Serialize)]
struct GridKey<'a> {
    version: u32,
    source_sha256: &'a str,
    codec: &'a str,
    encoder_version: String,
    preset: Option<String>,
    params: Option<&'a str>,
    height: u32,
    crf: f64,
    scale: &'static str,
    model: &'static str,
    scorer: u32,
    libvmaf: String,
}

fn grid_encode(
    req: &LadderRequest,
    src: &rdbench_corpora::MaterializedSequence,
    cache: &ResultCache,
    scratch: &Path,
    height: u32,
    crf: f64,
) -> Result<GridEncode, LadderError> {
    let key = key_of(&GridKey {
        version: CACHE_VERSION,
        source_sha256: &src.sha256,
        codec: &req.codec,
        encoder_version: rdbench_transcode::versions::encoder(&req.codec),
        preset: req.preset.as_ref().map(|p| p.to_string()),
        params: req.params.as_deref(),
        height,
        crf,
        scale: req.scale.name(),
        model: req.vmaf_model.name(),
        scorer: rdbench_metrics::SCORER_REVISION,
        libvmaf: rdbench_metrics::vmaf::libvmaf_version(),
    });
    if let Some(g) = cache.get::<GridEncode>("ladder", &key) {
        return Ok(g);
    }
    let fail = |m: String| LadderError::Failed(format!("{height}p crf {crf}: {m}"));
    let out = scratch.join(format!("{key}.mkv"));
    let spec = job_spec(req, &src.path, &out, height, crf);
    let job = tjob::Job::from_spec(&spec, None, None).map_err(|e| fail(e.to_string()))?;
    let report = tjob::run(&job, &NoProgress).map_err(|e| fail(e.to_string()))?;
    let o = report
        .outputs
        .first()
        .ok_or_else(|| fail("no output".into()))?;
    if let Some(e) = &o.error {
        return Err(fail(e.to_string()));
    }
    let seconds = f64::from(src.frames) / src.sequence.fps.as_f64();
    let options = CompareOptions {
        metrics: vec![Metric::Vmaf],
        vmaf_model: req.vmaf_model,
        scale: req.scale,
        decoder_threads: 1,
        align: crate::align::Align::Timestamps { offset: 0 },
        ..Default::default()
    };
    let cmp = compare(&src.path, &out, &options).map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(&out);
    let vmaf = cmp
        .pooled
        .get(rdbench_results::Metric::Vmaf.column())
        .map(|e| e.pooled.mean)
        .ok_or_else(|| fail("no VMAF".into()))?;
    let g = GridEncode {
        height,
        width: o.width,
        crf,
        kbps: o.video_bytes as f64 * 8.0 / seconds / 1000.0,
        vmaf,
    };
    cache.put("ladder", &key, &g);
    Ok(g)
}

/// The transcode job (TOML) that encodes `report`'s rungs from its input, one output per rung
/// named `<stem>_<height>p_<kbps>k.<ext>`.
pub fn job_toml(req: &LadderRequest, report: &LadderReport, stem: &str, ext: &str) -> String {
    let input = std::fs::canonicalize(&report.input).unwrap_or_else(|_| report.input.clone());
    let spec = JobSpec {
        input: input.to_string_lossy().into_owned(),
        templates: None,
        defaults: OutputSettings {
            codec: Some(req.codec.clone()),
            preset: req.preset.clone(),
            params: req.params.clone(),
            threads: Some(1),
            ..Default::default()
        },
        execution: Default::default(),
        outputs: report
            .rungs
            .iter()
            .map(|r| OutputSettings {
                path: Some(format!(
                    "{stem}_{}p_{:.0}k.{ext}",
                    r.encode.height, r.encode.kbps
                )),
                height: Some(r.encode.height),
                rc: Some(RcSpec::Crf {
                    value: r.encode.crf,
                }),
                ..Default::default()
            })
            .collect(),
    };
    toml::to_string(&spec).expect("a job spec serialises")
}
