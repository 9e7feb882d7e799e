"""engine.limits: one validator per option, the same bounds in EditParams, the CLI and --help."""

from __future__ import annotations

import math

import pytest

from engine import limits
from engine.api import EditParams
from engine.errors import ZoneInputError
from engine.limits import LimitError


@pytest.mark.parametrize("check,good,bad", [
    (limits.check_steps, [1, "20", 1000], [0, -1, 1001, 100000, "2.5", "x", True]),
    (limits.check_seed, [0, 2**63 - 1, "123"], [-1, 2**63, 2**64, "1e3"]),
    (limits.check_scale, [0, 1.5, "7.5", 100], [math.nan, math.inf, -math.inf, "nan", "inf", -0.1, 101]),
    (limits.check_work_size, [None, 64, 2048, "512"], [63, 2049, 0, "big"]),
    (limits.check_max_pixels, [1, 100, "64_000_000"], [0, -5, 10**10, "many"]),
])
def test_each_validator_accepts_its_range_and_refuses_the_rest(check, good, bad):
    for v in good:
        check(v, "opt")
    for v in bad:
        with pytest.raises(LimitError, match=r"^opt must be "):
            check(v, "opt")


def test_limit_errors_are_user_errors_and_value_errors():
    with pytest.raises(ZoneInputError):
        limits.check_steps(0)
    with pytest.raises(ValueError):
        limits.check_steps(0)


def test_edit_params_uses_the_same_validators():
    with pytest.raises(LimitError, match="^steps must be an integer from 1 to 1000, not 0$"):
        EditParams(action="add", steps=0)
    with pytest.raises(LimitError, match=r"^seed must be an integer from 0 to 2\^63-1, not 18446744073709551616$"):
        EditParams(action="add", seed=2**64)
    with pytest.raises(LimitError, match="^image_scale must be a finite number from 0 to 100, not nan$"):
        EditParams(action="add", image_scale=math.nan)
    with pytest.raises(LimitError, match="^text_scale must be a finite number"):
        EditParams(action="add", text_scale=math.inf)
    with pytest.raises(LimitError, match="^work_size must be an integer from 64 to 2048"):
        EditParams(action="add", work_size=4096)
    assert EditParams(action="add", seed=2**63 - 1, steps="7").steps == 7


def test_megapixels_never_says_zero():
    assert limits.megapixels(100) == "100 pixels"
    assert limits.megapixels(64_000_000) == "64.0 MP"
