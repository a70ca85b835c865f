//! PSNR against libvmaf's `psnr` feature (every clip, every frame, all planes) and FFmpeg's
//! `psnr` filter.

use crate::on_pair;
use crate::support::{assert_close, clip, clips, pairs, tool_frames, tool_standard, Clip};
use rdbench_metrics::psnr::{pool_psnr, psnr};
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn psnr_matches_libvmaf_on_every_clip() {
    for c in clips() {
        let tool = tool_standard(c);
        for (i, pair) in pairs(c).iter().enumerate() {
            let p = on_pair!(pair, |a, b| psnr(&a.view().unwrap(), &b.view().unwrap())
                .unwrap());
            for (k, name) in ["psnr_y", "psnr_cb", "psnr_cr"].iter().enumerate() {
                assert_close(
                    &format!("{} frame {i} {name}", c.name),
                    p.psnr[k],
                    tool[i][*name],
                    1e-4,
                );
            }
        }
    }
}

#[test]
fn identical_frames_give_libvmafs_cap() {
    for name in ["testsrc2-420-8-crf32", "testsrc2-420-10-crf30"] {
        let c = clip(name);
        let same = Clip {
            name: c.name,
            reference: c.reference.clone(),
            distorted: c.reference.clone(),
        };
        let tool = tool_frames(&same, &["-n", "--feature", "psnr"]);
        for (i, pair) in pairs(&same).iter().enumerate() {
            let p = on_pair!(pair, |a, b| psnr(&a.view().unwrap(), &b.view().unwrap())
                .unwrap());
            let cap = if name.contains("-10-") { 72.0 } else { 60.0 };
            assert_eq!(p.psnr, [cap; 3], "{name} frame {i}");
            assert_eq!(tool[i]["psnr_y"], cap, "libvmaf's cap for {name}");
        }
    }
}

/// Per-frame `lavfi.psnr.*` metadata from FFmpeg's psnr filter (printed with six decimals).
fn ffmpeg_psnr(c: &Clip) -> Vec<BTreeMap<String, f64>> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let graph = format!(
        "[0:v][1:v]psnr,metadata=mode=print:file={}",
        out.path().display()
    );
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&c.distorted)
        .arg("-i")
        .arg(&c.reference)
        .args(["-lavfi", &graph, "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(out.path()).unwrap();
    let mut frames: Vec<BTreeMap<String, f64>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("frame:") {
            frames.push(BTreeMap::new());
        } else if let Some((k, v)) = line
            .strip_prefix("lavfi.psnr.")
            .and_then(|l| l.split_once('='))
        {
            frames
                .last_mut()
                .unwrap()
                .insert(k.to_string(), v.parse().unwrap_or(f64::INFINITY));
        }
    }
    frames
}

/// FFmpeg's psnr filter uses the same per-plane definition (peak 2^b − 1, MSE over the plane)
/// without libvmaf's cap (identical planes give `inf`); its `psnr_avg` is the PSNR of the
/// sample-weighted MSE of all planes, which is not a CTC weighting, so only planes are compared.
#[test]
fn psnr_matches_ffmpegs_psnr_filter() {
    for name in [
        "testsrc2-420-8-crf45",
        "testsrc2-420-10-crf42",
        "testsrc2-444-8-noise",
    ] {
        let c = clip(name);
        let ff = ffmpeg_psnr(c);
        let ps = pairs(c);
        assert_eq!(ff.len(), ps.len());
        for (i, pair) in ps.iter().enumerate() {
            let p = on_pair!(pair, |a, b| psnr(&a.view().unwrap(), &b.view().unwrap())
                .unwrap());
            for (k, plane) in ["y", "u", "v"].iter().enumerate() {
                let theirs = ff[i][&format!("psnr.{plane}")];
                assert!(p.psnr[k] < p.psnr[k].max(60.0) || theirs.is_infinite());
                assert_close(
                    &format!("{name} frame {i} plane {plane}"),
                    p.psnr[k],
                    theirs,
                    1e-4,
                );
                assert_close(
                    &format!("{name} frame {i} mse {plane}"),
                    p.mse[k],
                    ff[i][&format!("mse.{plane}")],
                    1e-4,
                );
            }
        }
    }
}

#[test]
fn pooled_psnr_is_consistent_with_frames() {
    let c = clip("testsrc2-420-8-crf45");
    let frames: Vec<_> = pairs(c)
        .iter()
        .map(|pair| {
            on_pair!(pair, |a, b| psnr(&a.view().unwrap(), &b.view().unwrap())
                .unwrap())
        })
        .collect();
    let s = pool_psnr(&frames).unwrap();
    let mean_y = frames.iter().map(|f| f.psnr[0]).sum::<f64>() / frames.len() as f64;
    assert_eq!(s.mean_psnr[0], mean_y);
    // The PSNR of the mean MSE never exceeds the mean PSNR (Jensen).
    assert!(s.global_psnr[0] <= s.mean_psnr[0] + 1e-12);
    assert!(
        (s.mean_yuv_6_1_1
            - frames.iter().map(|f| f.yuv_6_1_1()).sum::<f64>() / frames.len() as f64)
            .abs()
            < 1e-12
    );
}
