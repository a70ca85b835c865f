//! The quality columns of a run: [`Metric`] names every pooled score an encode record can carry,
//! owns its column name in the tables and its label for people, and reads its value from a
//! record or a frame. No other code spells a metric's column name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::record::{EncodeRecord, FrameRecord};

/// One pooled quality score of an encode. Serialised as its column name (`"psnr_y"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// VMAF, mean of the per-frame scores.
    Vmaf,
    /// VMAF, libvmaf's harmonic mean.
    VmafHmean,
    /// VMAF, 1st percentile of the per-frame scores.
    VmafP1,
    /// PSNR of luma, mean of the per-frame values (dB).
    PsnrY,
    /// PSNR of Cb.
    PsnrU,
    /// PSNR of Cr.
    PsnrV,
    /// PSNR of Y'CbCr weighted 6:1:1.
    PsnrYuv,
    /// SSIM of luma, mean of the per-frame values.
    Ssim,
    /// MS-SSIM of luma, mean of the per-frame values.
    MsSsim,
    /// MS-SSIM in dB, `-10 log10(1 - MS-SSIM)` of the pooled MS-SSIM.
    MsSsimDb,
    /// APSNR of luma: PSNR of the mean squared error over the sequence (dB).
    ApsnrY,
    /// APSNR of Cb.
    ApsnrU,
    /// APSNR of Cr.
    ApsnrV,
    /// XPSNR of luma, pooled as FFmpeg's `xpsnr` filter pools it (dB).
    XpsnrY,
    /// XPSNR of Cb.
    XpsnrU,
    /// XPSNR of Cr.
    XpsnrV,
    /// XPSNR weighted 6:1:1 over Y, Cb and Cr (dB).
    XpsnrYuv,
    /// SSIMULACRA2, mean of the per-frame scores.
    Ssimulacra2,
    /// CAMBI (banding, lower is better), mean of the per-frame scores.
    Cambi,
    /// CIEDE2000 as libvmaf scores it (`45 - 20 log10(mean dE00)`), mean of the per-frame scores.
    Ciede2000,
    /// PSNR-HVS of luma (dB), mean of the per-frame values.
    PsnrHvsY,
    /// PSNR-HVS of Y'CbCr combined as libvmaf combines it (dB).
    PsnrHvs,
}

impl Metric {
    /// Every metric, in the order tables show them.
    pub const ALL: [Metric; 22] = [
        Metric::Vmaf,
        Metric::VmafHmean,
        Metric::VmafP1,
        Metric::PsnrY,
        Metric::PsnrU,
        Metric::PsnrV,
        Metric::PsnrYuv,
        Metric::Ssim,
        Metric::MsSsim,
        Metric::MsSsimDb,
        Metric::ApsnrY,
        Metric::ApsnrU,
        Metric::ApsnrV,
        Metric::XpsnrY,
        Metric::XpsnrU,
        Metric::XpsnrV,
        Metric::XpsnrYuv,
        Metric::Ssimulacra2,
        Metric::Cambi,
        Metric::Ciede2000,
        Metric::PsnrHvsY,
        Metric::PsnrHvs,
    ];

    /// The metrics BD-rates are computed on, in report order.
    /// (CAMBI, where lower is better, has none.)
    pub const BD: [Metric; 13] = [
        Metric::Vmaf,
        Metric::PsnrY,
        Metric::PsnrYuv,
        Metric::Ssim,
        Metric::MsSsim,
        Metric::MsSsimDb,
        Metric::ApsnrY,
        Metric::XpsnrY,
        Metric::XpsnrYuv,
        Metric::Ssimulacra2,
        Metric::Ciede2000,
        Metric::PsnrHvsY,
        Metric::PsnrHvs,
    ];

    /// The column name in `encodes.csv` and in JSON.
    pub fn column(self) -> &'static str {
        match self {
            Metric::Vmaf => "vmaf",
            Metric::VmafHmean => "vmaf_hmean",
            Metric::VmafP1 => "vmaf_p1",
            Metric::PsnrY => "psnr_y",
            Metric::PsnrU => "psnr_u",
            Metric::PsnrV => "psnr_v",
            Metric::PsnrYuv => "psnr_yuv",
            Metric::Ssim => "ssim",
            Metric::MsSsim => "ms_ssim",
            Metric::MsSsimDb => "ms_ssim_db",
            Metric::ApsnrY => "apsnr_y",
            Metric::ApsnrU => "apsnr_u",
            Metric::ApsnrV => "apsnr_v",
            Metric::XpsnrY => "xpsnr_y",
            Metric::XpsnrU => "xpsnr_u",
            Metric::XpsnrV => "xpsnr_v",
            Metric::XpsnrYuv => "xpsnr_yuv",
            Metric::Ssimulacra2 => "ssimulacra2",
            Metric::Cambi => "cambi",
            Metric::Ciede2000 => "ciede2000",
            Metric::PsnrHvsY => "psnr_hvs_y",
            Metric::PsnrHvs => "psnr_hvs",
        }
    }

    /// How people name it ("VMAF", "PSNR-Y").
    pub fn label(self) -> &'static str {
        match self {
            Metric::Vmaf => "VMAF",
            Metric::VmafHmean => "VMAF (harmonic mean)",
            Metric::VmafP1 => "VMAF (1st percentile)",
            Metric::PsnrY => "PSNR-Y",
            Metric::PsnrU => "PSNR-U",
            Metric::PsnrV => "PSNR-V",
            Metric::PsnrYuv => "PSNR-YUV",
            Metric::Ssim => "SSIM",
            Metric::MsSsim => "MS-SSIM",
            Metric::MsSsimDb => "MS-SSIM (dB)",
            Metric::ApsnrY => "APSNR-Y",
            Metric::ApsnrU => "APSNR-U",
            Metric::ApsnrV => "APSNR-V",
            Metric::XpsnrY => "XPSNR-Y",
            Metric::XpsnrU => "XPSNR-U",
            Metric::XpsnrV => "XPSNR-V",
            Metric::XpsnrYuv => "XPSNR-YUV",
            Metric::Ssimulacra2 => "SSIMULACRA2",
            Metric::Cambi => "CAMBI",
            Metric::Ciede2000 => "CIEDE2000",
            Metric::PsnrHvsY => "PSNR-HVS-Y",
            Metric::PsnrHvs => "PSNR-HVS",
        }
    }

    /// The unit of a BD-quality in this metric ("dB" for PSNR, "" for the others).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::PsnrY | Metric::PsnrU | Metric::PsnrV | Metric::PsnrYuv => "dB",
            Metric::MsSsimDb
            | Metric::ApsnrY
            | Metric::ApsnrU
            | Metric::ApsnrV
            | Metric::XpsnrY
            | Metric::XpsnrU
            | Metric::XpsnrV
            | Metric::XpsnrYuv
            | Metric::PsnrHvsY
            | Metric::PsnrHvs => "dB",
            _ => "",
        }
    }

    /// The pooled value of this metric in `record`.
    pub fn of(self, record: &EncodeRecord) -> Option<f64> {
        match self {
            Metric::Vmaf => record.vmaf,
            Metric::VmafHmean => record.vmaf_hmean,
            Metric::VmafP1 => record.vmaf_p1,
            Metric::PsnrY => record.psnr_y,
            Metric::PsnrU => record.psnr_u,
            Metric::PsnrV => record.psnr_v,
            Metric::PsnrYuv => record.psnr_yuv,
            Metric::Ssim => record.ssim,
            Metric::MsSsim => record.ms_ssim,
            Metric::MsSsimDb => record.ms_ssim_db,
            Metric::ApsnrY => record.apsnr_y,
            Metric::ApsnrU => record.apsnr_u,
            Metric::ApsnrV => record.apsnr_v,
            Metric::XpsnrY => record.xpsnr_y,
            Metric::XpsnrU => record.xpsnr_u,
            Metric::XpsnrV => record.xpsnr_v,
            Metric::XpsnrYuv => record.xpsnr_yuv,
            Metric::Ssimulacra2 => record.ssimulacra2,
            Metric::Cambi => record.cambi,
            Metric::Ciede2000 => record.ciede2000,
            Metric::PsnrHvsY => record.psnr_hvs_y,
            Metric::PsnrHvs => record.psnr_hvs,
        }
    }

    /// Sets the pooled value of this metric in `record`.
    pub fn set(self, record: &mut EncodeRecord, value: Option<f64>) {
        let slot = match self {
            Metric::Vmaf => &mut record.vmaf,
            Metric::VmafHmean => &mut record.vmaf_hmean,
            Metric::VmafP1 => &mut record.vmaf_p1,
            Metric::PsnrY => &mut record.psnr_y,
            Metric::PsnrU => &mut record.psnr_u,
            Metric::PsnrV => &mut record.psnr_v,
            Metric::PsnrYuv => &mut record.psnr_yuv,
            Metric::Ssim => &mut record.ssim,
            Metric::MsSsim => &mut record.ms_ssim,
            Metric::MsSsimDb => &mut record.ms_ssim_db,
            Metric::ApsnrY => &mut record.apsnr_y,
            Metric::ApsnrU => &mut record.apsnr_u,
            Metric::ApsnrV => &mut record.apsnr_v,
            Metric::XpsnrY => &mut record.xpsnr_y,
            Metric::XpsnrU => &mut record.xpsnr_u,
            Metric::XpsnrV => &mut record.xpsnr_v,
            Metric::XpsnrYuv => &mut record.xpsnr_yuv,
            Metric::Ssimulacra2 => &mut record.ssimulacra2,
            Metric::Cambi => &mut record.cambi,
            Metric::Ciede2000 => &mut record.ciede2000,
            Metric::PsnrHvsY => &mut record.psnr_hvs_y,
            Metric::PsnrHvs => &mut record.psnr_hvs,
        };
        *slot = value;
    }

    /// The per-frame value of this metric, for the metrics frames carry (VMAF, PSNR per plane,
    /// SSIM, MS-SSIM, XPSNR-Y, SSIMULACRA2, CAMBI, CIEDE2000, PSNR-HVS).
    pub fn of_frame(self, frame: &FrameRecord) -> Option<f64> {
        match self {
            Metric::Vmaf => frame.vmaf,
            Metric::PsnrY => frame.psnr_y,
            Metric::PsnrU => frame.psnr_u,
            Metric::PsnrV => frame.psnr_v,
            Metric::Ssim => frame.ssim,
            Metric::MsSsim => frame.ms_ssim,
            Metric::XpsnrY => frame.xpsnr_y,
            Metric::Ssimulacra2 => frame.ssimulacra2,
            Metric::Cambi => frame.cambi,
            Metric::Ciede2000 => frame.ciede2000,
            Metric::PsnrHvs => frame.psnr_hvs,
            Metric::VmafHmean | Metric::VmafP1 | Metric::PsnrYuv => None,
            Metric::MsSsimDb
            | Metric::ApsnrY
            | Metric::ApsnrU
            | Metric::ApsnrV
            | Metric::XpsnrU
            | Metric::XpsnrV
            | Metric::XpsnrYuv
            | Metric::PsnrHvsY => None,
        }
    }

    /// Whether a higher value means better quality (all but CAMBI, which counts banding).
    pub fn higher_is_better(self) -> bool {
        self != Metric::Cambi
    }

    /// Whether this is a VMAF score on its 0-100 scale (the AOM CTC saturation rule applies).
    pub fn is_vmaf(self) -> bool {
        matches!(self, Metric::Vmaf | Metric::VmafHmean | Metric::VmafP1)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

/// A name that is not a metric column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric `{0}` ({known})", known = Metric::ALL.map(|m| m.column()).join(", "))]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    /// Parses a column name; `ms-ssim` is accepted for `ms_ssim`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace('-', "_");
        Metric::ALL
            .into_iter()
            .find(|m| m.column() == key)
            .ok_or_else(|| UnknownMetric(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip_through_json_and_parsing() {
        for m in Metric::ALL {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.column()));
            assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), m);
            assert_eq!(m.column().parse::<Metric>().unwrap(), m);
        }
        assert_eq!("MS-SSIM".parse::<Metric>().unwrap(), Metric::MsSsim);
        assert!("vmaff".parse::<Metric>().is_err());
    }

    #[test]
    fn set_and_of_address_the_same_field() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            let mut r = EncodeRecord::default();
            m.set(&mut r, Some(i as f64 + 0.5));
            assert_eq!(m.of(&r), Some(i as f64 + 0.5));
            for other in Metric::ALL.into_iter().filter(|o| *o != m) {
                assert_eq!(other.of(&r), None, "{m} also set {other}");
            }
        }
    }
}
