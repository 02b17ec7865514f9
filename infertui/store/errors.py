"""The two ways the store tells a user something is wrong, without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigProblem:
    path: Path | None
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class ConfigError(Exception):
    """Bad config. `str()` is `path:line: message` for the first problem;
    `problems` holds every problem found in one pass, for `config check`."""

    def __init__(self, path: Path | None, line: int | None, message: str,
                 problems: list[ConfigProblem] | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        self.problems = problems or [ConfigProblem(path, line, message)]
        super().__init__(str(self.problems[0]))

    def __str__(self) -> str:
        return str(self.problems[0])

    @classmethod
    def from_problems(cls, problems: list[ConfigProblem]) -> "ConfigError":
        first = problems[0]
        return cls(first.path, first.line, first.message, problems)

    def report(self) -> str:
        """Every problem, one `path:line: message` per line."""
        return "\n".join(str(p) for p in self.problems)


class StoreError(Exception):
    """The results database cannot be used as asked: corrupt, from a newer
    infertui, locked for too long, or no such session. The message says which
    file and what to do. `sqlite_code`: SQLite's primary result code when
    SQLite raised it (a locked or full database is worth trying again)."""

    def __init__(self, message: str = "", *, sqlite_code: int | None = None) -> None:
        super().__init__(message)
        self.sqlite_code = sqlite_code
