//! The filter task of a video flow: frame-rate sampling (VFR, VFR-HALF), then a libavfilter
//! graph for CFR conversion, crop, scale, pixel format and any user graph. A flow that needs no
//! filtering passes frames through untouched (no copy).
//!
//! The graph was planned for the source's first picture size and format. When the source changes
//! them mid-stream (a live source switching layouts, a stream spliced from others), the old graph
//! is flushed (no frame lost) and a new one first fits the new pictures into the first size,
//! keeping their aspect ratio (letterbox or pillarbox), then runs the planned graph: the encoder
//! keeps its size and every output its geometry.

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::error::{Error, Result};
use crate::filter::Sampler;
use crate::media::{self, VideoFrame};
use crate::task::{Sink, Task, TaskStats};

/// The video filter task.
pub struct VideoFilter {
    field: String,
    sampler: Sampler,
    graph_desc: Option<String>,
    threads: u32,
    graph: Option<Configured>,
    /// The first picture's size and format: what the planned graph expects.
    first: Option<(u32, u32, ffi::AVPixelFormat)>,
    dropped: u64,
    /// Carry the user data of frames the sampler drops on to the next kept frame.
    merge_dropped: bool,
    /// User data of dropped frames waiting for the next kept frame.
    pending: Vec<Vec<u8>>,
    /// Record when each frame leaves the filter (an output writing latency records).
    stamp: bool,
}

/// The filters fitting pictures into `w` x `h` in `fmt`, keeping their aspect ratio.
pub fn fit_graph(w: u32, h: u32, fmt: &str) -> String {
    format!(
        "scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,\
         pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format={fmt}"
    )
}

/// Hands a frame on, with the time it left the filter when `stamp`.
fn emit(stamp: bool, mut frame: VideoFrame, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
    if stamp {
        media::add_user_data(
            &mut frame.frame,
            &crate::sei::stamp_bytes(crate::sei::stage::FILTERED, crate::sei::now_us()),
        );
    }
    out.push(frame)
}

struct Configured {
    graph: ff::filter::Graph,
    key: (u32, u32, ffi::AVPixelFormat, ff::Rational),
    out_tb: ff::Rational,
    /// The last frame given to the graph: its timestamp, its own duration when the decoder
    /// knew it, and the step from the frame before it (in the source's time base).
    last: Option<(i64, Option<i64>, Option<i64>)>,
}

impl Configured {
    /// Notes a frame on its way into the graph.
    fn saw(&mut self, pts: Option<i64>, duration: i64) {
        let Some(pts) = pts else { return };
        let step = self
            .last
            .and_then(|(prev, _, _)| (pts > prev).then_some(pts - prev));
        self.last = Some((pts, (duration > 0).then_some(duration), step));
    }

    /// When the last frame given to the graph ends: its timestamp plus its duration, or the
    /// step before it when the decoder gave none (None: no frame with a timestamp yet).
    fn end_pts(&self) -> Option<i64> {
        self.last
            .and_then(|(pts, duration, step)| duration.or(step).map(|d| pts + d))
    }
}

impl VideoFilter {
    /// A filter for the output whose spec field is `field`, sampling with `sampler` and then
    /// running `graph_desc` (None: no graph) with `threads` threads (0: automatic).
    pub fn new(field: String, sampler: Sampler, graph_desc: Option<String>, threads: u32) -> Self {
        VideoFilter {
            field,
            sampler,
            graph_desc,
            threads,
            graph: None,
            first: None,
            dropped: 0,
            merge_dropped: false,
            pending: Vec::new(),
            stamp: false,
        }
    }

    /// What happens to user data (SEI) on the way: `merge_dropped` carries a dropped frame's on
    /// to the next kept frame, `stamp` records when each frame leaves the filter.
    pub fn with_user_data(mut self, merge_dropped: bool, stamp: bool) -> Self {
        self.merge_dropped = merge_dropped;
        self.stamp = stamp;
        self
    }

    /// Hands a frame on, stamped when asked.
    fn emit(&self, frame: VideoFrame, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        emit(self.stamp, frame, out)
    }

    /// The graph for pictures of `(w, h, fmt)`: the planned one for the first size and format,
    /// a fit into the first size before it for any other (None: pass frames through).
    fn desc_for(&self, w: u32, h: u32, fmt: ffi::AVPixelFormat) -> Option<String> {
        let first = self.first.unwrap_or((w, h, fmt));
        if first == (w, h, fmt) {
            return self.graph_desc.clone();
        }
        let name = media::pix_fmt_name(ff::format::Pixel::from(first.2));
        let fit = fit_graph(first.0, first.1, &name);
        Some(match &self.graph_desc {
            Some(d) => format!("{fit},{d}"),
            None => fit,
        })
    }

    /// Makes the graph fit `frame`; flushes the previous one into `out` when the pictures
    /// changed. Returns false when frames of this kind pass through unfiltered.
    fn configure(&mut self, frame: &VideoFrame, out: &mut dyn Sink<VideoFrame>) -> Result<bool> {
        let f = &frame.frame;
        let fmt: ffi::AVPixelFormat = f.format().into();
        let key = (f.width(), f.height(), fmt, frame.time_base);
        if self.graph.as_ref().is_some_and(|g| g.key == key) {
            return Ok(true);
        }
        self.first.get_or_insert((f.width(), f.height(), fmt));
        if self.graph.is_some() {
            // The pictures changed: what the old graph holds goes out first.
            self.flush(out)?;
            self.graph = None;
        }
        let Some(desc) = self.desc_for(f.width(), f.height(), fmt) else {
            return Ok(false);
        };
        let err = |message: String| Error::Filter {
            field: format!("{}.filter", self.field),
            graph: desc.clone(),
            message,
        };
        let sar = f.aspect_ratio();
        let (sn, sd) = if sar.numerator() > 0 && sar.denominator() > 0 {
            (sar.numerator(), sar.denominator())
        } else {
            (1, 1)
        };
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
            f.width(),
            f.height(),
            fmt as i32,
            frame.time_base.numerator(),
            frame.time_base.denominator().max(1),
            sn,
            sd
        );
        let mut graph = ff::filter::Graph::new();
        // SAFETY: setting the thread count of a graph we own, before it is configured.
        unsafe {
            (*graph.as_mut_ptr()).nb_threads = self.threads as i32;
        }
        crate::log::clear();
        let buffer = ff::filter::find("buffer")
            .ok_or_else(|| err("libavfilter has no buffer source".into()))?;
        let sink = ff::filter::find("buffersink")
            .ok_or_else(|| err("libavfilter has no buffersink".into()))?;
        graph
            .add(&buffer, "in", &args)
            .map_err(|e| err(crate::log::describe(e)))?;
        graph
            .add(&sink, "out", "")
            .map_err(|e| err(crate::log::describe(e)))?;
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&desc))
            .map_err(|e| err(crate::log::describe(e)))?;
        graph.validate().map_err(|e| err(crate::log::describe(e)))?;
        let out_tb = {
            let ctx = graph.get("out").expect("sink was added");
            // SAFETY: the sink context of a configured graph.
            ff::Rational::from(unsafe { ffi::av_buffersink_get_time_base(ctx.as_ptr()) })
        };
        self.graph = Some(Configured {
            graph,
            key,
            out_tb,
            last: None,
        });
        Ok(true)
    }

    /// Ends the graph's input and passes on what it still holds. The end is where the last
    /// frame ends, as FFmpeg's own tools tell the graph: a frame-rate conversion then fills the
    /// last frame's whole duration (25 to 30 fps over 2 s gives 60 frames, not 59).
    fn flush(&mut self, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        let Some(g) = self.graph.as_mut() else {
            return Ok(());
        };
        let end = g.end_pts();
        let mut src = g.graph.get("in").expect("source was added");
        let failed = |e| Error::ffmpeg(format!("{}: flushing the filter", self.field), e);
        match end {
            Some(pts) => {
                // SAFETY: `src` is the buffer source of our configured graph; closing it with a
                // timestamp in its own time base is what av_buffersrc_add_frame(NULL) does
                // with none, and nothing is added after it.
                let rc = unsafe {
                    ffi::av_buffersrc_close(
                        src.as_mut_ptr(),
                        pts,
                        ffi::AV_BUFFERSRC_FLAG_PUSH as u32,
                    )
                };
                if rc < 0 {
                    return Err(failed(ff::Error::from(rc)));
                }
            }
            None => src.source().flush().map_err(failed)?,
        }
        self.pull(out)
    }

    fn pull(&mut self, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        let stamp = self.stamp;
        let g = self.graph.as_mut().expect("graph configured");
        let mut sink = g.graph.get("out").expect("sink was added");
        loop {
            let mut filtered = ff::frame::Video::empty();
            match sink.sink().frame(&mut filtered) {
                Ok(()) => emit(
                    stamp,
                    VideoFrame {
                        frame: filtered,
                        time_base: g.out_tb,
                    },
                    out,
                )?,
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(Error::ffmpeg(format!("{}: filtering", self.field), e)),
            }
        }
    }
}

impl Task for VideoFilter {
    type In = VideoFrame;
    type Out = VideoFrame;

    fn process(&mut self, mut frame: VideoFrame, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        let t = media::seconds(frame.frame.pts().unwrap_or(0), frame.time_base);
        if !self.sampler.keep(t) {
            self.dropped += 1;
            if self.merge_dropped {
                // Its user data, not rdbench's own stage times, rides on the next kept frame.
                self.pending.extend(
                    media::user_data(&frame.frame)
                        .into_iter()
                        .filter(|d| !d.starts_with(&crate::sei::STAMP_UUID)),
                );
            }
            return Ok(());
        }
        for d in std::mem::take(&mut self.pending) {
            media::add_user_data(&mut frame.frame, &d);
        }
        if self.graph_desc.is_none() && self.graph.is_none() {
            let f = &frame.frame;
            let kind = (f.width(), f.height(), f.format().into());
            if *self.first.get_or_insert(kind) == kind {
                return self.emit(frame, out);
            }
        }
        if !self.configure(&frame, out)? {
            return self.emit(frame, out);
        }
        {
            let g = self.graph.as_mut().expect("graph configured");
            g.saw(frame.frame.pts(), frame.frame.packet().duration);
            let mut src = g.graph.get("in").expect("source was added");
            src.source()
                .add(&frame.frame)
                .map_err(|e| Error::ffmpeg(format!("{}: filtering", self.field), e))?;
        }
        self.pull(out)
    }

    fn finish(&mut self, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        self.flush(out)
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.dropped += self.dropped;
    }
}
