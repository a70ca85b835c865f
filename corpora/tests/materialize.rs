//! Materialising local sources: resolution, checks against the manifest, cutting the used
//! frames, and verification.

use std::path::Path;

use rdbench_corpora::y4m::probe;
use rdbench_corpora::{
    Cache, Corpus, CorpusError, Fps, ManifestOrigin, MaterializeOptions, VerifyStatus,
};

use crate::{pattern_frame, write_pattern_y4m};

fn local_manifest(dir: &Path, extra: &str) -> Corpus {
    let text = format!(
        "name = \"loc\"\n[[sequence]]\nid = \"clip\"\nsource = {{ path = \"clip.y4m\" }}\nclass = \"D\"\nwidth = 16\nheight = 8\nfps = 25\nframes = 6\nbit_depth = 8\nlicence = \"x\"\n{extra}"
    );
    let path = dir.join("loc.toml");
    std::fs::write(&path, text).unwrap();
    Corpus::from_file(&path).unwrap()
}

#[test]
fn a_slice_is_cut_to_its_own_file() {
    let data = tempfile::tempdir().unwrap();
    write_pattern_y4m(
        &data.path().join("clip.y4m"),
        16,
        8,
        Fps::new(25, 1).unwrap(),
        8,
    );
    let cache = Cache::new(data.path().join("cache"));
    let c = local_manifest(data.path(), "slice = { start = 2, frames = 3 }\n");
    let m = c.materialize(&cache).unwrap().remove(0);
    assert_eq!(m.source_path, data.path().join("clip.y4m"));
    assert_eq!(m.path, cache.corpus_dir("loc").join("clip.f2+3.y4m"));
    assert_eq!(m.frames, 3);
    let mut r = rdbench_corpora::Y4mReader::open(&m.path).unwrap();
    for n in 2..5 {
        assert_eq!(r.read_frame_u8().unwrap().unwrap(), pattern_frame(16, 8, n));
    }
    assert!(r.read_frame_u8().unwrap().is_none());
    // `frames` shorter than the file also cuts (the first 6 of 8 frames).
    let c = local_manifest(data.path(), "");
    let m = c.materialize(&cache).unwrap().remove(0);
    assert_eq!(probe(&m.path).unwrap().1, 6);
    assert_eq!(
        m.sha256,
        rdbench_corpora::hash::sha256_file(&m.path).unwrap()
    );
}

#[test]
fn header_and_length_disagreements_name_the_field() {
    let data = tempfile::tempdir().unwrap();
    let clip = data.path().join("clip.y4m");
    let cache = Cache::new(data.path().join("cache"));
    write_pattern_y4m(&clip, 16, 8, Fps::new(30, 1).unwrap(), 8);
    let err = local_manifest(data.path(), "")
        .materialize(&cache)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "sequence `clip`: {}: fps is 30 in the file but 25 in the manifest",
            clip.display()
        )
    );
    write_pattern_y4m(&clip, 16, 8, Fps::new(25, 1).unwrap(), 4);
    let err = local_manifest(data.path(), "")
        .materialize(&cache)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "sequence `clip`: {}: frames is 4 in the file but at least 6 in the manifest",
            clip.display()
        )
    );
    std::fs::remove_file(&clip).unwrap();
    let err = local_manifest(data.path(), "")
        .materialize(&cache)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "sequence `clip`: source file `clip.y4m` not found (looked in: {}{})",
            data.path().display(),
            if std::env::var_os("RDBENCH_DATA").is_some() {
                ""
            } else {
                "; set RDBENCH_DATA to search more folders"
            }
        )
    );
}

#[test]
fn pinned_local_files_are_checked_and_verify_reports_each_state() {
    let data = tempfile::tempdir().unwrap();
    let clip = data.path().join("clip.y4m");
    write_pattern_y4m(&clip, 16, 8, Fps::new(25, 1).unwrap(), 6);
    let sha = rdbench_corpora::hash::sha256_file(&clip).unwrap();
    let cache = Cache::new(data.path().join("cache"));
    let pinned = local_manifest(data.path(), &format!("sha256 = \"{sha}\"\n"));
    let m = pinned.materialize(&cache).unwrap().remove(0);
    assert_eq!(
        (m.path.clone(), m.sha256.clone()),
        (clip.clone(), sha.clone())
    );
    let opts = MaterializeOptions::default();
    assert_eq!(
        pinned.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Ok {
            sha256: sha.clone()
        }
    );

    write_pattern_y4m(&clip, 16, 8, Fps::new(25, 1).unwrap(), 7);
    let now = rdbench_corpora::hash::sha256_file(&clip).unwrap();
    let err = pinned.materialize(&cache).unwrap_err();
    assert!(
        matches!(err, CorpusError::ChecksumMismatch { ref expected, ref actual, .. } if *expected == sha && *actual == now)
    );
    assert_eq!(
        pinned.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Mismatch {
            algorithm: "sha256",
            expected: sha,
            actual: now
        }
    );
    std::fs::remove_file(&clip).unwrap();
    assert_eq!(
        pinned.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Missing
    );
}

#[test]
fn generated_corpora_verify_against_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let text = "name = \"g\"\n[[sequence]]\nid = \"s\"\nsource = { generator = \"scroll\" }\nclass = \"F\"\nwidth = 64\nheight = 32\nfps = 30\nframes = 2\nbit_depth = 8\nlicence = \"x\"\n";
    let c = Corpus::parse(text, ManifestOrigin::Embedded("g.toml")).unwrap();
    let opts = MaterializeOptions::default();
    assert_eq!(
        c.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Missing
    );
    assert!(!c.status(&c.sequences()[0], &cache, &opts).present);
    let m = c.materialize(&cache).unwrap().remove(0);
    assert_eq!(
        c.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Ok {
            sha256: m.sha256.clone()
        }
    );
    let siti = m.siti().unwrap();
    let st = c.status(&c.sequences()[0], &cache, &opts);
    assert!(st.present);
    assert_eq!(st.siti, Some(siti));
    let mut bytes = std::fs::read(&m.path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&m.path, bytes).unwrap();
    assert!(matches!(
        c.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Mismatch { .. }
    ));
}
