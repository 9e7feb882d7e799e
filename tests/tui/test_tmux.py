"""The app in a real terminal (tmux): it opens in under a second and an instruction sent with
send-keys produces a new version visible in the captured pane. Run this file directly to print
startup timings: `PYTHONPATH=. .venv/bin/python tests/tui/test_tmux.py`."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tui_support import make_gradient  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HINT = "Type what to change"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


SOCKET = "zone-tests"  # a private tmux server: never touches the user's sessions


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


def _capture(name: str) -> str:
    return _tmux("capture-pane", "-p", "-t", name)


def _wait_for(name: str, text: str, timeout: float) -> float:
    """Seconds until `text` shows in the pane (polling every 10 ms)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in _capture(name):
            return time.monotonic() - start
        time.sleep(0.01)
    raise TimeoutError(f"{text!r} did not appear in {timeout:.0f} s; the pane shows:\n{_capture(name)}")


def launch(photo: Path, db: Path, size: tuple[int, int] = (120, 36)) -> tuple[str, float]:
    """Start `zone chat PHOTO --engine tiny` in a detached tmux session; returns (name, start time)."""
    name = f"zone-test-{uuid.uuid4().hex[:8]}"
    python = ROOT / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)
    command = (f"cd {ROOT} && PYTHONPATH={ROOT} {python} -m tui.cli chat {photo} --engine tiny --db {db} "
               f"--steps 2; sleep 60")
    for attempt in range(5):  # the server may still be exiting after the previous kill-session
        started = time.monotonic()
        try:
            _tmux("new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]), command)
            return name, started
        except subprocess.CalledProcessError:
            if attempt == 4:
                raise
            time.sleep(0.3)
    raise AssertionError("unreachable")


def measure_startup(workdir: Path, runs: int = 5) -> dict[str, list[float]]:
    """Wall seconds from launch to the first frame (the hint line) and to the photo shown."""
    photo = make_gradient(workdir / "startup.png", (96, 128))
    first, ready = [], []
    for i in range(runs):
        name, started = launch(photo, workdir / f"startup-{i}.db")
        try:
            _wait_for(name, HINT, 20)
            first.append(time.monotonic() - started)
            _wait_for(name, "Ready.", 20)
            ready.append(time.monotonic() - started)
        finally:
            _tmux("kill-session", "-t", name)
    return {"first_frame_s": first, "photo_ready_s": ready}


def test_instruction_sent_with_send_keys_makes_a_visible_version(tmp_path: Path) -> None:
    photo = make_gradient(tmp_path / "photo.png", (96, 128))
    db = tmp_path / "zone.db"
    name, started = launch(photo, db)
    try:
        first_frame = _wait_for(name, HINT, 20) + 0.0
        assert time.monotonic() - started < 5.0  # generous here; BENCHMARKS.md records the real numbers
        _wait_for(name, "Ready.", 20)
        _tmux("send-keys", "-t", name, "make the sky pink", "Enter")
        _wait_for(name, "● v1 ", 240)  # the new version, HEAD, in the history tree
        pane = _capture(name)
        print(f"first frame after {first_frame:.2f} s; pane:\n{pane}")
        assert "v1 " in pane and "make the sky pink" in pane and "▀" in pane  # tree, chat, half-block picture
        _tmux("send-keys", "-t", name, "C-q")
        time.sleep(1.0)
    finally:
        _tmux("kill-session", "-t", name)
    from storage.history import HistoryStore

    store = HistoryStore(str(db))
    (session,) = store.list_sessions()
    assert [v.instruction for v in store.log(session.id)][1:] == ["make the sky pink"]


def test_an_instruction_typed_right_after_launch_is_queued_and_makes_v1(tmp_path: Path) -> None:
    """Typed as soon as the first frame shows, before the photo is open: it waits, then runs; Ctrl+Q
    ends the app promptly and says how to reopen the session."""
    photo = make_gradient(tmp_path / "photo.png", (96, 128))
    db = tmp_path / "zone.db"
    name, _ = launch(photo, db)
    try:
        _wait_for(name, HINT, 20)
        _tmux("send-keys", "-t", name, "make the sky pink", "Enter")  # no wait for "Ready."
        _wait_for(name, "● v1 ", 240)
        pane = _capture(name)
        assert "No photo is open" not in pane and "make the sky pink" in pane
        _tmux("send-keys", "-t", name, "C-q")
        _wait_for(name, "saved; reopen with: zone chat --session ", 10)
    finally:
        _tmux("kill-session", "-t", name)
    from storage.history import HistoryStore

    store = HistoryStore(str(db))
    (session,) = store.list_sessions()
    assert [(v.number, v.instruction) for v in store.log(session.id)] == [(0, ""), (1, "make the sky pink")]


def test_a_broken_db_ends_zone_chat_with_one_line(tmp_path: Path) -> None:
    photo = make_gradient(tmp_path / "photo.png", (96, 128))
    junk = tmp_path / "broken.db"
    junk.write_bytes(b"not a database" * 300)
    name, _ = launch(photo, junk)
    try:
        _wait_for(name, "zone: error: ", 30)
        text = "".join(line for line in _capture(name).splitlines() if line.strip())  # one line, wrapped at 120
        assert text.startswith("zone: error: ") and text.count("zone: error:") == 1
        assert "is not a Zone database" in text and "Error:" not in text
    finally:
        _tmux("kill-session", "-t", name)
    assert junk.read_bytes() == b"not a database" * 300


if __name__ == "__main__":  # startup numbers for BENCHMARKS.md
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        numbers = measure_startup(Path(tmp), runs=int(os.environ.get("RUNS", "5")))
    for key, values in numbers.items():
        print(f"{key}: median {statistics.median(values):.3f} s, min {min(values):.3f}, max {max(values):.3f}, "
              f"runs {len(values)}: {', '.join(f'{v:.3f}' for v in values)}")
