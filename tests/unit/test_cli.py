"""The `tuneline` command, run as a user runs it: `python -m tuneline …` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tuneline.lint.tokens import epochs_and_billing, tiktoken_encoding

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
JSON_KEYS = ["path", "line", "column", "end_line", "end_column", "severity", "rule", "message"]
CORE = "TL0,TL103,TL5,TL7"  # keep expectations independent of the line-rule families


def tuneline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuneline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120, check=False)


def chat(user: str, answer: str = "A short but complete answer.") -> str:
    return json.dumps({"messages": [{"role": "user", "content": user},
                                    {"role": "assistant", "content": answer}]})


def clean_lines(n: int) -> str:
    return "".join(chat(f"Question number {i}: what is {i} squared?", f"It is {i * i}.") + "\n"
                   for i in range(n))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a clean file, a broken file, and files that must be skipped."""
    (tmp_path / "clean.jsonl").write_text(clean_lines(12))
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad.jsonl").write_text(chat("one") + "\n{oops}\n")
    (data / "notes.txt").write_text("{not data}\n")
    for skipped in (".hidden", "node_modules", "runs", ".venv"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "x.jsonl").write_text("{broken\n")
    return tmp_path


def _json(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    data = json.loads(proc.stdout)
    assert isinstance(data, list)
    return data


# ----- exit codes ----------------------------------------------------------------------------


def test_clean_file_exits_0(project: Path) -> None:
    proc = tuneline("lint", "clean.jsonl", "--select", CORE, "--ignore", "TL5,TL7", cwd=project)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "All checks passed.\n", "")


def test_errors_exit_1_and_exit_zero(project: Path) -> None:
    proc = tuneline("lint", "data/bad.jsonl", "--select", CORE, cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.split("\n")[:3] == [
        "data/bad.jsonl:1:1: TL701 [error] only 1 example(s); OpenAI requires at least 10 and "
        "trainers learn little from so few",
        "data/bad.jsonl:2:2: TL001 [error] invalid JSON: Expecting property name enclosed in "
        "double quotes (column 2); keys need double quotes; a Python dict printed with str()? "
        "write lines with json.dumps",
        "Found 2 errors.",
    ]
    assert tuneline("lint", "data/bad.jsonl", "--select", CORE, "--exit-zero",
                    cwd=project).returncode == 0
    # warnings only: exit 0
    (project / "warn.jsonl").write_text(clean_lines(12) + chat("Question number 0: what is 0 "
                                                               "squared?", "It is 0.") + "\n")
    proc = tuneline("lint", "warn.jsonl", "--select", CORE, cwd=project)
    assert proc.returncode == 0
    assert "warn.jsonl:13:1: TL501 [warning] exact duplicate of line 1" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lint", "missing.jsonl"], "tuneline: missing.jsonl: no such file or directory\n"),
        (["lint", "clean.jsonl", "nope/"], "tuneline: nope/: no such file or directory\n"),
        (["lint", "*.nothing"], "tuneline: *.nothing: the pattern matches no file\n"),
        (["lint", "--config", "nope.toml", "clean.jsonl"],
         "tuneline: nope.toml: no such config file\n"),
        (["stats", "missing.jsonl"], "tuneline: missing.jsonl: no such file or directory\n"),
        (["rules", "TL999"], "tuneline: no rule 'TL999' (see `tuneline rules`)\n"),
    ],
)
def test_usage_errors_exit_2_without_traceback(project: Path, args: list[str],
                                               message: str) -> None:
    proc = tuneline(*args, cwd=project)
    assert proc.returncode == 2
    assert proc.stderr == message
    assert proc.stdout == ""


def test_argparse_errors_exit_2(project: Path) -> None:
    proc = tuneline("lint", "--format", "xml", "clean.jsonl", cwd=project)
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr and "Traceback" not in proc.stderr
    assert tuneline(cwd=project).returncode == 2  # no command: help, exit 2


# ----- files, folders, globs -----------------------------------------------------------------


def test_folder_glob_and_file_arguments(project: Path) -> None:
    def linted(*paths: str) -> list[str]:
        proc = tuneline("lint", *paths, "--select", "TL001", "--format", "json", cwd=project)
        return sorted({str(d["path"]) for d in _json(proc)} | {f"<rc {proc.returncode}>"})

    (project / "tricky.jsonl").write_text("{x\n")
    # a folder: *.jsonl below it; hidden folders, node_modules, runs and venvs skipped
    assert linted(".") == ["<rc 1>", "data/bad.jsonl", "tricky.jsonl"]
    # globs, a file named twice (each file once), an explicit non-.jsonl file (linted anyway)
    assert linted("data/*.jsonl", "*.jsonl", "tricky.jsonl", "data/notes.txt") == [
        "<rc 1>", "data/bad.jsonl", "data/notes.txt", "tricky.jsonl"]


# ----- --format json contract ----------------------------------------------------------------


def test_json_contract(project: Path) -> None:
    (project / "b.jsonl").write_bytes(b"\xef\xbb\xbf" + chat("x").encode() + b"\r\n\n[1]")
    proc = tuneline("lint", "b.jsonl", "data/bad.jsonl", "--select", CORE, "--format", "json",
                    cwd=project)
    assert proc.returncode == 1
    data = _json(proc)
    assert all(list(d) == JSON_KEYS for d in data)
    got = [(d["path"], d["line"], d["column"], d["end_line"], d["end_column"], d["severity"],
            d["rule"]) for d in data]
    assert got == [
        ("b.jsonl", 1, 1, 1, 2, "info", "TL003"),
        ("b.jsonl", 1, 1, 1, 2, "info", "TL004"),
        ("b.jsonl", 1, 1, 1, 2, "error", "TL701"),
        ("b.jsonl", 2, 1, 2, 1, "info", "TL006"),
        ("b.jsonl", 3, 1, 3, 1, "hint", "TL005"),
        ("b.jsonl", 3, 1, 3, 4, "error", "TL007"),
        ("data/bad.jsonl", 1, 1, 1, 2, "error", "TL701"),
        ("data/bad.jsonl", 2, 2, 2, 3, "error", "TL001"),
    ]
    assert data[5]["message"] == "the line is a JSON array, not an object"


def test_json_empty_is_an_empty_array(project: Path) -> None:
    proc = tuneline("lint", "clean.jsonl", "--select", "TL001", "--format", "json", cwd=project)
    assert (proc.returncode, json.loads(proc.stdout)) == (0, [])


def test_cli_json_matches_golden() -> None:
    proc = tuneline("lint", "input.jsonl", "--format", "json", cwd=GOLDEN)
    assert proc.returncode == 1
    assert proc.stdout == (GOLDEN / "expected.json").read_text(encoding="utf-8")


def test_config_problems_are_reported_with_a_relative_path(project: Path) -> None:
    (project / "tuneline.toml").write_text('select = ["TL001"]\nmodle = "gpt-4o"\n')
    proc = tuneline("lint", "clean.jsonl", "--format", "json", cwd=project)
    assert proc.returncode == 0  # TL901 is a warning
    assert [(d["path"], d["line"], d["rule"], d["message"]) for d in _json(proc)] == [
        ("tuneline.toml", 2, "TL901", "tuneline.toml: unknown key 'modle' (did you mean 'model'?)")]


# ----- stats ---------------------------------------------------------------------------------


def test_stats_openai_estimate_matches_hand_computation(project: Path) -> None:
    enc = tiktoken_encoding("o200k_base")  # gpt-4o-mini's encoding

    def n(s: str) -> int:
        return len(enc.encode_ordinary(s))

    per_example = []
    for i in range(12):
        q, a = f"Question number {i}: what is {i} squared?", f"It is {i * i}."
        per_example.append(3 + (3 + n("user") + n(q)) + (3 + n("assistant") + n(a)))
    total = sum(per_example)
    epochs = min(25, 100 // 12)  # 12 examples * 3 epochs < 100
    assert epochs == 8
    assert epochs_and_billing(per_example, 65_536) == (epochs, epochs * total)

    proc = tuneline("stats", "clean.jsonl", cwd=project)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip("\n").split("\n")
    assert lines[0] == "clean.jsonl"
    assert lines[1] == "  examples            12 (12 lines), format chat"
    assert f"  total tokens        {total:,}" in lines
    assert lines[-1] == f"  OpenAI estimate     8 epochs, ~{epochs * total:,} billed training tokens"

    proc = tuneline("stats", "clean.jsonl", "--json", cwd=project)
    summary = json.loads(proc.stdout)["clean.jsonl"]
    assert (summary["examples"], summary["total_tokens"], summary["epochs"],
            summary["billed_tokens"]) == (12, total, 8, 8 * total)
    assert summary["tokens"]["max"] == max(per_example)


# ----- rules ---------------------------------------------------------------------------------


def test_rules_explain(project: Path) -> None:
    proc = tuneline("rules", "TL501", cwd=project)
    assert proc.returncode == 0
    assert proc.stdout.split("\n")[:4] == [
        "TL501 exact-duplicate (warning, dataset)",
        "  The example repeats an earlier one (after whitespace normalisation).",
        "  Why: Duplicates over-weight one example and leak between train and eval splits.",
        "  Fix: Delete the later copy.",
    ]
    assert tuneline("rules", "exact-duplicate", cwd=project).stdout == proc.stdout


def test_rules_list_and_json(project: Path) -> None:
    listing = tuneline("rules", cwd=project)
    assert listing.returncode == 0
    ids = [line.split()[0] for line in listing.stdout.splitlines()]
    assert ids == sorted(ids)
    assert {"TL001", "TL002", "TL007", "TL103", "TL501", "TL502", "TL503", "TL701",
            "TL901", "TL902"} <= set(ids)
    data = json.loads(tuneline("rules", "TL5", "--json", cwd=project).stdout)
    assert [d["id"] for d in data] == ["TL501", "TL502", "TL503"]
    assert set(data[0]) == {"id", "name", "severity", "summary", "why", "fix", "scope"}
