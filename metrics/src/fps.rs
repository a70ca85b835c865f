//! Frame rates as exact fractions: the rate of a Y4M stream, a corpus sequence or a probed file.

use std::fmt;

/// A frame rate as an exact fraction in lowest terms (`30000/1001`, `25/1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fps {
    num: u32,
    den: u32,
}

impl Fps {
    /// The rate `num/den`, reduced; `None` when either is zero.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Fps {
            num: num / g,
            den: den / g,
        })
    }

    /// Numerator (frames).
    pub fn num(self) -> u32 {
        self.num
    }

    /// Denominator (seconds).
    pub fn den(self) -> u32 {
        self.den
    }

    /// The rate as a float.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Reads `"30000/1001"`, `"29.97"` or `"30"`.
    ///
    /// Decimal rates within 0.006 of an NTSC rate `n·1000/1001` (and not integers) become that
    /// fraction, so `29.97` is `30000/1001` and `59.94` is `60000/1001`; other decimals are taken
    /// exactly, with at most three decimal places.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a fraction of two whole numbers"))?;
            let d: u32 = d
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a fraction of two whole numbers"))?;
            return Fps::new(n, d)
                .ok_or_else(|| format!("`{text}` must be positive with a non-zero denominator"));
        }
        if let Ok(n) = text.parse::<u32>() {
            return Fps::new(n, 1).ok_or_else(|| "must be positive, got 0".to_string());
        }
        match text.parse::<f64>() {
            Ok(f) => Fps::from_f64(f),
            Err(_) => Err(format!(
                "`{text}` is not a rate (write 30, 29.97 or \"30000/1001\")"
            )),
        }
    }

    /// Converts a decimal rate as [`Fps::parse`] describes.
    pub fn from_f64(f: f64) -> std::result::Result<Self, String> {
        if !f.is_finite() || f <= 0.0 || f > 1.0e6 {
            return Err(format!("must be positive, got {f}"));
        }
        let ntsc = (f * 1.001).round();
        if (f - f.round()).abs() > 0.006 && (f - ntsc / 1.001).abs() < 0.006 {
            return Fps::new(ntsc as u32 * 1000, 1001)
                .ok_or_else(|| format!("must be positive, got {f}"));
        }
        let milli = (f * 1000.0).round();
        if (milli / 1000.0 - f).abs() > 1e-9 {
            return Err(format!(
                "{f} has more than three decimals; write it as a fraction \"num/den\""
            ));
        }
        Fps::new(milli as u32, 1000).ok_or_else(|| format!("must be positive, got {f}"))
    }
}

impl fmt::Display for Fps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
