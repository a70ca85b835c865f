# Values of scipy's PchipInterpolator at chosen points, for the test of rdbench-bdrate's Pchip.
# Run with scipy installed: python3 make_pchip_goldens.py > pchip.json
import json
from scipy.interpolate import PchipInterpolator

# A (crf, vmaf) curve shaped like a real encoder's: concave, then flattening.
x = [18.0, 23.0, 28.0, 33.0, 40.0]
y = [97.1, 94.0, 89.2, 82.5, 70.3]
at = [18.0, 19.5, 23.0, 25.25, 27.9, 30.0, 33.0, 36.6, 40.0]
f = PchipInterpolator(x, y)
print(json.dumps({"x": x, "y": y, "at": at, "value": [float(f(a)) for a in at]}, indent=1))
