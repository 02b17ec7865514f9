"""A session: one comparison run (targets x prompt x parameters) and its probes,
and its JSON document, schema `infertui.session/1`, which `probe --json`,
`show --json`, export and import all share."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from infertui.core import metrics
from infertui.core.result import (
    Chunk,
    ChunkKind,
    ErrorKind,
    ProbeError,
    ProbeResult,
    Status,
    Usage,
)
from infertui.core.targets import Api, ProbeParams, Provider, Target, public_url

SCHEMA = "infertui.session/1"


def new_session_id() -> str:
    """Time-sortable and unique across machines: 12 hex digits of milliseconds
    since the epoch, then 10 random hex digits."""
    return f"{int(time.time() * 1000):012x}{os.urandom(5).hex()}"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class RunSettings:
    repeat: int = 1
    concurrency: int = 1  # per target
    warmup: int = 0  # per target, run first, excluded from statistics
    nonce: bool = False  # prefix each prompt with a unique nonce (defeats caches)

    def to_json(self) -> dict[str, Any]:
        return {"repeat": self.repeat, "concurrency": self.concurrency,
                "warmup": self.warmup, "nonce": self.nonce}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RunSettings:
        data = data or {}
        return cls(repeat=int(data.get("repeat", 1)), concurrency=int(data.get("concurrency", 1)),
                   warmup=int(data.get("warmup", 0)), nonce=bool(data.get("nonce", False)))


@dataclass
class Session:
    session_id: str
    started_at: str
    params: ProbeParams
    targets: list[Target]
    settings: RunSettings = field(default_factory=RunSettings)
    probes: list[ProbeResult] = field(default_factory=list)
    finished_at: str | None = None
    notes: str = ""
    host: str | None = None  # where it was measured (imports merge machines)
    # The campaign this session is a round of (see core/campaign/link.py);
    # None for an ordinary comparison.
    campaign: dict[str, Any] | None = None
    # Checks asked of this session's targets: {"checks": [...], "reference":
    # label or None} (see core/checks); None when none were.
    check_spec: dict[str, Any] | None = None

    def summary(self) -> list[metrics.TargetSummary]:
        return metrics.summarize(self.probes, order=[t.label for t in self.targets])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "session_id": self.session_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "host": self.host,
            "notes": self.notes,
            "params": self.params.to_json(),
            "settings": self.settings.to_json(),
            "targets": [t.to_json() for t in self.targets],
            "probes": [probe_to_json(p) for p in self.probes],
            "summary": [row.to_json() for row in self.summary()],
            **({"campaign": self.campaign} if self.campaign else {}),
            **({"checks": self.checks_json()} if self.check_spec else {}),
        }

    def checks_json(self) -> dict[str, Any]:
        """The checks asked and, per target, their results (core/checks)."""
        from infertui.core.checks.results import checks_by_target

        spec = self.check_spec or {}
        reference = spec.get("reference")
        labels = [t.label for t in self.targets]
        if reference and reference not in labels:
            labels.append(reference)
        return {"asked": list(spec.get("checks") or ()), "reference": reference,
                "targets": checks_by_target(self.probes, labels, reference)}


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def probe_to_json(r: ProbeResult) -> dict[str, Any]:
    count, source = metrics.output_tokens(r)
    return {
        "probe_id": r.probe_id,
        "target": r.target.to_json(),
        "seq": r.seq,
        "warmup": r.warmup,
        "status": str(r.status),
        "error": r.error.to_json() if r.error else None,
        "http_status": r.http_status,
        "sent_at": r.sent_at,
        "ttft_ms": _r(metrics.ttft_ms(r)),
        "ttft_any_ms": _r(metrics.ttft_any_ms(r)),
        "ttfb_ms": _r(metrics.ttfb_ms(r)),
        "e2e_ms": _r(metrics.e2e_ms(r)),
        "decode_tps": _r(metrics.decode_tps(r), 2),
        "itl_ms": _r(metrics.itl_ms(r)),
        "queue_ms": _r(metrics.queue_ms(r)),
        "connect_ms": _r(metrics.connect_ms(r)),
        "pre_send_ms": _r(metrics._ms(r.pre_send_ns)),
        "sent_source": r.sent_source,
        "recv_source": r.recv_source,
        "retries": r.retries,
        "retry_reason": r.retry_reason,
        "max_tokens": r.max_tokens,
        "first_byte_ms": _r(metrics._ms(r.first_byte_ns)),
        "end_ms": _r(metrics._ms(r.end_ns)),
        "stall_ms": _r(metrics.stall_ms(r)),
        "chunk_count": len(r.chunks),
        "event_count": r.event_count,
        "output_tokens": count,
        "output_tokens_source": source,
        "decode_tokens": metrics.decode_tokens(r),
        "input_tokens": r.usage.input_tokens,
        "reasoning_tokens": r.usage.reasoning_tokens,
        "cached_tokens": r.usage.cached_tokens,
        "usage_output_tokens": r.usage.output_tokens,
        "finish_reason": r.finish_reason,
        "text": r.text,
        "reasoning_text": r.reasoning_text,
        # Offsets from request sent, ms, µs precision; kinds align with times.
        "chunk_times_ms": [round(c.offset_ns / 1e6, 3) for c in r.chunks],
        "chunk_kinds": "".join("r" if c.kind is ChunkKind.REASONING else "c" for c in r.chunks),
        "chunk_texts": [c.text for c in r.chunks],
        "server_model": r.server_model,
        "system_fingerprint": r.system_fingerprint,
        "request_id": r.request_id,
        "loop_lag_ms": _r(r.loop_lag_ms),
        "client_saturated": r.client_saturated,
        "nonce": r.nonce,
        "cost_usd": metrics.cost_usd(r),
        **(_campaign_fields(r) if r.phase is not None else {}),
        **({"check": r.check, "request": r.request} if r.check is not None else {}),
    }


def _campaign_fields(r: ProbeResult) -> dict[str, Any]:
    return {"phase": r.phase, "chain": r.chain, "chain_pos": r.chain_pos,
            "backoff_ms": _r(metrics._ms(r.backoff_ns))}


def _ns(ms: float | None) -> int | None:
    return None if ms is None else round(ms * 1_000_000)


def target_from_json(data: dict[str, Any], providers: dict[str, Provider] | None = None) -> Target:
    """Rebuild a target; a known provider of the same name and URL is reused
    (so prices and settings come back), else a bare one is made."""
    name = data["provider"]
    known = (providers or {}).get(name)
    if known is not None and public_url(known.base_url) == data.get("base_url", public_url(known.base_url)):
        # The prices recorded with the measurement win over today's config.
        prices = {k: data[k] for k in ("price_input_per_mtok", "price_output_per_mtok")
                  if data.get(k) is not None}
        return Target(replace(known, **prices) if prices else known, data["model"])
    return Target(Provider(name=name, api=Api(data.get("api", "openai")),
                           base_url=data.get("base_url", ""),
                           price_input_per_mtok=data.get("price_input_per_mtok"),
                           price_output_per_mtok=data.get("price_output_per_mtok")), data["model"])


def probe_from_json(data: dict[str, Any], providers: dict[str, Provider] | None = None) -> ProbeResult:
    times = data.get("chunk_times_ms") or []
    kinds = data.get("chunk_kinds") or "c" * len(times)
    texts = data.get("chunk_texts")
    if texts is None:  # an export without per-chunk text: keep the timeline, text on the last chunk
        texts = [""] * len(times)
    chunks = [
        Chunk(_ns(t) or 0, ChunkKind.REASONING if k == "r" else ChunkKind.CONTENT, s)
        for t, k, s in zip(times, kinds, texts, strict=False)  # a document's lists may disagree
    ]
    ttft = _ns(data.get("ttft_ms"))
    ttft_any = _ns(data.get("ttft_any_ms"))
    first_reasoning = ttft_any if ttft_any is not None and ttft_any != ttft else None
    if first_reasoning is None:
        first_reasoning = next((c.offset_ns for c in chunks if c.kind is ChunkKind.REASONING), None)
    return ProbeResult(
        probe_id=data["probe_id"],
        target=target_from_json(data["target"], providers),
        seq=int(data.get("seq", 0)),
        warmup=bool(data.get("warmup", False)),
        status=Status(data["status"]),
        error=ProbeError.from_json(data.get("error")),
        http_status=data.get("http_status"),
        sent_at=data.get("sent_at"),
        queue_ns=_ns(data.get("queue_ms")),
        connect_ns=_ns(data.get("connect_ms")),
        pre_send_ns=_ns(data.get("pre_send_ms")),
        sent_source=data.get("sent_source"),
        recv_source=data.get("recv_source"),
        retries=int(data.get("retries") or 0),
        retry_reason=data.get("retry_reason"),
        max_tokens=data.get("max_tokens"),
        headers_ns=_ns(data.get("ttfb_ms")),
        first_byte_ns=_ns(data.get("first_byte_ms")),
        first_reasoning_ns=first_reasoning,
        first_content_ns=ttft,
        last_token_ns=_ns(data.get("e2e_ms")),
        end_ns=_ns(data.get("end_ms")),
        chunks=chunks,
        event_count=int(data.get("event_count") or 0),
        max_gap_ns=_ns(data.get("stall_ms")),
        usage=Usage(
            input_tokens=data.get("input_tokens"),
            output_tokens=data.get("usage_output_tokens"),
            reasoning_tokens=data.get("reasoning_tokens"),
            cached_tokens=data.get("cached_tokens"),
        ),
        finish_reason=data.get("finish_reason"),
        server_model=data.get("server_model"),
        system_fingerprint=data.get("system_fingerprint"),
        request_id=data.get("request_id"),
        loop_lag_ms=data.get("loop_lag_ms"),
        client_saturated=bool(data.get("client_saturated", False)),
        nonce=data.get("nonce"),
        phase=data.get("phase"),
        chain=data.get("chain"),
        chain_pos=data.get("chain_pos"),
        backoff_ns=_ns(data.get("backoff_ms")),
        check=data.get("check"),
        request=data.get("request"),
    )


def session_from_json(doc: dict[str, Any], providers: dict[str, Provider] | None = None) -> Session:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"not an {SCHEMA} document (schema={doc.get('schema')!r})")
    probes = [probe_from_json(p, providers) for p in doc.get("probes", [])]
    targets = [target_from_json(t, providers) for t in doc.get("targets", [])]
    if not targets:
        seen: dict[str, Target] = {}
        for p in probes:
            seen.setdefault(p.target.label, p.target)
        targets = list(seen.values())
    return Session(
        session_id=doc["session_id"],
        started_at=doc["started_at"],
        finished_at=doc.get("finished_at"),
        host=doc.get("host"),
        notes=doc.get("notes") or "",
        params=ProbeParams.from_json(doc.get("params") or {"prompt": ""}),
        settings=RunSettings.from_json(doc.get("settings")),
        targets=targets,
        probes=probes,
        campaign=doc.get("campaign") or None,
        check_spec=({"checks": list(doc["checks"].get("asked") or ()),
                     "reference": doc["checks"].get("reference")}
                    if isinstance(doc.get("checks"), dict) else None),
    )


__all__ = ["SCHEMA", "Session", "RunSettings", "probe_to_json", "probe_from_json",
           "session_from_json", "new_session_id", "utc_now_iso", "ErrorKind"]
