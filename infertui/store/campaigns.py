"""Campaigns in the results store: each is a set of ordinary sessions (its
rounds) tied to one campaign row.

A session that carries a campaign link (`Session.campaign`) records it when
the session itself is inserted, in the same transaction, whether it comes
from a live run or an import; so `infertui import` of campaign sessions from
several machines rebuilds their campaigns, one per vantage point.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Mapping

from infertui.core.session import Session
from infertui.store import queries
from infertui.store.errors import StoreError

LINK_KEYS = ("campaign_id", "name", "vantage", "started_at", "status", "finished_at",
             "round", "kind", "concurrency", "slot_at", "spec")


def record_link(conn: sqlite3.Connection, session_pk: int, link: Mapping[str, Any],
                imported: bool) -> None:
    """The campaign row (created on first sight) and this session's place in it."""
    status = link.get("status") or "running"
    started_at = link.get("started_at") or ""
    conn.execute(
        "INSERT INTO campaigns (campaign_id, name, vantage, spec, status, started_at, started_ms,"
        " finished_at, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (campaign_id) DO UPDATE SET status = excluded.status,"
        " finished_at = excluded.finished_at"
        " WHERE campaigns.status = 'running' AND excluded.status != 'running'",
        (link["campaign_id"], link.get("name") or "", link.get("vantage") or "unknown",
         json.dumps(link.get("spec") or {}, ensure_ascii=False), status, started_at,
         queries.iso_to_ms(started_at) if started_at else 0, link.get("finished_at"),
         int(imported)))
    campaign_pk = conn.execute("SELECT id FROM campaigns WHERE campaign_id = ?",
                               (link["campaign_id"],)).fetchone()[0]
    conn.execute("INSERT OR IGNORE INTO campaign_sessions (session_pk, campaign_pk, round, kind,"
                 " concurrency, slot_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (session_pk, campaign_pk, int(link.get("round") or 0), link.get("kind") or "cells",
                  link.get("concurrency"), link.get("slot_at")))


def link_for(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    """A stored session's campaign link, as `Session.campaign` holds it."""
    row = conn.execute(
        "SELECT c.campaign_id, c.name, c.vantage, c.started_at, c.status, c.finished_at,"
        " cs.round, cs.kind, cs.concurrency, cs.slot_at, c.spec FROM campaign_sessions cs"
        " JOIN campaigns c ON c.id = cs.campaign_pk JOIN sessions s ON s.id = cs.session_pk"
        " WHERE s.session_id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    out = dict(zip(LINK_KEYS, row))
    out["spec"] = json.loads(row[-1])
    return out


@dataclass(frozen=True)
class CampaignRow:
    """A stored campaign as `campaign list` shows it."""

    campaign_id: str
    name: str
    vantage: str
    status: str
    started_at: str
    finished_at: str | None
    rounds: int
    sessions: int
    probes: int
    imported: bool

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


_ROW_SQL = (
    "SELECT c.campaign_id, c.name, c.vantage, c.status, c.started_at, c.finished_at,"
    " count(DISTINCT cs.round), count(cs.session_pk), coalesce(sum(s.probe_count), 0),"
    " c.imported FROM campaigns c LEFT JOIN campaign_sessions cs ON cs.campaign_pk = c.id"
    " LEFT JOIN sessions s ON s.id = cs.session_pk {where} GROUP BY c.id"
    " ORDER BY c.started_ms DESC, c.id DESC")


class Campaigns:
    """Campaign reads and status writes over an open `Store` (its connection,
    lock and write transaction)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def list(self, name: str | None = None, limit: int | None = 50) -> list[CampaignRow]:
        where, params = ("WHERE c.name = ?", (name,)) if name else ("", ())
        sql = _ROW_SQL.format(where=where) + (f" LIMIT {int(limit)}" if limit else "")
        with self.store._reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [CampaignRow(*r[:9], bool(r[9])) for r in rows]

    def resolve(self, key: str) -> str:
        """A campaign id from an id, a unique prefix of one, `last`, or a
        campaign name (its newest run)."""
        key = key.strip()
        with self.store._reading() as conn:
            if key.lower() in ("last", "latest"):
                found = [r[0] for r in conn.execute(
                    "SELECT campaign_id FROM campaigns ORDER BY started_ms DESC, id DESC LIMIT 1")]
            else:
                found = [r[0] for r in conn.execute(
                    "SELECT campaign_id FROM campaigns WHERE campaign_id >= ? AND campaign_id < ?"
                    " ORDER BY campaign_id LIMIT 6", (key, key + "\U0010ffff"))] if key else []
                if not found and key:
                    found = [r[0] for r in conn.execute(
                        "SELECT campaign_id FROM campaigns WHERE name = ?"
                        " ORDER BY started_ms DESC, id DESC LIMIT 1", (key,))]
        if not found:
            raise StoreError(f"no campaign {key!r} in {self.store.path}")
        if len(found) > 1:
            raise StoreError(f"{key!r} matches several campaigns ({', '.join(found[:5])}): "
                             "give more of the id")
        return found[0]

    def session_ids(self, campaign_id: str) -> list[str]:
        with self.store._reading() as conn:
            return [r[0] for r in conn.execute(
                "SELECT s.session_id FROM campaign_sessions cs JOIN campaigns c ON c.id ="
                " cs.campaign_pk JOIN sessions s ON s.id = cs.session_pk WHERE c.campaign_id = ?"
                " ORDER BY cs.round, cs.kind, cs.concurrency", (campaign_id,))]

    def row(self, campaign_id: str) -> CampaignRow:
        sql = _ROW_SQL.format(where="WHERE c.campaign_id = ?")
        with self.store._reading() as conn:
            r = conn.execute(sql, (campaign_id,)).fetchone()
        if r is None:
            raise StoreError(f"no campaign {campaign_id!r} in {self.store.path}")
        return CampaignRow(*r[:9], bool(r[9]))

    def load_sessions(self, campaign_id: str) -> list[Session]:
        return [self.store.load_session(sid) for sid in self.session_ids(campaign_id)]

    def set_status(self, campaign_id: str, status: str, finished_at: str | None) -> None:
        with self.store._write() as conn:
            conn.execute("UPDATE campaigns SET status = ?, finished_at = ? WHERE campaign_id = ?",
                         (status, finished_at, campaign_id))

    def vantage_peers(self, name: str) -> list[CampaignRow]:
        """The newest campaign of this name from each vantage point, newest first."""
        seen: dict[str, CampaignRow] = {}
        for row in self.list(name=name, limit=None):
            seen.setdefault(row.vantage, row)
        return list(seen.values())
