//! VMAF prediction from the embedded model files against libvmaf's own scores: libvmaf's
//! per-frame features of every clip (8- and 10-bit, x264 and filter distortions) fed to
//! [`VmafModel`] give libvmaf's per-frame scores exactly, for the three built-in models; with the
//! score transform on and with clipping off, the `vmaf` tool's printed scores (six decimals).

use crate::on_pair;
use crate::support::{assert_close, clip, clips, pairs, tool_frames, Clip};
use rdbench_metrics::vmaf::model::{Feature, VmafFeatures, VmafModel};
use rdbench_metrics::vmaf::{VmafConfig, VmafModelVersion, VmafResult, VmafScorer};

fn libvmaf(c: &Clip, models: Vec<VmafModelVersion>) -> VmafResult {
    let mut s = VmafScorer::new(VmafConfig {
        models,
        native: false,
        ..Default::default()
    })
    .unwrap();
    for pair in pairs(c) {
        on_pair!(&pair, |a, b| s
            .push(&a.view().unwrap(), &b.view().unwrap())
            .unwrap());
    }
    s.finish().unwrap()
}

/// Frame `i`'s features as `model` reads them, from libvmaf's result.
fn features(r: &VmafResult, model: &VmafModel, i: usize) -> Vec<f64> {
    model
        .features()
        .iter()
        .map(|f| r.features[&f.output_name()][i])
        .collect()
}

#[test]
fn predictions_from_libvmafs_features_equal_its_scores_exactly() {
    let mut range = (f64::MAX, f64::MIN);
    for c in clips() {
        let r = libvmaf(c, VmafModelVersion::ALL.to_vec());
        for v in VmafModelVersion::ALL {
            let model = VmafModel::builtin(v);
            for (i, &want) in r.models[v.name()].iter().enumerate() {
                let x = features(&r, &model, i);
                let got = model.predict_slice(&x);
                assert_eq!(
                    got,
                    want,
                    "{} {} frame {i}: features {x:?}",
                    c.name,
                    v.name()
                );
                let typed = VmafFeatures {
                    adm2: x[0],
                    motion2: x[1],
                    vif: [x[2], x[3], x[4], x[5]],
                };
                assert_eq!(model.predict(&typed), want);
                range = (range.0.min(want), range.1.max(want));
            }
        }
    }
    assert!(range.0 < 40.0 && range.1 > 90.0, "scores span {range:?}");
}

#[test]
fn transformed_and_unclipped_scores_match_the_tool() {
    let (mut above_100, mut lifted_some) = (false, false);
    // A clip against itself scores above 100 before clipping.
    let src = clip("testsrc2-420-8-crf32");
    let itself = Clip {
        name: "testsrc2-420-8-itself",
        reference: src.reference.clone(),
        distorted: src.reference.clone(),
    };
    for c in [
        &itself,
        src,
        clip("testsrc2-420-8-crf45"),
        clip("testsrc2-420-10-crf30"),
    ] {
        let name = c.name;
        let tool = tool_frames(
            c,
            &[
                "--model",
                "version=vmaf_v0.6.1:name=transformed:enable_transform",
                "--model",
                "version=vmaf_v0.6.1neg:name=neg_transformed:enable_transform",
                "--model",
                "version=vmaf_v0.6.1:name=unclipped:disable_clip",
                "--model",
                "version=vmaf_4k_v0.6.1:name=unclipped_4k:disable_clip",
            ],
        );
        let r = libvmaf(c, VmafModelVersion::ALL.to_vec());
        let v061 = VmafModel::builtin(VmafModelVersion::V0_6_1);
        let neg = VmafModel::builtin(VmafModelVersion::V0_6_1Neg);
        let k4 = VmafModel::builtin(VmafModelVersion::V4k0_6_1);
        for (i, t) in tool.iter().enumerate() {
            let x = features(&r, &v061, i);
            let xn = features(&r, &neg, i);
            let cases = [
                (
                    "transformed",
                    v061.clone().with_transform(true).predict_slice(&x),
                ),
                (
                    "neg_transformed",
                    neg.clone().with_transform(true).predict_slice(&xn),
                ),
                ("unclipped", v061.clone().with_clip(false).predict_slice(&x)),
                (
                    "unclipped_4k",
                    k4.clone().with_clip(false).predict_slice(&x),
                ),
            ];
            for (key, ours) in cases {
                // The tool prints six decimals.
                assert_close(
                    &format!("{name} frame {i} {key}"),
                    ours,
                    t[key],
                    5.000001e-7,
                );
                above_100 |= ours > 100.0;
            }
            let (plain, lifted) = (
                v061.predict_slice(&x),
                v061.clone().with_transform(true).predict_slice(&x),
            );
            assert!(
                lifted >= plain,
                "{name} frame {i}: the transform never lowers"
            );
            lifted_some |= lifted > plain;
        }
    }
    assert!(
        above_100,
        "no unclipped score above 100: clipping went unchecked"
    );
    assert!(lifted_some, "the transform changed no score");
}

#[test]
fn the_neg_models_features_are_the_gain_limited_ones() {
    let neg = VmafModel::builtin(VmafModelVersion::V0_6_1Neg);
    let o = neg.options();
    assert_eq!((o.adm_enhn_gain_limit, o.vif_enhn_gain_limit), (1.0, 1.0));
    let adm = &neg.features()[0];
    assert_eq!(adm.feature, Feature::Adm2);
    assert_eq!(adm.collector_name(), "integer_adm2_egl_1");
    // libvmaf reports them under those names, and they differ from the default extractors'.
    let r = libvmaf(clip("testsrc2-420-8-crf45"), VmafModelVersion::ALL.to_vec());
    assert_ne!(r.features["integer_adm2_egl_1"], r.features["integer_adm2"]);
    assert_ne!(
        r.features["integer_vif_scale0_egl_1"],
        r.features["integer_vif_scale0"]
    );
}
