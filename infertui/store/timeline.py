"""Chunk timelines packed for storage: one row per probe, not one per chunk.

A timeline of N chunks is four values:

- offsets: the arrival times as exact nanosecond gaps (the first from request
  sent, then chunk to chunk), a little-endian uint32 array: 4 bytes a chunk,
  lossless, so a stored session prints the same JSON it was recorded with.
  A gap over 4.29 s keeps its low 32 bits in the array and its high bits in a
  short list of exceptions, so stalls do not widen the other chunks. The first
  byte says which layout follows: `I` plain, `X` with exceptions, `q` signed
  64-bit (only for a timeline whose clock went backwards).
- kinds: run-length text, `r120c3880` = 120 reasoning chunks then 3880
  content chunks ('r' and 'c' as in the session JSON's chunk_kinds).
- lengths: each chunk's text length in characters, in the narrowest unsigned
  array that holds them (1 byte for chunks under 256 characters).
- text: every chunk's text concatenated, in order (also what search indexes).
"""

from __future__ import annotations

import operator
import re
import sys
from array import array
from dataclasses import dataclass
from itertools import accumulate, chain, pairwise, repeat
from typing import Sequence

from infertui.core.result import Chunk, ChunkKind

_KINDS = {"c": ChunkKind.CONTENT, "r": ChunkKind.REASONING}
_CODES = {kind: code for code, kind in _KINDS.items()}
_PACKED_RUN = re.compile(r"([cr])(\d+)")
_WIDTHS = ("B", "H", "I", "q")  # narrowest first
_BIG_ENDIAN = sys.byteorder == "big"
_LOW32 = 0xFFFF_FFFF

assert array("I").itemsize == 4 and array("H").itemsize == 2  # a platform check


@dataclass(frozen=True, slots=True)
class PackedTimeline:
    offsets: bytes
    kinds: str
    lengths: bytes
    text: str


def _bytes(values: array) -> bytes:
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _array(code: str, blob: bytes) -> array:
    values = array(code)
    values.frombytes(blob)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def pack_ints(values: Sequence[int]) -> bytes:
    """The narrowest array that takes every value; array() itself range-checks,
    which is cheaper than min() and max() in Python."""
    if not values:
        return b""
    for code in _WIDTHS:
        try:
            packed = array(code, values)
        except OverflowError:
            continue
        return code.encode("ascii") + _bytes(packed)
    raise ValueError("value out of range for a timeline")


def unpack_ints(blob: bytes) -> array:
    if not blob:
        return array("q")
    return _array(chr(blob[0]), blob[1:])


def pack_gaps(gaps: Sequence[int]) -> bytes:
    if not gaps:
        return b""
    try:
        return b"I" + _bytes(array("I", gaps))
    except OverflowError:
        pass
    if min(gaps) < 0:
        return b"q" + _bytes(array("q", gaps))
    big = [i for i, gap in enumerate(gaps) if gap > _LOW32]
    low = array("I", (gap & _LOW32 for gap in gaps))
    head = array("I", [len(big), *big, *(gaps[i] >> 32 for i in big)])
    return b"X" + _bytes(head) + _bytes(low)


def unpack_gaps(blob: bytes) -> Sequence[int]:
    if not blob:
        return ()
    layout, body = chr(blob[0]), blob[1:]
    if layout in "Iq":
        return _array(layout, body)
    count = int.from_bytes(body[:4], "little")
    head = _array("I", body[4:4 + 8 * count])
    gaps = list(_array("I", body[4 + 8 * count:]))
    for index, high in zip(head[:count], head[count:], strict=False):
        gaps[index] += high << 32
    return gaps


def _kind_runs(kinds: Sequence[ChunkKind]) -> str:
    """Run-length codes, found with list.index (C speed): streams have one or
    two runs (reasoning, then content), rarely more."""
    runs = []
    start, n = 0, len(kinds)
    while start < n:
        kind = kinds[start]
        other = ChunkKind.CONTENT if kind is ChunkKind.REASONING else ChunkKind.REASONING
        try:
            end = kinds.index(other, start)
        except ValueError:
            end = n
        runs.append(f"{_CODES[kind]}{end - start}")
        start = end
    return "".join(runs)


def _pack_lengths(lengths: list[int]) -> bytes:
    try:
        return b"B" + bytes(lengths)  # the usual case, and much faster than array("B")
    except ValueError:
        return pack_ints(lengths)


def pack(chunks: Sequence[Chunk]) -> PackedTimeline:
    offsets = [c.offset_ns for c in chunks]
    texts = [c.text for c in chunks]
    gaps = list(map(operator.sub, offsets, chain((0,), offsets)))
    return PackedTimeline(pack_gaps(gaps), _kind_runs([c.kind for c in chunks]),
                          _pack_lengths(list(map(len, texts))), "".join(texts))


def unpack(offsets: bytes, kinds: str, lengths: bytes, text: str) -> list[Chunk]:
    times = accumulate(unpack_gaps(offsets))
    kind_seq = chain.from_iterable(repeat(_KINDS[code], int(count))
                                   for code, count in _PACKED_RUN.findall(kinds))
    ends = list(accumulate(unpack_ints(lengths)))
    pieces = [text[start:end] for start, end in pairwise(chain((0,), ends))]
    return list(map(Chunk, times, kind_seq, pieces))
