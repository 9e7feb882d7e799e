"""History commands: `zone sessions`, `history`, `undo`, `redo`, `checkout`, `branch`, `export`.

None of them imports torch (or the engine): they only open the history database.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any

from common.text import printable, short_id

from tui.commands.options import add_db as _add_db


def _open(args: argparse.Namespace, readonly: bool = False):
    """Open the store without creating (or initialising) a database that does not exist yet.

    Args:
        readonly: open it read-only (`mode=ro`): works on a read-only mount, changes nothing.
    """
    from storage.history import HistoryStore

    return HistoryStore(args.db, create=False, readonly=readonly)


def _describe(version) -> str:
    """Return 'action: instruction' for an edit, 'original' for the root."""
    if version.depth == 0:
        return "original"
    text = printable(" ".join((version.instruction or "").split()))
    if getattr(version, "op", None):  # a layer operation on an earlier edit
        return f"layer {version.op}: {text}"
    return f"{version.action or 'edit'}: {text}" if text else (version.action or "edit")


def _decorations(version, head_branch: str | None) -> str:
    """Return ' (HEAD -> main, other)' style markers for a version line."""
    names = [printable(n) for n in version.branches]
    marks: list[str] = []
    if version.is_head:
        if head_branch and printable(head_branch) in names:
            names.remove(printable(head_branch))
            marks.append(f"HEAD -> {printable(head_branch)}")
        else:
            marks.append("HEAD")
    marks += names
    return f" ({', '.join(marks)})" if marks else ""


def _say(version, verb: str, head_branch: str | None = None) -> None:
    """Print where HEAD now is."""
    print(f"{verb} {version.label} {short_id(version.id)}{_decorations(version, head_branch)} {_describe(version)}")


def cmd_sessions(args: argparse.Namespace) -> int:
    """List sessions (or delete one with --delete SESSION --yes)."""
    from storage.errors import NotFoundError, StorageError

    try:
        store = _open(args, readonly=not args.delete)
    except NotFoundError:
        if args.delete:
            raise
        print("[]" if args.json else "no sessions yet")
        return 0
    with store:
        if args.delete:
            if not args.yes:
                raise StorageError("deleting a session cannot be undone: add --yes to confirm")
            info = store.get_session(args.delete)
            store.delete_session(info.id)
            print(f"deleted session {short_id(info.id)} ({printable(info.name)})")
            return 0
        sessions = store.list_sessions()
        counts = store.version_counts()
        if args.json:
            rows = [{"id": s.id, "name": s.name, "source_path": s.source_path, "width": s.width,
                     "height": s.height, "created_at": s.created_at.isoformat(),
                     "head": s.head_version_id, "head_branch": s.head_branch,
                     "versions": counts.get(s.id, 0)} for s in sessions]
            print(json.dumps(rows, indent=2))
            return 0
        if not sessions:
            print("no sessions yet")
            return 0
        rows = [("SESSION", "CREATED", "SIZE", "EDITS", "HEAD", "NAME")]
        for s in sessions:
            head = f"{short_id(s.head_version_id)}" + (f" ({printable(s.head_branch)})" if s.head_branch else "")
            rows.append((short_id(s.id), f"{s.created_at:%Y-%m-%d %H:%M}", f"{s.width}x{s.height}",
                         str(counts.get(s.id, 1) - 1), head, printable(s.name)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            print("  ".join([cell.ljust(w) for cell, w in zip(row, widths)] + [row[-1]]))
    return 0


def _tree_lines(versions: list, head_branch: str | None, width: int = 0) -> list[str]:
    """Return the history as a tree: every child under its parent, drawn with box-drawing guides.

    Each line is '@ v3 (HEAD -> main) 1a2b3c4d action: instruction' ('@' marks HEAD, '*' the rest):
    the number and the labels come first, so only the instruction is cut when `width` is set.
    """
    children: dict[str | None, list] = {}
    for v in sorted(versions, key=lambda v: v.number):
        children.setdefault(v.parent_id, []).append(v)
    lines: list[str] = []
    # (version, guide text before it, is it its parent's last child, is it a root)
    stack = [(v, "", True, True) for v in reversed(children.get(None, []))]
    while stack:
        v, prefix, last, root = stack.pop()
        branch = "" if root else ("└─ " if last else "├─ ")
        mark = "@" if v.is_head else "*"
        head = f"{prefix}{branch}{mark} {v.label}{_decorations(v, head_branch)} {short_id(v.id)} "
        line = head + _describe(v)
        if width and len(line) > width:
            line = line[:max(width - 1, len(head))] + "…"
        lines.append(line)
        kids = children.get(v.id, [])
        below = prefix if root else prefix + ("   " if last else "│  ")
        for i, kid in reversed(list(enumerate(kids))):
            stack.append((kid, below, i == len(kids) - 1, False))
    return lines


def cmd_history(args: argparse.Namespace) -> int:
    """Show a session's versions and branches."""
    with _open(args, readonly=True) as store:
        session = store.get_session(args.session)
        versions = store.tree(session.id)
        if args.json:
            out: dict[str, Any] = {
                "session": {"id": session.id, "name": session.name, "source_path": session.source_path,
                            "width": session.width, "height": session.height,
                            "created_at": session.created_at.isoformat()},
                "head": session.head_version_id,
                "head_branch": session.head_branch,
                "branches": {b.name: b.version_id for b in store.branches(session.id)},
                "versions": [v.to_json() for v in versions],
            }
            print(json.dumps(out, indent=2))
            return 0
        print(f"session {short_id(session.id)}  {printable(session.name)}  {session.width}x{session.height}")
        width = shutil.get_terminal_size((0, 0)).columns if sys.stdout.isatty() else 0
        for line in _tree_lines(versions, session.head_branch, width):
            print(line)
    return 0


def _move(args: argparse.Namespace, command: dict) -> int:
    """Run one history command with the chat's own operation (`agent.history_ops`); say where HEAD is."""
    from agent.history_ops import run_command
    from tui.cli import UserError

    with _open(args) as store:
        session = store.get_session(args.session)
        done, error = run_command(store, session.id, command)
        if error:
            raise UserError(error)
        if command["intent"] == "branch":
            where = "HEAD unchanged" if command.get("at") else "HEAD is now on it"
            at = store.resolve(session.id, done["name"]).id
            print(f"branch {printable(done['name'])} at {short_id(at)} ({where})")
        else:
            _say(store.head(session.id), "HEAD is now at", store.get_session(session.id).head_branch)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    """Move HEAD to its parent (or to the original with --all)."""
    return _move(args, {"intent": "undo_all"} if args.all else {"intent": "undo"})


def cmd_redo(args: argparse.Namespace) -> int:
    """Move HEAD forward along the line that was undone."""
    return _move(args, {"intent": "redo"})


def cmd_checkout(args: argparse.Namespace) -> int:
    """Move HEAD to a version or a branch."""
    return _move(args, {"intent": "checkout", "ref": args.ref})


def cmd_branch(args: argparse.Namespace) -> int:
    """Create a branch at HEAD (and switch to it) or at --at REF."""
    return _move(args, {"intent": "branch", "name": args.name, **({"at": args.at} if args.at else {})})


def cmd_export(args: argparse.Namespace) -> int:
    """Write a version as PNG/JPEG, its mask, or a layered OpenRaster file (never over a file without --force)."""
    with _open(args, readonly=True) as store:
        session = store.get_session(args.session)
        path = store.export(session.id, args.version, args.out, mask=args.mask, force=args.force)
        v = store.resolve(session.id, args.version)
        what = "mask of" if args.mask else "version"
        print(f"wrote {printable(path)} ({what} {v.label} {short_id(v.id)}, {session.width}x{session.height})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the history subcommands to the `zone` parser."""
    p = subparsers.add_parser("sessions", help="list editing sessions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--delete", metavar="SESSION", default=None, help="delete a session (needs --yes)")
    p.add_argument("--yes", action="store_true", help="confirm --delete")
    _add_db(p)
    p.set_defaults(func=cmd_sessions)

    p = subparsers.add_parser("history", help="show a session's versions and branches")
    p.add_argument("session", metavar="SESSION", help="session id, unique id prefix or name")
    p.add_argument("--json", action="store_true", help="print JSON (id, number, parent, instruction, action, branches, head)")
    _add_db(p)
    p.set_defaults(func=cmd_history)

    p = subparsers.add_parser("undo", help="move HEAD back to its parent (nothing is deleted)")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--all", action="store_true", help="go back to the original")
    _add_db(p)
    p.set_defaults(func=cmd_undo)

    p = subparsers.add_parser("redo", help="move HEAD forward along the line that was undone")
    p.add_argument("session", metavar="SESSION")
    _add_db(p)
    p.set_defaults(func=cmd_redo)

    p = subparsers.add_parser("checkout", help="move HEAD to a version or branch")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("ref", metavar="REF", help="version number (v3), version id or prefix, branch name, HEAD~N")
    _add_db(p)
    p.set_defaults(func=cmd_checkout)

    p = subparsers.add_parser("branch", help="create a branch at HEAD (and switch to it) or at --at REF")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--at", metavar="REF", default=None, help="create it at this version instead")
    _add_db(p)
    p.set_defaults(func=cmd_branch)

    p = subparsers.add_parser("export", help="write a version as .png, .jpg or layered .ora")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--version", metavar="REF", default="HEAD", help="version to export (default HEAD)")
    p.add_argument("--out", required=True, metavar="PATH", help="output file: .png, .jpg/.jpeg or .ora")
    p.add_argument("--mask", action="store_true", help="write the version's edit mask (PNG)")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists (the session's own photo included)")
    _add_db(p)
    p.set_defaults(func=cmd_export)
