"""Configuration: `tuneline.toml` or `[tool.tuneline]` in pyproject.toml, found walking up.

Unknown keys and bad values are findings on the config file itself (rules TL901/TL902), so a
typo never silently turns a check off.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tuneline.lint.findings import Finding, Severity
from tuneline.lint.rules import rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_UNKNOWN_KEY = rule(
    "TL901", "config-unknown-key", Severity.WARNING,
    "A key in tuneline.toml / [tool.tuneline] that Tuneline does not know.",
    "A misspelt setting silently does nothing.",
    "Fix the spelling (the message suggests the nearest key) or remove it.",
    scope="file",
)
CONFIG_BAD_VALUE = rule(
    "TL902", "config-bad-value", Severity.ERROR,
    "A setting in tuneline.toml / [tool.tuneline] has a value of the wrong type or range.",
    "The setting cannot be applied; Tuneline falls back to the default.",
    "Use a value of the documented type.",
    scope="file",
)

FORMAT_CHOICES = (
    "auto", "chat", "dpo", "rft", "prompt-completion", "text", "prompt-only",
    "preference", "unpaired-preference", "stepwise", "sharegpt", "alpaca",
)


@dataclass(frozen=True)
class Config:
    """Lint settings. Every field has a default; the docs below are shown in the README."""

    model: str = field(default="gpt-4o-mini-2024-07-18", metadata={
        "help": "Target model: sets the token limit and tokenizer (OpenAI names use tiktoken)."})
    tokenizer: str | None = field(default=None, metadata={
        "help": "Local Hugging Face model/tokenizer folder: count tokens with its tokenizer "
                "and chat template instead of tiktoken."})
    max_tokens: int | None = field(default=None, metadata={
        "help": "Per-example token limit; default: the model's known limit."})
    format: str = field(default="auto", metadata={
        "help": "Force the record format (" + ", ".join(FORMAT_CHOICES) + ")."})
    target: str = field(default="auto", metadata={
        "help": "openai | local | auto (openai when the model is an OpenAI model). "
                "OpenAI targets make under-10-example files an error."})
    select: tuple[str, ...] = field(default=("ALL",), metadata={
        "help": "Rules to enable: ids, id prefixes (\"TL2\") or names; default all."})
    ignore: tuple[str, ...] = field(default=(), metadata={"help": "Rules to disable."})
    severity: dict[str, str] = field(default_factory=dict, metadata={
        "help": "Per-rule severity override, e.g. {TL204 = \"error\"}."})
    min_messages: int = field(default=2, metadata={"help": "TL201: fewest messages."})
    min_answer_chars: int = field(default=10, metadata={"help": "TL204: shortest answer."})
    max_answer_chars: int = field(default=4000, metadata={"help": "TL205: longest answer."})
    near_duplicate_threshold: float = field(default=0.8, metadata={
        "help": "TL502: estimated Jaccard similarity (8-byte text shingles) above which two "
                "examples are near duplicates."})
    assistant_schema: str | None = field(default=None, metadata={
        "help": "JSON Schema file every assistant answer must satisfy (as JSON)."})
    eval_file: str | None = field(default=None, metadata={
        "help": "Paired eval/validation file: its examples must not appear in training."})
    label_field: str | None = field(default=None, metadata={
        "help": "Top-level field holding a class label; enables the imbalance check TL705."})
    imbalance_ratio: float = field(default=10.0, metadata={
        "help": "TL705: most common label over least common label above which to warn."})
    overrides: tuple[dict[str, Any], ...] = field(default=(), metadata={
        "help": "Per-path overrides: [[tool.tuneline.overrides]] files = [\"eval/*.jsonl\"] plus "
                "any of the keys above."})
    source: str | None = field(default=None, metadata={"help": "(set by Tuneline)"})

    def for_path(self, path: str | os.PathLike[str] | None) -> Config:
        """The config with every override whose `files` globs match `path` applied."""
        if not path or not self.overrides:
            return self
        base = Path(self.source).parent if self.source else Path.cwd()
        p = Path(path).resolve()
        try:
            rel = p.relative_to(base.resolve()).as_posix()
        except ValueError:
            rel = p.as_posix()
        cfg = self
        for ov in self.overrides:
            globs = ov.get("files", [])
            if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(p.name, g) for g in globs):
                values, _ = _coerce({k: v for k, v in ov.items() if k != "files"})
                cfg = replace(cfg, **values)
        return cfg


FIELD_NAMES = tuple(f.name for f in fields(Config) if f.name != "source")


def _coerce(table: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Typed values from a TOML table, and (key, problem) pairs for unknown/bad entries."""
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, value in table.items():
        if key not in known or key == "source":
            near = difflib.get_close_matches(key, FIELD_NAMES, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            problems.append((key, f"unknown key '{key}'{hint}"))
            continue
        default = known[key].default
        try:
            values[key] = _check_type(key, value, default)
        except ValueError as exc:
            problems.append((key, str(exc)))
    return values, problems


_RANGES = {"near_duplicate_threshold": (0.0, 1.0), "imbalance_ratio": (1.0, float("inf"))}


def _check_type(key: str, value: Any, default: Any) -> Any:
    if key in ("select", "ignore"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"'{key}' must be a list of rule ids or names")
        return tuple(value)
    if key == "severity":
        if not isinstance(value, dict):
            raise ValueError("'severity' must be a table of rule = \"error|warning|info|hint\"")
        for v in value.values():
            Severity.parse(str(v))
        return {str(k): str(v) for k, v in value.items()}
    if key == "overrides":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError("'overrides' must be an array of tables ([[tool.tuneline.overrides]])")
        for ov in value:
            files = ov.get("files")
            if not isinstance(files, list) or not files:
                raise ValueError("each override needs files = [\"glob\", ...]")
            _, problems = _coerce({k: v for k, v in ov.items() if k != "files"})
            if problems:
                raise ValueError("override: " + "; ".join(p for _, p in problems))
        return tuple(value)
    if key == "format" and value not in FORMAT_CHOICES:
        raise ValueError(f"'format' must be one of {', '.join(FORMAT_CHOICES)}, not '{value}'")
    if key == "target" and value not in ("auto", "openai", "local"):
        raise ValueError(f"'target' must be auto, openai or local, not '{value}'")
    if key == "max_tokens":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError("'max_tokens' must be a positive integer")
        return value
    if default is None:
        if not isinstance(value, str):
            raise ValueError(f"'{key}' must be a string")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"'{key}' must be a number")
        low, high = _RANGES.get(key, (float("-inf"), float("inf")))
        if not low <= value <= high:
            raise ValueError(f"'{key}' must be between {low:g} and {high:g}, not {value:g}")
        return float(value)
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"'{key}' must be a non-negative integer")
        return value
    if isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string")
    return value


@dataclass
class LoadedConfig:
    """A config and the problems found in its file."""

    config: Config
    problems: list[Finding] = field(default_factory=list)


def find_config_file(start: str | os.PathLike[str]) -> Path | None:
    """The nearest tuneline.toml, or pyproject.toml with [tool.tuneline], walking up."""
    p = Path(start).resolve()
    for d in [p, *p.parents] if p.is_dir() else [p.parent, *p.parent.parents]:
        candidate = d / "tuneline.toml"
        if candidate.is_file():
            return candidate
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "tuneline" in tomllib.loads(pyproject.read_text("utf-8")).get("tool", {}):
                    return pyproject
            except (OSError, ValueError):
                continue
    return None


def _key_line(text: str, key: str, pyproject: bool = False) -> int:
    """The line of `key = …` (in pyproject.toml: inside [tool.tuneline], not another tool's)."""
    start = 0
    if pyproject:
        head = re.search(r"^[ \t]*\[+[ \t]*tool[ \t]*\.[ \t]*tuneline[ \t]*[\].]", text, re.M)
        start = head.start() if head else 0
    key_re = re.escape(key)
    m = re.compile(rf"^[ \t]*(?:{key_re}[ \t]*=|\[+[^\]\n]*\b{key_re}[ \t]*\])", re.M).search(
        text, start)
    return text.count("\n", 0, m.start()) if m else 0


def parse_config(text: str, path: str) -> LoadedConfig:
    """Parse config text; unknown keys and bad values become findings placed on their line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        line = max(0, getattr(exc, "lineno", int(m.group(1)) if m else 1) - 1)
        return LoadedConfig(Config(source=path), [Finding(
            "TL902", f"{Path(path).name} is not valid TOML: {exc}", Severity.ERROR, line, 0, line, 1)])
    pyproject = path.endswith("pyproject.toml")
    table = data.get("tool", {}).get("tuneline", {}) if pyproject else data
    values, problems = _coerce(table)
    findings = []
    for key, problem in problems:
        line = _key_line(text, key, pyproject)
        rid, sev = ("TL901", Severity.WARNING) if problem.startswith("unknown") else ("TL902", Severity.ERROR)
        findings.append(Finding(rid, f"{Path(path).name}: {problem}", sev, line, 0, line, len(key)))
    return LoadedConfig(Config(**values, source=path), findings)


def load_config(start: str | os.PathLike[str] | None = None,
                explicit: str | os.PathLike[str] | None = None) -> LoadedConfig:
    """The config governing `start` (file or folder), or the explicit file given."""
    path = Path(explicit) if explicit else find_config_file(start or Path.cwd())
    if path is None:
        return LoadedConfig(Config())
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        return LoadedConfig(Config(), [Finding(
            "TL902", f"cannot read {path}: {exc.strerror}", Severity.ERROR)])
    return parse_config(text, str(path))
