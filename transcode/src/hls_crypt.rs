//! HLS AES-128: whole-segment AES-128-CBC encryption (PKCS#7 padding) of an HLS output's
//! segments, with `#EXT-X-KEY` tags in its playlist, done when the output is committed: the
//! muxer writes plain segments into the staging folder, then each is encrypted in place and
//! the playlist rewritten before anything moves to its final path.
//!
//! Keys are given (one 16-byte file) or generated, one per `rotate_segments` segments. IVs
//! are the segment's media sequence number (what players assume when a key tag has no IV, so
//! the tags appear only where the key changes) or random per segment (a key tag before every
//! segment, carrying its IV). The playlist rewrite and the encryption are pure functions,
//! tested by exact output; the tests decrypt segments with an independent tool.

use std::path::{Path, PathBuf};

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};

use crate::error::{Error, Result};
use crate::spec::HlsEncryptionSpec;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// How each segment's IV is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IvMode {
    /// The segment's media sequence number, big-endian (the HLS default).
    Sequence,
    /// Random per segment, written in the key tag.
    Random,
}

/// A checked HLS encryption setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlsEncryption {
    /// A fixed key (read from `key_file`), or None to generate keys.
    pub key: Option<[u8; 16]>,
    /// The key URI written in the playlist; `{n}` is the key's number from 0 and `{file}` the
    /// key file's name.
    pub key_uri: String,
    /// Segments per key (None: one key for the whole output).
    pub rotate_segments: Option<u32>,
    /// IV choice.
    pub iv: IvMode,
}

impl HlsEncryption {
    /// Checks `spec` for the output whose field prefix is `field`; `resolve` turns the key
    /// file's spec path into a file path.
    pub fn from_spec(
        spec: &HlsEncryptionSpec,
        field: &str,
        resolve: impl Fn(&str) -> PathBuf,
    ) -> Result<HlsEncryption> {
        let err = |name: &str, message: String| Error::Spec {
            field: format!("{field}.hls_encryption.{name}"),
            message,
        };
        let key = match &spec.key_file {
            Some(p) => {
                let path = resolve(p);
                let bytes = std::fs::read(&path)
                    .map_err(|e| err("key_file", format!("cannot read {}: {e}", path.display())))?;
                let key: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
                    err(
                        "key_file",
                        format!(
                            "{} holds {} bytes; an AES-128 key is 16",
                            path.display(),
                            bytes.len()
                        ),
                    )
                })?;
                Some(key)
            }
            None => None,
        };
        if let Some(n) = spec.rotate_segments {
            if n == 0 {
                return Err(err("rotate_segments", "must be at least 1".into()));
            }
            if key.is_some() {
                return Err(err(
                    "rotate_segments",
                    "rotates generated keys; a `key_file` is one key".into(),
                ));
            }
        }
        let iv = match spec.iv.as_deref() {
            None | Some("sequence") => IvMode::Sequence,
            Some("random") => IvMode::Random,
            Some(other) => {
                return Err(err(
                    "iv",
                    format!("unknown IV mode `{other}` (sequence, random)"),
                ))
            }
        };
        let key_uri = spec.key_uri.clone().unwrap_or_else(|| "{file}".into());
        if key_uri.trim().is_empty() || key_uri.contains('"') || key_uri.contains('\n') {
            return Err(err(
                "key_uri",
                format!("`{key_uri}` is not a URI a playlist can quote"),
            ));
        }
        if spec.rotate_segments.is_some() && !key_uri.contains("{n}") && !key_uri.contains("{file}")
        {
            return Err(err(
                "key_uri",
                format!("`{key_uri}` names one key; rotating keys need `{{n}}` or `{{file}}`"),
            ));
        }
        Ok(HlsEncryption {
            key,
            key_uri,
            rotate_segments: spec.rotate_segments,
            iv,
        })
    }

    /// The number of the key segment `i` (from 0, in playlist order) uses.
    pub fn key_index(&self, i: usize) -> usize {
        match self.rotate_segments {
            Some(n) => i / n as usize,
            None => 0,
        }
    }
}

/// The name of key `n`'s file for a playlist whose stem is `stem`.
pub fn key_file_name(stem: &str, n: usize) -> String {
    format!("{stem}_key{n}.key")
}

/// The IV of a segment with media sequence number `seq` under [`IvMode::Sequence`].
pub fn sequence_iv(seq: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[8..].copy_from_slice(&seq.to_be_bytes());
    iv
}

/// AES-128-CBC with PKCS#7 padding, as HLS's METHOD=AES-128 asks.
pub fn encrypt(data: &[u8], key: &[u8; 16], iv: &[u8; 16]) -> Vec<u8> {
    Aes128CbcEnc::new(key.into(), iv.into()).encrypt_padded_vec_mut::<Pkcs7>(data)
}

/// One segment of a playlist: its URI as written and its media sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The URI line.
    pub uri: String,
    /// Media sequence number.
    pub sequence: u64,
}

/// The segments of a media playlist, in order.
pub fn segments(playlist: &str) -> Vec<Segment> {
    let mut seq: u64 = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut out = Vec::new();
    for l in playlist.lines() {
        let l = l.trim();
        if !l.is_empty() && !l.starts_with('#') {
            out.push(Segment {
                uri: l.to_string(),
                sequence: seq,
            });
            seq += 1;
        }
    }
    out
}

/// The playlist with a key tag before each segment that needs one: `keys[i]` is segment i's
/// key URI, `ivs[i]` its IV when the tag must carry it. A tag is written where the URI or the
/// written IV changes from the previous segment's.
pub fn with_key_tags(playlist: &str, keys: &[String], ivs: &[Option<[u8; 16]>]) -> String {
    let mut out = String::with_capacity(playlist.len() + 64 * keys.len());
    let mut pending: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut last: Option<(String, Option<[u8; 16]>)> = None;
    for line in playlist.lines() {
        let t = line.trim();
        let is_segment = !t.is_empty() && !t.starts_with('#');
        // A segment's own tags (#EXTINF, discontinuities) come right before it: the key tag
        // goes before them.
        if t.starts_with("#EXTINF")
            || t.starts_with("#EXT-X-DISCONTINUITY")
            || t.starts_with("#EXT-X-BYTERANGE")
        {
            pending.push(line);
            continue;
        }
        if is_segment && i < keys.len() {
            let now = (keys[i].clone(), ivs[i]);
            if last.as_ref() != Some(&now) {
                out.push_str(&format!("#EXT-X-KEY:METHOD=AES-128,URI=\"{}\"", now.0));
                if let Some(iv) = now.1 {
                    out.push_str(&format!(",IV=0x{}", hex::encode(iv)));
                }
                out.push('\n');
                last = Some(now);
            }
            i += 1;
        }
        for p in pending.drain(..) {
            out.push_str(p);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    for p in pending {
        out.push_str(p);
        out.push('\n');
    }
    out
}

/// Reads `n` random bytes from the kernel.
fn random<const N: usize>() -> Result<[u8; N]> {
    use std::io::Read;
    let mut b = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Error::io("/dev/urandom", "reading random bytes", e))?;
    Ok(b)
}

/// Encrypts the segments of the playlist `playlist` (in `dir`, the staging folder) in place,
/// writes the generated keys beside them as `<stem>_key<n>.key`, and rewrites the playlist
/// with its key tags. Returns the key files written.
pub fn encrypt_output(
    enc: &HlsEncryption,
    dir: &Path,
    playlist: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(playlist)
        .map_err(|e| Error::io(playlist, "reading the playlist", e))?;
    let segs = segments(&text);
    let n_keys = segs
        .last()
        .map(|_| enc.key_index(segs.len() - 1) + 1)
        .unwrap_or(0);
    let mut keys = Vec::with_capacity(n_keys);
    let mut written = Vec::new();
    for n in 0..n_keys {
        let key = match enc.key {
            Some(k) => k,
            None => random::<16>()?,
        };
        let file = dir.join(key_file_name(stem, n));
        if enc.key.is_none() {
            std::fs::write(&file, key).map_err(|e| Error::io(&file, "writing a key", e))?;
            written.push(file);
        }
        keys.push(key);
    }
    let mut uris = Vec::with_capacity(segs.len());
    let mut ivs = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        let k = enc.key_index(i);
        let (iv, written_iv) = match enc.iv {
            IvMode::Sequence => (sequence_iv(s.sequence), None),
            IvMode::Random => {
                let iv = random::<16>()?;
                (iv, Some(iv))
            }
        };
        let path = dir.join(&s.uri);
        let plain = std::fs::read(&path).map_err(|e| Error::io(&path, "reading a segment", e))?;
        std::fs::write(&path, encrypt(&plain, &keys[k], &iv))
            .map_err(|e| Error::io(&path, "writing an encrypted segment", e))?;
        uris.push(
            enc.key_uri
                .replace("{n}", &k.to_string())
                .replace("{file}", &key_file_name(stem, k)),
        );
        ivs.push(written_iv);
    }
    std::fs::write(playlist, with_key_tags(&text, &uris, &ivs))
        .map_err(|e| Error::io(playlist, "writing the playlist", e))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAYLIST: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000000,\nv_00000.ts\n#EXTINF:2.000000,\nv_00001.ts\n#EXTINF:1.000000,\nv_00002.ts\n#EXT-X-ENDLIST\n";

    #[test]
    fn segments_carry_their_media_sequence() {
        let s = segments(PLAYLIST);
        assert_eq!(
            s.iter()
                .map(|x| (x.uri.as_str(), x.sequence))
                .collect::<Vec<_>>(),
            [("v_00000.ts", 5), ("v_00001.ts", 6), ("v_00002.ts", 7)]
        );
    }

    #[test]
    fn key_tags_go_where_the_key_or_iv_changes() {
        let keys = ["k0".to_string(), "k0".into(), "k1".into()];
        assert_eq!(
            with_key_tags(PLAYLIST, &keys, &[None, None, None]),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-PLAYLIST-TYPE:VOD\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k0\"\n#EXTINF:2.000000,\nv_00000.ts\n#EXTINF:2.000000,\nv_00001.ts\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k1\"\n#EXTINF:1.000000,\nv_00002.ts\n#EXT-X-ENDLIST\n"
        );
        let mut iv = [0u8; 16];
        iv[15] = 0xab;
        let out = with_key_tags(PLAYLIST, &keys, &[Some(iv), Some(iv), Some([1; 16])]);
        assert_eq!(out.matches("#EXT-X-KEY").count(), 2);
        assert!(out.contains(
            "#EXT-X-KEY:METHOD=AES-128,URI=\"k0\",IV=0x000000000000000000000000000000ab\n#EXTINF:2.000000,\nv_00000.ts\n"
        ));
        assert!(out.contains(
            "URI=\"k1\",IV=0x01010101010101010101010101010101\n#EXTINF:1.000000,\nv_00002.ts"
        ));
    }

    #[test]
    fn aes_128_cbc_matches_the_nist_vector() {
        // NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt, first block (with PKCS#7's full padding
        // block after it).
        let key: [u8; 16] = hex::decode("2b7e151628aed2a6abf7158809cf4f3c")
            .unwrap()
            .try_into()
            .unwrap();
        let iv: [u8; 16] = hex::decode("000102030405060708090a0b0c0d0e0f")
            .unwrap()
            .try_into()
            .unwrap();
        let plain = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let out = encrypt(&plain, &key, &iv);
        assert_eq!(out.len(), 32);
        assert_eq!(hex::encode(&out[..16]), "7649abac8119b246cee98e9b12e9197d");
        assert_eq!(
            hex::encode(sequence_iv(7)),
            "00000000000000000000000000000007"
        );
    }

    #[test]
    fn bad_settings_name_their_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("short.key"), [0u8; 8]).unwrap();
        std::fs::write(dir.path().join("good.key"), [7u8; 16]).unwrap();
        let check = |text: &str| {
            let spec: HlsEncryptionSpec = toml::from_str(text).unwrap();
            HlsEncryption::from_spec(&spec, "output[1]", |p| dir.path().join(p))
        };
        let short = dir.path().join("short.key");
        assert_eq!(
            check("key_file = \"short.key\"").err().unwrap().to_string(),
            format!(
                "output[1].hls_encryption.key_file: {} holds 8 bytes; an AES-128 key is 16",
                short.display()
            )
        );
        assert_eq!(
            check("key_file = \"good.key\"\nrotate_segments = 2").err().unwrap().to_string(),
            "output[1].hls_encryption.rotate_segments: rotates generated keys; a `key_file` is one key"
        );
        assert_eq!(
            check("iv = \"counter\"").err().unwrap().to_string(),
            "output[1].hls_encryption.iv: unknown IV mode `counter` (sequence, random)"
        );
        assert_eq!(
            check("rotate_segments = 2\nkey_uri = \"https://k.example/one.key\"").err().unwrap().to_string(),
            "output[1].hls_encryption.key_uri: `https://k.example/one.key` names one key; rotating keys need `{n}` or `{file}`"
        );
        let ok = check("key_file = \"good.key\"\niv = \"random\"").unwrap();
        assert_eq!(ok.key, Some([7u8; 16]));
        assert_eq!(ok.iv, IvMode::Random);
        assert_eq!(ok.key_uri, "{file}");
        let rot = check("rotate_segments = 3").unwrap();
        assert_eq!(
            (0..7).map(|i| rot.key_index(i)).collect::<Vec<_>>(),
            [0, 0, 0, 1, 1, 1, 2]
        );
    }
}
