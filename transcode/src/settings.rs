//! Encoder settings as pure decisions: rate control, preset, threads, encoder-specific
//! parameters and two-pass statistics, turned into libavcodec context fields and options for
//! each first-class encoder (libx264, libx265, libsvtav1, libaom-av1, librav1e, libvpx-vp9) and,
//! generically, for any other libavcodec encoder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::spec::{RcSpec, Scalar};

/// Validated rate control.
#[derive(Clone, Debug, PartialEq)]
pub enum RateControl {
    /// Constant rate factor.
    Crf(f64),
    /// Constant quantiser.
    Qp(f64),
    /// Average bitrate over `passes` passes (1 or 2).
    Abr { kbps: f64, passes: u8 },
    /// Constant bitrate with a VBV buffer.
    Cbr { kbps: f64, bufsize_kbits: f64 },
    /// CRF capped by a VBV.
    CappedCrf {
        crf: f64,
        maxrate_kbps: f64,
        bufsize_kbits: f64,
    },
}

impl RateControl {
    /// Checks the numbers of `spec` (positive bitrates, one or two passes); `field` names it in errors.
    pub fn from_spec(spec: &RcSpec, field: &str) -> Result<Self> {
        let positive = |name: &str, v: f64| -> Result<f64> {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(Error::Spec {
                    field: format!("{field}.{name}"),
                    message: format!("must be a positive number, not {v}"),
                })
            }
        };
        Ok(match *spec {
            RcSpec::Crf { value } => RateControl::Crf(value),
            RcSpec::Qp { value } => RateControl::Qp(value),
            RcSpec::Abr {
                bitrate_kbps,
                passes,
            } => {
                let passes = passes.unwrap_or(1);
                if !(1..=2).contains(&passes) {
                    return Err(Error::Spec {
                        field: format!("{field}.passes"),
                        message: format!("must be 1 or 2, not {passes}"),
                    });
                }
                RateControl::Abr {
                    kbps: positive("bitrate_kbps", bitrate_kbps)?,
                    passes,
                }
            }
            RcSpec::Cbr {
                bitrate_kbps,
                bufsize_kbits,
            } => {
                let kbps = positive("bitrate_kbps", bitrate_kbps)?;
                let buf = match bufsize_kbits {
                    Some(b) => positive("bufsize_kbits", b)?,
                    None => kbps,
                };
                RateControl::Cbr {
                    kbps,
                    bufsize_kbits: buf,
                }
            }
            RcSpec::CappedCrf {
                value,
                maxrate_kbps,
                bufsize_kbits,
            } => RateControl::CappedCrf {
                crf: value,
                maxrate_kbps: positive("maxrate_kbps", maxrate_kbps)?,
                bufsize_kbits: positive("bufsize_kbits", bufsize_kbits)?,
            },
        })
    }

    /// The mode's name as written in specs and results: crf, qp, abr, cbr, capped_crf.
    pub fn mode(&self) -> &'static str {
        match self {
            RateControl::Crf(_) => "crf",
            RateControl::Qp(_) => "qp",
            RateControl::Abr { .. } => "abr",
            RateControl::Cbr { .. } => "cbr",
            RateControl::CappedCrf { .. } => "capped_crf",
        }
    }

    /// The quality value (CRF or QP) or the target bitrate in kbit/s, whichever the mode uses.
    pub fn value(&self) -> f64 {
        match *self {
            RateControl::Crf(v) | RateControl::Qp(v) => v,
            RateControl::Abr { kbps, .. } | RateControl::Cbr { kbps, .. } => kbps,
            RateControl::CappedCrf { crf, .. } => crf,
        }
    }

    /// The bitrate the encode should average, for modes that have one.
    pub fn target_kbps(&self) -> Option<f64> {
        match *self {
            RateControl::Abr { kbps, .. } | RateControl::Cbr { kbps, .. } => Some(kbps),
            _ => None,
        }
    }

    /// The VBV's maximum rate, for modes that have one.
    pub fn maxrate_kbps(&self) -> Option<f64> {
        match *self {
            RateControl::Cbr { kbps, .. } => Some(kbps),
            RateControl::CappedCrf { maxrate_kbps, .. } => Some(maxrate_kbps),
            _ => None,
        }
    }

    /// The VBV's buffer size, for modes that have one.
    pub fn bufsize_kbits(&self) -> Option<f64> {
        match *self {
            RateControl::Cbr { bufsize_kbits, .. }
            | RateControl::CappedCrf { bufsize_kbits, .. } => Some(bufsize_kbits),
            _ => None,
        }
    }

    /// Whether the encode takes two passes.
    pub fn passes(&self) -> u8 {
        match self {
            RateControl::Abr { passes, .. } => *passes,
            _ => 1,
        }
    }
}

/// Which pass an encoder runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// A one-pass encode.
    Only,
    /// The analysis pass of a two-pass encode (its packets are thrown away).
    First,
    /// The final pass of a two-pass encode.
    Second,
}

/// Where two-pass statistics travel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsChannel {
    /// No statistics.
    None,
    /// The encoder reads and writes this file itself (x264, x265).
    File(PathBuf),
    /// Through libavcodec's `stats_out` (first pass) and `stats_in` (second pass).
    Context,
}

/// What an encoder is asked for, before any codec-specific translation.
#[derive(Clone, Debug)]
pub struct EncoderRequest<'a> {
    /// The job-spec field prefix of the output, e.g. `output[2]`.
    pub field: &'a str,
    /// The libavcodec encoder name.
    pub codec: &'a str,
    /// The speed preset.
    pub preset: Option<&'a Scalar>,
    /// Threads (None: the encoder's automatic choice).
    pub threads: Option<u32>,
    /// Rate control.
    pub rc: Option<&'a RateControl>,
    /// Encoder-specific parameter string.
    pub params: Option<&'a str>,
    /// Raw libavcodec options.
    pub options: Option<&'a BTreeMap<String, Scalar>>,
    /// Keyframe interval in frames.
    pub gop: Option<u32>,
    /// Bits per sample of the encoded pictures.
    pub bit_depth: u8,
    /// Which pass.
    pub pass: Pass,
    /// The statistics file of a two-pass encode with x264/x265.
    pub stats_file: Option<&'a Path>,
}

/// Everything libavcodec is told to open one encoder.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EncoderConfig {
    /// The libavcodec encoder name.
    pub codec: String,
    /// `bit_rate` in bit/s (0: unset).
    pub bit_rate: i64,
    /// `rc_max_rate` in bit/s (0: unset).
    pub max_rate: i64,
    /// `rc_min_rate` in bit/s (0: unset).
    pub min_rate: i64,
    /// `rc_buffer_size` in bits (0: unset).
    pub buffer_size: i64,
    /// `qmin`.
    pub qmin: Option<i32>,
    /// `qmax`.
    pub qmax: Option<i32>,
    /// `gop_size`.
    pub gop: Option<i32>,
    /// `thread_count` (0: automatic).
    pub threads: u32,
    /// `AV_CODEC_FLAG_PASS1` / `PASS2`.
    pub pass: Option<Pass>,
    /// How two-pass statistics travel.
    pub stats: Option<StatsChannel>,
    /// AVOptions, in the order they are set.
    pub options: Vec<(String, String)>,
}

impl EncoderConfig {
    fn set(&mut self, key: &str, value: impl ToString) {
        self.options.retain(|(k, _)| k != key);
        self.options.push((key.to_string(), value.to_string()));
    }

    /// The value of option `key`, if set.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The encoders rdbench knows the rate control of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    X264,
    X265,
    SvtAv1,
    Aom,
    Rav1e,
    Vp9,
    Other,
}

/// The quality scales of an encoder: the CRF and constant-QP ranges it accepts, and whether
/// its CRF takes fractional values (x264 and x265 do; the AV1 and VP9 wrappers of FFmpeg 5.1
/// to 7.x take whole numbers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QualityScale {
    /// Lowest and highest CRF.
    pub crf: (f64, f64),
    /// Lowest and highest constant QP.
    pub qp: (f64, f64),
    /// Whether a CRF such as 23.5 is accepted.
    pub crf_fractional: bool,
    /// Whether rdbench knows the encoder (for others the ranges are unbounded).
    pub known: bool,
}

/// The quality scales of `codec` at `bit_depth` (x264's ranges grow by 6 per extra bit).
pub fn quality_scale(codec: &str, bit_depth: u8) -> QualityScale {
    let extra = 6.0 * f64::from(bit_depth.saturating_sub(8));
    let (crf, qp, crf_fractional) = match family(codec) {
        Family::X264 => ((0.0, 51.0 + extra), (0.0, 69.0 + extra), true),
        Family::X265 => ((0.0, 51.0), (0.0, 51.0), true),
        Family::SvtAv1 => ((1.0, 63.0), (1.0, 63.0), false),
        Family::Aom | Family::Vp9 => ((0.0, 63.0), (0.0, 63.0), false),
        Family::Rav1e => ((0.0, 255.0), (0.0, 255.0), false),
        Family::Other => ((f64::MIN, f64::MAX), (f64::MIN, f64::MAX), true),
    };
    QualityScale {
        crf,
        qp,
        crf_fractional,
        known: family(codec) != Family::Other,
    }
}

/// The lowest constant quantiser `codec` accepts, where rdbench knows its range: the encode at
/// which it spends the most bits it can on a picture (None for other encoders).
pub fn lowest_qp(codec: &str) -> Option<f64> {
    match family(codec) {
        Family::X264 | Family::X265 | Family::Aom | Family::Vp9 | Family::Rav1e => Some(0.0),
        Family::SvtAv1 => Some(1.0),
        Family::Other => None,
    }
}

fn family(codec: &str) -> Family {
    match codec {
        "libx264" | "libx264rgb" => Family::X264,
        "libx265" => Family::X265,
        "libsvtav1" => Family::SvtAv1,
        "libaom-av1" => Family::Aom,
        "librav1e" => Family::Rav1e,
        "libvpx-vp9" => Family::Vp9,
        _ => Family::Other,
    }
}

const X26X_PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Every file a two-pass encode may leave for the statistics file `stats`: the file itself, the
/// macroblock-tree (x264) and CU-tree (x265) files beside it, and the temporaries both write
/// before renaming.
pub fn two_pass_files(stats: &Path) -> Vec<PathBuf> {
    [
        "",
        ".mbtree",
        ".cutree",
        ".temp",
        ".mbtree.temp",
        ".cutree.temp",
    ]
    .iter()
    .map(|ext| PathBuf::from(format!("{}{ext}", stats.display())))
    .collect()
}

/// Translates a request into libavcodec settings, checking every value against the encoder's
/// valid range and naming the job-spec field of anything out of range.
pub fn encoder_config(req: &EncoderRequest<'_>) -> Result<EncoderConfig> {
    let fam = family(req.codec);
    let mut cfg = EncoderConfig {
        codec: req.codec.to_string(),
        threads: req.threads.unwrap_or(0),
        ..Default::default()
    };
    let f = req.field;
    let mut params: Vec<(String, String)> = Vec::new();

    // Preset.
    if let Some(p) = req.preset {
        let field = format!("{f}.preset");
        match fam {
            Family::X264 | Family::X265 => {
                let name = p.to_string();
                if !X26X_PRESETS.contains(&name.as_str()) {
                    return Err(Error::Spec {
                        field,
                        message: format!(
                            "`{name}` is not a {} preset (one of {})",
                            req.codec,
                            X26X_PRESETS.join(", ")
                        ),
                    });
                }
                cfg.set("preset", name);
            }
            Family::SvtAv1 => cfg.set("preset", int_in(p, 0, 13, &field, req.codec)?),
            Family::Aom => cfg.set("cpu-used", int_in(p, 0, 9, &field, req.codec)?),
            Family::Vp9 => cfg.set("cpu-used", int_in(p, -9, 9, &field, req.codec)?),
            Family::Rav1e => cfg.set("speed", int_in(p, 0, 10, &field, req.codec)?),
            Family::Other => cfg.set("preset", p),
        }
    }

    // Threads the wrapper does not map itself.
    if let Some(n) = req.threads {
        if n == 0 {
            return Err(Error::Spec {
                field: format!("{f}.threads"),
                message: "must be at least 1 (leave it out for automatic)".into(),
            });
        }
        match fam {
            Family::X265 => {
                params.push(("pools".into(), n.to_string()));
                if n == 1 {
                    params.push(("frame-threads".into(), "1".into()));
                }
            }
            Family::SvtAv1 => params.push(("lp".into(), n.to_string())),
            _ => {}
        }
    }

    // Rate control.
    if let Some(rc) = req.rc {
        let field = format!("{f}.rc");
        let kbit = |k: f64| (k * 1000.0).round() as i64;
        match (fam, rc) {
            (Family::Rav1e, RateControl::Crf(_)) => {
                return Err(Error::Spec {
                    field: format!("{field}.mode"),
                    message: "librav1e has no CRF; use mode = \"qp\" (0-255)".into(),
                })
            }
            (Family::Rav1e, RateControl::Cbr { .. } | RateControl::CappedCrf { .. }) => {
                return Err(Error::Spec {
                    field: format!("{field}.mode"),
                    message: format!(
                        "librav1e does not support {} rate control; use qp or abr",
                        rc.mode()
                    ),
                })
            }
            _ => {}
        }
        // Quality values.
        let scale = quality_scale(req.codec, req.bit_depth);
        let (crf_range, qp_range, crf_float) = (scale.crf, scale.qp, scale.crf_fractional);
        let check = |v: f64, (lo, hi): (f64, f64), float_ok: bool, what: &str| -> Result<String> {
            if !v.is_finite() || v < lo || v > hi {
                return Err(Error::Spec {
                    field: format!("{field}.value"),
                    message: format!("{what} {v} is out of range for {} ({lo}-{hi})", req.codec),
                });
            }
            if !float_ok && v.fract() != 0.0 {
                return Err(Error::Spec {
                    field: format!("{field}.value"),
                    message: format!("{} takes a whole {what}, not {v}", req.codec),
                });
            }
            Ok(if v.fract() == 0.0 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            })
        };
        match *rc {
            RateControl::Crf(v) => {
                let s = check(v, crf_range, crf_float, "crf")?;
                cfg.set("crf", &s);
                if matches!(fam, Family::Aom | Family::Vp9) {
                    cfg.bit_rate = 0;
                }
            }
            RateControl::Qp(v) => {
                let s = check(v, qp_range, fam == Family::Other, "qp")?;
                match fam {
                    Family::Aom | Family::Vp9 => {
                        let q = v as i32;
                        cfg.set("crf", &s);
                        cfg.qmin = Some(q);
                        cfg.qmax = Some(q);
                    }
                    _ => cfg.set("qp", &s),
                }
            }
            RateControl::Abr { kbps, .. } => cfg.bit_rate = kbit(kbps),
            RateControl::Cbr {
                kbps,
                bufsize_kbits,
            } if fam == Family::SvtAv1 => {
                // FFmpeg's wrapper would pass maxrate = bitrate, which SVT-AV1 refuses ("Max
                // Bitrate must be greater than Target Bitrate"); its own parameters select CBR.
                // SVT-AV1 runs CBR only with the low-delay prediction structure.
                params.push(("rc".into(), "2".into()));
                params.push(("tbr".into(), format!("{}", kbps.round() as i64)));
                params.push((
                    "buf-sz".into(),
                    format!("{}", (bufsize_kbits / kbps * 1000.0).round() as i64),
                ));
                params.push(("pred-struct".into(), "1".into()));
            }
            RateControl::Cbr {
                kbps,
                bufsize_kbits,
            } => {
                cfg.bit_rate = kbit(kbps);
                cfg.max_rate = kbit(kbps);
                cfg.buffer_size = kbit(bufsize_kbits);
                match fam {
                    Family::Aom | Family::Vp9 => cfg.min_rate = kbit(kbps),
                    Family::X265 => {
                        params.push(("vbv-maxrate".into(), format!("{}", kbps.round() as i64)));
                        params.push((
                            "vbv-bufsize".into(),
                            format!("{}", bufsize_kbits.round() as i64),
                        ));
                    }
                    _ => {}
                }
            }
            RateControl::CappedCrf {
                crf,
                maxrate_kbps,
                bufsize_kbits,
            } => {
                let s = check(crf, crf_range, crf_float, "crf")?;
                cfg.set("crf", &s);
                match fam {
                    // Constrained quality: the bitrate is the cap.
                    Family::Aom | Family::Vp9 => {
                        cfg.bit_rate = kbit(maxrate_kbps);
                        cfg.max_rate = kbit(maxrate_kbps);
                    }
                    Family::X265 => {
                        params.push((
                            "vbv-maxrate".into(),
                            format!("{}", maxrate_kbps.round() as i64),
                        ));
                        params.push((
                            "vbv-bufsize".into(),
                            format!("{}", bufsize_kbits.round() as i64),
                        ));
                    }
                    _ => cfg.max_rate = kbit(maxrate_kbps),
                }
                cfg.buffer_size = kbit(bufsize_kbits);
            }
        }
    }

    // Two passes.
    match req.pass {
        Pass::Only => {}
        pass => {
            let n = if pass == Pass::First { 1 } else { 2 };
            match fam {
                Family::SvtAv1 => {
                    return Err(Error::Spec {
                        field: format!("{f}.rc.passes"),
                        message: "FFmpeg's libsvtav1 wrapper has no two-pass mode; use passes = 1"
                            .into(),
                    })
                }
                Family::X264 => {
                    let file = req.stats_file.ok_or_else(|| missing_stats(f))?;
                    cfg.pass = Some(pass);
                    cfg.stats = Some(StatsChannel::File(file.to_path_buf()));
                    cfg.set("stats", file.display());
                }
                Family::X265 => {
                    let file = req.stats_file.ok_or_else(|| missing_stats(f))?;
                    cfg.stats = Some(StatsChannel::File(file.to_path_buf()));
                    params.push(("pass".into(), n.to_string()));
                    params.push(("stats".into(), file.display().to_string()));
                }
                _ => {
                    cfg.pass = Some(pass);
                    cfg.stats = Some(StatsChannel::Context);
                }
            }
        }
    }

    if let Some(g) = req.gop {
        if g == 0 {
            return Err(Error::Spec {
                field: format!("{f}.gop"),
                message: "must be at least 1".into(),
            });
        }
        cfg.gop = Some(g as i32);
    }

    // Encoder-specific parameters: the user's first, then rdbench's unless the user set the key.
    let user = req.params.map(str::trim).filter(|p| !p.is_empty());
    if user.is_some() || !params.is_empty() {
        let key = match fam {
            Family::X264 => "x264-params",
            Family::X265 => "x265-params",
            Family::SvtAv1 => "svtav1-params",
            Family::Aom => "aom-params",
            Family::Rav1e => "rav1e-params",
            Family::Vp9 | Family::Other => {
                return Err(Error::Spec {
                    field: format!("{f}.params"),
                    message: format!(
                        "{} takes no parameter string; set its options in `options`",
                        req.codec
                    ),
                })
            }
        };
        let mut merged: Vec<String> = Vec::new();
        let mut user_keys: Vec<String> = Vec::new();
        if let Some(u) = user {
            for kv in u.split(':').filter(|s| !s.is_empty()) {
                let k = kv.split('=').next().unwrap_or(kv).trim().to_string();
                if k.is_empty() {
                    return Err(Error::Spec {
                        field: format!("{f}.params"),
                        message: format!("malformed entry `{kv}` (key=value expected)"),
                    });
                }
                user_keys.push(k);
                merged.push(kv.to_string());
            }
        }
        for (k, v) in params {
            if !user_keys.contains(&k) {
                merged.push(format!("{k}={v}"));
            }
        }
        cfg.set(key, merged.join(":"));
    }

    // Raw options last: they win over everything above.
    if let Some(opts) = req.options {
        for (k, v) in opts {
            cfg.set(k, v);
        }
    }
    Ok(cfg)
}

fn missing_stats(field: &str) -> Error {
    Error::Spec {
        field: format!("{field}.rc.passes"),
        message: "two-pass encode without a statistics file".into(),
    }
}

fn int_in(p: &Scalar, lo: i64, hi: i64, field: &str, codec: &str) -> Result<i64> {
    let v = match p {
        Scalar::Int(v) => Some(*v),
        Scalar::Str(s) => s.trim().parse::<i64>().ok(),
        Scalar::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    };
    match v {
        Some(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(Error::Spec {
            field: field.to_string(),
            message: format!("{codec} presets are numbers from {lo} to {hi}, not `{p}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_pass_leftovers_are_named_beside_the_stats_file() {
        let names: Vec<String> = two_pass_files(Path::new("/o/a.2pass.log"))
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/o/a.2pass.log",
                "/o/a.2pass.log.mbtree",
                "/o/a.2pass.log.cutree",
                "/o/a.2pass.log.temp",
                "/o/a.2pass.log.mbtree.temp",
                "/o/a.2pass.log.cutree.temp"
            ]
        );
    }

    fn req<'a>(codec: &'a str, rc: Option<&'a RateControl>) -> EncoderRequest<'a> {
        EncoderRequest {
            field: "output[0]",
            codec,
            preset: None,
            threads: None,
            rc,
            params: None,
            options: None,
            gop: None,
            bit_depth: 8,
            pass: Pass::Only,
            stats_file: None,
        }
    }

    fn opts(cfg: &EncoderConfig) -> Vec<(&str, &str)> {
        cfg.options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn x264_crf_with_preset_and_one_thread() {
        let rc = RateControl::Crf(23.0);
        let preset = Scalar::Str("veryfast".into());
        let mut r = req("libx264", Some(&rc));
        r.preset = Some(&preset);
        r.threads = Some(1);
        let cfg = encoder_config(&r).unwrap();
        assert_eq!(opts(&cfg), vec![("preset", "veryfast"), ("crf", "23")]);
        assert_eq!((cfg.threads, cfg.bit_rate, cfg.max_rate), (1, 0, 0));
    }

    #[test]
    fn x264_crf_99_is_out_of_range() {
        let rc = RateControl::Crf(99.0);
        let err = encoder_config(&req("libx264", Some(&rc)))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "output[0].rc.value: crf 99 is out of range for libx264 (0-51)"
        );
    }

    #[test]
    fn cbr_per_encoder() {
        let rc = RateControl::Cbr {
            kbps: 2000.0,
            bufsize_kbits: 4000.0,
        };
        let x264 = encoder_config(&req("libx264", Some(&rc))).unwrap();
        assert_eq!(
            (
                x264.bit_rate,
                x264.max_rate,
                x264.min_rate,
                x264.buffer_size
            ),
            (2_000_000, 2_000_000, 0, 4_000_000)
        );
        let vp9 = encoder_config(&req("libvpx-vp9", Some(&rc))).unwrap();
        assert_eq!(
            (vp9.bit_rate, vp9.max_rate, vp9.min_rate),
            (2_000_000, 2_000_000, 2_000_000)
        );
        let x265 = encoder_config(&req("libx265", Some(&rc))).unwrap();
        assert_eq!(
            x265.option("x265-params"),
            Some("vbv-maxrate=2000:vbv-bufsize=4000")
        );
        let svt = encoder_config(&req("libsvtav1", Some(&rc))).unwrap();
        assert_eq!(
            svt.option("svtav1-params"),
            Some("rc=2:tbr=2000:buf-sz=2000:pred-struct=1")
        );
        assert_eq!((svt.bit_rate, svt.max_rate), (0, 0));
        let rav1e = encoder_config(&req("librav1e", Some(&rc)))
            .unwrap_err()
            .to_string();
        assert_eq!(
            rav1e,
            "output[0].rc.mode: librav1e does not support cbr rate control; use qp or abr"
        );
    }

    #[test]
    fn capped_crf_and_qp() {
        let rc = RateControl::CappedCrf {
            crf: 30.0,
            maxrate_kbps: 1500.0,
            bufsize_kbits: 3000.0,
        };
        let aom = encoder_config(&req("libaom-av1", Some(&rc))).unwrap();
        assert_eq!(
            (aom.option("crf"), aom.bit_rate, aom.buffer_size),
            (Some("30"), 1_500_000, 3_000_000)
        );
        let x264 = encoder_config(&req("libx264", Some(&rc))).unwrap();
        assert_eq!(
            (x264.option("crf"), x264.bit_rate, x264.max_rate),
            (Some("30"), 0, 1_500_000)
        );
        let qp = RateControl::Qp(40.0);
        let vp9 = encoder_config(&req("libvpx-vp9", Some(&qp))).unwrap();
        assert_eq!(
            (vp9.qmin, vp9.qmax, vp9.option("crf")),
            (Some(40), Some(40), Some("40"))
        );
        let rav1e = encoder_config(&req("librav1e", Some(&RateControl::Qp(120.0)))).unwrap();
        assert_eq!(rav1e.option("qp"), Some("120"));
        let svt_frac = encoder_config(&req("libsvtav1", Some(&RateControl::Crf(30.5))))
            .unwrap_err()
            .to_string();
        assert!(svt_frac.contains("whole crf"), "{svt_frac}");
    }

    #[test]
    fn two_pass_statistics_per_encoder() {
        let rc = RateControl::Abr {
            kbps: 800.0,
            passes: 2,
        };
        let stats = Path::new("/tmp/o.stats");
        let mut r = req("libx264", Some(&rc));
        r.pass = Pass::First;
        r.stats_file = Some(stats);
        let x264 = encoder_config(&r).unwrap();
        assert_eq!(
            (x264.pass, x264.option("stats"), x264.bit_rate),
            (Some(Pass::First), Some("/tmp/o.stats"), 800_000)
        );
        r.codec = "libx265";
        r.pass = Pass::Second;
        let x265 = encoder_config(&r).unwrap();
        assert_eq!(
            x265.option("x265-params"),
            Some("pass=2:stats=/tmp/o.stats")
        );
        r.codec = "libvpx-vp9";
        let vp9 = encoder_config(&r).unwrap();
        assert_eq!(
            (vp9.pass, vp9.stats.clone()),
            (Some(Pass::Second), Some(StatsChannel::Context))
        );
        r.codec = "libsvtav1";
        assert!(encoder_config(&r)
            .unwrap_err()
            .to_string()
            .starts_with("output[0].rc.passes:"));
    }

    #[test]
    fn user_params_win_over_derived_ones() {
        let preset = Scalar::Int(10);
        let mut r = req("libsvtav1", None);
        r.preset = Some(&preset);
        r.threads = Some(2);
        r.params = Some("tune=0:lp=4");
        let cfg = encoder_config(&r).unwrap();
        assert_eq!(
            opts(&cfg),
            vec![("preset", "10"), ("svtav1-params", "tune=0:lp=4")]
        );
        r.params = None;
        let cfg = encoder_config(&r).unwrap();
        assert_eq!(cfg.option("svtav1-params"), Some("lp=2"));
        let bad = Scalar::Str("fast".into());
        r.preset = Some(&bad);
        assert_eq!(
            encoder_config(&r).unwrap_err().to_string(),
            "output[0].preset: libsvtav1 presets are numbers from 0 to 13, not `fast`"
        );
        let mut v = req("libvpx-vp9", None);
        v.params = Some("a=1");
        assert!(encoder_config(&v)
            .unwrap_err()
            .to_string()
            .starts_with("output[0].params: libvpx-vp9 takes no parameter string"));
    }

    #[test]
    fn x265_threads_become_pools() {
        let mut r = req("libx265", None);
        r.threads = Some(1);
        assert_eq!(
            encoder_config(&r).unwrap().option("x265-params"),
            Some("pools=1:frame-threads=1")
        );
        r.threads = Some(0);
        assert!(encoder_config(&r).is_err());
    }

    #[test]
    fn raw_options_come_last_and_win() {
        let mut o = BTreeMap::new();
        o.insert("crf".to_string(), Scalar::Int(30));
        o.insert("tune".to_string(), Scalar::Str("ssim".into()));
        let rc = RateControl::Crf(23.0);
        let mut r = req("libx264", Some(&rc));
        r.options = Some(&o);
        let cfg = encoder_config(&r).unwrap();
        assert_eq!(opts(&cfg), vec![("crf", "30"), ("tune", "ssim")]);
    }
}
