"""Chunk timelines packed into one row: exact, compact."""

from __future__ import annotations

from infertui.core.result import Chunk, ChunkKind
from infertui.store.timeline import pack, unpack
from tests.store.factories import chunks

C, R = ChunkKind.CONTENT, ChunkKind.REASONING


def roundtrip(cs: list[Chunk]) -> list[Chunk]:
    packed = pack(cs)
    return unpack(packed.offsets, packed.kinds, packed.lengths, packed.text)


def as_tuples(cs: list[Chunk]) -> list[tuple[int, ChunkKind, str]]:
    return [(c.offset_ns, c.kind, c.text) for c in cs]


def test_roundtrip_is_exact_to_the_nanosecond():
    cs = chunks(4000, reasoning=300)
    assert as_tuples(roundtrip(cs)) == as_tuples(cs)


def test_at_most_four_bytes_per_timestamp_and_compact_kinds():
    cs = chunks(4000, reasoning=300)
    packed = pack(cs)
    assert len(packed.offsets) <= 1 + 4 * 4000
    assert packed.kinds == "r300c3700"
    assert len(packed.lengths) == 1 + 4000  # one byte per chunk text length
    assert packed.text == "".join(c.text for c in cs)


def test_stalls_over_four_seconds_keep_other_chunks_at_four_bytes():
    cs = [Chunk(10, C, "a"), Chunk(7_000_000_000, C, "b"), Chunk(7_000_000_500, C, "c"),
          Chunk(20_000_000_000_000, C, "d")]  # a 5.5 hour gap, too
    packed = pack(cs)
    assert packed.offsets[:1] == b"X"
    assert len(packed.offsets) == 1 + 4 + 2 * 4 * 2 + 4 * len(cs)
    assert as_tuples(roundtrip(cs)) == as_tuples(cs)


def test_a_clock_that_went_backwards_still_roundtrips():
    cs = [Chunk(500, C, "a"), Chunk(400, R, "b"), Chunk(900, C, "c")]
    assert as_tuples(roundtrip(cs)) == as_tuples(cs)


def test_interleaved_kinds_unicode_and_empty_texts():
    cs = [Chunk(1, R, "думаю"), Chunk(2, C, ""), Chunk(3, R, "🙂" * 300), Chunk(4, C, "x\n")]
    packed = pack(cs)
    assert packed.kinds == "r1c1r1c1"
    assert as_tuples(roundtrip(cs)) == as_tuples(cs)


def test_empty_timeline():
    assert roundtrip([]) == []
    assert pack([]).offsets == b""
