//! Soft subtitles: a subtitle file (SRT, ASS/SSA, WebVTT) carried as a stream of the output, in
//! the codec its container takes: as they are in Matroska, MP4 timed text (mov_text) in MP4 and
//! MOV, WebVTT in WebM and HLS. The file is read and converted once, when the output starts; the
//! muxer writes its cues as the video reaches their time.

use std::path::Path;

use ff::packet::Ref as _;
use ff::Rational;
use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::error::{Error, Result};
use crate::mux::Container;

/// How a container carries text subtitles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carriage {
    /// The file's own codec (SubRip, ASS, WebVTT), packets copied.
    Copy,
    /// Converted by this libavcodec encoder.
    Encode(&'static str),
}

/// The carriage of text subtitles in `container`, or None when it takes none.
pub fn carriage(container: Container) -> Option<Carriage> {
    match container {
        Container::Mkv => Some(Carriage::Copy),
        Container::Mp4 | Container::Mov => Some(Carriage::Encode("mov_text")),
        Container::Webm | Container::Hls => Some(Carriage::Encode("webvtt")),
        _ => None,
    }
}

/// One cue, timed in milliseconds of the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    /// Start.
    pub start_ms: i64,
    /// Duration.
    pub duration_ms: i64,
    /// The packet's payload in the output codec.
    pub data: Vec<u8>,
}

/// A subtitle stream ready to mux.
#[derive(Clone)]
pub struct SubtitleTrack {
    /// The stream's codec parameters.
    pub params: ff::codec::Parameters,
    /// The cues in order.
    pub cues: Vec<Cue>,
}

impl std::fmt::Debug for SubtitleTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubtitleTrack")
            .field("codec", &self.params.id())
            .field("cues", &self.cues.len())
            .finish()
    }
}

/// The stream's time base: milliseconds.
pub const TIME_BASE: Rational = Rational(1, 1000);

/// A cue from `start_ms` lasting `duration_ms`, seen from an output that starts `offset_ms`
/// into the file's clock and lasts `length_ms` (None: to the end): its time in the output, or
/// None when it is outside it. A cue running over either edge is cut to it.
pub fn shift(
    start_ms: i64,
    duration_ms: i64,
    offset_ms: i64,
    length_ms: Option<i64>,
) -> Option<(i64, i64)> {
    let start = start_ms - offset_ms;
    let mut end = start + duration_ms.max(0);
    if let Some(l) = length_ms {
        end = end.min(l);
    }
    let start = start.max(0);
    (end > start).then_some((start, end - start))
}

impl SubtitleTrack {
    /// Reads `file` for an output in `container` that starts `offset_s` into the file's clock
    /// and lasts `length_s` (None: to the end). `field` names the setting in errors.
    pub fn load(
        file: &Path,
        container: Container,
        offset_s: f64,
        length_s: Option<f64>,
        field: &str,
    ) -> Result<SubtitleTrack> {
        crate::init();
        let err = |message: String| Error::Spec {
            field: field.to_string(),
            message: format!("{}: {message}", file.display()),
        };
        let carriage = carriage(container).ok_or_else(|| {
            err(format!(
                "the {} container carries no text subtitles (mkv, mp4, mov, webm and hls do)",
                container.muxer()
            ))
        })?;
        let mut ictx = ff::format::input(&file).map_err(|e| err(format!("cannot read it: {e}")))?;
        let stream = ictx
            .streams()
            .best(ff::media::Type::Subtitle)
            .ok_or_else(|| err("holds no subtitles".into()))?;
        let index = stream.index();
        let tb = stream.time_base();
        let params = stream.parameters();
        let offset_ms = (offset_s * 1000.0).round() as i64;
        let length_ms = length_s.map(|l| (l * 1000.0).round() as i64);
        let to_ms = |t: i64| crate::encode::rescale(t, tb, TIME_BASE);
        let mut packets = Vec::new();
        for (s, p) in ictx.packets() {
            if s.index() == index {
                packets.push(p);
            }
        }
        match carriage {
            Carriage::Copy => {
                let cues = packets
                    .iter()
                    .filter_map(|p| {
                        let start = to_ms(p.pts().or(p.dts())?);
                        let (s, d) = shift(start, to_ms(p.duration()), offset_ms, length_ms)?;
                        Some(Cue {
                            start_ms: s,
                            duration_ms: d,
                            data: p.data()?.to_vec(),
                        })
                    })
                    .collect();
                Ok(SubtitleTrack { params, cues })
            }
            Carriage::Encode(name) => {
                encode_cues(&params, tb, &packets, name, offset_ms, length_ms).map_err(err)
            }
        }
    }
}

/// Decodes the file's packets and encodes each cue with encoder `name`.
fn encode_cues(
    params: &ff::codec::Parameters,
    tb: Rational,
    packets: &[ff::Packet],
    name: &str,
    offset_ms: i64,
    length_ms: Option<i64>,
) -> std::result::Result<SubtitleTrack, String> {
    let mut dec = ff::codec::context::Context::from_parameters(params.clone())
        .map_err(|e| format!("no decoder for its {} subtitles: {e}", params.id().name()))?;
    // SAFETY: a plain field of a context we own, set before it is opened.
    unsafe { (*dec.as_mut_ptr()).pkt_timebase = tb.into() };
    let codec = ff::decoder::find(params.id())
        .ok_or_else(|| format!("no decoder for its {} subtitles", params.id().name()))?;
    let mut dec = dec
        .decoder()
        .open_as(codec)
        .map_err(|e| format!("opening its {} decoder: {e}", params.id().name()))?;
    let encoder = ff::encoder::find_by_name(name)
        .ok_or_else(|| format!("this FFmpeg has no {name} encoder"))?;
    let mut enc = ff::codec::context::Context::new_with_codec(encoder);
    // SAFETY: fields of the new encoder context, set before it is opened. The ASS header the
    // decoder made (styles, play resolution) is copied into a buffer libavcodec owns and frees
    // with the context, as FFmpeg's own tools do.
    unsafe {
        let e = enc.as_mut_ptr();
        let d = dec.as_ptr();
        (*e).time_base = TIME_BASE.into();
        let n = (*d).subtitle_header_size;
        if n > 0 && !(*d).subtitle_header.is_null() {
            let buf = ffi::av_mallocz(n as usize + 1) as *mut u8;
            if !buf.is_null() {
                std::ptr::copy_nonoverlapping((*d).subtitle_header, buf, n as usize);
                (*e).subtitle_header = buf;
                (*e).subtitle_header_size = n;
            }
        }
    }
    let opened = enc
        .encoder()
        .subtitle()
        .map_err(|e| e.to_string())?
        .open_as(encoder)
        .map_err(|e| format!("opening the {name} encoder: {e}"))?;
    let out_params = ff::codec::Parameters::from(&*opened);
    let mut enc = opened;
    let mut cues = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for p in packets {
        let Some(pts) = p.pts().or(p.dts()) else {
            continue;
        };
        // SAFETY: `sub` is zeroed (an empty AVSubtitle), filled by the decoder, and freed with
        // avsubtitle_free after the encoder has read it; the packet outlives the call.
        let cue = unsafe {
            let mut sub: ffi::AVSubtitle = std::mem::zeroed();
            let mut got = 0;
            let rc = ffi::avcodec_decode_subtitle2(
                dec.as_mut_ptr(),
                &mut sub,
                &mut got,
                p.as_ptr() as *mut ffi::AVPacket,
            );
            if rc < 0 || got == 0 {
                None
            } else {
                let start =
                    crate::encode::rescale(pts, tb, TIME_BASE) + sub.start_display_time as i64;
                let duration = if sub.end_display_time > sub.start_display_time {
                    (sub.end_display_time - sub.start_display_time) as i64
                } else {
                    crate::encode::rescale(p.duration(), tb, TIME_BASE)
                };
                let result = match shift(start, duration, offset_ms, length_ms) {
                    None => None,
                    Some((s, d)) => {
                        sub.pts = s * 1000;
                        sub.start_display_time = 0;
                        sub.end_display_time = d as u32;
                        let n = ffi::avcodec_encode_subtitle(
                            enc.as_mut_ptr(),
                            buf.as_mut_ptr(),
                            buf.len() as i32,
                            &sub,
                        );
                        (n > 0).then(|| Cue {
                            start_ms: s,
                            duration_ms: d,
                            data: buf[..n as usize].to_vec(),
                        })
                    }
                };
                ffi::avsubtitle_free(&mut sub);
                result
            }
        };
        cues.extend(cue);
    }
    Ok(SubtitleTrack {
        params: out_params,
        cues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_are_shifted_and_cut_to_the_output() {
        // The whole file: unchanged.
        assert_eq!(shift(1000, 500, 0, None), Some((1000, 500)));
        // A clip from 2 s: earlier cues go, one running over the start is cut.
        assert_eq!(shift(1000, 500, 2000, None), None);
        assert_eq!(shift(1500, 1000, 2000, None), Some((0, 500)));
        assert_eq!(shift(3000, 500, 2000, None), Some((1000, 500)));
        // A clip of 2 s: a cue running over the end is cut, later ones go.
        assert_eq!(shift(3500, 1000, 2000, Some(2000)), Some((1500, 500)));
        assert_eq!(shift(4000, 500, 2000, Some(2000)), None);
    }

    #[test]
    fn each_container_carries_text_subtitles_its_way() {
        assert_eq!(carriage(Container::Mkv), Some(Carriage::Copy));
        assert_eq!(carriage(Container::Mp4), Some(Carriage::Encode("mov_text")));
        assert_eq!(carriage(Container::Webm), Some(Carriage::Encode("webvtt")));
        assert_eq!(carriage(Container::Ts), None);
        assert_eq!(carriage(Container::Y4m), None);
    }
}
