"""Peak RSS of one full-resolution chat turn (ZoneService, tiny engine) at HxW (BENCHMARKS.md).

Run: `PYTHONPATH=. .venv/bin/python scripts/turn_memory.py H W`. Linux only (reads VmRSS/VmHWM
from /proc/self/status and resets the high-water mark with /proc/self/clear_refs).
"""
import os, resource, sys, tempfile, time
import numpy as np
H, W = int(sys.argv[1]), int(sys.argv[2])
frac = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
def rss_mb():  # current RSS
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'): return int(line.split()[1]) / 1024
def peak_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM'): return int(line.split()[1]) / 1024
def reset_peak():
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')
from agent.overhead_bench import photo_like
from agent.service import ZoneService
from tests.agent.fakes import make_photo
tmp = tempfile.mkdtemp()
svc = ZoneService(db_url=os.path.join(tmp, 'z.db'), engine='tiny', device='cpu', edit_params={'steps': 1})
small = make_photo(os.path.join(tmp, 's.png'))
s0 = svc.open_image(small); svc.handle(s0.id, 'make the sky pink')  # models loaded, graph built
models = rss_mb()
img = photo_like(H, W)
from PIL import Image
Image.fromarray(img).save(os.path.join(tmp, 'big.jpg'), quality=90)
del img
import gc; gc.collect()
reset_peak(); before_open = rss_mb()
s = svc.open_image(os.path.join(tmp, 'big.jpg'))
open_peak = peak_mb()
gc.collect(); reset_peak(); before_turn = rss_mb()
t0 = time.perf_counter(); r = svc.handle(s.id, 'make the sky pink'); wall = time.perf_counter() - t0
turn_peak = peak_mb()
decoded = H * W * 3 / 2**20
print(f"{H}x{W} {H*W/1e6:.0f} MP decoded {decoded:.0f} MiB | models+app {models:.0f} MiB | open: peak {open_peak:.0f} "
      f"(+{open_peak-before_open:.0f} = {(open_peak-before_open)/decoded:.2f}x) | turn: before {before_turn:.0f} peak {turn_peak:.0f} "
      f"(+{turn_peak-models:.0f} over models = {(turn_peak-models)/decoded:.2f}x decoded) mask {r.edits[0]['mask_fraction'] if r.edits else r.error} wall {wall:.1f}s")
