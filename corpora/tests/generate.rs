//! Generators: determinism, seeds, keys, and regeneration when a recipe changes.

use rdbench_corpora::generate::{GenerateSpec, Generator, GeneratorKind, GENERATOR_VERSION};
use rdbench_corpora::hash::sha256_bytes;
use rdbench_corpora::y4m::Y4mReader;
use rdbench_corpora::{Cache, Corpus, Event, Fps, ManifestOrigin, MaterializeOptions, Recipe};

fn spec(kind: GeneratorKind, seed: u64) -> GenerateSpec {
    GenerateSpec {
        recipe: Recipe {
            generator: kind,
            seed,
        },
        width: 48,
        height: 32,
        fps: Fps::new(30, 1).unwrap(),
        frames: 3,
    }
}

fn render(s: GenerateSpec) -> Vec<u8> {
    Generator::new(s).write_y4m(Vec::new()).unwrap()
}

#[test]
fn every_scene_is_deterministic_seeded_and_moving() {
    for kind in GeneratorKind::ALL {
        let a = render(spec(kind, 1));
        assert_eq!(
            sha256_bytes(&a),
            sha256_bytes(&render(spec(kind, 1))),
            "{kind:?} is not deterministic"
        );
        let mut r = Y4mReader::new(std::io::Cursor::new(&a)).unwrap();
        assert_eq!(
            r.header().to_line(),
            "YUV4MPEG2 W48 H32 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n"
        );
        let f0 = r.read_frame_u8().unwrap().unwrap();
        let f2 = {
            r.read_frame_u8().unwrap();
            r.read_frame_u8().unwrap().unwrap()
        };
        assert!(r.read_frame_u8().unwrap().is_none());
        // Limited range: luma within 16..=235 except where grain pushes it (grain clamps to 0..=255).
        if kind != GeneratorKind::Grain {
            assert!(
                f0.planes[0].iter().all(|&y| (16..=235).contains(&y)),
                "{kind:?} luma out of range"
            );
        }
        if kind != GeneratorKind::Titles {
            assert!(
                f0.planes[0] != f2.planes[0],
                "{kind:?} does not change over time"
            );
        }
    }
    // The seed changes the content of scenes with random set-up.
    for kind in [
        GeneratorKind::Confetti,
        GeneratorKind::Grain,
        GeneratorKind::Scroll,
        GeneratorKind::Titles,
    ] {
        assert_ne!(
            sha256_bytes(&render(spec(kind, 1))),
            sha256_bytes(&render(spec(kind, 2))),
            "{kind:?}"
        );
    }
}

#[test]
fn titles_change_only_in_the_timecode_and_cursor() {
    let g = Generator::new(GenerateSpec {
        width: 320,
        height: 180,
        ..spec(GeneratorKind::Titles, 1)
    });
    let (a, b, c) = (g.frame(0), g.frame(1), g.frame(15));
    let changed = |x: &[u8], y: &[u8]| x.iter().zip(y).filter(|(p, q)| p != q).count();
    let tc = changed(&a.planes[0], &b.planes[0]);
    let cursor = changed(&a.planes[0], &c.planes[0]);
    assert!(
        tc > 0 && tc < a.planes[0].len() / 50,
        "timecode changed {tc} samples"
    );
    assert!(
        cursor > tc && cursor < a.planes[0].len() / 20,
        "cursor and timecode changed {cursor} samples"
    );
}

#[test]
fn frames_render_the_same_in_any_order() {
    let g = Generator::new(spec(GeneratorKind::Confetti, 4));
    let forward: Vec<_> = (0..3).map(|n| g.frame(n)).collect();
    let backward: Vec<_> = (0..3).rev().map(|n| g.frame(n)).collect();
    assert_eq!(forward, backward.into_iter().rev().collect::<Vec<_>>());
}

#[test]
fn the_key_covers_every_part_of_the_spec() {
    let base = spec(GeneratorKind::Zoom, 1);
    assert_eq!(
        base.describe(),
        format!("rdbench-generator/{GENERATOR_VERSION} scene=zoom seed=1 size=48x32 fps=30/1 frames=3 format=y4m-420-8bit")
    );
    let variants = [
        GenerateSpec {
            recipe: Recipe {
                generator: GeneratorKind::Grain,
                seed: 1,
            },
            ..base
        },
        GenerateSpec {
            recipe: Recipe {
                generator: GeneratorKind::Zoom,
                seed: 2,
            },
            ..base
        },
        GenerateSpec { width: 50, ..base },
        GenerateSpec { height: 34, ..base },
        GenerateSpec {
            fps: Fps::new(25, 1).unwrap(),
            ..base
        },
        GenerateSpec { frames: 4, ..base },
    ];
    for v in variants {
        assert_ne!(v.key(), base.key(), "{v:?}");
    }
}

fn manifest(seed: u64) -> Corpus {
    let text = format!(
        "name = \"gen\"\n[[sequence]]\nid = \"g\"\nsource = {{ generator = \"gradient\", seed = {seed} }}\nclass = \"C\"\nwidth = 32\nheight = 16\nfps = 30\nframes = 2\nbit_depth = 8\nlicence = \"x\"\n"
    );
    Corpus::parse(&text, ManifestOrigin::File("gen.toml".into())).unwrap()
}

#[test]
fn cached_files_are_reused_and_regenerated_when_the_recipe_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let mut events = Vec::new();
    let opts = MaterializeOptions::default();
    let first = manifest(1)
        .materialize_with(&cache, &opts, &mut |e| events.push(e.clone()))
        .unwrap();
    assert!(
        matches!(
            events[..],
            [Event::Generating { .. }, Event::Generated { .. }]
        ),
        "{events:?}"
    );
    let m = &first[0];
    assert!(m.path.starts_with(dir.path().join("corpora").join("gen")));
    assert_eq!(
        m.sha256,
        rdbench_corpora::hash::sha256_file(&m.path).unwrap()
    );
    let key = GenerateSpec::of(&m.sequence).unwrap().key();
    assert_eq!(
        m.path.file_name().unwrap().to_str().unwrap(),
        format!("g-{}.y4m", &key[..16])
    );
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(m.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("rdbench-tmp")),
        "{names:?}"
    );

    events.clear();
    let again = manifest(1)
        .materialize_with(&cache, &opts, &mut |e| events.push(e.clone()))
        .unwrap();
    assert_eq!(again, first);
    assert!(matches!(events[..], [Event::Reused { .. }]), "{events:?}");

    // A damaged file with a stale modification time is hashed, found wrong, and rendered again.
    std::fs::write(&m.path, b"damaged").unwrap();
    events.clear();
    let repaired = manifest(1)
        .materialize_with(&cache, &opts, &mut |e| events.push(e.clone()))
        .unwrap();
    assert_eq!(repaired[0].sha256, m.sha256);
    assert!(matches!(events[0], Event::Generating { .. }), "{events:?}");

    events.clear();
    let changed = manifest(2)
        .materialize_with(&cache, &opts, &mut |e| events.push(e.clone()))
        .unwrap();
    assert_ne!(changed[0].path, m.path);
    assert_ne!(changed[0].sha256, m.sha256);
    assert!(!m.path.exists(), "the file of the old recipe is removed");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Removed { path, .. } if *path == m.path)),
        "{events:?}"
    );
}

/// Pins every scene's output. When a scene is changed on purpose, bump `GENERATOR_VERSION` (so
/// caches render again) and update these digests; a failure without such a change means the
/// output drifted by accident.
#[test]
fn output_is_pinned_to_the_generator_version() {
    assert_eq!(
        GENERATOR_VERSION, 1,
        "update the digests below with the version"
    );
    let got: Vec<(&str, String)> = GeneratorKind::ALL
        .iter()
        .map(|k| (k.name(), sha256_bytes(&render(spec(*k, 1)))))
        .collect();
    let want = [
        (
            "titles",
            "0b42259a9444c892ee3607665d19eeeb27e931761521261a7d7001228a1c61e1",
        ),
        (
            "zoom",
            "41a73ce24adea065463e935afda6cca17e52729a7cf2536c760fd209c0166c66",
        ),
        (
            "confetti",
            "7f5b088487178433e6da196911ab5172bdca3b31841a7f3a2eff5d972d126688",
        ),
        (
            "grain",
            "1c6880f24493a618e2e10b62c03a45e2306ab2a9942ec74333dac98c9addc645",
        ),
        (
            "gradient",
            "6d77854015e157a0a845df8e97c57a9106db09dcb38826dea0371c7c7ca16c56",
        ),
        (
            "scroll",
            "1febb7c969d15407677b4c0f9786e1a4e526732889301a0ee5892243e4a572c2",
        ),
    ];
    for ((name, digest), (wname, wdigest)) in got.iter().zip(want) {
        assert_eq!((*name, digest.as_str()), (wname, wdigest));
    }
}
