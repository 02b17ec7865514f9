"""Sessions and probes built by hand for the store tests (no network). Not tests."""

from __future__ import annotations

import dataclasses
import random

from infertui.core.result import (
    Chunk,
    ChunkKind,
    ErrorKind,
    ProbeError,
    ProbeResult,
    Status,
    Usage,
)
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target

MS = 1_000_000

GROQ = Target(Provider("groq", Api.OPENAI, "https://api.groq.com/openai/v1",
                       api_key_env="GROQ_API_KEY", price_input_per_mtok=0.59,
                       price_output_per_mtok=0.79), "llama-3.3-70b-versatile")
CLAUDE = Target(Provider("anthropic", Api.ANTHROPIC, "https://api.anthropic.com/v1",
                         api_key_env="ANTHROPIC_API_KEY"), "claude-sonnet-4")
GEMINI = Target(Provider("gemini", Api.GEMINI, "https://generativelanguage.googleapis.com/v1beta",
                         api_key_env="GEMINI_API_KEY"), "gemini-2.5-flash")

WORDS = ("tail", "latency", "matters", "because", "the", "slowest", "request", "decides",
         "when", "an", "agent", "finishes", "its", "task", "queue", "decode", "token")


def chunks(count: int, *, reasoning: int = 0, start_ns: int = 180 * MS + 123,
           seed: int = 1) -> list[Chunk]:
    """`reasoning` reasoning chunks, then content; odd gaps down to the ns."""
    rng = random.Random(seed)
    out = []
    t = start_ns
    for i in range(count):
        kind = ChunkKind.REASONING if i < reasoning else ChunkKind.CONTENT
        out.append(Chunk(t, kind, rng.choice(WORDS) + (" " if i % 7 else "\n")))
        t += rng.randint(3 * MS, 40 * MS) + rng.randint(0, 999)
    return out


def full_probe(target: Target = GROQ, *, seq: int = 0, probe_id: str | None = None,
               count: int = 40, reasoning: int = 5, seed: int = 1) -> ProbeResult:
    """A successful probe with every field set to something other than its default."""
    cs = chunks(count, reasoning=reasoning, seed=seed)
    first_content = next(c.offset_ns for c in cs if c.kind is ChunkKind.CONTENT)
    return ProbeResult(
        probe_id=probe_id or f"p{seed}-{seq}", target=target, seq=seq, warmup=False,
        status=Status.OK, error=None, http_status=200, sent_at="2025-06-01T12:00:00.123Z",
        queue_ns=1_234_567, connect_ns=45_678_901, pre_send_ns=46_000_001, sent_source="socket",
        recv_source="read-callback", retries=1, retry_reason="stale connection", max_tokens=256,
        headers_ns=150 * MS + 17, first_byte_ns=170 * MS + 3,
        first_reasoning_ns=cs[0].offset_ns, first_content_ns=first_content,
        last_token_ns=cs[-1].offset_ns, end_ns=cs[-1].offset_ns + 2 * MS + 1,
        chunks=cs, event_count=count + 3, max_gap_ns=40 * MS + 999,
        usage=Usage(input_tokens=31, output_tokens=count + 2, reasoning_tokens=reasoning,
                    cached_tokens=8),
        finish_reason="stop", server_model="llama-3.3-70b-versatile-0125",
        system_fingerprint="fp_abc123", request_id="req_42", loop_lag_ms=0.75,
        client_saturated=True, nonce="n-7f3a", phase="measured", chain=3, chain_pos=1,
        backoff_ns=2_000_000_017, check="fidelity.arith-mul",
        request={"method": "POST", "url": "https://api.groq.com/openai/v1/chat/completions",
                 "body": {"model": "llama-3.3-70b-versatile", "stop": ["ü", "\n"]}},
    )


def failed_probe(target: Target = CLAUDE, *, seq: int = 0, probe_id: str | None = None,
                 cut_after: int = 0) -> ProbeResult:
    """An error: an HTTP 429 before any byte, or a stream cut after some chunks."""
    cs = chunks(cut_after, seed=seq + 100) if cut_after else []
    error = (ProbeError(ErrorKind.PROVIDER_ERROR, "overloaded_error: Overloaded", None, None)
             if cut_after else
             ProbeError(ErrorKind.RATE_LIMITED, "rate limit reached", 429, 2.5))
    return ProbeResult(
        probe_id=probe_id or f"e{seq}", target=target, seq=seq, status=Status.ERROR, error=error,
        http_status=200 if cut_after else 429, sent_at="2025-06-01T12:00:01.000Z",
        headers_ns=90 * MS, first_byte_ns=95 * MS if cut_after else None,
        first_content_ns=cs[0].offset_ns if cs else None,
        last_token_ns=cs[-1].offset_ns if cs else None, end_ns=300 * MS, chunks=cs,
        event_count=len(cs),
    )


def session(session_id: str = "0190a1b2c3d4e5f6a7b8c9", *, started_at: str =
            "2025-06-01T12:00:00.000Z", targets: list[Target] | None = None,
            probes: list[ProbeResult] | None = None, prompt: str = "Why is the sky blue?",
            notes: str = "") -> Session:
    return Session(
        session_id=session_id, started_at=started_at,
        params=ProbeParams(prompt, max_tokens=128, temperature=0.0, reasoning=False,
                           system="Be brief."),
        targets=list(targets if targets is not None else [GROQ, CLAUDE]),
        settings=RunSettings(repeat=3, concurrency=2, warmup=1, nonce=True),
        probes=list(probes or []), finished_at=None, notes=notes, host="lab-1",
    )


def mixed_session(session_id: str = "0190a1b2c3d4e5f6a7b8c9", **kw) -> Session:
    probes = [dataclasses.replace(full_probe(GROQ, seq=0, seed=1), warmup=True),
              full_probe(GROQ, seq=1, seed=2), full_probe(GROQ, seq=2, seed=3),
              failed_probe(CLAUDE, seq=0), failed_probe(CLAUDE, seq=1, cut_after=4),
              full_probe(CLAUDE, seq=2, seed=4, reasoning=0)]
    return session(session_id, probes=probes, **kw)
