//! Which output templates fit an input, before any is applied: a template that would upscale the
//! picture, raise the frame rate, ask for more video bitrate than the source has, or need audio
//! the input lacks does not fit, and each reason is said in a sentence. Pure: it reads a probed
//! [`MediaInfo`] and the template's settings, nothing else.

use serde::Serialize;

use crate::filter::Rate;
use crate::probe::{MediaInfo, StreamInfo};
use crate::spec::{AudioKeyword, AudioSpec, OutputSettings, RcSpec};

/// Whether one template fits, and why not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateFit {
    /// The template's name.
    pub name: String,
    /// True when nothing is against it.
    pub fits: bool,
    /// Every reason it does not fit.
    pub reasons: Vec<String>,
}

/// The video bitrate of the source in kbit/s: the stream's declared one, else the container's
/// less the audio streams' declared bitrates.
pub fn video_kbps(info: &MediaInfo) -> Option<f64> {
    let video = info.streams.iter().find(|s| s.kind == "video")?;
    video.bitrate_kbps.or_else(|| {
        let audio: f64 = info
            .streams
            .iter()
            .filter(|s| s.kind == "audio")
            .filter_map(|s| s.bitrate_kbps)
            .sum();
        info.bitrate_kbps.map(|b| (b - audio).max(0.0))
    })
}

/// The output size a template asks of a `w`x`h` source: both given, or the missing one from
/// the aspect ratio (rounded to even, as the core does).
fn target_size(t: &OutputSettings, w: u32, h: u32) -> Option<(u32, u32)> {
    let even = |v: f64| ((v / 2.0).round() * 2.0).max(2.0) as u32;
    match (t.width, t.height) {
        (Some(tw), Some(th)) => Some((tw, th)),
        (Some(tw), None) => Some((tw, even(f64::from(tw) * f64::from(h) / f64::from(w)))),
        (None, Some(th)) => Some((even(f64::from(th) * f64::from(w) / f64::from(h)), th)),
        (None, None) => None,
    }
}

/// Whether template `name` (its settings after its own fields; defaults are not merged in)
/// fits the probed input.
pub fn template_fit(name: &str, t: &OutputSettings, info: &MediaInfo) -> TemplateFit {
    let mut reasons = Vec::new();
    let video: Option<&StreamInfo> = info.streams.iter().find(|s| s.kind == "video");
    let has_audio = info.streams.iter().any(|s| s.kind == "audio");
    match video {
        None => reasons.push("the input has no video stream".to_string()),
        Some(v) => {
            if let (Some(w), Some(h)) = (v.width, v.height) {
                if let Some((tw, th)) = target_size(t, w, h) {
                    if tw > w || th > h {
                        reasons.push(format!("it would upscale {w}x{h} to {tw}x{th}"));
                    }
                }
            }
            let rate = t.fps.as_ref().and_then(|f| Rate::parse(&f.to_string()));
            if let (Some(r), Some(src)) = (rate, v.fps) {
                // Rates within 0.1% are the same rate written two ways (29.97 and 30000/1001).
                if r.fps() > src * 1.001 {
                    reasons.push(format!(
                        "it would raise the frame rate from {} to {} fps",
                        round3(src),
                        round3(r.fps())
                    ));
                }
            }
            let asked = match &t.rc {
                Some(RcSpec::Abr { bitrate_kbps, .. } | RcSpec::Cbr { bitrate_kbps, .. }) => {
                    Some(*bitrate_kbps)
                }
                _ => None,
            };
            if let (Some(a), Some(src)) = (asked, video_kbps(info)) {
                if a > src {
                    reasons.push(format!(
                        "it asks for {} kbit/s of video, more than the source's {}",
                        round3(a),
                        round3(src)
                    ));
                }
            }
        }
    }
    let needs_audio = matches!(
        &t.audio,
        Some(AudioSpec::Encode(_)) | Some(AudioSpec::Keyword(AudioKeyword::Copy))
    );
    if needs_audio && !has_audio {
        reasons.push("it carries audio and the input has none".to_string());
    }
    TemplateFit {
        name: name.to_string(),
        fits: reasons.is_empty(),
        reasons,
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{AudioEncodeSpec, Scalar};
    use std::path::PathBuf;

    fn stream(kind: &str) -> StreamInfo {
        StreamInfo {
            index: 0,
            kind: kind.into(),
            codec: "h264".into(),
            profile: None,
            width: None,
            height: None,
            fps: None,
            pix_fmt: None,
            bit_depth: None,
            color_range: None,
            color_primaries: None,
            color_transfer: None,
            color_space: None,
            rotation_deg: None,
            sample_rate: None,
            channels: None,
            bitrate_kbps: None,
            duration_s: None,
            frames: None,
        }
    }

    /// A 1280x720 25 fps input at 2000 kbit/s overall, with or without 128 kbit/s of audio.
    fn input(audio: bool) -> MediaInfo {
        let mut v = stream("video");
        v.width = Some(1280);
        v.height = Some(720);
        v.fps = Some(25.0);
        let mut streams = vec![v];
        if audio {
            let mut a = stream("audio");
            a.bitrate_kbps = Some(128.0);
            streams.push(a);
        }
        MediaInfo {
            path: PathBuf::from("in.mp4"),
            container: "mov,mp4".into(),
            container_long: String::new(),
            duration_s: Some(10.0),
            bitrate_kbps: Some(2000.0),
            size_bytes: 0,
            streams,
        }
    }

    fn template(height: u32, fps: &str, kbps: f64, audio: bool) -> OutputSettings {
        OutputSettings {
            height: Some(height),
            fps: Some(Scalar::Str(fps.into())),
            rc: Some(RcSpec::Abr {
                bitrate_kbps: kbps,
                passes: None,
            }),
            audio: audio.then(|| {
                AudioSpec::Encode(AudioEncodeSpec {
                    codec: "aac".into(),
                    bitrate_kbps: Some(128.0),
                    channels: None,
                    sample_rate: None,
                })
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_smaller_slower_cheaper_template_fits() {
        let f = template_fit("540p", &template(540, "25", 1200.0, true), &input(true));
        assert_eq!(
            f,
            TemplateFit {
                name: "540p".into(),
                fits: true,
                reasons: vec![]
            }
        );
        // 29.97 written as a ratio against a 29.97 source is the same rate.
        let mut i = input(false);
        i.streams[0].fps = Some(29.97);
        assert!(template_fit("t", &template(720, "30000/1001", 100.0, false), &i).fits);
    }

    #[test]
    fn every_reason_is_said() {
        let f = template_fit(
            "1080p60",
            &template(1080, "60", 6000.0, true),
            &input(false),
        );
        assert!(!f.fits);
        assert_eq!(
            f.reasons,
            vec![
                "it would upscale 1280x720 to 1920x1080".to_string(),
                "it would raise the frame rate from 25 to 60 fps".to_string(),
                "it asks for 6000 kbit/s of video, more than the source's 2000".to_string(),
                "it carries audio and the input has none".to_string(),
            ]
        );
        // With audio, the video's share is the container's less the audio's.
        let f = template_fit("hi", &template(720, "25", 1900.0, true), &input(true));
        assert_eq!(
            f.reasons,
            vec!["it asks for 1900 kbit/s of video, more than the source's 1872".to_string()]
        );
    }

    #[test]
    fn an_audio_only_input_fits_no_video_template() {
        let mut i = input(true);
        i.streams.remove(0);
        let f = template_fit("360p", &template(360, "25", 500.0, false), &i);
        assert_eq!(f.reasons, vec!["the input has no video stream".to_string()]);
    }
}
