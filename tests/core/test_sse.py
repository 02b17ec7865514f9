from hypothesis import given, settings
from hypothesis import strategies as st

from infertui.core.sse import SSEDecoder, SSEEvent
from tests.core.streams import ANTHROPIC_STREAM, GEMINI_STREAM, OPENAI_STREAM


def decode(parts: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for part in parts:
        events.extend(decoder.feed(part))
    events.extend(decoder.close())
    return events


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    parts, last = [], 0
    for p in points:
        parts.append(data[last:p])
        last = p
    parts.append(data[last:])
    return parts


def test_basic_events_comments_and_fields():
    events = decode([b": keepalive\n\nevent: ping\nid: 7\ndata: {\"a\":1}\n\ndata: x\n\n"])
    assert events == [
        SSEEvent(data="keepalive", comment=True),
        SSEEvent(data='{"a":1}', event="ping", id="7"),
        SSEEvent(data="x", event=None, id="7"),  # the last id persists, the event type does not
    ]


def test_multiline_data_is_joined_with_newlines():
    assert decode([b"data: one\ndata: two\ndata:three\n\n"]) == [SSEEvent(data="one\ntwo\nthree")]


def test_line_endings_lf_crlf_cr_are_equivalent():
    lf = b"event: a\ndata: 1\n\ndata: 2\n\n"
    crlf = lf.replace(b"\n", b"\r\n")
    cr = lf.replace(b"\n", b"\r")
    assert decode([lf]) == decode([crlf]) == decode([cr])
    # A CRLF split across two reads is one line end, not two.
    assert decode([b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n"]) == [SSEEvent("1"), SSEEvent("2")]


def test_bom_and_missing_trailing_newline():
    events = decode([b"\xef\xbb\xbfdata: first\n\ndata: last"])
    assert events == [SSEEvent("first"), SSEEvent("last")]


def test_multibyte_utf8_split_between_reads():
    data = "data: caf\u00e9 \u2603\n\n".encode()
    assert decode([data[:9], data[9:10], data[10:]]) == [SSEEvent("caf\u00e9 \u2603")]


def test_empty_data_lines_and_field_without_colon():
    # `data` with no colon is an empty data line; an event of only empty data
    # still dispatches (one empty line joined).
    assert decode([b"data\n\n"]) == [SSEEvent("")]
    assert decode([b"\n\n\n"]) == []


@settings(max_examples=300, deadline=None)
@given(
    stream=st.sampled_from([OPENAI_STREAM, ANTHROPIC_STREAM, GEMINI_STREAM]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
    crlf=st.sampled_from(["lf", "crlf", "cr"]),
)
def test_same_events_whatever_the_chunk_boundaries(stream, cuts, crlf):
    if crlf == "crlf":
        stream = stream.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    elif crlf == "cr":
        stream = stream.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    whole = decode([stream])
    assert len(whole) >= 3
    assert decode(split_at(stream, cuts)) == whole
    # Byte by byte, the hardest split of all.
    if not cuts:
        assert decode([stream[i:i + 1] for i in range(len(stream))]) == whole
