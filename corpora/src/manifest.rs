//! Corpus manifests: the TOML schema, strict parsing with file/line/field errors, and the
//! validated types ([`Corpus`], [`Sequence`], [`Source`], [`Fps`], [`Class`], [`Slice`]).
//!
//! A manifest looks like this:
//!
//! ```toml
//! name = "mine"
//! description = "Two clips of ours"
//!
//! [[sequence]]
//! id = "talk"
//! source = { url = "https://example.invalid/talk_720p.y4m" }
//! sha256 = "…64 hex digits…"
//! class = "E"
//! width = 1280
//! height = 720
//! fps = "30000/1001"        # or 29.97, or 30
//! frames = 300
//! bit_depth = 8
//! licence = "CC-BY-4.0"
//! slice = { start = 0, frames = 60 }   # optional
//! ```
//!
//! A `path` source may be any media file the transcode core reads (MP4, MKV, MOV, TS, WebM, IVF,
//! Y4M; H.264, HEVC, AV1, VP9, ProRes, FFV1, raw video): then `width`, `height`, `fps`,
//! `frames`, `bit_depth`, `class` and `licence` are optional. What is not given is probed from
//! the file; what is given is checked against it.
//!
//! `source` is one of `{ path = "…" }` (relative to the manifest's folder or a data folder),
//! `{ url = "…" }`, or `{ generator = "…", seed = N }` (see [`crate::generate`]).
//! A URL source needs `sha256`, or a published `md5`, or `verify = "trust-on-first-use"`: then the
//! first download's SHA-256 is recorded in the cache and later checks compare against it.
//! `frames` is the number of frames the benchmark uses, counted from the start of the file; a
//! file holding more is cut to that many when it is materialised.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{CorpusError, Result};
pub use crate::generate::Recipe;
use crate::generate::{GenerateSpec, GeneratorKind};
pub use rdbench_metrics::fps::Fps;

/// A test-condition class. The common-test-condition letters have their own variants; any other
/// label is kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Class {
    /// 4K natural content (first group).
    A1,
    /// 4K natural content (second group).
    A2,
    /// 1080p.
    B,
    /// 480p (WVGA).
    C,
    /// 240p (WQVGA).
    D,
    /// 720p conferencing.
    E,
    /// Screen content.
    F,
    /// Any other label (`CIF`, `A3`, `B1`...).
    Other(String),
}

impl Class {
    /// The label as written in manifests.
    pub fn as_str(&self) -> &str {
        match self {
            Class::A1 => "A1",
            Class::A2 => "A2",
            Class::B => "B",
            Class::C => "C",
            Class::D => "D",
            Class::E => "E",
            Class::F => "F",
            Class::Other(s) => s,
        }
    }
}

impl From<&str> for Class {
    fn from(s: &str) -> Self {
        match s {
            "A1" => Class::A1,
            "A2" => Class::A2,
            "B" => Class::B,
            "C" => Class::C,
            "D" => Class::D,
            "E" => Class::E,
            "F" => Class::F,
            other => Class::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The frames of a sequence the benchmark uses: `frames` frames from frame `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    /// First frame used (0-based).
    pub start: u32,
    /// Frames used.
    pub frames: u32,
}

impl From<Class> for String {
    fn from(c: Class) -> String {
        c.as_str().to_string()
    }
}

impl From<String> for Class {
    fn from(s: String) -> Class {
        Class::from(s.as_str())
    }
}

/// Where a sequence's Y4M file comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum Source {
    /// A file on disk, as written in the manifest (relative paths are resolved against the
    /// manifest's folder, then the data folders).
    Path(PathBuf),
    /// A file to download over HTTP(S).
    Url(String),
    /// A synthetic sequence rendered by this crate.
    Generated(Recipe),
}

impl Source {
    /// `path`, `url` or `generated`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Path(_) => "path",
            Source::Url(_) => "url",
            Source::Generated(_) => "generated",
        }
    }
}

/// How a sequence's bytes are checked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum Integrity {
    /// Against this SHA-256 (lower-case hex).
    Sha256(String),
    /// Against this published MD5 (lower-case hex); the SHA-256 is recorded on first download.
    Md5(String),
    /// The first download's SHA-256 is recorded and later checks compare against it.
    TrustOnFirstUse,
    /// Not checked against a published digest: generated sequences (keyed by recipe, their
    /// SHA-256 recorded at generation) and local files given without a digest.
    Unpinned,
}

/// One test sequence, validated.
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
pub struct Sequence {
    /// Unique id within the corpus (letters, digits, `.`, `_`, `-`).
    pub id: String,
    /// Where the file comes from.
    pub source: Source,
    /// How its bytes are checked.
    pub integrity: Integrity,
    /// Test-condition class.
    pub class: Class,
    /// Luma width.
    pub width: u32,
    /// Luma height.
    pub height: u32,
    /// Frame rate.
    pub fps: Fps,
    /// Frames of the sequence (counted from the start of the file).
    pub frames: u32,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Licence of the content.
    pub licence: String,
    /// The part of the sequence the benchmark uses, if not all of it.
    pub slice: Option<Slice>,
    /// Which of the facts above the manifest gave; the others are filled in from the file when
    /// the sequence is materialised (until then they hold placeholders).
    pub declared: Declared,
    /// Remarks about the file (a conversion made when it was decoded, where it came from).
    pub notes: Option<String>,
}

/// Which facts of a sequence its manifest entry gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Declared {
    /// `width` and `height`.
    pub size: bool,
    /// `fps`.
    pub fps: bool,
    /// `frames`.
    pub frames: bool,
    /// `bit_depth`.
    pub bit_depth: bool,
    /// `class`.
    pub class: bool,
}

impl Declared {
    /// Every fact given.
    pub const ALL: Declared = Declared {
        size: true,
        fps: true,
        frames: true,
        bit_depth: true,
        class: true,
    };

    /// Whether every fact is given.
    pub fn complete(&self) -> bool {
        *self == Declared::ALL
    }
}

impl Sequence {
    /// What renders this sequence, when its source is generated.
    pub fn generate_spec(&self) -> Option<GenerateSpec> {
        match self.source {
            Source::Generated(recipe) => Some(GenerateSpec {
                recipe,
                width: self.width,
                height: self.height,
                fps: self.fps,
                frames: self.frames,
            }),
            _ => None,
        }
    }

    /// The frames the benchmark uses, as a range of frame indices in the source file.
    pub fn used_frames(&self) -> Range<u32> {
        match self.slice {
            Some(s) => s.start..s.start + s.frames,
            None => 0..self.frames,
        }
    }
}

/// Where a manifest was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestOrigin {
    /// Compiled into the binary; the file name under `corpora/manifests/`.
    Embedded(&'static str),
    /// A file on disk.
    File(PathBuf),
    /// Media files given on the command line (`--clips`).
    Clips,
}

impl ManifestOrigin {
    /// How errors name the manifest.
    pub fn display_name(&self) -> String {
        match self {
            ManifestOrigin::Embedded(f) => format!("<embedded>/{f}"),
            ManifestOrigin::File(p) => p.display().to_string(),
            ManifestOrigin::Clips => "<--clips>".into(),
        }
    }

    /// The folder relative source paths are resolved against first.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            ManifestOrigin::Embedded(_) | ManifestOrigin::Clips => None,
            ManifestOrigin::File(p) => p.parent(),
        }
    }
}

/// A validated manifest: a named list of sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Corpus {
    /// The corpus name (also its cache folder name).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Where the manifest came from.
    pub origin: ManifestOrigin,
    sequences: Vec<Sequence>,
}

impl Corpus {
    /// The sequences, in manifest order.
    pub fn sequences(&self) -> &[Sequence] {
        &self.sequences
    }

    /// The sequence with this id.
    pub fn sequence(&self, id: &str) -> Option<&Sequence> {
        self.sequences.iter().find(|s| s.id == id)
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str, origin: ManifestOrigin) -> Result<Corpus> {
        let file = origin.display_name();
        let raw: RawManifest = toml::from_str(text).map_err(|e| syntax_error(&file, text, &e))?;
        let v = Validator { file: &file, text };
        let name = raw.name.get_ref().trim().to_string();
        if !is_safe_name(&name) {
            return Err(v.value(
                &raw.name,
                "<corpus>",
                "name",
                format!("`{name}` must be non-empty letters, digits, `.`, `_` or `-`"),
            ));
        }
        let mut seen = HashSet::new();
        let mut sequences = Vec::with_capacity(raw.sequences.len());
        for s in &raw.sequences {
            let seq = v.sequence(s)?;
            if !seen.insert(seq.id.clone()) {
                return Err(v.value(&s.get_ref().id, &seq.id, "id", "duplicate id".to_string()));
            }
            sequences.push(seq);
        }
        if sequences.is_empty() {
            return Err(CorpusError::ManifestValue {
                file,
                line: 1,
                sequence: "<corpus>".into(),
                field: "sequence".into(),
                message: "the manifest lists no `[[sequence]]`".into(),
            });
        }
        Ok(Corpus {
            name,
            description: raw.description.unwrap_or_default(),
            origin,
            sequences,
        })
    }

    /// A corpus of sequences made in code (their ids must be unique).
    pub fn from_sequences(
        name: &str,
        description: &str,
        origin: ManifestOrigin,
        sequences: Vec<Sequence>,
    ) -> Corpus {
        Corpus {
            name: name.to_string(),
            description: description.to_string(),
            origin,
            sequences,
        }
    }

    /// Reads and validates a manifest file.
    pub fn from_file(path: &Path) -> Result<Corpus> {
        let text = std::fs::read_to_string(path).map_err(|e| CorpusError::io(path, e))?;
        Corpus::parse(&text, ManifestOrigin::File(path.to_path_buf()))
    }
}

/// Whether `name` can name a corpus (and its cache folder).
pub fn is_corpus_name(name: &str) -> bool {
    is_safe_name(name)
}

/// Letters, digits, `.`, `_`, `-`, not starting with `.`: safe as a file-name component.
pub(crate) fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: Spanned<String>,
    description: Option<String>,
    #[serde(rename = "sequence", default)]
    sequences: Vec<Spanned<RawSequence>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSequence {
    id: Spanned<String>,
    source: Spanned<RawSource>,
    sha256: Option<Spanned<String>>,
    md5: Option<Spanned<String>>,
    verify: Option<Spanned<String>>,
    class: Option<Spanned<String>>,
    width: Option<Spanned<u32>>,
    height: Option<Spanned<u32>>,
    fps: Option<Spanned<toml::Value>>,
    frames: Option<Spanned<u32>>,
    bit_depth: Option<Spanned<u8>>,
    licence: Option<Spanned<String>>,
    slice: Option<Spanned<Slice>>,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: Option<String>,
    url: Option<String>,
    generator: Option<String>,
    seed: Option<u64>,
}

struct Validator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Validator<'_> {
    fn value<T>(
        &self,
        at: &Spanned<T>,
        sequence: &str,
        field: &str,
        message: String,
    ) -> CorpusError {
        CorpusError::ManifestValue {
            file: self.file.to_string(),
            line: line_col(self.text, at.span().start).0,
            sequence: sequence.to_string(),
            field: field.to_string(),
            message,
        }
    }

    fn sequence(&self, spanned: &Spanned<RawSequence>) -> Result<Sequence> {
        let s = spanned.get_ref();
        let id = s.id.get_ref().trim().to_string();
        if !is_safe_name(&id) {
            return Err(self.value(
                &s.id,
                &id,
                "id",
                format!("`{id}` must be non-empty letters, digits, `.`, `_` or `-`"),
            ));
        }
        let err = |at_start: usize, field: &str, message: String| CorpusError::ManifestValue {
            file: self.file.to_string(),
            line: line_col(self.text, at_start).0,
            sequence: id.clone(),
            field: field.to_string(),
            message,
        };

        let src = s.source.get_ref();
        let src_at = s.source.span().start;
        let given = [
            src.path.is_some(),
            src.url.is_some(),
            src.generator.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(err(
                src_at,
                "source",
                "give exactly one of `path`, `url` or `generator`".into(),
            ));
        }
        if src.seed.is_some() && src.generator.is_none() {
            return Err(err(
                src_at,
                "source",
                "`seed` only goes with `generator`".into(),
            ));
        }
        let source = if let Some(p) = &src.path {
            if p.trim().is_empty() {
                return Err(err(src_at, "source", "`path` is empty".into()));
            }
            Source::Path(PathBuf::from(p))
        } else if let Some(u) = &src.url {
            if !(u.starts_with("http://") || u.starts_with("https://"))
                || u.len() <= "https://".len()
            {
                return Err(err(
                    src_at,
                    "source",
                    format!("`{u}` is not an http:// or https:// URL"),
                ));
            }
            Source::Url(u.clone())
        } else {
            let name = src.generator.as_deref().unwrap_or_default();
            let generator = GeneratorKind::from_name(name).ok_or_else(|| {
                err(
                    src_at,
                    "source",
                    format!(
                        "unknown generator `{name}` (known: {})",
                        GeneratorKind::names().join(", ")
                    ),
                )
            })?;
            Source::Generated(Recipe {
                generator,
                seed: src.seed.unwrap_or(0),
            })
        };

        let digest =
            |v: &Option<Spanned<String>>, field: &str, len: usize| -> Result<Option<String>> {
                match v {
                    None => Ok(None),
                    Some(d) => {
                        let h = d.get_ref().trim().to_ascii_lowercase();
                        if h.len() != len || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                            return Err(err(
                                d.span().start,
                                field,
                                format!("`{}` is not {len} hex digits", d.get_ref()),
                            ));
                        }
                        Ok(Some(h))
                    }
                }
            };
        let sha256 = digest(&s.sha256, "sha256", 64)?;
        let md5 = digest(&s.md5, "md5", 32)?;
        let tofu = match &s.verify {
            None => false,
            Some(v) if v.get_ref() == "trust-on-first-use" => true,
            Some(v) => {
                return Err(err(
                    v.span().start,
                    "verify",
                    format!(
                        "`{}` is not a verification mode (the only one is \"trust-on-first-use\")",
                        v.get_ref()
                    ),
                ));
            }
        };
        let seq_at = spanned.span().start;
        let integrity = match (&source, sha256, md5, tofu) {
            (Source::Generated(_), None, None, false) => Integrity::Unpinned,
            (Source::Generated(_), ..) => {
                return Err(err(seq_at, "sha256", "a generated source is keyed by its recipe; its SHA-256 is recorded in the cache, not the manifest".into()));
            }
            (_, Some(_), _, true) | (_, _, Some(_), true) => {
                let at = s.verify.as_ref().map_or(seq_at, |v| v.span().start);
                return Err(err(at, "verify", "\"trust-on-first-use\" is for sources without a published digest; remove it or the digest".into()));
            }
            (_, Some(h), _, false) => Integrity::Sha256(h),
            (_, None, Some(h), false) => Integrity::Md5(h),
            (_, None, None, true) => Integrity::TrustOnFirstUse,
            (Source::Url(_), None, None, false) => {
                return Err(err(seq_at, "sha256", "required for a URL source (or give a published `md5`, or `verify = \"trust-on-first-use\"`)".into()));
            }
            (_, None, None, false) => Integrity::Unpinned,
        };

        // A file on disk can be probed: its facts are optional. Every other source states them.
        let probed = matches!(source, Source::Path(_));
        let required = |field: &str| {
            err(
                seq_at,
                field,
                format!(
                    "required for a {} source (only a `path` source is probed)",
                    source.kind()
                ),
            )
        };
        let class = match &s.class {
            Some(c) if c.get_ref().trim().is_empty() => {
                return Err(err(c.span().start, "class", "is empty".into()))
            }
            Some(c) => c.get_ref().trim().to_string(),
            None if probed => "auto".into(),
            None => return Err(required("class")),
        };
        let licence = match &s.licence {
            Some(l) if l.get_ref().trim().is_empty() => {
                return Err(err(l.span().start, "licence", "is empty".into()))
            }
            Some(l) => l.get_ref().trim().to_string(),
            None if probed => "unknown (not stated in the manifest)".into(),
            None => return Err(required("licence")),
        };
        let positive = |v: &Option<Spanned<u32>>, field: &str| -> Result<Option<u32>> {
            match v {
                None if probed => Ok(None),
                None => Err(required(field)),
                Some(v) => match *v.get_ref() {
                    0 => Err(err(v.span().start, field, "must be positive, got 0".into())),
                    n => Ok(Some(n)),
                },
            }
        };
        let width = positive(&s.width, "width")?;
        let height = positive(&s.height, "height")?;
        if width.is_some() != height.is_some() {
            return Err(err(
                seq_at,
                if width.is_some() { "height" } else { "width" },
                "give both `width` and `height`, or neither (to probe them)".into(),
            ));
        }
        let frames = positive(&s.frames, "frames")?;
        let fps = match &s.fps {
            None if probed => None,
            None => return Err(required("fps")),
            Some(fps) => Some(Self::fps(fps).map_err(|m| err(fps.span().start, "fps", m))?),
        };
        let bit_depth = match &s.bit_depth {
            None if probed => None,
            None => return Err(required("bit_depth")),
            Some(b) => {
                let v = *b.get_ref();
                if !(8..=16).contains(&v) {
                    return Err(err(
                        b.span().start,
                        "bit_depth",
                        format!("must be 8 to 16, got {v}"),
                    ));
                }
                Some(v)
            }
        };
        let declared = Declared {
            size: width.is_some(),
            fps: fps.is_some(),
            frames: frames.is_some(),
            bit_depth: bit_depth.is_some(),
            class: s.class.is_some(),
        };
        // Placeholders until the file is probed.
        let (width, height) = (width.unwrap_or(0), height.unwrap_or(0));
        let frames = frames.unwrap_or(0);
        let fps = fps.unwrap_or(Fps::new(1, 1).expect("1/1 is a rate"));
        let bit_depth = bit_depth.unwrap_or(8);
        if let Source::Generated(_) = source {
            let wat = s.width.as_ref().map_or(seq_at, |w| w.span().start);
            let bat = s.bit_depth.as_ref().map_or(seq_at, |w| w.span().start);
            if bit_depth != 8 {
                return Err(err(
                    bat,
                    "bit_depth",
                    format!("generated sequences are 8-bit, got {bit_depth}"),
                ));
            }
            if width < 16 || height < 16 || width % 2 != 0 || height % 2 != 0 {
                return Err(err(
                    wat,
                    "width",
                    format!(
                        "generated sequences need even sizes of at least 16, got {width}x{height}"
                    ),
                ));
            }
        }
        let slice = match &s.slice {
            None => None,
            Some(sl) => {
                let v = *sl.get_ref();
                if v.frames == 0 {
                    return Err(err(
                        sl.span().start,
                        "slice",
                        "`frames` must be positive, got 0".into(),
                    ));
                }
                let end = u64::from(v.start) + u64::from(v.frames);
                if declared.frames && end > u64::from(frames) {
                    return Err(err(
                        sl.span().start,
                        "slice",
                        format!(
                            "frames {}..{} go beyond the sequence's {frames} frames",
                            v.start, end
                        ),
                    ));
                }
                Some(v)
            }
        };
        Ok(Sequence {
            id,
            source,
            integrity,
            class: Class::from(class.as_str()),
            width,
            height,
            fps,
            frames,
            bit_depth,
            licence,
            slice,
            declared,
            notes: s.notes.clone(),
        })
    }

    fn fps(v: &Spanned<toml::Value>) -> std::result::Result<Fps, String> {
        match v.get_ref() {
            toml::Value::Integer(n) if *n > 0 && *n <= i64::from(u32::MAX) => {
                Fps::new(*n as u32, 1).ok_or_else(String::new)
            }
            toml::Value::Integer(n) => Err(format!("must be positive, got {n}")),
            toml::Value::Float(f) => Fps::from_f64(*f),
            toml::Value::String(t) => Fps::parse(t),
            other => Err(format!(
                "expected a number or \"num/den\", got a {}",
                other.type_str()
            )),
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Turns the TOML parser's error into one naming the file, line, column and (when it can be
/// told) the field.
fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> CorpusError {
    // One line: the TOML library's message may span several.
    let message = e
        .message()
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    let start = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, start);
    let quoted = ["unknown field `", "missing field `", "duplicate key `"]
        .iter()
        .find_map(|p| {
            message
                .strip_prefix(p)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string)
        });
    let field = quoted.or_else(|| key_before(text, start));
    let message = match &field {
        Some(f) if !message.contains(&format!("`{f}`")) => format!("field `{f}`: {message}"),
        _ => message,
    };
    CorpusError::ManifestSyntax {
        file: file.to_string(),
        line,
        column,
        field,
        message,
    }
}

/// The key of `key = value` whose value starts at byte `at`, looking back on the same line.
fn key_before(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..at].trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    let key: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_forms() {
        assert_eq!(
            Fps::parse("30000/1001").unwrap(),
            Fps::new(30000, 1001).unwrap()
        );
        assert_eq!(Fps::parse("29.97").unwrap(), Fps::new(30000, 1001).unwrap());
        assert_eq!(Fps::parse("59.94").unwrap(), Fps::new(60000, 1001).unwrap());
        assert_eq!(
            Fps::parse("23.976").unwrap(),
            Fps::new(24000, 1001).unwrap()
        );
        assert_eq!(Fps::parse("30").unwrap(), Fps::new(30, 1).unwrap());
        assert_eq!(Fps::parse("12.5").unwrap(), Fps::new(25, 2).unwrap());
        assert_eq!(Fps::parse("50/2").unwrap().to_string(), "25");
        assert_eq!(Fps::parse("0").unwrap_err(), "must be positive, got 0");
        assert_eq!(
            Fps::parse("30/0").unwrap_err(),
            "`30/0` must be positive with a non-zero denominator"
        );
        assert!(Fps::parse("fast").is_err());
        assert!(Fps::from_f64(10.12345).is_err());
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd\nef", 0), (1, 1));
        assert_eq!(line_col("ab\ncd\nef", 4), (2, 2));
        assert_eq!(line_col("ab\ncd\nef", 6), (3, 1));
    }

    #[test]
    fn key_lookup() {
        let t = "x = 1\nslice = { start = \"a\" }";
        let at = t.find("\"a\"").unwrap();
        assert_eq!(key_before(t, at).as_deref(), Some("start"));
        assert_eq!(key_before(t, 4).as_deref(), Some("x"));
        assert_eq!(key_before(t, 0), None);
    }
}
