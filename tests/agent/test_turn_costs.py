"""What one turn costs outside the models: its database transactions, what it decodes, what it reuses."""

from __future__ import annotations

import numpy as np
from sqlalchemy import event

from storage.db import WRITE_OPTION
from tests.agent.fakes import make_photo, make_service


def _count_transactions(store) -> list[bool]:
    """Record every transaction the store begins: True for a write, False for a read."""
    seen: list[bool] = []
    event.listen(store._engine, "begin", lambda conn: seen.append(bool(conn.get_execution_options().get(WRITE_OPTION))))
    return seen


def test_an_edit_turn_reads_once_commits_once_and_stores_its_messages_once(tmp_path):
    service, session, engine = make_service(tmp_path)
    first = service.handle(session.id, "make his tie blue")
    assert first.error is None
    seen = _count_transactions(service.store)
    r = service.handle(session.id, "make the sky pink")
    assert r.error is None and len(r.edits) == 1
    assert seen.count(False) == 1  # the turn's context: HEAD, its parent and siblings, the edit count
    assert seen.count(True) == 2  # the commit, then the user's message and the reply together
    assert [m.role for m in service.messages(session.id)][-2:] == ["user", "assistant"]
    # The engine got the parent's preview as its work-image source, and the parent from memory.
    assert engine.work_images[-1] == service.store.preview(session.id, first.version_id).shape
    service.close()


def test_the_engines_composite_is_the_render_byte_for_byte(tmp_path):
    service, session, engine = make_service(tmp_path)
    r = service.handle(session.id, "make his tie blue")
    shown = service.render(session.id, r.version_id)
    from storage.history import HistoryStore

    fresh = HistoryStore(service.store.url)  # recomposed from the stored crop
    assert np.array_equal(fresh.render(session.id, r.version_id), shown)
    fresh.close()
    service.close()


def test_the_pane_view_never_decodes_a_full_size_image(tmp_path, monkeypatch):
    from agent.service import ZoneService
    from storage.history import HistoryStore

    photo = make_photo(tmp_path / "big.png", (1300, 1500))  # larger than a preview (1024)
    service, session, _ = make_service(tmp_path)
    big = service.open_image(photo)
    for text in ("make his tie blue", "make the sky pink"):
        assert service.handle(big.id, text).error is None
    service.close()

    import storage.codec as codec

    decoded: list[tuple[int, ...]] = []
    real = codec.decode_pixels

    def spy(data, mode, label):
        out = real(data, mode, label)
        decoded.append(out.shape)
        return out

    for module in ("storage.blobs", "storage.codec"):
        monkeypatch.setattr(f"{module}.decode_pixels", spy)
    cold = ZoneService(store=HistoryStore(service.store.url), engine_factory=lambda: None)
    for name in ("result", "original", "layer", "mask", "diff"):
        picture = cold.view(big.id, name, "HEAD", size=(400, 300))
        assert picture.shape[1] <= 400 and picture.shape[0] <= 300 and picture.dtype == np.uint8
    assert decoded, "the views read something"
    assert all(shape[0] * shape[1] < 1300 * 1500 for shape in decoded), decoded
    full = cold.view(big.id, "result", "HEAD")  # without a size: the full-resolution picture
    assert full.shape == (1300, 1500, 3)
    cold.close()
