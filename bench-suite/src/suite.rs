//! Suites: which corpora, which encoder configurations, which rate points, which metrics, and
//! which configuration is the anchor — read from TOML and checked before anything runs.

use std::path::{Path, PathBuf};

use rdbench_bdrate::BdMethod;
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_results::RcMode;
use rdbench_transcode::mux::Container;
use rdbench_transcode::settings::{encoder_config, EncoderRequest, Pass, RateControl};
use rdbench_transcode::spec::{RcSpec, Scalar};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

use crate::compare::Metric;

/// The suite `cargo xtask bench` runs, embedded in the binary.
pub const DEFAULT_SUITE: &str = include_str!("../suites/default.toml");

/// Errors reading or checking a suite.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax, an unknown field, a wrong type.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value that cannot work.
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// A suite as written.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SuiteSpec {
    /// Name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Corpora by name or manifest path.
    pub corpora: Vec<String>,
    /// Only these sequences (ids, or `corpus/id`); all when empty.
    #[serde(default)]
    pub sequences: Vec<String>,
    /// Metrics: vmaf, psnr, ssim, ms-ssim, ms-ssim-db, apsnr, xpsnr, ssimulacra2, cambi, ciede2000,
    /// psnr-hvs.
    #[serde(default = "default_metrics")]
    pub metrics: Vec<String>,
    /// VMAF model.
    #[serde(default = "default_model")]
    pub vmaf_model: String,
    /// The anchor configuration's name.
    pub anchor: String,
    /// Timing repetitions of every encode.
    #[serde(default = "one")]
    pub repetitions: u32,
    /// BD-rate method: pchip (default), cubic, akima.
    #[serde(default = "default_method")]
    pub bd_method: String,
    /// Container of the encodes.
    #[serde(default = "default_container")]
    pub container: String,
    /// Concurrent jobs (default: cores / the largest encoder thread count).
    pub jobs: Option<u32>,
    /// Allow concurrent jobs x encoder threads above the core count.
    #[serde(default)]
    pub oversubscribe: bool,
    /// Seconds after which a job (encode and scoring) is killed and recorded as timed out;
    /// default: 10 minutes plus 4 minutes per second of content.
    pub timeout_s: Option<f64>,
    /// Encoder configurations.
    #[serde(rename = "config")]
    pub configs: Vec<ConfigSpec>,
    /// A per-title ladder per sequence, built after the grid's jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder: Option<LadderSpec>,
}

/// `[ladder]`: a per-title ladder for every sequence of the suite, built with one
/// configuration's encoder, measured against a reference ladder.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LadderSpec {
    /// The configuration whose encoder (codec, preset, params) encodes the ladders.
    pub config: String,
    /// Heights of the grid (default 1080/720/540/432/360/270/234); those above a sequence's
    /// own height are left out for it.
    pub heights: Option<Vec<u32>>,
    /// CRFs of every resolution.
    #[serde(default = "default_ladder_crfs")]
    pub crf: Vec<f64>,
    /// QPs of every resolution instead of CRFs.
    pub qp: Option<Vec<f64>>,
    /// Rungs at these bitrates (kbit/s); otherwise rungs `quality_step` VMAF apart.
    pub bitrates: Option<Vec<f64>>,
    /// VMAF between rungs (default 6).
    pub quality_step: Option<f64>,
    /// The top rung's bitrate cap, kbit/s.
    pub top_kbps: Option<f64>,
    /// Rungs at most (default 8).
    pub max_rungs: Option<usize>,
    /// The reference ladder: `hls` (default, built in), `none`, or a templates file (relative
    /// to the suite file).
    pub reference: Option<String>,
    /// The scaler of the upscale before scoring (default lanczos).
    pub scale: Option<String>,
}

fn default_ladder_crfs() -> Vec<f64> {
    vec![20.0, 24.0, 28.0, 32.0, 36.0]
}

fn default_metrics() -> Vec<String> {
    vec!["vmaf".into(), "psnr".into(), "ssim".into()]
}
fn default_model() -> String {
    "vmaf_v0.6.1".into()
}
fn one() -> u32 {
    1
}
fn default_method() -> String {
    "pchip".into()
}
fn default_container() -> String {
    "mkv".into()
}

/// A capped-CRF point.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CappedPoint {
    /// CRF.
    pub crf: f64,
    /// VBV maximum rate.
    pub maxrate_kbps: f64,
    /// VBV buffer.
    pub bufsize_kbits: f64,
}

/// One encoder configuration and its rate points.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Name used in results (unique in the suite).
    pub name: String,
    /// libavcodec encoder (absent when `command` names an encoder program).
    pub codec: Option<String>,
    /// An encoder program and its argument template instead of a libavcodec encoder, e.g.
    /// `["SvtAv1EncApp", "-i", "{input}", "-b", "{output}", "--crf", "{crf}"]`.
    pub command: Option<Vec<String>>,
    /// A command printing the program's version (recorded and part of the cache key).
    pub version: Option<Vec<String>>,
    /// The bitstream the program writes: ivf, obu, h264, hevc, mkv, webm, mp4.
    pub output_format: Option<String>,
    /// How the program reads its input: "fifo" (default) or "file".
    pub command_input: Option<rdbench_transcode::external::InputMode>,
    /// Seconds after which the program is killed (default: none).
    pub timeout_s: Option<f64>,
    /// Preset.
    pub preset: Option<Scalar>,
    /// Encoder threads (default 1).
    pub threads: Option<u32>,
    /// Encoder-specific parameter string.
    pub params: Option<String>,
    /// Raw libavcodec options.
    pub options: Option<BTreeMap<String, Scalar>>,
    /// CRF points.
    #[serde(default)]
    pub crf: Vec<f64>,
    /// Constant-QP points.
    #[serde(default)]
    pub qp: Vec<f64>,
    /// ABR targets in kbit/s.
    #[serde(default)]
    pub abr_kbps: Vec<f64>,
    /// ABR targets in bits per pixel (kbit/s = bpp x width x height x fps / 1000).
    #[serde(default)]
    pub abr_bpp: Vec<f64>,
    /// ABR targets taken, per sequence, from the bitrates another configuration reached at its
    /// CRF (or QP) points: `"x264:crf"`. Every target is then one that content can use, and
    /// the ABR and CRF curves span the same range.
    pub abr_from: Option<String>,
    /// Passes of the ABR encodes (1 or 2).
    #[serde(default = "one")]
    pub abr_passes: u32,
    /// CBR targets in kbit/s.
    #[serde(default)]
    pub cbr_kbps: Vec<f64>,
    /// CBR targets in bits per pixel.
    #[serde(default)]
    pub cbr_bpp: Vec<f64>,
    /// CBR targets from another configuration's CRF or QP bitrates, like `abr_from`.
    pub cbr_from: Option<String>,
    /// CBR buffer in seconds of the target rate (default 1).
    pub cbr_buffer_s: Option<f64>,
    /// Capped-CRF points.
    #[serde(default)]
    pub capped_crf: Vec<CappedPoint>,
    /// VMAF targets (`target_vmaf = [80, 88, 93]`): each a rate point whose CRF is searched per
    /// sequence, so encoders are compared at equal quality. Needs `vmaf` among the metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_vmaf: Vec<f64>,
    /// The CRF range the search may use, `[low, high]` (default: the encoder's whole range;
    /// required for an encoder program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_crf_range: Option<[f64; 2]>,
    /// A probe scoring within this much VMAF above the target is the answer (default 0.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_tolerance: Option<f64>,
    /// Probes at most per search (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_max_probes: Option<u32>,
}

/// The default tolerance of a `target_vmaf` search, in VMAF.
pub const TARGET_TOLERANCE: f64 = 0.4;

/// The default probe budget of a `target_vmaf` search.
pub const TARGET_MAX_PROBES: u32 = 8;

/// A checked suite.
#[derive(Clone, Debug)]
pub struct Suite {
    /// As written.
    pub spec: SuiteSpec,
    /// The TOML text exactly as read.
    pub text: String,
    /// Where it came from (None: the embedded default).
    pub path: Option<PathBuf>,
    /// Metrics, parsed.
    pub metrics: Vec<Metric>,
    /// VMAF model, parsed.
    pub vmaf_model: VmafModelVersion,
    /// The container of the encodes, parsed.
    pub container: Container,
    /// The BD method, parsed.
    pub bd_method: BdMethod,
}

impl Suite {
    /// The embedded default suite.
    pub fn default_suite() -> Suite {
        Suite::parse(DEFAULT_SUITE, None).expect("the embedded default suite is valid")
    }

    /// Reads and checks a suite file.
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Suite::parse(&text, Some(path))
    }

    /// Parses and checks suite text.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Suite, SuiteError> {
        let shown = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("<default suite>"));
        let spec: SuiteSpec = toml::from_str(text).map_err(|e| SuiteError::Parse {
            path: shown.clone(),
            message: rdbench_transcode::spec::toml_message(text, &e),
        })?;
        let invalid = |field: String, message: String| SuiteError::Invalid {
            path: shown.clone(),
            field,
            message,
        };
        if spec.configs.is_empty() {
            return Err(invalid(
                "config".into(),
                "the suite has no [[config]]".into(),
            ));
        }
        if spec.corpora.is_empty() {
            return Err(invalid("corpora".into(), "names no corpus".into()));
        }
        let mut metrics = Vec::new();
        for (i, m) in spec.metrics.iter().enumerate() {
            let parsed = Metric::parse(m).ok_or_else(|| {
                invalid(
                    format!("metrics[{i}]"),
                    format!("unknown metric `{m}` ({})", crate::compare::METRIC_NAMES),
                )
            })?;
            if !metrics.contains(&parsed) {
                metrics.push(parsed);
            }
        }
        if metrics.is_empty() {
            return Err(invalid("metrics".into(), "names no metric".into()));
        }
        let vmaf_model: VmafModelVersion = spec.vmaf_model.parse().map_err(|_| {
            invalid(
                "vmaf_model".into(),
                format!(
                    "unknown model `{}` (vmaf_v0.6.1, vmaf_v0.6.1neg, vmaf_4k_v0.6.1)",
                    spec.vmaf_model
                ),
            )
        })?;
        let bd_method: BdMethod = spec.bd_method.parse().map_err(|_| {
            invalid(
                "bd_method".into(),
                format!("unknown method `{}` (pchip, cubic, akima)", spec.bd_method),
            )
        })?;
        let container = match Container::from_name(&spec.container) {
            None => {
                return Err(invalid(
                    "container".into(),
                    format!(
                        "unknown container `{}` (mkv, mp4, mov, webm, ts, ivf, h264, hevc)",
                        spec.container
                    ),
                ))
            }
            Some(Container::Hls | Container::Y4m | Container::Flv | Container::Gif) => {
                return Err(invalid(
                    "container".into(),
                    format!(
                        "`{}` cannot hold a benchmark encode (mkv, mp4, mov, webm, ts, ivf, h264, hevc)",
                        spec.container
                    ),
                ))
            }
            Some(c) => c,
        };
        if spec.repetitions == 0 {
            return Err(invalid("repetitions".into(), "must be at least 1".into()));
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, c) in spec.configs.iter().enumerate() {
            let f = format!("config[{i}]");
            if c.name.trim().is_empty() || c.name.contains('/') {
                return Err(invalid(
                    format!("{f}.name"),
                    format!("`{}` is not a usable name (non-empty, no '/')", c.name),
                ));
            }
            if names.contains(&c.name.as_str()) {
                return Err(invalid(
                    format!("{f}.name"),
                    format!("`{}` is used twice", c.name),
                ));
            }
            names.push(&c.name);
            check_config(c, &f, &spec.configs)
                .map_err(|(field, message)| invalid(field, message))?;
            if !c.target_vmaf.is_empty() && !metrics.contains(&Metric::Vmaf) {
                return Err(invalid(
                    format!("{f}.target_vmaf"),
                    "needs `vmaf` among the suite's metrics".into(),
                ));
            }
        }
        if !names.contains(&spec.anchor.as_str()) {
            return Err(invalid(
                "anchor".into(),
                format!(
                    "`{}` is not a configuration (have: {})",
                    spec.anchor,
                    names.join(", ")
                ),
            ));
        }
        if let Some(t) = spec.timeout_s {
            if !(t.is_finite() && t > 0.0) {
                return Err(invalid(
                    "timeout_s".into(),
                    format!("must be a positive number of seconds, not {t}"),
                ));
            }
        }
        if spec.jobs == Some(0) {
            return Err(invalid("jobs".into(), "must be at least 1".into()));
        }
        if let Some(l) = &spec.ladder {
            check_ladder(l, &spec.configs, &metrics, path)
                .map_err(|(field, message)| invalid(field, message))?;
        }
        Ok(Suite {
            spec,
            text: text.to_string(),
            path: path.map(Path::to_path_buf),
            metrics,
            vmaf_model,
            container,
            bd_method,
        })
    }

    fn max_threads(&self) -> u32 {
        self.spec
            .configs
            .iter()
            .map(|c| c.threads.unwrap_or(1))
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// Concurrent jobs on a host of `cores`: the suite's `jobs`, clamped so that jobs x encoder
    /// threads stays within the cores (unless the suite allows oversubscription), or cores /
    /// the largest encoder thread count. The second value says why it was clamped, when it was.
    pub fn jobs(&self, cores: u32) -> (u32, Option<String>) {
        let max_threads = self.max_threads();
        let fit = (cores / max_threads).max(1);
        match self.spec.jobs {
            None => (fit, None),
            Some(j) if j * max_threads > cores && !self.spec.oversubscribe && j > fit => (
                fit,
                Some(format!(
                    "the suite asks for {j} jobs x {max_threads} encoder threads, more than this machine's {cores} cores: running {fit} at a time (oversubscribe = true keeps {j})"
                )),
            ),
            Some(j) => (j, None),
        }
    }

    /// The run's design: everything two runs must share for their results to be compared —
    /// corpora, sequences, metrics, the VMAF model, the anchor, repetitions, the BD method, the
    /// container, and each configuration's name and rate points. The encoder settings under
    /// test (codec, preset, params, options, threads) and how the run is scheduled (jobs) are
    /// not part of it: a change to them is what the gate judges.
    pub fn design(&self) -> serde_json::Value {
        let s = &self.spec;
        let configs: serde_json::Map<String, serde_json::Value> = s
            .configs
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    serde_json::json!({
                        "crf": c.crf,
                        "qp": c.qp,
                        "abr_kbps": c.abr_kbps,
                        "abr_bpp": c.abr_bpp,
                        "abr_passes": c.abr_passes,
                        "cbr_kbps": c.cbr_kbps,
                        "cbr_bpp": c.cbr_bpp,
                        "cbr_buffer_s": c.cbr_buffer_s,
                        "abr_from": c.abr_from,
                        "cbr_from": c.cbr_from,
                        "capped_crf": c.capped_crf,
                        "target_vmaf": c.target_vmaf,
                        "target_crf_range": c.target_crf_range,
                        "target_tolerance": c.target_tolerance.unwrap_or(TARGET_TOLERANCE),
                        "target_max_probes": c.target_max_probes.unwrap_or(TARGET_MAX_PROBES),
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "name": s.name,
            "corpora": s.corpora,
            "sequences": s.sequences,
            "metrics": self.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "vmaf_model": self.vmaf_model.name(),
            "anchor": s.anchor,
            "repetitions": s.repetitions,
            "bd_method": self.bd_method.as_str(),
            "container": self.container.extension(),
            "configs": configs,
        })
    }

    /// How long `job` may run before it is killed: the suite's `timeout_s`, or a generous
    /// default from the content's length (10 minutes plus 4 per second of content, twice that
    /// for two passes, once per allowed probe for a `target_vmaf` search).
    pub fn job_timeout(&self, job: &crate::grid::Job) -> std::time::Duration {
        let s = &job.source.seq;
        let seconds = s.frames as f64 / s.sequence.fps.as_f64().max(1e-3);
        let passes = match job.mode {
            RcMode::Abr2 => 2.0,
            RcMode::TargetVmaf => {
                f64::from(job.config.target_max_probes.unwrap_or(TARGET_MAX_PROBES))
            }
            _ => 1.0,
        };
        let t = self
            .spec
            .timeout_s
            .unwrap_or((600.0 + 240.0 * seconds) * passes);
        std::time::Duration::from_secs_f64(t)
    }

    /// The configuration called `name`.
    pub fn config(&self, name: &str) -> Option<&ConfigSpec> {
        self.spec.configs.iter().find(|c| c.name == name)
    }
}

/// A rate point of a configuration, before it meets a sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PointSpec {
    /// CRF.
    Crf(f64),
    /// Constant QP.
    Qp(f64),
    /// ABR at kbit/s, at bits per pixel, or at the bitrate another point reached.
    Abr {
        kbps: Option<f64>,
        bpp: Option<f64>,
        from: Option<Derived>,
        passes: u32,
    },
    /// CBR at kbit/s, bits per pixel or another point's bitrate, buffer in seconds.
    Cbr {
        kbps: Option<f64>,
        bpp: Option<f64>,
        from: Option<Derived>,
        buffer_s: f64,
    },
    /// Capped CRF.
    Capped(CappedPoint),
    /// The CRF reaching this VMAF, searched per sequence.
    TargetVmaf(f64),
}

/// A bitrate target taken from the bitrate another rate point of the suite reached on the same
/// sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    /// The configuration whose encode sets the target.
    pub config: String,
    /// Its mode (crf or qp).
    pub mode: RcMode,
    /// Its point in that mode.
    pub index: u32,
}

/// Parses `"config:mode"` of `abr_from`/`cbr_from`.
fn parse_from(text: &str) -> Option<(String, RcMode)> {
    let (config, mode) = text.split_once(':')?;
    let mode: RcMode = mode.trim().parse().ok()?;
    matches!(mode, RcMode::Crf | RcMode::Qp).then(|| (config.trim().to_string(), mode))
}

impl ConfigSpec {
    /// The targets `abr_from` (or `cbr_from`) names: one per point of the source mode, or
    /// none when the field is absent or does not parse (the suite check reports that).
    fn derived(&self, from: &Option<String>, all: &[ConfigSpec]) -> Vec<Derived> {
        let Some((config, mode)) = from.as_deref().and_then(parse_from) else {
            return Vec::new();
        };
        let Some(src) = all.iter().find(|c| c.name == config) else {
            return Vec::new();
        };
        let n = match mode {
            RcMode::Crf => src.crf.len(),
            _ => src.qp.len(),
        };
        (0..n as u32)
            .map(|index| Derived {
                config: config.clone(),
                mode,
                index,
            })
            .collect()
    }

    /// The encoder program of a `command` configuration.
    pub fn external(&self) -> Option<rdbench_transcode::external::ExternalEncoder> {
        use rdbench_transcode::external::{Bitstream, ExternalEncoder};
        let command = self.command.clone()?;
        Some(ExternalEncoder {
            command,
            version: self.version.clone(),
            output_format: self
                .output_format
                .as_deref()
                .and_then(Bitstream::from_name)
                .unwrap_or(Bitstream::Ivf),
            input: self.command_input.unwrap_or_default(),
            timeout_s: self.timeout_s,
        })
    }

    /// The encoder's name in records: the libavcodec encoder, or `external:` and the program's
    /// file name.
    pub fn encoder_name(&self) -> String {
        match (&self.command, &self.codec) {
            (Some(cmd), _) => {
                let program = cmd.first().map(String::as_str).unwrap_or("");
                let base = Path::new(program)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| program.to_string());
                format!("external:{base}")
            }
            (None, Some(c)) => c.clone(),
            (None, None) => String::new(),
        }
    }

    /// The encoder's version: the libavcodec encoder library's, or what the program's
    /// `version` command prints with the SHA-256 of its binary (asked once per process).
    pub fn encoder_version(&self) -> String {
        match self.external() {
            None => rdbench_transcode::versions::encoder(self.codec.as_deref().unwrap_or("")),
            Some(e) => {
                static SEEN: std::sync::Mutex<BTreeMap<String, String>> =
                    std::sync::Mutex::new(BTreeMap::new());
                let key = format!("{:?}|{:?}", e.command.first(), e.version);
                let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
                seen.entry(key)
                    .or_insert_with(|| rdbench_transcode::external::version_of(&e))
                    .clone()
            }
        }
    }

    /// Every rate point with its mode and index within the mode; `all` is the suite's
    /// configurations (targets derived from another configuration's points need them).
    pub fn points_in(&self, all: &[ConfigSpec]) -> Vec<(RcMode, u32, PointSpec)> {
        let mut out = self.points();
        let abr_mode = if self.abr_passes == 2 {
            RcMode::Abr2
        } else {
            RcMode::Abr
        };
        let start = out.iter().filter(|p| p.0 == abr_mode).count() as u32;
        for (i, d) in self.derived(&self.abr_from, all).into_iter().enumerate() {
            out.push((
                abr_mode,
                start + i as u32,
                PointSpec::Abr {
                    kbps: None,
                    bpp: None,
                    from: Some(d),
                    passes: self.abr_passes,
                },
            ));
        }
        let start = out.iter().filter(|p| p.0 == RcMode::Cbr).count() as u32;
        let buffer_s = self.cbr_buffer_s.unwrap_or(1.0);
        for (i, d) in self.derived(&self.cbr_from, all).into_iter().enumerate() {
            out.push((
                RcMode::Cbr,
                start + i as u32,
                PointSpec::Cbr {
                    kbps: None,
                    bpp: None,
                    from: Some(d),
                    buffer_s,
                },
            ));
        }
        out
    }

    /// The rate points with fixed targets, with their mode and index within the mode.
    pub fn points(&self) -> Vec<(RcMode, u32, PointSpec)> {
        let mut out = Vec::new();
        let abr_mode = if self.abr_passes == 2 {
            RcMode::Abr2
        } else {
            RcMode::Abr
        };
        for (i, v) in self.crf.iter().enumerate() {
            out.push((RcMode::Crf, i as u32, PointSpec::Crf(*v)));
        }
        for (i, v) in self.qp.iter().enumerate() {
            out.push((RcMode::Qp, i as u32, PointSpec::Qp(*v)));
        }
        let abr: Vec<PointSpec> = self
            .abr_kbps
            .iter()
            .map(|k| PointSpec::Abr {
                kbps: Some(*k),
                bpp: None,
                from: None,
                passes: self.abr_passes,
            })
            .chain(self.abr_bpp.iter().map(|b| PointSpec::Abr {
                kbps: None,
                bpp: Some(*b),
                from: None,
                passes: self.abr_passes,
            }))
            .collect();
        for (i, p) in abr.into_iter().enumerate() {
            out.push((abr_mode, i as u32, p));
        }
        let buffer_s = self.cbr_buffer_s.unwrap_or(1.0);
        let cbr: Vec<PointSpec> = self
            .cbr_kbps
            .iter()
            .map(|k| PointSpec::Cbr {
                kbps: Some(*k),
                bpp: None,
                from: None,
                buffer_s,
            })
            .chain(self.cbr_bpp.iter().map(|b| PointSpec::Cbr {
                kbps: None,
                bpp: Some(*b),
                from: None,
                buffer_s,
            }))
            .collect();
        for (i, p) in cbr.into_iter().enumerate() {
            out.push((RcMode::Cbr, i as u32, p));
        }
        for (i, c) in self.capped_crf.iter().enumerate() {
            out.push((RcMode::CappedCrf, i as u32, PointSpec::Capped(c.clone())));
        }
        for (i, v) in self.target_vmaf.iter().enumerate() {
            out.push((RcMode::TargetVmaf, i as u32, PointSpec::TargetVmaf(*v)));
        }
        out
    }

    /// The CRF range and grid step a `target_vmaf` search uses on a source of `bit_depth`:
    /// `target_crf_range`, else the encoder's whole range; the step is 0.25 where the encoder
    /// takes fractional CRFs (x264, x265), 1 otherwise. None for an encoder program without
    /// `target_crf_range`.
    pub fn target_range(&self, bit_depth: u8) -> Option<(f64, f64, f64)> {
        let scale = self
            .codec
            .as_deref()
            .map(|c| rdbench_transcode::settings::quality_scale(c, bit_depth))
            .filter(|s| s.known);
        let step = if scale.is_some_and(|s| s.crf_fractional) {
            0.25
        } else {
            1.0
        };
        match (self.target_crf_range, scale) {
            (Some([lo, hi]), _) => Some((lo, hi, step)),
            (None, Some(s)) => Some((s.crf.0, s.crf.1, step)),
            (None, None) => None,
        }
    }
}

impl PointSpec {
    /// The point a derived target comes from.
    pub fn derived(&self) -> Option<&Derived> {
        match self {
            PointSpec::Abr { from, .. } | PointSpec::Cbr { from, .. } => from.as_ref(),
            _ => None,
        }
    }

    /// The job-spec rate control for a sequence of `pixels_per_s` luma samples per second; a
    /// derived target is `derived_kbps` (the bitrate its source point reached on that sequence).
    pub fn rc_with(&self, pixels_per_s: f64, derived_kbps: Option<f64>) -> RcSpec {
        let kbps = |k: Option<f64>, b: Option<f64>| {
            k.or(derived_kbps)
                .unwrap_or_else(|| b.unwrap_or(0.0) * pixels_per_s / 1000.0)
        };
        match self {
            PointSpec::Crf(v) => RcSpec::Crf { value: *v },
            PointSpec::Qp(v) => RcSpec::Qp { value: *v },
            PointSpec::Abr {
                kbps: k,
                bpp,
                passes,
                ..
            } => RcSpec::Abr {
                bitrate_kbps: round_kbps(kbps(*k, *bpp)),
                passes: Some(*passes as u8),
            },
            PointSpec::Cbr {
                kbps: k,
                bpp,
                buffer_s,
                ..
            } => {
                let r = round_kbps(kbps(*k, *bpp));
                RcSpec::Cbr {
                    bitrate_kbps: r,
                    bufsize_kbits: Some(round_kbps(r * buffer_s)),
                }
            }
            PointSpec::Capped(c) => RcSpec::CappedCrf {
                value: c.crf,
                maxrate_kbps: c.maxrate_kbps,
                bufsize_kbits: c.bufsize_kbits,
            },
            // The search picks the CRF per sequence; this is where it would start on x264.
            PointSpec::TargetVmaf(_) => RcSpec::Crf { value: 25.5 },
        }
    }
}

impl PointSpec {
    /// The job-spec rate control for a sequence of `pixels_per_s` luma samples per second
    /// (derived targets at a placeholder of 1000 kbit/s until their source is known).
    pub fn rc(&self, pixels_per_s: f64) -> RcSpec {
        let placeholder = self.derived().map(|_| 1000.0);
        self.rc_with(pixels_per_s, placeholder)
    }
}

/// Bitrates derived from bits per pixel, rounded to 0.1 kbit/s so job ids and cache keys are stable.
fn round_kbps(k: f64) -> f64 {
    (k * 10.0).round() / 10.0
}

fn check_config(c: &ConfigSpec, f: &str, all: &[ConfigSpec]) -> Result<(), (String, String)> {
    for (name, from, fixed) in [
        (
            "abr_from",
            &c.abr_from,
            !c.abr_kbps.is_empty() || !c.abr_bpp.is_empty(),
        ),
        (
            "cbr_from",
            &c.cbr_from,
            !c.cbr_kbps.is_empty() || !c.cbr_bpp.is_empty(),
        ),
    ] {
        let Some(text) = from else { continue };
        let Some((config, mode)) = parse_from(text) else {
            return Err((
                format!("{f}.{name}"),
                format!("`{text}` is not `CONFIG:crf` or `CONFIG:qp`"),
            ));
        };
        let Some(src) = all.iter().find(|x| x.name == config) else {
            return Err((
                format!("{f}.{name}"),
                format!(
                    "`{config}` is not a configuration (have: {})",
                    all.iter()
                        .map(|x| x.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let n = if mode == RcMode::Crf {
            src.crf.len()
        } else {
            src.qp.len()
        };
        if n == 0 {
            return Err((
                format!("{f}.{name}"),
                format!("`{config}` has no {mode} points to take bitrates from"),
            ));
        }
        if fixed {
            return Err((
                format!("{f}.{name}"),
                format!("give the targets either as `{}` or as fixed kbit/s or bits per pixel, not both", name),
            ));
        }
    }
    match (&c.codec, &c.command) {
        (Some(_), Some(_)) => {
            return Err((
                format!("{f}.command"),
                "a configuration names either a libavcodec `codec` or an encoder program `command`, not both".into(),
            ))
        }
        (None, None) => {
            return Err((
                f.to_string(),
                "names no encoder: give `codec` (a libavcodec encoder) or `command` (an encoder program)".into(),
            ))
        }
        (Some(codec), None) => {
            if ffmpeg_encoder_missing(codec) {
                return Err((
                    format!("{f}.codec"),
                    format!("unknown encoder `{codec}` (not in this FFmpeg build)"),
                ));
            }
            for (name, set) in [
                ("version", c.version.is_some()),
                ("output_format", c.output_format.is_some()),
                ("command_input", c.command_input.is_some()),
                ("timeout_s", c.timeout_s.is_some()),
            ] {
                if set {
                    return Err((
                        format!("{f}.{name}"),
                        "only applies to an encoder program (`command`)".into(),
                    ));
                }
            }
        }
        (None, Some(_)) => {
            for (name, set) in [
                ("preset", c.preset.is_some()),
                ("params", c.params.is_some()),
                ("options", c.options.is_some()),
            ] {
                if set {
                    return Err((
                        format!("{f}.{name}"),
                        "does not apply to an encoder program: put its settings in `command`".into(),
                    ));
                }
            }
            let names = rdbench_transcode::external::Bitstream::ALL
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", ");
            match c.output_format.as_deref() {
                None => {
                    return Err((
                        format!("{f}.output_format"),
                        format!("missing: the bitstream the program writes ({names})"),
                    ))
                }
                Some(n) if rdbench_transcode::external::Bitstream::from_name(n).is_none() => {
                    return Err((
                        format!("{f}.output_format"),
                        format!("unknown bitstream `{n}` ({names})"),
                    ))
                }
                Some(_) => {}
            }
            if let Some(t) = c.timeout_s {
                if !(t.is_finite() && t > 0.0) {
                    return Err((
                        format!("{f}.timeout_s"),
                        format!("must be a positive number of seconds, not {t}"),
                    ));
                }
            }
        }
    }
    if c.points_in(all).is_empty() {
        return Err((
            f.to_string(),
            "has no rate points (crf, qp, abr_kbps, abr_bpp, cbr_kbps, cbr_bpp, capped_crf or target_vmaf)"
                .into(),
        ));
    }
    if !(1..=2).contains(&c.abr_passes) {
        return Err((
            format!("{f}.abr_passes"),
            format!("must be 1 or 2, not {}", c.abr_passes),
        ));
    }
    if c.cbr_buffer_s.is_some_and(|b| !(b > 0.0)) {
        return Err((format!("{f}.cbr_buffer_s"), "must be positive".into()));
    }
    for (list, name) in [
        (&c.abr_kbps, "abr_kbps"),
        (&c.abr_bpp, "abr_bpp"),
        (&c.cbr_kbps, "cbr_kbps"),
        (&c.cbr_bpp, "cbr_bpp"),
    ] {
        if let Some((i, v)) = list
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v > 0.0))
        {
            return Err((
                format!("{f}.{name}[{i}]"),
                format!("must be a positive number, not {v}"),
            ));
        }
    }
    // Every point through the transcode core's own checks (ranges per encoder, presets, params).
    let field_of = |mode: RcMode, i: u32| -> String {
        match mode {
            RcMode::Abr | RcMode::Abr2 => format!(
                "{f}.{}",
                if c.abr_kbps.len() > i as usize {
                    format!("abr_kbps[{i}]")
                } else {
                    format!("abr_bpp[{}]", i as usize - c.abr_kbps.len())
                }
            ),
            RcMode::Cbr => format!(
                "{f}.{}",
                if c.cbr_kbps.len() > i as usize {
                    format!("cbr_kbps[{i}]")
                } else {
                    format!("cbr_bpp[{}]", i as usize - c.cbr_kbps.len())
                }
            ),
            RcMode::CappedCrf => format!("{f}.capped_crf[{i}]"),
            m @ (RcMode::Crf | RcMode::Qp | RcMode::TargetVmaf) => format!("{f}.{m}[{i}]"),
        }
    };
    check_targets(c, f)?;
    for (mode, i, p) in c.points_in(all) {
        // A target's CRF is searched: both ends of its range go through the checks below.
        let p = match p {
            PointSpec::TargetVmaf(_) => continue,
            p => p,
        };
        let field = match p.derived() {
            Some(_) => format!(
                "{f}.{}",
                if mode == RcMode::Cbr {
                    "cbr_from"
                } else {
                    "abr_from"
                }
            ),
            None => field_of(mode, i),
        };
        let rc = RateControl::from_spec(&p.rc(1.0e6), &field).map_err(split_err)?;
        if let Some(cmd) = &c.command {
            rdbench_transcode::external::check_template(cmd, Some(&rc), &format!("{f}.command"))
                .map_err(split_err)?;
            continue;
        }
        let pass = if rc.passes() == 2 {
            Pass::First
        } else {
            Pass::Only
        };
        let stats = std::path::PathBuf::from("/dev/null");
        let req = EncoderRequest {
            field: &field,
            codec: c.codec.as_deref().unwrap_or_default(),
            preset: c.preset.as_ref(),
            threads: Some(c.threads.unwrap_or(1)),
            rc: Some(&rc),
            params: c.params.as_deref(),
            options: c.options.as_ref(),
            gop: None,
            bit_depth: 8,
            pass,
            stats_file: Some(&stats),
        };
        encoder_config(&req).map_err(|e| {
            // The core names fields of a job spec (`config[0].crf[1].rc.value`); keep the suite's.
            let (fld, msg) = split_err(e);
            let fld = if fld.starts_with(&field) && fld.contains(".rc") {
                field.clone()
            } else {
                fld.replace(&format!("{field}."), &format!("{f}."))
            };
            (fld, msg)
        })?;
    }
    Ok(())
}

/// `[ladder]`: its configuration exists and names a libavcodec encoder, its CRFs pass the
/// core's encoder rules, its rung choice, scaler and reference are usable.
fn check_ladder(
    l: &LadderSpec,
    configs: &[ConfigSpec],
    metrics: &[Metric],
    suite_path: Option<&Path>,
) -> Result<(), (String, String)> {
    let Some(c) = configs.iter().find(|c| c.name == l.config) else {
        return Err((
            "ladder.config".into(),
            format!(
                "`{}` is not a configuration (have: {})",
                l.config,
                configs
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let Some(codec) = &c.codec else {
        return Err((
            "ladder.config".into(),
            format!(
                "`{}` runs an encoder program; a ladder needs a libavcodec `codec`",
                l.config
            ),
        ));
    };
    if !metrics.contains(&Metric::Vmaf) {
        return Err((
            "ladder".into(),
            "needs `vmaf` among the suite's metrics".into(),
        ));
    }
    if l.crf.is_empty() {
        return Err(("ladder.crf".into(), "names no CRF".into()));
    }
    if let Some(h) = &l.heights {
        if h.is_empty() || h.iter().any(|&x| x < 2) {
            return Err((
                "ladder.heights".into(),
                format!("must be heights of 2 or more, not {h:?}"),
            ));
        }
    }
    if let Some(b) = &l.bitrates {
        if b.is_empty() || b.iter().any(|k| !(k.is_finite() && *k > 0.0)) {
            return Err((
                "ladder.bitrates".into(),
                format!("must be positive kbit/s, not {b:?}"),
            ));
        }
        if l.quality_step.is_some() {
            return Err((
                "ladder.quality_step".into(),
                "give either `bitrates` or `quality_step`, not both".into(),
            ));
        }
    }
    if let Some(q) = l.quality_step {
        if !(q.is_finite() && q > 0.0) {
            return Err((
                "ladder.quality_step".into(),
                format!("must be positive, not {q}"),
            ));
        }
    }
    if l.max_rungs == Some(0) {
        return Err(("ladder.max_rungs".into(), "must be at least 1".into()));
    }
    if let Some(sc) = &l.scale {
        if rdbench_transcode::filter::ScaleAlgorithm::parse(sc).is_none() {
            return Err((
                "ladder.scale".into(),
                format!("unknown scaler `{sc}` (bicubic, bilinear, lanczos, spline, area, neighbor, gauss)"),
            ));
        }
    }
    if let Some(r) = &l.reference {
        if r != "hls" && r != "none" {
            let p = ladder_reference_path(r, suite_path);
            if !p.is_file() {
                return Err((
                    "ladder.reference".into(),
                    format!("`{}` is not `hls`, `none` or a templates file", p.display()),
                ));
            }
        }
    }
    let (name, points) = match &l.qp {
        Some(qp) => ("qp", qp),
        None => ("crf", &l.crf),
    };
    if points.is_empty() {
        return Err((
            format!("ladder.{name}"),
            format!("names no {}", name.to_uppercase()),
        ));
    }
    for (i, v) in points.iter().enumerate() {
        let field = format!("ladder.{name}[{i}]");
        let spec = match l.qp {
            Some(_) => RcSpec::Qp { value: *v },
            None => RcSpec::Crf { value: *v },
        };
        let rc = RateControl::from_spec(&spec, &field).map_err(split_err)?;
        let stats = std::path::PathBuf::from("/dev/null");
        let req = EncoderRequest {
            field: &field,
            codec,
            preset: c.preset.as_ref(),
            threads: Some(1),
            rc: Some(&rc),
            params: c.params.as_deref(),
            options: c.options.as_ref(),
            gop: None,
            bit_depth: 8,
            pass: Pass::Only,
            stats_file: Some(&stats),
        };
        encoder_config(&req).map_err(|e| {
            let (fld, msg) = split_err(e);
            (
                if fld.contains(".rc") || fld.is_empty() {
                    field.clone()
                } else {
                    fld
                },
                msg,
            )
        })?;
    }
    Ok(())
}

/// A `[ladder]` reference file, relative to the suite file's folder.
pub fn ladder_reference_path(reference: &str, suite_path: Option<&Path>) -> PathBuf {
    let p = Path::new(reference);
    match suite_path.and_then(Path::parent) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// The `target_vmaf` points and their search settings; both ends of the CRF range pass the
/// core's encoder rules.
fn check_targets(c: &ConfigSpec, f: &str) -> Result<(), (String, String)> {
    if c.target_vmaf.is_empty() {
        for (name, set) in [
            ("target_crf_range", c.target_crf_range.is_some()),
            ("target_tolerance", c.target_tolerance.is_some()),
            ("target_max_probes", c.target_max_probes.is_some()),
        ] {
            if set {
                return Err((
                    format!("{f}.{name}"),
                    "only applies to `target_vmaf` points".into(),
                ));
            }
        }
        return Ok(());
    }
    for (i, v) in c.target_vmaf.iter().enumerate() {
        if !(v.is_finite() && *v > 0.0 && *v <= 100.0) {
            return Err((
                format!("{f}.target_vmaf[{i}]"),
                format!("VMAF {v} is outside the metric's range (0, 100]"),
            ));
        }
        if c.target_vmaf[..i].contains(v) {
            return Err((
                format!("{f}.target_vmaf[{i}]"),
                format!("VMAF {v} is listed twice"),
            ));
        }
    }
    if let Some(t) = c.target_tolerance {
        if !(t.is_finite() && t > 0.0) {
            return Err((
                format!("{f}.target_tolerance"),
                format!("must be positive, not {t}"),
            ));
        }
    }
    if c.target_max_probes == Some(0) {
        return Err((
            format!("{f}.target_max_probes"),
            "must be at least 1".into(),
        ));
    }
    let Some((lo, hi, _)) = c.target_range(8) else {
        return Err((
            format!("{f}.target_crf_range"),
            "missing: rdbench does not know this encoder's CRF range; give `[low, high]`".into(),
        ));
    };
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err((
            format!("{f}.target_crf_range"),
            format!("[{lo}, {hi}] is not a range (the low end must be below the high end)"),
        ));
    }
    let field = format!("{f}.target_crf_range");
    for crf in [lo, hi] {
        let rc = RateControl::from_spec(&RcSpec::Crf { value: crf }, &field).map_err(split_err)?;
        if let Some(cmd) = &c.command {
            rdbench_transcode::external::check_template(cmd, Some(&rc), &format!("{f}.command"))
                .map_err(split_err)?;
            continue;
        }
        let stats = std::path::PathBuf::from("/dev/null");
        let req = EncoderRequest {
            field: &field,
            codec: c.codec.as_deref().unwrap_or_default(),
            preset: c.preset.as_ref(),
            threads: Some(c.threads.unwrap_or(1)),
            rc: Some(&rc),
            params: c.params.as_deref(),
            options: c.options.as_ref(),
            gop: None,
            bit_depth: 8,
            pass: Pass::Only,
            stats_file: Some(&stats),
        };
        encoder_config(&req).map_err(|e| {
            let (fld, msg) = split_err(e);
            (
                if fld.contains(".rc") || fld.is_empty() {
                    field.clone()
                } else {
                    fld
                },
                msg,
            )
        })?;
    }
    Ok(())
}

fn split_err(e: rdbench_transcode::Error) -> (String, String) {
    match e {
        rdbench_transcode::Error::Spec { field, message } => (field, message),
        other => (String::new(), other.to_string()),
    }
}

fn ffmpeg_encoder_missing(name: &str) -> bool {
    rdbench_transcode::init();
    !rdbench_transcode::media::encoder_exists(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_suite_is_valid_and_has_the_promised_grid() {
        let s = Suite::default_suite();
        assert_eq!(s.spec.anchor, "x264");
        assert_eq!(s.spec.configs.len(), 3);
        for c in &s.spec.configs {
            let pts = c.points_in(&s.spec.configs);
            assert!(c.abr_from.as_deref() == Some("x264:crf"), "{}", c.name);
            assert_eq!(
                pts.iter().filter(|p| p.0 == RcMode::Crf).count(),
                4,
                "{}",
                c.name
            );
            assert_eq!(
                pts.iter().filter(|p| p.0 == RcMode::Abr).count(),
                4,
                "{}",
                c.name
            );
        }
        assert_eq!(s.metrics, vec![Metric::Vmaf, Metric::Psnr, Metric::Ssim]);
    }

    fn err(text: &str) -> String {
        Suite::parse(text, Some(Path::new("s.toml")))
            .unwrap_err()
            .to_string()
    }

    const HEAD: &str = "name = \"t\"\ncorpora = [\"quick\"]\nanchor = \"a\"\njobs = 1\n";

    #[test]
    fn target_vmaf_points_are_checked_before_anything_runs() {
        let cfg = |body: &str| format!("{HEAD}[[config]]\nname = \"a\"\n{body}");
        let ok = Suite::parse(&cfg("codec = \"libx264\"\ntarget_vmaf = [85, 93]\n"), None).unwrap();
        let pts = ok.spec.configs[0].points_in(&ok.spec.configs);
        assert_eq!(
            pts.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(RcMode::TargetVmaf, 0), (RcMode::TargetVmaf, 1)]
        );
        assert_eq!(ok.spec.configs[0].target_range(8), Some((0.0, 51.0, 0.25)));
        assert_eq!(
            err(&cfg("codec = \"libx264\"\ntarget_vmaf = [85, 120]\n")),
            "s.toml: config[0].target_vmaf[1]: VMAF 120 is outside the metric's range (0, 100]"
        );
        assert_eq!(
            err(&cfg("codec = \"libx264\"\ntarget_vmaf = [85, 85]\n")),
            "s.toml: config[0].target_vmaf[1]: VMAF 85 is listed twice"
        );
        assert_eq!(
            err(&cfg(
                "codec = \"libx264\"\ncrf = [23]\ntarget_tolerance = 1\n"
            )),
            "s.toml: config[0].target_tolerance: only applies to `target_vmaf` points"
        );
        assert_eq!(
            err(&cfg(
                "codec = \"libx264\"\ntarget_vmaf = [90]\ntarget_crf_range = [10, 70]\n"
            )),
            "s.toml: config[0].target_crf_range: crf 70 is out of range for libx264 (0-51)"
        );
        assert_eq!(
            err(&cfg(
                "command = [\"x264\", \"--crf\", \"{crf}\", \"-o\", \"{output}\", \"{input}\"]\noutput_format = \"h264\"\ntarget_vmaf = [90]\n"
            )),
            "s.toml: config[0].target_crf_range: missing: rdbench does not know this encoder's CRF range; give `[low, high]`"
        );
        assert_eq!(
            err(&format!(
                "name = \"t\"\ncorpora = [\"quick\"]\nanchor = \"a\"\nmetrics = [\"psnr\"]\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ntarget_vmaf = [90]\n"
            )),
            "s.toml: config[0].target_vmaf: needs `vmaf` among the suite's metrics"
        );
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        assert_eq!(
            err(&format!(
                "{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23, 99]\n"
            )),
            "s.toml: config[0].crf[1]: crf 99 is out of range for libx264 (0-51)"
        );
        let e = err(&format!(
            "{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncfr = [23]\n"
        ));
        assert!(
            e.starts_with("s.toml: line 8 column 1: unknown field `cfr`"),
            "{e}"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[[config]]\nname = \"a\"\ncodec = \"libnope\"\ncrf = [23]\n"
            )),
            "s.toml: config[0].codec: unknown encoder `libnope` (not in this FFmpeg build)"
        );
        assert_eq!(
            err("name = \"t\"\ncorpora = [\"quick\"]\nanchor = \"zz\"\njobs = 1\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23]\n"),
            "s.toml: anchor: `zz` is not a configuration (have: a)"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\nabr_bpp = [0.1, -1]\n"
            )),
            "s.toml: config[0].abr_bpp[1]: must be a positive number, not -1"
        );
        assert_eq!(
            err("name = \"t\"\ncorpora = [\"quick\"]\nanchor = \"a\"\njobs = 0\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23]\n"),
            "s.toml: jobs: must be at least 1"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}container = \"m3u8\"\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23]\n"
            )),
            "s.toml: container: `m3u8` cannot hold a benchmark encode (mkv, mp4, mov, webm, ts, ivf, h264, hevc)"
        );
    }

    #[test]
    fn more_jobs_than_cores_are_clamped_with_a_note_never_refused() {
        let text = format!(
            "{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\nthreads = 2\ncrf = [23]\n"
        )
        .replace("jobs = 1", "jobs = 4");
        let s = Suite::parse(&text, None).unwrap();
        let (n, note) = s.jobs(2);
        assert_eq!(n, 1);
        assert_eq!(
            note.unwrap(),
            "the suite asks for 4 jobs x 2 encoder threads, more than this machine's 2 cores: running 1 at a time (oversubscribe = true keeps 4)"
        );
        assert_eq!(s.jobs(8), (4, None));
        // The embedded default suite loads on a one-core host.
        assert_eq!(Suite::default_suite().jobs(1).0, 1);
    }

    #[test]
    fn the_design_leaves_out_the_settings_under_test() {
        let a = Suite::parse(&format!("{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\npreset = \"medium\"\ncrf = [23, 30]\n"), None).unwrap();
        let b = Suite::parse(&format!("{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\nparams = \"ref=1\"\ncrf = [23, 30]\n"), None).unwrap();
        let c = Suite::parse(
            &format!("{HEAD}[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23, 31]\n"),
            None,
        )
        .unwrap();
        assert_eq!(a.design(), b.design());
        assert_ne!(a.design(), c.design());
        assert_eq!(
            a.design()["configs"]["a"]["crf"],
            serde_json::json!([23.0, 30.0])
        );
    }

    #[test]
    fn encoder_programs_are_checked_like_encoders() {
        let cfg = |body: &str| format!("{HEAD}[[config]]\nname = \"a\"\n{body}");
        let ok = cfg("command = [\"x264\", \"--crf\", \"{crf}\", \"-o\", \"{output}\", \"{input}\"]\noutput_format = \"h264\"\ncrf = [23]\n");
        let s = Suite::parse(&ok, None).unwrap();
        assert_eq!(s.spec.configs[0].encoder_name(), "external:x264");
        assert!(s.spec.configs[0].external().is_some());
        assert_eq!(
            err(&cfg("command = [\"x264\", \"-o\", \"{output}\", \"{input}\"]\noutput_format = \"h264\"\ncrf = [23]\n")),
            "s.toml: config[0].command: rate control crf needs a `{crf}` placeholder in the command"
        );
        assert_eq!(
            err(&cfg("command = [\"x264\", \"--crf\", \"{crf}\", \"-o\", \"{output}\", \"{input}\"]\ncrf = [23]\n")),
            "s.toml: config[0].output_format: missing: the bitstream the program writes (ivf, obu, h264, hevc, mkv, webm, mp4)"
        );
        assert_eq!(
            err(&cfg("codec = \"libx264\"\ncommand = [\"x264\"]\ncrf = [23]\n")),
            "s.toml: config[0].command: a configuration names either a libavcodec `codec` or an encoder program `command`, not both"
        );
        assert_eq!(
            err(&cfg("command = [\"x264\", \"--crf\", \"{crf}\", \"-o\", \"{output}\", \"{input}\"]\noutput_format = \"h264\"\npreset = \"slow\"\ncrf = [23]\n")),
            "s.toml: config[0].preset: does not apply to an encoder program: put its settings in `command`"
        );
        assert_eq!(
            err(&cfg("crf = [23]\n")),
            "s.toml: config[0]: names no encoder: give `codec` (a libavcodec encoder) or `command` (an encoder program)"
        );
        assert_eq!(
            err(&cfg(
                "codec = \"libx264\"\noutput_format = \"h264\"\ncrf = [23]\n"
            )),
            "s.toml: config[0].output_format: only applies to an encoder program (`command`)"
        );
    }

    #[test]
    fn bitrate_points_scale_with_the_pixel_rate() {
        let p = PointSpec::Abr {
            kbps: None,
            bpp: Some(0.04),
            from: None,
            passes: 1,
        };
        assert_eq!(
            p.rc(640.0 * 360.0 * 30.0),
            RcSpec::Abr {
                bitrate_kbps: 276.5,
                passes: Some(1)
            }
        );
        let c = PointSpec::Cbr {
            kbps: Some(1000.0),
            bpp: None,
            from: None,
            buffer_s: 2.0,
        };
        assert_eq!(
            c.rc(1.0),
            RcSpec::Cbr {
                bitrate_kbps: 1000.0,
                bufsize_kbits: Some(2000.0)
            }
        );
    }
}
