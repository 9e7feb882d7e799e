"""One validator per edit option, shared by `zone edit`, `zone chat`, `zone replay` and `EditParams`.

Each `check_*` function takes the value (already parsed or as text), returns it normalised, or
raises `LimitError` (a `ZoneInputError` and a `ValueError`) with a one-line message that names
the option and its bounds. `arg_type(check, "--steps")` wraps one for argparse, so bad values
are refused while the command line is parsed, before any model loads. The `*_HELP` strings
state the same bounds in `--help`. No torch import.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable, Optional

from engine.errors import ZoneInputError

STEPS_MIN, STEPS_MAX = 1, 1000
SEED_MIN, SEED_MAX = 0, 2**63 - 1
SCALE_MIN, SCALE_MAX = 0.0, 100.0
WORK_SIZE_MIN, WORK_SIZE_MAX = 64, 2048
DEFAULT_WORK_SIZE = 512  # the real engine's (the paper's) long side
TINY_WORK_SIZE = 128  # the tiny UNet's attention at 1/8 is quadratic; 128 px keeps CPU runs to seconds
MAX_PIXELS_MIN, MAX_PIXELS_MAX = 1, 1_000_000_000
INSTRUCTION_MAX_CHARS = 1000  # an instruction longer than this is refused ...
STORED_TEXT_MAX_CHARS = 1000  # ... and at most this much of it is stored, marked truncated
SCRIPT_MAX_BYTES = 1_000_000
SCRIPT_MAX_TURNS = 1000
SCRIPT_MAX_EXPANSION = 10  # expanded YAML (aliases resolved) may be at most 10x the file
SCRIPT_EXPANSION_FLOOR = 10_000  # ... or this many characters, whichever is larger

STEPS_HELP = f"denoising steps, {STEPS_MIN}-{STEPS_MAX}"
SEED_HELP = f"seed of the initial noise, {SEED_MIN}-2^63-1"
IMAGE_SCALE_HELP = f"image guidance s_I, a finite number {SCALE_MIN:g}-{SCALE_MAX:g}"
TEXT_SCALE_HELP = f"text guidance s_T, a finite number {SCALE_MIN:g}-{SCALE_MAX:g}"
WORK_SIZE_HELP = (f"long side the models see, {WORK_SIZE_MIN}-{WORK_SIZE_MAX} px "
                  f"(default: {DEFAULT_WORK_SIZE}, tiny engine {TINY_WORK_SIZE})")
MAX_PIXELS_HELP = f"refuse larger photos, {MAX_PIXELS_MIN}-{MAX_PIXELS_MAX:_} pixels"


class LimitError(ZoneInputError, ValueError):
    """An option's value is outside its bounds or of the wrong kind."""


def _as_int(value: Any, label: str, bounds: str) -> int:
    """Parse an integer from an int or its decimal text (underscores allowed); never from a float."""
    if isinstance(value, bool):
        raise LimitError(f"{label} must be an integer {bounds}, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    try:
        return int(text.replace("_", ""), 10)
    except ValueError:
        raise LimitError(f"{label} must be an integer {bounds}, not {_short(text)!r}") from None


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _int_in(value: Any, label: str, lo: int, hi: int, hi_text: Optional[str] = None) -> int:
    bounds = f"from {lo} to {hi_text or hi}"
    n = _as_int(value, label, bounds)
    if not lo <= n <= hi:
        raise LimitError(f"{label} must be an integer {bounds}, not {n}")
    return n


def check_steps(value: Any, label: str = "steps") -> int:
    """Denoising steps: an integer 1-1000."""
    return _int_in(value, label, STEPS_MIN, STEPS_MAX)


def check_seed(value: Any, label: str = "seed") -> int:
    """A seed: an integer 0 .. 2^63-1 (what torch generators accept)."""
    return _int_in(value, label, SEED_MIN, SEED_MAX, "2^63-1")


def check_scale(value: Any, label: str = "scale") -> float:
    """A guidance scale: a finite number 0-100 (nan and inf garble the image)."""
    bounds = f"from {SCALE_MIN:g} to {SCALE_MAX:g}"
    try:
        x = float(str(value).strip()) if not isinstance(value, (int, float)) or isinstance(value, bool) else float(value)
    except ValueError:
        raise LimitError(f"{label} must be a finite number {bounds}, not {_short(str(value))!r}") from None
    if isinstance(value, bool) or not math.isfinite(x) or not SCALE_MIN <= x <= SCALE_MAX:
        raise LimitError(f"{label} must be a finite number {bounds}, not {value}")
    return x


def check_work_size(value: Any, label: str = "work_size") -> Optional[int]:
    """The long side the models see: None (the engine's default) or an integer 64-2048."""
    if value is None:
        return None
    return _int_in(value, label, WORK_SIZE_MIN, WORK_SIZE_MAX)


def check_max_pixels(value: Any, label: str = "max_pixels") -> int:
    """The largest photo accepted, in pixels: an integer 1 - 1e9."""
    return _int_in(value, label, MAX_PIXELS_MIN, MAX_PIXELS_MAX, f"{MAX_PIXELS_MAX:_}")


def check_instruction(value: Any, label: str = "the instruction") -> str:
    """An edit instruction: non-empty after stripping, at most INSTRUCTION_MAX_CHARS characters."""
    text = str(value or "").strip()
    if not text:
        raise LimitError(f'{label} is empty; say what to change, e.g. "make the sky pink"')
    if len(text) > INSTRUCTION_MAX_CHARS:
        raise LimitError(f"{label} is {len(text):,} characters; the limit is {INSTRUCTION_MAX_CHARS:,} "
                         "(say the one change you want in a sentence)")
    return text


def check_edit_options(options: dict) -> dict:
    """Validate a dict of EditParams overrides (steps, seed, scales, work_size); return it checked.

    Args:
        options: e.g. {"steps": 20, "work_size": 256}; unknown keys are passed through.
    """
    checkers: dict[str, Callable[[Any, str], Any]] = {
        "steps": check_steps, "seed": check_seed, "image_scale": check_scale,
        "text_scale": check_scale, "work_size": check_work_size,
    }
    out = dict(options)
    for key, check in checkers.items():
        if key in out:
            out[key] = check(out[key], key)
    return out


def arg_type(check: Callable[[Any, str], Any], label: str) -> Callable[[str], Any]:
    """Wrap a validator for argparse's `type=`: the message becomes argparse's one error line."""

    def parse(text: str) -> Any:
        try:
            return check(text, label)
        except LimitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = label.lstrip("-").replace("-", "_")
    return parse


def megapixels(n: int) -> str:
    """Say a pixel count for people: '64.0 MP', or '4,096 pixels' below 0.1 MP (never '0.0 MP')."""
    return f"{n / 1e6:.1f} MP" if n >= 100_000 else f"{n:,} pixels"
