"""Sessions out of and into files.

- json: one session is exactly its `infertui.session/1` document (what
  `probe --json` and `show --json` print); several are wrapped as
  `{"schema": "infertui.export/1", "sessions": [...]}`.
- csv: one row per probe with the main metrics (the probe JSON's fields).
- md: a readable report, per-target summary table and probe table.

`read_documents` accepts all the JSON shapes: a session document, an export
document, a list of session documents, or JSON Lines of session documents.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Iterator

from infertui.core.session import SCHEMA as SESSION_SCHEMA
from infertui.core.session import Session
from infertui.store import jsonsafe, sanitize
from infertui.store.errors import StoreError
from infertui.store.jsonsafe import session_document

EXPORT_SCHEMA = "infertui.export/1"
FORMATS = ("json", "csv", "md")

CSV_COLUMNS = (
    "session_id", "started_at", "host", "target", "provider", "model", "probe_id", "seq",
    "warmup", "status", "error_kind", "http_status", "ttft_ms", "ttft_any_ms", "ttfb_ms",
    "e2e_ms", "decode_tps", "output_tokens", "output_tokens_source", "input_tokens",
    "reasoning_tokens", "cached_tokens", "chunk_count", "event_count", "stall_ms", "queue_ms",
    "connect_ms", "finish_reason", "server_model", "request_id", "cost_usd", "sent_at",
    "error_message",
)


def to_json(sessions: list[Session]) -> str:
    if len(sessions) == 1:
        doc: dict[str, Any] = session_document(sessions[0])
    else:
        doc = {"schema": EXPORT_SCHEMA, "sessions": [session_document(s) for s in sessions]}
    return jsonsafe.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def csv_rows(sessions: Iterable[Session]) -> Iterator[dict[str, Any]]:
    for session in sessions:
        for probe in session.to_json()["probes"]:
            error = probe.get("error") or {}
            target = probe["target"]
            row = {k: probe.get(k) for k in CSV_COLUMNS}
            row.update(session_id=session.session_id, started_at=session.started_at,
                       host=session.host, target=f"{target['provider']}/{target['model']}",
                       provider=target["provider"], model=target["model"],
                       error_kind=error.get("kind"), error_message=error.get("message"))
            yield row


def to_csv(sessions: list[Session]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(sessions):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def session_markdown(session: Session) -> str:
    doc = session.to_json()
    p, st = doc["params"], doc["settings"]
    lines = [f"## Session {session.session_id}", ""]
    lines.append(f"- started: {session.started_at}; finished: {session.finished_at or '–'}")
    if session.host:
        lines.append(f"- host: {session.host}")
    lines.append(f"- max_tokens {p['max_tokens']}, temperature {_cell(p['temperature'], 2)}, "
                 f"reasoning {_cell(p['reasoning'])}; repeat {st['repeat']}, concurrency "
                 f"{st['concurrency']}, warm-up {st['warmup']}, nonce {st['nonce']}")
    if session.notes:
        lines.append(f"- notes: {session.notes}")
    lines += ["", "Prompt:", ""]
    lines += ["> " + line for line in (p["prompt"] or "").splitlines() or [""]]
    lines += ["", "### Summary (ok, non-warm-up probes; ms unless noted)", ""]
    rows = []
    for row in doc["summary"]:
        t = row["target"]
        rows.append([f"{t['provider']}/{t['model']}", str(row["n"]), str(row["ok"]),
                     str(row["errors"]), _cell(row["ttft_ms"]["p50"]), _cell(row["ttft_ms"]["p95"]),
                     _cell(row["ttft_ms"]["p99"]), _cell(row["e2e_ms"]["p50"]),
                     _cell(row["decode_tps"]["p50"], 1), _cell(row["cost_per_ok_usd"], 6),
                     ", ".join(f"{k} {v}" for k, v in row["error_kinds"].items()) or "–"])
    lines += _table(["target", "n", "ok", "err", "ttft p50", "ttft p95", "ttft p99", "e2e p50",
                     "tok/s p50", "$/ok", "errors"], rows)
    lines += ["", "### Probes", ""]
    rows = []
    for pr in doc["probes"]:
        t = pr["target"]
        error = pr.get("error") or {}
        outcome = pr["status"] if not error else f"{error.get('kind')}: {error.get('message')}"
        seq = f"{pr['seq']} (warm-up)" if pr["warmup"] else str(pr["seq"])
        rows.append([f"{t['provider']}/{t['model']}", seq, _cell(outcome)[:80], _cell(pr["ttft_ms"]), _cell(pr["e2e_ms"]),
                     _cell(pr["decode_tps"], 1), _cell(pr["output_tokens"]),
                     _cell(pr["finish_reason"])])
    lines += _table(["target", "seq", "status", "ttft", "e2e", "tok/s", "tokens", "finish"], rows)
    return "\n".join(lines) + "\n"


def to_markdown(sessions: list[Session]) -> str:
    head = "# infertui sessions\n\n" if len(sessions) > 1 else ""
    return head + "\n".join(session_markdown(s) for s in sessions)


def render(sessions: list[Session], fmt: str) -> str:
    # Every value writable, whatever a server sent (see sanitize.py).
    sessions = [sanitize.session(s) for s in sessions]
    if fmt == "json":
        return to_json(sessions)
    if fmt == "csv":
        return to_csv(sessions)
    if fmt == "md":
        return to_markdown(sessions)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def _session_docs(value: Any, source: str) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [doc for item in value for doc in _session_docs(item, source)]
    if not isinstance(value, dict):
        raise StoreError(f"{source}: not an infertui export (found {type(value).__name__})")
    schema = value.get("schema")
    if schema == SESSION_SCHEMA:
        return [value]
    if schema == EXPORT_SCHEMA:
        return _session_docs(value.get("sessions") or [], source)
    raise StoreError(f"{source}: not an infertui export (schema {schema!r}; expected "
                     f"{SESSION_SCHEMA} or {EXPORT_SCHEMA})")


def read_documents(text: str, source: str = "<input>") -> list[dict[str, Any]]:
    """Every session document in an export file's text."""
    try:
        return _read_documents(text, source)
    except RecursionError:
        raise StoreError(f"{source}: nested too deeply to be an infertui export") from None


def _read_documents(text: str, source: str) -> list[dict[str, Any]]:
    try:
        return _session_docs(json.loads(text), source)
    except json.JSONDecodeError as whole:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise StoreError(f"{source}:{whole.lineno}: not JSON: {whole.msg}") from None
        docs = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs += _session_docs(json.loads(line), f"{source}:{number}")
            except json.JSONDecodeError as exc:
                raise StoreError(f"{source}:{number}: not JSON: {exc.msg}") from None
        return docs
