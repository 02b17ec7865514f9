"""Running the checks from the app (F5 on the compare screen): compliance and
the fidelity suite on every target, as a session of their own, recorded like
any run. The core does the work in a worker; when it ends, each pane gets
its badges (widgets/check_badges.py) and F6 shows a pane's details."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from textual.message import Message

from infertui.core.checks import CHECK_SETS
from infertui.core.session import RunSettings, Session, new_session_id, utc_now_iso

RUN_SETS = CHECK_SETS  # compliance and fidelity


@dataclass
class ChecksEnded(Message):
    session: Session
    cancelled: bool
    problem: str | None = None


def start(screen: Any) -> None:
    """Check the compare screen's targets (not while a run or a check runs)."""
    from infertui.core.checks.session_run import check_spec
    from infertui.core.clients import ClientPool

    if screen.running or getattr(screen, "checking", False):
        screen.notify("Wait for the run to end (escape cancels it).", severity="warning")
        return
    if not screen.targets:
        screen.notify("No targets yet: pick some with ctrl+t.", severity="warning")
        return
    app = screen.app
    try:
        params, _settings = screen.read_params()
    except Exception:  # noqa: BLE001 - the checks send their own prompts
        params = None
    session = Session(session_id=new_session_id(), started_at=utc_now_iso(),
                      params=replace(params, prompt="(checks)") if params is not None
                      else _default_params(), targets=list(screen.targets),
                      settings=RunSettings(repeat=1), check_spec=check_spec(RUN_SETS, None))
    pool = ClientPool(app.transport_factory, clock=app.clock, sim_seed=app.sim_seed,
                      sim_time_scale=app.sim_time_scale)
    screen.checking = True
    screen.notify(f"Checking {len(session.targets)} target(s): compliance and the fidelity "
                  "suite (about 20 probes each). F6 shows a pane's verdicts when done.",
                  title="Checks")
    recorder = app.persister().sink(session)
    screen.run_worker(_run(screen, session, pool, recorder), group="checks", exclusive=True,
                      exit_on_error=False, name="checks")


def _default_params():
    from infertui.core.targets import ProbeParams

    return ProbeParams("(checks)")


async def _run(screen: Any, session: Session, pool: Any, recorder: Any) -> None:
    import asyncio

    from infertui.core.checks.session_run import run_session_checks
    from infertui.core.events import SessionFinished, SessionStarted

    recorder(SessionStarted(session.session_id, tuple(session.targets), 0))
    cancelled, problem = False, None
    try:
        await run_session_checks(session, list(RUN_SETS), clients=pool, emit=recorder,
                                 environ=screen.app.config.environ)
    except asyncio.CancelledError:
        cancelled = True
    except Exception as exc:  # noqa: BLE001 - a bug of ours: keep the app and the results
        problem = f"{type(exc).__name__}: {exc}"
    finally:
        session.finished_at = utc_now_iso()
        recorder(SessionFinished(session.session_id, cancelled))
        await pool.aclose()
    screen.post_message(ChecksEnded(session, cancelled, problem))


def ended(screen: Any, message: ChecksEnded) -> None:
    from infertui.tui.widgets.check_badges import CheckBadges

    screen.checking = False
    rows = {row["target"]: row for row in message.session.checks_json()["targets"]}
    screen.check_rows = rows
    for label, pane in screen.panes.items():
        row = rows.get(label)
        if row is None:
            continue
        found = pane.query(CheckBadges)
        if found:
            found.first().show(row)
        else:
            pane.mount(CheckBadges(row))
    failed = sum(1 for row in rows.values() for v in (row["compliance"] or {}).values()
                 if v["verdict"] == "fail")
    if message.problem:
        screen.notify(message.problem, title="Checks stopped", severity="error", timeout=15)
    else:
        screen.notify(f"{failed} compliance check(s) failed; F6 on a pane shows why."
                      if failed else "Every compliance check passed or was not applicable.",
                      title="Checks cancelled" if message.cancelled else "Checks done")


def show_details(screen: Any) -> None:
    from infertui.tui.screens.checks import CheckDetails

    rows = getattr(screen, "check_rows", {}) or {}
    if not rows:
        screen.notify("No checks yet: F5 runs them on every target.", severity="warning")
        return
    pane = screen.focused_pane()
    label = pane.target.label if pane is not None and pane.target.label in rows else next(iter(rows))
    screen.app.push_screen(CheckDetails(rows[label]))
