"""infertui against llama-cpp-python's server: a second real engine with other
habits. It sends no usage in the stream (token counts cannot come from the
server), and serves one request at a time unless told not to interrupt them
(`--interrupt_requests False`, set by the fixture)."""

from __future__ import annotations

import pytest

from tests.e2e import servers
from tests.e2e.servers import Server

pytestmark = pytest.mark.e2e

PROMPT = "What does the json module do?"


def test_the_stream_carries_no_usage(llama_cpp_python: Server) -> None:
    """The habit the next test depends on, checked so a new version that
    starts sending usage is noticed."""
    streamed = servers.chat(llama_cpp_python.base_url, PROMPT, 16, stream=True)
    assert streamed["text"].strip()
    assert streamed["usage"] is None


def test_text_equals_a_plain_request_and_the_count_is_exact(llama_cpp_python: Server) -> None:
    plain = servers.chat(llama_cpp_python.base_url, PROMPT, 40)
    assert plain["text"].strip()
    # The non-streamed answer does carry usage: the reference count.
    assert plain["usage"]["completion_tokens"] == 40 and plain["finish_reason"] == "length"

    session = servers.probe(llama_cpp_python.base_url, "-p", PROMPT, "--max-tokens", "40",
                            "--temperature", "0", "-n", "2")
    assert all(p["status"] == "ok" for p in session["probes"]), servers.errors_of(session)
    for p in session["probes"]:
        assert p["text"] == plain["text"]
        assert p["finish_reason"] == "length"
        # No usage came: the count must not claim to be the server's...
        assert p["output_tokens_source"] not in (None, "usage")
        assert p["usage_output_tokens"] is None
        # ...and a stream that ended for length at max_tokens says exactly
        # how many tokens it had: the count is that, not a guess from the text.
        assert p["output_tokens"] == plain["usage"]["completion_tokens"], (
            f"{p['output_tokens']} ({p['output_tokens_source']}) where the server generated 40")


def test_concurrent_probes_all_complete(llama_cpp_python: Server) -> None:
    session = servers.probe(llama_cpp_python.base_url, "-p", PROMPT, "--max-tokens", "16",
                            "--temperature", "0", "-n", "4", "-c", "2")
    assert servers.errors_of(session) == []
    assert len({p["text"] for p in session["probes"]}) == 1
