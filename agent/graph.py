"""The LangGraph state machine of one turn: understand -> edit | history | clarify -> respond."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agent import layer_replies, replies
from agent.history_ops import last_edit, last_edit_of, run_command, sibling_seed, sibling_seed_of
from agent.layer_actions import layer_request_of, plan_layer_request, plan_layer_turn, run_layer_op
from agent.protocols import Engine, Store
from agent.state import EditOutcome, PlannedEdit, TurnContext, TurnProgress, TurnState
from agent.understand import DEFAULT_TEXT_SCALE, understand
from common.errors import error_kind, one_line

log = logging.getLogger(__name__)


@dataclass
class GraphDeps:
    """What the nodes use: the history store, the classifier and a lazily built engine.

    base_seed: seed of a new edit = base_seed + number of edits already in the session, so the
    same script gives the same seeds. edit_params: extra EditParams fields (steps, work_size, ...).
    export_dir: where relative export paths go. confine_exports: refuse exports outside it (replay).
    """

    store: Store
    classify: Callable[[str], Any]
    get_engine: Callable[[], Engine]
    clarify_below: float = 0.5
    base_seed: int = 0
    edit_params: dict = field(default_factory=dict)
    export_dir: Path = Path(".")
    confine_exports: bool = False
    engine_ready: Callable[[], bool] = lambda: True


def _part_reporter(progress: Optional[Callable[[Any], None]], part: int, parts: int):
    """Engine progress for edit `part` of `parts`, as `TurnProgress` (None when nobody listens)."""
    if progress is None:
        return None

    def report(event: Any) -> None:
        progress(TurnProgress(event.stage, getattr(event, "step", 0), getattr(event, "total", 0),
                              getattr(event, "message", ""), part, parts))

    return report


def build_graph(deps: GraphDeps):
    """Compile the turn graph; `invoke({"session_id", "text"}, context=TurnContext(...))`."""

    def understand_node(state: TurnState, runtime: Runtime[TurnContext]) -> dict:
        if state.get("command"):  # a key or a dialog sent a typed command: nothing to understand
            return {"intent": state["command"]["intent"], "action": None, "nodes_run": ["understand"]}
        if state.get("layer_request"):  # a layers-panel key: a typed layer operation, no words to read
            request = layer_request_of(state["layer_request"])
            layered = plan_layer_request(deps.store, state["session_id"], request, state["text"])
            return {**(layered or {"intent": "layer", "clarify": "no_such_layer"}), "nodes_run": ["understand"]}
        action = state.get("forced_action")
        if action:  # `zone edit --action`: the user decided; one edit of the whole text
            edit: PlannedEdit = {"instruction": " ".join(state["text"].split()), "action": action,
                                 "kind": "new", "parent": None, "seed": None}
            return {"intent": "edit", "action": action, "edits": [edit], "nodes_run": ["understand"]}
        if not state.get("edit_only"):  # `zone edit` makes edits only
            layered = plan_layer_turn(deps.store, state["session_id"], state["text"])  # before the classifier
            if layered is not None:
                return {**layered, "nodes_run": ["understand"]}
        history = runtime.context.history if runtime.context is not None else None
        last = (last_edit_of(history.head, deps.store, state["session_id"]) if history is not None
                else last_edit(deps.store, state["session_id"]))
        base = float(deps.edit_params.get("text_scale", DEFAULT_TEXT_SCALE))
        plan = understand(state["text"], last, deps.classify, deps.clarify_below, base_text_scale=base)
        if state.get("edit_only") and not plan.get("edits") and not plan.get("clarify"):
            plan = {"intent": plan.get("intent", "unknown"), "action": None, "clarify": "not_an_edit",
                    "classification": plan.get("classification", {})}
        return {**plan, "nodes_run": ["understand"]}

    def route_by_intent(state: TurnState) -> Literal["clarify", "edit", "history", "layers", "respond"]:
        if state.get("clarify"):
            return "clarify"
        if state.get("layer_op"):
            return "layers"
        if state.get("edits"):
            return "edit"
        if state.get("command"):
            return "history"
        return "respond"  # help

    def clarify_node(state: TurnState, runtime: Runtime[TurnContext]) -> dict:
        history = runtime.context.history if runtime.context is not None else None
        head_id = history.head.id if history is not None else deps.store.head(state["session_id"]).id
        if state["clarify"] in layer_replies.CLARIFY:
            reply = layer_replies.clarify(state["clarify"], state.get("clarify_options"))
        else:
            reply = replies.clarify(state["clarify"])
        return {"reply": reply, "head_id": head_id, "nodes_run": ["clarify"]}

    def edit_node(state: TurnState, runtime: Runtime[TurnContext]) -> dict:
        from engine.api import EditParams  # no torch
        from engine.limits import SEED_MAX

        ctx = runtime.context or TurnContext()
        sid = state["session_id"]
        versions = _Versions(deps.store, sid, ctx.history)
        results: list[EditOutcome] = []
        error: Optional[str] = None
        kind: Optional[str] = None
        planned_edits = state["edits"]
        for part, planned in enumerate(planned_edits, start=1):
            report = _part_reporter(ctx.progress, part, len(planned_edits))
            try:
                parent = versions.get(planned.get("parent"))
                seed = planned.get("seed")
                if seed is None:
                    if planned["kind"] == "retry":
                        seed = versions.sibling_seed(parent.id, planned["instruction"])
                    else:
                        seed = (deps.base_seed + versions.edits()) % (SEED_MAX + 1)
                extra = {k: v for k, v in deps.edit_params.items() if k not in ("action", "seed")}
                if planned.get("text_scale") is not None:  # a relative follow-up ("a bit more")
                    extra["text_scale"] = float(planned["text_scale"])
                params = EditParams(action=planned["action"], seed=int(seed), **extra)
                if report is not None:
                    report(TurnProgress("edit", 0, 0, planned["instruction"]))
                    if not deps.engine_ready():
                        report(TurnProgress("start"))
                engine = deps.get_engine()
                image = deps.store.render(sid, parent.id)
                kwargs = {}
                if _takes_work_image(engine) and hasattr(deps.store, "preview"):
                    kwargs["work_image"] = deps.store.preview(sid, parent.id)
                result = engine.edit(image, planned["instruction"], params, progress=report,
                                     cancel=ctx.cancel, **kwargs)
                version = deps.store.commit(
                    sid, layer=result.layer, mask=result.mask, offset=tuple(result.offset),
                    composite=result.composite, instruction=planned["instruction"],
                    action=planned["action"], params=result.params or params.to_dict(),
                    timings_ms=result.timings_ms, parent=parent.id, sources=edit_sources(result))
            except Exception as exc:  # noqa: BLE001 - reported to the user; nothing is committed
                error, kind = one_line(exc), error_kind(exc)  # classified here, once
                if kind == "internal":
                    log.debug("edit failed", exc_info=exc)  # a bug: the traceback for debugging
                break
            versions.committed(version)
            results.append({
                "version_id": version.id, "parent_id": parent.id, "depth": version.depth,
                "number": version.number, "parent_number": parent.number,
                "instruction": planned["instruction"],
                "action": planned["action"], "kind": planned["kind"], "seed": int(seed),
                "mask_fraction": float(result.mask_fraction),
                "where": replies.where(result.mask, tuple(result.offset), tuple(result.composite.shape[:2])),
                "warnings": list(result.warnings), "text_scale": float(params.text_scale),
                **({"direction": planned["direction"]} if planned.get("direction") else {}),
            })
        return {"results": results, "error": error, "error_kind": kind, "nodes_run": ["edit"],
                "head_id": versions.head.id if versions.head is not None else None}

    def history_node(state: TurnState) -> dict:
        done, error = run_command(deps.store, state["session_id"], state["command"], deps.export_dir,
                                  confine=deps.confine_exports)
        return {"done": done, "error": error, "error_kind": done.get("error_kind"), "view": done.get("view"),
                "nodes_run": ["history"]}

    def layers_node(state: TurnState) -> dict:
        done, error = run_layer_op(deps.store, state["session_id"], state["layer_op"], state.get("point"),
                                   deps.get_engine)
        return {"done": done, "error": error, "error_kind": done.get("error_kind"), "nodes_run": ["layers"]}

    def respond_node(state: TurnState) -> dict:
        sid = state["session_id"]
        # An edit turn knows HEAD already (the last commit, or the context's); a command moved it.
        head_id = state.get("head_id") if state.get("edits") else None
        head_id = head_id or deps.store.head(sid).id
        if state.get("edits"):
            results = state.get("results") or []
            if state.get("error"):
                reply = replies.failed(state["error"], committed=len(results), kind=state.get("error_kind"))
            else:
                reply = replies.edited(results, meaningful=_meaningful(deps))
        elif state.get("command"):
            reply = replies.command(state.get("done") or {}, state.get("error"))
        elif state.get("layer_op"):
            reply = layer_replies.layer(state.get("done") or {}, state.get("error"))
        else:
            reply = replies.HELP
        return {"reply": reply, "head_id": head_id, "nodes_run": ["respond"]}

    graph = StateGraph(TurnState, context_schema=TurnContext)
    graph.add_node("understand", understand_node)
    graph.add_node("clarify", clarify_node)
    graph.add_node("edit", edit_node)
    graph.add_node("history", history_node)
    graph.add_node("layers", layers_node)
    graph.add_node("respond", respond_node)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", route_by_intent)
    graph.add_edge("edit", "respond")
    graph.add_edge("history", "respond")
    graph.add_edge("layers", "respond")
    graph.add_edge("clarify", END)
    graph.add_edge("respond", END)
    return graph.compile(name="zone-turn")


MASK_PARAM_KEYS = ("dilate_iterations", "edge_alpha", "fft_threshold", "closing_kernel", "d0", "min_region_px",
                   "work_hw", "segment_index", "segment_iou", "num_segments", "action")


def edit_sources(result: Any):
    """What a later reshape needs of an engine result (None when the engine gave no canvas)."""
    from storage.types import EditSources

    canvas = getattr(result, "canvas", None)
    if canvas is None:
        return None
    rough = getattr(result, "rough_mask", None)
    refined = getattr(result, "refined_mask", None)
    shape = canvas.shape[:2]
    params = result.params or {}
    return EditSources(canvas=canvas, rough=rough if rough is not None and rough.shape == shape else None,
                       refined=refined if refined is not None and refined.shape == shape else None,
                       mask_params={k: params[k] for k in MASK_PARAM_KEYS if k in params})


class _Versions:
    """The versions an edit turn works with: from the turn's context, else read from the store.

    Args:
        store: the HistoryStore.
        session_id: the session.
        history: a `storage.types.TurnContextInfo` (None: every lookup reads the store).
    """

    def __init__(self, store: Any, session_id: str, history: Any = None) -> None:
        self.store, self.session_id, self.history = store, session_id, history
        self.head = history.head if history is not None else None
        self.known = {v.id: v for v in ([history.head, history.head_parent] if history is not None else []) if v}
        self.made = 0

    def get(self, ref: Optional[str]) -> Any:
        """The version `ref` (None or HEAD: the current HEAD) names."""
        if ref in (None, "HEAD") and self.head is not None:
            return self.head
        if ref in self.known:
            return self.known[ref]
        return self.store.resolve(self.session_id, ref or "HEAD")

    def edits(self) -> int:
        """How many versions besides the original the session has now."""
        if self.history is None:
            return len(self.store.tree(self.session_id)) - 1
        return self.history.edits + self.made

    def sibling_seed(self, parent_id: str, instruction: str) -> int:
        """A seed no sibling with this instruction used (from the context when it has the siblings)."""
        h = self.history
        if h is not None and h.head.parent_id == parent_id and self.made == 0:
            return sibling_seed_of(h.siblings, parent_id, instruction)
        return sibling_seed(self.store, self.session_id, parent_id, instruction)

    def committed(self, version: Any) -> None:
        """A commit of this turn: it is HEAD now."""
        self.head = version
        self.known[version.id] = version
        self.made += 1


def _takes_work_image(engine: Any) -> bool:
    """Whether `engine.edit` takes `work_image=` (the real engine does; a wrapper or subclass may not)."""
    import inspect

    if not getattr(engine, "accepts_work_image", False):
        return False
    try:
        params = inspect.signature(engine.edit).parameters
    except (TypeError, ValueError):
        return False
    return "work_image" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _meaningful(deps: GraphDeps) -> bool:
    try:
        return bool(deps.get_engine().meaningful)
    except Exception:  # noqa: BLE001 - only used for wording
        return True
