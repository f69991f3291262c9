"""Editor settings (the `tuneline` section of `workspace/configuration`) and how they meet
`tuneline.toml`.

Precedence: an editor setting that is set works like the matching CLI flag — it replaces that
key of tuneline.toml (model, format, select, ignore). Everything else (severities,
thresholds, per-path overrides, eval_file…) comes only from tuneline.toml, so the editor and
CI agree on what a problem is.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, fields, replace
from typing import Any

from tuneline.lint.config import FORMAT_CHOICES, Config

DEFAULT_INCLUDE = ("**/*.jsonl",)
DEFAULT_DEBOUNCE_MS = 120
DEFAULT_MAX_DIAGNOSTICS = 10_000


@dataclass(frozen=True)
class Settings:
    """The server's view of the client settings (defaults when the client sends none)."""

    model: str | None = None
    format: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    inlay_tokens: bool = True
    lens_summary: bool = True
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    max_diagnostics: int = DEFAULT_MAX_DIAGNOSTICS

    def apply(self, cfg: Config) -> Config:
        """`cfg` (from tuneline.toml) with the editor's lint settings laid over it."""
        changes: dict[str, Any] = {}
        for name in ("model", "format", "select", "ignore"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        return replace(cfg, **changes) if changes else cfg

    def lint_key(self) -> tuple[Any, ...]:
        """What affects lint results (a change re-lints open files)."""
        return (self.model, self.format, self.select, self.ignore)

    def wants(self, rel_path: str) -> bool:
        """Whether a workspace-relative POSIX path is included and not excluded."""
        name = rel_path.rsplit("/", 1)[-1]
        return _matches(rel_path, name, self.include) and not _matches(rel_path, name, self.exclude)


def _matches(rel: str, name: str, globs: tuple[str, ...]) -> bool:
    for g in globs:
        if fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g):
            return True
        if g.startswith("**/") and fnmatch.fnmatch(rel, g[3:]):
            return True
    return False


_KEYS = {  # setting key (flat, dotted) -> field
    "model": "model", "format": "format", "select": "select", "ignore": "ignore",
    "inlayHints.tokens": "inlay_tokens", "codeLens.summary": "lens_summary",
    "workspace.include": "include", "workspace.exclude": "exclude", "debounceMs": "debounce_ms",
    "maxDiagnostics": "max_diagnostics",
}


def _flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in _KEYS:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.default for f in fields(Settings)}[name]
    if name in ("model", "format"):
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if name == "format" and value not in FORMAT_CHOICES:
            raise ValueError(f"must be one of {', '.join(FORMAT_CHOICES)}")
        return value
    if name in ("select", "ignore", "include", "exclude"):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of strings")
        if name in ("select", "ignore") and not value:
            return None
        return tuple(value)
    if isinstance(kind, bool):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if name == "max_diagnostics":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError("must be a positive whole number")
        return value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
        raise ValueError("must be a whole number of milliseconds (0-10000)")
    return value


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from the client's `tuneline` object (nested or dotted keys) and the problems
    found (unknown keys are ignored quietly: the extension has settings of its own)."""
    if not isinstance(raw, dict):
        return Settings(), []
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _flatten(raw).items():
        name = _KEYS.get(key)
        if name is None or value is None:
            continue
        try:
            values[name] = _coerce(name, value)
        except ValueError as exc:
            problems.append(f"setting tuneline.{key} {exc}; using the default")
    return Settings(**values), problems
