"""Scripted replay: run a YAML script's turns through ZoneService and write each turn's image.

Scripts are files people share, so they are read bounded (at most 1 MB, 1,000 turns, and YAML
aliases may not blow the text up beyond 10x) and their exports stay inside the output folder
unless the user trusts the script (`ZoneService(confine_exports=False)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from common.safe_write import OutputError, check_output, probe_folder
from engine.errors import ZoneInputError
from engine.limits import (SCRIPT_EXPANSION_FLOOR, SCRIPT_MAX_BYTES, SCRIPT_MAX_EXPANSION, SCRIPT_MAX_TURNS,
                           LimitError, check_seed)


@dataclass(frozen=True)
class ReplayScript:
    """A parsed script: the photo (resolved against the script's folder), base seed and turns."""

    path: Path
    image: Path
    seed: int
    turns: list[str]


def _expanded_chars(root: Any) -> int:
    """Characters of a composed YAML document with every alias expanded (memoized: linear time)."""
    import yaml

    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if isinstance(node, yaml.ScalarNode):
            n = len(node.value) + 1
        elif isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(child) for child in node.value)
        else:  # MappingNode
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        memo[key] = n
        return n

    return size(root) if root is not None else 0


def _read_bounded(path: Path) -> str:
    """The script's text, refused when over SCRIPT_MAX_BYTES (checked before reading it)."""
    try:
        if path.is_dir():
            raise ZoneInputError(f"replay script {path} is a directory")
        size = path.stat().st_size
        if size > SCRIPT_MAX_BYTES:
            raise ZoneInputError(f"replay script {path} is {size:,} bytes; the limit is {SCRIPT_MAX_BYTES:,}")
        with open(path, "rb") as fh:
            raw = fh.read(SCRIPT_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ZoneInputError(f"replay script not found: {path}") from None
    except OSError as exc:
        raise ZoneInputError(f"cannot read replay script {path}: {exc.strerror or exc}") from None
    if len(raw) > SCRIPT_MAX_BYTES:  # a FIFO or a file that grew
        raise ZoneInputError(f"replay script {path} is over {SCRIPT_MAX_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZoneInputError(f"replay script {path} is not UTF-8 text (byte {exc.start})") from None


def _parse_yaml(path: Path, text: str) -> Any:
    """Compose, check alias expansion, then construct with YAML's base loader (strings only)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.BaseLoader)
        expanded = _expanded_chars(node)
        limit = max(SCRIPT_MAX_EXPANSION * len(text), SCRIPT_EXPANSION_FLOOR)
        if expanded > limit:
            raise ZoneInputError(
                f"replay script {path} expands to {expanded:,} characters through YAML aliases, "
                f"more than {SCRIPT_MAX_EXPANSION}x its size; write the turns out")
        return yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ZoneInputError(f"replay script {path} is not valid YAML{at}") from None
    except RecursionError:
        raise ZoneInputError(f"replay script {path} is nested too deeply") from None


def load_script(path: str | Path) -> ReplayScript:
    """Read `image: photo.jpg`, `seed: 0` (optional) and `turns: [...]` from a YAML file.

    Scalars are read as plain strings (YAML's base loader), so a turn like `no` or `yes` stays
    text instead of becoming a boolean.

    Raises:
        ZoneInputError: missing, unreadable, over 1 MB or 1,000 turns, alias expansion over
            10x, not a mapping, bad or unknown keys, a seed outside 0..2^63-1.
    """
    path = Path(path)
    data = _parse_yaml(path, _read_bounded(path))
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
    if len(turns) > SCRIPT_MAX_TURNS:
        raise ZoneInputError(f"replay script {path} has {len(turns):,} turns; the limit is {SCRIPT_MAX_TURNS:,}")
    try:
        seed = check_seed(data.get("seed", "0"), f"replay script {path}: 'seed'")
    except LimitError as exc:
        raise ZoneInputError(str(exc)) from None
    image_path = Path(image).expanduser()
    if not image_path.is_absolute():
        image_path = path.resolve().parent / image_path
    unknown = sorted(set(data) - {"image", "seed", "turns"})
    if unknown:
        raise ZoneInputError(f"replay script {path}: unknown key(s) {', '.join(unknown)}")
    return ReplayScript(path=path, image=image_path, seed=seed, turns=list(turns))


def turn_image(out_dir: Path, i: int) -> Path:
    """The image written after turn `i` (turn 0: the photo as opened, for a script without turns)."""
    return Path(out_dir) / f"turn-{i:02d}.png"


def prepare_out_dir(script: ReplayScript, out_dir: str | Path, *, force: bool = False) -> Path:
    """Create `out_dir` if needed and check, before any work, that every turn image may be written.

    Raises:
        OutputError: not a folder, not writable, or (without `force`) a turn image exists.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is not a folder", out)
    try:
        out.mkdir(parents=True, exist_ok=True)  # an output folder: the umask decides its mode
    except OSError as exc:
        raise OutputError(f"cannot create the folder {out}: {exc.strerror or exc}", out) from None
    probe_folder(out)
    for i in range(0 if not script.turns else 1, len(script.turns) + 1):
        check_output(turn_image(out, i), force=force, hint="add --force to replace the images of an earlier replay")
    return out


def run_replay(script: ReplayScript, out_dir: str | Path, *, engine: str = "real", db_url: Optional[str] = None,
               device: str = "auto", service: Any = None, on_turn: Optional[Callable[[int, dict], None]] = None,
               force: bool = False) -> dict:
    """Replay every turn and write `out_dir/turn-NN.png`, the HEAD render after turn NN.

    A failing turn is reported in its entry (`error`) and the replay goes on. A replay that
    fails without committing any edit removes its (empty) session again. Returns the report
    `{"session", "image", "seed", "turns": [{"text", "intent", "action", "version", "number",
    "parent", "head", "reply", "error", "clarify", "image"}], "failed", "final"}`; `final` is the
    last turn's image; `session` is None when the empty session was removed; `number` is the
    version's stored number (v3 is 3).

    Args:
        force: replace turn images left by an earlier replay in `out_dir`.
    """
    out = prepare_out_dir(script, out_dir, force=force)
    if service is None:
        from agent.service import ZoneService

        service = ZoneService(db_url=db_url, engine=engine, device=device, seed=script.seed, export_dir=out,
                              confine_exports=True)
    session = service.open_image(script.image, name=script.path.stem)
    entries: list[dict] = []
    finished = False
    try:
        for i, text in enumerate(script.turns, start=1):
            entries.append(_run_turn(service, session.id, i, text, out, force))
            if on_turn is not None:
                on_turn(i, entries[-1])
        if entries:
            final = Path(entries[-1]["image"])
        else:  # no turns: the final image is the photo as it was opened
            final = _save(service, session.id, turn_image(out, 0), force)[0]
        finished = True
    finally:
        failed = sum(1 for e in entries if e["error"])
        removed = (not finished or failed) and _remove_if_empty(service, session.id)
    return {
        "session": None if removed else session.id, "image": str(script.image), "seed": script.seed,
        "turns": entries, "failed": failed, "final": str(final),
    }


def _save(service: Any, session_id: str, path: Path, force: bool) -> tuple[Path, Optional[str]]:
    """Write the HEAD render to `path` (the store's PNG export, as "save it as" writes it);
    return (path, error message or None)."""
    from storage.errors import StorageError

    try:
        service.store.export(session_id, "HEAD", path, force=force)
    except (OutputError, StorageError) as exc:
        return path, str(exc)
    return path, None


def _run_turn(service: Any, session_id: str, i: int, text: str, out: Path, force: bool) -> dict:
    """Run one turn and write its image; return its report entry."""
    result = service.handle(session_id, text)
    image_path, save_error = _save(service, session_id, turn_image(out, i), force)
    entry = {
        "text": result.text, "intent": result.intent, "action": result.action, "version": result.version_id,
        "number": result.number,
        "parent": result.parent_id, "head": result.head_id, "reply": result.reply,
        "error": result.error or save_error, "clarify": result.clarify, "image": str(image_path),
    }
    if len(result.edits) > 1:
        entry["versions"] = [e["version_id"] for e in result.edits]
    return entry


def _remove_if_empty(service: Any, session_id: str) -> bool:
    """Delete the session when it holds no edit (a failed replay leaves nothing behind)."""
    try:
        if len(service.history(session_id)) > 1:
            return False
        service.delete_session(session_id)
    except Exception:  # noqa: BLE001 - best effort: the replay's own error is the one to report
        return False
    return True
