"""Versioned layer history in SQL (SQLite by default, PostgreSQL through the same URL).

Import the pieces you need (`storage.history.HistoryStore`, `storage.errors`, `storage.config`);
this package module itself stays light so that `zone history` starts fast.
"""
