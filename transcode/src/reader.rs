//! Reading a file as decoded pictures, for scoring: every frame of the best video stream,
//! optionally scaled (bicubic by default, as ladder rungs are compared with their source) and
//! converted to another pixel format, with its planes exposed through their row stride.
//!
//! Metric code never sees FFmpeg: a [`Picture`] hands out plain slices and strides, and the glue
//! turning them into metric plane views lives in the bench-suite crate.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::cpu::HelperThreads;
use crate::error::{Error, Result};
use crate::filter::ScaleAlgorithm;
use crate::input::{self, InputSource, VideoInfo};
use crate::media;

/// How a [`FrameReader`] delivers pictures.
#[derive(Clone, Debug, Default)]
pub struct ReaderOptions {
    /// Scale every picture to this size.
    pub size: Option<(u32, u32)>,
    /// Convert every picture to this pixel format (FFmpeg name, e.g. "yuv420p10le").
    pub pix_fmt: Option<String>,
    /// The scaling algorithm.
    pub scale: ScaleAlgorithm,
    /// Decoder threads (0: automatic).
    pub threads: u32,
}

/// One decoded picture.
pub struct Picture {
    frame: ff::frame::Video,
    /// Display-order index, from 0.
    pub index: u64,
    /// Presentation time in seconds.
    pub pts_s: f64,
}

/// Chroma subsampling of a planar Y'CbCr picture, as log2 factors (1,1 = 4:2:0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subsampling {
    /// Horizontal.
    pub log2_w: u8,
    /// Vertical.
    pub log2_h: u8,
}

impl Picture {
    /// Luma width.
    pub fn width(&self) -> usize {
        self.frame.width() as usize
    }

    /// Luma height.
    pub fn height(&self) -> usize {
        self.frame.height() as usize
    }

    /// Bits per sample.
    pub fn bit_depth(&self) -> u8 {
        media::bit_depth(self.frame.format())
    }

    /// The pixel format's name.
    pub fn pix_fmt(&self) -> String {
        media::pix_fmt_name(self.frame.format())
    }

    /// Chroma subsampling.
    pub fn subsampling(&self) -> Subsampling {
        let pix: ffi::AVPixelFormat = self.frame.format().into();
        // SAFETY: a static descriptor for the frame's own format.
        unsafe {
            let d = ffi::av_pix_fmt_desc_get(pix);
            if d.is_null() {
                return Subsampling {
                    log2_w: 1,
                    log2_h: 1,
                };
            }
            Subsampling {
                log2_w: (*d).log2_chroma_w,
                log2_h: (*d).log2_chroma_h,
            }
        }
    }

    /// Width and height of plane `i` (0 = Y, 1 = Cb, 2 = Cr).
    pub fn plane_size(&self, i: usize) -> (usize, usize) {
        if i == 0 {
            return (self.width(), self.height());
        }
        let s = self.subsampling();
        let w = (self.width() + (1 << s.log2_w) - 1) >> s.log2_w;
        let h = (self.height() + (1 << s.log2_h) - 1) >> s.log2_h;
        (w, h)
    }

    fn plane_bytes(&self, i: usize, sample_bytes: usize) -> Result<(&[u8], usize)> {
        if i > 2 {
            return Err(Error::Ffmpeg {
                context: "reading a picture".into(),
                message: format!("plane {i} does not exist"),
            });
        }
        let (w, h) = self.plane_size(i);
        // SAFETY: data[i] and linesize[i] describe plane i of a decoded frame we own; a plane of
        // height h spans (h - 1) * linesize + w * sample_bytes bytes from data[i], which is
        // what the slice covers. Negative strides (bottom-up pictures) are refused.
        unsafe {
            let f = self.frame.as_ptr();
            let stride = (*f).linesize[i];
            let data = (*f).data[i];
            if data.is_null() || stride <= 0 {
                return Err(Error::Ffmpeg {
                    context: "reading a picture".into(),
                    message: format!("plane {i} has no data or a negative stride"),
                });
            }
            let stride = stride as usize;
            let len = if h == 0 {
                0
            } else {
                (h - 1) * stride + w * sample_bytes
            };
            Ok((std::slice::from_raw_parts(data, len), stride))
        }
    }

    /// Plane `i` of an 8-bit picture: samples and the row stride in samples.
    pub fn plane_u8(&self, i: usize) -> Result<(&[u8], usize)> {
        if self.bit_depth() > 8 {
            return Err(Error::Ffmpeg {
                context: "reading a picture".into(),
                message: format!("{} is not an 8-bit format", self.pix_fmt()),
            });
        }
        self.plane_bytes(i, 1)
    }

    /// Plane `i` of a high-bit-depth picture: samples and the row stride in samples.
    pub fn plane_u16(&self, i: usize) -> Result<(&[u16], usize)> {
        if self.bit_depth() <= 8 {
            return Err(Error::Ffmpeg {
                context: "reading a picture".into(),
                message: format!("{} is an 8-bit format", self.pix_fmt()),
            });
        }
        let (bytes, stride) = self.plane_bytes(i, 2)?;
        if bytes.as_ptr() as usize % 2 != 0 || stride % 2 != 0 {
            return Err(Error::Ffmpeg {
                context: "reading a picture".into(),
                message: "16-bit plane is not 2-byte aligned".into(),
            });
        }
        // SAFETY: the bytes are 2-byte aligned (checked) native-endian 16-bit samples (FFmpeg's
        // *le formats on a little-endian machine); the length is rounded down to whole samples.
        let samples =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const u16, bytes.len() / 2) };
        Ok((samples, stride / 2))
    }
}

/// Decodes a file picture by picture.
pub struct FrameReader {
    path: PathBuf,
    ictx: ff::format::context::Input,
    decoder: ff::decoder::Video,
    info: VideoInfo,
    options: ReaderOptions,
    target_fmt: Option<ff::format::Pixel>,
    scaler: Option<(
        ff::software::scaling::Context,
        (u32, u32, ff::format::Pixel),
    )>,
    sent_eof: bool,
    finished: bool,
    next_index: u64,
    corrupt: u64,
    helpers: HelperThreads,
}

// SAFETY: a FrameReader owns its demuxer, decoder and scaler outright and is used through
// `&mut self` only; none of FFmpeg's objects it holds has thread affinity (ffmpeg-next already
// marks the demuxer and decoder Send; a swscale context is plain memory), so moving the whole
// reader to another thread is sound.
unsafe impl Send for FrameReader {}

impl FrameReader {
    /// Opens `path` for reading.
    pub fn open(path: &Path, options: ReaderOptions) -> Result<Self> {
        let source = InputSource::File(path.to_path_buf());
        let ictx = input::open(&source)?;
        let info = input::video_info(&ictx, path)?;
        let target_fmt = match &options.pix_fmt {
            Some(name) => Some(media::pix_fmt_by_name(name).ok_or_else(|| Error::Spec {
                field: "pix_fmt".into(),
                message: format!("unknown pixel format `{name}`"),
            })?),
            None => None,
        };
        let mut helpers = HelperThreads::default();
        let stream = ictx
            .stream(info.index)
            .expect("stream index from this input");
        let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| Error::ffmpeg(format!("{}: decoder", path.display()), e))?;
        // SAFETY: plain fields of an unopened context we own.
        unsafe {
            let p = ctx.as_mut_ptr();
            (*p).thread_count = options.threads as i32;
            (*p).thread_type = ffi::FF_THREAD_FRAME | ffi::FF_THREAD_SLICE;
            (*p).pkt_timebase = stream.time_base().into();
        }
        let codec = ff::decoder::find(stream.parameters().id()).ok_or_else(|| Error::NotMedia {
            path: path.to_path_buf(),
            reason: format!("no decoder for {}", stream.parameters().id().name()),
        })?;
        let decoder = {
            let _w = helpers.watch();
            ctx.decoder()
                .open_as(codec)
                .and_then(|o| o.video())
                .map_err(|e| Error::ffmpeg(format!("{}: opening the decoder", path.display()), e))?
        };
        Ok(FrameReader {
            path: path.to_path_buf(),
            ictx,
            decoder,
            info,
            options,
            target_fmt,
            scaler: None,
            sent_eof: false,
            finished: false,
            next_index: 0,
            corrupt: 0,
            helpers,
        })
    }

    /// What the stream declares (size, rate, format, frame count when known).
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// Corrupt packets and damaged pictures seen so far.
    pub fn corrupt(&self) -> u64 {
        self.corrupt
    }

    /// CPU seconds of the decoder's own threads (frame threads), read while they exist.
    pub fn helper_cpu_s(&self) -> f64 {
        self.helpers.cpu_s()
    }

    /// The next picture in display order, or None at the end.
    pub fn next_picture(&mut self) -> Result<Option<Picture>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let mut frame = ff::frame::Video::empty();
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    // SAFETY: reading a plain field of a frame we own.
                    if unsafe { (*frame.as_ptr()).decode_error_flags } != 0 || frame.is_corrupt() {
                        self.corrupt += 1;
                    }
                    let pts = frame.timestamp().unwrap_or(0);
                    let pts_s = media::seconds(pts, self.info.time_base);
                    let frame = self.convert(frame)?;
                    let index = self.next_index;
                    self.next_index += 1;
                    return Ok(Some(Picture {
                        frame,
                        index,
                        pts_s,
                    }));
                }
                Err(ff::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                }) => {}
                Err(ff::Error::InvalidData) => {
                    self.corrupt += 1;
                    continue;
                }
                Err(e) => {
                    return Err(Error::ffmpeg(
                        format!("{}: decoding", self.path.display()),
                        e,
                    ))
                }
            }
            // The decoder wants input.
            if self.sent_eof {
                self.finished = true;
                return Ok(None);
            }
            loop {
                let mut packet = ff::Packet::empty();
                match packet.read(&mut self.ictx) {
                    Ok(()) => {
                        if packet.stream() != self.info.index {
                            continue;
                        }
                        if self.decoder.send_packet(&packet).is_err() {
                            self.corrupt += 1;
                        }
                        break;
                    }
                    Err(ff::Error::Other {
                        errno: libc::EAGAIN,
                    }) => continue,
                    Err(_) => {
                        let _ = self.decoder.send_eof();
                        self.sent_eof = true;
                        break;
                    }
                }
            }
        }
    }

    fn convert(&mut self, frame: ff::frame::Video) -> Result<ff::frame::Video> {
        let (w, h) = self.options.size.unwrap_or((frame.width(), frame.height()));
        let fmt = self.target_fmt.unwrap_or(frame.format());
        if (w, h, fmt) == (frame.width(), frame.height(), frame.format()) {
            return Ok(frame);
        }
        let key = (frame.width(), frame.height(), frame.format());
        if self.scaler.as_ref().map(|(_, k)| *k != key).unwrap_or(true) {
            let flags = match self.options.scale {
                ScaleAlgorithm::Bicubic => ff::software::scaling::Flags::BICUBIC,
                ScaleAlgorithm::Bilinear => ff::software::scaling::Flags::BILINEAR,
                ScaleAlgorithm::FastBilinear => ff::software::scaling::Flags::FAST_BILINEAR,
                ScaleAlgorithm::Lanczos => ff::software::scaling::Flags::LANCZOS,
                ScaleAlgorithm::Spline => ff::software::scaling::Flags::SPLINE,
                ScaleAlgorithm::Area => ff::software::scaling::Flags::AREA,
                ScaleAlgorithm::Neighbor => ff::software::scaling::Flags::POINT,
                ScaleAlgorithm::Gauss => ff::software::scaling::Flags::GAUSS,
            };
            let ctx = ff::software::scaling::Context::get(
                frame.format(),
                frame.width(),
                frame.height(),
                fmt,
                w,
                h,
                flags,
            )
            .map_err(|e| Error::ffmpeg(format!("{}: scaler", self.path.display()), e))?;
            self.scaler = Some((ctx, key));
        }
        let mut out = ff::frame::Video::empty();
        self.scaler
            .as_mut()
            .expect("scaler set")
            .0
            .run(&frame, &mut out)
            .map_err(|e| Error::ffmpeg(format!("{}: scaling", self.path.display()), e))?;
        out.set_pts(frame.pts());
        Ok(out)
    }
}
