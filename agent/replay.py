"""Scripted replay: run a YAML script's turns through ZoneService and write each turn's image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from engine.errors import ZoneInputError


@dataclass(frozen=True)
class ReplayScript:
    """A parsed script: the photo (resolved against the script's folder), base seed and turns."""

    path: Path
    image: Path
    seed: int
    turns: list[str]


def load_script(path: str | Path) -> ReplayScript:
    """Read `image: photo.jpg`, `seed: 0` (optional) and `turns: [...]` from a YAML file.

    Scalars are read as plain strings (YAML's base loader), so a turn like `no` or `yes` stays
    text instead of becoming a boolean.
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except FileNotFoundError:
        raise ZoneInputError(f"replay script not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ZoneInputError(f"cannot read replay script {path}: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ZoneInputError(f"replay script {path} is not valid YAML{at}") from None
    if not isinstance(data, dict):
        raise ZoneInputError(f"replay script {path} must be a mapping with 'image' and 'turns'")
    image = data.get("image")
    if not isinstance(image, str) or not image.strip():
        raise ZoneInputError(f"replay script {path}: 'image' must name a photo file")
    turns = data.get("turns")
    if turns in ("", "~", "null"):  # `turns:` with nothing after it
        turns = []
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise ZoneInputError(f"replay script {path}: 'turns' must be a list of strings")
    seed_text = data.get("seed", "0")
    try:
        seed = int(seed_text)
    except (TypeError, ValueError):
        raise ZoneInputError(f"replay script {path}: 'seed' must be an integer, not {seed_text!r}") from None
    image_path = Path(image).expanduser()
    if not image_path.is_absolute():
        image_path = path.resolve().parent / image_path
    unknown = sorted(set(data) - {"image", "seed", "turns"})
    if unknown:
        raise ZoneInputError(f"replay script {path}: unknown key(s) {', '.join(unknown)}")
    return ReplayScript(path=path, image=image_path, seed=seed, turns=list(turns))


def run_replay(script: ReplayScript, out_dir: str | Path, *, engine: str = "real", db_url: Optional[str] = None,
               device: str = "auto", service: Any = None, on_turn: Optional[Callable[[int, dict], None]] = None) -> dict:
    """Replay every turn and write `out_dir/turn-NN.png`, the HEAD render after turn NN.

    A failing turn is reported in its entry (`error`) and the replay goes on. Returns the report
    `{"session", "image", "seed", "turns": [{"text", "intent", "action", "version", "parent",
    "head", "reply", "error", "clarify", "image"}], "failed", "final"}`; `final` is the last turn's image.
    """
    from engine.imageio import save_png

    if service is None:
        from agent.service import ZoneService

        service = ZoneService(db_url=db_url, engine=engine, device=device, seed=script.seed, export_dir=out_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    session = service.open_image(script.image, name=script.path.stem)
    entries = []
    for i, text in enumerate(script.turns, start=1):
        result = service.handle(session.id, text)
        image_path = out / f"turn-{i:02d}.png"
        save_png(image_path, service.render(session.id, "HEAD"))
        entry = {
            "text": text, "intent": result.intent, "action": result.action, "version": result.version_id,
            "parent": result.parent_id, "head": result.head_id, "reply": result.reply, "error": result.error,
            "clarify": result.clarify, "image": str(image_path),
        }
        if len(result.edits) > 1:
            entry["versions"] = [e["version_id"] for e in result.edits]
        entries.append(entry)
        if on_turn is not None:
            on_turn(i, entry)
    if entries:
        final = Path(entries[-1]["image"])
    else:  # no turns: the final image is the photo as it was opened
        final = out / "turn-00.png"
        save_png(final, service.render(session.id, "HEAD"))
    return {
        "session": session.id, "image": str(script.image), "seed": script.seed, "turns": entries,
        "failed": sum(1 for e in entries if e["error"]), "final": str(final),
    }
