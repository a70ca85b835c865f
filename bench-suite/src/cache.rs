//! The results cache: encodes and their scores, keyed by a content hash of the source, the
//! encoder configuration and the encoder library's version, so a rerun reuses finished work and
//! a new encoder build never reuses old results.
//!
//! ```text
//! <cache>/bench/encodes/<encode key>.<ext>    the encoded file
//! <cache>/bench/encodes/<encode key>.json     the encode's figures (EncodeOutcome)
//! <cache>/bench/scores/<score key>.json       the scores of that encode (ScoreOutcome)
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bump when the way rdbench encodes or scores changes results.
pub const CACHE_VERSION: u32 = 2;

/// Hex SHA-256 of a value's canonical JSON.
pub fn key_of<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).expect("cache keys serialise");
    hex::encode(Sha256::digest(&json))
}

/// Where cached things live.
#[derive(Clone, Debug)]
pub struct ResultCache {
    root: Option<PathBuf>,
}

impl ResultCache {
    /// A cache under `root`/bench, or no cache.
    pub fn new(root: Option<&Path>) -> Self {
        ResultCache {
            root: root.map(|r| r.join("bench")),
        }
    }

    /// Whether caching is on.
    pub fn enabled(&self) -> bool {
        self.root.is_some()
    }

    /// The path of an encode with `key` and extension `ext`, in the cache or under `fallback`.
    pub fn encode_path(&self, key: &str, ext: &str, fallback: &Path) -> PathBuf {
        match &self.root {
            Some(r) => r.join("encodes").join(format!("{key}.{ext}")),
            None => fallback.join(format!("{key}.{ext}")),
        }
    }

    fn json_path(&self, kind: &str, key: &str) -> Option<PathBuf> {
        self.root
            .as_ref()
            .map(|r| r.join(kind).join(format!("{key}.json")))
    }

    /// A cached value, when present and readable.
    pub fn get<T: for<'de> Deserialize<'de>>(&self, kind: &str, key: &str) -> Option<T> {
        let p = self.json_path(kind, key)?;
        let text = std::fs::read_to_string(p).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Stores a value (atomically; a failure to cache is not an error of the job).
    pub fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        if let Some(p) = self.json_path(kind, key) {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Ok(bytes) = serde_json::to_vec(value) {
                let _ = rdbench_results::run::write_atomic(&p, &bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_any_field_and_are_stable() {
        let a = key_of(&("src", "libx264", "medium", 23.0));
        assert_eq!(a, key_of(&("src", "libx264", "medium", 23.0)));
        assert_ne!(a, key_of(&("src", "libx264", "medium", 24.0)));
        assert_ne!(a, key_of(&("src", "libx264", "slow", 23.0)));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn values_round_trip_and_a_disabled_cache_keeps_nothing() {
        let d = tempfile::tempdir().unwrap();
        let c = ResultCache::new(Some(d.path()));
        c.put("scores", "k", &vec![1.5, 2.5]);
        assert_eq!(c.get::<Vec<f64>>("scores", "k"), Some(vec![1.5, 2.5]));
        assert_eq!(c.get::<Vec<f64>>("scores", "other"), None);
        let off = ResultCache::new(None);
        off.put("scores", "k", &1);
        assert_eq!(off.get::<i32>("scores", "k"), None);
    }
}
