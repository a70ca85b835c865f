#!/usr/bin/env bash
# Measures FFmpeg 9's `xpsnr` filter (the anchor; Debian's FFmpeg 5.1 has none) and rdbench's
# XPSNR on the same 1080p 8-bit 4:2:0 120-frame Y4M pair, one thread each, in one run; prints both
# sequence summaries (they must agree to every printed digit) and the speed ratio. The filter's
# time is FFmpeg's user CPU time minus that of decoding the same two files without it.
#
# Usage: metrics/benches/xpsnr_anchor.sh FFMPEG9 [workdir]   (from the workspace root; builds in
# release). FFMPEG9 is an ffmpeg with the xpsnr filter, e.g. PyPI's imageio-ffmpeg 0.8.1 static
# build: python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())".
set -euo pipefail
ff9=$1
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -p rdbench-metrics --example y4m_metrics >/dev/null
ours=${CARGO_TARGET_DIR:-target}/release/examples/y4m_metrics
ref=$work/ref.y4m
dis=$work/dis.y4m
frames=120
if [ ! -s "$dis" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
    -frames:v $frames -pix_fmt yuv420p "$ref"
  ffmpeg -hide_banner -loglevel error -y -i "$ref" -c:v libx264 -preset veryfast -crf 30 "$work/dis.mkv"
  ffmpeg -hide_banner -loglevel error -y -i "$work/dis.mkv" -f yuv4mpegpipe "$dis"
fi
# Warm the page cache so both sides read from memory.
cat "$ref" "$dis" >/dev/null
utime() { sed -nE 's/^bench: utime=([0-9.]+)s.*/\1/p'; }
common=(-nostdin -hide_banner -benchmark -threads 1 -filter_threads 1 -i "$ref" -i "$dis")
with=$("$ff9" "${common[@]}" -lavfi "[0:v][1:v]xpsnr=stats_file=$work/xpsnr.log" -f null - 2>&1 | utime)
without=$("$ff9" "${common[@]}" -map 0:v -map 1:v -f null - 2>&1 | utime)
anchor_ms=$(echo "($with - $without) * 1000 / $frames" | bc -l)
# rdbench's user CPU time includes reading the two files (an upper bound on the kernel's).
TIMEFORMAT=%U
{ time "$ours" "$ref" "$dis" xpsnr >"$work/rdbench.txt"; } 2>"$work/rdbench.time"
ours_ms=$(echo "$(cat "$work/rdbench.time") * 1000 / $frames" | bc -l)
kernel_fps=$(head -1 "$work/rdbench.txt" | sed -E 's/.*kernel [0-9.]+ s \(([0-9.]+) fps\).*/\1/')
echo "FFmpeg 9: $(tail -1 "$work/xpsnr.log")"
echo "rdbench:  $(tail -1 "$work/rdbench.txt")"
printf 'xpsnr 1080p 8-bit, ms/frame of user CPU: FFmpeg 9 filter %.2f (decoding excluded) | rdbench %.2f (reading included), x%.1f; rdbench kernel wall %.2f\n' \
  "$anchor_ms" "$ours_ms" "$(echo "$anchor_ms / $ours_ms" | bc -l)" "$(echo "1000 / $kernel_fps" | bc -l)"
