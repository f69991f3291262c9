"""CLI for the training jobs: `train`, `runs` (list/show/cancel) and `demo-model`.

`add_train_parsers(subparsers)` registers them; nothing here imports torch until a command
that trains actually runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from tuneline.jobs import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tuneline.jobs.events import dumps, make_event
from tuneline.jobs.runs import (
    FINAL_STATES,
    Run,
    RunInfo,
    create_run,
    default_runs_dir,
    find_run,
    list_runs,
    new_run_id,
)
from tuneline.train import config as tc

OVERRIDE_PREFIX = "set_"


def add_train_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `train`, `runs` and `demo-model` on the main parser's subparsers."""
    _add_train(sub)
    _add_runs(sub)
    _add_demo(sub)


# -- train ------------------------------------------------------------------------------------
def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="fine-tune a model (LoRA, QLoRA, full) from a TOML config",
        description="Lint the data, then train as the config says. Any config field can be "
                    "overridden with --field-name VALUE. Exit 0 done, 1 failed, 2 usage or "
                    "config error, 130 cancelled (resume with --resume).")
    p.add_argument("config", nargs="?", help="the training config (TOML)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines, no bar")
    p.add_argument("--resume", metavar="RUN", help="continue a cancelled/failed run (folder or id)")
    p.add_argument("--allow-errors", action="store_true", help="train even if lint finds errors")
    p.add_argument("--runs-dir", help="folder of run folders (default: ./runs)")
    p.add_argument("--run-id", help="id for the new run (default: time + name)")
    group = p.add_argument_group("config overrides")
    for f in fields(tc.TrainConfig):
        _add_override(group, f)
    p.set_defaults(func=cmd_train)


def _add_override(group: argparse._ArgumentGroup, f: Any) -> None:
    flag = "--" + f.name.replace("_", "-")
    kind = tc._kind(f)
    kwargs: dict[str, Any] = {"dest": OVERRIDE_PREFIX + f.name, "default": argparse.SUPPRESS,
                              "help": f.metadata["help"]}
    if kind != "bool":
        kwargs["metavar"] = f.name.upper()
    if kind == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif kind == "int":
        kwargs["type"] = int
    elif kind == "float":
        kwargs["type"] = float
    elif kind == "modules":
        kwargs["type"] = _modules
    if "choices" in f.metadata:
        kwargs["choices"] = f.metadata["choices"]
        kwargs.pop("metavar", None)
    group.add_argument(flag, **kwargs)


def _modules(text: str) -> list[str] | str:
    return text if text == "all-linear" else [t.strip() for t in text.split(",") if t.strip()]


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    return {k[len(OVERRIDE_PREFIX):]: v for k, v in vars(args).items()
            if k.startswith(OVERRIDE_PREFIX)}


def _usage_error(args: argparse.Namespace, message: str, run: Run | None = None) -> int:
    """Report a problem found before training: stderr, plus an error event in --json mode
    and in the run folder the runner created for us."""
    print(f"tuneline train: {message}", file=sys.stderr)
    event = make_event("error", message=message, exit_code=EXIT_USAGE)
    if args.json:
        print(dumps(event), flush=True)
    if run is None and args.run_id:
        run = Run(Path(args.runs_dir or default_runs_dir()) / args.run_id)
    if run is not None and run.exists() and run.info().state not in FINAL_STATES:
        with open(run.events_path, "a", encoding="utf-8") as fh:
            fh.write(dumps(event) + "\n")
        run.update_state(state="failed", error=message, kind="train")
    return EXIT_USAGE


def cmd_train(args: argparse.Namespace) -> int:
    from tuneline.train.job import train_job

    overrides = overrides_from(args)
    runs_dir = Path(args.runs_dir) if args.runs_dir else default_runs_dir()
    if args.resume:
        if args.config:
            return _usage_error(args, "give either a CONFIG or --resume RUN, not both")
        try:
            run = find_run(args.resume, runs_dir)
        except LookupError as exc:
            return _usage_error(args, str(exc))
        info = run.info()
        if info.state == "running":
            return _usage_error(args, f"run {run.id} is still running (pid {info.pid})")
        if info.state == "completed":
            return _usage_error(args, f"run {run.id} already completed; start a new run")
        try:
            saved = tc.from_json(run.config(), f"{run.id}/config.json")
            cfg = tc.load_config(None, overrides, base=saved)
        except tc.ConfigError as exc:
            return _usage_error(args, str(exc), run)
        if overrides:
            run.file("config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
            run.file("config.toml").write_text(tc.to_toml(cfg))
        return train_job(cfg, run, resuming=True, echo_json=args.json,
                         allow_errors=args.allow_errors)
    if not args.config and not {"train_file", "base_model"} <= overrides.keys():
        return _usage_error(args, "give a config file (TOML), or --train-file and --base-model, "
                            "or --resume RUN")
    try:
        if args.config:
            cfg = tc.load_config(args.config, overrides)
        else:  # flags only (the editor's Train… without a config file)
            required = {k: overrides[k] for k in ("train_file", "base_model")}
            cfg = tc.load_config(None, overrides,
                                 base=tc.from_table(required, "flags", Path.cwd()))
    except tc.ConfigError as exc:
        return _usage_error(args, str(exc))
    run_id = args.run_id or new_run_id(cfg.name or cfg.method)
    try:
        run = create_run(runs_dir, run_id, "train", cfg.to_dict(), tc.to_toml(cfg),
                         name=cfg.name or cfg.method)
    except (FileExistsError, OSError) as exc:
        return _usage_error(args, str(exc))
    return train_job(cfg, run, resuming=False, echo_json=args.json, allow_errors=args.allow_errors)


# -- runs -------------------------------------------------------------------------------------
def _add_runs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list runs, show one, or cancel one",
                       description="Without a subcommand: list runs, newest first.")
    _runs_common(p, suppress=False)
    rsub = p.add_subparsers(dest="runs_command", metavar="{list,show,cancel}")
    lp = rsub.add_parser("list", help="runs with state, progress and best eval loss")
    _runs_common(lp, suppress=True)
    sp = rsub.add_parser("show", help="one run: state, summary, config, last events")
    sp.add_argument("run", help="run id (or unique part of it) or folder")
    _runs_common(sp, suppress=True)
    cp = rsub.add_parser("cancel", help="stop a running job at its next step (it checkpoints)")
    cp.add_argument("run", help="run id (or unique part of it) or folder")
    _runs_common(cp, suppress=True)
    p.set_defaults(func=cmd_runs)


def _runs_common(p: argparse.ArgumentParser, suppress: bool) -> None:
    """--runs-dir/--json both before and after the subcommand (suppressed defaults below)."""
    p.add_argument("--runs-dir", default=argparse.SUPPRESS if suppress else None,
                   help="folder of run folders (default: ./runs)")
    p.add_argument("--json", action="store_true",
                   default=argparse.SUPPRESS if suppress else False, help="print JSON")


def cmd_runs(args: argparse.Namespace) -> int:
    runs_dir = getattr(args, "runs_dir", None)
    command = getattr(args, "runs_command", None) or "list"
    if command == "list":
        infos = list_runs(runs_dir)
        if args.json:
            print(json.dumps([i.to_json() for i in infos], indent=2))
        else:
            print(format_runs(infos) if infos else
                  f"no runs in {Path(runs_dir) if runs_dir else default_runs_dir()}")
        return EXIT_OK
    try:
        run = find_run(args.run, runs_dir)
    except LookupError as exc:
        print(f"tuneline runs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if command == "cancel":
        if run.request_cancel():
            print(f"cancel requested for {run.id}; it stops at its next step and checkpoints")
            return EXIT_OK
        print(f"tuneline runs: run {run.id} is not running ({run.info().state})", file=sys.stderr)
        return EXIT_FAILED
    info = run.info()
    if args.json:
        print(json.dumps({"info": info.to_json(), "summary": run.summary(),
                          "config": run.config()}, indent=2))
    else:
        print(format_show(run, info))
    return EXIT_OK


def _progress(info: RunInfo) -> str:
    return f"{info.step}/{info.total}" if info.total else "-"


def format_runs(infos: list[RunInfo]) -> str:
    rows = [("ID", "STATE", "PROGRESS", "BEST EVAL", "NAME")]
    for i in infos:
        best = f"{i.best_eval_loss:.4f}" if isinstance(i.best_eval_loss, (int, float)) else "-"
        rows.append((i.id, i.state, _progress(i), best, i.name or i.kind))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def format_show(run: Run, info: RunInfo) -> str:
    lines = [f"run      {info.id}", f"folder   {info.path}", f"kind     {info.kind}",
             f"state    {info.state}", f"progress {_progress(info)}"]
    if info.started:
        lines.append(f"started  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info.started))}")
    if info.best_eval_loss is not None:
        lines.append(f"best eval loss {info.best_eval_loss:.4f}")
    if info.error:
        lines.append(f"error    {info.error}")
    summary = run.summary()
    for key in ("train_loss", "eval_loss", "tokens", "tokens_per_second", "adapter", "model",
                "merged", "checkpoint"):
        if summary.get(key) is not None:
            lines.append(f"{key:<8} {summary[key]}")
    last = run.latest_checkpoint()
    if last and info.state in ("cancelled", "failed"):
        lines.append(f"resume   tuneline train --resume {run.path}")
    return "\n".join(lines)


# -- demo-model -------------------------------------------------------------------------------
def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo-model", help="build a small local model + tokenizer (no download)",
                       description="Builds a small Llama-architecture model and a byte-level "
                                   "BPE tokenizer with a chat template, pre-trained for a few "
                                   "hundred steps on generated support chats.")
    p.add_argument("dir", help="folder to write (model + tokenizer)")
    p.add_argument("--force", action="store_true", help="rebuild even if DIR has a model")
    p.add_argument("--steps", type=int, help="pre-training steps (default 250)")
    p.add_argument("--hidden-size", type=int, help="hidden size (default 128)")
    p.add_argument("--layers", type=int, help="transformer layers (default 3)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.set_defaults(func=cmd_demo_model)


def cmd_demo_model(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tuneline.train.demo_model import DemoSpec, build_demo_model, sample_reply
    from tuneline.train.local import quiet_libraries

    folder = Path(args.dir)
    if (folder / "config.json").exists() and not args.force:
        print(f"{folder}: a model is already there (use --force to rebuild)")
        return EXIT_OK
    changes = {k: v for k, v in (("pretrain_steps", args.steps), ("hidden_size", args.hidden_size),
                                 ("num_layers", args.layers), ("seed", args.seed)) if v is not None}
    if changes.get("pretrain_steps", 1) < 0 or changes.get("hidden_size", 8) % 4:
        print("tuneline demo-model: --steps must be ≥ 0 and --hidden-size a multiple of 4",
              file=sys.stderr)
        return EXIT_USAGE
    quiet_libraries()
    started = time.monotonic()
    path = build_demo_model(folder, replace(DemoSpec(), **changes), log=print)
    print(f"built {path} in {time.monotonic() - started:.1f} s")
    question = "How do I reset my password?"
    print(f"sample: {question!r} → {sample_reply(path, question)!r}")
    return EXIT_OK
