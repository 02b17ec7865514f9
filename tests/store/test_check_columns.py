"""Schema 4: the new probe parameters, the checks asked and check probes are
stored and read back; check probes stay out of the stored summaries."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from infertui.core.session import session_from_json
from infertui.core.targets import ProbeParams
from infertui.store import db
from infertui.store.repository import Store
from tests.store.factories import GROQ, full_probe, session


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "r.db")
    yield s
    s.close()


def checked_session():
    s = session(targets=[GROQ])
    s.params = dataclasses.replace(s.params, stop=("END", "ü\n"), request_seed=99, top_p=0.8,
                                   json_output=True)
    s.check_spec = {"checks": ["compliance", "fidelity"], "reference": None}
    measured = full_probe(GROQ, seq=0, seed=2)
    measured.check = measured.request = None
    check = dataclasses.replace(full_probe(GROQ, seq=1, seed=3), phase="check",
                                check="fidelity.arith-mul",
                                request={"method": "POST", "url": "https://x/v1", "body": {"a": 1}})
    s.probes = [measured, check]
    return s


def test_parameters_checks_and_check_probes_round_trip(store):
    original = checked_session()
    store.create_session(original)
    for p in original.probes:
        store.save_probe(original.session_id, p)
    loaded = store.load_session(original.session_id)
    assert loaded.params == original.params
    assert loaded.params.stop == ("END", "ü\n") and loaded.params.json_output is True
    assert loaded.check_spec == original.check_spec
    assert [(p.phase, p.check, p.request) for p in loaded.probes] == \
        [(p.phase, p.check, p.request) for p in original.probes]
    assert loaded.to_json() == original.to_json()


def test_check_probes_stay_out_of_history_summaries(store):
    s = checked_session()
    store.create_session(s)
    for p in s.probes:
        store.save_probe(s.session_id, p)
    line = store.list_sessions()[0].targets[0]
    assert line.n == 1 and line.ok == 1
    assert [row.n for row in s.summary()] == [1]


def test_an_imported_document_keeps_its_checks(store):
    doc = checked_session().to_json()
    store.import_document(doc)
    again = store.load_session(doc["session_id"]).to_json()
    assert again["checks"] == doc["checks"] and again["params"] == doc["params"]
    assert session_from_json(again).check_spec == {"checks": ["compliance", "fidelity"],
                                                   "reference": None}


def test_a_schema_3_database_gains_the_columns_and_keeps_its_sessions(tmp_path):
    path = tmp_path / "old.db"
    conn = db.connect(path, migrations=db.MIGRATIONS[:3])
    conn.close()
    with Store.open(path) as s:
        assert db.user_version(s.conn) == 4
        old = session(targets=[GROQ])
        s.create_session(old)
        assert s.load_session(old.session_id).params == old.params
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(sessions)")}
    assert {"stop", "request_seed", "top_p", "json_output", "check_spec"} <= columns
    assert ProbeParams("x").stop == ()


@pytest.mark.parametrize("where, value, said", [
    (("params", "stop"), "END", "params.stop: expected a list of strings"),
    (("params", "request_seed"), "7", "params.request_seed: expected a whole number"),
    (("params", "json_output"), 1, "params.json_output: expected true or false"),
    (("checks",), ["compliance"], "checks: expected an object"),
    (("probes", 1, "check"), 5, "probes[1].check: expected a string"),
    (("probes", 1, "request"), "POST", "probes[1].request: expected an object"),
])
def test_an_import_with_a_mistyped_check_field_is_one_line_and_writes_nothing(store, where,
                                                                             value, said):
    from infertui.store.errors import StoreError

    doc = checked_session().to_json()
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(StoreError, match=re_escape(said)):
        store.import_document(doc)
    assert store.count_sessions() == 0


def re_escape(text: str) -> str:
    import re
    return re.escape(text)
