"""Seconds from Enter to the new version shown, for the first edit in `zone chat --engine tiny`
after the app has been open a while (BENCHMARKS.md). Needs tmux.

Run: `PYTHONPATH=. .venv/bin/python scripts/first_edit_timing.py PHOTO [--idle 15] [--runs 3]`; each
run is measured with the warm start and without it (ZONE_NO_WARM_UP=1), alternately.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOCKET = "zone-first-edit"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


def wait_for(name: str, text: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in tmux("capture-pane", "-p", "-t", name):
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError(f"{text!r} did not appear in {timeout:.0f} s")


def one_run(photo: Path, idle: float, warm: bool, workdir: Path) -> float:
    name = f"zone-{uuid.uuid4().hex[:8]}"
    python = ROOT / ".venv" / "bin" / "python"
    env = "" if warm else "ZONE_NO_WARM_UP=1 "
    command = (f"cd {ROOT} && {env}PYTHONPATH={ROOT} {python} -m tui.cli chat {photo} --engine tiny "
               f"--db {workdir / (name + '.db')}; sleep 30")
    for attempt in range(10):  # the server may still be exiting after the previous kill-session
        try:
            tmux("new-session", "-d", "-s", name, "-x", "140", "-y", "40", command)
            break
        except subprocess.CalledProcessError:
            if attempt == 9:
                raise
            time.sleep(0.5)
    try:
        wait_for(name, "Ready.", 60)
        time.sleep(idle)
        tmux("send-keys", "-t", name, "make the sky pink", "Enter")
        sent = time.monotonic()
        shown = wait_for(name, "● v1 ", 300)
        return shown - sent
    finally:
        tmux("kill-session", "-t", name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("photo", type=Path)
    p.add_argument("--idle", type=float, default=15.0, help="seconds the app stays open before Enter")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    results: dict[str, list[float]] = {"warm": [], "cold": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.runs):
            for key in ("warm", "cold"):
                results[key].append(one_run(a.photo.resolve(), a.idle, key == "warm", Path(tmp)))
                print(f"{key}: {results[key][-1]:.2f} s", file=sys.stderr, flush=True)
    for key, values in results.items():
        print(f"{key}: median {statistics.median(values):.2f} s over {len(values)} runs: "
              f"{', '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
