"""Finding the line of a key for `file:line:` messages."""

from infertui.store.tomllines import key_lines, line_of

TEXT = '''# comment [not.a.table]
title = "x = 1"
[providers."my box"]   # a quoted name
api = 'openai'
doc = """
fake = "inside a multi-line string"
[not.a.table]
"""
headers = { "X-A" = "b" }
list = [
  "a",
  "b = c",
]
a.b.c = 1

[[runs]]
name = "one"
[groups.'llama-3.3-70b']
"groq" = "llama"
'''


def test_keys_tables_and_dotted_keys_map_to_their_lines():
    lines = key_lines(TEXT)
    assert lines[("title",)] == 2
    assert lines[("providers", "my box")] == 3
    assert lines[("providers", "my box", "api")] == 4
    assert lines[("providers", "my box", "doc")] == 5
    assert lines[("providers", "my box", "headers")] == 9
    assert lines[("providers", "my box", "list")] == 10
    assert lines[("providers", "my box", "a", "b", "c")] == 14
    assert lines[("providers", "my box", "a")] == 14
    assert lines[("runs",)] == 16
    assert lines[("runs", "name")] == 17
    assert lines[("groups", "llama-3.3-70b", "groq")] == 19


def test_nothing_inside_strings_or_arrays_is_taken_for_a_key():
    lines = key_lines(TEXT)
    assert ("providers", "my box", "fake") not in lines
    assert ("not", "a", "table") not in lines
    assert ("providers", "my box", "b") not in lines


def test_unknown_path_falls_back_to_the_nearest_enclosing_key():
    lines = key_lines(TEXT)
    assert line_of(lines, ("providers", "my box", "headers", "X-A")) == 9
    assert line_of(lines, ("providers", "my box", "missing")) == 3
    assert line_of(lines, ("nowhere",)) is None


def test_escaped_quotes_in_multiline_strings():
    text = 'a = """ends with \\""""\nb = 2\nc = \'\'\'x\n\'\'\'\nd = 4\n'
    assert key_lines(text) == {("a",): 1, ("b",): 2, ("c",): 3, ("d",): 5}
