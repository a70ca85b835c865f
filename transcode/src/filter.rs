//! Video filtering as pure decisions: output size, frame-rate sampling and the libavfilter graph
//! string of a flow. The filter task (`task::filter`) executes what these functions decide.

use crate::spec::{CropSpec, FpsMode};

/// A swscale algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScaleAlgorithm {
    /// Bicubic (the default, and common practice for ladder rungs).
    #[default]
    Bicubic,
    /// Bilinear.
    Bilinear,
    /// Fast bilinear.
    FastBilinear,
    /// Lanczos.
    Lanczos,
    /// Spline.
    Spline,
    /// Area averaging.
    Area,
    /// Nearest neighbour.
    Neighbor,
    /// Gaussian.
    Gauss,
}

impl ScaleAlgorithm {
    /// Every algorithm with its name.
    pub const ALL: [(&'static str, ScaleAlgorithm); 8] = [
        ("bicubic", ScaleAlgorithm::Bicubic),
        ("bilinear", ScaleAlgorithm::Bilinear),
        ("fast_bilinear", ScaleAlgorithm::FastBilinear),
        ("lanczos", ScaleAlgorithm::Lanczos),
        ("spline", ScaleAlgorithm::Spline),
        ("area", ScaleAlgorithm::Area),
        ("neighbor", ScaleAlgorithm::Neighbor),
        ("gauss", ScaleAlgorithm::Gauss),
    ];

    /// The algorithm called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, a)| a)
    }

    /// Its name in swscale's `flags` option.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("bicubic")
    }
}

/// The output size for a source of `src_w`x`src_h` and the requested width and/or height.
/// With one side given, the other keeps the aspect ratio, rounded to the nearest even number
/// (as libavfilter's `scale=-2:H` does: round(H * src_w / (src_h * 2)) * 2).
pub fn output_size(src_w: u32, src_h: u32, want_w: Option<u32>, want_h: Option<u32>) -> (u32, u32) {
    let even = |num: u64, den: u64| -> u32 {
        // Round half away from zero of num / (den * 2), then times 2 (av_rescale's rounding).
        let d = den * 2;
        (((num + d / 2) / d) * 2).max(2) as u32
    };
    match (want_w, want_h) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (w, even(w as u64 * src_h as u64, src_w as u64)),
        (None, Some(h)) => (even(h as u64 * src_w as u64, src_h as u64), h),
        (None, None) => (src_w, src_h),
    }
}

/// A frame rate as a ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Numerator.
    pub num: i32,
    /// Denominator.
    pub den: i32,
}

impl Rate {
    /// The rate in frames per second.
    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Parses "30", "29.97", "30000/1001".
    pub fn parse(text: &str) -> Option<Rate> {
        let t = text.trim();
        if let Some((n, d)) = t.split_once('/') {
            let (n, d) = (n.trim().parse::<i32>().ok()?, d.trim().parse::<i32>().ok()?);
            return (n > 0 && d > 0).then_some(Rate { num: n, den: d });
        }
        Rate::from_f64(t.parse::<f64>().ok()?)
    }

    /// A rate from a number: whole numbers exactly, the NTSC rates as x000/1001, others in
    /// thousandths.
    pub fn from_f64(fps: f64) -> Option<Rate> {
        if !(fps.is_finite() && fps > 0.0 && fps < 10_000.0) {
            return None;
        }
        if (fps - fps.round()).abs() < 1e-9 {
            return Some(Rate {
                num: fps.round() as i32,
                den: 1,
            });
        }
        for base in [24, 30, 48, 60, 120] {
            if (fps - base as f64 * 1000.0 / 1001.0).abs() < 0.005 {
                return Some(Rate {
                    num: base * 1000,
                    den: 1001,
                });
            }
        }
        Some(Rate {
            num: (fps * 1000.0).round() as i32,
            den: 1000,
        })
    }
}

/// VFR-HALF's k: keep one frame in k. When the source is faster than the target, k is the
/// smallest whole divisor that brings the source rate to at most 10% above the target
/// (50 -> 25 for a 30 target, 60 -> 30, 59.94 -> 29.97); otherwise every frame is kept (k = 1).
pub fn vfr_half_divisor(source_fps: f64, target_fps: f64) -> u32 {
    if !(source_fps > target_fps) || target_fps <= 0.0 {
        return 1;
    }
    let limit = target_fps * 1.1 + 1e-9;
    let mut k = 1u32;
    while source_fps / k as f64 > limit {
        k += 1;
    }
    k
}

/// How a flow samples frames before its filter graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// Every frame passes (CFR conversion, if any, happens in the graph).
    All,
    /// Keep one frame in `k` (VFR-HALF); the output rate is the source rate / k.
    OneIn(u32),
    /// Keep at most one frame per `1 / max_fps` slot of the timeline, with its own timestamp (VFR).
    MaxRate(f64),
}

/// The frame-rate decision of a flow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameRatePlan {
    /// What happens before the graph.
    pub sampling: Sampling,
    /// A CFR target for libavfilter's fps filter, when the mode is CFR.
    pub cfr: Option<Rate>,
    /// The output's nominal rate (the encoder's frame rate).
    pub output: Rate,
}

/// Decides how a flow reaches `target` from a source of rate `source`.
pub fn frame_rate_plan(source: Rate, target: Option<Rate>, mode: Option<FpsMode>) -> FrameRatePlan {
    let Some(target) = target else {
        return FrameRatePlan {
            sampling: Sampling::All,
            cfr: None,
            output: source,
        };
    };
    match mode.unwrap_or(FpsMode::Cfr) {
        FpsMode::Cfr => {
            if target == source {
                FrameRatePlan {
                    sampling: Sampling::All,
                    cfr: None,
                    output: source,
                }
            } else {
                FrameRatePlan {
                    sampling: Sampling::All,
                    cfr: Some(target),
                    output: target,
                }
            }
        }
        FpsMode::Vfr => {
            if source.fps() <= target.fps() {
                FrameRatePlan {
                    sampling: Sampling::All,
                    cfr: None,
                    output: source,
                }
            } else {
                FrameRatePlan {
                    sampling: Sampling::MaxRate(target.fps()),
                    cfr: None,
                    output: target,
                }
            }
        }
        FpsMode::VfrHalf => {
            let k = vfr_half_divisor(source.fps(), target.fps());
            let output = if k == 1 {
                source
            } else {
                reduce(source.num, source.den * k as i32)
            };
            FrameRatePlan {
                sampling: if k == 1 {
                    Sampling::All
                } else {
                    Sampling::OneIn(k)
                },
                cfr: None,
                output,
            }
        }
    }
}

fn reduce(num: i32, den: i32) -> Rate {
    fn gcd(a: i32, b: i32) -> i32 {
        if b == 0 {
            a.abs()
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(num, den).max(1);
    Rate {
        num: num / g,
        den: den / g,
    }
}

/// What the filter graph of one video flow does, in order: fps (CFR), crop, scale, format, extra.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VideoGraphPlan {
    /// A CFR target.
    pub cfr: Option<Rate>,
    /// A crop.
    pub crop: Option<CropSpec>,
    /// Filters that turn or flip the picture (after the crop).
    pub turn: Vec<&'static str>,
    /// A scale to this size with this algorithm.
    pub scale: Option<(u32, u32, ScaleAlgorithm)>,
    /// A pixel format conversion.
    pub pix_fmt: Option<String>,
    /// A user graph appended last.
    pub extra: Option<String>,
}

impl VideoGraphPlan {
    /// The libavfilter graph string, or None when the flow needs no filtering at all.
    pub fn graph(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(r) = self.cfr {
            parts.push(if r.den == 1 {
                format!("fps={}", r.num)
            } else {
                format!("fps={}/{}", r.num, r.den)
            });
        }
        if let Some(c) = self.crop {
            parts.push(format!("crop={}:{}:{}:{}", c.width, c.height, c.x, c.y));
        }
        parts.extend(self.turn.iter().map(|f| f.to_string()));
        if let Some((w, h, algo)) = self.scale {
            parts.push(format!("scale={w}:{h}:flags={}", algo.name()));
        }
        if let Some(p) = &self.pix_fmt {
            parts.push(format!("format={p}"));
        }
        if let Some(e) = &self.extra {
            if !e.trim().is_empty() {
                parts.push(e.trim().to_string());
            }
        }
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

/// Decides frame by frame which frames a [`Sampling`] keeps.
#[derive(Clone, Debug)]
pub struct Sampler {
    sampling: Sampling,
    seen: u64,
    last_slot: Option<i64>,
}

impl Sampler {
    /// A sampler starting at the first frame.
    pub fn new(sampling: Sampling) -> Self {
        Sampler {
            sampling,
            seen: 0,
            last_slot: None,
        }
    }

    /// Whether the next frame, at `t` seconds, is kept.
    pub fn keep(&mut self, t: f64) -> bool {
        let index = self.seen;
        self.seen += 1;
        match self.sampling {
            Sampling::All => true,
            Sampling::OneIn(k) => index % k as u64 == 0,
            Sampling::MaxRate(fps) => {
                // The slot a frame falls in; a tiny epsilon keeps frames sitting exactly on a
                // slot boundary in that slot despite float rounding.
                let slot = (t * fps + 1e-6).floor() as i64;
                if self.last_slot.is_some_and(|last| slot <= last) {
                    false
                } else {
                    self.last_slot = Some(slot);
                    true
                }
            }
        }
    }
}

/// The one rate a timestamp-free container (Y4M) declares for a flow planned as `fr`, from a
/// source whose container's base rate is `base`. A flow that resamples or thins declares its
/// target. Otherwise the base rate: the step a constant-rate source's timestamps keep to, where
/// the average rate is off when the stream starts late or its duration is rounded (a 30 fps MP4
/// can average 30.12). A base rate above 240 fps is a variable-rate stream's time base, not a
/// frame rate, and the average is declared instead.
pub fn declared_rate(fr: &FrameRatePlan, base: Option<Rate>) -> Rate {
    match (fr.sampling, fr.cfr, base) {
        (Sampling::All, None, Some(b)) if b.num > 0 && b.den > 0 && b.fps() <= 240.0 => b,
        _ => fr.output,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_timestamp_free_output_declares_the_base_rate_unless_it_resamples() {
        let r = |num, den| Rate { num, den };
        // A 30 fps MP4 whose average is 2500/83 (30.12): the base rate.
        let fr = frame_rate_plan(r(2500, 83), None, None);
        assert_eq!(declared_rate(&fr, Some(r(30, 1))), r(30, 1));
        // A variable-rate stream's base rate is its time base: the average stays.
        assert_eq!(declared_rate(&fr, Some(r(15360, 1))), r(2500, 83));
        assert_eq!(declared_rate(&fr, None), r(2500, 83));
        // Resampling to 25 fps declares 25 whatever the source's base rate.
        let fr = frame_rate_plan(r(2500, 83), Some(r(25, 1)), None);
        assert_eq!(declared_rate(&fr, Some(r(30, 1))), r(25, 1));
        // Thinning to at most 15 fps declares 15.
        let fr = frame_rate_plan(r(30, 1), Some(r(15, 1)), Some(FpsMode::Vfr));
        assert_eq!(declared_rate(&fr, Some(r(30, 1))), r(15, 1));
    }

    #[test]
    fn samplers_keep_the_right_frames() {
        let times: Vec<f64> = (0..50).map(|i| i as f64 / 50.0).collect();
        let mut half = Sampler::new(Sampling::OneIn(2));
        assert_eq!(times.iter().filter(|&&t| half.keep(t)).count(), 25);
        let mut vfr = Sampler::new(Sampling::MaxRate(30.0));
        let kept: Vec<f64> = times.iter().copied().filter(|&t| vfr.keep(t)).collect();
        assert_eq!(
            kept.len(),
            30,
            "one second at 50 fps under a 30 fps cap keeps 30 frames"
        );
        assert_eq!(&kept[..4], &[0.0, 0.04, 0.08, 0.10]);
        let mut all = Sampler::new(Sampling::All);
        assert!(times.iter().all(|&t| all.keep(t)));
    }

    use super::*;

    #[test]
    fn one_side_keeps_the_aspect_ratio_rounded_to_even() {
        assert_eq!(output_size(1920, 1080, None, Some(720)), (1280, 720));
        assert_eq!(output_size(1920, 1080, None, Some(480)), (854, 480));
        assert_eq!(output_size(1920, 1080, None, Some(360)), (640, 360));
        assert_eq!(output_size(1920, 1080, Some(1280), None), (1280, 720));
        assert_eq!(output_size(1920, 800, Some(1000), None), (1000, 416));
        assert_eq!(output_size(1920, 1080, Some(100), Some(50)), (100, 50));
        assert_eq!(output_size(1920, 1080, None, None), (1920, 1080));
    }

    #[test]
    fn vfr_half_picks_whole_divisors() {
        assert_eq!(vfr_half_divisor(50.0, 30.0), 2);
        assert_eq!(vfr_half_divisor(60.0, 30.0), 2);
        assert_eq!(vfr_half_divisor(120.0, 30.0), 4);
        assert_eq!(vfr_half_divisor(60000.0 / 1001.0, 30.0), 2);
        assert_eq!(vfr_half_divisor(32.0, 30.0), 1);
        assert_eq!(vfr_half_divisor(24.0, 30.0), 1);
        assert_eq!(vfr_half_divisor(30.0, 30.0), 1);
        assert_eq!(vfr_half_divisor(100.0, 30.0), 4);
    }

    #[test]
    fn vfr_half_plan_for_50_to_30_is_25() {
        let p = frame_rate_plan(
            Rate { num: 50, den: 1 },
            Some(Rate { num: 30, den: 1 }),
            Some(FpsMode::VfrHalf),
        );
        assert_eq!(p.sampling, Sampling::OneIn(2));
        assert_eq!(p.output, Rate { num: 25, den: 1 });
        assert_eq!(p.cfr, None);
    }

    #[test]
    fn cfr_uses_the_fps_filter_and_vfr_drops() {
        let p = frame_rate_plan(
            Rate { num: 50, den: 1 },
            Some(Rate { num: 30, den: 1 }),
            None,
        );
        assert_eq!(p.cfr, Some(Rate { num: 30, den: 1 }));
        let v = frame_rate_plan(
            Rate { num: 50, den: 1 },
            Some(Rate { num: 30, den: 1 }),
            Some(FpsMode::Vfr),
        );
        assert_eq!(v.sampling, Sampling::MaxRate(30.0));
        let same = frame_rate_plan(
            Rate { num: 30, den: 1 },
            Some(Rate { num: 30, den: 1 }),
            None,
        );
        assert_eq!((same.sampling, same.cfr), (Sampling::All, None));
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("30000/1001"),
            Some(Rate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(
            Rate::parse("29.97"),
            Some(Rate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(Rate::parse("25"), Some(Rate { num: 25, den: 1 }));
        assert_eq!(
            Rate::parse("12.5"),
            Some(Rate {
                num: 12500,
                den: 1000
            })
        );
        assert_eq!(Rate::parse("0"), None);
        assert_eq!(Rate::parse("abc"), None);
    }

    #[test]
    fn graph_strings_are_exact() {
        let plan = VideoGraphPlan {
            cfr: Some(Rate {
                num: 30000,
                den: 1001,
            }),
            crop: Some(CropSpec {
                width: 1920,
                height: 800,
                x: 0,
                y: 140,
            }),
            turn: vec!["transpose=clock"],
            scale: Some((1280, 534, ScaleAlgorithm::Lanczos)),
            pix_fmt: Some("yuv420p10le".into()),
            extra: Some("hqdn3d".into()),
        };
        assert_eq!(
            plan.graph().unwrap(),
            "fps=30000/1001,crop=1920:800:0:140,transpose=clock,scale=1280:534:flags=lanczos,format=yuv420p10le,hqdn3d"
        );
        assert_eq!(VideoGraphPlan::default().graph(), None);
        let scale_only = VideoGraphPlan {
            scale: Some((640, 360, ScaleAlgorithm::default())),
            ..Default::default()
        };
        assert_eq!(scale_only.graph().unwrap(), "scale=640:360:flags=bicubic");
    }
}
