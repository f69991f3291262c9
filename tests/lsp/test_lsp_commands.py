"""Commands: dataset stats and jobs (train / evaluate / augment) with $/progress and cancel."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys

import pytest
from lsp_helpers import HERE, chat, command, diagnostics_for, lsp_fixture, open_doc, wait_for
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tuneline.lint import formats
from tuneline.lint.tokens import TokenCounter

pytestmark = pytest.mark.asyncio(loop_scope="module")


def fake_python(tmp: str) -> str:
    """An executable standing in for the job interpreter: runs fake_job.py."""
    path = os.path.join(tmp, "fake-python")
    with open(path, "w") as fh:
        fh.write(f"#!/bin/sh\nexec '{sys.executable}' '{HERE / 'fake_job.py'}' \"$@\"\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


FAKE = fake_python("/tmp")
client = lsp_fixture(env={"TUNELINE_JOB_PYTHON": FAKE}, files={"train.jsonl": chat() + "\n"})
untrusted = lsp_fixture(env={"TUNELINE_TRUSTED": "0"})


async def test_dataset_stats_of_an_open_document(client):
    uri = (client.root / "stats.jsonl").as_uri()
    lines = [chat(), chat(user="Where is my order?", answer="It ships tomorrow, tracking follows.")]
    open_doc(client, uri, "\n".join(lines) + "\n")
    await diagnostics_for(client, uri, 1)
    stats = await command(client, "tuneline.datasetStats", {"uri": uri})
    counter = TokenCounter("gpt-4o-mini-2024-07-18")
    tokens = [counter.count_example(formats.to_example(json.loads(x), "chat")) for x in lines]
    assert stats["examples"] == 2 and stats["format"] == "chat"
    assert stats["total_tokens"] == sum(tokens)
    assert stats["epochs"] == 25 and stats["billed_tokens"] == 25 * sum(tokens)
    assert stats["estimated_cost_usd"] == round(25 * sum(tokens) / 1e6 * 3.0, 2)


async def test_train_reports_progress_on_the_request_token(client):
    dataset = str(client.root / "train.jsonl")
    result = await command(client, "tuneline.train",
                           {"dataset": dataset, "model": "tiny", "method": "lora",
                            "target": "local"}, token="train-1")
    assert result["status"] == "completed"
    assert result["argv"] == ["--train-file", dataset, "--base-model", "tiny", "--method", "lora"]
    reports = client.progress_reports["train-1"]
    assert reports[0].kind == "begin" and reports[0].title == f"Training {result['run_id']}"
    assert reports[0].cancellable is True
    steps = [r for r in reports if r.kind == "report" and r.message and r.message.startswith("step")]
    assert steps[0].message.startswith("step 1/3 · loss 2.0000") and steps[-1].percentage == 100
    assert reports[-1].kind == "end" and reports[-1].message == "completed"
    runs = await command(client, "tuneline.listRuns")
    assert [r["id"] for r in runs if r["id"] == result["run_id"]] == [result["run_id"]]
    assert next(r for r in runs if r["id"] == result["run_id"])["state"] == "completed"


async def test_cancel_from_the_progress_ui(client):
    task = asyncio.ensure_future(command(client, "tuneline.evaluate",
                                         {"dataset": "eval.jsonl", "model": "slow"}, token="eval-1"))
    await wait_for(lambda: any(r.kind == "report" for r in client.progress_reports.get("eval-1", [])))
    client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                           types.WorkDoneProgressCancelParams(token="eval-1"))
    result = await task
    assert result["status"] == "cancelled"
    assert client.progress_reports["eval-1"][-1].message == "cancelled"


async def test_cancel_run_by_id(client):
    started = await command(client, "tuneline.train",
                            {"dataset": "d.jsonl", "model": "slow", "wait": False})
    assert started["status"] == "running"
    run_id = started["run_id"]

    async def state() -> str | None:
        runs = await command(client, "tuneline.listRuns")
        return next((r["state"] for r in runs if r["id"] == run_id), None)

    for _ in range(500):  # cancel once the job is under way (its own handler then saves state)
        if await state() == "running":
            break
        await asyncio.sleep(0.02)
    assert (await command(client, "tuneline.cancelRun", {"run_id": run_id}))["cancelled"] is True

    for _ in range(500):
        if await state() == "cancelled":
            break
        await asyncio.sleep(0.02)
    assert await state() == "cancelled"


async def test_augment_builds_its_arguments(client):
    uri = (client.root / "train.jsonl").as_uri()
    result = await command(client, "tuneline.augment", {"uri": uri, "line": 0, "count": 2})
    assert result["argv"] == [str(client.root / "train.jsonl"), "--line", "1", "--count", "2"]


async def test_bad_arguments_are_clear_errors(client):
    with pytest.raises(JsonRpcException, match="missing 'dataset'"):
        await command(client, "tuneline.train", {"model": "x"})
    with pytest.raises(JsonRpcException, match="no run 'nope'"):
        await command(client, "tuneline.cancelRun", {"run_id": "nope"})


async def test_untrusted_workspaces_do_not_run_jobs(untrusted):
    with pytest.raises(JsonRpcException, match="trust this workspace"):
        await command(untrusted, "tuneline.train", {"dataset": "d.jsonl", "model": "m"})


async def test_a_restarted_server_reattaches_to_running_jobs(tmp_path):
    from lsp_helpers import SERVER, capabilities, make_client

    from tuneline.jobs.runner import Job

    job = Job.start("train", ["d.jsonl", "--model", "slow"], runs_dir=tmp_path / "runs",
                    python=FAKE)
    await wait_for(lambda: any(e["type"] == "progress" for e in job.history))
    lsp = make_client()
    await lsp.start_io(*SERVER, env={**os.environ, "TUNELINE_TRUSTED": "1"})
    try:
        await lsp.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")]))
        title = f"Run {job.run.id} (re-attached)"

        def token():
            return next((t for t, rs in lsp.progress_reports.items()
                         if rs and getattr(rs[0], "title", None) == title), None)

        tok = await wait_for(token, what="the re-attached run's progress")
        lsp.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                            types.WorkDoneProgressCancelParams(token=tok))
        await wait_for(lambda: lsp.progress_reports[tok][-1].kind == "end")
        assert lsp.progress_reports[tok][-1].message == "cancelled"
        assert job.wait(30)["status"] == "cancelled"
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
