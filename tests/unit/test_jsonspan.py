"""jsonspan.locate: where a JSON path sits in a line, so findings underline the right text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneline.lint.jsonspan import Path, locate

DOC = '{"a": 1, "b": {"c": [10, "x", {"d": null}]}, "e": "t\\"q", "f": []}'


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ((), False, DOC),
        (("a",), False, "1"),
        (("a",), True, '"a"'),
        (("b",), False, '{"c": [10, "x", {"d": null}]}'),
        (("b", "c"), False, '[10, "x", {"d": null}]'),
        (("b", "c"), True, '"c"'),
        (("b", "c", 0), False, "10"),
        (("b", "c", 1), False, '"x"'),
        (("b", "c", 2), False, '{"d": null}'),
        (("b", "c", 2, "d"), False, "null"),
        (("b", "c", 2, "d"), True, '"d"'),
        (("e",), False, '"t\\"q"'),  # an escaped quote does not end the string
        (("f",), False, "[]"),
        # `key` only applies to object keys: an index underlines the element
        (("b", "c", 1), True, '"x"'),
        # unresolvable paths fall back to the deepest part that resolves
        (("zz",), False, DOC),
        (("b", "c", 7), False, '[10, "x", {"d": null}]'),
        (("b", "c", "k"), False, '[10, "x", {"d": null}]'),  # a key into an array
        (("a", 0), False, "1"),  # an index into a number
        (("f", 0), False, "[]"),
        (("b", "c", 2, "d", "deeper"), False, "null"),
    ],
)
def test_locate(path: Path, key: bool, expected: str) -> None:
    start, end = locate(DOC, path, key)
    assert DOC[start:end] == expected


@pytest.mark.parametrize(
    ("text", "path", "key", "span"),
    [
        # whitespace around tokens is not part of the span
        ('  { "a" :  [ 1 ,  2 ] }  ', ("a", 1), False, (18, 19)),
        ('  { "a" :  [ 1 ,  2 ] }  ', ("a",), True, (4, 7)),
        ('  { "a" :  [ 1 ,  2 ] }  ', (), False, (2, 23)),
        ('\t{"a":\t"v"}', ("a",), False, (7, 10)),
        # columns are code points, not bytes or UTF-16 units
        ('{"é😀": "ü", "k": "v"}', ("k",), False, (17, 20)),
        ('{"é😀": "ü"}', ("é😀",), True, (1, 5)),
        # escaped keys are compared decoded
        ('{"\\u0061": 1}', ("a",), True, (1, 9)),
        ('{"\\u0061": 1}', ("a",), False, (11, 12)),
        # a repeated key: json.loads keeps the last value, so the span is the last copy
        ('{"a": 1, "a": "two"}', ("a",), False, (14, 19)),
        ('{"a": 1, "a": "two"}', ("a",), True, (9, 12)),
        # braces and brackets inside strings do not confuse skipping
        ('{"s": "}]{[", "t": 2}', ("t",), False, (19, 20)),
        ('{"s": ["]", {"x": "}"}], "t": 2}', ("t",), False, (30, 31)),
        # numbers in all their forms
        ('{"n": -1.5e+10, "m": 0}', ("n",), False, (6, 14)),
        ('{"n": -1.5e+10, "m": 0}', ("m",), False, (21, 22)),
    ],
)
def test_locate_spans(text: str, path: Path, key: bool, span: tuple[int, int]) -> None:
    assert locate(text, path, key) == span


@pytest.mark.parametrize(
    ("text", "path", "span"),
    [
        # truncated or broken input never raises; spans stay inside the text
        ('{"a": ', ("a",), (6, 6)),
        ('{"a": "unterminated', ("a",), (6, 19)),
        ('{"a": [1, 2', ("a",), (6, 11)),
        ('{"a": [1, 2', ("a", 1), (10, 11)),
        ("", (), (0, 0)),
        ("", ("a",), (0, 0)),
        ("   ", ("a", 0), (3, 3)),
        ("{", ("a",), (0, 1)),
        ('{"a" 1}', ("a",), (5, 6)),  # missing colon: the value still found
        ("[1, 2, 3]", (1,), (4, 5)),
        ("[1, 2, 3]", ("a",), (0, 9)),
        ("nonsense", ("a",), (0, 8)),
    ],
)
def test_locate_tolerates_broken_json(text: str, path: Path, span: tuple[int, int]) -> None:
    assert locate(text, path) == span


def test_locate_empty_value_gets_one_character() -> None:
    """A value that resolves to an empty span is widened to one character when possible."""
    assert locate('{"a": }', ("a",)) == (6, 7)


# ----- property: every path of a real JSON document maps back to its value -------------------

_scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8))
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    out: list[tuple[Path, Any]] = [(prefix, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


@settings(max_examples=100, deadline=None)
@given(_values, st.booleans(), st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]))
def test_locate_every_path_round_trips(value: Any, ascii_only: bool,
                                       separators: tuple[str, str]) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, separators=separators)
    for path, expected in _paths(value):
        start, end = locate(text, path)
        assert json.loads(text[start:end]) == expected, (text, path)
        if path and isinstance(path[-1], str):
            ks, ke = locate(text, path, key=True)
            assert json.loads(text[ks:ke]) == path[-1]
