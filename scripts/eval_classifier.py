"""Evaluate the shipped instruction classifier on the held-out split and the realistic test file.

Usage: python scripts/eval_classifier.py [--model agent/data/classifier.npz] [--errors]

Prints, per test file: intent accuracy (overall and per intent), action accuracy per action (an
edit counts as right only if it is classified as an edit with the right action), the expected
calibration error of `confidence`, and the latency of one `classify` call; for the held-out file
also the accuracy on the held-out-only families (`HELDOUT_ONLY_TEMPLATES`). Markdown output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from agent.classifier import ACTIONS, INTENTS, InstructionClassifier  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
import classifier_templates  # noqa: E402

DATA = ROOT / "agent" / "data"
HELDOUT_ONLY = frozenset(t for ts in classifier_templates.HELDOUT_ONLY_TEMPLATES.values() for t in ts)
TEST_FILES = ("classifier_heldout.jsonl", "classifier_realistic.jsonl")


def read_rows(path: Path) -> list[dict]:
    """Return the labelled rows of a JSONL file.

    Args:
        path: JSONL of {"text", "intent", "action"} objects.
    """
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Return the expected calibration error of confidences against correctness.

    Args:
        conf: predicted probabilities of being right.
        correct: whether each prediction was right.
        bins: number of equal-width confidence bins.
    """
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(total)


def evaluate(model: InstructionClassifier, rows: list[dict]) -> dict:
    """Return the metrics of model on rows (see the module docstring), and its errors.

    Args:
        model: the classifier.
        rows: labelled rows.
    """
    preds = model.classify_many([r["text"] for r in rows])
    per_intent: dict[str, list[int]] = {k: [0, 0] for k in INTENTS}
    per_action: dict[str, list[int]] = {k: [0, 0] for k in ACTIONS}
    conf, correct, errors = [], [], []
    for row, p in zip(rows, preds):
        ok_intent = p.intent == row["intent"]
        per_intent[row["intent"]][0] += ok_intent
        per_intent[row["intent"]][1] += 1
        ok = ok_intent and p.action == row["action"]
        if row["intent"] == "edit":
            per_action[row["action"]][0] += ok
            per_action[row["action"]][1] += 1
        conf.append(p.confidence if p.intent != "unknown" else 1.0 - p.confidence)
        correct.append(ok)
        if not ok:
            errors.append((row, p))
    n_int = sum(v[1] for v in per_intent.values())
    n_act = sum(v[1] for v in per_action.values())
    return {
        "n": len(rows),
        "intent_acc": sum(v[0] for v in per_intent.values()) / max(n_int, 1),
        "action_acc": sum(v[0] for v in per_action.values()) / max(n_act, 1),
        "per_intent": {k: v for k, v in per_intent.items() if v[1]},
        "per_action": {k: v for k, v in per_action.items() if v[1]},
        "ece": expected_calibration_error(np.array(conf), np.array(correct, dtype=float)),
        "errors": errors,
    }


def measure_latency(model: InstructionClassifier, texts: list[str], repeats: int = 3) -> dict:
    """Return mean, median, 99th-percentile and max wall milliseconds, and mean CPU ms, of one call.

    Args:
        model: the classifier.
        texts: utterances to time (each `repeats` times).
        repeats: passes over texts.
    """
    times = []
    cpu_start = time.process_time()
    for _ in range(repeats):
        for t in texts:
            start = time.perf_counter()
            model.classify(t)
            times.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / max(len(times), 1)
    arr = np.array(times)
    return {"mean": arr.mean(), "p50": np.median(arr), "p99": np.percentile(arr, 99), "max": arr.max(),
            "cpu_mean": cpu_ms}


def report(name: str, m: dict) -> str:
    """Return a markdown block for one test file's metrics.

    Args:
        name: file name.
        m: metrics from `evaluate`.
    """
    lines = [f"### {name} ({m['n']} utterances)", "",
             f"- intent accuracy: {m['intent_acc']:.3f}; action accuracy (edits): {m['action_acc']:.3f};"
             f" ECE of confidence: {m['ece']:.3f}",
             "- per intent: " + ", ".join(f"{k} {a / n:.3f} ({a}/{n})" for k, (a, n) in m["per_intent"].items()),
             "- per action: " + ", ".join(f"{k} {a / n:.3f} ({a}/{n})" for k, (a, n) in m["per_action"].items()),
             ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate and print the markdown report (and errors with --errors)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--errors", action="store_true", help="list the misclassified utterances")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model = InstructionClassifier.load(args.model)
    load_ms = (time.perf_counter() - start) * 1000
    all_texts = []
    for name in TEST_FILES:
        rows = read_rows(Path(args.data) / name)
        all_texts += [r["text"] for r in rows]
        m = evaluate(model, rows)
        print(report(name, m))
        blind = [r for r in rows if r.get("family") in HELDOUT_ONLY]
        if blind:
            b = evaluate(model, blind)
            print("- of which held-out-only families (never trained on, written before any model saw them): "
                  + ", ".join(f"{k} {a / n:.3f} ({a}/{n})" for k, (a, n) in b["per_intent"].items()) + "\n")
        if args.errors:
            for row, p in m["errors"]:
                print(f"  want {row['intent']}/{row['action']} got {p.intent}/{p.action} "
                      f"({p.confidence:.2f}): {row['text'][:120]}")
            print()
    lat = measure_latency(model, all_texts)
    print(f"- latency per utterance: mean {lat['mean']:.3f} ms, p50 {lat['p50']:.3f} ms, "
          f"p99 {lat['p99']:.3f} ms, max {lat['max']:.3f} ms (wall); mean CPU {lat['cpu_mean']:.3f} ms; "
          f"model load {load_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
