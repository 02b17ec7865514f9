"""What the compare-screen tests share: building the app, waiting for a run."""

from __future__ import annotations

import io
from pathlib import Path

from textual.pilot import Pilot

from infertui.tui.app import InfertuiApp, create_app

SIZE = (160, 48)
FAST = 0.02  # simulator time scale: a 2 s stream plays in 40 ms


def make_app(tmp_path: Path, config_text: str | None = None, *, time_scale: float = FAST,
             seed: int = 0) -> InfertuiApp:
    config = None
    if config_text is not None:
        config = tmp_path / "config.toml"
        config.write_text(config_text, encoding="utf-8")
    return create_app(config, tmp_path / "results.db", sim_time_scale=time_scale, sim_seed=seed,
                      detect_local_servers=False)


async def wait_run(pilot: Pilot) -> None:
    """Until the run's worker is done and its end message handled."""
    app = pilot.app
    for _ in range(1000):
        if not app.compare.running:
            break
        await app.workers.wait_for_complete()  # returns at once if the run has not started yet
        await pilot.pause()
    await pilot.pause()
    assert not app.compare.running


def targets_of(app: InfertuiApp, *labels: str):
    return app.config.resolve_targets(labels)


def shown(widget) -> str:
    """The plain text a Static shows (rich renderables printed at 150 columns)."""
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    plain = getattr(content, "plain", None)
    if isinstance(plain, str):
        return plain
    console = Console(width=150, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()
