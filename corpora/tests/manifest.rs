//! Manifest parsing: the shipped manifests, every field form, and exact error messages.

use rdbench_corpora::catalogue::{Catalogue, EMBEDDED};
use rdbench_corpora::generate::GeneratorKind;
use rdbench_corpora::{Class, Corpus, Fps, Integrity, ManifestOrigin, Slice, Source};

use crate::one_sequence;

fn parse(text: &str) -> Result<Corpus, String> {
    Corpus::parse(text, ManifestOrigin::File("m.toml".into())).map_err(|e| e.to_string())
}

const GOOD: &str = r#"
id = "a"
source = { url = "https://example.invalid/a.y4m" }
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
class = "B"
width = 1920
height = 1080
fps = "30000/1001"
frames = 300
bit_depth = 10
licence = "CC-BY-4.0"
slice = { start = 10, frames = 60 }
"#;

#[test]
fn a_full_entry_parses_into_validated_types() {
    let c = parse(&one_sequence(GOOD)).unwrap();
    assert_eq!((c.name.as_str(), c.description.as_str()), ("t", "test"));
    let s = &c.sequences()[0];
    assert_eq!(
        s.source,
        Source::Url("https://example.invalid/a.y4m".into())
    );
    assert_eq!(
        s.integrity,
        Integrity::Sha256(
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789".into()
        )
    );
    assert_eq!(s.class, Class::B);
    assert_eq!(
        (s.width, s.height, s.frames, s.bit_depth),
        (1920, 1080, 300, 10)
    );
    assert_eq!(s.fps, Fps::new(30000, 1001).unwrap());
    assert_eq!(
        s.slice,
        Some(Slice {
            start: 10,
            frames: 60
        })
    );
    assert_eq!(s.used_frames(), 10..70);
}

#[test]
fn fps_classes_and_sources_in_every_form() {
    let entry = |fps: &str, class: &str, source: &str| {
        one_sequence(&format!(
            "id = \"a\"\nsource = {source}\nclass = \"{class}\"\nwidth = 64\nheight = 64\nfps = {fps}\nframes = 3\nbit_depth = 8\nlicence = \"x\"\n"
        ))
    };
    let gen = "{ generator = \"zoom\", seed = 5 }";
    let s = parse(&entry("29.97", "A1", gen)).unwrap().sequences()[0].clone();
    assert_eq!(s.fps, Fps::new(30000, 1001).unwrap());
    assert_eq!(s.class, Class::A1);
    assert_eq!(s.source.kind(), "generated");
    assert!(
        matches!(s.source, Source::Generated(r) if r.generator == GeneratorKind::Zoom && r.seed == 5)
    );
    assert_eq!(s.integrity, Integrity::Unpinned);
    let s = parse(&entry("25", "CIF", "{ path = \"clips/a.y4m\" }"))
        .unwrap()
        .sequences()[0]
        .clone();
    assert_eq!(
        (s.fps.to_string(), s.class),
        ("25".to_string(), Class::Other("CIF".into()))
    );
    assert_eq!(s.integrity, Integrity::Unpinned);
    let tofu = "{ url = \"http://h.invalid/a.y4m\" }\nverify = \"trust-on-first-use\"";
    assert_eq!(
        parse(&entry("50", "E", tofu)).unwrap().sequences()[0].integrity,
        Integrity::TrustOnFirstUse
    );
    let md5 = "{ url = \"http://h.invalid/a.y4m\" }\nmd5 = \"0123456789ABCDEF0123456789abcdef\"";
    assert_eq!(
        parse(&entry("50", "E", md5)).unwrap().sequences()[0].integrity,
        Integrity::Md5("0123456789abcdef0123456789abcdef".into())
    );
}

#[test]
fn syntax_errors_name_file_line_column_and_field() {
    let unknown = one_sequence(&GOOD.replace("licence", "colour = 1\nlicence"));
    assert_eq!(
        parse(&unknown).unwrap_err(),
        "m.toml:15:1: unknown field `colour`, expected one of `id`, `source`, `sha256`, `md5`, `verify`, `class`, `width`, `height`, `fps`, `frames`, `bit_depth`, `licence`, `slice`, `notes`"
    );
    let wrong_type = one_sequence(&GOOD.replace("width = 1920", "width = \"wide\""));
    assert_eq!(
        parse(&wrong_type).unwrap_err(),
        "m.toml:10:9: field `width`: invalid type: string \"wide\", expected u32"
    );
    let in_table = one_sequence(&GOOD.replace("start = 10", "start = -1"));
    assert_eq!(
        parse(&in_table).unwrap_err(),
        "m.toml:16:19: field `start`: invalid value: integer `-1`, expected u32"
    );
    let missing = one_sequence(&GOOD.replace("bit_depth = 10\n", ""));
    let err = parse(&missing).unwrap_err();
    assert!(
        err.starts_with("m.toml:")
            && err.ends_with(
                "field `bit_depth`: required for a url source (only a `path` source is probed)"
            ),
        "{err}"
    );
    let broken = "name = \"t\"\n[[sequence]\n";
    assert!(
        parse(broken).unwrap_err().starts_with("m.toml:2:"),
        "{}",
        parse(broken).unwrap_err()
    );
    let e = Corpus::parse(&wrong_type, ManifestOrigin::File("m.toml".into())).unwrap_err();
    assert!(
        matches!(e, rdbench_corpora::CorpusError::ManifestSyntax { line: 10, column: 9, field: Some(ref f), .. } if f == "width")
    );
}

#[test]
fn value_errors_name_the_sequence_and_field() {
    let cases = [
        (GOOD.replace("fps = \"30000/1001\"", "fps = 0"), "m.toml:12: sequence `a`: field `fps`: must be positive, got 0"),
        (GOOD.replace("fps = \"30000/1001\"", "fps = \"30/0\""), "m.toml:12: sequence `a`: field `fps`: `30/0` must be positive with a non-zero denominator"),
        (
            GOOD.replace("sha256 = \"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"\n", ""),
            "m.toml:4: sequence `a`: field `sha256`: required for a URL source (or give a published `md5`, or `verify = \"trust-on-first-use\"`)",
        ),
        (GOOD.replace("start = 10", "start = 250"), "m.toml:16: sequence `a`: field `slice`: frames 250..310 go beyond the sequence's 300 frames"),
        (GOOD.replace("frames = 60", "frames = 0"), "m.toml:16: sequence `a`: field `slice`: `frames` must be positive, got 0"),
        (GOOD.replace("bit_depth = 10", "bit_depth = 7"), "m.toml:14: sequence `a`: field `bit_depth`: must be 8 to 16, got 7"),
        (GOOD.replace("ABCDEF", "XYZ"), "m.toml:8: sequence `a`: field `sha256`: `XYZ0123456789abcdef0123456789abcdef0123456789abcdef0123456789` is not 64 hex digits"),
        (GOOD.replace("https://example.invalid/a.y4m", "ftp://x/a.y4m"), "m.toml:7: sequence `a`: field `source`: `ftp://x/a.y4m` is not an http:// or https:// URL"),
        (
            GOOD.replace("source = { url = \"https://example.invalid/a.y4m\" }", "source = { generator = \"plasma\" }"),
            "m.toml:7: sequence `a`: field `source`: unknown generator `plasma` (known: landscape, handheld, zoom, grain, cartoon, scroll)",
        ),
        (
            GOOD.replace("source = { url = \"https://example.invalid/a.y4m\" }", "source = { path = \"a\", url = \"http://b/c\" }"),
            "m.toml:7: sequence `a`: field `source`: give exactly one of `path`, `url` or `generator`",
        ),
        (GOOD.replace("licence = \"CC-BY-4.0\"", "verify = \"trust-on-first-use\"\nlicence = \"CC-BY-4.0\""), "m.toml:15: sequence `a`: field `verify`: \"trust-on-first-use\" is for sources without a published digest; remove it or the digest"),
        (GOOD.replace("id = \"a\"", "id = \"a/b\""), "m.toml:6: sequence `a/b`: field `id`: `a/b` must be non-empty letters, digits, `.`, `_` or `-`"),
    ];
    for (entry, want) in cases {
        assert_eq!(parse(&one_sequence(&entry)).unwrap_err(), want);
    }
    let twice = format!("{}\n[[sequence]]\n{GOOD}", one_sequence(GOOD));
    assert_eq!(
        parse(&twice).unwrap_err(),
        "m.toml:20: sequence `a`: field `id`: duplicate id"
    );
    let generated_10_bit = GOOD
        .replace(
            "source = { url = \"https://example.invalid/a.y4m\" }",
            "source = { generator = \"cartoon\" }",
        )
        .replace(
            "sha256 = \"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"\n",
            "",
        );
    assert_eq!(
        parse(&one_sequence(&generated_10_bit)).unwrap_err(),
        "m.toml:13: sequence `a`: field `bit_depth`: generated sequences are 8-bit, got 10"
    );
    assert_eq!(
        parse("name = \"t\"\n").unwrap_err(),
        "m.toml:1: sequence `<corpus>`: field `sequence`: the manifest lists no `[[sequence]]`"
    );
}

#[test]
fn shipped_manifests_parse_and_quick_is_modest() {
    for (file, text) in EMBEDDED {
        let c =
            Corpus::parse(text, ManifestOrigin::Embedded(file)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.sequences().is_empty(), "{file}");
    }
    let quick = Corpus::load_from("quick", &[]).unwrap();
    assert_eq!(quick.sequences().len(), 6);
    let mut pixels = 0u64;
    for s in quick.sequences() {
        assert!(matches!(s.source, Source::Generated(_)), "{}", s.id);
        assert!(
            (360..=540).contains(&s.height) && s.bit_depth == 8,
            "{}",
            s.id
        );
        let seconds = s.frames as f64 / s.fps.as_f64();
        assert!((5.0..=6.0).contains(&seconds), "{}", s.id);
        pixels += u64::from(s.width * s.height * s.frames);
    }
    // At most the pixels of 5 s of 540p30 plus five 5 s of 360p30.
    assert!(pixels <= 150 * (960 * 540 + 5 * 640 * 360), "{pixels}");
    let kinds: std::collections::HashSet<_> = quick
        .sequences()
        .iter()
        .map(|s| match s.source {
            Source::Generated(r) => r.generator,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(kinds.len(), GeneratorKind::ALL.len());
}

#[test]
fn catalogue_files_override_embedded_and_unknown_names_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let text = one_sequence(GOOD).replace("name = \"t\"", "name = \"quick\"");
    std::fs::write(dir.path().join("mine.toml"), text).unwrap();
    std::fs::write(dir.path().join("broken.toml"), "name = 1").unwrap();
    let cat = Catalogue::discover(&[dir.path().to_path_buf()]);
    let quick = cat.get("quick").unwrap();
    assert_eq!(
        quick.origin,
        ManifestOrigin::File(dir.path().join("mine.toml"))
    );
    assert_eq!(cat.errors.len(), 1);
    let err = Corpus::load_from("nope", &[]).unwrap_err().to_string();
    assert_eq!(
        err,
        "no corpus named `nope` (known: aomctc, debian, derf, pypi, quick); pass a manifest path to use another"
    );
    let err = Corpus::load_from("broken", &[dir.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.toml:1:8"), "{err}");
    let by_path = Corpus::load(dir.path().join("mine.toml").to_str().unwrap()).unwrap();
    assert_eq!(by_path.sequences().len(), 1);
}
