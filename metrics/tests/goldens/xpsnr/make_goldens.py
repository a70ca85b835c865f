#!/usr/bin/env python3
"""Makes goldens.json, the oracle of metrics/tests/xpsnr.rs: FFmpeg 9's `xpsnr` filter run on the
test's own generated clips.

1. Runs the ignored test `xpsnr::write_xpsnr_golden_clips`, which writes every clip of the test
   (reference and distorted Y4M, from its seeded integer-only generator) and a manifest with the
   FNV-1a hash of each file into a temporary folder.
2. Checks the files against the manifest's hashes, scores each pair with FFmpeg's filter
   (reference first, as FFmpeg's documentation has it), and records the stats file's per-frame
   values (`%3.4f`), the frame metadata (`%f` of a float) and the summary line, as printed.

FFmpeg 9 is not Debian's (5.1 has no xpsnr). The static build in PyPI's imageio-ffmpeg 0.8.1 has it:
    python3 -m venv /tmp/ff9 && /tmp/ff9/bin/pip install imageio-ffmpeg==0.8.1
    /tmp/ff9/bin/python metrics/tests/goldens/xpsnr/make_goldens.py
(or pass --ffmpeg PATH). Cargo runs with the caller's environment (CARGO_TARGET_DIR etc.).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
TEST = "xpsnr::write_xpsnr_golden_clips"


def fnv64(path):
    h = 0xCBF29CE484222325
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            for b in chunk:
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def find_ffmpeg(given):
    if given:
        return given
    try:
        import imageio_ffmpeg
    except ImportError:
        sys.exit("no --ffmpeg given and imageio_ffmpeg is not installed (see the docstring)")
    return imageio_ffmpeg.get_ffmpeg_exe()


STATS_FRAME = re.compile(r"^n:\s*(\d+)((?:\s+XPSNR [yuv]: \S+)+)\s*$")
STATS_VALUE = re.compile(r"XPSNR ([yuv]): (\S+)")
SUMMARY = re.compile(
    r"^XPSNR average, (\d+) frames\s+y: (\S+)\s+u: (\S+)\s+v: (\S+)\s+\(minimum: (\S+)\)\s*$"
)
META = re.compile(r"^lavfi\.xpsnr\.xpsnr\.([yuv])=(\S+)$")


def parse_stats(text):
    frames, summary = [], None
    for line in text.splitlines():
        m = STATS_FRAME.match(line)
        if m:
            assert int(m.group(1)) == len(frames) + 1, line
            values = dict(STATS_VALUE.findall(m.group(2)))
            frames.append([values["y"], values["u"], values["v"]])
            continue
        m = SUMMARY.match(line)
        if m:
            summary = {
                "frames": int(m.group(1)),
                "y": m.group(2),
                "u": m.group(3),
                "v": m.group(4),
                "minimum": m.group(5),
            }
    assert summary is not None, text
    return frames, summary


def parse_metadata(text):
    frames = []
    for line in text.splitlines():
        if line.startswith("frame:"):
            frames.append({})
            continue
        m = META.match(line)
        if m:
            frames[-1][m.group(1)] = m.group(2)
    return [[f["y"], f["u"], f["v"]] for f in frames]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ffmpeg", help="an FFmpeg with the xpsnr filter (default: imageio-ffmpeg's)")
    ap.add_argument("--out", default=os.path.join(HERE, "goldens.json"))
    args = ap.parse_args()
    ffmpeg = find_ffmpeg(args.ffmpeg)
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True)
    version = version.stdout.splitlines()[0]

    with tempfile.TemporaryDirectory(prefix="xpsnr-goldens-") as tmp:
        env = dict(os.environ, RDBENCH_XPSNR_CLIPS=tmp)
        subprocess.run(
            ["cargo", "test", "-p", "rdbench-metrics", "--profile", "ci", "--test", "main",
             TEST, "--", "--ignored", "--exact"],
            cwd=ROOT, env=env, check=True,
        )
        with open(os.path.join(tmp, "clips.json")) as f:
            manifest = json.load(f)
        clips = []
        for clip in manifest:
            name = clip["name"]
            ref, dist = f"{name}.ref.y4m", f"{name}.dist.y4m"
            for side, path in (("reference", ref), ("distorted", dist)):
                got = fnv64(os.path.join(tmp, path))
                assert got == clip["fnv64"][side], f"{path}: hash {got}, manifest {clip['fnv64'][side]}"
            graph = (f"[0:v][1:v]xpsnr=stats_file={name}.stats,"
                     f"metadata=mode=print:file={name}.meta")
            subprocess.run(
                [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", ref, "-i", dist,
                 "-lavfi", graph, "-f", "null", "-"],
                cwd=tmp, check=True,
            )
            with open(os.path.join(tmp, f"{name}.stats")) as f:
                stats, summary = parse_stats(f.read())
            with open(os.path.join(tmp, f"{name}.meta")) as f:
                metadata = parse_metadata(f.read())
            assert len(stats) == len(metadata) == clip["frames"] == summary["frames"], name
            clips.append(dict(clip, stats=stats, metadata=metadata, summary=summary))
            print(f"{name}: {summary}")

    goldens = {
        "oracle": version + " (imageio-ffmpeg 0.8.1 static build), xpsnr filter",
        "command": "ffmpeg -i NAME.ref.y4m -i NAME.dist.y4m -lavfi "
                   "'[0:v][1:v]xpsnr=stats_file=NAME.stats,metadata=mode=print:file=NAME.meta' "
                   "-f null -",
        "made_by": "metrics/tests/goldens/xpsnr/make_goldens.py",
        "clips": clips,
    }
    with open(args.out, "w") as f:
        json.dump(goldens, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
