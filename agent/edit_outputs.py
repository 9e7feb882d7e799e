"""What one `zone edit` turn made, as pictures: the result, the turn's layer, its mask, its figures."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np


class TurnPictures(NamedTuple):
    """The outputs of one turn of edits.

    composite: [H, W, 3] uint8, HEAD after the turn. layer: [H, W, 4] uint8, the turn's edits as
    one straight-alpha layer over the photo the turn started from (the version's own layer for a
    single edit). mask: [H, W] bool, where any edit of the turn applies. timings_ms: per stage,
    summed over the edits. params: the last edit's engine parameters.
    """

    composite: np.ndarray
    layer: np.ndarray
    mask: np.ndarray
    timings_ms: dict
    params: dict


def stack_layers(layers: Sequence[np.ndarray]) -> np.ndarray:
    """Porter-Duff "over" of straight-alpha RGBA layers, the first at the bottom: one RGBA layer.

    Composited over a photo it gives what the layers give one after another (up to rounding).

    Args:
        layers: [H, W, 4] uint8 each, same size.
    """
    rgb = np.zeros(layers[0].shape[:2] + (3,), np.float64)
    alpha = np.zeros(layers[0].shape[:2] + (1,), np.float64)
    for layer in layers:
        a = layer[..., 3:4] / 255.0
        rgb = layer[..., :3] * a + rgb * (1.0 - a)  # premultiplied
        alpha = a + alpha * (1.0 - a)
    straight = np.where(alpha > 0, rgb / np.maximum(alpha, 1e-12), 0.0)
    out = np.concatenate([straight, alpha * 255.0], axis=2)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def turn_pictures(service: Any, session_id: str, edits: Sequence[dict]) -> TurnPictures:
    """Read back the versions a turn committed (`TurnResult.edits`) as its outputs.

    Args:
        service: the ZoneService the turn ran on.
        edits: the turn's EditOutcome dicts, in order (at least one).
    """
    ids = [e["version_id"] for e in edits]
    layers = [service.layer(session_id, vid) for vid in ids]
    masks = [service.mask(session_id, vid).astype(bool) for vid in ids]
    versions = [service.version(session_id, vid) for vid in ids]
    timings: dict = {}
    for v in versions:
        for stage, ms in (v.timings_ms or {}).items():
            if isinstance(ms, (int, float)):
                timings[stage] = round(timings.get(stage, 0.0) + float(ms), 3)
    layer = layers[0] if len(layers) == 1 else stack_layers(layers)
    return TurnPictures(composite=service.render(session_id, ids[-1]), layer=layer,
                        mask=np.logical_or.reduce(masks), timings_ms=timings, params=dict(versions[-1].params))
