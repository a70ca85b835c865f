//! Y4M reading and writing: round trips at 8 and 10 bits and odd sizes, probing, and errors.

use std::io::Cursor;

use rdbench_corpora::y4m::{probe, Y4mFrame, Y4mHeader, Y4mReader, Y4mWriter};
use rdbench_corpora::Fps;
use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};

use crate::pattern_frame;

#[test]
fn eight_bit_round_trip_is_exact() {
    let fps = Fps::new(30000, 1001).unwrap();
    let frames: Vec<OwnedFrame<u8>> = (0..3).map(|n| pattern_frame(7, 5, n)).collect();
    let mut w = Y4mWriter::new(
        Vec::new(),
        Y4mHeader::new(7, 5, fps, ChromaSampling::Cs420, 8),
    )
    .unwrap();
    for f in &frames {
        w.write_frame(&f.view().unwrap()).unwrap();
    }
    let bytes = w.finish().unwrap();
    assert!(bytes.starts_with(b"YUV4MPEG2 W7 H5 F30000:1001 Ip A1:1 C420jpeg\nFRAME\n"));
    // 7x5 luma + two 4x3 chroma planes per frame, each after a 6-byte FRAME line.
    assert_eq!(
        bytes.len(),
        "YUV4MPEG2 W7 H5 F30000:1001 Ip A1:1 C420jpeg\n".len() + 3 * (6 + 35 + 24)
    );
    let mut r = Y4mReader::new(Cursor::new(bytes)).unwrap();
    assert_eq!(
        (r.header().width, r.header().height, r.header().fps),
        (7, 5, fps)
    );
    for f in &frames {
        assert_eq!(r.read_frame_u8().unwrap().as_ref(), Some(f));
    }
    assert_eq!(r.read_frame().unwrap(), None);
    assert_eq!(r.frames_read(), 3);
}

#[test]
fn high_bit_depth_round_trip_is_exact_and_little_endian() {
    for sampling in [
        ChromaSampling::Cs420,
        ChromaSampling::Cs422,
        ChromaSampling::Cs444,
    ] {
        let mut f = OwnedFrame::<u16>::new(4, 2, 10, sampling);
        for (i, p) in f.planes.iter_mut().enumerate() {
            for (k, s) in p.iter_mut().enumerate() {
                *s = (1023 - k * 37 - i * 100) as u16;
            }
        }
        let header = Y4mHeader::new(4, 2, Fps::new(50, 1).unwrap(), sampling, 10);
        let mut w = Y4mWriter::new(Vec::new(), header).unwrap();
        w.write_frame(&f.view().unwrap()).unwrap();
        let bytes = w.finish().unwrap();
        let line_end = bytes.iter().position(|b| *b == b'\n').unwrap();
        let cs = match sampling {
            ChromaSampling::Cs420 => "420p10",
            ChromaSampling::Cs422 => "422p10",
            ChromaSampling::Cs444 => "444p10",
        };
        assert!(std::str::from_utf8(&bytes[..line_end])
            .unwrap()
            .ends_with(&format!("C{cs}")));
        // First luma sample 1023 = 0x03ff, little-endian.
        assert_eq!(&bytes[line_end + 7..line_end + 9], &[0xff, 0x03]);
        let mut r = Y4mReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!(r.read_frame().unwrap(), Some(Y4mFrame::U16(f)));
    }
}

#[test]
fn probing_counts_frames_and_truncation_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.y4m");
    crate::write_pattern_y4m(&p, 16, 8, Fps::new(25, 1).unwrap(), 4);
    let (h, n) = probe(&p).unwrap();
    assert_eq!((h.width, h.height, n), (16, 8, 4));
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&p, &bytes).unwrap();
    let err = probe(&p).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: Y4M: frame 3 is truncated: 182 of 192 bytes",
            p.display()
        )
    );
    let mut r = Y4mReader::open(&p).unwrap();
    for _ in 0..3 {
        r.read_frame().unwrap().unwrap();
    }
    assert_eq!(
        r.read_frame().unwrap_err().to_string(),
        format!(
            "{}: Y4M: frame 3 is truncated: 182 of 192 bytes",
            p.display()
        )
    );
}

#[test]
fn malformed_streams_give_clear_errors() {
    let err = |b: &[u8]| {
        Y4mReader::new(Cursor::new(b.to_vec()))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err(b""), "<stream>: Y4M: empty file");
    assert_eq!(
        err(b"YUV4MPEG2 W4 H2 F25:1 Cmono\n"),
        "<stream>: Y4M: colourspace `mono` (luma only) is not supported"
    );
    assert_eq!(
        err(b"YUV4MPEG2 W4 H2"),
        "<stream>: Y4M: stream ends inside a header line"
    );
    let mut r = Y4mReader::new(Cursor::new(b"YUV4MPEG2 W2 H2 F25:1\nFRAMX\n".to_vec())).unwrap();
    assert_eq!(
        r.read_frame().unwrap_err().to_string(),
        "<stream>: Y4M: frame 0: expected a FRAME line, found `FRAMX`"
    );
    let mut r = Y4mReader::new(Cursor::new(
        b"YUV4MPEG2 W2 H2 F25:1 C420p10\nFRAME\n"
            .iter()
            .copied()
            .chain([0u8; 12])
            .collect::<Vec<_>>(),
    ))
    .unwrap();
    assert_eq!(
        r.read_frame_u8().unwrap_err().to_string(),
        "<stream>: Y4M: 10-bit stream read as 8-bit"
    );
    let mut w = Y4mWriter::new(
        Vec::new(),
        Y4mHeader::new(4, 4, Fps::new(1, 1).unwrap(), ChromaSampling::Cs420, 8),
    )
    .unwrap();
    let wrong = pattern_frame(6, 4, 0);
    assert!(w.write_frame(&wrong.view().unwrap()).is_err());
}
