//! MS-SSIM against libvmaf's `float_ms_ssim` feature: the fast kernel and the scalar reference,
//! every clip and frame (8- and 10-bit, up to 1080p).

use crate::on_pair;
use crate::support::{assert_close, clips, pairs, tool_standard};
use rdbench_metrics::msssim::ms_ssim;
use rdbench_metrics::reference::ms_ssim_plane_reference;
use rdbench_metrics::{MetricError, OwnedFrame};

#[test]
fn ms_ssim_matches_libvmaf_float_ms_ssim() {
    let (mut worst, mut worst_ref, mut worst_pair) = (0f64, 0f64, 0f64);
    for c in clips() {
        let tool = tool_standard(c);
        for (i, pair) in pairs(c).iter().enumerate() {
            let (fast, slow) = on_pair!(pair, |a, b| {
                let (va, vb) = (a.view().unwrap(), b.view().unwrap());
                (
                    ms_ssim(&va, &vb).unwrap(),
                    ms_ssim_plane_reference(va.luma(), vb.luma(), va.bit_depth()),
                )
            });
            let oracle = tool[i]["float_ms_ssim"];
            worst = worst.max((fast - oracle).abs());
            worst_ref = worst_ref.max((slow - oracle).abs());
            worst_pair = worst_pair.max((fast - slow).abs());
            assert_close(&format!("{} frame {i} fast", c.name), fast, oracle, 1e-4);
            assert_close(
                &format!("{} frame {i} reference", c.name),
                slow,
                oracle,
                1e-4,
            );
            assert_close(
                &format!("{} frame {i} fast vs reference", c.name),
                fast,
                slow,
                5e-6,
            );
        }
    }
    eprintln!("largest |MS-SSIM - libvmaf float_ms_ssim|: {worst:e}, reference: {worst_ref:e}, fast vs reference: {worst_pair:e}");
}

#[test]
fn frames_too_small_for_five_scales_are_refused() {
    let f = OwnedFrame::<u8>::new(320, 170, 8, rdbench_metrics::ChromaSampling::Cs420);
    let e = ms_ssim(&f.view().unwrap(), &f.view().unwrap()).unwrap_err();
    assert_eq!(
        e,
        MetricError::TooSmall {
            metric: "MS-SSIM",
            width: 320,
            height: 170,
            min_width: 176,
            min_height: 176
        }
    );
}
