//! `rdbench analyze INPUT --templates T.toml`: which output templates fit an input (no
//! upscaling, no frame-rate up-conversion, no more video bitrate than the source has, audio
//! present when the template carries it), each misfit with its reasons.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use rdbench_transcode::fit::{template_fit, video_kbps, TemplateFit};
use rdbench_transcode::{probe, spec};

/// Which templates fit an input.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The input media file.
    pub input: PathBuf,
    /// A templates file (`[template.NAME]` tables of output settings, as transcode jobs use).
    #[arg(long)]
    pub templates: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `rdbench analyze`.
pub fn run(args: Args) -> Result<()> {
    let text = std::fs::read_to_string(&args.templates)
        .with_context(|| format!("{}", args.templates.display()))?;
    let file = spec::parse_templates(&text, &args.templates)?;
    if file.template.is_empty() {
        bail!("{}: no [template.NAME] table", args.templates.display());
    }
    let info = probe::probe(&args.input)?;
    let video = info.streams.iter().find(|s| s.kind == "video");
    let fits: Vec<TemplateFit> = file
        .template
        .iter()
        .map(|(name, t)| template_fit(name, t, &info))
        .collect();
    let (width, height, fps) = (
        video.and_then(|v| v.width),
        video.and_then(|v| v.height),
        video.and_then(|v| v.fps),
    );
    let (kbps, audio) = (
        video_kbps(&info),
        info.streams.iter().any(|s| s.kind == "audio"),
    );
    if args.json {
        let out = serde_json::json!({
            "input": args.input,
            "source": { "width": width, "height": height, "fps": fps, "video_kbps": kbps, "audio": audio },
            "templates": fits,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: {}x{} {} fps, video {} kbit/s, {}",
        args.input.display(),
        width.unwrap_or(0),
        height.unwrap_or(0),
        fps.map_or("unknown".into(), |f| format!("{f:.3}")),
        kbps.map_or("unknown".into(), |k| format!("{k:.0}")),
        if audio { "audio" } else { "no audio" }
    );
    for t in &fits {
        if t.fits {
            println!("  fits      {}", t.name);
        } else {
            println!("  does not  {}: {}", t.name, t.reasons.join("; "));
        }
    }
    Ok(())
}
