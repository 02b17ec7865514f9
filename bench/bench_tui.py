"""Does the app keep up, and does it disturb the measurement?

Run: .venv/bin/python bench/bench_tui.py   (part of `bench/run`; about 80 s)

The simulator serves 12 streams of one-token chunks at 200 chunks/s each for
30 s, as one loopback HTTP server in its own process; it records on
CLOCK_MONOTONIC when each request arrived and when its first content event
was written and drained (the ground truth). The same 12 targets then run
twice against it, each time in a fresh process:

- headless: the core's Runner alone, as `infertui probe` runs it;
- ui: the whole app (headless Textual through `run_test`, 160x48), 12 panes
  streaming, frames rendered to ANSI as a terminal would get them.

Both report the event loop's lag (a 10 ms sleeper, how late it wakes), the
frames the app rendered, peak memory (ru_maxrss) and, per probe, the TTFT
measurement error: client TTFT minus the server's ground truth. What stalls
the loop is measured too, while the probes stream: the cyclic GC's passes
(gc.callbacks), and in the app the time each frame took to compose and turn
into terminal bytes, and the screen layouts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_notes, median, write_section

PANES = 12
CHUNKS_PER_S = 200
SECONDS = int(os.environ.get("BENCH_TUI_SECONDS", "30"))  # shorter for a quick look
STREAM = {"ttft_ms": 250.0, "ttft_sigma": 0.0, "prefill_ms_per_ktok": 0.0,
          "tokens_per_s": float(CHUNKS_PER_S), "rate_sigma": 0.0, "gap_sigma": 0.0,
          "answer_tokens": CHUNKS_PER_S * SECONDS, "answer_sigma": 0.0,
          "chunk_tokens_min": 1, "chunk_tokens_max": 1, "stall_prob": 0.0}
LAG_INTERVAL_S = 0.010
NOTE = ("On a 2-core machine the app shares the CPU with the simulator's process: compare its CPU "
        "time with the wall time. What the app costs the loop is in the frame, layout and GC rows. A "
        "frame redraws only the panes whose text moved, and each of Textual's widgets in the redrawn "
        "area costs a render call: a pane is three widgets (header, text, and the text's scrollbar "
        "drawn inside it). No layout happens while text streams (a scrollbar appearing or the "
        "summary growing would lay out the whole screen), and the requests go out once the panes "
        "are mounted. Young GC passes run every 10,000 allocations instead of 700 during a run: each "
        "young pass promotes the Textual strips on screen, which hold reference cycles and die a "
        "frame later, into the generation only full passes free. The panes' live numbers are "
        "redrawn five times a second, each pane at its own phase, so that the frames around a first "
        "byte stay short (the TTFT error rows). The headless column is the measurement without any "
        "of it.")


# -- the server process -------------------------------------------------------------

def serve(port_queue: multiprocessing.Queue) -> None:
    from infertui.core.simulator.server import SimServer

    async def main() -> None:
        server = SimServer(port=0, seed=1, overrides={"fast": STREAM})
        await server.start()
        port_queue.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def truth_ttft_ms(origin: str, request_id: str) -> float | None:
    url = f"{origin}/_sim/ground-truth?request_id={request_id}"
    with urllib.request.urlopen(url, timeout=10) as response:
        record = json.load(response)
    first = record.get("first_content_ns")
    if first is None:
        times, kinds = record.get("event_ns") or [], record.get("event_kinds") or []
        first = next((t for t, k in zip(times, kinds, strict=True) if k == "content"), None)
    return None if first is None else (first - record["received_ns"]) / 1e6


# -- one measured run (a child process) ----------------------------------------------

class LagSampler:
    """Sleeps LAG_INTERVAL_S over and over and records how late it woke (ms)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.times: list[float] = []  # when each wake-up came (perf_counter, s)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(LAG_INTERVAL_S)
            now = time.perf_counter()
            self.lags.append(max(0.0, (now - before - LAG_INTERVAL_S) * 1000))
            self.times.append(now)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class StreamWindow:
    """When the first chunk arrived and the last probe finished (perf_counter, s)."""

    def __init__(self) -> None:
        self.first_chunk: float | None = None
        self.last_finish: float | None = None

    def __call__(self, event) -> None:
        from infertui.core.events import ProbeChunk, ProbeFinished

        if self.first_chunk is None and type(event) is ProbeChunk:
            self.first_chunk = time.perf_counter()
        elif type(event) is ProbeFinished:
            self.last_finish = time.perf_counter()

    def lags(self, sampler: LagSampler) -> list[float]:
        lo, hi = self.first_chunk or 0.0, self.last_finish or float("inf")
        return [lag for lag, t in zip(sampler.lags, sampler.times, strict=True) if lo <= t <= hi]

    def during(self, timed: list[tuple[float, float]]) -> list[float]:
        """The durations (ms) of the (start, ms) pairs that began while streaming."""
        lo, hi = self.first_chunk or 0.0, self.last_finish or float("inf")
        return [ms for t, ms in timed if lo <= t <= hi]


class GcPasses:
    """(start, ms) of every cyclic-GC pass, by generation (a gc.callbacks entry)."""

    def __init__(self) -> None:
        self.passes: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.passes[info["generation"]].append(
                (self._started, (time.perf_counter() - self._started) * 1000))


def timed_method(cls, name: str, log: list[tuple[float, float]]) -> None:
    """Record (start, ms) of every call of cls.name."""
    real = getattr(cls, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            log.append((started, (time.perf_counter() - started) * 1000))

    setattr(cls, name, timed)


def bench_targets(urls: list[str]):
    from infertui.core.targets import Api, Provider, Target, Timeouts

    return [Target(Provider(f"bench-{i:02d}", Api.OPENAI, url, max_concurrency=1,
                            timeouts=Timeouts(total=SECONDS * 4)), "fast") for i, url in enumerate(urls)]


def params():
    from infertui.core.session import RunSettings
    from infertui.core.targets import ProbeParams

    return ProbeParams("Why is the sky blue?", max_tokens=CHUNKS_PER_S * SECONDS + 10), RunSettings()


async def run_headless(urls: list[str]) -> dict:
    from infertui.core.runner import Runner

    sampler = LagSampler()
    sampler.start()
    p, settings = params()
    started = time.perf_counter()
    window = StreamWindow()
    session = await Runner(bench_targets(urls), p, settings).run(window)
    elapsed = time.perf_counter() - started
    sampler.stop()
    return {"probes": session.probes, "lags": sampler.lags, "stream_lags": window.lags(sampler),
            "elapsed": elapsed, "frames": 0, "ticks": 0, "window": window}


async def run_ui(urls: list[str]) -> dict:
    from textual.screen import Screen

    from infertui.tui.app import create_app
    from infertui.tui.feed import RunFeed

    # A frame: the compositor renders what changed, then `_display` turns it
    # into terminal bytes (below). A layout places every widget again, then
    # renders the whole screen.
    frame_log: list[tuple[float, float]] = []
    layout_log: list[tuple[float, float]] = []
    timed_method(Screen, "_compositor_refresh", frame_log)
    timed_method(Screen, "_refresh_layout", layout_log)
    window = StreamWindow()
    feed_call = RunFeed.__call__

    def observed(self, event) -> None:
        window(event)
        feed_call(self, event)

    RunFeed.__call__ = observed
    with tempfile.TemporaryDirectory() as home:
        os.environ["INFERTUI_CONFIG_DIR"] = f"{home}/config"
        os.environ["INFERTUI_DATA_DIR"] = f"{home}/data"
        app = create_app(detect_local_servers=False, store_path=f"{home}/results.db")
        frames = 0
        real_display = app._display

        def display(screen, renderable) -> None:
            # Headless Textual skips turning frames into terminal bytes; do it
            # here, so the app pays what it would pay on a real terminal.
            nonlocal frames
            if renderable is not None:
                frames += 1
                renderable.render_segments(app.console)
            real_display(screen, renderable)

        app._display = display
        async with app.run_test(size=(160, 48)) as pilot:
            compare = app.compare
            ticks = 0
            real_frame = compare._frame

            def frame(*args, **kwargs) -> None:
                nonlocal ticks
                ticks += 1
                real_frame(*args, **kwargs)

            compare._frame = frame
            compare._frame_timer.stop()
            compare._frame_timer = compare.set_interval(1 / 25, frame, pause=True)
            await pilot.pause()
            sampler = LagSampler()
            sampler.start()
            p, settings = params()
            started = time.perf_counter()
            compare.start_run(bench_targets(urls), p, settings)
            while compare.running:
                await app.workers.wait_for_complete()
                await pilot.pause()
            elapsed = time.perf_counter() - started
            await pilot.pause()
            sampler.stop()
            shown = sum(len(pane.text) for pane in compare.panes.values())
            session = compare.session
        return {"probes": session.probes, "lags": sampler.lags, "stream_lags": window.lags(sampler),
                "elapsed": elapsed, "window": window,
                "frames": frames, "ticks": ticks, "shown_chars": shown,
                "frame_ms": window.during(frame_log), "layout_ms": window.during(layout_log)}


def child(mode: str, origins: list[str], out: str) -> None:
    from infertui.core import metrics

    urls = [f"{origin}/v1" for origin in origins]
    gc_passes = GcPasses()
    gc.callbacks.append(gc_passes)
    result = asyncio.run(run_ui(urls) if mode == "ui" else run_headless(urls))
    gc.callbacks.remove(gc_passes)
    window: StreamWindow = result["window"]
    gc_ms = {str(gen): window.during(passes) for gen, passes in gc_passes.passes.items()}
    errors, chunks, statuses = [], 0, []
    for probe in result["probes"]:
        origin = probe.target.provider.base_url.removesuffix("/v1")
        statuses.append(str(probe.status))
        chunks += len(probe.chunks)
        ttft = metrics.ttft_ms(probe)
        truth = truth_ttft_ms(origin, probe.request_id) if probe.request_id else None
        if ttft is not None and truth is not None:
            errors.append(ttft - truth)
    lags = result["lags"]
    Path(out).write_text(json.dumps({
        "mode": mode, "statuses": statuses, "chunks": chunks, "elapsed": result["elapsed"],
        "ttft_errors_ms": errors,
        "lag_p50_ms": metrics.percentile(lags, 50), "lag_p99_ms": metrics.percentile(lags, 99),
        "lag_max_ms": max(lags) if lags else None,
        "stream_lag_p50_ms": metrics.percentile(result["stream_lags"], 50),
        "stream_lag_p99_ms": metrics.percentile(result["stream_lags"], 99),
        "stream_lag_max_ms": max(result["stream_lags"], default=None),
        "frames": result["frames"], "ticks": result["ticks"],
        "shown_chars": result.get("shown_chars"),
        "frame_ms": result.get("frame_ms"), "layout_ms": result.get("layout_ms"), "gc_ms": gc_ms,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": time.process_time(),
    }))


# -- the whole benchmark ------------------------------------------------------------

def measure(mode: str, origins: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([sys.executable, __file__, "--child", mode, "--origins", ",".join(origins),
                        "--out", out], check=True)
        return json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)


def fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def gc_counts(run: dict) -> str:
    return " / ".join(str(len(run["gc_ms"][gen])) for gen in ("0", "1", "2"))


def gc_longest(run: dict) -> float | None:
    return max((ms for passes in run["gc_ms"].values() for ms in passes), default=None)


def main(write: bool = True) -> None:
    from infertui.core import metrics

    # One server process for every stream: the simulator generates each step
    # only when it is due, so no request waits on another's answer.
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        origins = [f"http://127.0.0.1:{ports.get(timeout=60)}"] * PANES
        headless = measure("headless", origins)
        ui = measure("ui", origins)
    finally:
        server.terminate()
        server.join(5)

    def err(run: dict, q: float) -> float | None:
        return metrics.percentile(run["ttft_errors_ms"], q)

    fps = ui["frames"] / ui["elapsed"]
    ticks = ui["ticks"] / ui["elapsed"]
    rows = [
        ("probes ok", f"{headless['statuses'].count('ok')}/{PANES}", f"{ui['statuses'].count('ok')}/{PANES}", ""),
        ("chunks received", f"{headless['chunks']}", f"{ui['chunks']}", ""),
        ("wall time, s", fmt(headless["elapsed"], 1), fmt(ui["elapsed"], 1), ""),
        ("event-loop lag while streaming p50, ms", fmt(headless["stream_lag_p50_ms"]),
         fmt(ui["stream_lag_p50_ms"]), ""),
        ("event-loop lag while streaming p99, ms (target <= 50)", fmt(headless["stream_lag_p99_ms"]),
         fmt(ui["stream_lag_p99_ms"]), ""),
        ("event-loop lag while streaming max, ms", fmt(headless["stream_lag_max_ms"]),
         fmt(ui["stream_lag_max_ms"]), ""),
        ("event-loop lag, whole run p99, ms (ui: with mounting the 12 panes)",
         fmt(headless["lag_p99_ms"]), fmt(ui["lag_p99_ms"]), ""),
        ("event-loop lag, whole run max, ms", fmt(headless["lag_max_ms"]), fmt(ui["lag_max_ms"]), ""),
        ("frames rendered per second", "—", fmt(fps, 1), ""),
        ("frame-timer ticks per second (at most 25)", "—", fmt(ticks, 1), ""),
        ("time per frame while streaming p50 / p99 / max, ms (compose, then terminal bytes)", "—",
         " / ".join(fmt(x, 1) for x in (metrics.percentile(ui["frame_ms"], 50),
                                         metrics.percentile(ui["frame_ms"], 99),
                                         max(ui["frame_ms"], default=None))), ""),
        ("screen layouts while streaming", "—", f"{len(ui['layout_ms'])}", ""),
        ("cyclic GC passes while streaming: young / middle / full", gc_counts(headless), gc_counts(ui), ""),
        ("cyclic GC: longest pass while streaming, ms", fmt(gc_longest(headless), 1), fmt(gc_longest(ui), 1), ""),
        ("CPU time of the process, s", fmt(headless["cpu_s"], 1), fmt(ui["cpu_s"], 1),
         fmt(ui["cpu_s"] / headless["cpu_s"], 1) + "x"),
        ("peak memory (ru_maxrss), MiB", fmt(headless["maxrss_mib"], 0), fmt(ui["maxrss_mib"], 0),
         fmt(ui["maxrss_mib"] / headless["maxrss_mib"], 1) + "x"),
        ("TTFT error median, ms", fmt(median(headless["ttft_errors_ms"])), fmt(median(ui["ttft_errors_ms"])), ""),
        ("TTFT error p99, ms", fmt(err(headless, 99)), fmt(err(ui, 99)), ""),
        ("TTFT error max, ms", fmt(max(headless["ttft_errors_ms"], default=None)),
         fmt(max(ui["ttft_errors_ms"], default=None)), ""),
    ]
    lines = [
        "## TUI: 12 panes at 200 chunks/s each",
        "",
        "Command: `.venv/bin/python bench/bench_tui.py` (part of `bench/run`).",
        "",
        f"Machine: {machine_notes()}.",
        "",
        f"{PANES} targets, one probe each, against the simulator as one loopback HTTP server in a process "
        f"of its own: TTFT 250 ms, then {CHUNKS_PER_S} one-token chunks/s for {SECONDS} s per stream "
        f"({PANES * CHUNKS_PER_S} chunks/s in all). The same run twice, each in a fresh process: "
        "*headless* is the core's Runner alone; *ui* is the whole app (Textual headless through "
        "`run_test` at 160x48, every frame also turned into terminal bytes, as a real terminal "
        "would cost). Event-loop lag: a 10 ms sleeper, how late it wakes; *while streaming* is from "
        "the first chunk to the last probe's end, *whole run* also has the app mounting its 12 "
        "panes before the requests go out and drawing the final results. TTFT error: client TTFT "
        "minus the server's ground truth (its first content write, drained, minus the request's "
        "arrival), per probe.",
        "",
        "| | headless | ui | ui/headless |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {a} | {b} | {c} |" for name, a, b, c in rows]
    lines += [
        "",
        "Frames are capped by the app's frame timer (25 per second): the panes take the text that "
        "arrived since the last frame in one go, never one refresh per token. " + NOTE,
    ]
    body = "\n".join(lines)
    print(body)
    if write:
        write_section("bench_tui", body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["headless", "ui"])
    parser.add_argument("--origins")
    parser.add_argument("--out")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.origins.split(","), args.out)
    else:
        main(write=not args.no_write)
