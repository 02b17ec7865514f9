"""SQL for the results database (applied by `db.migrate`, never edited once
released: a change is a new migration).

- sessions: one comparison run; its parameters as columns.
- session_targets: the targets of a session, with a summary kept up to date
  at every probe commit (so history lists never read probes).
- probes: every field of a ProbeResult, times in integer nanoseconds, plus
  derived ttft/e2e/decode rates for summaries.
- timelines: one row per probe, the chunk timeline packed (see timeline.py).
- output_fts: a contentless full-text index of the output text. A probe's
  text is indexed when its session finishes (or an import lands, or a search
  runs), in one batch, not inside the probe's own commit: indexing 4,000
  chunks costs more than storing them. `timelines.indexed` says which rows
  the index holds, so a delete removes exactly what was added.
"""

V1_TABLES = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_at TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0,
    host TEXT,
    notes TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL,
    system TEXT,
    max_tokens INTEGER NOT NULL,
    temperature REAL,
    reasoning INTEGER,
    repeat_count INTEGER NOT NULL,
    concurrency INTEGER NOT NULL,
    warmup INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    probe_count INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_start ON sessions (started_ms DESC, id DESC);

CREATE TABLE session_targets (
    session_pk INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    listed INTEGER NOT NULL,
    label TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    base_url TEXT NOT NULL,
    api TEXT NOT NULL,
    price_input_per_mtok REAL,
    price_output_per_mtok REAL,
    n INTEGER NOT NULL DEFAULT 0,
    ok INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    ttft_p50 REAL,
    ttft_p95 REAL,
    e2e_p50 REAL,
    tps_p50 REAL,
    PRIMARY KEY (session_pk, position)
) WITHOUT ROWID;
CREATE INDEX session_targets_by_label ON session_targets (label);
CREATE INDEX session_targets_by_provider ON session_targets (provider);

CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    session_pk INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    target_pos INTEGER NOT NULL,
    probe_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    warmup INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_kind TEXT,
    error_message TEXT,
    error_http_status INTEGER,
    error_retry_after REAL,
    http_status INTEGER,
    sent_at TEXT,
    queue_ns INTEGER,
    connect_ns INTEGER,
    pre_send_ns INTEGER,
    sent_source TEXT,
    headers_ns INTEGER,
    first_byte_ns INTEGER,
    first_reasoning_ns INTEGER,
    first_content_ns INTEGER,
    last_token_ns INTEGER,
    end_ns INTEGER,
    event_count INTEGER NOT NULL,
    max_gap_ns INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    reasoning_tokens INTEGER,
    cached_tokens INTEGER,
    finish_reason TEXT,
    server_model TEXT,
    system_fingerprint TEXT,
    request_id TEXT,
    loop_lag_ms REAL,
    client_saturated INTEGER NOT NULL,
    nonce TEXT,
    chunk_count INTEGER NOT NULL,
    ttft_ms REAL,
    e2e_ms REAL,
    decode_tps REAL,
    UNIQUE (session_pk, probe_id)
);
CREATE INDEX probes_by_target ON probes (session_pk, target_pos);

CREATE TABLE timelines (
    probe_pk INTEGER PRIMARY KEY REFERENCES probes (id) ON DELETE CASCADE,
    offsets BLOB NOT NULL,
    kinds TEXT NOT NULL,
    lengths BLOB NOT NULL,
    text TEXT NOT NULL,
    indexed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX timelines_to_index ON timelines (probe_pk) WHERE indexed = 0;
"""

V1_FTS = """
CREATE VIRTUAL TABLE output_fts USING fts5 (
    text, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER timelines_fts_delete AFTER DELETE ON timelines WHEN old.indexed = 1 BEGIN
    INSERT INTO output_fts (output_fts, rowid, text) VALUES ('delete', old.probe_pk, old.text);
END;
"""

# Schema 2: where arrival stamps came from, sends repeated on a stale
# connection, and the output limit as sent.
V2_PROBE_COLUMNS = """
ALTER TABLE probes ADD COLUMN recv_source TEXT;
ALTER TABLE probes ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probes ADD COLUMN retry_reason TEXT;
ALTER TABLE probes ADD COLUMN max_tokens INTEGER;
"""
