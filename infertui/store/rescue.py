"""When probes could not be saved: a file with the whole session, and words
that say what was lost and how to get it back.

The rescue file is the session's `infertui.session/1` document, exactly what
`probe --json` prints, so `infertui import FILE` stores it; probes that did
reach the store are skipped there. It goes to the first directory that takes
it: `rescue/` in the data directory, then the system's temporary directory
(the data directory's disk may be the one that is full), then the current one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from infertui.core.session import Session
from infertui.store import jsonsafe, paths
from infertui.textsafe import one_line

RESCUE_DIRNAME = "rescue"


@dataclass(frozen=True)
class UnsavedProbe:
    probe_id: str
    target: str  # PROVIDER/MODEL
    seq: int
    warmup: bool
    reason: str  # the store's last error for it, as it said it

    def label(self) -> str:
        return f"{self.target} #{self.seq}{' (warm-up)' if self.warmup else ''}"


@dataclass
class UnsavedSession:
    """What of one session is not in the store, and where it is instead."""

    session_id: str
    finished: int  # probes the session finished
    probes: list[UnsavedProbe] = field(default_factory=list)
    reason: str = ""  # the last error, the one that stopped the session's record
    rescue_path: Path | None = None
    rescue_error: str | None = None

    def headline(self) -> str:
        what = (f"{len(self.probes)} of {self.finished} probes" if self.probes
                else "the session's record")
        return (f"{what} of session {self.session_id} were not saved: "
                f"{one_line(self.reason, 300)}")

    def how_to_save(self) -> str:
        if self.rescue_path is not None:
            return (f"the whole session is in {self.rescue_path}; `infertui import "
                    f"{self.rescue_path}` saves it")
        return (f"no rescue file could be written ({self.rescue_error}); print the session "
                "with --json (or export it from the app) and `infertui import` that")

    def lines(self) -> list[str]:
        """The headline, one line per probe, then how to save them."""
        return ([self.headline()]
                + [f"  {one_line(p.label(), 120)}  probe {one_line(p.probe_id, 80)}"
                   for p in self.probes]
                + [self.how_to_save()])


def rescue_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    return [paths.data_dir(environ) / RESCUE_DIRNAME, Path(tempfile.gettempdir()), Path.cwd()]


def write_rescue(session: Session, dirs: list[Path] | None = None) -> Path:
    """Write the session document to a new owner-only file; raises OSError
    (every directory's reason) when none takes it."""
    text = jsonsafe.session_json(session) + "\n"
    data = text.encode("utf-8")
    name = f"infertui-session-{one_line(session.session_id, 64).replace('/', '_')}"
    failures = []
    for directory in dirs if dirs is not None else rescue_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=paths.DIR_MODE)
            path = _new_file(directory, name)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return path
        except OSError as exc:
            failures.append(f"{directory}: {exc.strerror or exc}")
    raise OSError("; ".join(failures) or "no directory to write to")


def _new_file(directory: Path, name: str) -> Path:
    path = directory / f"{name}.json"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{name}-{n}.json"
    return path
