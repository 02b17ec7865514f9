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
