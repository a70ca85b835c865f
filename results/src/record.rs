//! The records a benchmark run writes: one [`EncodeRecord`] per encode (a row of the `encodes`
//! table) and one [`FrameRecord`] per encoded frame (a row of `frames`). Their field names are
//! the tables' column names.

use serde::{Deserialize, Serialize};

use crate::types::{JobStatus, RcMode, RcPoint};

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
    /// How the job ended.
    pub status: JobStatus,
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
    /// The rate-control mode.
    pub rc_mode: RcMode,
    /// CRF/QP value, or target kbit/s for bitrate modes.
    pub rc_value: f64,
    /// Position of this rate point in its configuration's list for the mode (0 = first listed).
    pub rc_point: u32,
    /// Target bitrate (abr, cbr).
    pub target_kbps: Option<f64>,
    /// Which code computed VMAF: `native` (rdbench's kernels), or `libvmaf (reason)`.
    #[serde(default)]
    pub vmaf_path: Option<String>,
    /// The VMAF target of a `target_vmaf` point (its `rc_value` is the CRF the search found).
    #[serde(default)]
    pub target_vmaf: Option<f64>,
    /// Encodes the search of a `target_vmaf` point scored (the answer's included).
    #[serde(default)]
    pub search_probes: Option<u32>,
    /// CPU seconds of the whole search of a `target_vmaf` point (every probe's encode, decode
    /// and scoring, cached probes counted at what they cost when they were made).
    #[serde(default)]
    pub search_cpu_s: Option<f64>,
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
    /// For a bitrate mode that fell well short of its target: whether the encoder could spend
    /// that much at all (false when even its lowest quantiser stays below the target, so the
    /// miss is the content's, not rate control's). None when the target was met or not probed.
    #[serde(default)]
    pub target_reachable: Option<bool>,
    /// The bitrate of that lowest-quantiser probe encode, kbit/s.
    #[serde(default)]
    pub reachable_kbps: Option<f64>,
    /// Highest bitrate over any 1 s window.
    pub peak_1s_kbps: f64,
    /// VBV violations (cbr, capped_crf; see the metrics crate's rate-control rules).
    pub vbv_violations: Option<u64>,
    /// Encoder wall seconds (its own busy time).
    pub encode_wall_s: f64,
    /// Encoder CPU seconds (its thread's share plus its library's threads).
    pub encode_cpu_s: f64,
    /// User-space instructions the encoder's threads retired (hardware counters), when the
    /// kernel gives them: a speed figure without timing noise.
    #[serde(default)]
    pub encode_instructions: Option<u64>,
    /// Why `encode_instructions` is missing (no hardware counters here, the encode came from a
    /// cache without them, ...).
    #[serde(default)]
    pub instructions_note: Option<String>,
    /// Frames per second of encoder wall time.
    pub encode_fps: f64,
    /// Wall seconds the scoring decoder of the encode ran (it waits on the scorer, so this is
    /// not the decoder's speed: see `decode_cpu_s`).
    pub decode_wall_s: f64,
    /// CPU seconds of the decoder of the encode alone (DecT): how expensive the bitstream is to
    /// decode.
    #[serde(default)]
    pub decode_cpu_s: f64,
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
    /// MS-SSIM in dB, `-10 log10(1 - MS-SSIM)` of the pooled MS-SSIM.
    #[serde(default)]
    pub ms_ssim_db: Option<f64>,
    /// APSNR of luma: PSNR of the mean squared error over the sequence (dB).
    #[serde(default)]
    pub apsnr_y: Option<f64>,
    /// APSNR of Cb.
    #[serde(default)]
    pub apsnr_u: Option<f64>,
    /// APSNR of Cr.
    #[serde(default)]
    pub apsnr_v: Option<f64>,
    /// XPSNR of luma, pooled as FFmpeg's `xpsnr` filter pools it (dB).
    #[serde(default)]
    pub xpsnr_y: Option<f64>,
    /// XPSNR of Cb.
    #[serde(default)]
    pub xpsnr_u: Option<f64>,
    /// XPSNR of Cr.
    #[serde(default)]
    pub xpsnr_v: Option<f64>,
    /// XPSNR weighted 6:1:1 over Y, Cb and Cr (dB).
    #[serde(default)]
    pub xpsnr_yuv: Option<f64>,
    /// SSIMULACRA2, mean of the per-frame scores.
    #[serde(default)]
    pub ssimulacra2: Option<f64>,
    /// CAMBI (banding, lower is better), mean of the per-frame scores.
    #[serde(default)]
    pub cambi: Option<f64>,
    /// CIEDE2000 as libvmaf scores it (`45 - 20 log10(mean dE00)`), mean of the per-frame scores.
    #[serde(default)]
    pub ciede2000: Option<f64>,
    /// PSNR-HVS of luma (dB), mean of the per-frame values.
    #[serde(default)]
    pub psnr_hvs_y: Option<f64>,
    /// PSNR-HVS of Y'CbCr combined as libvmaf combines it (dB).
    #[serde(default)]
    pub psnr_hvs: Option<f64>,
    /// Whether the result came from the cache.
    pub cached: bool,
}

impl EncodeRecord {
    /// The job's rate point.
    pub fn point(&self) -> RcPoint {
        RcPoint {
            mode: self.rc_mode,
            index: self.rc_point,
        }
    }

    /// Whether the job finished with scores.
    pub fn is_ok(&self) -> bool {
        self.status.is_ok()
    }
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
    /// XPSNR-Y.
    #[serde(default)]
    pub xpsnr_y: Option<f64>,
    /// SSIMULACRA2.
    #[serde(default)]
    pub ssimulacra2: Option<f64>,
    /// CAMBI.
    #[serde(default)]
    pub cambi: Option<f64>,
    /// CIEDE2000.
    #[serde(default)]
    pub ciede2000: Option<f64>,
    /// PSNR-HVS.
    #[serde(default)]
    pub psnr_hvs: Option<f64>,
}
