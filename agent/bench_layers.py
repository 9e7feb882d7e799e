"""Layer-operation benchmark: Enter -> committed for each operation in words, against a full edit turn.

Run: `python -m agent.bench_layers [--sizes 512,4000x3000] [--repeats 7] [--json]`.

For each photo size it opens a session, makes two edits with the tiny engine (random weights,
work size 128) and times the second edit turn (the baseline: a full turn of the tiny engine), then
times `ZoneService.handle` for each layer operation in words, alternating so that every turn
commits a version ("hide the hat" / "bring the hat back", "fade the snow to half" / "full strength
again", ...). "commit" is Enter -> the new version committed (the whole turn: both chat messages,
the graph, the commit); "render" is the next render of HEAD (what the TUI draws after it).
Medians of `repeats` turns; the machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

OPS = (
    ("hide", ("hide the hat", "bring the hat back")),
    ("opacity", ("fade the snow to half", "full strength again")),
    ("move", ("move the hat left a bit", "move the hat right a bit")),
    ("scale", ("make the hat bigger", "make the hat smaller")),
    ("reshape", ("grow the edit", "undo")),  # only the grow turns are timed (a full region cannot shrink back)
)


EDIT_TURNS = 3  # timed edit turns after the first (which loads the models): the median is the baseline


def _photo(path: Path, w: int, h: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1), (xx + yy) % 256], -1)
    rgb += rng.normal(0, 4, rgb.shape).astype(np.float32)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, compress_level=1)
    return path


def _ms(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000.0, out


def bench_size(w: int, h: int, repeats: int, folder: Path) -> dict:
    """Time the edit turn and each layer operation at one photo size."""
    from agent.service import ZoneService

    service = ZoneService(db_url=f"sqlite:///{folder / f'bench-{w}x{h}.db'}", engine="tiny", device="cpu",
                          export_dir=folder)
    session = service.open_image(_photo(folder / f"photo-{w}x{h}.png", w, h))
    sid = session.id
    first = service.handle(sid, "give him a hat")  # loads the models (not timed)
    edit_times = []
    for _ in range(EDIT_TURNS):  # the last one stays: the snow
        if edit_times:
            service.handle(sid, "undo")
        ms, second = _ms(lambda: service.handle(sid, "put snow on the ground"))
        assert first.ok and second.ok, (first.reply, second.reply)
        edit_times.append(ms)
    edit_ms = statistics.median(edit_times)
    service.render(sid)
    out: dict = {"size": f"{w}x{h}", "megapixels": round(w * h / 1e6, 2), "edit_turn_ms": round(edit_ms, 1),
                 "edit_turns": len(edit_times), "ops": {}}
    for name, (there, back) in OPS:
        commits, renders = [], []
        for i in range(repeats * (2 if back == "undo" else 1)):
            text = there if i % 2 == 0 else back
            ms, result = _ms(lambda: service.handle(sid, text))
            if not result.ok:
                raise RuntimeError(f"{text!r} failed: {result.reply}")
            render_ms = _ms(lambda: service.render(sid))[0]
            if text != "undo":
                commits.append(ms)
                renders.append(render_ms)
        if repeats % 2 and back != "undo":  # leave the layer as it was for the next operation
            service.handle(sid, back)
        med = statistics.median(commits)
        out["ops"][name] = {"commit_ms": round(med, 1), "render_ms": round(statistics.median(renders), 1),
                            "edit_over_commit": round(edit_ms / med, 1)}
        if name == "reshape":
            service.handle(sid, there)
            out["ops"][name]["region_fraction"] = round(float(service.store.mask(sid).mean()), 3)
            service.handle(sid, "undo")
    service.close()
    return out


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h or w)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,4000x3000", help="comma-separated WxH (or N for NxN)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench_size(*_size(s), args.repeats, Path(tmp)) for s in args.sizes.split(",")]
    report = {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in os.getloadavg()], "repeats": args.repeats, "sizes": results}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['cpus']} CPUs, load average before {report['load_before']}, after {report['load_after']}; "
          f"medians of {args.repeats}")
    for r in results:
        print(f"{r['size']} ({r['megapixels']} MP): full tiny-engine edit turn {r['edit_turn_ms']:.0f} ms "
              f"(median of {r['edit_turns']}); reshaped region {100 * r['ops']['reshape']['region_fraction']:.0f}% "
              "of the photo")
        for name, o in r["ops"].items():
            print(f"  {name:8s} Enter->committed {o['commit_ms']:8.1f} ms   next render {o['render_ms']:8.1f} ms"
                  f"   edit turn / op {o['edit_over_commit']:6.1f}x")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
