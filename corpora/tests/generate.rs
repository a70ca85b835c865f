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
        assert_eq!(f0.planes[0].len(), 48 * 32);
        // Limited range: noise may push the odd sample of a natural scene past the limits.
        let outside = f0.planes[0]
            .iter()
            .filter(|&&y| !(16..=235).contains(&y))
            .count();
        assert!(
            outside * 1000 <= f0.planes[0].len(),
            "{kind:?} luma out of range"
        );
        assert!(
            f0.planes[0] != f2.planes[0],
            "{kind:?} does not change over time"
        );
        // The seed changes the content.
        assert_ne!(
            sha256_bytes(&a),
            sha256_bytes(&render(spec(kind, 2))),
            "{kind:?}"
        );
    }
}

#[test]
fn frames_render_the_same_in_any_order() {
    for kind in [GeneratorKind::Landscape, GeneratorKind::Cartoon] {
        let g = Generator::new(spec(kind, 4));
        let forward: Vec<_> = (0..3).map(|n| g.frame(n)).collect();
        let backward: Vec<_> = (0..3).rev().map(|n| g.frame(n)).collect();
        assert_eq!(
            forward,
            backward.into_iter().rev().collect::<Vec<_>>(),
            "{kind:?}"
        );
    }
}

/// Mean absolute luma difference between two frames.
fn mad(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| f64::from(p.abs_diff(*q)))
        .sum::<f64>()
        / a.len() as f64
}

/// Slope of the radially averaged amplitude spectrum of the central 128x128 luma samples of a
/// `w` x `h` frame, fitted in log-log between 3 and 40 cycles per 128 samples (Hann window).
fn spectrum_slope(luma: &[u8], w: usize, h: usize) -> f64 {
    const N: usize = 128;
    let (x0, y0) = ((w - N) / 2, (h - N) / 2);
    let hann = |i: usize| 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / N as f64).cos();
    let mean = (0..N * N)
        .map(|i| f64::from(luma[(y0 + i / N) * w + x0 + i % N]))
        .sum::<f64>()
        / (N * N) as f64;
    let mut re: Vec<f64> = (0..N * N)
        .map(|i| {
            (f64::from(luma[(y0 + i / N) * w + x0 + i % N]) - mean) * hann(i % N) * hann(i / N)
        })
        .collect();
    let mut im = vec![0.0; N * N];
    // A plain DFT along rows, then along columns.
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..N)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / N as f64;
            (a.cos(), a.sin())
        })
        .unzip();
    for pass in 0..2 {
        let at = |line: usize, k: usize| {
            if pass == 0 {
                line * N + k
            } else {
                k * N + line
            }
        };
        for line in 0..N {
            let (mut r2, mut i2) = (vec![0.0; N], vec![0.0; N]);
            for (f, (rf, imf)) in r2.iter_mut().zip(i2.iter_mut()).enumerate() {
                for k in 0..N {
                    let (c, s) = (cos[f * k % N], sin[f * k % N]);
                    let (xr, xi) = (re[at(line, k)], im[at(line, k)]);
                    *rf += xr * c + xi * s;
                    *imf += xi * c - xr * s;
                }
            }
            for k in 0..N {
                re[at(line, k)] = r2[k];
                im[at(line, k)] = i2[k];
            }
        }
    }
    let mut sum = vec![0.0; N];
    let mut count = vec![0usize; N];
    for v in 0..N {
        for u in 0..N {
            let (fu, fv) = (u.min(N - u) as f64, v.min(N - v) as f64);
            let r = (fu * fu + fv * fv).sqrt().round() as usize;
            if r < N {
                sum[r] += (re[v * N + u].powi(2) + im[v * N + u].powi(2)).sqrt();
                count[r] += 1;
            }
        }
    }
    let pts: Vec<(f64, f64)> = (3..=40)
        .map(|r| ((r as f64).ln(), (sum[r] / count[r] as f64).ln()))
        .collect();
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

/// Share of the luma samples taken by the 16 most common values: near 1 for flat colours.
fn top16_share(luma: &[u8]) -> f64 {
    let mut hist = [0usize; 256];
    luma.iter().for_each(|&y| hist[y as usize] += 1);
    hist.sort_unstable_by(|a, b| b.cmp(a));
    hist[..16].iter().sum::<usize>() as f64 / luma.len() as f64
}

fn sized(kind: GeneratorKind, w: u32, h: u32, frames: u32) -> Generator {
    Generator::new(GenerateSpec {
        width: w,
        height: h,
        frames,
        ..spec(kind, 1)
    })
}

#[test]
fn natural_scenes_have_a_natural_spectrum_and_move_every_frame() {
    for kind in [
        GeneratorKind::Landscape,
        GeneratorKind::Handheld,
        GeneratorKind::Zoom,
        GeneratorKind::Grain,
    ] {
        let g = sized(kind, 256, 144, 30);
        let (f0, f1) = (g.frame(10), g.frame(11));
        let slope = spectrum_slope(&f0.planes[0], 256, 144);
        assert!(
            (-1.6..=-0.7).contains(&slope),
            "{kind:?}: amplitude spectrum slope {slope:.2}"
        );
        let flat = top16_share(&f0.planes[0]);
        assert!(
            flat < 0.35,
            "{kind:?}: 16 luma values cover {flat:.2} of the frame"
        );
        let d = mad(&f0.planes[0], &f1.planes[0]);
        assert!(
            (0.5..20.0).contains(&d),
            "{kind:?}: consecutive frames differ by {d:.2}"
        );
    }
    // White noise is flat and a plain ramp is steep: the measure tells them apart.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..256 * 144)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    assert!(spectrum_slope(&noise, 256, 144).abs() < 0.3);
}

#[test]
fn the_zoom_cuts_to_another_shot_at_three_fifths() {
    let g = sized(GeneratorKind::Zoom, 128, 72, 20);
    let f: Vec<_> = (10..14).map(|n| g.frame(n)).collect();
    let within = mad(&f[0].planes[0], &f[1].planes[0]).max(mad(&f[2].planes[0], &f[3].planes[0]));
    let cut = mad(&f[1].planes[0], &f[2].planes[0]);
    assert!(
        cut > 4.0 * within && cut > 10.0,
        "cut {cut:.2}, within shots {within:.2}"
    );
}

#[test]
fn noise_is_new_in_every_frame() {
    // The slow pan moves the picture by a fraction of a pixel per frame, so a frame is close to
    // the mean of its neighbours unless its grain is new: the residual measures the grain.
    let g = sized(GeneratorKind::Grain, 128, 72, 10);
    let (a, b, c) = (g.frame(4), g.frame(5), g.frame(6));
    let residual: f64 = (0..a.planes[0].len())
        .map(|i| {
            let m = (f64::from(a.planes[0][i]) + f64::from(c.planes[0][i])) / 2.0;
            (f64::from(b.planes[0][i]) - m).abs()
        })
        .sum::<f64>()
        / a.planes[0].len() as f64;
    assert!(residual > 1.0, "{residual:.2}");
}

#[test]
fn the_cartoon_is_flat_and_the_landscape_is_not() {
    let share = |kind| top16_share(&sized(kind, 256, 144, 4).frame(1).planes[0]);
    let (cartoon, landscape) = (
        share(GeneratorKind::Cartoon),
        share(GeneratorKind::Landscape),
    );
    assert!(cartoon > 0.5, "cartoon {cartoon:.2}");
    assert!(landscape < 0.35, "landscape {landscape:.2}");
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
        "name = \"gen\"\n[[sequence]]\nid = \"g\"\nsource = {{ generator = \"cartoon\", seed = {seed} }}\nclass = \"C\"\nwidth = 32\nheight = 16\nfps = 30\nframes = 2\nbit_depth = 8\nlicence = \"x\"\n"
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
    let key = m.sequence.generate_spec().unwrap().key();
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
        GENERATOR_VERSION, 3,
        "update the digests below with the version"
    );
    let got: Vec<(&str, String)> = GeneratorKind::ALL
        .iter()
        .map(|k| (k.name(), sha256_bytes(&render(spec(*k, 1)))))
        .collect();
    let want = [
        (
            "landscape",
            "46dd6f1fa3d7803d224d05e09af7be2620f3b55c362c42e36ebb8cefa5c1baac",
        ),
        (
            "handheld",
            "768c50da4d9fc6049e71fdbb7dd9c5d93668f25e71eec6c008896e17d3f37678",
        ),
        (
            "zoom",
            "28f48f6872397f102c51908106579fe5c34f2c1e469e5d35d7ac083853a17121",
        ),
        (
            "grain",
            "3c16871882be04fd61e4d2faccc100514b4df85b3fa36cc957b271518374b705",
        ),
        (
            "cartoon",
            "8c405f6e324e8cd2ebf772c90c93995889bfe9ec00ffec2bea422b95993fd9fb",
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
