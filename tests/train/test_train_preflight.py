"""Lint before training: the editor's rules, the base model's tokenizer, max_seq_length."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import SUPPORT

from tuneline.train.preflight import lint_data

pytest.importorskip("tuneline.lint.api")


def test_token_limit_uses_the_models_own_tokenizer(tiny_model: Path, tokenizer: object) -> None:
    from tuneline.train.data import prepare

    limit = 90
    outcome = lint_data([str(SUPPORT)], str(tiny_model), limit)
    assert outcome.skipped is None
    flagged = sorted(p["line"] for p in outcome.errors if p["rule"] == "TL401")
    too_long = [line for line, _ in prepare(SUPPORT, tokenizer, max_seq_length=limit).too_long]
    assert flagged == too_long and flagged  # lint and tokenization agree, line for line


def test_a_hub_model_not_on_disk_leaves_token_limits_to_tokenization() -> None:
    outcome = lint_data([str(SUPPORT)], "example-org/not-downloaded-model", 32)
    assert outcome.skipped is None
    assert not outcome.errors, outcome.errors  # no tokenizer: no TL401, no "unknown model"
    assert {p["rule"] for p in outcome.warnings} >= {"TL501"}  # the other rules still run
