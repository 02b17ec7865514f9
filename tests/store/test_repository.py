"""Saving and loading sessions: every probe field, timelines to the ns, the
JSON document unchanged, summaries, filters, search, delete, import."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from infertui.core.result import ProbeResult
from infertui.core.session import Session, probe_to_json
from infertui.core.targets import Api, Provider, Target
from infertui.store.errors import StoreError
from infertui.store.repository import Store

from tests.store.factories import CLAUDE, GEMINI, GROQ, full_probe, mixed_session, session


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "results.db") as opened:
        yield opened


def save(store: Store, s: Session) -> None:
    store.create_session(s)
    for probe in s.probes:
        assert store.save_probe(s.session_id, probe) is True


def test_the_test_probe_sets_every_field():
    """If ProbeResult grows a field, this fails until the factory (and the
    store's columns) cover it. `error` and `warmup` are set by the failed and
    warm-up probes of `mixed_session`. `sent_clock_ns` is a process-local
    monotonic stamp, deliberately neither exported nor stored."""
    probe = full_probe()
    defaults = ProbeResult(probe_id="x", target=GROQ)
    unset = [f.name for f in dataclasses.fields(ProbeResult)
             if f.name not in ("probe_id", "target", "seq", "error", "warmup", "sent_clock_ns")
             and getattr(probe, f.name) == getattr(defaults, f.name)]
    assert unset == []
    probes = mixed_session().probes
    assert any(p.warmup for p in probes) and any(p.error for p in probes)


def test_roundtrip_keeps_every_field_and_the_timeline_exactly(store):
    original = mixed_session()
    save(store, original)
    loaded = store.load_session(original.session_id)
    assert len(loaded.probes) == len(original.probes)
    for before, after in zip(original.probes, loaded.probes):
        for f in dataclasses.fields(ProbeResult):
            if f.name == "target":
                assert after.target.label == before.target.label
                assert after.target.provider.price_input_per_mtok == \
                    before.target.provider.price_input_per_mtok
            else:
                assert getattr(after, f.name) == getattr(before, f.name), f.name
    assert loaded.params == original.params
    assert loaded.settings == original.settings
    assert [t.to_json() for t in loaded.targets] == [t.to_json() for t in original.targets]
    assert (loaded.host, loaded.started_at, loaded.notes) == ("lab-1", original.started_at, "")


def test_loaded_session_prints_the_same_json_document(store):
    original = mixed_session()
    save(store, original)
    store.finish_session(original.session_id, "2025-06-01T12:01:00.000Z", cancelled=False)
    original.finished_at = "2025-06-01T12:01:00.000Z"
    assert store.load_session(original.session_id).to_json() == original.to_json()


def test_saving_a_probe_twice_stores_it_once(store):
    s = mixed_session()
    save(store, s)
    assert store.save_probe(s.session_id, s.probes[1]) is False
    assert len(store.load_session(s.session_id).probes) == len(s.probes)


def test_a_probe_for_an_unlisted_target_is_kept(store):
    s = session(targets=[GROQ])
    store.create_session(s)
    store.save_probe(s.session_id, full_probe(GEMINI, seed=9))
    loaded = store.load_session(s.session_id)
    assert [t.label for t in loaded.targets] == [GROQ.label]
    assert loaded.probes[0].target.label == GEMINI.label
    assert loaded.probes[0].target.provider.api is Api.GEMINI


def test_saving_into_an_unknown_session_is_a_clear_error(store):
    with pytest.raises(StoreError, match="no session nope"):
        store.save_probe("nope", full_probe())


def test_history_rows_carry_per_target_summaries(store):
    s = mixed_session()
    save(store, s)
    store.finish_session(s.session_id, "2025-06-01T12:01:00.000Z", cancelled=True,
                         notes="from the lab")
    [row] = store.list_sessions()
    assert (row.session_id, row.probe_count, row.cancelled, row.notes) == \
        (s.session_id, 6, True, "from the lab")
    expected = {summary.target_label: summary for summary in s.summary()}
    for line in row.targets:
        want = expected[line.label]
        assert (line.n, line.ok, line.errors, line.cancelled) == \
            (want.n, want.ok, want.errors, want.cancelled)
        assert line.ttft_p50_ms == pytest.approx(want.ttft_ms.p50)
        assert line.ttft_p95_ms == pytest.approx(want.ttft_ms.p95)
        assert line.e2e_p50_ms == pytest.approx(want.e2e_ms.p50)
        assert line.decode_tps_p50 == pytest.approx(want.decode_tps.p50)
    groq_line = row.targets[0]
    assert groq_line.n == 2 and groq_line.ok == 2  # the warm-up is not counted
    assert "groq/llama-3.3-70b-versatile 2/2 ok ttft p50" in row.summary_line()


def test_list_newest_first_with_filters(store):
    save(store, session("01", started_at="2025-06-01T10:00:00Z", targets=[GROQ],
                        probes=[full_probe(GROQ, seed=1)]))
    save(store, session("02", started_at="2025-06-03T10:00:00+00:00", targets=[CLAUDE],
                        probes=[full_probe(CLAUDE, seed=2)]))
    save(store, session("03", started_at="2025-06-02T10:00:00Z", targets=[GROQ, GEMINI]))
    assert [r.session_id for r in store.list_sessions()] == ["02", "03", "01"]
    assert [r.session_id for r in store.list_sessions(limit=2)] == ["02", "03"]
    assert [r.session_id for r in store.list_sessions(target="groq")] == ["03", "01"]
    assert [r.session_id for r in store.list_sessions(target=GEMINI.label)] == ["03"]
    assert [r.session_id for r in store.list_sessions(model="sonnet")] == ["02"]
    assert [r.session_id for r in store.list_sessions(model=["flash", "sonnet"])] == ["02", "03"]
    assert [r.session_id for r in store.list_sessions(since="2025-06-02")] == ["02", "03"]
    assert store.list_sessions(model="100%_") == []


def test_ids_resolve_from_unique_prefixes_and_last(store):
    save(store, session("0190aaaa01", started_at="2025-06-01T10:00:00Z"))
    save(store, session("0190aaab02", started_at="2025-06-02T10:00:00Z"))
    assert store.resolve_id("0190aaaa") == "0190aaaa01"
    assert store.resolve_id("last") == "0190aaab02"
    with pytest.raises(StoreError, match="matches several sessions"):
        store.resolve_id("0190aa")
    with pytest.raises(StoreError, match="no session 'ffff'"):
        store.load_session("ffff")


def test_search_finds_prompts_and_outputs(store):
    a = session("01", prompt="Explain Rayleigh scattering", targets=[GROQ],
                probes=[full_probe(GROQ, seed=1)])
    b = session("02", prompt="Count to ten", targets=[GROQ], probes=[full_probe(GROQ, seed=2)])
    b.probes[0].chunks[3].text = "Schrödinger?! "
    for probe in (a.probes[0], b.probes[0]):
        probe.chunks[5].text, probe.chunks[6].text = "Tail ", "latencies "
    save(store, a)
    save(store, b)
    assert [r.session_id for r in store.search("rayleigh")] == ["01"]
    assert [r.session_id for r in store.search("schrodinger")] == ["02"]  # diacritics folded
    assert {r.session_id for r in store.search("tail lat")} == {"01", "02"}  # prefix of a word
    assert store.search("no such words anywhere") == []
    assert store.search("   ") == []
    assert [r.session_id for r in store.search("?!")] == ["02"]  # no word: a LIKE scan


def test_delete_removes_probes_timelines_and_index_entries(store):
    save(store, mixed_session("01"))
    save(store, session("02", probes=[full_probe(GROQ, seed=5)]))
    assert store.delete_sessions(["01"]) == 1
    assert [r.session_id for r in store.list_sessions()] == ["02"]
    counts = [store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("probes", "timelines", "session_targets")]
    assert counts == [1, 1, 2]
    assert store.integrity_check() == "ok"
    # FTS5 checks its index against the content table and raises if they differ.
    store.conn.execute("INSERT INTO output_fts(output_fts) VALUES ('integrity-check')")
    with pytest.raises(StoreError):
        store.delete_sessions(["01"])


def test_import_is_idempotent_and_merges_probes(store):
    full = mixed_session("0190feed")
    doc = full.to_json()
    partial = dict(doc, probes=doc["probes"][:2])
    first = store.import_document(partial)
    assert first and first.created and first.probes_added == 2
    second = store.import_document(doc)
    assert second and not second.created and second.probes_added == 4
    third = store.import_document(doc)
    assert not third and third.probes_added == 0
    assert store.count_sessions() == 1
    loaded = store.load_session("0190feed")
    assert [p.probe_id for p in loaded.probes] == [p.probe_id for p in full.probes]
    assert [probe_to_json(p)["chunk_times_ms"] for p in loaded.probes] == \
        [p["chunk_times_ms"] for p in doc["probes"]]
    assert store.list_sessions()[0].imported is True


def test_import_keeps_the_prices_recorded_in_the_document(store):
    doc = session("0190", targets=[GROQ], probes=[full_probe(GROQ)]).to_json()
    store.import_document(doc)
    probe = store.load_session("0190").probes[0]
    assert probe.target.provider.price_input_per_mtok == GROQ.provider.price_input_per_mtok
    assert probe_to_json(probe)["cost_usd"] == doc["probes"][0]["cost_usd"]
    assert doc["probes"][0]["cost_usd"] == pytest.approx((31 * 0.59 + 42 * 0.79) / 1e6)


def test_import_rejects_a_broken_document(store):
    with pytest.raises(StoreError, match="^<document>: session x: started_at: missing$"):
        store.import_document({"schema": "infertui.session/1", "session_id": "x"})
    assert store.count_sessions() == 0


def test_target_history_for_charts(store):
    for i, day in enumerate(("01", "03", "02")):
        save(store, session(f"0{i}", started_at=f"2025-06-{day}T10:00:00Z", targets=[GROQ],
                            probes=[full_probe(GROQ, seed=i, probe_id=f"p{i}")]))
    points = store.target_history(GROQ.label)
    assert [p.started_at[:10] for p in points] == ["2025-06-01", "2025-06-02", "2025-06-03"]
    assert all(p.ttft_p50_ms is not None and p.ok == 1 for p in points)
    assert store.target_history("nobody/none") == []


def test_threads_share_one_store(store):
    s = session(targets=[GROQ])
    store.create_session(s)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(10):
                store.save_probe(s.session_id, full_probe(GROQ, seed=offset + i,
                                                          probe_id=f"t{offset + i}"))
                store.list_sessions()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.list_sessions()[0].probe_count == 30


def test_target_with_an_unknown_api_loads_as_openai(store):
    s = session(targets=[Target(Provider("x", Api.OPENAI, "http://x"), "m")])
    save(store, s)
    store.conn.execute("UPDATE session_targets SET api = 'future-api'")
    assert store.load_session(s.session_id).targets[0].provider.api is Api.OPENAI


def pending(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM timelines WHERE indexed = 0").fetchone()[0]


def test_outputs_are_indexed_at_session_end_or_before_a_search(store):
    finished, running = mixed_session("01"), mixed_session("02")
    running.probes[1].chunks[0].text = "zanzibar "
    save(store, finished)
    save(store, running)
    assert pending(store) == 10  # saving a probe does not index it: that is the slow part
    store.finish_session("01", "2025-06-01T12:01:00Z", cancelled=False)
    assert pending(store) == 5  # only the finished session's outputs
    assert [r.session_id for r in store.search("zanzibar")] == ["02"]
    assert pending(store) == 0


def test_deleting_indexed_and_unindexed_outputs_keeps_the_index_sound(store):
    sessions = [mixed_session("01"), mixed_session("02"),
                session("03", probes=[full_probe(GROQ, seed=11)])]
    for s, word in zip(sessions, ("alpha", "bravo", "charlie")):
        s.probes[-1].chunks[2].text = f"{word} "
    save(store, sessions[0])
    store.finish_session("01", None, cancelled=False)  # indexed
    save(store, sessions[1])  # not indexed yet
    save(store, sessions[2])
    store.delete_sessions(["01", "02"])
    store.conn.execute("INSERT INTO output_fts(output_fts) VALUES ('integrity-check')")
    assert store.search("alpha") == [] and store.search("bravo") == []
    assert [r.session_id for r in store.search("charlie")] == ["03"]
    assert store.integrity_check() == "ok"
