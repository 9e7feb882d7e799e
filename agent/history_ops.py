"""History commands of the dialogue (undo, redo, branch, checkout, export, ...) over the HistoryStore."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from agent.exports import missing_folder
from agent.state import Command
from agent.understand import LastEdit
from common.errors import UserFacingError, error_kind, one_line
from common.safe_write import OutputError, OutputExistsError, inside
from common.text import short_id
from storage.names import BRANCH_NAME_HINT, branch_name_problem  # the TUI's branch dialog checks names here


def last_edit(store: Any, session_id: str) -> Optional[LastEdit]:
    """The edit "it", "instead", "again" and "try again" refer to: HEAD's own edit (None at the root).

    Derived from the history database (the single source of truth), so a resumed session
    keeps its context.
    """
    return last_edit_of(store.head(session_id), store, session_id)


def last_edit_of(head: Any, store: Any = None, session_id: Optional[str] = None) -> Optional[LastEdit]:
    """`last_edit` from HEAD's VersionInfo (already read with the turn's context).

    A layer operation at HEAD stands for the edit it sits on (read from `store` when given).
    """
    if getattr(head, "op", None) and store is not None:
        head = next((v for v in reversed(store.log(session_id)) if not getattr(v, "op", None)), head)
    if head.parent_id is None or not head.instruction:
        return None
    params = head.params if isinstance(head.params, dict) else {}
    scale = params.get("text_scale")
    return LastEdit(version_id=head.id, parent_id=head.parent_id, instruction=head.instruction,
                    action=head.action or "change", seed=params.get("seed"),
                    text_scale=float(scale) if isinstance(scale, (int, float)) else None)


def sibling_seed(store: Any, session_id: str, parent_id: str, instruction: str) -> int:
    """A seed no sibling with the same instruction used: the largest one plus 1, 2, ..."""
    return sibling_seed_of(store.tree(session_id), parent_id, instruction)


def sibling_seed_of(versions: Any, parent_id: str, instruction: str) -> int:
    """`sibling_seed` over given versions (the parent's children, or the whole tree)."""
    used = {int(v.params.get("seed", 0)) for v in versions
            if v.parent_id == parent_id and v.instruction == instruction and "seed" in v.params}
    seed = max(used) + 1 if used else 1
    while seed in used:
        seed += 1
    return seed


def version_by_number(store: Any, session_id: str, number: int):
    """ "version N": the version whose stable number is N (v0 is the original), or None."""
    from storage.errors import NotFoundError

    try:
        return store.resolve(session_id, f"v{int(number)}")
    except NotFoundError:
        return None


def _info(v) -> dict:
    return {"id": v.id, "parent_id": v.parent_id, "instruction": v.instruction, "action": v.action,
            "depth": v.depth, "number": v.number, "branches": list(v.branches)}


def _free_branch_name(store: Any, session_id: str) -> str:
    names = {b.name for b in store.branches(session_id)}
    n = 1
    while f"variant-{n}" in names:
        n += 1
    return f"variant-{n}"


OUTSIDE_HINT = "a replay writes only in its --out folder; --allow-exports-anywhere trusts the script"
EXISTS_HINT = "not overwritten"


def _export_path(store: Any, session_id: str, cmd: Command, export_dir: Path, confine: bool = False) -> Path:
    """Where an export goes: the path asked for (kept inside `export_dir` when `confine`), or a default."""
    if cmd.get("path"):
        if confine:
            return inside(export_dir, cmd["path"], hint=OUTSIDE_HINT)
        path = Path(cmd["path"]).expanduser()
        return path if path.is_absolute() else Path(export_dir) / path
    session = store.get_session(session_id)
    stem = re.sub(r"[^\w.-]+", "_", Path(session.name).stem) or "zone"
    head = store.head(session_id)
    return Path(export_dir) / f"{stem}-{short_id(head.id)}.{cmd.get('fmt', 'png')}"


def run_command(store: Any, session_id: str, cmd: Command, export_dir: Path = Path("."),
                confine: bool = False) -> tuple[dict, Optional[str]]:
    """Run one history command; returns (what was done, error message or None).

    Args:
        export_dir: where relative export paths go.
        confine: refuse exports outside `export_dir` (replay scripts).
    An export never replaces an existing file: the refusal is the error and `done["exists"]`
    names the file, so the TUI can ask "x.png exists: overwrite?".
    """
    from storage.errors import StorageError

    intent = cmd["intent"]
    done: dict = {"intent": intent}
    try:
        if intent in ("undo", "redo"):
            step = store.undo if intent == "undo" else store.redo
            moved: list[str] = []
            for _ in range(cmd.get("count", 1)):
                before = store.head(session_id)
                try:
                    after = step(session_id)
                except StorageError:
                    if moved:
                        break
                    raise
                moved.append(before.instruction if intent == "undo" else after.instruction)
            done["moved"] = moved
        elif intent == "undo_all":
            store.undo_all(session_id)
        elif intent == "checkout":
            if "version_number" in cmd:
                target = version_by_number(store, session_id, cmd["version_number"])
                if target is None:
                    n = max(v.number for v in store.tree(session_id))
                    done["error_kind"] = "input"
                    return done, (f"there is no version {cmd['version_number']}: the versions are v0 "
                                  f"(the original) to v{n}")
                store.checkout(session_id, target.id)
            else:
                store.checkout(session_id, cmd["ref"])
        elif intent == "branch":
            name = cmd.get("name") or _free_branch_name(store, session_id)
            store.branch(session_id, name, at=cmd.get("at"))
            done["name"] = name
        elif intent == "export":
            path = _export_path(store, session_id, cmd, export_dir, confine)
            if confine:  # a replay writes its own output tree, inside --out
                path.parent.mkdir(parents=True, exist_ok=True)
            problem = missing_folder(path)
            if problem:
                return done, problem  # the chat and the export dialog refuse it with the same words
            ref = cmd.get("ref") or "HEAD"  # a typed export (the TUI dialog) names the version it writes
            try:
                done["path"] = str(store.export(session_id, ref, path, hint=EXISTS_HINT))
            except OutputExistsError as exc:
                done["exists"] = str(exc.path)
                raise
            done["exported"] = _info(store.resolve(session_id, ref))
        elif intent == "history":
            done["log"] = [_info(v) for v in store.log(session_id)]
            done["count"] = len(store.tree(session_id))
            done["branches"] = [b.name for b in store.branches(session_id)]
        elif intent == "show":
            done["view"] = cmd.get("view", "result")
            if done["view"] in ("mask", "layer", "diff") and store.head(session_id).parent_id:
                done["mask_fraction"] = float(store.mask(session_id, "HEAD").mean())
        else:
            done["error_kind"] = "input"
            return done, f"unknown command {intent!r}"
    except (StorageError, OutputError, OSError, ValueError) as exc:
        # classified here, once: a file the system refused is storage, a bad value is input
        done["error_kind"] = error_kind(exc) if isinstance(exc, UserFacingError) else (
            "storage" if isinstance(exc, OSError) else "input")
        return done, one_line(exc) if isinstance(exc, UserFacingError) else " ".join(str(exc).split())
    head = store.head(session_id)
    done["version"] = _info(head)
    done["branch"] = store.get_session(session_id).head_branch
    return done, None
