"""Deterministic sessions for the history, session, replay and diff tests:
every probe is built by hand with fixed chunk offsets, so every metric, every
chart and every snapshot is the same on every run. (No tests in this module.)"""

from __future__ import annotations

from pathlib import Path

from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target

MS = 1_000_000

ALPHA = Target(Provider("sim-alpha", Api.OPENAI, "http://sim-alpha.invalid/v1", simulated=True), "demo-70b")
BETA = Target(Provider("sim-beta", Api.ANTHROPIC, "http://sim-beta.invalid/v1", simulated=True), "demo-70b")
GAMMA = Target(Provider("sim-gamma", Api.GEMINI, "http://sim-gamma.invalid/v1", simulated=True), "demo-8b")

ANSWER_A = (
    "Sunlight is made of every colour.\n"
    "Air molecules scatter short blue wavelengths the most.\n"
    "So the sky looks blue from every direction."
)
ANSWER_B = (
    "Sunlight is made of every colour.\n"
    "Tiny molecules in the air scatter blue light far more than red.\n"
    "So the sky looks blue from every direction.\n"
    "At sunset the light crosses more air and reds remain."
)
ANSWER_C = "Blue light scatters more.\nThat is Rayleigh scattering."


def _words(text: str) -> list[str]:
    """The text cut into word tokens, each keeping its leading space or newline."""
    pieces: list[str] = []
    current = ""
    for ch in text:
        if ch in " \n" and current.strip():
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def make_probe(session_id: str, index: int, target: Target, seq: int, *, ttft_ms: float,
               gap_ms: float, text: str, sent_at: str, warmup: bool = False,
               error: ProbeError | None = None, cut_after: int | None = None) -> ProbeResult:
    """A probe whose chunks are the words of `text`, the first at `ttft_ms`
    and one every `gap_ms` after it; `error` with `cut_after` words gives a
    stream that broke, `error` alone one that failed before any byte."""
    words = _words(text)
    if error is not None:
        words = words[: cut_after or 0]
    chunks = [Chunk(round((ttft_ms + i * gap_ms) * MS), ChunkKind.CONTENT, w) for i, w in enumerate(words)]
    last = chunks[-1].offset_ns if chunks else None
    status = Status.OK if error is None else Status.ERROR
    headers = round((ttft_ms - 30) * MS) if error is None or chunks else round(ttft_ms * MS)
    return ProbeResult(
        probe_id=f"{session_id}.{index}.{seq}", target=target, seq=seq, warmup=warmup,
        status=status, error=error, http_status=error.http_status if error and error.http_status else 200,
        sent_at=sent_at, queue_ns=0, connect_ns=0, pre_send_ns=MS // 2, sent_source="trace",
        headers_ns=headers, first_byte_ns=headers,
        first_content_ns=chunks[0].offset_ns if chunks else None,
        last_token_ns=last, end_ns=(last + 2 * MS) if last is not None else headers,
        chunks=chunks, event_count=len(chunks) + 2,
        max_gap_ns=round(gap_ms * MS) if len(chunks) > 1 else None,
        usage=Usage(input_tokens=14, output_tokens=len(chunks) if error is None else None),
        finish_reason="stop" if error is None else None,
        server_model=target.model, request_id=f"req_{session_id[-4:]}{index}{seq}",
    )


def race_session(session_id: str = "0190a1b2c3d4aa11223344", day: str = "2025-03-04",
                 repeat: int = 3, speed: float = 1.0, prompt: str = "Why is the sky blue?") -> Session:
    """sim-alpha answers fast, sim-beta slower and longer; `speed` scales every
    time (0.5 = twice as fast) so replay tests stay short."""
    started = f"{day}T10:00:00.000Z"
    session = Session(session_id=session_id, started_at=started, params=ProbeParams(prompt, max_tokens=128),
                      targets=[ALPHA, BETA], settings=RunSettings(repeat=repeat), host="lab")
    for seq in range(repeat):
        sent = f"{day}T10:00:{2 * seq:02d}.000Z"
        session.probes.append(make_probe(session_id, 0, ALPHA, seq, ttft_ms=(120 + 10 * seq) * speed,
                                         gap_ms=12 * speed, text=ANSWER_A, sent_at=sent))
        session.probes.append(make_probe(session_id, 1, BETA, seq, ttft_ms=(300 + 40 * seq) * speed,
                                         gap_ms=20 * speed, text=ANSWER_B, sent_at=sent))
    session.finished_at = f"{day}T10:00:{2 * repeat + 1:02d}.000Z"
    return session


def error_session(session_id: str = "0190b1b2c3d4bb11223344", day: str = "2025-03-05") -> Session:
    """Two targets; sim-gamma fails once with HTTP 429 and once mid-stream."""
    started = f"{day}T09:30:00.000Z"
    session = Session(session_id=session_id, started_at=started,
                      params=ProbeParams("Explain Rayleigh scattering briefly.", max_tokens=64),
                      targets=[ALPHA, GAMMA], settings=RunSettings(repeat=3), host="lab")
    errors = {
        1: (ProbeError(ErrorKind.RATE_LIMITED, "Too many requests, slow down", 429, retry_after=2.0), None),
        2: (ProbeError(ErrorKind.PROVIDER_ERROR, "stream error: upstream overloaded"), 4),
    }
    for seq in range(3):
        sent = f"{day}T09:30:{2 * seq:02d}.000Z"
        session.probes.append(make_probe(session_id, 0, ALPHA, seq, ttft_ms=150 + 5 * seq, gap_ms=10,
                                         text=ANSWER_C, sent_at=sent))
        error, cut = errors.get(seq, (None, None))
        session.probes.append(make_probe(session_id, 1, GAMMA, seq, ttft_ms=200 + 20 * seq, gap_ms=8,
                                         text=ANSWER_C, sent_at=sent, error=error, cut_after=cut))
    session.finished_at = f"{day}T09:30:07.000Z"
    return session


def history_sessions() -> list[Session]:
    """Three sessions on three days, oldest first, for the history screen
    and the TTFT-over-time chart."""
    return [
        race_session("0190a1b2c3d4aa11223344", day="2025-03-03", prompt="Why is the sky blue?"),
        error_session("0190b1b2c3d4bb11223344", day="2025-03-04"),
        race_session("0190c1b2c3d4cc11223344", day="2025-03-05", prompt="Name three prime numbers."),
    ]


def fill_store(path: Path, sessions: list[Session]) -> None:
    """Save sessions the way a run does: the session, then one commit per probe."""
    from infertui.store.repository import Store

    with Store.open(path) as store:
        for session in sessions:
            store.create_session(session)
            for probe in session.probes:
                store.save_probe(session.session_id, probe)
            store.finish_session(session.session_id, session.finished_at, False)
