"""Helpers shared by the training tests (a uniquely named module, imported directly)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tuneline.train.cli import add_train_parsers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "train"
SUPPORT = FIXTURES / "support.jsonl"


def write_config(folder: Path, model: Path, **fields: Any) -> Path:
    """A train.toml in `folder` (values as TOML literals via JSON, which TOML accepts)."""
    # batch 8 × 512 holds the whole fixture: every step sees the same data, so losses compare
    values = {"base_model": str(model), "train_file": str(SUPPORT), "max_steps": 6,
              "learning_rate": 1e-2, "batch_size": 8, "max_seq_length": 512,
              "eval_steps": 0, "save_steps": 0, "warmup_ratio": 0.0, "lint": False, **fields}
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
    path = folder / "train.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def only_run(runs_dir: Path) -> Path:
    runs = [p for p in runs_dir.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def train_cli(*argv: str) -> int:
    """`tuneline train ARGV` in this process (the same code path as the command)."""
    parser = argparse.ArgumentParser(prog="tuneline")
    add_train_parsers(parser.add_subparsers())
    args = parser.parse_args(["train", *argv])
    return args.func(args)


def progress_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "progress"]
