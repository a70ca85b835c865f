//! Downloads against the in-process server: plain, resumed after a dropped connection, server
//! ignoring `Range`, checksum mismatch, published MD5, and trust on first use.

use std::collections::HashMap;
use std::path::Path;

use rdbench_corpora::cache::{read_record, Provenance};
use rdbench_corpora::fetch::{download, part_path};
use rdbench_corpora::hash::{digest_file, sha256_bytes};
use rdbench_corpora::{
    Cache, Corpus, CorpusError, Event, FetchOptions, Fps, Integrity, ManifestOrigin,
    MaterializeOptions, VerifyStatus,
};

use crate::server::{Behaviour, TestServer};
use crate::write_pattern_y4m;

/// A small Y4M file's bytes: 16x8, 25 fps, 40 frames (7 920 bytes).
fn clip() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.y4m");
    write_pattern_y4m(&p, 16, 8, Fps::new(25, 1).unwrap(), 40);
    std::fs::read(p).unwrap()
}

fn serve(body: &[u8], behaviour: Behaviour) -> TestServer {
    TestServer::start(
        HashMap::from([("c.y4m".to_string(), body.to_vec())]),
        behaviour,
    )
}

fn once() -> FetchOptions {
    FetchOptions {
        attempts: 1,
        ..FetchOptions::default()
    }
}

fn run(
    url: &str,
    dest: &Path,
    integrity: &Integrity,
    opts: &FetchOptions,
) -> (Result<(String, Provenance), CorpusError>, Vec<Event>) {
    let mut events = Vec::new();
    let r = download("c", url, dest, integrity, opts, &mut |e| {
        events.push(e.clone())
    });
    (r, events)
}

#[test]
fn a_plain_download_is_checked_and_recorded() {
    let body = clip();
    let sha = sha256_bytes(&body);
    let server = serve(&body, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.y4m");
    let (r, events) = run(
        &server.url("c.y4m"),
        &dest,
        &Integrity::Sha256(sha.clone()),
        &once(),
    );
    assert_eq!(r.unwrap(), (sha.clone(), Provenance::Sha256));
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert!(!part_path(&dest).exists());
    let rec = read_record(&dest).unwrap().unwrap();
    assert_eq!(
        (rec.sha256.as_str(), rec.provenance, rec.size),
        (sha.as_str(), Provenance::Sha256, body.len() as u64)
    );
    assert!(
        matches!(&events[0], Event::Downloading { resume_from: 0, total: Some(t), .. } if *t == body.len() as u64)
    );
    assert!(matches!(
        events.last(),
        Some(Event::Downloaded {
            provenance: Provenance::Sha256,
            ..
        })
    ));
    assert_eq!(server.seen().len(), 1);
    assert_eq!(server.seen()[0].range, None);
}

#[test]
fn a_dropped_transfer_keeps_its_part_and_resumes_with_range() {
    let body = clip();
    let sha = sha256_bytes(&body);
    let server = serve(
        &body,
        Behaviour {
            drop_first: 1,
            drop_after: 3000,
            ..Behaviour::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.y4m");
    let integrity = Integrity::Sha256(sha.clone());

    let (r, _) = run(&server.url("c.y4m"), &dest, &integrity, &once());
    let err = r.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("sequence `c`: fetching {}: ", server.url("c.y4m"))),
        "{err}"
    );
    assert!(!dest.exists());
    assert_eq!(std::fs::metadata(part_path(&dest)).unwrap().len(), 3000);

    let (r, events) = run(&server.url("c.y4m"), &dest, &integrity, &once());
    assert_eq!(r.unwrap().0, sha);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].range.as_deref(), seen[1].status),
        (Some("bytes=3000-"), 206)
    );
    assert!(
        matches!(&events[0], Event::Downloading { resume_from: 3000, total: Some(t), .. } if *t == body.len() as u64)
    );
}

#[test]
fn retries_resume_within_one_call() {
    let body = clip();
    let server = serve(
        &body,
        Behaviour {
            drop_first: 2,
            drop_after: 1000,
            ..Behaviour::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.y4m");
    let (r, events) = run(
        &server.url("c.y4m"),
        &dest,
        &Integrity::Sha256(sha256_bytes(&body)),
        &FetchOptions::default(),
    );
    r.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let ranges: Vec<_> = server.seen().into_iter().map(|s| s.range).collect();
    assert_eq!(
        ranges,
        vec![
            None,
            Some("bytes=1000-".to_string()),
            Some("bytes=2000-".to_string())
        ]
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Retrying { .. }))
            .count(),
        2
    );
}

#[test]
fn a_server_ignoring_range_restarts_the_file() {
    let body = clip();
    let server = serve(
        &body,
        Behaviour {
            honour_range: false,
            drop_first: 1,
            drop_after: 500,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.y4m");
    let integrity = Integrity::Sha256(sha256_bytes(&body));
    assert!(run(&server.url("c.y4m"), &dest, &integrity, &once())
        .0
        .is_err());
    run(&server.url("c.y4m"), &dest, &integrity, &once())
        .0
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(server.seen()[1].status, 200);
}

#[test]
fn a_checksum_mismatch_is_refused_and_leaves_nothing_behind() {
    let body = clip();
    let server = serve(&body, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.y4m");
    let wrong = "0".repeat(64);
    let (r, _) = run(
        &server.url("c.y4m"),
        &dest,
        &Integrity::Sha256(wrong.clone()),
        &once(),
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        format!(
            "sequence `c`: sha256 mismatch for {}: expected {wrong}, got {}",
            server.url("c.y4m"),
            sha256_bytes(&body)
        )
    );
    assert!(!dest.exists() && !part_path(&dest).exists());
    let (r, _) = run(
        &server.url("missing.y4m"),
        &dest,
        &Integrity::Sha256(wrong),
        &once(),
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        format!(
            "sequence `c`: fetching {}: HTTP status 404",
            server.url("missing.y4m")
        )
    );
}

#[test]
fn published_md5_and_trust_on_first_use() {
    let body = clip();
    let server = serve(&body, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.y4m");
    std::fs::write(&src, &body).unwrap();
    let md5 = digest_file(&src, true).unwrap().md5.unwrap();
    let dest = dir.path().join("m.y4m");
    let (r, _) = run(&server.url("c.y4m"), &dest, &Integrity::Md5(md5), &once());
    assert_eq!(r.unwrap().1, Provenance::Md5);
    let dest = dir.path().join("t.y4m");
    let (r, events) = run(
        &server.url("c.y4m"),
        &dest,
        &Integrity::TrustOnFirstUse,
        &once(),
    );
    assert_eq!(
        r.unwrap(),
        (sha256_bytes(&body), Provenance::TrustOnFirstUse)
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::TrustedOnFirstUse { sha256, .. } if *sha256 == sha256_bytes(&body))
    ));
    let (r, _) = run(
        &server.url("c.y4m"),
        &dir.path().join("x.y4m"),
        &Integrity::Md5("0".repeat(32)),
        &once(),
    );
    assert!(r.unwrap_err().to_string().contains("md5 mismatch"));
}

#[test]
fn a_corpus_of_urls_needs_fetch_then_verifies() {
    let body = clip();
    let server = serve(&body, Behaviour::default());
    let text = format!(
        "name = \"web\"\n[[sequence]]\nid = \"c\"\nsource = {{ url = \"{}\" }}\nverify = \"trust-on-first-use\"\nclass = \"D\"\nwidth = 16\nheight = 8\nfps = 25\nframes = 40\nbit_depth = 8\nlicence = \"x\"\nslice = {{ start = 0, frames = 10 }}\n",
        server.url("c.y4m")
    );
    let corpus = Corpus::parse(&text, ManifestOrigin::File("web.toml".into())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let opts = MaterializeOptions::default();
    assert_eq!(
        corpus.materialize(&cache).unwrap_err().to_string(),
        format!(
            "sequence `c`: {} has not been fetched (run `rdbench corpus fetch web`)",
            server.url("c.y4m")
        )
    );
    assert_eq!(
        corpus.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Missing
    );
    let m = corpus.fetch(&cache, &opts, &mut |_| {}).unwrap().remove(0);
    assert_eq!(
        (m.frames, m.source_sha256.clone()),
        (10, sha256_bytes(&body))
    );
    // Now cached: no further requests.
    let again = corpus.materialize(&cache).unwrap().remove(0);
    assert_eq!(again, m);
    assert_eq!(server.seen().len(), 1);
    assert_eq!(
        corpus.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Ok {
            sha256: sha256_bytes(&body)
        }
    );
    // A changed file no longer matches the hash recorded on first use.
    let cached = cache.corpus_dir("web").join("c.y4m");
    let mut bytes = std::fs::read(&cached).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&cached, bytes).unwrap();
    assert!(matches!(
        corpus.verify(&cache, &opts).unwrap()[0].status,
        VerifyStatus::Mismatch { .. }
    ));
    assert!(matches!(
        corpus.materialize(&cache).unwrap_err(),
        CorpusError::ChecksumMismatch { .. }
    ));
}
