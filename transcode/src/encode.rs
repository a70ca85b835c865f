//! The encode tasks: a video encoder per flow (opened at its first frame, when the picture
//! format is known), an audio encoder (with its own resampling graph), and the packet record an
//! encoder keeps for rate-control analysis.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ff::packet::Ref as _;
use ff::Rational;
use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::cpu::HelperThreads;
use crate::error::{Error, Result};
use crate::filter::Rate;
use crate::media::{self, AudioFrame, HdrMetadata, MuxItem, MuxPacket, VideoFrame};
use crate::settings::{EncoderConfig, Pass, RateControl, StatsChannel};
use crate::task::{PacketRecord, Sink, Task, TaskStats};

/// Everything a video encode task needs to know before its first frame.
#[derive(Clone, Debug)]
pub struct VideoEncodeSetup {
    /// The output's job-spec field prefix, e.g. `output[1]`.
    pub field: String,
    /// libavcodec settings.
    pub config: EncoderConfig,
    /// The muxer's stream index of this flow.
    pub stream: usize,
    /// The output's nominal frame rate.
    pub frame_rate: Rate,
    /// Timestamps in 1/frame_rate units (CFR outputs) rather than the frames' own time base.
    pub cfr_time_base: bool,
    /// The muxer wants codec headers out of band.
    pub global_header: bool,
    /// Force a keyframe every this many seconds (HLS segment boundaries).
    pub force_key_every_s: Option<f64>,
    /// Pass captions and HDR metadata to the encoder where it can carry them.
    pub passthrough: bool,
    /// A bitrate live commands may change.
    pub live_rate: Option<LiveRateControl>,
    /// Where the user data (SEI) of each frame goes, for the packet stage to write; without it
    /// user data is dropped. Encoders never write it themselves.
    pub user_data: Option<crate::sei::Capture>,
    /// First pass: where the encoder's `stats_out` text is collected.
    pub stats_out: Option<Arc<Mutex<String>>>,
    /// Second pass: the first pass's statistics, for `stats_in`.
    pub stats_in: Option<Arc<Mutex<String>>>,
}

/// The bitrate a running encoder switches to, in bit/s (0: as planned), set by a live command.
pub type LiveRate = Arc<AtomicU64>;

/// A bitrate that may change while the encoder runs (libx264, whose libavcodec wrapper hands
/// a changed target and VBV to x264 before the next frame).
#[derive(Clone, Debug)]
pub struct LiveRateControl {
    /// The target, when a command changed it.
    pub target: LiveRate,
    /// The rate control the encoder opened with.
    pub planned: RateControl,
}

impl LiveRateControl {
    /// The encoder context's (bit_rate, rc_max_rate, rc_buffer_size) for a target of `bps`:
    /// the planned VBV scaled with it, so it keeps the planned seconds of buffer.
    pub fn fields(&self, bps: u64) -> (i64, i64, i64) {
        let bps = bps as f64;
        match self.planned {
            RateControl::Abr { .. } => (bps as i64, 0, 0),
            RateControl::Cbr {
                kbps,
                bufsize_kbits,
            } => (
                bps as i64,
                bps as i64,
                (bufsize_kbits * 1000.0 * bps / (kbps * 1000.0)) as i64,
            ),
            RateControl::CappedCrf {
                maxrate_kbps,
                bufsize_kbits,
                ..
            } => (
                0,
                bps as i64,
                (bufsize_kbits * 1000.0 * bps / (maxrate_kbps * 1000.0)) as i64,
            ),
            RateControl::Crf(_) | RateControl::Qp(_) => (0, 0, 0),
        }
    }

    /// Whether an encode of `codec` under `rc` can change its bitrate while running: x264
    /// takes a new bitrate only with its VBV on (CBR, capped CRF), not in plain ABR.
    pub fn supported(codec: &str, rc: Option<&RateControl>) -> bool {
        codec == "libx264"
            && matches!(
                rc,
                Some(RateControl::Cbr { .. } | RateControl::CappedCrf { .. })
            )
    }
}

/// The video encode task.
pub struct VideoEncode {
    setup: VideoEncodeSetup,
    encoder: Option<ff::encoder::video::Encoder>,
    time_base: Rational,
    helpers: HelperThreads,
    packets: Vec<PacketRecord>,
    bytes: u64,
    last_pts: Option<i64>,
    next_key_s: f64,
    first_calls: u32,
    applied_rate: u64,
}

impl VideoEncode {
    /// A task that opens its encoder at the first frame.
    pub fn new(setup: VideoEncodeSetup) -> Self {
        VideoEncode {
            setup,
            encoder: None,
            time_base: Rational::new(1, 1),
            helpers: HelperThreads::default(),
            packets: Vec::new(),
            bytes: 0,
            last_pts: None,
            next_key_s: 0.0,
            first_calls: 0,
            applied_rate: 0,
        }
    }

    fn open(&mut self, first: &VideoFrame, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let s = &self.setup;
        let field = s.field.clone();
        let cfg = &s.config;
        let codec = ff::encoder::find_by_name(&cfg.codec).ok_or_else(|| Error::UnknownCodec {
            field: format!("{field}.codec"),
            what: "encoder",
            name: cfg.codec.clone(),
        })?;
        if codec.medium() != ff::media::Type::Video {
            return Err(Error::Spec {
                field: format!("{field}.codec"),
                message: format!("{} is not a video encoder", cfg.codec),
            });
        }
        let f = &first.frame;
        let time_base = if s.cfr_time_base {
            Rational::new(s.frame_rate.den, s.frame_rate.num)
        } else {
            first.time_base
        };
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| Error::ffmpeg(format!("{field}: encoder context"), e))?;
        enc.set_width(f.width());
        enc.set_height(f.height());
        enc.set_format(f.format());
        enc.set_time_base(time_base);
        enc.set_frame_rate(Some(Rational::new(s.frame_rate.num, s.frame_rate.den)));
        let sar = f.aspect_ratio();
        if sar.numerator() > 0 {
            enc.set_aspect_ratio(sar);
        }
        enc.set_colorspace(f.color_space());
        enc.set_color_range(f.color_range());
        enc.set_color_primaries(f.color_primaries());
        enc.set_color_transfer_characteristic(f.color_transfer_characteristic());

        let mut options: Vec<(String, String)> = cfg.options.clone();
        if s.passthrough {
            add_hdr_params(&cfg.codec, &HdrMetadata::from_frame(f), &mut options);
        }
        if matches!(cfg.codec.as_str(), "libx264" | "libx264rgb") {
            if let Some(flags) = x264_flags_without_avx512() {
                add_param(&mut options, "x264-params", "asm", &flags.to_string());
            }
        }
        if cfg.codec == "libx265" {
            // x265 logs straight to stderr; keep it to errors unless FFmpeg logging is on.
            let level = if std::env::var_os("RDBENCH_FFMPEG_LOG").is_some() {
                "info"
            } else {
                "error"
            };
            add_param(&mut options, "x265-params", "log-level", level);
        }

        // SAFETY: setting plain fields of a codec context we own, before it is opened;
        // `stats_in` takes a string allocated with av_strdup, which libavcodec frees.
        unsafe {
            let p = enc.as_mut_ptr();
            (*p).chroma_sample_location = (*f.as_ptr()).chroma_location;
            if cfg.bit_rate > 0 || cfg.codec == "libaom-av1" || cfg.codec == "libvpx-vp9" {
                (*p).bit_rate = cfg.bit_rate;
            }
            if cfg.max_rate > 0 {
                (*p).rc_max_rate = cfg.max_rate;
            }
            if cfg.min_rate > 0 {
                (*p).rc_min_rate = cfg.min_rate;
            }
            if cfg.buffer_size > 0 {
                (*p).rc_buffer_size = cfg.buffer_size as i32;
            }
            if let Some(q) = cfg.qmin {
                (*p).qmin = q;
            }
            if let Some(q) = cfg.qmax {
                (*p).qmax = q;
            }
            if let Some(g) = cfg.gop {
                (*p).gop_size = g;
            }
            (*p).thread_count = cfg.threads as i32;
            match cfg.pass {
                Some(Pass::First) => (*p).flags |= ffi::AV_CODEC_FLAG_PASS1 as i32,
                Some(Pass::Second) => (*p).flags |= ffi::AV_CODEC_FLAG_PASS2 as i32,
                _ => {}
            }
            if s.global_header {
                (*p).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            if cfg.pass == Some(Pass::Second) && cfg.stats == Some(StatsChannel::Context) {
                let text = s
                    .stats_in
                    .as_ref()
                    .map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).clone())
                    .unwrap_or_default();
                if text.is_empty() {
                    return Err(Error::Spec {
                        field: format!("{field}.rc.passes"),
                        message: "the first pass produced no statistics".into(),
                    });
                }
                let c = CString::new(text).map_err(|_| Error::Spec {
                    field: format!("{field}.rc.passes"),
                    message: "first-pass statistics contain a NUL byte".into(),
                })?;
                (*p).stats_in = ffi::av_strdup(c.as_ptr());
            }
        }

        let opened = open_with_options(enc, &options, &field, &cfg.codec, &mut self.helpers)?;
        self.time_base = time_base;
        // Tell the muxer about the stream.
        let params = ff::codec::Parameters::from(&*opened);
        out.push(MuxItem::Stream {
            stream: s.stream,
            params,
            time_base,
            side_data: Vec::new(),
        })?;
        self.encoder = Some(ff::encoder::video::Encoder(opened));
        Ok(())
    }

    fn receive(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let enc = self.encoder.as_mut().expect("encoder opened");
        loop {
            let mut packet = ff::Packet::empty();
            let r = {
                let _window = (self.first_calls < 3).then(|| self.helpers.watch());
                enc.receive_packet(&mut packet)
            };
            match r {
                Ok(()) => {
                    if let Some(buf) = &self.setup.stats_out {
                        // SAFETY: stats_out is null or a NUL-terminated string owned by the codec.
                        unsafe {
                            let so = (*enc.as_ptr()).stats_out;
                            if !so.is_null() {
                                buf.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push_str(&CStr::from_ptr(so).to_string_lossy());
                            }
                        }
                    }
                    let tb = self.time_base;
                    if packet.duration() <= 0 {
                        // Encoders leave some packets (the flushed ones) without a duration;
                        // the muxer needs it for the last sample. One frame at the nominal rate.
                        let one =
                            Rational::new(self.setup.frame_rate.den, self.setup.frame_rate.num);
                        packet.set_duration(rescale(1, one, tb).max(1));
                    }
                    self.bytes += packet.size() as u64;
                    self.packets.push(PacketRecord {
                        size: packet.size() as u32,
                        pts_s: media::seconds(packet.pts().unwrap_or(0), tb),
                        dts_s: media::seconds(packet.dts().unwrap_or(0), tb),
                        duration_s: media::seconds(packet.duration(), tb),
                        key: packet.is_key(),
                        pict_type: picture_type(&packet),
                    });
                    packet.set_stream(self.setup.stream);
                    out.push(MuxItem::Packet(MuxPacket {
                        stream: self.setup.stream,
                        packet,
                        time_base: tb,
                    }))?;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(Error::ffmpeg(format!("{}: encoding", self.setup.field), e)),
            }
        }
    }
}

impl Task for VideoEncode {
    type In = VideoFrame;
    type Out = MuxItem;

    fn process(&mut self, mut frame: VideoFrame, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        if self.encoder.is_none() {
            self.open(&frame, out)?;
        }
        // Timestamps in the encoder's time base, strictly increasing.
        let pts = frame.frame.pts().unwrap_or(0);
        let mut pts = rescale(pts, frame.time_base, self.time_base);
        if let Some(last) = self.last_pts {
            if pts <= last {
                pts = last + 1;
            }
        }
        self.last_pts = Some(pts);
        frame.frame.set_pts(Some(pts));
        match &self.setup.user_data {
            Some(c) => c.record(pts, &mut frame.frame),
            None => drop(media::take_user_data(&mut frame.frame)),
        }
        // The source's picture types must not steer the encoder; only forced keyframes do.
        let t = media::seconds(pts, self.time_base);
        let half_frame = 0.5 / self.setup.frame_rate.fps();
        let kind = match self.setup.force_key_every_s {
            Some(every) if t + half_frame >= self.next_key_s => {
                while self.next_key_s <= t + half_frame {
                    self.next_key_s += every;
                }
                ff::picture::Type::I
            }
            _ => ff::picture::Type::None,
        };
        frame.frame.set_kind(kind);
        if let Some(live) = &self.setup.live_rate {
            let want = live.target.load(Ordering::Relaxed);
            if want != 0 && want != self.applied_rate {
                let (b, max, buf) = live.fields(want);
                let enc = self.encoder.as_mut().expect("encoder opened");
                // SAFETY: plain fields of the encoder context we own, set between frames; the
                // wrapper reads them before encoding the next frame.
                unsafe {
                    let ctx = enc.as_mut_ptr();
                    if b > 0 {
                        (*ctx).bit_rate = b;
                    }
                    if max > 0 {
                        (*ctx).rc_max_rate = max;
                        (*ctx).rc_buffer_size = buf as _;
                    }
                }
                self.applied_rate = want;
            }
        }
        {
            let enc = self.encoder.as_mut().expect("encoder opened");
            let _window = (self.first_calls < 3).then(|| self.helpers.watch());
            enc.send_frame(&frame.frame)
                .map_err(|e| Error::ffmpeg(format!("{}: encoding", self.setup.field), e))?;
        }
        self.first_calls = self.first_calls.saturating_add(1);
        self.receive(out)
    }

    fn finish(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let Some(enc) = self.encoder.as_mut() else {
            return Err(Error::Spec {
                field: self.setup.field.clone(),
                message: "no frames reached this output's encoder".into(),
            });
        };
        enc.send_eof()
            .map_err(|e| Error::ffmpeg(format!("{}: flushing the encoder", self.setup.field), e))?;
        self.receive(out)?;
        let enc = self.encoder.as_ref().expect("encoder opened");
        if let Some(buf) = &self.setup.stats_out {
            // The final statistics of a first pass arrive after the last packet.
            // SAFETY: as in `receive`.
            unsafe {
                let so = (*enc.as_ptr()).stats_out;
                if !so.is_null() {
                    buf.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&CStr::from_ptr(so).to_string_lossy());
                }
            }
        }
        Ok(())
    }

    fn report(&mut self, stats: &mut TaskStats) {
        // Read the library's threads before the encoder (and its threads) go away.
        let helper = self.helpers.cpu_s();
        stats.cpu_s += helper;
        stats.helper_cpu_s += helper;
        stats.bytes_out = self.bytes;
        stats.packets = std::mem::take(&mut self.packets);
    }
}

/// Opens `enc` with `options`, failing on any option the encoder does not know and explaining
/// a refusal with the encoder's own log message.
fn open_with_options<T>(
    mut enc: T,
    options: &[(String, String)],
    field: &str,
    codec: &str,
    helpers: &mut HelperThreads,
) -> Result<T>
where
    T: std::ops::DerefMut<Target = ff::codec::encoder::Encoder>,
{
    let mut dict: *mut ffi::AVDictionary = ptr::null_mut();
    for (k, v) in options {
        let (ck, cv) = match (CString::new(k.as_str()), CString::new(v.as_str())) {
            (Ok(k), Ok(v)) => (k, v),
            _ => {
                return Err(Error::Spec {
                    field: format!("{field}.options"),
                    message: format!("option `{k}` contains a NUL byte"),
                })
            }
        };
        // SAFETY: valid NUL-terminated strings; av_dict_set copies them.
        unsafe { ffi::av_dict_set(&mut dict, ck.as_ptr(), cv.as_ptr(), 0) };
    }
    crate::log::clear();
    // Ask wrappers that can (libsvtav1) to refuse bad parameter-string entries outright.
    // SAFETY: setting a plain field of the unopened context.
    unsafe { (*enc.as_mut_ptr()).err_recognition |= ffi::AV_EF_EXPLODE as i32 };
    let rc = {
        let _w = helpers.watch();
        // SAFETY: `enc` owns an allocated, unopened codec context with its codec set; `dict`
        // is ours and is left holding the options the encoder did not consume.
        unsafe { ffi::avcodec_open2(enc.as_mut_ptr(), ptr::null(), &mut dict) }
    };
    let mut leftover: Vec<String> = Vec::new();
    // SAFETY: walking and freeing a dictionary we own.
    unsafe {
        let mut e: *mut ffi::AVDictionaryEntry = ptr::null_mut();
        loop {
            e = ffi::av_dict_get(dict, c"".as_ptr(), e, ffi::AV_DICT_IGNORE_SUFFIX);
            if e.is_null() {
                break;
            }
            leftover.push(CStr::from_ptr((*e).key).to_string_lossy().into_owned());
        }
        ffi::av_dict_free(&mut dict);
    }
    if rc < 0 {
        let message = crate::log::recent_messages()
            .map(|m| format!("{m} ({})", ff::Error::from(rc)))
            .unwrap_or_else(|| ff::Error::from(rc).to_string());
        return Err(Error::EncoderOpen {
            field: field.to_string(),
            encoder: codec.to_string(),
            message,
        });
    }
    if let Some(option) = leftover.into_iter().next() {
        return Err(Error::UnknownOption {
            field: format!("{field}.options"),
            encoder: codec.to_string(),
            option,
        });
    }
    // Encoder wrappers only warn about entries of their parameter strings they cannot parse
    // (x264-params, x265-params, svtav1-params...); a typo there must not pass silently.
    if let Some(msg) = crate::log::recent_messages() {
        const REFUSALS: [&str; 6] = [
            "Error parsing option",
            "Unknown option",
            "Error setting option",
            "Invalid value for",
            "Invalid or incomplete",
            "Bad value for",
        ];
        if let Some(line) = msg
            .split("; ")
            .find(|l| REFUSALS.iter().any(|r| l.contains(r)))
        {
            // Close the opened encoder the orderly way: some libraries (SVT-AV1) block when
            // torn down before they saw the end of the stream.
            // SAFETY: the context is open; a null frame signals the end of the stream and the
            // packet is ours to unref.
            unsafe {
                ffi::avcodec_send_frame(enc.as_mut_ptr(), ptr::null());
                let pkt = ffi::av_packet_alloc();
                while ffi::avcodec_receive_packet(enc.as_mut_ptr(), pkt) >= 0 {
                    ffi::av_packet_unref(pkt);
                }
                let mut pkt = pkt;
                ffi::av_packet_free(&mut pkt);
            }
            return Err(Error::EncoderOpen {
                field: format!("{field}.params"),
                encoder: codec.to_string(),
                message: line.to_string(),
            });
        }
    }
    Ok(enc)
}

/// Adds HDR metadata to the parameter string of encoders that take it that way.
fn add_hdr_params(codec: &str, hdr: &HdrMetadata, options: &mut Vec<(String, String)>) {
    if hdr.is_empty() {
        return;
    }
    let (key, extra): (&str, Vec<String>) = match codec {
        "libx265" => {
            let mut v = Vec::new();
            if let Some(md) = hdr.x265_master_display() {
                v.push(format!("master-display={md}"));
            }
            if let Some((cll, fall)) = hdr.light_level {
                v.push(format!("max-cll={cll},{fall}"));
            }
            v.push("hdr10=1".into());
            ("x265-params", v)
        }
        "libsvtav1" => {
            let mut v = Vec::new();
            if let Some(m) = hdr.mastering {
                let [g, b, r] = m.primaries;
                let c = |x: u32| x as f64 / 50000.0;
                v.push(format!(
                    "mastering-display=G({:.4},{:.4})B({:.4},{:.4})R({:.4},{:.4})WP({:.4},{:.4})L({:.4},{:.4})",
                    c(g.0), c(g.1), c(b.0), c(b.1), c(r.0), c(r.1), c(m.white.0), c(m.white.1),
                    m.luminance.0 as f64 / 10000.0, m.luminance.1 as f64 / 10000.0
                ));
            }
            if let Some((cll, fall)) = hdr.light_level {
                v.push(format!("content-light={cll},{fall}"));
            }
            ("svtav1-params", v)
        }
        _ => return,
    };
    if extra.is_empty() {
        return;
    }
    match options.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => {
            let user_keys: Vec<String> = v
                .split(':')
                .map(|kv| kv.split('=').next().unwrap_or("").to_string())
                .collect();
            for e in extra {
                let k = e.split('=').next().unwrap_or("").to_string();
                if !user_keys.contains(&k) {
                    if !v.is_empty() {
                        v.push(':');
                    }
                    v.push_str(&e);
                }
            }
        }
        None => options.push((key.to_string(), extra.join(":"))),
    }
}

/// x264's `X264_CPU_AVX512` flag.
const X264_CPU_AVX512: u32 = 0x0001_0000;

/// The instruction sets x264 detects on this processor less AVX-512, when it detects AVX-512;
/// None otherwise (and when x264's detection cannot be reached).
///
/// x264's AVX-512 code makes its output depend on what the process's heap held before: the same
/// encode gives other bytes (tens of bytes in 100 kB) once earlier encodes have freed memory,
/// as in a benchmark or a long-running service, while with AVX2 and below, or with the heap's
/// contents fixed (glibc's MALLOC_PERTURB_), every repetition is identical. A benchmark must be
/// able to reproduce its own encodes, so libx264 (and libx264rgb, the same library) runs without
/// AVX-512 unless `params` sets `asm` itself. x264's AVX-512 kernels gain nothing here (1080p, 60 frames, one thread: 1.22
/// against 1.30 CPU-s at veryfast, 2.06 against 2.22 at medium, without and with them).
fn x264_flags_without_avx512() -> Option<u32> {
    static FLAGS: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *FLAGS.get_or_init(|| {
        // SAFETY: looks up x264's exported `uint32_t x264_cpu_detect(void)` in the libx264
        // that libavcodec loaded (the process's global scope); when found, it is called with
        // its own signature. It only reads CPUID and has no preconditions.
        let detected = unsafe {
            let sym = libc::dlsym(libc::RTLD_DEFAULT, c"x264_cpu_detect".as_ptr());
            if sym.is_null() {
                return None;
            }
            let detect: extern "C" fn() -> u32 = std::mem::transmute(sym);
            detect()
        };
        without_avx512(detected)
    })
}

/// `detected` less AVX-512 when it has AVX-512, else None (x264's own choice stands).
fn without_avx512(detected: u32) -> Option<u32> {
    (detected & X264_CPU_AVX512 != 0).then_some(detected & !X264_CPU_AVX512)
}

/// Appends `key=value` to the parameter-string option `option` unless the string sets `key`.
fn add_param(options: &mut Vec<(String, String)>, option: &str, key: &str, value: &str) {
    match options.iter_mut().find(|(k, _)| k == option) {
        Some((_, v)) => {
            if !v.split(':').any(|kv| kv.split('=').next() == Some(key)) {
                if !v.is_empty() {
                    v.push(':');
                }
                v.push_str(&format!("{key}={value}"));
            }
        }
        None => options.push((option.to_string(), format!("{key}={value}"))),
    }
}

/// The picture type an encoder reported for a packet (quality-stats side data), or '?'.
fn picture_type(packet: &ff::Packet) -> char {
    // SAFETY: av_packet_get_side_data returns null or a pointer into the packet's side data;
    // the quality-stats layout is a 32-bit quality followed by the picture type byte.
    unsafe {
        let mut size: usize = 0;
        let sd = ffi::av_packet_get_side_data(
            packet.as_ptr(),
            ffi::AVPacketSideDataType::AV_PKT_DATA_QUALITY_STATS,
            &mut size as *mut usize as *mut _,
        );
        if sd.is_null() || size < 5 {
            return if packet.is_key() { 'I' } else { '?' };
        }
        match *sd.add(4) {
            1 => 'I',
            2 => 'P',
            3 => 'B',
            4 => 'S',
            5 => 'i',
            6 => 'p',
            7 => 'b',
            _ => {
                if packet.is_key() {
                    'I'
                } else {
                    '?'
                }
            }
        }
    }
}

/// `ts` from `from` into `to`, rounding to nearest.
pub fn rescale(ts: i64, from: Rational, to: Rational) -> i64 {
    if from == to {
        return ts;
    }
    // SAFETY: pure arithmetic.
    unsafe {
        ffi::av_rescale_q_rnd(
            ts,
            from.into(),
            to.into(),
            ffi::AVRounding::AV_ROUND_NEAR_INF,
        )
    }
}

/// What an audio encode task is asked for.
#[derive(Clone, Debug)]
pub struct AudioEncodeSetup {
    /// The output's job-spec field prefix.
    pub field: String,
    /// Encoder name (aac, libopus...).
    pub codec: String,
    /// Bitrate in bit/s (0: the encoder's default).
    pub bit_rate: i64,
    /// Output channels (None: the input's, within what the encoder allows).
    pub channels: Option<u32>,
    /// Output sample rate (None: the input's, within what the encoder allows).
    pub sample_rate: Option<u32>,
    /// The muxer's stream index.
    pub stream: usize,
    /// The muxer wants codec headers out of band.
    pub global_header: bool,
    /// Raw options.
    pub options: BTreeMap<String, String>,
}

/// The audio encode task: resample/reformat through a small graph, then encode.
pub struct AudioEncode {
    setup: AudioEncodeSetup,
    encoder: Option<ff::encoder::audio::Encoder>,
    graph: Option<ff::filter::Graph>,
    time_base: Rational,
    helpers: HelperThreads,
    bytes: u64,
}

impl AudioEncode {
    /// A task that opens its encoder at the first frame.
    pub fn new(setup: AudioEncodeSetup) -> Self {
        AudioEncode {
            setup,
            encoder: None,
            graph: None,
            time_base: Rational::new(1, 48000),
            helpers: HelperThreads::default(),
            bytes: 0,
        }
    }

    fn open(&mut self, first: &AudioFrame, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let s = self.setup.clone();
        let field = format!("{}.audio", s.field);
        let codec = ff::encoder::find_by_name(&s.codec).ok_or_else(|| Error::UnknownCodec {
            field: format!("{field}.codec"),
            what: "encoder",
            name: s.codec.clone(),
        })?;
        if codec.medium() != ff::media::Type::Audio {
            return Err(Error::Spec {
                field: format!("{field}.codec"),
                message: format!("{} is not an audio encoder", s.codec),
            });
        }
        let f = &first.frame;
        // SAFETY: reading the codec's static capability lists (terminated by -1 / 0) and the
        // frame's channel count.
        let (sample_fmt, rate, channels, variable) = unsafe {
            let c = codec.as_ptr();
            let fmt = if (*c).sample_fmts.is_null() {
                ffi::AVSampleFormat::AV_SAMPLE_FMT_FLTP
            } else {
                *(*c).sample_fmts
            };
            let want_rate = s.sample_rate.unwrap_or(f.rate()) as i32;
            let mut rate = want_rate;
            if !(*c).supported_samplerates.is_null() {
                let mut best = None;
                let mut i = 0;
                loop {
                    let r = *(*c).supported_samplerates.add(i);
                    if r == 0 {
                        break;
                    }
                    if r == want_rate {
                        best = Some(r);
                        break;
                    }
                    if best.is_none()
                        || (r - want_rate).abs() < (best.unwrap_or(0) - want_rate).abs()
                    {
                        best = Some(r);
                    }
                    i += 1;
                }
                rate = best.unwrap_or(48000);
            }
            let in_ch = (*f.as_ptr()).ch_layout.nb_channels.max(1) as u32;
            let ch = s.channels.unwrap_or(in_ch.min(2)).max(1);
            let variable = (*c).capabilities & ffi::AV_CODEC_CAP_VARIABLE_FRAME_SIZE as i32 != 0;
            (fmt, rate, ch, variable)
        };
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(|e| Error::ffmpeg(format!("{field}: encoder context"), e))?;
        let time_base = Rational::new(1, rate);
        // SAFETY: setting plain fields and the channel layout of an unopened context we own.
        unsafe {
            let p = enc.as_mut_ptr();
            (*p).sample_fmt = sample_fmt;
            (*p).sample_rate = rate;
            ffi::av_channel_layout_default(&mut (*p).ch_layout, channels as i32);
            (*p).time_base = time_base.into();
            if s.bit_rate > 0 {
                (*p).bit_rate = s.bit_rate;
            }
            if s.global_header {
                (*p).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
        }
        let options: Vec<(String, String)> = s
            .options
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let opened = open_with_options(enc, &options, &field, &s.codec, &mut self.helpers)?;
        // SAFETY: reading the frame size the opened encoder settled on.
        let frame_size = unsafe { (*opened.as_ptr()).frame_size };

        // abuffer -> aresample/aformat -> abuffersink (fixed frame size when the encoder needs it).
        // SAFETY: describing the input frame's channel layout into a local buffer.
        let in_layout = unsafe {
            let mut buf = [0 as std::os::raw::c_char; 128];
            ffi::av_channel_layout_describe(&(*f.as_ptr()).ch_layout, buf.as_mut_ptr(), buf.len());
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        };
        // SAFETY: av_get_sample_fmt_name returns a static string for a valid format.
        let fmt_name = |fmt: ffi::AVSampleFormat| unsafe {
            CStr::from_ptr(ffi::av_get_sample_fmt_name(fmt))
                .to_string_lossy()
                .into_owned()
        };
        let in_fmt: ffi::AVSampleFormat = f.format().into();
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout={}",
            first.time_base.numerator(),
            first.time_base.denominator(),
            f.rate(),
            fmt_name(in_fmt),
            in_layout
        );
        let desc = format!(
            "aresample={rate},aformat=sample_fmts={}:sample_rates={rate}:channel_layouts={}c",
            fmt_name(sample_fmt),
            channels
        );
        let ferr = |e: ff::Error| Error::Filter {
            field: field.clone(),
            graph: desc.clone(),
            message: crate::log::describe(e),
        };
        let mut graph = ff::filter::Graph::new();
        graph
            .add(
                &ff::filter::find("abuffer").expect("abuffer exists"),
                "in",
                &args,
            )
            .map_err(ferr)?;
        graph
            .add(
                &ff::filter::find("abuffersink").expect("abuffersink exists"),
                "out",
                "",
            )
            .map_err(ferr)?;
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&desc))
            .map_err(ferr)?;
        graph.validate().map_err(ferr)?;
        if frame_size > 0 && !variable {
            graph
                .get("out")
                .expect("sink added")
                .sink()
                .set_frame_size(frame_size as u32);
        }
        self.time_base = time_base;
        let params = ff::codec::Parameters::from(&*opened);
        out.push(MuxItem::Stream {
            stream: s.stream,
            params,
            time_base,
            side_data: Vec::new(),
        })?;
        self.encoder = Some(ff::encoder::audio::Encoder(opened));
        self.graph = Some(graph);
        Ok(())
    }

    fn pull(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let field = self.setup.field.clone();
        loop {
            let mut frame = ff::frame::Audio::empty();
            let got = self
                .graph
                .as_mut()
                .expect("graph")
                .get("out")
                .expect("sink added")
                .sink()
                .frame(&mut frame);
            match got {
                Ok(()) => {
                    let enc = self.encoder.as_mut().expect("encoder");
                    enc.send_frame(&frame)
                        .map_err(|e| Error::ffmpeg(format!("{field}.audio: encoding"), e))?;
                    self.receive(out)?;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(Error::ffmpeg(format!("{field}.audio: resampling"), e)),
            }
        }
    }

    fn receive(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let enc = self.encoder.as_mut().expect("encoder");
        loop {
            let mut packet = ff::Packet::empty();
            match enc.receive_packet(&mut packet) {
                Ok(()) => {
                    self.bytes += packet.size() as u64;
                    packet.set_stream(self.setup.stream);
                    out.push(MuxItem::Packet(MuxPacket {
                        stream: self.setup.stream,
                        packet,
                        time_base: self.time_base,
                    }))?;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                })
                | Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(Error::ffmpeg(
                        format!("{}.audio: encoding", self.setup.field),
                        e,
                    ))
                }
            }
        }
    }
}

impl Task for AudioEncode {
    type In = AudioFrame;
    type Out = MuxItem;

    fn process(&mut self, frame: AudioFrame, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        if self.encoder.is_none() {
            self.open(&frame, out)?;
        }
        let field = self.setup.field.clone();
        self.graph
            .as_mut()
            .expect("graph")
            .get("in")
            .expect("source added")
            .source()
            .add(&frame.frame)
            .map_err(|e| Error::ffmpeg(format!("{field}.audio: resampling"), e))?;
        self.pull(out)
    }

    fn finish(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        if self.encoder.is_none() {
            return Ok(());
        }
        let field = self.setup.field.clone();
        self.graph
            .as_mut()
            .expect("graph")
            .get("in")
            .expect("source added")
            .source()
            .flush()
            .map_err(|e| Error::ffmpeg(format!("{field}.audio: resampling"), e))?;
        self.pull(out)?;
        let enc = self.encoder.as_mut().expect("encoder");
        enc.send_eof()
            .map_err(|e| Error::ffmpeg(format!("{field}.audio: flushing"), e))?;
        self.receive(out)
    }

    fn report(&mut self, stats: &mut TaskStats) {
        let helper = self.helpers.cpu_s();
        stats.cpu_s += helper;
        stats.helper_cpu_s += helper;
        stats.bytes_out = self.bytes;
    }
}

/// The encoder's own choice of pixel format closest to `wanted` (wanted itself when supported).
pub(crate) fn best_pix_fmt(codec: &ff::Codec, wanted: ff::format::Pixel) -> ff::format::Pixel {
    // SAFETY: the codec's pix_fmts list is static and terminated by AV_PIX_FMT_NONE;
    // avcodec_find_best_pix_fmt_of_list only reads it.
    unsafe {
        let list = (*codec.as_ptr()).pix_fmts;
        if list.is_null() {
            return wanted;
        }
        let mut i = 0;
        loop {
            let p = *list.add(i);
            if p == ffmpeg_sys_next::AVPixelFormat::AV_PIX_FMT_NONE {
                break;
            }
            if p == wanted.into() {
                return wanted;
            }
            i += 1;
        }
        let mut loss = 0;
        ff::format::Pixel::from(ffmpeg_sys_next::avcodec_find_best_pix_fmt_of_list(
            list,
            wanted.into(),
            0,
            &mut loss,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x264_keeps_every_instruction_set_but_avx512_and_the_user_has_the_last_word() {
        // What x264_cpu_detect() returns on an AVX-512 machine of ours (0x11f3ff).
        assert_eq!(without_avx512(0x11_f3ff), Some(0x10_f3ff));
        assert_eq!(without_avx512(0x10_f3ff), None);
        assert_eq!(without_avx512(0), None);
        let mut user = vec![("x264-params".to_string(), "asm=0:mbtree=0".to_string())];
        add_param(&mut user, "x264-params", "asm", "1373183");
        assert_eq!(user[0].1, "asm=0:mbtree=0");
        let mut other = vec![("x264-params".to_string(), "mbtree=0".to_string())];
        add_param(&mut other, "x264-params", "asm", "1373183");
        assert_eq!(other[0].1, "mbtree=0:asm=1373183");
        let mut none = Vec::new();
        add_param(&mut none, "x264-params", "asm", "1373183");
        assert_eq!(
            none,
            vec![("x264-params".to_string(), "asm=1373183".to_string())]
        );
    }

    #[test]
    fn hdr_metadata_is_added_without_overriding_the_user() {
        let hdr = HdrMetadata {
            mastering: None,
            light_level: Some((1000, 400)),
        };
        let mut opts = vec![("x265-params".to_string(), "max-cll=500,100".to_string())];
        add_hdr_params("libx265", &hdr, &mut opts);
        assert_eq!(opts[0].1, "max-cll=500,100:hdr10=1");
        let mut none = Vec::new();
        add_hdr_params("libx264", &hdr, &mut none);
        assert!(none.is_empty());
        let mut svt = Vec::new();
        add_hdr_params("libsvtav1", &hdr, &mut svt);
        assert_eq!(
            svt,
            vec![(
                "svtav1-params".to_string(),
                "content-light=1000,400".to_string()
            )]
        );
    }
}
