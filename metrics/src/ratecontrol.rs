//! Rate-control accuracy from an encode's packet trace: the average bitrate against a target, the
//! peak bitrate over a sliding window against a maxrate, and a leaky-bucket (HRD-style VBV) check
//! of the coded picture buffer for CBR and capped modes.
//!
//! # Definitions
//!
//! - **Stream duration**: from the earliest presentation timestamp to the latest presentation
//!   end (`pts + duration`). A packet without a known duration (`None`, or 0, which is how FFmpeg
//!   marks an unknown duration) is taken to last the nominal frame interval, the median of the
//!   gaps between consecutive distinct presentation timestamps.
//! - **Average bitrate**: all packet bits over the stream duration. The error against a target is
//!   `(actual - target) / target * 100` (positive: the encode overshoots).
//! - **Peak bitrate**: one window of length `window_s` (1 s by default) is anchored at each
//!   packet's decode timestamp, in decode order: `[dts_i, dts_i + window_s)`. Its rate is the
//!   bits of every packet whose decode timestamp falls inside, divided by `window_s`; the peak is
//!   the largest over all windows (the first such window if several tie). A timestamp within 1 ns
//!   of a window's end counts as at the end, i.e. outside, so that rounding in seconds computed
//!   from a time base cannot move a frame across the boundary. Windows near the end of the stream
//!   contain fewer packets and are still divided by the full window length.
//! - **VBV (leaky bucket)**, the decoder's coded picture buffer: bits arrive at `maxrate`; the
//!   buffer holds `initial_fullness * buffer` (90 % by default, as x264 and x265 start it) when the
//!   first packet is removed; each packet's bits are removed instantly at its decode timestamp.
//!   Fullness is recorded just before and just after each removal.
//!   - *Underflow*: a packet has more bits than the buffer holds at its decode time; the decoder
//!     would stall. The buffer is then taken as empty and the model continues. Always a violation.
//!   - *Overflow*: the bits arriving since the previous removal would exceed the buffer size. In
//!     **CBR** the channel delivers at `maxrate` without pause, so the encoder should have produced
//!     more bits (or filler): a violation. In **capped** (VBR with a maxrate) mode the channel
//!     simply stops sending while the buffer is full, which is how such encodes normally run on
//!     easy content: it is counted for information but is not a violation. In both cases the
//!     fullness is clamped to the buffer size.

use serde::Serialize;
use thiserror::Error;

/// The default sliding-window length for the peak bitrate, in seconds.
pub const DEFAULT_PEAK_WINDOW_S: f64 = 1.0;

/// The default initial VBV fullness, as a fraction of the buffer size.
pub const DEFAULT_VBV_INITIAL_FULLNESS: f64 = 0.9;

/// Timestamps this close (in seconds) to a window's end count as at the end.
const WINDOW_EDGE_S: f64 = 1e-9;

/// A rational time base: one tick lasts `num / den` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeBase {
    /// Numerator.
    pub num: i64,
    /// Denominator (positive).
    pub den: i64,
}

impl TimeBase {
    /// A time base of `num / den` seconds per tick.
    pub fn new(num: i64, den: i64) -> Self {
        TimeBase { num, den }
    }

    /// `ticks` in seconds.
    pub fn seconds(self, ticks: i64) -> f64 {
        ticks as f64 * self.num as f64 / self.den as f64
    }
}

/// One coded packet (one frame, usually) of an encode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Packet {
    /// The packet's size in bytes.
    pub size_bytes: u64,
    /// The presentation timestamp, in seconds.
    pub pts: f64,
    /// The decode timestamp, in seconds.
    pub dts: f64,
    /// The presentation duration in seconds, when known (0 is read as unknown, as in FFmpeg).
    pub duration: Option<f64>,
    /// Whether the packet is a key frame.
    pub key: bool,
}

impl Packet {
    /// A packet with timestamps in seconds.
    pub fn new(size_bytes: u64, pts: f64, dts: f64, duration: Option<f64>, key: bool) -> Self {
        Packet {
            size_bytes,
            pts,
            dts,
            duration,
            key,
        }
    }

    /// A packet with timestamps in ticks of `time_base`.
    pub fn from_ticks(
        size_bytes: u64,
        pts: i64,
        dts: i64,
        duration: Option<i64>,
        time_base: TimeBase,
        key: bool,
    ) -> Self {
        Packet {
            size_bytes,
            pts: time_base.seconds(pts),
            dts: time_base.seconds(dts),
            duration: duration.map(|d| time_base.seconds(d)),
            key,
        }
    }

    /// The packet's size in bits.
    pub fn bits(&self) -> u64 {
        self.size_bytes * 8
    }
}

/// Errors in a packet trace or an analysis parameter. Packet indices are 0-based, in decode order.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum RateControlError {
    /// The trace has no packet.
    #[error("the packet trace is empty")]
    EmptyTrace,
    /// A timestamp or duration is NaN or infinite.
    #[error("packet {index}: {field} is {value}, expected a finite number of seconds")]
    NonFiniteTime {
        /// The packet's index.
        index: usize,
        /// `pts`, `dts` or `duration`.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A packet's duration is negative.
    #[error("packet {index}: duration is {value} s, expected zero or more")]
    NegativeDuration {
        /// The packet's index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Packets are not in decode order.
    #[error("packet {index}: dts {dts} s is before the previous packet's {previous} s; packets must be in decode order")]
    DecodeOrder {
        /// The packet's index.
        index: usize,
        /// The previous packet's dts.
        previous: f64,
        /// This packet's dts.
        dts: f64,
    },
    /// The stream duration cannot be known: no packet duration and a single timestamp.
    #[error(
        "cannot tell the stream duration: packets have no duration and a single presentation time"
    )]
    UnknownDuration,
    /// An analysis parameter is out of range.
    #[error("{name} is {value}, expected {expected}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
}

/// A validated packet trace in decode order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacketTrace {
    packets: Vec<Packet>,
}

impl PacketTrace {
    /// A trace from packets in decode order. Rejects an empty trace, non-finite timestamps,
    /// negative durations and decreasing decode timestamps.
    pub fn new(packets: Vec<Packet>) -> Result<Self, RateControlError> {
        if packets.is_empty() {
            return Err(RateControlError::EmptyTrace);
        }
        for (index, p) in packets.iter().enumerate() {
            for (field, value) in [("pts", p.pts), ("dts", p.dts)]
                .into_iter()
                .chain(p.duration.map(|d| ("duration", d)))
            {
                if !value.is_finite() {
                    return Err(RateControlError::NonFiniteTime {
                        index,
                        field,
                        value,
                    });
                }
            }
            if let Some(d) = p.duration.filter(|d| *d < 0.0) {
                return Err(RateControlError::NegativeDuration { index, value: d });
            }
            if index > 0 && p.dts < packets[index - 1].dts {
                return Err(RateControlError::DecodeOrder {
                    index,
                    previous: packets[index - 1].dts,
                    dts: p.dts,
                });
            }
        }
        Ok(PacketTrace { packets })
    }

    /// The packets, in decode order.
    pub fn packets(&self) -> &[Packet] {
        &self.packets
    }

    /// All packet bits.
    pub fn total_bits(&self) -> u64 {
        self.packets.iter().map(Packet::bits).sum()
    }

    /// The nominal frame interval: the median gap between consecutive distinct presentation
    /// timestamps, or `None` with a single presentation time.
    pub fn nominal_frame_interval(&self) -> Option<f64> {
        let mut pts: Vec<f64> = self.packets.iter().map(|p| p.pts).collect();
        pts.sort_by(f64::total_cmp);
        pts.dedup();
        let mut gaps: Vec<f64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.is_empty() {
            return None;
        }
        gaps.sort_by(f64::total_cmp);
        let mid = gaps.len() / 2;
        Some(if gaps.len() % 2 == 1 {
            gaps[mid]
        } else {
            0.5 * (gaps[mid - 1] + gaps[mid])
        })
    }

    /// The stream duration in seconds (see the module documentation).
    pub fn duration_s(&self) -> Result<f64, RateControlError> {
        let known = |p: &Packet| p.duration.filter(|d| *d > 0.0);
        let needs_nominal = self.packets.iter().any(|p| known(p).is_none());
        let nominal = if needs_nominal {
            Some(
                self.nominal_frame_interval()
                    .ok_or(RateControlError::UnknownDuration)?,
            )
        } else {
            None
        };
        let start = self
            .packets
            .iter()
            .map(|p| p.pts)
            .fold(f64::INFINITY, f64::min);
        let end = self
            .packets
            .iter()
            .map(|p| p.pts + known(p).or(nominal).unwrap_or(0.0))
            .fold(f64::NEG_INFINITY, f64::max);
        let duration = end - start;
        if duration > 0.0 {
            Ok(duration)
        } else {
            Err(RateControlError::UnknownDuration)
        }
    }
}

/// The average bitrate of an encode against its target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BitrateAccuracy {
    /// The stream duration, in seconds.
    pub duration_s: f64,
    /// All packet bits.
    pub total_bits: u64,
    /// The average bitrate, in kbit/s (1000 bit/s).
    pub actual_kbps: f64,
    /// The target, in kbit/s.
    pub target_kbps: f64,
    /// `(actual - target) / target * 100`.
    pub error_percent: f64,
}

/// The average bitrate over the stream duration and its error against `target_kbps`.
pub fn bitrate_accuracy(
    trace: &PacketTrace,
    target_kbps: f64,
) -> Result<BitrateAccuracy, RateControlError> {
    positive("target_kbps", target_kbps)?;
    let duration_s = trace.duration_s()?;
    let total_bits = trace.total_bits();
    let actual_kbps = total_bits as f64 / duration_s / 1000.0;
    Ok(BitrateAccuracy {
        duration_s,
        total_bits,
        actual_kbps,
        target_kbps,
        error_percent: (actual_kbps - target_kbps) / target_kbps * 100.0,
    })
}

/// The peak bitrate over a sliding window, against an optional maxrate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeakBitrate {
    /// The window length, in seconds.
    pub window_s: f64,
    /// The highest windowed bitrate, in kbit/s.
    pub peak_kbps: f64,
    /// The decode timestamp the peak window starts at, in seconds.
    pub window_start_s: f64,
    /// The maxrate checked against, in kbit/s.
    pub maxrate_kbps: Option<f64>,
    /// Whether the peak is above the maxrate.
    pub exceeded: bool,
    /// How far the peak is above the maxrate, in kbit/s (0 when not exceeded or no maxrate).
    pub excess_kbps: f64,
    /// The excess as a percentage of the maxrate (0 when not exceeded or no maxrate).
    pub excess_percent: f64,
}

/// The peak bitrate over windows of `window_s` seconds anchored at each packet's decode timestamp
/// (see the module documentation), checked against `maxrate_kbps` if given.
pub fn peak_bitrate(
    trace: &PacketTrace,
    window_s: f64,
    maxrate_kbps: Option<f64>,
) -> Result<PeakBitrate, RateControlError> {
    positive("window_s", window_s)?;
    if let Some(maxrate) = maxrate_kbps {
        positive("maxrate_kbps", maxrate)?;
    }
    let packets = &trace.packets;
    let (mut best_bits, mut best_start) = (0u64, packets[0].dts);
    let mut end = 0; // one past the last packet inside the current window
    let mut bits_inside = 0u64;
    for (start, first) in packets.iter().enumerate() {
        if end < start {
            end = start;
            bits_inside = 0;
        }
        let limit = first.dts + window_s - WINDOW_EDGE_S;
        while end < packets.len() && packets[end].dts < limit {
            bits_inside += packets[end].bits();
            end += 1;
        }
        if bits_inside > best_bits {
            best_bits = bits_inside;
            best_start = first.dts;
        }
        if end > start {
            bits_inside -= first.bits();
        }
    }
    let peak_kbps = best_bits as f64 / window_s / 1000.0;
    let excess_kbps = maxrate_kbps.map_or(0.0, |m| (peak_kbps - m).max(0.0));
    Ok(PeakBitrate {
        window_s,
        peak_kbps,
        window_start_s: best_start,
        maxrate_kbps,
        exceeded: excess_kbps > 0.0,
        excess_kbps,
        excess_percent: maxrate_kbps.map_or(0.0, |m| excess_kbps / m * 100.0),
    })
}

/// Whether the channel may pause when the buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VbvMode {
    /// Constant bitrate: the channel never pauses, so overflow is a violation.
    Cbr,
    /// VBR capped by a maxrate: the channel pauses while the buffer is full; overflow is not a
    /// violation.
    Capped,
}

/// The leaky-bucket parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VbvParams {
    /// The buffer size, in kbit (1000 bit).
    pub buffer_kbits: f64,
    /// The fill rate, in kbit/s.
    pub maxrate_kbps: f64,
    /// The fullness when the first packet is removed, as a fraction of the buffer (0 to 1).
    pub initial_fullness: f64,
    /// CBR or capped.
    pub mode: VbvMode,
}

impl VbvParams {
    /// Parameters with the default initial fullness of 90 %.
    pub fn new(buffer_kbits: f64, maxrate_kbps: f64, mode: VbvMode) -> Self {
        VbvParams {
            buffer_kbits,
            maxrate_kbps,
            initial_fullness: DEFAULT_VBV_INITIAL_FULLNESS,
            mode,
        }
    }
}

/// The buffer around one packet's removal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VbvSample {
    /// The packet's decode timestamp, in seconds.
    pub dts: f64,
    /// The packet's size, in kbit.
    pub packet_kbits: f64,
    /// Fullness just before removal (after the clamp to the buffer size), in kbit.
    pub before_kbits: f64,
    /// Fullness just after removal (0 after an underflow), in kbit.
    pub after_kbits: f64,
}

/// The outcome of the leaky-bucket check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VbvReport {
    /// The parameters checked.
    pub params: VbvParams,
    /// Fullness around every packet, in decode order.
    pub samples: Vec<VbvSample>,
    /// How many packets found too few bits in the buffer.
    pub underflow_count: usize,
    /// The largest shortfall, in kbit (0 without underflow).
    pub worst_underflow_kbits: f64,
    /// How many times arriving bits would have exceeded the buffer.
    pub overflow_count: usize,
    /// The largest excess, in kbit (0 without overflow).
    pub worst_overflow_kbits: f64,
    /// The lowest fullness after a removal, in kbit (negative values are clamped to 0).
    pub min_fullness_kbits: f64,
    /// Underflows, plus overflows in CBR mode.
    pub violations: usize,
}

impl VbvReport {
    /// Whether the stream respects the buffer model.
    pub fn compliant(&self) -> bool {
        self.violations == 0
    }
}

/// Runs the leaky-bucket model (see the module documentation) over the trace.
pub fn vbv_check(trace: &PacketTrace, params: &VbvParams) -> Result<VbvReport, RateControlError> {
    positive("buffer_kbits", params.buffer_kbits)?;
    positive("maxrate_kbps", params.maxrate_kbps)?;
    if !(0.0..=1.0).contains(&params.initial_fullness) {
        return Err(RateControlError::InvalidParameter {
            name: "initial_fullness",
            value: params.initial_fullness,
            expected: "a fraction from 0 to 1",
        });
    }
    let size = params.buffer_kbits;
    let mut fullness = params.initial_fullness * size;
    let mut report = VbvReport {
        params: *params,
        samples: Vec::with_capacity(trace.packets.len()),
        underflow_count: 0,
        worst_underflow_kbits: 0.0,
        overflow_count: 0,
        worst_overflow_kbits: 0.0,
        min_fullness_kbits: f64::INFINITY,
        violations: 0,
    };
    let mut previous_dts = trace.packets[0].dts;
    for packet in &trace.packets {
        fullness += params.maxrate_kbps * (packet.dts - previous_dts);
        previous_dts = packet.dts;
        if fullness > size {
            report.overflow_count += 1;
            report.worst_overflow_kbits = report.worst_overflow_kbits.max(fullness - size);
            if params.mode == VbvMode::Cbr {
                report.violations += 1;
            }
            fullness = size;
        }
        let before = fullness;
        let packet_kbits = packet.bits() as f64 / 1000.0;
        fullness -= packet_kbits;
        if fullness < 0.0 {
            report.underflow_count += 1;
            report.worst_underflow_kbits = report.worst_underflow_kbits.max(-fullness);
            report.violations += 1;
            fullness = 0.0;
        }
        report.min_fullness_kbits = report.min_fullness_kbits.min(fullness);
        report.samples.push(VbvSample {
            dts: packet.dts,
            packet_kbits,
            before_kbits: before,
            after_kbits: fullness,
        });
    }
    Ok(report)
}

/// What a rate-controlled encode was asked for; each figure is checked when its target is given.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RateControlTarget {
    /// The target average bitrate, in kbit/s.
    pub target_kbps: Option<f64>,
    /// The maxrate, in kbit/s (peak check; VBV fill rate).
    pub maxrate_kbps: Option<f64>,
    /// The VBV buffer size, in kbit (the VBV check needs it and a maxrate).
    pub buffer_kbits: Option<f64>,
    /// The initial VBV fullness fraction; the default is 90 %.
    pub initial_fullness: Option<f64>,
    /// CBR (overflow is a violation) or capped.
    pub cbr: bool,
}

/// Every rate-control figure of one encode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateControlReport {
    /// The average bitrate against the target, when one is given.
    pub bitrate: Option<BitrateAccuracy>,
    /// The average bitrate, in kbit/s (always reported).
    pub actual_kbps: f64,
    /// The peak over 1 s windows, against the maxrate when given.
    pub peak: PeakBitrate,
    /// The leaky-bucket check, when a buffer size and a maxrate are given.
    pub vbv: Option<VbvReport>,
}

/// Computes the figures `target` asks for.
pub fn rate_control_report(
    trace: &PacketTrace,
    target: &RateControlTarget,
) -> Result<RateControlReport, RateControlError> {
    let bitrate = target
        .target_kbps
        .map(|t| bitrate_accuracy(trace, t))
        .transpose()?;
    let actual_kbps = trace.total_bits() as f64 / trace.duration_s()? / 1000.0;
    let peak = peak_bitrate(trace, DEFAULT_PEAK_WINDOW_S, target.maxrate_kbps)?;
    let vbv = match (target.buffer_kbits, target.maxrate_kbps) {
        (Some(buffer_kbits), Some(maxrate_kbps)) => Some(vbv_check(
            trace,
            &VbvParams {
                buffer_kbits,
                maxrate_kbps,
                initial_fullness: target
                    .initial_fullness
                    .unwrap_or(DEFAULT_VBV_INITIAL_FULLNESS),
                mode: if target.cbr {
                    VbvMode::Cbr
                } else {
                    VbvMode::Capped
                },
            },
        )?),
        _ => None,
    };
    Ok(RateControlReport {
        bitrate,
        actual_kbps,
        peak,
        vbv,
    })
}

fn positive(name: &'static str, value: f64) -> Result<(), RateControlError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(RateControlError::InvalidParameter {
            name,
            value,
            expected: "a finite positive number",
        })
    }
}
