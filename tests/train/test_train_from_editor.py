"""The editor's Train… arguments (built by the language server) start a real training job."""

from __future__ import annotations

import json
from pathlib import Path

from tuneline.jobs.runner import Job
from tuneline.lsp.commands import job_argv

FIXTURE = Path(__file__).parent.parent / "fixtures" / "train" / "support.jsonl"


def test_server_train_arguments_run_a_real_job(tiny_model: Path, tmp_path: Path) -> None:
    argv = job_argv("train", {"dataset": str(FIXTURE), "model": str(tiny_model),
                              "method": "lora", "target": "local"})
    job = Job.start("train", [*argv, "--max-steps", "3", "--batch-size", "2", "--no-merge", "--max-seq-length", "256",
                              "--allow-errors"], runs_dir=tmp_path / "runs")
    final = job.wait(timeout=300)
    assert final is not None and final["type"] == "end", job.run.path
    events = [json.loads(x) for x in (job.run.path / "events.jsonl").read_text().splitlines()]
    progress = [e for e in events if e["type"] == "progress"]
    assert [e["step"] for e in progress][-1] == 3 and progress[-1]["total"] == 3
    assert all(isinstance(e["loss"], float) for e in progress)
    assert (job.run.path / "adapter" / "adapter_config.json").is_file()
    assert job.returncode == 0
