"""Starting, waiting for and stopping the real servers of the e2e tests, and
talking to them directly (urllib, no infertui code) for the reference answers.

Every server binds 127.0.0.1 on a free port and writes its output to a log
file, which a failed start prints.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
PREPARE = ROOT / "tests" / "e2e" / "prepare"
TINYLLAMA = ROOT / "tests" / "e2e" / "tinyllama.py"
MODEL_NAME = "tinyllama"
# Cold builds take minutes (README "End-to-end tests"); a warm cache, seconds.
PREPARE_TIMEOUT_S = 40 * 60
START_TIMEOUT_S = 120


def prepare() -> dict[str, str]:
    """Build or reuse the servers (tests/e2e/prepare); their paths by name."""
    done = subprocess.run([str(PREPARE), "--print"], capture_output=True, text=True,
                          timeout=PREPARE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tests/e2e/prepare failed:\n{done.stderr[-4000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def make_model(model_python: str, out: Path, hidden: int = 512, layers: int = 8) -> Path:
    subprocess.run([model_python, str(TINYLLAMA), str(out), "--hidden", str(hidden),
                    "--layers", str(layers)], check=True, capture_output=True, timeout=300)
    return out / "tinyllama.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, body: Any = None, headers: dict[str, str] | None = None,
              timeout: float = 120) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={
        "content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def http_text(url: str, timeout: float = 30) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, its sockets closed by the kernel."""
        self.process.kill()
        self.process.wait(10)


def start(name: str, argv: list[str], port: int, log_dir: Path, ready: Callable[[str], bool],
          env: dict[str, str] | None = None) -> Server:
    """Start `argv` and poll `ready(origin)` until it holds (deadline
    START_TIMEOUT_S); a process that exits or never gets ready fails with its log."""
    log_path = log_dir / f"{name}-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})}, start_new_session=True)
    log.close()
    server = Server(name, process, port, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log()[-4000:]}")
        try:
            if ready(server.origin):
                return server
        except (OSError, ValueError):
            pass  # not listening yet, or not answering yet
        time.sleep(0.2)  # a poll interval, bounded by the deadline above
    server.stop()
    raise RuntimeError(f"{name} not ready in {START_TIMEOUT_S} s:\n{server.log()[-4000:]}")


def _status_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return False  # 503 while llama-server loads the model


# One compute thread: ggml's threads wait for each other at every step by
# spinning, and on a two-core machine busy with other work two threads made
# llama-server 15x slower (0.5 tokens/s against 7.4 with one, measured here
# while a compiler ran); one thread is slower only on an idle machine.
def start_llama_server(binary: str, model: Path, log_dir: Path, parallel: int = 4,
                       port: int | None = None) -> Server:
    port = port or free_port()
    argv = [binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
            "--alias", MODEL_NAME, "--metrics", "--jinja", "-c", str(2048 * parallel),
            "-np", str(parallel), "--threads", "1"]
    return start("llama-server", argv, port, log_dir, lambda o: _status_ok(f"{o}/health"))


def start_llama_cpp_python(python: str, model: Path, log_dir: Path) -> Server:
    port = free_port()
    argv = [python, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
            "--n_threads", "1", "--interrupt_requests", "False"]
    return start("llama-cpp-python", argv, port, log_dir, lambda o: _status_ok(f"{o}/v1/models"))


LITELLM_KEY = "sk-infertui-e2e"  # a local proxy's master key, made up for the test


def start_litellm(litellm: str, upstream: Server, log_dir: Path) -> Server:
    port = free_port()
    config = log_dir / f"litellm-{port}.yaml"
    # JSON is YAML: one model, served by llama-server through the OpenAI API.
    config.write_text(json.dumps({
        "model_list": [{"model_name": MODEL_NAME, "litellm_params": {
            "model": f"openai/{MODEL_NAME}", "api_base": upstream.base_url, "api_key": "none"}}],
        "general_settings": {"master_key": LITELLM_KEY},
        "litellm_settings": {"telemetry": False, "drop_params": True},
        # One failed test must not put the only deployment on a cooldown that
        # fails the next ones with 429.
        "router_settings": {"disable_cooldowns": True},
    }))
    argv = [litellm, "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", "1"]
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "NO_DOCS": "True", "LITELLM_LOG": "ERROR"}
    server = start("litellm", argv, port, log_dir,
                   lambda o: _status_ok(f"{o}/health/liveliness"), env=env)
    server.extra["key"] = LITELLM_KEY
    return server


def chat(base_url: str, prompt: str, max_tokens: int, stream: bool = False,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A plain chat completion at temperature 0: {"text", "usage", "timings",
    "finish_reason"} (timings: llama-server's, from the last streamed chunk)."""
    body = {"model": MODEL_NAME, "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens, "temperature": 0, "stream": stream}
    if not stream:
        reply = http_json(f"{base_url}/chat/completions", body, headers)
        choice = reply["choices"][0]
        return {"text": choice["message"]["content"], "usage": reply.get("usage"),
                "timings": reply.get("timings"), "finish_reason": choice.get("finish_reason")}
    body["stream_options"] = {"include_usage": True}
    request = urllib.request.Request(f"{base_url}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json", **(headers or {})})
    text, usage, timings, finish = [], None, None, None
    with urllib.request.urlopen(request, timeout=120) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            usage = chunk.get("usage") or usage
            timings = chunk.get("timings") or timings
            for choice in chunk.get("choices") or []:
                text.append((choice.get("delta") or {}).get("content") or "")
                finish = choice.get("finish_reason") or finish
    return {"text": "".join(text), "usage": usage, "timings": timings, "finish_reason": finish}


def infertui(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real command line, as a user runs it (isolated dirs come from the
    environment the tests' conftest sets)."""
    return subprocess.run([sys.executable, "-m", "infertui", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def probe(base_url: str, *args: str, api: str = "openai", model: str = MODEL_NAME,
          timeout: float = 300) -> dict[str, Any]:
    """`infertui probe --base-url ... --json`: the session document."""
    done = infertui("probe", "--base-url", base_url, "--api", api, "--model", model,
                    "--json", "--no-save", *args, timeout=timeout)
    assert done.returncode == 0, f"infertui probe exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def errors_of(session: dict[str, Any]) -> list[str]:
    """One line per probe that did not end ok, for assertion messages."""
    return [f"probe {p['seq']}: {p['status']} {p['error']}" for p in session["probes"]
            if p["status"] != "ok"]
