"""Score the chat's understanding on the real development sets (text written by people outside Zone).

Usage: python scripts/eval_real.py [--errors] [--timing]

Reads `agent/data/classifier_real_dev.jsonl`, `classifier_real_fresh.jsonl` and `classifier_real_fresh2.jsonl` (rows
{"text", "intent", "action", "group", "source"}) and runs each text through
`agent.understand.understand` exactly as the chat would, after a previous edit ("make the sky
brighter"), so "it" and follow-ups have something to refer to. Prints Markdown: per file and per
source, right action (intent and, for edits, action), remove versus not-remove, plain edit
requests answered as something else (a question or a command), and with --timing the load time of
the model and the p50/p99 latency of one utterance.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "agent" / "data"
FILES = ("classifier_real_dev.jsonl", "classifier_real_fresh.jsonl", "classifier_real_fresh2.jsonl",
         "classifier_real_fresh3.jsonl", "classifier_real_fresh4.jsonl")
PREVIOUS = ("make the sky brighter", "change")


def read_rows(path: Path) -> list[dict]:
    """The rows of one real-text JSONL file.

    Args:
        path: the file.
    """
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def chat_reading(text: str, classify) -> tuple[str, str | None]:
    """(intent, action) the chat would act on: ("edit", action), (command, None) or ("clarify", reason).

    Args:
        text: the utterance.
        classify: the classifier's classify.
    """
    from agent.understand import LastEdit, understand

    last = LastEdit("previous", "parent", PREVIOUS[0], PREVIOUS[1])
    plan = understand(text, last, classify)
    if plan.get("clarify"):
        return "clarify", plan["clarify"]
    if plan.get("edits"):
        actions = {e["action"] for e in plan["edits"]}
        return "edit", plan["edits"][0]["action"] if len(actions) == 1 else "mixed"
    if plan.get("command"):
        return plan["command"]["intent"], None
    return plan.get("intent") or "unknown", None


def evaluate(rows: list[dict], classify) -> dict:
    """Counts per source and overall: n, right, edits, remove_right, not_edit; and the errors.

    Args:
        rows: labelled rows.
        classify: the classifier's classify.
    """
    stats: dict = defaultdict(lambda: {"n": 0, "right": 0, "edits": 0, "remove_right": 0, "not_edit": 0})
    errors = []
    for row in rows:
        got = chat_reading(row["text"], classify)
        want = (row["intent"], row["action"])
        for key in (row["source"], "group:" + row.get("group", "people"), "all"):
            s = stats[key]
            s["n"] += 1
            s["right"] += got == want
            if row["intent"] == "edit":
                s["edits"] += 1
                s["remove_right"] += (got == ("edit", "remove")) == (row["action"] == "remove")
                s["not_edit"] += got[0] != "edit"
        if got != want:
            errors.append((row["text"], want, got, row["source"]))
    return {"stats": dict(stats), "errors": errors}


def rates(s: dict) -> dict:
    """Accuracy figures of one `evaluate` bucket."""
    edits = max(s["edits"], 1)
    return {"right": s["right"] / s["n"], "remove": s["remove_right"] / edits, "not_edit": s["not_edit"] / edits}


def timing(texts: list[str], repeats: int = 5) -> dict:
    """Model load time and per-utterance latency in ms.

    `p99_ms` is the 99th percentile over utterances of each utterance's median of `repeats`
    calls (what one utterance costs); `raw_p99_ms` is over every single call, scheduler noise of
    a shared machine included.

    Args:
        texts: the utterances.
        repeats: calls per utterance.
    """
    from agent.classifier import DEFAULT_MODEL_PATH, InstructionClassifier
    from agent.understand import LastEdit, understand

    t0 = time.perf_counter()
    model = InstructionClassifier.from_file(DEFAULT_MODEL_PATH)
    load_ms = (time.perf_counter() - t0) * 1000
    last = LastEdit("previous", "parent", *PREVIOUS)
    medians, raw, alone = [], [], []
    for text in texts:
        calls, bare = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            understand(text, last, model.classify)
            calls.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            model.classify(text)  # the classifier alone: what `zone classify` ran before
            bare.append((time.perf_counter() - t) * 1000)
        raw += calls
        medians.append(sorted(calls)[repeats // 2])
        alone.append(sorted(bare)[repeats // 2])
    medians.sort()
    raw.sort()
    alone.sort()
    return {"load_ms": load_ms, "p50_ms": medians[len(medians) // 2], "p99_ms": medians[int(len(medians) * 0.99)],
            "max_ms": medians[-1], "raw_p99_ms": raw[int(len(raw) * 0.99)], "calls": len(raw),
            "classifier_p50_ms": alone[len(alone) // 2], "classifier_p99_ms": alone[int(len(alone) * 0.99)]}


def main() -> int:
    """Print the Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the rows read wrongly")
    parser.add_argument("--timing", action="store_true", help="measure model load and per-utterance latency")
    args = parser.parse_args()
    from agent.classifier import InstructionClassifier

    classify = InstructionClassifier.load().classify
    all_texts = []
    for name in FILES:
        rows = read_rows(DATA / name)
        all_texts += [r["text"] for r in rows]
        result = evaluate(rows, classify)
        print(f"\n### {name} ({len(rows)} rows)\n")
        print("| source | rows | right action | remove vs not | edits answered as something else |")
        print("|---|---|---|---|---|")
        for key, s in sorted(result["stats"].items(), key=lambda kv: (kv[0] == "all", kv[0])):
            r = rates(s)
            print(f"| {key} | {s['n']} | {r['right']:.3f} | {r['remove']:.3f} | {100 * r['not_edit']:.1f}% |")
        if args.errors:
            for text, want, got, source in result["errors"]:
                print(f"- {text!r}: want {want}, got {got} ({source})")
    if args.timing:
        t = timing(all_texts)
        print(f"\nmodel load {t['load_ms']:.1f} ms; per utterance (median of 5) p50 {t['p50_ms']:.2f} ms, "
              f"p99 {t['p99_ms']:.2f} ms, max {t['max_ms']:.2f} ms; every call p99 {t['raw_p99_ms']:.2f} ms "
              f"({t['calls']} calls); the classifier alone p50 {t['classifier_p50_ms']:.2f} ms, "
              f"p99 {t['classifier_p99_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
