"""Deterministic stand-ins for the engine (fast graph tests) and helpers to make test photos."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from engine.api import EditParams, EditResult, ProgressEvent
from engine.errors import EditCancelled, ZoneInputError


def make_photo(path: Path, size: tuple[int, int] = (48, 64)) -> Path:
    """Write a small gradient PNG (height, width) and return its path."""
    from PIL import Image

    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), np.full_like(xx, 96)], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


class FakeEngine:
    """Tints a fixed rectangle with a colour derived from (instruction, seed, action).

    `fail_on`: instructions containing this text raise ZoneInputError. Every call is recorded in
    `calls` as (instruction, action, seed, image checksum).
    """

    name = "fake"
    meaningful = False
    accepts_work_image = True  # like the real engine: the agent hands it the parent's preview

    def __init__(self, fail_on: Optional[str] = None, box: tuple[float, float, float, float] = (0.25, 0.25, 0.6, 0.7)):
        self.fail_on = fail_on
        self.box = box
        self.calls: list[tuple[str, str, int, int]] = []
        self.work_images: list = []  # the shape of each work_image received (None: not given)
        self.loaded = 0

    def load(self, progress=None) -> None:
        self.loaded += 1

    def edit(self, image: np.ndarray, instruction: str, params: EditParams, progress=None, cancel=None,
             work_image: Optional[np.ndarray] = None) -> EditResult:
        self.calls.append((instruction, params.action, params.seed, zlib.crc32(image.tobytes())))
        self.work_images.append(None if work_image is None else work_image.shape)
        if self.fail_on and self.fail_on in instruction:
            raise ZoneInputError(f"cannot edit {instruction!r}: the fake engine refuses it")
        h, w = image.shape[:2]
        for step in range(3):
            if cancel is not None and cancel():
                raise EditCancelled("edit cancelled")
            if progress is not None:
                progress(ProgressEvent("denoise", step + 1, 3))
        y0, x0, y1, x1 = (int(self.box[0] * h), int(self.box[1] * w), int(self.box[2] * h), int(self.box[3] * w))
        key = zlib.crc32(f"{instruction}|{params.seed}|{params.action}".encode())
        colour = np.array([key & 255, (key >> 8) & 255, (key >> 16) & 255], np.uint8)
        mask = np.ones((y1 - y0, x1 - x0), bool)  # the layer and mask as the engine gives them: a crop
        layer = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        layer[..., :3] = colour
        layer[..., 3] = 255
        composite = image.copy()
        composite[y0:y1, x0:x1] = colour
        return EditResult(
            composite=composite,
            layer=layer,
            mask=mask,
            canvas=composite.copy(),
            rough_mask=np.zeros((h, w), bool),
            mask_fraction=float(mask.sum()) / (h * w),
            offset=(y0, x0),
            timings_ms={"total": 1.0},
            warnings=[],
            params={**params.to_dict(), "engine": "fake"},
        )


class KeywordClassifier:
    """A rule-based stand-in for `agent.classifier` (used only where a test needs exact control)."""

    RULES = (
        ("undo_all", ("go back to the start", "start over", "undo everything", "undo all")),
        ("undo", ("undo",)),
        ("redo", ("redo",)),
        ("retry", ("try again", "retry")),
        ("branch", ("branch here", "new branch", "create a branch")),
        ("checkout", ("go to", "switch to", "checkout", "check out")),
        ("export", ("save", "export")),
        ("show", ("show",)),
        ("history", ("history",)),
        ("help", ("help",)),
    )

    def classify(self, text: str):
        from types import SimpleNamespace

        from agent.lexicon import is_edit_verb, verb_action

        low = text.lower().strip()
        for intent, keys in self.RULES:
            if any(low.startswith(k) for k in keys):
                return SimpleNamespace(text=text, intent=intent, action=None, confidence=0.95)
        words = low.split()
        if words and is_edit_verb(words[0]):
            return SimpleNamespace(text=text, intent="edit", action=verb_action(low), confidence=0.9)
        return SimpleNamespace(text=text, intent="unknown", action=None, confidence=0.2)


def make_service(tmp_path: Path, engine: Optional[FakeEngine] = None, **kwargs):
    """A ZoneService on a fresh SQLite file in tmp_path, the fake engine and the real classifier.

    Returns (service, session, engine).
    """
    from agent.service import ZoneService

    engine = engine or FakeEngine()
    kwargs.setdefault("db_url", f"sqlite:///{tmp_path / 'zone.db'}")
    kwargs.setdefault("export_dir", tmp_path / "exports")
    Path(kwargs["export_dir"]).mkdir(parents=True, exist_ok=True)  # Zone never makes folders itself
    service = ZoneService(engine_factory=lambda: engine, **kwargs)
    photo = make_photo(tmp_path / "photo.png")
    session = service.open_image(photo)
    return service, session, engine
