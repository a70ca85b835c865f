//! Versions of FFmpeg's libraries and of the encoder libraries behind libavcodec's wrappers.
//! They go into every benchmark run's manifest and into the cache keys of encodes, so a changed
//! encoder library never reuses an old result.
//!
//! The encoder libraries are linked into the process through libavcodec; their own version
//! functions are looked up by name. x264 has none, so its version is read from the
//! version-information SEI it writes into a one-frame encode.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::OnceLock;

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

fn split(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// libavcodec, libavformat, libavfilter, libavutil, libswscale, libswresample and the FFmpeg
/// release they come from.
pub fn ffmpeg() -> BTreeMap<String, String> {
    crate::init();
    let mut m = BTreeMap::new();
    // SAFETY: these functions take no arguments and return version numbers or a static string.
    unsafe {
        m.insert(
            "ffmpeg".to_string(),
            CStr::from_ptr(ffi::av_version_info())
                .to_string_lossy()
                .into_owned(),
        );
        m.insert("libavcodec".to_string(), split(ffi::avcodec_version()));
        m.insert("libavformat".to_string(), split(ffi::avformat_version()));
        m.insert("libavfilter".to_string(), split(ffi::avfilter_version()));
        m.insert("libavutil".to_string(), split(ffi::avutil_version()));
        m.insert("libswscale".to_string(), split(ffi::swscale_version()));
        m.insert(
            "libswresample".to_string(),
            split(ffi::swresample_version()),
        );
    }
    m
}

/// How a library publishes its version string.
#[derive(Clone, Copy)]
enum Exported {
    /// A `const char *name(void)` function.
    Function,
    /// A `const char *name` variable.
    Variable,
}

/// Reads a version string a library loaded in this process exports.
fn exported_version(name: &CStr, kind: Exported) -> Option<String> {
    // SAFETY: dlsym looks a symbol up in the already-loaded libraries. Each symbol named in
    // `encoders` is, in its library's public header, either a function taking nothing and
    // returning a static C string or a variable holding a pointer to one, as `kind` says.
    unsafe {
        let sym = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
        if sym.is_null() {
            return None;
        }
        let s = match kind {
            Exported::Function => {
                let f: extern "C" fn() -> *const std::os::raw::c_char = std::mem::transmute(sym);
                f()
            }
            Exported::Variable => *(sym as *const *const std::os::raw::c_char),
        };
        (!s.is_null()).then(|| CStr::from_ptr(s).to_string_lossy().trim().to_string())
    }
}

/// x264's version, from the SEI it writes into a one-frame encode ("x264 - core 164 r3095 baee400").
fn x264_version() -> Option<String> {
    let codec = ff::encoder::find_by_name("libx264")?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .ok()?;
    enc.set_width(16);
    enc.set_height(16);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base(ff::Rational::new(1, 25));
    let mut enc = enc.open().ok()?;
    let mut frame = ff::frame::Video::new(ff::format::Pixel::YUV420P, 16, 16);
    for i in 0..3 {
        frame.data_mut(i).fill(128);
    }
    frame.set_pts(Some(0));
    enc.send_frame(&frame).ok()?;
    enc.send_eof().ok()?;
    let mut packet = ff::Packet::empty();
    let mut bytes = Vec::new();
    while enc.receive_packet(&mut packet).is_ok() {
        bytes.extend_from_slice(packet.data().unwrap_or(&[]));
    }
    let text = String::from_utf8_lossy(&bytes);
    let start = text.find("x264 - core")?;
    let tail = &text[start..];
    let end = tail.find(" - H.264").unwrap_or(tail.len().min(40));
    Some(tail[..end].to_string())
}

/// The version of the library behind each first-class encoder this FFmpeg has, by encoder name.
pub fn encoders() -> BTreeMap<String, String> {
    static CACHE: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            crate::init();
            let mut m = BTreeMap::new();
            let have = |n: &str| ff::encoder::find_by_name(n).is_some();
            if have("libx264") {
                if let Some(v) = x264_version() {
                    m.insert("libx264".into(), v);
                }
            }
            let lookups: [(&str, &CStr, Exported, &str); 5] = [
                ("libx265", c"x265_version_str", Exported::Variable, "x265 "),
                (
                    "libsvtav1",
                    c"svt_av1_get_version",
                    Exported::Function,
                    "SVT-AV1 ",
                ),
                (
                    "libaom-av1",
                    c"aom_codec_version_str",
                    Exported::Function,
                    "libaom ",
                ),
                (
                    "librav1e",
                    c"rav1e_version_full",
                    Exported::Function,
                    "rav1e ",
                ),
                (
                    "libvpx-vp9",
                    c"vpx_codec_version_str",
                    Exported::Function,
                    "libvpx ",
                ),
            ];
            for (enc, sym, kind, prefix) in lookups {
                if have(enc) {
                    if let Some(v) = exported_version(sym, kind) {
                        m.insert(enc.into(), format!("{prefix}{v}"));
                    }
                }
            }
            m
        })
        .clone()
}

/// The version of the library behind encoder `codec`: the first-class ones by their own
/// version, any other by the libavcodec that implements it.
pub fn encoder(codec: &str) -> String {
    encoders().get(codec).cloned().unwrap_or_else(|| {
        let f = ffmpeg();
        format!(
            "{} (libavcodec {})",
            codec,
            f.get("libavcodec").cloned().unwrap_or_default()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_libraries() {
        let f = ffmpeg();
        assert!(f["libavcodec"].split('.').count() == 3);
        let e = encoders();
        assert!(e["libx264"].starts_with("x264 - core "), "{e:?}");
        assert!(e["libx265"].starts_with("x265 "), "{e:?}");
        assert!(
            e.get("libsvtav1")
                .is_some_and(|v| v.starts_with("SVT-AV1 v")),
            "{e:?}"
        );
        assert!(encoder("libx264").contains("core"));
        assert!(encoder("mpeg4").contains("libavcodec"));
    }
}
