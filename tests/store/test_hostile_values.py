"""No value a result can hold makes a save fail or a JSON document unwritable.

The core coerces what servers send; these results are built by hand with
what a hostile server could still get into one, to prove the store's own
guard: lone surrogates, objects where strings belong, counts beyond 64 bits
or below zero, NaN and Infinity, a key in a base_url."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math

import pytest

from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, Status, Usage
from infertui.core.targets import Api, Provider, Target
from infertui.store import jsonsafe, sanitize
from infertui.store.export import render
from infertui.store.repository import Store

from tests.store.factories import GROQ, full_probe, session

SECRET = "sk-live-0123456789abcdefSECRET"
LEAKY = Target(Provider("leaky", Api.OPENAI, f"https://bob:{SECRET}@llm.example/v1?key={SECRET}",
                        price_input_per_mtok=float("nan"), price_output_per_mtok=1.0), "m\ud800")


def hostile_probe(target: Target = GROQ, seq: int = 0):
    r = full_probe(target, seq=seq, probe_id=f"hostile-{seq}", count=12)
    r.chunks[3] = Chunk(r.chunks[3].offset_ns, ChunkKind.CONTENT, "half a pair: \ud83d!")
    # An Anthropic `text` that was a number or a list.
    r.chunks[5] = Chunk(r.chunks[5].offset_ns, ChunkKind.CONTENT, 42)  # type: ignore[arg-type]
    r.chunks[6] = Chunk(r.chunks[6].offset_ns, ChunkKind.CONTENT, ["a", 1])  # type: ignore
    r.usage = Usage(input_tokens=2**70, output_tokens=-5, reasoning_tokens=2**63,
                    cached_tokens=-(2**80))
    r.server_model = {"name": "an object, not a string"}  # type: ignore[assignment]
    r.system_fingerprint = ["fp", 1]  # type: ignore[assignment]
    r.request_id = "req-\udfff"
    r.finish_reason = 7  # type: ignore[assignment]
    r.status = Status.ERROR
    r.error = ProbeError(ErrorKind.PROVIDER_ERROR, "overloaded \udc00", 2**64, float("nan"))
    r.loop_lag_ms = float("inf")
    r.event_count = -3
    r.max_gap_ns = 2**64
    r.http_status = 10**30
    return r


def hostile_session():
    probes = [full_probe(GROQ, seq=0, seed=3), hostile_probe(GROQ, 1), hostile_probe(LEAKY, 2),
              dataclasses.replace(full_probe(LEAKY, seq=3, seed=4), loop_lag_ms=float("nan"))]
    s = session("0190hostile", targets=[GROQ, LEAKY], probes=probes,
                prompt="a prompt with a lone \ud800 surrogate")
    s.params = dataclasses.replace(s.params, temperature=float("nan"))
    return s


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} in JSON")
    return json.loads(text, parse_constant=refuse)


def test_every_probe_of_a_hostile_session_is_saved_and_read_back(tmp_path):
    s = hostile_session()
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        store.create_session(s)
        assert [store.save_probe(s.session_id, p) for p in s.probes] == [True] * 4
        loaded = store.load_session(s.session_id)
        store.finish_session(s.session_id, "2025-06-01T12:01:00Z", False)
        assert store.search("half a pair") != []
    by_id = {p.probe_id: p for p in loaded.probes}
    bad = by_id["hostile-1"]
    assert bad.usage == Usage(None, None, None, None)
    assert bad.server_model == "{'name': 'an object, not a string'}"
    assert bad.system_fingerprint == "['fp', 1]" and bad.finish_reason == "7"
    assert bad.request_id == "req-\ufffd" and "half a pair: \ufffd!" in bad.text
    assert [c.text for c in bad.chunks[5:7]] == ["42", "['a', 1]"]
    assert bad.error == ProbeError(ErrorKind.PROVIDER_ERROR, "overloaded \ufffd", None, None)
    assert bad.loop_lag_ms is None and bad.max_gap_ns is None and bad.http_status is None
    assert bad.event_count == 0
    assert loaded.params.prompt == "a prompt with a lone \ufffd surrogate"
    # The healthy probe beside them is stored exactly.
    good = s.probes[0]
    assert by_id[good.probe_id].chunks == good.chunks and by_id[good.probe_id].usage == good.usage
    # The key in the base_url is nowhere in the database.
    leaky = next(t for t in loaded.targets if t.provider.name == "leaky")
    assert leaky.provider.base_url == "https://llm.example/v1"
    for file in tmp_path.iterdir():
        assert SECRET.encode() not in file.read_bytes(), file.name
    # The caller's own results are left as they were.
    assert s.probes[1].usage.input_tokens == 2**70


def test_the_json_document_of_a_hostile_session_is_strict_utf8_json():
    s = hostile_session()
    text = jsonsafe.session_json(s)
    text.encode("utf-8")  # no lone surrogate left
    doc = strict_loads(text)
    assert SECRET not in text
    assert [t["base_url"] for t in doc["targets"]] == [GROQ.provider.base_url,
                                                       "https://llm.example/v1"]
    bad = next(p for p in doc["probes"] if p["probe_id"] == "hostile-1")
    assert bad["input_tokens"] is None and bad["loop_lag_ms"] is None
    assert bad["error"]["retry_after"] is None and doc["params"]["temperature"] is None


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_every_export_format_takes_a_hostile_session(fmt):
    out = render([hostile_session(), session("0190plain", probes=[full_probe()])], fmt)
    out.encode("utf-8")
    assert SECRET not in out
    if fmt == "json":
        assert len(strict_loads(out)["sessions"]) == 2
    elif fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(out)))) == 5


def test_json_safe_leaves_no_value_json_refuses():
    doc = {"a": [float("nan"), float("inf"), -float("inf"), 1.5, 2**100, "x\ud800", (1, 2)],
           "\udfff": {"b": True, "c": None}, "d": object.__new__(object)}
    safe = jsonsafe.json_safe(doc)
    text = jsonsafe.dumps(doc, ensure_ascii=False)
    text.encode("utf-8")
    assert safe["a"] == [None, None, None, 1.5, 2**100, "x\ufffd", [1, 2]]
    assert safe["\ufffd"] == {"b": True, "c": None} and isinstance(safe["d"], str)


@pytest.mark.parametrize("url,public", [
    ("https://user:pass@host.example:8443/v1?key=abc#frag", "https://host.example:8443/v1"),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("https://host/v1beta?key=AIzaSECRET", "https://host/v1beta"),
    ("https://token@host/v1", "https://host/v1"),
    ("http://[::1:8000/v1?x=1", "http://[::1:8000/v1"),
])
def test_public_url_drops_userinfo_and_query(url, public):
    assert sanitize.public_url(url) == public


def test_a_clean_result_is_not_copied():
    probe = full_probe()
    assert sanitize.probe(probe) is probe
    s = session(probes=[probe])
    assert sanitize.session(s) is s
    assert not math.isnan(sanitize.real(1.0))
