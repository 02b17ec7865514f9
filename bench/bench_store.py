"""Results store benchmark: a generated database of 10,000 sessions, 100,000
probes and 20,000,000 chunk timestamps; its size, and the time to save one
probe with 4,000 chunks, list the newest 50 sessions and load one session
with all its timelines. Writes its section of BENCHMARKS.md.

    .venv/bin/python bench/bench_store.py [--regenerate] [--no-write]

The database is kept in bench/.work/ (gitignored) and reused while its
generator version matches; timings are taken with the file in the page cache.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_notes, write_section

from infertui.core.result import Chunk, ChunkKind, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store import db
from infertui.store.repository import Store
from infertui.store.rows import (
    INSERT_TARGET,
    PROBE_COLUMNS,
    probe_values,
    summary_values,
)
from infertui.store.timeline import pack_gaps, pack_ints

SESSIONS = 10_000
PROBES_PER_SESSION = 10
TIMESTAMPS = 20_000_000
GENERATOR_VERSION = "2"
WORK = ROOT / "bench" / ".work"
DB_PATH = WORK / "bench_store.db"
MS = 1_000_000
INSERT_PROBE_WITH_ID = (f"INSERT INTO probes (id, {', '.join(PROBE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * (len(PROBE_COLUMNS) + 1))})")

TARGETS = [Target(Provider(name, api, url, price_input_per_mtok=0.5, price_output_per_mtok=1.5),
                  model) for name, api, url, model in (
    ("groq", Api.OPENAI, "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile"),
    ("together", Api.OPENAI, "https://api.together.xyz/v1", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ("deepinfra", Api.OPENAI, "https://api.deepinfra.com/v1/openai", "meta-llama/Llama-3.3-70B-Instruct"),
    ("anthropic", Api.ANTHROPIC, "https://api.anthropic.com/v1", "claude-sonnet-4"),
    ("gemini", Api.GEMINI, "https://generativelanguage.googleapis.com/v1beta", "gemini-2.5-flash"),
)]


# --- generation ---------------------------------------------------------------------

def _chunk_counts(rng: random.Random, probes: int, total: int) -> list[int]:
    """Per-probe chunk counts between 20 and 380 that add up to `total`."""
    mean = total // probes
    counts = [rng.randint(20, 2 * mean - 20) for _ in range(probes)]
    diff = total - sum(counts)
    i = 0
    while diff:
        step = max(-(counts[i] - 20), min(diff, 2 * mean - 20 - counts[i]))
        counts[i] += step
        diff -= step
        i = (i + 1) % probes
    return counts


def generate(path: Path) -> float:
    started = time.perf_counter()
    rng = random.Random(20250601)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    vocab = [" " + "".join(rng.choices(letters, k=rng.randint(1, 7))) for _ in range(4000)]
    stream = 2_000_000
    words = rng.choices(vocab, k=stream)
    gaps = [int(rng.lognormvariate(2.6, 0.6) * MS) if rng.random() > 0.002
            else rng.randint(200, 1500) * MS for _ in range(stream)]
    counts = _chunk_counts(rng, SESSIONS * PROBES_PER_SESSION, TIMESTAMPS)
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = db.connect(path)
    base_ms = int(time.mktime((2024, 1, 1, 0, 0, 0, 0, 0, 0)) * 1000)
    probe_pk = 0
    batch = 500
    for first in range(0, SESSIONS, batch):
        conn.execute("BEGIN")
        sessions, targets, probes, timelines = [], [], [], []
        for s in range(first, min(first + batch, SESSIONS)):
            pk = s + 1
            started_ms = base_ms + s * 3_000_000 + rng.randint(0, 999)
            started_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started_ms / 1000)) + \
                f".{started_ms % 1000:03d}Z"
            chosen = rng.sample(TARGETS, 2)
            sessions.append((pk, f"{started_ms:012x}{s:010x}", started_at, started_ms,
                             started_at, f"Benchmark prompt {s}: explain{rng.choice(vocab)}",
                             PROBES_PER_SESSION // len(chosen), PROBES_PER_SESSION))
            summary_rows: dict[int, list] = {0: [], 1: []}
            for j in range(PROBES_PER_SESSION):
                pos = j % 2
                count = counts[(pk - 1) * PROBES_PER_SESSION + j]
                at = rng.randrange(0, stream - count)
                probe_gaps = gaps[at:at + count]
                probe_gaps[0] = rng.randint(80, 900) * MS
                texts = words[at:at + count]
                first_ns, last_ns = probe_gaps[0], sum(probe_gaps)
                probe_pk += 1
                r = ProbeResult(probe_id=f"{pk}-{j}", target=chosen[pos], seq=j // 2,
                                status=Status.OK, http_status=200, sent_at=started_at,
                                headers_ns=first_ns // 2, first_byte_ns=first_ns - MS,
                                first_content_ns=first_ns, last_token_ns=last_ns,
                                end_ns=last_ns + MS, event_count=count + 2,
                                max_gap_ns=max(probe_gaps[1:] or [0]),
                                usage=Usage(40, count + 5), finish_reason="stop")
                values = _probe_row(pk, pos, r, count)
                probes.append((probe_pk, *values))
                summary_rows[pos].append((0, "ok", values[-3], values[-2], values[-1]))
                timelines.append((probe_pk, pack_gaps(probe_gaps), f"c{count}",
                                  pack_ints(list(map(len, texts))), "".join(texts)))
            for pos, target in enumerate(chosen):
                targets.append((pk, pos, target, summary_values(summary_rows[pos])))
        conn.executemany(
            "INSERT INTO sessions (id, session_id, started_at, started_ms, finished_at, prompt,"
            " max_tokens, temperature, reasoning, repeat_count, concurrency, warmup, nonce,"
            " probe_count) VALUES (?, ?, ?, ?, ?, ?, 512, 0, NULL, ?, 1, 0, 0, ?)", sessions)
        for pk, pos, target, summary in targets:
            conn.execute(INSERT_TARGET, (pk, pos, 1, target.label, target.provider.name,
                                         target.model, target.provider.base_url,
                                         str(target.provider.api), 0.5, 1.5))
            conn.execute("UPDATE session_targets SET n = ?, ok = ?, errors = ?, cancelled = ?,"
                         " ttft_p50 = ?, ttft_p95 = ?, e2e_p50 = ?, tps_p50 = ? WHERE"
                         " session_pk = ? AND position = ?", (*summary, pk, pos))
        conn.executemany(INSERT_PROBE_WITH_ID, probes)
        conn.executemany("INSERT INTO timelines (probe_pk, offsets, kinds, lengths, text)"
                         " VALUES (?, ?, ?, ?, ?)", timelines)
        # As finish_session does: the batch's outputs into the search index.
        conn.execute("INSERT INTO output_fts (rowid, text) SELECT probe_pk, text FROM timelines"
                     " WHERE indexed = 0")
        conn.execute("UPDATE timelines SET indexed = 1 WHERE indexed = 0")
        conn.execute("COMMIT")
        done = min(first + batch, SESSIONS)
        print(f"\r  generated {done:>6}/{SESSIONS} sessions", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (WORK / "bench_store.version").write_text(GENERATOR_VERSION)
    return time.perf_counter() - started


def _probe_row(pk: int, pos: int, r: ProbeResult, count: int) -> tuple:
    values = list(probe_values(pk, pos, r))
    values[35] = count  # chunk_count: the timeline is packed directly, not from Chunks
    return tuple(values)


# --- measuring ---------------------------------------------------------------------

def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def probe_with_chunks(n: int, i: int, target: Target) -> ProbeResult:
    rng = random.Random(i)
    t = 150 * MS
    chunks = []
    for k in range(n):
        t += rng.randint(2 * MS, 30 * MS) + rng.randint(0, 999)
        chunks.append(Chunk(t, ChunkKind.REASONING if k < 200 else ChunkKind.CONTENT,
                            " " + "".join(rng.choices("etaoinshrdlu", k=rng.randint(1, 7)))))
    return ProbeResult(probe_id=f"bench-{i}", target=target, seq=i, status=Status.OK,
                       http_status=200, headers_ns=100 * MS, first_byte_ns=140 * MS,
                       first_reasoning_ns=chunks[0].offset_ns,
                       first_content_ns=chunks[200].offset_ns,
                       last_token_ns=chunks[-1].offset_ns, end_ns=t + MS, chunks=chunks,
                       event_count=n + 2, usage=Usage(40, n + 3, 200, 0), finish_reason="stop")


def measure(path: Path) -> dict[str, object]:
    with Store.open(path) as store:
        counts = store.conn.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM probes),"
            " (SELECT sum(chunk_count) FROM probes), (SELECT sum(length(offsets)) FROM timelines)"
        ).fetchone()
        # Live data, not the file: benchmark runs leave free pages behind them.
        page_size, pages, free = (store.conn.execute(f"PRAGMA {p}").fetchone()[0]
                                  for p in ("page_size", "page_count", "freelist_count"))
        # Warm the page cache once, as a second look at history would find it.
        store.conn.execute("SELECT count(*), sum(length(text)) FROM timelines").fetchone()
        save_ms: list[float] = []
        index_ms: list[float] = []
        for k in range(6):
            sid = f"benchsave{k}"
            store.create_session(Session(sid, "2030-01-01T00:00:00.000Z", ProbeParams("bench"),
                                         [TARGETS[0]], RunSettings()))
            probes = iter([probe_with_chunks(4000, 100 * k + i, TARGETS[0]) for i in range(20)])
            save_ms += timed(lambda sid=sid, probes=probes: store.save_probe(sid, next(probes)), 20)
            index_ms += [t / 20 for t in timed(lambda sid=sid: store.finish_session(sid, None, False), 1)]
        heavy_ms = timed(lambda: store.load_session("benchsave0"), 10)
        store.delete_sessions([f"benchsave{k}" for k in range(6)])
        list_ms = timed(lambda: store.list_sessions(limit=50), 200)
        rng = random.Random(7)
        ids = [r[0] for r in store.conn.execute("SELECT session_id FROM sessions")]
        sample = rng.sample(ids, 200)
        it_ids = iter(sample)
        load_ms = timed(lambda: store.load_session(next(it_ids)), len(sample))
        words = ["eta", "shrd", "benchmark"]
        search_ms = timed(lambda: store.search(rng.choice(words), limit=50), 30)
        history_ms = timed(lambda: store.target_history(TARGETS[0].label), 30)
    size = (pages - free) * page_size
    return {"sessions": counts[0], "probes": counts[1], "timestamps": counts[2],
            "offset_bytes": counts[3], "size": size, "save": save_ms, "index": index_ms,
            "list": list_ms, "heavy": heavy_ms, "tables": table_sizes(path),
            "load": load_ms, "search": search_ms, "history": history_ms}


def table_sizes(path: Path) -> dict[str, int]:
    """Bytes on disk per table and index, from the dbstat virtual table."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return {}
    finally:
        conn.close()
    return dict(rows)


# --- report ------------------------------------------------------------------------------

def stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def _breakdown(tables: dict[str, int]) -> str:
    if not tables:
        return "(no per-table sizes: this SQLite has no dbstat)"
    def mb(*names: str) -> str:
        return f"{sum(v for k, v in tables.items() if k.startswith(names)) / 1e6:,.0f} MB"
    return (f"Where the bytes are: chunk timelines with their text {mb('timelines')}, "
            f"search index {mb('output_fts')}, probes {mb('probes', 'sqlite_autoindex_probes')}, "
            f"sessions and targets {mb('sessions', 'session_targets', 'sqlite_autoindex_sessions')}.")


def section(r: dict[str, object], generated_s: float | None) -> str:
    def row(name: str, key: str, target: float | None) -> str:
        med, p90 = stats(r[key])  # type: ignore[arg-type]
        if target is None:
            goal, verdict = "–", ""
        else:
            goal, verdict = f"<= {target:g} ms", "meets" if med <= target else "MISSES"
        return (f"| {name} | {med:.2f} ms | {p90:.2f} ms | {goal} | {verdict} |"
                f" {len(r[key])} |")  # type: ignore[arg-type]

    size = r["size"]
    lines = [
        "## Results store",
        "",
        "Command: `.venv/bin/python bench/bench_store.py` (part of `bench/run`); the database "
        "is generated in bench/.work/ and reused while the generator is unchanged.",
        "",
        f"Machine: {machine_notes()}.",
        "",
        f"Database: {r['sessions']:,} sessions, {r['probes']:,} probes, "
        f"{r['timestamps']:,} chunk timestamps (with their text, searchable): "
        f"**{size / 1e6:,.0f} MB** of database pages, of which chunk offsets "
        f"{r['offset_bytes'] / 1e6:,.0f} MB "
        f"({r['offset_bytes'] / r['timestamps']:.2f} bytes per timestamp, exact to the ns)."
        + (f" Generated in {generated_s:.0f} s." if generated_s else ""),
        "",
        _breakdown(r["tables"]),  # type: ignore[arg-type]
        "",
        "| operation | median | p90 | target | | runs |",
        "|---|---|---|---|---|---|",
        row("save one probe with 4,000 chunks (its own commit)", "save", 2),
        row("index its outputs for search at session end, per 4,000-chunk probe", "index", None),
        row("list the newest 50 sessions with per-target summaries", "list", 50),
        row("load one session with all its chunk timelines", "load", 100),
        row("load a heavy session: 20 probes of 4,000 chunks (80,000 chunks)", "heavy", None),
        row("search outputs for a word (FTS5), newest 50", "search", None),
        row("TTFT history of one target (all its sessions)", "history", None),
        "",
        "Timings are wall-clock with the database in the page cache (a second look at "
        "history); a session holds 10 probes of 20 to 380 chunks, so a load decodes about "
        "2,000 chunks. Everything goes through `Store`, as the CLI and TUI call it. A probe's "
        "commit stores its timeline and text; the full-text index is updated for the whole "
        "session when it finishes (or before a search), so indexing has its own row. Targets "
        "are the issue's; rows without one are there to show the cost of the rest.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="rebuild the database")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    version_file = WORK / "bench_store.version"
    generated_s = None
    fresh = (DB_PATH.exists() and version_file.exists()
             and version_file.read_text() == GENERATOR_VERSION)
    if args.regenerate or not fresh:
        print(f"generating {DB_PATH} ...", file=sys.stderr)
        generated_s = generate(DB_PATH)
    results = measure(DB_PATH)
    text = section(results, generated_s)
    print(text)
    if not args.no_write:
        write_section("bench_store", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
