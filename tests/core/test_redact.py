"""Every form of a key is masked: in one string, across the pieces of a
streamed text, and while it streams (a key split between chunks is never
shown, not even before the next chunk arrives)."""

from __future__ import annotations

import base64
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from infertui.core.redact import MASK, LiveMask, Redactor

KEY = "sk-test-Q7vLp2mX9rTb4KwZ8nHc"


def test_every_form_of_a_key_is_masked():
    red = Redactor([KEY])
    for user in ("", "u", "us", "user"):
        basic = base64.b64encode(f"{user}:{KEY}".encode()).decode()
        assert KEY not in red.text(f"Authorization: Basic {basic}")
        assert "***" in red.text(f"Authorization: Basic {basic}")
    assert red.text(repr(KEY + "\r")) == repr(MASK + "\r")
    assert red.text("no key here") == "no key here"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(0, 200), max_size=6))
def test_a_key_split_anywhere_is_never_shown_live(before, after, cuts):
    text = before + KEY + after
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in pairwise(bounds)]
    red = Redactor([KEY])
    mask = LiveMask(red)
    shown = ""
    for piece in pieces:
        shown += mask.feed(piece)
        assert KEY not in shown
    shown += mask.flush()
    assert KEY not in shown
    assert shown == red.text(text)
    assert "".join(red.pieces(pieces)) == red.text(text)
