//! The mux task: containers, and outputs that appear at their final path only when complete.
//!
//! A file output is written to a temporary name in the same folder and renamed when its
//! trailer is written; an HLS output (playlist plus segments) is written into a temporary folder
//! beside its playlist and moved into place segment by segment, the playlist last. A failed or
//! interrupted output leaves nothing at its final path.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::error::{Error, Result};
use crate::media::{MuxItem, MuxPacket};
use crate::task::{Sink, Task, TaskStats};

/// A container rdbench writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// MP4 with the index moved to the front (faststart).
    Mp4,
    /// QuickTime MOV.
    Mov,
    /// Matroska.
    Mkv,
    /// WebM.
    Webm,
    /// MPEG transport stream.
    Ts,
    /// Flash video.
    Flv,
    /// IVF (VP8/VP9/AV1 elementary stream with frame headers).
    Ivf,
    /// YUV4MPEG2 raw video.
    Y4m,
    /// HLS: an m3u8 playlist with segments.
    Hls,
    /// Raw H.264 Annex B.
    H264,
    /// Raw HEVC Annex B.
    Hevc,
    /// Animated GIF (palette made per output).
    Gif,
    /// MP3 audio alone.
    Mp3,
    /// AAC (or ALAC) audio alone in an MP4 file (`.m4a`).
    M4a,
    /// Ogg audio (Vorbis, Opus, FLAC) alone.
    Ogg,
    /// Opus audio alone in Ogg (`.opus`).
    Opus,
    /// FLAC audio alone.
    Flac,
}

impl Container {
    /// The container named by a spec's `format` field.
    pub fn from_name(name: &str) -> Option<Container> {
        Some(match name.to_ascii_lowercase().as_str() {
            "mp4" | "m4v" => Container::Mp4,
            "mov" => Container::Mov,
            "mkv" | "matroska" => Container::Mkv,
            "webm" => Container::Webm,
            "ts" | "mpegts" | "m2ts" => Container::Ts,
            "flv" => Container::Flv,
            "ivf" => Container::Ivf,
            "y4m" | "yuv4mpegpipe" => Container::Y4m,
            "hls" | "m3u8" => Container::Hls,
            "h264" | "264" => Container::H264,
            "hevc" | "h265" | "265" => Container::Hevc,
            "gif" => Container::Gif,
            "mp3" => Container::Mp3,
            "m4a" => Container::M4a,
            "ogg" | "oga" => Container::Ogg,
            "opus" => Container::Opus,
            "flac" => Container::Flac,
            _ => return None,
        })
    }

    /// The container a path's extension implies.
    pub fn from_path(path: &Path) -> Option<Container> {
        Container::from_name(path.extension()?.to_str()?)
    }

    /// The file extension of an output in this container (HLS: the playlist's).
    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Mkv => "mkv",
            Container::Webm => "webm",
            Container::Ts => "ts",
            Container::Flv => "flv",
            Container::Ivf => "ivf",
            Container::Y4m => "y4m",
            Container::Hls => "m3u8",
            Container::H264 => "h264",
            Container::Hevc => "hevc",
            Container::Gif => "gif",
            Container::Mp3 => "mp3",
            Container::M4a => "m4a",
            Container::Ogg => "ogg",
            Container::Opus => "opus",
            Container::Flac => "flac",
        }
    }

    /// Whether the container holds audio alone (no video flow).
    pub fn audio_only(self) -> bool {
        matches!(
            self,
            Container::Mp3 | Container::M4a | Container::Ogg | Container::Opus | Container::Flac
        )
    }

    /// libavformat's muxer name.
    pub fn muxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Mkv => "matroska",
            Container::Webm => "webm",
            Container::Ts => "mpegts",
            Container::Flv => "flv",
            Container::Ivf => "ivf",
            Container::Y4m => "yuv4mpegpipe",
            Container::Hls => "hls",
            Container::H264 => "h264",
            Container::Hevc => "hevc",
            Container::Gif => "gif",
            Container::Mp3 => "mp3",
            Container::M4a => "ipod",
            Container::Ogg => "ogg",
            Container::Opus => "opus",
            Container::Flac => "flac",
        }
    }

    /// Whether the muxer wants codec headers out of band (AVFMT_GLOBALHEADER).
    pub fn global_header(self) -> bool {
        self.flags() & ffi::AVFMT_GLOBALHEADER as i32 != 0
    }

    fn flags(self) -> i32 {
        let name = CString::new(self.muxer()).expect("static name");
        // SAFETY: av_guess_format returns null or a static muxer description.
        unsafe {
            let f = ffi::av_guess_format(name.as_ptr(), ptr::null(), ptr::null());
            if f.is_null() {
                0
            } else {
                (*f).flags
            }
        }
    }

    /// Whether the muxer can carry `codec` (an encoder or codec name). None when FFmpeg cannot tell.
    pub fn can_carry(self, codec_id: ff::codec::Id) -> Option<bool> {
        use ff::codec::Id;
        // The audio containers' muxers do not all say; what each holds is fixed.
        let fixed: Option<&[Id]> = match self {
            Container::Mp3 => Some(&[Id::MP3]),
            Container::M4a => Some(&[Id::AAC, Id::ALAC]),
            Container::Ogg => Some(&[Id::VORBIS, Id::OPUS, Id::FLAC]),
            Container::Opus => Some(&[Id::OPUS]),
            Container::Flac => Some(&[Id::FLAC]),
            _ => None,
        };
        if let Some(ids) = fixed {
            return Some(ids.contains(&codec_id));
        }
        let name = CString::new(self.muxer()).expect("static name");
        // SAFETY: av_guess_format returns null or a static muxer description, which
        // avformat_query_codec only reads.
        unsafe {
            let f = ffi::av_guess_format(name.as_ptr(), ptr::null(), ptr::null());
            if f.is_null() {
                return None;
            }
            match ffi::avformat_query_codec(f, codec_id.into(), ffi::FF_COMPLIANCE_NORMAL) {
                1 => Some(true),
                0 => Some(false),
                _ => None,
            }
        }
    }
}

/// Allocates `size` bytes of stream side data of `kind` on `st` (the API moved to codec
/// parameters in FFmpeg 6.1).
///
/// # Safety
/// `st` must be a valid stream of an output context that has not written its header.
unsafe fn new_stream_side_data(
    st: *mut ffi::AVStream,
    kind: ffi::AVPacketSideDataType,
    size: usize,
) -> *mut u8 {
    #[cfg(ffmpeg_coded_side_data)]
    // SAFETY: per the function's contract; the side data array belongs to the stream's codecpar.
    unsafe {
        let par = (*st).codecpar;
        let sd = ffi::av_packet_side_data_new(
            &mut (*par).coded_side_data,
            &mut (*par).nb_coded_side_data,
            kind,
            size,
            0,
        );
        if sd.is_null() {
            std::ptr::null_mut()
        } else {
            (*sd).data
        }
    }
    #[cfg(not(ffmpeg_coded_side_data))]
    // SAFETY: per the function's contract.
    unsafe {
        ffi::av_stream_new_side_data(st, kind, size as _)
    }
}

/// What the mux task writes.
#[derive(Clone, Debug)]
pub struct MuxSetup {
    /// The output's job-spec field prefix.
    pub field: String,
    /// The final path (a playlist for HLS).
    pub path: PathBuf,
    /// The container.
    pub container: Container,
    /// How many streams the output has (each announced by a `MuxItem::Stream`).
    pub streams: usize,
    /// HLS segment duration.
    pub hls_time: Option<f64>,
    /// HLS: segments in fragmented MP4 rather than MPEG-TS.
    pub hls_fmp4: bool,
    /// HLS: AES-128 encryption of the segments.
    pub hls_encryption: Option<crate::hls_crypt::HlsEncryption>,
    /// A subtitle stream after the others, its cues written as the video reaches them.
    pub subtitles: Option<crate::subtitle::SubtitleTrack>,
}

static TEMP_SERIAL: AtomicU64 = AtomicU64::new(0);

/// A temporary name in the same folder as `path`: `.NAME.rdbench-tmp-PID-N.EXT`.
pub fn temp_path(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let n = TEMP_SERIAL.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        ".{stem}.rdbench-tmp-{}-{n}{ext}",
        std::process::id()
    ))
}

/// Makes sure the folder of `path` exists and can be written, so an output fails before any
/// decoding when it cannot be written at all.
pub fn check_writable(path: &Path, field: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| Error::Spec {
        field: format!("{field}.path"),
        message: format!("cannot write into {}: {e}", dir.display()),
    };
    if let Some(file) = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.exists() && !a.is_dir())
    {
        return Err(Error::Spec {
            field: format!("{field}.path"),
            message: format!(
                "cannot write into {}: {} is a file, not a folder",
                dir.display(),
                file.display()
            ),
        });
    }
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let probe = temp_path(path);
    std::fs::File::create(&probe).map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    if path.is_dir() {
        return Err(Error::Spec {
            field: format!("{field}.path"),
            message: format!("{} is a folder", path.display()),
        });
    }
    Ok(())
}

/// The mux task.
pub struct Muxer {
    setup: MuxSetup,
    streams: Vec<
        Option<(
            ff::codec::Parameters,
            ff::Rational,
            Vec<(ffi::AVPacketSideDataType, Vec<u8>)>,
        )>,
    >,
    octx: Option<ff::format::context::Output>,
    out_tb: Vec<ff::Rational>,
    pending: Vec<MuxPacket>,
    /// Where the muxer writes: a temporary file, or a temporary folder for HLS.
    staging: PathBuf,
    committed: bool,
    packets: u64,
    bytes: u64,
    /// The next subtitle cue to write.
    next_cue: usize,
}

impl Muxer {
    /// A muxer for `setup`; nothing is created until every stream is announced.
    pub fn new(setup: MuxSetup) -> Self {
        let staging = if setup.container == Container::Hls {
            let dir = setup.path.parent().unwrap_or(Path::new("")).to_path_buf();
            let stem = setup
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "index".into());
            dir.join(format!(
                ".{stem}.rdbench-tmp-{}-{}",
                std::process::id(),
                TEMP_SERIAL.fetch_add(1, Ordering::Relaxed)
            ))
        } else {
            temp_path(&setup.path)
        };
        Muxer {
            streams: (0..setup.streams).map(|_| None).collect(),
            setup,
            octx: None,
            out_tb: Vec::new(),
            pending: Vec::new(),
            staging,
            committed: false,
            packets: 0,
            bytes: 0,
            next_cue: 0,
        }
    }

    fn mux_error(&self, message: String) -> Error {
        Error::Mux {
            path: self.setup.path.clone(),
            message,
        }
    }

    /// The URL the muxer writes to.
    fn target(&self) -> PathBuf {
        if self.setup.container == Container::Hls {
            self.staging.join(
                self.setup
                    .path
                    .file_name()
                    .unwrap_or_else(|| std::ffi::OsStr::new("index.m3u8")),
            )
        } else {
            self.staging.clone()
        }
    }

    fn open(&mut self) -> Result<()> {
        let s = self.setup.clone();
        if s.container == Container::Hls {
            std::fs::create_dir_all(&self.staging)
                .map_err(|e| Error::io(&self.staging, "creating", e))?;
        }
        let target = self.target();
        let c_target = CString::new(target.to_string_lossy().into_owned())
            .map_err(|_| self.mux_error("path contains a NUL byte".into()))?;
        let c_fmt = CString::new(s.container.muxer()).expect("static name");
        crate::log::clear();
        // SAFETY: allocating an output context for a known muxer and opening its file with
        // FFmpeg's I/O layer; ownership passes to `Output::wrap`, which closes and frees both.
        let mut octx = unsafe {
            let mut ctx: *mut ffi::AVFormatContext = ptr::null_mut();
            let rc = ffi::avformat_alloc_output_context2(
                &mut ctx,
                ptr::null_mut(),
                c_fmt.as_ptr(),
                c_target.as_ptr(),
            );
            if rc < 0 || ctx.is_null() {
                return Err(self.mux_error(format!(
                    "cannot set up the {} muxer: {}",
                    s.container.muxer(),
                    crate::log::describe(ff::Error::from(rc))
                )));
            }
            if s.container == Container::Y4m {
                // High bit depths are "unofficial" Y4M colour spaces to FFmpeg's muxer, but
                // every Y4M reader (ours, x264, x265, SVT-AV1, libvmaf) takes C420p10.
                (*ctx).strict_std_compliance = ffi::FF_COMPLIANCE_UNOFFICIAL;
            }
            if (*(*ctx).oformat).flags & ffi::AVFMT_NOFILE as i32 == 0 {
                let rc = ffi::avio_open(
                    &mut (*ctx).pb,
                    c_target.as_ptr(),
                    ffi::AVIO_FLAG_WRITE as i32,
                );
                if rc < 0 {
                    ffi::avformat_free_context(ctx);
                    return Err(self.mux_error(format!(
                        "cannot create {}: {}",
                        target.display(),
                        ff::Error::from(rc)
                    )));
                }
            }
            ff::format::context::Output::wrap(ctx)
        };
        for (i, st) in self.streams.iter().enumerate() {
            let (params, tb, side) = st.as_ref().expect("all streams announced");
            let mut ost = octx
                .add_stream(ff::encoder::find(ff::codec::Id::None))
                .map_err(|e| self.mux_error(format!("adding stream {i}: {e}")))?;
            ost.set_parameters(params.clone());
            ost.set_time_base(*tb);
            // SAFETY: the stream belongs to `octx`; codec_tag 0 lets the muxer pick its own tag,
            // and av_stream_new_side_data copies nothing we still hold (we fill its buffer).
            unsafe {
                let p = ost.as_mut_ptr();
                (*(*p).codecpar).codec_tag = 0;
                for (kind, bytes) in side {
                    let dst = new_stream_side_data(p, *kind, bytes.len());
                    if !dst.is_null() {
                        std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
                    }
                }
            }
        }
        if let Some(t) = &s.subtitles {
            let mut ost = octx
                .add_stream(ff::encoder::find(ff::codec::Id::None))
                .map_err(|e| self.mux_error(format!("adding the subtitle stream: {e}")))?;
            ost.set_parameters(t.params.clone());
            ost.set_time_base(crate::subtitle::TIME_BASE);
            // SAFETY: the stream belongs to `octx`; codec_tag 0 lets the muxer pick its tag.
            unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
        }
        let mut opts = ff::Dictionary::new();
        match s.container {
            Container::Mp4 | Container::Mov => opts.set("movflags", "+faststart"),
            Container::Hls => {
                let stem = s
                    .path
                    .file_stem()
                    .map(|x| x.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "index".into());
                let ext = if s.hls_fmp4 { "m4s" } else { "ts" };
                opts.set("hls_time", &format!("{}", s.hls_time.unwrap_or(6.0)));
                opts.set("hls_playlist_type", "vod");
                opts.set("hls_list_size", "0");
                opts.set(
                    "hls_segment_filename",
                    &self
                        .staging
                        .join(format!("{stem}_%05d.{ext}"))
                        .to_string_lossy(),
                );
                if s.subtitles.is_some() {
                    // Players find the subtitle playlist through a master playlist, whose
                    // subtitle group the stream map declares.
                    opts.set("master_pl_name", &format!("{stem}_master.m3u8"));
                    let audio = if s.streams > 1 { "a:0," } else { "" };
                    opts.set(
                        "var_stream_map",
                        &format!("v:0,{audio}s:0,sgroup:subtitles"),
                    );
                }
                if s.hls_fmp4 {
                    opts.set("hls_segment_type", "fmp4");
                    opts.set("hls_fmp4_init_filename", &format!("{stem}_init.mp4"));
                }
            }
            _ => {}
        }
        crate::log::clear();
        octx.write_header_with(opts).map_err(|e| {
            self.mux_error(format!("writing the header: {}", crate::log::describe(e)))
        })?;
        self.out_tb = (0..octx.nb_streams() as usize)
            .map(|i| octx.stream(i).expect("stream added").time_base())
            .collect();
        self.octx = Some(octx);
        for p in std::mem::take(&mut self.pending) {
            self.write(p)?;
        }
        Ok(())
    }

    /// Writes the subtitle cues that start before `until_ms` (all of them for None).
    fn write_cues(&mut self, until_ms: Option<i64>) -> Result<()> {
        let Some(t) = self.setup.subtitles.take() else {
            return Ok(());
        };
        let written = self.write_cues_of(&t, until_ms);
        self.setup.subtitles = Some(t);
        written
    }

    fn write_cues_of(
        &mut self,
        t: &crate::subtitle::SubtitleTrack,
        until_ms: Option<i64>,
    ) -> Result<()> {
        let stream = self.streams.len();
        while let Some(c) = t.cues.get(self.next_cue) {
            if until_ms.is_some_and(|u| c.start_ms > u) {
                break;
            }
            self.next_cue += 1;
            let mut packet = ff::Packet::copy(&c.data);
            packet.set_pts(Some(c.start_ms));
            packet.set_dts(Some(c.start_ms));
            packet.set_duration(c.duration_ms);
            packet.set_flags(ff::packet::Flags::KEY);
            self.write_packet(MuxPacket {
                stream,
                packet,
                time_base: crate::subtitle::TIME_BASE,
            })?;
        }
        Ok(())
    }

    fn write(&mut self, p: MuxPacket) -> Result<()> {
        if p.stream == 0 && self.setup.subtitles.is_some() {
            let t = p
                .packet
                .pts()
                .or(p.packet.dts())
                .map(|t| crate::encode::rescale(t, p.time_base, crate::subtitle::TIME_BASE));
            self.write_cues(Some(t.unwrap_or(0)))?;
        }
        self.write_packet(p)
    }

    fn write_packet(&mut self, mut p: MuxPacket) -> Result<()> {
        let octx = self.octx.as_mut().expect("opened");
        let tb = self.out_tb[p.stream];
        p.packet.rescale_ts(p.time_base, tb);
        p.packet.set_stream(p.stream);
        p.packet.set_position(-1);
        self.packets += 1;
        crate::log::clear();
        p.packet.write_interleaved(octx).map_err(|e| Error::Mux {
            path: self.setup.path.clone(),
            message: format!("writing: {}", crate::log::describe(e)),
        })
    }

    fn commit(&mut self) -> Result<()> {
        let path = self.setup.path.clone();
        if self.setup.container == Container::Hls {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let playlist = self.target();
            if let Some(enc) = &self.setup.hls_encryption {
                let stem = path
                    .file_stem()
                    .map(|x| x.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "index".into());
                crate::hls_crypt::encrypt_output(enc, &self.staging, &playlist, &stem)?;
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&self.staging)
                .map_err(|e| Error::io(&self.staging, "listing", e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| *p != playlist)
                .collect();
            entries.sort();
            let mut bytes = 0;
            for e in entries.iter().chain(std::iter::once(&playlist)) {
                let dest = dir.join(e.file_name().expect("a file"));
                bytes += std::fs::metadata(e).map(|m| m.len()).unwrap_or(0);
                std::fs::rename(e, &dest)
                    .map_err(|err| Error::io(&dest, "moving into place", err))?;
            }
            let _ = std::fs::remove_dir(&self.staging);
            self.bytes = bytes;
        } else {
            self.bytes = std::fs::metadata(&self.staging)
                .map(|m| m.len())
                .unwrap_or(0);
            std::fs::rename(&self.staging, &path)
                .map_err(|e| Error::io(&path, "moving into place", e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Task for Muxer {
    type In = MuxItem;
    type Out = ();

    fn process(&mut self, item: MuxItem, _out: &mut dyn Sink<()>) -> Result<()> {
        match item {
            MuxItem::Stream {
                stream,
                params,
                time_base,
                side_data,
            } => {
                self.streams[stream] = Some((params, time_base, side_data));
                if self.octx.is_none() && self.streams.iter().all(Option::is_some) {
                    self.open()?;
                }
                Ok(())
            }
            MuxItem::Packet(p) => {
                if self.octx.is_none() {
                    self.pending.push(p);
                    Ok(())
                } else {
                    self.write(p)
                }
            }
        }
    }

    fn finish(&mut self, _out: &mut dyn Sink<()>) -> Result<()> {
        if self.octx.is_none() {
            let missing = self.streams.iter().filter(|s| s.is_none()).count();
            return Err(self.mux_error(format!(
                "{missing} of its {} streams never started (no frames reached them)",
                self.streams.len()
            )));
        }
        self.write_cues(None)?;
        {
            let octx = self.octx.as_mut().expect("opened");
            crate::log::clear();
            octx.write_trailer().map_err(|e| Error::Mux {
                path: self.setup.path.clone(),
                message: format!("finishing: {}", crate::log::describe(e)),
            })?;
        }
        // Closing the context flushes and closes the file.
        self.octx = None;
        self.commit()
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.bytes_out = self.bytes;
        stats.frames_in = self.packets;
    }
}

impl Drop for Muxer {
    fn drop(&mut self) {
        self.octx = None;
        if !self.committed {
            if self.setup.container == Container::Hls {
                let _ = std::fs::remove_dir_all(&self.staging);
            } else {
                let _ = std::fs::remove_file(&self.staging);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_from_extensions() {
        assert_eq!(
            Container::from_path(Path::new("out/a.mp4")),
            Some(Container::Mp4)
        );
        assert_eq!(
            Container::from_path(Path::new("a.MKV")),
            Some(Container::Mkv)
        );
        assert_eq!(
            Container::from_path(Path::new("hls/index.m3u8")),
            Some(Container::Hls)
        );
        assert_eq!(
            Container::from_path(Path::new("a.y4m")),
            Some(Container::Y4m)
        );
        assert_eq!(Container::from_path(Path::new("a.xyz")), None);
        assert_eq!(Container::Ts.muxer(), "mpegts");
    }

    #[test]
    fn temp_names_stay_in_the_folder_and_keep_the_extension() {
        let t = temp_path(Path::new("out/1080.mp4"));
        assert_eq!(t.parent(), Some(Path::new("out")));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".1080.rdbench-tmp-") && name.ends_with(".mp4"),
            "{name}"
        );
    }

    #[test]
    fn container_capabilities_come_from_ffmpeg() {
        crate::init();
        assert_eq!(Container::Ivf.can_carry(ff::codec::Id::H264), Some(false));
        assert_eq!(Container::Mp4.can_carry(ff::codec::Id::H264), Some(true));
        assert!(Container::Mp4.global_header());
        assert!(!Container::Ts.global_header());
    }
}
