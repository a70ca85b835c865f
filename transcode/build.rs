//! Tells the crate which FFmpeg API generation it builds against, so the few calls whose shape
//! changed between FFmpeg 5.1 and 7.x (stream side data) pick the right form.
//! ffmpeg-sys-next detects the version and exports it as `DEP_FFMPEG_FFMPEG_<MAJOR>_<MINOR>`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ffmpeg_coded_side_data)");
    // Stream side data moved to AVCodecParameters.coded_side_data in FFmpeg 6.1.
    let v61 = std::env::var("DEP_FFMPEG_FFMPEG_6_1")
        .map(|v| v == "true")
        .unwrap_or(false);
    if v61 {
        println!("cargo::rustc-cfg=ffmpeg_coded_side_data");
    }
}
