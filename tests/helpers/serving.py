"""`infertui serve` as a user starts it: a subprocess on a free loopback port,
its printed URL read from stdout."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

URL_LINE = re.compile(r"^infertui serve: open (http://\S+)$")


@dataclass
class ServeProcess:
    proc: subprocess.Popen
    url: str
    stderr_path: Path
    stdout_lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.url).query)["token"][0]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def descendants(self) -> dict[int, dict[str, str]]:
        """pid -> environment of every process the server started (Linux /proc)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found: dict[int, dict[str, str]] = {}
        todo = list(children.get(self.proc.pid, []))
        while todo:
            pid = todo.pop()
            try:
                raw = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            found[pid] = dict(item.decode(errors="replace").partition("=")[::2]
                              for item in raw.split(b"\0") if item)
            todo += children.get(pid, [])
        return found

    def stop(self) -> str:
        """SIGINT (Ctrl+C), wait, and return stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.stderr()


def start_serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
                timeout_s: float = 60.0) -> ServeProcess:
    """Start `infertui serve --port 0 ARGS` and wait for the URL it prints."""
    stderr_path = tmp_path / "serve-stderr.txt"
    environment = {**os.environ, **(env or {})}
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "infertui", "serve", "--port", "0", *args],
                                stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                env=environment, text=True)
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            match = URL_LINE.match(lines[-1])
            if match:
                served = ServeProcess(proc, match[1], stderr_path, lines)
                # Keep reading, so the server never blocks on a full pipe.
                threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
                return served
    finally:
        selector.close()
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError(f"infertui serve printed no URL: stdout {lines!r}, stderr "
                         f"{stderr_path.read_text(errors='replace')!r}")


def _drain(proc: subprocess.Popen, lines: list[str]) -> None:
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))  # noqa: PERF401 - one by one: a reader in another thread waits
