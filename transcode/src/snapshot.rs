//! Snapshots: still images of chosen frames of the input, written as JPEG or PNG files beside
//! the job's outputs, from the same decode that feeds them.
//!
//! A snapshot set (`[[snapshot]]` in a job) chooses its frames one of three ways: at given
//! times (the first frame at or after each time, as an accurate seek would give), `count`
//! frames evenly spaced over the input (the frame at the middle of each of `count` equal
//! parts, so that no image is a fade-in's first black frame), or every keyframe. Images take a
//! width and/or a height (the other follows the source's aspect, rounded to even) and are
//! numbered from 1 into a `%d`/`%0Nd` pattern, each written to a temporary name and renamed.
//!
//! The flow is select -> filter (scale, pixel format) -> image encoder; [`Select`] is pure and
//! unit-tested, the rest runs as tasks of the job.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ffmpeg_next as ff;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::filter::output_size;
use crate::input::VideoInfo;
use crate::media::{self, VideoFrame};
use crate::mux;
use crate::spec::SnapshotSpec;
use crate::task::{Sink, Task, TaskStats};

/// Most images one snapshot set may ask for by `count` or `times`.
pub const MAX_IMAGES: usize = 10_000;

/// The image file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ImageFormat {
    /// JPEG (libavcodec's `mjpeg`, full-range 4:2:0).
    Jpeg,
    /// PNG (8-bit RGB).
    Png,
}

impl ImageFormat {
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }

    fn encoder(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "mjpeg",
            ImageFormat::Png => "png",
        }
    }

    fn pix_fmt(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "yuvj420p",
            ImageFormat::Png => "rgb24",
        }
    }
}

/// Which frames a snapshot set takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// The first frame at or after each time, in seconds from the first frame.
    Times(Vec<f64>),
    /// This many frames evenly spaced over the input.
    Count(u32),
    /// Every keyframe, up to a limit when one is given.
    Keyframes(Option<u32>),
}

/// A checked snapshot set.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPlan {
    /// Position in the job.
    pub index: usize,
    /// Job-spec field prefix, `snapshot[i]`.
    pub field: String,
    /// The file-name pattern, with one `%d` or `%0Nd` where the image number goes.
    pub pattern: PathBuf,
    /// JPEG or PNG.
    pub format: ImageFormat,
    /// Which frames.
    pub selection: Selection,
    /// Requested width.
    pub width: Option<u32>,
    /// Requested height.
    pub height: Option<u32>,
    /// JPEG quantiser scale, 2 (best) to 31.
    pub quality: u32,
    /// Sprite sheets instead of single images.
    pub sprite: Option<Sprite>,
}

/// Sprite sheets: the images tiled `columns` x `rows` per sheet (the last sheet partly
/// filled, the rest black), with a WebVTT track whose cues point at each tile.
#[derive(Clone, Debug, PartialEq)]
pub struct Sprite {
    /// Tiles per row.
    pub columns: u32,
    /// Rows per sheet.
    pub rows: u32,
    /// The WebVTT file.
    pub vtt: PathBuf,
}

/// A `%d` or `%0Nd` in a file name: the text before it, the zero-padded width, the text after.
#[derive(Clone, Debug, PartialEq)]
struct Pattern {
    before: String,
    width: usize,
    after: String,
}

fn parse_pattern(p: &str) -> std::result::Result<Option<Pattern>, String> {
    let mut found = None;
    let bytes = p.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let rest = &p[i + 1..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if rest[digits.len()..].starts_with('d') {
                if found.is_some() {
                    return Err("has more than one `%d`".into());
                }
                let width = if digits.is_empty() {
                    0
                } else if digits.starts_with('0') && digits.len() > 1 {
                    digits[1..]
                        .parse()
                        .map_err(|_| "a bad `%0Nd`".to_string())?
                } else {
                    return Err(format!("`%{digits}d` is not `%d` or `%0Nd`"));
                };
                found = Some(Pattern {
                    before: p[..i].to_string(),
                    width,
                    after: rest[digits.len() + 1..].to_string(),
                });
                i += 1 + digits.len() + 1;
                continue;
            }
            return Err("has a `%` that is not `%d` or `%0Nd`".into());
        }
        i += 1;
    }
    Ok(found)
}

impl SnapshotPlan {
    /// Checks snapshot set `i` of a job; `resolve` turns a spec path into a file path.
    pub fn from_spec(
        s: &SnapshotSpec,
        i: usize,
        resolve: impl Fn(&str) -> PathBuf,
    ) -> Result<SnapshotPlan> {
        let field = format!("snapshot[{i}]");
        let err = |name: &str, message: String| Error::Spec {
            field: format!("{field}.{name}"),
            message,
        };
        let path = s
            .path
            .as_deref()
            .ok_or_else(|| err("path", "missing (e.g. \"thumbs/%03d.jpg\")".into()))?;
        let pattern = parse_pattern(path).map_err(|m| err("path", format!("`{path}` {m}")))?;
        let format = match &s.format {
            Some(f) => ImageFormat::from_name(f)
                .ok_or_else(|| err("format", format!("unknown image format `{f}` (jpeg, png)")))?,
            None => Path::new(path)
                .extension()
                .and_then(|e| ImageFormat::from_name(&e.to_string_lossy()))
                .ok_or_else(|| {
                    err(
                        "path",
                        format!("`{path}` does not end in .jpg, .jpeg or .png; set `format`"),
                    )
                })?,
        };
        let chosen = [
            s.times.is_some(),
            s.count.is_some(),
            s.keyframes == Some(true),
        ];
        let selection = match chosen {
            [true, false, false] => {
                let times = s.times.clone().expect("checked");
                if times.is_empty() || times.len() > MAX_IMAGES {
                    return Err(err(
                        "times",
                        format!("must list 1 to {MAX_IMAGES} times, not {}", times.len()),
                    ));
                }
                for (k, t) in times.iter().enumerate() {
                    if !(t.is_finite() && *t >= 0.0) {
                        return Err(err("times", format!("{t} is not a time in seconds")));
                    }
                    if k > 0 && *t <= times[k - 1] {
                        return Err(err(
                            "times",
                            format!("must increase: {t} follows {}", times[k - 1]),
                        ));
                    }
                }
                Selection::Times(times)
            }
            [false, true, false] => {
                let n = s.count.expect("checked");
                if n == 0 || n as usize > MAX_IMAGES {
                    return Err(err("count", format!("must be 1 to {MAX_IMAGES}, not {n}")));
                }
                Selection::Count(n)
            }
            [false, false, true] => Selection::Keyframes(s.max),
            _ => {
                return Err(err(
                    "times",
                    "give exactly one of `times`, `count` or `keyframes = true`".into(),
                ))
            }
        };
        if s.max.is_some() && !matches!(selection, Selection::Keyframes(_)) {
            return Err(err("max", "only applies to `keyframes = true`".into()));
        }
        if s.max == Some(0) {
            return Err(err("max", "must be at least 1".into()));
        }
        let several = !matches!(selection, Selection::Times(ref t) if t.len() == 1)
            && !matches!(selection, Selection::Count(1));
        if several && pattern.is_none() {
            return Err(err(
                "path",
                format!("`{path}` needs a `%d` or `%03d` for the image number"),
            ));
        }
        for (name, v) in [("width", s.width), ("height", s.height)] {
            if v == Some(0) {
                return Err(err(name, "must be positive".into()));
            }
        }
        let quality = match (format, s.quality) {
            (ImageFormat::Jpeg, Some(q)) if !(2..=31).contains(&q) => {
                return Err(err("quality", format!("must be 2 (best) to 31, not {q}")))
            }
            (ImageFormat::Png, Some(_)) => {
                return Err(err(
                    "quality",
                    "only applies to JPEG (PNG is lossless)".into(),
                ))
            }
            (_, q) => q.unwrap_or(2),
        };
        let sprite = match &s.sprite {
            None => None,
            Some(sp) => {
                let (columns, rows) = match (sp.columns, sp.rows) {
                    (Some(c), Some(r)) if (1..=20).contains(&c) && (1..=20).contains(&r) => (c, r),
                    (c, r) => {
                        return Err(err(
                            "sprite",
                            format!(
                                "needs `columns` and `rows`, each 1 to 20 (got {} x {})",
                                c.map_or("none".into(), |v| v.to_string()),
                                r.map_or("none".into(), |v| v.to_string())
                            ),
                        ))
                    }
                };
                let vtt = sp
                    .vtt
                    .as_deref()
                    .filter(|v| v.ends_with(".vtt"))
                    .ok_or_else(|| {
                        err(
                            "sprite.vtt",
                            "missing: a `.vtt` file for the thumbnails track".into(),
                        )
                    })?;
                let vtt = resolve(vtt);
                mux::check_writable(&vtt, &format!("{field}.sprite.vtt"))?;
                Some(Sprite { columns, rows, vtt })
            }
        };
        let pattern_path = resolve(path);
        mux::check_writable(&pattern_path, &field)?;
        Ok(SnapshotPlan {
            index: i,
            field,
            pattern: pattern_path,
            format,
            selection,
            width: s.width,
            height: s.height,
            quality,
            sprite,
        })
    }

    /// The file of image `n` (from 1).
    pub fn file(&self, n: u64) -> PathBuf {
        let text = self.pattern.to_string_lossy();
        match parse_pattern(&text).ok().flatten() {
            Some(p) => PathBuf::from(format!("{}{:0w$}{}", p.before, n, p.after, w = p.width)),
            None => self.pattern.clone(),
        }
    }

    /// The times to take, in seconds from the first frame, for a source lasting `duration_s`
    /// (None for keyframes). Times past the end are an error naming the first of them.
    pub fn times(&self, duration_s: Option<f64>) -> Result<Option<Vec<f64>>> {
        match &self.selection {
            Selection::Keyframes(_) => Ok(None),
            Selection::Times(t) => {
                if let (Some(d), Some(last)) = (duration_s, t.last()) {
                    if *last >= d {
                        return Err(Error::Spec {
                            field: format!("{}.times", self.field),
                            message: format!(
                                "{last} s is not before the end of the input ({d:.3} s)"
                            ),
                        });
                    }
                }
                Ok(Some(t.clone()))
            }
            Selection::Count(n) => {
                let d = duration_s.ok_or_else(|| Error::Spec {
                    field: format!("{}.count", self.field),
                    message: "the input's duration is unknown; give `times` instead".into(),
                })?;
                Ok(Some(
                    (0..*n).map(|i| d * (i as f64 + 0.5) / *n as f64).collect(),
                ))
            }
        }
    }

    /// The filter graph that makes the images' size and pixel format from `v`'s frames.
    pub fn graph(&self, v: &VideoInfo) -> String {
        let (w, h) = output_size(v.width, v.height, self.width, self.height);
        let mut g = String::new();
        if (w, h) != (v.width, v.height) {
            g.push_str(&format!("scale={w}:{h}:flags=bicubic,"));
        }
        if let Some(s) = &self.sprite {
            g.push_str(&format!("tile={}x{},", s.columns, s.rows));
        }
        g.push_str(&format!("format={}", self.format.pix_fmt()));
        g
    }
}

/// Formats seconds as a WebVTT timestamp, `hh:mm:ss.mmm`.
fn vtt_time(t: f64) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The WebVTT thumbnails track of a sprite set: image `i` (from 0) shows from `starts[i]`
/// to the next start (the last until `end`), as the tile `#xywh=x,y,w,h` of sheet
/// `sheet(i / (columns * rows))`.
pub fn sprite_vtt(
    starts: &[f64],
    end: f64,
    sprite: &Sprite,
    tile: (u32, u32),
    sheet: impl Fn(usize) -> String,
) -> String {
    let per_sheet = (sprite.columns * sprite.rows) as usize;
    let mut out = String::from("WEBVTT\n");
    for (i, &t) in starts.iter().enumerate() {
        let until = starts.get(i + 1).copied().unwrap_or(end.max(t));
        let k = i % per_sheet;
        let (x, y) = (
            (k as u32 % sprite.columns) * tile.0,
            (k as u32 / sprite.columns) * tile.1,
        );
        out.push_str(&format!(
            "\n{} --> {}\n{}#xywh={x},{y},{},{}\n",
            vtt_time(t),
            vtt_time(until),
            sheet(i / per_sheet),
            tile.0,
            tile.1
        ));
    }
    out
}

/// The selection task: passes on the chosen frames (a frame chosen for two times twice).
pub struct Select {
    field: String,
    targets: Option<VecDeque<f64>>,
    keyframes_left: Option<u64>,
    first: Option<f64>,
    last: f64,
    taken: Arc<Mutex<Vec<f64>>>,
}

impl Select {
    /// Takes the frames at `times` (seconds from the first frame), or keyframes (at most
    /// `max_keyframes`) when `times` is None.
    /// The times (from the first frame) of the frames passed on are pushed to `taken`.
    pub fn new(
        field: String,
        times: Option<Vec<f64>>,
        max_keyframes: Option<u32>,
        taken: Arc<Mutex<Vec<f64>>>,
    ) -> Self {
        Select {
            field,
            targets: times.map(VecDeque::from),
            keyframes_left: max_keyframes.map(u64::from),
            first: None,
            last: 0.0,
            taken,
        }
    }

    /// How many copies of a frame at `t` seconds (from the stream's start) with keyframe flag
    /// `key` to pass on.
    pub fn take(&mut self, t: f64, key: bool) -> usize {
        let first = *self.first.get_or_insert(t);
        let t = t - first;
        self.last = t;
        match &mut self.targets {
            Some(targets) => {
                // A frame a microsecond early still counts: timestamps are rounded.
                let mut n = 0;
                while targets.front().is_some_and(|&x| t >= x - 1e-6) {
                    targets.pop_front();
                    n += 1;
                }
                n
            }
            None => match &mut self.keyframes_left {
                _ if !key => 0,
                Some(0) => 0,
                Some(left) => {
                    *left -= 1;
                    1
                }
                None => 1,
            },
        }
    }

    /// The error for times the stream ended before.
    fn unreached(&self) -> Option<Error> {
        let t = self.targets.as_ref()?.front()?;
        Some(Error::Spec {
            field: format!("{}.times", self.field),
            message: format!("the input ended at {:.3} s, before {t} s", self.last),
        })
    }
}

impl Task for Select {
    type In = VideoFrame;
    type Out = VideoFrame;

    fn process(&mut self, frame: VideoFrame, out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        let t = media::seconds(frame.frame.pts().unwrap_or(0), frame.time_base);
        let n = self.take(t, frame.frame.is_key());
        let rel = self.last;
        for _ in 0..n {
            self.taken.lock().expect("not poisoned").push(rel);
            out.push(frame.clone())?;
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Sink<VideoFrame>) -> Result<()> {
        match self.unreached() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The image task: encodes each frame it gets as one image file.
pub struct ImageWrite {
    plan: SnapshotPlan,
    encoder: Option<ff::encoder::Video>,
    written: Arc<Mutex<Vec<PathBuf>>>,
    bytes: u64,
}

impl ImageWrite {
    /// Writes `plan`'s images, recording each finished file in `written`.
    pub fn new(plan: SnapshotPlan, written: Arc<Mutex<Vec<PathBuf>>>) -> Self {
        ImageWrite {
            plan,
            encoder: None,
            written,
            bytes: 0,
        }
    }

    fn open(&self, f: &VideoFrame) -> Result<ff::encoder::Video> {
        let field = &self.plan.field;
        let name = self.plan.format.encoder();
        let codec = ff::encoder::find_by_name(name).ok_or_else(|| Error::UnknownCodec {
            field: format!("{field}.format"),
            what: "encoder",
            name: name.to_string(),
        })?;
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| Error::ffmpeg(format!("{field}: the {name} encoder"), e))?;
        enc.set_width(f.frame.width());
        enc.set_height(f.frame.height());
        enc.set_format(f.frame.format());
        let tb = if f.time_base.numerator() > 0 {
            f.time_base
        } else {
            ff::Rational::new(1, 25)
        };
        enc.set_time_base(tb);
        if self.plan.format == ImageFormat::Jpeg {
            enc.set_flags(ff::codec::Flags::QSCALE);
            enc.set_global_quality(
                (self.plan.quality * ffmpeg_sys_next::FF_QP2LAMBDA as u32) as i32,
            );
            enc.set_color_range(ff::color::Range::JPEG);
        }
        enc.open_as(codec)
            .map_err(|e| Error::ffmpeg(format!("{field}: opening the {name} encoder"), e))
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        let n = self.written.lock().expect("not poisoned").len() as u64 + 1;
        let path = self.plan.file(n);
        let tmp = mux::temp_path(&path);
        std::fs::write(&tmp, data).map_err(|e| Error::io(&tmp, "writing a snapshot", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(&path, "renaming a snapshot into place", e)
        })?;
        self.bytes += data.len() as u64;
        self.written.lock().expect("not poisoned").push(path);
        Ok(())
    }

    fn drain(&mut self) -> Result<()> {
        let mut packet = ff::Packet::empty();
        loop {
            let enc = self.encoder.as_mut().expect("opened");
            match enc.receive_packet(&mut packet) {
                Ok(()) => {
                    let data = packet.data().unwrap_or(&[]).to_vec();
                    self.write(&data)?;
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(Error::ffmpeg(
                        format!("{}: encoding a snapshot", self.plan.field),
                        e,
                    ))
                }
            }
        }
    }
}

impl Task for ImageWrite {
    type In = VideoFrame;
    type Out = ();

    fn process(&mut self, mut frame: VideoFrame, _out: &mut dyn Sink<()>) -> Result<()> {
        if self.encoder.is_none() {
            self.encoder = Some(self.open(&frame)?);
        }
        if self.plan.format == ImageFormat::Jpeg {
            let lambda = (self.plan.quality * ffmpeg_sys_next::FF_QP2LAMBDA as u32) as i32;
            // SAFETY: the frame is this task's own reference (the filter graph's output); its
            // `quality` field is plain data the JPEG encoder reads as the quantiser when
            // QSCALE is set, and no other reference reads this AVFrame struct.
            unsafe { (*frame.frame.as_mut_ptr()).quality = lambda };
        }
        // Each image stands alone: a picture number of its own, no reordering.
        frame
            .frame
            .set_pts(Some(self.written.lock().expect("not poisoned").len() as i64));
        self.encoder
            .as_mut()
            .expect("opened")
            .send_frame(&frame.frame)
            .map_err(|e| Error::ffmpeg(format!("{}: encoding a snapshot", self.plan.field), e))?;
        self.drain()
    }

    fn finish(&mut self, _out: &mut dyn Sink<()>) -> Result<()> {
        if let Some(enc) = self.encoder.as_mut() {
            enc.send_eof()
                .map_err(|e| Error::ffmpeg(format!("{}: flushing", self.plan.field), e))?;
            self.drain()?;
        }
        Ok(())
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.bytes_out = self.bytes;
        stats.frames_out = self.written.lock().expect("not poisoned").len() as u64;
    }
}

/// What a snapshot set wrote.
#[derive(Debug, Serialize)]
pub struct SnapshotReport {
    /// Position in the job.
    pub index: usize,
    /// The file-name pattern.
    pub pattern: PathBuf,
    /// The images written, in order.
    pub files: Vec<PathBuf>,
    /// Image width and height (0 when none was written).
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// The WebVTT thumbnails track of a sprite set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vtt: Option<PathBuf>,
    /// Why it failed, or None.
    #[serde(serialize_with = "crate::job::error_text")]
    pub error: Option<Error>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> SnapshotSpec {
        toml::from_str(text).unwrap()
    }

    fn plan(text: &str) -> Result<SnapshotPlan> {
        let dir = std::env::temp_dir();
        SnapshotPlan::from_spec(&spec(text), 0, |p| dir.join(p))
    }

    #[test]
    fn patterns_number_the_files() {
        let p = plan("path = \"snap-%03d.jpg\"\ncount = 3\n").unwrap();
        assert_eq!(p.format, ImageFormat::Jpeg);
        assert_eq!(p.quality, 2);
        assert_eq!(p.file(7), std::env::temp_dir().join("snap-007.jpg"));
        let p = plan("path = \"k%d.png\"\nkeyframes = true\nmax = 4\n").unwrap();
        assert_eq!(p.format, ImageFormat::Png);
        assert_eq!(p.selection, Selection::Keyframes(Some(4)));
        assert_eq!(p.file(12), std::env::temp_dir().join("k12.png"));
        let p = plan("path = \"poster.jpg\"\ntimes = [2.5]\nwidth = 320\nquality = 5\n").unwrap();
        assert_eq!(p.file(1), std::env::temp_dir().join("poster.jpg"));
        assert_eq!(p.quality, 5);
    }

    #[test]
    fn bad_sets_name_their_field() {
        let cases = [
            (
                "count = 2\n",
                "snapshot[0].path: missing (e.g. \"thumbs/%03d.jpg\")",
            ),
            (
                "path = \"a.jpg\"\ncount = 3\n",
                "snapshot[0].path: `a.jpg` needs a `%d` or `%03d` for the image number",
            ),
            (
                "path = \"a%d%d.jpg\"\ncount = 3\n",
                "snapshot[0].path: `a%d%d.jpg` has more than one `%d`",
            ),
            (
                "path = \"a%5d.jpg\"\ncount = 3\n",
                "snapshot[0].path: `a%5d.jpg` `%5d` is not `%d` or `%0Nd`",
            ),
            (
                "path = \"a%d.gif\"\ncount = 3\n",
                "snapshot[0].path: `a%d.gif` does not end in .jpg, .jpeg or .png; set `format`",
            ),
            (
                "path = \"a%d.jpg\"\nformat = \"bmp\"\ncount = 3\n",
                "snapshot[0].format: unknown image format `bmp` (jpeg, png)",
            ),
            (
                "path = \"a%d.jpg\"\n",
                "snapshot[0].times: give exactly one of `times`, `count` or `keyframes = true`",
            ),
            (
                "path = \"a%d.jpg\"\ncount = 2\ntimes = [1.0]\n",
                "snapshot[0].times: give exactly one of `times`, `count` or `keyframes = true`",
            ),
            (
                "path = \"a%d.jpg\"\ntimes = [2.0, 1.0]\n",
                "snapshot[0].times: must increase: 1 follows 2",
            ),
            (
                "path = \"a%d.jpg\"\ntimes = [-1.0]\n",
                "snapshot[0].times: -1 is not a time in seconds",
            ),
            (
                "path = \"a%d.jpg\"\ncount = 0\n",
                "snapshot[0].count: must be 1 to 10000, not 0",
            ),
            (
                "path = \"a%d.jpg\"\ncount = 2\nmax = 3\n",
                "snapshot[0].max: only applies to `keyframes = true`",
            ),
            (
                "path = \"a%d.jpg\"\ncount = 2\nwidth = 0\n",
                "snapshot[0].width: must be positive",
            ),
            (
                "path = \"a%d.jpg\"\ncount = 2\nquality = 40\n",
                "snapshot[0].quality: must be 2 (best) to 31, not 40",
            ),
            (
                "path = \"a%d.png\"\ncount = 2\nquality = 4\n",
                "snapshot[0].quality: only applies to JPEG (PNG is lossless)",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(plan(text).err().unwrap().to_string(), want, "{text}");
        }
    }

    #[test]
    fn counts_take_the_middle_of_equal_parts_and_late_times_are_refused() {
        let p = plan("path = \"a%d.jpg\"\ncount = 4\n").unwrap();
        assert_eq!(p.times(Some(8.0)).unwrap(), Some(vec![1.0, 3.0, 5.0, 7.0]));
        assert_eq!(
            p.times(None).err().unwrap().to_string(),
            "snapshot[0].count: the input's duration is unknown; give `times` instead"
        );
        let p = plan("path = \"a%d.jpg\"\ntimes = [1, 9.5]\n").unwrap();
        assert_eq!(
            p.times(Some(8.0)).err().unwrap().to_string(),
            "snapshot[0].times: 9.5 s is not before the end of the input (8.000 s)"
        );
    }

    #[test]
    fn sprite_sheets_get_a_thumbnails_track() {
        let p = plan(
            "path = \"s%d.jpg\"\ncount = 5\nwidth = 160\nsprite = { columns = 2, rows = 2, vtt = \"t.vtt\" }\n",
        )
        .unwrap();
        let sprite = p.sprite.clone().unwrap();
        assert_eq!((sprite.columns, sprite.rows), (2, 2));
        let v = crate::input::VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 640,
            height: 360,
            pix_fmt: ff::format::Pixel::YUV420P,
            bit_depth: 8,
            rate: crate::filter::Rate { num: 25, den: 1 },
            cfr: true,
            base_rate: None,
            time_base: ff::Rational::new(1, 25),
            duration_s: Some(10.0),
            frames: Some(250),
            rotation: 0,
        };
        assert_eq!(
            p.graph(&v),
            "scale=160:90:flags=bicubic,tile=2x2,format=yuvj420p"
        );
        let text = sprite_vtt(&[0.0, 2.0, 4.0, 6.0, 8.0], 10.0, &sprite, (160, 90), |k| {
            format!("s{}.jpg", k + 1)
        });
        assert_eq!(
            text,
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\ns1.jpg#xywh=0,0,160,90\n\
             \n00:00:02.000 --> 00:00:04.000\ns1.jpg#xywh=160,0,160,90\n\
             \n00:00:04.000 --> 00:00:06.000\ns1.jpg#xywh=0,90,160,90\n\
             \n00:00:06.000 --> 00:00:08.000\ns1.jpg#xywh=160,90,160,90\n\
             \n00:00:08.000 --> 00:00:10.000\ns2.jpg#xywh=0,0,160,90\n"
        );
        assert_eq!(vtt_time(3725.5), "01:02:05.500");
        assert_eq!(
            plan("path = \"s%d.jpg\"\ncount = 5\nsprite = { columns = 2, vtt = \"t.vtt\" }\n")
                .err()
                .unwrap()
                .to_string(),
            "snapshot[0].sprite: needs `columns` and `rows`, each 1 to 20 (got 2 x none)"
        );
        assert_eq!(
            plan("path = \"s%d.jpg\"\ncount = 5\nsprite = { columns = 2, rows = 2 }\n")
                .err()
                .unwrap()
                .to_string(),
            "snapshot[0].sprite.vtt: missing: a `.vtt` file for the thumbnails track"
        );
    }

    #[test]
    fn selection_takes_the_first_frame_at_or_after_each_time() {
        // 10 fps from t = 0.5 s (a stream whose first frame is not at 0).
        let mut s = Select::new(
            "snapshot[0]".into(),
            Some(vec![0.0, 0.25, 0.3, 0.31, 1.0]),
            None,
            Arc::default(),
        );
        let taken: Vec<usize> = (0..12)
            .map(|i| s.take(0.5 + i as f64 * 0.1, false))
            .collect();
        assert_eq!(taken, vec![1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 1, 0]);
        assert!(s.unreached().is_none());
        let mut s = Select::new(
            "snapshot[0]".into(),
            Some(vec![0.0, 5.0]),
            None,
            Arc::default(),
        );
        for i in 0..10 {
            s.take(i as f64 * 0.1, false);
        }
        assert_eq!(
            s.unreached().unwrap().to_string(),
            "snapshot[0].times: the input ended at 0.900 s, before 5 s"
        );
        let mut k = Select::new("snapshot[0]".into(), None, Some(2), Arc::default());
        let taken: Vec<usize> = [true, false, true, false, true]
            .iter()
            .enumerate()
            .map(|(i, &key)| k.take(i as f64, key))
            .collect();
        assert_eq!(taken, vec![1, 0, 1, 0, 0]);
    }
}
