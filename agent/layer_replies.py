"""The agent's one-sentence replies to layer operations, and its questions about which layer."""

from __future__ import annotations

from typing import Optional, Sequence

CLARIFY = {
    "no_layers": "There are no edits yet, so there is no layer to change; what should I edit?",
    "no_such_layer": "I can't tell which edit you mean; the layers are {options}. Say e.g. 'hide the second edit' or 'hide v{first}'.",
    "which_layer": "Which one do you mean: {options}? Say e.g. 'the second edit' or 'v{first}'.",
}


def _name(layer: dict) -> str:
    what = f" '{layer['instruction']}'" if layer.get("instruction") else ""
    return f"v{layer['number']}{what}"


def clarify(reason: str, options: Optional[Sequence[dict]] = None) -> str:
    """The question for `reason` (no_layers, no_such_layer, which_layer), naming the candidate layers."""
    options = list(options or [])
    names = [f"{_name(o)} (edit {o['index']})" for o in options]
    listed = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + (names[-1] if names else "")
    return CLARIFY[reason].format(options=listed, first=options[0]["number"] if options else 1)


def _percent(value: float) -> str:
    return f"{round(100 * float(value))}%"


def layer(done: dict, error: Optional[str]) -> str:
    """One sentence for a layer operation (or its error); says no model ran."""
    if error:
        msg = error.rstrip(".")
        return msg[:1].upper() + msg[1:] + "; nothing changed."
    name, args = _name(done.get("layer", {})), done.get("args", {})
    op = done.get("op")
    if op == "hide":
        what = f"Hid {name}"
    elif op == "show":
        what = f"Brought back {name}"
    elif op == "opacity":
        what = f"Set {name} to {_percent(args['opacity'])} opacity"
    elif op == "move":
        dx, dy = int(args.get("dx", 0)), int(args.get("dy", 0))
        parts = [f"{abs(dx)} px {'left' if dx < 0 else 'right'}"] if dx else []
        parts += [f"{abs(dy)} px {'up' if dy < 0 else 'down'}"] if dy else []
        what = f"Moved {name} {' and '.join(parts)}"
    elif op == "scale":
        what = f"Scaled {name} by {float(args['factor']):.3g}"
    else:
        mode = args.get("mode")
        what = {"grow": f"Grew the region of {name}", "shrink": f"Shrank the region of {name}",
                "whole": f"Used the whole edit of {name} (no mask)",
                "largest": f"Kept only the largest part of {name}",
                "point": f"Cut {name} to the segment you pointed at"}.get(mode, f"Reshaped {name}")
    return f"{what}: version v{done.get('number', '?')} (no diffusion was run; undo brings it back)."
