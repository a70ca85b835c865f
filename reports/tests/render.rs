//! Rendering the synthetic run: which files a report holds and what is in them.

use std::path::Path;

use rdbench_reports::{render, ReportOptions, ReportPaths};

use crate::fixture::{write_run, Variant};

/// Decodes a PNG and returns (width, height, fraction of pixels that are not white).
pub fn png_stats(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let total = (info.width * info.height) as usize;
    let non_white = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|v| *v < 235))
        .count();
    (info.width, info.height, non_white as f64 / total as f64)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names(paths: &ReportPaths) -> Vec<String> {
    paths
        .charts
        .iter()
        .map(|(png, _)| png.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

const SUMMARY_FINDINGS: [&str; 14] = [
    "BD-rates compare the crf curves of 4 sequences against x264 (pchip interpolation).",
    "With VMAF as the metric, svt-av1 saves 33.0% bitrate against x264 on average (BD-rate; 95% interval -36.0% to -30.0% over 4 sequences).",
    "With PSNR-Y as the metric, svt-av1 saves 33.0% bitrate against x264 on average (BD-rate; 95% interval -36.0% to -30.0% over 4 sequences).",
    "With PSNR-YUV as the metric, svt-av1 saves 33.0% bitrate against x264 on average (BD-rate; 95% interval -36.0% to -30.0% over 4 sequences).",
    "With SSIM as the metric, svt-av1 saves 33.0% bitrate against x264 on average (BD-rate; 95% interval -36.0% to -30.0% over 4 sequences).",
    "With MS-SSIM as the metric, svt-av1 saves 33.0% bitrate against x264 on average (BD-rate; 95% interval -36.0% to -30.0% over 4 sequences).",
    "svt-av1 is slower than x264 at every crf rate point: 100.0% at the highest bitrate and 200.0% at the lowest.",
    "With VMAF as the metric, x265 saves 22.5% bitrate against x264 on average (BD-rate; 95% interval -25.0% to -20.0% over 4 sequences).",
    "With PSNR-Y as the metric, x265 saves 22.5% bitrate against x264 on average (BD-rate; 95% interval -25.0% to -20.0% over 4 sequences).",
    "With PSNR-YUV as the metric, x265 saves 22.5% bitrate against x264 on average (BD-rate; 95% interval -25.0% to -20.0% over 4 sequences).",
    "With SSIM as the metric, x265 saves 22.5% bitrate against x264 on average (BD-rate; 95% interval -25.0% to -20.0% over 4 sequences).",
    "With MS-SSIM as the metric, x265 saves 22.5% bitrate against x264 on average (BD-rate; 95% interval -25.0% to -20.0% over 4 sequences).",
    "x265 goes from 10.0% faster to 35.0% slower than x264 as the crf rate point moves from the highest to the lowest bitrate.",
    "Rate-control error (abr): x264 averages 2.5%, svt-av1 7.0%, x265 4.0%.",
];

#[test]
fn a_run_with_a_summary_renders_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let paths = render(&run, &ReportOptions::default()).unwrap();
    assert_eq!(paths.dir, run.dir.join("report"));
    assert_eq!(paths.findings, SUMMARY_FINDINGS);

    // Charts: BD-rate bars of the summary's mode, one RD figure per sequence, speed, rate
    // control, the default encode frame by frame (the anchor's middle ABR point on the first
    // sequence), SI/TI.
    assert_eq!(
        names(&paths),
        [
            "bd_rate_crf",
            "bd_rate_abr",
            "rd_BasketballDrive",
            "rd_Cactus",
            "rd_BQMall",
            "rd_PartyScene",
            "speed",
            "rate_control",
            "frames_synthetic_BasketballDrive_x264_abr_1_r0",
            "si_ti",
        ]
    );
    for (png, svg) in &paths.charts {
        let (w, h, ink) = png_stats(png);
        assert!(w >= 1000 && h >= 500, "{}: {w}x{h}", png.display());
        assert!(
            ink > 0.02 && ink < 0.6,
            "{}: {:.3} of the pixels are not white",
            png.display(),
            ink
        );
        let text = read(svg);
        assert!(
            text.starts_with("<svg") && text.contains("</svg>"),
            "{}",
            svg.display()
        );
        assert!(
            text.contains("font-family=\"sans-serif\""),
            "{}",
            svg.display()
        );
    }
    let rd = read(&paths.charts[2].1);
    for needle in [
        "RD curves: BasketballDrive (class B)",
        "VMAF (crf)",
        "SSIM (abr)",
        "PSNR-Y (crf)",
        "x264",
        "svt-av1",
        "x265",
        "bitrate (kbit/s, log)",
    ] {
        assert!(rd.contains(needle), "the RD chart lacks '{needle}'");
    }

    // Tables as CSV: the CTC-style BD-rate table, speed, rate-control error.
    let csv: Vec<String> = paths
        .csv
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        csv,
        [
            "bd_rate_crf.csv",
            "bd_rate_summary_crf.csv",
            "bd_rate_abr.csv",
            "bd_rate_summary_abr.csv",
            "speed.csv",
            "bitrate_error.csv"
        ]
    );
    let short = read(&run.dir.join("report/tables/bd_rate_summary_crf.csv"));
    // Each metric's mean is followed by its 95% bootstrap interval: within a class both
    // sequences have the same BD-rate (a point interval); over all four, the interval spans
    // the two classes' values.
    let cells = |v: &str, lo: &str, hi: &str| {
        format!("{v},{lo},{hi}")
            .repeat(5)
            .replace(&format!("{hi}{v}"), &format!("{hi},{v}"))
    };
    let header = ["VMAF", "PSNR-Y", "PSNR-YUV", "SSIM", "MS-SSIM"]
        .iter()
        .map(|m| format!("{m},{m} ci_low,{m} ci_high"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        short.lines().collect::<Vec<_>>(),
        [
            format!("config,class,{header},sequences,EncT,DecT"),
            format!(
                "svt-av1,B,{},2,2.4655,1.0000",
                cells("-30.0000", "-30.0000", "-30.0000")
            ),
            format!(
                "svt-av1,C,{},2,2.4655,1.0000",
                cells("-36.0000", "-36.0000", "-36.0000")
            ),
            format!(
                "svt-av1,all,{},4,2.4655,1.0000",
                cells("-33.0000", "-36.0000", "-30.0000")
            ),
            format!(
                "x265,B,{},2,1.0982,1.0000",
                cells("-25.0000", "-25.0000", "-25.0000")
            ),
            format!(
                "x265,C,{},2,1.0982,1.0000",
                cells("-20.0000", "-20.0000", "-20.0000")
            ),
            format!(
                "x265,all,{},4,1.0982,1.0000",
                cells("-22.5000", "-25.0000", "-20.0000")
            ),
        ]
    );
    let bd = read(&run.dir.join("report/tables/bd_rate_crf.csv"));
    let lines: Vec<&str> = bd.lines().collect();
    let header = |c: &str| {
        ["VMAF", "PSNR-Y", "PSNR-YUV", "SSIM", "MS-SSIM"]
            .iter()
            .map(|m| format!("{c} {m},{c} {m} ci_low,{c} {m} ci_high"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(
        lines[0],
        format!(
            "class,sequence,{},svt-av1 EncT,svt-av1 DecT,{},x265 EncT,x265 DecT",
            header("svt-av1"),
            header("x265")
        )
    );
    // Rows: class B's sequences, its average, class C's, its average, the overall average.
    let firsts: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        firsts,
        [
            "B,BasketballDrive",
            "B,Cactus",
            "B,average",
            "C,BQMall",
            "C,PartyScene",
            "C,average",
            "all,overall"
        ]
    );
    // EncT: (1.3*2.0 + 1.1*2.4 + 0.95*2.7 + 0.85*3.0) / 4.2 = 2.46548 for svt-av1 on every
    // sequence, and 4.6125 / 4.2 = 1.09821 for x265.
    // Sequence rows have no interval.
    assert_eq!(
        lines[1],
        format!(
            "B,BasketballDrive,{}2.4655,1.0000,{}1.0982,1.0000",
            "-30.0000,,,".repeat(5),
            "-25.0000,,,".repeat(5)
        )
    );
    assert_eq!(
        lines[7],
        format!(
            "all,overall,{}2.4655,1.0000,{}1.0982,1.0000",
            "-33.0000,-36.0000,-30.0000,".repeat(5),
            "-22.5000,-25.0000,-20.0000,".repeat(5)
        )
    );
    let rc = read(&run.dir.join("report/tables/bitrate_error.csv"));
    assert_eq!(
        rc.lines().collect::<Vec<_>>(),
        [
            "config,rc_mode,encodes,mean_abs_error_pct,max_abs_error_pct,mean_error_pct,vbv_violations",
            "x264,abr,16,2.5000,4.0000,0.5000,0",
            "svt-av1,abr,16,7.0000,10.0000,2.0000,0",
            "x265,abr,16,4.0000,5.0000,0.0000,0",
        ]
    );
    let speed = read(&run.dir.join("report/tables/speed.csv"));
    assert_eq!(
        speed.lines().next().unwrap(),
        "config,rc_mode,rc_point,rc_value,bitrate_kbps,encode_cpu_s,encode_wall_s,decode_cpu_s,\
         anchor_cpu_s,cpu_ratio,cpu_ratio ci_low,cpu_ratio ci_high,decode_ratio,instructions_ratio"
    );
    assert!(speed.contains("\nx265,crf,3,39.0000,"), "{speed}");
    // x265 at its lowest-rate point: 1.35x the anchor's CPU, no interval from one repetition,
    // the same decoder time, no instruction counts.
    assert!(
        speed
            .lines()
            .any(|l| l.starts_with("x265,crf,3,") && l.ends_with(",1.3500,,,1.0000,")),
        "{speed}"
    );

    // Markdown: the findings as a list, class and overall averages (overall in bold), the
    // rate-control table.
    let md = read(&paths.markdown);
    assert!(md.starts_with("## rdbench report: synthetic (run 20250101T120000Z-synthetic)\n"));
    assert!(md.contains("Anchor **x264**; 3 configurations; 4 sequences in 2 classes; 96 encodes finished, 1 failed;"));
    for f in SUMMARY_FINDINGS {
        assert!(
            md.contains(&format!("\n- {f}\n")),
            "the Markdown lacks '{f}'"
        );
    }
    let row = |cells: &str, n: u32, enc: &str| {
        format!("{}{n} | {enc} | 1.00 |", format!("{cells} | ").repeat(5))
    };
    let bold = |cells: &str, n: u32, enc: &str| {
        format!(
            "{}**{n}** | **{enc}** | **1.00** |",
            format!("**{cells}** | ").repeat(5)
        )
    };
    let expected = [
        "### BD-rate against x264 (crf curves), class averages\n".to_string(),
        "| config | class | VMAF | PSNR-Y | PSNR-YUV | SSIM | MS-SSIM | sequences | EncT | DecT |"
            .into(),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|".into(),
        format!(
            "| svt-av1 | B | {}",
            row("-30.00% [-30.00, -30.00]", 2, "2.47")
        ),
        format!(
            "| svt-av1 | C | {}",
            row("-36.00% [-36.00, -36.00]", 2, "2.47")
        ),
        format!(
            "| **svt-av1** | **all** | {}",
            bold("-33.00% [-36.00, -30.00]", 4, "2.47")
        ),
        format!(
            "| x265 | B | {}",
            row("-25.00% [-25.00, -25.00]", 2, "1.10")
        ),
        format!(
            "| x265 | C | {}",
            row("-20.00% [-20.00, -20.00]", 2, "1.10")
        ),
        format!(
            "| **x265** | **all** | {}",
            bold("-22.50% [-25.00, -20.00]", 4, "1.10")
        ),
    ]
    .join("\n");
    assert!(md.contains(&expected), "{md}");
    assert!(
        !md.contains("BasketballDrive"),
        "the Markdown holds class and overall averages only"
    );
    assert!(md.contains("| x265 | abr | 16 | 4.00 | 5.00 | 0.00 | 0 |"));

    // HTML: self-contained, every chart inline, the failed job listed.
    let html = read(&paths.html);
    assert_eq!(html.matches("<svg").count(), paths.charts.len());
    assert!(html.contains(&format!("data-charts=\"{}\"", paths.charts.len())));
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "the page must not load anything"
    );
    assert!(
        html.contains("synthetic/PartyScene/x265/crf/4/r0: libx265 rejected crf 44: out of range")
    );
    assert!(html.contains(
        "against x264 (pchip interpolation; averages with 95% paired-bootstrap intervals over sequences)"
    ));
    assert!(html.contains(
        "<tr class=\"average\"><td>all</td><td>overall</td><td>-33.00% [-36.00, -30.00]</td>"
    ));
}

#[test]
fn with_or_without_a_summary_the_report_says_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let with = write_run(tmp.path(), &Variant::default());
    let without = write_run(
        tmp.path(),
        &Variant {
            run_id: "no-summary".into(),
            with_summary: false,
            ..Variant::default()
        },
    );
    let a = render(&with, &ReportOptions::default()).unwrap();
    let b = render(&without, &ReportOptions::default()).unwrap();
    // The report never reads summary.json: both come from the one analysis of the records.
    assert_eq!(
        read(&with.dir.join("report/tables/bd_rate_crf.csv")),
        read(&without.dir.join("report/tables/bd_rate_crf.csv"))
    );
    assert_eq!(a.findings, b.findings);
    assert_eq!(
        read(&with.dir.join("report/tables/bitrate_error.csv")),
        read(&without.dir.join("report/tables/bitrate_error.csv"))
    );
    assert_eq!(names(&a), names(&b));
}

#[test]
fn sequences_averaged_mean_the_same_in_the_summary_and_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    // x265 keeps one CRF point on PartyScene: no curve there, so no BD-rate.
    for point in 1..4 {
        let id = format!("synthetic/PartyScene/x265/crf/{point}/r0");
        std::fs::remove_file(
            run.dir
                .join("jobs")
                .join(rdbench_results::run::job_file_name(&id)),
        )
        .unwrap();
    }
    let summary = rdbench_results::summary::finish(&run.dir, Default::default()).unwrap();
    let run = rdbench_reports::load_run(&run.dir).unwrap();
    let paths = render(&run, &ReportOptions::default()).unwrap();
    let all = summary
        .bd_classes
        .iter()
        .find(|c| {
            c.config == "x265"
                && c.metric == rdbench_results::Metric::Vmaf
                && c.rc_mode == rdbench_results::RcMode::Crf
                && c.class == "all"
        })
        .unwrap();
    assert_eq!(
        (all.sequences, all.skipped.clone()),
        (3, vec!["PartyScene".to_owned()])
    );
    // (-25 - 25 - 20) / 3
    assert!((all.bd_rate_percent.unwrap() + 70.0 / 3.0).abs() < 1e-9);
    let short = read(&run.dir.join("report/tables/bd_rate_summary_crf.csv"));
    let x265: Vec<&str> = short.lines().filter(|l| l.starts_with("x265,")).collect();
    assert!(
        x265[1].starts_with("x265,C,-20.0000,") && x265[1].contains(",1,"),
        "{short}"
    );
    assert!(
        x265[2].starts_with("x265,all,-23.3333,") && x265[2].contains(",3,"),
        "{short}"
    );
    assert!(
        paths.findings.iter().any(|f| f
            .contains("x265 saves 23.3% bitrate against x264 on average (BD-rate; 95% interval")
            && f.ends_with("over 3 sequences).")),
        "{:#?}",
        paths.findings
    );
    let html = read(&paths.html);
    let warning = html
        .lines()
        .find(|l| l.starts_with("<li>x265 VMAF on PartyScene (crf): "))
        .expect("the skipped sequence is named in the BD-rate warnings");
    assert!(warning.contains("1 distinct point"), "{warning}");
}

#[test]
fn another_anchor_recomputes_bd_rates_and_speed_against_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let out = tmp.path().join("against-x265");
    let options = ReportOptions {
        anchor: Some("x265".into()),
        out_dir: Some(out.clone()),
        ..Default::default()
    };
    let paths = render(&run, &options).unwrap();
    assert_eq!(paths.dir, out);
    let f = &paths.findings;
    assert_eq!(
        f[0],
        "BD-rates compare the crf curves of 4 sequences against x265 (pchip interpolation)."
    );
    // svt-av1 against x265: 0.70/0.75 - 1 = -6.667 % (B), 0.64/0.80 - 1 = -20 % (C).
    assert_eq!(
        f[1],
        "With VMAF as the metric, svt-av1 saves 13.3% bitrate against x265 on average (BD-rate; 95% interval -20.0% to -6.7% over 4 sequences)."
    );
    // CPU ratios 2.0/0.9 at the highest bitrate and 3.0/1.35 at the lowest.
    assert_eq!(
        f[6],
        "svt-av1 is slower than x265 at every crf rate point: 122.2% at the highest bitrate and 122.2% at the lowest."
    );
    // x264 against x265: 1/0.75 - 1 = 33.33 % (B), 1/0.8 - 1 = 25 % (C).
    assert_eq!(
        f[7],
        "With VMAF as the metric, x264 needs 29.2% more bitrate than x265 on average (BD-rate; 95% interval +25.0% to +33.3% over 4 sequences)."
    );
    assert_eq!(
        f[12],
        "x264 goes from 11.1% slower to 25.9% faster than x265 as the crf rate point moves from the highest to the lowest bitrate."
    );
    let bd = read(&out.join("tables/bd_rate_crf.csv"));
    assert!(
        bd.lines()
            .nth(1)
            .unwrap()
            .starts_with("B,BasketballDrive,-6.6667,"),
        "{bd}"
    );
    assert!(bd.contains("\nC,BQMall,-20.0000,"), "{bd}");
    assert!(bd.lines().next().unwrap().contains(",x264 VMAF,"), "{bd}");
}

#[test]
fn two_runs_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let old = write_run(
        tmp.path(),
        &Variant {
            run_id: "old".into(),
            ..Variant::default()
        },
    );
    let new = write_run(
        tmp.path(),
        &Variant {
            run_id: "new".into(),
            x265_rate: 0.98,
            x265_cpu: 1.1,
            ..Variant::default()
        },
    );
    let paths = render(
        &new,
        &ReportOptions {
            compare: Some(&old),
            ..Default::default()
        },
    )
    .unwrap();
    let tail: Vec<&String> = paths
        .findings
        .iter()
        .filter(|f| f.starts_with("Against"))
        .collect();
    assert_eq!(
        tail,
        [
            "Against run old, x264 needs the same bitrate with VMAF, the same bitrate with PSNR-Y, \
             the same bitrate with PSNR-YUV, the same bitrate with SSIM and the same bitrate with \
             MS-SSIM (BD-rate) and encodes as fast as before.",
            "Against run old, svt-av1 needs the same bitrate with VMAF, the same bitrate with \
             PSNR-Y, the same bitrate with PSNR-YUV, the same bitrate with SSIM and the same \
             bitrate with MS-SSIM (BD-rate) and encodes as fast as before.",
            "Against run old, x265 needs 2.0% less bitrate with VMAF, 2.0% less bitrate with \
             PSNR-Y, 2.0% less bitrate with PSNR-YUV, 2.0% less bitrate with SSIM and 2.0% less \
             bitrate with MS-SSIM (BD-rate) and encodes 10.0% slower.",
        ]
    );
    let cmp = read(&new.dir.join("report/tables/compare_bd_rate_crf.csv"));
    assert!(
        cmp.lines()
            .next()
            .unwrap()
            .starts_with("class,sequence,x264 VMAF,"),
        "{cmp}"
    );
    assert!(
        cmp.lines().any(|l| l.starts_with("all,overall,0.0000,")),
        "{cmp}"
    );
    let speed = read(&new.dir.join("report/tables/compare_speed.csv"));
    assert!(
        speed
            .lines()
            .any(|l| l.starts_with("x265,crf,0,") && l.contains(",1.1000,")),
        "{speed}"
    );
    // The RD figures draw both runs.
    let rd = read(&new.dir.join("report/charts/rd_Cactus.svg"));
    assert!(rd.contains("x265 (this run)") && rd.contains("x265 (old)"));
    let md = read(&paths.markdown);
    assert!(md.contains("### BD-rate of this run against run old (crf curves), class averages"));
    assert!(
        md.contains(&format!(
            "| **x265** | **all** | {}**4** |",
            "**-2.00% [-2.00, -2.00]** | ".repeat(5)
        )),
        "{md}"
    );
}

#[test]
fn the_frame_chart_shows_the_encode_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let options = ReportOptions {
        encode: Some("synthetic/Cactus/x265/crf/2/r0".into()),
        ..Default::default()
    };
    let paths = render(&run, &options).unwrap();
    let frames: Vec<String> = names(&paths)
        .into_iter()
        .filter(|n| n.starts_with("frames_"))
        .collect();
    assert_eq!(frames, ["frames_synthetic_Cactus_x265_crf_2_r0"]);
    let svg = read(
        &run.dir
            .join("report/charts/frames_synthetic_Cactus_x265_crf_2_r0.svg"),
    );
    assert!(svg.contains("Frame by frame: synthetic/Cactus/x265/crf/2/r0"));
    assert!(svg.contains("I frame size") && svg.contains("frame size (kB)"));
}
