//! `rdbench crf-search INPUT`: the CRF at which an encoder reaches a target score on an input,
//! from sample encodes through the transcode core; `--encode OUT` then encodes the whole input
//! at that CRF and measures it against the prediction.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args as ClapArgs;
use rdbench_bench_suite::crf_search::{
    crf_search, Encoder, ProbeReport, SearchReport, SearchRequest, Stat, TargetMetric,
};

/// Find the CRF that reaches a quality target.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The input media file.
    pub input: PathBuf,
    /// libavcodec encoder (libx264, libx265, libsvtav1, libaom-av1, libvpx-vp9).
    #[arg(long, required_unless_present = "command", conflicts_with = "command")]
    pub codec: Option<String>,
    /// An encoder program instead, as its arguments separated by spaces, with placeholders:
    /// "x264 --preset veryfast --crf {crf} --threads {threads} -o {output} {input}".
    #[arg(long, value_name = "ARGS")]
    pub command: Option<String>,
    /// The command printing the program's version (part of the probe cache key).
    #[arg(long, value_name = "ARGS", requires = "command")]
    pub command_version: Option<String>,
    /// The bitstream the program writes: ivf, obu, h264, hevc, mkv, webm, mp4.
    #[arg(long, requires = "command")]
    pub output_format: Option<String>,
    /// The CRF grid's step (default: 0.25 for x264 and x265, 1 otherwise).
    #[arg(long)]
    pub crf_step: Option<f64>,
    /// Preset (a name for x264/x265, a number for the AV1 and VP9 encoders).
    #[arg(long)]
    pub preset: Option<String>,
    /// Encoder parameter string (x264-params, x265-params, svtav1-params).
    #[arg(long)]
    pub params: Option<String>,
    /// Encoder threads.
    #[arg(long, default_value_t = 1)]
    pub threads: u32,
    /// The target: METRIC=VALUE with vmaf, psnr (luma, dB), ssim, ms-ssim, xpsnr (luma, dB) or
    /// ssimulacra2.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub target: String,
    /// The pooled figure held: mean, hmean, p1, p5 or min.
    #[arg(long, default_value = "mean")]
    pub stat: String,
    /// Lowest CRF tried (default: the encoder's lowest).
    #[arg(long)]
    pub min_crf: Option<f64>,
    /// Highest CRF tried (default: the encoder's highest).
    #[arg(long)]
    pub max_crf: Option<f64>,
    /// A probe scoring within this much above the target is the answer (default: 0.4 VMAF,
    /// 0.2 dB PSNR, 0.002 SSIM).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Probes at most.
    #[arg(long, default_value_t = 10)]
    pub max_probes: usize,
    /// Refuse an answer whose predicted size is above this percentage of the input file.
    #[arg(long, default_value_t = 80.0)]
    pub max_encoded_percent: f64,
    /// Samples (default: one per 12 minutes; the whole input when they would cover half of it).
    #[arg(long)]
    pub samples: Option<u32>,
    /// Seconds per sample.
    #[arg(long, default_value_t = 20.0)]
    pub sample_seconds: f64,
    /// VMAF model: vmaf_v0.6.1, vmaf_v0.6.1neg, vmaf_4k_v0.6.1.
    #[arg(long, default_value = "vmaf_v0.6.1")]
    pub vmaf_model: String,
    /// Encode the whole input at the answer into this file and report its measured score.
    #[arg(long, value_name = "OUT")]
    pub encode: Option<PathBuf>,
    /// Print the search as JSON.
    #[arg(long)]
    pub json: bool,
    /// Cache folder (decoded input, samples, probes); default $RDBENCH_CACHE or ~/.cache/rdbench.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Neither reuse nor store probes.
    #[arg(long)]
    pub no_cache: bool,
    /// Resample a variable-frame-rate input to its nominal rate instead of refusing it.
    #[arg(long)]
    pub cfr: bool,
}

fn parse_target(text: &str) -> Result<(TargetMetric, f64)> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("--target: `{text}` is not METRIC=VALUE (e.g. vmaf=93)"))?;
    let metric = TargetMetric::parse(name).ok_or_else(|| {
        anyhow!("--target: unknown metric `{name}` (vmaf, psnr, ssim, ms-ssim, xpsnr, ssimulacra2)")
    })?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| anyhow!("--target: `{value}` is not a number"))?;
    Ok((metric, value))
}

fn probe_line(p: &ProbeReport, metric: &str) -> String {
    format!(
        "crf {:>6.2}  {metric} {:>8.3}  predicted {:>10} bytes ({:5.1}% of the input)  encode {:6.1} s{}",
        p.crf,
        p.score,
        p.predicted_bytes,
        p.predicted_percent,
        p.predicted_encode_s,
        if p.cached { "  (cached)" } else { "" }
    )
}

/// Runs `rdbench crf-search`.
pub fn run(args: Args) -> Result<()> {
    let (metric, target) = parse_target(&args.target)?;
    let stat = Stat::parse(&args.stat)
        .ok_or_else(|| anyhow!("--stat: unknown `{}` (mean, hmean, p1, p5, min)", args.stat))?;
    let vmaf_model = super::vmaf_model_arg(&args.vmaf_model)?;
    let preset = args.preset.as_deref().map(super::preset_arg);
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let encoder = match (&args.codec, &args.command) {
        (Some(c), _) => Encoder::Codec(c.clone()),
        (None, Some(cmd)) => Encoder::Command {
            argv: words(cmd),
            version: args.command_version.as_deref().map(words),
            output_format: args.output_format.clone(),
        },
        (None, None) => unreachable!("clap requires --codec or --command"),
    };
    let req = SearchRequest {
        input: args.input.clone(),
        encoder,
        crf_step: args.crf_step,
        preset,
        params: args.params.clone(),
        threads: args.threads,
        metric,
        target,
        stat,
        min_crf: args.min_crf,
        max_crf: args.max_crf,
        tolerance: args.tolerance,
        max_probes: args.max_probes,
        max_encoded_percent: args.max_encoded_percent,
        samples: args.samples,
        sample_seconds: args.sample_seconds,
        vmaf_model,
        cache_dir: args.cache_dir.clone(),
        use_cache: !args.no_cache,
        cfr: args.cfr,
        git_revision: env!("RDBENCH_GIT_REV").to_string(),
    };
    let json = args.json;
    let name = metric.name();
    let report = crf_search(&req, args.encode.as_deref(), &mut |p| {
        if !json {
            println!("{}", probe_line(p, name));
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_answer(&report);
    }
    Ok(())
}

fn print_answer(r: &SearchReport) {
    let a = &r.answer;
    let sampled: u32 = r.samples.iter().map(|s| s.frames).sum();
    println!(
        "answer: crf {} reaches {} {} {:.3} (target {}, {} probes, stopped: {}); samples: {} of {} frames",
        a.crf,
        r.metric.name(),
        serde_json::to_value(r.stat).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        a.score,
        r.target,
        r.probes.len(),
        serde_json::to_value(r.stop).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        sampled,
        r.frames
    );
    println!(
        "predicted: {} bytes ({:.1}% of the input), encode {:.1} s",
        a.predicted_bytes, a.predicted_percent, a.predicted_encode_s
    );
    if let Some(f) = &r.full {
        println!(
            "full encode: {}: {} {:.3} (predicted {:.3}), {} bytes ({:.1}% of the input; predicted {}), encode {:.1} s",
            f.path.display(),
            r.metric.name(),
            f.score,
            a.score,
            f.bytes,
            f.percent,
            a.predicted_bytes,
            f.encode_s
        );
    }
}
