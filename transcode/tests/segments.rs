//! HLS: segments respect the requested duration and appear only when complete.

use crate::support::*;

fn extinf(playlist: &str) -> Vec<(f64, String)> {
    let lines: Vec<&str> = playlist.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("#EXTINF:") {
            let d: f64 = rest
                .trim_end_matches(',')
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            out.push((d, lines[i + 1].to_string()));
        }
    }
    out
}

#[test]
fn hls_segments_respect_the_requested_duration() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "320x240", 30, 7.0, true);
    run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[defaults]
codec = "libx264"
preset = "ultrafast"
rc = { mode = "crf", value = 30 }
[[output]]
path = "hls2/index.m3u8"
hls_time = 2
[[output]]
path = "hls3/index.m3u8"
hls_time = 3
codec = "libx265"
"#,
    );
    for (folder, seg) in [("hls2", 2.0), ("hls3", 3.0)] {
        let playlist = std::fs::read_to_string(dir.path().join(folder).join("index.m3u8")).unwrap();
        assert!(
            playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD") && playlist.contains("#EXT-X-ENDLIST"),
            "{playlist}"
        );
        let segs = extinf(&playlist);
        let total: f64 = segs.iter().map(|s| s.0).sum();
        assert!((total - 7.0).abs() < 0.05, "{folder}: {total} s in all");
        let one_frame = 1.0 / 30.0 + 1e-3;
        for (i, (d, file)) in segs.iter().enumerate() {
            assert!(
                *d <= seg + one_frame,
                "{folder} segment {i} lasts {d} s, over {seg}"
            );
            if i + 1 < segs.len() {
                assert!(
                    (*d - seg).abs() <= one_frame,
                    "{folder} segment {i} lasts {d} s, not {seg}"
                );
            }
            assert!(
                dir.path().join(folder).join(file).is_file(),
                "{file} listed but missing"
            );
        }
    }
    // HEVC segments are fragmented MP4 with an init segment.
    assert!(dir.path().join("hls3/index_init.mp4").is_file());
    assert!(temporaries(dir.path()).is_empty());
}
