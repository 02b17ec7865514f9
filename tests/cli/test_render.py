import io

from rich.console import Console

from infertui.cli.render import LiveTable, print_summary
from infertui.core.events import ProbeFinished, ProbeSent
from infertui.core.result import ErrorKind, ProbeError, ProbeResult, Status
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target

TARGET = Target(Provider("p", Api.OPENAI, "http://x/v1"), "m")


def test_live_table_counts_running_probes_even_when_they_fail_before_headers():
    table = LiveTable([TARGET], RunSettings(repeat=2))
    table.on_event(ProbeSent("a", TARGET, 0, False))
    table.on_event(ProbeSent("b", TARGET, 1, False))
    assert len(table.running[TARGET.label]) == 2
    failed = ProbeResult("a", TARGET, status=Status.ERROR, error=ProbeError(ErrorKind.CONNECT, "reset"))
    table.on_event(ProbeFinished(failed))
    assert table.running[TARGET.label] == {"b"}
    console = Console(width=160, record=True)
    console.print(table._render())
    text = console.export_text()
    assert "p/m" in text and "1/2" in text and "connect" in text


def test_summary_lists_errors_with_kind_status_and_retry_after():
    session = Session("s1", "2026-01-01T00:00:00Z", ProbeParams("hi"), [TARGET], RunSettings(repeat=1))
    session.probes.append(ProbeResult("x", TARGET, status=Status.ERROR, http_status=429,
                                      error=ProbeError(ErrorKind.RATE_LIMITED, "slow down", 429, 7.0)))
    console = Console(width=160, record=True)
    print_summary(session, console)
    text = console.export_text()
    assert "rate_limited HTTP 429 (retry after 7 s): slow down" in text
    assert "rate_limited×1" in text


# --- what the tables must always show -------------------------------------------------

import dataclasses  # noqa: E402 - this section's own imports

from infertui.core.result import Chunk, ChunkKind, Usage  # noqa: E402 - this section's own imports

LONG = Target(Provider("together", Api.OPENAI, "http://x/v1"),
              "meta-llama/Llama-3.3-70B-Instruct-Turbo-with-a-very-long-suffix")


def _ok(target, seq, *, usage=True, saturated=False, lag=None):
    return ProbeResult(f"{target.label}-{seq}", target, seq=seq, status=Status.OK,
                       first_content_ns=200_000_000, first_reasoning_ns=200_000_000,
                       last_token_ns=1_200_000_000, end_ns=1_200_000_000,
                       chunks=[Chunk(200_000_000, ChunkKind.CONTENT, "one two three four"),
                               Chunk(1_200_000_000, ChunkKind.CONTENT, " five six")],
                       usage=Usage(output_tokens=101 if usage else None),
                       client_saturated=saturated, loop_lag_ms=lag)


def _session(probes, targets):
    return Session("s80", "2026-01-01T00:00:00Z", ProbeParams("hi"), targets,
                   RunSettings(repeat=3), probes)


def _text(renderable_or_session, width):
    console = Console(width=width, record=True, file=io.StringIO())
    if isinstance(renderable_or_session, Session):
        print_summary(renderable_or_session, console)
    else:
        console.print(renderable_or_session)
    return console.export_text()


def test_at_80_columns_the_failure_columns_never_disappear():
    probes = [_ok(LONG, 0)]
    probes += [ProbeResult(f"e{i}", LONG, seq=i, status=Status.ERROR,
                           error=ProbeError(kind, "no", 500)) for i, kind in
               enumerate((ErrorKind.SERVER_ERROR, ErrorKind.RATE_LIMITED), start=1)]
    probes.append(ProbeResult("c", LONG, seq=3, status=Status.CANCELLED))
    text = _text(_session(probes, [LONG]), 80)
    header = next(line for line in text.splitlines() if "target" in line)
    for column in ("n", "ok", "err", "cancelled", "errors"):
        assert f" {column} " in header, header
    row = next(line for line in text.splitlines() if "│ 4 │" in line)
    assert "│  1 │   2 │         1 │" in row  # ok, err, cancelled, whole
    assert "rate_limited×1" in text and "server_error×1" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text.split("\n\n")[0]  # nothing cut to an ellipsis

    live = LiveTable([LONG], RunSettings(repeat=4))
    for p in probes:
        live.on_event(ProbeFinished(p))
    text = _text(live._render(), 80)
    header = next(line for line in text.splitlines() if "target" in line)
    for column in ("done", "ok", "err", "last error"):
        assert f" {column} " in header, header
    assert "4/4" in text and "rate_limited" in text


def test_estimates_and_saturated_probes_are_marked_and_explained():
    plain = Target(Provider("p", Api.OPENAI, "http://x/v1"), "exact")
    guessed = Target(Provider("p", Api.OPENAI, "http://x/v1"), "guessed")
    probes = [_ok(plain, 0), _ok(guessed, 0, usage=False, saturated=True, lag=42.0)]
    text = _text(_session(probes, [plain, guessed]), 160)
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "p/" in line
            and "│" in line}
    assert "~" not in rows["p/exact"] and "†" not in rows["p/exact"]
    assert "p/guessed †" in rows and "~" in rows["p/guessed †"]
    assert "~ token counts (and tok/s) estimated: the server sent no usage." in text
    assert "† 1 probe timed while infertui's own event loop lagged > 10 ms (up to 42 ms)" in text
    assert "1 probes" not in text and "session s80 · 2 probes" in text


def test_plurals_and_no_python_values(capsys):
    one = _session([_ok(TARGET, 0)], [TARGET])
    text = _text(one, 120)
    assert "· 1 probe ·" in text and "1 probes" not in text
    for word in ("None", "True", "False"):
        assert word not in text


def test_show_lists_probes_and_outputs_in_table_order(tmp_path):
    from infertui.cli.show import print_session

    a = Target(Provider("a", Api.OPENAI, "http://x/v1"), "m")
    b = Target(Provider("b", Api.OPENAI, "http://x/v1"), "m")
    # Completion order: b#1, a#1, b#0, a#0 (warm-up) ...
    finished = [dataclasses.replace(_ok(b, 1), chunks=[Chunk(1, ChunkKind.CONTENT, "B1")]),
                dataclasses.replace(_ok(a, 1), chunks=[Chunk(1, ChunkKind.CONTENT, "A1")]),
                dataclasses.replace(_ok(b, 0), chunks=[Chunk(1, ChunkKind.CONTENT, "B0")]),
                dataclasses.replace(_ok(a, 0), warmup=True, chunks=[Chunk(1, ChunkKind.CONTENT, "A0w")])]
    session = _session(finished, [a, b])
    out = io.StringIO()
    print_session(session, outputs=True, console=Console(file=out, width=120))
    text = out.getvalue()
    outputs = [line for line in text.splitlines() if line in ("A0w", "A1", "B0", "B1")]
    assert outputs == ["A0w", "A1", "B0", "B1"]
    rules = [line for line in text.splitlines() if "#" in line and "─" in line]
    assert ["a/m #0 (warm-up)" in rules[0], "a/m #1" in rules[1], "b/m #0" in rules[2]] == [True] * 3


def test_history_says_1_probe(capsys):
    from infertui.cli import main
    from infertui.store.repository import Store

    session = _session([_ok(TARGET, 0)], [TARGET])
    session.session_id = "0190aaaaaaaa0000000001"
    with Store.open() as store:
        store.create_session(session)
        store.save_probe(session.session_id, session.probes[0])
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "  1 probe (unfinished)  " in out and "1 probes" not in out
