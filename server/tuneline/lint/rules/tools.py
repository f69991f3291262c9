"""Tool calling: ids that pair calls with results, JSON arguments, declared tools and their schemas."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneline.lint.example import Example, Message, Path
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.rules import line_check, rule
from tuneline.lint.rules.content import schema_error, value_span
from tuneline.lint.rules.structure import has_calls

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext

UNKNOWN_TOOL_CALL_ID = rule(
    "TL210", "unknown-tool-call-id", Severity.ERROR,
    "A tool message's tool_call_id matches no tool call id of an earlier assistant message.",
    "The API pairs each tool result with its call by id; an orphan result is rejected or "
    "teaches the model answers to calls it never made.",
    "Use the id of the assistant tool call this result answers.",
)
ARGUMENTS_NOT_JSON = rule(
    "TL211", "tool-arguments-not-json", Severity.ERROR,
    "A tool call's function.arguments is not a string holding a JSON object.",
    "The API expects arguments as a JSON-encoded string; the model learns to emit whatever "
    "the examples contain, broken JSON included.",
    "Encode the arguments object with json.dumps (and fix the JSON syntax at the column given).",
)
ARGUMENTS_SCHEMA = rule(
    "TL212", "tool-arguments-schema", Severity.ERROR,
    "A tool call's arguments do not validate against the `parameters` JSON Schema of the tool "
    "declared in the record's tools.",
    "Training on calls that violate the tool's contract teaches the model invalid calls.",
    "Fix the argument at the reported path, or the tool's parameters schema.",
)
UNKNOWN_TOOL = rule(
    "TL213", "unknown-tool", Severity.WARNING,
    "A tool call names a function that the record's tools do not declare (checked only when "
    "tools are declared).",
    "The model learns to call a tool that will not exist at inference time.",
    "Fix the function name or add the tool's definition to tools.",
)

_MAX_VALIDATORS = 256
_validators: dict[str, Any] = {}


@dataclass(slots=True)
class Call:
    """One tool/function call inside an assistant message."""

    name: Any
    arguments: Any
    path: Path  # of the call's function object (holding name and arguments)
    has_arguments: bool


def calls_of(msg: Message) -> Iterator[Call]:
    """The message's tool calls (and its deprecated function_call)."""
    for j, call in enumerate(msg.tool_calls or ()):
        if isinstance(call, dict) and isinstance(call.get("function"), dict):
            fn = call["function"]
            path = (*msg.path, "tool_calls", j, "function")
            yield Call(fn.get("name"), fn.get("arguments"), path, "arguments" in fn)
    legacy = msg.raw.get("function_call") if isinstance(msg.raw, dict) else None
    if isinstance(legacy, dict):
        path = (*msg.path, "function_call")
        yield Call(legacy.get("name"), legacy.get("arguments"), path, "arguments" in legacy)


def _declared(ex: Example) -> dict[str, Any] | None:
    """Declared function name -> its definition; None when the record declares no tools."""
    tools = ex.tools  # `tools`, or the deprecated `functions` list
    if not isinstance(tools, list) or not tools:
        return None
    out: dict[str, Any] = {}
    for tool in tools:
        fn = tool.get("function", tool) if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out[fn["name"]] = fn
    return out or None


def _validator(schema: Any) -> Any:
    """A cached jsonschema validator for a parameters schema (None if the schema is invalid)."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _validators:
        import jsonschema

        if len(_validators) >= _MAX_VALIDATORS:
            _validators.clear()
        try:
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            cls.check_schema(schema)
            _validators[key] = cls(schema)
        except Exception:  # an invalid schema is the tools definition's problem, not the call's
            _validators[key] = None
    return _validators[key]


def _arguments(call: Call) -> tuple[Any, Hit | None]:
    """TL211: the parsed arguments (None when unusable) and a hit when they are not JSON."""
    path = (*call.path, "arguments")
    args = call.arguments
    if not isinstance(args, str):
        kind = {dict: "an object", list: "an array"}.get(type(args), type(args).__name__)
        return None, Hit("TL211", f"arguments must be a JSON-encoded string, not {kind}; "
                         "encode it with json.dumps", path)
    try:
        value = json.loads(args)
    except json.JSONDecodeError as exc:
        at = min(exc.pos, max(0, len(args) - 1))  # past the end: point at the last character
        span = {"span_in_value": [at, min(len(args), at + 1)]}
        return None, Hit("TL211", f"arguments are not valid JSON: {exc.msg} (column {exc.colno})",
                         path, data=span)
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else type(value).__name__
        return None, Hit("TL211", f"arguments must encode a JSON object, not {kind}", path)
    return value, None


def _declaration(call: Call, declared: dict[str, Any]) -> tuple[Any, Hit | None]:
    """TL213: the called function's definition, or a hit when it is not declared."""
    if call.name in declared:
        return declared[call.name], None
    names = sorted(declared)
    near = difflib.get_close_matches(str(call.name), names, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else f" (declared: {', '.join(names[:8])})"
    return None, Hit("TL213", f"call to '{call.name}', which is not declared in tools{hint}",
                     (*call.path, "name"))


def _schema(call: Call, args: dict[str, Any], definition: Any) -> Hit | None:
    """TL212: the parsed arguments against the declared parameters schema."""
    params = definition.get("parameters") if isinstance(definition, dict) else None
    validator = _validator(params) if isinstance(params, dict) else None
    try:
        error = schema_error(validator, args) if validator is not None else None
    except Exception:  # e.g. an unresolvable $ref: the declaration is broken, not the call
        return None
    if error is None:
        return None
    more = f" (and {error[2] - 1} more)" if error[2] > 1 else ""
    return Hit("TL212", f"arguments of '{call.name}' do not match its parameters schema: "
               f"{error[0]}{more}", (*call.path, "arguments"),
               data=value_span(call.arguments, error[1]))


def _check_call(call: Call, declared: dict[str, Any] | None) -> list[Hit]:
    hits: list[Hit] = []
    args, hit = _arguments(call) if call.has_arguments else (None, None)
    if hit:
        hits.append(hit)
    if declared is None or not isinstance(call.name, str):
        return hits
    definition, hit = _declaration(call, declared)
    if hit:
        hits.append(hit)
    elif args is not None:
        hit = _schema(call, args, definition)
        if hit:
            hits.append(hit)
    return hits


def _orphan(msg: Message, known: list[str]) -> Hit:
    seen = f"earlier ids: {', '.join(repr(k) for k in known[-5:])}" if known else (
        "no earlier assistant message calls a tool")
    return Hit("TL210", f"tool_call_id {msg.tool_call_id!r} matches no earlier assistant tool "
               f"call ({seen})", (*msg.path, "tool_call_id"))


def _orphans(ex: Example) -> list[Hit]:
    """TL210: tool results whose id answers no earlier call."""
    hits: list[Hit] = []
    known: list[str] = []
    for msg in ex.messages:
        if msg.tool_calls:
            known += [c["id"] for c in msg.tool_calls
                      if isinstance(c, dict) and isinstance(c.get("id"), str)]
        elif isinstance(msg.tool_call_id, str) and msg.tool_call_id not in known \
                and msg.role == "tool":
            hits.append(_orphan(msg, known))
    return hits


@line_check(UNKNOWN_TOOL_CALL_ID, ARGUMENTS_NOT_JSON, ARGUMENTS_SCHEMA, UNKNOWN_TOOL)
def check_tools(ex: Example, ctx: LintContext) -> list[Hit]:
    """Tool call ids, argument JSON, declared functions and their parameter schemas."""
    calls: list[Call] = []
    results = False
    for msg in ex.messages:  # not the rejected answer: its bad calls may be the point
        if msg.role == "assistant":
            if has_calls(msg):
                calls.extend(calls_of(msg))
        elif msg.role == "tool":
            results = True
    hits = _orphans(ex) if results else []
    if calls:
        declared = _declared(ex)
        for call in calls:
            hits += _check_call(call, declared)
    return hits
