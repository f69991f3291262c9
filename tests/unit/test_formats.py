"""Record formats: detection, schema validation messages/paths/fixes, the normalised view."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuneline.lint import formats as F
from tuneline.lint.config import FORMAT_CHOICES
from tuneline.lint.example import PREFERENCE, PROMPT_ONLY, RFT, SFT, TEXT
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.jsonspan import locate
from tuneline.lint.rules import REGISTRY

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"


def fixture_records() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for path in sorted(FIXTURES.glob("*.jsonl")):
        for i, line in enumerate(path.read_text("utf-8").splitlines()):
            out.append((path.stem, i, json.loads(line)))
    return out


FIXTURE_RECORDS = fixture_records()
U = {"role": "user", "content": "Hi there"}
A = {"role": "assistant", "content": "Hello!"}
CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
TOOL = {"role": "tool", "tool_call_id": "c1", "content": "42"}


# --------------------------------------------------------------------------- schemas & rules


def test_every_format_choice_has_a_valid_2020_12_schema() -> None:
    assert set(F.FORMAT_IDS) == set(FORMAT_CHOICES) - {"auto"}
    for fmt in F.FORMAT_IDS:
        doc = F.schema(fmt)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(doc)
    jsonschema.Draft202012Validator.check_schema(
        json.loads((F.schema_dir() / "message.schema.json").read_text("utf-8")))


def test_format_rules_are_registered() -> None:
    assert REGISTRY["TL101"].severity == Severity.ERROR
    assert REGISTRY["TL102"].severity == Severity.ERROR
    assert REGISTRY["TL104"].severity == Severity.WARNING
    assert REGISTRY["TL104"].name == "deprecated-field"


# --------------------------------------------------------------------------- valid fixtures


@pytest.mark.parametrize(("fmt", "line", "record"), FIXTURE_RECORDS,
                         ids=[f"{f}:{i + 1}" for f, i, _ in FIXTURE_RECORDS])
def test_fixture_lines_are_detected_valid_and_viewable(fmt: str, line: int,
                                                       record: dict[str, Any]) -> None:
    assert F.detect(record) == fmt
    assert list(F.validate(record, fmt)) == []
    ex = F.to_example(record, fmt)
    assert ex is not None and ex.format == fmt and ex.kind == F.KINDS[fmt]
    assert ex.messages
    for m in [*ex.messages, *ex.rejected]:  # every path points at what the view says
        node = resolve(record, m.path)
        assert node is m.raw
        if m.text is not None and isinstance(resolve(record, m.content_path), str):
            assert m.text.startswith(resolve(record, m.content_path))


def resolve(record: Any, path: tuple[str | int, ...]) -> Any:
    node = record
    for step in path:
        node = node[step]
    return node


def test_plain_and_tool_call_chat_take_the_fast_path() -> None:
    fast = F._validators("chat").gates[0]
    for record in ({"messages": [U, A]}, {"messages": [U, CALL, TOOL, {**A, "weight": 0}]}):
        fast(record)  # raises if the record would need the full schema


# --------------------------------------------------------------------------- detection

DETECT = [
    ("chat", {"messages": [U, A]}),
    ("chat", {"messages": [U]}),  # ends with user but nothing else: still chat
    ("rft", {"messages": [U], "reference_answer": "42"}),
    ("chat", {"messages": [U, A], "reference_answer": "42"}),  # extra key, ends on assistant
    ("chat", {"messages": [U], "tool": []}),  # a misspelt reserved key is not grader data
    ("chat", {"mesages": [U, A]}),
    ("chat", {"Messages": [U, A]}),
    ("dpo", {"input": {}, "preferred_output": [], "non_preferred_output": []}),
    ("dpo", {"input": {}, "preferred_completion": [], "non_preferred_completion": []}),
    ("prompt-completion", {"prompt": "a", "completion": "b"}),
    ("unpaired-preference", {"prompt": "a", "completion": "b", "label": True}),
    ("stepwise", {"prompt": "a", "completions": ["b"], "labels": [True]}),
    ("prompt-only", {"prompt": "a"}),
    ("prompt-only", {"prompt": "a", "answer": "42", "solution": "x"}),
    ("preference", {"chosen": "a", "rejected": "b"}),
    ("preference", {"prompt": "a", "chosen": "b"}),  # missing rejected: still preference
    ("preference", {"prompt": [U], "chosen": [A], "rejected": [A], "messages": [U, A],
                    "score_chosen": 8}),
    ("text", {"text": "a"}),
    ("text", {"text": "a", "label": "spam"}),
    ("sharegpt", {"conversations": []}),
    ("sharegpt", {"conversation": []}),
    ("alpaca", {"instruction": "a", "input": "", "output": "b"}),
    ("alpaca", {"instruction": "a"}),
    ("alpaca", {"instrucion": "a", "output": "b"}),
    (None, {"foo": 1}),
    (None, {}),
]


@pytest.mark.parametrize(("expected", "record"), DETECT, ids=[json.dumps(r)[:48] for _, r in DETECT])
def test_detect(expected: str | None, record: dict[str, Any]) -> None:
    assert F.detect(record) == expected


def test_detect_non_object() -> None:
    assert F.detect([1, 2]) is None  # type: ignore[arg-type]


# --------------------------------------------------------------------------- invalid records


@dataclass
class Expect:
    rule: str
    path: tuple[str | int, ...]
    text: str  # a substring of the message
    key: bool = False
    data: dict[str, Any] | None = None
    span: str | None = None  # what the path underlines in the compact json.dumps line


@dataclass
class Case:
    id: str
    record: Any
    expect: list[Expect]
    fmt: str | None = "detect"
    extra: dict[str, Any] = field(default_factory=dict)


def rep(path: list[Any], value: str) -> dict[str, Any]:
    return {"replace": {"path": path, "value": value}}


def ren(path: list[Any], old: str, new: str) -> dict[str, Any]:
    return {"rename": {"path": path, "from": old, "to": new}}


ROLES = "(system, developer, user, assistant, tool, function)"
E = Expect
CASES = [
    # chat: roles
    Case("role-bot", {"messages": [U, {"role": "bot", "content": "hi"}]}, [
        E("TL101", ("messages", 1, "role"), f"messages[1].role: 'bot' is not a role {ROLES}",
          data=rep(["messages", 1, "role"], "assistant"), span='"bot"')]),
    Case("role-human", {"messages": [{"role": "human", "content": "hi"}, A]}, [
        E("TL101", ("messages", 0, "role"), "did you mean 'user'?",
          data=rep(["messages", 0, "role"], "user"))]),
    Case("role-case", {"messages": [U, {"role": "Assistant", "content": "hi"}]}, [
        E("TL101", ("messages", 1, "role"), "'Assistant' is not a role",
          data=rep(["messages", 1, "role"], "assistant"))]),
    Case("role-nonsense", {"messages": [U, {"role": "zzz", "content": "hi"}]}, [
        E("TL101", ("messages", 1, "role"), "'zzz' is not a role", data=None)]),
    Case("role-missing", {"messages": [{"content": "hi"}, A]}, [
        E("TL101", ("messages", 0), "messages[0]: missing 'role'", span='{"content":"hi"}')]),
    # chat: content
    Case("content-missing", {"messages": [U, {"role": "assistant"}]}, [
        E("TL101", ("messages", 1), "messages[1]: missing 'content'",
          span='{"role":"assistant"}')]),
    Case("content-null-user", {"messages": [{"role": "user", "content": None}, A]}, [
        E("TL101", ("messages", 0, "content"), "only an assistant message with tool_calls",
          span="null")]),
    Case("content-number", {"messages": [U, {"role": "assistant", "content": 5}]}, [
        E("TL101", ("messages", 1, "content"),
          "expected a string or an array of content parts, got a number", span="5")]),
    Case("content-part-typo", {"messages": [
        {"role": "user", "content": [{"type": "txt", "text": "hi"}]}, A]}, [
        E("TL101", ("messages", 0, "content", 0, "type"), "'txt' is not a content part type",
          data=rep(["messages", 0, "content", 0, "type"], "text"), span='"txt"')]),
    Case("content-part-no-text", {"messages": [{"role": "user", "content": [{"type": "text"}]}, A]},
         [E("TL101", ("messages", 0, "content", 0), "missing 'text'")]),
    Case("image-ftp", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "ftp://x/cat.png"}}]}, A]}, [
        E("TL101", ("messages", 0, "content", 0, "image_url", "url"), "https://",
          span='"ftp://x/cat.png"')]),
    Case("image-detail", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/c.png", "detail": "ultra"}}]}, A]}, [
        E("TL101", ("messages", 0, "content", 0, "image_url", "detail"),
          "'ultra' is not an image detail (auto, low, high)")]),
    Case("image-in-system", {"messages": [{"role": "system", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/c.png"}}]}, U, A]}, [
        E("TL101", ("messages", 0, "content", 0, "type"), "images are only allowed in user messages",
          span='"image_url"')]),
    # chat: weights
    Case("weight-2", {"messages": [U, {**A, "weight": 2}]}, [
        E("TL101", ("messages", 1, "weight"), "must be 0 (do not train on this message) or 1",
          span="2")]),
    Case("weight-true", {"messages": [U, {**A, "weight": True}]}, [
        E("TL101", ("messages", 1, "weight"), "must be 0")]),
    Case("weight-on-user", {"messages": [{**U, "weight": 1}, A]}, [
        E("TL101", ("messages", 0, "weight"), "only allowed on assistant messages")]),
    # chat: tool calls
    Case("tool-no-call-id", {"messages": [U, CALL, {"role": "tool", "content": "42"}, A]}, [
        E("TL101", ("messages", 2), "messages[2]: missing 'tool_call_id'")]),
    Case("call-id-on-user", {"messages": [{**U, "tool_call_id": "c1"}, A]}, [
        E("TL101", ("messages", 0, "tool_call_id"), "only allowed on tool messages")]),
    Case("arguments-object", {"messages": [U, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}]}, [
        E("TL101", ("messages", 1, "tool_calls", 0, "function", "arguments"), "json.dumps",
          span='{"a":1}')]),
    Case("call-type", {"messages": [U, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "Function", "function": {"name": "f", "arguments": "{}"}}]}]}, [
        E("TL101", ("messages", 1, "tool_calls", 0, "type"), "did you mean 'function'?",
          data=rep(["messages", 1, "tool_calls", 0, "type"], "function"))]),
    Case("call-no-id", {"messages": [U, {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}, [
        E("TL101", ("messages", 1, "tool_calls", 0), "missing 'id'")]),
    Case("tool-calls-on-user", {"messages": [{**U, "tool_calls": CALL["tool_calls"]}, A]}, [
        E("TL101", ("messages", 0, "tool_calls"), "only allowed on assistant messages")]),
    Case("function-no-name", {"messages": [U, {"role": "function", "content": "x"}, A]}, [
        E("TL101", ("messages", 1), "missing 'name'")]),
    # chat: keys and structure
    Case("key-typo", {"messages": [{"role": "user", "contnet": "hi"}, A]}, [
        E("TL101", ("messages", 0, "contnet"), "messages[0]: unknown key 'contnet' (did you mean "
          "'content'?)", key=True, data=ren(["messages", 0, "contnet"], "contnet", "content"),
          span='"contnet"')]),
    Case("key-synonym", {"messages": [{"role": "user", "text": "hi"}, A]}, [
        E("TL101", ("messages", 0, "text"), "did you mean 'content'?", key=True,
          data=ren(["messages", 0, "text"], "text", "content"))]),
    Case("key-unknown", {"messages": [{**U, "lang": "en"}, A]}, [
        E("TL101", ("messages", 0, "lang"), "unknown key 'lang' (allowed: role, content", key=True,
          span='"lang"')]),
    Case("message-string", {"messages": ["hi", A]}, [
        E("TL101", ("messages", 0), "messages[0]: expected a message object, got a string")]),
    Case("messages-empty", {"messages": []}, [E("TL101", ("messages",), "must not be empty")]),
    Case("messages-object", {"messages": {"role": "user"}}, [
        E("TL101", ("messages",), "expected an array of messages, got an object")]),
    Case("top-typo", {"mesages": [U, {"role": "bot", "content": "x"}]}, [
        E("TL101", ("mesages",), "unknown key 'mesages' (did you mean 'messages'?)", key=True,
          data=ren(["mesages"], "mesages", "messages"), span='"mesages"'),
        E("TL101", ("mesages", 1, "role"), "mesages[1].role: 'bot' is not a role",
          data=rep(["mesages", 1, "role"], "assistant"), span='"bot"')]),
    Case("top-unknown", {"messages": [U, A], "id": 7}, [
        E("TL101", ("id",), "unknown key 'id' (allowed: messages, tools, parallel_tool_calls",
          key=True, span='"id"')]),
    Case("functions-deprecated", {"messages": [U, A], "functions": [{"name": "f"}]}, [
        E("TL104", ("functions",), "'functions' is deprecated", key=True, span='"functions"')]),
    Case("tool-name", {"messages": [U, A], "tools": [
        {"type": "function", "function": {"name": "get weather"}}]}, [
        E("TL101", ("tools", 0, "function", "name"), "letters, digits")]),
    Case("parallel-not-bool", {"messages": [U, A], "parallel_tool_calls": "yes"}, [
        E("TL101", ("parallel_tool_calls",), "expected a boolean, got a string")]),
    # dpo
    Case("dpo-old-names", {"input": {"messages": [U]},
                           "preferred_completion": [A], "non_preferred_completion": [A]}, [
        E("TL104", ("preferred_completion",), "old name of 'preferred_output'", key=True,
          data=ren(["preferred_completion"], "preferred_completion", "preferred_output"),
          span='"preferred_completion"'),
        E("TL104", ("non_preferred_completion",), "old name of 'non_preferred_output'", key=True,
          data=ren(["non_preferred_completion"], "non_preferred_completion",
                   "non_preferred_output"))]),
    Case("dpo-old-name-bad-role", {"input": {"messages": [U]},
                                   "preferred_completion": [U], "non_preferred_output": [A]}, [
        E("TL104", ("preferred_completion",), "old name", key=True,
          data=ren(["preferred_completion"], "preferred_completion", "preferred_output")),
        E("TL101", ("preferred_completion", 0, "role"),
          "preferred_completion[0].role: must be 'assistant'", span='"user"')]),
    Case("dpo-user-output", {"input": {"messages": [U]}, "preferred_output": [U],
                             "non_preferred_output": [A]}, [
        E("TL101", ("preferred_output", 0, "role"), "preferred_output[0].role: must be 'assistant'")]),
    Case("dpo-two-outputs", {"input": {"messages": [U]}, "preferred_output": [A, A],
                             "non_preferred_output": [A]}, [
        E("TL101", ("preferred_output",), "has 2 items; at most 1 allowed")]),
    Case("dpo-no-input", {"preferred_output": [A], "non_preferred_output": [A]}, [
        E("TL101", (), "missing 'input'")]),
    Case("dpo-input-typo", {"inputs": {"messages": [U]}, "preferred_output": [A],
                            "non_preferred_output": [A]}, [
        E("TL101", ("inputs",), "did you mean 'input'?", key=True,
          data=ren(["inputs"], "inputs", "input"))]),
    # rft (forced by config)
    Case("rft-ends-assistant", {"messages": [U, A], "answer": "x"}, [
        E("TL101", ("messages", 1, "role"), "must end with a user message", span='"assistant"')],
         fmt="rft"),
    Case("rft-bad-tools", {"messages": [U], "tools": "none"}, [
        E("TL101", ("tools",), "expected an array of tools, got a string")], fmt="rft"),
    # prompt-completion and TRL formats
    Case("pc-mixed", {"prompt": "a", "completion": [A]}, [
        E("TL101", (), "must both be strings (standard form) or both message lists")]),
    Case("pc-number", {"prompt": "a", "completion": 3}, [
        E("TL101", ("completion",), "expected a string or an array of messages, got a number")]),
    Case("pc-conv-no-role", {"prompt": [{"content": "a"}], "completion": [A]}, [
        E("TL101", ("prompt", 0), "prompt[0]: missing 'role'")]),
    Case("pc-conv-role-bot", {"prompt": [U], "completion": [{"role": "bot", "content": "b"}]}, [
        E("TL101", ("completion", 0, "role"), "'bot' is not a role",
          data=rep(["completion", 0, "role"], "assistant"))]),
    Case("text-null", {"text": None}, [E("TL101", ("text",), "expected a string, got null")]),
    Case("prompt-only-empty", {"prompt": []}, [E("TL101", ("prompt",), "must not be empty")]),
    Case("pref-mixed", {"chosen": "a", "rejected": [A]}, [
        E("TL101", (), "must all be strings (standard form) or all message lists")]),
    Case("pref-missing", {"prompt": "p", "chosen": "a"}, [E("TL101", (), "missing 'rejected'")]),
    Case("pref-typo", {"prompt": "p", "choosen": "a", "rejected": "b"}, [
        E("TL101", ("choosen",), "did you mean 'chosen'?", key=True,
          data=ren(["choosen"], "choosen", "chosen"))]),
    Case("unpaired-label", {"prompt": "p", "completion": "c", "label": "yes"}, [
        E("TL101", ("label",), "label: must be true (a desirable completion) or false")]),
    Case("stepwise-lengths", {"prompt": "p", "completions": ["a", "b", "c"], "labels": [True, False]},
         [E("TL101", ("labels",), "2 labels for 3 completions")]),
    Case("stepwise-label-type", {"prompt": "p", "completions": ["a"], "labels": ["yes"]}, [
        E("TL101", ("labels", 0), "must be a boolean")]),
    # sharegpt
    Case("sharegpt-from-bot", {"conversations": [{"from": "human", "value": "q"},
                                                 {"from": "bot", "value": "a"}]}, [
        E("TL101", ("conversations", 1, "from"), "'bot' is not a ShareGPT sender (human, gpt, "
          "system, function_call, observation, tool)",
          data=rep(["conversations", 1, "from"], "gpt"), span='"bot"')]),
    Case("sharegpt-from-user", {"conversations": [{"from": "user", "value": "q"},
                                                  {"from": "gpt", "value": "a"}]}, [
        E("TL101", ("conversations", 0, "from"), "did you mean 'human'?",
          data=rep(["conversations", 0, "from"], "human"))]),
    Case("sharegpt-no-value", {"conversations": [{"from": "human"}]}, [
        E("TL101", ("conversations", 0), "missing 'value'")]),
    Case("sharegpt-openai-keys", {"conversations": [{"role": "user", "content": "q"}]}, [
        E("TL101", ("conversations", 0, "role"), "unknown key 'role' (did you mean 'from'?)",
          key=True, data=ren(["conversations", 0, "role"], "role", "from")),
        E("TL101", ("conversations", 0, "content"), "unknown key 'content' (did you mean 'value'?)",
          key=True, data=ren(["conversations", 0, "content"], "content", "value"))]),
    Case("sharegpt-typo", {"conversation": [{"from": "human", "value": "q"}]}, [
        E("TL101", ("conversation",), "did you mean 'conversations'?", key=True,
          data=ren(["conversation"], "conversation", "conversations"))]),
    Case("sharegpt-optional-typo", {"conversations": [{"from": "human", "value": "q"}],
                                    "sytem": "s"}, [
        E("TL101", ("sytem",), "did you mean 'system'?", key=True,
          data=ren(["sytem"], "sytem", "system"))]),
    # alpaca
    Case("alpaca-no-output", {"instruction": "i", "input": ""}, [
        E("TL101", (), "missing 'output'")]),
    Case("alpaca-history", {"instruction": "i", "output": "o", "history": [["q"]]}, [
        E("TL101", ("history", 0), "history[0]: needs at least 2 items")]),
    Case("alpaca-type", {"instruction": 1, "output": "o"}, [
        E("TL101", ("instruction",), "expected a string, got a number")]),
    # unknown
    Case("unknown-format", {"foo": 1, "bar": 2}, [
        E("TL102", (), "cannot tell the record's format from its keys ('foo', 'bar'); expected "
          "one of: messages (chat)")]),
    Case("unknown-forced", {"messages": [U, A]}, [E("TL102", (), "unknown format 'bogus'")],
         fmt="bogus"),
]


def hits_for(case: Case) -> list[Hit]:
    fmt = F.detect(case.record) if case.fmt == "detect" else case.fmt
    return list(F.validate(case.record, fmt))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_records(case: Case) -> None:
    hits = hits_for(case)
    assert {(h.rule, h.path) for h in hits} == {(e.rule, e.path) for e in case.expect}, hits
    line = json.dumps(case.record, separators=(",", ":"))
    for e in case.expect:
        hit = next(h for h in hits if (h.rule, h.path) == (e.rule, e.path))
        assert e.text in hit.message
        assert hit.key == e.key
        assert hit.data == e.data
        if e.span is not None:
            start, end = locate(line, hit.path or (), hit.key)
            assert line[start:end] == e.span


@pytest.mark.parametrize("case", [c for c in CASES if any(e.span for e in c.expect)],
                         ids=[c.id for c in CASES if any(e.span for e in c.expect)])
def test_spans_survive_pretty_spacing(case: Case) -> None:
    line = json.dumps(case.record, ensure_ascii=False)  # ", " and ": " separators
    for e in case.expect:
        if e.span is None:
            continue
        hit = next(h for h in hits_for(case) if (h.rule, h.path) == (e.rule, e.path))
        start, end = locate(line, hit.path or (), hit.key)
        assert json.loads(line[start:end]) == json.loads(e.span)


def test_tool_call_message_without_content_is_valid() -> None:
    for call in (CALL, {k: v for k, v in CALL.items() if k != "content"}):
        assert list(F.validate({"messages": [U, call, TOOL, A]}, "chat")) == []


def test_hits_are_capped() -> None:
    record = {"messages": [{"role": "bot", "content": str(i)} for i in range(100)]}
    hits = list(F.validate(record, "chat"))
    assert len(hits) == F.MAX_HITS + 1
    assert hits[-1].message.startswith("… and ")


@pytest.mark.parametrize(("value", "choices", "expected"), [
    ("bot", ["system", "user", "assistant"], "assistant"),
    ("AI", ["system", "user", "assistant"], "assistant"),
    ("model", ["user", "assistant"], "assistant"),
    ("gpt", ["user", "assistant"], "assistant"),
    ("human", ["user", "assistant"], "user"),
    ("assistant", ["human", "gpt", "system"], "gpt"),
    ("usr", ["user", "assistant"], "user"),
    ("asistant", ["user", "assistant"], "assistant"),
    ("zzz", ["user", "assistant"], None),
    (3, ["user"], None),
])
def test_suggest(value: Any, choices: list[str], expected: str | None) -> None:
    assert F.suggest(value, choices) == expected


# --------------------------------------------------------------------------- normalised view


def test_chat_view() -> None:
    record = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "a"},
                                     {"type": "image_url", "image_url": {"url": "https://x"}},
                                     {"type": "text", "text": "b"}]},
        CALL, TOOL, {**A, "weight": 0}], "tools": [{"type": "function", "function": {"name": "f"}}]}
    ex = F.to_example(record, "chat")
    assert ex is not None and ex.kind == SFT
    assert [m.role for m in ex.messages] == ["user", "assistant", "tool", "assistant"]
    assert [m.text for m in ex.messages] == ["a\nb", None, "42", "Hello!"]
    assert ex.messages[1].tool_calls == CALL["tool_calls"]
    assert ex.messages[2].tool_call_id == "c1"
    assert ex.messages[3].weight == 0
    assert ex.messages[0].content_path == ("messages", 0, "content")
    assert ex.messages[0].role_path == ("messages", 0, "role")
    assert ex.tools == record["tools"] and ex.tools_path == ("tools",)


def test_rft_view_kind() -> None:
    ex = F.to_example({"messages": [U], "answer": 1}, "rft")
    assert ex is not None and ex.kind == RFT


def test_string_fields_are_their_own_content() -> None:
    ex = F.to_example({"prompt": "The sky is", "completion": " blue."}, "prompt-completion")
    assert ex is not None
    user, answer = ex.messages
    assert (user.role, user.text, user.path, user.content_path) == (
        "user", "The sky is", ("prompt",), ("prompt",))
    assert (answer.role, answer.content_path, answer.role_path) == (
        "assistant", ("completion",), ("completion",))
    line = json.dumps({"prompt": "The sky is", "completion": " blue."})
    start, end = locate(line, answer.content_path)
    assert line[start:end] == '" blue."'


def test_dpo_view() -> None:
    record = {"input": {"messages": [U], "tools": []}, "preferred_output": [A],
              "non_preferred_output": [{"role": "assistant", "content": "Nope"}]}
    ex = F.to_example(record, "dpo")
    assert ex is not None and ex.kind == PREFERENCE
    assert [m.path for m in ex.messages] == [("input", "messages", 0), ("preferred_output", 0)]
    assert [(m.text, m.path) for m in ex.rejected] == [("Nope", ("non_preferred_output", 0))]
    assert ex.tools == [] and ex.tools_path == ("input", "tools")


def test_dpo_view_with_old_names() -> None:
    record = {"input": {"messages": [U]}, "preferred_completion": [A],
              "non_preferred_completion": [A]}
    ex = F.to_example(record, "dpo")
    assert ex is not None
    assert ex.messages[-1].path == ("preferred_completion", 0)
    assert ex.rejected[0].path == ("non_preferred_completion", 0)


def test_preference_implicit_prompt_keeps_only_the_rejected_answer() -> None:
    q = {"role": "user", "content": "Sky?"}
    record = {"chosen": [q, {"role": "assistant", "content": "Blue"}],
              "rejected": [q, {"role": "assistant", "content": "Green"}]}
    ex = F.to_example(record, "preference")
    assert ex is not None
    assert [m.text for m in ex.messages] == ["Sky?", "Blue"]
    assert [(m.text, m.path) for m in ex.rejected] == [("Green", ("rejected", 1))]


@pytest.mark.parametrize(("fmt", "record", "roles", "kind"), [
    ("text", {"text": "doc"}, [None], TEXT),
    ("prompt-only", {"prompt": "p"}, ["user"], PROMPT_ONLY),
    ("preference", {"prompt": "p", "chosen": "c", "rejected": "r"}, ["user", "assistant"],
     PREFERENCE),
    ("unpaired-preference", {"prompt": "p", "completion": "c", "label": False},
     ["user", "assistant"], PREFERENCE),
    ("stepwise", {"prompt": "p", "completions": ["a", "b"], "labels": [True, True]},
     ["user", "assistant", "assistant"], SFT),
    ("alpaca", {"instruction": "i", "input": "x", "output": "o", "system": "s",
                "history": [["q", "a"]]}, ["system", "user", "assistant", "user", "assistant"],
     SFT),
])
def test_views_of_string_formats(fmt: str, record: dict[str, Any], roles: list[str | None],
                                 kind: str) -> None:
    ex = F.to_example(record, fmt)
    assert ex is not None and ex.kind == kind
    assert [m.role for m in ex.messages] == roles
    for m in [*ex.messages, *ex.rejected]:
        assert m.content_key == "" and resolve(record, m.content_path) == m.raw


def test_alpaca_joins_instruction_and_input() -> None:
    ex = F.to_example({"instruction": "Translate.", "input": "cat", "output": "chat"}, "alpaca")
    assert ex is not None
    assert [(m.text, m.path) for m in ex.messages] == [
        ("Translate.\ncat", ("instruction",)), ("chat", ("output",))]


def test_sharegpt_view() -> None:
    record = {"system": "S", "tools": '[{"name": "f"}]', "conversations": [
        {"from": "human", "value": "q"},
        {"from": "function_call", "value": '{"name": "f", "arguments": {"x": 1}}'},
        {"from": "observation", "value": "r"}, {"from": "gpt", "value": "a"}]}
    ex = F.to_example(record, "sharegpt")
    assert ex is not None and ex.kind == SFT
    assert [m.role for m in ex.messages] == ["system", "user", "assistant", "tool", "assistant"]
    call = ex.messages[2]
    assert call.tool_calls == [{"type": "function", "function": {"name": "f",
                                                                 "arguments": '{"x": 1}'}}]
    assert call.content_path == ("conversations", 1, "value")
    assert call.role_path == ("conversations", 1, "from")
    assert ex.messages[0].content_path == ("system",)
    assert ex.tools == [{"name": "f"}]


@pytest.mark.parametrize(("fmt", "record"), [
    ("chat", {"messages": "nope"}),
    ("dpo", {"input": []}),
    ("sharegpt", {"conversations": None}),
    ("nonsense", {"messages": []}),
])
def test_too_broken_to_view(fmt: str, record: dict[str, Any]) -> None:
    assert F.to_example(record, fmt) is None


def test_null_content_is_none_and_broken_messages_are_skipped() -> None:
    ex = F.to_example({"messages": [{"role": "assistant", "content": None}, "junk", 3]}, "chat")
    assert ex is not None
    assert [(m.role, m.text) for m in ex.messages] == [("assistant", None)]


# --------------------------------------------------------------------------- robustness

KEYS = st.sampled_from(["messages", "role", "content", "tool_calls", "weight", "prompt",
                        "completion", "chosen", "rejected", "conversations", "from", "value",
                        "instruction", "output", "history", "text", "type", "image_url", "url",
                        "input", "preferred_output", "labels", "completions", "label", "tools",
                        "function", "arguments", "id", "tool_call_id", "name"])
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=12) | st.sampled_from(["user", "assistant", "tool", "text",
                                                      "function", "human", "gpt", "bot"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=5),
                    max_leaves=40)
FORMATS = st.sampled_from([*F.FORMAT_IDS, None])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS | st.text(max_size=8), JSON, max_size=5) | JSON, FORMATS)
def test_never_raises(record: Any, fmt: str | None) -> None:
    detected = F.detect(record)
    for f in (fmt, detected):
        hits = list(F.validate(record, f))
        assert all(isinstance(h, Hit) and h.rule in ("TL101", "TL102", "TL104") for h in hits)
        if f is not None:
            F.to_example(record, f)


def deep(n: int) -> Any:
    node: Any = "x"
    for _ in range(n):
        node = [node] if n % 2 else {"content": node}
    return node


@pytest.mark.parametrize("record", [
    {"messages": [{"role": "user", "content": deep(500)}]},
    {"messages": [{"role": "user", "content": "x" * 1_000_000}, A]},
    {"x" * 10_000: 1},
    {"messages": [U] * 5_000 + [{"role": "bot"}] * 5_000},
])
def test_huge_and_deep_records(record: dict[str, Any]) -> None:
    fmt = F.detect(record)
    list(F.validate(record, fmt))
    if fmt:
        F.to_example(record, fmt)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    """A fixture record with one subtree replaced by arbitrary JSON (or a key dropped)."""
    fmt, _, record = draw(st.sampled_from(FIXTURE_RECORDS))
    record = copy.deepcopy(record)
    parent, key = None, None
    node: Any = record
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
        parent, node = node, node[key]
    if parent is None:
        return fmt, record
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[key]
    else:
        parent[key] = draw(JSON)
    return fmt, record


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fast_gates_agree_with_jsonschema(case: tuple[str, Any]) -> None:
    fmt, record = case
    valid = F._validators(fmt).full.is_valid(record)
    assert F._passes(fmt, record) == valid
    if F.detect(record) == fmt:
        assert (list(F.validate(record, fmt)) == []) == (valid and not F._format_checks(record, fmt))
    for gate in F._validators(fmt).gates[:-1]:  # fast-path subsets accept only valid records
        try:
            gate(record)
        except Exception:
            continue
        assert valid
