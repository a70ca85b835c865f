//! Motion against libvmaf's own `motion` extractor on every clip (8- and 10-bit, 352x288 to
//! 1080p): rdbench's blur and temporal stage over the reference frames give libvmaf's
//! `integer_motion` and `integer_motion2` exactly, frame by frame.

use crate::support::{clips, read_y4m};
use rdbench_metrics::vmaf::motion::{blur, Luma, Motion};
use rdbench_metrics::{VmafConfig, VmafScorer, Y4mFrame};

#[test]
fn motion_equals_libvmafs_on_every_clip() {
    let mut moving = 0;
    for c in clips() {
        let frames = read_y4m(&c.reference);
        let n = frames.len();
        let mut libvmaf = VmafScorer::new(VmafConfig {
            models: vec![],
            features: vec!["motion".into()],
            ..Default::default()
        })
        .unwrap();
        let mut m = Motion::new(false);
        let mut motion = vec![f64::NAN; n];
        let mut motion2 = vec![f64::NAN; n];
        for f in &frames {
            let blurred = match f {
                Y4mFrame::U8(f) => {
                    let v = f.view().unwrap();
                    libvmaf.push(&v, &v).unwrap();
                    blur(&Luma::Bits8(*v.luma()))
                }
                Y4mFrame::U16(f) => {
                    let v = f.view().unwrap();
                    libvmaf.push(&v, &v).unwrap();
                    blur(&Luma::High(*v.luma(), v.bit_depth()))
                }
            };
            let step = m.push(Some(blurred)).unwrap();
            motion[step.index as usize] = step.motion;
            if let Some((i, s)) = step.motion2 {
                motion2[i as usize] = s;
            }
        }
        if let Some((i, s)) = m.finish() {
            motion2[i as usize] = s;
        }
        let r = libvmaf.finish().unwrap();
        assert_eq!(motion, r.features["integer_motion"], "{} motion", c.name);
        assert_eq!(motion2, r.features["integer_motion2"], "{} motion2", c.name);
        moving += motion.iter().filter(|&&m| m > 0.0).count();
    }
    assert!(moving >= 20, "only {moving} frames with motion");
}
