//! VMAF through libvmaf 2.3.1 (vendored and statically linked by the `libvmaf-sys` crate): a safe,
//! streaming scorer that takes frame pairs as [`FrameView`]s and returns per-frame model scores and
//! per-frame values of any extra libvmaf feature.
//!
//! This is the only module of the crate with `unsafe` code: every call into libvmaf is wrapped here,
//! each `unsafe` block says why it is sound, and [`VmafScorer`] owns the libvmaf context and models
//! and releases them (and any picture libvmaf did not take) when dropped.
//!
//! Pictures are copied row by row into libvmaf's own buffers, honouring both the view's stride and
//! libvmaf's (which pads rows to 32 bytes). libvmaf sizes chroma planes by rounding down, so odd
//! luma sizes copy the first `w >> 1` chroma samples of each row.

#![allow(unsafe_code)]

use crate::frame::{ChromaSampling, FrameView, Sample};
use crate::pool::Pooled;
use crate::vif::{LumaPair, Vif, VifScale, VifWorkers};
use libvmaf_sys as sys;
use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use thiserror::Error;

/// A VMAF model built into libvmaf, loaded by its version name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum VmafModelVersion {
    /// `vmaf_v0.6.1`: the default model, for 1080p viewing.
    V0_6_1,
    /// `vmaf_v0.6.1neg`: the "no enhancement gain" variant.
    V0_6_1Neg,
    /// `vmaf_4k_v0.6.1`: for 4K viewing.
    V4k0_6_1,
}

impl VmafModelVersion {
    /// All built-in models this wrapper names.
    pub const ALL: [VmafModelVersion; 3] = [Self::V0_6_1, Self::V0_6_1Neg, Self::V4k0_6_1];

    /// libvmaf's version string, also the key of the model's scores in [`VmafResult::models`].
    pub fn name(self) -> &'static str {
        match self {
            Self::V0_6_1 => "vmaf_v0.6.1",
            Self::V0_6_1Neg => "vmaf_v0.6.1neg",
            Self::V4k0_6_1 => "vmaf_4k_v0.6.1",
        }
    }
}

impl std::str::FromStr for VmafModelVersion {
    type Err = VmafError;

    fn from_str(s: &str) -> Result<Self, VmafError> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| VmafError::ModelNotFound {
                version: s.to_string(),
                code: None,
            })
    }
}

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

/// What to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmafConfig {
    /// Models to predict with; the first one's scores are [`VmafResult::per_frame`]. May be empty
    /// to extract features only.
    pub models: Vec<VmafModelVersion>,
    /// Extra feature extractors by libvmaf name (`psnr`, `float_ssim`, `float_ms_ssim`, `cambi`,
    /// `ciede`, `psnr_hvs`, ...; see [`known_features`]).
    pub features: Vec<String>,
    /// Threads that extract features. 0: every extractor runs on the calling thread. Otherwise
    /// libvmaf's extractors run on `n_threads` workers of libvmaf's, except when rdbench's VIF
    /// kernel is in use (see [`native_vif`](Self::native_vif)): then with 1 thread VIF and
    /// libvmaf's extractors all run on the calling thread, and from 2 up `n_threads / 2` threads
    /// compute VIF and libvmaf's workers are the rest.
    pub n_threads: u32,
    /// Score every Nth frame (frames 0, N, 2N, ...); 0 and 1 both mean every frame.
    pub n_subsample: u32,
    /// Compute the models' VIF features with rdbench's kernel ([`crate::vif`]), whose scores equal
    /// libvmaf's, where that equality holds: 8-, 10- and 12-bit pictures at least 16 pixels wide
    /// and a multiple of 16 (libvmaf's AVX2 VIF departs from its C code on other widths), models with
    /// default VIF options (`vmaf_v0.6.1`, `vmaf_4k_v0.6.1`), and no explicit `vif` feature.
    /// Elsewhere libvmaf's extractor runs. On by default.
    pub native_vif: bool,
    /// libvmaf's CPU mask: instruction-set flags libvmaf must not use (0: use all it has).
    /// libvmaf keeps the mask in one process-wide variable, read when its extractors start, so
    /// scorers with different masks must not run at the same time.
    pub cpumask: u64,
}

impl Default for VmafConfig {
    fn default() -> Self {
        Self {
            models: vec![VmafModelVersion::V0_6_1],
            features: Vec::new(),
            n_threads: 0,
            n_subsample: 1,
            native_vif: true,
            cpumask: 0,
        }
    }
}

/// Scores of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct VmafResult {
    /// Source frame index of each scored frame (every frame, or every Nth with subsampling).
    pub frame_indices: Vec<u32>,
    /// Per-frame scores of the first model (empty when no model was requested).
    pub per_frame: Vec<f64>,
    /// Per-frame scores of every model, by model name.
    pub models: BTreeMap<String, Vec<f64>>,
    /// Per-frame values of the requested features (and of the model's own features), by the name
    /// libvmaf's `vmaf` tool prints them under (`psnr_y`, `float_ssim`, `integer_adm2`, ...).
    pub features: BTreeMap<String, Vec<f64>>,
    /// Frame pairs pushed.
    pub frames_pushed: u32,
}

impl VmafResult {
    /// Pooled statistics of [`per_frame`](Self::per_frame); `None` without a model.
    pub fn pooled(&self) -> Option<Pooled> {
        Pooled::from_series(&self.per_frame)
    }
}

/// Why VMAF scoring failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VmafError {
    /// The model version is not built into libvmaf.
    #[error("VMAF model {version:?} not found (built in: vmaf_v0.6.1, vmaf_v0.6.1neg, vmaf_4k_v0.6.1){}",
        code.map(|c| format!("; libvmaf error {c}")).unwrap_or_default())]
    ModelNotFound {
        /// The version asked for.
        version: String,
        /// libvmaf's return code, when libvmaf was asked.
        code: Option<i32>,
    },
    /// The feature extractor name is unknown.
    #[error("unknown libvmaf feature {name:?} (known: {known})")]
    UnknownFeature {
        /// The name asked for.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// A libvmaf call failed.
    #[error("libvmaf {call} failed with error {code} ({})", errno_name(*.code))]
    Libvmaf {
        /// The libvmaf function.
        call: &'static str,
        /// Its negative errno return code.
        code: i32,
    },
    /// libvmaf reads 8-, 10-, 12- and 16-bit pictures only.
    #[error("libvmaf cannot read {bit_depth}-bit pictures (8, 10, 12 or 16 bits)")]
    UnsupportedBitDepth {
        /// The bit depth given.
        bit_depth: u8,
    },
    /// Reference and distorted pictures of a pair differ in format.
    #[error("frame {frame}: reference is {reference}, distorted is {distorted}")]
    PairMismatch {
        /// Zero-based frame index.
        frame: u32,
        /// Reference format (size, bit depth, sampling).
        reference: String,
        /// Distorted format.
        distorted: String,
    },
    /// A frame's format differs from the first frame's.
    #[error("frame {frame} is {got}, earlier frames were {expected}")]
    FormatChanged {
        /// Zero-based frame index.
        frame: u32,
        /// The first frame's format.
        expected: String,
        /// This frame's format.
        got: String,
    },
    /// A thread computing VIF stopped early.
    #[error(transparent)]
    VifWorker(#[from] crate::vif::WorkerLost),
    /// `finish` was called before any frame was pushed.
    #[error("no frames were scored")]
    NoFrames,
    /// libvmaf has no score for a model at a frame it should have scored.
    #[error("libvmaf has no {name} score for frame {frame} (error {code})")]
    MissingScore {
        /// Model or feature name.
        name: String,
        /// Zero-based frame index.
        frame: u32,
        /// libvmaf's return code.
        code: i32,
    },
}

fn errno_name(code: i32) -> &'static str {
    match -code {
        1 => "EPERM",
        2 => "ENOENT",
        12 => "ENOMEM",
        22 => "EINVAL",
        _ => "see errno",
    }
}

/// Picture format of a frame: luma size, bit depth, chroma sampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Format {
    w: usize,
    h: usize,
    bit_depth: u8,
    sampling: ChromaSampling,
}

impl Format {
    fn of<T: Sample>(v: &FrameView<'_, T>) -> Self {
        Self {
            w: v.width(),
            h: v.height(),
            bit_depth: v.bit_depth(),
            sampling: v.sampling(),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self.sampling {
            ChromaSampling::Cs420 => "4:2:0",
            ChromaSampling::Cs422 => "4:2:2",
            ChromaSampling::Cs444 => "4:4:4",
        };
        write!(f, "{}x{} {}-bit {}", self.w, self.h, self.bit_depth, s)
    }
}

/// A libvmaf model owned by the scorer.
struct LoadedModel {
    name: String,
    ptr: NonNull<sys::VmafModel>,
}

/// Streaming VMAF: create with [`VmafScorer::new`], [`push`](VmafScorer::push) frame pairs in
/// display order, then [`finish`](VmafScorer::finish).
pub struct VmafScorer {
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
    /// Whether libvmaf's extractors have been registered (at the first frame, once its format
    /// tells whether rdbench's VIF kernel applies).
    registered: bool,
    /// The configuration's explicit feature extractors.
    extra: Vec<String>,
    /// rdbench's VIF kernel: `Some` when the models allow it; used if the first frame does.
    vif: Option<Vif>,
    /// Whether the VIF kernel scores this run.
    vif_active: bool,
    /// The VIF kernel's threads, with two or more `n_threads` (else it runs in `push`).
    vif_workers: Option<VifWorkers>,
    /// The configuration the context was opened with.
    cfg: sys::VmafConfiguration,
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

/// The luma planes rdbench's VIF kernel scores, for the bit depths where its scores are checked
/// equal to libvmaf's (8, 10 and 12 bits).
fn luma_pair<'a, T: Sample>(
    reference: &FrameView<'a, T>,
    distorted: &FrameView<'a, T>,
    bit_depth: u8,
) -> Option<LumaPair<'a>> {
    let (r, d) = (reference.luma(), distorted.luma());
    match bit_depth {
        8 => Some(LumaPair::Bits8(T::as_u8_plane(r)?, T::as_u8_plane(d)?)),
        10 | 12 => Some(LumaPair::High(
            T::as_u16_plane(r)?,
            T::as_u16_plane(d)?,
            bit_depth,
        )),
        _ => None,
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

/// The collector names of the four VIF scales, as the models read them.
const VIF_NAMES: [&CStr; 4] = [
    c"VMAF_integer_feature_vif_scale0_score",
    c"VMAF_integer_feature_vif_scale1_score",
    c"VMAF_integer_feature_vif_scale2_score",
    c"VMAF_integer_feature_vif_scale3_score",
];

/// Frames libvmaf's workers may hold beyond their count before `push` waits: its thread pool
/// queues picture pairs without limit, which at 4K costs 24 MB a pair.
fn max_in_flight(n_threads: u32) -> u32 {
    2 * n_threads + 2
}

impl std::fmt::Debug for VmafScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VmafScorer")
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
unsafe impl Send for VmafScorer {}

impl VmafScorer {
    /// Creates a libvmaf context, loads the models and registers the features.
    pub fn new(config: VmafConfig) -> Result<Self, VmafError> {
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

        // rdbench's VIF kernel can stand in for libvmaf's when every model runs VIF with default
        // options and nobody asked for libvmaf's own `vif` outputs.
        let vif = (config.native_vif
            && !config.models.is_empty()
            && config
                .models
                .iter()
                .all(|m| matches!(m, VmafModelVersion::V0_6_1 | VmafModelVersion::V4k0_6_1))
            && !config.features.iter().any(|f| f == "vif"))
        .then(Vif::default);
        // libvmaf starts with every thread; if the first frame lets the VIF kernel run, the
        // context is opened again with the threads VIF does not take.
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
            registered: false,
            extra: config.features.clone(),
            vif,
            vif_active: false,
            vif_workers: None,
            cfg,
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
        Ok(scorer)
    }

    /// Registers libvmaf's extractors for the models and the explicit features. With rdbench's
    /// VIF kernel in use, the models' ADM and motion extractors are registered by name (the same
    /// extractors, with the same default options, that the models would register) and VIF is
    /// left out.
    fn register(&mut self, vif_active: bool) -> Result<(), VmafError> {
        let all = self.cfg.n_threads;
        if vif_active && all >= 2 {
            // VIF takes half of the threads; libvmaf's workers are the others.
            let vif_threads = all / 2;
            self.reopen(all - vif_threads)?;
            // VIF's own queue bounds the frames it holds; its scores arrive late, so they
            // cannot show libvmaf's progress.
            self.probes.retain(|p| p.as_c_str() != VIF_NAMES[3]);
            // Without any thread of its own, VIF runs in `push`.
            self.vif_workers =
                VifWorkers::new(vif_threads as usize, crate::vif::DEFAULT_GAIN_LIMIT);
        } else if vif_active && all == 1 {
            // One thread: libvmaf's extractors and VIF both run on the calling thread.
            self.reopen(0)?;
        }
        let ctx = self.ctx.as_ptr();
        let by_name = |name: &str, call: &'static str| -> Result<(), VmafError> {
            let c_name = CString::new(name).expect("feature names have no NUL");
            // SAFETY: live context, NUL-terminated name, no options dictionary.
            let code = unsafe { sys::vmaf_use_feature(ctx, c_name.as_ptr(), std::ptr::null_mut()) };
            if code != 0 {
                return Err(VmafError::Libvmaf { call, code });
            }
            Ok(())
        };
        if vif_active {
            by_name("adm", "vmaf_use_feature")?;
            by_name("motion", "vmaf_use_feature")?;
        } else {
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
        }
        for name in &self.extra {
            by_name(name, "vmaf_use_feature")?;
        }
        self.registered = true;
        self.vif_active = vif_active;
        Ok(())
    }

    /// Scores the next frame pair (reference, distorted).
    pub fn push<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<(), VmafError> {
        let (rf, df) = (Format::of(reference), Format::of(distorted));
        if rf != df {
            return Err(VmafError::PairMismatch {
                frame: self.frames,
                reference: rf.to_string(),
                distorted: df.to_string(),
            });
        }
        match self.format {
            Some(f) if f != rf => {
                return Err(VmafError::FormatChanged {
                    frame: self.frames,
                    expected: f.to_string(),
                    got: rf.to_string(),
                })
            }
            _ => {}
        }
        if ![8, 10, 12, 16].contains(&rf.bit_depth) {
            return Err(VmafError::UnsupportedBitDepth {
                bit_depth: rf.bit_depth,
            });
        }
        self.format = Some(rf);
        if !self.registered {
            let vif_active = self.vif.is_some()
                && luma_pair(reference, distorted, rf.bit_depth).is_some()
                && rf.w % 16 == 0
                && Vif::supports(rf.w, rf.h);
            self.register(vif_active)?;
        }
        if self.vif_active && self.frames % self.n_subsample == 0 {
            let vif = self.vif.as_mut().expect("active VIF kernel");
            let Some(pair) = luma_pair(reference, distorted, rf.bit_depth) else {
                unreachable!("the format, checked at the first frame, does not change")
            };
            if let Some(workers) = self.vif_workers.as_mut() {
                for (i, scales) in workers.submit(self.frames, &pair)? {
                    self.import_vif(i, &scales)?;
                }
            } else {
                let scales = vif.score(&pair);
                self.import_vif(self.frames, &scales)?;
            }
        }

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

    /// Replaces the context, which has read no frame and registered no extractor yet, with one
    /// that has `n_threads` workers.
    fn reopen(&mut self, n_threads: u32) -> Result<(), VmafError> {
        let cfg = sys::VmafConfiguration {
            n_threads,
            ..self.cfg
        };
        let ctx = open(cfg)?;
        // SAFETY: the old context read no pictures and registered no extractors; it is closed
        // once, here, and replaced.
        unsafe { sys::vmaf_close(self.ctx.as_ptr()) };
        self.ctx = ctx;
        self.cfg = cfg;
        self.n_threads = n_threads;
        Ok(())
    }

    /// Hands libvmaf the VIF kernel's scores of frame `index`.
    fn import_vif(&mut self, index: u32, scales: &[VifScale; 4]) -> Result<(), VmafError> {
        for (name, s) in VIF_NAMES.iter().zip(scales) {
            // SAFETY: live context, NUL-terminated name; the collector is locked internally
            // against libvmaf's workers.
            let code = unsafe {
                sys::vmaf_import_feature_score(self.ctx.as_ptr(), name.as_ptr(), s.score(), index)
            };
            if code != 0 {
                return Err(VmafError::Libvmaf {
                    call: "vmaf_import_feature_score",
                    code,
                });
            }
        }
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

    /// Whether rdbench's VIF kernel scores this run (decided at the first frame).
    pub fn native_vif_active(&self) -> bool {
        self.vif_active
    }

    /// Frame pairs pushed so far.
    pub fn frames_pushed(&self) -> u32 {
        self.frames
    }

    /// Flushes libvmaf and collects the per-frame scores.
    pub fn finish(mut self) -> Result<VmafResult, VmafError> {
        if self.frames == 0 {
            return Err(VmafError::NoFrames);
        }
        if let Some(workers) = self.vif_workers.take() {
            for (i, scales) in workers.finish()? {
                self.import_vif(i, &scales)?;
            }
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
        })
    }
}

impl Drop for VmafScorer {
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
    use crate::frame::OwnedFrame;

    #[test]
    fn links_and_reports_its_version() {
        assert_eq!(libvmaf_version(), "2.3.1");
    }

    #[test]
    fn model_names_round_trip() {
        for m in VmafModelVersion::ALL {
            assert_eq!(m.name().parse::<VmafModelVersion>().unwrap(), m);
        }
        assert!(matches!(
            "vmaf_v9".parse::<VmafModelVersion>(),
            Err(VmafError::ModelNotFound { ref version, .. }) if version == "vmaf_v9"
        ));
    }

    #[test]
    fn unknown_features_are_refused_with_the_known_list() {
        let e = VmafScorer::new(VmafConfig {
            features: vec!["nope".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("unknown libvmaf feature \"nope\" (known: psnr, float_ssim"));
    }

    #[test]
    fn finish_without_frames_is_an_error() {
        let s = VmafScorer::new(VmafConfig::default()).unwrap();
        assert_eq!(s.finish().unwrap_err(), VmafError::NoFrames);
    }

    #[test]
    fn identical_frames_give_capped_psnr_and_top_vmaf() {
        let (a, _) = crate::testutil::pair8(64, 48, 4, 3);
        let mut s = VmafScorer::new(VmafConfig {
            features: vec!["psnr".into()],
            n_subsample: 2,
            ..Default::default()
        })
        .unwrap();
        for _ in 0..5 {
            s.push(&a.view().unwrap(), &a.view().unwrap()).unwrap();
        }
        let r = s.finish().unwrap();
        assert_eq!(r.frame_indices, vec![0, 2, 4]);
        assert_eq!(r.features["psnr_y"], vec![60.0; 3]);
        assert_eq!(r.per_frame.len(), 3);
        assert!(r.per_frame.iter().all(|&v| v > 95.0), "{:?}", r.per_frame);
    }

    /// Scores every pair with `config`; whether the VIF kernel ran, and the result.
    fn score_pairs<T: Sample>(
        pairs: &[(OwnedFrame<T>, OwnedFrame<T>)],
        config: VmafConfig,
    ) -> (bool, VmafResult) {
        let mut s = VmafScorer::new(config).unwrap();
        for (a, b) in pairs {
            s.push(&a.view().unwrap(), &b.view().unwrap()).unwrap();
        }
        let active = s.native_vif_active();
        (active, s.finish().unwrap())
    }

    #[test]
    fn native_vif_scores_equal_libvmafs_and_applies_where_exact() {
        // Distinct frames, so that scores arriving for the wrong frame would show.
        let pairs8 = |w: usize, h: usize| -> Vec<_> {
            (0..7)
                .map(|k| crate::testutil::pair8(w, h, 3 + 2 * k, 11 + k))
                .collect()
        };
        let run = |w: usize, h: usize, native_vif: bool, n_threads: u32| {
            let config = VmafConfig {
                native_vif,
                n_threads,
                features: vec!["psnr".into()],
                ..Default::default()
            };
            score_pairs(&pairs8(w, h), config)
        };
        let (off, libvmaf) = run(64, 48, false, 0);
        assert!(!off);
        assert!(libvmaf.per_frame.windows(2).any(|p| p[0] != p[1]));
        // Inline (0 and 1 thread), and on one, two and three worker threads (2, 4, 6).
        for n_threads in [0, 1, 2, 4, 6] {
            let (on, native) = run(64, 48, true, n_threads);
            assert!(on, "{n_threads} threads");
            assert_eq!(native.per_frame, libvmaf.per_frame, "{n_threads} threads");
            assert_eq!(native.features, libvmaf.features, "{n_threads} threads");
            assert!(native.features.contains_key("integer_vif_scale3"));
        }
        // libvmaf's SIMD VIF departs from its C code on widths that are not multiples of 16.
        assert!(!run(72, 48, true, 2).0);

        // Every other frame, on a worker.
        let sub = |native_vif: bool| {
            let config = VmafConfig {
                native_vif,
                n_threads: 2,
                n_subsample: 2,
                ..Default::default()
            };
            let (active, result) = score_pairs(&pairs8(64, 48), config);
            assert_eq!(active, native_vif);
            result
        };
        let (native, libvmaf) = (sub(true), sub(false));
        assert_eq!(native.frame_indices, vec![0, 2, 4, 6]);
        assert_eq!(native.per_frame, libvmaf.per_frame);
        assert_eq!(native.features, libvmaf.features);

        // 10- and 12-bit video, on the calling thread and on a worker.
        for bpc in [10, 12] {
            let pairs: Vec<_> = (0..5)
                .map(|k| crate::testutil::pair(80, 48, bpc, 10 + 9 * k, 21 + k))
                .collect();
            let run = |native_vif: bool, n_threads: u32| {
                let config = VmafConfig {
                    native_vif,
                    n_threads,
                    ..Default::default()
                };
                score_pairs(&pairs, config)
            };
            let (off, libvmaf) = run(false, 0);
            assert!(!off);
            for n_threads in [0, 2] {
                let (on, native) = run(true, n_threads);
                assert!(on, "{bpc}-bit, {n_threads} threads");
                assert_eq!(
                    native.per_frame, libvmaf.per_frame,
                    "{bpc}-bit, {n_threads} threads"
                );
                assert_eq!(
                    native.features, libvmaf.features,
                    "{bpc}-bit, {n_threads} threads"
                );
            }
        }
    }

    #[test]
    fn format_changes_and_mismatches_are_errors() {
        let a = OwnedFrame::<u8>::new(64, 48, 8, ChromaSampling::Cs420);
        let b = OwnedFrame::<u8>::new(64, 48, 8, ChromaSampling::Cs444);
        let c = OwnedFrame::<u8>::new(32, 48, 8, ChromaSampling::Cs420);
        let mut s = VmafScorer::new(VmafConfig {
            models: vec![],
            features: vec!["psnr".into()],
            ..Default::default()
        })
        .unwrap();
        let e = s.push(&a.view().unwrap(), &b.view().unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "frame 0: reference is 64x48 8-bit 4:2:0, distorted is 64x48 8-bit 4:4:4"
        );
        s.push(&a.view().unwrap(), &a.view().unwrap()).unwrap();
        let e = s.push(&c.view().unwrap(), &c.view().unwrap()).unwrap_err();
        assert!(matches!(e, VmafError::FormatChanged { frame: 1, .. }));
    }
}
