"""Between core values and table rows: probes, targets, and the summaries
`history` shows (kept per target so a list never reads probes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from infertui import units
from infertui.core import metrics
from infertui.core.result import ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.targets import Api, Provider, Target
from infertui.store import sanitize

PROBE_COLUMNS = (
    "session_pk", "target_pos", "probe_id", "seq", "warmup", "status", "error_kind",
    "error_message", "error_http_status", "error_retry_after", "http_status", "sent_at",
    "queue_ns", "connect_ns", "pre_send_ns", "sent_source", "headers_ns", "first_byte_ns",
    "first_reasoning_ns", "first_content_ns", "last_token_ns", "end_ns", "event_count",
    "max_gap_ns", "input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens",
    "finish_reason", "server_model", "system_fingerprint", "request_id", "loop_lag_ms",
    "client_saturated", "nonce", "chunk_count", "ttft_ms", "e2e_ms", "decode_tps",
    # schema 2
    "recv_source", "retries", "retry_reason", "max_tokens",
    # schema 3
    "phase", "chain", "chain_pos", "backoff_ns",
    # schema 4
    "check_step", "request",
)
INSERT_PROBE = (f"INSERT INTO probes ({', '.join(PROBE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(PROBE_COLUMNS))}) "
                "ON CONFLICT (session_pk, probe_id) DO NOTHING")
# What load_session reads back, in this order, after the probe's target position.
LOAD_COLUMNS = PROBE_COLUMNS[2:36] + PROBE_COLUMNS[39:]


def probe_values(session_pk: int, target_pos: int, r: ProbeResult, *,
                 sanitized: bool = False) -> tuple[Any, ...]:
    """The probes row of any result: values SQLite cannot take are cleaned
    or dropped to NULL first (see sanitize.py), unless the caller did."""
    if not sanitized:
        r = sanitize.probe(r)
    err = r.error
    u = r.usage
    return (
        session_pk, target_pos, r.probe_id, r.seq, int(r.warmup), str(r.status),
        str(err.kind) if err else None, err.message if err else None,
        err.http_status if err else None, err.retry_after if err else None,
        r.http_status, r.sent_at, r.queue_ns, r.connect_ns, r.pre_send_ns, r.sent_source,
        r.headers_ns, r.first_byte_ns, r.first_reasoning_ns, r.first_content_ns,
        r.last_token_ns, r.end_ns, r.event_count, r.max_gap_ns, u.input_tokens,
        u.output_tokens, u.reasoning_tokens, u.cached_tokens, r.finish_reason, r.server_model,
        r.system_fingerprint, r.request_id, r.loop_lag_ms, int(r.client_saturated), r.nonce,
        len(r.chunks), metrics.ttft_ms(r), metrics.e2e_ms(r), metrics.decode_tps(r),
        r.recv_source, r.retries, r.retry_reason, r.max_tokens,
        r.phase, r.chain, r.chain_pos, r.backoff_ns,
        r.check, None if r.request is None else json.dumps(r.request),
    )


def probe_from_row(row: Sequence[Any], target: Target) -> ProbeResult:
    (probe_id, seq, warmup, status, error_kind, error_message, error_http_status,
     error_retry_after, http_status, sent_at, queue_ns, connect_ns, pre_send_ns, sent_source,
     headers_ns, first_byte_ns, first_reasoning_ns, first_content_ns, last_token_ns, end_ns,
     event_count, max_gap_ns, input_tokens, output_tokens, reasoning_tokens, cached_tokens,
     finish_reason, server_model, system_fingerprint, request_id, loop_lag_ms,
     client_saturated, nonce, _chunk_count, recv_source, retries, retry_reason,
     max_tokens, phase, chain, chain_pos, backoff_ns, check_step, request) = row
    error = None
    if error_kind is not None:
        error = ProbeError(ErrorKind(error_kind), error_message or "", error_http_status,
                           error_retry_after)
    return ProbeResult(
        probe_id=probe_id, target=target, seq=seq, warmup=bool(warmup), status=Status(status),
        error=error, http_status=http_status, sent_at=sent_at, queue_ns=queue_ns,
        connect_ns=connect_ns, pre_send_ns=pre_send_ns, sent_source=sent_source,
        headers_ns=headers_ns, first_byte_ns=first_byte_ns,
        first_reasoning_ns=first_reasoning_ns, first_content_ns=first_content_ns,
        last_token_ns=last_token_ns, end_ns=end_ns, event_count=event_count,
        max_gap_ns=max_gap_ns,
        usage=Usage(input_tokens, output_tokens, reasoning_tokens, cached_tokens),
        finish_reason=finish_reason, server_model=server_model,
        system_fingerprint=system_fingerprint, request_id=request_id, loop_lag_ms=loop_lag_ms,
        client_saturated=bool(client_saturated), nonce=nonce, recv_source=recv_source,
        retries=retries or 0, retry_reason=retry_reason, max_tokens=max_tokens, phase=phase,
        chain=chain, chain_pos=chain_pos, backoff_ns=backoff_ns, check=check_step,
        request=None if request is None else json.loads(request),
    )


def target_values(session_pk: int, position: int, listed: bool, t: Target) -> tuple[Any, ...]:
    """Its base_url without userinfo or query string: a key may hide there."""
    t = sanitize.target(t)
    p = t.provider
    return (session_pk, position, int(listed), t.label, p.name, t.model, p.base_url,
            str(p.api), p.price_input_per_mtok, p.price_output_per_mtok)


INSERT_TARGET = ("INSERT INTO session_targets (session_pk, position, listed, label, provider, "
                 "model, base_url, api, price_input_per_mtok, price_output_per_mtok) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def target_from_row(provider: str, model: str, base_url: str, api: str,
                    price_in: float | None, price_out: float | None) -> Target:
    try:
        wire = Api(api)
    except ValueError:
        wire = Api.OPENAI
    return Target(Provider(name=provider, api=wire, base_url=sanitize.public_url(base_url),
                           price_input_per_mtok=price_in, price_output_per_mtok=price_out),
                  model)


# --- summaries -------------------------------------------------------------------

SUMMARY_SQL = ("SELECT warmup, status, ttft_ms, e2e_ms, decode_tps FROM probes "
               "WHERE session_pk = ? AND target_pos = ? AND (phase IS NULL OR phase != 'check')")
UPDATE_SUMMARY = ("UPDATE session_targets SET n = ?, ok = ?, errors = ?, cancelled = ?, "
                  "ttft_p50 = ?, ttft_p95 = ?, e2e_p50 = ?, tps_p50 = ? "
                  "WHERE session_pk = ? AND position = ?")


def summary_values(rows: Iterable[Sequence[Any]]) -> tuple[Any, ...]:
    """(n, ok, errors, cancelled, ttft p50, ttft p95, e2e p50, tok/s p50) as
    `metrics.summarize` counts them: warm-ups out, statistics over ok probes."""
    n = ok = errors = 0
    ttft: list[float] = []
    e2e: list[float] = []
    tps: list[float] = []
    for warmup, status, ttft_ms, e2e_ms, decode_tps in rows:
        if warmup:
            continue
        n += 1
        if status == Status.OK:
            ok += 1
            for values, v in ((ttft, ttft_ms), (e2e, e2e_ms), (tps, decode_tps)):
                if v is not None:
                    values.append(v)
        elif status == Status.ERROR:
            errors += 1
    return (n, ok, errors, n - ok - errors, metrics.percentile(ttft, 50),
            metrics.percentile(ttft, 95), metrics.percentile(e2e, 50), metrics.percentile(tps, 50))


@dataclass(frozen=True)
class TargetLine:
    """One target of a stored session, with its summary."""

    label: str
    provider: str
    model: str
    n: int
    ok: int
    errors: int
    cancelled: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    e2e_p50_ms: float | None
    decode_tps_p50: float | None

    def one_line(self) -> str:
        parts = [f"{self.label} {self.ok}/{self.n} ok"]
        if self.errors:
            parts.append(f"{self.errors} err")
        if self.ttft_p50_ms is not None:
            parts.append(f"ttft p50 {units.ms(self.ttft_p50_ms)} p95 {units.ms(self.ttft_p95_ms)}")
        if self.decode_tps_p50 is not None:
            parts.append(f"{self.decode_tps_p50:.0f} tok/s")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SessionRow:
    """A stored session as history lists it."""

    session_id: str
    started_at: str
    finished_at: str | None
    cancelled: bool
    host: str | None
    notes: str
    prompt: str
    probe_count: int
    imported: bool
    targets: tuple[TargetLine, ...]
    # When the session is a round of a campaign: which campaign, round,
    # concurrency level and kind ("cells" or "cold").
    campaign_id: str | None = None
    campaign_name: str | None = None
    campaign_round: int | None = None
    campaign_concurrency: int | None = None
    campaign_kind: str | None = None

    @property
    def campaign_label(self) -> str | None:
        """`NAME r2 c5`, `NAME r2 cold`: which campaign cell this session is."""
        if self.campaign_id is None:
            return None
        where = "cold" if self.campaign_kind == "cold" else (
            f"c{self.campaign_concurrency}" if self.campaign_concurrency is not None else "")
        return f"{self.campaign_name or self.campaign_id} r{self.campaign_round} {where}".rstrip()

    def summary_line(self, width: int = 48) -> str:
        prompt = " ".join(self.prompt.split())
        if len(prompt) > width:
            prompt = prompt[:width - 1] + "…"
        state = " (cancelled)" if self.cancelled else (
            " (unfinished)" if self.finished_at is None else "")
        targets = "; ".join(t.one_line() for t in self.targets)
        probes = "1 probe" if self.probe_count == 1 else f"{self.probe_count} probes"
        campaign = f"  [campaign {self.campaign_label}]" if self.campaign_id else ""
        return (f"{self.session_id}  {self.started_at}  {probes}{state}{campaign}  "
                f"\"{prompt}\"  {targets}")

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "targets"}
        out["targets"] = [t.to_json() for t in self.targets]
        return out


@dataclass(frozen=True)
class HistoryPoint:
    """One session's figures for one target, for "TTFT over time" charts."""

    session_id: str
    started_at: str
    n: int
    ok: int
    errors: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    e2e_p50_ms: float | None
    decode_tps_p50: float | None
