"""What the chat would do with an utterance, as `zone classify` prints it: the one understanding path.

`explain` runs the same `agent.understand.understand` the conversation runs (grammar, control
frames, relative follow-ups, classifier), so `zone classify "red instead"` answers what the chat
would answer instead of what the classifier alone would say.
"""

from __future__ import annotations

from typing import Any, Optional

from agent.understand import LastEdit, understand

RULE_CONFIDENCE = 0.9  # reported when the grammar or a control frame decided and the classifier did not agree


def previous_edit(instruction: Optional[str], action: Optional[str] = None) -> Optional[LastEdit]:
    """A stand-in for the session's last edit, so "it", "instead" and "more" can be resolved offline.

    Args:
        instruction: the previous edit's instruction ("make his tie blue"), or None for none.
        action: its action; None reads it from the instruction.
    """
    if not instruction:
        return None
    from agent.understand import clause_action

    act = action or clause_action(instruction) or "change"
    return LastEdit(version_id="previous", parent_id="parent", instruction=instruction, action=act)


def explain(text: str, classify: Any, last: Optional[LastEdit] = None, clarify_below: float = 0.5) -> dict:
    """The chat's reading of `text`: {"text", "intent", "action", "confidence", "plan"}.

    `plan` holds what the chat would run: `edits` (instruction, action, kind after splitting
    compounds and resolving references), `command`, or `clarify` (why it would ask).

    Args:
        text: the utterance.
        classify: the classifier's `classify` (text -> Classification).
        last: the previous edit (see `previous_edit`), None at the original photo.
        clarify_below: the chat's threshold.
    """
    state = understand(text if isinstance(text, str) else str(text), last, classify, clarify_below)
    info = state.get("classification") or {}
    intent = state.get("intent") or "unknown"
    edits = [{k: e.get(k) for k in ("instruction", "action", "kind", "text_scale") if e.get(k) is not None}
             for e in state.get("edits") or []]
    action = state.get("action")
    if action is None and edits and len({e["action"] for e in edits}) == 1:
        action = edits[0]["action"]
    agrees = info.get("intent") == intent and (intent != "edit" or info.get("action") == action)
    if state.get("clarify") in ("empty", "too_long", "not_english", "unsupported"):
        confidence = 0.0 if not info else float(info.get("confidence") or 0.0)
    elif agrees and info.get("confidence") is not None:
        confidence = max(float(info["confidence"]), RULE_CONFIDENCE if not state.get("clarify") else 0.0)
    elif state.get("clarify") and intent == "unknown":
        confidence = float(info.get("confidence") or 0.0)
    else:
        confidence = RULE_CONFIDENCE
    plan: dict = {}
    if edits:
        plan["edits"] = edits
    if state.get("command"):
        plan["command"] = dict(state["command"])
    if state.get("clarify"):
        plan["clarify"] = state["clarify"]
    return {"text": text, "intent": intent, "action": action if intent in ("edit", "retry") else None,
            "confidence": round(min(1.0, max(0.0, confidence)), 4), "plan": plan}
