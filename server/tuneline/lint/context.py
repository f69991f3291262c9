"""Everything a check needs to know about the run, resolved once per file and config."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tuneline.lint import rules as registry
from tuneline.lint.config import Config
from tuneline.lint.findings import Severity
from tuneline.lint.tokens import TokenCounter, is_openai_model, token_limit


@dataclass
class LintContext:
    """A resolved config: enabled rules, severities, token limit, optional schema and eval keys."""

    config: Config = field(default_factory=Config)
    eval_keys: dict[bytes, str] = field(default_factory=dict)  # example key -> "eval.jsonl:12"
    count_tokens: bool = False  # count every example's tokens exactly (stats)

    def __post_init__(self) -> None:
        import tuneline.lint.rules.all  # noqa: F401  (registers every rule)

        cfg = self.config
        enabled = {r.id for tok in cfg.select for r in registry.resolve(tok) if r.enabled or tok != "ALL"}
        enabled -= {r.id for tok in cfg.ignore for r in registry.resolve(tok)}
        self.enabled: frozenset[str] = frozenset(enabled)
        self.severities: dict[str, Severity] = {rid: r.severity for rid, r in registry.REGISTRY.items()}
        self.overridden: set[str] = set()
        for tok, sev in cfg.severity.items():
            for r in registry.resolve(tok):
                self.severities[r.id] = Severity.parse(sev)
                self.overridden.add(r.id)
        self.line_checks = [fn for ids, fn in registry.LINE_CHECKS if ids & self.enabled]
        self.limit = token_limit(cfg.model, cfg.max_tokens)
        self.openai_target = cfg.target == "openai" or (
            cfg.target == "auto" and not cfg.tokenizer and is_openai_model(cfg.model))
        self.problems: list[str] = []

    def on(self, rule_id: str) -> bool:
        return rule_id in self.enabled

    @cached_property
    def tokens(self) -> TokenCounter:
        return TokenCounter(self.config.model, self.config.tokenizer)

    @cached_property
    def assistant_validator(self) -> Any:
        """A jsonschema validator for `assistant_schema`, or None (problems noted)."""
        path = self.config.assistant_schema
        if not path:
            return None
        base = Path(self.config.source).parent if self.config.source else Path.cwd()
        file = (base / path) if not Path(path).is_absolute() else Path(path)
        try:
            schema = json.loads(file.read_text("utf-8"))
            import jsonschema

            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            cls.check_schema(schema)
            return cls(schema)
        except (OSError, ValueError) as exc:
            self.problems.append(f"assistant_schema {file}: {exc}")
            return None
        except Exception as exc:  # jsonschema.SchemaError and friends
            self.problems.append(f"assistant_schema {file}: invalid schema: {exc}")
            return None
