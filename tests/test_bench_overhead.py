"""`zone bench --overhead` runs at a small size, prints both paths and the ratio, and refuses bad sizes."""

from __future__ import annotations

import json

import pytest

from tui.cli import main


def test_overhead_bench_json(capsys):
    assert main(["bench", "--overhead", "--size", "120x160", "--layer-frac", "0.25", "--repeats", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == [120, 160] and out["layer_frac"] == 0.25 and out["repeats"] == 2
    assert out["overhead_ms"] > 0 and out["baseline_ms"] > 0
    assert out["ratio"] == pytest.approx(out["baseline_ms"] / out["overhead_ms"], rel=0.01)
    stages = out["stages_ms"]
    assert set(stages["overhead"]) == set(stages["baseline"]) >= {"read_parent", "composite_full_res", "commit",
                                                                  "view", "next_work_image"}
    assert stages["overhead"]["recompose_and_cache"] == 0.0  # the engine's composite is the render


def test_overhead_bench_table_and_whole_image(capsys):
    assert main(["bench", "--overhead", "--size", "96", "--layer-frac", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "96x96" in out and "ratio (before / now)" in out and "total ms" in out


@pytest.mark.parametrize("argv, message", [
    (["--size", "12x"], "HxW"),
    (["--size", "8x8"], "at least 16"),
    (["--size", "100x100", "--layer-frac", "0"], "--layer-frac"),
])
def test_overhead_bench_errors_are_one_line(argv, message, capsys):
    assert main(["bench", "--overhead", *argv]) != 0
    err = capsys.readouterr().err
    assert err.startswith("zone: error: ") and message in err and err.count("\n") == 1
