//! Watermarks: image overlays (PNG with alpha, any still image FFmpeg reads) and text drawn
//! over an output's frames, placed in a corner or the centre, sized and offset relative to the
//! frame, optionally shown only between two times.
//!
//! Sizes and offsets given as fractions (numbers between 0 and 1) follow each output's own
//! size, so one watermark list serves every rung of a ladder; numbers of 1 and more are pixels.
//! The filter text is built here, purely, and tested by exact output; libavfilter's `movie`
//! source reads the image, `overlay` places it and `drawtext` draws text.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;

use crate::error::{Error, Result};
use crate::spec::WatermarkSpec;

/// Most watermarks one output may carry.
pub const MAX_WATERMARKS: usize = 20;

/// Where a watermark sits; offsets are measured inwards from that corner (from the centre for
/// `Center`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
    /// Centre.
    Center,
}

impl Position {
    const NAMES: &'static [(&'static str, Position)] = &[
        ("top-left", Position::TopLeft),
        ("top-right", Position::TopRight),
        ("bottom-left", Position::BottomLeft),
        ("bottom-right", Position::BottomRight),
        ("center", Position::Center),
    ];
}

/// A length: a fraction of a frame dimension, or pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    /// A fraction (0 to 1, exclusive of 1) of the frame's width or height.
    Fraction(f64),
    /// Pixels.
    Pixels(u32),
}

impl Length {
    fn parse(v: f64) -> Option<Length> {
        if !(v.is_finite() && v >= 0.0) {
            None
        } else if v < 1.0 {
            Some(Length::Fraction(v))
        } else if v.fract() == 0.0 {
            Some(Length::Pixels(v as u32))
        } else {
            None
        }
    }

    /// In pixels for a frame dimension of `of`.
    pub fn pixels(self, of: u32) -> u32 {
        match self {
            Length::Fraction(f) => (f * of as f64).round() as u32,
            Length::Pixels(p) => p,
        }
    }
}

/// What is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// An image file, scaled to `width` (its aspect kept).
    Image {
        /// The file.
        path: PathBuf,
        /// Its width on the frame (None: its own size).
        width: Option<Length>,
    },
    /// Text.
    Text {
        /// The text.
        text: String,
        /// A font file (None: the system's default font through fontconfig).
        font: Option<PathBuf>,
        /// Font size as a fraction of the frame height, or pixels.
        size: Length,
        /// Colour, as libavfilter names it (`white`, `#ff0000`, `red@0.5`).
        color: String,
    },
}

/// A checked watermark.
#[derive(Clone, Debug, PartialEq)]
pub struct Watermark {
    /// What.
    pub mark: Mark,
    /// Where.
    pub position: Position,
    /// Horizontal offset.
    pub x: Length,
    /// Vertical offset.
    pub y: Length,
    /// Shown from this time (seconds).
    pub start: Option<f64>,
    /// Shown until this time (seconds).
    pub end: Option<f64>,
}

/// Escapes a value for a filter option and then for the graph text (libavfilter's two
/// levels of quoting).
pub(crate) fn escape(v: &str) -> String {
    let mut level1 = String::new();
    for c in v.chars() {
        if matches!(c, '\\' | '\'' | ':') {
            level1.push('\\');
        }
        level1.push(c);
    }
    let mut level2 = String::new();
    for c in level1.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            level2.push('\\');
        }
        level2.push(c);
    }
    level2
}

/// Checks that `path` is a still image FFmpeg can read.
fn check_image(path: &Path, field: &str) -> Result<()> {
    let bad = |why: String| Error::Spec {
        field: field.to_string(),
        message: format!("{} {why}", path.display()),
    };
    if !path.is_file() {
        return Err(bad("does not exist".into()));
    }
    crate::init();
    let ictx =
        ff::format::input(&path).map_err(|_| bad("is not an image FFmpeg can read".into()))?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| bad("is not an image (no picture in it)".into()))?;
    let id = stream.parameters().id();
    let still = matches!(
        id,
        ff::codec::Id::PNG
            | ff::codec::Id::MJPEG
            | ff::codec::Id::BMP
            | ff::codec::Id::WEBP
            | ff::codec::Id::TIFF
            | ff::codec::Id::GIF
    );
    if !still {
        return Err(bad(format!("is {}, not a still image", id.name())));
    }
    Ok(())
}

impl Watermark {
    /// Checks watermark `i` of the output whose field prefix is `field`; `resolve` turns spec
    /// paths into file paths.
    pub fn from_spec(
        s: &WatermarkSpec,
        field: &str,
        i: usize,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<Watermark> {
        let f = format!("{field}.watermarks[{i}]");
        let err = |name: &str, message: String| Error::Spec {
            field: format!("{f}.{name}"),
            message,
        };
        let length = |name: &str, v: Option<f64>| -> Result<Option<Length>> {
            v.map(|v| {
                Length::parse(v).ok_or_else(|| {
                    err(
                        name,
                        format!("{v} is neither a fraction (0 to 1) nor whole pixels"),
                    )
                })
            })
            .transpose()
        };
        let mark = match (&s.image, &s.text) {
            (Some(p), None) => {
                if s.font.is_some() || s.size.is_some() || s.color.is_some() {
                    return Err(err(
                        "image",
                        "`font`, `size` and `color` are for text watermarks".into(),
                    ));
                }
                let path = resolve(p);
                check_image(&path, &format!("{f}.image"))?;
                let width = length("width", s.width)?;
                if width.is_some_and(|w| w.pixels(10_000) == 0) {
                    return Err(err("width", "must be more than 0".into()));
                }
                Mark::Image { path, width }
            }
            (None, Some(t)) => {
                if t.is_empty() {
                    return Err(err("text", "is empty".into()));
                }
                if s.width.is_some() {
                    return Err(err(
                        "width",
                        "is for image watermarks; text takes `size`".into(),
                    ));
                }
                let font = s.font.as_deref().map(resolve);
                if let Some(p) = &font {
                    if !p.is_file() {
                        return Err(err("font", format!("{} does not exist", p.display())));
                    }
                }
                let size = length("size", s.size)?.unwrap_or(Length::Fraction(0.05));
                if size.pixels(10_000) == 0 {
                    return Err(err("size", "must be more than 0".into()));
                }
                let color = s.color.clone().unwrap_or_else(|| "white".into());
                if color.is_empty()
                    || !color
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '#' | '@' | '.'))
                {
                    return Err(err(
                        "color",
                        format!("`{color}` is not a colour (white, #ff8800, red@0.5)"),
                    ));
                }
                Mark::Text {
                    text: t.clone(),
                    font,
                    size,
                    color,
                }
            }
            _ => return Err(err("image", "give exactly one of `image` or `text`".into())),
        };
        let position = match s.position.as_deref() {
            None => Position::TopLeft,
            Some(name) => Position::NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, p)| *p)
                .ok_or_else(|| {
                    err(
                        "position",
                        format!(
                            "unknown position `{name}` ({})",
                            Position::NAMES
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
        };
        let x = length("x", s.x)?.unwrap_or(Length::Pixels(0));
        let y = length("y", s.y)?.unwrap_or(Length::Pixels(0));
        for (name, t) in [("start", s.start), ("end", s.end)] {
            if let Some(t) = t {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(err(name, format!("{t} is not a time in seconds")));
                }
            }
        }
        if let (Some(a), Some(b)) = (s.start, s.end) {
            if b <= a {
                return Err(err("end", format!("{b} is not after the start {a}")));
            }
        }
        Ok(Watermark {
            mark,
            position,
            x,
            y,
            start: s.start,
            end: s.end,
        })
    }

    /// The `enable` option for the time window, when there is one.
    fn enable(&self) -> Option<String> {
        match (self.start, self.end) {
            (None, None) => None,
            (Some(a), None) => Some(format!("gte(t\\,{a})")),
            (None, Some(b)) => Some(format!("lt(t\\,{b})")),
            (Some(a), Some(b)) => Some(format!("gte(t\\,{a})*lt(t\\,{b})")),
        }
    }

    /// The overlay position expressions for a frame of `w` x `h`, with `ow`/`oh` the names
    /// of the mark's own size in the filter (`w`/`h` for overlay, `tw`/`th` for drawtext).
    fn place(
        &self,
        w: u32,
        h: u32,
        ow: &str,
        oh: &str,
        main_w: &str,
        main_h: &str,
    ) -> (String, String) {
        let dx = self.x.pixels(w);
        let dy = self.y.pixels(h);
        let x = match self.position {
            Position::TopLeft | Position::BottomLeft => format!("{dx}"),
            Position::TopRight | Position::BottomRight => format!("{main_w}-{ow}-{dx}"),
            Position::Center => format!("({main_w}-{ow})/2+{dx}"),
        };
        let y = match self.position {
            Position::TopLeft | Position::TopRight => format!("{dy}"),
            Position::BottomLeft | Position::BottomRight => format!("{main_h}-{oh}-{dy}"),
            Position::Center => format!("({main_h}-{oh})/2+{dy}"),
        };
        (x, y)
    }
}

/// The graph that draws `marks` on frames of `w` x `h` after `chain` (the flow's own filters,
/// None when it has none), ending in `pix_fmt`: the chain, then one overlay or drawtext per
/// mark in order.
pub fn graph(chain: Option<&str>, marks: &[Watermark], w: u32, h: u32, pix_fmt: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = match chain {
        Some(c) => {
            parts.push(format!("{c}[v0]"));
            "v0".to_string()
        }
        None => {
            parts.push("null[v0]".into());
            "v0".to_string()
        }
    };
    for (i, m) in marks.iter().enumerate() {
        let next = format!("v{}", i + 1);
        let enable = m
            .enable()
            .map(|e| format!(":enable={e}"))
            .unwrap_or_default();
        match &m.mark {
            Mark::Image { path, width } => {
                let scale = match width {
                    Some(l) => format!(",scale={}:-2", l.pixels(w).max(2)),
                    None => String::new(),
                };
                parts.push(format!(
                    "movie=filename={}{scale},format=rgba[wm{i}]",
                    escape(&path.to_string_lossy())
                ));
                let (x, y) = m.place(w, h, "overlay_w", "overlay_h", "main_w", "main_h");
                parts.push(format!(
                    "[{current}][wm{i}]overlay=x={x}:y={y}:eof_action=repeat{enable}[{next}]"
                ));
            }
            Mark::Text {
                text,
                font,
                size,
                color,
            } => {
                let (x, y) = m.place(w, h, "tw", "th", "w", "h");
                let font = font
                    .as_ref()
                    .map(|f| format!(":fontfile={}", escape(&f.to_string_lossy())))
                    .unwrap_or_default();
                parts.push(format!(
                    "[{current}]drawtext=text={}{font}:fontsize={}:fontcolor={color}:x={x}:y={y}{enable}[{next}]",
                    escape(text),
                    size.pixels(h).max(1)
                ));
            }
        }
        current = next;
    }
    parts.push(format!("[{current}]format={pix_fmt}"));
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(text: &str) -> Result<Watermark> {
        let spec: WatermarkSpec = toml::from_str(text).unwrap();
        Watermark::from_spec(&spec, "output[0]", 1, &|p| PathBuf::from(p))
    }

    #[test]
    fn marks_follow_each_frame_size() {
        let text = mark("text = \"LIVE: 1,2\"\nposition = \"bottom-right\"\nx = 0.05\ny = 8\nsize = 0.1\nstart = 2\n").unwrap();
        let img = Watermark {
            mark: Mark::Image {
                path: "/l/logo.png".into(),
                width: Some(Length::Fraction(0.125)),
            },
            position: Position::TopRight,
            x: Length::Fraction(0.05),
            y: Length::Fraction(0.05),
            start: Some(1.0),
            end: Some(3.5),
        };
        assert_eq!(
            graph(Some("scale=640:360:flags=bicubic"), &[img.clone(), text.clone()], 640, 360, "yuv420p"),
            "scale=640:360:flags=bicubic[v0];\
             movie=filename=/l/logo.png,scale=80:-2,format=rgba[wm0];\
             [v0][wm0]overlay=x=main_w-overlay_w-32:y=18:eof_action=repeat:enable=gte(t\\,1)*lt(t\\,3.5)[v1];\
             [v1]drawtext=text=LIVE\\\\: 1\\,2:fontsize=36:fontcolor=white:x=w-tw-32:y=h-th-8:enable=gte(t\\,2)[v2];\
             [v2]format=yuv420p"
        );
        assert_eq!(
            graph(None, &[img], 320, 180, "yuv420p10le"),
            "null[v0];movie=filename=/l/logo.png,scale=40:-2,format=rgba[wm0];\
             [v0][wm0]overlay=x=main_w-overlay_w-16:y=9:eof_action=repeat:enable=gte(t\\,1)*lt(t\\,3.5)[v1];\
             [v1]format=yuv420p10le"
        );
    }

    #[test]
    fn bad_marks_name_their_field() {
        let cases = [
            ("position = \"top\"\ntext = \"a\"", "output[0].watermarks[1].position: unknown position `top` (top-left, top-right, bottom-left, bottom-right, center)"),
            ("text = \"a\"\nx = 1.5", "output[0].watermarks[1].x: 1.5 is neither a fraction (0 to 1) nor whole pixels"),
            ("x = 3", "output[0].watermarks[1].image: give exactly one of `image` or `text`"),
            ("text = \"a\"\nstart = 3\nend = 2", "output[0].watermarks[1].end: 2 is not after the start 3"),
            ("text = \"a\"\nwidth = 0.2", "output[0].watermarks[1].width: is for image watermarks; text takes `size`"),
            ("text = \"a\"\ncolor = \"red'x\"", "output[0].watermarks[1].color: `red'x` is not a colour (white, #ff8800, red@0.5)"),
            ("image = \"/nonexistent/logo.png\"", "output[0].watermarks[1].image: /nonexistent/logo.png does not exist"),
            ("text = \"a\"\nfont = \"/nonexistent.ttf\"", "output[0].watermarks[1].font: /nonexistent.ttf does not exist"),
        ];
        for (text, want) in cases {
            assert_eq!(mark(text).err().unwrap().to_string(), want, "{text}");
        }
    }
}
