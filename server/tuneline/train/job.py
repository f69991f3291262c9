"""One training job in its run folder: lint → load → tokenize → train → save → summary.

Every outcome ends the event stream with `end` (completed/cancelled) or `error`, leaves
state.json and summary.json consistent, and maps to the exit code: 0 completed, 1 failed,
2 the configuration cannot run here, 130 cancelled.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from tuneline.jobs import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tuneline.jobs.cancel import CancelFlag
from tuneline.jobs.events import EventWriter
from tuneline.jobs.runs import Run
from tuneline.train.config import TrainConfig
from tuneline.train.data import DataError, Tokenized, prepare, split_eval, too_long_message
from tuneline.train.preflight import describe, lint_data
from tuneline.train.progress import ProgressPrinter

MAX_LISTED = 100


class JobFailure(Exception):
    """A failure to report as an error event (no traceback): bad data, impossible setup."""

    def __init__(self, message: str, code: int = EXIT_FAILED, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.fields = fields


class JobCancelled(Exception):
    """Cancel requested before training started (nothing to checkpoint yet)."""


def train_job(cfg: TrainConfig, run: Run, *, resuming: bool = False, echo_json: bool = False,
              allow_errors: bool = False) -> int:
    """Run the job in `run` (created or resumed by the caller); returns the exit code."""
    events = EventWriter(run.events_path, echo=echo_json)
    if not echo_json:
        events.listeners.append(ProgressPrinter())
    run.clear_cancel()
    cancel = CancelFlag(run.cancel_path)
    summary: dict[str, Any] = {"run_id": run.id, "kind": "train", "method": cfg.method,
                               "base_model": cfg.base_model, "train_file": cfg.train_file}
    started = time.time()
    with events, cancel:
        run.update_state(state="running", pid=os.getpid(), error=None, kind="train",
                         name=cfg.name or cfg.method)
        events.emit("start", run_id=run.id, kind="train", run_dir=str(run.path), pid=os.getpid(),
                    resumed=resuming, method=cfg.method, base_model=cfg.base_model,
                    config=cfg.to_dict())
        try:
            code = _train(cfg, run, events, cancel, summary, resuming, allow_errors)
        except JobCancelled:
            code = _finish_cancelled(run, events, summary, None)
        except KeyboardInterrupt:  # a second Ctrl+C: stop now, keep the last checkpoint
            code = _finish_cancelled(run, events, summary, None)
        except JobFailure as exc:
            code = _finish_failed(run, events, summary, str(exc), exc.code, **exc.fields)
        except Exception as exc:
            detail = traceback.format_exc()
            (run.path / "error.log").write_text(detail, "utf-8")
            print(detail, file=sys.stderr)
            last = run.latest_checkpoint()
            code = _finish_failed(run, events, summary, f"{type(exc).__name__}: {exc}",
                                  EXIT_FAILED, traceback_file=str(run.path / "error.log"),
                                  checkpoint=str(last) if last else None)
        summary["duration_seconds"] = round(time.time() - started, 2)
        run.write_summary(summary)
    return code


def _check(cancel: CancelFlag) -> None:
    if cancel.requested:
        raise JobCancelled


def _train(cfg: TrainConfig, run: Run, events: EventWriter, cancel: CancelFlag,
           summary: dict[str, Any], resuming: bool, allow_errors: bool) -> int:
    if cfg.lint:
        _preflight(cfg, events, allow_errors)
    _check(cancel)

    from tuneline.train import local

    local.quiet_libraries()
    from tuneline.train import checkpoint as ckpt
    from tuneline.train.loop import run_loop

    try:
        device = local.resolve_device(cfg.device)
        precision = local.resolve_precision(device, cfg.precision)
        resume_from = run.latest_checkpoint() if resuming else None
        if resuming and resume_from is None:
            events.log("no checkpoint in this run yet: starting from step 0", level="warning")
        weights = str(resume_from) if resume_from and cfg.method == "full" else None
        setup = local.load_model(cfg, device, precision, weights_from=weights)
    except local.SetupError as exc:
        raise JobFailure(str(exc), EXIT_USAGE) from None
    if resume_from is not None:
        ckpt.load_trainable(setup.model, resume_from, cfg.method)
    share = setup.trainable_params / max(setup.total_params, 1)
    events.log(f"{cfg.method} on {device} ({precision}): {setup.trainable_params:,} trainable of "
               f"{setup.total_params:,} parameters ({share:.2%})",
               trainable_params=setup.trainable_params, total_params=setup.total_params,
               device=device, precision=precision)
    summary.update(device=device, precision=precision, trainable_params=setup.trainable_params,
                   total_params=setup.total_params)
    _check(cancel)

    try:
        train_set = _prepare(cfg, cfg.train_file, setup, events, allow_errors)
        if cfg.eval_file:
            eval_set = _prepare(cfg, cfg.eval_file, setup, events, allow_errors)
        else:
            train_set, eval_set = split_eval(train_set, cfg.eval_fraction, cfg.seed)
    except DataError as exc:
        raise JobFailure(str(exc)) from None
    if not train_set:
        raise JobFailure(f"{Path(cfg.train_file).name}: no usable training examples")
    _check(cancel)

    result = run_loop(setup, cfg, train_set, eval_set, events, run.checkpoints_dir, cancel,
                      resume_from=resume_from, on_state=run.update_state)
    summary.update(step=result.step, total=result.total, train_loss=result.train_loss,
                   eval_loss=result.eval_loss, best_eval_loss=result.best_eval_loss,
                   tokens=result.tokens, train_seconds=round(result.seconds, 2),
                   tokens_per_second=round(result.tokens / max(result.seconds, 1e-9), 1))
    if result.status == "cancelled":
        return _finish_cancelled(run, events, summary, result.checkpoint)

    out_dir = Path(cfg.output_dir) if cfg.output_dir else run.path
    saved = local.save_result(setup, cfg, out_dir)
    events.emit("checkpoint", step=result.step, path=str(saved),
                reason="model" if cfg.method == "full" else "adapter")
    summary["model" if cfg.method == "full" else "adapter"] = str(saved)
    if cfg.merge:
        merged = local.merge_adapter(cfg.base_model, saved, out_dir)
        events.emit("checkpoint", step=result.step, path=str(merged), reason="merged")
        summary["merged"] = str(merged)
    summary["status"] = "completed"
    run.update_state(state="completed", step=result.step, total=result.total)
    events.emit("end", status="completed", step=result.step, total=result.total,
                train_loss=result.train_loss, eval_loss=result.eval_loss,
                best_eval_loss=result.best_eval_loss, tokens=result.tokens,
                train_seconds=round(result.seconds, 2), output=str(saved),
                merged=summary.get("merged"))
    return EXIT_OK


def _prepare(cfg: TrainConfig, path: str, setup: Any, events: EventWriter,
             allow_errors: bool) -> list[Tokenized]:
    """Tokenize one file; report (never silently cut) what is left out. With --allow-errors,
    records that cannot be used are skipped and listed instead of stopping the run."""
    prep = prepare(path, setup.tokenizer, fmt=cfg.format, max_seq_length=cfg.max_seq_length,
                   assistant_only=cfg.assistant_only_loss, too_long=cfg.too_long,
                   skip_bad=allow_errors)
    name = Path(path).name
    if prep.skipped:
        shown = "; ".join(f"line {n}: {why}" for n, why in prep.skipped[:10])
        events.log(f"{name}: {len(prep.skipped)} record(s) skipped (--allow-errors): {shown}",
                   level="warning", path=path, lines=[n for n, _ in prep.skipped])
    if prep.too_long:
        events.log(too_long_message(prep, cfg.max_seq_length) + ": left out, not truncated",
                   level="warning", path=path, lines=[n for n, _ in prep.too_long])
    if prep.no_labels:
        events.log(f"{name}: {len(prep.no_labels)} example(s) have nothing to train on (no "
                   f"assistant turn with weight 1): lines {_lines(prep.no_labels)}",
                   level="warning", path=path, lines=prep.no_labels)
    events.log(f"{name}: {len(prep.examples)} examples, {prep.tokens:,} tokens", path=path,
               examples=len(prep.examples), tokens=prep.tokens)
    return prep.examples


def _lines(numbers: list[int], limit: int = 20) -> str:
    shown = ", ".join(map(str, numbers[:limit]))
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _preflight(cfg: TrainConfig, events: EventWriter, allow_errors: bool) -> None:
    """Lint the data; errors stop the run unless allowed. Findings are log events."""
    paths = [p for p in (cfg.train_file, cfg.eval_file) if p]
    outcome = lint_data(paths, cfg.base_model, cfg.max_seq_length, cfg.format)
    if outcome.skipped:
        events.log(f"lint skipped: {outcome.skipped}", level="warning")
        return
    errors, warnings = outcome.errors, outcome.warnings
    for p in errors[:MAX_LISTED]:
        events.log(describe(p), level="error", path=p["path"], line=p["line"],
                   column=p["column"], rule=p["rule"])
    if warnings:
        counts = Counter(p["rule"] for p in warnings)
        events.log(f"lint: {len(warnings)} warning(s): "
                   + ", ".join(f"{rule} ×{n}" for rule, n in counts.most_common()),
                   level="warning", counts=dict(counts))
    if not errors:
        events.log(f"lint: no errors in {', '.join(Path(p).name for p in paths)}")
        return
    more = f" (first {MAX_LISTED} listed)" if len(errors) > MAX_LISTED else ""
    if not allow_errors:
        raise JobFailure(f"the data has {len(errors)} lint error(s){more}; fix them or pass "
                         "--allow-errors", errors=len(errors))
    events.log(f"lint: {len(errors)} error(s) allowed by --allow-errors", level="warning")


def _finish_cancelled(run: Run, events: EventWriter, summary: dict[str, Any],
                      checkpoint: str | None) -> int:
    if checkpoint is None and (last := run.latest_checkpoint()) is not None:
        checkpoint = str(last)  # cancelled before training resumed: the resume point stands
        summary.setdefault("step", int(last.name.split("-")[1]))
    summary.update(status="cancelled", checkpoint=checkpoint)
    run.update_state(state="cancelled")
    resume = f"tuneline train --resume {shlex.quote(str(run.path))}"
    events.emit("end", status="cancelled", step=summary.get("step", 0),
                total=summary.get("total", 0), checkpoint=checkpoint, resume=resume)
    return EXIT_CANCELLED


def _finish_failed(run: Run, events: EventWriter, summary: dict[str, Any], message: str,
                   code: int, **fields: Any) -> int:
    summary.update(status="failed", error=message, **fields)
    run.update_state(state="failed", error=message)
    events.emit("error", message=message, exit_code=code, **fields)
    return code
