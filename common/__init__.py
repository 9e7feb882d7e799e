"""Pieces every Zone package shares (no torch, no SQLAlchemy, no Textual): safe file writing, safe text.

`common` is the bottom layer: engine, storage, agent and tui may import it; it imports none of them.
"""
