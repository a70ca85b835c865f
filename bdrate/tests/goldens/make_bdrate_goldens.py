#!/usr/bin/env python3
"""Writes bdrate.json: BD-rate and BD-quality goldens for the rdbench-bdrate crate's tests.

The expected values come from the PyPI package `bjontegaard` (an implementation independent of
rdbench), which interpolates with numpy.polyfit (cubic) and scipy's PchipInterpolator and
Akima1DInterpolator. Set it up outside the repository, for example:

    python3 -m venv /tmp/bdvenv && /tmp/bdvenv/bin/pip install bjontegaard==1.3.0
    /tmp/bdvenv/bin/python bdrate/tests/goldens/make_bdrate_goldens.py

The package does not sort points, does not check monotonicity and answers below 75% overlap, so
only well-formed cases are listed here: points sorted by rate, quality strictly increasing with
rate, no duplicated rates, and at least 4 points for the cubic method. The overlap fractions on
both axes are recorded so the Rust tests can check rdbench's partial-overlap warning as well.
"""

import json
import math
import os
import warnings

import bjontegaard
import numpy
import scipy

METHODS = ["cubic", "pchip", "akima"]


def case(name, metric, anchor, test, methods=None, quality_only=False):
    """One comparison: anchor and test are lists of (rate_kbps, quality).

    With quality_only, only BD-quality is recorded: the curves are not monotonic, so BD-rate
    (rate as a function of quality) is undefined, while quality as a function of rate is not.
    """
    return {"name": name, "metric": metric, "anchor": anchor, "test": test,
            "methods": methods or METHODS, "quality_only": quality_only}


CASES = [
    # x264 medium vs x265 medium, 1080p, CRF 22/27/32/37 (PSNR-Y, dB).
    case("x264_vs_x265_psnr_4pt", "psnr",
         [(9487.8, 41.62), (4231.5, 39.35), (2094.2, 37.04), (1103.9, 34.71)][::-1],
         [(7012.4, 41.55), (3187.0, 39.31), (1583.6, 37.02), (842.3, 34.66)][::-1]),
    # The same content scored with VMAF.
    case("x264_vs_x265_vmaf_4pt", "vmaf",
         [(1103.9, 71.8), (2094.2, 83.1), (4231.5, 91.4), (9487.8, 96.3)],
         [(842.3, 70.9), (1583.6, 82.7), (3187.0, 91.0), (7012.4, 96.1)]),
    # Six QPs (JVET-style 22..42 step 4), AV1-like test against an HEVC-like anchor.
    case("hevc_vs_av1_psnr_6pt", "psnr",
         [(412.0, 31.20), (705.5, 33.41), (1240.8, 35.67), (2218.3, 37.88), (4102.7, 40.05),
          (7850.1, 42.11)],
         [(330.6, 31.35), (571.2, 33.52), (1010.4, 35.74), (1825.9, 37.91), (3390.0, 40.02),
          (6620.5, 42.03)]),
    # Eight points, unevenly spaced, gaming-like content with a fast VMAF knee.
    case("screen_vmaf_8pt", "vmaf",
         [(250.0, 42.5), (400.0, 55.9), (650.0, 67.2), (1000.0, 76.8), (1600.0, 84.9),
          (2500.0, 90.2), (4000.0, 94.1), (6500.0, 96.7)],
         [(230.0, 44.1), (380.0, 57.8), (600.0, 68.5), (950.0, 78.3), (1500.0, 86.0),
          (2300.0, 91.0), (3700.0, 94.6), (6000.0, 97.0)]),
    # Crossing curves: the test is better at low rates and worse at high rates.
    case("crossing_psnr_5pt", "psnr",
         [(300.0, 30.1), (600.0, 33.0), (1200.0, 35.9), (2400.0, 38.6), (4800.0, 41.2)],
         [(300.0, 31.0), (600.0, 33.6), (1200.0, 36.0), (2400.0, 38.3), (4800.0, 40.5)]),
    # A test curve that is worse everywhere (positive BD-rate), five points against four.
    case("worse_test_unequal_counts", "psnr",
         [(800.0, 33.9), (1600.0, 36.5), (3200.0, 39.0), (6400.0, 41.3)],
         [(900.0, 33.5), (1500.0, 35.4), (2600.0, 37.4), (4500.0, 39.3), (7800.0, 41.0)]),
    # Partial overlap: the test curve covers only the upper part of the anchor's range.
    case("partial_overlap_psnr", "psnr",
         [(500.0, 30.0), (1000.0, 33.4), (2000.0, 36.3), (4000.0, 38.7)],
         [(1500.0, 35.1), (3000.0, 37.9), (6000.0, 40.2), (12000.0, 42.0)]),
    # Three points per curve: pchip and akima only (the cubic fit needs 4).
    case("three_points_ssim", "ssim",
         [(600.0, 0.9312), (1500.0, 0.9601), (3800.0, 0.9788)],
         [(520.0, 0.9330), (1300.0, 0.9615), (3300.0, 0.9790)],
         methods=["pchip", "akima"]),
    # Pchip's one-sided end slope changes sign and is clamped to zero at both ends of both axes.
    case("pchip_end_slope_clamped", "vmaf",
         [(500.0, 40.0), (520.0, 70.0), (1000.0, 80.0), (2000.0, 93.0), (4000.0, 94.0)],
         [(450.0, 42.0), (470.0, 71.0), (900.0, 81.0), (1800.0, 93.5), (3600.0, 94.3)]),
    # VMAF that dips at the top: BD-quality only (quality as a function of rate stays defined),
    # and pchip's shape-preserving end rule (three times the end secant) comes into play.
    case("non_monotonic_vmaf_quality_only", "vmaf",
         [(600.0, 70.0), (1200.0, 84.0), (2400.0, 92.0), (4800.0, 97.5), (9600.0, 97.0)],
         [(550.0, 71.0), (1100.0, 85.0), (2200.0, 92.5), (4400.0, 97.6), (8800.0, 97.2)],
         quality_only=True),
    # Rates doubling and quality rising in two straight stretches: Akima's weights vanish (up to
    # rounding) around the corner, where scipy falls back to the mean of the outer secants.
    case("akima_straight_stretches", "psnr",
         [(100.0, 30.0), (200.0, 33.0), (400.0, 36.0), (800.0, 39.0), (1600.0, 40.5),
          (3200.0, 42.0)],
         [(90.0, 30.5), (180.0, 33.5), (360.0, 36.5), (720.0, 39.5), (1440.0, 41.0),
          (2880.0, 42.5)]),
    # Pchip end-point rule exercised: strongly curved ends (flat top, steep bottom).
    case("pchip_edges_vmaf_5pt", "vmaf",
         [(200.0, 20.0), (260.0, 45.0), (500.0, 80.0), (2000.0, 95.0), (8000.0, 98.0)],
         [(180.0, 22.0), (240.0, 50.0), (450.0, 82.0), (1800.0, 95.5), (7000.0, 98.2)]),
]


def overlap(a, b):
    lo, hi = max(min(a), min(b)), min(max(a), max(b))
    ulo, uhi = min(min(a), min(b)), max(max(a), max(b))
    return max(hi - lo, 0.0) / (uhi - ulo)


def main():
    out = {
        "generator": "make_bdrate_goldens.py",
        "bjontegaard": bjontegaard.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "cases": [],
    }
    for c in CASES:
        ra = [p[0] for p in c["anchor"]]
        qa = [p[1] for p in c["anchor"]]
        rt = [p[0] for p in c["test"]]
        qt = [p[1] for p in c["test"]]
        assert ra == sorted(ra) and rt == sorted(rt), c["name"]
        monotonic = (all(x < y for x, y in zip(qa, qa[1:]))
                     and all(x < y for x, y in zip(qt, qt[1:])))
        assert monotonic != c["quality_only"], c["name"]
        expected = {}
        for method in c["methods"]:
            with warnings.catch_warnings():
                # Partial overlap is announced by a warning; the value is still wanted.
                warnings.simplefilter("ignore")
                quality = bjontegaard.bd_psnr(ra, qa, rt, qt, method, require_matching_points=False)
                rate = None
                if not c["quality_only"]:
                    rate = float(bjontegaard.bd_rate(ra, qa, rt, qt, method,
                                                     require_matching_points=False))
                    assert math.isfinite(rate), (c["name"], method)
            assert math.isfinite(quality), (c["name"], method)
            expected[method] = {"bd_rate_percent": rate, "bd_quality": float(quality)}
        out["cases"].append({
            "name": c["name"],
            "metric": c["metric"],
            "anchor": [{"rate": r, "quality": q} for r, q in c["anchor"]],
            "test": [{"rate": r, "quality": q} for r, q in c["test"]],
            "overlap_quality_axis": overlap(qa, qt),
            "overlap_log_rate_axis": overlap([math.log10(r) for r in ra],
                                             [math.log10(r) for r in rt]),
            "expected": expected,
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bdrate.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
