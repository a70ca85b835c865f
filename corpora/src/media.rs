//! Media files as sequences: what the corpus needs from a decoder ([`MediaDecoder`], which the
//! bench harness implements with the transcode core, so this crate never sees FFmpeg), and the
//! decisions about a probed file that do not need one: whether it can be used as it is, what it
//! is converted to, and which class it suggests.

use std::path::Path;

use rdbench_metrics::fps::Fps;

/// What probing a media file tells about its video.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaProbe {
    /// Luma width.
    pub width: u32,
    /// Luma height.
    pub height: u32,
    /// Nominal frame rate.
    pub fps: Fps,
    /// Frames, when the container says or its duration tells (decoding counts them exactly).
    pub frames: Option<u64>,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Chroma layout: "420", "422", "444" or "400".
    pub chroma: String,
    /// The pixel format's name, for notes.
    pub pix_fmt: String,
    /// Whether the frame rate varies.
    pub variable_rate: bool,
    /// The average frame rate, when it differs from the nominal one.
    pub average_fps: f64,
}

/// How a media file is decoded into the corpus cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeRequest {
    /// The pixel format of the Y4M written (FFmpeg name: yuv420p, yuv420p10le, ...).
    pub pix_fmt: String,
    /// Resample to this constant rate (a variable-rate source converted on request).
    pub cfr: Option<Fps>,
    /// At most this many frames.
    pub frames: Option<u32>,
}

/// Revision of the transcode core's frame-rate conversion, part of the cache key of converted
/// sources: 2 since a conversion lasts the source's last frame whole (one frame more than
/// before at most rates).
pub const CFR_REVISION: u32 = 2;

impl DecodeRequest {
    /// A short, stable description for cache keys and records.
    pub fn describe(&self) -> String {
        format!(
            "pix_fmt={} cfr={} frames={}",
            self.pix_fmt,
            self.cfr
                .map(|f| format!("{f} (conversion {CFR_REVISION})"))
                .unwrap_or_else(|| "-".into()),
            self.frames
                .map(|f| f.to_string())
                .unwrap_or_else(|| "all".into())
        )
    }
}

/// A decoder of media files into Y4M, and a prober. Errors are one line naming the file.
pub trait MediaDecoder: Send + Sync {
    /// Probes `path`'s video stream.
    fn probe(&self, path: &Path) -> Result<MediaProbe, String>;
    /// Decodes `path` into the Y4M file `dest` (which the caller renames into place).
    fn decode(&self, path: &Path, dest: &Path, request: &DecodeRequest) -> Result<(), String>;
}

/// Whether `path` is a Y4M file by its extension (read as it is; anything else is decoded).
pub fn is_y4m(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("y4m"))
}

/// The decode of a probed file: 4:2:0 at the source's bit depth (8, 10 or 12 bits; sources of
/// other depths go to the next of those up), resampled to the nominal rate when `cfr` and the
/// rate varies. Returns the request and a note about any conversion, or why the file cannot be
/// used as it is.
pub fn plan_decode(
    probe: &MediaProbe,
    cfr: bool,
) -> Result<(DecodeRequest, Option<String>), String> {
    if probe.variable_rate && !cfr {
        return Err(format!(
            "variable frame rate (average {:.3} fps, nominal {}): sequences must have a constant rate; pass --cfr to resample it to {} fps",
            probe.average_fps, probe.fps, probe.fps
        ));
    }
    let depth = match probe.bit_depth {
        0..=8 => 8,
        9..=10 => 10,
        _ => 12,
    };
    let pix_fmt = match depth {
        8 => "yuv420p".to_string(),
        d => format!("yuv420p{d}le"),
    };
    let mut notes = Vec::new();
    if probe.chroma != "420" || depth != probe.bit_depth {
        notes.push(format!("converted from {} to {pix_fmt}", probe.pix_fmt));
    }
    let cfr_rate = (probe.variable_rate && cfr).then_some(probe.fps);
    if let Some(r) = cfr_rate {
        notes.push(format!(
            "variable frame rate (average {:.3} fps) resampled to {r} fps",
            probe.average_fps
        ));
    }
    Ok((
        DecodeRequest {
            pix_fmt,
            cfr: cfr_rate,
            frames: None,
        },
        (!notes.is_empty()).then(|| notes.join("; ")),
    ))
}

/// A CTC-style class suggested by a sequence's size: A (2160 lines and up), B (1080), E (720),
/// C (480 and up), D (smaller). Screen content (class F) needs a person to say so.
pub fn suggest_class(width: u32, height: u32) -> &'static str {
    let lines = width.min(height);
    match lines {
        2000.. => "A",
        1000.. => "B",
        700.. => "E",
        460.. => "C",
        _ => "D",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(chroma: &str, depth: u8, pix: &str, vfr: bool) -> MediaProbe {
        MediaProbe {
            width: 1280,
            height: 720,
            fps: Fps::new(30, 1).unwrap(),
            frames: Some(150),
            bit_depth: depth,
            chroma: chroma.into(),
            pix_fmt: pix.into(),
            variable_rate: vfr,
            average_fps: if vfr { 27.4 } else { 30.0 },
        }
    }

    #[test]
    fn decodes_keep_the_depth_and_convert_chroma_with_a_note() {
        let (r, note) = plan_decode(&probe("420", 8, "yuv420p", false), false).unwrap();
        assert_eq!((r.pix_fmt.as_str(), note), ("yuv420p", None));
        let (r, note) = plan_decode(&probe("420", 10, "yuv420p10le", false), false).unwrap();
        assert_eq!((r.pix_fmt.as_str(), note), ("yuv420p10le", None));
        let (r, note) = plan_decode(&probe("422", 10, "yuv422p10le", false), false).unwrap();
        assert_eq!(r.pix_fmt, "yuv420p10le");
        assert_eq!(note.unwrap(), "converted from yuv422p10le to yuv420p10le");
        assert_eq!(r.describe(), "pix_fmt=yuv420p10le cfr=- frames=all");
    }

    #[test]
    fn variable_rates_are_refused_unless_converted() {
        let e = plan_decode(&probe("420", 8, "yuv420p", true), false).unwrap_err();
        assert_eq!(
            e,
            "variable frame rate (average 27.400 fps, nominal 30): sequences must have a constant rate; pass --cfr to resample it to 30 fps"
        );
        let (r, note) = plan_decode(&probe("420", 8, "yuv420p", true), true).unwrap();
        assert_eq!(r.cfr, Fps::new(30, 1));
        // A converted source's cache key names the conversion's revision.
        assert_eq!(
            r.describe(),
            "pix_fmt=yuv420p cfr=30 (conversion 2) frames=all"
        );
        assert_eq!(
            note.unwrap(),
            "variable frame rate (average 27.400 fps) resampled to 30 fps"
        );
    }

    #[test]
    fn classes_follow_the_size() {
        assert_eq!(suggest_class(3840, 2160), "A");
        assert_eq!(suggest_class(1920, 1080), "B");
        assert_eq!(suggest_class(1280, 720), "E");
        assert_eq!(suggest_class(832, 480), "C");
        assert_eq!(suggest_class(416, 240), "D");
        assert!(is_y4m(Path::new("a/B.Y4M")) && !is_y4m(Path::new("a.mp4")));
    }
}
