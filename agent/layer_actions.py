"""Planning and running layer operations for the turn graph (no diffusion model is ever run).

`plan_layer_turn` turns an utterance into a planned layer operation (or a question, or None when
the words are an ordinary edit); `run_layer_op` commits it as a new version on HEAD.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from agent import reshape
from agent.layer_ops import MOVE_STEPS, LayerRequest, parse_layer_request
from agent.layer_refs import resolve_layer

DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def _option(layer) -> dict:
    return {"edit_id": layer.edit_id, "number": layer.number, "index": layer.index,
            "instruction": layer.instruction}


def store_args(request: LayerRequest, layer, width: int, height: int) -> tuple[str, dict]:
    """The store's operation and arguments for a request on `layer` (LayerInfo) in a W x H photo."""
    op, args = request.op, dict(request.args)
    if op == "opacity":
        value = args["opacity"] if "opacity" in args else layer.opacity + args["delta"]
        return "opacity", {"opacity": round(min(1.0, max(0.0, float(value))), 3)}
    if op == "move":
        ux, uy = DIRECTIONS[args["direction"]]
        side = width if ux else height
        px = int(args["pixels"]) if "pixels" in args else max(1, int(round(MOVE_STEPS[args["step"]] * side)))
        return "move", {"dx": ux * px, "dy": uy * px}
    if op == "scale":
        return "scale", {"factor": round(float(args["factor"]), 4)}
    if op in ("reshape", "point"):
        return "reshape", {"mode": args["mode"]}
    return op, {}


def plan_layer_turn(store: Any, session_id: str, text: str) -> Optional[dict]:
    """A partial TurnState for a layer operation in `text`, or None when it is not one."""
    request = parse_layer_request(text)
    if request is None:
        return None
    return plan_layer_request(store, session_id, request, text)


def layer_request_of(command: dict) -> LayerRequest:
    """The LayerRequest a typed layer command (`agent.state.check_command`'d) stands for."""
    args = {"opacity": float(command["opacity"])} if command["op"] == "opacity" else {}
    return LayerRequest(command["op"], str(command["ref"]), args)


def plan_layer_request(store: Any, session_id: str, request: LayerRequest, text: str) -> Optional[dict]:
    """A partial TurnState for one parsed or typed layer request; None when it names no layer and is weak."""
    stack = store.layer_stack(session_id)
    head = store.head(session_id)
    recent = head.op_args.get("target") if head.op else None
    found = resolve_layer(request.ref, stack, recent)
    if not request.strong and not found.candidates:
        return None  # "hide the cup" with no cup layer: an ordinary edit
    out: dict = {"intent": "layer", "action": None}
    if not stack:
        return {**out, "clarify": "no_layers"}
    if not found.candidates:
        return {**out, "clarify": "no_such_layer", "clarify_options": [_option(l) for l in stack]}
    if found.layer is None:
        return {**out, "clarify": "which_layer", "clarify_options": [_option(l) for l in found.candidates]}
    layer = found.layer
    session = store.get_session(session_id)
    op, args = store_args(request, layer, session.width, session.height)
    plan = {"op": op, "target": layer.edit_id, "args": args, "instruction": text.strip(),
            "layer": _option(layer), "source_id": layer.source_id, "point": request.op == "point"}
    return {**out, "layer_op": plan}


def _reshaped(store: Any, session_id: str, plan: dict, point: Optional[tuple[int, int]],
              get_engine: Callable[[], Any]):
    """The new (layer, mask, sources) of a reshape, cut from the layer's stored canvas."""
    from storage.types import EditSources

    source = store.resolve(session_id, plan["source_id"])
    sources = store.edit_sources(session_id, source.id)
    if sources is None:
        raise reshape.ReshapeError(f"v{plan['layer']['number']} was made before Zone kept each edit's canvas; "
                                   "its region cannot be reshaped (undo it and edit again)")
    canvas = np.asarray(sources.canvas)
    h, w = canvas.shape[:2]
    session = store.get_session(session_id)
    full_hw = (session.height, session.width)
    mode = plan["args"]["mode"]
    segment = None
    if mode == "point":
        segment = _segment(store, session_id, source, canvas, point, full_hw, get_engine)
    refined = sources.refined if source.op == "reshape" else None
    crop = store.placed_crop(session_id, source.id) if refined is None else None
    current = reshape.current_work_mask(refined, crop, full_hw, (h, w))
    mask_work = reshape.new_mask(mode, current, segment)
    layer, mask = reshape.layer_from_canvas(canvas, mask_work, full_hw)
    new_sources = EditSources(canvas=canvas, rough=sources.rough, refined=mask_work,
                              mask_params={**sources.mask_params, "reshape": mode})
    return layer, mask, new_sources


def _segment(store, session_id, source, canvas, point, full_hw, get_engine) -> np.ndarray:
    """The SAM segment containing `point` (image pixels), on the canvas, or the original for REMOVE."""
    if point is None:
        raise reshape.ReshapeError("point at the photo first: click on it (or move the cursor) and say 'edit only here'")
    x, y = int(point[0]), int(point[1])
    H, W = full_hw
    if not (0 <= x < W and 0 <= y < H):
        raise reshape.ReshapeError(f"the point {x},{y} is outside the {W}x{H} photo")
    h, w = canvas.shape[:2]
    image = canvas
    edit = store.resolve(session_id, (source.op_args or {}).get("target") or source.id)
    if edit.action == "remove":
        image = store.original(session_id)
        if image.shape[:2] != (h, w):
            from engine.imageio import resize_rgb

            image = resize_rgb(image, (h, w))
    engine = get_engine()
    if not hasattr(engine, "segments"):
        raise reshape.ReshapeError(f"the {getattr(engine, 'name', '')} engine cannot segment the photo")
    segments = engine.segments(np.ascontiguousarray(image))
    k = reshape.segment_at(segments, min(w - 1, x * w // W), min(h - 1, y * h // H))
    if k is None:
        raise reshape.ReshapeError("no segment contains that point; point somewhere else")
    return np.asarray(segments[k]).astype(bool)


def run_layer_op(store: Any, session_id: str, plan: dict, point: Optional[tuple[int, int]] = None,
                 get_engine: Callable[[], Any] = lambda: None) -> tuple[dict, Optional[str]]:
    """Commit a planned layer operation; returns (what was done, error message or None)."""
    from common.errors import error_kind, one_line
    from storage.errors import StorageError

    done: dict = {"op": plan["op"], "args": dict(plan["args"]), "layer": dict(plan["layer"])}
    try:
        extra: dict = {}
        if plan["op"] == "reshape":
            layer, mask, sources = _reshaped(store, session_id, plan, point, get_engine)
            extra = {"layer": layer, "mask": mask, "sources": sources}
            if plan["args"]["mode"] == "point" and point is not None:
                done["args"]["point"] = [int(point[0]), int(point[1])]
        version = store.layer_op(session_id, plan["op"], plan["target"], args=done["args"],
                                 instruction=plan["instruction"], **extra)
    except (StorageError, reshape.ReshapeError) as exc:
        done["error_kind"] = error_kind(exc)  # classified here, once
        return done, one_line(exc)
    done["version_id"], done["number"], done["parent_id"] = version.id, version.number, version.parent_id
    return done, None
