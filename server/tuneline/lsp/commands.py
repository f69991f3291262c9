"""workspace/executeCommand: lint the workspace, dataset stats, and jobs (train, evaluate,
augment) run by `tuneline.jobs.runner` with their events forwarded as $/progress.

Every command takes one JSON object argument (as the VS Code extension sends). Job commands
answer when the job ends (unless `"wait": false`); cancelling the request or its progress
asks the job to stop at its next step, leaving a checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tuneline import __version__
from tuneline.lint import api
from tuneline.lint.dataset import distribution
from tuneline.lsp import capabilities
from tuneline.lsp.app import TunelineServer
from tuneline.lsp.documents import uri_to_path
from tuneline.lsp.inlay import training_price
from tuneline.lsp.progress import Progress, event_message
from tuneline.lsp.tally import tally_for

HEAVY_MODULES = ("torch", "transformers", "peft", "accelerate", "bitsandbytes")
FINAL = ("end", "error")


class CommandFailed(JsonRpcException):
    """A command that cannot run; the message says why (LSP RequestFailed)."""

    CODE = -32803


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    if args and isinstance(args[0], dict):
        return args[0]
    if args and isinstance(args[0], str):  # a bare URI or path
        return {"uri": args[0]}
    return {}


def _token(ls: TunelineServer) -> types.ProgressToken | None:
    params = ls.protocol.command_params.get()
    return params.work_done_token if params is not None else None


def _runner() -> Any:
    try:
        from tuneline.jobs import runner
    except ImportError as exc:
        raise CommandFailed("jobs are not available in this installation "
                            f"(tuneline.jobs.runner could not be imported: {exc})") from None
    return runner


def _workspace_folder(ls: TunelineServer, arg: dict[str, Any]) -> Path:
    if arg.get("workspace"):
        return Path(arg["workspace"])
    roots = ls.extras["workspace"].roots()
    return roots[0] if roots else Path.cwd()


def runs_dir(ls: TunelineServer, arg: dict[str, Any]) -> Path:
    """`<workspace>/<runsDirectory>` (the extension's setting, default runs/)."""
    name = ls.init_options.get("runsDirectory") or os.environ.get("TUNELINE_RUNS_DIR") or "runs"
    path = Path(name)
    return path if path.is_absolute() else _workspace_folder(ls, arg) / path


def _need(arg: dict[str, Any], key: str) -> str:
    value = arg.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CommandFailed(f"missing '{key}'")
    return value


def job_argv(kind: str, arg: dict[str, Any]) -> list[str]:
    """The job's command-line arguments, as the extension documents them (args.ts)."""
    if isinstance(arg.get("args"), list):
        return [str(a) for a in arg["args"]]
    if kind == "train":
        target = str(arg.get("target") or "local")
        if target != "local":
            raise CommandFailed(f"training on target '{target}' is not available yet; "
                                "use a local target or `tuneline train` on that machine")
        out = [arg["config"]] if arg.get("config") else [
            "--train-file", _need(arg, "dataset"), "--base-model", _need(arg, "model")]
        if arg.get("method"):
            out += ["--method", str(arg["method"])]
        if arg.get("validation"):
            out += ["--eval-file", str(arg["validation"])]
        return out
    elif kind == "eval":
        out = [_need(arg, "dataset"), "--model", _need(arg, "model")]
        if arg.get("run_id"):
            out += ["--run", str(arg["run_id"])]
    else:
        path = arg.get("path") or uri_to_path(_need(arg, "uri"))
        if not path:
            raise CommandFailed("augment needs a file on disk")
        out = [path, "--line", str(int(arg.get("line", 0)) + 1), "--count", str(int(arg.get("count", 1)))]
    if arg.get("target") and kind != "augment":
        out += ["--target", str(arg["target"])]
        if arg.get("host"):
            out += ["--host", str(arg["host"])]
    if arg.get("validation"):
        out += ["--validation", str(arg["validation"])]
    return out


async def run_job(ls: TunelineServer, kind: str, title: str, arg: dict[str, Any]) -> dict[str, Any]:
    """Start a job, forward its events as progress; its result when it ends."""
    if not ls.trusted:
        raise CommandFailed(f"{title} runs code: trust this workspace first")
    runner = _runner()
    argv = job_argv(kind, arg)
    wait = arg.get("wait", True) is not False
    progress = await Progress.create(ls, _token(ls) if wait else None)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def feed(event: dict[str, Any]) -> None:
        message, pct = event_message(event)
        if message is not None or pct is not None:
            progress.report(message, pct)
        if event.get("type") in FINAL and not done.done():
            done.set_result(event)

    python = ls.init_options.get("jobPython") or os.environ.get("TUNELINE_JOB_PYTHON") or None
    try:
        job = runner.Job.start(kind, argv, runs_dir=runs_dir(ls, arg),
                               cwd=str(_workspace_folder(ls, arg)), python=python,
                               on_event=lambda e: ls.call_soon(lambda: feed(e)))
    except OSError as exc:
        raise CommandFailed(f"could not start {title.lower()}: {exc}") from None
    ls.extras.setdefault("jobs", {})[job.run.id] = job
    progress.begin(f"{title} {job.run.id}", cancellable=True)
    progress.on_cancel(job.cancel)
    done.add_done_callback(lambda f: progress.end(_final_text(f.result())))
    info = {"run_id": job.run.id, "run_dir": str(job.run.path), "argv": argv}
    if not wait:
        return {**info, "status": "running"}
    try:
        final = await asyncio.shield(done)
    except asyncio.CancelledError:
        job.cancel()
        raise
    return {**info, "status": final.get("status") or ("failed" if final["type"] == "error"
                                                      else "completed"), "final": final}


def _final_text(event: dict[str, Any]) -> str:
    if event.get("type") == "error":
        return f"failed: {event.get('message', '')}"[:200]
    return str(event.get("status") or "done")


async def dataset_stats(ls: TunelineServer, arg: dict[str, Any]) -> dict[str, Any]:
    """The dataset summary of an open document (or a file on disk) with token figures."""
    uri = arg.get("uri")
    doc = ls.docs.get(uri) if isinstance(uri, str) else None
    loop = asyncio.get_running_loop()
    if doc is None or doc.kind != "data":
        path = arg.get("path") or (uri_to_path(uri) if isinstance(uri, str) else None)
        if not path or not Path(path).is_file():
            raise CommandFailed(f"no dataset at {uri or path!r}")
        report = await loop.run_in_executor(ls.bg_pool, lambda: api.lint_file(path, stats=True))
        if report.summary is None:
            raise CommandFailed(report.error or f"cannot read {path}")
        out = report.summary.to_json()
    else:
        if not await ls.linter.ready(doc):
            raise CommandFailed("the document could not be linted")
        assert doc.lint is not None and doc.lint.ds is not None
        summary = doc.lint.ds.summary()
        tally = tally_for(ls, doc)
        lines = doc.data_lines()
        await loop.run_in_executor(ls.bg_pool, tally.fill, lines)
        values = [n for n in map(tally.counts.get, lines) if n is not None]
        if values and not tally.error:
            from tuneline.lint.tokens import epochs_and_billing

            summary.tokens = distribution(values)
            summary.total_tokens = sum(values)
            summary.over_limit = sum(n > summary.limit for n in values)
            if tally.ctx.openai_target:
                summary.epochs, summary.billed_tokens = epochs_and_billing(values, summary.limit)
        out = summary.to_json()
    price = training_price(out.get("model") or "")
    if out.get("billed_tokens") is not None and price is not None:
        out["estimated_cost_usd"] = round(out["billed_tokens"] / 1e6 * price, 2)
    return out


def server_status(ls: TunelineServer) -> dict[str, Any]:
    """What the server is doing (and proof that no training library is loaded)."""
    docs = {}
    for uri, doc in ls.docs.items():
        state = doc.lint
        docs[uri] = {"version": doc.version, "kind": doc.kind, "lines": doc.data_len,
                     "ready": bool(state and state.ready),
                     "edits": state.edits_applied if state else 0,
                     "checked_lines": state.ds.checked_lines if state and state.ds else 0}
    early = ls.protocol.quiet_results
    return {"version": __version__, "pid": os.getpid(), "python": sys.executable,
            "heavy_modules": [m for m in HEAVY_MODULES if m in sys.modules],
            "position_encoding": ls.encoding, "pull_mode": ls.pull_mode, "trusted": ls.trusted,
            "documents": docs, "published": ls.publisher.published,
            "early_initialize": bool(early),
            "capabilities_match": ls.extras.get("capabilities_match"),
            "settings": {k: v for k, v in vars(ls.settings).items()},
            "commands": list(capabilities.COMMANDS)}


def register(ls: TunelineServer) -> None:
    @ls.command("tuneline.serverStatus")
    def status(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        return server_status(ls)

    @ls.command("tuneline.lintWorkspace")
    async def lint_workspace(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        ws = ls.extras["workspace"]
        progress = await Progress.create(ls, _token(ls))
        progress.begin("Tuneline: linting the workspace", cancellable=True)
        folders = [Path(f) for f in arg.get("folders") or [] if Path(f).is_dir()]
        paths = await asyncio.get_running_loop().run_in_executor(ws.pool, ws.files, folders or None)
        total = await ws.lint_paths(paths, progress)
        progress.end(f"{total['files']} files, {total['errors']} errors")
        return {**total, "cancelled": progress.cancelled}

    @ls.command("tuneline.datasetStats")
    async def stats(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        return await dataset_stats(ls, _arg(args))

    @ls.command("tuneline.train")
    async def train(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        return await run_job(ls, "train", "Training", _arg(args))

    @ls.command("tuneline.evaluate")
    async def evaluate(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        return await run_job(ls, "eval", "Evaluation", _arg(args))

    @ls.command("tuneline.augment")
    async def augment(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        return await run_job(ls, "augment", "Augmentation", _arg(args))

    @ls.command("tuneline.listRuns")
    def list_runs(ls: TunelineServer, *args: Any) -> list[dict[str, Any]]:
        _runner()
        from tuneline.jobs.runs import list_runs

        return [info.to_json() for info in list_runs(runs_dir(ls, _arg(args)))]

    @ls.command("tuneline.cancelRun")
    def cancel_run(ls: TunelineServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        run_id = _need(arg, "run_id")
        job = ls.extras.get("jobs", {}).get(run_id)
        if job is not None:
            return {"run_id": run_id, "cancelled": bool(job.cancel())}
        _runner()
        from tuneline.jobs.runs import find_run

        try:
            run = find_run(run_id, runs_dir(ls, arg))
        except LookupError as exc:
            raise CommandFailed(str(exc)) from None
        return {"run_id": run.id, "cancelled": bool(run.request_cancel())}

    def reattach() -> None:
        """Follow jobs still running from before a restart (progress, cancel)."""
        try:
            runner = _runner()
            active = runner.active_runs(runs_dir(ls, {}))
        except Exception:
            return
        for run in active:
            ls.spawn(_follow(ls, runner, run))

    ls.extras.setdefault("initialized_hooks", []).append(reattach)


async def _follow(ls: TunelineServer, runner: Any, run: Any) -> None:
    progress = await Progress.create(ls)

    def feed(event: dict[str, Any]) -> None:
        message, pct = event_message(event)
        if message is not None or pct is not None:
            progress.report(message, pct)
        if event.get("type") in FINAL:
            progress.end(_final_text(event))

    job = runner.attach(run.path, on_event=lambda e: ls.call_soon(lambda: feed(e)))
    ls.extras.setdefault("jobs", {})[run.id] = job
    progress.begin(f"Run {run.id} (re-attached)", cancellable=True)
    progress.on_cancel(job.cancel)
