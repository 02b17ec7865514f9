"""`infertui import`: bad files are one line, a stored session that differs is
a conflict, and a large import never holds the write lock for long."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infertui.cli import main
from infertui.store import paths
from infertui.store.jsonsafe import session_json
from infertui.store.repository import Store

from tests.store.factories import CLAUDE, GROQ, full_probe, mixed_session, session

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, doc) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def good_doc(session_id: str = "0190import") -> dict:
    return mixed_session(session_id).to_json()


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert err.startswith("infertui: ") and err.count("\n") == 1, err
    return err.strip()


def broken(mutate) -> dict:
    doc = good_doc()
    mutate(doc)
    return doc


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["probes"][1].update(ttft_ms="fast"),
     "session 0190import: probes[1].ttft_ms: expected a number of milliseconds, found a "
     "string ('fast')"),
    (lambda d: d["probes"][0].update(input_tokens=31.5),
     "probes[0].input_tokens: expected a whole number, found a number (31.5)"),
    (lambda d: d["probes"][2].update(chunk_times_ms=[1.0, "2"]),
     "probes[2].chunk_times_ms[1]: expected a number of milliseconds, found a string ('2')"),
    (lambda d: d["probes"][0].update(target=["groq", "m"]),
     "probes[0].target: expected an object, found a list"),
    (lambda d: d["probes"][0].update(status="great"), "probes[0].status: expected one of"),
    (lambda d: d["probes"][0]["error"] is None and d["probes"][3].update(
        error={"kind": "oops", "message": "x"}), "probes[3].error.kind: expected an error kind"),
    (lambda d: d.update(params={"prompt": 42}), "params.prompt: expected a string, found a "
                                                "whole number (42)"),
    (lambda d: d.update(settings={"repeat": None}), "settings.repeat: expected a whole number"),
    (lambda d: d.update(probes={"a": 1}), "probes: expected a list, found an object"),
    (lambda d: d.update(started_at="yesterday"), "started_at: expected an ISO 8601 time"),
    (lambda d: d["probes"][0].update(warmup="no"), "probes[0].warmup: expected true or false"),
    (lambda d: d["probes"][0].update(chunk_kinds="cx"), "probes[0].chunk_kinds: expected a "
                                                        "string of 'c' and 'r'"),
    (lambda d: d.update(session_id=""), "session_id: '' is not a session id"),
    (lambda d: d.update(session_id="  "), "session_id: '  ' is not a session id"),
    (lambda d: d.update(session_id="a/b\n"), "session_id: 'a/b\\n' is not a session id"),
    (lambda d: d.update(session_id=12), "session_id: 12 is not a session id"),
    (lambda d: d.update(session_id="last"), "session_id: 'last' is not a session id"),
])
def test_a_malformed_document_is_one_line_naming_the_field(capsys, tmp_path, mutate, message):
    path = write(tmp_path, "bad.json", broken(mutate))
    err = one_line_error(capsys, "import", str(path))
    assert err.startswith(f"infertui: {path}: ") and message in err
    with Store.open() as store:
        assert store.count_sessions() == 0  # nothing of the file landed


@pytest.mark.parametrize("content, message", [
    ("", "not JSON: Expecting value"),
    ("{not json", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply to be an infertui export"),
    ('{"schema": "infertui.session/1"}\n{"schema": 3}\n', "not an infertui export"),
    ("\ufeff\x00\xff binary", "not JSON"),
])
def test_a_file_that_is_not_an_export_is_one_line(capsys, tmp_path, content, message):
    path = write(tmp_path, "junk.json", content)
    assert message in one_line_error(capsys, "import", str(path))


def test_a_file_that_is_not_utf8_or_not_there_is_one_line(capsys, tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert one_line_error(capsys, "import", str(binary)) == (
        f"infertui: {binary}: not UTF-8 text (byte 0): not an infertui export")
    missing = tmp_path / "missing.json"
    assert one_line_error(capsys, "import", str(missing)) == (
        f"infertui: cannot read {missing}: No such file or directory")


def test_a_huge_file_is_refused_before_it_is_read(capsys, tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:
        out.truncate(3 << 30)  # sparse: 3 GiB that take no room
    assert one_line_error(capsys, "import", str(huge)) == (
        f"infertui: {huge}: over 512 MiB; infertui imports files up to 512 MiB (export fewer "
        "sessions per file)")


def test_the_same_file_twice_adds_nothing_and_is_no_conflict(capsys, tmp_path):
    path = write(tmp_path, "s.json", good_doc())
    assert run(capsys, "import", str(path))[1] == (
        f"{path}: 1 session: 1 new, 6 probes added, 0 already present\n")
    code, out, err = run(capsys, "import", str(path))
    assert (code, out, err) == (0, f"{path}: 1 session: 0 new, 0 probes added, 1 already "
                                   "present\n", "")


@pytest.mark.parametrize("change, why", [
    (lambda d: d["params"].update(prompt="Another prompt"), "different prompt"),
    (lambda d: d["params"].update(max_tokens=64), "different max_tokens"),
    (lambda d: d.update(targets=d["targets"][:1]),
     "different targets (anthropic/claude-sonnet-4, groq/llama-3.3-70b-versatile here; "
     "groq/llama-3.3-70b-versatile in the file)"),
    (lambda d: d["probes"][1].update(ttft_ms=d["probes"][1]["ttft_ms"] + 5),
     "probe p2-1 has different ttft_ms"),
    (lambda d: d["probes"][3].update(status="ok", error=None),
     "probe e0 has different status, error"),
    (lambda d: d["probes"][2].update(chunk_texts=["x"] * len(d["probes"][2]["chunk_texts"])),
     "probe p3-2 has different text, reasoning_text"),
])
def test_a_stored_session_that_differs_is_a_conflict_not_a_merge(capsys, tmp_path, change, why):
    original = good_doc()
    first = write(tmp_path, "first.json", original)
    other = copy.deepcopy(original)
    change(other)
    # A probe the store lacks does not make the rest mergeable.
    other["probes"].append(json.loads(session_json(session(
        "0190import", probes=[full_probe(GROQ, seq=9, probe_id="new-one", seed=9)])))
        ["probes"][0])
    second = write(tmp_path, "second.json", other)
    assert run(capsys, "import", str(first))[0] == 0
    with Store.open() as store:
        before = store.load_session("0190import").to_json()
    code, out, err = run(capsys, "import", str(second))
    assert code == 1
    assert err == (f"infertui: {second}: session 0190import is already stored with different "
                   f"content ({why}); not imported\n")
    assert out == f"{second}: 0 sessions: 0 new, 0 probes added, 0 already present, 1 in conflict\n"
    with Store.open() as store:
        assert store.load_session("0190import").to_json() == before  # nothing merged


def test_a_rescue_file_adds_the_probes_a_run_could_not_save(capsys, tmp_path):
    full = mixed_session("0190rescue")
    with Store.open() as store:
        store.create_session(full)
        for probe in full.probes[:2]:  # the rest failed to save
            store.save_probe(full.session_id, probe)
    full.finished_at = "2025-06-01T12:05:00.000Z"
    rescue = write(tmp_path, "rescue.json", session_json(full))
    code, out, _ = run(capsys, "import", str(rescue))
    assert (code, out) == (0, f"{rescue}: 1 session: 0 new, 4 probes added, 0 already present\n")
    with Store.open() as store:
        loaded = store.load_session(full.session_id)
        assert [p.probe_id for p in loaded.probes] == [p.probe_id for p in full.probes]
        [row] = store.list_sessions()
        assert row.finished_at == full.finished_at and row.targets[0].n == 2


def test_several_documents_one_bad_imports_none(capsys, tmp_path):
    docs = [good_doc("0190a"), broken(lambda d: d["probes"][0].update(seq="1"))]
    docs[1]["session_id"] = "0190b"
    path = write(tmp_path, "two.json", {"schema": "infertui.export/1", "sessions": docs})
    err = one_line_error(capsys, "import", str(path))
    assert err == (f"infertui: {path}: document 2: session 0190b: probes[0].seq: expected a "
                   "whole number, found a string ('1')")
    assert not paths.db_file().exists() or Store.open().count_sessions() == 0


def test_a_large_import_lets_a_run_save_between_its_batches(tmp_path):
    """A run saving its probes while a large export is imported waits one
    batch at most, not the whole import: its saves land while the imported
    session is still partly written."""
    big = session("0190big", targets=[GROQ, CLAUDE], probes=[
        full_probe(GROQ if i % 2 else CLAUDE, seq=i, probe_id=f"b{i}", count=4000, seed=i)
        for i in range(40)])
    export = write(tmp_path, "big.json", session_json(big))
    db = tmp_path / "r.db"
    with Store.open(db) as store:
        live = session("0190live", targets=[GROQ])
        store.create_session(live)
        importing = subprocess.Popen([sys.executable, "-m", "infertui", "--db", str(db),
                                      "import", str(export)], cwd=ROOT, env=os.environ.copy(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = sqlite3.connect(db)
        seen, waits, i = set(), [], 0
        while importing.poll() is None:
            started = time.monotonic()
            store.save_probe(live.session_id, full_probe(GROQ, seq=i, probe_id=f"l{i}",
                                                         count=50, seed=i))
            waits.append(time.monotonic() - started)
            row = reader.execute("SELECT probe_count FROM sessions WHERE session_id = "
                                 "'0190big'").fetchone()
            seen.add(row[0] if row else None)
            i += 1
            time.sleep(0.02)  # a run's probes finish now and then, not back to back
        reader.close()
        out, err = importing.communicate()
        assert importing.returncode == 0, err
        stored = store.load_session("0190big").to_json()["probes"]
        exported = json.loads(export.read_text())["probes"]
        assert [(p["probe_id"], p["chunk_times_ms"], p["text"]) for p in stored] == \
            [(p["probe_id"], p["chunk_times_ms"], p["text"]) for p in exported]
    # Saves landed between the import's batches, while its session was partly
    # written (one transaction would show only "absent" and "all 40"), and
    # none waited longer than about a batch (0.2 s; 1 s leaves room for a
    # loaded machine, the busy timeout is 5 s).
    partly = sorted(n for n in seen if n is not None and 0 < n < 40)
    assert partly, (sorted(seen, key=str), max(waits))
    assert max(waits) < 1.0, max(waits)
    print(f"\nlongest save during the import: {max(waits) * 1000:.0f} ms over {len(waits)} saves;"
          f" partial states seen: {partly}")
