//! Averages of per-sequence Bjøntegaard deltas: the arithmetic mean per sequence class and over all
//! sequences, as the JVET and AOM common test conditions report them, skipping (and counting) the
//! sequences whose result is null.

use std::collections::BTreeMap;

use serde::Serialize;

use super::BdResult;

/// The averages of one group of sequences (a class, or all of them).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClassAverage {
    /// The number of sequences in the group.
    pub sequences: usize,
    /// The mean BD-rate over the sequences that have one, in percent; `None` if none has.
    pub bd_rate_percent: Option<f64>,
    /// The sequences whose BD-rate is null (left out of the mean), in input order.
    pub bd_rate_skipped: Vec<String>,
    /// The mean BD-quality over the sequences that have one; `None` if none has.
    pub bd_quality: Option<f64>,
    /// The sequences whose BD-quality is null (left out of the mean), in input order.
    pub bd_quality_skipped: Vec<String>,
}

/// Per-class and overall averages.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct BdAverages {
    /// One entry per class, by class name.
    pub per_class: BTreeMap<String, ClassAverage>,
    /// All sequences together (the mean of the sequences, not of the class means).
    pub overall: ClassAverage,
}

/// Accumulates one group.
#[derive(Default)]
struct Accumulator {
    sequences: usize,
    rate_sum: f64,
    rate_count: usize,
    rate_skipped: Vec<String>,
    quality_sum: f64,
    quality_count: usize,
    quality_skipped: Vec<String>,
}

impl Accumulator {
    fn add(&mut self, sequence: &str, result: &BdResult) {
        self.sequences += 1;
        match result.bd_rate_percent {
            Some(v) => {
                self.rate_sum += v;
                self.rate_count += 1;
            }
            None => self.rate_skipped.push(sequence.to_owned()),
        }
        match result.bd_quality {
            Some(v) => {
                self.quality_sum += v;
                self.quality_count += 1;
            }
            None => self.quality_skipped.push(sequence.to_owned()),
        }
    }

    fn finish(self) -> ClassAverage {
        let mean = |sum: f64, count: usize| (count > 0).then(|| sum / count as f64);
        ClassAverage {
            sequences: self.sequences,
            bd_rate_percent: mean(self.rate_sum, self.rate_count),
            bd_rate_skipped: self.rate_skipped,
            bd_quality: mean(self.quality_sum, self.quality_count),
            bd_quality_skipped: self.quality_skipped,
        }
    }
}

/// Averages per-sequence results given as `(sequence, class, result)`: the arithmetic mean of the
/// BD-rates (and of the BD-qualities) per class and overall, skipping null results and listing the
/// skipped sequences.
pub fn average_by_class<'a, I>(results: I) -> BdAverages
where
    I: IntoIterator<Item = (&'a str, &'a str, &'a BdResult)>,
{
    let mut overall = Accumulator::default();
    let mut per_class: BTreeMap<String, Accumulator> = BTreeMap::new();
    for (sequence, class, result) in results {
        overall.add(sequence, result);
        per_class
            .entry(class.to_owned())
            .or_default()
            .add(sequence, result);
    }
    BdAverages {
        per_class: per_class
            .into_iter()
            .map(|(class, acc)| (class, acc.finish()))
            .collect(),
        overall: overall.finish(),
    }
}
