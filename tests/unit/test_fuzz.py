"""Property tests: the linter never raises, spans stay inside their line, edits are exact.

The incremental property is what the language server relies on: after any sequence of
`Dataset.replace` edits, `findings()` must equal a fresh Dataset over the final lines.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tuneline.lint import api, dataset
from tuneline.lint.api import lint_file
from tuneline.lint.check import check_line
from tuneline.lint.config import Config, LoadedConfig
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset
from tuneline.lint.findings import Finding, Severity
from tuneline.lint.rules import REGISTRY

BOM = b"\xef\xbb\xbf"


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


CTX = LintContext(Config())  # every rule on: a crash anywhere must show up here

# ----- generators ----------------------------------------------------------------------------

ROLES = ["system", "user", "assistant", "tool", "developer", "bot", "", None, 3]
WORDS = ["hello", "world", "café", "😀", "the", "answer", "is", "42", "\\n", "\u2028", " ",
         "<|endoftext|>", "NaN", "\t", "\"quoted\"", "a@b.com", "555-0100"]
_text = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)
_scalar = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _text
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6))
_message = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES), "content": _text | _scalar},
    optional={"weight": st.sampled_from([0, 1, 2, None]), "name": _scalar,
              "tool_calls": st.lists(st.fixed_dictionaries(
                  {"id": _text, "type": st.just("function"),
                   "function": st.fixed_dictionaries({"name": _text, "arguments": _text})}),
                  max_size=2),
              "tool_call_id": _text})
_record = st.one_of(
    st.fixed_dictionaries({"messages": st.lists(_message, max_size=4)},
                          optional={"tools": st.lists(_scalar, max_size=2), "label": _scalar}),
    st.fixed_dictionaries({"prompt": _text, "completion": _text}),
    st.fixed_dictionaries({"input": st.fixed_dictionaries({"messages": st.lists(_message,
                                                                                max_size=2)}),
                           "preferred_output": st.lists(_message, max_size=1),
                           "non_preferred_output": st.lists(_message, max_size=1)}),
    st.dictionaries(st.sampled_from(["messages", "text", "prompt", "conversations", "x"]),
                    _scalar, max_size=3),
)
_json_value = st.recursive(
    _scalar | _record,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["messages", "role", "content", "a", "é"]), inner,
                      max_size=3),
    max_leaves=10,
)


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    value = draw(_record | _json_value)
    line = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:  # sometimes damage it
        cut = draw(st.integers(0, len(line)))
        line = line[:cut] + draw(st.sampled_from(["", "}", ",", "'", "\x00", "NaN", "\ud800"]))
    return line.encode("utf-8", "surrogatepass")


_line_bytes = st.one_of(json_lines(), st.binary(max_size=30),
                        st.sampled_from([b"", b" ", b"\r", b"\xef\xbb\xbf{}", b"\xff\xfe", b"[]",
                                         b"null", b"{}", b"\xe9"]))


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_line_bytes, max_size=12))
    sep = [draw(st.sampled_from([b"\n", b"\r\n"])) for _ in lines]
    data = b"".join(x + s for x, s in zip(lines, sep, strict=True))
    if lines and draw(st.booleans()):
        data = data[: -len(sep[-1])]  # no final newline
    if draw(st.booleans()):
        data = BOM + data
    return data


def reference_lines(data: bytes) -> list[str]:
    """The lines a reader sees, computed independently of source.py."""
    body = data.removeprefix(BOM)
    if not body:
        return []
    parts = body.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return [p.removesuffix(b"\r").decode("utf-8", "replace") for p in parts]


def check_spans(findings: list[Finding], lines: list[str]) -> None:
    for f in findings:
        assert f.rule in REGISTRY, f
        assert isinstance(f.severity, Severity)
        assert f.end_line >= f.line >= 0, f
        width = len(lines[f.line]) if f.line < len(lines) else 0
        assert f.line < max(1, len(lines)), (f, len(lines))
        if f.line == f.end_line:
            assert 0 <= f.col <= f.end_col <= width, (f, lines[f.line] if lines else None)
        for rel in f.related:
            assert 0 <= rel.line < len(lines)


def lint_bytes(data: bytes, **kw: Any) -> list[Finding]:
    fd, name = tempfile.mkstemp(suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        report = lint_file(name, LoadedConfig(Config()), **kw)
        assert report.error is None
        return report.findings
    finally:
        os.unlink(name)


# ----- any bytes -----------------------------------------------------------------------------


@fuzz(60)
@given(st.one_of(files(), st.binary(max_size=200)))
def test_any_bytes_lint_file_never_raises_and_spans_fit(data: bytes) -> None:
    lines = reference_lines(data)
    findings = lint_bytes(data)
    check_spans(findings, lines)
    bad_lines = {i for i, text in enumerate(lines) if "\ufffd" in text}
    tl002 = {f.line for f in findings if f.rule == "TL002"}
    # every line holding invalid UTF-8 is reported (lines that were U+FFFD already are not)
    assert tl002 <= bad_lines
    raw = [p.removesuffix(b"\r") for p in data.removeprefix(BOM).split(b"\n")]
    for i in bad_lines:
        try:
            raw[i].decode("utf-8")
        except UnicodeDecodeError:
            assert i in tl002
    assert any(f.rule == "TL003" for f in findings) == data.startswith(BOM)


BYTE_LEVEL = {"TL002", "TL003", "TL004", "TL005"}


@fuzz(30)
@given(files())
def test_editor_text_and_file_bytes_agree(data: bytes) -> None:
    """lint_text (the editor's buffer) and lint_file (the bytes on disk) see the same lines."""
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        assume(False)
        return
    from_file = [f for f in lint_bytes(data) if f.rule not in BYTE_LEVEL]
    from_text = api.lint_text(text, config=Config())
    # file-level findings sit on line 1's first character, which the BOM does not change
    assert from_text == from_file


@fuzz(80)
@given(st.text(max_size=80) | json_lines().map(lambda b: b.decode("utf-8", "surrogatepass")))
def test_any_text_check_line_never_raises(text: str) -> None:
    result = check_line(text, CTX)
    check_spans([f.at(0) for f in result.findings], [text])
    if not text.strip():
        assert result.blank and result.format is None


@fuzz(80)
@given(_json_value, st.booleans())
def test_any_json_value_check_line_never_raises(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    result = check_line(text, CTX)
    check_spans(list(result.findings), [text])
    rules = {f.rule for f in result.findings}
    assert "TL001" not in rules
    assert ("TL007" in rules) == (not isinstance(value, dict))
    assert "TL000" not in rules, [f.message for f in result.findings]


@pytest.mark.parametrize("depth", [1, 50, 500, 990, 1000, 5000, 100_000])
@pytest.mark.parametrize("shape", ["[", '{"a":', '{"messages":[', '{"messages":[{"content":'])
def test_deep_nesting_never_raises(depth: int, shape: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"messages":[': "]}", '{"messages":[{"content":': "}]}"}
    reps = max(1, depth // len(closer[shape]))  # `depth` levels of containers in all
    text = shape * reps + "1" + closer[shape] * reps
    result = check_line(text, CTX)
    check_spans(list(result.findings), [text])
    rules = {f.rule for f in result.findings}
    too_deep = [("TL001", "invalid JSON: nested too deeply to parse")]
    if depth >= 5000:  # past Python's recursion limit: json.loads itself cannot read it
        assert [(f.rule, f.message) for f in result.findings] == too_deep
    elif depth <= 500:
        assert "TL001" not in rules
    else:  # near the limit, which depends on the caller's stack: either outcome, no crash
        assert "TL001" not in rules or [(f.rule, f.message) for f in result.findings] == too_deep


# ----- incremental == fresh ------------------------------------------------------------------

BASE = ["please", "summarise", "the", "following", "meeting", "notes", "about", "the",
        "quarterly", "budget", "review", "and", "list", "every", "action", "item", "with", "its",
        "owner"]


@st.composite
def dataset_lines(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 5:  # chat examples that collide: exact, whitespace-variant and near duplicates
        # few variants on purpose, so that random edits often hit the same key or a near one
        words = list(BASE)
        for at in draw(st.sampled_from([(), (), (2,), (9,), (2, 9), (0, 5, 12)])):
            words[at] = "alpha"
        words = words[: draw(st.sampled_from([len(words), len(words), 8, 3]))]
        sep = draw(st.sampled_from([" ", "  "]))
        msgs: list[dict[str, Any]] = []
        system = draw(st.sampled_from([None, None, "Be brief.", "Be kind."]))
        if system:
            msgs.append({"role": "system", "content": system})
        msgs += [{"role": "user", "content": sep.join(words)},
                 {"role": "assistant", "content": draw(st.sampled_from(["ok", "Done: see list."]))}]
        record: dict[str, Any] = {"messages": msgs}
        label = draw(st.sampled_from([None, "pos", "neg", 1]))
        if label is not None:
            record["label"] = label
        return json.dumps(record)
    if kind == 6:
        return json.dumps({"prompt": draw(st.sampled_from(BASE)), "completion": "x"})
    if kind == 7:
        return json.dumps({"text": draw(st.sampled_from(BASE))})
    return draw(st.sampled_from(["", "  ", "{", "[1]", "{\"a\": NaN}", "{\"x\": 1}", "null"]))


_edit = st.tuples(st.integers(0, 40), st.integers(0, 4), st.lists(dataset_lines(), max_size=4))
INC_CONFIG = Config(label_field="label", imbalance_ratio=1.5, near_duplicate_threshold=0.7)


def _fresh(lines: list[str], cfg: Config) -> Dataset:
    ds = Dataset(LintContext(cfg))
    ds.set_lines(lines)
    return ds


@fuzz(100)
@given(st.lists(dataset_lines(), max_size=10), st.lists(_edit, min_size=1, max_size=8),
       st.booleans())
def test_incremental_edits_equal_fresh_lint(initial: list[str],
                                            edits: list[tuple[int, int, list[str]]],
                                            compact: bool) -> None:
    with pytest.MonkeyPatch.context() as mp:
        if compact:  # exercise the cache compaction on every edit
            mp.setattr(dataset, "_CACHE_SLACK", 0)
        ds = _fresh(initial, INC_CONFIG)
        lines = list(initial)
        for start, length, new in edits:
            start = min(start, len(lines))
            end = min(len(lines), start + length)
            ds.replace(start, end, new)
            lines[start:end] = new
            assert ds.lines == lines
        fresh = _fresh(lines, INC_CONFIG)
        assert ds.findings() == fresh.findings()
        assert ds.summary() == fresh.summary()
        assert ds.file_format == fresh.file_format


@fuzz(30)
@given(st.lists(dataset_lines(), max_size=14), st.integers(1, 5))
def test_streamed_blocks_equal_fresh_lint(lines: list[str], block: int) -> None:
    ctx = LintContext(INC_CONFIG)
    streamed = Dataset(ctx, keep_text=False)
    for i in range(0, len(lines), block):
        streamed.append(lines[i : i + block])
    assert streamed.findings() == _fresh(lines, INC_CONFIG).findings()


def test_incremental_typing_a_line_character_by_character() -> None:
    """What an editor does: a line grows one keystroke at a time, each an edit."""
    target = json.dumps({"messages": [{"role": "user", "content": " ".join(BASE)},
                                      {"role": "assistant", "content": "ok"}]})
    lines = [target, "", target.replace("budget", "travel")]
    ds = _fresh(lines, INC_CONFIG)
    for n in range(0, len(target) + 1, 7):
        ds.replace(1, 2, [target[:n]])
        lines[1] = target[:n]
        assert ds.findings() == _fresh(lines, INC_CONFIG).findings()
    ds.replace(1, 2, [target])
    lines[1] = target
    assert [f.rule for f in ds.findings() if f.line == 1 and f.rule.startswith("TL5")] == [
        "TL501"]
    assert ds.findings() == _fresh(lines, INC_CONFIG).findings()


# ----- the parallel path ---------------------------------------------------------------------


def _big_file(path: Path) -> bytes:
    """BOM, CRLF in the first half, invalid UTF-8 and other problems in the second half."""
    rows: list[bytes] = []
    for i in range(240):
        rows.append(json.dumps({"messages": [
            {"role": "user", "content": f"question {i % 100}: {' '.join(BASE[: 5 + i % 100 % 9])}"},
            {"role": "assistant", "content": f"answer {i % 100}"}]}).encode())
    rows[3] = b'{"a": NaN}'
    rows[170] = b'{"messages": [{"role": "user", "content": "caf\xe9 \xff"}]}'
    rows[171] = b""
    rows[222] = b"\xc3(bad start"
    rows[239] = b"[1, 2"
    data = BOM + b"\r\n".join(rows[:120]) + b"\r\n" + b"\n".join(rows[120:])
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_lint_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     workers: int) -> None:
    path = tmp_path / "big.jsonl"
    data = _big_file(path)
    loaded = LoadedConfig(Config())
    serial = lint_file(path, loaded, stats=True, workers=1)
    monkeypatch.setattr(api, "PARALLEL_MIN_BYTES", len(data) // 2)
    assert len(api.split_ranges(str(path), workers)) == workers  # really split
    parallel = lint_file(path, loaded, stats=True, workers=workers)
    assert parallel.findings == serial.findings
    assert parallel.summary == serial.summary
    by_rule = {(f.rule, f.line, f.col) for f in serial.findings}
    cafe = len('{"messages": [{"role": "user", "content": "caf')
    assert {("TL003", 0, 0), ("TL004", 0, 0), ("TL001", 3, 6), ("TL002", 170, cafe),
            ("TL006", 171, 0), ("TL002", 222, 0), ("TL005", 239, 0)} <= by_rule
    assert sum(f.rule == "TL501" for f in serial.findings) > 100  # duplicates across halves
    tl004 = next(f for f in parallel.findings if f.rule == "TL004")
    assert tl004.message.startswith("120 line(s) end with CRLF")
    check_spans(parallel.findings, reference_lines(data))


@fuzz(12)
@given(files(), st.integers(2, 4))
def test_parallel_equals_serial_on_any_file(data: bytes, workers: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        serial = lint_bytes(data, workers=1)
        mp.setattr(api, "PARALLEL_MIN_BYTES", 0)
        assume(len(data) > 0)
        assert lint_bytes(data, workers=workers) == serial
