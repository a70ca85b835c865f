#!/usr/bin/env bash
# Measures libvmaf's `vmaf` tool (the anchor) and rdbench's kernels on the same 1080p 8-bit
# 120-frame Y4M pair, one thread each, in one run, and prints the speed ratios.
#
# Usage: metrics/benches/anchor.sh [workdir]   (run from the workspace root; builds in release)
set -euo pipefail
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -p rdbench-metrics --example y4m_metrics >/dev/null
tool=$(ls -t target/release/build/libvmaf-sys-*/out/build/tools/vmaf | head -1)
ref=$work/ref.y4m
dis=$work/dis.y4m
if [ ! -s "$dis" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
    -frames:v 120 -pix_fmt yuv420p "$ref"
  ffmpeg -hide_banner -loglevel error -y -i "$ref" -c:v libx264 -preset veryfast -crf 30 "$work/dis.mkv"
  ffmpeg -hide_banner -loglevel error -y -i "$work/dis.mkv" -f yuv4mpegpipe "$dis"
fi
# Warm the page cache so both sides read from memory.
cat "$ref" "$dis" >/dev/null
for pair in "float_ssim ssim" "float_ms_ssim ms_ssim" "psnr psnr"; do
  set -- $pair
  start=$(date +%s.%N)
  "$tool" -r "$ref" -d "$dis" --threads 1 -q -n --feature "$1" --json -o "$work/$1.json"
  end=$(date +%s.%N)
  anchor=$(echo "$end - $start" | bc -l)
  ours=$(target/release/examples/y4m_metrics "$ref" "$dis" "$2")
  kernel_fps=$(echo "$ours" | sed -E 's/.*kernel [0-9.]+ s \(([0-9.]+) fps\).*/\1/')
  wall_fps=$(echo "$ours" | sed -E 's/.*wall [0-9.]+ s \(([0-9.]+) fps\).*/\1/')
  anchor_fps=$(echo "120 / $anchor" | bc -l)
  printf '%-14s libvmaf %6.2f s (%7.1f fps) | rdbench kernel %8.1f fps (x%.1f), wall %7.1f fps (x%.1f)\n' \
    "$1" "$anchor" "$anchor_fps" "$kernel_fps" "$(echo "$kernel_fps / $anchor_fps" | bc -l)" \
    "$wall_fps" "$(echo "$wall_fps / $anchor_fps" | bc -l)"
done
