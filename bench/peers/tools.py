"""Running each tool once against a server, and reading back, from the
tool's own output files, one record per request it sent.

Every tool runs as a subprocess, as its users run it; its CPU time is the
child's user + system time (resource.RUSAGE_CHILDREN around the run), start-up
included.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# 24 words and infertui's nonce are 64 tokens of the tiny model's tokenizer,
# as many as the peers' synthetic prompts are asked to have.
PROMPT_WORDS = 24
TOOLS = ("infertui", "guidellm", "aiperf")


@dataclass
class Record:
    """One request as a tool saw it."""

    ok: bool
    ttft_ms: float | None = None
    output_tokens: int | None = None
    decode_tps: float | None = None
    response_id: str | None = None  # the server's id, when the tool kept it
    start_s: float | None = None  # wall clock, when the tool started the request
    error: str | None = None  # the tool's own message for a failed request


@dataclass
class Run:
    tool: str
    records: list[Record]
    cpu_s: float
    wall_s: float
    notes: list[str] = field(default_factory=list)


@dataclass
class Target:
    """What every tool is pointed at."""

    name: str  # "sim" or "llama-server"
    origin: str  # http://127.0.0.1:PORT
    model: str
    tokenizer: Path  # a local HF tokenizer directory
    max_tokens: int


def _timed(argv: list[str], env: dict[str, str], log: Path, timeout: float) -> tuple[float, float]:
    """Run to completion; (CPU seconds of the child, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with log.open("wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env, timeout=timeout, check=False)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{argv[0]} exited {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(extra)
    return env


def prompt_text() -> str:
    words = ("the request leaves the client and the first token comes back from the "
             "server after the prompt has been read and the cache filled").split()
    return " ".join(words[i % len(words)] for i in range(PROMPT_WORDS))


def run_infertui(target: Target, concurrency: int, requests: int, work: Path) -> Run:
    home = work / "infertui-home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    # A provider of its own: the ad hoc --base-url one stops at 16 in flight.
    (home / "config" / "config.toml").write_text(
        f'[providers.bench]\napi = "openai"\nbase_url = "{target.origin}/v1"\n'
        f"max_concurrency = {concurrency}\n")
    out = work / "infertui.json"
    argv = [sys.executable, "-m", "infertui", "probe", "-t", f"bench/{target.model}",
            "-p", prompt_text(), "--max-tokens", str(target.max_tokens), "--temperature", "0",
            "-n", str(requests), "-c", str(concurrency), "--nonce", "--json", "--no-save"]
    env = _clean_env(INFERTUI_CONFIG_DIR=str(home / "config"), INFERTUI_DATA_DIR=str(home / "data"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with out.open("wb") as stdout, (work / "infertui.log").open("wb") as stderr:
        done = subprocess.run(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                              env=env, timeout=1800, check=False)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"infertui exited {done.returncode}: {(work / 'infertui.log').read_text()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    records = []
    for p in json.loads(out.read_text())["probes"]:
        start = datetime.fromisoformat(p["sent_at"]).timestamp() if p.get("sent_at") else None
        error = p.get("error") or {}
        records.append(Record(ok=p["status"] == "ok", ttft_ms=p["ttft_ms"],
                              output_tokens=p["output_tokens"], decode_tps=p["decode_tps"],
                              response_id=p["request_id"], start_s=start,
                              error=f"{error.get('kind')}: {error.get('message')}" if error else None))
    return Run("infertui", records, cpu, wall)


def run_guidellm(binary: str, target: Target, concurrency: int, requests: int, work: Path) -> Run:
    out = work / "guidellm.json"
    argv = [binary, "run",
            "--backend", f"kind=openai_http,target={target.origin},model={target.model},"
                         f"max_tokens={target.max_tokens},validate_backend=false",
            "--profile", f"kind=concurrent,streams={concurrency}",
            "--constraint", f"kind=max_requests,count={requests}",
            "--tokenizer", f"kind=huggingface_auto,model={target.tokenizer}",
            "--data", f"kind=synthetic_text,prompt_tokens=64,output_tokens={target.max_tokens}",
            "--output", f"kind=json,path={out}",
            # A new seed every run: with its fixed default every run sends the
            # same prompts, which llama-server then finds in its prompt cache.
            "--seed", f"kind=static,value={int.from_bytes(os.urandom(4), 'big')}",
            "--disable-console-interactive"]
    cpu, wall = _timed(argv, _clean_env(HF_HUB_OFFLINE="1"), work / "guidellm.log", 1800)
    (bench,) = json.loads(out.read_text())["benchmarks"]
    records = []
    for status, rows in bench["requests"].items():
        if status == "total":
            continue
        for r in rows:
            itl = r.get("inter_token_latency_ms")
            records.append(Record(
                ok=status == "successful", ttft_ms=r.get("time_to_first_token_ms"),
                output_tokens=r.get("output_tokens"),
                decode_tps=1000.0 / itl if itl else None,
                response_id=r.get("response_id"), start_s=r.get("request_start_time"),
                error=(r.get("info") or {}).get("error")))
    return Run("guidellm", records, cpu, wall)


def run_aiperf(binary: str, target: Target, concurrency: int, requests: int, work: Path) -> Run:
    out = work / "aiperf"
    argv = [binary, "profile", "--model", target.model, "--url", target.origin,
            "--endpoint-type", "chat", "--streaming", "--concurrency", str(concurrency),
            "--request-count", str(requests), "--tokenizer", str(target.tokenizer),
            "--prompt-input-tokens-mean", "64", "--prompt-output-tokens-mean",
            str(target.max_tokens), "--artifact-dir", str(out), "--ui", "none"]
    # Not HF_HUB_OFFLINE: aiperf 0.13.0 refuses a local tokenizer path with it set.
    cpu, wall = _timed(argv, _clean_env(), work / "aiperf.log", 1800)
    records = []
    for line in (out / "profile_export.jsonl").read_text().splitlines():
        row = json.loads(line)
        metrics, meta = row.get("metrics") or {}, row.get("metadata") or {}

        def value(name: str, metrics: dict = metrics) -> float | None:
            item = metrics.get(name)
            return None if item is None else item.get("value")

        itl = value("inter_token_latency")
        ttft = value("time_to_first_token")
        error = row.get("error")
        ok = not error and ttft is not None
        start = meta.get("request_start_ns")
        records.append(Record(ok=ok, ttft_ms=ttft, output_tokens=value("output_token_count"),
                              decode_tps=1000.0 / itl if itl else None,
                              start_s=start / 1e9 if start else None,
                              error=None if ok else str(error or "no first token")))
    return Run("aiperf", records, cpu, wall)
