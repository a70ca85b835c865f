//! Per-title ladders as results: what `rdbench ladder` and a suite's `[ladder]` find for one
//! input (the resolution x CRF grid measured, its convex hull, the chosen rungs, the reference
//! ladder measured the same way), the saving against the reference (BD-rate on VMAF, computed
//! here and nowhere else), and the savings averaged per class and over all sequences of a run.

use std::path::{Path, PathBuf};

use rdbench_bdrate::{bd_compare, BdOptions, BdResult, RatePoint, RdCurve};
use serde::{Deserialize, Serialize};

use crate::analysis::ALL;
use crate::types::RcMode;

/// One encode of the grid, measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridEncode {
    /// Encoded height.
    pub height: u32,
    /// Encoded width.
    pub width: u32,
    /// The rate point's mode: CRF or QP.
    pub mode: RcMode,
    /// Its CRF or QP.
    pub value: f64,
    /// Bitrate in kbit/s.
    pub kbps: f64,
    /// Pooled VMAF (mean) at the input's resolution.
    pub vmaf: f64,
}

/// A rung: a grid encode on the hull.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// The encode.
    pub encode: GridEncode,
    /// The target bitrate that chose it (bitrate choice).
    pub target_kbps: Option<f64>,
}

/// One rung of the reference ladder, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceEncode {
    /// The rung's name (`234p_145k` for the built-in ladder, the template's name otherwise).
    pub name: String,
    /// Encoded height.
    pub height: u32,
    /// Encoded width.
    pub width: u32,
    /// The rung's rate-control mode.
    pub rc_mode: RcMode,
    /// Its CRF/QP, or its target in kbit/s for bitrate modes.
    pub rc_value: f64,
    /// Measured bitrate in kbit/s.
    pub kbps: f64,
    /// Pooled VMAF (mean) at the input's resolution.
    pub vmaf: f64,
}

/// The per-title ladder against the reference ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceReport {
    /// Where the reference came from: `built-in HLS` or the templates file.
    pub source: String,
    /// Its rungs that fit the input, ascending bitrate.
    pub rungs: Vec<ReferenceEncode>,
    /// Rungs left out, with the reason (above the input's height).
    pub skipped: Vec<String>,
    /// BD-rate (VMAF, PCHIP) of the per-title hull against the reference rungs: negative is the
    /// bitrate the per-title encodes save at equal quality.
    pub bd_hull: BdResult,
    /// BD-rate of the per-title ladder's own rungs against the reference rungs.
    pub bd_rungs: BdResult,
}

/// What a ladder run found for one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderReport {
    /// The input.
    pub input: PathBuf,
    /// Its size.
    pub source: (u32, u32),
    /// Every encode of the grid.
    pub grid: Vec<GridEncode>,
    /// The encodes on the convex hull, ascending bitrate.
    pub hull: Vec<GridEncode>,
    /// The chosen rungs, highest first.
    pub rungs: Vec<Rung>,
    /// The per-title ladder against the reference ladder, when one was asked for.
    pub reference: Option<ReferenceReport>,
}

fn curve(points: impl IntoIterator<Item = (f64, f64)>) -> RdCurve {
    RdCurve::new(points.into_iter().map(|(r, q)| RatePoint::new(r, q)))
}

/// The reference report of a measured reference ladder: the BD-rates (VMAF, PCHIP) of the hull
/// and of the rungs against it.
pub fn against_reference(
    source: String,
    mut rungs: Vec<ReferenceEncode>,
    skipped: Vec<String>,
    hull: &[GridEncode],
    chosen: &[Rung],
) -> ReferenceReport {
    rungs.sort_by(|a, b| a.kbps.total_cmp(&b.kbps));
    let anchor = curve(rungs.iter().map(|r| (r.kbps, r.vmaf)));
    let options = BdOptions::default();
    ReferenceReport {
        source,
        bd_hull: bd_compare(
            &anchor,
            &curve(hull.iter().map(|g| (g.kbps, g.vmaf))),
            &options,
        ),
        bd_rungs: bd_compare(
            &anchor,
            &curve(chosen.iter().map(|r| (r.encode.kbps, r.encode.vmaf))),
            &options,
        ),
        rungs,
        skipped,
    }
}

/// A sequence's ladder in a run folder (`ladders/<corpus>/<sequence>.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceLadder {
    /// Corpus.
    pub corpus: String,
    /// Sequence id.
    pub sequence: String,
    /// Its class.
    pub class: String,
    /// The configuration whose encoder built it.
    pub config: String,
    /// What the ladder found (None when it could not be built).
    pub ladder: Option<LadderReport>,
    /// Why it could not be built.
    #[serde(default)]
    pub error: Option<String>,
}

/// Where a sequence's ladder lives in a run folder.
pub fn file(run_dir: &Path, corpus: &str, sequence: &str) -> PathBuf {
    run_dir
        .join("ladders")
        .join(corpus)
        .join(format!("{sequence}.json"))
}

/// Writes `ladder` into the run folder `run_dir`, atomically.
pub fn write(run_dir: &Path, ladder: &SequenceLadder) -> Result<(), crate::run::RunError> {
    let path = file(run_dir, &ladder.corpus, &ladder.sequence);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| crate::run::RunError::Io {
            path: dir.to_path_buf(),
            action: "creating",
            source: e,
        })?;
    }
    crate::run::write_atomic(
        &path,
        &serde_json::to_vec_pretty(ladder).expect("ladders serialise"),
    )
}

/// The per-title saving over the sequences of one class, or all of them ([`ALL`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderSaving {
    /// Class, or [`ALL`].
    pub scope: String,
    /// Sequences asked for (a ladder that failed counts here, not below).
    pub sequences: u32,
    /// Of them, those with a BD-rate of the hull against the reference.
    pub measured: u32,
    /// Mean BD-rate (VMAF) of the per-title hull against the reference, percent.
    pub mean_bd_hull_pct: Option<f64>,
    /// Mean BD-rate of the per-title rungs against the reference, percent.
    pub mean_bd_rungs_pct: Option<f64>,
    /// Mean number of rungs.
    pub mean_rungs: f64,
}

/// The savings of `ladders` per class (sorted by name) and over all of them ([`ALL`]).
pub fn savings(ladders: &[SequenceLadder]) -> Vec<LadderSaving> {
    let mut classes: Vec<String> = ladders.iter().map(|l| l.class.clone()).collect();
    classes.sort();
    classes.dedup();
    let mut scopes: Vec<(String, Vec<&SequenceLadder>)> = classes
        .into_iter()
        .map(|c| {
            let members = ladders.iter().filter(|l| l.class == c).collect();
            (c, members)
        })
        .collect();
    if !ladders.is_empty() {
        scopes.push((ALL.to_owned(), ladders.iter().collect()));
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    scopes
        .into_iter()
        .map(|(scope, members)| {
            let hull: Vec<f64> = members
                .iter()
                .filter_map(|l| {
                    l.ladder
                        .as_ref()?
                        .reference
                        .as_ref()?
                        .bd_hull
                        .bd_rate_percent
                })
                .collect();
            let rungs: Vec<f64> = members
                .iter()
                .filter_map(|l| {
                    l.ladder
                        .as_ref()?
                        .reference
                        .as_ref()?
                        .bd_rungs
                        .bd_rate_percent
                })
                .collect();
            let n: Vec<f64> = members
                .iter()
                .filter_map(|l| l.ladder.as_ref().map(|x| x.rungs.len() as f64))
                .collect();
            LadderSaving {
                scope,
                sequences: members.len() as u32,
                measured: hull.len() as u32,
                mean_bd_hull_pct: mean(&hull),
                mean_bd_rungs_pct: mean(&rungs),
                mean_rungs: mean(&n).unwrap_or(0.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(height: u32, kbps: f64, vmaf: f64) -> GridEncode {
        GridEncode {
            height,
            width: height * 16 / 9,
            mode: RcMode::Crf,
            value: 0.0,
            kbps,
            vmaf,
        }
    }

    fn reference(kbps: f64, vmaf: f64) -> ReferenceEncode {
        ReferenceEncode {
            name: format!("{kbps}"),
            height: 360,
            width: 640,
            rc_mode: RcMode::Abr,
            rc_value: kbps,
            kbps,
            vmaf,
        }
    }

    #[test]
    fn a_hull_at_half_the_reference_bitrate_saves_half() {
        let hull = [
            g(360, 100.0, 60.0),
            g(540, 200.0, 75.0),
            g(720, 400.0, 90.0),
        ];
        let refs = vec![
            reference(800.0, 90.0),
            reference(200.0, 60.0),
            reference(400.0, 75.0),
        ];
        let rungs: Vec<Rung> = hull
            .iter()
            .map(|e| Rung {
                encode: *e,
                target_kbps: None,
            })
            .collect();
        let r = against_reference("t".into(), refs, vec![], &hull, &rungs);
        // Sorted by bitrate.
        assert_eq!(
            r.rungs.iter().map(|x| x.kbps).collect::<Vec<_>>(),
            [200.0, 400.0, 800.0]
        );
        let bd = r.bd_hull.bd_rate_percent.unwrap();
        assert!((bd + 50.0).abs() < 1e-9, "{bd}");
        assert_eq!(r.bd_rungs.bd_rate_percent, r.bd_hull.bd_rate_percent);
    }

    #[test]
    fn savings_average_per_class_and_overall() {
        let with = |class: &str, bd: Option<f64>| SequenceLadder {
            corpus: "c".into(),
            sequence: format!("{class}{bd:?}"),
            class: class.into(),
            config: "x264".into(),
            error: None,
            ladder: Some(LadderReport {
                input: "i".into(),
                source: (640, 360),
                grid: vec![],
                hull: vec![],
                rungs: vec![],
                reference: Some(ReferenceReport {
                    source: "t".into(),
                    rungs: vec![],
                    skipped: vec![],
                    bd_hull: BdResult {
                        method: rdbench_bdrate::BdMethod::Pchip,
                        bd_rate_percent: bd,
                        bd_quality: None,
                        warnings: vec![],
                        reason: None,
                    },
                    bd_rungs: BdResult {
                        method: rdbench_bdrate::BdMethod::Pchip,
                        bd_rate_percent: bd.map(|b| b / 2.0),
                        bd_quality: None,
                        warnings: vec![],
                        reason: None,
                    },
                }),
            }),
        };
        let s = savings(&[
            with("B", Some(-20.0)),
            with("A", Some(-10.0)),
            with("B", Some(-40.0)),
            with("A", None),
        ]);
        let row = |scope: &str| s.iter().find(|x| x.scope == scope).unwrap();
        assert_eq!(
            s.iter().map(|x| x.scope.as_str()).collect::<Vec<_>>(),
            ["A", "B", ALL]
        );
        assert_eq!((row("A").sequences, row("A").measured), (2, 1));
        assert_eq!(row("A").mean_bd_hull_pct, Some(-10.0));
        assert_eq!(row("B").mean_bd_hull_pct, Some(-30.0));
        assert_eq!(row("B").mean_bd_rungs_pct, Some(-15.0));
        assert_eq!(row(ALL).mean_bd_hull_pct, Some(-70.0 / 3.0));
    }
}
