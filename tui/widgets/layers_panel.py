"""The layers panel: the current version's layers (instruction, shown or hidden, opacity).

Keys act on the highlighted layer and hand the agent a typed layer command, never words to parse:
space or v toggles it ({"intent": "layer", "op": "hide", "ref": "v3"}, shown as "hide v3"), - and +
step its opacity by 10% ("set v3 to 40% opacity"). Each is a new version, so undo brings the old
state back.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

OPACITY_STEP = 0.1
SHOWN, HIDDEN = "◉", "○"


def layer_label(layer: Any) -> Text:
    """'◉ v2 add a hat  100%' (hidden: '○ v2 add a hat  hidden'); moved or scaled layers say so."""
    text = Text(f"{SHOWN if layer.visible else HIDDEN} ", style="bold green" if layer.visible else "dim")
    text.append(f"v{layer.number} ", style="bold")
    text.append(" ".join((layer.instruction or "edit").split())[:40], style="" if layer.visible else "dim")
    state = f"{round(100 * layer.opacity)}%" if layer.visible else "hidden"
    extra = []
    if layer.dx or layer.dy:
        extra.append(f"moved {layer.dx:+d},{layer.dy:+d}")
    if layer.scale != 1.0:
        extra.append(f"×{layer.scale:g}")
    text.append(f"  {state}" + (f" · {' · '.join(extra)}" if extra else ""), style="cyan")
    return text


class LayersPanel(OptionList):
    """One option per layer of HEAD, top-most first (as image editors list them)."""

    BINDINGS = [
        Binding("space,v", "toggle", "Show/hide", tooltip="Hide or show the highlighted layer"),
        Binding("minus", "opacity(-1)", "Fade", tooltip="Opacity of the highlighted layer -10%"),
        Binding("plus,equals_sign", "opacity(1)", "Strengthen", tooltip="Opacity of the highlighted layer +10%"),
    ]

    class Request(Message):
        """A key on the panel asks for a layer operation: the typed command and the line to show."""

        def __init__(self, text: str, command: dict[str, Any]) -> None:
            self.text = text
            self.command = command
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stack_layers: list[Any] = []

    def show_layers(self, layers: Iterable[Any] | None) -> None:
        """Rebuild from LayerInfo items (bottom-most first); None hides the panel (no layer support)."""
        self.display = layers is not None
        keep = self.highlighted_layer.edit_id if self.highlighted_layer is not None else None
        self.stack_layers = list(reversed(list(layers or [])))
        self.clear_options()
        if not self.stack_layers:
            self.add_option(Option(Text("no layers yet: every edit adds one", style="dim"), disabled=True))
            return
        self.add_options([Option(layer_label(l), id=l.edit_id) for l in self.stack_layers])
        index = next((i for i, l in enumerate(self.stack_layers) if l.edit_id == keep), 0)
        self.highlighted = index

    @property
    def highlighted_layer(self) -> Any:
        if self.highlighted is None or not self.stack_layers or self.highlighted >= len(self.stack_layers):
            return None
        return self.stack_layers[self.highlighted]

    def action_toggle(self) -> None:
        layer = self.highlighted_layer
        if layer is not None:
            op = "hide" if layer.visible else "show"
            self.post_message(self.Request(f"{'hide' if layer.visible else 'bring back'} v{layer.number}",
                                           {"intent": "layer", "op": op, "ref": f"v{layer.number}"}))

    def action_opacity(self, direction: int) -> None:
        layer = self.highlighted_layer
        if layer is None:
            return
        value = min(1.0, max(0.0, round(layer.opacity + direction * OPACITY_STEP, 1)))
        if value != layer.opacity:
            self.post_message(self.Request(f"set v{layer.number} to {round(100 * value)}% opacity",
                                           {"intent": "layer", "op": "opacity", "ref": f"v{layer.number}",
                                            "opacity": value}))
