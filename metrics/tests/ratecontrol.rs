//! Rate-control accuracy on a synthetic packet trace whose figures are computed by hand.
//!
//! The trace: 16 frames at 8 fps (0.125 s apart, exact in binary), B-frame reordering (decode
//! timestamps start at -0.25 s, presentation order differs from decode order), key frames at
//! decode indices 0 and 8. Sizes in decode order: 4000 B, seven of 1000 B, 4000 B, seven of 500 B.
//! Total 18 500 B = 148 000 bit over 2.0 s = 74 kbit/s.

use rdbench_metrics::ratecontrol::{
    bitrate_accuracy, peak_bitrate, rate_control_report, vbv_check, Packet, PacketTrace,
    RateControlError, RateControlTarget, TimeBase, VbvMode, VbvParams,
};

const PTS_ORDER: [i64; 16] = [0, 3, 1, 2, 6, 4, 5, 7, 8, 11, 9, 10, 14, 12, 13, 15];

fn sizes() -> Vec<u64> {
    let mut sizes = vec![4000];
    sizes.extend([1000; 7]);
    sizes.push(4000);
    sizes.extend([500; 7]);
    sizes
}

/// The trace in ticks of 1/8 s, with or without durations.
fn trace(with_duration: bool) -> PacketTrace {
    let tb = TimeBase::new(1, 8);
    let packets = sizes()
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            Packet::from_ticks(
                size,
                PTS_ORDER[i],
                i as i64 - 2,
                with_duration.then_some(1),
                tb,
                i % 8 == 0,
            )
        })
        .collect();
    PacketTrace::new(packets).unwrap()
}

#[test]
fn average_bitrate_and_error() {
    for with_duration in [true, false] {
        let t = trace(with_duration);
        assert_eq!(t.duration_s().unwrap(), 2.0);
        let acc = bitrate_accuracy(&t, 80.0).unwrap();
        assert_eq!(acc.total_bits, 148_000);
        assert_eq!(acc.actual_kbps, 74.0);
        assert_eq!(acc.error_percent, -7.5);
    }
    assert_eq!(trace(false).nominal_frame_interval(), Some(0.125));
    // FFmpeg's "duration 0" means unknown: same answer.
    let zero: Vec<Packet> = trace(true)
        .packets()
        .iter()
        .map(|p| Packet {
            duration: Some(0.0),
            ..*p
        })
        .collect();
    assert_eq!(PacketTrace::new(zero).unwrap().duration_s().unwrap(), 2.0);
}

/// Window i covers decode indices i..i+7: the first two hold 4000 + 7 x 1000 B = 88 kbit.
#[test]
fn peak_over_one_second_windows() {
    let t = trace(true);
    let peak = peak_bitrate(&t, 1.0, Some(80.0)).unwrap();
    assert_eq!(peak.peak_kbps, 88.0);
    assert_eq!(peak.window_start_s, -0.25);
    assert!(peak.exceeded);
    assert_eq!(peak.excess_kbps, 8.0);
    assert_eq!(peak.excess_percent, 10.0);
    let relaxed = peak_bitrate(&t, 1.0, Some(100.0)).unwrap();
    assert!(!relaxed.exceeded);
    assert_eq!((relaxed.excess_kbps, relaxed.excess_percent), (0.0, 0.0));
    // A 0.5 s window: 4 frames, best is 4000 + 3 x 1000 B = 56 kbit over 0.5 s.
    assert_eq!(peak_bitrate(&t, 0.5, None).unwrap().peak_kbps, 112.0);
}

/// At 30000/1001 fps timestamps are not exact in binary: `t(91) + 30 frame intervals` rounds to
/// just above `t(121)`. A window holds exactly 30 frames all the same: 150 frames of 1000 B with
/// frame 121 at 9000 B peak at 29 x 8 + 72 = 304 kbit per window, first in the window anchored
/// at frame 92 (a 31-frame window from frame 91 would give 312).
#[test]
fn window_edge_with_ntsc_time_base() {
    let tb = TimeBase::new(1001, 30000);
    let window = 30.0 * 1001.0 / 30000.0;
    assert!(
        tb.seconds(121) < tb.seconds(91) + window,
        "the rounding this test relies on"
    );
    let packets: Vec<Packet> = (0..150)
        .map(|i| {
            let size = if i == 121 { 9000 } else { 1000 };
            Packet::from_ticks(size, i, i, Some(1), tb, i == 0)
        })
        .collect();
    let t = PacketTrace::new(packets).unwrap();
    let peak = peak_bitrate(&t, window, None).unwrap();
    assert!(
        (peak.peak_kbps - 304.0 / window).abs() < 1e-9,
        "{}",
        peak.peak_kbps
    );
    assert_eq!(peak.window_start_s, tb.seconds(92));
}

/// Buffer 40 kbit, 80 kbit/s (10 kbit per frame interval), start at 36 kbit. Frames of 32, 8 x 7,
/// 32, 4 x 7 kbit: after-removal fullness 4, 6, 8, ... 18; frame 8 finds 28 < 32 (underflow by 4,
/// buffer empties); then 6, 12, 18, 24, 30, 36; frame 15 would arrive at 46 > 40 (overflow by 6).
#[test]
fn vbv_cbr_and_capped() {
    let t = trace(true);
    let cbr = vbv_check(&t, &VbvParams::new(40.0, 80.0, VbvMode::Cbr)).unwrap();
    let after: Vec<f64> = cbr.samples.iter().map(|s| s.after_kbits).collect();
    assert_eq!(
        after,
        [
            4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0,
            36.0
        ]
    );
    let before: Vec<f64> = cbr.samples.iter().map(|s| s.before_kbits).collect();
    assert_eq!(before[0], 36.0);
    assert_eq!(before[8], 28.0);
    assert_eq!(before[15], 40.0);
    assert_eq!(cbr.samples[3].dts, 0.125);
    assert_eq!((cbr.underflow_count, cbr.worst_underflow_kbits), (1, 4.0));
    assert_eq!((cbr.overflow_count, cbr.worst_overflow_kbits), (1, 6.0));
    assert_eq!(cbr.min_fullness_kbits, 0.0);
    assert_eq!(cbr.violations, 2);
    assert!(!cbr.compliant());

    let capped = vbv_check(&t, &VbvParams::new(40.0, 80.0, VbvMode::Capped)).unwrap();
    assert_eq!(capped.samples, cbr.samples);
    assert_eq!((capped.underflow_count, capped.overflow_count), (1, 1));
    assert_eq!(capped.violations, 1);

    // A 100 kbit buffer starting at 90: lowest point 50 after frame 8, never full.
    let roomy = vbv_check(&t, &VbvParams::new(100.0, 80.0, VbvMode::Cbr)).unwrap();
    assert!(roomy.compliant());
    assert_eq!((roomy.underflow_count, roomy.overflow_count), (0, 0));
    assert_eq!(roomy.min_fullness_kbits, 50.0);
    assert_eq!(roomy.samples[15].after_kbits, 92.0);

    // Starting empty, the first 32 kbit frame underflows at once.
    let empty = VbvParams {
        initial_fullness: 0.0,
        ..VbvParams::new(100.0, 80.0, VbvMode::Capped)
    };
    let report = vbv_check(&t, &empty).unwrap();
    assert_eq!(report.samples[0].before_kbits, 0.0);
    assert!(report.underflow_count >= 1 && report.worst_underflow_kbits >= 32.0);
}

#[test]
fn combined_report() {
    let target = RateControlTarget {
        target_kbps: Some(80.0),
        maxrate_kbps: Some(80.0),
        buffer_kbits: Some(40.0),
        initial_fullness: None,
        cbr: true,
    };
    let report = rate_control_report(&trace(true), &target).unwrap();
    assert_eq!(report.actual_kbps, 74.0);
    assert_eq!(report.bitrate.unwrap().error_percent, -7.5);
    assert_eq!(report.peak.peak_kbps, 88.0);
    assert_eq!(report.vbv.unwrap().violations, 2);
    let bare = rate_control_report(&trace(true), &RateControlTarget::default()).unwrap();
    assert!(bare.bitrate.is_none() && bare.vbv.is_none());
    assert!(!bare.peak.exceeded);
}

#[test]
fn bad_traces_and_parameters() {
    assert_eq!(
        PacketTrace::new(vec![]).unwrap_err(),
        RateControlError::EmptyTrace
    );
    let out_of_order = vec![
        Packet::new(10, 0.0, 0.1, None, true),
        Packet::new(10, 0.1, 0.0, None, false),
    ];
    let err = PacketTrace::new(out_of_order).unwrap_err();
    assert_eq!(
        err.to_string(),
        "packet 1: dts 0 s is before the previous packet's 0.1 s; packets must be in decode order"
    );
    let nan = vec![Packet::new(10, f64::NAN, 0.0, None, true)];
    assert_eq!(
        PacketTrace::new(nan).unwrap_err().to_string(),
        "packet 0: pts is NaN, expected a finite number of seconds"
    );
    let single = PacketTrace::new(vec![Packet::new(10, 0.0, 0.0, None, true)]).unwrap();
    assert_eq!(
        single.duration_s().unwrap_err(),
        RateControlError::UnknownDuration
    );
    assert_eq!(
        bitrate_accuracy(&trace(true), 0.0).unwrap_err().to_string(),
        "target_kbps is 0, expected a finite positive number"
    );
    let bad_fill = VbvParams {
        initial_fullness: 1.5,
        ..VbvParams::new(40.0, 80.0, VbvMode::Cbr)
    };
    assert!(vbv_check(&trace(true), &bad_fill).is_err());
}
