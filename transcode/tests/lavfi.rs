//! `lavfi:` inputs: a libavfilter source graph, read through FFmpeg's device library, which the
//! core loads the first time such an input is opened (rdbench does not link it).

use crate::support::*;

#[test]
fn a_lavfi_input_gives_the_graphs_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let graph = "testsrc2=size=96x64:rate=10:duration=2,format=yuv420p";
    let report = run_ok(
        dir.path(),
        &format!(
            r#"
input = "lavfi:{graph}"
[[output]]
path = "out.mkv"
codec = "ffv1"
"#
        ),
    );
    assert!(report.all_ok());
    let out = dir.path().join("out.mkv");
    let p = probe(&out);
    assert_eq!(p.frames, 20, "2 s at 10 fps");
    // Losslessly encoded, the first picture is the one the `ffmpeg` CLI renders from the graph.
    let ours = rgb_frame(&["-i", out.to_str().unwrap()]);
    let theirs = rgb_frame(&["-f", "lavfi", "-i", graph]);
    assert_eq!(ours.len(), 96 * 64 * 3);
    assert!(ours == theirs, "the first picture differs from the graph's");
}
