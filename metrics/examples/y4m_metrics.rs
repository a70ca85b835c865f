//! Scores a reference/distorted pair of Y4M files with one rdbench metric on one thread and prints
//! the pooled score and the speed, for side-by-side comparisons with libvmaf's `vmaf` tool.
//!
//! Usage: `y4m_metrics <reference.y4m> <distorted.y4m> <psnr|ssim|ms_ssim|vif|vmaf|xpsnr>`
//!
//! "kernel fps" counts only the time spent in the metric; "wall fps" includes reading the files.
//! For `xpsnr` the "mean" is of the per-frame luma XPSNR, and a second line gives the sequence
//! summary as FFmpeg's `xpsnr` filter prints it.

use rdbench_metrics::y4m::{Y4mFrame, Y4mReader};
use rdbench_metrics::{
    ms_ssim, pool_xpsnr, psnr, ssim, FrameView, Pooled, Sample, VmafConfig, VmafScorer, Xpsnr,
    XpsnrFrame,
};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!(
            "usage: {} <reference.y4m> <distorted.y4m> <psnr|ssim|ms_ssim|vif|vmaf|xpsnr>",
            args[0]
        );
        return ExitCode::from(2);
    }
    match run(Path::new(&args[1]), Path::new(&args[2]), &args[3]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

thread_local! {
    static VIF: std::cell::RefCell<rdbench_metrics::vmaf::vif::Vif> = std::cell::RefCell::default();
}

/// One metric's per-frame scorer.
enum Scorer {
    Native(fn(&Frames<'_>) -> Result<f64, String>),
    Vmaf(Box<VmafScorer>),
    /// XPSNR's stateful scorer and the frames scored so far.
    Xpsnr(Box<Xpsnr>, Vec<XpsnrFrame>),
}

/// A frame pair, 8-bit or high bit depth.
enum Frames<'a> {
    U8(FrameView<'a, u8>, FrameView<'a, u8>),
    U16(FrameView<'a, u16>, FrameView<'a, u16>),
}

fn native<T: Sample>(
    metric: &str,
    a: &FrameView<'_, T>,
    b: &FrameView<'_, T>,
) -> Result<f64, String> {
    let r = match metric {
        "psnr" => psnr(a, b).map(|p| p.yuv_6_1_1()),
        "ssim" => ssim(a, b),
        _ => ms_ssim(a, b),
    };
    r.map_err(|e| e.to_string())
}

fn run(reference: &Path, distorted: &Path, metric: &str) -> Result<(), String> {
    let wall = Instant::now();
    let mut r = Y4mReader::open(reference).map_err(|e| e.to_string())?;
    let mut d = Y4mReader::open(distorted).map_err(|e| e.to_string())?;
    let mut scorer = match metric {
        "psnr" => Scorer::Native(|f| match f {
            Frames::U8(a, b) => native("psnr", a, b),
            Frames::U16(a, b) => native("psnr", a, b),
        }),
        "ssim" => Scorer::Native(|f| match f {
            Frames::U8(a, b) => native("ssim", a, b),
            Frames::U16(a, b) => native("ssim", a, b),
        }),
        "vif" => Scorer::Native(|f| match f {
            Frames::U8(a, b) => VIF.with(|v| {
                let mut v = v.borrow_mut();
                Ok(v.scales(a.luma(), b.luma())[0].score())
            }),
            Frames::U16(a, b) => VIF.with(|v| {
                let mut v = v.borrow_mut();
                Ok(v.scales_hbd(a.luma(), b.luma(), a.bit_depth())[0].score())
            }),
        }),
        "ms_ssim" => Scorer::Native(|f| match f {
            Frames::U8(a, b) => native("ms_ssim", a, b),
            Frames::U16(a, b) => native("ms_ssim", a, b),
        }),
        "vmaf" => Scorer::Vmaf(Box::new(
            VmafScorer::new(VmafConfig::default()).map_err(|e| e.to_string())?,
        )),
        "xpsnr" => {
            let h = r.header();
            let x = Xpsnr::new(h.width, h.height, h.bit_depth, h.sampling, h.fps)
                .map_err(|e| e.to_string())?;
            Scorer::Xpsnr(Box::new(x), Vec::new())
        }
        other => return Err(format!("unknown metric {other:?}")),
    };
    let mut scores = Vec::new();
    let mut kernel = Duration::ZERO;
    let (mut fa, mut fb) = (r.blank_frame(), d.blank_frame());
    loop {
        match (r.read_into(&mut fa), d.read_into(&mut fb)) {
            (Ok(true), Ok(true)) => {}
            (Ok(false), Ok(false)) => break,
            (Err(e), _) | (_, Err(e)) => return Err(e.to_string()),
            _ => return Err("the files have different frame counts".into()),
        }
        let t = Instant::now();
        let frames = match (&fa, &fb) {
            (Y4mFrame::U8(a), Y4mFrame::U8(b)) => Frames::U8(view(a)?, view(b)?),
            (Y4mFrame::U16(a), Y4mFrame::U16(b)) => Frames::U16(view(a)?, view(b)?),
            _ => return Err("the files have different bit depths".into()),
        };
        match &mut scorer {
            Scorer::Native(f) => scores.push(f(&frames)?),
            Scorer::Vmaf(s) => match &frames {
                Frames::U8(a, b) => s.push(a, b),
                Frames::U16(a, b) => s.push(a, b),
            }
            .map_err(|e| e.to_string())?,
            Scorer::Xpsnr(x, done) => {
                let f = match &frames {
                    Frames::U8(a, b) => x.push(a, b),
                    Frames::U16(a, b) => x.push(a, b),
                }
                .map_err(|e| e.to_string())?;
                scores.push(f.xpsnr[0]);
                done.push(f);
            }
        }
        kernel += t.elapsed();
    }
    let summary = match &scorer {
        Scorer::Xpsnr(_, done) => pool_xpsnr(done).map(|s| {
            format!(
                "XPSNR average, {} frames  y: {:.4}  u: {:.4}  v: {:.4}  (minimum: {:.4})",
                s.frames, s.xpsnr[0], s.xpsnr[1], s.xpsnr[2], s.minimum
            )
        }),
        _ => None,
    };
    if let Scorer::Vmaf(s) = scorer {
        let t = Instant::now();
        scores = s.finish().map_err(|e| e.to_string())?.per_frame;
        kernel += t.elapsed();
    }
    let n = scores.len();
    let pooled = Pooled::from_series(&scores).ok_or("no frames")?;
    let wall = wall.elapsed();
    println!(
        "{metric}: {n} frames, mean {:.6}, kernel {:.3} s ({:.1} fps), wall {:.3} s ({:.1} fps)",
        pooled.mean,
        kernel.as_secs_f64(),
        n as f64 / kernel.as_secs_f64(),
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    if let Some(s) = summary {
        println!("{s}");
    }
    Ok(())
}

fn view<T: Sample>(f: &rdbench_metrics::OwnedFrame<T>) -> Result<FrameView<'_, T>, String> {
    f.view().map_err(|e| e.to_string())
}
