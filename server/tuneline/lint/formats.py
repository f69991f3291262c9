"""Record formats: detection, JSON-Schema validation (schemas/), and the normalised view.

Each format is described by `schemas/<id>.schema.json` (draft 2020-12; shared message
definitions live in `schemas/message.schema.json`). Validation has three stages so a valid
line costs a few microseconds:

1. a fastjsonschema-compiled *fast path* (`$defs/fastPath` of the format's schema, a strict
   subset: for chat, the common message shapes), when the schema has one;
2. the whole schema compiled by fastjsonschema;
3. only when both reject the record, jsonschema's `Draft202012Validator.iter_errors`, whose
   errors are turned into one precise message per location (`_Explainer`).

So the schemas use only keywords that draft 7 (fastjsonschema) and 2020-12 read alike, put
the common case first in every `anyOf` and avoid `if`/`not` on the common path (fastjsonschema
implements them with exceptions), and use one-value `enum`s instead of `const` (fastjsonschema
2.22 cannot compile `const` without detailed exceptions). `errorMessage` is a Tuneline
annotation: the message shown when the keywords beside it fail; `title` names the thing.

Detection is by key signature and tolerates misspelt keys (`mesages` → chat). A `messages`
record is chat; it is RFT only when `format = "rft"` is configured, or when (heuristic) its
last message is from the user AND it has top-level keys other than messages / tools /
parallel_tool_calls / functions (and not misspellings of them): RFT lines carry grader data
in extra keys and end on the user turn the model answers, while a chat line with extra keys
that ends on an assistant turn is a chat line with a mistake.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tuneline.lint.example import PREFERENCE, PROMPT_ONLY, RFT, SFT, TEXT, Example, Message
from tuneline.lint.findings import Hit
from tuneline.lint.rules.format import DEPRECATED_FIELD, SCHEMA_VIOLATION, UNKNOWN_FORMAT

JsonPath = tuple[str | int, ...]

TL101, TL102, TL104 = SCHEMA_VIOLATION.id, UNKNOWN_FORMAT.id, DEPRECATED_FIELD.id

# Format ids in detection tie-break order, with the kind of training signal each carries.
KINDS: dict[str, str] = {
    "chat": SFT, "dpo": PREFERENCE, "rft": RFT, "prompt-completion": SFT, "text": TEXT,
    "prompt-only": PROMPT_ONLY, "preference": PREFERENCE, "unpaired-preference": PREFERENCE,
    "stepwise": SFT, "sharegpt": SFT, "alpaca": SFT,
}
FORMAT_IDS = tuple(KINDS)
SCHEMA_BASE = "https://tuneline.dev/schemas/"
SHARED_SCHEMAS = ("message",)

# Old key -> current key, per format; using the old one is TL104 with a rename fix.
DEPRECATED_KEYS: dict[str, dict[str, str]] = {
    "dpo": {"preferred_completion": "preferred_output",
            "non_preferred_completion": "non_preferred_output"},
}
CHAT_RESERVED = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})

# Words people use for a role or a key, grouped by meaning (for "did you mean" fixes).
_VALUE_SYNONYMS = (
    frozenset({"assistant", "gpt", "bot", "ai", "model", "chatbot", "chatgpt", "assistent",
               "response", "agent"}),
    frozenset({"user", "human", "person", "customer", "usr", "prompter", "question"}),
    frozenset({"system", "sys", "system_prompt", "instructions"}),
    frozenset({"tool", "observation", "tool_response", "function_response"}),
    frozenset({"function_call", "tool_call", "tool_calls"}),
)
_KEY_SYNONYMS = (
    frozenset({"content", "text", "message", "value", "body"}),
    frozenset({"role", "from", "speaker", "author", "sender"}),
)
MAX_HITS = 20
MAX_ERRORS = 200


# --------------------------------------------------------------------------- schemas


def schema_dir() -> Path:
    """Folder holding the schemas: $TUNELINE_SCHEMAS, else the repository's `schemas/`."""
    env = os.environ.get("TUNELINE_SCHEMAS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "schemas", here.parents[1] / "schemas"):
        if (candidate / "chat.schema.json").is_file():
            return candidate
    return here.parents[3] / "schemas"


@cache
def _documents() -> dict[str, dict[str, Any]]:
    """Every format schema and the shared definitions, by `$id`."""
    docs = {}
    for name in (*FORMAT_IDS, *SHARED_SCHEMAS):
        doc = json.loads((schema_dir() / f"{name}.schema.json").read_text("utf-8"))
        docs[doc["$id"]] = doc
    return docs


def schema(fmt: str) -> dict[str, Any]:
    """The JSON Schema of a format id."""
    return _documents()[f"{SCHEMA_BASE}{fmt}.schema.json"]


@dataclass(frozen=True, slots=True)
class _Keys:
    """A format's top-level key signature, read from its schema."""

    known: frozenset[str]
    required: tuple[str, ...]
    strict: bool  # unknown top-level keys are errors
    deprecated: dict[str, str]


@cache
def _keys(fmt: str) -> _Keys:
    doc = schema(fmt)
    return _Keys(frozenset(doc.get("properties", {})), tuple(doc.get("required", ())),
                 doc.get("additionalProperties", True) is False, DEPRECATED_KEYS.get(fmt, {}))


@dataclass(frozen=True, slots=True)
class _Validators:
    gates: tuple[Callable[[Any], Any], ...]
    full: Any  # jsonschema.Draft202012Validator


def _resolve(ref: str, doc: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The schema a `$ref` in `doc` points at, and the document holding it."""
    uri, _, fragment = ref.partition("#")
    target = _documents()[urljoin(doc["$id"], uri)] if uri else doc
    node: Any = target
    for part in fragment.split("/")[1:]:
        node = node[part]
    return node, target


def _inline(node: Any, doc: dict[str, Any], depth: int = 0) -> Any:
    """`node` with every `$ref` replaced by its target (the schemas are not recursive)."""
    if depth > 64:
        raise RecursionError("recursive $ref")
    if isinstance(node, list):
        return [_inline(v, doc, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, target_doc = _resolve(node["$ref"], doc)
        return _inline(target, target_doc, depth + 1)
    return {k: v if k in ("enum", "const") else _inline(v, doc, depth + 1)
            for k, v in node.items() if k not in ("$defs", "$id", "$schema")}


_RAISE = re.compile(r"^(\s*)raise JsonSchemaValueException\(.*\)$", re.M)


def _compile_gate(definition: Any, doc: dict[str, Any]) -> Callable[[Any], Any]:
    """A fastjsonschema validator for `definition`, built for speed on valid records.

    `$ref`s are inlined (no call per message) and the generated code's error messages are
    dropped: a rejection is
    only control flow here (jsonschema explains it), and fastjsonschema formats a message
    for every failed anyOf branch, which costs more than the checks themselves.
    """
    import fastjsonschema

    code = fastjsonschema.compile_to_code(_inline(definition, doc), use_default=False,
                                          detailed_exceptions=False)
    namespace: dict[str, Any] = {}
    exec(compile(_RAISE.sub(r'\1raise JsonSchemaValueException("")', code),
                 "<tuneline-gate>", "exec"), namespace)
    return namespace["validate"]


@cache
def _validators(fmt: str) -> _Validators:
    """The format's gates (fast path first) and its jsonschema validator ($refs inlined,
    which halves jsonschema's time on invalid records)."""
    import jsonschema

    doc = schema(fmt)
    gates = [_compile_gate(doc["$defs"]["fastPath"], doc)] if "fastPath" in doc.get(
        "$defs", {}) else []
    gates.append(_compile_gate(doc, doc))
    return _Validators(tuple(gates), jsonschema.Draft202012Validator(_inline(doc, doc)))


def _passes(fmt: str, record: Any) -> bool:
    """Whether a compiled gate accepts the record (then it is valid under the schema)."""
    for gate in _validators(fmt).gates:
        try:
            gate(record)
            return True
        except Exception:  # JsonSchemaValueException, or anything odd: take the slow path
            continue
    return False


# --------------------------------------------------------------------------- detection


@lru_cache(maxsize=8192)
def _close(word: str, candidates: frozenset[str], cutoff: float = 0.8) -> str | None:
    """The candidate `word` most likely misspells (case, synonyms, edit similarity)."""
    if not isinstance(word, str) or len(word) > 64:
        return None
    pool = sorted(c for c in candidates if c != word)
    low = word.lower()
    for c in pool:
        if c.lower() == low:
            return c
    for group in _KEY_SYNONYMS:
        same = [c for c in pool if c in group]
        if low in group and len(same) == 1:
            return same[0]
    found = difflib.get_close_matches(low, pool, n=1, cutoff=cutoff)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class _Signature:
    fmt: str | None
    maybe_rft: bool  # chat keys plus extra keys: RFT if the last message is from the user


def _score(fmt: str, keys: frozenset[str]) -> tuple[int, int, int]:
    """(keys matched exactly or misspelt, -required keys missing, keys matched exactly)."""
    sig = _keys(fmt)
    exact = {k for k in keys if k in sig.known or k in sig.deprecated}
    covered = {sig.deprecated.get(k, k) for k in exact}
    fuzzy = 0
    for k in keys - exact:
        target = _close(k, sig.known - covered - keys)
        if target is not None:
            covered.add(target)
            fuzzy += 1
    missing = sum(1 for r in sig.required if r not in covered)
    return len(exact) + fuzzy, -missing, len(exact)


_SIGNATURES: dict[frozenset[str], _Signature] = {}


def _signature(keys: frozenset[str]) -> _Signature:
    found = _SIGNATURES.get(keys)
    if found is None:
        if len(_SIGNATURES) > 4096:
            _SIGNATURES.clear()
        best, best_score = None, (0, 0, 0)
        for fmt in FORMAT_IDS:
            if fmt == "rft":
                continue
            score = _score(fmt, keys)
            if score[0] > 0 and (best is None or score > best_score):
                best, best_score = fmt, score
        extra = [k for k in keys - CHAT_RESERVED if _close(k, CHAT_RESERVED - keys) is None]
        found = _Signature(best, best == "chat" and "messages" in keys and bool(extra))
        _SIGNATURES[keys] = found
    return found


def _last_role(messages: Any) -> Any:
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return messages[-1].get("role")
    return None


def detect(record: dict[str, Any]) -> str | None:
    """The record's format id from its keys (typo-tolerant), or None when nothing fits."""
    if not isinstance(record, dict):
        return None
    sig = _signature(frozenset(record))
    if sig.maybe_rft and _last_role(record.get("messages")) == "user":
        return "rft"
    return sig.fmt


def _expected_keys() -> str:
    parts = []
    for fmt in FORMAT_IDS:
        if fmt != "rft":
            parts.append(f"{' + '.join(_keys(fmt).required)} ({fmt})")
    return "; ".join(parts)


def _unknown_format(record: Any) -> Hit:
    if not isinstance(record, dict):
        return Hit(TL102, "the record is not a JSON object", ())
    keys = ", ".join(_show_key(k) for k in list(record)[:8]) + (", …" if len(record) > 8 else "")
    found = f"its keys ({keys})" if record else "an empty object"
    return Hit(TL102, f"cannot tell the record's format from {found}; expected one of: "
               f"{_expected_keys()}", ())


# --------------------------------------------------------------------------- validation


def validate(record: dict[str, Any], fmt: str | None) -> Iterable[Hit]:
    """Problems with `record` as format `fmt` (TL101/TL102/TL104); empty when valid."""
    if fmt is None:
        return (_unknown_format(record),)
    if fmt not in KINDS:
        return (Hit(TL102, f"unknown format '{fmt}' (expected one of {', '.join(FORMAT_IDS)})",
                    ()),)
    try:
        if _passes(fmt, record):
            return _format_checks(record, fmt)
        return _slow(record, fmt)
    except Exception as exc:  # never let one odd line stop the linter
        return (Hit("TL000", f"format validation failed ({fmt}): {exc!r}", ()),)


def _slow(record: Any, fmt: str) -> list[Hit]:
    """Detailed problems: renames of misspelt/deprecated top-level keys, then the schema."""
    hits: list[Hit] = []
    back: dict[str, str] = {}
    target = record
    if isinstance(record, dict):
        renames = _top_level_renames(record, fmt)
        if renames:
            back = {new: old for old, new, _ in renames}
            target = {next((new for old, new, _ in renames if old == k), k): v
                      for k, v in record.items()}
            hits.extend(hit for _, _, hit in renames)
    errors = []
    for err in _validators(fmt).full.iter_errors(target):
        errors.append(err)
        if len(errors) >= MAX_ERRORS:
            break
    found = _Explainer().explain(errors)
    if errors and not found:  # every error was collapsed away: still say something
        from jsonschema.exceptions import best_match

        err = best_match(errors)
        found = [Hit(TL101, _prefix(tuple(err.absolute_path), _clip(err.message)),
                     tuple(err.absolute_path))]
    if isinstance(target, dict):
        found.extend(_format_checks(target, fmt))
    hits.extend(_rename_path(h, back) for h in found)
    return _dedupe(hits)


def _top_level_renames(record: dict[str, Any], fmt: str) -> list[tuple[str, str, Hit]]:
    """(old, new, hit) for deprecated names (TL104) and misspellings (TL101) of known keys."""
    sig = _keys(fmt)
    out = []
    taken = set(record)
    for key in record:
        if key in sig.known:
            continue
        new = sig.deprecated.get(key)
        if new is not None and new not in taken:
            out.append((key, new, Hit(TL104, f"'{key}' is the old name of '{new}'; rename it",
                                      (key,), key=True, data=_rename_data((key,), new))))
            taken.add(new)
            continue
        new = _close(key, sig.known - taken, 0.75) if isinstance(key, str) else None
        if new is not None:
            out.append((key, new, Hit(TL101, f"unknown key {_show_key(key)} (did you mean "
                                      f"'{new}'?)", (key,), key=True,
                                      data=_rename_data((key,), new))))
            taken.add(new)
    return out


def _rename_data(path: JsonPath, new: str) -> dict[str, Any]:
    return {"rename": {"path": list(path), "from": path[-1], "to": new}}


def _rename_path(hit: Hit, back: dict[str, str]) -> Hit:
    """A hit found on the renamed copy, pointed back at the line's own keys."""
    if not back or not hit.path or hit.path[0] not in back:
        return hit
    new = hit.path[0]
    old = back[new]  # type: ignore[index]
    data = {k: _repath(v, old) for k, v in hit.data.items()} if hit.data else hit.data
    message = old + hit.message[len(new):] if hit.message.startswith(str(new)) else hit.message
    return Hit(hit.rule, message, (old, *hit.path[1:]), hit.key, data)


def _repath(fix: Any, old: str) -> Any:
    if isinstance(fix, dict) and isinstance(fix.get("path"), list) and fix["path"]:
        return {**fix, "path": [old, *fix["path"][1:]]}
    return fix


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per rule and place (the first, most specific one), at most MAX_HITS."""
    seen = set()
    out = []
    for h in hits:
        sig = (h.rule, h.path, h.key)
        if sig not in seen:
            seen.add(sig)
            out.append(h)
    if len(out) > MAX_HITS:
        rest = len(out) - MAX_HITS
        out = [*out[:MAX_HITS], Hit(TL101, f"… and {rest} more schema problems on this line", ())]
    return out


# Cheap checks JSON Schema cannot express; run on valid and invalid records alike.


def _chat_checks(record: dict[str, Any]) -> list[Hit]:
    if "functions" in record:
        return [Hit(TL104, "'functions' is deprecated: declare them in 'tools' "
                    "([{\"type\": \"function\", \"function\": {...}}])", ("functions",), key=True)]
    return []


def _rft_checks(record: dict[str, Any]) -> list[Hit]:
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return []
    last = len(messages) - 1
    role = _last_role(messages)
    if role == "user":
        return []
    where: JsonPath = ("messages", last, "role") if role is not None else ("messages", last)
    return [Hit(TL101, f"messages[{last}]: an RFT example must end with a user message (the "
                "model's answer is sampled and graded), not "
                f"{_show(role) if role is not None else 'a message without a role'}", where)]


def _stepwise_checks(record: dict[str, Any]) -> list[Hit]:
    steps, labels = record.get("completions"), record.get("labels")
    if isinstance(steps, list) and isinstance(labels, list) and len(steps) != len(labels):
        return [Hit(TL101, f"labels: {len(labels)} labels for {len(steps)} completions; give "
                    "one boolean per step", ("labels",))]
    return []


_CHECKS: dict[str, Callable[[dict[str, Any]], list[Hit]]] = {
    "chat": _chat_checks, "rft": _rft_checks, "stepwise": _stepwise_checks,
}


def _format_checks(record: Any, fmt: str) -> list[Hit]:
    """The format's own checks, and misspelt optional keys (`sytem`) of formats that allow
    extra keys (the schema cannot tell those from dataset columns)."""
    if not isinstance(record, dict):
        return []
    check = _CHECKS.get(fmt)
    hits = check(record) if check else []
    sig = _keys(fmt)
    if fmt != "rft" and not sig.strict and not record.keys() <= sig.known:
        hits += [hit for _, _, hit in _top_level_renames(record, fmt)]
    return hits


# --------------------------------------------------------------------------- messages


def _loc(path: JsonPath) -> str:
    """messages[2].role"""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _prefix(path: JsonPath, text: str) -> str:
    loc = _loc(path)
    return f"{loc}: {text}" if loc else text


def _clip(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(_clip(value, 40))
    try:
        return _clip(json.dumps(value, ensure_ascii=False), 40)
    except (TypeError, ValueError):
        return _clip(repr(value), 40)


def _show_key(key: Any) -> str:
    return _show(key) if isinstance(key, str) else repr(key)


_TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string",
               "number": "a number", "integer": "an integer", "boolean": "a boolean",
               "null": "null"}


def _a(noun: str) -> str:
    """'an image detail', 'a role'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expected(schema: Any) -> str:
    """How to name what a schema wants: its title, else its type(s)."""
    if not isinstance(schema, dict):
        return "something else"
    if "title" in schema:
        return str(schema["title"])
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    return " or ".join(_TYPE_NAMES.get(t, str(t)) for t in types) or "a valid value"


def suggest(value: Any, choices: Iterable[Any]) -> str | None:
    """The allowed value `value` most plausibly means ('bot' → 'assistant'), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    options = [c for c in choices if isinstance(c, str)]
    low = value.strip().lower()
    for c in options:
        if c.lower() == low:
            return c
    for group in _VALUE_SYNONYMS:
        if low in group:
            hits = [c for c in options if c in group]
            if len(hits) == 1:
                return hits[0]
    found = difflib.get_close_matches(low, options, n=1, cutoff=0.75)
    return found[0] if found else None


class _Explainer:
    """Turns jsonschema errors into one clear message per location.

    anyOf/oneOf errors are collapsed to the branch the record most plausibly meant; a branch
    is implausible when a discriminator (a property's enum, or the value's own type) rules it
    out. Missing keys pair up with misspelt ones ("did you mean 'content'?").
    """

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.missing: dict[JsonPath, list[str]] = {}
        self.unknown: list[tuple[JsonPath, str, list[str], list[str]]] = []

    def explain(self, errors: Iterable[Any]) -> list[Hit]:
        for err in errors:
            self._one(err)
        self._pair_keys()
        return self.hits

    def _one(self, err: Any) -> None:
        path = tuple(err.absolute_path)
        kw = err.validator
        custom = err.schema.get("errorMessage") if isinstance(err.schema, dict) else None
        if kw in ("anyOf", "oneOf") and not custom:
            self._collapse(err, path)
        elif kw == "required":
            have = err.instance if isinstance(err.instance, dict) else {}
            for key in err.validator_value:
                if key not in have and key not in self.missing.setdefault(path, []):
                    self.missing[path].append(key)
        elif kw == "additionalProperties" and isinstance(err.instance, dict):
            props = list(err.schema.get("properties", {}))
            free = [p for p in props if p not in err.instance]
            for key in err.instance:
                if key not in props:
                    self.unknown.append((path, key, props, free))
        elif kw in ("enum", "const"):
            self._enum(err, path, custom)
        elif custom:
            self._add(path, custom)
        else:
            self._add(path, self._generic(err))

    def _add(self, path: JsonPath, text: str, data: dict[str, Any] | None = None) -> None:
        self.hits.append(Hit(TL101, _prefix(path, text), path, data=data))

    def _enum(self, err: Any, path: JsonPath, custom: str | None) -> None:
        choices = err.validator_value if err.validator == "enum" else [err.validator_value]
        fix = suggest(err.instance, choices)
        if custom:
            text = custom
        else:
            title = err.schema.get("title")
            listed = ", ".join(str(c) for c in choices)
            text = (f"{_show(err.instance)} is not {_a(title)} ({listed})" if title
                    else f"{_show(err.instance)} is not one of {listed}")
        if fix is not None:
            text += f"; did you mean '{fix}'?"
        self._add(path, text, {"replace": {"path": list(path), "value": fix}} if fix else None)

    def _generic(self, err: Any) -> str:
        kw, value, inst = err.validator, err.validator_value, err.instance
        if kw == "type":
            return f"expected {_expected(err.schema)}, got {_json_type(inst)}"
        if kw == "minItems":
            return "must not be empty" if not inst else f"needs at least {value} items"
        if kw == "maxItems":
            return f"has {len(inst)} items; at most {value} allowed"
        if kw == "pattern":
            return f"{_show(inst)} does not match {value}"
        if kw in ("not", None):
            return "not allowed here"
        return _clip(err.message)

    def _collapse(self, err: Any, path: JsonPath) -> None:
        branches: dict[int, list[Any]] = {i: [] for i in range(len(err.validator_value))}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        ranked = sorted(branches.items(),
                        key=lambda kv: (self._implausible(kv[1]), len(kv[1]), kv[0]))
        best = ranked[0][1]
        if not self._implausible(best):
            for sub in best:
                self._one(sub)
            return
        if all(self._wrong_type(errs) for _, errs in ranked):
            wanted = " or ".join(dict.fromkeys(_expected(s) for s in err.validator_value))
            self._add(path, f"expected {wanted}, got {_json_type(err.instance)}")
        # else: a discriminator is invalid (e.g. an unknown role), reported on its own

    @staticmethod
    def _wrong_type(errors: list[Any]) -> bool:
        return any(e.validator == "type" and not e.relative_path for e in errors)

    @classmethod
    def _implausible(cls, errors: list[Any]) -> bool:
        return cls._wrong_type(errors) or any(
            e.validator in ("enum", "const") and len(e.relative_path) == 1 for e in errors)

    def _pair_keys(self) -> None:
        taken: set[tuple[JsonPath, str]] = set()
        for path, key, props, free in self.unknown:
            new = _close(key, frozenset(free), 0.7) if isinstance(key, str) else None
            where = (*path, key)
            if new is not None and (path, new) not in taken:
                taken.add((path, new))
                if new in self.missing.get(path, []):
                    self.missing[path].remove(new)
                text = f"unknown key {_show_key(key)} (did you mean '{new}'?)"
                self.hits.append(Hit(TL101, _prefix(path, text), where, key=True,
                                     data=_rename_data(where, new)))
            else:
                allowed = ", ".join(props)
                self.hits.append(Hit(TL101, _prefix(path, f"unknown key {_show_key(key)} "
                                                    f"(allowed: {allowed})"), where, key=True))
        for path, keys in self.missing.items():
            if keys:
                listed = " and ".join(f"'{k}'" for k in keys)
                self.hits.append(Hit(TL101, _prefix(path, f"missing {listed}"), path))


# --------------------------------------------------------------------------- normalised view


def _text(content: Any) -> str | None:
    """Content as plain text: a string, or the text parts of a parts array joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content
                         if isinstance(p, dict) and isinstance(p.get("text"), str))
    return None


def _message(m: Any, path: JsonPath) -> Message | None:
    """An OpenAI / Hugging Face message object."""
    if not isinstance(m, dict):
        return None
    role, calls, call_id = m.get("role"), m.get("tool_calls"), m.get("tool_call_id")
    return Message(role if isinstance(role, str) else None, _text(m.get("content")), path,
                   weight=m.get("weight"), tool_calls=calls if isinstance(calls, list) else None,
                   tool_call_id=call_id if isinstance(call_id, str) else None, raw=m)


def _messages(value: Any, path: JsonPath) -> list[Message]:
    if not isinstance(value, list):
        return []
    return [m for i, item in enumerate(value) if (m := _message(item, (*path, i))) is not None]


def _bare(role: str | None, value: Any, path: JsonPath) -> Message:
    """A message whose text is the value at `path` itself (content_key "" and role_key "")."""
    return Message(role, value if isinstance(value, str) else None, path,
                   content_key="", role_key="", raw=value)


def _turns(value: Any, path: JsonPath, role: str) -> list[Message]:
    """A string field (one message of `role`) or a conversational message list."""
    if isinstance(value, list):
        return _messages(value, path)
    return [_bare(role, value, path)] if value is not None else []


def _chat(record: dict[str, Any], fmt: str) -> Example | None:
    if not isinstance(record.get("messages"), list):
        return None
    tools_key = "tools" if "tools" in record or "functions" not in record else "functions"
    tools = record.get(tools_key)
    return Example(fmt, KINDS[fmt], record, _messages(record["messages"], ("messages",)),
                   tools=tools if isinstance(tools, list) else None, tools_path=(tools_key,))


def _either(record: dict[str, Any], fmt: str, key: str) -> str:
    """`key`, or its deprecated name when only that is present."""
    old = next((o for o, n in DEPRECATED_KEYS.get(fmt, {}).items() if n == key), None)
    return old if old is not None and key not in record and old in record else key


def _dpo(record: dict[str, Any], fmt: str) -> Example | None:
    inp = record.get("input")
    if not isinstance(inp, dict):
        return None
    good, bad = _either(record, fmt, "preferred_output"), _either(record, fmt, "non_preferred_output")
    tools = inp.get("tools")
    return Example(fmt, PREFERENCE, record,
                   _messages(inp.get("messages"), ("input", "messages"))
                   + _messages(record.get(good), (good,)),
                   _messages(record.get(bad), (bad,)),
                   tools=tools if isinstance(tools, list) else None, tools_path=("input", "tools"))


def _prompt_answer(record: dict[str, Any], fmt: str) -> Example | None:
    """prompt-completion, unpaired-preference, prompt-only."""
    messages = _turns(record.get("prompt"), ("prompt",), "user")
    if fmt != "prompt-only":
        messages += _turns(record.get("completion"), ("completion",), "assistant")
    return Example(fmt, KINDS[fmt], record, messages) if messages else None


def _text_record(record: dict[str, Any], fmt: str) -> Example | None:
    if "text" not in record:
        return None
    return Example(fmt, TEXT, record, [_bare(None, record["text"], ("text",))])


def _preference(record: dict[str, Any], fmt: str) -> Example | None:
    prompt = _turns(record.get("prompt"), ("prompt",), "user")
    chosen = _turns(record.get("chosen"), ("chosen",), "assistant")
    rejected = _turns(record.get("rejected"), ("rejected",), "assistant")
    if not prompt and isinstance(record.get("chosen"), list):  # implicit prompt: shared start
        shared = 0
        while (shared < min(len(chosen), len(rejected)) - 1
               and chosen[shared].raw == rejected[shared].raw):
            shared += 1
        rejected = rejected[shared:]
    if not (chosen or rejected):
        return None
    return Example(fmt, PREFERENCE, record, prompt + chosen, rejected)


def _stepwise(record: dict[str, Any], fmt: str) -> Example | None:
    steps = record.get("completions")
    messages = _turns(record.get("prompt"), ("prompt",), "user")
    if isinstance(steps, list):
        messages += [_bare("assistant", s, ("completions", i)) for i, s in enumerate(steps)]
    return Example(fmt, SFT, record, messages) if messages else None


SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system",
                  "function_call": "assistant", "observation": "tool", "tool": "tool"}


def _sharegpt_call(value: Any) -> dict[str, Any]:
    """A ShareGPT function_call value as an OpenAI-style tool call (arguments as a string)."""
    try:
        call = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        call = None
    if isinstance(call, dict) and isinstance(call.get("name"), str):
        args = call.get("arguments", {})
        return {"type": "function", "function": {
            "name": call["name"], "arguments": args if isinstance(args, str) else json.dumps(args)}}
    return {"type": "function", "function": {"name": None, "arguments": value}}


def _sharegpt(record: dict[str, Any], fmt: str) -> Example | None:
    turns = record.get("conversations")
    if not isinstance(turns, list):
        return None
    messages = [_bare("system", record["system"], ("system",))] if isinstance(
        record.get("system"), str) else []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            continue
        sender = turn.get("from")
        role = SHAREGPT_ROLES.get(sender, sender) if isinstance(sender, str) else None
        value = turn.get("value")
        calls = [_sharegpt_call(value)] if sender == "function_call" else None
        messages.append(Message(role, value if isinstance(value, str) else None,
                                ("conversations", i), content_key="value", role_key="from",
                                tool_calls=calls, raw=turn))
    return Example(fmt, SFT, record, messages, tools=_sharegpt_tools(record.get("tools")))


def _sharegpt_tools(tools: Any) -> list[Any] | None:
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except ValueError:
            return None
    return tools if isinstance(tools, list) else None


def _alpaca(record: dict[str, Any], fmt: str) -> Example | None:
    if "instruction" not in record and "output" not in record:
        return None
    messages = [_bare("system", record["system"], ("system",))] if isinstance(
        record.get("system"), str) else []
    history = record.get("history")
    for i, pair in enumerate(history if isinstance(history, list) else []):
        if isinstance(pair, list) and len(pair) >= 2:
            messages += [_bare("user", pair[0], ("history", i, 0)),
                         _bare("assistant", pair[1], ("history", i, 1))]
    prompt = _bare("user", record.get("instruction"), ("instruction",))
    extra = record.get("input")
    if isinstance(extra, str) and extra and prompt.text is not None:
        prompt.text = f"{prompt.text}\n{extra}"
    messages += [prompt, _bare("assistant", record.get("output"), ("output",))]
    return Example(fmt, SFT, record, messages)


_VIEWS: dict[str, Callable[[dict[str, Any], str], Example | None]] = {
    "chat": _chat, "rft": _chat, "dpo": _dpo, "prompt-completion": _prompt_answer,
    "unpaired-preference": _prompt_answer, "prompt-only": _prompt_answer, "text": _text_record,
    "preference": _preference, "stepwise": _stepwise, "sharegpt": _sharegpt, "alpaca": _alpaca,
}


def to_example(record: dict[str, Any], fmt: str) -> Example | None:
    """The record as messages with JSON paths, for the quality rules; None if too broken.

    String fields become messages whose path is the string itself (`content_key` ""):
    prompt/completion, chosen/rejected, text, Alpaca's fields, stepwise steps.
    """
    view = _VIEWS.get(fmt)
    if view is None or not isinstance(record, dict):
        return None
    return view(record, fmt)

