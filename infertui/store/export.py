"""Sessions out of and into files.

- json: one session is exactly its `infertui.session/1` document (what
  `probe --json` and `show --json` print); several are wrapped as
  `{"schema": "infertui.export/1", "sessions": [...]}`.
- csv: one row per probe with the main metrics (the probe JSON's fields),
  in the tables' order; yes/no for flags, empty cells for nothing.
- md: a readable report, per-target summary table and probe table, with
  data shown literally (code spans, a fenced prompt) and marks explained:
  `~` estimated token counts, `†` probes timed while the client lagged.

`read_documents` accepts all the JSON shapes: a session document, an export
document, a list of session documents, or JSON Lines of session documents.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Iterable, Iterator

from infertui import units
from infertui.core.result import ProbeResult
from infertui.core.session import SCHEMA as SESSION_SCHEMA
from infertui.core.session import Session, probe_to_json
from infertui.store import jsonsafe, sanitize
from infertui.store.errors import StoreError
from infertui.store.jsonsafe import session_document
from infertui.textsafe import display, one_line

EXPORT_SCHEMA = "infertui.export/1"
FORMATS = ("json", "csv", "md")

CSV_COLUMNS = (
    "session_id", "started_at", "host", "target", "provider", "model", "probe_id", "seq",
    "warmup", "status", "error_kind", "http_status", "ttft_ms", "ttft_any_ms", "ttfb_ms",
    "e2e_ms", "decode_tps", "output_tokens", "output_tokens_source", "input_tokens",
    "reasoning_tokens", "cached_tokens", "chunk_count", "event_count", "stall_ms", "queue_ms",
    "connect_ms", "finish_reason", "server_model", "request_id", "cost_usd", "sent_at",
    "client_saturated", "loop_lag_ms", "error_message",
)
# Columns holding yes/no (never Python's True/False).
_CSV_FLAGS = ("warmup", "client_saturated")
SATURATED_NOTE = ("timed while infertui's own event loop lagged over 10 ms (loop_lag_ms): "
                  "its timings may include up to that delay")
ESTIMATE_NOTE = "token count estimated: the server sent no usage"


def to_json(sessions: list[Session]) -> str:
    if len(sessions) == 1:
        doc: dict[str, Any] = session_document(sessions[0])
    else:
        doc = {"schema": EXPORT_SCHEMA, "sessions": [session_document(s) for s in sessions]}
    return jsonsafe.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def ordered_probes(session: Session) -> list[ProbeResult]:
    """Probes as the tables list them: targets in the session's order, each
    target's warm-ups first, then by repeat index (not completion order)."""
    order = {t.label: i for i, t in enumerate(session.targets)}
    return sorted(session.probes, key=lambda r: (order.get(r.target.label, len(order)),
                                                 r.target.label, not r.warmup, r.seq))


def _ordered_docs(session: Session) -> list[dict[str, Any]]:
    return [probe_to_json(r) for r in ordered_probes(session)]


def csv_rows(sessions: Iterable[Session]) -> Iterator[dict[str, Any]]:
    for session in sessions:
        for probe in _ordered_docs(session):
            error = probe.get("error") or {}
            target = probe["target"]
            row = {k: probe.get(k) for k in CSV_COLUMNS}
            row.update(session_id=session.session_id, started_at=session.started_at,
                       host=session.host, target=f"{target['provider']}/{target['model']}",
                       provider=target["provider"], model=target["model"],
                       error_kind=error.get("kind"), error_message=error.get("message"))
            for flag in _CSV_FLAGS:
                row[flag] = "yes" if row[flag] else "no"
            yield row


# A spreadsheet runs a cell that begins with one of these as a formula (a
# tab or CR in front of one is skipped by some); such a text cell is written
# with a leading ' which spreadsheets show and never run.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    """Empty for nothing; a string on one line, controls as visible escapes
    (one physical line per probe, and no terminal control in a file that
    may be printed), never the start of a formula. Numbers stay numbers."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = one_line(value)
    if value.startswith(_FORMULA_STARTS) or text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(sessions: list[Session]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(sessions):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


# --- Markdown ---------------------------------------------------------------------------
# Data from a provider or a file is shown as a code span (or a fenced block for
# the prompt): Markdown shows it literally, so a `[link](…)`, `<img …>` or
# `*` in an error body or a model id is text, not a link, HTML or emphasis.

def _code(value: Any) -> str:
    """`value` as an inline code span for a table cell: one line, controls
    as escapes, a fence longer than any run of backticks inside, `|` escaped."""
    text = one_line("" if value is None else value)
    if not text:
        return ""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _literal(value: Any) -> str:
    """Ids and times as they are when they hold nothing Markdown could read
    as syntax; otherwise a code span."""
    text = one_line("" if value is None else value)
    return text if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.:/+-]*|", text) else _code(text)


def _num(value: Any, digits: int = 0, mark: str = "") -> str:
    if value is None:
        return units.DASH
    return f"{mark}{value:.{digits}f}" if isinstance(value, float) else f"{mark}{value}"


def _fenced(text: str) -> list[str]:
    text = display(text)
    longest = max((len(run) for run in re.findall("`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [fence + "text", *text.splitlines(), fence]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _on_off(value: Any) -> str:
    return "provider default" if value is None else ("on" if value else "off")


def session_markdown(session: Session) -> str:
    doc = session.to_json()
    p, st = doc["params"], doc["settings"]
    probes = _ordered_docs(session)
    lines = [f"## Session {_literal(session.session_id)}", ""]
    lines.append(f"- started: {_literal(session.started_at)}; finished: "
                 f"{_literal(session.finished_at) or units.DASH}")
    if session.host:
        lines.append(f"- host: {_literal(session.host)}")
    temperature = "provider default" if p["temperature"] is None else _num(p["temperature"], 2)
    lines.append(f"- max_tokens {_num(p['max_tokens'])}, temperature {temperature}, "
                 f"reasoning {_on_off(p['reasoning'])}; repeat {st['repeat']}, concurrency "
                 f"{st['concurrency']}, warm-up {st['warmup']}, nonce "
                 f"{'yes' if st['nonce'] else 'no'}")
    if session.notes:
        lines.append(f"- notes: {_code(session.notes)}")
    if p.get("system"):
        lines += ["", "System prompt:", "", *_fenced(p["system"])]
    lines += ["", "Prompt:", "", *_fenced(p["prompt"] or "")]
    estimated = {_label(pr) for pr in probes
                 if not pr["warmup"] and pr["status"] == "ok"
                 and pr["output_tokens_source"] == "estimate"}
    saturated = {_label(pr) for pr in probes if not pr["warmup"] and pr["client_saturated"]}
    lines += ["", "### Summary (ok, non-warm-up probes)", ""]
    rows = []
    for row in doc["summary"]:
        label = f"{row['target']['provider']}/{row['target']['model']}"
        rows.append([_literal(label) + (" †" if label in saturated else ""), str(row["n"]),
                     str(row["ok"]), str(row["errors"]), str(row.get("cancelled", 0)),
                     units.ms(row["ttft_ms"]["p50"]), units.ms(row["ttft_ms"]["p95"]),
                     units.ms(row["ttft_ms"]["p99"]), units.ms(row["e2e_ms"]["p50"]),
                     _num(row["decode_tps"]["p50"], 1, "~" if label in estimated else ""),
                     _num(row["cost_per_ok_usd"], 6),
                     ", ".join(f"{_code(k)} {v}" for k, v in sorted(row["error_kinds"].items()))
                     or units.DASH])
    lines += _table(["target", "n", "ok", "err", "cancelled", "ttft p50", "ttft p95",
                     "ttft p99", "e2e p50", "tok/s p50", "$/ok", "errors"], rows)
    lines += ["", "### Probes", ""]
    rows = []
    for pr in probes:
        error = pr.get("error") or {}
        mark = "~" if pr["output_tokens_source"] == "estimate" else ""
        outcome = (one_line(pr["status"]) if not error else
                   _code(f"{error.get('kind')}: {one_line(error.get('message') or '', 200)}"))
        seq = f"{pr['seq']} (warm-up)" if pr["warmup"] else str(pr["seq"])
        rows.append([_literal(_label(pr)), seq, outcome + (" †" if pr["client_saturated"] else ""),
                     units.ms(pr["ttft_ms"]), units.ms(pr["e2e_ms"]), _num(pr["decode_tps"], 1, mark),
                     _num(pr["output_tokens"], 0, mark), _code(pr["finish_reason"]) or units.DASH])
    lines += _table(["target", "seq", "status", "ttft", "e2e", "tok/s", "tokens", "finish"], rows)
    notes = []
    if estimated or any(pr["output_tokens_source"] == "estimate" for pr in probes):
        notes.append(f"~ {ESTIMATE_NOTE}.")
    if any(pr["client_saturated"] for pr in probes):
        notes.append(f"† {SATURATED_NOTE}.")
    if notes:
        lines += [""] + [f"{note}  " for note in notes[:-1]] + notes[-1:]
    return "\n".join(lines) + "\n"


def _label(probe: dict[str, Any]) -> str:
    return f"{probe['target']['provider']}/{probe['target']['model']}"


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
