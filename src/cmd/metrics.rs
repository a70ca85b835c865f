//! `rdbench metrics REF DIST...`: scores distorted files against their reference (VMAF, PSNR,
//! SSIM, MS-SSIM and the rest), pooled and per frame. Several distorted files are scored
//! together: the reference is decoded once per group and its share of the work done once
//! ([`compare_group`]), with one group per thread.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use rdbench_bench_suite::align::Align;
use rdbench_bench_suite::compare::{
    compare, compare_group, CompareError, CompareOptions, Comparison, Metric,
};
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_transcode::filter::ScaleAlgorithm;

/// Score distorted videos against their reference (several files: scored together, one group per
/// thread).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The reference (source) file.
    pub reference: PathBuf,
    /// The distorted (encoded) files, one or more; each is scaled to the reference size when it
    /// differs.
    #[arg(required = true, num_args = 1..)]
    pub distorted: Vec<PathBuf>,
    /// Metrics to compute, comma-separated: vmaf, psnr, ssim, ms-ssim, ms-ssim-db, apsnr, xpsnr,
    /// ssimulacra2, cambi, ciede2000, psnr-hvs.
    #[arg(long, default_value = "vmaf,psnr,ssim", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// VMAF model: vmaf_v0.6.1, vmaf_v0.6.1neg or vmaf_4k_v0.6.1.
    #[arg(long, default_value = "vmaf_v0.6.1")]
    pub model: String,
    /// Extra libvmaf features by name (cambi, ciede, psnr_hvs...); repeatable.
    #[arg(long = "feature", value_name = "NAME")]
    pub features: Vec<String>,
    /// libvmaf threads (default: all cores, as many as fit in --max-memory).
    #[arg(long)]
    pub threads: Option<u32>,
    /// Memory budget in MiB that the default thread count respects (each libvmaf thread holds
    /// its own extractor buffers: about 400 MiB at 4K).
    #[arg(
        long = "max-memory",
        alias = "max-memory-mib",
        value_name = "MIB",
        default_value_t = 1024
    )]
    pub max_memory_mib: u32,
    /// Score every Nth frame with VMAF.
    #[arg(long, default_value_t = 1)]
    pub subsample: u32,
    /// Compare only the first N frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Scaling algorithm for a distorted file of another size.
    #[arg(long, default_value = "bicubic")]
    pub scale: String,
    /// Write per-frame values as CSV (with several distorted files, a first column names the
    /// file).
    #[arg(long, value_name = "FILE.csv")]
    pub per_frame: Option<PathBuf>,
    /// Print one JSON object (with several distorted files, an array of them).
    #[arg(long)]
    pub json: bool,
    /// Skip N frames at the start of the distorted file (negative: of the reference) instead of
    /// searching the offset; frames are still paired by timestamps.
    #[arg(
        long,
        value_name = "N",
        allow_hyphen_values = true,
        conflicts_with = "no_align"
    )]
    pub offset: Option<i64>,
    /// Pair frame i with frame i and refuse files of different frame counts.
    #[arg(long)]
    pub no_align: bool,
    /// Compute VMAF with libvmaf alone, without rdbench's own kernels (they give the same
    /// values where they apply; this is the oracle path).
    #[arg(long)]
    pub libvmaf: bool,
    /// Frames searched either side for the offset that best matches the reference.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub align_window: u32,
}

/// The most libvmaf threads (up to `cores`) whose memory fits `budget` bytes for pictures of
/// `pixels` luma samples. Measured with libvmaf 2.3.1 and rdbench's decoders on 8-bit 4:2:0: about
/// 91 bytes per pixel for the decoders, queues and the first libvmaf thread, 48 for each further
/// thread (753 MiB with one thread at 4K, 1154 MiB with two).
fn vmaf_threads_within(budget: u64, pixels: u64, cores: u32) -> u32 {
    let base = 91 * pixels;
    let per_thread = 48 * pixels;
    if per_thread == 0 || budget <= base {
        return 1;
    }
    (1 + (budget - base) / per_thread).clamp(1, cores.max(1) as u64) as u32
}

/// Runs `rdbench metrics`.
pub fn run(args: Args) -> Result<()> {
    let mut metrics = Vec::new();
    for m in &args.metrics {
        match Metric::parse(m) {
            Some(x) if !metrics.contains(&x) => metrics.push(x),
            Some(_) => {}
            None => bail!(
                "--metrics: unknown metric `{m}` ({})",
                rdbench_bench_suite::compare::METRIC_NAMES
            ),
        }
    }
    let model: VmafModelVersion = args.model.parse().map_err(|_| {
        anyhow::anyhow!(
            "--model: unknown VMAF model `{}` (vmaf_v0.6.1, vmaf_v0.6.1neg, vmaf_4k_v0.6.1)",
            args.model
        )
    })?;
    if !args.features.is_empty() && !metrics.contains(&Metric::Vmaf) {
        bail!(
            "--feature {}: libvmaf features are computed with VMAF; add vmaf to --metrics",
            args.features.join(",")
        );
    }
    let scale = ScaleAlgorithm::parse(&args.scale)
        .with_context(|| format!("--scale: unknown algorithm `{}`", args.scale))?;
    if args.frames == Some(0) {
        bail!("--frames: must be at least 1");
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    let threads = match args.threads {
        Some(t) => t.max(1),
        None if metrics.contains(&Metric::Vmaf) => {
            let info = rdbench_transcode::probe::probe(&args.reference)?;
            let pixels = info
                .streams
                .iter()
                .find(|s| s.kind == "video")
                .map(|s| s.width.unwrap_or(0) as u64 * s.height.unwrap_or(0) as u64)
                .unwrap_or(0);
            vmaf_threads_within(args.max_memory_mib as u64 * 1024 * 1024, pixels, cores)
        }
        None => cores,
    };
    let decode_inline = threads >= 2
        && metrics.contains(&Metric::Vmaf)
        && metrics
            .iter()
            .all(|m| matches!(m, Metric::Vmaf | Metric::Psnr));
    let options = CompareOptions {
        metrics,
        vmaf_model: model,
        vmaf_features: args.features.clone(),
        // libvmaf's worker threads, as its own tool counts them: with one, extraction runs on a
        // worker while this thread prepares the next pair.
        vmaf_threads: threads.max(1),
        vmaf_subsample: args.subsample.max(1),
        frames: args.frames,
        scale,
        // Two decoded pictures in flight per file keep the decoders ahead of the scorer; more
        // only hold memory (6 MB a pair at 1080p).
        queue: 2,
        // VMAF on worker threads (and PSNR, which costs little beside it) decodes on the
        // calling thread, one frame thread per file: the scorer hands frames to its workers
        // and scores one itself only when they have three each, so decoding and scoring share
        // the cores without decoder threads competing with the workers for them. Otherwise
        // each file decodes on a thread of its own, on two frame threads with more than one
        // thread: a decoder alone on one thread competes for the cores with the scorers and
        // falls behind (a 1080p H.264 reference at CRF 8 with a 720p rung, 2 cores: 1.49 s on
        // one decoder thread, 1.45 s on two). A Y4M file read directly has no decoder.
        decoder_threads: if threads >= 2 && !decode_inline { 2 } else { 1 },
        decode_inline,
        align: match (args.no_align, args.offset) {
            (true, _) => Align::Exact,
            (false, Some(offset)) => Align::Timestamps { offset },
            (false, None) => Align::Auto {
                window: args.align_window,
            },
        },
        vmaf_native: !args.libvmaf,
    };
    if let [distorted] = args.distorted.as_slice() {
        let result = compare(&args.reference, distorted, &options)?;
        if let Some(path) = &args.per_frame {
            write_per_frame(path, &[(None, &result)])?;
        }
        if args.json {
            println!("{}", serde_json::to_string(&json_of(None, &result))?);
        } else {
            print_result(&args.reference, distorted, &result);
        }
        return Ok(());
    }
    let results = score_several(&args.reference, &args.distorted, &options, threads);
    let scored: Vec<(Option<&PathBuf>, &Comparison)> = args
        .distorted
        .iter()
        .zip(&results)
        .filter_map(|(d, r)| r.as_ref().ok().map(|c| (Some(d), c)))
        .collect();
    if let Some(path) = &args.per_frame {
        write_per_frame(path, &scored)?;
    }
    if args.json {
        let all: Vec<serde_json::Value> = args
            .distorted
            .iter()
            .zip(&results)
            .map(|(d, r)| match r {
                Ok(c) => json_of(Some(d), c),
                Err(e) => serde_json::json!({ "distorted": d, "error": failure(d, e) }),
            })
            .collect();
        println!("{}", serde_json::to_string(&all)?);
    } else {
        for (i, (d, r)) in args.distorted.iter().zip(&results).enumerate() {
            if i > 0 {
                println!();
            }
            match r {
                Ok(c) => print_result(&args.reference, d, c),
                Err(e) => println!("{}", failure(d, e)),
            }
        }
    }
    let failed: Vec<String> = args
        .distorted
        .iter()
        .zip(&results)
        .filter_map(|(d, r)| r.as_ref().err().map(|e| failure(d, e)))
        .collect();
    match failed.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one}"),
        more => bail!(
            "{} of {} files could not be scored; first: {}",
            more.len(),
            args.distorted.len(),
            more[0]
        ),
    }
}

/// One file's failure in one line, naming the file (once).
fn failure(distorted: &std::path::Path, e: &CompareError) -> String {
    let (name, text) = (distorted.display().to_string(), e.to_string());
    if text.contains(&name) {
        text
    } else {
        format!("{name}: {text}")
    }
}

/// Scores `distorted` against `reference` in at most `threads` groups run side by side, each
/// group on its own thread with VMAF computed inline, so that a group's streams share the
/// reference's work. The results come in the order of `distorted`.
fn score_several(
    reference: &std::path::Path,
    distorted: &[PathBuf],
    options: &CompareOptions,
    threads: u32,
) -> Vec<Result<Comparison, CompareError>> {
    let groups = (threads.max(1) as usize).min(distorted.len());
    let per_group = distorted.len().div_ceil(groups);
    let options = CompareOptions {
        vmaf_threads: 1,
        decode_inline: false,
        ..options.clone()
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = distorted
            .chunks(per_group)
            .map(|chunk| {
                let options = &options;
                scope.spawn(move || compare_group(reference, chunk, options))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a scoring thread panicked"))
            .collect()
    })
}

/// The JSON object of one comparison (naming the distorted file when there are several).
fn json_of(distorted: Option<&PathBuf>, result: &Comparison) -> serde_json::Value {
    let mut v = serde_json::json!({
        "frames": result.frames,
        "pooled": result.pooled,
        "alignment": result.alignment,
        "vmaf_path": result.vmaf_path,
    });
    if let Some(d) = distorted {
        v["distorted"] = serde_json::json!(d);
    }
    v
}

/// Prints one comparison as a table.
fn print_result(reference: &std::path::Path, distorted: &std::path::Path, result: &Comparison) {
    println!(
        "{} frames: {} vs {}",
        result.frames,
        distorted.display(),
        reference.display()
    );
    if !result.alignment.is_trivial() {
        println!("{}", result.alignment.describe());
    }
    if let Some(path) = &result.vmaf_path {
        println!("VMAF computed by: {path}");
    }
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "metric", "mean", "hmean", "min", "p5", "stddev", "global"
    );
    for (name, e) in &result.pooled {
        let p = &e.pooled;
        let g = e.global.map(|g| format!("{g:.4}")).unwrap_or_default();
        println!(
            "{name:<16} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {g:>10}",
            p.mean, p.harmonic_mean, p.min, p.p5, p.stddev
        );
    }
}

/// Writes the per-frame values of `results` as CSV to `path`: a row per frame, a column per
/// series, and a first column naming the file when the results name theirs.
fn write_per_frame(
    path: &std::path::Path,
    results: &[(Option<&PathBuf>, &Comparison)],
) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    let named = results.iter().any(|(d, _)| d.is_some());
    let mut cols: Vec<&String> = Vec::new();
    for (_, r) in results {
        for c in r.per_frame.keys() {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    if named {
        write!(out, "distorted,")?;
    }
    write!(out, "frame")?;
    for c in &cols {
        write!(out, ",{c}")?;
    }
    writeln!(out)?;
    for (d, result) in results {
        for i in 0..result.frames as usize {
            if let Some(d) = d {
                write!(out, "{},", csv_field(&d.display().to_string()))?;
            }
            write!(out, "{i}")?;
            for c in &cols {
                let Some(series) = result.per_frame.get(*c) else {
                    write!(out, ",")?;
                    continue;
                };
                // VMAF with subsampling scores some frames only.
                let v = if c.as_str() == "vmaf" && !result.vmaf_frames.is_empty() {
                    result
                        .vmaf_frames
                        .iter()
                        .position(|&f| f as usize == i)
                        .map(|j| series[j])
                } else {
                    series.get(i).copied()
                };
                match v {
                    Some(v) => write!(out, ",{v}")?,
                    None => write!(out, ",")?,
                }
            }
            writeln!(out)?;
        }
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::vmaf_threads_within;

    #[test]
    fn the_default_thread_count_keeps_4k_within_a_gibibyte() {
        let gib = 1024 * 1024 * 1024;
        assert_eq!(vmaf_threads_within(gib, 3840 * 2160, 2), 1);
        assert_eq!(vmaf_threads_within(gib, 1920 * 1080, 2), 2);
        assert_eq!(vmaf_threads_within(gib, 1920 * 1080, 16), 9);
        assert_eq!(vmaf_threads_within(4 * gib, 3840 * 2160, 16), 9);
    }
}
