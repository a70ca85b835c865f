//! The study summary's sentences, by exact output.

use rdbench_reports::summary::{
    study_summary, ComparedConfig, ComparisonFindings, Findings, MetricBd, RateControlFindings,
    TestFindings,
};

fn bd(metric: &str, percent: Option<f64>) -> MetricBd {
    MetricBd {
        metric: metric.into(),
        percent,
        interval: None,
        sequences: 4,
    }
}

fn test(config: &str, bd_rate: Vec<MetricBd>, cpu_ratios: &[f64]) -> TestFindings {
    TestFindings {
        config: config.into(),
        bd_rate,
        cpu_ratios: cpu_ratios.to_vec(),
    }
}

fn findings(tests: Vec<TestFindings>) -> Findings {
    Findings {
        anchor: "x264".into(),
        rc_mode: "crf".into(),
        sequences: 4,
        method: "pchip".into(),
        tests,
        rate_control: Vec::new(),
        comparison: None,
    }
}

#[test]
fn bd_rate_sentences_say_saves_or_needs_more() {
    let f = findings(vec![test(
        "x265",
        vec![
            bd("SSIM", Some(-18.04)),
            bd("VMAF", Some(7.26)),
            bd("PSNR-Y", Some(0.04)),
            bd("MS-SSIM", None),
        ],
        &[],
    )]);
    assert_eq!(
        study_summary(&f),
        [
            "BD-rates compare the crf curves of 4 sequences against x264 (pchip interpolation).",
            "With SSIM as the metric, x265 saves 18.0% bitrate against x264 on average (BD-rate).",
            "With VMAF as the metric, x265 needs 7.3% more bitrate than x264 on average (BD-rate).",
            "With PSNR-Y as the metric, x265 needs the same bitrate as x264 on average (BD-rate 0.0%).",
            "With MS-SSIM as the metric, the BD-rate of x265 against x264 is undefined on every sequence.",
        ]
    );
}

#[test]
fn an_average_over_several_sequences_carries_its_interval() {
    let mut ssim = bd("SSIM", Some(-7.93));
    ssim.interval = Some((-10.24, -5.61));
    let mut one = bd("VMAF", Some(2.0));
    one.sequences = 1;
    let f = findings(vec![test("x265", vec![ssim, one], &[])]);
    assert_eq!(
        &study_summary(&f)[1..],
        [
            "With SSIM as the metric, x265 saves 7.9% bitrate against x264 on average (BD-rate; 95% interval -10.2% to -5.6% over 4 sequences).",
            "With VMAF as the metric, x265 needs 2.0% more bitrate than x264 on average (BD-rate).",
        ]
    );
}

fn speed_sentence(ratios: &[f64]) -> String {
    let f = findings(vec![test("x265", Vec::new(), ratios)]);
    study_summary(&f).pop().unwrap()
}

#[test]
fn speed_goes_from_faster_to_slower() {
    assert_eq!(
        speed_sentence(&[0.88, 1.0, 1.35]),
        "x265 goes from 12.0% faster to 35.0% slower than x264 as the crf rate point moves from \
         the highest to the lowest bitrate."
    );
    assert_eq!(
        speed_sentence(&[1.5, 0.95, 0.7]),
        "x265 goes from 50.0% slower to 30.0% faster than x264 as the crf rate point moves from \
         the highest to the lowest bitrate."
    );
}

#[test]
fn speed_in_one_direction_says_so() {
    assert_eq!(
        speed_sentence(&[1.2, 1.4, 1.6]),
        "x265 is slower than x264 at every crf rate point: 20.0% at the highest bitrate and 60.0% \
         at the lowest."
    );
    assert_eq!(
        speed_sentence(&[0.5, 0.6, 0.75]),
        "x265 is faster than x264 at every crf rate point: 50.0% at the highest bitrate and 25.0% \
         at the lowest."
    );
    // Same sign at both ends but not in between: no "at every rate point".
    assert_eq!(
        speed_sentence(&[1.2, 0.9, 1.1]),
        "x265 goes from 20.0% slower to 10.0% slower than x264 as the crf rate point moves from \
         the highest to the lowest bitrate."
    );
}

#[test]
fn speed_at_par_and_single_points() {
    assert_eq!(
        speed_sentence(&[1.0, 1.0004]),
        "x265 is as fast as x264 at every crf rate point."
    );
    assert_eq!(
        speed_sentence(&[1.0, 1.3]),
        "x265 goes from as fast as x264 to 30.0% slower than x264 as the crf rate point moves \
         from the highest to the lowest bitrate."
    );
    assert_eq!(
        speed_sentence(&[1.25]),
        "x265 is 25.0% slower than x264 at its only crf rate point."
    );
    assert_eq!(
        speed_sentence(&[1.0]),
        "x265 is as fast as x264 at its only crf rate point."
    );
    let none = findings(vec![test("x265", Vec::new(), &[])]);
    assert_eq!(
        study_summary(&none).len(),
        1,
        "no speed sentence without rate points"
    );
}

#[test]
fn rate_control_and_comparison_sentences() {
    let mut f = findings(Vec::new());
    f.rate_control = vec![
        RateControlFindings {
            rc_mode: "abr".into(),
            mean_abs_error_pct: vec![("x264".into(), 3.21), ("x265".into(), 4.06)],
            vbv_violations: vec![("x264".into(), 0), ("x265".into(), 0)],
        },
        RateControlFindings {
            rc_mode: "cbr".into(),
            mean_abs_error_pct: vec![("x264".into(), 1.0), ("x265".into(), 0.5)],
            vbv_violations: vec![("x264".into(), 0), ("x265".into(), 3)],
        },
    ];
    f.comparison = Some(ComparisonFindings {
        other_run: "r1".into(),
        configs: vec![
            ComparedConfig {
                config: "x264".into(),
                bd_rate: vec![bd("VMAF", Some(0.01))],
                cpu_ratio: Some(0.8),
            },
            ComparedConfig {
                config: "x265".into(),
                bd_rate: vec![bd("VMAF", Some(-1.5)), bd("SSIM", Some(0.6))],
                cpu_ratio: None,
            },
            ComparedConfig {
                config: "svt-av1".into(),
                bd_rate: vec![bd("VMAF", None)],
                cpu_ratio: Some(1.0),
            },
        ],
    });
    assert_eq!(
        study_summary(&f),
        [
            "Rate-control error (abr): x264 averages 3.2%, x265 4.1%.",
            "Rate-control error (cbr): x264 averages 1.0%, x265 0.5%. VBV violations: x265 3.",
            "Against run r1, x264 needs the same bitrate with VMAF (BD-rate) and encodes 20.0% faster.",
            "Against run r1, x265 needs 1.5% less bitrate with VMAF and 0.6% more bitrate with SSIM (BD-rate).",
            "Against run r1, svt-av1 has no defined BD-rate and encodes as fast as before.",
        ]
    );
}
