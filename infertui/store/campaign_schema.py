"""SQL of migration 3: campaigns (applied by `db.migrate`; never edited once
released: a change is a new migration).

- probes gain a campaign's view of each probe: phase, chain, position in the
  chain, and the Retry-After wait before it (NULL outside campaigns).
- campaigns: one row per campaign run on one machine (its vantage point),
  with its spec as JSON and its status.
- campaign_sessions: which sessions are a campaign's rounds, and which round,
  kind ("cells" or "cold") and concurrency level each one is. Deleting a
  session removes its link; a campaign whose last session goes goes too.
"""

V3_CAMPAIGNS = """
ALTER TABLE probes ADD COLUMN phase TEXT;
ALTER TABLE probes ADD COLUMN chain INTEGER;
ALTER TABLE probes ADD COLUMN chain_pos INTEGER;
ALTER TABLE probes ADD COLUMN backoff_ns INTEGER;

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    campaign_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    vantage TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_at TEXT,
    imported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_by_start ON campaigns (started_ms DESC, id DESC);
CREATE INDEX campaigns_by_name ON campaigns (name, started_ms DESC);

CREATE TABLE campaign_sessions (
    session_pk INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    campaign_pk INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    round INTEGER NOT NULL,
    kind TEXT NOT NULL,
    concurrency INTEGER,
    slot_at TEXT
);
CREATE INDEX campaign_sessions_by_campaign ON campaign_sessions (campaign_pk, round);

CREATE TRIGGER campaign_sessions_last_gone AFTER DELETE ON campaign_sessions
WHEN NOT EXISTS (SELECT 1 FROM campaign_sessions WHERE campaign_pk = old.campaign_pk)
BEGIN
    DELETE FROM campaigns WHERE id = old.campaign_pk;
END;
"""
