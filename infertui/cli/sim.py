"""`infertui sim`: the simulated providers over loopback HTTP, for other tools,
benchmarks and curl."""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
from typing import TYPE_CHECKING, TextIO

from infertui.cli.common import CliError

if TYPE_CHECKING:
    from infertui.core.simulator.server import SimServer

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="serve the simulated providers on a loopback port",
        description="Serve the simulated providers over HTTP on this machine. Every base URL "
                    "speaks all three wire formats (OpenAI chat completions, Anthropic "
                    "messages, Gemini streamGenerateContent?alt=sse); the path picks one.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="loopback address to bind: 127.0.0.1 (default), ::1 or localhost")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for every simulated timing and text (default 0)")
    parser.add_argument("--time-scale", type=float, default=1.0, metavar="X",
                        help="multiply every simulated delay by X (default 1; 0 = no delays)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infertui.core.simulator.server import check_loopback

    try:
        host = check_loopback(args.host)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be between 0 and 65535, not {args.port}")
    if not (math.isfinite(args.time_scale) and args.time_scale >= 0):
        raise CliError(f"--time-scale must be a number >= 0, not {args.time_scale}")
    try:
        return asyncio.run(_serve(host, args.port, args.seed, args.time_scale, sys.stdout))
    except KeyboardInterrupt:  # where the loop cannot catch signals itself
        return 0


async def _serve(host: str, port: int, seed: int, time_scale: float, out: TextIO) -> int:
    from infertui.core.simulator.server import SimServer

    server = SimServer(host=host, port=port, seed=seed, time_scale=time_scale)
    try:
        await server.start()
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not on this platform: KeyboardInterrupt ends the run instead
    try:
        out.write(banner(server, seed, time_scale))
        out.flush()
        await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await server.stop()
    out.write("simulator stopped\n")
    out.flush()
    return 0


def banner(server: SimServer, seed: int, time_scale: float) -> str:
    from infertui.core.simulator.profiles import PROFILES
    from infertui.core.simulator.providers import builtin_providers, sim_models
    from infertui.core.simulator.service import GROUND_TRUTH_PATH

    lines = [f"infertui simulator listening on {server.origin} (seed {seed}, time scale {time_scale:g})",
             "",
             "Base URLs (each speaks all three formats; the path picks one):"]
    for provider in builtin_providers():
        demo = [m for m in sim_models(provider.name) if m not in PROFILES]
        lines.append(f"  {server.url_for(provider.name):<42} {provider.api.value:<9} "
                     f"{' '.join(demo)} + every profile")
    lines.append(f"  {server.url:<42} {'any':<9} profiles only")
    lines += ["", "Profiles (a model of the same name on every base URL):"]
    lines += [f"  {p.name:<12} {p.description}" for p in PROFILES.values()]
    example_base = server.url_for("sim-alpha")
    lines += [
        "",
        "Endpoints under a base URL:",
        "  POST {base}/chat/completions                          OpenAI SSE",
        "  POST {base}/messages                                  Anthropic SSE",
        "  POST {base}/models/MODEL:streamGenerateContent?alt=sse  Gemini SSE",
        "  GET  {base}/models                                    model list",
        f"  GET  {server.origin}{GROUND_TRUTH_PATH}?request_id=ID   what really happened",
        "",
        "Try:",
        f"  curl -N {example_base}/chat/completions -H 'content-type: application/json' \\",
        "    -d '{\"model\": \"demo-70b\", \"stream\": true, "
        "\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}]}'",
        "",
        "Press Ctrl+C to stop.",
        "",
    ]
    return "\n".join(lines)
