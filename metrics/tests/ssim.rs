//! SSIM against libvmaf's `float_ssim` feature: the fast kernel and the scalar reference, every
//! clip and frame (covering scale factors 1, 2, 3 and 4, 8- and 10-bit).

use crate::on_pair;
use crate::support::{assert_close, clips, pairs, tool_standard};
use rdbench_metrics::reference::ssim_plane_reference;
use rdbench_metrics::ssim::ssim;

#[test]
fn ssim_matches_libvmaf_float_ssim() {
    let (mut worst, mut worst_ref, mut worst_pair) = (0f64, 0f64, 0f64);
    for c in clips() {
        let tool = tool_standard(c);
        for (i, pair) in pairs(c).iter().enumerate() {
            let (fast, slow) = on_pair!(pair, |a, b| {
                let (va, vb) = (a.view().unwrap(), b.view().unwrap());
                (
                    ssim(&va, &vb).unwrap(),
                    ssim_plane_reference(va.luma(), vb.luma(), va.bit_depth()),
                )
            });
            let oracle = tool[i]["float_ssim"];
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
    eprintln!("largest |SSIM - libvmaf float_ssim|: {worst:e}, reference: {worst_ref:e}, fast vs reference: {worst_pair:e}");
}
