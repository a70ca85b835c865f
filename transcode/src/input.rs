//! Inputs: opening a file (or a `lavfi:` test-pattern graph), describing its streams, and the
//! decode tasks that turn its packets into frames once for every pipeline.
//!
//! Corrupt packets are counted and skipped as FFmpeg's own tools do; they never stop a job.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;

use ff::Rational;
use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::cpu::HelperThreads;
use crate::error::{Error, Result};
use crate::filter::Rate;
use crate::media::{self, AudioFrame, VideoFrame};
use crate::task::{Sink, Task, TaskStats};

/// Where frames come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// A media file.
    File(PathBuf),
    /// A libavfilter source graph (`lavfi:testsrc2=size=1280x720:rate=30:duration=2`).
    Lavfi(String),
}

impl InputSource {
    /// Reads a spec's `input` string, resolving a relative file path against `base_file`'s folder.
    pub fn parse(text: &str, base_file: Option<&Path>) -> InputSource {
        if let Some(graph) = text.strip_prefix("lavfi:") {
            return InputSource::Lavfi(graph.to_string());
        }
        match base_file {
            Some(b) => InputSource::File(crate::spec::resolve(b, text)),
            None => InputSource::File(PathBuf::from(text)),
        }
    }

    /// How errors name the input.
    pub fn display_path(&self) -> PathBuf {
        match self {
            InputSource::File(p) => p.clone(),
            InputSource::Lavfi(g) => PathBuf::from(format!("lavfi:{g}")),
        }
    }
}

/// Opens an input and reads its stream information.
pub fn open(source: &InputSource) -> Result<ff::format::context::Input> {
    crate::init();
    let path = source.display_path();
    let (url, format) = match source {
        InputSource::File(p) => {
            if !p.exists() {
                return Err(Error::NotFound { path: p.clone() });
            }
            if p.is_dir() {
                return Err(Error::NotMedia {
                    path: p.clone(),
                    reason: "it is a folder".into(),
                });
            }
            if let Err(e) = std::fs::File::open(p) {
                return Err(Error::io(p, "opening", e));
            }
            (p.to_string_lossy().into_owned(), None)
        }
        InputSource::Lavfi(g) => (g.clone(), Some("lavfi")),
    };
    open_url(&url, &path, format, &[])
}

/// Opens an input that may still be growing: with `follow_s`, a file is read as it is written,
/// reading waiting at its end until no new data has come for `follow_s` seconds.
pub fn open_following(
    source: &InputSource,
    follow_s: Option<f64>,
) -> Result<ff::format::context::Input> {
    match (source, follow_s) {
        (InputSource::File(p), Some(idle)) => {
            crate::init();
            if !p.is_file() {
                return Err(Error::NotFound { path: p.clone() });
            }
            let timeout = format!("{}", (idle * 1e6).round() as i64);
            open_url(
                &format!("file:{}", p.to_string_lossy()),
                p,
                None,
                &[("follow", "1"), ("rw_timeout", &timeout)],
            )
        }
        _ => open(source),
    }
}

/// The next packet of `input` (named `path` in errors), None at its end. A followed file
/// (`following`) ends when nothing new has come for its idle time, which FFmpeg reports as an
/// error.
pub fn next_packet(
    input: &mut ff::format::context::Input,
    path: &Path,
    following: bool,
) -> Result<Option<ff::Packet>> {
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(input) {
            Ok(()) => return Ok(Some(packet)),
            Err(ff::Error::Eof) => return Ok(None),
            Err(ff::Error::Other {
                errno: libc::EAGAIN,
            }) => continue,
            Err(_) if following => return Ok(None),
            Err(e) => return Err(Error::ffmpeg(format!("{}: reading", path.display()), e)),
        }
    }
}

/// Opens `path` with the demuxer `format` (None: probe) and demuxer `options` (such as the
/// frame rate of a raw elementary stream).
pub fn open_file_as(
    path: &Path,
    format: Option<&str>,
    options: &[(&str, &str)],
) -> Result<ff::format::context::Input> {
    crate::init();
    if !path.is_file() {
        return Err(Error::NotFound {
            path: path.to_path_buf(),
        });
    }
    open_url(&path.to_string_lossy(), path, format, options)
}

/// The file name of the libavdevice that goes with the libavformat this process runs (their
/// major versions move together: 59 in FFmpeg 5.x, 60 in 6.x, 61 in 7.x).
fn avdevice_soname(avformat_version: u32) -> String {
    format!("libavdevice.so.{}", avformat_version >> 16)
}

/// Registers FFmpeg's input devices, which `lavfi:` inputs need, by loading libavdevice on first
/// use. rdbench does not link it: it and the libraries it pulls in (display, audio and capture
/// systems) are 48 of the 215 shared libraries a linked binary loads at every start, for one
/// test-pattern input.
fn load_devices() -> std::result::Result<(), String> {
    static LOADED: std::sync::OnceLock<std::result::Result<(), String>> =
        std::sync::OnceLock::new();
    LOADED
        .get_or_init(|| {
            // SAFETY: avformat_version takes nothing and returns a number.
            let name = avdevice_soname(unsafe { ffi::avformat_version() });
            let c = CString::new(name.as_str()).expect("a library name has no NUL byte");
            // SAFETY: dlopen gets a valid NUL-terminated name; the library is never closed (the
            // devices it registers stay in libavformat's lists for the life of the process).
            // `avdevice_register_all` is looked up in that library and called with its own
            // signature, `void (void)`; it only hands libavformat its device lists.
            unsafe {
                let lib = libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
                if lib.is_null() {
                    return Err(format!(
                        "`lavfi:` inputs need FFmpeg's device library, {name}, which is not \
                         installed (Debian: libavdevice{})",
                        name.rsplit('.').next().unwrap_or("")
                    ));
                }
                let sym = libc::dlsym(lib, c"avdevice_register_all".as_ptr());
                if sym.is_null() {
                    return Err(format!("{name} has no avdevice_register_all"));
                }
                let register: extern "C" fn() = std::mem::transmute(sym);
                register();
            }
            Ok(())
        })
        .clone()
}

fn open_url(
    url: &str,
    path: &Path,
    format: Option<&str>,
    options: &[(&str, &str)],
) -> Result<ff::format::context::Input> {
    let path = path.to_path_buf();
    let c_url = CString::new(url).map_err(|_| Error::NotMedia {
        path: path.clone(),
        reason: "path contains a NUL byte".into(),
    })?;
    let mut dict = ff::Dictionary::new();
    for (k, v) in options {
        dict.set(k, v);
    }
    crate::log::clear();
    // SAFETY: plain FFI calls with valid, NUL-terminated strings; on success `ctx` is an opened
    // AVFormatContext whose ownership passes to `Input::wrap` (which closes it on drop); on
    // failure avformat_open_input frees it and leaves it null. The options dictionary is ours:
    // avformat_open_input leaves in it what the demuxer did not use, and we free it.
    unsafe {
        let fmt = match format {
            Some(name) => {
                let c = CString::new(name).map_err(|_| Error::NotMedia {
                    path: path.clone(),
                    reason: "a format name with a NUL byte".into(),
                })?;
                let mut f = ffi::av_find_input_format(c.as_ptr());
                if f.is_null() && name == "lavfi" {
                    if let Err(why) = load_devices() {
                        return Err(Error::NotMedia { path, reason: why });
                    }
                    f = ffi::av_find_input_format(c.as_ptr());
                }
                if f.is_null() {
                    return Err(Error::NotMedia {
                        path,
                        reason: format!("this FFmpeg has no `{name}` demuxer"),
                    });
                }
                f
            }
            None => ptr::null(),
        };
        let mut ctx: *mut ffi::AVFormatContext = ptr::null_mut();
        let mut opts = dict.disown();
        let rc = ffi::avformat_open_input(&mut ctx, c_url.as_ptr(), fmt as _, &mut opts);
        ffi::av_dict_free(&mut opts);
        if rc < 0 {
            return Err(Error::NotMedia {
                path,
                reason: crate::log::describe(ff::Error::from(rc)),
            });
        }
        let rc = ffi::avformat_find_stream_info(ctx, ptr::null_mut());
        let input = ff::format::context::Input::wrap(ctx);
        if rc < 0 {
            return Err(Error::NotMedia {
                path,
                reason: crate::log::describe(ff::Error::from(rc)),
            });
        }
        if input.streams().count() == 0 {
            return Err(Error::NotMedia {
                path,
                reason: "no streams found".into(),
            });
        }
        Ok(input)
    }
}

/// The facts about a video stream that planning needs.
#[derive(Clone, Debug)]
pub struct VideoInfo {
    /// Stream index.
    pub index: usize,
    /// Codec name.
    pub codec: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Pixel format.
    pub pix_fmt: ff::format::Pixel,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Frame rate (average, or the container's base rate when the average is unknown).
    pub rate: Rate,
    /// Whether the stream looks constant-frame-rate (average and base rates agree).
    pub cfr: bool,
    /// The container's base rate (the rate timestamps are a multiple of), when it has one.
    pub base_rate: Option<Rate>,
    /// Stream time base.
    pub time_base: Rational,
    /// Duration in seconds, when known.
    pub duration_s: Option<f64>,
    /// Frames, when known (declared or estimated from the duration).
    pub frames: Option<u64>,
    /// The clockwise turn (0, 90, 180, 270) the stream's display matrix asks players for.
    pub rotation: u32,
}

/// The facts about an audio stream.
#[derive(Clone, Debug)]
pub struct AudioInfo {
    /// Stream index.
    pub index: usize,
    /// Codec name.
    pub codec: String,
    /// Sample rate.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Stream time base.
    pub time_base: Rational,
}

impl VideoInfo {
    /// Stands for the video stream of an input that has none (its outputs are audio alone):
    /// no stream index matches it; the duration is the input's.
    pub fn absent(input: &ff::format::context::Input) -> VideoInfo {
        VideoInfo {
            index: usize::MAX,
            codec: String::new(),
            width: 0,
            height: 0,
            pix_fmt: ff::format::Pixel::None,
            bit_depth: 8,
            rate: Rate { num: 25, den: 1 },
            cfr: true,
            base_rate: None,
            time_base: Rational::new(1, 1000),
            duration_s: (input.duration() > 0)
                .then(|| input.duration() as f64 / ffi::AV_TIME_BASE as f64),
            frames: None,
            rotation: 0,
        }
    }

    /// The facts of a raw stream read without FFmpeg (a Y4M file read directly): `frames`
    /// pictures of `width` x `height` in `pix_fmt` (an FFmpeg name) at `rate`, timestamps
    /// counting frames (the time base is one frame). `None` when FFmpeg has no such pixel
    /// format or the rate is not positive.
    pub fn raw(
        width: u32,
        height: u32,
        pix_fmt: &str,
        rate: Rate,
        frames: Option<u64>,
    ) -> Option<VideoInfo> {
        let pix = media::pix_fmt_by_name(pix_fmt)?;
        if rate.num <= 0 || rate.den <= 0 {
            return None;
        }
        Some(VideoInfo {
            index: 0,
            codec: "rawvideo".into(),
            width,
            height,
            pix_fmt: pix,
            bit_depth: media::bit_depth(pix),
            rate,
            cfr: true,
            base_rate: Some(rate),
            time_base: Rational::new(rate.den, rate.num),
            duration_s: frames.map(|n| n as f64 / rate.fps()),
            frames,
            rotation: 0,
        })
    }
}

/// The best video stream of `input`.
pub fn video_info(input: &ff::format::context::Input, path: &Path) -> Result<VideoInfo> {
    let stream = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| Error::NoStream {
            path: path.to_path_buf(),
            kind: "video",
        })?;
    let params = stream.parameters();
    // SAFETY: `params` wraps the stream's valid AVCodecParameters.
    let (w, h, fmt, codec_id) = unsafe {
        let p = params.as_ptr();
        ((*p).width, (*p).height, (*p).format, (*p).codec_id)
    };
    if w <= 0 || h <= 0 {
        return Err(Error::NotMedia {
            path: path.to_path_buf(),
            reason: "the video stream has no picture size".into(),
        });
    }
    // SAFETY: the format number comes from FFmpeg itself and names a valid AVPixelFormat or -1.
    let pix =
        ff::format::Pixel::from(unsafe { std::mem::transmute::<i32, ffi::AVPixelFormat>(fmt) });
    let avg = stream.avg_frame_rate();
    let base = stream.rate();
    let pick = if avg.numerator() > 0 && avg.denominator() > 0 {
        avg
    } else {
        base
    };
    let rate = if pick.numerator() > 0 && pick.denominator() > 0 {
        Rate {
            num: pick.numerator(),
            den: pick.denominator(),
        }
    } else {
        Rate { num: 25, den: 1 }
    };
    let tb = stream.time_base();
    let duration_s = if stream.duration() > 0 {
        Some(media::seconds(stream.duration(), tb))
    } else if input.duration() > 0 {
        Some(input.duration() as f64 / ffi::AV_TIME_BASE as f64)
    } else {
        None
    };
    let frames = if stream.frames() > 0 {
        Some(stream.frames() as u64)
    } else {
        duration_s.map(|d| (d * rate.fps()).round() as u64)
    };
    Ok(VideoInfo {
        index: stream.index(),
        codec: ff::codec::Id::from(codec_id).name().to_string(),
        width: w as u32,
        height: h as u32,
        pix_fmt: pix,
        bit_depth: media::bit_depth(pix),
        rate,
        cfr: avg == base || avg.numerator() == 0,
        base_rate: (base.numerator() > 0 && base.denominator() > 0).then(|| Rate {
            num: base.numerator(),
            den: base.denominator(),
        }),
        time_base: tb,
        duration_s,
        frames,
        rotation: stream
            .side_data()
            .find(|sd| sd.kind() == ff::codec::packet::side_data::Type::DisplayMatrix)
            .and_then(|sd| {
                let b = sd.data();
                (b.len() >= 36).then(|| {
                    let m: [i32; 9] = std::array::from_fn(|i| {
                        i32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().expect("4 bytes"))
                    });
                    crate::orient::display_rotation(&m)
                })
            })
            .unwrap_or(0),
    })
}

/// Whether a file whose streams reach `reached_s` seconds ends well before its declared
/// duration (by more than half a second and 2%): it was cut short.
pub fn is_truncated(declared_s: Option<f64>, reached_s: f64) -> bool {
    let declared = declared_s.unwrap_or(0.0);
    declared > 0.0 && reached_s + (0.5f64).max(declared * 0.02) < declared
}

/// The presentation times (seconds, sorted) of the first `max` video packets of `source`, read
/// by demuxing alone: enough to tell a constant frame rate from a variable one.
pub fn video_timestamps(source: &InputSource, max: usize) -> Result<Vec<f64>> {
    let mut ctx = open(source)?;
    let path = source.display_path();
    let info = video_info(&ctx, &path)?;
    let mut out = Vec::new();
    for (stream, packet) in ctx.packets() {
        if stream.index() != info.index {
            continue;
        }
        if let Some(pts) = packet.pts().or(packet.dts()) {
            out.push(media::seconds(pts, info.time_base));
        }
        if out.len() >= max {
            break;
        }
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// The best audio stream of `input`, if any.
pub fn audio_info(input: &ff::format::context::Input) -> Option<AudioInfo> {
    let stream = input.streams().best(ff::media::Type::Audio)?;
    let params = stream.parameters();
    // SAFETY: `params` wraps the stream's valid AVCodecParameters.
    let (rate, channels, codec_id) = unsafe {
        let p = params.as_ptr();
        ((*p).sample_rate, (*p).ch_layout.nb_channels, (*p).codec_id)
    };
    Some(AudioInfo {
        index: stream.index(),
        codec: ff::codec::Id::from(codec_id).name().to_string(),
        sample_rate: rate.max(0) as u32,
        channels: channels.max(0) as u32,
        time_base: stream.time_base(),
    })
}

/// Opens a decoder for stream `index` with `threads` (0: automatic), attributing the threads
/// it spawns to `helpers`.
fn open_decoder(
    input: &ff::format::context::Input,
    index: usize,
    threads: u32,
    helpers: &mut HelperThreads,
    path: &Path,
) -> Result<ff::decoder::Opened> {
    let stream = input.stream(index).expect("stream index from this input");
    let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| Error::ffmpeg(format!("{}: decoder parameters", path.display()), e))?;
    // SAFETY: setting plain fields of a not-yet-opened codec context we own.
    unsafe {
        let p = ctx.as_mut_ptr();
        (*p).pkt_timebase = stream.time_base().into();
        (*p).thread_count = threads as i32;
        (*p).thread_type = ffi::FF_THREAD_FRAME | ffi::FF_THREAD_SLICE;
    }
    let mut dec = ctx.decoder();
    dec.set_packet_time_base(stream.time_base());
    crate::log::clear();
    let codec = ff::decoder::find(stream.parameters().id()).ok_or_else(|| Error::NotMedia {
        path: path.to_path_buf(),
        reason: format!(
            "no decoder for {} in this FFmpeg",
            stream.parameters().id().name()
        ),
    })?;
    let _w = helpers.watch();
    dec.open_as(codec).map_err(|e| match e {
        ff::Error::DecoderNotFound => Error::NotMedia {
            path: path.to_path_buf(),
            reason: "no decoder for its codec in this FFmpeg".into(),
        },
        e => Error::ffmpeg(format!("{}: opening the decoder", path.display()), e),
    })
}

/// A clip of the input: the frames from `start` seconds (the first at or after it) for
/// `duration` seconds (to the end when None), timed from the video stream's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clip {
    /// Seconds from the start.
    pub start: f64,
    /// Seconds kept.
    pub duration: Option<f64>,
}

/// A clip in one stream's time base: the frames it keeps, and their timestamps moved so the
/// clip starts at 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cut {
    from: i64,
    to: Option<i64>,
}

impl Cut {
    /// `clip` for a stream of time base `tb`, with the video stream starting at `origin_s`.
    pub fn new(clip: Clip, origin_s: f64, tb: Rational) -> Cut {
        let ticks = |s: f64| {
            if tb.numerator() <= 0 {
                0
            } else {
                (s * tb.denominator() as f64 / tb.numerator() as f64).round() as i64
            }
        };
        Cut {
            from: ticks(origin_s + clip.start),
            to: clip.duration.map(|d| ticks(origin_s + clip.start + d)),
        }
    }

    /// The frames from presentation time `from` up to `to` (excluded), in the stream's ticks.
    pub fn ticks(from: i64, to: Option<i64>) -> Cut {
        Cut { from, to }
    }

    /// The new timestamp of a frame at `pts`, or None when the clip leaves it out.
    pub fn apply(&self, pts: i64) -> Option<i64> {
        if pts < self.from || self.to.is_some_and(|t| pts >= t) {
            None
        } else {
            Some(pts - self.from)
        }
    }
}

/// Holds reading back to real time: a packet stamped `t` seconds after the first is not read
/// before `t` seconds have passed.
pub struct Pacer {
    start: Option<(std::time::Instant, f64)>,
}

impl Pacer {
    /// A pacer that starts at the first packet.
    pub fn new() -> Pacer {
        Pacer { start: None }
    }

    /// Waits until the packet at `t` seconds is due.
    pub fn wait(&mut self, t: f64) {
        let (t0, first) = *self.start.get_or_insert((std::time::Instant::now(), t));
        let due = t - first;
        let now = t0.elapsed().as_secs_f64();
        if due > now {
            std::thread::sleep(std::time::Duration::from_secs_f64((due - now).min(10.0)));
        }
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new()
    }
}

/// Decodes the packets of one video stream into frames for every pipeline.
pub struct VideoDecode {
    decoder: ff::decoder::Video,
    time_base: Rational,
    helpers: HelperThreads,
    corrupt: u64,
    corrupt_frames: u64,
    passthrough: bool,
    cut: Option<Cut>,
    /// Record stage times on every frame (an output writes latency records): when each packet
    /// arrived, by its timestamp, until its frame leaves.
    stamps: Option<BTreeMap<i64, i64>>,
    /// Added to every timestamp (an input that follows another).
    offset: i64,
}

impl VideoDecode {
    /// A decoder for stream `info.index` of `input`; `passthrough` keeps SEI/HDR side data.
    pub fn new(
        input: &ff::format::context::Input,
        info: &VideoInfo,
        threads: u32,
        passthrough: bool,
        path: &Path,
    ) -> Result<Self> {
        let mut helpers = HelperThreads::default();
        let opened = open_decoder(input, info.index, threads, &mut helpers, path)?;
        let decoder = opened
            .video()
            .map_err(|e| Error::ffmpeg(format!("{}: video decoder", path.display()), e))?;
        Ok(VideoDecode {
            decoder,
            time_base: info.time_base,
            helpers,
            corrupt: 0,
            corrupt_frames: 0,
            passthrough,
            cut: None,
            stamps: None,
            offset: 0,
        })
    }

    /// Keeps only the frames of `cut`, retimed to start at 0.
    pub fn with_cut(mut self, cut: Option<Cut>) -> Self {
        self.cut = cut;
        self
    }

    /// Shifts every timestamp by `ticks` of the stream's time base.
    pub fn with_offset(mut self, ticks: i64) -> Self {
        self.offset = ticks;
        self
    }

    /// Records on every frame when its packet arrived and when it was decoded.
    pub fn with_stamps(mut self, on: bool) -> Self {
        self.stamps = on.then(BTreeMap::new);
        self
    }

    fn drain(&mut self, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        loop {
            let mut frame = ff::frame::Video::empty();
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let mut ts = frame.timestamp();
                    let arrived = self.stamps.as_mut().map(|m| {
                        let key = ts.unwrap_or(i64::MIN);
                        let t = m.remove(&key);
                        // Packets whose frame never came (corrupt, cut) leave no trace.
                        while m.len() > 256 {
                            m.pop_first();
                        }
                        t
                    });
                    if let Some(cut) = &self.cut {
                        match cut.apply(ts.unwrap_or(i64::MIN)) {
                            Some(t) => ts = Some(t),
                            None => continue,
                        }
                    }
                    frame.set_pts(ts.map(|t| t + self.offset));
                    // SAFETY: reading plain fields of a frame we own.
                    let flags = unsafe { (*frame.as_ptr()).decode_error_flags };
                    if flags != 0 || frame.is_corrupt() {
                        self.corrupt_frames += 1;
                    }
                    media::strip_side_data(&mut frame, self.passthrough);
                    if let Some(arrived) = arrived {
                        let now = crate::sei::now_us();
                        let read = arrived.unwrap_or(now);
                        media::add_user_data(
                            &mut frame,
                            &crate::sei::stamp_bytes(crate::sei::stage::READ, read),
                        );
                        media::add_user_data(
                            &mut frame,
                            &crate::sei::stamp_bytes(crate::sei::stage::DECODED, now),
                        );
                    }
                    out.push(VideoFrame {
                        frame,
                        time_base: self.time_base,
                    })?;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(ff::Error::InvalidData) => self.corrupt += 1,
                Err(e) => return Err(Error::ffmpeg("decoding video", e)),
            }
        }
    }
}

impl Task for VideoDecode {
    type In = ff::Packet;
    type Out = VideoFrame;

    fn process(&mut self, packet: ff::Packet, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        if let (Some(m), Some(pts)) = (self.stamps.as_mut(), packet.pts().or(packet.dts())) {
            m.insert(pts, crate::sei::now_us());
        }
        // The decoder is drained after every packet, so it takes the next one at once; should
        // it still be full (EAGAIN), draining again makes room and the packet is sent again.
        for _ in 0..2 {
            match self.decoder.send_packet(&packet) {
                Ok(()) => break,
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                }) => self.drain(out)?,
                // Corrupt data and other mid-stream errors: counted and skipped, as FFmpeg's
                // tools do; the decoder carries on with the next packet.
                Err(_) => {
                    self.corrupt += 1;
                    break;
                }
            }
        }
        self.drain(out)
    }

    fn finish(&mut self, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        let _ = self.decoder.send_eof();
        self.drain(out)
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.corrupt = self.corrupt + self.corrupt_frames;
        let helper = self.helpers.cpu_s();
        stats.cpu_s += helper;
        stats.helper_cpu_s += helper;
    }
}

/// Decodes the packets of one audio stream.
pub struct AudioDecode {
    decoder: ff::decoder::Audio,
    time_base: Rational,
    helpers: HelperThreads,
    corrupt: u64,
    cut: Option<Cut>,
    offset: i64,
}

impl AudioDecode {
    /// A decoder for stream `info.index` of `input`.
    pub fn new(input: &ff::format::context::Input, info: &AudioInfo, path: &Path) -> Result<Self> {
        let mut helpers = HelperThreads::default();
        let opened = open_decoder(input, info.index, 1, &mut helpers, path)?;
        let decoder = opened
            .audio()
            .map_err(|e| Error::ffmpeg(format!("{}: audio decoder", path.display()), e))?;
        Ok(AudioDecode {
            decoder,
            time_base: info.time_base,
            helpers,
            corrupt: 0,
            cut: None,
            offset: 0,
        })
    }

    /// Shifts every timestamp by `ticks` of the stream's time base.
    pub fn with_offset(mut self, ticks: i64) -> Self {
        self.offset = ticks;
        self
    }

    /// Keeps only the frames of `cut` (whole frames starting in it), retimed to start at 0.
    pub fn with_cut(mut self, cut: Option<Cut>) -> Self {
        self.cut = cut;
        self
    }

    fn drain(&mut self, out: &mut dyn Sink<AudioFrame>) -> Result<()> {
        loop {
            let mut frame = ff::frame::Audio::empty();
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let mut ts = frame.timestamp();
                    if let Some(cut) = &self.cut {
                        match cut.apply(ts.unwrap_or(i64::MIN)) {
                            Some(t) => ts = Some(t),
                            None => continue,
                        }
                    }
                    frame.set_pts(ts.map(|t| t + self.offset));
                    out.push(AudioFrame {
                        frame,
                        time_base: self.time_base,
                    })?;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(ff::Error::InvalidData) => self.corrupt += 1,
                Err(e) => return Err(Error::ffmpeg("decoding audio", e)),
            }
        }
    }
}

impl Task for AudioDecode {
    type In = ff::Packet;
    type Out = AudioFrame;

    fn process(&mut self, packet: ff::Packet, out: &mut dyn Sink<AudioFrame>) -> Result<()> {
        if self.decoder.send_packet(&packet).is_err() {
            self.corrupt += 1;
        }
        self.drain(out)
    }

    fn finish(&mut self, out: &mut dyn Sink<AudioFrame>) -> Result<()> {
        let _ = self.decoder.send_eof();
        self.drain(out)
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.corrupt = self.corrupt;
        let helper = self.helpers.cpu_s();
        stats.cpu_s += helper;
        stats.helper_cpu_s += helper;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libavdevice_is_named_by_libavformats_major_version() {
        // libavformat 59.27.100 (FFmpeg 5.1) and 61.7.100 (FFmpeg 7.1).
        assert_eq!(
            avdevice_soname((59 << 16) | (27 << 8) | 100),
            "libavdevice.so.59"
        );
        assert_eq!(
            avdevice_soname((61 << 16) | (7 << 8) | 100),
            "libavdevice.so.61"
        );
    }

    #[test]
    fn a_cut_keeps_its_frames_and_retimes_them_from_zero() {
        // 1/90000 time base, a stream starting at 0.5 s, the clip 2 s to 3 s.
        let clip = Clip {
            start: 2.0,
            duration: Some(1.0),
        };
        let cut = Cut::new(clip, 0.5, Rational::new(1, 90000));
        assert_eq!(cut.apply(224_999), None, "just before 2.5 s");
        assert_eq!(cut.apply(225_000), Some(0));
        assert_eq!(cut.apply(228_600), Some(3600));
        assert_eq!(cut.apply(314_999), Some(89_999));
        assert_eq!(cut.apply(315_000), None, "3.5 s is past the end");
        let open = Cut::new(
            Clip {
                start: 1.0,
                duration: None,
            },
            0.0,
            Rational::new(1, 25),
        );
        assert_eq!(open.apply(24), None);
        assert_eq!(open.apply(25), Some(0));
        assert_eq!(open.apply(1_000_000), Some(999_975));
    }
}
