//! Downloads over HTTP(S) with resume: bytes go to `<file>.part`; an interrupted transfer is
//! resumed with a `Range: bytes=N-` request (a `206` appends, a `200` starts over); the finished
//! file is checked against the manifest's digest before it is renamed into place, and a file
//! that fails the check is deleted rather than left at the final path.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::{write_record, Provenance};
use crate::error::{CorpusError, Result};
use crate::events::Event;
use crate::hash::digest_file;
use crate::manifest::Integrity;

/// Download settings.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Transfers tried per file (each after the first resumes the partial file).
    pub attempts: u32,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for the response headers to arrive.
    pub response_timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            attempts: 3,
            connect_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
        }
    }
}

/// The partial-download name of `dest`: `<dest>.part`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Downloads `url` to `dest` for sequence `id`, resuming `<dest>.part` if present, checks it
/// against `integrity`, renames it into place and writes its cache record. Returns the SHA-256
/// and how the content was established.
pub fn download(
    id: &str,
    url: &str,
    dest: &Path,
    integrity: &Integrity,
    opts: &FetchOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(String, Provenance)> {
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| CorpusError::io(dir, e))?;
    }
    let part = part_path(dest);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.response_timeout))
        .build()
        .into();
    let attempts = opts.attempts.max(1);
    for attempt in 1..=attempts {
        match transfer(&agent, id, url, &part, on_event) {
            Ok(()) => break,
            Err(e) if attempt < attempts => {
                on_event(&Event::Retrying {
                    id: id.to_string(),
                    attempt,
                    error: e.to_string(),
                });
            }
            Err(e) => return Err(e),
        }
    }
    let need_md5 = matches!(integrity, Integrity::Md5(_));
    let d = digest_file(&part, need_md5)?;
    let mismatch = |algorithm: &'static str, expected: &str, actual: &str| {
        let _ = fs::remove_file(&part);
        CorpusError::ChecksumMismatch {
            sequence: id.to_string(),
            what: url.to_string(),
            algorithm,
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    };
    let provenance = match integrity {
        Integrity::Sha256(h) if *h != d.sha256 => return Err(mismatch("sha256", h, &d.sha256)),
        Integrity::Sha256(_) => Provenance::Sha256,
        Integrity::Md5(h) => {
            let got = d.md5.as_deref().unwrap_or_default();
            if h != got {
                return Err(mismatch("md5", h, got));
            }
            Provenance::Md5
        }
        Integrity::TrustOnFirstUse | Integrity::Unpinned => Provenance::TrustOnFirstUse,
    };
    fs::rename(&part, dest).map_err(|e| CorpusError::io(dest, e))?;
    write_record(dest, &d.sha256, provenance, url)?;
    if provenance == Provenance::TrustOnFirstUse {
        on_event(&Event::TrustedOnFirstUse {
            id: id.to_string(),
            sha256: d.sha256.clone(),
        });
    }
    on_event(&Event::Downloaded {
        id: id.to_string(),
        sha256: d.sha256.clone(),
        provenance,
    });
    Ok((d.sha256, provenance))
}

/// One HTTP request: appends to (or restarts) `part` until the body ends.
fn transfer(
    agent: &ureq::Agent,
    id: &str,
    url: &str,
    part: &Path,
    on_event: &mut dyn FnMut(&Event),
) -> Result<()> {
    let http = |message: String| CorpusError::Http {
        sequence: id.to_string(),
        url: url.to_string(),
        message,
    };
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(url);
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let mut resp = req.call().map_err(|e| http(e.to_string()))?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    let (mut file, start, total) = match status {
        206 if have > 0 => {
            let range = header("content-range").unwrap_or_default();
            let (first, total) = parse_content_range(&range)
                .ok_or_else(|| http(format!("206 with unusable Content-Range `{range}`")))?;
            if first != have {
                // The server resumed elsewhere: start over rather than splice wrong bytes.
                let _ = fs::remove_file(part);
                return Err(http(format!(
                    "asked to resume at byte {have}, server sent from byte {first}"
                )));
            }
            let f = OpenOptions::new()
                .append(true)
                .open(part)
                .map_err(|e| CorpusError::io(part, e))?;
            (f, have, total.or(length.map(|l| l + have)))
        }
        200 | 206 => (
            File::create(part).map_err(|e| CorpusError::io(part, e))?,
            0,
            length,
        ),
        416 if have > 0 => return Ok(()),
        s => return Err(http(format!("HTTP status {s}"))),
    };
    on_event(&Event::Downloading {
        id: id.to_string(),
        url: url.to_string(),
        resume_from: start,
        total,
    });
    let mut body = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = start;
    let mut last_report = start;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                file.flush().map_err(|e| CorpusError::io(part, e))?;
                return Err(http(format!(
                    "transfer interrupted after {bytes} bytes: {e}"
                )));
            }
        };
        file.write_all(&buf[..n])
            .map_err(|e| CorpusError::io(part, e))?;
        bytes += n as u64;
        if bytes - last_report >= 1 << 22 {
            on_event(&Event::Progress {
                id: id.to_string(),
                bytes,
                total,
            });
            last_report = bytes;
        }
    }
    file.flush().map_err(|e| CorpusError::io(part, e))?;
    on_event(&Event::Progress {
        id: id.to_string(),
        bytes,
        total,
    });
    if let Some(t) = total {
        if bytes != t {
            return Err(http(format!("transfer ended after {bytes} of {t} bytes")));
        }
    }
    Ok(())
}

/// `bytes FIRST-LAST/TOTAL` → (FIRST, TOTAL if not `*`).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, _last) = range.split_once('-')?;
    Some((first.trim().parse().ok()?, total.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some((100, Some(200)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }
}
