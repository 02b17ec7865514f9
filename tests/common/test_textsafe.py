from infertui.textsafe import clean_str, display, one_line


def test_controls_become_visible_escapes_and_nothing_is_dropped():
    hostile = "a\x1b]0;pwned\x07b\x1b]52;c;Zm9v\x07c\x1b[2Jd\x9b31me\rf"
    shown = display(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\r" not in shown
    assert shown == ("a\\x1b]0;pwned\\x07b\\x1b]52;c;Zm9v\\x07c\\x1b[2Jd\\x9b31me\\x0df")


def test_newlines_and_tabs_stay_in_text_but_not_in_one_line():
    assert display("a\nb\tc") == "a\nb\tc"
    assert one_line("a\nb\tc") == "a\\x0ab\\x09c"


def test_bidi_overrides_and_surrogates():
    assert display("x\u202ey") == "x\\u202ey"
    assert clean_str("a\ud800b") == "a\ufffdb"
    assert display("a\udfffb").encode("utf-8") == "a\ufffdb".encode("utf-8")


def test_ordinary_text_is_untouched_including_markup_like_brackets():
    text = "What does the [/INST] token do? :smile: [link=http://x]y[/link] é 漢字 🙂"
    assert display(text) == text
    assert one_line(text) == text


def test_one_line_limit():
    assert one_line("abcdef", 4) == "abc…"
    assert one_line("abc", 4) == "abc"
