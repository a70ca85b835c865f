//! VMAF: the models' features (VIF, ADM, motion) computed by rdbench's own integer kernels, one
//! file per feature, each equal to libvmaf 2.3.1's to the last bit, the models' prediction from
//! libvmaf's model files, and libvmaf itself, as the oracle and as the path for what rdbench does
//! not compute (other features, pictures the kernels cannot match libvmaf on).
//!
//! * [`VmafScorer`]: the streaming scorer callers use. At the first frame it decides, by
//!   `native_support`, whether rdbench's kernels score the run; its result says which path did
//!   ([`VmafPath`]), so a run manifest and a cache key can record it.
//! * [`vif`], [`adm`], [`motion`]: the feature kernels; [`model`]: the prediction.
//! * `native`: the native scorer, frames in flight over worker threads with bounded memory and no
//!   state shared between scorers.
//! * `ffi`: the libvmaf wrapper ([`LibvmafScorer`]), the only file of the crate with `unsafe`.

pub mod adm;
mod ffi;
pub mod model;
pub mod motion;
mod native;
pub mod vif;

use crate::frame::{ChromaSampling, FrameView, Sample};
use crate::pool::Pooled;
use std::collections::BTreeMap;
use thiserror::Error;

pub use ffi::{known_features, libvmaf_version, LibvmafScorer};
pub use native::{NativeScorer, WorkerLost};

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

/// What to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmafConfig {
    /// Models to predict with; the first one's scores are [`VmafResult::per_frame`]. May be empty
    /// to extract features only.
    pub models: Vec<VmafModelVersion>,
    /// Extra feature extractors by libvmaf name (`psnr`, `float_ssim`, `float_ms_ssim`, `cambi`,
    /// `ciede`, `psnr_hvs`, ...; see [`known_features`]). `adm`, `motion` and `vif` come from the
    /// native kernels when they score the run; the others always from libvmaf.
    pub features: Vec<String>,
    /// Threads that extract features. 0 and 1: everything runs on the calling thread. From 2 up,
    /// frames are scored on `n_threads` worker threads (rdbench's kernels, or libvmaf's workers on
    /// the libvmaf path); when libvmaf also computes extra features beside the native kernels,
    /// it takes `n_threads / 2` of them.
    pub n_threads: u32,
    /// Score every Nth frame (frames 0, N, 2N, ...); 0 and 1 both mean every frame.
    pub n_subsample: u32,
    /// Compute the models' features (VIF, ADM, motion) and their predictions with rdbench's own
    /// kernels, whose values equal libvmaf 2.3.1's, wherever that equality holds (see
    /// `native_support`); libvmaf scores the rest. On by default; off, libvmaf scores
    /// everything (the oracle the tests compare the kernels with).
    pub native: bool,
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
            native: true,
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
    /// Which code computed the scores.
    pub path: VmafPath,
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
    /// A worker thread of the native kernels stopped early.
    #[error(transparent)]
    Worker(#[from] native::WorkerLost),
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
pub(crate) struct Format {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) bit_depth: u8,
    pub(crate) sampling: ChromaSampling,
}

impl Format {
    pub(crate) fn of<T: Sample>(v: &FrameView<'_, T>) -> Self {
        Self {
            w: v.width(),
            h: v.height(),
            bit_depth: v.bit_depth(),
            sampling: v.sampling(),
        }
    }

    /// The format of a pair pushed as frame `frame`: both pictures alike, like the earlier
    /// frames' (`expected`), and of a bit depth libvmaf reads.
    pub(crate) fn check_pair<T: Sample>(
        expected: Option<Format>,
        frame: u32,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<Format, VmafError> {
        let (rf, df) = (Format::of(reference), Format::of(distorted));
        if rf != df {
            return Err(VmafError::PairMismatch {
                frame,
                reference: rf.to_string(),
                distorted: df.to_string(),
            });
        }
        match expected {
            Some(f) if f != rf => {
                return Err(VmafError::FormatChanged {
                    frame,
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
        Ok(rf)
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

/// Which code scored a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VmafPath {
    /// rdbench's kernels computed the models' features and predictions; libvmaf computed the
    /// extra features named here (none for a plain VMAF run).
    Native {
        /// Feature extractors libvmaf ran beside the native kernels.
        libvmaf_features: Vec<String>,
    },
    /// libvmaf computed everything, for this reason.
    Libvmaf {
        /// Why the native kernels did not score the run.
        reason: String,
    },
}

impl std::fmt::Display for VmafPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmafPath::Native { libvmaf_features } if libvmaf_features.is_empty() => {
                write!(f, "native")
            }
            VmafPath::Native { libvmaf_features } => {
                write!(f, "native, libvmaf for {}", libvmaf_features.join(", "))
            }
            VmafPath::Libvmaf { reason } => write!(f, "libvmaf ({reason})"),
        }
    }
}

/// The explicit features the native kernels compute themselves when they score a run.
const NATIVE_FEATURES: [&str; 3] = ["adm", "motion", "vif"];

/// Whether rdbench's kernels score a run of `config` on pictures of `format`, or why not. They do
/// when their values are checked equal to libvmaf's: native kernels on, at least one model (all
/// three built-in models are native), no libvmaf CPU mask, 8-, 10- or 12-bit pictures whose
/// width is a multiple of 16 (libvmaf's AVX2 VIF, which its `vmaf` tool runs, departs from its C
/// code on other widths) and of a size every kernel scores as libvmaf does.
pub(crate) fn native_support(config: &VmafConfig, format: &Format) -> Result<(), String> {
    let (w, h) = (format.w, format.h);
    if !config.native {
        Err("native kernels turned off".into())
    } else if config.models.is_empty() {
        Err("no VMAF model asked for".into())
    } else if config.cpumask != 0 {
        Err(format!("libvmaf CPU mask {:#x} asked for", config.cpumask))
    } else if ![8, 10, 12].contains(&format.bit_depth) {
        Err(format!(
            "{}-bit pictures (the native kernels take 8, 10 and 12 bits)",
            format.bit_depth
        ))
    } else if w % 16 != 0 {
        Err(format!(
            "width {w} is not a multiple of 16, where libvmaf's AVX2 VIF departs from its C code"
        ))
    } else if !(vif::Vif::supports(w, h) && adm::Adm::supports(w, h) && motion::supports(w, h)) {
        Err(format!(
            "{w}x{h} is outside the sizes where the native kernels equal libvmaf"
        ))
    } else if let Some(m) = config
        .models
        .iter()
        .find(|m| model::VmafModel::builtin(**m).options().motion_force_zero)
    {
        Err(format!("model {} forces motion to zero", m.name()))
    } else {
        Ok(())
    }
}

/// The scorer behind a [`VmafScorer`], once the first frame chose it.
enum Backend {
    /// Not chosen yet.
    Pending,
    /// rdbench's kernels, with libvmaf for extra features when some were asked for.
    Native(Box<NativeScorer>, Option<LibvmafScorer>),
    /// libvmaf for everything.
    Libvmaf(LibvmafScorer),
}

/// Streaming VMAF: create with [`VmafScorer::new`], [`push`](VmafScorer::push) frame pairs in
/// display order, then [`finish`](VmafScorer::finish). The first frame decides which code scores
/// the run (`native_support`: the native kernels wherever their values equal libvmaf's);
/// [`VmafResult::path`] says which did.
pub struct VmafScorer {
    config: VmafConfig,
    backend: Backend,
    frames: u32,
}

impl std::fmt::Debug for VmafScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VmafScorer")
            .field("models", &self.config.models)
            .field("features", &self.config.features)
            .field("path", &self.path())
            .field("frames", &self.frames)
            .finish()
    }
}

impl VmafScorer {
    /// A scorer of `config`; unknown feature names are refused here.
    pub fn new(config: VmafConfig) -> Result<Self, VmafError> {
        let known: Vec<&str> = known_features().collect();
        if let Some(name) = config
            .features
            .iter()
            .find(|f| !known.contains(&f.as_str()))
        {
            return Err(VmafError::UnknownFeature {
                name: name.clone(),
                known: known.join(", "),
            });
        }
        Ok(Self {
            config,
            backend: Backend::Pending,
            frames: 0,
        })
    }

    /// Chooses the backend for pictures of `format`.
    fn start(&mut self, format: &Format) -> Result<(), VmafError> {
        let c = &self.config;
        self.backend = match native_support(c, format) {
            Ok(()) => {
                let extra: Vec<String> = c
                    .features
                    .iter()
                    .filter(|f| !NATIVE_FEATURES.contains(&f.as_str()))
                    .cloned()
                    .collect();
                let native_threads =
                    c.n_threads - if extra.is_empty() { 0 } else { c.n_threads / 2 };
                let path = VmafPath::Native {
                    libvmaf_features: extra.clone(),
                };
                let libvmaf = if extra.is_empty() {
                    None
                } else {
                    let cfg = VmafConfig {
                        models: Vec::new(),
                        features: extra,
                        n_threads: c.n_threads / 2,
                        ..c.clone()
                    };
                    Some(LibvmafScorer::new(&cfg, path.clone())?)
                };
                let explicit: Vec<&str> = c
                    .features
                    .iter()
                    .map(String::as_str)
                    .filter(|f| NATIVE_FEATURES.contains(f))
                    .collect();
                let native = NativeScorer::new(
                    &c.models,
                    &explicit,
                    *format,
                    native_threads,
                    c.n_subsample,
                    path,
                );
                Backend::Native(Box::new(native), libvmaf)
            }
            Err(reason) => Backend::Libvmaf(LibvmafScorer::new(c, VmafPath::Libvmaf { reason })?),
        };
        Ok(())
    }

    /// Scores the next frame pair (reference, distorted).
    pub fn push<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<(), VmafError> {
        if let Backend::Pending = self.backend {
            let format = Format::check_pair(None, 0, reference, distorted)?;
            self.start(&format)?;
        }
        match &mut self.backend {
            Backend::Pending => unreachable!("started above"),
            Backend::Native(native, libvmaf) => {
                native.push(reference, distorted)?;
                if let Some(l) = libvmaf {
                    l.push(reference, distorted)?;
                }
            }
            Backend::Libvmaf(l) => l.push(reference, distorted)?,
        }
        self.frames += 1;
        Ok(())
    }

    /// Scores the next frame of several scorers against one reference picture:
    /// `distorted[i]` is `scorers[i]`'s distorted picture. The values are those of
    /// [`push`](VmafScorer::push) on each; where every scorer runs rdbench's kernels on its
    /// calling thread (`n_threads` 0 or 1) with the same models, the reference's share of the
    /// work (the blur motion needs and its side of VIF) is done once for all of them.
    pub fn push_group<T: Sample>(
        scorers: &mut [&mut VmafScorer],
        reference: &FrameView<'_, T>,
        distorted: &[&FrameView<'_, T>],
    ) -> Result<(), VmafError> {
        assert_eq!(
            scorers.len(),
            distorted.len(),
            "one distorted picture per scorer"
        );
        for (s, d) in scorers.iter_mut().zip(distorted) {
            if let Backend::Pending = s.backend {
                let format = Format::check_pair(None, 0, reference, d)?;
                s.start(&format)?;
            }
        }
        let all_native = scorers
            .iter()
            .all(|s| matches!(s.backend, Backend::Native(_, None)));
        if all_native {
            let mut natives: Vec<&mut NativeScorer> = scorers
                .iter_mut()
                .filter_map(|s| match &mut s.backend {
                    Backend::Native(n, None) => Some(&mut **n),
                    _ => None,
                })
                .collect();
            NativeScorer::push_group(&mut natives, reference, distorted)?;
            for s in scorers.iter_mut() {
                s.frames += 1;
            }
        } else {
            for (s, d) in scorers.iter_mut().zip(distorted) {
                s.push(reference, d)?;
            }
        }
        Ok(())
    }

    /// Pushed frames whose features may still be being computed (bounded by `2 * n_threads + 2`
    /// on either path; 0 when everything runs in `push`).
    pub fn in_flight(&self) -> u32 {
        match &self.backend {
            Backend::Pending => 0,
            Backend::Native(n, l) => n
                .in_flight()
                .max(l.as_ref().map_or(0, LibvmafScorer::in_flight)),
            Backend::Libvmaf(l) => l.in_flight(),
        }
    }

    /// Which code scores the run (`None` before the first frame).
    pub fn path(&self) -> Option<VmafPath> {
        match &self.backend {
            Backend::Pending => None,
            Backend::Native(n, _) => Some(n.path().clone()),
            Backend::Libvmaf(l) => Some(l.path().clone()),
        }
    }

    /// Frame pairs pushed so far.
    pub fn frames_pushed(&self) -> u32 {
        self.frames
    }

    /// Waits for every frame and returns the per-frame scores.
    pub fn finish(self) -> Result<VmafResult, VmafError> {
        match self.backend {
            Backend::Pending => Err(VmafError::NoFrames),
            Backend::Native(native, libvmaf) => {
                let mut result = native.finish()?;
                if let Some(l) = libvmaf {
                    let extra = l.finish()?;
                    result.features.extend(extra.features);
                }
                Ok(result)
            }
            Backend::Libvmaf(l) => l.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OwnedFrame;

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

    /// Scores `streams` distorted streams (noise 2, 7, 12...) against one reference, as a
    /// group and each alone, and returns both results per stream.
    fn group_and_alone(
        bit_depth: u8,
        (w, h): (usize, usize),
        streams: u32,
        config: &VmafConfig,
    ) -> Vec<(VmafResult, VmafResult)> {
        let frames: Vec<Vec<(OwnedFrame<u16>, OwnedFrame<u16>)>> = (0..5)
            .map(|f| {
                (0..streams)
                    .map(|k| crate::testutil::pair(w, h, bit_depth, 2 + 5 * k, 11 + f))
                    .collect()
            })
            .collect();
        let new = || VmafScorer::new(config.clone()).unwrap();
        let mut group: Vec<VmafScorer> = (0..streams).map(|_| new()).collect();
        let mut alone: Vec<VmafScorer> = (0..streams).map(|_| new()).collect();
        for pictures in &frames {
            if bit_depth == 8 {
                let r8 = crate::testutil::to_8bit(&pictures[0].0);
                let d8: Vec<OwnedFrame<u8>> = pictures
                    .iter()
                    .map(|(_, d)| crate::testutil::to_8bit(d))
                    .collect();
                let rv = r8.view().unwrap();
                let dv: Vec<FrameView<'_, u8>> = d8.iter().map(|d| d.view().unwrap()).collect();
                let refs: Vec<&FrameView<'_, u8>> = dv.iter().collect();
                let mut members: Vec<&mut VmafScorer> = group.iter_mut().collect();
                VmafScorer::push_group(&mut members, &rv, &refs).unwrap();
                for (s, d) in alone.iter_mut().zip(&dv) {
                    s.push(&rv, d).unwrap();
                }
            } else {
                let reference = pictures[0].0.view().unwrap();
                let views: Vec<FrameView<'_, u16>> =
                    pictures.iter().map(|(_, d)| d.view().unwrap()).collect();
                let refs: Vec<&FrameView<'_, u16>> = views.iter().collect();
                let mut members: Vec<&mut VmafScorer> = group.iter_mut().collect();
                VmafScorer::push_group(&mut members, &reference, &refs).unwrap();
                for (s, d) in alone.iter_mut().zip(&views) {
                    s.push(&reference, d).unwrap();
                }
            }
        }
        group
            .into_iter()
            .zip(alone)
            .map(|(g, a)| (g.finish().unwrap(), a.finish().unwrap()))
            .collect()
    }

    #[test]
    fn a_group_scores_what_each_stream_scores_alone() {
        let neg = VmafConfig {
            models: vec![VmafModelVersion::V0_6_1, VmafModelVersion::V0_6_1Neg],
            ..Default::default()
        };
        let subsampled = VmafConfig {
            n_subsample: 2,
            ..Default::default()
        };
        let threaded = VmafConfig {
            n_threads: 2,
            ..Default::default()
        };
        for (bit_depth, size, config) in [
            (8, (64, 45), &VmafConfig::default()),
            (10, (64, 40), &VmafConfig::default()),
            (12, (64, 37), &neg),
            (8, (80, 36), &VmafConfig::default()),
            (8, (64, 45), &subsampled),
            (8, (80, 36), &threaded),
        ] {
            let results = group_and_alone(bit_depth, size, 3, config);
            for (k, (g, a)) in results.iter().enumerate() {
                let case = format!("{bit_depth}-bit {size:?} stream {k}");
                for (key, v) in &g.features {
                    assert_eq!(v, &a.features[key], "{case} {key}");
                }
                assert_eq!(g.per_frame, a.per_frame, "{case}");
                assert_eq!(g.models, a.models, "{case}");
                assert_eq!(g.features, a.features, "{case}");
                assert_eq!(g.frame_indices, a.frame_indices, "{case}");
                assert!(
                    matches!(g.path, VmafPath::Native { .. }),
                    "{case}: {:?}",
                    g.path
                );
            }
            // The streams differ, so a group that gave every member one stream's scores fails.
            assert_ne!(results[0].0.per_frame, results[2].0.per_frame);
        }
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

    /// Scores every pair with `config`.
    fn score_pairs<T: Sample>(
        pairs: &[(OwnedFrame<T>, OwnedFrame<T>)],
        config: VmafConfig,
    ) -> VmafResult {
        let mut s = VmafScorer::new(config).unwrap();
        for (a, b) in pairs {
            s.push(&a.view().unwrap(), &b.view().unwrap()).unwrap();
        }
        s.finish().unwrap()
    }

    /// Distinct pairs, so that scores filed under the wrong frame would show.
    fn pairs(w: usize, h: usize, bpc: u8, n: usize) -> Vec<(OwnedFrame<u16>, OwnedFrame<u16>)> {
        (0..n)
            .map(|k| crate::testutil::pair(w, h, bpc, 3 + 5 * k as u32, 11 + k as u32))
            .collect()
    }

    fn pairs8(w: usize, h: usize, n: usize) -> Vec<(OwnedFrame<u8>, OwnedFrame<u8>)> {
        (0..n)
            .map(|k| crate::testutil::pair8(w, h, 3 + 2 * k as u32, 11 + k as u32))
            .collect()
    }

    /// The native kernels and libvmaf give the same model scores and features, to the last bit,
    /// for every model alone and together, inline and on worker threads, every frame and every
    /// other one, at 8, 10 and 12 bits.
    #[test]
    fn native_scores_equal_libvmafs() {
        use VmafModelVersion::*;
        let model_sets: [&[VmafModelVersion]; 4] = [
            &[V0_6_1],
            &[V0_6_1Neg],
            &[V4k0_6_1],
            &[V0_6_1, V0_6_1Neg, V4k0_6_1],
        ];
        let check = |what: &str, native: &VmafResult, libvmaf: &VmafResult| {
            assert_eq!(
                native.path,
                VmafPath::Native {
                    libvmaf_features: vec![]
                },
                "{what}"
            );
            assert!(matches!(libvmaf.path, VmafPath::Libvmaf { .. }), "{what}");
            assert_eq!(native.frame_indices, libvmaf.frame_indices, "{what}");
            assert_eq!(native.models, libvmaf.models, "{what}");
            assert_eq!(native.per_frame, libvmaf.per_frame, "{what}");
            assert_eq!(native.features, libvmaf.features, "{what}");
            assert!(native.per_frame.windows(2).any(|p| p[0] != p[1]), "{what}");
        };
        let p8 = pairs8(64, 48, 7);
        for models in model_sets {
            for n_subsample in [1, 2] {
                let config = |native: bool, n_threads: u32| VmafConfig {
                    models: models.to_vec(),
                    native,
                    n_threads,
                    n_subsample,
                    ..Default::default()
                };
                let libvmaf = score_pairs(&p8, config(false, 0));
                for n_threads in [0, 1, 2, 3] {
                    let native = score_pairs(&p8, config(true, n_threads));
                    let what =
                        format!("{models:?} every {n_subsample} frames, {n_threads} threads");
                    check(&what, &native, &libvmaf);
                }
            }
        }
        for bpc in [10, 12] {
            let p = pairs(80, 48, bpc, 5);
            for models in [model_sets[0], model_sets[3]] {
                let config = |native: bool, n_threads: u32| VmafConfig {
                    models: models.to_vec(),
                    native,
                    n_threads,
                    ..Default::default()
                };
                let libvmaf = score_pairs(&p, config(false, 0));
                for n_threads in [0, 2] {
                    let what = format!("{bpc}-bit {models:?}, {n_threads} threads");
                    check(&what, &score_pairs(&p, config(true, n_threads)), &libvmaf);
                }
            }
        }
    }

    /// Explicit `adm`, `motion` and `vif` come from the native kernels; other features from
    /// libvmaf beside them, and the result says so.
    #[test]
    fn extra_features_come_from_libvmaf_beside_the_native_kernels() {
        let p = pairs8(64, 48, 4);
        let features = ["adm", "vif", "motion", "psnr", "float_ssim"];
        for n_threads in [0, 2, 4] {
            let config = |native: bool| VmafConfig {
                models: vec![VmafModelVersion::V0_6_1Neg],
                features: features.iter().map(|f| f.to_string()).collect(),
                native,
                n_threads,
                ..Default::default()
            };
            let (native, libvmaf) = (
                score_pairs(&p, config(true)),
                score_pairs(&p, config(false)),
            );
            assert_eq!(
                native.path,
                VmafPath::Native {
                    libvmaf_features: vec!["psnr".into(), "float_ssim".into()]
                }
            );
            assert_eq!(
                native.path.to_string(),
                "native, libvmaf for psnr, float_ssim"
            );
            assert_eq!(native.per_frame, libvmaf.per_frame);
            assert_eq!(native.features, libvmaf.features);
            for f in [
                "integer_adm2",
                "integer_adm2_egl_1",
                "integer_vif_scale0_egl_1",
                "psnr_y",
            ] {
                assert!(
                    native.features.contains_key(f),
                    "{f}: {:?}",
                    native.features.keys()
                );
            }
        }
    }

    /// The pure choice of path, with its reasons.
    #[test]
    fn the_native_path_applies_where_its_values_are_checked_exact() {
        let f = |w: usize, h: usize, bit_depth: u8| Format {
            w,
            h,
            bit_depth,
            sampling: ChromaSampling::Cs420,
        };
        let on = VmafConfig::default();
        assert_eq!(native_support(&on, &f(1920, 1080, 8)), Ok(()));
        assert_eq!(native_support(&on, &f(64, 48, 12)), Ok(()));
        let no = |c: &VmafConfig, fmt: Format| native_support(c, &fmt).unwrap_err();
        assert_eq!(
            no(&on, f(1918, 1080, 8)),
            "width 1918 is not a multiple of 16, where libvmaf's AVX2 VIF departs from its C code"
        );
        assert_eq!(
            no(&on, f(1920, 1080, 16)),
            "16-bit pictures (the native kernels take 8, 10 and 12 bits)"
        );
        assert_eq!(
            no(&on, f(32, 32, 8)),
            "32x32 is outside the sizes where the native kernels equal libvmaf"
        );
        let off = VmafConfig {
            native: false,
            ..Default::default()
        };
        assert_eq!(no(&off, f(64, 48, 8)), "native kernels turned off");
        let features_only = VmafConfig {
            models: vec![],
            features: vec!["adm".into()],
            ..Default::default()
        };
        assert_eq!(no(&features_only, f(64, 48, 8)), "no VMAF model asked for");
        let masked = VmafConfig {
            cpumask: 255,
            ..Default::default()
        };
        assert_eq!(no(&masked, f(64, 48, 8)), "libvmaf CPU mask 0xff asked for");
        // The scorer reports the path it took.
        let r = score_pairs(&pairs8(72, 48, 2), VmafConfig::default());
        assert_eq!(
            r.path.to_string(),
            "libvmaf (width 72 is not a multiple of 16, where libvmaf's AVX2 VIF departs from its C code)"
        );
    }

    /// Scorers on parallel threads, each with workers of its own, give what each gives alone.
    #[test]
    fn scorers_running_at_once_do_not_interfere() {
        let a = pairs8(64, 48, 6);
        let b = pairs8(96, 64, 5);
        let config = |n_threads| VmafConfig {
            n_threads,
            ..Default::default()
        };
        let alone = (score_pairs(&a, config(0)), score_pairs(&b, config(0)));
        std::thread::scope(|s| {
            let ha = s.spawn(|| score_pairs(&a, config(2)));
            let hb = s.spawn(|| score_pairs(&b, config(3)));
            let hc = s.spawn(|| score_pairs(&a, config(0)));
            assert_eq!(ha.join().unwrap(), alone.0);
            assert_eq!(hb.join().unwrap(), alone.1);
            assert_eq!(hc.join().unwrap(), alone.0);
        });
    }

    /// Frames in flight on worker threads stay bounded however many are pushed, and the scores
    /// are those of one thread (frames scored by the workers, by the calling thread beside them,
    /// and by the calling thread taking back the workers' queued frames at the end).
    #[test]
    fn native_workers_hold_a_bounded_number_of_frames() {
        let p = pairs8(128, 64, 3);
        let mut s = VmafScorer::new(VmafConfig {
            n_threads: 3,
            ..Default::default()
        })
        .unwrap();
        let mut one = VmafScorer::new(VmafConfig::default()).unwrap();
        for k in 0..60 {
            let (a, b) = &p[k % 3];
            s.push(&a.view().unwrap(), &b.view().unwrap()).unwrap();
            one.push(&a.view().unwrap(), &b.view().unwrap()).unwrap();
            // Three a worker (two workers).
            assert!(s.in_flight() <= 3 * 2, "{} in flight", s.in_flight());
        }
        let (threaded, alone) = (s.finish().unwrap(), one.finish().unwrap());
        assert_eq!(threaded.per_frame.len(), 60);
        assert_eq!(threaded.per_frame, alone.per_frame);
        assert_eq!(threaded.features, alone.features);
    }

    /// At the end of a run the calling thread scores the frames still queued for the workers,
    /// with the scores one thread gives.
    #[test]
    fn the_calling_thread_takes_back_queued_frames_at_the_end() {
        let p = pairs8(320, 180, 3);
        let score = |threads: u32| {
            let mut s = VmafScorer::new(VmafConfig {
                n_threads: threads,
                ..Default::default()
            })
            .unwrap();
            for k in 0..8 {
                let (a, b) = &p[k % 3];
                s.push(&a.view().unwrap(), &b.view().unwrap()).unwrap();
            }
            s.finish().unwrap()
        };
        let alone = score(1);
        let taken = || native::TAKEN_BACK.with(|n| n.get());
        let start = taken();
        let mut runs = 0;
        // Whether a frame is still queued when the pushes end depends on timing: the workers
        // have at least one queued at the last push in most runs.
        while taken() == start && runs < 40 {
            let threaded = score(3);
            assert_eq!(threaded.per_frame, alone.per_frame);
            assert_eq!(threaded.features, alone.features);
            runs += 1;
        }
        assert!(
            taken() > start,
            "no queued frame was taken back in {runs} runs"
        );
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
