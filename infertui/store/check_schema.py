"""SQL of migration 4: the probe parameters added with the checks, and the
checks themselves (applied by `db.migrate`; never edited once released: a
change is a new migration).

- sessions gain the parameters stop (a JSON array), request_seed, top_p and
  json_output, and check_spec: the checks asked and the reference, as JSON
  (NULL when none were).
- probes gain check_step (a check probe's step, like "compliance.stop") and
  request (the request it sent, as JSON, never with a key); NULL for every
  other probe.
"""

V4_CHECKS = """
ALTER TABLE sessions ADD COLUMN stop TEXT;
ALTER TABLE sessions ADD COLUMN request_seed INTEGER;
ALTER TABLE sessions ADD COLUMN top_p REAL;
ALTER TABLE sessions ADD COLUMN json_output INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN check_spec TEXT;
ALTER TABLE probes ADD COLUMN check_step TEXT;
ALTER TABLE probes ADD COLUMN request TEXT;
"""
