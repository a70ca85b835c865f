//! Media files given on the command line as a corpus (`rdbench bench --clips PATH...`): files,
//! folders (their media files, sorted) and wildcard patterns (`*` and `?` in the last path
//! component) expanded to files, each a sequence whose facts are probed when it is
//! materialised.

use std::path::{Path, PathBuf};

use crate::error::{CorpusError, Result};
use crate::manifest::{
    is_safe_name, Class, Corpus, Declared, Fps, Integrity, ManifestOrigin, Sequence, Source,
};

/// File extensions a folder is searched for.
pub const MEDIA_EXTENSIONS: [&str; 20] = [
    "y4m", "mp4", "m4v", "mkv", "mov", "ts", "m2ts", "mts", "webm", "ivf", "avi", "mxf", "flv",
    "nut", "mpg", "mpeg", "264", "h264", "265", "hevc",
];

fn is_media(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.iter().any(|m| m.eq_ignore_ascii_case(e)))
}

/// Whether `name` matches `pattern` (`*`: any run of characters, `?`: one character).
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| CorpusError::Media {
        path: dir.to_path_buf(),
        message: format!("cannot read the folder: {e}"),
    })?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// The files `paths` name: a file as is, a folder's media files, a pattern's matches. A path
/// that names nothing is an error naming it.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let found: Vec<PathBuf> = if name.contains(['*', '?']) {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            list(&dir)?
                .into_iter()
                .filter(|f| {
                    f.file_name()
                        .is_some_and(|n| wildcard(&name, &n.to_string_lossy()))
                })
                .collect()
        } else if p.is_dir() {
            list(p)?.into_iter().filter(|f| is_media(f)).collect()
        } else if p.exists() {
            vec![p.clone()]
        } else {
            return Err(CorpusError::Media {
                path: p.clone(),
                message: "no such file or folder".into(),
            });
        };
        if found.is_empty() {
            return Err(CorpusError::Media {
                path: p.clone(),
                message: "names no media file".into(),
            });
        }
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// A sequence id from a file name: its stem with anything but letters, digits, `.`, `_`, `-`
/// replaced, made unique among `taken`.
fn id_of(path: &Path, taken: &[String]) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while id.starts_with('.') {
        id.remove(0);
    }
    if !is_safe_name(&id) {
        id = "clip".into();
    }
    let base = id.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

impl Corpus {
    #[cfg(test)]
    fn of_clips_unchecked(id: &str) -> Sequence {
        Sequence {
            id: id.into(),
            source: Source::Path(PathBuf::from(format!("{id}.mp4"))),
            integrity: Integrity::Unpinned,
            class: Class::from("auto"),
            width: 0,
            height: 0,
            fps: Fps::new(1, 1).expect("1/1"),
            frames: 0,
            bit_depth: 8,
            licence: String::new(),
            slice: None,
            declared: Declared::ALL,
            notes: None,
        }
    }

    /// A corpus named `name` of the media files `paths` expands to (see [`expand`]); every fact
    /// of each sequence is probed when it is materialised.
    pub fn of_clips(name: &str, paths: &[PathBuf]) -> Result<Corpus> {
        let files = expand(paths)?;
        let mut sequences: Vec<Sequence> = Vec::new();
        for f in files {
            let taken: Vec<String> = sequences.iter().map(|s| s.id.clone()).collect();
            let abs = std::fs::canonicalize(&f).unwrap_or(f.clone());
            sequences.push(Sequence {
                id: id_of(&f, &taken),
                source: Source::Path(abs),
                integrity: Integrity::Unpinned,
                class: Class::from("auto"),
                width: 0,
                height: 0,
                fps: Fps::new(1, 1).expect("1/1"),
                frames: 0,
                bit_depth: 8,
                licence: "unknown (a file given on the command line)".into(),
                slice: None,
                declared: Declared {
                    size: false,
                    fps: false,
                    frames: false,
                    bit_depth: false,
                    class: false,
                },
                notes: None,
            });
        }
        Ok(Corpus::from_sequences(
            name,
            "media files given on the command line",
            ManifestOrigin::Clips,
            sequences,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_manifest_parses_back_to_the_same_facts() {
        let mut seq = Corpus::of_clips_unchecked("talk");
        seq.width = 1280;
        seq.height = 720;
        seq.fps = Fps::new(30000, 1001).unwrap();
        seq.frames = 150;
        seq.bit_depth = 10;
        seq.class = Class::from("E");
        seq.notes = Some("converted from yuv422p10le to yuv420p10le".into());
        let text = manifest_text(
            "mine",
            &[ManifestEntry {
                sequence: seq,
                path: "clips/talk.mov".into(),
                sha256: "ab".repeat(32),
                siti: Some(crate::siti::SiTi {
                    si: 45.25,
                    ti: 12.04,
                    frames: 150,
                }),
            }],
        );
        assert!(
            text.contains(
                "\n# SI 45.2, TI 12.0\nclass = \"E\"  # suggested from the picture size\n"
            ),
            "{text}"
        );
        let c = Corpus::parse(&text, ManifestOrigin::Clips).unwrap();
        let s = &c.sequences()[0];
        assert_eq!(
            (s.width, s.height, s.frames, s.bit_depth),
            (1280, 720, 150, 10)
        );
        assert_eq!(s.fps, Fps::new(30000, 1001).unwrap());
        assert!(s.declared.complete());
        assert_eq!(s.integrity, Integrity::Sha256("ab".repeat(32)));
        assert_eq!(
            s.notes.as_deref(),
            Some("converted from yuv422p10le to yuv420p10le")
        );
    }

    #[test]
    fn wildcards_match_like_a_shell() {
        assert!(wildcard("*.mp4", "talk.mp4"));
        assert!(!wildcard("*.mp4", "talk.mkv"));
        assert!(wildcard("cam?_*.mov", "cam1_take2.mov"));
        assert!(!wildcard("cam?_*.mov", "cam12_take2.mov"));
        assert!(wildcard("*", "x"));
    }

    #[test]
    fn folders_patterns_and_files_expand_and_ids_are_unique() {
        let d = tempfile::tempdir().unwrap();
        for f in ["b.mp4", "a.mkv", "notes.txt", "c d.mov"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        let got = expand(&[d.path().to_path_buf()]).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.mkv", "b.mp4", "c d.mov"]);
        let got = expand(&[d.path().join("*.mp4"), d.path().join("notes.txt")]).unwrap();
        assert_eq!(got.len(), 2);
        let e = expand(&[d.path().join("*.avi")]).unwrap_err().to_string();
        assert!(e.ends_with("*.avi: names no media file"), "{e}");
        let e = expand(&[d.path().join("gone.mp4")])
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("gone.mp4: no such file or folder"), "{e}");
        let c =
            Corpus::of_clips("clips", &[d.path().to_path_buf(), d.path().join("b.mp4")]).unwrap();
        let ids: Vec<&str> = c.sequences().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c_d"]);
        assert_eq!(id_of(Path::new("x/a.mp4"), &["a".into()]), "a-2");
    }
}

/// One sequence of a manifest `rdbench corpus add` writes.
#[derive(Clone, Debug)]
pub struct ManifestEntry {
    /// The materialised sequence (its facts probed).
    pub sequence: Sequence,
    /// The path written in the manifest.
    pub path: String,
    /// SHA-256 of the media file.
    pub sha256: String,
    /// Spatial and temporal information of its frames.
    pub siti: Option<crate::siti::SiTi>,
}

/// The text of a manifest for `entries`: every probed fact written out (so later runs check the
/// file against it), the file's SHA-256, a class suggested from the picture size, SI/TI as a
/// comment, and any conversion as `notes`.
pub fn manifest_text(name: &str, entries: &[ManifestEntry]) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "# Written by `rdbench corpus add`: the facts below were probed from the files; set\n# `class` and `licence` to what they are.\nname = {}\ndescription = {}\n",
        q(name),
        q(&format!("{} media files", entries.len()))
    );
    for e in entries {
        let s = &e.sequence;
        out.push_str("\n[[sequence]]\n");
        out.push_str(&format!("id = {}\n", q(&s.id)));
        out.push_str(&format!("source = {{ path = {} }}\n", q(&e.path)));
        out.push_str(&format!("sha256 = {}\n", q(&e.sha256)));
        if let Some(t) = e.siti {
            out.push_str(&format!("# SI {:.1}, TI {:.1}\n", t.si, t.ti));
        }
        out.push_str(&format!(
            "class = {}  # suggested from the picture size\n",
            q(s.class.as_str())
        ));
        out.push_str(&format!("width = {}\nheight = {}\n", s.width, s.height));
        out.push_str(&format!(
            "fps = {}\n",
            q(&format!("{}/{}", s.fps.num(), s.fps.den()))
        ));
        out.push_str(&format!(
            "frames = {}\nbit_depth = {}\n",
            s.frames, s.bit_depth
        ));
        out.push_str(&format!("licence = {}\n", q("unknown")));
        if let Some(n) = &s.notes {
            out.push_str(&format!("notes = {}\n", q(n)));
        }
    }
    out
}
