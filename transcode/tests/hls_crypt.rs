//! HLS AES-128: the segments are encrypted, the playlist names the keys, and the `ffmpeg` CLI
//! (decrypting with those keys) decodes every frame exactly as from the same output unencrypted;
//! `openssl` decrypts single segments with the key and IV the playlist implies.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The per-frame MD5s of what the `ffmpeg` CLI decodes from `playlist`.
fn frame_md5s(playlist: &Path) -> Vec<String> {
    framemd5(&["-allowed_extensions", "ALL"], playlist)
        .into_iter()
        .map(|(_, md5)| md5)
        .collect()
}

fn is_ts(bytes: &[u8]) -> bool {
    bytes.len() >= 3 * 188 && (0..3).all(|k| bytes[k * 188] == 0x47)
}

fn openssl_decrypt(segment: &Path, key: &[u8], iv: &str) -> Vec<u8> {
    let out = stdout_of(
        Command::new("openssl")
            .args([
                "enc",
                "-d",
                "-aes-128-cbc",
                "-K",
                &hex::encode(key),
                "-iv",
                iv,
                "-in",
            ])
            .arg(segment),
    );
    out
}

#[test]
fn encrypted_hls_decodes_frame_for_frame_with_rotating_keys() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "320x240", 25, 5.0, true);
    std::fs::create_dir_all(dir.path().join("plain")).unwrap();
    std::fs::create_dir_all(dir.path().join("enc")).unwrap();
    run_ok(
        dir.path(),
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
threads = 1
hls_time = 1
rc = { mode = "crf", value = 28 }
[[output]]
path = "plain/v.m3u8"
[[output]]
path = "enc/v.m3u8"
hls_encryption = { rotate_segments = 2 }
"#,
    );
    let enc = dir.path().join("enc");
    let playlist = std::fs::read_to_string(enc.join("v.m3u8")).unwrap();
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".ts")).collect();
    assert_eq!(segments.len(), 5, "{playlist}");
    let tags: Vec<&str> = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-KEY"))
        .collect();
    assert_eq!(
        tags,
        [
            "#EXT-X-KEY:METHOD=AES-128,URI=\"v_key0.key\"",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"v_key1.key\"",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"v_key2.key\""
        ]
    );
    let keys: Vec<Vec<u8>> = (0..3)
        .map(|n| std::fs::read(enc.join(format!("v_key{n}.key"))).unwrap())
        .collect();
    assert!(keys.iter().all(|k| k.len() == 16));
    assert!(keys[0] != keys[1] && keys[1] != keys[2], "each key is new");
    for (i, s) in segments.iter().enumerate() {
        let bytes = std::fs::read(enc.join(s)).unwrap();
        assert!(!is_ts(&bytes), "{s} is not plain MPEG-TS");
        // No IV in the tag: the IV is the media sequence number.
        let plain = openssl_decrypt(&enc.join(s), &keys[i / 2], &format!("{i:032x}"));
        assert!(is_ts(&plain), "{s} decrypts to MPEG-TS");
        assert_eq!(
            plain,
            std::fs::read(dir.path().join("plain").join(s)).unwrap()
        );
    }
    let plain = frame_md5s(&dir.path().join("plain/v.m3u8"));
    assert_eq!(plain.len(), 125);
    assert_eq!(
        frame_md5s(&enc.join("v.m3u8")),
        plain,
        "every frame decodes the same"
    );
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn a_given_key_with_random_ivs_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "src.mp4", "160x120", 25, 3.0, false);
    std::fs::write(dir.path().join("k.bin"), [0x5au8; 16]).unwrap();
    std::fs::write(dir.path().join("short.bin"), [1u8; 15]).unwrap();
    let report = run_job(
        dir.path(),
        r#"
input = "src.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
[[output]]
path = "a.m3u8"
hls_time = 1
hls_encryption = { key_file = "k.bin", iv = "random", key_uri = "https://keys.example/{n}" }
[[output]]
path = "b.m3u8"
hls_encryption = { key_file = "short.bin" }
[[output]]
path = "c.mp4"
hls_encryption = {}
[[output]]
path = "d.m3u8"
codec = "libx265"
hls_encryption = {}
"#,
    );
    assert!(
        report.outputs[0].error.is_none(),
        "{:?}",
        report.outputs[0].error
    );
    let errors: Vec<String> = report.outputs[1..]
        .iter()
        .map(|o| o.error.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        errors,
        [
            format!(
                "output[1].hls_encryption.key_file: {} holds 15 bytes; an AES-128 key is 16",
                dir.path().join("short.bin").display()
            ),
            "output[2].hls_encryption: only applies to HLS outputs (.m3u8)".to_string(),
            "output[3].hls_encryption: AES-128 applies to MPEG-TS segments; libx265 writes fragmented MP4 ones".into(),
        ]
    );
    let playlist = std::fs::read_to_string(dir.path().join("a.m3u8")).unwrap();
    let tags: Vec<&str> = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-KEY"))
        .collect();
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".ts")).collect();
    assert_eq!(
        tags.len(),
        segments.len(),
        "a tag with its own IV per segment"
    );
    for (tag, s) in tags.iter().zip(&segments) {
        assert!(tag.starts_with("#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/0\",IV=0x"));
        let iv = tag.rsplit("IV=0x").next().unwrap();
        let plain = openssl_decrypt(&dir.path().join(s), &[0x5a; 16], iv);
        assert!(is_ts(&plain), "{s}");
    }
    assert!(
        !dir.path().join("a_key0.key").exists(),
        "a given key is not written out"
    );
}
