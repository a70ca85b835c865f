//! `rdbench ladder INPUT`: a per-title ladder. The input is encoded at every resolution x CRF of
//! a grid through the transcode core and scored with VMAF at its own resolution; the rungs are
//! chosen on the convex hull, and `--job` writes the transcode job that ships them.

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args as ClapArgs;
use rdbench_bench_suite::per_title::{build, job_toml, LadderRequest, Reference, RungChoice};
use rdbench_reports::charts::ladder::LadderChart;
use rdbench_transcode::filter::ScaleAlgorithm;

/// Build a per-title ladder.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The input media file.
    pub input: PathBuf,
    /// libavcodec encoder.
    #[arg(long, default_value = "libx264")]
    pub codec: String,
    /// Preset.
    #[arg(long)]
    pub preset: Option<String>,
    /// Encoder parameter string.
    #[arg(long)]
    pub params: Option<String>,
    /// Heights to encode, comma-separated (default 1080,720,540,432,360,270,234 up to the input's).
    #[arg(long, value_delimiter = ',')]
    pub heights: Option<Vec<u32>>,
    /// CRFs of every resolution, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "20,24,28,32,36")]
    pub crf: Vec<f64>,
    /// QPs of every resolution (constant quantiser), comma-separated, instead of CRFs.
    #[arg(long, value_delimiter = ',')]
    pub qp: Option<Vec<f64>>,
    /// Rungs at these bitrates (kbit/s, comma-separated): the best hull point under each.
    #[arg(long, value_delimiter = ',', conflicts_with = "quality_step")]
    pub bitrates: Option<Vec<f64>>,
    /// Rungs this much VMAF apart, down from the top rung (default 6, about one JND).
    #[arg(long)]
    pub quality_step: Option<f64>,
    /// The top rung's bitrate cap in kbit/s.
    #[arg(long)]
    pub top_kbps: Option<f64>,
    /// Rungs at most (quality steps).
    #[arg(long, default_value_t = 8)]
    pub max_rungs: usize,
    /// Scaler of the upscale before scoring.
    #[arg(long, default_value = "lanczos")]
    pub scale: String,
    /// VMAF model.
    #[arg(long, default_value = "vmaf_v0.6.1")]
    pub vmaf_model: String,
    /// Concurrent encodes (default: the cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write the transcode job of the rungs here (TOML); its outputs are named after the file.
    #[arg(long, value_name = "JOB.toml")]
    pub job: Option<PathBuf>,
    /// The fixed ladder to measure the per-title ladder against: `hls` (built in), `none`, or a
    /// templates file whose `[template.NAME]` tables are its rungs (each with `height` or
    /// `width`, and `rc`).
    #[arg(long, default_value = "hls", value_name = "hls|none|T.toml")]
    pub reference: String,
    /// Draw the chart (hull, every encode, rungs, reference) to this path's `.svg` and `.png`.
    #[arg(long, value_name = "PATH")]
    pub chart: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Cache folder; default $RDBENCH_CACHE or ~/.cache/rdbench.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Neither reuse nor store encodes.
    #[arg(long)]
    pub no_cache: bool,
}

/// Runs `rdbench ladder`.
pub fn run(args: Args) -> Result<()> {
    let scale = ScaleAlgorithm::parse(&args.scale)
        .ok_or_else(|| anyhow!("--scale: unknown scaler `{}` (bicubic, bilinear, lanczos, spline, area, neighbor, gauss)", args.scale))?;
    let vmaf_model = super::vmaf_model_arg(&args.vmaf_model)?;
    let req = LadderRequest {
        input: args.input.clone(),
        codec: args.codec.clone(),
        preset: args.preset.as_deref().map(super::preset_arg),
        params: args.params.clone(),
        heights: args.heights.clone(),
        clamp_heights: false,
        points: args.qp.clone().unwrap_or_else(|| args.crf.clone()),
        qp: args.qp.is_some(),
        choice: match &args.bitrates {
            Some(b) => RungChoice::Bitrates(b.clone()),
            None => RungChoice::QualityStep(args.quality_step.unwrap_or(6.0)),
        },
        top_kbps: args.top_kbps,
        max_rungs: args.max_rungs,
        scale,
        vmaf_model,
        jobs: args.jobs,
        cache_dir: args.cache_dir.clone(),
        use_cache: !args.no_cache,
        reference: match args.reference.as_str() {
            "hls" => Reference::Hls,
            "none" => Reference::None,
            path => Reference::Templates(PathBuf::from(path)),
        },
    };
    let report = build(&req)?;
    if let Some(path) = &args.job {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ladder".into());
        let text = job_toml(&req, &report, &stem, "mp4");
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .with_context(|| format!("{}", path.display()))?;
    }
    if let Some(path) = &args.chart {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("--chart: `{}` names no file", path.display()))?;
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("--chart: creating {}", dir.display()))?;
        let chart = LadderChart::of(&report, &display_name(&report.input));
        rdbench_reports::charts::write(&chart, "Per-title ladder", &dir, &stem)
            .with_context(|| "--chart".to_string())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("grid ({} encodes; * on the hull):", report.grid.len());
    for g in &report.grid {
        let on = report.hull.iter().any(|h| h == g);
        println!(
            "  {}{:>5}p {} {:>5}  {:>9.1} kbit/s  vmaf {:6.2}",
            if on { "*" } else { " " },
            g.height,
            g.mode,
            g.value,
            g.kbps,
            g.vmaf
        );
    }
    println!("rungs:");
    for r in &report.rungs {
        println!(
            "  {}x{} {} {}  {:.1} kbit/s  vmaf {:.2}{}",
            r.encode.width,
            r.encode.height,
            r.encode.mode,
            r.encode.value,
            r.encode.kbps,
            r.encode.vmaf,
            r.target_kbps
                .map(|t| format!("  (target {t} kbit/s)"))
                .unwrap_or_default()
        );
    }
    if let Some(r) = &report.reference {
        println!("reference ladder ({}):", r.source);
        for e in &r.rungs {
            println!(
                "  {:>12}  {}x{}  {:>9.1} kbit/s  vmaf {:6.2}",
                e.name, e.width, e.height, e.kbps, e.vmaf
            );
        }
        for s in &r.skipped {
            println!("  left out: {s}");
        }
        for (what, bd) in [("hull", &r.bd_hull), ("rungs", &r.bd_rungs)] {
            match bd.bd_rate_percent {
                Some(v) => println!(
                    "BD-rate (VMAF) of the per-title {what} against the reference: {v:+.2}%{}",
                    if bd.warnings.is_empty() {
                        String::new()
                    } else {
                        let w: Vec<&str> = bd.warnings.iter().map(|w| w.as_str()).collect();
                        format!(" ({})", w.join(", "))
                    }
                ),
                None => println!(
                    "BD-rate (VMAF) of the per-title {what} against the reference: none ({})",
                    bd.reason.as_deref().unwrap_or("undefined")
                ),
            }
        }
    }
    if let Some(p) = &args.job {
        println!("job: {}", p.display());
    }
    if let Some(p) = &args.chart {
        println!(
            "chart: {} and {}",
            p.with_extension("svg").display(),
            p.with_extension("png").display()
        );
    }
    Ok(())
}

fn display_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
