//! Where scored pictures come from: FFmpeg's decoder for any media file (scaled and converted as
//! asked), or, for a Y4M file already in the size and format asked for, rdbench's own Y4M
//! reader. The second reads each frame from the file straight into a buffer that comes back to
//! it when the picture is dropped: no demuxer packets, no decoder, no copy, and a fixed set of
//! buffers. When no metric asked for reads chroma (VMAF, SSIM, MS-SSIM, CAMBI), it reads the
//! luma alone and steps over the chroma; the pictures' chroma planes are then a shared plane of
//! zeros that nothing reads. On a 1080p pair scored for VMAF the pictures then take a quarter
//! of the memory FFmpeg's packets took, and the Y4M demuxer's per-frame work is gone.
//!
//! Both give a [`Pic`]: its index, its presentation time and its planes as metric views.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};
use rdbench_metrics::frame::{ChromaSampling, FrameView, OwnedFrame, Plane};
use rdbench_metrics::y4m::{Y4mFrame, Y4mReader};
use rdbench_transcode::filter::Rate;
use rdbench_transcode::input::VideoInfo;
use rdbench_transcode::reader::{FrameReader, Picture, ReaderOptions};

use crate::align::Thumb;
use crate::compare::CompareError;

/// A file read picture by picture.
pub(crate) enum Source {
    /// Through FFmpeg.
    Decoder(FrameReader),
    /// A Y4M file read directly.
    Y4m(Box<Y4mSource>),
}

/// A Y4M file read directly, with the buffers its pictures give back.
pub(crate) struct Y4mSource {
    reader: Y4mReader<BufReader<File>>,
    info: VideoInfo,
    /// The chroma every picture shows when only the luma is read.
    zero_chroma: Option<Arc<Chroma>>,
    back_tx: Sender<Y4mFrame>,
    back_rx: Receiver<Y4mFrame>,
}

impl Source {
    /// Opens `path`: directly when it is a Y4M file that `options` would neither scale nor
    /// convert, through FFmpeg otherwise (any other file, or a Y4M stream this reader does not
    /// handle, which FFmpeg then reads or refuses with its own message).
    ///
    /// With `luma_only`, a file read directly has its chroma skipped (see the module
    /// documentation); a decoded one is whole anyway.
    pub(crate) fn open(
        path: &Path,
        options: ReaderOptions,
        luma_only: bool,
    ) -> Result<Source, CompareError> {
        if let Some(s) = Y4mSource::open(path, &options, luma_only) {
            return Ok(Source::Y4m(Box::new(s)));
        }
        Ok(Source::Decoder(FrameReader::open(path, options)?))
    }

    /// What the stream declares.
    pub(crate) fn info(&self) -> &VideoInfo {
        match self {
            Source::Decoder(r) => r.info(),
            Source::Y4m(s) => &s.info,
        }
    }

    /// The next picture in display order, or `None` at the end.
    pub(crate) fn next_picture(&mut self) -> Result<Option<Pic>, CompareError> {
        match self {
            Source::Decoder(r) => Ok(r.next_picture()?.map(|p| Pic {
                index: p.index,
                pts_s: p.pts_s,
                inner: Inner::Decoded(p),
            })),
            Source::Y4m(s) => s.next_picture(),
        }
    }

    /// CPU seconds of the decoder's own threads (none for a file read directly).
    pub(crate) fn helper_cpu_s(&self) -> f64 {
        match self {
            Source::Decoder(r) => r.helper_cpu_s(),
            Source::Y4m(_) => 0.0,
        }
    }
}

/// FFmpeg's name of the planar pixel format with this sampling and bit depth (little-endian
/// samples above 8 bits, as Y4M stores them).
fn pix_fmt_name(sampling: ChromaSampling, bit_depth: u8) -> String {
    let s = match sampling {
        ChromaSampling::Cs420 => "420",
        ChromaSampling::Cs422 => "422",
        ChromaSampling::Cs444 => "444",
    };
    match bit_depth {
        8 => format!("yuv{s}p"),
        n => format!("yuv{s}p{n}le"),
    }
}

impl Y4mSource {
    /// `path` read directly, when it is a Y4M file in the size and format `options` ask for
    /// (or that ask for none), with a header this reader takes and a frame rate.
    fn open(path: &Path, options: &ReaderOptions, luma_only: bool) -> Option<Y4mSource> {
        let mut head = [0u8; 4096];
        let (len, header_bytes) = {
            let mut f = File::open(path).ok()?;
            let len = f.metadata().ok()?.len();
            let mut got = 0;
            while got < head.len() {
                match f.read(&mut head[got..]).ok()? {
                    0 => break,
                    k => got += k,
                }
            }
            if !head[..got].starts_with(b"YUV4MPEG2 ") {
                return None;
            }
            (
                len,
                head[..got].iter().position(|&b| b == b'\n')? as u64 + 1,
            )
        };
        // The planes are read past the buffer; it holds the FRAME lines.
        let file = BufReader::with_capacity(64 << 10, File::open(path).ok()?);
        let reader = Y4mReader::with_name(file, path).ok()?;
        let h = reader.header();
        let pix_fmt = pix_fmt_name(h.sampling, h.bit_depth);
        if options
            .size
            .is_some_and(|s| s != (h.width as u32, h.height as u32))
            || options.pix_fmt.as_ref().is_some_and(|p| *p != pix_fmt)
        {
            return None;
        }
        // Frames of a file whose FRAME lines carry no parameters, the usual case.
        let per_frame = h.frame_bytes() as u64 + 6;
        let body = len.checked_sub(header_bytes)?;
        let frames = (body % per_frame == 0).then_some(body / per_frame);
        let rate = Rate {
            num: i32::try_from(h.fps.num()).ok()?,
            den: i32::try_from(h.fps.den()).ok()?,
        };
        let info = VideoInfo::raw(h.width as u32, h.height as u32, &pix_fmt, rate, frames)?;
        let (back_tx, back_rx) = unbounded();
        let (cw, ch) = h.sampling.chroma_size(h.width, h.height);
        // Zeroed allocations: their pages are never touched, so they take no memory.
        let zero_chroma = luma_only.then(|| {
            Arc::new(if h.bit_depth == 8 {
                Chroma::U8(vec![0; cw * ch])
            } else {
                Chroma::U16(vec![0; cw * ch])
            })
        });
        Some(Y4mSource {
            reader,
            info,
            zero_chroma,
            back_tx,
            back_rx,
        })
    }

    fn next_picture(&mut self) -> Result<Option<Pic>, CompareError> {
        let mut frame = self
            .back_rx
            .try_recv()
            .unwrap_or_else(|_| self.reader.blank_frame());
        let index = self.reader.frames_read();
        let read = if self.zero_chroma.is_some() {
            self.reader.read_luma_into(&mut frame)?
        } else {
            self.reader.read_into(&mut frame)?
        };
        if !read {
            return Ok(None);
        }
        Ok(Some(Pic {
            index,
            pts_s: rdbench_transcode::media::seconds(index as i64, self.info.time_base),
            inner: Inner::Y4m {
                frame: Some(frame),
                back: self.back_tx.clone(),
                zero_chroma: self.zero_chroma.clone(),
            },
        }))
    }
}

/// One picture to score.
pub(crate) struct Pic {
    /// Display-order index, from 0.
    pub index: u64,
    /// Presentation time in seconds.
    pub pts_s: f64,
    inner: Inner,
}

enum Inner {
    Decoded(Picture),
    /// A frame read directly; it goes back to its reader when the picture is dropped.
    Y4m {
        frame: Option<Y4mFrame>,
        back: Sender<Y4mFrame>,
        /// The chroma planes of a frame whose luma alone was read.
        zero_chroma: Option<Arc<Chroma>>,
    },
}

/// A chroma plane of zeros, in the samples of its stream.
pub(crate) enum Chroma {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

impl Drop for Pic {
    fn drop(&mut self) {
        if let Inner::Y4m { frame, back, .. } = &mut self.inner {
            if let Some(f) = frame.take() {
                // The reader may be gone (the end of the run): the frame is then freed.
                let _ = back.send(f);
            }
        }
    }
}

impl Pic {
    fn frame(&self) -> Option<&Y4mFrame> {
        match &self.inner {
            Inner::Y4m { frame, .. } => frame.as_ref(),
            Inner::Decoded(_) => None,
        }
    }

    /// Bits per sample.
    pub(crate) fn bit_depth(&self) -> u8 {
        match (&self.inner, self.frame()) {
            (Inner::Decoded(p), _) => p.bit_depth(),
            (_, Some(Y4mFrame::U8(_))) => 8,
            (_, Some(Y4mFrame::U16(f))) => f.bit_depth,
            (_, None) => unreachable!("a frame read directly is held until the picture drops"),
        }
    }

    /// The thumbnail of the luma plane for the offset search (blocks of about 1/160 of its
    /// width).
    pub(crate) fn thumb(&self) -> Result<Thumb, CompareError> {
        let factor = |w: usize| (w / 160).max(1);
        Ok(match (&self.inner, self.frame()) {
            (Inner::Decoded(p), _) => {
                let (w, h) = p.plane_size(0);
                if p.bit_depth() == 8 {
                    let (data, stride) = p.plane_u8(0)?;
                    Thumb::of(data, stride, w, h, 8, factor(w))
                } else {
                    let (data, stride) = p.plane_u16(0)?;
                    Thumb::of(data, stride, w, h, p.bit_depth(), factor(w))
                }
            }
            (_, Some(Y4mFrame::U8(f))) => {
                let (w, h) = (f.width, f.height);
                Thumb::of(&f.planes[0], f.strides[0], w, h, 8, factor(w))
            }
            (_, Some(Y4mFrame::U16(f))) => {
                let (w, h) = (f.width, f.height);
                Thumb::of(&f.planes[0], f.strides[0], w, h, f.bit_depth, factor(w))
            }
            (_, None) => unreachable!("a frame read directly is held until the picture drops"),
        })
    }

    /// Borrows the picture as a metric view of `T` samples (`u8` for 8-bit pictures, `u16`
    /// above); errors name `path`.
    pub(crate) fn view<'a, T: PictureSample>(
        &'a self,
        path: &Path,
    ) -> Result<FrameView<'a, T>, CompareError> {
        match &self.inner {
            Inner::Decoded(p) => {
                let planes = [0, 1, 2].map(|i| -> Result<Plane<'a, T>, CompareError> {
                    let (data, stride) =
                        T::decoded_plane(p, i).map_err(|e| format_error(p, path, e))?;
                    let (w, h) = p.plane_size(i);
                    Plane::new(data, w, h, stride).map_err(|e| format_error(p, path, e))
                });
                let [y, u, v] = planes;
                FrameView::new([y?, u?, v?], p.bit_depth(), sampling(p, path)?)
                    .map_err(|e| format_error(p, path, e))
            }
            Inner::Y4m {
                frame, zero_chroma, ..
            } => {
                let frame = frame
                    .as_ref()
                    .expect("a frame read directly is held until the picture drops");
                let Some(f) = T::frame(frame) else {
                    let depth = match frame {
                        Y4mFrame::U8(_) => 8,
                        Y4mFrame::U16(f) => f.bit_depth,
                    };
                    return Err(CompareError::Format {
                        path: path.to_path_buf(),
                        pix_fmt: format!("{depth}-bit samples read as {} bytes", T::BYTES),
                    });
                };
                match zero_chroma.as_deref() {
                    None => f.view(),
                    Some(zero) => luma_view(f, T::chroma(zero).expect("the stream's own samples")),
                }
                .map_err(|e| raw_error(path, f, e))
            }
        }
    }
}

/// The sample types pictures are viewed in.
pub(crate) trait PictureSample: rdbench_metrics::Sample {
    /// Bytes per sample.
    const BYTES: usize;
    /// Plane `i` of a decoded picture of these samples, and its stride in samples.
    fn decoded_plane(p: &Picture, i: usize) -> Result<(&[Self], usize), CompareError>;
    /// A frame read directly, when its samples are of this type.
    fn frame(f: &Y4mFrame) -> Option<&OwnedFrame<Self>>;
    /// The plane of zeros, when of this type.
    fn chroma(c: &Chroma) -> Option<&[Self]>;
}

impl PictureSample for u8 {
    const BYTES: usize = 1;
    fn decoded_plane(p: &Picture, i: usize) -> Result<(&[u8], usize), CompareError> {
        Ok(p.plane_u8(i)?)
    }
    fn frame(f: &Y4mFrame) -> Option<&OwnedFrame<u8>> {
        match f {
            Y4mFrame::U8(f) => Some(f),
            Y4mFrame::U16(_) => None,
        }
    }
    fn chroma(c: &Chroma) -> Option<&[u8]> {
        match c {
            Chroma::U8(z) => Some(z),
            Chroma::U16(_) => None,
        }
    }
}

impl PictureSample for u16 {
    const BYTES: usize = 2;
    fn decoded_plane(p: &Picture, i: usize) -> Result<(&[u16], usize), CompareError> {
        Ok(p.plane_u16(i)?)
    }
    fn frame(f: &Y4mFrame) -> Option<&OwnedFrame<u16>> {
        match f {
            Y4mFrame::U16(f) => Some(f),
            Y4mFrame::U8(_) => None,
        }
    }
    fn chroma(c: &Chroma) -> Option<&[u16]> {
        match c {
            Chroma::U16(z) => Some(z),
            Chroma::U8(_) => None,
        }
    }
}

/// The view of a frame whose luma alone was read, with `zero` for both chroma planes.
fn luma_view<'a, T: rdbench_metrics::Sample>(
    f: &'a OwnedFrame<T>,
    zero: &'a [T],
) -> Result<FrameView<'a, T>, rdbench_metrics::frame::FrameError> {
    let (cw, ch) = f.sampling.chroma_size(f.width, f.height);
    let y = Plane::new(&f.planes[0], f.width, f.height, f.strides[0])?;
    let c = Plane::new(zero, cw, ch, cw)?;
    FrameView::new([y, c, c], f.bit_depth, f.sampling)
}

/// The chroma sampling of a decoded picture, which must be planar Y'CbCr.
fn sampling(p: &Picture, path: &Path) -> Result<ChromaSampling, CompareError> {
    let s = p.subsampling();
    match (s.log2_w, s.log2_h) {
        (1, 1) => Ok(ChromaSampling::Cs420),
        (1, 0) => Ok(ChromaSampling::Cs422),
        (0, 0) => Ok(ChromaSampling::Cs444),
        _ => Err(CompareError::Format {
            path: path.to_path_buf(),
            pix_fmt: p.pix_fmt(),
        }),
    }
}

fn format_error(p: &Picture, path: &Path, e: impl std::fmt::Display) -> CompareError {
    CompareError::Format {
        path: path.to_path_buf(),
        pix_fmt: format!("{} ({e})", p.pix_fmt()),
    }
}

fn raw_error<T: rdbench_metrics::Sample>(
    path: &Path,
    f: &OwnedFrame<T>,
    e: impl std::fmt::Display,
) -> CompareError {
    CompareError::Format {
        path: path.to_path_buf(),
        pix_fmt: format!("{} ({e})", pix_fmt_name(f.sampling, f.bit_depth)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbench_metrics::y4m::{Y4mHeader, Y4mWriter};
    use rdbench_metrics::{Fps, Sample};

    /// A Y4M file of `n` frames of noise-like ramps in `dir`.
    fn write_y4m(
        dir: &Path,
        (w, h): (usize, usize),
        sampling: ChromaSampling,
        depth: u8,
        n: usize,
    ) -> std::path::PathBuf {
        let path = dir.join(format!("{w}x{h}-{depth}-{sampling:?}.y4m"));
        let header = Y4mHeader::new(w, h, Fps::new(30000, 1001).unwrap(), sampling, depth);
        let mut out = Y4mWriter::new(File::create(&path).unwrap(), header).unwrap();
        let max = (1u32 << depth) - 1;
        for k in 0..n {
            let mut f = OwnedFrame::<u16>::new(w, h, depth.max(9), sampling);
            f.bit_depth = depth;
            for (p, plane) in f.planes.iter_mut().enumerate() {
                for (i, s) in plane.iter_mut().enumerate() {
                    *s = ((i * 7919 + k * 104729 + p * 31) as u32 % (max + 1)) as u16;
                }
            }
            if depth == 8 {
                let g = OwnedFrame::<u8> {
                    planes: f
                        .planes
                        .clone()
                        .map(|p| p.iter().map(|&v| v as u8).collect()),
                    width: w,
                    height: h,
                    strides: f.strides,
                    bit_depth: 8,
                    sampling,
                };
                out.write_frame(&g.view().unwrap()).unwrap();
            } else {
                out.write_frame(&f.view().unwrap()).unwrap();
            }
        }
        out.finish().unwrap();
        path
    }

    fn rows<T: Sample>(v: &FrameView<'_, T>, plane: usize) -> Vec<Vec<T>> {
        v.plane(plane).rows().map(<[T]>::to_vec).collect()
    }

    /// Every picture of `path` read directly equals FFmpeg's decoding of it: index, time and
    /// samples (the luma alone, chroma zero, with `luma_only`).
    fn same_as_ffmpeg(path: &Path, luma_only: bool) {
        let mut direct = Source::open(path, ReaderOptions::default(), luma_only).unwrap();
        assert!(
            matches!(direct, Source::Y4m(_)),
            "{} read directly",
            path.display()
        );
        let mut ffmpeg = FrameReader::open(path, ReaderOptions::default()).unwrap();
        let (a, b) = (direct.info(), ffmpeg.info());
        assert_eq!(
            (a.width, a.height, a.pix_fmt, a.bit_depth, a.rate, a.frames),
            (b.width, b.height, b.pix_fmt, b.bit_depth, b.rate, b.frames),
            "{}",
            path.display()
        );
        let mut n = 0;
        while let Some(d) = direct.next_picture().unwrap() {
            let f = ffmpeg.next_picture().unwrap().expect("as many pictures");
            assert_eq!((d.index, d.pts_s), (f.index, f.pts_s));
            let f = Pic {
                index: f.index,
                pts_s: f.pts_s,
                inner: Inner::Decoded(f),
            };
            assert_eq!(d.bit_depth(), f.bit_depth());
            let planes = if luma_only { 1 } else { 3 };
            if d.bit_depth() == 8 {
                let (dv, fv) = (d.view::<u8>(path).unwrap(), f.view::<u8>(path).unwrap());
                for p in 0..planes {
                    assert_eq!(rows(&dv, p), rows(&fv, p), "plane {p} of frame {n}");
                }
                if luma_only {
                    assert!(rows(&dv, 1).concat().iter().all(|&s| s == 0));
                }
            } else {
                let (dv, fv) = (d.view::<u16>(path).unwrap(), f.view::<u16>(path).unwrap());
                for p in 0..planes {
                    assert_eq!(rows(&dv, p), rows(&fv, p), "plane {p} of frame {n}");
                }
                if luma_only {
                    assert!(rows(&dv, 2).concat().iter().all(|&s| s == 0));
                }
            }
            assert_eq!(d.thumb().unwrap(), f.thumb().unwrap());
            n += 1;
        }
        assert!(ffmpeg.next_picture().unwrap().is_none(), "as many pictures");
        assert_eq!(n, 4);
    }

    #[test]
    fn y4m_files_read_directly_equal_ffmpegs_decoding() {
        let dir = tempfile::tempdir().unwrap();
        for (size, sampling, depth) in [
            ((64, 36), ChromaSampling::Cs420, 8),
            ((33, 17), ChromaSampling::Cs420, 8),
            ((48, 20), ChromaSampling::Cs422, 10),
            ((35, 18), ChromaSampling::Cs444, 12),
        ] {
            let path = write_y4m(dir.path(), size, sampling, depth, 4);
            same_as_ffmpeg(&path, false);
            same_as_ffmpeg(&path, true);
        }
    }

    #[test]
    fn y4m_files_to_scale_or_convert_and_other_files_go_through_ffmpeg() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_y4m(dir.path(), (64, 36), ChromaSampling::Cs420, 8, 2);
        let through = |options: ReaderOptions| {
            matches!(
                Source::open(&path, options, false).unwrap(),
                Source::Decoder(_)
            )
        };
        assert!(!through(ReaderOptions {
            size: Some((64, 36)),
            pix_fmt: Some("yuv420p".into()),
            ..Default::default()
        }));
        assert!(through(ReaderOptions {
            size: Some((32, 18)),
            ..Default::default()
        }));
        assert!(through(ReaderOptions {
            pix_fmt: Some("yuv420p10le".into()),
            ..Default::default()
        }));
        // Not a Y4M file: FFmpeg's reader, and its error.
        let other = dir.path().join("not.y4m");
        std::fs::write(&other, b"YUV4MPEG3 W2 H2\n").unwrap();
        assert!(Source::open(&other, ReaderOptions::default(), false).is_err());
    }

    /// A luma-only (`mono`) Y4M file goes to FFmpeg, which reads it as grey; its pictures have
    /// no chroma to view, and the error says which file and format.
    #[test]
    fn a_grey_picture_is_refused_naming_the_file_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mono.y4m");
        let mut data = b"YUV4MPEG2 W64 H48 F25:1 Cmono\nFRAME\n".to_vec();
        data.resize(data.len() + 64 * 48, 16);
        std::fs::write(&path, data).unwrap();
        let mut s = Source::open(&path, ReaderOptions::default(), false).unwrap();
        assert!(matches!(s, Source::Decoder(_)));
        let p = s.next_picture().unwrap().unwrap();
        let e = p.view::<u8>(&path).err().expect("no chroma").to_string();
        assert!(
            e.starts_with(&format!("{}: pixel format gray", path.display())),
            "{e}"
        );
    }

    #[test]
    fn a_truncated_last_frame_read_directly_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_y4m(dir.path(), (64, 36), ChromaSampling::Cs420, 8, 2);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 100).unwrap();
        for luma_only in [false, true] {
            let mut s = Source::open(&path, ReaderOptions::default(), luma_only).unwrap();
            assert!(matches!(s, Source::Y4m(_)));
            assert!(s.info().frames.is_none(), "the count is not a whole number");
            s.next_picture().unwrap().unwrap();
            let e = s.next_picture().err().expect("the cut frame");
            assert_eq!(
                e.to_string(),
                format!(
                    "{}: Y4M: frame 1 is truncated: 3356 of 3456 bytes",
                    path.display()
                )
            );
        }
    }
}
