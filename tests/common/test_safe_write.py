"""common.safe_write: no clobbering, FIFOs and devices refused, hard links kept, umask modes, temp sweep."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from common.safe_write import (TEMP_PREFIX, OutputError, OutputExistsError, OutputNoSpaceError, OutsideFolderError,
                               check_distinct, check_output, inside, stale_temps, sweep_stale, write_bytes,
                               write_with)

ROOT = Path(__file__).resolve().parents[2]


def test_existing_file_is_refused_without_force_and_kept(tmp_path):
    p = tmp_path / "photo.png"
    p.write_bytes(b"the user's photo")
    with pytest.raises(OutputExistsError) as info:
        write_bytes(p, b"new")
    assert str(info.value) == f"{p} exists; add --force to overwrite it"
    assert p.read_bytes() == b"the user's photo"
    write_bytes(p, b"new", force=True)
    assert p.read_bytes() == b"new"
    assert list(stale_temps(tmp_path)) == []


def test_fifo_and_device_are_refused_even_with_force(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for force in (False, True):
        with pytest.raises(OutputError, match="it is a FIFO; Zone only replaces regular files"):
            write_bytes(fifo, b"x", force=force)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(OutputError, match="it is a device"):
        check_output("/dev/null", force=True)
    with pytest.raises(OutputError, match="it is a directory"):
        check_output(tmp_path, force=True)


def test_hard_link_is_kept_when_forced(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"old")
    os.link(a, b)
    write_bytes(a, b"new content", force=True)
    assert b.read_bytes() == b"new content" and os.stat(a).st_ino == os.stat(b).st_ino


def test_symlink_is_followed_like_cp(tmp_path):
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(real)
    with pytest.raises(OutputExistsError):
        write_bytes(link, b"new")
    write_bytes(link, b"new", force=True)
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        p = write_bytes(tmp_path / "x.png", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(p).st_mode) == mode


def test_overwrite_keeps_the_old_files_mode(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(b"old")
    p.chmod(0o640)
    write_bytes(p, b"new", force=True)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640


def test_missing_folder_and_same_path_outputs(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        check_output(tmp_path / "nope" / "x.png")
    with pytest.raises(OutputError) as info:
        check_distinct({"--out": tmp_path / "x.png", "--layer-out": None, "--mask-out": tmp_path / "." / "x.png"})
    assert str(info.value) == f"--out and --mask-out both name {tmp_path / '.' / 'x.png'}; give each output its own file"
    check_distinct({"--out": tmp_path / "x.png", "--mask-out": tmp_path / "m.png"})


def test_a_failing_writer_leaves_nothing(tmp_path):
    def boom(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputNoSpaceError, match=r"^no space left to write .*x\.png \(\d+ MB free\)$"):
        write_with(tmp_path / "x.png", boom)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("asked", ["/abs/path/important.png", "../../victim/newdir/x/y/z.png", "~/evil.png",
                                   "sub/../../out.png", "link/escape.png"])
def test_inside_refuses_paths_leading_out(tmp_path, asked):
    root = tmp_path / "out"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(OutsideFolderError, match=r"^refused to write .*: it is outside "):
        inside(root, asked)


def test_inside_accepts_paths_that_stay(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    assert inside(root, "final.png") == root / "final.png"
    assert inside(root, "a/b.png") == root / "a" / "b.png"
    assert inside(root, str(root / "c.png")) == root / "c.png"


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from common.safe_write import write_with

    def slow(fh):
        fh.write(b"x" * 1_000_000)
        fh.flush()
        print("WRITING", flush=True)
        time.sleep(60)

    write_with(sys.argv[1], slow)
""")


def test_kill_mid_write_leaves_a_temp_that_the_next_write_sweeps(tmp_path):
    target = tmp_path / "out.png"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "WRITING"
        leftovers = list(stale_temps(tmp_path))
        assert len(leftovers) == 1 and leftovers[0].name.startswith(f"{TEMP_PREFIX}{proc.pid}-")
        assert sweep_stale(tmp_path) == []  # its writer is alive: an in-flight write is kept
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not target.exists() and len(list(stale_temps(tmp_path))) == 1
    write_bytes(tmp_path / "other.png", b"next write")
    assert list(stale_temps(tmp_path)) == [] and not target.exists()


def test_unreadable_temp_names_are_swept_only_when_old(tmp_path):
    odd = tmp_path / f"{TEMP_PREFIX}x-odd"
    odd.write_bytes(b"?")
    assert sweep_stale(tmp_path) == [] and odd.exists()
    old = time.time() - 2 * 3600
    os.utime(odd, (old, old))
    assert sweep_stale(tmp_path) == [odd] and not odd.exists()
