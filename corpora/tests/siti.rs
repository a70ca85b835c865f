//! SI/TI of whole files and its cache.

use rdbench_corpora::siti::{cached_siti, siti_cache_path, siti_cached, siti_of_file};
use rdbench_corpora::y4m::{Y4mHeader, Y4mWriter};
use rdbench_corpora::Fps;
use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};

/// A 10-bit 5x3 frame whose luma columns are `cols` (times 4, so the 8-bit scale sees `cols`).
fn frame10(cols: [u16; 5]) -> OwnedFrame<u16> {
    let mut f = OwnedFrame::<u16>::new(5, 3, 10, ChromaSampling::Cs420);
    for (k, s) in f.planes[0].iter_mut().enumerate() {
        *s = cols[k % 5] * 4;
    }
    f
}

#[test]
fn file_siti_matches_hand_computed_values_and_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.y4m");
    let header = Y4mHeader::new(5, 3, Fps::new(25, 1).unwrap(), ChromaSampling::Cs420, 10);
    let mut w = Y4mWriter::new(std::fs::File::create(&p).unwrap(), header).unwrap();
    // Frame 0 is flat (SI 0). Frame 1 has the 0 0 0 255 255 edge: SI = sqrt(231200).
    // Difference 0 0 0 255 255 in every row: mean 102, variance (3 * 102² + 2 * 153²) / 5 = 15606.
    w.write_frame(&frame10([0; 5]).view().unwrap()).unwrap();
    w.write_frame(&frame10([0, 0, 0, 255, 255]).view().unwrap())
        .unwrap();
    w.finish().unwrap();
    let s = siti_of_file(&p).unwrap();
    assert!((s.si - 231_200f64.sqrt()).abs() < 1e-9, "{s:?}");
    assert!((s.ti - 15_606f64.sqrt()).abs() < 1e-9, "{s:?}");
    assert_eq!(s.frames, 2);

    assert_eq!(cached_siti(&p, "abc"), None);
    assert_eq!(siti_cached(&p, "abc").unwrap(), s);
    assert!(siti_cache_path(&p).is_file());
    assert_eq!(cached_siti(&p, "abc"), Some(s));
    // Another content hash does not see the cached value.
    assert_eq!(cached_siti(&p, "abd"), None);
}
