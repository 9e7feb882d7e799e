"""`zone eval`: run a MagicBrush-layout test set through Zone and score it as MagicBrush does.

The layout (MagicBrush's test split):

    DATASET/edit_sessions.json          {"139306": [{"input": "139306-input.png",
                                                     "mask": "139306-mask1.png",
                                                     "output": "139306-output1.png",
                                                     "instruction": "..."}, ...], ...}
    DATASET/images/139306/139306-input.png, 139306-output1.png, 139306-output2.png, ...
    DATASET/local_descriptions.json     optional captions {"139306": {"139306-output1.png": "..."}}

Two settings, as in MagicBrush's `evaluation/`:
- multi-turn (final turn): one dialogue per session, each turn on Zone's previous output; its
  last image is scored against the last ground-truth output;
- single-turn (all turns): turn k starts from the ground-truth input of turn k; every turn's
  image is scored against its ground-truth output. Turn 1 is the same edit in both settings
  (same input, same seed), so it is run once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from engine.errors import ZoneInputError

CAPTION_FILES = ("local_descriptions.json", "local_captions.json", "global_descriptions.json")
METRICS = ("l1", "l2", "clip_i", "dino", "clip_t")


@dataclass(frozen=True)
class EvalTurn:
    """One turn of a test session: the instruction, its ground-truth input and output, its caption."""

    instruction: str
    input: Path
    output: Path
    caption: Optional[str] = None


@dataclass(frozen=True)
class EvalSession:
    id: str
    turns: tuple[EvalTurn, ...]


@dataclass
class Pairs:
    """(generated, ground truth, caption) triples of one setting."""

    items: list[tuple[Path, Path, Optional[str]]] = field(default_factory=list)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ZoneInputError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ZoneInputError(f"{path} is not valid JSON (line {exc.lineno})") from None


def find_root(dataset: str | Path) -> Path:
    """The folder holding edit_sessions.json: DATASET itself, or DATASET/.. when given images/."""
    p = Path(dataset)
    for cand in (p, p.parent):
        if (cand / "edit_sessions.json").is_file() and (cand / "images").is_dir():
            return cand
    raise ZoneInputError(f"{dataset} is not a MagicBrush-layout folder (edit_sessions.json and images/)")


def load_dataset(dataset: str | Path) -> list[EvalSession]:
    """Read the sessions, their turns and (where a caption file exists) the target captions."""
    root = find_root(dataset)
    data = _read_json(root / "edit_sessions.json")
    if not isinstance(data, dict):
        raise ZoneInputError(f"{root / 'edit_sessions.json'} must map session ids to lists of turns")
    captions: dict = {}
    for name in CAPTION_FILES:
        if (root / name).is_file():
            loaded = _read_json(root / name)
            captions = loaded if isinstance(loaded, dict) else {}
            break
    sessions = []
    for sid in sorted(data, key=lambda s: (len(s), s)):
        turns = data[sid]
        if not isinstance(turns, list) or not turns:
            raise ZoneInputError(f"session {sid!r} in edit_sessions.json has no turns")
        folder = root / "images" / str(sid)
        out = []
        for k, t in enumerate(turns, start=1):
            if not isinstance(t, dict) or not all(isinstance(t.get(f), str) for f in ("input", "output", "instruction")):
                raise ZoneInputError(f"session {sid!r} turn {k}: needs 'input', 'output' and 'instruction'")
            inp, gt = folder / t["input"], folder / t["output"]
            for f in (inp, gt):
                if not f.is_file():
                    raise ZoneInputError(f"session {sid!r} turn {k}: {f} does not exist")
            per = captions.get(str(sid))
            caption = per.get(t["output"]) if isinstance(per, dict) else None
            out.append(EvalTurn(t["instruction"], inp, gt, caption if isinstance(caption, str) else None))
        sessions.append(EvalSession(str(sid), tuple(out)))
    if not sessions:
        raise ZoneInputError(f"{root / 'edit_sessions.json'} lists no sessions")
    return sessions


def plan_scripts(sessions: list[EvalSession], seed: int = 0) -> list[Any]:
    """Replay scripts: `<id>-multi` (all turns chained) and `<id>-turnK` for K >= 2 (from the GT input)."""
    from agent.replay import ReplayScript

    scripts = []
    for s in sessions:
        base = s.turns[0].input.parent
        scripts.append(ReplayScript(path=base / f"{s.id}-multi.yaml", image=s.turns[0].input, seed=seed,
                                    turns=[t.instruction for t in s.turns]))
        for k, t in enumerate(s.turns[1:], start=2):
            scripts.append(ReplayScript(path=base / f"{s.id}-turn{k}.yaml", image=t.input, seed=seed,
                                        turns=[t.instruction]))
    return scripts


def collect_pairs(sessions: list[EvalSession], out_root: Path,
                  done: set[str]) -> tuple[Pairs, Pairs, list[str]]:
    """(single-turn pairs, multi-turn final pairs, ids of sessions left out because a script failed).

    Args:
        sessions: the dataset.
        out_root: the batch's output folder (`<out_name>/turn-NN.png`).
        done: out names of the scripts that completed.
    """
    single, multi, left_out = Pairs(), Pairs(), []
    for s in sessions:
        names = [f"{s.id}-multi"] + [f"{s.id}-turn{k}" for k in range(2, len(s.turns) + 1)]
        if not all(n in done for n in names):
            left_out.append(s.id)
            continue
        n = len(s.turns)
        last = s.turns[-1]
        multi.items.append((out_root / names[0] / f"turn-{n:02d}.png", last.output, last.caption))
        single.items.append((out_root / names[0] / "turn-01.png", s.turns[0].output, s.turns[0].caption))
        for k, t in enumerate(s.turns[1:], start=2):
            single.items.append((out_root / f"{s.id}-turn{k}" / "turn-01.png", t.output, t.caption))
    return single, multi, left_out


def score(pairs: Pairs, clip: Any = None, dino: Any = None) -> dict[str, Any]:
    """Mean L1, L2 (and CLIP-I, DINO, CLIP-T with their models) over the pairs, as MagicBrush averages."""
    from engine.imageio import load_image
    from engine.metrics import cosine, l1_distance, l2_distance

    sums = {m: 0.0 for m in METRICS}
    captioned = 0
    for gen_path, gt_path, caption in pairs.items:
        gen, gt = load_image(gen_path), load_image(gt_path)
        sums["l1"] += l1_distance(gen, gt)
        sums["l2"] += l2_distance(gen, gt)
        captioned += 1 if caption else 0
        if clip is not None:
            g = clip.image(gen)
            sums["clip_i"] += cosine(g, clip.image(gt))
            if caption:
                sums["clip_t"] += cosine(g, clip.text(caption))
        if dino is not None:
            sums["dino"] += cosine(dino.image(gen), dino.image(gt))
    n = len(pairs.items)
    out: dict[str, Any] = {"pairs": n, "captioned": captioned}
    for m in METRICS:
        have = {"clip_i": clip is not None, "dino": dino is not None, "clip_t": clip is not None and captioned > 0}
        if not have.get(m, True) or n == 0:
            out[m] = None
        else:
            out[m] = sums[m] / (captioned if m == "clip_t" else n)
    return out


def write_magicbrush_layout(sessions: list[EvalSession], out_root: Path, dest: Path, done: set[str]) -> None:
    """Copy the generated images under MagicBrush's result names (`<id>/<id>_1.png`, `_iter_K`, `_inde_K`),
    so MagicBrush's own `image_eval.py` can read them too."""
    for s in sessions:
        folder = dest / s.id
        multi = out_root / f"{s.id}-multi"
        if f"{s.id}-multi" not in done:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{s.id}_1.png").write_bytes((multi / "turn-01.png").read_bytes())
        for k in range(2, len(s.turns) + 1):
            (folder / f"{s.id}_iter_{k}.png").write_bytes((multi / f"turn-{k:02d}.png").read_bytes())
            single = out_root / f"{s.id}-turn{k}" / "turn-01.png"
            if f"{s.id}-turn{k}" in done:
                (folder / f"{s.id}_inde_{k}.png").write_bytes(single.read_bytes())
