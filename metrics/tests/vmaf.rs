//! The libvmaf wrapper against libvmaf's own `vmaf` tool: models, extra features, subsampling,
//! threads, 8/10-bit and 4:2:0/4:2:2/4:4:4 input.

use crate::on_pair;
use crate::support::{assert_close, clip, clips, pairs, tool_frames, tool_standard, Clip};
use rdbench_metrics::vmaf::{VmafConfig, VmafModelVersion, VmafResult, VmafScorer};

fn score(c: &Clip, config: VmafConfig) -> VmafResult {
    let mut s = VmafScorer::new(config).unwrap();
    for pair in pairs(c) {
        on_pair!(&pair, |a, b| s
            .push(&a.view().unwrap(), &b.view().unwrap())
            .unwrap());
    }
    s.finish().unwrap()
}

fn with_features(features: &[&str]) -> VmafConfig {
    VmafConfig {
        features: features.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn default_model_and_features_match_the_tool() {
    for c in clips().iter().filter(|c| !c.name.contains("1080p")) {
        let tool = tool_standard(c);
        let r = score(c, with_features(&["psnr", "float_ssim", "float_ms_ssim"]));
        assert_eq!(r.per_frame.len(), tool.len(), "{}", c.name);
        assert_eq!(r.frame_indices, (0..tool.len() as u32).collect::<Vec<_>>());
        for (i, t) in tool.iter().enumerate() {
            assert_close(
                &format!("{} frame {i} vmaf", c.name),
                r.per_frame[i],
                t["vmaf"],
                1e-3,
            );
            for f in [
                "psnr_y",
                "psnr_cb",
                "psnr_cr",
                "float_ssim",
                "float_ms_ssim",
                "integer_adm2",
                "integer_motion2",
                "integer_vif_scale0",
            ] {
                assert_close(
                    &format!("{} frame {i} {f}", c.name),
                    r.features[f][i],
                    t[f],
                    1e-5,
                );
            }
        }
        let pooled = r.pooled().unwrap();
        let mean = tool.iter().map(|t| t["vmaf"]).sum::<f64>() / tool.len() as f64;
        assert_close(&format!("{} mean vmaf", c.name), pooled.mean, mean, 1e-3);
    }
}

#[test]
fn neg_and_4k_models_match_the_tool() {
    let c = clip("testsrc2-420-8-crf45");
    let tool = tool_frames(
        c,
        &[
            "--model",
            "version=vmaf_v0.6.1neg:name=vmaf_v0.6.1neg",
            "--model",
            "version=vmaf_4k_v0.6.1:name=vmaf_4k_v0.6.1",
        ],
    );
    let r = score(
        c,
        VmafConfig {
            models: vec![VmafModelVersion::V0_6_1Neg, VmafModelVersion::V4k0_6_1],
            ..Default::default()
        },
    );
    for m in ["vmaf_v0.6.1neg", "vmaf_4k_v0.6.1"] {
        for (i, t) in tool.iter().enumerate() {
            assert_close(&format!("{m} frame {i}"), r.models[m][i], t[m], 1e-3);
        }
    }
    assert_eq!(r.per_frame, r.models["vmaf_v0.6.1neg"]);
    // The models disagree on distorted content, so this is not the same series thrice.
    assert_ne!(r.models["vmaf_v0.6.1neg"], r.models["vmaf_4k_v0.6.1"]);
}

#[test]
fn extra_features_match_the_tool() {
    for name in ["testsrc2-420-8-crf32", "testsrc2-420-10-crf30"] {
        let c = clip(name);
        let tool = tool_frames(
            c,
            &[
                "-n",
                "--feature",
                "cambi",
                "--feature",
                "ciede",
                "--feature",
                "psnr_hvs",
            ],
        );
        let r = score(
            c,
            VmafConfig {
                models: vec![],
                ..with_features(&["cambi", "ciede", "psnr_hvs"])
            },
        );
        assert!(r.per_frame.is_empty());
        for f in [
            "cambi",
            "ciede2000",
            "psnr_hvs_y",
            "psnr_hvs_cb",
            "psnr_hvs_cr",
            "psnr_hvs",
        ] {
            for (i, t) in tool.iter().enumerate() {
                assert_close(
                    &format!("{name} frame {i} {f}"),
                    r.features[f][i],
                    t[f],
                    1e-5,
                );
            }
        }
    }
}

#[test]
fn subsampling_scores_every_nth_frame_like_the_tool() {
    let c = clip("testsrc2-420-8-crf32");
    let tool = tool_frames(c, &["--subsample", "3"]);
    let r = score(
        c,
        VmafConfig {
            n_subsample: 3,
            ..Default::default()
        },
    );
    assert_eq!(r.frame_indices, vec![0, 3, 6]);
    assert_eq!(r.frames_pushed, 8);
    assert_eq!(tool.len(), 3);
    for (i, t) in tool.iter().enumerate() {
        assert_close(
            &format!("subsampled frame {i}"),
            r.per_frame[i],
            t["vmaf"],
            1e-3,
        );
    }
}

#[test]
fn threads_do_not_change_scores() {
    let c = clip("mandelbrot-420-8-crf38");
    let one = score(c, with_features(&["psnr"]));
    let two = score(
        c,
        VmafConfig {
            n_threads: 2,
            ..with_features(&["psnr"])
        },
    );
    assert_eq!(one.per_frame, two.per_frame);
    assert_eq!(one.features, two.features);
}

#[test]
fn worker_threads_hold_a_bounded_number_of_frames() {
    // libvmaf's pool queues every pushed pair; the scorer must wait once 2 * threads + 2 are
    // outstanding, or memory grows with the clip (24 MB a pair at 4K). (Two extracting threads:
    // the calling thread, which runs rdbench's VIF kernel, and one libvmaf worker.)
    let c = &clips()[0];
    let mut s = VmafScorer::new(VmafConfig {
        n_threads: 2,
        ..Default::default()
    })
    .unwrap();
    let mut pushed = 0;
    for _ in 0..4 {
        for pair in pairs(c) {
            on_pair!(&pair, |a, b| s
                .push(&a.view().unwrap(), &b.view().unwrap())
                .unwrap());
            pushed += 1;
            assert!(
                s.in_flight() <= 4,
                "{} frames in flight after {pushed} pushes",
                s.in_flight()
            );
        }
    }
    assert!(pushed > 8);
    assert_eq!(s.finish().unwrap().per_frame.len(), pushed);
}
