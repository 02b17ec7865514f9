"""The BENCHMARKS.md section of bench/peers: one table, the method, and a
sentence for every difference, each from the figures of the same run."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from infertui.core.metrics import percentile

TOOL_NOTES = {
    "infertui": "`infertui probe -t bench/MODEL -n N -c C --nonce --json` (a config provider with "
                "`max_concurrency = C`)",
    "guidellm": "`guidellm run` 0.8.1, `--profile kind=concurrent,streams=C`, "
                "`--constraint kind=max_requests,count=N`, synthetic prompts of 64 tokens",
    "aiperf": "`aiperf profile` 0.13.0, `--concurrency C --request-count N`, streaming, "
              "synthetic prompts of 64 tokens",
}


def one_line(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


def _p(xs: list[float], q: float) -> float | None:
    return percentile(xs, q) if xs else None


def _f(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _median(xs: list[Any]) -> float | None:
    return statistics.median(xs) if xs else None


def row(cell: Any) -> str:
    err = cell.errors
    below = sum(1 for e in err if e < 0)
    error_text = (f"{_f(_p(err, 50))} / {_f(_p(err, 99))} / {_f(max(err))}" if err else "—")
    below_text = f"{below} of {len(err)}" if err else "—"
    cpu_ms = cell.cpu_s * 1000 / cell.sent if cell.sent else None
    return (f"| {cell.server} | {cell.concurrency} | {cell.tool} | {cell.ok}/{cell.sent} "
            f"| {_f(_p(cell.ttft, 50))} | {_f(_p(cell.ttft, 99))} | {_f(_median(cell.truth_ttft))} "
            f"| {error_text} | {below_text} "
            f"| {_f(_median(cell.decode))} | {_f(_median(cell.truth_decode))} "
            f"| {_f(_median(cell.tokens), 0)} | {_f(_median(cell.truth_tokens), 0)} "
            f"| {_f(_median(cell.truth_prompt), 0)} | {_f(cpu_ms, 0)} |")


def _abs_p99(cell: Any) -> float | None:
    return _p([abs(e) for e in cell.errors], 99) if cell.errors else None


def differences(cells: list[Any]) -> list[str]:
    """One sentence for every difference between a tool and the truth, or
    between tools, that the table shows."""
    lines: list[str] = []
    by_key = {(c.server, c.concurrency, c.tool): c for c in cells}
    for server in sorted({c.server for c in cells}):
        for conc in sorted({c.concurrency for c in cells if c.server == server}):
            group = [by_key[k] for k in by_key if k[0] == server and k[1] == conc]
            ranked = sorted((c for c in group if c.errors), key=_abs_p99)
            if ranked:
                best = ranked[0]
                others = ", ".join(f"{c.tool} {_f(_abs_p99(c))}" for c in ranked[1:])
                lines.append(f"- {server}, c={conc}: the smallest TTFT error (p99 of |error|) is "
                             f"{best.tool}'s, {_f(_abs_p99(best))} ms" + (f"; {others} ms." if others
                                                                        else "."))
            lines += _server_side(server, conc, group)
            lines += _read_waits(server, conc, group)
            for c in group:
                below = sum(1 for e in c.errors if e < 0)
                if below:
                    lines.append(f"- {server}, c={conc}, {c.tool}: {below} of {len(c.errors)} "
                                 f"TTFTs below what the server did (worst {_f(min(c.errors))} ms): "
                                 f"a TTFT can only come out below the truth when the tool's start "
                                 f"stamp was taken after the server had already read the request.")
                if (ranked and c.errors and c.tool != ranked[0].tool
                        and _p(c.errors, 50) > _p(ranked[0].errors, 50)):
                    lines.append(f"- {server}, c={conc}, {c.tool}'s TTFT is {_f(_p(c.errors, 50))} ms "
                                 f"over the truth at the median: " + CLOCK_REASONS[c.tool])
                decode, truth_decode = _median(c.decode), _median(c.truth_decode)
                tokens, truth_tokens = _median(c.tokens), _median(c.truth_tokens)
                if decode and truth_decode and abs(decode / truth_decode - 1) > 0.02:
                    if tokens is not None and truth_tokens and abs(tokens - truth_tokens) >= 0.5:
                        why = (f"{c.tool} divides the decode time by its own token count "
                               f"({tokens:.0f}, see below), not the server's ({truth_tokens:.0f}).")
                    elif decode > truth_decode:
                        why = ("the first token was stamped later than the last, relative to when "
                               "the server sent them, which shortens the span (see its TTFT "
                               "error).")
                    else:
                        why = ("the last token was read later than the first, relative to when the "
                               "server sent them, which lengthens the span: a busy client reads "
                               "late.")
                    lines.append(f"- {server}, c={conc}, {c.tool}'s decode speed is {decode:.1f} "
                                 f"tok/s where the server's is {truth_decode:.1f}: " + why)
                if (tokens is not None and truth_tokens is not None
                        and abs(tokens - truth_tokens) >= 0.5):
                    lines.append(f"- {server}, c={conc}, {c.tool} counts {tokens:g} output tokens "
                                 f"(median) where the server generated {truth_tokens:g}: "
                                 + TOKEN_REASONS.get(c.tool, "see the method above."))
                if c.ok < c.sent:
                    kinds = Counter(f[:160] for f in c.failures).most_common(2)
                    lines.append(f"- {server}, c={conc}, {c.tool}: {c.sent - c.ok} of {c.sent} "
                                 f"requests failed ("
                                 + "; ".join(f"{n}x {one_line(m)}" for m, n in kinds)
                                 + f"); statistics are over the {c.ok} that completed.")
                if c.unmatched_runs:
                    lines.append(f"- {server}, c={conc}, {c.tool}: in {c.unmatched_runs} run(s) the "
                                 f"server logged a different number of requests than the tool "
                                 f"completed, so those runs are left out of the error column.")
                if c.impossible:
                    lines.append(f"- {server}, c={conc}, {c.tool}: {c.impossible} order pairings "
                                 f"put the server's read before the tool's start: the matching "
                                 f"is uncertain there.")
    runs_cpu: dict[str, list[float]] = {}
    for c in cells:
        runs_cpu.setdefault(c.tool, []).append(c.cpu_s / max(1, c.runs))
    lines.append("- Client CPU: each tool run is a process of its own, start-up included; mean CPU "
                 "seconds per run: " + ", ".join(f"{t} {statistics.mean(v):.1f} s"
                                                  for t, v in runs_cpu.items())
                 + ". guidellm and aiperf load torch or transformers and start worker processes "
                   "before the first request, which dominates at few requests.")
    lines.append("- " + CLOCK_REASONS["infertui"])
    return lines


CLOCK_REASONS = {
    "infertui": "infertui's clock starts immediately before the request's last bytes go to the kernel "
                "(`sent_source: socket`), so connecting never counts, and its receiver process stamps "
                "each read as it arrives (`recv_source: receiver-process`); what is left is how soon "
                "that process was scheduled when the first token came.",
    "guidellm": "guidellm starts its clock at httpx's `send_request_headers.started`, before the "
                "request is written, and stamps a token after its own line iteration, in worker "
                "processes that share the cores with everything else: the error is positive and "
                "grows with the number of streams.",
    "aiperf": "aiperf starts its clock (`start_perf_ns`) before aiohttp takes a connection and writes "
              "the request, so connecting and sending count as the server's time (its records carry "
              "`http_req_connecting` and `http_req_sending` per request), and stamps chunks after "
              "aiohttp's reading in its worker processes.",
}
def _read_waits(server: str, conc: int, group: list[Any]) -> list[str]:
    """How long the server took to read each request after the tool's start
    stamp (simulator, matched by server id): a wait in every TTFT and in no
    truth, caused by the server and by how the tool's requests arrive."""
    waits = [c for c in group if c.read_wait]
    if not waits:
        return []
    parts = []
    for c in waits:
        wave = _median(c.first_wave_ms)
        parts.append(f"{c.tool} {_f(_p(c.read_wait, 50))} (p99 {_f(_p(c.read_wait, 99))}, its "
                     f"first {conc} requests started within {_f(wave)} ms)")
    line = (f"- {server}, c={conc}: the server read each request this long after the tool's "
            f"start stamp, median ms: " + "; ".join(parts) + ". A request that arrives while the "
            "server's one event loop is accepting, parsing or streaming others waits, and that "
            "wait is in the tool's TTFT and not in the truth (which starts at the read), so it "
            "counts as error for every tool; requests started together wait longest.")
    infertui = next((c for c in waits if c.tool == "infertui"), None)
    if infertui is not None and infertui.error_after_read:
        rest = infertui.error_after_read
        line += (f" What is left of infertui's error once that wait is taken out is the time from "
                 f"the server's first write to infertui's stamp of its arrival: median "
                 f"{_f(_p(rest, 50))}, p99 {_f(_p(rest, 99))} ms.")
    return [line]


def _server_side(server: str, conc: int, group: list[Any]) -> list[str]:
    """Differences in what the server itself did while each tool ran."""
    lines = []
    prompts = {c.tool: _median(c.truth_prompt) for c in group if c.truth_prompt}
    most = max(prompts.values(), default=None)
    for tool, n in prompts.items():
        if most and n is not None and n < 0.5 * most:
            lines.append(f"- {server}, c={conc}: the server processed {n:g} prompt tokens (median) "
                         f"for {tool}'s requests, {most:g} for another tool's: the rest of "
                         f"{tool}'s prompts came from its prompt cache, so its TTFTs are lower "
                         f"for that reason.")
    speeds = {c.tool: _median(c.truth_decode) for c in group if c.truth_decode}
    fastest = max(speeds.values(), default=None)
    for tool, v in speeds.items():
        if fastest and v is not None and v < 0.8 * fastest:
            lines.append(f"- {server}, c={conc}: the server itself decoded at {v:.1f} tok/s while "
                         f"{tool} ran, {fastest:.1f} at best while another tool ran: same server, "
                         f"same model, so the difference is what else ran on the two cores at "
                         f"the time ({tool}'s own processes, or other work on the shared machine).")
    if server != "sim" and conc > 1 and len(group) > 1:
        lines.append(f"- {server}, c={conc}: with {conc} requests in flight the server's own "
                     f"prompt time includes waiting for its batch, and how a tool's requests "
                     f"arrive decides the batching: TTFTs differ between tools because the "
                     f"server's work differed (see its prompt time), not only the measurement.")
    return lines


TOKEN_REASONS = {
    "aiperf": "aiperf counts the output by running its own tokenizer (the model's, from the local "
              "path) over the streamed text, not from the server's usage.",
    "guidellm": "guidellm takes the server's usage when there is one, else counts with its "
                "tokenizer.",
    "infertui": "infertui takes the server's usage; a count that differs is an estimate (no usage "
                "came).",
}


def section(cells: list[Any], *, rounds: int, burn: bool, minutes: float, machine: str,
            levels: list[tuple[int, int]]) -> str:
    cells = sorted(cells, key=lambda c: (c.server != "sim", c.concurrency,
                                         ("infertui", "guidellm", "aiperf").index(c.tool)))
    methods = sorted({m for c in cells for m in c.methods})
    runs = ", ".join(f"{n} requests at c={c}" for c, n in levels)
    lines = [
        "## Side by side with the peers: guidellm and aiperf",
        "",
        "Command: `bench/peers/run" + (" --burn" if burn else "") + f" --rounds {rounds}` "
        f"({minutes:.0f} min). Machine: {machine}"
        + ("; both cores also loaded by two busy loops." if burn else ".")
        + " The machine was shared with other work while this ran: compare tools within a row "
          "group, which ran interleaved, not with other sections.",
        "",
        "Servers: *sim* is infertui's simulator in a process of its own (`bench/peers/sim_serve.py`): "
        "every first token leaves exactly 250 ms after the server has read the request, then "
        "40 one-token chunks at 50 per second, and it logs what it did per request. "
        "*llama-server* is llama.cpp's server (built by `tests/e2e/prepare`) with the tests' tiny "
        "Llama (hidden 512, 8 layers), 64 slots, one thread.",
        "",
        f"Each tool ran {rounds} times per level ({runs}), the three tools interleaved in an "
        "order that rotates every round; every figure pools the rounds. Tools: "
        + "; ".join(f"*{t}*: {n}" for t, n in TOOL_NOTES.items()) + ".",
        "",
        "Truth and matching. *sim*: a tool's TTFT minus the server's (first content written − "
        "request read) for the same request. Each request is found in the server's log by the "
        "server's own id where the tool keeps it (infertui: `x-request-id`; guidellm: the "
        "chunks' `id`, saved as `response_id`); aiperf keeps no server id, so its requests, "
        "sorted by the start time it records, are paired with the run's records in the order "
        "the server read them, and every pairing is checked to be possible (read after "
        "started). Every truth is close to 250 ms (see the truth column), so a swap between "
        "two requests sent in the same instant changes an error only by the difference "
        "between their truths. "
        "*llama-server*: the truth is its log (`timings`: prompt time, decode speed, tokens); "
        "at c=1 requests finish in the order they were sent, so the error column there is "
        "TTFT − the server's prompt time (the server's own work before the first token; the "
        "rest is HTTP, templating and the trip back); with several in flight only the "
        "distributions are compared. Matching used: " + ", ".join(methods) + ". *Prompt tokens "
        "(server)* is the prompt as the server counted it (llama-server: tokens it processed), "
        "to show the three tools gave it the same work.",
        "",
        "| server | c | tool | ok/sent | TTFT p50 ms | TTFT p99 ms | truth TTFT (sim) or prompt time "
        "(llama-server) median ms | error vs truth p50 / p99 / max ms | below truth "
        "| decode tok/s median | truth tok/s | output tokens median | truth tokens "
        "| prompt tokens (server) | client CPU ms/request |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    lines += [row(c) for c in cells]
    lines += ["", "Client CPU per request is the tool process's user + system time, start-up "
              "included, divided by the requests it sent.", "", "Why the figures differ:", ""]
    lines += differences(cells)
    return "\n".join(lines) + "\n"
