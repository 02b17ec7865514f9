"""The simulator's one implementation behind both front ends.

`SimService.handle` turns a request (method, path, query, headers, body) into
a reply: JSON (models, errors, ground truth) or frames to stream, generated
one at a time as they are played, so answering costs the same whatever the
answer's length. `SimService.play` paces the frames in real time.
`SimTransport` (in-process) and `SimServer` (loopback sockets) only move
bytes.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.simulator.encode import (
    Frame,
    encode_stream,
    error_body,
    models_body,
    request_id_header,
    stream_headers,
    unknown_model_message,
)
from infertui.core.simulator.engine import plan_stream
from infertui.core.simulator.profiles import PROFILES, SimProfile
from infertui.core.simulator.providers import (
    GENERIC_PROVIDER,
    base_profile,
    demo_provider_names,
    provider_api,
    sim_models,
)
from infertui.core.simulator.requests import BadRequest, Generation, models_api, parse_generation, route
from infertui.core.simulator.truth import GroundTruth, GroundTruthLog
from infertui.core.targets import Api

GROUND_TRUTH_PATH = "/_sim/ground-truth"
SIM_ID_HEADER = "x-sim-request-id"


@dataclass
class SimReply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    frames: Iterator[Frame] | None = None  # a stream, when set: lazy, play it once
    delay_s: float = 0.0  # before the status line, unscaled (HTTP errors take time too)
    record: GroundTruth | None = None
    disconnect: bool = False  # drop the connection after the last frame


def check_overrides(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Keys: "*" (every simulated model), a profile name (the model of that
    name on every provider), a provider name (all its models), or
    "PROVIDER/MODEL". Values: SimProfile fields. Anything unknown is a
    ValueError naming it."""
    checked: dict[str, dict[str, Any]] = {}
    providers = {GENERIC_PROVIDER, *demo_provider_names()}
    for key, settings in (overrides or {}).items():
        provider, sep, model = key.partition("/")
        probe: SimProfile | None
        if key == "*" or key in PROFILES or (not sep and key in providers):
            probe = PROFILES["fast"]
        elif sep and provider and (probe := base_profile(provider, model)) is not None:
            pass
        else:
            raise ValueError(
                f"simulator override {key!r}: not '*', a profile ({', '.join(PROFILES)}), "
                f"a simulated provider ({', '.join(sorted(providers))}) or one of their PROVIDER/MODEL")
        if not isinstance(settings, Mapping):
            raise ValueError(f"simulator override {key!r} must be a table of settings")
        probe.with_overrides(settings)  # raises on unknown or mistyped fields
        checked[key] = dict(settings)
    return checked


class SimService:
    def __init__(self, seed: int = 0, clock: Clock = monotonic_ns, time_scale: float = 1.0,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        if not (math.isfinite(time_scale) and time_scale >= 0):
            raise ValueError(f"time_scale must be a finite number >= 0, not {time_scale!r}")
        self.seed = seed
        self.clock = clock
        self.time_scale = time_scale
        self.ground_truth = GroundTruthLog()
        self._overrides = check_overrides(overrides)
        self._wall_clock = wall_clock
        self._counts: dict[tuple[str, str], int] = {}
        self._last_seen: dict[tuple[str, str], int] = {}
        self._misc = 0

    def profile_for(self, provider: str, model: str) -> SimProfile | None:
        profile = base_profile(provider, model)
        if profile is None:
            return None
        for key in ("*", model if model in PROFILES else None, provider, f"{provider}/{model}"):
            if key is not None and key in self._overrides:
                profile = profile.with_overrides(self._overrides[key])
        return profile

    def handle(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
               body: bytes, *, received_ns: int, provider: str | None = None) -> SimReply:
        """`headers` with lowercase names; `provider` as the front end found
        it (the transport's host name), overridden by a `/PROVIDER/v1` path."""
        api = models_api(headers, query) or provider_api(provider or "") or Api.OPENAI
        try:
            if path.rstrip("/") == GROUND_TRUTH_PATH:
                return self._truth_reply(method, query)
            found = route(method, path)
            provider = found.provider or provider or GENERIC_PROVIDER
            if found.operation == "models":
                api = models_api(headers, query) or provider_api(provider) or Api.OPENAI
                return self._json(200, models_body(api, provider, sim_models(provider)))
            assert found.api is not None
            api = found.api
            generation = parse_generation(api, body, found, query)
            profile = self.profile_for(provider, generation.model)
            if profile is None:
                raise BadRequest(unknown_model_message(api, generation.model), 404)
        except BadRequest as exc:
            return self._json(exc.status, error_body(api, exc.status, exc.message))
        return self._generate(api, provider, profile, generation, received_ns)

    def _generate(self, api: Api, provider: str, profile: SimProfile, generation: Generation,
                  received_ns: int) -> SimReply:
        key = (provider, generation.model)
        number = self._counts.get(key, 0)
        self._counts[key] = number + 1
        last = self._last_seen.get(key)
        self._last_seen[key] = received_ns
        idle_s = None
        if last is not None:
            idle_s = (received_ns - last) / 1e9
            if self.time_scale > 0:
                idle_s /= self.time_scale  # in the simulation's own time
        plan = plan_stream(profile, seed=self.seed, provider=provider, model=generation.model,
                           request_number=number, prompt=generation.prompt,
                           max_tokens=generation.max_tokens, reasoning=generation.reasoning,
                           idle_s=idle_s, stop=generation.stop, request_seed=generation.seed,
                           json_output=generation.json_output)
        record = GroundTruth(
            request_id=plan.request_id, provider=provider, model=generation.model, api=str(api),
            profile=profile.name, http_status=plan.http_error.status if plan.http_error else 200,
            received_ns=received_ns,
            planned_ttft_ns=(None if plan.known_ttft_s is None
                             else round(plan.known_ttft_s * self.time_scale * 1e9)),
            finish_reason=plan.finish_reason, failure=plan.failure.kind if plan.failure else None,
            input_tokens=plan.input_tokens, output_tokens=plan.output_tokens,
            reasoning_tokens=plan.reasoning_tokens, cold=plan.cold)
        self.ground_truth.add(record)
        ids = {**request_id_header(api, plan.request_id), SIM_ID_HEADER: plan.request_id}
        if plan.http_error is not None:
            error = plan.http_error
            return SimReply(error.status, {"content-type": "application/json", **ids, **error.headers},
                            body=error_body(api, error.status, error.message),
                            delay_s=error.delay_s, record=record)
        frames = encode_stream(api, plan, model=generation.model, created=int(self._wall_clock()),
                               include_usage=generation.include_usage)
        return SimReply(200, {**stream_headers(api, plan.request_id), SIM_ID_HEADER: plan.request_id},
                        frames=frames, record=record,
                        disconnect=plan.failure is not None and plan.failure.kind == "disconnect")

    def _json(self, status: int, body: bytes) -> SimReply:
        self._misc += 1
        return SimReply(status, {"content-type": "application/json",
                                 SIM_ID_HEADER: f"sim{self._misc:08x}"}, body=body)

    def _truth_reply(self, method: str, query: Mapping[str, str]) -> SimReply:
        if method.upper() != "GET":
            raise BadRequest(f"method {method} not allowed here; use GET", 405)
        request_id = query.get("request_id")
        if not request_id:
            return self._json(200, json.dumps({"request_ids": list(self.ground_truth)}).encode())
        record = self.ground_truth.get(request_id)
        if record is None:
            return self._json(404, json.dumps({"error": {
                "message": f"no ground truth for request {request_id!r}"}}).encode())
        return self._json(200, json.dumps(record.to_json()).encode())

    async def play(self, reply: SimReply, arrived: float | None = None) -> AsyncGenerator[Frame, None]:
        """The reply's frames, each when its time comes. `arrived`: the event
        loop's time (`loop.time()`) when the request arrived, which every
        frame's due time counts from (default: now). Each frame is encoded
        before its wait, and due times are absolute, so neither that work nor
        sleep overshoot adds up over a long stream; a time scale of 0 never
        sleeps."""
        loop = asyncio.get_running_loop()
        start = loop.time() if arrived is None else arrived
        record = reply.record
        planned = 0.0  # unscaled plan time so far
        due = 0.0
        for frame in reply.frames or ():
            planned += frame.delay_s
            if frame.kind and record is not None and record.planned_ttft_ns is None:
                # Hidden reasoning: the first step's time is known once it is generated.
                record.planned_ttft_ns = round(planned * self.time_scale * 1e9)
            if self.time_scale > 0 and frame.delay_s > 0:
                due += frame.delay_s * self.time_scale
                wait = start + due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            yield frame

    async def wait_before_headers(self, reply: SimReply, arrived: float | None = None) -> None:
        """An HTTP error's delay, counted from `arrived` (as in `play`)."""
        if reply.delay_s > 0 and self.time_scale > 0:
            loop = asyncio.get_running_loop()
            start = loop.time() if arrived is None else arrived
            wait = start + reply.delay_s * self.time_scale - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
