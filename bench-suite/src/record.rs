//! The records a benchmark run writes: one [`EncodeRecord`] per encode (a row of the results
//! table), [`FrameRecord`]s per encoded frame, and the run's [`Summary`]. Reports read these
//! types; their field names are the column names of `encodes.csv`/`encodes.parquet` and
//! `frames.csv`/`frames.parquet`.

use serde::{Deserialize, Serialize};

/// One encode of one sequence at one rate point by one configuration, scored.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EncodeRecord {
    /// The run (folder name).
    pub run_id: String,
    /// Git revision of rdbench that ran it.
    pub git_revision: String,
    /// Host name.
    pub host: String,
    /// Stable id of the job: sequence/config/rc_mode/point/repetition.
    pub job_id: String,
    /// Content hash keying the cache (source + encoder configuration + encoder version).
    pub cache_key: String,
    /// ok or failed.
    pub status: String,
    /// The error of a failed job.
    pub error: Option<String>,
    /// Corpus name.
    pub corpus: String,
    /// Sequence id.
    pub sequence: String,
    /// CTC-style class (A1, B, C, ..., F) or the user's own.
    pub class: String,
    /// Configuration name from the suite.
    pub config: String,
    /// Encoder name.
    pub codec: String,
    /// Encoder library version (e.g. "x264 0.164.3095").
    pub encoder_version: String,
    /// Preset.
    pub preset: String,
    /// Encoder-specific parameters.
    pub params: String,
    /// Encoder threads (0: automatic).
    pub threads: u32,
    /// crf, qp, abr, abr2 (two-pass), cbr, capped_crf.
    pub rc_mode: String,
    /// CRF/QP value, or target kbit/s for bitrate modes.
    pub rc_value: f64,
    /// Position of this rate point in its configuration's list for the mode (0 = first listed).
    pub rc_point: u32,
    /// Target bitrate (abr, cbr).
    pub target_kbps: Option<f64>,
    /// VBV maximum rate (cbr, capped_crf).
    pub maxrate_kbps: Option<f64>,
    /// VBV buffer (cbr, capped_crf).
    pub bufsize_kbits: Option<f64>,
    /// Repetition index (timing repeats).
    pub repetition: u32,
    /// Encoded width.
    pub width: u32,
    /// Encoded height.
    pub height: u32,
    /// Frames encoded.
    pub frames: u64,
    /// Frame rate.
    pub fps: f64,
    /// Encoded video bytes.
    pub bytes: u64,
    /// Video bitrate in kbit/s.
    pub bitrate_kbps: f64,
    /// (actual - target) / target in percent, for bitrate modes.
    pub bitrate_error_pct: Option<f64>,
    /// Highest bitrate over any 1 s window.
    pub peak_1s_kbps: f64,
    /// VBV violations (cbr, capped_crf; see the metrics crate's rate-control rules).
    pub vbv_violations: Option<u64>,
    /// Encoder wall seconds (its own busy time).
    pub encode_wall_s: f64,
    /// Encoder CPU seconds (its thread's share plus its library's threads).
    pub encode_cpu_s: f64,
    /// Frames per second of encoder wall time.
    pub encode_fps: f64,
    /// Seconds decoding the encode for scoring.
    pub decode_wall_s: f64,
    /// Seconds scoring (all metrics).
    pub score_wall_s: f64,
    /// CPU seconds of the whole job (encode, decode, score) on its threads.
    pub job_cpu_s: f64,
    /// Spatial information of the source (ITU-T P.910).
    pub si: Option<f64>,
    /// Temporal information of the source.
    pub ti: Option<f64>,
    /// Pooled VMAF (mean of per-frame scores).
    pub vmaf: Option<f64>,
    /// VMAF harmonic mean.
    pub vmaf_hmean: Option<f64>,
    /// VMAF 1st percentile.
    pub vmaf_p1: Option<f64>,
    /// PSNR of luma (mean of per-frame values).
    pub psnr_y: Option<f64>,
    /// PSNR of Cb.
    pub psnr_u: Option<f64>,
    /// PSNR of Cr.
    pub psnr_v: Option<f64>,
    /// Weighted YUV PSNR (6:1:1).
    pub psnr_yuv: Option<f64>,
    /// SSIM (luma, mean of per-frame values).
    pub ssim: Option<f64>,
    /// MS-SSIM (luma, mean of per-frame values).
    pub ms_ssim: Option<f64>,
    /// Whether the result came from the cache.
    pub cached: bool,
}

/// One encoded frame of one job.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct FrameRecord {
    /// The job.
    pub job_id: String,
    /// Frame index in display order.
    pub frame: u32,
    /// Presentation time in seconds.
    pub pts_s: f64,
    /// Bytes of the frame's packet.
    pub size_bytes: u32,
    /// I, P, B, or ? when the encoder did not say.
    pub pict_type: String,
    /// Keyframe.
    pub key: bool,
    /// VMAF of the frame.
    pub vmaf: Option<f64>,
    /// PSNR Y.
    pub psnr_y: Option<f64>,
    /// PSNR Cb.
    pub psnr_u: Option<f64>,
    /// PSNR Cr.
    pub psnr_v: Option<f64>,
    /// SSIM.
    pub ssim: Option<f64>,
    /// MS-SSIM.
    pub ms_ssim: Option<f64>,
}

/// BD-rate of one configuration against the anchor on one sequence and metric.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SequenceBd {
    /// Test configuration.
    pub config: String,
    /// Metric column (vmaf, psnr_y, psnr_yuv, ssim, ms_ssim...).
    pub metric: String,
    /// Rate-control mode whose points form the curve (crf, qp, abr...).
    pub rc_mode: String,
    /// Sequence id.
    pub sequence: String,
    /// Class.
    pub class: String,
    /// BD-rate in percent (negative: the test saves bits), None when undefined.
    pub bd_rate_percent: Option<f64>,
    /// BD-quality in the metric's units.
    pub bd_quality: Option<f64>,
    /// Named warnings.
    pub warnings: Vec<String>,
    /// Why the result is null.
    pub reason: Option<String>,
}

/// The mean BD-rate of a configuration over a class of sequences (or all: class "all").
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassBd {
    /// Test configuration.
    pub config: String,
    /// Metric column.
    pub metric: String,
    /// Rate-control mode.
    pub rc_mode: String,
    /// Class, or "all".
    pub class: String,
    /// Arithmetic mean of the sequences' BD-rates.
    pub bd_rate_percent: Option<f64>,
    /// Arithmetic mean of the sequences' BD-quality.
    pub bd_quality: Option<f64>,
    /// Sequences averaged.
    pub sequences: u32,
    /// Sequences skipped because their result was null.
    pub skipped: u32,
}

/// Encoding speed of a configuration at one rate point, against the anchor's same point.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SpeedPoint {
    /// Test configuration.
    pub config: String,
    /// Rate-control mode.
    pub rc_mode: String,
    /// Position in the configuration's list for the mode (0 = first listed).
    pub rc_point: u32,
    /// The configuration's value at that point.
    pub rc_value: f64,
    /// Mean bitrate over sequences at that point.
    pub bitrate_kbps: f64,
    /// Encoder CPU seconds summed over sequences (median over repetitions).
    pub encode_cpu_s: f64,
    /// Encoder wall seconds summed over sequences (median over repetitions).
    pub encode_wall_s: f64,
    /// The anchor's encoder CPU seconds at the same point.
    pub anchor_cpu_s: Option<f64>,
    /// encode_cpu_s / anchor_cpu_s (above 1: slower than the anchor).
    pub cpu_ratio: Option<f64>,
}

/// Rate-control accuracy of a configuration in one bitrate mode.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BitrateError {
    /// Configuration.
    pub config: String,
    /// abr, abr2 or cbr.
    pub rc_mode: String,
    /// Mean of |bitrate error| in percent.
    pub mean_abs_error_pct: f64,
    /// Largest |bitrate error| in percent.
    pub max_abs_error_pct: f64,
    /// Mean signed error in percent.
    pub mean_error_pct: f64,
    /// VBV violations summed over encodes.
    pub vbv_violations: u64,
    /// Encodes counted.
    pub encodes: u32,
}

/// How well the harness used the machine.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HarnessFigures {
    /// Wall seconds of the run.
    pub wall_s: f64,
    /// CPU seconds of all jobs.
    pub jobs_cpu_s: f64,
    /// Cores the run was allowed.
    pub cores: u32,
    /// wall / (jobs CPU / cores): 1.0 is a perfectly busy machine.
    pub wall_over_ideal: f64,
    /// Harness CPU (outside encoders, decoders and scorers) as a percentage of encode CPU, worst job.
    pub overhead_pct_max: f64,
    /// Same, mean over jobs.
    pub overhead_pct_mean: f64,
    /// Jobs run, cached, failed.
    pub jobs_run: u32,
    /// Jobs whose results came from the cache.
    pub jobs_cached: u32,
    /// Jobs that failed.
    pub jobs_failed: u32,
}

impl HarnessFigures {
    /// Every job of the run came from the cache, so the run timed nothing.
    pub fn all_cached(&self) -> bool {
        self.jobs_run > 0 && self.jobs_cached >= self.jobs_run
    }
}

/// `summary.json`: what a run found.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// The run.
    pub run_id: String,
    /// The anchor configuration.
    pub anchor: String,
    /// BD method (pchip, cubic, akima).
    pub method: String,
    /// Metric columns summarised.
    pub metrics: Vec<String>,
    /// Per sequence.
    pub bd_sequences: Vec<SequenceBd>,
    /// Per class and overall ("all").
    pub bd_classes: Vec<ClassBd>,
    /// Speed per rate point.
    pub speed: Vec<SpeedPoint>,
    /// Rate-control accuracy.
    pub bitrate_error: Vec<BitrateError>,
    /// Machine use.
    pub harness: HarnessFigures,
}
