"""Rich tables of a finished campaign (the `infertui.campaign/1` document):
cells, targets, rounds, pairwise verdicts, rankings, vantage points. Shared by
`infertui campaign` and the app's Campaigns screen; computes nothing. Every
string from a file, a server or a user goes through `one_line` and into a
`Text`."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from infertui.textsafe import one_line
from infertui.units import DASH, elapsed
from infertui.units import ms as fmt_ms
from infertui.units import share as fmt_share


def progress_line(p: Any, now_ns: int, sep: str) -> Text:
    """A running campaign's counts, elapsed and time left on one line (a
    `CampaignProgress` at `now_ns` on its clock); `sep` between the parts."""
    eta = p.eta_s(now_ns)
    return Text.assemble(
        (f"round {DASH if p.round is None else p.round + 1}/{p.rounds}", "bold"),
        f"{sep}cells {p.cells_done}/{p.cells_total}{sep}requests {p.requests_done}/"
        f"{p.requests_total} ({p.in_flight} in flight){sep}",
        (f"errors {p.errors}", "red" if p.errors else ""),
        f"{sep}429 {p.rate_limited}{sep}elapsed {elapsed(p.elapsed_s(now_ns))}"
        f"{sep}left {'~' + elapsed(eta) if eta is not None else DASH}")


def _t(value: Any, limit: int | None = None) -> Text:
    return Text(one_line("" if value is None else value, limit))


def fmt_ci(ci: list[float] | None) -> str:
    if not ci:
        return ""
    return f"[{ci[0]:.0f}–{ci[1]:.0f}]"


def _latency_columns(table: Table) -> None:
    for name in ("n", "ok", "err", "avail", "TTFT p50 [95% CI]", "TTFT p95 [95% CI]",
                 "TTFT p99", "p99/p50", "e2e p95", "tok/s p50", "stalls", "429"):
        table.add_column(name, justify="right", no_wrap=True)


def _latency_cells(row: dict[str, Any]) -> list[Any]:
    ttft, e2e, tps = row["ttft_ms"], row["e2e_ms"], row["decode_tps"]
    return [
        str(row["n"]), str(row["ok"]), Text(str(row["errors"]), style="red" if row["errors"] else ""),
        fmt_share(row["availability"]),
        f"{fmt_ms(ttft['p50'])} {fmt_ci(ttft['ci95'].get('p50'))}".strip(),
        f"{fmt_ms(ttft['p95'])} {fmt_ci(ttft['ci95'].get('p95'))}".strip(),
        fmt_ms(ttft["p99"]),
        "—" if row["ttft_p99_over_p50"] is None else f"{row['ttft_p99_over_p50']:.2f}",
        fmt_ms(e2e["p95"]), "—" if tps["p50"] is None else f"{tps['p50']:.1f}",
        str(row["stalls"]), str(row["rate_limited"]["n"]),
    ]


def cells_table(doc: dict[str, Any]) -> Table:
    slo = doc["spec"].get("slo")
    table = Table(title="cells (ok, measured probes)", header_style="bold")
    table.add_column("round", justify="right")
    table.add_column("conc", justify="right")
    table.add_column("target", no_wrap=True)
    _latency_columns(table)
    if slo:
        table.add_column("SLO met", justify="right")
    for row in doc["cells"]:
        extra = [fmt_share(row["slo"]["attainment"])] if slo else []
        table.add_row(str(row["round"]), str(row["concurrency"]), _t(row["target"], 48),
                      *_latency_cells(row), *extra)
    return table


def targets_table(doc: dict[str, Any]) -> Table:
    spec = doc["spec"]
    table = Table(title="targets over all cells", header_style="bold")
    table.add_column("target", no_wrap=True)
    _latency_columns(table)
    if spec.get("slo"):
        table.add_column("SLO met", justify="right")
        table.add_column("goodput", justify="right")
    if spec.get("cold_start"):
        table.add_column("cold TTFT p50", justify="right")
        table.add_column("cold penalty", justify="right")
    if spec.get("chain"):
        table.add_column(f"chain×{spec['chain']} p50", justify="right")
        table.add_column("p95", justify="right")
    table.add_column("$/answer", justify="right")
    for row in doc["targets"]:
        extra: list[Any] = []
        if spec.get("slo"):
            goodput = row["slo"]["goodput_rps"]
            extra += [fmt_share(row["slo"]["attainment"]),
                      "—" if goodput is None else f"{goodput:.2f}/s"]
        if spec.get("cold_start"):
            cold = row["cold_start"]
            extra += [fmt_ms(cold["ttft_ms_p50"]),
                      "—" if cold["penalty_ms"] is None else f"+{fmt_ms(cold['penalty_ms'])}"]
        if spec.get("chain"):
            chains = row["chains"]["total_ms"]
            extra += [fmt_ms(chains["p50"]), fmt_ms(chains["p95"])]
        cost = row["cost_per_ok_usd"]
        extra.append("—" if cost is None else f"{cost:.6f}")
        table.add_row(_t(row["target"], 48), *_latency_cells(row), *extra)
    return table


def comparisons_table(doc: dict[str, Any]) -> Table | None:
    if not doc["comparisons"]:
        return None
    table = Table(title="pairwise (A − B, bootstrap 95% interval)", header_style="bold")
    for name in ("model", "A", "B", "metric", "A value", "B value", "A − B", "95% CI", "verdict"):
        table.add_column(name, justify="right" if "value" in name or name in ("A − B", "95% CI")
                         else "left", no_wrap=True)
    for row in doc["comparisons"]:
        share = row["metric"] == "availability"
        show = fmt_share if share else (lambda v: "—" if v is None else f"{v:.1f}")
        ci = row["ci95"]
        ci_text = "—" if not ci else (f"[{ci[0] * 100:+.1f}, {ci[1] * 100:+.1f}] pt" if share
                                      else f"[{ci[0]:+.1f}, {ci[1]:+.1f}]")
        diff = row["difference"]
        diff_text = "—" if diff is None else (f"{diff * 100:+.1f} pt" if share else f"{diff:+.1f}")
        verdict = row["verdict"]
        words = verdict.replace("A ", f"{row['a']} ", 1) if verdict.startswith("A ") else \
            verdict.replace("B ", f"{row['b']} ", 1) if verdict.startswith("B ") else verdict
        style = "dim" if verdict in ("within noise", "not enough data") else "bold"
        table.add_row(_t(row["model"], 24), _t(row["a"], 40), _t(row["b"], 40), row["metric"],
                      show(row["a_value"]), show(row["b_value"]), diff_text, ci_text,
                      Text(one_line(words, 60), style=style))
    return table


def ranking_tables(doc: dict[str, Any]) -> list[Table]:
    """Models x providers with each provider's rank; providers in a flip are
    marked in red with a `↕`."""
    out = []
    for ranking in doc["rankings"]:
        if len(ranking["models"]) < 2:
            continue
        flipped = {p for flip in ranking["flips"] for p in flip["providers"]}
        table = Table(title=f"rank by {ranking['metric']} per model"
                      + (" — rankings flip" if ranking["flips"] else ""), header_style="bold")
        table.add_column("model", no_wrap=True)
        for provider in ranking["providers"]:
            table.add_column(Text(one_line(provider, 24), style="red" if provider in flipped else ""),
                             justify="right")
        for model in ranking["models"]:
            ranks = ranking["ranks"].get(model, {})
            values = ranking["values"].get(model, {})
            cells: list[str | Text] = []
            for provider in ranking["providers"]:
                if provider not in ranks:
                    cells.append("")
                    continue
                mark = " ↕" if provider in flipped else ""
                cells.append(Text(f"#{ranks[provider]} ({values[provider]:.0f}){mark}",
                                  style="bold red" if mark else ""))
            table.add_row(_t(model, 32), *cells)
        out.append(table)
    return out


def rounds_table(doc: dict[str, Any]) -> Table | None:
    if len(doc["rounds"]) < 2:
        return None
    labels = list(dict.fromkeys(t["target"] for r in doc["rounds"] for t in r["targets"]))
    table = Table(title="availability and TTFT p50 per round", header_style="bold")
    table.add_column("round", justify="right")
    table.add_column("started", no_wrap=True)
    for label in labels:
        table.add_column(_t(label, 32), justify="right")
    for rnd in doc["rounds"]:
        by = {t["target"]: t for t in rnd["targets"]}
        cells = []
        for label in labels:
            t = by.get(label)
            cells.append("" if t is None else
                         f"{fmt_share(t['availability'])} · {fmt_ms(t['ttft_ms_p50'])}"
                         + (f" · {t['stalls']} stalls" if t["stalls"] else ""))
        table.add_row(str(rnd["round"]), _t(rnd["started_at"]), *cells)
    return table


def vantages_table(doc: dict[str, Any]) -> Table | None:
    if len({row["vantage"] for row in doc["vantages"]}) < 2:
        return None
    table = Table(title="per vantage point", header_style="bold")
    for name in ("target", "vantage", "started", "n", "avail", "TTFT p50", "TTFT p95", "e2e p95",
                 "tok/s p50"):
        table.add_column(name, no_wrap=True)
    for row in sorted(doc["vantages"], key=lambda r: (r["target"], r["vantage"])):
        table.add_row(_t(row["target"], 40), _t(row["vantage"], 24), _t(row["started_at"]),
                      str(row["n"]), fmt_share(row["availability"]), fmt_ms(row["ttft_ms_p50"]),
                      fmt_ms(row["ttft_ms_p95"]), fmt_ms(row["e2e_ms_p95"]),
                      "—" if row["decode_tps_p50"] is None else f"{row['decode_tps_p50']:.1f}")
    return table
