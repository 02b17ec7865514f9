"""Finding sessions by text: their prompt, system prompt and notes (substring,
case-insensitive for ASCII), and their outputs.

Outputs are searched through the FTS5 index when the SQLite build has it: the
text is matched as a phrase of whole words, the last word as a prefix
("tail lat" finds "tail latency"), case and accents folded. Without FTS5, or
for text that has no word in it ("?!"), outputs are scanned with LIKE. The
caller indexes pending outputs first (`Store.index_pending`).
"""

from __future__ import annotations

import sqlite3


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_query(text: str) -> str:
    """The text as one FTS5 phrase whose last token is a prefix."""
    return '"' + text.replace('"', '""') + '" *'


def find_sessions(conn: sqlite3.Connection, text: str, has_fts: bool) -> list[int]:
    """Row ids of matching sessions (any order)."""
    text = text.strip()
    if not text:
        return []
    like = _like(text)
    found = {row[0] for row in conn.execute(
        "SELECT id FROM sessions WHERE prompt LIKE ?1 ESCAPE '\\' OR system LIKE ?1 ESCAPE '\\'"
        " OR notes LIKE ?1 ESCAPE '\\'", (like,))}
    outputs: set[int] | None = None
    if has_fts and any(ch.isalnum() for ch in text):
        try:
            outputs = {row[0] for row in conn.execute(
                "SELECT DISTINCT p.session_pk FROM output_fts f JOIN probes p ON p.id = f.rowid"
                " WHERE output_fts MATCH ?", (fts_query(text),))}
        except sqlite3.OperationalError:
            outputs = None
    if outputs is None:
        outputs = {row[0] for row in conn.execute(
            "SELECT DISTINCT p.session_pk FROM timelines t JOIN probes p ON p.id = t.probe_pk"
            " WHERE t.text LIKE ? ESCAPE '\\'", (like,))}
    return sorted(found | outputs)
