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
    /// List the user data (SEI, AV1 metadata) every picture carries, latency records decoded.
    #[arg(long)]
    pub sei: bool,
}

/// Runs `rdbench probe`.
pub fn run(args: Args) -> Result<()> {
    if args.sei {
        return user_data(&args);
    }
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

/// `rdbench probe --sei`: one line per message, latency records as stage-to-stage times.
fn user_data(args: &Args) -> Result<()> {
    let pictures = probe::user_data(&args.file)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&pictures)?);
        return Ok(());
    }
    let messages: usize = pictures.iter().map(|p| p.messages.len()).sum();
    println!(
        "{}: {} pictures carry {messages} user-data messages",
        args.file.display(),
        pictures.len()
    );
    for p in &pictures {
        let key = if p.key { "key" } else { "   " };
        for m in &p.messages {
            let shown = if let Some(l) = rdbench_transcode::sei::Latency::from_user_data(m) {
                let stages = l.stages();
                let mut parts = Vec::new();
                for w in stages.windows(2) {
                    if w[0].1 > 0 && w[1].1 > 0 {
                        parts.push(format!(
                            "{}->{} {:.2} ms",
                            w[0].0,
                            w[1].0,
                            (w[1].1 - w[0].1) as f64 / 1000.0
                        ));
                    }
                }
                let first = stages.iter().find(|s| s.1 > 0).map_or(0, |s| s.1);
                format!(
                    "latency {} (total {:.2} ms)",
                    parts.join(", "),
                    (l.encoded - first) as f64 / 1000.0
                )
            } else {
                match m.text() {
                    Some(t) => format!("{t:?}"),
                    None => format!("0x{}", m.hex()),
                }
            };
            println!("  {:>10.3} s {key} {}  {shown}", p.pts_s, m.uuid_text());
        }
    }
    Ok(())
}
