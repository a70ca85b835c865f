//! The Y4M reader on FFmpeg-written files, and stride handling of the metrics on padded views.

use crate::on_pair;
use crate::support::{clip, pairs, read_y4m};
use rdbench_metrics::y4m::{Y4mFrame, Y4mReader};
use rdbench_metrics::{psnr, ssim, ChromaSampling, FrameView, OwnedFrame, Plane, Sample};

#[test]
fn reads_ffmpeg_output_of_every_format() {
    for (name, w, h, depth, sampling, frames) in [
        (
            "testsrc2-420-8-crf32",
            352,
            288,
            8,
            ChromaSampling::Cs420,
            8,
        ),
        (
            "testsrc2-420-10-crf30",
            352,
            288,
            10,
            ChromaSampling::Cs420,
            6,
        ),
        (
            "testsrc2-444-8-noise",
            352,
            288,
            8,
            ChromaSampling::Cs444,
            4,
        ),
        (
            "mandelbrot-422-10-crf34",
            352,
            288,
            10,
            ChromaSampling::Cs422,
            4,
        ),
    ] {
        let c = clip(name);
        let r = Y4mReader::open(&c.distorted).unwrap();
        let hd = r.header().clone();
        assert_eq!(
            (hd.width, hd.height, hd.bit_depth, hd.sampling),
            (w, h, depth, sampling),
            "{name}"
        );
        assert_eq!(hd.fps, rdbench_metrics::Fps::new(25, 1).unwrap());
        let all = read_y4m(&c.distorted);
        assert_eq!(all.len(), frames, "{name}");
        if let Y4mFrame::U16(f) = &all[0] {
            assert!(
                f.planes[0].iter().all(|&v| v < 1024),
                "{name}: 10-bit samples in range"
            );
        }
    }
}

/// Copies a frame into buffers whose rows are `pad` samples longer than the picture.
fn padded<T: Sample>(f: &OwnedFrame<T>, pad: usize) -> OwnedFrame<T> {
    let mut out = f.clone();
    for i in 0..3 {
        let (w, h) = f.plane_size(i);
        let stride = w + pad;
        let mut buf = vec![T::default(); stride * h];
        for y in 0..h {
            buf[y * stride..y * stride + w].copy_from_slice(&f.planes[i][y * w..(y + 1) * w]);
        }
        out.planes[i] = buf;
        out.strides[i] = stride;
    }
    out
}

fn strided_view<T: Sample>(f: &OwnedFrame<T>) -> FrameView<'_, T> {
    let plane = |i: usize| {
        let (w, h) = f.plane_size(i);
        Plane::new(&f.planes[i], w, h, f.strides[i]).unwrap()
    };
    FrameView::new([plane(0), plane(1), plane(2)], f.bit_depth, f.sampling).unwrap()
}

#[test]
fn padded_strides_give_identical_scores() {
    for name in ["testsrc2-420-8-crf45", "testsrc2-420-10-crf42"] {
        let ps = pairs(clip(name));
        on_pair!(&ps[1], |a, b| {
            let (pa, pb) = (padded(a, 37), padded(b, 5));
            let (va, vb) = (a.view().unwrap(), b.view().unwrap());
            let (sa, sb) = (strided_view(&pa), strided_view(&pb));
            assert_eq!(psnr(&va, &vb).unwrap(), psnr(&sa, &sb).unwrap());
            assert_eq!(ssim(&va, &vb).unwrap(), ssim(&sa, &sb).unwrap());
            assert_eq!(
                rdbench_metrics::ms_ssim(&va, &vb).unwrap(),
                rdbench_metrics::ms_ssim(&sa, &sb).unwrap()
            );
            let score = |x: &FrameView<'_, _>, y: &FrameView<'_, _>| {
                let mut s = rdbench_metrics::VmafScorer::new(Default::default()).unwrap();
                s.push(x, y).unwrap();
                s.finish().unwrap().per_frame
            };
            assert_eq!(score(&va, &vb), score(&sa, &sb));
        });
    }
}
