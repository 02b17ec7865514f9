"""Messages the app's workers post; handlers on the screens own the state."""

from __future__ import annotations

from textual.message import Message

from infertui.core.models import ModelList
from infertui.core.session import Session


class RunEnded(Message):
    """A comparison run is over (finished or cancelled); `session` has every
    finished probe."""

    def __init__(self, session: Session, cancelled: bool, store_problems: list[str]) -> None:
        super().__init__()
        self.session = session
        self.cancelled = cancelled
        self.store_problems = store_problems


class ModelsListed(Message):
    """One provider's model list (or why there is none) arrived."""

    def __init__(self, listed: ModelList) -> None:
        super().__init__()
        self.listed = listed


class LocalServersFound(Message):
    """The start-up check of the usual loopback ports is done."""

    def __init__(self, running: list[str]) -> None:
        super().__init__()
        self.running = running
