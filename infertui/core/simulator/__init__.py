"""The embedded simulator: simulated providers speaking all three wire formats.

One implementation, two front ends: `SimTransport` serves the built-in demo
providers in-process (no sockets), `SimServer` serves the same over loopback
HTTP (`infertui sim --port N`). Plain asyncio and httpx; never Textual.

    profiles   SimProfile and the named profiles
    engine     plan_stream: a reproducible plan for one response, its steps
               generated one at a time as they are played
    encode     a plan as OpenAI, Anthropic or Gemini bytes
    providers  the demo providers and their models
    service    routing and state shared by both front ends
    transport  SimTransport (httpx, in-process)
    server     SimServer (asyncio, loopback)
    threaded   ThreadedSimServer: the server for synchronous callers
    truth      GroundTruth: what the simulator really did, when
"""

from __future__ import annotations

from infertui.core.simulator.engine import StreamPlan, plan_stream
from infertui.core.simulator.profiles import PROFILES, SimProfile, get_profile
from infertui.core.simulator.providers import DEMO_MODELS, builtin_providers, sim_models
from infertui.core.simulator.server import SimServer, check_loopback
from infertui.core.simulator.service import SimService
from infertui.core.simulator.threaded import ThreadedSimServer
from infertui.core.simulator.transport import SimTransport
from infertui.core.simulator.truth import GroundTruth, GroundTruthLog

__all__ = [
    "DEMO_MODELS",
    "PROFILES",
    "GroundTruth",
    "GroundTruthLog",
    "SimProfile",
    "SimServer",
    "SimService",
    "SimTransport",
    "StreamPlan",
    "ThreadedSimServer",
    "builtin_providers",
    "check_loopback",
    "get_profile",
    "plan_stream",
    "sim_models",
]
