"""Lint the training data before training, with the editor's rules.

Token limits use the base model's own tokenizer and chat template when it is a local folder,
and `max_seq_length` as the per-example limit. If the lint core cannot be imported the step is
skipped (the caller logs why) rather than blocking training.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LINT_FORMATS = {"chat": "chat", "prompt-completion": "prompt-completion",
                "sharegpt": "sharegpt", "alpaca": "alpaca"}


@dataclass
class LintOutcome:
    """Findings as the lint JSON contract shapes them (1-based lines and columns)."""

    problems: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None  # why linting did not run

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "warning"]


def local_tokenizer(base_model: str) -> str | None:
    """A folder with the base model's tokenizer.json: the model folder, or its hub cache copy."""
    if (Path(base_model) / "tokenizer.json").is_file():
        return base_model
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(base_model, local_files_only=True,
                                   allow_patterns=["tokenizer*", "*.jinja", "special_tokens*"])
    except Exception:  # not a hub id, or not cached: nothing local to count with
        return None
    return folder if (Path(folder) / "tokenizer.json").is_file() else None


def lint_config_for(path: str, base_model: str, max_seq_length: int, fmt: str) -> Any:
    """The project's lint config for `path`, aimed at the base model and max_seq_length.

    Without a local tokenizer the token-limit rule is left to tokenization, which reports
    too-long examples exactly."""
    from tuneline.lint.config import LoadedConfig, load_config

    loaded = load_config(path)
    changes: dict[str, Any] = {"max_tokens": max_seq_length, "target": "local",
                               "model": base_model}
    tokenizer = local_tokenizer(base_model)
    if tokenizer:
        changes["tokenizer"] = tokenizer
    else:
        changes["ignore"] = (*loaded.config.ignore, "TL401")
    if fmt in LINT_FORMATS:
        changes["format"] = LINT_FORMATS[fmt]
    return LoadedConfig(replace(loaded.config, **changes), list(loaded.problems))


def lint_data(paths: list[str], base_model: str, max_seq_length: int,
              fmt: str = "auto") -> LintOutcome:
    """Lint each data file; never raises (a broken or missing lint core means `skipped`)."""
    try:
        from tuneline.lint import api
    except ImportError as exc:
        return LintOutcome(skipped=f"the lint core is not available ({exc})")
    outcome = LintOutcome()
    try:
        for path in paths:
            report = api.lint_file(path, lint_config_for(path, base_model, max_seq_length, fmt))
            if report.error:
                outcome.problems.append({"path": path, "line": 1, "column": 1,
                                         "severity": "error", "rule": "io",
                                         "message": report.error})
            for p in report.problems():
                outcome.problems.append({"path": path, "line": p.line, "column": p.column,
                                         "severity": p.severity, "rule": p.rule,
                                         "message": p.message})
    except Exception as exc:  # the lint core must never be the reason a run cannot start
        return LintOutcome(skipped=f"the lint step failed: {type(exc).__name__}: {exc}")
    return outcome


def describe(problem: dict[str, Any]) -> str:
    """`file:line:col: RULE message` (the lint text format)."""
    return (f"{Path(problem['path']).name}:{problem['line']}:{problem['column']}: "
            f"{problem['rule']} {problem['message']}")
