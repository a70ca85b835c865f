//! VMAF's model prediction from libvmaf's JSON model files, as libvmaf 2.3.1 computes it
//! (`predict.c`, `svm.cpp`, `read_json_model.c`): one frame's features in, the frame's VMAF out.
//!
//! The models `vmaf_v0.6.1`, `vmaf_v0.6.1neg` and `vmaf_4k_v0.6.1` are libvmaf's own files, embedded
//! (see `metrics/models/README.md`). A prediction runs libvmaf's steps in libvmaf's order and
//! precision:
//!
//! 1. each feature is normalised, `slope * x + intercept` (`linear_rescale`);
//! 2. libsvm's nu-SVR with the RBF kernel: `sum_i coef_i * exp(-gamma * |x - sv_i|^2) - rho`, the
//!    distances summed feature by feature and the terms support vector by support vector as
//!    libsvm does, so the result is libvmaf's to the last bit;
//! 3. the prediction is mapped back, `(p - intercept) / slope`, with the model's first slope and
//!    intercept;
//! 4. the score transform (a polynomial `p0 + p1 x + p2 x^2`, then `out_gte_in` / `out_lte_in`
//!    rectification) runs only when enabled: the three models carry one, but libvmaf applies it only
//!    with the model flag `enable_transform` (see [`VmafModel::with_transform`]);
//! 5. the score is clipped to `score_clip` (0 to 100) unless disabled.
//!
//! A model also says with which options its features are extracted ([`FeatureOptions`]: the neg
//! model limits ADM's and VIF's enhancement gain to 1) and under which names libvmaf's feature
//! collector keeps them ([`ModelFeature::collector_name`]).
//!
//! Tests feed libvmaf's own per-frame features to the prediction and compare with libvmaf's
//! per-frame scores (the integration tests, on encoded clips), and check the transform and the
//! clipping on hand-made values.

use crate::vmaf::VmafModelVersion;
use serde::Deserialize;
use std::fmt::Write as _;
use thiserror::Error;

/// A feature the VMAF models read, as libvmaf's integer extractors compute it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// ADM's combined score (`VMAF_integer_feature_adm2_score`).
    Adm2,
    /// motion2 (`VMAF_integer_feature_motion2_score`), see [`crate::vmaf::motion`].
    Motion2,
    /// VIF at scale 0 to 3 (`VMAF_integer_feature_vif_scale{n}_score`), see [`crate::vmaf::vif`].
    VifScale(u8),
}

impl Feature {
    const ALL: [Feature; 6] = [
        Feature::Adm2,
        Feature::Motion2,
        Feature::VifScale(0),
        Feature::VifScale(1),
        Feature::VifScale(2),
        Feature::VifScale(3),
    ];

    /// libvmaf's name, as model files spell it.
    pub fn libvmaf_name(self) -> &'static str {
        match self {
            Feature::Adm2 => "VMAF_integer_feature_adm2_score",
            Feature::Motion2 => "VMAF_integer_feature_motion2_score",
            Feature::VifScale(0) => "VMAF_integer_feature_vif_scale0_score",
            Feature::VifScale(1) => "VMAF_integer_feature_vif_scale1_score",
            Feature::VifScale(2) => "VMAF_integer_feature_vif_scale2_score",
            Feature::VifScale(_) => "VMAF_integer_feature_vif_scale3_score",
        }
    }

    /// The short name libvmaf's `vmaf` tool prints (`integer_adm2`, ...).
    pub fn alias(self) -> &'static str {
        match self {
            Feature::Adm2 => "integer_adm2",
            Feature::Motion2 => "integer_motion2",
            Feature::VifScale(0) => "integer_vif_scale0",
            Feature::VifScale(1) => "integer_vif_scale1",
            Feature::VifScale(2) => "integer_vif_scale2",
            Feature::VifScale(_) => "integer_vif_scale3",
        }
    }

    /// The feature named `name` in a model file.
    pub fn from_libvmaf_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.libvmaf_name() == name)
    }
}

/// One frame's features, as the models read them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VmafFeatures {
    /// ADM's combined score.
    pub adm2: f64,
    /// motion2.
    pub motion2: f64,
    /// VIF at scales 0 to 3.
    pub vif: [f64; 4],
}

impl VmafFeatures {
    /// The value of `feature`.
    pub fn get(&self, feature: Feature) -> f64 {
        match feature {
            Feature::Adm2 => self.adm2,
            Feature::Motion2 => self.motion2,
            Feature::VifScale(s) => self.vif[(s as usize).min(3)],
        }
    }
}

/// libvmaf's default enhancement gain limit of ADM and VIF (`*_enhn_gain_limit`).
pub const DEFAULT_ENHN_GAIN_LIMIT: f64 = 100.0;

/// Extractor options a model sets for its features; libvmaf's defaults otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeatureOptions {
    /// ADM's `adm_enhn_gain_limit` (1.0 for the neg model: no enhancement gain).
    pub adm_enhn_gain_limit: f64,
    /// VIF's `vif_enhn_gain_limit` (1.0 for the neg model), see [`crate::vmaf::vif::Vif::new`].
    pub vif_enhn_gain_limit: f64,
    /// Motion's `motion_force_zero`, see [`crate::vmaf::motion::Motion::new`].
    pub motion_force_zero: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            adm_enhn_gain_limit: DEFAULT_ENHN_GAIN_LIMIT,
            vif_enhn_gain_limit: DEFAULT_ENHN_GAIN_LIMIT,
            motion_force_zero: false,
        }
    }
}

/// A model's feature: which one, its normalisation and its extractor's options.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFeature {
    /// The feature.
    pub feature: Feature,
    /// Normalisation slope.
    pub slope: f64,
    /// Normalisation intercept.
    pub intercept: f64,
    /// Options of the extractor that computes it (only its own extractor's fields are set).
    pub options: FeatureOptions,
}

impl ModelFeature {
    /// The name under which libvmaf's feature collector keeps this feature: the model file's
    /// name when every option is libvmaf's default, otherwise the short name followed by each
    /// option that differs, `_<option alias>_<value as %g>` (`integer_adm2_egl_1`), or
    /// `_<alias>` for a true boolean.
    pub fn collector_name(&self) -> String {
        let d = FeatureOptions::default();
        let o = &self.options;
        let suffix = match self.feature {
            Feature::Adm2 if o.adm_enhn_gain_limit != d.adm_enhn_gain_limit => {
                Some(format!("_egl_{}", format_g(o.adm_enhn_gain_limit)))
            }
            Feature::VifScale(_) if o.vif_enhn_gain_limit != d.vif_enhn_gain_limit => {
                Some(format!("_egl_{}", format_g(o.vif_enhn_gain_limit)))
            }
            Feature::Motion2 if o.motion_force_zero => Some("_force_0".to_string()),
            _ => None,
        };
        match suffix {
            Some(s) => format!("{}{s}", self.feature.alias()),
            None => self.feature.libvmaf_name().to_string(),
        }
    }

    /// The name libvmaf's `vmaf` tool prints this feature under, which is also its key in
    /// [`crate::vmaf::VmafResult::features`]: the short name for default options, else the
    /// collector's name.
    pub fn output_name(&self) -> String {
        let c = self.collector_name();
        if c == self.feature.libvmaf_name() {
            self.feature.alias().to_string()
        } else {
            c
        }
    }
}

/// C's `%g`: six significant digits, fixed or exponential notation by the exponent, trailing
/// zeros removed.
fn format_g(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let sci = format!("{v:.5e}");
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let x: i32 = exp.parse().expect("{:e} exponent is an integer");
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if (-4..6).contains(&x) {
        trim(format!("{:.*}", (5 - x) as usize, v))
    } else {
        let mut s = trim(mant.to_string());
        let _ = write!(s, "e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs());
        s
    }
}

/// The score transform of a model file: polynomial mapping, then rectification.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreTransform {
    /// Constant term, if the model has one.
    pub p0: Option<f64>,
    /// Linear coefficient, if any.
    pub p1: Option<f64>,
    /// Quadratic coefficient, if any.
    pub p2: Option<f64>,
    /// The output may not exceed the input.
    pub out_lte_in: bool,
    /// The output may not fall below the input.
    pub out_gte_in: bool,
}

impl ScoreTransform {
    /// libvmaf's `transform` of a score `y`.
    pub fn apply(&self, y: f64) -> f64 {
        let mut out = if self.p0.is_some() || self.p1.is_some() || self.p2.is_some() {
            let mut o = 0.0;
            if let Some(p0) = self.p0 {
                o += p0;
            }
            if let Some(p1) = self.p1 {
                o += p1 * y;
            }
            if let Some(p2) = self.p2 {
                o += p2 * y * y;
            }
            o
        } else {
            y
        };
        if self.out_lte_in && out > y {
            out = y;
        }
        if self.out_gte_in && out < y {
            out = y;
        }
        out
    }
}

/// libsvm's nu-SVR with the RBF kernel, support vectors stored dense (a feature a support vector
/// leaves out is 0, which gives libsvm's sparse sum exactly).
#[derive(Clone, Debug, PartialEq)]
struct Svr {
    /// `-gamma`, as libsvm multiplies it.
    neg_gamma: f64,
    rho: f64,
    coef: Vec<f64>,
    /// `coef.len()` rows of `n` values.
    sv: Vec<f64>,
    n: usize,
}

impl Svr {
    /// libsvm's `svm_predict` of the normalised features `x`.
    fn predict(&self, x: &[f64]) -> f64 {
        let n = self.n;
        let mut sum = 0.0;
        for (c, s) in self.coef.iter().zip(self.sv.chunks_exact(n)) {
            let mut d2 = 0.0;
            for k in 0..n {
                let d = x[k] - s[k];
                d2 += d * d;
            }
            sum += c * (self.neg_gamma * d2).exp();
        }
        sum - self.rho
    }

    /// Parses libsvm's model text (`svm_type nu_svr`, `kernel_type rbf`, two classes) for a model
    /// of `n` features.
    fn parse(text: &str, n: usize) -> Result<Self, String> {
        let mut lines = text.lines();
        let mut header: Vec<&str> = Vec::new();
        for line in lines.by_ref() {
            if line.trim() == "SV" {
                break;
            }
            header.extend(line.split_whitespace());
        }
        let mut gamma = None;
        let mut rho = None;
        let mut total = None;
        let mut it = header.into_iter();
        let num = |v: Option<&str>, what: &str| -> Result<f64, String> {
            v.and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| format!("{what} is not a number"))
        };
        while let Some(key) = it.next() {
            match key {
                "svm_type" => {
                    let v = it.next().unwrap_or("");
                    if v != "nu_svr" {
                        return Err(format!("svm_type {v} is not nu_svr"));
                    }
                }
                "kernel_type" => {
                    let v = it.next().unwrap_or("");
                    if v != "rbf" {
                        return Err(format!("kernel_type {v} is not rbf"));
                    }
                }
                "nr_class" => {
                    let v = it.next().unwrap_or("");
                    if v != "2" {
                        return Err(format!("nr_class {v} is not 2"));
                    }
                }
                "gamma" => gamma = Some(num(it.next(), "gamma")?),
                "rho" => rho = Some(num(it.next(), "rho")?),
                "total_sv" => {
                    total = Some(
                        it.next()
                            .and_then(|v| v.parse::<usize>().ok())
                            .ok_or("total_sv is not a count")?,
                    )
                }
                other => return Err(format!("unexpected header field {other}")),
            }
        }
        let gamma = gamma.ok_or("no gamma")?;
        let rho = rho.ok_or("no rho")?;
        let total = total.ok_or("no total_sv")?;
        let mut coef = Vec::with_capacity(total);
        let mut sv = vec![0.0; total * n];
        for (i, line) in lines.filter(|l| !l.trim().is_empty()).enumerate() {
            if i >= total {
                return Err(format!("more than total_sv = {total} support vectors"));
            }
            let mut tokens = line.split_whitespace();
            coef.push(num(tokens.next(), "a support vector coefficient")?);
            let mut last = 0;
            for t in tokens {
                let (k, v) = t
                    .split_once(':')
                    .ok_or_else(|| format!("support vector {i}: {t} is not index:value"))?;
                let k: usize = k
                    .parse()
                    .map_err(|_| format!("support vector {i}: bad index {k}"))?;
                if k <= last || k > n {
                    return Err(format!(
                        "support vector {i}: index {k} out of order or beyond {n} features"
                    ));
                }
                last = k;
                sv[i * n + k - 1] = num(Some(v), "a support vector value")?;
            }
        }
        if coef.len() != total {
            return Err(format!(
                "{} support vectors, total_sv says {total}",
                coef.len()
            ));
        }
        Ok(Self {
            neg_gamma: -gamma,
            rho,
            coef,
            sv,
            n,
        })
    }
}

/// Why a model file cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// The file is not JSON of libvmaf's model layout.
    #[error("model {model}: not a libvmaf JSON model: {reason}")]
    Format {
        /// The model's name.
        model: String,
        /// What did not parse.
        reason: String,
    },
    /// The model uses something this implementation does not compute.
    #[error("model {model}: {what} is not supported")]
    Unsupported {
        /// The model's name.
        model: String,
        /// What it uses.
        what: String,
    },
    /// The embedded libsvm model is not a two-class nu-SVR with the RBF kernel, or is malformed.
    #[error("model {model}: libsvm model: {reason}")]
    Svm {
        /// The model's name.
        model: String,
        /// What is wrong.
        reason: String,
    },
}

/// The parts of libvmaf's JSON model this implementation reads (`model_dict`).
#[derive(Deserialize)]
struct ModelFile {
    model_dict: ModelDict,
}

#[derive(Deserialize)]
struct ModelDict {
    model_type: String,
    norm_type: String,
    feature_names: Vec<String>,
    slopes: Vec<f64>,
    intercepts: Vec<f64>,
    model: String,
    #[serde(default)]
    score_clip: Option<[f64; 2]>,
    #[serde(default)]
    score_transform: Option<TransformDict>,
    #[serde(default)]
    feature_opts_dicts: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(Deserialize)]
struct TransformDict {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    p0: Option<f64>,
    #[serde(default)]
    p1: Option<f64>,
    #[serde(default)]
    p2: Option<f64>,
    #[serde(default)]
    knots: Option<serde_json::Value>,
    #[serde(default)]
    out_lte_in: Option<String>,
    #[serde(default)]
    out_gte_in: Option<String>,
}

/// How features are normalised before the SVM and the prediction mapped back.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Norm {
    None,
    LinearRescale,
}

/// The embedded model files.
fn builtin_json(version: VmafModelVersion) -> &'static str {
    match version {
        VmafModelVersion::V0_6_1 => include_str!("../../models/vmaf_v0.6.1.json"),
        VmafModelVersion::V0_6_1Neg => include_str!("../../models/vmaf_v0.6.1neg.json"),
        VmafModelVersion::V4k0_6_1 => include_str!("../../models/vmaf_4k_v0.6.1.json"),
    }
}

/// A VMAF model, ready to predict frame scores.
#[derive(Clone, Debug, PartialEq)]
pub struct VmafModel {
    name: String,
    features: Vec<ModelFeature>,
    norm: Norm,
    /// The prediction's own normalisation (the first slope and intercept of the file).
    slope: f64,
    intercept: f64,
    transform: Option<ScoreTransform>,
    transform_enabled: bool,
    clip: Option<[f64; 2]>,
    clip_enabled: bool,
    svr: Svr,
}

/// libvmaf's most features per model.
const MAX_FEATURES: usize = 32;

impl VmafModel {
    /// One of libvmaf's built-in models, from its embedded file, with libvmaf's default flags
    /// (transform off, clipping on).
    pub fn builtin(version: VmafModelVersion) -> Self {
        Self::from_json(version.name(), builtin_json(version))
            .expect("the embedded model files are tested to parse")
    }

    /// A model from libvmaf's JSON model text, named `name` (libvmaf's default flags).
    pub fn from_json(name: &str, json: &str) -> Result<Self, ModelError> {
        let format = |reason: String| ModelError::Format {
            model: name.to_string(),
            reason,
        };
        let unsupported = |what: String| ModelError::Unsupported {
            model: name.to_string(),
            what,
        };
        let file: ModelFile = serde_json::from_str(json).map_err(|e| format(e.to_string()))?;
        let d = file.model_dict;
        if d.model_type != "LIBSVMNUSVR" {
            return Err(unsupported(format!("model_type {}", d.model_type)));
        }
        let norm = match d.norm_type.as_str() {
            "linear_rescale" => Norm::LinearRescale,
            "none" => Norm::None,
            other => return Err(format(format!("norm_type {other}"))),
        };
        let n = d.feature_names.len();
        if n == 0 || n > MAX_FEATURES {
            return Err(format(format!("{n} features")));
        }
        for (field, len) in [
            ("slopes", d.slopes.len()),
            ("intercepts", d.intercepts.len()),
        ] {
            if len != n + 1 {
                return Err(format(format!(
                    "{field} has {len} values for {n} features (one more expected)"
                )));
            }
        }
        let opts = d.feature_opts_dicts.unwrap_or_default();
        if opts.len() > n {
            return Err(format(format!(
                "{} feature option sets for {n} features",
                opts.len()
            )));
        }
        let mut features = Vec::with_capacity(n);
        for (i, fname) in d.feature_names.iter().enumerate() {
            let feature = Feature::from_libvmaf_name(fname)
                .ok_or_else(|| unsupported(format!("feature {fname}")))?;
            let mut options = FeatureOptions::default();
            for (key, value) in opts.get(i).into_iter().flatten() {
                match (feature, key.as_str(), value) {
                    (Feature::Adm2, "adm_enhn_gain_limit", serde_json::Value::Number(v)) => {
                        options.adm_enhn_gain_limit = v.as_f64().unwrap_or(f64::NAN)
                    }
                    (Feature::VifScale(_), "vif_enhn_gain_limit", serde_json::Value::Number(v)) => {
                        options.vif_enhn_gain_limit = v.as_f64().unwrap_or(f64::NAN)
                    }
                    (Feature::Motion2, "motion_force_zero", serde_json::Value::Bool(b)) => {
                        options.motion_force_zero = *b
                    }
                    _ => {
                        return Err(unsupported(format!(
                            "option {key} = {value} of feature {fname}"
                        )))
                    }
                }
            }
            features.push(ModelFeature {
                feature,
                slope: d.slopes[i + 1],
                intercept: d.intercepts[i + 1],
                options,
            });
        }
        let transform = match d.score_transform {
            None => None,
            Some(t) => {
                if t.knots.as_ref().is_some_and(|k| !k.is_null()) {
                    return Err(unsupported("a piecewise-linear score transform".into()));
                }
                Some((
                    ScoreTransform {
                        p0: t.p0,
                        p1: t.p1,
                        p2: t.p2,
                        out_lte_in: t.out_lte_in.as_deref() == Some("true"),
                        out_gte_in: t.out_gte_in.as_deref() == Some("true"),
                    },
                    t.enabled.unwrap_or(false),
                ))
            }
        };
        let svr = Svr::parse(&d.model, n).map_err(|reason| ModelError::Svm {
            model: name.to_string(),
            reason,
        })?;
        let model = Self {
            name: name.to_string(),
            features,
            norm,
            slope: d.slopes[0],
            intercept: d.intercepts[0],
            transform_enabled: transform.as_ref().is_some_and(|t| t.1),
            transform: transform.map(|t| t.0),
            clip: d.score_clip,
            clip_enabled: true,
            svr,
        };
        if model.options_differ() {
            return Err(unsupported(
                "different options for features of one extractor".into(),
            ));
        }
        Ok(model)
    }

    /// Whether two features of one extractor carry different options.
    fn options_differ(&self) -> bool {
        let o = self.options();
        self.features.iter().any(|f| match f.feature {
            Feature::Adm2 => f.options.adm_enhn_gain_limit != o.adm_enhn_gain_limit,
            Feature::VifScale(_) => f.options.vif_enhn_gain_limit != o.vif_enhn_gain_limit,
            Feature::Motion2 => f.options.motion_force_zero != o.motion_force_zero,
        })
    }

    /// The model's name (libvmaf's version string for the built-in ones).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The features the model reads, in its order.
    pub fn features(&self) -> &[ModelFeature] {
        &self.features
    }

    /// The extractor options the model's features need, gathered from them (libvmaf's defaults
    /// where the model sets none).
    pub fn options(&self) -> FeatureOptions {
        let mut o = FeatureOptions::default();
        for f in &self.features {
            match f.feature {
                Feature::Adm2 => o.adm_enhn_gain_limit = f.options.adm_enhn_gain_limit,
                Feature::VifScale(_) => o.vif_enhn_gain_limit = f.options.vif_enhn_gain_limit,
                Feature::Motion2 => o.motion_force_zero = f.options.motion_force_zero,
            }
        }
        o
    }

    /// The model file's score transform, applied only when enabled.
    pub fn transform(&self) -> Option<&ScoreTransform> {
        self.transform.as_ref()
    }

    /// The score range predictions are clipped to: the model file's `score_clip`, unless
    /// clipping is off.
    pub fn clip(&self) -> Option<[f64; 2]> {
        self.clip.filter(|_| self.clip_enabled)
    }

    /// Turns the score transform on or off (libvmaf's model flag `enable_transform`; a model
    /// without a transform, such as `vmaf_4k_v0.6.1`, has nothing to turn on).
    pub fn with_transform(mut self, enabled: bool) -> Self {
        self.transform_enabled = enabled;
        self
    }

    /// Turns clipping off (libvmaf's model flag `disable_clip`) or back on.
    pub fn with_clip(mut self, enabled: bool) -> Self {
        self.clip_enabled = enabled;
        self
    }

    /// One frame's VMAF from its features.
    pub fn predict(&self, features: &VmafFeatures) -> f64 {
        let mut x = [0.0; MAX_FEATURES];
        for (v, f) in x.iter_mut().zip(&self.features) {
            *v = features.get(f.feature);
        }
        self.predict_slice(&x[..self.features.len()])
    }

    /// One frame's VMAF from its features in the model's order ([`features`](Self::features)).
    ///
    /// # Panics
    /// If the number of values is not the model's number of features.
    pub fn predict_slice(&self, values: &[f64]) -> f64 {
        let n = self.features.len();
        assert_eq!(
            values.len(),
            n,
            "model {} reads {n} features, got {}",
            self.name,
            values.len()
        );
        let mut x = [0.0; MAX_FEATURES];
        for ((x, &v), f) in x.iter_mut().zip(values).zip(&self.features) {
            *x = match self.norm {
                Norm::LinearRescale => f.slope * v + f.intercept,
                Norm::None => v,
            };
        }
        let mut p = self.svr.predict(&x[..n]);
        if self.norm == Norm::LinearRescale {
            p = (p - self.intercept) / self.slope;
        }
        if let (true, Some(t)) = (self.transform_enabled, &self.transform) {
            p = t.apply(p);
        }
        if let Some([lo, hi]) = self.clip() {
            p = if p < lo { lo } else { p };
            p = if p > hi { hi } else { p };
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_models_parse_with_their_features_and_options() {
        for v in VmafModelVersion::ALL {
            let m = VmafModel::builtin(v);
            assert_eq!(m.name(), v.name());
            let got: Vec<Feature> = m.features().iter().map(|f| f.feature).collect();
            assert_eq!(got, Feature::ALL, "{}", v.name());
            assert_eq!(m.clip(), Some([0.0, 100.0]));
            let neg = v == VmafModelVersion::V0_6_1Neg;
            let egl = if neg { 1.0 } else { DEFAULT_ENHN_GAIN_LIMIT };
            assert_eq!(
                m.options(),
                FeatureOptions {
                    adm_enhn_gain_limit: egl,
                    vif_enhn_gain_limit: egl,
                    motion_force_zero: false
                }
            );
            let names: Vec<String> = m.features().iter().map(|f| f.output_name()).collect();
            let want: Vec<String> = if neg {
                vec![
                    "integer_adm2_egl_1".into(),
                    "integer_motion2".into(),
                    "integer_vif_scale0_egl_1".into(),
                    "integer_vif_scale1_egl_1".into(),
                    "integer_vif_scale2_egl_1".into(),
                    "integer_vif_scale3_egl_1".into(),
                ]
            } else {
                Feature::ALL.iter().map(|f| f.alias().to_string()).collect()
            };
            assert_eq!(names, want);
        }
        let m = VmafModel::builtin(VmafModelVersion::V0_6_1);
        assert_eq!(m.svr.coef.len(), 211);
        assert_eq!((m.svr.neg_gamma, m.svr.rho), (-0.04, -1.33133));
        assert_eq!(
            m.features()[0].collector_name(),
            "VMAF_integer_feature_adm2_score"
        );
        assert_eq!(
            VmafModel::builtin(VmafModelVersion::V4k0_6_1)
                .svr
                .coef
                .len(),
            262
        );
        // Only the 1080p models carry a transform.
        assert_eq!(
            m.transform(),
            Some(&ScoreTransform {
                p0: Some(1.70674692),
                p1: Some(1.72643844),
                p2: Some(-0.00705305),
                out_lte_in: false,
                out_gte_in: true,
            })
        );
        assert_eq!(
            VmafModel::builtin(VmafModelVersion::V4k0_6_1).transform(),
            None
        );
    }

    #[test]
    fn a_sparse_support_vector_reads_as_zeros() {
        // "4:-1.110223e-16 6:2.220446e-16" leaves feature 5 (and 1 to 3 are given).
        let m = VmafModel::builtin(VmafModelVersion::V0_6_1);
        let sv = &m.svr.sv[3 * 6..4 * 6];
        assert_eq!(
            sv,
            &[
                0.20371751,
                0.49612229,
                0.10534315,
                -1.110223e-16,
                0.0,
                2.220446e-16
            ]
        );
    }

    #[test]
    fn the_transform_maps_then_rectifies() {
        let t = ScoreTransform {
            p0: Some(1.0),
            p1: Some(2.0),
            p2: Some(-0.5),
            out_lte_in: false,
            out_gte_in: false,
        };
        assert_eq!(t.apply(2.0), 1.0 + 4.0 - 2.0);
        assert_eq!(t.apply(4.0), 1.0 + 8.0 - 8.0);
        let gte = ScoreTransform {
            out_gte_in: true,
            ..t.clone()
        };
        assert_eq!(gte.apply(2.0), 3.0);
        assert_eq!(gte.apply(4.0), 4.0, "1 < 4: the input stands");
        let lte = ScoreTransform {
            out_lte_in: true,
            ..t.clone()
        };
        assert_eq!(lte.apply(2.0), 2.0, "3 > 2: the input stands");
        assert_eq!(lte.apply(4.0), 1.0);
        // Only some coefficients: the others count as absent, not zero-and-identity.
        let p1 = ScoreTransform {
            p1: Some(3.0),
            ..Default::default()
        };
        assert_eq!(p1.apply(2.0), 6.0);
        assert_eq!(ScoreTransform::default().apply(7.5), 7.5);
        // The 1080p models' own transform lifts mid-range scores and keeps the top.
        let m = VmafModel::builtin(VmafModelVersion::V0_6_1);
        let own = m.transform().unwrap();
        let poly = |y: f64| 1.70674692 + 1.72643844 * y + -0.00705305 * y * y;
        assert_eq!(own.apply(50.0), poly(50.0));
        assert!(poly(100.0) > 100.0, "the clipping comes after");
        assert_eq!(own.apply(100.0), poly(100.0));
        assert!(poly(150.0) < 150.0);
        assert_eq!(own.apply(150.0), 150.0);
    }

    #[test]
    fn predictions_are_clipped_and_transformed_only_when_asked() {
        let m = VmafModel::builtin(VmafModelVersion::V0_6_1);
        let perfect = VmafFeatures {
            adm2: 1.0,
            motion2: 20.0,
            vif: [1.0; 4],
        };
        let poor = VmafFeatures {
            adm2: 0.3,
            motion2: 0.0,
            vif: [0.01; 4],
        };
        let mid = VmafFeatures {
            adm2: 0.9,
            motion2: 4.0,
            vif: [0.4, 0.7, 0.8, 0.85],
        };
        let raw = m.clone().with_clip(false);
        assert_eq!(raw.clip(), None);
        assert!(raw.predict(&perfect) > 100.0);
        assert_eq!(m.predict(&perfect), 100.0);
        for f in [&poor, &mid] {
            assert_eq!(m.predict(f), raw.predict(f));
        }
        // Both bounds, on a model file clipping to 10..99.
        let mut json: serde_json::Value =
            serde_json::from_str(builtin_json(VmafModelVersion::V0_6_1)).unwrap();
        json["model_dict"]["score_clip"] = serde_json::json!([10.0, 99.0]);
        let narrow = VmafModel::from_json("narrow", &json.to_string()).unwrap();
        assert_eq!(narrow.clip(), Some([10.0, 99.0]));
        assert!(raw.predict(&poor) < 10.0);
        assert_eq!(narrow.predict(&poor), 10.0);
        assert_eq!(narrow.predict(&perfect), 99.0);
        let plain = m.predict(&mid);
        assert!(plain > 10.0 && plain < 99.0, "{plain}");
        assert_eq!(narrow.predict(&mid), plain);
        // The transform runs between the prediction and the clipping.
        let t = m.clone().with_transform(true);
        assert_eq!(t.predict(&mid), m.transform().unwrap().apply(plain));
        assert!(t.predict(&mid) > plain);
        assert_eq!(t.predict(&perfect), 100.0);
        // The same features in the model's order.
        let x = [
            mid.adm2,
            mid.motion2,
            mid.vif[0],
            mid.vif[1],
            mid.vif[2],
            mid.vif[3],
        ];
        assert_eq!(m.predict_slice(&x), plain);
    }

    /// libvmaf's per-frame scores of `frames` pairs under `version`, and its features for them.
    fn libvmaf_scores<T: crate::frame::Sample>(
        pairs: &[(crate::OwnedFrame<T>, crate::OwnedFrame<T>)],
        version: VmafModelVersion,
    ) -> crate::VmafResult {
        let mut s = crate::VmafScorer::new(crate::VmafConfig {
            models: vec![version],
            native: false,
            ..Default::default()
        })
        .unwrap();
        for (r, d) in pairs {
            s.push(&r.view().unwrap(), &d.view().unwrap()).unwrap();
        }
        s.finish().unwrap()
    }

    /// Every frame's prediction from libvmaf's features against libvmaf's score, bit for bit.
    fn check_equal(res: &crate::VmafResult, m: &VmafModel, what: &str) {
        let scores = &res.models[m.name()];
        for (i, want) in scores.iter().enumerate() {
            let x: Vec<f64> = m
                .features()
                .iter()
                .map(|f| res.features[&f.output_name()][i])
                .collect();
            let got = m.predict_slice(&x);
            assert_eq!(got, *want, "{what} frame {i}: features {x:?}");
        }
    }

    #[test]
    fn predictions_equal_libvmafs_scores_exactly() {
        // Frames of growing distortion, 8- and 10-bit, so scores span the range.
        let p8: Vec<_> = [0, 2, 6, 15, 40]
            .iter()
            .enumerate()
            .map(|(i, &n)| crate::testutil::pair8(96, 64, n, i as u32 + 1))
            .collect();
        let p10: Vec<_> = [0, 8, 30, 120]
            .iter()
            .enumerate()
            .map(|(i, &n)| crate::testutil::pair(80, 48, 10, n, i as u32 + 3))
            .collect();
        for v in VmafModelVersion::ALL {
            let m = VmafModel::builtin(v);
            check_equal(&libvmaf_scores(&p8, v), &m, &format!("{} 8-bit", v.name()));
            check_equal(
                &libvmaf_scores(&p10, v),
                &m,
                &format!("{} 10-bit", v.name()),
            );
        }
    }

    #[test]
    fn percent_g_formats_as_c_does() {
        for (v, s) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (100.0, "100"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1234567.0, "1.23457e+06"),
            (123456.0, "123456"),
            (2.25, "2.25"),
        ] {
            assert_eq!(format_g(v), s);
        }
    }

    #[test]
    fn malformed_models_are_refused_with_the_reason() {
        let json = builtin_json(VmafModelVersion::V0_6_1);
        let bad = json.replace("kernel_type rbf", "kernel_type linear");
        assert!(matches!(
            VmafModel::from_json("x", &bad),
            Err(ModelError::Svm { .. })
        ));
        let bad = json.replace("LIBSVMNUSVR", "BOOTSTRAP_LIBSVMNUSVR");
        assert!(matches!(
            VmafModel::from_json("x", &bad),
            Err(ModelError::Unsupported { .. })
        ));
        let bad = json.replace("VMAF_integer_feature_adm2_score", "float_adm2");
        assert!(matches!(
            VmafModel::from_json("x", &bad),
            Err(ModelError::Unsupported { .. })
        ));
        assert!(matches!(
            VmafModel::from_json("x", "{}"),
            Err(ModelError::Format { .. })
        ));
    }
}
