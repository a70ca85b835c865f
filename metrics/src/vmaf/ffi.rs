//! The libvmaf 2.3.1 wrapper (vendored and statically linked by the `libvmaf-sys` crate): a safe,
//! streaming scorer that takes frame pairs as [`FrameView`]s and returns per-frame model scores and
//! per-frame values of any libvmaf feature. [`super::VmafScorer`] uses it for what rdbench does not
//! compute itself (extra features such as CAMBI or PSNR-HVS, pictures the native kernels do not
//! score exactly as libvmaf does) and the tests use it as the oracle of the native kernels.
//!
//! This is the only file of the crate with `unsafe` code: every call into libvmaf is wrapped here,
//! each `unsafe` block says why it is sound, and [`LibvmafScorer`] owns the libvmaf context and
//! models and releases them (and any picture libvmaf did not take) when dropped.
//!
//! Pictures are copied row by row into libvmaf's own buffers, honouring both the view's stride and
//! libvmaf's (which pads rows to 32 bytes). libvmaf sizes chroma planes by rounding down, so odd
//! luma sizes copy the first `w >> 1` chroma samples of each row.

#![allow(unsafe_code)]

use super::{Format, VmafConfig, VmafError, VmafModelVersion, VmafPath, VmafResult};
use crate::frame::{ChromaSampling, FrameView, Sample};
use libvmaf_sys as sys;
use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::ptr::NonNull;
/// libvmaf feature extractors that can be requested by name, with the per-frame values each one
/// writes: (name in libvmaf's collector, name rdbench reports, which is the `vmaf` tool's).
const FEATURES: &[(&str, &[(&str, &str)])] = &[
    (
        "psnr",
        &[
            ("psnr_y", "psnr_y"),
            ("psnr_cb", "psnr_cb"),
            ("psnr_cr", "psnr_cr"),
        ],
    ),
    ("float_ssim", &[("float_ssim", "float_ssim")]),
    ("float_ms_ssim", &[("float_ms_ssim", "float_ms_ssim")]),
    (
        "psnr_hvs",
        &[
            ("psnr_hvs_y", "psnr_hvs_y"),
            ("psnr_hvs_cb", "psnr_hvs_cb"),
            ("psnr_hvs_cr", "psnr_hvs_cr"),
            ("psnr_hvs", "psnr_hvs"),
        ],
    ),
    ("ciede", &[("ciede2000", "ciede2000")]),
    ("cambi", &[("cambi", "cambi")]),
    (
        "adm",
        &[
            ("VMAF_integer_feature_adm2_score", "integer_adm2"),
            ("integer_adm_scale0", "integer_adm_scale0"),
            ("integer_adm_scale1", "integer_adm_scale1"),
            ("integer_adm_scale2", "integer_adm_scale2"),
            ("integer_adm_scale3", "integer_adm_scale3"),
            // With the gain limit `vmaf_v0.6.1neg` sets, libvmaf names them with a suffix.
            ("integer_adm2_egl_1", "integer_adm2_egl_1"),
            ("integer_adm_scale0_egl_1", "integer_adm_scale0_egl_1"),
            ("integer_adm_scale1_egl_1", "integer_adm_scale1_egl_1"),
            ("integer_adm_scale2_egl_1", "integer_adm_scale2_egl_1"),
            ("integer_adm_scale3_egl_1", "integer_adm_scale3_egl_1"),
        ],
    ),
    (
        "motion",
        &[
            ("VMAF_integer_feature_motion_score", "integer_motion"),
            ("VMAF_integer_feature_motion2_score", "integer_motion2"),
        ],
    ),
    (
        "vif",
        &[
            (
                "VMAF_integer_feature_vif_scale0_score",
                "integer_vif_scale0",
            ),
            (
                "VMAF_integer_feature_vif_scale1_score",
                "integer_vif_scale1",
            ),
            (
                "VMAF_integer_feature_vif_scale2_score",
                "integer_vif_scale2",
            ),
            (
                "VMAF_integer_feature_vif_scale3_score",
                "integer_vif_scale3",
            ),
        ],
    ),
];

/// The neg model's features, computed by libvmaf's ADM and VIF extractors with an enhancement
/// gain limit of 1: libvmaf names outputs of extractors with non-default options after those
/// options, and the `vmaf` tool prints them under the same names.
const NEG_MODEL_FEATURES: &[(&str, &str)] = &[
    ("integer_adm2_egl_1", "integer_adm2_egl_1"),
    ("integer_vif_scale0_egl_1", "integer_vif_scale0_egl_1"),
    ("integer_vif_scale1_egl_1", "integer_vif_scale1_egl_1"),
    ("integer_vif_scale2_egl_1", "integer_vif_scale2_egl_1"),
    ("integer_vif_scale3_egl_1", "integer_vif_scale3_egl_1"),
];

/// Names of the feature extractors [`VmafConfig::features`] accepts.
pub fn known_features() -> impl Iterator<Item = &'static str> {
    FEATURES.iter().map(|(name, _)| *name)
}

/// A libvmaf model owned by the scorer.
struct LoadedModel {
    name: String,
    ptr: NonNull<sys::VmafModel>,
}

/// Streaming VMAF through libvmaf: create with [`LibvmafScorer::new`], [`push`](LibvmafScorer::push)
/// frame pairs in display order, then [`finish`](LibvmafScorer::finish).
pub struct LibvmafScorer {
    ctx: NonNull<sys::VmafContext>,
    models: Vec<LoadedModel>,
    /// (collector name, reported name) of every feature value to collect.
    features: Vec<(&'static str, &'static str)>,
    n_subsample: u32,
    frames: u32,
    format: Option<Format>,
    /// libvmaf worker threads (0: extraction runs inside `push`).
    n_threads: u32,
    /// Frames known to be fully extracted (every frame below this index).
    completed: u32,
    /// Per-frame outputs whose presence shows a frame was extracted (one per frame-local
    /// extractor in use).
    probes: Vec<CString>,
    /// Why this scorer runs rather than rdbench's own kernels.
    path: VmafPath,
    /// Keeps unit tests that change libvmaf's process-wide CPU mask apart from the others.
    #[cfg(test)]
    _flags: flags_lock::Guard,
}

/// A readers-writer lock over libvmaf's process-wide CPU mask for the unit tests, which run on
/// parallel threads of one process: scorers with a non-zero mask run alone; the others share.
/// Readers may nest (no writer preference), and a guard may be dropped on any thread.
#[cfg(test)]
mod flags_lock {
    use std::sync::{Condvar, Mutex};

    /// (live readers, a writer is live)
    static STATE: Mutex<(u32, bool)> = Mutex::new((0, false));
    static CHANGED: Condvar = Condvar::new();

    pub(super) struct Guard {
        writer: bool,
    }

    pub(super) fn acquire(writer: bool) -> Guard {
        let mut s = STATE.lock().unwrap();
        while s.1 || (writer && s.0 > 0) {
            s = CHANGED.wait(s).unwrap();
        }
        if writer {
            s.1 = true;
        } else {
            s.0 += 1;
        }
        Guard { writer }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let mut s = STATE.lock().unwrap();
            if self.writer {
                s.1 = false;
            } else {
                s.0 -= 1;
            }
            CHANGED.notify_all();
        }
    }
}

/// Opens a libvmaf context.
fn open(cfg: sys::VmafConfiguration) -> Result<NonNull<sys::VmafContext>, VmafError> {
    let mut ctx: *mut sys::VmafContext = std::ptr::null_mut();
    // SAFETY: `ctx` is a valid out-pointer; `cfg` is passed by value.
    let code = unsafe { sys::vmaf_init(&mut ctx, cfg) };
    match NonNull::new(ctx) {
        Some(ctx) if code == 0 => Ok(ctx),
        _ => Err(VmafError::Libvmaf {
            call: "vmaf_init",
            code,
        }),
    }
}

/// Frames libvmaf's workers may hold beyond their count before `push` waits: its thread pool
/// queues picture pairs without limit, which at 4K costs 24 MB a pair.
fn max_in_flight(n_threads: u32) -> u32 {
    2 * n_threads + 2
}

impl std::fmt::Debug for LibvmafScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibvmafScorer")
            .field(
                "models",
                &self.models.iter().map(|m| &m.name).collect::<Vec<_>>(),
            )
            .field("frames", &self.frames)
            .finish()
    }
}

// SAFETY: the context and models are heap objects owned exclusively by this value and never shared;
// libvmaf keeps no thread-local state tied to the creating thread (its worker pool is internal and
// joined by `vmaf_close`), so moving the owner to another thread is sound. `&VmafScorer` exposes no
// libvmaf call, so no `Sync` is claimed.
unsafe impl Send for LibvmafScorer {}

impl LibvmafScorer {
    /// Creates a libvmaf context, loads the models and registers the features; `path` is what
    /// the result will say about why libvmaf scored the run.
    pub fn new(config: &VmafConfig, path: VmafPath) -> Result<Self, VmafError> {
        #[cfg(test)]
        let flags_guard = flags_lock::acquire(config.cpumask != 0);
        let mut features = Vec::new();
        for name in &config.features {
            let (_, outputs) = FEATURES.iter().find(|(n, _)| n == name).ok_or_else(|| {
                VmafError::UnknownFeature {
                    name: name.clone(),
                    known: known_features().collect::<Vec<_>>().join(", "),
                }
            })?;
            features.extend(outputs.iter().copied());
        }
        if !config.models.is_empty() {
            for extractor in ["adm", "motion", "vif"] {
                let (_, outputs) = FEATURES
                    .iter()
                    .find(|(n, _)| *n == extractor)
                    .expect("listed");
                features.extend(outputs.iter().copied());
            }
        }
        if config.models.contains(&VmafModelVersion::V0_6_1Neg) {
            features.extend(NEG_MODEL_FEATURES.iter().copied());
        }
        features.sort_unstable();
        features.dedup();

        let n_threads = config.n_threads;
        let cfg = sys::VmafConfiguration {
            log_level: sys::VmafLogLevel::VMAF_LOG_LEVEL_NONE,
            n_threads,
            n_subsample: config.n_subsample.max(1),
            cpumask: config.cpumask,
        };
        let ctx = open(cfg)?;
        // From here on, `Drop` releases the context and whatever models were loaded.
        // ADM and VIF are computed from one frame pair each; their outputs appear when that pair
        // is done. (Motion depends on neighbouring frames, so it is not a probe.)
        let probes: Vec<CString> = features
            .iter()
            .map(|(collector, _)| *collector)
            .filter(|c| {
                *c == "VMAF_integer_feature_adm2_score"
                    || *c == "VMAF_integer_feature_vif_scale3_score"
            })
            .map(|c| CString::new(c).expect("feature names have no NUL"))
            .collect();
        let mut scorer = Self {
            ctx,
            models: Vec::new(),
            features,
            n_subsample: config.n_subsample.max(1),
            frames: 0,
            format: None,
            n_threads,
            completed: 0,
            probes,
            path,
            #[cfg(test)]
            _flags: flags_guard,
        };

        for version in &config.models {
            let name = version.name();
            let c_name = CString::new(name).expect("model names have no NUL");
            let mut model_cfg = sys::VmafModelConfig {
                name: c_name.as_ptr(),
                flags: sys::VmafModelFlags::VMAF_MODEL_FLAGS_DEFAULT as u64,
            };
            let mut model: *mut sys::VmafModel = std::ptr::null_mut();
            // SAFETY: out-pointer and config are valid for the call; libvmaf copies the name.
            let code = unsafe { sys::vmaf_model_load(&mut model, &mut model_cfg, c_name.as_ptr()) };
            let ptr = match NonNull::new(model) {
                Some(ptr) if code == 0 => ptr,
                _ => {
                    return Err(VmafError::ModelNotFound {
                        version: name.to_string(),
                        code: Some(code),
                    })
                }
            };
            scorer.models.push(LoadedModel {
                name: name.to_string(),
                ptr,
            });
        }
        scorer.register(&config.features)?;
        Ok(scorer)
    }

    /// Registers libvmaf's extractors for the models and the explicit `features`.
    fn register(&mut self, features: &[String]) -> Result<(), VmafError> {
        let ctx = self.ctx.as_ptr();
        for m in &self.models {
            // SAFETY: both pointers are live objects owned by `self`.
            let code = unsafe { sys::vmaf_use_features_from_model(ctx, m.ptr.as_ptr()) };
            if code != 0 {
                return Err(VmafError::Libvmaf {
                    call: "vmaf_use_features_from_model",
                    code,
                });
            }
        }
        for name in features {
            let c_name = CString::new(name.as_str()).expect("feature names have no NUL");
            // SAFETY: live context, NUL-terminated name, no options dictionary.
            let code = unsafe { sys::vmaf_use_feature(ctx, c_name.as_ptr(), std::ptr::null_mut()) };
            if code != 0 {
                return Err(VmafError::Libvmaf {
                    call: "vmaf_use_feature",
                    code,
                });
            }
        }
        Ok(())
    }

    /// Scores the next frame pair (reference, distorted).
    pub fn push<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<(), VmafError> {
        self.format = Some(Format::check_pair(
            self.format,
            self.frames,
            reference,
            distorted,
        )?);
        let mut pic_ref = Picture::new(reference)?;
        let mut pic_dist = Picture::new(distorted)?;
        // SAFETY: the context is live; both pictures were allocated by libvmaf and filled. On
        // success libvmaf takes them (unrefs them and zeroes the structs); on failure they stay
        // ours and `Picture::drop` releases them.
        let code = unsafe {
            sys::vmaf_read_pictures(
                self.ctx.as_ptr(),
                &mut pic_ref.0,
                &mut pic_dist.0,
                self.frames,
            )
        };
        if code != 0 {
            return Err(VmafError::Libvmaf {
                call: "vmaf_read_pictures",
                code,
            });
        }
        self.frames += 1;
        self.wait_for_backlog();
        Ok(())
    }

    /// With worker threads, waits until no more than [`max_in_flight`] pushed frames are still
    /// being extracted, so memory stays bounded whatever the resolution.
    fn wait_for_backlog(&mut self) {
        if self.n_threads == 0 || self.probes.is_empty() {
            return;
        }
        let limit = max_in_flight(self.n_threads);
        while self.frames > self.completed + limit {
            let i = self.completed;
            let done = i % self.n_subsample != 0
                || self.probes.iter().all(|name| {
                    let mut s = 0f64;
                    // SAFETY: live context, NUL-terminated name, valid out-pointer; libvmaf's
                    // feature collector is locked internally against its workers.
                    unsafe {
                        sys::vmaf_feature_score_at_index(
                            self.ctx.as_ptr(),
                            name.as_ptr(),
                            &mut s,
                            i,
                        ) == 0
                    }
                });
            if done {
                self.completed += 1;
            } else {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
    }

    /// Pushed frames whose extraction may still be running (bounded by `2 * n_threads + 2`).
    pub fn in_flight(&self) -> u32 {
        if self.n_threads == 0 {
            // Without workers libvmaf extracts each pair inside `push`.
            return 0;
        }
        self.frames - self.completed
    }

    /// Why libvmaf scores the run (or which extra features it computes).
    pub fn path(&self) -> &VmafPath {
        &self.path
    }

    /// Frame pairs pushed so far.
    pub fn frames_pushed(&self) -> u32 {
        self.frames
    }

    /// Flushes libvmaf and collects the per-frame scores.
    pub fn finish(self) -> Result<VmafResult, VmafError> {
        if self.frames == 0 {
            return Err(VmafError::NoFrames);
        }
        // SAFETY: live context; null pictures ask libvmaf to flush (run pending extractors).
        let code = unsafe {
            sys::vmaf_read_pictures(
                self.ctx.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        if code != 0 {
            return Err(VmafError::Libvmaf {
                call: "vmaf_read_pictures (flush)",
                code,
            });
        }
        let n_sub = self.n_subsample;
        let frame_indices: Vec<u32> = (0..self.frames).filter(|i| i % n_sub == 0).collect();

        let mut models = BTreeMap::new();
        for m in &self.models {
            let mut scores = Vec::with_capacity(frame_indices.len());
            for &i in &frame_indices {
                let mut s = 0f64;
                // SAFETY: live context and model; `s` is a valid out-pointer.
                let code = unsafe {
                    sys::vmaf_score_at_index(self.ctx.as_ptr(), m.ptr.as_ptr(), &mut s, i)
                };
                if code != 0 {
                    return Err(VmafError::MissingScore {
                        name: m.name.clone(),
                        frame: i,
                        code,
                    });
                }
                scores.push(s);
            }
            models.insert(m.name.clone(), scores);
        }

        let mut features = BTreeMap::new();
        for &(collector, reported) in &self.features {
            let c_name = CString::new(collector).expect("feature names have no NUL");
            let mut values = Vec::with_capacity(frame_indices.len());
            for &i in &frame_indices {
                let mut s = 0f64;
                // SAFETY: live context, NUL-terminated name, valid out-pointer.
                let code = unsafe {
                    sys::vmaf_feature_score_at_index(self.ctx.as_ptr(), c_name.as_ptr(), &mut s, i)
                };
                if code != 0 {
                    break;
                }
                values.push(s);
            }
            // Extractors write only some of their possible outputs (options, debug values): keep
            // the names libvmaf wrote for every scored frame.
            if values.len() == frame_indices.len() {
                features.insert(reported.to_string(), values);
            }
        }

        let per_frame = self
            .models
            .first()
            .map(|m| models[&m.name].clone())
            .unwrap_or_default();
        Ok(VmafResult {
            frame_indices,
            per_frame,
            models,
            features,
            frames_pushed: self.frames,
            path: self.path.clone(),
        })
    }
}

impl Drop for LibvmafScorer {
    fn drop(&mut self) {
        // SAFETY: the context was created by `vmaf_init` and is closed exactly once, here; closing
        // joins libvmaf's workers before the models it may still read are destroyed.
        unsafe {
            sys::vmaf_close(self.ctx.as_ptr());
        }
        for m in self.models.drain(..) {
            // SAFETY: each model was loaded by `vmaf_model_load` and is destroyed exactly once.
            unsafe { sys::vmaf_model_destroy(m.ptr.as_ptr()) };
        }
    }
}

/// A libvmaf picture; released on drop unless libvmaf took it.
struct Picture(sys::VmafPicture);

impl Picture {
    /// Allocates a libvmaf picture and copies `view` into it, honouring both strides.
    fn new<T: Sample>(view: &FrameView<'_, T>) -> Result<Self, VmafError> {
        let fmt = match view.sampling() {
            ChromaSampling::Cs420 => sys::VmafPixelFormat::VMAF_PIX_FMT_YUV420P,
            ChromaSampling::Cs422 => sys::VmafPixelFormat::VMAF_PIX_FMT_YUV422P,
            ChromaSampling::Cs444 => sys::VmafPixelFormat::VMAF_PIX_FMT_YUV444P,
        };
        // SAFETY: an all-zero VmafPicture is a valid "empty" picture (null pointers, zero sizes).
        let mut pic = Picture(unsafe { std::mem::zeroed() });
        // SAFETY: `pic.0` is a valid out-pointer; libvmaf fills it and allocates its buffer.
        let code = unsafe {
            sys::vmaf_picture_alloc(
                &mut pic.0,
                fmt,
                view.bit_depth() as u32,
                view.width() as u32,
                view.height() as u32,
            )
        };
        if code != 0 {
            return Err(VmafError::Libvmaf {
                call: "vmaf_picture_alloc",
                code,
            });
        }
        let bytes = std::mem::size_of::<T>();
        for p in 0..3 {
            let plane = view.plane(p);
            let (w, h) = (pic.0.w[p] as usize, pic.0.h[p] as usize);
            let stride = pic.0.stride[p] as usize;
            // libvmaf's planes are never larger than the view's (it rounds chroma sizes down).
            let (w, h) = (w.min(plane.width()), h.min(plane.height()));
            assert!(
                stride >= w * bytes,
                "libvmaf stride {stride} below row size"
            );
            let base = pic.0.data[p] as *mut u8;
            for y in 0..h {
                let src = &plane.row(y)[..w];
                // SAFETY: libvmaf allocated `h[p]` rows of `stride[p]` bytes for plane `p`,
                // suitably aligned for `T` (32-byte alignment, even strides); row `y < h[p]`
                // starts `y * stride` bytes in and holds at least `w * size_of::<T>()` bytes, and
                // the destination does not overlap the source view.
                let dst =
                    unsafe { std::slice::from_raw_parts_mut(base.add(y * stride) as *mut T, w) };
                dst.copy_from_slice(src);
            }
        }
        Ok(pic)
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        if !self.0.ref_.is_null() {
            // SAFETY: the picture still holds its reference (libvmaf zeroes pictures it takes), so
            // this releases the buffer `vmaf_picture_alloc` created, exactly once.
            unsafe {
                sys::vmaf_picture_unref(&mut self.0);
            }
        }
    }
}

/// libvmaf's version string (2.3.1 for the vendored library).
pub fn libvmaf_version() -> String {
    // SAFETY: libvmaf returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::vmaf_version()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_reports_its_version() {
        assert_eq!(libvmaf_version(), "2.3.1");
    }
}
