"""The architecture holds: tui -> agent -> {engine, storage}; only tui imports textual; history starts without torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "common", "engine", "storage", "tui")


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed")
    r = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    declared = (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert declared >= 3 and f"Contracts: {declared} kept, 0 broken" in r.stdout


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in tree.body:  # top-level statements only (function bodies import lazily)
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["agent", "common", "storage", "tui"])
def test_no_module_level_torch_outside_engine(package):
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py") if "torch" in _module_level_imports(p)]
    assert offenders == []


def test_engine_public_types_are_torch_free():
    code = "import sys, engine, engine.api, engine.errors, engine.imageio; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


@pytest.mark.parametrize("argv", [["--help"], ["history", "--help"], ["sessions", "--help"], ["classify", "undo"]])
def test_light_commands_never_import_torch(argv):
    code = (
        "import sys\nfrom tui.cli import main\n"
        f"try:\n    rc = main({argv!r})\nexcept SystemExit as e:\n    rc = e.code\n"
        "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', 'TEXTUAL' if 'textual' in sys.modules else '')"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "NOTORCH" in r.stdout, r.stdout + r.stderr
    assert "TEXTUAL" not in r.stdout


def test_the_tui_never_reaches_through_the_service_into_its_store():
    """Everything the TUI needs is a ZoneService method (no `service.store`, no getattr probing)."""
    import re

    root = Path(__file__).resolve().parents[1]
    offenders = [str(p.relative_to(root)) for folder in ("tui/app.py", "tui/screens", "tui/widgets")
                 for p in ([root / folder] if folder.endswith(".py") else (root / folder).rglob("*.py"))
                 if re.search(r"service\.store\b|getattr\(self\.service", p.read_text(encoding="utf-8"))]
    assert offenders == []
