//! The typed values of a job record: its rate-control mode ([`RcMode`]), its rate point
//! ([`RcPoint`]: the mode and the position in the configuration's list) and its status
//! ([`JobStatus`]). Each is written in the tables and JSON as its short name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an encode's rate was controlled. Serialised as `crf`, `qp`, `capped_crf`, `abr`, `abr2`
/// (two-pass ABR), `cbr` or `target_vmaf` (the CRF a search found to reach a VMAF target on
/// that sequence).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum RcMode {
    /// Constant rate factor.
    #[default]
    Crf,
    /// Constant quantiser.
    Qp,
    /// CRF under a VBV cap.
    CappedCrf,
    /// One-pass average bitrate.
    Abr,
    /// Two-pass average bitrate.
    Abr2,
    /// Constant bitrate (VBV-constrained).
    Cbr,
    /// CRF searched per sequence to reach a VMAF target.
    TargetVmaf,
}

impl RcMode {
    /// Every mode, in the order reports show them.
    pub const ALL: [RcMode; 7] = [
        RcMode::Crf,
        RcMode::TargetVmaf,
        RcMode::Qp,
        RcMode::CappedCrf,
        RcMode::Abr2,
        RcMode::Abr,
        RcMode::Cbr,
    ];

    /// The mode's name in tables, job ids and suites.
    pub fn as_str(self) -> &'static str {
        match self {
            RcMode::Crf => "crf",
            RcMode::Qp => "qp",
            RcMode::CappedCrf => "capped_crf",
            RcMode::Abr => "abr",
            RcMode::Abr2 => "abr2",
            RcMode::Cbr => "cbr",
            RcMode::TargetVmaf => "target_vmaf",
        }
    }

    /// Whether the mode aims at a target bitrate (its miss is the rate-control error).
    pub fn targets_bitrate(self) -> bool {
        matches!(self, RcMode::Abr | RcMode::Abr2 | RcMode::Cbr)
    }

    /// The position of the mode in report order.
    pub fn rank(self) -> usize {
        RcMode::ALL
            .iter()
            .position(|m| *m == self)
            .unwrap_or(RcMode::ALL.len())
    }
}

impl fmt::Display for RcMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a rate-control mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rate-control mode `{0}` (crf, target_vmaf, qp, capped_crf, abr, abr2, cbr)")]
pub struct UnknownRcMode(pub String);

impl FromStr for RcMode {
    type Err = UnknownRcMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RcMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s.trim())
            .ok_or_else(|| UnknownRcMode(s.to_owned()))
    }
}

/// A rate point of a configuration: the mode and the position of the point in the
/// configuration's list for that mode (0 = first listed). Shown as `crf/2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RcPoint {
    /// The mode.
    pub mode: RcMode,
    /// The position in the configuration's list.
    pub index: u32,
}

impl fmt::Display for RcPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.mode, self.index)
    }
}

/// How a job ended. Serialised as `ok` or `failed`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Encoded and scored.
    #[default]
    Ok,
    /// The encode or the scoring failed, or its worker process crashed; the record's `error`
    /// says why.
    Failed,
    /// The job outlived its timeout and was killed.
    TimedOut,
}

impl JobStatus {
    /// The status's name in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Ok => "ok",
            JobStatus::Failed => "failed",
            JobStatus::TimedOut => "timed_out",
        }
    }

    /// Whether the job finished with scores.
    pub fn is_ok(self) -> bool {
        self == JobStatus::Ok
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_and_only_bitrate_modes_target_a_bitrate() {
        for m in RcMode::ALL {
            assert_eq!(m.as_str().parse::<RcMode>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
        let targeting: Vec<RcMode> = RcMode::ALL
            .into_iter()
            .filter(|m| m.targets_bitrate())
            .collect();
        assert_eq!(targeting, [RcMode::Abr2, RcMode::Abr, RcMode::Cbr]);
        assert!("vbr".parse::<RcMode>().is_err());
    }

    #[test]
    fn points_and_statuses_print_their_short_names() {
        let p = RcPoint {
            mode: RcMode::CappedCrf,
            index: 3,
        };
        assert_eq!(p.to_string(), "capped_crf/3");
        assert_eq!(
            serde_json::to_string(&JobStatus::Failed).unwrap(),
            "\"failed\""
        );
        assert_eq!(
            serde_json::from_str::<JobStatus>("\"ok\"").unwrap(),
            JobStatus::Ok
        );
    }
}
