//! Integration tests of rdbench-bdrate: BD-rate and BD-quality goldens from the `bjontegaard`
//! package (see goldens/), the 0.82x identity, the warning and null rules, the VMAF saturation cut, and the CSV reader.

use std::path::Path;

use rdbench_bdrate::{
    bd_compare, BdMethod, BdOptions, BdResult, BdWarning, RatePoint, RdCurve, DEFAULT_MIN_OVERLAP,
};
use serde_json::Value;

fn curve(points: &[(f64, f64)]) -> RdCurve {
    points.iter().map(|&(r, q)| RatePoint::new(r, q)).collect()
}

fn compare(anchor: &RdCurve, test: &RdCurve, method: BdMethod) -> BdResult {
    bd_compare(anchor, test, &BdOptions::with_method(method))
}

fn json_curve(value: &Value) -> RdCurve {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|p| RatePoint::new(p["rate"].as_f64().unwrap(), p["quality"].as_f64().unwrap()))
        .collect()
}

/// Every golden case and method matches the `bjontegaard` package within 1e-6 (percentage points
/// for BD-rate, metric units for BD-quality); partial-overlap warnings follow the overlap the
/// generator measured; curves the generator marks non-monotonic give a null BD-rate.
#[test]
fn goldens_match_the_bjontegaard_package() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goldens/bdrate.json");
    let goldens: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = goldens["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let anchor = json_curve(&case["anchor"]);
        let test = json_curve(&case["test"]);
        let partial = case["overlap_quality_axis"].as_f64().unwrap() < DEFAULT_MIN_OVERLAP
            || case["overlap_log_rate_axis"].as_f64().unwrap() < DEFAULT_MIN_OVERLAP;
        for (method_name, expected) in case["expected"].as_object().unwrap() {
            let method: BdMethod = method_name.parse().unwrap();
            let result = compare(&anchor, &test, method);
            let want_quality = expected["bd_quality"].as_f64().unwrap();
            let got_quality = result
                .bd_quality
                .unwrap_or_else(|| panic!("{name}/{method}: null BD-quality: {:?}", result.reason));
            worst = worst.max((got_quality - want_quality).abs());
            assert!(
                (got_quality - want_quality).abs() < 1e-6,
                "{name}/{method}: BD-quality {got_quality} vs {want_quality}"
            );
            match expected["bd_rate_percent"].as_f64() {
                Some(want) => {
                    let got = result.bd_rate_percent.unwrap_or_else(|| {
                        panic!("{name}/{method}: null BD-rate: {:?}", result.reason)
                    });
                    worst = worst.max((got - want).abs());
                    assert!(
                        (got - want).abs() < 1e-6,
                        "{name}/{method}: BD-rate {got} vs {want}"
                    );
                    assert!(!result.warnings.contains(&BdWarning::NonMonotonic));
                    assert_eq!(result.reason, None, "{name}/{method}");
                }
                None => {
                    assert_eq!(result.bd_rate_percent, None, "{name}/{method}");
                    assert!(result.warnings.contains(&BdWarning::NonMonotonic));
                }
            }
            assert_eq!(
                result.warnings.contains(&BdWarning::PartialOverlap),
                partial,
                "{name}/{method}: {:?}",
                result.warnings
            );
            assert!(!result.warnings.contains(&BdWarning::DuplicatedPoints));
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} golden comparisons");
    eprintln!("{checked} golden comparisons, largest deviation {worst:e}");
}

/// A test curve at exactly 0.82x the anchor's rates with equal quality saves 18 % under every
/// method, whatever the curve's shape, its size, and the order the points come in.
#[test]
fn rates_scaled_by_0_82_give_minus_18_percent() {
    let anchors = [
        vec![
            (1103.9, 34.71),
            (2094.2, 37.04),
            (4231.5, 39.35),
            (9487.8, 41.62),
        ],
        vec![
            (412.0, 31.2),
            (705.5, 33.41),
            (1240.8, 35.67),
            (2218.3, 37.88),
            (4102.7, 40.05),
            (7850.1, 42.11),
        ],
        vec![
            (250.0, 42.5),
            (400.0, 55.9),
            (650.0, 67.2),
            (1000.0, 76.8),
            (1600.0, 84.9),
            (2500.0, 90.2),
            (4000.0, 94.1),
            (6500.0, 96.7),
        ],
    ];
    for points in anchors {
        let anchor = curve(&points);
        let mut scaled: Vec<(f64, f64)> = points.iter().map(|&(r, q)| (r * 0.82, q)).collect();
        scaled.reverse();
        let test = curve(&scaled);
        for method in BdMethod::ALL {
            let result = compare(&anchor, &test, method);
            let bd = result.bd_rate_percent.unwrap();
            assert!((bd + 18.0).abs() < 1e-9, "{method}: {bd}");
            assert_eq!(result.warnings, vec![], "{method}");
            assert_eq!(result.reason, None);
        }
    }
}

/// Two-point curves are straight lines under every method; hand-computed: the test is the
/// anchor at 0.8x the rate, so BD-rate is -20 % and BD-quality is the vertical gap of two lines
/// of slope 10 dB per decade shifted by log10(1.25) decades: 10 log10(1.25) dB.
#[test]
fn two_point_lines_by_hand() {
    let anchor = curve(&[(100.0, 30.0), (1000.0, 40.0)]);
    let test = curve(&[(80.0, 30.0), (800.0, 40.0)]);
    for method in BdMethod::ALL {
        let result = compare(&anchor, &test, method);
        assert!(
            (result.bd_rate_percent.unwrap() + 20.0).abs() < 1e-9,
            "{method}"
        );
        let gap = 10.0 * 1.25f64.log10();
        assert!((result.bd_quality.unwrap() - gap).abs() < 1e-9, "{method}");
        let expected_warnings = if method == BdMethod::Cubic {
            vec![BdWarning::FewerThanFourPoints]
        } else {
            vec![]
        };
        assert_eq!(result.warnings, expected_warnings, "{method}");
    }
}

/// Points in any order give the same result as sorted points.
#[test]
fn points_are_sorted_by_rate_first() {
    let anchor = curve(&[
        (9487.8, 41.62),
        (1103.9, 34.71),
        (4231.5, 39.35),
        (2094.2, 37.04),
    ]);
    let sorted = curve(&[
        (1103.9, 34.71),
        (2094.2, 37.04),
        (4231.5, 39.35),
        (9487.8, 41.62),
    ]);
    assert_eq!(anchor, sorted);
    assert_eq!(anchor.points()[0], RatePoint::new(1103.9, 34.71));
    let test = curve(&[
        (3187.0, 39.31),
        (842.3, 34.66),
        (7012.4, 41.55),
        (1583.6, 37.02),
    ]);
    for method in BdMethod::ALL {
        let a = compare(&anchor, &test, method);
        let b = compare(&sorted, &test, method);
        assert_eq!(a, b);
        assert!(a.bd_rate_percent.unwrap() < -20.0);
    }
}

/// Quality falling with rate on one curve: BD-rate is null for every method (rate at equal
/// quality does not exist), BD-quality is still given, with the warning and a reason naming the
/// curve and the points.
#[test]
fn non_monotonic_curve_nulls_bd_rate_only() {
    let anchor = curve(&[(100.0, 30.0), (200.0, 35.0), (400.0, 34.9), (800.0, 40.0)]);
    let test = curve(&[(90.0, 30.2), (180.0, 35.1), (360.0, 35.3), (720.0, 40.1)]);
    for method in BdMethod::ALL {
        let result = compare(&anchor, &test, method);
        assert_eq!(result.bd_rate_percent, None, "{method}");
        assert!(result.bd_quality.unwrap() > 0.0, "{method}");
        assert!(result.warnings.contains(&BdWarning::NonMonotonic));
        let reason = result.reason.unwrap();
        assert!(reason.contains("anchor curve"), "{reason}");
        assert!(reason.contains("200 -> 400"), "{reason}");
    }
    // A plateau is not an increase either.
    let flat = curve(&[(100.0, 30.0), (200.0, 35.0), (400.0, 35.0), (800.0, 40.0)]);
    let result = compare(&flat, &test, BdMethod::Pchip);
    assert_eq!(result.bd_rate_percent, None);
    assert!(result.warnings.contains(&BdWarning::NonMonotonic));
}

/// Identical points are merged with a warning and change nothing; two points at one rate with
/// different qualities null both results.
#[test]
fn duplicated_points() {
    let anchor = curve(&[(100.0, 30.0), (200.0, 33.0), (400.0, 36.0), (800.0, 39.0)]);
    let test = curve(&[(90.0, 30.5), (180.0, 33.4), (360.0, 36.2), (720.0, 39.1)]);
    let doubled = curve(&[
        (100.0, 30.0),
        (200.0, 33.0),
        (200.0, 33.0),
        (400.0, 36.0),
        (800.0, 39.0),
    ]);
    for method in BdMethod::ALL {
        let clean = compare(&anchor, &test, method);
        let merged = compare(&doubled, &test, method);
        assert_eq!(merged.bd_rate_percent, clean.bd_rate_percent);
        assert_eq!(merged.bd_quality, clean.bd_quality);
        assert_eq!(merged.warnings, vec![BdWarning::DuplicatedPoints]);
    }
    let conflicting = curve(&[(100.0, 30.0), (200.0, 33.0), (200.0, 33.4), (800.0, 39.0)]);
    let result = compare(&anchor, &conflicting, BdMethod::Pchip);
    assert_eq!(result.bd_rate_percent, None);
    assert_eq!(result.bd_quality, None);
    assert_eq!(result.warnings, vec![BdWarning::DuplicatedPoints]);
    let reason = result.reason.unwrap();
    assert!(
        reason.contains("test curve") && reason.contains("rate 200"),
        "{reason}"
    );
}

/// Disjoint quality ranges null BD-rate but not BD-quality when the rates overlap; disjoint on
/// both axes nulls both. Ranges that only touch count as disjoint.
#[test]
fn no_overlap_is_null() {
    let anchor = curve(&[(100.0, 30.0), (200.0, 32.0), (400.0, 34.0), (800.0, 36.0)]);
    let better = curve(&[(100.0, 37.0), (200.0, 39.0), (400.0, 41.0), (800.0, 43.0)]);
    for method in BdMethod::ALL {
        let result = compare(&anchor, &better, method);
        assert_eq!(result.bd_rate_percent, None, "{method}");
        assert!((result.bd_quality.unwrap() - 7.0).abs() < 1e-9, "{method}");
        let reason = result.reason.unwrap();
        assert!(
            reason.contains("do not overlap") && reason.contains("quality"),
            "{reason}"
        );
    }
    let far = curve(&[
        (1000.0, 36.0),
        (2000.0, 38.0),
        (4000.0, 40.0),
        (8000.0, 42.0),
    ]);
    let touching = compare(&anchor, &far, BdMethod::Pchip);
    assert_eq!(touching.bd_rate_percent, None);
    let far = curve(&[
        (1000.0, 37.0),
        (2000.0, 38.0),
        (4000.0, 40.0),
        (8000.0, 42.0),
    ]);
    let result = compare(&anchor, &far, BdMethod::Pchip);
    assert_eq!((result.bd_rate_percent, result.bd_quality), (None, None));
    let reason = result.reason.unwrap();
    assert!(
        reason.contains("BD-rate") && reason.contains("BD-quality"),
        "{reason}"
    );
    // The rate-axis message shows rates, not their logarithms.
    assert!(
        reason.contains("anchor 100..800, test 1000..8000"),
        "{reason}"
    );
}

/// Fewer than two points, an empty curve and bad values are null with a reason.
#[test]
fn too_few_points_and_bad_values_are_null() {
    let anchor = curve(&[(100.0, 30.0), (200.0, 33.0), (400.0, 36.0), (800.0, 39.0)]);
    let cases = [
        (curve(&[(150.0, 31.0)]), "1 distinct point;"),
        (curve(&[]), "0 distinct points"),
        (curve(&[(150.0, 31.0), (150.0, 31.0)]), "1 distinct point;"),
        (curve(&[(0.0, 31.0), (300.0, 35.0)]), "rate 0"),
        (curve(&[(-5.0, 31.0), (300.0, 35.0)]), "rate -5"),
        (curve(&[(150.0, f64::NAN), (300.0, 35.0)]), "quality NaN"),
        (curve(&[(f64::INFINITY, 31.0), (300.0, 35.0)]), "rate inf"),
    ];
    for (test, needle) in cases {
        for method in BdMethod::ALL {
            let result = compare(&anchor, &test, method);
            assert_eq!((result.bd_rate_percent, result.bd_quality), (None, None));
            let reason = result.reason.unwrap();
            assert!(
                reason.contains("test curve") && reason.contains(needle),
                "{reason}"
            );
        }
    }
}

/// Partial overlap is warned and answered.
#[test]
fn partial_overlap_is_warned() {
    let anchor = curve(&[
        (500.0, 30.0),
        (1000.0, 33.4),
        (2000.0, 36.3),
        (4000.0, 38.7),
    ]);
    let test = curve(&[
        (1500.0, 35.1),
        (3000.0, 37.9),
        (6000.0, 40.2),
        (12000.0, 42.0),
    ]);
    let result = compare(&anchor, &test, BdMethod::Pchip);
    assert!(result.bd_rate_percent.is_some() && result.bd_quality.is_some());
    assert_eq!(result.warnings, vec![BdWarning::PartialOverlap]);
    // With the threshold lowered below the actual overlap (about 30 %), no warning.
    let lenient = BdOptions {
        min_overlap: 0.25,
        ..BdOptions::default()
    };
    assert_eq!(bd_compare(&anchor, &test, &lenient).warnings, vec![]);
}

/// The cubic fit with 3 points fits a parabola and says so; pchip does not warn.
#[test]
fn cubic_with_three_points_is_warned() {
    let anchor = curve(&[(600.0, 0.9312), (1500.0, 0.9601), (3800.0, 0.9788)]);
    let test = curve(&[(520.0, 0.9330), (1300.0, 0.9615), (3300.0, 0.9790)]);
    let cubic = compare(&anchor, &test, BdMethod::Cubic);
    assert_eq!(cubic.warnings, vec![BdWarning::FewerThanFourPoints]);
    assert!(cubic.bd_rate_percent.unwrap() < 0.0);
    assert_eq!(compare(&anchor, &test, BdMethod::Pchip).warnings, vec![]);
}

/// Monotonic points whose cubic fit swings back (uneven spacing) are warned; pchip on the same
/// points is monotonic and is not.
#[test]
fn non_monotonic_fit_is_warned() {
    let rates = [2.0f64, 2.5, 3.0, 3.1].map(|l| 10f64.powf(l));
    let anchor = curve(&[
        (rates[0], 30.0),
        (rates[1], 30.5),
        (rates[2], 31.0),
        (rates[3], 40.0),
    ]);
    let test: RdCurve = anchor
        .points()
        .iter()
        .map(|p| RatePoint::new(p.rate * 0.9, p.quality + 0.1))
        .collect();
    let cubic = compare(&anchor, &test, BdMethod::Cubic);
    assert!(
        cubic.warnings.contains(&BdWarning::NonMonotonicFit),
        "{:?}",
        cubic.warnings
    );
    assert!(cubic.bd_rate_percent.is_some());
    let pchip = compare(&anchor, &test, BdMethod::Pchip);
    assert!(!pchip.warnings.contains(&BdWarning::NonMonotonicFit));
}

/// The AOM CTC cut: a dip or a tie at or above 99.5 ends the curve; a dip below 99.5 does not.
#[test]
fn vmaf_saturation_cut_exact_points() {
    let dip = curve(&[
        (500.0, 90.0),
        (1000.0, 97.0),
        (2000.0, 99.6),
        (4000.0, 99.55),
        (8000.0, 99.7),
    ]);
    assert_eq!(
        dip.cut_vmaf_saturation(),
        curve(&[(500.0, 90.0), (1000.0, 97.0), (2000.0, 99.6)])
    );
    let tie = curve(&[
        (500.0, 90.0),
        (1000.0, 99.5),
        (2000.0, 99.5),
        (4000.0, 99.8),
    ]);
    assert_eq!(
        tie.cut_vmaf_saturation(),
        curve(&[(500.0, 90.0), (1000.0, 99.5)])
    );
    let low_dip = curve(&[
        (500.0, 90.0),
        (1000.0, 89.0),
        (2000.0, 99.0),
        (4000.0, 99.2),
    ]);
    assert_eq!(low_dip.cut_vmaf_saturation(), low_dip);
    let climbing = curve(&[(500.0, 99.6), (1000.0, 99.7), (2000.0, 99.8)]);
    assert_eq!(climbing.cut_vmaf_saturation(), climbing);
}

/// With the saturation option a curve that is only non-monotonic past 99.5 gets a BD-rate, and
/// the cut is reported; without it, BD-rate is null.
#[test]
fn vmaf_saturation_option_in_compare() {
    let anchor = curve(&[
        (500.0, 80.0),
        (1000.0, 90.0),
        (2000.0, 96.0),
        (4000.0, 99.6),
        (8000.0, 99.58),
    ]);
    let test = curve(&[(450.0, 81.0), (900.0, 91.0), (1800.0, 96.5), (3600.0, 99.4)]);
    let plain = compare(&anchor, &test, BdMethod::Pchip);
    assert_eq!(plain.bd_rate_percent, None);
    let options = BdOptions {
        vmaf_saturation: true,
        ..BdOptions::default()
    };
    let cut = bd_compare(&anchor, &test, &options);
    assert_eq!(cut.warnings, vec![BdWarning::VmafSaturationCut]);
    // Same as comparing against the anchor without its last point.
    let trimmed = curve(
        &anchor.points()[..4]
            .iter()
            .map(|p| (p.rate, p.quality))
            .collect::<Vec<_>>(),
    );
    let expected = compare(&trimmed, &test, BdMethod::Pchip);
    assert_eq!(cut.bd_rate_percent, expected.bd_rate_percent);
    assert!(cut.bd_rate_percent.unwrap() < 0.0);
}

/// The JSON shape the CLI prints: keys in order, snake_case warnings, nulls.
#[test]
fn result_serialises_in_the_documented_shape() {
    let result = BdResult {
        method: BdMethod::Pchip,
        bd_rate_percent: None,
        bd_quality: Some(1.5),
        warnings: vec![BdWarning::NonMonotonic, BdWarning::FewerThanFourPoints],
        reason: Some("why".into()),
    };
    assert_eq!(
        serde_json::to_string(&result).unwrap(),
        r#"{"method":"pchip","bd_rate_percent":null,"bd_quality":1.5,"warnings":["non_monotonic","fewer_than_four_points"],"reason":"why"}"#
    );
    for warning in [
        BdWarning::NonMonotonic,
        BdWarning::DuplicatedPoints,
        BdWarning::PartialOverlap,
        BdWarning::FewerThanFourPoints,
        BdWarning::NonMonotonicFit,
        BdWarning::VmafSaturationCut,
    ] {
        assert_eq!(
            serde_json::to_string(&warning).unwrap(),
            format!("\"{}\"", warning.as_str())
        );
    }
}

/// Method names parse case-insensitively and round-trip; unknown names are refused by name.
#[test]
fn method_names() {
    for method in BdMethod::ALL {
        assert_eq!(method.to_string().parse::<BdMethod>().unwrap(), method);
    }
    assert_eq!("PCHIP".parse::<BdMethod>().unwrap(), BdMethod::Pchip);
    assert_eq!(BdMethod::default(), BdMethod::Pchip);
    assert_eq!(
        "spline".parse::<BdMethod>().unwrap_err().to_string(),
        "unknown BD method 'spline' (expected cubic, pchip or akima)"
    );
}

mod csv_input {
    use std::io::Write;
    use std::path::PathBuf;

    use rdbench_bdrate::csv::{read_rd_curve, CsvColumns, CsvError};
    use rdbench_bdrate::{RatePoint, RdCurve};

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rd.csv");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        (dir, path)
    }

    fn columns(rate: &str, quality: &str) -> CsvColumns {
        CsvColumns {
            rate: rate.into(),
            quality: quality.into(),
        }
    }

    fn error(text: &str, columns: &CsvColumns) -> (String, PathBuf, CsvError) {
        let (_dir, path) = file(text);
        let err = read_rd_curve(&path, columns).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains('\n'), "{message}");
        (message, path, err)
    }

    /// Default columns, extra columns, quoted fields, a BOM, spaces, a blank line, unsorted rows.
    #[test]
    fn reads_default_columns() {
        let text = "\u{feff}sequence,\"bitrate_kbps\", psnr_y ,vmaf\n\
                    \"park, joy\",2000.5,36.1,88.25\n\
                    \n\
                    \"park, joy\", 1000 ,33.0,\"80\"\n";
        let (_dir, path) = file(text);
        let curve = read_rd_curve(&path, &CsvColumns::default()).unwrap();
        assert_eq!(
            curve,
            RdCurve::new([RatePoint::new(1000.0, 80.0), RatePoint::new(2000.5, 88.25)])
        );
        let psnr = read_rd_curve(&path, &columns("bitrate_kbps", "psnr_y")).unwrap();
        assert_eq!(psnr.points()[1], RatePoint::new(2000.5, 36.1));
        // Case-insensitive fallback.
        let upper = read_rd_curve(&path, &columns("BITRATE_KBPS", "VMAF")).unwrap();
        assert_eq!(upper, curve);
    }

    #[test]
    fn missing_column_names_it_and_lists_the_header() {
        let (message, path, _) = error("kbps,vmaf\n100,80\n", &CsvColumns::default());
        assert_eq!(
            message,
            format!(
                "{}: no column 'bitrate_kbps' in the header (columns: kbps, vmaf)",
                path.display()
            )
        );
    }

    #[test]
    fn non_numeric_cell_names_line_column_and_text() {
        let (message, path, err) = error(
            "bitrate_kbps,vmaf\n100,80\n200,n/a\n",
            &CsvColumns::default(),
        );
        assert_eq!(
            message,
            format!("{}:3: column 'vmaf': 'n/a' is not a number", path.display())
        );
        assert!(matches!(err, CsvError::NonNumeric { line: 3, .. }));
        let (message, ..) = error("bitrate_kbps,vmaf\n,80\n", &CsvColumns::default());
        assert!(
            message.ends_with(":2: column 'bitrate_kbps': '' is not a number"),
            "{message}"
        );
    }

    #[test]
    fn nan_and_infinity_are_refused() {
        for cell in ["NaN", "inf", "-infinity"] {
            let (message, path, err) = error(
                &format!("bitrate_kbps,vmaf\n100,80\n150,81\n{cell},82\n"),
                &CsvColumns::default(),
            );
            assert_eq!(
                message,
                format!(
                    "{}:4: column 'bitrate_kbps': '{cell}' is not a finite number",
                    path.display()
                )
            );
            assert!(matches!(err, CsvError::NonFinite { line: 4, .. }));
        }
    }

    #[test]
    fn unreadable_short_rows_and_ambiguous_headers() {
        let missing = std::path::Path::new("/nonexistent/rdbench/rd.csv");
        let message = read_rd_curve(missing, &CsvColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("cannot read /nonexistent/rdbench/rd.csv: "),
            "{message}"
        );

        let (message, ..) = error("bitrate_kbps,psnr,vmaf\n100,30\n", &CsvColumns::default());
        assert!(
            message.ends_with(":2: row has 2 field(s), no cell for column 'vmaf'"),
            "{message}"
        );
        let (message, ..) = error(
            "bitrate_kbps,vmaf,vmaf\n100,80,81\n",
            &CsvColumns::default(),
        );
        assert!(message.ends_with("column 'vmaf' appears more than once in the header"));
        let (message, ..) = error("", &CsvColumns::default());
        assert!(
            message.ends_with("empty file, expected a header row"),
            "{message}"
        );
        // Not UTF-8: reported as malformed with its line.
        let (dir, path) = file("");
        std::fs::write(&path, b"bitrate_kbps,vmaf\n100,80\n200,\xff\xfe\n").unwrap();
        let message = read_rd_curve(&path, &CsvColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("{}:3: malformed CSV: ", path.display())),
            "{message}"
        );
        assert!(!message.contains('\n'));
        drop(dir);
    }
}

/// The PCHIP curve the target-quality search inverts equals scipy's `PchipInterpolator` at the
/// points, between them and at the ends (goldens/make_pchip_goldens.py).
#[test]
fn pchip_matches_scipy() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goldens/pchip.json");
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let nums = |k: &str| -> Vec<f64> {
        g[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let curve = rdbench_bdrate::Pchip::new(&nums("x"), &nums("y")).unwrap();
    for (at, want) in nums("at").into_iter().zip(nums("value")) {
        let got = curve.value(at);
        assert!((got - want).abs() < 1e-9, "at {at}: {got} vs scipy {want}");
    }
    // Points that cannot make a curve.
    assert!(rdbench_bdrate::Pchip::new(&[1.0], &[2.0]).is_none());
    assert!(rdbench_bdrate::Pchip::new(&[1.0, 1.0], &[2.0, 3.0]).is_none());
    assert!(rdbench_bdrate::Pchip::new(&[1.0, f64::NAN], &[2.0, 3.0]).is_none());
}
