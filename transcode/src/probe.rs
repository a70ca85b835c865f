//! `probe`: what a media file holds — container, duration, bitrate, and for every stream its
//! codec, resolution, frame rate, pixel format, colour properties, rotation and bitrate.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;
use serde::Serialize;

use crate::error::Result;
use crate::input::{self, InputSource};
use crate::media;

/// A probed file.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MediaInfo {
    /// The file.
    pub path: PathBuf,
    /// Container (demuxer) name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    pub container: String,
    /// Container's long name.
    pub container_long: String,
    /// Duration in seconds, when known.
    pub duration_s: Option<f64>,
    /// Overall bitrate in kbit/s, when known.
    pub bitrate_kbps: Option<f64>,
    /// File size in bytes (0 for non-file inputs).
    pub size_bytes: u64,
    /// Streams in file order.
    pub streams: Vec<StreamInfo>,
}

/// One stream of a probed file.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreamInfo {
    /// Stream index.
    pub index: usize,
    /// video, audio, subtitle, data or attachment.
    pub kind: String,
    /// Codec name.
    pub codec: String,
    /// Codec profile, when named.
    pub profile: Option<String>,
    /// Width (video).
    pub width: Option<u32>,
    /// Height (video).
    pub height: Option<u32>,
    /// Average frame rate (video).
    pub fps: Option<f64>,
    /// Pixel format (video).
    pub pix_fmt: Option<String>,
    /// Bits per sample (video).
    pub bit_depth: Option<u8>,
    /// Colour range: tv or pc.
    pub color_range: Option<String>,
    /// Colour primaries, e.g. bt709.
    pub color_primaries: Option<String>,
    /// Transfer characteristics, e.g. smpte2084.
    pub color_transfer: Option<String>,
    /// Matrix coefficients, e.g. bt709.
    pub color_space: Option<String>,
    /// Display rotation in degrees (counter-clockwise), when the stream has a display matrix.
    pub rotation_deg: Option<f64>,
    /// Sample rate (audio).
    pub sample_rate: Option<u32>,
    /// Channels (audio).
    pub channels: Option<u32>,
    /// Bitrate in kbit/s, when declared.
    pub bitrate_kbps: Option<f64>,
    /// Duration in seconds, when declared.
    pub duration_s: Option<f64>,
    /// Frames, when declared.
    pub frames: Option<u64>,
}

/// Probes a file.
pub fn probe(path: &Path) -> Result<MediaInfo> {
    let source = InputSource::File(path.to_path_buf());
    let ictx = input::open(&source)?;
    let fmt = ictx.format();
    let duration_s =
        (ictx.duration() > 0).then(|| ictx.duration() as f64 / ffi::AV_TIME_BASE as f64);
    let bitrate = ictx.bit_rate();
    let mut streams = Vec::new();
    for st in ictx.streams() {
        let par = st.parameters();
        // SAFETY: reading plain fields of the stream's codec parameters.
        let p = unsafe { &*par.as_ptr() };
        let kind = match par.medium() {
            ff::media::Type::Video => "video",
            ff::media::Type::Audio => "audio",
            ff::media::Type::Subtitle => "subtitle",
            ff::media::Type::Attachment => "attachment",
            _ => "data",
        };
        let video = kind == "video";
        let audio = kind == "audio";
        let name = |s: *const std::os::raw::c_char| -> Option<String> {
            (!s.is_null()).then(|| {
                // SAFETY: FFmpeg's *_name functions return null or a static NUL-terminated
                // string, and this one is not null.
                unsafe { std::ffi::CStr::from_ptr(s) }
                    .to_string_lossy()
                    .into_owned()
            })
        };
        // SAFETY: these lookups only read static tables.
        let (range, prim, trc, space, profile) = unsafe {
            (
                name(ffi::av_color_range_name(p.color_range)),
                name(ffi::av_color_primaries_name(p.color_primaries)),
                name(ffi::av_color_transfer_name(p.color_trc)),
                name(ffi::av_color_space_name(p.color_space)),
                name(ffi::avcodec_profile_name(p.codec_id, p.profile)),
            )
        };
        let unspecified = |v: Option<String>| {
            v.filter(|s| s != "unknown" && s != "unspecified" && s != "reserved")
        };
        let pix = if video && p.format >= 0 {
            // SAFETY: a valid AVPixelFormat value from FFmpeg.
            let pf = ff::format::Pixel::from(unsafe {
                std::mem::transmute::<i32, ffi::AVPixelFormat>(p.format)
            });
            Some(pf)
        } else {
            None
        };
        let avg = st.avg_frame_rate();
        let fps = (video && avg.numerator() > 0 && avg.denominator() > 0)
            .then(|| avg.numerator() as f64 / avg.denominator() as f64);
        let tb = st.time_base();
        streams.push(StreamInfo {
            index: st.index(),
            kind: kind.to_string(),
            codec: par.id().name().to_string(),
            profile,
            width: video.then_some(p.width as u32),
            height: video.then_some(p.height as u32),
            fps,
            pix_fmt: pix.map(media::pix_fmt_name),
            bit_depth: pix.map(media::bit_depth),
            color_range: if video { unspecified(range) } else { None },
            color_primaries: if video { unspecified(prim) } else { None },
            color_transfer: if video { unspecified(trc) } else { None },
            color_space: if video { unspecified(space) } else { None },
            rotation_deg: if video { rotation(&st) } else { None },
            sample_rate: audio.then_some(p.sample_rate as u32),
            channels: audio.then_some(p.ch_layout.nb_channels as u32),
            bitrate_kbps: (p.bit_rate > 0).then(|| p.bit_rate as f64 / 1000.0),
            duration_s: (st.duration() > 0).then(|| media::seconds(st.duration(), tb)),
            frames: (st.frames() > 0).then_some(st.frames() as u64),
        });
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bitrate_kbps = if bitrate > 0 {
        Some(bitrate as f64 / 1000.0)
    } else {
        duration_s
            .filter(|d| *d > 0.0)
            .map(|d| size as f64 * 8.0 / d / 1000.0)
    };
    Ok(MediaInfo {
        path: path.to_path_buf(),
        container: fmt.name().to_string(),
        container_long: fmt.description().to_string(),
        duration_s,
        bitrate_kbps,
        size_bytes: size,
        streams,
    })
}

/// The user data one picture of a file carries (H.264/HEVC SEI, AV1 metadata OBUs).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PictureUserData {
    /// Presentation time in seconds.
    pub pts_s: f64,
    /// A keyframe.
    pub key: bool,
    /// Every user-data-unregistered message, in bitstream order.
    pub messages: Vec<crate::sei::UserData>,
    /// The latency record among them, decoded.
    pub latency: Option<crate::sei::Latency>,
}

/// The user data of every picture of `path`'s video stream that carries any, in presentation
/// order.
pub fn user_data(path: &Path) -> Result<Vec<PictureUserData>> {
    let source = InputSource::File(path.to_path_buf());
    let mut ictx = input::open(&source)?;
    let stream =
        ictx.streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| crate::Error::NoStream {
                path: path.to_path_buf(),
                kind: "video",
            })?;
    let index = stream.index();
    let tb = stream.time_base();
    let params = stream.parameters();
    let Some(codec) = crate::sei::SeiCodec::from_codec_id(params.id()) else {
        return Err(crate::Error::Spec {
            field: "sei".into(),
            message: format!(
                "{}: {} bitstreams carry no user data (H.264, HEVC and AV1 do)",
                path.display(),
                params.id().name()
            ),
        });
    };
    let framing = crate::sei::NalFraming::from_extradata(codec, &media::extradata(&params));
    let mut out = Vec::new();
    for (s, packet) in ictx.packets() {
        if s.index() != index {
            continue;
        }
        let Some(data) = packet.data() else { continue };
        let messages = crate::sei::extract(data, codec, framing);
        if messages.is_empty() {
            continue;
        }
        out.push(PictureUserData {
            pts_s: media::seconds(packet.pts().or(packet.dts()).unwrap_or(0), tb),
            key: packet.is_key(),
            latency: messages
                .iter()
                .find_map(crate::sei::Latency::from_user_data),
            messages,
        });
    }
    out.sort_by(|a, b| a.pts_s.total_cmp(&b.pts_s));
    Ok(out)
}

/// The display rotation of a stream, from its display-matrix side data.
fn rotation(st: &ff::format::stream::Stream) -> Option<f64> {
    // SAFETY: reading the stream's side data through FFmpeg's accessors; a display matrix is
    // nine 32-bit integers, which is checked before av_display_rotation_get reads it.
    unsafe {
        let s = st.as_ptr();
        let kind = ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX;
        #[cfg(ffmpeg_coded_side_data)]
        let (data, size) = {
            let par = (*s).codecpar;
            let sd = ffi::av_packet_side_data_get(
                (*par).coded_side_data,
                (*par).nb_coded_side_data,
                kind,
            );
            if sd.is_null() {
                return None;
            }
            ((*sd).data, (*sd).size)
        };
        #[cfg(not(ffmpeg_coded_side_data))]
        let (data, size) = {
            let mut size = 0;
            let data = ffi::av_stream_get_side_data(s, kind, &mut size);
            (data, size as usize)
        };
        if data.is_null() || size < 36 {
            return None;
        }
        let deg = ffi::av_display_rotation_get(data as *const i32);
        deg.is_finite().then(|| deg + 0.0)
    }
}
