//! Media values shared by the tasks: frames that several pipelines read without copying, the
//! packets a muxer receives, pixel-format facts and side data handling.

use ff::Rational;
use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

/// A decoded or filtered video frame with the time base of its timestamps.
pub struct VideoFrame {
    /// The frame.
    pub frame: ff::frame::Video,
    /// The time base of `frame.pts()`.
    pub time_base: Rational,
}

impl Clone for VideoFrame {
    /// A new reference to the same picture buffers (no pixel copy).
    fn clone(&self) -> Self {
        VideoFrame {
            frame: share_video(&self.frame),
            time_base: self.time_base,
        }
    }
}

/// A decoded audio frame with the time base of its timestamps.
pub struct AudioFrame {
    /// The frame.
    pub frame: ff::frame::Audio,
    /// The time base of `frame.pts()`.
    pub time_base: Rational,
}

impl Clone for AudioFrame {
    fn clone(&self) -> Self {
        // SAFETY: av_frame_clone makes a new AVFrame referencing the same refcounted buffers;
        // it returns null only on allocation failure, which we treat as fatal like Rust does.
        let ptr = unsafe { ffi::av_frame_clone(self.frame.as_ptr()) };
        assert!(!ptr.is_null(), "out of memory cloning an audio frame");
        AudioFrame {
            // SAFETY: `ptr` is a fresh, owned AVFrame.
            frame: unsafe { ff::frame::Audio::wrap(ptr) },
            time_base: self.time_base,
        }
    }
}

/// A new reference to the buffers of `frame`.
pub fn share_video(frame: &ff::frame::Video) -> ff::frame::Video {
    // SAFETY: as for audio: a new AVFrame referencing the same refcounted buffers.
    let ptr = unsafe { ffi::av_frame_clone(frame.as_ptr()) };
    assert!(!ptr.is_null(), "out of memory cloning a video frame");
    // SAFETY: `ptr` is a fresh, owned AVFrame.
    unsafe { ff::frame::Video::wrap(ptr) }
}

/// A compressed packet on its way to a muxer (encoded video or audio, or copied audio).
pub struct MuxPacket {
    /// The muxer's stream index.
    pub stream: usize,
    /// The packet, timestamps in `time_base`.
    pub packet: ff::Packet,
    /// The time base of the packet's timestamps.
    pub time_base: Rational,
}

/// What a muxer receives: first the parameters of each stream, then packets.
pub enum MuxItem {
    /// A stream's codec parameters (once per stream, before its packets).
    Stream {
        /// The muxer's stream index.
        stream: usize,
        /// Codec parameters.
        params: ff::codec::Parameters,
        /// The encoder's time base.
        time_base: Rational,
        /// Stream side data to attach (HDR metadata, CPB properties).
        side_data: Vec<(ffi::AVPacketSideDataType, Vec<u8>)>,
    },
    /// A packet.
    Packet(MuxPacket),
}

/// The extradata of a stream's codec parameters (avcC, hvcC, parameter sets...).
pub fn extradata(params: &ff::codec::Parameters) -> Vec<u8> {
    // SAFETY: `params` owns a valid AVCodecParameters; extradata is null or holds
    // extradata_size readable bytes.
    unsafe {
        let p = params.as_ptr();
        if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        }
    }
}

/// Bits per sample of a pixel format (8 for yuv420p, 10 for yuv420p10le).
pub fn bit_depth(format: ff::format::Pixel) -> u8 {
    let pix: ffi::AVPixelFormat = format.into();
    // SAFETY: av_pix_fmt_desc_get returns null or a pointer to a static descriptor.
    let desc = unsafe { ffi::av_pix_fmt_desc_get(pix) };
    if desc.is_null() {
        return 8;
    }
    // SAFETY: non-null static descriptor.
    unsafe { (*desc).comp[0].depth as u8 }
}

/// The chroma layout of a pixel format: "420", "422", "444", "400" (grey), or "other" (packed,
/// RGB, odd subsampling).
pub fn chroma_layout(format: ff::format::Pixel) -> &'static str {
    let Some(d) = format.descriptor() else {
        return "other";
    };
    if d.nb_components() == 1 {
        return "400";
    }
    let name = d.name();
    if name.starts_with("rgb") || name.starts_with("bgr") || name.starts_with("gbr") {
        return "other";
    }
    match (d.log2_chroma_w(), d.log2_chroma_h()) {
        (1, 1) => "420",
        (1, 0) => "422",
        (0, 0) => "444",
        _ => "other",
    }
}

/// The name FFmpeg gives a pixel format ("yuv420p").
pub fn pix_fmt_name(format: ff::format::Pixel) -> String {
    format
        .descriptor()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|| "none".into())
}

/// The pixel format called `name`.
pub fn pix_fmt_by_name(name: &str) -> Option<ff::format::Pixel> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let pix = unsafe { ffi::av_get_pix_fmt(c.as_ptr()) };
    (pix != ffi::AVPixelFormat::AV_PIX_FMT_NONE).then(|| ff::format::Pixel::from(pix))
}

/// Whether libavcodec has an encoder called `name`.
pub fn encoder_exists(name: &str) -> bool {
    crate::init();
    ff::encoder::find_by_name(name).is_some()
}

/// Seconds of `ts` in `tb`.
pub fn seconds(ts: i64, tb: Rational) -> f64 {
    if tb.denominator() == 0 {
        return 0.0;
    }
    ts as f64 * tb.numerator() as f64 / tb.denominator() as f64
}

/// The UUID x264 tags its own version-information SEI with. It describes the encoder that made
/// the source, not the output, so it is not passed through.
const X264_INFO_UUID: [u8; 16] = [
    0xdc, 0x45, 0xe9, 0xbd, 0xe6, 0xd9, 0x48, 0xb7, 0x96, 0x2c, 0xd8, 0x20, 0xd9, 0x23, 0xee, 0xef,
];

/// Side data on decoded frames that rdbench passes (or not) to encoders.
pub fn strip_side_data(frame: &mut ff::frame::Video, keep_passthrough: bool) {
    remove_side_data(frame, |kind, data| match kind {
        ffi::AVFrameSideDataType::AV_FRAME_DATA_SEI_UNREGISTERED => {
            !keep_passthrough || (data.len() >= 16 && data[..16] == X264_INFO_UUID)
        }
        ffi::AVFrameSideDataType::AV_FRAME_DATA_A53_CC
        | ffi::AVFrameSideDataType::AV_FRAME_DATA_MASTERING_DISPLAY_METADATA
        | ffi::AVFrameSideDataType::AV_FRAME_DATA_CONTENT_LIGHT_LEVEL => !keep_passthrough,
        _ => false,
    });
}

/// Takes every unregistered-SEI entry (UUID then payload) off `frame`, in order.
pub fn take_user_data(frame: &mut ff::frame::Video) -> Vec<Vec<u8>> {
    let mut taken = Vec::new();
    remove_side_data(frame, |kind, data| {
        let hit = kind == ffi::AVFrameSideDataType::AV_FRAME_DATA_SEI_UNREGISTERED;
        if hit {
            taken.push(data.to_vec());
        }
        hit
    });
    taken
}

/// The unregistered-SEI entries of `frame` (UUID then payload), left in place.
pub fn user_data(frame: &ff::frame::Video) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    // SAFETY: `ptr` is a valid AVFrame; its side_data array has nb_side_data valid entries, each
    // with `size` readable bytes at `data`.
    unsafe {
        let ptr = frame.as_ptr();
        for i in 0..(*ptr).nb_side_data as usize {
            let sd = *(*ptr).side_data.add(i);
            if (*sd).type_ == ffi::AVFrameSideDataType::AV_FRAME_DATA_SEI_UNREGISTERED {
                found.push(side_data_bytes(sd).to_vec());
            }
        }
    }
    found
}

/// Adds an unregistered-SEI entry (UUID then payload) to `frame`.
pub fn add_user_data(frame: &mut ff::frame::Video, bytes: &[u8]) {
    // SAFETY: av_frame_new_side_data allocates an entry of `bytes.len()` bytes owned by the
    // frame (or returns null when out of memory, and the entry is then not added); we copy
    // exactly that many bytes into it.
    unsafe {
        let sd = ffi::av_frame_new_side_data(
            frame.as_mut_ptr(),
            ffi::AVFrameSideDataType::AV_FRAME_DATA_SEI_UNREGISTERED,
            bytes.len() as _,
        );
        if !sd.is_null() && !bytes.is_empty() {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*sd).data, bytes.len());
        }
    }
}

/// The payload of one side-data entry.
///
/// # Safety
/// `sd` must point to a valid entry whose `data` holds `size` bytes, alive for the borrow.
unsafe fn side_data_bytes<'a>(sd: *const ffi::AVFrameSideData) -> &'a [u8] {
    // SAFETY: the caller's promise: `sd` is valid and `data` holds `size` bytes.
    unsafe {
        if (*sd).data.is_null() || (*sd).size == 0 {
            &[]
        } else {
            std::slice::from_raw_parts((*sd).data, (*sd).size as usize)
        }
    }
}

/// Removes the side-data entries of `frame` for which `drop(type, payload)` says so.
fn remove_side_data(
    frame: &mut ff::frame::Video,
    mut drop: impl FnMut(ffi::AVFrameSideDataType, &[u8]) -> bool,
) {
    // SAFETY: `ptr` is a valid AVFrame owned by `frame`; we walk its side_data array within
    // nb_side_data, and remove an entry by releasing what libavutil allocated for it (its buffer
    // reference, metadata and the entry itself) and shifting the later entries down. Removing
    // one entry (av_frame_remove_side_data would remove every entry of the type) is what
    // libavutil does internally. The payload slice is not used after the entry is freed.
    unsafe {
        let ptr = frame.as_mut_ptr();
        let mut i = 0;
        while i < (*ptr).nb_side_data as usize {
            let n = (*ptr).nb_side_data as usize;
            let sd = *(*ptr).side_data.add(i);
            if drop((*sd).type_, side_data_bytes(sd)) {
                let mut owned = sd;
                ffi::av_buffer_unref(&mut (*owned).buf);
                ffi::av_dict_free(&mut (*owned).metadata);
                ffi::av_freep(
                    &mut owned as *mut *mut ffi::AVFrameSideData as *mut std::ffi::c_void,
                );
                for j in i..n - 1 {
                    *(*ptr).side_data.add(j) = *(*ptr).side_data.add(j + 1);
                }
                (*ptr).nb_side_data -= 1;
            } else {
                i += 1;
            }
        }
    }
}

/// libavutil's `AVMasteringDisplayMetadata` (mastering_display_metadata.h, stable since FFmpeg 3;
/// the bindings do not include that header).
#[repr(C)]
struct MasteringDisplayMetadata {
    display_primaries: [[ffi::AVRational; 2]; 3],
    white_point: [ffi::AVRational; 2],
    min_luminance: ffi::AVRational,
    max_luminance: ffi::AVRational,
    has_primaries: std::os::raw::c_int,
    has_luminance: std::os::raw::c_int,
}

/// libavutil's `AVContentLightMetadata`.
#[repr(C)]
#[allow(non_snake_case)]
struct ContentLightMetadata {
    MaxCLL: std::os::raw::c_uint,
    MaxFALL: std::os::raw::c_uint,
}

/// HDR metadata found on a frame, in the units encoders' parameter strings use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HdrMetadata {
    /// Mastering display: G, B, R primaries and white point in 0.00002 units, max and min
    /// luminance in 0.0001 cd/m².
    pub mastering: Option<Mastering>,
    /// Content light level: MaxCLL and MaxFALL in cd/m².
    pub light_level: Option<(u32, u32)>,
}

/// Mastering display colour volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mastering {
    /// (x, y) of G, B, R in 0.00002 units.
    pub primaries: [(u32, u32); 3],
    /// White point (x, y) in 0.00002 units.
    pub white: (u32, u32),
    /// Max and min luminance in 0.0001 cd/m².
    pub luminance: (u32, u32),
}

impl HdrMetadata {
    /// Whether there is anything.
    pub fn is_empty(&self) -> bool {
        self.mastering.is_none() && self.light_level.is_none()
    }

    /// x265's `master-display` value: G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min).
    pub fn x265_master_display(&self) -> Option<String> {
        self.mastering.map(|m| {
            let [g, b, r] = m.primaries;
            format!(
                "G({},{})B({},{})R({},{})WP({},{})L({},{})",
                g.0, g.1, b.0, b.1, r.0, r.1, m.white.0, m.white.1, m.luminance.0, m.luminance.1
            )
        })
    }

    /// Reads HDR side data from a frame.
    pub fn from_frame(frame: &ff::frame::Video) -> HdrMetadata {
        let mut out = HdrMetadata::default();
        let q = |r: ffi::AVRational, unit: f64| -> u32 {
            if r.den == 0 {
                0
            } else {
                ((r.num as f64 / r.den as f64) * unit).round().max(0.0) as u32
            }
        };
        // SAFETY: av_frame_get_side_data returns null or a pointer to side data of the
        // requested type whose payload has that type's struct layout.
        unsafe {
            let ptr = frame.as_ptr();
            let sd = ffi::av_frame_get_side_data(
                ptr,
                ffi::AVFrameSideDataType::AV_FRAME_DATA_MASTERING_DISPLAY_METADATA,
            );
            if !sd.is_null() && (*sd).size >= std::mem::size_of::<MasteringDisplayMetadata>() {
                let m = &*((*sd).data as *const MasteringDisplayMetadata);
                if m.has_primaries != 0 && m.has_luminance != 0 {
                    // FFmpeg orders primaries R, G, B; x265 wants G, B, R.
                    let p = |i: usize| {
                        (
                            q(m.display_primaries[i][0], 50000.0),
                            q(m.display_primaries[i][1], 50000.0),
                        )
                    };
                    out.mastering = Some(Mastering {
                        primaries: [p(1), p(2), p(0)],
                        white: (q(m.white_point[0], 50000.0), q(m.white_point[1], 50000.0)),
                        luminance: (q(m.max_luminance, 10000.0), q(m.min_luminance, 10000.0)),
                    });
                }
            }
            let sd = ffi::av_frame_get_side_data(
                ptr,
                ffi::AVFrameSideDataType::AV_FRAME_DATA_CONTENT_LIGHT_LEVEL,
            );
            if !sd.is_null() && (*sd).size >= std::mem::size_of::<ContentLightMetadata>() {
                let c = &*((*sd).data as *const ContentLightMetadata);
                out.light_level = Some((c.MaxCLL, c.MaxFALL));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x265_master_display_string_is_exact() {
        let hdr = HdrMetadata {
            mastering: Some(Mastering {
                primaries: [(13250, 34500), (7500, 3000), (34000, 16000)],
                white: (15635, 16450),
                luminance: (10_000_000, 1),
            }),
            light_level: Some((1000, 400)),
        };
        assert_eq!(
            hdr.x265_master_display().unwrap(),
            "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
        );
    }
}
