"""Decoding simulator output with infertui's own client-side parsers, and
counting the tokens it generates (shared by the simulator tests; holds no
tests itself)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from infertui.core.result import ChunkKind, Usage
from infertui.core.simulator import engine
from infertui.core.sse import SSEDecoder
from infertui.core.targets import Api
from infertui.core.wire import wire_format
from infertui.core.wire.base import FinishReport, StreamFailure, TextDelta, UsageReport


@dataclass
class Decoded:
    text: str = ""
    reasoning: str = ""
    usage: Usage = field(default_factory=Usage)
    finish: str | None = None
    failures: list[StreamFailure] = field(default_factory=list)
    finished: bool = False
    # Per body chunk: how many text deltas it carried.
    deltas_per_chunk: list[int] = field(default_factory=list)


def decode(api: Api | str, chunks: list[bytes]) -> Decoded:
    decoder = SSEDecoder()
    parser = wire_format(api).new_parser()
    out = Decoded()

    def take(events: list) -> int:
        deltas = 0
        for event in events:
            for item in parser.feed(event):
                if isinstance(item, TextDelta):
                    deltas += 1
                    if item.kind is ChunkKind.CONTENT:
                        out.text += item.text
                    else:
                        out.reasoning += item.text
                elif isinstance(item, UsageReport):
                    out.usage.merge(item.usage)
                elif isinstance(item, FinishReport):
                    out.finish = item.reason
                elif isinstance(item, StreamFailure):
                    out.failures.append(item)
        return deltas

    for chunk in chunks:
        out.deltas_per_chunk.append(take(decoder.feed(chunk)))
    take(decoder.close())
    out.finished = parser.finished
    return out


FINISH_NAMES = {
    Api.OPENAI: {"stop": "stop", "length": "length"},
    Api.ANTHROPIC: {"stop": "end_turn", "length": "max_tokens"},
    Api.GEMINI: {"stop": "STOP", "length": "MAX_TOKENS"},
}


class TokenCount:
    """How many answer and reasoning tokens the simulator has generated."""

    def __init__(self) -> None:
        self.n = 0


def count_tokens(monkeypatch: pytest.MonkeyPatch) -> TokenCount:
    """Count every token the engine generates from now on (the test's
    instrumentation: work done is tokens made, whatever the machine's speed)."""
    made = TokenCount()
    real = engine.token_stream

    def counting(rng, kind="content"):
        for token in real(rng, kind):
            made.n += 1
            yield token

    monkeypatch.setattr(engine, "token_stream", counting)
    return made
