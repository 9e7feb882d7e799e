"""The history tree: every version, branches indented under their fork, HEAD marked."""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from common.text import printable

HEAD_MARK = "●"
NODE_MARK = "○"
LAYER_OP_MARK = "◇"  # a version that hides, fades, moves or reshapes an earlier edit's layer


def node_label(version: Any, number: int) -> Text:
    """'● v2 1a2b3c4d add a hat [main] HEAD': marker, number, short id, instruction, branches."""
    head = bool(getattr(version, "is_head", False))
    op = getattr(version, "op", None)
    mark = HEAD_MARK if head else LAYER_OP_MARK if op else NODE_MARK
    text = Text(f"{mark} ", style="bold green" if head else "dim")
    text.append(f"v{number} ", style="bold")
    text.append(f"{version.id[:8]} ", style="dim")
    if op:
        text.append("⧉ ", style="magenta")
    text.append(printable(version.instruction or "edit") if version.parent_id else "original")
    for name in getattr(version, "branches", []) or []:
        text.append("  ")
        text.append(f"⎇ {printable(name)}", style="cyan")
    if head:
        text.append("  ")
        text.append("HEAD", style="bold reverse green")
    return text


class HistoryTree(Tree[str]):
    """Versions as a tree. A version's oldest child continues its line; other children fork
    under it, so a long linear history stays flat and every branch is one indent deeper."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("history", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.head_id: str | None = None
        self._version_nodes: dict[str, TreeNode[str]] = {}
        self.numbers: dict[str, int] = {}

    def show_versions(self, versions: Iterable[Any]) -> None:
        """Rebuild from `VersionInfo`s (any order) and put the cursor on HEAD."""
        versions = sorted(versions, key=lambda v: (v.created_at, v.depth))
        children: dict[str | None, list[Any]] = {}
        for v in versions:
            children.setdefault(v.parent_id, []).append(v)
        self.numbers = {v.id: i for i, v in enumerate(versions)}
        self.head_id = next((v.id for v in versions if v.is_head), None)
        self.clear()
        self._version_nodes = {}

        def place(container: TreeNode[str], version: Any) -> None:
            # Walk the line iteratively (histories can be long); forks recurse one level deeper.
            while version is not None:
                kids = children.get(version.id, [])
                node = container.add(node_label(version, self.numbers[version.id]), data=version.id,
                                     expand=True, allow_expand=len(kids) > 1)
                self._version_nodes[version.id] = node
                for fork in kids[1:]:
                    place(node, fork)
                version = kids[0] if kids else None

        for root in children.get(None, []):
            place(self.root, root)
        self.root.expand()
        if self.head_id in self._version_nodes:
            self.call_after_refresh(self.move_to, self.head_id)

    def move_to(self, version_id: str) -> None:
        node = self._version_nodes.get(version_id)
        if node is not None:
            self.move_cursor(node)

    @property
    def selected_id(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None
