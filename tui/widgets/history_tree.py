"""The history tree: every version under its parent, with its stable number, branches and HEAD first."""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from common.text import printable, short_id

HEAD_MARK = "●"
NODE_MARK = "○"
LAYER_OP_MARK = "◇"  # a version that hides, fades, moves or reshapes an earlier edit's layer


def node_label(version: Any) -> Text:
    """'● v2 ⎇ main HEAD 1a2b3c4d add a hat': the labels first, so only the instruction is cut.

    Args:
        version: a `VersionInfo` (its stored `number`, `branches`, `is_head`, `id`, `instruction`).
    """
    head = bool(getattr(version, "is_head", False))
    op = getattr(version, "op", None)
    mark = HEAD_MARK if head else LAYER_OP_MARK if op else NODE_MARK
    text = Text(f"{mark} ", style="bold green" if head else "dim")
    text.append(f"v{version.number}", style="bold")
    for name in getattr(version, "branches", []) or []:
        text.append(" ")
        text.append(f"⎇ {printable(name)}", style="cyan")
    if head:
        text.append(" ")
        text.append("HEAD", style="bold reverse green")
    text.append(f" {short_id(version.id)} ", style="dim")
    if op:
        text.append("⧉ ", style="magenta")
    text.append(printable(version.instruction or "edit") if version.parent_id else "original")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class HistoryTree(Tree[str]):
    """Versions as a real tree: each child one level under its parent (a chain is a staircase, a
    sibling sits beside its sibling). Nothing collapses, so HEAD's branch is always open.

    Keys: arrows move (the picture previews the version), Enter previews it, Ctrl+O (the screen's)
    checks it out, and a printable key goes to the chat input (posted as `TypedAhead`).
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Preview", show=False),
        Binding("space", "select_cursor", "Preview", show=False),
    ]

    class TypedAhead(Message):
        """A printable key pressed in the tree: it belongs in the chat input."""

        def __init__(self, character: str) -> None:
            self.character = character
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("history", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.auto_expand = False  # Enter and clicks preview; they never fold a branch away
        self.head_id: str | None = None
        self._version_nodes: dict[str, TreeNode[str]] = {}
        self.numbers: dict[str, int] = {}

    def show_versions(self, versions: Iterable[Any]) -> None:
        """Rebuild from `VersionInfo`s (any order) and put the cursor on HEAD."""
        versions = sorted(versions, key=lambda v: v.number)
        children: dict[str | None, list[Any]] = {}
        for v in versions:
            children.setdefault(v.parent_id, []).append(v)
        self.numbers = {v.id: v.number for v in versions}
        self.head_id = next((v.id for v in versions if v.is_head), None)
        self.clear()
        self._version_nodes = {}
        stack: list[tuple[TreeNode[str], Any]] = [(self.root, v) for v in reversed(children.get(None, []))]
        while stack:  # iterative: a long chain must not hit the recursion limit
            container, version = stack.pop()
            kids = children.get(version.id, [])
            node = container.add(node_label(version), data=version.id, expand=True, allow_expand=False)
            self._version_nodes[version.id] = node
            stack.extend((node, kid) for kid in reversed(kids))
        self.root.expand()
        if self.head_id in self._version_nodes:
            self.call_after_refresh(self.move_to, self.head_id)

    def move_to(self, version_id: str) -> None:
        node = self._version_nodes.get(version_id)
        if node is not None:
            self.move_cursor(node)

    def depth_of(self, version_id: str) -> int:
        """How many levels under the top the version's node sits (0 for the original)."""
        node = self._version_nodes[version_id]
        depth = 0
        while node.parent is not None and node.parent is not self.root:
            node, depth = node.parent, depth + 1
        return depth

    def parent_of(self, version_id: str) -> str | None:
        """The version id of the node the version is drawn under (None at the top)."""
        parent = self._version_nodes[version_id].parent
        return parent.data if parent is not None and parent is not self.root else None

    @property
    def selected_id(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.key != "space":
            event.stop()
            event.prevent_default()
            self.post_message(self.TypedAhead(event.character))
