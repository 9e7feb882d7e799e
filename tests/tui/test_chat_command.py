"""`zone chat`'s command line: arguments, one-line errors, and no torch before the first edit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_chat_arguments() -> None:
    args = build_parser().parse_args(["chat", "p.jpg", "--engine", "tiny", "--db", "x.db", "--device", "cpu"])
    assert (args.image, args.engine, args.db, args.device, args.session) == ("p.jpg", "tiny", "x.db", "cpu", None)
    args = build_parser().parse_args(["chat", "--session", "abcd"])
    assert args.image is None and args.session == "abcd" and callable(args.func)


@pytest.mark.parametrize("argv, message", [
    (["chat", "missing.png"], "no such file"),
    (["chat", "FOLDER"], "is a folder, not a photo"),
    (["chat", "PHOTO", "--session", "abcd"], "not both"),
    (["chat", "PHOTO", "--renderer", "ascii"], "unknown image renderer"),
])
def test_chat_errors_are_one_line(argv, message, photo: Path, capsys) -> None:
    argv = [str(photo) if a == "PHOTO" else str(photo.parent) if a == "FOLDER" else a for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("zone: error: ") and message in err and err.count("\n") == 1


def test_the_app_module_does_not_import_torch() -> None:
    code = ("import sys, tui.app, tui.commands.chat; "
            "bad = [m for m in ('torch', 'diffusers', 'transformers', 'agent.service') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
