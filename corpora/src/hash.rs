//! File digests: SHA-256 (what the cache records) and MD5 (what some public sets publish).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::error::{CorpusError, Result};

/// The digests of one file, lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigests {
    /// SHA-256.
    pub sha256: String,
    /// MD5, when asked for.
    pub md5: Option<String>,
    /// Bytes hashed.
    pub size: u64,
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(digest_file(path, false)?.sha256)
}

/// SHA-256 (and MD5 if `with_md5`) of a file, read once.
pub fn digest_file(path: &Path, with_md5: bool) -> Result<FileDigests> {
    let mut file = File::open(path).map_err(|e| CorpusError::io(path, e))?;
    let mut sha = Sha256::new();
    let mut md5 = with_md5.then(Md5::new);
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CorpusError::io(path, e)),
        };
        sha.update(&buf[..n]);
        if let Some(m) = md5.as_mut() {
            m.update(&buf[..n]);
        }
        size += n as u64;
    }
    Ok(FileDigests {
        sha256: hex::encode(sha.finalize()),
        md5: md5.map(|m| hex::encode(m.finalize())),
        size,
    })
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // Digests of "abc" from the SHA-256 and MD5 specifications' test vectors.
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        let d = digest_file(&p, true).unwrap();
        assert_eq!(d.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(d.size, 3);
    }
}

/// A writer that passes bytes through to `inner` and hashes them with SHA-256 on the way.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    sha: Sha256,
}

impl<W: std::io::Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            sha: Sha256::new(),
        }
    }

    /// The inner writer and the SHA-256 (lower-case hex) of everything written.
    pub fn finish(self) -> (W, String) {
        (self.inner, hex::encode(self.sha.finalize()))
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
