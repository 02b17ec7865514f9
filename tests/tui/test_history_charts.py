"""Charts, diff and replay plan, without an app: what they draw
is what infertui.core.metrics measured for fixed fixtures."""

from __future__ import annotations

from infertui.core import metrics
from infertui.tui.screens.replay import ROUND_PAUSE_NS, ReplayPlan, probe_end_ns
from infertui.tui.widgets.charts import (
    SPARKS,
    TrendPoint,
    TrendSeries,
    fmt_ms,
    range_rows,
    render_range_chart,
    render_tps_bars,
    render_trends,
    sparkline,
)
from infertui.tui.widgets.diff import changed_count, diff_rows, render_unified, split_units
from tests.tui.test_history_fixtures import ANSWER_A, ANSWER_B, error_session, race_session


def _line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def test_range_chart_shows_the_core_distributions() -> None:
    session = race_session()
    summary = metrics.summarize(session.probes)
    text = render_range_chart("TTFT", range_rows(summary, "ttft_ms"), 120).plain
    for row in summary:
        values = [metrics.ttft_ms(p) for p in session.probes if p.target.label == row.target_label]
        line = _line(text, row.target_label)
        assert f"p50 {fmt_ms(metrics.percentile(values, 50))}" in line
        assert f"p95 {fmt_ms(metrics.percentile(values, 95))}" in line
        assert f"max {fmt_ms(max(values))}" in line
        assert f"n={len(values)}" in line
    # The fixture's figures, worked by hand: TTFTs 120/130/140 and 300/340/380 ms.
    assert "p50 130 ms  p95 139 ms  max 140 ms" in _line(text, "sim-alpha/demo-70b")
    assert "p50 340 ms  p95 376 ms  max 380 ms" in _line(text, "sim-beta/demo-70b")


def test_range_chart_places_markers_on_a_shared_scale() -> None:
    summary = metrics.summarize(race_session().probes)
    text = render_range_chart("TTFT", range_rows(summary, "ttft_ms"), 120).plain
    alpha, beta = _line(text, "sim-alpha"), _line(text, "sim-beta")
    # Beta's median sits right of alpha's, its whisker runs from its min to its max.
    assert alpha.index("┃") < beta.index("┃")
    assert beta.index("├") < beta.index("┃") < beta.rindex("█")
    assert len(text.splitlines()) == 1 + len(summary) + 2  # title, rows, ruler, tick labels


def test_e2e_and_decode_speed_match_the_core() -> None:
    session = error_session()
    summary = metrics.summarize(session.probes)
    e2e = render_range_chart("E2E", range_rows(summary, "e2e_ms"), 120).plain
    tps = render_tps_bars("tok/s", range_rows(summary, "decode_tps"), 120).plain
    for row in summary:
        assert f"p50 {fmt_ms(row.e2e_ms.p50)}" in _line(e2e, row.target_label)
        assert f"p50 {row.decode_tps.p50:.1f} tok/s" in _line(tps, row.target_label)
    # Only gamma's first probe completed: its statistics are over n=1.
    assert "n=1" in _line(e2e, "sim-gamma/demo-8b")
    assert "p50 100.0 tok/s" in _line(tps, "sim-alpha/demo-70b")


def test_a_target_without_ok_probes_says_so() -> None:
    session = error_session()
    gamma = [p for p in session.probes if p.target.label == "sim-gamma/demo-8b" and not p.ok]
    summary = metrics.summarize(gamma)
    assert "no successful probes" in render_range_chart("TTFT", range_rows(summary, "ttft_ms"), 100).plain


def test_trends_show_last_values_and_skip_targets_seen_once() -> None:
    points = tuple(TrendPoint(f"2025-03-0{i}T10:00:00Z", 100.0 + 10 * i, 200.0 + 10 * i) for i in range(1, 6))
    text = render_trends("TTFT over time", [
        TrendSeries("sim-alpha/demo-70b", points),
        TrendSeries("sim-beta/demo-70b", points[:1]),
    ], 120).plain
    assert "sim-beta" not in text
    p50_line = _line(text, "sim-alpha/demo-70b")
    assert "newest 150 ms" in p50_line and "min 110 ms" in p50_line and "max 150 ms" in p50_line
    assert "2025-03-01 → 2025-03-05 · 5 sessions" in text
    assert "no target" in render_trends("T", [TrendSeries("x/y", points[:1])], 100).plain
    marked = tuple(TrendPoint(p.at, p.p50, p.p95, f"s{i}") for i, p in enumerate(points))
    text = render_trends("T", [TrendSeries("a/b", marked)], 120, highlight="s1").plain
    assert "this 120 ms  newest 150 ms" in _line(text, "a/b")
    assert "this 220 ms  newest 250 ms" in text.splitlines()[2]


def test_sparkline_rises_with_the_values() -> None:
    line = sparkline([1.0, 2.0, None, 3.0], 1.0, 3.0)
    assert line[0] == SPARKS[0] and line[-1] == SPARKS[-1] and line[2] == " "
    assert sparkline([5.0, 5.0], 5.0, 5.0, cell=2) == SPARKS[4] * 4


def test_diff_rows_pair_changed_lines() -> None:
    rows = diff_rows(ANSWER_A, ANSWER_B)
    assert [r.tag for r in rows] == ["equal", "replace", "equal", "insert"]
    assert rows[1].left.startswith("Air molecules") and rows[1].right.startswith("Tiny molecules")
    assert rows[3].left is None and rows[3].right_no == 4
    assert changed_count(rows) == 2
    unified = render_unified(ANSWER_A, ANSWER_B, "a", "b").plain
    assert "-Air molecules" in unified and "+Tiny molecules" in unified and "+At sunset" in unified
    assert "identical" in render_unified(ANSWER_A, ANSWER_A, "a", "b").plain


def test_long_lines_are_compared_sentence_by_sentence() -> None:
    one = "First sentence is here and long enough. " * 2 + "The third one differs from the other text."
    two = "First sentence is here and long enough. " * 2 + "The third one is not the same at all."
    assert len(split_units(one)) == 3
    rows = diff_rows(one, two)
    assert [r.tag for r in rows] == ["equal", "equal", "replace"]


def test_replay_plan_rounds_start_together() -> None:
    session = race_session(repeat=2)
    plan = ReplayPlan.of(session)
    assert [r.seq for r in plan.rounds] == [0, 1]
    first, second = plan.rounds
    assert set(first.probes) == {"sim-alpha/demo-70b", "sim-beta/demo-70b"}
    # A round lasts as long as its slowest probe; the next starts after the pause.
    assert first.duration_ns == max(probe_end_ns(p) for p in first.probes.values())
    assert second.start_ns == first.end_ns + ROUND_PAUSE_NS
    assert plan.duration_ns == second.end_ns
