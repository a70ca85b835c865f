//! `rdbench probe FILE`: container, duration, bitrate and every stream's properties.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use rdbench_transcode::probe;

/// Describe a media file.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `rdbench probe`.
pub fn run(args: Args) -> Result<()> {
    let info = probe::probe(&args.file)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    let opt = |v: Option<f64>, unit: &str| {
        v.map(|x| format!("{x:.3} {unit}"))
            .unwrap_or_else(|| "unknown".into())
    };
    println!("{}", info.path.display());
    println!("  container  {} ({})", info.container, info.container_long);
    println!("  duration   {}", opt(info.duration_s, "s"));
    println!("  bitrate    {}", opt(info.bitrate_kbps, "kbit/s"));
    println!("  size       {} bytes", info.size_bytes);
    for s in &info.streams {
        let mut parts = vec![format!("#{} {} {}", s.index, s.kind, s.codec)];
        if let Some(p) = &s.profile {
            parts.push(format!("({p})"));
        }
        if let (Some(w), Some(h)) = (s.width, s.height) {
            parts.push(format!("{w}x{h}"));
        }
        if let Some(f) = s.fps {
            parts.push(format!("{f:.3} fps"));
        }
        if let Some(p) = &s.pix_fmt {
            parts.push(p.clone());
        }
        let colour: Vec<String> = [
            &s.color_range,
            &s.color_space,
            &s.color_primaries,
            &s.color_transfer,
        ]
        .iter()
        .filter_map(|c| c.as_ref().cloned())
        .collect();
        if !colour.is_empty() {
            parts.push(format!("colour {}", colour.join("/")));
        }
        if let Some(r) = s.rotation_deg {
            parts.push(format!("rotation {r:.0}°"));
        }
        if let Some(r) = s.sample_rate {
            parts.push(format!("{r} Hz"));
        }
        if let Some(c) = s.channels {
            parts.push(format!("{c} ch"));
        }
        if let Some(b) = s.bitrate_kbps {
            parts.push(format!("{b:.1} kbit/s"));
        }
        println!("  {}", parts.join("  "));
    }
    Ok(())
}
