"""infertui through litellm's proxy, a real gateway like the hosted routers,
in front of llama-server: the OpenAI, Anthropic and Gemini formats, each
compared with what llama-server answers directly."""

from __future__ import annotations

import pytest

from tests.e2e import servers
from tests.e2e.servers import Server

pytestmark = pytest.mark.e2e

PROMPT = "Summarise what the csv module offers."
KEY_ENV = "INFERTUI_E2E_LITELLM_KEY"


@pytest.mark.parametrize(("api", "path"), [("openai", "/v1"), ("anthropic", "/v1"),
                                           ("gemini", "/v1beta")])
def test_each_format_through_litellm(llama_server: Server, litellm: Server, api: str, path: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, litellm.extra["key"])
    reference = servers.chat(llama_server.base_url, PROMPT, 32)
    session = servers.probe(litellm.origin + path, "-p", PROMPT, "--max-tokens", "32",
                            "--temperature", "0", "-n", "2", "--api-key-env", KEY_ENV, api=api)
    assert servers.errors_of(session) == []
    for p in session["probes"]:
        assert p["text"] == reference["text"]
        assert (p["output_tokens"], p["output_tokens_source"]) == (32, "usage")
        assert p["ttft_ms"] is not None and p["decode_tps"] is not None
        # The gateway's key is never in what infertui reports.
        assert litellm.extra["key"] not in str(p)


def test_a_wrong_key_is_an_error_with_the_gateways_message(litellm: Server,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-not-the-master-key")
    session = servers.probe(litellm.origin + "/v1", "-p", PROMPT, "--max-tokens", "4",
                            "--api-key-env", KEY_ENV)
    (p,) = session["probes"]
    assert p["status"] == "error"
    assert p["http_status"] is not None and 400 <= p["http_status"] < 500
    assert p["error"]["message"] and "sk-not-the-master-key" not in p["error"]["message"]
