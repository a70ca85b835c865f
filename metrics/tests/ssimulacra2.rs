//! SSIMULACRA2 against the `ssimulacra2` crate 0.5: the per-frame scores it gave the test pairs of
//! `goldens/ssimulacra2/pictures.rs` (written by the oracle program beside them to
//! `goldens/ssimulacra2/goldens.json`), for the fast scorer and the scalar reference. One scorer
//! scores every case in turn, so its buffers are reused across frames and sizes.

use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};
use rdbench_metrics::ssimulacra2::reference::ssimulacra2_reference;
use rdbench_metrics::ssimulacra2::{ColourSpace, Ssimulacra2, YuvMatrix};

#[path = "goldens/ssimulacra2/pictures.rs"]
#[allow(dead_code)]
mod pictures;

use pictures::{Case, Picture};

/// The acceptance tolerance against the oracle.
const TOLERANCE: f64 = 1e-3;

fn colour(case: &Case) -> ColourSpace {
    ColourSpace {
        matrix: match case.matrix {
            "bt709" => YuvMatrix::Bt709,
            "bt601" => YuvMatrix::Bt601,
            m => panic!("unknown matrix {m}"),
        },
        full_range: case.full_range,
    }
}

fn sampling(case: &Case) -> ChromaSampling {
    match case.subsampling {
        (1, 1) => ChromaSampling::Cs420,
        (1, 0) => ChromaSampling::Cs422,
        (0, 0) => ChromaSampling::Cs444,
        s => panic!("unknown subsampling {s:?}"),
    }
}

/// The picture as an rdbench frame; rows get a stride wider than the picture, as decoded
/// frames have.
fn frame<T: rdbench_metrics::Sample>(
    case: &Case,
    pic: &Picture,
    cast: impl Fn(u16) -> T,
) -> OwnedFrame<T> {
    let mut f = OwnedFrame::<T>::new(case.width, case.height, case.bit_depth, sampling(case));
    for p in 0..3 {
        let (w, h) = Picture::plane_size(case, p);
        let stride = w + 5;
        let mut data = vec![T::default(); stride * h];
        for y in 0..h {
            for x in 0..w {
                data[y * stride + x] = cast(pic.planes[p][y * w + x]);
            }
        }
        f.planes[p] = data;
        f.strides[p] = stride;
    }
    f
}

#[test]
fn ssimulacra2_matches_the_ssimulacra2_crate() {
    let text = include_str!("goldens/ssimulacra2/goldens.json");
    let goldens: serde_json::Value = serde_json::from_str(text).unwrap();
    let by_name = |name: &str| {
        goldens["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no golden for {name}"))
            .clone()
    };
    let cases = pictures::cases();
    assert_eq!(cases.len(), goldens["cases"].as_array().unwrap().len());
    let mut scorer = Ssimulacra2::default();
    let (mut worst, mut worst_ref) = (0f64, 0f64);
    let mut frames = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let golden = by_name(case.name);
        let scores = golden["scores"].as_array().unwrap();
        assert_eq!(scores.len(), case.frames, "{}", case.name);
        if scorer.colour() != colour(case) {
            scorer = Ssimulacra2::new(colour(case));
        }
        for f in 0..case.frames {
            let (a, b) = (pictures::reference(case, f), pictures::distorted(case, f));
            assert_eq!(
                golden["checksums"][f].as_str().unwrap(),
                format!("{:016x}", pictures::checksum(&a, &b)),
                "{} frame {f}: the pictures are not the ones the goldens were made from",
                case.name
            );
            let want = scores[f].as_f64().unwrap();
            let run_reference = case.width * case.height <= 640 * 360;
            let (fast, slow) = if case.bit_depth == 8 {
                let (a, b) = (frame(case, &a, |v| v as u8), frame(case, &b, |v| v as u8));
                let (va, vb) = (a.view().unwrap(), b.view().unwrap());
                (
                    scorer.score(&va, &vb).unwrap(),
                    run_reference.then(|| ssimulacra2_reference(&va, &vb, colour(case)).unwrap()),
                )
            } else {
                let (a, b) = (frame(case, &a, |v| v), frame(case, &b, |v| v));
                let (va, vb) = (a.view().unwrap(), b.view().unwrap());
                (
                    scorer.score(&va, &vb).unwrap(),
                    run_reference.then(|| ssimulacra2_reference(&va, &vb, colour(case)).unwrap()),
                )
            };
            eprintln!(
                "{} frame {f}: oracle {want} fast {fast} ({:+e}) reference {slow:?} ({:+e})",
                case.name,
                fast - want,
                slow.map_or(0.0, |s| s - want)
            );
            worst = worst.max((fast - want).abs());
            if (fast - want).abs() > TOLERANCE {
                failures.push(format!(
                    "{} frame {f}: fast {fast}, oracle {want}",
                    case.name
                ));
            }
            if let Some(slow) = slow {
                worst_ref = worst_ref.max((slow - want).abs());
                if (slow - want).abs() > TOLERANCE {
                    failures.push(format!(
                        "{} frame {f}: reference {slow}, oracle {want}",
                        case.name
                    ));
                }
            }
            if case.name.contains("identical") && fast != 100.0 {
                failures.push(format!(
                    "{} frame {f}: fast {fast} for identical frames",
                    case.name
                ));
            }
            frames += 1;
        }
    }
    eprintln!("{frames} frames: worst |fast - oracle| {worst:e}, worst |reference - oracle| {worst_ref:e}");
    assert!(failures.is_empty(), "{failures:#?}");
}
