"""How long Ctrl+Q takes to end `zone chat`, in a real terminal (tmux), idle and mid-edit.

Usage: `.venv/bin/python scripts/bench_quit.py [ROOT] [RUNS]` (ROOT: a checkout to measure,
default this one; RUNS: default 5). Mid-edit: Ctrl+Q 1.5 s after sending the first instruction
with the tiny engine at 20 steps, while torch loads and the engine is built. The time runs from
`send-keys C-q` until the shell after the app prints a marker line.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SOCKET = "zone-bench-quit"  # a private tmux server


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


def _wait(name: str, text: str, timeout: float) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in _tmux("capture-pane", "-p", "-t", name):
            return
        time.sleep(0.01)
    raise TimeoutError(f"{text!r} did not appear in {timeout:.0f} s")


def quit_seconds(root: Path, photo: Path, db: Path, mid_edit: bool) -> float:
    """Seconds from Ctrl+Q until the app has ended."""
    name = f"quit-{uuid.uuid4().hex[:8]}"
    command = (f"cd {root} && PYTHONPATH={root} {root}/.venv/bin/python -m tui.cli chat {photo} --engine tiny "
               f"--db {db} --steps 20; echo APP-ENDED; sleep 60")
    for attempt in range(5):  # the server may still be exiting after the previous kill-session
        try:
            _tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "36", command)
            break
        except subprocess.CalledProcessError:
            if attempt == 4:
                raise
            time.sleep(0.3)
    try:
        _wait(name, "Ready.", 60)
        if mid_edit:
            _tmux("send-keys", "-t", name, "make the sky pink", "Enter")
            time.sleep(1.5)
        start = time.monotonic()
        _tmux("send-keys", "-t", name, "C-q")
        _wait(name, "APP-ENDED", 120)
        return time.monotonic() - start
    finally:
        _tmux("kill-session", "-t", name)


def main() -> None:
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tui"))
    from tui_support import make_gradient

    with tempfile.TemporaryDirectory() as tmp:
        photo = make_gradient(Path(tmp) / "photo.png", (96, 128))
        for mode in ("idle", "mid_edit"):
            times = [quit_seconds(root, photo, Path(tmp) / f"{mode}-{i}.db", mode == "mid_edit") for i in range(runs)]
            print(f"{root.name} {mode}: median {statistics.median(times):.2f} s, min {min(times):.2f}, "
                  f"max {max(times):.2f}, runs {runs}: {', '.join(f'{t:.2f}' for t in times)}", flush=True)


if __name__ == "__main__":
    main()
